"""vLLM: ``vllm serve``, ``python -m vllm.entrypoints.openai.api_server``, the vllm/vllm-openai
image, and the ``LLM(...)`` / ``EngineArgs(...)`` keywords that mirror its flags.

Flags: FlexibleArgumentParser turns underscores into dashes in option names
(vllm/utils/argparse_utils.py); ``-tp``/``-pp``/``-dp``/``-q`` are registered short aliases in
EngineArgs.add_cli_args (vllm/engine/arg_utils.py: "--tensor-parallel-size", "-tp";
"--quantization", "-q").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from ecolint.extract.launchers.vocab import (
    DEFAULT_INT8_THRESHOLD,
    DELETE_FLAG,
    DELETE_KEYWORD,
    DTYPE,
    INT,
    SWITCH,
    Builder,
    Command,
    Derive,
    Flag,
    Image,
    Launch,
    Launcher,
    Opt,
    Tok,
    checkpoint_precision,
    dtype_facts,
    kv_cache_facts,
    load_format_facts,
    quantization_facts,
    switches,
    valued,
)
from ecolint.setups import (
    BATCH_SIZE,
    ENFORCE_EAGER,
    KV_CACHE_DTYPE,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    TENSOR_PARALLEL,
    THRESHOLD_EXPOSED,
)


def _model(b: Builder, launch: Launch, opts: Mapping[str, Opt], positionals: Sequence[Tok]) -> None:
    """``vllm serve MODEL`` (a positional first wins), else ``--model``, else (``serve``) a
    positional anywhere."""
    args = launch.args
    model: Tok | None = args[0] if args and not args[0].text.startswith("-") else None
    if model is None and "--model" in opts:
        opt = opts["--model"]
        model = Tok(opt.value or "", opt.loc)
    if model is None and positionals and launch.sub == "serve":
        model = positionals[0]
    if model is not None and model.text != "":
        b.fact(MODEL, model.text, model.loc, "flag")


def _quantization(b: Builder, row: Flag, opt: Opt) -> None:
    """--quantization / ``LLM(quantization=…)``. bitsandbytes on a pre-quantized 8-bit checkpoint
    loads as LLM.int8 (vLLM docs, quantization/bnb: "vLLM reads the model's config file and
    supports both in-flight quantization and pre-quantized checkpoint"; in-flight is 4-bit). Its
    outlier threshold comes from the checkpoint's config (default 6.0) and vLLM has no flag or
    keyword for it, so, as with TGI, the threshold is the implied default and not exposed."""
    quantization_facts(b, row, opt)
    if b.setup.get(PRECISION) == "int8" and (opt.value or "").lower() == "bitsandbytes":
        b.fact(LLM_INT8_THRESHOLD, DEFAULT_INT8_THRESHOLD, opt.site, "implied")
        b.fact(THRESHOLD_EXPOSED, False, opt.site, "implied")


_TRUE = frozenset({"true", "yes", "on"})  # YAML 1.1's true, as PyYAML's safe loader reads it


def config_file_flags(text: str) -> list[str]:
    """The flags vLLM makes of a ``--config`` YAML file: ``key: value`` gives ``--key value``,
    ``key: true`` gives ``--key`` and ``false`` ``--no-key``, a list ``--key`` and its items.
    Nested mappings (JSON options such as compilation-config) are left out: no rule reads them.
    A file that is not a YAML mapping gives no flags."""
    try:
        # The pure-Python composer: a config file is small, and it raises RecursionError on a
        # file nested too deep where the C one would take the process down.
        roots = [doc for doc in yaml.compose_all(text, Loader=yaml.SafeLoader) if doc is not None]
    except (yaml.YAMLError, RecursionError):
        return []
    if len(roots) != 1 or not isinstance(roots[0], yaml.MappingNode):
        return []
    flags: list[str] = []
    for key, value in roots[0].value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:bool":
            flags.append(("--" if value.value.lower() in _TRUE else "--no-") + key.value)
        elif isinstance(value, yaml.ScalarNode):
            flags += ["--" + key.value, value.value]
        elif isinstance(value, yaml.SequenceNode) and value.value:
            flags += ["--" + key.value, *(item.value for item in value.value if isinstance(item, yaml.ScalarNode))]
    return flags


TABLE: tuple[Flag | Derive, ...] = (
    Flag("--model", fact=MODEL, python="model", example="Qwen/Qwen2-7B-Instruct"),
    Flag(
        "--quantization",
        aliases=("-q",),
        fact=QUANT_CONFIG,
        maps=_quantization,
        python="quantization",
        edit=DELETE_FLAG,
        python_edit=DELETE_KEYWORD,
        example="bitsandbytes",
    ),
    Flag("--load-format", fact=QUANT_CONFIG, maps=load_format_facts, edit=DELETE_FLAG, example="bitsandbytes"),
    Derive(checkpoint_precision),
    Flag("--dtype", type=DTYPE, maps=dtype_facts, python="dtype"),
    Flag("--kv-cache-dtype", fact=KV_CACHE_DTYPE, maps=kv_cache_facts, python="kv_cache_dtype", example="fp8"),
    Flag("--tensor-parallel-size", aliases=("-tp",), type=INT, fact=TENSOR_PARALLEL, python="tensor_parallel_size"),
    Flag(
        "--max-num-seqs",
        type=INT,
        fact=BATCH_SIZE,
        python="max_num_seqs",
        edit=DELETE_FLAG,
        python_edit=DELETE_KEYWORD,
    ),
    Flag(
        "--enforce-eager",
        type=SWITCH,
        negatable=True,
        fact=ENFORCE_EAGER,
        python="enforce_eager",
        edit=DELETE_FLAG,
        python_edit=DELETE_KEYWORD,
    ),
    Flag("--pipeline-parallel-size", aliases=("-pp",)),
    Flag("--data-parallel-size", aliases=("-dp",)),
    Flag("--enable-prefix-caching", type=SWITCH, negatable=True),
    Flag("--enable-chunked-prefill", type=SWITCH, negatable=True),
    *switches(
        "--trust-remote-code",
        "--disable-log-requests",
        "--disable-log-stats",
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
    ),
    *valued(
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
    ),
)

LAUNCHER = Launcher(
    framework="vllm",
    commands=(
        Command(program="vllm", subcommands=("serve",)),
        Command(module=r"vllm\.entrypoints.*server.*", sub="api_server"),
        Command(module=r"vllm", subcommands=("serve",)),  # python -m vllm serve (the CLI's main)
    ),
    table=TABLE,
    triggers=(b"vllm",),
    # vllm/vllm-openai: ENTRYPOINT ["vllm", "serve"] (older: python3 -m
    # vllm.entrypoints.openai.api_server, same flags).
    images=(Image("vllm-openai"), Image("/vllm"), Image("vllm", how="equals")),
    entrypoint=("vllm", "serve"),
    key_words=("vllm",),
    head=("vllm", "serve"),
    model_flag="--model",
    model=_model,
    config_flag="--config",
    config_flags=config_file_flags,
    underscores=True,
)
