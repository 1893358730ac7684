"""The whole-run memo (ecolint/memo.py): a re-run where nothing changed prints what the last run
printed, byte for byte; any change to what the run reads, or another command line, runs afresh.

Runs go through the console entry point in-process (``memo.main``), with standard output and
error as byte streams. ``cli.main`` is watched to tell a fresh run from a replayed one.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from test_cache import APP, COMPOSE  # the same small project the cache's tests run on

from ecolint import cli, memo, witness

ARGS = ("--isolated", "--exit-zero", "--gpu", "RTX 4090D")


def tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(APP)
    (root / "settings.py").write_text('MODEL_ID = "Qwen/Qwen2-1.5B"\n')
    (root / "compose.yaml").write_text(COMPOSE)
    return root


class Runs:
    """`ecolint ARGS` from a directory, through the entry point; ``fresh`` counts the runs that
    reached the command line (the others were replayed from a memo)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.fresh = 0
        real = cli.main

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.fresh += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(cli, "main", counted)

    def __call__(self, root: Path, *args: str) -> tuple[Any, bytes, bytes]:
        out, err = io.BytesIO(), io.BytesIO()
        stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        self.monkeypatch.setattr(sys, "stdout", stdout)
        self.monkeypatch.setattr(sys, "stderr", stderr)
        self.monkeypatch.setattr(sys, "argv", ["ecolint", *args])
        self.monkeypatch.chdir(root)
        code: Any = 0
        try:
            memo.main()
        except SystemExit as exc:
            code = exc.code
        finally:
            stdout.flush()
            stderr.flush()
            printed = out.getvalue(), err.getvalue()
            stdout.detach()
            stderr.detach()
        return code, *printed


@pytest.fixture()
def runs(monkeypatch: pytest.MonkeyPatch) -> Runs:
    """The cache on (conftest.py turns it off for the repository's sake), and stamps taken as
    settled at once: these trees are written a moment before they are checked."""
    monkeypatch.delenv("ECOLINT_NO_CACHE", raising=False)
    monkeypatch.delenv("ECOLINT_CACHE_DIR", raising=False)
    monkeypatch.setattr(witness, "RECENT_NS", 0)
    return Runs(monkeypatch)


def memos(root: Path) -> list[Path]:
    return sorted((root / ".ecolint_cache").glob("run-*.memo"))


def warmed(runs: Runs, root: Path, *args: str) -> tuple[Any, bytes, bytes]:
    """Run twice: the first run makes the cache directory (which changes the root's listing),
    the second keeps a memo that holds."""
    runs(root, *args)
    return runs(root, *args)


@pytest.mark.parametrize("output_format", ["text", "concise", "json", "sarif"])
def test_a_re_run_prints_the_same_bytes_as_a_fresh_run(runs: Runs, tmp_path: Path, output_format: str) -> None:
    root = tree(tmp_path / "project")
    fresh = warmed(runs, root, ".", "--format", output_format, *ARGS)
    assert memos(root)
    before = runs.fresh
    replayed = runs(root, ".", "--format", output_format, *ARGS)
    assert runs.fresh == before  # answered from the memo
    assert replayed == fresh
    uncached = runs(root, ".", "--format", output_format, *ARGS, "--no-cache")
    assert uncached == fresh
    assert b"ECO" in fresh[1]


def test_the_exit_code_and_standard_error_are_replayed(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    fresh = warmed(runs, root, ".", "--isolated", "--gpu", "RTX 4090D", "--per-file-ignores", "app.py:ECO999")
    before = runs.fresh
    replayed = runs(root, ".", "--isolated", "--gpu", "RTX 4090D", "--per-file-ignores", "app.py:ECO999")
    assert runs.fresh == before
    assert replayed == fresh
    assert fresh[0] == 1 and b"ECO999 names no rule" in fresh[2]


def test_an_edited_file_is_checked_again(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    first = warmed(runs, root, ".", "--format", "json", *ARGS)
    (root / "settings.py").write_text('MODEL_ID = "meta-llama/Llama-2-70b-hf"\n')
    before = runs.fresh
    second = runs(root, ".", "--format", "json", *ARGS)
    assert runs.fresh == before + 1
    assert second != first
    assert second == runs(root, ".", "--format", "json", *ARGS, "--no-cache")


def test_a_file_an_extraction_read_is_watched(runs: Runs, tmp_path: Path) -> None:
    """settings.py is read through app.py's import: removing the constant changes app.py's
    setup, though app.py itself is unchanged."""
    root = tree(tmp_path / "project")
    first = warmed(runs, root, ".", "--format", "json", *ARGS)
    (root / "settings.py").write_text("OTHER = 1\n")
    second = runs(root, ".", "--format", "json", *ARGS)
    assert second == runs(root, ".", "--format", "json", *ARGS, "--no-cache")
    assert second != first


def test_an_added_file_is_checked(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    first = warmed(runs, root, ".", "--format", "json", *ARGS)
    (root / "sub").mkdir()
    (root / "sub" / "serve.py").write_text(APP.replace("from settings import MODEL_ID\n", 'MODEL_ID = "gpt2"\n'))
    second = runs(root, ".", "--format", "json", *ARGS)
    paths = {finding["path"] for finding in json.loads(second[1])["findings"]}
    assert "sub/serve.py" in paths
    assert second != first


def test_a_removed_file_is_gone_from_the_report(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    warmed(runs, root, ".", "--format", "json", *ARGS)
    (root / "app.py").unlink()
    second = runs(root, ".", "--format", "json", *ARGS)
    assert "app.py" not in {finding["path"] for finding in json.loads(second[1])["findings"]}


def test_a_changed_configuration_is_respected(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    (root / "ecolint.toml").write_text('gpu = "RTX 4090D"\n')
    first = warmed(runs, root, ".", "--format", "json", "--exit-zero")
    codes = {finding["code"] for finding in json.loads(first[1])["findings"]}
    assert codes
    (root / "ecolint.toml").write_text(f'gpu = "RTX 4090D"\nignore = {json.dumps(sorted(codes))}\n')
    second = runs(root, ".", "--format", "json", "--exit-zero")
    assert json.loads(second[1])["findings"] == []


def test_a_configuration_made_above_the_project_is_respected(runs: Runs, tmp_path: Path) -> None:
    """No ecolint.toml at first: one written in a parent directory applies at once."""
    top = tmp_path / "top"
    root = tree(top / "project")
    first = warmed(runs, root, ".", "--format", "json", "--exit-zero", "--gpu", "RTX 4090D")
    codes = {finding["code"] for finding in json.loads(first[1])["findings"]}
    (top / "ecolint.toml").write_text(f"ignore = {json.dumps(sorted(codes))}\n")
    second = runs(root, ".", "--format", "json", "--exit-zero", "--gpu", "RTX 4090D")
    assert json.loads(second[1])["findings"] == []


def test_another_command_line_is_another_run(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    warmed(runs, root, ".", "--format", "json", *ARGS)
    before = runs.fresh
    selected = runs(root, ".", "--format", "json", *ARGS, "--select", "ECO104")
    assert runs.fresh == before + 1
    assert {finding["code"] for finding in json.loads(selected[1])["findings"]} <= {"ECO104"}


def test_the_environment_that_changes_output_is_part_of_the_key(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path / "project")
    warmed(runs, root, ".", *ARGS)
    monkeypatch.setenv("ECOLINT_OUTPUT_FORMAT", "json")
    before = runs.fresh
    ran = runs(root, ".", *ARGS)
    assert runs.fresh == before + 1
    assert json.loads(ran[1])["findings"]


def test_no_cache_neither_uses_nor_writes_a_memo(runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path / "project")
    for _ in range(3):
        runs(root, ".", *ARGS, "--no-cache")
    assert not (root / ".ecolint_cache").exists()
    warmed(runs, root, ".", *ARGS)
    monkeypatch.setenv("ECOLINT_NO_CACHE", "1")
    before = runs.fresh
    runs(root, ".", *ARGS)
    assert runs.fresh == before + 1


def test_a_read_only_cache_directory_still_gives_the_report(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path / "project")
    runs(root, ".", "--format", "json", *ARGS, "--select", "ECO1")  # only the cache: no memo of these ARGS
    for old in memos(root):
        old.unlink()
    cache = root / ".ecolint_cache"
    stored = sorted(path.name for path in cache.iterdir())
    cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(cache, os.W_OK):  # root may write anywhere: the system answers as to a user
            real = os.access
            monkeypatch.setattr(os, "access", lambda path, mode: real(path, mode) and not mode & os.W_OK)
        first = runs(root, ".", "--format", "json", *ARGS)
        second = runs(root, ".", "--format", "json", *ARGS)
    finally:
        cache.chmod(stat.S_IRWXU)
    assert first == second and first[0] == 0 and first[2] == b""
    assert sorted(path.name for path in cache.iterdir()) == stored


def test_runs_that_write_or_read_standard_input_are_never_memoised(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    warmed(runs, root, ".", *ARGS)
    before = len(memos(root))
    for extra in (("--json-output", "out.json"), ("--add-ignore",), ("--fix",), ("-o", "report.txt")):
        runs(root, ".", *ARGS, *extra)
        runs(root, ".", *ARGS, *extra)
    assert len(memos(root)) == before
    assert memo._read_command_line(["-", "--stdin-filename", "x.py"]) is None
    assert memo._read_command_line(["rules"]) is None
    assert memo._read_command_line(["check", "--statistics", "src"]) == ({}, {"--statistics"}, ["src"])


def test_a_damaged_memo_is_a_fresh_run(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    fresh = warmed(runs, root, ".", "--format", "json", *ARGS)
    for found in memos(root):
        found.write_text("{not json")
    before = runs.fresh
    assert runs(root, ".", "--format", "json", *ARGS) == fresh
    assert runs.fresh == before + 1


def test_only_the_last_few_memos_are_kept(runs: Runs, tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    for code in range(memo.KEEP + 3):
        runs(root, ".", *ARGS, "--min-confidence", str(1 + code % 3), "--select", f"ECO1{code:02d}")
    assert len(memos(root)) <= memo.KEEP


def test_the_command_line_is_read_as_click_reads_it() -> None:
    """The memo reads `check`'s options before click is imported: every option is known to it,
    and those that take a value are exactly click's."""
    params = [param for param in cli.check.params if param.param_type_name == "option"]
    names = {name for param in params for name in (*param.opts, *param.secondary_opts)}
    known = memo.VALUE_OPTIONS | memo.FLAG_OPTIONS | memo.NEVER
    assert names <= known
    valued = {name for param in params if not param.is_flag for name in param.opts}  # type: ignore[attr-defined]
    assert valued - memo.NEVER == memo.VALUE_OPTIONS
    assert set(cli.main.commands) - {"check"} == memo.COMMANDS


def test_a_run_that_showed_a_progress_line_is_not_memoised(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecolint.report import progress

    root = tree(tmp_path / "project")
    runs(root, ".", *ARGS)  # the cache directory made: the next run would keep a memo
    monkeypatch.setattr(progress, "wanted", lambda stream, env=None: True)  # as on a terminal
    monkeypatch.setattr(progress, "DELAY_S", -1.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    (root / "other.py").write_text(APP)  # a file to check, with progress
    ran = runs(root, ".", *ARGS)
    assert b"checked " in ran[2]
    assert not memos(root)


def test_a_git_command_in_the_work_tree_keeps_the_memo(runs: Runs, tmp_path: Path) -> None:
    """git writes in .git on every command (an index lock): only .git's being there decides the
    project root, so the memo still holds."""
    root = tree(tmp_path / "project")
    (root / ".git").mkdir()
    fresh = warmed(runs, root, ".", "--format", "json", *ARGS)
    (root / ".git" / "index.lock").write_text("")
    (root / ".git" / "index.lock").unlink()
    before = runs.fresh
    assert runs(root, ".", "--format", "json", *ARGS) == fresh
    assert runs.fresh == before
