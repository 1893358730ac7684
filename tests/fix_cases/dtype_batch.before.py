"""ECO201 (safe): FP32 compute on a 4-bit model. ECO105/ECO202 (unsafe): batch limit, eager attention."""

import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, pipeline
from vllm import LLM

config = BitsAndBytesConfig(
    load_in_4bit=True,
    bnb_4bit_quant_type="nf4",
    bnb_4bit_compute_dtype=torch.float32,  # "for accuracy"
)
model = AutoModelForCausalLM.from_pretrained(
    "meta-llama/Meta-Llama-3-8B-Instruct",
    quantization_config=config,
    attn_implementation="eager",
)

generator = pipeline("text-generation", model="Qwen/Qwen2.5-7B-Instruct", torch_dtype=torch.float16, batch_size=1)
one = LLM(model="Qwen/Qwen2.5-7B-Instruct", max_num_seqs=1)
