"""KubeAI: ``Model`` resources (``apiVersion: kubeai.org/v1``, ``kind: Model``) and the models
chart's ``catalog:`` of the same specs.

Facts relied on (kubeai api/k8s/v1/model_types.go and internal/modelcontroller):
- ``spec.url``: ``hf://<repo>/<model>``, ``pvc://<pvc>[/<subpath>]``, ``s3://``/``gs://``/
  ``oss://`` (VLLM, FasterWhisper, Infinity), ``ollama://<model>`` (OLlama);
- ``spec.engine``: one of ``OLlama``, ``VLLM``, ``FasterWhisper``, ``Infinity``; only the first
  two run an LLM;
- ``spec.features``: ``TextGeneration``, ``TextEmbedding``, ``SpeechToText``; only
  ``TextGeneration`` is an LLM inference setup here;
- ``spec.args`` (list) are added to the server's command line and ``spec.env`` (a map) to its
  environment. vLLM runs as ``--model=<ref> --served-model-name=<name> <args…>``
  (engine_vllm.go); OLlama runs ``ollama serve`` and loads the model with
  ``ollama pull <ref> && ollama cp … && ollama run <name> hi`` (engine_ollama.go);
- ``spec.resourceProfile``: ``<profile-name>:<count>`` ("nvidia-gpu-l4:2 - 2x NVIDIA L4 GPUs"),
  the name one of the ``resourceProfiles`` of KubeAI's Helm values, whose ``nodeSelector`` says
  the GPU on a cloud (values-gke.yaml: ``cloud.google.com/gke-accelerator: nvidia-l4``).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ecolint.extract import ExtractError
from ecolint.extract.launchers.detect import interpret
from ecolint.extract.launchers.vocab import Tok
from ecolint.extract.manifests import GPU_LABELS, Budget, Doc, command_toks, compose
from ecolint.extract.shell import setups_from_script
from ecolint.setups import DEVICE, GPU, PLATFORM, Setup

API_GROUP = "kubeai.org/"
LLM_ENGINES = ("VLLM", "OLlama")
ENGINES = (*LLM_ENGINES, "FasterWhisper", "Infinity")
_URL = re.compile(r"^(hf|ollama|pvc|s3|gs|oss)://([^?#]+)")


def is_model(root: yaml.Node, doc: Doc) -> bool:
    return (doc.text(doc.get(root, "apiVersion")) or "").startswith(API_GROUP) and doc.text(
        doc.get(root, "kind")
    ) == "Model"


def catalog(root: yaml.Node, doc: Doc) -> list[tuple[str, yaml.Node]]:
    """The entries of a KubeAI models chart's ``catalog:`` (a spec with a KubeAI engine and a
    url), by name."""
    entries = []
    for key, spec in doc.items(doc.get(root, "catalog")):
        if doc.text(doc.get(spec, "engine")) in ENGINES and doc.text(doc.get(spec, "url")):
            entries.append((doc.text(key) or "?", spec))
    return entries


def setups(roots: list[yaml.Node], doc: Doc) -> list[Setup] | None:
    """Setups of the KubeAI documents of a file; None when the file holds none."""
    specs: list[tuple[str, yaml.Node]] = []
    for root in roots:
        spec = doc.get(root, "spec")
        if is_model(root, doc) and spec is not None:
            name = doc.text(doc.get(doc.get(root, "metadata"), "name")) or "?"
            specs.append((f"Model/{name}", spec))
        specs.extend((f"catalog.{name}", spec) for name, spec in catalog(root, doc))
    if not specs:
        return None
    return [setup for label, spec in specs for setup in _model(spec, label, doc)]


def _model(spec: yaml.Node, label: str, doc: Doc) -> list[Setup]:
    engine = doc.get(spec, "engine")
    features = [doc.text(f) for f in doc.seq(doc.get(spec, "features"))] or [doc.text(doc.get(spec, "features"))]
    if doc.text(engine) not in LLM_ENGINES or "TextGeneration" not in features:
        return []  # an embedding or speech model, or an engine that runs no LLM
    url_pair = doc.pair(spec, "url")
    found = _URL.match(doc.text(url_pair[1]) or "") if url_pair else None
    if url_pair is None or found is None or engine is None:
        return []
    scheme, ref = found.group(1), found.group(2)
    origin = doc.key_loc(doc.pair(spec, "engine")[0], engine)  # type: ignore[index]
    url_loc = doc.key_loc(*url_pair)
    env = doc.env(doc.get(spec, "env"))
    args = command_toks(doc.get(spec, "args"), doc, {}) or []
    if doc.text(engine) == "VLLM":
        head = [Tok("vllm", origin), Tok("serve", origin)]
        model = [Tok(f"--model={_vllm_model(scheme, ref)}", url_loc)]
        result = interpret(head + model + args, env, path=doc.path, kind="yaml", origin=origin, label=label)
    else:
        run = [Tok("ollama", origin), Tok("run", origin), Tok(ref.strip("/"), url_loc)]
        serve = [Tok("ollama", origin), Tok("serve", origin), *args]
        result = interpret(run, env, path=doc.path, kind="yaml", label=label, run_script=setups_from_script)
        result += interpret(serve, env, path=doc.path, kind="yaml", label=label)
    return _on_profile(result, spec, doc)


def _vllm_model(scheme: str, ref: str) -> str:
    """What vLLM is handed as --model: the repo of hf://, else the path in the storage (its last
    part names the model where anything does)."""
    return ref.strip("/") if scheme == "hf" else f"{scheme}://{ref}"


# --------------------------------------------------------------------------------------------
# resourceProfile -> GPU
# --------------------------------------------------------------------------------------------


def _on_profile(found: list[Setup], spec: yaml.Node, doc: Doc) -> list[Setup]:
    pair = doc.pair(spec, "resourceProfile")
    written = doc.text(pair[1]) if pair else None
    if not written or pair is None:
        return found
    name = written.split(":", 1)[0].strip()
    loc = doc.key_loc(*pair)
    gpu = _profile_gpus(doc).get(name) or name
    for setup in found:
        if name == "cpu" or name.startswith("cpu-"):
            setup.set(DEVICE, "cpu", loc, "resource-profile")
        else:
            setup.set(GPU, gpu, loc, PLATFORM + "resourceProfile")
    return found


def _profile_gpus(doc: Doc) -> dict[str, str]:
    """Profile name -> the GPU its nodeSelector names, from the ``resourceProfiles`` of the YAML
    files in this file's directory and each one above it up to the scan root, and of a
    ``charts/kubeai`` chart there. A profile several files map to different GPUs (one values
    file per cloud) maps to none: its name is then all that is known."""
    context = doc.context
    if context is None:
        return {}
    seen: dict[str, set[str]] = {}
    for directory in _directories(doc):
        for name, gpus in _directory_profiles(doc, directory).items():
            seen.setdefault(name, set()).update(gpus)
    return {name: gpus.pop() for name, gpus in seen.items() if len(gpus) == 1}


def _directories(doc: Doc) -> list[Path]:
    context = doc.context
    assert context is not None
    here = context.source_path(doc.path).parent
    root = context.root if context.root.is_absolute() else (context.cwd or Path.cwd()) / context.root
    found: list[Path] = []
    for directory in (here, *here.parents):
        found += [directory, directory / "charts" / "kubeai"]
        if directory == root or len(found) > 40:
            break
    return found


def _directory_profiles(doc: Doc, directory: Path) -> dict[str, list[str]]:
    context = doc.context
    assert context is not None

    def collect() -> dict[str, list[str]]:
        profiles: dict[str, list[str]] = {}
        names = [n for n in context.list_dir(directory) or [] if n.endswith((".yaml", ".yml"))]
        for name in names[:200]:
            text = context.read(directory / name)
            if not text or "resourceProfiles" not in text or "{{" in text:
                continue
            try:
                roots = compose(text)
                other = Doc(str(directory / name), text.split("\n"), Budget(len(text)), None)
                for root in roots:
                    for profile, body in other.items(other.get(root, "resourceProfiles")):
                        gpu = _selector_gpu(body, other)
                        if gpu and other.text(profile):
                            profiles.setdefault(other.text(profile) or "", []).append(gpu)
            except ExtractError:
                continue
        return profiles

    return context.cached(("kubeai-profiles", str(directory)), collect)  # type: ignore[return-value]


# A GPU family label (``nvidia.com/gpu.family: hopper``) names an architecture, not a GPU:
# the profile's own name (``nvidia-gpu-gh200``) says more.
_PROFILE_GPU_LABELS = tuple(label for label in GPU_LABELS if not label.endswith(".family"))


def _selector_gpu(profile: yaml.Node, doc: Doc) -> str | None:
    for key, value in doc.items(doc.get(profile, "nodeSelector")):
        if doc.text(key) in _PROFILE_GPU_LABELS and doc.text(value):
            return doc.text(value)
    return None
