"""SkyPilot task and service YAML: the ``run:`` script is the serving command line, on the GPU
``resources.accelerators`` states.

Facts relied on (SkyPilot docs, reference/yaml-spec "SkyPilot YAML"; compute/gpus):
- top-level ``resources`` (``accelerators``, ``any_of``, ``ordered``, …), ``envs`` (a map,
  exported to ``setup`` and ``run``), ``setup`` and ``run`` (shell scripts), ``service`` (SkyServe:
  ``readiness_probe``, ``replicas`` / ``replica_policy``), ``num_nodes``, ``workdir``,
  ``file_mounts``; every field is optional;
- ``accelerators``: ``A100:8`` or ``A100`` (one), a list ``[V100:8, V100-32GB:8]`` or a set
  ``{A100:8, L4:8}``: any of them, the optimizer picks; the same holds for the ``accelerators``
  of ``any_of`` / ``ordered`` candidates;
- ``setup`` runs once when the cluster is provisioned ("typical use: pip install"), ``run`` is
  the task itself: only ``run`` serves.
"""

from __future__ import annotations

import yaml

from ecolint.extract.launchers.vocab import EnvVal
from ecolint.extract.manifests import Doc
from ecolint.extract.platforms.gpus import stamp
from ecolint.extract.shell import setups_from_text
from ecolint.setups import Location, Setup

# Top-level keys that only a SkyPilot task has beside `run:` (a dstack file says `type:`, a
# workflow `jobs:`, compose `services:`).
_TASK_KEYS = ("resources", "envs", "setup", "service", "num_nodes", "workdir", "file_mounts")


def is_task(root: yaml.Node, doc: Doc) -> bool:
    if doc.text(doc.get(root, "run")) is None:
        return False
    if any(doc.get(root, key) is not None for key in ("type", "jobs", "services", "apiVersion", "commands")):
        return False
    return any(doc.get(root, key) is not None for key in _TASK_KEYS)


def setups(roots: list[yaml.Node], doc: Doc) -> list[Setup] | None:
    """Setups of the SkyPilot tasks of a file (a pipeline is several documents); None for none."""
    tasks = [root for root in roots if is_task(root, doc)]
    if not tasks:
        return None
    return [setup for root in tasks for setup in _task(root, doc)]


def _task(root: yaml.Node, doc: Doc) -> list[Setup]:
    env = {
        **_gpus_per_node(doc.get(root, "resources"), doc),
        **doc.env(doc.get(root, "envs")),
    }  # a variable without a value comes with --env
    run = doc.get(root, "run")
    name = doc.text(doc.get(root, "name"))
    label = f"{name}/run" if name else "run"
    found = setups_from_text(
        doc.text(run) or "",
        doc.path,
        locate=doc.script_locator(run),  # type: ignore[arg-type]
        env=env,
        kind="yaml",
        label=label,
        context=doc.context,
    )
    return stamp(found, accelerators(doc.get(root, "resources"), doc), "accelerators")


def accelerators(resources: yaml.Node | None, doc: Doc) -> tuple[list[str], Location] | None:
    """The GPU names ``resources`` allows, with where they are written (the first
    ``accelerators`` key); None when it names none."""
    names: list[str] = []
    where: Location | None = None
    candidates = [resources, *doc.seq(doc.get(resources, "any_of")), *doc.seq(doc.get(resources, "ordered"))]
    for candidate in candidates:
        pair = doc.pair(candidate, "accelerators")
        if pair is None:
            continue
        written = _accelerator_names(pair[1], doc)
        if written and where is None:
            where = doc.key_loc(*pair)
        names += [name for name in written if name not in names]
    return (names, where) if names and where is not None else None


def _accelerator_names(node: yaml.Node, doc: Doc) -> list[str]:
    """``L4:1`` / ``L4``, ``[A100:1, L4:1]``, ``{A100: 1, L4: 1}`` or ``{A100:1, L4:1}`` (keys
    written with their count, values empty) -> the names, counts dropped."""
    if isinstance(node, yaml.ScalarNode):
        texts = [doc.text(node)]
    elif isinstance(node, yaml.SequenceNode):
        texts = [doc.text(item) for item in doc.seq(node)]
    else:
        texts = [doc.text(key) for key, _ in doc.items(node)]
    return [text.split(":", 1)[0].strip() for text in texts if text and text.split(":", 1)[0].strip()]


def _gpus_per_node(resources: yaml.Node | None, doc: Doc) -> dict[str, EnvVal]:
    """SKYPILOT_NUM_GPUS_PER_NODE, which SkyPilot sets for ``run`` to the accelerator count per
    node (distributed-jobs docs: ``accelerators: A100:8`` -> 8; a name alone is one), where every
    allowed accelerator has the same count (``--tensor-parallel-size $SKYPILOT_NUM_GPUS_PER_NODE``
    is how the serving examples size tensor parallelism)."""
    pair = doc.pair(resources, "accelerators")
    if pair is None or doc.get(resources, "any_of") is not None or doc.get(resources, "ordered") is not None:
        return {}
    node = pair[1]
    if isinstance(node, yaml.ScalarNode):
        texts = [doc.text(node)]
    elif isinstance(node, yaml.SequenceNode):
        texts = [doc.text(item) for item in doc.seq(node)]
    else:  # {A100: 1} or {A100:1}: the count is the value, or written in the key
        texts = [f"{doc.text(k)}:{doc.text(v)}" if doc.text(v) else doc.text(k) for k, v in doc.items(node)]
    counts = {(text.partition(":")[2].strip() or "1") for text in texts if text}
    if len(counts) != 1:
        return {}
    count = counts.pop()
    return {"SKYPILOT_NUM_GPUS_PER_NODE": EnvVal(count, doc.key_loc(*pair))} if count.isdigit() else {}
