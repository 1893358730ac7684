"""YAML -> argv + env with locations -> ecolint/extract/launchers, decided by content.

- docker-compose: ``services`` with image / command / entrypoint / environment / env_file,
  ``${VAR}`` / ``${VAR:-d}`` interpolation from a ``.env`` beside the file, anchors and ``<<:``.
- Kubernetes (any kind, CRDs included): every ``containers:`` list; command / args / env /
  envFrom (ConfigMaps from this file or a sibling YAML), ``$(VAR)`` expansion as the kubelet does
  it, the GPU named by nodeSelector / nodeAffinity labels.
- GitHub Actions workflows: ``run:`` steps through the shell container, workflow / job / step
  ``env:``, job ``services:`` / ``container:`` images, ``runs-on`` labels (the GPU a label names),
  one run per combination of the matrix values a job refers to.
- Deployment platforms' own files (KubeAI ``Model``s and catalog, SkyPilot tasks, dstack
  configurations, Ray Serve LLM configs): ecolint/extract/platforms.
- Helm values: launcher argument lists (``extraArgs``, ``args``), model keys, flag-named keys.
- Go templates (Helm ``templates/``) are not YAML: skipped quietly.

Parsing uses PyYAML's safe composer only (the C one when present) and reads composed nodes, so
every token keeps its line and column. Aliases are the same node objects after composing; walks
visit each node once and value reads are budgeted, so an alias bomb stays small and fast.
"""

from __future__ import annotations

import dataclasses
import itertools
import posixpath
import re
import shlex
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ecolint.extract import ExtractContext, ExtractError, kserve_hf_format
from ecolint.extract.launchers.detect import (
    container_setups,
    image_framework,
    interpret,
    is_collecting_invocations,
    known_flag,
)
from ecolint.extract.launchers.registry import HEADS, KEY_WORDS, MODEL_FLAGS
from ecolint.extract.launchers.vocab import EnvVal, Locator, Tok
from ecolint.extract.shell import parse_env_file, raw_words, setups_from_script, setups_from_text
from ecolint.setups import GPU, INVOKED_SCRIPT, PLATFORM, RUNNER_LABELS, Location, Setup

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"
_BUDGET = 200_000  # node reads per file (plus 20 per character); real manifests use a few thousand


class Budget:
    """Node reads allowed for one file: generous for its size, finite for an alias bomb."""

    def __init__(self, size: int = 0) -> None:
        self.left = _BUDGET + 20 * size

    def spend(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise ExtractError("YAML too complex: alias expansion limit reached", 1)


# --------------------------------------------------------------------------------------------
# Reading composed nodes
# --------------------------------------------------------------------------------------------


@dataclass
class Doc:
    path: str
    lines: list[str]
    budget: Budget
    context: ExtractContext | None
    _items: dict[int, list[tuple[yaml.Node, yaml.Node]]] = field(default_factory=dict)
    _index: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = field(default_factory=dict)
    _walks: dict[int, list[tuple[yaml.Node, tuple[str, ...]]]] = field(default_factory=dict)
    hf_format_written: bool = False  # kserve_hf_format: `name: huggingface` is in the text

    # -- structure --------------------------------------------------------------------------
    def walk(self, root: yaml.Node) -> list[tuple[yaml.Node, tuple[str, ...]]]:
        """Every node under a root once, with the mapping keys leading to it; memoised: the
        Kubernetes, Helm and Ollama readers each go through every root (a 2.4 MB model catalog
        is 64,000 nodes)."""
        cached = self._walks.get(id(root))
        if cached is None:
            cached = self._walks[id(root)] = list(_walk(root, self.budget))
        return cached

    def items(self, node: yaml.Node | None, depth: int = 0) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value pairs of a mapping with ``<<:`` merges applied (own keys win); memoised."""
        if not isinstance(node, yaml.MappingNode) or depth > 8:
            return []
        cached = self._items.get(id(node))
        if cached is None:
            cached = self._items[id(node)] = self._merged_items(node, depth)
        return cached

    def _merged_items(self, node: yaml.MappingNode, depth: int) -> list[tuple[yaml.Node, yaml.Node]]:
        own: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            self.budget.spend()
            if key.tag == _MERGE or (isinstance(key, yaml.ScalarNode) and key.value == "<<" and key.style is None):
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in sources:
                    merged.extend(self.items(source, depth + 1))
            else:
                own.append((key, value))
        # Own keys win over merged ones, and an earlier merge source over a later one (YAML 1.1).
        names = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        result = list(own)
        for key, value in merged:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name in names:
                continue
            if name is not None:
                names.add(name)
            result.append((key, value))
        return result

    def get(self, node: yaml.Node | None, key: str) -> yaml.Node | None:
        pair = self.pair(node, key)
        return pair[1] if pair else None

    def pair(self, node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            return None
        index = self._index.get(id(node))
        if index is None:
            index = {}
            for k, v in self.items(node):
                if isinstance(k, yaml.ScalarNode):
                    index.setdefault(k.value, (k, v))
            self._index[id(node)] = index
        return index.get(key)

    def seq(self, node: yaml.Node | None) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            return []
        self.budget.spend(len(node.value))
        return list(node.value)

    def text(self, node: yaml.Node | None) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            return node.value
        return None

    # -- locations --------------------------------------------------------------------------
    def loc(self, node: yaml.Node, end: yaml.Node | None = None) -> Location:
        a = node.start_mark
        b = (end or node).end_mark
        if b.line > a.line and b.column == 0:  # block scalars end at the start of the next line
            line = max(a.line, b.line - 1)
            return Location(self.path, a.line + 1, a.column + 1, line + 1, len(self._line(line)) + 1)
        return Location(self.path, a.line + 1, a.column + 1, b.line + 1, b.column + 1)

    def key_loc(self, key: yaml.Node, value: yaml.Node) -> Location:
        """A ``key: value`` entry: the key, to the end of its value when that is on the same line."""
        if isinstance(value, yaml.ScalarNode) and value.end_mark.line == key.start_mark.line:
            return self.loc(key, value)
        return self.loc(key)

    def _line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def env(self, node: yaml.Node | None) -> dict[str, EnvVal]:
        """A ``NAME: value`` mapping of environment variables (a variable without a value is one
        the caller passes: unknown here, so left out)."""
        env: dict[str, EnvVal] = {}
        for key, value in self.items(node):
            text = self.text(value)
            if text is not None and isinstance(key, yaml.ScalarNode):
                env[key.value] = EnvVal(text, self.key_loc(key, value))
        return env

    def script_locator(self, node: yaml.Node) -> Locator:
        """Where the characters of a script held in ``node`` are: each one where the YAML allows
        that, else the whole script at the node's start."""
        found = self.locator(node)
        if found is not None:
            return found
        loc = self.loc(node)
        return lambda k: (loc.line, loc.column)

    def locator(self, node: yaml.Node) -> Locator | None:
        """Offsets in a scalar's value -> file positions (for ``sh -c`` scripts and commands)."""
        if not isinstance(node, yaml.ScalarNode):
            return None
        value, a, b = node.value, node.start_mark, node.end_mark
        if a.line == b.line and node.style in (None, "'", '"'):
            raw = self._line(a.line)[a.column : b.column]
            shift = 1 if node.style else 0
            if raw[shift : len(raw) - shift] != value:
                return None
            return lambda k: (a.line + 1, a.column + 1 + shift + k)
        return self._search_locator(node)

    def _search_locator(self, node: yaml.ScalarNode) -> Locator | None:
        """Multi-line scalars: match each source line's text inside the folded/literal value."""
        value, a, b = node.value, node.start_mark, node.end_mark
        starts: list[int] = []
        points: list[tuple[int, int]] = []
        cursor = 0
        for index in range(a.line, b.line + 1):
            if index == a.line and node.style in ("|", ">"):
                continue
            line = self._line(index)
            lo = a.column if index == a.line else 0
            hi = b.column if index == b.line else len(line)
            content = line[lo:hi]
            stripped = content.strip().strip("'\"" if index in (a.line, b.line) and node.style in ("'", '"') else "")
            if not stripped:
                continue
            found = value.find(stripped, cursor)
            if found < 0:
                continue
            starts.append(found)
            points.append((index + 1, lo + content.index(stripped) + 1))
            cursor = found + len(stripped)
        if not starts:
            return None

        def locate(k: int) -> tuple[int, int]:
            i = max(0, bisect_right(starts, k) - 1)
            line, col = points[i]
            return line, col + max(0, k - starts[i])

        return locate

    def tok(self, node: yaml.Node, text: str | None = None, offsets: _OffsetMap | None = None) -> Tok:
        """A Tok for a scalar; ``offsets`` maps a substituted text back to the written one."""
        value = self.text(node) or ""
        final = value if text is None else text
        locate = self.locator(node)
        if locate is not None and final != value:
            locate = offsets.compose(locate) if offsets is not None else None
        return Tok(final, self.loc(node), locate)


class _OffsetMap:
    """Offsets in a substituted text -> offsets in the original (a reference maps to its start)."""

    def __init__(self) -> None:
        self.new_starts: list[int] = []
        self.old_starts: list[int] = []
        self.literal: list[bool] = []

    def add(self, new: int, old: int, literal: bool) -> None:
        self.new_starts.append(new)
        self.old_starts.append(old)
        self.literal.append(literal)

    def old(self, k: int) -> int:
        i = max(0, bisect_right(self.new_starts, k) - 1)
        if not self.new_starts:
            return k
        return self.old_starts[i] + (k - self.new_starts[i] if self.literal[i] else 0)

    def compose(self, locate: Locator) -> Locator:
        return lambda k: locate(self.old(k))


def _subst(text: str, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> tuple[str, _OffsetMap]:
    out: list[str] = []
    offsets = _OffsetMap()
    new = old = 0
    for match in pattern.finditer(text):
        if match.start() > old:
            offsets.add(new, old, True)
            out.append(text[old : match.start()])
            new += match.start() - old
        replacement = repl(match)
        offsets.add(new, match.start(), replacement == match.group(0))
        out.append(replacement)
        new += len(replacement)
        old = match.end()
    offsets.add(new, old, True)
    out.append(text[old:])
    return "".join(out), offsets


def _walk(root: yaml.Node, budget: Budget) -> Iterator[tuple[yaml.Node, tuple[str, ...]]]:
    """Every node once (aliases are shared objects), with the mapping keys leading to it."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, keys = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        budget.spend()
        yield node, keys
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, yaml.ScalarNode) else ""
                stack.append((value, keys + (str(name),)))
        elif isinstance(node, yaml.SequenceNode):
            for value in reversed(node.value):
                stack.append((value, keys))


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _is_template_path(path: str) -> bool:
    return "templates" in Path(path).parts


# PyYAML's C composer recurses once per nesting level and takes the process down (a segfault)
# somewhere past 20,000 levels on an 8 MB stack (about 380 bytes a level); the pure-Python one
# raises RecursionError at ~300. Real manifests nest a few dozen levels deep.
MAX_NESTING = 1000
_BLOCK_INDICATOR = re.compile(r"[-?][ \t\r\n]")
# A text whose bound is over MAX_NESTING but under _DEEP_BOUND is composed on a thread with a
# stack of _DEEP_STACK bytes (room for about 350,000 levels), and its depth is then read from
# the nodes; only a text past _DEEP_BOUND is first parsed for its depth (events, no recursion).
# That first parse was a third of the time of a long file (a 2.4 MB model catalog: 0.3 s).
_DEEP_BOUND = 100_000
_DEEP_STACK = 128 * 1024 * 1024


def _nesting_bound(text: str) -> int:
    """An upper bound on the nesting depth, from counts alone: every flow level opens with a
    bracket or brace, and every block level starts a new line or follows a ``- `` / ``? ``."""
    return text.count("[") + text.count("{") + text.count("\n") + len(_BLOCK_INDICATOR.findall(text)) + 1


def _too_deep(line: int) -> ExtractError:
    return ExtractError(f"invalid YAML: nested more than {MAX_NESTING} levels deep", line)


def _check_nesting(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):  # the C parser keeps its own stack: no recursion
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep(event.start_mark.line + 1 if event.start_mark is not None else 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_node_nesting(roots: list[yaml.Node]) -> None:
    """The depth check of _check_nesting on composed nodes. Depth-first in document order, each
    node once: an anchor comes before its aliases, so a shared node is met where it is written
    (and an alias bomb costs its size as written, not expanded)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1) for root in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or isinstance(node, yaml.ScalarNode):
            continue
        seen.add(id(node))
        if depth > MAX_NESTING:
            raise _too_deep(node.start_mark.line + 1 if node.start_mark is not None else 1)
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
        stack.extend((child, depth + 1) for child in reversed(children))


def _compose_all(text: str) -> list[yaml.Node]:
    return [doc for doc in yaml.compose_all(text, Loader=_Loader) if doc is not None]


def _on_deep_stack(text: str) -> list[yaml.Node] | None:
    """_compose_all on a thread with a deep stack; None where such a thread cannot be had."""
    import threading

    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(_compose_all(text))
        except BaseException as exc:  # noqa: BLE001 - handed back to the calling thread
            outcome.append(exc)

    try:
        previous = threading.stack_size(_DEEP_STACK)
    except (ValueError, RuntimeError):
        return None
    try:
        thread = threading.Thread(target=run, name="ecolint-yaml", daemon=True)
        thread.start()
    except RuntimeError:
        return None
    finally:
        threading.stack_size(previous)
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]  # type: ignore[return-value]


def compose(text: str) -> list[yaml.Node]:
    try:
        bound = _nesting_bound(text)
        if bound <= MAX_NESTING:
            return _compose_all(text)
        roots = _on_deep_stack(text) if bound <= _DEEP_BOUND else None
        if roots is None:
            _check_nesting(text)
            return _compose_all(text)
        _check_node_nesting(roots)
        return roots
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ExtractError(f"invalid YAML: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise ExtractError(f"invalid YAML: {exc}", 1) from None
    except RecursionError:
        raise ExtractError("invalid YAML: nesting too deep", 1) from None


def extract(path: str, text: str, context: ExtractContext | None) -> list[Setup]:
    """Setups in a YAML file; ExtractError for YAML that does not parse (Go templates excepted)."""
    if "{{" in text and _is_template_path(path):
        return []  # a Helm template is Go text that only becomes YAML when rendered
    try:
        roots = compose(_without_crds(text))
    except ExtractError:
        if "{{" in text:
            return []
        raise
    hf_format_written = "huggingface" in text and kserve_hf_format(text.encode("utf-8", "surrogatepass"))
    doc = Doc(
        path,
        [line.rstrip("\r") for line in text.split("\n")],
        Budget(len(text)),
        context,
        hf_format_written=hf_format_written,
    )
    roots = [root for root in roots if doc.text(doc.get(root, "kind")) != "CustomResourceDefinition"]
    if _is_workflow(path, roots, doc):
        return _workflow(roots, doc)
    platform = _platform_setups(roots, doc)
    if platform is not None:
        return platform
    setups: list[Setup] = []
    for root in roots:
        if _is_compose(root, doc):
            setups.extend(_compose_file(root, doc))
    if setups:
        return setups
    configmaps = _configmaps(roots, doc)
    k8s: list[Setup] = []
    for root in roots:
        k8s.extend(_kubernetes(root, doc, configmaps))
    if k8s:
        return k8s
    return _helm_values(roots, doc)


def _platform_setups(roots: list[yaml.Node], doc: Doc) -> list[Setup] | None:
    """Setups of a deployment platform's own file (ecolint/extract/platforms), None for none.
    Imported here, not at the top: the platform readers build on this module."""
    from ecolint.extract.platforms import dstack, kubeai, rayserve, skypilot

    for platform in (kubeai, skypilot, dstack, rayserve):
        found = platform.setups(roots, doc)
        if found is not None:
            return found
    return None


# A CustomResourceDefinition is an API's schema, never a workload: its "containers" are property
# descriptions. Generated ones run to megabytes (kserve's are 1-3 MB): each CRD document is
# recognised from its top-level kind/apiVersion lines and emptied before composing; one that
# cannot be recognised that way is dropped once composed.
_TOP_LEVEL_CRD = re.compile(r"^kind:[ \t]*['\"]?CustomResourceDefinition['\"]?[ \t]*\r?$", re.MULTILINE)
_TOP_LEVEL_APIEXTENSIONS = re.compile(r"^apiVersion:[ \t]*['\"]?apiextensions\.k8s\.io/", re.MULTILINE)
_MARKER_LINE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:#[^\n]*)?\r?(?:\n|\Z)", re.MULTILINE)
_LINE_CONTENT = re.compile("[^\r\n\x85\u2028\u2029]+")  # all but YAML's line breaks


def _without_crds(text: str) -> str:
    """The text with every CRD document emptied but for its line breaks, so line numbers stay:
    an install bundle of 3.5 MB is mostly CRDs around a few Deployments."""
    if not _TOP_LEVEL_CRD.search(text) or _lone_cr(text):
        return text
    bounds = [0, *(match.end() for match in _MARKER_LINE.finditer(text)), len(text)]
    parts = []
    for start, end in itertools.pairwise(bounds):
        chunk = text[start:end]  # one document and the marker line that ends it
        if _TOP_LEVEL_CRD.search(chunk) and _TOP_LEVEL_APIEXTENSIONS.search(chunk):
            marker = _MARKER_LINE.search(chunk)
            cut = marker.start() if marker else len(chunk)
            chunk = _LINE_CONTENT.sub("", chunk[:cut]) + chunk[cut:]
        parts.append(chunk)
    return "".join(parts)


def _lone_cr(text: str) -> bool:
    """Line breaks these line-based looks cannot see (a bare carriage return): read it all."""
    return "\r" in text and "\r" in text.replace("\r\n", "")


# --------------------------------------------------------------------------------------------
# docker-compose
# --------------------------------------------------------------------------------------------

_INTERP = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def _is_compose(root: yaml.Node, doc: Doc) -> bool:
    services = doc.get(root, "services")
    if not isinstance(services, yaml.MappingNode):
        return False
    for _, service in doc.items(services):
        if any(doc.get(service, k) is not None for k in ("image", "build", "command", "entrypoint")):
            return True
    return False


def _interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose interpolation; an unknown variable keeps its ``${…}`` text (value unknown here)."""

    def repl(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, word = match.group(2), match.group(3) or ""
        value = variables.get(name)
        if op in (":-", "-"):
            empty = value is None or (op == ":-" and value == "")
            return _interpolate(word, variables) if empty else value or ""
        if op in (":+", "+"):
            empty = value is None or (op == ":+" and value == "")
            return "" if empty else _interpolate(word, variables)
        return whole if value is None else value

    return _INTERP.sub(repl, text)


def _dotenv(doc: Doc) -> dict[str, str]:
    if doc.context is None:
        return {}
    env_path = Path(doc.path).parent / ".env"

    def read() -> dict[str, str]:
        text = _read(doc, env_path)
        return parse_env_file(text) if text else {}

    variables = doc.context.cached(("dotenv", str(env_path)), read)
    return dict(variables) if isinstance(variables, dict) else {}


def _read(doc: Doc, rel: Path) -> str | None:
    if doc.context is None:
        return None
    candidates = [rel]
    if not rel.is_absolute():
        candidates.append(doc.context.root / rel)
    for candidate in candidates:
        try:
            text = doc.context.read(candidate)
        except Exception:  # noqa: BLE001 - an odd path is the reader's problem, not a crash of ours
            text = None
        if text is not None:
            return text
    return None


def command_toks(node: yaml.Node | None, doc: Doc, variables: dict[str, str]) -> list[Tok] | None:
    """A compose / k8s command: a list of strings, or a string split like a shell would."""
    if node is None or (doc.text(node) is None and not isinstance(node, yaml.SequenceNode)):
        return None
    toks: list[Tok] = []
    if isinstance(node, yaml.SequenceNode):
        for item in doc.seq(node):
            value = doc.text(item)
            if value is not None:
                toks.append(doc.tok(item, _interpolate(value, variables)))
        return toks
    raw = doc.text(node) or ""
    locate = doc.locator(node)
    loc = doc.loc(node)
    for word, start, end in raw_words(raw):
        try:
            values = shlex.split(_interpolate(word, variables), posix=True)
        except ValueError:
            continue
        if locate is not None:
            a, b = locate(start), locate(end)
            word_loc = Location(doc.path, a[0], a[1], b[0], b[1]) if a and b else loc
        else:
            word_loc = loc
        toks.extend(Tok(value, word_loc) for value in values)
    return toks


def _compose_env(service: yaml.Node, doc: Doc, variables: dict[str, str]) -> dict[str, EnvVal]:
    env: dict[str, EnvVal] = {}
    for item in _as_list(doc.get(service, "env_file"), doc):
        rel = doc.text(item) or doc.text(doc.get(item, "path"))
        if not rel:
            continue
        text = _read(doc, Path(doc.path).parent / _interpolate(rel, variables))
        for key, value in parse_env_file(text or "").items():
            env[key] = EnvVal(value, doc.loc(item))
    environment = doc.get(service, "environment")
    if isinstance(environment, yaml.SequenceNode):
        for item in doc.seq(environment):
            entry = doc.text(item)
            if entry and "=" in entry:
                key, _, value = entry.partition("=")
                env[key.strip()] = EnvVal(_interpolate(value, variables), doc.loc(item))
    for key_node, value_node in doc.items(environment):
        text = doc.text(value_node)
        if text is not None and isinstance(key_node, yaml.ScalarNode):
            env[key_node.value] = EnvVal(_interpolate(text, variables), doc.key_loc(key_node, value_node))
    return env


def _as_list(node: yaml.Node | None, doc: Doc) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return doc.seq(node)
    return [node] if node is not None else []


def _compose_file(root: yaml.Node, doc: Doc) -> list[Setup]:
    variables = _dotenv(doc)
    setups: list[Setup] = []
    for key, service in doc.items(doc.get(root, "services")):
        name = doc.text(key) or ""
        image_node = doc.get(service, "image")
        image = None
        if doc.text(image_node) is not None:
            image = doc.tok(image_node, _interpolate(doc.text(image_node) or "", variables))  # type: ignore[arg-type]
        entrypoint = command_toks(doc.get(service, "entrypoint"), doc, variables)
        command = command_toks(doc.get(service, "command"), doc, variables)
        env = _compose_env(service, doc, variables)
        setups.extend(
            container_setups(
                image, entrypoint, command, env, path=doc.path, kind="yaml", label=name, run_script=setups_from_script
            )
        )
        if entrypoint is None and command and is_collecting_invocations():
            setups.extend(_built_image_invocations(service, doc, command, env, name))
    return setups


def _built_image_invocations(
    service: yaml.Node, doc: Doc, command: list[Tok], env: dict[str, EnvVal], name: str
) -> list[Setup]:
    """A service that builds its image (``build: .``) and gives only a ``command:``: the
    Dockerfile's ENTRYPOINT runs it (``ENTRYPOINT ["python3"]`` + ``command: generate.py --x``).
    The scripts it runs, as files of the build context seen from this file, located at the
    command (the invocation pass only)."""
    from ecolint.extract import dockerfile

    build = doc.get(service, "build")
    context_dir = doc.text(build) if isinstance(build, yaml.ScalarNode) else doc.text(doc.get(build, "context"))
    dockerfile_name = None if isinstance(build, yaml.ScalarNode) else doc.text(doc.get(build, "dockerfile"))
    if context_dir is None or "$" in context_dir or (dockerfile_name and "$" in dockerfile_name):
        return []
    here = posixpath.dirname(doc.path)
    written = posixpath.normpath(posixpath.join(here, context_dir, dockerfile_name or "Dockerfile"))
    text = _read(doc, Path(written))
    if text is None:
        return []
    found = dockerfile.invocations_of_built_image(written, text, doc.context, command, name)
    for setup in found:
        script = setup.facts[INVOKED_SCRIPT]
        relative = posixpath.normpath(posixpath.join(context_dir, str(script.value)))
        setup.facts[INVOKED_SCRIPT] = dataclasses.replace(script, value=relative)
        setup.origin = command[0].loc or setup.origin
    return found


# --------------------------------------------------------------------------------------------
# Kubernetes
# --------------------------------------------------------------------------------------------

# Node labels that name a GPU model: GPU Feature Discovery, GKE, Karpenter on AWS, EKS, AMD's
# device plugin labeller, and the plain ``accelerator`` label of many cluster guides.
GPU_LABELS = (
    "nvidia.com/gpu.product",
    "cloud.google.com/gke-accelerator",
    "karpenter.k8s.aws/instance-gpu-name",
    "k8s.amazonaws.com/accelerator",
    "amd.com/gpu.product-name",
    "nvidia.com/gpu.family",
    "accelerator",
)


@dataclass
class _ConfigMap:
    data: dict[str, tuple[str, Location]] = field(default_factory=dict)
    same_file: bool = True


def _configmaps(roots: list[yaml.Node], doc: Doc, same_file: bool = True) -> dict[str, _ConfigMap]:
    found: dict[str, _ConfigMap] = {}
    for root in roots:
        if doc.text(doc.get(root, "kind")) != "ConfigMap":
            continue
        name = doc.text(doc.get(doc.get(root, "metadata"), "name"))
        if not name:
            continue
        cm = _ConfigMap(same_file=same_file)
        for key, value in doc.items(doc.get(root, "data")):
            text = doc.text(value)
            if text is not None and isinstance(key, yaml.ScalarNode):
                cm.data[key.value] = (text, doc.key_loc(key, value))
        found[name] = cm
    return found


def _sibling_configmaps(doc: Doc) -> dict[str, _ConfigMap]:
    """ConfigMaps defined in the other YAML files of this file's directory (read once per run)."""
    if doc.context is None:
        return {}
    directory = Path(doc.path).parent
    context = doc.context

    def collect() -> dict[str, _ConfigMap]:
        found: dict[str, _ConfigMap] = {}
        # A relative path is relative to the working directory (the engine's display path);
        # fall back to the scan root for callers that pass root-relative paths.
        bases = [directory] if directory.is_absolute() else [directory, context.root / directory]
        names: list[str] = []
        for base in bases:
            listed = context.list_dir(base)
            if listed is None:
                continue
            names = [name for name in listed if Path(name).suffix in (".yaml", ".yml")]
            break
        for name in names[:200]:
            text = _read(doc, directory / name)
            if not text or "ConfigMap" not in text:
                continue
            try:
                roots = compose(text)
            except ExtractError:
                continue
            other = Doc(str(directory / name), text.split("\n"), Budget(len(text)), None)
            try:
                found.update(_configmaps(roots, other, same_file=False))
            except ExtractError:
                continue
        return found

    return context.cached(("configmaps", str(directory)), collect)  # type: ignore[return-value]


_K8S_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _k8s_expand(text: str, env: dict[str, EnvVal]) -> str:
    return _k8s_expand_map(text, env)[0]


def _k8s_expand_map(text: str, env: dict[str, EnvVal]) -> tuple[str, _OffsetMap]:
    """``$(VAR)`` from the container's env, ``$$`` escapes; unknown references stay as written."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        value = env.get(match.group(1))
        return value.value if value is not None else match.group(0)

    return _subst(text, _K8S_VAR, repl)


def _container_env(container: yaml.Node, doc: Doc, configmaps: dict[str, _ConfigMap]) -> dict[str, EnvVal]:
    env: dict[str, EnvVal] = {}
    for entry in doc.seq(doc.get(container, "envFrom")):
        pair = doc.pair(entry, "configMapRef")
        name = doc.text(doc.get(pair[1], "name")) if pair else None
        cm = _lookup_configmap(name, doc, configmaps)
        if cm is None or pair is None:
            continue
        prefix = doc.text(doc.get(entry, "prefix")) or ""
        for data_key, (data_value, data_loc) in cm.data.items():
            env[prefix + data_key] = EnvVal(data_value, data_loc if cm.same_file else doc.loc(pair[0]))
    for entry in doc.seq(doc.get(container, "env")):
        name_pair = doc.pair(entry, "name")
        if name_pair is None or doc.text(name_pair[1]) is None:
            continue
        name = doc.text(name_pair[1]) or ""
        value = doc.text(doc.get(entry, "value"))
        loc = doc.key_loc(*name_pair)
        if value is not None:
            env[name] = EnvVal(_k8s_expand(value, env), loc)
            continue
        ref = doc.get(doc.get(entry, "valueFrom"), "configMapKeyRef")
        cm = _lookup_configmap(doc.text(doc.get(ref, "name")), doc, configmaps)
        key = doc.text(doc.get(ref, "key"))
        if cm is not None and key in cm.data:
            value, cm_loc = cm.data[key]
            env[name] = EnvVal(value, cm_loc if cm.same_file else loc)
    return env


def _lookup_configmap(name: str | None, doc: Doc, configmaps: dict[str, _ConfigMap]) -> _ConfigMap | None:
    if not name:
        return None
    if name in configmaps:
        return configmaps[name]
    return _sibling_configmaps(doc).get(name)


def _k8s_toks(node: yaml.Node | None, doc: Doc, env: dict[str, EnvVal]) -> list[Tok] | None:
    if node is None:
        return None
    toks: list[Tok] = []
    for item in _as_list(node, doc):
        value = doc.text(item)
        if value is not None:
            expanded, offsets = _k8s_expand_map(value, env)
            toks.append(doc.tok(item, expanded, offsets))
    return toks


def _gpu(pod: yaml.Node, doc: Doc) -> tuple[str, Location] | None:
    for key, value in doc.items(doc.get(pod, "nodeSelector")):
        if isinstance(key, yaml.ScalarNode) and key.value in GPU_LABELS and doc.text(value):
            return doc.text(value) or "", doc.key_loc(key, value)
    affinity = doc.get(doc.get(pod, "affinity"), "nodeAffinity")
    required = doc.get(doc.get(affinity, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms")
    terms: list[yaml.Node | None] = list(doc.seq(required))
    terms += [
        doc.get(p, "preference") for p in doc.seq(doc.get(affinity, "preferredDuringSchedulingIgnoredDuringExecution"))
    ]
    for term in terms:
        for expr in doc.seq(doc.get(term, "matchExpressions")):
            key_pair = doc.pair(expr, "key")
            if key_pair is None or doc.text(key_pair[1]) not in GPU_LABELS:
                continue
            if (doc.text(doc.get(expr, "operator")) or "In") != "In":
                continue
            values = [doc.text(v) for v in doc.seq(doc.get(expr, "values")) if doc.text(v)]
            if values:
                return values[0] or "", doc.loc(key_pair[1])
    return None


def _kubernetes(root: yaml.Node, doc: Doc, configmaps: dict[str, _ConfigMap]) -> list[Setup]:
    kind = doc.text(doc.get(root, "kind")) or "Pod"
    name = doc.text(doc.get(doc.get(root, "metadata"), "name")) or "?"
    setups: list[Setup] = []
    for node, _ in doc.walk(root):
        if not isinstance(node, yaml.MappingNode):
            continue
        containers = doc.get(node, "containers")
        if not isinstance(containers, yaml.SequenceNode):
            continue
        gpu = _gpu(node, doc)
        for container in doc.seq(containers) + doc.seq(doc.get(node, "initContainers")):
            setups.extend(_container(container, doc, configmaps, f"{kind}/{name}", gpu))
    if kind == "InferenceService":
        setups.extend(_kserve_model(doc.get(doc.get(root, "spec"), "predictor"), doc, configmaps, f"{kind}/{name}"))
    return setups


_HF_URI = re.compile(r"hf://([^/\s:@]+/[^/\s:@]+)")


def _kserve_model(predictor: yaml.Node | None, doc: Doc, configmaps: dict[str, _ConfigMap], owner: str) -> list[Setup]:
    """KServe's ``predictor.model`` with the HuggingFace runtime: its server runs vLLM unless
    ``--backend=huggingface`` says otherwise, and hands vLLM the engine flags among ``args``.
    The model is ``--model_id``, else the ``hf://`` storageUri (kserve huggingfaceserver)."""
    model = doc.get(predictor, "model")
    model_format = doc.text(doc.get(doc.get(model, "modelFormat"), "name"))
    if not isinstance(model, yaml.MappingNode) or model_format != "huggingface" or not doc.hf_format_written:
        return []  # (the prefilter keeps only files that spell the format as kserve_hf_format reads it)
    if doc.get(predictor, "containers") is not None:
        return []  # a container of the predictor's own says what runs; it is read as a container
    env = _container_env(model, doc, configmaps)
    args = _k8s_toks(doc.get(model, "args"), doc, env) or []
    words = [tok.text for tok in args]
    backend = next((w.split("=", 1)[1] for w in words if w.startswith("--backend=")), None)
    if "--backend" in words[:-1]:
        backend = words[words.index("--backend") + 1]
    if backend not in (None, "vllm", "auto"):
        return []  # the transformers backend: not read here
    origin = doc.loc(doc.pair(predictor, "model")[0])  # type: ignore[index]
    head = [Tok(word, origin) for word in HEADS["vllm"]]
    argv = [_as_vllm_model_flag(tok) for tok in args]
    uri = doc.get(model, "storageUri")
    found = _HF_URI.match(doc.text(uri) or "")
    if found and uri is not None and not any(tok.text.split("=", 1)[0] == "--model" for tok in argv):
        head.append(Tok(found.group(1), doc.loc(uri)))
    setups = interpret(
        head + argv,
        env,
        path=doc.path,
        kind="yaml",
        origin=origin,
        label=f"{owner}/predictor",
        run_script=setups_from_script,
    )
    return _on_gpu(setups, _gpu(predictor, doc))  # type: ignore[arg-type]


def _as_vllm_model_flag(tok: Tok) -> Tok:
    """KServe's ``--model_id`` (``--model-id``, ``=value`` or not) is vLLM's ``--model``."""
    name, eq, value = tok.text.partition("=")
    if name not in ("--model_id", "--model-id"):
        return tok
    return Tok("--model" + eq + value, tok.loc, tok.locate)


def _on_gpu(setups: list[Setup], gpu: tuple[str, Location] | None) -> list[Setup]:
    """The setups of a pod whose node selector names a GPU, with that GPU."""
    if gpu is not None:
        for setup in setups:
            setup.set(GPU, gpu[0], gpu[1], PLATFORM + "nodeSelector")
    return setups


def _container(
    container: yaml.Node, doc: Doc, configmaps: dict[str, _ConfigMap], owner: str, gpu: tuple[str, Location] | None
) -> list[Setup]:
    cname = doc.text(doc.get(container, "name")) or "?"
    env = _container_env(container, doc, configmaps)
    image_node = doc.get(container, "image")
    image = doc.tok(image_node) if doc.text(image_node) is not None else None  # type: ignore[arg-type]
    command = _k8s_toks(doc.get(container, "command"), doc, env)
    args = _k8s_toks(doc.get(container, "args"), doc, env)
    return _on_gpu(
        container_setups(
            image,
            command,
            args,
            env,
            path=doc.path,
            kind="yaml",
            label=f"{owner}/{cname}",
            run_script=setups_from_script,
        ),
        gpu,
    )


# --------------------------------------------------------------------------------------------
# GitHub Actions workflows
# --------------------------------------------------------------------------------------------


def _is_workflow(path: str, roots: list[yaml.Node], doc: Doc) -> bool:
    if len(roots) != 1:
        return False
    jobs = doc.get(roots[0], "jobs")
    if not isinstance(jobs, yaml.MappingNode):
        return False
    if ".github/workflows" in Path(path).as_posix():
        return True
    return any(doc.get(job, "runs-on") is not None or doc.get(job, "steps") is not None for _, job in doc.items(jobs))


def _env_block(node: yaml.Node | None, doc: Doc, base: dict[str, EnvVal]) -> dict[str, EnvVal]:
    env = dict(base)
    for key, value in doc.items(node):
        text = doc.text(value)
        if text is not None and isinstance(key, yaml.ScalarNode):
            env[key.value] = EnvVal(_gh_expand(text, env), doc.key_loc(key, value))
    return env


_GH_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def _gh_expand(text: str, env: dict[str, EnvVal]) -> str:
    def repl(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr.startswith("env.") and expr[4:] in env:
            return env[expr[4:]].value
        return match.group(0)

    return _GH_EXPR.sub(repl, text)


_MAX_COMBINATIONS = 16  # matrix combinations read one by one; past that, none is (values unknown)


def _matrix_combinations(job: yaml.Node, doc: Doc) -> list[dict[str, str]]:
    """The ``matrix.x`` values the job's steps see, one dict per run of the job. A key with one
    value is as good as a constant; keys with several values that the job refers to give one
    run per combination (GitHub runs the job once for each), so one setup per value."""
    single: dict[str, str] = {}
    several: dict[str, list[str]] = {}
    for key, value in doc.items(doc.get(doc.get(job, "strategy"), "matrix")):
        items = doc.seq(value) if isinstance(value, yaml.SequenceNode) else [value]
        texts = [doc.text(v) for v in items]
        if not isinstance(key, yaml.ScalarNode) or not texts or any(text is None for text in texts):
            continue  # include / exclude, nested values, expressions: not read
        if len(texts) == 1:
            single[key.value] = texts[0] or ""
        else:
            several[key.value] = [text or "" for text in texts]
    used = {key: values for key, values in several.items() if _refers_to_matrix(job, key, doc)}
    combinations = [dict(zip(used, values, strict=True)) for values in itertools.product(*used.values())]
    if not single and not several:
        combinations = _included(job, doc) or combinations
    if len(combinations) > _MAX_COMBINATIONS:
        combinations = [{}]
    return [{**single, **combination} for combination in combinations]


def _included(job: yaml.Node, doc: Doc) -> list[dict[str, str]]:
    """A matrix of ``include:`` entries only: GitHub runs each entry as a combination ("if you
    don't specify any matrix variables, all configurations under include will run"). Read
    where the job refers to one of their keys; with other matrix keys, include merges into
    their combinations by rules not followed here."""
    entries = []
    for entry in doc.seq(doc.get(doc.get(doc.get(job, "strategy"), "matrix"), "include")):
        values = {doc.text(k) or "": doc.text(v) for k, v in doc.items(entry)}
        entries.append({key: value for key, value in values.items() if value is not None})
    if not any(_refers_to_matrix(job, key, doc) for entry in entries for key in entry):
        return []
    return entries


def _refers_to_matrix(job: yaml.Node, key: str, doc: Doc) -> bool:
    pattern = re.compile(r"\$\{\{[^}]*\bmatrix\." + re.escape(key) + r"(?![\w-])")
    return any(pattern.search(doc.text(node) or "") for node, _ in doc.walk(job))


def _runner_labels(job: yaml.Node, matrix: dict[str, str], doc: Doc) -> tuple[tuple[str, ...], Location] | None:
    """The labels of ``runs-on`` (a label, a list, or ``{group, labels}``), matrix values put in;
    a label that stays an expression is dropped."""
    pair = doc.pair(job, "runs-on")
    if pair is None:
        return None
    node = pair[1]
    nodes: list[yaml.Node | None] = []
    if isinstance(node, yaml.MappingNode):
        labels_node = doc.get(node, "labels")
        nodes += doc.seq(labels_node) if isinstance(labels_node, yaml.SequenceNode) else [labels_node]
        nodes.append(doc.get(node, "group"))
    else:
        nodes += doc.seq(node) if isinstance(node, yaml.SequenceNode) else [node]

    def value(match: re.Match[str]) -> str:
        scope, _, name = match.group(1).partition(".")
        return matrix.get(name, match.group(0)) if scope == "matrix" else match.group(0)

    labels = [_GH_EXPR.sub(value, doc.text(n) or "") for n in nodes if n is not None]
    labels = [label for label in labels if label and "${{" not in label and not _GENERIC_RUNNER.match(label)]
    return (tuple(labels), doc.key_loc(*pair)) if labels else None


# Labels that never name a GPU: GitHub-hosted images, and the default labels of a self-hosted
# runner (GitHub docs, "Using labels with self-hosted runners": self-hosted, the OS, the arch).
_GENERIC_RUNNER = re.compile(
    r"(?i)^(ubuntu|windows|macos)(-[\w.]+)*$|^(self-hosted|linux|windows|macos|x64|arm|arm64)$"
)


def _workflow(roots: list[yaml.Node], doc: Doc) -> list[Setup]:
    root = roots[0]
    workflow_env = _env_block(doc.get(root, "env"), doc, {})
    setups: list[Setup] = []
    for job_key, job in doc.items(doc.get(root, "jobs")):
        job_env = _env_block(doc.get(job, "env"), doc, workflow_env)
        runs = _matrix_combinations(job, doc)
        keys = list(dict.fromkeys(key for run in runs for key in run))
        varying = [key for key in keys if len({run.get(key) for run in runs}) > 1 and _refers_to_matrix(job, key, doc)]
        varying = varying[:2]  # a label names its run; two keys tell the runs of real matrices apart
        for matrix in runs:
            job_name = doc.text(job_key) or "?"
            if varying:
                job_name += "[" + ", ".join(f"{key}={matrix.get(key, '')}" for key in varying) + "]"
            found = _workflow_services(job, job_name, doc)
            for index, step in enumerate(doc.seq(doc.get(job, "steps"))):
                found.extend(_workflow_step(step, index, job_name, job_env, matrix, doc))
            setups.extend(_on_runner(found, _runner_labels(job, matrix, doc)))
    return setups


def _on_runner(setups: list[Setup], labels: tuple[tuple[str, ...], Location] | None) -> list[Setup]:
    """The setups of a job's steps, with the runner labels the job asks for: resolve.py reads a
    GPU from the label that names one (``[self-hosted, gpu-a100]``, ``linux-t4``)."""
    if labels is not None:
        for setup in setups:
            setup.set(RUNNER_LABELS, labels[0], labels[1], "runs-on")
    return setups


def _workflow_services(job: yaml.Node, job_name: str, doc: Doc) -> list[Setup]:
    setups: list[Setup] = []
    services = [(doc.text(k) or "?", v) for k, v in doc.items(doc.get(job, "services"))]
    container = doc.get(job, "container")
    if container is not None:
        services.append(("container", container))
    for name, service in services:
        image_node = doc.get(service, "image") if isinstance(service, yaml.MappingNode) else service
        if image_node is None or doc.text(image_node) is None:
            continue
        env = _env_block(doc.get(service, "env"), doc, {})
        setups.extend(
            container_setups(
                doc.tok(image_node), None, None, env, path=doc.path, kind="yaml", label=f"{job_name}/{name}"
            )
        )
    return setups


def _workflow_step(
    step: yaml.Node, index: int, job_name: str, job_env: dict[str, EnvVal], matrix: dict[str, str], doc: Doc
) -> list[Setup]:
    run = doc.get(step, "run")
    if run is None or doc.text(run) is None:
        return []
    shell = (doc.text(doc.get(step, "shell")) or "bash").split()[0]
    if shell in ("python", "pwsh", "powershell", "cmd"):
        return []
    env = _env_block(doc.get(step, "env"), doc, job_env)
    label = f"{job_name}/{doc.text(doc.get(step, 'name')) or doc.text(doc.get(step, 'id')) or index}"

    def resolve(expr: str) -> str | None:
        scope, _, name = expr.partition(".")
        if scope == "env" and name in env:
            return env[name].value
        if scope == "matrix" and name in matrix:
            return matrix[name]
        return None

    script = doc.text(run) or ""
    return setups_from_text(
        script,
        doc.path,
        locate=doc.script_locator(run),
        env=env,
        kind="yaml",
        label=label,
        context=doc.context,
        resolve_expr=resolve,
    )


# --------------------------------------------------------------------------------------------
# Helm values
# --------------------------------------------------------------------------------------------

_ARGS_KEYS = ("extraArgs", "args", "arguments", "serverArgs", "extra_args", "engineArgs", "additionalArgs", "vllmArgs")
_MODEL_KEYS = (
    "model",
    "modelName",
    "modelId",
    "model_id",
    "modelURL",
    "modelUrl",
    "modelPath",
    "model_name",
    "servedModelName",
    "modelID",
)


def _kebab(key: str) -> str:
    return "--" + re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", key).replace("_", "-").lower()


def _image_of(node: yaml.Node, doc: Doc) -> str | None:
    image = doc.get(node, "image")
    text = doc.text(image) or doc.text(doc.get(image, "repository")) or doc.text(doc.get(node, "repository"))
    return text


def _framework_of(chain: list[yaml.Node], keys: tuple[str, ...], doc: Doc, fallback: str | None) -> str | None:
    for node in reversed(chain):
        image = _image_of(node, doc)
        if image and image_framework(image):
            return image_framework(image)
    for key in reversed(keys):
        for word, framework in KEY_WORDS.items():
            if word in key:  # case-sensitive on purpose: these are the engine's trigger tokens
                return framework
    return fallback


_IMAGE_KEYS = ("image", "repository", "imageRepository", "imageName")


def _file_framework(root: yaml.Node, doc: Doc) -> str | None:
    """The one launcher every image named in the file runs, if there is exactly one."""
    found = set()
    for node, keys in doc.walk(root):
        text = doc.text(node)
        if text and keys and keys[-1] in _IMAGE_KEYS and image_framework(text):
            found.add(image_framework(text))
    return found.pop() if len(found) == 1 else None


def _helm_values(roots: list[yaml.Node], doc: Doc) -> list[Setup]:
    setups: list[Setup] = []
    for root in roots:
        fallback = _file_framework(root, doc)
        setups.extend(_helm_root(root, doc, fallback))
        setups.extend(_ollama_model_lists(root, doc))
    return setups


def _helm_root(root: yaml.Node, doc: Doc, fallback: str | None) -> list[Setup]:
    parents: dict[int, yaml.Node] = {}
    for node, _ in doc.walk(root):
        for _, child in doc.items(node) if isinstance(node, yaml.MappingNode) else []:
            parents.setdefault(id(child), node)
        for child in node.value if isinstance(node, yaml.SequenceNode) else []:
            parents.setdefault(id(child), node)
    setups: list[Setup] = []
    memo: dict[int, bool] = {}

    def candidate(node: yaml.Node) -> bool:
        if id(node) not in memo:
            memo[id(node)] = isinstance(node, yaml.MappingNode) and _is_candidate(node, doc)
        return memo[id(node)]

    for node, keys in doc.walk(root):
        if not candidate(node):
            continue
        chain = _chain(node, parents)
        if any(candidate(p) for p in chain[:-1]):
            continue  # folded into the outermost candidate
        framework = _framework_of(chain, keys, doc, fallback)
        if framework is None:
            continue
        setups.extend(_helm_setup(node, framework, doc, keys))
    return setups


def _chain(node: yaml.Node, parents: dict[int, yaml.Node]) -> list[yaml.Node]:
    chain = [node]
    while id(chain[-1]) in parents and len(chain) < 64:
        chain.append(parents[id(chain[-1])])
    return list(reversed(chain))


def _is_candidate(node: yaml.Node, doc: Doc) -> bool:
    for key, value in doc.items(node):
        name = doc.text(key)
        if name in _ARGS_KEYS and (isinstance(value, yaml.SequenceNode) or doc.text(value)):
            return True
        if name in _MODEL_KEYS and doc.text(value):
            return True
    return False


def _helm_setup(node: yaml.Node, framework: str, doc: Doc, keys: tuple[str, ...]) -> list[Setup]:
    label = ".".join(keys) or None
    if framework == "ollama":
        return _helm_ollama(node, doc, label)
    argv: list[Tok] = []
    env: dict[str, EnvVal] = {}
    origin = _helm_origin(node, doc)
    for member in _members(node, doc):
        for key, value in doc.items(member):
            name = doc.text(key) or ""
            if name in _MODEL_KEYS and doc.text(value) and not any(t.text == MODEL_FLAGS[framework] for t in argv):
                argv += [Tok(MODEL_FLAGS[framework], doc.loc(key)), doc.tok(value)]
            elif name in _ARGS_KEYS:
                argv += command_toks(value, doc, {}) or []
            elif name == "env":
                env.update(_helm_env(value, doc))
            elif isinstance(value, yaml.ScalarNode) and known_flag(framework, _kebab(name)):
                argv += _flag_from_key(key, value, name, doc)
    head = [Tok(word, origin) for word in HEADS[framework]]
    return interpret(
        head + argv, env, path=doc.path, kind="yaml", origin=origin, label=label, run_script=setups_from_script
    )


def _helm_origin(node: yaml.Node, doc: Doc) -> Location | None:
    """The model key of a values block, else its first argument list, else its first key."""
    pairs = doc.items(node)
    for wanted in (_MODEL_KEYS, _ARGS_KEYS):
        for key, _ in pairs:
            if doc.text(key) in wanted:
                return doc.loc(key)
    return doc.loc(pairs[0][0]) if pairs else None


def _members(node: yaml.Node, doc: Doc) -> list[yaml.Node]:
    """The candidate mapping and its nested config mappings (``vllmConfig:``, ``engine:`` …)."""
    members = [node]
    for key, value in doc.items(node):
        if isinstance(value, yaml.MappingNode) and (doc.text(key) or "") not in (
            "image",
            "resources",
            "env",
            "nodeSelector",
            "affinity",
        ):
            members.append(value)
    return members


def _flag_from_key(key: yaml.Node, value: yaml.Node, name: str, doc: Doc) -> list[Tok]:
    text = doc.text(value)
    loc = doc.key_loc(key, value)
    if text is None:
        return []
    if value.tag == "tag:yaml.org,2002:bool" or text.lower() in ("true", "false"):
        return [Tok(f"{_kebab(name)}={text.lower()}", loc)]
    return [Tok(_kebab(name), loc), Tok(text, loc)]


def _helm_env(node: yaml.Node, doc: Doc) -> dict[str, EnvVal]:
    env: dict[str, EnvVal] = {}
    for entry in doc.seq(node):
        pair = doc.pair(entry, "name")
        value = doc.text(doc.get(entry, "value"))
        if pair is not None and doc.text(pair[1]) and value is not None:
            env[doc.text(pair[1]) or ""] = EnvVal(value, doc.key_loc(*pair))
    for key_node, value_node in doc.items(node):
        if doc.text(value_node) is not None and isinstance(key_node, yaml.ScalarNode):
            env[key_node.value] = EnvVal(doc.text(value_node) or "", doc.key_loc(key_node, value_node))
    return env


def _helm_ollama(node: yaml.Node, doc: Doc, label: str | None) -> list[Setup]:
    """An Ollama chart's model: the deployed server serves it, so it reads as ``ollama run``
    (not ``pull``, which is only a download where a script writes it)."""
    setups: list[Setup] = []
    for key, value in doc.items(node):
        if doc.text(key) in _MODEL_KEYS and doc.text(value):
            setups += interpret(
                [Tok("ollama", doc.loc(key)), Tok("run", doc.loc(key)), doc.tok(value)],
                path=doc.path,
                kind="yaml",
                label=label,
            )
    return setups


def _ollama_model_lists(root: yaml.Node, doc: Doc) -> list[Setup]:
    """The ollama chart: ``ollama.models.pull: [tag, …]`` / ``models.run`` / ``models: [tag]``:
    models the chart's server pulls at startup and serves (otwld/ollama-helm values), read as
    ``ollama run``."""
    setups: list[Setup] = []
    for node, keys in doc.walk(root):
        if not isinstance(node, yaml.SequenceNode) or not keys or "ollama" not in [k.lower() for k in keys]:
            continue
        if keys[-1] not in ("pull", "run", "models", "create"):
            continue
        for item in doc.seq(node):
            tag = doc.text(item) or doc.text(doc.get(item, "name"))
            if tag:
                loc = doc.loc(item)
                setups += interpret(
                    [Tok("ollama", loc), Tok("run", loc), Tok(tag, loc)],
                    path=doc.path,
                    kind="yaml",
                    label=".".join(keys),
                )
    return setups
