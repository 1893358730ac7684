"""One strict schema for rules/ECO*.yaml: unknown keys, missing keys and wrong types are errors
naming the file and the key."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO

from ecolint import knowledge
from ecolint.knowledge import KnowledgeError, rule_problems

SOURCE = REPO / "rules" / "ECO202-eager-attention.yaml"
FILE = SOURCE.name


def rule_data() -> dict[str, Any]:
    return yaml.safe_load(SOURCE.read_text(encoding="utf-8"))


def test_every_rule_in_the_catalogue_passes_the_schema() -> None:
    for path in sorted((REPO / "rules").glob("ECO*.yaml")):
        assert rule_problems(yaml.safe_load(path.read_text(encoding="utf-8")), path.name) == [], path.name


def test_an_unknown_key_is_an_error_naming_the_file_and_the_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / FILE).write_text(SOURCE.read_text(encoding="utf-8") + "severty: warning\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=rf"{FILE}: unknown key 'severty'"):
        knowledge.load(str(rules))


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda d: d["fix"].update(snipets={}), "unknown key 'fix.snipets'"),
        (lambda d: d["docs"].update(examples="x"), "unknown key 'docs.examples'"),
        (lambda d: d.pop("applies_to"), "missing key 'applies_to'"),
        (lambda d: d["docs"].pop("why_bad"), "missing key 'docs.why_bad'"),
        (lambda d: d["fix"].pop("reason"), "missing key 'fix.reason'"),
        (lambda d: d.update(default="yes"), "'default' must be bool, not str"),
        (
            lambda d: d.update(overhead={"min_pct": "5", "max_pct": 9, "per": "request", "source": "s"}),
            "'overhead.min_pct' must be number",
        ),
        (lambda d: d.update(overhead={"min_pct": 5, "max_pct": 9, "per": "request"}), "missing key 'overhead.source'"),
        (lambda d: d.update(tags=["energy", 3]), "'tags' holds 3, not a str"),
        (lambda d: d.update(severity="fatal"), "'severity': 'fatal' is not one of"),
        (lambda d: d["fix"].update(safety="maybe"), "'fix.safety': 'maybe' is not one of"),
        (lambda d: d.update(applies_to=["python", "helm"]), "'applies_to': 'helm' is not one of"),
        (lambda d: d.update(applies_to=[]), "'applies_to' is empty"),
        (lambda d: d.update(code="ECO22"), "'code' 'ECO22' is not ECO and three digits"),
        (lambda d: d.update(name="Eager_Attention"), "'name' 'Eager_Attention' is not lower-case words"),
        (lambda d: d.update(name="eager-attn"), "the file name is not its code and name, ECO202-eager-attn.yaml"),
        (lambda d: d["docs"].update(example="```toml\nx = 1\n```\n"), "'docs.example': code block of kind 'toml'"),
    ],
)
def test_schema_problems_name_the_key(change: Any, problem: str) -> None:
    data = copy.deepcopy(rule_data())
    change(data)
    problems = rule_problems(data, FILE)
    assert any(problem in p for p in problems), problems


def test_rule_specific_facts_and_a_diagnostic_flag_are_allowed() -> None:
    data = rule_data()
    data.update(facts={"default_threshold": 6.0}, diagnostic=False)
    assert rule_problems(data, FILE) == []
