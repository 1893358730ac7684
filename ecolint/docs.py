"""Rule documentation rendered from the one source, each rule's YAML in rules/.

Feeds `ecolint rule CODE`, the SARIF rule help and docs/rules.md.
"""

from __future__ import annotations

from ecolint.finding import overhead_text
from ecolint.knowledge import Knowledge, RuleSpec

SECTION_TITLES = (
    ("what_it_does", "What it does"),
    ("why_bad", "Why is this bad?"),
    ("example", "Example"),
    ("use_instead", "Use instead"),
    ("fix_safety", "Fix safety"),
    ("references", "References"),
    ("evidence", "Evidence"),
)


def rule_markdown(spec: RuleSpec, kb: Knowledge) -> str:
    default = "on by default" if spec.enabled_by_default else "opt-in (enable with --extend-select " + spec.code + ")"
    lines = [f"# {spec.name} ({spec.code})", "", f"{spec.summary}. Severity: {spec.severity}; {default}."]
    if spec.overhead:
        lines.append(f"Overhead: {overhead_text(spec.overhead)} energy per {spec.overhead.get('per', 'request')} ({spec.overhead.get('source')}).")
    for key, title in SECTION_TITLES:
        lines += ["", f"## {title}", ""]
        body = spec.docs[key]
        if isinstance(body, list):
            lines += [f"- {item}" for item in body]
        else:
            lines.append(str(body).rstrip())
    return "\n".join(lines) + "\n"


def rule_text(spec: RuleSpec, kb: Knowledge) -> str:
    """Plain text (SARIF help.text): the markdown without its markup characters."""
    return rule_markdown(spec, kb).replace("```python", "").replace("```yaml", "").replace("```", "").replace("# ", "")
