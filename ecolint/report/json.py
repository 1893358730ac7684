"""The JSON report: a stable, documented contract (see README "JSON output").

Absent facts are null, never guessed. Keys and order do not change between runs.
"""

from __future__ import annotations

import json
from typing import Any

from ecolint import __version__
from ecolint.edits import fix_json
from ecolint.finding import Finding
from ecolint.results import RunResult


def finding_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    overhead = None
    if finding.overhead:
        overhead = {"min_pct": finding.overhead.get("min_pct"), "max_pct": finding.overhead.get("max_pct")}
    return {
        "code": finding.code,
        "name": finding.name,
        "path": loc.path,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "message": finding.message,
        "overhead": overhead,
        "setup": finding.setup,
        "boundaries": finding.boundaries,
        "notes": finding.notes,
        "evidence": finding.evidence,
        "fix": fix_json(finding.fix),
        "fingerprint": finding.fingerprint,
    }


def summary(result: RunResult) -> dict[str, int]:
    """The counts the text report's last line gives, the held-back findings included."""
    return {
        "files_checked": result.files_seen,
        "findings": len(result.findings),
        "errors": len(result.errors),
        "in_baseline": result.in_baseline,
        "below_confidence": result.below_confidence,
    }


def document(result: RunResult) -> dict[str, Any]:
    """The report as data (what ``render`` prints; the MCP server's ``check`` returns it)."""
    return {
        "version": __version__,
        "findings": [finding_dict(f) for f in result.findings],
        "errors": [{"code": e.code, "path": e.path, "line": e.line, "message": e.message} for e in result.errors],
        "summary": summary(result),
    }


def render(result: RunResult) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
