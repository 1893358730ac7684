"""Configuration: ``[tool.ecolint]`` in pyproject.toml, or an ``ecolint.toml``, found by walking
up from the scanned path; command-line options override it.

Unknown keys and bad values are errors that name the key and the file (exit 2), never a
traceback. Read with tomlkit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecolint import roots

if TYPE_CHECKING:
    from ecolint.witness import Witness

KNOWN_KEYS = {
    "gpu",
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "models",
    "overrides",
    "max-file-size",
    "force-exclude",
    "respect-gitignore",
    "fail-on",
    "min-confidence",
    "cache-dir",
}
SEVERITY_ORDER = ("note", "warning", "error")  # --fail-on / fail-on: the lowest severity that fails
OVERRIDE_KEYS = {"paths", "gpu"}


class ConfigError(Exception):
    """A configuration problem the user must fix; the message names the file and key."""


@dataclass
class Override:
    paths: list[str]
    gpu: str | None = None


@dataclass
class Config:
    gpu: str | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    models: dict[str, float] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    max_file_size: int = 10 * 1024 * 1024
    force_exclude: bool = False  # apply excludes to paths passed explicitly too (pre-commit)
    respect_gitignore: bool = True
    fail_on: str = "note"  # findings below this severity are shown but exit 0
    min_confidence: int = 1  # findings below this many stars are neither shown nor counted
    cache_dir: Path | None = None  # the extraction cache's directory; None: .ecolint_cache at the project root
    source: Path | None = None


def find_config_file(start: Path, witness: Witness | None = None) -> Path | None:
    """The nearest ecolint.toml, or pyproject.toml with a [tool.ecolint] table, from start up."""
    found = roots.config_file(os.fspath(start), witness)
    return None if found is None else Path(found)


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = document if path.name == "ecolint.toml" else document.get("tool", {}).get("ecolint", {})
    if path.name == "ecolint.toml" and "tool" in table and "ecolint" in table.get("tool", {}):
        table = table["tool"]["ecolint"]
    return _from_table(table, path)


def _from_table(table: dict[str, Any], path: Path) -> Config:
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key '{unknown[0]}' in [tool.ecolint] (known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    config = Config(source=path)
    config.gpu = _string(table, "gpu", path)
    if "select" in table:
        config.select = _strings(table, "select", path)
    config.extend_select = _strings(table, "extend-select", path)
    config.ignore = _strings(table, "ignore", path)
    config.exclude = _strings(table, "exclude", path)
    config.extend_exclude = _strings(table, "extend-exclude", path)
    config.per_file_ignores = _per_file_ignores(table.get("per-file-ignores", {}), path)
    config.models = _models(table.get("models", {}), path)
    config.overrides = _overrides(table.get("overrides", []), path)
    if "max-file-size" in table:
        size = table["max-file-size"]
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ConfigError(f"{path}: 'max-file-size' must be a positive integer (bytes), got {size!r}")
        config.max_file_size = size
    config.force_exclude = _bool(table, "force-exclude", path, config.force_exclude)
    config.respect_gitignore = _bool(table, "respect-gitignore", path, config.respect_gitignore)
    if "fail-on" in table:
        config.fail_on = _choice(table, "fail-on", path, SEVERITY_ORDER)
    if "min-confidence" in table:
        value = table["min-confidence"]
        if isinstance(value, bool) or value not in (1, 2, 3):
            raise ConfigError(f"{path}: 'min-confidence' must be 1, 2 or 3 (stars), got {value!r}")
        config.min_confidence = int(value)
    cache_dir = _string(table, "cache-dir", path)
    if cache_dir is not None:
        config.cache_dir = path.parent / cache_dir  # relative to the configuration file
    return config


def _bool(table: dict[str, Any], key: str, path: Path, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: '{key}' must be true or false, got {value!r}")
    return value


def _choice(table: dict[str, Any], key: str, path: Path, choices: tuple[str, ...]) -> str:
    value = table[key]
    if value not in choices:
        raise ConfigError(f"{path}: '{key}' must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _string(table: dict[str, Any], key: str, path: Path) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: '{key}' must be a non-empty string, got {value!r}")
    return value


def _strings(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: '{key}' must be a list of strings, got {value!r}")
    return list(value)


def _per_file_ignores(value: Any, path: Path) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: 'per-file-ignores' must be a table of glob = [codes]")
    result = {}
    for glob, codes in value.items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{path}: per-file-ignores '{glob}' must be a list of codes, got {codes!r}")
        result[str(glob)] = list(codes)
    return result


def _models(value: Any, path: Path) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: 'models' must be a table of model id = parameters in billions")
    result = {}
    for name, params in value.items():
        if isinstance(params, bool) or not isinstance(params, (int, float)) or params <= 0:
            raise ConfigError(
                f"{path}: models '{name}' must be a positive number of billions of parameters, got {params!r}"
            )
        result[str(name)] = float(params)
    return result


def _overrides(value: Any, path: Path) -> list[Override]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: 'overrides' must be an array of tables ([[tool.ecolint.overrides]])")
    result = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: overrides[{index}] must be a table")
        unknown = sorted(set(entry) - OVERRIDE_KEYS)
        if unknown:
            raise ConfigError(f"{path}: unknown key '{unknown[0]}' in overrides[{index}] (known: paths, gpu)")
        paths = _strings(entry, "paths", path)
        if not paths:
            raise ConfigError(f"{path}: overrides[{index}] needs 'paths'")
        result.append(Override(paths=paths, gpu=_string(entry, "gpu", path)))
    return result
