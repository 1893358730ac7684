"""Data flow inside a block: which names a statement writes from which it reads (for a small
def-use closure), what a loop body holds (its own ``break``, slices by the loop index), and
lists a loop gathers prompts in and empties.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ecolint.extract.python.syntax import (
    _args,
    _argument_values,
    _below_leaves,
    _child_nodes,
    _final_name,
    _innermost_loop,
    _names_in,
    _Statements,
    _target_names,
)

_MUTATORS = frozenset({"append", "extend", "insert", "update", "add"})
_SAVERS = frozenset({"save_pretrained", "save_model"})
# A conversation object that takes a message (`conv.append_message(conv.roles[0], question)`,
# `chat.add_user_message(text)`) carries it into the prompt it renders (`conv.get_prompt()`).
_MESSAGE_ADDER = re.compile(r"(?:append|add)_(?:[a-z]+_)?message")

_FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_FOR_LOOPS = (ast.For, ast.AsyncFor)


_Flows = list  # (written names, read names) pairs: list[tuple[set[str], set[str]]]


def _closure(seed: set[str], flows: _Flows) -> set[str]:
    """The seed names and every name a block computes from them (the def-use closure)."""
    derived = set(seed)
    changed = True
    while changed:
        changed = False
        for written, read in flows:
            if read & derived and not written <= derived:
                derived |= written
                changed = True
    return derived


def _flows(body: _Statements, cache: dict[int, _Flows]) -> _Flows:
    """(written names, read names) pairs of a block, for a small def-use closure. Nested
    functions and classes are their own business. Each statement's pairs are kept in `cache`,
    so the blocks of nested loops share them instead of walking their statements again."""
    flows: _Flows = []
    for statement in body:
        flows.extend(_statement_flows(statement, cache))
    return flows


def _statement_flows(statement: ast.stmt, cache: dict[int, _Flows]) -> _Flows:
    known = cache.get(id(statement))
    if known is not None:
        return known
    flows: _Flows = []

    def add(target: ast.expr, *sources: ast.AST) -> None:
        written = _target_names(target)
        if written:
            flows.append((written, _names_in(sources, free=True)))

    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNCTION_DEFS, ast.ClassDef)):
            continue
        if node is not statement and isinstance(node, ast.stmt):
            flows.extend(_statement_flows(node, cache))
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                add(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            add(node.target, node.value, node.target)
        elif isinstance(node, ast.NamedExpr):
            add(node.target, node.value)
        elif isinstance(node, (*_FOR_LOOPS, ast.comprehension)):
            add(node.target, node.iter)
        elif isinstance(node, ast.withitem):
            if node.optional_vars is not None:
                add(node.optional_vars, node.context_expr)
        elif isinstance(node, ast.Call):
            _call_flows(node, add)
        stack.extend(_below_leaves(_child_nodes(node)))
    cache[id(statement)] = flows
    return flows


def _call_flows(node: ast.Call, add: Callable[..., None]) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute):
        return
    values = [arg.value for arg in _args(node)]
    # messages.append({"role": "user", "content": prompt}) makes messages carry the prompt.
    if func.attr in _MUTATORS or _MESSAGE_ADDER.fullmatch(func.attr):
        add(func.value, *values)
    # model.save_pretrained(tmp_dir, max_shard_size=size) writes a new checkpoint to tmp_dir.
    if func.attr in _SAVERS and values:
        add(values[0], *values)


@dataclass
class _BodyScan:
    """What a loop body holds: a `break` of its own, slices of outside data by the loop index."""

    derived: set[str]
    breaks: bool = False
    slices: bool = False

    def scan(self, body: _Statements) -> _BodyScan:
        for statement in body:
            self._visit(statement, 0)
        return self

    def _visit(self, node: ast.AST, depth: int) -> None:
        if isinstance(node, ast.Break):
            self.breaks = self.breaks or depth == 0
            return
        if isinstance(node, _FUNCTION_DEFS):
            return
        if isinstance(node, _FOR_LOOPS):  # an inner loop: its breaks are its own, its else unread
            self._visit(node.iter, depth)
            for statement in node.body:
                self._visit(statement, depth + 1)
            return
        if isinstance(node, ast.While):
            for statement in node.body:
                self._visit(statement, depth + 1)
            return
        if isinstance(node, ast.Subscript):
            self._subscript(node)
        for child in _child_nodes(node):
            self._visit(child, depth)

    def _subscript(self, node: ast.Subscript) -> None:
        # prompts[i:i + bs] slices a batch out of outside data; decoded[len(prompt):] slices
        # the item's own output and says nothing about batching.
        # A bound that is the length of something (`letters[:len(options)]`: as many option
        # letters as this question has options) cuts the item's own share, not a batch.
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for part in parts:
            if isinstance(part, ast.Slice):
                bounds = [b for b in (part.lower, part.upper) if b is not None and not _is_len(b)]
                if _names_in(bounds) & self.derived and not _names_in([node.value]) & self.derived:
                    self.slices = True


def _is_len(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "len"


def _gathered_and_emptied(body: Iterable[ast.stmt]) -> set[str]:
    """Names a block appends to (append / extend / +=) before anything else touches them in it,
    and assigns afresh later: lists that carry prompts across iterations until they are flushed.
    A list built anew at the top of each iteration (one prompt's messages) is not one."""
    first: dict[str, str] = {}  # name -> "gathered" | "assigned", whichever the block does first
    emptied: set[str] = set()
    for statement in body:
        for node in ast.walk(statement):
            name, touch = _list_touch(node)
            if name is None:
                continue
            first.setdefault(name, touch)
            if touch == "assigned":
                emptied.add(name)
    return {name for name, touch in first.items() if touch == "gathered" and name in emptied}


def _list_touch(node: ast.AST) -> tuple[str | None, str]:
    """(name, "gathered") for `name.append(…)` / `name.extend(…)` / `name += …`; (name, "assigned")
    for `name = …` / `name.clear()`; (None, "") for anything else."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        if node.func.attr in ("append", "extend"):
            return node.func.value.id, "gathered"
        if node.func.attr == "clear":
            return node.func.value.id, "assigned"
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return node.target.id, "gathered"
    elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, "assigned"
    return None, ""


def _result_and_exposed(
    body: _Statements, call: ast.Call, item: set[str], once: frozenset[int] = frozenset()
) -> tuple[set[str], set[str]]:
    """What a loop iteration does around one call in it: the names the statement making the call
    writes with its result (`response, history = chat(q, history)`, `history.append(model.generate(…))`),
    and the names the iteration reads, up to that statement, before assigning them afresh: the
    values the previous iteration left behind (a chat history, a cache), not this one's own. The
    loop's `item` names are bound afresh by each iteration: writing into them carries nothing.
    ``once``: ids of the bodies of inner loops around the call to read once through, like an
    ``if`` (a conversation's turns, judged apart: what they carry from turn to turn is theirs)."""
    exposed: set[str] = set()
    fresh = set(item)
    for statement in body:
        holds_call = any(node is call for node in ast.walk(statement))
        exposed |= _exposed_reads(statement, fresh, once=once)
        if holds_call:
            return _written_by(statement, call), exposed
        fresh |= _assigned_on_every_path(statement)
    return set(), exposed


def _carries_result(
    body: _Statements, call: ast.Call, item: set[str], used: set[str], flows: _Flows, once: frozenset[int] = frozenset()
) -> bool:
    """Whether one pass of a loop body hands what ``call`` returned to the next pass's ``call``:
    a name the pass reads before binding it afresh (``_result_and_exposed``) is computed from
    the result, and reaches ``used``, the names the call reads. A conversation's next turn
    (`history` gets the reply) and a hand-written decoding loop (`input_ids = torch.cat(
    (input_ids, next_token))`, the KV cache the forward pass returned) both do. ``flows``: the
    body's def-use pairs."""
    written, exposed = _result_and_exposed(body, call, item, once)
    if not written:
        return False
    carried = exposed & _closure(written, flows)
    return any(used & _closure({name}, flows) for name in sorted(carried))


def _fed_back_in_loop(tree: ast.AST, call: ast.Call, flows_of: Callable[[_Statements], _Flows]) -> bool:
    """Whether the innermost loop of `tree` around `call` hands what the call returned to its
    next pass's call (``_carries_result``): a decoding loop written by hand, each step's output
    (the next token, the KV cache) fed into the next forward pass. ``flows_of``: a block's
    def-use pairs."""
    loop = _innermost_loop(tree, call)
    if loop is None:
        return False
    item = set() if isinstance(loop, ast.While) else _target_names(loop.target)
    return _carries_result(loop.body, call, item, _names_in(_argument_values(call)), flows_of(loop.body))


def _exposed_reads(
    statement: ast.stmt, fresh: set[str], depth: int = 0, once: frozenset[int] = frozenset()
) -> set[str]:
    """The names a statement reads before it binds them itself: inside an ``if``, ``with``
    or ``try``, a branch's own earlier assignments are fresh for its later statements
    (`enc = tok(p)` then `model.generate(**enc)` in the same branch reads nothing left over)."""
    blocks = _blocks_of(statement, once)
    if not blocks or depth > _MAX_BLOCK_DEPTH:
        return _reads(statement) - fresh
    exposed: set[str] = set()
    for header in _headers_of(statement, once):
        exposed |= {n.id for n in ast.walk(header) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    exposed -= fresh
    bound = (
        {n.id for item in statement.items for n in ast.walk(item.optional_vars or item) if isinstance(n, ast.Name)}
        if isinstance(statement, (ast.With, ast.AsyncWith))
        else _target_names(statement.target)
        if isinstance(statement, _FOR_LOOPS)
        else set()
    )
    for block in blocks:
        local = fresh | (bound if block is blocks[0] else set())
        for inner in block:
            exposed |= _exposed_reads(inner, local, depth + 1, once)
            local |= _assigned_on_every_path(inner)
    return exposed


_MAX_BLOCK_DEPTH = 8


def _blocks_of(statement: ast.stmt, once: frozenset[int] = frozenset()) -> list[list[ast.stmt]]:
    """The statement lists of an if, with or try (loops keep the whole-statement reading: a
    loop's later passes read what its earlier ones wrote; those in ``once`` are read once through)."""
    if isinstance(statement, (*_FOR_LOOPS, ast.While)) and id(statement.body) in once:
        return [statement.body]
    if isinstance(statement, ast.If):
        return [statement.body, statement.orelse]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [statement.body]
    if isinstance(statement, ast.Try):
        return [statement.body, *(h.body for h in statement.handlers), statement.orelse, statement.finalbody]
    return []


def _headers_of(statement: ast.stmt, once: frozenset[int] = frozenset()) -> list[ast.AST]:
    if isinstance(statement, _FOR_LOOPS) and id(statement.body) in once:
        return [statement.iter]
    if isinstance(statement, ast.While) and id(statement.body) in once:
        return [statement.test]
    if isinstance(statement, ast.If):
        return [statement.test]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return list(statement.items)
    if isinstance(statement, ast.Try):
        return [h.type for h in statement.handlers if h.type is not None]
    return []


def _assigned_on_every_path(statement: ast.stmt) -> set[str]:
    """Names a statement binds whichever way it runs on: a plain assignment's, and those every
    branch of an ``if``/``else`` that falls through binds (`qs = "<image>" + msg` in one,
    `qs = msg` in the other, a `raise` in a third); what a ``with`` body binds; what a ``try``
    binds whether it completes or one of its handlers falls through (`output = decode(…)` in
    the body, `output = "ERROR"` in the handler), and what its ``finally`` binds."""
    if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
        return {t.id for t in statement.targets if isinstance(t, ast.Name)}
    if isinstance(statement, ast.If) and statement.orelse:
        body, orelse = _assigned_in_block(statement.body), _assigned_in_block(statement.orelse)
        if body is None or orelse is None:
            return orelse or body or set()
        return body & orelse
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return _assigned_in_block(statement.body) or set()
    if isinstance(statement, ast.Try):
        paths = [_assigned_in_block([*statement.body, *statement.orelse])]
        paths.extend(_assigned_in_block(handler.body) for handler in statement.handlers)
        through = [path for path in paths if path is not None]
        bound = set.intersection(*through) if through else set()
        return bound | (_assigned_in_block(statement.finalbody) or set())
    return set()


def _assigned_in_block(block: list[ast.stmt]) -> set[str] | None:
    """What a branch binds on its way out; None when it never falls through (it raises,
    returns, breaks or continues): then the other branches alone decide."""
    if block and isinstance(block[-1], (ast.Raise, ast.Return, ast.Break, ast.Continue)):
        return None
    return set().union(*(_assigned_on_every_path(s) for s in block))


def _reads(statement: ast.stmt) -> set[str]:
    """Names a statement reads, less those a loop or comprehension inside it binds before its
    body reads them (`for choice, ans in zip(letters, options): msg += choice`)."""
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            read.add(node.id)
        elif isinstance(node, (*_FOR_LOOPS, ast.comprehension)):
            bound |= _target_names(node.target)
    return read - bound


def _written_by(statement: ast.stmt, call: ast.Call) -> set[str]:
    """Names the innermost statement around `call` writes: its assignment's targets, the list a
    mutator fills with it, or the target of a `for` that iterates over it (stream_chat)."""
    for node in ast.walk(statement):
        if isinstance(node, _FOR_LOOPS) and any(n is call for n in ast.walk(node.iter)):
            return _target_names(node.target)
        if isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND) and any(n is call for n in ast.walk(node)):
            return set().union(*(written for written, _ in _statement_flows(node, {})))
    return set()


_COMPOUND = (*_FOR_LOOPS, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Match, *_FUNCTION_DEFS, ast.ClassDef)


# Names of one sample's media: a list of them (a video's frames picked one in every few, an
# image's patches) is one sample's input, not a batch of prompts.
_MEDIA = re.compile(r"frame|image|img|pixel|patch|video|clip|audio", re.IGNORECASE)


# Calls that give a list of many items read from somewhere (a file's lines, a JSON document).
_LIST_READERS = frozenset({"splitlines", "readlines", "load", "loads", "list", "sorted"})


def _lists_read(body: list[ast.stmt]) -> set[str]:
    """Names a block binds to a list read from a file or a document (`prompts =
    open(path).read().splitlines()`, `rows = json.load(f)`), at its top level."""
    names: set[str] = set()
    for statement in body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
            and _final_name(statement.value.func) in _LIST_READERS
        ):
            names.add(statement.targets[0].id)
    return names


def _batch_lists(body: _Statements) -> dict[str, ast.expr]:
    """Names a block assigns a list of several prompts to, with the list: `[prompt] * batch_size`
    (a benchmark's batch) or a comprehension of anything but dicts (a comprehension of dicts is
    one chat) and of media (`frames = [frames[int(i * step)] for i in range(n)]` is one video)."""
    names: dict[str, ast.expr] = {}
    for statement in body:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target = node.targets[0]
            if isinstance(target, ast.Name) and _is_batch_list(node.value) and not _is_media(target.id, node.value):
                names[target.id] = node.value
    return names


def _is_media(name: str, value: ast.expr) -> bool:
    """A list of one sample's media: its name says so, or its elements are taken from a list
    whose name does."""
    if _MEDIA.search(name):
        return True
    element = value.elt if isinstance(value, (ast.ListComp, ast.GeneratorExp)) else None
    while isinstance(element, (ast.Subscript, ast.Attribute)):
        element = element.value
    return isinstance(element, ast.Name) and _MEDIA.search(element.id) is not None


def _is_batch_list(value: ast.expr) -> bool:
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        return isinstance(value.left, ast.List) or isinstance(value.right, ast.List)
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
        return not isinstance(value.elt, ast.Dict)
    return False
