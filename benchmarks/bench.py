#!/usr/bin/env python3
"""Paired wall-time benchmark: ecolint against ruff's cheapest full parse and ripgrep.

    python benchmarks/bench.py TREE [--runs 7] [--semgrep] [--cache]
    python benchmarks/bench.py TREE --phases      # where ecolint's time goes, serially
    python benchmarks/bench.py FILE --runs 21     # a single-file run (the pre-commit case)
    python benchmarks/bench.py TREE --ecolint VENV/bin/ecolint   # ecolint as installed
    python benchmarks/bench.py TREE --baseline /tmp/old   # paired with another source tree
    python benchmarks/bench.py TREE --baseline /tmp/old --cache   # warm runs of both, paired too

`--ecolint` times an installed ecolint (`python -m venv VENV && VENV/bin/pip install .`), the way
semgrep is timed from its own venv; without it, `python -m ecolint` runs from this source tree
on the interpreter that runs bench.py, with whatever that interpreter's site-packages import at
start-up.

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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Two single rules, because semgrep's cost depends on which files its rule lets it skip: it only
# parses a file holding the literal words of the pattern. The literal rule names a rare class and
# keyword, so semgrep parses next to nothing and mostly times its own start; the loader rule
# matches the call a setup starts at, so semgrep parses the files ecolint parses.
SEMGREP_RULES = {
    "semgrep literal": """rules:
  - id: int8-default-threshold
    languages: [python]
    severity: WARNING
    message: INT8 with default threshold
    pattern: BitsAndBytesConfig(..., load_in_8bit=True, ...)
""",
    "semgrep loader": """rules:
  - id: model-load
    languages: [python]
    severity: INFO
    message: a model is loaded
    pattern: $X.from_pretrained(...)
""",
}


def trigger_tokens() -> list[str]:
    from ecolint.extract import known_kinds, triggers

    tokens = {t.decode() for kind in known_kinds() for t in triggers(kind) if t}
    return sorted(tokens)


def commands(
    tree: str,
    semgrep_root: str | None,
    rule_files: dict[str, str],
    cache_dir: str | None = None,
    executable: str | None = None,
    baseline: str | None = None,
) -> dict[str, list[str]]:
    start = [executable] if executable else [sys.executable, "-m", "ecolint"]
    # the cache is on by default: "ecolint" (and a baseline) time a cold run, never a warm one
    arguments = ["check", tree, "--isolated", "--exit-zero", "--format", "json", "--no-cache"]
    ecolint = [*start, *arguments]
    cmds = {"ecolint": ecolint}
    if baseline is not None:
        # another source tree (a worktree of an older commit), first on sys.path: `-m` would put
        # the working directory, this repository, before PYTHONPATH
        run = f"import runpy, sys; sys.path.insert(0, {baseline!r}); runpy.run_module('ecolint', run_name='__main__')"
        cmds["ecolint baseline"] = [sys.executable, "-c", run, *arguments]
    cmds |= {
        "ruff E9": ["ruff", "check", "--no-cache", "--isolated", "--select", "E9", "--exit-zero", "--quiet", tree],
        "rg triggers": ["rg", "-l", "-F", *[a for t in trigger_tokens() for a in ("-e", t)], tree],
    }
    if cache_dir is not None:
        # the warm-up round below fills the cache: every timed run is a warm one
        cmds["ecolint warm"] = [*ecolint[:-1], "--cache-dir", cache_dir]
        if baseline is not None:
            cmds["baseline warm"] = [*cmds["ecolint baseline"][:-1], "--cache-dir", cache_dir + "-baseline"]
    if semgrep_root is not None:
        for name, rule_file in rule_files.items():
            # The same files as the others: semgrep's built-in .semgrepignore skips tests/ and
            # test/, most of the Python of trl or peft; a project .semgrepignore replaces it.
            cmds[name] = [
                "semgrep",
                "--config",
                rule_file,
                "--metrics=off",
                "--disable-version-check",
                "--quiet",
                "--project-root",
                semgrep_root,
                tree,
            ]
    return {name: cmd for name, cmd in cmds.items() if shutil.which(cmd[0]) or cmd[0] == sys.executable}


def staged(tree: str) -> tuple[str, str]:
    """A hard-linked copy of the tree (a plain copy across file systems) in a new directory that
    holds an empty .semgrepignore: (project root, tree). Every tool then reads the same files."""
    root = tempfile.mkdtemp(prefix="ecolint-bench-")
    Path(root, ".semgrepignore").write_text("")
    target = os.path.join(root, os.path.basename(tree.rstrip(os.sep)) or "tree")

    def link(source: str, destination: str) -> None:
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    if os.path.isdir(tree):
        shutil.copytree(tree, target, symlinks=True, copy_function=link)
    else:
        link(tree, target)
    return root, target


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the worker processes it reaped included) and peak resident
    memory (KiB, the largest single process) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(REPO))
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def phases(tree: str) -> None:
    """One serial in-process run with a timer on each stage of the flow. The Python share is
    reported on its own: the Python extractor is the part being ported from libcst to ast."""
    import collections

    from ecolint import engine, knowledge, project
    from ecolint.config import Config
    from ecolint.funnel import enabled_codes

    spent: dict[str, float] = collections.defaultdict(float)
    sizes: dict[str, int] = collections.defaultdict(int)
    counts: dict[str, int] = collections.defaultdict(int)

    def timed_method(owner: object, name: str, label: str) -> None:
        real = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        setattr(owner, name, wrapper)

    def timed_function(module: object, name: str, label: str) -> None:
        timed_method(module, name, label)

    def timed_generator(owner: object, name: str, label: str) -> None:
        # the walk may be a generator the analysis pulls from (time each step, not the call) or
        # a list made in the call (time the call)
        real = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            items = real(*args, **kwargs)
            spent[label] += time.perf_counter() - start
            if isinstance(items, list):
                return items
            return steps(items)

        def steps(items: Any) -> Any:
            while True:
                start = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    spent[label] += time.perf_counter() - start
                    return
                spent[label] += time.perf_counter() - start
                yield item

        setattr(owner, name, wrapper)

    start = time.perf_counter()
    kb = knowledge.load()
    spent["knowledge base"] = time.perf_counter() - start
    timed_generator(engine.Engine, "_walked", "walk + classify")
    timed_function(engine, "_read", "read")
    timed_function(engine, "may_hold_setup_bytes", "byte prefilter")
    timed_function(engine, "_pins", "version pins")
    timed_method(engine.Engine, "_audit_guarded", "resolve + rules")
    # The project pass (serial here; a run on a pool makes it on the workers, beside the
    # files of the kinds that do not need it).
    timed_method(project.ProjectWork, "helpers", "project pass: module index")
    timed_method(project.ProjectWork, "invocation_files", "project pass: invocation walk")
    timed_method(project.ProjectWork, "invocations", "project pass: invocation index")
    timed_function(engine, "_may_call_helper", "python: helper-import test")
    real_mentions = engine.python_may_hold_setup

    def mentions(data: bytes) -> bool:
        start = time.perf_counter()
        try:
            return real_mentions(data)
        finally:
            spent["python: call-site prefilter"] += time.perf_counter() - start

    engine.python_may_hold_setup = mentions
    real_one = engine.extract

    def one(
        config: engine.WorkerConfig, item: engine.FileWork, data: bytes, stamp: engine.Stamp | None = None
    ) -> engine.FileOutcome:
        start = time.perf_counter()
        inner = ("python: call-site prefilter", "python: helper-import test")
        before = sum(spent[name] for name in inner)
        outcome = real_one(config, item, data, stamp)
        kind = item.kind
        label = f"{kind}: decode + parse + extract" if outcome.parsed else None
        if label:
            # the prefilter's tests ran inside: their time is on their own lines
            spent[label] += time.perf_counter() - start - (sum(spent[name] for name in inner) - before)
            sizes[kind] += len(data)
            counts[kind] += 1
        return outcome

    engine.extract = one  # type: ignore[assignment]
    engine.PARALLEL_MIN_FILES = 10**15  # serial: every second is attributed to one stage
    engine.PARALLEL_MIN_CANDIDATES = 10**15
    defaults = {code: spec.enabled_by_default for code, spec in kb.rules.items()}
    start = time.perf_counter()
    result = engine.run([Path(tree)], kb, Config(), engine.Selection(codes=enabled_codes(defaults, None, [], [])))
    total = time.perf_counter() - start + spent["knowledge base"]
    print(f"tree: {tree}  files {result.files_seen}, parsed {result.files_parsed}, setups {result.setups}")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        extra = (
            f"  ({counts[label.split(':')[0]]} files, {sizes[label.split(':')[0]] / 1e6:.1f} MB)"
            if "parse" in label
            else ""
        )
        print(f"  {label:<36}{seconds:>8.2f} s {100 * seconds / total:>5.1f} %{extra}")
    print(f"  {'total (serial, in-process)':<36}{total:>8.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--semgrep",
        action="store_true",
        help="also time semgrep with one rule (a literal one and a loader-call one), on the same files",
    )
    parser.add_argument("--phases", action="store_true", help="time each stage of one serial in-process run instead")
    parser.add_argument(
        "--cache", action="store_true", help="also time ecolint with a warm extraction cache (--cache-dir)"
    )
    parser.add_argument("--json", help="write the raw timings here")
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        help="also time ecolint from this source tree (e.g. `git worktree add /tmp/old OLD_COMMIT`), paired with this one",
    )
    parser.add_argument(
        "--ecolint",
        metavar="EXE",
        help="time this installed ecolint (e.g. a venv's bin/ecolint) instead of `python -m ecolint` from this source tree",
    )
    args = parser.parse_args()
    tree = str(Path(args.tree).resolve())
    if args.phases:
        phases(tree)
        return 0
    rule_files = {}
    for name, rule in SEMGREP_RULES.items():
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            handle.write(rule)
        rule_files[name] = handle.name
    cache_dir = tempfile.mkdtemp(prefix="ecolint-bench-cache-") if args.cache else None
    stage = None
    if args.semgrep:
        stage, tree = staged(tree)
    baseline = str(Path(args.baseline).resolve()) if args.baseline else None
    cmds = commands(tree, stage, rule_files, cache_dir, args.ecolint, baseline)
    names = list(cmds)
    # An installed wheel carries compiled bytecode; a source tree run with
    # PYTHONDONTWRITEBYTECODE=1 (as on the project's machines) would compile every module on
    # every run and time that instead.
    import compileall

    for source in (REPO, *([Path(baseline)] if baseline else [])):
        compileall.compile_dir(str(source / "ecolint"), quiet=1)
    for name in names:  # one warm-up each, not counted; a tool that fails is not timed
        warm = subprocess.run(cmds[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(REPO), text=True)
        if warm.returncode not in (0, 1) or (name.startswith("ecolint") and warm.returncode != 0):
            print(f"{name} failed (exit {warm.returncode}): {warm.stderr.strip()[-800:]}", file=sys.stderr)
            return 2
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    memory: dict[str, list[int]] = {n: [] for n in names}
    for round_index in range(args.runs):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            seconds, cpu_seconds, kib = timed(cmds[name])
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
            memory[name].append(kib)
    base = statistics.median(times["ruff E9"]) if "ruff E9" in times else None
    print(f"tree: {args.tree}  runs: {args.runs} (paired, rotating order)")
    print(f"{'tool':<20}{'median s':>10}{'min s':>10}{'cpu s':>10}{'peak MB':>10}{'× ruff E9':>11}")
    for name in names:
        median = statistics.median(times[name])
        ratio = f"{median / base:.2f}" if base else "-"
        print(
            f"{name:<20}{median:>10.3f}{min(times[name]):>10.3f}{statistics.median(cpu[name]):>10.3f}{max(memory[name]) / 1024:>10.1f}{ratio:>11}"
        )
    if "ecolint baseline" in times:
        wall = statistics.median(times["ecolint"]) / statistics.median(times["ecolint baseline"])
        spent = statistics.median(cpu["ecolint"]) / statistics.median(cpu["ecolint baseline"])
        print(f"ecolint / baseline: wall {wall:.2f}, cpu {spent:.2f}")
    if "baseline warm" in times:
        wall = statistics.median(times["ecolint warm"]) / statistics.median(times["baseline warm"])
        spent = statistics.median(cpu["ecolint warm"]) / statistics.median(cpu["baseline warm"])
        print(f"ecolint warm / baseline warm: wall {wall:.2f}, cpu {spent:.2f}")
    for name in SEMGREP_RULES:
        if name not in times:
            continue
        semgrep = statistics.median(times[name])
        print(f"{name} / ecolint: {semgrep / statistics.median(times['ecolint']):.2f}", end="")
        if "ecolint warm" in times:
            print(f"  (warm cache: {semgrep / statistics.median(times['ecolint warm']):.2f})", end="")
        print()
    if args.json:
        Path(args.json).write_text(
            json.dumps({"tree": args.tree, "times": times, "cpu": cpu, "max_rss_kib": memory}, indent=2)
        )
    for rule_file in rule_files.values():
        os.unlink(rule_file)
    for directory in (cache_dir, cache_dir and cache_dir + "-baseline", stage):
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
