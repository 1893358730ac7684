"""The whole-run memo: `ecolint check` run again on a tree where nothing it reads has changed
prints what the last such run printed, before anything heavy is imported.

A warm run's own work is small (the extraction cache answers every file from a stat), but
Python's start-up and the imports of a run (click, the rules, YAML, libcst) are not: ruff's warm
run costs its start-up alone, and this is how ecolint's comes close. The console entry point
(``main``, also ``python -m ecolint``) looks, before importing the command line, for a memo of
a run with

- the same ecolint (version, package directory), Python and interpreter;
- the same command line and working directory, and the same environment where it changes what
  a run prints (``ECOLINT_*``, ``NO_COLOR``, ``FORCE_COLOR``, ``CI``, ``TERM``, the locale and
  ``PYTHONIOENCODING``, …), standard output and error being terminals or not, and their
  encodings;

and uses it only while the file system still gives every answer its witness recorded
(ecolint/witness.py): the configuration files looked for on the way up and the project root's
``.git``, the baseline file, the walk (each directory listed, .gitignore, link), every file
walked, everything the extractors and the invocation pass consulted, and ecolint's own code and
rules/. Then it writes the recorded standard output and error, byte for byte and in their
order, and exits with the recorded code.

Otherwise the run goes ahead with its output recorded as it is written; `check` hands over what
its result rests on when it ends (``offer``), and the memo is kept when that is complete and
settled (no stamp as recent as the run: a file changed while the run read it is not vouched
for). Never memoised: a run that writes files (``--fix``, ``--diff``, ``--add-ignore``,
``--write-baseline``, ``--output``, ``--*-output``), reads standard input, has the cache off
(``--no-cache``, ``ECOLINT_NO_CACHE`` set to anything), a command other than `check`, a run
that ends with an error (exit 2) or showed a progress line, a run on anything but one path that
is its project's root (elsewhere the project pass reads files the run does not walk), and one
whose configuration sets ``cache-dir`` (the memo is looked for before the configuration is
read: ``--cache-dir`` or ``ECOLINT_CACHE_DIR`` serve instead).

Kept as ``run-*.memo`` (Python's ``marshal`` format: read without parsing text, and the key
names the interpreter that wrote it) in the cache directory (``.ecolint_cache/`` at the project root,
``--cache-dir``, ``ECOLINT_CACHE_DIR``), the last ``KEEP`` of them; a directory that does not
exist or cannot be written is left alone, and nothing here ever fails a run. This module
imports only what Python's start-up already has (``marshal``, ``zlib``).
"""

from __future__ import annotations

import io
import os
import sys
import time

from ecolint import __version__
from ecolint.roots import config_file, project_root
from ecolint.witness import Witness

TYPE_CHECKING = False  # typing itself costs a few ms of a warm run's start
if TYPE_CHECKING:
    from typing import Any

FORMAT = 2
KEEP = 8  # memos kept per cache directory: one per command line used lately
COMMANDS = frozenset({"rule", "rules", "advise", "compare", "explain", "lsp", "mcp"})
# `check`'s options that take a value, and its flags: what a command line is read with here,
# before click is imported (a test keeps both equal to cli.py's)
VALUE_OPTIONS = frozenset(
    {
        "--format",
        "--output-format",
        "--color",
        "--fail-on",
        "--min-confidence",
        "--baseline",
        "--gpu",
        "--select",
        "--extend-select",
        "--ignore",
        "--exclude",
        "--extend-exclude",
        "--per-file-ignores",
        "--cache-dir",
        "--config",
    }
)
FLAG_OPTIONS = frozenset(
    {
        "--statistics",
        "--force-exclude",
        "--no-force-exclude",
        "--respect-gitignore",
        "--no-respect-gitignore",
        "--isolated",
        "--report-unused-ignores",
        "--exit-zero",
    }
)
# what makes a run write files, read standard input, skip the cache or print help: not memoised
NEVER = frozenset(
    {
        "-o",
        "--output",
        "--json-output",
        "--sarif-output",
        "--gitlab-output",
        "--junit-output",
        "--rdjson-output",
        "--write-baseline",
        "--stdin-filename",
        "--no-cache",
        "--add-ignore",
        "--fix",
        "--unsafe-fixes",
        "--diff",
        "-h",
        "--help",
        "--version",
    }
)
# The environment variables that change what a run prints (besides every ECOLINT_* one).
ENVIRONMENT = (
    "CI",
    "CI_PROJECT_DIR",
    "COLUMNS",
    "FORCE_COLOR",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LINES",
    "NO_COLOR",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONPATH",
    "PYTHONUTF8",
    "TERM",
)
# the libraries whose code decides what a run prints, besides ecolint's own and Python's
LIBRARIES = ("click", "libcst", "pathspec", "sarif_om", "tomlkit", "yaml")


class _Plan:
    """Where a run's memo is and what it is keyed by, from the command line and the file system
    alone; ``witness``: what was looked at to find the configuration and the project root."""

    def __init__(self, directory: str, key: list[Any], witness: Witness, started: int) -> None:
        self.directory = directory
        self.key = key
        self.witness = witness
        self.started = started
        self.file = os.path.join(directory, f"run-{_digest(key)}.memo")


class _Recording:
    """The run's standard output and error as they are written: (1 or 2, bytes) in order."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.chunks: list[list[Any]] = []
        self.rests_on: dict[str, Any] | None = None
        self.forgone = False  # it showed what a replay would not (a progress line)
        self.streams = (sys.stdout, sys.stderr)
        sys.stdout = _tee(sys.stdout, 1, self.chunks)
        sys.stderr = _tee(sys.stderr, 2, self.chunks)

    def close(self) -> None:
        import contextlib

        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = self.streams


_recording: _Recording | None = None


def main() -> None:
    """The console entry point: a memo's output when one holds, else the command line."""
    plan = _planned(sys.argv[1:])
    if plan is not None:
        _replay(plan)
    global _recording
    recording = _start(plan)
    _recording = recording
    code: Any = None  # only an exit the command line chose is replayed
    try:
        from ecolint.cli import main as command_line

        command_line()
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        _recording = None
        if recording is not None:
            recording.close()
            if code in (0, 1) and recording.rests_on is not None and not recording.forgone:
                _keep(recording, code)


def offer(cache_dir: Any, rests_on: dict[str, Any] | None) -> None:
    """`check`, as it ends: what its findings rest on (``RunResult.rests_on``), and the cache
    directory it used; the memo is kept only where the entry point looked for it."""
    if _recording is None or rests_on is None or cache_dir is None:
        return
    if os.path.abspath(os.fspath(cache_dir)) != os.path.abspath(_recording.plan.directory):
        return  # a cache-dir the light reading of the command line did not see
    _recording.rests_on = rests_on


def forgo() -> None:
    """This run shows something a replay must not (a progress line): no memo of it."""
    if _recording is not None:
        _recording.forgone = True


def _planned(argv: list[str]) -> _Plan | None:
    try:
        return _plan(argv, os.environ, os.getcwd(), time.time_ns())
    except Exception:  # noqa: BLE001 - the memo is a shortcut: anything odd means the normal run
        return None


def _plan(argv: list[str], env: Any, cwd: str, started: int) -> _Plan | None:
    """The memo of a `check` command line, or None for one that is never memoised."""
    if "ECOLINT_NO_CACHE" in env or sys.stdout is None or sys.stderr is None:
        return None
    if os.name == "nt" and (sys.stdout.isatty() or sys.stderr.isatty()):
        return None  # click writes to a Windows console through its own API, not the stream
    read = _read_command_line(argv)
    if read is None:
        return None
    values, flags, paths = read
    if len(paths) > 1:
        return None  # one path, the project's root, alone has a witness (ecolint/engine.py)
    target = paths[0] if paths else "."
    witness = Witness()
    config = None if "--isolated" in flags else values.get("--config") or config_file(target, witness)
    if config is not None:
        witness.node(config)
    directory = values.get("--cache-dir") or env.get("ECOLINT_CACHE_DIR") or None
    if directory is None and config is not None and _sets_cache_dir(config):
        return None
    root = project_root(target, config, cwd, witness)
    directory = directory or os.path.join(root, ".ecolint_cache")
    if "--baseline" in values:
        witness.node(values["--baseline"])
    return _Plan(directory, _key(argv, env, cwd), witness, started)


def _read_command_line(argv: list[str]) -> tuple[dict[str, str], set[str], list[str]] | None:
    """(the options with values, the flags, the paths) of a `check` command line, read as click
    reads it; None for another command or anything never memoised."""
    args = list(argv)
    if args and args[0] == "check":
        args = args[1:]
    elif args and args[0] in COMMANDS:
        return None
    values: dict[str, str] = {}
    flags: set[str] = set()
    paths: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word in ("-", "--"):
            return None
        if not word.startswith("-"):
            paths.append(word)
            continue
        name, equals, value = word.partition("=")
        if name in NEVER or not name.startswith("--"):
            return None  # short options: -o and -h, both never memoised
        if name in FLAG_OPTIONS and not equals:
            flags.add(name)
        elif name in VALUE_OPTIONS:
            if not equals:
                if index >= len(args):
                    return None
                value, index = args[index], index + 1
            values[name] = value
        else:
            return None
    return values, flags, paths


def _sets_cache_dir(config: str) -> bool:
    try:
        with open(config, encoding="utf-8") as handle:
            return "cache-dir" in handle.read()
    except (OSError, UnicodeDecodeError):
        return True


def _key(argv: list[str], env: Any, cwd: str) -> list[Any]:
    names = sorted(name for name in env if name.startswith("ECOLINT_") or name in ENVIRONMENT)
    streams = [[stream.isatty(), stream.encoding, stream.errors] for stream in (sys.stdout, sys.stderr)]
    package = os.path.dirname(os.path.abspath(__file__))
    return [FORMAT, __version__, package, sys.version, sys.executable, cwd, argv, [[n, env[n]] for n in names], streams]


def _digest(key: list[Any]) -> str:
    import marshal
    import zlib

    data = marshal.dumps(key)
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _replay(plan: _Plan) -> None:
    """Write a memo's output and exit with its code, when one holds."""
    import marshal

    try:
        with open(plan.file, "rb") as handle:
            memo = marshal.loads(handle.read())  # marshal.load reads a file in small pieces: 8x slower
        if memo.get("key") != plan.key or not Witness(memo["witness"]).holds():
            return
        output = [(int(number), bytes(data)) for number, data in memo["output"]]
        code = int(memo["code"])
    except Exception:  # noqa: BLE001 - a missing or damaged memo is a miss
        return
    try:
        for number, data in output:
            stream = sys.stdout if number == 1 else sys.stderr
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()
    except BrokenPipeError:  # as click does when the reader has gone (`ecolint . | head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open for the interpreter's exit
        sys.exit(1)
    sys.exit(code)


def _start(plan: _Plan | None) -> _Recording | None:
    if plan is None:
        return None
    try:
        if not (hasattr(sys.stdout, "buffer") and hasattr(sys.stderr, "buffer")):
            return None
        return _Recording(plan)
    except Exception:  # noqa: BLE001 - no recording, no memo: the run itself goes on
        return None


def _keep(recording: _Recording, code: int) -> None:
    """Write the memo, when what the run rests on is all named and settled; never an error."""
    try:
        _write(recording, code)
    except Exception:  # noqa: BLE001 - a memo that cannot be written is no memo
        return


def _write(recording: _Recording, code: int) -> None:
    import marshal
    import tempfile

    plan = recording.plan
    if recording.rests_on is None or not os.path.isdir(plan.directory) or not os.access(plan.directory, os.W_OK):
        return  # no cache directory made by the run (nothing to keep), or a read-only one
    witness = Witness(dict(plan.witness.answers))
    for key, answer in recording.rests_on.items():
        if witness.answers.setdefault(key, answer) != answer:
            return  # the file system answered differently before the run and during it
    _note_code(witness)
    if not witness.settled(plan.started) or not _none_removed(recording.rests_on, plan.started):
        return
    output = [[number, data] for number, data in _merged(recording.chunks)]
    memo = {"key": plan.key, "witness": witness.answers, "output": output, "code": code}
    handle, temporary = tempfile.mkstemp(dir=plan.directory, prefix=".run-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            marshal.dump(memo, out)
        os.replace(temporary, plan.file)
    except BaseException:
        os.unlink(temporary)
        raise
    _prune(plan.directory)


def _note_code(witness: Witness) -> None:
    """ecolint's own code and rules/ (every file and directory: a rule module added is picked
    up by the registry), and the files of the libraries loaded that decide what is printed."""
    from ecolint.knowledge import rules_dir

    for top in (os.path.dirname(os.path.abspath(__file__)), os.fspath(rules_dir())):
        for directory, subdirectories, files in os.walk(top):
            subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
            witness.node(directory)
            for name in sorted(files):
                witness.node(os.path.join(directory, name))
    for name in LIBRARIES:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if origin:
            witness.node(origin)


def _none_removed(answers: dict[str, Any], since_ns: int) -> bool:
    """Whether no path the run's own witness found missing (stamped after the run read it) was
    removed while the run read it: its directory would show the change. The directory is not
    kept in the witness: a busy one (/tmp, a home) would make every memo miss. The paths the
    entry point looked at before the run, and the walk's kinds (.git on the way up), need no
    such test."""
    checked: dict[str, bool] = {}
    for key, answer in answers.items():
        if key[0] == "n" and answer is None:
            directory = _nearest_directory(key[1:])
            if directory not in checked:
                probe = Witness()
                probe.node(directory)
                checked[directory] = probe.settled(since_ns)
            if not checked[directory]:
                return False
    return True


def _nearest_directory(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(directory) and os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
    return directory


def _merged(chunks: list[list[Any]]) -> list[tuple[int, bytes]]:
    """Consecutive writes to the same stream as one."""
    merged: list[tuple[int, bytes]] = []
    for number, data in chunks:
        if merged and merged[-1][0] == number:
            merged[-1] = (number, merged[-1][1] + data)
        else:
            merged.append((number, bytes(data)))
    return merged


def _prune(directory: str) -> None:
    """Only the newest ``KEEP`` memos stay."""
    memos = []
    for entry in os.scandir(directory):
        if entry.name.startswith("run-") and entry.name.endswith(".memo"):
            memos.append((entry.stat().st_mtime_ns, entry.path))
    for _, path in sorted(memos, reverse=True)[KEEP:]:
        os.unlink(path)


class _Tee(io.RawIOBase):
    """A standard stream's bytes, written through to it and noted in ``chunks``."""

    def __init__(self, target: Any, number: int, chunks: list[list[Any]]) -> None:
        super().__init__()
        self.target = target
        self.number = number
        self.chunks = chunks

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        written = self.target.write(data)
        self.chunks.append([self.number, data])
        return len(data) if written is None else int(written)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return bool(self.target.isatty())

    def fileno(self) -> int:
        return int(self.target.fileno())


def _tee(stream: Any, number: int, chunks: list[list[Any]]) -> io.TextIOWrapper:
    """A text stream like ``stream`` (encoding, errors, line buffering) over a ``_Tee`` of its
    bytes."""
    stream.flush()
    return io.TextIOWrapper(
        _Tee(stream.buffer, number, chunks),  # type: ignore[arg-type]
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=True,
    )
