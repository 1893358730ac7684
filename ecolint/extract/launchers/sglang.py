"""SGLang: ``sglang serve``, ``python -m sglang.launch_server``, the lmsysorg/sglang image.

ServerArgs fields become --kebab-case flags with aliases (``--model`` for --model-path,
``--tensor-parallel-size`` for --tp-size; python/sglang/srt/server_args.py); plain argparse
prefix-matching makes ``--tp`` work, as SGLang's own docs write it
("python -m sglang.launch_server --model-path ... --tp 2"). Its parser is plain argparse, so
underscores are accepted here leniently (a misspelled flag is still the user's intent).
"""

from __future__ import annotations

from ecolint.extract.launchers.vocab import (
    DELETE_FLAG,
    DTYPE,
    INT,
    SWITCH,
    Command,
    Derive,
    Flag,
    Image,
    Launcher,
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
    COMPILED,
    ENFORCE_EAGER,
    KV_CACHE_DTYPE,
    MODEL,
    QUANT_CONFIG,
    TENSOR_PARALLEL,
)

TABLE: tuple[Flag | Derive, ...] = (
    Flag("--model-path", aliases=("--model",), fact=MODEL, example="Qwen/Qwen2-7B-Instruct"),
    Flag("--quantization", fact=QUANT_CONFIG, maps=quantization_facts, edit=DELETE_FLAG, example="fp8"),
    Flag("--load-format", fact=QUANT_CONFIG, maps=load_format_facts, edit=DELETE_FLAG, example="bitsandbytes"),
    Derive(checkpoint_precision),
    Flag("--dtype", type=DTYPE, maps=dtype_facts),
    Flag("--kv-cache-dtype", fact=KV_CACHE_DTYPE, maps=kv_cache_facts, example="fp8"),
    Flag("--tp-size", aliases=("--tensor-parallel-size", "--tp"), type=INT, fact=TENSOR_PARALLEL),
    Flag("--max-running-requests", type=INT, fact=BATCH_SIZE, edit=DELETE_FLAG),
    Flag("--disable-cuda-graph", type=SWITCH, fact=ENFORCE_EAGER, edit=DELETE_FLAG),
    Flag("--enable-torch-compile", type=SWITCH, fact=COMPILED),
    Flag("--dp-size", aliases=("--data-parallel-size", "--dp")),
    *switches(
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
    ),
    *valued(
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
    ),
)

LAUNCHER = Launcher(
    framework="sglang",
    commands=(
        Command(program="sglang", subcommands=("serve",)),
        Command(module=r"sglang\.launch_server|sglang_router\.launch_server", sub="launch_server"),
    ),
    table=TABLE,
    triggers=(b"sglang",),
    images=(Image("sglang"),),  # lmsysorg/sglang has no entrypoint: the command names the module
    key_words=("sglang",),
    head=("python", "-m", "sglang.launch_server"),
    model_flag="--model-path",
    underscores=True,
)
