"""ECO201–ECO203: supplementary checks (opt-in). Engineering convention, not measured by
EcoCompute, so they carry no overhead figure and ★☆☆ confidence.
Texts: rules/ECO201-fp32-kv-cache.yaml, ECO202-eager-attention.yaml, ECO203-model-reload-per-request.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.intent import Set
from ecolint.setups import ATTN_IMPLEMENTATION, COMPUTE_DTYPE, KV_CACHE_DTYPE, PRECISION, RELOAD_PER_REQUEST, Setup

QUANTIZED = {"int8", "nf4", "fp4", "fp8", "gguf-q4", "gguf-q5", "gguf-q6", "gguf-q8", "awq", "gptq"}
_FP32 = {"fp32", "float32", "torch.float32", "float"}


@rule("ECO201")
def fp32_on_quantized(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    if setup.get(PRECISION) not in QUANTIZED:
        return
    for fact, what in ((COMPUTE_DTYPE, "fp32 compute dtype"), (KV_CACHE_DTYPE, "fp32 KV cache")):
        if str(setup.get(fact, "")).lower() in _FP32:
            # BF16, or FP16 on a GPU without BF16 tensor cores (rules/capabilities.yaml)
            edit = Set(COMPUTE_DTYPE, ctx.resolution.half()) if fact == COMPUTE_DTYPE else None
            yield ctx.finding(setup.where(fact), f"{what} on a {setup.get(PRECISION)} model", confidence=1, edit=edit)


@rule("ECO202")
def eager_attention(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    if str(setup.get(ATTN_IMPLEMENTATION, "")).lower() != "eager":
        return
    edit = Set(ATTN_IMPLEMENTATION, "sdpa")
    yield ctx.finding(setup.where(ATTN_IMPLEMENTATION), 'attn_implementation="eager"', confidence=1, edit=edit)


@rule("ECO203")
def model_reload_per_request(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    where = setup.get(RELOAD_PER_REQUEST)
    if where not in ("handler", "loop"):
        return
    detail = "model loaded inside a request handler" if where == "handler" else "model loaded inside a loop"
    yield ctx.finding(setup.where(RELOAD_PER_REQUEST), detail, confidence=1)
