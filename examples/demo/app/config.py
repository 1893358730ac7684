"""Settings shared by the demo services."""
import os

MODEL_ID = os.environ.get("MODEL_ID", "Qwen/Qwen2-1.5B-Instruct")
SUMMARY_MODEL = "mistralai/Mistral-7B-Instruct-v0.2"
