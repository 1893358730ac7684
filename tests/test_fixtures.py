"""The annotated fixtures are the rules' examples and their tests (semgrep-style).

A comment line ``# ruleid: ECO101`` says the next code line must be reported with ECO101;
``# ok: ECO101`` says it must not. Every finding in an annotated file must be expected: a
finding nobody annotated is a failure too. Fixture directories may carry their own
ecolint.toml (a GPU, a models table) like a user's repository would.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli

ANNOTATION = re.compile(r"#\s*(ruleid|ok):\s*([A-Z0-9_,\s]+?)\s*$")
# A notebook's lines are JSON strings: `    "# ruleid: ECO101\n",` is the comment line `# ruleid: ECO101`.
NOTEBOOK_LINE = re.compile(r'^(\s*)"(.*?)(?:\\n)?",?\s*$')


def annotations(path: Path) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(expected, forbidden) sets of (line, code) from a fixture's annotation comments."""
    expected: set[tuple[int, str]] = set()
    forbidden: set[tuple[int, str]] = set()
    pending: list[tuple[str, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".ipynb":
        lines = [NOTEBOOK_LINE.sub(r"\1\2", line) for line in lines]
    for number, line in enumerate(lines, start=1):
        match = ANNOTATION.search(line)
        if match and line.lstrip().startswith("#"):
            for code in match.group(2).split(","):
                pending.append((match.group(1), code.strip()))
            continue
        if not pending:
            continue
        for kind, code in pending:
            (expected if kind == "ruleid" else forbidden).add((number, code))
        pending = []
    return expected, forbidden


def annotated_files() -> list[Path]:
    files = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and "bad" not in path.relative_to(FIXTURES).parts:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if re.search(r"#\s*(ruleid|ok):", text):
                files.append(path)
    return files


def fixture_roots() -> list[Path]:
    """Each top-level fixture directory is scanned as its own project (its own config)."""
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "bad")


@pytest.fixture(scope="module")
def reported() -> dict[str, set[tuple[int, str]]]:
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for root in fixture_roots():
        ran = run_cli(str(root), "--select", "ALL", "--format", "json", "--exit-zero", cwd=FIXTURES.parent)
        assert ran.exit_code == 0, ran.output + ran.stderr
        document = ran.json()
        assert document["errors"] == [], f"fixtures must parse cleanly: {document['errors']}"
        for finding in document["findings"]:
            found[finding["path"]].add((finding["line"], finding["code"]))
    return found


@pytest.mark.parametrize("path", annotated_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_annotations(path: Path, reported: dict[str, set[tuple[int, str]]]) -> None:
    expected, forbidden = annotations(path)
    relative = path.relative_to(FIXTURES.parent).as_posix()
    got = reported.get(relative, set())
    missing = sorted(expected - got)
    wrongly = sorted(got & forbidden)
    unexpected = sorted(got - expected)
    assert not missing, f"{relative}: expected findings not reported (line, code): {missing}"
    assert not wrongly, f"{relative}: reported where annotated ok: {wrongly}"
    assert not unexpected, f"{relative}: findings without a ruleid annotation: {unexpected}"


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    from ecolint import knowledge

    positives: set[str] = set()
    negatives: set[str] = set()
    for path in annotated_files():
        expected, forbidden = annotations(path)
        positives |= {code for _, code in expected}
        negatives |= {code for _, code in forbidden}
    codes = {code for code, spec in knowledge.load().rules.items() if not spec.diagnostic}
    assert codes - positives == set(), f"rules with no fixture that must be reported: {sorted(codes - positives)}"
    assert codes - negatives == set(), f"rules with no fixture that must stay clean: {sorted(codes - negatives)}"


def fixture_kinds() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(code, file kind) pairs with a fixture that must be reported, and with one that must stay clean."""
    from ecolint.discover import classify

    positives: set[tuple[str, str]] = set()
    negatives: set[tuple[str, str]] = set()
    for path in annotated_files():
        kind = classify(path, path.read_bytes()[:256])
        expected, forbidden = annotations(path)
        positives |= {(code, kind) for _, code in expected}
        negatives |= {(code, kind) for _, code in forbidden}
    return positives, negatives


def test_every_rule_has_both_fixtures_in_every_file_kind_it_applies_to() -> None:
    """Each file kind a rule's YAML says it applies to (`applies_to`) has a fixture that must be
    reported and one that must stay clean. (Ollama Modelfiles carry no INT8, FP8 or batch settings.)"""
    from ecolint import knowledge

    positives, negatives = fixture_kinds()
    rules = knowledge.load().rules.values()
    wanted = {(spec.code, kind) for spec in rules if not spec.diagnostic for kind in spec.applies_to}
    assert sorted(wanted - positives) == [], "no fixture that must be reported"
    assert sorted(wanted - negatives) == [], "no fixture that must stay clean"


def test_no_fixture_reports_a_rule_in_a_file_kind_outside_its_applies_to() -> None:
    from ecolint import knowledge

    positives, _ = fixture_kinds()
    kinds = {code: spec.applies_to for code, spec in knowledge.load().rules.items()}
    outside = sorted((code, kind) for code, kind in positives if kind not in kinds[code])
    assert outside == [], "rules reported in a file kind their YAML's applies_to does not name"
