"""The default, human-readable report: one block per finding, a summary, the evidence footer."""

from __future__ import annotations

from ecolint.engine import RunResult
from ecolint.finding import Finding
from ecolint.knowledge import Knowledge
from ecolint.report import counts, evidence_line, footer, setup_line


def render(result: RunResult, kb: Knowledge) -> str:
    lines: list[str] = []
    for finding in result.findings:
        lines.extend(_block(finding))
        lines.append("")
    for error in result.errors:
        lines.append(f"{error.path}:{error.line}:1: {error.code} {error.message}")
    if result.errors:
        lines.append("")
    lines.append(_summary(result))
    lines.append(footer(kb))
    return "\n".join(lines) + "\n"


def _block(finding: Finding) -> list[str]:
    loc = finding.location
    out = [f"{loc.path}:{loc.line}:{loc.column}: {finding.code} [{finding.stars}] {finding.message}"]
    out.append(f"  setup     {setup_line(finding.setup)}")
    if finding.fix:
        fix = finding.fix
        out.append(f"  fix       {fix['snippet']}  ({fix['safety']} fix, {fix['framework']})")
    for row in finding.evidence:
        out.append(f"  evidence  {evidence_line(row)}")
    for note in finding.notes:
        out.append(f"  note      {note}")
    return out


def _summary(result: RunResult) -> str:
    findings = result.findings
    if not findings:
        text = "No findings"
    else:
        by_severity = counts(findings)
        detail = ", ".join(f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in sorted(by_severity.items()))
        files = len({f.location.path for f in findings})
        text = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({detail}) in {files} file{'s' if files != 1 else ''}"
    text += f"; {result.files_seen} file{'s' if result.files_seen != 1 else ''} checked"
    if result.in_baseline:
        text += f"; {result.in_baseline} more in the baseline"
    if result.below_confidence:
        text += f"; {result.below_confidence} more below --min-confidence"
    if result.errors:
        text += f"; {len(result.errors)} could not be read (ECO001)"
    return text + "."
