"""Source and positions: parsing a file with ``ast`` (refusing what cannot be read safely), and
turning ast's UTF-8 byte columns into 1-based character locations, with the parentheses around
an argument or a dict entry included in its span.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
import warnings

from ecolint.extract import ExtractError
from ecolint.extract.python.syntax import _Arg, _DictItem, _Located


def _parse(text: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not ours to report
            return ast.parse(text)
    except SyntaxError as exc:
        reason = exc.msg or "invalid syntax"
        if "too many nested" in reason or "too complex" in reason:
            raise ExtractError("too deeply nested to parse", exc.lineno or 1) from None
        raise ExtractError(f"invalid Python syntax: {reason}", exc.lineno or 1) from None
    except (RecursionError, MemoryError):
        raise ExtractError("too deeply nested to parse", 1) from None
    except ValueError as exc:  # null bytes, unencodable surrogates
        raise ExtractError(f"cannot parse: {exc}", 1) from None


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_COMMENT = re.compile(r"#[^\r\n]*")
_BLANK = " \t\f\r\n\\"


class _Source:
    """The file's text, addressed by absolute character offsets.

    Lines are split where Python's tokenizer splits them (``\\n``, ``\\r\\n``, ``\\r``; not the
    form feeds and Unicode separators ``str.splitlines`` also splits on).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _LINE.findall(text)
        self.starts: list[int] = [0, *itertools.accumulate(map(len, self.lines))][: len(self.lines)]

    def column(self, line: int, byte_column: int) -> int:
        """The 0-based character column of a UTF-8 byte column."""
        if line > len(self.lines):
            return byte_column
        text = self.lines[line - 1]
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8", "surrogatepass")[:byte_column].decode("utf-8", "replace"))

    def offset(self, line: int, byte_column: int) -> int:
        if line > len(self.lines):
            return len(self.text)
        return self.starts[line - 1] + self.column(line, byte_column)

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line and 0-based character column of an offset."""
        index = max(0, bisect.bisect_right(self.starts, offset) - 1)
        return index + 1, offset - (self.starts[index] if self.starts else 0)

    def span(self, node: _Located) -> tuple[int, int]:
        """Start and end offsets: an argument or dict entry with the parentheses around it."""
        if isinstance(node, _DictItem):
            key, value = node.dict.keys[node.index], node.dict.values[node.index]
            assert key is not None
            before = node.dict.values[node.index - 1] if node.index else None
            left = self.end(before) if before is not None else self.start(node.dict) + 1
            return self.parenthesized(key, left)[0], self.parenthesized(value, self.end(key))[1]
        if isinstance(node, _Arg):
            if node.keyword is not None or node.star:
                return self.start(node.node), self.end(node.node)
            if node.previous is not None:
                return self.parenthesized(node.value, self.end(node.previous))
            return self.parenthesized(node.value, self.end(node.func), own_opening=1)
        return self.start(node), self.end(node)

    def parenthesized(self, node: ast.AST, left_bound: int, own_opening: int = 0) -> tuple[int, int]:
        """The span of ``node`` with the redundant parentheses around it.

        ``left_bound`` is where the text before the node can only hold delimiters: the end of the
        previous sibling (its closing parentheses, a comma or colon, then this node's opening
        ones), or the end of a call's callee (then ``own_opening`` is 1: the call's own ``(``).
        That stretch has no strings, so its only ``#`` start comments.
        """
        start, end = self.start(node), self.end(node)
        gap = _COMMENT.sub(lambda m: " " * len(m.group()), self.text[left_bound:start])
        opening = gap[len(gap.rstrip(_BLANK + "(")) :]
        wanted = opening.count("(") - own_opening
        if wanted <= 0:
            return start, end
        found, position = 0, end
        while found < wanted:
            position = self._skip_blank(position)
            if position >= len(self.text) or self.text[position] != ")":
                break
            found, position = found + 1, position + 1
        if found == 0:
            return start, end
        # The found-th "(" counted back from the node is the outermost one that is closed.
        seen = 0
        for index in range(len(gap) - 1, -1, -1):
            if gap[index] == "(":
                seen += 1
                if seen == found:
                    return left_bound + index, position
        return start, end

    def _skip_blank(self, position: int) -> int:
        text = self.text
        while position < len(text):
            char = text[position]
            if char in _BLANK:
                position += 1
            elif char == "#":
                newline = _COMMENT.match(text, position)
                position = newline.end() if newline else position + 1
            else:
                break
        return position


# libcst's native parser (used by --fix) recurses once per operand of an `and` / `or` chain and
# takes the whole process down (a segfault, not an exception) somewhere between 4,000 and 8,000
# of them; stdlib ast keeps such a chain flat, so the nesting check does not see it. The index
# refuses a file with a longer chain (ECO001), and the fixer never hands one to libcst. A chain
# this long is never hand-written code.
MAX_BOOL_CHAIN = 1000
_BOOL_WORDS = re.compile(r"\b(?:and|or)\b")


def has_overlong_bool_chain(text: str) -> bool:
    """Whether an and/or chain is longer than MAX_BOOL_CHAIN operands (nested chains add up).
    For the fixer, which parses whole files (dead code included) with libcst; the index counts
    chains as it goes. The number of words `and` / `or` bounds any chain's length: the exact ast
    walk only runs for the rare text that has more of them."""
    if len(_BOOL_WORDS.findall(text)) <= MAX_BOOL_CHAIN:
        return False
    try:
        tree = _parse(text)
    except ExtractError:
        return False  # not Python the fixer would be given
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
            if depth > MAX_BOOL_CHAIN:
                return True
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return False
