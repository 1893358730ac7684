"""One answer (issue 14): `check`, `explain`, `advise` and `compare` say the same thing about the
same setup. A grid of GPUs × model sizes × precisions × frameworks is written as code (for check
and explain) and described on the command line (for advise and compare); every command must give
the same crossover verdict (reported or not, below or above), the same numbers (crossover,
overhead, quoted row ids) and the same confidence."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from ecolint import knowledge
from ecolint.advisor.advise import advise
from ecolint.advisor.compare import compare
from ecolint.advisor.explain import explain
from ecolint.advisor.inputs import Inputs
from ecolint.config import Config
from ecolint.engine import Selection, run

GPUS = ("T4", "A800", "RTX 4090", "RTX 5090", "H100", "L4")
MODELS = {
    "0.5B": "Qwen/Qwen2.5-0.5B-Instruct",
    "1.5B": "Qwen/Qwen2.5-1.5B-Instruct",
    "3B": "Qwen/Qwen2.5-3B-Instruct",
    "7B": "Qwen/Qwen2.5-7B-Instruct",
    "14B": "Qwen/Qwen2.5-14B-Instruct",
}
# precision token (advise/compare) → how transformers code writes it
TRANSFORMERS = {
    "nf4": 'quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")',
    "int8-default": "quantization_config=BitsAndBytesConfig(load_in_8bit=True)",
    "int8": "quantization_config=BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)",
    "fp16": "torch_dtype=torch.float16",
}
VLLM = {
    "nf4": 'quantization="bitsandbytes"',
    "fp16": 'dtype="float16"',
}
# the same server launched from a shell script (one flag parser for every launcher)
VLLM_SERVE = {"nf4": "--quantization bitsandbytes", "fp16": "--dtype float16"}
CROSSOVER_CODES = {"ECO102", "ECO103"}


def _code(framework: str, model: str, precision: str) -> str:
    if framework == "vllm-serve":
        return f"#!/bin/sh\nvllm serve {model} {VLLM_SERVE[precision]}\n"
    if framework == "vllm":
        return f'from vllm import LLM\n\nllm = LLM(model="{model}", {VLLM[precision]})\n'
    return (
        "import torch\n"
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n\n"
        f'model = AutoModelForCausalLM.from_pretrained("{model}", {TRANSFORMERS[precision]})\n'
    )


CASES = [
    (gpu, size, precision, framework)
    for gpu, size in itertools.product(GPUS, MODELS)
    for framework, table in (("transformers", TRANSFORMERS), ("vllm", VLLM), ("vllm-serve", VLLM_SERVE))
    for precision in table
]


@pytest.fixture(scope="module")
def kb() -> knowledge.Knowledge:
    return knowledge.load()


def _checked(path: Path, gpu: str, kb: knowledge.Knowledge) -> list[Any]:
    codes = [code for code, spec in kb.rules.items() if spec.enabled_by_default]
    return run([path], kb, Config(), Selection(codes=codes, gpu=gpu)).findings


@pytest.mark.parametrize(("gpu", "size", "precision", "framework"), CASES, ids=["-".join(c) for c in CASES])
def test_every_command_gives_one_answer(
    tmp_path: Path, kb: knowledge.Knowledge, gpu: str, size: str, precision: str, framework: str
) -> None:
    model = MODELS[size]
    path = tmp_path / ("serve.sh" if framework == "vllm-serve" else "serve.py")
    path.write_text(_code(framework, model, precision), encoding="utf-8")
    framework = framework.removesuffix("-serve")

    findings = _checked(path, gpu, kb)
    explained = explain(str(path), kb, Config(), gpu=gpu)
    assert len(explained["setups"]) == 1, explained
    from_explain = explained["setups"][0]["advice"]
    from_advise = advise(Inputs(gpu=gpu, model=model, precision=precision, framework=framework), kb)
    others = ["fp16", "nf4"] if precision != "nf4" else ["nf4", "fp16"]
    compared = compare([precision] + [p for p in others if p != precision], Inputs(gpu=gpu, model=model), kb)
    column = compared["columns"][0]

    # The same verdict, numbers and confidence from explain, advise and compare.
    verdict = from_advise["verdict"]
    assert from_explain["verdict"] == verdict
    assert column["verdict"] == verdict
    stars = {from_advise["confidence"]["stars"], from_explain["confidence"]["stars"], column["confidence"]}
    assert len(stars) == 1, stars

    crossover = [f for f in findings if f.code in CROSSOVER_CODES]
    if precision == "fp16":
        assert verdict is None and not crossover
        return
    assert verdict is not None
    # check reports it exactly when the advisor says it is below the crossover, with its numbers.
    assert bool(crossover) == verdict["reported"] == bool(verdict["below"])
    assert stars == {f.confidence for f in findings} or not findings
    if crossover:
        (finding,) = crossover
        assert finding.code == verdict["code"]
        assert finding.overhead == verdict["overhead"]
        assert [row["id"] for row in finding.evidence] == verdict["rows"]
        assert f"({verdict['crossover_b']:g}B)" in finding.message
        assert finding.confidence == verdict["confidence"]
    # advise never recommends a precision below its crossover, nor INT8 at the default threshold.
    recommended = from_advise["recommended"]
    if verdict["below"] and recommended is not None:
        assert recommended["precision"] not in (precision, "int8-default")
    # compare names no energy winner advise would not recommend for the same setup.
    winner = compared["winners"]["energy"]["name"]
    labels = {option["label"]: option for option in from_advise["options"]}
    if winner is not None and winner in labels:
        assert labels[winner]["eligible"], (winner, compared["winners"]["energy"])


def test_compare_ranks_like_with_like(kb: knowledge.Knowledge) -> None:
    """The reported case: INT8 on a 3B model was crowned with a 6B model's cross-day row."""
    compared = compare(["int8", "fp16", "nf4"], Inputs(gpu="RTX 4090", model="Qwen/Qwen2.5-3B"), kb)
    int8 = compared["columns"][0]
    assert int8["energy"]["rows"] == ["ede-4090d-yi-1.5-6b-int8-pure"]
    # INT8's figure is the lowest, but it is below its crossover: FP16 wins, as advise keeps it.
    assert compared["winners"]["energy"]["name"] == "FP16"
    assert (
        "INT8 (llm_int8_threshold=0.0) has a lower figure, but advise would not recommend it"
        in (compared["winners"]["energy"]["basis"])
    )
    assert any("measured on another day" in note for note in int8["notes"])
    advised = advise(Inputs(gpu="RTX 4090", model="Qwen/Qwen2.5-3B"), kb)
    assert any(
        risk.startswith("Row ede-4090d-yi-1.5-6b-int8-pure: cross-day: the FP16 baseline was measured on another day")
        for risk in advised["risks"]
    )
    assert "not like with like" in compared["winners"]["throughput"]["basis"]


def test_int8_is_never_the_energy_winner_without_a_same_session_row(kb: knowledge.Knowledge) -> None:
    # 7B on the RTX 4090D: above the INT8 crossover, and the skill's J/request table shows INT8
    # at 52.1 J against FP16's 71.2 J; no same-day measured row says INT8 saves energy.
    compared = compare(["int8", "fp16"], Inputs(gpu="RTX 4090D", model="Qwen/Qwen2-7B"), kb)
    winner = compared["winners"]["energy"]
    assert winner["name"] == "FP16" and "no same-session measured row" in winner["basis"]
    advised = advise(Inputs(gpu="RTX 4090D", model="Qwen/Qwen2-7B", precision="int8"), kb)
    assert advised["recommended"] is None or advised["recommended"]["precision"] != "int8"


def test_explain_accepts_every_input_it_asks_for(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(
        "import torch\nfrom transformers import AutoModelForCausalLM\n\n"
        "model = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n",
        encoding="utf-8",
    )
    asked = json.loads(run_cli("explain", str(path), "--format", "json").output)
    assert {"gpu", "model", "batch_size"} <= {q["input"] for q in asked["setups"][0]["advice"]["questions"]}
    given = run_cli(
        *("explain", str(path), "--gpu", "T4", "--model", "3B", "--precision", "nf4", "--batch-size", "8"),
        *("--format", "json"),
    )
    assert given.exit_code == 0, given.output
    advice = json.loads(given.output)["setups"][0]["advice"]
    assert advice["setup"]["params_b"] == 3.0 and advice["setup"]["batch_size"] == 8
    assert not {q["input"] for q in advice["questions"]} & {"gpu", "model", "precision", "batch_size"}
    assert advice["verdict"]["below"] is True  # 3B NF4 on Turing: below the 3.2B crossover


def test_explain_includes_the_findings_check_gives(tmp_path: Path, kb: knowledge.Knowledge) -> None:
    path = tmp_path / "serve.py"
    path.write_text(_code("transformers", MODELS["1.5B"], "int8-default"), encoding="utf-8")
    document = explain(str(path), kb, Config(), gpu="A800")
    checked = [(f.code, f.location.line, f.message) for f in _checked(path, "A800", kb)]
    assert [(f["code"], f["line"], f["message"]) for f in document["findings"]] == checked
    assert {f["code"] for f in document["setups"][0]["findings"]} == {"ECO101", "ECO103"}
    text = run_cli("explain", str(path), "--gpu", "A800").output
    assert "check: " in text and "ECO103" in text


def test_explain_treats_servers_as_batched(tmp_path: Path) -> None:
    path = tmp_path / "serve.sh"
    path.write_text("vllm serve Qwen/Qwen2.5-7B-Instruct --gpu-memory-utilization 0.9\n", encoding="utf-8")
    advice = json.loads(run_cli("explain", str(path), "--gpu", "A800", "--format", "json").output)["setups"][0][
        "advice"
    ]
    assert "batch_size" not in advice["assumed"]
    assert "batch_size" not in {q["input"] for q in advice["questions"]}
    assert any("continuous batching" in risk for risk in advice["risks"])


def test_the_footer_names_the_sessions_and_dates_of_the_quoted_rows(tmp_path: Path, kb: knowledge.Knowledge) -> None:
    advised = advise(Inputs(gpu="RTX 5090", model="Qwen/Qwen2.5-3B", precision="nf4"), kb)
    quoted = {row["session"] for row in advised["evidence"] if row.get("session")}
    assert quoted
    for session_id in quoted:
        session = kb.sessions[session_id]
        assert f"session {session_id} ({session.gpu}, {session.date or 'date not stated'};" in advised["footer"]
    path = tmp_path / "serve.py"
    path.write_text(_code("transformers", MODELS["1.5B"], "nf4"), encoding="utf-8")
    text = run_cli("check", str(path), "--gpu", "T4").output
    rows = {row["id"]: row for f in _checked(path, "T4", kb) for row in f.evidence}
    for row in rows.values():
        if row.get("session"):
            assert f"Rows from session {row['session']} " in text and row["id"] in text
    assert text.rstrip().splitlines()[-1].startswith("Evidence: zenodo.org")


@pytest.mark.parametrize(("gpu", "size"), list(itertools.product(GPUS, MODELS)))
def test_compare_names_the_energy_winner_advise_recommends(kb: knowledge.Knowledge, gpu: str, size: str) -> None:
    """The options advise weighs, compared side by side: the same winner, or the same silence."""
    advised = advise(Inputs(gpu=gpu, model=MODELS[size], precision="fp16"), kb)
    compared = compare(["fp16", "nf4", "int8"], Inputs(gpu=gpu, model=MODELS[size]), kb)
    recommended = advised["recommended"]
    assert compared["winners"]["energy"]["name"] == (recommended and recommended["label"])


def test_a_matched_session_moves_the_crossover_alike_in_check_and_explain(
    tmp_path: Path, kb: knowledge.Knowledge
) -> None:
    """RTX 5090 on torch 2.14 / bitsandbytes 0.50.2: session rtx5090-2026-09-20 puts the NF4
    crossover near 1.8B, so NF4 on a 3B model is above it for check and explain alike."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("torch==2.14.0\nbitsandbytes==0.50.2\n", encoding="utf-8")
    path = tmp_path / "src" / "serve.py"
    path.parent.mkdir()
    for size, below in (("3B", False), ("1.5B", True)):
        path.write_text(_code("transformers", MODELS[size], "nf4"), encoding="utf-8")
        findings = [f for f in _checked(path, "RTX 5090", kb) if f.code == "ECO102"]
        verdict = explain(str(path), kb, Config(), gpu="RTX 5090")["setups"][0]["advice"]["verdict"]
        assert verdict["crossover_b"] == 1.8 and verdict["below"] is below
        assert "session rtx5090-2026-09-20" in verdict["moved"]
        assert bool(findings) is below
        if findings:
            assert [row["id"] for row in findings[0].evidence] == verdict["rows"]
            assert verdict["moved"] in findings[0].notes


def test_an_unknown_model_size_gets_the_same_stars_from_every_command(tmp_path: Path) -> None:
    """check rated a measured GPU with an unresolved model ★★★ while advise said ★☆☆: one rule
    (resolve.capped_for_size) now decides, ★★☆ with its reason, for all four commands."""
    path = tmp_path / "serve.py"
    path.write_text('import os\n\nfrom vllm import LLM\n\nllm = LLM(model=os.environ["MODEL_ID"], max_num_seqs=1)\n')
    reason = "model size unknown: numbers from the nearest measured size (★★★ needs a known size)"
    checked = run_cli("check", "--isolated", "--gpu", "A800", str(path)).output
    assert "ECO105 [★★☆]" in checked and f"note      {reason}" in checked
    advised = run_cli("advise", "--gpu", "A800").output
    assert f"Confidence ★★☆  A800 is a measured GPU; {reason}" in advised
    explained = run_cli("explain", str(path), "--gpu", "A800").output
    assert f"Confidence ★★☆  A800 is a measured GPU; {reason}" in explained
    compared = json.loads(run_cli("compare", "fp16", "nf4", "--gpu", "A800", "--format", "json").output)
    assert {column["confidence"] for column in compared["columns"]} == {2}
    # a known size on the same GPU: the direct measurement's ★★★, from every command alike
    sized = run_cli("advise", "--gpu", "A800", "--model", "Qwen/Qwen2.5-7B-Instruct").output
    assert "Confidence ★★★" in sized
