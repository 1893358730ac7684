"""Autofix: ``check --fix`` / ``--unsafe-fixes`` / ``--diff``.

A rule states WHAT it wants, as an intent on a fact (ecolint/intent.py: ``Unset(ENFORCE_EAGER)``,
``Set(LLM_INT8_THRESHOLD, 0.0)``). This module decides HOW: ``edit_for`` turns the intent and
the site where the setup writes that fact (a call keyword, a launcher flag and its value, as the
launcher's flag-table row names them) into a typed edit (ecolint/edits.py), stored in
``Finding.fix["edit"]``; the appliers below carry the edits out, per file kind:

* Python, with libcst: the node whose span is exactly the location (PositionProvider) is edited
  and the module emitted again; libcst round-trips every other byte, comments included.
  SetKeyword, ReplaceKeyword, DeleteKeyword, SetKeywordValue, InsertAfterStatement.

* every other kind (shell, Dockerfile, YAML, Modelfile): token-exact edits of the text.

  DeleteFlag       delete the flag (and its value) the location spans, plus one adjacent
                   separator (a space; a comma in a JSON/flow list); a YAML list item
                   ``- --flag`` loses its whole line, a line left empty goes (and a backslash
                   continuation that led to it); ``valued``: the flag takes a value, which on a
                   YAML list is the next item
  SetFlagValue     replace the value of ``--flag value`` / ``--flag=value``

An intent that fits no site gets no edit (the fact is read from an environment variable, a
positional, a framework that does not expose it), and an edit that does not fit what is at its
location is not applied: either way the finding stays with its snippet. Edits do not apply
where the value came from a constant, the call spreads ``**kwargs``, the value sits on the next
line of a shell continuation, the new code would name a module the file never imports.

Fixes run as in ruff: the edits of one file's findings that do not overlap are applied, the
file is audited again from the new text, and so on until nothing more applies. A pass whose
text does not parse again, or after which a fixed finding is still there, is dropped. A file
that does not parse to begin with is never touched. Last, the imports and variables the fixes
left unused go too (ecolint/dead_code.py), where the text then audits to the same findings.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import re
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from ecolint.dead_code import Removed, drop_unused
from ecolint.edits import (
    FLAG_EDITS,
    PYTHON_EDITS,
    DeleteFlag,
    DeleteKeyword,
    Edit,
    InsertAfterStatement,
    ReplaceKeyword,
    SetFlagValue,
    SetKeyword,
    SetKeywordValue,
    from_json,
)
from ecolint.extract.launchers.registry import launcher
from ecolint.extract.launchers.vocab import DELETE_FLAG, DELETE_KEYWORD, SET_FLAG_VALUE, Flag
from ecolint.finding import Finding
from ecolint.intent import Intent, Set, Unset
from ecolint.setups import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    DOUBLE_QUANT,
    LLM_INT8_THRESHOLD,
    PRECISION,
    QUANT_CONFIG,
    THRESHOLD_EXPOSED,
    Location,
    Setup,
)

MAX_PASSES = 8


# -- intent x site: the edit that carries out a rule's intent where the setup writes the fact ----


@dataclass(frozen=True)
class _Keyword:
    """A Python call keyword that holds a fact: ``name=value`` at the fact's location, or the call
    there, which would take it."""

    name: str | None = None  # None: the keyword argument at the location, whatever its name
    calls: tuple[str, ...] = ()  # the calls it fits (when a keyword is added to a call)
    read: tuple[str, ...] = ()  # the ways of reading the fact (Fact.how) that leave the value there
    rewrite: bool = False  # taking it out restores no better default: Unset writes `otherwise`


# Per (framework, fact), "*" for any framework: the keyword that holds the fact in Python, where
# no launcher's flag table names it (a launcher row's ``python`` keyword and ``python_edit`` do).
_KEYWORDS: dict[tuple[str, str], _Keyword] = {
    ("transformers", BATCH_SIZE): _Keyword("batch_size", rewrite=True),  # pipeline(…) or the pipeline's call
    ("*", ATTN_IMPLEMENTATION): _Keyword("attn_implementation"),
    ("*", DOUBLE_QUANT): _Keyword("bnb_4bit_use_double_quant"),
    ("*", COMPUTE_DTYPE): _Keyword(),  # torch_dtype= / dtype= / bnb_4bit_compute_dtype=
    # At the BitsAndBytesConfig call (threshold left out) or at its llm_int8_threshold=6.0; a
    # threshold read from a constant or an argument's default is not rewritten where it is used.
    ("*", LLM_INT8_THRESHOLD): _Keyword(
        "llm_int8_threshold", calls=("BitsAndBytesConfig", "from_dict"), read=("implied", "literal")
    ),
}

# Facts whose flag gets a new value in place: --dtype (its row sets PRECISION or COMPUTE_DTYPE,
# so it names no single fact to find it by).
_VALUE_FLAGS = frozenset({COMPUTE_DTYPE})
# A fact a framework may not expose, and the fact that says whether it does.
_EXPOSED_BY = {LLM_INT8_THRESHOLD: THRESHOLD_EXPOSED}
_DTYPE_FACTS = frozenset({PRECISION, COMPUTE_DTYPE})
_DTYPE_NAMES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}
_FP32_CODE = ("torch.float32", "torch.float", '"float32"', '"float"')


def _undo_row(framework: str, fact: str, *, python: bool = False) -> Flag | None:
    """The row of the launcher's flag table that sets ``fact`` and names the edit that undoes it
    on a command line (or, ``python``, at the keyword that mirrors the flag)."""
    found = launcher(framework)
    for row in found.flags() if found is not None else ():
        if row.fact == fact and (row.python_edit if python else row.edit) is not None:
            return row
    return None


def edit_for(intent: Intent, setup: Setup, anchor: Location | None = None) -> Edit | None:
    """The edit that carries out ``intent`` where ``setup`` writes its fact; None when no site of
    the setup fits it (the fix is then manual). The edit is at the fact's location, which it
    leaves unsaid (``at`` None) when that is ``anchor``, the finding's own location."""
    edit = _edit_for(intent, setup)
    if edit is None:
        return None
    at = edit.at or setup.where(intent.fact)
    return replace(edit, at=None if at == anchor else at)


def _edit_for(intent: Intent, setup: Setup) -> Edit | None:
    exposed_by = _EXPOSED_BY.get(intent.fact)
    if exposed_by is not None and setup.get(exposed_by) is False:
        return None  # the framework gives no place to write it
    if isinstance(intent, Set) and intent.fact == PRECISION:
        return _unquantize(setup, str(intent.value))
    if isinstance(intent, Set) and intent.fact == COMPILED:
        return _compile(setup) if intent.value is True else None
    fact = setup.facts.get(intent.fact)
    if fact is None:
        return None
    if setup.kind == "python":
        # A flag in an argv list the Python builds (a BentoML __command__) is a string element,
        # which no keyword edit reaches: the fix stays manual.
        return None if fact.how == "flag" else _keyword_edit(intent, setup, fact.how)
    if fact.how != "flag":
        return None  # an environment variable, a file name, a framework default
    if isinstance(intent, Set):
        return SetFlagValue(value=_flag_text(intent.fact, intent.value)) if intent.fact in _VALUE_FLAGS else None
    return _undo_flag(intent, setup)


def _keyword_edit(intent: Intent, setup: Setup, how: str) -> Edit | None:
    row = _undo_row(setup.framework, intent.fact, python=True)
    if row is not None and row.python is not None and isinstance(intent, Unset):
        return DeleteKeyword(keyword=row.python) if row.python_edit == DELETE_KEYWORD else None
    site = _KEYWORDS.get((setup.framework, intent.fact)) or _KEYWORDS.get(("*", intent.fact))
    if site is None or (site.read and how not in site.read):
        return None
    if isinstance(intent, Unset):
        if not site.rewrite:
            return DeleteKeyword(keyword=site.name)
        if intent.otherwise is None:
            return None
        intent = Set(intent.fact, intent.otherwise)
    value = _python_code(intent.fact, intent.value, setup.framework)
    if site.name is None:
        return SetKeywordValue(value=value)
    return SetKeyword(keyword=site.name, value=value, calls=site.calls)


def _undo_flag(intent: Unset, setup: Setup) -> Edit | None:
    """What undoes the flag that set the fact, as the launcher's flag table says: delete it (with
    its value, if it takes one), or write ``otherwise`` as its value."""
    row = _undo_row(setup.framework, intent.fact)
    if row is None:
        return None
    if row.edit == DELETE_FLAG:
        return DeleteFlag(valued=row.takes_value)
    if row.edit == SET_FLAG_VALUE and intent.otherwise is not None:
        return SetFlagValue(value=_flag_text(intent.fact, intent.otherwise))
    return None


def _unquantize(setup: Setup, dtype: str) -> Edit | None:
    """A quantized model served unquantized, where its quantization is one keyword or flag: vLLM's
    quantization=, from_pretrained's bitsandbytes quantization_config= (in favour of torch_dtype),
    a --quantization / --load-format / --quantize flag; where no dtype is written beside it, the
    framework's default dtype applies. GGUF files and tags, env vars, checkpoint names,
    pre-quantized configs (GPTQ, AWQ) and the legacy load_in_4bit/load_in_8bit keywords stay
    manual."""
    fact = setup.facts.get(QUANT_CONFIG)
    if fact is None:
        return None
    if (setup.framework == "vllm" and fact.value == "vllm") or setup.kind != "python":
        return edit_for(Unset(QUANT_CONFIG), setup)  # vLLM's quantization= keyword, or a flag
    if setup.framework == "transformers" and fact.value == "bitsandbytes":
        return ReplaceKeyword(
            at=setup.origin,
            calls=("from_pretrained",),
            keyword="quantization_config",
            new_keyword="torch_dtype",
            value=_python_code(PRECISION, dtype, setup.framework),
            unless_present=("torch_dtype", "dtype"),
            # an FP32 dtype passed beside the quantization would load the model in FP32
            replace_values=_FP32_CODE,
        )
    return None


def _compile(setup: Setup) -> Edit | None:
    """torchao: after the quantize_(model, …) statement, compile the model it quantized."""
    if setup.kind != "python" or setup.framework != "torchao" or setup.get(QUANT_CONFIG) != "torchao":
        return None
    return InsertAfterStatement(at=setup.where(QUANT_CONFIG), text="{arg0} = torch.compile({arg0})")


def _python_code(fact: str, value: object, framework: str) -> tuple[str, ...]:
    """A fact's value as Python code, alternatives best first."""
    if fact in _DTYPE_FACTS:
        name = _DTYPE_NAMES.get(str(value), str(value))
        # vLLM takes the name; transformers and BitsAndBytesConfig take torch's dtype or its name.
        return (f'"{name}"',) if framework == "vllm" else (f"torch.{name}", f'"{name}"')
    if isinstance(value, str):
        return (f'"{value}"',)
    return (repr(value),)


def _flag_text(fact: str, value: object) -> str:
    """A fact's value as a launcher flag writes it."""
    if fact in _DTYPE_FACTS:
        return _DTYPE_NAMES.get(str(value), str(value))
    return str(value)


# -- what to apply -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One edit of one finding, where it applies."""

    finding: Finding
    edit: Edit
    at: Location

    def __post_init__(self) -> None:
        # An edit as the JSON report shows it ({"action": …}) is read back into its type.
        if isinstance(self.edit, Mapping):
            edit = from_json(dict(self.edit), self.at.path)
            if edit is None:
                raise ValueError(f"not an edit: {self.edit!r}")
            object.__setattr__(self, "edit", edit)


def step_of(finding: Finding, unsafe: bool) -> Step | None:
    """The edit of a finding, if it has one and its safety is allowed."""
    fix = finding.fix or {}
    edit = fix.get("edit")
    if isinstance(edit, Mapping):
        edit = from_json(dict(edit), finding.location.path)
    if not isinstance(edit, Edit):
        return None
    safety = fix.get("safety")
    if safety != "safe" and not (unsafe and safety == "unsafe"):
        return None
    return Step(finding, edit, edit.at or finding.location)


# -- applying edits to one text ------------------------------------------------------------------


@dataclass
class _Planned:
    step: Step
    span: tuple[int, int, int, int]  # (line, column, end_line, end_column) of what changes, for overlaps


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Spans that overlap or touch: their edits go in separate passes."""
    return not ((a[2], a[3]) < (b[0], b[1]) or (b[2], b[3]) < (a[0], a[1]))


_P = TypeVar("_P", bound=_Planned)


def _choose(planned: Sequence[_P]) -> list[_P]:
    chosen: list[_P] = []
    for item in planned:
        if all(not _overlaps(item.span, other.span) for other in chosen):
            chosen.append(item)
    return chosen


def apply_steps(kind: str, text: str, steps: list[Step]) -> tuple[str, list[Step]]:
    """Apply the steps that fit and do not overlap; returns the new text and the steps applied."""
    if kind == "python":
        return _python_apply(text, steps)
    return _text_apply(text, steps)


def applicable(kind: str, text: str, step: Step) -> bool:
    """Whether a step fits what is at its location (a dry run of that step alone)."""
    new_text, done = apply_steps(kind, text, [step])
    return bool(done) and new_text != text


# -- Python: libcst --------------------------------------------------------------------------------


def _python_apply(text: str, steps: list[Step]) -> tuple[str, list[Step]]:
    import libcst as cst

    from ecolint.extract.python import has_overlong_bool_chain

    if has_overlong_bool_chain(text):
        return text, []  # libcst's parser would take the process down
    try:
        source = _PySource(text)
    except (cst.ParserSyntaxError, SyntaxError, RecursionError, ValueError, MemoryError):
        return text, []
    planned = [p for p in (source.plan(step) for step in steps if isinstance(step.edit, PYTHON_EDITS)) if p is not None]
    chosen = _choose(planned)
    if not chosen:
        return text, []
    new_text = source.apply(chosen)
    if new_text is None or not _python_parses(new_text):
        return text, []
    return new_text, [p.step for p in chosen]


def _python_parses(text: str) -> bool:
    """Python's own parser is the judge of the new text (the re-audit then reads it too)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@dataclass
class _PyChange(_Planned):
    node: Any = None  # the original node whose updated version is transformed
    transform: Callable[[Any], Any] = lambda node: node


class _PySource:
    def __init__(self, text: str) -> None:
        import libcst as cst

        self.cst = cst
        self.module = cst.parse_module(text)
        self.positions = _positions(self.module)
        self.by_span: dict[tuple[int, int, int, int], list[Any]] = {}
        self.parents: dict[Any, Any] = {}  # for the nodes an edit climbs from: Arg, Call, Expr, statement lines
        for node, where in self.positions.items():
            key = (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)
            self.by_span.setdefault(key, []).append(node)
            if isinstance(node, cst.Call):
                children: Iterable[Any] = node.args
            elif isinstance(node, cst.Expr):
                children = (node.value,)
            elif isinstance(node, (cst.SimpleStatementLine, cst.Module, cst.IndentedBlock)):
                children = node.body
            else:
                continue
            for child in children:
                self.parents[child] = node
        self.imported = _imported_names(text)

    def _span(self, node: Any) -> tuple[int, int, int, int]:
        r = self.positions[node]
        return (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)

    def _at(self, loc: Location, *types: type) -> Any:
        key = (loc.line, loc.column, loc.end_line, loc.end_column)
        for node in self.by_span.get(key, []):
            if isinstance(node, types):
                return node
        return None

    def _call(self, loc: Location, calls: tuple[str, ...] = ()) -> Any:
        """The call at the location, if its name is one of ``calls`` (when given)."""
        call = self._at(loc, self.cst.Call)
        if call is None or not calls:
            return call
        func = call.func
        name = func.attr.value if isinstance(func, self.cst.Attribute) else getattr(func, "value", None)
        return call if name in calls else None

    def _expression(self, code: tuple[str, ...]) -> Any:
        """The value as an expression, if it parses and names nothing the module does not import.
        Alternatives, best first: ``("torch.float16", '"float16"')``."""
        for candidate in code:
            try:
                expr = self.cst.parse_expression(candidate)
            except self.cst.ParserSyntaxError:
                continue
            if _roots(expr) <= self.imported:
                return expr
        return None

    def plan(self, step: Step) -> _PyChange | None:
        edit = step.edit
        if isinstance(edit, SetKeywordValue):
            return self._plan_set_value(step, edit)
        if isinstance(edit, SetKeyword):
            return self._plan_set_keyword(step, edit)
        if isinstance(edit, ReplaceKeyword):
            return self._plan_replace_keyword(step, edit)
        if isinstance(edit, DeleteKeyword):
            return self._plan_delete_keyword(step, edit)
        if isinstance(edit, InsertAfterStatement):
            return self._plan_insert(step, edit)
        return None

    def _plan_set_value(self, step: Step, edit: SetKeywordValue) -> _PyChange | None:
        arg = self._at(step.at, self.cst.Arg)
        value = self._expression(edit.value)
        if arg is None or arg.keyword is None or value is None:
            return None
        return _PyChange(step, self._span(arg), arg, lambda node: node.with_changes(value=value))

    def _plan_set_keyword(self, step: Step, edit: SetKeyword) -> _PyChange | None:
        keyword = edit.keyword
        value = self._expression(edit.value)
        if not keyword or value is None:
            return None
        arg = self._at(step.at, self.cst.Arg)
        if arg is not None:
            if arg.keyword is None or arg.keyword.value != keyword:
                return None
            return _PyChange(step, self._span(arg), arg, lambda node: node.with_changes(value=value))
        call = self._call(step.at, edit.calls)
        if call is None or _spreads(call):
            return None
        return _PyChange(step, self._span(call), call, lambda node: _set_keyword(node, keyword, value))

    def _plan_replace_keyword(self, step: Step, edit: ReplaceKeyword) -> _PyChange | None:
        call = self._call(step.at, edit.calls)
        keyword = edit.keyword
        value = self._expression(edit.value)
        if call is None or value is None or _keyword_index(call, keyword) is None or _spreads(call):
            return None
        present = [k for k in edit.unless_present if _keyword_index(call, k) is not None]
        if present:
            existing = call.args[_keyword_index(call, present[0])].value
            if self.module.code_for_node(existing).replace("'", '"') in edit.replace_values:
                # torch_dtype=torch.float32 already there: it gets the value instead of staying
                return _PyChange(
                    step,
                    self._span(call),
                    call,
                    lambda node: _remove_arg(_set_keyword(node, present[0], value), _keyword_index(node, keyword)),
                )
            return _PyChange(
                step, self._span(call), call, lambda node: _remove_arg(node, _keyword_index(node, keyword))
            )
        new_arg = _keyword_arg(edit.new_keyword, value)
        return _PyChange(
            step, self._span(call), call, lambda node: _replace_arg(node, _keyword_index(node, keyword), new_arg)
        )

    def _plan_delete_keyword(self, step: Step, edit: DeleteKeyword) -> _PyChange | None:
        keyword = edit.keyword
        arg = self._at(step.at, self.cst.Arg)
        if arg is None:
            call = self._call(step.at)
            if call is None or not keyword or _keyword_index(call, keyword) is None:
                return None
            target = keyword
        else:
            if arg.keyword is None or (keyword and arg.keyword.value != keyword):
                return None
            call = self.parents.get(arg)
            if not isinstance(call, self.cst.Call):
                return None
            target = arg.keyword.value
        return _PyChange(step, self._span(call), call, lambda node: _remove_arg(node, _keyword_index(node, target)))

    def _plan_insert(self, step: Step, edit: InsertAfterStatement) -> _PyChange | None:
        cst = self.cst
        call = self._at(step.at, cst.Call)
        if call is None:
            return None
        expr = self.parents.get(call)
        line = self.parents.get(expr)
        if not isinstance(expr, cst.Expr) or not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            return None
        if not isinstance(self.parents.get(line), (cst.Module, cst.IndentedBlock)):
            return None  # `if x: quantize_(...)` on one line: no statement to insert after
        text = edit.text
        if "{arg0}" in text:
            first = next((a.value for a in call.args if a.keyword is None and not a.star), None)
            if first is None or not _is_dotted_name(first):
                return None
            text = text.replace("{arg0}", self.module.code_for_node(first))
        try:
            statement = cst.parse_statement(text)
        except cst.ParserSyntaxError:
            return None
        targets = _assigned_roots(statement)
        if not (_roots(statement) - targets) <= self.imported:
            return None
        return _PyChange(step, self._span(line), line, lambda node: cst.FlattenSentinel([node, statement]))

    def apply(self, changes: list[_PyChange]) -> str | None:
        import libcst as cst

        by_node = {id(c.node): c for c in changes}

        class Apply(cst.CSTTransformer):
            def on_leave(self, original: Any, updated: Any) -> Any:
                change = by_node.get(id(original))
                return updated if change is None else change.transform(updated)

        try:
            return self.module.visit(Apply()).code
        except (cst.CSTValidationError, TypeError, ValueError):
            return None


def _positions(module: Any) -> Any:
    """Line/column of every node (the module is not copied: its nodes are the ones edited)."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _imported_names(text: str) -> set[str]:
    """Names the module binds by import (anywhere): what new code may refer to."""
    names: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names if alias.name != "*")
    return names


def _roots(node: Any) -> set[str]:
    """Module-like names new code relies on: the base name of every attribute chain (torch.x)."""
    import libcst as cst

    roots: set[str] = set()

    class Roots(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            base = node.value
            while isinstance(base, cst.Attribute):
                base = base.value
            if isinstance(base, cst.Name):
                roots.add(base.value)

    node.visit(Roots())
    return roots


def _assigned_roots(statement: Any) -> set[str]:
    """Base names of the targets a statement assigns (``model`` in ``model = …``, ``self`` in ``self.m = …``)."""
    import libcst as cst

    roots: set[str] = set()
    for small in getattr(statement, "body", []):
        for target in getattr(small, "targets", []):
            base = target.target
            while isinstance(base, cst.Attribute):
                base = base.value
            if isinstance(base, cst.Name):
                roots.add(base.value)
    return roots


def _is_dotted_name(node: Any) -> bool:
    import libcst as cst

    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _spreads(call: Any) -> bool:
    """A call with ``**mapping``: a keyword added or renamed could be in the mapping too."""
    return any(arg.star == "**" for arg in call.args)


def _keyword_index(call: Any, keyword: str) -> int | None:
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == keyword:
            return i
    return None


def _keyword_arg(keyword: str, value: Any) -> Any:
    import libcst as cst

    no_space = cst.SimpleWhitespace("")
    return cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space),
    )


def _set_keyword(call: Any, keyword: str, value: Any) -> Any:
    index = _keyword_index(call, keyword)
    if index is not None:
        args = list(call.args)
        args[index] = args[index].with_changes(value=value)
        return call.with_changes(args=args)
    return _append_arg(call, _keyword_arg(keyword, value))


def _replace_arg(call: Any, index: int | None, new_arg: Any) -> Any:
    """The argument at ``index`` becomes ``new_arg``, keeping its comma and the whitespace around it."""
    if index is None:
        return call
    args = list(call.args)
    old = args[index]
    args[index] = new_arg.with_changes(comma=old.comma, whitespace_after_arg=old.whitespace_after_arg)
    return call.with_changes(args=args)


def _separator_before(call: Any, index: int) -> Any:
    """The whitespace that leads to argument ``index``: after ``(`` or after the previous comma."""
    import libcst as cst

    if index == 0:
        return call.whitespace_before_args
    comma = call.args[index - 1].comma
    return comma.whitespace_after if isinstance(comma, cst.Comma) else cst.SimpleWhitespace(" ")


def _append_arg(call: Any, new_arg: Any) -> Any:
    """Add a keyword argument last, in the layout the call already has (one line, or one per line
    with or without a trailing comma); a comment after the last argument stays on its line."""
    import libcst as cst

    args = list(call.args)
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    sep = _separator_before(call, len(args) - 1)
    between: cst.BaseParenthesizableWhitespace
    after_new: cst.BaseParenthesizableWhitespace
    if isinstance(last.comma, cst.Comma):
        close = last.comma.whitespace_after  # leads to ")"
        if isinstance(close, cst.ParenthesizedWhitespace):
            if isinstance(sep, cst.ParenthesizedWhitespace):
                between = close.with_changes(empty_lines=[], indent=sep.indent, last_line=sep.last_line)
            else:
                between = close.with_changes(empty_lines=[])
            after_new = close.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        else:
            between, after_new = cst.SimpleWhitespace(" "), close
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        args.append(new_arg.with_changes(comma=cst.Comma(whitespace_after=after_new)))
    else:
        if isinstance(sep, cst.ParenthesizedWhitespace):
            between = sep.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        else:
            between = cst.SimpleWhitespace(" ")
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=between), whitespace_after_arg=cst.SimpleWhitespace("")
        )
        args.append(new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def _merge_ws(before: Any, after: Any) -> Any:
    """The whitespace left where ``before`` + a deleted argument + ``after`` stood. Comment lines
    above the deleted argument and above the next one are kept; a comment on the deleted
    argument's own line goes with it."""
    import libcst as cst

    if not isinstance(after, cst.ParenthesizedWhitespace):
        return before
    if isinstance(before, cst.ParenthesizedWhitespace):
        return after.with_changes(first_line=before.first_line, empty_lines=[*before.empty_lines, *after.empty_lines])
    return after.with_changes(first_line=cst.TrailingWhitespace())


def _has_comment(ws: Any) -> bool:
    import libcst as cst

    if not isinstance(ws, cst.ParenthesizedWhitespace):
        return False
    return ws.first_line.comment is not None or any(line.comment is not None for line in ws.empty_lines)


def _remove_arg(call: Any, index: int | None) -> Any:
    """Delete argument ``index``, keeping the call's layout (trailing comma or not) and its comments."""
    import libcst as cst

    if index is None:
        return call
    args = list(call.args)
    removed = args.pop(index)
    trailing = removed.comma.whitespace_after if isinstance(removed.comma, cst.Comma) else removed.whitespace_after_arg
    if index == 0:
        merged = _merge_ws(call.whitespace_before_args, trailing)
        if not args and not _has_comment(merged):
            merged = cst.SimpleWhitespace("")
        return call.with_changes(args=args, whitespace_before_args=merged)
    prev = args[index - 1]
    prev_ws = prev.comma.whitespace_after if isinstance(prev.comma, cst.Comma) else cst.SimpleWhitespace(" ")
    merged = _merge_ws(prev_ws, trailing)
    is_last = index == len(args)
    if is_last and not isinstance(removed.comma, cst.Comma) and not isinstance(merged, cst.ParenthesizedWhitespace):
        args[index - 1] = prev.with_changes(
            comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=removed.whitespace_after_arg
        )
    else:
        comma = prev.comma if isinstance(prev.comma, cst.Comma) else cst.Comma()
        args[index - 1] = prev.with_changes(comma=comma.with_changes(whitespace_after=merged))
    return call.with_changes(args=args)


# -- every other kind: token-exact text edits ----------------------------------------------------

_FLAG = re.compile(r"-{1,2}[A-Za-z0-9][\w.-]*")
_YAML_ITEM = re.compile(r"([ \t]*)-[ \t]+")
_PLAIN_VALUE = re.compile(r"[\w.+-]+")
# The next shell word on the line: quoted parts and plain characters up to a blank or an operator.
_SHELL_WORD = re.compile(r"[ \t]+((?:\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s\"'\\;&|<>()#])+)")


@dataclass
class _TextChange(_Planned):
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, replacement) offsets


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def __len__(self) -> int:
        return len(self.starts)

    def start(self, line: int) -> int:
        return self.starts[line - 1]

    def end(self, line: int) -> int:
        """Offset of the line's end, before its newline (\\n or \\r\\n)."""
        stop = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        if stop > self.start(line) and self.text[stop - 1] == "\r":
            stop -= 1
        return stop

    def next_start(self, line: int) -> int:
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def content(self, line: int) -> str:
        return self.text[self.start(line) : self.end(line)]

    def offset(self, line: int, column: int) -> int | None:
        if not 1 <= line <= len(self.starts):
            return None
        offset = self.start(line) + column - 1
        return offset if offset <= self.end(line) else None


def _text_apply(text: str, steps: list[Step]) -> tuple[str, list[Step]]:
    lines = _Lines(text)
    planned = [
        p for p in (_text_plan(lines, step) for step in steps if isinstance(step.edit, FLAG_EDITS)) if p is not None
    ]
    chosen = _choose(planned)
    if not chosen:
        return text, []
    edits = sorted((e for change in chosen for e in change.edits), key=lambda e: e[0], reverse=True)
    out = text
    for start, end, replacement in edits:
        out = out[:start] + replacement + out[end:]
    return out, [c.step for c in chosen]


def _text_plan(lines: _Lines, step: Step) -> _TextChange | None:
    loc = step.at
    if loc.line != loc.end_line:
        return None
    start, end = lines.offset(loc.line, loc.column), lines.offset(loc.line, loc.end_column)
    if start is None or end is None or start >= end:
        return None
    text = lines.text
    if start > 0 and end < len(text) and text[start - 1] in "\"'" and text[end] == text[start - 1]:
        start, end = start - 1, end + 1  # the quotes of a quoted word or a JSON string go with it
    token = text[start:end]
    core = token.strip("\"'")
    edit = step.edit
    if not core.startswith("-"):
        # a flag written as a YAML key (Ray Serve engine_kwargs, a vLLM --config file); anything
        # else (an env var, a model tag, a positional) is not a flag this edit knows
        edits = _yaml_key_edits(lines, loc.line, start, edit)
    elif isinstance(edit, SetFlagValue):
        edits = _set_flag_value(token, start, edit.value)
    else:
        valued = isinstance(edit, DeleteFlag) and edit.valued
        edits = _delete_flag(lines, loc.line, start, end, flag_only=valued and bool(_FLAG.fullmatch(core)))
    if not edits:
        return None
    first = min(e[0] for e in edits)
    last = max(e[1] for e in edits)
    return _TextChange(step, _offset_span(lines, first, last), edits)


_YAML_KEY_LINE = re.compile(r"([ \t]*)([\w.-]+)[ \t]*:[ \t]*([^\s#][^#]*?)?[ \t]*(#.*)?")
_YAML_BOOLEANS = {"true": "false", "True": "False", "TRUE": "FALSE", "yes": "no", "on": "off"}


def _yaml_key_edits(lines: _Lines, line: int, start: int, edit: Edit) -> list[tuple[int, int, str]]:
    """The edit on a `key: value` line the location spans, the key being the flag. A switch
    (`enforce_eager: True`) is turned off in place, which keeps its mapping valid whatever else it
    holds; a valued key goes with its line only when a sibling key stays (an emptied
    `engine_kwargs:` would read as null); a new value replaces the old one."""
    match = _YAML_KEY_LINE.fullmatch(lines.content(line))
    if match is None or match.group(3) is None or lines.start(line) + match.start(2) != start:
        return []
    value_start, value_end = (lines.start(line) + match.start(3), lines.start(line) + match.end(3))
    value = match.group(3)
    if isinstance(edit, SetFlagValue):
        return [(value_start, value_end, edit.value)] if _PLAIN_VALUE.fullmatch(edit.value) else []
    if not isinstance(edit, DeleteFlag):
        return []
    if value in _YAML_BOOLEANS:
        return [(value_start, value_end, _YAML_BOOLEANS[value])]
    if not edit.valued or not _has_sibling_key(lines, line, match.group(1)):
        return []
    return [(lines.start(line), lines.next_start(line), "")]


def _has_sibling_key(lines: _Lines, line: int, indent: str) -> bool:
    """Whether the nearest non-blank line above or below is another key at the same indent."""
    for step in (-1, 1):
        other = line + step
        while 1 <= other <= len(lines) and not lines.content(other).strip():
            other += step
        if 1 <= other <= len(lines):
            match = _YAML_KEY_LINE.fullmatch(lines.content(other))
            if match is not None and match.group(1) == indent:
                return True
    return False


def _offset_span(lines: _Lines, first: int, last: int) -> tuple[int, int, int, int]:
    import bisect

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(lines.starts, offset)
        return line, offset - lines.start(line) + 1

    return (*position(first), *position(max(first, last)))


def _set_flag_value(token: str, start: int, value: str) -> list[tuple[int, int, str]]:
    """``--flag value`` / ``--flag=value`` / ``"--flag", "value"``: the value is the last word."""
    match = re.search(r"([^\s=\"',]+)[\"']?$", token)
    if match is None or not _PLAIN_VALUE.fullmatch(value):
        return []
    head = token[: match.start(1)]
    if not re.search(r"[\s=,]", head) or not _PLAIN_VALUE.fullmatch(match.group(1)):
        return []  # no value inside the span (it is on another line), or a $VARIABLE
    return [(start + match.start(1), start + match.end(1), value)]


def _delete_flag(lines: _Lines, line: int, start: int, end: int, *, flag_only: bool) -> list[tuple[int, int, str]]:
    text = lines.text
    line_start, line_end = lines.start(line), lines.end(line)
    before, after = text[line_start:start], text[end:line_end]
    if _YAML_ITEM.fullmatch(before) and re.fullmatch(r"[ \t]*(#.*)?", after):
        edits = [(line_start, lines.next_start(line), "")]
        if flag_only:  # the value is the next item of the list
            value_line = line + 1
            if value_line > len(lines):
                return []
            item = re.fullmatch(r"([ \t]*)-[ \t]+(\S.*)", lines.content(value_line))
            indent = _YAML_ITEM.match(before)
            if (
                item is None
                or indent is None
                or item.group(1) != indent.group(1)
                or item.group(2).strip("\"'").startswith("-")
            ):
                return []
            edits.append((lines.start(value_line), lines.next_start(value_line), ""))
        return edits
    if flag_only:
        word = _SHELL_WORD.match(text, end, line_end)
        ends_word = word is not None and (word.end() == line_end or text[word.end()] in " \t")
        if word is None or not ends_word or word.group(1).strip("\"'").startswith("-"):
            return []  # the value is on another line (a shell continuation): not a span to delete
        end, after = word.end(), text[word.end() : line_end]  # `--flag "$VALUE"`: the value goes too
    stripped_before, stripped_after = before.rstrip(), after.lstrip()
    if stripped_after.startswith(","):  # "--flag", … in a JSON / flow list
        end += len(after) - len(stripped_after) + 1
        end += len(text[end:line_end]) - len(text[end:line_end].lstrip(" \t"))
    elif stripped_before.endswith(","):  # …, "--flag"
        start = line_start + len(stripped_before) - 1
    elif stripped_before.endswith("[") or stripped_after.startswith("]"):
        if not stripped_before.endswith("[") and stripped_before == "":
            comma, adjacent = _comma_before(lines, line)  # the list's last item alone on its line
            if comma is None:
                return []
            if adjacent:  # `"fp8", \` + `"--last"]` → `"fp8"]`
                return [(comma, end, "")]
            return [(comma, comma + 1, ""), (start, end, "")]  # comment lines between stay
    elif stripped_before == "" and end < line_end and text[end] in " \t":
        end += 1  # first word of its line: the indentation stays
    elif start > line_start and text[start - 1] in " \t":
        start -= 1
    elif end < line_end and text[end] in " \t":
        end += 1
    rest = text[line_start:start] + text[end:line_end]
    if rest.strip() not in ("", "\\"):
        continued = _continued(lines, line - 1)
        if stripped_before == "" and continued is not None and re.match(r"[;&|<>)]", rest.strip()):
            return [(continued, end, " ")]  # `… \` + `  --flag &` → `… &`
        return [(start, end, "")]
    edits = [(line_start, lines.next_start(line), "")]  # nothing left on the line: the line goes
    continued = _continued(lines, line - 1)
    if rest.strip() == "" and continued is not None:
        edits.append((continued, lines.end(line - 1), ""))  # it ended a continuation: the line before now does
    return edits


def _continued(lines: _Lines, line: int) -> int | None:
    """Where the backslash continuation at the end of ``line`` starts (with the blanks before it)."""
    if line < 1:
        return None
    match = re.search(r"[ \t]*\\$", lines.content(line))
    return None if match is None else lines.start(line) + match.start()


def _comma_before(lines: _Lines, line: int) -> tuple[int | None, bool]:
    """Offset of the comma that ends the previous item of a multi-line JSON list (skipping comment
    lines, as a Dockerfile continuation does), and whether that item is on the line just above."""
    previous = line - 1
    while previous >= 1 and re.fullmatch(r"[ \t]*(#.*)?", lines.content(previous)):
        previous -= 1
    if previous < 1:
        return None, False
    match = re.search(r",[ \t]*(\\)?[ \t]*$", lines.content(previous))
    return (None, False) if match is None else (lines.start(previous) + match.start(), previous == line - 1)


# -- a file, pass after pass ---------------------------------------------------------------------

Audit = Callable[[str], "list[Finding] | None"]


@dataclass
class FileFix:
    """What fixing one file did: the text before and after and the findings fixed."""

    path: Path
    display: str
    kind: str
    original: str
    text: str
    fixed: list[Step] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)  # the findings of the final text
    data: bytes = b""
    removed: list[Removed] = field(default_factory=list)  # imports and variables the fixes left unused

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self, context: int = 3) -> str:
        """A unified diff. difflib.unified_diff treats lines repeated all over a long file as junk
        and shows them as changed; the matcher here does not."""
        before = self.original.splitlines(keepends=True)
        after = self.text.splitlines(keepends=True)
        out = [f"--- a/{self.display}\n", f"+++ b/{self.display}\n"]
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for group in matcher.get_grouped_opcodes(context):
            (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
            out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
            for tag, a1, a2, b1, b2 in group:
                if tag == "equal":
                    out += [" " + line for line in before[a1:a2]]
                    continue
                out += ["-" + line for line in before[a1:a2]]
                out += ["+" + line for line in after[b1:b2]]
        if len(out) == 2:
            return ""
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)

    def encoded(self) -> bytes:
        """The new text in the file's own encoding (its PEP 263 cookie, its BOM)."""
        if self.kind == "python":
            encoding, _ = tokenize.detect_encoding(BytesIO(self.data).readline)
        else:
            encoding = "utf-8-sig" if self.data.startswith(codecs.BOM_UTF8) else "utf-8"
        return self.text.encode(encoding)


def _range(start: int, stop: int) -> str:
    """A unified-diff hunk range: 1-based start, and the length unless it is 1."""
    length = stop - start
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def fix_text(
    kind: str, text: str, findings: list[Finding], audit: Audit, unsafe: bool
) -> tuple[str, list[Step], list[Finding]]:
    """Apply the findings' edits pass after pass; ``audit`` re-reads a text into its findings (None:
    it does not parse). Returns the final text, the steps applied and the findings left."""
    fixed: list[Step] = []
    for _ in range(MAX_PASSES):
        steps = _dedupe(s for s in (step_of(f, unsafe) for f in findings) if s is not None)
        if not steps:
            break
        new_text, done = apply_steps(kind, text, steps)
        if not done or new_text == text:
            break
        after = audit(new_text)
        if after is None or not _progress(findings, after, done):
            break
        text, findings = new_text, after
        fixed.extend(done)
    return text, fixed, findings


def without_dead_code(
    kind: str, before: str, after: str, findings: list[Finding], audit: Audit
) -> tuple[str, list[Finding], list[Removed]]:
    """The fixed text without the imports and variables its fixes left unused (ecolint/dead_code.py),
    kept only if it is audited to the same findings; else the fixed text as it was."""
    if kind != "python" or before == after:
        return after, findings, []
    tidied, removed = drop_unused(before, after)
    if not removed or not _python_parses(tidied):
        return after, findings, []
    again = audit(tidied)
    if again is None or sorted(f.code for f in again) != sorted(f.code for f in findings):
        return after, findings, []
    return tidied, again, removed


def _dedupe(steps: Iterable[Step]) -> list[Step]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for step in sorted(steps, key=lambda s: s.finding.sort_key()):
        key = (step.at, step.edit)
        if key not in seen:
            seen.add(key)
            out.append(step)
    return out


def _progress(before: list[Finding], after: list[Finding], done: list[Step]) -> bool:
    """Every fixed finding is gone afterwards: per rule and line text (its fingerprint), there are
    at least as many fewer findings as were fixed (else an edit did not take). Identical lines
    count apart; a finding that moves on (--load-format once --quantization is gone) is new."""

    def key(finding: Finding) -> tuple[str, str]:
        return finding.code, finding.fingerprint.split(":")[0]

    old, new, fixed = Counter(map(key, before)), Counter(map(key, after)), Counter(key(s.finding) for s in done)
    return all(old[k] - new[k] >= n for k, n in fixed.items())


# -- a run: the files with fixable findings ------------------------------------------------------


class _Auditor:
    """Audits one file's text in memory exactly as the run did: same extractor context, pins,
    GPU, selection and funnel (inline ignores, per-file ignores, baseline, confidence floor).
    Only findings located in that file count: a fix edits the file it is in."""

    def __init__(self, engine: Any, targets: list[Path]) -> None:
        self.engine = engine
        self.context = engine.extract_context(targets)
        self.funnel = engine.funnel()

    def findings(self, path: Path, display: str, kind: str, text: str) -> list[Finding] | None:
        from ecolint.extract import load_extractor

        extractor = load_extractor(kind)
        if extractor is None:
            return None
        try:
            setups = extractor(display, text, self.context)
        except Exception:  # noqa: BLE001 - a text that does not parse is a text not to write
            return None
        found = [f for setup in setups for f in self.engine.audit(setup, path) if f.location.path == display]
        return self.funnel.apply(found, {display: text})


def fix_run(engine: Any, targets: list[Path], findings: list[Finding], unsafe: bool) -> list[FileFix]:
    """Fix every file in which a finding has an edit; nothing is written here (see ``write``)."""
    from ecolint.discover import classify
    from ecolint.sources import decode

    auditor = _Auditor(engine, targets)
    results = []
    for display in sorted({f.location.path for f in findings if (f.fix or {}).get("edit")}):
        path = Path(display)
        path = path if path.is_absolute() else engine.cwd / path  # display paths are relative to the run's cwd
        try:
            data = path.read_bytes()
        except OSError:
            continue
        kind = classify(path, data[:256])
        if kind is None:
            continue
        try:
            text = decode(path, data, kind)
        except Exception:  # noqa: BLE001 - undecodable: reported as ECO001 by the run, never touched
            continue

        def audit(candidate: str, path: Path = path, display: str = display, kind: str = kind) -> list[Finding] | None:
            return auditor.findings(path, display, kind, candidate)

        start = audit(text)
        if start is None:
            continue  # does not parse: never rewritten
        new_text, fixed, remaining = fix_text(kind, text, start, audit, unsafe)
        new_text, remaining, removed = without_dead_code(kind, text, new_text, remaining, audit)
        results.append(FileFix(path, display, kind, text, new_text, fixed, remaining, data, removed))
    return results


def write(files: list[FileFix]) -> list[FileFix]:
    """Write the changed files back in their own encoding; returns those written."""
    written = []
    for item in files:
        if not item.changed:
            continue
        try:
            current = item.path.read_bytes()
            if current != item.data:
                continue  # changed on disk since it was read: leave it alone
            item.path.write_bytes(item.encoded())
        except (OSError, UnicodeEncodeError, SyntaxError, LookupError):
            continue
        written.append(item)
    return written


def hidden_unsafe(files: list[FileFix]) -> int:
    """Findings left whose unsafe edit would apply (what --unsafe-fixes would add)."""
    count = 0
    for item in files:
        for finding in item.remaining:
            if (finding.fix or {}).get("safety") != "unsafe":
                continue
            step = step_of(finding, unsafe=True)
            if step is not None and applicable(item.kind, item.text, step):
                count += 1
    return count
