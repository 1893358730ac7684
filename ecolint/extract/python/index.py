"""The index of one file: scopes, bindings, functions, classes, loops, if-guards and every call
with that context (pass 1, ``_Indexer``), and the questions asked of it (``_Scopes``): what a
name may refer to at a line, what a parameter may hold, which local functions an expression
names and who calls them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ecolint.extract import LOADER_CALLS, ExtractError
from ecolint.extract.python.source import MAX_BOOL_CHAIN
from ecolint.extract.python.syntax import (
    _NO,
    _args,
    _argument_values,
    _below_leaves,
    _child_nodes,
    _dotted_or_none,
    _final_name,
    _is_text,
    _position,
    _Statements,
)

# Syntax-tree depth beyond which a file is reported instead of read: real code stays under 40,
# and the index and value walks recurse once per level.
_MAX_NESTING = 150


@dataclass(eq=False)
class _ImportRef:
    """``from <level dots><module> import <name>`` or ``import <module>`` (name None)."""

    module: str
    level: int
    name: str | None


@dataclass(frozen=True, eq=False)
class _Condition:
    """One test a statement runs under: ``test`` holds (``holds`` True) or fails, or, for a
    ``match`` case, ``subject`` matches ``pattern`` (or not)."""

    test: ast.expr | None
    holds: bool
    block: tuple[int, int]  # the lines of the branch it guards: code there runs under it
    statement: tuple[int, int] = (0, 0)  # the lines of the whole if / match: its other branches
    subject: ast.expr | None = None
    pattern: ast.pattern | None = None


_When = tuple[_Condition, ...]  # the conditions a statement runs under, outermost first


@dataclass(eq=False)
class _Binding:
    """A name bound to a value. ``value`` None: bound to something not followed (a loop target)."""

    line: int
    value: ast.expr | None
    scope: _Scope
    index: int | None = None  # position inside a tuple-unpacking target
    ref: _ImportRef | None = None
    how: str = "constant"  # how a literal reached through this binding was learnt
    when: _When = ()  # the if/else, match and except branches the binding sits in (in its function)
    default_of: _Function | None = None  # a parameter's default: the function it belongs to
    called: bool = False  # with default_of: whether some call in this module omits the parameter

    # a value passed from another module's call site: (value, Location there); see modules.py
    external: tuple[Any, Any] | None = None


# The key under which a call site's keywords beyond a function's named parameters are bound
# for its `**kwargs` (modules.py binds them; values.py reads them).
KWARGS_KEY = "**"


@dataclass(eq=False)
class _Mutation:
    """A change made to a dict bound to a name: `d[key] = value` (``key`` set), `d.update(…)`
    and `d.setdefault(key, value)` (``call`` set)."""

    line: int
    scope: _Scope
    when: _When
    key: ast.expr | None = None
    value: ast.expr | None = None
    call: ast.Call | None = None


@dataclass(eq=False)
class _Scope:
    kind: str  # module | function | class
    parent: _Scope | None
    function: _Function | None = None
    cls: _Class | None = None  # the class whose `self` is visible here
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    mutations: dict[str, list[_Mutation]] = field(default_factory=dict)  # of dicts, by name


@dataclass(eq=False)
class _Param:
    name: str
    default: ast.expr | None


@dataclass(eq=False)
class _Function:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    name: str
    scope: _Scope
    outer: _Function | None
    method_of: _Class | None
    returns: list[ast.expr] = field(default_factory=list)
    return_when: list[_When] = field(default_factory=list)  # the branches each return sits in
    _positional: list[_Param] = field(default_factory=list)
    _keyword_only: list[_Param] = field(default_factory=list)

    def __post_init__(self) -> None:
        args = self.node.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        self._positional = [_Param(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
        self._keyword_only = [_Param(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]

    def params(self) -> list[_Param]:
        """Named parameters (not *args / **kwargs)."""
        return [*self._positional, *self._keyword_only]

    def positional(self) -> list[_Param]:
        return self._positional

    def call_positions(self) -> dict[str, int | None]:
        """Each named parameter → its position in a call (None: keyword-only). A method's
        leading `self` or `cls` is the instance's or the class's, not one of the call's."""
        positional = [p.name for p in self._positional]
        if self.method_of is not None and positional[:1] in (["self"], ["cls"]):
            positional = positional[1:]
        positions: dict[str, int | None] = {name: at for at, name in enumerate(positional)}
        positions.update((p.name, None) for p in self._keyword_only)
        return positions

    def chain(self) -> Iterable[_Function]:
        fn: _Function | None = self
        while fn is not None:
            yield fn
            fn = fn.outer


@dataclass(eq=False)
class _Class:
    node: ast.ClassDef
    name: str
    scope: _Scope
    self_bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    methods: dict[str, _Function] = field(default_factory=dict)


@dataclass(eq=False)
class _Loop:
    target: ast.expr
    iter: ast.expr
    body: _Statements | None  # a for statement's body; None for a comprehension clause


# Calls that take one item off a queue or a list: q.get(), q.get_nowait(), prompts.pop(), …
_TAKERS = frozenset({"get", "get_nowait", "pop", "popleft", "popitem"})
_QUEUE_KEYWORDS = frozenset({"block", "timeout"})


def _drained_item(body: _Statements) -> tuple[ast.expr, ast.expr] | None:
    """(item, container) of a `while` loop that drains a queue or a list: its body takes one
    item off it at the top (`job = q.get()`, `p = prompts.pop()`, `req = await queue.get()`, in a
    `try:` too). Such a loop runs once per item, like `for item in container`. `dict.get(key)`
    takes a key, not an item, and is left out."""
    for at, statement in enumerate(body[:3]):
        if isinstance(statement, ast.Try):
            found = _drained_item(statement.body)
            if found is not None:
                return found
            continue
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
            continue
        if value.func.attr in _TAKERS and _takes_an_item(value):
            return statement.targets[0], value.func.value
        if value.func.attr in _READERS and not value.args and _breaks_when_empty(body[at + 1 : at + 3], statement):
            return statement.targets[0], value.func.value
    return None


# A reader's next item: a file's next line, a video's next frame (cv2's `ok, frame = cap.read()`).
_READERS = frozenset({"readline", "read"})


def _breaks_when_empty(following: _Statements, read: ast.Assign) -> bool:
    """Whether the statements after a read leave the loop when it gave nothing (`if not line:
    break`, `if not ok: break`): the loop then goes through what the reader holds, one item a
    pass, like `for line in f`."""
    names = {n.id for n in ast.walk(read.targets[0]) if isinstance(n, ast.Name)}
    for statement in following:
        if (
            isinstance(statement, ast.If)
            and any(isinstance(s, ast.Break) for s in statement.body)
            and {n.id for n in ast.walk(statement.test) if isinstance(n, ast.Name)} & names
        ):
            return True
    return False


def _takes_an_item(call: ast.Call) -> bool:
    """q.get() / q.get(True, 1) / q.get(timeout=1) / prompts.pop() / prompts.pop(0), not d.get(key)."""
    if any(k.arg not in _QUEUE_KEYWORDS for k in call.keywords):
        return False
    return all(isinstance(a, ast.Constant) and not isinstance(a.value, str) for a in call.args)


@dataclass(eq=False)
class _Site:
    """A call and where it sits: scope, innermost function, loops and if-tests around it."""

    node: ast.Call
    scope: _Scope
    function: _Function | None
    loops: tuple[_Loop, ...]
    guards: tuple[ast.expr, ...]
    name: str | None  # the called name's last part: `f` of f(…) and of x.f(…)
    when: _When = ()  # the if/else and match branches the call sits in (in its function)
    # inside a `while` loop of its function that ``loops`` leaves out (no item per pass: a retry,
    # an interactive loop, a hand-written decoding loop's `while True:`)
    in_while: bool = False


def _children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in source order, where ast's field order differs from it."""
    if isinstance(node, ast.Call):
        args, keywords = node.args, node.keywords
        if args and keywords and _position(keywords[0]) < _position(args[-1]):
            return [node.func, *(arg.node for arg in _args(node))]  # `f(a=1, *rest)`
        return [node.func, *args, *keywords]
    if isinstance(node, ast.Dict):
        children: list[ast.AST] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None:
                children.append(key)
            children.append(value)
        return children
    if isinstance(node, ast.IfExp):
        return [node.body, node.test, node.orelse]
    if isinstance(node, ast.arguments):
        return list(_argument_parts(node))
    return _child_nodes(node)


_SOURCE_ORDER = (ast.Call, ast.Dict, ast.IfExp, ast.arguments)


def _argument_parts(args: ast.arguments) -> Iterator[ast.expr]:
    """Annotations and defaults of a parameter list, in source order."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs: list[tuple[ast.arg | None, ast.expr | None]] = list(zip(positional, defaults, strict=True))
    pairs.append((args.vararg, None))
    pairs.extend(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    pairs.append((args.kwarg, None))
    for arg, default in pairs:
        if arg is not None and arg.annotation is not None:
            yield arg.annotation
        if default is not None:
            yield default


def _nothing(indexer: Any, node: ast.AST) -> None:
    return None


class _Indexer:
    """Walks the module once, in source order; loops and if-guards are reset at each function
    boundary."""

    _VISITORS: dict[type, Callable[[Any, Any], None]]  # below the class

    def __init__(self) -> None:
        self.module = _Scope("module", None)
        self.scope = self.module
        self.function: _Function | None = None
        self.loops: tuple[_Loop, ...] = ()
        self.guards: tuple[ast.expr, ...] = ()
        self.when: _When = ()
        self.in_while = False
        self.calls: list[_Site] = []
        self.functions: list[_Function] = []
        self.classes: dict[str, _Class] = {}
        self.scopes: list[_Scope] = [self.module]  # every scope, for release()
        self.qualified: dict[str, str] = {}  # local name → dotted import path
        self.star_imports = False  # a `from module import *` (names bound there are not known here)
        self.attr_bindings: dict[str, list[_Binding]] = {}  # app.state.model = … (not self.x)
        self.depth = 0
        self.bool_operands = 0  # of the and/or chains around the node being visited
        self.tree: ast.Module | None = None  # the module indexed (usage reads a name's every use)

    def visit_module(self, tree: ast.Module) -> None:
        self.tree = tree
        self._visit_block(tree.body)

    def release(self) -> None:
        """Break the index's reference cycles (a scope and its function or class, a binding and
        its scope), so that reference counting frees the syntax tree as soon as the file is done.
        Left to the cyclic collector, every tree is walked once more before it is freed (585,000
        objects collected that way over peft's candidates)."""
        for scope in self.scopes:
            if scope.cls is not None:
                scope.cls.self_bindings.clear()
                scope.cls.methods.clear()
            scope.bindings.clear()
            scope.mutations.clear()
            scope.function = scope.cls = None
        self.attr_bindings.clear()
        self.tree = None

    def loader_names(self) -> set[str]:
        """The names a call a setup starts at can have here: the loaders' own and import aliases."""
        names = set(LOADER_CALLS)
        names.update(local for local, target in self.qualified.items() if target.rsplit(".", 1)[-1] in LOADER_CALLS)
        return names

    def calls_a_loader(self) -> bool:
        loaders = self.loader_names()
        return any(site.name in loaders for site in self.calls)

    def visit(self, node: ast.AST) -> None:
        # The index and the value walks recurse once per level: refuse what real code never is.
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise ExtractError("too deeply nested to parse", getattr(node, "lineno", 1))
        visitor = _Indexer._VISITORS.get(type(node))
        if visitor is not None:
            visitor(self, node)
        else:
            self._visit_children(node)
        self.depth -= 1

    def _visit_children(self, node: ast.AST) -> None:
        for child in _below_leaves(_children(node) if isinstance(node, _SOURCE_ORDER) else _child_nodes(node)):
            self.visit(child)

    def _visit_all(self, nodes: Iterable[ast.AST]) -> None:
        for node in nodes:
            self.visit(node)

    # -- scopes -------------------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # Decorators and defaults run in the enclosing scope; the return annotation is not read.
        self._visit_all(node.decorator_list)
        self._visit_all(_argument_parts(node.args))
        method_of = self.scope.cls if self.scope.kind == "class" else None
        self_cls = method_of or (self.scope.cls if self.scope.kind == "function" else None)
        scope = _Scope("function", self.scope, cls=self_cls)
        self.scopes.append(scope)
        info = _Function(node, node.name, scope, self.function, method_of)
        scope.function = info
        self.functions.append(info)
        if method_of is not None:
            method_of.methods.setdefault(info.name, info)
        self._bind(info.name, _Binding(node.lineno, None, self.scope))
        saved = (self.scope, self.function, self.loops, self.guards, self.when, self.in_while)
        self.scope, self.function, self.loops, self.guards, self.when, self.in_while = scope, info, (), (), (), False
        self._visit_block(node.body)
        self.scope, self.function, self.loops, self.guards, self.when, self.in_while = saved

    def _class(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list)
        self._visit_all(node.bases)
        self._visit_all(node.keywords)
        scope = _Scope("class", self.scope)
        self.scopes.append(scope)
        info = _Class(node, node.name, scope)
        scope.cls = info
        self.classes.setdefault(info.name, info)
        self._bind(info.name, _Binding(node.lineno, None, self.scope))
        saved = self.scope
        self.scope = scope
        self._visit_all(node.body)
        self.scope = saved

    # -- control flow -------------------------------------------------------------------------

    def _if(self, node: ast.If) -> None:
        if _is_dead(node.test):
            self._visit_all(node.orelse)
            return
        self.visit(node.test)
        saved, when = self.guards, self.when
        self.guards = saved + (node.test,)
        statement = (node.lineno, node.end_lineno or node.lineno)
        self.when = when + (_Condition(node.test, True, _lines(node.body), statement),)
        self._visit_block(node.body)
        self.guards = saved
        self.when = when + (_Condition(node.test, False, _lines(node.orelse), statement),)
        self._visit_block(node.orelse)
        self.when = when

    def _visit_block(self, body: list[ast.stmt]) -> None:
        """Statements of one block. After `if test: … return` (raise, exit, continue, break) the
        rest of the block runs only when the test fails."""
        when = self.when
        for i, statement in enumerate(body):
            self.visit(statement)
            if isinstance(statement, ast.If) and not statement.orelse and i + 1 < len(body) and _exits(statement.body):
                rest = (body[i + 1].lineno, body[-1].end_lineno or body[-1].lineno)
                span = (statement.lineno, rest[1])
                self.when += (_Condition(statement.test, False, rest, span),)
        self.when = when

    def _try(self, node: ast.Try) -> None:
        """An except clause runs instead of the rest of the try body: what it binds is one
        alternative among others (a condition nothing decides)."""
        self._visit_all(node.body)
        when, statement = self.when, (node.lineno, node.end_lineno or node.lineno)
        for handler in node.handlers:
            self.when = when + (_Condition(None, True, _lines(handler.body), statement),)
            self.visit(handler)
        self.when = when
        self._visit_all(node.orelse)
        self._visit_all(node.finalbody)

    def _match(self, node: ast.Match) -> None:
        """Each case runs when its pattern matches and no earlier case's did."""
        self.visit(node.subject)
        when = self.when
        earlier: _When = ()
        statement = (node.lineno, node.end_lineno or node.lineno)
        for case in node.cases:
            self.visit(case.pattern)
            block = _lines(case.body)
            self.when = when + earlier + (_Condition(None, True, block, statement, node.subject, case.pattern),)
            if case.guard is not None:
                self.visit(case.guard)
                self.when += (_Condition(case.guard, True, block, statement),)
            self._visit_all(case.body)
            if case.guard is None:
                earlier += (_Condition(None, False, block, statement, node.subject, case.pattern),)
        self.when = when

    def _while(self, node: ast.While) -> None:
        if _is_dead(node.test):
            self._visit_all(node.orelse)
            return
        drained = _drained_item(node.body)
        if drained is None:
            in_while, self.in_while = self.in_while, True
            self._visit_children(node)  # a retry, polling or interactive loop: no item per pass
            self.in_while = in_while
            return
        self.visit(node.test)
        saved = self.loops
        self.loops = saved + (_Loop(drained[0], drained[1], node.body),)
        self._visit_all(node.body)
        self.loops = saved
        self._visit_all(node.orelse)

    def _for(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._bind_target(node.target, None)
        saved = self.loops
        self.loops = saved + (_Loop(node.target, node.iter, node.body),)
        self._visit_all(node.body)
        self.loops = saved
        self._visit_all(node.orelse)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        clauses = node.generators
        first = clauses[0]
        self.visit(first.iter)  # the first iterable is evaluated outside the comprehension
        saved = self.loops
        self.loops = saved + tuple(_Loop(c.target, c.iter, None) for c in clauses)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        for clause in clauses:
            if clause is not first:
                self.visit(clause.iter)
            self._visit_all(clause.ifs)
        self.loops = saved

    # -- calls and returns --------------------------------------------------------------------

    def _bool_op(self, node: ast.BoolOp) -> None:
        operands = len(node.values) - 1
        self.bool_operands += operands
        if self.bool_operands > MAX_BOOL_CHAIN:
            raise ExtractError(
                f"too deeply nested to parse: more than {MAX_BOOL_CHAIN} and/or operands in one expression", node.lineno
            )
        self._visit_children(node)
        self.bool_operands -= operands

    def _call(self, node: ast.Call) -> None:
        name = _final_name(node.func)
        self.calls.append(
            _Site(node, self.scope, self.function, self.loops, self.guards, name, self.when, self.in_while)
        )
        if name in ("update", "setdefault") and isinstance(node.func, ast.Attribute):
            self._mutate(node.func.value, _Mutation(node.lineno, self.scope, self.when, call=node))
        self._visit_children(node)

    def _return(self, node: ast.Return) -> None:
        if self.function is not None and node.value is not None:
            self.function.returns.append(node.value)
            self.function.return_when.append(self.when)
        self._visit_children(node)

    # -- bindings -----------------------------------------------------------------------------

    def _assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._bind_target(target, node.value)
        self._visit_children(node)

    def _ann_assign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value)
        self._visit_children(node)

    def _aug_assign(self, node: ast.AugAssign) -> None:
        self._bind_target(node.target, None)
        self._visit_children(node)

    def _named_expr(self, node: ast.NamedExpr) -> None:
        self._bind_target(node.target, node.value)
        self._visit_children(node)

    def _with_item(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._bind_target(node.optional_vars, None)
        self._visit_children(node)

    def _except_handler(self, node: ast.ExceptHandler) -> None:
        if node.name is not None:
            # ast keeps the name as a string: it sits where the exception type ends.
            line = node.type.end_lineno if node.type is not None else node.lineno
            self._bind(node.name, _Binding(line or node.lineno, None, self.scope))
        self._visit_children(node)

    def _global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            dotted = alias.name
            if alias.asname is not None:
                local, target = alias.asname, dotted
            else:
                local = target = dotted.split(".")[0]
            self.qualified[local] = target
            self._bind(local, _Binding(node.lineno, None, self.scope, ref=_ImportRef(target, 0, None)))

    def _import_from(self, node: ast.ImportFrom) -> None:
        if any(alias.name == "*" for alias in node.names):
            self.star_imports = True  # names it binds are known only by reading that module
            return
        level = node.level or 0
        module = node.module or ""
        for alias in node.names:
            name = alias.name
            local = alias.asname or name
            self.qualified[local] = "." * level + (f"{module}." if module else "") + name
            ref = _ImportRef(module, level, name)
            self._bind(local, _Binding(node.lineno, None, self.scope, ref=ref))

    def _bind(self, name: str, binding: _Binding) -> None:
        scope = self.module if name in self.scope.globals else self.scope
        binding.when = self.when
        scope.bindings.setdefault(name, []).append(binding)

    def _mutate(self, target: ast.expr, mutation: _Mutation) -> None:
        if isinstance(target, ast.Name):
            self.scope.mutations.setdefault(target.id, []).append(mutation)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, index: int | None = None) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, _Binding(target.lineno, value, self.scope, index))
        elif isinstance(target, ast.Subscript) and value is not None and index is None:
            # params["quantization_config"] = … changes the dict bound to params
            key = None if isinstance(target.slice, (ast.Slice, ast.Tuple)) else target.slice
            self._mutate(target.value, _Mutation(target.lineno, self.scope, self.when, key=key, value=value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, element in enumerate(target.elts):
                starred = isinstance(element, ast.Starred)
                nested = value if index is None and not starred else None
                inner = element.value if isinstance(element, ast.Starred) else element
                self._bind_target(inner, nested, i if nested is not None else None)
        elif isinstance(target, ast.Attribute):
            self._bind_attribute(target, _Binding(target.lineno, value, self.scope, index))

    def _bind_attribute(self, target: ast.Attribute, binding: _Binding) -> None:
        binding.when = self.when
        # self.model = … in a method, cls.model = … in a classmethod: the class's attribute
        if isinstance(target.value, ast.Name) and target.value.id in ("self", "cls") and self.scope.cls is not None:
            self.scope.cls.self_bindings.setdefault(target.attr, []).append(binding)
            return
        dotted = _dotted_or_none(target)
        if dotted is not None:
            self.attr_bindings.setdefault(dotted, []).append(binding)


# What the index does at each kind of node (unbound: a table of bound methods would tie the
# indexer into a reference cycle, and keep every syntax tree alive until the cyclic collector runs).
_Indexer._VISITORS = {
    ast.Name: _nothing,  # leaves: nothing below them is indexed
    ast.Constant: _nothing,
    ast.FunctionDef: _Indexer._function,
    ast.AsyncFunctionDef: _Indexer._function,
    ast.ClassDef: _Indexer._class,
    ast.If: _Indexer._if,
    ast.Match: _Indexer._match,
    ast.Try: _Indexer._try,
    ast.While: _Indexer._while,
    ast.For: _Indexer._for,
    ast.AsyncFor: _Indexer._for,
    ast.ListComp: _Indexer._comprehension,
    ast.SetComp: _Indexer._comprehension,
    ast.GeneratorExp: _Indexer._comprehension,
    ast.DictComp: _Indexer._comprehension,
    ast.Call: _Indexer._call,
    ast.BoolOp: _Indexer._bool_op,
    ast.Return: _Indexer._return,
    ast.Assign: _Indexer._assign,
    ast.AnnAssign: _Indexer._ann_assign,
    ast.AugAssign: _Indexer._aug_assign,
    ast.NamedExpr: _Indexer._named_expr,
    ast.withitem: _Indexer._with_item,
    ast.ExceptHandler: _Indexer._except_handler,
    ast.Global: _Indexer._global,
    ast.Import: _Indexer._import,
    ast.ImportFrom: _Indexer._import_from,
}

if hasattr(ast, "TryStar"):  # Python 3.11+: `except*` branches like `except`
    _Indexer._VISITORS[getattr(ast, "TryStar")] = _Indexer._try  # noqa: B009 - absent before 3.11


_EXIT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit"})


def _exits(block: list[ast.stmt]) -> bool:
    """A block that leaves its enclosing block: it ends in return, raise, continue, break or exit()."""
    last = block[-1]
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    return (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and _dotted_or_none(last.value.func) in _EXIT_CALLS
    )


def _lines(block: list[ast.stmt]) -> tuple[int, int]:
    """The first and last line of a block of statements ((0, 0) for an empty else)."""
    if not block:
        return (0, 0)
    return (block[0].lineno, block[-1].end_lineno or block[-1].lineno)


def _is_dead(test: ast.expr) -> bool:
    """`if False:`, `if 0:`, `if TYPE_CHECKING:` — code that never runs at inference time."""
    if isinstance(test, ast.Constant):
        value = test.value
        return value is False or (type(value) is int and value == 0 and _is_text(test, "0"))
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class _Scopes:
    """Questions to one file's index: definitions of names, parameters, attributes, the
    call graph (by name; one module). The base of the extraction's layers."""

    def __init__(self, index: _Indexer) -> None:
        self.index = index
        self._callers: dict[_Function, list[_Site]] | None = None
        self._by_name: dict[str, list[_Function]] | None = None
        self._methods: frozenset[str] | None = None
        self._alias_names: dict[str, str] | None = None
        # (line, name) of a function → what its parameters hold for the one call site this
        # extraction is specialised for (another module's call: ecolint/extract/python/modules.py)
        self.bound: dict[tuple[int, str], dict[str, _Binding]] = {}

    def _qualified(self, expr: ast.expr) -> str | None:
        """The dotted name an expression spells, with the file's import aliases undone."""
        if isinstance(expr, ast.Name):
            return self.index.qualified.get(expr.id, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self._qualified(expr.value)
            return None if base is None else f"{base}.{expr.attr}"
        return None

    # -- definitions of names -----------------------------------------------------------------

    def _definitions(self, name: str, line: int, scope: _Scope) -> tuple[list[_Binding], bool]:
        """Bindings a name may refer to at a line, most recent first.

        The bool says whether they are alternatives (a parameter: each call site passes its own
        value) rather than one chosen assignment. In the scope of the use only assignments above
        the use count; in enclosing scopes all do (a function runs after the module is loaded).
        """
        if name in ("self", "cls"):
            return [], False
        current: _Scope | None = self.index.module if name in scope.globals else scope
        # `global model` in a function: the module's assignments all count, as for any enclosing
        # scope (the function runs after the module, `if __name__ == "__main__":` included)
        same = current is scope
        while current is not None:
            if current.kind == "class" and not same:
                current = current.parent
                continue
            bindings = current.bindings.get(name)
            if bindings:
                chosen = [b for b in bindings if b.line < line] if same else list(bindings)
                if chosen:
                    return list(reversed(chosen)), False
            if current.kind == "function" and current.function is not None:
                params = self._parameter_bindings(current.function, name)
                if params is not None:
                    return params, True
            same = False
            current = current.parent
        return [], False

    def _parameter_bindings(self, fn: _Function, name: str) -> list[_Binding] | None:
        """What a parameter may hold: each call site's argument, or the default when omitted."""
        params = fn.params()
        param = next((p for p in params if p.name == name), None)
        if param is None:
            return None
        bound = self.bound.get((fn.node.lineno, fn.name)) if self.bound else None
        if bound is not None:  # one call site of another module: its argument, or the default
            passed = bound.get(name)
            parent = fn.scope.parent or self.index.module
            default = _Binding(0, param.default, parent, how="parameter-default", default_of=fn, called=True)
            return [passed if passed is not None else default]
        index = fn.call_positions().get(name)
        out: list[_Binding] = []
        omitted = False
        sites = self._calls_of(fn)
        for site in sites:
            arg = self._argument_for(site.node, name, index)
            if arg is _NO:
                out.append(_Binding(0, None, site.scope))  # *args/**kwargs: unknown
            elif arg is None:
                omitted = True
            else:
                out.append(_Binding(0, arg, site.scope, how="literal"))
        partials = self._partials_of(fn)
        for site in partials:
            # partial(evaluate, model, tokenizer): the bound arguments; the rest come with each call
            arg = self._argument_for(site.node, name, index, skip=1)
            out.append(_Binding(0, arg if isinstance(arg, ast.expr) else None, site.scope, how="literal"))
        if omitted or not (sites or partials):
            parent = fn.scope.parent or self.index.module
            default = _Binding(0, param.default, parent, how="parameter-default", default_of=fn, called=bool(sites))
            out.append(default)
        return out

    @staticmethod
    def _argument_for(call: ast.Call, name: str, index: int | None, skip: int = 0) -> Any:
        """What a call passes to a parameter (its name, its position), None when it passes
        nothing, _NO behind *args. ``skip``: leading positional arguments that are not the
        function's (`partial(f, a)` passes `a` first)."""
        positional = -skip
        for arg in _args(call):
            if arg.keyword is not None:
                if arg.keyword == name:
                    return arg.value
                continue
            if arg.star:
                return _NO
            if index is not None and positional == index:
                return arg.value
            positional += 1
        return None

    def _calls_of(self, fn: _Function) -> list[_Site]:
        """Sites that call fn (not those that only hand it over as an argument)."""
        return [site for site in self._callers_of(fn) if fn in self._callees(site.node.func, site.scope)]

    def _partials_of(self, fn: _Function) -> list[_Site]:
        """`functools.partial(fn, …)` sites: they bind fn's first arguments for every later call."""
        return [
            site
            for site in self._callers_of(fn)
            if site.name == "partial"
            and (wrapped := self._partial_of(site.node)) is not None
            and fn in self._callees(wrapped, site.scope)
        ]

    def _partial_of(self, expr: ast.expr) -> ast.expr | None:
        """The function `functools.partial(f, …)` wraps (a handler registered through it runs f)."""
        if not isinstance(expr, ast.Call) or _final_name(expr.func) != "partial" or not expr.args:
            return None
        if self._qualified(expr.func) != "functools.partial" or isinstance(expr.args[0], ast.Starred):
            return None
        return expr.args[0]

    def _attribute_bindings(self, expr: ast.Attribute, scope: _Scope) -> list[_Binding]:
        base, attr = expr.value, expr.attr
        if isinstance(base, ast.Name):
            cls = scope.cls if base.id in ("self", "cls") else self._local_class(base.id, scope)
            if cls is not None:
                found = list(reversed(cls.self_bindings.get(attr, []))) if base.id in ("self", "cls") else []
                return found + list(reversed(cls.scope.bindings.get(attr, [])))
        dotted = _dotted_or_none(expr)
        if dotted is None:
            return []
        parts = dotted.split(".")
        for i in range(len(parts) - 1):  # request.app.state.model ← app.state.model = …
            bindings = self.index.attr_bindings.get(".".join(parts[i:]))
            if bindings:
                return list(reversed(bindings))
        return []

    def _local_class(self, name: str, scope: _Scope) -> _Class | None:
        cls = self.index.classes.get(name)
        if cls is None:
            return None
        defs, _ = self._definitions(name, 10**9, scope)
        return cls if all(b.value is None and b.ref is None for b in defs) else None

    def _bindings_of(self, expr: ast.expr, scope: _Scope) -> list[_Binding]:
        if isinstance(expr, ast.Name):
            return self._definitions(expr.id, expr.lineno, scope)[0]
        if isinstance(expr, ast.Attribute):
            return self._attribute_bindings(expr, scope)
        return []

    # -- the call graph (by name; one module) -------------------------------------------------

    def _callees(self, expr: ast.expr, scope: _Scope) -> list[_Function]:
        """Local functions an expression names: f, self.method, obj.method of a local class,
        and the function a `functools.partial(f, …)` wraps."""
        if isinstance(expr, ast.Call):
            wrapped = self._partial_of(expr)
            return [] if wrapped is None else self._callees(wrapped, scope)
        if isinstance(expr, ast.Name):
            cls = self._local_class(expr.id, scope)
            if cls is not None:
                return [m for m in (cls.methods.get("__init__"),) if m is not None]
            functions = self._functions_named()
            found = [fn for fn in functions.get(expr.id, ()) if fn.method_of is None]
            if found or expr.id not in self._aliases():
                return found
            # `fn = evaluate` at module level (a demo picking its handler once), then `fn(*args)`
            return [fn for fn in functions.get(self._aliases()[expr.id], ()) if fn.method_of is None]
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            owner = expr.value.id
            if owner in ("self", "cls"):
                cls = scope.cls
                method = None if cls is None else cls.methods.get(expr.attr)
                return [method] if method is not None else []
            if expr.attr in self._method_names():
                named = self._local_class(owner, scope)  # Engine.answer(…): a class or static method
                method = None if named is None else named.methods.get(expr.attr)
                if method is not None:
                    return [method]
            return self._instance_methods(expr, scope)
        return []

    def _instance_methods(self, expr: ast.Attribute, scope: _Scope) -> list[_Function]:
        """engine.answer(...) where engine = Engine(...) and Engine is a class of this module."""
        assert isinstance(expr.value, ast.Name)
        if expr.attr not in self._method_names():
            return []  # no class of this module has such a method: no need to look up the name
        for binding in self._definitions(expr.value.id, expr.lineno, scope)[0]:
            value = binding.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                cls = self._local_class(value.func.id, binding.scope) or self._built_by(value.func.id)
                method = None if cls is None else cls.methods.get(expr.attr)
                if method is not None:
                    return [method]
        return []

    def _built_by(self, name: str) -> _Class | None:
        """The local class a module-level function of this module returns an instance of on
        every return (a factory: `def load_model(path): return Bot(path)`)."""
        functions = [fn for fn in self._functions_named().get(name, ()) if fn.method_of is None]
        if len(functions) != 1 or not functions[0].returns:
            return None
        fn = functions[0]
        found: set[_Class] = set()
        for returned in fn.returns:
            value: ast.expr | None = returned
            if isinstance(value, ast.Name):
                bindings = fn.scope.bindings.get(value.id, [])
                value = bindings[0].value if len(bindings) == 1 else None
            cls = None
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                cls = self._local_class(value.func.id, fn.scope)
            if cls is None:
                return None
            found.add(cls)
        return found.pop() if len(found) == 1 else None

    def _method_names(self) -> frozenset[str]:
        if self._methods is None:
            self._methods = frozenset(name for cls in self.index.classes.values() for name in cls.methods)
        return self._methods

    def _aliases(self) -> dict[str, str]:
        """Names the module binds, once and only, to one of its functions (`fn = evaluate`)."""
        if self._alias_names is None:
            named = self._functions_named()
            self._alias_names = {}
            for name, bindings in self.index.module.bindings.items():
                value = bindings[0].value if len(bindings) == 1 else None
                if isinstance(value, ast.Name) and value.id in named and name not in named:
                    self._alias_names[name] = value.id
        return self._alias_names

    def _functions_named(self) -> dict[str, list[_Function]]:
        if self._by_name is None:
            self._by_name = {}
            for fn in self.index.functions:
                self._by_name.setdefault(fn.name, []).append(fn)
        return self._by_name

    def _callers_map(self) -> dict[_Function, list[_Site]]:
        """Sites that call a function or hand it over (Thread(target=f), run_in_executor(None, f))."""
        if self._callers is None:
            self._callers = {}
            # _callees finds nothing for a name no function or class of this module has
            callable_names = set(self._functions_named()) | set(self.index.classes) | set(self._aliases())
            # A method called on a parameter (`model.codegen(…)` in `def run(model, tasks)`)
            # resolves through the calls of its function, which this map holds: such calls are
            # resolved once the others are in, and each function's sites kept in source order.
            later: list[tuple[int, _Site, ast.expr]] = []
            for at, site in enumerate(self.index.calls):
                call = site.node
                targets = [call.func] if site.name in callable_names else []
                if call.args or call.keywords:
                    targets.extend(value for value in _argument_values(call) if _final_name(value) in callable_names)
                for target in targets:
                    if _on_a_name(target):
                        later.append((at, site, target))
                        continue
                    for fn in self._callees(target, site.scope):
                        self._callers.setdefault(fn, []).append(site)
            if later:
                position = {id(site): at for at, site in enumerate(self.index.calls)}
                for _, site, target in later:
                    for fn in self._callees(target, site.scope):
                        self._callers.setdefault(fn, []).append(site)
                for sites in self._callers.values():
                    sites.sort(key=lambda site: position[id(site)])
        return self._callers

    def _callers_of(self, fn: _Function) -> list[_Site]:
        return self._callers_map().get(fn, [])


def _on_a_name(target: ast.expr) -> bool:
    """`engine.answer`: a method of whatever a name holds (not `self.answer`)."""
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id not in ("self", "cls")
    )
