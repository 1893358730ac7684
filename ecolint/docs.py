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
        lines.append(
            f"Overhead: {overhead_text(spec.overhead)} energy per {spec.overhead.get('per', 'request')} ({spec.overhead.get('source')})."
        )
    for key, title in SECTION_TITLES:
        lines += ["", f"## {title}", ""]
        body = spec.docs[key]
        if isinstance(body, list):
            lines += [f"- {item}" for item in body]
        else:
            lines.append(str(body).rstrip())
    return "\n".join(lines) + "\n"


def rule_text(spec: RuleSpec, kb: Knowledge) -> str:
    """Plain text (SARIF help.text): the markdown without heading marks and code fences."""
    lines = []
    for line, in_code in _fenced(rule_markdown(spec, kb).splitlines()):
        if line.startswith("```"):
            continue
        if line.startswith("#") and not in_code:
            line = line.lstrip("#").strip()
        lines.append(line)
    return "\n".join(lines) + "\n"


def _fenced(lines: list[str]) -> list[tuple[str, bool]]:
    """Each line with whether it sits inside a ``` code block (where '#' is a comment, not a heading)."""
    result, in_code = [], False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
            result.append((line, True))
            continue
        result.append((line, in_code))
    return result


GENERATED_HEADER = (
    "<!-- Generated from rules/*.yaml by `python -m ecolint.docs > docs/rules.md`; do not edit by hand. -->"
)


def catalogue_markdown(kb: Knowledge) -> str:
    """docs/rules.md: an index of every rule, then each rule's documentation, headings one level down."""
    lines = [
        GENERATED_HEADER,
        "",
        "# ecolint rules",
        "",
        "| code | name | default | severity | summary |",
        "|---|---|---|---|---|",
    ]
    for spec in kb.rules.values():
        default = "on" if spec.enabled_by_default else "opt-in"
        lines.append(
            f"| [{spec.code}](#{_anchor(spec)}) | {spec.name} | {default} | {spec.severity} | {spec.summary} |"
        )
    for spec in kb.rules.values():
        lines.append("")
        body = _fenced(rule_markdown(spec, kb).rstrip("\n").splitlines())
        lines += ["#" + line if line.startswith("#") and not in_code else line for line, in_code in body]
    return "\n".join(lines) + "\n"


def _anchor(spec: RuleSpec) -> str:
    """GitHub's anchor for the heading '# name (CODE)': lower case, punctuation dropped, spaces to '-'."""
    return f"{spec.name} {spec.code}".lower().replace(" ", "-")


if __name__ == "__main__":
    import sys

    from ecolint import knowledge

    sys.stdout.write(catalogue_markdown(knowledge.load()))
