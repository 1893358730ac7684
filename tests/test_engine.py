"""The engine's guarantees: parallel and serial runs print the same bytes; files without
trigger tokens are never parsed; one broken file does not stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, run_cli

from ecolint import engine


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_parallel_output_is_identical_to_serial(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    args = (str(FIXTURES), "--select", "ALL", "--format", fmt, "--exit-zero")
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 10**12)
    monkeypatch.setattr(engine, "PARALLEL_MIN_CANDIDATES", 10**12)
    serial = run_cli(*args, cwd=REPO).output
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    parallel = run_cli(*args, cwd=REPO).output
    assert serial == parallel
    assert "ECO1" in serial


def test_files_without_triggers_are_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n")  # no trigger token: never parsed, never reported
    (tmp_path / "also_broken.py").write_text("from transformers import AutoModel\nAutoModel.from_pretrained(\n")
    ran = run_cli(str(tmp_path), "--format", "json")
    errors = ran.json()["errors"]
    assert [Path(e["path"]).name for e in errors] == ["also_broken.py"]


def test_a_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    (tmp_path / "a_broken.py").write_text("model = AutoModel.from_pretrained(\n")
    (tmp_path / "b_serve.sh").write_text("vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n")
    document = run_cli(str(tmp_path), "--format", "json").json()
    assert [e["code"] for e in document["errors"]] == ["ECO001"]
    assert [f["code"] for f in document["findings"]] == ["ECO104"]


def test_only_files_with_setups_carry_their_text_back(tmp_path: Path) -> None:
    """A worker hands a file's text back (for suppressions and fingerprints) only when the file
    holds a setup: an install script of megabytes that mentions vLLM and launches nothing was
    pickled to the parent and kept there until the report (kserve's peak: 136 MB -> 74 MB)."""
    from ecolint.extract import ExtractContext

    config = engine.WorkerConfig(context=ExtractContext(root=tmp_path, read_text=lambda p: None), max_file_size=1 << 20)
    launches = engine.FileWork(tmp_path / "serve.sh", "serve.sh", "shell", False)
    mentions = engine.FileWork(tmp_path / "install.sh", "install.sh", "shell", False)
    served = engine.extract(config, launches, b"vllm serve Qwen/Qwen2-7B --quantization fp8\n")
    mentioned = engine.extract(config, mentions, b"echo 'see the vllm docs'\n" * 1000)
    assert served.setups and served.text.startswith("vllm serve")
    assert mentioned.parsed and not mentioned.setups and mentioned.text == ""


def test_the_files_worth_parsing_go_to_the_workers_first_each_alone(tmp_path: Path) -> None:
    """After the project pass, the Python files its prefilter let through go to the workers
    first, the largest first, one per task (heavy files spread over the workers instead of
    waiting behind each other in one chunk); the others follow in the walk's order."""
    from ecolint.extract import ExtractContext
    from ecolint.extract.python.modules import module_index

    items = [engine.FileWork(tmp_path / f"f{i:02}.py", f"f{i:02}.py", "python", False) for i in range(40)]
    verdicts = [(str(item.path), (1, 100 + i), i in (3, 20, 30), None) for i, item in enumerate(items)]
    index = module_index(tmp_path, [item.path for item in items], [], verdicts)
    context = ExtractContext(root=tmp_path, read_text=lambda p: None, modules=index)
    ordered = engine._candidates_first(items, context)
    assert [item.display for item in ordered[:3]] == ["f30.py", "f20.py", "f03.py"]
    assert ordered[3:] == [item for item in items if item.display not in ("f30.py", "f20.py", "f03.py")]
    alone = lambda item: engine._candidate_size(index, item) is not None  # noqa: E731
    chunks = list(engine._chunks(ordered, 16, alone))
    assert [len(chunk) for chunk in chunks] == [1, 1, 1, 16, 16, 5]


def test_python_files_the_project_pass_found_nothing_in_are_not_read_again(tmp_path: Path) -> None:
    """A cold run's per-file pass does not read again the Python files in which the project
    pass (which read them a moment before) found no loading call and no import of a loader
    helper: it gives them the outcome reading them would give, cache entry included. Files it
    must still read: the candidates, a helper's callers, a file with an ignore comment (whose
    codes are checked), a binary one (it says so), one over max-file-size (it says so)."""
    import functools

    from ecolint.cache import ExtractionCache
    from ecolint.extract import ExtractContext
    from ecolint.extract.python.modules import helpers_in, module_index
    from ecolint.prefilter import python_may_hold_setup
    from ecolint.sources import read_text

    sources = {
        "loaders.py": "from transformers import AutoModelForCausalLM\n\n"
        "def load_model(name):\n    return AutoModelForCausalLM.from_pretrained(name)\n",
        "app.py": "from loaders import load_model\n\nmodel = load_model('Qwen/Qwen2-7B')\n",
        "through.py": "import loaders as L\n\nmodel = L.load_model('Qwen/Qwen2-7B')\n",
        "plain.py": "import os\n\nprint(os.getcwd())\n",
        "noimports.py": "x = 1\n",
        "marked.py": "import os  # ecolint: ignore[ECO999]\n",
        "big.py": "import os\n" + "# padding\n" * 50,
    }
    for name, text in sources.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.py").write_bytes(b"import os\n\0\0")
    paths = sorted(tmp_path.glob("*.py"))
    verdicts: list = []
    unread = functools.partial(engine._unread, digest=True)
    helpers = helpers_in(paths, python_may_hold_setup, None, verdicts, unread)
    index = module_index(tmp_path, paths, helpers, verdicts)
    context = ExtractContext(root=tmp_path, read_text=read_text, modules=index)
    config = engine.WorkerConfig(context, 300, ExtractionCache(tmp_path / "cache", tmp_path, tmp_path))
    items = [engine.FileWork(path, path.name, "python", False) for path in paths]

    known: list = []
    read = [item.display for item in engine._not_empty(config, items, known)]

    assert read == ["app.py", "big.py", "binary.py", "loaders.py", "marked.py", "through.py"]
    assert [item.display for item, _ in known] == ["noimports.py", "plain.py"]
    for item, outcome in known:
        reading = engine._analyse_file(config, item)
        assert outcome.cache_entry is not None and outcome.cache_entry == reading.cache_entry
        assert (outcome.parsed, outcome.setups, outcome.error, outcome.text) == (
            reading.parsed,
            reading.setups,
            reading.error,
            reading.text,
        )


def test_run_text_analyses_content_held_in_memory_as_the_named_file(tmp_path: Path) -> None:
    from ecolint import knowledge
    from ecolint.config import Config
    from ecolint.engine import Selection, run_text

    kb = knowledge.load()
    data = b"vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"
    result = run_text(tmp_path / "deploy" / "serve.sh", data, kb, Config(), Selection(codes=["ECO104"]), cwd=tmp_path)
    assert [(f.code, f.location.path, f.location.line) for f in result.findings] == [("ECO104", "deploy/serve.sh", 1)]
    assert result.files_seen == 1 and not (tmp_path / "deploy").exists()
    unread = run_text(tmp_path / "notes.txt", data, kb, Config(), Selection(codes=["ECO104"]), cwd=tmp_path)
    assert unread.files_seen == 0 and unread.findings == []


def test_workers_get_the_run_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The settings reach pool workers through their initializer: a configured max-file-size
    skips the same file on a worker as in one process, and nothing leaks into the next run."""
    (tmp_path / "ecolint.toml").write_text("max-file-size = 200\n")
    for i in range(20):
        (tmp_path / f"serve_{i:02}.sh").write_text("vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n")
    big = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n" + "# padding\n" * 40
    (tmp_path / "big.sh").write_text(big)
    args = (".", "--format", "json")
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 10**12)
    monkeypatch.setattr(engine, "PARALLEL_MIN_CANDIDATES", 10**12)
    serial = run_cli(*args, cwd=tmp_path).json()
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    parallel = run_cli(*args, cwd=tmp_path).json()
    assert parallel == serial
    assert [(e["path"], e["message"]) for e in parallel["errors"]] == [
        ("big.sh", f"skipped: {len(big)} bytes is over max-file-size (200)")
    ]
    assert len(parallel["findings"]) == 20
    unlimited = run_cli(*args, "--isolated", cwd=tmp_path).json()
    assert unlimited["errors"] == [] and len(unlimited["findings"]) == 21


def test_the_project_pass_on_the_workers_links_what_one_process_links(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On a pool, the module and invocation indexes are made on the workers, a chunk of files
    at a time (one file a chunk here), and joined: a call site of another module's loader helper
    and a script a shell script runs with its arguments are linked as in one process."""
    from ecolint import knowledge
    from ecolint.config import Config
    from ecolint.setups import PRECISION

    (tmp_path / ".git").mkdir()
    files = {
        "core/__init__.py": "",
        "core/loading.py": (
            "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n\n\n"
            "def load_model(name, quantize=False):\n"
            "    config = BitsAndBytesConfig(load_in_8bit=quantize)\n"
            "    return AutoModelForCausalLM.from_pretrained(name, quantization_config=config)\n"
        ),
        "app/cli.py": 'from core.loading import load_model\n\nmodel = load_model("Qwen/Qwen2-7B", quantize=True)\n',
        "serve.py": (
            "import argparse\nfrom transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
            "parser = argparse.ArgumentParser()\n"
            'parser.add_argument("--int8", action="store_true")\n'
            "args = parser.parse_args()\n"
            "model = AutoModelForCausalLM.from_pretrained(\n"
            '    "Qwen/Qwen2-7B", quantization_config=BitsAndBytesConfig(load_in_8bit=args.int8)\n)\n'
        ),
        "run.sh": "#!/bin/sh\npython serve.py --int8\n",
        **{f"docs/note_{i:02}.md": "nothing here\n" for i in range(8)},
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    kb = knowledge.load()

    def setups() -> list[tuple[str, int, str, object]]:
        found, errors = engine.setups_in(tmp_path, kb, Config())
        assert errors == []
        return sorted(
            (
                s.origin.path.replace(f"{tmp_path}/", ""),
                s.origin.line,
                (s.label or "").replace(f"{tmp_path}/", ""),
                s.get(PRECISION),
            )
            for s, _ in found
            if s.origin is not None
        )

    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 10**12)
    monkeypatch.setattr(engine, "PARALLEL_MIN_CANDIDATES", 10**12)
    serial = setups()
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(engine, "_PROJECT_CHUNK_FILES", 1)
    assert setups() == serial
    assert ("app/cli.py", 3, "", "int8") in serial  # through the helper of core/loading.py
    assert any(label == "invoked by run.sh:2" and precision == "int8" for _, _, label, precision in serial)


def test_the_project_root_outside_git_is_the_nearest_project_top_of_the_path(tmp_path: Path) -> None:
    """No .git: a file's project is the nearest directory with a pyproject.toml, setup.py or
    setup.cfg (not every file under wherever ecolint was started), unless the current
    directory, holding the file, is a project's top itself."""
    from ecolint.project import project_root

    app = tmp_path / "work" / "app"
    (app / "serve").mkdir(parents=True)
    (app / "setup.py").write_text("")
    served = app / "serve" / "main.py"
    served.write_text("")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert project_root(served, None, tmp_path) == app  # started above it: its own project
    assert project_root(served, None, elsewhere) == app  # started away from it
    (tmp_path / "pyproject.toml").write_text("")
    assert project_root(served, None, tmp_path) == tmp_path  # started at a project's top
    (app / "setup.py").unlink()
    assert project_root(served, None, tmp_path / "work") == tmp_path / "work"  # no top below: the cwd
