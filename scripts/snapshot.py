#!/usr/bin/env python3
"""Snapshot: every Setup and every finding ecolint makes of some trees, as sorted JSON lines.

    python scripts/snapshot.py DIR [DIR ...] > before.jsonl
    (change the code)
    python scripts/snapshot.py DIR [DIR ...] > after.jsonl
    diff before.jsonl after.jsonl

A refactor proves itself by an empty diff: the same Setups (every fact, its value, location and
how it was read) and the same findings (code, location, message, confidence, fix) on swept trees.
Every rule runs, opt-in ones included. Paths are relative to each DIR, so two checkouts of one
tree compare equal.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def snapshot(directory: Path) -> list[str]:
    sys.path.insert(0, str(REPO))
    from ecolint import knowledge
    from ecolint.cache import _setup_json
    from ecolint.config import Config
    from ecolint.engine import Selection, run, setups_in
    from ecolint.report.json import finding_dict

    kb = knowledge.load()
    root = directory.resolve()
    lines: list[str] = []
    found, errors = setups_in(root, kb, Config())
    for setup, resolution in found:
        record = {
            "setup": _setup_json(setup),
            "params_b": resolution.params_b,
            "confidence": resolution.confidence,
        }
        lines.append(json.dumps(record, sort_keys=True, default=str))
    for error in errors:
        lines.append(json.dumps({"error": [error.path, error.line, error.message]}, sort_keys=True))
    result = run([root], kb, Config(), Selection(codes=sorted(kb.rules)), cwd=root)
    for finding in result.findings:
        lines.append(json.dumps({"finding": finding_dict(finding)}, sort_keys=True, default=str))
    prefix = json.dumps(str(root) + "/")[1:-1]
    return sorted(f"{directory.name}\t{line.replace(prefix, '')}" for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="+", type=Path)
    args = parser.parse_args()
    for directory in args.directories:
        for line in snapshot(directory):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
