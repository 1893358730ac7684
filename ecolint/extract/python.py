"""Python sources → Setups, read with libcst. The code is never imported, run or evaluated.

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
imported from modules of the scanned tree (read with ``ast``), ``os.environ.get``/``os.getenv``
defaults, argparse defaults, parameters of helper functions (the arguments their call sites pass,
or the default), dict entries. Code under ``if False:``/``if 0:``/``if TYPE_CHECKING:`` is
ignored; comments and strings never make a setup because only syntax nodes are read.

Two passes: ``_Indexer`` walks the tree once and records scopes, bindings, loops, enclosing
``if`` tests and every call with that context; ``_Extraction`` then builds setups from the index.
"""

from __future__ import annotations

import ast
import posixpath
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ecolint.extract import ExtractContext, ExtractError
from ecolint.setups import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    ENFORCE_EAGER,
    KV_CACHE_DTYPE,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    RELOAD_PER_REQUEST,
    SINGLE_REQUEST,
    TENSOR_PARALLEL,
    THRESHOLD_EXPOSED,
    Fact,
    Location,
    Setup,
)

# How far a value is followed through names, calls and imports before giving up: deep enough for
# real code (constant → env default → argparse …), shallow enough to stop on cycles quickly.
_MAX_DEPTH = 12
_MAX_IMPORT_DEPTH = 3
# Syntax-tree depth beyond which a file is reported instead of parsed: real code stays under 40;
# libcst crashes (segfault) or turns quadratic on constructs a few thousand levels deep.
_MAX_NESTING = 150
# Calls a setup starts at (their last name; aliases of them are added per file).
_LOADER_CALLS = frozenset({"from_pretrained", "pipeline", "LLM", "EngineArgs", "AsyncEngineArgs", "quantize_"})

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
_VLLM_FP8 = frozenset({"fp8", "fbgemm_fp8", "ptpc_fp8"})

# from_pretrained on these loads no model weights (or, for PeftModel, an adapter onto a model that
# another call loaded): matched case-insensitively against the receiver's last name.
_NOT_A_MODEL = re.compile(
    r"tokeniz|processor|processing|config|feature_?extractor|scheduler|vocab|^peftmodel|^(self|cls)$", re.IGNORECASE
)
# Names that say a loop item or an iterable holds several prompts at once.
_BATCHY = re.compile(r"batch|chunk|group|shard|bucket|loader", re.IGNORECASE)

# Decorator attributes that register a web route: @app.post("/"), @router.get, @bp.route, …
_ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "websocket_route", "head", "options"}
)
_ENDPOINT_DECORATORS = frozenset({"web_endpoint", "fastapi_endpoint"})  # Modal
# Calls that register a function as a route handler: Starlette Route(...), app.add_api_route, …
_ROUTE_REGISTRARS = frozenset(
    {"Route", "WebSocketRoute", "add_api_route", "add_url_rule", "add_route", "add_websocket_route", "add_api_websocket_route"}
)
_GRADIO_HANDLERS = frozenset({"Interface", "ChatInterface", "click", "submit", "change"})
_CACHE_DECORATORS = frozenset(
    {"lru_cache", "cache", "cached", "cache_resource", "singleton", "experimental_singleton", "memoize", "alru_cache", "cached_property"}
)
# Functions that run once per process (constructors, startup hooks, SageMaker's model_fn,
# lifespans, test fixtures): loading a model there is the right thing to do.
_ONCE_FUNCTIONS = frozenset(
    {"__init__", "__post_init__", "__enter__", "__aenter__", "model_fn", "setup", "setUp", "setUpClass", "initialize", "startup", "on_startup", "lifespan"}
)
_ONCE_DECORATORS = frozenset({"on_event", "enter", "asynccontextmanager", "contextmanager", "fixture"})
# Methods that return the same model: model = model.to("cuda").eval()
_ALIAS_METHODS = frozenset({"to", "cuda", "cpu", "eval", "train", "half", "bfloat16", "float", "requires_grad_", "merge_and_unload"})
_WRAPPERS = frozenset({"get_peft_model", "prepare_model_for_kbit_training", "from_engine_args"})
# Arguments of generate()/pipe()/llm.generate() that carry the prompts.
_INPUT_KEYWORDS = frozenset(
    {"inputs", "input_ids", "inputs_embeds", "prompts", "prompt", "prompt_token_ids", "text_inputs", "messages", "text"}
)
_MUTATORS = frozenset({"append", "extend", "insert", "update", "add"})
_SAVERS = frozenset({"save_pretrained", "save_model"})
_NO = object()  # "not a literal" (None is a literal)


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    """Setups of one Python file. Raises ExtractError when the file does not parse."""
    if not _worth_parsing(text):
        return []
    module = _parse(text)
    try:
        positions = _positions(module)
        indexer = _Indexer(positions)
        module.visit(indexer)
        return _Extraction(path, positions, indexer, context).run()
    except RecursionError:
        raise ExtractError("too deeply nested to parse", 1) from None


def _positions(module: cst.Module) -> Mapping[cst.CSTNode, CodeRange]:
    """Line/column of every node.

    MetadataWrapper.resolve also walks the whole tree once for batchable providers even when
    none is requested, which costs more than the positions themselves; the provider's own
    computation is called directly, with the public path kept for libcst versions where that
    internal hook differs.
    """
    provider = PositionProvider()
    try:
        provider._gen_impl(module)
        computed = provider._computed
    except (AttributeError, TypeError):
        computed = None
    if isinstance(computed, Mapping) and module in computed:
        return computed
    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _worth_parsing(text: str) -> bool:
    """A first look with the stdlib parser: syntax, nesting, and whether any loading call exists.

    libcst's native parser crashes the whole process (a segfault, not an exception) on a few
    thousand nested brackets, unary operators or conditional expressions, and takes seconds on
    long operator chains; ast.parse fails fast on all of them and costs a tenth of a libcst
    parse. The same walk finds the calls a setup starts at, so a file whose trigger tokens are
    only in strings, comments or other names is never handed to libcst at all.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not ours to report
            tree = ast.parse(text)
    except SyntaxError as exc:
        reason = exc.msg or "invalid syntax"
        if "too many nested" in reason or "too complex" in reason:
            raise ExtractError("too deeply nested to parse", exc.lineno or 1) from None
        raise ExtractError(f"invalid Python syntax: {reason}", exc.lineno or 1) from None
    except (RecursionError, MemoryError):
        raise ExtractError("too deeply nested to parse", 1) from None
    except ValueError as exc:  # null bytes
        raise ExtractError(f"cannot parse: {exc}", 1) from None
    called: set[str] = set()
    loaders = set(_LOADER_CALLS)
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_NESTING:
            raise ExtractError("too deeply nested to parse", getattr(node, "lineno", 1))
        if isinstance(node, ast.Call):
            func = node.func
            called.add(func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else "")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            loaders.update(a.asname for a in node.names if a.asname and a.name.rsplit(".", 1)[-1] in _LOADER_CALLS)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return bool(called & loaders)


def _parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        reason = str(exc.message).removeprefix("parser error: ").splitlines()[0]
        raise ExtractError(f"invalid Python syntax: {reason}", max(1, exc.raw_line)) from None
    except RecursionError:
        raise ExtractError("too deeply nested to parse", 1) from None


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
    value: cst.BaseExpression | None
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
class _Function:
    node: cst.FunctionDef
    name: str
    scope: _Scope
    outer: _Function | None
    method_of: _Class | None
    returns: list[cst.BaseExpression] = field(default_factory=list)

    def params(self) -> list[cst.Param]:
        p = self.node.params
        return [*p.posonly_params, *p.params, *p.kwonly_params]

    def positional(self) -> list[cst.Param]:
        p = self.node.params
        return [*p.posonly_params, *p.params]

    def chain(self) -> Iterable[_Function]:
        fn: _Function | None = self
        while fn is not None:
            yield fn
            fn = fn.outer


@dataclass(eq=False)
class _Class:
    node: cst.ClassDef
    name: str
    scope: _Scope
    self_bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    methods: dict[str, _Function] = field(default_factory=dict)


@dataclass(eq=False)
class _Loop:
    target: cst.BaseExpression
    iter: cst.BaseExpression
    body: cst.CSTNode | None  # a for statement's body; None for a comprehension clause


@dataclass(eq=False)
class _Site:
    """A call and where it sits: scope, innermost function, loops and if-tests around it."""

    node: cst.Call
    scope: _Scope
    function: _Function | None
    loops: tuple[_Loop, ...]
    guards: tuple[cst.BaseExpression, ...]


class _Indexer(cst.CSTVisitor):
    """Walks the module once; loops and if-guards are reset at each function boundary."""

    def __init__(self, positions: Any) -> None:
        super().__init__()
        self._pos = positions
        self.module = _Scope("module", None)
        self.scope = self.module
        self.function: _Function | None = None
        self.loops: tuple[_Loop, ...] = ()
        self.guards: tuple[cst.BaseExpression, ...] = ()
        self.calls: list[_Site] = []
        self.functions: list[_Function] = []
        self.classes: dict[str, _Class] = {}
        self.qualified: dict[str, str] = {}  # local name → dotted import path
        self.attr_bindings: dict[str, list[_Binding]] = {}  # app.state.model = … (not self.x)

    def _line(self, node: cst.CSTNode) -> int:
        return self._pos[node].start.line

    # -- scopes ------------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            decorator.visit(self)
        node.params.visit(self)  # defaults are evaluated in the enclosing scope
        method_of = self.scope.cls if self.scope.kind == "class" else None
        self_cls = method_of or (self.scope.cls if self.scope.kind == "function" else None)
        scope = _Scope("function", self.scope, cls=self_cls)
        info = _Function(node, node.name.value, scope, self.function, method_of)
        scope.function = info
        self.functions.append(info)
        if method_of is not None:
            method_of.methods.setdefault(info.name, info)
        self._bind(info.name, _Binding(self._line(node), None, self.scope))
        saved = (self.scope, self.function, self.loops, self.guards)
        self.scope, self.function, self.loops, self.guards = scope, info, (), ()
        node.body.visit(self)
        self.scope, self.function, self.loops, self.guards = saved
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for decorator in node.decorators:
            decorator.visit(self)
        for arg in (*node.bases, *node.keywords):
            arg.visit(self)
        scope = _Scope("class", self.scope)
        info = _Class(node, node.name.value, scope)
        scope.cls = info
        self.classes.setdefault(info.name, info)
        self._bind(info.name, _Binding(self._line(node), None, self.scope))
        saved = self.scope
        self.scope = scope
        node.body.visit(self)
        self.scope = saved
        return False

    # -- control flow ------------------------------------------------------------------------

    def visit_If(self, node: cst.If) -> bool:
        if _is_dead(node.test):
            if node.orelse is not None:
                node.orelse.visit(self)
            return False
        node.test.visit(self)
        saved = self.guards
        self.guards = saved + (node.test,)
        node.body.visit(self)
        self.guards = saved
        if node.orelse is not None:
            node.orelse.visit(self)
        return False

    def visit_While(self, node: cst.While) -> bool:
        if _is_dead(node.test):
            if node.orelse is not None:
                node.orelse.visit(self)
            return False
        return True

    def visit_For(self, node: cst.For) -> bool:
        node.iter.visit(self)
        self._bind_target(node.target, None)
        saved = self.loops
        self.loops = saved + (_Loop(node.target, node.iter, node.body),)
        node.body.visit(self)
        self.loops = saved
        if node.orelse is not None:
            node.orelse.visit(self)
        return False

    def _comprehension(self, node: Any, parts: Iterable[cst.CSTNode]) -> bool:
        first = node.for_in
        first.iter.visit(self)  # the first iterable is evaluated outside the comprehension
        clauses = []
        clause = first
        while clause is not None:
            clauses.append(clause)
            clause = clause.inner_for_in
        saved = self.loops
        self.loops = saved + tuple(_Loop(c.target, c.iter, None) for c in clauses)
        for part in parts:
            part.visit(self)
        for c in clauses:
            if c is not first:
                c.iter.visit(self)
            for condition in c.ifs:
                condition.visit(self)
        self.loops = saved
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._comprehension(node, [node.key, node.value])

    # -- calls and returns -------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> bool:
        self.calls.append(_Site(node, self.scope, self.function, self.loops, self.guards))
        return True

    def visit_Return(self, node: cst.Return) -> bool:
        if self.function is not None and node.value is not None:
            self.function.returns.append(node.value)
        return True

    # -- bindings ----------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> bool:
        for target in node.targets:
            self._bind_target(target.target, node.value)
        return True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if node.value is not None:
            self._bind_target(node.target, node.value)
        return True

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        self._bind_target(node.target, None)
        return True

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self._bind_target(node.target, node.value)
        return True

    def visit_WithItem(self, node: cst.WithItem) -> bool:
        if node.asname is not None:
            self._bind_target(node.asname.name, None)
        return True

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        if node.name is not None:
            self._bind_target(node.name.name, None)
        return True

    def visit_Global(self, node: cst.Global) -> bool:
        self.scope.globals.update(item.name.value for item in node.names)
        return True

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local, target = alias.asname.name.value, dotted
            else:
                local = target = dotted.split(".")[0]
            self.qualified[local] = target
            self._bind(local, _Binding(self._line(node), None, self.scope, ref=_ImportRef(target, 0, None)))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            return False
        level = len(node.relative)
        module = _dotted(node.module) if node.module is not None else ""
        for alias in node.names:
            name = _dotted(alias.name)
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            self.qualified[local] = "." * level + (f"{module}." if module else "") + name
            ref = _ImportRef(module, level, name)
            self._bind(local, _Binding(self._line(node), None, self.scope, ref=ref))
        return False

    def _bind(self, name: str, binding: _Binding) -> None:
        scope = self.module if name in self.scope.globals else self.scope
        scope.bindings.setdefault(name, []).append(binding)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None, index: int | None = None) -> None:
        line = self._line(target)
        if isinstance(target, cst.Name):
            self._bind(target.value, _Binding(line, value, self.scope, index))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for i, element in enumerate(target.elements):
                nested = value if index is None and not isinstance(element, cst.StarredElement) else None
                self._bind_target(element.value, nested, i if nested is not None else None)
        elif isinstance(target, cst.Attribute):
            self._bind_attribute(target, _Binding(line, value, self.scope, index))

    def _bind_attribute(self, target: cst.Attribute, binding: _Binding) -> None:
        if isinstance(target.value, cst.Name) and target.value.value == "self" and self.scope.cls is not None:
            self.scope.cls.self_bindings.setdefault(target.attr.value, []).append(binding)
            return
        dotted = _dotted_or_none(target)
        if dotted is not None:
            self.attr_bindings.setdefault(dotted, []).append(binding)


def _is_dead(test: cst.BaseExpression) -> bool:
    """`if False:`, `if 0:`, `if TYPE_CHECKING:` — code that never runs at inference time."""
    if isinstance(test, cst.Name):
        return test.value in ("False", "TYPE_CHECKING")
    if isinstance(test, cst.Integer):
        return test.value == "0"
    return isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"


def _dotted(node: cst.BaseExpression) -> str:
    dotted = _dotted_or_none(node)
    return dotted if dotted is not None else ""


def _dotted_or_none(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted_or_none(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _final_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


class _NameCollector(cst.CSTVisitor):
    """Names an expression reads (not attribute names or keyword names)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> bool:
        self.names.add(node.value)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def _names_in(nodes: Iterable[cst.CSTNode]) -> set[str]:
    collector = _NameCollector()
    for node in nodes:
        node.visit(collector)
    return collector.names


def _target_names(target: cst.BaseExpression) -> set[str]:
    """Names a target writes; `x[i] = …` and `x.a = …` count as writing x (not self)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return set().union(*(_target_names(e.value) for e in target.elements)) if target.elements else set()
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    if isinstance(target, (cst.Subscript, cst.Attribute)):
        base = target.value
        while isinstance(base, (cst.Subscript, cst.Attribute)):
            base = base.value
        if isinstance(base, cst.Name) and base.value not in ("self", "cls"):
            return {base.value}
    return set()


class _FlowCollector(cst.CSTVisitor):
    """(written names, read names) pairs of a block, for a small def-use closure."""

    def __init__(self) -> None:
        super().__init__()
        self.flows: list[tuple[set[str], set[str]]] = []

    def _add(self, target: cst.BaseExpression, *sources: cst.CSTNode) -> None:
        written = _target_names(target)
        if written:
            self.flows.append((written, _names_in(sources)))

    def visit_Assign(self, node: cst.Assign) -> bool:
        for target in node.targets:
            self._add(target.target, node.value)
        return True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if node.value is not None:
            self._add(node.target, node.value)
        return True

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        self._add(node.target, node.value, node.target)
        return True

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self._add(node.target, node.value)
        return True

    def visit_For(self, node: cst.For) -> bool:
        self._add(node.target, node.iter)
        return True

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        self._add(node.target, node.iter)
        return True

    def visit_WithItem(self, node: cst.WithItem) -> bool:
        if node.asname is not None:
            self._add(node.asname.name, node.item)
        return True

    def visit_Call(self, node: cst.Call) -> bool:
        # messages.append({"role": "user", "content": prompt}) makes messages carry the prompt.
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
            self._add(func.value, *node.args)
        # model.save_pretrained(tmp_dir, max_shard_size=size) writes a new checkpoint to tmp_dir.
        if isinstance(func, cst.Attribute) and func.attr.value in _SAVERS and node.args:
            self._add(node.args[0].value, *node.args)
        return True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _BodyScan(cst.CSTVisitor):
    """What a loop body holds: a `break` of its own, slices of outside data by the loop index."""

    def __init__(self, derived: set[str]) -> None:
        super().__init__()
        self.derived = derived
        self.breaks = False
        self.slices = False
        self._depth = 0

    def visit_Break(self, node: cst.Break) -> bool:
        if self._depth == 0:
            self.breaks = True
        return False

    def visit_For(self, node: cst.For) -> bool:
        node.iter.visit(self)
        self._depth += 1
        node.body.visit(self)
        self._depth -= 1
        return False

    def visit_While(self, node: cst.While) -> bool:
        self._depth += 1
        node.body.visit(self)
        self._depth -= 1
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        # prompts[i:i + bs] slices a batch out of outside data; decoded[len(prompt):] slices
        # the item's own output and says nothing about batching.
        for element in node.slice:
            if isinstance(element.slice, cst.Slice):
                bounds = [b for b in (element.slice.lower, element.slice.upper) if b is not None]
                if _names_in(bounds) & self.derived and not _names_in([node.value]) & self.derived:
                    self.slices = True
        return True


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Return(self, node: cst.Return) -> bool:
        self.found = True
        return False


# ---------------------------------------------------------------------------------------------
# Pass 2: values, setups and signals
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Value:
    value: Any
    node: cst.CSTNode | None  # where the value is written in this file; None: another file
    how: str


@dataclass(frozen=True, eq=False)
class _Entry:
    """A keyword argument, dict element or positional argument: its value and its own node."""

    value: cst.BaseExpression
    node: cst.CSTNode
    scope: _Scope


@dataclass(frozen=True, eq=False)
class _Handle:
    """What an expression refers to: a setup, seen as a model, a pipeline, an LLM or an engine."""

    setup: Setup
    kind: str  # model | pipeline | llm | engine


class _Extraction:
    """Pass 2 over one file's index: setups from loading calls, then the signals that need them
    (compile, generate per prompt or per request, reload per request), then labels."""

    def __init__(self, path: str, positions: Any, index: _Indexer, context: ExtractContext) -> None:
        self.path = path
        self.pos = positions
        self.index = index
        self.context = context
        self.setups: list[Setup] = []
        self.origin_site: dict[int, _Site] = {}  # id(setup) → the loading call's site
        self.by_call: dict[cst.Call, _Handle] = {}
        self.argparse: dict[str, tuple[cst.BaseExpression | None, str | None, cst.Call, _Scope]] = {}
        self.handlers: set[_Function] = set()
        self.batched: set[_Function] = set()
        self._callers: dict[_Function, list[_Site]] | None = None
        self._by_name: dict[str, list[_Function]] | None = None
        self._flows: dict[int, list[tuple[set[str], set[str]]]] = {}
        self._inference: dict[int, list[_Site]] | None = None
        self._has_pipelines = False
        self._file_dir: Path | None = None
        self._resolving: set[int] = set()

    # -- driver -------------------------------------------------------------------------------

    def run(self) -> list[Setup]:
        self._collect_argparse()
        self._collect_handlers()
        loaders = [(site, self._classify(site.node)) for site in self.index.calls]
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
        self._attach_labels()
        return self.setups

    # -- small helpers ------------------------------------------------------------------------

    def _line(self, node: cst.CSTNode) -> int:
        return self.pos[node].start.line

    def _loc(self, node: cst.CSTNode) -> Location:
        r = self.pos[node]
        return Location(self.path, r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def _where(self, value: _Value, entry: _Entry) -> Location:
        """Inline values point at their keyword; values read from a constant at the constant."""
        if value.node is None or value.node is entry.value:
            return self._loc(entry.node)
        return self._loc(value.node)

    def _qualified(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Name):
            return self.index.qualified.get(expr.value, expr.value)
        if isinstance(expr, cst.Attribute):
            base = self._qualified(expr.value)
            return None if base is None else f"{base}.{expr.attr.value}"
        return None

    def _positional(self, call: cst.Call, i: int, scope: _Scope) -> _Entry | None:
        args = [a for a in call.args if a.keyword is None and not a.star]
        return _Entry(args[i].value, args[i], scope) if i < len(args) else None

    def _kwargs(self, call: cst.Call, scope: _Scope) -> dict[str, _Entry]:
        """Keyword arguments, with `**mapping` expanded where the mapping resolves."""
        out: dict[str, _Entry] = {}
        for arg in call.args:
            if arg.keyword is not None:
                out[arg.keyword.value] = _Entry(arg.value, arg, scope)
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
        param = next((p for p in params if p.name.value == name), None)
        if param is None:
            return None
        positional = fn.positional()
        offset = 1 if fn.method_of is not None and positional and positional[0].name.value in ("self", "cls") else 0
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
    def _argument_for(call: cst.Call, name: str, index: int | None) -> Any:
        positional = 0
        for arg in call.args:
            if arg.keyword is not None:
                if arg.keyword.value == name:
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

    def _attribute_bindings(self, expr: cst.Attribute, scope: _Scope) -> list[_Binding]:
        base, attr = expr.value, expr.attr.value
        if isinstance(base, cst.Name):
            cls = scope.cls if base.value in ("self", "cls") else self._local_class(base.value, scope)
            if cls is not None:
                found = list(reversed(cls.self_bindings.get(attr, []))) if base.value in ("self", "cls") else []
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

    def _resolve(self, expr: cst.BaseExpression | None, scope: _Scope, depth: int = 0) -> _Value | None:
        """The value an expression has without running anything, or None."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        literal = _literal(expr)
        if literal is not _NO:
            return _Value(literal, expr, "literal")
        if isinstance(expr, cst.Name):
            return self._resolve_name(expr, scope, depth)
        if isinstance(expr, cst.Attribute):
            return self._resolve_attribute(expr, scope, depth)
        if isinstance(expr, cst.Call):
            return self._resolve_call(expr, scope, depth)
        if isinstance(expr, cst.BinaryOperation):
            return self._resolve_binary(expr, scope, depth)
        if isinstance(expr, (cst.FormattedString, cst.ConcatenatedString)):
            return self._resolve_fstring(expr, scope, depth)
        if isinstance(expr, cst.BooleanOperation):
            return self._resolve_or(expr, scope, depth)
        if isinstance(expr, cst.IfExp):
            body, orelse = self._resolve(expr.body, scope, depth + 1), self._resolve(expr.orelse, scope, depth + 1)
            same = body is not None and orelse is not None and body.value == orelse.value
            return body if same else None
        if isinstance(expr, cst.Subscript):
            return self._resolve_subscript(expr, scope, depth)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            inner = self._resolve(expr.expression, scope, depth + 1)
            if inner is not None and _is_number(inner.value):
                return _Value(-inner.value, expr if inner.node is expr.expression else inner.node, inner.how)
        return None

    def _resolve_name(self, name: cst.Name, scope: _Scope, depth: int) -> _Value | None:
        dtype = self._torch_dtype(name)
        if dtype is not None:
            return _Value(dtype, name, "literal")
        bindings, alternatives = self._definitions(name.value, self._line(name), scope)
        values = []
        for binding in bindings:
            value = self._resolve_binding(binding, name.value, depth)
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

    def _resolve_attribute(self, expr: cst.Attribute, scope: _Scope, depth: int) -> _Value | None:
        dtype = self._torch_dtype(expr)
        if dtype is not None:
            return _Value(dtype, expr, "literal")
        for binding in self._attribute_bindings(expr, scope):
            value = self._resolve_binding(binding, expr.attr.value, depth)
            if value is not None:
                return value
        base = expr.value
        if not isinstance(base, cst.Name) or base.value in ("self", "cls"):
            return None
        bindings, _ = self._definitions(base.value, self._line(base), scope)
        ref = next((b.ref for b in bindings if b.ref is not None), None)
        if ref is not None:
            return self._imported(ref, expr.attr.value)
        return self._argparse_default(expr.attr.value, depth)

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
        return _Value(value.value, value.node, "argparse-default" if value.how in ("literal", "constant") else value.how)

    def _resolve_call(self, call: cst.Call, scope: _Scope, depth: int) -> _Value | None:
        qualified = self._qualified(call.func) or ""
        if qualified in ("os.environ.get", "os.getenv", "os.environ.setdefault"):
            default = self._positional(call, 1, scope) or self._kwargs(call, scope).get("default")
            value = None if default is None else self._resolve(default.value, scope, depth + 1)
            return None if value is None else _Value(value.value, value.node, "env-default")
        if qualified in ("int", "float", "str") and len(call.args) == 1:
            inner = self._resolve(call.args[0].value, scope, depth + 1)
            converted = _convert(qualified, None if inner is None else inner.value)
            return None if converted is _NO else _Value(converted, inner.node, inner.how)  # type: ignore[union-attr]
        if qualified == "os.path.join":
            parts = [self._resolve(a.value, scope, depth + 1) for a in call.args]
            if parts and all(p is not None and isinstance(p.value, str) for p in parts):
                return _Value(posixpath.join(*(p.value for p in parts)), call, _weakest(parts))  # type: ignore[union-attr]
        if qualified == "getattr" and len(call.args) >= 2 and self._qualified(call.args[0].value) == "torch":
            name = self._resolve(call.args[1].value, scope, depth + 1)
            if name is not None and name.value in _TORCH_DTYPES:
                return _Value(name.value, name.node, name.how)
        return None

    def _resolve_binary(self, expr: cst.BinaryOperation, scope: _Scope, depth: int) -> _Value | None:
        if not isinstance(expr.operator, cst.Add):
            return None
        left, right = self._resolve(expr.left, scope, depth + 1), self._resolve(expr.right, scope, depth + 1)
        if left is None or right is None:
            return None
        both_str = isinstance(left.value, str) and isinstance(right.value, str)
        if not both_str and not (_is_number(left.value) and _is_number(right.value)):
            return None
        return _Value(left.value + right.value, expr, _weakest([left, right]))

    def _resolve_fstring(self, expr: cst.BaseExpression, scope: _Scope, depth: int) -> _Value | None:
        """f"{ORG}/{NAME}" and implicit concatenations of them, when every part resolves."""
        if isinstance(expr, cst.ConcatenatedString):
            left, right = self._resolve(expr.left, scope, depth + 1), self._resolve(expr.right, scope, depth + 1)
            if left is None or right is None or not isinstance(left.value, str) or not isinstance(right.value, str):
                return None
            return _Value(left.value + right.value, expr, _weakest([left, right]))
        assert isinstance(expr, cst.FormattedString)
        pieces: list[str] = []
        values: list[_Value] = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value.replace("{{", "{").replace("}}", "}"))
                continue
            if not isinstance(part, cst.FormattedStringExpression) or part.conversion or part.format_spec:
                return None
            value = self._resolve(part.expression, scope, depth + 1)
            if value is None or not isinstance(value.value, (str, int, float)):
                return None
            pieces.append(str(value.value))
            values.append(value)
        return _Value("".join(pieces), expr, _weakest(values) if values else "literal")

    def _resolve_or(self, expr: cst.BooleanOperation, scope: _Scope, depth: int) -> _Value | None:
        """`os.environ.get("X") or "default"` → the default, learnt as an env default."""
        if not isinstance(expr.operator, cst.Or):
            return None
        left = self._resolve(expr.left, scope, depth + 1)
        if left is not None and left.value:
            return left
        right = self._resolve(expr.right, scope, depth + 1)
        if right is None:
            return None
        if left is None and self._is_env_lookup(expr.left):
            return _Value(right.value, right.node, "env-default")
        return right if left is not None else None

    def _is_env_lookup(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            return self._qualified(expr.func) in ("os.environ.get", "os.getenv")
        if isinstance(expr, cst.Subscript):
            return self._qualified(expr.value) == "os.environ"
        return False

    def _resolve_subscript(self, expr: cst.Subscript, scope: _Scope, depth: int) -> _Value | None:
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return None
        key = self._resolve(expr.slice[0].slice.value, scope, depth + 1)
        if key is None or not isinstance(key.value, str):
            return None
        entry = (self._mapping(expr.value, scope, depth + 1) or {}).get(key.value)
        if entry is None:
            return None
        value = self._resolve(entry.value, entry.scope, depth + 1)
        return None if value is None else _Value(value.value, value.node, "constant" if value.how == "literal" else value.how)

    def _torch_dtype(self, expr: cst.BaseExpression) -> str | None:
        qualified = self._qualified(expr) or ""
        if qualified.startswith("torch.") and qualified[6:] in _TORCH_DTYPES:
            return qualified[6:]
        return None

    def _mapping(self, expr: cst.BaseExpression | None, scope: _Scope, depth: int = 0) -> dict[str, _Entry] | None:
        """A dict the code builds: literal, `{**BASE, k: v}`, `dict(BASE, k=v)`, `a | b`, by name."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Dict):
            return self._dict_literal(expr, scope, depth)
        if isinstance(expr, cst.Call):
            return self._dict_call(expr, scope, depth)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            left, right = self._mapping(expr.left, scope, depth + 1), self._mapping(expr.right, scope, depth + 1)
            return None if left is None or right is None else {**left, **right}
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None:
                found = self._mapping(_element(binding.value, binding.index), binding.scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _dict_literal(self, expr: cst.Dict, scope: _Scope, depth: int) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for element in expr.elements:
            if isinstance(element, cst.StarredDictElement):
                out.update(self._mapping(element.value, scope, depth + 1) or {})
                continue
            key = self._resolve(element.key, scope, depth + 1)
            if key is not None and isinstance(key.value, str):
                out[key.value] = _Entry(element.value, element, scope)
        return out

    def _dict_call(self, call: cst.Call, scope: _Scope, depth: int) -> dict[str, _Entry] | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "copy" and not call.args:
            return self._mapping(func.value, scope, depth + 1)
        if self._qualified(func) != "dict":
            return None
        out: dict[str, _Entry] = {}
        for arg in call.args:
            if arg.keyword is not None:
                out[arg.keyword.value] = _Entry(arg.value, arg, scope)
            elif arg.star in ("", "**"):
                out.update(self._mapping(arg.value, scope, depth + 1) or {})
        return out

    def _bindings_of(self, expr: cst.BaseExpression, scope: _Scope) -> list[_Binding]:
        if isinstance(expr, cst.Name):
            return self._definitions(expr.value, self._line(expr), scope)[0]
        if isinstance(expr, cst.Attribute):
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
        found = _module_constants(module, ref.level, self._dir(), self.context, 0).get(name)
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
            self._file_dir = _locate(Path(self.path), self.context.root).parent
        return self._file_dir

    # -- the index's second look: argparse options and web handlers ---------------------------

    def _collect_argparse(self) -> None:
        """`parser.add_argument("--model-id", default=…)` → dest model_id with its default."""
        for site in self.index.calls:
            call = site.node
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
                continue
            flags = [_literal(a.value) for a in call.args if a.keyword is None and not a.star]
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
            name = _final_name(site.node.func)
            registrar = name in _ROUTE_REGISTRARS or (uses_gradio and name in _GRADIO_HANDLERS)
            if not registrar:
                continue
            for arg in site.node.args:
                if arg.keyword is None or arg.keyword.value in ("endpoint", "view_func", "fn"):
                    self.handlers.update(self._callees(arg.value, site.scope))

    def _classify_function(self, fn: _Function) -> None:
        for decorator in fn.node.decorators:
            expr = decorator.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            name = _final_name(target)
            qualified = self._qualified(target) or ""
            if (name in _ROUTE_DECORATORS and isinstance(expr, cst.Call)) or name in _ENDPOINT_DECORATORS:
                self.handlers.add(fn)
            elif name == "api" and qualified.startswith("bentoml"):
                self.handlers.add(fn)
                if isinstance(expr, cst.Call) and self._truthy(self._kwargs(expr, fn.scope).get("batchable")):
                    self.batched.add(fn)
            elif name == "batch" and "serve" in qualified:
                self.batched.add(fn)
        if fn.name == "__call__" and fn.method_of is not None and self._is_serve_deployment(fn.method_of):
            self.handlers.add(fn)

    def _is_serve_deployment(self, cls: _Class) -> bool:
        for decorator in cls.node.decorators:
            expr = decorator.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if _final_name(target) == "deployment" and "serve" in (self._qualified(target) or ""):
                return True
        return False

    @staticmethod
    def _decorator_names(fn: _Function) -> set[str]:
        names = set()
        for decorator in fn.node.decorators:
            expr = decorator.decorator
            name = _final_name(expr.func if isinstance(expr, cst.Call) else expr)
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

    def _callees(self, expr: cst.BaseExpression, scope: _Scope) -> list[_Function]:
        """Local functions an expression names: f, self.method, obj.method of a local class."""
        if isinstance(expr, cst.Name):
            cls = self._local_class(expr.value, scope)
            if cls is not None:
                return [m for m in (cls.methods.get("__init__"),) if m is not None]
            return [fn for fn in self._functions_named().get(expr.value, ()) if fn.method_of is None]
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = expr.value.value
            if owner in ("self", "cls"):
                cls = scope.cls
                method = None if cls is None else cls.methods.get(expr.attr.value)
                return [method] if method is not None else []
            return self._instance_methods(expr, scope)
        return []

    def _instance_methods(self, expr: cst.Attribute, scope: _Scope) -> list[_Function]:
        """engine.answer(...) where engine = Engine(...) and Engine is a class of this module."""
        assert isinstance(expr.value, cst.Name)
        for binding in self._definitions(expr.value.value, self._line(expr), scope)[0]:
            value = binding.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
                cls = self._local_class(value.func.value, binding.scope)
                method = None if cls is None else cls.methods.get(expr.attr.value)
                if method is not None:
                    return [method]
        return []

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
            for site in self.index.calls:
                targets = [site.node.func] + [a.value for a in site.node.args if isinstance(a.value, (cst.Name, cst.Attribute))]
                for target in targets:
                    for fn in self._callees(target, site.scope):
                        self._callers.setdefault(fn, []).append(site)
        return self._callers

    def _callers_of(self, fn: _Function) -> list[_Site]:
        return self._callers_map().get(fn, [])

    # -- what a model-handling expression refers to -------------------------------------------

    def _handle(
        self, expr: cst.BaseExpression | None, scope: _Scope, depth: int = 0, index: int | None = None, *, base: bool = True
    ) -> _Handle | None:
        """The setup an expression refers to. ``base``: `model.forward` or `pipe.model` refer to the
        model through their base (not wanted when asking whether the model itself is called)."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Await):
            return self._handle(expr.expression, scope, depth + 1, index)
        if isinstance(expr, (cst.Tuple, cst.List)):
            element = _element(expr, index)
            return None if element is None or element is expr else self._handle(element, scope, depth + 1)
        if isinstance(expr, cst.Call):
            return self._handle_of_call(expr, scope, depth, index)
        if isinstance(expr, (cst.Name, cst.Attribute)):
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
            if base and isinstance(expr, cst.Attribute):  # model.forward, pipe.model, model.module
                return self._handle(expr.value, scope, depth + 1)
        return None

    def _handle_of_call(self, call: cst.Call, scope: _Scope, depth: int, index: int | None) -> _Handle | None:
        known = self.by_call.get(call)
        if known is not None:
            return known if index in (None, 0) else None
        func = call.func
        first = self._positional(call, 0, scope)
        if self._is_torch_compile(func) or _final_name(func) in _WRAPPERS:
            return None if first is None else self._handle(first.value, scope, depth + 1)
        if isinstance(func, cst.Attribute):
            if func.attr.value in _ALIAS_METHODS:
                return self._handle(func.value, scope, depth + 1)
            if func.attr.value == "from_pretrained" and (_final_name(func.value) or "").lower().startswith("peftmodel"):
                return None if first is None else self._handle(first.value, scope, depth + 1)
        for fn in self._callees(func, scope):
            for returned in fn.returns:
                found = self._handle(returned, fn.scope, depth + 1, index)
                if found is not None:
                    return found
        return None

    def _is_torch_compile(self, func: cst.BaseExpression) -> bool:
        return self._qualified(func) == "torch.compile"

    # -- model-loading calls ------------------------------------------------------------------

    def _classify(self, call: cst.Call) -> str | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "from_pretrained":
            return "from_pretrained" if _loads_a_model(func.value) else None
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
        converted = None if value is None else convert(value.value)
        if converted is None:
            return False
        setup.set(name, converted, self._where(value, entry), value.how)  # type: ignore[arg-type]
        return True

    def _from_pretrained(self, site: _Site) -> Setup:
        call, scope = site.node, site.scope
        setup = Setup("transformers", origin=self._loc(call), kind="python")
        kwargs = self._kwargs(call, scope)
        self._set_model(setup, self._positional(call, 0, scope) or kwargs.get("pretrained_model_name_or_path"))
        self._apply_load_kwargs(setup, kwargs)
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
        load_kwargs = dict(self._mapping(kwargs["model_kwargs"].value, scope) or {}) if "model_kwargs" in kwargs else {}
        load_kwargs.update({k: v for k, v in kwargs.items() if k in ("torch_dtype", "dtype", "quantization_config")})
        self._apply_load_kwargs(setup, load_kwargs)
        self._set(setup, BATCH_SIZE, kwargs.get("batch_size"), _int)
        self._register(site, setup, "pipeline")

    def _vllm(self, site: _Site) -> Setup:
        call, scope = site.node, site.scope
        setup = Setup("vllm", origin=self._loc(call), kind="python")
        kwargs = self._kwargs(call, scope)
        self._set_model(setup, kwargs.get("model") or self._positional(call, 0, scope))
        quantized = self._vllm_quantization(setup, kwargs.get("quantization"))
        self._set(setup, COMPUTE_DTYPE if quantized else PRECISION, kwargs.get("dtype"), _dtype)
        self._set(setup, KV_CACHE_DTYPE, kwargs.get("kv_cache_dtype"), lambda v: _string(v) if v != "auto" else None)
        self._set(setup, ENFORCE_EAGER, kwargs.get("enforce_eager"), _bool)
        self._set(setup, TENSOR_PARALLEL, kwargs.get("tensor_parallel_size"), _int)
        self._set(setup, BATCH_SIZE, kwargs.get("max_num_seqs"), _int)
        self._set(setup, ATTN_IMPLEMENTATION, kwargs.get("attn_implementation"), _string)
        return setup

    def _vllm_quantization(self, setup: Setup, entry: _Entry | None) -> bool:
        if entry is None:
            return False
        value = self._resolve(entry.value, entry.scope)
        if value is None or not isinstance(value.value, str) or not value.value:
            return False
        method = value.value.lower()
        where = self._loc(entry.node)
        setup.set(QUANT_CONFIG, "vllm", where)
        if method == "bitsandbytes":
            # vLLM quantizes a full-precision checkpoint in flight to 4-bit; 8-bit only comes from
            # a checkpoint that is already 8-bit (its config carries the threshold, not exposed).
            if re.search(r"8-?bit|int8", str(setup.get(MODEL, "")), re.IGNORECASE):
                setup.set(PRECISION, "int8", where, "implied")
                setup.set(LLM_INT8_THRESHOLD, _DEFAULT_INT8_THRESHOLD, where, "implied")
                setup.set(THRESHOLD_EXPOSED, False, where, "implied")
            else:
                setup.set(PRECISION, "nf4", where, "implied")
        elif method in _VLLM_FP8:
            setup.set(PRECISION, "fp8", self._where(value, entry), value.how)
        else:
            setup.set(PRECISION, method, self._where(value, entry), value.how)
        return True

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

    def _is_float8(self, expr: cst.BaseExpression, scope: _Scope, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.Call):
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
            if binding.value is not None and self._is_float8(_element(binding.value, binding.index) or binding.value, binding.scope, depth + 1):
                return True
        return False

    # -- quantization configs -----------------------------------------------------------------

    def _quant(self, expr: cst.BaseExpression | None, scope: _Scope, depth: int = 0) -> dict[str, Fact] | None:
        """Facts of a quantization_config value, followed through names, branches and dicts."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            return self._quant_call(expr, scope)
        if isinstance(expr, cst.Dict):
            entries = self._mapping(expr, scope) or {}
            return self._bnb(entries, expr)
        if isinstance(expr, cst.IfExp):  # config if args.quantize else None
            return self._quant(expr.body, scope, depth + 1) or self._quant(expr.orelse, scope, depth + 1)
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None:
                found = self._quant(_element(binding.value, binding.index), binding.scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _quant_call(self, call: cst.Call, scope: _Scope) -> dict[str, Fact] | None:
        func = call.func
        name = _final_name(func)
        if name == "BitsAndBytesConfig":
            return self._bnb(self._kwargs(call, scope), call)
        if name == "from_dict" and isinstance(func, cst.Attribute) and _final_name(func.value) == "BitsAndBytesConfig":
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

    def _bnb(self, entries: dict[str, _Entry], anchor: cst.CSTNode | None) -> dict[str, Fact] | None:
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

    # -- torch.compile ------------------------------------------------------------------------

    def _attach_compile(self) -> None:
        """COMPILED for transformers/torchao setups: True at a compile of that model, else False."""
        compiled: dict[int, cst.CSTNode] = {}
        for site in self.index.calls:
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
                setup.set(COMPILED, False, setup.where(QUANT_CONFIG) if setup.has(QUANT_CONFIG) else setup.origin, "implied")

    def _compile_target(self, call: cst.Call) -> cst.BaseExpression | None:
        """torch.compile(model) / torch.compile(model.forward) / model.compile()."""
        func = call.func
        if self._is_torch_compile(func):
            first = next((a.value for a in call.args if a.keyword is None and not a.star), None)
            if first is None:
                first = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "model"), None)
            return first
        if isinstance(func, cst.Attribute) and func.attr.value == "compile" and self._qualified(func.value) not in ("re", "torch"):
            return func.value
        return None

    def _only_setup(self, expr: cst.BaseExpression, scope: _Scope) -> _Handle | None:
        """The module's one setup, for an expression bound to nothing this module knows of.

        A parameter called `model`, or an attribute set elsewhere, most likely is that model; a
        name bound here to something else (`client = OpenAI()`) is not.
        """
        if len(self.setups) != 1:
            return None
        root = expr
        while isinstance(root, cst.Attribute):
            if self._attribute_bindings(root, scope):
                return None
            root = root.value
        if not isinstance(root, cst.Name) or root.value == "cls":
            return None
        if root.value != "self":
            bindings, _ = self._definitions(root.value, self._line(root), scope)
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

    def _generate_uses(self, site: _Site) -> list[tuple[cst.BaseExpression, list[cst.BaseExpression], bool]]:
        """(receiver-or-callee, prompt arguments, handler-only) for generation at this call.

        model.generate(…), llm.generate(…)/llm.chat(…), pipe(…); and Thread(target=model.generate)
        (streaming servers), where only the per-request signal applies.
        """
        call = site.node
        func = call.func
        uses = []
        if isinstance(func, cst.Attribute) and func.attr.value in ("generate", "chat"):
            uses.append((func, _inputs(call), False))
        elif self._has_pipelines and isinstance(func, (cst.Name, cst.Attribute)):
            handle = self._handle(func, site.scope)
            if handle is not None and handle.kind == "pipeline":
                uses.append((func, _inputs(call), False))
        for arg in call.args:
            value = arg.value
            if isinstance(value, cst.Attribute) and value.attr.value == "generate":
                uses.append((value, [], True))
        return uses

    def _generate_handle(self, target: cst.BaseExpression, site: _Site) -> _Handle | None:
        if isinstance(target, cst.Attribute) and target.attr.value in ("generate", "chat"):
            receiver = target.value
            handle = self._handle(receiver, site.scope)
            if handle is None:
                handle = self._only_setup(receiver, site.scope)
            if handle is not None and target.attr.value == "chat" and handle.kind != "llm":
                return None
            return handle
        return self._handle(target, site.scope)

    def _single_request(self, site: _Site, inputs: list[cst.BaseExpression], handler_only: bool) -> str | None:
        if self._in_handler(site):
            return "handler"
        if handler_only:
            return self._via_callers(site.function, [], handler_only=True)
        if self._per_item(site, inputs):
            return "loop"
        return self._via_callers(site.function, inputs, handler_only=False)

    def _via_callers(self, fn: _Function | None, inputs: list[cst.BaseExpression], handler_only: bool, depth: int = 1) -> str | None:
        """generate() in a helper: a handler calling the helper (up to three calls away), or a
        per-prompt loop calling it directly with the prompt that reaches generate()."""
        if fn is None or depth > 3:
            return None
        params = {p.name.value for p in fn.params()} - {"self", "cls"}
        fed = bool(_names_in(inputs) & self._derived(params, fn.node.body))
        for caller in self._callers_of(fn):
            if self._in_handler(caller):
                return "handler"
            if fed and depth == 1 and not handler_only and self._per_item(caller, _call_arguments(caller.node)):
                return "loop"
        for caller in self._callers_of(fn):
            if caller.function is not fn:
                found = self._via_callers(caller.function, [], True, depth + 1)
                if found is not None:
                    return found
        return None

    def _per_item(self, site: _Site, inputs: list[cst.BaseExpression]) -> bool:
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
            return not self._is_batch_loop(loop, derived)
        return False

    def _loop_derived(self, loop: _Loop) -> set[str]:
        seed = _target_names(loop.target)
        return seed if loop.body is None else self._derived(seed, loop.body)

    def _derived(self, seed: set[str], body: cst.CSTNode) -> set[str]:
        """Names computed from the seed names inside a block (a small def-use closure)."""
        flows = self._flows.get(id(body))
        if flows is None:
            collector = _FlowCollector()
            body.visit(collector)
            flows = self._flows[id(body)] = collector.flows
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
            scan = _BodyScan(derived)
            loop.body.visit(scan)
            return scan.slices
        return False

    def _batchy_iterable(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Call):
            name = _final_name(expr.func) or ""
            if name == "range":
                step = expr.args[2].value if len(expr.args) >= 3 else None
                return step is not None and not (isinstance(step, cst.Integer) and step.value == "1")
            if name == "DataLoader":  # batch_size defaults to 1
                size = next((a.value for a in expr.args if a.keyword is not None and a.keyword.value == "batch_size"), None)
                return size is not None and _literal(size) != 1
            if _BATCHY.search(name) or name in ("split", "array_split"):
                return True
            return any(self._batchy_iterable(a.value) for a in expr.args if a.keyword is None)
        name = _final_name(expr)
        return name is not None and bool(_BATCHY.search(name))

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
        self, site: _Site, args: list[cst.BaseExpression] | None, setup: Setup, helpers: tuple[_Function | None, ...]
    ) -> str | None:
        """"handler" or "loop" when this loading call runs again per request or loop item.

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
        params = {p.name.value for p in fn.params()} - {"self", "cls"}
        from_params = args is not None and bool(_names_in(args) & self._derived(params, fn.node.body))
        for caller in self._callers_of(fn):
            if caller.function is fn:
                continue
            found = self._reload(caller, _call_arguments(caller.node) if from_params else None, setup, helpers + (caller.function,))
            if found is not None:
                return found
        return None

    def _loads_once(self, site: _Site) -> bool:
        """Cached loaders, startup code, and lazy guards (`if model is None:`) load once."""
        for fn in site.function.chain() if site.function is not None else ():
            decorators = self._decorator_names(fn)
            if decorators & _CACHE_DECORATORS or decorators & _ONCE_DECORATORS or fn.name in _ONCE_FUNCTIONS:
                return True
        if any(_is_lazy_test(test) for test in site.guards):
            return True
        return site.function is not None and self._early_return_guard(site.function, self._line(site.node))

    def _early_return_guard(self, fn: _Function, line: int) -> bool:
        """`if self.model is not None: return self.model` above the loading line."""
        body = fn.node.body
        if not isinstance(body, cst.IndentedBlock):
            return False
        for statement in body.body:
            if self._line(statement) >= line:
                break
            if isinstance(statement, cst.If) and _is_lazy_test(statement.test):
                finder = _Returns()
                statement.body.visit(finder)
                if finder.found:
                    return True
        return False

    def _reloads_in_loop(
        self, site: _Site, args: list[cst.BaseExpression] | None, setup: Setup, helpers: tuple[_Function | None, ...]
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
            if loop.body is not None:
                scan = _BodyScan(derived)
                loop.body.visit(scan)
                if scan.breaks:
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
                generating = isinstance(func, cst.Attribute) and func.attr.value in ("generate", "chat")
                if isinstance(func, (cst.Name, cst.Attribute)) and not generating:
                    handles.append(self._handle(func, site.scope, base=False))  # model(**inputs)
                for handle in handles:
                    if handle is not None:
                        self._inference.setdefault(id(handle.setup), []).append(site)
        return self._inference

    # -- labels -------------------------------------------------------------------------------

    def _attach_labels(self) -> None:
        """Label a setup with the name it is assigned to (`llm`, `self.model`) when a file has several."""
        if len(self.setups) < 2:
            return
        scopes = [self.index.module] + [fn.scope for fn in self.index.functions] + [c.scope for c in self.index.classes.values()]
        named: list[tuple[str, dict[str, list[_Binding]]]] = [("", s.bindings) for s in scopes]
        named += [("self.", c.self_bindings) for c in self.index.classes.values()]
        for prefix, bindings in named:
            for name, found in bindings.items():
                for binding in found:
                    handle = self.by_call.get(binding.value) if isinstance(binding.value, cst.Call) else None
                    if handle is not None and handle.setup.label is None:
                        handle.setup.label = prefix + name


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def _loads_a_model(receiver: cst.BaseExpression) -> bool:
    """from_pretrained on a model class, not a tokenizer/processor/config, nor super() or cls."""
    if isinstance(receiver, cst.Call):
        return _final_name(receiver.func) != "super"
    name = _final_name(receiver)
    return name is None or not _NOT_A_MODEL.search(name)


def _literal(expr: cst.BaseExpression) -> Any:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = expr.evaluated_value
        except Exception:  # noqa: BLE001 - odd escapes: not a value we can read
            return _NO
        return value if isinstance(value, str) else _NO
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return expr.evaluated_value
        except (ValueError, SyntaxError):
            return _NO
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    return _NO


def _element(expr: cst.BaseExpression | None, index: int | None) -> cst.BaseExpression | None:
    """The index-th element of a tuple/list literal; the expression itself when index is None."""
    if index is None or expr is None:
        return expr
    if isinstance(expr, (cst.Tuple, cst.List)):
        elements = expr.elements
        if index < len(elements) and not isinstance(elements[index], cst.StarredElement):
            return elements[index].value
        return None
    return expr if isinstance(expr, cst.Call) else None


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


def _inputs(call: cst.Call) -> list[cst.BaseExpression]:
    """The arguments of a generation call that carry prompts (not max_new_tokens, temperature…)."""
    out = []
    positional = 0
    for arg in call.args:
        if arg.star:
            out.append(arg.value)
        elif arg.keyword is None:
            if positional == 0:
                out.append(arg.value)
            positional += 1
        elif arg.keyword.value in _INPUT_KEYWORDS:
            out.append(arg.value)
    return out


def _call_arguments(call: cst.Call) -> list[cst.BaseExpression]:
    return [arg.value for arg in call.args]


def _is_batch_input(expr: cst.BaseExpression) -> bool:
    """[p1, p2] or [f(p) for p in group] passed as the prompts: a batch. A list of dicts is one
    chat conversation, not a batch."""
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return True
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return len(expr.elements) >= 2 and not all(isinstance(e.value, cst.Dict) for e in expr.elements)
    return False


def _is_lazy_test(test: cst.BaseExpression) -> bool:
    """`x is None`, `x is not None`, `key not in cache`, `not x`, `not hasattr(...)`."""
    if isinstance(test, cst.Comparison):
        return any(isinstance(t.operator, (cst.Is, cst.IsNot, cst.In, cst.NotIn)) for t in test.comparisons)
    if isinstance(test, cst.UnaryOperation):
        return isinstance(test.operator, cst.Not)
    if isinstance(test, cst.BooleanOperation):
        return _is_lazy_test(test.left) or _is_lazy_test(test.right)
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


def _locate(path: Path, root: Path) -> Path:
    """The file behind a display path: absolute, under the root, under the working directory,
    or under the part of the root the display path repeats (root …/fixtures/python, display
    fixtures/python/app.py)."""
    if path.is_absolute():
        return path
    candidates = [root / path, Path.cwd() / path]
    parts = root.parts
    for k in range(1, len(parts)):
        tail = parts[k:]
        if path.parts[: len(tail)] == tail:
            candidates.append(Path(*parts[:k]) / path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[0]


def _module_constants(module: str, level: int, from_dir: Path, context: ExtractContext, depth: int) -> dict[str, tuple[Any, str]]:
    """Module-level constants of a module of the scanned tree, memoised per run."""
    found = _find_module(module, level, from_dir, context)
    if found is None or depth > _MAX_IMPORT_DEPTH:
        return {}
    file, text = found
    key = ("ecolint.extract.python:constants", str(file))
    return context.cached(key, lambda: _read_constants(file, text, context, depth))  # type: ignore[return-value]


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
            text = context.cached(("ecolint.extract.python:source", str(candidate)), lambda c=candidate: context.read_text(c))
            if isinstance(text, str):
                return candidate, text
    return None


def _read_constants(file: Path, text: str, context: ExtractContext, depth: int) -> dict[str, tuple[Any, str]]:
    """Top-level `NAME = <str/number/bool>` (also env defaults, concatenations, re-exports)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    env: dict[str, tuple[Any, str]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom):
            imported = _module_constants(statement.module or "", statement.level, file.parent, context, depth + 1)
            for alias in statement.names:
                if alias.name in imported:
                    env[alias.asname or alias.name] = imported[alias.name]
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


# Other modules are read with ast and without their imports resolved: accept the usual spellings.
_AST_ENV_GETTERS = frozenset({"os.environ.get", "os.getenv", "environ.get", "getenv"})


def _ast_value(node: ast.expr, env: dict[str, tuple[Any, str]]) -> tuple[Any, str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value, "literal"
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _ast_value(node.left, env), _ast_value(node.right, env)
        if left is not None and right is not None and type(left[0]) is type(right[0]) and isinstance(left[0], (str, int, float)):
            return left[0] + right[0], "env-default" if "env-default" in (left[1], right[1]) else "literal"
        return None
    if isinstance(node, ast.JoinedStr):
        pieces = []
        for part in node.values:
            inner = _ast_value(part.value, env) if isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None else None
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
        if isinstance(first, ast.Call) and _ast_dotted(first.func) in _AST_ENV_GETTERS:
            default = _ast_value(node.values[1], env)
            return None if default is None else (default[0], "env-default")
    return None


def _ast_env_default(node: ast.Call, env: dict[str, tuple[Any, str]]) -> tuple[Any, str] | None:
    name = _ast_dotted(node.func)
    if name in _AST_ENV_GETTERS:
        default = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "default"), None)
        found = None if default is None else _ast_value(default, env)
        return None if found is None else (found[0], "env-default")
    if name in ("int", "float", "str") and len(node.args) == 1:
        inner = _ast_value(node.args[0], env)
        converted = _convert(name, None if inner is None else inner[0])
        return None if converted is _NO or inner is None else (converted, inner[1])
    return None


def _ast_dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None
