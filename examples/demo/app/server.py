"""A small FastAPI chat service: one model, loaded once, 8-bit to save memory."""
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

from .config import MODEL_ID

app = FastAPI()

quant = BitsAndBytesConfig(load_in_8bit=True)
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
model = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=quant, device_map="auto")


class Prompt(BaseModel):
    text: str


@app.post("/chat")
def chat(prompt: Prompt) -> dict:
    inputs = tokenizer(prompt.text, return_tensors="pt").to(model.device)
    output = model.generate(**inputs, max_new_tokens=256)
    return {"reply": tokenizer.decode(output[0], skip_special_tokens=True)}
