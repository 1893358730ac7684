"""Value evaluation: what an expression holds without running anything (literals, names,
env and argparse defaults, parameters, dict entries, concatenations, constants of other modules),
and the dicts the code builds.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecolint.extract import ExtractContext
from ecolint.extract.python.imports import _locate, _module_constant
from ecolint.extract.python.index import _Binding, _ImportRef, _Indexer, _Scope, _Scopes
from ecolint.extract.python.syntax import (
    _MAX_DEPTH,
    _NO,
    _args,
    _convert,
    _DictItem,
    _element,
    _is_number,
    _literal,
    _Located,
)

_TORCH_DTYPES = frozenset({"float16", "half", "bfloat16", "float32", "float", "float64", "double"})


@dataclass(frozen=True, eq=False)
class _Value:
    value: Any
    node: _Located | None  # where the value is written in this file; None: another file
    how: str


@dataclass(frozen=True, eq=False)
class _Entry:
    """A keyword argument, dict element or positional argument: its value and its own node."""

    value: ast.expr
    node: _Located
    scope: _Scope


def _weakest(values: list[_Value]) -> str:
    """How a value built from several was learnt: the least direct of its parts."""
    hows = [v.how for v in values]
    for how in ("env-default", "argparse-default", "parameter-default", "imported", "constant"):
        if how in hows:
            return how
    return "literal"


def _argparse_dest(flags: list[str], kwargs: dict[str, _Entry], resolve: Callable[..., _Value | None]) -> str | None:
    if "dest" in kwargs:
        dest = resolve(kwargs["dest"].value, kwargs["dest"].scope)
        return dest.value if dest is not None and isinstance(dest.value, str) else None
    longs = [f for f in flags if f.startswith("--")]
    chosen = longs[0] if longs else (flags[0] if flags else None)
    if chosen is None:
        return None
    return chosen.lstrip("-").replace("-", "_") or None


class _Values(_Scopes):
    """Values of expressions, with how each was learnt (``how``: literal, constant,
    env-default, argparse-default, parameter-default, imported)."""

    def __init__(self, path: str, index: _Indexer, context: ExtractContext) -> None:
        super().__init__(index)
        self.path = path
        self.context = context
        self.argparse: dict[str, tuple[ast.expr | None, str | None, ast.Call, _Scope]] = {}
        self._file_dir: Path | None = None

    def _positional(self, call: ast.Call, i: int, scope: _Scope) -> _Entry | None:
        args = [a for a in _args(call) if a.keyword is None and not a.star]
        return _Entry(args[i].value, args[i], scope) if i < len(args) else None

    def _kwargs(self, call: ast.Call, scope: _Scope) -> dict[str, _Entry]:
        """Keyword arguments, with `**mapping` expanded where the mapping resolves."""
        out: dict[str, _Entry] = {}
        for arg in _args(call):
            if arg.keyword is not None:
                out[arg.keyword] = _Entry(arg.value, arg, scope)
            elif arg.star == "**":
                out.update(self._mapping(arg.value, scope) or {})
        return out

    # -- values -------------------------------------------------------------------------------

    def _resolve(self, expr: ast.expr | None, scope: _Scope, depth: int = 0) -> _Value | None:
        """The value an expression has without running anything, or None."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        literal = _literal(expr)
        if literal is not _NO:
            return _Value(literal, expr, "literal")
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr, scope, depth)
        if isinstance(expr, ast.Attribute):
            return self._resolve_attribute(expr, scope, depth)
        if isinstance(expr, ast.Call):
            return self._resolve_call(expr, scope, depth)
        if isinstance(expr, ast.BinOp):
            return self._resolve_binary(expr, scope, depth)
        if isinstance(expr, ast.JoinedStr):
            return self._resolve_fstring(expr, scope, depth)
        if isinstance(expr, ast.BoolOp):
            return self._resolve_or(expr, expr.values, scope, depth)
        if isinstance(expr, ast.IfExp):
            body, orelse = self._resolve(expr.body, scope, depth + 1), self._resolve(expr.orelse, scope, depth + 1)
            same = body is not None and orelse is not None and body.value == orelse.value
            return body if same else None
        if isinstance(expr, ast.Subscript):
            return self._resolve_subscript(expr, scope, depth)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            inner = self._resolve(expr.operand, scope, depth + 1)
            if inner is not None and _is_number(inner.value):
                return _Value(-inner.value, expr if inner.node is expr.operand else inner.node, inner.how)
        return None

    def _resolve_name(self, name: ast.Name, scope: _Scope, depth: int) -> _Value | None:
        dtype = self._torch_dtype(name)
        if dtype is not None:
            return _Value(dtype, name, "literal")
        bindings, alternatives = self._definitions(name.id, name.lineno, scope)
        values = []
        for binding in bindings:
            value = self._resolve_binding(binding, name.id, depth)
            if value is None:
                if alternatives:
                    return None  # one call site passes something unknown: the value is unknown
                continue
            if not alternatives:
                return value
            values.append(value)
        if values and all(v.value == values[0].value for v in values):
            return values[0]
        return None

    def _resolve_binding(self, binding: _Binding, name: str, depth: int) -> _Value | None:
        if binding.ref is not None:
            return self._imported(binding.ref, None)
        expr = _element(binding.value, binding.index)
        value = self._resolve(expr, binding.scope, depth + 1)
        if value is not None and value.how == "literal":
            return _Value(value.value, value.node, binding.how)
        return value

    def _resolve_attribute(self, expr: ast.Attribute, scope: _Scope, depth: int) -> _Value | None:
        dtype = self._torch_dtype(expr)
        if dtype is not None:
            return _Value(dtype, expr, "literal")
        for binding in self._attribute_bindings(expr, scope):
            value = self._resolve_binding(binding, expr.attr, depth)
            if value is not None:
                return value
        base = expr.value
        if not isinstance(base, ast.Name) or base.id in ("self", "cls"):
            return None
        bindings, _ = self._definitions(base.id, base.lineno, scope)
        ref = next((b.ref for b in bindings if b.ref is not None), None)
        if ref is not None:
            return self._imported(ref, expr.attr)
        return self._argparse_default(expr.attr, depth)

    def _argparse_default(self, dest: str, depth: int) -> _Value | None:
        option = self.argparse.get(dest)
        if option is None:
            return None
        default, action, call, scope = option
        if default is None:
            if action in ("store_true", "store_false"):
                return _Value(action == "store_false", call, "argparse-default")
            return None
        value = self._resolve(default, scope, depth + 1)
        if value is None:
            return None
        return _Value(
            value.value, value.node, "argparse-default" if value.how in ("literal", "constant") else value.how
        )

    def _resolve_call(self, call: ast.Call, scope: _Scope, depth: int) -> _Value | None:
        qualified = self._qualified(call.func) or ""
        if qualified in ("os.environ.get", "os.getenv", "os.environ.setdefault"):
            default = self._positional(call, 1, scope) or self._kwargs(call, scope).get("default")
            value = None if default is None else self._resolve(default.value, scope, depth + 1)
            return None if value is None else _Value(value.value, value.node, "env-default")
        args = _args(call)
        if qualified in ("int", "float", "str") and len(args) == 1:
            inner = self._resolve(args[0].value, scope, depth + 1)
            converted = _convert(qualified, None if inner is None else inner.value)
            return None if converted is _NO else _Value(converted, inner.node, inner.how)  # type: ignore[union-attr]
        if qualified == "os.path.join":
            parts = [self._resolve(a.value, scope, depth + 1) for a in args]
            known = [p for p in parts if p is not None and isinstance(p.value, str)]
            if parts and len(known) == len(parts):
                return _Value(posixpath.join(*(p.value for p in known)), call, _weakest(known))
        if qualified == "getattr" and len(args) >= 2 and self._qualified(args[0].value) == "torch":
            name = self._resolve(args[1].value, scope, depth + 1)
            if name is not None and name.value in _TORCH_DTYPES:
                return _Value(name.value, name.node, name.how)
        return None

    def _resolve_binary(self, expr: ast.BinOp, scope: _Scope, depth: int) -> _Value | None:
        if not isinstance(expr.op, ast.Add):
            return None
        left, right = self._resolve(expr.left, scope, depth + 1), self._resolve(expr.right, scope, depth + 1)
        if left is None or right is None:
            return None
        both_str = isinstance(left.value, str) and isinstance(right.value, str)
        if not both_str and not (_is_number(left.value) and _is_number(right.value)):
            return None
        return _Value(left.value + right.value, expr, _weakest([left, right]))

    def _resolve_fstring(self, expr: ast.JoinedStr, scope: _Scope, depth: int) -> _Value | None:
        """f"{ORG}/{NAME}" and implicit concatenations of them, when every part resolves."""
        pieces: list[str] = []
        values: list[_Value] = []
        for part in expr.values:
            if isinstance(part, ast.Constant):
                pieces.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue) or part.conversion != -1 or part.format_spec is not None:
                return None
            value = self._resolve(part.value, scope, depth + 1)
            if value is None or not isinstance(value.value, (str, int, float)):
                return None
            pieces.append(str(value.value))
            values.append(value)
        return _Value("".join(pieces), expr, _weakest(values) if values else "literal")

    def _resolve_or(self, expr: ast.BoolOp, values: list[ast.expr], scope: _Scope, depth: int) -> _Value | None:
        """`os.environ.get("X") or "default"` → the default, learnt as an env default.

        `a or b or c` is read as `(a or b) or c`: ``values`` is the part of the chain up to here.
        """
        if not isinstance(expr.op, ast.Or):
            return None
        head, last = values[:-1], values[-1]
        if len(head) == 1:
            left = self._resolve(head[0], scope, depth + 1)
        else:
            left = None if depth + 1 > _MAX_DEPTH else self._resolve_or(expr, head, scope, depth + 1)
        if left is not None and left.value:
            return left
        right = self._resolve(last, scope, depth + 1)
        if right is None:
            return None
        if left is None and len(head) == 1 and self._is_env_lookup(head[0]):
            return _Value(right.value, right.node, "env-default")
        return right if left is not None else None

    def _is_env_lookup(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call):
            return self._qualified(expr.func) in ("os.environ.get", "os.getenv")
        if isinstance(expr, ast.Subscript):
            return self._qualified(expr.value) == "os.environ"
        return False

    def _resolve_subscript(self, expr: ast.Subscript, scope: _Scope, depth: int) -> _Value | None:
        if isinstance(expr.slice, (ast.Slice, ast.Tuple)):
            return None
        key = self._resolve(expr.slice, scope, depth + 1)
        if key is None or not isinstance(key.value, str):
            return None
        entry = (self._mapping(expr.value, scope, depth + 1) or {}).get(key.value)
        if entry is None:
            return None
        value = self._resolve(entry.value, entry.scope, depth + 1)
        return (
            None
            if value is None
            else _Value(value.value, value.node, "constant" if value.how == "literal" else value.how)
        )

    def _torch_dtype(self, expr: ast.expr) -> str | None:
        qualified = self._qualified(expr) or ""
        if qualified.startswith("torch.") and qualified[6:] in _TORCH_DTYPES:
            return qualified[6:]
        return None

    def _mapping(self, expr: ast.expr | None, scope: _Scope, depth: int = 0) -> dict[str, _Entry] | None:
        """A dict the code builds: literal, `{**BASE, k: v}`, `dict(BASE, k=v)`, `a | b`, by name."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Dict):
            return self._dict_literal(expr, scope, depth)
        if isinstance(expr, ast.Call):
            return self._dict_call(expr, scope, depth)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            left, right = self._mapping(expr.left, scope, depth + 1), self._mapping(expr.right, scope, depth + 1)
            return None if left is None or right is None else {**left, **right}
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None:
                found = self._mapping(_element(binding.value, binding.index), binding.scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _dict_literal(self, expr: ast.Dict, scope: _Scope, depth: int) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for index, (key_node, value_node) in enumerate(zip(expr.keys, expr.values, strict=True)):
            if key_node is None:  # {**BASE, …}
                out.update(self._mapping(value_node, scope, depth + 1) or {})
                continue
            key = self._resolve(key_node, scope, depth + 1)
            if key is not None and isinstance(key.value, str):
                out[key.value] = _Entry(value_node, _DictItem(expr, index), scope)
        return out

    def _dict_call(self, call: ast.Call, scope: _Scope, depth: int) -> dict[str, _Entry] | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not _args(call):
            return self._mapping(func.value, scope, depth + 1)
        if self._qualified(func) != "dict":
            return None
        out: dict[str, _Entry] = {}
        for arg in _args(call):
            if arg.keyword is not None:
                out[arg.keyword] = _Entry(arg.value, arg, scope)
            elif arg.star in ("", "**"):
                out.update(self._mapping(arg.value, scope, depth + 1) or {})
        return out

    # -- constants imported from other modules of the tree ------------------------------------

    def _imported(self, ref: _ImportRef, attr: str | None) -> _Value | None:
        """A constant of another module: `from .config import X` (attr None) or `config.X`."""
        if attr is None:
            if ref.name is None:
                return None
            module, name = ref.module, ref.name
        else:
            module = ref.module if ref.name is None else ".".join(p for p in (ref.module, ref.name) if p)
            name = attr
        found = _module_constant(module, ref.level, self._dir(), self.context, 0, name)
        if found is None:
            return None
        value, how = found
        return _Value(value, None, how if how in ("env-default", "argparse-default") else "imported")

    def _dir(self) -> Path:
        """The directory of this file (relative imports and sibling modules are found from it).

        The display path is relative to the working directory the run started in, which the
        context does not carry: try the scan root, the working directory and their overlap.
        """
        if self._file_dir is None:
            self._file_dir = _locate(Path(self.path), self.context).parent
        return self._file_dir

    # -- argparse options (the index's second look) -------------------------------------------

    def _collect_argparse(self) -> None:
        """`parser.add_argument("--model-id", default=…)` → dest model_id with its default."""
        for site in self.index.calls:
            call = site.node
            if site.name != "add_argument" or not isinstance(call.func, ast.Attribute):
                continue
            flags = [_literal(a.value) for a in _args(call) if a.keyword is None and not a.star]
            flags = [f for f in flags if isinstance(f, str)]
            kwargs = self._kwargs(call, site.scope)
            dest = _argparse_dest(flags, kwargs, self._resolve)
            if dest is None:
                continue
            default = kwargs.get("default")
            action = self._resolve(kwargs["action"].value, site.scope) if "action" in kwargs else None
            action_name = action.value if action is not None and isinstance(action.value, str) else None
            self.argparse[dest] = (None if default is None else default.value, action_name, call, site.scope)

    def _truthy(self, entry: _Entry | None) -> bool:
        """A flag that is statically True. Unknown counts as off: no guessing a quantization."""
        if entry is None:
            return False
        value = self._resolve(entry.value, entry.scope)
        return value is not None and (value.value is True or (type(value.value) is int and value.value != 0))
