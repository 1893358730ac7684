"""docs/rules.md is generated from rules/*.yaml and must not drift from it."""

from __future__ import annotations

from conftest import REPO

from ecolint import knowledge
from ecolint.docs import GENERATED_HEADER, catalogue_markdown, rule_text

DOC = REPO / "docs" / "rules.md"


def test_docs_rules_md_is_in_sync_with_the_catalogue() -> None:
    expected = catalogue_markdown(knowledge.load())
    actual = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert actual == expected, "docs/rules.md is out of date: run `python -m ecolint.docs > docs/rules.md`"


def test_docs_name_every_rule_and_say_how_they_are_made() -> None:
    text = catalogue_markdown(knowledge.load())
    assert text.startswith(GENERATED_HEADER) and "python -m ecolint.docs" in GENERATED_HEADER
    for spec in knowledge.load().rules.values():
        assert f"## {spec.name} ({spec.code})" in text
        assert f"[{spec.code}](#{spec.name}-{spec.code.lower()})" in text


def test_plain_text_help_keeps_comments_inside_code_and_drops_heading_marks() -> None:
    kb = knowledge.load()
    text = rule_text(kb.rules["ECO001"], kb)
    assert "What it does" in text and "## " not in text and "```" not in text
    assert "# deploy.yaml" in text  # a YAML comment in the example, not a heading
