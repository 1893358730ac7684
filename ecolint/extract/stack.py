"""Dependency pins: the versions a repository installs, for the measurement-window check.

``read_pins(path, text)`` reads requirements*.txt, pyproject.toml (PEP 621 dependencies and
optional dependencies, PEP 735 dependency groups, Poetry tables) and ``pip install`` lines in
Dockerfiles and shell scripts. Each pinned distribution maps to the lowest version its specifier
admits (``==0.48.1`` -> ``0.48.1``, ``>=4.55`` -> ``4.55``, ``~=4.56.0`` -> ``4.56.0``, Poetry
``^4.56`` -> ``4.56``); unpinned ones are left out. Names are PEP 503-normalised.

``extract`` exists so these kinds fit the extractor interface: pins are not setups.
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePath

from ecolint.extract import ExtractContext, ExtractError
from ecolint.setups import Setup

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_CLAUSE = re.compile(r"(~=|===|==|>=|<=|!=|>|<)\s*([A-Za-z0-9][A-Za-z0-9.*+!_-]*)")
# A command (after RUN / sudo / VAR=x prefixes) that is a pip install: pip, pip3, python -m pip, uv pip.
_PIP = re.compile(
    r"^(?:RUN\s+)?(?:(?:sudo|exec|nohup|time)\s+|[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:\S*/)?(?:(?:python[\d.]*\s+-m\s+)?pip[\d.]*|uv\s+pip)\s+install\b"
)
_PIP_VALUED = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--python",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--trusted-host",
    "--proxy",
    "--timeout",
    "--retries",
    "--log",
    "--only-binary",
    "--no-binary",
    "--config-settings",
    "-C",
}


def normalize(name: str) -> str:
    """PEP 503: ``Bits_And.Bytes`` -> ``bits-and-bytes``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_key(version: str) -> tuple:
    parts = []
    for piece in re.split(r"[.+!-]", version):
        match = re.match(r"(\d+)(.*)", piece)
        parts.append((int(match.group(1)), match.group(2)) if match else (-1, piece))
    return tuple(parts)


def lowest(spec: str) -> str | None:
    """The lowest version a PEP 440 specifier set admits, or None when it sets no lower bound."""
    exact: str | None = None
    bounds: list[str] = []
    for op, version in _CLAUSE.findall(spec):
        version = version.rstrip(".*").rstrip(".") if version.endswith("*") else version
        if op in ("==", "==="):
            exact = exact or version
        elif op in ("~=", ">=", ">"):
            bounds.append(version)
    if exact:
        return exact
    return max(bounds, key=_version_key) if bounds else None


def _requirement(line: str) -> tuple[str, str] | None:
    """``transformers[torch]==4.56.0 ; python_version>'3.8'`` -> ("transformers", "4.56.0")."""
    line = line.split(";", 1)[0].strip()
    if not line or line.startswith(("-", ".", "/")) or "://" in line or " @ " in line:
        return None
    match = _REQ.match(line)
    if not match:
        return None
    version = lowest(match.group(2))
    return (normalize(match.group(1)), version) if version else None


def _requirements_txt(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    joined = re.sub(r"\\\r?\n", " ", text)
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        found = _requirement(line)
        if found:
            pins[found[0]] = found[1]
    return pins


def _poetry_version(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("version")
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in ("", "*"):
        return None
    if text[0] in "^~" and not text.startswith("~="):
        return text.lstrip("^~").strip().rstrip(".*") or None
    if re.match(r"^\d", text):
        return lowest("==" + text) if "," not in text else lowest(text)
    return lowest(text)


def _pyproject(text: str) -> dict[str, str]:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text).unwrap()
    except (TOMLKitError, ValueError) as exc:
        raise ExtractError(f"invalid TOML: {exc}", getattr(exc, "line", 1) or 1) from None
    pins: dict[str, str] = {}
    project = doc.get("project")
    if not isinstance(project, dict):
        project = {}
    lists = [project.get("dependencies") or []]
    lists += list((project.get("optional-dependencies") or {}).values())
    lists += [v for v in (doc.get("dependency-groups") or {}).values() if isinstance(v, list)]
    for items in lists:
        for item in items if isinstance(items, list) else []:
            found = _requirement(item) if isinstance(item, str) else None
            if found:
                pins[found[0]] = found[1]
    poetry = (doc.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values() if isinstance(g, dict)]
    for table in tables:
        for name, value in table.items() if isinstance(table, dict) else []:
            version = _poetry_version(value)
            if name.lower() != "python" and version:
                pins[normalize(name)] = version
    return pins


def _pip_lines(text: str) -> dict[str, str]:
    """``pip install "bitsandbytes==0.48.1" transformers>=4.55`` in a Dockerfile or script."""
    pins: dict[str, str] = {}
    joined = re.sub(r"\\\r?\n", " ", text)
    for line in joined.splitlines():
        if "pip" not in line or line.lstrip().startswith("#"):
            continue  # most lines of a long script: no pip command to split
        for command in re.split(r"&&|\|\||;|\|", line):
            match = _PIP.match(command.strip())
            if match:
                pins.update(_pip_args(command.strip()[match.end() :]))
    return pins


def _pip_args(segment: str) -> dict[str, str]:
    try:
        words = shlex.split(segment, comments=True)
    except ValueError:
        words = segment.split()
    pins: dict[str, str] = {}
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in _PIP_VALUED
            continue
        found = _requirement(word)
        if found:
            pins[found[0]] = found[1]
    return pins


def read_pins(path: str, text: str) -> dict[str, str]:
    """Pinned distributions (normalised name -> lowest admitted version) in one file.

    Never raises on odd input, except ExtractError for a pyproject.toml that is not TOML.
    """
    name = PurePath(path).name.lower()
    if name == "pyproject.toml":
        return _pyproject(text)
    if name.endswith((".txt", ".in")):
        return _requirements_txt(text)
    return _pip_lines(text)


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    """No setups: a requirements file or pyproject only pins the stack (see read_pins)."""
    if PurePath(path).name.lower() == "pyproject.toml":
        read_pins(path, text)  # an unparsable pyproject.toml is reported, not skipped silently
    return []
