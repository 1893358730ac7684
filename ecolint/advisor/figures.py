"""The numbers behind an option: energy, throughput and memory, each with where it came from.

Every value is either quoted from rules/evidence.yaml (the skill's J/request table, a measured row,
a headline range) or derived by a formula that is stated next to it (a change in percent between
two quoted values, parameters × bytes per weight). Nothing is interpolated; where no row has the
figure the answer is "n/a", never a guess.

Lookup order for energy: the J/request table when the GPU and the model match it; else the nearest
measured row on the GPU's (measured) architecture, said to be the nearest row; else the skill's
crossover headline ranges, said to be an extrapolation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecolint.advisor.inputs import Option, advice_data
from ecolint.knowledge import Knowledge, nearest_rows, request_rows
from ecolint.resolve import Resolution

ENERGY_1K = "energy_j_per_1k_tokens"
TAG_TEXT = {
    "direct": "measured GPU",
    "same-architecture": "same-architecture extrapolation, ±15–25%",
    "cross-architecture": "cross-architecture",
}


@dataclass
class Figure:
    """One number, its unit and its provenance. value None = n/a (no row has it)."""

    dimension: str  # energy | throughput | memory
    value: float | None
    unit: str
    kind: str  # request-table | nearest-row | row-fp16-baseline | headline | formula | none
    says: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    baseline_fp16: float | None = None
    delta_pct: float | None = None  # vs FP16 (quoted from the row, or derived)
    delta_range_pct: tuple[float, float] | None = None  # headline extrapolations
    derived: list[dict[str, Any]] = field(default_factory=list)
    confidence: int = 1
    tag: str = "direct"

    @property
    def available(self) -> bool:
        return self.value is not None or self.delta_pct is not None or self.delta_range_pct is not None

    def score(self) -> float | None:
        """Energy change vs FP16 for ranking; a headline range counts at its least favourable end."""
        if self.delta_pct is not None:
            return float(self.delta_pct)
        if self.delta_range_pct is not None:
            return float(max(self.delta_range_pct))
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "kind": self.kind,
            "says": self.says,
            "rows": [row["id"] for row in self.rows],
            "baseline_fp16": self.baseline_fp16,
            "delta_pct": self.delta_pct,
            "delta_range_pct": None if self.delta_range_pct is None else list(self.delta_range_pct),
            "derived": self.derived,
            "confidence": self.confidence,
            "tag": self.tag,
        }


def none(dimension: str, unit: str, why: str, confidence: int) -> Figure:
    return Figure(dimension, None, unit, "none", why, confidence=confidence)


def tag_for(res: Resolution, kb: Knowledge) -> str:
    """How far the numbers travel: measured GPU, same architecture, or across architectures."""
    unknown_name = res.gpu_written is not None and kb.gpu(res.gpu_written) is None
    if res.gpu_source == "assumed" or "non-nvidia" in res.boundaries or unknown_name:
        return "cross-architecture"
    if "unmeasured-gpu" in res.boundaries:
        return "same-architecture"
    return "direct"


def table_gpu(res: Resolution) -> str | None:
    """The GPU whose J/request rows apply: the GPU itself if measured, else its architecture's."""
    if res.gpu.vendor == "nvidia" and res.gpu.measured:
        return res.gpu.name
    return res.architecture.measured_gpu if res.architecture else None


def num(value: float | int) -> str:
    """A figure as the YAML writes it: 47.0 stays '47.0', 3911.75 stays '3911.75'."""
    if isinstance(value, float):
        return repr(value) if abs(value) < 1e15 else f"{value:g}"
    return str(value)


def derived_change(new: float, old: float) -> dict[str, Any]:
    """A change in percent between two quoted values, rounded to a whole percent."""
    value = round((new - old) / old * 100)
    return {
        "name": "change_pct",
        "value": value,
        "formula": f"round(({num(new)} - {num(old)}) / {num(old)} × 100)",
        "inputs": [new, old],
    }


# -- energy ------------------------------------------------------------------------------------


def energy(kb: Knowledge, res: Resolution, model_id: str | None, opt: Option, batch: int) -> Figure:
    tag = tag_for(res, kb)
    base = _capped(res)
    if opt.rows is None:
        return none("energy", "", f"no measured row for {opt.label}", base)
    figure = _from_request_table(kb, res, model_id, opt)
    if figure is None and res.params_b is None:
        return none("energy", "", "model size unknown: no row can be chosen", 1)
    figure = figure or _from_rows(kb, res, opt, batch) or _from_headline(kb, res, opt)
    if figure is None:
        arch = res.arch_label if res.architecture else "this GPU"
        return none("energy", "", f"no {opt.label} row on {arch} and no headline for it", base)
    figure.tag = tag
    return figure


def _capped(res: Resolution) -> int:
    # The skill's ★★★ needs a known model size.
    return res.confidence if res.params_b is not None else 1


def _threshold_ok(row: dict[str, Any], opt: Option) -> bool:
    if opt.threshold is None:
        return True
    stated = row.get("llm_int8_threshold")
    # The A800 table row does not state its threshold; it only stands in for "pure" INT8.
    return stated == opt.threshold or (stated is None and opt.threshold == 0.0)


def _from_request_table(kb: Knowledge, res: Resolution, model_id: str | None, opt: Option) -> Figure | None:
    gpu = table_gpu(res)
    if gpu is None or not model_id:
        return None
    rows = [r for r in request_rows(kb, gpu, model_id, (str(opt.rows),)) if _threshold_ok(r, opt)]
    fp16 = request_rows(kb, gpu, model_id, ("fp16",))
    if not rows or not fp16:
        return None
    row, base = rows[0], fp16[0]
    says = f"the skill's J/request table: {row['gpu']} · {row['model']} · {opt.label}"
    figure = Figure(
        "energy",
        row["j_per_request"],
        "J/request",
        "request-table",
        says,
        rows=[row],
        baseline_fp16=base["j_per_request"],
    )
    if row is base:
        figure.delta_pct = 0.0
    else:
        change = derived_change(row["j_per_request"], base["j_per_request"])
        figure.delta_pct, figure.derived = change["value"], [change]
        figure.rows = [row, base]
    if row.get("llm_int8_threshold") is None and opt.threshold is not None:
        figure.says += " (the table does not state the INT8 threshold)"
    figure.confidence = res.confidence
    return figure


def _batch_ok(row: dict[str, Any], batch: int) -> bool:
    return row.get("batch_size") in (None, batch)


def candidate_rows(
    kb: Knowledge, res: Resolution, precision: str, opt: Option, batch: int, *, need: str | None = None
) -> list[dict[str, Any]]:
    """Rows on the resolved architecture for this option, nearest model size first."""
    arch = res.architecture.key if res.architecture else None
    rows = nearest_rows(
        kb, arch, precision, res.params_b, threshold=opt.threshold, metric=ENERGY_1K, limit=10_000, session=res.session
    )
    rows = [r for r in rows if _batch_ok(r, batch)]
    if opt.threshold is not None:
        rows = [r for r in rows if r.get("llm_int8_threshold") == opt.threshold]
    if need is not None:
        rows = [r for r in rows if r.get(need) is not None]
    return rows


def nearest_fp16(
    kb: Knowledge, res: Resolution, opt: Option, batch: int, direct_key: str, paired_key: str
) -> tuple[dict[str, Any], float, bool] | None:
    """The FP16 figure nearest in model size: an FP16 row, or the FP16 run an NF4 row was measured
    against (same file, same session); an FP16 row wins a tie. Returns (row, value, paired?)."""
    direct = candidate_rows(kb, res, "fp16", opt, batch, need=direct_key)
    paired = candidate_rows(kb, res, "nf4", opt, batch, need=paired_key)
    options = [(r, float(r[direct_key]), False) for r in direct[:1]] + [
        (r, float(r[paired_key]), True) for r in paired[:1]
    ]
    if not options:
        return None
    target = res.params_b or 0.0
    return min(options, key=lambda o: (abs(float(o[0].get("params_b") or 0) - target), o[2]))


def _row_confidence(res: Resolution, row: dict[str, Any]) -> int:
    same = row.get("params_b") == res.params_b and row.get("gpu") == res.gpu.name
    return res.confidence if same else min(res.confidence, 2)


def _where(row: dict[str, Any]) -> str:
    size = f" ({row['params_b']:g}B)" if row.get("params_b") is not None else ""
    return f"{row['gpu']} · {row['model']}{size}"


def _from_rows(kb: Knowledge, res: Resolution, opt: Option, batch: int) -> Figure | None:
    label = res.arch_label if res.architecture else ""
    if opt.rows == "fp16":
        found = nearest_fp16(kb, res, opt, batch, "value", "baseline_fp16")
        if found is None:
            return None
        row, value, paired = found
        kind = "row-fp16-baseline" if paired else "nearest-row"
        says = (
            f"the FP16 run paired with the nearest NF4 row on {label}: {_where(row)}"
            if paired
            else f"nearest measured FP16 row on {label}: {_where(row)}"
        )
        return Figure(
            "energy",
            value,
            "J/1k tok",
            kind,
            says,
            rows=[row],
            baseline_fp16=value,
            delta_pct=0.0,
            confidence=_row_confidence(res, row),
        )
    rows = candidate_rows(kb, res, str(opt.rows), opt, batch)
    if not rows:
        return None
    row = rows[0]
    says = f"nearest measured row on {label}: {_where(row)}, against its own FP16 run"
    return Figure(
        "energy",
        row["value"],
        "J/1k tok",
        "nearest-row",
        says,
        rows=[row],
        baseline_fp16=row.get("baseline_fp16"),
        delta_pct=row.get("delta_pct"),
        confidence=_row_confidence(res, row),
    )


def _from_headline(kb: Knowledge, res: Resolution, opt: Option) -> Figure | None:
    """The skill's crossover headlines, for a model of known size on a known architecture."""
    arch, params = res.architecture, res.params_b
    if arch is None or params is None:
        return None
    if opt.rows == "nf4":
        crossover = res.crossover("nf4") or arch.nf4_crossover_b
        key = "above_crossover_saving_pct" if params >= crossover else "below_crossover_penalty_pct"
        headline = kb.headlines[key]
        sign = -1 if params >= crossover else 1
        span = (sign * float(headline["min"]), sign * float(headline["max"]))
        side = "above" if params >= crossover else "below"
        says = (
            f"extrapolated: no NF4 row on {res.arch_label}; {params:g}B is {side} the {res.arch_label} NF4 crossover"
            f" ({crossover:g}B), so the skill's headline applies ({headline['source']})"
        )
        return Figure(
            "energy", None, "% vs FP16", "headline", says, delta_range_pct=span, confidence=min(res.confidence, 2)
        )
    int8_crossover = res.crossover("int8") or arch.int8_crossover_b
    if opt.rows == "int8" and params < int8_crossover:
        overhead = kb.rule("ECO103").overhead or {}
        span = (float(overhead["min_pct"]), float(overhead["max_pct"]))
        says = (
            f"extrapolated: no INT8 row on {res.arch_label}; {params:g}B is below the {res.arch_label} INT8 crossover"
            f" ({int8_crossover:g}B), so the skill's below-crossover range applies ({overhead.get('source')})"
        )
        return Figure(
            "energy", None, "% vs FP16", "headline", says, delta_range_pct=span, confidence=min(res.confidence, 2)
        )
    return None


# -- throughput --------------------------------------------------------------------------------


def throughput(kb: Knowledge, res: Resolution, opt: Option, batch: int) -> Figure:
    tag = tag_for(res, kb)
    if opt.rows is None or res.params_b is None or res.architecture is None:
        return none(
            "throughput", "tok/s", "no row can be chosen" if opt.rows else f"no measured row for {opt.label}", 1
        )
    label = res.arch_label
    if opt.rows == "fp16":
        found = nearest_fp16(kb, res, opt, batch, "throughput_tok_s", "baseline_fp16_throughput_tok_s")
        if found is None:
            return none("throughput", "tok/s", f"no FP16 row with a throughput on {label}", res.confidence)
        row, value, paired = found
        says = (
            f"the FP16 run paired with the nearest NF4 row on {label}: {_where(row)}"
            if paired
            else f"nearest FP16 row with a throughput on {label}: {_where(row)}"
        )
        return _tput(row, value, says, res, tag)
    rows = candidate_rows(kb, res, str(opt.rows), opt, batch, need="throughput_tok_s")
    if not rows:
        return none("throughput", "tok/s", f"no {opt.label} row with a throughput on {label}", res.confidence)
    row = rows[0]
    return _tput(
        row, row["throughput_tok_s"], f"nearest {opt.label} row with a throughput on {label}: {_where(row)}", res, tag
    )


def _tput(row: dict[str, Any], value: float, says: str, res: Resolution, tag: str) -> Figure:
    return Figure(
        "throughput", value, "tok/s", "nearest-row", says, rows=[row], confidence=_row_confidence(res, row), tag=tag
    )


# -- memory ------------------------------------------------------------------------------------


def memory(kb: Knowledge, res: Resolution, opt: Option) -> Figure:
    """Weights only: parameters × bytes per weight. An estimate, and said to be one."""
    spec = advice_data(kb).get("memory", {})
    if opt.bytes_per_weight is None:
        return none("memory", "GB", f"bytes per weight of {opt.label} unknown", 1)
    if res.model is None:
        return none("memory", "GB", "model size unknown", 1)
    params = res.model.memory_b
    if params is None:
        return none("memory", "GB", "mixture of experts: the total parameter count (what memory needs) is unknown", 1)
    per = opt.bytes_per_weight
    value = round(params * per, 2)
    derived = {"name": "memory_gb", "value": value, "formula": f"{num(params)} × {num(per)}", "inputs": [params, per]}
    says = f"estimate: {spec.get('formula', 'params × bytes per weight')}; {spec.get('caveat', '')}".rstrip("; ")
    return Figure("memory", value, "GB", "formula", says, derived=[derived], confidence=res.confidence, tag="formula")


def quality_rows(kb: Knowledge, opt: Option, params: float | None, limit: int = 2) -> list[dict[str, Any]]:
    """Rows with a perplexity change for this option, nearest model size first (any GPU: the
    perplexity cost is a property of the format and the model, measured wherever it was)."""
    if opt.rows in (None, "fp16"):
        return []
    rows = [
        r
        for r in kb.rows.values()
        if r.get("precision") == opt.rows
        and r.get("perplexity_delta_pct") is not None
        and _threshold_ok(r, opt)
        and r.get("llm_int8_threshold") == opt.threshold
    ]
    target = params if params is not None else 0.0
    rows.sort(
        key=lambda r: (abs(float(r.get("params_b") or 0) - target), -abs(float(r["perplexity_delta_pct"])), r["id"])
    )
    chosen = rows[:limit]
    # The worst measured cost is always shown too (for INT8 threshold 0.0: +25.38% on Yi-1.5-6B).
    worst = max(rows, key=lambda r: (float(r["perplexity_delta_pct"]), r["id"]), default=None)
    if worst is not None and worst not in chosen:
        chosen.append(worst)
    return chosen
