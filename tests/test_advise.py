"""`ecolint advise`: the seed's worked example, the skill's default handling of every missing
input, the JSON shape, and the provenance of every number."""

from __future__ import annotations

import pytest
from advisor_numbers import unexplained_numbers
from conftest import run_cli

SEED = ("advise", "--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B", "--precision", "fp16")


def advise_json(*args: str) -> dict:
    ran = run_cli("advise", *args, "--format", "json")
    assert ran.exit_code == 0, ran.output + ran.stderr
    return ran.json()


def questions(document: dict) -> set[str]:
    return {q["input"] for q in document["questions"]}


# -- the seed's worked example ----------------------------------------------------------------


def test_seed_example_recommends_nf4_with_the_skill_figures() -> None:
    ran = run_cli(*SEED)
    assert ran.exit_code == 0, ran.stderr
    lines = ran.output.splitlines()
    assert lines[0].startswith("Recommend NF4 for Qwen/Qwen2-7B on RTX 4090D: 71.2 → 47.0 J/request (−34%)")
    assert "Baseline FP16 → 71.2 J/request · Recommended NF4 → 47.0 J/request (−34%)" in ran.output
    assert "Confidence ★★★" in ran.output


def test_seed_example_sections_come_in_order() -> None:
    text = run_cli(*SEED).output
    order = [
        "Recommend NF4",
        "Baseline FP16 →",
        "\nEvidence\n",
        "Confidence ★★★",
        "Config (",
        "Risks and boundaries",
        "Questions",
        "Evidence: zenodo.org",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions), positions
    assert text.rstrip().splitlines()[-1].startswith("Evidence: zenodo.org/records/18900289")


def test_seed_example_json() -> None:
    document = advise_json(*SEED[1:])
    assert document["command"] == "advise" and document["mode"] == "optimize"
    assert document["recommended"]["precision"] == "nf4"
    assert document["recommended"]["energy"]["value"] == 47.0
    assert document["baseline"]["energy"]["value"] == 71.2
    assert document["comparison"]["change"]["value"] == -34
    assert document["confidence"]["stars"] == 3
    assert {row["id"] for row in document["evidence"]} == {"skill-4090d-qwen2-7b-fp16", "skill-4090d-qwen2-7b-nf4"}


def test_quality_caveats_quote_the_rows() -> None:
    text = run_cli(*SEED).output
    assert "llm_int8_threshold=0.0 perplexity vs FP16" in text and "+25.38% on 01-ai/Yi-1.5-6B" in text
    assert "NF4 perplexity vs FP16 +12.057% on Qwen/Qwen2-7B" in text


def test_json_shape() -> None:
    document = advise_json(*SEED[1:])
    assert list(document) == [
        "version",
        "command",
        "mode",
        "objective",
        "conclusion",
        "comparison",
        "inputs",
        "assumed",
        "setup",
        "baseline",
        "recommended",
        "options",
        "evidence",
        "confidence",
        "config",
        "risks",
        "boundaries",
        "questions",
        "verdict",
        "footer",
    ]
    option = document["options"][0]
    assert set(option) == {"precision", "label", "eligible", "reason", "energy", "throughput", "memory", "confidence"}
    assert set(option["energy"]) == {
        "value",
        "unit",
        "kind",
        "says",
        "rows",
        "baseline_fp16",
        "delta_pct",
        "delta_range_pct",
        "derived",
        "confidence",
        "tag",
    }
    assert set(document["config"]) == {"framework", "mapping", "defaulted", "precision", "line", "available"}
    assert set(document["comparison"]) == {"line", "source", "tag", "change", "rows"}


# -- missing inputs: the skill's default handling ------------------------------------------------


def test_no_gpu_assumes_the_closest_platform_at_one_star_and_asks() -> None:
    document = advise_json("--model", "Qwen/Qwen2-7B", "--precision", "fp16")
    assert document["assumed"]["gpu"] == "RTX 4090D"
    assert document["confidence"]["stars"] == 1
    assert "gpu" in questions(document)
    assert all(
        o["energy"]["tag"] == "cross-architecture" for o in document["options"] if o["energy"]["value"] is not None
    )
    text = run_cli("advise", "--model", "Qwen/Qwen2-7B").output
    assert "RTX 4090D (assumed)" in text and "[cross-architecture]" in text and "Which GPU" in text


def test_unmeasured_gpu_uses_the_architecture_with_a_band() -> None:
    document = advise_json("--gpu", "A100", "--model", "7B", "--precision", "fp16")
    assert document["setup"]["architecture"] == "ampere"
    assert document["confidence"]["stars"] == 2
    assert document["recommended"]["energy"]["tag"] == "same-architecture"
    assert "gpu" not in questions(document)
    text = run_cli("advise", "--gpu", "A100", "--model", "7B").output
    assert "±15–25%" in text and "A800" in text


def test_non_nvidia_gpu_says_results_may_not_transfer() -> None:
    ran = run_cli("advise", "--gpu", "MI300X", "--model", "Qwen/Qwen2-7B")
    assert "No measured data available; results may not transfer." in ran.output
    assert advise_json("--gpu", "MI300X", "--model", "Qwen/Qwen2-7B")["confidence"]["stars"] == 1


def test_unknown_model_asks_for_the_order_of_magnitude() -> None:
    document = advise_json("--gpu", "RTX 4090D", "--model", "acme/support-bot")
    assert document["recommended"] is None
    assert "model" in questions(document)
    question = next(q["question"] for q in document["questions"] if q["input"] == "model")
    assert "1B / 3B / 7B / 13B / 30B+" in question
    assert document["conclusion"].startswith("Cannot rank the options without the model size")
    assert all(o["energy"]["value"] is None for o in document["options"])  # never a guess


def test_no_model_at_all_asks_for_it() -> None:
    assert "model" in questions(advise_json("--gpu", "T4"))


def test_model_from_the_name_table() -> None:
    document = advise_json("--gpu", "RTX 4090D", "--model", "microsoft/Phi-3-mini-4k-instruct")
    assert document["setup"]["params_b"] == 3.8 and document["setup"]["params_source"] == "table"


def test_model_given_as_a_size() -> None:
    document = advise_json("--gpu", "T4", "--model", "30B+")
    assert document["setup"]["params_b"] == 30.0
    assert "beyond-measured-range" in document["boundaries"]
    assert any("given as a size" in reason for reason in document["confidence"]["reasons"])


def test_no_precision_assumes_fp16_out_loud() -> None:
    document = advise_json("--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B")
    assert document["assumed"]["precision"] == "fp16"
    assert "precision" in questions(document)
    assert "Assumed FP16: no precision given" in document["risks"]


def test_no_batch_size_assumes_one_and_quotes_the_batching_headline() -> None:
    document = advise_json(*SEED[1:])
    assert document["assumed"]["batch_size"] == 1
    assert "batch_size" in questions(document)
    assert any("energy/req drops 30–60% under dynamic batching" in risk for risk in document["risks"])
    with_batch = advise_json(*SEED[1:], "--batch-size", "8")
    assert "batch_size" not in questions(with_batch)


def test_no_objective_assumes_energy_and_says_it_can_change() -> None:
    document = advise_json(*SEED[1:])
    assert document["objective"] == "energy" and "objective" in questions(document)
    assert any("can change the ranking" in risk for risk in document["risks"])


def test_no_framework_defaults_the_config_to_transformers_bitsandbytes() -> None:
    document = advise_json(*SEED[1:])
    assert document["config"]["defaulted"] is True
    assert document["config"]["mapping"] == "transformers + bitsandbytes"
    assert 'bnb_4bit_quant_type="nf4"' in document["config"]["line"] and "Qwen/Qwen2-7B" in document["config"]["line"]
    assert "defaulted: no --framework given" in run_cli(*SEED).output


def test_framework_config_lines() -> None:
    vllm = advise_json(*SEED[1:], "--framework", "vllm")["config"]
    assert vllm["defaulted"] is False and vllm["line"].startswith(
        "vllm serve Qwen/Qwen2-7B --quantization bitsandbytes"
    )
    tgi = advise_json(*SEED[1:], "--framework", "tgi")["config"]
    assert "--quantize bitsandbytes-nf4" in tgi["line"]


def test_int8_asks_about_the_threshold() -> None:
    document = advise_json("--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B", "--precision", "int8")
    assert "threshold" in questions(document)
    assert document["baseline"]["energy"]["value"] == 52.1


# -- decisions -------------------------------------------------------------------------------------


def test_small_model_keeps_fp16() -> None:
    document = advise_json("--gpu", "T4", "--model", "Qwen/Qwen2-1.5B", "--precision", "fp16")
    assert document["recommended"]["precision"] == "fp16"
    assert document["conclusion"].startswith("Keep FP16")
    assert "below the Turing NF4 crossover (3.2B)" in document["conclusion"]


def test_nf4_below_the_crossover_recommends_fp16() -> None:
    document = advise_json("--gpu", "T4", "--model", "Qwen/Qwen2-1.5B", "--precision", "nf4")
    assert document["recommended"]["precision"] == "fp16"


def test_a_measured_row_that_disagrees_keeps_fp16() -> None:
    # A800 at 14B: above the crossover, but the NF4 row measured +2.5%.
    document = advise_json("--gpu", "A800", "--model", "Qwen/Qwen2.5-14B", "--precision", "bf16")
    assert document["recommended"]["precision"] == "bf16"
    assert any("+2.5%" in risk and "row decides" in risk for risk in document["risks"])


def test_nearest_row_is_said_to_be_the_nearest_row() -> None:
    document = advise_json("--gpu", "RTX 5090", "--model", "7B", "--precision", "fp16")
    assert document["recommended"]["precision"] == "nf4"
    assert document["comparison"]["source"].startswith("nearest measured row on Blackwell")
    assert (
        document["comparison"]["line"]
        == "Baseline FP16 → 5508.56 J/1k tok · Recommended NF4 → 4877.88 J/1k tok (−11.4%)"
    )


def test_recommend_mode_ranks_options_under_a_memory_limit() -> None:
    document = advise_json("--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B", "--max-memory", "5")
    assert document["mode"] == "recommend"
    by_key = {o["precision"]: o for o in document["options"]}
    assert by_key["fp16"]["eligible"] is False and "over --max-memory" in by_key["fp16"]["reason"]
    assert by_key["nf4"]["memory"]["value"] == 3.5
    assert by_key["nf4"]["memory"]["derived"][0]["formula"] == "7.0 × 0.5"
    assert document["recommended"]["precision"] == "nf4"
    assert (
        "Options, ranked by energy"
        in run_cli("advise", "--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B", "--max-memory", "5").output
    )


def test_nothing_fits_says_so() -> None:
    document = advise_json("--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B", "--max-memory", "1")
    assert document["recommended"] is None
    assert document["conclusion"].startswith("No option fits")


def test_objective_memory_and_throughput() -> None:
    assert advise_json(*SEED[1:], "--objective", "memory")["recommended"]["precision"] == "nf4"
    throughput = advise_json(*SEED[1:], "--objective", "throughput")
    assert throughput["recommended"]["throughput"]["value"] == 43.1
    assert "objective: throughput" in throughput["conclusion"]


# -- numbers and errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        SEED[1:],
        ("--model", "Qwen/Qwen2-7B"),
        ("--gpu", "A100", "--model", "7B", "--precision", "bf16", "--batch-size", "8"),
        ("--gpu", "T4", "--model", "Qwen/Qwen2-1.5B", "--precision", "nf4"),
        ("--gpu", "RTX 5090", "--model", "13B", "--max-memory", "9", "--framework", "vllm"),
        ("--gpu", "MI300X", "--model", "acme/bot"),
        ("--gpu", "A800", "--model", "Qwen/Qwen2-7B", "--precision", "int8-default", "--objective", "throughput"),
    ],
)
def test_every_number_comes_from_the_knowledge_base(args: tuple[str, ...]) -> None:
    document = advise_json(*args)
    assert unexplained_numbers(document, args) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (("--precision", "int3"), "unknown precision 'int3'"),
        (("--framework", "tensorrt"), "unknown framework 'tensorrt'"),
        (("--model", " "), "--model is empty"),
        (("--batch-size", "0"), "--batch-size"),
        (("--max-memory", "-2"), "--max-memory"),
        (("--objective", "speed"), "--objective"),
    ],
)
def test_bad_input_is_a_message_and_exit_2(args: tuple[str, ...], message: str) -> None:
    ran = run_cli("advise", *args)
    assert ran.exit_code == 2
    assert message in ran.stderr
    assert "Traceback" not in ran.output + ran.stderr


def test_advice_catalogue_is_complete() -> None:
    """Every framework has a config line (or says why not) for every option advise weighs."""
    from ecolint import knowledge
    from ecolint.advisor.inputs import FRAMEWORKS, advice_data, option

    data = advice_data(knowledge.load())
    assert data["default_framework"] in FRAMEWORKS
    for key in data["candidates"]:
        opt = option(knowledge.load(), key)
        assert opt.bytes_per_weight is not None and opt.rows is not None
        for framework in FRAMEWORKS:
            entry = data["configs"][framework][key]
            assert entry if isinstance(entry, str) else entry["line"], (framework, key)
