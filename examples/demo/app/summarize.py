"""Nightly batch job: summarise yesterday's tickets."""
import argparse
import json

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

from app.config import SUMMARY_MODEL

parser = argparse.ArgumentParser()
parser.add_argument("--input", default="tickets.jsonl")
args = parser.parse_args()

bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
tokenizer = AutoTokenizer.from_pretrained(SUMMARY_MODEL)
model = AutoModelForCausalLM.from_pretrained(SUMMARY_MODEL, quantization_config=bnb)

with open(args.input) as handle:
    tickets = [json.loads(line)["body"] for line in handle]

summaries = []
for ticket in tickets:
    inputs = tokenizer(f"Summarise: {ticket}", return_tensors="pt").to(model.device)
    summaries.append(tokenizer.decode(model.generate(**inputs, max_new_tokens=128)[0]))
