"""Shared helpers: run ecolint the way a user does (the CLI), in-process for speed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecolint.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"


class Ran:
    def __init__(self, exit_code: int, output: str, stderr: str) -> None:
        self.exit_code = exit_code
        self.output = output
        self.stderr = stderr

    def json(self) -> dict:
        return json.loads(self.output)


def run_cli(*args: str, cwd: Path | None = None) -> Ran:
    """Invoke `ecolint ARGS` in-process, from cwd (default: the repository)."""
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(cwd or REPO)
    try:
        result = runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(autouse=True, scope="session")
def _no_cache_in_the_repository() -> Iterator[None]:
    """The cache is on by default and lands in the scanned project's root, which for the
    fixtures is this repository: tests run without it (ECOLINT_NO_CACHE, inherited by the CLI
    in-process and by subprocesses) unless they remove the variable, as tests/test_cache.py does
    on trees of its own. A test run leaves `git status` clean."""
    # session-wide: module-scoped fixtures (tests/test_fixtures.py) run the CLI before any
    # function-scoped one could set it
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECOLINT_NO_CACHE", "1")
        patch.delenv("ECOLINT_CACHE_DIR", raising=False)
        yield


@pytest.fixture
def cli():
    return run_cli
