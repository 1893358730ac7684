"""ECO104: FP8 run in eager mode (rules/ECO104-fp8-without-compile.yaml).

torchao dynamic float8 without torch.compile runs unfused quantize/dequantize kernels; vLLM or
SGLang FP8 with CUDA graphs disabled (--enforce-eager, --disable-cuda-graph) loses the same
fusion. torchao weight-only float8 is reported compiled or not: torchao computes its matmuls in
the weights' original precision after dequantizing them, so compiling does not make it pay.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.intent import Intent, Set, Unset
from ecolint.setups import COMPILED, ENFORCE_EAGER, FP8_SCHEME, PRECISION, QUANT_CONFIG, Setup


@rule("ECO104")
def fp8_without_compile(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    if setup.get(PRECISION) != "fp8":
        return
    if setup.get(FP8_SCHEME) == "weight-only":
        yield _weight_only(setup, ctx)
        return
    no_fp8 = "fp8" in ctx.resolution.missing_formats
    if setup.get(ENFORCE_EAGER) is True:
        edit: Intent | None = Unset(ENFORCE_EAGER)
        # vLLM runs FP8 there as weight-only FP8 through Marlin: said, not called unsupported
        notes = (
            [ctx.resolution.capability_notes["vllm_fp8_weight_only"]] if no_fp8 and setup.framework == "vllm" else []
        )
        detail = "FP8 with CUDA graphs disabled (eager mode)"
        yield ctx.finding(setup.where(ENFORCE_EAGER), detail, edit=edit, notes=notes)
        return
    if setup.get(COMPILED) is False and setup.get(QUANT_CONFIG) == "torchao":
        where = setup.where(QUANT_CONFIG) if setup.has(QUANT_CONFIG) else setup.origin
        # without FP8 tensor cores, compiling does not make float8 compute run: no edit
        edit = None if no_fp8 else Set(COMPILED, True)
        rows = _rows(ctx, "dynamic") if setup.get(FP8_SCHEME) == "dynamic" else []
        yield ctx.finding(where, "torchao float8 on a model that is never torch.compile'd", edit=edit, evidence=rows)


def _weight_only(setup: Setup, ctx: CheckContext) -> Finding:
    """Weight-only float8: reported whether compiled or not, and never fixed by compiling."""
    where = setup.where(FP8_SCHEME)
    detail = "torchao float8 weight-only dequantizes the weights and runs every matmul in the original precision"
    if setup.get(COMPILED) is True:
        detail += ", compiled or not"
    facts = ctx.facts["weight_only"]
    missing = ctx.resolution.missing_formats
    note = facts["note_without_fp8"] if "fp8" in missing else facts["note"]
    half = "FP16" if "bf16" in missing else "BF16/FP16"
    return ctx.finding(
        where,
        detail,
        overhead=dict(facts["overhead"]),
        evidence=_rows(ctx, "weight-only"),
        notes=[" ".join(str(note).split()).format(half=half)],
        snippet="torchao-weight-only",
    )


def _rows(ctx: CheckContext, scheme: str, limit: int = 2) -> list[dict]:
    """The measured torchao float8 rows of this scheme nearest the setup's size (RTX 5090, eager;
    a short-generation row only where nothing else is near)."""
    rows = [r for r in ctx.kb.rows.values() if r.get("fp8_scheme") == scheme]
    size = ctx.resolution.params_b if ctx.resolution.params_b is not None else ctx.kb.assumed_params_b
    return sorted(rows, key=lambda r: (abs(float(r["params_b"]) - size), r["id"]))[:limit]
