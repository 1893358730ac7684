"""Setup: the one intermediate representation between extraction and the rules.

Every extractor, whatever the file format, produces ``Setup`` objects. A Setup is a bag of
named facts (model, precision, threshold, batch size, …), each carrying the location it was
read from, so a rule can point at the flag or keyword that causes a finding. Rules never see
syntax, only Setups; that is what lets one rule cover Python, shell, YAML and Modelfiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Location:
    """A span in a file. Lines and columns are 1-based; end_column is exclusive."""

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        # A zero column would make GitHub reject a whole SARIF upload: clamp once, here.
        line, column, end_line, end_column = self.line, self.column, self.end_line, self.end_column
        if (
            line >= 1
            and column >= 1
            and ((end_line > line and end_column >= 1) or (end_line == line and end_column > column))
        ):
            return  # already a valid span, as nearly every one is: nothing to clamp
        object.__setattr__(self, "line", max(1, self.line))
        object.__setattr__(self, "column", max(1, self.column))
        object.__setattr__(self, "end_line", max(self.line, self.end_line))
        if self.end_line == self.line:
            object.__setattr__(self, "end_column", max(self.column + 1, self.end_column))
        else:
            object.__setattr__(self, "end_column", max(1, self.end_column))

    def span(self) -> dict[str, int]:
        """The span as JSON (the path is implied by whoever carries it)."""
        return {"line": self.line, "column": self.column, "end_line": self.end_line, "end_column": self.end_column}


@dataclass(frozen=True)
class Fact:
    """One thing a setup says, with where it says it and how it was learnt.

    ``how`` names the way the value was read: ``literal``, ``constant`` (a module-level
    name), ``imported`` (a constant from another module), ``env-default`` (the default of
    ``os.environ.get``), ``argparse-default``, ``flag``, ``env`` (an environment variable of a
    launcher), ``filename`` (e.g. a GGUF quant suffix, a pre-quantized checkpoint's name),
    ``implied`` (a framework default), ``moved`` (``model.to(DEVICE)`` after loading),
    ``build-arg`` (a template argument a BentoML build passes to ``bentoml.use_arguments``).
    """

    value: Any
    location: Location | None = None
    how: str = "literal"


# Fact names used across extractors and rules. Keeping them in one place keeps the spellings
# from drifting between the Python, shell and YAML extractors.
MODEL = "model"  # model id or path as written
PRECISION = "precision"  # fp32, fp16, bf16, int8, nf4, fp4, fp8, gguf-q4, awq, gptq, … (rules/checkpoints.yaml)
QUANT_CONFIG = "quant_config"  # where the quantization was requested (BitsAndBytesConfig call, flag)
LLM_INT8_THRESHOLD = "llm_int8_threshold"
THRESHOLD_EXPOSED = "threshold_exposed"  # False when the framework gives no way to set it
COMPUTE_DTYPE = "compute_dtype"  # bnb_4bit_compute_dtype / torch_dtype of a quantized model
FP8_SCHEME = "fp8_scheme"  # torchao float8: "weight-only" (matmul in the original precision) or "dynamic"
DOUBLE_QUANT = "double_quant"  # bnb_4bit_use_double_quant: the 4-bit quantization constants quantized again
KV_CACHE_DTYPE = "kv_cache_dtype"
ENFORCE_EAGER = "enforce_eager"
COMPILED = "compiled"
ATTN_IMPLEMENTATION = "attn_implementation"
TENSOR_PARALLEL = "tensor_parallel_size"
BATCH_SIZE = "batch_size"  # an explicit batch limit: batch_size=1, --max-num-seqs 1, …
SINGLE_REQUEST = "single_request"  # value: "loop" or "handler" — generate() once per prompt
# With SINGLE_REQUEST: the call that generates, as written ("generate()", "chat()", "pipe()"), and
# for "handler" what runs it once per request ("web request", "Celery task", "Gradio event", …).
GENERATION_CALL = "generation_call"
REQUEST_SOURCE = "request_source"
RELOAD_PER_REQUEST = "reload_per_request"  # value: "handler" or "loop"
GPU = "gpu"  # a GPU named by the source itself (node selector, comment-free config); a tuple of
# names when the source allows any of several (SkyPilot `{A100:1, L4:1}`): see ecolint/gpu_sets.py
# The ``how`` of a GPU fact a deployment platform states begins with this, then the key that
# states it (``platform:accelerators``): reports say gpu_source "platform" and name the key.
PLATFORM = "platform:"
# A command line that runs a Python script of the repository (`python serve.py --int8`): not a
# setup, an invocation the project pass collects (ecolint/invocations.py) and the Python reader
# applies to the script's CLI parameters. Only while the project pass collects are such Setups
# made (framework INVOCATION), with the script as written and the arguments after it.
INVOCATION = "python-script"
INVOKED_SCRIPT = "invoked_script"  # "serve.py", "-m pkg.serve"; how "image" once a Dockerfile mapped it
SCRIPT_ARGS = "script_args"  # the Toks after the script
SCRIPT_ENV = "script_env"  # ((name, value), …): the environment the command sets, values known
RUNNER_LABELS = "runner_labels"  # a CI job's runner labels (runs-on): resolve.py takes the GPU one names
PURPOSE = "purpose"  # "training" when the module fine-tunes the model (QLoRA etc.): not an inference setup;
# "load-only" when the model is loaded and never run (a smoke test, a download job): not served;
# "test" in a pytest test module or test function: the model is checked, not served;
# "disabled" when nothing calls the function that loads it and its call is commented out
LOADER = "loader"  # the qualified loading call as imported (ipex_llm.transformers.AutoModel.from_pretrained)
DEVICE = "device"  # where the source puts the model: cpu, mps, xpu, hpu, npu, cuda (device / device_map)
RUNTIME = "runtime"  # a call that rewrites the loaded model for a runtime (ipex_llm.optimize_model)
IMAGE = "image"  # the container image a setup runs in (compose, Kubernetes, Dockerfile FROM, docker run)
TASK = "task"  # a transformers pipeline's task (text-generation, automatic-speech-recognition, …)
# The command-line parameters whose defaults chose the branch a setup was read from (a sorted
# tuple: "--quant", "quantize"); a finding on such a setup names them.
DEFAULTS_CHOSEN = "defaults_chosen"
# Which facts each of those defaults decided: a sorted tuple of (fact, parameter) pairs, where
# the fact "*" stands for every fact (a default read where no one fact was being read). A rule
# that says which facts it rests on names only their defaults (ecolint/checks).
DEFAULTS_DECIDING = "defaults_deciding"


@dataclass
class Setup:
    """One inference setup as the source describes it.

    ``framework`` is who runs the model: transformers, vllm, tgi, sglang, llama.cpp, ollama,
    torchao. ``origin`` is the anchor for findings about something missing (the call or the
    launcher command). ``label`` names the setup inside its file when a file holds several
    (a compose service, a Kubernetes container).
    """

    framework: str
    origin: Location
    facts: dict[str, Fact] = field(default_factory=dict)
    label: str | None = None
    kind: str = "python"  # the file kind it came from
    # For a setup one call site makes through a loader helper of another module (origin: that
    # call site): the loading call inside the helper. Its own setup there is superseded.
    through: Location | None = None
    # ... the helper functions it went through (their spans), and the loading calls in them
    # that its call site's analysis reached: the helpers' own setups of the loading calls that
    # no call site reaches (branches every call site routes around) are superseded too.
    via: tuple[Location, ...] = ()
    reached: tuple[Location, ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        fact = self.facts.get(name)
        return default if fact is None else fact.value

    def has(self, name: str) -> bool:
        return name in self.facts

    def where(self, name: str) -> Location:
        """The location of a fact, or the setup's origin when the fact has none."""
        fact = self.facts.get(name)
        if fact is not None and fact.location is not None:
            return fact.location
        return self.origin

    def set(self, name: str, value: Any, location: Location | None = None, how: str = "literal") -> None:
        self.facts[name] = Fact(value, location, how)
