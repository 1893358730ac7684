"""Property-based tests: whatever text an extractor is handed, it returns Setups or raises
ExtractError — never another exception — and what it returns can cross a process boundary
(the parallel engine pickles it), points inside the file, and can be resolved and audited.

Each property runs twice: a few dozen examples in the default run, and FUZZ_EXAMPLES each under
``pytest -m fuzz`` (six properties: over 10,000 examples in all)::

    python -m pytest -m fuzz tests/test_fuzz.py

Strategies are grammar-ish: they build text from the vocabulary the extractors look for
(launchers, their flags and env vars, BitsAndBytesConfig keywords, compose / Kubernetes keys,
Modelfile directives), glued with the syntax that trips parsers (quotes, continuations,
heredocs, anchors, tags, brackets, BOMs, CRLF), and then sometimes damaged.
"""

from __future__ import annotations

import pickle
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecolint import knowledge
from ecolint.checks import CheckContext, run_checks
from ecolint.extract import ExtractContext, ExtractError, dockerfile, manifests, modelfile, shell
from ecolint.extract.launchers import detect as launch
from ecolint.extract.launchers.registry import LAUNCHERS
from ecolint.extract.launchers.vocab import EnvVal, Tok
from ecolint.resolve import resolve
from ecolint.setups import Location, Setup

FUZZ_EXAMPLES = 2_000
QUICK_EXAMPLES = 30

QUICK = settings(
    max_examples=QUICK_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

MODELS = [
    "Qwen/Qwen2-1.5B",
    "meta-llama/Llama-3.1-8B-Instruct",
    "TheBloke/x-GPTQ",
    "unsloth/y-bnb-4bit",
    "/models/local",
    "qwen2:1.5b-instruct-q4_K_M",
    "llama3.1:70b",
    "model.Q4_K_M.gguf",
    "$MODEL",
    "${MODEL:-x}",
    "",
]
VALUES = [
    "fp8",
    "bitsandbytes",
    "bitsandbytes-nf4",
    "bitsandbytes-fp4",
    "awq",
    "gptq",
    "eetq",
    "float16",
    "bfloat16",
    "float32",
    "auto",
    "half",
    "1",
    "0",
    "-1",
    "2",
    "8",
    "6.0",
    "0.0",
    "true",
    "false",
    "True",
    "nan",
    "inf",
    "1e309",
    "99999999999999999999",
    "",
    "=",
    "--",
    "-",
    "\\",
    "'",
    '"',
    "$",
    "${",
    "$(",
    "`",
    "*",
    "~",
    "\t",
    "é",
    "\u202e",
]
PY_KEYWORDS = [
    "load_in_8bit",
    "load_in_4bit",
    "llm_int8_threshold",
    "bnb_4bit_quant_type",
    "bnb_4bit_compute_dtype",
    "quantization_config",
    "torch_dtype",
    "dtype",
    "device_map",
    "attn_implementation",
    "model",
    "quantization",
    "enforce_eager",
    "kv_cache_dtype",
    "max_num_seqs",
    "tensor_parallel_size",
    "batch_size",
    "model_kwargs",
    "task",
    "trust_remote_code",
    "revision",
]
PY_CALLEES = [
    "AutoModelForCausalLM.from_pretrained",
    "AutoModel.from_pretrained",
    "PeftModel.from_pretrained",
    "BitsAndBytesConfig",
    "LLM",
    "vllm.LLM",
    "pipeline",
    "quantize_",
    "TorchAoConfig",
    "EngineArgs",
    "torch.compile",
    "model.generate",
    "pipe",
    "llm.generate",
    "Float8WeightOnlyConfig",
    "int8_weight_only",
    "AutoTokenizer.from_pretrained",
    "cls.from_pretrained",
    "super().from_pretrained",
    "os.environ.get",
    "f",
]
NAMES = ["x", "model", "m", "bnb", "cfg", "MODEL_ID", "prompts", "p", "llm", "pipe", "torch", "self", "cls", "_", "é"]


def _flags() -> list[str]:
    found = set()
    for launcher in LAUNCHERS:
        for row in launcher.flags():
            found.update((row.name, *row.aliases))
            if row.negatable:
                found.add("--no-" + row.name[2:])
    return sorted(found)


FLAGS = _flags() + [
    "--model",
    "--quantize",
    "-q",
    "-m",
    "--",
    "-",
    "--=",
    "--max_num_seqs",
    "-tp",
    "--no-enforce-eager",
]
ENV_KEYS = sorted({row.env for launcher in LAUNCHERS for row in launcher.flags() if row.env}) + [
    "MODEL",
    "OLLAMA_HOST",
    "QUANTIZE",
    "HF_TOKEN",
    "A",
    "PATH",
]
HEADS = [
    ["vllm", "serve"],
    ["text-generation-launcher"],
    ["sglang", "serve"],
    ["python", "-m", "sglang.launch_server"],
    ["python3", "-m", "vllm.entrypoints.openai.api_server"],
    ["python", "-m", "vllm", "serve"],
    ["llama-server"],
    ["llama-cli"],
    ["llama-quantize"],
    ["ollama", "run"],
    ["ollama", "create"],
    ["ollama", "pull"],
    ["ollama", "serve"],
    ["env", "A=1", "vllm", "serve"],
    ["nohup", "vllm", "serve"],
    ["exec", "text-generation-launcher"],
    ["sh", "-c"],
    ["bash", "-lc"],
    ["/usr/bin/env", "-S", "vllm", "serve"],
    ["uv", "run", "vllm", "serve"],
    ["CUDA_VISIBLE_DEVICES=0", "vllm", "serve"],
    ["docker", "run"],
    [],
]

words = st.one_of(
    st.sampled_from(FLAGS),
    st.sampled_from(VALUES),
    st.sampled_from(MODELS),
    st.builds(lambda f, v: f"{f}={v}", st.sampled_from(FLAGS), st.sampled_from(VALUES)),
    st.text(max_size=12),
)


def _loc(line: int, col: int) -> Location:
    return Location("fuzz", line, col, line, col + 3)


def tokens(texts: list[str], draw_locs: list[bool]) -> list[Tok]:
    out = []
    for index, (text, located) in enumerate(zip(texts, draw_locs, strict=True)):
        loc = _loc(index + 1, 1) if located else None
        locate = (lambda k, i=index: (i + 1, 1 + k)) if located and index % 2 else None
        out.append(Tok(text, loc, locate))
    return out


@st.composite
def argv_and_env(draw):
    head = draw(st.sampled_from(HEADS))
    rest = draw(st.lists(words, max_size=14))
    if head and head[-1] in ("-c", "-lc"):
        rest = [draw(shell_script())] + rest
    texts = head + rest
    located = draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts)))
    env = draw(
        st.dictionaries(
            st.sampled_from(ENV_KEYS) | st.text(max_size=6), st.sampled_from(VALUES) | st.text(max_size=8), max_size=5
        )
    )
    env_vals = {k: EnvVal(v, _loc(1, 1) if i % 2 else None) for i, (k, v) in enumerate(env.items())}
    return tokens(texts, located), env_vals


# --------------------------------------------------------------------------------------------
# Text strategies
# --------------------------------------------------------------------------------------------

SHELL_BITS = [
    " ",
    " ",
    " ",
    "\n",
    "\\\n",
    ";",
    "&&",
    "||",
    "|",
    "&",
    "#",
    "'",
    '"',
    "`",
    "$",
    "$(",
    ")",
    "(",
    "{",
    "}",
    "${",
    "${MODEL:-Qwen/Qwen2-7B}",
    "${A[@]}",
    "$@",
    "$1",
    "<<EOF\n",
    "<<-'EOF'\n",
    "\nEOF\n",
    "EOF",
    "export ",
    "A=",
    "MODEL=",
    "local ",
    "declare -a ",
    "arr=(",
    "source .env",
    ". ./env.sh",
    "set -- ",
    "if ",
    "then ",
    "fi",
    "for ",
    "do ",
    "done",
    "case ",
    "esac",
    "function f",
    "docker run ",
    "-e ",
    "--env-file ",
    "--gpus all ",
    "vllm/vllm-openai ",
    "ghcr.io/huggingface/text-generation-inference:latest ",
    "cat > Modelfile <<EOF\nFROM llama3:8b-q4_0\nEOF\n",
    "\r\n",
    "\t",
    "\0",
    "é",
    "\ufeff",
]


@st.composite
def shell_script(draw):
    parts = draw(
        st.lists(
            st.one_of(st.sampled_from(SHELL_BITS), words, st.sampled_from([" ".join(h) for h in HEADS])), max_size=40
        )
    )
    return "".join(p if p in SHELL_BITS else p + " " for p in parts)


DOCKER_INSTR = [
    "FROM",
    "RUN",
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "ARG",
    "COPY",
    "ADD",
    "WORKDIR",
    "LABEL",
    "SHELL",
    "USER",
    "HEALTHCHECK",
    "ONBUILD",
    "EXPOSE",
    "from",
    "# escape=`",
    "# syntax=docker/dockerfile:1",
    "#",
]


@st.composite
def dockerfile_text(draw):
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        instr = draw(st.sampled_from(DOCKER_INSTR))
        form = draw(st.integers(0, 4))
        if form == 0:
            args = draw(shell_script())
        elif form == 1:
            items = draw(st.lists(words, max_size=8))
            args = (
                "["
                + ", ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in items)
                + draw(st.sampled_from(["]", "", "]]", ",]"]))
            )
        elif form == 2:
            args = "<<EOF\n" + draw(shell_script()) + "\nEOF"
        elif form == 3:
            args = draw(
                st.sampled_from(
                    [
                        "vllm/vllm-openai:v0.6 AS base",
                        "base",
                        "--platform=$P ubuntu",
                        'MODEL=a B="c d"',
                        "A",
                        "MODEL Qwen/Qwen2-7B",
                    ]
                )
            )
        else:
            args = draw(st.text(max_size=30))
        lines.append(f"{instr} {args}" + draw(st.sampled_from(["", " \\", " `"])))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


MODELFILE_DIRECTIVES = [
    "FROM",
    "PARAMETER",
    "TEMPLATE",
    "SYSTEM",
    "ADAPTER",
    "LICENSE",
    "MESSAGE",
    "from",
    "parameter",
    "#",
]


@st.composite
def modelfile_text(draw):
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        directive = draw(st.sampled_from(MODELFILE_DIRECTIVES))
        value = draw(
            st.one_of(
                st.sampled_from(MODELS),
                st.sampled_from(
                    [
                        '"""',
                        '"""multi\nline"""',
                        "num_ctx 4096",
                        "num_gpu 0",
                        "temperature",
                        "num_ctx",
                        '"quoted value"',
                        "'x'",
                    ]
                ),
                st.text(max_size=20),
            )
        )
        lines.append(f"{directive} {value}")
    return draw(st.sampled_from(["\ufeff", ""])) + "\n".join(lines)


YAML_KEYS = [
    "services",
    "image",
    "command",
    "entrypoint",
    "environment",
    "env",
    "env_file",
    "args",
    "containers",
    "spec",
    "template",
    "jobs",
    "steps",
    "run",
    "name",
    "value",
    "valueFrom",
    "envFrom",
    "configMapRef",
    "nodeSelector",
    "extraArgs",
    "model",
    "kind",
    "data",
    "<<",
    "x-base",
    "resources",
    "limits",
    "nvidia.com/gpu",
    "container",
    "with",
    "on",
    "defaults",
    "shell",
    "apiVersion",
    "engine",
    "url",
    "features",
    "resourceProfile",
    "catalog",
    "accelerators",
    "envs",
    "setup",
    "type",
    "commands",
    "gpu",
    "model_loading_config",
    "engine_kwargs",
    "accelerator_type",
    "runs-on",
    "matrix",
]


def yaml_values() -> st.SearchStrategy:
    scalars = st.one_of(
        st.sampled_from(VALUES + MODELS),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.none(),
        shell_script(),
        st.text(max_size=10),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(st.sampled_from(YAML_KEYS) | st.text(max_size=5), children, max_size=5),
        ),
        max_leaves=25,
    )


YAML_BITS = [
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: *a\n",
    "!!str ",
    "!!python/object/apply:os.system ",
    "!custom ",
    "!!map ",
    "- ",
    ": ",
    "\n",
    "\n  ",
    "\n    ",
    "|\n  ",
    ">-\n  ",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "? ",
    "\t",
    "{{ .Values.x }}",
    "${MODEL}",
    "$(ARG)",
]


YAML_TEMPLATES = [
    "services:\n  llm:\n    image: {image}\n    command: [{args}]\n    environment:\n      - QUANTIZE={value}\n",
    "services:\n  llm:\n    image: {image}\n    command: {line}\n",
    "x-base: &base\n  image: {image}\n  command: [{args}]\nservices:\n  a:\n    <<: *base\n",
    "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      nodeSelector: {{gpu: a100}}\n"
    "      containers:\n        - name: llm\n          image: {image}\n          args: [{args}]\n          env:\n"
    "            - {{name: MODEL, value: {value}}}\n",
    "on: push\njobs:\n  serve:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {line}\n",
    "extraArgs: [{args}]\nmodel: {value}\n",
    # deployment platforms (ecolint/extract/platforms) and CI runners
    "apiVersion: kubeai.org/v1\nkind: Model\nspec:\n  features: [TextGeneration]\n  url: hf://org/m-7b\n"
    "  engine: VLLM\n  args: [{args}]\n  env: {{VLLM_X: {value}}}\n  resourceProfile: nvidia-gpu-l4:1\n",
    "catalog:\n  m:\n    features: [TextGeneration]\n    url: ollama://qwen2:0.5b\n    engine: OLlama\n"
    "    env: {{OLLAMA_NUM_PARALLEL: {value}}}\n    resourceProfile: cpu:1\n",
    "resources:\n  accelerators: {{L4:1, A100:1}}\nenvs:\n  MODEL: {value}\nsetup: pip install vllm\nrun: {line}\n",
    "type: service\nimage: {image}\nenv: [MODEL=m]\ncommands: [{line}]\nresources:\n  gpu: A10G,A100:2\n",
    "llm_configs:\n  - model_loading_config: {{model_id: m, model_source: {value}}}\n    accelerator_type: L4\n"
    "    engine_kwargs: {{max_num_seqs: 1, enforce_eager: true, quantization: {value}}}\n",
    "on: push\njobs:\n  serve:\n    strategy:\n      matrix:\n        gpu: [linux-t4, gpu-a100]\n"
    "    runs-on: ${{{{ matrix.gpu }}}}\n    steps:\n      - run: {line}\n",
]
IMAGES = [
    "vllm/vllm-openai:latest",
    "ghcr.io/huggingface/text-generation-inference:2.0",
    "lmsysorg/sglang:latest",
    "ghcr.io/ggml-org/llama.cpp:server",
    "ollama/ollama",
    "python:3.11",
    "",
]


@st.composite
def yaml_text(draw):
    mode = draw(st.integers(0, 3))
    if mode == 3:
        args = draw(st.lists(words, max_size=8))
        head = draw(st.sampled_from([h for h in HEADS if h and h[-1] not in ("-c", "-lc")]))
        quoted = lambda w: '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
        return draw(st.sampled_from(YAML_TEMPLATES)).format(
            image=draw(st.sampled_from(IMAGES)),
            args=", ".join(quoted(w) for w in (head if draw(st.booleans()) else []) + args),
            line=quoted(" ".join(head + args)),
            value=quoted(draw(st.sampled_from(VALUES + MODELS))),
        )
    if mode == 0:
        try:
            return yaml.safe_dump(draw(yaml_values()), allow_unicode=draw(st.booleans()))
        except yaml.YAMLError:
            return ""
    if mode == 1:
        base = yaml.safe_dump(draw(yaml_values()))
        cut = draw(st.integers(0, len(base)))
        return base[:cut] + draw(st.sampled_from(YAML_BITS)) + base[cut:]
    parts = draw(st.lists(st.one_of(st.sampled_from(YAML_BITS), st.sampled_from(YAML_KEYS), words), max_size=40))
    return "".join(parts)


# Python: statements built from templates over a small expression grammar.
expressions = st.recursive(
    st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(
            [
                '"Qwen/Qwen2-1.5B"',
                "'meta-llama/Llama-3.1-8B'",
                "6.0",
                "0.0",
                "True",
                "False",
                "None",
                "1",
                "-1",
                "torch.float16",
                "torch.bfloat16",
                '"nf4"',
                '"fp8"',
                '"eager"',
                'f"{x}"',
                "...",
                "[]",
                "{}",
            ]
        ),
    ),
    lambda inner: st.one_of(
        st.builds(
            lambda f, args, kws: f"{f}({', '.join(args + [f'{k}={v}' for k, v in kws])})",
            st.sampled_from(PY_CALLEES) | inner,
            st.lists(inner, max_size=3),
            st.lists(st.tuples(st.sampled_from(PY_KEYWORDS), inner), max_size=4),
        ),
        st.builds(
            lambda a, b: f"{a}.{b}", inner, st.sampled_from(["from_pretrained", "to", "cuda", "generate", "eval", "x"])
        ),
        st.builds(lambda items: "[" + ", ".join(items) + "]", st.lists(inner, max_size=3)),
        st.builds(lambda k, v: "{" + f"{k!r}: {v}" + "}", st.sampled_from(PY_KEYWORDS), inner),
        st.builds(lambda a: f"**{a}", inner),
        st.builds(lambda a, b, c: f"{a} if {b} else {c}", inner, inner, inner),
        st.builds(lambda a: f"lambda: {a}", inner),
        st.builds(lambda a: f"({a})", inner),
    ),
    max_leaves=12,
)

STATEMENT_TEMPLATES = [
    "{n} = {e}",
    "{e}",
    "return {e}",
    "yield {e}",
    "{n} += {e}",
    "del {n}",
    "global {n}",
    "assert {e}",
    "raise {e}",
    "import {m}",
    "from {m} import {n}",
    "from {m} import {n} as {n2}",
    "from . import {n}",
    "from .{n} import *",
]
BLOCK_TEMPLATES = [
    "def {n}({n2}=None, *args, **kwargs):",
    "async def {n}():",
    "class {n}({n2}):",
    "for {n} in {e}:",
    "while {e}:",
    "if {e}:",
    "elif {e}:",
    "else:",
    "with {e} as {n}:",
    "try:",
    "except Exception:",
    "finally:",
    "@app.post('/x')\ndef {n}(req):",
    "@lru_cache\ndef {n}():",
    "match {e}:",
    "case _:",
]
MODULES = ["transformers", "vllm", "torch", "torchao.quantization", "peft", "bitsandbytes", "os", "fastapi"]


# Whole statements of the kinds a setup is built from, so that many examples yield setups (and
# some hide them in docstrings, comments and f-strings, which the engine's prefilter must see
# through without losing a real one).
PY_SNIPPETS = [
    "from transformers import AutoModelForCausalLM, AutoModel, BitsAndBytesConfig, pipeline",
    "import torch",
    "from vllm import LLM, SamplingParams",
    "from vllm import LLM as Engine",
    "from torchao.quantization import quantize_, int8_weight_only, float8_weight_only",
    "bnb = BitsAndBytesConfig(load_in_8bit=True{kw})",
    "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type={q}{kw})",
    "model = AutoModelForCausalLM.from_pretrained({model}, quantization_config=bnb{kw})",
    "model = AutoModelForCausalLM.from_pretrained({model}, load_in_8bit=True{kw})",
    "model = AutoModel.from_pretrained(MODEL_ID, torch_dtype=torch.float16{kw})",
    "MODEL_ID = {model}",
    "llm = LLM(model={model}, quantization={q}{kw})",
    "llm = Engine({model}, enforce_eager=True{kw})",
    "pipe = pipeline('text-generation', model={model}{kw})",
    "quantize_(model, float8_weight_only())",
    "model = torch.compile(model)",
    "for p in prompts:\n    out = model.generate(p)",
    "outputs = [llm.generate(p) for p in prompts]",
    '"""\n>>> model = AutoModelForCausalLM.from_pretrained({model}, load_in_8bit=True)\n"""',
    "# model = AutoModelForCausalLM.from_pretrained({model}, load_in_8bit=True)",
    'label = f"{{AutoModelForCausalLM.from_pretrained({model}, load_in_8bit=True)}}"',
    "s = 'LLM(model=x)'  # pipeline(",
    "@app.post('/generate')\ndef handler(req):\n    m = AutoModelForCausalLM.from_pretrained({model})\n    return m.generate(req)",
    # the shapes the call-site prefilter reads: spacing, chaining, receivers it skips, f-strings
    "model = AutoModelForCausalLM .from_pretrained ({model}, load_in_8bit=True{kw})",
    "model = (AutoModelForCausalLM\n    # which class\n    .from_pretrained)({model}, load_in_4bit=True{kw})",
    "tok = AutoTokenizer.from_pretrained({model})",
    "base = super().from_pretrained({model}, load_in_8bit=True)",
    "model = [AutoModelForCausalLM][0].from_pretrained({model}, load_in_8bit=True{kw})",
    'label = f"{{x!r}} {{AutoModelForCausalLM.from_pretrained({model}, load_in_8bit=True)}}"',
    "label = f'''\n{{AutoModelForCausalLM.from_pretrained({model}, load_in_4bit=True)}}\n'''",
    "msg = f\"{{', '.join(names)}}\" + str(AutoModelForCausalLM.from_pretrained({model}, load_in_8bit=True))",
    'msg = f"Calling {{cls.__name__}}.from_pretrained" ; llm = LLM ({model}, quantization={q}{kw})',
    # argv lists a launcher starts from, and the strings that name a launcher but are none
    'import subprocess\nsubprocess.run(["vllm", "serve", {model}, "--enforce-eager", "--quantization", {q}])',
    'cmd = ("nohup", "llama-server")',
    'cmd = ["nohup", "vllm"]\ncmd += ["serve", {model}, "--max-num-seqs", "1"]',
    "cmd = [\n    'sglang',  # the launcher\n    'serve',\n    '--model-path', {model},\n]",
    "cmd = ['python', '-m', 'vllm', 'serve', {model}, '--enforce-eager', '--quantization={q}']",
    'BACKENDS = ["vllm", "sglang"]\nv = version("sglang")\nbackend = "vllm",',
    'd = {{"format": "ollama"}}\nf("llama-server")\nd["vllm"] = 1',
]


@st.composite
def python_snippets(draw):
    lines = []
    for _ in range(draw(st.integers(1, 9))):
        kws = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(PY_KEYWORDS),
                    st.sampled_from(["6.0", "0.0", "1", "True", "None", "'nf4'", "'fp8'", "torch.bfloat16"]),
                ),
                max_size=3,
            )
        )
        fill = {
            "model": repr(draw(st.sampled_from(MODELS))),
            "q": repr(draw(st.sampled_from(VALUES))),
            "kw": "".join(f", {k}={v}" for k, v in kws),
        }
        lines.append(draw(st.sampled_from(PY_SNIPPETS)).format(**fill))
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text = "def main():\n" + "".join("    " + line + "\n" for line in text.splitlines())
    return text


@st.composite
def python_text(draw):
    if draw(st.booleans()):
        return draw(python_snippets())
    lines = []
    depth = 0
    for _ in range(draw(st.integers(0, 14))):
        fill = {
            "n": draw(st.sampled_from(NAMES)),
            "n2": draw(st.sampled_from(NAMES)),
            "e": draw(expressions),
            "m": draw(st.sampled_from(MODULES)),
        }
        if draw(st.integers(0, 3)) == 0:
            template = draw(st.sampled_from(BLOCK_TEMPLATES))
            lines.append("    " * depth + template.format(**fill).replace("\n", "\n" + "    " * depth))
            depth = min(depth + 1, 6)
            lines.append("    " * depth + "pass")
        else:
            lines.append("    " * depth + draw(st.sampled_from(STATEMENT_TEMPLATES)).format(**fill))
            if depth and draw(st.integers(0, 3)) == 0:
                depth -= 1
    text = "\n".join(lines) + "\n"
    damage = draw(st.integers(0, 4))
    if damage == 0 and text:
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["(", ")", "'", '"""', "\\", "\t", "\0", ":", " ", "\ufeff", "\r"]))
            + text[at:]
        )
    elif damage == 1:
        text = text.replace("\n", "\r\n")
    return text


# --------------------------------------------------------------------------------------------
# The property
# --------------------------------------------------------------------------------------------


def _context(tmp: Path, env_text: str = "") -> ExtractContext:
    def read_text(path: Path) -> str | None:
        return env_text if path.name in (".env", "env.sh", "Modelfile") or path.suffix in (".yaml", ".yml") else None

    return ExtractContext(root=tmp, read_text=read_text)


_KB = None


def _kb():
    global _KB
    if _KB is None:
        _KB = knowledge.load()
    return _KB


def assert_well_formed(setups: object, text: str) -> None:
    assert isinstance(setups, list)
    lines = text.count("\n") + text.count("\r") + 2
    codes = list(_kb().rules)
    for setup in setups:
        assert isinstance(setup, Setup)
        locations = [setup.origin] + [fact.location for fact in setup.facts.values() if fact.location is not None]
        for loc in locations:
            assert isinstance(loc, Location)
            assert 1 <= loc.line <= lines and loc.column >= 1, (loc, text)
        resolution = resolve(setup, _kb(), gpu_option=None, models={}, stack={})
        list(run_checks(setup, CheckContext(_kb(), resolution, setup), codes))
    pickle.loads(pickle.dumps(setups))  # the parallel engine sends them between processes


def extract_or_extract_error(extract, path: str, text: str, context: ExtractContext, kind: str | None = None) -> None:
    try:
        setups = extract(path, text, context)
    except ExtractError as exc:
        assert isinstance(exc.line, int) and exc.line >= 1 and exc.message
        return
    assert_well_formed(setups, text)
    if setups and kind is not None:
        assert_prefilter_keeps(text, kind)


def assert_prefilter_keeps(text: str, kind: str) -> None:
    """The engine only hands a file to its extractor when the bytes hold a trigger token (and,
    for Python, one outside comments and strings): a file that yields a setup must pass both,
    or the prefilter would silently drop a finding."""
    from ecolint.extract import triggers
    from ecolint.prefilter import python_may_hold_setup

    data = text.encode("utf-8", "surrogatepass")
    tokens = triggers(kind)
    assert any(token in data for token in tokens), text
    if kind == "python":
        assert python_may_hold_setup(data), text


def check_launch(case: tuple[list[Tok], dict[str, EnvVal]], kind: str) -> None:
    argv, env = case
    setups = launch.interpret(
        argv, env, path="fuzz", kind=kind, origin=_loc(1, 1), label="x", run_script=shell.setups_from_script
    )
    assert_well_formed(setups, "\n" * (len(argv) + 2))
    image = Tok(str(argv[0].text) if argv else "vllm/vllm-openai", _loc(1, 1))
    assert_well_formed(
        launch.container_setups(
            image, argv[:2] or None, argv[2:], env, path="fuzz", kind=kind, run_script=shell.setups_from_script
        ),
        "\n" * (len(argv) + 2),
    )


def check_python(text: str) -> None:
    from ecolint.extract import python

    extract_or_extract_error(python.extract, "fuzz.py", text, _context(Path("/nonexistent")), "python")


TARGETS = {
    "launch": (argv_and_env(), lambda case: check_launch(case, "shell")),
    "shell": (
        shell_script(),
        lambda text: extract_or_extract_error(
            shell.extract,
            "fuzz.sh",
            text,
            _context(Path("/nonexistent"), "MODEL=Qwen/Qwen2-7B\nexport QUANTIZE=fp8\n"),
            "shell",
        ),
    ),
    "dockerfile": (
        dockerfile_text(),
        lambda text: extract_or_extract_error(
            dockerfile.extract,
            "Dockerfile",
            text,
            _context(Path("/nonexistent"), "FROM llama3:8b-q4_0\n"),
            "dockerfile",
        ),
    ),
    "modelfile": (
        modelfile_text(),
        lambda text: extract_or_extract_error(modelfile.extract, "Modelfile", text, _context(Path("/nonexistent"))),
    ),
    "yaml": (
        yaml_text(),
        lambda text: extract_or_extract_error(
            manifests.extract,
            "compose.yaml",
            text,
            _context(Path("/nonexistent"), "kind: ConfigMap\ndata: {MODEL: x}\n"),
            "yaml",
        ),
    ),
    "python": (python_text(), check_python),
}


def _property(name: str, profile: settings, suffix: str):
    strategy, check = TARGETS[name]

    @profile
    @given(strategy)
    def run(case: object) -> None:
        check(case)

    run.__name__ = run.__qualname__ = f"test_{name}_extractor_survives_random_input{suffix}"
    return run


# One test function per extractor and length, named so that hypothesis' statistics
# (--hypothesis-show-statistics) report each one's example count.
for _name in TARGETS:
    globals()[f"test_{_name}_extractor_survives_random_input"] = _property(_name, QUICK, "")
    globals()[f"test_{_name}_extractor_survives_random_input_long"] = pytest.mark.fuzz(_property(_name, FUZZ, "_long"))
del _name


def test_the_fuzz_run_is_over_ten_thousand_examples() -> None:
    assert FUZZ_EXAMPLES * len(TARGETS) >= 10_000


@QUICK
@given(st.binary(max_size=300), st.sampled_from(["python", "shell", "dockerfile", "yaml", "modelfile"]))
def test_the_engine_guard_takes_any_bytes(data: bytes, kind: str) -> None:
    """Raw bytes through the engine's own per-file guard: decoding, the Python prefilter and
    the extractor together return an outcome, never raise."""
    from ecolint.engine import FileWork, WorkerConfig, extract

    config = WorkerConfig(context=_context(Path("/nonexistent")), max_file_size=1 << 20)
    trigger = {"python": b"from_pretrained(", "modelfile": b"FROM "}.get(kind, b"vllm serve ")
    outcome = extract(config, FileWork(Path("/nonexistent/f"), "f", kind, False), trigger + data)
    assert outcome.error is None or outcome.error.message
    pickle.dumps(outcome)


def test_printable_vocabulary_is_not_empty() -> None:
    assert FLAGS and ENV_KEYS and set(string.ascii_letters) & set("".join(FLAGS))


# Words the shell extractor unquotes itself instead of handing to shlex must come out as shlex
# would have them: a word of plain and quoted parts, with the characters that make it otherwise.
SHELL_WORD_PARTS = st.lists(
    st.sampled_from(["a", "b-1", "=", "'", '"', "$", "\\", "`", " ", "\t", "#", "é", "'x y'", '"p q"', "''", '""']),
    max_size=12,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(SHELL_WORD_PARTS)
def test_shell_words_unquoted_without_shlex_read_as_shlex_reads_them(parts: list[str]) -> None:
    import shlex

    word = "".join(parts)
    value = shell._unquoted(word)
    if value is not None:
        assert shlex.split(word, posix=True) == [value]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.sampled_from(["a", "b c", " ", "\t", "\n", "\r", "'", '"', "\\", '"\\"', "\\\\", "$x", "#", "é", "''"]),
        max_size=14,
    )
)
def test_posix_split_reads_text_as_shlex_does(parts: list[str]) -> None:
    import shlex

    text = "".join(parts)
    try:
        expected: object = shlex.split(text, posix=True)
    except ValueError:
        expected = ValueError
    try:
        got: object = shell.posix_split(text)
    except ValueError:
        got = ValueError
    assert got == expected
