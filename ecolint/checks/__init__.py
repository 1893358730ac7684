"""The audit: rules as small functions ``Setup → findings``, registered by code.

Each rule module reads top to bottom: the rule's doc lives in its YAML in rules/ (one source
for `ecolint rule`, SARIF help and docs/rules.md), the examples are the annotated fixtures in
fixtures/, and the logic is here. Rules never handle suppression or selection: the funnel does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ecolint.finding import Finding, overhead_text
from ecolint.knowledge import Knowledge, RuleSpec, nearest_rows, request_rows
from ecolint.resolve import BOUNDARY_TEXT, Resolution, setup_summary
from ecolint.setups import Location, Setup

CheckFn = Callable[[Setup, "CheckContext"], Iterable[Finding]]
_REGISTRY: dict[str, CheckFn] = {}
# Boundaries whose reason is already in the confidence reasons: not said twice.
_SAID_BY_REASONS = {"assumed-gpu", "unmeasured-gpu", "stack-drift"}
_MODULES = ("quantization", "fp8", "batching", "supplementary", "opportunity")


def rule(code: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under its stable code (the code's YAML holds its texts and numbers)."""

    def register(fn: CheckFn) -> CheckFn:
        _REGISTRY[code] = fn
        return fn

    return register


def registered() -> dict[str, CheckFn]:
    for name in _MODULES:
        importlib.import_module(f"ecolint.checks.{name}")
    return dict(sorted(_REGISTRY.items()))


@dataclass
class CheckContext:
    kb: Knowledge
    resolution: Resolution
    setup: Setup

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
        code: str,
        location: Location,
        detail: str,
        *,
        overhead: dict[str, Any] | None = None,
        notes: Iterable[str] = (),
        evidence: Iterable[dict[str, Any]] = (),
        confidence_delta: int = 0,
        confidence: int | None = None,
        severity: str | None = None,
        edit: dict[str, Any] | None = None,
    ) -> Finding:
        """Build a finding with everything the reports need; the message ends with the overhead.

        ``edit`` is what `--fix` applies (ecolint/fix.py says how, per file kind): an action and
        its arguments, at ``location`` or at ``edit["at"]`` (a Location in the same file). None
        when the fix cannot be written down as an edit: the finding keeps its snippet only."""
        spec: RuleSpec = self.kb.rule(code)
        overhead = spec.overhead if overhead is None else overhead
        message = f"{spec.summary}: {detail}"
        if overhead:
            message += f": {overhead_text(overhead)} energy per {overhead.get('per', 'request')}"
        stars = confidence if confidence is not None else self.resolution.confidence + confidence_delta
        return Finding(
            code=code,
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
            + list(notes),
            evidence=list(evidence),
            fix=_fix_for(spec, self.setup.framework, edit),
        )


def _fix_for(spec: RuleSpec, framework: str, edit: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The fix snippet for the framework in use, with its safety, the reason for it, and the
    edit `--fix` can apply (applicability automatic) or none (manual)."""
    snippets = spec.fix.get("snippets") or {}
    snippet = snippets.get(framework) or snippets.get("default")
    if snippet is None and edit is None:
        return None
    if edit is not None and isinstance(edit.get("at"), Location):
        edit = {**edit, "at": edit["at"].span()}
    return {
        "framework": framework if framework in snippets else "default",
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
    checks = registered()
    for code in codes:
        fn = checks.get(code)
        if fn is not None:
            yield from fn(setup, ctx)
