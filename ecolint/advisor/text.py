"""Text reports of the advisor documents. The JSON documents are the source; this only lays
them out, so text and JSON always say the same thing."""

from __future__ import annotations

from typing import Any

from ecolint.advisor.figures import TAG_TEXT, num
from ecolint.finding import STARS
from ecolint.report import evidence_line

INDENT = "  "


def render_advice(doc: dict[str, Any], *, with_footer: bool = True) -> str:
    lines = [doc["conclusion"]]
    comparison = doc.get("comparison")
    if comparison:
        lines += ["", comparison["line"]]
        tag = TAG_TEXT.get(comparison["tag"], comparison["tag"])
        lines.append(f"{INDENT}from      {comparison['source']}  [{tag}]")
        change = comparison.get("change")
        if change:
            lines.append(f"{INDENT}derived   {_pct(change['value'])} = {change['formula']}")
    if doc["mode"] == "recommend" or doc.get("comparison") is None:
        lines += ["", f"Options, ranked by {_objective_text(doc['objective'])}"]
        lines += [INDENT + line for line in _option_lines(doc["options"])]
    lines += _evidence_section(doc["evidence"])
    confidence = doc["confidence"]
    lines += ["", f"Confidence {STARS[confidence['stars']]}  " + "; ".join(confidence["reasons"])]
    config = doc["config"]
    how = f"{config['mapping']}; defaulted: no --framework given" if config["defaulted"] else config["mapping"]
    availability = "" if config["available"] else "  (not available in this framework)"
    lines += ["", f"Config ({how}){availability}", INDENT + config["line"]]
    if doc["risks"]:
        lines += ["", "Risks and boundaries"] + [f"{INDENT}- {risk}" for risk in doc["risks"]]
    if doc["questions"]:
        lines += ["", "Questions"] + [f"{INDENT}- {q['question']}" for q in doc["questions"]]
    if with_footer:
        lines += ["", doc["footer"]]
    return "\n".join(lines) + "\n"


def _objective_text(objective: str) -> str:
    return {
        "energy": "energy (change vs FP16)",
        "throughput": "throughput (tok/s)",
        "memory": "weight memory (estimate)",
    }[objective]


def _option_lines(options: list[dict[str, Any]]) -> list[str]:
    lines = []
    for rank, item in enumerate(options, start=1):
        status = "eligible" if item["eligible"] else "not eligible"
        cells = " · ".join(f"{dim} {cell_text(item[dim])}" for dim in ("energy", "throughput", "memory"))
        lines.append(f"{rank}. {item['label']}: {cells} · {STARS[item['confidence']]} — {status}: {item['reason']}")
    return lines


def cell_text(cell: dict[str, Any]) -> str:
    """One figure in a table cell: value and unit, its change vs FP16, or n/a."""
    if cell["value"] is None and cell["delta_range_pct"] is None:
        return "n/a"
    if cell["value"] is None:
        low, high = cell["delta_range_pct"]
        return f"{_pct(low)} to {_pct(high)} vs FP16 (headline)"
    text = f"{num(cell['value'])} {cell['unit']}"
    if cell["kind"] == "formula":
        return f"~{text} (estimate)"
    delta = cell.get("delta_pct")
    if cell["unit"] in ("J/request", "J/1k tok") and delta not in (None, 0, 0.0):
        text += f" ({_pct(delta)})"
    return text


def _pct(value: float) -> str:
    text = num(abs(value))
    return f"\u2212{text}%" if value < 0 else f"+{text}%"


def _evidence_section(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    return ["", "Evidence"] + [INDENT + evidence_line(row) + _dataset(row) for row in rows]


def _dataset(row: dict[str, Any]) -> str:
    source = row.get("source")
    if isinstance(source, dict) and source.get("dataset"):
        return f" [dataset {source['dataset']}]"
    return ""


def render_compare(doc: dict[str, Any]) -> str:
    columns = doc["columns"]
    first = columns[0]
    subject = "GPUs" if doc["axis"] == "gpu" else "precisions"
    where = f"{first['precision']}" if doc["axis"] == "gpu" else f"{first['gpu']}"
    size = f" ({num(first['params_b'])}B)" if first.get("params_b") is not None else " (model size unknown)"
    model = doc["inputs"].get("model") or "model not given"
    lines = [f"Compare {subject}: {', '.join(c['name'] for c in columns)} · {model}{size} · {where}", ""]
    lines += _table(columns)
    lines += ["", "Winners: " + " · ".join(_winner_text(dim, w) for dim, w in doc["winners"].items())]
    if doc["overall"]:
        lines.append(f"Overall ({doc['objective']}): {doc['overall']}")
    elif doc["objective"]:
        lines.append(f"Overall ({doc['objective']}): no winner ({doc['winners'][doc['objective']]['basis']})")
    else:
        lines.append("No single winner: pass --objective energy|throughput|memory to pick one.")
    lines += ["", "Sources"]
    for column in columns:
        for dim in ("energy", "throughput", "memory"):
            cell = column[dim]
            rows = f" [{', '.join(cell['rows'])}]" if cell["rows"] else ""
            lines.append(f"{INDENT}{column['name']} {dim}: {cell['says']}{rows}")
    notes = [f"{c['name']}: {note}" for c in columns for note in c["notes"]]
    if notes:
        lines += ["", "Notes"] + [f"{INDENT}- {note}" for note in dict.fromkeys(notes)]
    lines += _evidence_section(doc["evidence"])
    if doc["questions"]:
        lines += ["", "Questions"] + [f"{INDENT}- {q['question']}" for q in doc["questions"]]
    lines += ["", doc["footer"]]
    return "\n".join(lines) + "\n"


def _table(columns: list[dict[str, Any]]) -> list[str]:
    header = [""] + [c["name"] for c in columns]
    body = [[dim] + [cell_text(c[dim]) for c in columns] for dim in ("energy", "throughput", "memory")]
    # Every energy cell names the row it quotes (its delta is against that row's own FP16).
    body.insert(1, ["  row"] + [", ".join(c["energy"]["rows"]) or "-" for c in columns])
    body.append(["confidence"] + [STARS[c["confidence"]] for c in columns])
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    return [INDENT + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header] + body]


def _winner_text(dim: str, winner: dict[str, Any]) -> str:
    if winner["name"] is None:
        return f"{dim} none ({winner['basis']})"
    return f"{dim} {winner['name']} ({winner['basis']})"


def render_explain(doc: dict[str, Any]) -> str:
    if not doc["setups"]:
        where = f"{doc['path']}:{doc['line']}" if doc["line"] else doc["path"]
        return f"No inference setup recognised in {where}.\n"
    parts = []
    for entry in doc["setups"]:
        loc = entry["location"]
        label = f" ({entry['label']})" if entry["label"] else ""
        facts = "; ".join(_fact_text(f) for f in entry["from_code"])
        header = [
            f"{loc['path']}:{loc['line']}: {entry['framework']}{label}",
            f"{INDENT}the code says: {facts or 'nothing beyond the framework'}",
        ]
        # check's findings for this setup, as `ecolint check` reports them
        header += [f"{INDENT}check: {f['path']}:{f['line']}: {f['code']} {f['message']}" for f in entry["findings"]]
        header += [""]
        parts.append("\n".join(header) + "\n" + render_advice(entry["advice"], with_footer=False))
    return "\n".join(parts) + "\n" + doc["footer"] + "\n"


def _fact_text(fact: dict[str, Any]) -> str:
    where = f"line {fact['line']}" if fact["line"] is not None else "implied"
    return f"{fact['fact']}={fact['value']} ({where}, {fact['how']})"
