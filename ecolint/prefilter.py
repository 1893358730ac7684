"""The prefilter: from a file's bytes alone, whether it can hold a setup at all.

Every run reads the whole tree, but only a few files can matter, and parsing the others was most
of a run's time. Two looks, both exact in one direction — a file they drop cannot yield a setup
(the fuzz run checks this as a property) — and both cheap:

1. ``may_hold_setup_bytes``: the bytes hold one of the kind's trigger tokens (a substring test).
2. ``python_may_hold_setup``: for Python, one of the calls a setup starts at is written in code,
   not only in comments and strings, and — for ``X.from_pretrained(...)`` — on a receiver that
   can be a model (the extractor skips tokenizers, configs, ``self``, ``cls`` and ``super()``).
   In transformers 909 files hold a trigger token, 73 hold one in code, and 17 hold a call a
   setup starts at.

Whatever this cannot place for sure counts as a possible setup: code inside f-string braces,
strings it cannot pair up, receivers it cannot name, encodings other than UTF-8.
"""

from __future__ import annotations

import bisect
import keyword
import re
import sys

from ecolint.extract import (
    LAUNCH_STRINGS,
    LAUNCH_WORDS,
    LOADER_CALLS,
    NOT_A_MODEL,
    PLATFORM_CALLS,
    loader_spans,
    may_match_a_pattern,
    triggers,
)
from ecolint.extract.launchers.registry import SUBCOMMANDS

_NAME = rb"A-Za-z0-9_\x80-\xff"  # the bytes of an identifier (any non-ASCII byte may be one)
_LOADERS = frozenset(name.encode() for name in LOADER_CALLS | PLATFORM_CALLS)
_LINE_SPACE = b" \t\f\v"  # blanks within a line
_KEYWORDS = frozenset(keyword.kwlist)
_SUBCOMMANDS = {program.encode(): tuple(word.encode() for word in words) for program, words in SUBCOMMANDS.items()}

# String literals, each from its opening quote; triple quotes first.
_STRING_PATTERNS = {
    b'"""': rb'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""',
    b"'''": rb"'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''",
    b'"': rb'"[^"\\\r\n]*(?:\\(?:\r\n|[\s\S])[^"\\\r\n]*)*"',
    b"'": rb"'[^'\\\r\n]*(?:\\(?:\r\n|[\s\S])[^'\\\r\n]*)*'",
}
_STRING_AT = {quote: re.compile(pattern) for quote, pattern in _STRING_PATTERNS.items()}
# Comments and string literals, matched left to right, so a quote inside a comment or a # inside
# a string never starts anything. Every alternative starts with one of three bytes, which keeps
# the scan at C speed (an alternative for f-string prefixes would try every f and r of a file).
_COMMENTS_AND_STRINGS = re.compile(b"|".join([rb"#[^\r\n]*", *_STRING_PATTERNS.values()]))

# What follows a loader's name where it is called — spaces, line continuations and closing
# parentheses may stand before the parenthesis: `(LLM)(...)` — or imported under another name
# (`from vllm import LLM as Engine`, then `Engine(...)`).
# A comment runs to its line's end (the lookahead): a run of `#` then has one way to match,
# where `#[^\r\n]*` alone split `pipeline` + `#####...` exponentially many ways.
_COMMENT = rb"#[^\r\n]*(?![^\r\n])"
_CALLED_OR_ALIASED = re.compile(
    rb"(?:[\s\\)]|"
    + _COMMENT
    + rb")*\(|(?:[\s\\]|"
    + _COMMENT
    + rb")+as(?:[\s\\]|"
    + _COMMENT
    + rb")+(?P<alias>["
    + _NAME
    + rb"]+)"
)
_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") | frozenset(
    range(0x80, 0x100)
)
_RECEIVER_WINDOW = 256
_TRAILING_SUPER_CALL = re.compile(rb"(?<![" + _NAME + rb"])super[ \t\f\v]*\([^()\r\n]*\)\Z")
_DOCTEST_PROMPT = re.compile(rb"[ \t\f]*>>>")
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_UTF8_NAMES = frozenset({b"utf-8", b"utf8", b"utf-8-sig", b"ascii", b"us-ascii", b"latin-1", b"latin1", b"iso-8859-1"})

# Inside an f-string: braces, quotes, escapes, line ends and comments (Python 3.12 allows them in
# a replacement field) are what change where the code in it starts and ends.
# A backslash never escapes a brace there: `\{x}` is a backslash and a field.
_FSTRING_EVENT = re.compile(rb"""[{}]|\"\"\"|'''|["'#\r\n]|\\N\{[^}\r\n]*\}|\\(?:\r\n|[^{}])""")


def may_hold_setup_bytes(kind: str, data: bytes) -> bool:
    """The first look, for every kind: one of its trigger tokens is in the bytes. (For Python,
    ``python_may_hold_setup`` starts with the same look, where each token is found.) In the
    files that name a launcher by its word (YAML, shell, Dockerfiles), a word counts only where
    it starts one: `output_dir: videollama_stage1` names no ollama, and its readers match
    program and image names whole."""
    tokens = triggers(kind)
    if kind in _WORD_KINDS:
        return any(token in data and _starts_a_word(data, token) for token in tokens) or may_match_a_pattern(kind, data)
    return any(token in data for token in tokens) or may_match_a_pattern(kind, data)


_WORD_KINDS = frozenset({"yaml", "shell", "dockerfile"})


def _starts_a_word(data: bytes, token: bytes) -> bool:
    """Whether the token is somewhere in the bytes not right after a letter or a digit, or
    right after `-m` (`python -mvllm.entrypoints.openai.api_server` runs the module)."""
    if not token[:1].isalpha():
        return True
    at = data.find(token)
    while at >= 0:
        if at == 0 or not data[at - 1 : at].isalnum() or data[at - 2 : at] == b"-m":
            return True
        at = data.find(token, at + 1)
    return False


def python_may_hold_setup(data: bytes, spans: list[tuple[int, int]] | None = None) -> bool:
    """The second look, for Python: a call a setup starts at is written in code, or may be
    (in an f-string's braces, or in a file whose strings this scan cannot pair up).

    First the raw bytes: a loader's name shaped like a call, outside doctest lines. Most files
    with a trigger token have none (a tokenizer's from_pretrained, a definition, prose about
    vLLM) and stop there. Only the rest pay for the comment-and-string scan. ``spans``: the
    bytes' ``loader_spans``, when the caller has them already (the project pass).
    """
    if _names_a_launcher_in_a_string(data):
        return True  # a string naming a launcher: an argv list the code may run
    found = loader_spans(data) if spans is None else spans
    sites = [at for at, _ in found if _is_call_site(data, at) and not _on_doctest_line(data, at)]
    if not sites:
        return False
    if not _decodes_as_utf8_family(data):
        return True  # a multi-byte encoding may hide a quote or backslash inside a character
    code = _COMMENTS_AND_STRINGS.sub(b"", data)
    if any(_is_call_site(code, at) for at in _occurrences(code)):
        return True
    return _fstring_may_hold_call(data, sites)


def _launch_string_groups() -> dict[bytes, tuple[tuple[bytes, tuple[bytes, ...]], ...]]:
    """LAUNCH_STRINGS under the launcher word each starts with after its quote, and under the
    quote and that word: each launch string then costs a scan only where its word, then its
    quoted word, is in the bytes (a package's own files all name it: sglang's 1,600 did 18 scans
    each). A string that starts with no word is looked for under every word."""
    loose = tuple(s for s in LAUNCH_STRINGS if not s[1:].startswith(LAUNCH_WORDS))
    groups = {}
    for word in LAUNCH_WORDS:
        prefixes = []
        for quote in sorted({s[:1] for s in LAUNCH_STRINGS}):
            strings = tuple(s for s in LAUNCH_STRINGS if s.startswith(quote + word))
            if strings:
                prefixes.append((quote + word, strings))
        if loose:
            prefixes.append((b"", loose))
        groups[word] = tuple(prefixes)
    return groups


def _shared_parts(words: tuple[bytes, ...]) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """The words under a part of four or five bytes that several of them share (llama-cli,
    llama-server and ollama under "llama"): a file that names none of them is scanned once for
    the part instead of once for each (most files name no launcher at all). A word that shares
    no part is its own."""
    left = list(words)
    out: list[tuple[bytes, tuple[bytes, ...]]] = []
    while left:
        parts = sorted({w[i : i + n] for w in left for n in (4, 5) for i in range(len(w) - n + 1)})
        part = max(parts, key=lambda p: (sum(p in w for w in left), len(p)), default=b"")
        shared = tuple(w for w in left if part and part in w)
        if len(shared) < 2:
            out.extend((w, (w,)) for w in left)
            break
        out.append((part, shared))
        left = [w for w in left if w not in shared]
    return tuple(out)


_LAUNCH_GROUPS = _launch_string_groups()
_LAUNCH_PARTS = _shared_parts(LAUNCH_WORDS)


def _names_a_launcher_in_a_string(data: bytes) -> bool:
    """``any(word in data for word in LAUNCH_WORDS) and any(s in data for s in LAUNCH_STRINGS)``,
    with fewer scans: a word's part (``_shared_parts``) is in the bytes wherever the word is, and
    a launch string holds the word it is grouped under (``_launch_string_groups``), so the
    group of any launch string in the bytes is looked at."""
    for part, words in _LAUNCH_PARTS:
        if part not in data:
            continue
        for word in words:
            if word != part and word not in data:
                continue
            for prefix, strings in _LAUNCH_GROUPS[word]:
                if prefix in data and any(_as_a_word_of_a_list(data, string) for string in strings):
                    return True
    return False


def _as_a_word_of_a_list(data: bytes, string: bytes) -> bool:
    """Whether a launch string is in the bytes where an argv list can hold it. A module's start
    (`"sglang.launch_server`) counts wherever it is. A program's name alone (`"vllm"`) counts
    only as an element of a list or tuple display (``_may_start_argv``): a serving package's own
    files name it in dict keys, keyword arguments and comparisons (`backend == "sglang"`,
    `version("sglang")`) file after file."""
    if not string.endswith((b'"', b"'")):
        return string in data
    subcommands = _SUBCOMMANDS.get(string[1:-1], ())
    at = data.find(string)
    while at >= 0:
        if _may_start_argv(data, at, at + len(string), subcommands):
            return True
        at = data.find(string, at + 1)
    return False


def _may_start_argv(data: bytes, at: int, end: int, subcommands: tuple[bytes, ...]) -> bool:
    """Whether the program's name quoted at ``data[at:end]`` may be a word of an argv list the
    platform reader reads (ecolint/extract/python/platforms.py): followed by ``,`` ``]`` or
    ``)``; not the value of a keyword, a comparison, an annotation or a dict entry (``=`` or
    ``:`` before it on its line); not the argument of a call or a subscript (``f("vllm")``,
    ``d["vllm"]``). A program that needs a subcommand (``vllm serve``) yields nothing bare: not
    as a tuple's last word (tuples are never grown), nor as a list's in a file that never names
    the subcommand, nor followed by a literal that is none of its subcommands
    (``["vllm", "sglang"]``)."""
    after = _skip_blanks(data, end)
    following = data[after : after + 1]
    if following not in (b",", b"]", b")"):
        return False
    if subcommands and following == b")":
        return False
    if subcommands and following == b"]" and not any(word in data for word in subcommands):
        return False  # a list that ends in it, grown later by words that name no subcommand
    before = at - 1
    while before >= 0 and data[before] in _LINE_SPACE:
        before -= 1
    opener = data[before : before + 1]
    if opener in (b"=", b":"):
        return False
    if opener in (b"(", b"[") and _called_or_subscripted(data, before):
        return False
    if subcommands and following == b",":
        word = _next_literal(data, after + 1)
        if word is not None and word not in subcommands:
            return False
    return True


def _skip_blanks(data: bytes, at: int) -> int:
    while at < len(data) and data[at] in b" \t\r\n":
        at += 1
    return at


def _called_or_subscripted(data: bytes, opener: int) -> bool:
    """Whether the bracket at ``opener`` opens a call's arguments or a subscript: right after a
    name that is no keyword (``return("vllm", …)`` is a tuple), or after ``)`` or ``]``."""
    start = opener
    while start > 0 and data[start - 1] in _NAME_BYTES:
        start -= 1
    if start < opener:
        return data[start:opener].decode("latin-1") not in _KEYWORDS
    return opener > 0 and data[opener - 1] in b")]"


def _next_literal(data: bytes, at: int) -> bytes | None:
    """The text of the plain one-line string literal that starts the next element (None: the
    element is anything else, or a literal this look cannot read for sure — escapes, a triple
    quote, an implicit concatenation, a comment between)."""
    at = _skip_blanks(data, at)
    quote = data[at : at + 1]
    if quote not in (b'"', b"'") or data[at : at + 3] == quote * 3:
        return None
    close = data.find(quote, at + 1)
    line_end = data.find(b"\n", at + 1)
    if close < 0 or (0 <= line_end < close):
        return None
    text = data[at + 1 : close]
    if b"\\" in text or data[_skip_blanks(data, close + 1) : _skip_blanks(data, close + 1) + 1] in (b'"', b"'"):
        return None
    return text


def _occurrences(data: bytes) -> list[int]:
    """Where a loader's name starts, in order."""
    return [at for at, _ in loader_spans(data)]


def _is_call_site(text: bytes, at: int) -> bool:
    """Whether the loader's name at `at` is shaped like a call a setup starts at. Works on raw
    bytes and on code with comments and strings removed: comments between the parts are
    skipped, and where a line break stands between a receiver and `.from_pretrained`, the
    receiver is not looked at (a comment may end the line before)."""
    start, end = at, at
    while start > 0 and text[start - 1] in _NAME_BYTES:
        start -= 1
    while end < len(text) and text[end] in _NAME_BYTES:
        end += 1
    name = text[start:end]
    shape = _CALLED_OR_ALIASED.match(text, end) if name in _LOADERS else None
    if shape is None:
        return False
    if shape.group("alias") is not None:
        # `import LLM as LLM` (a re-export) adds no name: calls of LLM are found as such
        return shape.group("alias") != name
    if name != b"from_pretrained":
        return True
    head = text[max(0, start - _RECEIVER_WINDOW) : start].rstrip(_LINE_SPACE)
    if not head or head[-1:] in b"\r\n":
        return True
    return head.endswith(b".") and _receiver_may_be_a_model(head[:-1], start - _RECEIVER_WINDOW > 0)


def _on_doctest_line(data: bytes, at: int) -> bool:
    """A `>>>` line is never code (Python has no `>>>` operator) nor inside an f-string's braces:
    a docstring example."""
    return _DOCTEST_PROMPT.match(data, data.rfind(b"\n", 0, at) + 1) is not None


def _receiver_may_be_a_model(head: bytes, truncated: bool) -> bool:
    """Whether what ends `head` (the text before `.from_pretrained(`) may be a model class, as
    the extractor's ``_loads_a_model`` decides: not a name like a tokenizer's or a config's, not
    self/cls, and not super(). What cannot be named from here (a subscript, a call, a name that
    may begin before the window, a non-ASCII name, which Python normalises) counts as a model."""
    head = head.rstrip(_LINE_SPACE)
    if not head or head[-1:] in b"\r\n":
        return True
    end = start = len(head)
    while start > 0 and head[start - 1] in _NAME_BYTES:
        start -= 1
    if start < end:
        if truncated and start == 0:
            return True
        word = head[start:end]
        return not word.isascii() or word[:1].isdigit() or not NOT_A_MODEL.search(word.decode("ascii"))
    if not head.endswith(b")"):
        return True
    at = head.rfind(b"super")
    return at < 0 or _TRAILING_SUPER_CALL.search(head, max(0, at - 1)) is None


def _decodes_as_utf8_family(data: bytes) -> bool:
    """False when a PEP 263 cookie on the first two lines names another encoding."""
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    cookie = _CODING.search(data[: second if second >= 0 else len(data)])
    return cookie is None or cookie.group(1).lower().replace(b"_", b"-") in _UTF8_NAMES


# -- f-strings ------------------------------------------------------------------------------


def _fstring_may_hold_call(data: bytes, tokens: list[int]) -> bool:
    """Whether one of the call-shaped loader names at `tokens` (sorted) stands inside an
    f-string's braces, which hold code the comment-and-string scan removed with the string. Each
    f-string that may reach one is followed from its opening quote; where it cannot be followed
    for sure, any later one counts."""
    if not tokens:
        return False
    for quote_at in _fstrings_that_may_reach(data, tokens):
        verdict = _field_holds_token(data, quote_at, tokens)
        if verdict is None:
            return bisect.bisect_right(tokens, quote_at) < len(tokens)
        if verdict:
            return True
    return False


def _fstrings_that_may_reach(data: bytes, tokens: list[int]) -> list[int]:
    """The opening quotes of the f-strings that may contain a loader's name: those on the line
    before one, the triple-quoted ones, and the single-quoted ones that may go on past their line
    — with a backslash at its end, or (Python 3.12 and later, where a replacement field may span
    lines) any of them. Looking only there keeps this to a few short searches per file."""
    lowered = data.lower()
    found: set[int] = set()
    for at in tokens:
        line_start = data.rfind(b"\n", 0, at) + 1
        found.update(_openers(lowered, _SINGLE_OPENERS, line_start, at))
    found.update(_openers(lowered, _TRIPLE_OPENERS, 0, tokens[-1]))
    if sys.version_info >= (3, 12):
        found.update(_openers(lowered, _SINGLE_OPENERS, 0, tokens[-1]))
    else:
        for continued in (b"\\\n", b"\\\r"):
            at = data.find(continued, 0, tokens[-1])
            while at >= 0:
                found.update(_openers(lowered, _SINGLE_OPENERS, data.rfind(b"\n", 0, at) + 1, at))
                at = data.find(continued, at + 1, tokens[-1])
    return sorted(found)


_SINGLE_OPENERS = (b'f"', b"f'", b'fr"', b"fr'")
_TRIPLE_OPENERS = (b'f"""', b"f'''", b'fr"""', b"fr'''")


def _openers(lowered: bytes, prefixes: tuple[bytes, ...], start: int, end: int) -> list[int]:
    """Opening quotes of f-strings in lowered[start:end] (and of look-alikes in comments and
    strings, which only cost a closer look)."""
    found = []
    for prefix in prefixes:
        at = lowered.find(prefix, start, end)
        while at >= 0:
            before = lowered[at - 1] if at else 0
            if before == ord("r"):
                before = lowered[at - 2] if at > 1 else 0
            if before not in _NAME_BYTES:
                found.append(at + (2 if prefix[1:2] == b"r" else 1))
            at = lowered.find(prefix, at + 1, end)
    return found


def _field_holds_token(data: bytes, quote_at: int, tokens: list[int]) -> bool | None:
    """Follow one f-string: True when a loader's name is inside a replacement field, False when
    the string ends without one, None when it cannot be followed for sure."""
    quote = data[quote_at : quote_at + 3]
    if quote not in (b'"""', b"'''"):
        quote = quote[:1]
    raw = data[quote_at - 1 : quote_at].lower() == b"r" or data[quote_at - 2 : quote_at - 1].lower() == b"r"
    pos = quote_at + len(quote)
    depth = 0
    field_start = 0
    while True:
        event = _FSTRING_EVENT.search(data, pos)
        if event is None:
            return None
        text, pos = event.group(), event.end()
        if depth == 0:
            if text == b"{":
                if data[pos : pos + 1] == b"{":
                    pos += 1  # `{{` is a literal brace
                    continue
                depth, field_start = 1, event.start()
            elif text.startswith(b"\\N{") and raw:
                depth, field_start, pos = 1, event.start() + 2, event.start() + 3  # a field in a raw f-string
            elif text[:1] == quote[:1] and (len(quote) == 1 or text == quote):
                return False  # the string ends
            elif text in (b"\r", b"\n") and len(quote) == 1:
                return False  # an unterminated string: a syntax error, no setup
            continue
        if text == b"{":
            depth += 1
        elif text == b"}":
            depth -= 1
            if depth == 0 and _any_between(tokens, field_start, event.end()):
                return True
        elif text[:1] in (b'"', b"'"):
            nested = _STRING_AT[text].match(data, event.start())
            if (
                nested is None
                or quote in nested.group()[len(text) : -len(text)]
                or text == quote
                or (len(quote) == 1 and text[:1] == quote)
            ):
                return None  # a string the scan would pair differently (Python 3.12 nesting)
            pos = nested.end()
        elif text == b"#":
            return None  # a comment in a field (Python 3.12) may hide a brace or a quote


def _any_between(tokens: list[int], start: int, end: int) -> bool:
    return bisect.bisect_right(tokens, start) < bisect.bisect_left(tokens, end)
