"""Value evaluation: what an expression holds without running anything (literals, names,
env and argparse defaults, parameters, dict entries, concatenations, constants of other modules),
and the dicts the code builds.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecolint.extract import ExtractContext
from ecolint.extract.python.imports import _bentoml_build_args, _locate, _module_constant
from ecolint.extract.python.index import (
    KWARGS_KEY,
    _Binding,
    _Condition,
    _Function,
    _ImportRef,
    _Indexer,
    _Mutation,
    _Scope,
    _Scopes,
    _Site,
    _When,
)
from ecolint.extract.python.syntax import (
    _MAX_DEPTH,
    _NO,
    _args,
    _convert,
    _DictItem,
    _dotted_or_none,
    _element,
    _final_name,
    _is_number,
    _literal,
    _Located,
)
from ecolint.setups import Location

_TORCH_DTYPES = frozenset({"float16", "half", "bfloat16", "float32", "float", "float64", "double"})

# How a value must have been learnt for a branch to be chosen by it: written in the code, or the
# default of a command-line parameter (what a run that passes nothing gets). An environment
# variable's default is not one: the environment is the deployment's, not the code's.
# "invocation": a value a command line of the project passes (ecolint/extract/python/invoked.py)
# "build-arg": a template argument a BentoML build of the project passes (bentoml.use_arguments)
_DECIDING = frozenset(
    {"literal", "constant", "imported", "argparse-default", "parameter-default", "invocation", "build-arg"}
)
# The most combinations of possible values one branch test is evaluated for.
_MAX_OUTCOMES = 16
# The most branches whose values may reach one use that are compared (beyond: unknown).
_MAX_ALTERNATIVES = 4
# The most bindings resolved one inside another (a value whose branch tests read values whose
# branch tests read …): deeper, the value is unknown. Each level costs about twenty frames, so
# this keeps a long module (transformers' generation/utils.py) under the recursion limit.
_MAX_OPEN_BINDINGS = 24
# The assignments followed back from `self.<switch> = name` to the default it passes on.
_MAX_SWITCH_HOPS = 3

_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Is: lambda a, b: a is b if a is None or b is None or isinstance(a, bool) else a == b,
    ast.IsNot: lambda a, b: a is not b if a is None or b is None or isinstance(a, bool) else a != b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def _unique(values: list[Any]) -> list[Any] | None:
    out: list[Any] = []
    for value in values:
        if not any(type(value) is type(known) and value == known for known in out):
            out.append(value)
    return out if len(out) <= _MAX_OUTCOMES else None


# A dict entry written under a branch nobody can decide: its value is unknown.
_UNKNOWN = ast.Name(id="", ctx=ast.Load(), lineno=0, col_offset=0)


def _same_mapping(a: dict[str, _Entry], b: dict[str, _Entry]) -> bool:
    """Two dicts written alike (the branches of an if that build the same keyword arguments)."""
    return a.keys() == b.keys() and all(ast.dump(a[k].value) == ast.dump(b[k].value) for k in a)


def _agreed_mapping(found: list[dict[str, _Entry] | None]) -> dict[str, _Entry] | None:
    """The dict every alternative builds alike, or None."""
    first = found[0] if found else None
    if first is None or any(other is None or not _same_mapping(first, other) for other in found[1:]):
        return None
    return first


def _pattern_values(pattern: ast.pattern) -> list[Any] | None:
    """The values a match-case pattern accepts (None: any value, or a pattern not read here)."""
    if isinstance(pattern, ast.MatchValue):
        value = _literal(pattern.value)
        return None if value is _NO else [value]
    if isinstance(pattern, ast.MatchSingleton):
        return [pattern.value]
    if isinstance(pattern, ast.MatchOr):
        out: list[Any] = []
        for alternative in pattern.patterns:
            values = _pattern_values(alternative)
            if values is None:
                return None
            out.extend(values)
        return out
    return None


@dataclass(frozen=True, eq=False)
class _Value:
    value: Any
    node: _Located | None  # where the value is written in this file; None: another file
    how: str
    location: Location | None = None  # where another module's call site writes it (node None)


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


def _annotated_option(fn: _Function, name: str) -> ast.Call | None:
    """The typer.Option / typer.Argument of ``name: Annotated[T, typer.Option(...)]``."""
    args = fn.node.args
    annotation = next((a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg == name), None)
    if not (isinstance(annotation, ast.Subscript) and _final_name(annotation.value) == "Annotated"):
        return None
    parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    return next(
        (p for p in parts[1:] if isinstance(p, ast.Call) and _final_name(p.func) in ("Option", "Argument")), None
    )


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
        self.argparse_flags: dict[str, str] = {}  # dest → the option as a command line spells it
        # Command-line parameters whose defaults chose a branch since the last reset: the setup
        # being read names them ("with --quant's default").
        self.defaults_chosen: set[str] = set()
        # of those, the ones chosen while one group of facts was read (_defaults_for): option → facts
        self.defaults_deciding: dict[str, set[str]] = {}
        self.defaults_read: list[str] = []  # every command-line default read, in order
        self.library_defaults_read = 0  # defaults of functions nothing here calls, no entry point
        self._entries: frozenset[_Function] | None = None
        # id of an index binding → (its value, the defaults and library defaults it read)
        self._binding_values: dict[int, tuple[_Value | None, list[str], int]] = {}
        self._bindings_open = 0  # bindings being resolved, one inside another (_MAX_OPEN_BINDINGS)
        self._file_dir: Path | None = None

    @contextmanager
    def _defaults_for(self, *facts: str) -> Iterator[None]:
        """Note the command-line defaults chosen inside as deciding these facts (and only
        them): `device_map = "cpu" if args.cpu else "auto"` decides where the model runs, not
        its precision or its batching."""
        outer = self.defaults_chosen
        self.defaults_chosen = set()
        try:
            yield
        finally:
            for option in self.defaults_chosen:
                self.defaults_deciding.setdefault(option, set()).update(facts)
            self.defaults_chosen = outer | self.defaults_chosen

    def _branches(self, site: _Site) -> tuple[bool | None, list[tuple[_Condition, set[str]]]]:
        """Whether a plain run takes a call's branches (True, False, or None when a test depends
        on anything else), with the command-line defaults that decide each of its conditions
        (up to the first that a plain run does not meet)."""
        decided: list[tuple[_Condition, set[str]]] = []
        taken: bool | None = True
        outer = self.defaults_chosen
        try:
            for condition in site.when:
                self.defaults_chosen = set()
                holds = self._decide((condition,), site.scope)
                decided.append((condition, self.defaults_chosen))
                if holds is False:
                    return False, decided
                if holds is None:
                    taken = None
            return taken, decided
        finally:
            self.defaults_chosen = outer

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
            chosen = self._decide((_Condition(expr.test, True, (0, 0)),), scope, depth + 1)
            if chosen is not None:
                return self._resolve(expr.body if chosen else expr.orelse, scope, depth + 1)
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
        if not alternatives:
            reaching = self._reaching(bindings, name.lineno, depth)
            if len(reaching) > _MAX_ALTERNATIVES:
                return None
            if len(reaching) > 1:  # assigned in branches: each branch's value may arrive
                return self._agreed([self._resolve_binding(b, name.id, depth) for b in reaching])
            bindings = [b for b in bindings if b in reaching or not b.when]
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

    def _parameter_default(self, binding: _Binding, fn: _Function, name: str, depth: int) -> _Value | None:
        """A parameter's default: a command-line entry point's (python-fire, click, typer: what a
        run that passes nothing gets), or that of a function a call here omits it from, or a
        library function's that nothing here calls (a value, but not one that chooses a branch:
        callers elsewhere choose)."""
        option = self._cli_option(fn, name)
        if option is None:
            if not binding.called:
                self.library_defaults_read += 1
            value = self._resolve(binding.value, binding.scope, depth + 1)
        else:
            flag, default = option
            self.defaults_read.append(flag)
            value = self._resolve(default, binding.scope, depth + 1)
        if value is None:
            return None
        return _Value(value.value, value.node, binding.how if value.how in ("literal", "constant") else value.how)

    def _cli_option(self, fn: _Function, name: str) -> tuple[str, ast.expr | None] | None:
        """(the option as a command line spells it, its default) when fn is a command-line entry
        point: handed to fire.Fire / typer.run, or a click / typer command. None otherwise."""
        if fn not in self._cli_entries():
            return None
        param = next((p for p in fn.params() if p.name == name), None)
        if param is None:
            return None
        flag = "--" + name.replace("_", "-")
        default = param.default
        marker = default if isinstance(default, ast.Call) else _annotated_option(fn, name)
        if marker is not None and _final_name(marker.func) in ("Option", "Argument"):
            # typer names the flag in its Option (`typer.Option("8bit", "--quant")`, or
            # `Annotated[bool, typer.Option("--4bit")]`): the first string that starts with a dash
            named = [t for t in (_literal(a.value) for a in _args(marker) if a.keyword is None) if isinstance(t, str)]
            flag = next((t.split("/", 1)[0].strip() for t in named if t.startswith("-")), flag)
        if isinstance(default, ast.Call) and _final_name(default.func) in ("Option", "Argument"):
            # typer: `quant: str = typer.Option("8bit", "--quant")`; `...` is a required option
            entry = self._positional(default, 0, fn.scope) or self._kwargs(default, fn.scope).get("default")
            default = None if entry is None or _literal(entry.value) is Ellipsis else entry.value
        for decorator in fn.node.decorator_list:
            found = self._click_option(decorator, name, fn.scope)
            if found is not None:
                return found
        return flag, default

    def _click_option(self, decorator: ast.expr, name: str, scope: _Scope) -> tuple[str, ast.expr | None] | None:
        """`@click.option("--load-in-8bit", is_flag=True, default=True)` for parameter ``name``."""
        if not isinstance(decorator, ast.Call) or _final_name(decorator.func) not in ("option", "argument"):
            return None
        texts = [_literal(a.value) for a in _args(decorator) if a.keyword is None and not a.star]
        texts = [t.split("/", 1)[0].strip() for t in texts if isinstance(t, str)]  # "--x/--no-x": --x
        declared = next((t for t in texts if not t.startswith("-")), None)
        longs = sorted((t for t in texts if t.startswith("-")), key=len, reverse=True)
        derived = declared or (longs[0].lstrip("-").replace("-", "_").lower() if longs else None)
        if derived != name:
            return None
        kwargs = self._kwargs(decorator, scope)
        flag = longs[0] if longs else name
        if "default" in kwargs:
            return flag, kwargs["default"].value
        if self._truthy(kwargs.get("is_flag")):
            return flag, ast.Constant(False)
        return flag, None

    def _cli_entries(self) -> frozenset[_Function]:
        if self._entries is None:
            entries: set[_Function] = set()
            for fn in self.index.functions:
                if any(self._is_command_decorator(d) for d in fn.node.decorator_list):
                    entries.add(fn)
            for site in self.index.calls:
                qualified = self._qualified(site.node.func) or ""
                if qualified not in ("fire.Fire", "typer.run"):
                    continue
                args = [a.value for a in _args(site.node)]
                if not args and qualified == "fire.Fire":  # fire.Fire(): every function is a command
                    entries.update(fn for fn in self.index.functions if fn.outer is None and fn.method_of is None)
                for arg in args[:1]:
                    entries.update(self._callees(arg, site.scope))
            self._entries = frozenset(entries)
        return self._entries

    def _is_command_decorator(self, decorator: ast.expr) -> bool:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualified = self._qualified(func) or ""
        if qualified.split(".", 1)[0] in ("click", "typer"):
            return True
        # @app.command() of a typer.Typer() / click.group() instance
        return _final_name(func) in ("command", "option") and bool(
            {"click", "typer"} & {t.split(".", 1)[0] for t in self.index.qualified.values()}
        )

    @staticmethod
    def _agreed(values: list[_Value | None]) -> _Value | None:
        """The value every alternative gives, or None when one is unknown or they differ."""
        known = [v for v in values if v is not None]
        if not known or len(known) < len(values) or any(v.value != known[0].value for v in known):
            return None
        return known[0]

    # -- branches -----------------------------------------------------------------------------

    def _reaching(self, bindings: list[_Binding], line: int, depth: int = 0) -> list[_Binding]:
        """Of a name's bindings (most recent first), those whose value may arrive at ``line``:
        back to the first one that surely runs, without those a branch that the defaults do not
        take holds."""
        out: list[_Binding] = []
        for binding in bindings:
            runs = self._decide(binding.when, binding.scope, depth + 1, line) if binding.when else True
            if runs is False:
                continue
            out.append(binding)
            if runs is True or len(out) > _MAX_ALTERNATIVES:
                break  # past the bound, the caller sees too many alternatives to agree
        return out

    def _decide(self, when: _When, scope: _Scope, depth: int = 0, line: int | None = None) -> bool | None:
        """Whether code under these branches runs when every command-line parameter keeps its
        default: True, False, or None when a test depends on anything else. Seen from ``line``,
        a branch that holds it is taken and its if's other branches are not."""
        decided: bool | None = True
        for condition in when:
            if line is not None and condition.block[0] <= line <= condition.block[1]:
                continue
            if line is not None and condition.statement[0] <= line <= condition.statement[1]:
                return False
            holds = self._condition(condition, scope, depth)
            if holds is False:
                return False
            if holds is None:
                decided = None
        return decided

    def _condition(self, condition: _Condition, scope: _Scope, depth: int) -> bool | None:
        chosen: set[str] = set()
        if condition.pattern is not None and condition.subject is not None:
            subjects = self._possible(condition.subject, scope, depth + 1, chosen)
            accepted = _pattern_values(condition.pattern)
            if subjects is None or accepted is None:
                return None
            outcomes: list[Any] | None = _unique([any(s == a for a in accepted) for s in subjects])
        elif condition.test is not None:
            outcomes = self._outcomes(condition.test, scope, depth + 1, chosen)
        else:
            return None
        truths = None if outcomes is None else {bool(v) for v in outcomes}
        if truths is None or len(truths) != 1:
            return None
        self.defaults_chosen |= chosen
        return truths.pop() == condition.holds

    def _outcomes(self, expr: ast.expr, scope: _Scope, depth: int, chosen: set[str]) -> list[Any] | None:
        """Every value a branch test may have under the defaults (None: unknown)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = self._outcomes(expr.operand, scope, depth + 1, chosen)
            return None if inner is None else _unique([not v for v in inner])
        if isinstance(expr, ast.BoolOp):
            results = self._outcomes(expr.values[0], scope, depth + 1, chosen)
            for operand in expr.values[1:]:
                right = self._outcomes(operand, scope, depth + 1, chosen)
                if results is None or right is None:
                    return None
                both = isinstance(expr.op, ast.And)
                results = _unique([(a and b) if both else (a or b) for a in results for b in right])
            return results
        if isinstance(expr, ast.Compare):
            return self._comparison(expr, scope, depth, chosen)
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            elements = [_literal(e) for e in expr.elts]
            return None if any(e is _NO for e in elements) else [tuple(elements)]
        return self._possible(expr, scope, depth, chosen)

    def _comparison(self, expr: ast.Compare, scope: _Scope, depth: int, chosen: set[str]) -> list[Any] | None:
        compare = _COMPARISONS.get(type(expr.ops[0])) if len(expr.ops) == 1 else None
        if compare is None:
            return None
        left = self._outcomes(expr.left, scope, depth + 1, chosen)
        right = self._outcomes(expr.comparators[0], scope, depth + 1, chosen)
        if left is None or right is None:
            return None
        try:
            return _unique([compare(a, b) for a in left for b in right])
        except TypeError:
            return None

    def _possible(self, expr: ast.expr, scope: _Scope, depth: int, chosen: set[str]) -> list[Any] | None:
        """Every value an expression may hold under the defaults, when it depends only on
        literals and command-line defaults (None otherwise)."""
        if depth > _MAX_DEPTH:
            return None
        values: list[_Value | None]
        read, library = len(self.defaults_read), self.library_defaults_read
        if isinstance(expr, ast.Attribute) and self._is_option(expr):
            # an option's default, and every value the code puts in it (args.quant = 4)
            dotted = _dotted_or_none(expr) or ""
            assigned = self.index.attr_bindings.get(dotted, [])
            values = [self._argparse_default(expr.attr, depth)]
            values += [self._resolve_binding(b, expr.attr, depth) for b in assigned]
        elif isinstance(expr, ast.Name):
            bindings, alternatives = self._definitions(expr.id, expr.lineno, scope)
            if not alternatives:
                bindings = self._reaching(bindings, expr.lineno, depth)
            if len(bindings) > _MAX_ALTERNATIVES:
                return None
            values = [self._resolve_binding(b, expr.id, depth) for b in bindings]
        elif isinstance(expr, ast.Attribute) and self._is_state(expr):
            # self.loaded, app.state.ready: set and reset as the program runs; but a switch a
            # class sets once, in __init__, to an "off" default stays off (_switched_off)
            return [False] if self._switched_off(expr, scope) else None
        else:
            values = [self._resolve(expr, scope, depth + 1)]
        if self.library_defaults_read > library:
            return None  # a library function's default: its callers elsewhere choose
        if not values or any(v is None or v.how not in _DECIDING for v in values):
            return None
        chosen.update(self.defaults_read[read:])
        return _unique([v.value for v in values if v is not None])

    def _switched_off(self, expr: ast.Attribute, scope: _Scope) -> bool:
        """Whether ``self.<name>`` is an opt-in switch left off: the class sets it in ``__init__``
        only, and every value it may take there is a false literal, the false default of an
        ``__init__`` parameter or of a config lookup (`config.get("low_resource", False)`).
        Turned on only where a config or caller this file does not show says so, like an
        argparse flag no launcher passes: the branch it guards is not what a plain run does."""
        if not (isinstance(expr.value, ast.Name) and expr.value.id == "self"):
            return False
        owner: _Scope | None = scope
        while owner is not None and owner.cls is None:
            owner = owner.parent
        bindings = None if owner is None or owner.cls is None else owner.cls.self_bindings.get(expr.attr)
        if not bindings:
            return False
        for binding in bindings:
            method = binding.scope.function
            if method is None or method.name != "__init__" or binding.value is None:
                return False
            if not self._off_default(binding.value, binding.scope, binding.line, _MAX_SWITCH_HOPS):
                return False
        # ... unless a config file of the project turns it on (MiniGPT-4's eval config sets
        # `low_resource: True`, which from_config reads with that default of False)
        return not self.context.turned_on_in_configs(expr.attr, self._dir())

    def _off_default(self, expr: ast.expr, scope: _Scope, line: int, hops: int) -> bool:
        """Whether an expression is a false literal, or passes one on as a default: a parameter's
        (`low_resource=False`), a mapping lookup's (`cfg.get("low_resource", False)`), or a name
        assigned one of those once above ``line``."""
        literal = _literal(expr)
        if literal is not _NO:
            return literal in (False, None, 0, "")
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get":
            positional = [a.value for a in _args(expr) if a.keyword is None and not a.star]
            return len(positional) == 2 and _literal(positional[1]) in (False, None, 0)
        if not isinstance(expr, ast.Name) or hops <= 0:
            return False
        bindings, alternatives = self._definitions(expr.id, line, scope)
        if alternatives:  # a parameter: its default and what each call site of this module passes
            return bool(bindings) and all(
                b.value is not None and self._off_default(b.value, b.scope, getattr(b.value, "lineno", 0), hops - 1)
                for b in bindings
            )
        if len(bindings) != 1 or bindings[0].value is None:
            return False
        return self._off_default(bindings[0].value, bindings[0].scope, bindings[0].line, hops - 1)

    def _is_state(self, expr: ast.Attribute) -> bool:
        """An attribute of an object the program changes: self.x, or one assigned anywhere."""
        root: ast.expr = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in ("self", "cls"):
            return True
        dotted = _dotted_or_none(expr)
        return dotted is not None and dotted in self.index.attr_bindings

    def _is_option(self, expr: ast.Attribute) -> bool:
        """args.quant: an argparse option read from the namespace parse_args returned."""
        base = expr.value
        return isinstance(base, ast.Name) and base.id not in ("self", "cls") and expr.attr in self.argparse

    def _resolve_binding(self, binding: _Binding, name: str, depth: int) -> _Value | None:
        """The value a binding gives. A binding of the index is resolved once (with the
        command-line defaults the resolution read, replayed on each reuse): names assigned in
        branch after branch (`x = x + 1` under twenty ifs) would otherwise be resolved once per
        path through them."""
        if self._bindings_open >= _MAX_OPEN_BINDINGS:
            return None  # a chain of bindings whose branches read other bindings: unknown
        if binding.line <= 0:  # made for one question (a parameter's arguments): not kept
            return self._resolve_binding_guarded(binding, name, depth)
        known = self._binding_values.get(id(binding))
        if known is None:
            read, library = len(self.defaults_read), self.library_defaults_read
            value = self._resolve_binding_guarded(binding, name, depth)
            known = (value, self.defaults_read[read:], self.library_defaults_read - library)
            # kept even when the chain was cut short deep inside (unknown, the cautious answer):
            # resolving it again from every place that asks grows exponentially
            self._binding_values[id(binding)] = known
            return value
        value, defaults, library_reads = known
        self.defaults_read.extend(defaults)
        self.library_defaults_read += library_reads
        return value

    def _resolve_binding_guarded(self, binding: _Binding, name: str, depth: int) -> _Value | None:
        self._bindings_open += 1
        try:
            return self._resolve_binding_once(binding, name, depth)
        finally:
            self._bindings_open -= 1

    def _resolve_binding_once(self, binding: _Binding, name: str, depth: int) -> _Value | None:
        if binding.external is not None:
            value, location = binding.external
            return _Value(value, None, binding.how, location)
        if binding.ref is not None:
            return self._imported(binding.ref, None)
        expr = _element(binding.value, binding.index)
        if binding.default_of is not None:
            return self._parameter_default(binding, binding.default_of, name, depth)
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
        is_instance, value = self._instance_field(bindings, expr.attr, depth)
        if is_instance:
            return value
        return self._argparse_default(expr.attr, depth)

    def _instance_field(self, bindings: list[_Binding], attr: str, depth: int) -> tuple[bool, _Value | None]:
        """cfg.load_in_8bit where cfg = Cfg(…) of a class of this module (a dataclass field's
        default, unless the call passes it by keyword), or a SimpleNamespace / argparse.Namespace
        built with keywords: (True, the value or None); (False, None) for any other name."""
        binding = bindings[0] if len(bindings) == 1 else None
        call = None if binding is None else _element(binding.value, binding.index)
        if binding is None or not isinstance(call, ast.Call):
            return False, None
        qualified = self._qualified(call.func) or ""
        kwargs = self._kwargs(call, binding.scope)
        if qualified in ("types.SimpleNamespace", "argparse.Namespace", "SimpleNamespace"):
            entry = kwargs.get(attr)
            return True, None if entry is None else self._resolve(entry.value, entry.scope, depth + 1)
        if qualified == "bentoml.use_arguments":
            return self._bentoml_argument(call, attr, binding.scope, depth)
        cls = self._local_class(call.func.id, binding.scope) if isinstance(call.func, ast.Name) else None
        if cls is None:
            return False, None
        if attr in kwargs:
            return True, self._resolve(kwargs[attr].value, kwargs[attr].scope, depth + 1)
        fields = cls.scope.bindings.get(attr)
        if any(a.keyword is None for a in _args(call)) or not fields or attr in cls.self_bindings:
            # a positional argument may fill it, or __init__ / a method sets it: not a field default
            return True, None
        return True, self._resolve_binding(fields[-1], attr, depth)

    def _bentoml_argument(self, call: ast.Call, attr: str, scope: _Scope, depth: int) -> tuple[bool, _Value | None]:
        """``args.model_id`` where ``args = bentoml.use_arguments(BentoArgs)``: the value the
        project's build passes (``[tool.bentoml.build.args]`` beside the service), else the
        default of the pydantic model's field (a class of this module)."""
        passed = _bentoml_build_args(self._dir(), self.context).get(attr)
        if isinstance(passed, (str, int, float, bool)):
            return True, _Value(passed, call, "build-arg")
        first = call.args[0] if call.args else None
        cls = self._local_class(first.id, scope) if isinstance(first, ast.Name) else None
        fields = None if cls is None else cls.scope.bindings.get(attr)
        if not fields or cls is None or attr in cls.self_bindings:
            return True, None
        return True, self._resolve_binding(fields[-1], attr, depth)

    def _argparse_default(self, dest: str, depth: int) -> _Value | None:
        option = self.argparse.get(dest)
        if option is None:
            return None
        default, action, call, scope = option
        self.defaults_read.append(self.argparse_flags.get(dest, dest))
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
        returns = self._factory_returns(call, scope) if depth < _MAX_DEPTH else []
        if returns:  # get_dtype(): what a function of this module returns, on every path that may run
            return self._agreed([self._resolve(expr, fn_scope, depth + 1) for expr, fn_scope in returns])
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
        """A dict the code builds: literal, `{**BASE, k: v}`, `dict(BASE, k=v)`, `a | b`, by name
        (with the changes made to it before the use: `d[k] = v`, `d.update(…)`, `d.setdefault`),
        or returned by a function of this module."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Dict):
            return self._dict_literal(expr, scope, depth)
        if isinstance(expr, ast.Call):
            return self._dict_call(expr, scope, depth)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            left, right = self._mapping(expr.left, scope, depth + 1), self._mapping(expr.right, scope, depth + 1)
            return None if left is None or right is None else {**left, **right}
        if isinstance(expr, ast.IfExp):  # `{"load_in_8bit": True} if load_8bit else {}`
            chosen = self._decide((_Condition(expr.test, True, (0, 0)),), scope, depth + 1)
            if chosen is not None:
                return self._mapping(expr.body if chosen else expr.orelse, scope, depth + 1)
            return _agreed_mapping(
                [self._mapping(expr.body, scope, depth + 1), self._mapping(expr.orelse, scope, depth + 1)]
            )
        if isinstance(expr, ast.Name):
            return self._named_mapping(expr, scope, depth)
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None:
                found = self._mapping(_element(binding.value, binding.index), binding.scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _named_mapping(self, name: ast.Name, scope: _Scope, depth: int) -> dict[str, _Entry] | None:
        bindings, alternatives = self._definitions(name.id, name.lineno, scope)
        if not bindings:
            return self._kwargs_parameter(name, scope, depth)
        reaching = bindings if alternatives else self._reaching(bindings, name.lineno, depth)
        if len(reaching) > _MAX_ALTERNATIVES:
            return None
        if len(reaching) > 1:  # bound in branches (or a parameter): one dict only if all agree
            return _agreed_mapping([self._binding_mapping(b, name, depth) for b in reaching])
        for binding in bindings:
            if binding.value is not None and (binding in reaching or not binding.when):
                found = self._binding_mapping(binding, name, depth)
                if found is not None:
                    return found
        return None

    def _kwargs_parameter(self, name: ast.Name, scope: _Scope, depth: int) -> dict[str, _Entry] | None:
        """A function's own `**kwargs`: the keywords its callers pass beyond its named parameters
        (`load(path, load_in_8bit=True)`: one call site of another module, or the calls of this
        module when they agree), with what the function sets in it before the use
        (`kwargs.setdefault("device_map", "auto")`)."""
        fn = scope.function
        kwarg = None if fn is None else fn.node.args.kwarg
        if fn is None or kwarg is None or kwarg.arg != name.id:
            return None
        found: dict[str, _Entry] = self._passed_keywords(fn, name)
        for change in fn.scope.mutations.get(name.id, ()):
            if change.line < name.lineno:
                self._apply_change(found, change, name.lineno, depth)
        return found

    def _passed_keywords(self, fn: _Function, unpacked: ast.Name) -> dict[str, _Entry]:
        """The keywords beyond fn's named parameters that reach its `**kwargs`: those one call
        site passes where fn is analysed for it (bound under ``KWARGS_KEY``: another module's,
        or one of several of this module that disagree), else those every call of this module
        passes alike (written out, no `**` of their own). Unknown ones are left out."""
        bound = self.bound.get((fn.node.lineno, fn.name)) if self.bound else None
        if bound is not None:
            passed = bound.get(KWARGS_KEY)
            return {} if passed is None or passed.external is None else self._external_entries(passed, unpacked)
        named = {p.name for p in fn.params()}
        each = []
        for site in self._calls_of(fn):
            if any(k.arg is None for k in site.node.keywords):
                return {}  # `**options` of its own: not known
            each.append(
                {k.arg: _Entry(k.value, k, site.scope) for k in site.node.keywords if k.arg and k.arg not in named}
            )
        if not each or any(set(one) != set(each[0]) for one in each[1:]):
            return {}
        agreed: dict[str, _Entry] = {}
        for key, entry in each[0].items():
            values = [self._resolve(one[key].value, one[key].scope) for one in each]
            first = values[0]
            if first is not None and all(v is not None and v.value == first.value for v in values):
                agreed[key] = entry  # else the calls disagree: unknown
        return agreed

    def _external_entries(self, passed: _Binding, unpacked: ast.Name) -> dict[str, _Entry]:
        """A call site's keywords (values and where that site writes them) as entries of the
        `**kwargs` they reach here, located at that unpacking for what points at the call."""
        assert passed.external is not None
        values, locations = passed.external
        if not hasattr(self, "_passed_nodes"):
            self._passed_nodes: list[ast.expr] = []  # kept alive: bindings are looked up by them
        out = {}
        for key, value in values.items():
            holder = _Scope("function", None)
            local = ast.Name(id="_passed", ctx=ast.Load(), lineno=1, col_offset=0)
            self._passed_nodes.append(local)
            holder.bindings["_passed"] = [_Binding(0, None, holder, how=passed.how, external=(value, locations[key]))]
            out[key] = _Entry(local, unpacked, holder)
        return out

    def _binding_mapping(self, binding: _Binding, name: ast.Name, depth: int) -> dict[str, _Entry] | None:
        found = self._mapping(_element(binding.value, binding.index), binding.scope, depth + 1)
        if found is None:
            return None
        changes = [m for m in binding.scope.mutations.get(name.id, ()) if binding.line <= m.line < name.lineno]
        if not changes:
            return found
        found = dict(found)
        for change in changes:
            self._apply_change(found, change, name.lineno, depth)
        return found

    def _apply_change(self, entries: dict[str, _Entry], change: _Mutation, line: int, depth: int) -> None:
        """One change to a dict, when the defaults make it; under a branch they do not decide,
        the keys it writes become unknown (the fact stays unknown, not the dict's older value)."""
        runs = self._decide(change.when, change.scope, depth + 1, line) if change.when else True
        if runs is False:
            return
        written: dict[str, _Entry] = {}
        call = change.call
        if call is None:
            key = None if change.key is None else self._resolve(change.key, change.scope, depth + 1)
            if key is None or not isinstance(key.value, str) or change.value is None:
                return
            written[key.value] = _Entry(change.value, change.value, change.scope)
        elif _final_name(call.func) == "setdefault":
            key_entry, value_entry = self._positional(call, 0, change.scope), self._positional(call, 1, change.scope)
            key = None if key_entry is None else self._resolve(key_entry.value, change.scope, depth + 1)
            if key is None or not isinstance(key.value, str) or value_entry is None or key.value in entries:
                return
            written[key.value] = value_entry
        else:  # update(mapping, k=v)
            first = self._positional(call, 0, change.scope)
            if first is not None:
                written.update(self._mapping(first.value, change.scope, depth + 1) or {})
            written.update(self._kwargs(call, change.scope))
        for written_key, entry in written.items():
            entries[written_key] = entry if runs else _Entry(_UNKNOWN, entry.node, entry.scope)

    def _factory_returns(self, call: ast.Call, scope: _Scope) -> list[tuple[ast.expr, _Scope]]:
        """What a call of a function of this module may return: its return values in source
        order, without those under branches the defaults do not take, up to the first return
        that surely runs. Empty when no function of this module is called."""
        out: list[tuple[ast.expr, _Scope]] = []
        for fn in self._callees(call.func, scope):
            for returned, when in zip(fn.returns, fn.return_when, strict=True):
                runs = self._decide(when, fn.scope) if when else True
                if runs is False:
                    continue
                out.append((returned, fn.scope))
                if runs is True:
                    break
        return out

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
            returns = self._factory_returns(call, scope)
            return _agreed_mapping([self._mapping(expr, fn_scope, depth + 1) for expr, fn_scope in returns])
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
            self.argparse_flags[dest] = next((f for f in flags if f.startswith("--")), flags[0] if flags else dest)

    def _truthy(self, entry: _Entry | None) -> bool:
        """A flag that is statically True. Unknown counts as off: no guessing a quantization."""
        if entry is None:
            return False
        value = self._resolve(entry.value, entry.scope)
        return value is not None and (value.value is True or (type(value.value) is int and value.value != 0))
