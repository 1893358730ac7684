"""Shared definitions of the Python extractor: small readers of ``ast`` nodes that every stage
uses (a call's arguments in source order, names, literals, child nodes) and the depth limit of
the value walks. Nothing here knows about scopes, values or frameworks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# How far a value is followed through names, calls and imports before giving up: deep enough for
# real code (constant → env default → argparse …), shallow enough to stop on cycles quickly.
_MAX_DEPTH = 12
_NO = object()  # "not a literal" (None is a literal)
# The keywords True/False/None are names to a reader of the code (and were to the libcst-based
# reader this replaces): `x = None` reads something, which the loop-body def-use closure relies on.
_KEYWORD_CONSTANTS = {True: "True", False: "False", None: "None"}

_Statements = list  # a block: a function's or a loop's body, as ast holds it (list[ast.stmt])


@dataclass(eq=False)
class _Arg:
    """One argument of a call, in source order: positional, ``*x``, ``k=v`` or ``**x``."""

    keyword: str | None
    star: str  # "", "*" or "**"
    value: ast.expr
    node: ast.AST  # the keyword node for keyword and ** arguments, else the value (or Starred)
    func: ast.expr  # what is called (not the call: the call keeps its arguments, see _args)
    previous: ast.AST | None  # the argument before it; None for the first


@dataclass(eq=False)
class _DictItem:
    """``key: value`` of a dict literal (ast has no node for the pair)."""

    dict: ast.Dict
    index: int


_Located = ast.AST | _Arg | _DictItem  # what a location can be read from


def _args(call: ast.Call) -> list[_Arg]:
    """A call's arguments in source order (ast keeps positional and keyword ones apart), memoised
    on the node: `f(a=1, *rest)` puts `*rest` after the keyword, and which comes first decides
    what a `**mapping` overrides."""
    cached = getattr(call, "_ecolint_args", None)
    if cached is not None:
        return cached
    items: list[tuple[str | None, str, ast.expr, ast.AST]] = []
    for arg in call.args:
        starred = isinstance(arg, ast.Starred)
        items.append((None, "*" if starred else "", arg.value if starred else arg, arg))  # type: ignore[attr-defined]
    for keyword in call.keywords:
        items.append((keyword.arg, "" if keyword.arg is not None else "**", keyword.value, keyword))
    if call.args and call.keywords and _position(call.keywords[0]) < _position(call.args[-1]):
        items.sort(key=lambda item: _position(item[3]))
    out: list[_Arg] = []
    previous: ast.AST | None = None
    for keyword_name, star, value, node in items:
        out.append(_Arg(keyword_name, star, value, node, call.func, previous))
        previous = node
    call._ecolint_args = out  # type: ignore[attr-defined]
    return out


def _argument_values(call: ast.Call) -> list[ast.expr]:
    """What a call passes, in no set order (cheaper than _args where the order does not matter)."""
    values = [arg.value if type(arg) is ast.Starred else arg for arg in call.args]
    values.extend(keyword.value for keyword in call.keywords)
    return values


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _is_text(node: ast.expr, text: str) -> bool:
    """A one-line constant written exactly as ``text`` (`0` is, `0x0` and `00` are not)."""
    return node.lineno == node.end_lineno and (node.end_col_offset or 0) - node.col_offset == len(text)


# Fields that hold no node worth a visit: load/store contexts and operators (a node each, on
# every name and operation of a file), and names and values, which are plain strings and numbers.
_LEAF_FIELDS = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "id",
        "type_comment",
        "kind",
        "name",
        "names",
        "asname",
        "module",
        "level",
        "arg",
        "attr",
        "conversion",
        "is_async",
        "tag",
    }
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in _LEAF_FIELDS)  # type: ignore[attr-defined]
    return fields


def _child_nodes(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes without the contexts and operators (and as a list: cheaper)."""
    children: list[ast.AST] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            children.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


# Nodes with nothing below them to index or follow.
_LEAVES = frozenset({ast.Name, ast.Constant})


def _below_leaves(children: list[ast.AST]) -> list[ast.AST]:
    """The children worth a visit when looking for statements, calls and bindings: attribute
    chains and keywords are passed through to what lies below them, names and constants (about
    half the nodes of a file, not worth a call each) dropped."""
    kept = []
    for child in children:
        kind = type(child)
        while kind is ast.Attribute or kind is ast.keyword:
            child = child.value  # type: ignore[attr-defined]
            kind = type(child)
        if kind not in _LEAVES:
            kept.append(child)
    return kept


def _dotted_or_none(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_or_none(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _final_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _names_in(nodes: Iterable[ast.AST], *, free: bool = False) -> set[str]:
    """Names an expression reads (not attribute or keyword names; lambda parameters count).
    ``free``: only those it reads from around it, not the targets of its own comprehensions
    (`[i for i, t in enumerate(ids) if t in stops]` reads ids and stops, not an outer i)."""
    names: set[str] = set()
    own: set[str] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant):
            if node.value is None or node.value is True or node.value is False:
                names.add(_KEYWORD_CONSTANTS[node.value])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        else:
            if free and isinstance(node, ast.comprehension):
                own |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            stack.extend(_child_nodes(node))
    return names - own


def _target_names(target: ast.expr) -> set[str]:
    """Names a target writes; `x[i] = …` and `x.a = …` count as writing x (not self)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(e) for e in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Subscript, ast.Attribute)):
        base = target.value
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        if isinstance(base, ast.Name) and base.id not in ("self", "cls"):
            return {base.id}
    return set()


def _literal(expr: ast.expr) -> Any:
    """A string, number, True/False/None written as such (not bytes, complex or `...`)."""
    if not isinstance(expr, ast.Constant):
        return _NO
    value = expr.value
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return _NO


def _is_one(expr: ast.expr) -> bool:
    """The integer `1` written as such (a step of `0x1` is not read as one)."""
    return isinstance(expr, ast.Constant) and type(expr.value) is int and expr.value == 1 and _is_text(expr, "1")


def _element(expr: ast.expr | None, index: int | None) -> ast.expr | None:
    """The index-th element of a tuple/list literal; the expression itself when index is None."""
    if index is None or expr is None:
        return expr
    if isinstance(expr, (ast.Tuple, ast.List)):
        elements = expr.elts
        if index < len(elements) and not isinstance(elements[index], ast.Starred):
            return elements[index]
        return None
    return expr if isinstance(expr, ast.Call) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return _NO
    try:
        return {"int": int, "float": float, "str": str}[kind](value)
    except (TypeError, ValueError):
        return _NO


def _self_attribute(expr: ast.expr) -> str | None:
    """`x` of `self.x`."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        return expr.attr
    return None


def _path_to(tree: ast.AST, call: ast.Call) -> list[ast.AST]:
    """The nodes from `tree` down to `call` (empty if it is not there), found by going down
    only into the nodes whose lines hold the call's first line."""
    line = call.lineno
    path: list[ast.AST] = []
    todo: list[tuple[ast.AST, int]] = [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        del path[depth:]
        path.append(node)
        if node is call:
            return path
        for child in ast.iter_child_nodes(node):
            start = getattr(child, "lineno", None)
            if start is None or start <= line <= (getattr(child, "end_lineno", None) or start):
                todo.append((child, depth + 1))
    return []


def _innermost_loop(tree: ast.AST, call: ast.Call) -> ast.For | ast.AsyncFor | ast.While | None:
    """The innermost `for` or `while` loop of `tree` whose body runs `call` (a `while True:`
    the index keeps no item for included), not crossing into a nested function."""
    path = _path_to(tree, call)
    for parent, child in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and any(child is s for s in parent.body):
            return parent
    return None
