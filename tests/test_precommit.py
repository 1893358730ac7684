"""The pre-commit hook, run the way a user's repository runs it: `pre-commit try-repo`.

Nothing is installed globally: pre-commit builds the hook's virtual environment under a
temporary PRE_COMMIT_HOME, from a snapshot of this working tree (committed into a temporary
repository, since try-repo reads commits and would leave untracked files out).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

pytestmark = pytest.mark.slow

BAD = """\
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

quantization_config = BitsAndBytesConfig(load_in_8bit=True)
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", quantization_config=quantization_config)
"""
GOOD = """\
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", torch_dtype="bfloat16")
"""
SNAPSHOT_SKIP = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache")


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # e.g. when run from a git hook
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="ecolint tests",
        GIT_AUTHOR_EMAIL="tests@example.invalid",
        GIT_COMMITTER_NAME="ecolint tests",
        GIT_COMMITTER_EMAIL="tests@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "home").mkdir()
    return env


def snapshot(destination: Path, env: dict[str, str]) -> Path:
    """This working tree, tracked and untracked-but-not-ignored files alike, as one commit."""
    inside_git = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=REPO, env=env, capture_output=True, text=True
    )
    if inside_git.returncode == 0 and inside_git.stdout.strip() == "true":
        listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO, env=env)
        for name in filter(None, listed.split("\0")):
            source = REPO / name
            if source.is_file():  # a tracked file deleted in the working tree is left out
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / name)
    else:
        shutil.copytree(REPO, destination, ignore=SNAPSHOT_SKIP)
    git("init", "-q", cwd=destination, env=env)
    git("add", "-A", cwd=destination, env=env)
    git("commit", "-q", "-m", "snapshot", cwd=destination, env=env)
    return destination


def try_repo(source: Path, project: Path, env: dict[str, str], *selection: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(source), "ecolint", "--color", "never", *selection]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900)


def test_hook_definition_matches_the_kinds_ecolint_reads() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    hook = hooks["ecolint"]
    fix_hook = hooks.pop("ecolint-fix")
    assert list(hooks) == ["ecolint"] and fix_hook["entry"] == "ecolint --fix"
    assert {k: v for k, v in fix_hook.items() if k not in ("id", "name", "description", "entry")} == {
        k: v for k, v in hook.items() if k not in ("id", "name", "description", "entry")
    }
    assert hook["id"] == "ecolint" and hook["entry"] == "ecolint" and hook["language"] == "python"
    assert hook["types"] == ["text"] and hook["require_serial"] is True and hook["args"] == ["--force-exclude"]
    files = re.compile(hook["files"])
    read = [
        "app.py",
        "ops/serve.sh",
        "run.bash",
        "k8s/deploy.yaml",
        "compose.yml",
        "Dockerfile",
        "api.Dockerfile",
        "docker/Containerfile",
        "Modelfile",
        "llama.Modelfile",
        "requirements.txt",
        "requirements-dev.txt",
        "requirements/base.in",
        "pyproject.toml",
    ]
    skipped = ["README.md", "setup.cfg", "notes.txt", "data.json", "app.js"]
    assert [name for name in read if not files.search(name)] == []
    assert [name for name in skipped if files.search(name)] == []


def test_pre_commit_try_repo_fails_the_bad_file_and_passes_the_good_one(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    source = snapshot(tmp_path / "ecolint-src", env)
    project = tmp_path / "project"
    project.mkdir()
    (project / "bad.py").write_text(BAD, encoding="utf-8")
    (project / "good.py").write_text(GOOD, encoding="utf-8")
    git("init", "-q", cwd=project, env=env)
    git("add", "bad.py", "good.py", cwd=project, env=env)

    everything = try_repo(source, project, env, "--all-files")
    output = everything.stdout + everything.stderr
    assert everything.returncode == 1, output
    assert re.search(r"bad\.py:3:\d+: ECO101", output), output
    assert "good.py:" not in output

    only_good = try_repo(source, project, env, "--files", "good.py")
    assert only_good.returncode == 0, only_good.stdout + only_good.stderr
    assert re.search(r"ecolint\.+Passed", only_good.stdout), only_good.stdout
