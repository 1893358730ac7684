"""Dependency pins (ecolint/extract/stack.py): the lowest version each specifier admits."""

from __future__ import annotations

import pytest

from ecolint.extract import ExtractError
from ecolint.extract.stack import extract, lowest, normalize, read_pins


@pytest.mark.parametrize(
    "spec, version",
    [
        ("==0.48.1", "0.48.1"),
        (">=4.55", "4.55"),
        ("~=4.56.0", "4.56.0"),
        (">=0.45,<0.49", "0.45"),
        (">=1.0,>=1.2", "1.2"),
        ("==2.*", "2"),
        ("===1.0", "1.0"),
        (">2.0", "2.0"),
        ("<2", None),
        ("!=1.0", None),
        ("", None),
    ],
)
def test_lowest(spec: str, version: str | None) -> None:
    assert lowest(spec) == version


def test_normalize() -> None:
    assert normalize("Bits_And.Bytes") == "bits-and-bytes"


def test_requirements_txt() -> None:
    text = """\
-r base.txt
-c constraints.txt
--extra-index-url https://download.pytorch.org/whl/cu121
transformers[torch]==4.56.0
bitsandbytes>=0.45,<0.49 ; sys_platform == "linux"  # GPU only
accelerate~=1.0.1
torch
vllm @ https://example.invalid/vllm.whl
git+https://github.com/huggingface/peft.git
-e ./local
Flash_Attn>=2.5.8 \\
    --hash=sha256:abc
numpy!=1.0
"""
    assert read_pins("requirements-gpu.txt", text) == {
        "transformers": "4.56.0",
        "bitsandbytes": "0.45",
        "accelerate": "1.0.1",
        "flash-attn": "2.5.8",
    }


def test_pyproject_pep621_groups_and_poetry() -> None:
    text = """\
[project]
name = "app"
dependencies = ["transformers>=4.55", "torch"]

[project.optional-dependencies]
gpu = ["bitsandbytes==0.48.1", "vllm"]

[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]

[tool.poetry.dependencies]
python = "^3.10"
peft = {version = "~0.12", extras = ["x"]}
accelerate = "^1.2.0"
torchao = "*"
optimum = ">=1.20,<2"

[tool.poetry.group.serve.dependencies]
sglang = "0.3.5"
"""
    assert read_pins("pyproject.toml", text) == {
        "transformers": "4.55",
        "bitsandbytes": "0.48.1",
        "pytest": "8",
        "peft": "0.12",
        "accelerate": "1.2.0",
        "optimum": "1.20",
        "sglang": "0.3.5",
    }


def test_pip_install_lines_in_dockerfile_and_shell() -> None:
    dockerfile = """\
FROM python:3.11
RUN pip install --no-cache-dir "bitsandbytes==0.48.1" transformers>=4.55 -r requirements.txt && \\
    python3 -m pip install -U accelerate==1.2.0 --index-url https://x && echo pip install nope==1
RUN uv pip install --system peft==0.13.2; /opt/venv/bin/pip3 install 'vllm[all]==0.6.3'
# RUN pip install torch==2.0
"""
    assert read_pins("Dockerfile", dockerfile) == {
        "bitsandbytes": "0.48.1",
        "transformers": "4.55",
        "accelerate": "1.2.0",
        "peft": "0.13.2",
        "vllm": "0.6.3",
    }
    assert read_pins("setup.sh", "#!/bin/bash\nsudo pip install torchao>=0.5 vllm\n") == {"torchao": "0.5"}


def test_unpinned_and_odd_input_give_nothing() -> None:
    assert read_pins("requirements.txt", "torch\nnumpy\n\n# comment\n") == {}
    assert read_pins("requirements.txt", "\x00\x01 ==== >= [[[\n") == {}
    assert read_pins("run.sh", 'pip install "unclosed==1\n') in ({}, {"unclosed": "1"})


def test_invalid_pyproject_is_an_extract_error() -> None:
    with pytest.raises(ExtractError):
        read_pins("pyproject.toml", "[project\nname = 1\n")
    with pytest.raises(ExtractError):
        extract("pyproject.toml", "[project\n", None)  # type: ignore[arg-type]


def test_extract_returns_no_setups() -> None:
    assert extract("requirements.txt", "bitsandbytes==0.48.1\n", None) == []  # type: ignore[arg-type]
    assert extract("pyproject.toml", '[project]\ndependencies = ["x==1"]\n', None) == []  # type: ignore[arg-type]
