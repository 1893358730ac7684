"""`ecolint advise`: one setup in, one recommendation out, every number with its source.

The answer is a plain dict (the JSON document; the text report is rendered from it), built in a
fixed order: conclusion, baseline against recommendation, the evidence rows, the ★ confidence and
its reasons, the config line for the framework, risks and boundary notes, follow-up questions for
whatever was not given, the evidence footer.

Recommendation policy (conservative in both directions): a quantized option is only eligible above
its architecture's crossover (the skill's headline), and is only recommended when the figures
behind it (J/request table, nearest measured row or headline) also show it saving energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecolint import __version__
from ecolint.advisor import figures as fig
from ecolint.advisor.inputs import Inputs, Option, advice_data, model_is_size, option, setup_for
from ecolint.knowledge import Knowledge
from ecolint.report import PARAMS_HOW, footer
from ecolint.resolve import (
    BOUNDARY_TEXT,
    UNKNOWN_SIZE_REASON,
    Resolution,
    crossover_verdict,
    resolve,
    setup_summary,
    verdict_rows,
)
from ecolint.setups import MODEL, PURPOSE, Setup

MINUS = "\u2212"
_BARE_INT8 = ("int8", "8bit", "8-bit")


@dataclass
class Assessed:
    """An option with its three figures and whether it may be recommended (and why)."""

    option: Option
    energy: fig.Figure
    throughput: fig.Figure
    memory: fig.Figure
    eligible: bool
    reason: str

    @property
    def confidence(self) -> int:
        # The energy figure decides; when it is n/a its confidence is the setup's (capped).
        return self.energy.confidence

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": self.option.key,
            "label": self.option.label,
            "eligible": self.eligible,
            "reason": self.reason,
            "energy": self.energy.to_json(),
            "throughput": self.throughput.to_json(),
            "memory": self.memory.to_json(),
            "confidence": self.confidence,
        }


# -- number wording (shared with compare and the text report) ----------------------------------


num = fig.num


def pct(value: float | int) -> str:
    text = num(abs(value))
    return f"{MINUS}{text}%" if value < 0 else f"+{text}%"


def span(low: float, high: float) -> str:
    return f"{pct(low)} to {pct(high)}"


def figure_text(f: fig.Figure) -> str:
    if not f.available:
        return "n/a"
    if f.value is None and f.delta_range_pct is not None:
        return f"{span(*f.delta_range_pct)} vs FP16 (headline)"
    text = f"{num(f.value)} {f.unit}"  # type: ignore[arg-type]
    if f.kind == "nearest-row" and f.delta_pct is not None and f.unit == "J/1k tok" and f.delta_pct != 0:
        text += f" ({pct(f.delta_pct)} vs its FP16 run)"
    return text


# -- the flow ---------------------------------------------------------------------------------


def advise(inputs: Inputs, kb: Knowledge) -> dict[str, Any]:
    """The advisory answer for setup options given on the command line."""
    baseline = option(kb, inputs.precision) if inputs.precision else option(kb, "fp16")
    if inputs.precision and inputs.precision.strip().lower() in _BARE_INT8:
        # "int8" names the skill's INT8 rows (threshold 0.0); bitsandbytes' own default is 6.0.
        inputs.assumed["llm_int8_threshold"] = 0.0
    setup = setup_for(inputs, kb, baseline)
    res = resolve(setup, kb, gpu_option=inputs.gpu, models=inputs.models, stack=inputs.stack)
    return build(setup, res, inputs, baseline, kb)


def build(setup: Setup, res: Resolution, inputs: Inputs, baseline: Option, kb: Knowledge) -> dict[str, Any]:
    """The advisory answer for a resolved setup (from options, or from code via `explain`)."""
    _note_assumptions(inputs, res, kb)
    model_id = setup.get(MODEL)
    batch = inputs.batch_size or 1
    assessed = [_assess(kb, res, model_id, opt, batch, inputs.max_memory_gb) for opt in _options(kb, baseline)]
    objective = inputs.objective or "energy"
    ranked = rank(assessed, objective)
    base = assessed[0]
    rec = _choose(ranked, res)
    comparison = _comparison(base, rec, assessed)
    document: dict[str, Any] = {
        "version": __version__,
        "command": "advise",
        "mode": "recommend" if inputs.max_memory_gb is not None or objective == "memory" else "optimize",
        "objective": objective,
        "conclusion": _conclusion(res, setup, base, rec, objective, assessed),
        "comparison": comparison,
        "inputs": inputs.given(),
        "assumed": dict(inputs.assumed),
        "setup": setup_summary(setup, res),
        "baseline": base.to_json(),
        "recommended": None if rec is None else rec.to_json(),
        "options": [a.to_json() for a in ranked],
        "evidence": _evidence(comparison, base, rec, objective),
        "confidence": _confidence(res, rec or base, setup),
        "config": _config(kb, inputs, _runnable(kb, res, (rec or base).option), model_id),
        "risks": _risks(kb, res, base, rec, assessed, inputs),
        "boundaries": list(res.boundaries),
        "questions": questions(kb, inputs, res),
        "verdict": verdict(kb, res, setup, baseline),
    }
    document["footer"] = footer(kb, document["evidence"])
    return document


def checked_precision(opt: Option) -> str:
    """The precision as the extractors write it (the one `check` judges): INT8 at either threshold is int8."""
    return "int8" if opt.rows == "int8" and opt.key.startswith("int8") else opt.key


def verdict(kb: Knowledge, res: Resolution, setup: Setup, opt: Option) -> dict[str, Any] | None:
    """The crossover verdict `check` gives this setup (ECO102/ECO103), from the same decision
    (resolve.crossover_verdict) and with the same numbers: crossover, overhead, quoted rows,
    confidence. None for a precision no crossover rule judges."""
    found = crossover_verdict(res, checked_precision(opt))
    if found is None:
        return None
    spec = kb.rule(found.code)
    silent = set(res.boundaries).intersection(spec.silent_on) or setup.get(PURPOSE) == "training"
    rows = verdict_rows(kb, res, found.family, setup.get(MODEL))
    return {
        "code": found.code,
        "family": found.family,
        "crossover_b": found.crossover_b,
        "params_b": found.params_b,
        "below": found.below,
        "reported": bool(found.below) and not silent,
        "overhead": spec.overhead if found.below else None,
        "rows": [row["id"] for row in rows],
        "moved": found.moved,
        "confidence": res.confidence,
    }


def _note_assumptions(inputs: Inputs, res: Resolution, kb: Knowledge) -> None:
    """Record every default taken, so the report can say each one out loud."""
    if not inputs.gpu and res.gpu_source == "assumed":
        inputs.assumed["gpu"] = kb.assumed_gpu
    if not inputs.precision:
        inputs.assumed["precision"] = "fp16"
    if not inputs.batch_size and not inputs.batched:
        inputs.assumed["batch_size"] = 1
    if not inputs.objective:
        inputs.assumed["objective"] = "energy"
    if not inputs.framework:
        inputs.assumed["framework"] = advice_data(kb).get("default_framework", "transformers")


def _options(kb: Knowledge, baseline: Option) -> list[Option]:
    chosen = [baseline]
    for key in advice_data(kb).get("candidates", ["fp16", "nf4", "int8"]):
        opt = option(kb, key)
        same_rows = opt.rows == baseline.rows and opt.threshold == baseline.threshold
        if opt.key != baseline.key and not same_rows:
            chosen.append(opt)
    return chosen


def _assess(
    kb: Knowledge, res: Resolution, model_id: str | None, opt: Option, batch: int, max_memory: float | None
) -> Assessed:
    energy = fig.energy(kb, res, model_id, opt, batch)
    tput = fig.throughput(kb, res, opt, batch)
    mem = fig.memory(kb, res, opt)
    eligible, reason = eligibility(res, opt, mem, max_memory)
    return Assessed(opt, energy, tput, mem, eligible, reason)


def eligibility(res: Resolution, opt: Option, mem: fig.Figure, max_memory: float | None) -> tuple[bool, str]:
    """Whether an option may be recommended, and why (the crossover, the memory limit, ECO101)."""
    arch, params = res.architecture, res.params_b
    if opt.needs in res.missing_formats:
        return False, res.capability_notes[opt.needs]
    if opt.key == "int8-default":
        return False, "INT8 with the default llm_int8_threshold=6.0 is the ECO101 anti-pattern"
    if opt.rows is None:
        return False, f"no measured rows for {opt.label}"
    if max_memory is not None and mem.value is not None and mem.value > max_memory:
        return False, f"about {num(mem.value)} GB of weights (estimate) is over --max-memory {num(max_memory)} GB"
    if opt.rows not in ("nf4", "int8") or arch is None:
        return True, "no crossover applies"
    family = "NF4" if opt.rows == "nf4" else "INT8"
    crossover = res.crossover(opt.rows)
    if crossover is None:
        return True, "no crossover applies"
    if params is None:
        return False, f"model size unknown: the {res.arch_label} {family} crossover is {crossover:g}B"
    if params < crossover:
        return False, f"{params:g}B is below the {res.arch_label} {family} crossover ({crossover:g}B)"
    return True, f"{params:g}B is above the {res.arch_label} {family} crossover ({crossover:g}B)"


def rank(assessed: list[Assessed], objective: str) -> list[Assessed]:
    """Eligible options first, best first for the objective; n/a figures last; ties keep order."""

    def key(item: tuple[int, Assessed]) -> tuple:
        index, a = item
        if objective == "throughput":
            value = a.throughput.value
            score: tuple = (value is None, -(value or 0.0))
        elif objective == "memory":
            value = a.memory.value
            score = (value is None, value or 0.0)
        else:
            s = a.energy.score()
            score = (s is None, s or 0.0, a.energy.value if a.energy.unit == "J/request" else 0.0)
        return (not a.eligible, *score, index)

    return [a for _, a in sorted(enumerate(assessed), key=key)]


def _choose(ranked: list[Assessed], res: Resolution) -> Assessed | None:
    """The best eligible option with a figure for the objective; None when nothing can be ranked."""
    if res.params_b is None:
        return None
    for a in ranked:
        if a.eligible and (a.energy.available or a.throughput.available or a.memory.available):
            return a
    return None


# -- the sections -----------------------------------------------------------------------------


def _subject(setup: Setup, res: Resolution) -> str:
    model = setup.get(MODEL)
    gpu = res.gpu_written or f"{res.gpu.name} (assumed)"
    if model:
        return f"{model} on {gpu}"
    return f"a model on {gpu}"


def _conclusion(
    res: Resolution, setup: Setup, base: Assessed, rec: Assessed | None, objective: str, assessed: list[Assessed]
) -> str:
    subject = _subject(setup, res)
    arch = res.architecture
    if rec is None:
        if res.params_b is None and arch is not None:
            return (
                f"Cannot rank the options without the model size: on {res.arch_label}, NF4 saves energy above"
                f" {res.crossover('nf4'):g}B and INT8 (llm_int8_threshold=0.0) above {res.crossover('int8'):g}B; below them FP16 uses less."
            )
        return f"No option fits the constraints for {subject}: " + "; ".join(
            f"{a.option.label}: {a.reason}" for a in assessed
        )
    if rec is base:
        return f"Keep {base.option.label} for {subject}: {_why_keep(assessed, base, objective)}."
    gain = _gain_text(base, rec, objective, assessed)
    if objective == "energy" and not base.energy.available:
        where = f" on {res.arch_label}" if arch else ""
        return f"No measured energy figure for {base.option.label}{where}; of the measured options, {rec.option.label} uses the least for {subject}: {gain}."
    if objective == "energy" and rec.option.rows == "fp16":
        return f"Recommend {rec.option.label} for {subject}: {gain}."
    why = rec.reason if objective == "energy" else f"objective: {objective}"
    return f"Recommend {rec.option.label} for {subject}: {gain}; {why}."


def _why_keep(assessed: list[Assessed], base: Assessed, objective: str) -> str:
    others = [a for a in assessed if a is not base]
    blocked = [a.reason for a in others if not a.eligible and a.option.key != "int8-default"]
    worse = [a.option.label for a in others if a.eligible and a.energy.available]
    parts = []
    if blocked:
        parts.append("; ".join(blocked))
    if worse:
        parts.append(f"the figures show no {objective} gain from {', '.join(worse)}")
    return "; ".join(parts) or "no other option has a figure"


def _gain_text(base: Assessed, rec: Assessed, objective: str, assessed: list[Assessed]) -> str:
    if objective == "throughput":
        return f"{figure_text(rec.throughput)} against {figure_text(base.throughput)} (nearest rows)"
    if objective == "memory":
        return f"about {figure_text(rec.memory)} of weights against {figure_text(base.memory)} (estimate)"
    if rec.option.rows == "fp16":
        lead = "it is the FP16 reference"
        if rec is not base and base.energy.score() is not None:
            lead = f"{base.option.label} is {delta_text(base.energy)}"
        return f"{lead}; {_why_keep(assessed, rec, objective)}"
    b, r = base.energy, rec.energy
    if b.unit == r.unit == "J/request" and b.value is not None and r.value is not None:
        change = fig.derived_change(r.value, b.value)["value"]
        return f"{num(b.value)} → {num(r.value)} J/request ({pct(change)})"
    return delta_text(r) if r.score() is not None else "the figures favour it"


def delta_text(f: fig.Figure) -> str:
    """An energy figure as a change vs FP16, saying where the change comes from."""
    if f.delta_range_pct is not None and f.delta_pct is None:
        return f"{span(*f.delta_range_pct)} energy per token vs FP16 (headline extrapolation)"
    if f.kind == "request-table":
        return f"{pct(f.delta_pct)} energy per request vs FP16 (the skill's J/request table)"  # type: ignore[arg-type]
    return f"{pct(f.delta_pct)} energy per token vs FP16 on the nearest measured row"  # type: ignore[arg-type]


def _comparison(base: Assessed, rec: Assessed | None, assessed: list[Assessed]) -> dict[str, Any] | None:
    """'Baseline FP16 → 71.2 J/request · Recommended NF4 → 47.0 J/request (−34%)', with the rows
    behind it. When the baseline is kept, the best alternative is shown for contrast."""
    if rec is None:
        return None
    if rec is base:
        return _keep_line(base, assessed)
    b, r = base.energy, rec.energy
    b_text, r_text, change, rows = figure_text(b), figure_text(r), None, r.rows + b.rows
    if b.unit == r.unit == "J/request" and b.value is not None and r.value is not None:
        change = fig.derived_change(r.value, b.value)
        suffix = f" ({pct(change['value'])})"
    elif (
        r.kind == "nearest-row"
        and base.option.rows == "fp16"
        and r.baseline_fp16 is not None
        and r.delta_pct is not None
    ):
        # Same row, same file: the FP16 run the quantized figure was measured against.
        b_text, r_text, rows = f"{num(r.baseline_fp16)} J/1k tok", f"{num(r.value)} J/1k tok", list(r.rows)  # type: ignore[arg-type]
        suffix = f" ({pct(r.delta_pct)})"
    else:
        suffix = ""
    line = f"Baseline {base.option.label} → {b_text} · Recommended {rec.option.label} → {r_text}{suffix}"
    return {"line": line, "source": r.says, "tag": r.tag, "change": change, "rows": _unique(rows)}


def _score_or_worst(assessed: Assessed) -> float:
    score = assessed.energy.score()
    return float("inf") if score is None else score


def _keep_line(base: Assessed, assessed: list[Assessed]) -> dict[str, Any]:
    others = [a for a in assessed if a is not base and a.energy.available]
    best = min(others, key=_score_or_worst, default=None)
    line = f"Baseline {base.option.label} → {figure_text(base.energy)} · Recommended {base.option.label} (keep)"
    rows = list(base.energy.rows)
    if best is not None:
        line += f" · {best.option.label} would be {figure_text(best.energy)}"
        rows += best.energy.rows
    source = base.energy.says if best is None else f"{base.energy.says}; {best.energy.says}"
    return {"line": line, "source": source, "tag": base.energy.tag, "change": None, "rows": _unique(rows)}


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({row["id"]: row for row in rows}.values())


def _evidence(
    comparison: dict[str, Any] | None, base: Assessed, rec: Assessed | None, objective: str
) -> list[dict[str, Any]]:
    """The rows behind the numbers shown: the comparison line, and the throughput when it decides."""
    rows = list(comparison["rows"]) if comparison else []
    if objective == "throughput":
        for a in [base] + ([rec] if rec is not None else []):
            rows += a.throughput.rows
    return _unique(rows)


def _confidence(res: Resolution, chosen: Assessed, setup: Setup) -> dict[str, Any]:
    reasons = list(res.reasons)
    if res.model is None:
        reasons += [] if UNKNOWN_SIZE_REASON in reasons else ["model size unknown"]
    else:
        how = (
            "given as a size" if model_is_size(str(setup.get(MODEL))) else PARAMS_HOW.get(res.model.how, res.model.how)
        )
        reasons.append(f"model size {res.model.params_b:g}B ({how})")
    energy = chosen.energy
    if energy.available and energy.confidence < res.confidence:
        reasons.append(f"the energy figure is not a direct measurement of this setup: {energy.says}")
    # The setup's confidence exactly as `check` rates it (resolve.py: GPU, stack, a known size); a
    # figure that is not a direct measurement says so in the reasons, not by other stars.
    return {"stars": res.confidence, "reasons": reasons}


def _runnable(kb: Knowledge, res: Resolution, opt: Option) -> Option:
    """The option whose config line is shown: FP16 in place of a format this GPU cannot compute
    (BF16 on Turing, FP8 below Ada)."""
    return option(kb, "fp16") if opt.needs in res.missing_formats else opt


def _config(kb: Knowledge, inputs: Inputs, opt: Option, model_id: str | None) -> dict[str, Any]:
    data = advice_data(kb)
    framework = inputs.framework or data.get("default_framework", "transformers")
    defaulted = inputs.framework is None
    table = data.get("configs", {}).get(framework, {})
    entry = table.get(opt.key) or (table.get(opt.rows) if opt.rows else None)
    available = entry is not None and not (isinstance(entry, dict) and entry.get("unavailable"))
    line = entry.get("line") if isinstance(entry, dict) else entry
    if line is None:
        line = f"no {framework} configuration for {opt.label}"
    name = model_id if model_id and not model_is_size(model_id) else None
    if name:
        line = line.replace("MODEL", name.rsplit("/", 1)[-1] if framework == "llama.cpp" else name)
    mapping = (
        "transformers + bitsandbytes" if framework == "transformers" and opt.rows in ("nf4", "int8") else framework
    )
    return {
        "framework": framework,
        "mapping": mapping,
        "defaulted": defaulted,
        "precision": opt.key,
        "line": line,
        "available": available,
    }


def _risks(
    kb: Knowledge, res: Resolution, base: Assessed, rec: Assessed | None, assessed: list[Assessed], inputs: Inputs
) -> list[str]:
    risks: list[str] = []
    shown = [rec] if rec is not None and rec.option.quantized else []
    shown += [a for a in assessed if a.option.quantized and a.eligible and a not in shown]
    for a in shown:
        risks.extend(_quality(kb, a.option, res.params_b))
    for a in {id(x): x for x in [base] + ([rec] if rec else [])}.values():
        if a.option.analog:
            risks.append(a.option.analog)
    risks.extend(_capability_notes(res, [base] + ([rec] if rec else []), inputs))
    risks.extend(_disagreements(assessed))
    risks.extend(cross_day_caveats(kb, [row for a in assessed for row in a.energy.rows]))
    if rec is not None and rec is not base and base.memory.value is not None and rec.memory.value is not None:
        risks.append(
            f"Weights: {base.option.label} about {num(base.memory.value)} GB → {rec.option.label} about {num(rec.memory.value)} GB ({rec.memory.says})"
        )
    risks.extend(BOUNDARY_TEXT[b] for b in res.boundaries)
    risks.extend(_assumption_notes(kb, inputs))
    return risks


def _capability_notes(res: Resolution, shown: list[Assessed], inputs: Inputs) -> list[str]:
    """What the GPU cannot compute of the options shown: BF16 on Turing, FP8 below Ada; vLLM
    FP8 there is weight-only through FP8 Marlin, said so rather than called unsupported."""
    notes: list[str] = []
    for a in shown:
        needs = a.option.needs
        if needs not in res.missing_formats:
            continue
        key = "vllm_fp8_weight_only" if needs == "fp8" and inputs.framework == "vllm" else needs
        note = res.capability_notes[key]
        if note not in notes:
            notes.append(note)
    return notes


def cross_day_caveats(kb: Knowledge, rows: list[dict[str, Any]]) -> list[str]:
    """The caveat each quoted row carries in evidence.yaml (an FP16 baseline from another day)."""
    seen = {row["id"]: row["caveat"] for row in rows if row.get("caveat")}
    return [f"Row {row_id}: {caveat}" for row_id, caveat in seen.items()]


def _quality(kb: Knowledge, opt: Option, params: float | None) -> list[str]:
    """One line per option: its perplexity cost on the nearest measured models, and the worst."""
    rows = fig.quality_rows(kb, opt, params)
    if not rows:
        return []
    name = "llm_int8_threshold=0.0" if opt.rows == "int8" and opt.threshold == 0.0 else opt.label
    parts = [f"{pct(r['perplexity_delta_pct'])} on {r['model']} ({r['gpu']}, row {r['id']})" for r in rows]
    return [f"Quality: {name} perplexity vs FP16 " + "; ".join(parts) + " — check accuracy before switching"]


def _disagreements(assessed: list[Assessed]) -> list[str]:
    """Where a measured row and the headline crossover point different ways, both are said."""
    notes = []
    for a in assessed:
        e = a.energy
        if (
            e.kind != "nearest-row"
            or e.delta_pct is None
            or not a.option.quantized
            or a.option.rows not in ("nf4", "int8")
        ):
            continue
        if a.eligible and e.delta_pct > 0:
            notes.append(
                f"{a.option.label}: above the crossover (headline), but the nearest measured row shows {pct(e.delta_pct)}; the row decides against it here"
            )
        elif not a.eligible and "below" in a.reason and e.delta_pct < 0:
            notes.append(
                f"{a.option.label}: below the crossover (headline kept), though the nearest measured row shows {pct(e.delta_pct)}"
            )
    return notes


def _assumption_notes(kb: Knowledge, inputs: Inputs) -> list[str]:
    notes = []
    assumed = inputs.assumed
    if "precision" in assumed:
        notes.append("Assumed FP16: no precision given")
    batching = kb.headlines.get("batching_drop_pct", {})
    if "batch_size" in assumed:
        notes.append(
            f"Assumed batch size 1: energy/req drops {batching.get('min')}–{batching.get('max')}% under dynamic batching ({batching.get('source')})"
        )
    elif inputs.batched:
        notes.append(
            f"A server batches concurrent requests (continuous batching): energy/req is lower than the single-stream rows show; it drops {batching.get('min')}–{batching.get('max')}% under dynamic batching ({batching.get('source')})"
        )
    elif (inputs.batch_size or 1) > 1:
        notes.append(
            f"The rows are single-stream measurements (batch size 1 or not stated); at batch size {inputs.batch_size} energy/req is lower: it drops {batching.get('min')}–{batching.get('max')}% under dynamic batching ({batching.get('source')})"
        )
    if "objective" in assumed:
        notes.append("Assumed objective: energy per request; --objective throughput or memory can change the ranking")
    if "llm_int8_threshold" in assumed:
        notes.append("Assumed llm_int8_threshold=0.0 for INT8 (the skill's INT8 rows); bitsandbytes' default is 6.0")
    return notes


def questions(kb: Knowledge, inputs: Inputs, res: Resolution) -> list[dict[str, str]]:
    """One question per missing input (the skill's default handling asks rather than guesses)."""
    texts = advice_data(kb).get("questions", {})
    asked = []
    if "gpu" in inputs.assumed:
        asked.append(("gpu", texts.get("gpu", "").format(assumed=kb.assumed_gpu)))
    if res.model is None:
        asked.append(("model", texts.get("model", "")))
    for key in ("precision", "batch_size", "objective", "framework"):
        if key in inputs.assumed:
            asked.append((key, texts.get(key, "").format(assumed=inputs.assumed[key])))
    if "llm_int8_threshold" in inputs.assumed:
        asked.append(("threshold", texts.get("threshold", "")))
    return [{"input": key, "question": text} for key, text in asked if text]
