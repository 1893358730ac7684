"""ECO101–ECO103: bitsandbytes-style quantization that costs energy instead of saving it.

Texts, numbers and fixes: rules/ECO101-int8-default-threshold.yaml,
rules/ECO102-nf4-below-crossover.yaml, rules/ECO103-int8-below-crossover.yaml.
Examples: fixtures/python/ and fixtures/launch/ (`# ruleid:` / `# ok:` annotations).
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.intent import Intent, Set
from ecolint.resolve import crossover_verdict, verdict_rows
from ecolint.setups import (
    COMPUTE_DTYPE,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    THRESHOLD_EXPOSED,
    Setup,
)

# bitsandbytes 4-bit. GGUF Q4 is not here: llama.cpp's kernels are another runtime, and the only
# GGUF measurement contradicts the skill's analog (ECO204, opt-in, keeps it).
FOUR_BIT = {"nf4": "NF4", "fp4": "FP4"}


@rule("ECO101")
def int8_default_threshold(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    """INT8 whose mixed-precision outlier decomposition is on (bitsandbytes' default threshold)."""
    if setup.get(PRECISION) != "int8":
        return
    default = float(ctx.facts["default_threshold"])
    threshold = setup.get(LLM_INT8_THRESHOLD)
    if threshold is None or float(threshold) != default:
        return
    how = setup.facts[LLM_INT8_THRESHOLD].how
    favoured, why = _favoured(ctx)
    detail = f"llm_int8_threshold={default}" + (" (the default)" if how == "implied" else "")
    detail += f"; the measurements favour {favoured}"
    notes = [f"Measured: {why}"]
    if setup.get(THRESHOLD_EXPOSED) is False:
        notes.append(f"{setup.framework} does not expose llm_int8_threshold: use the framework alternatives in the fix")
    notes.append(ctx.facts["quality_note"])
    evidence = ctx.rows("int8", threshold=default) + ctx.rows("int8", threshold=0.0, limit=1)
    edit = Set(LLM_INT8_THRESHOLD, 0.0)
    yield ctx.finding(setup.where(LLM_INT8_THRESHOLD), detail, notes=notes, evidence=evidence, edit=edit)


def _favoured(ctx: CheckContext) -> tuple[str, str]:
    """What the measurements favour over default-threshold INT8 here, and why (ECO101's facts)."""
    texts = ctx.facts["favours"]
    params, crossover = ctx.resolution.params_b, ctx.resolution.crossover("int8")
    if params is None or crossover is None:
        side = "unknown"
    else:
        side = "below" if params < crossover else "above"
    text = " ".join(str(texts[side]).split()).format(arch=ctx.resolution.arch_label, crossover=crossover or 0)
    favoured, _, why = text.partition(": ")
    return favoured, why


@rule("ECO102")
def nf4_below_crossover(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    """4-bit weights on a model too small for dequantization to pay for itself."""
    precision = setup.get(PRECISION)
    if precision not in FOUR_BIT:
        return
    label = FOUR_BIT[precision]
    analog = ctx.facts["analog_notes"].get(precision)
    notes = [] if analog is None else [analog]
    yield from _below_crossover(setup, ctx, label, "nf4", notes)


@rule("ECO103")
def int8_below_crossover(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    """INT8 on a model below the architecture's INT8 crossover."""
    if setup.get(PRECISION) != "int8":
        return
    yield from _below_crossover(setup, ctx, "INT8", "int8", [" ".join(ctx.facts["measured_note"].split())])


def _below_crossover(setup: Setup, ctx: CheckContext, label: str, family: str, notes: list[str]) -> Iterator[Finding]:
    verdict = crossover_verdict(ctx.resolution, setup.get(PRECISION))
    if verdict is None or not verdict.below:
        return  # no crossover here, at or above it, or a size that is not known (`explain` asks for it)
    notes = notes + ([verdict.moved] if verdict.moved else [])
    where = setup.where(QUANT_CONFIG) if setup.has(QUANT_CONFIG) else setup.where(PRECISION)
    detail = (
        f"{label} on a {verdict.params_b:g}B model, below the {ctx.resolution.arch_label} crossover"
        f" ({verdict.crossover_b:g}B)"
    )
    evidence = verdict_rows(ctx.kb, ctx.resolution, family, setup.get(MODEL))
    if setup.facts[PRECISION].how == "filename":
        # A checkpoint saved quantized (unsloth/…-bnb-4bit): no flag or keyword to delete; the way
        # back is the checkpoint it was made from, which only its model card names.
        detail += f"; {setup.get(MODEL)} is saved quantized: load the base checkpoint it was made from"
        yield ctx.finding(where, detail, evidence=evidence, notes=notes, snippet="base-checkpoint")
        return
    yield ctx.finding(where, detail, evidence=evidence, notes=notes, edit=_unquantize(setup, ctx))


def _unquantize(setup: Setup, ctx: CheckContext) -> Intent:
    """The model served unquantized, in the compute dtype the quantized model used, or FP16
    (never FP32: that costs more energy; never BF16 on a GPU without BF16 tensor cores)."""
    bf16 = setup.get(COMPUTE_DTYPE) == "bf16" and ctx.resolution.half() == "bf16"
    return Set(PRECISION, "bf16" if bf16 else "fp16")
