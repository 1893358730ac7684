"""Writing to the terminal: text that the stream can encode, and colour only where it belongs.

A console that is not UTF-8 (a Windows console, ``PYTHONIOENCODING=cp1252``) cannot encode the
stars, arrows and dashes of the human report. Such text falls back to ASCII (``[***]``, ``->``,
``-``) instead of failing the run. Machine formats (JSON, SARIF, XML, …) are written as UTF-8
bytes whatever the console's encoding: their consumers read UTF-8, and an escape would change
the data.

Colour follows ruff and the NO_COLOR / FORCE_COLOR conventions: ``--color always|never`` wins;
otherwise a non-empty ``NO_COLOR`` turns it off, a non-empty ``FORCE_COLOR`` turns it on, and
the default is colour on a terminal only (click strips the escapes when the stream is piped).
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

import click

# What the human report writes outside ASCII, and what it reads as where it cannot be encoded.
ASCII_FALLBACK = {
    "★": "*",
    "☆": "-",
    "→": "->",
    "←": "<-",
    "—": "-",
    "–": "-",
    "·": "-",
    "≥": ">=",
    "≤": "<=",
    "±": "+/-",
    "…": "...",
    "×": "x",
    "✓": "ok",
}
_TABLE = str.maketrans(ASCII_FALLBACK)


def stream_encoding(stream: IO[Any] | None) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def fit(text: str, encoding: str) -> str:
    """The text as it is when the encoding can hold it; otherwise with the ASCII fallbacks, and
    '?' for whatever is still left over (a path in another script)."""
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    except LookupError:
        encoding = "ascii"
    return text.translate(_TABLE).encode(encoding, "replace").decode(encoding)


def echo(text: str, *, err: bool = False, nl: bool = True, color: bool | None = None) -> None:
    """Human text to standard output (or error), never failing on the stream's encoding."""
    stream = sys.stderr if err else sys.stdout
    click.echo(fit(text, stream_encoding(stream)), err=err, nl=nl, color=color)


def echo_bytes(text: str) -> None:
    """A machine-readable report to standard output, as UTF-8 bytes."""
    click.echo(text.encode("utf-8"), nl=False)


def color_choice(option: str | None, env: dict[str, str] | None = None) -> bool | None:
    """True: always colour; False: never; None: colour on a terminal only (click decides)."""
    env = dict(os.environ) if env is None else env
    if option == "always":
        return True
    if option == "never":
        return False
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return None


SEVERITY_COLOR = {"error": "red", "warning": "yellow", "note": "cyan"}


class Style:
    """Styles for the human report; the plain instance adds no escape codes at all."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def path(self, text: str) -> str:
        return click.style(text, bold=True) if self.enabled else text

    def code(self, text: str) -> str:
        return click.style(text, fg="red", bold=True) if self.enabled else text

    def severity(self, text: str) -> str:
        if not self.enabled:
            return text
        return click.style(text, fg=SEVERITY_COLOR.get(text, "yellow"))

    def dim(self, text: str) -> str:
        return click.style(text, dim=True) if self.enabled else text


PLAIN = Style(enabled=False)
