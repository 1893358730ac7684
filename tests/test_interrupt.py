"""A run that is killed while its workers are busy leaves no worker behind (they used to go on
as orphans, each finishing its queue and then waiting for work forever).

Each run is slowed (every file's analysis sleeps a little, patched in before the workers fork)
so that it is surely mid-run when the signal comes; nothing here is timed: the tests poll a
bounded number of times for the processes to be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2, reason="needs /proc and two cores to pool"
)

SLOW_RUN = """
import sys, time
import ecolint.engine as engine
engine.os.cpu_count = lambda: 2
analyse = engine._analyse_file
def slowly(config, item):
    time.sleep(0.05)
    return analyse(config, item)
engine._analyse_file = slowly
from ecolint.cli import main
main(["check", sys.argv[1], "--no-cache", "--exit-zero"])
"""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found |= {int(child) for child in task.read_text().split()}
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _poll(condition, tries: int = 300) -> bool:
    for _ in range(tries):
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for number in range(400):  # well over PARALLEL_MIN_FILES: the run pools
        (tmp_path / f"serve_{number:03}.sh").write_text(f"vllm serve Qwen/Qwen2-7B --port {8000 + number}\n")
    return tmp_path


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_no_worker_outlives_a_killed_run(tree: Path, sent: signal.Signals) -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(tree)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        assert _poll(lambda: len(_children(run.pid)) >= 2), "the run never started its workers"
        workers = _children(run.pid)
        run.send_signal(sent)
        run.wait(timeout=60)
        assert run.returncode != 0  # stopped by the signal, not finished
        assert _poll(lambda: not any(_alive(worker) for worker in workers)), "a worker outlived its run"
    finally:
        for worker in workers:  # never leave one behind for the next test, whatever failed
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
        if run.poll() is None:
            run.kill()
            run.wait()
