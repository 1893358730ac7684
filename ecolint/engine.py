"""Run the flow for a set of paths: discover → read+classify → prefilter → extract → resolve →
audit → funnel. Reports are built from what this returns; nothing here prints.

Each file is analysed inside a guard: a file that cannot be read, decoded or parsed becomes one
ECO001 entry, and so does an unexpected exception inside ecolint (an internal error, which is a
bug to report) — the other files are still analysed.
"""

from __future__ import annotations

import fnmatch
import os
import tokenize
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from ecolint import discover
from ecolint.checks import CheckContext, run_checks
from ecolint.config import Config
from ecolint.extract import ExtractContext, ExtractError, load_extractor, triggers
from ecolint.finding import FileError, Finding
from ecolint.funnel import Funnel
from ecolint.knowledge import Knowledge
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
    """Paths relative to the current directory, '/'-separated; absolute when outside it."""
    try:
        return path.resolve().relative_to(cwd).as_posix()
    except ValueError:
        return path.resolve().as_posix()


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
            kind = discover.classify(path, _head(path))
            if kind is None:
                continue
            work.append(_FileWork(path, display, kind, explicit))
        return sorted(work, key=lambda w: w.display)

    # -- the flow -------------------------------------------------------------------------

    def run(self, paths: list[Path]) -> RunResult:
        result = RunResult()
        work = self._work(paths, result)
        result.files_seen = len(work)
        candidates, pins = self._prefilter(work, result)
        self._stack = pins
        outcomes = _extract_all(candidates, self._root(paths))
        findings: list[Finding] = []
        for item, outcome in zip(candidates, outcomes):
            result.files_parsed += 1
            result.setups += len(outcome.setups)
            if outcome.error is not None:
                result.errors.append(outcome.error)
            found = [f for setup in outcome.setups for f in self._audit(setup, item)]
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


# Parsing with libcst costs about 1.2 s per MB of Python per core: below this much candidate
# source, starting a second process costs more than it saves.
PARALLEL_MIN_BYTES = 256 * 1024
_WORKER_CONTEXT: ExtractContext | None = None


def _extract_all(candidates: list[_Candidate], root: Path) -> list[_Outcome]:
    """Extract setups from every candidate, on both cores when there is enough work. The order
    of the outcomes is the order of the candidates either way, so output is identical."""
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = ExtractContext(root=root, read_text=_read_text)
    total = sum(len(c.data) for c in candidates)
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or total < PARALLEL_MIN_BYTES or len(candidates) < 4 or not _can_fork():
        return [_extract_one(c) for c in candidates]
    # Import the parsers before forking, so the workers inherit them instead of each paying
    # for the import.
    for kind in sorted({c.work.kind for c in candidates}):
        load_extractor(kind)
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_extract_one, candidates, chunksize=max(1, len(candidates) // (workers * 8)))


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _extract_one(candidate: _Candidate) -> _Outcome:
    """The per-file guard: whatever happens inside one file stays an ECO001 for that file."""
    item = candidate.work
    try:
        text = decode(item.path, candidate.data, item.kind)
    except ExtractError as exc:
        return _Outcome(error=FileError(item.display, exc.line, exc.message))
    extractor = load_extractor(item.kind)
    if extractor is None:
        return _Outcome()
    assert _WORKER_CONTEXT is not None
    try:
        return _Outcome(setups=list(extractor(item.display, text, _WORKER_CONTEXT)), text=text)
    except ExtractError as exc:
        return _Outcome(error=FileError(item.display, exc.line, exc.message))
    except RecursionError:
        return _Outcome(error=FileError(item.display, 1, "too deeply nested to analyse"))
    except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
        message = f"internal error ({type(exc).__name__}: {exc}); please report this file's shape to the ecolint issue tracker"
        return _Outcome(error=FileError(item.display, 1, message))


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
    for candidate, outcome in zip(candidates, _extract_all(candidates, engine._root([path]))):
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

