"""The installed wheel carries rules/ and works on its own, in a fresh virtual environment."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow


def test_wheel_installs_into_fresh_venv_and_finds_issues(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("ecolint-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True)

    # Run from a directory outside the source tree so nothing can be read from the checkout.
    project = tmp_path / "project"
    project.mkdir()
    (project / "serve.sh").write_text("vllm serve Qwen/Qwen2-7B-Instruct --quantization fp8 --enforce-eager\n")
    (project / "app.py").write_text(
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
        "cfg = BitsAndBytesConfig(load_in_8bit=True)\n"
        "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', quantization_config=cfg)\n"
    )
    ecolint = env_dir / "bin" / "ecolint"
    ran = subprocess.run([str(ecolint), "."], cwd=project, capture_output=True, text=True)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "ECO101" in ran.stdout and "ECO104" in ran.stdout
    listed = subprocess.run([str(ecolint), "rules"], cwd=project, capture_output=True, text=True)
    assert "int8-default-threshold" in listed.stdout
    site = subprocess.run(
        [str(python), "-c", "import ecolint.knowledge as k; print(k.rules_dir())"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert str(env_dir) in site.stdout, "rules/ must be read from inside the installed package"
