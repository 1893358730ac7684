"""SARIF 2.1.0 for GitHub code scanning, built with the sarif-om object model.

What GitHub reads, and so what this fills in (see DESIGN.md "SARIF for GitHub code scanning"):
one run; ``tool.driver`` with name, semanticVersion, informationUri and every enabled rule (the
codes the run selected, plus ECO001) with its docs; results with ruleId, ruleIndex, level,
message, one location (a ``%SRCROOT%``-relative, URL-escaped uri and a 1-based region) and
``partialFingerprints.primaryLocationLineHash``. Suppressed and baselined findings never reach
this module (the funnel drops them). There is no ``security-severity``: these are not security
alerts.

``properties.precision`` of a rule is its typical confidence in GitHub's vocabulary. A
finding's ★ confidence depends on the GPU and model it is about, not on the rule, so a rule
gets the confidence its findings usually have: "high" for the measured anti-patterns (ECO1xx)
and the tool diagnostics (ECO0xx), "low" for the supplementary conventions and opportunities
(ECO2xx, ECO3xx). The per-finding ★ rating is in each result's properties.

ECO001 (a file that could not be read) is a tool execution notification of the one invocation,
not a result: it says the file was not audited, not that it wastes energy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from ecolint import __version__
from ecolint.docs import rule_markdown, rule_text
from ecolint.edits import fix_json
from ecolint.finding import STARS, FileError, Finding
from ecolint.knowledge import Knowledge, RuleSpec
from ecolint.results import RunResult

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/ecolint/ecolint"
SRCROOT = "%SRCROOT%"
FULL_DESCRIPTION_LIMIT = 1024  # GitHub truncates longer ones mid-word; we cut at a word instead
CONFIDENCE_PRECISION = {3: "high", 2: "medium", 1: "low"}
KEEP_DEFAULT = {"level"}  # GitHub must see the level even when it is SARIF's default, "warning"


def render(result: RunResult, kb: Knowledge, codes: list[str], cwd: Path | None = None) -> str:
    """The SARIF log of one run, as indented JSON."""
    log = build(result, kb, codes, cwd or Path.cwd())
    return json.dumps(to_json(log), indent=2, ensure_ascii=False, default=str) + "\n"


def build(result: RunResult, kb: Knowledge, codes: list[str], cwd: Path) -> om.SarifLog:
    specs = _enabled_specs(kb, codes, result.findings)
    index = {spec.code: i for i, spec in enumerate(specs)}
    driver = om.ToolComponent(
        name="ecolint",
        semantic_version=__version__,
        version=__version__,
        information_uri=INFORMATION_URI,
        rules=[_descriptor(spec, kb) for spec in specs],
    )
    run = om.Run(
        tool=om.Tool(driver=driver),
        invocations=[_invocation(result, index)],
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=cwd.resolve().as_uri().rstrip("/") + "/")},
        results=[_result(finding, index) for finding in result.findings],
        column_kind="unicodeCodePoints",  # columns count characters, as Python strings do
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


# -- rules ------------------------------------------------------------------------------------


def _enabled_specs(kb: Knowledge, codes: list[str], findings: list[Finding]) -> list[RuleSpec]:
    """ECO001 and every selected rule, in code order; a finding's rule is always listed."""
    wanted = {"ECO001", *codes, *(f.code for f in findings)}
    return [kb.rules[code] for code in sorted(wanted) if code in kb.rules]


def rule_precision(code: str) -> str:
    """A rule's typical confidence, in GitHub's precision words (see the module doc)."""
    return "high" if code.startswith(("ECO0", "ECO1")) else "low"


def _descriptor(spec: RuleSpec, kb: Knowledge) -> om.ReportingDescriptor:
    return om.ReportingDescriptor(
        id=spec.code,
        name=spec.name,
        short_description=om.MultiformatMessageString(text=spec.summary),
        full_description=om.MultiformatMessageString(
            text=truncate(_one_line(spec.docs["what_it_does"]), FULL_DESCRIPTION_LIMIT)
        ),
        help=om.MultiformatMessageString(text=rule_text(spec, kb), markdown=rule_markdown(spec, kb)),
        default_configuration=om.ReportingConfiguration(level=spec.severity),
        properties={"tags": list(spec.tags), "precision": rule_precision(spec.code)},
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def truncate(text: str, limit: int) -> str:
    """Cut at the last word boundary that fits, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


# -- results and notifications ----------------------------------------------------------------


def _result(finding: Finding, index: dict[str, int]) -> om.Result:
    return om.Result(
        rule_id=finding.code,
        rule_index=index[finding.code],
        level=finding.severity,
        message=om.Message(text=finding.message),
        locations=[_location(finding.location.path, finding.location)],
        partial_fingerprints={"primaryLocationLineHash": finding.fingerprint},
        properties={
            "overhead": finding.overhead,
            "confidence": finding.confidence,
            "stars": STARS[finding.confidence],
            "precision": CONFIDENCE_PRECISION[finding.confidence],
            "setup": finding.setup,
            "boundaries": finding.boundaries,
            "notes": finding.notes,
            "evidence": finding.evidence,
            "fix": fix_json(finding.fix),
        },
    )


def _invocation(result: RunResult, index: dict[str, int]) -> om.Invocation:
    # An unreadable file does not make the run a failure: the other files were audited.
    notifications = [_notification(error, index) for error in result.errors]
    # What the results leave out: findings the baseline accepts or --min-confidence hides.
    counts = {
        "filesChecked": result.files_seen,
        "inBaseline": result.in_baseline,
        "belowConfidence": result.below_confidence,
    }
    return om.Invocation(
        execution_successful=True, tool_execution_notifications=notifications or None, properties=counts
    )


def _notification(error: FileError, index: dict[str, int]) -> om.Notification:
    return om.Notification(
        descriptor=om.ReportingDescriptorReference(id=error.code),
        associated_rule=om.ReportingDescriptorReference(id=error.code, index=index.get(error.code, -1)),
        level="error",
        message=om.Message(text=f"{error.path}: {error.message}"),
        locations=[_location(error.path, None, line=error.line)],
    )


def _location(path: str, span: Any, line: int = 1) -> om.Location:
    if span is not None:
        region = om.Region(
            start_line=span.line,
            start_column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )
    else:
        region = om.Region(start_line=max(1, line), start_column=1)
    return om.Location(physical_location=om.PhysicalLocation(artifact_location=artifact(path), region=region))


def artifact(path: str) -> om.ArtifactLocation:
    """A repo-relative, URL-escaped uri under %SRCROOT%; a file outside the current directory
    keeps its absolute file: uri (GitHub cannot place it, but the log stays truthful)."""
    if path.startswith("/"):
        return om.ArtifactLocation(uri="file://" + quote(path, safe="/"))
    return om.ArtifactLocation(uri=quote(path, safe="/"), uri_base_id=SRCROOT)


# -- serialization ----------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """sarif-om objects → JSON-ready data, with the property names of the attrs field metadata.

    None and values equal to a field's default are dropped (SARIF readers apply the defaults),
    except the fields in KEEP_DEFAULT. Explicitly set empty lists stay: ``results: []`` means
    "ran and found nothing", which absent results does not.
    """
    if attr.has(type(value)):
        out = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            name = field.metadata.get("schema_property_name", field.name)
            if item is None or (name not in KEEP_DEFAULT and _is_default(field, item)):
                continue
            out[name] = to_json(item)
        return out
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


def _is_default(field: Any, value: Any) -> bool:
    default = field.default
    if default is attr.NOTHING:
        return False
    if isinstance(default, attr.Factory):  # type: ignore[arg-type]
        default = default.factory()
    return bool(value == default)
