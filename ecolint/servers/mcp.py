"""``ecolint mcp``: a Model Context Protocol server (the official ``mcp`` SDK, stdio) for AI agents.

Tools, each a thin call into what the command line runs, returning the same documents its
``--format json`` prints: ``check`` (the JSON report), ``explain``, ``advise``, ``compare`` and
``rule``. Read-only unless started with ``--allow-fix``, which adds ``fix``: ``apply=false``
returns the diff and its hash; ``apply=true`` with that hash writes exactly that diff, or refuses
when the files no longer give it.

Every path is confined to the roots the client declares (the working directory when it declares
none): a path outside them, or a symlink that leads out, is refused before anything is read, and
so is a request larger than the limits below. Inside a checked directory the walk itself never
follows a link out of the scanned tree (ecolint/discover.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import ListRoots, Resolve
from mcp.types import ListRootsResult, ToolAnnotations
from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12 (a dependency of pydantic)

from ecolint import __version__, knowledge

MAX_PATHS = 64  # paths in one request
MAX_PATH_CHARS = 4096
MAX_ITEMS = 16  # compare candidates, select codes
MAX_TEXT_CHARS = 256  # a GPU, model, precision or code as text

# -- what each tool returns: the JSON documents of the command line, as output schemas ----------
# Each names its documented keys and their types; deeper objects (a setup, an evidence row, an
# advisor table) stay objects. extra="allow": a key a later version adds is passed on, never
# dropped by the SDK's validation of the result. Numbers that may be whole are int | float, so
# that validation does not turn 523 into 523.0.

_OPEN = ConfigDict(extra="allow")
Number = int | float


@with_config(_OPEN)
class Overhead(TypedDict):
    min_pct: Number | None
    max_pct: Number | None


@with_config(_OPEN)
class FindingDoc(TypedDict):
    """One finding, as `ecolint check --format json` prints it (README "JSON output")."""

    code: str
    name: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Literal["error", "warning", "note"]
    confidence: int
    message: str
    overhead: Overhead | None
    setup: dict[str, Any]
    boundaries: list[str]
    notes: list[str]
    evidence: list[dict[str, Any]]
    fix: dict[str, Any] | None
    fingerprint: str


@with_config(_OPEN)
class FileErrorDoc(TypedDict):
    code: str
    path: str
    line: int
    message: str


@with_config(_OPEN)
class Summary(TypedDict):
    files_checked: int
    findings: int
    errors: int
    in_baseline: int
    below_confidence: int


@with_config(_OPEN)
class CheckResult(TypedDict):
    """The JSON report."""

    version: str
    findings: list[FindingDoc]
    errors: list[FileErrorDoc]
    summary: Summary


@with_config(_OPEN)
class ExplainedSetup(TypedDict, total=False):
    location: Any
    framework: str
    label: str | None
    from_code: Any
    advice: Any
    findings: list[Any]


@with_config(_OPEN)
class ExplainResult(TypedDict, total=False):
    """`ecolint explain --format json`: the advisory answer for each setup of the file."""

    version: str
    command: str
    path: str
    line: int | None
    setups: list[ExplainedSetup]
    findings: list[Any]
    footer: str


@with_config(_OPEN)
class AdviseResult(TypedDict, total=False):
    """`ecolint advise --format json`."""

    version: str
    command: str
    mode: str
    objective: str | None
    conclusion: str | None
    comparison: dict[str, Any] | None
    inputs: dict[str, Any]
    assumed: dict[str, Any]
    setup: dict[str, Any] | None
    baseline: dict[str, Any] | None
    recommended: dict[str, Any] | None
    options: list[Any]
    evidence: list[Any]
    confidence: dict[str, Any] | None
    config: dict[str, Any] | None
    risks: list[Any]
    boundaries: list[Any]
    questions: list[Any]
    verdict: Any
    footer: str


@with_config(_OPEN)
class CompareResult(TypedDict, total=False):
    """`ecolint compare --format json`: one column per candidate."""

    version: str
    command: str
    axis: str
    objective: str | None
    inputs: dict[str, Any]
    assumed: dict[str, Any]
    columns: list[dict[str, Any]]
    winners: dict[str, Any]
    overall: Any
    evidence: list[Any]
    questions: list[Any]
    footer: str


@with_config(_OPEN)
class RuleResult(TypedDict):
    code: str
    name: str
    default: bool
    severity: str
    summary: str
    fix_safety: str | None
    url: str | None
    documentation: str


@with_config(_OPEN)
class FixedFile(TypedDict):
    path: str
    fixed: list[str]  # CODE:LINE of each finding fixed


@with_config(_OPEN)
class FixResult(TypedDict):
    diff: str
    diff_hash: str
    files: list[FixedFile]
    applied: bool


READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Paths = Annotated[
    list[Annotated[str, Field(max_length=MAX_PATH_CHARS)]],
    Field(max_length=MAX_PATHS, description="Files or directories, relative to the working directory or absolute."),
]
Gpu = Annotated[str | None, Field(max_length=MAX_TEXT_CHARS, description="GPU, e.g. 'A100', 'RTX 4090D'.")]


class RefusedError(ToolError):
    """A request the server will not carry out; the message says why."""


def _client_roots(ctx: Context) -> ListRoots | ListRootsResult:
    """The client's roots when it declares the capability; none otherwise (then the working
    directory is the only root)."""
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.roots is None:
        return ListRootsResult(roots=[])
    return ListRoots()


Roots = Annotated[ListRootsResult, Resolve(_client_roots)]


def root_paths(roots: ListRootsResult, cwd: Path) -> list[Path]:
    found = []
    for root in roots.roots:
        uri = str(root.uri)
        if uri.startswith("file://"):
            from urllib.parse import unquote, urlparse

            found.append(Path(unquote(urlparse(uri).path)).resolve())
    return found or [cwd.resolve()]


def confined(paths: list[str], roots: list[Path], cwd: Path) -> list[Path]:
    """The paths, each checked to be inside a root once every symlink is resolved."""
    if not paths:
        raise RefusedError("no paths given")
    if len(paths) > MAX_PATHS:
        raise RefusedError(f"too many paths: {len(paths)} (at most {MAX_PATHS} a request)")
    checked = []
    for text in paths:
        if len(text) > MAX_PATH_CHARS or "\x00" in text:
            raise RefusedError(f"not a usable path: {text[:80]!r}")
        path = Path(text) if Path(text).is_absolute() else cwd / text
        real = path.resolve()
        if not any(real == root or root in real.parents for root in roots):
            where = ", ".join(str(root) for root in roots)
            link = " (a symlink that leads out of them)" if real != path.absolute() and path.is_symlink() else ""
            raise RefusedError(f"{text}: outside the allowed roots{link}: {where}")
        if not path.exists():
            raise RefusedError(f"{text}: no such file or directory")
        checked.append(path)
    return checked


class EcolintTools:
    """The tools' bodies, apart from the protocol so they read as what they do."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd.resolve()
        self.kb = knowledge.load()

    def check(self, paths: list[Path], select: list[str], gpu: str | None) -> dict[str, Any]:
        from ecolint.engine import run
        from ecolint.report.json import document
        from ecolint.servers.lint import config_for, selection_for

        with _as_tool_errors():
            config = config_for(paths[0])
            result = run(paths, self.kb, config, selection_for(self.kb, config, gpu, select), cwd=self.cwd)
        return document(result)

    def explain(self, path: Path, line: int | None, gpu: str | None, objective: str | None) -> dict[str, Any]:
        from ecolint.advisor.explain import answer, lint_findings
        from ecolint.engine import display_path, setups_in
        from ecolint.servers.lint import config_for

        if not path.is_file():
            raise RefusedError(f"explain reads one file, not a directory: {path} (use check for a tree)")
        with _as_tool_errors():
            config = config_for(path)
            found, errors = setups_in(path, self.kb, config, gpu=gpu)
            if errors:
                raise RefusedError(f"{errors[0].path}:{errors[0].line}: cannot be analysed: {errors[0].message}")
            findings = lint_findings(path, self.kb, config, gpu)
            return answer(found, findings, display_path(path, self.cwd), line, self.kb, config, objective=objective)

    def advise(self, **given: Any) -> dict[str, Any]:
        from ecolint.advisor.advise import advise

        with _as_tool_errors():
            return advise(self._inputs(**given), self.kb)

    def compare(self, candidates: list[str], **given: Any) -> dict[str, Any]:
        from ecolint.advisor.compare import compare

        with _as_tool_errors():
            return compare(candidates, self._inputs(**given), self.kb)

    def _inputs(self, **given: Any) -> Any:
        """The advisor's inputs, with the pins and model table of the project served, as the
        command line reads its current directory's."""
        from ecolint.project import pins_and_models

        inputs = _inputs(**given)
        inputs.stack, inputs.models = pins_and_models(self.cwd, self.cwd)
        return inputs

    def rule(self, code: str) -> dict[str, Any]:
        from ecolint.docs import rule_markdown, rule_url

        spec = self.kb.rules.get(code.strip().upper())
        if spec is None:
            raise RefusedError(f"unknown rule '{code}' (known: {', '.join(self.kb.rules)})")
        return {
            "code": spec.code,
            "name": spec.name,
            "default": spec.enabled_by_default,
            "severity": spec.severity,
            "summary": spec.summary,
            "fix_safety": spec.fix_safety,
            "url": rule_url(spec),
            "documentation": rule_markdown(spec, self.kb),
        }

    def fix(self, paths: list[Path], unsafe: bool, apply: bool, diff_hash: str | None) -> dict[str, Any]:
        from ecolint import fix as fixer
        from ecolint.engine import Engine
        from ecolint.servers.lint import config_for, selection_for

        with _as_tool_errors():
            config = config_for(paths[0])
            engine = Engine(self.kb, config, selection_for(self.kb, config), self.cwd)
            files = [item for item in fixer.fix_run(engine, paths, engine.run(paths).findings, unsafe) if item.changed]
        diff = "".join(item.diff() for item in files)
        digest = hashlib.sha256(diff.encode("utf-8", "surrogateescape")).hexdigest()
        shown = {
            "diff": diff,
            "diff_hash": digest,
            "files": [
                {
                    "path": item.display,
                    "fixed": sorted(f"{step.finding.code}:{step.finding.location.line}" for step in item.fixed),
                }
                for item in files
            ],
            "applied": False,
        }
        if not apply:
            return shown
        if not diff_hash:
            raise RefusedError("apply=true needs the diff_hash of the diff to apply (call fix with apply=false first)")
        if diff_hash != digest:
            raise RefusedError(
                "the files changed since that diff was made: nothing was written; call fix with apply=false again"
            )
        written = fixer.write(files)
        if len(written) != len(files):
            raise RefusedError(
                "a file changed while it was being fixed: "
                f"{len(written)} of {len(files)} written; call fix with apply=false again"
            )
        return {**shown, "applied": True}


@contextlib.contextmanager
def _as_tool_errors() -> Iterator[None]:
    """The command line's usage errors (configuration, selection, advisor input) as tool errors:
    the model reads the message, as a user reads it on standard error."""
    from ecolint.advisor.inputs import AdviceInputError
    from ecolint.config import ConfigError
    from ecolint.funnel import SelectionError

    try:
        yield
    except (AdviceInputError, ConfigError, SelectionError) as exc:
        raise ToolError(str(exc)) from None


def _inputs(**given: Any) -> Any:
    from ecolint.advisor import inputs as advice_inputs

    model = given.get("model")
    if model is not None and not model.strip():
        raise advice_inputs.AdviceInputError("model is empty")
    return advice_inputs.Inputs(
        gpu=(given.get("gpu") or "").strip() or None,
        model=model,
        precision=given.get("precision"),
        batch_size=given.get("batch_size"),
        framework=advice_inputs.framework(given.get("framework")),
        objective=given.get("objective"),
        max_memory_gb=given.get("max_memory_gb"),
    )


def build(allow_fix: bool = False, cwd: Path | None = None) -> MCPServer:
    tools = EcolintTools(cwd or Path.cwd())
    server: MCPServer = MCPServer(
        "ecolint",
        version=__version__,
        instructions=(
            "ecolint finds energy waste in LLM inference setups (quantization, FP8, batching) in code, "
            "shell scripts, Dockerfiles, YAML manifests and Modelfiles, with measured evidence. "
            "Use check on a repository, explain on one file, advise/compare for a setup not yet written, "
            "rule for a finding's documentation."
        ),
    )

    def paths_of(given: list[str], roots: ListRootsResult) -> list[Path]:
        return confined(given, root_paths(roots, tools.cwd), tools.cwd)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def check(
        roots: Roots,
        paths: Paths = ["."],  # noqa: B006 - pydantic copies defaults; the schema shows it
        select: Annotated[
            list[Text],
            Field(max_length=MAX_ITEMS, description="Rule codes or prefixes to run instead of the configured set."),
        ] = [],  # noqa: B006
        gpu: Gpu = None,
    ) -> CheckResult:
        """Audit files or directories: the findings, as `ecolint check --format json` prints them."""
        return cast(CheckResult, tools.check(paths_of(paths, roots), select, gpu))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def explain(
        roots: Roots,
        path: Annotated[str, Field(max_length=MAX_PATH_CHARS, description="One file.")],
        line: Annotated[int | None, Field(ge=1, description="Only the setups at this line.")] = None,
        gpu: Gpu = None,
        objective: Annotated[str | None, Field(pattern="^(energy|throughput|memory)$")] = None,
    ) -> ExplainResult:
        """The advisory answer for each inference setup recognised in a file (or at one line of it)."""
        [target] = paths_of([path], roots)
        return cast(ExplainResult, tools.explain(target, line, gpu, objective))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def advise(
        gpu: Gpu = None,
        model: Annotated[str | None, Field(max_length=MAX_TEXT_CHARS, description="Model id or size (7B).")] = None,
        precision: Annotated[
            str | None, Field(max_length=MAX_TEXT_CHARS, description="fp16, nf4, int8, fp8, …")
        ] = None,
        batch_size: Annotated[int | None, Field(ge=1, le=1_000_000)] = None,
        framework: Annotated[
            str | None,
            Field(max_length=MAX_TEXT_CHARS, description="transformers, vllm, tgi, sglang, llama.cpp, ollama"),
        ] = None,
        objective: Annotated[str | None, Field(pattern="^(energy|throughput|memory)$")] = None,
        max_memory_gb: Annotated[float | None, Field(gt=0)] = None,
    ) -> AdviseResult:
        """Recommend a precision for one setup, with the evidence behind every number."""
        return cast(AdviseResult, tools.advise(
            gpu=gpu, model=model, precision=precision, batch_size=batch_size,
            framework=framework, objective=objective, max_memory_gb=max_memory_gb,
        ))  # fmt: skip

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def compare(
        candidates: Annotated[
            list[Text],
            Field(min_length=2, max_length=MAX_ITEMS, description="Precisions (fp16 nf4 int8) or GPUs (T4 A800)."),
        ],
        gpu: Gpu = None,
        model: Annotated[str | None, Field(max_length=MAX_TEXT_CHARS)] = None,
        precision: Annotated[str | None, Field(max_length=MAX_TEXT_CHARS)] = None,
        batch_size: Annotated[int | None, Field(ge=1, le=1_000_000)] = None,
        objective: Annotated[str | None, Field(pattern="^(energy|throughput|memory)$")] = None,
    ) -> CompareResult:
        """Compare precisions or GPUs side by side."""
        return cast(
            CompareResult,
            tools.compare(
                candidates, gpu=gpu, model=model, precision=precision, batch_size=batch_size, objective=objective
            ),
        )

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def rule(code: Annotated[str, Field(max_length=16, description="A rule code, e.g. ECO101.")]) -> RuleResult:
        """A rule's documentation, as `ecolint rule CODE` shows it."""
        return cast(RuleResult, tools.rule(code))

    if allow_fix:

        @server.tool(
            annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False),
            structured_output=True,
        )
        def fix(
            roots: Roots,
            paths: Paths = ["."],  # noqa: B006
            unsafe: Annotated[
                bool, Field(description="Also the unsafe fixes (they change numerics, memory or latency).")
            ] = False,
            apply: Annotated[
                bool, Field(description="false: return the diff and its hash; true: write that diff.")
            ] = False,
            diff_hash: Annotated[
                str | None, Field(max_length=64, description="With apply=true: the hash fix returned.")
            ] = None,
        ) -> FixResult:
            """Fix the findings that have an automatic fix: first the diff and its hash, then apply exactly that diff."""
            return cast(FixResult, tools.fix(paths_of(paths, roots), unsafe, apply, diff_hash))

    return server


def serve(allow_fix: bool = False) -> None:
    """Serve on standard input and output until the client disconnects."""
    with warnings.catch_warnings():
        # roots are deprecated in the protocol's next revision (SEP-2577); clients still send them
        warnings.simplefilter("ignore", DeprecationWarning)
        build(allow_fix).run("stdio")
