"""--format sarif: valid against the official SARIF 2.1.0 schema, with every field GitHub code
scanning reads (DESIGN.md "SARIF for GitHub code scanning")."""

from __future__ import annotations

import json
from pathlib import Path

import sarif_om as om
from conftest import run_cli
from ecohelp import FP8_EAGER, validate_sarif, write

from ecolint import __version__, knowledge
from ecolint.finding import FileError, Finding
from ecolint.report import sarif
from ecolint.results import RunResult
from ecolint.setups import Location


def sarif_of(cwd: Path, *args: str) -> tuple[int, dict]:
    ran = run_cli("--format", "sarif", *args, cwd=cwd)
    assert ran.exit_code in (0, 1), ran.stderr
    document = json.loads(ran.output)
    validate_sarif(document)
    return ran.exit_code, document


def test_cli_sarif_is_valid_and_carries_what_github_reads(tmp_path: Path) -> None:
    write(tmp_path / "deploy scripts" / "serve me.sh", "#!/bin/sh\n" + FP8_EAGER)
    (tmp_path / "broken.sh").write_bytes(b"vllm serve \xff\xfe\n")
    code, document = sarif_of(tmp_path, ".")
    assert code == 1
    assert document["version"] == "2.1.0" and "sarif-schema-2.1.0.json" in document["$schema"]
    assert len(document["runs"]) == 1
    run = document["runs"][0]

    driver = run["tool"]["driver"]
    assert driver["name"] == "ecolint" and driver["semanticVersion"] == __version__
    assert driver["informationUri"].startswith("https://")
    kb = knowledge.load()
    default_on = sorted(c for c, s in kb.rules.items() if s.enabled_by_default)
    assert [r["id"] for r in driver["rules"]] == default_on  # ECO001 + the selected codes
    for rule in driver["rules"]:
        spec = kb.rules[rule["id"]]
        assert rule["name"] == spec.name
        assert rule["shortDescription"]["text"] == spec.summary
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith(f"# {spec.name} ({spec.code})")
        assert "```" not in rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == spec.severity
        assert rule["properties"]["tags"] == list(spec.tags)
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")

    [result] = run["results"]
    assert result["ruleId"] == "ECO104"
    assert driver["rules"][result["ruleIndex"]]["id"] == "ECO104"
    assert result["level"] == "warning"  # kept although it is SARIF's default
    assert "FP8" in result["message"]["text"]
    [location] = result["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "deploy%20scripts/serve%20me.sh", "uriBaseId": "%SRCROOT%"}
    region = physical["region"]
    assert region["startLine"] == 2 and region["endLine"] == 2
    assert 1 <= region["startColumn"] < region["endColumn"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}
    assert len(result["partialFingerprints"]["primaryLocationLineHash"]) >= 16
    properties = result["properties"]
    assert properties["confidence"] in (1, 2, 3) and set(properties["stars"]) <= {"★", "☆"}
    assert properties["overhead"]["min_pct"] > 0
    assert properties["setup"]["framework"] == "vllm"
    assert isinstance(properties["notes"], list) and isinstance(properties["evidence"], list)

    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True
    [note] = invocation["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "ECO001" and note["level"] == "error"
    assert "broken.sh" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.sh"
    assert "security-severity" not in json.dumps(document)


def test_selection_decides_the_rules_listed(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", FP8_EAGER)
    _, only = sarif_of(tmp_path, "--select", "ECO104", ".")
    assert [r["id"] for r in only["runs"][0]["tool"]["driver"]["rules"]] == ["ECO001", "ECO104"]
    _, more = sarif_of(tmp_path, "--extend-select", "ECO2", ".")
    ids = [r["id"] for r in more["runs"][0]["tool"]["driver"]["rules"]]
    assert {"ECO201", "ECO202", "ECO203"} <= set(ids) and ids == sorted(ids)
    precision = {r["id"]: r["properties"]["precision"] for r in more["runs"][0]["tool"]["driver"]["rules"]}
    assert precision["ECO104"] == "high" and precision["ECO201"] == "low"


def test_suppressed_findings_are_left_out_and_results_stay_an_empty_list(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", "# ecolint: ignore[ECO104] measured: graphs break this model\n" + FP8_EAGER)
    code, document = sarif_of(tmp_path, ".")
    assert code == 0
    run = document["runs"][0]
    assert run["results"] == []  # present and empty: "ran, found nothing"
    assert "toolExecutionNotifications" not in run["invocations"][0]


def test_primary_location_line_hash_survives_lines_inserted_above(tmp_path: Path) -> None:
    script = write(tmp_path / "serve.sh", "#!/bin/sh\n" + FP8_EAGER)
    _, before = sarif_of(tmp_path, ".")
    script.write_text("#!/bin/sh\nset -eu\nexport HF_HOME=/cache\n\n" + FP8_EAGER, encoding="utf-8")
    _, after = sarif_of(tmp_path, ".")
    [old], [new] = before["runs"][0]["results"], after["runs"][0]["results"]
    old_region = old["locations"][0]["physicalLocation"]["region"]
    new_region = new["locations"][0]["physicalLocation"]["region"]
    assert new_region["startLine"] == old_region["startLine"] + 3
    assert new["partialFingerprints"] == old["partialFingerprints"]


def test_output_file_holds_the_sarif_and_nothing_else_is_created(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "serve.sh", FP8_EAGER)
    out = tmp_path / "out" / "ecolint.sarif"
    out.parent.mkdir()
    ran = run_cli("--format", "sarif", "--output", str(out), ".", cwd=project)
    assert ran.exit_code == 1 and ran.output == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["ecolint.sarif", "out", "project", "serve.sh"]
    validate_sarif(json.loads(out.read_text(encoding="utf-8")))


# -- the builder on findings made by hand: edges the extractors rarely produce ---------------


def finding(path: str, line: int = 3, column: int = 1, end_line: int = 0, end_column: int = 0, **kw: object) -> Finding:
    values = {
        "code": "ECO101",
        "name": "int8-default-threshold",
        "location": Location(path, line, column, end_line, end_column),
        "severity": "warning",
        "confidence": 2,
        "message": "INT8 with the default outlier threshold: llm_int8_threshold=6.0: +17–147% energy per request",
        "overhead": {"min_pct": 17, "max_pct": 147, "per": "request", "source": "skill"},
        "setup": {"framework": "transformers"},
        "fingerprint": "0123456789abcdef0123456789abcdef",
    }
    values.update(kw)
    return Finding(**values)  # type: ignore[arg-type]


def build(
    findings: list[Finding], errors: list[FileError] = (), codes: tuple[str, ...] = ("ECO101",), cwd: Path = Path("/")
) -> dict:
    result = RunResult(findings=findings, errors=list(errors))
    document = json.loads(sarif.render(result, knowledge.load(), list(codes), cwd=cwd))
    validate_sarif(document)
    return document


def test_columns_are_never_zero_and_unicode_paths_are_escaped(tmp_path: Path) -> None:
    document = build(
        [
            finding("src/modèles/app 1.py", line=0, column=0),
            finding("a.py", line=2, column=5, end_line=4, end_column=0),
        ],
        cwd=tmp_path,
    )
    results = document["runs"][0]["results"]
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in results]
    for region in regions:
        assert min(region.values()) >= 1
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/mod%C3%A8les/app%201.py"
    assert regions[1] == {"startLine": 2, "startColumn": 5, "endLine": 4, "endColumn": 1}


def test_a_file_outside_the_current_directory_gets_an_absolute_uri() -> None:
    document = build([finding("/elsewhere/my app.py")])
    artifact = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///elsewhere/my%20app.py"}


def test_a_rule_not_selected_but_found_is_still_listed() -> None:
    document = build([finding("a.py", code="ECO202", name="eager-attention", severity="note")], codes=("ECO101",))
    run = document["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == ["ECO001", "ECO101", "ECO202"]
    assert run["results"][0]["ruleIndex"] == 2 and run["results"][0]["level"] == "note"


def test_full_description_is_cut_at_a_word_within_1024_characters() -> None:
    text = ("energy " * 300).strip()
    cut = sarif.truncate(text, 1024)
    assert len(cut) <= 1024 and cut.endswith("…") and cut[:-1].split(" ")[-1] == "energy"
    assert sarif.truncate("short", 1024) == "short"


def test_serializer_uses_schema_names_keeps_level_and_drops_defaults() -> None:
    result = om.Result(message=om.Message(text="m"), level="warning", rule_id="ECO101", rule_index=0)
    assert sarif.to_json(result) == {"message": {"text": "m"}, "level": "warning", "ruleId": "ECO101", "ruleIndex": 0}
    config = om.ReportingConfiguration(level="warning")
    assert sarif.to_json(config) == {"level": "warning"}  # enabled=True and rank=-1 are defaults
    run = om.Run(tool=om.Tool(driver=om.ToolComponent(name="x")), results=[])
    assert sarif.to_json(run) == {"tool": {"driver": {"name": "x"}}, "results": []}
