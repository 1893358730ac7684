"""Where a run's configuration file and project root are, from the file system alone.

``config.find_config_file`` and ``project.project_root`` answer with these, as paths; the
whole-run memo (ecolint/memo.py) asks them before anything else is imported, so this module
imports nothing but ``os`` and works on strings. Given a ``Witness``, each notes what it looked
at: a file made, removed or changed there changes the answer.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing costs a warm run a few ms

if TYPE_CHECKING:
    from ecolint.witness import Witness

CONFIG_NAMES = ("ecolint.toml", "pyproject.toml")


def config_file(start: str, witness: Witness | None = None) -> str | None:
    """The nearest ecolint.toml, or pyproject.toml with a [tool.ecolint] table, from start up."""
    start = os.path.realpath(start)
    directory = start if os.path.isdir(start) else os.path.dirname(start)
    for candidate_dir in _up(directory):
        own = os.path.join(candidate_dir, "ecolint.toml")
        pyproject = os.path.join(candidate_dir, "pyproject.toml")
        if witness is not None:
            witness.node(own)
            witness.node(pyproject)
        if os.path.isfile(own):
            return own
        if os.path.isfile(pyproject) and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return False
    return "[tool.ecolint" in text


# Files that make a directory a Python project's top (outside a git work tree: an sdist, an
# unpacked archive, a copy).
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


def project_root(path: str, config_source: str | None, cwd: str, witness: Witness | None = None) -> str:
    """The project a path belongs to: the configuration file's directory when the path lies in
    it, else the git work tree's top; outside git, the current directory when the path lies in
    it and it is a project's top (``PROJECT_MARKERS``), else the nearest directory above the path
    that is one (up to the current directory), else the current directory when the path lies in
    it, else the path's own directory. So `ecolint /elsewhere/app/serve.py` reads serve.py's own
    project, not every file under the directory it was started from."""
    start = os.path.realpath(path)
    if witness is not None:
        witness.node(start)
    start = start if os.path.isdir(start) else os.path.dirname(start)
    if config_source is not None:
        config_dir = os.path.dirname(os.path.realpath(config_source))
        if inside(start, config_dir):
            return config_dir
    for directory in _up(start):
        git = os.path.join(directory, ".git")
        if witness is not None:
            witness.kind(git)
        if os.path.exists(git):
            return directory
    cwd = os.path.realpath(cwd)
    within = inside(start, cwd)
    if within and _a_project_top(cwd, witness):
        return cwd
    for directory in _up(start):
        if within and not inside(directory, cwd):
            break
        if _a_project_top(directory, witness):
            return directory
    return cwd if within else start


def _a_project_top(directory: str, witness: Witness | None) -> bool:
    for name in PROJECT_MARKERS:
        marker = os.path.join(directory, name)
        if witness is not None:
            witness.node(marker)
        if os.path.isfile(marker):
            return True
    return False


def inside(path: str, root: str) -> bool:
    """Whether a path is root or below it (both resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _up(directory: str) -> list[str]:
    """The directory and each of its parents, up to the file system's root."""
    found = [directory]
    while True:
        parent = os.path.dirname(found[-1])
        if parent == found[-1]:
            return found
        found.append(parent)
