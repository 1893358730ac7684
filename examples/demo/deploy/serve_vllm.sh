#!/usr/bin/env bash
# Start the OpenAI-compatible endpoint for the chat model.
set -euo pipefail

MODEL="${MODEL:-Qwen/Qwen2-7B-Instruct}"
PORT="${PORT:-8000}"

exec vllm serve "$MODEL" --port "$PORT" --quantization fp8 --enforce-eager --max-model-len 8192
