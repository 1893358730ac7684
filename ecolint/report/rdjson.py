"""reviewdog's Diagnostic Format, as one JSON document (``reviewdog -f=rdjson``).

Fields from reviewdog's proto/rdf/reviewdog.proto: a DiagnosticResult with ``source``,
``severity`` and ``diagnostics``; each Diagnostic has ``message``, ``location`` (``path``,
``range.start``/``range.end`` with ``line`` and ``column``, the end exclusive), ``severity``
(ERROR, WARNING, INFO) and ``code.value``.

Columns: reviewdog counts a column in UTF-8 bytes, ecolint in characters. Each column is
converted with the text of its line (``report.utf8_column``): in ``x = "é"; model(...)`` the
token after the ``é`` is one byte further right in this report than in the text, JSON and SARIF
reports.
"""

from __future__ import annotations

import json
from typing import Any

from ecolint.finding import FileError, Finding
from ecolint.report import source_line, utf8_column
from ecolint.results import RunResult

SEVERITY = {"error": "ERROR", "warning": "WARNING", "note": "INFO"}
SOURCE = {"name": "ecolint", "url": "https://github.com/ecolint/ecolint"}


def render(result: RunResult) -> str:
    diagnostics = [_diagnostic(f, result.texts) for f in result.findings]
    diagnostics += [_error(e) for e in result.errors]
    document = {"source": SOURCE, "diagnostics": diagnostics}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _diagnostic(finding: Finding, texts: dict[str, str]) -> dict[str, Any]:
    loc = finding.location
    start = utf8_column(source_line(texts, loc.path, loc.line), loc.column)
    end = utf8_column(source_line(texts, loc.path, loc.end_line), loc.end_column)
    message = f"[{finding.stars}] {finding.message}"
    if finding.fix:
        message += f"\nfix: {finding.fix['snippet']} ({finding.fix['safety']} fix)"
    return {
        "message": message,
        "location": {
            "path": loc.path,
            "range": {"start": {"line": loc.line, "column": start}, "end": {"line": loc.end_line, "column": end}},
        },
        "severity": SEVERITY.get(finding.severity, "WARNING"),
        "code": {"value": finding.code},
    }


def _error(error: FileError) -> dict[str, Any]:
    return {
        "message": error.message,
        "location": {"path": error.path, "range": {"start": {"line": error.line}}},
        "severity": "ERROR",
        "code": {"value": error.code},
    }
