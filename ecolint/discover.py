"""Discover: walk the paths given, skip what must not be read, and name each file's kind.

Symlinks are followed only while they stay inside the scanned root, and a directory is never
entered twice (symlink loops). Paths passed explicitly are always read (unless excluded with
--force-exclude); directories are walked with the default excludes below plus the configured
ones.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Iterator

# Directories no one wants linted (ruff's defaults, plus ML caches).
DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".mypy_cache", ".nox", ".pants.d",
    ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build", "buck-out",
    "node_modules", "venv", "__pycache__", ".ipynb_checkpoints", ".cache",
)

SHELL_SHEBANG = (b"sh", b"bash", b"dash", b"zsh", b"ksh", b"ash")

# Suffixes that make ``Dockerfile.md`` / ``Modelfile.txt`` documentation, not the file itself.
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".html", ".adoc", ".png", ".svg", ".json", ".yaml", ".yml", ".py", ".sh")


def classify(path: Path, head: bytes) -> str | None:
    """The kind of a file from its name (and, for extensionless files, its shebang).

    Returns one of the kinds of ``ecolint.extract`` (python, shell, dockerfile, yaml, modelfile,
    requirements, pyproject) or None for a file ecolint does not read.
    """
    lower = path.name.lower()
    suffix = path.suffix.lower()
    by_name = _by_suffix(suffix) or _by_name(lower, suffix, path.parent.name.lower())
    if by_name is not None:
        return by_name
    if suffix == "":
        return _by_shebang(head)
    return None


def _by_suffix(suffix: str) -> str | None:
    return {".py": "python", ".sh": "shell", ".bash": "shell", ".yaml": "yaml", ".yml": "yaml"}.get(suffix)


def _by_name(lower: str, suffix: str, parent: str) -> str | None:
    if _is_named(lower, "dockerfile") or _is_named(lower, "containerfile"):
        return "dockerfile"
    if _is_named(lower, "modelfile"):
        return "modelfile"
    if lower == "pyproject.toml":
        return "pyproject"
    if suffix in (".txt", ".in") and ("requirements" in lower or lower.startswith("constraints") or parent == "requirements"):
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


def excluded(path: Path, root: Path, patterns: list[str]) -> bool:
    """A path is excluded when its name or its path relative to root matches a pattern."""
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(relative, pattern):
            return True
        if relative.startswith(pattern + "/"):
            return True
    return False


def walk(paths: list[Path], excludes: list[str], force_exclude: bool = False) -> Iterator[tuple[Path, bool, str | None]]:
    """Yield (file, passed explicitly, problem or None) in a deterministic order."""
    patterns = list(DEFAULT_EXCLUDES) + list(excludes)
    for given in paths:
        if given.is_file():
            root = given.parent.resolve()
            if force_exclude and excluded(given.resolve(), root, list(excludes)):
                continue
            yield given, True, None
            continue
        if not given.is_dir():
            continue
        yield from _walk_dir(given, patterns)


def _walk_dir(top: Path, patterns: list[str]) -> Iterator[tuple[Path, bool, str | None]]:
    root = top.resolve()
    seen: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            stat = directory.stat()
            if (stat.st_dev, stat.st_ino) in seen:
                continue  # symlink loop or a second link to the same directory
            seen.add((stat.st_dev, stat.st_ino))
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except PermissionError:
            yield directory, False, "cannot read directory: permission denied"
            continue
        except OSError:
            continue  # vanished during the scan
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            if excluded(path, top, patterns):
                continue
            if entry.is_symlink() and not _inside(path, root):
                continue  # never follow a link out of the scanned tree
            try:
                if entry.is_dir():
                    subdirs.append(path)
                elif entry.is_file():
                    yield path, False, None
            except OSError:
                continue
        stack.extend(reversed(subdirs))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):
        return False
