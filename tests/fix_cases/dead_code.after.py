"""ECO102/ECO103 in functions: what only the dropped quantization used goes with it (F401, F841)."""

import json  # unused before any fix: stays

import torch
from transformers import AutoModelForCausalLM


def load_small():
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct", torch_dtype=torch.float16)
    return model


def load_tiny():
    return AutoModelForCausalLM.from_pretrained(
        "Qwen/Qwen2.5-1.5B-Instruct",
        torch_dtype=torch.float16,
    )
