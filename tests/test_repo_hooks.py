"""The repository's own pre-commit configuration (.pre-commit-config.yaml): valid for pre-commit,
and it runs the gates CI runs — ruff lint (never --fix), ruff format, mypy — and ecolint on the
project's own code, not on the fixtures written to be reported."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml
from conftest import REPO

CONFIG = REPO / ".pre-commit-config.yaml"


def hooks() -> dict[str, dict]:
    document = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return {hook["id"]: hook for repo in document["repos"] for hook in repo["hooks"]}


def test_pre_commit_accepts_the_configuration() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_hooks_are_the_quality_gates() -> None:
    found = hooks()
    assert sorted(found) == ["ecolint", "mypy", "ruff-check", "ruff-format"]
    assert found["ruff-check"]["entry"].split()[:2] == ["ruff", "check"]
    assert "--fix" not in found["ruff-check"]["entry"].split() + found["ruff-check"].get("args", [])
    assert found["ruff-format"]["entry"].split()[:2] == ["ruff", "format"]
    assert found["mypy"]["entry"].split()[0] == "mypy"
    assert found["mypy"]["pass_filenames"] is False  # the whole package: types cross modules


def test_ecolint_checks_its_own_code_but_not_its_fixtures() -> None:
    files = re.compile(hooks()["ecolint"]["files"])
    assert files.search("ecolint/engine.py")
    assert files.search("scripts/snapshot.py")
    for designed_to_be_reported in ("fixtures/python/int8.py", "examples/demo/serve.sh", "tests/test_fix.py"):
        assert not files.search(designed_to_be_reported)
