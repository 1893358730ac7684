"""ECO104: FP8 run in eager mode (rules/ECO104-fp8-without-compile.yaml).

torchao float8 without torch.compile runs unfused quantize/dequantize kernels; vLLM or SGLang
FP8 with CUDA graphs disabled (--enforce-eager, --disable-cuda-graph) loses the same fusion.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.intent import Intent, Set, Unset
from ecolint.setups import COMPILED, ENFORCE_EAGER, PRECISION, QUANT_CONFIG, Setup


@rule("ECO104")
def fp8_without_compile(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    if setup.get(PRECISION) != "fp8":
        return
    if setup.get(ENFORCE_EAGER) is True:
        edit: Intent = Unset(ENFORCE_EAGER)
        yield ctx.finding(setup.where(ENFORCE_EAGER), "FP8 with CUDA graphs disabled (eager mode)", edit=edit)
        return
    if setup.get(COMPILED) is False:
        where = setup.where(QUANT_CONFIG) if setup.has(QUANT_CONFIG) else setup.origin
        edit = Set(COMPILED, True)
        yield ctx.finding(where, "torchao float8 on a model that is never torch.compile'd", edit=edit)
