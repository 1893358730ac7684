"""Extractors: one module per source kind, each turning a file's text into Setups.

An extractor is a function ``extract(path, text, context) -> list[Setup]``. It raises
``ExtractError`` for input it was meant to read but cannot (invalid YAML, Python that does not
parse); the engine turns that into an ECO001 diagnostic and goes on with the other files.

``TRIGGERS`` per kind are byte strings of which a file must contain at least one to be able to
produce a setup at all. The engine reads bytes, checks them, and only then imports and runs the
extractor: this is exact, not a heuristic — every setup an extractor builds starts at one of
these tokens.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecolint.discover import DEFAULT_EXCLUDES
from ecolint.extract.launchers.registry import MODULE_PREFIXES, MODULE_ROOTS, PROGRAMS
from ecolint.extract.launchers.registry import TRIGGERS as LAUNCH_TRIGGERS
from ecolint.setups import Setup


class ExtractError(Exception):
    """Input that was meant to be read but cannot be: the message names the reason."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class ExtractContext:
    """What an extractor may ask about the rest of the scanned tree.

    ``root`` is the scan root: imports and sibling files are only looked up inside it.
    ``read_text`` reads another file of the tree (decoded), or returns None.

    Extractors reach the tree only through ``read``, ``is_file``, ``list_dir`` and ``cached``
    (a test holds them to it). While ``consulted`` is a list, each of them notes there what it
    asked and what the answer was, so the extraction cache can tell whether a file's setups
    still hold: they depend on its bytes and on those answers, nothing else.
    """

    root: Path
    read_text: Callable[[Path], str | None]
    cwd: Path | None = None  # what display paths are relative to (None: the process's cwd)
    _cache: dict = field(default_factory=dict)
    consulted: list[tuple[str, str, object]] | None = None
    # resolved script path → the command lines that run it (ecolint/invocations.py, built by the
    # engine's project pass; empty when none was built)
    invocations: dict[str, list[Any]] = field(default_factory=dict)

    def invocations_of(self, display: str) -> list[Any]:
        """The invocations of the script behind a display path (noted: they come from other files)."""
        key = Path(str(self.source_path(display).resolve()))
        found = self.answer("invocations", key)
        self._note("invocations", key, found)
        return self.invocations.get(str(key), [])

    # the project pass's module index (ecolint/extract/python/modules.py), built before the
    # per-file work over the project root; None when the run has none
    modules: Any = None

    def source_path(self, display: str) -> Path:
        """The file behind a display path (display paths are relative to the working directory)."""
        path = Path(display)
        return path if path.is_absolute() else (self.cwd or Path.cwd()) / path

    def read(self, path: Path) -> str | None:
        """Another file's text, or None (missing, unreadable, not text)."""
        text = self.read_text(path)
        if self.consulted is not None:
            self._note("read", path, text_digest(text))
        return text

    def is_file(self, path: Path) -> bool:
        found = self.answer("file", path)
        self._note("file", path, found)
        return bool(found)

    def list_dir(self, path: Path) -> list[str] | None:
        """The sorted names in a directory, or None when it cannot be listed."""
        names = self.answer("dir", path)
        self._note("dir", path, names)
        return names  # type: ignore[return-value]

    def list_dir_matching(self, path: Path, pattern: str) -> list[str]:
        """The sorted names in a directory that fully match ``pattern`` (a regular expression):
        unlike list_dir, a file of another name added beside them leaves a cached answer valid."""
        question = f"dir~{pattern}"
        names = self.answer(question, path)
        self._note(question, path, names)
        return names  # type: ignore[return-value]

    def answer(self, what: str, path: Path) -> object:
        """What the tree answers now to a question ``consulted`` notes, without noting it (the
        extraction cache asks again to see whether an entry still holds)."""
        if what == "read":
            return text_digest(self.read_text(path))
        if what.startswith("dir~"):
            names = self.answer("dir", path)
            matching = re.compile(what[4:])
            return [] if names is None else [name for name in names if matching.fullmatch(name)]  # type: ignore[attr-defined]
        if what == "file":
            return path.is_file()
        if what == "invocations":
            return text_digest(repr(self.invocations.get(str(path), [])))
        if what == "helpers":
            return None if self.modules is None else self.modules.digest()
        if what.startswith("switch~"):
            key = ("ecolint.extract:switch", str(path), what[7:])
            if key not in self._cache:
                self._cache[key] = (_sets_true(_config_texts(path, self._cache), what[7:]), None)
            return self._cache[key][0]
        if what == "dir":
            try:
                return sorted(entry.name for entry in path.iterdir())
            except OSError:
                return None
        return _UNANSWERED

    def cached(self, key: object, compute: Callable[[], object]) -> object:
        """Memoise per run: sibling files (a ConfigMap, a .env, an imported module) are read once.
        What the first computation consulted counts as consulted by every file that uses it."""
        if key not in self._cache:
            outer = self.consulted
            self.consulted = None if outer is None else []
            try:
                value = compute()
            finally:
                inner, self.consulted = self.consulted, outer
            self._cache[key] = (value, inner)
        value, consulted = self._cache[key]
        if self.consulted is not None:
            # computed while nothing was noted: what it consulted is unknown
            self.consulted.extend(consulted if consulted is not None else [("unknown", "", None)])
        return value

    def turned_on_in_configs(self, key: str, near: Path) -> bool:
        """Whether a YAML or JSON file of the project a module belongs to sets ``key`` to true
        (`low_resource: True` in an eval config): a switch the code leaves off by default that
        the project's own configs turn on. The project is the nearest directory above the
        module (``near``: its directory) with a README, a setup.py, a pyproject.toml or a
        requirements.txt, else the scan root: one project of a monorepo does not turn on
        another's switch. Noted, so a cached answer is asked again when the configs change."""
        area = self.folder_with(near, _PROJECT_MARKERS) or self.root
        question = f"switch~{key}"
        found = self.answer(question, area)
        self._note(question, area, found)
        return bool(found)

    def folder_with(self, folder: Path, names: tuple[str, ...], levels: int | None = None) -> Path | None:
        """The nearest of ``folder`` and the directories above it, up to the scan root (and at
        most ``levels`` above it), that holds a file of one of ``names`` (a cog.yaml beside a
        predictor; a README that makes a directory a project); None when none does."""
        root = self.root.resolve()
        for up, candidate in enumerate((folder, *folder.parents)):
            if (levels is not None and up > levels) or not candidate.resolve().is_relative_to(root):
                return None
            if any(self.is_file(candidate / name) for name in names):
                return candidate
            if candidate.resolve() == root:
                return None
        return None

    def note_helpers(self) -> None:
        """Note that the file's result depends on which helpers the project's modules define."""
        if self.modules is not None and self.consulted is not None:
            self._note("helpers", Path(""), self.modules.digest())

    def _note(self, what: str, path: Path, answer: object) -> None:
        if self.consulted is not None:
            self.consulted.append((what, str(path), answer))


_UNANSWERED = object()  # a question this context does not know: never equal to a noted answer
_PROJECT_MARKERS = ("README.md", "README.rst", "README", "setup.py", "pyproject.toml", "requirements.txt")
MAX_CONFIG_FILES = 2_000  # YAML and JSON files a run reads to see whether they turn a switch on
MAX_CONFIG_BYTES = 64 * 1024  # larger ones are data (results, vocabularies), not configuration
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def _config_texts(root: Path, memo: dict) -> list[bytes]:
    """The scan root's YAML and JSON files (small ones, up to MAX_CONFIG_FILES), read once a run."""
    key = ("ecolint.extract:config-texts", str(root))
    if key not in memo:
        texts: list[bytes] = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in DEFAULT_EXCLUDES and not d.startswith("."))
            for name in sorted(files):
                if not name.endswith(_CONFIG_SUFFIXES) or len(texts) >= MAX_CONFIG_FILES:
                    continue
                path = os.path.join(folder, name)
                try:
                    if os.path.getsize(path) <= MAX_CONFIG_BYTES:
                        with open(path, "rb") as handle:
                            texts.append(handle.read())
                except OSError:
                    continue
        memo[key] = (texts, None)
    return memo[key][0]


def _sets_true(texts: list[bytes], name: str) -> bool:
    """Whether one of the texts sets a key of that name to true: `name: True` (YAML),
    `"name": true` (JSON)."""
    pattern = re.compile(
        rb"""(?<![A-Za-z0-9_])["']?""" + re.escape(name.encode()) + rb"""["']?[ \t]*:[ \t]*(?:[Tt]rue|yes|on)\b"""
    )
    return any(name.encode() in text and pattern.search(text) for text in texts)


def data_digest(data: bytes) -> str:
    """A short content hash (the extraction cache's key for a file's bytes)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def text_digest(text: str | None) -> str | None:
    """data_digest of a text (None stays None)."""
    return None if text is None else data_digest(text.encode("utf-8", "surrogatepass"))


Extractor = Callable[[str, str, ExtractContext], "list[Setup]"]

# kind -> (module, trigger tokens). Triggers live here, not in the extractor modules, so that
# the prefilter never imports an extractor: a run with no candidate file of a kind never pays for
# that kind's module. The launchers' tokens are declared by each launcher (data only).
_LAUNCHERS = (*LAUNCH_TRIGGERS, b"Modelfile", b"modelfile")
_PLATFORM_WORDS = (b"VLLM", b"OLlama", b"model_loading_config")
# A Python string literal that is a launcher's program (`"vllm"`, `'llama-server'`) or starts
# with one of its modules (`"vllm.entrypoints.openai.api_server"`): an argv list the code runs
# (a BentoML `__command__`, a Modal function's subprocess) holds one
# (ecolint/extract/python/platforms.py).
LAUNCH_STRINGS: tuple[bytes, ...] = tuple(
    [q + word.encode() + q for word in PROGRAMS for q in (b'"', b"'")]
    + [q + prefix.encode() for prefix in MODULE_PREFIXES for q in (b'"', b"'")]
)
# The launcher words every LAUNCH_STRINGS entry contains, none inside another ("sglang" covers
# "sglang_router."): the first look scans each file once per word, so fewer words, less time.
_LAUNCH_WORDS = {word.encode() for word in PROGRAMS} | {root.rstrip(".").encode() for root in MODULE_ROOTS}
LAUNCH_WORDS: tuple[bytes, ...] = tuple(
    sorted(word for word in _LAUNCH_WORDS if not any(other != word and other in word for other in _LAUNCH_WORDS))
)
# The Python triggers that are loaders' names (the prefilter looks for them shaped as calls, the
# project pass in helpers' bodies); the launcher words are looked for in strings only.
LOADER_TOKENS = (b"from_pretrained", b"from_quantized", b"LLM", b"EngineArgs", b"pipeline", b"quantize_")
_PYTHON_TRIGGERS = (*LOADER_TOKENS, *LAUNCH_WORDS)
_KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    # Every call a Python setup starts at names one of these (ecolint/prefilter.py looks closer).
    "python": ("ecolint.extract.python", _PYTHON_TRIGGERS),
    # A notebook's code cells are Python inside JSON strings: the same calls, the same tokens.
    "notebook": ("ecolint.extract.notebook", _PYTHON_TRIGGERS),
    # Launch containers share one set: every launcher a container can name, plus "Modelfile"
    # for scripts that write one through a heredoc.
    "shell": ("ecolint.extract.shell", _LAUNCHERS),
    "dockerfile": ("ecolint.extract.dockerfile", _LAUNCHERS),
    # Platform files name a launcher in their own words: KubeAI's `engine: VLLM | OLlama`, Ray
    # Serve's LLMConfig (a vLLM engine) by its `model_loading_config`.
    "yaml": ("ecolint.extract.manifests", (*_LAUNCHERS, *_PLATFORM_WORDS)),
    "modelfile": ("ecolint.extract.modelfile", (b"",)),
    "requirements": ("ecolint.extract.stack", (b"",)),
    "pyproject": ("ecolint.extract.stack", (b"",)),
}


# The calls a Python setup starts at, by their last name (the table of
# ecolint/extract/python/frameworks.py classifies them; ecolint/prefilter.py looks for them in
# bytes). The Python triggers above are substrings
# of these names that find them all.
# `from_quantized` loads a pre-quantized checkpoint with AutoGPTQ / GPTQModel or AutoAWQ
# (`AutoAWQForCausalLM.from_quantized(path)`), as research code still does.
LOADER_CALLS = frozenset(
    {"from_pretrained", "from_quantized", "pipeline", "LLM", "EngineArgs", "AsyncEngineArgs", "quantize_"}
)
# The calls of a deployment platform's Python API that start a setup (Ray Serve LLM's LLMConfig;
# "LLM" among the triggers finds them).
PLATFORM_CALLS = frozenset({"LLMConfig"})

# from_pretrained on these loads no model weights (or, for PeftModel, an adapter onto a model that
# another call loaded): matched case-insensitively against the receiver's last name. Shared by the
# Python extractor and the prefilter, which must agree on it.
NOT_A_MODEL = re.compile(
    r"tokeniz|processor|processing|config|feature_?extractor|scheduler|vocab|^peftmodel|^(self|cls)$", re.IGNORECASE
)


def loader_spans(data: bytes) -> list[tuple[int, int]]:
    """Where a loader's name (``LOADER_TOKENS``) is in the bytes, (start, end), in order
    (EngineArgs inside AsyncEngineArgs included; no token starts another, so no two share a
    start): the prefilter's first finds, which the project pass reuses for a file's helpers."""
    found = []
    for token in LOADER_TOKENS:
        size = len(token)
        at = data.find(token)
        while at >= 0:
            found.append((at, at + size))
            at = data.find(token, at + 1)
    found.sort()
    return found


def known_kinds() -> tuple[str, ...]:
    return tuple(_KINDS)


def triggers(kind: str) -> tuple[bytes, ...]:
    """Byte tokens of which a file of this kind must contain one to be worth parsing (unless it
    matches may_match_a_pattern)."""
    return _KINDS[kind][1]


# KServe's HuggingFace runtime starts vLLM without naming it. An InferenceService counts where
# its model format is written `name: huggingface` (quoted or not), and the manifests reader
# requires that same spelling, so the prefilter stays exact. "huggingface" or "modelFormat"
# alone would send KServe's install bundles (megabytes of CRDs) to the YAML parser.
_HF_FORMAT = b"huggingface"
_HF_FORMAT_KEY = re.compile(rb"""(?<![\w-])name["']?[ \t]*:[ \t]*["']?\Z""")


def kserve_hf_format(data: bytes) -> bool:
    """Whether the bytes write a model format `name: huggingface`. Found from each occurrence of
    the word, looking back along its line: a regex searched from the start was 1.5 s on kserve's
    72 MB of CRDs."""
    at = data.find(_HF_FORMAT)
    while at >= 0:
        end = at + len(_HF_FORMAT)
        after = data[end : end + 1]
        if not (after.isalnum() or after in (b"_", b"-")) and _HF_FORMAT_KEY.search(
            data, data.rfind(b"\n", 0, at) + 1, at
        ):
            return True
        at = data.find(_HF_FORMAT, end)
    return False


# kind -> the triggers that are not one token, beside the token table above.
_PATTERN_TRIGGERS: dict[str, Callable[[bytes], bool]] = {"yaml": kserve_hf_format}


def may_match_a_pattern(kind: str, data: bytes) -> bool:
    """Whether the bytes hold one of the kind's triggers that are not one token."""
    check = _PATTERN_TRIGGERS.get(kind)
    return check is not None and check(data)


def load_extractor(kind: str) -> Extractor | None:
    """The extractor for a kind; None when that kind has no extractor yet."""
    entry = _KINDS.get(kind)
    if entry is None:
        return None
    module_name = entry[0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return module.extract
