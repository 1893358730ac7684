"""GitLab Code Quality: a JSON array of issues for ``artifacts: reports: codequality``.

The fields GitLab reads (docs.gitlab.com, "Code Quality report format"): ``description``,
``check_name``, ``fingerprint``, ``severity`` and ``location.path`` with ``location.lines.begin``.

``fingerprint`` must be unique per issue and stable across runs, or GitLab shows every finding
as new on each merge request. It hashes the funnel's fingerprint (path, code and the flagged
line's text, not its number, with an occurrence index for identical lines) with the identity of
the setup (framework, label, model): moving code up or down keeps it; a changed line or another
model makes a new issue.

Severity mapping, ecolint → GitLab (info, minor, major, critical, blocker): note → info,
warning → minor, error → major; an unreadable file (ECO001) → major. critical and blocker are
not used: an energy finding does not break the build the way those levels mean.

``location.path`` is relative to the repository: to ``CI_PROJECT_DIR`` when GitLab sets it and
the file is inside it, else as the other reports give it (relative to the current directory).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ecolint.finding import FileError, Finding
from ecolint.results import RunResult

SEVERITY = {"note": "info", "warning": "minor", "error": "major"}
ERROR_SEVERITY = "major"


def render(result: RunResult, cwd: Path | None = None, project_dir: str | None = None) -> str:
    cwd = cwd or Path.cwd()
    if project_dir is None:
        project_dir = os.environ.get("CI_PROJECT_DIR") or None
    issues = [_issue(f, cwd, project_dir) for f in result.findings]
    issues += [_error_issue(e, cwd, project_dir) for e in result.errors]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def fingerprint(finding: Finding) -> str:
    setup = finding.setup or {}
    identity = (finding.fingerprint, str(setup.get("framework")), str(setup.get("label")), str(setup.get("model")))
    return hashlib.sha256("\0".join(identity).encode("utf-8")).hexdigest()[:32]


def _issue(finding: Finding, cwd: Path, project_dir: str | None) -> dict[str, Any]:
    return {
        "description": f"{finding.code} [{finding.stars}] {finding.message}",
        "check_name": finding.code,
        "fingerprint": fingerprint(finding),
        "severity": SEVERITY.get(finding.severity, "minor"),
        "location": {
            "path": repository_path(finding.location.path, cwd, project_dir),
            "lines": {"begin": finding.location.line},
        },
    }


def _error_issue(error: FileError, cwd: Path, project_dir: str | None) -> dict[str, Any]:
    key = "\0".join((error.path, error.code, error.message))
    return {
        "description": f"{error.code} {error.message}",
        "check_name": error.code,
        "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest()[:32],
        "severity": ERROR_SEVERITY,
        "location": {"path": repository_path(error.path, cwd, project_dir), "lines": {"begin": error.line}},
    }


def repository_path(path: str, cwd: Path, project_dir: str | None) -> str:
    """The report's path relative to the project directory when it lies inside it."""
    if not project_dir:
        return path
    absolute = os.path.normpath(os.path.join(cwd, path))
    relative = os.path.relpath(absolute, os.path.abspath(project_dir))
    if relative == ".." or relative.startswith(".." + os.sep):
        return path
    return relative.replace(os.sep, "/")
