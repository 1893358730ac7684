"""Shell scripts -> argv + env with locations -> ecolint/extract/launchers.

A small positional tokenizer finds the words of each simple command (quotes, backslash
continuations, comments, operators, redirections, heredocs, ``NAME=( … )`` arrays); ``shlex``
then unquotes each word after variable expansion. Nothing is executed: ``$(…)`` stays unknown.

Bash semantics kept on purpose: a ``#`` line inside a backslash continuation ends the command
(the comment swallows the rest of the joined line); only exported variables and ``VAR=x cmd``
prefixes reach the launcher's environment; ``echo "vllm serve …"`` is a string, not a command.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecolint.extract import ExtractContext, ExtractError, modelfile
from ecolint.extract.launchers.detect import container_setups, interpret
from ecolint.extract.launchers.vocab import EnvVal, Locator, Tok, basename, span, text_locator
from ecolint.setups import INVOCATION, INVOKED_SCRIPT, Location, Setup

ExprResolver = Callable[[str], "str | None"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_KEYWORDS = {"then", "do", "else", "elif", "if", "while", "until", "!", "{", "}", "fi", "done", "esac", "time"}
_META = set(" \t\n;&|()<>")
# Runs of characters that neither end a word nor start a quote or an expansion, skipped in one
# step: a script is mostly such runs, and a Python loop over each character was the scanner's cost.
_WORD_RUN = re.compile(r"[^ \t\n;&|()<>\\'\"`$]*")
_DOUBLE_RUN = re.compile(r'[^\\"`$]*')
_MAX_COMMANDS = 20000  # a bound on pathological input, far above any real script


class _TokenError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Locating
# --------------------------------------------------------------------------------------------


def _location(path: str, locate: Locator, start: int, end: int) -> Location:
    a = locate(start) or (1, 1)
    b = locate(end) or a
    return Location(path, a[0], a[1], b[0], b[1])


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


@dataclass
class _Word:
    raw: str
    start: int
    end: int
    array: list[_Word] | None = None


@dataclass
class _Heredoc:
    delim: str
    quoted: bool
    strip_tabs: bool
    body: str = ""
    body_start: int = 0


@dataclass
class _Redirect:
    op: str
    target: _Word | None
    heredoc: _Heredoc | None = None


@dataclass
class _Cmd:
    words: list[_Word] = field(default_factory=list)
    redirects: list[_Redirect] = field(default_factory=list)
    broken: bool = False


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.cmds: list[_Cmd] = []
        self.cur = _Cmd()
        self.pending: list[_Heredoc] = []

    # -- commands ---------------------------------------------------------------------------
    def end_cmd(self) -> None:
        if (self.cur.words or self.cur.redirects) and not self.cur.broken:
            self.cmds.append(self.cur)
        self.cur = _Cmd()

    def scan(self) -> list[_Cmd]:
        text = self.text
        while self.i < self.n and len(self.cmds) < _MAX_COMMANDS:
            ch = text[self.i]
            nxt = text[self.i + 1] if self.i + 1 < self.n else ""
            if ch in " \t\r":
                self.i += 1
            elif ch == "\\" and nxt == "\n":
                self.i += 2
            elif ch == "\n":
                self.i += 1
                self.end_cmd()
                self.read_heredocs()
            elif ch == "#":
                self.skip_to_eol()
            elif ch in ";()":
                self.i += 1
                self.end_cmd()
            elif ch == "&" and nxt == ">":
                self.redirect()
            elif ch in "&|":
                self.i += 2 if nxt in "&|" and nxt else 1
                self.end_cmd()
            elif ch in "<>":
                self.redirect()
            else:
                self.word_or_fd()
        self.end_cmd()
        return self.cmds

    def skip_to_eol(self) -> None:
        end = self.text.find("\n", self.i)
        self.i = self.n if end < 0 else end

    def fail_line(self) -> None:
        """A tokenising error skips the command it is in, then scanning goes on."""
        self.cur.broken = True
        self.skip_to_eol()

    # -- words ------------------------------------------------------------------------------
    def word_or_fd(self) -> None:
        start = self.i
        try:
            end = self.read_word(start)
        except _TokenError:
            self.fail_line()
            return
        raw = self.text[start:end]
        if raw.isdigit() and end < self.n and self.text[end] in "<>":
            self.i = end
            self.redirect()
            return
        word = _Word(raw, start, end)
        self.i = end
        if _ASSIGN.match(raw) and raw.endswith("=") and end < self.n and self.text[end] == "(":
            try:
                word.array = self.read_array()
            except _TokenError:
                self.fail_line()
                return
            word.end = self.i
        self.cur.words.append(word)

    def read_array(self) -> list[_Word]:
        """``NAME=( a b # comment \n c )`` — elements may span lines and carry comments."""
        self.i += 1  # "("
        items: list[_Word] = []
        while self.i < self.n:
            ch = self.text[self.i]
            if ch in " \t\r\n":
                self.i += 1
            elif ch == "\\" and self.text[self.i + 1 : self.i + 2] == "\n":
                self.i += 2
            elif ch == "#":
                self.skip_to_eol()
            elif ch == ")":
                self.i += 1
                return items
            else:
                end = self.read_word(self.i)
                if end == self.i:
                    raise _TokenError("bad array element")
                items.append(_Word(self.text[self.i : end], self.i, end))
                self.i = end
        raise _TokenError("unclosed array")

    def read_word(self, i: int) -> int:
        text, n = self.text, self.n
        while i < n:
            ch = text[i]
            if ch in _META:
                return i
            if ch == "\\":
                i += 2
            elif ch == "'":
                close = text.find("'", i + 1)
                if close < 0:
                    raise _TokenError("unclosed single quote")
                i = close + 1
            elif ch == '"':
                i = self.read_double(i + 1)
            elif ch == "`":
                i = self.read_backtick(i + 1)
            elif ch == "$" and text.startswith("${{", i):
                close = text.find("}}", i + 3)
                if close < 0:
                    raise _TokenError("unclosed expression")
                i = close + 2
            elif ch == "$" and i + 1 < n and text[i + 1] in "({":
                i = self.read_balanced(i + 1)
            else:
                i = _WORD_RUN.match(text, i + 1).end()  # type: ignore[union-attr]  # * always matches
        return i

    def read_double(self, i: int) -> int:
        text, n = self.text, self.n
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
            elif ch == '"':
                return i + 1
            elif ch == "`":
                i = self.read_backtick(i + 1)
            elif ch == "$" and i + 1 < n and text[i + 1] in "({":
                i = self.read_balanced(i + 1)
            else:
                i = _DOUBLE_RUN.match(text, i + 1).end()  # type: ignore[union-attr]
        raise _TokenError("unclosed double quote")

    def read_backtick(self, i: int) -> int:
        text = self.text
        while i < self.n:
            if text[i] == "\\":
                i += 2
            elif text[i] == "`":
                return i + 1
            else:
                i += 1
        raise _TokenError("unclosed backtick")

    def read_balanced(self, i: int) -> int:
        """From an opening ``(`` or ``{`` to just after its match, quotes respected."""
        text = self.text
        opener = text[i]
        closer = ")" if opener == "(" else "}"
        depth = 0
        while i < self.n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "'" and opener == "(":
                close = text.find("'", i + 1)
                if close < 0:
                    raise _TokenError("unclosed quote")
                i = close + 1
                continue
            if ch == '"':
                i = self.read_double(i + 1)
                continue
            if ch == opener:
                depth += 1
            elif ch == closer:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise _TokenError("unbalanced expansion")

    # -- redirections and heredocs ----------------------------------------------------------
    _OPS = ("<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">")

    def redirect(self) -> None:
        op = next(o for o in self._OPS if self.text.startswith(o, self.i))
        self.i += len(op)
        while self.i < self.n and self.text[self.i] in " \t":
            self.i += 1
        start = self.i
        try:
            end = self.read_word(start)
        except _TokenError:
            self.fail_line()
            return
        target = _Word(self.text[start:end], start, end) if end > start else None
        self.i = end
        heredoc = None
        if op in ("<<", "<<-") and target is not None:
            quoted = any(q in target.raw for q in "'\"\\")
            delim = target.raw.replace("'", "").replace('"', "").replace("\\", "")
            heredoc = _Heredoc(delim, quoted, op == "<<-")
            self.pending.append(heredoc)
        self.cur.redirects.append(_Redirect(op, target, heredoc))

    def read_heredocs(self) -> None:
        for doc in self.pending:
            doc.body_start = self.i
            body_end = self.n
            while self.i < self.n:
                eol = self.text.find("\n", self.i)
                line_end = self.n if eol < 0 else eol
                line = self.text[self.i : line_end].rstrip("\r")
                if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delim:
                    body_end = self.i
                    self.i = line_end + 1 if eol >= 0 else self.n
                    break
                self.i = line_end + 1 if eol >= 0 else self.n
            else:
                body_end = self.n
            doc.body = self.text[doc.body_start : body_end]
        self.pending = []


# --------------------------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------------------------


@dataclass
class _Var:
    value: str | list[Tok]
    loc: Location | None
    exported: bool = False
    locate: Locator | None = None


@dataclass
class _State:
    path: str
    locate: Locator
    vars: dict[str, _Var]
    kind: str
    label: str | None
    context: ExtractContext | None
    resolve_expr: ExprResolver | None = None
    allexport: bool = False
    depth: int = 0
    # The directory `cd` moved to, relative to the script's ("" where it runs; None after a
    # `cd` to a place not written out, where a relative script path names no known file).
    cwd: str | None = ""
    # The directories `git clone` made (a README's or a Colab notebook's first steps): one of
    # them is this repository, and a script path inside another names no file of it.
    cloned: set[str] = field(default_factory=set)


_SPECIAL = set("@*#?$!-0123456789")


def _escape(value: str, quoted: bool) -> str:
    """Make an expanded value literal for shlex: bash never re-reads quotes from expansions."""
    if quoted:
        return re.sub(r'(["\\])', r"\\\1", value)
    return re.sub(r"([\"'\\])", r"\\\1", value)


class _Expander:
    def __init__(self, state: _State) -> None:
        self.state = state
        self.used_vars: list[_Var] = []

    def lookup(self, name: str) -> _Var | None:
        var = self.state.vars.get(name)
        if var is not None:
            self.used_vars.append(var)
        return var

    def scalar(self, name: str) -> str | None:
        var = self.lookup(name)
        if var is None:
            return None
        if isinstance(var.value, list):
            return var.value[0].text if var.value else ""
        return var.value

    def param(self, body: str, quoted: bool) -> str:
        """The text of ``${body}`` (already unquoted context-escaped)."""
        if body.startswith("{") and body.endswith("}"):  # GitHub ${{ expr }}
            expr = body[1:-1].strip()
            resolved = self.state.resolve_expr(expr) if self.state.resolve_expr else None
            return _escape(resolved, quoted) if resolved is not None else "${{" + expr.replace(" ", "") + "}}"
        if body.startswith("#"):
            return "$(...)"
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*|\d+|[@*])(\[[^\]]*\])?(.*)$", body, re.S)
        if not match:
            return "$(...)"
        name, index, rest = match.group(1), match.group(2), match.group(3)
        if index and index not in ("[@]", "[*]"):
            value = self._indexed(name, index[1:-1])
        elif index:
            var = self.lookup(name)
            value = " ".join(t.text for t in var.value) if var and isinstance(var.value, list) else self.scalar(name)
        else:
            value = self.scalar(name)
        op = re.match(r"(:?[-=+?])(.*)$", rest, re.S)
        if op:
            kind, word = op.group(1), op.group(2)
            empty = value is None or (kind.startswith(":") and value == "")
            if kind.endswith(("-", "=")):
                value = self.expand_text(word, quoted) if empty else _escape(value or "", quoted)
                return value
            if kind.endswith("+"):
                return "" if empty else self.expand_text(word, quoted)
            return _escape(value, quoted) if value is not None else "${" + name + "}"
        if value is None:
            return "$" + name if (name.isidentifier() or name.isdigit()) else "$(...)"
        return _escape(value, quoted)

    def _indexed(self, name: str, index: str) -> str | None:
        var = self.lookup(name)
        if var is None or not isinstance(var.value, list):
            return self.scalar(name) if index == "0" else None
        try:
            return var.value[int(index)].text
        except (ValueError, IndexError):
            return None

    def expand_text(self, raw: str, quoted: bool = False) -> str:
        """Expand ``$VAR`` forms in ``raw``; returns shlex-ready text."""
        out: list[str] = []
        i, n = 0, len(raw)
        in_double = quoted
        while i < n:
            ch = raw[i]
            if ch == "\\" and i + 1 < n:
                out.append(raw[i : i + 2])
                i += 2
            elif ch == "'" and not in_double:
                close = raw.find("'", i + 1)
                close = n - 1 if close < 0 else close
                out.append(raw[i : close + 1])
                i = close + 1
            elif ch == '"':
                in_double = not in_double if not quoted else in_double
                out.append(ch)
                i += 1
            elif ch == "`":
                close = raw.find("`", i + 1)
                i = n if close < 0 else close + 1
                out.append("$(...)")
            elif ch == "$" and raw.startswith("${{", i):
                close = raw.find("}}", i)
                close = n - 2 if close < 0 else close
                out.append(self.param("{" + raw[i + 3 : close] + "}", in_double))
                i = close + 2
            elif ch == "$" and i + 1 < n and raw[i + 1] == "(":
                i = _skip_balanced(raw, i + 1)
                out.append("$(...)")
            elif ch == "$" and i + 1 < n and raw[i + 1] == "{":
                end = _skip_balanced(raw, i + 1)
                out.append(self.param(raw[i + 2 : end - 1], in_double))
                i = end
            elif ch == "$" and i + 1 < n and (raw[i + 1] in _SPECIAL or raw[i + 1].isalpha() or raw[i + 1] == "_"):
                match = _NAME.match(raw, i + 1)
                if match:
                    out.append(self.param(match.group(0), in_double))
                    i = match.end()
                else:
                    special = raw[i + 1]
                    # "$@" is the caller's arguments (unknown, dropped); $1 stays as written
                    out.append("" if special in "@*" else ("$" + special if special.isdigit() else "$(...)"))
                    i += 2
            else:
                out.append(ch)
                i += 1
        return "".join(out)


def _skip_balanced(raw: str, i: int) -> int:
    opener = raw[i]
    closer = ")" if opener == "(" else "}"
    depth = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            i += 2
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(raw)


_ARRAY_REF = re.compile(r'^"?\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\}"?$')
_VAR_REF = re.compile(r'^"?\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))"?$')


def _simple_locate(word: _Word, value: str, locate: Locator) -> Locator | None:
    """Offsets inside a word's value -> file positions, when the word is written verbatim."""
    raw = word.raw
    if raw == value:
        shift = 0
    elif len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and raw[1:-1] == value and "\\" not in value:
        shift = 1
    else:
        return None
    return lambda k: locate(word.start + shift + k)


# Most argv words (flags, model ids, numbers) need neither expansion nor shlex.
_PLAIN_WORD = re.compile(r"[^\\'\"`$\s]+\Z")
# Quoted words with nothing to expand or escape ('a b', "x"y, --opt="v"): quote removal is
# all they need, without the expander's walk over every character.
_QUOTED_WORD = re.compile(r"""(?:[^\\'"`$\s]|'[^']*'|"[^"\\`$]*")+\Z""")  # no nested +: linear


def _unquoted(raw: str) -> str | None:
    """The one value of a word made of plain and simply quoted parts, or None for any other word."""
    return posix_split(raw)[0] if _QUOTED_WORD.match(raw) else None


# shlex.split(text, posix=True) reads a character at a time in Python; these regexes read a
# part at a time: unquoted characters, a backslash and the character it escapes, a '…' or a
# "…" string, or the blanks between words.
_SPLIT_PART = re.compile(r"""([^ \t\r\n\\'"]+)|\\(.)|'([^']*)'|"((?:[^"\\]|\\.)*)"|([ \t\r\n]+)""", re.S)
_ESCAPED_IN_DOUBLE = re.compile(r'\\(["\\])')  # inside "…" only \" and \\ lose their backslash


def posix_split(text: str) -> list[str]:
    """shlex.split(text, posix=True), faster. An unclosed quote or a trailing backslash goes
    to shlex itself, which raises its ValueError."""
    words: list[str] = []
    parts: list[str] | None = None  # the word being read, None between words
    at, end = 0, len(text)
    while at < end:
        match = _SPLIT_PART.match(text, at)
        if match is None:
            return shlex.split(text, posix=True)
        at = match.end()
        plain, escaped, single, double, blanks = match.groups()
        if blanks is not None:
            if parts is not None:
                words.append("".join(parts))
                parts = None
            continue
        if parts is None:
            parts = []
        if double is not None:
            parts.append(_ESCAPED_IN_DOUBLE.sub(r"\1", double) if "\\" in double else double)
        else:
            parts.append(plain if plain is not None else escaped if escaped is not None else single)
    if parts is not None:
        words.append("".join(parts))
    return words


def _expand_word(word: _Word, st: _State) -> list[Tok]:
    """One raw word -> argv Toks (arrays and unquoted expansions may give several, ``"$@"`` none)."""
    if _PLAIN_WORD.match(word.raw):  # no quote, escape or expansion: the word is its own value
        loc = _location(st.path, st.locate, word.start, word.end)
        return [Tok(word.raw, loc, _simple_locate(word, word.raw, st.locate))]
    value = _unquoted(word.raw)
    if value is not None:
        return [Tok(value, _location(st.path, st.locate, word.start, word.end), _simple_locate(word, value, st.locate))]
    array_ref = _ARRAY_REF.match(word.raw)
    if array_ref:
        var = st.vars.get(array_ref.group(1))
        if var is not None and isinstance(var.value, list):
            return list(var.value)
    expander = _Expander(st)
    text = expander.expand_text(word.raw)
    try:
        values = posix_split(text)
    except ValueError as exc:
        raise _TokenError(str(exc)) from exc
    loc = _location(st.path, st.locate, word.start, word.end)
    ref = _VAR_REF.match(word.raw)
    if ref and expander.used_vars and expander.used_vars[0].loc is not None:
        var = expander.used_vars[0]
        var_locate = var.locate if len(values) == 1 else None
        return [Tok(v, var.loc, var_locate) for v in values]
    if len(values) == 1:
        return [Tok(values[0], loc, _simple_locate(word, values[0], st.locate))]
    return [Tok(v, loc) for v in values]


def _assignment_value(word: _Word, st: _State) -> tuple[str, str | list[Tok], Location, Locator | None] | None:
    match = _ASSIGN.match(word.raw)
    if not match:
        return None
    name = match.group(1)
    loc = _location(st.path, st.locate, word.start, word.end)
    if word.array is not None:
        items: list[Tok] = []
        for item in word.array:
            items.extend(_expand_word(item, st))
        if match.group(2):  # NAME+=( … )
            prev = st.vars.get(name)
            if prev is not None and isinstance(prev.value, list):
                items = prev.value + items
        return name, items, loc, None
    raw_value = word.raw[match.end() :]
    value = _unquoted(raw_value) if raw_value else ""
    if value is None:
        text = _Expander(st).expand_text(raw_value)
        try:
            parts = posix_split(text) if text.strip() else [""]
        except ValueError as exc:
            raise _TokenError(str(exc)) from exc
        # An assignment is never word-split; shlex only removes the quoting.
        value = " ".join(parts)
    if match.group(2):
        prev = st.vars.get(name)
        if prev is not None and isinstance(prev.value, str):
            value = prev.value + value
    value_word = _Word(raw_value, word.start + match.end(), word.end)
    return name, value, loc, _simple_locate(value_word, value, st.locate)


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


class _CommandEnv(Mapping[str, EnvVal]):
    """The environment one command runs with: the exported variables, then its own ``A=b``
    prefix. Built on first use: most commands launch nothing and never read it, and a CI
    script with many variables spent a tenth of its time copying them for every command."""

    def __init__(self, st: _State, prefix: list[tuple[str, str | list[Tok], Location, Locator | None]]) -> None:
        self._st = st
        self._prefix = prefix
        self._built: dict[str, EnvVal] | None = None

    def _env(self) -> dict[str, EnvVal]:
        if self._built is None:
            env = {
                name: EnvVal(var.value, var.loc)
                for name, var in self._st.vars.items()
                if var.exported and isinstance(var.value, str)
            }
            for name, value, loc, _ in self._prefix:
                if isinstance(value, str):
                    env[name] = EnvVal(value, loc)
            self._built = env
        return self._built

    def __getitem__(self, name: str) -> EnvVal:
        return self._env()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env())

    def __len__(self) -> int:
        return len(self._env())


def _declare(argv_words: list[_Word], builtin: str, st: _State) -> None:
    export = builtin == "export"
    for word in argv_words:
        if word.raw.startswith("-"):
            export = export or "x" in word.raw
            continue
        assigned = _assignment_value(word, st)
        if assigned is not None:
            name, value, loc, locate = assigned
            st.vars[name] = _Var(value, loc, export or st.allexport, locate)
        elif _NAME.fullmatch(word.raw) and word.raw in st.vars and export:
            st.vars[word.raw].exported = True


def _source(words: list[Tok], st: _State) -> None:
    """``source .env`` / ``. ./config.sh``: take the file's variables, not its commands."""
    if st.context is None or st.depth > 1 or not words:
        return
    text = _read_relative(st.path, words[0].text, st.context)
    if text is None:
        return
    # Values read from another file are located at the `source` word of this one.
    sub = _State(
        st.path, lambda k: None, st.vars, st.kind, st.label, st.context, st.resolve_expr, st.allexport, st.depth + 1
    )
    source_loc = words[0].loc
    for cmd in _Scanner(text).scan():
        try:
            _assignments_only(cmd, sub, source_loc)
        except (_TokenError, RecursionError):
            continue
    st.allexport = sub.allexport


def _assignments_only(cmd: _Cmd, st: _State, loc: Location | None) -> None:
    words = [w for w in cmd.words if w.raw not in _KEYWORDS]
    if words and words[0].raw in ("export", "declare", "typeset", "readonly", "local"):
        export = words[0].raw == "export"
        words = [w for w in words[1:] if not w.raw.startswith("-")]
    else:
        export = False
        if any(not _ASSIGN.match(w.raw) for w in words):
            return
    for word in words:
        assigned = _assignment_value(word, st)
        if assigned is not None:
            name, value, _, _ = assigned
            st.vars[name] = _Var(value, loc, export or st.allexport)


def _read_relative(path: str, rel: str, context: ExtractContext) -> str | None:
    if "$" in rel:
        return None
    # The script's directory through the context (display paths are relative to the run's
    # working directory, which is not the process's own when the engine is given a cwd).
    base = context.source_path(path).parent
    candidates = [base / rel]
    written = Path(path).parent
    if not written.is_absolute():
        candidates.append(context.root / written / rel)
    for candidate in candidates:
        try:
            text = context.read(candidate)
        except Exception:  # noqa: BLE001 - the context's reader is not ours to trust with odd paths
            text = None
        if text is not None:
            return text
    return None


_DOCKER_BOOL = set("dit") | {"P", "q"}
_DOCKER_BOOL_LONG = {
    "--detach",
    "--interactive",
    "--tty",
    "--rm",
    "--privileged",
    "--init",
    "--publish-all",
    "--read-only",
    "--no-healthcheck",
    "--oom-kill-disable",
    "--quiet",
    "--sig-proxy",
    "--help",
}
_DOCKER_VALUED_SHORT = set("epvwuhlmac")


def _docker_env_file(tok: Tok, st: _State, env: dict[str, EnvVal]) -> None:
    if st.context is None:
        return
    text = _read_relative(st.path, tok.text, st.context)
    for key, value in parse_env_file(text or "").items():
        env[key] = EnvVal(value, tok.loc)


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a .env / --env-file (comments, ``export``, quotes)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[7:].strip()
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if _NAME.fullmatch(key.strip()):
            values[key.strip()] = value
    return values


def _docker_option(args: list[Tok], i: int) -> tuple[str, Tok | None, int]:
    """One ``docker run`` option at ``i``: (name, value or None, index after it)."""
    tok = args[i]
    text = tok.text
    name, eq, inline = text.partition("=")
    if eq:
        return name, Tok(inline, tok.loc), i + 1
    short = not text.startswith("--")
    if short and len(text) > 2 and text[1] in _DOCKER_VALUED_SHORT and not set(text[1:]) <= _DOCKER_BOOL:
        return text[:2], Tok(text[2:], tok.loc), i + 1  # -p8080:80
    if name in _DOCKER_BOOL_LONG or (short and set(name[1:]) <= _DOCKER_BOOL):
        return name, None, i + 1  # -d, -it, --rm
    nxt = args[i + 1] if i + 1 < len(args) else None
    unknown_long = not short and name not in _DOCKER_VALUED_LONG
    if nxt is None or (unknown_long and _looks_like_image(nxt.text)):
        return name, None, i + 1  # an unknown switch followed by what looks like the image
    return name, nxt, i + 2


def _docker_run(args: list[Tok], st: _State) -> list[Setup]:
    """``docker run [opts] IMAGE [ARGS]``: -e/--env, --env-file, --entrypoint; the rest skipped."""
    env: dict[str, EnvVal] = {}
    entrypoint: list[Tok] | None = None
    i = 0
    while i < len(args) and args[i].text.startswith("-") and args[i].text != "-":
        flag = args[i]
        name, value, i = _docker_option(args, i)
        if value is None:
            continue
        if name in ("-e", "--env"):
            _docker_env(flag, value, st, env)
        elif name == "--env-file":
            _docker_env_file(value, st, env)
        elif name == "--entrypoint":
            entrypoint = [value]
    if i >= len(args):
        return []
    cmd = args[i + 1 :] or None
    return container_setups(
        args[i], entrypoint, cmd, env, path=st.path, kind=st.kind, label=st.label, run_script=setups_from_script
    )


def _docker_env(flag: Tok, value: Tok, st: _State, env: dict[str, EnvVal]) -> None:
    """``-e KEY=VALUE``, or ``-e KEY`` passing the docker client's (exported) variable through."""
    key, has_eq, text = value.text.partition("=")
    loc = span_tok(flag, value)
    if has_eq:
        env[key] = EnvVal(text, loc)
        return
    var = st.vars.get(key)
    if var is not None and var.exported and isinstance(var.value, str):
        env[key] = EnvVal(var.value, loc)


_DOCKER_VALUED_LONG = {
    "--env",
    "--env-file",
    "--publish",
    "--volume",
    "--name",
    "--gpus",
    "--shm-size",
    "--ipc",
    "--workdir",
    "--network",
    "--net",
    "--runtime",
    "--entrypoint",
    "--mount",
    "--user",
    "--restart",
    "--device",
    "--ulimit",
    "--hostname",
    "--label",
    "--platform",
    "--cpus",
    "--memory",
    "--add-host",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "--log-driver",
    "--log-opt",
    "--pull",
    "--tmpfs",
    "--volumes-from",
    "--pid",
    "--cpuset-cpus",
    "--expose",
    "--network-alias",
    "--group-add",
}


def _looks_like_image(text: str) -> bool:
    return "/" in text or ":" in text


def span_tok(a: Tok, b: Tok) -> Location | None:
    return span(a.loc, b.loc)


def _docker_exec(args: list[Tok], st: _State, env: dict[str, EnvVal]) -> list[Setup]:
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        name = args[i].text.split("=", 1)[0]
        takes = name in ("-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file") and "=" not in args[i].text
        i += 2 if takes else 1
    return interpret(args[i + 1 :], env, path=st.path, kind=st.kind, label=st.label, run_script=setups_from_script)


def _modelfile_heredoc(cmd: _Cmd, argv: list[Tok], st: _State) -> list[Setup]:
    """``cat > Modelfile <<EOF … EOF`` (or ``tee Modelfile``): parse the body as a Modelfile."""
    docs = [r.heredoc for r in cmd.redirects if r.heredoc is not None]
    if not docs:
        return []
    targets = [r.target.raw for r in cmd.redirects if r.op in (">", ">>", ">|") and r.target is not None]
    if argv and basename(argv[0].text) == "tee":
        targets += [t.text for t in argv[1:] if not t.text.startswith("-")]
    if not any(_is_modelfile_name(basename(t.strip("'\""))) for t in targets):
        return []
    doc = docs[0]
    body = doc.body if doc.quoted else _expand_lines(doc.body, st)
    try:
        setup = modelfile.parse(body, st.path, lambda k: st.locate(doc.body_start + k), kind=st.kind)
    except ExtractError:
        return []
    return [setup] if setup is not None else []


def _expand_lines(body: str, st: _State) -> str:
    """Unquoted heredocs expand ``$VAR``; lines keep their count so locations stay right."""
    out = []
    for line in body.split("\n"):
        if "$" not in line:
            out.append(line)
            continue
        try:
            expanded = _Expander(st).expand_text(line.replace('"', '\\"').replace("'", "\\'"))
            out.append(" ".join(posix_split(expanded)) if expanded.strip() else "")
        except (ValueError, RecursionError):
            out.append(line)
    return "\n".join(out)


def _is_modelfile_name(name: str) -> bool:
    """A Modelfile name, spelt with one of the engine's exact trigger tokens."""
    from ecolint.discover import classify

    return classify(Path(name), b"") == "modelfile" and ("Modelfile" in name or "modelfile" in name)


def _set_options(words: list[str], st: _State) -> None:
    """``set -a`` / ``set -o allexport`` export every later assignment; ``+a`` stops it."""
    for k, word in enumerate(words):
        following = words[k + 1] if k + 1 < len(words) else ""
        if word in ("-o", "+o") and following == "allexport":
            st.allexport = word == "-o"
        elif re.fullmatch(r"-[a-zA-Z]+", word) and "a" in word:
            st.allexport = True
        elif re.fullmatch(r"\+[a-zA-Z]+", word) and "a" in word:
            st.allexport = False


def _run_cmd(cmd: _Cmd, st: _State) -> list[Setup]:
    words = list(cmd.words)
    while words and words[0].raw in _KEYWORDS:
        words.pop(0)
    prefix: list[tuple[str, str | list[Tok], Location, Locator | None]] = []
    while words and _ASSIGN.match(words[0].raw):
        assigned = _assignment_value(words.pop(0), st)
        if assigned is not None:
            prefix.append(assigned)
    if not words:
        for name, value, loc, locate in prefix:
            old = st.vars.get(name)
            exported = st.allexport or (old is not None and old.exported)
            st.vars[name] = _Var(value, loc, exported, locate)
        return _modelfile_heredoc(cmd, [], st)
    head = words[0].raw
    if head in ("export", "declare", "typeset", "readonly", "local"):
        _declare(words[1:], head, st)
        return []
    argv: list[Tok] = []
    for word in words:
        argv.extend(_expand_word(word, st))
    if not argv:
        return []
    return _dispatch(cmd, argv, _CommandEnv(st, prefix), st)


def _dispatch(cmd: _Cmd, argv: list[Tok], env: Mapping[str, EnvVal], st: _State) -> list[Setup]:
    prog = basename(argv[0].text)
    if prog == "set":
        _set_options([t.text for t in argv[1:]], st)
        return []
    if prog == "unset":
        for tok in argv[1:]:
            st.vars.pop(tok.text, None)
        return []
    if prog in ("source", "."):
        _source(argv[1:], st)
        return []
    if prog == "cd":
        _change_directory(argv[1:], st)
        return []
    if prog == "git" and len(argv) > 2 and argv[1].text == "clone":
        made = _cloned_directory([tok.text for tok in argv[2:]])
        if made:
            st.cloned.add(made)
        return []
    if prog in ("docker", "podman", "nerdctl"):
        rest = argv[1:]
        if rest and rest[0].text == "container":
            rest = rest[1:]
        if rest and rest[0].text == "run":
            return _docker_run(rest[1:], st)
        if rest and rest[0].text == "exec":
            return _docker_exec(rest[1:], st, {})
        return []
    found = _modelfile_heredoc(cmd, argv, st)
    return found + _as_run_here(
        interpret(
            argv,
            env,
            path=st.path,
            kind=st.kind,
            label=st.label,
            read_file=_file_reader(st),
            run_script=setups_from_script,
            _depth=st.depth,
        ),
        st,
        _command_start(cmd, st),
    )


def _command_start(cmd: _Cmd, st: _State) -> Location | None:
    """Where the command is written (its first word): the place a script's invocation names,
    even when its interpreter comes from a variable set elsewhere (``$(PYTHON) serve.py``)."""
    if not cmd.words:
        return None
    first = cmd.words[0]
    return _location(st.path, st.locate, first.start, first.end)


def _change_directory(args: list[Tok], st: _State) -> None:
    """``cd api`` / ``cd ./src/app``: later commands run there. A directory not written out
    (``cd $DIR``, ``cd -``, ``cd`` alone, an absolute path) leaves it unknown."""
    if st.cwd is None:
        return
    words = [tok.text for tok in args if tok.text not in ("-P", "-L", "-e", "--")]
    if words and words[0].rstrip("/") in st.cloned:
        return  # into the repository a README just cloned: its root, where it already is
    if len(words) != 1 or "$" in words[0] or words[0] in ("-", "~") or words[0].startswith(("/", "~")):
        st.cwd = None
        return
    joined = os.path.normpath(os.path.join(st.cwd, words[0]))
    st.cwd = "" if joined == "." else joined


def _cloned_directory(words: list[str]) -> str | None:
    """The directory ``git clone [options] URL [DIR]`` makes: DIR, else the URL's last part."""
    plain = [word for word in words if not word.startswith("-")]
    if not plain:
        return None
    if len(plain) > 1:
        return plain[-1].rstrip("/")
    return plain[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or None


def _as_run_here(setups: list[Setup], st: _State, start: Location | None = None) -> list[Setup]:
    """The invocations a command makes, as run where it stands: located where the command
    starts, the script named from the script's own directory after a ``cd`` (an unknown
    directory links nothing) or inside a repository just cloned (this one)."""
    out = []
    for setup in setups:
        script = setup.facts.get(INVOKED_SCRIPT) if setup.framework == INVOCATION else None
        if script is None:
            out.append(setup)
            continue
        if start is not None and setup.origin is not None and setup.origin.path == start.path:
            setup.origin = start
        if st.cwd == "" and not st.cloned:
            out.append(setup)
            continue
        written = str(script.value)
        first, slash, rest = written.partition("/")
        if slash and first in st.cloned:
            written = rest  # inside a repository just cloned: this one, if the file is there
        if st.cwd is None:
            if not written.startswith("/"):
                continue  # relative to a directory not known here
        elif _in_a_made_directory(st):
            pass  # looked for where the document stands
        elif written.startswith("-m "):
            written = os.path.join(st.cwd, written[3:].replace(".", "/") + ".py")
        elif not written.startswith("/"):
            written = os.path.join(st.cwd, written)
        setup.set(INVOKED_SCRIPT, written, script.location, script.how)
        out.append(setup)
    return out


def _in_a_made_directory(st: _State) -> bool:
    """Whether a Markdown document's commands stand in a directory the repository does not
    have: one its commands made (`mkdir -p data/coco && cd data/coco` in a download step, with
    no `cd ../..` after it), or the clone's own path to the document's folder (`cd
    mPLUG-Owl/mPLUG-Owl2` after cloning mPLUG-Owl, from mPLUG-Owl2/README.md). No script of the
    repository is there; the document's reader runs the next block's `python evaluate.py` from
    where the document stands, so its script is looked for there. A shell script (which really
    runs where its `cd` left it) links nothing."""
    from ecolint.discover import MARKDOWN, invocation_only_kind

    if st.context is None or not st.cwd or invocation_only_kind(Path(st.path)) != MARKDOWN:
        return False
    return not (st.context.source_path(st.path).parent / st.cwd).is_dir()


def _file_reader(st: _State) -> Callable[[str], str | None] | None:
    """Files a launcher names (vLLM's --config), read beside the script like a sourced file."""
    context = st.context
    if context is None:
        return None
    return lambda written: _read_relative(st.path, written, context)


def _run(text: str, st: _State) -> list[Setup]:
    setups: list[Setup] = []
    for cmd in _Scanner(text).scan():
        try:
            setups.extend(_run_cmd(cmd, st))
        except (_TokenError, RecursionError):
            continue  # one command we cannot read; the rest of the script still counts
    return setups


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def setups_from_text(
    text: str,
    path: str,
    *,
    locate: Locator | None = None,
    env: Mapping[str, EnvVal] | None = None,
    kind: str = "shell",
    label: str | None = None,
    context: ExtractContext | None = None,
    resolve_expr: ExprResolver | None = None,
    depth: int = 0,
) -> list[Setup]:
    """Setups of a shell script (a file, a workflow ``run:`` block, an ``sh -c`` string)."""
    if locate is None:
        # A whole file: CRLF continuations must still continue, and a BOM is not a word. Columns
        # stay right: \r only ever ends a line, and the BOM becomes a space.
        text = _without_bom(text).replace("\r\n", "\n")
    st = _State(path, locate or text_locator(text), {}, kind, label, context, resolve_expr, depth=depth)
    for name, val in (env or {}).items():
        st.vars[name] = _Var(val.value, val.loc, exported=True)
    return _run(text, st)


def _without_bom(text: str) -> str:
    return " " + text[1:] if text.startswith("\ufeff") else text


def setups_from_script(
    script: Tok, env: Mapping[str, EnvVal], *, path: str, kind: str, label: str | None, depth: int
) -> list[Setup]:
    """The script of ``sh -c SCRIPT``; words are located inside it when the container knows how."""
    fallback = script.loc
    inner = script.locate

    def locate(offset: int) -> tuple[int, int] | None:
        pos = inner(offset) if inner is not None else None
        if pos is None and fallback is not None:
            return fallback.line, fallback.column
        return pos

    return setups_from_text(script.text, path, locate=locate, env=env, kind=kind, label=label, depth=depth)


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    """Setups launched by a shell script. Never raises on odd input: unreadable commands are skipped."""
    return setups_from_text(text, path, context=context)


def split_words(
    text: str,
    path: str,
    locate: Locator,
    variables: Mapping[str, EnvVal] | None = None,
) -> list[Tok]:
    """Words of a one-line argument list (Dockerfile ENV/ARG/FROM), quotes removed, ``$VAR`` expanded.

    Raises nothing: an unreadable word list gives [].
    """
    st = _State(path, locate, {}, "shell", None, None)
    for name, val in (variables or {}).items():
        st.vars[name] = _Var(val.value, val.loc, exported=True)
    words: list[Tok] = []
    try:
        for cmd in _Scanner(text).scan():
            for word in cmd.words:
                words.extend(_expand_word(word, st))
    except (_TokenError, RecursionError):
        return []
    return words


def raw_words(text: str) -> list[tuple[str, int, int]]:
    """Word spans of a one-line argument string, still quoted: (raw, start, end). [] if unreadable."""
    try:
        return [(w.raw, w.start, w.end) for cmd in _Scanner(text).scan() for w in cmd.words]
    except _TokenError:
        return []
