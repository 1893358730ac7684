"""Rule documentation rendered from the one source, each rule's YAML in rules/.

Feeds `ecolint rule CODE`, the SARIF rule help, docs/rules.md and the rule table in README.md.
`python -m ecolint.docs` rewrites both files of a source checkout; `--check` only says whether
they are up to date (tests/test_rule_docs.py keeps them so).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

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


SILENT_ON_TEXT = {
    "non-nvidia": "non-NVIDIA hardware",
    "not-an-llm": "models that are not LLMs",
    "not-served": "models loaded and never run (smoke tests, download jobs), run only by tests, or loaded by a function whose only call is commented out",
}


def rule_markdown(spec: RuleSpec, kb: Knowledge) -> str:
    default = "on by default" if spec.enabled_by_default else "opt-in (enable with --extend-select " + spec.code + ")"
    lines = [f"# {spec.name} ({spec.code})", "", f"{spec.summary}. Severity: {spec.severity}; {default}."]
    if spec.overhead:
        lines.append(
            f"Overhead: {overhead_text(spec.overhead)} energy per {spec.overhead.get('per', 'request')} ({spec.overhead.get('source')})."
        )
    if spec.silent_on:
        lines.append(
            f"Silent on: {', '.join(SILENT_ON_TEXT[b] for b in spec.silent_on)} (its evidence does not reach them)."
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


REGENERATE = "python -m ecolint.docs"
GENERATED_HEADER = f"<!-- Generated from rules/*.yaml by `{REGENERATE}`; do not edit by hand. -->"
# The README's rule table sits between these two lines; the rest of the README is hand-written.
README_START = f"<!-- rule table: generated from rules/*.yaml by `{REGENERATE}`; do not edit by hand -->"
README_END = "<!-- end of rule table -->"


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


def rule_url(spec: RuleSpec) -> str | None:
    """The rule's documentation on the project's homepage (pyproject's Homepage URL, as the
    installed package's metadata has it): docs/rules.md at the rule's heading. None when the
    metadata names no homepage."""
    home = _homepage()
    return f"{home}/blob/main/docs/rules.md#{_anchor(spec)}" if home else None


@functools.cache
def _homepage() -> str | None:
    from importlib import metadata

    try:
        urls = metadata.metadata("ecolint").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage" and url.strip():
            return url.strip().rstrip("/")
    return None


def _anchor(spec: RuleSpec) -> str:
    """GitHub's anchor for the heading '# name (CODE)': lower case, punctuation dropped, spaces to '-'."""
    return f"{spec.name} {spec.code}".lower().replace(" ", "-")


def readme_table(kb: Knowledge) -> str:
    """The README's rule table: one row a rule, linked to its documentation in docs/rules.md."""
    lines = ["| code | name | default | severity | what |", "|---|---|---|---|---|"]
    for spec in kb.rules.values():
        default = "on" if spec.enabled_by_default else "opt-in"
        what = spec.summary
        if spec.overhead:
            what += f": {overhead_text(spec.overhead)} energy per {spec.overhead.get('per', 'request')}"
        elif "supplementary" in spec.tags:
            what += " (engineering convention, not measured)"
        lines.append(
            f"| [{spec.code}](docs/rules.md#{_anchor(spec)}) | {spec.name} | {default} | {spec.severity} | {what} |"
        )
    return "\n".join(lines) + "\n"


def with_readme_table(readme: str, kb: Knowledge) -> str:
    """The README with the text between its rule-table markers replaced by the generated table."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the rule table markers {README_START!r} ... {README_END!r}")
    head = readme[: start + len(README_START)]
    return f"{head}\n{readme_table(kb)}{readme[end:]}"


def generated_files(kb: Knowledge, root: Path) -> dict[Path, str]:
    """Each generated file of a source checkout at ``root`` with the text it must have."""
    readme = root / "README.md"
    return {
        root / "docs" / "rules.md": catalogue_markdown(kb),
        readme: with_readme_table(readme.read_text(encoding="utf-8"), kb),
    }


def stale_files(kb: Knowledge, root: Path) -> list[Path]:
    """The generated files whose text differs from what rules/ says."""
    return [
        path
        for path, text in generated_files(kb, root).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    from ecolint import knowledge

    parser = argparse.ArgumentParser(prog=REGENERATE, description="Regenerate docs/rules.md and README's rule table.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is out of date")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help="the checkout")
    args = parser.parse_args(argv)
    if not (args.root / "README.md").is_file():
        print(f"{args.root} is not a source checkout (no README.md): pass --root", file=sys.stderr)
        return 2
    kb = knowledge.load()
    stale = stale_files(kb, args.root)
    if args.check:
        for path in stale:
            print(f"{path} is out of date: run `{REGENERATE}`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated_files(kb, args.root).items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
