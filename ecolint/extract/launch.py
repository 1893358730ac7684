"""One flag parser for every launcher: argv + env (with a Location per token) -> Setup.

Containers (shell scripts, Dockerfiles, compose / Kubernetes / workflow YAML, Helm values) only
turn their text into ``Tok`` lists and ``EnvVal`` maps; everything that knows what a flag of
vLLM, TGI, SGLang, llama.cpp or Ollama means lives here.

Flag facts checked against each project's own docs / source (see the comments at each table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ecolint.setups import (
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    ENFORCE_EAGER,
    KV_CACHE_DTYPE,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    TENSOR_PARALLEL,
    THRESHOLD_EXPOSED,
    Location,
    Setup,
)

# Maps an offset inside a token's text to a (line, column) in the file, when the container
# knows it (a quoted shell word, a YAML scalar). Used to locate words of an ``sh -c`` script.
Locator = Callable[[int], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Tok:
    """One argv word as the launcher will see it, and where it was written."""

    text: str
    loc: Location | None = None
    locate: Locator | None = None


@dataclass(frozen=True)
class EnvVal:
    """An environment variable of the launcher; ``loc`` points at its key (``QUANTIZE=…``)."""

    value: str
    loc: Location | None = None


@dataclass
class _Opt:
    flag: Tok
    value: str | None
    loc: Location | None


# --------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------


def span(a: Location | None, b: Location | None) -> Location | None:
    """From the start of ``a`` to the end of ``b`` when both are on one line, else ``a``."""
    if a is None:
        return b
    if b is None or b.path != a.path or b.line != a.line or b.end_line != a.line:
        return a
    return Location(a.path, a.line, a.column, a.line, max(a.end_column, b.end_column))


def _first_loc(*locs: Location | None) -> Location | None:
    for loc in locs:
        if loc is not None:
            return loc
    return None


# --------------------------------------------------------------------------------------------
# Precision vocabulary
# --------------------------------------------------------------------------------------------

_GGUF_Q = re.compile(r"(?i)(?:^|[^a-z0-9])i?q([1-8])(?:_[a-z0-9]+)*(?=$|[^a-z0-9])")
_GGUF_F = re.compile(r"(?i)(?:^|[^a-z0-9])(bf16|f16|fp16|f32|fp32)(?=$|[^a-z0-9])")
_EIGHT_BIT_CKPT = re.compile(r"(?i)(8bit|8-bit|int8|bnb-8)")
_FOUR_BIT_BNB = re.compile(r"(?i)(bnb[-_]4bit|4bit[-_]bnb|bnb[-_]nf4|[-_]nf4(?:$|[-_]))")
_NAME_AWQ = re.compile(r"(?i)(?:^|[^a-z])awq(?:$|[^a-z])")
_NAME_GPTQ = re.compile(r"(?i)(?:^|[^a-z])gptq(?:$|[^a-z])")
_NAME_FP8 = re.compile(r"(?i)(?:^|[^a-z0-9])fp8(?:$|[^a-z0-9])")


def gguf_precision(name: str) -> str | None:
    """``gguf-q4`` for any Q4_* / IQ4_* / q4_K_M quant named in a file name or tag, etc."""
    match = _GGUF_Q.search(name)
    if match:
        return f"gguf-q{match.group(1)}"
    match = _GGUF_F.search(name)
    if match:
        word = match.group(1).lower()
        return {"bf16": "gguf-bf16", "f32": "gguf-f32", "fp32": "gguf-f32"}.get(word, "gguf-f16")
    return None


def _dtype_precision(dtype: str) -> str | None:
    return {
        "float16": "fp16",
        "half": "fp16",
        "fp16": "fp16",
        "bfloat16": "bf16",
        "bf16": "bf16",
        "float32": "fp32",
        "float": "fp32",
        "fp32": "fp32",
    }.get(dtype.strip().lower())


def _method_precision(method: str) -> str:
    """A vLLM / SGLang ``--quantization`` method -> our precision vocabulary (raw if unknown)."""
    m = method.strip().lower()
    if m.startswith("awq"):
        return "awq"
    if "gptq" in m or m == "marlin":
        return "gptq"
    if "fp8" in m:
        return "fp8"
    return m


def _name_precision(model: str) -> str | None:
    """Precision a checkpoint name announces (vLLM/SGLang read it from the checkpoint config)."""
    if model.lower().endswith(".gguf"):
        return gguf_precision(model)
    if _FOUR_BIT_BNB.search(model):
        return "nf4"
    if _NAME_AWQ.search(model):
        return "awq"
    if _NAME_GPTQ.search(model):
        return "gptq"
    if _NAME_FP8.search(model):
        return "fp8"
    return None


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _parse_bool(value: str | None) -> bool | None:
    """A bare boolean flag is True; ``=true/false/1/0/yes/no`` as written; else unknown."""
    if value is None:
        return True
    word = value.strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off"):
        return False
    return None


def _unresolved(value: str | None) -> bool:
    """A value the container could not resolve (``$VAR``, ``$(…)``) says nothing."""
    return value is None or "$" in value or value.strip() == ""


# --------------------------------------------------------------------------------------------
# Flag specs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    aliases: Mapping[str, str]
    booleans: frozenset[str]
    valued: frozenset[str]
    underscores: bool = False  # argparse front-ends that accept --max_num_seqs
    equals: bool = True


# vLLM: FlexibleArgumentParser turns underscores into dashes in option names
# (vllm/utils/argparse_utils.py); ``-tp``/``-pp``/``-dp``/``-q`` are registered short aliases in
# EngineArgs.add_cli_args (vllm/engine/arg_utils.py: "--tensor-parallel-size", "-tp";
# "--quantization", "-q").
_VLLM = _Spec(
    aliases={
        "-tp": "--tensor-parallel-size",
        "-pp": "--pipeline-parallel-size",
        "-dp": "--data-parallel-size",
        "-q": "--quantization",
    },
    booleans=frozenset(
        {
            "--enforce-eager",
            "--no-enforce-eager",
            "--trust-remote-code",
            "--enable-prefix-caching",
            "--no-enable-prefix-caching",
            "--disable-log-requests",
            "--disable-log-stats",
            "--enable-chunked-prefill",
            "--no-enable-chunked-prefill",
            "--enable-auto-tool-choice",
            "--enable-lora",
            "--disable-custom-all-reduce",
            "--skip-tokenizer-init",
            "--disable-frontend-multiprocessing",
            "--enable-reasoning",
            "--async-scheduling",
            "--enable-expert-parallel",
            "--headless",
            "--disable-fastapi-docs",
            "--enable-sleep-mode",
            "--use-v2-block-manager",
            "--worker-use-ray",
            "--enable-prompt-tokens-details",
            "--disable-sliding-window",
            "--enable-log-requests",
            "--disable-uvicorn-access-log",
            "--enable-request-id-headers",
            "--enable-server-load-tracking",
            "--calculate-kv-scales",
            "--disable-cascade-attn",
            "--enable-eplb",
            "--enable-prompt-embeds",
            "--return-tokens-as-token-ids",
            "--enable-force-include-usage",
            "--allow-credentials",
            "--disable-async-output-proc",
            "--enable-lora-bias",
            "--fully-sharded-loras",
        }
    ),
    valued=frozenset(
        {
            "--model",
            "--quantization",
            "--load-format",
            "--dtype",
            "--kv-cache-dtype",
            "--tensor-parallel-size",
            "--pipeline-parallel-size",
            "--data-parallel-size",
            "--max-num-seqs",
            "--max-model-len",
            "--gpu-memory-utilization",
            "--port",
            "--host",
            "--served-model-name",
            "--tokenizer",
            "--revision",
            "--max-num-batched-tokens",
            "--download-dir",
            "--api-key",
            "--chat-template",
            "--tool-call-parser",
            "--config",
            "--swap-space",
            "--block-size",
            "--seed",
            "--cpu-offload-gb",
            "--compilation-config",
            "--speculative-config",
            "--limit-mm-per-prompt",
            "--uvicorn-log-level",
            "--task",
            "--reasoning-parser",
            "--distributed-executor-backend",
            "--max-loras",
            "--lora-modules",
        }
    ),
    underscores=True,
)

# SGLang: ServerArgs fields become --kebab-case flags with aliases (``--model`` for --model-path,
# ``--tensor-parallel-size`` for --tp-size; python/sglang/srt/server_args.py); plain argparse
# prefix-matching makes ``--tp`` work, as SGLang's own docs write it
# ("python -m sglang.launch_server --model-path ... --tp 2"). Its parser is plain argparse, so
# underscores are accepted here leniently (a misspelled flag is still the user's intent).
_SGLANG = _Spec(
    aliases={
        "--model": "--model-path",
        "--tensor-parallel-size": "--tp-size",
        "--tp": "--tp-size",
        "--data-parallel-size": "--dp-size",
        "--dp": "--dp-size",
    },
    booleans=frozenset(
        {
            "--disable-cuda-graph",
            "--enable-torch-compile",
            "--trust-remote-code",
            "--disable-radix-cache",
            "--enable-dp-attention",
            "--enable-metrics",
            "--log-requests",
            "--enable-p2p-check",
            "--disable-cuda-graph-padding",
            "--enable-mixed-chunk",
            "--skip-tokenizer-init",
            "--is-embedding",
            "--enable-multimodal",
            "--enable-deterministic-inference",
            "--disable-overlap-schedule",
        }
    ),
    valued=frozenset(
        {
            "--model-path",
            "--quantization",
            "--load-format",
            "--dtype",
            "--kv-cache-dtype",
            "--tp-size",
            "--dp-size",
            "--max-running-requests",
            "--port",
            "--host",
            "--mem-fraction-static",
            "--context-length",
            "--served-model-name",
            "--tokenizer-path",
            "--chunked-prefill-size",
            "--cuda-graph-max-bs",
            "--attention-backend",
            "--config",
            "--torchao-config",
            "--schedule-policy",
            "--max-total-tokens",
            "--revision",
        }
    ),
    underscores=True,
)

# TGI (Rust clap): long flags and their env vars from docs/source/reference/launcher.md, e.g.
# "--quantize <QUANTIZE> [env: QUANTIZE=]", "--cuda-graphs ... Use "0" to disable", "-p, --port".
# clap does not turn underscores into dashes, so none are accepted here.
_TGI = _Spec(
    aliases={"-p": "--port"},
    booleans=frozenset(
        {"--trust-remote-code", "--disable-custom-kernels", "--json-output", "--disable-grammar-support"}
    ),
    valued=frozenset(
        {
            "--model-id",
            "--revision",
            "--quantize",
            "--dtype",
            "--kv-cache-dtype",
            "--num-shard",
            "--sharded",
            "--max-batch-size",
            "--max-batch-total-tokens",
            "--max-total-tokens",
            "--max-input-tokens",
            "--max-input-length",
            "--max-batch-prefill-tokens",
            "--cuda-graphs",
            "--port",
            "--hostname",
            "--max-concurrent-requests",
            "--speculate",
            "--huggingface-hub-cache",
            "--cuda-memory-fraction",
            "--rope-scaling",
            "--rope-factor",
            "--max-waiting-tokens",
            "--waiting-served-ratio",
            "--lora-adapters",
            "--max-client-batch-size",
        }
    ),
)
_TGI_ENV = {
    "MODEL_ID": "--model-id",
    "QUANTIZE": "--quantize",
    "DTYPE": "--dtype",
    "KV_CACHE_DTYPE": "--kv-cache-dtype",
    "NUM_SHARD": "--num-shard",
    "MAX_BATCH_SIZE": "--max-batch-size",
    "MAX_BATCH_TOTAL_TOKENS": "--max-batch-total-tokens",
    "MAX_TOTAL_TOKENS": "--max-total-tokens",
    "CUDA_GRAPHS": "--cuda-graphs",
}

# llama.cpp common/arg.cpp: {"-m", "--model"} (env LLAMA_ARG_MODEL), {"-hf", "-hfr", "--hf-repo"}
# "<user>/<model>[:quant]" (env LLAMA_ARG_HF_REPO; quant defaults to Q4_K_M), {"-hff",
# "--hf-file"}, {"-np", "--parallel"} "number of parallel sequences / server slots" (env
# LLAMA_ARG_N_PARALLEL).
_LLAMA = _Spec(
    aliases={
        "-m": "--model",
        "-hf": "--hf-repo",
        "-hfr": "--hf-repo",
        "-hff": "--hf-file",
        "-np": "--parallel",
        "-c": "--ctx-size",
        "-ngl": "--n-gpu-layers",
        "--gpu-layers": "--n-gpu-layers",
        "-b": "--batch-size",
        "-ub": "--ubatch-size",
        "-t": "--threads",
        "-fa": "--flash-attn",
        "-cb": "--cont-batching",
        "-mu": "--model-url",
    },
    booleans=frozenset(
        {
            "--cont-batching",
            "--no-cont-batching",
            "--embedding",
            "--embeddings",
            "--mlock",
            "--no-mmap",
            "--jinja",
            "--verbose",
            "--metrics",
            "-v",
            "--conversation",
            "-cnv",
            "--interactive",
            "-i",
            "-sys",
            "--no-warmup",
        }
    ),
    valued=frozenset(
        {
            "--model",
            "--hf-repo",
            "--hf-file",
            "--parallel",
            "--ctx-size",
            "--n-gpu-layers",
            "--batch-size",
            "--ubatch-size",
            "--threads",
            "--port",
            "--host",
            "--flash-attn",
            "--model-url",
            "--alias",
            "-a",
            "--prompt",
            "-p",
            "-n",
            "--n-predict",
            "-ctk",
            "-ctv",
            "--cache-type-k",
            "--cache-type-v",
            "--api-key",
            "--chat-template",
            "-s",
            "--seed",
            "-fit",
            "--temp",
            "-ot",
            "--override-tensor",
        }
    ),
)
_LLAMA_ENV = {
    "LLAMA_ARG_MODEL": "--model",
    "LLAMA_ARG_HF_REPO": "--hf-repo",
    "LLAMA_ARG_HF_FILE": "--hf-file",
    "LLAMA_ARG_N_PARALLEL": "--parallel",
}

# ollama cmd/cmd.go: `ollama create MODEL -f FILE -q/--quantize LEVEL`, `ollama run MODEL`,
# `ollama pull MODEL`; the server reads OLLAMA_NUM_PARALLEL (max parallel requests per model).
_OLLAMA = _Spec(
    aliases={"-f": "--file", "-q": "--quantize"},
    booleans=frozenset({"--verbose", "--insecure", "--nowordwrap", "--experimental", "--think", "--hidethinking"}),
    valued=frozenset({"--file", "--quantize", "--format", "--keepalive"}),
)


def _looks_negative_number(text: str) -> bool:
    return bool(re.fullmatch(r"-\d+(\.\d+)?", text))


def _canonical(name: str, spec: _Spec) -> str:
    if spec.underscores and name.startswith("--"):
        name = name.replace("_", "-")
    return spec.aliases.get(name, name)


def _parse(args: Sequence[Tok], spec: _Spec) -> tuple[dict[str, _Opt], list[Tok]]:
    """argparse-like: last occurrence wins; returns options by canonical name and positionals."""
    opts: dict[str, _Opt] = {}
    positionals: list[Tok] = []
    i = 0
    while i < len(args):
        tok = args[i]
        text = tok.text
        if text == "--":
            positionals.extend(args[i + 1 :])
            break
        if not text.startswith("-") or text == "-" or _looks_negative_number(text):
            positionals.append(tok)
            i += 1
            continue
        name, eq, inline = text.partition("=") if spec.equals else (text, "", "")
        canonical = _canonical(name, spec)
        if eq:
            opts[canonical] = _Opt(tok, inline, tok.loc)
            i += 1
            continue
        if canonical in spec.booleans:
            # --x and --no-x are one switch: the later one wins (argparse's BooleanOptionalAction)
            opts.pop("--" + canonical[5:] if canonical.startswith("--no-") else "--no-" + canonical[2:], None)
            opts[canonical] = _Opt(tok, None, tok.loc)
            i += 1
            continue
        takes_value = canonical in spec.valued
        nxt = args[i + 1] if i + 1 < len(args) else None
        if nxt is not None and (takes_value or not nxt.text.startswith("-") or _looks_negative_number(nxt.text)):
            opts[canonical] = _Opt(tok, nxt.text, span(tok.loc, nxt.loc))
            i += 2
            continue
        opts[canonical] = _Opt(tok, None, tok.loc)
        i += 1
    return opts, positionals


def _env_opts(env: Mapping[str, EnvVal], table: Mapping[str, str], opts: dict[str, _Opt]) -> None:
    """Launcher settings read from env vars; a command-line flag wins over its env var (clap)."""
    for key, canonical in table.items():
        val = env.get(key)
        if val is None or canonical in opts:
            continue
        opts[canonical] = _Opt(Tok(f"{key}={val.value}", val.loc), val.value, val.loc)


# --------------------------------------------------------------------------------------------
# Launcher detection
# --------------------------------------------------------------------------------------------

_SHELLS = {"sh", "bash", "dash", "zsh", "ash", "ksh"}
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")
_SIMPLE_WRAPPERS = {"exec", "nohup", "time", "command", "builtin", "caffeinate"}


def basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def _skip_options(args: Sequence[Tok], i: int, valued: Iterable[str] = ()) -> int:
    valued = set(valued)
    while i < len(args) and args[i].text.startswith("-"):
        name = args[i].text.split("=", 1)[0]
        i += 2 if (name in valued and "=" not in args[i].text) else 1
    return i


def _strip_wrappers(args: Sequence[Tok], env: dict[str, EnvVal]) -> int:
    """Index of the real program after `nohup`, `env A=B`, `uv run`, `conda run -n x`, …"""
    i = 0
    for _ in range(16):  # wrappers rarely nest deeper; a bound keeps odd input cheap
        if i >= len(args):
            return i
        word = basename(args[i].text)
        nxt = args[i + 1].text if i + 1 < len(args) else ""
        if word in _SIMPLE_WRAPPERS:
            i += 1
        elif word == "sudo":
            i = _skip_options(args, i + 1, ("-u", "-g", "-C", "-D", "-h", "-p", "-U"))
        elif word == "env":
            i = _skip_options(args, i + 1, ("-u", "-C", "-S"))
            while i < len(args) and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", args[i].text):
                key, _, value = args[i].text.partition("=")
                env[key] = EnvVal(value, args[i].loc)
                i += 1
        elif word in ("nice", "ionice", "stdbuf", "numactl", "chrt"):
            i = _skip_options(args, i + 1, ("-n", "-c", "-p", "-i", "-o", "-e", "-N", "-m", "-C"))
        elif word == "taskset":
            i = _skip_options(args, i + 1, ())
            i += 1  # the cpu mask / list
        elif word == "timeout":
            i = _skip_options(args, i + 1, ("-s", "-k", "--signal", "--kill-after")) + 1
        elif word in ("uv", "poetry", "pipenv", "pdm", "rye", "hatch", "pixi") and nxt == "run":
            i = _skip_options(
                args,
                i + 2,
                (
                    "--with",
                    "--python",
                    "-p",
                    "--project",
                    "--directory",
                    "--env-file",
                    "--extra",
                    "--group",
                    "--index",
                    "--from",
                    "-e",
                    "--environment",
                ),
            )
        elif word in ("conda", "mamba", "micromamba") and nxt == "run":
            i = _skip_options(args, i + 2, ("-n", "--name", "-p", "--prefix"))
        elif word == "uvx":
            i = _skip_options(args, i + 1, ("--with", "--python", "--from"))
        else:
            return i
    return i


@dataclass
class _Launch:
    framework: str
    sub: str  # vllm "serve", ollama "run", llama.cpp program name, …
    head: list[Tok]  # the launcher words (origin)
    args: list[Tok]


def _python_module(args: Sequence[Tok], i: int) -> tuple[str, int] | None:
    """``python [-u] -m module`` -> (module, index after it)."""
    j = i + 1
    while j < len(args):
        text = args[j].text
        if text == "-m" and j + 1 < len(args):
            return args[j + 1].text, j + 2
        if text.startswith("-m") and len(text) > 2:
            return text[2:], j + 1
        if text in ("-X", "-W"):
            j += 2
        elif text.startswith("-"):
            j += 1
        else:
            return None
    return None


def _detect(args: Sequence[Tok], env: dict[str, EnvVal]) -> _Launch | None:
    i = _strip_wrappers(args, env)
    if i >= len(args):
        return None
    word = basename(args[i].text)
    nxt = args[i + 1].text if i + 1 < len(args) else ""
    if word == "vllm":
        return _Launch("vllm", "serve", list(args[i : i + 2]), list(args[i + 2 :])) if nxt == "serve" else None
    if word == "text-generation-launcher":
        return _Launch("tgi", "launcher", [args[i]], list(args[i + 1 :]))
    if word == "sglang":
        return _Launch("sglang", "serve", list(args[i : i + 2]), list(args[i + 2 :])) if nxt == "serve" else None
    if word in ("llama-server", "llama-cli", "llama-quantize"):
        return _Launch("llama.cpp", word, [args[i]], list(args[i + 1 :]))
    if word == "ollama":
        if nxt in ("run", "pull", "create", "serve"):
            return _Launch("ollama", nxt, list(args[i : i + 2]), list(args[i + 2 :]))
        return None
    if _PYTHON.match(word):
        found = _python_module(args, i)
        if found is None:
            return None
        module, j = found
        head = list(args[i:j])
        if module.startswith("vllm.entrypoints") and "server" in module:
            return _Launch("vllm", "api_server", head, list(args[j:]))
        if module in ("sglang.launch_server", "sglang_router.launch_server"):
            return _Launch("sglang", "launch_server", head, list(args[j:]))
        if module == "vllm" and j < len(args) and args[j].text == "serve":  # python -m vllm serve (cli main)
            return _Launch("vllm", "serve", head + [args[j]], list(args[j + 1 :]))
    return None


# --------------------------------------------------------------------------------------------
# Container images: what an image runs when a container only gives it arguments
# --------------------------------------------------------------------------------------------


def image_framework(image: str) -> str | None:
    """The launcher an image runs by default, from its name (registry and tag ignored)."""
    # Case-sensitive on purpose: Docker image references are lowercase, and the engine's
    # trigger tokens (b"vllm", b"text-generation", …) are exact bytes.
    name = image.strip().split("@", 1)[0]
    repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    if "text-generation-inference" in repo:
        return "tgi"
    if repo.endswith(("vllm-openai", "/vllm")) or repo == "vllm":
        return "vllm"
    if repo.endswith("ollama/ollama") or repo == "ollama":
        return "ollama"
    if repo.endswith("llama.cpp") and tag.startswith("server"):
        return "llama.cpp"
    if repo.endswith("sglang"):
        return "sglang"
    return None


def _image_entrypoint(framework: str | None) -> list[str] | None:
    # Official images: TGI ENTRYPOINT ["text-generation-launcher"]; vllm/vllm-openai ENTRYPOINT
    # ["vllm", "serve"] (older: python3 -m vllm.entrypoints.openai.api_server, same flags);
    # ollama/ollama ENTRYPOINT ["/bin/ollama"] CMD ["serve"]; llama.cpp :server images
    # ENTRYPOINT ["/app/llama-server"]; lmsysorg/sglang has none (the command names the module).
    return {
        "tgi": ["text-generation-launcher"],
        "vllm": ["vllm", "serve"],
        "ollama": ["ollama"],
        "llama.cpp": ["llama-server"],
    }.get(framework or "")


def container_argv(
    image: Tok | None,
    entrypoint: Sequence[Tok] | None,
    cmd: Sequence[Tok] | None,
) -> list[Tok]:
    """argv of a container as Docker / Kubernetes build it from image defaults and overrides.

    ``entrypoint`` / ``cmd`` are None when the container does not set them. Setting an
    entrypoint drops the image's default command (Docker and Kubernetes both do this).
    """
    framework = image_framework(image.text) if image is not None else None
    loc = image.loc if image is not None else None
    if entrypoint is None:
        if cmd and _names_a_program(cmd):
            # `command: vllm serve m` on the vLLM image: Docker would run "vllm serve vllm serve m";
            # read what the author meant rather than parse "vllm" as the model.
            return list(cmd)
        default = _image_entrypoint(framework) or []
        entry = [Tok(word, loc) for word in default]
        if cmd is None:
            cmd = [Tok("serve", loc)] if framework == "ollama" else []
    else:
        entry = list(entrypoint)
        cmd = cmd or []
    return entry + list(cmd)


# --------------------------------------------------------------------------------------------
# Interpreters per launcher
# --------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    def fact(self, name: str, value: object, loc: Location | None, how: str = "flag") -> None:
        self.setup.set(name, value, loc, how)


def _quant_facts(b: _Builder, method: str, loc: Location | None, model: str | None, how: str) -> None:
    """vLLM / SGLang --quantization (or --load-format bitsandbytes)."""
    b.fact(QUANT_CONFIG, method, loc, how)
    if method.lower() == "bitsandbytes":
        # vLLM docs (quantization/bnb): without a pre-quantized checkpoint, bitsandbytes is
        # "inflight quantization: load as 4bit quantization"; 8-bit only comes from an 8-bit
        # checkpoint's own config.
        eight = model is not None and bool(_EIGHT_BIT_CKPT.search(model))
        b.fact(PRECISION, "int8" if eight else "nf4", loc, how)
        return
    if method.lower() == "gguf":
        precision = gguf_precision(model or "")
        if precision:
            b.fact(PRECISION, precision, loc, how)
        return
    b.fact(PRECISION, _method_precision(method), loc, how)


def _model_facts(b: _Builder, model: Tok | None) -> None:
    if model is None or model.text == "":
        return
    b.fact(MODEL, model.text, model.loc, "flag")


def _checkpoint_precision(b: _Builder, model: Tok | None) -> None:
    """No --quantization: vLLM/SGLang read the method from the checkpoint (AWQ, FP8, GGUF, bnb)."""
    if model is None or b.setup.has(PRECISION):
        return
    precision = _name_precision(model.text)
    if precision is None:
        return
    b.fact(PRECISION, precision, model.loc, "filename")
    method = "gguf" if precision.startswith("gguf") else ("bitsandbytes" if precision == "nf4" else precision)
    b.fact(QUANT_CONFIG, method, model.loc, "filename")


def _dtype_facts(b: _Builder, opt: _Opt | None) -> None:
    if opt is None or _unresolved(opt.value):
        return
    precision = _dtype_precision(opt.value or "")
    if precision is None:
        return
    if b.setup.has(PRECISION):
        b.fact(COMPUTE_DTYPE, precision, opt.loc, _how(opt))
    else:
        b.fact(PRECISION, precision, opt.loc, _how(opt))


def _int_fact(b: _Builder, name: str, opt: _Opt | None) -> None:
    if opt is None:
        return
    value = _parse_int(opt.value)
    if value is not None:
        b.fact(name, value, opt.loc, _how(opt))


def _how(opt: _Opt) -> str:
    return "env" if "=" in opt.flag.text and not opt.flag.text.startswith("-") else "flag"


def _vllm(b: _Builder, launch: _Launch) -> None:
    args = launch.args
    first_positional = args[0] if args and not args[0].text.startswith("-") else None
    rest = args[1:] if first_positional is not None else args
    opts, positionals = _parse(rest, _VLLM)
    model = first_positional
    if model is None and "--model" in opts:
        opt = opts["--model"]
        model = Tok(opt.value or "", opt.loc)
    if model is None and positionals and launch.sub == "serve":
        model = positionals[0]
    _model_facts(b, model)
    model_text = model.text if model is not None else None
    _quantization_flags(b, opts, model_text)
    _checkpoint_precision(b, model)
    _dtype_facts(b, opts.get("--dtype"))
    _common_engine_facts(b, opts, "--tensor-parallel-size", "--max-num-seqs")
    if "--enforce-eager" in opts:
        value = _parse_bool(opts["--enforce-eager"].value)
        if value is not None:
            b.fact(ENFORCE_EAGER, value, opts["--enforce-eager"].loc)
    elif "--no-enforce-eager" in opts:
        b.fact(ENFORCE_EAGER, False, opts["--no-enforce-eager"].loc)


def _quantization_flags(b: _Builder, opts: Mapping[str, _Opt], model_text: str | None) -> None:
    """vLLM and SGLang spell quantization alike: --quantization X, or --load-format bitsandbytes
    alone (in-flight bitsandbytes)."""
    quant = opts.get("--quantization")
    load = opts.get("--load-format")
    if quant is not None and not _unresolved(quant.value):
        _quant_facts(b, quant.value or "", quant.loc, model_text, "flag")
    elif load is not None and (load.value or "").lower() == "bitsandbytes":
        _quant_facts(b, "bitsandbytes", load.loc, model_text, "flag")


def _common_engine_facts(b: _Builder, opts: Mapping[str, _Opt], tp_flag: str, batch_flag: str) -> None:
    kv = opts.get("--kv-cache-dtype")
    if kv is not None and not _unresolved(kv.value):
        b.fact(KV_CACHE_DTYPE, kv.value, kv.loc, _how(kv))
    _int_fact(b, TENSOR_PARALLEL, opts.get(tp_flag))
    _int_fact(b, BATCH_SIZE, opts.get(batch_flag))


def _sglang(b: _Builder, launch: _Launch) -> None:
    opts, _ = _parse(launch.args, _SGLANG)
    model = None
    if "--model-path" in opts:
        opt = opts["--model-path"]
        model = Tok(opt.value or "", opt.loc)
    _model_facts(b, model)
    model_text = model.text if model is not None else None
    _quantization_flags(b, opts, model_text)
    _checkpoint_precision(b, model)
    _dtype_facts(b, opts.get("--dtype"))
    _common_engine_facts(b, opts, "--tp-size", "--max-running-requests")
    eager = opts.get("--disable-cuda-graph")
    if eager is not None and _parse_bool(eager.value) is not None:
        b.fact(ENFORCE_EAGER, _parse_bool(eager.value), eager.loc)
    compiled = opts.get("--enable-torch-compile")
    if compiled is not None and _parse_bool(compiled.value) is not None:
        b.fact(COMPILED, _parse_bool(compiled.value), compiled.loc)


def _tgi_quantize(b: _Builder, opt: _Opt) -> None:
    method = (opt.value or "").strip().lower()
    how = _how(opt)
    b.fact(QUANT_CONFIG, method, opt.loc, how)
    if method == "bitsandbytes":
        # TGI launcher docs: "bitsandbytes: Bitsandbytes 8bit" (LLM.int8); the launcher has no
        # flag for the outlier threshold, so bitsandbytes' default 6.0 applies.
        b.fact(PRECISION, "int8", opt.loc, how)
        b.fact(LLM_INT8_THRESHOLD, 6.0, opt.loc, "implied")
        b.fact(THRESHOLD_EXPOSED, False, opt.loc, "implied")
        return
    precision = {"bitsandbytes-nf4": "nf4", "bitsandbytes-fp4": "fp4", "marlin": "gptq"}.get(method)
    b.fact(PRECISION, precision or _method_precision(method), opt.loc, how)


def _tgi(b: _Builder, launch: _Launch, env: Mapping[str, EnvVal]) -> None:
    opts, _ = _parse(launch.args, _TGI)
    _env_opts(env, _TGI_ENV, opts)
    model = opts.get("--model-id")
    if model is not None and model.value:
        b.fact(MODEL, model.value, model.loc, _how(model))
    quant = opts.get("--quantize")
    if quant is not None and not _unresolved(quant.value):
        _tgi_quantize(b, quant)
    _dtype_facts(b, opts.get("--dtype"))
    _common_engine_facts(b, opts, "--num-shard", "--max-batch-size")
    # Not a batch-size limit: TGI replaces it at warm-up for flash-attention models.
    _int_fact(b, "max_batch_total_tokens", opts.get("--max-batch-total-tokens"))
    _int_fact(b, "max_total_tokens", opts.get("--max-total-tokens"))
    graphs = opts.get("--cuda-graphs")
    if graphs is not None and not _unresolved(graphs.value):
        sizes = [s.strip() for s in (graphs.value or "").split(",") if s.strip()]
        b.fact(ENFORCE_EAGER, sizes == ["0"], graphs.loc, _how(graphs))


def _llama_model_facts(b: _Builder, opts: Mapping[str, _Opt]) -> None:
    model = opts.get("--model")
    repo = opts.get("--hf-repo")
    hf_file = opts.get("--hf-file")
    if model is not None and not _unresolved(model.value):
        b.fact(MODEL, model.value, model.loc, _how(model))
        precision = gguf_precision(basename(model.value or ""))
        if precision:
            b.fact(PRECISION, precision, model.loc, "filename")
            b.fact(QUANT_CONFIG, "gguf", model.loc, "filename")
        return
    if repo is None or _unresolved(repo.value):
        return
    b.fact(MODEL, repo.value, repo.loc, _how(repo))
    tag = (repo.value or "").rpartition(":")[2] if ":" in (repo.value or "") else ""
    source = hf_file.value if hf_file is not None and hf_file.value else tag
    precision = gguf_precision(source) if source else None
    if precision:
        loc = hf_file.loc if (hf_file is not None and source == hf_file.value) else repo.loc
        b.fact(PRECISION, precision, loc, "filename")
        b.fact(QUANT_CONFIG, "gguf", loc, "filename")
    elif not source:
        # llama.cpp README: "-hf <user>/<model>[:quant]" — quant "default to Q4_K_M, or falls back
        # to the first file in the repo if Q4_K_M doesn't exist".
        b.fact(PRECISION, "gguf-q4", repo.loc, "implied")
        b.fact(QUANT_CONFIG, "gguf", repo.loc, "implied")


_QUANT_TYPE = re.compile(r"(?i)^(i?q[1-8](_[a-z0-9]+)*|f16|bf16|f32|tq[12]_0|mxfp4_moe)$")


def _llama_quantize(b: _Builder, launch: _Launch) -> None:
    """llama-quantize [options] model-f32.gguf [model-quant.gguf] type [nthreads]."""
    valued = (
        "--imatrix",
        "--include-weights",
        "--exclude-weights",
        "--output-tensor-type",
        "--token-embedding-type",
        "--override-kv",
        "--tensor-type",
        "--prune-layers",
    )
    args = launch.args
    i = _skip_options(args, 0, valued)
    positionals = list(args[i:])
    qtype = next((t for t in positionals if _QUANT_TYPE.match(t.text)), None)
    files = [t for t in positionals if t is not qtype and t.text.lower().endswith(".gguf")]
    target = files[1] if len(files) > 1 else (files[0] if files else None)
    if target is not None:
        b.fact(MODEL, target.text, target.loc, "flag")
    if qtype is None:
        return
    precision = gguf_precision(qtype.text)
    if precision:
        b.fact(PRECISION, precision, qtype.loc, "flag")
        b.fact(QUANT_CONFIG, "gguf", qtype.loc, "flag")


def _llama(b: _Builder, launch: _Launch, env: Mapping[str, EnvVal]) -> None:
    if launch.sub == "llama-quantize":
        _llama_quantize(b, launch)
        return
    opts, _ = _parse(launch.args, _LLAMA)
    _env_opts(env, _LLAMA_ENV, opts)
    _llama_model_facts(b, opts)
    _int_fact(b, BATCH_SIZE, opts.get("--parallel"))


_PARAM_SIZE = re.compile(r"(?i)(?:^|[^a-z0-9.])\d+(?:\.\d+)?[bm](?:$|[^a-z0-9])")
_OLLAMA_NAMESPACE = re.compile(r"^(hf\.co|huggingface\.co)/", re.I)


def ollama_tag_facts(setup: Setup, tag: Tok) -> None:
    """MODEL and precision of an Ollama tag (``qwen2:1.5b-instruct-q4_K_M``, ``hf.co/u/r:Q4_K_M``)."""
    b = _Builder(setup)
    b.fact(MODEL, tag.text, tag.loc, "flag")
    name, _, version = tag.text.partition(":")
    precision = gguf_precision(version) if version else None
    if precision:
        b.fact(PRECISION, precision, tag.loc, "filename")
        b.fact(QUANT_CONFIG, "gguf", tag.loc, "filename")
        return
    if name.lower().endswith(".gguf") or name.startswith((".", "/", "~")):
        precision = gguf_precision(basename(name))
        if precision:
            b.fact(PRECISION, precision, tag.loc, "filename")
            b.fact(QUANT_CONFIG, "gguf", tag.loc, "filename")
        return
    hub = bool(_OLLAMA_NAMESPACE.match(name))
    sized = "/" not in name and bool(_PARAM_SIZE.search(version or ""))
    if (hub or sized) and not _unresolved(tag.text):
        # Ollama library tags without a quant suffix are 4-bit (Q4_K_M, earlier Q4_0); so are
        # hf.co GGUF repos ("By default, the Q4_K_M quantization scheme is used", HF hub docs for
        # Ollama). Only tags that name a size (``qwen2:1.5b``) or the hub count: a bare name may
        # be a local model made by ``ollama create``, whose precision its Modelfile decides.
        b.fact(PRECISION, "gguf-q4", tag.loc, "implied")
        b.fact(QUANT_CONFIG, "gguf", tag.loc, "implied")


def _ollama(b: _Builder, launch: _Launch, env: Mapping[str, EnvVal]) -> bool:
    """Returns False when the command says nothing worth a Setup."""
    opts, positionals = _parse(launch.args, _OLLAMA)
    if launch.sub in ("run", "pull"):
        if not positionals:
            return False
        ollama_tag_facts(b.setup, positionals[0])
        return True
    if launch.sub == "create":
        quant = opts.get("--quantize")
        if quant is None or _unresolved(quant.value):
            return False
        if positionals:
            b.fact(MODEL, positionals[0].text, positionals[0].loc, "flag")
        precision = gguf_precision(quant.value or "")
        b.fact(PRECISION, precision or (quant.value or "").lower(), quant.loc)
        b.fact(QUANT_CONFIG, "gguf", quant.loc)
        return True
    # serve: only the server's own settings
    parallel = env.get("OLLAMA_NUM_PARALLEL")
    value = _parse_int(parallel.value) if parallel is not None else None
    if value is None:
        return False
    b.fact(BATCH_SIZE, value, parallel.loc if parallel else None, "env")
    return True


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------

_MAX_DEPTH = 3


# The text of a file a launcher reads (vLLM's --config), from its path as the command wrote it;
# None when the caller cannot know it (a path inside a container image, say).
FileReader = Callable[[str], "str | None"]


def interpret(
    argv: Sequence[Tok],
    env: Mapping[str, EnvVal] | None = None,
    *,
    path: str,
    kind: str,
    origin: Location | None = None,
    label: str | None = None,
    read_file: FileReader | None = None,
    _depth: int = 0,
) -> list[Setup]:
    """Setups launched by one argv (``sh -c`` scripts may hold several; usually 0 or 1)."""
    args = list(argv)
    inner = _shell_c(args)
    if inner is not None:
        return _interpret_shell_c(
            inner, dict(env or {}), path=path, kind=kind, origin=origin, label=label, depth=_depth
        )
    wrapper_env: dict[str, EnvVal] = {}  # `env A=b …`: set after the caller's environment
    launch = _detect(args, wrapper_env)
    if launch is None:
        return []  # the usual case, and it never needs the environment
    env_map = {**(env or {}), **wrapper_env}
    if launch.framework == "vllm" and read_file is not None:
        launch.args = _with_config_file(launch.args, read_file)
    # The origin is the launcher itself (`vllm serve`, `python -m sglang.launch_server`), the
    # anchor for findings about something the command leaves out.
    start = _first_loc(*(t.loc for t in launch.head), origin) or Location(path, 1)
    setup = Setup(framework=launch.framework, origin=span(start, launch.head[-1].loc) or start, label=label, kind=kind)
    b = _Builder(setup)
    if launch.framework == "vllm":
        _vllm(b, launch)
    elif launch.framework == "sglang":
        _sglang(b, launch)
    elif launch.framework == "tgi":
        _tgi(b, launch, env_map)
    elif launch.framework == "llama.cpp":
        _llama(b, launch, env_map)
    elif launch.framework == "ollama" and not _ollama(b, launch, env_map):
        return []
    return [setup]


def _with_config_file(args: list[Tok], read_file: FileReader) -> list[Tok]:
    """vLLM's ``--config FILE``: the YAML file's keys as the flags vLLM makes of them, where vLLM
    puts them: after a positional model, before the command line's own flags, which therefore
    win (command line > config file > defaults). They are located at the file's name in the
    command, as variables read from a sourced file are at the ``source`` word."""
    at = [i for i, tok in enumerate(args) if tok.text == "--config"]
    if len(at) != 1 or at[0] + 1 >= len(args):
        return args  # vLLM refuses two config files, or a --config without one
    i = at[0]
    named = args[i + 1]
    text = read_file(named.text)
    if text is None:
        return args
    from ecolint.extract.manifests import config_file_flags  # lazy: manifests imports this module

    flags = [Tok(word, named.loc) for word in config_file_flags(text)]
    rest = args[:i] + args[i + 2 :]
    if args[0].text.startswith("-"):
        return [*flags, *rest]
    return [rest[0], *flags, *rest[1:]]


def _shell_c(args: Sequence[Tok]) -> Tok | None:
    """The script of ``sh -c "…"`` / ``/bin/bash -lc '…'``, if that is what argv runs."""
    env: dict[str, EnvVal] = {}
    i = _strip_wrappers(args, env)
    if i >= len(args) or basename(args[i].text) not in _SHELLS:
        return None
    j = i + 1
    while j < len(args) and args[j].text.startswith("-"):
        flags = args[j].text
        if not flags.startswith("--") and "c" in flags:
            return args[j + 1] if j + 1 < len(args) else None
        j += 1
    return None


def _interpret_shell_c(
    script: Tok,
    env: Mapping[str, EnvVal],
    *,
    path: str,
    kind: str,
    origin: Location | None,
    label: str | None,
    depth: int,
) -> list[Setup]:
    if depth >= _MAX_DEPTH:
        return []
    from ecolint.extract import shell  # lazy: shell imports this module

    return shell.setups_from_script(script, env, path=path, kind=kind, label=label, depth=depth + 1)


def _names_a_program(cmd: Sequence[Tok]) -> bool:
    """Whether a container command starts with a launcher or a shell, not with arguments."""
    first = basename(cmd[0].text)
    return first in _SHELLS or _detect(cmd, {}) is not None


def container_setups(
    image: Tok | None,
    entrypoint: Sequence[Tok] | None,
    cmd: Sequence[Tok] | None,
    env: Mapping[str, EnvVal] | None = None,
    *,
    path: str,
    kind: str,
    label: str | None = None,
) -> list[Setup]:
    """Setups of one container: image defaults, entrypoint / command overrides, env."""
    argv = container_argv(image, entrypoint, cmd)
    origin = image.loc if image is not None else None
    return interpret(argv, env, path=path, kind=kind, origin=origin, label=label)


_SPECS = {"vllm": _VLLM, "sglang": _SGLANG, "tgi": _TGI, "llama.cpp": _LLAMA, "ollama": _OLLAMA}


def known_flag(framework: str, flag: str) -> bool:
    """Whether ``flag`` (canonical ``--kebab-case``) is one this parser knows for the launcher."""
    spec = _SPECS.get(framework)
    if spec is None:
        return False
    canonical = _canonical(flag, spec)
    return canonical in spec.booleans or canonical in spec.valued
