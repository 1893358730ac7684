"""ECO106: bitsandbytes double quantization left on at inference
(rules/ECO106-nf4-double-quant.yaml).

Double quantization (QLoRA's trick of quantizing the 4-bit quantization constants again) saves
about 0.4 bit per parameter of memory, which matters when fine-tuning; at inference it costs a
second dequantization on every matmul. Training setups are never audited (checks/__init__.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.intent import Unset
from ecolint.setups import DOUBLE_QUANT, PRECISION, Setup


@rule("ECO106")
def nf4_double_quant(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    """bnb_4bit_use_double_quant=True on a 4-bit model that serves requests."""
    if setup.get(PRECISION) not in ("nf4", "fp4") or setup.get(DOUBLE_QUANT) is not True:
        return
    measured = [ctx.kb.rows[row_id] for row_id in ctx.spec.evidence]
    edit = Unset(DOUBLE_QUANT)
    yield ctx.finding(
        setup.where(DOUBLE_QUANT),
        "bnb_4bit_use_double_quant=True at inference",
        evidence=measured,
        notes=[ctx.facts["quality_note"]],
        edit=edit,
    )
