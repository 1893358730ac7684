"""ECO204: GGUF 4-bit on a model below the NF4 crossover, as the skill's analog of ECO102
(rules/ECO204-gguf-4bit-small-model.yaml).

Opt-in and one star at most: the skill reads llama.cpp's Q4 like bitsandbytes NF4, but the only
GGUF measurement (RTX 4090, Llama-3.1-8B) shows Q4_0 using 62 % less energy per token than F16.
Its rows are quoted beside the skill's figure.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.setups import PRECISION, QUANT_CONFIG, Setup


@rule("ECO204")
def gguf_4bit_small_model(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    """A GGUF Q4 file or tag on a model smaller than the architecture's NF4 crossover."""
    if setup.get(PRECISION) != "gguf-q4":
        return
    arch, crossover, params = ctx.resolution.architecture, ctx.resolution.crossover("nf4"), ctx.resolution.params_b
    if arch is None or crossover is None or params is None or params >= crossover:
        return
    where = setup.where(QUANT_CONFIG) if setup.has(QUANT_CONFIG) else setup.where(PRECISION)
    detail = f"GGUF Q4 on a {params:g}B model, below the {ctx.resolution.arch_label} NF4 crossover ({crossover:g}B)"
    measured = [ctx.kb.rows[row_id] for row_id in ctx.spec.evidence]
    yield ctx.finding(where, detail, evidence=measured, notes=[ctx.facts["measured_note"]], confidence=1)
