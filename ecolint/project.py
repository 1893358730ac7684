"""The project a run belongs to, and the version pins read from all of it.

Confidence and stack drift come from the pinned torch / bitsandbytes / transformers. They must not
depend on which paths were passed: the pre-commit hook checks one file, CI checks `.`, and both
must rate a setup alike. So the pins are read from the project root (DESIGN.md: "always the project
root, whatever paths were passed"), not only from the files being checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecolint import discover, roots
from ecolint.knowledge import parse_version

if TYPE_CHECKING:
    from ecolint.config import Config
    from ecolint.extract import ExtractContext
    from ecolint.extract.python.modules import Verdict
    from ecolint.witness import Witness

    # what the module index's pass gives for some files: (helper name, file) pairs and verdicts
    Helpers = tuple[list[tuple[str, str]], list[Verdict]]

# The file kinds that pin versions (requirements files, pyproject, `pip install` lines).
STACK_KINDS = ("requirements", "pyproject", "dockerfile", "shell")


def project_root(path: Path, config_source: Path | None, cwd: Path, witness: Witness | None = None) -> Path:
    """The project a path belongs to: the configuration file's directory when the path lies in
    it, else the git work tree's top, else the current directory when the path lies in it, else
    the path's own directory (ecolint/roots.py)."""
    source = None if config_source is None else os.fspath(config_source)
    return Path(roots.project_root(os.fspath(path), source, os.fspath(cwd), witness))


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


@dataclass(frozen=True)
class ProjectWork:
    """The project pass (DESIGN.md) over a project root, as work that can be split into chunks:
    the module index of its Python files (ecolint/extract/python/modules.py) and the invocation
    index of the files that may run them (ecolint/invocations.py). ``context`` does it all here;
    the engine instead runs ``helpers`` and ``invocations`` on chunks on its workers and hands
    their results, in the files' order, to ``joined``: the same indexes either way."""

    root: Path
    module_files: list[Path]  # the Python files the module index lists, in the walk's order
    excludes: list[str]
    respect_gitignore: bool
    cwd: Path
    # the files the invocation index looks at, from the run's own walk when it was of the
    # project root (None: the project is walked for them)
    walked: list[Path] | None = None
    # what each file gave the passes last time (the extraction cache), for the one-process pass
    # of a warm run (``context``); the workers of a cold run have nothing to look up
    memo: Any = None
    # whether the run's per-file pass reads the module files too (they are its walk's): then the
    # module index keeps the prefilter's verdict on each, made with the helpers from the same scan
    verdicts: bool = False

    def invocation_files(self) -> list[Path] | None:
        """The files the invocation index looks at (a walk of the project); None when the
        project cannot be walked: then nothing is linked (the run reports the walk itself)."""
        from ecolint import invocations

        if self.walked is not None:
            return self.walked
        try:
            return invocations.candidates(self.root, excludes=self.excludes, respect_gitignore=self.respect_gitignore)
        except OSError:
            return None

    def helpers(self, files: list[Path]) -> Helpers:
        """The loader helpers some of ``module_files`` define, and the prefilter's verdicts on
        them (``verdicts``; else none)."""
        from ecolint.extract.python.modules import helpers_in
        from ecolint.prefilter import python_may_hold_setup

        verdicts: list[Verdict] | None = [] if self.verdicts else None
        return helpers_in(files, python_may_hold_setup, self.memo, verdicts), verdicts or []

    def invocations(self, files: list[Path]) -> list[tuple[str, Any]] | None:
        """The invocations some of the ``invocation_files`` hold (``invocations_in``)."""
        return invocations_in(files, self.root, self.cwd, self.memo)

    def context(self, base: ExtractContext) -> ExtractContext:
        """``base`` with both indexes, made here, one file after the other."""
        files = self.invocation_files()
        return self.joined(
            base, [self.helpers(self.module_files)], [None if files is None else self.invocations(files)]
        )

    def joined(
        self,
        base: ExtractContext,
        helpers: Iterable[Helpers],
        invocations: Iterable[list[tuple[str, Any]] | None],
    ) -> ExtractContext:
        """``base`` with the indexes made from the chunks' results, given in the files' order."""
        from ecolint import invocations as index
        from ecolint.extract import ExtractContext
        from ecolint.extract.python.modules import module_index

        found = list(invocations)
        calls = {} if any(part is None for part in found) else index.index(c for part in found for c in part or [])
        parts = list(helpers)
        modules = module_index(
            self.root,
            self.module_files,
            (h for names, _ in parts for h in names),
            (v for _, verdicts in parts for v in verdicts),
        )
        return ExtractContext(
            root=base.root, read_text=base.read_text, cwd=base.cwd, invocations=calls, modules=modules
        )


def invocations_in(files: list[Path], root: Path, cwd: Path, memo: Any = None) -> list[tuple[str, Any]] | None:
    """The (script, invocation) pairs some files of the project at ``root`` hold; None when one
    of them cannot be looked at (then, as for a walk that fails, nothing is linked)."""
    from ecolint import invocations

    try:
        return invocations.invocations_in(files, root, cwd, memo)
    except OSError:
        return None
