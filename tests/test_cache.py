"""The extraction cache: on by default for `ecolint check` (.ecolint_cache/ at the project root,
as ruff's .ruff_cache), off with --no-cache; a run over unchanged files reports exactly what a
fresh run reports — including when a file it depends on (an imported constant, a .env) changes,
appears or disappears."""

from __future__ import annotations

import datetime
import json
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, run_cli

from ecolint import cache as cache_module
from ecolint import engine
from ecolint.cli import main
from ecolint.extract import python as python_extractor
from ecolint.extract.python import imports as python_imports

APP = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "from settings import MODEL_ID\n"
    "model = AutoModelForCausalLM.from_pretrained(\n"
    "    MODEL_ID, quantization_config=BitsAndBytesConfig(load_in_8bit=True)\n"
    ")\n"
)
COMPOSE = (
    "services:\n"
    "  llm:\n"
    "    image: vllm/vllm-openai:latest\n"
    "    command: [--model, Qwen/Qwen2-7B, --quantization, '${QUANT:-awq}', --enforce-eager]\n"
)


def tree(tmp_path: Path, model: str = "Qwen/Qwen2-1.5B") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "settings.py").write_text(f'MODEL_ID = "{model}"\n')
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


def check(root: Path, *args: str) -> str:
    ran = run_cli(".", "--isolated", "--format", "json", "--exit-zero", "--gpu", "RTX 4090D", *args, cwd=root)
    assert ran.exit_code == 0, ran.stderr
    return ran.output


def findings(output: str) -> list[tuple[str, str, str]]:
    return sorted((f["path"], f["code"], f["message"]) for f in json.loads(output)["findings"])


@pytest.fixture(autouse=True)
def _cache_as_a_user_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest.py turns the cache off for the repository's sake; these trees are tmp_path's."""
    monkeypatch.delenv("ECOLINT_NO_CACHE", raising=False)


def files_in(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*"))


def test_the_cache_is_on_by_default_at_the_project_root(tmp_path: Path) -> None:
    root = tree(tmp_path / "project")
    (root / ".git").mkdir()
    (root / "deploy").mkdir()
    (root / "deploy" / "serve.sh").write_text("vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n")
    check(root / "deploy")  # a sub-folder: the cache is still the project's
    cache = root / ".ecolint_cache"
    assert sorted(p.name for p in cache.iterdir())[:2] == [".gitignore", "CACHEDIR.TAG"]
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert [p.name for p in cache.glob("extract-*.json")] and not (root / "deploy" / ".ecolint_cache").exists()


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree(tmp_path)
    before = files_in(tmp_path)
    check(tmp_path, "--no-cache")
    assert files_in(tmp_path) == before
    monkeypatch.setenv("ECOLINT_NO_CACHE", "1")
    check(tmp_path)
    assert files_in(tmp_path) == before


def test_standard_input_writes_no_cache(tmp_path: Path) -> None:
    tree(tmp_path)
    before = files_in(tmp_path)
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        ran = runner.invoke(
            main, ["-", "--stdin-filename", "app.py", "--isolated", "--format", "json", "--exit-zero"], input=APP
        )
    finally:
        os.chdir(old)
    assert ran.exit_code == 0 and json.loads(ran.stdout)["findings"]
    assert files_in(tmp_path) == before


def test_explain_writes_no_cache(tmp_path: Path) -> None:
    tree(tmp_path)
    before = files_in(tmp_path)
    assert run_cli("explain", "app.py", "--isolated", cwd=tmp_path).exit_code == 0
    assert files_in(tmp_path) == before


def test_a_read_only_cache_is_used_and_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path)
    cold = check(root)
    cache = root / ".ecolint_cache"
    stored = {p.name: p.read_bytes() for p in cache.iterdir()}
    (root / "other.py").write_text(APP)  # a new file: an entry the run would like to write
    cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(cache, os.W_OK):  # root may write anywhere: the system answers as to a user
            monkeypatch.setattr(cache_module.os, "access", lambda path, mode: not mode & os.W_OK)

        def no_parse(*args: object) -> None:
            raise AssertionError("an unchanged file was parsed again")

        monkeypatch.setattr(python_imports, "_parse", no_parse)  # settings.py comes from the cache
        ran = run_cli(".", "--isolated", "--format", "json", "--exit-zero", "--gpu", "RTX 4090D", cwd=root)
    finally:
        cache.chmod(stat.S_IRWXU)
    assert ran.exit_code == 0 and ran.stderr == ""
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == stored
    assert set(findings(ran.output)) >= set(findings(cold))


def test_a_touched_file_is_matched_by_its_hash_and_stamped_again(tmp_path: Path) -> None:
    root = tree(tmp_path)
    check(root)
    [stored] = (root / ".ecolint_cache").glob("extract-*.json")
    before = json.loads(stored.read_text())["entries"]["app.py"]
    os.utime(root / "app.py", ns=(10**18, 10**18))
    check(root)
    after = json.loads(stored.read_text())["entries"]["app.py"]
    assert after["digest"] == before["digest"] and after["stamp"] == [10**18, len(APP)]


def test_a_corrupted_default_cache_is_ignored_without_a_traceback(tmp_path: Path) -> None:
    root = tree(tmp_path)
    fresh = check(root)
    for file in (root / ".ecolint_cache").glob("extract-*.json"):
        file.write_bytes(b'{"format": 2, "entries": {"app.py": {"stamp": "x", "digest": [], "consulted": 5')
    ran = run_cli(".", "--isolated", "--format", "json", "--exit-zero", "--gpu", "RTX 4090D", cwd=root)
    assert ran.output == fresh and "Traceback" not in ran.stderr and ran.stderr == ""
    for file in (root / ".ecolint_cache").glob("extract-*.json"):
        file.write_text('{"format": 2, "entries": {"app.py": {"stamp": [1, 2], "digest": 7, "setups": "x"}}}')
    assert check(root) == fresh


def test_a_changed_configuration_starts_a_new_cache_file(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / "ecolint.toml").write_text('gpu = "RTX 4090D"\n')
    run_cli(".", "--exit-zero", cwd=root)
    (root / "ecolint.toml").write_text('gpu = "A100"\n')
    run_cli(".", "--exit-zero", cwd=root)
    assert len(list((root / ".ecolint_cache").glob("extract-*.json"))) == 2


def test_a_warm_run_reports_the_same_without_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path / "src")
    cache = tmp_path / "cache"
    cold = check(root, "--cache-dir", str(cache))
    names = sorted(p.name for p in cache.iterdir())
    assert names[:2] == [".gitignore", "CACHEDIR.TAG"] and len(names) == 3
    assert re.fullmatch(r"extract-[0-9a-f]+\.json", names[2])
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"  # git never offers it for a commit
    # a directory that was there already gets no .gitignore (`--cache-dir .` must not hide a repository)
    check(root, "--cache-dir", str(tmp_path / "src"))
    assert not (root / ".gitignore").exists() and list(root.glob("extract-*.json"))

    def no_parse(*args: object) -> None:
        raise AssertionError("an unchanged file was parsed again")

    monkeypatch.setattr(python_extractor, "_parse", no_parse)
    monkeypatch.setattr(python_imports, "_parse", no_parse)  # nor settings.py, which app.py imports from
    warm = check(root, "--cache-dir", str(cache))
    assert warm == cold
    assert {code for _, code, _ in findings(warm)} == {"ECO101", "ECO103"}


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    cache = str(tmp_path / "cache")
    check(root, "--cache-dir", cache)
    (root / "app.py").write_text(APP.replace("load_in_8bit=True", "load_in_4bit=True"))
    assert findings(check(root, "--cache-dir", cache)) == findings(check(root))
    assert "ECO102" in {code for _, code, _ in findings(check(root, "--cache-dir", cache))}


def test_entries_of_deleted_files_go_at_the_next_write(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    (root / "other.py").write_text(APP)
    cache = tmp_path / "cache"
    check(root, "--cache-dir", str(cache))
    [stored] = cache.glob("extract-*.json")
    assert {"app.py", "other.py"} <= set(json.loads(stored.read_text())["entries"])
    (root / "other.py").unlink()
    (root / "app.py").write_text(APP.replace("load_in_8bit=True", "load_in_4bit=True"))
    check(root, "--cache-dir", str(cache))
    entries = json.loads(stored.read_text())["entries"]
    assert "app.py" in entries and "other.py" not in entries


def test_a_change_in_an_imported_module_is_seen(tmp_path: Path) -> None:
    """app.py's setup takes its model from settings.py: a bigger model there changes the
    finding even though app.py's bytes did not change."""
    root = tree(tmp_path / "src")
    cache = str(tmp_path / "cache")
    small = findings(check(root, "--cache-dir", cache))
    assert any("1.5B" in message for _, _, message in small)
    (root / "settings.py").write_text('MODEL_ID = "Qwen/Qwen2-72B"\n')
    bigger = findings(check(root, "--cache-dir", cache))
    assert bigger == findings(check(root))
    assert bigger != small and not any("1.5B" in message for _, _, message in bigger)


def test_a_dotenv_that_appears_or_disappears_is_seen(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    cache = str(tmp_path / "cache")
    without = findings(check(root, "--cache-dir", cache))
    assert "ECO104" not in {code for _, code, _ in without}
    (root / ".env").write_text("QUANT=fp8\n")
    with_env = findings(check(root, "--cache-dir", cache))
    assert "ECO104" in {code for _, code, _ in with_env} and with_env == findings(check(root))
    (root / ".env").unlink()
    assert findings(check(root, "--cache-dir", cache)) == without


def test_a_config_that_turns_a_switch_on_is_seen(tmp_path: Path) -> None:
    """The model class leaves its 8-bit switch off by default; the project's eval config turning
    it on makes the INT8 branch the one that loads, even though the Python file did not change."""
    root = tmp_path / "src"
    (root / "configs").mkdir(parents=True)
    (root / "README.md").write_text("# chat\n")
    (root / "configs" / "eval.yaml").write_text("model:\n  low_resource: False\n")
    (root / "chat.py").write_text(
        "from transformers import LlamaForCausalLM\n\n\n"
        "class Chat:\n"
        "    def __init__(self, cfg):\n"
        '        self.low_resource = cfg.get("low_resource", False)\n'
        "        if self.low_resource:\n"
        '            self.llm = LlamaForCausalLM.from_pretrained(cfg["path"], load_in_8bit=True)\n'
        "        else:\n"
        '            self.llm = LlamaForCausalLM.from_pretrained(cfg["path"], torch_dtype="auto")\n'
    )
    cache = str(tmp_path / "cache")
    assert "ECO101" not in {code for _, code, _ in findings(check(root, "--cache-dir", cache))}
    (root / "configs" / "eval.yaml").write_text("model:\n  low_resource: True\n")
    turned_on = findings(check(root, "--cache-dir", cache))
    assert "ECO101" in {code for _, code, _ in turned_on} and turned_on == findings(check(root))


def test_the_cache_gives_the_same_output_on_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path / "src")
    cache = str(tmp_path / "cache")
    serial = check(root, "--cache-dir", cache)
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    assert check(root, "--cache-dir", cache) == serial  # warm, in workers
    (root / "app.py").write_text(APP + "\n")
    assert findings(check(root, "--cache-dir", cache)) == findings(check(root))


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    cache = tmp_path / "cache"
    fresh = check(root, "--cache-dir", str(cache))
    for file in cache.glob("extract-*.json"):
        file.write_text('{"format": 1, "entries": {"app.py": {"digest": 7, "setups": "x"}}')
    assert check(root, "--cache-dir", str(cache)) == fresh
    for file in cache.glob("extract-*.json"):
        file.write_text("\0 not json")
    assert check(root, "--cache-dir", str(cache)) == fresh


def test_an_unwritable_cache_is_a_note_not_a_failure(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    ran = run_cli(
        ".", "--isolated", "--format", "json", "--gpu", "RTX 4090D", "--cache-dir", str(blocker / "cache"), cwd=root
    )
    assert ran.exit_code == 1  # the findings, as without a cache
    assert "cannot write the cache" in ran.stderr and "Traceback" not in ran.stderr
    assert findings(ran.output) == findings(check(root))


def test_cache_dir_in_the_configuration_is_relative_to_it_and_no_cache_wins(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    (root / "ecolint.toml").write_text('cache-dir = ".ecolint_cache"\ngpu = "RTX 4090D"\n')
    run_cli(".", "--format", "json", "--exit-zero", cwd=root)
    assert list((root / ".ecolint_cache").glob("extract-*.json"))
    for file in (root / ".ecolint_cache").glob("extract-*.json"):
        file.unlink()
    run_cli(".", "--format", "json", "--exit-zero", "--no-cache", cwd=root)
    assert list((root / ".ecolint_cache").glob("extract-*.json")) == []
    # the cache directory is never walked, like .ruff_cache
    (root / ".ecolint_cache" / "serve.sh").write_text("vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n")
    paths = {
        f["path"] for f in json.loads(run_cli(".", "--format", "json", "--exit-zero", cwd=root).output)["findings"]
    }
    assert paths and not any(".ecolint_cache" in path for path in paths)


def test_extractors_reach_the_tree_only_through_the_context() -> None:
    """What the cache re-checks is what ExtractContext noted: an extractor that opened, listed
    or tested a file by itself would make a cached answer silently stale."""
    pattern = re.compile(
        r"\.(read_text|read_bytes|is_file|exists|iterdir|glob|rglob|stat)\(|\bopen\(|os\.(listdir|scandir|walk|stat)\("
    )
    offenders = []
    for source in sorted((REPO / "ecolint" / "extract").glob("*.py")):
        if source.name == "__init__.py":
            continue
        for number, line in enumerate(source.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and "context." not in code:
                offenders.append(f"{source.name}:{number}: {line.strip()}")
    assert offenders == []


def test_a_warm_run_skips_the_byte_scans_of_unchanged_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the prefilter turned away, and the pins a requirements file gives, are kept too:
    an unchanged file is neither scanned nor read for pins again, and a changed one is."""
    root = tree(tmp_path)
    (root / "notes.yaml").write_text("kind: ConfigMap\ndata: {a: b}\n")
    (root / "requirements.txt").write_text("torch==2.1.0\nbitsandbytes==0.41.0\n")
    cold = check(root)

    def no_scan(*args: object) -> bool:
        raise AssertionError("an unchanged file was scanned again")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "may_hold_setup_bytes", no_scan)
        patch.setattr(engine, "_pins", no_scan)
        assert check(root) == cold
    (root / "requirements.txt").write_text("torch==2.6.0\nbitsandbytes==0.45.0\n")
    assert findings(check(root)) == findings(check(root, "--no-cache"))


def test_a_read_only_checkout_gets_no_cache_and_no_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path)
    before = files_in(root)
    root.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(root, os.W_OK):  # root may write anywhere: the system answers as to a user
            monkeypatch.setattr(cache_module.os, "access", lambda path, mode: not mode & os.W_OK)
        ran = run_cli(".", "--isolated", "--format", "json", "--exit-zero", "--gpu", "RTX 4090D", cwd=root)
    finally:
        root.chmod(stat.S_IRWXU)
    assert ran.exit_code == 0 and ran.stderr == "" and findings(ran.output)
    assert files_in(root) == before


def test_a_warm_run_reads_only_the_files_findings_need(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unchanged file is answered from its entry and one stat; a file whose setups have a
    finding (the report needs its text) or with an ignore comment (checked on every run) is
    read."""
    root = tree(tmp_path)
    (root / "notes.yaml").write_text("kind: ConfigMap\ndata: {a: b}\n")
    (root / "clean.sh").write_text("vllm serve Qwen/Qwen2-7B\n")  # a setup without a finding
    (root / "helpers.py").write_text("def f():\n    return 1  # ecolint: ignore[ECO1O1]\n")
    cold = check(root)
    read: list[str] = []
    real_read = engine._read

    def recording(item: engine.FileWork, max_file_size: int) -> object:
        read.append(item.display)
        return real_read(item, max_file_size)

    monkeypatch.setattr(engine, "_read", recording)
    warm = check(root)
    assert warm == cold
    assert sorted(read) == ["app.py", "helpers.py"]  # not compose.yaml nor clean.sh: no finding


KUBEAI_MODEL = (
    "apiVersion: kubeai.org/v1\n"
    "kind: Model\n"
    "metadata:\n"
    "  name: llama-fp8\n"
    "spec:\n"
    "  features: [TextGeneration]\n"
    "  url: hf://neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8\n"
    "  engine: VLLM\n"
    "  args: [--max-num-seqs=1, --enforce-eager]\n"
    "  resourceProfile: nvidia-gpu-l4:1\n"
)


def kubeai_values(accelerator: str) -> str:
    return (
        "resourceProfiles:\n"
        "  nvidia-gpu-l4:\n"
        "    nodeSelector:\n"
        f'      cloud.google.com/gke-accelerator: "{accelerator}"\n'
    )


def setup_gpus(output: str) -> list[tuple[str, str, str]]:
    return sorted((f["path"], f["code"], f["setup"]["gpu"]) for f in json.loads(output)["findings"])


def test_a_changed_gpu_in_the_platform_file_changes_the_finding(tmp_path: Path) -> None:
    """The GPU of a KubeAI Model is stated in another file (the chart's resourceProfiles
    values): a warm run after that file changes reports the new GPU, as a fresh run does."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "llama.yaml").write_text(KUBEAI_MODEL)
    values = tmp_path / "kubeai.yaml"
    values.write_text(kubeai_values("nvidia-l4"))
    before = run_cli(".", "--isolated", "--format", "json", "--exit-zero", cwd=tmp_path).output
    assert {gpu for _, _, gpu in setup_gpus(before)} == {"nvidia-l4"}
    values.write_text(kubeai_values("nvidia-h100-80gb"))
    after = run_cli(".", "--isolated", "--format", "json", "--exit-zero", cwd=tmp_path).output
    assert {gpu for _, _, gpu in setup_gpus(after)} == {"nvidia-h100-80gb"}
    fresh = run_cli(".", "--isolated", "--format", "json", "--exit-zero", "--no-cache", cwd=tmp_path).output
    assert after == fresh


def test_a_platform_file_running_a_python_script_is_read_afresh(tmp_path: Path) -> None:
    """A SkyPilot task that runs a Python script on a stated GPU: whatever the task's GPU does to
    the script's findings (issue 13 carries it there), a warm run after a change of GPU reports
    what a fresh run reports."""
    root = tree(tmp_path)
    task = root / "task.yaml"
    task.write_text("resources:\n  accelerators: L4:1\nrun: |\n  python app.py\n")
    stated = (".", "--isolated", "--format", "json", "--exit-zero")  # no --gpu: the task's own
    run_cli(*stated, cwd=root)
    task.write_text("resources:\n  accelerators: A100:1\nrun: |\n  python app.py\n")
    assert run_cli(*stated, cwd=root).output == run_cli(*stated, "--no-cache", cwd=root).output


def test_a_changed_pyproject_pin_is_seen(tmp_path: Path) -> None:
    root = tree(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["torch==2.1.0", "bitsandbytes==0.41.0"]\n')
    check(root)
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["torch==2.6.0", "bitsandbytes==0.45.0"]\n')
    assert check(root) == check(root, "--no-cache")


def test_a_new_version_or_changed_rules_data_start_a_new_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries hold what this build of ecolint extracted: another version, or another rules/
    (the knowledge extraction may read), never reads them."""
    from ecolint import knowledge

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "evidence.yaml").write_text("gpus: []\n")
    monkeypatch.setattr(knowledge, "rules_dir", lambda: rules)
    root, cwd = tmp_path / "tree", tmp_path
    first = cache_module.ExtractionCache(tmp_path / "cache", root, cwd).file
    assert cache_module.ExtractionCache(tmp_path / "cache", root, cwd).file == first
    (rules / "evidence.yaml").write_text("gpus: [{match: l4}]\n")
    second = cache_module.ExtractionCache(tmp_path / "cache", root, cwd).file
    monkeypatch.setattr(cache_module, "__version__", "99.0.0")
    third = cache_module.ExtractionCache(tmp_path / "cache", root, cwd).file
    assert len({first, second, third}) == 3


def test_the_evidence_base_is_kept_parsed_beside_the_cache(tmp_path: Path) -> None:
    """A run with findings parses rules/evidence.yaml; the cache keeps it as JSON, and a run
    reading that JSON reports exactly what a fresh run reports."""
    from ecolint import knowledge

    root = tree(tmp_path / "project")
    fresh = check(root, "--no-cache")
    try:
        for _ in range(3):  # the first makes the cache directory, the second the memo, the third reads it
            knowledge.load.cache_clear()
            assert findings(check(root)) == findings(fresh)
        assert list((root / ".ecolint_cache").glob("knowledge-*.json"))
    finally:
        knowledge.load.cache_clear()


def test_yaml_that_json_cannot_carry_is_never_kept(tmp_path: Path) -> None:
    from ecolint import knowledge

    assert knowledge._parsed("when: 2026-01-01\n", tmp_path) == {"when": datetime.date(2026, 1, 1)}
    assert knowledge._parsed("rows: [{id: a, n: 3}]\n", tmp_path) == {"rows": [{"id": "a", "n": 3}]}
    assert len(list(tmp_path.glob("knowledge-*.json"))) == 1  # the second only
    assert knowledge._parsed("rows: [{id: a, n: 3}]\n", tmp_path) == {"rows": [{"id": "a", "n": 3}]}


SERVE_PY = (
    "import argparse\n"
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--model-id", default="Qwen/Qwen2.5-7B-Instruct")\n'
    'parser.add_argument("--int8", action="store_true")\n'
    "args = parser.parse_args()\n"
    "model = AutoModelForCausalLM.from_pretrained(\n"
    "    args.model_id, quantization_config=BitsAndBytesConfig(load_in_8bit=args.int8)\n"
    ")\n"
)


def warm_invocations(root: Path, cache: str) -> list[tuple[str, str]]:
    """``invoked`` of a warm run, which must report what a fresh run reports."""
    warm = check(root, "--cache-dir", cache)
    assert warm == check(root, "--no-cache")
    return invoked(warm)


def invoked(output: str) -> list[tuple[str, str]]:
    """(the invoking command, the model) of the invoked setups that have findings."""
    return sorted(
        {
            (f["setup"]["label"], f["setup"]["model"])
            for f in json.loads(output)["findings"]
            if (f["setup"].get("label") or "").startswith("invoked by")
        }
    )


def test_a_warm_run_follows_the_scripts_that_run_a_python_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The invocation pass (which file runs which script, with which arguments) is kept per
    invoking file: after an invoking script is edited, added, renamed or deleted, a warm run
    reports what a fresh run reports; the unchanged ones are not read again."""
    from ecolint import invocations

    root = tmp_path / "src"
    (root / "deploy").mkdir(parents=True)
    (root / "serve.py").write_text(SERVE_PY)
    run = root / "deploy" / "run.sh"
    run.write_text("#!/bin/sh\npython ../serve.py --int8 --model-id Qwen/Qwen2-1.5B\n")
    cache = str(tmp_path / "cache")

    assert warm_invocations(root, cache) == [("invoked by deploy/run.sh:2", "Qwen/Qwen2-1.5B")]
    run.write_text("#!/bin/sh\npython ../serve.py --int8 --model-id Qwen/Qwen2-7B\n")  # edited
    assert warm_invocations(root, cache) == [("invoked by deploy/run.sh:2", "Qwen/Qwen2-7B")]
    run.rename(root / "deploy" / "start.sh")  # renamed
    assert warm_invocations(root, cache) == [("invoked by deploy/start.sh:2", "Qwen/Qwen2-7B")]
    # added (a quoted word: its locator is no part of what the script's entry records)
    (root / "job.yaml").write_text("resources:\n  accelerators: L4:1\nrun: |\n  python serve.py '--int8'\n")
    assert [label for label, _ in warm_invocations(root, cache)] == [
        "invoked by deploy/start.sh:2",
        "invoked by job.yaml:4",
    ]
    (root / "deploy" / "start.sh").unlink()  # deleted
    assert warm_invocations(root, cache) == [("invoked by job.yaml:4", "Qwen/Qwen2.5-7B-Instruct")]

    def no_extractor(kind: str) -> None:
        raise AssertionError(f"an unchanged {kind} file was read again for the invocation pass")

    def no_parse(*args: object) -> None:
        raise AssertionError("an invoked script whose invocations did not change was parsed again")

    monkeypatch.setattr(invocations, "load_extractor", no_extractor)
    monkeypatch.setattr(python_extractor, "_parse", no_parse)
    assert invoked(check(root, "--cache-dir", cache)) == [("invoked by job.yaml:4", "Qwen/Qwen2.5-7B-Instruct")]


ENV_SERVE_PY = (
    "import os\n"
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    'if os.environ.get("QUANTIZE", "none") == "8bit":\n'
    "    quant = BitsAndBytesConfig(load_in_8bit=True)\n"
    "else:\n"
    "    quant = None\n"
    'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", quantization_config=quant)\n'
)


def test_a_warm_run_follows_makefiles_and_the_environment_their_commands_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invocation pass takes its Makefiles (``*.mk`` too, a name no file kind reads) from the
    run's walk, and its cache entry keeps the environment a command sets: a warm run reports
    what a fresh run reports, and an unchanged Makefile is not read again."""
    from ecolint import invocations

    root = tmp_path / "src"
    (root / "make").mkdir(parents=True)
    (root / "serve.py").write_text(ENV_SERVE_PY)
    recipe = root / "make" / "serve.mk"
    recipe.write_text("serve:\n\tQUANTIZE=8bit python serve.py\n")
    cache = str(tmp_path / "cache")

    assert warm_invocations(root, cache) == [("invoked by make/serve.mk:2", "Qwen/Qwen2-1.5B")]
    recipe.write_text("serve:\n\tQUANTIZE=none python serve.py\n")  # edited: the branch not taken
    assert warm_invocations(root, cache) == []
    recipe.write_text("serve:\n\tQUANTIZE=8bit  python serve.py\n")
    assert warm_invocations(root, cache) == [("invoked by make/serve.mk:2", "Qwen/Qwen2-1.5B")]

    def no_extractor(kind: str) -> None:
        raise AssertionError(f"an unchanged {kind} file was read again for the invocation pass")

    monkeypatch.setattr(invocations, "load_extractor", no_extractor)
    assert invoked(check(root, "--cache-dir", cache)) == [("invoked by make/serve.mk:2", "Qwen/Qwen2-1.5B")]


def test_a_cold_run_on_workers_keeps_the_project_pass_for_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold run makes the project pass on its workers; what each file gave it (the commands
    that run a script, a module's loader helpers) comes back to the cache, so the first warm run
    reads none of those files again."""
    from ecolint import invocations
    from ecolint.extract.python import modules

    root = tmp_path / "src"
    (root / "deploy").mkdir(parents=True)
    (root / "serve.py").write_text(SERVE_PY)
    (root / "loading.py").write_text(LOADING)
    (root / "app.py").write_text('from loading import load_model\nmodel = load_model("Qwen/Qwen2-7B", True)\n')
    (root / "deploy" / "run.sh").write_text("#!/bin/sh\npython ../serve.py --int8 --model-id Qwen/Qwen2-1.5B\n")
    cache = str(tmp_path / "cache")
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    cold = check(root, "--cache-dir", cache)
    assert invoked(cold) == [("invoked by deploy/run.sh:2", "Qwen/Qwen2-1.5B")]
    assert "app.py" in {path for path, _, _ in findings(cold)}  # its call of the helper

    def not_again(*args: object) -> None:
        raise AssertionError("a file the cold run's project pass looked at was read again for it")

    monkeypatch.setattr(invocations, "load_extractor", not_again)
    monkeypatch.setattr(modules, "_helper_names", not_again)
    assert check(root, "--cache-dir", cache) == cold


def test_a_warm_run_follows_the_entrypoint_of_the_image_a_compose_service_builds(tmp_path: Path) -> None:
    """A compose command that names only the script runs it through the ENTRYPOINT of the image
    the service builds: the invocation pass reads that Dockerfile for the compose file, and a
    warm run sees it change though the compose file did not."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "serve.py").write_text(SERVE_PY)
    (root / "docker-compose.yml").write_text(
        "services:\n  demo:\n    build: .\n    command: serve.py --int8 --model-id Qwen/Qwen2-1.5B\n"
    )
    dockerfile = root / "Dockerfile"
    dockerfile.write_text('FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\nENTRYPOINT ["python3"]\n')
    cache = str(tmp_path / "cache")

    assert warm_invocations(root, cache) == [("invoked by docker-compose.yml:4", "Qwen/Qwen2-1.5B")]
    assert warm_invocations(root, cache) == [("invoked by docker-compose.yml:4", "Qwen/Qwen2-1.5B")]
    dockerfile.write_text('FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\nENTRYPOINT ["/bin/sh"]\n')
    assert warm_invocations(root, cache) == []


LOADING = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "\n"
    "\n"
    "def load_model(name, quantize=False):\n"
    "    config = BitsAndBytesConfig(load_in_8bit=quantize)\n"
    "    return AutoModelForCausalLM.from_pretrained(name, quantization_config=config)\n"
)


def test_a_warm_run_follows_loader_helpers_as_their_modules_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The module index keeps each Python file's loader helpers by its (mtime, size): after the
    helper's module is renamed, deleted or added again, a warm run reports what a fresh run
    reports; the unchanged files are not scanned again."""
    from ecolint.extract.python import modules

    root = tmp_path / "src"
    (root / "core").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "loading.py").write_text(LOADING)
    (root / "app" / "a.py").write_text(
        'from core.loading import load_model\n\nm = load_model("Qwen/Qwen2-0.5B", True)\n'
    )
    cache = str(tmp_path / "cache")

    def warm_equals_fresh() -> list[tuple[str, str, str]]:
        warm = check(root, "--cache-dir", cache)
        assert warm == check(root, "--no-cache")
        return [(path, code) for path, code, _ in findings(warm) if path == "app/a.py"]

    assert ("app/a.py", "ECO101") in warm_equals_fresh()
    (root / "core" / "loading.py").rename(root / "core" / "loaders.py")  # renamed: the import names nothing
    assert warm_equals_fresh() == []
    (root / "core" / "loading.py").write_text(LOADING.replace("load_model", "load"))  # added, no such helper
    assert warm_equals_fresh() == []
    (root / "core" / "loaders.py").unlink()  # deleted
    (root / "core" / "loading.py").write_text(LOADING)  # the helper again
    assert ("app/a.py", "ECO101") in warm_equals_fresh()

    def no_scan(*args: object) -> None:
        raise AssertionError("an unchanged Python file was scanned again for loader helpers")

    monkeypatch.setattr(modules, "_helper_names", no_scan)
    assert ("app/a.py", "ECO101") in [(path, code) for path, code, _ in findings(check(root, "--cache-dir", cache))]


SERVE_SH = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"


def test_a_warm_run_walks_again_whatever_changed_in_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm run reuses the last walk while every directory, .gitignore, extensionless file
    and link it looked at is as it was; after a file or directory is added, deleted or renamed,
    a .gitignore changes, a shebang appears or a link moves, it reports what a fresh run
    reports."""
    from ecolint import discover, witness

    # the tree is written just now: take its stamps as settled (the walks below are far more
    # than a clock tick apart from the changes, which is what RECENT_NS guards)
    monkeypatch.setattr(witness, "RECENT_NS", 0)
    root = tmp_path / "src"
    # node_modules is never walked, but a link to a directory in it is
    for name in ("a/serve.sh", "a/b/serve.sh", "c/serve.sh", "elsewhere/serve.sh", "node_modules/x/serve.sh"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(SERVE_SH)
    (root / "a" / "b" / "start").write_text(SERVE_SH)  # no shebang: no kind
    (root / "node_modules" / "y").mkdir()
    (root / "node_modules" / "y" / "other.sh").write_text(SERVE_SH)
    (root / "link").symlink_to("node_modules/x", target_is_directory=True)
    cache = str(tmp_path / "cache")
    scans: list[object] = []
    scandir = os.scandir

    def counted(path: object) -> object:
        scans.append(path)
        return scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(discover.os, "scandir", counted)

    def paths() -> list[str]:
        warm = check(root, "--cache-dir", cache)
        assert warm == check(root, "--no-cache")
        return sorted({path for path, _, _ in findings(warm)})

    everything = paths()
    # (a file found through a link is shown where it is)
    assert everything == sorted(
        ["a/serve.sh", "a/b/serve.sh", "c/serve.sh", "elsewhere/serve.sh", "node_modules/x/serve.sh"]
    )
    scans.clear()
    assert check(root, "--cache-dir", cache) == check(root, "--no-cache")
    listed = [path for path in scans if not os.path.isabs(path)]  # the tree, walked from "."
    assert len(listed) == 6  # the fresh run's directories alone: the warm run listed none

    (root / "a" / "b" / "more.sh").write_text(SERVE_SH)  # added
    assert "a/b/more.sh" in paths()
    (root / "a" / "b" / "more.sh").rename(root / "a" / "b" / "renamed.sh")  # renamed
    assert "a/b/renamed.sh" in paths() and "a/b/more.sh" not in paths()
    (root / "c" / "serve.sh").unlink()  # deleted
    assert "c/serve.sh" not in paths()
    (root / "elsewhere").rename(root / "moved")  # a directory renamed
    assert "moved/serve.sh" in paths() and "elsewhere/serve.sh" not in paths()
    (root / "a" / "b" / "start").write_text("#!/bin/sh\n" + SERVE_SH)  # a shebang
    assert "a/b/start" in paths()
    (root / ".gitignore").write_text("moved/\n")  # a .gitignore appears
    assert "moved/serve.sh" not in paths()
    (root / ".gitignore").write_text("renamed.sh\n")  # and changes
    assert "moved/serve.sh" in paths() and "a/b/renamed.sh" not in paths()
    (root / "a" / "b" / ".gitignore").write_text("!renamed.sh\n")  # a nested one
    assert "a/b/renamed.sh" in paths()
    (root / "link").unlink()  # a link that leads elsewhere
    (root / "link").symlink_to("node_modules/y", target_is_directory=True)
    assert "node_modules/y/other.sh" in paths() and "node_modules/x/serve.sh" not in paths()
    (root / "node_modules" / "y" / "third.sh").write_text(SERVE_SH)  # added where the link leads
    assert "node_modules/y/third.sh" in paths()
    (root / ".git" / "info").mkdir(parents=True)  # a work tree: its info/exclude counts
    (root / ".git" / "info" / "exclude").write_text("a/serve.sh\n")
    assert "a/serve.sh" not in paths()
    (root / ".git" / "info" / "exclude").write_text("c/\n")  # changed where the walk never goes
    assert "a/serve.sh" in paths()


def test_a_walk_that_saw_a_stamp_of_this_moment_is_not_kept(tmp_path: Path) -> None:
    """A change in the same clock tick as the walk may leave a directory's mtime as it was: a
    walk of a tree written just now is made again next time."""
    root = tree(tmp_path / "src")
    cache = tmp_path / "cache"
    check(root, "--cache-dir", str(cache))
    [stored] = cache.glob("extract-*.json")
    assert json.loads(stored.read_text())["walk"] == {}


def test_a_file_changed_during_a_warm_run_is_analysed_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm run answers an unchanged file's setups from its stamp and reads its text only
    when a finding needs it: if the file changed in between, its findings are those of what
    it holds now."""
    root = tree(tmp_path / "src")
    cache = str(tmp_path / "cache")
    check(root, "--cache-dir", cache)
    answered = engine._known_by_stamp

    def then_edited(config: engine.WorkerConfig, item: engine.FileWork) -> object:
        outcome = answered(config, item)
        if outcome is not None and item.display == "app.py":
            assert outcome.unread is not None
            (root / "app.py").write_text(APP.replace("load_in_8bit=True", "load_in_4bit=True"))
        return outcome

    monkeypatch.setattr(engine, "_known_by_stamp", then_edited)
    during = check(root, "--cache-dir", cache)
    monkeypatch.setattr(engine, "_known_by_stamp", answered)
    assert during == check(root, "--no-cache")
    assert "ECO102" in {code for _, code, _ in findings(during)}


def test_a_warm_run_keeps_the_loader_branches_every_call_site_routes_around_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call site's setup through another module's helper carries the helper's span and the
    loading calls it reached; a warm run reads them from the cache and drops the same own
    setups (the helper's 8-bit branch, which the project never asks for)."""
    import shutil

    root = tmp_path / "evals"
    shutil.copytree(REPO / "fixtures" / "python" / "crossmod" / "routed", root)
    cache = tmp_path / "cache"
    cold = check(root, "--cache-dir", str(cache))
    (root / "notes.py").write_text("TODO = 'compare with the 8-bit run'\n")  # the tree changed, these two did not

    def no_parse(*args: object) -> None:
        raise AssertionError("an unchanged file was parsed again")

    monkeypatch.setattr(python_extractor, "_parse", no_parse)
    warm = check(root, "--cache-dir", str(cache))
    assert findings(warm) == findings(cold)
    assert [(path, code) for path, code, _ in findings(warm)] == [("run_eval.py", "ECO105")]
