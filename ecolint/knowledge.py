"""The knowledge base: rules/*.yaml loaded and checked once.

Everything that is a fact — rule texts, overhead ranges, crossovers, measured rows, model
sizes, GPU names — lives in YAML under ``rules/``. This module loads it, validates its shape
(each rule against ``RULE_SCHEMA``; a malformed catalogue is a bug in ecolint, reported as
such) and answers look-ups.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SEVERITIES = ("error", "warning", "note")
DOC_SECTIONS = ("what_it_does", "why_bad", "example", "use_instead", "fix_safety", "references", "evidence")


# The C loader is about 10x faster; the catalogue is read on every run, so it matters.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader


class KnowledgeError(Exception):
    """The rules/ catalogue is malformed: a packaging or editing bug, not a user error."""


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    severity: str
    enabled_by_default: bool
    summary: str
    overhead: dict[str, Any] | None
    tags: tuple[str, ...]
    evidence: tuple[str, ...]
    fix: dict[str, Any]
    docs: dict[str, Any]
    # The file kinds it can report in (python, notebook, shell, dockerfile, yaml, modelfile, ...).
    applies_to: tuple[str, ...] = ()
    # A tool diagnostic (ECO001) is raised by the engine itself: no @rule check stands behind it.
    diagnostic: bool = False
    # The rule's own figures and texts that its check reads (a default threshold, a caveat).
    facts: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Boundaries its evidence does not reach (resolve.py): on such a setup the rule stays silent.
    silent_on: tuple[str, ...] = ()

    @property
    def fix_safety(self) -> str:
        return str(self.fix.get("safety", "unsafe"))


@dataclass(frozen=True)
class Capability:
    """What an architecture's tensor cores compute (rules/capabilities.yaml)."""

    compute_capability: str
    bf16: bool
    fp8: bool

    @property
    def missing(self) -> tuple[str, ...]:
        """The formats advice must not propose here, in a fixed order (bf16, fp8)."""
        return tuple(name for name, has in (("bf16", self.bf16), ("fp8", self.fp8)) if not has)


@dataclass(frozen=True)
class GpuInfo:
    name: str
    architecture: str | None
    measured: bool
    vendor: str


@dataclass(frozen=True)
class Architecture:
    key: str
    label: str
    measured_gpu: str
    nf4_crossover_b: float
    int8_crossover_b: float
    measured: bool
    borrow: str | None
    source: str


def parse_version(text: str) -> tuple[int, ...]:
    """``2.14.0+cu130`` -> (2, 14, 0): the leading numeric parts of a version."""
    parts = []
    for piece in re.split(r"[.+-]", text):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


# The packages whose builds moved the measurements most (the author's 2026-09 sessions: a new
# torch / bitsandbytes build moved the RTX 5090 NF4 crossover from about 5B to 1.8B). A project
# matches a session only when both are pinned to its major.minor; a session whose bitsandbytes or
# torch is past the skill's window speaks only for projects on its own stack.
SESSION_PACKAGES = ("torch", "bitsandbytes")


@dataclass(frozen=True)
class Session:
    """One measurement session: one card, one software stack, one protocol (evidence.yaml
    ``sessions``). Its rows are compared only with its own FP16 run, never averaged with another
    session's."""

    id: str
    gpu: str
    date: str | None
    stack: dict[str, str]  # only the versions a metadata file states
    nf4_crossover_b: float | None
    note: str
    source: dict[str, Any]
    beyond_window: bool  # torch or bitsandbytes stated at or past the skill's window (evidence.yaml drift)


class Knowledge:
    """The catalogue. Rules are read at once (every run selects codes); the evidence base —
    evidence.yaml, most of the catalogue and most of the start-up time — is read, checked and
    indexed on first use, so a run that recognises no setup (most pre-commit runs) never pays
    for it. The advisor's rules/advice.yaml likewise."""

    def __init__(self, rules: dict[str, RuleSpec], base: Path) -> None:
        self.rules = rules
        self._base = base
        # Where parsed evidence is kept as JSON between runs (`ecolint check`'s cache directory);
        # None: parsed from YAML every time.
        self.memo_dir: Path | None = None

    @functools.cached_property
    def _evidence(self) -> dict[str, Any]:
        """What resolving a setup needs (GPUs, architectures, model sizes, the window): every
        top-level block of evidence.yaml but the measured rows."""
        return _load_tables(_parsed(_evidence_parts(self._base)[0], self.memo_dir))

    @functools.cached_property
    def _rows(self) -> dict[str, Any]:
        """The measured rows, read and checked against the rules on first use: a run whose
        setups raise no finding never parses them (most of the file)."""
        head, rows = _evidence_parts(self._base)
        entries = (_parsed(rows, self.memo_dir) if rows else _parsed(head, self.memo_dir)).get("rows")
        return _load_rows(entries or [], self._evidence, self.rules)

    architectures = property(lambda self: self._evidence["architectures"])
    gpus = property(lambda self: self._evidence["gpus"])
    models = property(lambda self: self._evidence["models"])
    rows = property(lambda self: self._rows)
    request_energy = property(lambda self: self._evidence["request_energy"])
    headlines = property(lambda self: self._evidence["headlines"])
    sessions = property(lambda self: self._evidence["sessions"])

    @property
    def dataset(self) -> dict[str, Any]:
        """Every text report's footer names the dataset: read its few lines alone unless the
        whole evidence base is loaded anyway."""
        if "_evidence" not in self.__dict__:
            block = _top_level_block(self._base / "evidence.yaml", "dataset")
            if isinstance(block, dict):
                return block
        return self._evidence["dataset"]

    window = property(lambda self: self._evidence["window"])
    drift = property(lambda self: self._evidence["drift"])
    assumed_gpu = property(lambda self: self._evidence["assumed_gpu"])
    assumed_params_b = property(lambda self: self._evidence["assumed_params_b"])
    measured_max_params_b = property(lambda self: self._evidence["measured_max_params_b"])

    @functools.cached_property
    def extra(self) -> dict[str, Any]:
        # The advisor's definitions and config lines (rules/advice.yaml); the linter never reads them.
        advice = self._base / "advice.yaml"
        return {"advice": _yaml(advice) if advice.is_file() else {}}

    @functools.cached_property
    def _capabilities(self) -> dict[str, Any]:
        return _load_capabilities(_yaml(self._base / "capabilities.yaml"), set(self.architectures))

    def capability(self, architecture: str | None) -> Capability | None:
        """What an architecture (by key) computes; None for one the table does not name."""
        return None if architecture is None else self._capabilities["architectures"].get(architecture)

    @property
    def capability_notes(self) -> dict[str, str]:
        """What a finding or an answer says where a format is missing, by format (and
        ``vllm_fp8_weight_only``), with {gpu}, {arch} and {cc} to fill in."""
        return dict(self._capabilities["notes"])

    def rule(self, code: str) -> RuleSpec:
        return self.rules[code]

    def gpu(self, written: str) -> GpuInfo | None:
        """The GPU a user-written name refers to (first matching pattern wins)."""
        for pattern, info in self.gpus:
            if pattern.search(written):
                return info
        return None

    def measured_architecture(self, key: str | None) -> Architecture | None:
        """The architecture whose numbers apply: itself if measured, else the one it borrows."""
        if key is None or key not in self.architectures:
            return None
        arch = self.architectures[key]
        if arch.measured or arch.borrow is None:
            return arch
        return self.architectures.get(arch.borrow)

    def other_hardware(
        self, loader: str | None, device: str | None, model_id: str | None, image: str | None = None
    ) -> GpuInfo | None:
        """The non-NVIDIA hardware a setup runs on though it names no GPU: its loading call (an
        Intel or Apple port of the transformers API), its device, a checkpoint made for it, or
        the container image it runs in (a ROCm or XPU build)."""
        table = self._evidence["other_hardware"]
        if image:
            for pattern, info in table["images"]:
                if pattern.search(image):
                    return info
        if loader:
            for pattern, info in table["loaders"]:
                if pattern.search(loader):
                    return info
        if device and device in table["devices"]:
            return table["devices"][device]
        if model_id:
            for pattern, info in table["models"]:
                if pattern.search(model_id):
                    return info
        return None

    def not_an_llm(self, loader: str | None, task: str | None, model_id: str | None) -> str | None:
        """Why a setup's model is not an LLM (so no LLM measurement speaks for it), or None."""
        table = self._evidence["not_llm"]
        if loader:
            parts = loader.split(".")
            loads = parts[-1] in ("from_pretrained", "from_quantized")
            cls = parts[-2] if len(parts) >= 2 and loads else parts[-1]
            if table["loaders"] is not None and table["loaders"].search(cls):
                return f"{cls} does not load an LLM"
        if task and task not in table["llm_tasks"]:
            return f"a {task} pipeline is not LLM text generation"
        if model_id and table["models"] is not None and table["models"].search(model_id):
            return f"{model_id} is not an LLM"
        return None

    def model_from_table(self, model_id: str) -> dict[str, Any] | None:
        for pattern, entry in self.models:
            if pattern.search(model_id):
                return entry
        return None


@functools.lru_cache(maxsize=8)
def data_table(file_name: str, key: str) -> tuple[dict[str, Any], ...]:
    """The rows under ``key`` of a data file in rules/ that extractors read (checkpoints.yaml,
    builds.yaml): facts about names, kept beside the rules rather than in code."""
    data = _yaml(rules_dir() / file_name) or {}
    return tuple(dict(row) for row in data.get(key) or [])


def rules_dir() -> Path:
    """rules/ inside the installed package, else at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if (candidate / "evidence.yaml").is_file():
            return candidate
    raise KnowledgeError(f"rules/ catalogue not found next to {here}")


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise KnowledgeError(f"{where}: missing key '{key}'")
    return mapping[key]


# The one schema of a rule's YAML, as data: each key's types, whether it must be there, the
# values it may take, the type of a list's items or a mapping's values, and a nested mapping's
# own keys. Any other key is an error (a typo would otherwise be ignored in silence).
@dataclass(frozen=True)
class _Key:
    types: tuple[str, ...]
    required: bool = True
    choices: tuple[str, ...] = ()
    items: str | None = None
    keys: dict[str, _Key] | None = None


_TYPES: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "mapping": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
FIX_SAFETIES = ("safe", "unsafe", "none")
# Boundaries a rule may be silent on (`silent_on`): its evidence is an NVIDIA kernel effect, or LLM
# text generation, and says nothing about other hardware or other models; or it is the energy of
# serving, and a model loaded and never run (a smoke test, a download job) serves nothing.
SILENCING_BOUNDARIES = ("non-nvidia", "not-an-llm", "not-served")
FIX_APPLICABILITIES = ("automatic", "manual")
_TEXT = _Key(("str",))
RULE_SCHEMA: dict[str, _Key] = {
    "code": _TEXT,
    "name": _TEXT,
    "severity": _Key(("str",), choices=SEVERITIES),
    "default": _Key(("bool",)),
    "summary": _TEXT,
    "overhead": _Key(
        ("mapping", "null"),
        keys={"min_pct": _Key(("number",)), "max_pct": _Key(("number",)), "per": _TEXT, "source": _TEXT},
    ),
    "tags": _Key(("list",), items="str"),
    # The file kinds (ecolint.discover.classify's names) the rule can report in; `choices` is
    # filled from ecolint.extract at load.
    "applies_to": _Key(("list",), items="str"),
    "diagnostic": _Key(("bool",), required=False),
    "evidence": _Key(("list",), required=False, items="str"),
    "facts": _Key(("mapping",), required=False),
    "silent_on": _Key(("list",), required=False, items="str", choices=SILENCING_BOUNDARIES),
    "fix": _Key(
        ("mapping",),
        keys={
            "safety": _Key(("str",), choices=FIX_SAFETIES),
            "reason": _TEXT,
            "applicability": _Key(("str",), choices=FIX_APPLICABILITIES),
            "edit": _Key(("str",), required=False),
            "snippets": _Key(("mapping",), required=False, items="str"),
            # Rules whose edit on the same setup makes this one's pointless (ECO103 unquantizes the
            # model whose INT8 threshold ECO101 would set): where one of them has an edit, this
            # finding's edit is left out, so --fix applies only theirs.
            "superseded_by": _Key(("list",), required=False, items="str"),
        },
    ),
    "docs": _Key(
        ("mapping",),
        keys={
            **{section: _TEXT for section in DOC_SECTIONS if section != "references"},
            "references": _Key(("list",), items="str"),
        },
    ),
}
_CODE = re.compile(r"ECO\d{3}")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A code block of a rule's `example` or `use_instead`: its info string is the file kind it is
# written in (ecolint's kinds; none means python), so that tests can run it as that kind.
CODE_BLOCK = re.compile(r"^```(?P<kind>[\w.-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
EXAMPLE_SECTIONS = ("example", "use_instead")


def file_kinds() -> tuple[str, ...]:
    """The file kinds a rule can apply to: the kinds ecolint reads."""
    from ecolint.extract import known_kinds

    return known_kinds()


def _shape_problems(data: Any, schema: dict[str, _Key], path: str = "") -> list[str]:
    """Every way ``data`` breaks ``schema``, each naming its key (dotted from the top)."""
    problems = [f"unknown key '{path}{key}'" for key in data if key not in schema]
    for key, spec in schema.items():
        dotted = f"{path}{key}"
        if key not in data:
            if spec.required:
                problems.append(f"missing key '{dotted}'")
            continue
        problems += _value_problems(data[key], spec, dotted)
    return problems


def _value_problems(value: Any, spec: _Key, dotted: str) -> list[str]:
    if not any(_TYPES[t](value) for t in spec.types):
        return [f"'{dotted}' must be {' or '.join(spec.types)}, not {type(value).__name__}"]
    members = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
    problems = []
    if spec.items is not None and isinstance(value, (list, dict)):
        problems += [f"'{dotted}' holds {m!r}, not a {spec.items}" for m in members if not _TYPES[spec.items](m)]
    if spec.choices:
        problems += [f"'{dotted}': {m!r} is not one of {list(spec.choices)}" for m in members if m not in spec.choices]
    if spec.keys is not None and isinstance(value, dict):
        problems += _shape_problems(value, spec.keys, dotted + ".")
    return problems


def rule_problems(data: Any, file_name: str) -> list[str]:
    """What is wrong with one rule's parsed YAML: schema, code and name spelling, file name,
    the kinds it applies to and the kinds of its example blocks. Empty when it is well formed."""
    if not isinstance(data, dict):
        return ["not a mapping"]
    kinds = file_kinds()
    schema = {**RULE_SCHEMA, "applies_to": dataclasses.replace(RULE_SCHEMA["applies_to"], choices=kinds)}
    problems = _shape_problems(data, schema)
    code, name = data.get("code"), data.get("name")
    if isinstance(code, str) and not _CODE.fullmatch(code):
        problems.append(f"'code' {code!r} is not ECO and three digits")
    if isinstance(name, str) and not _NAME.fullmatch(name):
        problems.append(f"'name' {name!r} is not lower-case words joined by '-'")
    if isinstance(code, str) and isinstance(name, str) and file_name != f"{code}-{name}.yaml":
        problems.append(f"the file name is not its code and name, {code}-{name}.yaml")
    if data.get("applies_to") == []:
        problems.append("'applies_to' is empty")
    docs = data.get("docs")
    for section in EXAMPLE_SECTIONS:
        text = docs.get(section) if isinstance(docs, dict) else None
        for block in CODE_BLOCK.finditer(text if isinstance(text, str) else ""):
            if block["kind"] and block["kind"] not in kinds:
                problems.append(f"'docs.{section}': code block of kind {block['kind']!r}, not one of {list(kinds)}")
    return problems


def _load_rule(path: Path) -> RuleSpec:
    data = _yaml(path)
    problems = rule_problems(data, path.name)
    if problems:
        raise KnowledgeError(f"{path.name}: " + "; ".join(problems))
    return RuleSpec(
        code=data["code"],
        name=data["name"],
        severity=data["severity"],
        enabled_by_default=data["default"],
        summary=data["summary"],
        overhead=data["overhead"],
        tags=tuple(data["tags"]),
        evidence=tuple(data.get("evidence", ())),
        fix=dict(data["fix"]),
        docs=dict(data["docs"]),
        applies_to=tuple(data["applies_to"]),
        diagnostic=data.get("diagnostic", False),
        facts=dict(data.get("facts") or {}),
        silent_on=tuple(data.get("silent_on", ())),
    )


def _load_architectures(data: dict[str, Any]) -> dict[str, Architecture]:
    result = {}
    for key, entry in data.items():
        result[key] = Architecture(
            key=key,
            label=str(entry.get("label", key)),
            measured_gpu=str(entry.get("measured_gpu", "")),
            nf4_crossover_b=float(_require(entry, "nf4_crossover_b", f"architectures.{key}")),
            int8_crossover_b=float(_require(entry, "int8_crossover_b", f"architectures.{key}")),
            measured=bool(entry.get("measured", False)),
            borrow=entry.get("borrow"),
            source=str(entry.get("source", "")),
        )
    return result


def _load_capabilities(data: dict[str, Any], architectures: set[str]) -> dict[str, Any]:
    """rules/capabilities.yaml, checked: every architecture of evidence.yaml named, nothing else,
    and a note for every format that can be missing."""
    entries = _require(data, "architectures", "capabilities.yaml")
    if set(entries) != architectures:
        raise KnowledgeError(
            f"capabilities.yaml: architectures {sorted(entries)} do not match evidence.yaml's {sorted(architectures)}"
        )
    table = {
        key: Capability(
            compute_capability=str(_require(entry, "compute_capability", f"capabilities.yaml {key}")),
            bf16=bool(_require(entry, "bf16", f"capabilities.yaml {key}")),
            fp8=bool(_require(entry, "fp8", f"capabilities.yaml {key}")),
        )
        for key, entry in entries.items()
    }
    notes = {key: " ".join(str(text).split()) for key, text in _require(data, "notes", "capabilities.yaml").items()}
    for needed in ("bf16", "fp8", "vllm_fp8_weight_only"):
        _require(notes, needed, "capabilities.yaml notes")
    return {"architectures": table, "notes": notes}


class LazyPattern:
    """A regular expression compiled on its first search: a run looks up a few GPU and model
    names, and compiling all of the tables' sixty-odd patterns up front was a tenth of a warm
    run (tests compile every one: tests/test_knowledge.py)."""

    __slots__ = ("_compiled", "flags", "source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source = source
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled().search(text)


def _load_gpus(entries: list[dict[str, Any]]) -> list[tuple[LazyPattern, GpuInfo]]:
    gpus = []
    for entry in entries:
        info = GpuInfo(
            name=str(entry["name"]),
            architecture=entry.get("architecture"),
            measured=bool(entry.get("measured", False)),
            vendor=str(entry.get("vendor", "nvidia")),
        )
        gpus.append((LazyPattern(entry["match"], re.IGNORECASE), info))
    return gpus


@functools.lru_cache(maxsize=4)
def load(directory: str | None = None) -> Knowledge:
    """Load and validate the rules (cached: read once per process); the evidence base follows
    on first use (``Knowledge``), or at once with ``load_all``."""
    base = Path(directory) if directory else rules_dir()
    rules = {}
    for path in sorted(base.glob("ECO*.yaml")):
        spec = _load_rule(path)
        if spec.code in rules:
            raise KnowledgeError(f"{path.name}: duplicate code {spec.code}")
        rules[spec.code] = spec
    return Knowledge(rules, base)


def _top_level_block(path: Path, key: str) -> Any:
    """The value of one top-level key, parsed from its own lines; None when that cannot be done."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(rf"^{re.escape(key)}:.*(?:\n(?:[ \t#].*)?(?=\n|$))*", text, re.MULTILINE)
    if match is None:
        return None
    try:
        value = yaml.load(match.group(0), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None
    return value.get(key) if isinstance(value, dict) else None


def load_all(directory: str | None = None) -> Knowledge:
    """The catalogue with its evidence base read and checked now (a broken one raises here)."""
    kb = load(directory)
    kb.rows  # noqa: B018 - reading it loads and validates evidence.yaml
    return kb


@functools.lru_cache(maxsize=4)
def _evidence_parts(base: Path) -> tuple[str, str]:
    """evidence.yaml's text as (every top-level block but `rows`, the `rows` block), so that
    each is parsed only when asked for. The split is at the top-level `rows:` line, which no
    other block can hold (nested keys are indented)."""
    text = (base / "evidence.yaml").read_text(encoding="utf-8")
    match = re.search(r"^rows:", text, re.MULTILINE)
    if match is None:
        return text, ""
    return text[: match.start()], text[match.start() :]


def _parsed(text: str, memo_dir: Path | None = None) -> dict[str, Any]:
    """A block of evidence.yaml as data. With a memo directory, kept there as JSON under the
    text's hash: the measured rows take about 45 ms to parse as YAML, under 1 ms as JSON, on
    every run that has a finding."""
    memo = _memo_file(text, memo_dir)
    if memo is not None:
        try:
            kept = json.loads(memo.read_text(encoding="utf-8"))
            if isinstance(kept, dict):
                return kept
        except (OSError, ValueError):
            pass
    value = yaml.load(text, Loader=_LOADER) if text else None  # noqa: S506 - a safe loader
    parsed = value if isinstance(value, dict) else {}
    if memo is not None:
        _keep(memo, parsed)
    return parsed


def _memo_file(text: str, memo_dir: Path | None) -> Path | None:
    if memo_dir is None or not text:
        return None
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    return memo_dir / f"knowledge-{digest}.json"


def _keep(memo: Path, parsed: dict[str, Any]) -> None:
    """Write the memo, only in a cache directory that exists (the extraction cache makes it,
    with its CACHEDIR.TAG and .gitignore), only when JSON gives back exactly the same data (a
    date would come back a string), and atomically; a read-only cache is left alone."""
    import os
    import tempfile

    try:
        encoded = json.dumps(parsed)  # key order kept: rows are read in the order written
        if json.loads(encoded) != parsed or not memo.parent.is_dir():
            return
        handle, temporary = tempfile.mkstemp(dir=memo.parent, prefix=".knowledge-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(encoded)
            os.replace(temporary, memo)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        pass


def _load_rows(entries: list[Any], tables: dict[str, Any], rules: dict[str, RuleSpec]) -> dict[str, Any]:
    rows = {}
    sessions: dict[str, Session] = tables.get("sessions", {})
    for row in entries:
        if row["id"] in rows:
            raise KnowledgeError(f"evidence.yaml: duplicate row id {row['id']}")
        session = sessions.get(row.get("session", ""))
        if session is None:
            raise KnowledgeError(f"evidence.yaml: row {row['id']} names no known session ({row.get('session')!r})")
        if session.gpu != row.get("gpu"):
            raise KnowledgeError(
                f"evidence.yaml: row {row['id']} is on {row.get('gpu')}, its session {session.id} on {session.gpu}"
            )
        rows[row["id"]] = row
    for spec in rules.values():
        unknown = [rid for rid in spec.evidence if rid not in rows and not _is_request_row(tables, rid)]
        if unknown:
            raise KnowledgeError(f"{spec.code}: evidence ids not in evidence.yaml: {unknown}")
    return rows


def _load_tables(evidence: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": _load_architectures(_require(evidence, "architectures", "evidence.yaml")),
        "gpus": _load_gpus(_require(evidence, "gpus", "evidence.yaml")),
        "models": [(LazyPattern(m["match"], re.IGNORECASE), m) for m in evidence.get("models", [])],
        "request_energy": list(evidence.get("request_energy", [])),
        "headlines": dict(evidence.get("headlines", {})),
        "dataset": dict(evidence.get("dataset", {})),
        "window": dict(evidence.get("window", {})),
        "drift": {k: str(v) for k, v in (evidence.get("drift") or {}).items()},
        "assumed_gpu": str(_require(evidence, "assumed_gpu", "evidence.yaml")),
        "assumed_params_b": float(_require(evidence, "assumed_params_b", "evidence.yaml")),
        "measured_max_params_b": float(_require(evidence, "measured_max_params_b", "evidence.yaml")),
        "sessions": _load_sessions(evidence.get("sessions") or [], evidence.get("drift") or {}),
        "other_hardware": _load_other_hardware(evidence.get("other_hardware") or {}),
        "not_llm": _load_not_llm(evidence.get("not_llm") or {}),
    }


def _load_other_hardware(data: dict[str, Any]) -> dict[str, Any]:
    def entry(item: dict[str, Any]) -> GpuInfo:
        return GpuInfo(name=str(item["hardware"]), architecture=None, measured=False, vendor=str(item["vendor"]))

    return {
        "loaders": [(re.compile(item["match"]), entry(item)) for item in data.get("loaders", [])],
        "devices": {str(word): entry(item) for word, item in (data.get("devices") or {}).items()},
        "models": [(re.compile(item["match"], re.IGNORECASE), entry(item)) for item in data.get("models", [])],
        "images": [(re.compile(item["match"], re.IGNORECASE), entry(item)) for item in data.get("images", [])],
    }


def _load_not_llm(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "loaders": re.compile(data["loaders"]) if data.get("loaders") else None,
        "llm_tasks": frozenset(str(task) for task in data.get("llm_tasks", [])),
        "models": re.compile(data["models"], re.IGNORECASE) if data.get("models") else None,
    }


def _load_sessions(entries: list[dict[str, Any]], drift: dict[str, Any]) -> dict[str, Session]:
    sessions: dict[str, Session] = {}
    for entry in entries:
        where = f"evidence.yaml: sessions[{entry.get('id', len(sessions))}]"
        sid = str(_require(entry, "id", where))
        if sid in sessions:
            raise KnowledgeError(f"evidence.yaml: duplicate session id {sid}")
        crossover = entry.get("nf4_crossover_b")
        stack = {str(k): str(v) for k, v in (entry.get("stack") or {}).items()}
        sessions[sid] = Session(
            id=sid,
            gpu=str(_require(entry, "gpu", where)),
            date=None if entry.get("date") is None else str(entry["date"]),
            stack=stack,
            nf4_crossover_b=None if crossover is None else float(crossover),
            note=str(entry.get("note", "")),
            source=dict(_require(entry, "source", where)),
            beyond_window=any(
                package in stack and parse_version(stack[package]) >= parse_version(str(limit))
                for package, limit in drift.items()
                if package in SESSION_PACKAGES
            ),
        )
    return sessions


def _is_request_row(evidence: dict[str, Any], row_id: str) -> bool:
    return any(r.get("id") == row_id for r in evidence.get("request_energy", []))


def _row_metric_ok(row: dict[str, Any], metric: str | None) -> bool:
    return metric is None or row.get("metric") == metric


def nearest_rows(
    kb: Knowledge,
    architecture: str | None,
    precision: str,
    params_b: float | None,
    *,
    threshold: float | None = None,
    metric: str | None = "energy_j_per_1k_tokens",
    limit: int = 2,
    session: Session | None = None,
) -> list[dict[str, Any]]:
    """Measured rows closest to a setup: same architecture and precision, nearest model size.

    With a matched ``session``, that session's rows where it has any for this precision; else the
    rows of sessions inside the skill's measurement window (a session past it speaks only for
    projects on its stack). Rows are never interpolated here; the caller quotes them as they are.
    """
    target = params_b if params_b is not None else kb.assumed_params_b
    if session is not None:
        own = [
            row
            for row in _candidates(kb, architecture, precision, threshold, metric)
            if row.get("session") == session.id
        ]
        if own:
            return _nearest(own, threshold, target, limit)
    candidates = [
        row
        for row in _candidates(kb, architecture, precision, threshold, metric)
        if not kb.sessions[row["session"]].beyond_window
    ]
    return _nearest(candidates, threshold, target, limit)


def _candidates(
    kb: Knowledge, architecture: str | None, precision: str, threshold: float | None, metric: str | None
) -> list[dict[str, Any]]:
    return [
        row
        for row in kb.rows.values()
        if row.get("architecture") == architecture
        and row.get("precision") == precision
        and _row_metric_ok(row, metric)
        and (threshold is None or row.get("llm_int8_threshold") in (None, threshold))
    ]


def _nearest(
    candidates: list[dict[str, Any]], threshold: float | None, target: float, limit: int
) -> list[dict[str, Any]]:
    if threshold is not None:
        exact = [r for r in candidates if r.get("llm_int8_threshold") == threshold]
        candidates = exact or candidates

    def distance(row: dict[str, Any]) -> tuple:
        return (abs(float(row.get("params_b") or 0) - target), -int(row.get("n") or 0), row["id"])

    return sorted(candidates, key=distance)[:limit]


def request_rows(
    kb: Knowledge, gpu_name: str, model_id: str | None, precisions: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The skill's J/request rows for this GPU and model, when both match."""
    if not model_id:
        return []
    short = model_id.rsplit("/", 1)[-1].lower()
    return [
        row
        for row in kb.request_energy
        if row.get("gpu") == gpu_name
        and short.startswith(str(row.get("model", "")).lower())
        and row.get("precision") in precisions
    ]
