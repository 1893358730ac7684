"""Python sources → Setups, read with the stdlib ``ast``. The code is never imported, run or evaluated.

What is recognised:

* model-loading calls, one Setup each: ``X.from_pretrained(...)`` on a model class (not
  tokenizers, processors, configs, schedulers, PEFT adapters), transformers ``pipeline(...)``,
  vLLM ``LLM(...)`` and ``EngineArgs``/``AsyncEngineArgs(...)``, torchao ``quantize_(...)``
  (merged into the from_pretrained setup of the model it quantizes);
* the precision they ask for: ``BitsAndBytesConfig`` (inline, by name, built from dicts with
  ``**`` merges or ``dict(...)``), the legacy ``load_in_8bit``/``load_in_4bit`` keywords,
  pipeline ``model_kwargs``, ``TorchAoConfig``, GPTQ/AWQ configs, vLLM ``quantization`` and
  ``dtype``, ``torch_dtype``;
* how the model is used: ``generate()`` once per prompt in a loop or once per web request,
  a model loaded again per request or per loop item, ``torch.compile`` of the model.

Values are resolved statically: literals, names assigned in the module or function, constants
imported from modules of the scanned tree, ``os.environ.get``/``os.getenv`` defaults, argparse
defaults, parameters of helper functions (the arguments their call sites pass, or the default),
dict entries. Code under ``if False:``/``if 0:``/``if TYPE_CHECKING:`` is ignored; comments and
strings never make a setup because only syntax nodes are read.

Why ``ast`` and not libcst: this is the detection path of every run, pre-commit included, and
``import libcst`` alone costs more than the whole budget of a one-file run, while its parser is
about 8x slower than CPython's. libcst stays for autofix (``ecolint/fix.py``), which needs the
concrete tree; nothing here imports it.

One parse, three walks:

1. ``_parse`` parses with ``ast.parse`` (syntax errors keep CPython's message and line).
2. ``_Indexer`` walks the tree once, in source order, refuses absurdly nested trees, and records
   scopes, bindings, loops, enclosing ``if`` tests and every call with that context. A file
   where no call a setup starts at is made stops here.
3. ``_Extraction`` builds setups from the index.

Locations are 1-based character columns. ``ast`` gives UTF-8 byte columns and leaves redundant
parentheses out of a node's span; ``_Source`` converts the columns, and widens the span of a
positional argument or a dict entry over the parentheses around it (so ``f(("x"))`` points at
``("x")``, as a keyword argument's span already does).
"""

from __future__ import annotations

import ast
import bisect
import itertools
import posixpath
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ecolint.extract import LOADER_CALLS, NOT_A_MODEL, ExtractContext, ExtractError
from ecolint.extract.launchers.vllm import LAUNCHER as VLLM
from ecolint.extract.launchers.vocab import DTYPE, INT, SWITCH, Builder, Flag, Opt, Tok, apply_table, unresolved
from ecolint.setups import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    DEVICE,
    DOUBLE_QUANT,
    LLM_INT8_THRESHOLD,
    LOADER,
    MODEL,
    PRECISION,
    PURPOSE,
    QUANT_CONFIG,
    RELOAD_PER_REQUEST,
    SINGLE_REQUEST,
    TASK,
    THRESHOLD_EXPOSED,
    Fact,
    Location,
    Setup,
)

# How far a value is followed through names, calls and imports before giving up: deep enough for
# real code (constant → env default → argparse …), shallow enough to stop on cycles quickly.
_MAX_DEPTH = 12
_MAX_IMPORT_DEPTH = 3
# Syntax-tree depth beyond which a file is reported instead of read: real code stays under 40,
# and the index and value walks recurse once per level.
_MAX_NESTING = 150
# Calls a setup starts at (their last name; aliases of them are added per file).
_CLASSIFIED_LAST_NAMES = LOADER_CALLS - {"from_pretrained"}

# bitsandbytes' LLM.int8() outlier threshold when none is written.
_DEFAULT_INT8_THRESHOLD = 6.0

_DTYPES = {
    "float16": "fp16",
    "half": "fp16",
    "fp16": "fp16",
    "bfloat16": "bf16",
    "bf16": "bf16",
    "float32": "fp32",
    "float": "fp32",
    "fp32": "fp32",
}
_TORCH_DTYPES = frozenset({"float16", "half", "bfloat16", "float32", "float", "float64", "double"})

# Names that say a loop item or an iterable holds several prompts at once.
_BATCHY = re.compile(r"batch|chunk|group|shard|bucket|loader", re.IGNORECASE)

# Decorator attributes that register a web route: @app.post("/"), @router.get, @bp.route, …
_ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "websocket_route", "head", "options"}
)
_ENDPOINT_DECORATORS = frozenset({"web_endpoint", "fastapi_endpoint"})  # Modal
_MOCK_MODULES = ("unittest.mock.", "mock.")  # patch / patch.object decorators of test code
# Calls that register a function as a route handler: Starlette Route(...), app.add_api_route, …
_ROUTE_REGISTRARS = frozenset(
    {
        "Route",
        "WebSocketRoute",
        "add_api_route",
        "add_url_rule",
        "add_route",
        "add_websocket_route",
        "add_api_websocket_route",
    }
)
_GRADIO_HANDLERS = frozenset({"Interface", "ChatInterface", "click", "submit", "change"})
_CACHE_DECORATORS = frozenset(
    {
        "lru_cache",
        "cache",
        "cached",
        "cache_resource",
        "singleton",
        "experimental_singleton",
        "memoize",
        "alru_cache",
        "cached_property",
    }
)
# Functions that run once per process (constructors, startup hooks, SageMaker's model_fn,
# lifespans, test fixtures): loading a model there is the right thing to do.
_ONCE_FUNCTIONS = frozenset(
    {
        "__init__",
        "__post_init__",
        "__enter__",
        "__aenter__",
        "model_fn",
        "setup",
        "setUp",
        "setUpClass",
        "initialize",
        "startup",
        "on_startup",
        "lifespan",
    }
)
_ONCE_DECORATORS = frozenset({"on_event", "enter", "asynccontextmanager", "contextmanager", "fixture"})
# Methods that return the same model: model = model.to("cuda").eval()
_ALIAS_METHODS = frozenset(
    {"to", "cuda", "cpu", "eval", "train", "half", "bfloat16", "float", "requires_grad_", "merge_and_unload"}
)
_WRAPPERS = frozenset({"get_peft_model", "prepare_model_for_kbit_training", "from_engine_args"})
# Arguments of generate()/pipe()/llm.generate() that carry the prompts.
_INPUT_KEYWORDS = frozenset(
    {"inputs", "input_ids", "inputs_embeds", "prompts", "prompt", "prompt_token_ids", "text_inputs", "messages", "text"}
)
_MUTATORS = frozenset({"append", "extend", "insert", "update", "add"})
_SAVERS = frozenset({"save_pretrained", "save_model"})
_NO = object()  # "not a literal" (None is a literal)

_FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_FOR_LOOPS = (ast.For, ast.AsyncFor)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# The keywords True/False/None are names to a reader of the code (and were to the libcst-based
# reader this replaces): `x = None` reads something, which the loop-body def-use closure relies on.
_KEYWORD_CONSTANTS = {True: "True", False: "False", None: "None"}

_Statements = list  # a block: a function's or a loop's body, as ast holds it (list[ast.stmt])


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    """Setups of one Python file. Raises ExtractError when the file does not parse."""
    tree = _parse(text)
    indexer = _Indexer()
    try:
        indexer.visit_module(tree)
        if not indexer.calls_a_loader():
            return []  # the trigger tokens were in names that load nothing
        return _Extraction(path, _Source(text), indexer, context).run()
    except RecursionError:
        raise ExtractError("too deeply nested to parse", 1) from None
    finally:
        indexer.release()


def _parse(text: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not ours to report
            return ast.parse(text)
    except SyntaxError as exc:
        reason = exc.msg or "invalid syntax"
        if "too many nested" in reason or "too complex" in reason:
            raise ExtractError("too deeply nested to parse", exc.lineno or 1) from None
        raise ExtractError(f"invalid Python syntax: {reason}", exc.lineno or 1) from None
    except (RecursionError, MemoryError):
        raise ExtractError("too deeply nested to parse", 1) from None
    except ValueError as exc:  # null bytes, unencodable surrogates
        raise ExtractError(f"cannot parse: {exc}", 1) from None


# ---------------------------------------------------------------------------------------------
# Positions: ast's byte columns → character columns; parentheses around arguments
# ---------------------------------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_COMMENT = re.compile(r"#[^\r\n]*")
_BLANK = " \t\f\r\n\\"


class _Source:
    """The file's text, addressed by absolute character offsets.

    Lines are split where Python's tokenizer splits them (``\\n``, ``\\r\\n``, ``\\r``; not the
    form feeds and Unicode separators ``str.splitlines`` also splits on).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _LINE.findall(text)
        self.starts: list[int] = [0, *itertools.accumulate(map(len, self.lines))][: len(self.lines)]

    def column(self, line: int, byte_column: int) -> int:
        """The 0-based character column of a UTF-8 byte column."""
        if line > len(self.lines):
            return byte_column
        text = self.lines[line - 1]
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8", "surrogatepass")[:byte_column].decode("utf-8", "replace"))

    def offset(self, line: int, byte_column: int) -> int:
        if line > len(self.lines):
            return len(self.text)
        return self.starts[line - 1] + self.column(line, byte_column)

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line and 0-based character column of an offset."""
        index = max(0, bisect.bisect_right(self.starts, offset) - 1)
        return index + 1, offset - (self.starts[index] if self.starts else 0)

    def parenthesized(self, node: ast.AST, left_bound: int, own_opening: int = 0) -> tuple[int, int]:
        """The span of ``node`` with the redundant parentheses around it.

        ``left_bound`` is where the text before the node can only hold delimiters: the end of the
        previous sibling (its closing parentheses, a comma or colon, then this node's opening
        ones), or the end of a call's callee (then ``own_opening`` is 1: the call's own ``(``).
        That stretch has no strings, so its only ``#`` start comments.
        """
        start, end = self.start(node), self.end(node)
        gap = _COMMENT.sub(lambda m: " " * len(m.group()), self.text[left_bound:start])
        opening = gap[len(gap.rstrip(_BLANK + "(")) :]
        wanted = opening.count("(") - own_opening
        if wanted <= 0:
            return start, end
        found, position = 0, end
        while found < wanted:
            position = self._skip_blank(position)
            if position >= len(self.text) or self.text[position] != ")":
                break
            found, position = found + 1, position + 1
        if found == 0:
            return start, end
        # The found-th "(" counted back from the node is the outermost one that is closed.
        seen = 0
        for index in range(len(gap) - 1, -1, -1):
            if gap[index] == "(":
                seen += 1
                if seen == found:
                    return left_bound + index, position
        return start, end

    def _skip_blank(self, position: int) -> int:
        text = self.text
        while position < len(text):
            char = text[position]
            if char in _BLANK:
                position += 1
            elif char == "#":
                newline = _COMMENT.match(text, position)
                position = newline.end() if newline else position + 1
            else:
                break
        return position


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


# ---------------------------------------------------------------------------------------------
# Pass 1: the index
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _ImportRef:
    """``from <level dots><module> import <name>`` or ``import <module>`` (name None)."""

    module: str
    level: int
    name: str | None


@dataclass(eq=False)
class _Binding:
    """A name bound to a value. ``value`` None: bound to something not followed (a loop target)."""

    line: int
    value: ast.expr | None
    scope: _Scope
    index: int | None = None  # position inside a tuple-unpacking target
    ref: _ImportRef | None = None
    how: str = "constant"  # how a literal reached through this binding was learnt


@dataclass(eq=False)
class _Scope:
    kind: str  # module | function | class
    parent: _Scope | None
    function: _Function | None = None
    cls: _Class | None = None  # the class whose `self` is visible here
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)


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


@dataclass(eq=False)
class _Site:
    """A call and where it sits: scope, innermost function, loops and if-tests around it."""

    node: ast.Call
    scope: _Scope
    function: _Function | None
    loops: tuple[_Loop, ...]
    guards: tuple[ast.expr, ...]
    name: str | None  # the called name's last part: `f` of f(…) and of x.f(…)


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


# libcst's native parser (used by --fix) recurses once per operand of an `and` / `or` chain and
# takes the whole process down (a segfault, not an exception) somewhere between 4,000 and 8,000
# of them; stdlib ast keeps such a chain flat, so the nesting check does not see it. The index
# refuses a file with a longer chain (ECO001), and the fixer never hands one to libcst. A chain
# this long is never hand-written code.
MAX_BOOL_CHAIN = 1000
_BOOL_WORDS = re.compile(r"\b(?:and|or)\b")


def has_overlong_bool_chain(text: str) -> bool:
    """Whether an and/or chain is longer than MAX_BOOL_CHAIN operands (nested chains add up).
    For the fixer, which parses whole files (dead code included) with libcst; the index counts
    chains as it goes. The number of words `and` / `or` bounds any chain's length: the exact ast
    walk only runs for the rare text that has more of them."""
    if len(_BOOL_WORDS.findall(text)) <= MAX_BOOL_CHAIN:
        return False
    try:
        tree = _parse(text)
    except ExtractError:
        return False  # not Python the fixer would be given
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
            if depth > MAX_BOOL_CHAIN:
                return True
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return False


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
        self.calls: list[_Site] = []
        self.functions: list[_Function] = []
        self.classes: dict[str, _Class] = {}
        self.scopes: list[_Scope] = [self.module]  # every scope, for release()
        self.qualified: dict[str, str] = {}  # local name → dotted import path
        self.attr_bindings: dict[str, list[_Binding]] = {}  # app.state.model = … (not self.x)
        self.depth = 0
        self.bool_operands = 0  # of the and/or chains around the node being visited

    def visit_module(self, tree: ast.Module) -> None:
        self._visit_all(tree.body)

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
            scope.function = scope.cls = None
        self.attr_bindings.clear()

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

    # -- scopes ------------------------------------------------------------------------------

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
        saved = (self.scope, self.function, self.loops, self.guards)
        self.scope, self.function, self.loops, self.guards = scope, info, (), ()
        self._visit_all(node.body)
        self.scope, self.function, self.loops, self.guards = saved

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

    # -- control flow ------------------------------------------------------------------------

    def _if(self, node: ast.If) -> None:
        if _is_dead(node.test):
            self._visit_all(node.orelse)
            return
        self.visit(node.test)
        saved = self.guards
        self.guards = saved + (node.test,)
        self._visit_all(node.body)
        self.guards = saved
        self._visit_all(node.orelse)

    def _while(self, node: ast.While) -> None:
        if _is_dead(node.test):
            self._visit_all(node.orelse)
            return
        self._visit_children(node)

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

    # -- calls and returns -------------------------------------------------------------------

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
        self.calls.append(_Site(node, self.scope, self.function, self.loops, self.guards, _final_name(node.func)))
        self._visit_children(node)

    def _return(self, node: ast.Return) -> None:
        if self.function is not None and node.value is not None:
            self.function.returns.append(node.value)
        self._visit_children(node)

    # -- bindings ----------------------------------------------------------------------------

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
        scope.bindings.setdefault(name, []).append(binding)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, index: int | None = None) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, _Binding(target.lineno, value, self.scope, index))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, element in enumerate(target.elts):
                starred = isinstance(element, ast.Starred)
                nested = value if index is None and not starred else None
                inner = element.value if isinstance(element, ast.Starred) else element
                self._bind_target(inner, nested, i if nested is not None else None)
        elif isinstance(target, ast.Attribute):
            self._bind_attribute(target, _Binding(target.lineno, value, self.scope, index))

    def _bind_attribute(self, target: ast.Attribute, binding: _Binding) -> None:
        if isinstance(target.value, ast.Name) and target.value.id == "self" and self.scope.cls is not None:
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


def _is_dead(test: ast.expr) -> bool:
    """`if False:`, `if 0:`, `if TYPE_CHECKING:` — code that never runs at inference time."""
    if isinstance(test, ast.Constant):
        value = test.value
        return value is False or (type(value) is int and value == 0 and _is_text(test, "0"))
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


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


def _names_in(nodes: Iterable[ast.AST]) -> set[str]:
    """Names an expression reads (not attribute or keyword names; lambda parameters count)."""
    names: set[str] = set()
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
            stack.extend(_child_nodes(node))
    return names


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


_Flows = list  # (written names, read names) pairs: list[tuple[set[str], set[str]]]


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
            flows.append((written, _names_in(sources)))

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
    if func.attr in _MUTATORS:
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
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for part in parts:
            if isinstance(part, ast.Slice):
                bounds = [b for b in (part.lower, part.upper) if b is not None]
                if _names_in(bounds) & self.derived and not _names_in([node.value]) & self.derived:
                    self.slices = True


def _returns_in(body: _Statements) -> bool:
    return any(isinstance(node, ast.Return) for statement in body for node in ast.walk(statement))


# ---------------------------------------------------------------------------------------------
# Pass 2: values, setups and signals
# ---------------------------------------------------------------------------------------------


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


@dataclass(frozen=True, eq=False)
class _Handle:
    """What an expression refers to: a setup, seen as a model, a pipeline, an LLM or an engine."""

    setup: Setup
    kind: str  # model | pipeline | llm | engine


# Calls that make a module a training script, not an inference one.
TRAINING_CALLS = frozenset(
    {
        "prepare_model_for_kbit_training",
        "get_peft_model",
        "Trainer",
        "Seq2SeqTrainer",
        "TrainingArguments",
        "Seq2SeqTrainingArguments",
        "SFTTrainer",
        "SFTConfig",
        "DPOTrainer",
        "ORPOTrainer",
        "KTOTrainer",
        "PPOTrainer",
        "GRPOTrainer",
        "RewardTrainer",
    }
)


class _Extraction:
    """Pass 2 over one file's index: setups from loading calls, then the signals that need them
    (compile, generate per prompt or per request, reload per request), then labels."""

    def __init__(self, path: str, source: _Source, index: _Indexer, context: ExtractContext) -> None:
        self.path = path
        self.source = source
        self.index = index
        self.context = context
        self.setups: list[Setup] = []
        self.origin_site: dict[int, _Site] = {}  # id(setup) → the loading call's site
        self.by_call: dict[ast.Call, _Handle] = {}
        self.argparse: dict[str, tuple[ast.expr | None, str | None, ast.Call, _Scope]] = {}
        self.handlers: set[_Function] = set()
        self.batched: set[_Function] = set()
        self._callers: dict[_Function, list[_Site]] | None = None
        self._by_name: dict[str, list[_Function]] | None = None
        self._methods: frozenset[str] | None = None
        self._flows: dict[int, _Flows] = {}
        self._statement_flows: dict[int, _Flows] = {}
        self._inference: dict[int, list[_Site]] | None = None
        self._has_pipelines = False
        self._generate_written = "generate" in source.text  # Thread(target=model.generate) needs the word
        self._file_dir: Path | None = None
        self._resolving: set[int] = set()

    # -- driver -------------------------------------------------------------------------------

    def run(self) -> list[Setup]:
        self._collect_argparse()
        self._collect_handlers()
        named = self.index.loader_names()  # no other call can be one: _classify decides among these
        loaders = [(site, self._classify(site.node)) for site in self.index.calls if site.name in named]
        for site, kind in loaders:
            if kind in ("from_pretrained", "vllm", "vllm-engine"):
                self._add_setup(site, kind)
        for site, kind in loaders:
            if kind == "pipeline":
                self._pipeline(site)
        for site, kind in loaders:
            if kind == "quantize":
                self._quantize(site)
        if not self.setups:
            return []
        self._attach_compile()
        self._attach_single_request()
        self._attach_reload()
        self._attach_purpose()
        self._attach_labels()
        return self.setups

    # -- small helpers ------------------------------------------------------------------------

    def _loc(self, node: _Located) -> Location:
        start, end = self._span(node)
        line, column = self.source.line_column(start)
        end_line, end_column = self.source.line_column(end)
        return Location(self.path, line, column + 1, end_line, end_column + 1)

    def _span(self, node: _Located) -> tuple[int, int]:
        """Start and end offsets: an argument or dict entry with the parentheses around it."""
        source = self.source
        if isinstance(node, _DictItem):
            key, value = node.dict.keys[node.index], node.dict.values[node.index]
            assert key is not None
            before = node.dict.values[node.index - 1] if node.index else None
            left = source.end(before) if before is not None else source.start(node.dict) + 1
            return source.parenthesized(key, left)[0], source.parenthesized(value, source.end(key))[1]
        if isinstance(node, _Arg):
            if node.keyword is not None or node.star:
                return source.start(node.node), source.end(node.node)
            if node.previous is not None:
                return source.parenthesized(node.value, source.end(node.previous))
            return source.parenthesized(node.value, source.end(node.func), own_opening=1)
        return source.start(node), source.end(node)

    def _where(self, value: _Value, entry: _Entry) -> Location:
        """Inline values point at their keyword; values read from a constant at the constant."""
        if value.node is None or value.node is entry.value:
            return self._loc(entry.node)
        return self._loc(value.node)

    def _qualified(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return self.index.qualified.get(expr.id, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self._qualified(expr.value)
            return None if base is None else f"{base}.{expr.attr}"
        return None

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
        same = True
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
        positional = fn.positional()
        offset = 1 if fn.method_of is not None and positional and positional[0].name in ("self", "cls") else 0
        index = next((i - offset for i, p in enumerate(positional) if p is param), None)
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
        if omitted or not sites:
            parent = fn.scope.parent or self.index.module
            out.append(_Binding(0, param.default, parent, how="parameter-default"))
        return out

    @staticmethod
    def _argument_for(call: ast.Call, name: str, index: int | None) -> Any:
        positional = 0
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

    def _bindings_of(self, expr: ast.expr, scope: _Scope) -> list[_Binding]:
        if isinstance(expr, ast.Name):
            return self._definitions(expr.id, expr.lineno, scope)[0]
        if isinstance(expr, ast.Attribute):
            return self._attribute_bindings(expr, scope)
        return []

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

    # -- the index's second look: argparse options and web handlers ---------------------------

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

    def _collect_handlers(self) -> None:
        for fn in self.index.functions:
            self._classify_function(fn)
        uses_gradio = any(q.split(".")[0] == "gradio" for q in self.index.qualified.values())
        for site in self.index.calls:
            name = site.name
            registrar = name in _ROUTE_REGISTRARS or (uses_gradio and name in _GRADIO_HANDLERS)
            if not registrar:
                continue
            for arg in _args(site.node):
                if arg.keyword is None or arg.keyword in ("endpoint", "view_func", "fn"):
                    self.handlers.update(self._callees(arg.value, site.scope))

    def _classify_function(self, fn: _Function) -> None:
        for expr in fn.node.decorator_list:
            target = expr.func if isinstance(expr, ast.Call) else expr
            name = _final_name(target)
            qualified = self._qualified(target) or ""
            if qualified.startswith(_MOCK_MODULES):
                continue  # @patch("pkg.Thing", Fake) is unittest.mock's, not an HTTP PATCH route
            if (name in _ROUTE_DECORATORS and isinstance(expr, ast.Call)) or name in _ENDPOINT_DECORATORS:
                self.handlers.add(fn)
            elif name == "api" and qualified.startswith("bentoml"):
                self.handlers.add(fn)
                if isinstance(expr, ast.Call) and self._truthy(self._kwargs(expr, fn.scope).get("batchable")):
                    self.batched.add(fn)
            elif name == "batch" and "serve" in qualified:
                self.batched.add(fn)
        if fn.name == "__call__" and fn.method_of is not None and self._is_serve_deployment(fn.method_of):
            self.handlers.add(fn)

    def _is_serve_deployment(self, cls: _Class) -> bool:
        for expr in cls.node.decorator_list:
            target = expr.func if isinstance(expr, ast.Call) else expr
            if _final_name(target) == "deployment" and "serve" in (self._qualified(target) or ""):
                return True
        return False

    @staticmethod
    def _decorator_names(fn: _Function) -> set[str]:
        names = set()
        for expr in fn.node.decorator_list:
            name = _final_name(expr.func if isinstance(expr, ast.Call) else expr)
            if name is not None:
                names.add(name)
        return names

    def _in_handler(self, site: _Site, *, inference_only: bool = False) -> bool:
        """Inside a web handler. ``inference_only`` leaves out handlers whose own name says they
        load (a "Load/Reload model" button): loading there is what the user asked for."""
        chain = list(site.function.chain()) if site.function is not None else []
        handlers = [fn for fn in chain if fn in self.handlers]
        if inference_only:
            handlers = [fn for fn in handlers if "load" not in fn.name.lower()]
        return bool(handlers) and not any(fn in self.batched for fn in chain)

    # -- the call graph (by name; one module) -------------------------------------------------

    def _callees(self, expr: ast.expr, scope: _Scope) -> list[_Function]:
        """Local functions an expression names: f, self.method, obj.method of a local class."""
        if isinstance(expr, ast.Name):
            cls = self._local_class(expr.id, scope)
            if cls is not None:
                return [m for m in (cls.methods.get("__init__"),) if m is not None]
            return [fn for fn in self._functions_named().get(expr.id, ()) if fn.method_of is None]
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            owner = expr.value.id
            if owner in ("self", "cls"):
                cls = scope.cls
                method = None if cls is None else cls.methods.get(expr.attr)
                return [method] if method is not None else []
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
                cls = self._local_class(value.func.id, binding.scope)
                method = None if cls is None else cls.methods.get(expr.attr)
                if method is not None:
                    return [method]
        return []

    def _method_names(self) -> frozenset[str]:
        if self._methods is None:
            self._methods = frozenset(name for cls in self.index.classes.values() for name in cls.methods)
        return self._methods

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
            callable_names = set(self._functions_named()) | set(self.index.classes)
            for site in self.index.calls:
                call = site.node
                targets = [call.func] if site.name in callable_names else []
                if call.args or call.keywords:
                    targets.extend(value for value in _argument_values(call) if _final_name(value) in callable_names)
                for target in targets:
                    for fn in self._callees(target, site.scope):
                        self._callers.setdefault(fn, []).append(site)
        return self._callers

    def _callers_of(self, fn: _Function) -> list[_Site]:
        return self._callers_map().get(fn, [])

    # -- what a model-handling expression refers to -------------------------------------------

    def _handle(
        self, expr: ast.expr | None, scope: _Scope, depth: int = 0, index: int | None = None, *, base: bool = True
    ) -> _Handle | None:
        """The setup an expression refers to. ``base``: `model.forward` or `pipe.model` refer to the
        model through their base (not wanted when asking whether the model itself is called)."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            return self._handle(expr.value, scope, depth + 1, index)
        if isinstance(expr, (ast.Tuple, ast.List)):
            element = _element(expr, index)
            return None if element is None or element is expr else self._handle(element, scope, depth + 1)
        if isinstance(expr, ast.Call):
            return self._handle_of_call(expr, scope, depth, index)
        if isinstance(expr, (ast.Name, ast.Attribute)):
            key = id(expr)
            if key in self._resolving:
                return None
            self._resolving.add(key)
            try:
                for binding in self._bindings_of(expr, scope):
                    found = self._handle(binding.value, binding.scope, depth + 1, binding.index)
                    if found is not None:
                        return found
            finally:
                self._resolving.discard(key)
            if base and isinstance(expr, ast.Attribute):  # model.forward, pipe.model, model.module
                return self._handle(expr.value, scope, depth + 1)
        return None

    def _handle_of_call(self, call: ast.Call, scope: _Scope, depth: int, index: int | None) -> _Handle | None:
        known = self.by_call.get(call)
        if known is not None:
            return known if index in (None, 0) else None
        func = call.func
        first = self._positional(call, 0, scope)
        if self._is_torch_compile(func) or _final_name(func) in _WRAPPERS:
            return None if first is None else self._handle(first.value, scope, depth + 1)
        if isinstance(func, ast.Attribute):
            if func.attr in _ALIAS_METHODS:
                return self._handle(func.value, scope, depth + 1)
            if func.attr == "from_pretrained" and (_final_name(func.value) or "").lower().startswith("peftmodel"):
                return None if first is None else self._handle(first.value, scope, depth + 1)
        for fn in self._callees(func, scope):
            for returned in fn.returns:
                found = self._handle(returned, fn.scope, depth + 1, index)
                if found is not None:
                    return found
        return None

    def _is_torch_compile(self, func: ast.expr) -> bool:
        # the last name first: building the dotted name of every call of a file is not cheap
        if isinstance(func, ast.Attribute) and func.attr != "compile":
            return False
        if isinstance(func, ast.Name) and self.index.qualified.get(func.id) != "torch.compile":
            return False
        return self._qualified(func) == "torch.compile"

    # -- model-loading calls ------------------------------------------------------------------

    def _classify(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "from_pretrained":
            return "from_pretrained" if _loads_a_model(func.value) else None
        # The qualified name's last part is the attribute, or what the imports make of the name:
        # looked at first, it rules out almost every call without building a dotted name.
        if isinstance(func, ast.Attribute) and func.attr not in _CLASSIFIED_LAST_NAMES:
            return None
        if (
            isinstance(func, ast.Name)
            and self.index.qualified.get(func.id, func.id).rsplit(".", 1)[-1] not in _CLASSIFIED_LAST_NAMES
        ):
            return None
        qualified = self._qualified(func) or ""
        last = qualified.rsplit(".", 1)[-1]
        if last == "quantize_":
            return "quantize"
        if qualified.startswith("vllm."):
            if last == "LLM":
                return "vllm"
            if last in ("EngineArgs", "AsyncEngineArgs"):
                return "vllm-engine"
        if last == "pipeline" and qualified.startswith("transformers."):
            return "pipeline"
        return None

    def _register(self, site: _Site, setup: Setup, kind: str) -> None:
        self.setups.append(setup)
        self.origin_site[id(setup)] = site
        self.by_call[site.node] = _Handle(setup, kind)

    def _add_setup(self, site: _Site, kind: str) -> None:
        if kind == "from_pretrained":
            self._register(site, self._from_pretrained(site), "model")
        else:
            self._register(site, self._vllm(site), "llm" if kind == "vllm" else "engine")

    def _set_model(self, setup: Setup, entry: _Entry | None) -> None:
        if entry is None:
            return
        value = self._resolve(entry.value, entry.scope)
        if value is not None and isinstance(value.value, str) and value.value:
            setup.set(MODEL, value.value, self._where(value, entry), value.how)

    def _set(self, setup: Setup, name: str, entry: _Entry | None, convert: Callable[[Any], Any]) -> bool:
        """Set a fact from an argument when it resolves and converts (convert returns None if not)."""
        if entry is None:
            return False
        value = self._resolve(entry.value, entry.scope)
        if value is None:
            return False
        converted = convert(value.value)
        if converted is None:
            return False
        setup.set(name, converted, self._where(value, entry), value.how)
        return True

    def _from_pretrained(self, site: _Site) -> Setup:
        call, scope = site.node, site.scope
        setup = Setup("transformers", origin=self._loc(call), kind="python")
        kwargs = self._kwargs(call, scope)
        self._set_model(setup, self._positional(call, 0, scope) or kwargs.get("pretrained_model_name_or_path"))
        self._apply_load_kwargs(setup, kwargs)
        # Which class loads it (a speech or captioning model, an Intel or OpenVINO port of the
        # transformers API) and where it is put: resolve.py reads them against rules/ tables.
        loader = self._qualified(call.func)
        if loader is not None:
            setup.set(LOADER, loader, self._loc(call.func))
        self._set(setup, DEVICE, kwargs.get("device_map") or kwargs.get("device"), _device)
        return setup

    def _apply_load_kwargs(self, setup: Setup, kwargs: dict[str, _Entry]) -> None:
        """What from_pretrained's keywords say about precision (shared with pipeline model_kwargs)."""
        quant = None
        config = kwargs.get("quantization_config")
        if config is not None:
            quant = self._quant(config.value, config.scope)
        if quant is None:
            quant = self._bnb(kwargs, None)  # legacy load_in_8bit=True / load_in_4bit=True
        if quant is not None:
            setup.facts.update(quant)
        dtype = kwargs.get("torch_dtype") or kwargs.get("dtype")
        target = COMPUTE_DTYPE if quant is not None else PRECISION
        if not setup.has(target):
            self._set(setup, target, dtype, _dtype)
        self._set(setup, ATTN_IMPLEMENTATION, kwargs.get("attn_implementation"), _string)

    def _pipeline(self, site: _Site) -> None:
        call, scope = site.node, site.scope
        kwargs = self._kwargs(call, scope)
        model = kwargs.get("model") or self._positional(call, 1, scope)
        existing = None if model is None else self._handle(model.value, model.scope)
        if existing is not None:
            # pipeline(model=model) wraps a model loaded elsewhere: no new setup, same model.
            self.by_call[call] = _Handle(existing.setup, "pipeline")
            self._set(existing.setup, BATCH_SIZE, kwargs.get("batch_size"), _int)
            return
        setup = Setup("transformers", origin=self._loc(call), kind="python")
        self._set_model(setup, model)
        self._set(setup, TASK, kwargs.get("task") or self._positional(call, 0, scope), _string)
        self._set(setup, DEVICE, kwargs.get("device") or kwargs.get("device_map"), _device)
        load_kwargs = dict(self._mapping(kwargs["model_kwargs"].value, scope) or {}) if "model_kwargs" in kwargs else {}
        load_kwargs.update({k: v for k, v in kwargs.items() if k in ("torch_dtype", "dtype", "quantization_config")})
        self._apply_load_kwargs(setup, load_kwargs)
        self._set(setup, BATCH_SIZE, kwargs.get("batch_size"), _int)
        self._register(site, setup, "pipeline")

    def _vllm(self, site: _Site) -> Setup:
        """``LLM(...)`` / ``EngineArgs(...)``: each keyword that mirrors a vLLM flag goes through
        that flag's row of the launcher table (ecolint/extract/launchers/vllm.py), so Python and
        command lines say the same; values and locations are this extractor's own."""
        call, scope = site.node, site.scope
        setup = Setup(VLLM.framework, origin=self._loc(call), kind="python")
        kwargs = self._kwargs(call, scope)
        self._set_model(setup, kwargs.get("model") or self._positional(call, 0, scope))
        opts: dict[str, Opt] = {}
        for keyword, entry in kwargs.items():
            row = VLLM.by_python(keyword)
            opt = None if row is None or row.fact == MODEL else self._flag_opt(row, entry)
            if row is not None and opt is not None:
                opts[row.name] = opt
        apply_table(VLLM, Builder(setup), opts)
        quantization = opts.get("--quantization")
        if quantization is not None and not unresolved(quantization.value):
            # Where the quantization was asked for: the keyword, which the fix deletes.
            setup.set(QUANT_CONFIG, "vllm", quantization.site)
        self._set(setup, ATTN_IMPLEMENTATION, kwargs.get("attn_implementation"), _string)
        return setup

    def _flag_opt(self, row: Flag, entry: _Entry) -> Opt | None:
        """A keyword's value as the flag row reads it (None when it does not resolve or is not
        of the row's type): a switch takes a bool, a number an int, a dtype a torch dtype."""
        value = self._resolve(entry.value, entry.scope)
        if value is None:
            return None
        raw = value.value
        text: str | None
        if row.type == SWITCH:
            if not isinstance(raw, bool):
                return None
            text = None if raw else "false"
        elif row.type == INT:
            number = _int(raw)
            text = None if number is None else str(number)
        elif row.type == DTYPE:
            text = str(raw).lower().removeprefix("torch.") if isinstance(raw, str) else None
        else:
            text = _string(raw)
        if text is None and row.type != SWITCH:
            return None
        site = self._loc(entry.node)
        return Opt(
            Tok(row.python or "", site), text, self._where(value, entry), value.how, site=site, derived="implied"
        )

    def _quantize(self, site: _Site) -> None:
        """torchao quantize_(model, config): joins the setup that loaded `model`, or starts one."""
        call, scope = site.node, site.scope
        kwargs = self._kwargs(call, scope)
        model = self._positional(call, 0, scope) or kwargs.get("model")
        config = self._positional(call, 1, scope) or kwargs.get("config") or kwargs.get("apply_tensor_subclass")
        handle = None if model is None else self._handle(model.value, model.scope)
        if handle is not None and handle.setup.framework in ("transformers", "torchao"):
            setup = handle.setup
            if setup.get(QUANT_CONFIG) == "torchao" and setup.get(PRECISION) == "fp8":
                return  # an earlier quantize_ already made it float8
            setup.framework = "torchao"
            self.by_call[call] = _Handle(setup, "model")
        else:
            setup = Setup("torchao", origin=self._loc(call), kind="python")
            self._register(site, setup, "model")
        setup.set(QUANT_CONFIG, "torchao", self._loc(call))
        if config is not None and self._is_float8(config.value, config.scope):
            if setup.get(PRECISION) in ("fp16", "bf16", "fp32") and not setup.has(COMPUTE_DTYPE):
                setup.facts[COMPUTE_DTYPE] = setup.facts[PRECISION]
            setup.set(PRECISION, "fp8", self._loc(config.node))
        elif setup.get(PRECISION) in ("fp16", "bf16", "fp32"):
            # Another torchao scheme (int4/int8 weight-only …): not the bitsandbytes numbers.
            setup.facts[COMPUTE_DTYPE] = setup.facts.pop(PRECISION)

    def _is_float8(self, expr: ast.expr, scope: _Scope, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, ast.Call):
            name = _final_name(expr.func) or ""
            if "float8" in name.lower():
                return True
            if name == "TorchAoConfig":
                inner = self._positional(expr, 0, scope) or self._kwargs(expr, scope).get("quant_type")
                return inner is not None and self._is_float8(inner.value, inner.scope, depth + 1)
            return False
        value = self._resolve(expr, scope)
        if value is not None and isinstance(value.value, str):
            return "float8" in value.value.lower()
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None and self._is_float8(
                _element(binding.value, binding.index) or binding.value, binding.scope, depth + 1
            ):
                return True
        return False

    # -- quantization configs -----------------------------------------------------------------

    def _quant(self, expr: ast.expr | None, scope: _Scope, depth: int = 0) -> dict[str, Fact] | None:
        """Facts of a quantization_config value, followed through names, branches and dicts."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            return self._quant_call(expr, scope)
        if isinstance(expr, ast.Dict):
            entries = self._mapping(expr, scope) or {}
            return self._bnb(entries, expr)
        if isinstance(expr, ast.IfExp):  # config if args.quantize else None
            return self._quant(expr.body, scope, depth + 1) or self._quant(expr.orelse, scope, depth + 1)
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None:
                found = self._quant(_element(binding.value, binding.index), binding.scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _quant_call(self, call: ast.Call, scope: _Scope) -> dict[str, Fact] | None:
        func = call.func
        name = _final_name(func)
        if name == "BitsAndBytesConfig":
            return self._bnb(self._kwargs(call, scope), call)
        if name == "from_dict" and isinstance(func, ast.Attribute) and _final_name(func.value) == "BitsAndBytesConfig":
            first = self._positional(call, 0, scope)
            return self._bnb(({} if first is None else self._mapping(first.value, scope)) or {}, call)
        if name == "TorchAoConfig":
            facts = {QUANT_CONFIG: Fact("torchao", self._loc(call))}
            if self._is_float8(call, scope):
                facts[PRECISION] = Fact("fp8", self._loc(call))
            return facts
        if name in ("GPTQConfig", "AwqConfig"):
            method = "gptq" if name == "GPTQConfig" else "awq"
            return {QUANT_CONFIG: Fact(method, self._loc(call)), PRECISION: Fact(method, self._loc(call))}
        return None

    def _truthy(self, entry: _Entry | None) -> bool:
        """A flag that is statically True. Unknown counts as off: no guessing a quantization."""
        if entry is None:
            return False
        value = self._resolve(entry.value, entry.scope)
        return value is not None and (value.value is True or (type(value.value) is int and value.value != 0))

    def _bnb(self, entries: dict[str, _Entry], anchor: _Located | None) -> dict[str, Fact] | None:
        """bitsandbytes settings (BitsAndBytesConfig keywords, or the legacy from_pretrained ones).

        ``anchor`` is where quantization is requested (the config call or dict); None for legacy
        keywords, which are their own anchor.
        """
        for flag, build in (("load_in_8bit", self._bnb_int8), ("load_in_4bit", self._bnb_4bit)):
            entry = entries.get(flag)
            if self._truthy(entry):
                assert entry is not None
                where = self._loc(anchor if anchor is not None else entry.node)
                facts = {QUANT_CONFIG: Fact("bitsandbytes", where)}
                build(facts, entries, entry, where)
                return facts
        return None

    def _bnb_int8(self, facts: dict[str, Fact], entries: dict[str, _Entry], flag: _Entry, where: Location) -> None:
        facts[PRECISION] = Fact("int8", self._loc(flag.node))
        facts[THRESHOLD_EXPOSED] = Fact(True, where, "implied")
        threshold = entries.get("llm_int8_threshold")
        if threshold is None:
            facts[LLM_INT8_THRESHOLD] = Fact(_DEFAULT_INT8_THRESHOLD, where, "implied")
            return
        value = self._resolve(threshold.value, threshold.scope)
        if value is not None and _is_number(value.value):
            facts[LLM_INT8_THRESHOLD] = Fact(float(value.value), self._where(value, threshold), value.how)

    def _bnb_4bit(self, facts: dict[str, Fact], entries: dict[str, _Entry], flag: _Entry, where: Location) -> None:
        kind = entries.get("bnb_4bit_quant_type")
        if kind is None:
            facts[PRECISION] = Fact("fp4", where, "implied")  # bitsandbytes' default 4-bit type
        else:
            value = self._resolve(kind.value, kind.scope)
            if value is not None and str(value.value).lower() in ("nf4", "fp4"):
                facts[PRECISION] = Fact(str(value.value).lower(), self._where(value, kind), value.how)
            else:  # written but not readable: 4-bit for sure, NF4 the usual choice
                facts[PRECISION] = Fact("nf4", self._loc(kind.node), "assumed")
        compute = entries.get("bnb_4bit_compute_dtype")
        if compute is not None:
            value = self._resolve(compute.value, compute.scope)
            dtype = None if value is None else _dtype(value.value)
            if dtype is not None and value is not None:
                facts[COMPUTE_DTYPE] = Fact(dtype, self._where(value, compute), value.how)
        double = entries.get("bnb_4bit_use_double_quant")
        if double is not None:
            value = self._resolve(double.value, double.scope)
            if value is not None and isinstance(value.value, bool):
                facts[DOUBLE_QUANT] = Fact(value.value, self._where(value, double), value.how)

    # -- torch.compile ------------------------------------------------------------------------

    def _attach_compile(self) -> None:
        """COMPILED for transformers/torchao setups: True at a compile of that model, else False."""
        compiled: dict[int, _Located] = {}
        aliases = {local for local, target in self.index.qualified.items() if target == "torch.compile"}
        for site in self.index.calls:
            if site.name != "compile" and site.name not in aliases:
                continue  # neither torch.compile(…) nor x.compile()
            target = self._compile_target(site.node)
            if target is None:
                continue
            handle = self._handle(target, site.scope) or self._only_setup(target, site.scope)
            if handle is not None:
                compiled.setdefault(id(handle.setup), site.node)
        for setup in self.setups:
            if setup.framework not in ("transformers", "torchao"):
                continue
            node = compiled.get(id(setup))
            if node is not None:
                setup.set(COMPILED, True, self._loc(node))
            else:
                setup.set(
                    COMPILED, False, setup.where(QUANT_CONFIG) if setup.has(QUANT_CONFIG) else setup.origin, "implied"
                )

    def _compile_target(self, call: ast.Call) -> ast.expr | None:
        """torch.compile(model) / torch.compile(model.forward) / model.compile()."""
        func = call.func
        if self._is_torch_compile(func):
            first = next((a.value for a in _args(call) if a.keyword is None and not a.star), None)
            if first is None:
                first = next((a.value for a in _args(call) if a.keyword == "model"), None)
            return first
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "compile"
            and self._qualified(func.value) not in ("re", "torch")
        ):
            return func.value
        return None

    def _only_setup(self, expr: ast.expr, scope: _Scope) -> _Handle | None:
        """The module's one setup, for an expression bound to nothing this module knows of.

        A parameter called `model`, or an attribute set elsewhere, most likely is that model; a
        name bound here to something else (`client = OpenAI()`) is not.
        """
        if len(self.setups) != 1:
            return None
        root = expr
        while isinstance(root, ast.Attribute):
            if self._attribute_bindings(root, scope):
                return None
            root = root.value
        if not isinstance(root, ast.Name) or root.id == "cls":
            return None
        if root.id != "self":
            bindings, _ = self._definitions(root.id, root.lineno, scope)
            if any(b.value is not None or b.ref is not None for b in bindings):
                return None
        elif expr is root:
            return None  # self.generate(…) is a method of this class, followed through its callers
        return self.by_call.get(self.origin_site[id(self.setups[0])].node)

    # -- generate() once per prompt / per request ---------------------------------------------

    def _attach_single_request(self) -> None:
        self._has_pipelines = any(h.kind == "pipeline" for h in self.by_call.values())
        for site in self.index.calls:
            for target, inputs, handler_only in self._generate_uses(site):
                handle = self._generate_handle(target, site)
                if handle is None or handle.kind == "engine" or handle.setup.has(SINGLE_REQUEST):
                    continue
                signal = self._single_request(site, inputs, handler_only)
                if signal is not None:
                    node = site.node if not handler_only else target
                    handle.setup.set(SINGLE_REQUEST, signal, self._loc(node))

    def _generate_uses(self, site: _Site) -> list[tuple[ast.expr, list[ast.expr], bool]]:
        """(receiver-or-callee, prompt arguments, handler-only) for generation at this call.

        model.generate(…), llm.generate(…)/llm.chat(…), pipe(…); and Thread(target=model.generate)
        (streaming servers), where only the per-request signal applies.
        """
        call = site.node
        func = call.func
        uses: list[tuple[ast.expr, list[ast.expr], bool]] = []
        if isinstance(func, ast.Attribute) and func.attr in ("generate", "chat"):
            uses.append((func, _inputs(call), False))
        elif self._has_pipelines and isinstance(func, (ast.Name, ast.Attribute)):
            handle = self._handle(func, site.scope)
            if handle is not None and handle.kind == "pipeline":
                uses.append((func, _inputs(call), False))
        if not self._generate_written or (not call.args and not call.keywords):
            return uses
        for value in _argument_values(call):
            if type(value) is ast.Attribute and value.attr == "generate":
                uses.append((value, [], True))
        return uses

    def _generate_handle(self, target: ast.expr, site: _Site) -> _Handle | None:
        if isinstance(target, ast.Attribute) and target.attr in ("generate", "chat"):
            receiver = target.value
            handle = self._handle(receiver, site.scope)
            if handle is None:
                handle = self._only_setup(receiver, site.scope)
            if handle is not None and target.attr == "chat" and handle.kind != "llm":
                return None
            return handle
        return self._handle(target, site.scope)

    def _single_request(self, site: _Site, inputs: list[ast.expr], handler_only: bool) -> str | None:
        if self._in_handler(site):
            return "handler"
        if handler_only:
            return self._via_callers(site.function, [], handler_only=True)
        if self._per_item(site, inputs):
            return "loop"
        return self._via_callers(site.function, inputs, handler_only=False)

    def _via_callers(
        self, fn: _Function | None, inputs: list[ast.expr], handler_only: bool, depth: int = 1
    ) -> str | None:
        """generate() in a helper: a handler calling the helper (up to three calls away), or a
        per-prompt loop calling it directly with the prompt that reaches generate()."""
        if fn is None or depth > 3:
            return None
        callers = self._callers_of(fn)
        if not callers:
            return None
        params = {p.name for p in fn.params()} - {"self", "cls"}
        # The def-use closure of the body is the costly part: only when a caller in a loop can feed it.
        fed = (
            depth == 1
            and not handler_only
            and bool(params)
            and bool(inputs)
            and any(caller.loops for caller in callers)
            and bool(_names_in(inputs) & self._derived(params, fn.node.body))
        )
        for caller in callers:
            if self._in_handler(caller):
                return "handler"
            if fed and depth == 1 and not handler_only and self._per_item(caller, _argument_values(caller.node)):
                return "loop"
        for caller in self._callers_of(fn):
            if caller.function is not fn:
                found = self._via_callers(caller.function, [], True, depth + 1)
                if found is not None:
                    return found
        return None

    def _per_item(self, site: _Site, inputs: list[ast.expr]) -> bool:
        """Is this call made once per prompt by an enclosing loop?

        The innermost loop whose item reaches the prompt arguments decides: a loop over batches
        (by its names, a range with a step, slicing by the index, a DataLoader) is batching, so is
        a list literal or comprehension passed as the prompts; any other per-item loop is not.
        `while` loops (interactive chat, request queues) are left alone; loops whose item does not
        reach the prompts (`for _ in range(n_runs)`) are repetition, not per-prompt calls.
        """
        if any(_is_batch_input(expr) for expr in inputs):
            return False
        used = _names_in(inputs)
        for loop in reversed(site.loops):
            derived = self._loop_derived(loop)
            if not used & derived:
                continue
            return not (self._is_batch_loop(loop, derived) or self._flushes_batches(loop, used))
        return False

    def _flushes_batches(self, loop: _Loop, used: set[str]) -> bool:
        """A loop that gathers prompts in a list it also empties (`batch.append(p)` … generate(batch)
        … `batch = []`) calls generate once per batch, not once per prompt. A list that only
        grows (a chat history) is not a batch."""
        if loop.body is None:
            return False
        return any(used & self._derived({name}, loop.body) for name in sorted(_gathered_and_emptied(loop.body)))

    def _loop_derived(self, loop: _Loop) -> set[str]:
        seed = _target_names(loop.target)
        return seed if loop.body is None else self._derived(seed, loop.body)

    def _derived(self, seed: set[str], body: _Statements) -> set[str]:
        """Names computed from the seed names inside a block (a small def-use closure)."""
        flows = self._flows.get(id(body))
        if flows is None:
            flows = self._flows[id(body)] = _flows(body, self._statement_flows)
        derived = set(seed)
        changed = True
        while changed:
            changed = False
            for written, read in flows:
                if read & derived and not written <= derived:
                    derived |= written
                    changed = True
        return derived

    def _computed_in(self, loop: _Loop) -> set[str]:
        """Names a loop body computes from something (`with TemporaryDirectory() as tmp`,
        `path = download(x)`): loading from them loads what this iteration produced."""
        if loop.body is None:
            return set()
        self._derived(set(), loop.body)  # fills the flow cache
        return set().union(*(written for written, read in self._flows[id(loop.body)] if read))

    def _is_batch_loop(self, loop: _Loop, derived: set[str]) -> bool:
        if any(_BATCHY.search(name) for name in _target_names(loop.target)):
            return True
        if self._batchy_iterable(loop.iter):
            return True
        if loop.body is not None:
            return _BodyScan(derived).scan(loop.body).slices
        return False

    def _batchy_iterable(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call):
            name = _final_name(expr.func) or ""
            if name == "range":
                args = _args(expr)
                step = args[2].value if len(args) >= 3 else None
                return step is not None and not _is_one(step)
            if name == "DataLoader":  # batch_size defaults to 1
                size = next((a.value for a in _args(expr) if a.keyword == "batch_size"), None)
                return size is not None and _literal(size) != 1
            if _BATCHY.search(name) or name in ("split", "array_split"):
                return True
            return any(self._batchy_iterable(a.value) for a in _args(expr) if a.keyword is None)
        final = _final_name(expr)
        return final is not None and bool(_BATCHY.search(final))

    # -- model loaded per request / per loop item ---------------------------------------------

    def _attach_reload(self) -> None:
        for setup in self.setups:
            site = self.origin_site.get(id(setup))
            if site is None or self.by_call.get(site.node) is None or self._classify(site.node) == "quantize":
                continue
            # The whole call: a loop item may pick the class (`for cls in classes: cls.from_pretrained(…)`).
            signal = self._reload(site, [site.node], setup, (site.function,))
            if signal is not None:
                setup.set(RELOAD_PER_REQUEST, signal, self._loc(site.node))

    def _reload(
        self, site: _Site, args: list[ast.expr] | None, setup: Setup, helpers: tuple[_Function | None, ...]
    ) -> str | None:
        """ "handler" or "loop" when this loading call runs again per request or loop item.

        ``site`` is the loading call, then (up to three calls away) a call of the function that
        contains it; ``helpers`` are the functions between. ``args`` are the expressions the model
        depends on at this level (None: nothing from the caller reaches the loader); a loop whose
        item reaches them loads different models or configurations: a sweep, not a reload.
        """
        if self._loads_once(site):
            return None
        if self._in_handler(site, inference_only=True):
            return "handler"
        if self._reloads_in_loop(site, args, setup, helpers):
            return "loop"
        fn = site.function
        if fn is None or len(helpers) > 3:
            return None
        callers = [caller for caller in self._callers_of(fn) if caller.function is not fn]
        if not callers:
            return None  # nothing calls it (a test method, an entry point): no caller to blame
        params = {p.name for p in fn.params()} - {"self", "cls"}
        # Whether the caller's arguments reach the loader only matters to a loop on the way up (a
        # sweep over models is no reload); the def-use closure of the body is the costly part.
        from_params = (
            args is not None
            and bool(params)
            and self._loop_among_callers(fn, len(helpers))
            and bool(_names_in(args) & self._derived(params, fn.node.body))
        )
        for caller in callers:
            found = self._reload(
                caller, _argument_values(caller.node) if from_params else None, setup, helpers + (caller.function,)
            )
            if found is not None:
                return found
        return None

    def _loop_among_callers(self, fn: _Function, helpers: int) -> bool:
        """Whether a call of fn, or of a function calling it, sits in a loop, as far up the
        callers as _reload looks (``helpers``: the functions between the loader and fn)."""
        for caller in self._callers_of(fn):
            if caller.function is fn:
                continue
            if caller.loops:
                return True
            if helpers < 3 and caller.function is not None and self._loop_among_callers(caller.function, helpers + 1):
                return True
        return False

    def _loads_once(self, site: _Site) -> bool:
        """Cached loaders, startup code, and lazy guards (`if model is None:`) load once."""
        for fn in site.function.chain() if site.function is not None else ():
            decorators = self._decorator_names(fn)
            if decorators & _CACHE_DECORATORS or decorators & _ONCE_DECORATORS or fn.name in _ONCE_FUNCTIONS:
                return True
        if any(_is_lazy_test(test) for test in site.guards):
            return True
        return site.function is not None and self._early_return_guard(site.function, site.node.lineno)

    def _early_return_guard(self, fn: _Function, line: int) -> bool:
        """`if self.model is not None: return self.model` above the loading line."""
        for statement in fn.node.body:
            if statement.lineno >= line:
                break
            if isinstance(statement, ast.If) and _is_lazy_test(statement.test) and _returns_in(statement.body):
                return True
        return False

    def _reloads_in_loop(
        self, site: _Site, args: list[ast.expr] | None, setup: Setup, helpers: tuple[_Function | None, ...]
    ) -> bool:
        """A loop that loads the same model again and then runs it, item after item. A loop that
        loads without running the model (copying weights into a list of modules, save/reload
        round-trips) is not inference per item."""
        for loop in site.loops:
            derived = self._loop_derived(loop) | self._computed_in(loop)
            if args is not None and _names_in(args) & derived:
                continue  # a different model, configuration or checkpoint per item
            if _names_in(site.guards) & derived:
                continue  # `if isinstance(item, X): X.from_pretrained(…)`: per-item dispatch
            if loop.body is not None and _BodyScan(derived).scan(loop.body).breaks:
                continue  # a retry or search loop: it stops after one load
            if self._runs_in(loop, setup, helpers):
                return True
        return False

    def _runs_in(self, loop: _Loop, setup: Setup, helpers: tuple[_Function | None, ...]) -> bool:
        """Is the setup's model run (generate, chat, a pipeline or forward call) in this loop, in
        a function on the way from the loop to the loader, or in a function the loop calls?"""
        for use in self._inference_sites().get(id(setup), []):
            if loop in use.loops or (use.function is not None and use.function in helpers):
                return True
            callers = self._callers_of(use.function) if use.function is not None else []
            if any(loop in caller.loops for caller in callers):
                return True
        return False

    def _inference_sites(self) -> dict[int, list[_Site]]:
        if self._inference is None:
            self._inference = {}
            for site in self.index.calls:
                if site.node in self.by_call:
                    continue
                handles = [self._generate_handle(target, site) for target, _, _ in self._generate_uses(site)]
                func = site.node.func
                generating = isinstance(func, ast.Attribute) and func.attr in ("generate", "chat")
                if isinstance(func, (ast.Name, ast.Attribute)) and not generating:
                    handles.append(self._handle(func, site.scope, base=False))  # model(**inputs)
                for handle in handles:
                    if handle is not None:
                        self._inference.setdefault(id(handle.setup), []).append(site)
        return self._inference

    # -- labels -------------------------------------------------------------------------------

    def _attach_purpose(self) -> None:
        """A module that fine-tunes (QLoRA's prepare_model_for_kbit_training, a Trainer) loads
        its model for training: 4-bit there is about fitting in memory, and the inference
        evidence does not apply. The first such call marks every setup of the module."""
        for site in self.index.calls:
            if site.name in TRAINING_CALLS:
                for setup in self.setups:
                    setup.set(PURPOSE, "training", self._loc(site.node), "module")
                return

    def _attach_labels(self) -> None:
        """Label a setup with the name it is assigned to (`llm`, `self.model`) when a file has several."""
        if len(self.setups) < 2:
            return
        scopes = (
            [self.index.module]
            + [fn.scope for fn in self.index.functions]
            + [c.scope for c in self.index.classes.values()]
        )
        named: list[tuple[str, dict[str, list[_Binding]]]] = [("", s.bindings) for s in scopes]
        named += [("self.", c.self_bindings) for c in self.index.classes.values()]
        for prefix, bindings in named:
            for name, found in bindings.items():
                for binding in found:
                    handle = self.by_call.get(binding.value) if isinstance(binding.value, ast.Call) else None
                    if handle is not None and handle.setup.label is None:
                        handle.setup.label = prefix + name


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def _loads_a_model(receiver: ast.expr) -> bool:
    """from_pretrained on a model class, not a tokenizer/processor/config, nor super() or cls."""
    if isinstance(receiver, ast.Call):
        return _final_name(receiver.func) != "super"
    name = _final_name(receiver)
    return name is None or not NOT_A_MODEL.search(name)


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


def _weakest(values: list[_Value]) -> str:
    """How a value built from several was learnt: the least direct of its parts."""
    hows = [v.how for v in values]
    for how in ("env-default", "argparse-default", "parameter-default", "imported", "constant"):
        if how in hows:
            return how
    return "literal"


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return _NO
    try:
        return {"int": int, "float": float, "str": str}[kind](value)
    except (TypeError, ValueError):
        return _NO


def _dtype(value: Any) -> str | None:
    text = str(value).lower().removeprefix("torch.")
    return _DTYPES.get(text) if isinstance(value, str) else None


# The device words a device / device_map argument may name (a "cuda:1" names cuda).
_DEVICES = frozenset({"cpu", "cuda", "mps", "xpu", "hpu", "npu", "meta"})


def _device(value: Any) -> str | None:
    """Where a device / device_map argument puts the model: a device word, a pipeline's device
    index (-1 is the CPU), or a device map that sends every module to one device."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "cpu" if value < 0 else "cuda"
    if isinstance(value, dict) and value:
        places = {_device(v) for v in value.values()}
        return places.pop() if len(places) == 1 else None
    if isinstance(value, str):
        word = value.strip().lower().split(":", 1)[0]
        return word if word in _DEVICES else None
    return None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _inputs(call: ast.Call) -> list[ast.expr]:
    """The arguments of a generation call that carry prompts (not max_new_tokens, temperature…)."""
    out = []
    positional = 0
    for arg in _args(call):
        if arg.star:
            out.append(arg.value)
        elif arg.keyword is None:
            if positional == 0:
                out.append(arg.value)
            positional += 1
        elif arg.keyword in _INPUT_KEYWORDS:
            out.append(arg.value)
    return out


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


def _is_batch_input(expr: ast.expr) -> bool:
    """[p1, p2] or [f(p) for p in group] passed as the prompts: a batch. A list of dicts is one
    chat conversation, not a batch."""
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        elements = [e.value if isinstance(e, ast.Starred) else e for e in expr.elts]
        return len(elements) >= 2 and not all(isinstance(e, ast.Dict) for e in elements)
    return False


def _is_lazy_test(test: ast.expr) -> bool:
    """`x is None`, `x is not None`, `key not in cache`, `not x`, `not hasattr(...)`."""
    if isinstance(test, ast.Compare):
        return any(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for op in test.ops)
    if isinstance(test, ast.UnaryOp):
        return isinstance(test.op, ast.Not)
    if isinstance(test, ast.BoolOp):
        return any(_is_lazy_test(value) for value in test.values)
    return False


def _argparse_dest(flags: list[str], kwargs: dict[str, _Entry], resolve: Callable[..., _Value | None]) -> str | None:
    if "dest" in kwargs:
        dest = resolve(kwargs["dest"].value, kwargs["dest"].scope)
        return dest.value if dest is not None and isinstance(dest.value, str) else None
    longs = [f for f in flags if f.startswith("--")]
    chosen = longs[0] if longs else (flags[0] if flags else None)
    if chosen is None:
        return None
    return chosen.lstrip("-").replace("-", "_") or None


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
        bases = list(dict.fromkeys([from_dir, context.root, context.root / "src"]))
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
