"""The torch build a directory's install sources name (rules/builds.yaml): which hardware the
Python code beside them runs on when the code itself cannot say (a ROCm build still calls the
GPU "cuda"). Reached through the extraction context only, so the cache sees what was read.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ecolint.extract import ExtractContext

# How many directories up from a source file its install sources are looked for.
MAX_PARENTS = 3
_SOURCE = re.compile(r"(?i:requirements[\w.-]*\.txt|(?:[\w.-]+\.)?(?:Dockerfile|Containerfile)(?:\.[\w.-]+)?)")


@functools.lru_cache(maxsize=1)
def _table() -> tuple[tuple[re.Pattern[str], str], ...]:
    from ecolint.knowledge import data_table  # data, not code: the table lives beside the rules

    return tuple(
        (re.compile(str(row["match"]), re.IGNORECASE), str(row["platform"]))
        for row in data_table("builds.yaml", "builds")
    )


def _file_platform(name: str, text: str) -> set[str]:
    """The platforms one file names; torch from the default index only where it names none
    (`--index-url …/rocm6.2` above a bare `torch` line is the ROCm wheel); a Dockerfile that
    names none runs on a base image that could be anything."""
    found = set()
    for line in text.splitlines():
        for pattern, platform in _table():
            if pattern.search(line):
                found.add(platform)
                break
    named = found - {"default"}
    if named or found:
        return named or found
    return set() if name.lower().startswith("requirements") else {"unknown"}


def _directory_platforms(directory: Path, context: ExtractContext) -> frozenset[str]:
    found: set[str] = set()
    for name in context.list_dir_matching(directory, _SOURCE.pattern):
        found |= _file_platform(name, context.read(directory / name) or "")
    return frozenset(found)


def torch_build(path: str, context: ExtractContext) -> str | None:
    """The one non-CUDA platform (rocm, xpu) the install sources of the nearest directory that
    has any all name for the file at ``path``, or None (CUDA, the default index, several, or
    a Dockerfile that names none)."""
    source = context.source_path(path).resolve()
    root = context.root.resolve()
    directory = source.parent
    for _ in range(MAX_PARENTS + 1):
        if directory != root and root not in directory.parents:
            return None
        key = ("ecolint.extract.builds", str(directory))
        found = context.cached(key, functools.partial(_directory_platforms, directory, context))
        if isinstance(found, frozenset) and found:
            platform = min(found) if len(found) == 1 else None
            return None if platform in (None, "cuda", "default", "unknown") else str(platform)
        if directory == root:
            return None
        directory = directory.parent
    return None
