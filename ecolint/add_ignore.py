"""--add-ignore: write an ignore comment for every current finding (ruff's --add-noqa), to adopt
ecolint on a large repository and then see only new findings.

Every kind of file ecolint reads writes comments with ``#``; where the comment goes differs:
- Python: a trailing ``  # ecolint: ignore[ECO104]`` on the flagged line (a line continued with a
  backslash cannot take one: the comment goes on its own line above the statement instead).
- a Jupyter notebook: the same trailing comment, inside the JSON string of the cell's source
  line (where the cell's source is a list of lines, as Jupyter writes it; a cell whose source is
  one string is left alone and counted as skipped).
- shell, Dockerfile, YAML, Modelfile, requirements: a comment on its own line above the
  command, at its indentation — a trailing ``#`` would end a backslash-continued command, is
  part of the instruction in a Dockerfile and of the text in a YAML block scalar. The funnel
  reads such a comment as covering the next line and its backslash continuations, so it goes
  above the first line of a continued command.
A comment already there gets the new codes added to its list. Line endings and a UTF-8
byte-order mark are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ecolint import discover
from ecolint.finding import Finding

_IGNORE = re.compile(r"#\s*ecolint:\s*ignore\[([A-Za-z0-9_,\s]*)\]")
_IGNORE_FILE = re.compile(r"#\s*ecolint:\s*ignore-file\[([A-Za-z0-9_,\s]*)\]")
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")  # PEP 263: on line 1 or 2
_DIRECTIVE = re.compile(r"^#\s*[A-Za-z]+\s*=")  # a Dockerfile parser directive: # syntax=…, # escape=…
_BOM = "\ufeff"


class AddIgnoreError(OSError):
    """A file that could not be read or written back."""


@dataclass
class Added:
    path: str
    comments: int
    skipped: int = 0  # findings no comment could be written for


def add_ignores(findings: Iterable[Finding], cwd: Path | None = None) -> list[Added]:
    """Write the ignore comments for these findings into their files; what was written, by file."""
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.location.path, []).append(finding)
    base = cwd or Path.cwd()
    added = []
    for display, found in sorted(by_path.items()):
        path = Path(display) if Path(display).is_absolute() else base / display
        count, skipped = _add_to_file(path, found)
        if count or skipped:
            added.append(Added(display, count, skipped))
    return added


def _add_to_file(path: Path, findings: list[Finding]) -> tuple[int, int]:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AddIgnoreError(f"{path}: cannot add ignore comments: {getattr(exc, 'strerror', None) or exc}") from None
    kind = discover.classify(path, data[:256])
    result, count, skipped = with_ignores(text, kind, findings)
    if not count:
        return 0, skipped
    try:
        path.write_bytes(result.encode("utf-8"))
    except OSError as exc:
        raise AddIgnoreError(f"{path}: cannot add ignore comments: {exc.strerror or exc}") from None
    return count, skipped


def with_ignores(text: str, kind: str | None, findings: Iterable[Finding]) -> tuple[str, int, int]:
    """The text with an ignore comment for each finding (all in this file), in that file kind's
    place; and how many comments were written and how many findings could take none."""
    bom = text.startswith(_BOM)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.removeprefix(_BOM).splitlines(keepends=True)
    python = kind == "python"
    trailing: dict[int, set[str]] = {}  # 0-based line → codes for a comment at its end
    above: dict[int, set[str]] = {}  # 0-based line → codes for a comment on its own line above it
    notebook: dict[int, set[str]] = {}  # 0-based line of a cell's source element → codes
    for finding in findings:
        index = min(max(finding.location.line, 1), len(lines)) - 1
        if index < 0:
            continue
        if kind == "notebook":
            notebook.setdefault(index, set()).add(finding.code)
        elif python and not _continued(lines[index]):
            trailing.setdefault(index, set()).add(finding.code)
        else:
            above.setdefault(_statement_start(lines, index), set()).add(finding.code)
    count = skipped = 0
    for index, codes in notebook.items():
        edited = _in_source_string(lines[index], codes)
        if edited is None:
            skipped += len(codes)
        else:
            lines[index], count = edited, count + 1
    for index in sorted(set(trailing) | set(above), reverse=True):
        if index in trailing:
            lines[index] = _with_trailing(lines[index], trailing[index], newline)
            count += 1
        if index in above:
            count += _put_above(lines, index, above[index], newline)
    if not count:
        return text, 0, skipped
    return (_BOM if bom else "") + "".join(lines), count, skipped


def with_file_ignore(text: str, kind: str | None, codes: Iterable[str]) -> str | None:
    """The text with ``# ecolint: ignore-file[CODES]`` near its top (merged into one already
    there), after what must stay first: a shebang, Python's encoding cookie, a Dockerfile's
    parser directives. None for a notebook, whose top is JSON with no place for a comment."""
    if kind == "notebook":
        return None
    wanted = {code.upper() for code in codes}
    bom = text.startswith(_BOM)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.removeprefix(_BOM).splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = _IGNORE_FILE.search(line)
        if match is not None:
            present = {code.strip().upper() for code in match.group(1).split(",") if code.strip()}
            lines[index] = line[: match.start()] + _file_comment(present | wanted) + line[match.end() :]
            return (_BOM if bom else "") + "".join(lines)
    index = 0
    while index < len(lines) and _stays_first(lines[index], index, kind):
        index += 1
    if index and not lines[index - 1].endswith(("\n", "\r")):
        lines[index - 1] += newline
    lines.insert(index, _file_comment(wanted) + newline)
    return (_BOM if bom else "") + "".join(lines)


def _stays_first(line: str, index: int, kind: str | None) -> bool:
    if index == 0 and line.startswith("#!"):
        return True
    if kind == "python":
        return index < 2 and _CODING.match(line) is not None
    return kind == "dockerfile" and _DIRECTIVE.match(line) is not None


def _file_comment(codes: set[str]) -> str:
    return f"# ecolint: ignore-file[{', '.join(sorted(codes))}]"


def _in_source_string(line: str, codes: set[str]) -> str | None:
    """A notebook's JSON line holding one element of a cell's source list, with the comment
    added inside the string (before its newline); None when the line is not such an element."""
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    stripped = body.strip()
    comma = "," if stripped.endswith(",") else ""
    literal = stripped.removesuffix(",")
    if not (literal.startswith('"') and literal.endswith('"')):
        return None
    try:
        source = json.loads(literal)
    except ValueError:
        return None
    if not isinstance(source, str):
        return None
    newline = "\n" if source.endswith("\n") else ""
    code = source.removesuffix("\n")
    merged = _merged(code, codes)
    code = merged if merged is not None else f"{code.rstrip()}  {_comment(codes)}"
    indent = body[: len(body) - len(body.lstrip())]
    return f"{indent}{json.dumps(code + newline, ensure_ascii=False)}{comma}{ending}"


def _continued(line: str) -> bool:
    return line.rstrip("\r\n").rstrip().endswith("\\")


def _statement_start(lines: list[str], index: int) -> int:
    """The first line of the backslash-continued command that holds this line."""
    while index > 0 and _continued(lines[index - 1]):
        index -= 1
    return index


def _comment(codes: set[str]) -> str:
    return f"# ecolint: ignore[{', '.join(sorted(codes))}]"


def _merged(line: str, codes: set[str]) -> str | None:
    """The line with codes added to the ignore comment it holds, or None when it holds none."""
    match = _IGNORE.search(line)
    if match is None:
        return None
    present = {code.strip().upper() for code in match.group(1).split(",") if code.strip()}
    return line[: match.start()] + _comment(present | codes) + line[match.end() :]


def _with_trailing(line: str, codes: set[str], newline: str) -> str:
    merged = _merged(line, codes)
    if merged is not None:
        return merged
    body = line.rstrip("\r\n")
    ending = line[len(body) :] or ("" if line else newline)
    return f"{body.rstrip()}  {_comment(codes)}{ending}"


def _put_above(lines: list[str], index: int, codes: set[str], newline: str) -> int:
    """A comment on its own line above lines[index]; merged into one already there."""
    if index > 0 and lines[index - 1].lstrip().startswith("#"):
        merged = _merged(lines[index - 1], codes)
        if merged is not None:
            lines[index - 1] = merged
            return 1
    target = lines[index]
    indent = target[: len(target) - len(target.lstrip(" \t"))]
    lines.insert(index, f"{indent}{_comment(codes)}{newline}")
    return 1
