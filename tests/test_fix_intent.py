"""Fixes as typed intent: a rule's intent (Set/Unset of a fact) × the site where the setup writes
that fact → the typed edit `--fix` applies, or none (a manual fix).

Each case is a setup as an extractor leaves it (framework, file kind, the fact and how it was
read) and the edit expected; the end-to-end pairs in tests/fix_cases show the edits applied.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from ecolint import edits
from ecolint.edits import (
    DeleteFlag,
    DeleteKeyword,
    Edit,
    InsertAfterStatement,
    ReplaceKeyword,
    SetFlagValue,
    SetKeyword,
    SetKeywordValue,
)
from ecolint.fix import edit_for
from ecolint.intent import Intent, Set, Unset
from ecolint.setups import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    DOUBLE_QUANT,
    ENFORCE_EAGER,
    LLM_INT8_THRESHOLD,
    PRECISION,
    Fact,
    Location,
    Setup,
)

ORIGIN = Location("x", 1, 1, 1, 40)
AT = Location("x", 2, 5, 2, 20)  # where the fact is written


def setup(kind: str, framework: str, **facts: tuple[object, str]) -> Setup:
    """A setup whose facts (value, how) are all written at AT."""
    return Setup(framework, ORIGIN, {name: Fact(value, AT, how) for name, (value, how) in facts.items()}, kind=kind)


FP32_CODE = ("torch.float32", "torch.float", '"float32"', '"float"')

CASES: list[tuple[str, Intent, Setup, Edit | None]] = [
    # -- a Python call keyword ------------------------------------------------------------------
    (
        "vllm enforce_eager= deleted",
        Unset(ENFORCE_EAGER),
        setup("python", "vllm", enforce_eager=(True, "literal")),
        DeleteKeyword(keyword="enforce_eager"),
    ),
    (
        "vllm max_num_seqs= deleted",
        Unset(BATCH_SIZE),
        setup("python", "vllm", batch_size=(1, "literal")),
        DeleteKeyword(keyword="max_num_seqs"),
    ),
    (
        "pipeline batch_size= rewritten, as taking it out would leave one prompt per call",
        Unset(BATCH_SIZE, otherwise=16),
        setup("python", "transformers", batch_size=(1, "literal")),
        SetKeyword(keyword="batch_size", value=("16",)),
    ),
    (
        "threshold added to the BitsAndBytesConfig call",
        Set(LLM_INT8_THRESHOLD, 0.0),
        setup("python", "transformers", llm_int8_threshold=(6.0, "implied"), threshold_exposed=(True, "implied")),
        SetKeyword(keyword="llm_int8_threshold", value=("0.0",), calls=("BitsAndBytesConfig", "from_dict")),
    ),
    (
        "bnb_4bit_use_double_quant= deleted",
        Unset(DOUBLE_QUANT),
        setup("python", "transformers", double_quant=(True, "literal")),
        DeleteKeyword(keyword="bnb_4bit_use_double_quant"),
    ),
    (
        "attn_implementation= set, any framework",
        Set(ATTN_IMPLEMENTATION, "sdpa"),
        setup("python", "vllm", attn_implementation=("eager", "literal")),
        SetKeyword(keyword="attn_implementation", value=('"sdpa"',)),
    ),
    (
        "vLLM's dtype= takes the name",
        Set(COMPUTE_DTYPE, "bf16"),
        setup("python", "vllm", compute_dtype=("fp32", "literal")),
        SetKeywordValue(value=('"bfloat16"',)),
    ),
    (
        "torch_dtype= takes torch's dtype, or its name",
        Set(COMPUTE_DTYPE, "bf16"),
        setup("python", "transformers", compute_dtype=("fp32", "literal")),
        SetKeywordValue(value=("torch.bfloat16", '"bfloat16"')),
    ),
    (
        "vLLM's quantization= deleted",
        Set(PRECISION, "fp16"),
        setup("python", "vllm", quant_config=("vllm", "literal"), precision=("fp8", "literal")),
        DeleteKeyword(keyword="quantization"),
    ),
    (
        "bitsandbytes quantization_config= becomes torch_dtype= at from_pretrained",
        Set(PRECISION, "bf16"),
        setup("python", "transformers", quant_config=("bitsandbytes", "literal"), precision=("nf4", "literal")),
        ReplaceKeyword(
            at=ORIGIN,
            calls=("from_pretrained",),
            keyword="quantization_config",
            new_keyword="torch_dtype",
            value=("torch.bfloat16", '"bfloat16"'),
            unless_present=("torch_dtype", "dtype"),
            replace_values=FP32_CODE,
        ),
    ),
    (
        "torch.compile inserted after torchao's quantize_",
        Set(COMPILED, True),
        setup("python", "torchao", quant_config=("torchao", "literal"), compiled=(False, "implied")),
        InsertAfterStatement(text="{arg0} = torch.compile({arg0})"),
    ),
    # -- a launcher flag (shell, Dockerfile, YAML) -------------------------------------------------
    (
        "--enforce-eager stands alone",
        Unset(ENFORCE_EAGER),
        setup("shell", "vllm", enforce_eager=(True, "flag")),
        DeleteFlag(valued=False),
    ),
    (
        "TGI's --cuda-graphs 0 takes its value along",
        Unset(ENFORCE_EAGER),
        setup("yaml", "tgi", enforce_eager=(True, "flag")),
        DeleteFlag(valued=True),
    ),
    (
        "--max-running-requests deleted with its value",
        Unset(BATCH_SIZE),
        setup("dockerfile", "sglang", batch_size=(1, "flag")),
        DeleteFlag(valued=True),
    ),
    (
        "llama.cpp --parallel given four slots (its flag row says the value is rewritten)",
        Unset(BATCH_SIZE, otherwise=4),
        setup("shell", "llama.cpp", batch_size=(1, "flag")),
        SetFlagValue(value="4"),
    ),
    (
        "vLLM's --max-num-seqs deleted whatever the otherwise value (its flag row says delete)",
        Unset(BATCH_SIZE, otherwise=4),
        setup("shell", "vllm", batch_size=(1, "flag")),
        DeleteFlag(valued=True),
    ),
    (
        "--dtype float32 becomes bfloat16",
        Set(COMPUTE_DTYPE, "bf16"),
        setup("shell", "vllm", compute_dtype=("fp32", "flag"), precision=("fp8", "flag")),
        SetFlagValue(value="bfloat16"),
    ),
    (
        "--quantize deleted with its value",
        Set(PRECISION, "fp16"),
        setup("shell", "tgi", quant_config=("bitsandbytes-nf4", "flag"), precision=("nf4", "flag")),
        DeleteFlag(valued=True),
    ),
    # -- no site fits: a manual fix ----------------------------------------------------------------
    (
        "an environment variable",
        Unset(BATCH_SIZE),
        setup("shell", "vllm", batch_size=(1, "env")),
        None,
    ),
    (
        "TGI's QUANTIZE env var",
        Set(PRECISION, "fp16"),
        setup("dockerfile", "tgi", quant_config=("bitsandbytes-nf4", "env"), precision=("nf4", "env")),
        None,
    ),
    (
        "llama-quantize's type is a positional, not a flag",
        Set(PRECISION, "fp16"),
        setup("shell", "llama.cpp", quant_config=("gguf", "flag"), precision=("gguf-q4", "flag")),
        None,
    ),
    (
        "a GGUF file name",
        Set(PRECISION, "fp16"),
        setup("shell", "ollama", quant_config=("gguf", "filename"), precision=("gguf-q4", "filename")),
        None,
    ),
    (
        "a pre-quantized GPTQ config",
        Set(PRECISION, "fp16"),
        setup("python", "transformers", quant_config=("gptq", "literal"), precision=("gptq", "literal")),
        None,
    ),
    (
        "nothing quantized to take out",
        Set(PRECISION, "fp16"),
        setup("shell", "vllm", precision=("fp32", "flag")),
        None,
    ),
    (
        "a threshold the framework does not expose",
        Set(LLM_INT8_THRESHOLD, 0.0),
        setup("python", "vllm", llm_int8_threshold=(6.0, "implied"), threshold_exposed=(False, "implied")),
        None,
    ),
    (
        "a threshold read from a constant",
        Set(LLM_INT8_THRESHOLD, 0.0),
        setup("python", "transformers", llm_int8_threshold=(6.0, "constant")),
        None,
    ),
    (
        "no launcher flag for attn_implementation",
        Set(ATTN_IMPLEMENTATION, "sdpa"),
        setup("shell", "vllm", attn_implementation=("eager", "flag")),
        None,
    ),
    (
        "no keyword for a transformers setup's eager mode",
        Unset(ENFORCE_EAGER),
        setup("python", "transformers", enforce_eager=(True, "literal")),
        None,
    ),
    (
        "compiling is written in Python only",
        Set(COMPILED, True),
        setup("shell", "sglang", quant_config=("fp8", "flag"), compiled=(False, "flag")),
        None,
    ),
    (
        "a flag to rewrite, with no value to write",
        Unset(BATCH_SIZE),
        setup("shell", "llama.cpp", batch_size=(1, "flag")),
        None,
    ),
    (
        "a keyword to rewrite, with no value to write",
        Unset(BATCH_SIZE),
        setup("python", "transformers", batch_size=(1, "literal")),
        None,
    ),
    (
        "no flag value rewritten but --dtype's",
        Set(BATCH_SIZE, 4),
        setup("shell", "vllm", batch_size=(1, "flag")),
        None,
    ),
    (
        "a fact the setup does not have",
        Unset(BATCH_SIZE),
        setup("shell", "vllm"),
        None,
    ),
]


EDITS = [c for c in CASES if c[3] is not None]


@pytest.mark.parametrize("intent,given,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_intent_and_site_give_the_edit(intent: Intent, given: Setup, expected: Edit | None) -> None:
    # At the finding's own location (the fact's), an edit leaves its place unsaid.
    assert edit_for(intent, given, anchor=AT) == expected


@pytest.mark.parametrize("intent,given,expected", [c[1:] for c in EDITS], ids=[c[0] for c in EDITS])
def test_an_edit_names_its_place_when_the_finding_is_elsewhere(intent: Intent, given: Setup, expected: Edit) -> None:
    edit = edit_for(intent, given, anchor=Location("x", 9, 1, 9, 2))
    assert edit is not None and edit.at == (expected.at or AT)


@pytest.mark.parametrize("edit", [c[3] for c in EDITS], ids=[c[0] for c in EDITS])
def test_the_json_shape_reads_back_into_the_same_edit(edit: Edit) -> None:
    data = edits.to_json(edit)
    assert data["action"] == edit.action
    assert edits.from_json(data, "x") == edit


def test_the_json_shape_is_the_documented_one() -> None:
    assert edits.to_json(DeleteFlag(valued=False)) == {"action": "delete-flag", "valued": False}
    assert edits.to_json(SetKeywordValue(value=("torch.bfloat16", '"bfloat16"'))) == {
        "action": "set-value",
        "value": ["torch.bfloat16", '"bfloat16"'],
    }
    assert edits.to_json(ReplaceKeyword(at=ORIGIN, keyword="a", new_keyword="b", value=("1",)))["at"] == ORIGIN.span()
    assert edits.from_json({"action": "rename-file"}, "x") is None
    assert edits.from_json({"action": "set-flag-value"}, "x") is None  # its value is missing


def test_an_intent_no_site_fits_is_reported_as_a_manual_fix(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text("OLLAMA_NUM_PARALLEL=1 ollama serve\n", encoding="utf-8")
    (tmp_path / "batch.sh").write_text("vllm serve m --max-num-seqs 1\n", encoding="utf-8")
    ran = run_cli("check", "--isolated", "--format", "json", "--exit-zero", ".", cwd=tmp_path)
    fixes = {f["path"]: f["fix"] for f in ran.json()["findings"] if f["code"] == "ECO105"}
    assert fixes["serve.sh"]["applicability"] == "manual" and fixes["serve.sh"]["edit"] is None
    assert fixes["batch.sh"]["applicability"] == "automatic"
    assert fixes["batch.sh"]["edit"] == {"action": "delete-flag", "valued": True}
