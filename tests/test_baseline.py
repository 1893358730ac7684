"""--write-baseline / --baseline: accept today's findings, report only new ones."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from ecohelp import FP8_EAGER, write

TP_EAGER = "vllm serve Qwen/Qwen2-1.5B --quantization fp8 --enforce-eager --port 8001\n"


def findings(tmp_path: Path, *args: str) -> tuple[int, list[dict]]:
    ran = run_cli("--format", "json", *args, ".", cwd=tmp_path)
    assert ran.exit_code in (0, 1), ran.stderr
    return ran.exit_code, ran.json()["findings"]


def test_write_baseline_records_every_finding_and_exits_zero(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", FP8_EAGER)
    ran = run_cli("--write-baseline", "baseline.json", ".", cwd=tmp_path)
    assert ran.exit_code == 0 and ran.output == ""
    assert "wrote 1 finding to baseline baseline.json" in ran.stderr
    document = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    assert document["format"] == "ecolint-baseline" and document["version"] == 1
    [entry] = document["findings"]
    assert entry["code"] == "ECO104" and entry["path"] == "serve.sh" and len(entry["fingerprint"]) >= 16


def test_baselined_finding_stays_hidden_when_lines_move_and_a_new_one_is_reported(tmp_path: Path) -> None:
    script = write(tmp_path / "serve.sh", "#!/bin/sh\n" + FP8_EAGER)
    assert run_cli("--write-baseline", "baseline.json", ".", cwd=tmp_path).exit_code == 0
    code, found = findings(tmp_path, "--baseline", "baseline.json")
    assert (code, found) == (0, [])

    script.write_text("#!/bin/sh\nset -eu\nexport HF_HOME=/cache\n\n" + FP8_EAGER, encoding="utf-8")
    code, found = findings(tmp_path, "--baseline", "baseline.json")
    assert (code, found) == (0, [])

    script.write_text("#!/bin/sh\nset -eu\n" + TP_EAGER + "\n" + FP8_EAGER, encoding="utf-8")
    code, found = findings(tmp_path, "--baseline", "baseline.json")
    assert code == 1
    assert [(f["code"], f["line"]) for f in found] == [("ECO104", 3)]
    # the text summary says how many the baseline held back
    summary = run_cli("--baseline", "baseline.json", ".", cwd=tmp_path).output.strip().splitlines()
    assert any(line.startswith("Found 1 finding") and "; 1 more in the baseline" in line for line in summary)
    # and so do the JSON and SARIF reports
    document = run_cli("--format", "json", "--baseline", "baseline.json", ".", cwd=tmp_path).json()
    assert document["summary"] == {
        "files_checked": 1,
        "findings": 1,
        "errors": 0,
        "in_baseline": 1,
        "below_confidence": 0,
    }
    sarif = run_cli("--format", "sarif", "--baseline", "baseline.json", ".", cwd=tmp_path).json()
    assert sarif["runs"][0]["invocations"][0]["properties"] == {
        "filesChecked": 1,
        "inBaseline": 1,
        "belowConfidence": 0,
    }


def test_a_second_identical_line_is_a_new_finding(tmp_path: Path) -> None:
    script = write(tmp_path / "serve.sh", FP8_EAGER)
    run_cli("--write-baseline", "baseline.json", ".", cwd=tmp_path)
    script.write_text(FP8_EAGER + "echo restarting\n" + FP8_EAGER, encoding="utf-8")
    code, found = findings(tmp_path, "--baseline", "baseline.json")
    assert code == 1 and [f["line"] for f in found] == [3]


def test_baseline_problems_are_usage_errors_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", FP8_EAGER)
    missing = run_cli("--baseline", "nope.json", ".", cwd=tmp_path)
    assert missing.exit_code == 2 and "nope.json" in missing.stderr and "--write-baseline" in missing.stderr
    write(tmp_path / "broken.json", "{not json")
    broken = run_cli("--baseline", "broken.json", ".", cwd=tmp_path)
    assert broken.exit_code == 2 and "broken.json" in broken.stderr and "not valid JSON" in broken.stderr
    write(tmp_path / "other.json", '{"findings": []}')
    other = run_cli("--baseline", "other.json", ".", cwd=tmp_path)
    assert other.exit_code == 2 and "not an ecolint baseline" in other.stderr
    unwritable = run_cli("--write-baseline", str(tmp_path / "no" / "dir" / "b.json"), ".", cwd=tmp_path)
    assert unwritable.exit_code == 2 and "cannot write baseline" in unwritable.stderr
    for ran in (missing, broken, other, unwritable):
        assert "Traceback" not in ran.output + ran.stderr
