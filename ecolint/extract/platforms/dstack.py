"""dstack run configurations (``type: service | task | dev-environment``): ``commands:`` are the
serving command lines, ``env:`` their environment, ``resources.gpu`` the GPU.

Facts relied on (dstack docs and src/dstack/_internal/core/models):
- ``commands`` (a list of shell commands) run in ``image`` (or dstack's base image) for a task or
  a service; a dev-environment runs ``init`` when it starts and then waits for an IDE: nothing
  there serves;
- ``env``: a list (``KEY=value``, or ``KEY`` alone: taken from the caller's environment) or a map;
- ``resources.gpu`` (resources.py GPUSpec.parse): a count (``2``), or ``:``-separated tokens, each
  a vendor (``nvidia``, ``amd``, ``google`` / ``tpu``, ``intel``), names starting with a letter
  (``A100``; ``A10G,A100`` = either), a memory with a unit (``24GB``, ``24GB..``, ``24GB..80GB``),
  or a count (``2``, ``1..2``); or a map with ``name`` (one or a list), ``memory``, ``count``,
  ``vendor``. A memory range alone names no GPU.
"""

from __future__ import annotations

import yaml

from ecolint.extract.launchers.detect import container_setups
from ecolint.extract.launchers.vocab import EnvVal
from ecolint.extract.manifests import Doc
from ecolint.extract.platforms.gpus import stamp
from ecolint.extract.shell import setups_from_script, setups_from_text
from ecolint.setups import Location, Setup

RUN_TYPES = ("service", "task")
_TYPES = (*RUN_TYPES, "dev-environment")
# vendor word -> what names that hardware in the gpus table when no GPU name is given
_VENDORS = {"nvidia": None, "amd": "AMD", "google": "TPU", "tpu": "TPU", "intel": "Intel Gaudi"}


def is_configuration(root: yaml.Node, doc: Doc) -> bool:
    if doc.text(doc.get(root, "type")) not in _TYPES:
        return False
    return any(doc.get(root, key) is not None for key in ("commands", "image", "init", "resources"))


def setups(roots: list[yaml.Node], doc: Doc) -> list[Setup] | None:
    """Setups of the dstack configurations of a file; None when it holds none."""
    configurations = [root for root in roots if is_configuration(root, doc)]
    if not configurations:
        return None
    return [setup for root in configurations for setup in _configuration(root, doc)]


def _configuration(root: yaml.Node, doc: Doc) -> list[Setup]:
    kind = doc.text(doc.get(root, "type")) or ""
    if kind not in RUN_TYPES:
        return []  # a dev-environment's init: installs, then an IDE
    env = _env(doc.get(root, "env"), doc)
    label = doc.text(doc.get(root, "name")) or kind
    found = _commands(root, root, env, label, doc)
    # A service's replica groups (`replicas: [{count, commands, resources}, …]`): each runs its
    # own commands on its own resources, the configuration's where it says none.
    for group in doc.seq(doc.get(root, "replicas")):
        if isinstance(group, yaml.MappingNode) and doc.get(group, "commands") is not None:
            own = group if doc.get(group, "resources") is not None else root
            found += stamp(
                _commands(group, root, env, label, doc), gpu(doc.get(own, "resources"), doc), "resources.gpu"
            )
    return found


def _commands(node: yaml.Node, root: yaml.Node, env: dict[str, EnvVal], label: str, doc: Doc) -> list[Setup]:
    """The setups of the commands of a configuration (or of one replica group), on its GPU."""
    commands = doc.seq(doc.get(node, "commands"))
    found: list[Setup] = []
    for command in commands:
        text = doc.text(command)
        if text is None:
            continue
        found += setups_from_text(
            text,
            doc.path,
            locate=doc.script_locator(command),
            env=env,
            kind="yaml",
            label=label,
            context=doc.context,
        )
    image = doc.get(root, "image")
    if node is root and not commands and doc.get(root, "replicas") is None and image is not None and doc.text(image):
        found += container_setups(
            doc.tok(image), None, None, env, path=doc.path, kind="yaml", label=label, run_script=setups_from_script
        )
    return stamp(found, gpu(doc.get(node, "resources"), doc), "resources.gpu") if node is root else found


def gpu(resources: yaml.Node | None, doc: Doc) -> tuple[list[str], Location] | None:
    """The GPU names ``resources.gpu`` allows (several: any of them), located at the key."""
    pair = doc.pair(resources, "gpu")
    if pair is None:
        return None
    node = pair[1]
    names: list[str] = []
    vendor: str | None = None
    if isinstance(node, yaml.MappingNode):
        name = doc.get(node, "name")
        names = [doc.text(n) or "" for n in doc.seq(name)] if isinstance(name, yaml.SequenceNode) else []
        names = names or ([doc.text(name) or ""] if doc.text(name) else [])
        vendor = (doc.text(doc.get(node, "vendor")) or "").lower() or None
    elif doc.text(node) is not None:
        for token in (doc.text(node) or "").replace(" ", "").split(":"):
            if token.lower() in _VENDORS:
                vendor = token.lower()
            elif token[:1].isalpha():
                names = [name for name in token.split(",") if name]
    names = [name.removeprefix("tpu-") for name in names if name]
    if not names and vendor is not None and _VENDORS.get(vendor):
        names = [_VENDORS[vendor] or ""]
    return (names, doc.key_loc(*pair)) if names else None


def _env(node: yaml.Node | None, doc: Doc) -> dict[str, EnvVal]:
    env: dict[str, EnvVal] = {}
    for item in doc.seq(node):
        entry = doc.text(item) or ""
        if "=" in entry:  # `KEY` alone comes from the caller's environment: unknown here
            written, _, setting = entry.partition("=")
            env[written.strip()] = EnvVal(setting, doc.loc(item))
    return {**env, **doc.env(node)}  # `env:` is a list of KEY=value, or a mapping
