"""The invocation index: which file of the project runs which Python script of it, with which
arguments and on which GPU (a project pass, before the Python files' extraction; ecolint/engine.py
makes it on its workers in chunks of files, ``invocations_in``, joined by ``index``).

A shell script's ``python serve.py --int8``, a Dockerfile's ``CMD ["python", "/app/serve.py"]``
(mapped to the repository through ``WORKDIR`` and ``COPY``), a compose ``command:``, a Kubernetes
``args:``, a workflow ``run:``, a SkyPilot or dstack script, a Makefile recipe (its recipe lines
read as shell, ``$(VAR)`` left unresolved), ``uvicorn``/``gunicorn pkg.app:app`` (the module,
with no arguments of its own): the container readers already turn
each into argv and stamp the platform's GPU on what it runs, so the pass runs them with
``collecting_invocations()`` on, and keeps the ``INVOCATION`` setups they return. The Python reader
then applies each invocation's arguments to the script's CLI parameters
(ecolint/extract/python/invoked.py).

A script path is resolved from the invoking file's directory and from the project root; where
both name an existing, different file, the link is ambiguous and not made.

After the audit, the findings that a script's defaults and its invocations (or several
invocations) give at one line with the same verdict make one finding that names every command
(``one_finding_per_verdict``): a fingerprint that depends on no order, and one thing to read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ecolint import discover
from ecolint.extract import ExtractContext, load_extractor, notebook
from ecolint.extract.launchers.detect import collecting_invocations
from ecolint.extract.launchers.vocab import Tok
from ecolint.setups import GPU, IMAGE, INVOCATION, INVOKED_SCRIPT, SCRIPT_ARGS, SCRIPT_ENV, Fact, Location, Setup

if TYPE_CHECKING:
    from ecolint.finding import Finding

KINDS = ("shell", "dockerfile", "yaml", "notebook")  # the kinds of file that can run a script
# Makefiles are no file kind of the run (their recipes hold no setup today): the pass alone
# reads their recipes, as shell (makefile_recipes).
_MAKEFILE = discover.MAKEFILE
# Nor are Markdown files: the pass reads their fenced shell blocks, the commands a README or an
# EVALUATION.md says to run (markdown_commands).
_MARKDOWN = discover.MARKDOWN
_NOTEBOOK = "notebook"  # its shell escapes: `!python app.py --load_in_8bit` (shell_commands)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")
# A fence's info string that says shell, or none (a README's plain ``` block of commands).
_SHELL_FENCES = frozenset({"", "bash", "sh", "shell", "console", "zsh", "shell-session", "sh-session"})
_MAKE_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_MAKE_ASSIGNMENT = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|::=|:=|\+=|=)\s*(.*)$")
_INVOKED_BY = "invoked by "
_ALSO = "also "
# The clause a finding of the defaults' setup carries (ecolint/checks: "with --quant's default").
_DEFAULTS_CLAUSE = re.compile(r" \(with [^()]*'s default\)")
_MAX_BYTES = 1 << 20
# A YAML document separator line (kept, with its line break, by re.split's group).
_YAML_DOCUMENT = re.compile(r"(^---[^\n]*\n)", re.MULTILINE)
# A file that runs a script names the interpreter and, a few words later, the script or `-m`
# (over line ends: a YAML list writes one word a line).
_RUNS_A_SCRIPT = re.compile(rb"(?:python[0-9.]*|torchrun|accelerate|deepspeed)\b[\s\S]{0,300}?(?:\.py\b|\s-m\b)")
# An ASGI/WSGI server names the app as module:attribute. (Apart: one alternation of both
# patterns loses the regex engine's literal-prefix scan, 4-5x slower on a large tree.)
_RUNS_AN_APP = re.compile(rb"(?:uvicorn|gunicorn)\b[\s\S]{0,300}?[\w.]:[A-Za-z_]")


@dataclass(frozen=True)
class Invocation:
    """One command line running a script: its arguments after the script, where the command is,
    the GPU its platform states (the fact as the platform reader stamped it), and the container
    image it runs in (a ROCm or XPU image: the script's setups run on that hardware)."""

    args: tuple[Tok, ...]
    where: Location
    gpu: Fact | None = None
    image: Fact | None = None
    env: tuple[tuple[str, str], ...] = ()  # the environment the command sets, values known

    @property
    def name(self) -> str:
        return f"{self.where.path}:{self.where.line}"


class Memo(Protocol):
    """What the pass found in a file, kept between runs (the extraction cache, ecolint/cache.py):
    a file whose (mtime, size) and consulted files are unchanged is not read again."""

    def invocations_in(self, path: str, stamp: tuple[int, int], context: ExtractContext) -> list[Setup] | None: ...

    def keep_invocations(
        self, path: str, stamp: tuple[int, int], consulted: list[tuple[str, str, Any]] | None, setups: list[Setup]
    ) -> None: ...


def invocations(
    project_root: Path,
    *,
    excludes: list[str] | None = None,
    respect_gitignore: bool = True,
    cwd: Path | None = None,
    files: Iterable[Path] | None = None,
    memo: Memo | None = None,
) -> dict[str, list[Invocation]]:
    """Resolved script path (str) → its invocations, sorted by where they are. ``files``: the
    project root's ``candidates`` when a walk of it was already made (else it is walked here)."""
    if files is None:
        files = candidates(project_root, excludes=excludes, respect_gitignore=respect_gitignore)
    return index(invocations_in(files, project_root, cwd, memo))


def candidates(project_root: Path, *, excludes: list[str] | None = None, respect_gitignore: bool = True) -> list[Path]:
    """The files of the project the pass looks at, in the walk's order. The engine hands them
    to its workers in chunks (``invocations_in``) and joins what they find with ``index``."""
    walked = discover.walk([project_root], excludes or [], root=project_root, respect_gitignore=respect_gitignore)
    return [path for path, _, problem in walked if problem is None]


def invocations_in(
    files: Iterable[Path], project_root: Path, cwd: Path | None = None, memo: Memo | None = None
) -> list[tuple[str, Invocation]]:
    """The (resolved script, invocation) pairs some of the project's files hold, in their order
    (``memo``: what each file ran last time, kept between runs; a warm run's one-process pass)."""
    context = ExtractContext(root=project_root, read_text=_read_text, cwd=cwd)
    base = cwd or Path.cwd()
    found: list[tuple[str, Invocation]] = []
    for path in files:
        for setup in _invocations_in(path, base, context, memo):
            script = _script(setup, path, project_root)
            if script is not None:
                found.append((script, _invocation(setup)))
    return found


def index(found: Iterable[tuple[str, Invocation]]) -> dict[str, list[Invocation]]:
    """The pairs of ``invocations_in`` (joined in the walk's order) by script, each script's
    invocations sorted by where they are."""
    grouped: dict[str, list[Invocation]] = {}
    for script, call in found:
        grouped.setdefault(script, []).append(call)
    return {
        script: sorted(calls, key=lambda c: (c.where.path, c.where.line)) for script, calls in sorted(grouped.items())
    }


def _invocations_in(path: Path, base: Path, context: ExtractContext, memo: Memo | None = None) -> list[Setup]:
    """The INVOCATION setups of one file (``memo``: what it ran last time, by its stamp)."""
    kind = discover.classify(path, b"")  # by name first: most files are never read here
    if kind is None:
        kind = discover.invocation_only_kind(path)
    try:
        if kind is None and not path.suffix:  # a shebang is looked for in extensionless files only
            with path.open("rb") as handle:
                kind = discover.classify(path, handle.read(256))
        if kind not in (*KINDS, _MAKEFILE, _MARKDOWN):
            return []
        status = os.stat(path)
        if status.st_size > _MAX_BYTES:
            return []
        stamp = (status.st_mtime_ns, status.st_size)  # before the read: a change during it shows next time
        if memo is not None:
            known = memo.invocations_in(str(path), stamp, context)
            if known is not None:
                return known
        head = path.read_bytes()
    except OSError:
        return []
    # a compose service that builds its image may give only `command: serve.py …` (its
    # Dockerfile's ENTRYPOINT names the interpreter)
    builds = kind == "yaml" and b"build:" in head and b".py" in head
    if not (builds or _runs_something(head)):
        if memo is not None:
            memo.keep_invocations(str(path), stamp, [], [])
        return []
    extractor = load_extractor("shell" if kind in (_MAKEFILE, _MARKDOWN, _NOTEBOOK) else kind)
    if extractor is None:
        return []
    context.consulted = [] if memo is not None else None
    try:
        text = head.decode("utf-8")
        if kind == _MAKEFILE:
            text = makefile_recipes(text)
        elif kind == _MARKDOWN:
            text = markdown_commands(text)
        elif kind == _NOTEBOOK:
            text = notebook.shell_commands(text)  # its `!python x.py` lines, at their JSON lines
        elif kind == "yaml" and not builds:
            text = _documents_that_run(text)
        display = str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
        with collecting_invocations():
            setups = extractor(display, text, context)
    except Exception:  # noqa: BLE001 - a file the pass cannot read links nothing; its own run reports it
        return []
    finally:
        consulted, context.consulted = context.consulted, None
    found = [_plain(setup) for setup in setups if setup.framework == INVOCATION]
    if memo is not None:
        memo.keep_invocations(str(path), stamp, consulted, found)
    return found


def _plain(setup: Setup) -> Setup:
    """The setup with its argument words as text and location only: a word's locator (a
    function) is never read from an invocation, and without it the setup is the same data on
    every run (the cache stores it; a script's entry keys on its invocations' repr)."""
    args = setup.facts.get(SCRIPT_ARGS)
    if args is not None and isinstance(args.value, tuple):
        words = tuple(Tok(tok.text, tok.loc) if isinstance(tok, Tok) else tok for tok in args.value)
        setup.facts[SCRIPT_ARGS] = Fact(words, args.location, args.how)
    return setup


def _documents_that_run(text: str) -> str:
    """A multi-document YAML file with only the documents that may run a script kept (the
    others' lines blank, so every line keeps its number): a release's manifest bundle is a few
    runtimes among hundreds of CRDs and RBAC objects, which the YAML reader need not build."""
    parts = _YAML_DOCUMENT.split(text)
    if len(parts) < 3:
        return text
    kept = []
    for index, part in enumerate(parts):
        if index % 2 or _runs_something(part.encode("utf-8", "surrogatepass")):
            kept.append(part)  # a separator line, or a document that names a script
        else:
            kept.append("\n" * part.count("\n"))
    return "".join(kept)


def _runs_something(data: bytes) -> bool:
    """Whether the bytes name an interpreter running a script, or a server running an app."""
    return _matches_at_a_word(data, _SCRIPT_RUNNERS, _RUNS_A_SCRIPT) or _matches_at_a_word(
        data, _APP_SERVERS, _RUNS_AN_APP
    )


# The words the patterns above start with: a match starts where one of them is, and a search for
# each (C speed) finds those places, where the patterns' own search tried every a, d, p, t (or
# g, u) of the file: 0.6 s of kserve's 90 MB.
_SCRIPT_RUNNERS = (b"python", b"torchrun", b"accelerate", b"deepspeed")
_APP_SERVERS = (b"uvicorn", b"gunicorn")


def _matches_at_a_word(data: bytes, words: tuple[bytes, ...], pattern: re.Pattern[bytes]) -> bool:
    """``pattern.search(data)``, for a pattern every match of which starts with one of ``words``."""
    for word in words:
        at = data.find(word)
        while at >= 0:
            if pattern.match(data, at) is not None:
                return True
            at = data.find(word, at + 1)
    return False


def markdown_commands(text: str) -> str:
    """A Markdown file's fenced shell blocks (```bash, ```console, or no language) as a shell
    script, each line at its own line and columns; every other line empty, a console's ``$ ``
    prompt blanked. The blocks are read as one script, in order: a variable one block sets is
    used by the next, as a reader following the document does."""
    out: list[str] = []
    fence: str | None = None
    shell = False
    for line in text.split("\n"):
        if fence is None:
            opening = _FENCE.match(line)
            if opening is not None:
                fence, shell = opening.group(1), opening.group(2).lower() in _SHELL_FENCES
            out.append("")
            continue
        stripped = line.strip()
        if stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = None
            out.append("")
            continue
        if shell and stripped.startswith("$ "):
            line = line.replace("$ ", "  ", 1)
        out.append(line if shell else "")
    return "\n".join(out)


def makefile_recipes(text: str) -> str:
    """A Makefile's recipe lines as a shell script, each at its own line and columns: the tab
    and the ``@``/``-``/``+`` prefixes blanked, every other line empty, a recipe's continued
    lines kept. Make's ``$(VAR)`` becomes the shell's ``${VAR}`` and ``$$`` a ``$``; a variable
    the Makefile assigns before (``MODEL ?= Qwen/…``, ``:=``, ``=``, ``+=``) is a shell
    assignment at its line, so the recipes after it see its value (one unassigned stays
    unknown, as an unknown shell variable is)."""
    out: list[str] = []
    continued = False
    for line in text.split("\n"):
        if not (continued or line.startswith("\t")):
            out.append(_make_assignment(line))
            continue
        body = line[1:] if line.startswith("\t") else line
        if not continued:
            stripped = body.lstrip("@-+ ")
            body = " " * (len(body) - len(stripped)) + stripped
        continued = body.endswith("\\")
        out.append(" " + _MAKE_VARIABLE.sub(r"${\1}", body).replace("$$", "$"))
    return "\n".join(out)


def _make_assignment(line: str) -> str:
    """A Makefile variable assignment as the shell's (``?=`` a default the environment may
    override, ``+=`` appended with a space), else an empty line."""
    found = _MAKE_ASSIGNMENT.match(line)
    if found is None:
        return ""
    name, op, value = found.group(1), found.group(2), found.group(3).split(" #", 1)[0].strip()
    value = _MAKE_VARIABLE.sub(r"${\1}", value).replace("$$", "$")
    value = re.sub(r'(["`\\])', r"\\\1", value)
    if op == "?=":
        value = f"${{{name}:-{value}}}"
    elif op == "+=":
        value = f"${{{name}}} {value}"
    return f'{name}="{value}"'


def _script(setup: Setup, invoking: Path, root: Path) -> str | None:
    written = setup.facts[INVOKED_SCRIPT]
    script = str(written.value)
    if written.how == "image":  # the build-context path the Dockerfile copied: the context is
        # the Dockerfile's directory or the project root (`docker build -f docker/Dockerfile .`)
        candidates = [invoking.parent / script, root / script]
    elif script.startswith("-m "):
        module = script[3:].replace(".", "/")
        candidates = [base / f"{module}.py" for base in (invoking.parent, root)]
    elif script.startswith("/"):
        return None  # a path inside an image or machine that no COPY maps
    else:
        candidates = [invoking.parent / script, root / script]
    existing = {candidate.resolve() for candidate in candidates if candidate.is_file()}
    if len(existing) != 1:
        return None  # missing, or two files it could be
    resolved = existing.pop()
    return str(resolved) if resolved.is_relative_to(root.resolve()) else None


def _invocation(setup: Setup) -> Invocation:
    # The words without their locators (closures over the invoking file's text): the index is
    # made on the engine's workers and pickled back, and the script's reader uses only the words.
    args = tuple(Tok(tok.text, tok.loc) for tok in setup.get(SCRIPT_ARGS) or ())
    where = setup.origin or setup.facts[INVOKED_SCRIPT].location
    assert where is not None
    env = setup.get(SCRIPT_ENV) or ()
    return Invocation(args, where, setup.facts.get(GPU), setup.facts.get(IMAGE), tuple(env))


def _read_text(path: Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def label_for(names: list[str], label: str | None = None, *, also: bool = False) -> str:
    """A setup's label naming the commands that run it: "invoked by run.sh:2, sky.yaml:7", after
    the setup's own label (a compose service) in parentheses; "also invoked by" on the setup of
    the script's defaults that those commands share."""
    said = (_ALSO if also else "") + _INVOKED_BY + ", ".join(sorted(set(names), key=_by_place))
    return said if label is None else f"{label} ({said})"


def _by_place(name: str) -> tuple[str, int]:
    """ "run.sh:12" after "run.sh:5": by path, then by line number."""
    path, _, line = name.rpartition(":")
    return (path, int(line)) if line.isdigit() else (name, 0)


def _invoked_names(label: str | None) -> tuple[str | None, list[str], bool]:
    """(the label without the commands, the commands, whether they are named "also": on the
    defaults' setup) of a label label_for wrote."""
    if label is None:
        return None, [], False
    own, _, said = label[:-1].rpartition(" (") if label.endswith(")") else ("", "", label)
    also = said.startswith(_ALSO)
    said = said[len(_ALSO) :] if also else said
    if not said.startswith(_INVOKED_BY):
        return label, [], False
    return (own or None), said[len(_INVOKED_BY) :].split(", "), also


def one_finding_per_verdict(audited: list[tuple[Setup, list[Finding]]]) -> list[Finding]:
    """The findings of one file's setups, where those the defaults of a loading call and the
    commands that run its script give with the same verdict (rule, location, message, fix and
    confidence) on the same GPU are one: the defaults' own if it is among them, else the first
    command's, naming them all. The setups one call makes through a helper of another module
    (one per loading branch of the helper) give one finding per message."""
    groups: dict[tuple[object, ...], list[tuple[Finding, list[str], bool, bool]]] = {}
    for setup, findings in audited:
        _, names, also = _invoked_names(setup.label)
        for finding in findings:
            verdict = _DEFAULTS_CLAUSE.sub("", finding.message)
            # a GPU a platform states is never merged away: another GPU is another finding
            gpu = repr([finding.setup.get(k) for k in ("gpu", "gpu_source", "gpu_origin")])
            said = (verdict, repr(finding.fix), finding.confidence, gpu)
            # not the loading call: the commands may take different branches to it (the
            # defaults load without flash attention, `--flash-attn2` with) and one verdict at
            # one line is one finding whichever call loaded the model
            key = (setup.framework, finding.code, finding.location, *said)
            groups.setdefault(key, []).append((finding, names, not names or also, setup.through is not None))
    return [finding for group in groups.values() for finding in _merged(group)]


def _merged(group: list[tuple[Finding, list[str], bool, bool]]) -> list[Finding]:
    names = sorted({name for _, found, _, _ in group for name in found}, key=_by_place)
    if not names:
        return _one_per_branch(group)
    defaults = [finding for finding, _, of_defaults, _ in group if of_defaults]
    if len(group) == 1 or len(defaults) > 1:
        return [finding for finding, _, _, _ in group]  # nothing to merge, or not only commands' variants
    chosen = defaults[0] if defaults else min(group, key=lambda member: [_by_place(n) for n in member[1]])[0]
    own, _, _ = _invoked_names(chosen.setup.get("label"))
    chosen.setup = {**chosen.setup, "label": label_for(names, own, also=bool(defaults))}
    if any(not _DEFAULTS_CLAUSE.search(finding.message) for finding, _, _, _ in group):
        # a command that overrides those defaults gives the same verdict: it rests on none of them
        chosen.message = _DEFAULTS_CLAUSE.sub("", chosen.message)
    return [chosen]


def _one_per_branch(group: list[tuple[Finding, list[str], bool, bool]]) -> list[Finding]:
    """Setups that one call makes through a helper of another module, one per loading branch
    of the helper, and that differ in nothing a finding says: one finding, the one that names
    the model's variable if any. Another message stays, and so does every other setup's."""
    out: list[Finding] = []
    kept: set[str] = set()
    for finding, _, _, through in sorted(group, key=lambda member: member[0].setup.get("label") is None):
        if through and finding.message in kept:
            continue
        if through:
            kept.add(finding.message)
        out.append(finding)
    return out
