"""discover.classify: a file's kind from its name (and an extensionless file's shebang)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecolint.discover import classify, may_be_read
from ecolint.extract import known_kinds


@pytest.mark.parametrize(
    "name, head, kind",
    [
        ("app/server.py", b"", "python"),
        ("scripts/serve.sh", b"", "shell"),
        ("scripts/serve.bash", b"", "shell"),
        ("bin/start-server", b"#!/usr/bin/env bash\nset -e\n", "shell"),
        ("bin/start", b"#!/bin/sh\n", "shell"),
        ("bin/start", b"#!/bin/bash -x -e\n", "shell"),
        ("bin/start", b"#!/usr/bin/env -S bash -eu\n", "shell"),
        ("bin/start", b"#!/usr/bin/zsh\n", "shell"),
        ("bin/tool", b"#!/usr/bin/env python3\n", "python"),
        ("bin/tool", b"#!/usr/bin/env node\n", None),
        ("README", b"hello\n", None),
        ("LICENSE", b"", None),
        ("Dockerfile", b"", "dockerfile"),
        ("dockerfile", b"", "dockerfile"),
        ("Dockerfile.gpu", b"", "dockerfile"),
        ("docker/api.Dockerfile", b"", "dockerfile"),
        ("serve.dockerfile", b"", "dockerfile"),
        ("Containerfile", b"", "dockerfile"),
        ("Containerfile.cuda", b"", "dockerfile"),
        ("Dockerfile.md", b"", None),
        ("docker-compose.yml", b"", "yaml"),
        ("k8s/deploy.yaml", b"", "yaml"),
        ("chart/values.yaml", b"", "yaml"),
        (".github/workflows/ci.yml", b"", "yaml"),
        ("Modelfile", b"", "modelfile"),
        ("modelfile", b"", "modelfile"),
        ("ollama/qwen.Modelfile", b"", "modelfile"),
        ("Modelfile.qwen", b"", "modelfile"),
        ("Modelfile.md", b"", None),
        ("pyproject.toml", b"", "pyproject"),
        ("other.toml", b"", None),
        ("requirements.txt", b"", "requirements"),
        ("requirements-gpu.txt", b"", "requirements"),
        ("requirements_dev.in", b"", "requirements"),
        ("dev-requirements.txt", b"", "requirements"),
        ("requirements/base.txt", b"", "requirements"),
        ("constraints.txt", b"", "requirements"),
        ("notes.txt", b"", None),
        ("setup.cfg", b"", None),
        ("image.png", b"\x89PNG", None),
    ],
)
def test_classify(name: str, head: bytes, kind: str | None) -> None:
    assert classify(Path(name), head) == kind


def test_every_kind_is_an_extractor_kind() -> None:
    kinds = set(known_kinds())
    for kind in ("python", "shell", "dockerfile", "yaml", "modelfile", "requirements", "pyproject"):
        assert kind in kinds


def test_empty_or_binary_head_is_safe() -> None:
    assert classify(Path("start"), b"") is None
    assert classify(Path("start"), b"#!") is None
    assert classify(Path("start"), b"\xff\xfe#!/bin/sh") is None


NAME_PARTS = ["", ".", "Dockerfile", "dockerfile", "Containerfile", "Modelfile", "requirements", "constraints",
              "pyproject", "serve", ".py", ".PY", ".ipynb", ".sh", ".bash", ".yaml", ".YML", ".txt", ".in", ".toml",
              ".md", ".gpu", ".json", "-dev", "_x"]  # fmt: skip


def test_the_walk_skips_only_names_classify_never_reads() -> None:
    """The walk builds no path for a file may_be_read turns away: classify must give such a
    file no kind in any directory, and it must have a suffix (no shebang is read). Every name
    of up to three parts above."""
    import itertools

    names = {"".join(parts) for size in (1, 2, 3) for parts in itertools.product(NAME_PARTS, repeat=size)}
    skipped = 0
    for name in sorted(names - {"", ".", ".."}):
        if may_be_read(name):
            continue
        skipped += 1
        for parent in ("src", "requirements", "docker"):
            path = Path(parent) / name
            assert classify(path, b"#!/bin/sh\n") is None and path.suffix != "", path
    assert skipped > 1000  # the test covers names the walk really skips
