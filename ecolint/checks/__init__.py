"""The audit: rules as small functions ``Setup → findings``, registered by code.

Each rule module reads top to bottom: the rule's doc lives in its YAML in rules/ (one source
for `ecolint rule`, SARIF help and docs/rules.md), the examples are the annotated fixtures in
fixtures/, and the logic is here. Rules never handle suppression or selection: the funnel does.

Every module in this package is a check module, found by walking the package (nothing lists
them). ``@rule(CODE)`` registers a function under its code, and the function is called with a
context bound to that code, so ``ctx.finding(location, detail)`` never repeats it. The registry
and the rules/ catalogue must match both ways (``check_catalogue``).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ecolint.edits import Edit
from ecolint.finding import Finding, overhead_text
from ecolint.fix import edit_for
from ecolint.intent import Intent
from ecolint.knowledge import Knowledge, KnowledgeError, RuleSpec, nearest_rows, request_rows
from ecolint.resolve import BOUNDARY_TEXT, Resolution, setup_summary
from ecolint.setups import (
    DEFAULTS_CHOSEN,
    DEFAULTS_DECIDING,
    GENERATION_CALL,
    RELOAD_PER_REQUEST,
    REQUEST_SOURCE,
    SINGLE_REQUEST,
    Location,
    Setup,
)

CheckFn = Callable[[Setup, "CheckContext"], Iterable[Finding]]
_REGISTRY: dict[str, CheckFn] = {}
# Boundaries whose reason is already in the confidence reasons: not said twice.
_SAID_BY_REASONS = {"assumed-gpu", "unmeasured-gpu", "stack-drift"}


class RegistryError(KnowledgeError):
    """The check functions and the rules/ catalogue disagree: a bug in ecolint, like a broken YAML."""


def rule(code: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under its stable code (the code's YAML holds its texts and numbers)."""

    def register(fn: CheckFn) -> CheckFn:
        known = _REGISTRY.get(code)
        if known is not None and _qualified(known) != _qualified(fn):
            raise RegistryError(f"{code} is registered twice: {_qualified(known)} and {_qualified(fn)}")
        _REGISTRY[code] = fn
        return fn

    return register


def _qualified(fn: CheckFn) -> str:
    return f"{fn.__module__}.{getattr(fn, '__qualname__', fn)}"


@functools.lru_cache(maxsize=4)
def _check_modules(path: tuple[str, ...]) -> tuple[str, ...]:
    """The modules of this package (each one a check module), found once per package path."""
    return tuple(sorted(f"{__name__}.{info.name}" for info in pkgutil.iter_modules(list(path))))


def registered() -> dict[str, CheckFn]:
    """Every check, by code: importing the check modules registers them."""
    for name in _check_modules(tuple(__path__)):
        importlib.import_module(name)
    return dict(sorted(_REGISTRY.items()))


def check_catalogue(kb: Knowledge) -> dict[str, CheckFn]:
    """The registry, after checking it against the catalogue both ways: a check without YAML,
    YAML (other than a tool diagnostic) without a check, and a diagnostic with a check are
    errors naming each."""
    checks = registered()
    problems = [
        f"{code}: check {_qualified(fn)} has no rules/{code}-*.yaml"
        for code, fn in checks.items()
        if code not in kb.rules
    ]
    for code, spec in kb.rules.items():
        if spec.diagnostic and code in checks:
            problems.append(f"{code}: marked `diagnostic: true` in rules/ but has a check, {_qualified(checks[code])}")
        elif not spec.diagnostic and code not in checks:
            problems.append(
                f"{code}: rules/{code}-{spec.name}.yaml has no @rule check (a tool diagnostic says `diagnostic: true`)"
            )
    if problems:
        raise RegistryError("; ".join(problems))
    return checks


@dataclass
class CheckContext:
    kb: Knowledge
    resolution: Resolution
    setup: Setup
    # The rule this context reports for: set by run_checks from the check's @rule code.
    code: str = ""

    def bound(self, code: str) -> CheckContext:
        return dataclasses.replace(self, code=code)

    @property
    def spec(self) -> RuleSpec:
        return self.kb.rule(self.code)

    @property
    def facts(self) -> dict[str, Any]:
        """The rule's own figures and texts, from the `facts` block of its YAML."""
        return self.spec.facts

    @property
    def architecture_key(self) -> str | None:
        arch = self.resolution.architecture
        return None if arch is None else arch.key

    def rows(self, precision: str, *, threshold: float | None = None, limit: int = 2) -> list[dict[str, Any]]:
        return nearest_rows(
            self.kb,
            self.architecture_key,
            precision,
            self.resolution.params_b,
            threshold=threshold,
            limit=limit,
            session=self.resolution.session,
        )

    def request_rows(self, *precisions: str) -> list[dict[str, Any]]:
        from ecolint.setups import MODEL

        return request_rows(self.kb, self.resolution.gpu.name, self.setup.get(MODEL), precisions)

    def finding(
        self,
        location: Location,
        detail: str,
        *,
        overhead: dict[str, Any] | None = None,
        notes: Iterable[str] = (),
        evidence: Iterable[dict[str, Any]] = (),
        confidence_delta: int = 0,
        confidence: int | None = None,
        severity: str | None = None,
        edit: Intent | None = None,
        snippet: str | None = None,
        rests_on: Collection[str] | None = None,
    ) -> Finding:
        """Build a finding with everything the reports need; the message ends with the overhead.

        ``edit`` is the rule's intent for `--fix` (``Unset(fact)``, ``Set(fact, value)``):
        ecolint/fix.py turns it into the edit of the fact where this setup writes it. None, or an
        intent no site of the setup fits, when the fix cannot be written down as an edit: the
        finding keeps its snippet only. ``snippet`` names the YAML fix snippet to show where the
        framework's own does not fit this case (torchao weight-only FP8 is not fixed by compiling).
        ``rests_on``: the facts the finding rests on; the message then names only the
        command-line defaults that decided them (all of them when None)."""
        if not self.code:
            raise RegistryError("a finding from a context bound to no rule (call checks through run_checks)")
        spec: RuleSpec = self.spec
        overhead = spec.overhead if overhead is None else overhead
        message = f"{spec.summary}: {detail}"
        chosen = _defaults_named(self.setup, rests_on)
        if chosen:  # the setup is the one a run that passes none of these options gets
            message += " (with " + " and ".join(f"{name}'s default" for name in chosen) + ")"
        if overhead:
            message += f": {overhead_text(overhead)} energy per {overhead.get('per', 'request')}"
        stars = confidence if confidence is not None else self.resolution.confidence + confidence_delta
        fix = _fix_for(
            spec,
            snippet or self.setup.framework,
            None if edit is None else edit_for(edit, self.setup, location),
            self.resolution.missing_formats,
            python=_written_in_python(self.setup),
        )
        notes = list(notes)
        if fix is not None:
            # the snippet for a GPU without BF16 / FP8 tensor cores: say why it differs
            notes = [*notes, *(self.resolution.capability_notes[f] for f in fix.pop("without"))]
        also_at: tuple[Location, ...] = ()
        through = self.setup.through
        if through is not None:
            # A setup one call site makes through a helper of another module is reported at that
            # call site; an ignore comment where the fact is written, or on the helper's loading
            # call, silences it too.
            also_at = tuple(dict.fromkeys((location, through)))
            if _generates_here(location, self.setup):
                # generation inside the helper is reported where it runs, once for every call
                # site whose verdict is the same (the funnel merges them); an ignore on the call
                # site silences this one's
                origin = self.setup.origin
                also_at = tuple(dict.fromkeys((origin, through)))
                if location.path != origin.path or through.path == origin.path:  # run in the helper
                    notes.append(f"the model is loaded at {origin.path}:{origin.line}")
            elif _helpers_own(location, self.setup):
                if location.path != self.setup.origin.path and fix is not None and fix.get("edit") is not None:
                    # --fix edits the files its findings are in: an edit of another module's
                    # helper is left to a person (it changes every caller of the helper)
                    fix = {**fix, "edit": None, "applicability": "manual"}
                notes.append(
                    f"written at {location.path}:{location.line} (this call loads the model through another module's helper)"
                )
                location = self.setup.origin
        return Finding(
            code=self.code,
            name=spec.name,
            location=location,
            severity=severity or spec.severity,
            confidence=max(1, min(3, stars)),
            message=message,
            overhead=overhead,
            setup=setup_summary(self.setup, self.resolution),
            boundaries=list(self.resolution.boundaries),
            notes=list(self.resolution.reasons)
            + [BOUNDARY_TEXT[b] for b in self.resolution.boundaries if b not in _SAID_BY_REASONS]
            + notes,
            evidence=list(evidence),
            fix=fix,
            also_at=also_at,
        )


# Facts about how the model is used, not how it is set up: a default that decides only these
# (which generate() call a plain run makes, a DataLoader of one) is named by the findings that
# rest on them, not by every finding of the setup.
_USAGE_FACTS = frozenset({SINGLE_REQUEST, GENERATION_CALL, REQUEST_SOURCE, RELOAD_PER_REQUEST})


def _defaults_named(setup: Setup, rests_on: Collection[str] | None) -> tuple[str, ...]:
    """The command-line defaults a finding names: those that decided a fact it rests on (when
    it does not say, a fact of the setup rather than of its usage); a default whose facts are
    not known counts for all."""
    chosen: tuple[str, ...] = setup.get(DEFAULTS_CHOSEN) or ()
    if not chosen:
        return chosen
    deciding: dict[str, set[str]] = {}
    for fact, option in setup.get(DEFAULTS_DECIDING, ()):
        deciding.setdefault(option, set()).add(fact)

    def relevant(facts: set[str]) -> bool:
        if "*" in facts:
            return True
        return bool(facts & set(rests_on)) if rests_on is not None else bool(facts - _USAGE_FACTS)

    return tuple(option for option in chosen if option not in deciding or relevant(deciding[option]))


def _generates_here(location: Location, setup: Setup) -> bool:
    """Whether a location is where the setup's model is run once per prompt or per request."""
    usage = setup.facts.get(SINGLE_REQUEST)
    return usage is not None and usage.location == location


def _helpers_own(location: Location, setup: Setup) -> bool:
    """Whether a location is in the helper a call-site setup loads through (shared by every call
    site going through it) rather than the call site's own: its arguments, or the loop that
    calls generate() on the model it returned."""
    origin = setup.origin
    if location.path != origin.path:
        return True
    start, end = (location.line, location.column), (location.end_line, location.end_column)
    if (origin.line, origin.column) <= start and end <= (origin.end_line, origin.end_column):
        return False
    usage = setup.facts.get(SINGLE_REQUEST)
    return usage is None or usage.location != location


_FORMAT_WORDS = {"bf16": re.compile(r"bf16|bfloat16", re.I), "fp8": re.compile(r"fp8|float8", re.I)}


def _fix_for(
    spec: RuleSpec, framework: str, edit: Edit | None = None, missing: tuple[str, ...] = (), *, python: bool = False
) -> dict[str, Any] | None:
    """The fix snippet for the framework in use, with its safety, the reason for it, and the
    edit `--fix` can apply (applicability automatic) or none (manual). A server framework used
    from Python gets its Python API's snippet (``vllm in python``: enforce_eager=True, not
    --enforce-eager) where the YAML has one. On a GPU without BF16 or FP8 tensor cores
    (``missing``), the snippet written for it where the YAML has one (``vllm without fp8``,
    ``default without bf16 or fp8``); ``without`` then says so."""
    snippets = spec.fix.get("snippets") or {}
    suffix = f" without {' or '.join(missing)}" if missing else ""
    bases = ([framework + " in python"] if python else []) + [framework, "default"]
    order = [base + end for base in bases for end in ((suffix, "") if suffix else ("",))]
    key: str | None = next((k for k in order if k in snippets), None)
    snippet = None if key is None else snippets[key]
    if snippet is None and edit is None:
        return None
    usual = next((snippets[base] for base in bases if base in snippets), "")
    replaced = bool(suffix) and key is not None and key.endswith(suffix)
    return {
        "framework": framework if framework in snippets else "default",
        # the missing formats the usual snippet names, where this GPU's own replaced it
        "without": tuple(f for f in missing if replaced and _FORMAT_WORDS[f].search(usual)),
        "snippet": snippet or "",
        "safety": spec.fix_safety,
        "reason": spec.fix.get("reason", ""),
        "applicability": "automatic" if edit is not None else "manual",
        "edit": edit,
    }


def run_checks(setup: Setup, ctx: CheckContext, codes: Iterable[str]) -> Iterator[Finding]:
    from ecolint.setups import PURPOSE

    if setup.get(PURPOSE) == "training":
        return  # every rule's evidence is inference energy; a fine-tuning script is another workload
    if ctx.resolution.alternatives:
        from ecolint.gpu_sets import on_every_gpu

        yield from on_every_gpu(setup, ctx, codes, run_checks)  # any of several GPUs: each runs alone
        return
    checks = check_catalogue(ctx.kb)
    boundaries = set(ctx.resolution.boundaries)
    found: list[Finding] = []
    for code in codes:
        fn = checks.get(code)
        if fn is None or boundaries.intersection(ctx.kb.rule(code).silent_on):
            continue  # no check, or a setup its evidence says nothing about (other hardware, not an LLM)
        found.extend(fn(setup, ctx.bound(code)))
    yield from _without_superseded_edits(found, ctx.kb)


def _without_superseded_edits(found: list[Finding], kb: Knowledge) -> list[Finding]:
    """One setup's findings, where a rule whose edit another rule's edit makes pointless (its YAML's
    ``fix.superseded_by``) loses its edit and says whose applies instead."""
    editing = {f.code for f in found if (f.fix or {}).get("edit") is not None}
    out = []
    for finding in found:
        fix = finding.fix or {}
        by = sorted(editing.intersection(kb.rule(finding.code).fix.get("superseded_by") or ()))
        if fix.get("edit") is None or not by:
            out.append(finding)
            continue
        note = f"--fix applies {', '.join(by)}'s edit to this setup instead, which makes this one's pointless"
        new_fix = {**fix, "edit": None, "applicability": "manual"}
        out.append(dataclasses.replace(finding, fix=new_fix, notes=[*finding.notes, note]))
    return out


def _written_in_python(setup: Setup) -> bool:
    """A setup whose settings are Python keywords; a command line the Python builds as an argv
    list (a BentoML __command__: facts read from flags) is fixed like one on a command line."""
    return setup.kind in ("python", "notebook") and not any(fact.how == "flag" for fact in setup.facts.values())
