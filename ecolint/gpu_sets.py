"""A setup stated to run on any of several GPUs (SkyPilot ``accelerators: {A100:1, L4:1}``, a
list of alternatives): which GPU it gets is the scheduler's choice, so a finding must hold on
each. The checks run once per GPU of the set; a finding (same rule, same place) stands only when
every GPU gives it, and then as the most cautious of them (fewest stars), naming the set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from ecolint.finding import Finding
from ecolint.resolve import on_gpu
from ecolint.setups import Setup

if TYPE_CHECKING:
    from ecolint.checks import CheckContext

# (setup, context, codes) -> findings: run_checks on one GPU
Runner = Callable[[Setup, "CheckContext", Iterable[str]], Iterator[Finding]]


def on_every_gpu(setup: Setup, ctx: CheckContext, codes: Iterable[str], run: Runner) -> Iterator[Finding]:
    """The findings every GPU of the set gives, each at its most cautious."""
    alternatives = ctx.resolution.alternatives
    codes = list(codes)
    found: dict[tuple, list[Finding]] = {}
    for resolution in alternatives:
        one = on_gpu(setup, resolution.gpu_written or resolution.gpu.name)
        for finding in run(one, dataclasses.replace(ctx, resolution=resolution, setup=one), codes):
            found.setdefault((finding.code, finding.location), []).append(finding)
    named = ctx.resolution.gpu_written
    for group in found.values():
        if len(group) < len(alternatives):
            continue  # some GPU of the set does not give it: not a finding of the setup
        cautious = min(group, key=lambda f: f.confidence)
        yield dataclasses.replace(
            cautious,
            setup={**cautious.setup, "gpu": named},
            notes=[ctx.resolution.reasons[0], *cautious.notes],
        )
