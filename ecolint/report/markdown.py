"""A Markdown summary of a JSON report, for a GitHub Actions job summary ($GITHUB_STEP_SUMMARY).

It reads the JSON report (the documented contract) rather than running anything, so the action
analyses the tree once: ``python -m ecolint.report.markdown ecolint.json >> "$GITHUB_STEP_SUMMARY"``.
At most MAX_ROWS findings are listed (GitHub caps a step summary at 1 MiB); the counts are
always complete.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ecolint.finding import STARS

MAX_ROWS = 200


def cell(text: object) -> str:
    """Text that stays inside one table cell: pipes escaped, line breaks as spaces."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render(document: dict[str, Any]) -> str:
    findings = document.get("findings", [])
    errors = document.get("errors", [])
    summary = document.get("summary", {})
    files = summary.get("files_checked", 0)
    lines = ["## ecolint", ""]
    if not findings and not errors:
        lines.append(f"No findings in {files} file{'s' if files != 1 else ''} checked.")
        return "\n".join(lines) + "\n"
    by_severity: dict[str, int] = {}
    for finding in findings:
        by_severity[finding["severity"]] = by_severity.get(finding["severity"], 0) + 1
    detail = ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in sorted(by_severity.items()))
    headline = f"**{len(findings)} finding{'s' if len(findings) != 1 else ''}**"
    lines.append(f"{headline} ({detail or 'none'}) in {files} file{'s' if files != 1 else ''} checked.")
    if errors:
        lines.append(f"{len(errors)} file{'s' if len(errors) != 1 else ''} could not be read (ECO001).")
    if findings:
        lines += ["", "| Severity | Confidence | Rule | Location | Message |", "|---|---|---|---|---|"]
        for finding in findings[:MAX_ROWS]:
            where = f"`{cell(finding['path'])}:{finding['line']}:{finding['column']}`"
            stars = STARS.get(finding.get("confidence", 1), "")
            rule = f"{finding['code']} {cell(finding.get('name', ''))}"
            lines.append(f"| {finding['severity']} | {stars} | {rule} | {where} | {cell(finding['message'])} |")
        if len(findings) > MAX_ROWS:
            lines += ["", f"… and {len(findings) - MAX_ROWS} more (see the annotations or the SARIF upload)."]
    if errors:
        lines += ["", "| File | Problem |", "|---|---|"]
        lines += [f"| `{cell(e['path'])}:{e['line']}` | {cell(e['message'])} |" for e in errors[:MAX_ROWS]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m ecolint.report.markdown REPORT.json", file=sys.stderr)
        return 2
    try:
        document = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"ecolint: error: {args[0]}: cannot read the JSON report: {exc}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(render(document).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
