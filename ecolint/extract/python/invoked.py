"""A script run by a command line of the repository (ecolint/invocations.py): the command's
arguments given to the script's argparse parameters.

``python serve.py --int8 --model-id X`` turns the script's ``int8`` option on and sets
``model_id``: a value the code reads through ``args.int8`` is then the invocation's, located
where the code reads it (the fact's ``how`` is ``invocation``). Each group of invocations that
passes the same values on the same GPU makes one more setup per loading call that the values or
the GPU change, labelled with the commands; the script's own defaults stay a setup of their own.

argparse only (``add_argument`` option strings, ``store_true``/``store_false``, ``type=int`` /
``float``); click, typer and python-fire parameters are not read yet.
"""

from __future__ import annotations

import ast
from typing import Any

from ecolint.extract.python.platforms import _Platforms
from ecolint.extract.python.syntax import _args, _literal
from ecolint.extract.python.values import _Value
from ecolint.setups import GPU, Setup

INVOKED = "invocation"  # the how of a value a command line passed


class _Invoked(_Platforms):
    """Values an invocation passes, read before the script's argparse defaults."""

    invoked: dict[str, Any] | None = None

    def _argparse_default(self, dest: str, depth: int) -> _Value | None:
        if self.invoked is not None and dest in self.invoked:
            return _Value(self.invoked[dest], None, INVOKED)  # node None: written in another file
        return super()._argparse_default(dest, depth)

    def argparse_options(self) -> dict[str, tuple[str, str | None, str | None]]:
        """Option string → (dest, action, type name) of the script's add_argument calls."""
        options: dict[str, tuple[str, str | None, str | None]] = {}
        for site in self.index.calls:
            call = site.node
            if site.name != "add_argument" or not isinstance(call.func, ast.Attribute):
                continue
            flags = [f for f in (_literal(a.value) for a in _args(call) if a.keyword is None) if isinstance(f, str)]
            dest = next((d for d, (_, _, c, _) in self.argparse.items() if c is call), None)
            if dest is None:
                continue
            kwargs = {a.keyword: a.value for a in _args(call) if a.keyword is not None}
            action = _literal(kwargs["action"]) if "action" in kwargs else None
            kind = kwargs.get("type")
            type_name = kind.id if isinstance(kind, ast.Name) else None
            for flag in flags:
                if flag.startswith("-"):
                    options[flag] = (dest, action if isinstance(action, str) else None, type_name)
        return options


def passed_values(args: tuple[Any, ...], options: dict[str, tuple[str, str | None, str | None]]) -> dict[str, Any]:
    """dest → value for the options an invocation passes that the script declares; values the
    command could not resolve (``$VAR``) are left to the script's default."""
    values: dict[str, Any] = {}
    texts = [tok.text for tok in args]
    i = 0
    while i < len(texts):
        name, eq, inline = texts[i].partition("=")
        option = options.get(name) if name.startswith("-") else None
        i += 1
        if option is None:
            continue
        dest, action, type_name = option
        if action in ("store_true", "store_false"):
            values[dest] = action == "store_true"
            continue
        if not eq:
            if i >= len(texts):
                break
            inline, i = texts[i], i + 1
        if "$" in inline:
            continue
        converted = _typed(inline, type_name)
        if converted is not None:
            values[dest] = converted
    return values


def _typed(text: str, type_name: str | None) -> Any:
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
    except ValueError:
        return None
    return text


def label_for(names: list[str]) -> str:
    return "invoked by " + ", ".join(sorted(names))


def changed(setup: Setup) -> bool:
    """Whether an invocation's values reach this setup."""
    return any(fact.how == INVOKED for fact in setup.facts.values())


def with_gpu(setup: Setup, gpu: Any) -> Setup:
    if gpu is not None and not setup.has(GPU):
        setup.facts[GPU] = gpu
    return setup
