"""Ollama Modelfiles -> one Setup (framework "ollama").

Directives are case-insensitive (Ollama's parser folds them). ``FROM`` names a library tag
(``qwen2:1.5b-instruct-q4_K_M``), an ``hf.co/…:Q4_K_M`` repo or a GGUF path; its quant decides
the precision. ``PARAMETER name value`` lines become ``param.<name>`` facts; none of them is a
concurrency limit (``num_batch`` is the prompt-processing batch), so none maps to BATCH_SIZE.
"""

from __future__ import annotations

import re
import shlex

from ecolint.extract import ExtractContext, ExtractError
from ecolint.extract.launchers.ollama import tag_facts
from ecolint.extract.launchers.vocab import Locator, Tok, text_locator
from ecolint.setups import Location, Setup

_DIRECTIVE = re.compile(r"^([ \t]*)([A-Za-z]+)(?:[ \t]+(.*?))?[ \t]*$")
_KNOWN = {"from", "parameter", "template", "system", "adapter", "license", "message", "requires"}


def _number(value: str) -> object:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def _unquote(value: str) -> str:
    try:
        parts = shlex.split(value, posix=True)
    except ValueError:
        return value.strip()
    return parts[0] if parts else ""


class _Lines:
    """Physical lines with their offsets; multi-line ``\"\"\"…\"\"\"`` values are skipped whole."""

    def __init__(self, text: str) -> None:
        self.items: list[tuple[int, str]] = []
        offset = 0
        for line in text.split("\n"):
            self.items.append((offset, line.rstrip("\r")))
            offset += len(line) + 1


def parse(text: str, path: str, locate: Locator | None = None, *, kind: str = "modelfile") -> Setup | None:
    """The Setup a Modelfile describes; ExtractError when it is empty or has no FROM."""
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # a BOM would hide the first directive; a space keeps columns
    if not text.strip():
        raise ExtractError("empty Modelfile", 1)
    locate = locate or text_locator(text)
    setup: Setup | None = None
    params: list[tuple[str, str, Location]] = []
    in_block = False
    seen_directive = False
    for offset, line in _Lines(text).items:
        if in_block:
            in_block = line.count('"""') % 2 == 0
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _DIRECTIVE.match(line)
        if not match or match.group(2).lower() not in _KNOWN:
            continue
        seen_directive = True
        name, value = match.group(2).lower(), (match.group(3) or "")
        if value.count('"""') == 1:
            in_block = True
        start = offset + len(match.group(1))
        loc = _loc(path, locate, start, offset + len(line.rstrip()))
        if name == "from" and setup is None and value:
            setup = Setup(framework="ollama", origin=loc, kind=kind)
            tag_facts(setup, Tok(_unquote(value), loc))
        elif name == "parameter":
            key, _, raw = value.partition(" ")
            if key:
                params.append((key.lower(), raw.strip(), loc))
    if setup is None:
        raise ExtractError("empty Modelfile" if not seen_directive else "Modelfile has no FROM line", 1)
    for key, raw, loc in params:
        setup.set(f"param.{key}", _number(_unquote(raw)) if raw else "", loc, "literal")
    return setup


def _loc(path: str, locate: Locator, start: int, end: int) -> Location:
    a = locate(start) or (1, 1)
    b = locate(end) or a
    return Location(path, a[0], a[1], b[0], b[1])


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    setup = parse(text, path)
    return [setup] if setup is not None else []
