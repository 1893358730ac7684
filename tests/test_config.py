"""[tool.ecolint] / ecolint.toml: found by walking up, validated, overridden by the CLI."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_is_a_clear_error_naming_key_and_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ecolint]\ngpus = 'A100'\n")
    write(tmp_path / "app.py", "x = 1\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2
    assert "gpus" in ran.stderr and "pyproject.toml" in ran.stderr
    assert "Traceback" not in ran.output + ran.stderr


def test_bad_value_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ecolint]\nselect = 'ECO101'\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "'select' must be a list of strings" in ran.stderr


def test_bad_selector_in_config_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "ecolint.toml", "select = ['ECO999']\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "ecolint.toml" in ran.stderr and "ECO999" in ran.stderr


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ecolint\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "invalid TOML" in ran.stderr


def test_config_found_by_walking_up(tmp_path: Path) -> None:
    from ecolint.config import find_config_file, load_config

    write(tmp_path / "pyproject.toml", "[tool.ecolint]\ngpu = 'A100'\n[tool.ecolint.models]\n'acme/private' = 2.5\n")
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    found = find_config_file(nested)
    assert found == tmp_path / "pyproject.toml"
    config = load_config(found)
    assert config.gpu == "A100" and config.models == {"acme/private": 2.5}


def test_models_value_must_be_positive_number(tmp_path: Path) -> None:
    write(tmp_path / "ecolint.toml", "[models]\n'acme/x' = 'big'\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "acme/x" in ran.stderr
