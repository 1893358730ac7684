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

SHELL_SHEBANG = (b"sh", b"bash", b"dash", b"zsh", b"ksh")


def classify(path: Path, head: bytes) -> str | None:
    """The kind of a file from its name (and, for extensionless files, its shebang)."""
    name = path.name
    lower = name.lower()
    suffix = path.suffix.lower()
    if suffix == ".py":
        return "python"
    if suffix in (".sh", ".bash"):
        return "shell"
    if lower in ("dockerfile", "containerfile") or lower.endswith(".dockerfile") or lower.startswith("dockerfile."):
        return "dockerfile"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if lower == "modelfile" or lower.endswith(".modelfile"):
        return "modelfile"
    if lower == "pyproject.toml":
        return "pyproject"
    if suffix in (".txt", ".in") and lower.startswith("requirements"):
        return "requirements"
    if suffix == "" and _shell_shebang(head):
        return "shell"
    return None


def _shell_shebang(head: bytes) -> bool:
    if not head.startswith(b"#!"):
        return False
    first = head.split(b"\n", 1)[0]
    words = first[2:].replace(b"/", b" ").split()
    return any(word in SHELL_SHEBANG for word in words[-2:])


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
