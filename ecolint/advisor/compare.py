"""`ecolint compare A B [C…]`: precisions or GPUs side by side, one winner per dimension.

Each column is resolved like any setup (resolve.resolve on a Setup built from the options) and
gets the same three figures as `advise` (energy, throughput, memory), each n/a where no row has
it. A dimension has a winner only when at least two columns have a figure for it and one is
strictly best; there is no overall winner unless --objective names the dimension that decides.
"""

from __future__ import annotations

from typing import Any

from ecolint import __version__
from ecolint.advisor import figures as fig
from ecolint.advisor.advise import cross_day_caveats, eligibility, questions, verdict
from ecolint.advisor.inputs import AdviceInputError, Inputs, Option, is_precision, option, setup_for
from ecolint.knowledge import Knowledge
from ecolint.report import footer
from ecolint.resolve import BOUNDARY_TEXT, UNKNOWN_SIZE_REASON, Resolution, resolve
from ecolint.setups import MODEL, Setup

DIMENSIONS = ("energy", "throughput", "memory")


def axis_of(items: list[str], kb: Knowledge) -> str:
    """'precision' or 'gpu': every item must be the same kind, and at least two must differ."""
    if len(items) < 2:
        raise AdviceInputError("compare needs at least two precisions or two GPUs (e.g. `ecolint compare fp16 nf4`)")
    kinds = []
    for item in items:
        if is_precision(kb, item):
            kinds.append("precision")
        elif kb.gpu(item) is not None:
            kinds.append("gpu")
        else:
            raise AdviceInputError(
                f"'{item}' is neither a precision ecolint knows nor a GPU in its table (see rules/advice.yaml and rules/evidence.yaml)"
            )
    if len(set(kinds)) > 1:
        raise AdviceInputError("compare precisions with precisions or GPUs with GPUs, not both: " + ", ".join(items))
    return kinds[0]


def compare(items: list[str], inputs: Inputs, kb: Knowledge) -> dict[str, Any]:
    axis = axis_of(items, kb)
    if axis == "precision":
        columns = _precision_columns(items, inputs, kb)
    else:
        columns = _gpu_columns(items, inputs, kb)
    names = [c["name"] for c in columns]
    if len(set(names)) < len(names):
        raise AdviceInputError("compare needs different items; these name the same thing twice: " + ", ".join(items))
    winners = {dim: _winner(columns, dim, axis, kb) for dim in DIMENSIONS}
    objective = inputs.objective
    first = columns[0]
    evidence = _evidence(columns)
    return {
        "version": __version__,
        "command": "compare",
        "axis": axis,
        "objective": objective,
        "inputs": inputs.given(),
        "assumed": dict(inputs.assumed),
        "columns": [{k: v for k, v in c.items() if not k.startswith("_")} for c in columns],
        "winners": winners,
        "overall": None if objective is None else winners[objective]["name"],
        "evidence": evidence,
        "questions": _questions(kb, inputs, first["_res"]),
        "footer": footer(kb, evidence),
    }


def _precision_columns(items: list[str], inputs: Inputs, kb: Knowledge) -> list[dict[str, Any]]:
    if not inputs.gpu:
        inputs.assumed["gpu"] = kb.assumed_gpu
    columns = []
    for item in items:
        opt = option(kb, item)
        setup = setup_for(inputs, kb, opt)
        res = resolve(setup, kb, gpu_option=inputs.gpu, models=inputs.models, stack=inputs.stack)
        columns.append(_column(opt.label, opt, res, setup, inputs, kb))
    return columns


def _gpu_columns(items: list[str], inputs: Inputs, kb: Knowledge) -> list[dict[str, Any]]:
    if inputs.gpu:
        raise AdviceInputError("--gpu cannot be combined with a comparison of GPUs")
    if not inputs.precision:
        inputs.assumed["precision"] = "fp16"
    opt = option(kb, inputs.precision or "fp16")
    columns = []
    for item in items:
        setup = setup_for(inputs, kb, opt)
        res = resolve(setup, kb, gpu_option=item, models=inputs.models, stack=inputs.stack)
        columns.append(_column(res.gpu.name, opt, res, setup, inputs, kb))
    return columns


def _column(name: str, opt: Option, res: Resolution, setup: Setup, inputs: Inputs, kb: Knowledge) -> dict[str, Any]:
    model_id = setup.get(MODEL)
    batch = inputs.batch_size or 1
    energy = fig.energy(kb, res, model_id, opt, batch)
    tput = fig.throughput(kb, res, opt, batch)
    mem = fig.memory(kb, res, opt)
    eligible, crossover_note = eligibility(res, opt, mem, None)
    notes = [crossover_note] if crossover_note != "no crossover applies" else []
    if opt.analog:
        notes.append(opt.analog)
    notes += [BOUNDARY_TEXT[b] for b in res.boundaries]
    notes += cross_day_caveats(kb, energy.rows)
    return {
        "name": name,
        "precision": opt.key,
        "gpu": res.gpu_written or res.gpu.name,
        "architecture": None if res.architecture is None else res.architecture.key,
        "params_b": res.params_b,
        "energy": energy.to_json(),
        "throughput": tput.to_json(),
        "memory": mem.to_json(),
        "confidence": res.confidence,
        "verdict": verdict(kb, res, setup, opt),
        "reasons": list(res.reasons)
        + ([] if res.model or UNKNOWN_SIZE_REASON in res.reasons else ["model size unknown"]),
        "notes": notes,
        "_figures": {"energy": energy, "throughput": tput, "memory": mem},
        "_eligible": eligible,
        "_option": opt,
        "_res": res,
    }


def _winner(columns: list[dict[str, Any]], dim: str, axis: str, kb: Knowledge) -> dict[str, Any]:
    """The strictly best column for one dimension, with the basis of the comparison. A format
    the column's GPU cannot compute (BF16 on Turing, FP8 below Ada) wins nothing."""
    left_out = {c["name"]: _cannot_run(c) for c in columns if _cannot_run(c)}
    said = [f"{name} left out ({why})" for name, why in left_out.items()]
    ranked = _ranked_winner([c for c in columns if c["name"] not in left_out], dim, axis, kb)
    return {**ranked, "basis": "; ".join([*said, ranked["basis"]])}


def _cannot_run(column: dict[str, Any]) -> str | None:
    opt: Option = column["_option"]
    res: Resolution = column["_res"]
    if opt.needs not in res.missing_formats:
        return None
    return f"{res.gpu.name} has no {opt.needs.upper()} tensor cores"  # the column's notes say more


def _ranked_winner(columns: list[dict[str, Any]], dim: str, axis: str, kb: Knowledge) -> dict[str, Any]:
    cells = [(c["name"], c["_figures"][dim]) for c in columns if c["_figures"][dim].available]
    if len(cells) < 2:
        return {"name": None, "basis": "fewer than two columns have this figure"}
    if dim == "energy":
        scored, basis = _energy_scores(cells, axis)
    elif dim == "throughput":
        scored, basis = (
            [(n, -f.value) for n, f in cells],
            "highest tok/s of the nearest rows (rows may differ per column)",
        )
    else:
        scored, basis = [(n, f.value) for n, f in cells], "smallest weight estimate (params × bytes per weight)"
    if dim == "energy":
        # A column advise would not recommend never wins energy: the next best does, as in advise.
        by_name = {c["name"]: c for c in columns}
        passed_over: dict[str, str] = {}
        for name, _ in sorted(scored, key=lambda item: item[1]):
            barred = _barred(by_name[name], kb)
            if barred is None:
                break
            passed_over[name] = f"{name} has a lower figure, but {barred}"
        scored = [(n, score) for n, score in scored if n not in passed_over]
        basis = "; ".join([*passed_over.values(), basis])
    if not scored:
        return {"name": None, "basis": basis}
    best = min(score for _, score in scored)
    top = [n for n, score in scored if score == best]
    if len(top) > 1:
        return {"name": None, "basis": f"tie between {', '.join(top)} ({basis})"}
    return {"name": top[0], "basis": basis + _unlike(columns, dim)}


def _barred(column: dict[str, Any], kb: Knowledge) -> str | None:
    """Why a column with the best energy figure is still not the energy winner: below its
    crossover (the verdict `check` and `advise` give), or INT8 without a same-session row that
    says it saves energy (issue 14: INT8 never saved energy against a same-day FP16)."""
    opt: Option = column["_option"]
    if not column["_eligible"] and opt.rows in ("nf4", "int8"):
        return "advise would not recommend it: " + eligibility_reason(column)
    if opt.rows != "int8":
        return None
    figure: fig.Figure = column["_figures"]["energy"]
    # A row with a caveat compares across days (evidence.yaml): not a same-session saving.
    same_session = [
        row for row in figure.rows if row.get("session") and not row.get("caveat") and (row.get("delta_pct") or 0) < 0
    ]
    if figure.kind == "nearest-row" and same_session:
        return None
    return "no same-session measured row shows INT8 saving energy against its own FP16"


def eligibility_reason(column: dict[str, Any]) -> str:
    notes = column["notes"]
    return notes[0] if notes else "not eligible"


def _unlike(columns: list[dict[str, Any]], dim: str) -> str:
    """Said when the winning comparison spans rows of different models or sessions."""
    rows = [row for c in columns for row in c["_figures"][dim].rows if row.get("session")]
    models = sorted({str(row.get("model")) for row in rows})
    sessions = sorted({str(row["session"]) for row in rows})
    parts = []
    if len(models) > 1:
        parts.append(f"models {', '.join(models)}")
    if len(sessions) > 1:
        parts.append(f"sessions {', '.join(sessions)}")
    if not parts:
        return ""
    return f"; not like with like: the rows are of different {' and of different '.join(parts)}"


def _energy_scores(cells: list[tuple[str, fig.Figure]], axis: str) -> tuple[list[tuple[str, float]], str]:
    units = {f.unit for _, f in cells}
    same_unit = len(units) == 1 and all(f.value is not None for _, f in cells)
    if same_unit and (axis == "gpu" or all(f.kind == "request-table" for _, f in cells)):
        return [(n, float(f.value)) for n, f in cells], f"lowest {units.pop()}"  # type: ignore[arg-type]
    scored = [(n, score) for n, f in cells if (score := f.score()) is not None]
    return [
        (n, score) for n, score in scored
    ], "largest saving vs FP16 (each figure against its own FP16 run; a headline range at its least favourable end)"


def _evidence(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for column in columns:
        for figure in column["_figures"].values():
            rows.extend(r for r in figure.rows if r not in rows)
    return rows


def _questions(kb: Knowledge, inputs: Inputs, res: Resolution) -> list[dict[str, str]]:
    # Only what changes the numbers: the GPU, the model, the precision of a GPU comparison.
    wanted = {"gpu", "model", "precision"}
    return [q for q in questions(kb, inputs, res) if q["input"] in wanted]
