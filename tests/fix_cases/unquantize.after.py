"""ECO102/ECO103: quantization of a model below the crossover, dropped (unsafe: memory)."""

import torch
from transformers import AutoModelForCausalLM
from vllm import LLM

small = AutoModelForCausalLM.from_pretrained(
    "Qwen/Qwen2.5-0.5B-Instruct",
    torch_dtype=torch.bfloat16,  # 4-bit to save memory
    device_map="auto",
)

# torch_dtype already given: the keyword only goes.
tiny = AutoModelForCausalLM.from_pretrained(
    "Qwen/Qwen2.5-1.5B-Instruct",
    torch_dtype=torch.float16,
)

# FP32 beside the quantization: the model gets the FP16 it ran its matmuls in, not FP32.
wide = AutoModelForCausalLM.from_pretrained(
    "Qwen/Qwen2.5-0.5B-Instruct",
    torch_dtype=torch.float16,
)

engine = LLM(model="Qwen/Qwen2.5-1.5B-Instruct", max_model_len=4096)
