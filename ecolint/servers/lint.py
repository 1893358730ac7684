"""What both servers ask of the engine, set up as ``ecolint check`` sets it up: the configuration
found from the file's path, the codes that configuration selects, a text linted as the file it
stands for (as ``ecolint -`` with ``--stdin-filename`` does)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ecolint.config import Config, find_config_file, load_config
from ecolint.engine import RunResult, Selection, run_text
from ecolint.finding import Finding
from ecolint.funnel import check_selectors, enabled_codes
from ecolint.knowledge import Knowledge
from ecolint.sources import read_text


def config_for(path: Path) -> Config:
    """The configuration ``ecolint check PATH`` would use (ConfigError when it is broken)."""
    return load_config(find_config_file(path))


def codes_for(kb: Knowledge, config: Config, select: Iterable[str] = ()) -> list[str]:
    """The rule codes to run: ``select`` replaces the configured selection, as --select does
    (SelectionError for a selector that names no rule)."""
    chosen = [code.strip().upper() for code in select if code.strip()]
    known = list(kb.rules)
    check_selectors(config.select or [], known, f"{config.source}: select")
    check_selectors(config.extend_select, known, f"{config.source}: extend-select")
    check_selectors(config.ignore, known, f"{config.source}: ignore")
    check_selectors(chosen, known, "select")
    return enabled_codes(
        {code: spec.enabled_by_default for code, spec in kb.rules.items()},
        chosen or config.select,
        config.extend_select,
        config.ignore,
    )


def selection_for(kb: Knowledge, config: Config, gpu: str | None = None, select: Iterable[str] = ()) -> Selection:
    return Selection(
        codes=codes_for(kb, config, select),
        gpu=(gpu or "").strip() or None,
        min_confidence=config.min_confidence,
    )


def lint_text(
    path: Path,
    text: str,
    kb: Knowledge,
    cwd: Path,
    gpu: str | None = None,
    buffers: Mapping[Path, str] | None = None,
) -> RunResult:
    """The findings and ECO001 errors of ``text`` read as the file at ``path`` (which need not
    exist, nor hold that text). Another file the analysis reads (an imported module, a .env, a
    platform file naming the GPU) is taken from ``buffers`` where it is there: an editor's
    open documents, saved or not."""
    config = config_for(path)
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate is then an ECO001, not a crash
    reader = buffer_reader(buffers) if buffers else read_text
    return run_text(path, data, kb, config, selection_for(kb, config, gpu), cwd=cwd, read_text=reader)


def buffer_reader(buffers: Mapping[Path, str]) -> Callable[[Path], str | None]:
    """``sources.read_text`` that prefers an open buffer's text to the file on disk."""
    held = {_resolved(path): text.removeprefix("\ufeff") for path, text in buffers.items()}

    def read(path: Path) -> str | None:
        text = held.get(_resolved(path))
        return text if text is not None else read_text(path)

    return read


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def in_file(findings: Iterable[Finding], display: str) -> list[Finding]:
    """The findings located in one file (a setup's facts can come from a file it imports)."""
    return [finding for finding in findings if finding.location.path == display]
