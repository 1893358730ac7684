"""Shared helpers: run ecolint the way a user does (the CLI), in-process for speed."""

from __future__ import annotations

import json
import os
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


@pytest.fixture
def cli():
    return run_cli
