"""scripts/new_rule.py, end to end in a copy of the repository: the scaffold passes the schema
and the registry check at once, and its fixtures fail until the rule is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the scaffold and a run of ecolint need: the package, the catalogue and the script."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(REPO / "ecolint", root / "ecolint", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "rules", root / "rules")
    (root / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "new_rule.py", root / "scripts" / "new_rule.py")
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def scaffolded(copy: Path) -> Path:
    made = run(copy, "scripts/new_rule.py", "ECO199", "kv-cache-offload")
    assert made.returncode == 0, made.stderr
    assert "rules/ECO199-kv-cache-offload.yaml" in made.stdout and "python -m ecolint.docs" in made.stdout
    added = run(copy, "scripts/new_rule.py", "ECO299", "sdpa-math-backend", "--module", "supplementary")
    assert added.returncode == 0, added.stderr
    return copy


def test_the_scaffold_writes_the_yaml_the_check_and_both_fixtures(scaffolded: Path) -> None:
    for path in (
        "rules/ECO199-kv-cache-offload.yaml",
        "ecolint/checks/kv_cache_offload.py",
        "fixtures/python/eco199_kv_cache_offload.py",
        "fixtures/python/eco199_kv_cache_offload_ok.py",
        "fixtures/python/eco299_sdpa_math_backend.py",
    ):
        assert (scaffolded / path).is_file(), path
    assert "# ruleid: ECO199" in (scaffolded / "fixtures/python/eco199_kv_cache_offload.py").read_text()
    assert "# ok: ECO199" in (scaffolded / "fixtures/python/eco199_kv_cache_offload_ok.py").read_text()
    assert "def sdpa_math_backend(" in (scaffolded / "ecolint/checks/supplementary.py").read_text()


def test_the_scaffold_passes_the_schema_and_the_registry_check(scaffolded: Path) -> None:
    probe = (
        "import ecolint, json\n"
        "from ecolint import checks, knowledge\n"
        "kb = knowledge.load()\n"
        "found = checks.check_catalogue(kb)\n"
        "print(json.dumps({'package': ecolint.__file__, 'checks': {c: f.__module__ for c, f in found.items()},"
        " 'default': kb.rule('ECO199').enabled_by_default}))\n"
    )
    ran = run(scaffolded, "-c", probe)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert Path(result["package"]).is_relative_to(scaffolded)
    assert result["checks"]["ECO199"] == "ecolint.checks.kv_cache_offload"
    assert result["checks"]["ECO299"] == "ecolint.checks.supplementary"
    assert result["default"] is False


def test_the_scaffolded_rule_reports_nothing_yet_so_its_fixture_fails(scaffolded: Path) -> None:
    ran = run(
        scaffolded, "-m", "ecolint", "fixtures/python", "--select", "ECO199,ECO299", "--isolated", "--format", "json"
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    document = json.loads(ran.stdout)
    assert document["findings"] == [] and document["errors"] == []


def test_a_taken_code_or_a_bad_name_is_refused(copy: Path) -> None:
    taken = run(copy, "scripts/new_rule.py", "ECO101", "something-else")
    assert taken.returncode == 2 and "ECO101 is taken: rules/ECO101-int8-default-threshold.yaml" in taken.stderr
    bad = run(copy, "scripts/new_rule.py", "ECO107", "Bad_Name")
    assert bad.returncode == 2 and "lower-case words" in bad.stderr
