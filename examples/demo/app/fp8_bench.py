"""Try torchao FP8 on the chat model."""
import torch
from torchao.quantization import float8_dynamic_activation_float8_weight, quantize_
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B-Instruct", torch_dtype=torch.bfloat16).cuda()
quantize_(model, float8_dynamic_activation_float8_weight())
# TODO: torch.compile(model) once the warm-up time is acceptable
