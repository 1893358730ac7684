"""ECO102/ECO103 in functions: what only the dropped quantization used goes with it (F401, F841)."""

import json  # unused before any fix: stays

import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig


def load_small():
    # 4-bit to save memory
    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)

    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B-Instruct", quantization_config=config)
    return model


def load_tiny():
    return AutoModelForCausalLM.from_pretrained(
        "Qwen/Qwen2.5-1.5B-Instruct",
        quantization_config=BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0),
    )
