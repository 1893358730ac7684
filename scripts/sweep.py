#!/usr/bin/env python3
"""Sweep: run ecolint over real trees and report what it made of them.

    python scripts/sweep.py DIR [DIR ...] [--select ALL] [--json FILE]

For each directory: files read, files parsed, setups recognised, findings by code, ECO001
diagnostics grouped by reason, and every internal error (an ECO001 whose message starts with
"internal error": a bug in ecolint, to be fixed) with its file. Each directory runs in a child
process of its own, so a crash (a native parser's segfault) is reported as such instead of ending
the sweep; wall time and peak memory are the child's.

Exit status: 0 when no directory produced an internal error or a crash, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def analyse(directory: str, select: str) -> dict:
    """One directory, in this process: the engine's own counters, not just the report."""
    sys.path.insert(0, str(REPO))
    from ecolint import knowledge
    from ecolint.config import Config
    from ecolint.engine import Selection, run
    from ecolint.funnel import enabled_codes

    kb = knowledge.load()
    defaults = {code: spec.enabled_by_default for code, spec in kb.rules.items()}
    codes = enabled_codes(defaults, [select] if select else None, [], [])
    started = time.perf_counter()
    result = run([Path(directory)], kb, Config(), Selection(codes=codes), cwd=Path(directory).resolve())
    elapsed = time.perf_counter() - started
    internal = [
        {"path": e.path, "line": e.line, "message": e.message}
        for e in result.errors
        if e.message.startswith("internal error")
    ]
    return {
        "directory": directory,
        "files": result.files_seen,
        "parsed": result.files_parsed,
        "setups": result.setups,
        "findings": dict(sorted(collections.Counter(f.code for f in result.findings).items())),
        "eco001": len(result.errors),
        "eco001_by_reason": dict(collections.Counter(_reason(e.message) for e in result.errors).most_common()),
        "internal_errors": internal,
        "seconds": round(elapsed, 3),
    }


def _reason(message: str) -> str:
    """'invalid Python syntax: ...' -> 'invalid Python syntax'; numbers dropped so they group."""
    head = message.split(":", 1)[0] if not message.startswith("internal error") else message.split(" at ", 1)[0]
    return re.sub(r"\b\d+\b", "N", head)[:80]


def sweep_one(directory: str, select: str) -> dict:
    import tempfile

    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--one", directory, "--select", select], stdout=out, stderr=err, text=True
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    seconds = round(time.perf_counter() - started, 3)
    if proc.returncode != 0:
        how = f"exit status {proc.returncode}" if proc.returncode > 0 else f"signal {-proc.returncode}"
        return {"directory": directory, "crashed": how, "stderr": stderr[-3000:], "seconds": seconds}
    report = json.loads(stdout)
    report["wall_seconds"] = seconds
    report["peak_mib"] = round(usage.ru_maxrss / 1024, 1)
    return report


def print_report(reports: list[dict]) -> None:
    for report in reports:
        print(f"== {report['directory']}")
        if "crashed" in report:
            print(f"   CRASHED ({report['crashed']}) after {report['seconds']} s")
            print("   " + report["stderr"].strip().replace("\n", "\n   "))
            continue
        print(
            f"   files read {report['files']}, parsed {report['parsed']}, setups {report['setups']}, "
            f"{report['seconds']} s in the engine ({report['wall_seconds']} s wall, peak {report['peak_mib']} MiB)"
        )
        findings = ", ".join(f"{code} {n}" for code, n in report["findings"].items()) or "none"
        print(f"   findings: {findings}")
        print(
            f"   ECO001: {report['eco001']}"
            + "".join(f"\n      {n:>5}  {reason}" for reason, n in report["eco001_by_reason"].items())
        )
        for error in report["internal_errors"]:
            print(f"   INTERNAL ERROR {error['path']}:{error['line']}: {error['message']}")
    bad = [r for r in reports if "crashed" in r or r.get("internal_errors")]
    total_internal = sum(len(r.get("internal_errors", [])) for r in reports)
    print(
        f"== {len(reports)} directories; {total_internal} internal errors; {sum('crashed' in r for r in reports)} crashed"
    )
    if bad:
        print("   to fix: " + ", ".join(r["directory"] for r in bad))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directories", nargs="*")
    parser.add_argument("--select", default="ALL", help="rule codes or prefixes to run (default: ALL, every rule)")
    parser.add_argument("--json", help="also write the reports to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(analyse(args.one, args.select)))
        return 0
    if not args.directories:
        parser.error("give at least one directory")
    reports = [sweep_one(directory, args.select) for directory in args.directories]
    print_report(reports)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    return 1 if any("crashed" in r or r.get("internal_errors") for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
