"""Deployment platforms declared in Python: the GPU a Modal or BentoML decorator states for the
code under it, Ray Serve LLM's ``LLMConfig(...)``, and launcher command lines the code builds as
argv lists (a BentoML ``__command__``, a Modal function's ``subprocess.Popen([...])``), with
the words the code adds to a list it named after building it (``cmd += [...]``,
``cmd.extend([...])``, ``cmd.append(x)``, as Modal's vLLM example does).

Facts relied on (each platform's own documentation):

- Modal (modal.com/docs/guide/gpu, reference/modal.gpu): ``@app.function(gpu=...)`` and
  ``@app.cls(gpu=...)`` take ``"A100"``, ``"H100:8"`` (a count after ``:``), case-insensitive;
  a list of names is a fallback set tried in order (examples/gpu_fallbacks); the deprecated
  ``modal.gpu.H100()`` / ``modal.gpu.A100(size="80GB")`` objects say the same.
- BentoML (docs.bentoml.com, configurations and GPU inference): ``@bentoml.service(resources=
  {"gpu": 1, "gpu_type": "nvidia-l4"})`` states the resources of the service class; a service's
  ``__command__`` returns the argv its server process runs.
- Ray Serve LLM (docs.ray.io, ray.serve.llm.LLMConfig): ``model_loading_config`` (``model_id``,
  ``model_source``), ``engine_kwargs`` ("arguments forwarded to the inference engine (vLLM)"),
  ``accelerator_type`` (``A10G``, ``L4``, ``A100-80G``, …), ``llm_engine`` only ``VLLM``.
  Ray's SGLang example runs the same LLMConfig on SGLang (``server_cls=SGLangServer``, or an
  app from ``build_sglang_openai_app``); its engine_kwargs are then SGLang ServerArgs fields
  ("most of the engine_kwargs that work with sglang serve work with Ray Serve LLM").

The GPU reaches every setup whose call or command lies inside the decorated function or class
(the innermost that states one); a setup that names its own GPU keeps it. Its ``how`` is
``platform:<key>`` (ecolint/setups.py ``PLATFORM``), so reports can say which key stated it.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
from collections import deque
from collections.abc import Callable, Iterator

from ecolint.extract import LAUNCH_STRINGS, PLATFORM_CALLS
from ecolint.extract.launchers.detect import interpret
from ecolint.extract.launchers.registry import TRIGGERS as LAUNCH_TRIGGERS
from ecolint.extract.launchers.registry import launcher
from ecolint.extract.launchers.vocab import SWITCH, Flag, Tok
from ecolint.extract.python.index import _Class, _Function, _Scope
from ecolint.extract.python.syntax import _args, _self_attribute
from ecolint.extract.python.usage import _Usage
from ecolint.extract.python.values import _Entry
from ecolint.setups import DEFAULTS_CHOSEN, GPU, PLATFORM, Location, Setup

_MODEL_HANDLES = frozenset({"HuggingFaceModel", "BentoModel"})  # bentoml.models: resolve to the id
# Image.run_commands / pip_install run at image build time: nothing there is served.
_BUILD_TIME = frozenset({"run_commands", "pip_install", "apt_install", "run", "dockerfile_commands"})


def may_deploy(text: str) -> bool:
    """Whether a Python file can hold a launcher argv or a platform call (cheap, on the text)."""
    data = text.encode("utf-8", "surrogatepass")
    return any(token in data for token in LAUNCH_STRINGS) or any(name in text for name in PLATFORM_CALLS)


class _Platforms(_Usage):
    """Setups of launcher argv lists and LLMConfig calls, then the GPU platform decorators state."""

    tree: ast.Module | None = None

    # -- launcher command lines ---------------------------------------------------------------

    def _launch_commands(self) -> None:
        for site in self.index.calls:
            if site.name in PLATFORM_CALLS and self._from_module(site.node.func, "ray"):
                self.setups += self._llm_config(site.node, site.scope)
        if self.tree is None or not may_deploy(self.source_text):
            return
        build_time = self._build_time_nodes()
        argvs = [
            node
            for node in _sequences_spanning(self.tree, _argv_lines(self.source_text))
            if node.elts and id(node) not in build_time and _argv_shaped(node)
        ]
        grown = _grown_lists(self.tree, argvs, self._branch_taken) if argvs else {}
        for node in argvs:
            more, chosen = grown.get(id(node), ([], set()))
            found = self._argv_setups(node, more)
            for setup in found if chosen else ():
                setup.set(DEFAULTS_CHOSEN, tuple(sorted(chosen)), setup.origin, "implied")
            self.setups += found

    def _branch_taken(self, test: ast.expr, chosen: set[str]) -> bool | None:
        """Whether an ``if`` test holds when every parameter and environment variable keeps its
        default (None: it depends on anything else); the defaults it reads go to ``chosen``."""
        scope, _ = self._scope_at(test.lineno)
        outcomes = self._outcomes(test, scope, 0, chosen)
        truths = None if outcomes is None else {bool(v) for v in outcomes}
        return truths.pop() if truths is not None and len(truths) == 1 else None

    @property
    def source_text(self) -> str:
        return self.source.text

    def _build_time_nodes(self) -> set[int]:
        """Lists given to an image builder's run_commands & co: run at build time, never served."""
        found: set[int] = set()
        for site in self.index.calls:
            if site.name in _BUILD_TIME and isinstance(site.node.func, ast.Attribute):
                if (self._qualified(site.node.func) or "").startswith("subprocess."):
                    continue  # subprocess.run([...]) runs the command now
                for arg in site.node.args:
                    found.update(id(n) for n in ast.walk(arg))
        return found

    def _argv_setups(self, node: ast.List | ast.Tuple, more: list[ast.expr]) -> list[Setup]:
        """The command an argv list holds, with the words the code adds to it after (``more``)."""
        scope, cls = self._scope_at(node.lineno)
        argv = [self._argv_token(element, scope, cls) for element in [*node.elts, *more]]
        return interpret(argv, {}, path=self.path, kind="python", origin=argv[0].loc)

    def _argv_token(self, element: ast.expr, scope: _Scope, cls: _Class | None) -> Tok:
        loc = self._loc(element)
        if isinstance(element, ast.Starred):
            return Tok(_unknown(element), loc)  # any number of words, none known
        if isinstance(element, ast.Call) and isinstance(element.func, ast.Name) and element.func.id == "str":
            element = element.args[0] if len(element.args) == 1 else element
        value = self._argv_value(element, scope, cls)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return Tok(_unknown(element), loc)
        return Tok(str(value), loc)

    def _argv_value(self, element: ast.expr, scope: _Scope, cls: _Class | None) -> object:
        attribute = _self_attribute(element)
        if attribute is not None and cls is not None:
            return self._class_attribute(cls, attribute)
        resolved = self._resolve(element, scope)
        return None if resolved is None else resolved.value

    def _class_attribute(self, cls: _Class, name: str) -> object:
        """A class attribute a command names (``self.model``), where its value is known; a
        BentoML model handle (``HuggingFaceModel("org/id")``) stands for the id it loads."""
        for binding in reversed(cls.scope.bindings.get(name, [])):
            value = binding.value
            if isinstance(value, ast.Call) and _last_name(value.func) in _MODEL_HANDLES and value.args:
                value = value.args[0]
            lower = _lowered(value)
            resolved = self._resolve(lower if lower is not None else value, cls.scope)
            if resolved is not None and lower is not None and isinstance(resolved.value, str):
                return resolved.value.lower()
            if resolved is not None:
                return resolved.value
        return None

    def _scope_at(self, line: int) -> tuple[_Scope, _Class | None]:
        """The innermost function's scope around a line (the module's when none), and the class
        whose method it is."""
        inner: _Function | None = None
        for fn in self.index.functions:
            node = fn.node
            if node.lineno <= line <= (node.end_lineno or node.lineno) and (
                inner is None or node.lineno >= inner.node.lineno
            ):
                inner = fn
        if inner is None:
            return self.index.module, None
        return inner.scope, inner.method_of

    # -- Ray Serve LLM ------------------------------------------------------------------------

    def _llm_config(self, call: ast.Call, scope: _Scope) -> list[Setup]:
        kwargs = self._kwargs(call, scope)
        engine = kwargs.get("llm_engine")
        written = None if engine is None else self._resolve(engine.value, scope)
        if written is not None and str(written.value).upper() != "VLLM":
            return []
        loading = kwargs.get("model_loading_config")
        if loading is None:
            return []
        sglang = self._serves_with_sglang(kwargs)
        table = launcher("sglang" if sglang else "vllm")
        assert table is not None
        setup = Setup(table.framework, origin=self._loc(call), kind="python")
        entries = self._mapping(loading.value, scope) or {}
        self._set_model(setup, entries.get("model_source") or entries.get("model_id"))
        engine_kwargs = kwargs.get("engine_kwargs")
        keywords = self._mapping(engine_kwargs.value, scope) if engine_kwargs else None
        if sglang:
            self._apply_vllm_keywords(setup, keywords or {}, _sglang_row, table)
        else:
            self._apply_vllm_keywords(setup, keywords or {}, _engine_row)
        accelerator = kwargs.get("accelerator_type")
        value = None if accelerator is None else self._resolve(accelerator.value, scope)
        if accelerator is not None and value is not None and isinstance(value.value, str) and value.value:
            setup.set(GPU, value.value, self._loc(accelerator.node), PLATFORM + "accelerator_type")
        return [setup]

    def _serves_with_sglang(self, kwargs: dict[str, _Entry]) -> bool:
        """Whether the LLMConfig runs on SGLang: its ``server_cls`` is an SGLang server (Ray's
        SGLang example, ``server_cls=SGLangServer``), or the module builds its app with an
        SGLang builder (the older example's ``build_sglang_openai_app``). Its engine_kwargs are
        then SGLang ServerArgs fields (``tp_size``, ``disable_cuda_graph``), not vLLM's."""
        server = kwargs.get("server_cls")
        if server is not None and "sglang" in (_last_name(server.value) or "").lower():
            return True
        tree = self.tree
        return tree is not None and any(
            isinstance(node, ast.Call) and "sglang" in (_last_name(node.func) or "").lower() for node in ast.walk(tree)
        )

    # -- GPUs stated by decorators ------------------------------------------------------------

    def _attach_platform_gpus(self) -> None:
        if not self.setups:
            return
        spans = sorted(self._gpu_spans(), key=lambda span: span[1] - span[0])  # innermost first
        for setup in self.setups:
            if setup.has(GPU) or setup.origin is None or setup.origin.path != self.path:
                continue
            line = setup.origin.line
            found = next((span for span in spans if span[0] <= line <= span[1]), None)
            if found is not None:
                _, _, names, where, key = found
                setup.set(GPU, names[0] if len(names) == 1 else tuple(names), where, PLATFORM + key)

    def _gpu_spans(self) -> list[tuple[int, int, list[str], Location, str]]:
        owners: list[_Function | _Class] = [*self.index.functions, *self.index.classes.values()]
        spans = []
        for owner in owners:
            node = owner.node
            for decorator in node.decorator_list:
                stated = self._decorator_gpu(decorator, owner.scope.parent or self.index.module)
                if stated is not None:
                    spans.append((node.lineno, node.end_lineno or node.lineno, *stated))
        return spans

    def _decorator_gpu(self, decorator: ast.expr, scope: _Scope) -> tuple[list[str], Location, str] | None:
        if not isinstance(decorator, ast.Call):
            return None
        name = _last_name(decorator.func)
        kwargs = {arg.keyword: arg for arg in _args(decorator) if arg.keyword is not None}
        if name in ("function", "cls") and "gpu" in kwargs and self._imports("modal"):
            arg = kwargs["gpu"]
            names = self._modal_gpus(arg.value, scope)
            return None if not names else (names, self._loc(arg.node), "gpu")
        if name == "service" and "resources" in kwargs and self._imports("bentoml"):
            entries = self._mapping(kwargs["resources"].value, scope) or {}
            entry = entries.get("gpu_type")
            value = None if entry is None else self._resolve(entry.value, entry.scope)
            if entry is not None and value is not None and isinstance(value.value, str) and value.value:
                return [value.value], self._loc(entry.node), "resources.gpu_type"
        return None

    def _modal_gpus(self, expr: ast.expr, scope: _Scope, depth: int = 0) -> list[str]:
        """A Modal ``gpu=`` value as GPU names: a string, a list (a fallback set), or a
        ``modal.gpu.X()`` object; a name is followed to its one assignment."""
        if depth > 3:
            return []
        if isinstance(expr, (ast.List, ast.Tuple)):
            names = [name for element in expr.elts for name in self._modal_gpus(element, scope, depth + 1)]
            return names if len(names) == len(expr.elts) else []
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            qualified = self._qualified(expr.func) or ""
            if qualified.startswith("modal.gpu.") or _dotted(expr.func).endswith("gpu." + expr.func.attr):
                size = next((k.value for k in expr.keywords if k.arg == "size"), None)
                suffix = size.value if isinstance(size, ast.Constant) and isinstance(size.value, str) else ""
                return [expr.func.attr + ("-" + suffix if suffix else "")]
        if isinstance(expr, ast.Name):
            bindings, _ = self._definitions(expr.id, expr.lineno, scope)
            if len(bindings) == 1 and bindings[0].value is not None and bindings[0].ref is None:
                return self._modal_gpus(bindings[0].value, bindings[0].scope, depth + 1)
        value = self._resolve(expr, scope)
        if value is None or not isinstance(value.value, str):
            return []
        written = value.value.strip()
        return [written] if written and written.lower() not in ("any", "cpu") else []

    # -- imports ------------------------------------------------------------------------------

    def _imports(self, package: str) -> bool:
        return any(target == package or target.startswith(package + ".") for target in self.index.qualified.values())

    def _from_module(self, func: ast.expr, package: str) -> bool:
        qualified = self._qualified(func) or ""
        return qualified.startswith(package + ".") or self._imports(package)


def _engine_row(keyword: str) -> Flag | None:
    """An engine keyword's vLLM row: the table's ``python=`` mirror, else the keyword
    kebab-cased where vLLM knows that flag (EngineArgs fields are its flags)."""
    return _kebab_row("vllm", keyword)


def _sglang_row(keyword: str) -> Flag | None:
    """An engine keyword's SGLang row: ServerArgs fields are its flags, kebab-cased."""
    return _kebab_row("sglang", keyword)


def _kebab_row(name: str, keyword: str) -> Flag | None:
    """A Python keyword's row in a launcher's table (its ``python=`` mirror, else the flag the
    keyword names kebab-cased), where that row gives a fact or is a switch."""
    table = launcher(name)
    assert table is not None
    row = table.by_python(keyword)
    if row is not None:
        return row
    flag = "--" + keyword.replace("_", "-")
    found = table.rows.get(table.canonical(flag)) if table.knows(flag) else None
    return found if found is not None and (found.fact is not None or found.type == SWITCH) else None


_LAUNCHER_WORDS = tuple(token.decode() for token in LAUNCH_TRIGGERS)


_PYTHON = re.compile(r"(.*/)?python[\d.]*$")  # ["python3", "-m", MODULE, …]: the module may be a name


def may_hold_argv(tree: ast.Module, text: str) -> bool:
    """Whether a list or tuple of the module is shaped like a launch command `_argv_setups`
    reads (a string first, python or a launcher's name among the first words): checked on the
    parsed tree before the module is indexed, for files that call no loader at all."""
    return any(node.elts and _argv_shaped(node) for node in _sequences_spanning(tree, _argv_lines(text)))


def _argv_shaped(node: ast.List | ast.Tuple) -> bool:
    first = node.elts[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return False
    return bool(_PYTHON.match(first.value)) or any(_names_a_launcher(element) for element in node.elts[:4])


def _grown_lists(
    tree: ast.Module, argvs: list[ast.List | ast.Tuple], branch_taken: Callable[[ast.expr, set[str]], bool | None]
) -> dict[int, tuple[list[ast.expr], set[str]]]:
    """id of an argv list display (one of ``argvs``) assigned to a name (``cmd = ["vllm",
    "serve", …]``) → the words the statements after it in the same block add to it: ``cmd += [...]``, ``cmd.extend([...])``,
    ``cmd.append(x)`` (Modal's vLLM example builds its command so), up to the name's next
    assignment, and the defaults that chose the branches they were added in. A word added under
    an ``if`` is there when the defaults decide the test (``branch_taken``: Modal's example adds
    ``--enforce-eager`` under ``if FAST_BOOT:``); under an undecided test or in a loop it may or
    may not be: the growing stops at the first statement that touches the name otherwise."""
    grown: dict[int, tuple[list[ast.expr], set[str]]] = {}
    wanted = {id(node) for node in argvs}
    for block in _blocks(tree, sorted({node.lineno for node in argvs})):
        for i, statement in enumerate(block):
            if not (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.List)
                and id(statement.value) in wanted
            ):
                continue
            name, words = statement.targets[0].id, []
            chosen: set[str] = set()
            for later in block[i + 1 :]:
                added = _added_words(later, name)
                if added is None and isinstance(later, ast.If) and _touches(later, name):
                    added = _added_in_branch(later, name, branch_taken, chosen)
                if added is None:
                    if _touches(later, name):
                        break  # read, reassigned or grown out of sight: what follows is unsure
                    continue
                words += added
            if words:
                grown[id(statement.value)] = (words, chosen)
    return grown


def _touches(statement: ast.stmt, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(statement))


def _added_in_branch(
    statement: ast.If, name: str, branch_taken: Callable[[ast.expr, set[str]], bool | None], chosen: set[str]
) -> list[ast.expr] | None:
    """The words the branch the defaults take adds to the list (None: the test is undecided,
    or that branch touches the list otherwise than by adding words)."""
    reads: set[str] = set()
    taken = branch_taken(statement.test, reads)
    if taken is None:
        return None
    words: list[ast.expr] = []
    for inner in statement.body if taken else statement.orelse:
        added = _added_words(inner, name)
        if added is None and isinstance(inner, ast.If) and _touches(inner, name):
            added = _added_in_branch(inner, name, branch_taken, reads)
        if added is None and _touches(inner, name):
            return None
        words += added or []
    chosen |= reads
    return words


def _added_words(statement: ast.stmt, name: str) -> list[ast.expr] | None:
    """The words ``name += [...]`` / ``name.extend([...])`` / ``name.append(x)`` add, else None."""
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Add):
        target, value = statement.target, statement.value
        if isinstance(target, ast.Name) and target.id == name and isinstance(value, (ast.List, ast.Tuple)):
            return list(value.elts)
        return None
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return None
    call = statement.value
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name):
        return None
    if func.attr == "append" and len(call.args) == 1 and not call.keywords:
        return [call.args[0]]
    if func.attr == "extend" and len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple)):
        return list(call.args[0].elts)
    return None


def _blocks(tree: ast.AST, lines: list[int]) -> Iterator[list[ast.stmt]]:
    """Every statement list of the tree (a module, function, branch or loop body) that holds
    a statement on one of ``lines`` (sorted); the subtrees that span none are not entered."""
    for node in _spanning(tree, lines):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _argv_lines(text: str) -> list[int]:
    """The lines (1-based, sorted) where an argv list can show itself: a launcher's name (every
    element `_names_a_launcher` accepts starts with one), or the word python (`["python3", "-m", MODULE]`). Every list `_argv_setups`
    reads has one of them inside its span."""
    # Each word's occurrences, found in the whole text, then placed on their lines: a loop over
    # the lines testing each word cost more than the rest of the file's platform reading. No
    # word holds a line break, so each occurrence lies on one line of splitlines().
    ends = list(itertools.accumulate(map(len, text.splitlines(keepends=True))))
    found = set()
    for word in (*_LAUNCHER_WORDS, "python"):
        at = text.find(word)
        while at >= 0:
            found.add(bisect.bisect_right(ends, at) + 1)
            at = text.find(word, at + 1)
    return sorted(found)


def _sequences_spanning(tree: ast.AST, lines: list[int]) -> Iterator[ast.List | ast.Tuple]:
    """The list and tuple displays whose lines hold one of `lines`, in ast.walk's order."""
    for node in _spanning(tree, lines):
        if isinstance(node, (ast.List, ast.Tuple)):
            yield node


def _spanning(tree: ast.AST, lines: list[int]) -> Iterator[ast.AST]:
    """The nodes whose lines hold one of `lines` (sorted), and those without lines under
    them, in ast.walk's order; a subtree that spans none of them is not entered (most of a
    large module)."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        for child in ast.iter_child_nodes(node):
            start = getattr(child, "lineno", None)
            if start is not None:
                at = bisect.bisect_left(lines, start)
                if at == len(lines) or lines[at] > (getattr(child, "end_lineno", None) or start):
                    continue
            todo.append(child)
        yield node


def _names_a_launcher(element: ast.expr) -> bool:
    """A string element that starts with a launcher's name (`"vllm"`, `"sglang.launch_server"`)."""
    return (
        isinstance(element, ast.Constant)
        and isinstance(element.value, str)
        and element.value.startswith(_LAUNCHER_WORDS)
    )


def _unknown(element: ast.expr) -> str:
    """An argv element whose value is not known, as a shell would leave it: ``${expr}`` (the
    launcher interpreter reads a ``$`` as unresolved)."""
    return "${" + ast.unparse(element) + "}"


def _lowered(expr: ast.expr | None) -> ast.expr | None:
    """The receiver of ``x.lower()`` (BentoML model ids are lowered before use)."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "lower":
        return None if expr.args or expr.keywords else expr.func.value
    return None


def _last_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _dotted(expr: ast.expr) -> str:
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    return ".".join(reversed(parts))
