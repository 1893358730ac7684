"""The extraction cache: what extraction found in a file, reused while the file and everything
its extraction consulted are unchanged. Like ruff's, it is on by default for `ecolint check`, in
``.ecolint_cache/`` at the project root (``--cache-dir`` / ``cache-dir`` move it, ``--no-cache``
turns it off); nothing else that runs the engine (explain, stdin, a server) uses it.

A file's setups depend on its bytes and on the answers to what its extractor asked the tree
(another file's text, whether a file exists, a directory's names: ``ExtractContext``). An entry
keeps the file's mtime and size, its content hash, and those questions with their answers; it is
used only when the mtime and size match (or, when they do not, the hash does) and every question
still gets the same answer. Findings are never cached: rules,
configuration and GPU options run fresh on every run, and so do the tree's version pins (each
entry keeps its file's pins; a changed requirements file or pyproject is re-read by its stamp).
So anything one file's setups take from another file (an imported constant, a .env, the values
that name a KubeAI profile's GPU, a platform file that runs the script) must be asked through
``ExtractContext``, whose answers an entry records, or be joined after extraction, as
resolution is: an entry is only as fresh as what it recorded.

One JSON file per (ecolint build, Python version, knowledge files, configuration, scan root,
working directory): a new version of ecolint's code or rules/, of Python's parser, or a changed
setting starts a new file. A directory ecolint creates gets a ``CACHEDIR.TAG`` (backup tools skip
it) and a ``.gitignore`` of ``*``; a directory it may not write to (CI restoring a cache read-only)
is read and left alone.

The same file keeps the project passes, rebuilt on every run, by what they rest on: what the
invocation pass found each shell, Dockerfile and YAML file runs (by the file's stamp and what it
consulted), each Python file's loader helpers (by its stamp), and the walk: the files it found
with the answers of every question it asked the file system (``witness.Witness``).

The same directory keeps rules/evidence.yaml's blocks parsed, as JSON
named by their text's hash (ecolint/knowledge.py), so a run with findings skips the YAML parse.
JSON, never pickle, so a cache
cannot run code; it is trusted to say what a file holds, so it belongs to one machine and is
not committed (a cache from someone else could hide a finding).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecolint import __version__
from ecolint.extract import ExtractContext
from ecolint.finding import FileError
from ecolint.setups import SCRIPT_ARGS, SCRIPT_ENV, Fact, Location, Setup

# 2: entries carry the file's (mtime, size) stamp; 3: and whether it has an ignore comment;
# 4: and the project passes' findings
FORMAT = 4
PASSES = ("invocations", "modules", "walk")  # the project passes whose findings are kept
# https://bford.info/cachedir/ : the signature backup tools look for (ruff writes the same file)
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by ecolint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


class ExtractionCache:
    def __init__(self, directory: Path, root: Path, cwd: Path, settings: str = "") -> None:
        self.file = directory / f"extract-{_identity(root, cwd, settings)}.json"
        self.cwd = cwd  # entries are keyed by display path: relative to it, or absolute
        self.entries, self.passes = _load(self.file)
        self._answers: dict[tuple[str, str], object] = {}  # questions already re-asked this run
        # The project passes' files, by path: what the invocation pass found each one runs
        # (ecolint/invocations.py), and the loader helpers each Python file defines
        # (ecolint/extract/python/modules.py). Each pass looks at all its files on every run:
        # this run's entries are all there are.
        self._passes_now: dict[str, dict[str, Any]] = {name: {} for name in PASSES}
        # the invocation pass asks its questions through its own context: its own memo of answers
        self._invocation_answers: dict[tuple[str, str], object] = {}
        # a file of the invocation pass whose reads could not be recorded: nothing rests on this run
        self.unrecorded = False

    def invocations_in(self, path: str, stamp: tuple[int, int], context: ExtractContext) -> list[Setup] | None:
        """What the invocation pass found in a file last time, if its (mtime, size) and what it
        consulted are unchanged."""
        known = self.passes["invocations"].get(path)
        if not isinstance(known, dict) or known.get("stamp") != list(stamp):
            return None
        try:
            consulted = known["consulted"]
            if not isinstance(consulted, list) or not all(
                self._still(question, context, self._invocation_answers) for question in consulted
            ):
                return None
            found = [_setup_from(item, _words_from) for item in known["setups"]]
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a failure
            return None
        self._passes_now["invocations"][path] = known
        return found

    def keep_invocations(
        self, path: str, stamp: tuple[int, int], consulted: list[tuple[str, str, object]] | None, setups: list[Setup]
    ) -> None:
        """Note what the invocation pass found in a file, for the next run (nothing when it would
        not read back the same)."""
        if consulted is None or any(what == "unknown" for what, _, _ in consulted):
            self.unrecorded = True
            return
        record = {
            "stamp": list(stamp),
            "consulted": [list(question) for question in consulted],
            "setups": [_setup_json(setup, _words_json) for setup in setups],
        }
        try:
            record = json.loads(json.dumps(record))
            if [_setup_from(item, _words_from) for item in record["setups"]] != setups:
                self.unrecorded = True
                return
        except (TypeError, ValueError):
            self.unrecorded = True
            return
        self._passes_now["invocations"][path] = record

    def walk_of(self, key: str) -> tuple[list[tuple[str, str, str, bool]], list[tuple[str, str]]] | None:
        """The files the last walk with these settings found ((path, display, kind, explicit))
        and the problems it met, if the file system still answers what that walk asked."""
        known = self.passes["walk"].get(key)
        if not isinstance(known, dict):
            return None
        from ecolint.witness import Witness

        try:
            if not isinstance(known["witness"], dict) or not Witness(known["witness"]).holds():
                return None
            files = [
                (str(path), str(display), str(kind), bool(explicit)) for path, display, kind, explicit in known["files"]
            ]
            problems = [(str(display), str(problem)) for display, problem in known["problems"]]
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a failure
            return None
        self._passes_now["walk"][key] = known
        return files, problems

    def keep_walk(
        self,
        key: str,
        witness: dict[str, Any],
        files: list[tuple[str, str, str, bool]],
        problems: list[tuple[str, str]],
    ) -> None:
        record = {"witness": witness, "files": [list(item) for item in files], "problems": [list(p) for p in problems]}
        try:
            self._passes_now["walk"][key] = json.loads(json.dumps(record))
        except (TypeError, ValueError):
            return

    def witness(self, files: list[tuple[str, str]], updates: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """What a run that walked ``files`` ((path, display)) rests on, for the whole-run memo
        (ecolint/memo.py): its walk's answers, every file's stamps, and the stamps of whatever
        the files' extractions and the invocation pass consulted (a question about the project
        pass's indexes is answered from the files, all stamped). None when this run kept no walk
        (its stamps were too recent) or something it read went unrecorded."""
        from ecolint.witness import Witness

        walks = list(self._passes_now["walk"].values())
        if len(walks) != 1 or self.unrecorded:
            return None
        witness = Witness(dict(walks[0]["witness"]))
        consulted: list[Any] = []
        for path, display in files:
            witness.node(path)
            known = updates.get(display) or self.entries.get(display)
            if isinstance(known, dict):
                consulted.extend(known.get("consulted") or [])
        for record in self._passes_now["invocations"].values():
            consulted.extend(record.get("consulted") or [])
        for question in consulted:
            what, path = str(question[0]), str(question[1])
            if what in ("read", "file") or what.startswith("dir"):
                witness.node(path)
            elif what not in ("invocations", "helpers"):
                return None  # a question this method cannot stamp
        return witness.answers

    def helpers_in(self, path: str, stamp: tuple[int, int]) -> list[str] | None:
        """The loader helpers a Python file defined last time, if its (mtime, size) are unchanged
        (they come from its bytes alone)."""
        known = self.passes["modules"].get(path)
        if not isinstance(known, dict) or known.get("stamp") != list(stamp):
            return None
        helpers = known.get("helpers")
        if not isinstance(helpers, list) or not all(isinstance(name, str) for name in helpers):
            return None
        self._passes_now["modules"][path] = known
        return helpers

    def keep_helpers(self, path: str, stamp: tuple[int, int], helpers: list[str]) -> None:
        self._passes_now["modules"][path] = {"stamp": list(stamp), "helpers": helpers}

    def lookup_stamp(
        self, display: str, stamp: tuple[int, int] | None, context: ExtractContext
    ) -> dict[str, Any] | None:
        """The entry for a file whose mtime and size are those recorded, if what it consulted
        is unchanged (no hash of its bytes needed)."""
        entry = self.entries.get(display)
        if stamp is None or not isinstance(entry, dict) or entry.get("stamp") != list(stamp):
            return None
        return self._consulted_unchanged(entry, context)

    def lookup(self, display: str, digest: str, context: ExtractContext) -> dict[str, Any] | None:
        """The entry for a file, if its bytes and what it consulted are unchanged."""
        entry = self.entries.get(display)
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            return None
        return self._consulted_unchanged(entry, context)

    def _consulted_unchanged(self, entry: dict[str, Any], context: ExtractContext) -> dict[str, Any] | None:
        consulted = entry.get("consulted")
        if not isinstance(consulted, list) or not all(self._still(question, context) for question in consulted):
            return None
        return entry

    def _still(
        self, question: object, context: ExtractContext, answers: dict[tuple[str, str], object] | None = None
    ) -> bool:
        """Whether a question an extraction asked gets the same answer now (each question is
        asked once per run: many files consult the same .env or package)."""
        if not isinstance(question, list) or len(question) != 3 or not isinstance(question[1], str):
            return False
        answers = self._answers if answers is None else answers
        what, path, answer = question
        key = (str(what), path)
        if key not in answers:
            answers[key] = context.answer(str(what), Path(path))
        return answers[key] == answer

    def save(self, updates: dict[str, dict[str, Any]]) -> None:
        """Write the entries back with this run's updates; atomically, so a reader never sees
        half a file and two runs at once leave one of their versions."""
        if not updates and self._passes_now == self.passes:
            return
        directory = self.file.parent
        if not os.access(_nearest_existing(directory), os.W_OK):
            return  # a read-only cache (restored in CI), or a read-only checkout: used, never written
        # Entries of files that are gone go with the next write (one stat per cached file).
        kept = {
            path: entry for path, entry in self.entries.items() if path not in updates and (self.cwd / path).is_file()
        }
        merged = {**kept, **updates}
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            # as ruff does: git never offers the cache for a commit, backups skip it (only in a
            # directory made here: `--cache-dir .` must not ignore a whole repository)
            (directory / ".gitignore").write_text(
                "# Created by ecolint: this directory is a cache.\n*\n", encoding="utf-8"
            )
            (directory / "CACHEDIR.TAG").write_text(CACHEDIR_TAG, encoding="utf-8")
        import tempfile  # here: a warm run that changes nothing never writes

        handle, temporary = tempfile.mkstemp(dir=self.file.parent, prefix=".extract-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                document = {"format": FORMAT, "entries": merged, **self._passes_now}
                json.dump(document, out, sort_keys=True, separators=(",", ":"))
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a cache need not be
            os.replace(temporary, self.file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _nearest_existing(directory: Path) -> Path:
    """The directory, or the closest of its parents that exists (where it would be made)."""
    for candidate in (directory, *directory.parents):
        if candidate.is_dir():
            return candidate
    return directory


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def entry(
    digest: str,
    stamp: tuple[int, int] | None,
    consulted: list[tuple[str, str, object]],
    setups: list[Setup],
    error: FileError | None,
    parsed: bool,
) -> dict[str, Any] | None:
    """A cache entry for one file's extraction, or None when it would not read back the same
    (a value JSON cannot carry) or depends on something unknown."""
    if any(what == "unknown" for what, _, _ in consulted):
        return None
    record = {
        "digest": digest,
        "stamp": None if stamp is None else list(stamp),
        "consulted": [list(question) for question in consulted],
        "setups": [_setup_json(setup) for setup in setups],
        "error": None if error is None else [error.path, error.line, error.message],
        "parsed": parsed,
    }
    try:
        record = json.loads(json.dumps(record))
    except (TypeError, ValueError):
        return None
    if setups_from(record) != setups:
        return None
    return record


def setups_from(record: dict[str, Any]) -> list[Setup]:
    return [_setup_from(item) for item in record["setups"]]


def error_from(record: dict[str, Any]) -> FileError | None:
    error = record.get("error")
    return None if error is None else FileError(error[0], error[1], error[2])


def _identity(root: Path, cwd: Path, settings: str) -> str:
    """What an entry's meaning depends on besides the file: ecolint's own code and knowledge
    files (a new version, or any of them edited), the parser (Python's version), the
    configuration, and where the scan runs (display paths and lookups depend on both)."""
    from ecolint.knowledge import rules_dir

    digest = hashlib.blake2b(digest_size=12)
    for part in (str(FORMAT), __version__, sys.version, settings, str(root), str(cwd)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    package = Path(__file__).resolve().parent
    for base, pattern in ((package, "*.py"), (rules_dir(), "*")):
        for source in sorted(base.rglob(pattern)):
            # each file's (mtime, size), as entries are stamped, not its bytes: reading ecolint's
            # own source on every run cost more than the rest of a warm run's cache work
            status = source.stat()
            if stat.S_ISREG(status.st_mode):
                stamp = f"{status.st_mtime_ns}:{status.st_size}"
                digest.update(source.relative_to(base).as_posix().encode() + b"\0" + stamp.encode() + b"\0")
    return digest.hexdigest()


def _load(file: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The entries of a cache file and its project passes'; a missing, unreadable or foreign
    one is an empty cache."""
    empty: tuple[dict[str, Any], dict[str, dict[str, Any]]] = {}, {name: {} for name in PASSES}
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("entries"), dict)
        or not all(isinstance(document.get(name), dict) for name in PASSES)
    ):
        return empty
    return document["entries"], {name: document[name] for name in PASSES}


def _location_json(location: Location | None) -> list[Any] | None:
    if location is None:
        return None
    return [location.path, location.line, location.column, location.end_line, location.end_column]


def _location_from(data: list[Any] | None) -> Location | None:
    return None if data is None else Location(*data)


def _setup_json(setup: Setup, value_json: Callable[[str, Any], Any] = lambda _, value: value) -> dict[str, Any]:
    data = {
        "framework": setup.framework,
        "origin": _location_json(setup.origin),
        "facts": {
            name: [value_json(name, fact.value), _location_json(fact.location), fact.how]
            for name, fact in setup.facts.items()
        },
        "label": setup.label,
        "kind": setup.kind,
    }
    if setup.through is not None:  # a setup made at a call site through another module's helper
        data["through"] = _location_json(setup.through)
    if setup.via:
        data["via"] = [_location_json(span) for span in setup.via]
        data["reached"] = [_location_json(where) for where in setup.reached]
    return data


def _setup_from(data: dict[str, Any], value_from: Callable[[str, Any], Any] = lambda _, value: value) -> Setup:
    origin = _location_from(data["origin"])
    assert origin is not None
    facts = {
        name: Fact(value_from(name, value), _location_from(location), how)
        for name, (value, location, how) in data["facts"].items()
    }
    via = tuple(span for span in (_location_from(item) for item in data.get("via", ())) if span is not None)
    reached = tuple(where for where in (_location_from(item) for item in data.get("reached", ())) if where is not None)
    through = _location_from(data.get("through"))
    return Setup(data["framework"], origin, facts, data["label"], data["kind"], through, via, reached)


def _words_json(name: str, value: Any) -> Any:
    """An invocation's argument words (Toks) as [text, location] pairs; the environment it sets
    ((name, value) pairs) as lists."""
    if name == SCRIPT_ENV and isinstance(value, tuple):
        return [list(pair) for pair in value]
    if name != SCRIPT_ARGS or not isinstance(value, tuple):
        return value
    return [[word.text, _location_json(word.loc)] for word in value]


def _words_from(name: str, value: Any) -> Any:
    if name == SCRIPT_ENV and isinstance(value, list):
        return tuple(tuple(pair) for pair in value)
    if name != SCRIPT_ARGS or not isinstance(value, list):
        return value
    from ecolint.extract.launchers.vocab import Tok

    return tuple(Tok(text, _location_from(location)) for text, location in value)
