"""Each rule's documented example runs as a test (Fixit's model): every code block of its
`example` must be reported with that rule, and no code block of its `use_instead` may be.

A block's fence names its file kind (```python, ```shell, ```dockerfile, ```yaml, ```modelfile,
```notebook for a notebook's JSON; no name means python). The rule is selected alone, so
opt-in rules run too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from ecolint import knowledge
from ecolint.discover import classify
from ecolint.knowledge import CODE_BLOCK, EXAMPLE_SECTIONS

# A file name of each kind, as ecolint.discover.classify recognises it.
FILE_NAMES = {
    "python": "example.py",
    "notebook": "example.ipynb",
    "shell": "example.sh",
    "dockerfile": "Dockerfile",
    "yaml": "example.yaml",
    "modelfile": "Modelfile",
    "requirements": "requirements.txt",
    "pyproject": "pyproject.toml",
}


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(file kind, source) of each fenced code block in a docs section."""
    return [(block["kind"] or "python", block["body"]) for block in CODE_BLOCK.finditer(text)]


def cases() -> list[tuple[str, str, str, str]]:
    found = []
    for code, spec in knowledge.load().rules.items():
        for section in EXAMPLE_SECTIONS:
            for kind, body in code_blocks(spec.docs[section]):
                found.append((code, section, kind, body))
    return found


def reported_codes(tmp_path: Path, code: str, kind: str, body: str) -> set[str]:
    path = tmp_path / FILE_NAMES[kind]
    path.write_text(body, encoding="utf-8")
    assert classify(path, body.encode()[:256]) == kind
    ran = run_cli(".", "--select", code, "--isolated", "--format", "json", "--exit-zero", cwd=tmp_path)
    assert ran.exit_code == 0, ran.output + ran.stderr
    document = ran.json()
    if code != "ECO001":
        assert document["errors"] == [], f"{code}'s example does not read as a {kind} file: {document['errors']}"
    return {item["code"] for item in document["findings"] + document["errors"]}


@pytest.mark.parametrize("code,section,kind,body", cases(), ids=[f"{c}-{s}-{k}" for c, s, k, _ in cases()])
def test_the_example_is_reported_and_the_fixed_version_is_not(
    tmp_path: Path, code: str, section: str, kind: str, body: str
) -> None:
    reported = code in reported_codes(tmp_path, code, kind, body)
    if section == "example":
        assert reported, f"{code}'s documented example is not reported:\n{body}"
    else:
        assert not reported, f"{code}'s documented use_instead is still reported:\n{body}"


def test_every_rule_documents_an_example_and_its_fix_as_code() -> None:
    for code, spec in knowledge.load().rules.items():
        for section in EXAMPLE_SECTIONS:
            assert code_blocks(spec.docs[section]), f"{code}: docs.{section} has no code block to run"
