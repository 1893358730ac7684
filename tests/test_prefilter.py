"""The Python prefilter decides from bytes which files are parsed at all. It may keep a file that
holds no setup (that costs a parse), but it must never drop one that holds a setup (that would
silently lose a finding). Both directions are checked here on the shapes real code takes; the
fuzz run (`pytest -m fuzz`) checks the second as a property over random programs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, run_cli

from ecolint.extract import LOADER_CALLS, ExtractContext
from ecolint.extract import python as python_extractor
from ecolint.extract.python.frameworks import _API_CALLS
from ecolint.prefilter import may_hold_setup_bytes, python_may_hold_setup

INT8 = "quantization_config=BitsAndBytesConfig(load_in_8bit=True)"
HEADER = "from transformers import AutoModelForCausalLM, BitsAndBytesConfig, pipeline\nfrom vllm import LLM\n"

# Loading calls written in the shapes code takes: each must reach the extractor and be reported.
KEPT = {
    "plain": f"m = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2-1.5B', {INT8})\n",
    "spaces-before-parenthesis": f"m = AutoModelForCausalLM .from_pretrained ('Qwen/Qwen2-1.5B', {INT8})\n",
    "chained-on-next-line": f"m = (\n    AutoModelForCausalLM\n    # a comment between\n    .from_pretrained('Qwen/Qwen2-1.5B', {INT8})\n)\n",
    "backslash-continuation": f"m = AutoModelForCausalLM. \\\n    from_pretrained('Qwen/Qwen2-1.5B', {INT8})\n",
    "parenthesised-callee": f"m = (AutoModelForCausalLM.from_pretrained)('Qwen/Qwen2-1.5B', {INT8})\n",
    "receiver-is-a-call": f"m = getattr(transformers, 'AutoModelForCausalLM').from_pretrained('Qwen/Qwen2-1.5B', {INT8})\nimport transformers\n",
    "receiver-is-a-subscript": f"m = [AutoModelForCausalLM][0].from_pretrained('Qwen/Qwen2-1.5B', {INT8})\n",
    "in-an-f-string-field": f"label = f\"{{AutoModelForCausalLM.from_pretrained('Qwen/Qwen2-1.5B', {INT8})}}\"\n",
    "in-a-triple-quoted-f-string": f"label = f'''\n{{AutoModelForCausalLM.from_pretrained(\"Qwen/Qwen2-1.5B\", {INT8})}}\n'''\n",
    "after-a-backslash-newline-in-an-f-string": f"label = f\"loaded \\\n{{AutoModelForCausalLM.from_pretrained('Qwen/Qwen2-1.5B', {INT8})}}\"\n",
    "raw-f-string-with-N-brace": f"label = rf\"\\N{{AutoModelForCausalLM.from_pretrained('Qwen/Qwen2-1.5B', {INT8})}}\"\n",
    "vllm-call-with-space": "llm = LLM ('Qwen/Qwen2-7B', quantization='fp8', enforce_eager=True)\n",
    "vllm-parenthesised": "llm = (LLM)('Qwen/Qwen2-7B', quantization='fp8', enforce_eager=True)\n",
    "pipeline-kwargs": "p = pipeline('text-generation', model='Qwen/Qwen2-1.5B', model_kwargs={'load_in_8bit': True})\n",
    "imported-under-another-name": "from vllm import (LLM as  # the engine\n    Engine)\nllm = Engine('Qwen/Qwen2-7B', quantization='fp8', enforce_eager=True)\n",
    "comments-between-name-and-parenthesis": "m = (pipeline  # the task\n  # another\n)('text-generation', model='Qwen/Qwen2-1.5B', model_kwargs={'load_in_8bit': True})\n",
}


@pytest.mark.parametrize("body", list(KEPT.values()), ids=list(KEPT))
def test_a_loading_call_in_any_shape_is_found(tmp_path: Path, body: str) -> None:
    (tmp_path / "app.py").write_text(HEADER + body)
    assert python_may_hold_setup((HEADER + body).encode())
    ran = run_cli(str(tmp_path), "--isolated", "--format", "json", "--exit-zero", cwd=tmp_path)
    document = ran.json()
    assert document["errors"] == []
    assert {f["code"] for f in document["findings"]} & {"ECO101", "ECO103", "ECO104"}


# Files with trigger tokens that cannot hold a setup: never parsed, so even broken ones are
# not reported (a library's tokenizer module is none of ecolint's business).
DROPPED = {
    "tokenizer": "tok = AutoTokenizer.from_pretrained('x')\n",
    "config-attribute": "cfg = self.config_class.from_pretrained('x')\n",
    "self-and-cls": "a = self.from_pretrained('x')\nb = cls.from_pretrained('x')\n",
    "super": "m = super().from_pretrained('x')\nn = super(Model, self).from_pretrained('x')\n",
    "definition": "def from_pretrained(cls, name):\n    return name\n",
    "docstring-example": '"""\n>>> model = AutoModelForCausalLM.from_pretrained("x")\n>>> llm = LLM("x")\n"""\n',
    "comment": "# model = AutoModelForCausalLM.from_pretrained('x')\n",
    "f-string-literal-text": "msg = f\"Calling {cls.__name__}.from_pretrained('x')\"\n",
    "mention-of-vllm": "x = 'served with vLLM'\nMyLLM('x')\n",
    "import-without-call": "from transformers import pipeline\n",
    "re-export-under-its-own-name": "from .pipelines import pipeline as pipeline\nfrom vllm import LLM as LLM\n",
    # A banner of hashes after a loader's name: this once took exponential time (smol-course).
    "hash-banner-after-a-name": "from distilabel.pipeline import Pipeline\n\n"
    + "#" * 80
    + "\n# Run the pipeline\n"
    + "#" * 80
    + "\n",
}


@pytest.mark.parametrize("body", list(DROPPED.values()), ids=list(DROPPED))
def test_files_that_cannot_hold_a_setup_are_not_parsed(tmp_path: Path, body: str) -> None:
    broken = body + "def broken(:\n"
    assert not python_may_hold_setup(broken.encode())
    (tmp_path / "lib.py").write_text(broken)
    document = run_cli(str(tmp_path), "--isolated", "--format", "json", cwd=tmp_path).json()
    assert document["errors"] == [] and document["findings"] == []


@pytest.mark.parametrize(
    "source",
    [
        "# -*- coding: shift_jis -*-\nx = 'AutoModel.from_pretrained(m)'\n",  # a multi-byte encoding may hide a quote
        "x = f\"{'\"'}\" + AutoModel.from_pretrained('m')\n",  # Python 3.12 nesting the scan cannot pair
        "x = f\"{ # a comment (3.12)\n AutoModel.from_pretrained('m')}\"\n",
        'x = f"{\n  AutoModel.from_pretrained(m)}"\n',  # a replacement field over two lines (3.12)
    ],
)
def test_what_cannot_be_placed_for_sure_is_kept(source: str) -> None:
    assert python_may_hold_setup(source.encode())


def test_every_python_file_with_a_setup_in_the_repository_is_kept() -> None:
    """The fixtures, the demo and ecolint's own sources: every file the extractor finds a setup
    in passes the prefilter."""
    context = ExtractContext(root=REPO, read_text=lambda path: None)
    files = sorted(
        {
            *FIXTURES.rglob("*.py"),
            *(REPO / "examples").rglob("*.py"),
            *(REPO / "ecolint").rglob("*.py"),
            *(REPO / "tests").rglob("*.py"),
        }
    )
    with_setups = 0
    for path in files:
        data = path.read_bytes()
        try:
            setups = python_extractor.extract(path.name, data.decode("utf-8"), context)
        except Exception:  # noqa: BLE001 - files that do not parse hold no setup
            continue
        if setups:
            with_setups += 1
            assert python_may_hold_setup(data), path
    assert with_setups >= 10


def test_the_prefilter_looks_for_every_call_the_extractor_recognises() -> None:
    # A framework call in the extractor's table but not in LOADER_CALLS would never be read: the
    # prefilter drops a file that holds no other loading call.
    assert set(_API_CALLS) | {"from_pretrained", "from_quantized"} == LOADER_CALLS


# Argv lists a serving launcher starts from (a Modal function's subprocess, a BentoML command):
# a launcher's program named in a string. Each must reach the platform reader and give a setup.
ARGV_KEPT = {
    "vllm-serve": 'import subprocess\nsubprocess.Popen(["vllm", "serve", "Qwen/Qwen2-7B", "--enforce-eager", "--quantization", "fp8"])\n',
    "serve-on-the-next-line": 'import subprocess\ncmd = [\n    "vllm",\n    "serve",\n    "Qwen/Qwen2-7B",\n    "--enforce-eager",\n    "--quantization=fp8",\n]\nsubprocess.run(cmd)\n',
    "wrapper-first": 'import subprocess\nsubprocess.run(["nohup", "vllm", "serve", "Qwen/Qwen2-7B", "--enforce-eager", "--quantization", "fp8"])\n',
    "python-m-vllm-serve": 'import subprocess\nsubprocess.run(("python", "-m", "vllm", "serve", "Qwen/Qwen2-7B", "--enforce-eager", "--quantization", "fp8"))\n',
    "bare-program-last-in-a-tuple": 'import subprocess\nsubprocess.run(("nohup", "llama-server"))  # model and flags from the environment\n',
    "grown-after-the-program": 'import subprocess\ncmd = ["nohup", "vllm"]\ncmd += ["serve", "Qwen/Qwen2-7B", "--enforce-eager", "--quantization", "fp8"]\nsubprocess.run(cmd)\n',
    "returned-without-a-space": 'def command():\n    return("vllm", "serve", "Qwen/Qwen2-7B", "--enforce-eager", "--quantization", "fp8")\n',
    "subcommand-from-a-name": 'import subprocess\nSUB = "serve"\nsubprocess.run(["vllm", SUB, "Qwen/Qwen2-7B", "--enforce-eager", "--quantization", "fp8"])\n',
}


@pytest.mark.parametrize("body", list(ARGV_KEPT.values()), ids=list(ARGV_KEPT))
def test_an_argv_list_that_starts_a_launcher_is_kept(body: str) -> None:
    context = ExtractContext(root=REPO, read_text=lambda path: None)
    assert python_extractor.extract("serve.py", body, context), "the case must hold a setup"
    assert python_may_hold_setup(body.encode())


# A serving package's own files name its program in strings that are no command line: each
# would cost a parse of a large module, and none holds a setup.
ARGV_DROPPED = {
    "version-lookup": 'import importlib.metadata\nv = importlib.metadata.version("sglang")\n',
    "keyword-value": 'def bench(backend="sglang", n=1):\n    return backend\n',
    "comparison": 'def pick(backend):\n    return backend == "vllm", 1\n',
    "dict-entry": 'INFO = {"format": "sglang", "family": "x"}\n',
    "subscript": 'FUNCTIONS = {}\nFUNCTIONS["sglang"] = len\n',
    "call-argument": 'import os\npath = os.path.join("cache", "sglang")\n',
    "list-of-backends": 'BACKENDS = ["vllm", "sglang"]\nCHOICES = ("ollama", "tgi")\n',
    "package-list": 'PACKAGES = [\n    "sglang",\n    "sglang-kernel",\n]\n',
}


@pytest.mark.parametrize("body", list(ARGV_DROPPED.values()), ids=list(ARGV_DROPPED))
def test_a_launcher_named_in_a_string_that_is_no_command_is_not_parsed(body: str) -> None:
    context = ExtractContext(root=REPO, read_text=lambda path: None)
    assert python_extractor.extract("lib.py", body, context) == []
    assert not python_may_hold_setup(body.encode())


@pytest.mark.parametrize(
    "kind, text, kept",
    [
        # a launcher's word inside a longer word names no launcher: not read, so a broken
        # training config that says `videollama` is no file of ours to report
        ("yaml", b'model:\n  arch: video_llama\nrun:\n  output_dir: "output/videollama_stage1"\n', False),
        ("shell", b"python train.py --run-name myvllmtest\n", False),
        # where the word starts one, it counts: images, programs, modules, KubeAI's engines
        ("yaml", b"services:\n  llm:\n    image: ollama/ollama:0.5.7\n", True),
        ("dockerfile", b"FROM nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3\n", True),
        ("shell", b"python -mvllm.entrypoints.openai.api_server --model m\n", True),
        ("shell", b"CUDA_VISIBLE_DEVICES=0 vllm serve m\n", True),
        ("yaml", b"spec:\n  engine: OLlama\n", True),
    ],
)
def test_a_launcher_word_counts_where_it_starts_a_word(kind: str, text: bytes, kept: bool) -> None:
    assert may_hold_setup_bytes(kind, text) is kept


def test_a_broken_config_that_names_no_launcher_is_not_reported(tmp_path: Path) -> None:
    broken = 'model:\n  llama_model: "a/" or "b/"\n  key: 1\n  output_dir: "output/videollama_stage1"\n'
    (tmp_path / "stage1.yaml").write_text(broken)
    ran = run_cli(".", "--format", "json", "--no-cache", cwd=tmp_path)
    assert ran.json()["errors"] == []
