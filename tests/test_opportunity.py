"""ECO301 quantization-opportunity: what its findings say, and where it stays silent. The
positions are checked by the annotated fixtures in fixtures/opportunity/."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, run_cli

SCRIPT = "vllm serve Qwen/Qwen2-7B-Instruct --dtype float16\n"


def eco301(*args: str, cwd: Path | None = None) -> list[dict]:
    ran = run_cli(*args, "--format", "json", "--exit-zero", cwd=cwd)
    assert ran.exit_code == 0, ran.output + ran.stderr
    return [f for f in ran.json()["findings"] if f["code"] == "ECO301"]


def test_opt_in() -> None:
    assert eco301(str(FIXTURES / "opportunity")) == []


def test_message_and_notes_carry_the_saving_and_the_quality_cost() -> None:
    findings = eco301(str(FIXTURES / "opportunity" / "serve.sh"), "--extend-select", "ECO301")
    first = findings[0]
    assert first["severity"] == "note" and first["confidence"] == 3
    assert "above the Ada Lovelace NF4 crossover (3.9B)" in first["message"]
    assert "4-bit NF4 saves 15–23% energy per token" in first["message"]
    assert any(note.startswith("Quality: NF4 perplexity vs FP16") for note in first["notes"])
    assert any("llm_int8_threshold=0.0 cost +25.38% perplexity on 01-ai/Yi-1.5-6B" in note for note in first["notes"])
    assert {row["id"] for row in first["evidence"]} >= {"skill-4090d-qwen2-7b-fp16", "skill-4090d-qwen2-7b-nf4"}
    assert first["fix"]["snippet"].startswith("--quantization bitsandbytes")


def test_silent_on_non_nvidia_and_unknown_sizes(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(SCRIPT + "vllm serve ./weights/bot --dtype float16\n", encoding="utf-8")
    assert eco301(".", "--select", "ECO301", "--gpu", "MI300X", "--isolated", cwd=tmp_path) == []
    found = eco301(".", "--select", "ECO301", "--gpu", "RTX 4090D", "--isolated", cwd=tmp_path)
    assert [f["line"] for f in found] == [1]  # the local weights of unknown size are not reported
