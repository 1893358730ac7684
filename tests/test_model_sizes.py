"""Model sizes the way ids write them, and mixtures of experts kept apart (active vs total)."""

from __future__ import annotations

import pytest

from ecolint import knowledge
from ecolint.resolve import model_size

KB = knowledge.load()


@pytest.mark.parametrize(
    "model_id,params",
    [
        ("h2oai/h2ogpt-oig-oasst1-512-6_9b", 6.9),  # pythia-6.9b spelled with an underscore
        ("EleutherAI/pythia-6.9b", 6.9),
        ("Qwen/qwen-1b5", 1.5),
        ("facebook/opt-125m", 0.125),
        ("./models/qwen2_7b", 7.0),  # "2_7b" after a letter is Qwen2 at 7B, not 2.7B
        ("THUDM/chatglm3-6b", 6.0),
    ],
)
def test_dense_sizes_as_ids_write_them(model_id: str, params: float) -> None:
    size = model_size(model_id, KB)
    assert size is not None and size.params_b == pytest.approx(params) and not size.active


@pytest.mark.parametrize(
    "model_id,active,total",
    [
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", 12.9, 46.7),
        ("mistralai/Mixtral-8x22B-v0.1", 39.0, 141.0),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 17.0, 109.0),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", 17.0, 400.0),
        ("Qwen/Qwen3-30B-A3B", 3.3, 30.5),
        ("openai/gpt-oss-20b", 3.6, 21.0),
        ("Qwen/Qwen2-57B-A14B-Instruct", 14.0, 57.0),  # not in the table: "-A14B" names the active count
    ],
)
def test_mixtures_of_experts_keep_active_and_total_apart(model_id: str, active: float, total: float) -> None:
    size = model_size(model_id, KB)
    assert size is not None and size.active
    assert size.params_b == pytest.approx(active)
    assert size.total_b == pytest.approx(total) and size.memory_b == pytest.approx(total)


@pytest.mark.parametrize("model_id", ["my-org/custom-4x7b-moe", "my-org/Foo-17B-16E"])
def test_an_unlisted_mixture_has_no_size_rather_than_a_wrong_one(model_id: str) -> None:
    # "4x7b" is not 7B dense, and "17B-16E" names the active count of an unknown total.
    assert model_size(model_id, KB) is None


def test_a_mixture_of_experts_finding_says_the_evidence_is_dense(tmp_path) -> None:
    from ecolint.config import Config
    from ecolint.engine import Selection, run

    (tmp_path / "serve.py").write_text(
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
        "q = BitsAndBytesConfig(load_in_8bit=True)\n"
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen3-30B-A3B", quantization_config=q)\n'
        'model.generate(**tokenizer(["a", "b"], return_tensors="pt", padding=True))\n',
        encoding="utf-8",
    )
    result = run([tmp_path], KB, Config(), Selection(codes=["ECO101", "ECO103"]), cwd=tmp_path)
    below = [f for f in result.findings if f.code == "ECO103"]
    assert below, [f.code for f in result.findings]  # 3.3B active is below every INT8 crossover
    assert any("mixture of experts" in note.lower() for note in below[0].notes)
