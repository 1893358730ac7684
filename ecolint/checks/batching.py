"""ECO105: one request at a time (rules/ECO105-batch-size-one.yaml).

Signals, strongest first: an explicit batch limit of 1 (batch_size=1, --max-num-seqs 1,
--max-batch-size 1, -np 1); generate() once per prompt inside a loop; generate() once per web
request, which a server may still batch upstream, so it is reported one ★ lower.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.intent import Intent, Unset
from ecolint.setups import (
    BATCH_SIZE,
    GENERATION_CALL,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    REQUEST_SOURCE,
    SINGLE_REQUEST,
    TASK,
    Setup,
)

# The finding's words for each signal, with the call that generates and what runs it per request
# (the extractor's GENERATION_CALL and REQUEST_SOURCE), and its confidence step.
_SIGNALS = {
    "loop": ("{call} called once per prompt in a loop", 0),
    "handler": ("{call} called once per {source}, with no batching in between", -1),
}


# What a batching finding rests on: the model and its precision, the batching itself and the
# generation call chosen. A default that only decides where the model runs or how its attention
# is computed (--cpu, --flash-attn2) is not named.
_RESTS_ON = frozenset(
    {MODEL, PRECISION, QUANT_CONFIG, BATCH_SIZE, SINGLE_REQUEST, GENERATION_CALL, REQUEST_SOURCE, TASK}
)


@rule("ECO105")
def batch_size_one(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    batch = setup.get(BATCH_SIZE)
    rows = _batch_rows(ctx)
    overhead = _measured(rows)
    notes = [ctx.facts["skill_note"]]
    if batch is not None and _as_int(batch) == 1:
        detail = f"batch limit of 1 ({setup.framework})"
        where = setup.where(BATCH_SIZE)
        snippet = _snippet(setup, None)
        yield ctx.finding(
            where,
            detail,
            evidence=rows,
            overhead=overhead,
            notes=notes,
            edit=_unlimit(setup),
            snippet=snippet,
            rests_on=_RESTS_ON,
        )
        return
    signal = setup.get(SINGLE_REQUEST)
    if signal in _SIGNALS:
        words, delta = _SIGNALS[signal]
        call = setup.get(GENERATION_CALL, "generate()")
        where = setup.where(SINGLE_REQUEST)
        snippet = _snippet(setup, signal)
        if setup.framework == "transformers" and setup.has(TASK):
            call = f"the pipeline {call}"
        detail = words.format(call=call, source=setup.get(REQUEST_SOURCE, "web request"))
        yield ctx.finding(
            where,
            detail,
            evidence=rows,
            overhead=overhead,
            notes=notes,
            confidence_delta=delta,
            snippet=snippet,
            rests_on=_RESTS_ON,
        )


def _snippet(setup: Setup, signal: str | None) -> str | None:
    """The fix that fits how the model is called (the YAML's snippets): a pipeline gets one call
    over the list with batch_size=, a model's generate() one padded batch, generate() per web
    request a batching server; a server framework its flag, or from Python its API (the
    framework's own key, checks/__init__.py). None: the framework's."""
    if setup.framework != "transformers":
        return None
    if signal == "handler":
        return "transformers handler"
    # a pipeline names its task, and only a pipeline takes batch_size=
    return "transformers pipeline" if setup.has(TASK) or setup.has(BATCH_SIZE) else None


def _measured(rows: list[dict]) -> dict | None:
    """The finding's headline, computed from the sweep's rows: batch 1's energy per request
    against the first larger compared batch, and the largest one in words ('+523% energy per
    request vs batch 8 (measured on A800; 23x batch 64's)'). None without the rows: the skill's
    figure stands."""
    by_size = {row["batch_size"]: row for row in rows}
    one = by_size.get(1)
    others = sorted(size for size in by_size if size != 1)
    if one is None or not others:
        return None
    first, last = by_size[others[0]], by_size[others[-1]]
    pct = round((float(one["value"]) / float(first["value"]) - 1) * 100)
    largest = float(one["value"]) / float(last["value"])
    return {
        "min_pct": pct,
        "max_pct": pct,
        "per": f"request vs batch {others[0]} (measured on {one['gpu']}; {largest:.0f}× batch {others[-1]}'s)",
        "source": f"measured: {first['id']} against {one['id']}",
    }


def _batch_rows(ctx: CheckContext) -> list[dict]:
    """The measured batch-size sweep at the sizes the rule compares: what batching buys per request."""
    chosen = []
    for size in ctx.facts["compared_batch_sizes"]:
        rows = [
            r for r in ctx.kb.rows.values() if r.get("metric") == "energy_j_per_request" and r.get("batch_size") == size
        ]
        if rows:
            chosen.append(min(rows, key=lambda r: r["id"]))
    return chosen


def _unlimit(setup: Setup) -> Intent:
    """What lifts an explicit limit of 1: the limit taken out where that restores the engine's own
    batching (the launcher's flag table says so), else 16 prompts per pipeline call or four
    parallel slots (llama.cpp). generate() once per prompt stays manual."""
    return Unset(BATCH_SIZE, otherwise=16 if setup.framework == "transformers" else 4)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
