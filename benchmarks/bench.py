#!/usr/bin/env python3
"""Paired wall-time benchmark: ecolint against ruff's cheapest full parse and ripgrep.

    python benchmarks/bench.py TREE [--runs 7] [--semgrep]

Each round runs every tool once on the same tree, in a rotating order (so no tool always gets
the warm cache), and records wall time and peak memory (ru_maxrss of the child). It prints the
medians and the ratios to `ruff check --no-cache --select E9` — the yardstick of issue 5 — and
to `rg` over ecolint's trigger tokens (the I/O floor). Nothing here is asserted: shared machines
are noisy, so speed is read from these numbers, never from timed tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEMGREP_RULE = """rules:
  - id: int8-default-threshold
    languages: [python]
    severity: WARNING
    message: INT8 with default threshold
    pattern: BitsAndBytesConfig(..., load_in_8bit=True, ...)
"""


def trigger_tokens() -> list[str]:
    from ecolint.extract import known_kinds, triggers

    tokens = {t.decode() for kind in known_kinds() for t in triggers(kind) if t}
    return sorted(tokens)


def commands(tree: str, semgrep: bool, rule_file: str) -> dict[str, list[str]]:
    cmds = {
        "ecolint": [sys.executable, "-m", "ecolint", "check", tree, "--isolated", "--exit-zero", "--format", "json"],
        "ruff E9": ["ruff", "check", "--no-cache", "--isolated", "--select", "E9", "--exit-zero", "--quiet", tree],
        "rg triggers": ["rg", "-l", "-F", *[a for t in trigger_tokens() for a in ("-e", t)], tree],
    }
    if semgrep:
        cmds["semgrep 1 rule"] = ["semgrep", "--config", rule_file, "--metrics=off", "--quiet", tree]
    return {name: cmd for name, cmd in cmds.items() if shutil.which(cmd[0]) or cmd[0] == sys.executable}


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(REPO))
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--semgrep", action="store_true", help="also time semgrep with one rule")
    parser.add_argument("--json", help="write the raw timings here")
    args = parser.parse_args()
    tree = str(Path(args.tree).resolve())
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(SEMGREP_RULE)
    cmds = commands(tree, args.semgrep, handle.name)
    names = list(cmds)
    for name in names:  # one warm-up each, not counted
        timed(cmds[name])
    times: dict[str, list[float]] = {n: [] for n in names}
    memory: dict[str, list[int]] = {n: [] for n in names}
    for round_index in range(args.runs):
        order = names[round_index % len(names):] + names[: round_index % len(names)]
        for name in order:
            seconds, kib = timed(cmds[name])
            times[name].append(seconds)
            memory[name].append(kib)
    base = statistics.median(times["ruff E9"]) if "ruff E9" in times else None
    print(f"tree: {tree}  runs: {args.runs} (paired, rotating order)")
    print(f"{'tool':<16}{'median s':>10}{'min s':>10}{'peak MB':>10}{'× ruff E9':>11}")
    for name in names:
        median = statistics.median(times[name])
        ratio = f"{median / base:.2f}" if base else "-"
        print(f"{name:<16}{median:>10.3f}{min(times[name]):>10.3f}{max(memory[name]) / 1024:>10.1f}{ratio:>11}")
    if args.json:
        Path(args.json).write_text(json.dumps({"tree": tree, "times": times, "max_rss_kib": memory}, indent=2))
    os.unlink(handle.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
