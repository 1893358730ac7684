"""Fix text fits the setup (issue 14): a pipeline called per prompt gets one call over the list
with batch_size=, a model's generate() in a loop one padded batch, generate() per web request a
batching server; a server launched from a command line gets its flag, the same server used from
Python its API, never the other."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

CASES = {
    "pipeline_loop.py": (
        "from transformers import pipeline\n\n"
        'pipe = pipeline("text-generation", model="Qwen/Qwen2.5-1.5B-Instruct")\n'
        'for prompt in open("prompts.txt").read().splitlines():\n'
        "    out = pipe(prompt)\n",
        "ECO105",
        ["fix       pipe(prompts, batch_size=16)", "the pipeline pipe() called once per prompt in a loop"],
        ["model.generate", "generate() called"],
    ),
    "generate_loop.py": (
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        'tok = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct")\n'
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct")\n'
        'for prompt in open("prompts.txt").read().splitlines():\n'
        '    out = model.generate(**tok(prompt, return_tensors="pt"))\n',
        "ECO105",
        ['fix       model.generate(**tokenizer(prompts, return_tensors="pt", padding=True))'],
        ["pipe(", "pipeline("],
    ),
    "serve.sh": (
        "vllm serve Qwen/Qwen2.5-7B-Instruct --max-num-seqs 1 --quantization fp8 --enforce-eager\n",
        "ECO104,ECO105",
        ["fix       drop --max-num-seqs 1", "fix       remove --enforce-eager"],
        ["llm.generate", "max_num_seqs=", "enforce_eager="],
    ),
    "offline.py": (
        "from vllm import LLM\n\n"
        'llm = LLM(model="Qwen/Qwen2.5-7B-Instruct", max_num_seqs=1, quantization="fp8", enforce_eager=True)\n',
        "ECO104,ECO105",
        ["fix       llm.generate(prompts) with the whole list", "fix       remove enforce_eager=True"],
        ["--max-num-seqs", "--enforce-eager"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fix_text_fits_how_the_model_is_served(tmp_path: Path, name: str) -> None:
    text, codes, said, unsaid = CASES[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    output = run_cli("check", "--isolated", "--select", codes, "--gpu", "H100", name, cwd=tmp_path).output
    for line in said:
        assert line in output, output
    for words in unsaid:
        assert words not in output, output


def test_generate_per_web_request_gets_a_batching_server_not_a_loop_rewrite() -> None:
    output = run_cli("check", "--isolated", "--select", "ECO105", "fixtures/python/server_fastapi.py").output
    assert "generate() called once per web request" in output
    assert "fix       serve the model from a continuous-batching server (vLLM, TGI, SGLang)" in output
    assert "padding=True" not in output
