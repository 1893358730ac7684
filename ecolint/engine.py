"""Run the flow for a set of paths: discover → read+classify → prefilter → extract → resolve →
audit → funnel. Reports are built from what this returns; nothing here prints.

Each file is analysed inside a guard: a file that cannot be read, decoded or parsed becomes one
ECO001 entry, and so does an unexpected exception inside ecolint (an internal error, which is a
bug to report) — the other files are still analysed.

The per-file steps (read, prefilter — ecolint/prefilter.py —, extract, and the optional
extraction cache — ecolint/cache.py) run on worker processes once the walk has found enough
files, and so does the project pass (the module and invocation indexes the Python files need,
ecolint/project.py), in chunks beside the files of the other kinds; resolve, audit and funnel
run here, on outcomes sorted by path, so the output never depends on which worker finished
first. The settings those steps need travel as one frozen WorkerConfig, handed to each worker by
the pool's initializer.

What a run returns (RunResult, FileOutcome) lives in ecolint/results.py, so reports and fixes
read it without importing this module.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import gc
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecolint import discover
from ecolint.checks import CheckContext, run_checks
from ecolint.config import Config
from ecolint.extract import ExtractContext, ExtractError, data_digest, load_extractor
from ecolint.finding import FileError, Finding
from ecolint.funnel import Funnel, review_ignores
from ecolint.knowledge import Knowledge, KnowledgeError
from ecolint.prefilter import may_hold_setup_bytes, python_may_hold_setup
from ecolint.resolve import Resolution, resolve
from ecolint.results import FileOutcome, RunResult
from ecolint.setups import Location, Setup
from ecolint.sources import decode, read_text

if TYPE_CHECKING:
    from ecolint.cache import ExtractionCache
    from ecolint.extract.python.modules import Unread, Verdict
    from ecolint.project import Helpers, ProjectWork

STACK_KINDS = ("requirements", "pyproject", "dockerfile", "shell")
BINARY_SNIFF = 8192
Stamp = tuple[int, int]  # a file's (mtime in ns, size): the cache's first, cheap test of a change
Progress = Callable[[int, "int | None"], None]  # files done, and the total once the walk has ended
# The kinds whose code may call a loader helper another module of the project defines (a
# notebook's `from helpers import load_model`): read when they do, even with no loading call.
_HELPER_CALLING_KINDS = ("python", "notebook")
_SUPPRESSION = "ecolint:"  # an ignore comment: its file's text is kept so the comment can be checked
BINARY_MESSAGE = "skipped: binary content (a NUL byte) in a file named like one ecolint reads"
UTF16_MESSAGE = "skipped: UTF-16 text (a byte-order mark); ecolint reads UTF-8"


@dataclass
class Selection:
    """What the run was asked for, after the command line has overridden the config."""

    codes: list[str]
    gpu: str | None = None
    baseline: frozenset[str] = frozenset()  # fingerprints of accepted findings (--baseline)
    min_confidence: int = 1  # --min-confidence: findings below are neither shown nor counted


@dataclass(frozen=True)
class FileWork:
    """A file the walk found: where it is, how reports show it, its kind, and whether it was
    named on the command line."""

    path: Path
    display: str
    kind: str
    explicit: bool


def display_path(path: Path, cwd: Path) -> str:
    """Paths relative to the current directory, '/'-separated; absolute when outside it.

    A file name that is not valid UTF-8 (Linux hands its bytes over as surrogate escapes, which
    no UTF-8 report can encode) is shown with backslash escapes: ``serve-\\xff.sh``. String
    operations, not pathlib: this runs once per file of the tree.
    """
    resolved = _resolved(os.fspath(path))
    base = os.fspath(cwd)
    prefix = base if base.endswith(os.sep) else base + os.sep
    if resolved.startswith(prefix):
        shown = resolved[len(prefix) :]
    elif resolved == base:
        shown = "."
    else:
        shown = resolved
    if os.sep != "/":
        shown = shown.replace(os.sep, "/")
    if not shown.isascii():
        try:
            shown.encode("utf-8")
        except UnicodeEncodeError:
            shown = shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return shown


def _resolved(path: str) -> str:
    """The path with every symlink resolved, with the parent directory resolved once per
    directory: resolving every file walks every component of its path with a system call each,
    which on a large tree costs more than reading the files. A file that is itself a symlink is
    resolved whole."""
    directory, name = os.path.split(path)
    try:
        if name and name not in (".", "..") and not os.path.islink(path):
            # keyed by the absolute directory: a relative one means another place after a chdir
            return os.path.join(
                _resolved_dir(directory if os.path.isabs(directory) else os.path.abspath(directory)), name
            )
    except OSError:
        pass
    return os.path.realpath(path)


@functools.lru_cache(maxsize=4096)
def _resolved_dir(directory: str) -> str:
    return os.path.realpath(directory)


class Engine:
    """The flow for one configuration. ``run`` is the whole of `ecolint check`; the public
    methods below are the steps other commands reuse (``explain`` the analysis, ``--fix`` the
    audit of a file's text in memory), so that they see exactly what a run sees."""

    def __init__(
        self,
        kb: Knowledge,
        config: Config,
        selection: Selection,
        cwd: Path | None = None,
        progress: Progress | None = None,
        cache_dir: Path | None = None,
        read_text: Callable[[Path], str | None] = read_text,
    ) -> None:
        # How extractors read another file of the tree: from disk, or, for an editor, its
        # unsaved buffer where one is open (ecolint/servers/lint.py).
        self.read_text = read_text
        # Off unless asked: only `ecolint check` turns the cache on (cli.py); explain, fixes'
        # audits, stdin and any server built on the engine never write it.
        self.cache_dir = cache_dir
        self.progress = progress  # told how many files are analysed, as they are (a terminal's progress line)
        self.kb = kb
        self.config = config
        self.selection = selection
        self.cwd = (cwd or Path.cwd()).resolve()
        self.config_dir = config.source.parent.resolve() if config.source else self.cwd
        self._stack: dict[str, str] = {}  # the version pins of the last analysis, for resolving
        self._last_context: ExtractContext | None = None  # the last analysis's view of the tree

    # -- the flow -------------------------------------------------------------------------

    def run(self, paths: list[Path]) -> RunResult:
        result = RunResult()
        analysed = self.analyse(paths, result)
        return self._audited(analysed, result)

    def run_text(self, path: Path, data: bytes, kind: str | None = None) -> RunResult:
        """The flow for one file's content held in memory (standard input), as if it were the
        file at ``path``: its kind, display path and tree lookups come from that path. Nothing
        is written (no extraction cache). ``kind`` overrides what the name says; a name ecolint
        does not read, with no kind given, gives an empty result."""
        result = RunResult()
        analysed = self.analyse_text(path, data, kind)
        return self._audited(analysed, result) if analysed else result

    def analyse_text(self, path: Path, data: bytes, kind: str | None = None) -> list[tuple[FileWork, FileOutcome]]:
        """``analyse`` for one file's content held in memory, as if it were the file at ``path``
        (see run_text): one (file, outcome) pair, or none for a name ecolint does not read."""
        _resolved_dir.cache_clear()
        kind = kind or discover.classify(path, data[:256])
        if kind is None:
            return []
        item = FileWork(path, display_path(path, self.cwd), kind, explicit=True)
        config = WorkerConfig(context=self.extract_context([path]), max_file_size=self.config.max_file_size)
        too_large = len(data) > config.max_file_size
        outcome = (
            FileOutcome(error=_too_large(item, len(data), config.max_file_size), parsed=False)
            if too_large
            else _analyse_data(config, item, data)
        )
        self._stack = self._project_pins([path], _merged_pins([outcome]))
        return [(item, outcome)]

    def analyse(self, paths: list[Path], result: RunResult) -> list[tuple[FileWork, FileOutcome]]:
        """Every file walked, read, prefiltered and extracted: (file, outcome) pairs sorted by
        path. What cannot be walked, and a cache that cannot be written, go into ``result``;
        each file's own error is in its outcome. The tree's version pins are kept for
        ``resolution`` and ``audit``. Files are analysed while the walk goes on; the order
        comes from the sort, never from which worker finished first."""
        _resolved_dir.cache_clear()  # directories may have moved since an earlier run in this process
        # The project pass needs the whole walk before the Python files are extracted; a run over
        # the project root walks it once for both. A cold run makes it on the workers, beside the
        # files of the other kinds, which do not need it (_analyse_with_project).
        cache = self._cache(paths)
        everything = self._walked(paths, result, cache)
        walked = [item for item in everything if item.kind not in _INVOCATION_ONLY]
        base = WorkerConfig(context=self._context(paths), max_file_size=self.config.max_file_size, cache=cache)
        project = self._project_work(paths, everything, cache)
        found, config = _analyse_with_project(base, walked, project, self.progress)
        self._last_context = config.context  # for a file read after the analysis (_read_unread)
        analysed = sorted(found, key=lambda pair: pair[0].display)
        _drop_superseded(analysed, self._callers_elsewhere(paths, config, analysed))
        self._stack = self._project_pins(paths, _merged_pins([outcome for _, outcome in analysed]))
        if config.cache is not None:
            entries = {item.display: o.cache_entry for item, o in analysed if o.cache_entry is not None}
            try:
                config.cache.save(entries)
            except OSError as exc:
                result.notes.append(f"cannot write the cache in {self.cache_dir}: {exc.strerror or exc}")
            result.rests_on = self._rests_on(paths, everything, analysed, config.cache, entries)
        return analysed

    def _rests_on(
        self,
        paths: list[Path],
        everything: list[FileWork],
        analysed: list[tuple[FileWork, FileOutcome]],
        cache: ExtractionCache,
        entries: dict[str, dict[str, Any]],
    ) -> dict[str, Any] | None:
        """What the run's findings rest on (``RunResult.rests_on``): only for a run of the project
        root alone, whose walk is the project pass's too; elsewhere the pass walks the project
        apart, and reads callers and pins the run does not name."""
        from ecolint import project

        root = project.project_root(paths[0] if paths else self.cwd, self.config.source, self.cwd)
        if _root_files(paths, root, everything) is None or any(o.unrecorded for _, o in analysed):
            return None
        files = [(os.fspath(item.path), item.display) for item in everything]
        return cache.witness(files, entries)

    def _callers_elsewhere(
        self, paths: list[Path], config: WorkerConfig, analysed: list[tuple[FileWork, FileOutcome]]
    ) -> list[Setup]:
        """When the run does not cover the project root (a pre-commit run on a helper's
        module), the setups that the helper's callers elsewhere in the project make through it:
        they supersede the helper's own, as they do when the whole tree is checked. Read, never
        reported."""
        from ecolint import project

        modules = config.context.modules
        if modules is None or not modules.helpers or project.covers(paths, modules.root):
            return []
        defining = {os.path.realpath(item.path) for item, outcome in analysed if outcome.setups}
        callers = modules.callers_of(defining, _read_bytes) if defining else []
        made: list[Setup] = []
        for path in callers:
            data = _read_bytes(path)
            if data is not None:
                made.extend(extract(config, FileWork(path, display_path(path, self.cwd), "python", False), data).setups)
        return made

    def extract_context(self, paths: list[Path]) -> ExtractContext:
        """What extractors may ask about the tree when these paths are scanned (a new, empty
        memo of the tree each time)."""
        return self._extract_context(paths)

    def _extract_context(self, paths: list[Path], walked: list[FileWork] | None = None) -> ExtractContext:
        return self._project_work(paths, walked).context(self._context(paths))

    def _context(self, paths: list[Path]) -> ExtractContext:
        """The context without the project pass's indexes (enough for every kind but Python)."""
        return ExtractContext(root=self._root(paths), read_text=self.read_text, cwd=self.cwd)

    def _project_work(
        self, paths: list[Path], walked: list[FileWork] | None = None, cache: ExtractionCache | None = None
    ) -> ProjectWork:
        """The project pass over the project root, whatever paths were given, so one file and
        the whole tree link alike: the module index of its Python files
        (ecolint/extract/python/modules.py) and the invocation index (ecolint/invocations.py).
        ``walked``: the run's own walk (its Makefiles too), reused for the modules when it covers
        the project root and for the invocations when it is the project root's; ``cache`` keeps
        what each file gave the passes between runs."""
        from ecolint import project
        from ecolint.extract.python.modules import indexed_files

        root = project.project_root(paths[0] if paths else self.cwd, self.config.source, self.cwd)
        excludes = self.config.exclude + self.config.extend_exclude
        files: Iterable[Path]
        ours = walked is not None and project.covers(paths, root)
        if ours:
            assert walked is not None
            files = (item.path for item in walked if item.kind == "python")
        else:
            found = discover.walk(
                [root],
                excludes,
                force_exclude=self.config.force_exclude,
                respect_gitignore=self.config.respect_gitignore,
                root=self.config_dir,
            )
            files = (path for path, _, problem in found if problem is None and path.suffix == ".py")
        from ecolint.project import ProjectWork

        return ProjectWork(
            root,
            indexed_files(files),
            excludes,
            self.config.respect_gitignore,
            self.cwd,
            walked=_root_files(paths, root, walked),
            memo=cache,
            verdicts=ours,
        )

    def funnel(self) -> Funnel:
        """A new funnel with this run's per-file ignores, baseline and confidence floor."""
        return Funnel(
            per_file_ignores=self._per_file_ignores(),
            baseline=self.selection.baseline,
            min_confidence=self.selection.min_confidence,
        )

    def resolution(self, setup: Setup, path: Path) -> Resolution:
        """A setup of the file at ``path`` resolved as the run resolves it: the GPU option,
        config or path override, the models table, and the pins of the last analysis."""
        return resolve(
            setup,
            self.kb,
            gpu_option=self._gpu_for(path),
            models=self.config.models,
            stack=self._stack,
        )

    def audit(self, setup: Setup, path: Path) -> list[Finding]:
        """The selected rules' findings on one setup of the file at ``path``, before the funnel."""
        ctx = CheckContext(self.kb, self.resolution(setup, path), setup)
        return list(run_checks(setup, ctx, self.selection.codes))

    # -- its parts ------------------------------------------------------------------------

    def _audited(self, analysed: list[tuple[FileWork, FileOutcome]], result: RunResult) -> RunResult:
        """Resolve, audit and funnel what the analysis of the files gave."""
        result.files_seen = len(analysed)
        findings: list[Finding] = []
        through: list[tuple[Setup, list[Finding]]] = []  # setups made through another module's helper
        for item, outcome in analysed:
            made: list[tuple[Setup, list[Finding]]] = []
            found = self._audit_guarded(outcome, item, result, made)
            if found and outcome.unread is not None:
                read = self._read_unread(item, outcome)
                if read is not outcome:  # changed since the cache answered: analysed again
                    outcome, made = read, []
                    found = self._audit_guarded(outcome, item, result, made)
            through.extend(made)
            result.files_parsed += outcome.parsed
            result.setups += len(outcome.setups)
            if outcome.error is not None:
                result.errors.append(outcome.error)
            if found or _SUPPRESSION in outcome.text:
                result.texts[item.display] = outcome.text
                findings.extend(found)
        _manual_where_shared(through)
        funnel = self.funnel()
        result.findings = funnel.apply(findings, {**self._helper_texts(findings, result.texts), **result.texts})
        result.in_baseline, result.below_confidence = funnel.in_baseline, funnel.below_confidence
        invalid, unused = review_ignores(result.texts, funnel.suppressions, self.kb.rules, self.selection.codes)
        result.notes.extend(f"warning: {text}" for text in invalid)
        result.unused_ignores = unused
        result.errors.sort()
        return result

    def _read_unread(self, item: FileWork, outcome: FileOutcome) -> FileOutcome:
        """The outcome with the file's text, read now that a finding needs it; when the file is
        no longer what the cache answered for (changed during the run), the file analysed
        afresh."""
        config = WorkerConfig(
            context=self._last_context or self.extract_context([item.path]), max_file_size=self.config.max_file_size
        )
        data, _, stamp = _read(item, config.max_file_size)
        if data is not None and stamp == outcome.unread:
            with contextlib.suppress(Exception):  # undecodable now: analysed afresh below
                outcome.text = decode(item.path, data, item.kind)
                outcome.unread = None
                return outcome
        return _analyse_file(config, item)

    def _walked(self, paths: list[Path], result: RunResult, cache: ExtractionCache | None = None) -> list[FileWork]:
        """The files to read with their kinds, in the walk's order; what cannot be walked is
        recorded in the result. With the cache, a walk whose directories, .gitignore files and
        links are as the last walk found them is not made again (``discover.Witness``)."""
        excludes = self.config.exclude + self.config.extend_exclude
        key = repr(([os.fspath(path) for path in paths], excludes, self.config.force_exclude, str(self.config_dir)))
        known = cache.walk_of(key) if cache is not None else None
        if known is not None:
            files, problems = known
            result.errors.extend(FileError(display, 1, problem) for display, problem in problems)
            return [FileWork(Path(path), display, kind, explicit) for path, display, kind, explicit in files]
        witness = discover.Witness() if cache is not None else None
        started = time.time_ns()
        walked = discover.walk(
            paths,
            excludes,
            force_exclude=self.config.force_exclude,
            respect_gitignore=self.config.respect_gitignore,
            root=self.config_dir,
            keep=_may_be_read,
            witness=witness,
        )
        found: list[FileWork] = []
        errors: list[tuple[str, str]] = []
        for path, explicit, problem in walked:
            if problem is not None:
                errors.append((display_path(path, self.cwd), problem))
                continue
            if witness is not None and not path.suffix:
                witness.node(path)  # its kind may come from its first line
            kind = discover.classify_file(path)
            if kind is None:
                kind = discover.invocation_only_kind(path)  # for the invocation pass alone (analyse)
            if kind is None:
                continue  # most of a tree: not worth a display path
            found.append(FileWork(path, display_path(path, self.cwd), kind, explicit))
        result.errors.extend(FileError(display, 1, problem) for display, problem in errors)
        if cache is not None and witness is not None and witness.settled(started):
            files = [(os.fspath(item.path), item.display, item.kind, item.explicit) for item in found]
            cache.keep_walk(key, witness.answers, files, errors)
        return found

    def _project_pins(self, paths: list[Path], found: dict[str, str]) -> dict[str, str]:
        """The pins of the files analysed merged with the whole project's (ecolint/project.py),
        so that one file and the whole tree resolve alike."""
        from ecolint import project

        first = paths[0] if paths else self.cwd
        if project.covers(paths, project.project_root(first, self.config.source, self.cwd)):
            return found
        return project.merge_pins([project.pins_for(first, self.config, self.cwd), found])

    def _root(self, paths: list[Path]) -> Path:
        first = paths[0].resolve() if paths else self.cwd
        return first if first.is_dir() else first.parent

    def _cache(self, paths: list[Path]) -> ExtractionCache | None:
        if self.cache_dir is None:
            return None
        from ecolint import project
        from ecolint.cache import ExtractionCache

        # the project root too: the invocation pass's entries are the project's files
        root = project.project_root(paths[0] if paths else self.cwd, self.config.source, self.cwd)
        return ExtractionCache(self.cache_dir, self._root(paths), self.cwd, f"{_settings(self.config)}\0{root}")

    def _helper_texts(self, findings: list[Finding], texts: dict[str, str]) -> dict[str, str]:
        """The texts of helper modules whose lines may silence a finding (``Finding.also_at``)
        and that the run did not keep: a run on the calling file alone still reads them."""
        wanted = {where.path for finding in findings for where in finding.also_at} - set(texts)
        out: dict[str, str] = {}
        for display in sorted(wanted):
            text = read_text(Path(display) if Path(display).is_absolute() else self.cwd / display)
            if text is not None:
                out[display] = text
        return out

    def _audit_guarded(
        self,
        outcome: FileOutcome,
        item: FileWork,
        result: RunResult,
        through: list[tuple[Setup, list[Finding]]] | None = None,
    ) -> list[Finding]:
        """Resolve and audit one file's setups; an unexpected exception there is an internal
        error for that file (ECO001), like one inside its extractor. Setups made through a
        helper of another module are collected in ``through`` with their findings."""
        try:
            audited = []
            for setup in outcome.setups:
                own = self.audit(setup, item.path)
                audited.append((setup, own))
                if through is not None and setup.through is not None:
                    through.append((setup, own))
            found = [finding for _, own in audited for finding in own]
            origins = {setup.origin for setup in outcome.setups}
            if len(origins) < len(outcome.setups) or any(
                setup.label and "invoked by " in setup.label for setup in outcome.setups
            ):  # commands that run the script, or one call's several setups (a helper's branches)
                from ecolint.invocations import one_finding_per_verdict

                found = one_finding_per_verdict(audited)
            if item.kind == "notebook":
                _say_cells(found, outcome.text)
            return found
        except KnowledgeError:
            raise  # the catalogue itself is broken: no file's fault (exit 2)
        except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
            result.errors.append(FileError(item.display, 1, internal_error_message(exc)))
            return []

    def _gpu_for(self, path: Path) -> str | None:
        if self.selection.gpu:
            return self.selection.gpu
        if not self.config.overrides:
            return self.config.gpu  # resolving the path (a system call per part) only for overrides
        relative = _relative_to(path, self.config_dir)
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


# -- the per-file steps, on this process or on workers --------------------------------------


@dataclass(frozen=True)
class WorkerConfig:
    """The run's settings that each file's analysis needs, made once per run and handed over
    explicitly: to the serial loop as an argument, to each pool worker by the pool's
    initializer, to an isolated process as its argument. Workers are forked, so none of it is
    pickled."""

    context: ExtractContext  # what extractors may ask about the tree; holds the run's memo of it
    max_file_size: int
    cache: ExtractionCache | None = None  # on for `ecolint check` unless --no-cache


# Below this many files, starting a second process costs more than it saves: the pre-commit
# case (a handful of files) stays in one process, a repository's tree uses every core.
PARALLEL_MIN_FILES = 64
PARALLEL_MIN_CANDIDATES = 8  # Python files the prefilter let through: each costs milliseconds
_CHUNK_FILES = 16  # files per task: heavy files cluster (tests/), so small tasks balance the load


def _analyse(
    config: WorkerConfig, work: Iterable[FileWork], progress: Progress | None = None
) -> list[tuple[FileWork, FileOutcome]]:
    """Every file, in no set order. In this process for a handful of files; else on all cores,
    the workers starting on the first files while the walk finds the rest."""
    known: list[tuple[FileWork, FileOutcome]] = []
    counted = False
    if config.cache is not None:
        # A warm run: the files the cache answers from their stamp alone never reach a worker
        # (what is left is often too few files to be worth a pool).
        work, counted = _not_known(config, work, known), True
    modules = config.context.modules
    if modules is not None and modules.unread:
        # A cold run: the Python files in which the project pass saw nothing are not read again.
        work, counted = _not_empty(config, work, known), True
    if progress is not None and counted:
        progress = _counting(progress, known)
    pending = iter(work)
    first = list(itertools.islice(pending, PARALLEL_MIN_FILES))
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or not _worth_a_pool(modules, first) or not _can_fork():
        analysed = []
        for item in itertools.chain(first, pending):
            analysed.append((item, _analyse_file(config, item)))
            if progress is not None:
                progress(len(analysed), None)
        return known + analysed
    if any(item.kind == "python" for item in first):
        load_extractor("python")  # imported once before forking, not once per worker
    return known + _analyse_pooled(config, itertools.chain(first, pending), workers, progress)


def _worth_a_pool(modules: Any, first: list[FileWork]) -> bool:
    """Whether the files are worth forking workers for: many of them, or a few that the
    project pass's prefilter let through (each one a parse and an extraction; a large project's
    thousands of other Python files are answered without being read, ``_not_empty``)."""
    if len(first) >= PARALLEL_MIN_FILES:
        return True
    if modules is None or not modules.verdicts:
        return False
    return sum(1 for item in first if _candidate_size(modules, item) is not None) >= PARALLEL_MIN_CANDIDATES


def _not_empty(
    config: WorkerConfig, work: Iterable[FileWork], known: list[tuple[FileWork, FileOutcome]]
) -> Iterator[FileWork]:
    """The files the per-file pass must read; the others go into ``known``: the Python files
    in which the project pass, reading them earlier in this run, found no call a setup starts
    at, no import of a loader helper and nothing else the pass would look at (``nothing_in``).
    Their outcome is the one reading them would give, cache entry included."""
    modules = config.context.modules
    assert modules is not None
    for item in work:
        unread = modules.nothing_in(str(item.path)) if item.kind == "python" else None
        stamp = None if unread is None else modules.verdicts[str(item.path)][0]
        if unread is None or stamp is None or stamp[1] > config.max_file_size:
            yield item  # over max-file-size: the pass says so
            continue
        if config.cache is not None and unread.digest is None:
            yield item
            continue
        known.append((item, _nothing_found(config, stamp, unread)))


def _nothing_found(config: WorkerConfig, stamp: Stamp, unread: Unread) -> FileOutcome:
    """The outcome of a Python file the prefilter turns away and that imports no helper, as
    ``_analyse_file`` gives it (with its cache entry when the cache is on)."""
    outcome = FileOutcome(parsed=False)
    if config.cache is None or unread.digest is None:
        return outcome
    from ecolint.cache import entry

    context = config.context
    context.consulted = []
    try:
        context.note_helpers()  # as ``extract`` notes it: a file that calls none may call one later
    finally:
        consulted, context.consulted = context.consulted, None
    outcome.cache_entry = entry(unread.digest, stamp, consulted or [], [], None, False)
    outcome.unrecorded = outcome.cache_entry is None
    if outcome.cache_entry is not None:
        outcome.cache_entry["pins"] = {}
        outcome.cache_entry["ignores"] = False
    return outcome


def _not_known(
    config: WorkerConfig, work: Iterable[FileWork], known: list[tuple[FileWork, FileOutcome]]
) -> Iterator[FileWork]:
    """The files the cache cannot answer without reading them; the others go into ``known``
    (lazily: the walk still feeds the workers as it goes)."""
    for item in work:
        outcome = _known_by_stamp(config, item)
        if outcome is None:
            yield item
        else:
            known.append((item, outcome))


def _counting(progress: Progress, known: list[tuple[FileWork, FileOutcome]]) -> Progress:
    """The progress callback, with the files the cache answered counted as done."""
    return lambda done, total: progress(done + len(known), None if total is None else total + len(known))


def _known_by_stamp(config: WorkerConfig, item: FileWork) -> FileOutcome | None:
    """A file's outcome from its cache entry and one stat, without reading it: only for a file
    whose mtime and size are those recorded, that holds no ignore comment (none to check), and
    whose consulted files are unchanged. Its text is read later, only if its setups have a
    finding (``FileOutcome.unread``); a notebook's is needed to name cells, so it is read now."""
    assert config.cache is not None
    known = config.cache.entries.get(item.display)
    if not isinstance(known, dict) or known.get("ignores") is not False:
        return None
    if known.get("setups") and item.kind == "notebook":
        return None
    pins = known.get("pins")
    if not isinstance(pins, dict) or not all(isinstance(v, str) for v in pins.values()):
        return None
    try:
        status = os.stat(item.path)
    except OSError:
        return None
    stamp = (status.st_mtime_ns, status.st_size)
    if known.get("skip"):
        return FileOutcome(parsed=False, pins=dict(pins)) if known.get("stamp") == list(stamp) else None
    try:
        hit = config.cache.lookup_stamp(item.display, stamp, config.context)
        if hit is None:
            return None
        from ecolint.cache import error_from, setups_from

        setups = setups_from(hit)
        return FileOutcome(
            setups=setups,
            error=error_from(hit),
            parsed=bool(hit["parsed"]),
            pins=dict(pins),
            unread=stamp if setups else None,
        )
    except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a failure
        return None


# The kinds whose extraction reads the project pass's indexes (a notebook's cells are Python);
# the others are analysed beside the project pass.
_PROJECT_KINDS = frozenset({"python", "notebook"})
_PROJECT_CHUNK_FILES = 128  # files per project-pass task: most are rejected from their bytes or name
_INVOCATION_CHUNK_FILES = 32


def _analyse_with_project(
    base: WorkerConfig, walked: list[FileWork], project: ProjectWork, progress: Progress | None = None
) -> tuple[list[tuple[FileWork, FileOutcome]], WorkerConfig]:
    """Every file, in no set order, and the run's settings with the project pass's indexes.

    The Python files need the project pass (the module and invocation indexes) before their
    extraction, the other kinds do not. On a tree worth a pool, the pass runs on the workers, in
    chunks whose results are joined in the files' order (the indexes are those it makes in one
    process), followed in the queue by the files of the other kinds; once the indexes are made,
    a second pool, forked with them, takes the Python files while the first finishes the rest."""
    workers = min(os.cpu_count() or 1, 8)
    # A warm run (a cache with entries) answers most files from their stamps, often leaving
    # too few for a pool: there the pass is made in this process, where it answers each file
    # from the cache too (ProjectWork.memo). A cold run's workers send back what each file gave
    # the pass, which the cache keeps for the next run (_Kept).
    warm = base.cache is not None and bool(base.cache.entries)
    if warm or workers < 2 or len(walked) < PARALLEL_MIN_FILES or not _can_fork():
        config = WorkerConfig(project.context(base.context), base.max_file_size, base.cache)
        return _analyse(config, walked, progress), config
    later = [item for item in walked if item.kind in _PROJECT_KINDS]
    now = [item for item in walked if item.kind not in _PROJECT_KINDS]
    if project.module_files or later:
        load_extractor("python")  # imported once before forking, not once per worker
    keep = base.cache is not None  # the workers send back each file's part for the next run
    with _pool(base, workers) as (pool, received):

        def invocation_tasks(files: list[Path] | None) -> list[tuple[list[Path], Any]]:
            # small chunks: the files that run something (notebooks, CI workflows) sit together
            # in the walk, and one chunk holding them all would finish the pass alone
            chunks = [] if files is None else _slices(files, _INVOCATION_CHUNK_FILES)
            return [(c, _submitted(pool, _invocations_task, c, project.root, project.cwd, keep)) for c in chunks]

        # the invocation tasks first when the run's walk gave their files: they are the heavier
        files = project.walked
        calls = None if files is None else invocation_tasks(files)
        helpers = [
            (c, _submitted(pool, _helpers_task, c, keep, project.verdicts))
            for c in _slices(project.module_files, _PROJECT_CHUNK_FILES)
        ]
        if calls is None:
            files = project.invocation_files()  # the walk, while the workers index the modules
            calls = invocation_tasks(files)
        tasks = [(chunk, _submitted(pool, _worker_task, chunk)) for chunk in _chunks(now, _CHUNK_FILES)]
        _check(received)
        context = project.joined(
            base.context,
            (_kept(base.cache, _project_result(future, project.helpers, c)) for c, future in helpers),
            [None]
            if files is None
            else (_kept(base.cache, _project_result(future, project.invocations, c)) for c, future in calls),
        )
        config = WorkerConfig(context, base.max_file_size, base.cache)
        python = _analyse(config, _candidates_first(later, context), _shifted(progress, 0, len(now)))
        others = _collected(base, tasks, received, _shifted(progress, len(python), len(python)))
    return others + python, config


def _shifted(progress: Progress | None, done: int, total: int) -> Progress | None:
    """The progress callback of one part of the files, counting ``done`` before it and
    ``total`` more in all."""
    if progress is None:
        return None
    return lambda count, whole: progress(count + done, None if whole is None else whole + total)


def _candidates_first(items: list[FileWork], context: ExtractContext) -> list[FileWork]:
    """The files the project pass's prefilter let through (the ones worth parsing) first, the
    largest first, then the others in the walk's order: each candidate goes to the workers in
    a chunk of its own (``_chunks``), so that the heavy ones are spread over them instead of
    left to whichever worker drew the chunk that holds several."""
    modules = context.modules
    if modules is None or not modules.verdicts:
        return items
    size = {id(item): _candidate_size(modules, item) for item in items}
    candidates = sorted((item for item in items if size[id(item)] is not None), key=lambda i: -(size[id(i)] or 0))
    return candidates + [item for item in items if size[id(item)] is None]


def _candidate_size(modules: Any, item: FileWork) -> int | None:
    """A file's size when the project pass's prefilter let it through, else None."""
    known = modules.verdicts.get(str(item.path))
    return known[0][1] if known is not None and known[1] else None


def _slices(files: list[Path], size: int) -> list[list[Path]]:
    return [files[at : at + size] for at in range(0, len(files), size)]


class _Kept:
    """A project-pass task's memo on a worker of a cold run: nothing to look up (the cache has
    no entries), and what each file gave, sent back for the main process to keep in the cache
    (``_kept``), so that the next run answers the pass from it."""

    def __init__(self) -> None:
        self.records: list[tuple[str, tuple[Any, ...]]] = []

    def invocations_in(self, path: str, stamp: tuple[int, int], context: ExtractContext) -> None:
        return None

    def keep_invocations(
        self, path: str, stamp: tuple[int, int], consulted: list[tuple[str, str, Any]] | None, setups: list[Setup]
    ) -> None:
        self.records.append(("keep_invocations", (path, stamp, consulted, setups)))

    def helpers_in(self, path: str, stamp: tuple[int, int]) -> None:
        return None

    def keep_helpers(self, path: str, stamp: tuple[int, int], helpers: list[str]) -> None:
        self.records.append(("keep_helpers", (path, stamp, helpers)))


def _helpers_task(files: list[Path], keep: bool, verdicts: bool) -> tuple[Helpers, list[tuple[str, tuple[Any, ...]]]]:
    """A project-pass task, on a worker: the loader helpers some Python files define, the
    prefilter's verdicts on them (``verdicts``: for the per-file pass), and what to keep of them
    in the cache (``keep``)."""
    from ecolint.extract.python.modules import helpers_in

    memo = _Kept() if keep else None
    found: list[Verdict] | None = [] if verdicts else None
    unread = functools.partial(_unread, digest=keep)
    return (helpers_in(files, python_may_hold_setup, memo, found, unread), found or []), memo.records if memo else []


def _unread(data: bytes, digest: bool) -> Unread | None:
    """What the per-file pass would still look at in a Python file the prefilter turned away
    (``ModuleIndex.nothing_in``), kept by the project pass that read it so that the per-file pass
    need not read it again: its import lines, and its digest for the cache (``digest``). None
    where that pass must read it: a NUL byte (it says the file is binary) or an ignore comment
    (whose codes it checks)."""
    from ecolint.extract.python.modules import Unread, import_lines

    if b"\0" in data[:BINARY_SNIFF] or _SUPPRESSION.encode() in data:
        return None
    return Unread(import_lines(data) if b"import" in data else b"", data_digest(data) if digest else None)


def _invocations_task(
    files: list[Path], root: Path, cwd: Path, keep: bool
) -> tuple[list[tuple[str, Any]] | None, list[tuple[str, tuple[Any, ...]]]]:
    """A project-pass task, on a worker: the invocations some files hold, and what to keep of
    them in the cache (``keep``)."""
    from ecolint.project import invocations_in

    memo = _Kept() if keep else None
    return invocations_in(files, root, cwd, memo), memo.records if memo else []


def _kept(cache: ExtractionCache | None, result: tuple[Any, list[tuple[str, tuple[Any, ...]]]]) -> Any:
    """A project-pass task's result, its records kept in the cache."""
    found, records = result
    if cache is not None:
        for method, arguments in records:
            getattr(cache, method)(*arguments)
    return found


def _project_result(future: Any, serially: Callable[[list[Path]], Any], files: list[Path]) -> Any:
    """A project-pass task's result and records; made here when the pool broke (the pass never
    ran on its own process before: a crash in it then ends the run, as it did), where the
    project's memo keeps what it finds itself."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        if future is None:
            raise BrokenProcessPool
        return future.result()
    except BrokenProcessPool:
        return serially(files), []


@contextlib.contextmanager
def _pool(config: WorkerConfig, workers: int) -> Iterator[tuple[Any, list[int]]]:
    """A pool of forked workers holding ``config``, stopped by SIGINT and SIGTERM
    (``_stopped_by_signals``), and the signals received."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(config, os.getpid()),
    )
    with pool, _stopped_by_signals(pool) as received:
        yield pool, received
        _check(received)


def _submitted(pool: Any, task: Callable[..., Any], *args: Any) -> Any:
    """The future of a task, or None when the pool is already broken."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return pool.submit(task, *args)
    except BrokenProcessPool:
        return None


def _analyse_pooled(
    config: WorkerConfig, work: Iterable[FileWork], workers: int, progress: Progress | None = None
) -> list[tuple[FileWork, FileOutcome]]:
    """Chunks of files on a pool of worker processes, sent as the walk yields them. A worker
    that dies (a native parser that crashes on some input takes its process with it) breaks the
    pool instead of hanging it; the files whose results were lost are then analysed again one
    process each, so the one that crashes is named in an ECO001 and every other file still gets
    its result."""
    modules = config.context.modules
    alone = None if modules is None or not modules.verdicts else lambda item: _candidate_size(modules, item) is not None
    with _pool(config, workers) as (pool, received):
        tasks = []
        for chunk in _chunks(work, _CHUNK_FILES, alone):
            _check(received)
            tasks.append((chunk, _submitted(pool, _worker_task, chunk)))
        return _collected(config, tasks, received, progress)


def _collected(
    config: WorkerConfig, tasks: list[tuple[list[FileWork], Any]], received: list[int], progress: Progress | None
) -> list[tuple[FileWork, FileOutcome]]:
    """The outcomes of the chunks sent to a pool (None: not sent, the pool had broken), in
    their order; a chunk whose worker died is analysed again one process per file."""
    from concurrent.futures.process import BrokenProcessPool

    analysed: list[tuple[FileWork, FileOutcome]] = []
    total = sum(len(chunk) for chunk, _ in tasks)
    for chunk, future in tasks:
        _check(received)
        try:
            if future is None:
                raise BrokenProcessPool
            analysed.extend(
                (item, outcome or FileOutcome(parsed=False))
                for item, outcome in zip(chunk, future.result(), strict=True)
            )
        except BrokenProcessPool:
            analysed.extend((item, _analyse_isolated(config, item)) for item in chunk)
        if progress is not None:
            progress(len(analysed), total)
    return analysed


_worker_config: WorkerConfig | None = None  # a pool worker's copy, set by its initializer only
_NOTHING = FileOutcome(parsed=False)  # most files of a tree: not pickled back one by one


@contextlib.contextmanager
def _stopped_by_signals(pool: Any) -> Iterator[list[int]]:
    """While the pool runs, SIGINT and SIGTERM stop the run: the chunks not started are
    cancelled (leaving the pool's ``with`` would otherwise analyse every queued one), the running
    ones end, then Ctrl-C goes on as KeyboardInterrupt and SIGTERM ends the process as SIGTERM
    does. The handler also records the signal, which the loops check between chunks: Python
    drops an exception raised while it runs an at-fork callback (the pool forking a worker),
    so the raise alone can be lost."""
    import signal
    import threading

    received: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():  # only there can handlers be set
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, stop)
    try:
        yield received
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        if signal.SIGTERM in received:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _check(received: list[int]) -> None:
    if received:
        raise KeyboardInterrupt


_PARENT_POLL_SECONDS = 0.25


def _start_worker(config: WorkerConfig, parent: int) -> None:
    """The pool's initializer: the run's settings, once per worker process, and a watch on the
    parent, so that a worker never outlives the run that started it (killed by SIGTERM or
    SIGKILL, the parent cannot tell its workers; its pid then stops being theirs)."""
    global _worker_config
    _worker_config = config
    import threading

    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="ecolint-parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    """A worker's watch thread: polling the parent's pid needs no prctl, so it works on every
    platform that forks."""
    import time

    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def _worker_task(chunk: list[FileWork]) -> list[FileOutcome | None]:
    """One pool task, on a worker: the chunk's outcomes, None for a file that gave nothing."""
    assert _worker_config is not None, "a pool worker starts with _start_worker"
    config = _worker_config
    return [None if outcome == _NOTHING else outcome for outcome in (_analyse_file(config, i) for i in chunk)]


def _chunks(
    items: Iterable[FileWork], size: int, alone: Callable[[FileWork], bool] | None = None
) -> Iterator[list[FileWork]]:
    """The items in chunks of ``size``; an item ``alone`` holds true of in a chunk of its own."""
    chunk: list[FileWork] = []
    for item in items:
        if alone is not None and alone(item):
            if chunk:
                yield chunk
                chunk = []
            yield [item]
            continue
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _analyse_isolated(config: WorkerConfig, item: FileWork) -> FileOutcome:
    """One file in a process of its own, after a pool worker died: a second death is an ECO001
    for this file alone."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_send_outcome, args=(config, item, sender), daemon=True)
    process.start()
    sender.close()
    try:
        outcome = receiver.recv()
    except (EOFError, OSError):
        outcome = None
    finally:
        receiver.close()
        process.join()
    if isinstance(outcome, FileOutcome):
        return outcome
    code = process.exitcode
    how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    message = (
        f"internal error (the parser process died: {how}); please report this file's shape to the ecolint issue tracker"
    )
    return FileOutcome(error=FileError(item.display, 1, message))


def _send_outcome(config: WorkerConfig, item: FileWork, sender: Any) -> None:
    """The isolated process's body."""
    sender.send(_analyse_file(config, item))
    sender.close()


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _analyse_file(config: WorkerConfig, item: FileWork) -> FileOutcome:
    """Read one file, then analyse its bytes."""
    try:
        data, error, stamp = _read(item, config.max_file_size)
        if data is None:
            return FileOutcome(error=error, parsed=False)  # unreadable or too large
    except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
        return FileOutcome(error=FileError(item.display, 1, internal_error_message(exc)), parsed=False)
    return _analyse_data(config, item, data, stamp)


def _analyse_data(config: WorkerConfig, item: FileWork, data: bytes, stamp: Stamp | None = None) -> FileOutcome:
    """One file's bytes, read from disk or held in memory (standard input). The text of a file
    with an ignore comment is kept, so that unknown codes in it can be reported."""
    outcome = _prefilter_and_extract(config, item, data, stamp)
    ignores = _SUPPRESSION.encode() in data
    if not outcome.text and outcome.error is None and ignores:
        with contextlib.suppress(Exception):  # an undecodable file: its comments go unchecked
            outcome.text = decode(item.path, data, item.kind)
    if outcome.cache_entry is not None:
        outcome.cache_entry["ignores"] = ignores  # whether a warm run must read it (_known_by_stamp)
    return outcome


def _prefilter_and_extract(config: WorkerConfig, item: FileWork, data: bytes, stamp: Stamp | None) -> FileOutcome:
    """Look at the bytes, and extract the setups only when they can hold one. Nothing is
    decoded or parsed unless it can matter."""
    known = _known_unchanged(config, item, stamp)
    if known is not None:
        if known.get("skip"):
            return FileOutcome(parsed=False, pins=dict(known["pins"]))
        outcome = _extract_cached(config, item, data, stamp)  # the prefilter let it through last time
        outcome.pins = dict(known["pins"])
        return outcome
    try:
        if b"\0" in data[:BINARY_SNIFF]:
            # Named like a file ecolint reads, but binary: said, never silently counted as checked.
            utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
            message = UTF16_MESSAGE if utf16 else BINARY_MESSAGE
            return FileOutcome(error=FileError(item.display, 1, message), parsed=False)
        pins = _pins(item, data) if item.kind in STACK_KINDS else {}
        if item.kind in ("requirements", "pyproject") or (
            item.kind not in _HELPER_CALLING_KINDS and not may_hold_setup_bytes(item.kind, data)
        ):
            outcome = FileOutcome(parsed=False, pins=pins)
            if config.cache is not None and stamp is not None:
                outcome.cache_entry = {"stamp": list(stamp), "skip": True, "pins": pins}
            return outcome
    except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
        return FileOutcome(error=FileError(item.display, 1, internal_error_message(exc)), parsed=False)
    outcome = extract(config, item, data, stamp) if config.cache is None else _extract_cached(config, item, data, stamp)
    outcome.pins = pins
    if outcome.cache_entry is not None:
        outcome.cache_entry["pins"] = pins
    return outcome


def _known_unchanged(config: WorkerConfig, item: FileWork, stamp: Stamp | None) -> dict[str, Any] | None:
    """The cache entry of a file whose mtime and size are unchanged, when it records the file's
    pins: a warm run then skips the byte scans (the prefilter, the pin reader), which are most
    of what is left of its time on a large tree."""
    if config.cache is None or stamp is None:
        return None
    known = config.cache.entries.get(item.display)
    if not isinstance(known, dict) or known.get("stamp") != list(stamp):
        return None
    pins = known.get("pins")
    if not isinstance(pins, dict) or not all(isinstance(v, str) for v in pins.values()):
        return None  # an older or damaged entry: looked at afresh
    return known


def _extract_cached(config: WorkerConfig, item: FileWork, data: bytes, stamp: Stamp | None) -> FileOutcome:
    """``extract`` through the extraction cache: an unchanged file (and unchanged files it
    consulted) gives back what it gave last time; a new extraction leaves an entry to save.
    As in ruff, a file whose mtime and size are those of its entry is unchanged without
    hashing its bytes; only when they differ does the content hash decide."""
    from ecolint.cache import entry, error_from, setups_from

    assert config.cache is not None
    context = config.context
    digest = ""
    try:
        hit = config.cache.lookup_stamp(item.display, stamp, context)
        if hit is None:
            digest = data_digest(data)
            hit = config.cache.lookup(item.display, digest, context)
        if hit is not None:
            setups = setups_from(hit)
            text = decode(item.path, data, item.kind) if setups else ""
            outcome = FileOutcome(setups=setups, error=error_from(hit), text=text, parsed=bool(hit["parsed"]))
            if stamp is not None and hit.get("stamp") != list(stamp):
                outcome.cache_entry = {**hit, "stamp": list(stamp)}  # touched, not changed: keep the new stamp
            return outcome
    except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a failure
        pass
    digest = digest or data_digest(data)
    context.consulted = []
    try:
        outcome = extract(config, item, data, stamp)
    finally:
        consulted, context.consulted = context.consulted, None
    if outcome.error is None or not _depends_on_the_machine(outcome.error.message):
        outcome.cache_entry = entry(digest, stamp, consulted or [], outcome.setups, outcome.error, outcome.parsed)
    outcome.unrecorded = outcome.cache_entry is None
    return outcome


def _depends_on_the_machine(message: str) -> bool:
    """Errors that come from this run (a crash, the recursion limit) rather than the file."""
    return message.startswith("internal error") or message == "too deeply nested to analyse"


def _read(item: FileWork, max_file_size: int) -> tuple[bytes | None, FileError | None, Stamp | None]:
    """A file's bytes, or the reason it is not read, and its (mtime, size) as they were before
    the read (a change during the read then shows at the next run). One open, one fstat and a
    read of the whole size: pathlib's stat() and read_bytes() cost twice as much per file on a
    large tree."""
    try:
        fd = os.open(item.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None, None, None  # vanished during the scan: nothing to report on
    except OSError as exc:
        return None, FileError(item.display, 1, f"cannot read: {exc.strerror or exc}"), None
    try:
        status = os.fstat(fd)
        size = status.st_size
        chunks: list[bytes] = []
        total = 0
        while total <= max_file_size:
            chunk = os.read(fd, max(size + 1 - total, 1 << 16))
            if not chunk:
                return b"".join(chunks), None, (status.st_mtime_ns, size)
            chunks.append(chunk)
            total += len(chunk)
        return None, _too_large(item, max(size, total), max_file_size), None
    except OSError as exc:
        return None, FileError(item.display, 1, f"cannot read: {exc.strerror or exc}"), None
    finally:
        os.close(fd)


def _too_large(item: FileWork, size: int, max_file_size: int) -> FileError:
    return FileError(item.display, 1, f"skipped: {size} bytes is over max-file-size ({max_file_size})")


def extract(config: WorkerConfig, item: FileWork, data: bytes, stamp: Stamp | None = None) -> FileOutcome:
    """One file's setups from its bytes, inside the per-file guard: whatever happens inside one
    file stays an ECO001 for that file. ``stamp``: the (mtime, size) the bytes were read at."""
    try:
        if item.kind in _HELPER_CALLING_KINDS:
            config.context.note_helpers()  # a file that calls none now may call one later
            holds = (
                _may_hold_setup(config.context, item, data, stamp)
                if item.kind == "python"
                else may_hold_setup_bytes(item.kind, data)
            )
            if not holds and not _may_call_helper(config.context, data):
                return FileOutcome(parsed=False)  # no call a setup starts at is written in code
        text = decode(item.path, data, item.kind)
        extractor = load_extractor(item.kind)
        if extractor is None:
            return FileOutcome()
        with _no_cycle_collection():
            setups = list(extractor(item.display, text, config.context))
        # The text goes back only where findings may need it (suppressions, fingerprints): a
        # file without setups has none, and its text would be pickled and kept for nothing.
        return FileOutcome(setups=setups, text=text if setups else "")
    except ExtractError as exc:
        return FileOutcome(error=FileError(item.display, exc.line, exc.message))
    except (RecursionError, MemoryError):
        return FileOutcome(error=FileError(item.display, 1, "too deeply nested to analyse"))
    except Exception as exc:  # noqa: BLE001 - one bad file never ends the run
        return FileOutcome(error=FileError(item.display, 1, internal_error_message(exc)))


def _may_hold_setup(context: ExtractContext, item: FileWork, data: bytes, stamp: Stamp | None) -> bool:
    """The prefilter's verdict on a Python file's bytes: the project pass's, made from the same
    scan as the file's helpers, while the file is as that pass read it; else made now."""
    known = None if context.modules is None else context.modules.prefiltered(str(item.path), stamp)
    return python_may_hold_setup(data) if known is None else known


def _may_call_helper(context: ExtractContext, data: bytes) -> bool:
    """Whether a file may call a loader helper another module of the project defines."""
    return context.modules is not None and context.modules.may_call_helper(data)


def _manual_where_shared(through: list[tuple[Setup, list[Finding]]]) -> None:
    """A fix edits the helper's code, which every call site going through it shares: where the
    call sites' verdicts differ (one is reported and another is not, or differently), the fix
    is left to a person."""
    sharing: dict[Location, int] = {}
    verdicts: dict[tuple[Location, str], list[tuple[str, ...]]] = {}
    for setup, findings in through:
        assert setup.through is not None
        sharing[setup.through] = sharing.get(setup.through, 0) + 1
        for code in sorted({f.code for f in findings}):
            messages = tuple(sorted(f.message for f in findings if f.code == code))
            verdicts.setdefault((setup.through, code), []).append(messages)
    for setup, findings in through:
        assert setup.through is not None
        for finding in findings:
            seen = verdicts[(setup.through, finding.code)]
            agree = len(seen) == sharing[setup.through] and len(set(seen)) == 1
            if not agree and finding.fix is not None and finding.fix.get("edit") is not None:
                finding.fix = {**finding.fix, "edit": None, "applicability": "manual"}


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _drop_superseded(analysed: list[tuple[FileWork, FileOutcome]], elsewhere: Iterable[Setup] = ()) -> None:
    """A loading call inside a helper whose callers make their own setups (one per call site,
    ecolint/extract/python/modules.py) is no setup of its own: its model was unknown there.
    ``elsewhere``: setups of callers the run does not report."""
    made = [*elsewhere, *(s for _, outcome in analysed for s in outcome.setups)]
    through = {s.through for s in made if s.through is not None}
    if not through:
        return
    # the helper functions the call sites went through, with the loading calls in them they reached
    spans: dict[Location, set[Location]] = {}
    for setup in made:
        for span in setup.via:
            spans.setdefault(span, set()).update(setup.reached)
    by_path: dict[str, list[tuple[Location, set[Location]]]] = {}
    for span, reached in spans.items():
        by_path.setdefault(span.path, []).append((span, reached))

    def superseded(setup: Setup) -> bool:
        where = setup.origin
        if where in through:
            return True
        # a loading call in a helper function that no call site reaches: they route around it
        return any(
            span.line <= where.line <= span.end_line and where not in reached
            for span, reached in by_path.get(where.path, ())
        )

    for _, outcome in analysed:
        kept = [setup for setup in outcome.setups if not superseded(setup)]
        if len(kept) != len(outcome.setups):
            outcome.setups = kept


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Run without the cyclic garbage collector. A syntax tree is hundreds of thousands of new
    objects, and each batch of them set off a collection that walks all the others again:
    with the collector paused, ast.parse of peft's candidates takes 0.7 s instead of 1.8 s.
    Syntax trees hold no cycles (reference counting frees them); the few the extractor makes
    are collected once the collector runs again after the file."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def _pins(item: FileWork, data: bytes) -> dict[str, str]:
    """The versions one file pins. Pins are advisory: a file that cannot be read for them is
    skipped without a diagnostic."""
    if item.kind not in ("requirements", "pyproject") and b"pip" not in data:
        return {}
    from ecolint.extract.stack import read_pins

    try:
        return read_pins(item.display, decode(item.path, data, item.kind))
    except Exception:  # noqa: BLE001 - see above
        return {}


def _merged_pins(outcomes: list[FileOutcome]) -> dict[str, str]:
    """Versions pinned anywhere in the tree; the newest pin of a package wins (the cautious
    reading for version drift), whatever the order of the files."""
    from ecolint.resolve import parse_version

    pins: dict[str, str] = {}
    for outcome in outcomes:
        for package, version in outcome.pins.items():
            if package not in pins or parse_version(version) > parse_version(pins[package]):
                pins[package] = version
    return pins


def _say_cells(findings: list[Finding], text: str) -> None:
    """A notebook finding's line is a line of the JSON file: its message says which cell and which
    line of that cell, as a reader of the notebook sees them."""
    from ecolint.extract.notebook import cell_and_line

    for finding in findings:
        where = cell_and_line(text, finding.location.line)
        if where is not None:
            cell, line = where
            finding.message += f" (cell {cell})" if line is None else f" (cell {cell}, line {line})"


def run(
    paths: list[Path],
    kb: Knowledge,
    config: Config,
    selection: Selection,
    cwd: Path | None = None,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
) -> RunResult:
    return Engine(kb, config, selection, cwd, progress, cache_dir).run(paths)


def run_text(
    path: Path,
    data: bytes,
    kb: Knowledge,
    config: Config,
    selection: Selection,
    cwd: Path | None = None,
    kind: str | None = None,
    read_text: Callable[[Path], str | None] = read_text,
) -> RunResult:
    """`run` for one file's content held in memory (standard input, an editor's buffer), as if
    it were at path; other files are read with ``read_text``."""
    return Engine(kb, config, selection, cwd, read_text=read_text).run_text(path, data, kind)


def setups_in(
    path: Path, kb: Knowledge, config: Config, gpu: str | None = None
) -> tuple[list[tuple[Setup, Resolution]], list[FileError]]:
    """The setups the extractors recognise in one file, each resolved exactly as `check` resolves
    it (GPU option or config, models table, pins read from that file), and the file's ECO001
    errors. For `ecolint explain`; runs no rule."""
    engine = Engine(kb, config, Selection(codes=[], gpu=gpu))
    result = RunResult()
    return _resolved_setups(engine, engine.analyse([path], result), result)


def setups_in_text(
    path: Path,
    data: bytes,
    kb: Knowledge,
    config: Config,
    gpu: str | None = None,
    cwd: Path | None = None,
    read_text: Callable[[Path], str | None] = read_text,
) -> tuple[list[tuple[Setup, Resolution]], list[FileError]]:
    """`setups_in` for one file's content held in memory (an editor's buffer), as if it were
    the file at ``path`` (as run_text reads it)."""
    engine = Engine(kb, config, Selection(codes=[], gpu=gpu), cwd, read_text=read_text)
    return _resolved_setups(engine, engine.analyse_text(path, data), RunResult())


def _resolved_setups(
    engine: Engine, analysed: list[tuple[FileWork, FileOutcome]], result: RunResult
) -> tuple[list[tuple[Setup, Resolution]], list[FileError]]:
    found: list[tuple[Setup, Resolution]] = []
    for item, outcome in analysed:
        if outcome.error is not None:
            result.errors.append(outcome.error)
        found.extend((setup, engine.resolution(setup, item.path)) for setup in outcome.setups)
    return found, sorted(result.errors)


# A Makefile or Markdown file of the run's walk: no kind of the run, kept for the invocation pass
# alone, which reads its recipes or fenced shell blocks (ecolint/invocations.py)
_INVOCATION_ONLY = (discover.MAKEFILE, discover.MARKDOWN)


def _may_be_read(name: str) -> bool:
    """The run's walk keeps what the file kinds may read, and the invocation pass's own files."""
    return discover.may_be_read(name) or discover.may_be_read_by_invocations(name)


def _root_files(paths: list[Path], root: Path, walked: list[FileWork] | None) -> list[Path] | None:
    """The files below the project root the invocation pass looks at, from the run's walk when
    that walk was of the project root alone (paths under root, as a walk of root names them);
    None when it was not (the pass walks root itself)."""
    from ecolint import invocations

    if walked is None or len(paths) != 1 or paths[0].resolve() != root:
        return None
    # string slicing, not pathlib: one path per file of those kinds
    top = os.fspath(paths[0])
    prefix = "" if top == "." else top.rstrip(os.sep) + os.sep
    base = os.fspath(root).rstrip(os.sep) + os.sep
    kinds = (*invocations.KINDS, *_INVOCATION_ONLY)
    files: list[Path] = []
    for item in walked:
        if item.kind in kinds:
            path = os.fspath(item.path)
            if not path.startswith(prefix) if prefix else os.path.isabs(path):
                return None  # not named from the path given (cannot happen with one path)
            files.append(Path(base + path[len(prefix) :]))
    return files


def _settings(config: Config) -> str:
    """The configuration as the cache keys it: a changed setting starts a new cache file (the
    cache's own directory aside, which says where it is, not what it holds)."""
    from dataclasses import replace

    return repr(replace(config, cache_dir=None))


def _relative_to(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _glob(path: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") or path.startswith(pattern + "/")
