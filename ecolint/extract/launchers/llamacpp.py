"""llama.cpp: ``llama-server``, ``llama-cli``, the llama.cpp ``:server`` images (``llama-quantize``
only converts a file: prepare.py).

common/arg.cpp: {"-m", "--model"} (env LLAMA_ARG_MODEL), {"-hf", "-hfr", "--hf-repo"}
"<user>/<model>[:quant]" (env LLAMA_ARG_HF_REPO; quant defaults to Q4_K_M), {"-hff",
"--hf-file"}, {"-np", "--parallel"} "number of parallel sequences / server slots" (env
LLAMA_ARG_N_PARALLEL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ecolint.extract.launchers.vocab import (
    INT,
    SET_FLAG_VALUE,
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
    basename,
    gguf_precision,
    literal_file,
    switches,
    unresolved,
    valued,
)
from ecolint.setups import BATCH_SIZE, MODEL, PRECISION, QUANT_CONFIG


def _model(b: Builder, launch: Launch, opts: Mapping[str, Opt], positionals: Sequence[Tok]) -> None:
    """``-m FILE.gguf``, or ``-hf user/repo[:quant]`` with ``-hff FILE``: the model and its quant."""
    model = opts.get("--model")
    repo = opts.get("--hf-repo")
    hf_file = opts.get("--hf-file")
    if model is not None and (not unresolved(model.value) or literal_file(model.value)):
        b.fact(MODEL, model.value, model.loc, model.how)
        precision = gguf_precision(basename(model.value or ""))
        if precision:
            b.fact(PRECISION, precision, model.loc, "filename")
            b.fact(QUANT_CONFIG, "gguf", model.loc, "filename")
        return
    if repo is None or unresolved(repo.value):
        return
    b.fact(MODEL, repo.value, repo.loc, repo.how)
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


TABLE: tuple[Flag | Derive, ...] = (
    Flag("--model", aliases=("-m",), fact=MODEL, env="LLAMA_ARG_MODEL", example="models/qwen2-7b.Q4_K_M.gguf"),
    Flag("--hf-repo", aliases=("-hf", "-hfr"), fact=MODEL, env="LLAMA_ARG_HF_REPO", example="Qwen/Qwen2-7B-GGUF:Q8_0"),
    Flag("--hf-file", aliases=("-hff",), fact=MODEL, env="LLAMA_ARG_HF_FILE", example="qwen2-7b.Q8_0.gguf"),
    Flag("--parallel", aliases=("-np",), type=INT, fact=BATCH_SIZE, env="LLAMA_ARG_N_PARALLEL", edit=SET_FLAG_VALUE),
    Flag("--ctx-size", aliases=("-c",)),
    Flag("--n-gpu-layers", aliases=("-ngl", "--gpu-layers")),
    Flag("--batch-size", aliases=("-b",)),
    Flag("--ubatch-size", aliases=("-ub",)),
    Flag("--threads", aliases=("-t",)),
    Flag("--flash-attn", aliases=("-fa",)),
    Flag("--model-url", aliases=("-mu",)),
    Flag("--cont-batching", aliases=("-cb",), type=SWITCH, negatable=True),
    *switches(
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
    ),
    *valued(
        "--port",
        "--host",
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
    ),
)

LAUNCHER = Launcher(
    framework="llama.cpp",
    commands=(Command(program="llama-server"), Command(program="llama-cli")),
    table=TABLE,
    # "llama" alone would match "meta-llama" in most YAML, so llama.cpp is matched by its binaries.
    triggers=(b"llama-server", b"llama-cli", b"llama.cpp"),
    images=(Image("llama.cpp", tag_prefix="server"),),
    entrypoint=("llama-server",),  # the :server images: ENTRYPOINT ["/app/llama-server"]
    key_words=("llama.cpp", "llama-server"),
    head=("llama-server",),
    model_flag="--model",
    model=_model,
)
