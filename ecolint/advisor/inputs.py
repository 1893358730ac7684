"""What the user asked the advisor, read and checked: precision tokens, model ids or sizes,
frameworks. Everything is looked up in rules/advice.yaml and rules/evidence.yaml; a bad value is an
AdviceInputError (the CLI turns it into a message and exit 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ecolint.knowledge import Knowledge
from ecolint.setups import BATCH_SIZE, MODEL, PRECISION, Location, Setup

FRAMEWORKS = ("transformers", "vllm", "tgi", "sglang", "llama.cpp", "ollama")
OBJECTIVES = ("energy", "throughput", "memory")
# A model written as a size: "7B", "1.5b", "350M", "30B+".
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bBmM])\+?\s*$")


class AdviceInputError(ValueError):
    """An option the advisor cannot use; the message says which and what would work."""


@dataclass(frozen=True)
class Option:
    """One precision as the advisor weighs it (an entry of advice.yaml `precisions`)."""

    key: str
    label: str
    rows: str | None  # precision of the evidence rows that speak for it
    threshold: float | None  # llm_int8_threshold those rows must have
    bytes_per_weight: float | None
    analog: str | None = None
    needs: str | None = None  # the tensor-core format it computes in (bf16, fp8): rules/capabilities.yaml

    @property
    def quantized(self) -> bool:
        return self.rows not in ("fp16", None)


@dataclass
class Inputs:
    """The advisor's inputs as given (None = not given); `assumed` records every default taken."""

    gpu: str | None = None
    model: str | None = None
    precision: str | None = None
    batch_size: int | None = None
    framework: str | None = None
    objective: str | None = None
    max_memory_gb: float | None = None
    batched: bool = False  # a server that batches concurrent requests (explain): no batch size 1 assumed
    # The project's version pins and model table (`--project`), read as `check` reads them: stated
    # torch / bitsandbytes versions pick the measured session, and drift lowers the stars.
    stack: dict[str, str] = field(default_factory=dict)
    models: dict[str, float] = field(default_factory=dict)
    assumed: dict[str, Any] = field(default_factory=dict)

    def given(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "model": self.model,
            "precision": self.precision,
            "batch_size": self.batch_size,
            "framework": self.framework,
            "objective": self.objective,
            "max_memory_gb": self.max_memory_gb,
        }


def advice_data(kb: Knowledge) -> dict[str, Any]:
    return kb.extra.get("advice") or {}


def option(kb: Knowledge, token: str) -> Option:
    """The Option a precision token names (canonical key or alias, any case)."""
    table = advice_data(kb).get("precisions", {})
    wanted = token.strip().lower()
    for key, entry in table.items():
        aliases = [str(a).lower() for a in entry.get("aliases", [])]
        if wanted == key or wanted in aliases:
            return _option(key, entry)
    known = ", ".join(table)
    raise AdviceInputError(f"unknown precision '{token}' (known: {known})")


def is_precision(kb: Knowledge, token: str) -> bool:
    try:
        option(kb, token)
    except AdviceInputError:
        return False
    return True


def option_from_setup(kb: Knowledge, precision: str | None, threshold: Any) -> Option | None:
    """The Option for a precision an extractor read from code (int8 splits on its threshold)."""
    if precision is None:
        return None
    if precision == "int8":
        return option(kb, "int8" if threshold is not None and float(threshold) == 0.0 else "int8-default")
    if is_precision(kb, precision):
        return option(kb, precision)
    # A format with no evidence rows (awq, gptq, other GGUF quants): named, never given numbers.
    return Option(key=precision, label=precision.upper(), rows=None, threshold=None, bytes_per_weight=None)


def _option(key: str, entry: dict[str, Any]) -> Option:
    threshold = entry.get("threshold")
    weight = entry.get("bytes_per_weight")
    return Option(
        key=key,
        label=str(entry.get("label", key.upper())),
        rows=entry.get("rows"),
        threshold=None if threshold is None else float(threshold),
        bytes_per_weight=None if weight is None else float(weight),
        analog=entry.get("analog"),
        needs=entry.get("needs"),
    )


def model_is_size(model: str | None) -> bool:
    return model is not None and _SIZE.match(model) is not None


def normalise_model(model: str | None) -> str | None:
    """'30B+' → '30B' (the size parser reads the number); an id is kept as written."""
    if model is None or not model.strip():
        return None
    match = _SIZE.match(model)
    if match:
        return f"{match.group(1)}{match.group(2).upper()}"
    return model.strip()


def framework(value: str | None) -> str | None:
    if value is None:
        return None
    wanted = value.strip().lower()
    aliases = {
        "llamacpp": "llama.cpp",
        "llama-cpp": "llama.cpp",
        "hf": "transformers",
        "text-generation-inference": "tgi",
    }
    wanted = aliases.get(wanted, wanted)
    if wanted not in FRAMEWORKS:
        raise AdviceInputError(f"unknown framework '{value}' (known: {', '.join(FRAMEWORKS)})")
    return wanted


def setup_for(inputs: Inputs, kb: Knowledge, baseline: Option) -> Setup:
    """A Setup built from the options, so that resolve() rates it exactly as it rates code."""
    setup = Setup(
        inputs.framework or advice_data(kb).get("default_framework", "transformers"),
        Location("<command line>", 1),
        kind="advice",
    )
    model = normalise_model(inputs.model)
    if model:
        setup.set(MODEL, model, how="flag")
    setup.set(PRECISION, baseline.key, how="flag" if inputs.precision else "implied")
    setup.set(BATCH_SIZE, inputs.batch_size or 1, how="flag" if inputs.batch_size else "implied")
    return setup
