"""The rules/ catalogue: complete, consistent, and every figure sourced."""

from __future__ import annotations

import pytest

from ecolint import knowledge
from ecolint.resolve import model_size

KB = knowledge.load()


def test_every_rule_has_every_doc_section_and_a_fix_safety_with_reason() -> None:
    for spec in KB.rules.values():
        for section in knowledge.DOC_SECTIONS:
            assert str(spec.docs[section]).strip(), f"{spec.code}: empty {section}"
        assert spec.fix.get("safety") in ("safe", "unsafe", "none"), spec.code
        assert spec.fix.get("reason"), f"{spec.code}: fix safety needs its reason"


def test_rule_codes_are_the_fixed_ones() -> None:
    assert {"ECO001", "ECO101", "ECO102", "ECO103", "ECO104", "ECO105", "ECO201", "ECO202", "ECO203"} <= set(KB.rules)
    assert [c for c, s in KB.rules.items() if not s.enabled_by_default and not c.startswith(("ECO2", "ECO3"))] == []


def test_overheads_are_the_skill_headlines() -> None:
    assert (KB.rule("ECO101").overhead["min_pct"], KB.rule("ECO101").overhead["max_pct"]) == (17, 147)
    assert (KB.rule("ECO102").overhead["min_pct"], KB.rule("ECO102").overhead["max_pct"]) == (11, 29)
    assert (KB.rule("ECO104").overhead["min_pct"], KB.rule("ECO104").overhead["max_pct"]) == (158, 701)
    assert KB.rule("ECO105").overhead["max_pct"] == 95.7
    for spec in KB.rules.values():
        if spec.overhead:
            assert spec.overhead.get("source"), f"{spec.code}: overhead without a source"


@pytest.mark.parametrize(
    "arch,nf4,int8",
    [("turing", 3.2, 4.0), ("ada", 3.9, 4.6), ("blackwell", 5.2, 5.6), ("ampere", 3.7, 4.3)],
)
def test_crossovers(arch: str, nf4: float, int8: float) -> None:
    a = KB.architectures[arch]
    assert (a.nf4_crossover_b, a.int8_crossover_b) == (nf4, int8)
    assert a.measured


def test_every_measured_row_has_a_source_with_commit() -> None:
    assert len(KB.rows) >= 50
    for row in KB.rows.values():
        source = row["source"]
        assert source["repo"] and source["path"] and len(source["commit"]) == 40, row["id"]


def test_yi_threshold_zero_quality_caveat_is_recorded() -> None:
    rows = [r for r in KB.rows.values() if "yi" in str(r["model"]).lower() and r.get("perplexity_delta_pct") == 25.38]
    assert rows, "the +25.38% perplexity of llm_int8_threshold=0.0 on Yi-1.5-6B must be in the data"


def test_request_energy_rows_of_the_skill() -> None:
    table = {(r["gpu"], r["precision"]): r["j_per_request"] for r in KB.request_energy}
    assert table[("RTX 4090D", "fp16")] == 71.2
    assert table[("RTX 4090D", "nf4")] == 47.0
    assert table[("RTX 4090D", "int8")] == 52.1
    assert table[("A800", "fp8")] == 67.8


@pytest.mark.parametrize(
    "written,name,arch",
    [
        ("NVIDIA GeForce RTX 4090D", "RTX 4090D", "ada"),
        ("rtx-5090", "RTX 5090", "blackwell"),
        ("nvidia-tesla-t4", "T4", "turing"),
        ("NVIDIA-A10G", "A10G", "ampere"),
        ("A100-SXM4-80GB", "A100", "ampere"),
        ("nvidia-l4", "L4", "ada"),
        ("L40S", "L40S", "ada"),
        ("H100 80GB HBM3", "H100", "hopper"),
    ],
)
def test_gpu_names(written: str, name: str, arch: str) -> None:
    info = KB.gpu(written)
    assert info is not None and info.name == name and info.architecture == arch


def test_non_nvidia_gpus_are_known_as_such() -> None:
    for written in ("MI300X", "Gaudi2", "Apple M2 Max"):
        info = KB.gpu(written)
        assert info is not None and info.vendor != "nvidia", written


@pytest.mark.parametrize("written", ["v5litepod-4", "v6e-8", "v2-8", "v5p-128", "tpu-v5e-8"])
def test_cloud_tpu_accelerator_types_are_google_tpus(written: str) -> None:
    # dstack and GKE write Cloud TPU types as v$VERSION-$CHIPS, with no "tpu" in the name
    info = KB.gpu(written)
    assert info is not None and (info.name, info.vendor) == ("Google TPU", "google")


def test_tpu_pattern_leaves_nvidia_names_alone() -> None:
    for written in ("V100", "H100", "A100"):
        info = KB.gpu(written)
        assert info is not None and info.vendor == "nvidia", written


@pytest.mark.parametrize(
    "model_id,params,how",
    [
        ("Qwen/Qwen2.5-1.5B-Instruct", 1.5, "id"),
        ("meta-llama/Llama-3.2-1B", 1.0, "id"),
        ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", 1.1, "id"),
        ("facebook/opt-1.3b", 1.3, "id"),
        ("qwen2:1.5b", 1.5, "id"),
        ("facebook/opt-350m", 0.35, "id"),
        ("microsoft/Phi-3-mini-4k-instruct", 3.8, "table"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", 12.9, "table"),
        ("mistralai/Mistral-7B-Instruct-v0.2", 7.0, "id"),
    ],
)
def test_model_sizes(model_id: str, params: float, how: str) -> None:
    size = model_size(model_id, KB)
    assert size is not None and size.params_b == pytest.approx(params) and size.how == how


def test_unknown_model_size_is_none_not_a_guess() -> None:
    assert model_size("my-org/secret-model", KB) is None
    assert model_size("my-org/secret-model", KB, {"my-org/secret-model": 2.0}).how == "config"


def test_rule_figures_are_read_from_the_yaml_not_the_code(tmp_path) -> None:
    """ECO101's default threshold and quality caveat live once, in its YAML `facts`."""
    import shutil

    from conftest import REPO

    from ecolint.checks import CheckContext, run_checks
    from ecolint.resolve import resolve
    from ecolint.setups import LLM_INT8_THRESHOLD, PRECISION, Location, Setup

    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    path = rules / "ECO101-int8-default-threshold.yaml"
    text = path.read_text(encoding="utf-8").replace("default_threshold: 6.0", "default_threshold: 5.0")
    path.write_text(text.replace("Quality: llm_int8_threshold=0.0 cost", "Quality (edited): cost"), encoding="utf-8")
    kb = knowledge.load(str(rules))
    setup = Setup(framework="transformers", origin=Location("app.py", 1, 1), kind="python")
    setup.set(PRECISION, "int8", Location("app.py", 1, 1))
    setup.set(LLM_INT8_THRESHOLD, 5.0, Location("app.py", 1, 30))
    ctx = CheckContext(kb, resolve(setup, kb, gpu_option=None, models={}, stack={}), setup)
    (finding,) = run_checks(setup, ctx, ["ECO101"])
    assert "llm_int8_threshold=5.0" in finding.message
    assert any(note.startswith("Quality (edited): cost") for note in finding.notes)
    assert KB.rule("ECO101").facts["default_threshold"] == 6.0


def test_the_beyond_range_note_quotes_the_measured_range_of_the_evidence() -> None:
    from ecolint.resolve import BOUNDARY_TEXT

    assert f"(> {KB.measured_max_params_b:g}B)" in BOUNDARY_TEXT["beyond-measured-range"]


def test_no_rule_is_left_with_the_scaffold_s_todo_texts() -> None:
    """scripts/new_rule.py writes TODO texts that pass the schema; a finished rule has none."""
    from conftest import REPO

    unfinished = [p.name for p in sorted((REPO / "rules").glob("ECO*.yaml")) if "TODO" in p.read_text(encoding="utf-8")]
    assert unfinished == [], f"rules with TODO texts left from scripts/new_rule.py: {unfinished}"


def test_every_gpu_and_model_pattern_of_the_tables_compiles() -> None:
    """They are compiled on first use (a run looks up a few names): a broken one must fail here."""
    patterns = [pattern for pattern, _ in KB.gpus] + [pattern for pattern, _ in KB.models]
    assert len(patterns) > 50
    for pattern in patterns:
        assert pattern.compiled().pattern == pattern.source
