"""--statistics: counts by rule, severity and ★ confidence instead of the findings.

Unreadable files count under ECO001 (severity error) by rule and severity; they have no ★
confidence, so the confidence table counts findings only.
"""

from __future__ import annotations

import json
from typing import Any

from ecolint.finding import STARS
from ecolint.knowledge import Knowledge
from ecolint.results import RunResult

SEVERITY_ORDER = ("error", "warning", "note")


def tally(result: RunResult, kb: Knowledge) -> dict[str, Any]:
    by_rule: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    by_confidence: dict[int, int] = {}
    for finding in result.findings:
        by_rule[finding.code] = by_rule.get(finding.code, 0) + 1
        by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1
        by_confidence[finding.confidence] = by_confidence.get(finding.confidence, 0) + 1
    for error in result.errors:
        by_rule[error.code] = by_rule.get(error.code, 0) + 1
        by_severity["error"] = by_severity.get("error", 0) + 1
    return {
        "rules": [
            {"code": code, "name": kb.rules[code].name if code in kb.rules else "", "count": by_rule[code]}
            for code in sorted(by_rule)
        ],
        "severities": [{"severity": s, "count": by_severity[s]} for s in SEVERITY_ORDER if s in by_severity],
        "confidence": [
            {"confidence": c, "stars": STARS[c], "count": by_confidence[c]} for c in sorted(by_confidence, reverse=True)
        ],
        "findings": len(result.findings),
        "unreadable_files": len(result.errors),
        "files_checked": result.files_seen,
    }


def render_text(result: RunResult, kb: Knowledge) -> str:
    data = tally(result, kb)
    if not data["findings"] and not data["unreadable_files"]:
        files = "file" if data["files_checked"] == 1 else "files"
        return f"No findings; {data['files_checked']} {files} checked.\n"
    lines = ["By rule:"]
    lines += [f"  {r['count']:>5}  {r['code']}  {r['name']}" for r in data["rules"]] or ["      0"]
    lines.append("By severity:")
    lines += [f"  {s['count']:>5}  {s['severity']}" for s in data["severities"]] or ["      0"]
    lines.append("By confidence:")
    lines += [f"  {c['count']:>5}  {c['stars']}" for c in data["confidence"]] or ["      0"]
    plural = "s" if data["findings"] != 1 else ""
    files = "file" if data["files_checked"] == 1 else "files"
    total = f"{data['findings']} finding{plural} in {data['files_checked']} {files} checked"
    if data["unreadable_files"]:
        total += f"; {data['unreadable_files']} could not be read (ECO001)"
    lines.append(f"Total: {total}.")
    return "\n".join(lines) + "\n"


def render_json(result: RunResult, kb: Knowledge) -> str:
    return json.dumps(tally(result, kb), indent=2, ensure_ascii=False) + "\n"
