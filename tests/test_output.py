"""What a user sees in a terminal: encodings, formats, colour, several outputs in one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"  # ECO104, a warning


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`python -m ecolint ARGS` in a process of its own, so the console encoding is real."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONIOENCODING")}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "ecolint", *args], cwd=cwd, env=environment, capture_output=True)


# -- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_a_console_that_cannot_encode_stars_gets_an_ascii_report(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_process(".", "--gpu", "RTX 4090D", cwd=tmp_path, env={"PYTHONIOENCODING": encoding})
    assert ran.returncode == 1, ran.stderr
    out = ran.stdout.decode(encoding)
    assert "internal error" not in ran.stderr.decode(encoding)
    assert "serve.sh:1:" in out and "ECO104 [***]" in out
    assert "+158-701% energy per request" in out
    assert "Found 1 finding" in out


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_a_clean_run_on_an_ascii_console_exits_zero(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    ran = run_process(".", cwd=tmp_path, env={"PYTHONIOENCODING": encoding})
    assert ran.returncode == 0, ran.stderr
    assert "No findings" in ran.stdout.decode(encoding)


def test_machine_formats_stay_utf8_on_an_ascii_console(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_process(".", "--format", "json", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert ran.returncode == 1, ran.stderr
    document = json.loads(ran.stdout.decode("utf-8"))
    assert "+158–701%" in document["findings"][0]["message"]


def test_rule_docs_print_on_an_ascii_console(tmp_path: Path) -> None:
    ran = run_process("rule", "ECO101", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert ran.returncode == 0, ran.stderr
    assert "## What it does" in ran.stdout.decode("ascii")


def test_a_utf8_console_keeps_the_stars(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--gpu", "RTX 4090D", cwd=tmp_path)
    assert "ECO104 [★★★]" in ran.output
