"""A script run by a command line of the repository (ecolint/invocations.py): the command's
arguments given to the script's command-line parameters.

``python serve.py --int8 --model-id X`` turns the script's ``int8`` option on and sets
``model_id``: a value the code reads through ``args.int8`` (argparse) or through the ``int8``
parameter of its click, typer or python-fire entry point is then the invocation's, located where
the code reads it (the fact's ``how`` is ``invocation``), and it decides branches as a default
does. Each group of invocations that passes the same values on the same GPU makes one more setup
per loading call that the values or the GPU change, labelled with the commands; the script's own
defaults stay a setup of their own (unless every command overrides the options that chose it),
and an invocation whose setup is the defaults' names itself on that one instead (one finding per
verdict at a line).

How each library spells its parameters on the command line:

* argparse: the ``add_argument`` option strings, ``store_true``/``store_false``,
  ``BooleanOptionalAction`` (``--x``/``--no-x``), ``type=int``/``float``;
* click: ``@click.option("--int8/--no-int8")``, ``is_flag=True``, ``type=int``/``float`` (or the
  type of the default), ``@click.argument`` in the order the decorators are written;
* typer: a parameter ``model_id`` is ``--model-id``; a ``bool`` one is ``--x``/``--no-x`` unless
  its ``typer.Option`` names its flags; a parameter without a default, or a ``typer.Argument``,
  is positional; the annotation gives the type;
* python-fire: ``--name=value`` or ``--name value`` (hyphens and underscores alike), ``--name``
  alone is True and ``--noname`` False, values are Python literals (a bare word is a string),
  bare words fill the remaining parameters in order (python-fire's guide, "Calling Functions"
  and "Boolean Arguments").

The environment a command sets (``QUANTIZE=8bit python serve.py``, a compose
``environment:``, ``env A=b``) reaches the script's ``os.getenv("QUANTIZE", …)`` /
``os.environ.get`` / ``os.environ["…"]`` reads (and their ``.lower()``), values known only.

A script with several entry points (a click group, ``fire.Fire()`` over a module) takes the one
the first bare word names; without one, the command line reaches no parameter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from ecolint.extract.python.index import _Binding, _Function
from ecolint.extract.python.platforms import _Platforms
from ecolint.extract.python.syntax import _NO, _args, _final_name, _literal
from ecolint.extract.python.values import _Value
from ecolint.setups import GPU, IMAGE, Setup

INVOKED = "invocation"  # the how of a value a command line passed
_ENV_LOOKUPS = frozenset({"os.environ.get", "os.getenv", "os.environ.setdefault"})
_CASE_METHODS = frozenset({"lower", "upper", "strip", "casefold"})

_FLAG_TRUE, _FLAG_FALSE, _FIRE = "store_true", "store_false", "fire"
_TYPES = {"int": "int", "float": "float", "bool": "bool", "INT": "int", "FLOAT": "float", "BOOL": "bool"}


@dataclass
class CommandLine:
    """How a script's command line maps onto its parameters: option string → (dest, action,
    type name), the dests bare words fill in order, and for python-fire its own rules."""

    options: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    positionals: list[tuple[str, str | None]] = field(default_factory=list)
    commands: dict[str, CommandLine] = field(default_factory=dict)  # subcommand name → its line
    fire: bool = False


class _Invoked(_Platforms):
    """Values an invocation passes, read before the script's defaults."""

    invoked: dict[str, Any] | None = None
    invoked_env: dict[str, str] | None = None  # the environment the command sets, names the script reads

    def _resolve_call(self, call: ast.Call, scope: Any, depth: int) -> _Value | None:
        passed = self._passed_env(call)
        if passed is not None:
            return _Value(passed, None, INVOKED)
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _CASE_METHODS and not call.args and not call.keywords:
            # os.getenv("QUANTIZE", "none").lower(): the value the command passes, so read
            passed = self._passed_env(func.value)
            if passed is not None:
                return _Value(getattr(passed, func.attr)(), None, INVOKED)
        return super()._resolve_call(call, scope, depth)

    def _passed_env(self, expr: ast.expr) -> str | None:
        name = self._env_name(expr)
        if name is None or self.invoked_env is None:
            return None
        return self.invoked_env.get(name)

    def _resolve_subscript(self, expr: ast.Subscript, scope: Any, depth: int) -> _Value | None:
        passed = self._passed_env(expr)
        if passed is not None:
            return _Value(passed, None, INVOKED)
        return super()._resolve_subscript(expr, scope, depth)

    def _env_name(self, expr: ast.expr) -> str | None:
        """The variable ``os.environ.get("X", …)`` / ``os.getenv("X")`` / ``os.environ["X"]`` reads."""
        if isinstance(expr, ast.Call) and self._qualified(expr.func) in _ENV_LOOKUPS and expr.args:
            name = _literal(expr.args[0])
        elif isinstance(expr, ast.Subscript) and self._qualified(expr.value) == "os.environ":
            name = _literal(expr.slice)
        else:
            return None
        return name if isinstance(name, str) else None

    def env_names(self) -> frozenset[str]:
        """The environment variables the script reads by name."""
        names = {self._env_name(site.node) for site in self.index.calls}
        if self.tree is not None and "os.environ[" in self.source.text:
            names |= {self._env_name(node) for node in ast.walk(self.tree) if isinstance(node, ast.Subscript)}
        return frozenset(name for name in names if name is not None)

    def _argparse_default(self, dest: str, depth: int) -> _Value | None:
        if self.invoked is not None and dest in self.invoked:
            return _Value(self.invoked[dest], None, INVOKED)  # node None: written in another file
        return super()._argparse_default(dest, depth)

    def _parameter_default(self, binding: _Binding, fn: _Function, name: str, depth: int) -> _Value | None:
        key = parameter_key(fn, name)
        if self.invoked is not None and key in self.invoked and fn in self._cli_entries():
            return _Value(self.invoked[key], None, INVOKED)
        return super()._parameter_default(binding, fn, name, depth)

    def command_line(self) -> CommandLine:
        """The script's command line: its argparse options, and its click / typer / fire entry
        point's parameters (one entry point, or one per subcommand name)."""
        line = CommandLine(options=self.argparse_options())
        entries = sorted(self._cli_entries(), key=lambda fn: fn.node.lineno)
        if len(entries) == 1 and not self._fires_the_module():
            _merge(line, self._entry_line(entries[0]))
        else:
            for fn in entries:
                if fn.method_of is None and fn.outer is None:
                    sub = self._entry_line(fn)
                    line.commands[fn.name] = line.commands[fn.name.replace("_", "-")] = sub
        return line

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
            optional = "action" in kwargs and _final_name(kwargs["action"]) == "BooleanOptionalAction"
            for flag in flags:
                if not flag.startswith("-"):
                    continue
                if optional:  # --x and --no-x (argparse.BooleanOptionalAction)
                    options[flag] = (dest, _FLAG_TRUE, None)
                    if flag.startswith("--"):
                        options["--no-" + flag[2:]] = (dest, _FLAG_FALSE, None)
                    continue
                options[flag] = (dest, action if isinstance(action, str) else None, type_name)
        return options

    def _entry_line(self, fn: _Function) -> CommandLine:
        """The entry point's command line, its dests keyed by the function (parameter_key)."""
        if self._handed_to_fire(fn):
            line = _fire_line(fn)
        else:
            decorators = [d for d in fn.node.decorator_list if isinstance(d, ast.Call)]
            clicked = [d for d in decorators if _final_name(d.func) in ("option", "argument")]
            line = self._click_line(fn, clicked) if clicked else self._typer_line(fn)
        line.options = {text: (parameter_key(fn, d), a, k) for text, (d, a, k) in line.options.items()}
        line.positionals = [(parameter_key(fn, d), k) for d, k in line.positionals]
        return line

    def _fires_the_module(self) -> bool:
        """fire.Fire() with no component: the first bare word always names a member."""
        return any(
            (self._qualified(site.node.func) or "") == "fire.Fire" and not _args(site.node) for site in self.index.calls
        )

    def _handed_to_fire(self, fn: _Function) -> bool:
        for site in self.index.calls:
            if (self._qualified(site.node.func) or "") != "fire.Fire":
                continue
            args = [a.value for a in _args(site.node)]
            if not args or fn in self._callees(args[0], site.scope):
                return True
        return False

    def _click_line(self, fn: _Function, decorators: list[ast.Call]) -> CommandLine:
        """@click.option / @click.argument, in the order they are written (click's order)."""
        line = CommandLine()
        params = {p.name for p in fn.params()}
        for decorator in decorators:
            texts = [
                t for t in (_literal(a.value) for a in _args(decorator) if a.keyword is None) if isinstance(t, str)
            ]
            kwargs = {a.keyword: a.value for a in _args(decorator) if a.keyword is not None}
            name = _click_name(texts)
            if name is None or name not in params:
                continue
            kind = _click_type(kwargs)
            if _final_name(decorator.func) == "argument":
                line.positionals.append((name, kind))
                continue
            secondary = any("/" in t for t in texts)
            flag = secondary or ("is_flag" in kwargs and _literal(kwargs["is_flag"]) is True)
            if flag and not secondary and "default" in kwargs and _literal(kwargs["default"]) is not False:
                continue  # is_flag with default=True: what the flag then sets differs between click versions
            for text in texts:
                on, _, off = text.partition("/")
                on, off = on.strip(), off.strip()
                if on.startswith("-"):
                    line.options[on] = (name, _FLAG_TRUE if flag else None, kind)
                if off.startswith("-"):
                    line.options[off] = (name, _FLAG_FALSE, None)
        return line

    def _typer_line(self, fn: _Function) -> CommandLine:
        """typer: parameter names as options, bools as --x/--no-x, the rest by annotation."""
        line = CommandLine()
        annotations = {a.arg: a.annotation for a in [*fn.node.args.args, *fn.node.args.kwonlyargs]}
        for param in fn.params():
            annotation, marker = _typer_parts(annotations.get(param.name), param.default)
            kind = _TYPES.get(_final_name(annotation) or "") if annotation is not None else None
            positional = param.default is None if marker is None else _final_name(marker.func) == "Argument"
            if positional:
                line.positionals.append((param.name, kind))
                continue
            names = _typer_names(marker)
            dashed = "--" + param.name.replace("_", "-")
            if kind == "bool":
                for text in names or [f"{dashed}/--no-{dashed[2:]}"]:
                    on, _, off = text.partition("/")
                    if on.strip().startswith("-"):
                        line.options[on.strip()] = (param.name, _FLAG_TRUE, None)
                    if off.strip().startswith("-"):
                        line.options[off.strip()] = (param.name, _FLAG_FALSE, None)
                continue
            for text in names or [dashed]:
                line.options[text] = (param.name, None, kind)
        return line


def parameter_key(fn: _Function, name: str) -> str:
    """An entry point's parameter among the values a command line passes: ``main().int8``,
    apart from argparse's dests and from a same-named parameter of another subcommand."""
    return f"{fn.name}().{name}"


def _merge(line: CommandLine, other: CommandLine) -> None:
    line.options.update(other.options)
    line.positionals.extend(other.positionals)
    line.fire = line.fire or other.fire


def _fire_line(fn: _Function) -> CommandLine:
    line = CommandLine(fire=True)
    params = [p.name for p in fn.params() if p.name not in ("self", "cls")]
    for name in params:
        for spelled in {name, name.replace("_", "-")}:
            line.options["--" + spelled] = (name, _FIRE, None)
            if f"no{name}" not in params:
                line.options["--no" + spelled] = (name, _FLAG_FALSE, None)
    line.positionals = [(name, None) for name in params]
    return line


def _click_name(texts: list[str]) -> str | None:
    """The parameter a click decorator fills: its declared name, else its longest option
    (of "--x/--no-x", the first)."""
    parts = [t.split("/", 1)[0].strip() for t in texts]
    declared = next((p for p in parts if p and not p.startswith("-")), None)
    if declared is not None:
        return declared
    longs = sorted((p for p in parts if p.startswith("-")), key=len, reverse=True)
    return longs[0].lstrip("-").replace("-", "_").lower() if longs else None


def _click_type(kwargs: dict[str, ast.expr]) -> str | None:
    if "type" in kwargs:
        return _TYPES.get(_final_name(kwargs["type"]) or "")
    default = _literal(kwargs["default"]) if "default" in kwargs else _NO
    return {int: "int", float: "float"}.get(type(default))  # click takes the type of its default


def _typer_parts(annotation: ast.expr | None, default: ast.expr | None) -> tuple[ast.expr | None, ast.Call | None]:
    """(the type, the typer.Option / typer.Argument call) of a parameter, through Annotated."""
    marker = default if isinstance(default, ast.Call) and _final_name(default.func) in ("Option", "Argument") else None
    if isinstance(annotation, ast.Subscript) and _final_name(annotation.value) == "Annotated":
        parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        calls = [p for p in parts[1:] if isinstance(p, ast.Call) and _final_name(p.func) in ("Option", "Argument")]
        return parts[0], (calls[0] if calls else marker)
    return annotation, marker


def _typer_names(marker: ast.Call | None) -> list[str]:
    """The flags a typer.Option names: all its strings that start with a dash (in the older
    spelling, the first positional argument is the default, not a name)."""
    if marker is None:
        return []
    texts = [_literal(a.value) for a in _args(marker) if a.keyword is None and not a.star]
    return [t for t in texts if isinstance(t, str) and t.lstrip().startswith("-")]


def passed_values(args: tuple[Any, ...], line: CommandLine) -> dict[str, Any]:
    """dest → value for the parameters an invocation passes that the script declares; values
    the command could not resolve (``$VAR``) are left to the script's default."""
    texts = [tok.text for tok in args]
    if line.commands:
        first = next((i for i, t in enumerate(texts) if not t.startswith("-")), len(texts))
        chosen = line.commands.get(texts[first]) if first < len(texts) else None
        if chosen is None:  # no subcommand named: only the argparse options are known
            return _values(texts, CommandLine(options=line.options))
        sub = CommandLine(options={**line.options, **chosen.options}, positionals=chosen.positionals, fire=chosen.fire)
        return _values(texts[:first] + texts[first + 1 :], sub)
    return _values(texts, line)


def _values(texts: list[str], line: CommandLine) -> dict[str, Any]:
    values: dict[str, Any] = {}
    bare: list[str] = []
    i = 0
    while i < len(texts):
        name, eq, inline = texts[i].partition("=")
        i += 1
        if not name.startswith("-"):
            bare.append(texts[i - 1])
            continue
        option = line.options.get(name)
        if option is None:
            continue
        dest, action, type_name = option
        if action in (_FLAG_TRUE, _FLAG_FALSE):
            values[dest] = action == _FLAG_TRUE
            continue
        if not eq:
            if i >= len(texts) or (texts[i].startswith("-") and action == _FIRE):
                if action == _FIRE:
                    values[dest] = True  # fire: a flag alone is True
                continue
            inline, i = texts[i], i + 1
        if "$" in inline:
            continue
        converted = _fire_literal(inline) if action == _FIRE else _typed(inline, type_name)
        if converted is not None:
            values[dest] = converted
    free = (
        [dest for dest, _ in line.positionals if dest not in values] if line.fire else [d for d, _ in line.positionals]
    )
    kinds = dict(line.positionals)
    for dest, text in zip(free, bare, strict=False):
        if "$" in text:
            continue
        converted = _fire_literal(text) if line.fire else _typed(text, kinds.get(dest))
        if converted is not None:
            values[dest] = converted
    return values


def _fire_literal(text: str) -> Any:
    """python-fire reads a value as a Python literal; a bare word stays a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _typed(text: str, type_name: str | None) -> Any:
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
    except ValueError:
        return None
    if type_name == "bool":
        lowered = text.lower()
        return (
            True if lowered in ("1", "true", "yes", "on") else False if lowered in ("0", "false", "no", "off") else None
        )
    return text


def with_platform(setup: Setup, gpu: Any, image: Any) -> Setup:
    """The GPU the command's platform states and the image it runs in, where the setup names
    neither itself."""
    if gpu is not None and not setup.has(GPU):
        setup.facts[GPU] = gpu
    if image is not None and not setup.has(IMAGE):
        setup.facts[IMAGE] = image
    return setup
