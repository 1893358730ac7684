"""Recognition of framework APIs: which calls load a model (transformers ``from_pretrained`` and
``pipeline``, vLLM ``LLM``/``EngineArgs``, torchao ``quantize_``), the facts their arguments and
quantization configs give, and which expressions refer to the model a call loaded.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ecolint.extract import NOT_A_MODEL, ExtractContext
from ecolint.extract.builds import torch_build
from ecolint.extract.launchers.vllm import LAUNCHER as VLLM
from ecolint.extract.launchers.vocab import (
    DEFAULT_INT8_THRESHOLD,
    DTYPE,
    DTYPE_PRECISIONS,
    INT,
    SWITCH,
    Builder,
    Flag,
    Launcher,
    Opt,
    Tok,
    apply_table,
    checkpoint_format,
    unresolved,
)
from ecolint.extract.python.index import _Binding, _Condition, _Indexer, _Scope, _Site
from ecolint.extract.python.source import _Source
from ecolint.extract.python.syntax import _MAX_DEPTH, _args, _element, _final_name, _is_number, _literal, _Located
from ecolint.extract.python.values import _MAX_ALTERNATIVES, _Entry, _Value, _Values
from ecolint.setups import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    COMPUTE_DTYPE,
    DEFAULTS_CHOSEN,
    DEFAULTS_DECIDING,
    DEVICE,
    DOUBLE_QUANT,
    FP8_SCHEME,
    LLM_INT8_THRESHOLD,
    LOADER,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    RUNTIME,
    TASK,
    THRESHOLD_EXPOSED,
    Fact,
    Location,
    Setup,
)

# The framework calls a setup starts at, besides `X.from_pretrained(…)` on a model class (known
# by its receiver, see _loads_a_model): the last part of the qualified name → (the prefix the
# qualified name must have, the kind of call). With "from_pretrained", these last names are
# LOADER_CALLS, which the prefilter looks for in bytes.
_API_CALLS: dict[str, tuple[str, str]] = {
    "quantize_": ("", "quantize"),  # torchao, however it is imported
    "LLM": ("vllm.", "vllm"),
    "EngineArgs": ("vllm.", "vllm-engine"),
    "AsyncEngineArgs": ("vllm.", "vllm-engine"),
    "pipeline": ("transformers.", "pipeline"),
}
# Calls a setup starts at (their last name; aliases of them are added per file).
_CLASSIFIED_LAST_NAMES = frozenset(_API_CALLS)
# The kinds of call, in the passes that read them: a pipeline(model=m) or a quantize_(m, …)
# joins the setup that loaded m, so loaders come first, then pipelines, then quantize_ calls.
_PASSES: tuple[frozenset[str], ...] = (
    frozenset({"from_pretrained", "vllm", "vllm-engine"}),
    frozenset({"pipeline"}),
    frozenset({"quantize"}),
)


_DTYPES = DTYPE_PRECISIONS
# Casts after loading that give the model its precision (not `.float()`: FP32 is what a load
# that states no dtype gives anyway).
_CASTS = {method: DTYPE_PRECISIONS[method] for method in ("half", "bfloat16")}
# Methods that return the same model: model = model.to("cuda").eval()
_ALIAS_METHODS = frozenset(
    {"to", "cuda", "cpu", "eval", "train", "half", "bfloat16", "float", "requires_grad_", "merge_and_unload"}
)
# Calls that rewrite a loaded model for another runtime and return it: ipex_llm.optimize_model,
# intel_extension_for_pytorch.optimize / .llm.optimize. Where the model then runs is the
# runtime's (resolve.py reads the qualified name against evidence.yaml other_hardware loaders).
_RUNTIME_WRAPPERS = frozenset({"optimize_model", "optimize"})
_WRAPPERS = frozenset({"get_peft_model", "prepare_model_for_kbit_training", "from_engine_args"}) | _RUNTIME_WRAPPERS
# DeepSpeed's engines wrap the model they are given (ZeRO inference, DeepSpeed-Inference): their
# `.module` is that model, and `initialize` returns the engine first in its tuple.
_DEEPSPEED_ENGINES = {"initialize": "deepspeed.initialize", "init_inference": "deepspeed.init_inference"}


@dataclass(frozen=True, eq=False)
class _Handle:
    """What an expression refers to: a setup, seen as a model, a pipeline, an LLM or an engine."""

    setup: Setup
    kind: str  # model | pipeline | llm | engine
    # Which element of the tuple a call returns holds it (`tokenizer, model = load(…)`: 1), for a
    # helper of another module registered at its call site; None: the call's result itself.
    position: int | None = None


def _loads_a_model(receiver: ast.expr) -> bool:
    """from_pretrained on a model class, not a tokenizer/processor/config, nor super() or cls."""
    if isinstance(receiver, ast.Call):
        return _final_name(receiver.func) != "super"
    name = _final_name(receiver)
    return name is None or not NOT_A_MODEL.search(name)


def _dtype(value: Any) -> str | None:
    text = str(value).lower().removeprefix("torch.")
    return _DTYPES.get(text) if isinstance(value, str) else None


# Devices a `.to(…)` after loading does not say the model runs on: CUDA is the assumption
# anyway, and `model.to("cpu")` is as often GPU memory freed after use as CPU inference.
_NOT_MOVED_TO = frozenset({"cuda", "cpu", "meta"})
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


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class _Recognition(_Values):
    """Setups from the calls that load a model, with the facts their arguments give."""

    def __init__(self, path: str, source: _Source, index: _Indexer, context: ExtractContext) -> None:
        super().__init__(path, index, context)
        self.source = source
        self.setups: list[Setup] = []
        self.origin_site: dict[int, _Site] = {}  # id(setup) → the loading call's site
        self.by_call: dict[ast.Call, _Handle] = {}
        # the other elements of a tuple a helper returns when it loads several models
        # (`return model, vision_tower, tokenizer`): (id of the call, position) → handle
        self.by_position: dict[tuple[int, int], _Handle] = {}
        self._resolving: set[object] = set()  # ids of names, and registry lookups, being resolved
        self._filled: dict[str, list[_Scope]] | None = None  # see _filled_elsewhere

    # -- locations ----------------------------------------------------------------------------

    def _loc(self, node: _Located) -> Location:
        start, end = self.source.span(node)
        line, column = self.source.line_column(start)
        end_line, end_column = self.source.line_column(end)
        return Location(self.path, line, column + 1, end_line, end_column + 1)

    def _where(self, value: _Value, entry: _Entry) -> Location:
        """Inline values point at their keyword; values read from a constant at the constant;
        values another module's call site passes at that call site's argument."""
        if value.location is not None:
            return value.location
        if value.node is None or value.node is entry.value:
            return self._loc(entry.node)
        return self._loc(value.node)

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
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
            return self._registry_entry(expr.value, scope, depth, index)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Call):
            # `deepspeed.initialize(model=model, …)[0]`, `load(path)[1]`: that element of what
            # the call returns
            at = _literal(expr.slice)
            if isinstance(at, int) and not isinstance(at, bool):
                return self._handle_of_call(expr.value, scope, depth + 1, at)
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

    def _registry_entry(self, name: ast.Name, scope: _Scope, depth: int, index: int | None) -> _Handle | None:
        """`models[key]` of a dict the code fills with loaded models (`models[name] =
        load_model(path)` in a loop over a table of checkpoints): the model its entries hold,
        where every entry written into it holds the same setup's."""
        # `inputs["pixel_values"] = inputs["pixel_values"].to(dtype)` reads the dict it writes:
        # followed once, not once per binding and write (which grew exponentially)
        key = ("registry", name.id, index)
        if key in self._resolving:
            return None
        self._resolving.add(key)
        found: list[_Handle | None] = []
        try:
            scopes = {id(b.scope): b.scope for b in self._definitions(name.id, name.lineno, scope)[0]}
            if any(s.kind == "module" for s in scopes.values()):
                # a function that writes into the module's dict without binding the name
                # (`model_cache[choice] = load_model(choice)` in a Gradio handler) fills it too
                scopes.update((id(s), s) for s in self._filled_elsewhere().get(name.id, ()))
            for holder in scopes.values():
                for change in holder.mutations.get(name.id, ()):
                    if change.value is not None and change.call is None:
                        found.append(self._handle(change.value, change.scope, depth + 1, index))
        finally:
            self._resolving.discard(key)
        first = found[0] if found else None
        if first is None or any(h is None or h.setup is not first.setup for h in found):
            return None
        return first

    def _filled_elsewhere(self) -> dict[str, list[_Scope]]:
        """Name → the scopes that write into a dict of that name without binding it (so the
        dict is an enclosing one's), found in one pass over the file's scopes."""
        if self._filled is None:
            self._filled = {}
            for held in self.index.scopes:
                for name in held.mutations:
                    if name not in held.bindings:
                        self._filled.setdefault(name, []).append(held)
        return self._filled

    def _handle_of_call(self, call: ast.Call, scope: _Scope, depth: int, index: int | None) -> _Handle | None:
        known = self.by_call.get(call)
        if known is not None:
            if known.position is not None:
                if index == known.position:
                    return known
                return None if index is None else self.by_position.get((id(call), index))
            return known if index in (None, 0) else None
        func = call.func
        first = self._positional(call, 0, scope)
        if self._is_torch_compile(func) or _final_name(func) in _WRAPPERS:
            return None if first is None else self._handle(first.value, scope, depth + 1)
        if _final_name(func) in _DEEPSPEED_ENGINES and self._qualified(func) in _DEEPSPEED_ENGINES.values():
            # the engine holds the model it wraps (`engine.module`); initialize returns it first
            wrapped = next((k.value for k in call.keywords if k.arg == "model"), None if first is None else first.value)
            return None if index not in (None, 0) else self._handle(wrapped, scope, depth + 1)
        if isinstance(func, ast.Attribute):
            if func.attr in _ALIAS_METHODS:
                return self._handle(func.value, scope, depth + 1)
            if func.attr == "from_pretrained":
                return self._adapted_model(call, scope, depth)
        for fn in self._callees(func, scope):
            for returned in fn.returns:
                found = self._handle(returned, fn.scope, depth + 1, index)
                if found is not None:
                    return found
        return None

    def _adapted_model(self, call: ast.Call, scope: _Scope, depth: int = 0) -> _Handle | None:
        """The model a PEFT class's `from_pretrained` is handed first, where it is one this module
        loaded: adapters put onto it (`PeftModel.from_pretrained(base, …)`, `PeftMixedModel`, a
        subclass of the project: `StreamPeftGenerationMixin.from_pretrained(model, lora_path,
        load_in_8bit=…)`), not another model. Only a class named for PEFT: which model a name
        holds is read by line, and a model class's from_pretrained (a retry in an `except:`,
        one of two branches) takes the name or path the name held before."""
        func = call.func
        if not isinstance(func, ast.Attribute) or "peft" not in (_final_name(func.value) or "").lower():
            return None
        first = self._positional(call, 0, scope)
        return None if first is None else self._handle(first.value, first.scope, depth + 1)

    def _is_torch_compile(self, func: ast.expr) -> bool:
        # the last name first: building the dotted name of every call of a file is not cheap
        if isinstance(func, ast.Attribute) and func.attr != "compile":
            return False
        if isinstance(func, ast.Name) and self.index.qualified.get(func.id) != "torch.compile":
            return False
        return self._qualified(func) == "torch.compile"

    # -- model-loading calls ------------------------------------------------------------------

    def _recognise(self) -> None:
        """Setups from the calls that load a model, read pass by pass (_PASSES)."""
        named = self.index.loader_names()  # no other call can be one: _classify decides among these
        loaders = [(site, self._classify(site.node)) for site in self.index.calls if site.name in named]
        for kinds in _PASSES:
            for site, kind in loaders:
                if kind in kinds:
                    self._read(site, kind)
        if self.setups:
            self._attach_runtime()
            self._attach_placement()
            self._attach_casts()
            self._attach_build()

    def _attach_runtime(self) -> None:
        """``model = ipex_llm.optimize_model(model)``: the runtime that will run the model."""
        for site in self.index.calls:
            if site.name not in _RUNTIME_WRAPPERS:
                continue
            first = self._positional(site.node, 0, site.scope)
            qualified = self._qualified(site.node.func)
            handle = None if first is None or qualified is None else self._handle(first.value, first.scope)
            if handle is not None and not handle.setup.has(RUNTIME):
                handle.setup.set(RUNTIME, qualified, self._loc(site.node.func))

    def _attach_build(self) -> None:
        """A ROCm or XPU build of torch installed beside the code (rules/builds.yaml): its
        setups run there, "cuda" included (ROCm's torch calls the AMD GPU "cuda")."""
        build = torch_build(self.path, self.context)
        if build is None:
            return
        for setup in self.setups:
            if setup.get(DEVICE) in (None, "cuda"):
                setup.set(DEVICE, build, setup.origin, "build")

    def _attach_placement(self) -> None:
        """Where a model is moved after loading (``model.to("xpu")``, ``model.xpu()``): the device
        of a setup whose loading call names none, when every move of it names the same device
        and none is to CUDA. CUDA moves are looked for only where another device was seen."""
        moves: dict[int, tuple[Setup, list[tuple[str, Location]]]] = {}
        for site in self.index.calls:
            if site.name not in ("to", "xpu") or not isinstance(site.node.func, ast.Attribute):
                continue
            placed = self._placement(site)
            if placed is None or placed[0] in _NOT_MOVED_TO:
                continue
            handle = self._sole_handle(site.node.func.value, site.scope)
            if handle is not None and not handle.setup.has(DEVICE):
                moves.setdefault(id(handle.setup), (handle.setup, []))[1].append(placed)
        if not moves:
            return
        for site in self.index.calls:
            if site.name not in ("to", "cuda") or not isinstance(site.node.func, ast.Attribute):
                continue
            placed = (("cuda", self._loc(site.node)) if site.name == "cuda" else None) or self._placement(site)
            if placed is not None and placed[0] == "cuda":
                handle = self._handle(site.node.func.value, site.scope, base=False)
                if handle is not None and id(handle.setup) in moves:
                    del moves[id(handle.setup)]
        for setup, places in moves.values():
            if len({device for device, _ in places}) == 1:
                device, where = places[0]
                setup.set(DEVICE, device, where, "moved")

    def _attach_casts(self) -> None:
        """A cast after loading (``.half()``, ``.bfloat16()``, ``.to(torch.float16)``) is the
        precision of a model whose loading call states none and that is not quantized, when
        every cast a plain run surely makes of it says the same."""
        casts: dict[int, tuple[Setup, list[tuple[str, Location, set[str]]]]] = {}
        for site in self.index.calls:
            if site.name not in _CASTS and site.name != "to":
                continue
            func = site.node.func
            precision = _CASTS.get(site.name) if site.name != "to" else self._cast_to(site)
            if precision is None or not isinstance(func, ast.Attribute):
                continue
            handle = self._sole_handle(func.value, site.scope)
            if handle is None or handle.kind != "model":
                continue
            setup = handle.setup
            if setup.has(PRECISION) or setup.has(QUANT_CONFIG) or setup.has(COMPUTE_DTYPE):
                continue
            taken, branches = self._branches(site)
            if taken is not True:
                continue  # a cast under a condition a plain run may not meet says nothing sure
            chosen = set().union(*(options for _, options in branches))
            casts.setdefault(id(setup), (setup, []))[1].append((precision, self._loc(site.node), chosen))
        for setup, found in casts.values():
            if len({precision for precision, _, _ in found}) != 1:
                continue
            precision, where, _ = found[0]
            setup.set(PRECISION, precision, where, "cast")
            chosen = set().union(*(options for _, _, options in found))
            if chosen:
                setup.set(
                    DEFAULTS_CHOSEN, tuple(sorted(set(setup.get(DEFAULTS_CHOSEN, ())) | chosen)), where, "implied"
                )
                deciding = set(setup.get(DEFAULTS_DECIDING, ())) | {(PRECISION, option) for option in chosen}
                setup.set(DEFAULTS_DECIDING, tuple(sorted(deciding)), where, "implied")

    def _cast_to(self, site: _Site) -> str | None:
        """The precision a `.to(…)` casts to: `.to(torch.float16)`, `.to("cuda", torch.bfloat16)`,
        `.to(dtype=…)`."""
        for arg in _args(site.node):
            if arg.star or arg.keyword not in (None, "dtype"):
                continue
            value = self._resolve(arg.value, site.scope)
            precision = None if value is None else _dtype(value.value)
            if precision in ("fp16", "bf16"):
                return precision
        return None

    def _sole_handle(self, expr: ast.expr, scope: _Scope) -> _Handle | None:
        """The setup a moved expression refers to, when every binding of it refers to that one
        (`self.model` loaded in several branches and moved in one of them is left alone)."""
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return self._handle(expr, scope, base=False)
        found: dict[int, _Handle] = {}
        for binding in self._bindings_of(expr, scope):
            handle = self._handle(binding.value, binding.scope, 1, binding.index)
            if handle is not None:
                found[id(handle.setup)] = handle
        return next(iter(found.values())) if len(found) == 1 else None

    def _placement(self, site: _Site) -> tuple[str, Location] | None:
        """The device a `.to(…)` / `.xpu()` call names, with where it names it: a literal, or a
        name bound once (`device = "mps"` reassigned under conditions says nothing sure)."""
        call = site.node
        if site.name == "xpu":
            return "xpu", self._loc(call)
        entry = self._positional(call, 0, site.scope) or self._kwargs(call, site.scope).get("device")
        if entry is None:
            return None
        if isinstance(entry.value, (ast.Name, ast.Attribute)) and len(self._bindings_of(entry.value, entry.scope)) != 1:
            return None
        value = self._resolve(entry.value, entry.scope)
        if value is None or not isinstance(value.value, str):
            return None
        device = _device(value.value)
        return None if device is None else (device, self._where(value, entry))

    def _read(self, site: _Site, kind: str) -> None:
        self.defaults_chosen = set()
        self.defaults_deciding = {}
        taken, branches = self._branches(site)  # the loading call's branches, and the defaults taking them
        if taken is False:
            return  # a branch only a command line that changes a default takes
        for _, options in branches:
            self.defaults_chosen |= options
        if kind == "pipeline":
            self._pipeline(site)
        elif kind == "from_pretrained" and self._adapted_model(site.node, site.scope) is not None:
            return  # adapters onto a model loaded before: that model's setup, not a new one
        elif kind == "quantize":
            self._quantize(site)
        else:
            self._add_setup(site, kind)
        handle = self.by_call.get(site.node)
        if handle is not None and self.defaults_chosen:
            chosen = set(handle.setup.get(DEFAULTS_CHOSEN, ())) | self.defaults_chosen
            handle.setup.set(DEFAULTS_CHOSEN, tuple(sorted(chosen)), self._loc(site.node), "implied")
            self._attribute_defaults(handle.setup, site, branches)

    def _attribute_defaults(self, setup: Setup, site: _Site, branches: list[tuple[_Condition, set[str]]]) -> None:
        """Which facts the defaults chosen for this setup decided (DEFAULTS_DECIDING). A
        default that picks the loading call's branch decides what that branch writes (the
        loading call, its keywords) and, where the call states none, the precision, unless the
        other branches' loading calls (of the same name) write the same; one read while a fact's argument was read
        decides that fact; any other decides every fact ("*")."""
        pairs = set(setup.get(DEFAULTS_DECIDING, ()))
        placed: set[str] = set()
        for condition, options in branches:
            first, last = condition.block
            inside = {
                name
                for name, fact in setup.facts.items()
                if name != DEFAULTS_CHOSEN
                and fact.location is not None
                and fact.location.path == self.path
                and first <= fact.location.line <= last
            }
            siblings = [
                other.node
                for other in self.index.calls
                if other.name == site.name
                and other is not site
                and any(c.statement == condition.statement and c.block != condition.block for c in other.when)
            ]
            if siblings and not setup.has(PRECISION):
                inside.add(PRECISION)  # this call leaves it to the checkpoint; another branch's may not
            decided = {name for name in inside if not _written_alike(site.node, siblings, name)}
            pairs.update((name, option) for option in options for name in decided)
            placed |= options
        for option, facts in self.defaults_deciding.items():
            pairs.update((name, option) for name in facts)
            placed.add(option)
        pairs.update(("*", option) for option in self.defaults_chosen - placed)
        setup.set(DEFAULTS_DECIDING, tuple(sorted(pairs)), self._loc(site.node), "implied")

    def _classify(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("from_pretrained", "from_quantized"):
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
        api = _API_CALLS.get(qualified.rsplit(".", 1)[-1])
        return api[1] if api is not None and qualified.startswith(api[0]) else None

    def _register(self, site: _Site, setup: Setup, kind: str, position: int | None = None) -> None:
        self.setups.append(setup)
        self.origin_site[id(setup)] = site
        handle = _Handle(setup, kind, position)
        known = self.by_call.get(site.node)
        if known is not None and position is not None and known.position not in (None, position):
            self.by_position[(id(site.node), position)] = handle
            return
        self.by_call[site.node] = handle

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
        with self._defaults_for(MODEL):
            self._set_model(setup, self._positional(call, 0, scope) or kwargs.get("pretrained_model_name_or_path"))
        with self._defaults_for(PRECISION, QUANT_CONFIG, COMPUTE_DTYPE, LLM_INT8_THRESHOLD, ATTN_IMPLEMENTATION):
            self._apply_load_kwargs(setup, kwargs)
        # Which class loads it (a speech or captioning model, an Intel or OpenVINO port of the
        # transformers API) and where it is put: resolve.py reads them against rules/ tables.
        loader = self._qualified(call.func)
        if loader is not None:
            setup.set(LOADER, loader, self._loc(call.func))
        if isinstance(call.func, ast.Attribute) and call.func.attr == "from_quantized" and not setup.has(PRECISION):
            # AutoAWQ's class says AWQ; AutoGPTQ's, GPTQModel's and their subclasses say GPTQ
            method = "awq" if "awq" in (loader or "").lower() else "gptq"
            setup.set(PRECISION, method, self._loc(call.func), "loader")
            setup.set(QUANT_CONFIG, method, self._loc(call.func), "loader")
        with self._defaults_for(DEVICE):
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
        if quant is None:
            quant = self._checkpoint_quant(setup)
        if quant is not None:
            setup.facts.update(quant)
        dtype = kwargs.get("torch_dtype") or kwargs.get("dtype")
        target = COMPUTE_DTYPE if quant is not None else PRECISION
        if not setup.has(target):
            self._set(setup, target, dtype, _dtype)
        self._set(setup, ATTN_IMPLEMENTATION, kwargs.get("attn_implementation"), _string)

    @staticmethod
    def _checkpoint_quant(setup: Setup) -> dict[str, Fact] | None:
        """A pre-quantized checkpoint (…-GPTQ, …-AWQ, …-bnb-4bit) loads in its own format whatever
        torch_dtype says; that dtype is then the compute dtype (rules/checkpoints.yaml). GGUF is
        not: transformers dequantizes a GGUF file when it loads it (docs: "GGUF and interaction
        with Transformers"), so its weights run in the dtype asked for."""
        model = setup.facts.get(MODEL)
        found = None if model is None or not isinstance(model.value, str) else checkpoint_format(model.value)
        if model is None or found is None or found.method == "gguf":
            return None
        return {
            PRECISION: Fact(found.precision, model.location, "filename"),
            QUANT_CONFIG: Fact(found.method, model.location, "filename"),
        }

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
        self._apply_vllm_keywords(setup, kwargs, VLLM.by_python)
        self._set(setup, ATTN_IMPLEMENTATION, kwargs.get("attn_implementation"), _string)
        return setup

    def _apply_vllm_keywords(
        self,
        setup: Setup,
        keywords: dict[str, _Entry],
        row_of: Callable[[str], Flag | None],
        engine: Launcher = VLLM,
    ) -> None:
        """vLLM engine keywords (LLM(...)'s, an LLMConfig's engine_kwargs) through the vLLM flag
        rows (``row_of``: a keyword's row), as the launcher tables read the same flags; ``engine``:
        another engine's table for its keywords (SGLang's ServerArgs behind Ray Serve LLM)."""
        opts: dict[str, Opt] = {}
        for keyword, entry in keywords.items():
            row = row_of(keyword)
            opt = None if row is None or row.fact == MODEL else self._flag_opt(row, entry)
            if row is not None and opt is not None:
                opts[row.name] = opt
        apply_table(engine, Builder(setup), opts)
        quantization = opts.get("--quantization")
        if engine is VLLM and quantization is not None and not unresolved(quantization.value):
            # Where the quantization was asked for: the keyword, which the fix deletes.
            setup.set(QUANT_CONFIG, "vllm", quantization.site)

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
            scheme = self._float8_scheme(config.value, config.scope)
            if scheme is not None:
                setup.set(FP8_SCHEME, scheme, self._loc(config.node))
        elif setup.get(PRECISION) in ("fp16", "bf16", "fp32"):
            # Another torchao scheme (int4/int8 weight-only …): not the bitsandbytes numbers.
            setup.facts[COMPUTE_DTYPE] = setup.facts.pop(PRECISION)

    def _float8_scheme(self, expr: ast.expr, scope: _Scope, depth: int = 0) -> str | None:
        """Which torchao float8 scheme a config names: weight-only (Float8WeightOnlyConfig,
        float8_weight_only, "float8wo": torchao computes the matmul in the weights' original
        precision) or dynamic / static activation+weight (FP8 matmuls). None when not said."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            # the imported name, so that `Float8WeightOnlyConfig as C` still reads as itself
            name = (self._qualified(expr.func) or _final_name(expr.func) or "").rsplit(".", 1)[-1]
            if name == "TorchAoConfig":
                inner = self._positional(expr, 0, scope) or self._kwargs(expr, scope).get("quant_type")
                return None if inner is None else self._float8_scheme(inner.value, inner.scope, depth + 1)
            return _float8_scheme_of(name)
        value = self._resolve(expr, scope)
        if value is not None and isinstance(value.value, str):
            return _float8_scheme_of(value.value)
        for binding in self._bindings_of(expr, scope):
            if binding.value is not None:
                found = self._float8_scheme(
                    _element(binding.value, binding.index) or binding.value, binding.scope, depth + 1
                )
                if found is not None:
                    return found
        return None

    def _is_float8(self, expr: ast.expr, scope: _Scope, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, ast.Call):
            name = (self._qualified(expr.func) or _final_name(expr.func) or "").rsplit(".", 1)[-1]
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
        """Facts of a quantization_config value, followed through names, branches, factory
        functions and dicts. Branches that give different facts give none, unless the
        defaults of the command line choose one."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            return self._quant_call(expr, scope, depth)
        if isinstance(expr, ast.Dict):
            entries = self._mapping(expr, scope) or {}
            return self._bnb(entries, expr)
        if isinstance(expr, ast.IfExp):  # config if args.quantize else None
            chosen = self._decide((_Condition(expr.test, True, (0, 0)),), scope, depth + 1)
            if chosen is not None:
                return self._quant(expr.body if chosen else expr.orelse, scope, depth + 1)
            return self._same_quant([(expr.body, scope), (expr.orelse, scope)], depth)
        bindings = self._bindings_of(expr, scope)
        if isinstance(expr, ast.Name):
            reaching = self._reaching(bindings, expr.lineno, depth)
            if len(reaching) > _MAX_ALTERNATIVES:
                return None
            if len(reaching) > 1:  # assigned in branches
                return self._same_quant([(_element(b.value, b.index), b.scope) for b in reaching], depth)
            bindings = [b for b in bindings if b in reaching or not b.when]
        for binding in bindings:
            if binding.value is not None:
                found = self._quant(_element(binding.value, binding.index), binding.scope, depth + 1)
                if found is not None:
                    return found
        return None

    def _same_quant(self, branches: Sequence[tuple[ast.expr | None, _Scope]], depth: int) -> dict[str, Fact] | None:
        """The facts every branch gives (the first branch's locations), or None when they differ."""
        found = [None if expr is None else self._quant(expr, scope, depth + 1) for expr, scope in branches]
        first = found[0]
        if first is None or any(other is None or not _same_facts(first, other) for other in found[1:]):
            return None
        return first

    def _quant_call(self, call: ast.Call, scope: _Scope, depth: int = 0) -> dict[str, Fact] | None:
        func = call.func
        name = _final_name(func)
        factory = self._factory_returns(call, scope)
        if factory:  # make_bnb(): what the function returns, on each path the defaults may take
            return self._same_quant(factory, depth)
        if name == "BitsAndBytesConfig":
            return self._bnb(self._kwargs(call, scope), call)
        if name == "from_dict" and isinstance(func, ast.Attribute) and _final_name(func.value) == "BitsAndBytesConfig":
            first = self._positional(call, 0, scope)
            return self._bnb(({} if first is None else self._mapping(first.value, scope)) or {}, call)
        if name == "TorchAoConfig":
            facts = {QUANT_CONFIG: Fact("torchao", self._loc(call))}
            if self._is_float8(call, scope):
                facts[PRECISION] = Fact("fp8", self._loc(call))
                scheme = self._float8_scheme(call, scope)
                if scheme is not None:
                    facts[FP8_SCHEME] = Fact(scheme, self._loc(call))
            return facts
        if name in ("GPTQConfig", "AwqConfig"):
            method = "gptq" if name == "GPTQConfig" else "awq"
            return {QUANT_CONFIG: Fact(method, self._loc(call)), PRECISION: Fact(method, self._loc(call))}
        return None

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
            facts[LLM_INT8_THRESHOLD] = Fact(DEFAULT_INT8_THRESHOLD, where, "implied")
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

    # -- labels -------------------------------------------------------------------------------

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
                    if handle is not None and handle.position is not None and binding.index != handle.position:
                        # `tokenizer, model, … = load_pretrained_model(…)`: the name the model gets
                        at = binding.index
                        handle = None if at is None else self.by_position.get((id(binding.value), at))
                    if handle is not None and handle.setup.label is None:
                        handle.setup.label = prefix + name


# The arguments of a loading call that give each fact (the model: also the first positional).
_FACT_ARGUMENTS: dict[str, tuple[str, ...]] = {
    MODEL: ("pretrained_model_name_or_path", "model"),
    PRECISION: ("torch_dtype", "dtype", "quantization_config", "load_in_8bit", "load_in_4bit"),
    QUANT_CONFIG: ("quantization_config", "load_in_8bit", "load_in_4bit"),
    COMPUTE_DTYPE: ("torch_dtype", "dtype", "quantization_config"),
    LLM_INT8_THRESHOLD: ("quantization_config", "llm_int8_threshold"),
    DEVICE: ("device_map", "device"),
    ATTN_IMPLEMENTATION: ("attn_implementation",),
}


def _written_alike(call: ast.Call, siblings: list[ast.Call], fact: str) -> bool:
    """Whether the loading calls of an if's other branches write a fact's arguments as this one
    does (then the branch a default takes does not decide that fact)."""
    keywords = _FACT_ARGUMENTS.get(fact)
    if keywords is None or not siblings:
        return False

    def written(node: ast.Call) -> tuple[str, ...]:
        said = [f"{k.arg}={ast.dump(k.value)}" for k in node.keywords if k.arg in keywords or k.arg is None]
        if fact == MODEL and node.args:
            said.append(ast.dump(node.args[0]))
        return tuple(sorted(said))

    mine = written(call)
    return all(written(other) == mine for other in siblings)


def _same_facts(a: dict[str, Fact], b: dict[str, Fact]) -> bool:
    return a.keys() == b.keys() and all(a[k].value == b[k].value for k in a)


def _float8_scheme_of(name: str) -> str | None:
    """The float8 scheme a config class, function or quant_type string names."""
    word = name.lower().replace("_", "")
    if "float8" not in word:
        return None
    if "weightonly" in word or word.endswith("wo"):
        return "weight-only"
    if "activation" in word or word.endswith("dq"):
        return "dynamic"
    return None
