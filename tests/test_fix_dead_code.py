"""Fixes leave no dead code, and one fix per setup (issue 14).

`--fix` takes out the imports and variables that only the removed argument used, never what was
already unused; the fixed file passes `ruff check --select F401,F841` wherever it did before; the
per-file line counts the findings fixed and names what went with them. Where ECO103 unquantizes a
model, ECO101's threshold edit on the same setup is not applied.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, run_cli

CASES = sorted((REPO / "tests" / "fix_cases").glob("*.before.py"))

SMALL_INT8 = """\
import os

from transformers import AutoModelForCausalLM, BitsAndBytesConfig

bnb_config = BitsAndBytesConfig(load_in_8bit=True)
unused_before = BitsAndBytesConfig(load_in_4bit=True)
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct", quantization_config=bnb_config)
"""


def _fix(path: Path, *extra: str) -> str:
    ran = run_cli("check", "--isolated", "--unsafe-fixes", *extra, path.name, cwd=path.parent)
    return ran.stderr


def test_the_config_variable_and_its_import_go_with_the_argument_but_what_was_unused_stays(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(SMALL_INT8, encoding="utf-8")
    said = _fix(path, "--gpu", "A800")
    fixed = path.read_text(encoding="utf-8")
    assert "bnb_config" not in fixed
    assert 'torch_dtype="float16"' in fixed
    # unused before the fix: neither the import of os nor the other config is the fix's to remove
    assert "import os" in fixed and "unused_before = BitsAndBytesConfig(load_in_4bit=True)" in fixed
    assert "from transformers import AutoModelForCausalLM, BitsAndBytesConfig" in fixed
    assert "fixed  app.py: 1 (ECO103); removed what the fixes left unused: variable bnb_config" in said


def test_eco101_edit_is_not_applied_where_eco103_unquantizes_the_same_model(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(SMALL_INT8.replace("unused_before = BitsAndBytesConfig(load_in_4bit=True)\n", ""), "utf-8")
    checked = run_cli("check", "--isolated", "--gpu", "A800", "--format", "json", "app.py", cwd=tmp_path).json()
    by_code = {f["code"]: f for f in checked["findings"]}
    assert by_code["ECO101"]["fix"]["edit"] is None and by_code["ECO101"]["fix"]["applicability"] == "manual"
    assert any("--fix applies ECO103's edit to this setup instead" in note for note in by_code["ECO101"]["notes"])
    assert by_code["ECO103"]["fix"]["edit"] is not None

    said = _fix(path, "--gpu", "A800")
    fixed = path.read_text(encoding="utf-8")
    assert "llm_int8_threshold" not in fixed and "BitsAndBytesConfig" not in fixed
    assert (
        "fixed  app.py: 1 (ECO103); removed what the fixes left unused: import BitsAndBytesConfig, variable bnb_config"
        in said
    )


def test_eco101_alone_still_sets_the_threshold(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(SMALL_INT8, encoding="utf-8")
    said = _fix(path, "--gpu", "A800", "--select", "ECO101")
    assert "BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)" in path.read_text(encoding="utf-8")
    assert "fixed  app.py: 1 (ECO101)\n" in said


def test_above_the_crossover_eco101_keeps_its_edit(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(SMALL_INT8.replace("1.5B", "7B"), encoding="utf-8")
    said = _fix(path, "--gpu", "A800")
    assert "llm_int8_threshold=0.0" in path.read_text(encoding="utf-8")
    assert "fixed  app.py: 1 (ECO101)\n" in said


def _unused(path: Path) -> list[tuple[str, str]]:
    """ruff's F401/F841 diagnostics of a file, as (code, message) pairs."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    ran = subprocess.run(
        [ruff, "check", "--isolated", "--select", "F401,F841", "--output-format", "json", "--exit-zero", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted((d["code"], d["message"]) for d in json.loads(ran.stdout))


FIXED = CASES + sorted((FIXTURES / "python").glob("*.py"))


@pytest.mark.parametrize("source", FIXED, ids=lambda p: p.name)
def test_fixed_files_get_no_new_unused_import_or_variable(source: Path, tmp_path: Path) -> None:
    path = tmp_path / source.name.replace(".before", "")
    shutil.copyfile(source, path)
    before = _unused(path)
    run_cli("check", "--isolated", "--select", "ALL", "--unsafe-fixes", path.name, cwd=tmp_path)
    assert set(_unused(path)) <= set(before)
