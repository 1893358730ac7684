"""Every file kind agrees by construction: for every flag row of every launcher table
(ecolint/extract/launchers/), the same setting written as a shell command, a Dockerfile CMD in
exec form and in shell form, a compose command, Kubernetes container command/args, a GitHub
workflow ``run:`` step and, where the row mirrors a Python keyword, ``LLM(...)`` gives the same
facts (values; locations differ by kind) and the same finding codes.

The cases are generated from the tables: a new row is tested here without a line of test code.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from conftest import run_cli
from test_containers import run

from ecolint.extract import dockerfile, manifests, python, shell
from ecolint.extract.launchers.registry import LAUNCHERS
from ecolint.extract.launchers.vocab import SWITCH, Flag, Launcher
from ecolint.setups import IMAGE, MODEL, QUANT_CONFIG, Setup

# The command line that starts each launcher whose flags are rows, with a model when the
# row is not itself one naming the model.
MODEL_ID = "Qwen/Qwen2-7B-Instruct"
HEAD = {
    "vllm": ["vllm", "serve", MODEL_ID],
    "sglang": ["python", "-m", "sglang.launch_server", "--model-path", MODEL_ID],
    "tgi": ["text-generation-launcher", "--model-id", MODEL_ID],
    "llama.cpp": ["llama-server", "-m", "models/qwen2-7b.Q8_0.gguf"],
}
BARE = {"vllm": ["vllm", "serve"], "sglang": ["python", "-m", "sglang.launch_server"]}


def _rows() -> list[tuple[Launcher, Flag]]:
    return [
        (launcher, row)
        for launcher in LAUNCHERS
        for row in launcher.flags()
        if (row.fact is not None or row.maps is not None) and launcher.framework in HEAD
    ]


ROWS = _rows()


def _argv(launcher: Launcher, row: Flag) -> list[str]:
    setting = [row.name] if row.type == SWITCH else [row.name, row.sample or ""]
    if row.fact == MODEL:
        return [*BARE.get(launcher.framework, HEAD[launcher.framework][:1]), *setting]
    return [*HEAD[launcher.framework], *setting]


def _python_literal(row: Flag) -> str:
    if row.type == SWITCH:
        return "True"
    if row.type == "int":
        return str(row.sample)
    return json.dumps(row.sample)


def _files(launcher: Launcher, row: Flag) -> dict[str, str]:
    """The one setting in every file kind, each a file of its own."""
    argv = _argv(launcher, row)
    line = shlex.join(argv)
    files = {
        "serve.sh": f"#!/bin/sh\n{line}\n",
        "exec/Dockerfile": f"FROM python:3.11\nCMD {json.dumps(argv)}\n",
        "shellform/Dockerfile": f"FROM python:3.11\nCMD {line}\n",
        "compose.yaml": f"services:\n  app:\n    image: python:3.11\n    command: {json.dumps(argv)}\n",
        "deploy.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - name: app\n          image: python:3.11\n"
            f"          command: {json.dumps(argv[:1])}\n          args: {json.dumps(argv[1:])}\n"
        ),
        ".github/workflows/serve.yml": (
            f"on: [push]\njobs:\n  serve:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {json.dumps(line)}\n"
        ),
    }
    if row.python is not None:
        keywords = [f"{row.python}={_python_literal(row)}"]
        if row.fact != MODEL:
            keywords.insert(0, f"model={json.dumps(MODEL_ID)}")
        files["app.py"] = f"from vllm import LLM\n\nllm = LLM({', '.join(keywords)})\n"
    return files


_READERS = {".sh": shell, "Dockerfile": dockerfile, ".yaml": manifests, ".yml": manifests, ".py": python}


def _facts(tmp_path: Path, name: str, text: str) -> dict[str, object]:
    module = next(reader for suffix, reader in _READERS.items() if name.endswith(suffix))
    setups: list[Setup] = run(tmp_path, module, name, text)
    assert len(setups) == 1, (name, setups)
    facts = {key: fact.value for key, fact in setups[0].facts.items()}
    if name.endswith(".py"):
        # Python marks the quantization keyword itself (quant_config "vllm"), which the fix of
        # ecolint/checks/quantization.py deletes; the method is in the precision, as elsewhere.
        facts.pop(QUANT_CONFIG, None)
    # The container image a file kind runs the command in is the deployment's, not the flag's.
    facts.pop(IMAGE, None)
    return facts


@pytest.mark.parametrize(("launcher", "row"), ROWS, ids=[f"{lr.framework}{row.name}" for lr, row in ROWS])
def test_one_flag_row_says_the_same_in_every_file_kind(tmp_path: Path, launcher: Launcher, row: Flag) -> None:
    assert row.type == SWITCH or row.sample, f"{launcher.framework} {row.name}: give the row an example value"
    files = _files(launcher, row)
    facts = {name: _facts(tmp_path, name, text) for name, text in files.items()}
    shell_facts = facts["serve.sh"]
    if row.fact != MODEL:
        base = _facts(tmp_path / "base", "serve.sh", f"{shlex.join(HEAD[launcher.framework])}\n")
        assert shell_facts != base, f"{row.name} set nothing"  # the case tests the row, not the head
    for name, found in facts.items():
        expected = {k: v for k, v in shell_facts.items() if not (name.endswith(".py") and k == QUANT_CONFIG)}
        assert found == expected, name

    document = run_cli(str(tmp_path), "--format", "json", "--isolated", "--select", "ALL").json()
    codes: dict[str, list[str]] = {name: [] for name in files}
    for finding in document["findings"]:
        rel = Path(finding["path"]).resolve().relative_to(tmp_path.resolve()).as_posix()
        if rel in codes:
            codes[rel].append(finding["code"])
    assert all(sorted(found) == sorted(codes["serve.sh"]) for found in codes.values()), codes


def test_every_python_keyword_of_a_row_is_tested() -> None:
    mirrored = {row.python for _, row in ROWS if row.python}
    assert {"model", "quantization", "dtype", "kv_cache_dtype", "enforce_eager", "max_num_seqs"} <= mirrored


ENV_ROWS = [(launcher, row) for launcher, row in ROWS if row.env is not None]


def _env_files(launcher: Launcher, row: Flag) -> dict[str, str]:
    """The same setting as the launcher's environment variable, in every kind that sets one."""
    argv = _argv(launcher, row)[: -1 if row.type == SWITCH else -2]
    line = shlex.join(argv)
    key, value = row.env, row.sample or ""
    return {
        "serve.sh": f"#!/bin/sh\nexport {key}={shlex.quote(value)}\n{line}\n",
        "prefix.sh": f"#!/bin/sh\n{key}={shlex.quote(value)} {line}\n",
        "exec/Dockerfile": f"FROM python:3.11\nENV {key}={json.dumps(value)}\nCMD {json.dumps(argv)}\n",
        "compose.yaml": (
            f"services:\n  app:\n    image: python:3.11\n    command: {json.dumps(argv)}\n"
            f"    environment:\n      {key}: {json.dumps(value)}\n"
        ),
        "deploy.yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: app\n"
            f"      image: python:3.11\n      command: {json.dumps(argv)}\n"
            f"      env:\n        - name: {key}\n          value: {json.dumps(value)}\n"
        ),
        ".github/workflows/serve.yml": (
            f"on: [push]\njobs:\n  serve:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - run: {json.dumps(line)}\n        env:\n          {key}: {json.dumps(value)}\n"
        ),
    }


@pytest.mark.parametrize(("launcher", "row"), ENV_ROWS, ids=[f"{lr.framework}-{row.env}" for lr, row in ENV_ROWS])
def test_a_flag_rows_env_var_says_what_the_flag_says(tmp_path: Path, launcher: Launcher, row: Flag) -> None:
    flag_form = _facts(tmp_path / "flag", "serve.sh", f"{shlex.join(_argv(launcher, row))}\n")
    for name, text in _env_files(launcher, row).items():
        assert _facts(tmp_path, name, text) == flag_form, name
