"""Command line: ``ecolint [check] PATHS``, ``ecolint rule CODE``, ``ecolint rules``.

Exit codes: 0 no findings, 1 findings (or files that could not be read), 2 usage,
configuration or internal error. No input makes this print a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from ecolint import __version__

FORMATS = ("text", "json")


class _DefaultCheckGroup(click.Group):
    """`ecolint PATH…` means `ecolint check PATH…`, as in ruff's early days."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


def _fail(message: str) -> None:
    click.echo(f"ecolint: error: {message}", err=True)
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
    """ecolint: find energy waste in LLM inference setups, with measured evidence."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--gpu", help="GPU the setups run on (e.g. 'A100', 'RTX 4090D'); a GPU stated in a file wins.")
@click.option("--select", multiple=True, help="Codes or prefixes to run, replacing the default set (ALL for every rule).")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to run on top of the default set.")
@click.option("--ignore", multiple=True, help="Codes or prefixes not to run.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Use this ecolint.toml / pyproject.toml.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@_guard
def check(
    paths: tuple[Path, ...],
    output_format: str,
    gpu: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: Path | None,
    isolated: bool,
    exit_zero: bool,
) -> None:
    """Audit PATHS (default: the current directory)."""
    from ecolint import knowledge
    from ecolint.config import ConfigError, find_config_file, load_config
    from ecolint.engine import Selection, run
    from ecolint.funnel import check_selectors, enabled_codes

    targets = list(paths) or [Path(".")]
    for target in targets:
        if not target.exists() and not target.is_symlink():
            raise click.UsageError(f"path does not exist: {target}")
    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"{config_path}: no such configuration file")
    config = load_config(None if isolated else (config_path or find_config_file(targets[0])))
    kb = knowledge.load()
    known = list(kb.rules)
    where_cli = "command line"
    for selectors, where in (
        (config.select or [], f"{config.source}: select"),
        (config.extend_select, f"{config.source}: extend-select"),
        (config.ignore, f"{config.source}: ignore"),
        (_split(select) + _split(extend_select) + _split(ignore), where_cli),
    ):
        check_selectors(selectors, known, where)
    codes = enabled_codes(
        {code: spec.enabled_by_default for code, spec in kb.rules.items()},
        _split(select) or config.select,
        config.extend_select + _split(extend_select),
        config.ignore + _split(ignore),
    )
    result = run(targets, kb, config, Selection(codes=codes, gpu=gpu or None))
    if output_format == "json":
        from ecolint.report import json as report
        click.echo(report.render(result), nl=False)
    else:
        from ecolint.report import text as report_text
        click.echo(report_text.render(result, kb), nl=False)
    failed = bool(result.findings or result.errors)
    sys.exit(0 if exit_zero or not failed else 1)


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
    click.echo(rule_markdown(spec, kb))


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
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
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        default = "on" if row["default"] else "opt-in"
        click.echo(f"{row['code']}  {row['name']:<28} {default:<7} {row['severity']:<8} {row['summary']}")
