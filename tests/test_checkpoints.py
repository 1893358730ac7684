"""Pre-quantized checkpoints: what an id or a file name says the weights are, read from one
table (rules/checkpoints.yaml) by the launchers and the Python loaders alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

from ecolint.extract import ExtractContext
from ecolint.extract import python as python_extract
from ecolint.extract.launchers.vocab import checkpoint_format
from ecolint.setups import COMPUTE_DTYPE, PRECISION, QUANT_CONFIG


@pytest.mark.parametrize(
    "name,precision",
    [
        ("TheBloke/Llama-2-7B-Chat-GPTQ", "gptq"),
        ("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4", "gptq"),
        ("casperhansen/llama-3-8b-instruct-awq", "awq"),
        ("turboderp/Llama-3-8B-Instruct-exl2", "exl2"),
        ("neuralmagic/Meta-Llama-3-8B-Instruct-FP8", "fp8"),
        ("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16", "w4a16"),
        ("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", "w8a8"),
        ("THUDM/chatglm2-6b-int4", "int4-weights"),
        ("Qwen/Qwen-7B-Chat-Int8", "int8-weights"),
        ("unsloth/Llama-3.2-1B-Instruct-bnb-4bit", "nf4"),
        ("unsloth/mistral-7b-v0.3-bnb-4bit", "nf4"),
        ("models/llama-2-7b-chat.Q4_K_M.gguf", "gguf-q4"),
        ("mlx-community/Mistral-7B-Instruct-v0.3-4bit", "mlx-4bit"),
        ("meta-llama/Llama-3.1-8B-Instruct", None),
        ("Qwen/Qwen2.5-14B", None),
    ],
)
def test_a_checkpoint_name_says_its_precision(name: str, precision: str | None) -> None:
    found = checkpoint_format(name)
    assert (found.precision if found else None) == precision


def _setup(source: str):
    context = ExtractContext(Path("/nonexistent"), lambda path: None)
    (setup,) = python_extract.extract("serve.py", source, context)
    return setup


def test_torch_dtype_on_a_gptq_checkpoint_is_its_compute_dtype() -> None:
    setup = _setup(
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        'm = AutoModelForCausalLM.from_pretrained("TheBloke/Llama-2-7B-GPTQ", torch_dtype=torch.float16)\n'
    )
    assert (setup.get(PRECISION), setup.get(QUANT_CONFIG), setup.get(COMPUTE_DTYPE)) == ("gptq", "gptq", "fp16")


def test_an_explicit_quantization_config_outranks_the_name() -> None:
    setup = _setup(
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
        'm = AutoModelForCausalLM.from_pretrained("org/model-int4-export", '
        "quantization_config=BitsAndBytesConfig(load_in_8bit=True))\n"
    )
    assert setup.get(PRECISION) == "int8"


def test_a_bnb_4bit_checkpoint_below_the_crossover_asks_for_its_base_checkpoint() -> None:
    ran = run_cli(str(FIXTURES / "python" / "prequantized_checkpoints.py"), "--format", "json", "--exit-zero")
    (finding,) = [f for f in json.loads(ran.output)["findings"] if f["code"] == "ECO102"]
    assert finding["setup"]["model"] == "unsloth/Llama-3.2-1B-Instruct-bnb-4bit"
    assert "load the base checkpoint" in finding["message"]
    assert finding["fix"]["applicability"] == "manual" and "base checkpoint" in finding["fix"]["snippet"]


def test_from_quantized_loads_the_checkpoint_in_its_own_format(tmp_path: Path) -> None:
    """AutoGPTQ and GPTQModel (and their subclasses, such as a remote-code model's
    `…QForCausalLM`) load GPTQ; AutoAWQ loads AWQ; a name that says the format decides first."""
    from ecolint import knowledge
    from ecolint.config import Config
    from ecolint.engine import setups_in

    source = (
        "from auto_gptq import AutoGPTQForCausalLM\n"
        "from awq import AutoAWQForCausalLM\n"
        "from xcomposer import InternLMXComposerQForCausalLM\n"
        "a = AutoGPTQForCausalLM.from_quantized('org/coder')\n"
        "b = AutoAWQForCausalLM.from_quantized('org/chat')\n"
        "c = InternLMXComposerQForCausalLM.from_quantized('org/vl-chat')\n"
        "d = AutoGPTQForCausalLM.from_quantized('org/chat-AWQ')\n"
    )
    path = tmp_path / "load.py"
    path.write_text(source)
    found, _ = setups_in(path, knowledge.load(), Config())
    assert [(s.origin.line, s.get("precision")) for s, _ in found] == [(4, "gptq"), (5, "awq"), (6, "gptq"), (7, "awq")]
