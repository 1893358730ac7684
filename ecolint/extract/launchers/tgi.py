"""TGI: ``text-generation-launcher``, the text-generation-inference image, and its env vars.

TGI (Rust clap): long flags and their env vars from docs/source/reference/launcher.md, e.g.
"--quantize <QUANTIZE> [env: QUANTIZE=]", "--cuda-graphs ... Use "0" to disable", "-p, --port".
clap does not turn underscores into dashes, so none are accepted here.
"""

from __future__ import annotations

from ecolint.extract.launchers.vocab import (
    DEFAULT_INT8_THRESHOLD,
    DELETE_FLAG,
    DTYPE,
    INT,
    Builder,
    Command,
    Derive,
    Flag,
    Image,
    Launcher,
    Opt,
    dtype_facts,
    kv_cache_facts,
    method_precision,
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


def _quantize(b: Builder, row: Flag, opt: Opt) -> None:
    method = (opt.value or "").strip().lower()
    b.fact(QUANT_CONFIG, method, opt.loc, opt.how)
    if method == "bitsandbytes":
        # TGI launcher docs: "bitsandbytes: Bitsandbytes 8bit" (LLM.int8); the launcher has no
        # flag for the outlier threshold, so bitsandbytes' default 6.0 applies.
        b.fact(PRECISION, "int8", opt.loc, opt.how)
        b.fact(LLM_INT8_THRESHOLD, DEFAULT_INT8_THRESHOLD, opt.loc, "implied")
        b.fact(THRESHOLD_EXPOSED, False, opt.loc, "implied")
        return
    precision = {"bitsandbytes-nf4": "nf4", "bitsandbytes-fp4": "fp4", "marlin": "gptq"}.get(method)
    b.fact(PRECISION, precision or method_precision(method), opt.loc, opt.how)


def _cuda_graphs(b: Builder, row: Flag, opt: Opt) -> None:
    """``--cuda-graphs 0`` disables CUDA graphs (eager); a list of batch sizes keeps them."""
    sizes = [s.strip() for s in (opt.value or "").split(",") if s.strip()]
    b.fact(ENFORCE_EAGER, sizes == ["0"], opt.loc, opt.how)


TABLE: tuple[Flag | Derive, ...] = (
    Flag("--model-id", fact=MODEL, env="MODEL_ID", example="Qwen/Qwen2-7B-Instruct"),
    Flag("--quantize", fact=QUANT_CONFIG, maps=_quantize, env="QUANTIZE", edit=DELETE_FLAG, example="bitsandbytes"),
    Flag("--dtype", type=DTYPE, maps=dtype_facts, env="DTYPE"),
    Flag("--kv-cache-dtype", fact=KV_CACHE_DTYPE, maps=kv_cache_facts, env="KV_CACHE_DTYPE", example="fp8"),
    Flag("--num-shard", type=INT, fact=TENSOR_PARALLEL, env="NUM_SHARD"),
    Flag("--max-batch-size", type=INT, fact=BATCH_SIZE, env="MAX_BATCH_SIZE", edit=DELETE_FLAG),
    # Not a batch-size limit: TGI replaces it at warm-up for flash-attention models.
    Flag("--max-batch-total-tokens", type=INT, fact="max_batch_total_tokens", env="MAX_BATCH_TOTAL_TOKENS"),
    Flag("--max-total-tokens", type=INT, fact="max_total_tokens", env="MAX_TOTAL_TOKENS"),
    Flag("--cuda-graphs", maps=_cuda_graphs, fact=ENFORCE_EAGER, env="CUDA_GRAPHS", edit=DELETE_FLAG, example="0"),
    Flag("--port", aliases=("-p",)),
    *switches("--trust-remote-code", "--disable-custom-kernels", "--json-output", "--disable-grammar-support"),
    *valued(
        "--revision",
        "--sharded",
        "--max-input-tokens",
        "--max-input-length",
        "--max-batch-prefill-tokens",
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
    ),
)

LAUNCHER = Launcher(
    framework="tgi",
    commands=(Command(program="text-generation-launcher", sub="launcher"),),
    table=TABLE,
    triggers=(b"text-generation",),
    images=(Image("text-generation-inference", how="contains"),),
    entrypoint=("text-generation-launcher",),  # ENTRYPOINT ["text-generation-launcher"]
    key_words=("text-generation",),
    head=("text-generation-launcher",),
    model_flag="--model-id",
)
