"""What a fix left unused, taken out with it (libcst scope analysis).

A fix that deletes ``quantization_config=bnb_config`` leaves ``bnb_config = BitsAndBytesConfig(…)``
and the ``BitsAndBytesConfig`` import behind with nothing reading them. Only what the fix made
unused goes: a name read somewhere before the fix and read nowhere after it, bound by an import
or by one plain assignment (``name = value``) whose value runs nothing but calls and literals.
A name that was already unused stays; a block the removal empties keeps a ``pass``.
Removal repeats until nothing more goes (the variable first, then the import it alone used).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MAX_ROUNDS = 8


@dataclass(frozen=True)
class Removed:
    """One binding taken out: an import (``import``) or a variable (``variable``), by name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def drop_unused(before: str, after: str) -> tuple[str, list[Removed]]:
    """``after`` without the imports and variables it no longer reads but ``before`` did; the
    text unchanged where either does not parse or the result would not."""
    import libcst as cst

    try:
        read_before = _read_names(cst.parse_module(before))
        module = cst.parse_module(after)
    except (cst.ParserSyntaxError, SyntaxError, RecursionError, ValueError, MemoryError):
        return after, []
    removed: list[Removed] = []
    for _ in range(_MAX_ROUNDS):
        module, gone = _drop_once(module, read_before)
        if not gone:
            break
        removed.extend(gone)
    if not removed:
        return after, []
    return module.code, sorted(removed, key=lambda r: (r.kind, r.name))


# A binding is known by the scope it lives in, written as the names of the functions around it
# ("" for the module), and its own name: the same in the text before and after a fix.
_Key = tuple[tuple[str, ...], str]


def _scope_key(scope: Any) -> tuple[str, ...] | None:
    """The scope as the chain of function names around it; None for a class body or a
    comprehension (their names are read in ways the fix cannot see: attributes, the loop)."""
    from libcst.metadata import FunctionScope, GlobalScope

    names: list[str] = []
    while not isinstance(scope, GlobalScope):
        if not isinstance(scope, FunctionScope):
            return None
        node = scope.node
        names.append(getattr(getattr(node, "name", None), "value", "<lambda>"))
        scope = scope.parent
    return tuple(reversed(names))


def _bindings(module: Any) -> tuple[Any, list[tuple[_Key, Any]]]:
    """The module's metadata wrapper and every binding of a function or module scope, by key."""
    from libcst.metadata import MetadataWrapper, ScopeProvider

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = {scope for scope in wrapper.resolve(ScopeProvider).values() if scope is not None}
    found = []
    for scope in scopes:
        key = _scope_key(scope)
        if key is None:
            continue
        for assignment in scope.assignments:
            found.append(((key, assignment.name), assignment))
    return wrapper, found


def _read_names(module: Any) -> set[_Key]:
    return {key for key, assignment in _bindings(module)[1] if assignment.references}


def _drop_once(module: Any, read_before: set[_Key]) -> tuple[Any, list[Removed]]:
    """One round: the bindings read before and unread now, each taken out if it can be."""
    import libcst as cst
    from libcst.metadata import ParentNodeProvider

    wrapper, bindings = _bindings(module)
    by_key: dict[_Key, list[Any]] = {}
    for key, assignment in bindings:
        by_key.setdefault(key, []).append(assignment)
    parents = wrapper.resolve(ParentNodeProvider)
    aliases: set[Any] = set()  # ImportAlias nodes to drop
    statements: set[Any] = set()  # SimpleStatementLine nodes to drop
    removed: list[Removed] = []
    for key, assignments in sorted(by_key.items(), key=lambda item: item[0]):
        if key not in read_before or any(a.references for a in assignments) or len(assignments) != 1:
            continue
        node = assignments[0].node
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            alias = _alias(node, key[1])
            if alias is not None and not _is_future(node):
                aliases.add(alias)
                removed.append(Removed("import", key[1]))
        elif isinstance(node, cst.Name):
            line = _plain_assignment(node, parents)
            if line is not None:
                statements.add(line)
                removed.append(Removed("variable", key[1]))
    if not removed:
        return module, []
    new = module.visit(_Remove(aliases, statements))
    return new, removed


def _alias(node: Any, name: str) -> Any:
    import libcst as cst

    names = node.names
    if isinstance(names, cst.ImportStar):
        return None
    for alias in names:
        bound = alias.asname.name.value if alias.asname is not None else _root(alias.name)
        if bound == name:
            return alias
    return None


def _root(name: Any) -> str:
    import libcst as cst

    while isinstance(name, cst.Attribute):
        name = name.value
    return str(name.value)


def _is_future(node: Any) -> bool:
    import libcst as cst

    return isinstance(node, cst.ImportFrom) and isinstance(node.module, cst.Name) and node.module.value == "__future__"


def _plain_assignment(name: Any, parents: Any) -> Any:
    """The statement line of ``name = value`` (one target, one statement on the line, a value of
    calls, names and literals only), or None."""
    import libcst as cst

    target = parents.get(name)
    assign = parents.get(target)
    line = parents.get(assign)
    if not (
        isinstance(target, cst.AssignTarget)
        and target.target is name
        and isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
        and isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
    ):
        return None
    return line if _harmless(assign.value) else None


def _harmless(value: Any) -> bool:
    """Calls, names, attributes and literals: no walrus, lambda, await, yield or comprehension,
    whose removal could change what else the code binds or does."""
    import libcst as cst

    unsafe = (
        cst.NamedExpr,
        cst.Lambda,
        cst.Await,
        cst.Yield,
        cst.ListComp,
        cst.SetComp,
        cst.DictComp,
        cst.GeneratorExp,
    )
    found: list[Any] = []

    class Find(cst.CSTVisitor):
        def on_visit(self, node: Any) -> bool:
            if isinstance(node, unsafe):
                found.append(node)
            return not found

    value.visit(Find())
    return not found


class _Remove:
    """A transformer (built lazily: libcst is imported only when a fix runs) that drops the given
    import aliases and statement lines. A dropped line's blank lines above it stay (its comment
    lines go with it); a block left empty gets a ``pass``."""

    def __new__(cls, aliases: set[Any], statements: set[Any]) -> Any:
        import libcst as cst

        class Remove(cst.CSTTransformer):
            def leave_Import(self, original: Any, updated: Any) -> Any:
                return _without_aliases(original, updated, aliases)

            def leave_ImportFrom(self, original: Any, updated: Any) -> Any:
                if isinstance(original.names, cst.ImportStar):
                    return updated
                return _without_aliases(original, updated, aliases)

            def leave_Module(self, original: Any, updated: Any) -> Any:
                return updated.with_changes(body=_kept(original.body, updated.body, statements))

            def leave_IndentedBlock(self, original: Any, updated: Any) -> Any:
                body = _kept(original.body, updated.body, statements)
                return updated.with_changes(body=body or [cst.SimpleStatementLine([cst.Pass()])])

        return Remove()


def _kept(original: Any, updated: Any, statements: set[Any]) -> list[Any]:
    """A body without the dropped lines (and the lines whose every import went)."""
    import libcst as cst

    kept: list[Any] = []
    blank: list[Any] | None = None  # the blank lines above dropped statements, for the next kept one
    for old, new in zip(original, updated, strict=True):
        if old in statements or (isinstance(new, cst.SimpleStatementLine) and not new.body):
            blank = blank or [line for line in old.leading_lines if line.comment is None][:1]
            continue
        if blank is not None and (not kept or not new.leading_lines):
            new = new.with_changes(leading_lines=blank)  # a block's new first line opens it directly
        blank = None
        kept.append(new)
    return kept


def _without_aliases(original: Any, updated: Any, aliases: set[Any]) -> Any:
    """The import without the dropped aliases; the last one kept takes the comma (and the
    whitespace before a closing parenthesis) of the last one written. Removed from its line
    when none is left."""
    import libcst as cst

    kept = [new for old, new in zip(original.names, updated.names, strict=True) if old not in aliases]
    if len(kept) == len(updated.names):
        return updated
    if not kept:
        return cst.RemovalSentinel.REMOVE
    kept[-1] = kept[-1].with_changes(comma=updated.names[-1].comma)
    return updated.with_changes(names=kept)
