"""docs/rules.md and README.md's rule table are generated from rules/*.yaml and must not drift from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO

from ecolint import docs, knowledge
from ecolint.docs import GENERATED_HEADER, README_END, README_START, catalogue_markdown, rule_text, stale_files


def test_docs_rules_md_and_the_readme_table_are_in_sync_with_the_catalogue() -> None:
    stale = [path.relative_to(REPO).as_posix() for path in stale_files(knowledge.load(), REPO)]
    assert stale == [], f"{stale} out of date with rules/: run `python -m ecolint.docs`"


def test_the_readme_table_has_a_linked_row_per_rule_between_its_markers() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(README_START) : readme.index(README_END)]
    for spec in knowledge.load().rules.values():
        assert f"| [{spec.code}](docs/rules.md#{spec.name}-{spec.code.lower()}) | {spec.name} |" in table
    assert "| [ECO101](docs/rules.md#int8-default-threshold-eco101) | int8-default-threshold | on | warning |" in table
    assert "+17–147% energy per request |" in table


def test_regenerating_rewrites_a_stale_table_and_check_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO / "docs" / "rules.md", tmp_path / "docs" / "rules.md")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    stale = readme.replace("| int8-default-threshold | on |", "| int8-default-threshold | off |")
    (tmp_path / "README.md").write_text(stale, encoding="utf-8")
    assert docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert "README.md is out of date: run `python -m ecolint.docs`" in capsys.readouterr().err
    assert docs.main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme
    assert docs.main(["--check", "--root", str(tmp_path)]) == 0


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
