"""The human-readable reports.

``full`` (the default): one block per finding — the headline with its ★ confidence and severity,
then the setup, the fix, the evidence rows and the notes that are about this finding — then the
notes that hold for the whole run (no GPU stated, a stack newer than the measurement window),
said once instead of on every finding, the summary and the evidence footer.

``concise``: one line per finding, ``path:line:col: CODE [★★☆] severity message (+x–y%)``,
then the run notes and the summary.
"""

from __future__ import annotations

from ecolint.finding import FileError, Finding, overhead_text
from ecolint.knowledge import Knowledge
from ecolint.report import counts, evidence_line, footer, quoted_sources, setup_line
from ecolint.report.console import PLAIN, Style
from ecolint.resolve import RUN_WIDE_REASONS
from ecolint.results import RunResult


def render(result: RunResult, kb: Knowledge, style: Style = PLAIN) -> str:
    lines: list[str] = []
    for finding in result.findings:
        lines.extend(_block(finding, style))
        lines.append("")
    lines.extend(_error_line(error, style) for error in result.errors)
    if result.errors:
        lines.append("")
    run_notes = _run_notes(result.findings)
    if run_notes:
        lines.append("Notes for the whole run:")
        lines.extend(f"  {note}" for note in run_notes)
        lines.append("")
    sources = quoted_sources(kb, [row for finding in result.findings for row in finding.evidence])
    if sources:
        lines.extend(sources)
        lines.append("")
    lines.append(summary(result))
    lines.append(footer(kb))
    return "\n".join(lines) + "\n"


def render_concise(result: RunResult, kb: Knowledge, style: Style = PLAIN) -> str:
    lines = [concise_line(finding, style) for finding in result.findings]
    lines.extend(_error_line(error, style) for error in result.errors)
    lines.extend(f"note: {note}" for note in _run_notes(result.findings))
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def concise_line(finding: Finding, style: Style = PLAIN) -> str:
    message, overhead = split_overhead(finding)
    line = f"{_head(finding, style)} {message}"
    return f"{line} ({overhead})" if overhead else line


def split_overhead(finding: Finding) -> tuple[str, str]:
    """The message without its ': +17–147% energy per request' tail, and the '+17–147%'."""
    overhead = overhead_text(finding.overhead)
    if not overhead or finding.overhead is None:
        return finding.message, ""
    tail = f": {overhead} energy per {finding.overhead.get('per', 'request')}"
    at = finding.message.rfind(tail)  # not always last: a notebook's message ends with its cell
    if at < 0:
        return finding.message, overhead
    return finding.message[:at] + finding.message[at + len(tail) :], overhead


def _head(finding: Finding, style: Style) -> str:
    loc = finding.location
    where = style.path(f"{loc.path}:{loc.line}:{loc.column}:")
    return f"{where} {style.code(finding.code)} [{finding.stars}] {style.severity(finding.severity)}"


def _block(finding: Finding, style: Style) -> list[str]:
    out = [f"{_head(finding, style)} {finding.message}"]
    out.append(f"  setup     {setup_line(finding.setup)}")
    if finding.fix:
        fix = finding.fix
        out.append(f"  fix       {fix['snippet']}  ({fix['safety']} fix, {fix['framework']})")
    for row in finding.evidence:
        out.append(f"  evidence  {evidence_line(row)}")
    for note in finding.notes:
        if not note.startswith(RUN_WIDE_REASONS):
            out.append(f"  note      {note}")
    return out


def _error_line(error: FileError, style: Style) -> str:
    where = style.path(f"{error.path}:{error.line}:1:")
    return f"{where} {style.code(error.code)} {style.severity('error')} {error.message}"


def _run_notes(findings: list[Finding]) -> list[str]:
    """Each note that holds for the whole run, once, with how many findings it concerns."""
    concerned: dict[str, int] = {}
    for finding in findings:
        for note in finding.notes:
            if note.startswith(RUN_WIDE_REASONS):
                concerned[note] = concerned.get(note, 0) + 1
    total = len(findings)
    out = []
    for note, count in sorted(concerned.items()):
        if count == total:
            which = f"all {total} findings" if total > 1 else "the one finding"
        else:
            which = f"{count} of {total} findings"
        out.append(f"{note}; applies to {which}")
    return out


def summary(result: RunResult) -> str:
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
