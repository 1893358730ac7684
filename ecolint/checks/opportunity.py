"""ECO301: an unquantized FP16/BF16 model above its architecture's NF4 crossover
(rules/ECO301-quantization-opportunity.yaml). Opt-in, severity note.

Reported only where the evidence says 4-bit saves energy: the model size is known, the GPU is
NVIDIA (measured or mapped to a measured architecture), the size is at or above the NF4
crossover, and the nearest measured NF4 row on that architecture does not show a penalty.
Examples: fixtures/opportunity/ (`# ruleid:` / `# ok:` annotations).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.knowledge import Knowledge
from ecolint.setups import PRECISION, Setup

UNQUANTIZED = {"fp16": "FP16", "bf16": "BF16"}


@rule("ECO301")
def quantization_opportunity(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    label = UNQUANTIZED.get(str(setup.get(PRECISION)))
    res = ctx.resolution
    arch, params = res.architecture, res.params_b
    crossover = res.crossover("nf4")
    if label is None or arch is None or crossover is None or params is None or "non-nvidia" in res.boundaries:
        return
    if params < crossover:
        return
    nearest = ctx.rows("nf4", limit=1)
    if nearest and (nearest[0].get("delta_pct") or 0) > 0:
        return  # the measured row on this architecture shows no saving: no opportunity to claim
    saving = ctx.kb.headlines["above_crossover_saving_pct"]
    detail = (
        f"{label} weights, {params:g}B parameters, above the {res.arch_label} NF4 crossover ({crossover:g}B):"
        f" 4-bit NF4 saves {saving['min']}–{saving['max']}% energy per token ({saving['source']})"
    )
    notes = _int8_note(ctx, params) + _quality_notes(ctx.kb, params)
    evidence = nearest + ctx.request_rows("fp16", "nf4")
    yield ctx.finding(setup.where(PRECISION), detail, notes=notes, evidence=evidence)


def _int8_note(ctx: CheckContext, params: float) -> list[str]:
    """INT8 with threshold 0.0 is the other option, where the evidence shows it saving too."""
    arch, crossover = ctx.resolution.architecture, ctx.resolution.crossover("int8")
    if arch is None or crossover is None or params < crossover:
        return []
    rows = ctx.rows("int8", threshold=0.0, limit=1)
    if not rows or rows[0].get("llm_int8_threshold") != 0.0 or (rows[0].get("delta_pct") or 0) >= 0:
        return []
    row = rows[0]
    return [
        f"Also above the {ctx.resolution.arch_label} INT8 crossover ({crossover:g}B): INT8 with llm_int8_threshold=0.0"
        f" measured {row['delta_pct']:+g}% energy on {row['model']} ({row['gpu']}, row {row['id']})"
    ]


def _quality_notes(kb: Knowledge, params: float) -> list[str]:
    """The perplexity cost of the switch: the nearest NF4 rows, and INT8 threshold 0.0's worst."""
    notes = []
    nf4 = _perplexity_rows(kb, "nf4", None, params)[:2]
    if nf4:
        quoted = "; ".join(f"{r['perplexity_delta_pct']:+g}% on {r['model']} ({r['gpu']})" for r in nf4)
        notes.append(f"Quality: NF4 perplexity vs FP16 {quoted}; check accuracy before switching")
    int8 = _perplexity_rows(kb, "int8", 0.0, params)
    worst = max(int8, key=lambda r: (float(r["perplexity_delta_pct"]), r["id"]), default=None)
    if worst is not None:
        notes.append(
            f"Quality: llm_int8_threshold=0.0 cost {worst['perplexity_delta_pct']:+g}% perplexity on {worst['model']} ({worst['gpu']})"
        )
    return notes


def _perplexity_rows(kb: Knowledge, precision: str, threshold: float | None, params: float) -> list[dict[str, Any]]:
    rows = [
        r
        for r in kb.rows.values()
        if r.get("precision") == precision
        and r.get("llm_int8_threshold") == threshold
        and r.get("perplexity_delta_pct") is not None
    ]
    return sorted(rows, key=lambda r: (abs(float(r.get("params_b") or 0) - params), r["id"]))
