"""Cross-module loaders: the project's module index (built once per run, before the per-file
work) and the setups a call site makes through a loader helper of another module.

The project pass (``build_module_index``) walks the Python files of the project root, whatever
paths were passed, so a pre-commit run on one file and CI on ``.`` see the same modules. It
reads bytes only: each module's dotted name ↔ its file, and the names of the top-level
functions of loader modules that take parameters and hold a loading call (a cheap superset,
found from bytes; the extraction decides exactly). Nothing is imported or executed.

A file that calls such a helper (``from core.loading import load_model`` … ``load_model("id")``,
or through its module: ``from core import loading`` … ``loading.load_model("id")``) becomes a
candidate even without a loading call of its own. Its extraction finds the helper
through the imports (relative, absolute, ``__init__`` re-exports, followed inside the project
only, up to ``MAX_REEXPORTS`` steps), analyses the helper's module with the helper's parameters
bound to this call site's arguments, and keeps the setups whose facts depend on them: one setup
per call site, located at the call site (``Setup.origin``), with the loading call inside the
helper as ``Setup.through``. The engine then drops the helper module's own setup for that
loading call (its model was unknown there: the callers say which). A call site that says
nothing the helper does not still makes its setup when it runs the returned model once per
prompt or per request (or loads it again per request): that usage is its own to report. Each module is parsed once
per run (the run's memo); a call site analyses the helper's module once; chains of helpers
across modules stop after ``MAX_HELPER_DEPTH`` modules, and a file follows at most
``MAX_HELPER_CALLS`` call sites.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ecolint.extract import LOADER_CALLS, LOADER_TOKENS, ExtractContext, ExtractError, loader_spans
from ecolint.extract.python.flows import _closure, _fed_back_in_loop, _flows
from ecolint.extract.python.frameworks import _Handle
from ecolint.extract.python.imports import _find_module
from ecolint.extract.python.index import KWARGS_KEY, _Binding, _Class, _Function, _Indexer, _Scope, _Site
from ecolint.extract.python.invoked import _Invoked
from ecolint.extract.python.source import _parse, _Source
from ecolint.extract.python.syntax import (
    _NO,
    _args,
    _dotted_or_none,
    _final_name,
    _literal,
    _names_in,
    _self_attribute,
)
from ecolint.extract.python.usage import (
    _BATCHY,
    _CHAT_METHODS,
    _FORWARD,
    _GENERATING_METHODS,
    _GRADIO_EVENT,
    _GRADIO_HANDLERS,
    _LOOP,
    _ROUTE_REGISTRARS,
    _WEB_REQUEST,
    MAX_CALL_DEPTH,
    _chat_inputs,
    _inputs,
    _iterated,
    _Signal,
)
from ecolint.extract.python.values import _Entry
from ecolint.prefilter import _is_call_site
from ecolint.setups import (
    COMPILED,
    GENERATION_CALL,
    PURPOSE,
    RELOAD_PER_REQUEST,
    REQUEST_SOURCE,
    SINGLE_REQUEST,
    Fact,
    Location,
    Setup,
)

MAX_HELPER_DEPTH = 2  # modules a chain of helper calls crosses (app → core.loading → core.backend)
MAX_REEXPORTS = 3  # `from .x import f` steps followed to the module that defines f
MAX_HELPER_CALLS = 32  # call sites of imported helpers one file follows
MAX_CALLER_FILES = 64  # files a run on a helper's module alone reads to find its callers
MAX_INDEXED_FILES = 20_000  # Python files the project pass reads; beyond, the index stops growing

# A top-level def with at least one parameter, and where its body ends (the next top-level line).
_TOP_DEF = re.compile(
    rb"^(?:(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\((?![ \t]*\))|class[ \t]+([A-Za-z_][A-Za-z0-9_]*))",
    re.MULTILINE,
)
# Searched from a line break: a pattern that starts with one is found at C speed, where `^` in
# MULTILINE mode is tried at every byte of a class's long body.
_TOP_LINE = re.compile(rb"\n[^\s#)\]}]")
# A helper named for what it returns, when that is no model (get_processor, build_tokenizer,
# load_config): its from_pretrained calls load those.
_NOT_A_MODEL = re.compile(r"(?i)tokeni[sz]er|processor|config|feature_extractor")
# ... unless it names a model too: load_model_and_tokenizer, load_hf_lm_and_tokenizer
_NAMES_A_MODEL = re.compile(r"(?i)model|llm|(?<![a-z])lm(?![a-z])|_and_")


def _named_for_no_model(name: str) -> bool:
    return bool(_NOT_A_MODEL.search(name)) and not _NAMES_A_MODEL.search(name)


_METHOD_LINE = re.compile(rb"\n(?:[ \t]+(?:async[ \t]+)?def[ \t]|[ \t]*@)")
Spans = list[tuple[int, int]]  # where the loaders' names are in a file's bytes (``loader_spans``)


def _names_a_loader(data: bytes, start: int, end: int, spans: Spans | None = None) -> bool:
    """Whether one of the loading calls' names (``LOADER_TOKENS``) is in ``data[start:end]``:
    from the file's ``spans`` when they are known, else with substring tests (C speed, where
    one alternation regex over every file of a large tree cost seconds)."""
    if spans is None:
        return any(data.find(token, start, end) >= 0 for token in LOADER_TOKENS)
    at = bisect.bisect_left(spans, (start, start))
    while at < len(spans) and spans[at][0] < end:
        if spans[at][1] <= end:
            return True
        at += 1
    return False


_LITERALS = (str, int, float, bool, type(None))
_T = TypeVar("_T")


@dataclass
class ModuleIndex:
    """What the project pass found: module name → file, and helper name → files defining it."""

    root: Path
    helpers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # the project's Python files, as walked
    _pattern: re.Pattern[bytes] | None = None
    _encoded: tuple[bytes, ...] | None = None
    _modules: dict[str, Path] | None = None
    _through_modules: dict[bytes, tuple[bytes, ...]] | None = None
    _digest: str | None = None
    _names: frozenset[str] | None = None
    # the prefilter's verdict on each file the project pass read (when the run's own walk is the
    # pass's), with the (mtime, size) it was read at: the per-file pass takes it from here
    # instead of scanning the bytes again (``prefiltered``)
    verdicts: dict[str, tuple[tuple[int, int], bool]] = field(default_factory=dict)
    # of the files the prefilter turned away, what the per-file pass would still look at
    # (``Unread``), when the pass that read them could tell: such a file need not be read again
    unread: dict[str, Unread] = field(default_factory=dict)

    @property
    def modules(self) -> dict[str, Path]:
        """Dotted module name → file (``src/`` layouts without ``src``), made when first asked."""
        if self._modules is None:
            self._modules = {}
            for path in self.files:
                name = _module_name(path, self.root)
                if name is not None:
                    self._modules.setdefault(name, path)
        return self._modules

    def may_hold_module(self, name: str) -> bool:
        """Whether an absolute import's first name may be a module or package of the project:
        a file or a directory of its Python files is named so (wherever it sits: imports are
        found from the importing file's directory and its ancestors too)."""
        if len(self.files) >= MAX_INDEXED_FILES:
            return True  # the index stopped growing: a module it does not list may exist
        if self._names is None:
            names = set()
            for path in self.files:
                names.add(path.stem)
                names.update(path.parent.parts)
            self._names = frozenset(names)
        return name in self._names

    def prefiltered(self, path: str, stamp: tuple[int, int] | None) -> bool | None:
        """The prefilter's verdict on a file's bytes, as the project pass found it, while the
        file's (mtime, size) are those it read (None: not known)."""
        known = self.verdicts.get(path)
        return known[1] if known is not None and stamp is not None and known[0] == stamp else None

    def nothing_in(self, path: str) -> Unread | None:
        """What is known of a file the prefilter turned away when its import lines import no
        helper's name and no module of one: nothing in it can make a setup, so the per-file
        pass need not read it again (None: it must)."""
        unread = self.unread.get(path)
        if unread is None or self._may_import_helper(unread.imports) is not False or b"import *" in unread.imports:
            return None
        return unread

    def may_call_helper(self, data: bytes) -> bool:
        """Whether a file's bytes import a helper's name (a superset, from bytes)."""
        if b"import" not in data:
            return False
        imports = import_lines(data)
        found = self._may_import_helper(imports)
        if found:
            return True
        if self._through_modules is None:
            self._through_modules = _module_calls(self.helpers.items())
        if found is None and _calls_through_module(data, imports, self._through_modules):
            return True
        return b"import *" in imports and _calls_star_imported(data, imports, self._through_modules)

    def _may_import_helper(self, imports: bytes) -> bool | None:
        """From a file's import lines: True when they import a helper's name, False when they
        import neither one nor a module defining one, None when they import such a module (its
        calls `.helper(` are then looked for in the whole text)."""
        if not self.helpers or not imports:
            return False
        if self._encoded is None:
            self._encoded = tuple(name.encode() for name in self.helpers)
        # substring tests first: the names' regex over every file costs seconds
        if any(name in imports for name in self._encoded):
            if self._pattern is None:
                self._pattern = _names_pattern(self.helpers)
            if self._pattern.search(imports) is not None:
                return True
        if self._through_modules is None:
            self._through_modules = _module_calls(self.helpers.items())
        return None if _modules_imported(imports, self._through_modules) else False

    def callers_of(self, defining: set[str], read: Any) -> list[Path]:
        """The project's files that may call a helper defined in one of the ``defining`` files
        (real paths), those aside: what a run on a helper's module alone must also look at to
        know that the helper's callers name its model (at most ``MAX_CALLER_FILES``)."""
        names = {name for name, files in self.helpers.items() if defining & {os.path.realpath(f) for f in files}}
        if not names:
            return []
        pattern = _names_pattern(names)
        through = _module_calls((name, files) for name, files in self.helpers.items() if name in names)
        found: list[Path] = []
        for path in self.files:
            if os.path.realpath(path) in defining:
                continue
            data = read(path)
            if data is None or b"import" not in data:
                continue
            if pattern.search(data) or _calls_through_module(data, import_lines(data), through):
                found.append(path)
                if len(found) >= MAX_CALLER_FILES:
                    break
        return found

    def digest(self) -> str:
        """The helper names, as the extraction cache notes them: a file that was no candidate
        must be looked at again when a module of the project starts to define one. Made once:
        every Python file a run extracts notes it."""
        if self._digest is None:
            if self._through_modules is None:
                self._through_modules = _module_calls(self.helpers.items())
            # `L.load_model(…)` callers find the helpers by their module's name
            said = sorted(self.helpers) + [repr(item) for item in self._through_modules.items()]
            self._digest = hashlib.blake2b("\0".join(said).encode(), digest_size=8).hexdigest()
        return self._digest


def _module_calls(helpers: Iterable[tuple[str, tuple[str, ...]]]) -> dict[bytes, tuple[bytes, ...]]:
    """The last name of each module defining helpers → `.name(` of its helpers: what a file that
    imports the module itself (`import loaders as L`, `from pkg import loaders`) calls; and
    `import <package>` for the package above it when the package's ``__init__`` re-exports from
    it (`import vila; vila.load(…)` where vila/__init__.py has `from .entry import *`): keyed
    so, a file that imports modules from the package (nearly every file of it) is not taken."""
    out: dict[bytes, set[bytes]] = {}
    for name, files in helpers:
        for file in files:
            path = Path(file)
            names = [path.parent.name] if path.stem == "__init__" else [path.stem]
            if path.stem != "__init__" and _reexported(path):
                # the package imported whole (`import vila`), not a module from it
                names.append("import " + path.parent.name)
            for last in names:
                out.setdefault(last.encode(), set()).add(b"." + name.encode() + b"(")
    return {module: tuple(sorted(calls)) for module, calls in sorted(out.items())}


def _reexported(path: Path) -> bool:
    """Whether the ``__init__.py`` beside a module imports from it (`from .entry import *`,
    `from .entry import load`): the package's own name then reaches the module's helpers."""
    try:
        data = (path.parent / "__init__.py").read_bytes()
    except OSError:
        return False
    return re.search(rb"from[ \t]+\.[ \t]*" + re.escape(path.stem.encode()) + rb"[ \t]+import", data) is not None


def _calls_through_module(data: bytes, imports: bytes, through: dict[bytes, tuple[bytes, ...]]) -> bool:
    """Whether a file may call a helper through its module: the module's name in its import
    lines, and `.helper(` in its text (a superset, from bytes)."""
    return any(call in data for module in _modules_imported(imports, through) for call in through[module])


_STAR_IMPORT = re.compile(rb"from[ \t]+\.*([A-Za-z0-9_.]*?)([A-Za-z0-9_]+)[ \t]+import[ \t]+\*")


def _calls_star_imported(data: bytes, imports: bytes, through: dict[bytes, tuple[bytes, ...]]) -> bool:
    """Whether a file may call a helper of a module it star-imports (`from stablelm import *`
    … `StableLMBot()`): the helper's bare name, called, in its text (a superset, from bytes)."""
    for match in _STAR_IMPORT.finditer(imports):
        for call in through.get(match.group(2), ()):
            bare = call[1:]  # `.StableLMBot(` without its dot
            at = data.find(bare)
            while at >= 0:
                if at == 0 or data[at - 1] not in _NAME_BYTES:
                    return True
                at = data.find(bare, at + 1)
    return False


def _modules_imported(imports: bytes, through: dict[bytes, tuple[bytes, ...]]) -> set[bytes]:
    """The keys of ``through`` that import lines name as a whole name where a name is bound
    (`import loaders as L`, `from pkg import loaders`, `import pkg.loaders`, `import vila`): a
    module's name inside a longer one (`builder` for `build`), or in the module a `from`
    imports from (`from pkg.loaders.io import read` binds `read`), gives no `loaders.` to call.
    A module's name stands as a whole name exactly when it is one of the runs of identifier
    characters: one regex pass, then set lookups (a large project has hundreds of keys; a name
    that is no identifier cannot be imported); an `import <package>` key is then checked for
    its boundaries."""
    if not through or not imports:
        return set()
    bound = _FROM_CLAUSE.sub(b"", imports) if b"from" in imports else imports
    words = set(_NAME_RUN.findall(bound))
    found = {word for word in words if word in through}
    for word in words:
        whole = b"import " + word
        if whole in through and _as_a_name(bound, whole):
            found.add(whole)
    return found


def _as_a_name(text: bytes, name: bytes) -> bool:
    """Whether ``name`` stands in ``text`` with no identifier character on either side."""
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        if (at == 0 or text[at - 1] not in _NAME_BYTES) and (end == len(text) or text[end] not in _NAME_BYTES):
            return True
        at = text.find(name, at + 1)
    return False


_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_NAME_RUN = re.compile(rb"[A-Za-z0-9_]+")
# a `from pkg.module` clause: the names it imports are bound, not the module
_FROM_CLAUSE = re.compile(rb"(?m)^[ \t]*from[ \t]+[A-Za-z0-9_.]+[ \t]+(?=import\b)")


def import_lines(data: bytes) -> bytes:
    """The lines that hold the word `import` (a parenthesised name list to its `)`, a backslash
    continuation to its end), joined: every import statement is in them, and the helper names
    are then looked for in a few hundred bytes instead of the whole file."""
    parts = []
    at = data.find(b"import")
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        if data.find(b"(", at, end) >= 0:
            close = data.find(b")", at)
            end = len(data) if close < 0 else close + 1
        while end < len(data) and data[max(start, end - 2) : end].rstrip(b"\r").endswith(b"\\"):
            following = data.find(b"\n", end + 1)
            end = len(data) if following < 0 else following
        parts.append(data[start:end])
        at = data.find(b"import", end)
    return b"\n".join(parts)


def _names_pattern(names: Iterable[str]) -> re.Pattern[bytes]:
    """One of the names, imported: `from m import name`, `from m import (a,\n name)`."""
    alternatives = b"|".join(re.escape(name.encode()) for name in sorted(names))
    return re.compile(
        rb"(?<![A-Za-z0-9_])import[ \t]+(?:\([^)]*?|(?:[^\n(\\]|\\\r?\n|\\)*?)(?<![A-Za-z0-9_])(?:"
        + alternatives
        + rb")(?![A-Za-z0-9_])"
    )


def build_module_index(root: Path, files: Iterable[Path], may_load: Any, memo: Any = None) -> ModuleIndex:
    """The project pass over the project's Python files (``may_load``: the prefilter's test of
    a file's bytes for a loading call; ``memo``: the extraction cache, which keeps each file's
    helper names by its (mtime, size))."""
    listed = indexed_files(files)
    return module_index(root, listed, helpers_in(listed, may_load, memo))


def indexed_files(files: Iterable[Path]) -> list[Path]:
    """The files the index lists: the first ``MAX_INDEXED_FILES`` of the walk."""
    return list(itertools.islice(files, MAX_INDEXED_FILES))


@dataclass(frozen=True)
class Unread:
    """What the per-file pass would still look at in a Python file the prefilter turned away:
    its import lines (whether it imports a loader helper of another module), and its content
    digest for the extraction cache (None: no cache)."""

    imports: bytes
    digest: str | None


# a file, its (mtime, size) when read, the prefilter's verdict, and what the per-file pass would
# still look at in it when the verdict is no (None: the pass must read it: ``unread``)
Verdict = tuple[str, tuple[int, int], bool, Unread | None]


def helpers_in(
    files: Iterable[Path],
    may_load: Any,
    memo: Any = None,
    verdicts: list[Verdict] | None = None,
    unread: Callable[[bytes], Unread | None] | None = None,
) -> list[tuple[str, str]]:
    """(helper name, file) for each helper some of the project's files define. The engine runs
    this on its workers in chunks of ``indexed_files`` and joins them with ``module_index``;
    a warm run's one-process pass gives the memo (``_helpers_in``). ``verdicts``, when given,
    gets the prefilter's verdict (``may_load``) on each file read, for the per-file pass, with
    what ``unread`` says that pass would still look at in a file the prefilter turned away."""
    found: list[tuple[str, str]] = []
    for path in files:
        for name in _helpers_in(path, may_load, memo, verdicts, unread):
            if name in LOADER_CALLS:
                # a project's own `pipeline(...)`: its calls already pass the prefilter as loader
                # calls, and every file importing the library's `pipeline` would be parsed for it
                continue
            found.append((name, str(path)))
    return found


def module_index(
    root: Path, files: list[Path], helpers: Iterable[tuple[str, str]], verdicts: Iterable[Verdict] = ()
) -> ModuleIndex:
    """The index of the listed files and the helpers (and verdicts) ``helpers_in`` found in them,
    with the functions of the project's packages that wrap one (``_package_wrappers``)."""
    index = ModuleIndex(root, files=files)
    for path, stamp, verdict, unread in verdicts:
        index.verdicts[path] = (stamp, verdict)
        if unread is not None:
            index.unread[path] = unread
    defined: dict[str, list[str]] = {}
    for name, path in helpers:
        defined.setdefault(name, []).append(path)
    for name, path in _package_wrappers(files, set(defined)):
        if path not in defined.setdefault(name, []):
            defined[name].append(path)
    index.helpers = {name: tuple(sorted(paths)) for name, paths in sorted(defined.items())}
    return index


_CALLED = re.compile(rb"(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")


def _package_wrappers(files: list[Path], helpers: set[str]) -> list[tuple[str, str]]:
    """Top-level functions and classes of the project's package ``__init__.py`` files that call a
    loader helper (a research package's API: `def model_init(path): … load_pretrained_model(path)`
    in `videollama2/__init__.py`): helpers one call further. Only the packages' own files are
    read again here (few and small), so the per-file pass stays one read of each file."""
    if not helpers:
        return []
    found: list[tuple[str, str]] = []
    for path in files:
        if path.name != "__init__.py":
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"def " not in data and b"class " not in data:
            continue
        starts = _top_def_lines(data)
        for number, start in enumerate(starts):
            match = _TOP_DEF.match(data, start)
            if match is None:
                continue
            name = (match.group(1) or match.group(2)).decode()
            if name in helpers or name in LOADER_CALLS or _named_for_no_model(name):
                continue  # a loading call's own name already passes the prefilter (helpers_in)
            end = starts[number + 1] if number + 1 < len(starts) else len(data)
            called = {m.group(1).decode() for m in _CALLED.finditer(data, match.end(), end)}
            if called & helpers:
                found.append((name, str(path)))
    return found


def _helpers_in(
    path: Path,
    may_load: Any,
    memo: Any,
    verdicts: list[Verdict] | None = None,
    unread: Callable[[bytes], Unread | None] | None = None,
) -> list[str]:
    """The helper names a file defines, from its bytes or, when unchanged, from the memo. The
    loaders' names are found once, for the helpers' bodies and for the prefilter's verdict."""
    try:
        if memo is not None:
            status = os.stat(path)
            known: list[str] | None = memo.helpers_in(str(path), (status.st_mtime_ns, status.st_size))
            if known is not None:
                return known
        stamp, data = _stamped_bytes(path)
    except OSError:
        return []
    spans = loader_spans(data)
    names = sorted(_helper_names(data, may_load, spans))
    if verdicts is not None:
        verdict = bool(may_load(data, spans))
        verdicts.append((str(path), stamp, verdict, None if verdict or unread is None else unread(data)))
    if memo is not None:
        memo.keep_helpers(str(path), stamp, names)
    return names


def _stamped_bytes(path: Path) -> tuple[tuple[int, int], bytes]:
    """A file's (mtime, size), taken before the read (a change during it shows next time), and
    its bytes: one open, one fstat."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        status = os.fstat(fd)
        chunks = []
        while chunk := os.read(fd, max(status.st_size + 1, 1 << 16)):
            chunks.append(chunk)
        return (status.st_mtime_ns, status.st_size), b"".join(chunks)
    finally:
        os.close(fd)


def _module_name(path: Path, root: Path) -> str | None:
    text, base = os.fspath(path), os.fspath(root).rstrip(os.sep) + os.sep
    if not text.startswith(base) or not text.endswith(".py"):
        return None
    parts = text[len(base) : -3].split(os.sep)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def _helper_names(data: bytes, may_load: Any = None, spans: Spans | None = None) -> set[str]:
    """Top-level functions with parameters, and classes, whose body holds a call that may load
    a model (``may_load``: the prefilter's test, which leaves out tokenizers, configs, processors).
    A class is a helper through its constructor (`Engine("org/model-7b")` loads in `__init__`).

    Found with substring searches, not a multi-line regex over the whole file (which tries its
    ``^`` at every byte: 0.16 s of transformers' project pass): every top-level ``def`` starts a
    line with ``def`` or ``async``, and a body that holds none of the loader tokens before the
    next such line is not looked at further (that line ends the body, or something before it).
    The tokens are looked for between one such line (or a ``class`` line) and the next only,
    never over the whole file first: a file with none of those lines is scanned once, for them.
    Where the file's ``spans`` are known, a file without a loader's name is not scanned at all,
    a body holds one where one of them lies in it, and the lines after the last are not looked
    for (but the first, which ends the body before it)."""
    names: set[str] = set()
    builds = any(token in data for token in BUILDER_TOKENS)
    if spans is not None and not spans and not builds:
        return names
    classes: set[str] = set()
    starts = _top_def_lines(data, None if spans is None or builds else spans[-1][0])
    for number, start in enumerate(starts):
        bound = starts[number + 1] if number + 1 < len(starts) else len(data)
        if (
            spans is not None
            and not _names_a_loader(data, start, bound, spans)
            and not (builds and _builds(data, start, bound))
        ):
            continue  # no loader's name from this line to the next: no need to read the line
        match = _TOP_DEF.match(data, start)
        if match is None:
            continue
        after = match.end()
        if not _names_a_loader(data, after, bound, spans) and not (builds and _builds(data, after, bound)):
            continue
        end = _body_end(data, after)
        start = match.start()
        if match.group(2) is not None:  # a class: a helper only where its constructor loads
            start, end = _loading_init_span(data, after, end, may_load, spans)
        name = (match.group(1) or match.group(2)).decode()
        if _named_for_no_model(name):
            continue  # get_processor, load_tokenizer: what it returns is named, and is no model
        loads = _names_a_loader(data, start, end, spans) and (may_load is None or may_load(data[start:end]))
        if loads or (builds and _builds(data, start, end)):
            names.add(name)
            if match.group(2) is not None:
                classes.add(name)
    names |= _model_runner_names(data, names, loader_spans(data) if spans is None else spans)
    return names | _factories(data, classes) if classes else names


# A generating method as a call writes it (`.generate(`, `.chat(`), or as a streaming thread's
# target (`Thread(target=model.generate, kwargs=…)`): the name, then one of `(,)`.
_GENERATING_TOKENS = tuple(b"." + name.encode() for name in sorted(_GENERATING_METHODS))
_AFTER_GENERATING = frozenset(b"(,)")


def _writes_generating_call(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether `data[start:end]` writes a generating method so (substring searches in C)."""
    stop = len(data) if end is None else end
    for token in _GENERATING_TOKENS:
        at = data.find(token, start, stop)
        while at >= 0:
            after = at + len(token)
            if after < len(data) and data[after] in _AFTER_GENERATING:
                return True
            at = data.find(token, after, stop)
    return False


def _module_holds_a_model(data: bytes, spans: Spans) -> bool:
    """Whether a module may hold a model of its own for its functions to run: a loading call
    outside every top-level function and class (`model = …from_pretrained(…)` at import, or
    under `if __name__ == "__main__":`), or in a function with a `global` statement (one that
    fills a module-level name). A module whose loads all sit inside its functions has none."""
    bodies = [(start, _body_end(data, start)) for start in _top_def_lines(data)]
    for at, _ in spans:
        if not _is_call_site(data, at):
            continue  # `LLM` in a docstring, `from_pretrained` in a comment
        around = next(((start, end) for start, end in bodies if start <= at < end), None)
        if around is None or data.find(b"global ", around[0], around[1]) >= 0:
            return True  # at module level, or in a function that fills a module-level name
    return False


def _model_runner_names(data: bytes, helpers: set[str], spans: Spans) -> set[str]:
    """Top-level functions with parameters, in a module that loads a model, whose body calls a
    generating method (`def predict(prompt, video): … model.generate(…)` beside a module-level
    `model = …from_pretrained(…)`): a demo that imports `predict` runs that model through it.
    A superset from bytes; the extraction decides (``_model_runners``)."""
    if not spans or not _writes_generating_call(data) or not _module_holds_a_model(data, spans):
        return set()
    found: set[str] = set()
    for start in _top_def_lines(data):
        match = _TOP_DEF.match(data, start)
        if match is None or match.group(1) is None or match.group(1).decode() in helpers:
            continue
        end = _body_end(data, match.end())
        if _writes_generating_call(data, match.end(), end):
            found.add(match.group(1).decode())
    return found


# Builders that research code calls to make its model, spelled the same across a family of
# projects: LLaVA's `load_pretrained_model` (llava/model/builder.py), kept by its many forks
# (MoE-LLaVA, Chat-UniVi, VILA, Bunny, MGM). A class whose constructor calls one (a demo's
# `Chat` with `self.tokenizer, self.model, … = load_pretrained_model(path)`), or a function that
# does, is a helper one call further even in a file without a loader's name; following it
# checks that the builder really loads (``_loading_functions``).
BUILDER_TOKENS = (b"load_pretrained_model(",)


def _builds(data: bytes, start: int, end: int) -> bool:
    return any(data.find(token, start, end) >= 0 for token in BUILDER_TOKENS)


def _factories(data: bytes, classes: set[str]) -> set[str]:
    """Top-level functions with parameters that return an instance of one of the file's loading
    classes (`def load_model(args): return WebGLM(args.model, …)`, or `qa = WebGLM(…)` …
    `return qa`): helpers through it, as the extraction reads them (``_built_by``). Only files
    with such a class are looked at again, for every top-level line."""
    alternatives = b"|".join(re.escape(name.encode()) for name in sorted(classes))
    direct = re.compile(rb"return[ \t]+(?:" + alternatives + rb")[ \t]*\(")
    assigned = re.compile(rb"([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?:" + alternatives + rb")[ \t]*\(")
    found: set[str] = set()
    starts = _top_def_lines(data)
    for number, start in enumerate(starts):
        match = _TOP_DEF.match(data, start)
        if match is None or match.group(1) is None:
            continue
        end = starts[number + 1] if number + 1 < len(starts) else len(data)
        name = match.group(1).decode()
        if _named_for_no_model(name):
            continue
        body = data[match.end() : end]
        returned = {m.group(1) for m in assigned.finditer(body)}
        if direct.search(body) or any(
            re.search(rb"return[ \t]+" + re.escape(var) + rb"[ \t]*(?:#[^\n]*)?(?:\r?\n|$)", body) for var in returned
        ):
            found.add(name)
    return found


_SELF_CALL = re.compile(rb"self\.([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")


def _loading_init_span(data: bytes, start: int, end: int, may_load: Any, spans: Spans | None) -> tuple[int, int]:
    """The span of a class's constructor (``_init_span``) when it loads, or else of the method
    it calls on itself that does (`self.pipe = self.load()` … `def load(self): … from_pretrained`);
    an empty span when neither does."""
    init = _init_span(data, start, end)
    if init[0] == init[1] or _names_a_loader(data, init[0], init[1], spans):
        return init
    for name in dict.fromkeys(m.group(1) for m in _SELF_CALL.finditer(data, init[0], init[1])):
        at = data.find(b"def " + name + b"(", start, end)
        if at < 0 or at == init[0] + 4:
            continue
        following = _METHOD_LINE.search(data, at, end)
        body_end = following.start() + 1 if following else end
        if _names_a_loader(data, at, body_end, spans) and (may_load is None or may_load(data[at:body_end])):
            return at, body_end
    return init


def _init_span(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The span of a class body's ``def __init__`` (up to the class's next method), or an empty
    span: a class whose methods load (a test mixin's, an Auto class's from_pretrained) makes no
    model when it is called."""
    at = data.find(b"def __init__(", start, end)
    if at < 0:
        return start, start
    following = _METHOD_LINE.search(data, at, end)
    return at, following.start() + 1 if following else end


# A line that starts with `def`, `async` or `class`, found from the line break before it: one
# scan, where a search for each word cost as much each (a needle that starts with a line break
# skips little).
_DEF_LINE = re.compile(rb"\n(?:def|async|class)")


def _top_def_lines(data: bytes, until: int | None = None) -> list[int]:
    """Where the lines that start with ``def``, ``async`` or ``class`` start, in order; with
    ``until``, only up to the first that starts after it."""
    found = [0] if data.startswith((b"def", b"async", b"class")) else []
    for match in _DEF_LINE.finditer(data):
        found.append(match.start() + 1)
        if until is not None and match.start() + 1 > until:
            break
    return found


def _body_end(data: bytes, at: int) -> int:
    """Where the top-level definition whose line holds ``at`` ends: the start of the next line
    that starts at the left margin (not a comment, nor a closing bracket), or the file's end."""
    line_end = data.find(b"\n", at)
    following = None if line_end < 0 else _TOP_LINE.search(data, line_end)
    return following.start() + 1 if following else len(data)


def display_of(path: Path, context: ExtractContext) -> str:
    """A file's display path, as the engine shows it (relative to the working directory)."""
    resolved = os.path.realpath(path)
    base = os.fspath(context.cwd or Path.cwd())
    prefix = base if base.endswith(os.sep) else base + os.sep
    shown = resolved[len(prefix) :] if resolved.startswith(prefix) else resolved
    return shown.replace(os.sep, "/")


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # what a helper's name can define


@dataclass(frozen=True)
class _Helper:
    file: Path
    text: str
    name: str


def _find_helper(
    module: str, level: int, from_dir: Path, name: str, context: ExtractContext, steps: int = 0
) -> _Helper | None:
    """The module that defines a function, through `__init__` re-exports (inside the project)."""
    found = _find_module(module, level, from_dir, context)
    if found is None or steps > MAX_REEXPORTS:
        return None
    file, text = found
    tree = _tree(file, text, context)
    if tree is None:
        return None
    for statement in tree.body:
        if isinstance(statement, _DEFINITIONS) and statement.name == name:
            return _Helper(file, text, name)
    for statement in reversed(tree.body):
        if isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                if (alias.asname or alias.name) == name:
                    return _find_helper(
                        statement.module or "", statement.level, file.parent, alias.name, context, steps + 1
                    )
    for statement in tree.body:  # `from .entry import *`: the name may come from there
        if isinstance(statement, ast.ImportFrom) and statement.level and any(a.name == "*" for a in statement.names):
            through = _find_helper(statement.module or "", statement.level, file.parent, name, context, steps + 1)
            if through is not None:
                return through
    return None


@dataclass(frozen=True)
class _Generator:
    """A function of another module that runs the model it is given: `def model_gen(model,
    text, images): … return model.generate(…)`. ``prompts``: the parameters that reach the
    generation call's prompt arguments."""

    model: tuple[str, int | None]  # the model's parameter: (name, position)
    prompts: tuple[tuple[str, int | None], ...]
    method: str  # generate, chat, …
    # The loop inside the function around the call, when it goes through the prompts it is
    # given: once per item (`for p in prompts:`), or in slices whose size is a parameter
    # (`for i in range(0, len(prompts), batch_size)`, open-instruct's generate_completions):
    # (name, position, default) of that parameter, the default a literal or _NO.
    per_item: bool = False
    step: tuple[str, int | None, Any] | None = None


def _parameter_positions(defined: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, int | None]:
    """A function's named parameters → their position in a call (None: keyword-only)."""
    arguments = defined.args
    positional = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
    params: dict[str, int | None] = {name: index for index, name in enumerate(positional)}
    params.update((a.arg, None) for a in arguments.kwonlyargs)
    return params


def _generating_calls(defined: ast.AST) -> Iterator[tuple[ast.Call, ast.Attribute]]:
    """The calls in a function that run a model's generating method, each with that method."""
    for node in ast.walk(defined):
        if isinstance(node, ast.Call):
            method = _generating_method(node)
            if method is not None:
                yield node, method


def _generator_of(defined: ast.FunctionDef | ast.AsyncFunctionDef) -> _Generator | None:
    """How a function runs a model one of its parameters holds, if it does (its own body only)."""
    params = _parameter_positions(defined)
    for node, method in _generating_calls(defined):
        root: ast.expr = method.value
        while isinstance(root, ast.Attribute):
            root = root.value  # model.generate, model.language_model.generate
        if not isinstance(root, ast.Name) or root.id not in params or root.id in ("self", "cls"):
            continue
        if method is not node.func:  # Thread(target=model.generate, kwargs=…): streams per call
            return _Generator((root.id, params[root.id]), (), method.attr)
        used = _names_in(_chat_inputs(node) if method.attr in _CHAT_METHODS else _inputs(node))
        flows = _flows(defined.body, {})
        prompts = []
        for name, position in params.items():
            if name == root.id:
                continue
            if used & _closure({name}, flows):
                prompts.append((name, position))
        per_item, step = _loop_around(defined, node, {name for name, _ in prompts}, params)
        return _Generator((root.id, params[root.id]), tuple(prompts), method.attr, per_item, step)
    return _decoder_of(defined, params)


def _decoder_of(defined: ast.FunctionDef | ast.AsyncFunctionDef, params: dict[str, int | None]) -> _Generator | None:
    """How a function runs the model a parameter holds through a decoding loop written by hand
    (`outputs = model(input_ids, past_key_values=past)` … `input_ids = torch.cat(…)`), if it
    does: the whole loop is one generation for each call of the function."""
    for node in ast.walk(defined):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        root = func.value if isinstance(func, ast.Attribute) and func.attr == _FORWARD else func
        if not isinstance(root, ast.Name) or root.id not in params or root.id in ("self", "cls"):
            continue
        if not _fed_back_in_loop(defined, node, lambda body: _flows(body, {})):
            continue
        used = _names_in(_inputs(node))
        flows = _flows(defined.body, {})
        prompts = tuple(
            (name, position) for name, position in params.items() if name != root.id and used & _closure({name}, flows)
        )
        return _Generator((root.id, params[root.id]), prompts, _FORWARD)
    return None


@dataclass(frozen=True)
class _Runner:
    """A top-level function that runs the model its own module loads (`def predict(prompt,
    video): … model.generate(…)` beside a module-level `model = …from_pretrained(…)`).
    ``prompts``: its parameters that reach the generation's prompt arguments (all of them when
    the generation is in a function it calls)."""

    setup: Setup
    method: str  # generate, chat, …
    prompts: tuple[tuple[str, int | None], ...]


def _runners(other: _CrossModule) -> dict[str, _Runner]:
    """The model runners of a module analysed on its own: its top-level functions that make
    a generation call on a model the module loads outside them, directly or through the
    functions of the module they call (up to ``MAX_CALL_DEPTH`` calls away). A model the module
    already runs once per prompt or per request, or loads again per call, is left to it."""
    found: dict[str, _Runner] = {}
    for site in other.index.calls:
        for target, inputs, _ in other._generate_uses(site):
            handle = other._generate_handle(target, site)
            if handle is None or handle.kind == "engine" or handle.setup not in other.setups:
                continue
            setup = handle.setup
            if setup.has(SINGLE_REQUEST) or setup.has(RELOAD_PER_REQUEST):
                continue
            loaded = other.origin_site.get(id(setup))
            if loaded is None or site.function is None or _handed_over(target, site.function):
                continue
            method = target.attr if isinstance(target, ast.Attribute) else "generate"
            frontier = {site.function}
            for depth in range(MAX_CALL_DEPTH + 1):
                for fn in frontier:
                    top = list(fn.chain())[-1]
                    if top.method_of is not None or (loaded.function is not None and top in loaded.function.chain()):
                        continue  # a method, or a function that loads the model it runs
                    if top.name not in found:
                        prompts = (
                            list(top.call_positions().items())
                            if depth or top is not fn
                            else _prompt_parameters(top, inputs)
                        )
                        found[top.name] = _Runner(setup, method, tuple(prompts))
                frontier = {c.function for fn in frontier for c in other._callers_of(fn) if c.function is not None}
    return found


def _handed_over(target: ast.expr, fn: _Function) -> bool:
    """Whether a generation runs a model the function is given (`def generate_completions(model,
    …): … model.generate(…)`): the caller's model, read where it calls (``_Generator``)."""
    root = target.value if isinstance(target, ast.Attribute) else target
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and any(p.name == root.id for p in fn.params())


def _prompt_parameters(fn: _Function, inputs: list[ast.expr]) -> list[tuple[str, int | None]]:
    """The parameters of a function that reach a generation call's prompt arguments in it."""
    used = _names_in(inputs)
    flows = _flows(fn.node.body, {})
    return [(name, position) for name, position in fn.call_positions().items() if used & _closure({name}, flows)]


def _generator_through(
    defined: ast.FunctionDef | ast.AsyncFunctionDef, functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
) -> _Generator | None:
    """A function that hands the model it is given to another function of its module that runs
    it (`def generate_chatglm3(model, tokenizer, params): for r in generate_stream_chatglm3(model,
    tokenizer, params): …`): a generator through it, one call deep. Its loop inside is not read:
    the call runs the model, once per call or more."""
    params = _parameter_positions(defined)
    for node in ast.walk(defined):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        callee = functions.get(node.func.id)
        inner = None if callee is None or callee is defined else _generator_of(callee)
        if inner is None:
            continue
        name, position = inner.model
        passed = next((k.value for k in node.keywords if k.arg == name), None)
        if passed is None and position is not None and position < len(node.args):
            passed = node.args[position]
        if not isinstance(passed, ast.Name) or passed.id not in params:
            continue
        prompts = tuple((p, at) for p, at in params.items() if p != passed.id)
        return _Generator((passed.id, params[passed.id]), prompts, inner.method)
    return None


def _loop_around(
    defined: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, prompts: set[str], params: dict[str, int | None]
) -> tuple[bool, tuple[str, int | None, Any] | None]:
    """How the innermost loop of a function around a generation call goes through the prompts
    it is given: (per item, the parameter its slices' size is)."""
    loops = [
        n
        for n in ast.walk(defined)
        if isinstance(n, (ast.For, ast.AsyncFor)) and n is not call and any(m is call for m in ast.walk(n))
    ]
    if not loops:
        return False, None
    loop = max(loops, key=lambda n: (n.lineno, n.col_offset))  # ast.walk is breadth first: the innermost
    iterated = _iterated(loop.iter)
    if isinstance(iterated, ast.Name) and iterated.id in prompts:
        names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)} | {iterated.id}
        return not any(_BATCHY.search(name) for name in names), None
    ranged = isinstance(iterated, ast.Call) and _final_name(iterated.func) == "range" and not iterated.keywords
    args = iterated.args if ranged and isinstance(iterated, ast.Call) else []
    step = args[2] if len(args) == 3 else None
    if not isinstance(step, ast.Name) or step.id not in params:
        return False, None
    return False, (step.id, params[step.id], _parameter_default(defined, step.id))


def _parameter_default(defined: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> Any:
    """A parameter's default when it is a literal, else _NO."""
    arguments = defined.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: dict[str, ast.expr | None] = dict(
        zip([a.arg for a in positional][len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True)
    )
    defaults.update((a.arg, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
    default = defaults.get(name)
    return _NO if default is None else _literal(default)


def _generating_method(call: ast.Call) -> ast.Attribute | None:
    """`model.generate` where a call runs it (`model.generate(…)`) or hands it to a thread
    (`Thread(target=model.generate, kwargs=…)`, a streaming helper's shape)."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _GENERATING_METHODS:
        return func
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if type(value) is ast.Attribute and value.attr in _GENERATING_METHODS:
            return value
    return None


def _tree(file: Path, text: str, context: ExtractContext) -> ast.Module | None:
    """A module's syntax tree, parsed once per run."""

    def parse() -> ast.Module | None:
        try:
            return _parse(text)
        except ExtractError:
            return None

    return context.cached(("ecolint.extract.python:tree", str(file)), parse)  # type: ignore[return-value]


def _index(file: Path, text: str, context: ExtractContext) -> _Indexer | None:
    """Another module's index, built once per run and shared by every extraction of it that
    follows a call (each call site binds its own arguments; the index never changes). Kept for
    the run, so not released: the few modules followed are left to the cyclic collector."""

    def build() -> _Indexer | None:
        tree = _tree(file, text, context)
        if tree is None:
            return None
        indexer = _Indexer()
        try:
            indexer.visit_module(tree)
        except RecursionError:
            return None
        return indexer

    return context.cached(("ecolint.extract.python:index", str(file)), build)  # type: ignore[return-value]


def calls_a_helper(indexer: _Indexer, context: ExtractContext) -> bool:
    """Whether a file calls a function it imports under a helper's name (the extraction then
    looks whether that function loads a model)."""
    modules: ModuleIndex | None = getattr(context, "modules", None)
    if modules is None or not modules.helpers:
        return False
    names = {local for local, target in indexer.qualified.items() if target.rsplit(".", 1)[-1] in modules.helpers}
    return any(
        site.name in names
        or (site.name in modules.helpers and _module_alias(site.node.func) in indexer.qualified)
        or (indexer.star_imports and site.name in modules.helpers and isinstance(site.node.func, ast.Name))
        for site in indexer.calls
    )


def _module_alias(func: ast.expr) -> str | None:
    """The name at the root of `L.load_model` / `pkg.loaders.load_model` (None for `f(…)`)."""
    if not isinstance(func, ast.Attribute):
        return None
    root = func.value
    while isinstance(root, ast.Attribute):
        root = root.value
    return root.id if isinstance(root, ast.Name) else None


class _Made(Generic[_T]):
    """A container an extraction makes on first use (``type(self)(…)`` makes the extractions of
    other modules, with no constructor of their own to make it): ``_Made(dict)``."""

    def __init__(self, factory: Callable[[], _T]) -> None:
        self.factory = factory

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = name + "_made"

    def __get__(self, instance: object, owner: type | None = None) -> _T:
        made = instance.__dict__.get(self.slot)
        if made is None:
            made = instance.__dict__[self.slot] = self.factory()
        return made


class _CrossModule(_Invoked):
    """Setups made through loader helpers of other modules, one per call site."""

    helper_depth = 0  # how many modules of helper calls led to this extraction

    # Call-site setups that say nothing the helper's own does not (see _through_helper).
    _provisional: _Made[list[Setup]] = _Made(list)

    def _drop_unused_provisional(self) -> None:
        """A call site's copy of a helper's setup stays only where this module runs the model
        once per prompt or per request, or loads it again per request: then it is the setup
        that says so, and it supersedes the helper's own (whose model was the same unknown)."""
        for setup in self._provisional:
            if setup.has(SINGLE_REQUEST) or setup.has(RELOAD_PER_REQUEST):
                continue
            site = self.origin_site.pop(id(setup), None)
            self.setups.remove(setup)
            if site is not None and self.by_call.get(site.node) is not None:
                del self.by_call[site.node]

    def _generate_uses(self, site: _Site) -> list[tuple[ast.expr, list[ast.expr], bool]]:
        """Also a call of a function of another module of the project that runs the model it
        is given (`answer = model_gen(model, question, image)` in a loop over a benchmark): the
        generation is this call's, with the arguments that reach the prompts there."""
        # asked for each call by the per-request pass and again by the reload pass: the
        # handles it resolves do not change between them
        known = self._uses_found.get(id(site))
        if known is None:
            known = self._uses_found[id(site)] = self._find_generate_uses(site)
        return known

    def _find_generate_uses(self, site: _Site) -> list[tuple[ast.expr, list[ast.expr], bool]]:
        # An instance of another module's class runs its model through its own methods, even
        # one named like the model's (a wrapper's `generate(prompt)`, `chat(query)`).
        if self._instance_generators or self._wrapped_calls or self._model_class_generators():
            found = self._instance_generator(site)
            if found is None and (site.name in _GRADIO_HANDLERS or site.name in _ROUTE_REGISTRARS):
                found = self._registered_generator(site)
            if found is not None:
                return [found]
        ran = self._runner_calls.get(site.node) if self._runner_calls else None
        if ran is not None:
            return [(ran[0], ran[1], False)]
        uses = super()._generate_uses(site)
        if uses:
            return uses
        found = self._imported_generator(site) if site.node.args or site.node.keywords else None
        return uses if found is None else [found]

    # id of a call site (the index keeps it alive) → its generation uses (_generate_uses).
    _uses_found: _Made[dict[int, list[tuple[ast.expr, list[ast.expr], bool]]]] = _Made(dict)

    def _generate_handle(self, target: ast.expr, site: _Site) -> _Handle | None:
        """An instance of a class of another module generates only through the methods that
        run its model (`eng.predict(q)`, read by _instance_generator), never as a model itself:
        its own `generate` method may batch."""
        if id(target) in self._instance_targets:
            return self._handle(target.value, site.scope, base=False)  # type: ignore[attr-defined]
        ran = self._runner_calls.get(site.node) if self._runner_calls else None
        if ran is not None and ran[0] is target:
            return ran[2]
        handle = super()._generate_handle(target, site)
        if handle is None or handle.kind != "instance" or not isinstance(target, ast.Attribute):
            return handle
        return None if self._handle(target.value, site.scope, base=False) is handle else handle

    # The generation calls _instance_generator made (by id, kept alive here).
    _instance_targets: _Made[dict[int, ast.expr]] = _Made(dict)

    # Constructor call of a class of another module → its methods that run the model the instance
    # holds (`eng = Engine("id")` … `eng.predict(q)` → `self.model.generate(…)`).
    _instance_generators: _Made[dict[ast.Call, dict[str, _Generator]]] = _Made(dict)

    def _instance_generator(self, site: _Site) -> tuple[ast.expr, list[ast.expr], bool] | None:
        func = site.node.func
        generator = self._running_method(func, site.scope)
        if generator is None or not isinstance(func, ast.Attribute):
            return None
        prompts = [self._argument_for(site.node, name, position) for name, position in generator.prompts]
        # the generation is the method's: named as it is, linked through the instance
        target = ast.Attribute(value=func.value, attr=generator.method, ctx=ast.Load())
        ast.copy_location(target, site.node)
        self._instance_targets[id(target)] = target
        return target, [p for p in prompts if isinstance(p, ast.expr)], False

    def _running_method(self, method: ast.expr, scope: _Scope) -> _Generator | None:
        """How `eng.predict` runs the model, where `eng` is an instance of another module's class
        that holds a model (its own, or the one it was built with) and `predict` runs it."""
        if not isinstance(method, ast.Attribute) or not isinstance(method.value, (ast.Name, ast.Attribute)):
            return None
        handle = self._handle(method.value, scope, base=False)
        methods = None if handle is None else self._wrapper_generators.get(id(handle))
        if methods is None:
            origin = None if handle is None else self.origin_site.get(id(handle.setup))
            methods = None if origin is None else self._instance_generators.get(origin.node)
        if methods is None and handle is not None and handle.kind == "model":
            methods = self._model_class_generators().get(id(handle.setup))
        return None if methods is None else methods.get(method.attr)

    def _model_class_generators(self) -> dict[int, dict[str, _Generator]]:
        """A model loaded with a class of the project (`model = SegLlamaForCausalLM.from_pretrained(…)`,
        a subclass of a transformers model) runs its own generate() in the methods of that class
        that call it (`evaluate()`: `self.generate(…)`): id of each such setup → those methods."""
        if self._model_classes is None or self._model_classes[0] != len(self.setups):
            known = self._class_methods_of
            found = {}
            for setup in self.setups:  # a handful per module; looked at again only when one is added
                methods = known.get(id(setup))
                if methods is None:
                    methods = known[id(setup)] = self._loading_class_generators(setup)
                if methods:
                    found[id(setup)] = methods
            self._model_classes = (len(self.setups), found)
        return self._model_classes[1]

    _model_classes: tuple[int, dict[int, dict[str, _Generator]]] | None = None
    _class_methods_of: _Made[dict[int, dict[str, _Generator]]] = _Made(dict)  # id of a setup → its class's

    def _loading_class_generators(self, setup: Setup) -> dict[str, _Generator]:
        """The generating methods of the class of the project a setup's loading call loads with
        (`Cls.from_pretrained(…)`: defined in this module, or imported from another of the
        project), read once per class and run. A module that never writes `self.generate(` (or
        another generating method) is not parsed for it."""
        origin = self.origin_site.get(id(setup))
        if origin is None:
            return {}
        func = origin.node.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return {}
        name = func.value.id
        local = self.index.classes.get(name)
        if local is not None:
            return _own_generators(local.node) if _calls_own_generator(self.source.text) else {}
        ref = next((b.ref for b in self._definitions(name, func.lineno, origin.scope)[0] if b.ref is not None), None)
        if ref is None or ref.name is None:
            return {}
        if not ref.level and not self._may_be_a_project_module(ref.module):
            return {}  # transformers.LlamaForCausalLM: not the project's
        # The module the import names, read as text and parsed only when it writes such a call
        # (a large project's model classes mostly do not): a class a package's __init__
        # re-exports is not followed here.
        found = _find_module(ref.module, ref.level, self._dir(), self.context)
        if found is None or not _calls_own_generator(found[1]):
            return {}
        file, text = found

        def compute() -> dict[str, _Generator]:
            defined = _defined(_tree(file, text, self.context), ref.name)  # type: ignore[arg-type]
            return _own_generators(defined) if isinstance(defined, ast.ClassDef) else {}

        key = ("ecolint.extract.python:own-generators", str(file), ref.name)
        return self.context.cached(key, compute)  # type: ignore[return-value]

    def _may_be_a_project_module(self, module: str) -> bool:
        modules: ModuleIndex | None = getattr(self.context, "modules", None)
        return modules is None or modules.may_hold_module(module.split(".")[0])

    def _registered_generator(self, site: _Site) -> tuple[ast.expr, list[ast.expr], bool] | None:
        """Such a method registered as a handler (`submit.click(...).then(chat.answer, …)`,
        `app.add_url_rule("/ask", view_func=engine.predict)`): it runs the model once per
        request, the registration being where the requests come in."""
        if site.name in _GRADIO_HANDLERS and self._uses_gradio():
            source = _GRADIO_EVENT
        elif site.name in _ROUTE_REGISTRARS:
            source = _WEB_REQUEST
        else:
            return None
        for value, scope in self._passed_handlers(site, self._kwargs(site.node, site.scope)):
            if not isinstance(value, ast.Attribute):
                continue
            generator = self._running_method(value, scope)
            if generator is None:
                continue
            target = ast.Attribute(value=value.value, attr=generator.method, ctx=ast.Load())
            ast.copy_location(target, value)
            self._instance_targets[id(target)] = target
            self._registered[id(site)] = source
            return target, [], True
        return None

    # id of a registration call (``_registered_generator``) → the requests it takes.
    _registered: _Made[dict[int, str]] = _Made(dict)

    def _request_source(self, site: _Site, *, inference_only: bool = False) -> str | None:
        registered = self._registered.get(id(site)) if self._registered else None
        return registered or super()._request_source(site, inference_only=inference_only)

    # Calls of a function of another module that runs the model once per prompt it is given (its
    # loop goes through them one by one, or in slices of a size that resolves to 1 here), with the
    # command-line defaults that made the size 1; None for one that batches them.
    _per_item_inside: _Made[dict[ast.Call, list[str] | None]] = _Made(dict)

    def _note_per_item_inside(self, site: _Site, generator: _Generator) -> None:
        """Whether the function runs the model once per prompt it is given (recorded with the
        defaults that made it so), or in batches of them (``None`` recorded: the call hands over
        a batch, whatever loop makes it)."""
        if generator.per_item:
            self._per_item_inside[site.node] = []
            return
        if generator.step is None:
            return
        name, position, default = generator.step
        passed = self._argument_for(site.node, name, position)
        if passed is None:
            one = default == 1 and not isinstance(default, bool)
            self._per_item_inside[site.node] = [] if one else None
            return
        read = len(self.defaults_read)
        size = self._resolve(passed, site.scope) if isinstance(passed, ast.expr) else None
        one = size is not None and size.value == 1 and not isinstance(size.value, bool)
        self._per_item_inside[site.node] = list(self.defaults_read[read:]) if one else None

    def _single_request(self, site: _Site, inputs: list[ast.expr], handler_only: bool) -> _Signal | None:
        """Also a call of another module's function whose own loop runs the model once per
        prompt it is given (``_per_item_inside``): per item, naming the defaults that made it
        so. One that slices the prompts it is given into batches batches them, whatever loop
        around the call hands them over."""
        if site.node in self._per_item_inside and not handler_only:
            defaults = self._per_item_inside[site.node]
            if defaults is None:
                return None
            self._loader_defaults.extend(defaults)
            return _LOOP
        return super()._single_request(site, inputs, handler_only)

    def _hands_over_a_model(self, site: _Site) -> bool:
        """Whether a call of a function or class of another module of the project passes it a
        model of this module (cheap before any other module is read; asked once per call)."""
        known = self._handing_over.get(id(site))
        if known is None:
            known = self._handing_over[id(site)] = self._find_handing_over(site)
        return known

    _handing_over: _Made[dict[int, bool]] = _Made(dict)  # id of a call site → _hands_over_a_model's answer

    def _find_handing_over(self, site: _Site) -> bool:
        call = site.node
        if not (call.args or call.keywords):
            return False
        func = call.func
        root = _module_alias(func) if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if root is None:
            return False
        qualified = self.index.qualified.get(root)
        if qualified is None:
            # neither an imported function nor one of an imported module, unless a star import
            # brought it (`from app_modules.utils import *` … `sample_decode(ids, model, …)`)
            if not (self.index.star_imports and isinstance(func, ast.Name)):
                return False
        else:
            modules: ModuleIndex | None = getattr(self.context, "modules", None)
            if (
                modules is not None
                and not qualified.startswith(".")
                and not modules.may_hold_module(qualified.split(".")[0])
            ):
                return False  # torch.cat(…), np.stack(…): no module of the project
        held = [a.value for a in _args(call) if not a.star and isinstance(a.value, (ast.Name, ast.Attribute))]
        return any(self._handle(value, site.scope, base=False) is not None for value in held)

    def _imported_generator(self, site: _Site) -> tuple[ast.expr, list[ast.expr], bool] | None:
        if not self._hands_over_a_model(site):
            return None
        call = site.node
        func = call.func
        root = _module_alias(func) if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        where = self._helper_module(site, {root} if isinstance(func, ast.Name) and root is not None else set())
        if where is None:
            return None
        helper = _find_helper(where[0], where[1], self._dir(), where[2], self.context)
        generator = None if helper is None else self._generator(helper)
        if generator is None:
            return None
        model = self._argument_for(call, *generator.model)
        if not isinstance(model, ast.expr) or self._handle(model, site.scope, base=False) is None:
            return None
        prompts = [self._argument_for(call, name, position) for name, position in generator.prompts]
        self._note_per_item_inside(site, generator)
        # what generate() runs on, as the model's own method: named and linked as in this module
        target = ast.Attribute(value=model, attr=generator.method, ctx=ast.Load())
        ast.copy_location(target, call)
        return target, [p for p in prompts if isinstance(p, ast.expr)], False

    # -- a class of another module built with a model it runs --------------------------------

    def _recognise_wrappers(self) -> None:
        """`chat = Chat(model)` with `Chat` a class of another module of the project that keeps
        the model it is given (`self.model = model`) and runs it in its methods
        (`self.model.llama_model.generate(…)` in `answer()`): the instance is that model's, and
        `chat.answer(…)` in a Gradio handler or a loop over questions is its generation, as for
        a class that loads its own model (``_instance_generators``)."""
        for site in self.index.calls:
            if site.node in self.by_call or not self._hands_over_a_model(site):
                continue
            func = site.node.func
            root = _module_alias(func) if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            where = self._helper_module(site, {root} if isinstance(func, ast.Name) and root is not None else set())
            helper = None if where is None else _find_helper(where[0], where[1], self._dir(), where[2], self.context)
            kept = {} if helper is None else self._kept(helper)
            for param, (position, methods) in sorted(kept.items()):
                passed = self._argument_for(site.node, param, position)
                held = self._handle(passed, site.scope, base=False) if isinstance(passed, ast.expr) else None
                if held is not None and held.kind in ("model", "instance", "llm"):
                    handle = _Handle(held.setup, "instance")
                    self._wrapped_calls[site.node] = handle
                    self._wrapper_generators[id(handle)] = methods
                    break

    def _kept(self, helper: _Helper) -> dict[str, tuple[int | None, dict[str, _Generator]]]:
        def compute() -> dict[str, tuple[int | None, dict[str, _Generator]]]:
            defined = _defined(_tree(helper.file, helper.text, self.context), helper.name)
            return _kept_models(defined) if isinstance(defined, ast.ClassDef) else {}

        key = ("ecolint.extract.python:kept-models", str(helper.file), helper.name)
        return self.context.cached(key, compute)  # type: ignore[return-value]

    # Constructor calls of such classes (``_recognise_wrappers``) → the instance's handle.
    _wrapped_calls: _Made[dict[ast.Call, _Handle]] = _Made(dict)

    # id of such an instance's handle → the methods of its class that run the model.
    _wrapper_generators: _Made[dict[int, dict[str, _Generator]]] = _Made(dict)

    def _handle_of_call(self, call: ast.Call, scope: _Scope, depth: int, index: int | None) -> _Handle | None:
        found = super()._handle_of_call(call, scope, depth, index)
        if found is None and index is None and self._wrapped_calls:
            return self._wrapped_calls.get(call)
        return found

    def _generator(self, helper: _Helper) -> _Generator | None:
        """The helper's way of running a model it is given, found once per run."""

        def compute() -> _Generator | None:
            tree = _tree(helper.file, helper.text, self.context)
            functions = {
                s.name: s
                for s in (tree.body if tree is not None else ())
                if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            defined = functions.get(helper.name)
            return None if defined is None else _generator_of(defined) or _generator_through(defined, functions)

        key = ("ecolint.extract.python:generator", str(helper.file), helper.name)
        return self.context.cached(key, compute)  # type: ignore[return-value]

    def _imported_helpers(self) -> set[str]:
        """Local names of functions imported from modules of the project that may load a model."""
        modules: ModuleIndex | None = getattr(self.context, "modules", None)
        if modules is None or not modules.helpers or self.helper_depth >= MAX_HELPER_DEPTH:
            return set()
        return {
            local
            for local, target in self.index.qualified.items()
            if target.rsplit(".", 1)[-1] in modules.helpers and "." in target
        }

    def _quant(self, expr: ast.expr | None, scope: _Scope, depth: int = 0) -> dict[str, Fact] | None:
        """A quantization config imported from another module of the project
        (``from .config import BNB_CONFIG``): read there, with its locations there."""
        found = super()._quant(expr, scope, depth)
        if found is not None or expr is None:
            return found
        foreign = self._foreign_quants.get(id(expr)) if hasattr(self, "_foreign_quants") else None
        if foreign is not None:
            return foreign
        return self._in_imported_module(expr, scope, lambda other, name: other._quant(name, other.index.module))

    def _mapping(self, expr: ast.expr | None, scope: _Scope, depth: int = 0) -> dict[str, _Entry] | None:
        """A dict of keyword arguments imported from another module of the project
        (``from .config import LOAD_KWARGS`` … ``from_pretrained(id, **LOAD_KWARGS)``): each entry
        read there, its value with its location there, unpacked where this module writes it."""
        found = super()._mapping(expr, scope, depth)
        if found is not None or expr is None:
            return found
        return self._in_imported_module(expr, scope, lambda other, name: self._foreign_entries(other, name, expr))

    def _foreign_entries(self, other: _CrossModule, name: ast.Name, unpacked: ast.expr) -> dict[str, _Entry] | None:
        entries = other._mapping(name, other.index.module)
        if entries is None:
            return None
        if not hasattr(self, "_foreign_quants"):
            self._foreign_quants: dict[int, dict[str, Fact]] = {}
            self._foreign_nodes: list[ast.expr] = []  # kept alive: the ids above are theirs
        out: dict[str, _Entry] = {}
        for key, entry in entries.items():
            holder = _Scope("function", None)
            local = ast.Name(id="_imported", ctx=ast.Load(), lineno=1, col_offset=0)
            self._foreign_nodes.append(local)
            quant = other._quant(entry.value, entry.scope) if key == "quantization_config" else None
            if quant is not None:
                self._foreign_quants[id(local)] = quant
            value = other._resolve(entry.value, entry.scope)
            if value is not None and isinstance(value.value, _LITERALS):
                where = value.location or other._loc(value.node if value.node is not None else entry.node)
                binding = _Binding(0, None, holder, how="imported", external=(value.value, where))
                holder.bindings["_imported"] = [binding]
            out[key] = _Entry(local, unpacked, holder)
        return out

    def _in_imported_module(self, expr: ast.expr, scope: _Scope, read: Any) -> Any:
        """``read(other, name)`` in the module a name is imported from (inside the project),
        where ``other`` is that module's extraction and ``name`` its top-level name."""
        if not isinstance(expr, ast.Name) or self.helper_depth >= MAX_HELPER_DEPTH:
            return None
        ref = next((b.ref for b in self._definitions(expr.id, expr.lineno, scope)[0] if b.ref is not None), None)
        if ref is None or ref.name is None:
            return None
        found_module = _find_module(ref.module, ref.level, self._dir(), self.context)
        if found_module is None:
            return None
        file, text = found_module
        indexer = _index(file, text, self.context)
        if indexer is None:
            return None
        try:
            other = type(self)(display_of(file, self.context), _Source(text), indexer, self.context)
            other.helper_depth = self.helper_depth + 1
            return read(other, ast.Name(id=ref.name, ctx=ast.Load(), lineno=10**9, col_offset=0))
        except (RecursionError, ExtractError):
            return None

    def _recognise_helper_calls(self) -> None:
        modules: ModuleIndex | None = getattr(self.context, "modules", None)
        if modules is None or not modules.helpers or self.helper_depth >= MAX_HELPER_DEPTH:
            return
        names = self._imported_helpers()
        followed = 0
        for site in self.index.calls:
            if site.node in self.by_call or (site.name not in names and site.name not in modules.helpers):
                continue
            where = self._helper_module(site, names)
            if where is None:
                continue
            followed += 1
            if followed > MAX_HELPER_CALLS:
                return
            helper = _find_helper(where[0], where[1], self._dir(), where[2], self.context)
            if helper is not None:
                self._through_helper(site, helper)
                if site.node not in self.by_call and self.helper_depth == 0:
                    self._through_runner(site, helper)

    def _helper_module(self, site: _Site, names: set[str]) -> tuple[str, int, str] | None:
        """(module, level, name there) of the function a call calls: `load_model(…)`
        after `from core.loading import load_model`, and through the module itself
        (`import core.loading as L` … `L.load_model(…)`, `from core import loading` …
        `loading.load_model(…)`, `core.loading.load_model(…)`)."""
        func = site.node.func
        if isinstance(func, ast.Name):
            bindings = self._definitions(func.id, func.lineno, site.scope)[0]
            if not bindings:
                return self._star_imported(func.id)
            if site.name not in names:
                return None
            ref = next((b.ref for b in bindings if b.ref is not None), None)
            return None if ref is None or ref.name is None else (ref.module, ref.level, ref.name)
        alias = _module_alias(func)
        if alias is None or not isinstance(func, ast.Attribute):
            return None
        ref = next((b.ref for b in self._definitions(alias, func.lineno, site.scope)[0] if b.ref is not None), None)
        if ref is None:
            return None
        inner = (_dotted_or_none(func.value) or "").split(".")[1:]  # pkg.loaders.load_model: "loaders"
        parts = [ref.module] if ref.name is None else [ref.module, ref.name]
        return ".".join(p for p in [*parts, *inner] if p), ref.level, func.attr

    def _star_imported(self, name: str) -> tuple[str, int, str] | None:
        """A name no statement of this module binds, that a `from module import *` of a module
        of the project defines (`from stablelm import *` … `bot = StableLMBot()`)."""
        tree = self.index.tree
        for statement in tree.body if tree is not None else ():
            if isinstance(statement, ast.ImportFrom) and any(alias.name == "*" for alias in statement.names):
                module, level = statement.module or "", statement.level
                if _find_helper(module, level, self._dir(), name, self.context) is not None:
                    return module, level, name
        return None

    def _through_helper(self, site: _Site, helper: _Helper) -> None:
        tree = _tree(helper.file, helper.text, self.context)
        if tree is None:
            return
        defined = _defined(tree, helper.name)
        # a class loads through its constructor: `Engine("org/model-7b")` runs Engine.__init__
        entry = _constructor(defined) if isinstance(defined, ast.ClassDef) else defined
        if entry is None or (entry.lineno, entry.name) not in self._loading_functions(helper):
            return  # nothing in it loads a model: decided before indexing the module for this call
        indexer = _index(helper.file, helper.text, self.context)
        if indexer is None:
            return
        try:
            fn = next((f for f in indexer.functions if f.node is entry), None)
            if fn is None:
                return
            bound = self._arguments(site, fn)
            if bound is None:
                return
            other = type(self)(display_of(helper.file, self.context), _Source(helper.text), indexer, self.context)
            other.helper_depth = self.helper_depth + 1
            other.bound[(fn.node.lineno, fn.name)] = bound
            setups = other.run()  # type: ignore[attr-defined]
            # the instance holds what its class loads (one model, or none followed), whether the
            # call builds it or a factory returns it (`return WebGLM(args.model)`)
            cls = fn.method_of or other._built_by(fn.name)
            if cls is None:
                returned = _returned(other, fn)
            else:
                returned = _held(other, cls)
                if len(returned) == 1:
                    self._instance_generators[site.node] = _generating_methods(other, cls, returned)
        except (RecursionError, ExtractError):
            return
        here = self._loc(site.node)
        span, reached = other._loc(fn.node), tuple(setup.origin for setup in setups)
        if setups:
            # a call that loads through a helper, kept even where its setups are dropped as
            # unused here (_loading_functions asks which functions load, one module up)
            if not hasattr(self, "_loading_helper_calls"):
                self._loading_helper_calls: list[_Site] = []
            self._loading_helper_calls.append(site)
        for setup in setups:
            if not any(f.location is not None and f.location.path == self.path for f in setup.facts.values()):
                if id(setup) not in returned or setup.has(SINGLE_REQUEST) or setup.has(RELOAD_PER_REQUEST):
                    continue  # the same whoever calls (the helper's own use of it too): its module keeps it
                # ... unless this module runs the model it returns once per prompt or per request
                # (`self.model = load_model(path)` … generate() in a handler): kept only then.
                # Inside a helper being followed for its caller (a package's `model_init`
                # calling the loader below it), it is kept: the caller decides.
                if self.helper_depth == 0:
                    self._provisional.append(setup)
            setup.through = setup.through or setup.origin
            setup.via, setup.reached = (*setup.via, span), (*setup.reached, *reached)
            setup.origin = here
            setup.label = None
            if id(setup) in returned:
                # an instance of a class holds the model: its own methods are not the model's
                self._register(site, setup, "model" if fn.method_of is None else "instance", returned[id(setup)])
            else:
                self.setups.append(setup)
                self.origin_site[id(setup)] = site

    def _through_runner(self, site: _Site, helper: _Helper) -> None:
        """A call of a function of another module that runs the model its own module loads
        (`answer = predict(question, video)` in a Flask route, `predict` beside a module-level
        `model = …from_pretrained(…)`): the call is that model's generation, here. A copy of its
        setup, located at this call, stays only where this module makes the call once per
        prompt or per request (``_drop_unused_provisional``); then it supersedes the module's
        own, as a loader helper's call sites do. A model the module already runs once per prompt
        or per request keeps its own setup, which says so."""
        runner = self._model_runners(helper).get(helper.name)
        if runner is None:
            return
        own = runner.setup
        copy = Setup(own.framework, self._loc(site.node), dict(own.facts), None, own.kind, own.through or own.origin)
        self.setups.append(copy)
        self.origin_site[id(copy)] = site
        self._provisional.append(copy)
        # what generate() runs on, named as the other module names it, linked to the copy
        target = ast.Attribute(value=site.node.func, attr=runner.method, ctx=ast.Load())
        ast.copy_location(target, site.node)
        prompts = [self._argument_for(site.node, name, position) for name, position in runner.prompts]
        self._runner_calls[site.node] = (
            target,
            [p for p in prompts if isinstance(p, ast.expr)],
            _Handle(copy, "model"),
        )

    # Calls of another module's model runner (``_through_runner``) → the generation they make here:
    # (target, prompt arguments, the handle of this call's copy of the setup).
    _runner_calls: _Made[dict[ast.Call, tuple[ast.expr, list[ast.expr], _Handle]]] = _Made(dict)

    def _model_runners(self, helper: _Helper) -> dict[str, _Runner]:
        """The top-level functions of a helper's module that run a model the module loads
        itself (found once per run, from the module's analysis on its own)."""

        def compute() -> dict[str, _Runner]:
            other = self._alone(helper)
            return {} if other is None else _runners(other)

        key = ("ecolint.extract.python:model-runners", str(helper.file))
        return self.context.cached(key, compute)  # type: ignore[return-value]

    def _alone(self, helper: _Helper) -> _CrossModule | None:
        """A helper's module extracted on its own, following its own helpers one module further
        (a package's `model_init` that calls the loader of a module below it): once per run."""

        def compute() -> _CrossModule | None:
            indexer = _index(helper.file, helper.text, self.context)
            if indexer is None:
                return None
            try:
                other = type(self)(display_of(helper.file, self.context), _Source(helper.text), indexer, self.context)
                other.helper_depth = MAX_HELPER_DEPTH - 1
                other.run()  # type: ignore[attr-defined]
            except (RecursionError, ExtractError):
                return None
            return other

        key = ("ecolint.extract.python:alone", str(helper.file))
        return self.context.cached(key, compute)  # type: ignore[return-value]

    def _split_by_call_site(self) -> None:
        """A helper of this module called from several places with their own arguments
        (`load_model("a")`, `load_model("b")`): one setup per call site, located there, instead
        of one setup whose model is unknown because the callers disagree."""
        if self.helper_depth >= MAX_HELPER_DEPTH:
            return
        for setup in list(self.setups):
            site = self.origin_site.get(id(setup))
            fn = None if site is None else site.function
            if site is None or fn is None or fn.method_of is not None or setup.through is not None:
                continue
            callers = [c for c in self._calls_of(fn) if c.function is not fn][:MAX_HELPER_CALLS]
            bound = [self._arguments(caller, fn) for caller in callers]
            if len(callers) < 2 or any(b is None for b in bound) or _all_alike(bound):  # type: ignore[arg-type]
                continue
            made = [self._specialised(site, fn, caller, b) for caller, b in zip(callers, bound, strict=True)]
            if any(m is None for m in made):
                continue  # a call site this cannot follow: the setup stays as it was
            if len({_said(m) for m in made if m is not None}) < 2:
                continue  # the callers differ in what does not reach the loader: one setup says it all
            self._replace(setup, site, fn, [(c, m) for c, m in zip(callers, made, strict=True) if m is not None])

    def _specialised(
        self, site: _Site, fn: _Function, caller: _Site, bound: dict[str, _Binding] | None
    ) -> Setup | None:
        """The setup of the loading call at ``site`` when ``fn`` is called from ``caller``."""
        if bound is None:
            return None
        other = type(self)(self.path, self.source, self.index, self.context)
        other.helper_depth = self.helper_depth + 1
        other.bound[(fn.node.lineno, fn.name)] = bound
        other._collect_argparse()
        other._recognise()
        made = next((s for s in other.setups if other.origin_site[id(s)].node is site.node), None)
        if made is not None:
            made.through, made.origin, made.label = made.origin, self._loc(caller.node), None
        return made

    def _replace(self, setup: Setup, site: _Site, fn: _Function, made: list[tuple[_Site, Setup]]) -> None:
        """The call sites' setups take the place of the helper's own, which stays behind as
        their prototype: what the helper itself does with the model (runs it, compiles it)
        lands on it and is handed to each of them by ``_from_prototypes``."""
        handle = self.by_call.get(site.node)
        self.setups.remove(setup)
        self.origin_site.pop(id(setup), None)
        returned = any((h := self._handle(r, fn.scope)) is not None and h.setup is setup for r in fn.returns)
        if not hasattr(self, "_prototypes"):
            self._prototypes: list[tuple[Setup, list[Setup]]] = []
        self._prototypes.append((setup, [specialised for _, specialised in made]))
        for caller, specialised in made:
            if returned and caller.node not in self.by_call:
                self._register(caller, specialised, handle.kind if handle is not None else "model")
            else:  # the helper keeps the model, or two loading calls of it: no handle at the call
                self.setups.append(specialised)
                self.origin_site[id(specialised)] = caller

    def _from_prototypes(self) -> None:
        """Usage inside a helper counts for every call site's setup: generate() per prompt or per
        request there, a reload there, a compile there; and a model the helper runs is no
        load-only setup, whatever the call site does with what the helper returns."""
        for prototype, made in getattr(self, "_prototypes", ()):
            runs_inside = bool(self._inference_sites().get(id(prototype)))
            for setup in made:
                for group in ((SINGLE_REQUEST, GENERATION_CALL, REQUEST_SOURCE), (RELOAD_PER_REQUEST,)):
                    if prototype.has(group[0]) and not setup.has(group[0]):
                        setup.facts.update((name, prototype.facts[name]) for name in group if prototype.has(name))
                if prototype.get(COMPILED) is True:
                    setup.facts[COMPILED] = prototype.facts[COMPILED]
                if runs_inside and setup.get(PURPOSE) == "load-only":
                    del setup.facts[PURPOSE]

    def _loading_functions(self, helper: _Helper) -> frozenset[tuple[int, str]]:
        """The functions of a helper's module that make a setup, or call one that does (up to
        MAX_HELPER_DEPTH calls away): found once per run by extracting that module on its own."""

        def compute() -> frozenset[tuple[int, str]]:
            other = self._alone(helper)
            if other is None:
                return frozenset()
            try:
                found: set[_Function] = set()
                sites = [*other.origin_site.values(), *getattr(other, "_loading_helper_calls", ())]
                frontier = {s.function for s in sites if s.function is not None}
                for _ in range(MAX_HELPER_DEPTH + 1):
                    frontier = {f for fn in frontier for f in fn.chain()} - found
                    found |= frontier
                    frontier = {c.function for fn in frontier for c in other._callers_of(fn) if c.function is not None}
                return frozenset((fn.node.lineno, fn.name) for fn in found)
            except (RecursionError, ExtractError):
                return frozenset()

        key = ("ecolint.extract.python:loading-functions", str(helper.file))
        return self.context.cached(key, compute)  # type: ignore[return-value]

    def _arguments(self, site: _Site, fn: _Function) -> dict[str, _Binding] | None:
        """What this call site passes to each parameter, as values with their locations here
        (a value that does not resolve to a literal is bound to nothing: unknown)."""
        out: dict[str, _Binding] = {}
        # `Engine("id")` passes "id" to __init__'s second parameter
        for name, index in fn.call_positions().items():
            if index is None and name in ("self", "cls"):
                continue
            arg = self._argument_for(site.node, name, index)
            if arg is _NO:
                # *args / **kwargs may fill it: what it gets is not known (the others are)
                out[name] = _Binding(0, None, fn.scope)
                continue
            if arg is None:
                continue
            value = self._resolve(arg, site.scope)
            if value is None or not isinstance(value.value, _LITERALS):
                out[name] = _Binding(0, None, fn.scope)
                continue
            where = value.location or self._loc(value.node if value.node is not None else arg)
            out[name] = _Binding(0, None, fn.scope, how=value.how, external=(value.value, where))
        passed = self._keywords_for_kwargs(site, fn)
        if passed is not None:
            out[KWARGS_KEY] = passed
        return out

    def _keywords_for_kwargs(self, site: _Site, fn: _Function) -> _Binding | None:
        """The keywords a call passes beyond fn's named parameters, for its `**kwargs`: their
        literal values and where this call writes them (one that does not resolve is left out:
        unknown). None when fn takes no `**kwargs`, or the call unpacks a mapping of its own."""
        if fn.node.args.kwarg is None or any(k.arg is None for k in site.node.keywords):
            return None
        named = {p.name for p in fn.params()}
        values: dict[str, Any] = {}
        locations: dict[str, Location] = {}
        for keyword in site.node.keywords:
            if keyword.arg is None or keyword.arg in named:
                continue
            value = self._resolve(keyword.value, site.scope)
            if value is None or not isinstance(value.value, _LITERALS):
                continue
            values[keyword.arg] = value.value
            locations[keyword.arg] = value.location or self._loc(keyword)
        if not values:
            return None
        # in the keywords' order, whatever the call's: call sites that pass the same are alike
        return _Binding(0, None, fn.scope, how="literal", external=(dict(sorted(values.items())), locations))


def _returned(other: _CrossModule, fn: _Function) -> dict[int, int | None]:
    """id(setup) → where a helper returns its model: the result itself (None), or the element
    of the tuple it returns (`return tokenizer, model, processor, context_len`: 1)."""
    found: dict[int, int | None] = {}
    for returned in fn.returns:
        if isinstance(returned, (ast.Tuple, ast.List)):
            for position in range(len(returned.elts)):
                handle = other._handle(returned, fn.scope, 0, position)
                if handle is not None:
                    found.setdefault(id(handle.setup), position)
            continue
        handle = other._handle(returned, fn.scope)
        if handle is not None:
            found.setdefault(id(handle.setup), None)
    return found


def _constructor(cls: ast.ClassDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next(
        (s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__init__"), None
    )


def _method_in(fn: _Function | None, cls: _Class) -> _Function | None:
    """The method of ``cls`` a function is, or is nested in."""
    for outer in fn.chain() if fn is not None else ():
        if outer.method_of is cls:
            return outer
    return None


def _held(other: _CrossModule, cls: _Class) -> dict[int, int | None]:
    """id(setup) → None for each setup a class's methods load (its instances hold them): those
    its constructor loads, itself or through the methods it calls on itself, where there are
    such (a spare loader method nothing runs on construction is left out), else all."""
    loaded = [setup for setup in other.setups if _method_in(other.origin_site[id(setup)].function, cls) is not None]
    built = _constructed_by(other, cls)
    on_construction = [s for s in loaded if _method_in(other.origin_site[id(s)].function, cls) in built]
    return {id(setup): None for setup in on_construction or loaded}


def _constructed_by(other: _CrossModule, cls: _Class) -> set[_Function]:
    """The class's constructor and the methods it calls on itself (`self.load()`), up to
    MAX_CALL_DEPTH calls down."""
    init = cls.methods.get("__init__")
    if init is None:
        return set()
    found = {init}
    frontier = [init]
    for _ in range(MAX_CALL_DEPTH):
        reached = []
        for site in other.index.calls:
            if _method_in(site.function, cls) not in frontier:
                continue
            for callee in other._callees(site.node.func, site.scope):
                if callee.method_of is cls and callee not in found:
                    found.add(callee)
                    reached.append(callee)
        frontier = reached
    return found


def _generating_methods(other: _CrossModule, cls: _Class, held: dict[int, int | None]) -> dict[str, _Generator]:
    """The methods of a class that run the model its instance holds, directly
    (`self.model.generate(…)`, `Thread(target=self.model.chat)`) or through other methods of
    it (up to MAX_CALL_DEPTH calls), with the parameters that reach the prompts."""
    found: dict[_Function, _Generator] = {}
    for site in other.index.calls:
        method = _method_in(site.function, cls)
        if method is None or method in found:
            continue
        for target, inputs, handler_only in other._generate_uses(site):
            handle = other._generate_handle(target, site)
            if handle is None or id(handle.setup) not in held:
                continue
            used = _names_in(inputs)
            flows = _flows(method.node.body, {})
            prompts = tuple(
                (name, position)
                for name, position in _parameters(method)
                if handler_only or used & _closure({name}, flows)
            )
            found[method] = _Generator(("self", None), prompts, _final_name(target) or "generate")
            break
    frontier = list(found)
    for _ in range(MAX_CALL_DEPTH):
        reached = []
        for method in frontier:
            for caller in other._callers_of(method):
                outer = _method_in(caller.function, cls)
                if outer is not None and outer not in found:
                    found[outer] = _Generator(("self", None), tuple(_parameters(outer)), found[method].method)
                    reached.append(outer)
        frontier = reached
    return {method.name: generator for method, generator in found.items() if not method.name.startswith("__")}


def _kept_models(cls: ast.ClassDef) -> dict[str, tuple[int | None, dict[str, _Generator]]]:
    """A class built with a model that its methods run (`Chat(model)`: `__init__` keeps it as
    `self.model`, `answer()` calls `self.model.llama_model.generate(…)`): constructor parameter
    → (its position at a call of the class, the methods that run it, directly or through other
    methods of the class up to ``MAX_CALL_DEPTH`` calls, with their prompt parameters)."""
    init = _constructor(cls)
    if init is None:
        return {}
    positions = _method_positions(init)
    kept: dict[str, str] = {}  # attribute of self → the constructor parameter it keeps
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in positions:
            for target in node.targets:
                attribute = _self_attribute(target)
                if attribute is not None:
                    kept[attribute] = node.value.id
    if not kept:
        return {}
    methods = _public_methods(cls)
    found: dict[str, _Generator] = {}  # the model's parameter is each generator's ``model``
    for name, method in methods.items():
        running = _runs_kept_model(method, kept)
        if running is not None:
            param = kept[running[0]]
            found[name] = _Generator((param, positions[param]), running[1], running[2])
    found = _through_own_calls(methods, found)
    return {
        param: (positions[param], {name: g for name, g in sorted(found.items()) if g.model[0] == param})
        for param in sorted({g.model[0] for g in found.values()})
    }


def _calls_own_generator(text: str) -> bool:
    """Whether a module's text writes a call of an instance's own generating method."""
    return any(f"self.{name}(" in text for name in _GENERATING_METHODS)


def _own_generators(cls: ast.ClassDef) -> dict[str, _Generator]:
    """The methods of a model class that run the instance's own generating method
    (`self.generate(…)`), directly or through other methods of the class (up to
    ``MAX_CALL_DEPTH`` calls), with the parameters that reach the prompts."""
    methods = _public_methods(cls)
    found: dict[str, _Generator] = {}
    for name, method in methods.items():
        for node, running in _generating_calls(method):
            if isinstance(running.value, ast.Name) and running.value.id == "self" and running is node.func:
                found[name] = _Generator(("self", None), _prompt_positions(method, node, running), running.attr)
                break
    return _through_own_calls(methods, found)


def _public_methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """A class's methods by name, dunders aside."""
    return {
        s.name: s
        for s in cls.body
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and not s.name.startswith("__")
    }


def _through_own_calls(
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef], found: dict[str, _Generator]
) -> dict[str, _Generator]:
    """``found`` (methods that run the model), with the methods that reach one of them through
    calls on their own instance (`self.answer(…)`, up to ``MAX_CALL_DEPTH`` calls): each runs
    the same model, its parameters all taken to reach the prompts."""
    found = dict(found)
    for _ in range(MAX_CALL_DEPTH):
        reached = {}
        for name, method in methods.items():
            callee = None if name in found else _self_call(method, found)
            if callee is not None:
                generator = found[callee]
                reached[name] = _Generator(generator.model, tuple(_method_positions(method).items()), generator.method)
        if not reached:
            break
        found.update(reached)
    return found


def _prompt_positions(
    method: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, running: ast.Attribute
) -> tuple[tuple[str, int | None], ...]:
    """The parameters of a method (self aside) that reach a generating call's prompt arguments."""
    used = _names_in(_chat_inputs(call) if running.attr in _CHAT_METHODS else _inputs(call))
    flows = _flows(method.body, {})
    return tuple(
        (name, position) for name, position in _method_positions(method).items() if used & _closure({name}, flows)
    )


def _method_positions(method: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, int | None]:
    """A method's parameters, self aside → their position at a call through the instance."""
    params = _parameter_positions(method)
    first = next(iter(params), None)
    return {
        name: None if position is None else position - 1
        for name, position in params.items()
        if name != first or first not in ("self", "cls")
    }


def _runs_kept_model(
    method: ast.FunctionDef | ast.AsyncFunctionDef, kept: dict[str, str]
) -> tuple[str, tuple[tuple[str, int | None], ...], str] | None:
    """(attribute, prompt parameters, generating method) where a method runs a model the
    instance keeps (`self.model.generate(…)`, `self.model.language_model.generate(…)`)."""
    for node, running in _generating_calls(method):
        holder: ast.expr = running.value
        while isinstance(holder, ast.Attribute) and _self_attribute(holder) is None:
            holder = holder.value  # self.model.language_model → self.model
        attribute = _self_attribute(holder)
        if attribute is None or attribute not in kept:
            continue
        if running is not node.func:  # Thread(target=self.model.generate, kwargs=…)
            return attribute, (), running.attr
        return attribute, _prompt_positions(method, node, running), running.attr
    return None


def _defined(tree: ast.Module | None, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None:
    """The top-level function or class of a module of that name."""
    return next(
        (s for s in (tree.body if tree is not None else ()) if isinstance(s, _DEFINITIONS) and s.name == name), None
    )


def _self_call(method: ast.FunctionDef | ast.AsyncFunctionDef, names: dict[str, Any]) -> str | None:
    """The first of ``names`` a method calls on its own instance (`self.answer(…)`)."""
    for node in ast.walk(method):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
            and node.func.attr in names
        ):
            return node.func.attr
    return None


def _parameters(method: _Function) -> list[tuple[str, int | None]]:
    """(name, position at a call through the instance) of a method's parameters, self aside."""
    positional = [p.name for p in method.positional()][1:]
    return [
        (p.name, positional.index(p.name) if p.name in positional else None)
        for p in method.params()
        if p.name in positional or p.name not in ("self", "cls")
    ]


def _said(setup: Setup) -> str:
    """What a setup says, without where it says it."""
    return repr(sorted((name, repr(fact.value)) for name, fact in setup.facts.items()))


def _all_alike(bound: list[dict[str, _Binding]]) -> bool:
    """Whether every call site passes the same values (then one setup says it all)."""

    def values(one: dict[str, _Binding]) -> list[tuple[str, Any]]:
        return sorted((name, None if b.external is None else repr(b.external[0])) for name, b in one.items())

    first = values(bound[0])
    return all(values(other) == first for other in bound[1:])


def superseded(setups: Iterable[Setup]) -> set[Location]:
    """The loading calls that call-site setups go through: the helper module's own setups there
    are replaced by them."""
    return {setup.through for setup in setups if setup.through is not None}
