"""Usage analysis: how the loaded models are used. ``generate()`` once per prompt in a loop or
once per web request (handlers, call chains), a model loaded again per request or loop item,
``torch.compile`` of the model, and whether the module trains rather than serves.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ecolint.extract import LOADER_CALLS, ExtractContext
from ecolint.extract.python.flows import (
    _batch_lists,
    _BodyScan,
    _carries_result,
    _closure,
    _fed_back_in_loop,
    _Flows,
    _flows,
    _gathered_and_emptied,
    _lists_read,
    _result_and_exposed,
)
from ecolint.extract.python.frameworks import _Handle, _Recognition
from ecolint.extract.python.index import _Class, _Condition, _Function, _Indexer, _Loop, _Scope, _Site
from ecolint.extract.python.source import _Source
from ecolint.extract.python.syntax import (
    _args,
    _argument_values,
    _final_name,
    _is_one,
    _literal,
    _Located,
    _names_in,
    _path_to,
    _Statements,
    _target_names,
)
from ecolint.extract.python.values import _Entry
from ecolint.setups import (
    COMPILED,
    DEFAULTS_CHOSEN,
    DEFAULTS_DECIDING,
    GENERATION_CALL,
    LOADER,
    PURPOSE,
    QUANT_CONFIG,
    RELOAD_PER_REQUEST,
    REQUEST_SOURCE,
    SINGLE_REQUEST,
    Setup,
)

_Uses = list[tuple[ast.expr, list[ast.expr], bool]]  # a call's generation: (target, prompts, handler-only)

# Names that say a loop item or an iterable holds several prompts at once.
_BATCHY = re.compile(r"batch|chunk|group|shard|bucket|loader", re.IGNORECASE)
# ... but a list named for one batch (`batch`, `chunk`, `batch_prompts`) holds its items: a loop
# over it goes item by item (`for line in batch:` inside `for batch in dataloader:`)
_ONE_BATCH = re.compile(
    r"(?:batch|chunk|group|shard|bucket)"
    r"(?:_(?:prompts?|items?|data|inputs?|samples?|texts?|questions?|lines?|examples?|queries|query|messages?|rows?))?$",
    re.IGNORECASE,
)

# Decorator attributes that register a web route: @app.post("/"), @router.get, @bp.route, …
_ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "websocket_route", "head", "options"}
)
_ENDPOINT_DECORATORS = frozenset({"web_endpoint", "fastapi_endpoint"})  # Modal
# Keywords a route registrar or a Gradio listener takes the function to run by (`view_func=`, `fn=`).
_HANDLER_KEYWORDS = frozenset({"endpoint", "view_func", "fn"})
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
# Gradio calls that register a function run per user event: gr.Interface(fn=…), btn.click(fn, …),
# chained .then(bot, …), gr.on(triggers, fn). `batch=True` on them makes Gradio batch requests.
_GRADIO_HANDLERS = frozenset(
    {"Interface", "ChatInterface", "click", "submit", "change", "then", "success", "on", "input"}
)
# Task-queue workers run a function once per job: Celery's @app.task / @shared_task, Dramatiq's @actor.
_TASK_DECORATORS = frozenset({"task", "shared_task", "actor"})
# Chainlit calls an @cl.on_message function every time a message arrives from the UI (its
# lifecycle-hook reference); @cl.on_chat_start runs once per session.
_CHAINLIT_HANDLERS = frozenset({"on_message"})
# The task queues, and what a finding says runs the function once (its unit of work).
_TASK_QUEUES = {"celery": "Celery task", "dramatiq": "Dramatiq message", "huey": "Huey task"}
# What runs a handler once per request, as findings say it ("… called once per web request").
_WEB_REQUEST = "web request"
_GRADIO_EVENT = "Gradio event"
_STREAMLIT_RERUN = "Streamlit rerun"
_CHAINLIT_MESSAGE = "Chainlit message"
# The methods of a class-based web view that handle a request, one per HTTP verb.
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete"})
# Model wrappers a framework calls once per prompt or request: (the framework's import prefix, base classes,
# the methods it calls, what a finding says runs them). LangChain's LLM._generate loops over the
# prompts calling _call (or _acall) with one each (langchain_core/language_models/llms.py), so
# llm.batch(…) too runs one generation per prompt; _stream/_astream take one prompt. A chat
# model's _generate/_stream take one conversation. A LlamaIndex LLM completes one prompt per
# complete()/stream_complete() and one conversation per chat(). Class-based web views (below)
# share the table: the framework calls their methods once per request.
_LLM_WRAPPERS = (
    (
        "langchain",
        frozenset({"LLM"}),
        frozenset({"_call", "_acall", "_stream", "_astream"}),
        "prompt LangChain passes to",
    ),
    (
        "langchain",
        frozenset({"BaseChatModel", "SimpleChatModel"}),
        frozenset({"_call", "_generate", "_agenerate", "_stream", "_astream"}),
        "conversation LangChain passes to",
    ),
    (
        "llama_index",
        frozenset({"CustomLLM", "LLM"}),
        frozenset(
            {
                "complete",
                "stream_complete",
                "acomplete",
                "astream_complete",
                "chat",
                "stream_chat",
                "achat",
                "astream_chat",
            }
        ),
        "prompt LlamaIndex passes to",
    ),
    # Replicate's Cog calls a BasePredictor's setup() once and predict() for every prediction
    # request ("Run a single prediction on the model", Cog's prediction interface reference).
    ("cog", frozenset({"BasePredictor"}), frozenset({"predict"}), "prediction Cog runs through"),
    # Class-based web views: the framework routes each HTTP request to the method named after
    # its verb (`api.add_resource(Generate, "/generate")`, `app.add_url_rule(…,
    # view_func=Generate.as_view(…))`, a Tornado handler in the application's route table).
    ("flask_restful", frozenset({"Resource"}), _HTTP_VERBS, "request Flask-RESTful routes to"),
    ("flask_restx", frozenset({"Resource"}), _HTTP_VERBS, "request Flask-RESTX routes to"),
    ("flask.views", frozenset({"MethodView"}), _HTTP_VERBS, "request Flask routes to"),
    ("tornado.web", frozenset({"RequestHandler"}), _HTTP_VERBS, "request Tornado routes to"),
)
MAX_COG_LEVELS = 4  # directories above a Cog predictor looked at for its cog.yaml
MAX_BASE_DEPTH = 3  # local classes between a model wrapper and the framework's base class
# How many calls away from a handler or a loop generate() is still followed (handler → helper →
# helper → generate); the callers are looked up once per level, so the cost stays small.
MAX_CALL_DEPTH = 3
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
# Arguments of generate()/pipe()/llm.generate() that carry the prompts.
_INPUT_KEYWORDS = frozenset(
    {"inputs", "input_ids", "inputs_embeds", "prompts", "prompt", "prompt_token_ids", "text_inputs", "messages", "text"}
)
# Generation not spelled generate: the chat methods of trust_remote_code models (Qwen, ChatGLM,
# MiniCPM-V, InternVL: `model.chat(tokenizer, query, history=…)`) and vLLM's LLM.chat.
_CHAT_METHODS = frozenset({"chat", "stream_chat", "chat_stream"})
# ... and `model.stream_generate(**inputs)` of ChatGLM's remote code, which yields the output as
# it grows (the streaming API servers' loop).
_GENERATING_METHODS = frozenset({"generate", "stream_generate"}) | _CHAT_METHODS
# Their prompt-carrying keywords: the query, the conversation so far, the images asked about.
_CHAT_KEYWORDS = _INPUT_KEYWORDS | {"query", "question", "msgs", "history", "image", "images", "pixel_values"}
# Generation written out by hand: a decoding loop runs the model's forward pass token after
# token, feeding each step's output (the next token, the KV cache) into the next (Baize's
# sample_decode, InternLM-style generate_interactive). Findings name it `forward()`.
_FORWARD = "forward"
# The models such a loop decodes, by their loading class (a UNet's denoising loop or an RNN's
# recurrence feeds back too, and is no LLM generation).
_DECODER_LOADER = re.compile(r"(?:ForCausalLM|LMHeadModel|ForConditionalGeneration)\.from_")


def _statement_of(tree: ast.AST, call: ast.Call) -> ast.stmt | None:
    """The innermost statement of `tree` that holds `call` (`tree` itself aside)."""
    return next((n for n in reversed(_path_to(tree, call)[1:]) if isinstance(n, ast.stmt)), None)


def _block_of(tree: ast.AST, statement: ast.stmt) -> tuple[list[ast.stmt], int] | None:
    """The statement list that holds a statement, and where in it."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                for at, item in enumerate(block):
                    if item is statement:
                        return block, at
    return None


# Clock reads a latency measurement brackets a call with: time.time(), time.perf_counter(),
# time.monotonic() (and their _ns forms), timeit.default_timer().
_CLOCKS = frozenset({"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time_ns", "default_timer"})


def _reads_a_clock(statement: ast.stmt) -> bool:
    for node in ast.walk(statement):
        if not isinstance(node, ast.Call) or node.args or node.keywords:
            continue
        func = node.func
        if _final_name(func) in _CLOCKS:
            return True
        if isinstance(func, ast.Attribute) and func.attr == "time" and _final_name(func.value) == "time":
            return True
    return False


def _synchronizes(statement: ast.stmt) -> bool:
    """`torch.cuda.synchronize()` on its own line (so that the clock reads the GPU's time)."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and _final_name(statement.value.func) == "synchronize"
    )


# Fewer prompts than this, written out in a loop's literal, are a sample (the batch-size evidence
# compares batch 1 with batch 8 and 64).
FEW_ITEMS = 8
# Calls that iterate over their first argument's items as they are.
_PASS_THROUGH = frozenset({"enumerate", "tqdm", "list", "tuple", "sorted", "reversed", "track"})


def _iterated(expr: ast.expr | None) -> ast.expr | None:
    """What a loop goes over under the calls that pass its items through: enumerate(cases),
    tqdm(dataloader), list(questions)."""
    while isinstance(expr, ast.Call) and _final_name(expr.func) in _PASS_THROUGH and expr.args:
        expr = expr.args[0]
    return expr


def _grown(where: ast.AST, name: str) -> bool:
    """Whether a function (or module) adds items to a list it names."""
    return next(_growths(where, name), None) is not None


def _growths(where: ast.AST, name: str) -> Iterator[ast.AST]:
    """The places a function (or module) adds items to a list it names: `name.append(…)`,
    `.extend`, `.insert`, `name += …`."""
    for node in ast.walk(where):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            holder = node.func.value
            if isinstance(holder, ast.Name) and holder.id == name and node.func.attr in ("append", "extend", "insert"):
                yield node
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            yield node


def _few_literal(expr: ast.expr | None) -> bool:
    value = _literal(expr) if expr is not None else None
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < FEW_ITEMS


def _cut_to_few(expr: ast.expr | None) -> bool:
    """Whether an iterable is cut to fewer items than the evidence's smallest batch by numbers
    written in the code: `data[:5]`, `range(3)`, `ds.select(range(4))`, `df.head(5)`,
    `ds.take(5)`, `itertools.islice(rows, 5)`."""
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
        cut = expr.slice
        start = _literal(cut.lower) if cut.lower is not None else 0
        return start == 0 and cut.step is None and _few_literal(cut.upper)
    if not isinstance(expr, ast.Call) or expr.keywords:
        return False
    name = _final_name(expr.func)
    args = expr.args
    if name == "range" and isinstance(expr.func, ast.Name):
        return (len(args) == 1 and _few_literal(args[0])) or (
            len(args) == 2 and _literal(args[0]) == 0 and _few_literal(args[1])
        )
    if name in ("head", "take") and isinstance(expr.func, ast.Attribute) and len(args) == 1:
        return _few_literal(args[0])
    if name == "select" and isinstance(expr.func, ast.Attribute) and len(args) == 1:
        return _cut_to_few(args[0])
    if name == "islice" and len(args) == 2:
        return _few_literal(args[1])
    return False


def _appending_loop(where: ast.AST, name: str) -> ast.For | None:
    """The `for` loop that builds a list named ``name`` with one `name.append(...)` per pass
    (`formatted = []` … `for p in prompts: formatted.append(template(p))`), when that append is
    the only way the list grows: it holds as many items as the loop has passes."""
    if len(list(itertools.islice(_growths(where, name), 2))) != 1:
        return None
    return next(
        (
            node
            for node in ast.walk(where)
            if isinstance(node, ast.For)
            and any(_appends_to(statement, name) for statement in node.body)
            and not any(isinstance(n, (ast.For, ast.AsyncFor, ast.While)) for s in node.body for n in ast.walk(s))
        ),
        None,
    )


def _appends_to(statement: ast.stmt | ast.AST, name: str) -> bool:
    """`name.append(x)` as a statement of its own."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    func = statement.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "append"
        and isinstance(func.value, ast.Name)
        and func.value.id == name
        and len(statement.value.args) == 1
    )


def _enclosing(fn: _Function | None) -> list[_Function]:
    """A function and the functions it is nested in, innermost first."""
    chain = []
    while fn is not None:
        chain.append(fn)
        fn = fn.outer
    return chain


def _returns_in(body: _Statements) -> bool:
    return any(isinstance(node, ast.Return) for statement in body for node in ast.walk(statement))


# Calls that make a module a training script, not an inference one.
# Preparing a model for adapters: training where the module trains (below), but a model class
# that wraps its LLM so in its constructor (MiniGPT-4's and PLLaVA's LoRA) is built the same way
# by the inference scripts that load its trained weights.
ADAPTER_CALLS = frozenset({"prepare_model_for_kbit_training", "prepare_model_for_int8_training", "get_peft_model"})
# What trains: a trainer or its arguments, or a hand-written loop's backward pass.
TRAINING_CALLS = frozenset(
    {
        *ADAPTER_CALLS,
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


_BACKWARD_CALLS = frozenset({"backward", "zero_grad"})  # loss.backward(), optimizer.zero_grad()

# What touches a loaded model without running it: a smoke test's assert, a download or
# conversion job's save, moving or counting it, printing it.
_INERT_METHODS = frozenset(
    {
        "save_pretrained",
        "push_to_hub",
        "num_parameters",
        "get_memory_footprint",
        "parameters",
        "named_parameters",
        "state_dict",
        "eval",
        "to",
        "cuda",
        "cpu",
        "half",
        "float",
        "bfloat16",
        "requires_grad_",
    }
)
# ... of which these return the model itself: inert only where the statement drops the result.
_RETURN_THE_MODEL = frozenset({"eval", "to", "cuda", "cpu", "half", "float", "bfloat16", "requires_grad_"})
# Calls that write a model out: a module that makes them and runs no model converts models.
_SAVING_CALLS = frozenset({"save_pretrained", "push_to_hub"})
_INERT_CALLS = frozenset({"print", "len", "isinstance", "type", "str", "repr", "id", "hasattr", "getattr"})


@dataclass
class _NameUses:
    """The reads of names in a tree, and which of them leave a model unrun whatever the names
    (``_name_uses``): made once per function or module, asked for each model loaded there."""

    loads: list[ast.Name]
    inert: set[int]  # ids of the reads inside an assert or a del, an inert method's receiver, …
    assigns: list[ast.Assign]  # where a name may be rebound to what its own value makes


def _name_uses(tree: ast.AST) -> _NameUses:
    uses = _NameUses([], set(), [])
    statements: set[int] = set()  # calls whose result a statement drops (`model.eval()`)
    for node in ast.walk(tree):  # breadth first: a statement before the calls in it
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                uses.loads.append(node)
        elif isinstance(node, (ast.Assert, ast.Delete)):
            uses.inert.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Expr):
            chain = node.value
            while isinstance(chain, ast.Call) and isinstance(chain.func, ast.Attribute):
                statements.add(id(chain))  # `model.half().cuda()`: each call of the chain
                chain = chain.func.value
        elif isinstance(node, ast.Assign):
            uses.assigns.append(node)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _INERT_METHODS:
                # `return model.eval()` hands the model on; `model.eval()` alone does not
                if func.attr not in _RETURN_THE_MODEL or id(node) in statements:
                    uses.inert.update(id(n) for n in _receiver_names(func.value))
            elif isinstance(func, ast.Name) and func.id in _INERT_CALLS:
                for arg in node.args:
                    uses.inert.update(id(n) for n in _receiver_names(arg))
    return uses


def _inert_and_other_uses(uses: _NameUses, names: set[str]) -> tuple[int, int]:
    """How many reads of `names` leave the model unrun (inside an assert or a del, the
    receiver of save_pretrained/.to/…, an argument of print/len/isinstance) and how many may run
    it or hand it on (anything else: generate, a call, a return, an assignment)."""
    inert = set(uses.inert)
    for node in uses.assigns:
        if _rebinds(node, names):
            # model = PeftModel.from_pretrained(model, …); model = model.merge_and_unload(): the
            # same name holds the result, and its own later uses are counted.
            inert.update(id(n) for n in ast.walk(node.value) if isinstance(n, ast.Name) and n.id in names)
    reads = [n for n in uses.loads if n.id in names]
    touched = sum(1 for n in reads if id(n) in inert)
    return touched, len(reads) - touched


def _rebinds(node: ast.Assign, names: set[str]) -> bool:
    return all(isinstance(t, ast.Name) and t.id in names for t in node.targets)


def _receiver_names(expr: ast.expr) -> list[ast.Name]:
    """The name at the root of `model`, `model.config`, `model.lm_head.weight`."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return [expr] if isinstance(expr, ast.Name) else []


def _result_of(expr: ast.expr, call: ast.Call) -> bool:
    """`call` itself, or a chain of method calls on its result (`X.from_pretrained(…).eval().to(d)`)."""
    while expr is not call:
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)):
            return False
        expr = expr.func.value
    return True


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


def _is_a_parameter(name: str, fn: _Function | None) -> bool:
    """Whether a name is a parameter of the function it is read in, or of one around it."""
    return fn is not None and any(name == param.name for outer in fn.chain() for param in outer.params())


def _may_be_a_forward_pass(func: ast.expr) -> bool:
    """`model(…)`, `model.forward(…)`, `self.model(…)`: the shapes of a model called directly."""
    if isinstance(func, ast.Name):
        return True
    return isinstance(func, ast.Attribute) and (
        func.attr == _FORWARD or (isinstance(func.value, ast.Name) and func.value.id == "self")
    )


def _chat_inputs(call: ast.Call) -> list[ast.expr]:
    """The prompt arguments of a remote-code chat call: every positional one (the tokenizer
    comes first and never carries a prompt, so keeping it is harmless) and the query keywords."""
    return [arg.value for arg in _args(call) if arg.star or arg.keyword is None or arg.keyword in _CHAT_KEYWORDS]


def _over_a_range(loop: _Loop) -> bool:
    """A loop over indices (`for i in range(0, n, batch_size)`): its slices are decided by the
    step, which the batch-loop test reads."""
    iterated = _iterated(loop.iter)
    return isinstance(iterated, ast.Call) and _final_name(iterated.func) == "range"


def _is_batch_input(expr: ast.expr) -> bool:
    """[p1, p2] or [f(p) for p in group] passed as the prompts: a batch. A list of dicts is one
    chat conversation, not a batch."""
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        elements = [e.value if isinstance(e, ast.Starred) else e for e in expr.elts]
        return len(elements) >= 2 and not all(isinstance(e, ast.Dict) for e in elements)
    return False


# How generate() is called once per prompt: ("loop", None), or ("handler", what runs the handler).
_Signal = tuple[str, str | None]
_LOOP: _Signal = ("loop", None)


def _picks_one(expr: ast.expr) -> bool:
    """`questions[0]`: one element of a list, picked by a literal index."""
    if not isinstance(expr, ast.Subscript):
        return False
    index = _literal(expr.slice)
    return isinstance(index, int) and not isinstance(index, bool)


def _generation_call(target: ast.expr) -> str:
    """The generating call as findings name it: `chat()`, `stream_chat()`, `generate()`, or a
    pipeline called by its name (`pipe()`)."""
    name = target.attr if isinstance(target, ast.Attribute) else _final_name(target)
    if name == _FORWARD:
        return "forward() in a hand-written decoding loop"
    return f"{name or 'generate'}()"


def _queue_of(qualified: str | None) -> str | None:
    """The unit of work of the task queue a dotted name belongs to (`celery.shared_task`)."""
    for prefix, unit in _TASK_QUEUES.items():
        if qualified is not None and qualified.startswith(prefix):
            return unit
    return None


def _is_lazy_test(test: ast.expr) -> bool:
    """`x is None`, `x is not None`, `key not in cache`, `not x`, `not hasattr(...)`."""
    if isinstance(test, ast.Compare):
        return any(isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for op in test.ops)
    if isinstance(test, ast.UnaryOp):
        return isinstance(test.op, ast.Not)
    if isinstance(test, ast.BoolOp):
        return any(_is_lazy_test(value) for value in test.values)
    return False


def _is_test_module(path: str) -> bool:
    """A module named the way pytest collects (test_*.py, *_test.py) or a conftest.py. Only one
    that defines test functions counts: research repositories name inference scripts test.py or
    test_model.py, and those run the model for real."""
    name = PurePosixPath(path.replace("\\", "/")).name
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))


def _in_test_function(site: _Site) -> bool:
    """A load inside a pytest test function (`def test_generate():`), in whatever file."""
    return site.function is not None and any(fn.node.name.startswith("test_") for fn in site.function.chain())


def _exclusive(one: tuple[_Condition, ...], other: tuple[_Condition, ...]) -> bool:
    """Whether two statements sit in different branches of one if / match: one run takes one
    of them (a model a branch loads is not the one the other branch generates with)."""
    return any(a.statement == b.statement and a.block != b.block for a in one for b in other)


class _Usage(_Recognition):
    """The signals that need the setups: web handlers, compile, generate per prompt or per
    request, reload per request or loop item, training purpose."""

    def __init__(
        self,
        path: str,
        source: _Source,
        index: _Indexer,
        context: ExtractContext,
        callers: Callable[[_Function], list[_Site]] | None = None,
    ) -> None:
        """``callers`` finds the calls of a function on the way from generate() up to a handler
        or a loop; by default those of this file (a cross-module pass may pass its own). Kept as
        given: a bound method of self stored on self would be a reference cycle."""
        super().__init__(path, source, index, context)
        self._callers_resolver = callers
        self.handlers: dict[_Function, str] = {}  # → what runs it once per request (_WEB_REQUEST, …)
        self._loader_defaults: list[str] = []  # CLI defaults that made a DataLoader yield one item
        self.batched: set[_Function] = set()
        self._flows: dict[int, _Flows] = {}
        self._statement_flows: dict[int, _Flows] = {}
        self._inference: dict[int, list[_Site]] | None = None
        self._name_uses_in: dict[int, _NameUses] = {}  # id of a function's node or the module's
        self._has_pipelines = False
        self._forward_steps: dict[int, ast.Attribute] = {}  # id of a call → its _decoding_step
        # Thread(target=model.generate) / Thread(target=self.model.chat) needs one of the words
        self._generate_written = "generate" in source.text or "chat" in source.text
        self.streamlit_app = False

    # -- web handlers -------------------------------------------------------------------------

    def _collect_handlers(self) -> None:
        for fn in self.index.functions:
            self._classify_function(fn)
        uses_gradio = self._uses_gradio()
        # Streamlit runs the whole script again on every interaction: its module-level code, and
        # the functions it calls that st.cache_* does not keep, run once per user request.
        self.streamlit_app = any(q.split(".")[0] == "streamlit" for q in self.index.qualified.values())
        if self.streamlit_app:
            named = self._names_used()
            for fn in self.index.functions:
                # a function the script never names (a call, a callback `on_click=respond`)
                # never runs
                if fn.name in named and not self._streamlit_cached(fn):
                    self.handlers.setdefault(fn, _STREAMLIT_RERUN)
        for site in self.index.calls:
            name = site.name
            if name in _ROUTE_REGISTRARS:
                source = _WEB_REQUEST
            elif uses_gradio and name in _GRADIO_HANDLERS:
                source = _GRADIO_EVENT
            else:
                continue
            keywords = self._kwargs(site.node, site.scope)
            batched = name in _GRADIO_HANDLERS and self._truthy(keywords.get("batch"))
            for value, scope in self._passed_handlers(site, keywords):
                callees = self._callees(value, scope)
                for callee in callees:
                    self.handlers.setdefault(callee, source)
                if batched:
                    self.batched.update(callees)

    def _passed_handlers(self, site: _Site, keywords: dict[str, _Entry]) -> list[tuple[ast.expr, _Scope]]:
        """What a registration (a route registrar, a Gradio listener) is handed to run, with the
        scope to read it in: by position, by keyword, or in a dict of the event's arguments
        (`predict_args = dict(fn=predict, …)` … `btn.click(**predict_args)`). ``keywords``: the
        call's, mappings expanded (``_kwargs``)."""
        passed = [(arg.value, site.scope) for arg in _args(site.node) if arg.keyword is None and not arg.star]
        return passed + [(entry.value, entry.scope) for key, entry in keywords.items() if key in _HANDLER_KEYWORDS]

    def _uses_gradio(self) -> bool:
        return any(q.split(".")[0] == "gradio" for q in self.index.qualified.values())

    def _names_used(self) -> set[str]:
        """The names and attribute names the module's code reads."""
        tree = self.index.tree
        if tree is None:
            return {fn.name for fn in self.index.functions}
        return {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Name | ast.Attribute)
        }

    def _streamlit_cached(self, fn: _Function) -> bool:
        """@st.cache_resource / @st.cache_data (@st.cache, @st.experimental_memo …): run once."""
        for expr in fn.node.decorator_list:
            target = expr.func if isinstance(expr, ast.Call) else expr
            qualified = self._qualified(target) or ""
            if qualified.startswith("streamlit.") and ("cache" in qualified or "memo" in qualified):
                return True
        return False

    def _classify_function(self, fn: _Function) -> None:
        for expr in fn.node.decorator_list:
            target = expr.func if isinstance(expr, ast.Call) else expr
            name = _final_name(target)
            qualified = self._qualified(target) or ""
            if qualified.startswith(_MOCK_MODULES):
                continue  # @patch("pkg.Thing", Fake) is unittest.mock's, not an HTTP PATCH route
            if (name in _ROUTE_DECORATORS and isinstance(expr, ast.Call)) or name in _ENDPOINT_DECORATORS:
                self.handlers.setdefault(fn, _WEB_REQUEST)
            elif name == "api" and qualified.startswith("bentoml"):
                self.handlers.setdefault(fn, _WEB_REQUEST)
                if isinstance(expr, ast.Call) and self._truthy(self._kwargs(expr, fn.scope).get("batchable")):
                    self.batched.add(fn)
            elif name == "batch" and "serve" in qualified:
                self.batched.add(fn)
            elif name in _TASK_DECORATORS and (queue := self._task_queue(target, fn.scope)) is not None:
                self.handlers.setdefault(fn, queue)
            elif name in _CHAINLIT_HANDLERS and qualified.startswith("chainlit."):
                self.handlers.setdefault(fn, _CHAINLIT_MESSAGE)
        if fn.name == "__call__" and fn.method_of is not None and self._is_serve_deployment(fn.method_of):
            self.handlers.setdefault(fn, _WEB_REQUEST)
        if fn.method_of is not None:
            source = self._wrapper_source(fn.name, fn.method_of, 0)
            if source is not None:
                self.handlers.setdefault(fn, source)

    def _base_qualified(self, base: ast.expr, cls: _Class) -> str | None:
        """The dotted name of a base class as imported where the class is defined (a file-wide
        alias can be shadowed later: `from vllm import LLM` inside a method of a LangChain LLM)."""
        if isinstance(base, ast.Name):
            parent = cls.scope.parent or self.index.module
            for binding in self._definitions(base.id, cls.node.lineno, parent)[0]:
                ref = binding.ref
                if ref is not None and ref.name is not None and not ref.level:
                    return f"{ref.module}.{ref.name}"
        return self._qualified(base)

    def _wrapper_source(self, method: str, cls: _Class, depth: int) -> str | None:
        """What calls ``method`` once per prompt when ``cls`` wraps a model for LangChain or
        LlamaIndex (its bases, through local subclasses), or None."""
        for base in cls.node.bases:
            qualified = self._base_qualified(base, cls) or ""
            for prefix, bases, methods, words in _LLM_WRAPPERS:
                if method in methods and qualified.startswith(prefix) and qualified.rsplit(".", 1)[-1] in bases:
                    if prefix == "cog" and not self._cog_configured():
                        continue  # no cog.yaml: `python predict.py` runs it as a script
                    return f"{words} {method}()"
            local = self._local_class(base.id, cls.scope) if isinstance(base, ast.Name) else None
            if local is not None and local is not cls and depth < MAX_BASE_DEPTH:
                found = self._wrapper_source(method, local, depth + 1)
                if found is not None:
                    return found
        return None

    def _cog_configured(self) -> bool:
        """Whether a cog.yaml (which names the predictor Cog serves) sits beside this module or
        in a directory above it, inside the scan root: without one, Cog does not serve it."""
        return self.context.folder_with(self._dir(), ("cog.yaml",), MAX_COG_LEVELS) is not None

    def _task_queue(self, target: ast.expr, scope: _Scope) -> str | None:
        """What runs a task decorated so, or None: @shared_task, @celery.task, @app.task where
        app = Celery(…), @dramatiq.actor."""
        found = _queue_of(self._qualified(target))
        if found is not None:
            return found
        if not isinstance(target, ast.Attribute) or not isinstance(target.value, ast.Name):
            return None
        for binding in self._definitions(target.value.id, target.lineno, scope)[0]:
            value = binding.value
            if isinstance(value, ast.Call):
                found = _queue_of(self._qualified(value.func))
                if found is not None:
                    return found
        return None

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
        return self._request_source(site, inference_only=inference_only) is not None

    def _request_source(self, site: _Site, *, inference_only: bool = False) -> str | None:
        """What runs this call once per request (a web request, a Celery task, …), or None."""
        if site.function is None:
            return _STREAMLIT_RERUN if self.streamlit_app else None  # the script's body runs per interaction
        chain = list(site.function.chain())
        if any(fn in self.batched for fn in chain):
            return None
        for fn in chain:
            source = self.handlers.get(fn)
            if source is not None and not (inference_only and "load" in fn.name.lower()):
                return source
        return None

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
            elif setup.get(COMPILED) is not True:  # a helper of another module may compile it
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
        found = [(site, uses) for site in self.index.calls if (uses := self._generate_uses(site))]
        # Only the branches the command-line defaults take: in `if args.fastllm: model.chat(…)
        # else: model.generate(…)` the generate() a plain run makes is the one the finding is
        # about. A call in a branch the defaults never take (an opt-in `--no_batching` loop, a
        # `if "chatglm" in args.model_path:` path the default model skips) makes no finding of
        # its own: a command of the project that takes the branch gives its own setup.
        for site, uses in found:
            taken, branches = self._branches(site)
            if taken is not False:
                self._generation_at(site, uses, branches, found)

    def _generation_at(
        self,
        site: _Site,
        uses: _Uses,
        branches: list[tuple[_Condition, set[str]]],
        found: list[tuple[_Site, _Uses]],
    ) -> None:
        for target, inputs, handler_only in uses:
            handle = self._generate_handle(target, site)
            if handle is None or handle.kind == "engine" or handle.setup.has(SINGLE_REQUEST):
                continue
            loaded = self.origin_site.get(id(handle.setup))
            if loaded is not None and _exclusive(site.when, loaded.when):
                continue  # `if args.use_vllm: model.generate(…) else: model = from_pretrained(…)`
            self._loader_defaults = []
            signal = self._single_request(site, inputs, handler_only)
            if signal is None:
                continue
            kind, source = signal
            if signal == _LOOP and self._timed(site):
                continue  # a latency measurement, one request at a time on purpose
            where = self._loc(site.node if not handler_only else target)
            handle.setup.set(SINGLE_REQUEST, kind, where)
            # one sample at a time because of --batch-size's default; this generation because
            # the defaults take its branch where another branch generates otherwise
            decided = [(SINGLE_REQUEST, option) for option in self._loader_defaults]
            for condition, options in branches:
                if options and self._generates_otherwise(condition, site, handle.setup, target, kind, found):
                    decided.extend((GENERATION_CALL, option) for option in options)
            if decided:
                options = set(handle.setup.get(DEFAULTS_CHOSEN, ())) | {option for _, option in decided}
                handle.setup.set(DEFAULTS_CHOSEN, tuple(sorted(options)), where, "implied")
                deciding = set(handle.setup.get(DEFAULTS_DECIDING, ())) | set(decided)
                handle.setup.set(DEFAULTS_DECIDING, tuple(sorted(deciding)), where, "implied")
            handle.setup.set(GENERATION_CALL, _generation_call(target), where)
            if source is not None:
                handle.setup.set(REQUEST_SOURCE, source, where)

    def _generates_otherwise(
        self,
        condition: _Condition,
        site: _Site,
        setup: Setup,
        target: ast.expr,
        kind: str,
        found: list[tuple[_Site, _Uses]],
    ) -> bool:
        """Whether another branch of this condition's statement generates otherwise: another
        model or engine, another call (`chat()` for `generate()`), or not once per prompt or
        request (an interactive loop, one batched call). Then the default that takes this
        branch chose the generation the finding is about."""
        (first, last), (block_first, block_last) = condition.statement, condition.block
        for other, uses in found:
            line = other.node.lineno
            if other is site or not first <= line <= last or block_first <= line <= block_last:
                continue
            for other_target, inputs, handler_only in uses:
                handle = self._generate_handle(other_target, other)
                if handle is None or handle.setup is not setup:
                    return True
                if _generation_call(other_target) != _generation_call(target):
                    return True
                kept = self._loader_defaults
                signal = self._single_request(other, inputs, handler_only)
                self._loader_defaults = kept
                if signal is None or signal[0] != kind:
                    return True
        return False

    def _generate_uses(self, site: _Site) -> list[tuple[ast.expr, list[ast.expr], bool]]:
        """(receiver-or-callee, prompt arguments, handler-only) for generation at this call.

        model.generate(…), llm.generate(…)/llm.chat(…), pipe(…); and Thread(target=model.generate)
        or Thread(target=self.model.chat) (streaming servers), where only the per-request signal
        applies.
        """
        call = site.node
        func = call.func
        uses: list[tuple[ast.expr, list[ast.expr], bool]] = []
        if isinstance(func, ast.Attribute) and func.attr in _GENERATING_METHODS:
            uses.append((func, _chat_inputs(call) if func.attr in _CHAT_METHODS else _inputs(call), False))
        elif self._has_pipelines and isinstance(func, (ast.Name, ast.Attribute)):
            handle = self._handle(func, site.scope)
            if handle is not None and handle.kind == "pipeline":
                uses.append((func, _inputs(call), False))
        elif _may_be_a_forward_pass(func):
            step = self._decoding_step(site)
            if step is not None:
                uses.append((step, _inputs(call), False))
        if not self._generate_written or (not call.args and not call.keywords):
            return uses
        for value in _argument_values(call):
            if type(value) is ast.Attribute and value.attr in _GENERATING_METHODS:
                uses.append((value, [], True))
        return uses

    def _decoding_step(self, site: _Site) -> ast.Attribute | None:
        """`model.forward`, where this call runs a loaded causal LM's forward pass (`model(ids)`,
        `model.forward(**inputs)`) in a loop that feeds the output back into the next call: a
        decoding loop written by hand. A forward pass over each item of a list (a perplexity
        run) feeds nothing back."""
        if not (site.loops or site.in_while):
            return None  # most calls: no loop around them (before any name is resolved)
        call = site.node
        func = call.func
        receiver = func.value if isinstance(func, ast.Attribute) and func.attr == _FORWARD else func
        if self._forward_handle(receiver, site) is None:
            return None
        tree = site.function.node if site.function is not None else self.index.tree
        if tree is None or not _fed_back_in_loop(tree, call, self._flows_of):
            return None
        step = self._forward_steps.get(id(call))
        if step is None:
            step = ast.Attribute(value=receiver, attr=_FORWARD, ctx=ast.Load())
            self._forward_steps[id(call)] = ast.copy_location(step, call)
        return step

    def _forward_handle(self, receiver: ast.expr, site: _Site) -> _Handle | None:
        """The causal LM whose forward pass `receiver(…)` runs, if it is one. A parameter (or
        `self.model`) is taken for the module's one model; a builtin or a class (`getattr(…)`,
        `ChatMessage(…)`) is not."""
        handle = self._handle(receiver, site.scope, base=False)
        if handle is None and (not isinstance(receiver, ast.Name) or _is_a_parameter(receiver.id, site.function)):
            handle = self._only_setup(receiver, site.scope)
        if handle is None or handle.kind != "model":
            return None
        loader = handle.setup.get(LOADER)
        return handle if isinstance(loader, str) and _DECODER_LOADER.search(loader) else None

    def _generate_handle(self, target: ast.expr, site: _Site) -> _Handle | None:
        if isinstance(target, ast.Attribute) and target.attr == _FORWARD:
            return self._forward_handle(target.value, site)  # a decoding loop's step
        if isinstance(target, ast.Attribute) and target.attr in _GENERATING_METHODS:
            receiver = target.value
            handle = self._handle(receiver, site.scope)
            if handle is None:
                handle = self._only_setup(receiver, site.scope)
            if handle is not None and target.attr in _CHAT_METHODS and handle.kind not in ("llm", "model"):
                return None  # a pipeline or an engine has no chat method of the model's
            return handle
        return self._handle(target, site.scope)

    def _timed(self, site: _Site) -> bool:
        """A generation call between two clock reads a statement apart (`start =
        time.perf_counter()`, the call, `elapsed = time.perf_counter() - start`; a CUDA
        synchronize may stand between): a loop measuring the latency of one request, which
        batch size 1 is the point of. A request handler that times itself still serves."""
        where: ast.AST | None = site.function.node if site.function is not None else self.index.tree
        statement = None if where is None else _statement_of(where, site.node)
        found = None if statement is None or where is None else _block_of(where, statement)
        if found is None:
            return False
        block, at = found
        before = [s for s in block[max(0, at - 2) : at] if not _synchronizes(s)]
        after = [s for s in block[at + 1 : at + 3] if not _synchronizes(s)]
        return bool(before) and bool(after) and _reads_a_clock(before[-1]) and _reads_a_clock(after[0])

    def _single_request(self, site: _Site, inputs: list[ast.expr], handler_only: bool) -> _Signal | None:
        source = self._request_source(site)
        if source is not None:
            return "handler", source
        if handler_only:
            return self._via_callers(site.function, [], handler_only=True)
        per_item = self._per_item(site, inputs)
        if per_item:
            return _LOOP
        # a batch loop here (a DataLoader's batches, slices of the list), or a list of prompts
        # the function builds (`prompts = [x[1] for x in todo]`), goes to each call: the callers'
        # loops (one dataset after another) repeat a batch, not one prompt
        batched = per_item is False or (
            site.function is not None and self._fed_a_built_list(site.function, site, inputs)
        )
        return self._via_callers(site.function, [] if batched else inputs, handler_only=batched)

    def _fed_a_built_list(self, fn: _Function, site: _Site, inputs: list[ast.expr]) -> bool:
        """Whether the prompts reach the call from a list of several the function builds before
        it (the statements up to the one holding the call: a list built after, for a second
        round, feeds something else)."""
        before = [statement for statement in fn.node.body if statement.lineno <= site.node.lineno]
        lists = self._prompt_lists(before, site.scope) | _lists_read(before)
        # not through self._derived: its cache is keyed by the block's id, and this list is new
        return bool(lists) and bool(_names_in(inputs) & _closure(lists, _flows(before, self._statement_flows)))

    def _via_callers(
        self, fn: _Function | None, inputs: list[ast.expr], handler_only: bool, depth: int = 1
    ) -> _Signal | None:
        """generate() in a helper: a handler calling the helper (up to MAX_CALL_DEPTH calls away),
        or a per-prompt loop calling it directly with the prompt that reaches generate(). A lock
        around the call (`with lock:`) serialises requests: it batches nothing."""
        if fn is None or depth > MAX_CALL_DEPTH:
            return None
        if self._callers_resolver is None:
            # a call in a branch a plain run (or the command being read) never takes runs nothing
            callers = [caller for caller in self._callers_of(fn) if self._branches(caller)[0] is not False]
        else:
            callers = self._callers_resolver(fn)  # another module's calls: its own defaults decide there
        if not callers:
            return None
        params = {p.name for p in fn.params()} - {"self", "cls"}
        # The def-use closure of the body is the costly part: only when a caller can feed it.
        fed = (
            not handler_only
            and bool(params)
            and bool(inputs)
            and bool(_names_in(inputs) & self._derived(params, fn.node.body))
        )
        for caller in callers:
            source = self._request_source(caller)
            if source is not None:
                return "handler", source
            if fed and caller.loops and self._per_item(caller, _argument_values(caller.node)):
                return _LOOP
        for caller in callers:
            if caller.function is not fn:
                # the prompts go on up through the arguments that feed them (`infer_one(sample)`
                # → `answer(conv, model)` → generate(), in a loop over samples two calls up)
                passed = self._feeding_arguments(caller, fn, inputs) if fed else []
                found = self._via_callers(caller.function, passed, not passed, depth + 1)
                if found is not None:
                    return found
        return None

    def _feeding_arguments(self, caller: _Site, fn: _Function, inputs: list[ast.expr]) -> list[ast.expr]:
        """The arguments a call of ``fn`` passes to the parameters that reach its prompts."""
        used = _names_in(inputs)
        found = []
        for name, index in fn.call_positions().items():
            if name in ("self", "cls") or not used & self._derived({name}, fn.node.body):
                continue
            passed = self._argument_for(caller.node, name, index)
            if isinstance(passed, ast.expr):
                found.append(passed)
        return found

    def _per_item(self, site: _Site, inputs: list[ast.expr]) -> bool | None:
        """Is this call made once per prompt by an enclosing loop? (None: no loop of the
        function reaches its prompts; the callers' may.)

        The innermost loop whose item reaches the prompt arguments decides: a loop over batches
        (by its names, a range with a step, slicing by the index, a DataLoader) is batching, so is
        a list literal or comprehension passed as the prompts; any other per-item loop is not.
        `while` loops count when they drain a queue or a list (the index gives them an item);
        interactive and polling loops do not. Loops whose item does not reach the prompts
        (`for _ in range(n_runs)`) are repetition, not per-prompt calls, and a conversation whose
        next turn reads this one's reply cannot be batched.
        """
        if any(_is_batch_input(expr) for expr in inputs):
            return False
        used = _names_in(inputs)
        for at in range(len(site.loops) - 1, -1, -1):
            loop = site.loops[at]
            derived = self._loop_derived(loop)
            if not used & derived:
                continue
            if self._reaches_only_through_loads(loop, used):
                continue  # a loop over models or checkpoints: each loads its own, the prompt stays
            if not _over_a_range(loop) and any(self._slice_of_several(expr, site.scope) for expr in inputs):
                return False  # each step hands over a slice of a list it read (a file's prompts)
            if self._is_batch_loop(loop, derived, site.scope):
                return False
            if self._few_written_items(loop, site):
                # a handful of variants per item (file extensions, option letters): the loop
                # around it, if its item reaches the prompts too, decides
                continue
            inner = frozenset(id(passed.body) for passed in site.loops[at + 1 :] if passed.body is not None)
            if self._feeds_back(loop, site.node, used, inner):
                # a conversation's turns depend on each other; the loop around it, where its
                # item reaches the prompts too (a benchmark's questions, each a conversation of
                # several turns), decides: turn k of every question could be one batch
                continue
            # a list the pass builds hands over one prompt where the call picks one element of
            # it (`question=questions[0]`, after `questions = [cot.format(q) for q in questions]`)
            whole = _names_in([expr for expr in inputs if not _picks_one(expr)])
            return not (self._flushes_batches(loop, used) or self._builds_batches(loop, whole, site))
        return None

    def _slice_of_several(self, expr: ast.expr, scope: _Scope) -> bool:
        """`prompts[start:end]`, or a name bound only to such a slice: several prompts in one
        call, unless the slice is written one item wide (`prompts[i:i + 1]`)."""
        if isinstance(expr, ast.Name):
            bindings = self._definitions(expr.id, expr.lineno, scope)[0]
            if len(bindings) != 1 or bindings[0].value is None:
                return False
            expr = bindings[0].value
        if not isinstance(expr, ast.Subscript) or not isinstance(expr.slice, ast.Slice):
            return False
        lower, upper = expr.slice.lower, expr.slice.upper
        one_wide = (
            isinstance(upper, ast.BinOp)
            and isinstance(upper.op, ast.Add)
            and lower is not None
            and ast.dump(upper.left) == ast.dump(lower)
            and isinstance(upper.right, ast.Constant)
            and upper.right.value == 1
        )
        return expr.slice.step is None and not one_wide

    def _one_item_loader(self, expr: ast.expr | None, scope: _Scope, depth: int = 0) -> bool:
        """A DataLoader that yields one sample at a time: its batch_size left out (PyTorch's
        default is 1) or resolving to 1 (a literal, or a command-line default such as
        `--batch-size` with default=1). Its loop is per item, whatever its name says ("loader").
        Also one made by a function of this module (`create_data_loader(qs, batch_size=1)`,
        LLaVA's eval scripts), and one zipped with the questions it answers."""
        expr = _iterated(expr)
        if isinstance(expr, ast.Name):
            bindings = self._definitions(expr.id, expr.lineno, scope)[0]
            if len(bindings) != 1 or bindings[0].value is None:
                return False
            expr, scope = bindings[0].value, bindings[0].scope
        if not isinstance(expr, ast.Call) or depth > MAX_CALL_DEPTH:
            return False
        name = _final_name(expr.func)
        if name == "zip":  # zip(loader, questions): one step per sample when the loader gives one
            return any(
                self._one_item_loader(a.value, scope, depth + 1)
                for a in _args(expr)
                if a.keyword is None and not a.star
            )
        if name != "DataLoader":
            return self._loader_made_one_item(expr, scope, depth)
        keywords = {a.keyword: a.value for a in _args(expr) if a.keyword is not None}
        if "batch_sampler" in keywords or len([a for a in _args(expr) if a.keyword is None]) > 1:
            return False  # a sampler that batches, or batch_size given by position
        if "batch_size" not in keywords:
            return True
        return self._resolves_to_one(keywords["batch_size"], scope)

    def _loader_made_one_item(self, call: ast.Call, scope: _Scope, depth: int) -> bool:
        """A call of a function of this module that returns a DataLoader of one sample at a
        time, its batch size a parameter the call leaves to its default or passes as 1."""
        callees = self._callees(call.func, scope)
        if len(callees) != 1 or not callees[0].returns:
            return False
        fn = callees[0]
        for returned in fn.returns:
            loader: ast.expr | None = returned
            if isinstance(loader, ast.Name):
                bindings = self._definitions(loader.id, loader.lineno, fn.scope)[0]
                loader = bindings[0].value if len(bindings) == 1 else None
            if not (isinstance(loader, ast.Call) and _final_name(loader.func) == "DataLoader"):
                return False
            size = next((a.value for a in _args(loader) if a.keyword == "batch_size"), None)
            param = next((p for p in fn.params() if isinstance(size, ast.Name) and p.name == size.id), None)
            if param is None:
                if not self._one_item_loader(loader, fn.scope, depth + 1):
                    return False
                continue
            position = next((i for i, p in enumerate(fn.positional()) if p is param), None)
            passed = self._argument_for(call, param.name, position)
            if passed is None:
                passed, where = param.default, fn.scope
            else:
                where = scope
            if not isinstance(passed, ast.expr) or not self._resolves_to_one(passed, where):
                return False
        return True

    def _resolves_to_one(self, expr: ast.expr, scope: _Scope) -> bool:
        """Whether a batch size resolves to 1; the defaults it read go to the finding. A
        parameter's own default is no answer where no call of this module passes it: the
        function's callers elsewhere may pass another size (the call site decides there)."""
        read = len(self.defaults_read)
        size = self._resolve(expr, scope)
        if size is None or size.value != 1 or isinstance(size.value, bool) or size.how == "parameter-default":
            return False
        self._loader_defaults.extend(self.defaults_read[read:])  # the finding names them
        return True

    def _one_item_steps(self, expr: ast.expr | None, scope: _Scope) -> bool:
        """``range(0, len(prompts), bs)`` whose step resolves to 1 (``--eval_batch_size``'s
        default of 1): its slices ``prompts[i:i + bs]`` hold one prompt each, so the loop is per
        item however it slices. The finding names the default, as for a DataLoader."""
        expr = _iterated(expr)
        if not isinstance(expr, ast.Call) or _final_name(expr.func) != "range":
            return False
        args = _args(expr)
        if len(args) != 3 or any(a.keyword is not None or a.star for a in args):
            return False
        return self._resolves_to_one(args[2].value, scope)

    def _few_written_items(self, loop: _Loop, site: _Site) -> bool:
        """A loop over a handful of prompts written out in the source (`for q in ["Hi", "2+2?"]`,
        a notebook's three test cases, a short list a script passes to its eval function): a
        smoke test or a demo, not a workload. Fewer items than the evidence's smallest batch (8)
        cannot be one batch of it, and nothing else comes in."""
        return self._written_few(loop.iter, site.scope, 0)

    def _written_few(self, expr: ast.expr | None, scope: _Scope, depth: int) -> bool:
        """Whether an iterable is such a literal: directly, through names (every binding one,
        none grown by append/extend/+=) and parameters (every call site's argument one), and
        through what is made of it item by item: a comprehension over it, or a list one loop
        over it appends to once per pass (`formatted.append(template(p))`)."""
        expr = _iterated(expr)
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)) and len(expr.generators) == 1:
            return self._written_few(expr.generators[0].iter, scope, depth + 1)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            items = expr.keys if isinstance(expr, ast.Dict) else expr.elts
            return len(items) < FEW_ITEMS and not any(item is None or isinstance(item, ast.Starred) for item in items)
        if _cut_to_few(expr):
            return True  # dataset[:5], range(3), ds.select(range(4)), df.head(5): a look at a sample
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
            return self._written_few(expr.value, scope, depth + 1)  # PROMPTS[:2]: fewer still
        if not isinstance(expr, ast.Name) or depth >= MAX_CALL_DEPTH:
            return False
        bindings = self._definitions(expr.id, expr.lineno, scope)[0]
        if not bindings:
            return False
        for binding in bindings:
            holder = binding.scope.function.node if binding.scope.function is not None else self.index.tree
            if holder is None:
                return False
            if _grown(holder, expr.id):
                built = _appending_loop(holder, expr.id)
                empty = isinstance(binding.value, ast.List) and not binding.value.elts
                if not (empty and built is not None and self._written_few(built.iter, binding.scope, depth + 1)):
                    return False
                continue
            if not self._written_few(binding.value, binding.scope, depth + 1):
                return False
        return True

    def _builds_batches(self, loop: _Loop, used: set[str], site: _Site) -> bool:
        """Each pass builds a list of prompts and generates on it (`input_list = [prompt] *
        batch_size`, `tokenizer(input_list)`): a loop over batches or over benchmark settings.
        A comprehension over a few values written out (`[row[k] for k in ["A", "B", "C"]]`,
        one question's options) is the item's own parts, not a batch, and a list made from the
        reply (`[i for i, t in enumerate(output_ids) if t in stops]`, trimming it before a
        conversation's next turn reads it) holds no prompts."""
        if loop.body is None:
            return False
        lists = self._prompt_lists(loop.body, site.scope)
        after = {name for name, value in _batch_lists(loop.body).items() if value.lineno > site.node.lineno}
        if lists & after:  # built after the call in the pass, from its reply
            lists -= after & self._derived(_result_and_exposed(loop.body, site.node, set())[0], loop.body)
        return bool(lists) and bool(used & self._derived(lists, loop.body))

    def _prompt_lists(self, body: _Statements, scope: _Scope) -> set[str]:
        """The lists of several prompts a block builds (``_batch_lists``), but a comprehension
        over a few values written out: one item's parts (`[row[k] for k in "ABCD"]`)."""
        return {
            name
            for name, value in _batch_lists(body).items()
            if not (
                isinstance(value, (ast.ListComp, ast.GeneratorExp))
                and all(self._written_few(g.iter, scope, 0) for g in value.generators)
            )
        }

    def _feeds_back(self, loop: _Loop, call: ast.Call, used: set[str], inner: frozenset[int] = frozenset()) -> bool:
        """A multi-turn chat: the reply of one pass reaches the prompt of the next (`history`
        gets the reply appended, `response, history = model.chat(tok, q, history)`). The turns
        depend on each other, so they cannot be batched: not a per-prompt loop. ``inner``: the
        bodies of loops inside this one around the call, read once through (a conversation per
        question: what its turns carry is theirs, and a conversation begun afresh in each
        pass carries nothing to the next question)."""
        if loop.body is None:
            return False
        return _carries_result(loop.body, call, _target_names(loop.target), used, self._flows_of(loop.body), inner)

    def _flushes_batches(self, loop: _Loop, used: set[str]) -> bool:
        """A loop that gathers prompts in a list it also empties (`batch.append(p)` … generate(batch)
        … `batch = []`) calls generate once per batch, not once per prompt. A list that only
        grows (a chat history) is not a batch."""
        if loop.body is None:
            return False
        return any(used & self._derived({name}, loop.body) for name in sorted(_gathered_and_emptied(loop.body)))

    def _reaches_only_through_loads(self, loop: _Loop, used: set[str]) -> bool:
        """Whether the loop's item reaches the prompt arguments only through a model or tokenizer
        the loop body loads from it (`for repo in repos: tok = AutoTokenizer.from_pretrained(repo)
        … model.generate(tok("MosaicML is"))`): the same prompt for each model, not one prompt
        after another."""
        if loop.body is None:
            return False
        loaded = {
            target.id
            for node in loop.body
            for statement in ast.walk(node)
            if isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and _final_name(statement.value.func) in LOADER_CALLS
            for target in statement.targets
            if isinstance(target, ast.Name)
        }
        if not loaded:
            return False
        flows = [(written, read) for written, read in self._flows_of(loop.body) if not written & loaded]
        return not used & _closure(_target_names(loop.target), flows)

    def _loop_derived(self, loop: _Loop) -> set[str]:
        seed = _target_names(loop.target)
        return seed if loop.body is None else self._derived(seed, loop.body)

    def _derived(self, seed: set[str], body: _Statements) -> set[str]:
        """Names computed from the seed names inside a block (a small def-use closure)."""
        return _closure(seed, self._flows_of(body))

    def _flows_of(self, body: _Statements) -> _Flows:
        """A block's def-use pairs, made once per block."""
        flows = self._flows.get(id(body))
        if flows is None:
            flows = self._flows[id(body)] = _flows(body, self._statement_flows)
        return flows

    def _computed_in(self, loop: _Loop) -> set[str]:
        """Names a loop body computes from something (`with TemporaryDirectory() as tmp`,
        `path = download(x)`): loading from them loads what this iteration produced."""
        if loop.body is None:
            return set()
        return set().union(*(written for written, read in self._flows_of(loop.body) if read))

    def _is_batch_loop(self, loop: _Loop, derived: set[str], scope: _Scope) -> bool:
        if self._one_item_loader(loop.iter, scope) or self._one_item_steps(loop.iter, scope):
            return False  # one sample at a time, whatever the names say ("dataloader", "batch")
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
        return final is not None and bool(_BATCHY.search(final)) and not _ONE_BATCH.search(final)

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

        ``site`` is the loading call, then (up to MAX_CALL_DEPTH calls away) a call of the function that
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
        if fn is None or len(helpers) > MAX_CALL_DEPTH:
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
            if (
                helpers < MAX_CALL_DEPTH
                and caller.function is not None
                and self._loop_among_callers(caller.function, helpers + 1)
            ):
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
        # the else branch of `if name in cache: … else: load` loads once too
        if any(not c.holds and c.test is not None and _is_lazy_test(c.test) for c in site.when):
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
                generating = isinstance(func, ast.Attribute) and func.attr in _GENERATING_METHODS
                if isinstance(func, (ast.Name, ast.Attribute)) and not generating:
                    handles.append(self._handle(func, site.scope, base=False))  # model(**inputs)
                for handle in handles:
                    if handle is not None:
                        self._inference.setdefault(id(handle.setup), []).append(site)
        return self._inference

    # -- training purpose ---------------------------------------------------------------------

    def _attach_purpose(self) -> None:
        """A module that fine-tunes (QLoRA's prepare_model_for_kbit_training, a Trainer) loads
        its model for training: 4-bit there is about fitting in memory, and the inference
        evidence does not apply. The first such call marks every setup of the module, except one
        kept apart from the training (below). A model loaded and never run is "load-only": no
        serving rule speaks for it."""
        # a training call in a branch the defaults never take (PLLaVA's `if use_lora:` with
        # use_lora=False) trains nothing in a plain run
        training = [
            site for site in self.index.calls if site.name in TRAINING_CALLS and self._branches(site)[0] is not False
        ]
        if training and all(self._builds_a_model_class(site) for site in training):
            training = []  # a model class's constructor prepares adapters; nothing here trains
        adapting = bool(training) and self._only_adapts(training)
        test_module = _is_test_module(self.path) and any(
            fn.node.name.startswith("test_") for fn in self.index.functions
        )
        for setup in self.setups:
            origin = self.origin_site.get(id(setup))
            # LoRA weights put on a model that this module then generates with (a forward pass
            # alone, measuring logits or calibrating, is the fine-tuning's own business)
            served = adapting and any(self._generate_uses(site) for site in self._inference_sites().get(id(setup), ()))
            if training and not served and not self._inference_apart(setup, origin, training):
                setup.set(PURPOSE, "training", self._loc(training[0].node), "module")
                continue
            if origin is None:
                continue
            if test_module or _in_test_function(origin):
                setup.set(PURPOSE, "test", self._loc(origin.node))
            elif self._never_run(setup, origin):
                setup.set(PURPOSE, "load-only", self._loc(origin.node))
            elif self._call_commented_out(origin):
                setup.set(PURPOSE, "disabled", self._loc(origin.node))

    def _only_adapts(self, training: list[_Site]) -> bool:
        """Whether the module's only training calls put adapters on a model (`get_peft_model`, a
        demo loading LoRA weights into it with load_state_dict) and nothing here trains: no
        trainer, no k-bit training preparation, no backward pass. A model of such a module that
        it generates with is served with its adapters."""
        if any(site.name != "get_peft_model" for site in training):
            return False
        return not any(call.name in _BACKWARD_CALLS for call in self.index.calls)

    def _builds_a_model_class(self, site: _Site) -> bool:
        """An adapter call (``ADAPTER_CALLS``) inside a method of a class, in a module that calls
        no trainer and runs no backward pass: the class wraps its model so wherever it is built."""
        if site.name not in ADAPTER_CALLS or site.function is None:
            return False
        if not any(fn.method_of is not None for fn in site.function.chain()):
            return False
        return not any(
            call.name in TRAINING_CALLS - ADAPTER_CALLS or call.name in _BACKWARD_CALLS for call in self.index.calls
        )

    def _inference_apart(self, setup: Setup, origin: _Site | None, training: list[_Site]) -> bool:
        """A setup of a fine-tuning module that is an inference setup of its own: loaded in a
        function with no training call (a notebook's `load_trained_model()` after its QLoRA
        cells), run by generate() outside any function that trains, and never handed to a
        training call. At a module's top level (a notebook's cells), a model loaded again after
        the last training call and asked a question is such a setup too (the notebook's reload
        for inference); one run over the test split in a loop is the training's own check (a
        handful of held-out samples), and stays training. Anything less certain stays training."""
        if origin is None:
            return False
        module_level = origin.function is None
        if module_level and origin.node.lineno <= max(site.node.lineno for site in training):
            return False
        uses = self._inference_sites().get(id(setup))
        if not uses or (module_level and any(self._run_in_a_loop(use) for use in uses)):
            return False
        training_functions = {id(fn) for site in training for fn in _enclosing(site.function)}
        if any(id(fn) in training_functions for fn in _enclosing(origin.function)):
            return False
        if any(id(fn) in training_functions for use in uses for fn in _enclosing(use.function)):
            return False
        for site in training:
            arguments = [*site.node.args, *(keyword.value for keyword in site.node.keywords)]
            for argument in arguments:
                handle = self._handle(argument, site.scope)
                if handle is not None and handle.setup is setup:
                    return False
        return True

    def _run_in_a_loop(self, site: _Site) -> bool:
        """Whether a call runs in a loop, itself or through the function it is in."""
        return bool(site.loops) or (
            site.function is not None and any(caller.loops for caller in self._callers_of(site.function))
        )

    def _call_commented_out(self, site: _Site) -> bool:
        """Whether the function that loads is switched off: nothing in its module calls it or
        names it (no decorator registers it, no callback passes it), and a commented-out line
        calls it (`# self.load_original_llama_model()`): someone took its call out. Another
        module may still call a function nobody here names; one whose call was commented out
        here is read as disabled."""
        fn = site.function
        if fn is None or fn.name.startswith("__") or fn.node.decorator_list or self._callers_of(fn):
            return False
        tree = self.index.tree
        if tree is None:
            return False
        called = re.compile(rf"#.*\b{re.escape(fn.name)}\(")
        if not any(called.search(line) for line in self.source.lines if line.lstrip().startswith("#")):
            return False
        return not any(
            (isinstance(node, ast.Attribute) and node.attr == fn.name)
            or (isinstance(node, ast.Name) and node.id == fn.name)
            for node in ast.walk(tree)
        )

    def _never_run(self, setup: Setup, site: _Site) -> bool:
        """A model loaded and never run: a smoke test (`assert model is not None`), a download or
        conversion job (`model.save_pretrained(out)`), a load whose result is dropped. Only
        where the model cannot go anywhere else: a local name, or a module-level one that the
        module itself only touches that way (a module-level model used by nothing here may be
        imported by another module)."""
        if self.by_call.get(site.node) is None or self._classify(site.node) == "quantize":
            return False  # quantize_(model, …) changes a model loaded elsewhere, in place
        if self._inference_sites().get(id(setup)):
            return False
        where: ast.AST | None = site.function.node if site.function is not None else self.index.tree
        statement = _statement_of(where, site.node) if where is not None else None
        if isinstance(statement, ast.Expr):
            return _result_of(statement.value, site.node)
        if not isinstance(statement, ast.Assign) or not _result_of(statement.value, site.node):
            return False
        names = set().union(*(_target_names(t) for t in statement.targets))
        if not names or not all(isinstance(t, ast.Name) for t in statement.targets) or names & site.scope.globals:
            return False
        assert where is not None
        uses = self._name_uses_in.get(id(where))
        if uses is None:
            uses = self._name_uses_in[id(where)] = _name_uses(where)
        inert, other = _inert_and_other_uses(uses, names)
        if other and self._converts():
            return True
        return other == 0 and (site.function is not None or inert > 0)

    def _converts(self) -> bool:
        """Whether the module is a conversion job: it saves a model (`save_pretrained`,
        `push_to_hub`) and runs none (a LoRA merge that loads the 4-bit base, dequantizes it,
        merges and saves): its models are handed around, never asked anything."""
        if not any(site.name in _SAVING_CALLS for site in self.index.calls):
            return False
        return not any(self._inference_sites().values())
