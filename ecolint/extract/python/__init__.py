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
* how the model is used: ``generate()`` (or a remote-code ``chat``/``stream_chat``, vLLM
  ``LLM.chat``, a pipeline call) once per prompt in a ``for`` loop or a ``while`` loop draining a
  queue, or once per web, Gradio or task-queue request, or once per prompt inside a LangChain
  LLM's ``_call`` or a LlamaIndex ``CustomLLM``'s ``complete``, a model loaded again per request
  or per loop item, ``torch.compile`` of the model, a model loaded and never run.

Values are resolved statically: literals, names assigned in the module or function, constants
imported from modules of the scanned tree, ``os.environ.get``/``os.getenv`` defaults, argparse
defaults, the defaults of click / typer / python-fire entry points, parameters of helper functions
(the arguments their call sites pass, or the default), dict entries (with the changes made to the
dict before it is unpacked: ``d[k] = v``, ``update``, ``setdefault``), what factory functions of
the module return. Branches (``if``/``else``, ``match``, ``except``, conditional expressions) that
give the same value give it; where they differ, the branch the command-line defaults select gives
it (and the setup records which defaults chose it), else the value is unknown. A loading call in
a branch those defaults do not take makes no setup. Code under ``if False:``/``if 0:``/``if
TYPE_CHECKING:`` is ignored; comments and strings never make a setup because only syntax nodes are
read.

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

The modules, each with one job, from the bottom up (each imports only those below it; none
imports this one, which assembles them):

* ``syntax``: shared readers of ast nodes (arguments in source order, names, literals);
* ``source``: parsing, and positions (byte columns → character locations);
* ``index``: pass 1, the scopes, bindings, loops and calls of the file, and ``_Scopes``, the
  questions asked of them (what a name refers to, who calls a function);
* ``imports``: cross-module resolution, constants of other modules of the scanned tree;
* ``values``: ``_Values``, value evaluation of expressions and of the dicts the code builds;
* ``frameworks``: ``_Recognition``, the framework APIs that load a model (a table of the calls
  a setup starts at) and the facts their arguments give (vLLM keywords through the launcher
  table of ``ecolint/extract/launchers``);
* ``flows``: data flow inside a block (a small def-use closure, what a loop body holds);
* ``usage``: ``_Usage``, how the models are used (generate loops, handlers, reloads, compile,
  purpose: training, or loaded and never run);
* ``platforms``: ``_Platforms``, deployment platforms declared in Python: launcher argv lists the
  code runs (a BentoML ``__command__``, a Modal subprocess), Ray Serve LLM's ``LLMConfig``, and
  the GPU a Modal or BentoML decorator states for the code under it;
* ``invoked``: ``_Invoked``, the values the command lines that run this script pass it;
* ``modules``: the project's module index (the project pass) and ``_CrossModule``, the setups a
  call site makes through a loader helper of another module, one per call site.

Pass 2 is one object whose class stacks these layers (``_Scopes`` ← ``_Values`` ←
``_Recognition`` ← ``_Usage`` ← ``_Platforms`` ← ``_Invoked`` ← ``_CrossModule`` ← ``_Extraction``):
each layer adds its own state and methods and
calls those of the layers below.
"""

from __future__ import annotations

import ast
from typing import Any

from ecolint.extract import LOADER_CALLS, PLATFORM_CALLS, ExtractContext, ExtractError
from ecolint.extract.python.index import _Indexer
from ecolint.extract.python.invoked import passed_values, with_platform
from ecolint.extract.python.modules import _CrossModule, calls_a_helper
from ecolint.extract.python.platforms import may_deploy, may_hold_argv
from ecolint.extract.python.source import MAX_BOOL_CHAIN, _parse, _Source, has_overlong_bool_chain
from ecolint.extract.python.usage import TRAINING_CALLS
from ecolint.invocations import label_for
from ecolint.setups import DEFAULTS_CHOSEN, DEFAULTS_DECIDING, MODEL, Setup

__all__ = ["MAX_BOOL_CHAIN", "TRAINING_CALLS", "extract", "has_overlong_bool_chain"]


def extract(path: str, text: str, context: ExtractContext) -> list[Setup]:
    """Setups of one Python file. Raises ExtractError when the file does not parse."""
    tree = _parse(text)
    if _launch_strings_only(text, context) and not may_hold_argv(tree, text):
        return []  # a launcher's name in strings that are no command line: nothing to index
    indexer = _Indexer()
    try:
        indexer.visit_module(tree)
        loads = indexer.calls_a_loader() or calls_a_helper(indexer, context)
        if not loads and not may_deploy(text):
            return []  # the trigger tokens were in names that load nothing
        source = _Source(text)
        extraction = _Extraction(path, source, indexer, context)
        extraction.tree = tree
        setups = extraction.run(loads)
        calls = context.invocations_of(path) if context.invocations else []
        invoked, unrun = _invoked_setups(path, source, indexer, context, tree, loads, extraction, calls)
        return [setup for setup in setups if id(setup) not in unrun] + invoked
    except RecursionError:
        raise ExtractError("too deeply nested to parse", 1) from None
    finally:
        indexer.release()


def _launch_strings_only(text: str, context: ExtractContext) -> bool:
    """A file the prefilter kept for a launcher's name in a string alone: no loader's name, no
    platform call's, no project helper's anywhere in its text (then only an argv list can make
    a setup, and the indexer, most of a file's cost, is needed only when one is there)."""
    if any(name in text for name in LOADER_CALLS) or any(name in text for name in PLATFORM_CALLS):
        return False
    modules = getattr(context, "modules", None)
    return modules is None or not modules.may_call_helper(text.encode("utf-8", "surrogatepass"))


def _invoked_setups(
    path: str,
    source: _Source,
    indexer: _Indexer,
    context: ExtractContext,
    tree: ast.Module,
    loads: bool,
    default: _Extraction,
    calls: list[Any],
) -> tuple[list[Setup], set[int]]:
    """One more extraction per group of invocations that pass the same values on the same GPU:
    the setups their values or GPU change, labelled with the commands (ecolint/invocations.py).
    A command whose setup is the defaults' (it passes nothing the setup depends on) is named
    on the defaults' setup instead ("also invoked by"): one setup, one finding per verdict.
    Also returns the defaults' setups that no command of the repository runs: those resting on
    options every command passes (`eval.sh` always gives `--batch-size 20`; the script's default
    of 1 is then nobody's run, and each command's own setup says what runs), and those whose
    model every command names where the defaults leave it unknown."""
    if not calls or not loads:
        return [], set()
    line = default.command_line()
    reads = default.env_names()
    groups: dict[str, tuple[dict[str, Any], dict[str, str], Any, Any, list[str]]] = {}
    everywhere: list[str] = []  # commands that pass nothing the script reads, on no stated GPU
    for call in calls:
        values = passed_values(call.args, line)
        env = {name: value for name, value in call.env if name in reads}
        if not values and not env and call.gpu is None and call.image is None:
            everywhere.append(call.name)
            continue
        platform = [None if fact is None else fact.value for fact in (call.gpu, call.image)]
        key = repr((sorted(values.items(), key=repr), sorted(env.items()), platform))
        groups.setdefault(key, (values, env, call.gpu, call.image, []))[4].append(call.name)
    found: list[Setup] = []
    defaults = {(s.origin, s.framework): s for s in default.setups}
    same: dict[int, list[str]] = {id(s): list(everywhere) for s in default.setups}
    named: dict[int, int] = {}  # defaults' setup → the commands' groups that name its model
    for values, env, gpu, image, names in groups.values():
        extraction = _Extraction(path, source, indexer, context)
        extraction.tree = tree
        extraction.invoked = values
        extraction.invoked_env = env
        for setup in extraction.run(loads):
            setup = with_platform(setup, gpu, image)
            alike = defaults.get((setup.origin, setup.framework))
            if alike is not None and _values(alike) == _values(setup):
                same[id(alike)].extend(names)
                continue
            if alike is not None and setup.has(MODEL):
                named[id(alike)] = named.get(id(alike), 0) + 1
            setup.label = label_for(names, setup.label)
            found.append(setup)
    unrun = set()
    for setup in default.setups:
        if same[id(setup)]:
            setup.label = label_for(same[id(setup)], setup.label, also=True)
        elif _every_command_overrides(setup, calls, line):
            unrun.add(id(setup))
        elif not setup.has(MODEL) and groups and named.get(id(setup)) == len(groups):
            # every command names the model the defaults leave unknown (`--model_name_or_path`
            # with no default): the defaults are nobody's run, and say less than the commands
            unrun.add(id(setup))
    return found, unrun


def _every_command_overrides(setup: Setup, calls: list[Any], line: Any) -> bool:
    """Whether every command passes a value for each option whose default chose this setup's
    branches (an option the script's command line does not declare counts as not passed)."""
    chosen = setup.get(DEFAULTS_CHOSEN) or ()
    dests = {line.options[flag][0] for flag in chosen if flag in line.options}
    if not chosen or any(flag not in line.options for flag in chosen):
        return False
    return all(dests <= passed_values(call.args, line).keys() for call in calls)


def _values(setup: Setup) -> dict[str, Any]:
    """What a setup says, apart from which defaults chose its branches (a command that passes
    the default's value gives the same setup)."""
    return {name: fact.value for name, fact in setup.facts.items() if name not in (DEFAULTS_CHOSEN, DEFAULTS_DECIDING)}


class _Extraction(_CrossModule):
    """Pass 2 over one file's index: setups from loading calls, then the signals that need them
    (compile, generate per prompt or per request, reload per request), then labels; then the
    launcher command lines and platform calls of the file, and the GPUs its decorators state."""

    def run(self, loads: bool = True) -> list[Setup]:
        self._collect_argparse()
        if loads:
            self._collect_handlers()
            self._recognise()
            self._recognise_helper_calls()
            self._split_by_call_site()
        if self.setups:
            self._attach_compile()
            self._recognise_wrappers()
            self._attach_single_request()
            self._attach_reload()
            self._drop_unused_provisional()
            self._attach_purpose()
            self._from_prototypes()
            self._attach_labels()
        self._launch_commands()
        self._attach_platform_gpus()
        return self.setups
