"""Golden snapshots of the reports on the bundled demo tree and the fixtures.

A change in wording, order or numbers shows up here as a diff a reviewer can read. To accept
an intended change: ECOLINT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REPO, run_cli

SNAPSHOTS = Path(__file__).parent / "snapshots"
CASES = {
    "demo.txt": ("examples/demo",),
    "demo-json.json": ("examples/demo", "--format", "json"),
    "fixtures-python.txt": ("fixtures/python", "--select", "ALL"),
    "fixtures-launch.txt": ("fixtures/launch", "--select", "ALL"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_matches_snapshot(name: str) -> None:
    ran = run_cli(*CASES[name], cwd=REPO)
    assert ran.exit_code in (0, 1), ran.stderr
    path = SNAPSHOTS / name
    if os.environ.get("ECOLINT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(ran.output, encoding="utf-8")
    assert path.exists(), f"no snapshot {name}: run with ECOLINT_UPDATE_SNAPSHOTS=1 once"
    assert ran.output == path.read_text(encoding="utf-8")
