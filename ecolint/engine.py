"""Run the flow for a set of paths: discover → read+classify → prefilter → extract → resolve →
audit → funnel. Reports are built from what this returns; nothing here prints.

Each file is analysed inside a guard: a file that cannot be read, decoded or parsed becomes one
ECO001 entry, and so does an unexpected exception inside ecolint (an internal error, which is a
bug to report) — the other files are still analysed.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import tokenize
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from ecolint import discover
from ecolint.checks import CheckContext, run_checks
from ecolint.config import Config
from ecolint.extract import ExtractContext, ExtractError, load_extractor, triggers
from ecolint.finding import FileError, Finding
from ecolint.funnel import Funnel
from ecolint.knowledge import Knowledge, KnowledgeError
from ecolint.resolve import Resolution, resolve
from ecolint.setups import Setup

STACK_KINDS = ("requirements", "pyproject", "dockerfile", "shell")
BINARY_SNIFF = 8192


@dataclass
class Selection:
    """What the run was asked for, after the command line has overridden the config."""

    codes: list[str]
    gpu: str | None = None
    baseline: frozenset[str] = frozenset()  # fingerprints of accepted findings (--baseline)
    min_confidence: int = 1  # --min-confidence: findings below are neither shown nor counted


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_seen: int = 0
    files_parsed: int = 0
    setups: int = 0
    texts: dict[str, str] = field(default_factory=dict)  # files with findings, for fixes and context


@dataclass
class _FileWork:
    path: Path
    display: str
    kind: str
    explicit: bool


def display_path(path: Path, cwd: Path) -> str:
    """Paths relative to the current directory, '/'-separated; absolute when outside it.

    A file name that is not valid UTF-8 (Linux hands its bytes over as surrogate escapes, which
    no UTF-8 report can encode) is shown with backslash escapes: ``serve-\\xff.sh``.
    """
    resolved = _resolved(path)
    try:
        shown = resolved.relative_to(cwd).as_posix()
    except ValueError:
        shown = resolved.as_posix()
    if not shown.isascii():
        try:
            shown.encode("utf-8")
        except UnicodeEncodeError:
            shown = shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return shown


def _resolved(path: Path) -> Path:
    """``path.resolve()``, with the parent directory resolved once per directory: resolving
    every file walks every component of its path with a system call each, which on a large
    tree costs more than reading the files. A file that is itself a symlink is resolved whole."""
    try:
        if path.name and path.name not in (".", "..") and not path.is_symlink():
            return _resolved_dir(os.path.abspath(path.parent)) / path.name
    except OSError:
        pass
    return path.resolve()


@functools.lru_cache(maxsize=4096)
def _resolved_dir(directory: str) -> Path:
    return Path(directory).resolve()


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


class Engine:
    def __init__(self, kb: Knowledge, config: Config, selection: Selection, cwd: Path | None = None) -> None:
        self.kb = kb
        self.config = config
        self.selection = selection
        self.cwd = (cwd or Path.cwd()).resolve()
        self.config_dir = config.source.parent.resolve() if config.source else self.cwd
        self._stack: dict[str, str] = {}

    # -- discover -------------------------------------------------------------------------

    def _work(self, paths: list[Path], result: RunResult) -> list[_FileWork]:
        excludes = self.config.exclude + self.config.extend_exclude
        work = []
        walked = discover.walk(
            paths,
            excludes,
            force_exclude=self.config.force_exclude,
            respect_gitignore=self.config.respect_gitignore,
            root=self.config_dir,
        )
        for path, explicit, problem in walked:
            display = display_path(path, self.cwd)
            if problem is not None:
                result.errors.append(FileError(display, 1, problem))
                continue
            # The head (for a shebang) is only read for a file whose name says nothing.
            kind = discover.classify(path, b"")
            if kind is None and not path.suffix:
                kind = discover.classify(path, _head(path))
            if kind is None:
                continue
            work.append(_FileWork(path, display, kind, explicit))
        return sorted(work, key=lambda w: w.display)

    # -- the flow -------------------------------------------------------------------------

    def run(self, paths: list[Path]) -> RunResult:
        result = RunResult()
        _resolved_dir.cache_clear()  # directories may have moved since an earlier run in this process
        work = self._work(paths, result)
        result.files_seen = len(work)
        candidates, pins = self._prefilter(work, result)
        self._stack = pins
        outcomes = _extract_all(candidates, self._root(paths), self.cwd)
        findings: list[Finding] = []
        for item, outcome in zip(candidates, outcomes):
            result.files_parsed += outcome.parsed
            result.setups += len(outcome.setups)
            if outcome.error is not None:
                result.errors.append(outcome.error)
            found = self._audit_guarded(outcome, item, result)
            if found:
                result.texts[item.display] = outcome.text
                findings.extend(found)
        funnel = Funnel(
            per_file_ignores=self._per_file_ignores(),
            baseline=self.selection.baseline,
            min_confidence=self.selection.min_confidence,
        )
        result.findings = funnel.apply(findings, result.texts)
        result.errors.sort()
        return result

    def _root(self, paths: list[Path]) -> Path:
        first = paths[0].resolve() if paths else self.cwd
        return first if first.is_dir() else first.parent

    def _prefilter(self, work: list[_FileWork], result: RunResult) -> tuple[list[_Candidate], dict[str, str]]:
        """Read every file once as bytes; keep only those whose bytes hold a trigger token of
        their kind, and read the version pins on the way. Nothing is decoded or parsed here
        unless it can matter."""
        candidates: list[_Candidate] = []
        pins: dict[str, str] = {}
        for item in work:
            data = self._read(item, result)
            if data is None or b"\0" in data[:BINARY_SNIFF]:
                continue  # unreadable (reported) or binary with a source-like name (skipped quietly)
            if item.kind in STACK_KINDS and (item.kind in ("requirements", "pyproject") or b"pip" in data):
                _merge_pins(pins, item, data)
            if item.kind in ("requirements", "pyproject"):
                continue
            if any(token in data for token in triggers(item.kind)):
                candidates.append(_Candidate(item, data))
        return candidates, pins

    def _read(self, item: _FileWork, result: RunResult) -> bytes | None:
        try:
            size = item.path.stat().st_size
            if size > self.config.max_file_size:
                message = f"skipped: {size} bytes is over max-file-size ({self.config.max_file_size})"
                result.errors.append(FileError(item.display, 1, message))
                return None
            return item.path.read_bytes()
        except FileNotFoundError:
            return None  # vanished during the scan: nothing to report on
        except OSError as exc:
            result.errors.append(FileError(item.display, 1, f"cannot read: {exc.strerror or exc}"))
            return None

    def resolution(self, setup: Setup, item: _FileWork) -> Resolution:
        return resolve(
            setup,
            self.kb,
            gpu_option=self._gpu_for(item),
            models=self.config.models,
            stack=self._stack,
        )

    def _audit_guarded(self, outcome: _Outcome, item: _Candidate, result: RunResult) -> list[Finding]:
        """Resolve and audit one file's setups; an unexpected exception there is an internal
        error for that file (ECO001), like one inside its extractor."""
        try:
            return [f for setup in outcome.setups for f in self._audit(setup, item.work)]
        except KnowledgeError:
            raise  # the catalogue itself is broken: no file's fault (exit 2)
        except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
            result.errors.append(FileError(item.display, 1, internal_error_message(exc)))
            return []

    def _audit(self, setup: Setup, item: _FileWork) -> list[Finding]:
        resolution = self.resolution(setup, item)
        ctx = CheckContext(self.kb, resolution, setup)
        return list(run_checks(setup, ctx, self.selection.codes))

    def _gpu_for(self, item: _FileWork) -> str | None:
        if self.selection.gpu:
            return self.selection.gpu
        relative = _relative_to(item.path, self.config_dir)
        for override in self.config.overrides:
            if override.gpu and any(_glob(relative, pattern) for pattern in override.paths):
                return override.gpu
        return self.config.gpu

    def _per_file_ignores(self) -> dict[str, list[str]]:
        # Globs are written relative to the config file; findings carry cwd-relative paths.
        result = {}
        for pattern, codes in self.config.per_file_ignores.items():
            result[pattern] = codes
            if self.config_dir != self.cwd and "/" in pattern:
                prefix = display_path(self.config_dir, self.cwd)
                result[f"{prefix}/{pattern}"] = codes
        return result


@dataclass
class _Candidate:
    work: _FileWork
    data: bytes

    # The flow reads items like _FileWork; keep the two interchangeable where only names matter.
    @property
    def display(self) -> str:
        return self.work.display

    @property
    def path(self) -> Path:
        return self.work.path


@dataclass
class _Outcome:
    """What extracting one file gives back; picklable, so workers can return it."""

    setups: list[Setup] = field(default_factory=list)
    error: FileError | None = None
    text: str = ""
    parsed: bool = True  # False: a closer look at the bytes showed nothing to parse


# Below this much candidate source, starting a second process costs more than it saves
# (a second worker on peft/axolotl: about a third less wall time; on one small file, only cost).
PARALLEL_MIN_BYTES = 256 * 1024
_WORKER_CONTEXT: ExtractContext | None = None


def _extract_all(candidates: list[_Candidate], root: Path, cwd: Path | None = None) -> list[_Outcome]:
    """Extract setups from every candidate, on both cores when there is enough work. The order
    of the outcomes is the order of the candidates either way, so output is identical."""
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = ExtractContext(root=root, read_text=_read_text, cwd=cwd)
    total = sum(len(c.data) for c in candidates)
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or total < PARALLEL_MIN_BYTES or len(candidates) < 4 or not _can_fork():
        return [_extract_one(c) for c in candidates]
    # Import the parsers before forking, so the workers inherit them instead of each paying
    # for the import.
    for kind in sorted({c.work.kind for c in candidates}):
        load_extractor(kind)
    return _extract_parallel(candidates, workers)


def _extract_parallel(candidates: list[_Candidate], workers: int) -> list[_Outcome]:
    """Chunks of candidates on worker processes. A worker that dies (a native parser that
    crashes on some input takes its process with it) breaks the pool instead of hanging it;
    the candidates whose results were lost are then analysed again one process each, so the
    one that crashes is named in an ECO001 and every other file still gets its result."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _CANDIDATES
    size = max(1, len(candidates) // (workers * 8))
    ranges = [(i, min(i + size, len(candidates))) for i in range(0, len(candidates), size)]
    outcomes: list[_Outcome] = []
    # The workers are forked after this assignment and inherit the candidates' bytes: only
    # index ranges go down the pipe, not every candidate file pickled.
    _CANDIDATES = candidates
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_extract_range, start, stop) for start, stop in ranges]
            for (start, stop), future in zip(ranges, futures):
                try:
                    outcomes.extend(future.result())
                except BrokenProcessPool:
                    outcomes.extend(_extract_isolated(c) for c in candidates[start:stop])
    finally:
        _CANDIDATES = []
    return outcomes


_CANDIDATES: list[_Candidate] = []


def _extract_range(start: int, stop: int) -> list[_Outcome]:
    return [_extract_one(c) for c in _CANDIDATES[start:stop]]


def _extract_isolated(candidate: _Candidate) -> _Outcome:
    """One candidate in a process of its own; its death is an ECO001 for that file."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_extract_to_pipe, args=(candidate, sender), daemon=True)
    process.start()
    sender.close()
    try:
        outcome = receiver.recv()
    except (EOFError, OSError):
        outcome = None
    finally:
        receiver.close()
        process.join()
    if isinstance(outcome, _Outcome):
        return outcome
    code = process.exitcode
    how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    message = f"internal error (the parser process died: {how}); please report this file's shape to the ecolint issue tracker"
    return _Outcome(error=FileError(candidate.display, 1, message))


def _extract_to_pipe(candidate: _Candidate, sender: Any) -> None:
    sender.send(_extract_one(candidate))
    sender.close()


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _extract_one(candidate: _Candidate) -> _Outcome:
    """The per-file guard: whatever happens inside one file stays an ECO001 for that file."""
    item = candidate.work
    try:
        if item.kind == "python" and not python_code_mentions(candidate.data, triggers("python")):
            return _Outcome(parsed=False)  # the tokens are only in comments and strings
        text = decode(item.path, candidate.data, item.kind)
        extractor = load_extractor(item.kind)
        if extractor is None:
            return _Outcome()
        if item.kind == "python":
            _refuse_native_parser_crashers(text)
        assert _WORKER_CONTEXT is not None
        return _Outcome(setups=list(extractor(item.display, text, _WORKER_CONTEXT)), text=text)
    except ExtractError as exc:
        return _Outcome(error=FileError(item.display, exc.line, exc.message))
    except (RecursionError, MemoryError):
        return _Outcome(error=FileError(item.display, 1, "too deeply nested to analyse"))
    except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
        return _Outcome(error=FileError(item.display, 1, internal_error_message(exc)))


def internal_error_message(exc: BaseException) -> str:
    """ECO001 text for a bug in ecolint: the exception, where in ecolint it was raised, and a
    request to report it."""
    import traceback

    where = ""
    package = Path(__file__).resolve().parent
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            inside = Path(frame.filename).resolve().relative_to(package).as_posix()
        except ValueError:
            continue
        where = f" at ecolint/{inside}:{frame.lineno}"
        break
    detail = str(exc).splitlines()[0][:200] if str(exc).strip() else ""
    return (
        f"internal error ({type(exc).__name__}{': ' + detail if detail else ''}{where}); "
        "please report this file's shape to the ecolint issue tracker"
    )


# --------------------------------------------------------------------------------------------
# Python: cheap looks at the bytes before any parser runs
# --------------------------------------------------------------------------------------------

# Comments and string literals, matched left to right, so a quote inside a comment or a # inside
# a string never starts anything. Every alternative starts with one of three bytes, which keeps
# the scan at C speed (an alternative for f-string prefixes would try every f and r of a file).
_COMMENTS_AND_STRINGS = re.compile(
    rb"#[^\r\n]*"
    rb'|"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""'
    rb"|'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''"
    rb'|"[^"\\\r\n]*(?:\\(?:\r\n|[\s\S])[^"\\\r\n]*)*"'
    rb"|'[^'\\\r\n]*(?:\\(?:\r\n|[\s\S])[^'\\\r\n]*)*'"
)
_FSTRING_OPENER = re.compile(rb"(?<![A-Za-z0-9_])(?:[fF][rR]?|[rR][fF])[\"']")
_TRIPLE_QUOTES = re.compile(rb"\"\"\"|'''")


def python_code_mentions(data: bytes, tokens: tuple[bytes, ...]) -> bool:
    """Whether a trigger token occurs in Python code, not only in comments and strings.

    In libraries every model file shows ``from_pretrained`` in a docstring example; such a file
    cannot hold a setup, and parsing those files was most of a run's time. This is a superset
    test: what it cannot place for sure counts as code — a token on the line of an f-string
    (whose braces hold code), any token in a file with a triple-quoted f-string, and whatever an
    unterminated string hides in a file that does not parse anyway.
    """
    code = _COMMENTS_AND_STRINGS.sub(b"", data)
    if any(token in code for token in tokens):
        return True
    if _has_triple_quoted_fstring(data):
        return True
    for token in tokens:
        at = data.find(token)
        while at >= 0:
            before = data[data.rfind(b"\n", 0, at) + 1 : at]
            if b"{" in before and _FSTRING_OPENER.search(before):
                return True
            at = data.find(token, at + len(token))
    return False


def _has_triple_quoted_fstring(data: bytes) -> bool:
    for match in _TRIPLE_QUOTES.finditer(data):
        start = match.start()
        prefix = data[max(0, start - 2) : start]
        if prefix[-1:] in (b"f", b"F") or (prefix[-1:] in (b"r", b"R") and prefix[:1] in (b"f", b"F")):
            return True
    return False


# libcst's native parser (used by --fix on files with findings) recurses once per operand of an
# ``and`` / ``or`` chain and takes the whole process down (a segfault, not an exception) somewhere
# between 4,000 and 8,000 of them; stdlib ast keeps such a chain flat, so the extractor's nesting
# check does not see it. Refusing such files here means the fixer never meets one. A chain this
# long is never hand-written code.
MAX_BOOL_CHAIN = 1000
_BOOL_WORDS = re.compile(r"\b(?:and|or)\b")


def _refuse_native_parser_crashers(text: str) -> None:
    """Raise ExtractError for Python that would crash the native parser.

    The number of words ``and`` / ``or`` bounds any chain's length, so the exact check (an ast
    walk) only runs for the rare file that has more than MAX_BOOL_CHAIN of them.
    """
    if len(_BOOL_WORDS.findall(text)) <= MAX_BOOL_CHAIN:
        return
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return  # the extractor reports it
    except (RecursionError, MemoryError):
        raise ExtractError("too deeply nested to parse", 1) from None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
            if depth > MAX_BOOL_CHAIN:
                line = getattr(node, "lineno", 1)
                raise ExtractError(f"too deeply nested to parse: more than {MAX_BOOL_CHAIN} and/or operands in one expression", line)
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))


def _merge_pins(pins: dict[str, str], item: _FileWork, data: bytes) -> None:
    """Versions pinned anywhere in the tree; the newest pin of a package wins (the cautious
    reading for version drift). Pins are advisory: a file that cannot be read for them is
    skipped without a diagnostic."""
    from ecolint.extract.stack import read_pins
    from ecolint.resolve import parse_version

    try:
        found = read_pins(item.display, decode(item.path, data, item.kind))
    except Exception:  # noqa: BLE001 - see above
        return
    for package, version in found.items():
        if package not in pins or parse_version(version) > parse_version(pins[package]):
            pins[package] = version


def run(paths: list[Path], kb: Knowledge, config: Config, selection: Selection, cwd: Path | None = None) -> RunResult:
    return Engine(kb, config, selection, cwd).run(paths)


def setups_in(path: Path, kb: Knowledge, config: Config, gpu: str | None = None) -> tuple[list[tuple[Setup, Resolution]], list[FileError]]:
    """The setups the extractors recognise in one file, each resolved exactly as `check` resolves
    it (GPU option or config, models table, pins read from that file), and the file's ECO001
    errors. For `ecolint explain`; runs no rule."""
    engine = Engine(kb, config, Selection(codes=[], gpu=gpu))
    result = RunResult()
    candidates, pins = engine._prefilter(engine._work([path], result), result)
    engine._stack = pins
    found: list[tuple[Setup, Resolution]] = []
    for candidate, outcome in zip(candidates, _extract_all(candidates, engine._root([path]), engine.cwd)):
        if outcome.error is not None:
            result.errors.append(outcome.error)
        for setup in outcome.setups:
            found.append((setup, engine.resolution(setup, candidate.work)))
    return found, sorted(result.errors)


def _relative_to(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _glob(path: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") or path.startswith(pattern + "/")


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(256)
    except OSError:
        return b""


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None

