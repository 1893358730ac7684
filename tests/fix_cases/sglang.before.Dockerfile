FROM lmsysorg/sglang:v0.3.5-cu121

# Shell form, one command on one line.
CMD python3 -m sglang.launch_server --model-path Qwen/Qwen2.5-7B-Instruct --quantization fp8 --disable-cuda-graph --max-running-requests 1 --port 30000
