"""Commands that only fetch or convert a model: not a serving setup, so no finding rests on them.

A serving setup is where the energy is spent. Downloading weights (``ollama pull``,
``huggingface-cli download``, ``hf download``) or converting them (llama.cpp's
``convert_hf_to_gguf.py`` and ``llama-quantize``) spends none of it: the setup is whatever later
serves the file, and it is read there (``ollama run TAG``, ``llama-server -m out.Q4_K_M.gguf``).

Facts relied on:
- huggingface_hub CLI guide: the CLI is ``hf`` (``hf download`` "Download files from the Hub");
  before huggingface_hub 1.0 it was ``huggingface-cli`` with the same ``download`` subcommand.
- ollama cmd/cmd.go: ``ollama pull MODEL`` "Pull a model from a registry".
- llama.cpp: ``convert_hf_to_gguf.py`` (``convert-hf-to-gguf.py`` before the rename) writes a
  GGUF file from a Hugging Face checkpoint; ``llama-quantize`` (``quantize`` before the ``llama-``
  prefix) writes a quantized GGUF file.

Each entry is a program and the subcommand (if any) that makes it a preparation step. A
container whose command is one of these runs that program, not its image's launcher.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ecolint.extract.launchers.vocab import Tok, basename

# program -> the subcommands that only prepare ("" : the program itself does)
PREPARE: dict[str, tuple[str, ...]] = {
    "hf": ("download",),
    "huggingface-cli": ("download",),
    "ollama": ("pull",),
    "llama-quantize": ("",),
    "convert_hf_to_gguf.py": ("",),
    "convert-hf-to-gguf.py": ("",),
}
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")


def prepares(args: Sequence[Tok], i: int = 0) -> bool:
    """Whether ``args[i:]`` (wrappers already stripped) only downloads or converts a model:
    ``hf download …``, ``python convert_hf_to_gguf.py …``, ``ollama pull …``."""
    if i >= len(args):
        return False
    word = basename(args[i].text)
    if _PYTHON.match(word) and i + 1 < len(args):
        i, word = i + 1, basename(args[i + 1].text)  # `python3 convert_hf_to_gguf.py model/`
    subs = PREPARE.get(word)
    if subs is None:
        return False
    nxt = args[i + 1].text if i + 1 < len(args) else ""
    return "" in subs or nxt in subs
