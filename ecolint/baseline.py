"""Baselines: accept the findings a repository has today, report only new ones.

A baseline is a JSON file of finding fingerprints (see ``funnel.fingerprint``: path, code and
the text of the finding's line, with an occurrence index — not the line number, so moving code
up or down keeps a finding accepted). Paths in fingerprints are relative to the directory
ecolint runs from, so write and use a baseline from the same directory (the repository's top).
Each entry also carries code, path, line and message, for the humans who review the file; only
the fingerprint is read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecolint.config import ConfigError
from ecolint.finding import Finding

FORMAT = "ecolint-baseline"
VERSION = 1


class BaselineError(ConfigError):
    """A baseline file that cannot be read or written; the message names the file and why."""


def load(path: Path) -> frozenset[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: baseline is not valid JSON: {exc}") from None
    return _fingerprints(document, path)


def _fingerprints(document: Any, path: Path) -> frozenset[str]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BaselineError(f'{path}: not an ecolint baseline (expected "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise BaselineError(
            f"{path}: baseline version {document.get('version')!r} is not supported (expected {VERSION})"
        )
    entries = document.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise BaselineError(f"{path}: 'findings' must be a list of objects with a 'fingerprint' string")
    return frozenset(e["fingerprint"] for e in entries)


def dumps(findings: Iterable[Finding]) -> str:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "code": f.code,
            "path": f.location.path,
            "line": f.location.line,
            "message": f.message,
        }
        for f in findings
    ]
    document = {"format": FORMAT, "version": VERSION, "findings": entries}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, findings: list[Finding]) -> None:
    try:
        path.write_text(dumps(findings), encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None
