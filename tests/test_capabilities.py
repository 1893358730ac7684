"""Advice fits the hardware (issue 14): rules/capabilities.yaml says which formats each
architecture's tensor cores compute (BF16 from Ampere, FP8 from Ada / Hopper / Blackwell), and no
fix, snippet or advice proposes BF16 on Turing or FP8 compute on Turing / Ampere. vLLM's FP8 on
those GPUs is weight-only through FP8 Marlin: the note says so rather than "unsupported"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from ecolint import knowledge

FP32_COMPUTE = """\
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", quantization_config=config)
"""
SMALL_BF16_NF4 = FP32_COMPUTE.replace("torch.float32", "torch.bfloat16").replace("7B", "0.5B")
SERVERS = """\
vllm serve Qwen/Qwen2.5-7B-Instruct --quantization fp8 --enforce-eager
text-generation-launcher --model-id Qwen/Qwen2.5-7B-Instruct --quantize bitsandbytes
"""
TORCHAO = """\
import torch
from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, quantize_
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", torch_dtype=torch.float16, device_map="cuda")
quantize_(model, Float8DynamicActivationFloat8WeightConfig())
"""
NO_BF16 = "T4 (Turing, compute capability 7.5) has no BF16 tensor cores"
MARLIN = "as weight-only FP8 (W8A16) through its FP8 Marlin kernels"


def _project(tmp_path: Path, **files: str) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    for name, text in files.items():
        (tmp_path / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return tmp_path


def _findings(root: Path, gpu: str) -> list[dict]:
    ran = run_cli("check", "--select", "ALL", "--gpu", gpu, "--format", "json", "--exit-zero", ".", cwd=root)
    return ran.json()["findings"]


def test_every_architecture_has_its_capabilities() -> None:
    kb = knowledge.load()
    table = {key: kb.capability(key) for key in kb.architectures}
    assert {key for key, cap in table.items() if cap is not None and cap.bf16} == {
        "ampere",
        "ada",
        "hopper",
        "blackwell",
    }
    assert {key for key, cap in table.items() if cap is not None and cap.fp8} == {"ada", "hopper", "blackwell"}


def test_the_fp32_compute_fix_writes_fp16_on_turing_and_bf16_on_ampere(tmp_path: Path) -> None:
    for gpu, dtype in (("T4", "torch.float16"), ("A100", "torch.bfloat16")):
        root = _project(tmp_path / gpu, app_py=FP32_COMPUTE)
        (finding,) = [f for f in _findings(root, gpu) if f["code"] == "ECO201"]
        assert finding["fix"]["snippet"] == f"bnb_4bit_compute_dtype={dtype}"
        assert any(NO_BF16 in note for note in finding["notes"]) == (gpu == "T4")
        run_cli("check", "--select", "ECO201", "--gpu", gpu, "--fix", "app.py", cwd=root)
        assert f"bnb_4bit_compute_dtype={dtype})" in (root / "app.py").read_text(encoding="utf-8")


def test_unquantizing_on_turing_serves_fp16_even_where_the_compute_dtype_was_bf16(tmp_path: Path) -> None:
    for gpu, dtype in (("T4", "torch.float16"), ("A800", "torch.bfloat16")):
        root = _project(tmp_path / gpu, app_py=SMALL_BF16_NF4)
        run_cli("check", "--gpu", gpu, "--unsafe-fixes", "app.py", cwd=root)
        assert f"torch_dtype={dtype})" in (root / "app.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("gpu", ["T4", "A100"])
def test_no_fp8_compute_is_advised_below_ada_and_vllm_fp8_is_said_to_be_weight_only(tmp_path: Path, gpu: str) -> None:
    root = _project(tmp_path, serve_sh=SERVERS)
    text = run_cli("check", "--gpu", gpu, "serve.sh", cwd=root).output
    by_code = {f["code"]: f for f in _findings(root, gpu)}
    assert "--quantize fp8" not in by_code["ECO101"]["fix"]["snippet"]
    assert "has no FP8 tensor cores" in text and "unsupported" not in text
    assert any(MARLIN in note for note in by_code["ECO104"]["notes"])
    h100 = {f["code"]: f for f in _findings(root, "H100")}
    assert "--quantize fp8" in h100["ECO101"]["fix"]["snippet"]
    assert not any(MARLIN in note for note in h100["ECO104"]["notes"])


def test_torchao_float8_on_ampere_is_not_fixed_by_compiling(tmp_path: Path) -> None:
    root = _project(tmp_path, app_py=TORCHAO)
    (finding,) = [f for f in _findings(root, "A100") if f["code"] == "ECO104"]
    assert finding["fix"]["edit"] is None
    assert finding["fix"]["snippet"].startswith("serve the model in FP16/BF16")
    (on_ada,) = [f for f in _findings(root, "L40S") if f["code"] == "ECO104"]
    assert on_ada["fix"]["edit"] is not None


def test_advise_never_keeps_bf16_on_turing_nor_fp8_on_ampere() -> None:
    advised = json.loads(
        run_cli(
            "advise", "--gpu", "T4", "--model", "Qwen/Qwen2.5-1.5B-Instruct", "--precision", "bf16", "--format", "json"
        ).output
    )
    assert advised["recommended"] is None or advised["recommended"]["precision"] != "bf16"
    assert advised["config"]["precision"] != "bf16"
    assert any(NO_BF16 in risk for risk in advised["risks"])
    fp8 = run_cli(
        "advise", "--gpu", "A100", "--model", "Qwen/Qwen2.5-7B-Instruct", "--precision", "fp8", "--framework", "vllm"
    ).output
    assert MARLIN in fp8 and "--quantization fp8" not in fp8


def test_compare_crowns_no_format_the_gpu_cannot_compute() -> None:
    compared = json.loads(
        run_cli(
            "compare", "fp8", "nf4", "--gpu", "A100", "--model", "Qwen/Qwen2.5-7B-Instruct", "--format", "json"
        ).output
    )
    for dimension in ("energy", "throughput", "memory"):
        winner = compared["winners"][dimension]
        assert winner["name"] != "FP8"
        assert "FP8 left out (A100 has no FP8 tensor cores)" in winner["basis"]
    on_hopper = json.loads(
        run_cli(
            "compare", "fp8", "nf4", "--gpu", "H100", "--model", "Qwen/Qwen2.5-7B-Instruct", "--format", "json"
        ).output
    )
    assert all("left out" not in winner["basis"] for winner in on_hopper["winners"].values())
