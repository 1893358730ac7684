"""GitHub Actions workflow commands: one ``::warning file=…::message`` line per finding, which
GitHub shows as an annotation on the pull request's diff.

Escaping follows GitHub's workflow-command rules (the runner's ``CommandEscapeData`` and
``CommandEscapeProperty``): in the message ``%``, ``\\r`` and ``\\n`` are percent-encoded; in
property values ``:`` and ``,`` are too, since they delimit the properties.
"""

from __future__ import annotations

from ecolint.finding import FileError, Finding
from ecolint.results import RunResult

COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult) -> str:
    lines = [_finding_line(f) for f in result.findings]
    lines += [_error_line(e) for e in result.errors]
    return "".join(line + "\n" for line in lines)


def _finding_line(finding: Finding) -> str:
    loc = finding.location
    properties = {
        "file": loc.path,
        "line": str(loc.line),
        "col": str(loc.column),
        "endLine": str(loc.end_line),
        "endColumn": str(loc.end_column),
        "title": f"ecolint ({finding.code})",
    }
    message = f"{finding.message} [{finding.stars}]"
    if finding.fix:
        message += f"\nfix: {finding.fix['snippet']} ({finding.fix['safety']} fix)"
    return _command(COMMAND.get(finding.severity, "warning"), properties, message)


def _error_line(error: FileError) -> str:
    properties = {"file": error.path, "line": str(error.line), "title": f"ecolint ({error.code})"}
    return _command("error", properties, error.message)


def _command(name: str, properties: dict[str, str], message: str) -> str:
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name} {joined}::{escape_data(message)}"
