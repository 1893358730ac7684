"""CI report formats: GitLab Code Quality, JUnit XML, reviewdog rdjson — the fields each
consumer reads, and columns in each consumer's unit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_cli

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"  # ECO104, a warning
# Non-ASCII text before the flagged token: 'é' is 2 UTF-8 bytes, '→' 3.
UNICODE_SHELL = 'echo "héllo→" && vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n'
UNICODE_PYTHON = (
    'from vllm import LLM\nx = "é→"; llm = LLM(model="Qwen/Qwen2-7B", quantization="fp8", enforce_eager=True)\n'
)


def tree(tmp_path: Path) -> Path:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(UNICODE_PYTHON, encoding="utf-8")
    (tmp_path / "bad.sh").write_bytes(b"vllm serve \xff\n")
    return tmp_path


# -- GitLab Code Quality ---------------------------------------------------------------------


def test_gitlab_issues_have_the_fields_gitlab_reads(tmp_path: Path) -> None:
    ran = run_cli(".", "--format", "gitlab", "--gpu", "RTX 4090D", cwd=tree(tmp_path))
    assert ran.exit_code == 1
    issues = json.loads(ran.output)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("ECO104", "app/main.py", 2),
        ("ECO104", "serve.sh", 1),
        ("ECO001", "bad.sh", 1),
    ]
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
    assert [i["severity"] for i in issues] == ["minor", "minor", "major"]  # warning → minor, ECO001 → major
    assert "FP8 in eager mode" in issues[0]["description"]
    assert len({i["fingerprint"] for i in issues}) == 3


def test_gitlab_severity_mapping_covers_every_ecolint_severity() -> None:
    from ecolint.report.gitlab import SEVERITY

    assert SEVERITY == {"note": "info", "warning": "minor", "error": "major"}


def test_gitlab_fingerprints_survive_reruns_and_line_moves_but_not_a_changed_line(tmp_path: Path) -> None:
    script = tmp_path / "serve.sh"
    script.write_text(FP8_EAGER)

    def fingerprints() -> list[str]:
        return [i["fingerprint"] for i in json.loads(run_cli(".", "--format", "gitlab", cwd=tmp_path).output)]

    first = fingerprints()
    assert fingerprints() == first
    script.write_text("# deploy\nset -e\n\n" + FP8_EAGER)
    moved = json.loads(run_cli(".", "--format", "gitlab", cwd=tmp_path).output)
    assert moved[0]["location"]["lines"]["begin"] == 4 and moved[0]["fingerprint"] == first[0]
    script.write_text(FP8_EAGER.replace("Qwen2-7B", "Qwen2-7B-Instruct"))
    assert fingerprints() != first


def test_identical_lines_get_distinct_gitlab_fingerprints(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER + FP8_EAGER)
    issues = json.loads(run_cli(".", "--format", "gitlab", cwd=tmp_path).output)
    assert len(issues) == 2 and issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_gitlab_paths_are_relative_to_the_project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "serve.sh").write_text(FP8_EAGER)
    monkeypatch.setenv("CI_PROJECT_DIR", str(tmp_path))
    issues = json.loads(run_cli(".", "--format", "gitlab", cwd=tmp_path / "deploy").output)
    assert issues[0]["location"]["path"] == "deploy/serve.sh"


def test_gitlab_report_of_a_clean_tree_is_an_empty_array(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    ran = run_cli(".", "--format", "gitlab", cwd=tmp_path)
    assert ran.exit_code == 0 and json.loads(ran.output) == []


# -- JUnit XML -------------------------------------------------------------------------------

# The Jenkins xUnit plugin's junit-10.xsd, as data: for each element, the children it may hold,
# its attributes and the attributes it requires. Text is allowed in failure/error (mixed).
JUNIT_10_XSD = {
    "testsuites": ({"testsuite"}, {"name", "time", "tests", "failures", "errors"}, set()),
    "testsuite": (
        {"testsuite", "properties", "testcase", "system-out", "system-err"},
        {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id"}
        | {"package", "file", "log", "url"},
        {"name", "tests", "failures", "errors"},
    ),
    "testcase": (
        {"skipped", "error", "failure", "system-out", "system-err"},
        {"name", "time", "classname", "group"},
        {"name"},
    ),
    "failure": (set(), {"type", "message"}, set()),
    "error": (set(), {"type", "message"}, set()),
}


def validate_junit(element: ET.Element) -> None:
    """Check an element tree against JUNIT_10_XSD: allowed children, allowed and required
    attributes, and the counts a testsuite states."""
    children, allowed, required = JUNIT_10_XSD[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, set(element.attrib) - allowed)
    assert required <= set(element.attrib), (element.tag, required - set(element.attrib))
    for child in element:
        assert child.tag in children, (element.tag, child.tag)
        validate_junit(child)
    if element.tag == "testsuite":
        cases = element.findall("testcase")
        assert int(element.get("tests", -1)) == len(cases)
        assert int(element.get("failures", -1)) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(element.get("errors", -1)) == sum(1 for c in cases if c.find("error") is not None)


def test_junit_is_one_testcase_per_finding_grouped_by_file(tmp_path: Path) -> None:
    ran = run_cli(".", "--format", "junit", cwd=tree(tmp_path))
    assert ran.exit_code == 1
    assert ran.output.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(ran.output.encode("utf-8"))
    validate_junit(root)
    assert root.tag == "testsuites" and root.get("tests") == "3"
    assert (root.get("failures"), root.get("errors")) == ("2", "1")
    suites = {suite.get("name"): suite for suite in root}
    assert sorted(suites) == ["app/main.py", "bad.sh", "serve.sh"]
    case = suites["serve.sh"].find("testcase")
    assert case is not None and case.get("name") == "ECO104 fp8-without-compile at serve.sh:1:45"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "ECO104"
    assert "FP8 in eager mode" in (failure.get("message") or "")
    assert "setup     vllm" in (failure.text or "")
    error = suites["bad.sh"].find("testcase/error")
    assert error is not None and error.get("type") == "ECO001"


def test_junit_of_a_clean_run_is_one_passing_testcase(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    ran = run_cli(".", "--format", "junit", cwd=tmp_path)
    root = ET.fromstring(ran.output.encode("utf-8"))
    validate_junit(root)
    assert ran.exit_code == 0 and root.get("tests") == "1" and root.get("failures") == "0"
    assert root.find("testsuite/testcase").get("name") == "no findings in 1 file checked"  # type: ignore[union-attr]


def test_junit_never_carries_characters_xml_cannot_hold() -> None:
    from ecolint.report.junit import clean

    assert clean("a\x00b\x1bc\ud800d") == "a\ufffdb\ufffdc\ufffdd"
    assert clean("tab\tnewline\né★") == "tab\tnewline\né★"


# -- reviewdog rdjson and column units -------------------------------------------------------


def test_rdjson_has_reviewdogs_fields(tmp_path: Path) -> None:
    ran = run_cli(".", "--format", "rdjson", cwd=tree(tmp_path))
    assert ran.exit_code == 1
    document = json.loads(ran.output)
    assert document["source"]["name"] == "ecolint"
    by_path = {d["location"]["path"]: d for d in document["diagnostics"]}
    assert by_path["serve.sh"]["severity"] == "WARNING" and by_path["serve.sh"]["code"] == {"value": "ECO104"}
    assert by_path["serve.sh"]["location"]["range"] == {
        "start": {"line": 1, "column": 45},
        "end": {"line": 1, "column": 60},
    }
    assert by_path["bad.sh"]["severity"] == "ERROR" and by_path["bad.sh"]["code"] == {"value": "ECO001"}


@pytest.mark.parametrize(("name", "text"), [("serve.sh", UNICODE_SHELL), ("app.py", UNICODE_PYTHON)])
def test_columns_are_utf8_bytes_in_rdjson_and_characters_in_sarif_and_json(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    line = text.splitlines()[-1]
    token = "--enforce-eager" if name.endswith(".sh") else "enforce_eager"
    characters = line.index(token) + 1
    utf8 = len(line[: line.index(token)].encode("utf-8")) + 1
    assert utf8 == characters + 3  # é and → before the token: 1 + 2 extra bytes

    rdjson = json.loads(run_cli(".", "--format", "rdjson", cwd=tmp_path).output)
    start = rdjson["diagnostics"][0]["location"]["range"]["start"]
    assert start["column"] == utf8
    sarif = json.loads(run_cli(".", "--format", "sarif", cwd=tmp_path).output)
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startColumn"] == characters
    finding = run_cli(".", "--format", "json", cwd=tmp_path).json()["findings"][0]
    assert finding["column"] == characters


def test_utf8_column_converts_characters_to_bytes() -> None:
    from ecolint.report import utf8_column

    assert utf8_column("a𐐀b", 3) == 6  # reviewdog's own example: b after a 4-byte character
    assert utf8_column("abc", 4) == 4  # the exclusive end of the line
    assert utf8_column(None, 7) == 7  # no text: the character column
