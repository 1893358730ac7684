"""torchao float8: the extractor says which scheme a config names (weight-only or dynamic), since
weight-only float8 computes its matmuls in the original precision whether compiled or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecolint.extract import ExtractContext
from ecolint.extract import python as python_extract
from ecolint.setups import FP8_SCHEME, PRECISION

LOAD = 'from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B")\n'


@pytest.mark.parametrize(
    "config,scheme",
    [
        ("from torchao.quantization import Float8WeightOnlyConfig as C\nquantize_(m, C())", "weight-only"),
        ("from torchao.quantization import float8_weight_only\nquantize_(m, float8_weight_only())", "weight-only"),
        (
            "from torchao.quantization import Float8DynamicActivationFloat8WeightConfig\n"
            "quantize_(m, Float8DynamicActivationFloat8WeightConfig())",
            "dynamic",
        ),
        ("cfg = TorchAoConfig('float8dq')\nquantize_(m, cfg)", "dynamic"),
        ("quantize_(m, TorchAoConfig(quant_type='float8wo'))", "weight-only"),
        ("from torchao.quantization import Float8Config\nquantize_(m, Float8Config())", None),
    ],
)
def test_the_float8_scheme_a_config_names(config: str, scheme: str | None) -> None:
    source = (
        "from torchao.quantization import quantize_\nfrom transformers import TorchAoConfig\n" + LOAD + config + "\n"
    )
    context = ExtractContext(Path("/nonexistent"), lambda path: None)
    (setup,) = python_extract.extract("q.py", source, context)
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(FP8_SCHEME) == scheme
