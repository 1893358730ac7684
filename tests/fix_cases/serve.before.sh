#!/usr/bin/env bash
# Launch scripts in the shapes they take: one flag per line, flags inline, a last line.
set -euo pipefail

MODEL="Qwen/Qwen2.5-7B-Instruct"
SEQS=1

# FP8 with CUDA graphs off, one sequence at a time.
vllm serve "$MODEL" \
  --quantization fp8 \
  --enforce-eager \
  --max-num-seqs "$SEQS" \
  --port 8000 &

# The eager flag is the command's last line: the continuation before it must end too.
vllm serve "$MODEL" --quantization fp8 --port 8001 \
  --enforce-eager &

# Alone on the command's last line: the line goes, and the backslash that led to it.
vllm serve "$MODEL" --quantization fp8 --port 8007 \
  --enforce-eager

# In-flight 4-bit of a 0.5B model, with fp32 compute.
vllm serve Qwen/Qwen2.5-0.5B-Instruct --quantization bitsandbytes --load-format bitsandbytes --dtype float32 --port 8002 &

# SGLang FP8 without CUDA graphs; TGI NF4 with a batch of one.
python -m sglang.launch_server --model-path Qwen/Qwen2.5-7B-Instruct --quantization fp8 --disable-cuda-graph --port 8003 &
text-generation-launcher --model-id Qwen/Qwen2.5-1.5B-Instruct --quantize bitsandbytes-nf4 --max-batch-size=1 --port 8004 &

# llama.cpp with a single slot.
llama-server -m models/qwen2.5-7b-instruct-q8_0.gguf -np 1 --port 8005 &

# Suppressed: kept as it is.
vllm serve "$MODEL" --quantization fp8 --enforce-eager --port 8006 &  # ecolint: ignore[ECO104]

wait
