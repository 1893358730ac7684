"""Source files as text. The engine's extraction and --fix's rewrite read a file the same way,
so what a fix edits is what the audit saw."""

from __future__ import annotations

import tokenize
from io import BytesIO
from pathlib import Path

from ecolint.extract import ExtractError


def decode(path: Path, data: bytes, kind: str) -> str:
    """Decode source bytes; Python honours its PEP 263 coding cookie. Raises ExtractError."""
    if kind == "python":
        try:
            encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        except SyntaxError as exc:
            raise ExtractError(f"cannot decode: {exc}") from None
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        raise ExtractError(f"not valid {encoding} text: {reason}", line) from None


def read_text(path: Path) -> str | None:
    """Another file of the tree as text (an extractor's look at a sibling), or None."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
