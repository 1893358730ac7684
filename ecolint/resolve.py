"""Resolve a Setup against the knowledge base: model → parameters, GPU → architecture,
stack pins → version drift, and from those the ★ confidence and the boundary notes.

Confidence follows the EcoCompute skill (see DESIGN.md):
★★★ the GPU is stated and measured; ★★☆ stated, same architecture as a measured one (numbers
carry a ±15–25 % band), or measured but the model's size unknown; ★☆☆ no GPU stated (an assumed
platform, named) or non-NVIDIA hardware. A stack newer than the measurement window lowers every
confidence one step.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from ecolint.knowledge import SESSION_PACKAGES, Architecture, Capability, GpuInfo, Knowledge, Session, parse_version
from ecolint.setups import (
    DEVICE,
    GPU,
    IMAGE,
    LOADER,
    MODEL,
    PLATFORM,
    PURPOSE,
    RUNNER_LABELS,
    RUNTIME,
    TASK,
    TENSOR_PARALLEL,
    Setup,
)

# A size written in a model id: "Qwen2.5-1.5B", "qwen2:1.5b", "opt-1.3b", "Llama-3.2-1B",
# "opt-350m". The look-behind keeps "Qwen2.5" from reading as 2.5B; the look-ahead keeps
# "7bit"/"8bits" from reading as sizes.
_SIZE_B = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[bB](?![a-zA-Z])")
_SIZE_M = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[mM](?![a-zA-Z])")
# Decimal sizes as ids write them where a dot is awkward: "pythia-6_9b" (6.9B), "qwen-1b5" (1.5B).
# Only after a separator, so "qwen2_7b" stays Qwen2 at 7B.
_SIZE_UNDERSCORE = re.compile(r"(?<![A-Za-z\d._])(\d+)_(\d+)[bB](?![a-zA-Z\d])")
_SIZE_B_DIGITS = re.compile(r"(?<![A-Za-z\d._])(\d+)[bB](\d+)(?![a-zA-Z\d])")
# Mixture-of-experts spellings. "-A3B" names the active parameters (Qwen3-30B-A3B: 30B total, 3B
# active); "8x22B" and "-16E" (Llama-4-Scout-17B-16E: 17B active of 109B) leave the total unknown
# from the id alone, so such an id outside the model table has no size.
_ACTIVE_B = re.compile(r"(?<![A-Za-z\d])[aA](\d+(?:\.\d+)?)[bB](?![a-zA-Z\d])")
_EXPERTS = re.compile(r"(?<![\d.])\d+x\d+(?:\.\d+)?[bB](?![a-zA-Z])|(?<![A-Za-z\d])\d+[eE](?![a-zA-Z\d])")
_LOCAL_PATH = re.compile(r"^(/|\./|\.\./|~|[A-Za-z]:\\)")

BOUNDARY_TEXT = {
    "beyond-measured-range": "Beyond measured range (> 14B). Extrapolated estimate ±20%.",
    "multi-gpu": "Benchmarks are single-GPU; cross-device overhead not covered.",
    "custom-weights": "Baseline uses official weights; activation distribution may differ.",
    "non-nvidia": "No measured data available; results may not transfer.",
    "unmeasured-gpu": "GPU not measured: numbers from the nearest measured architecture, ±15–25%.",
    "assumed-gpu": "No GPU stated: numbers assume the default platform.",
    "stack-drift": "Stack newer than the measurement window: confidence lowered one step.",
    "mixture-of-experts": "Mixture of experts: compared by its active parameters; the evidence was measured on dense models.",
    "not-an-llm": "Not an LLM: every measurement is LLM text generation, so none speaks for this model.",
    "not-served": "Not served here (loaded and never run, run only by a test, or loaded by a function whose call is commented out): no inference to measure.",
}
# The setup purposes (ecolint/setups.py PURPOSE) that serve nobody, with the reason said.
_NOT_SERVED = {
    "load-only": "the model is loaded but never run here (no generate, chat or forward call)",
    "test": "a test runs the model to check it, on a handful of prompts: it serves nobody",
    "disabled": "nothing calls the function that loads the model, and its call is commented out",
}
# Reasons that hold for a whole run rather than one finding (every setup without a stated GPU
# gets the same assumption; the stack pins are merged over the tree): the text report says
# them once, at the end. Each is the start of the reason text written below.
ASSUMED_GPU_REASON = "no GPU stated: "
STACK_DRIFT_REASON = "stack newer than the measurement window: "
UNKNOWN_GPU_REASON = "GPU not in the GPU table: "
RUN_WIDE_REASONS = (ASSUMED_GPU_REASON, STACK_DRIFT_REASON, UNKNOWN_GPU_REASON)


@dataclass(frozen=True)
class ModelSize:
    params_b: float  # what crossovers compare: the active parameters of a mixture of experts
    how: str  # "config", "table" or "id"
    active: bool = False  # mixture-of-experts: params_b counts active parameters
    total_b: float | None = None  # all parameters (memory), where known; params_b for a dense model

    @property
    def memory_b(self) -> float | None:
        """The parameters that must sit in memory: the total, where it is known."""
        return self.total_b if self.active else self.params_b


@dataclass
class Resolution:
    gpu: GpuInfo  # the GPU whose numbers apply (the assumed one when none is stated)
    gpu_source: str  # "stated" | "platform" | "config" | "assumed"
    gpu_written: str | None
    architecture: Architecture | None  # measured architecture the numbers come from
    model: ModelSize | None
    stack: dict[str, str]
    confidence: int
    reasons: list[str] = field(default_factory=list)
    boundaries: list[str] = field(default_factory=list)
    session: Session | None = None  # the measured session whose stack the project's pins match
    own_architecture: Architecture | None = None  # the GPU's own (Hopper), where it borrows another's numbers
    # A setup stated to run on any of several GPUs (SkyPilot `{A100:1, L4:1}`): the resolution
    # on each, in the order written. The resolution itself is the most cautious of them.
    alternatives: list[Resolution] = field(default_factory=list)
    # What the GPU's own architecture computes (rules/capabilities.yaml), and what a finding or an
    # answer says where a format is missing ("bf16", "fp8", "vllm_fp8_weight_only"): no advice
    # proposes a format the GPU cannot run.
    capability: Capability | None = None
    capability_notes: dict[str, str] = field(default_factory=dict)

    @property
    def missing_formats(self) -> tuple[str, ...]:
        """Formats this GPU has no tensor cores for (bf16, fp8); none where it is not known."""
        return () if self.capability is None else self.capability.missing

    def half(self) -> str:
        """The 16-bit format to propose: BF16 where the GPU computes it, else FP16."""
        return "fp16" if "bf16" in self.missing_formats else "bf16"

    @property
    def arch_label(self) -> str:
        """The architecture as findings name it: the GPU's own, saying whose numbers it borrows
        ('Hopper (Ampere numbers)'), or the measured one."""
        if self.architecture is None:
            return "this hardware"
        own = self.own_architecture
        if own is None or own.key == self.architecture.key:
            return self.architecture.label
        return f"{own.label} ({self.architecture.label} numbers)"

    @property
    def params_b(self) -> float | None:
        return None if self.model is None else self.model.params_b

    def crossover(self, family: str) -> float | None:
        """The size above which ``family`` (nf4 or int8) saves energy here: the matched session's
        own crossover where it measured one, else the architecture's headline. The one place every
        command reads a crossover from, so check, explain, advise and compare agree."""
        if family == "nf4" and self.session is not None and self.session.nf4_crossover_b is not None:
            return self.session.nf4_crossover_b
        if self.architecture is None:
            return None
        return self.architecture.nf4_crossover_b if family == "nf4" else self.architecture.int8_crossover_b

    def crossover_differs(self, family: str) -> str | None:
        """How the crossover used here differs from the skill's, said once where it does."""
        used = self.crossover(family)
        if self.session is None or self.architecture is None or used is None:
            return None
        headline = self.architecture.nf4_crossover_b if family == "nf4" else self.architecture.int8_crossover_b
        if used == headline:
            return None
        return (
            f"{family.upper()} crossover {used:g}B as measured in session {self.session.id} (the skill says"
            f" {headline:g}B for {self.architecture.label}): the crossover moved with the software stack"
        )


# The crossover a quantized precision is judged against, and the rule that reports it below.
CROSSOVER_RULES = {"nf4": ("ECO102", "nf4"), "fp4": ("ECO102", "nf4"), "int8": ("ECO103", "int8")}


@dataclass(frozen=True)
class Verdict:
    """Where a quantized setup stands against its crossover: what `check` reports (ECO102/ECO103)
    and what `explain`, `advise` and `compare` say of the same setup, from this one decision."""

    code: str  # the rule that reports it below the crossover
    family: str  # nf4 | int8
    crossover_b: float
    params_b: float | None
    moved: str | None  # how the crossover differs from the skill's, where a matched session moved it

    @property
    def below(self) -> bool | None:
        """True below the crossover, False at or above it, None when the size is unknown (a size
        that is not known is not below a crossover)."""
        return None if self.params_b is None else self.params_b < self.crossover_b


def crossover_verdict(res: Resolution, precision: str | None) -> Verdict | None:
    """The crossover verdict for a precision (nf4, fp4, int8), or None: not a bitsandbytes
    format, or no measured architecture speaks for this hardware."""
    entry = CROSSOVER_RULES.get(precision or "")
    if entry is None or res.architecture is None:
        return None
    code, family = entry
    crossover = res.crossover(family)
    if crossover is None:
        return None
    return Verdict(code, family, crossover, res.params_b, res.crossover_differs(family))


def verdict_rows(kb: Knowledge, res: Resolution, family: str, model_id: str | None) -> list[dict[str, Any]]:
    """The rows quoted beside a crossover verdict: the nearest measured rows of the family (INT8
    at threshold 0.0, the skill's INT8), then the skill's J/request rows for this GPU and model."""
    from ecolint.knowledge import nearest_rows, request_rows

    arch = None if res.architecture is None else res.architecture.key
    threshold = 0.0 if family == "int8" else None
    rows = nearest_rows(kb, arch, family, res.params_b, threshold=threshold, limit=2, session=res.session)
    return rows + request_rows(kb, res.gpu.name, model_id, ("fp16", family))


def model_size(model_id: str | None, kb: Knowledge, configured: dict[str, float] | None = None) -> ModelSize | None:
    """Parameters of a model id: the project's own table, the name table, then the id itself."""
    if not model_id:
        return None
    for name, params in (configured or {}).items():
        if name.lower() == model_id.lower() or model_id.lower().endswith("/" + name.lower()):
            return ModelSize(float(params), "config")
    entry = kb.model_from_table(model_id)
    if entry is not None:
        total = entry.get("total_b")
        return ModelSize(
            float(entry["params_b"]), "table", bool(entry.get("active", False)), None if total is None else float(total)
        )
    return _size_in_id(model_id.rsplit("/", 1)[-1])


def _size_in_id(name: str) -> ModelSize | None:
    """The size an id writes, where it is unambiguous (see the patterns above)."""
    active = _ACTIVE_B.search(name)
    if active:
        total = _SIZE_B.search(name[: active.start()])
        return ModelSize(float(active.group(1)), "id", True, float(total.group(1)) if total else None)
    if _EXPERTS.search(name):
        return None
    match = _SIZE_UNDERSCORE.search(name) or _SIZE_B_DIGITS.search(name)
    if match:
        return ModelSize(float(f"{match.group(1)}.{match.group(2)}"), "id")
    match = _SIZE_B.search(name)
    if match:
        return ModelSize(float(match.group(1)), "id")
    match = _SIZE_M.search(name)
    if match:
        return ModelSize(float(match.group(1)) / 1000.0, "id")
    return None


def drifted(stack: dict[str, str], kb: Knowledge, session: Session | None = None) -> list[str]:
    """Packages pinned past what was measured: past the matched session's own versions (by
    major.minor) for the packages it states, else at or above the end of the skill's window."""
    out = []
    for package, limit in sorted(kb.drift.items()):
        pinned = stack.get(package)
        if not pinned or not parse_version(pinned):
            continue
        measured = session.stack.get(package) if session is not None else None
        if measured is not None:
            if parse_version(pinned)[:2] > parse_version(measured)[:2]:
                out.append(f"{package} {pinned} > {measured} (session {session.id})")  # type: ignore[union-attr]
        elif parse_version(pinned) >= parse_version(limit):
            out.append(f"{package} {pinned} ≥ {limit}")
    return out


def matched_session(stack: dict[str, str], architecture: Architecture | None, kb: Knowledge) -> Session | None:
    """The measured session a project's pins put it in: same GPU architecture, and torch and
    bitsandbytes pinned (==, ~= or a lower bound) to the session's major.minor. The latest such
    session where several match."""
    if architecture is None or any(not parse_version(stack.get(key, "")) for key in SESSION_PACKAGES):
        return None
    found = []
    for session in kb.sessions.values():
        info = kb.gpu(session.gpu)
        if info is None or kb.measured_architecture(info.architecture) is not architecture:
            continue
        if all(
            key in session.stack and parse_version(stack[key])[:2] == parse_version(session.stack[key])[:2]
            for key in SESSION_PACKAGES
        ):
            found.append(session)
    return max(found, key=lambda s: (s.date or "", s.id), default=None)


UNKNOWN_SIZE_REASON = "model size unknown: numbers from the nearest measured size (★★★ needs a known size)"


def capped_for_size(confidence: int, model: ModelSize | None, reasons: list[str]) -> int:
    """The one rule for a model of unknown size, for check, explain, advise and compare alike:
    ★★★ is a direct measurement, which needs the size, so an unknown one is at most ★★☆ (the
    reason said where it lowers the stars)."""
    if model is not None or confidence < 3:
        return confidence
    reasons.append(UNKNOWN_SIZE_REASON)
    return 2


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _gpu_for(setup: Setup, gpu_option: str | None, kb: Knowledge) -> tuple[str | None, str]:
    """The GPU name and where it came from: the source itself wins over configuration."""
    stated = setup.get(GPU)
    if stated:
        return str(stated), "platform" if setup.facts[GPU].how.startswith(PLATFORM) else "stated"
    # A CI runner's labels ([self-hosted, gpu-a100], linux-t4): the first that names a GPU.
    named = next((label for label in setup.get(RUNNER_LABELS) or () if kb.gpu(label) is not None), None)
    if named is not None:
        return named, "platform"
    if gpu_option:
        return gpu_option, "config"
    return None, "assumed"


def gpu_set(setup: Setup) -> tuple[str, ...] | None:
    """The GPUs a setup may run on, when its source states several (a tuple fact), else None."""
    stated = setup.get(GPU)
    return tuple(str(name) for name in stated) if isinstance(stated, (tuple, list)) and stated else None


def on_gpu(setup: Setup, name: str) -> Setup:
    """The same setup on one GPU of its set (the GPU fact keeps its location and how)."""
    fact = setup.facts[GPU]
    return dataclasses.replace(setup, facts={**setup.facts, GPU: dataclasses.replace(fact, value=name)})


def gpu_set_text(names: tuple[str, ...]) -> str:
    return "any of " + ", ".join(names)


def resolve(
    setup: Setup,
    kb: Knowledge,
    *,
    gpu_option: str | None = None,
    models: dict[str, float] | None = None,
    stack: dict[str, str] | None = None,
) -> Resolution:
    names = gpu_set(setup)
    if names is not None:
        return _resolve_set(setup, names, kb, models=models, stack=stack)
    stack = dict(stack or {})
    written, source = _gpu_for(setup, gpu_option, kb)
    reasons: list[str] = []
    boundaries: list[str] = []
    info = kb.gpu(written) if written else None
    # What the code itself says of the hardware (an Intel port of transformers, device="cpu")
    # outranks a GPU from the configuration: the configured GPU is not where this model runs.
    elsewhere = kb.other_hardware(
        _text(setup.get(LOADER)), _text(setup.get(DEVICE)), _text(setup.get(MODEL)), _text(setup.get(IMAGE))
    ) or kb.other_hardware(_text(setup.get(RUNTIME)), None, None)
    if elsewhere is not None and source not in ("stated", "platform"):
        info, written, source = elsewhere, elsewhere.name, "stated"
    if written and info is None:
        reasons.append(f"{UNKNOWN_GPU_REASON}'{written}'; numbers assume {kb.assumed_gpu}")
    if info is None:
        info = kb.gpu(kb.assumed_gpu)
        assert info is not None, "assumed_gpu must be in the GPU table"
        source = "assumed" if written is None else source
        confidence = 1
        if written is None:
            reasons.append(f"{ASSUMED_GPU_REASON}assumed {kb.assumed_gpu} (set --gpu or [tool.ecolint] gpu)")
            boundaries.append("assumed-gpu")
        architecture = kb.measured_architecture(info.architecture)
    elif info.vendor != "nvidia":
        # No measured architecture speaks for it: no crossover, and rules whose evidence is an
        # NVIDIA kernel effect stay silent (checks/__init__.py).
        confidence = 1
        reasons.append(f"{info.name} is not NVIDIA hardware")
        boundaries.append("non-nvidia")
        architecture = None
    elif info.measured:
        confidence = 3
        reasons.append(f"{info.name} is a measured GPU")
        architecture = kb.measured_architecture(info.architecture)
    else:
        confidence = 2
        architecture = kb.measured_architecture(info.architecture)
        measured_on = architecture.measured_gpu if architecture else kb.assumed_gpu
        reasons.append(f"{info.name} not measured: extrapolated from {measured_on} (±15–25%)")
        boundaries.append("unmeasured-gpu")

    session = matched_session(stack, architecture, kb)
    if session is not None:
        versions = ", ".join(f"{key} {session.stack[key]}" for key in SESSION_PACKAGES)
        reasons.append(f"the pinned stack matches measured session {session.id} ({versions}): its rows apply")
    drift = drifted(stack, kb, session)
    if drift:
        confidence = max(1, confidence - 1)
        reasons.append(STACK_DRIFT_REASON + ", ".join(drift))
        boundaries.append("stack-drift")

    model = model_size(setup.get(MODEL), kb, models)
    confidence = capped_for_size(confidence, model, reasons)
    if model is not None and model.params_b > kb.measured_max_params_b:
        boundaries.append("beyond-measured-range")
    if model is not None and model.active:
        boundaries.append("mixture-of-experts")
    if (setup.get(TENSOR_PARALLEL) or 1) > 1:
        boundaries.append("multi-gpu")
    model_id = setup.get(MODEL)
    if isinstance(model_id, str) and _LOCAL_PATH.match(model_id):
        boundaries.append("custom-weights")
    unserved = _NOT_SERVED.get(str(setup.get(PURPOSE)))
    if unserved is not None:
        reasons.append(unserved)
        boundaries.append("not-served")
    not_llm = kb.not_an_llm(_text(setup.get(LOADER)), _text(setup.get(TASK)), _text(model_id))
    if not_llm is not None:
        reasons.append(not_llm)
        boundaries.append("not-an-llm")

    return Resolution(
        gpu=info,
        gpu_source=source,
        gpu_written=written,
        architecture=architecture,
        model=model,
        stack=stack,
        confidence=confidence,
        reasons=reasons,
        boundaries=boundaries,
        session=session,
        own_architecture=kb.architectures.get(info.architecture) if info.architecture else None,
        **_capability(kb, info),
    )


def _capability(kb: Knowledge, info: GpuInfo) -> dict[str, Any]:
    """The GPU's own architecture's capability (Hopper's, not the Ampere numbers it borrows) and
    the notes for the formats it lacks, filled in."""
    capability = kb.capability(info.architecture)
    if capability is None or info.architecture is None:
        return {}
    label = kb.architectures[info.architecture].label
    fill = {"gpu": info.name, "arch": label, "cc": capability.compute_capability}
    notes = {key: text.format(**fill) for key, text in kb.capability_notes.items()}
    return {"capability": capability, "capability_notes": notes}


def _resolve_set(
    setup: Setup,
    names: tuple[str, ...],
    kb: Knowledge,
    *,
    models: dict[str, float] | None,
    stack: dict[str, str] | None,
) -> Resolution:
    """A setup on any of several GPUs: resolved on each; the most cautious (fewest stars, the
    first written where they tie) speaks for the set, which it names. The checks run on every
    one (ecolint/gpu_sets.py): a finding stands only where each GPU gives it."""
    each = [resolve(on_gpu(setup, name), kb, models=models, stack=stack) for name in names]
    cautious = min(each, key=lambda r: r.confidence)
    return dataclasses.replace(
        cautious,
        gpu_written=gpu_set_text(names),
        reasons=[
            f"a set of possible GPUs ({', '.join(names)}): reported only where every one of them gives the"
            " finding, at the most cautious confidence",
            *cautious.reasons,
        ],
        alternatives=each,
    )


def gpu_origin(setup: Setup) -> dict[str, Any] | None:
    """Where a platform states the GPU: the file, the line and the key (``accelerators``,
    ``resources.gpu_type``, ``runs-on``), for the JSON contract's ``gpu_origin``."""
    fact = setup.facts.get(GPU)
    key = fact.how.removeprefix(PLATFORM) if fact is not None else "runs-on"
    fact = fact or setup.facts.get(RUNNER_LABELS)
    if fact is None or fact.location is None:
        return None
    return {"path": fact.location.path, "line": fact.location.line, "key": key}


def setup_summary(setup: Setup, resolution: Resolution) -> dict[str, Any]:
    """The setup as the JSON contract and the reports show it. Absent facts are None."""
    from ecolint import setups as s

    return {
        "framework": setup.framework,
        "label": setup.label,
        "model": setup.get(s.MODEL),
        # how the code gives the model id: "literal", "constant", "imported", "argparse-default"
        # (a command-line default: a placeholder as often as the model run), "invocation", …
        "model_source": None if s.MODEL not in setup.facts else setup.facts[s.MODEL].how,
        "params_b": resolution.params_b,
        "params_source": None if resolution.model is None else resolution.model.how,
        "precision": setup.get(s.PRECISION),
        "gpu": resolution.gpu_written or resolution.gpu.name,
        "gpu_source": resolution.gpu_source,
        "gpu_origin": gpu_origin(setup) if resolution.gpu_source == "platform" else None,
        "architecture": None if resolution.architecture is None else resolution.architecture.key,
        # the GPU's own architecture and whose numbers it borrows: "Hopper (Ampere numbers)"
        "architecture_label": None if resolution.architecture is None else resolution.arch_label,
        "batch_size": setup.get(s.BATCH_SIZE),
        "llm_int8_threshold": setup.get(s.LLM_INT8_THRESHOLD),
        "enforce_eager": setup.get(s.ENFORCE_EAGER),
        "compiled": setup.get(s.COMPILED),
        "kv_cache_dtype": setup.get(s.KV_CACHE_DTYPE),
        "attn_implementation": setup.get(s.ATTN_IMPLEMENTATION),
        "tensor_parallel_size": setup.get(s.TENSOR_PARALLEL),
        "stack": dict(sorted(resolution.stack.items())),
    }
