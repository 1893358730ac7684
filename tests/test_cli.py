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


def test_binary_file_with_source_name_is_reported_not_counted_as_checked(tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x00\x01from_pretrained\x00")
    (tmp_path / "serve.sh").write_bytes(b"vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n\x00")
    ran = run_cli(".", "--format", "json", cwd=tmp_path)
    errors = ran.json()["errors"]
    assert ran.exit_code == 1
    assert [(e["code"], e["path"]) for e in errors] == [("ECO001", "blob.py"), ("ECO001", "serve.sh")]
    assert "binary content (a NUL byte)" in errors[0]["message"]
    text = run_cli(".", cwd=tmp_path).output
    assert "blob.py:1:1: ECO001 error skipped: binary content" in text


# -- output, statistics, --fail-on, --min-confidence ------------------------------------------

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"  # ECO104, a warning


def test_output_writes_the_report_to_the_file_only(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli("--output", "report.txt", ".", cwd=tmp_path)
    assert ran.exit_code == 1 and ran.output == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt", "serve.sh"]
    assert "ECO104" in (tmp_path / "report.txt").read_text(encoding="utf-8")
    again = run_cli("--output", "report.txt", ".", cwd=tmp_path)  # the report itself is not linted
    assert again.exit_code == 1 and (tmp_path / "report.txt").read_text(encoding="utf-8").count("ECO104") == 1


def test_output_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli("--output", "no/such/dir/r.json", ".", cwd=tmp_path)
    assert ran.exit_code == 2 and "no/such/dir/r.json" in ran.stderr and "cannot write" in ran.stderr
    assert not (tmp_path / "no").exists()


def test_statistics_count_by_rule_severity_and_confidence(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER + FP8_EAGER.replace("7B", "1.5B"))
    (tmp_path / "bad.sh").write_bytes(b"vllm \xff\n")
    ran = run_cli("--statistics", ".", cwd=tmp_path)
    assert ran.exit_code == 1
    assert "2  ECO104  fp8-without-compile" in ran.output and "1  ECO001  unreadable-file" in ran.output
    assert "2  warning" in ran.output and "1  error" in ran.output
    assert "2  ★☆☆" in ran.output
    assert "serve.sh:" not in ran.output  # counts instead of the findings
    data = run_cli("--statistics", "--format", "json", "--gpu", "RTX 4090D", ".", cwd=tmp_path).json()
    assert data["rules"] == [
        {"code": "ECO001", "name": "unreadable-file", "count": 1},
        {"code": "ECO104", "name": "fp8-without-compile", "count": 2},
    ]
    assert data["confidence"] == [{"confidence": 3, "stars": "★★★", "count": 2}]
    assert run_cli("--statistics", "--format", "sarif", ".", cwd=tmp_path).exit_code == 2


def test_fail_on_sets_the_severity_that_fails_but_shows_everything(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    assert run_cli(".", cwd=tmp_path).exit_code == 1  # default: any finding fails
    relaxed = run_cli("--fail-on", "error", ".", cwd=tmp_path)
    assert relaxed.exit_code == 0 and "ECO104" in relaxed.output
    assert run_cli("--fail-on", "warning", ".", cwd=tmp_path).exit_code == 1
    (tmp_path / "ecolint.toml").write_text("fail-on = 'error'\n")
    assert run_cli(".", cwd=tmp_path).exit_code == 0
    assert run_cli("--fail-on", "note", ".", cwd=tmp_path).exit_code == 1  # the command line wins
    assert run_cli("--fail-on", "fatal", ".", cwd=tmp_path).exit_code == 2


def test_unreadable_files_fail_whatever_fail_on_says(tmp_path: Path) -> None:
    (tmp_path / "bad.sh").write_bytes(b"vllm \xff\n")
    assert run_cli("--fail-on", "error", ".", cwd=tmp_path).exit_code == 1


def test_min_confidence_hides_findings_and_they_do_not_count(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    hidden = run_cli("--min-confidence", "2", "--format", "json", ".", cwd=tmp_path)  # assumed GPU: ★☆☆
    assert hidden.exit_code == 0 and hidden.json()["findings"] == []
    assert hidden.json()["summary"]["below_confidence"] == 1 and hidden.json()["summary"]["in_baseline"] == 0
    assert (
        "No findings; 1 file checked; 1 more below --min-confidence."
        in run_cli("--min-confidence", "2", ".", cwd=tmp_path).output
    )
    shown = run_cli("--min-confidence", "3", "--gpu", "RTX 4090D", "--format", "json", ".", cwd=tmp_path)
    assert shown.exit_code == 1 and [f["confidence"] for f in shown.json()["findings"]] == [3]
    (tmp_path / "ecolint.toml").write_text("min-confidence = 2\n")
    assert run_cli(".", cwd=tmp_path).exit_code == 0
    assert run_cli("--min-confidence", "1", ".", cwd=tmp_path).exit_code == 1
    assert run_cli("--min-confidence", "4", ".", cwd=tmp_path).exit_code == 2


# -- diagnostics for mistakes ------------------------------------------------------------------


def test_help_shows_each_commands_whole_first_line_and_the_default(tmp_path: Path) -> None:
    shown = run_cli("--help", cwd=tmp_path).output
    assert "check (default)  Audit PATHS" in shown
    assert "`check` is the default command" in shown
    commands = " ".join(shown.split("Commands:")[1].split())  # whatever the wrapping
    assert "..." not in commands  # no first line cut off
    assert "at one line of it)." in commands and "behind every number." in commands


def test_a_command_typo_suggests_the_command(tmp_path: Path) -> None:
    ran = run_cli("chek", ".", cwd=tmp_path)
    assert ran.exit_code == 2 and "no such command or path 'chek'; did you mean 'check'?" in ran.stderr


def test_a_path_that_looks_like_a_typo_is_still_a_path(tmp_path: Path) -> None:
    (tmp_path / "chek").mkdir()
    (tmp_path / "chek" / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli("chek", cwd=tmp_path)
    assert ran.exit_code == 1 and "chek/serve.sh:1:" in ran.output


def test_command_names_win_over_folders_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "serve.sh").write_text(FP8_EAGER)
    listing = run_cli("rules", cwd=tmp_path)
    assert listing.exit_code == 0 and listing.output.startswith("ECO001")
    for args in (("check", "rules"), ("./rules",)):
        ran = run_cli(*args, cwd=tmp_path)
        assert ran.exit_code == 1 and "rules/serve.sh:1:" in ran.output, args


def test_an_empty_selection_says_so(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--select", "ECO104", "--ignore", "ECO104", cwd=tmp_path)
    assert ran.exit_code == 0
    assert "ecolint: warning: the selection is empty: no rule runs" in ran.stderr


def test_a_path_with_no_files_to_check_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("vllm serve\n")
    ran = run_cli(".", cwd=tmp_path)
    assert ran.exit_code == 0
    assert "ecolint: warning: no files to check in . (ecolint reads Python, shell, YAML" in ran.stderr
    (tmp_path / "app.py").write_text("x = 1\n")
    assert "warning" not in run_cli(".", cwd=tmp_path).stderr


def test_statistics_without_findings_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    ran = run_cli(".", "--statistics", cwd=tmp_path)
    assert ran.exit_code == 0 and ran.output == "No findings; 1 file checked.\n"


# -- ignore comments: unknown codes, unused ones --------------------------------------------------

TYPO = FP8_EAGER.rstrip("\n") + "  # ecolint: ignore[ECO1O4]\n"


def test_an_unknown_code_in_an_ignore_comment_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(TYPO)
    (tmp_path / "quiet.py").write_text("x = 1  # ecolint: ignore[ECO1O1]\n")  # a file without setups too
    ran = run_cli(".", "--format", "concise", cwd=tmp_path)
    assert ran.exit_code == 1 and "serve.sh:1:45: ECO104" in ran.output  # the typo suppressed nothing
    assert "ecolint: warning: serve.sh:1: ignore comment names no rule: ECO1O4 (known: ECO001" in ran.stderr
    assert "ecolint: warning: quiet.py:1: ignore comment names no rule: ECO1O1" in ran.stderr


def test_an_unknown_code_in_per_file_ignores_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    (tmp_path / "ecolint.toml").write_text('[per-file-ignores]\n"*.sh" = ["ECO1O4"]\n')
    ran = run_cli(".", cwd=tmp_path)
    assert ran.exit_code == 1
    assert (
        "ecolint: warning: " in ran.stderr
        and "ecolint.toml: per-file-ignores '*.sh': ECO1O4 names no rule" in ran.stderr
    )
    ran = run_cli(".", "--per-file-ignores", "*.sh:ECO9", cwd=tmp_path)
    assert "ecolint: warning: command line: per-file-ignores '*.sh': ECO9 names no rule" in ran.stderr


def test_report_unused_ignores(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(
        FP8_EAGER.rstrip("\n") + "  # ecolint: ignore[ECO104,ECO105]\n"  # ECO104 used, ECO105 not
        "echo done  # ecolint: ignore\n"  # suppresses nothing
        "# ecolint: ignore[ECO203]\n"  # not enabled in this run: cannot be called unused
        "echo again\n"
    )
    quiet = run_cli(".", cwd=tmp_path)
    assert quiet.exit_code == 0 and "unused" not in quiet.stderr  # only when asked
    ran = run_cli(".", "--report-unused-ignores", cwd=tmp_path)
    assert ran.exit_code == 1
    assert ran.stderr.splitlines() == [
        "serve.sh:1: unused ignore comment: ECO105 (nothing to suppress)",
        "serve.sh:2: unused ignore comment (it suppressed nothing)",
    ]
    assert run_cli(".", "--report-unused-ignores", "--exit-zero", cwd=tmp_path).exit_code == 0


def test_every_command_accepts_output_format() -> None:
    import json

    assert json.loads(run_cli("rules", "--output-format", "json").output)[0]["code"] == "ECO001"
    advice = json.loads(run_cli("advise", "--model", "7B", "--output-format", "json").output)
    assert advice["command"] == "advise"
