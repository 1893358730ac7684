"""Finding and FileError: what the audit produces and every report consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecolint.setups import Location

STARS = {1: "★☆☆", 2: "★★☆", 3: "★★★"}


@dataclass
class Finding:
    code: str
    name: str
    location: Location
    severity: str
    confidence: int  # 1..3 stars
    message: str
    overhead: dict[str, Any] | None  # {"min_pct", "max_pct", "per", "source"}
    setup: dict[str, Any]  # resolve.setup_summary
    boundaries: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    fix: dict[str, Any] | None = None  # checks._fix_for; its "edit" is an ecolint.edits.Edit or None
    fingerprint: str = ""  # set by the funnel: stable across unrelated line moves
    # Other lines whose ignore comment also silences it: for a setup made through a helper of
    # another module, the place the fact is written there and the helper's loading call.
    also_at: tuple[Location, ...] = ()

    def merge(self, other: Finding) -> None:
        """Take in the same verdict at the same place for another setup (the funnel, after
        suppression): its other lines (where that setup's model is loaded) and its notes."""
        self.notes.extend(note for note in other.notes if note not in self.notes)
        self.also_at = tuple(dict.fromkeys((*self.also_at, *other.also_at)))

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.code, self.message)

    @property
    def stars(self) -> str:
        return STARS[self.confidence]


@dataclass(frozen=True, order=True)
class FileError:
    """ECO001: a file that was meant to be read but could not be. The run goes on."""

    path: str
    line: int
    message: str
    code: str = "ECO001"


def overhead_text(overhead: dict[str, Any] | None) -> str:
    """'+17–147%' or '+95.7%'; negative ranges keep their sign."""
    if not overhead:
        return ""
    low, high = overhead.get("min_pct"), overhead.get("max_pct")

    def pct(value: float) -> str:
        text = f"{value:g}"
        return text if value < 0 else f"+{text}"

    if low is None or high is None or low == high:
        only = low if low is not None else high
        return "" if only is None else pct(only) + "%"
    return f"{pct(low)}–{high:g}%"
