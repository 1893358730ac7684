"""Discover: walk the paths given, skip what must not be read, and name each file's kind.

Symlinks are followed only while they stay inside the scanned root, and a directory is never
entered twice (symlink loops). Paths passed explicitly are always read (unless excluded with
--force-exclude); directories are walked with the default excludes below plus the configured
ones.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ecolint.witness import Witness

# Directories no one wants linted (ruff's defaults, plus ML caches).
DEFAULT_EXCLUDES = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".ecolint_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "node_modules",
    "venv",
    "__pycache__",
    ".ipynb_checkpoints",
    ".cache",
)

# Libraries research repositories copy into themselves (LMOps' dpkd/transformers, a fork's
# peft or fairseq). A directory of one of these names that holds its own packaging (setup.py,
# pyproject.toml, setup.cfg) below the scanned path is that library's code, not the project's:
# its examples and tests are not the project's setups, as a virtualenv's are not. Naming the
# directory on the command line checks it.
VENDORED_LIBRARIES = frozenset(
    {
        "accelerate",
        "apex",
        "bitsandbytes",
        "datasets",
        "deepspeed",
        "diffusers",
        "dpr",
        "fairseq",
        "flash-attention",
        "lm-evaluation-harness",
        "megatron-lm",
        "open_clip",
        "peft",
        "timm",
        "transformers",
        "trl",
        "trlx",
        "verl",
        "vllm",
    }
)
_PACKAGING = frozenset({"setup.py", "pyproject.toml", "setup.cfg"})

SHELL_SHEBANG = (b"sh", b"bash", b"dash", b"zsh", b"ksh", b"ash")

# Suffixes that make ``Dockerfile.md`` / ``Modelfile.txt`` documentation, not the file itself.
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".html", ".adoc", ".png", ".svg", ".json", ".yaml", ".yml", ".py", ".sh")


def classify(path: Path, head: bytes) -> str | None:
    """The kind of a file from its name (and, for extensionless files, its shebang).

    Returns one of the kinds of ``ecolint.extract`` (python, notebook, shell, dockerfile, yaml,
    modelfile, requirements, pyproject) or None for a file ecolint does not read.
    """
    lower = path.name.lower()
    suffix = path.suffix.lower()
    by_name = _by_suffix(suffix) or _by_name(lower, suffix, path.parent.name.lower())
    if by_name is not None:
        return by_name
    if suffix == "":
        return _by_shebang(head)
    return None


def classify_file(path: Path) -> str | None:
    """``classify`` for a file on disk: its first bytes (for a shebang) are read only where the
    name says nothing."""
    kind = classify(path, b"")
    if kind is not None or path.suffix:
        return kind
    try:
        with open(path, "rb") as handle:
            return classify(path, handle.read(256))
    except OSError:
        return classify(path, b"")


def is_makefile(path: Path) -> bool:
    """Whether a file is a Makefile: no kind of ``classify``, but the invocation pass reads its
    recipes (ecolint/invocations.py)."""
    return path.name in _MAKEFILES or path.suffix == ".mk"


MAKEFILE, MARKDOWN = "makefile", "markdown"
_MARKDOWN_SUFFIXES = (".md", ".markdown")


def invocation_only_kind(path: Path) -> str | None:
    """The files no rule reads but the invocation pass does (ecolint/invocations.py): a
    Makefile's recipes, a Markdown file's fenced shell blocks (a README's commands)."""
    if is_makefile(path):
        return MAKEFILE
    if path.suffix.lower() in _MARKDOWN_SUFFIXES:
        return MARKDOWN
    return None


def may_be_read_by_invocations(name: str) -> bool:
    """``may_be_read`` for the invocation pass's own files, from the name alone (``*.mk``,
    ``*.md``: names that ``may_be_read`` leaves out)."""
    return name.lower().endswith((".mk", *_MARKDOWN_SUFFIXES))


def may_be_read(name: str) -> bool:
    """Whether ``classify`` can give a file of this name a kind, from the name alone (its
    directory aside): the walk then builds no path for the rest of a tree. Suffixes as
    pathlib takes them."""
    lower = name.lower()
    dot = lower.rfind(".")
    suffix = lower[dot:] if 0 < dot < len(lower) - 1 else ""
    if suffix in ("", ".txt", ".in"):  # a shebang, or requirements named by their directory
        return True
    return _by_suffix(suffix) is not None or _by_name(lower, suffix, "") is not None


_MAKEFILES = frozenset({"Makefile", "makefile", "GNUmakefile"})


def _by_suffix(suffix: str) -> str | None:
    return {
        ".py": "python",
        ".ipynb": "notebook",
        ".sh": "shell",
        ".bash": "shell",
        ".yaml": "yaml",
        ".yml": "yaml",
    }.get(suffix)


def _by_name(lower: str, suffix: str, parent: str) -> str | None:
    if _is_named(lower, "dockerfile") or _is_named(lower, "containerfile"):
        return "dockerfile"
    if _is_named(lower, "modelfile"):
        return "modelfile"
    if lower == "pyproject.toml":
        return "pyproject"
    if suffix in (".txt", ".in") and (
        "requirements" in lower or lower.startswith("constraints") or parent == "requirements"
    ):
        return "requirements"
    return None


def _is_named(lower: str, base: str) -> bool:
    """``Dockerfile``, ``api.Dockerfile``, ``Dockerfile.gpu`` — but not ``Dockerfile.md``."""
    if lower == base or lower.endswith("." + base):
        return True
    return lower.startswith(base + ".") and not lower.endswith(_DOC_SUFFIXES)


def _by_shebang(head: bytes) -> str | None:
    program = _interpreter(head)
    if program is None:
        return None
    if program in SHELL_SHEBANG:
        return "shell"
    if program.startswith(b"python"):
        return "python"
    return None


def _interpreter(head: bytes) -> bytes | None:
    """``#!/bin/bash -e`` -> bash; ``#!/usr/bin/env -S bash -eu`` -> bash."""
    if not head.startswith(b"#!"):
        return None
    words = head.split(b"\n", 1)[0][2:].split()
    if not words:
        return None
    program = words[0].rsplit(b"/", 1)[-1]
    if program == b"env":
        rest = [w for w in words[1:] if not w.startswith(b"-") and b"=" not in w]
        program = rest[0].rsplit(b"/", 1)[-1] if rest else b""
    return program or None


def excluded(path: Path, root: Path, patterns: list[str], *, ancestors: bool = False) -> bool:
    """A path is excluded when a pattern matches its name or its path relative to root.

    With ``ancestors`` (a path passed explicitly under --force-exclude) a match on any of its
    directories below root counts too: pre-commit passes ``vendor/lib/x.py``, and an exclude of
    ``vendor`` must still apply. A walk needs no such check: it never enters an excluded
    directory in the first place.
    """
    return _excluded_relative(_relative(path, root), _compile(tuple(patterns)), ancestors=ancestors)


@functools.lru_cache(maxsize=8)
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """All exclude globs as one regex: a walk tests every entry, and one match per entry is ~20×
    cheaper than an fnmatch call per pattern."""
    return re.compile("|".join(fnmatch.translate(p.rstrip("/")) for p in patterns) or "(?!)")


def _excluded_relative(relative: str, matcher: re.Pattern[str], *, ancestors: bool = False) -> bool:
    parts = relative.split("/")
    first = 0 if ancestors else len(parts) - 1
    for index in range(first, len(parts)):
        if matcher.match(parts[index]) or matcher.match("/".join(parts[: index + 1])):
            return True
    return False


def walk(
    paths: list[Path],
    excludes: list[str],
    force_exclude: bool = False,
    *,
    respect_gitignore: bool = True,
    root: Path | None = None,
    keep: Callable[[str], bool] | None = None,
    witness: Witness | None = None,
) -> Iterator[tuple[Path, bool, str | None]]:
    """Yield (file, passed explicitly, problem or None) in a deterministic order.

    ``keep``, given a file's name, says whether a file found by the walk is wanted at all (the
    engine passes ``may_be_read``); files named explicitly are always yielded. ``witness``
    notes what the walk's result rests on.

    ``root`` is the project root (the configuration file's directory, else the current one):
    exclude patterns with a slash are relative to it, and .gitignore files above a scanned
    directory are read up to the git work tree's top, or up to root outside a work tree.
    """
    patterns = list(DEFAULT_EXCLUDES) + list(excludes)
    ignores = _GitIgnores(enabled=respect_gitignore, witness=witness)
    if witness is not None and root is not None:
        witness.real(root)
    for given in paths:
        if witness is not None:
            witness.node(given)
            witness.real(given)
        if given.is_file():
            if force_exclude and _skip_explicit(given, root, patterns, ignores):
                continue
            yield given, True, None
            continue
        if not given.is_dir():
            continue
        if force_exclude and _skip_explicit(given, root, patterns, ignores):
            continue
        yield from _walk_dir(given, patterns, ignores, root, keep, witness)


def _skip_explicit(given: Path, root: Path | None, patterns: list[str], ignores: _GitIgnores) -> bool:
    """--force-exclude: a path named on the command line obeys the excludes and .gitignore."""
    path = given.resolve()
    base = _project_root(path, root)
    if path != base and excluded(path, base, patterns, ancestors=True):
        return True
    return ignores.ignored(path, path.is_dir(), ignores.chain_above(path, base))


def _walk_dir(
    top: Path,
    patterns: list[str],
    ignores: _GitIgnores,
    project_root: Path | None,
    keep: Callable[[str], bool] | None = None,
    witness: Witness | None = None,
) -> Iterator[tuple[Path, bool, str | None]]:
    # Matching works on logical paths (root / the entry's path below top), never on resolved
    # ones: a .gitignore or exclude names the link, not its target, and resolving every entry
    # would cost a system call chain each.
    root = top.resolve()
    base = _project_root(root, project_root)
    top_relative = _relative(root, base) if root != base else ""
    matcher = _compile(tuple(patterns))
    above = ignores.chain_above(root, base)
    # The walk tests entries by their path below root; a .gitignore above root sees that path
    # behind root's own path below it.
    chain: list[_Rules] = (
        []
        if ignores.ignored(root, True, above)
        else [(spec, _relative(root, directory) + "/" if root != directory else "", 0) for directory, spec in above]
    )
    # (a directory named explicitly is read even when a parent .gitignore lists it)
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, str, list[_Rules]]] = [(top, "", chain)]
    while stack:
        directory, below, chain = stack.pop()
        try:
            stat = directory.stat()
            if witness is not None:
                witness.node(directory, stat)
            if (stat.st_dev, stat.st_ino) in seen:
                continue  # symlink loop or a second link to the same directory
            seen.add((stat.st_dev, stat.st_ino))
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except PermissionError:
            if witness is not None:
                witness.node(directory)
            yield directory, False, "cannot read directory: permission denied"
            continue
        except OSError:
            if witness is not None:
                witness.node(directory)
            continue  # vanished during the scan
        if below and _vendored(directory.name, entries):
            continue
        if any(entry.name == ".gitignore" for entry in entries):  # no failed open() per directory
            spec = ignores.spec(root / below if below else root)
            if spec is not None:
                chain = [*chain, (spec, "", len(below) + 1 if below else 0)]
        subdirs = []
        for entry in entries:
            relative = f"{below}/{entry.name}" if below else entry.name
            if _excluded_relative(f"{top_relative}/{relative}" if top_relative else relative, matcher):
                continue
            if entry.is_symlink():
                if witness is not None:  # where it leads, and what is there
                    witness.real(entry.path)
                    witness.node(entry.path)
                if not _inside(Path(entry.path), root):
                    continue  # never follow a link out of the scanned tree
            try:
                is_dir = entry.is_dir()
                if not is_dir and keep is not None and not keep(entry.name):
                    continue  # a path object per file of the tree costs more than the rest of its test
                if chain and _ignored_below(relative, is_dir, chain):
                    continue
                if is_dir:
                    subdirs.append((Path(entry.path), relative, chain))
                elif entry.is_file():
                    yield Path(entry.path), False, None
            except OSError:
                continue
        stack.extend(reversed(subdirs))


def _vendored(name: str, entries: list[os.DirEntry[str]]) -> bool:
    """A copy of a third-party library inside the scanned tree (``VENDORED_LIBRARIES``)."""
    return name.lower() in VENDORED_LIBRARIES and any(entry.name in _PACKAGING for entry in entries)


class _GitIgnores:
    """.gitignore files, parsed once each with pathspec's gitwildmatch (git's own rules:
    negation, anchoring, directory-only patterns, ``**``), applied whether or not the tree is a
    git work tree. A chain lists (directory, spec) from the outermost .gitignore inwards; the
    last pattern that matches decides, as in git."""

    def __init__(self, enabled: bool, witness: Witness | None = None) -> None:
        self.enabled = enabled
        self.witness = witness
        self._specs: dict[Path, Any] = {}

    def spec(self, directory: Path) -> Any:
        return self._spec_of(directory / ".gitignore")

    def _spec_of(self, file: Path) -> Any:
        if self.witness is not None and self.enabled:
            self.witness.node(file)
        if file not in self._specs:
            self._specs[file] = _read_gitignore(file) if self.enabled else None
        return self._specs[file]

    def extend(self, chain: list[tuple[Path, Any]], directory: Path) -> list[tuple[Path, Any]]:
        spec = self.spec(directory)
        return chain if spec is None else [*chain, (directory, spec)]

    def chain_above(self, path: Path, base: Path) -> list[tuple[Path, Any]]:
        """The .gitignore files of path's parent directories, from the work tree's top (or base),
        after the work tree's ``$GIT_DIR/info/exclude``, which any .gitignore overrides (git's
        order)."""
        if not self.enabled:
            return []
        top, parents = _parents_up_to_top(path, base, self.witness)
        exclude = _info_exclude(top, self.witness) if top is not None else None
        spec = self._spec_of(exclude) if exclude is not None else None
        chain: list[tuple[Path, Any]] = [] if spec is None else [(top, spec)]  # type: ignore[list-item]
        for directory in reversed(parents):
            chain = self.extend(chain, directory)
        return chain

    @staticmethod
    def ignored(path: Path, is_dir: bool, chain: list[tuple[Path, Any]]) -> bool:
        """Whether the chain's .gitignore files ignore path (an absolute path)."""
        rules: list[_Rules] = []
        for directory, spec in chain:
            try:
                rules.append((spec, path.relative_to(directory).as_posix(), 0))
            except ValueError:
                continue
        return _ignored_below("", is_dir, rules)


# One .gitignore as the walk applies it: (spec, prefix, strip) turns a path below the walk's
# root into the path below the .gitignore's directory: prefix + path[strip:]. String slicing,
# not pathlib: the walk tests every entry of the tree against every .gitignore above it.
_Rules = tuple[Any, str, int]


def _ignored_below(relative: str, is_dir: bool, chain: list[_Rules]) -> bool:
    decision = False
    for spec, prefix, strip in chain:
        candidate = prefix + relative[strip:]
        if is_dir:
            candidate += "/"
        quick = _QUICK.get(id(spec))
        if quick is not None and not quick(candidate):
            continue  # no pattern of this file matches: it decides nothing
        result = spec.check_file(candidate)
        if result.include is not None:
            decision = bool(result.include)
    return decision


# id(spec) -> a test that is true wherever one of the spec's patterns matches (it may be true
# where none does: pathspec then decides). pathspec tries every pattern in Python for every
# entry, so a hundred-line .gitignore made the walk of a large tree slower than reading it.
_QUICK: dict[int, Callable[[str], bool] | None] = {}
_GROUP_NAME = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
# How gitwildmatch writes a pattern without a slash (`build/`, `*.pyc`): it may match at any
# directory level. Such patterns are tried at each level's start, not by a regex that tries
# every split of the path for every pattern: on vLLM's .gitignore that was 30 µs an entry.
_ANY_DIRECTORY = "^(?:.+/)?"


def _quick_matcher(spec: Any) -> Callable[[str], bool] | None:
    try:
        sources = [p.regex.pattern for p in spec.patterns if p.include is not None and p.regex is not None]
        if not all(isinstance(source, str) for source in sources):
            return None
        levels = [source[len(_ANY_DIRECTORY) :] for source in sources if source.startswith(_ANY_DIRECTORY)]
        others = [source for source in sources if not source.startswith(_ANY_DIRECTORY)]
        at_level = _union(levels).match if levels else None
        anywhere = _union(others).search if others else None
    except (AttributeError, TypeError, re.error):
        return None  # another pathspec: every check goes through it

    def maybe(candidate: str) -> bool:
        if anywhere is not None and anywhere(candidate):
            return True
        if at_level is None:
            return False
        if at_level(candidate):
            return True
        at = candidate.find("/")
        while at >= 0:
            if at_level(candidate, at + 1):
                return True
            at = candidate.find("/", at + 1)
        return False

    return maybe


def _union(sources: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{_GROUP_NAME.sub('(?:', source)})" for source in sources))


def _parents_up_to_top(path: Path, base: Path, witness: Witness | None = None) -> tuple[Path | None, list[Path]]:
    """(the git work tree's top, path's parent directories up to it, or up to base outside a
    work tree). A path that is itself a top has no parents to read; a path outside any work
    tree and the project has none either (only the .gitignore files below it count)."""
    if witness is not None:
        witness.kind(path / ".git")
    if (path / ".git").exists():
        return path, []
    parents = []
    for directory in path.parents:
        parents.append(directory)
        if witness is not None:
            witness.kind(directory / ".git")
        if (directory / ".git").exists():
            return directory, parents
        if directory == base:
            return None, parents
    return None, []


def _info_exclude(top: Path, witness: Witness | None = None) -> Path | None:
    """``$GIT_DIR/info/exclude`` of the work tree at top. ``.git`` is a directory, or in a linked
    worktree or a submodule a file naming the git directory, whose ``commondir`` holds info/."""
    dot_git = top / ".git"
    try:
        if dot_git.is_dir():
            return dot_git / "info" / "exclude"
        line = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if not line.startswith("gitdir:"):
            return None
        written = top / line[len("gitdir:") :].strip()
        git_dir = written.resolve()
        common = git_dir / "commondir"
        if witness is not None:  # .git's own text is in its stamp
            witness.node(dot_git)
            witness.real(written)
            witness.node(common)
        if common.is_file():
            shared = git_dir / common.read_text(encoding="utf-8", errors="replace").strip()
            if witness is not None:
                witness.real(shared)
            git_dir = shared.resolve()
        return git_dir / "info" / "exclude"
    except OSError:
        return None


def _read_gitignore(path: Path) -> Any:
    """A compiled .gitignore, or None when there is none (or it cannot be read: git skips it too)."""
    spec = _compile_gitignore(path)
    if spec is not None:
        _QUICK[id(spec)] = _quick_matcher(spec)
    return spec


def _compile_gitignore(path: Path) -> Any:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec  # imported here: a run over a tree without .gitignore files never needs it

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError):
        # git ignores a pattern it cannot parse and keeps the others; so do we.
        good = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except (ValueError, TypeError):
                continue
            good.append(line)
        return pathspec.GitIgnoreSpec.from_lines(good)


def _project_root(path: Path, root: Path | None) -> Path:
    """The directory exclude patterns are relative to: root when path lies inside it."""
    if root is not None:
        resolved_root = root.resolve()
        if path == resolved_root or _inside(path, resolved_root):
            return resolved_root
    return path if path.is_dir() else path.parent


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix().lstrip("/")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):
        return False
