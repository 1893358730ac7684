"""The command line as a user meets it: commands, exit codes, errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli


def test_no_path_means_current_directory_and_clean_tree_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    ran = run_cli(cwd=tmp_path)
    assert ran.exit_code == 0
    assert "No findings" in ran.output and "Evidence:" in ran.output


def test_check_subcommand_is_the_same_as_bare_paths(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    assert run_cli("check", str(tmp_path)).output == run_cli(str(tmp_path)).output


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    ran = run_cli(str(tmp_path / "nope"))
    assert ran.exit_code == 2 and "does not exist" in ran.stderr


def test_unknown_option_is_usage_error() -> None:
    assert run_cli("--no-such-flag").exit_code == 2


def test_rules_lists_every_rule_and_rule_shows_sections() -> None:
    listing = run_cli("rules").output
    for code in ("ECO101", "ECO105", "ECO203"):
        assert code in listing
    doc = run_cli("rule", "ECO104").output
    for title in ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "References", "Evidence"):
        assert f"## {title}" in doc
    assert run_cli("rule", "ECO999").exit_code == 2


def test_rules_json() -> None:
    import json

    rows = json.loads(run_cli("rules", "--format", "json").output)
    assert {r["code"] for r in rows} >= {"ECO101", "ECO201"}


def test_undecodable_file_is_eco001_and_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "bad.sh").write_bytes(b"vllm serve \xff\xfe\n")
    (tmp_path / "good.py").write_text("x = 1\n")
    ran = run_cli(str(tmp_path), "--format", "json")
    errors = ran.json()["errors"]
    assert ran.exit_code == 1
    assert [e["code"] for e in errors] == ["ECO001"] and errors[0]["path"].endswith("bad.sh")
    assert "not valid" in errors[0]["message"]


def test_binary_file_with_source_name_is_skipped_quietly(tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x00\x01from_pretrained\x00")
    ran = run_cli(str(tmp_path), "--format", "json")
    assert ran.exit_code == 0 and ran.json()["errors"] == []
