"""Ray Serve LLM configuration in YAML: each ``LLMConfig`` (a mapping with
``model_loading_config``, in a Serve config's ``llm_configs:`` or a file of its own) is a vLLM
engine.

Facts relied on (Ray docs, serve/llm "Configuration reference" and ray.serve.llm.LLMConfig):
- ``model_loading_config`` (required): ``model_id`` (the served name) and ``model_source`` (the
  Hugging Face repo or a path; the model id when absent);
- ``engine_kwargs``: "arguments forwarded to the inference engine (vLLM)", i.e. vLLM engine
  arguments by their Python names (``max_num_seqs``, ``enforce_eager``);
- ``llm_engine``: only ``VLLM`` is supported;
- ``accelerator_type``: the accelerator the replicas run on (``A10G``, ``L4``, ``A100-80G``,
  ``AMD-Instinct-MI300X-OAM``, ``TPU-V5P``, …).
"""

from __future__ import annotations

import yaml

from ecolint.extract.launchers.detect import interpret
from ecolint.extract.launchers.registry import launcher
from ecolint.extract.launchers.vocab import SWITCH, Tok
from ecolint.extract.manifests import Doc
from ecolint.extract.platforms.gpus import stamp
from ecolint.setups import Location, Setup

KEY = "model_loading_config"


def setups(roots: list[yaml.Node], doc: Doc) -> list[Setup] | None:
    """Setups of the LLMConfigs of a file; None when it holds none."""
    configs = [
        node
        for root in roots
        for node, _ in doc.walk(root)
        if isinstance(node, yaml.MappingNode) and isinstance(doc.get(node, KEY), yaml.MappingNode)
    ]
    if not configs:
        return None
    return [setup for config in configs for setup in _config(config, doc)]


def _config(config: yaml.Node, doc: Doc) -> list[Setup]:
    if (doc.text(doc.get(config, "llm_engine")) or "VLLM").upper() != "VLLM":
        return []
    key, loading = doc.pair(config, KEY)  # type: ignore[misc]
    origin = doc.loc(key)
    model_pair = doc.pair(loading, "model_source") or doc.pair(loading, "model_id")
    argv = [Tok("vllm", origin), Tok("serve", origin)]
    if model_pair is not None and doc.text(model_pair[1]):
        argv += [Tok("--model", doc.loc(model_pair[0])), doc.tok(model_pair[1])]
    for name, value in doc.items(doc.get(config, "engine_kwargs")):
        argv += _flag(name, value, doc)
    label = doc.text(doc.get(loading, "model_id"))
    found = interpret(argv, {}, path=doc.path, kind="yaml", origin=origin, label=label)
    accelerator = doc.pair(config, "accelerator_type")
    written = doc.text(accelerator[1]) if accelerator else None
    gpu: tuple[list[str], Location] | None = None
    if accelerator is not None and written:
        gpu = ([written], doc.key_loc(*accelerator))
    return stamp(found, gpu, "accelerator_type")


def _flag(name: yaml.Node, value: yaml.Node, doc: Doc) -> list[Tok]:
    """An engine keyword as the vLLM flag that mirrors it (the vLLM table's ``python=`` rows,
    else the keyword kebab-cased where vLLM knows that flag: EngineArgs fields are its flags)."""
    keyword = doc.text(name) or ""
    vllm = launcher("vllm")
    assert vllm is not None
    row = vllm.by_python(keyword)
    flag = row.name if row is not None else "--" + keyword.replace("_", "-")
    if row is None and not vllm.knows(flag):
        return []
    text = doc.text(value)
    if text is None:
        return []  # a mapping or list (compilation_config, …): not a flag value read here
    loc = doc.key_loc(name, value)
    flag_row = row if row is not None else vllm.rows[vllm.canonical(flag)]
    if flag_row.type == SWITCH:
        if text.lower() in ("true", "1", "yes", "on"):
            return [Tok(flag, loc)]
        return [Tok("--no-" + flag[2:], loc)] if flag_row.negatable else []
    return [Tok(flag, loc), Tok(text, loc)]
