"""ECO101: INT8 with the default outlier threshold, in the layouts real code uses."""

import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

MODEL_ID = "mistralai/Mistral-7B-Instruct-v0.2"

one_line = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)

# One keyword per line, a trailing comma and a comment on the last keyword.
per_line = BitsAndBytesConfig(
    load_in_8bit=True,
    llm_int8_skip_modules=["lm_head"],  # keep the head in fp16
    llm_int8_threshold=0.0,
)

# One keyword per line, no trailing comma.
no_trailing = BitsAndBytesConfig(
    load_in_8bit=True,
    llm_int8_enable_fp32_cpu_offload=False,
    llm_int8_threshold=0.0
)

# The default written out.
written = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)

suppressed = BitsAndBytesConfig(load_in_8bit=True)  # ecolint: ignore[ECO101] accuracy first

model = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=one_line, torch_dtype=torch.float16)
a = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=per_line)
b = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=no_trailing)
c = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=written)
d = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=suppressed)
