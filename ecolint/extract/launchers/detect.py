"""Detection and dispatch: which launcher an argv starts (after wrappers such as ``nohup``,
``env A=B``, ``uv run``), what a container image runs, and the one entry point every reader
calls: ``interpret(argv, env)`` -> Setups.

Readers the launchers need are passed in, never imported: the ``sh -c`` script runner (the
shell reader) and the reader of files a launcher names (vLLM's ``--config``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from ecolint.extract.launchers.prepare import prepares
from ecolint.extract.launchers.registry import BY_FRAMEWORK, LAUNCHERS
from ecolint.extract.launchers.vocab import (
    Builder,
    EnvVal,
    Launch,
    Launcher,
    Tok,
    basename,
    first_loc,
    interpret_launch,
    skip_options,
    span,
)
from ecolint.setups import IMAGE, INVOCATION, INVOKED_SCRIPT, SCRIPT_ARGS, SCRIPT_ENV, Location, Setup

_MAX_DEPTH = 3
# Options with which every launcher prints and exits (argparse's -h/--help in vLLM and SGLang,
# clap's in TGI, llama.cpp common/arg.cpp "-h, --help, --usage" and "--version", ollama's cobra).
_QUERIES = frozenset({"--help", "-h", "--version", "--usage"})

# The text of a file a launcher reads (vLLM's --config), from its path as the command wrote it;
# None when the caller cannot know it (a path inside a container image, say).
FileReader = Callable[[str], "str | None"]


class ScriptRunner(Protocol):
    """Setups of the script of ``sh -c SCRIPT`` (the shell reader's setups_from_script)."""

    def __call__(
        self, script: Tok, env: Mapping[str, EnvVal], *, path: str, kind: str, label: str | None, depth: int
    ) -> list[Setup]: ...


# --------------------------------------------------------------------------------------------
# Wrappers and detection
# --------------------------------------------------------------------------------------------

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")
_SIMPLE_WRAPPERS = {"exec", "nohup", "time", "command", "builtin", "caffeinate"}
_MODULES = [
    (re.compile(command.module, re.DOTALL), command, launcher)
    for launcher in LAUNCHERS
    for command in launcher.commands
    if command.module is not None
]
_PROGRAMS = {
    command.program: (command, launcher) for launcher in LAUNCHERS for command in launcher.commands if command.program
}


def strip_wrappers(args: Sequence[Tok], env: dict[str, EnvVal]) -> int:
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
            i = skip_options(args, i + 1, ("-u", "-g", "-C", "-D", "-h", "-p", "-U"))
        elif word == "env":
            i = skip_options(args, i + 1, ("-u", "-C", "-S"))
            while i < len(args) and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", args[i].text):
                key, _, value = args[i].text.partition("=")
                env[key] = EnvVal(value, args[i].loc)
                i += 1
        elif word in ("nice", "ionice", "stdbuf", "numactl", "chrt"):
            i = skip_options(args, i + 1, ("-n", "-c", "-p", "-i", "-o", "-e", "-N", "-m", "-C"))
        elif word == "taskset":
            i = skip_options(args, i + 1, ())
            i += 1  # the cpu mask / list
        elif word == "timeout":
            i = skip_options(args, i + 1, ("-s", "-k", "--signal", "--kill-after")) + 1
        elif word in ("uv", "poetry", "pipenv", "pdm", "rye", "hatch", "pixi") and nxt == "run":
            i = skip_options(
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
            i = skip_options(args, i + 2, ("-n", "--name", "-p", "--prefix"))
        elif word == "uvx":
            i = skip_options(args, i + 1, ("--with", "--python", "--from"))
        else:
            return i
    return i


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


def detect(args: Sequence[Tok], env: dict[str, EnvVal]) -> Launch | None:
    """The launcher an argv starts, from the launchers' declared commands."""
    i = strip_wrappers(args, env)
    if i >= len(args) or prepares(args, i):
        return None  # a download or a conversion serves nothing (prepare.py)
    word = basename(args[i].text)
    nxt = args[i + 1].text if i + 1 < len(args) else ""
    found = _PROGRAMS.get(word)
    if found is not None:
        command, launcher = found
        if not command.subcommands:
            return Launch(launcher.framework, command.sub or word, [args[i]], list(args[i + 1 :]))
        if nxt in command.subcommands:
            return Launch(launcher.framework, nxt, list(args[i : i + 2]), list(args[i + 2 :]))
        return None
    if not _PYTHON.match(word):
        return None
    module_at = _python_module(args, i)
    if module_at is None:
        return None
    module, j = module_at
    head = list(args[i:j])
    for pattern, command, launcher in _MODULES:
        if not pattern.fullmatch(module):
            continue
        if not command.subcommands:
            return Launch(launcher.framework, command.sub, head, list(args[j:]))
        if j < len(args) and args[j].text in command.subcommands:
            return Launch(launcher.framework, args[j].text, head + [args[j]], list(args[j + 1 :]))
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
    # A name containing one launcher's word may end with another's: the containing rule first.
    for contains in (True, False):
        for launcher in LAUNCHERS:
            if any((rule.how == "contains") == contains and rule.matches(repo, tag) for rule in launcher.images):
                return launcher.framework
    return None


def _names_a_program(cmd: Sequence[Tok]) -> bool:
    """Whether a container command starts with a launcher, a shell or a download / conversion
    program (an init container on a vLLM image that runs ``hf download``), not with arguments."""
    first = basename(cmd[0].text)
    return first in SHELLS or prepares(cmd, strip_wrappers(cmd, {})) or detect(cmd, {}) is not None


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
    launcher = BY_FRAMEWORK.get(framework or "")
    loc = image.loc if image is not None else None
    if entrypoint is None:
        if cmd and _names_a_program(cmd):
            # `command: vllm serve m` on the vLLM image: Docker would run "vllm serve vllm serve m";
            # read what the author meant rather than parse "vllm" as the model.
            return list(cmd)
        entry = [Tok(word, loc) for word in (launcher.entrypoint if launcher else ())]
        if cmd is None:
            cmd = [Tok(word, loc) for word in (launcher.default_cmd if launcher else ())]
    else:
        entry = list(entrypoint)
        cmd = cmd or []
    return entry + list(cmd)


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def interpret(
    argv: Sequence[Tok],
    env: Mapping[str, EnvVal] | None = None,
    *,
    path: str,
    kind: str,
    origin: Location | None = None,
    label: str | None = None,
    read_file: FileReader | None = None,
    run_script: ScriptRunner | None = None,
    _depth: int = 0,
) -> list[Setup]:
    """Setups launched by one argv (``sh -c`` scripts may hold several; usually 0 or 1).

    ``run_script`` reads the script of ``sh -c`` (not followed without one); ``read_file`` the
    files a launcher names (its config file)."""
    args = list(argv)
    inner = _shell_c(args)
    if inner is not None:
        if run_script is None or _depth >= _MAX_DEPTH:
            return []
        return run_script(inner, dict(env or {}), path=path, kind=kind, label=label, depth=_depth + 1)
    wrapper_env: dict[str, EnvVal] = {}  # `env A=b …`: set after the caller's environment
    launch = detect(args, wrapper_env)
    if launch is None:
        # the usual case, and it never needs the environment
        return _invocation(args, env or {}, kind, label) if _COLLECT_INVOCATIONS else []
    if any(tok.text in _QUERIES for tok in launch.args):
        return []  # `llama-server --version`: the program prints and exits, nothing is served
    launcher = BY_FRAMEWORK[launch.framework]
    env_map = {**(env or {}), **wrapper_env}
    if read_file is not None:
        launch.args = _with_config_file(launcher, launch.args, read_file)
    # The origin is the launcher itself (`vllm serve`, `python -m sglang.launch_server`), the
    # anchor for findings about something the command leaves out.
    start = first_loc(*(t.loc for t in launch.head), origin) or Location(path, 1)
    setup = Setup(framework=launch.framework, origin=span(start, launch.head[-1].loc) or start, label=label, kind=kind)
    if not interpret_launch(launcher, Builder(setup), launch, env_map):
        return []
    return [setup]


# On while the project pass collects which files run which Python scripts (ecolint/invocations.py;
# one file at a time in its process): interpret() then also returns a Setup of framework INVOCATION for
# `python serve.py …`, which the container readers stamp with their GPU like any other.
_COLLECT_INVOCATIONS = False
_LAUNCH_TOOLS = frozenset({"torchrun", "accelerate", "deepspeed"})  # `accelerate launch [opts] x.py`
# The same launchers run as modules: `python -m torch.distributed.launch [opts] x.py` (torchrun's
# predecessor, still in many eval scripts) and `python -m torch.distributed.run` (torchrun itself).
_LAUNCH_MODULES = frozenset({"torch.distributed.launch", "torch.distributed.run", "accelerate.commands.launch"})
_PYTHON_OPTIONS_WITH_VALUE = frozenset({"-W", "-X", "-c"})
# ASGI/WSGI servers given the app as `module:attribute` (uvicorn's CLI: `uvicorn [OPTIONS] APP`,
# `--app-dir` "Look for APP in the specified directory"; gunicorn's `--chdir` changes directory
# before loading the app). The server's own options are no argv of the app.
_APP_SERVERS = {"uvicorn": "--app-dir", "gunicorn": "--chdir"}
_APP_SPEC = re.compile(r"^([A-Za-z_][\w.]*):[A-Za-z_]\w*(?:\(.*\))?$")


def is_collecting_invocations() -> bool:
    """Whether the invocation pass is running (readers may look further for the scripts run)."""
    return _COLLECT_INVOCATIONS


@contextlib.contextmanager
def collecting_invocations() -> Iterator[None]:
    global _COLLECT_INVOCATIONS
    _COLLECT_INVOCATIONS = True
    try:
        yield
    finally:
        _COLLECT_INVOCATIONS = False


def _invocation(args: Sequence[Tok], env: Mapping[str, EnvVal], kind: str, label: str | None) -> list[Setup]:
    """``python [opts] serve.py ARGS`` / ``python -m pkg.serve ARGS`` / ``torchrun [opts] x.py
    ARGS``: the script as written, the arguments it gets and the environment it runs in."""
    wrapper: dict[str, EnvVal] = {}  # `env A=b python …`
    i = strip_wrappers(args, wrapper)
    known = {name: val.value for name, val in {**env, **wrapper}.items() if "$" not in val.value}
    environment = tuple(sorted(known.items()))
    if i >= len(args):
        return []
    program = basename(args[i].text)
    j = i + 1
    if _PYTHON.match(program):
        while j < len(args) and args[j].text.startswith("-") and args[j].text != "-m":
            if args[j].text == "-c":
                return []
            j += 2 if args[j].text in _PYTHON_OPTIONS_WITH_VALUE else 1
        if j + 1 < len(args) and args[j].text == "-m" and args[j + 1].text in _APP_SERVERS:
            return _app_server(args, i, args[j + 1].text, j + 2, kind, label, environment)
        if j + 1 < len(args) and args[j].text == "-m" and args[j + 1].text in _LAUNCH_MODULES:
            return _launched(args, i, j + 2, kind, label, environment)
        if j + 1 < len(args) and args[j].text == "-m":
            script, rest = "-m " + args[j + 1].text, args[j + 2 :]
        elif j < len(args) and args[j].text.endswith(".py"):
            script, rest = args[j].text, args[j + 1 :]
        else:
            return []
        at = args[j]
    elif program in _APP_SERVERS:
        return _app_server(args, i, program, j, kind, label, environment)
    elif program in _LAUNCH_TOOLS:
        return _launched(args, i, j, kind, label, environment)
    else:
        return []
    return _invoked(args[i], script, rest, at, kind, label, environment)


def _launched(
    args: Sequence[Tok], i: int, j: int, kind: str, label: str | None, environment: tuple[tuple[str, str], ...]
) -> list[Setup]:
    """A launcher's own options, then the script it runs and that script's arguments."""
    found = next((k for k in range(j, len(args)) if args[k].text.endswith(".py")), None)
    if found is None:
        return []
    return _invoked(args[i], args[found].text, args[found + 1 :], args[found], kind, label, environment)


def _invoked(
    head: Tok,
    script: str,
    rest: Sequence[Tok],
    at: Tok,
    kind: str,
    label: str | None,
    environment: tuple[tuple[str, str], ...],
) -> list[Setup]:
    if "$" in script or head.loc is None:
        return []
    setup = Setup(INVOCATION, origin=head.loc, kind=kind, label=label)
    setup.set(INVOKED_SCRIPT, script, at.loc, "written")
    setup.set(SCRIPT_ARGS, tuple(rest), at.loc, "written")
    setup.set(SCRIPT_ENV, environment, head.loc, "written")
    return [setup]


def _app_server(
    args: Sequence[Tok],
    i: int,
    server: str,
    j: int,
    kind: str,
    label: str | None,
    environment: tuple[tuple[str, str], ...],
) -> list[Setup]:
    """``uvicorn [opts] pkg.app:app`` / ``gunicorn -k … pkg.app:app``: the module's file (under
    the server's app directory option), with no arguments of its own."""
    rest = args[j:]
    apps = [tok for tok in rest if _APP_SPEC.match(tok.text)]
    if len(apps) != 1:
        return []  # none, or two `a:b` words: which one is the app is not sure
    module = _APP_SPEC.match(apps[0].text)
    assert module is not None
    script = module.group(1).replace(".", "/") + ".py"
    option = _APP_SERVERS[server]
    for k, tok in enumerate(rest):
        name, eq, value = tok.text.partition("=")
        if name == option:
            folder = value if eq else (rest[k + 1].text if k + 1 < len(rest) else "")
            script = f"{folder.rstrip('/')}/{script}" if folder not in ("", ".") else script
    return _invoked(args[i], script, (), apps[0], kind, label, environment)


def _with_config_file(launcher: Launcher, args: list[Tok], read_file: FileReader) -> list[Tok]:
    """A launcher's config file (vLLM's ``--config FILE``): the file's keys as the flags the
    launcher makes of them, where vLLM puts them: after a positional model, before the command
    line's own flags, which therefore win (command line > config file > defaults). They are
    located at the file's name in the command, as variables read from a sourced file are at the
    ``source`` word."""
    if launcher.config_flag is None or launcher.config_flags is None:
        return args
    at = [i for i, tok in enumerate(args) if tok.text == launcher.config_flag]
    if len(at) != 1 or at[0] + 1 >= len(args):
        return args  # vLLM refuses two config files, or a --config without one
    i = at[0]
    named = args[i + 1]
    text = read_file(named.text)
    if text is None:
        return args
    flags = [Tok(word, named.loc) for word in launcher.config_flags(text)]
    rest = args[:i] + args[i + 2 :]
    if args[0].text.startswith("-"):
        return [*flags, *rest]
    return [rest[0], *flags, *rest[1:]]


def _shell_c(args: Sequence[Tok]) -> Tok | None:
    """The script of ``sh -c "…"`` / ``/bin/bash -lc '…'``, if that is what argv runs."""
    env: dict[str, EnvVal] = {}
    i = strip_wrappers(args, env)
    if i >= len(args) or basename(args[i].text) not in SHELLS:
        return None
    j = i + 1
    while j < len(args) and args[j].text.startswith("-"):
        flags = args[j].text
        if not flags.startswith("--") and "c" in flags:
            return args[j + 1] if j + 1 < len(args) else None
        j += 1
    return None


def container_setups(
    image: Tok | None,
    entrypoint: Sequence[Tok] | None,
    cmd: Sequence[Tok] | None,
    env: Mapping[str, EnvVal] | None = None,
    *,
    path: str,
    kind: str,
    label: str | None = None,
    run_script: ScriptRunner | None = None,
    read_file: FileReader | None = None,
) -> list[Setup]:
    """Setups of one container: image defaults, entrypoint / command overrides, env."""
    argv = container_argv(image, entrypoint, cmd)
    origin = image.loc if image is not None else None
    setups = interpret(
        argv, env, path=path, kind=kind, origin=origin, label=label, run_script=run_script, read_file=read_file
    )
    if image is not None:
        # Which hardware the image is built for (a ROCm or XPU build) is resolve.py's to say.
        for setup in setups:
            if not setup.has(IMAGE):
                setup.set(IMAGE, image.text, image.loc)
    return setups


def known_flag(framework: str, flag: str) -> bool:
    """Whether ``flag`` (any spelling) is one this parser knows for the launcher."""
    launcher = BY_FRAMEWORK.get(framework)
    return launcher is not None and launcher.knows(flag)
