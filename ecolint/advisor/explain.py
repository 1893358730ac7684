"""`ecolint explain PATH[:LINE]`: the advisory answer for each setup the linter recognises in a
file, starting from what the code says.

The setups come from the same extractors and resolution as `ecolint check` (engine.setups_in);
each is turned into the advisor's inputs (GPU, model, precision, batch size, framework as the code
or the configuration states them) and answered by advise.build. Inputs the code does not state
are assumed and asked about, exactly as when they are missing on the `advise` command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecolint import __version__
from ecolint.advisor.advise import build, checked_precision
from ecolint.advisor.inputs import (
    AdviceInputError,
    Inputs,
    advice_data,
    normalise_model,
    option,
    option_from_setup,
)
from ecolint.config import Config
from ecolint.finding import Finding
from ecolint.knowledge import Knowledge
from ecolint.report import footer
from ecolint.report.json import finding_dict
from ecolint.resolve import Resolution, resolve
from ecolint.setups import BATCH_SIZE, LLM_INT8_THRESHOLD, MODEL, PRECISION, Setup

# Frameworks that serve concurrent requests with continuous batching by default.
SERVERS = ("vllm", "tgi", "sglang")


def split_target(target: str) -> tuple[Path, int | None]:
    """'deploy/serve.sh:12' → (path, 12); a path that exists as written wins over the split."""
    path = Path(target)
    if path.exists():
        return path, None
    head, sep, tail = target.rpartition(":")
    if sep and tail.isdigit() and head:
        if int(tail) < 1:
            raise AdviceInputError(f"line numbers start at 1: {target}")
        return Path(head), int(tail)
    return path, None


def explain(
    target: str,
    kb: Knowledge,
    config: Config,
    *,
    gpu: str | None = None,
    objective: str | None = None,
    max_memory_gb: float | None = None,
    model: str | None = None,
    precision: str | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """The answer for each setup in the file. --model, --precision and --batch-size fill in what
    the code leaves unstated (the code wins where it states them, as a GPU in the file wins over
    --gpu); the lint findings are `check`'s for that file, with the configured selection."""
    from ecolint.engine import setups_in

    path, line = split_target(target)
    if not path.exists():
        raise AdviceInputError(f"no such file: {path}")
    if not path.is_file():
        raise AdviceInputError(f"explain reads one file, not a directory: {path} (use `ecolint check` for a tree)")
    found, errors = setups_in(path, kb, config, gpu=gpu)
    if errors:
        raise AdviceInputError(f"{errors[0].path}:{errors[0].line}: cannot be analysed: {errors[0].message}")
    findings = lint_findings(path, kb, config, gpu)
    return answer(
        found,
        findings,
        path.as_posix(),
        line,
        kb,
        config,
        objective=objective,
        max_memory_gb=max_memory_gb,
        model=model,
        precision=precision,
        batch_size=batch_size,
    )


def answer(
    found: list[tuple[Setup, Resolution]],
    findings: list[Finding],
    path: str,
    line: int | None,
    kb: Knowledge,
    config: Config,
    *,
    objective: str | None = None,
    max_memory_gb: float | None = None,
    model: str | None = None,
    precision: str | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """The explain document for setups and findings already found (in a file, or in an editor's
    buffer): the setups at ``line`` (all of them when None), each with the advisor's answer."""
    chosen = at_line(found, line) if line is not None else found
    given = {MODEL: normalise_model(model), PRECISION: _precision(kb, precision), BATCH_SIZE: batch_size}
    chosen = [_filled(setup, res, given, kb, config) for setup, res in chosen]
    entries = [_entry(setup, res, kb, objective, max_memory_gb, findings) for setup, res in chosen]
    return {
        "version": __version__,
        "command": "explain",
        "path": path,
        "line": line,
        "setups": entries,
        "findings": [finding_dict(f) for f in findings],
        "footer": footer(kb, [row for entry in entries for row in entry["advice"]["evidence"]]),
    }


def _precision(kb: Knowledge, token: str | None) -> str | None:
    """A --precision token as the extractors write it (int8-default is int8 at threshold 6.0)."""
    if token is None:
        return None
    return checked_precision(option(kb, token))


def _filled(
    setup: Setup, res: Resolution, given: dict[str, Any], kb: Knowledge, config: Config
) -> tuple[Setup, Resolution]:
    """The setup with the given inputs where the code states nothing, resolved again (by the same
    resolve() `check` uses) when something was filled in."""
    missing = {name: value for name, value in given.items() if value is not None and not setup.has(name)}
    if not missing:
        return setup, res
    for name, value in missing.items():
        setup.set(name, value, how="flag")
    gpu = res.gpu_written if res.gpu_source == "config" else None
    return setup, resolve(setup, kb, gpu_option=gpu, models=config.models, stack=res.stack)


def lint_findings(path: Path, kb: Knowledge, config: Config, gpu: str | None) -> list[Finding]:
    """What `ecolint check FILE` reports for the file, with the configured rule selection."""
    from ecolint.engine import Selection, run
    from ecolint.funnel import enabled_codes

    codes = enabled_codes(
        {code: spec.enabled_by_default for code, spec in kb.rules.items()},
        config.select,
        config.extend_select,
        config.ignore,
    )
    return run([path], kb, config, Selection(codes=codes, gpu=gpu)).findings


def at_line(found: list[tuple[Setup, Resolution]], line: int) -> list[tuple[Setup, Resolution]]:
    """Setups with a fact on that line; else the setup whose facts come nearest to it."""
    on_line = [pair for pair in found if line in _lines(pair[0])]
    if on_line or not found:
        return on_line
    nearest = min(min(abs(n - line) for n in _lines(setup)) for setup, _ in found)
    return [pair for pair in found if min(abs(n - line) for n in _lines(pair[0])) == nearest][:1]


def _lines(setup: Setup) -> set[int]:
    lines = {setup.origin.line}
    for fact in setup.facts.values():
        if fact.location is not None and fact.location.path == setup.origin.path:
            lines.update(range(fact.location.line, fact.location.end_line + 1))
    return lines


def _entry(
    setup: Setup,
    res: Resolution,
    kb: Knowledge,
    objective: str | None,
    max_memory_gb: float | None,
    findings: list[Finding],
) -> dict[str, Any]:
    inputs = inputs_from_code(setup, res, kb, objective, max_memory_gb)
    lines = _lines(setup)
    baseline = option_from_setup(kb, setup.get(PRECISION), setup.get(LLM_INT8_THRESHOLD)) or option(kb, "fp16")
    origin = setup.origin
    return {
        "location": {"path": origin.path, "line": origin.line, "column": origin.column},
        "framework": setup.framework,
        "label": setup.label,
        "from_code": code_facts(setup),
        "advice": build(setup, res, inputs, baseline, kb),
        "findings": [finding_dict(f) for f in findings if f.location.line in lines],
    }


def inputs_from_code(
    setup: Setup, res: Resolution, kb: Knowledge, objective: str | None, max_memory_gb: float | None
) -> Inputs:
    """The advisor's inputs as the code (or the configuration, for the GPU) states them."""
    frameworks = advice_data(kb).get("configs", {})
    batch = _int(setup.get(BATCH_SIZE))
    # A serving framework batches concurrent requests (continuous batching) unless the code caps it.
    batched = batch is None and setup.framework in SERVERS
    return Inputs(
        gpu=res.gpu_written if res.gpu_source != "assumed" else None,
        model=setup.get(MODEL) if isinstance(setup.get(MODEL), str) else None,
        precision=setup.get(PRECISION),
        batch_size=batch,
        framework=setup.framework if setup.framework in frameworks else None,
        objective=objective,
        max_memory_gb=max_memory_gb,
        batched=batched,
    )


def code_facts(setup: Setup) -> list[dict[str, Any]]:
    """Each fact the extractor read, with its line and how it was read (flag, literal, env…)."""
    facts = []
    for name, fact in setup.facts.items():
        loc = fact.location
        facts.append({"fact": name, "value": fact.value, "line": None if loc is None else loc.line, "how": fact.how})
    return facts


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None
