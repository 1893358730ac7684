"""Command line: ``ecolint [check] PATHS``, ``ecolint rule CODE``, ``ecolint rules``.

Exit codes: 0 no findings, 1 findings (or files that could not be read), 2 usage,
configuration or internal error. No input makes this print a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ecolint import __version__
from ecolint.report.console import PLAIN, Style, color_choice, echo, echo_bytes

FORMATS = ("text", "json")
CHECK_FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "rdjson")
SEVERITY_RANK = {"note": 0, "warning": 1, "error": 2}
HUMAN_FORMATS = ("text", "concise")  # written in the console's encoding; the others as UTF-8 bytes


class _DefaultCheckGroup(click.Group):
    """`ecolint PATH…` means `ecolint check PATH…`, as in ruff's early days. A command name wins
    over a path of the same name (`ecolint rules` lists the rules); `ecolint check rules` or
    `ecolint ./rules` checks such a folder."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            if args and not args[0].startswith("-"):
                self._refuse_typo(args[0])
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def _refuse_typo(self, word: str) -> None:
        """`ecolint chek .`: a word that is no path but nearly a command is a typo, said so."""
        import difflib

        if Path(word).exists() or Path(word).is_symlink():
            return
        close = difflib.get_close_matches(word, list(self.commands), n=1, cutoff=0.6)
        if close:
            raise click.UsageError(f"no such command or path '{word}'; did you mean '{close[0]}'?")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with the whole first line of its help, not click's cut-off one."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            first = (command.help or "").strip().splitlines()[0] if command.help else ""
            rows.append((name + (" (default)" if name == "check" else ""), first))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _fail(message: str) -> None:
    echo(f"ecolint: error: {message}", err=True)
    sys.exit(2)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every expected failure into a message and exit 2; unexpected ones too, with no traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ecolint.config import ConfigError
        from ecolint.funnel import SelectionError
        from ecolint.knowledge import KnowledgeError

        try:
            return fn(*args, **kwargs)
        except (ConfigError, SelectionError) as exc:
            _fail(str(exc))
        except KnowledgeError as exc:
            _fail(f"the rules/ catalogue is broken ({exc}); please report this")
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence: a message, never a traceback
            _fail(f"internal error ({type(exc).__name__}: {exc}); please report this")

    return wrapper


def _split(values: tuple[str, ...]) -> list[str]:
    """--select ECO101,ECO102 --select ECO2 → ['ECO101', 'ECO102', 'ECO2']."""
    return [part.strip().upper() for value in values for part in value.split(",") if part.strip()]


@click.group(cls=_DefaultCheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecolint")
def main() -> None:
    """ecolint: find energy waste in LLM inference setups, with measured evidence.

    `check` is the default command: `ecolint PATHS` is `ecolint check PATHS`. A command name wins
    over a folder of that name: `ecolint check rules` or `ecolint ./rules` checks a rules/ folder.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "--output-format",
    "output_format",
    type=click.Choice(CHECK_FORMATS),
    default="text",
    show_default=True,
    envvar="ECOLINT_OUTPUT_FORMAT",
    show_envvar=True,
    help="How to print the report (--output-format is ruff's spelling).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--color",
    type=click.Choice(("auto", "always", "never")),
    default="auto",
    show_default=True,
    help="Colour the text report (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it).",
)
@click.option(
    "--json-output", type=click.Path(path_type=Path, dir_okay=False), help="Also write the JSON report to FILE."
)
@click.option("--sarif-output", type=click.Path(path_type=Path, dir_okay=False), help="Also write SARIF to FILE.")
@click.option(
    "--gitlab-output", type=click.Path(path_type=Path, dir_okay=False), help="Also write GitLab Code Quality to FILE."
)
@click.option("--junit-output", type=click.Path(path_type=Path, dir_okay=False), help="Also write JUnit XML to FILE.")
@click.option(
    "--rdjson-output", type=click.Path(path_type=Path, dir_okay=False), help="Also write reviewdog rdjson to FILE."
)
@click.option(
    "--statistics", is_flag=True, help="Print counts by rule, severity and confidence instead of the findings."
)
@click.option(
    "--fail-on",
    type=click.Choice(("note", "warning", "error")),
    help="Lowest severity that makes the exit code 1 [default: note].",
)
@click.option(
    "--min-confidence",
    type=click.IntRange(1, 3),
    help="Hide findings below this many ★ (1-3); they do not count [default: 1].",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Report only findings not in this baseline file.",
)
@click.option(
    "--write-baseline",
    "write_baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every current finding to this baseline file and exit 0.",
)
@click.option("--gpu", help="GPU the setups run on (e.g. 'A100', 'RTX 4090D'); a GPU stated in a file wins.")
@click.option(
    "--select", multiple=True, help="Codes or prefixes to run, replacing the default set (ALL for every rule)."
)
@click.option("--extend-select", multiple=True, help="Codes or prefixes to run on top of the default set.")
@click.option("--ignore", multiple=True, help="Codes or prefixes not to run.")
@click.option("--exclude", multiple=True, help="Globs to skip, replacing the configured exclude.")
@click.option("--extend-exclude", multiple=True, help="Globs to skip on top of the configured ones.")
@click.option(
    "--per-file-ignores",
    multiple=True,
    metavar="GLOB:CODES",
    help="Codes to ignore in matching files, replacing the configured table.",
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Apply excludes and .gitignore to paths passed explicitly too (pre-commit).",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip files that .gitignore files list [default: respect].",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="ECOLINT_CACHE_DIR",
    show_envvar=True,
    help="Keep what extraction found per file here and reuse it while files are unchanged "
    "[default: .ecolint_cache at the project root].",
)
@click.option(
    "--no-cache",
    is_flag=True,
    envvar="ECOLINT_NO_CACHE",
    show_envvar=True,
    help="Neither read nor write the extraction cache.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this ecolint.toml / pyproject.toml.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With '-' (read standard input): the path the content stands for (kind, configuration, output).",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--report-unused-ignores",
    is_flag=True,
    help="Report ignore comments that suppressed nothing (like ruff's RUF100); they fail the run.",
)
@click.option(
    "--add-ignore",
    is_flag=True,
    help="Write an ignore comment for every current finding (ruff's --add-noqa), then exit 0.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply unsafe fixes (they change numerics, memory or latency); implies --fix.",
)
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and change nothing.")
@_guard
def check(
    paths: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    color: str,
    json_output: Path | None,
    sarif_output: Path | None,
    gitlab_output: Path | None,
    junit_output: Path | None,
    rdjson_output: Path | None,
    statistics: bool,
    fail_on: str | None,
    min_confidence: int | None,
    baseline_path: Path | None,
    write_baseline_path: Path | None,
    gpu: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    per_file_ignores: tuple[str, ...],
    force_exclude: bool | None,
    respect_gitignore: bool | None,
    cache_dir: Path | None,
    no_cache: bool,
    config_path: Path | None,
    stdin_filename: Path | None,
    isolated: bool,
    report_unused_ignores: bool,
    add_ignore: bool,
    exit_zero: bool,
    fix: bool = False,
    unsafe_fixes: bool = False,
    diff: bool = False,
) -> None:
    """Audit PATHS (default: the current directory)."""
    from ecolint import knowledge
    from ecolint.config import ConfigError, find_config_file, load_config
    from ecolint.engine import Selection
    from ecolint.funnel import enabled_codes

    targets = list(paths) or [Path(".")]
    stdin = _stdin_input(targets, stdin_filename, fix or unsafe_fixes or diff)
    if stdin is not None:
        targets = [stdin[0]]
    for target in targets if stdin is None else ():
        if not target.exists() and not target.is_symlink():
            raise click.UsageError(f"path does not exist: {target}")
    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"{config_path}: no such configuration file")
    if statistics and output_format == "concise":
        output_format = "text"
    if statistics and output_format not in ("text", "json"):
        raise click.UsageError("--statistics prints text or json, not --format " + output_format)
    fixing = fix or unsafe_fixes or diff
    if fixing and write_baseline_path is not None:
        raise click.UsageError("--write-baseline records findings; it does not combine with --fix / --diff")
    if add_ignore and (fixing or write_baseline_path is not None or stdin is not None):
        raise click.UsageError(
            "--add-ignore edits the files checked; it does not combine with --fix, --diff, --write-baseline or '-'"
        )
    config = load_config(None if isolated else (config_path or find_config_file(targets[0])))
    _override_config(config, exclude, extend_exclude, per_file_ignores, force_exclude, respect_gitignore)
    if cache_dir is not None:
        config.cache_dir = cache_dir
    cache = None if no_cache or stdin is not None else _cache_dir(config, targets)
    fail_on = fail_on or config.fail_on
    min_confidence = min_confidence or config.min_confidence
    kb = knowledge.load()
    kb.memo_dir = cache  # the evidence base, parsed, kept beside the extraction cache
    _check_selectors(config, list(kb.rules), select + extend_select + ignore, bool(per_file_ignores))
    codes = enabled_codes(
        {code: spec.enabled_by_default for code, spec in kb.rules.items()},
        _split(select) or config.select,
        config.extend_select + _split(extend_select),
        config.ignore + _split(ignore),
    )
    if not codes:
        echo("ecolint: warning: the selection is empty: no rule runs (see --select, --ignore and the config)", err=True)
    if write_baseline_path is not None:
        # Every current finding, whatever --baseline or --min-confidence say: a baseline that
        # left some out would bring them back the day the floor is lowered.
        result = _run(targets, stdin, kb, config, Selection(codes=codes, gpu=gpu or None), cache)
        _write_baseline(write_baseline_path, result)
        sys.exit(0)
    accepted = _load_baseline(baseline_path)
    selection = Selection(codes=codes, gpu=gpu or None, baseline=accepted, min_confidence=min_confidence)
    if fixing:
        result = _fix(
            targets,
            kb,
            config,
            selection,
            unsafe=unsafe_fixes,
            diff=diff,
            output=output,
            exit_zero=exit_zero,
            cache=cache,
        )
        if result is None:  # --diff: the diff was the output
            return
    else:
        result = _run(targets, stdin, kb, config, selection, cache)
    for note in result.notes:
        echo(f"ecolint: {note}", err=True)
    if result.files_seen == 0 and not result.errors:
        echo(f"ecolint: warning: {_nothing_to_check(targets, stdin is not None)}", err=True)
    if add_ignore:
        _add_ignores(result)
        sys.exit(0)
    extra = {"json": json_output, "sarif": sarif_output, "gitlab": gitlab_output, "junit": junit_output}
    extra["rdjson"] = rdjson_output
    for extra_format, path in extra.items():
        if path is not None:
            _emit(_render(result, kb, codes, extra_format, False), path, human=False)
    colour = color_choice(color)
    style = Style(enabled=colour is not False and output is None)
    report = _render(result, kb, codes, output_format, statistics, style)
    _emit(report, output, human=output_format in HUMAN_FORMATS, color=colour)
    unused = result.unused_ignores if report_unused_ignores else []
    for line in unused:
        echo(line, err=True)
    failed = bool(result.errors or unused)
    failed = failed or any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on] for f in result.findings)
    if output is None and not any(path is not None for path in extra.values()) and stdin is None and not fixing:
        from ecolint import memo

        memo.offer(cache, result.rests_on)  # a re-run where nothing changed prints this again
    sys.exit(0 if exit_zero or not failed else 1)


def _check_selectors(config: Any, known: list[str], given: tuple[str, ...], pfi_given: bool) -> None:
    """A selector that names no rule is an error (it would select nothing); an unknown code in
    per-file-ignores is a warning, as ruff's unknown noqa codes are."""
    from ecolint.funnel import check_selectors, unknown_codes

    for selectors, where in (
        (config.select or [], f"{config.source}: select"),
        (config.extend_select, f"{config.source}: extend-select"),
        (config.ignore, f"{config.source}: ignore"),
        (_split(given), "command line"),
    ):
        check_selectors(selectors, known, where)
    for glob, ignored in config.per_file_ignores.items():
        bad = unknown_codes(ignored, known)
        if bad:
            where = "command line" if pfi_given else str(config.source)
            echo(f"ecolint: warning: {where}: per-file-ignores '{glob}': {', '.join(bad)} names no rule", err=True)


def _add_ignores(result: Any) -> None:
    from ecolint.add_ignore import AddIgnoreError, add_ignores
    from ecolint.config import ConfigError

    try:
        added = add_ignores(result.findings)
    except AddIgnoreError as exc:
        raise ConfigError(str(exc)) from None
    comments = sum(item.comments for item in added)
    files = sum(1 for item in added if item.comments)
    echo(
        f"Added {comments} ignore comment{'s' if comments != 1 else ''} to {files} file{'s' if files != 1 else ''}.",
        err=True,
    )
    for item in added:
        if item.skipped:
            echo(
                f"ecolint: warning: {item.path}: {item.skipped} finding(s) left without a comment "
                "(a notebook cell whose source is one string): add it in the cell",
                err=True,
            )


def _nothing_to_check(targets: list[Path], stdin: bool) -> str:
    kinds = "Python, shell, YAML, Dockerfiles, Modelfiles, requirements and pyproject.toml"
    if stdin:
        return f"{targets[0]} is not a kind of file ecolint reads ({kinds})"
    where = ", ".join(str(target) for target in targets)
    return f"no files to check in {where} (ecolint reads {kinds})"


def _stdin_input(
    targets: list[Path], stdin_filename: Path | None, fixing: bool
) -> tuple[Path, bytes, str | None] | None:
    """`ecolint -`: the path the content stands for, the bytes read from standard input, and
    the kind when no --stdin-filename names one (Python, as in ruff). None: not a stdin run."""
    if Path("-") not in targets:
        return None
    if len(targets) > 1:
        raise click.UsageError("'-' (standard input) cannot be combined with other paths")
    if fixing:
        raise click.UsageError("--fix / --diff rewrite files; they do not read standard input")
    data = sys.stdin.buffer.read()
    if stdin_filename is None:
        return Path("-"), data, "python"
    return stdin_filename, data, None


def _cache_dir(config: Any, targets: list[Path]) -> Path:
    """Where `check` keeps its cache: --cache-dir or the configured one, else, as ruff does,
    `.ecolint_cache/` at the root of the project the first path belongs to."""
    from ecolint.project import project_root

    if config.cache_dir is not None:
        return Path(config.cache_dir)
    return project_root(targets[0], config.source, Path.cwd()) / ".ecolint_cache"


def _run(
    targets: list[Path],
    stdin: tuple[Path, bytes, str | None] | None,
    kb: Any,
    config: Any,
    selection: Any,
    cache: Path | None = None,
) -> Any:
    from ecolint.engine import run, run_text
    from ecolint.report import progress

    if stdin is not None:
        path, data, kind = stdin
        return run_text(path, data, kb, config, selection, kind=kind)
    if not progress.wanted(sys.stderr):
        return run(targets, kb, config, selection, cache_dir=cache)
    line = progress.ProgressLine(sys.stderr)
    try:
        return run(targets, kb, config, selection, progress=line, cache_dir=cache)
    finally:
        line.close()
        if line.shown:
            from ecolint import memo

            memo.forgo()  # a replay would not show it


def _fix(
    targets: list[Path],
    kb: Any,
    config: Any,
    selection: Any,
    *,
    unsafe: bool,
    diff: bool,
    output: Path | None,
    exit_zero: bool = False,
    cache: Path | None = None,
) -> Any:
    """--fix / --unsafe-fixes: apply, then run again and return the result that remains (the
    summary goes to standard error). --diff: print the diff, change nothing, exit 1 if there is
    one; returns None."""
    from ecolint import fix as fixer
    from ecolint.engine import Engine, run

    engine = Engine(kb, config, selection, cache_dir=cache)
    first = engine.run(targets)
    files = fixer.fix_run(engine, targets, first.findings, unsafe)
    fixed = sum(len(item.fixed) for item in files if item.changed)
    hidden = 0 if unsafe else fixer.hidden_unsafe(files)
    hint = f" ({hidden} more fix{'es' if hidden != 1 else ''} available with --unsafe-fixes)" if hidden else ""
    if diff:
        _emit("".join(item.diff() for item in files if item.changed), output, human=False)
        echo(f"Would fix {fixed} finding{'s' if fixed != 1 else ''}{hint}.", err=True)
        sys.exit(1 if fixed and not exit_zero else 0)
    written = fixer.write(files)
    result = run(targets, kb, config, selection, cache_dir=cache) if written else first
    for item in written:
        codes = ", ".join(sorted({step.finding.code for step in item.fixed}))
        tidied = f"; removed what the fixes left unused: {', '.join(map(str, item.removed))}" if item.removed else ""
        echo(f"fixed  {item.display}: {len(item.fixed)} ({codes}){tidied}", err=True)
    fixed = sum(len(item.fixed) for item in written)
    remaining = len(result.findings)
    echo(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}, {remaining} remaining.", err=True)
    if hidden:
        echo(f"{hidden} fix{'es' if hidden != 1 else ''} available with --unsafe-fixes.", err=True)
    return result


def _override_config(
    config: Any,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    per_file_ignores: tuple[str, ...],
    force_exclude: bool | None,
    respect_gitignore: bool | None,
) -> None:
    """Command-line options win over the configuration file, key by key."""
    from ecolint.config import ConfigError

    if exclude:
        config.exclude = _globs(exclude)
    config.extend_exclude = config.extend_exclude + _globs(extend_exclude)
    if per_file_ignores:
        table: dict[str, list[str]] = {}
        for entry in per_file_ignores:
            glob, sep, codes = entry.rpartition(":")
            if not sep or not glob or not codes.strip():
                raise ConfigError(
                    f"command line: --per-file-ignores '{entry}' must be GLOB:CODES (e.g. 'tests/*:ECO105')"
                )
            table.setdefault(glob, []).extend(_split((codes,)))
        config.per_file_ignores = table
    if force_exclude is not None:
        config.force_exclude = force_exclude
    if respect_gitignore is not None:
        config.respect_gitignore = respect_gitignore


def _globs(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _load_baseline(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    from ecolint import baseline

    return baseline.load(path)


def _write_baseline(path: Path, result: Any) -> None:
    from ecolint import baseline

    baseline.write(path, result.findings)
    message = (
        f"ecolint: wrote {len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} to baseline {path}"
    )
    if result.errors:
        message += f" ({len(result.errors)} file{'s' if len(result.errors) != 1 else ''} could not be read: ECO001)"
    echo(message, err=True)


def _render(result: Any, kb: Any, codes: list[str], output_format: str, statistics: bool, style: Style = PLAIN) -> str:
    if statistics:
        from ecolint.report import statistics as report_stats

        return report_stats.render_json(result, kb) if output_format == "json" else report_stats.render_text(result, kb)
    if output_format == "json":
        from ecolint.report import json as report_json

        return report_json.render(result)
    if output_format == "sarif":
        from ecolint.report import sarif

        return sarif.render(result, kb, codes)
    if output_format == "github":
        from ecolint.report import github

        return github.render(result)
    if output_format == "gitlab":
        from ecolint.report import gitlab

        return gitlab.render(result)
    if output_format == "junit":
        from ecolint.report import junit

        return junit.render(result)
    if output_format == "rdjson":
        from ecolint.report import rdjson

        return rdjson.render(result)
    from ecolint.report import text as report_text

    if output_format == "concise":
        return report_text.render_concise(result, kb, style)
    return report_text.render(result, kb, style)


def _emit(report: str, output: Path | None, human: bool = True, color: bool | None = None) -> None:
    """The report goes to --output (and nowhere else, as UTF-8) or to standard output: human
    text in whatever the console can encode, machine formats as UTF-8 bytes."""
    if output is None:
        if human:
            echo(report, nl=False, color=color)
        else:
            echo_bytes(report)
        return
    from ecolint.config import ConfigError

    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(report)
    except OSError as exc:
        raise ConfigError(f"{output}: cannot write the report: {exc.strerror or exc}") from None


@main.command("rule")
@click.argument("code")
@_guard
def rule_command(code: str) -> None:
    """Show a rule's documentation (offline), as `ruff rule` does."""
    from ecolint import knowledge
    from ecolint.docs import rule_markdown

    kb = knowledge.load()
    spec = kb.rules.get(code.upper())
    if spec is None:
        raise click.UsageError(f"unknown rule '{code}' (known: {', '.join(kb.rules)})")
    echo(rule_markdown(spec, kb))


@main.command("rules")
@click.option(
    "--format", "--output-format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@_guard
def rules_command(output_format: str) -> None:
    """List every rule: code, name, default, severity."""
    import json

    from ecolint import knowledge

    kb = knowledge.load()
    rows = [
        {
            "code": s.code,
            "name": s.name,
            "default": s.enabled_by_default,
            "severity": s.severity,
            "summary": s.summary,
            "fix_safety": s.fix_safety,
        }
        for s in kb.rules.values()
    ]
    if output_format == "json":
        echo_bytes(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    for row in rows:
        default = "on" if row["default"] else "opt-in"
        echo(f"{row['code']}  {row['name']:<28} {default:<7} {row['severity']:<8} {row['summary']}")


# -- advisor commands: advise, compare, explain (ecolint/advisor/) ------------------------------

ADVICE_FRAMEWORKS = ("transformers", "vllm", "tgi", "sglang", "llama.cpp", "ollama")
OBJECTIVES = ("energy", "throughput", "memory")


def _advisor(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A bad advisor input is a usage error: one line naming it, exit 2, no traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ecolint.advisor import AdviceInputError

        try:
            return fn(*args, **kwargs)
        except AdviceInputError as exc:
            _fail(str(exc))

    return wrapper


def _print_document(document: dict[str, Any], output_format: str, render: Callable[[dict[str, Any]], str]) -> None:
    import json

    if output_format == "json":
        echo_bytes(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        echo(render(document), nl=False)


def _advice_inputs(**options: Any) -> Any:
    from ecolint.advisor import inputs as advice_inputs

    framework = advice_inputs.framework(options.get("framework"))
    model = options.get("model")
    if model is not None and not model.strip():
        raise advice_inputs.AdviceInputError("--model is empty")
    stack, models = _project_facts(options.get("project"))
    return advice_inputs.Inputs(
        stack=stack,
        models=models,
        gpu=(options.get("gpu") or "").strip() or None,
        model=model,
        precision=options.get("precision"),
        batch_size=options.get("batch_size"),
        framework=framework,
        objective=options.get("objective"),
        max_memory_gb=options.get("max_memory"),
    )


def _project_facts(path: Path | None) -> tuple[dict[str, str], dict[str, float]]:
    """The pins and model table of the project at ``path`` (default: the current directory's)."""
    from ecolint import project

    return project.pins_and_models(path or Path.cwd(), Path.cwd())


_PROJECT_HELP = (
    "Read version pins and the model table from this project, as `check` does: pinned torch and"
    " bitsandbytes pick the matching measured session [default: the current directory's project]."
)
_GPU_HELP = "GPU it runs on (e.g. 'RTX 4090D', 'A100'); default: the closest measured platform, said out loud."
_OBJECTIVE_HELP = "What to optimise [default: energy per request]."


@main.command("advise")
@click.option("--gpu", help=_GPU_HELP)
@click.option("--model", help="Model id (Qwen/Qwen2-7B) or size (7B).")
@click.option(
    "--precision",
    help="Current precision: fp16, bf16, nf4, int8 (threshold 0.0), int8-default, fp8, … [default: fp16].",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Concurrent requests per batch [default: 1].")
@click.option("--framework", help="transformers, vllm, tgi, sglang, llama.cpp or ollama (for the config line).")
@click.option("--objective", type=click.Choice(OBJECTIVES), help=_OBJECTIVE_HELP)
@click.option(
    "--max-memory",
    type=click.FloatRange(min=0, min_open=True),
    help="GPU memory available for the weights, in GB (ranks the options).",
)
@click.option("--project", type=click.Path(path_type=Path, exists=True), help=_PROJECT_HELP)
@click.option(
    "--format", "--output-format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@_guard
@_advisor
def advise_command(output_format: str, **options: Any) -> None:
    """Recommend a precision for one setup, with the evidence behind every number."""
    from ecolint import knowledge
    from ecolint.advisor.advise import advise
    from ecolint.advisor.text import render_advice

    kb = knowledge.load()
    _print_document(advise(_advice_inputs(**options), kb), output_format, render_advice)


@main.command("compare")
@click.argument("items", nargs=-1)
@click.option("--gpu", help=_GPU_HELP + " (precision comparisons)")
@click.option("--model", help="Model id (Qwen/Qwen2-7B) or size (7B).")
@click.option("--precision", help="Precision of a GPU comparison [default: fp16].")
@click.option("--batch-size", type=click.IntRange(min=1), help="Concurrent requests per batch [default: 1].")
@click.option("--objective", type=click.Choice(OBJECTIVES), help="Name one overall winner by this dimension.")
@click.option("--project", type=click.Path(path_type=Path, exists=True), help=_PROJECT_HELP)
@click.option(
    "--format", "--output-format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@_guard
@_advisor
def compare_command(items: tuple[str, ...], output_format: str, **options: Any) -> None:
    """Compare precisions (fp16 nf4 int8) or GPUs (T4 A800) side by side."""
    from ecolint import knowledge
    from ecolint.advisor.compare import compare
    from ecolint.advisor.text import render_compare

    kb = knowledge.load()
    _print_document(compare(list(items), _advice_inputs(**options), kb), output_format, render_compare)


@main.command("explain")
@click.argument("target", metavar="PATH[:LINE]")
@click.option("--gpu", help="GPU the setups run on; a GPU stated in the file wins.")
@click.option("--model", help="Model id or size, where the code does not state it.")
@click.option("--precision", help="Precision (fp16, nf4, int8, int8-default, …), where the code does not state it.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="Concurrent requests per batch, where the code does not state it."
)
@click.option("--objective", type=click.Choice(OBJECTIVES), help=_OBJECTIVE_HELP)
@click.option(
    "--max-memory", type=click.FloatRange(min=0, min_open=True), help="GPU memory available for the weights, in GB."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this ecolint.toml / pyproject.toml.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--format", "--output-format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@_guard
@_advisor
def explain_command(
    target: str,
    gpu: str | None,
    model: str | None,
    precision: str | None,
    batch_size: int | None,
    objective: str | None,
    max_memory: float | None,
    config_path: Path | None,
    isolated: bool,
    output_format: str,
) -> None:
    """The advisory answer for each setup recognised in a file (or at one line of it)."""
    from ecolint import knowledge
    from ecolint.advisor.explain import explain, split_target
    from ecolint.advisor.text import render_explain
    from ecolint.config import ConfigError, find_config_file, load_config

    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"{config_path}: no such configuration file")
    path, _ = split_target(target)
    config = load_config(None if isolated else (config_path or find_config_file(path)))
    kb = knowledge.load()
    if model is not None and not model.strip():
        raise ConfigError("--model is empty")
    document = explain(
        target,
        kb,
        config,
        gpu=(gpu or "").strip() or None,
        objective=objective,
        max_memory_gb=max_memory,
        model=model,
        precision=precision,
        batch_size=batch_size,
    )
    _print_document(document, output_format, render_explain)
    if not document["setups"]:
        sys.exit(1)


# -- servers: lsp, mcp (ecolint/servers/) -------------------------------------------------------


def _server_module(name: str, extra: str, library: str) -> Any:
    """A server module, imported only when its command runs; a missing extra is said plainly."""
    import importlib

    try:
        return importlib.import_module(f"ecolint.servers.{name}")
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] == library:
            _fail(f"`ecolint {extra}` needs {library}: pip install 'ecolint[{extra}]'")
        raise


@main.command("lsp")
@click.option("--gpu", help="GPU the setups run on, when no file or configuration says; a GPU stated in a file wins.")
@_guard
def lsp_command(gpu: str | None) -> None:
    """Run the language server for editors on standard input/output (pip install 'ecolint[lsp]')."""
    _server_module("lsp", "lsp", "pygls").serve((gpu or "").strip() or None)


@main.command("mcp")
@click.option("--allow-fix", is_flag=True, help="Offer the fix tool, which writes files (read-only without it).")
@_guard
def mcp_command(allow_fix: bool) -> None:
    """Run the MCP server for AI agents on standard input/output (pip install 'ecolint[mcp]')."""
    _server_module("mcp", "mcp", "mcp").serve(allow_fix)
