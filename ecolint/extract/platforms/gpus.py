"""The GPU a platform file states, stamped on the setups it runs."""

from __future__ import annotations

from ecolint.setups import GPU, PLATFORM, Location, Setup


def stamp(setups: list[Setup], gpus: tuple[list[str], Location] | None, how: str) -> list[Setup]:
    """Give each setup the GPU the platform states: one name, or a tuple of names when any of
    several may be picked (ecolint/gpu_sets.py). A setup that names its own GPU keeps it. ``how``
    is the key that states it (reports say gpu_source "platform" and name it in gpu_origin)."""
    if gpus is None:
        return setups
    names, where = gpus
    names = list(dict.fromkeys(names))  # {A100:1, A100:8} is one GPU at two counts
    value: str | tuple[str, ...] = names[0] if len(names) == 1 else tuple(names)
    for setup in setups:
        if not setup.has(GPU):
            setup.set(GPU, value, where, PLATFORM + how)
    return setups
