"""Confidence and boundaries end to end: what a user reads in the JSON for each situation."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

SCRIPT = "vllm serve {model} --quantization fp8 --enforce-eager {extra}\n"


def findings(
    tmp_path: Path,
    *args: str,
    model: str = "Qwen/Qwen2-7B-Instruct",
    extra: str = "",
    files: dict[str, str] | None = None,
) -> list[dict]:
    (tmp_path / "serve.sh").write_text(SCRIPT.format(model=model, extra=extra))
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    document = run_cli(str(tmp_path), "--format", "json", "--isolated", *args).json()
    assert document["errors"] == []
    return document["findings"]


def test_no_gpu_is_one_star_with_the_assumed_platform_named(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path)
    assert finding["confidence"] == 1
    assert finding["setup"]["gpu_source"] == "assumed" and finding["setup"]["gpu"] == "RTX 4090D"
    assert any("assumed RTX 4090D" in note and "--gpu" in note for note in finding["notes"])


def test_measured_gpu_is_three_stars(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, "--gpu", "RTX 4090D")
    assert finding["confidence"] == 3 and finding["setup"]["gpu_source"] == "config"


def test_unmeasured_gpu_of_a_measured_architecture_is_two_stars_with_a_band(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, "--gpu", "L4")
    assert finding["confidence"] == 2 and finding["setup"]["architecture"] == "ada"
    assert any("±15–25%" in note for note in finding["notes"])


def test_non_nvidia_gpu_silences_nvidia_kernel_rules(tmp_path: Path) -> None:
    # FP8 in eager mode is an NVIDIA kernel effect: nothing measured says it holds on an AMD GPU.
    assert findings(tmp_path, "--gpu", "MI300X") == []


def test_batching_on_a_non_nvidia_gpu_is_one_star_and_says_results_may_not_transfer(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, "--gpu", "MI300X", extra="--max-num-seqs 1")
    assert finding["code"] == "ECO105" and finding["setup"]["architecture"] is None
    assert finding["confidence"] == 1 and "non-nvidia" in finding["boundaries"]
    assert "No measured data available; results may not transfer." in finding["notes"]


def test_stack_newer_than_the_window_lowers_confidence_one_step(tmp_path: Path) -> None:
    (finding,) = findings(
        tmp_path, "--gpu", "RTX 4090D", files={"requirements.txt": "transformers>=4.56.0\nvllm==0.6.3\n"}
    )
    assert finding["confidence"] == 2
    assert "stack-drift" in finding["boundaries"]
    assert finding["setup"]["stack"]["transformers"] == "4.56.0"
    assert any("transformers 4.56.0 ≥ 4.55" in note for note in finding["notes"])


def test_stack_inside_the_window_keeps_confidence(tmp_path: Path) -> None:
    (finding,) = findings(
        tmp_path, "--gpu", "RTX 4090D", files={"requirements.txt": "transformers==4.47.1\nbitsandbytes==0.45.0\n"}
    )
    assert finding["confidence"] == 3 and "stack-drift" not in finding["boundaries"]


def test_large_model_multi_gpu_and_local_weights_add_their_boundaries(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, "--gpu", "H100", model="/models/llama-3-70b", extra="-tp 4")
    assert {"beyond-measured-range", "multi-gpu", "custom-weights"} <= set(finding["boundaries"])
    notes = " ".join(finding["notes"])
    assert "Extrapolated estimate ±20%" in notes and "single-GPU" in notes and "official weights" in notes


def test_gpu_stated_in_the_file_wins_over_the_command_line(tmp_path: Path) -> None:
    manifest = """apiVersion: v1
kind: Pod
metadata: {name: llm}
spec:
  nodeSelector:
    cloud.google.com/gke-accelerator: nvidia-tesla-t4
  containers:
    - name: vllm
      image: vllm/vllm-openai:v0.6.3
      args: ["--model", "Qwen/Qwen2-1.5B-Instruct", "--quantization", "bitsandbytes"]
"""
    (tmp_path / "pod.yaml").write_text(manifest)
    document = run_cli(str(tmp_path / "pod.yaml"), "--format", "json", "--isolated", "--gpu", "A100").json()
    (finding,) = document["findings"]
    assert finding["code"] == "ECO102"
    assert finding["setup"]["gpu_source"] == "platform" and finding["setup"]["architecture"] == "turing"
    # where the GPU was stated: the node selector's line (gpu_origin, beside gpu_source)
    origin = finding["setup"]["gpu_origin"]
    assert (Path(origin["path"]).name, origin["line"], origin["key"]) == ("pod.yaml", 6, "nodeSelector")
    assert finding["confidence"] == 3


def test_batching_heads_with_the_measured_multiple_and_keeps_the_skills_figure_as_a_note(tmp_path: Path) -> None:
    found = findings(tmp_path, "--gpu", "A800", "--select", "ECO105", extra="--max-num-seqs 1")
    (finding,) = found
    # 1768.3 J at batch 1 against 283.74 J at batch 8: 6.2x, i.e. +523 %; 75.89 J at batch 64: 23x
    assert "+523% energy per request vs batch 8" in finding["message"] and "23× batch 64" in finding["message"]
    assert any("+95.7 %" in note and "sign turned" in note for note in finding["notes"])


def test_hopper_is_named_hopper_and_says_whose_numbers_it_borrows(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text("vllm serve Qwen/Qwen2-0.5B --quantization bitsandbytes\n")
    (finding,) = run_cli(str(tmp_path), "--format", "json", "--isolated", "--gpu", "H100").json()["findings"]
    assert finding["code"] == "ECO102"
    assert "Hopper (Ampere numbers)" in finding["message"] and "3.7B" in finding["message"]
    assert finding["confidence"] == 2 and "unmeasured-gpu" in finding["boundaries"]
    assert finding["setup"]["architecture"] == "ampere"  # whose rows were read
    assert finding["setup"]["architecture_label"] == "Hopper (Ampere numbers)"
    text = run_cli(str(tmp_path), "--isolated", "--gpu", "H100").output
    assert "GPU H100 (configured, Hopper, Ampere numbers)" in text


def test_an_unknown_gpu_name_is_said_once_for_the_run_not_on_every_finding(tmp_path: Path) -> None:
    for name in ("one.sh", "two.sh"):
        (tmp_path / name).write_text(SCRIPT.format(model="Qwen/Qwen2-1.5B", extra=""))
    ran = run_cli(str(tmp_path), "--isolated", "--gpu", "FooGPU 9000", cwd=tmp_path)
    assert ran.output.count("'FooGPU 9000'") == 1 and "applies to all 2 findings" in ran.output
