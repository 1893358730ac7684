"""Checks register themselves: modules are found by walking ecolint.checks, ``@rule`` binds the
code, and the registry and the rules/ catalogue must match both ways."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO

from ecolint import checks, knowledge
from ecolint.checks import CheckContext, RegistryError, check_catalogue, registered
from ecolint.resolve import resolve
from ecolint.setups import ATTN_IMPLEMENTATION, Location, Setup


def test_every_catalogued_rule_has_a_check_and_every_check_its_yaml() -> None:
    kb = knowledge.load()
    found = check_catalogue(kb)
    assert set(found) == {code for code, spec in kb.rules.items() if not spec.diagnostic}
    assert kb.rule("ECO001").diagnostic and "ECO001" not in found


def test_check_modules_are_found_by_walking_the_package() -> None:
    modules = {fn.__module__ for fn in registered().values()}
    on_disk = {f"ecolint.checks.{p.stem}" for p in Path(checks.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert modules == on_disk


@pytest.fixture
def extra_check_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A check module for ECO998 outside the package, on the package's search path for this test."""
    package = tmp_path / "extra_package"
    package.mkdir()
    (package / "extra_check.py").write_text(
        'from ecolint.checks import rule\n\n\n@rule("ECO998")\ndef extra(setup, ctx):\n    return []\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(checks, "__path__", [*checks.__path__, str(package)])
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks._REGISTRY))
    yield "ecolint.checks.extra_check"
    sys.modules.pop("ecolint.checks.extra_check", None)


def test_a_check_without_yaml_is_an_error_naming_it(extra_check_module: str) -> None:
    with pytest.raises(RegistryError) as raised:
        check_catalogue(knowledge.load())
    assert "ECO998" in str(raised.value) and f"{extra_check_module}.extra" in str(raised.value)
    assert "has no rules/ECO998-*.yaml" in str(raised.value)


def _catalogue_with(tmp_path: Path, name: str, text: str) -> knowledge.Knowledge:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / name).write_text(text, encoding="utf-8")
    return knowledge.load(str(rules))


def test_yaml_without_a_check_is_an_error_naming_it(tmp_path: Path) -> None:
    text = (REPO / "rules" / "ECO203-model-reload-per-request.yaml").read_text(encoding="utf-8")
    kb = _catalogue_with(
        tmp_path, "ECO997-orphan.yaml", text.replace("ECO203", "ECO997").replace("model-reload-per-request", "orphan")
    )
    with pytest.raises(RegistryError, match=r"ECO997: rules/ECO997-orphan.yaml has no @rule check"):
        check_catalogue(kb)


def test_a_diagnostic_is_catalogued_without_a_check_and_may_not_have_one(tmp_path: Path) -> None:
    text = (REPO / "rules" / "ECO203-model-reload-per-request.yaml").read_text(encoding="utf-8")
    kb = _catalogue_with(
        tmp_path, "ECO203-model-reload-per-request.yaml", text.replace("tags:", "diagnostic: true\ntags:")
    )
    with pytest.raises(RegistryError, match=r"ECO203: marked `diagnostic: true` .* ecolint.checks.supplementary"):
        check_catalogue(kb)


def test_a_code_registered_twice_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks._REGISTRY))

    def other(setup: Setup, ctx: CheckContext) -> list:
        return []

    with pytest.raises(RegistryError, match=r"ECO105 is registered twice: ecolint.checks.batching.batch_size_one and"):
        checks.rule("ECO105")(other)


def _context(setup: Setup) -> CheckContext:
    kb = knowledge.load()
    return CheckContext(kb, resolve(setup, kb, gpu_option=None, models={}, stack={}), setup)


def test_a_finding_carries_the_code_its_check_was_registered_under() -> None:
    setup = Setup(framework="transformers", origin=Location("app.py", 3, 1), kind="python")
    setup.set(ATTN_IMPLEMENTATION, "eager", Location("app.py", 3, 40), "literal")
    (finding,) = checks.run_checks(setup, _context(setup), ["ECO202"])
    assert (finding.code, finding.name, finding.location.line) == ("ECO202", "eager-attention", 3)


def test_a_context_bound_to_no_rule_cannot_report() -> None:
    setup = Setup(framework="transformers", origin=Location("app.py", 1, 1), kind="python")
    with pytest.raises(RegistryError, match="bound to no rule"):
        _context(setup).finding(setup.origin, "detail")


def test_the_cli_stops_with_the_mismatch_named(extra_check_module: str, tmp_path: Path) -> None:
    from conftest import run_cli

    (tmp_path / "app.py").write_text(
        'from transformers import AutoModelForCausalLM\n\nmodel = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B")\n',
        encoding="utf-8",
    )
    ran = run_cli(".", "--isolated", cwd=tmp_path)
    assert ran.exit_code == 2, ran.output + ran.stderr
    assert "the rules/ catalogue is broken (ECO998: check ecolint.checks.extra_check.extra has no" in ran.stderr
