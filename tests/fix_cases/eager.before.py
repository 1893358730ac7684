"""ECO104: FP8 in eager mode, in vLLM and torchao."""

import torch
from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, quantize_
from transformers import AutoModelForCausalLM
from vllm import LLM

llm = LLM(
    model="meta-llama/Meta-Llama-3-8B-Instruct",
    quantization="fp8",
    # CUDA graphs off while debugging
    enforce_eager=True,
)

first = LLM(model="meta-llama/Meta-Llama-3-8B-Instruct", enforce_eager=True, quantization="fp8")


def load(model_id: str):
    model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype=torch.bfloat16, device_map="cuda")
    quantize_(model, Float8DynamicActivationFloat8WeightConfig())
    return model
