"""Helpers shared by the ecosystem tests (SARIF, GitHub annotations, baselines, pre-commit)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

# One line every launcher-aware build flags: vLLM FP8 in eager mode (ECO104).
FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"
SARIF_SCHEMA = Path(REPO).parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sarif_validator() -> Any:
    """A validator for the official OASIS SARIF 2.1.0 schema, read from the shared folder beside
    the repository (never copied into it). Missing in CI is a failure; elsewhere a skip."""
    if not SARIF_SCHEMA.is_file():
        message = f"official SARIF schema not found at {SARIF_SCHEMA}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_sarif(document: dict) -> None:
    validator = sarif_validator()
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
