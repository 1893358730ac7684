"""Every launcher, and the tables derived from their declarations: the prefilter's trigger
tokens, the words that name a launcher in YAML keys, the command lines YAML readers write."""

from __future__ import annotations

import re

from ecolint.extract.launchers import llamacpp, ollama, sglang, tgi, vllm
from ecolint.extract.launchers.vocab import Launcher

# In this order where two declarations could both match (a YAML key naming two launchers).
LAUNCHERS: tuple[Launcher, ...] = (vllm.LAUNCHER, tgi.LAUNCHER, sglang.LAUNCHER, llamacpp.LAUNCHER, ollama.LAUNCHER)
BY_FRAMEWORK: dict[str, Launcher] = {launcher.framework: launcher for launcher in LAUNCHERS}
FRAMEWORKS: tuple[str, ...] = tuple(BY_FRAMEWORK)

# Byte tokens of which a file that starts a launcher holds one (the prefilter's first look).
TRIGGERS: tuple[bytes, ...] = tuple(token for launcher in LAUNCHERS for token in launcher.triggers)

# A launcher as a Python argv list names it: a program alone (`"vllm"`), or a module of one
# (`"vllm.entrypoints.openai.api_server"`, `"sglang.launch_server"`) after `python -m`.
PROGRAMS: tuple[str, ...] = tuple(c.program for launcher in LAUNCHERS for c in launcher.commands if c.program)
# The words one of which must follow a program's name (`vllm serve`, `ollama run`), whether it
# runs as a program or as a module (`python -m vllm serve`); none: it runs bare (`llama-server`).
_NAMING = {
    name: [c for launcher in LAUNCHERS for c in launcher.commands if name in (c.program, c.module)] for name in PROGRAMS
}
SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    name: tuple(dict.fromkeys(word for c in commands for word in c.subcommands))
    for name, commands in _NAMING.items()
    if all(c.subcommands for c in commands)
}
MODULE_ROOTS: tuple[str, ...] = tuple(
    dict.fromkeys(
        alternative.split("\\.")[0] + "."
        for launcher in LAUNCHERS
        for c in launcher.commands
        if c.module
        for alternative in c.module.split("|")
        if "\\." in alternative
    )
)

# The literal start of each launcher module (`sglang.launch_server`, `vllm.entrypoints`): an argv
# element that names a module the patterns above accept starts with one of these. The prefilter
# looks for them rather than for any `"sglang.` string (a package's own files name their modules
# everywhere: sglang's own source passed the prefilter file after file).
MODULE_PREFIXES: tuple[str, ...] = tuple(
    dict.fromkeys(
        re.match(r"(?:[\w-]|\\\.)+", alternative).group(0).replace("\\.", ".")  # type: ignore[union-attr]
        for launcher in LAUNCHERS
        for c in launcher.commands
        if c.module
        for alternative in c.module.split("|")
        if "\\." in alternative
    )
)

# Word in a YAML key path -> the launcher it names (Helm values: ``vllm:``, ``llama-server:``).
KEY_WORDS: dict[str, str] = {word: launcher.framework for launcher in LAUNCHERS for word in launcher.key_words}

# The command line a YAML reader writes for a launcher it knows only by name.
HEADS: dict[str, tuple[str, ...]] = {launcher.framework: launcher.head for launcher in LAUNCHERS if launcher.head}

# The flag that names the model, per launcher.
MODEL_FLAGS: dict[str, str] = {launcher.framework: launcher.model_flag for launcher in LAUNCHERS if launcher.model_flag}


def launcher(framework: str) -> Launcher | None:
    return BY_FRAMEWORK.get(framework)


def flag_edit(framework: str, fact: str, *, python: bool = False) -> str | None:
    """The edit that undoes the flag (or, ``python``, the mirroring keyword) that set ``fact``
    for a launcher: ``delete-flag``, ``set-flag-value``, ``delete-keyword``, or None when no row
    that sets the fact names one. For the fix layer, which picks edits from intent."""
    found = BY_FRAMEWORK.get(framework)
    for row in found.flags() if found is not None else ():
        edit = row.python_edit if python else row.edit
        if edit is not None and row.fact == fact:
            return edit
    return None
