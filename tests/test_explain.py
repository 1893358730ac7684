"""`ecolint explain PATH[:LINE]`: the advisory answer for the setups the extractors find in a
file, starting from what the code says."""

from __future__ import annotations

from pathlib import Path

from advisor_numbers import unexplained_numbers
from conftest import run_cli

SCRIPT = """#!/usr/bin/env bash
# Two replicas.
vllm serve Qwen/Qwen2-7B-Instruct --dtype float16 --port 8000 &

text-generation-launcher --model-id Qwen/Qwen2-1.5B-Instruct --quantize bitsandbytes-nf4 --max-batch-size 8 &
wait
"""

PYTHON = """import torch
from transformers import AutoModelForCausalLM

MODEL = "Qwen/Qwen2-7B"


def load():
    return AutoModelForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float16)
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def explain_json(tmp_path: Path, *args: str) -> dict:
    ran = run_cli("explain", *args, "--isolated", "--format", "json", cwd=tmp_path)
    assert ran.exit_code == 0, ran.output + ran.stderr
    return ran.json()


def test_every_setup_in_a_shell_script(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", SCRIPT)
    document = explain_json(tmp_path, "serve.sh", "--gpu", "RTX 4090D")
    assert [s["framework"] for s in document["setups"]] == ["vllm", "tgi"]
    vllm, tgi = (s["advice"] for s in document["setups"])
    assert vllm["recommended"]["precision"] == "nf4"
    assert vllm["config"] == {**vllm["config"], "framework": "vllm", "defaulted": False}
    assert vllm["config"]["line"].startswith("vllm serve Qwen/Qwen2-7B-Instruct --quantization bitsandbytes")
    assert tgi["recommended"]["precision"] == "fp16"  # 1.5B NF4 is below the Ada crossover
    assert tgi["setup"]["batch_size"] == 8 and "batch_size" not in {q["input"] for q in tgi["questions"]}


def test_the_setup_at_a_line_starting_from_what_the_code_says(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", SCRIPT)
    document = explain_json(tmp_path, "serve.sh:3", "--gpu", "RTX 4090D")
    assert document["line"] == 3 and len(document["setups"]) == 1
    entry = document["setups"][0]
    facts = {f["fact"]: f for f in entry["from_code"]}
    assert facts["precision"]["value"] == "fp16" and facts["precision"]["line"] == 3
    assert facts["model"]["value"] == "Qwen/Qwen2-7B-Instruct"
    assert entry["advice"]["inputs"]["precision"] == "fp16"
    assert "precision" not in entry["advice"]["assumed"]
    text = run_cli("explain", "serve.sh:3", "--gpu", "RTX 4090D", "--isolated", cwd=tmp_path).output
    assert text.startswith("serve.sh:3: vllm\n  the code says: model=Qwen/Qwen2-7B-Instruct (line 3, flag)")
    assert "Recommend NF4 for Qwen/Qwen2-7B-Instruct on RTX 4090D" in text
    assert text.rstrip().splitlines()[-1].startswith("Evidence: zenodo.org")


def test_a_line_between_setups_takes_the_nearest(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", SCRIPT)
    document = explain_json(tmp_path, "serve.sh:4", "--gpu", "RTX 4090D")
    assert len(document["setups"]) == 1


def test_python_setup(tmp_path: Path) -> None:
    write(tmp_path / "app.py", PYTHON)
    document = explain_json(tmp_path, "app.py", "--gpu", "RTX 4090D")
    (entry,) = document["setups"]
    advice = entry["advice"]
    assert entry["framework"] == "transformers"
    assert advice["recommended"]["precision"] == "nf4"
    assert advice["comparison"]["line"] == "Baseline FP16 → 71.2 J/request · Recommended NF4 → 47.0 J/request (−34%)"
    assert advice["confidence"]["stars"] == 3
    assert advice["config"]["framework"] == "transformers" and advice["config"]["defaulted"] is False


def test_gpu_from_the_configuration(tmp_path: Path) -> None:
    write(tmp_path / "ecolint.toml", 'gpu = "T4"\n')
    write(tmp_path / "serve.sh", SCRIPT)
    ran = run_cli("explain", "serve.sh:3", "--format", "json", cwd=tmp_path)
    advice = ran.json()["setups"][0]["advice"]
    assert advice["setup"]["gpu"] == "T4" and advice["setup"]["gpu_source"] == "config"
    assert "gpu" not in {q["input"] for q in advice["questions"]}


def test_no_gpu_anywhere_is_asked(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", SCRIPT)
    advice = explain_json(tmp_path, "serve.sh:3")["setups"][0]["advice"]
    assert advice["confidence"]["stars"] == 1
    assert "gpu" in {q["input"] for q in advice["questions"]}


def test_json_shape(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", SCRIPT)
    document = explain_json(tmp_path, "serve.sh")
    assert list(document) == ["version", "command", "path", "line", "setups", "findings", "footer"]
    assert list(document["setups"][0]) == ["location", "framework", "label", "from_code", "advice", "findings"]
    assert set(document["setups"][0]["from_code"][0]) == {"fact", "value", "line", "how"}


def test_every_number_comes_from_the_knowledge_base(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", SCRIPT)
    write(tmp_path / "app.py", PYTHON)
    for args in (("serve.sh", "--gpu", "RTX 4090D"), ("app.py", "--gpu", "A100", "--max-memory", "8")):
        document = explain_json(tmp_path, *args)
        # The lint findings are check's own JSON (fingerprints, spans), tested with check.
        document.pop("findings")
        for entry in document["setups"]:
            entry.pop("findings")
        assert unexplained_numbers(document, args) == []


def test_nothing_recognised_exits_1(tmp_path: Path) -> None:
    write(tmp_path / "build.sh", "#!/bin/sh\nmake all\n")
    ran = run_cli("explain", "build.sh", "--isolated", cwd=tmp_path)
    assert ran.exit_code == 1
    assert "No inference setup recognised in build.sh" in ran.output


def test_bad_targets_exit_2(tmp_path: Path) -> None:
    write(
        tmp_path / "broken.py", "from transformers import AutoModelForCausalLM\nAutoModelForCausalLM.from_pretrained(\n"
    )
    for target, message in (
        ("missing.py", "no such file"),
        (".", "not a directory"),
        ("broken.py", "cannot be analysed"),
        ("x.sh:0", "line numbers start at 1"),
    ):
        ran = run_cli("explain", target, "--isolated", cwd=tmp_path)
        assert ran.exit_code == 2, (target, ran.output, ran.stderr)
        assert message in ran.stderr
        assert "Traceback" not in ran.output + ran.stderr


def test_an_editor_buffer_is_explained_as_the_file_it_stands_for(tmp_path: Path) -> None:
    """What an editor holds (not yet saved) gives the same answer explain gives for the file."""
    from ecolint import knowledge
    from ecolint.advisor.explain import answer
    from ecolint.config import Config
    from ecolint.engine import setups_in_text

    saved = explain_json(tmp_path, str(write(tmp_path / "serve.sh", SCRIPT)) + ":5")
    (tmp_path / "serve.sh").write_text("# nothing here yet\n", encoding="utf-8")
    kb = knowledge.load()
    found, errors = setups_in_text(tmp_path / "serve.sh", SCRIPT.encode(), kb, Config(), cwd=tmp_path)
    buffer = answer(found, [], "serve.sh", 5, kb, Config())
    assert errors == []
    assert [entry["framework"] for entry in buffer["setups"]] == ["tgi"]
    assert buffer["setups"][0]["advice"] == saved["setups"][0]["advice"]
