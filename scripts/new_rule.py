#!/usr/bin/env python3
"""Scaffold a new rule: its YAML, its check, and a fixture that must report it and one that must not.

    python scripts/new_rule.py ECO106 kv-cache-offload               # the check in a new module
    python scripts/new_rule.py ECO204 sdpa-math-backend --module supplementary

Writes rules/CODE-NAME.yaml (every required key; TODO texts that pass the schema), a check
function registered with @rule(CODE) (in ecolint/checks/NAME.py, or appended to --module), and
fixtures/python/CODE_NAME.py (`# ruleid:`) and fixtures/python/CODE_NAME_ok.py (`# ok:`). The
catalogue loads and the registry matches at once; tests/test_fixtures.py,
tests/test_rule_examples.py and tests/test_knowledge.py (no TODO left in rules/) fail until the
TODOs are replaced by the real rule. Then it says what to run next. (Like ruff's
scripts/add_rule.py.)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"ECO\d{3}")
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

YAML = """\
code: {code}
name: {name}
severity: warning
# Opt-in until the rule is finished and its evidence sourced; then `default: true` for a rule
# with measured overhead (ECO1xx), false for a convention (ECO2xx) or an opportunity (ECO3xx).
default: false
# The file kinds it reports in; tests/test_fixtures.py wants a fixture that must report and one
# that must stay clean in each.
applies_to: [python]
summary: TODO one line, what is wrong
# {{min_pct, max_pct, per: request, source}} from rules/evidence.yaml's sources, or null when unmeasured.
overhead: null
tags: [energy]
evidence: []
fix:
  safety: unsafe
  reason: TODO what the fix risks (memory, numerics, latency), or why it is safe
  applicability: manual
  snippets:
    default: TODO the fix, one line
docs:
  what_it_does: |
    TODO what the rule finds, with the spellings it recognises.
  why_bad: |
    TODO why it costs energy, with the figure and its source.
  # Each code block runs as a test (tests/test_rule_examples.py): the example must be reported,
  # the fixed version must not. The fence names the file kind (python, shell, dockerfile, yaml,
  # modelfile).
  example: |
    ```python
    # TODO: the smallest real code this rule must report
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B")
    ```
  use_instead: |
    ```python
    # TODO: the example with the fix applied
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B")
    ```
  fix_safety: |
    TODO safe or unsafe, and why; what --fix changes, if anything.
  references:
    - TODO https://... (the framework's documentation of the setting)
  evidence: |
    TODO the measured rows or the headline behind the figure; or "Engineering convention, not
    measured by EcoCompute."
"""

MODULE_HEAD = '''\
"""{code}: TODO what this module checks (rules/{code}-{name}.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from ecolint.checks import CheckContext, rule
from ecolint.finding import Finding
from ecolint.setups import Setup
'''

CHECK = '''

@rule("{code}")
def {function}(setup: Setup, ctx: CheckContext) -> Iterator[Finding]:
    """TODO what it reports, in one line (rules/{code}-{name}.yaml says the rest)."""
    # TODO: report where the setup shows it, at the fact that does, for example:
    #     if setup.get(PRECISION) == "int8":
    #         yield ctx.finding(setup.where(PRECISION), "INT8 on ...")
    yield from ()
'''

FIXTURE = '''\
"""{code} {name}: TODO a setup it must {verb} (rules/{code}-{name}.yaml)."""

from transformers import AutoModelForCausalLM

# {annotation}: {code}
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B")  # TODO: the line that {does}
'''


def scaffold(code: str, name: str, module: str | None, root: Path = ROOT) -> list[Path]:
    """Write the rule's files under ``root``; the paths written, in order."""
    if not CODE.fullmatch(code):
        raise ValueError(f"{code}: a code is ECO and three digits")
    if not NAME.fullmatch(name):
        raise ValueError(f"{name}: a name is lower-case words joined by '-'")
    taken = sorted((root / "rules").glob(f"{code}-*.yaml"))
    if taken:
        raise ValueError(f"{code} is taken: {taken[0].relative_to(root)}")
    function = name.replace("-", "_")
    checks = root / "ecolint" / "checks"
    target = checks / f"{module or function}.py"
    if module is not None and not target.is_file():
        raise ValueError(f"--module {module}: no {target.relative_to(root)}")
    if module is None and target.exists():
        raise ValueError(f"{target.relative_to(root)} exists: pass --module {function} to add the check to it")
    if target.is_file() and re.search(rf"^def {function}\(", target.read_text(encoding="utf-8"), re.MULTILINE):
        raise ValueError(f"{target.relative_to(root)} already defines {function}()")
    fixtures = root / "fixtures" / "python"
    stem = f"{code.lower()}_{function}"
    written = {
        root / "rules" / f"{code}-{name}.yaml": YAML.format(code=code, name=name),
        fixtures / f"{stem}.py": FIXTURE.format(
            code=code, name=name, verb="report", annotation="ruleid", does="shows the anti-pattern"
        ),
        fixtures / f"{stem}_ok.py": FIXTURE.format(
            code=code, name=name, verb="not report", annotation="ok", does="is the same setup, fixed"
        ),
    }
    head = target.read_text(encoding="utf-8") if target.is_file() else MODULE_HEAD.format(code=code, name=name)
    written[target] = head.rstrip("\n") + "\n" + CHECK.format(code=code, name=name, function=function)
    for path, text in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(written)


NEXT = """\
Next:
  1. Replace every TODO: the YAML's texts, figure and example blocks; the check; the fixtures.
  2. python -m pytest -q tests/test_fixtures.py tests/test_rule_examples.py tests/test_knowledge.py
     (they fail until the check reports the `# ruleid:` fixture and the example, and not the
     rest, and no TODO is left in the YAML)
  3. python -m ecolint.docs          (docs/rules.md and the rule table in README.md)
  4. ruff check . && ruff format . && mypy ecolint && python -m pytest -q
See CONTRIBUTING.md, "Adding a rule".
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scaffold a new ecolint rule.")
    parser.add_argument("code", help="the rule's code, e.g. ECO106")
    parser.add_argument("name", help="its name, lower-case words joined by '-', e.g. kv-cache-offload")
    parser.add_argument("--module", help="add the check to ecolint/checks/MODULE.py instead of a new module")
    args = parser.parse_args(argv)
    try:
        written = scaffold(args.code, args.name, args.module)
    except ValueError as exc:
        print(f"new_rule.py: {exc}", file=sys.stderr)
        return 2
    print("Wrote:")
    for path in written:
        print(f"  {path.relative_to(ROOT)}")
    print(NEXT, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
