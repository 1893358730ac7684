"""Reports: turn a RunResult into text, JSON, SARIF or GitHub annotations.

Shared wording lives here so that every format says the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecolint import __version__
from ecolint.finding import Finding
from ecolint.knowledge import Knowledge

PARAMS_HOW = {"config": "from [tool.ecolint.models]", "table": "from the name table", "id": "from the id"}
# A model id the code does not write as the one it runs: said beside it in the setup line.
MODEL_HOW = {
    "argparse-default": "a command-line default",
    "parameter-default": "a parameter's default",
    "env-default": "an environment variable's default",
}
GPU_HOW = {"stated": "stated", "platform": "stated by the platform", "config": "configured", "assumed": "assumed"}


def footer(kb: Knowledge, rows: Iterable[dict[str, Any]] = ()) -> str:
    """The evidence footer: one line per measurement session the quoted rows come from (its date
    and dataset record or source file, rules/evidence.yaml ``sessions``), then the skill's dataset."""
    dataset = kb.dataset
    lines = quoted_sources(kb, rows)
    lines.append(f"Evidence: {dataset.get('url', '')} ({dataset.get('period', '')}) · ecolint {__version__}")
    return "\n".join(lines)


def quoted_sources(kb: Knowledge, rows: Iterable[dict[str, Any]]) -> list[str]:
    """'Rows from session S (date; record): ids' for each session of the quoted rows, in order of
    first quotation; the skill's own J/request rows (no session) are named as the skill's table."""
    by_source: dict[str, list[str]] = {}
    for row in rows:
        session = row.get("session")
        key = str(session) if session else str(row.get("source") or "the skill")
        ids = by_source.setdefault(key, [])
        if row["id"] not in ids:
            ids.append(row["id"])
    lines = []
    for key, ids in by_source.items():
        session = kb.sessions.get(key) if key in kb.sessions else None
        if session is None:
            lines.append(f"Rows from {key}: {', '.join(ids)}")
            continue
        source = session.source
        record = (
            f"dataset {source['dataset']}" if source.get("dataset") else f"{source.get('repo')} {source.get('path')}"
        )
        date = session.date or "date not stated"
        lines.append(f"Rows from session {session.id} ({session.gpu}, {date}; {record}): {', '.join(ids)}")
    return lines


def setup_line(setup: dict[str, Any]) -> str:
    parts = [setup["framework"]]
    if setup.get("label"):
        parts.append(str(setup["label"]))
    model = setup.get("model") or "model unresolved"
    source = MODEL_HOW.get(str(setup.get("model_source"))) if setup.get("model") else None
    said = [source] if source else []
    if setup.get("params_b") is not None:
        size = f"{setup['params_b']:g}B"
        model += " (" + ", ".join([size, PARAMS_HOW.get(str(setup.get("params_source")), ""), *said]) + ")"
    elif setup.get("model"):
        model += " (" + ", ".join(["size unknown", *said]) + ")"
    parts.append(model)
    if setup.get("precision"):
        parts.append(str(setup["precision"]).upper())
    gpu = f"GPU {setup['gpu']} ({GPU_HOW.get(setup['gpu_source'], setup['gpu_source'])}"
    # inside the GPU's parentheses, "Hopper (Ampere numbers)" reads as "Hopper, Ampere numbers"
    architecture = str(setup.get("architecture_label") or setup.get("architecture") or "")
    architecture = architecture.replace(" (", ", ").removesuffix(")") if "(" in architecture else architecture
    gpu += f", {architecture})" if architecture else ")"
    parts.append(gpu)
    return " · ".join(parts)


def evidence_line(row: dict[str, Any]) -> str:
    """One quoted row with its source; measured values are printed as transcribed, not rounded."""
    source = row.get("source") or {}
    if isinstance(source, dict):
        where = " ".join(
            str(x)
            for x in (
                source.get("repo"),
                source.get("path"),
                "@" + str(source.get("commit"))[:7] if source.get("commit") else None,
            )
            if x
        )
    else:
        where = str(source)
    if "j_per_request" in row:
        return f"{row['gpu']} · {row['model']} · {str(row['precision']).upper()}: {row['j_per_request']} J/request — {where}"
    precision = str(row.get("precision", "")).upper()
    if row.get("llm_int8_threshold") is not None:
        precision += f" thr {row['llm_int8_threshold']:g}"
    if row.get("fp8_scheme"):
        precision += f" {row['fp8_scheme']}" + (" eager" if row.get("compiled") is False else "")
    if row.get("batch_size") is not None and (row.get("metric") == "energy_j_per_request" or row["batch_size"] != 1):
        precision += f" BS {row['batch_size']}"
    unit = {"energy_j_per_1k_tokens": "J/1k tok", "energy_j_per_request": "J/request"}.get(str(row.get("metric")), "")
    if row.get("value") is not None and row.get("baseline_batch1") is not None:
        # A batch-size row: shown as a multiple of the batch-1 row it was measured against.
        multiple = float(row["baseline_batch1"]) / float(row["value"])
        relation = "the batch-1 reference" if multiple == 1 else f"batch 1 uses {multiple:.1f}× this"
        numbers = f"{row['value']} {unit} ({relation})"
    elif row.get("value") is not None and row.get("baseline_fp16") is not None:
        numbers = f"FP16 {row['baseline_fp16']} → {row['value']} {unit}"
    elif row.get("value") is not None:
        numbers = f"{row['value']} {unit}"
    else:
        numbers = "energy"
    if row.get("delta_pct") is not None and row.get("baseline_batch1") is None:
        numbers += f" ({row['delta_pct']:+g}%)"
    if row.get("perplexity_delta_pct") is not None:
        numbers += f", perplexity {row['perplexity_delta_pct']:+g}%"
    size = f" ({row['params_b']:g}B)" if row.get("params_b") is not None else ""
    caveat = f" [{row['caveat']}]" if row.get("caveat") else ""
    return f"{row.get('gpu')} · {row.get('model')}{size} · {precision}: {numbers}{caveat} — {where}"


def counts(findings: list[Finding]) -> dict[str, int]:
    result: dict[str, int] = {}
    for finding in findings:
        result[finding.severity] = result.get(finding.severity, 0) + 1
    return result


def source_line(texts: dict[str, str], path: str, line: int) -> str | None:
    """The text of one line of a file the run read (files with findings), or None."""
    text = texts.get(path)
    if text is None:
        return None
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else None


def utf8_column(line_text: str | None, column: int) -> int:
    """A 1-based character column as a 1-based UTF-8 byte column (what reviewdog counts).
    Without the line's text the character column is the best there is."""
    if line_text is None:
        return column
    return len(line_text[: column - 1].encode("utf-8", "surrogatepass")) + 1 + max(0, column - 1 - len(line_text))
