"""What a setup really is: hardware the code names without a GPU (an Intel or Apple port of the
transformers API, a device), and models that are not LLMs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecolint import knowledge
from ecolint.extract import ExtractContext
from ecolint.extract import python as python_extract
from ecolint.resolve import resolve

KB = knowledge.load_all()


def _resolved(source: str, gpu: str | None = None):
    context = ExtractContext(Path("/nonexistent"), lambda path: None)
    return [(s, resolve(s, KB, gpu_option=gpu)) for s in python_extract.extract("serve.py", source, context)]


@pytest.mark.parametrize(
    "source,hardware",
    [
        (
            "from ipex_llm.transformers import AutoModelForCausalLM\n"
            'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", load_in_4bit=True)\n',
            "Intel (ipex-llm)",
        ),
        (
            "from optimum.intel import OVModelForCausalLM\n"
            'm = OVModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", export=True)\n',
            "Intel (optimum-intel / OpenVINO)",
        ),
        (
            "from transformers import AutoModelForCausalLM\n"
            'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", device_map="mps")\n',
            "Apple silicon (MPS)",
        ),
        (
            'from transformers import pipeline\np = pipeline("text-generation", model="Qwen/Qwen2-1.5B", device=-1)\n',
            "the CPU",
        ),
        (
            "from transformers import AutoModelForCausalLM\n"
            'm = AutoModelForCausalLM.from_pretrained("mlx-community/Qwen2-1.5B-4bit")\n',
            "Apple silicon (MLX)",
        ),
    ],
)
def test_code_that_names_other_hardware_is_resolved_off_nvidia(source: str, hardware: str) -> None:
    ((_, res),) = _resolved(source, gpu="RTX 4090")
    assert res.gpu.name == hardware and res.gpu.vendor != "nvidia"
    assert "non-nvidia" in res.boundaries and res.confidence == 1
    assert res.architecture is None and res.crossover("nf4") is None  # never "ada": no crossover applies


@pytest.mark.parametrize(
    "source,hardware",
    [
        (
            "from transformers import AutoModelForCausalLM\n"
            'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", load_in_4bit=True)\n'
            'model = model.to("xpu")\n',
            "an Intel GPU (XPU)",
        ),
        (
            "from transformers import AutoModelForCausalLM\n"
            'DEVICE = "mps"\n'
            'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B").to(DEVICE).eval()\n',
            "Apple silicon (MPS)",
        ),
        (
            "from transformers import AutoModelForCausalLM\n"
            'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B")\n'
            "model.xpu()\n",
            "an Intel GPU (XPU)",
        ),
        (
            "from transformers import AutoModelForCausalLM\n"
            "from ipex_llm import optimize_model\n"
            'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B", torch_dtype="float16")\n'
            'model = optimize_model(model, low_bit="sym_int4")\n',
            "Intel (ipex-llm)",
        ),
    ],
)
def test_a_model_moved_to_other_hardware_after_loading_runs_there(source: str, hardware: str) -> None:
    ((_, res),) = _resolved(source, gpu="RTX 4090")
    assert res.gpu.name == hardware and "non-nvidia" in res.boundaries


def test_a_model_moved_to_the_cpu_after_cuda_still_ran_on_the_gpu() -> None:
    # .to("cpu") after .cuda() frees GPU memory; the model was served on the GPU.
    source = (
        "from transformers import AutoModelForCausalLM\n"
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B").cuda()\n'
        "out = model.generate(ids)\n"
        'model.to("cpu")\n'
    )
    ((_, res),) = _resolved(source, gpu="RTX 4090")
    assert res.gpu.name == "RTX 4090" and "non-nvidia" not in res.boundaries


def test_a_cuda_device_stays_on_the_configured_gpu() -> None:
    source = 'from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", device_map="cuda:0")\n'
    ((_, res),) = _resolved(source, gpu="RTX 4090")
    assert res.gpu.name == "RTX 4090" and "non-nvidia" not in res.boundaries


@pytest.mark.parametrize(
    "source",
    [
        'from transformers import BlipForConditionalGeneration\nm = BlipForConditionalGeneration.from_pretrained("Salesforce/blip-image-captioning-base")\n',
        'from transformers import AutoModelForSpeechSeq2Seq\nm = AutoModelForSpeechSeq2Seq.from_pretrained("openai/whisper-large-v3")\n',
        'from transformers import pipeline\nasr = pipeline("automatic-speech-recognition", model="openai/whisper-small")\n',
        'from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained("microsoft/Florence-2-base", trust_remote_code=True)\n',
        'from transformers import AutoModel\nm = AutoModel.from_pretrained("suno/bark-small")\n',
    ],
)
def test_models_that_are_not_llms_are_said_to_be(source: str) -> None:
    ((_, res),) = _resolved(source)
    assert "not-an-llm" in res.boundaries


@pytest.mark.parametrize(
    "source",
    [
        'from transformers import AutoModel\nm = AutoModel.from_pretrained("THUDM/chatglm3-6b", trust_remote_code=True)\n',
        'from transformers import MllamaForConditionalGeneration\nm = MllamaForConditionalGeneration.from_pretrained("meta-llama/Llama-3.2-11B-Vision-Instruct")\n',
        'from transformers import pipeline\np = pipeline("text-generation", model="Qwen/Qwen2-1.5B")\n',
    ],
)
def test_llms_including_vision_language_models_stay_llms(source: str) -> None:
    ((_, res),) = _resolved(source)
    assert "not-an-llm" not in res.boundaries
