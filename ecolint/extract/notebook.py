"""Jupyter notebooks (``.ipynb``): the code cells, joined in order, read as one Python module.

A notebook is JSON. Its code cells run top to bottom in one namespace, so they are joined into one
module text (magics, shell escapes and help lines blanked, so that Python parses what is left and
every line keeps its place) and handed to the Python extractor. Each location the extractor gives
is then moved back into the JSON file: to the line of the source element it came from where a
cell's ``source`` is a list of lines (as Jupyter writes it), else to the cell's ``"source"`` key.
``cell_and_line`` turns such a location back into "cell N, line M" for messages.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ecolint.extract import ExtractContext, ExtractError
from ecolint.setups import Fact, Location, Setup

# A line IPython rewrites before Python sees it: %magic, !shell, ?help, help?, and a cell magic.
_IPYTHON_LINE = re.compile(r"^(\s*)(?:[%!?]|\w[\w.]*\?\??\s*$)")
_CELL_MAGIC = re.compile(r"^\s*%%")
_SHELL_CELL = re.compile(r"^\s*%%(?:bash|sh|script (?:bash|sh))\b")
_SHELL_ESCAPE = re.compile(r"^\s*!!?")  # `!cmd`, and `!!cmd` (it runs too; IPython keeps its output)
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class _Piece:
    """One line of joined Python, and where its text sits in the notebook file."""

    cell: int  # 1-based, counting code cells
    cell_line: int  # 1-based line inside the cell
    line: int  # line of the JSON file
    column: int  # column of the element's opening quote (or of the "source" key)
    end_column: int


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    from ecolint.extract import python

    code = _code(text)
    if not code.cells:
        return []
    source = code.source
    try:
        setups = python.extract(path, source, context)
    except ExtractError:
        # Jupyter compiles each cell on its own: a cell that is no Python (prose pasted into a
        # code cell, a half-written line) fails alone and the others still run. So does it here.
        source = _without_broken_cells(code)
        setups = python.extract(path, source, context)
    if not setups:
        return []  # most notebooks: no position in the JSON file is needed
    pieces = code.pieces({loc.line for setup in setups for loc in _locations(setup)})
    return [_moved(setup, pieces) for setup in setups]


def _without_broken_cells(code: _Code) -> str:
    """The joined module with every cell that does not parse on its own blanked (lines kept)."""
    lines = code.source.split("\n")
    kept: list[str] = []
    for cell in code.cells:
        lines_of_cell = lines[cell.first : cell.first + cell.count]
        try:
            ast.parse("\n".join(lines_of_cell))
        except (SyntaxError, ValueError):
            lines_of_cell = [""] * len(lines_of_cell)
        kept.extend(lines_of_cell)
    return "\n".join(kept) + "\n"


def cell_and_line(text: str, line: int) -> tuple[int, int | None] | None:
    """The code cell and the line inside it that a line of the notebook file holds; the line is
    None where the cell's source is one JSON string (every line of the cell is on that one)."""
    try:
        code = _code(text)
    except ExtractError:
        return None
    pieces = code.pieces(None)
    # Each cell's last piece is the blank line that ends it in the joined module: it shares the
    # JSON line of the cell's last line, which it must not make ambiguous.
    ending = {piece.cell: piece.cell_line for piece in pieces.values()}
    here = [piece for piece in pieces.values() if piece.line == line and piece.cell_line != ending[piece.cell]]
    if not here:
        return None
    lines = {piece.cell_line for piece in here if piece.cell == here[0].cell}
    return here[0].cell, (here[0].cell_line if len(lines) == 1 else None)


# -- the notebook's code, with a position for every line ----------------------------------------


@dataclass(frozen=True)
class _Cell:
    """A code cell as it sits in the joined module."""

    index: int  # in the document's cells list
    number: int  # 1-based, counting code cells
    first: int  # the joined module's 0-based line of its first line
    count: int  # its lines there, with the blank line that ends it
    is_list: bool  # its source is a list of lines (as Jupyter writes it)
    parts: list[str]


@dataclass
class _Code:
    """The notebook's code cells joined into one module text, and where each line of it is
    written in the JSON file, found only for the lines asked (``pieces``): locating source
    elements decodes them one by one, which most notebooks (no setup) never need."""

    text: str
    source: str
    cells: list[_Cell]

    def pieces(self, lines: set[int] | None) -> dict[int, _Piece]:
        """1-based joined line → its piece, for ``lines`` (None: every line)."""
        if not self.cells:
            return {}
        starts = [cell.first for cell in self.cells]
        wanted: dict[int, _Cell] = {}
        for line in range(1, self.cells[-1].first + self.cells[-1].count + 1) if lines is None else lines:
            at = bisect.bisect_right(starts, line - 1) - 1
            if at >= 0 and line - 1 < self.cells[at].first + self.cells[at].count:
                wanted[line] = self.cells[at]
        positions = _source_positions(self.text, {cell.index for cell in wanted.values()})
        return {
            line: _piece(cell.number, line - 1 - cell.first, positions.get(cell.index, []), cell.is_list, cell.parts)
            for line, cell in wanted.items()
        }


def _code(text: str) -> _Code:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ExtractError(f"invalid notebook JSON: {exc}", getattr(exc, "lineno", 1)) from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ExtractError("not a Jupyter notebook: no cells list")
    code: list[_Cell] = []
    lines: list[str] = []
    number = 0
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        parts = source if isinstance(source, list) else [source]
        if not all(isinstance(part, str) for part in parts):
            continue
        cell_text = "".join(parts)
        cell_lines = cell_text.splitlines() or [""]
        if _CELL_MAGIC.match(cell_lines[0]):
            cell_lines = [""] * len(cell_lines)  # %%bash, %%time …: not Python line by line
        code.append(_Cell(index, number, len(lines), len(cell_lines) + 1, isinstance(source, list), parts))
        shell = False  # inside a `!command \` whose next lines continue the shell command
        for line in cell_lines:
            plain = "" if shell else _plain(line)
            shell = (shell or plain != line) and line.rstrip().endswith("\\")
            lines.append(plain)
        lines.append("")  # cells end their last statement
    return _Code(text, "\n".join(lines) + "\n", code)


def shell_commands(text: str) -> str:
    """The notebook's shell escapes (``!python serve.py --load_in_8bit``, continued over backslash
    lines) and ``%%bash`` / ``%%sh`` cells as a shell script whose lines are the notebook file's
    lines, each command on the line of the source element it came from (for the invocation
    pass, ecolint/invocations.py). Raises ExtractError on JSON that is no notebook."""
    document = json.loads(text) if text.strip() else {}
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ExtractError("not a Jupyter notebook: no cells list")
    found: list[tuple[int, int, bool, list[str], str]] = []  # (cell index, line offset, …, command)
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        parts = source if isinstance(source, list) else [source]
        if not all(isinstance(part, str) for part in parts):
            continue
        cell_lines = "".join(parts).splitlines()
        whole = bool(cell_lines) and bool(_SHELL_CELL.match(cell_lines[0]))
        continued = False
        for offset, code in enumerate(cell_lines):
            escape = _SHELL_ESCAPE.match(code)
            if whole and offset == 0:
                continue
            if not (whole or continued or escape):
                continue
            command = code if whole or continued else code[escape.end() :] if escape else code
            continued = code.rstrip().endswith("\\")
            found.append((index, offset, isinstance(source, list), parts, command))
    if not found:
        return ""
    # located only now, and only the cells that hold a command
    positions = _source_positions(text, {index for index, *_ in found})
    by_line: dict[int, list[str]] = {}
    for index, offset, is_list, parts, command in found:
        line = _piece(0, offset, positions.get(index, []), is_list, parts).line
        by_line.setdefault(line, []).append(command)
    lines = [""] * max(by_line)
    for line, commands in by_line.items():
        lines[line - 1] = " ; ".join(commands) if len(commands) > 1 else commands[0]
    return "\n".join(lines) + "\n"


def _plain(line: str) -> str:
    """A line IPython would rewrite becomes ``pass`` at its indentation: the module still parses."""
    match = _IPYTHON_LINE.match(line)
    return f"{match.group(1)}pass" if match else line


def _piece(cell: int, offset: int, where: list[tuple[int, int, int]], is_list: bool, parts: list[str]) -> _Piece:
    """Where line ``offset`` of a cell is written: its element of a list source (elements are
    lines, each but the last ending in a newline), else the "source" key itself."""
    if not where:
        return _Piece(cell, offset + 1, 1, 1, 2)
    if not is_list:
        line, column, end = where[0]
        return _Piece(cell, offset + 1, line, column, end)
    line, column, end = where[min(_element_of(parts, offset) + 1, len(where) - 1)]
    return _Piece(cell, offset + 1, line, column, end)


def _element_of(parts: list[str], offset: int) -> int:
    """The element of a list source that holds line ``offset`` of the cell."""
    seen = 0
    for element, part in enumerate(parts):
        seen += part.count("\n") + (0 if part.endswith("\n") else 1)
        if seen > offset:
            return element
    return len(parts) - 1


def _source_positions(text: str, wanted: set[int]) -> dict[int, list[tuple[int, int, int]]]:
    """For each cell of ``wanted`` (by index), the position of its "source" key and then of each
    element of a list source: (line, column, end column), 1-based. Read with the standard
    library's own decoder one value at a time, so a position is never guessed from the layout;
    the other cells are stepped over whole (one decode each, at C speed)."""
    starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def at(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset)  # C speed: a notebook has thousands of elements
        return line, offset - starts[line - 1] + 1

    found: dict[int, list[tuple[int, int, int]]] = {}
    try:
        for key, start, _ in _members(text, _skip(text, 0)):
            if key != "cells" or text[start] != "[":
                continue
            for index, cell_start in enumerate(_elements(text, start)):
                if index not in wanted or text[cell_start] != "{":
                    continue
                for cell_key, value_start, key_start in _members(text, cell_start):
                    if cell_key != "source":
                        continue
                    line, column = at(key_start)
                    spots = [(line, column, column + len('"source"'))]
                    if text[value_start] == "[":
                        for element in _elements(text, value_start):
                            _, end = _DECODER.raw_decode(text, element)
                            line, column = at(element)
                            end_line, end_column = at(end)
                            spots.append((line, column, end_column if end_line == line else column + 1))
                    found[index] = spots
    except (ValueError, IndexError):
        return found  # json.loads accepted it, so this does not happen; positions degrade, never fail
    return found


def _skip(text: str, offset: int) -> int:
    match = _WS.match(text, offset)
    return match.end() if match else offset


def _members(text: str, start: int) -> Iterator[tuple[str, int, int]]:
    """(key, value start, key start) of each member of the object at ``start``."""
    offset = _skip(text, start + 1)
    while text[offset] != "}":
        key_start = offset
        key, offset = _DECODER.raw_decode(text, offset)
        offset = _skip(text, offset)
        offset = _skip(text, offset + 1)  # the colon
        yield key, offset, key_start
        _, offset = _DECODER.raw_decode(text, offset)
        offset = _skip(text, offset)
        if text[offset] == ",":
            offset = _skip(text, offset + 1)


def _elements(text: str, start: int) -> Iterator[int]:
    """The start of each element of the array at ``start``."""
    offset = _skip(text, start + 1)
    while text[offset] != "]":
        yield offset
        _, offset = _DECODER.raw_decode(text, offset)
        offset = _skip(text, offset)
        if text[offset] == ",":
            offset = _skip(text, offset + 1)


# -- locations back into the file ---------------------------------------------------------------


def _locations(setup: Setup) -> Iterator[Location]:
    yield setup.origin
    for fact in setup.facts.values():
        if fact.location is not None:
            yield fact.location


def _moved(setup: Setup, pieces: dict[int, _Piece]) -> Setup:
    def move(location: Location | None) -> Location | None:
        piece = None if location is None else pieces.get(location.line)
        if location is None or piece is None:
            return location
        return Location(location.path, piece.line, piece.column, piece.line, piece.end_column)

    facts = {name: Fact(fact.value, move(fact.location), fact.how) for name, fact in setup.facts.items()}
    origin = move(setup.origin) or setup.origin
    return replace(setup, origin=origin, facts=facts, kind="notebook")
