"""The shared vocabulary of every launcher: tokens, environment values, locations, the precision
words, value parsers, the fact builder, the flag-row and launcher declarations, and the one
generic interpreter that applies a launcher's table to argv + env (or to the keywords of a
Python call that mirrors it).

The bottom layer of ``ecolint.extract.launchers``: it imports nothing of the package.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ecolint.setups import (
    COMPUTE_DTYPE,
    KV_CACHE_DTYPE,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    Location,
    Setup,
)

# Maps an offset inside a token's text to a (line, column) in the file, when the container
# knows it (a quoted shell word, a YAML scalar). Used to locate words of an ``sh -c`` script.
Locator = Callable[[int], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Tok:
    """One argv word as the launcher will see it, and where it was written."""

    text: str
    loc: Location | None = None
    locate: Locator | None = None


@dataclass(frozen=True)
class EnvVal:
    """An environment variable of the launcher; ``loc`` points at its key (``QUANTIZE=…``)."""

    value: str
    loc: Location | None = None


# --------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------


def span(a: Location | None, b: Location | None) -> Location | None:
    """From the start of ``a`` to the end of ``b`` when both are on one line, else ``a``."""
    if a is None:
        return b
    if b is None or b.path != a.path or b.line != a.line or b.end_line != a.line:
        return a
    return Location(a.path, a.line, a.column, a.line, max(a.end_column, b.end_column))


def first_loc(*locs: Location | None) -> Location | None:
    for loc in locs:
        if loc is not None:
            return loc
    return None


def text_locator(text: str, line_base: int = 0, col_base: int = 0) -> Callable[[int], tuple[int, int]]:
    """offset -> (line, column), 1-based, for a text that starts at (line_base+1, col_base+1)."""
    starts = [0]
    at = text.find("\n")
    while at >= 0:  # str.find, not a loop over every character: install scripts run to megabytes
        starts.append(at + 1)
        at = text.find("\n", at + 1)

    def locate(offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(text)))
        line = bisect_right(starts, offset) - 1
        col = offset - starts[line] + 1
        if line == 0:
            col += col_base
        return line + line_base + 1, col

    return locate


def basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def skip_options(args: Sequence[Tok], i: int, valued: Iterable[str] = ()) -> int:
    """Index of the first word from ``i`` that is not an option (``valued`` options take one)."""
    names = set(valued)
    while i < len(args) and args[i].text.startswith("-"):
        name = args[i].text.split("=", 1)[0]
        i += 2 if (name in names and "=" not in args[i].text) else 1
    return i


# --------------------------------------------------------------------------------------------
# Precision vocabulary
# --------------------------------------------------------------------------------------------

# bitsandbytes' LLM.int8() outlier threshold where none is written (BitsAndBytesConfig's default);
# every extractor that implies it reads it here. ECO101's YAML holds the rule's own copy.
DEFAULT_INT8_THRESHOLD = 6.0

_GGUF_Q = re.compile(r"(?i)(?:^|[^a-z0-9])i?q([1-8])(?:_[a-z0-9]+)*(?=$|[^a-z0-9])")
_GGUF_F = re.compile(r"(?i)(?:^|[^a-z0-9])(bf16|f16|fp16|f32|fp32)(?=$|[^a-z0-9])")
EIGHT_BIT_CKPT = re.compile(r"(?i)(8bit|8-bit|int8|bnb-8)")


def gguf_precision(name: str) -> str | None:
    """``gguf-q4`` for any Q4_* / IQ4_* / q4_K_M quant named in a file name or tag, etc."""
    match = _GGUF_Q.search(name)
    if match:
        return f"gguf-q{match.group(1)}"
    match = _GGUF_F.search(name)
    if match:
        word = match.group(1).lower()
        return {"bf16": "gguf-bf16", "f32": "gguf-f32", "fp32": "gguf-f32"}.get(word, "gguf-f16")
    return None


# A dtype as flags, keywords and torch write it -> our precision vocabulary (one table for the
# launchers and the Python extractor).
DTYPE_PRECISIONS = {
    "float16": "fp16",
    "half": "fp16",
    "fp16": "fp16",
    "bfloat16": "bf16",
    "bf16": "bf16",
    "float32": "fp32",
    "float": "fp32",
    "fp32": "fp32",
}


def dtype_precision(dtype: str) -> str | None:
    return DTYPE_PRECISIONS.get(dtype.strip().lower())


def method_precision(method: str) -> str:
    """A vLLM / SGLang ``--quantization`` method -> our precision vocabulary (raw if unknown)."""
    m = method.strip().lower()
    if m.startswith("awq"):
        return "awq"
    if "gptq" in m or m == "marlin":
        return "gptq"
    if "fp8" in m:
        return "fp8"
    return m


@dataclass(frozen=True)
class CheckpointFormat:
    """What a checkpoint's name says it holds (a row of rules/checkpoints.yaml)."""

    precision: str
    method: str
    base_checkpoint: bool  # the way back to FP16/BF16 is the checkpoint it was made from


@functools.lru_cache(maxsize=1)
def _checkpoint_table() -> tuple[tuple[re.Pattern[str], CheckpointFormat], ...]:
    from ecolint.knowledge import data_table  # data, not code: the table lives beside the rules

    return tuple(
        (
            re.compile(str(row["match"]), re.IGNORECASE),
            CheckpointFormat(str(row["precision"]), str(row["method"]), bool(row.get("base_checkpoint", False))),
        )
        for row in data_table("checkpoints.yaml", "checkpoints")
    )


def checkpoint_format(model: str) -> CheckpointFormat | None:
    """The format a pre-quantized checkpoint's id or file name announces (rules/checkpoints.yaml);
    a GGUF name's quant (Q4_K_M -> gguf-q4) where it says one."""
    for pattern, found in _checkpoint_table():
        if pattern.search(model):
            if found.precision == "gguf":
                return dataclasses.replace(found, precision=gguf_precision(model) or "gguf")
            return found
    return None


# --------------------------------------------------------------------------------------------
# Value parsers
# --------------------------------------------------------------------------------------------


def parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_bool(value: str | None) -> bool | None:
    """A bare boolean flag is True; ``=true/false/1/0/yes/no`` as written; else unknown."""
    if value is None:
        return True
    word = value.strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off"):
        return False
    return None


def unresolved(value: str | None) -> bool:
    """A value the container could not resolve (``$VAR``, ``$(…)``) says nothing."""
    return value is None or "$" in value or value.strip() == ""


def literal_file(value: str | None) -> bool:
    """A path whose directory is unresolved but whose file name is written out
    (``${MODELS}/phi-3-mini-4k-instruct-q4.gguf``): the name still says the model and its quant."""
    if value is None or "/" not in value:
        return False
    name = basename(value)
    return bool(name) and "$" not in name and "`" not in name and ")" not in name


# --------------------------------------------------------------------------------------------
# One setting as the launcher receives it, and the fact builder
# --------------------------------------------------------------------------------------------


@dataclass
class Opt:
    """One setting of a launcher: a flag and its value, an env var, or a Python keyword.

    ``loc``/``how`` say where the value is written and how it was read (``flag``, ``env``, or
    the Python extractor's ``literal``/``constant``/…); ``site`` is the whole setting (flag and
    value, ``keyword=value``), where facts the launcher derives from it are located, recorded as
    ``derived`` (the flag's own ``how`` on a command line; ``implied`` for a Python keyword).
    ``negated``: written as ``--no-<flag>``."""

    flag: Tok
    value: str | None
    loc: Location | None
    how: str = "flag"
    negated: bool = False
    site: Location | None = None
    derived: str = ""

    def __post_init__(self) -> None:
        if self.site is None:
            self.site = self.loc
        if not self.derived:
            self.derived = self.how


class Builder:
    """Sets facts on one Setup; ``model`` is the model id the setup names (or None)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    def fact(self, name: str, value: object, loc: Location | None, how: str = "flag") -> None:
        self.setup.set(name, value, loc, how)

    @property
    def model(self) -> str | None:
        value = self.setup.get(MODEL)
        return value if isinstance(value, str) else None


# --------------------------------------------------------------------------------------------
# Declarations: flag rows and launchers
# --------------------------------------------------------------------------------------------

# Value types of a flag.
SWITCH = "switch"  # no value: present means true; ``--flag=false`` as written
INT = "int"
TEXT = "text"
DTYPE = "dtype"  # a torch dtype name (float16, half, bfloat16, …)

# The edit that undoes a flag's setting (what ``--fix`` applies; ecolint/fix.py knows how).
DELETE_FLAG = "delete-flag"  # remove the flag (and its value, if it takes one)
SET_FLAG_VALUE = "set-flag-value"  # keep the flag, write another value
DELETE_KEYWORD = "delete-keyword"  # remove the mirroring keyword of a Python call

# How a row turns an Opt into facts.
Mapper = Callable[[Builder, "Flag", Opt], None]
# A step of a launcher that is not one flag (it reads several, or the model): runs in table order.
Step = Callable[[Builder, Mapping[str, Opt]], None]


@dataclass(frozen=True)
class Flag:
    """One row of a launcher's flag table.

    ``name`` is the canonical ``--kebab-case`` spelling; ``aliases`` other spellings; ``type``
    the value type; ``fact`` the Setup fact it sets and ``maps`` how the value maps to facts
    (None with a fact: the value as its type reads it); ``env`` the environment variable the
    launcher reads for it; ``python`` the ``LLM(...)``/``EngineArgs(...)`` keyword that mirrors
    it; ``edit`` the edit that undoes it on a command line, ``python_edit`` in Python;
    ``example`` a value it takes (what docs and the cross-kind equivalence test write; a
    number, switch or dtype row has one by default).
    A row without a fact is still parsed: a value it takes is never a positional."""

    name: str
    aliases: tuple[str, ...] = ()
    type: str = TEXT
    fact: str | None = None
    maps: Mapper | None = None
    env: str | None = None
    python: str | None = None
    edit: str | None = None
    python_edit: str | None = None
    negatable: bool = False  # ``--no-<name>`` turns the switch off (argparse BooleanOptionalAction)
    example: str | None = None

    @property
    def takes_value(self) -> bool:
        return self.type != SWITCH

    @property
    def sample(self) -> str | None:
        """``example``, or one for the row's type (None for a switch, which takes none)."""
        return self.example or {INT: "1", DTYPE: "bfloat16"}.get(self.type)


@dataclass(frozen=True)
class Derive:
    """A step of a table that is not one flag: a named function of the launcher module."""

    step: Step


def switches(*names: str) -> tuple[Flag, ...]:
    """Rows for switches that set no fact (parsed so that they never swallow a positional)."""
    return tuple(Flag(name, type=SWITCH) for name in names)


def valued(*names: str) -> tuple[Flag, ...]:
    """Rows for valued flags that set no fact (parsed so that their value is not a positional)."""
    return tuple(Flag(name) for name in names)


@dataclass(frozen=True)
class Command:
    """A command line that starts a launcher: ``program [subcommand]`` or ``python -m module
    [subcommand]``. ``module`` is a regular expression the whole module name must match;
    ``subcommands`` the words one of which must follow (each becomes the launch's ``sub``),
    else ``sub`` names it (by default the program)."""

    program: str | None = None
    module: str | None = None
    subcommands: tuple[str, ...] = ()
    sub: str = ""


@dataclass(frozen=True)
class Image:
    """A container image name (registry and tag ignored) that runs the launcher by default:
    the repository ``contains`` / ends with (``suffix``) / ``equals`` the text, and the tag
    starts with ``tag_prefix``."""

    text: str
    how: str = "suffix"
    tag_prefix: str = ""

    def matches(self, repo: str, tag: str) -> bool:
        if not tag.startswith(self.tag_prefix):
            return False
        if self.how == "contains":
            return self.text in repo
        if self.how == "equals":
            return repo == self.text
        return repo.endswith(self.text)


@dataclass
class Launch:
    """A command line detected as a launcher's."""

    framework: str
    sub: str  # vllm "serve", ollama "run", llama.cpp program name, …
    head: list[Tok]  # the launcher words (origin)
    args: list[Tok]


# Builds the model facts from the parsed command line (positionals included).
ModelStep = Callable[[Builder, Launch, Mapping[str, Opt], Sequence[Tok]], None]
# A whole subcommand interpreted by a named function; returns False when it says nothing.
SubInterpreter = Callable[[Builder, Launch, Mapping[str, EnvVal]], bool]
# The flags a launcher makes of a config file's text (vLLM's --config).
ConfigFlags = Callable[[str], "list[str]"]


@dataclass(frozen=True)
class Launcher:
    """What identifies a launcher, and its table.

    ``commands``: the command lines that start it; ``images``: container images that run it,
    ``entrypoint`` what they run (``default_cmd`` their default command, if any); ``triggers``:
    byte tokens of which a file that launches it holds one (the prefilter's); ``key_words``:
    words of a YAML key path that name it (Helm values; each one of the triggers); ``head``: the
    command line a YAML reader writes for it; ``model_flag``: the flag that names the model.
    ``table``: flag rows and derived steps, applied in order. ``model``: how the model is found
    when it is not just ``model_flag``; ``subcommands``: subcommands a named function reads
    whole; ``config_flag``/``config_flags``: a flag naming a config file, and the flags the
    launcher makes of its text. ``underscores``: ``--max_num_seqs`` is ``--max-num-seqs``."""

    framework: str
    commands: tuple[Command, ...]
    table: tuple[Flag | Derive, ...]
    triggers: tuple[bytes, ...]
    images: tuple[Image, ...] = ()
    entrypoint: tuple[str, ...] = ()
    default_cmd: tuple[str, ...] = ()
    key_words: tuple[str, ...] = ()
    head: tuple[str, ...] = ()
    model_flag: str | None = None
    model: ModelStep | None = None
    subcommands: Mapping[str, SubInterpreter] = field(default_factory=dict)
    config_flag: str | None = None
    config_flags: ConfigFlags | None = None
    underscores: bool = False
    aliases: Mapping[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    rows: Mapping[str, Flag] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows = {row.name: row for row in self.flags()}
        aliases = {alias: row.name for row in self.flags() for alias in row.aliases}
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "aliases", aliases)

    def flags(self) -> Iterable[Flag]:
        return (row for row in self.table if isinstance(row, Flag))

    def canonical(self, name: str) -> str:
        if self.underscores and name.startswith("--"):
            name = name.replace("_", "-")
        return self.aliases.get(name, name)

    def negated_row(self, canonical: str) -> Flag | None:
        """The negatable switch ``--no-<name>`` turns off, if ``canonical`` is one."""
        if not canonical.startswith("--no-"):
            return None
        row = self.rows.get("--" + canonical[5:])
        return row if row is not None and row.negatable else None

    def knows(self, flag: str) -> bool:
        """Whether ``flag`` (any spelling) is one of the table's."""
        canonical = self.canonical(flag)
        return canonical in self.rows or self.negated_row(canonical) is not None

    def by_python(self, keyword: str) -> Flag | None:
        return next((row for row in self.flags() if row.python == keyword), None)


# --------------------------------------------------------------------------------------------
# The generic interpreter
# --------------------------------------------------------------------------------------------


def _looks_negative_number(text: str) -> bool:
    return bool(re.fullmatch(r"-\d+(\.\d+)?", text))


def parse(args: Sequence[Tok], launcher: Launcher) -> tuple[dict[str, Opt], list[Tok]]:
    """argparse-like: last occurrence wins; returns options by canonical name and positionals."""
    opts: dict[str, Opt] = {}
    positionals: list[Tok] = []
    i = 0
    while i < len(args):
        tok = args[i]
        text = tok.text
        if text == "--":
            positionals.extend(args[i + 1 :])
            break
        if not text.startswith("-") or text == "-" or _looks_negative_number(text):
            positionals.append(tok)
            i += 1
            continue
        name, eq, inline = text.partition("=")
        canonical = launcher.canonical(name)
        negated = launcher.negated_row(canonical)
        if negated is not None:
            # --x and --no-x are one switch: the later one wins (argparse's BooleanOptionalAction)
            opts[negated.name] = Opt(tok, inline if eq else None, tok.loc, negated=True)
            i += 1
            continue
        if eq:
            opts[canonical] = Opt(tok, inline, tok.loc)
            i += 1
            continue
        row = launcher.rows.get(canonical)
        if row is not None and not row.takes_value:
            opts[canonical] = Opt(tok, None, tok.loc)
            i += 1
            continue
        nxt = args[i + 1] if i + 1 < len(args) else None
        if nxt is not None and (row is not None or not nxt.text.startswith("-") or _looks_negative_number(nxt.text)):
            opts[canonical] = Opt(tok, nxt.text, span(tok.loc, nxt.loc))
            i += 2
            continue
        opts[canonical] = Opt(tok, None, tok.loc)
        i += 1
    return opts, positionals


def env_opts(env: Mapping[str, EnvVal], launcher: Launcher, opts: dict[str, Opt]) -> None:
    """Launcher settings read from env vars; a command-line flag wins over its env var (clap)."""
    for row in launcher.flags():
        if row.env is None:
            continue
        val = env.get(row.env)
        if val is None or row.name in opts:
            continue
        opts[row.name] = Opt(Tok(f"{row.env}={val.value}", val.loc), val.value, val.loc, how="env")


def apply_table(launcher: Launcher, b: Builder, opts: Mapping[str, Opt]) -> None:
    """Every row of the table, in order, on the settings given (the model row excepted: the
    caller has set the model, as the launcher or the Python call names it)."""
    for row in launcher.table:
        if isinstance(row, Derive):
            row.step(b, opts)
            continue
        opt = opts.get(row.name)
        if opt is None or row.fact == MODEL or (row.fact is None and row.maps is None):
            continue
        if row.takes_value and not opt.negated and unresolved(opt.value):
            continue
        (row.maps or set_fact)(b, row, opt)


def set_fact(b: Builder, row: Flag, opt: Opt) -> None:
    """The default mapping: the value as the row's type reads it, as the row's fact."""
    assert row.fact is not None
    if row.type == SWITCH:
        value: object = False if opt.negated else parse_bool(opt.value)
    elif row.type == INT:
        value = parse_int(opt.value)
    elif row.type == DTYPE:
        value = dtype_precision(opt.value or "")
    else:
        value = opt.value
    if value is not None:
        b.fact(row.fact, value, opt.loc, opt.how)


def model_from_flag(launcher: Launcher) -> ModelStep:
    """The default model step: the value of the launcher's model flag."""

    def step(b: Builder, launch: Launch, opts: Mapping[str, Opt], positionals: Sequence[Tok]) -> None:
        opt = opts.get(launcher.model_flag or "")
        if opt is not None and opt.value:
            b.fact(MODEL, opt.value, opt.loc, opt.how)

    return step


def interpret_launch(launcher: Launcher, b: Builder, launch: Launch, env: Mapping[str, EnvVal]) -> bool:
    """Apply a launcher to one detected command line; False when it says nothing worth a Setup."""
    special = launcher.subcommands.get(launch.sub)
    if special is not None:
        return special(b, launch, env)
    opts, positionals = parse(launch.args, launcher)
    env_opts(env, launcher, opts)
    (launcher.model or model_from_flag(launcher))(b, launch, opts, positionals)
    apply_table(launcher, b, opts)
    return True


# --------------------------------------------------------------------------------------------
# Mappings shared by several launchers
# --------------------------------------------------------------------------------------------


def dtype_facts(b: Builder, row: Flag, opt: Opt) -> None:
    """--dtype: the weights' precision, or the compute dtype of weights already quantized."""
    precision = dtype_precision(opt.value or "")
    if precision is None:
        return
    b.fact(COMPUTE_DTYPE if b.setup.has(PRECISION) else PRECISION, precision, opt.loc, opt.how)


def kv_cache_facts(b: Builder, row: Flag, opt: Opt) -> None:
    """--kv-cache-dtype: as written, except ``auto`` (the engines' default: the model's dtype)."""
    if (opt.value or "").strip().lower() != "auto":
        b.fact(KV_CACHE_DTYPE, opt.value, opt.loc, opt.how)


def quantization_facts(b: Builder, row: Flag, opt: Opt) -> None:
    """vLLM / SGLang --quantization METHOD."""
    method = opt.value or ""
    b.fact(QUANT_CONFIG, method, opt.loc, opt.how)
    if method.lower() == "bitsandbytes":
        # vLLM docs (quantization/bnb): without a pre-quantized checkpoint, bitsandbytes is
        # "inflight quantization: load as 4bit quantization"; 8-bit only comes from an 8-bit
        # checkpoint's own config.
        eight = b.model is not None and bool(EIGHT_BIT_CKPT.search(b.model))
        b.fact(PRECISION, "int8" if eight else "nf4", opt.site, opt.derived)
        return
    if method.lower() == "gguf":
        precision = gguf_precision(b.model or "")
        if precision:
            b.fact(PRECISION, precision, opt.loc, opt.how)
        return
    b.fact(PRECISION, method_precision(method), opt.loc, opt.how)


def load_format_facts(b: Builder, row: Flag, opt: Opt) -> None:
    """--load-format bitsandbytes alone (no --quantization): in-flight bitsandbytes."""
    if b.setup.has(QUANT_CONFIG) or (opt.value or "").lower() != "bitsandbytes":
        return
    quantization_facts(b, row, Opt(opt.flag, "bitsandbytes", opt.loc, opt.how, site=opt.site, derived=opt.derived))


def checkpoint_precision(b: Builder, opts: Mapping[str, Opt]) -> None:
    """No --quantization: vLLM/SGLang read the method from the checkpoint (AWQ, FP8, GGUF, bnb)."""
    fact = b.setup.facts.get(MODEL)
    if fact is None or b.setup.has(PRECISION) or not isinstance(fact.value, str):
        return
    found = checkpoint_format(fact.value)
    if found is None:
        return
    b.fact(PRECISION, found.precision, fact.location, "filename")
    b.fact(QUANT_CONFIG, found.method, fact.location, "filename")
