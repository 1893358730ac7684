"""--format github: workflow commands GitHub Actions turns into pull-request annotations."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_cli
from ecohelp import FP8_EAGER, write

from ecolint.finding import FileError, Finding
from ecolint.report import github
from ecolint.results import RunResult
from ecolint.setups import Location

LINE = re.compile(
    r"^::(?P<cmd>warning|error|notice) file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"endLine=(?P<end_line>\d+),endColumn=(?P<end_col>\d+),title=ecolint \((?P<code>ECO\d{3})\)::(?P<msg>.+)$"
)


def test_cli_prints_one_annotation_per_finding(tmp_path: Path) -> None:
    write(tmp_path / "scripts" / "serve.sh", "#!/bin/sh\n" + FP8_EAGER)
    ran = run_cli("--format", "github", ".", cwd=tmp_path)
    assert ran.exit_code == 1
    [line] = ran.output.splitlines()
    match = LINE.match(line)
    assert match, line
    assert match["cmd"] == "warning" and match["code"] == "ECO104"
    assert match["file"] == "scripts/serve.sh" and match["line"] == "2" and match["end_line"] == "2"
    assert 1 <= int(match["col"]) < int(match["end_col"])
    assert "%25 energy" in match["msg"]  # the % of the overhead is escaped
    assert "\n" not in match["msg"] and "%0A" in match["msg"]  # the fix is on a second, escaped line


def test_clean_tree_prints_nothing(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('hi')\n")
    ran = run_cli("--format", "github", ".", cwd=tmp_path)
    assert ran.exit_code == 0 and ran.output == ""


def test_unreadable_file_is_an_error_annotation(tmp_path: Path) -> None:
    (tmp_path / "bad.sh").write_bytes(b"vllm serve \xff\n")
    ran = run_cli("--format", "github", ".", cwd=tmp_path)
    assert ran.exit_code == 1
    assert ran.output.startswith("::error file=bad.sh,line=1,title=ecolint (ECO001)::not valid")


def test_severities_map_to_commands_and_properties_are_escaped() -> None:
    def make(severity: str, path: str) -> Finding:
        return Finding(
            code="ECO202",
            name="eager-attention",
            location=Location(path, 4, 2, 4, 9),
            severity=severity,
            confidence=1,
            message="100% eager:\r\nattention, really",
            overhead=None,
            setup={},
        )

    result = RunResult(
        findings=[make("note", "a,b:c.py"), make("error", "x.py")],
        errors=[FileError("dir/odd:name,1.yaml", 3, "invalid YAML: bad, very bad")],
    )
    lines = github.render(result).splitlines()
    assert lines[0] == (
        "::notice file=a%2Cb%3Ac.py,line=4,col=2,endLine=4,endColumn=9,title=ecolint (ECO202)"
        "::100%25 eager:%0D%0Aattention, really [★☆☆]"
    )
    assert lines[1].startswith("::error file=x.py,")
    assert lines[2] == "::error file=dir/odd%3Aname%2C1.yaml,line=3,title=ecolint (ECO001)::invalid YAML: bad, very bad"


def test_escaping_rules() -> None:
    assert github.escape_data("50%\r\n:,") == "50%25%0D%0A:,"
    assert github.escape_property("50%\r\n:,") == "50%25%0D%0A%3A%2C"
