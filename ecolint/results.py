"""What a run gives back: RunResult for the whole run, FileOutcome for each file analysed.

Its own module so that reports (ecolint/report/) and fixes read results without importing the
engine that produces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecolint.finding import FileError, Finding
from ecolint.setups import Setup


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_seen: int = 0
    files_parsed: int = 0
    setups: int = 0
    texts: dict[str, str] = field(default_factory=dict)  # files with findings, for fixes and context
    notes: list[str] = field(default_factory=list)  # about the run itself (the cache), for stderr
    in_baseline: int = 0  # findings held back because the baseline accepts them
    below_confidence: int = 0  # findings held back by --min-confidence
    unused_ignores: list[str] = field(default_factory=list)  # 'path:line: …' (--report-unused-ignores)
    # What the run's findings rest on, as the file system answers it (ecolint/witness.py): for
    # the whole-run memo (ecolint/memo.py); None when the engine cannot name all of it.
    rests_on: dict[str, Any] | None = None


@dataclass
class FileOutcome:
    """What analysing one file gives back; picklable, so workers can return it."""

    setups: list[Setup] = field(default_factory=list)
    error: FileError | None = None
    text: str = ""
    parsed: bool = True  # False: the file was never handed to a parser
    pins: dict[str, str] = field(default_factory=dict)  # versions the file pins (stack kinds)
    cache_entry: dict[str, Any] | None = None  # what the extraction cache keeps of a new extraction
    # A warm run's file answered from the cache without reading it: the (mtime, size) the answer
    # is for. Its text is read only if a finding needs it (ecolint/engine.py).
    unread: tuple[int, int] | None = None
    # Extracted, but what the extraction consulted could not be recorded (no cache entry): no
    # whole-run memo may rest on this run.
    unrecorded: bool = False
