"""Cross-module resolution: module-level constants of other modules of the scanned tree
(``from .config import MODEL_ID``), read with ``ast``, never imported, memoised per run.
"""

from __future__ import annotations

import ast
import unicodedata
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ecolint.extract import ExtractContext, ExtractError
from ecolint.extract.python.source import _parse
from ecolint.extract.python.syntax import _NO, _convert, _dotted_or_none

_MAX_IMPORT_DEPTH = 3
_MAX_ANCESTORS = 4  # directories above an importing file where an absolute import may start


def _locate(path: Path, context: ExtractContext) -> Path:
    """The file behind a display path: absolute, under the root, under the working directory,
    or under the part of the root the display path repeats (root …/fixtures/python, display
    fixtures/python/app.py)."""
    if path.is_absolute():
        return path
    root = context.root
    candidates = [root / path, Path.cwd() / path]
    parts = root.parts
    for k in range(1, len(parts)):
        tail = parts[k:]
        if path.parts[: len(tail)] == tail:
            candidates.append(Path(*parts[:k]) / path)
    for candidate in candidates:
        if context.is_file(candidate):
            return candidate
    return candidates[0]


def _module_constant(
    module: str, level: int, from_dir: Path, context: ExtractContext, depth: int, name: str
) -> tuple[Any, str] | None:
    """A module-level constant of a module of the scanned tree, memoised per run.

    Only what the name needs is read: a module that never spells the name is not parsed, and
    the modules it imports from are looked into only when the name (or a value it is built
    from) comes from them. Reading every import of every module reached parsed 138 extra
    modules on vLLM's tree, as many as its own candidate files."""
    found = _find_module(module, level, from_dir, context)
    if found is None or depth > _MAX_IMPORT_DEPTH:
        return None
    file, text = found
    if not _may_bind(text, name):
        return None
    # depth is in the key: what a chain of imports reaches must not depend on which file asked first
    key = ("ecolint.extract.python:constant", str(file), name, depth)
    return context.cached(key, lambda: _read_constants(file, text, context, depth, name).get(name))  # type: ignore[return-value]


def _may_bind(text: str, name: str) -> bool:
    """Whether a module's text can bind name. Python reads identifiers NFKC-normalised, so a
    text with other characters is normalised before the name is looked for."""
    if name in text:
        return True
    return not text.isascii() and name in unicodedata.normalize("NFKC", text)


def _find_module(module: str, level: int, from_dir: Path, context: ExtractContext) -> tuple[Path, str] | None:
    parts = [p for p in module.split(".") if p]
    if level:
        base = from_dir
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        bases = [from_dir, context.root, context.root / "src"]
        project = getattr(context.modules, "root", None)  # the project pass's root, whatever paths were passed
        if project is not None:
            bases += [project, project / "src"]
            # a script run from a directory of the project imports its siblings' packages
            bases += [d for d in list(from_dir.parents)[:_MAX_ANCESTORS] if d.is_relative_to(project)]
        bases = list(dict.fromkeys(bases))
    for base in bases:
        candidates = [base.joinpath(*parts[:-1], parts[-1] + ".py")] if parts else []
        candidates.append(base.joinpath(*parts, "__init__.py"))
        for candidate in candidates:
            text = context.cached(("ecolint.extract.python:source", str(candidate)), partial(context.read, candidate))
            if isinstance(text, str):
                return candidate, text
    return None


@dataclass
class _ImportedName:
    """``from module import name``, looked up in that module only when its value is read;
    ``shadowed`` is what the name held before, kept when the module does not define it."""

    module: str
    level: int
    from_dir: Path
    context: ExtractContext
    depth: int
    name: str
    shadowed: Any

    def value(self) -> tuple[Any, str] | None:
        found = _module_constant(self.module, self.level, self.from_dir, self.context, self.depth, self.name)
        if found is not None:
            return found
        return self.shadowed.value() if isinstance(self.shadowed, _ImportedName) else self.shadowed


class _ModuleEnv(dict):
    """A module's top-level constants as read so far; imported names are values on demand."""

    def get(self, name: str, default: Any = None) -> Any:
        found = super().get(name, default)
        return found.value() if isinstance(found, _ImportedName) else found


def _top_level(file: Path, text: str, context: ExtractContext) -> list[ast.stmt]:
    """A module's imports and assignments (function and class bodies dropped), parsed once per run."""

    def read() -> list[ast.stmt]:
        try:
            tree = _parse(text)  # as the file itself would be: its syntax warnings are not ours to print
        except ExtractError:
            return []
        return [
            statement for statement in tree.body if isinstance(statement, (ast.ImportFrom, ast.Assign, ast.AnnAssign))
        ]

    return context.cached(("ecolint.extract.python:top-level", str(file)), read)  # type: ignore[return-value]


def _read_constants(file: Path, text: str, context: ExtractContext, depth: int, name: str) -> _ModuleEnv:
    """Top-level `NAME = <str/number/bool>` (also env defaults, concatenations, re-exports), for
    name and the names its value is built from."""
    env = _ModuleEnv()
    for statement in _statements_for(_top_level(file, text, context), name):
        if isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                local = alias.asname or alias.name
                env[local] = _ImportedName(
                    statement.module or "",
                    statement.level,
                    file.parent,
                    context,
                    depth + 1,
                    alias.name,
                    dict.get(env, local),
                )
            continue
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        found = _ast_value(value, env)
        for target in targets:
            if isinstance(target, ast.Name) and found is not None:
                env[target.id] = found
    return env


def _statements_for(statements: list[ast.stmt], name: str) -> list[ast.stmt]:
    """The statements that can bind name or a name its value reads, in order. A name stays
    wanted once wanted: an assignment whose value cannot be read leaves the earlier one."""
    wanted = {name}
    kept: list[ast.stmt] = []
    for statement in reversed(statements):
        if isinstance(statement, ast.ImportFrom):
            if any((alias.asname or alias.name) in wanted for alias in statement.names):
                kept.append(statement)
            continue
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        value = statement.value
        if value is None or not any(isinstance(target, ast.Name) and target.id in wanted for target in targets):
            continue
        kept.append(statement)
        wanted.update(node.id for node in ast.walk(value) if isinstance(node, ast.Name))
    kept.reverse()
    return kept


# Other modules are read with ast and without their imports resolved: accept the usual spellings.
_AST_ENV_GETTERS = frozenset({"os.environ.get", "os.getenv", "environ.get", "getenv"})


def _ast_value(node: ast.expr, env: dict[str, tuple[Any, str]]) -> tuple[Any, str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value, "literal"
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _ast_value(node.left, env), _ast_value(node.right, env)
        if (
            left is not None
            and right is not None
            and type(left[0]) is type(right[0])
            and isinstance(left[0], (str, int, float))
        ):
            return left[0] + right[0], "env-default" if "env-default" in (left[1], right[1]) else "literal"
        return None
    if isinstance(node, ast.JoinedStr):
        pieces = []
        for part in node.values:
            inner = (
                _ast_value(part.value, env)
                if isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None
                else None
            )
            if isinstance(part, ast.Constant):
                pieces.append(str(part.value))
            elif inner is not None:
                pieces.append(str(inner[0]))
            else:
                return None
        return "".join(pieces), "literal"
    if isinstance(node, ast.Call):
        return _ast_env_default(node, env)
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
        first = node.values[0]
        if isinstance(first, ast.Call) and _dotted_or_none(first.func) in _AST_ENV_GETTERS:
            default = _ast_value(node.values[1], env)
            return None if default is None else (default[0], "env-default")
    return None


def _ast_env_default(node: ast.Call, env: dict[str, tuple[Any, str]]) -> tuple[Any, str] | None:
    name = _dotted_or_none(node.func)
    if name in _AST_ENV_GETTERS:
        default = (
            node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "default"), None)
        )
        found = None if default is None else _ast_value(default, env)
        return None if found is None else (found[0], "env-default")
    if name in ("int", "float", "str") and len(node.args) == 1:
        inner = _ast_value(node.args[0], env)
        converted = _convert(name, None if inner is None else inner[0])
        return None if converted is _NO or inner is None else (converted, inner[1])
    return None


def _bentoml_build_args(directory: Path, context: ExtractContext) -> dict[str, Any]:
    """The template arguments a BentoML project's build passes to ``bentoml.use_arguments``:
    ``[tool.bentoml.build.args]`` of the pyproject.toml beside the service, else ``args:`` of
    its bentofile.yaml (BentoML's BentoBuildConfig.args, set as the arguments at build time; a
    ``--arg`` on the command line overrides them). Memoised per directory and run."""

    def read() -> dict[str, Any]:
        text = context.read(directory / "pyproject.toml")
        if text is not None and "bentoml" in text:
            import tomlkit

            try:
                data: Any = tomlkit.parse(text).unwrap()
            except Exception:  # noqa: BLE001 - a pyproject this reader cannot parse gives no args
                return {}
            args = data.get("tool", {}).get("bentoml", {}).get("build", {}).get("args", {})
            return args if isinstance(args, dict) else {}
        text = context.read(directory / "bentofile.yaml")
        if text is not None and "args" in text:
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError:
                return {}
            args = data.get("args") if isinstance(data, dict) else None
            return args if isinstance(args, dict) else {}
        return {}

    return context.cached(("ecolint.extract.python:bentoml-args", str(directory)), read)  # type: ignore[return-value]
