"""The project a run belongs to, and the version pins read from all of it.

Confidence and stack drift come from the pinned torch / bitsandbytes / transformers. They must not
depend on which paths were passed: the pre-commit hook checks one file, CI checks `.`, and both
must rate a setup alike. So the pins are read from the project root (DESIGN.md: "always the project
root, whatever paths were passed"), not only from the files being checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ecolint import discover
from ecolint.knowledge import parse_version

if TYPE_CHECKING:
    from ecolint.config import Config

# The file kinds that pin versions (requirements files, pyproject, `pip install` lines).
STACK_KINDS = ("requirements", "pyproject", "dockerfile", "shell")


def project_root(path: Path, config_source: Path | None, cwd: Path) -> Path:
    """The project a path belongs to: the configuration file's directory when the path lies in
    it, else the git work tree's top, else the current directory when the path lies in it, else
    the path's own directory."""
    start = path.resolve()
    start = start if start.is_dir() else start.parent
    if config_source is not None:
        config_dir = config_source.resolve().parent
        if _inside(start, config_dir):
            return config_dir
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    cwd = cwd.resolve()
    return cwd if _inside(start, cwd) else start


def covers(paths: Iterable[Path], root: Path) -> bool:
    """Whether the paths walk the whole root (then the run has already read every pin)."""
    return any(path.resolve() == root for path in paths)


def project_pins(
    root: Path, excludes: list[str], *, force_exclude: bool, respect_gitignore: bool, config_root: Path | None
) -> dict[str, str]:
    """Every version pinned in the project, walked as `ecolint ROOT` walks it."""
    from ecolint.extract.stack import read_pins

    pins: dict[str, str] = {}
    walked = discover.walk(
        [root], excludes, force_exclude=force_exclude, respect_gitignore=respect_gitignore, root=config_root
    )
    for path, _, problem in walked:
        if problem is not None:
            continue
        kind = discover.classify_file(path)
        if kind not in STACK_KINDS:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if kind not in ("requirements", "pyproject") and b"pip" not in data:
            continue
        try:
            found = read_pins(path.as_posix(), data.decode("utf-8-sig", errors="replace"))
        except Exception:  # noqa: BLE001 - pins are advisory: a file unreadable for them is skipped
            continue
        pins = merge_pins([pins, found])
    return pins


def pins_for(path: Path, config: Config, cwd: Path) -> dict[str, str]:
    """The pins of the project ``path`` belongs to, read as `ecolint check PATH` reads them (its
    root, its excludes): what `check` resolves with, and `advise` / `compare --project PATH` too."""
    root = project_root(path, config.source, cwd)
    return project_pins(
        root,
        config.exclude + config.extend_exclude,
        force_exclude=config.force_exclude,
        respect_gitignore=config.respect_gitignore,
        config_root=config.source.parent.resolve() if config.source else cwd.resolve(),
    )


def pins_and_models(path: Path, cwd: Path) -> tuple[dict[str, str], dict[str, float]]:
    """The version pins and the configured model table of the project at ``path``, read with the
    configuration found from it: what `advise` and `compare` resolve with, as `check` would."""
    from ecolint.config import find_config_file, load_config

    config = load_config(find_config_file(path))
    return pins_for(path, config, cwd), dict(config.models)


def merge_pins(pin_sets: Iterable[dict[str, str]]) -> dict[str, str]:
    """One set of pins from several; the newest pin of a package wins (the cautious reading for
    version drift), whatever the order."""
    pins: dict[str, str] = {}
    for found in pin_sets:
        for package, version in found.items():
            if package not in pins or parse_version(version) > parse_version(pins[package]):
                pins[package] = version
    return pins


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
