"""`ecolint compare`: precisions or GPUs side by side, one winner per dimension, a source for
every number, n/a where no row has the figure."""

from __future__ import annotations

import pytest
from advisor_numbers import unexplained_numbers
from conftest import run_cli

SEED = ("compare", "nf4", "int8", "--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B")


def compare_json(*args: str) -> dict:
    ran = run_cli("compare", *args, "--format", "json")
    assert ran.exit_code == 0, ran.output + ran.stderr
    return ran.json()


def test_seed_example_nf4_wins_energy() -> None:
    document = compare_json(*SEED[1:])
    nf4, int8 = document["columns"]
    assert (nf4["name"], nf4["energy"]["value"], nf4["energy"]["unit"]) == ("NF4", 47.0, "J/request")
    assert (int8["energy"]["value"], int8["energy"]["unit"]) == (52.1, "J/request")
    assert document["winners"]["energy"] == {"name": "NF4", "basis": "lowest J/request"}
    assert nf4["confidence"] == int8["confidence"] == 3
    assert document["overall"] is None  # no --objective: no single winner


def test_seed_example_text() -> None:
    ran = run_cli(*SEED)
    assert ran.exit_code == 0
    assert "47.0 J/request" in ran.output and "52.1 J/request" in ran.output
    assert "energy NF4 (lowest J/request)" in ran.output
    assert "No single winner" in ran.output
    assert "skill-4090d-qwen2-7b-nf4" in ran.output and "skill-4090d-qwen2-7b-int8-pure" in ran.output


def test_objective_names_one_overall_winner() -> None:
    document = compare_json(*SEED[1:], "--objective", "energy")
    assert document["overall"] == "NF4"
    assert "Overall (energy): NF4" in run_cli(*SEED, "--objective", "energy").output


def test_three_precisions_each_column_has_every_dimension() -> None:
    document = compare_json("fp16", "nf4", "int8", "--gpu", "RTX 4090D", "--model", "Qwen/Qwen2-7B")
    assert [c["name"] for c in document["columns"]] == ["FP16", "NF4", "INT8 (llm_int8_threshold=0.0)"]
    for column in document["columns"]:
        assert set(column) >= {"energy", "throughput", "memory", "confidence"}
    assert document["winners"]["memory"]["name"] == "NF4"


def test_every_number_has_its_source_row() -> None:
    document = compare_json("fp16", "nf4", "int8", "--gpu", "A800", "--model", "7B")
    for column in document["columns"]:
        for dim in ("energy", "throughput"):
            cell = column[dim]
            if cell["value"] is not None:
                assert cell["rows"], (column["name"], dim)
        if column["memory"]["value"] is not None:
            assert column["memory"]["kind"] == "formula" and column["memory"]["derived"]


def test_gpus_side_by_side() -> None:
    document = compare_json("T4", "A800", "--model", "7B", "--precision", "nf4")
    assert document["axis"] == "gpu"
    t4, a800 = document["columns"]
    assert (t4["name"], a800["name"]) == ("T4", "A800")
    assert t4["energy"]["value"] == 18734.94 and a800["energy"]["value"] == 4222.4
    assert document["winners"]["energy"]["name"] == "A800"
    assert document["winners"]["throughput"]["name"] == "A800"
    assert document["winners"]["memory"]["name"] is None  # same precision, same size: a tie


def test_missing_figures_are_n_a_never_a_guess() -> None:
    # No INT8 row on Blackwell, and 7B is above its INT8 crossover: no headline applies either.
    document = compare_json("fp16", "int8", "--gpu", "RTX 5090", "--model", "7B")
    int8 = document["columns"][1]
    assert int8["energy"]["value"] is None and int8["energy"]["delta_range_pct"] is None
    assert int8["throughput"]["value"] is None
    assert document["winners"]["energy"]["name"] is None
    assert "n/a" in run_cli("compare", "fp16", "int8", "--gpu", "RTX 5090", "--model", "7B").output


def test_gpu_comparison_without_a_model_asks_for_it() -> None:
    document = compare_json("T4", "A800")
    assert {q["input"] for q in document["questions"]} == {"model", "precision"}
    assert all(c["energy"]["value"] is None for c in document["columns"])


def test_precision_comparison_without_a_gpu_is_cross_architecture() -> None:
    document = compare_json("fp16", "nf4", "--model", "Qwen/Qwen2-7B")
    assert document["assumed"]["gpu"] == "RTX 4090D"
    assert {q["input"] for q in document["questions"]} == {"gpu"}
    assert all(c["confidence"] == 1 and c["energy"]["tag"] == "cross-architecture" for c in document["columns"])


def test_json_shape() -> None:
    document = compare_json(*SEED[1:])
    assert list(document) == [
        "version",
        "command",
        "axis",
        "objective",
        "inputs",
        "assumed",
        "columns",
        "winners",
        "overall",
        "evidence",
        "questions",
        "footer",
    ]
    assert set(document["columns"][0]) == {
        "name",
        "precision",
        "gpu",
        "architecture",
        "params_b",
        "energy",
        "throughput",
        "memory",
        "confidence",
        "reasons",
        "notes",
        "verdict",
    }
    assert set(document["winners"]) == {"energy", "throughput", "memory"}


@pytest.mark.parametrize(
    "args",
    [
        SEED[1:],
        ("fp16", "nf4", "int8", "int8-default", "--gpu", "A100", "--model", "Qwen/Qwen2.5-14B"),
        ("T4", "A800", "RTX 5090", "H100", "--model", "7B", "--precision", "nf4"),
        ("fp16", "nf4", "--gpu", "T4", "--model", "Qwen/Qwen2.5-3B", "--batch-size", "4"),
    ],
)
def test_every_number_comes_from_the_knowledge_base(args: tuple[str, ...]) -> None:
    assert unexplained_numbers(compare_json(*args), args) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (("nf4",), "at least two"),
        (("nf4", "T4"), "not both"),
        (("nf4", "int3"), "'int3' is neither"),
        (("fp16", "half"), "the same thing twice"),
        (("T4", "A800", "--gpu", "L4"), "--gpu cannot be combined"),
    ],
)
def test_bad_input_is_a_message_and_exit_2(args: tuple[str, ...], message: str) -> None:
    ran = run_cli("compare", *args)
    assert ran.exit_code == 2
    assert message in ran.stderr
    assert "Traceback" not in ran.output + ran.stderr
