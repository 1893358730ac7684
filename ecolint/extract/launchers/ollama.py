"""Ollama: ``ollama run|pull|create|serve``, the ollama/ollama image, and Ollama tags.

ollama cmd/cmd.go: `ollama create MODEL -f FILE -q/--quantize LEVEL`, `ollama run MODEL`,
`ollama pull MODEL`; the server reads OLLAMA_NUM_PARALLEL (max parallel requests per model).
Every subcommand says something different, so each is a named function of this module.
``ollama pull`` only downloads: it is no setup (prepare.py); the tag is read where it is run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ecolint.extract.launchers.vocab import (
    DELETE_FLAG,
    Builder,
    Command,
    Derive,
    EnvVal,
    Flag,
    Image,
    Launch,
    Launcher,
    Tok,
    basename,
    gguf_precision,
    parse,
    parse_int,
    switches,
    unresolved,
)
from ecolint.setups import BATCH_SIZE, MODEL, PRECISION, QUANT_CONFIG, Setup

_PARAM_SIZE = re.compile(r"(?i)(?:^|[^a-z0-9.])\d+(?:\.\d+)?[bm](?:$|[^a-z0-9])")
_NAMESPACE = re.compile(r"^(hf\.co|huggingface\.co)/", re.I)
NUM_PARALLEL = "OLLAMA_NUM_PARALLEL"


def tag_facts(setup: Setup, tag: Tok) -> None:
    """MODEL and precision of an Ollama tag (``qwen2:1.5b-instruct-q4_K_M``, ``hf.co/u/r:Q4_K_M``)."""
    b = Builder(setup)
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
    hub = bool(_NAMESPACE.match(name))
    sized = "/" not in name and bool(_PARAM_SIZE.search(version or ""))
    if (hub or sized) and not unresolved(tag.text):
        # Ollama library tags without a quant suffix are 4-bit (Q4_K_M, earlier Q4_0); so are
        # hf.co GGUF repos ("By default, the Q4_K_M quantization scheme is used", HF hub docs for
        # Ollama). Only tags that name a size (``qwen2:1.5b``) or the hub count: a bare name may
        # be a local model made by ``ollama create``, whose precision its Modelfile decides.
        b.fact(PRECISION, "gguf-q4", tag.loc, "implied")
        b.fact(QUANT_CONFIG, "gguf", tag.loc, "implied")


def _run(b: Builder, launch: Launch, env: Mapping[str, EnvVal]) -> bool:
    _, positionals = parse(launch.args, LAUNCHER)
    if not positionals:
        return False
    tag_facts(b.setup, positionals[0])
    return True


def _create(b: Builder, launch: Launch, env: Mapping[str, EnvVal]) -> bool:
    opts, positionals = parse(launch.args, LAUNCHER)
    quant = opts.get("--quantize")
    if quant is None or unresolved(quant.value):
        return False
    if positionals:
        b.fact(MODEL, positionals[0].text, positionals[0].loc, "flag")
    precision = gguf_precision(quant.value or "")
    b.fact(PRECISION, precision or (quant.value or "").lower(), quant.loc)
    b.fact(QUANT_CONFIG, "gguf", quant.loc)
    return True


def _serve(b: Builder, launch: Launch, env: Mapping[str, EnvVal]) -> bool:
    """The server's own settings only: its env."""
    parallel = env.get(NUM_PARALLEL)
    value = parse_int(parallel.value) if parallel is not None else None
    if value is None:
        return False
    b.fact(BATCH_SIZE, value, parallel.loc if parallel else None, "env")
    return True


TABLE: tuple[Flag | Derive, ...] = (
    Flag("--file", aliases=("-f",)),
    Flag("--quantize", aliases=("-q",), fact=QUANT_CONFIG, edit=DELETE_FLAG),  # read by _create
    Flag("--format"),
    Flag("--keepalive"),
    *switches("--verbose", "--insecure", "--nowordwrap", "--experimental", "--think", "--hidethinking"),
)

LAUNCHER = Launcher(
    framework="ollama",
    commands=(Command(program="ollama", subcommands=("run", "create", "serve")),),
    table=TABLE,
    triggers=(b"ollama",),
    # ollama/ollama: ENTRYPOINT ["/bin/ollama"] CMD ["serve"]
    images=(Image("ollama/ollama"), Image("ollama", how="equals")),
    entrypoint=("ollama",),
    default_cmd=("serve",),
    key_words=("ollama",),
    subcommands={"run": _run, "create": _create, "serve": _serve},
)
