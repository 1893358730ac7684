FROM vllm/vllm-openai:v0.6.3

# Exec form: the base image's ENTRYPOINT is `vllm serve`.
CMD ["--model", "Qwen/Qwen2.5-7B-Instruct", \
     "--quantization", "fp8", \
     "--enforce-eager", \
     "--max-num-seqs=1"]
