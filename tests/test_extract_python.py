"""The Python extractor on small sources: the facts, values, `how` and locations a user checks.

Each test is a snippet as real code writes it; the positive tests say what must be found, the
clean ones what must not be (a tokenizer is not a model, a batch loop is not per-prompt, …).
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from pathlib import Path

import pytest

import ecolint.extract.python as python_extractor
from ecolint.extract import ExtractContext, ExtractError
from ecolint.extract.python import extract
from ecolint.setups import (
    ATTN_IMPLEMENTATION,
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    ENFORCE_EAGER,
    KV_CACHE_DTYPE,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    RELOAD_PER_REQUEST,
    SINGLE_REQUEST,
    TENSOR_PARALLEL,
    THRESHOLD_EXPOSED,
    Setup,
)


def _context(root: Path) -> ExtractContext:
    def read_text(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            return None

    return ExtractContext(root=root, read_text=read_text)


def setups(source: str, *, root: Path | None = None, path: str = "app.py") -> list[Setup]:
    return extract(path, textwrap.dedent(source), _context(root or Path("/nonexistent-ecolint-root")))


def one(source: str, **kwargs) -> Setup:
    found = setups(source, **kwargs)
    assert len(found) == 1, [(s.framework, s.origin.line) for s in found]
    return found[0]


def line_of(source: str, needle: str, nth: int = 0) -> int:
    """1-based line of the nth line containing needle (after dedent)."""
    lines = [i for i, text in enumerate(textwrap.dedent(source).splitlines(), start=1) if needle in text]
    return lines[nth]


def fact_line(setup: Setup, name: str) -> int:
    return setup.where(name).line


HEADER = """\
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, pipeline
"""


# -- model id resolution --------------------------------------------------------------------


def test_model_id_literal_positional() -> None:
    setup = one(HEADER + 'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct")\n')
    assert setup.framework == "transformers"
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert setup.facts[MODEL].how == "literal"
    assert setup.origin.line == 3
    assert setup.origin.column == 9  # 1-based: the call starts after "model = "
    assert setup.where(MODEL).column == 46


def test_model_id_from_module_constant_points_at_the_constant() -> None:
    source = (
        HEADER
        + 'MODEL_ID = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n'
    )
    setup = one(source)
    assert setup.get(MODEL) == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert setup.facts[MODEL].how == "constant"
    assert fact_line(setup, MODEL) == 3


def test_model_id_keyword_and_fstring_of_constants() -> None:
    source = HEADER + textwrap.dedent(
        """\
        ORG = "facebook"
        NAME = "opt-1.3b"
        model = AutoModelForCausalLM.from_pretrained(pretrained_model_name_or_path=f"{ORG}/{NAME}")
        """
    )
    assert one(source).get(MODEL) == "facebook/opt-1.3b"


def test_model_id_concatenation() -> None:
    source = HEADER + 'BASE = "meta-llama/"\nmodel = AutoModelForCausalLM.from_pretrained(BASE + "Meta-Llama-3-70B")\n'
    assert one(source).get(MODEL) == "meta-llama/Meta-Llama-3-70B"


@pytest.mark.parametrize(
    "expr",
    [
        'os.environ.get("MODEL_ID", "Qwen/Qwen2.5-1.5B")',
        'os.getenv("MODEL_ID", "Qwen/Qwen2.5-1.5B")',
        'os.environ.get("MODEL_ID") or "Qwen/Qwen2.5-1.5B"',
        'os.getenv("MODEL_ID", default="Qwen/Qwen2.5-1.5B")',
    ],
)
def test_model_id_env_default(expr: str) -> None:
    source = "import os\n" + HEADER + f"MODEL_ID = {expr}\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    setup = one(source)
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B"
    assert setup.facts[MODEL].how == "env-default"
    assert fact_line(setup, MODEL) == 4


def test_env_without_default_is_unknown() -> None:
    source = "import os\n" + HEADER + 'model = AutoModelForCausalLM.from_pretrained(os.environ["MODEL_ID"])\n'
    assert not one(source).has(MODEL)


def test_model_id_argparse_default() -> None:
    source = HEADER + textwrap.dedent(
        """\
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--model-id", default="facebook/opt-1.3b")
        args = parser.parse_args()
        model = AutoModelForCausalLM.from_pretrained(args.model_id)
        """
    )
    setup = one(source)
    assert setup.get(MODEL) == "facebook/opt-1.3b"
    assert setup.facts[MODEL].how == "argparse-default"
    assert fact_line(setup, MODEL) == line_of(source, "--model-id")


def test_model_id_parameter_default_when_called_without_it() -> None:
    source = HEADER + textwrap.dedent(
        """\
        def load(model_id="Qwen/Qwen2.5-0.5B"):
            return AutoModelForCausalLM.from_pretrained(model_id)

        model = load()
        """
    )
    setup = one(source)
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B"
    assert setup.facts[MODEL].how == "parameter-default"


def test_model_id_from_the_one_call_site() -> None:
    source = HEADER + textwrap.dedent(
        """\
        def load(model_id):
            return AutoModelForCausalLM.from_pretrained(model_id)

        model = load("Qwen/Qwen2.5-7B")
        """
    )
    setup = one(source)
    assert setup.get(MODEL) == "Qwen/Qwen2.5-7B"
    assert fact_line(setup, MODEL) == line_of(source, 'load("Qwen')


def test_model_id_call_sites_that_disagree_are_separate_setups_at_the_call_sites() -> None:
    source = HEADER + textwrap.dedent(
        """\
        def load(model_id):
            return AutoModelForCausalLM.from_pretrained(model_id)

        small = load("Qwen/Qwen2.5-0.5B")
        big = load("Qwen/Qwen2.5-7B")
        """
    )
    found = sorted((s.origin.line, s.get(MODEL), s.through.line if s.through else None) for s in setups(source))
    loader = line_of(source, "from_pretrained(model_id)")
    assert found == [
        (line_of(source, "small ="), "Qwen/Qwen2.5-0.5B", loader),
        (line_of(source, "big ="), "Qwen/Qwen2.5-7B", loader),
    ]


def test_model_id_class_attribute_and_self_attribute() -> None:
    source = HEADER + textwrap.dedent(
        """\
        class Server:
            MODEL_ID = "Qwen/Qwen2.5-1.5B"

            def __init__(self, dtype=torch.float16):
                self.dtype = dtype
                self.model = AutoModelForCausalLM.from_pretrained(self.MODEL_ID, torch_dtype=self.dtype)
        """
    )
    setup = one(source)
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B"
    assert setup.get(PRECISION) == "fp16"


def test_model_id_imported_from_a_sibling_module(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "config.py").write_text(
        'import os\nMODEL_ID = os.getenv("M", "Qwen/Qwen2.5-3B")\nTHRESHOLD = 6.0\n'
    )
    (tmp_path / "pkg" / "settings.py").write_text('from .config import MODEL_ID as BASE\nOTHER = BASE + "-Instruct"\n')
    relative = HEADER + "from .config import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    setup = one(relative, root=tmp_path, path="pkg/app.py")
    assert setup.get(MODEL) == "Qwen/Qwen2.5-3B"
    assert setup.facts[MODEL].how == "env-default"
    assert fact_line(setup, MODEL) == 4  # the use in this file: the constant lives in another one
    absolute = HEADER + "from pkg.settings import OTHER\nmodel = AutoModelForCausalLM.from_pretrained(OTHER)\n"
    setup = one(absolute, root=tmp_path, path="main.py")
    assert setup.get(MODEL) == "Qwen/Qwen2.5-3B-Instruct"
    module_attr = HEADER + "from pkg import config\nmodel = AutoModelForCausalLM.from_pretrained(config.MODEL_ID)\n"
    assert one(module_attr, root=tmp_path, path="main.py").get(MODEL) == "Qwen/Qwen2.5-3B"
    plain = HEADER + "import config\nmodel = AutoModelForCausalLM.from_pretrained(config.MODEL_ID)\n"
    setup = one(plain, root=tmp_path, path="pkg/run.py")
    assert setup.get(MODEL) == "Qwen/Qwen2.5-3B" and setup.facts[MODEL].how == "env-default"


def test_imported_module_is_read_once_per_run(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text('MODEL_ID = "Qwen/Qwen2.5-3B"\n')
    reads: list[Path] = []

    def read_text(path: Path) -> str | None:
        reads.append(path)
        return path.read_text() if path.is_file() else None

    context = ExtractContext(root=tmp_path, read_text=read_text)
    source = HEADER + "from config import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    for _ in range(3):
        assert extract("app.py", source, context)[0].get(MODEL) == "Qwen/Qwen2.5-3B"
    assert reads.count(tmp_path / "config.py") == 1


def test_imported_constants_read_only_the_modules_the_name_needs(tmp_path: Path) -> None:
    # app -> hub re-exports MODEL_ID from ids; hub also imports from a module that never defines
    # it, and a name shadowed by an import the other module lacks keeps its earlier value.
    (tmp_path / "ids.py").write_text('MODEL_ID = "Qwen/Qwen2.5-3B"\n')
    (tmp_path / "heavy.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "hub.py").write_text(
        'from heavy import helper\nREVISION = "main"\nfrom heavy import REVISION\nfrom ids import MODEL_ID\nFULL = MODEL_ID + "@" + REVISION\n'
    )
    reads: list[str] = []

    def read_text(path: Path) -> str | None:
        reads.append(path.name)
        return path.read_text() if path.is_file() else None

    context = ExtractContext(root=tmp_path, read_text=read_text)
    source = HEADER + "from hub import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    assert extract("app.py", source, context)[0].get(MODEL) == "Qwen/Qwen2.5-3B"
    assert "heavy.py" not in reads  # nothing about MODEL_ID comes from it: never opened
    source = HEADER + "from hub import FULL\nmodel = AutoModelForCausalLM.from_pretrained(FULL)\n"
    assert extract("app.py", source, context)[0].get(MODEL) == "Qwen/Qwen2.5-3B@main"


def test_imported_constants_do_not_depend_on_which_file_asked_first(tmp_path: Path) -> None:
    # d.py is five imports away from far.py (past the import depth), two from near.py.
    (tmp_path / "d.py").write_text('MODEL_ID = "Qwen/Qwen2.5-3B"\n')
    (tmp_path / "c.py").write_text("from d import MODEL_ID\n")
    (tmp_path / "x.py").write_text("from c import MODEL_ID\n")
    (tmp_path / "b.py").write_text("from x import MODEL_ID\n")
    (tmp_path / "a.py").write_text("from b import MODEL_ID\n")
    far = HEADER + "from a import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    near = HEADER + "from c import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"

    def models(order: list[tuple[str, str]]) -> dict[str, object]:
        context = ExtractContext(root=tmp_path, read_text=lambda p: p.read_text() if p.is_file() else None)
        return {name: extract(name, text, context)[0].get(MODEL) for name, text in order}

    alone = models([("near.py", near)])
    assert alone == {"near.py": "Qwen/Qwen2.5-3B"}
    assert models([("far.py", far), ("near.py", near)])["near.py"] == alone["near.py"]


def test_missing_imported_module_leaves_model_unknown(tmp_path: Path) -> None:
    source = HEADER + "from .nowhere import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    assert not one(source, root=tmp_path).has(MODEL)


# -- which calls are setups -----------------------------------------------------------------


def test_tokenizers_processors_and_configs_are_not_setups() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from transformers import AutoConfig, AutoProcessor, GenerationConfig, LlamaTokenizerFast
        from peft import PeftModel
        tok = AutoTokenizer.from_pretrained("gpt2")
        fast = LlamaTokenizerFast.from_pretrained("gpt2")
        proc = AutoProcessor.from_pretrained("gpt2")
        cfg = AutoConfig.from_pretrained("gpt2")
        gen = GenerationConfig.from_pretrained("gpt2")
        tokenizer_class = AutoTokenizer
        t2 = tokenizer_class.from_pretrained("gpt2")
        """
    )
    assert setups(source) == []


def test_peft_adapter_joins_the_base_model() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from peft import PeftModel
        base = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B", load_in_8bit=True)
        model = PeftModel.from_pretrained(base, "my/adapter")
        for p in open("prompts.txt").read().splitlines():
            model.generate(p)
        """
    )
    setup = one(source)
    assert setup.get(SINGLE_REQUEST) == "loop"


def test_strings_comments_and_docstrings_are_never_setups() -> None:
    source = '''\
        """Use BitsAndBytesConfig(load_in_8bit=True) with AutoModel.from_pretrained("gpt2")."""
        # model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)
        EXAMPLE = "LLM(model='x', quantization='fp8')  pipeline('text-generation')"
        def f():
            """quantize_(model, float8_weight_only())"""
        '''
    assert setups(source) == []


def test_dead_code_is_ignored() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from typing import TYPE_CHECKING
        if False:
            a = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)
        if 0:
            b = AutoModelForCausalLM.from_pretrained("gpt2")
        if TYPE_CHECKING:
            c = AutoModelForCausalLM.from_pretrained("gpt2")
        else:
            d = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")
        """
    )
    assert one(source).get(MODEL) == "Qwen/Qwen2.5-1.5B"


def test_any_model_class_and_attribute_access() -> None:
    source = textwrap.dedent(
        """\
        import transformers
        from transformers import LlamaForCausalLM
        a = transformers.AutoModelForSeq2SeqLM.from_pretrained("t5-small")
        b = LlamaForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")
        """
    )
    found = setups(source)
    assert [s.get(MODEL) for s in found] == ["t5-small", "meta-llama/Llama-2-7b-hf"]


def test_file_that_does_not_parse_raises_with_line() -> None:
    with pytest.raises(ExtractError) as caught:
        setups("import torch\nmodel = AutoModel.from_pretrained(\n\ndef broken(:\n    pass\n")
    assert caught.value.line >= 2
    assert "syntax" in caught.value.message


def test_absurd_nesting_is_an_extract_error() -> None:
    source = "from_pretrained = 1\nx = " + "(" * 3000 + "1" + ")" * 3000 + "\n"
    with pytest.raises(ExtractError) as caught:
        setups(source)
    assert "nested" in caught.value.message or "syntax" in caught.value.message


# -- bitsandbytes ---------------------------------------------------------------------------


def test_int8_config_by_name_default_threshold_is_implied_at_the_call() -> None:
    source = HEADER + textwrap.dedent(
        """\
        bnb_config = BitsAndBytesConfig(
            load_in_8bit=True,
        )
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B", quantization_config=bnb_config)
        """
    )
    setup = one(source)
    assert setup.get(PRECISION) == "int8"
    assert setup.get(QUANT_CONFIG) == "bitsandbytes"
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0
    assert setup.facts[LLM_INT8_THRESHOLD].how == "implied"
    assert setup.get(THRESHOLD_EXPOSED) is True
    call_line = line_of(source, "bnb_config = BitsAndBytesConfig(")
    assert fact_line(setup, LLM_INT8_THRESHOLD) == call_line
    assert fact_line(setup, QUANT_CONFIG) == call_line
    assert setup.where(QUANT_CONFIG).column == 14


def test_int8_explicit_threshold_six_points_at_the_literal() -> None:
    source = HEADER + textwrap.dedent(
        """\
        model = AutoModelForCausalLM.from_pretrained(
            "Qwen/Qwen2.5-1.5B",
            quantization_config=BitsAndBytesConfig(
                load_in_8bit=True,
                llm_int8_threshold=6.0,
            ),
        )
        """
    )
    setup = one(source)
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0
    assert setup.facts[LLM_INT8_THRESHOLD].how == "literal"
    assert fact_line(setup, LLM_INT8_THRESHOLD) == line_of(source, "llm_int8_threshold=6.0")
    assert fact_line(setup, QUANT_CONFIG) == line_of(source, "quantization_config=")


def test_int8_explicit_zero_threshold() -> None:
    source = (
        HEADER
        + 'm = AutoModelForCausalLM.from_pretrained("x/y-7B", quantization_config=BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0))\n'
    )
    setup = one(source)
    assert setup.get(LLM_INT8_THRESHOLD) == 0.0
    assert setup.facts[LLM_INT8_THRESHOLD].how == "literal"


def test_threshold_from_a_constant() -> None:
    source = (
        HEADER
        + "THRESHOLD = 6\nbnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=THRESHOLD)\nm = AutoModelForCausalLM.from_pretrained('x', quantization_config=bnb)\n"
    )
    setup = one(source)
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0
    assert setup.facts[LLM_INT8_THRESHOLD].how == "constant"
    assert fact_line(setup, LLM_INT8_THRESHOLD) == 3


def test_legacy_load_in_8bit_keyword() -> None:
    source = (
        HEADER
        + 'model = AutoModelForCausalLM.from_pretrained("facebook/opt-1.3b",\n    load_in_8bit=True, device_map="auto")\n'
    )
    setup = one(source)
    assert setup.get(PRECISION) == "int8"
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0
    assert setup.facts[LLM_INT8_THRESHOLD].how == "implied"
    where = setup.where(LLM_INT8_THRESHOLD)
    assert (where.line, where.column, where.end_column) == (4, 5, 22)
    assert setup.where(QUANT_CONFIG) == where


def test_load_in_8bit_false_is_not_quantized() -> None:
    source = (
        HEADER + 'model = AutoModelForCausalLM.from_pretrained("x", load_in_8bit=False, torch_dtype=torch.bfloat16)\n'
    )
    setup = one(source)
    assert setup.get(PRECISION) == "bf16"
    assert not setup.has(QUANT_CONFIG)
    assert not setup.has(LLM_INT8_THRESHOLD)


def test_config_with_load_in_8bit_false_is_not_quantized() -> None:
    source = (
        HEADER
        + 'cfg = BitsAndBytesConfig(load_in_8bit=False)\nmodel = AutoModelForCausalLM.from_pretrained("x", quantization_config=cfg)\n'
    )
    assert not one(source).has(PRECISION)


def test_int8_flag_from_argparse_default() -> None:
    source = HEADER + textwrap.dedent(
        """\
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--int8", action="store_true")
        parser.add_argument("--four-bit", action="store_false")
        args = parser.parse_args()
        a = AutoModelForCausalLM.from_pretrained("x", load_in_8bit=args.int8)
        b = AutoModelForCausalLM.from_pretrained("y", load_in_4bit=args.four_bit)
        """
    )
    a, b = setups(source)
    assert not a.has(PRECISION)
    assert b.get(PRECISION) == "fp4"


@pytest.mark.parametrize(
    "config",
    [
        'BNB = {"load_in_8bit": True}\ncfg = BitsAndBytesConfig(**BNB)',
        'BASE = {"load_in_8bit": True, "llm_int8_threshold": 4.0}\nBNB = {**BASE, "llm_int8_threshold": 6.0}\ncfg = BitsAndBytesConfig(**BNB)',
        "BASE = dict(load_in_8bit=True, llm_int8_threshold=4.0)\ncfg = BitsAndBytesConfig(**dict(BASE, llm_int8_threshold=6.0))",
        'cfg = BitsAndBytesConfig.from_dict({"load_in_8bit": True, "llm_int8_threshold": 6.0})',
    ],
)
def test_int8_config_built_from_dicts(config: str) -> None:
    source = HEADER + config + '\nmodel = AutoModelForCausalLM.from_pretrained("x", quantization_config=cfg)\n'
    setup = one(source)
    assert setup.get(PRECISION) == "int8"
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0
    assert fact_line(setup, QUANT_CONFIG) == line_of(source, "cfg = BitsAndBytesConfig")


def test_dict_merge_that_sets_zero_threshold() -> None:
    source = HEADER + textwrap.dedent(
        """\
        BASE = {"load_in_8bit": True}
        FAST = {**BASE, "llm_int8_threshold": 0.0}
        model = AutoModelForCausalLM.from_pretrained("x", quantization_config=BitsAndBytesConfig(**FAST))
        """
    )
    setup = one(source)
    assert setup.get(LLM_INT8_THRESHOLD) == 0.0
    assert fact_line(setup, LLM_INT8_THRESHOLD) == line_of(source, "FAST = ")


def test_4bit_nf4_with_compute_dtype() -> None:
    source = HEADER + textwrap.dedent(
        """\
        bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                 bnb_4bit_compute_dtype=torch.float32)
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B", quantization_config=bnb, torch_dtype=torch.float16)
        """
    )
    setup = one(source)
    assert setup.get(PRECISION) == "nf4"
    assert setup.facts[PRECISION].how == "literal"
    assert setup.get(COMPUTE_DTYPE) == "fp32"
    assert fact_line(setup, COMPUTE_DTYPE) == line_of(source, "bnb_4bit_compute_dtype")
    assert fact_line(setup, QUANT_CONFIG) == line_of(source, "bnb = ")
    assert not setup.has(LLM_INT8_THRESHOLD)


def test_4bit_without_quant_type_is_fp4_implied() -> None:
    source = (
        HEADER
        + 'model = AutoModelForCausalLM.from_pretrained("x", quantization_config=BitsAndBytesConfig(load_in_4bit=True))\n'
    )
    setup = one(source)
    assert setup.get(PRECISION) == "fp4"
    assert setup.facts[PRECISION].how == "implied"


def test_legacy_load_in_4bit_is_fp4() -> None:
    source = HEADER + 'model = AutoModelForCausalLM.from_pretrained("x", load_in_4bit=True)\n'
    setup = one(source)
    assert setup.get(PRECISION) == "fp4"
    assert setup.facts[PRECISION].how == "implied"
    assert setup.where(QUANT_CONFIG).column == 51


def test_torch_dtype_on_quantized_model_is_compute_dtype() -> None:
    source = (
        HEADER + 'model = AutoModelForCausalLM.from_pretrained("x", load_in_8bit=True, torch_dtype=torch.float32)\n'
    )
    setup = one(source)
    assert setup.get(PRECISION) == "int8"
    assert setup.get(COMPUTE_DTYPE) == "fp32"
    assert setup.where(COMPUTE_DTYPE).column == 70


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("torch.float16", "fp16"),
        ('"float16"', "fp16"),
        ("torch.bfloat16", "bf16"),
        ('"bfloat16"', "bf16"),
        ("torch.float32", "fp32"),
        ("torch.half", "fp16"),
    ],
)
def test_torch_dtype_unquantized_is_precision(dtype: str, expected: str) -> None:
    setup = one(HEADER + f'model = AutoModelForCausalLM.from_pretrained("x", torch_dtype={dtype})\n')
    assert setup.get(PRECISION) == expected


def test_torch_dtype_auto_and_unknown_are_skipped() -> None:
    source = (
        HEADER
        + 'a = AutoModelForCausalLM.from_pretrained("x", torch_dtype="auto")\nb = AutoModelForCausalLM.from_pretrained("x", torch_dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)\n'
    )
    assert [s.has(PRECISION) for s in setups(source)] == [False, False]


def test_quantization_config_chosen_by_a_flag_nobody_sets_stays_unknown() -> None:
    # The branches give int8 and no quantization, and nothing says which runs: no fact.
    source = HEADER + textwrap.dedent(
        """\
        def load(quantize: bool):
            if quantize:
                quant = BitsAndBytesConfig(load_in_8bit=True)
            else:
                quant = None
            return AutoModelForCausalLM.from_pretrained("x", quantization_config=quant)
        """
    )
    assert not one(source).has(PRECISION)


def test_quantization_config_passed_to_a_helper() -> None:
    source = HEADER + textwrap.dedent(
        """\
        def load(model_id, quant_config=None):
            return AutoModelForCausalLM.from_pretrained(model_id, quantization_config=quant_config, device_map="auto")

        model = load("facebook/opt-1.3b", BitsAndBytesConfig(load_in_8bit=True))
        """
    )
    setup = one(source)
    assert setup.get(PRECISION) == "int8"
    assert setup.get(MODEL) == "facebook/opt-1.3b"
    assert fact_line(setup, QUANT_CONFIG) == line_of(source, "model = load(")


def test_model_kwargs_dict_expanded_into_from_pretrained() -> None:
    source = HEADER + textwrap.dedent(
        """\
        def main():
            bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
            kwargs = {"quantization_config": bnb, "attn_implementation": "eager"}
            return AutoModelForCausalLM.from_pretrained("x", **kwargs)
        """
    )
    setup = one(source)
    assert setup.get(PRECISION) == "nf4"
    assert setup.get(ATTN_IMPLEMENTATION) == "eager"
    assert fact_line(setup, ATTN_IMPLEMENTATION) == line_of(source, '"attn_implementation"')


def test_attn_implementation_keyword() -> None:
    setup = one(HEADER + 'model = AutoModelForCausalLM.from_pretrained("x", attn_implementation="eager")\n')
    assert setup.get(ATTN_IMPLEMENTATION) == "eager"
    assert setup.where(ATTN_IMPLEMENTATION).column == 51


def test_gptq_config() -> None:
    source = "from transformers import AutoModelForCausalLM, GPTQConfig\nm = AutoModelForCausalLM.from_pretrained('x', quantization_config=GPTQConfig(bits=4))\n"
    setup = one(source)
    assert setup.get(PRECISION) == "gptq"


# -- pipeline -------------------------------------------------------------------------------


def test_pipeline_with_model_kwargs_int8() -> None:
    source = HEADER + textwrap.dedent(
        """\
        pipe = pipeline(
            "text-generation",
            model="TinyLlama/TinyLlama-1.1B-Chat-v1.0",
            model_kwargs={"load_in_8bit": True},
            batch_size=1,
        )
        """
    )
    setup = one(source)
    assert setup.get(MODEL) == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert setup.get(PRECISION) == "int8"
    assert fact_line(setup, LLM_INT8_THRESHOLD) == line_of(source, '"load_in_8bit"')
    assert setup.get(BATCH_SIZE) == 1
    assert fact_line(setup, BATCH_SIZE) == line_of(source, "batch_size=1")


def test_pipeline_with_quantization_config_in_model_kwargs_and_dtype() -> None:
    source = HEADER + textwrap.dedent(
        """\
        bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
        pipe = pipeline("text-generation", "Qwen/Qwen2.5-0.5B", model_kwargs={"quantization_config": bnb}, torch_dtype=torch.float32)
        """
    )
    setup = one(source)
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B"
    assert setup.get(PRECISION) == "nf4"
    assert setup.get(COMPUTE_DTYPE) == "fp32"


def test_pipeline_around_a_loaded_model_is_the_same_setup() -> None:
    source = HEADER + textwrap.dedent(
        """\
        model = AutoModelForCausalLM.from_pretrained("x", load_in_8bit=True)
        tok = AutoTokenizer.from_pretrained("x")
        pipe = pipeline("text-generation", model=model, tokenizer=tok, batch_size=1)
        for prompt in open("prompts.txt").read().splitlines():
            pipe(prompt)
        """
    )
    setup = one(source)
    assert setup.get(BATCH_SIZE) == 1
    assert setup.get(SINGLE_REQUEST) == "loop"
    assert fact_line(setup, SINGLE_REQUEST) == line_of(source, "pipe(prompt)")


def test_pipeline_not_from_transformers_is_not_a_setup() -> None:
    source = "from sklearn.pipeline import pipeline\np = pipeline('x')\n"
    assert setups(source) == []


# -- vLLM -----------------------------------------------------------------------------------


def test_vllm_llm_facts() -> None:
    source = textwrap.dedent(
        """\
        from vllm import LLM, SamplingParams
        llm = LLM(
            model="Qwen/Qwen2.5-7B-Instruct",
            quantization="fp8",
            enforce_eager=True,
            tensor_parallel_size=2,
            max_num_seqs=1,
            kv_cache_dtype="fp8_e5m2",
        )
        """
    )
    setup = one(source)
    assert setup.framework == "vllm"
    assert setup.get(MODEL) == "Qwen/Qwen2.5-7B-Instruct"
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(QUANT_CONFIG) == "vllm"
    assert setup.get(ENFORCE_EAGER) is True
    assert fact_line(setup, ENFORCE_EAGER) == 5
    assert setup.get(TENSOR_PARALLEL) == 2
    assert setup.get(BATCH_SIZE) == 1
    assert setup.get(KV_CACHE_DTYPE) == "fp8_e5m2"
    assert not setup.has(COMPILED)


@pytest.mark.parametrize(
    ("quantization", "expected"),
    [("bitsandbytes", "nf4"), ("awq", "awq"), ("gptq", "gptq"), ("awq_marlin", "awq"), ("fbgemm_fp8", "fp8")],
)
def test_vllm_quantization_methods(quantization: str, expected: str) -> None:
    setup = one(f'import vllm\nllm = vllm.LLM("meta-llama/Llama-3.2-1B", quantization="{quantization}")\n')
    assert setup.get(PRECISION) == expected
    assert setup.get(MODEL) == "meta-llama/Llama-3.2-1B"
    assert fact_line(setup, QUANT_CONFIG) == 2


def test_vllm_checkpoint_name_carries_its_precision_as_on_the_command_line() -> None:
    # vLLM reads the method from the checkpoint: the same name says the same in Python and shell
    setup = one('from vllm import LLM\nllm = LLM(model="Qwen/Qwen2.5-7B-Instruct-AWQ", dtype="half")\n')
    assert setup.get(PRECISION) == "awq" and setup.facts[PRECISION].how == "filename"
    assert setup.get(COMPUTE_DTYPE) == "fp16"


def test_vllm_kv_cache_dtype_auto_is_no_setting() -> None:
    assert not one('from vllm import LLM\nllm = LLM("m", kv_cache_dtype="auto")\n').has(KV_CACHE_DTYPE)


def test_vllm_dtype_without_quantization() -> None:
    found = setups(
        "from vllm import LLM\na = LLM('x', dtype='half')\nb = LLM('y', dtype='bfloat16')\nc = LLM('z', dtype='auto')\n"
    )
    assert [s.get(PRECISION) for s in found] == ["fp16", "bf16", None]


def test_vllm_llm_needs_the_vllm_import() -> None:
    assert setups("from mylib import LLM\nllm = LLM(model='x', quantization='fp8')\n") == []


def test_vllm_engine_args_are_a_setup_but_not_single_request() -> None:
    source = textwrap.dedent(
        """\
        from fastapi import FastAPI
        from vllm import AsyncEngineArgs, AsyncLLMEngine
        app = FastAPI()
        engine = AsyncLLMEngine.from_engine_args(AsyncEngineArgs(model="x", quantization="bitsandbytes"))

        @app.post("/generate")
        async def generate(prompt: str):
            async for out in engine.generate(prompt, None, "id"):
                pass
        """
    )
    setup = one(source)
    assert setup.get(PRECISION) == "nf4"
    assert not setup.has(SINGLE_REQUEST)


# -- torchao and compile --------------------------------------------------------------------


def test_torchao_quantize_without_compile_joins_the_loaded_model() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from torchao.quantization import quantize_, float8_weight_only
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B", torch_dtype=torch.bfloat16)
        # compile would help: torch.compile(model)
        quantize_(model, float8_weight_only())
        """
    )
    setup = one(source)
    assert setup.framework == "torchao"
    assert setup.get(MODEL) == "Qwen/Qwen2.5-7B"
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(COMPUTE_DTYPE) == "bf16"
    assert setup.get(QUANT_CONFIG) == "torchao"
    assert setup.get(COMPILED) is False
    assert fact_line(setup, QUANT_CONFIG) == line_of(source, "quantize_(model")
    assert fact_line(setup, COMPILED) == line_of(source, "quantize_(model")


@pytest.mark.parametrize(
    "compile_line",
    [
        "model = torch.compile(model, mode='max-autotune')",
        "model.forward = torch.compile(model.forward)",
        "model.compile()",
        "torch.compile(model)",
    ],
)
def test_torchao_quantize_with_compile(compile_line: str) -> None:
    source = HEADER + textwrap.dedent(
        f"""\
        from torchao.quantization import quantize_, Float8DynamicActivationFloat8WeightConfig
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B")
        config = Float8DynamicActivationFloat8WeightConfig()
        quantize_(model, config)
        {compile_line}
        """
    )
    setup = one(source)
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(COMPILED) is True
    assert fact_line(setup, COMPILED) == 7


def test_torchao_on_a_model_from_elsewhere_is_its_own_setup() -> None:
    source = "from torchao.quantization import quantize_, Float8WeightOnlyConfig\n\ndef prepare(model):\n    quantize_(model, Float8WeightOnlyConfig())\n    return model\n"
    setup = one(source)
    assert setup.framework == "torchao"
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(COMPILED) is False
    assert setup.origin.line == 4


def test_torchao_int4_is_not_fp8() -> None:
    source = "from torchao.quantization import quantize_, int4_weight_only\nquantize_(m, int4_weight_only())\n"
    setup = one(source)
    assert setup.get(QUANT_CONFIG) == "torchao"
    assert not setup.has(PRECISION)


def test_torchao_config_in_from_pretrained() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from transformers import TorchAoConfig
        quant = TorchAoConfig("float8_weight_only")
        model = AutoModelForCausalLM.from_pretrained("x", quantization_config=quant, torch_dtype=torch.bfloat16)
        """
    )
    setup = one(source)
    assert setup.framework == "transformers"
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(QUANT_CONFIG) == "torchao"
    assert setup.get(COMPILED) is False
    assert fact_line(setup, QUANT_CONFIG) == line_of(source, "quant = TorchAoConfig")


def test_torchao_config_with_config_object() -> None:
    source = (
        HEADER
        + "from transformers import TorchAoConfig\nfrom torchao.quantization import Float8WeightOnlyConfig\nm = AutoModelForCausalLM.from_pretrained('x', quantization_config=TorchAoConfig(quant_type=Float8WeightOnlyConfig()))\nm = torch.compile(m)\n"
    )
    setup = one(source)
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(COMPILED) is True


def test_compile_word_in_comment_or_string_is_not_compilation() -> None:
    source = HEADER + textwrap.dedent(
        """\
        import re
        from torchao.quantization import quantize_, float8_dynamic_activation_float8_weight
        model = AutoModelForCausalLM.from_pretrained("x")
        quantize_(model, float8_dynamic_activation_float8_weight())
        NOTE = "torch.compile(model) makes this fast"
        pattern = re.compile("model")
        """
    )
    assert one(source).get(COMPILED) is False


# -- generate() once per prompt -------------------------------------------------------------

LOADED = (
    HEADER
    + """\
tokenizer = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-1.5B")
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")
"""
)


def _signal(body: str) -> tuple[str | None, int | None, str]:
    source = LOADED + textwrap.dedent(body)
    setup = one(source)
    signal = setup.get(SINGLE_REQUEST)
    return signal, (fact_line(setup, SINGLE_REQUEST) if signal else None), source


@pytest.mark.parametrize(
    "body",
    [
        """\
        for p in prompts:
            inputs = tokenizer(p, return_tensors="pt").to("cuda")
            out = model.generate(**inputs, max_new_tokens=64)
        """,
        """\
        for i in range(len(prompts)):
            ids = tokenizer.encode(prompts[i], return_tensors="pt")
            out = model.generate(ids)
        """,
        """\
        outputs = [model.generate(**tokenizer(p, return_tensors="pt")) for p in prompts]
        """,
        """\
        for question in questions:
            messages = [{"role": "system", "content": "Be brief."}]
            messages.append({"role": "user", "content": question})
            ids = tokenizer.apply_chat_template(messages, return_tensors="pt")
            out = model.generate(ids)
        """,
        """\
        for row in dataset:
            for _ in range(3):
                out = model.generate(**tokenizer(row["text"], return_tensors="pt"))
        """,
        """\
        for idx, p in enumerate(tqdm(prompts)):
            out = model.generate(tokenizer(p, return_tensors="pt", padding=True).input_ids)
        """,
        """\
        history = []
        for turn in turns:
            history.append({"role": "user", "content": turn})
            out = model.generate(tokenizer.apply_chat_template(history, return_tensors="pt"))
        """,
        """\
        outputs = []
        for p in prompts:
            outputs.append(model.generate(**tokenizer(p, return_tensors="pt")))
            outputs = outputs[-10:]
        """,
    ],
)
def test_generate_per_prompt_in_a_loop(body: str) -> None:
    signal, line, source = _signal(body)
    assert signal == "loop"
    assert line == line_of(source, "model.generate(")


@pytest.mark.parametrize(
    "body",
    [
        """\
        for batch in batches:
            inputs = tokenizer(batch, return_tensors="pt", padding=True)
            out = model.generate(**inputs)
        """,
        """\
        for i in range(0, len(prompts), 8):
            inputs = tokenizer(prompts[i:i + 8], return_tensors="pt", padding=True)
            out = model.generate(**inputs)
        """,
        """\
        for i in range(n_batches):
            chunk_of_prompts = prompts[i * bs:(i + 1) * bs]
            out = model.generate(**tokenizer(chunk_of_prompts, padding=True, return_tensors="pt"))
        """,
        """\
        for b in DataLoader(dataset, batch_size=16):
            out = model.generate(**b)
        """,
        """\
        while True:
            prompt = input("> ")
            out = model.generate(**tokenizer(prompt, return_tensors="pt"))
        """,
        """\
        for run in range(5):
            out = model.generate(**fixed_inputs)
        """,
        """\
        for temperature in (0.2, 0.7):
            out = model.generate(**fixed_inputs, temperature=temperature, do_sample=True)
        """,
        """\
        inputs = tokenizer(prompts, return_tensors="pt", padding=True)
        out = model.generate(**inputs)
        """,
        """\
        for p in prompts:
            text = tokenizer.decode(model_output[len(p):])
        """,
        """\
        batch = []
        for i, prompt in enumerate(prompts):
            batch.append(prompt)
            if len(batch) < 8 and i != len(prompts) - 1:
                continue
            out = model.generate(**tokenizer(batch, return_tensors="pt", padding=True))
            batch = []
        """,
        """\
        pending = []
        for prompt in prompts:
            pending += [prompt]
            if len(pending) == 8:
                out = model.generate(**tokenizer(pending, return_tensors="pt", padding=True))
                pending.clear()
        """,
    ],
)
def test_batches_chat_loops_and_repetition_are_not_per_prompt(body: str) -> None:
    signal, _, _ = _signal(body)
    assert signal is None


def test_generate_in_a_helper_called_per_prompt() -> None:
    signal, line, source = _signal(
        """\
        def answer(question):
            inputs = tokenizer(question, return_tensors="pt")
            return model.generate(**inputs)

        for q in questions:
            print(answer(q))
        """
    )
    assert signal == "loop"
    assert line == line_of(source, "model.generate(")


def test_helper_called_once_with_all_prompts_is_clean() -> None:
    signal, _, _ = _signal(
        """\
        def answer(batch):
            return model.generate(**tokenizer(batch, return_tensors="pt", padding=True))

        answer(prompts)
        """
    )
    assert signal is None


def test_vllm_generate_single_prompt_per_loop_vs_list() -> None:
    looped = one("from vllm import LLM\nllm = LLM('x')\nfor p in prompts:\n    llm.generate(p, params)\n")
    assert looped.get(SINGLE_REQUEST) == "loop"
    assert looped.where(SINGLE_REQUEST).line == 4
    batched = one("from vllm import LLM\nllm = LLM('x')\nouts = llm.generate(prompts, params)\n")
    assert not batched.has(SINGLE_REQUEST)
    listed = one(
        "from vllm import LLM\nllm = LLM('x')\nfor group in groups:\n    llm.generate([fmt(p) for p in group])\n"
    )
    assert not listed.has(SINGLE_REQUEST)


def test_generate_is_linked_to_its_model_by_name() -> None:
    source = HEADER + textwrap.dedent(
        """\
        small = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B")
        big = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B")
        for p in prompts:
            big.generate(**tokenizer(p, return_tensors="pt"))
        """
    )
    small, big = setups(source)
    assert not small.has(SINGLE_REQUEST)
    assert big.get(SINGLE_REQUEST) == "loop"
    assert (small.label, big.label) == ("small", "big")


def test_other_clients_generate_is_not_the_model() -> None:
    source = LOADED + "client = InferenceClient('http://tgi')\nfor p in prompts:\n    client.generate(p)\n"
    assert not one(source).has(SINGLE_REQUEST)


# -- web handlers ---------------------------------------------------------------------------

SERVER = (
    LOADED
    + """\
from fastapi import FastAPI
app = FastAPI()
"""
)


@pytest.mark.parametrize(
    "decorator", ['@app.post("/generate")', '@app.get("/")', '@router.post("/x")', '@app.route("/x", methods=["POST"])']
)
def test_generate_in_a_route_handler(decorator: str) -> None:
    source = SERVER + textwrap.dedent(
        f"""\
        {decorator}
        async def generate(req: dict):
            inputs = tokenizer(req["prompt"], return_tensors="pt")
            output = model.generate(**inputs, max_new_tokens=100)
            return tokenizer.decode(output[0])
        """
    )
    setup = one(source)
    assert setup.get(SINGLE_REQUEST) == "handler"
    assert fact_line(setup, SINGLE_REQUEST) == line_of(source, "model.generate(")
    assert not setup.has(RELOAD_PER_REQUEST)


def test_generate_in_a_helper_called_by_a_handler_and_streaming_thread() -> None:
    source = SERVER + textwrap.dedent(
        """\
        from threading import Thread

        def run(prompt):
            streamer = TextIteratorStreamer(tokenizer)
            thread = Thread(target=model.generate, kwargs=dict(**tokenizer(prompt), streamer=streamer))
            thread.start()
            return streamer

        @app.post("/stream")
        def stream(prompt: str):
            return run(prompt)
        """
    )
    setup = one(source)
    assert setup.get(SINGLE_REQUEST) == "handler"
    assert fact_line(setup, SINGLE_REQUEST) == line_of(source, "target=model.generate")


def test_starlette_route_registration_is_a_handler() -> None:
    source = LOADED + textwrap.dedent(
        """\
        from starlette.routing import Route

        async def homepage(request):
            return model.generate(**tokenizer((await request.json())["p"], return_tensors="pt"))

        routes = [Route("/", homepage, methods=["POST"])]
        """
    )
    assert one(source).get(SINGLE_REQUEST) == "handler"


def test_generate_outside_handlers_and_loops_is_clean() -> None:
    signal, _, _ = _signal('out = model.generate(**tokenizer("hello", return_tensors="pt"))\n')
    assert signal is None


# -- model reloaded per request ---------------------------------------------------------------


def test_from_pretrained_inside_a_handler() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from flask import Flask, request
        app = Flask(__name__)

        @app.route("/predict", methods=["POST"])
        def predict():
            model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")
            return model.generate(**request.json)
        """
    )
    setup = one(source)
    assert setup.get(RELOAD_PER_REQUEST) == "handler"
    assert fact_line(setup, RELOAD_PER_REQUEST) == line_of(source, "from_pretrained")
    assert setup.get(SINGLE_REQUEST) == "handler"


def test_from_pretrained_in_a_loader_called_by_a_handler() -> None:
    source = SERVER + textwrap.dedent(
        """\
        def get_model(name):
            return AutoModelForCausalLM.from_pretrained(name)

        @app.post("/x")
        def x(prompt: str):
            m = get_model("Qwen/Qwen2.5-1.5B")
            return m.generate(prompt)
        """
    )
    found = {s.get(MODEL): s for s in setups(source)}
    assert found["Qwen/Qwen2.5-1.5B"].get(RELOAD_PER_REQUEST) == "handler"


def test_pipeline_and_llm_inside_a_loop_over_prompts() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from vllm import LLM
        for prompt in prompts:
            pipe = pipeline("text-generation", model="gpt2")
            llm = LLM(model="facebook/opt-125m")
            pipe(prompt)
            llm.generate(prompt)
        """
    )
    pipe, llm = sorted(setups(source), key=lambda s: s.framework)
    assert pipe.get(RELOAD_PER_REQUEST) == "loop"
    assert llm.get(RELOAD_PER_REQUEST) == "loop"


@pytest.mark.parametrize(
    "body",
    [
        """\
        @functools.lru_cache(maxsize=1)
        def get_model():
            return AutoModelForCausalLM.from_pretrained("x")

        @app.post("/x")
        def x(prompt: str):
            return get_model().generate(prompt)
        """,
        """\
        _model = None

        def get_model():
            global _model
            if _model is None:
                _model = AutoModelForCausalLM.from_pretrained("x")
            return _model

        @app.post("/x")
        def x(prompt: str):
            return get_model().generate(prompt)
        """,
        """\
        class Service:
            def __init__(self):
                self.model = None
                self.cache = {}

            def load(self, name):
                if name not in self.cache:
                    self.cache[name] = AutoModelForCausalLM.from_pretrained(name)
                return self.cache[name]

            def ensure(self):
                if self.model is not None:
                    return self.model
                self.model = AutoModelForCausalLM.from_pretrained("x")
                return self.model

        service = Service()

        @app.post("/x")
        def x(prompt: str):
            service.ensure()
            return service.load("y")
        """,
        """\
        def model_fn(model_dir):
            return AutoModelForCausalLM.from_pretrained(model_dir)

        @app.on_event("startup")
        def startup():
            app.state.model = AutoModelForCausalLM.from_pretrained("x")
        """,
        """\
        for name in ["Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B"]:
            m = AutoModelForCausalLM.from_pretrained(name)
        for attempt in range(3):
            try:
                m = AutoModelForCausalLM.from_pretrained("x")
                break
            except OSError:
                pass
        for bits in (4, 8):
            m = AutoModelForCausalLM.from_pretrained("x", load_in_4bit=bits == 4, load_in_8bit=bits == 8)
        """,
    ],
)
def test_loading_once_is_not_a_reload(body: str) -> None:
    source = "import functools\n" + SERVER.replace(LOADED, HEADER) + textwrap.dedent(body)
    assert not any(s.has(RELOAD_PER_REQUEST) for s in setups(source))


def test_init_of_a_class_built_per_request_is_still_once() -> None:
    source = SERVER.replace(LOADED, HEADER) + textwrap.dedent(
        """\
        class Generator:
            def __init__(self):
                self.model = AutoModelForCausalLM.from_pretrained("x")
        """
    )
    assert not one(source).has(RELOAD_PER_REQUEST)


# -- robustness -----------------------------------------------------------------------------


def test_odd_but_valid_code_does_not_crash() -> None:
    source = textwrap.dedent(
        """\
        from transformers import AutoModel
        import torch as t
        x = y = AutoModel.from_pretrained(*args, **kwargs)
        (a, *rest), b = AutoModel.from_pretrained("x"), 2
        AutoModel.from_pretrained(f"{unknown!r}", torch_dtype=t.float16)
        lambda: AutoModel.from_pretrained("y").generate(z)
        match command:
            case "load":
                AutoModel.from_pretrained("z")
        cls.from_pretrained("w")
        super().from_pretrained("v")
        getattr(transformers, name).from_pretrained("u")
        async def f():
            async for p in stream():
                await model.generate(p)
        def g(n=AutoModel.from_pretrained("d")):
            nonlocal_x = [q async for q in aiter()] if False else None
        """
    )
    found = setups(source)
    assert len(found) == 7


@pytest.mark.parametrize(
    "body",
    [
        # the loop item picks the class
        """\
        for sub_class in (AutoModelForCausalLM, AutoModelForSeq2SeqLM):
            m = sub_class.from_pretrained("x")
            m.generate(ids)
        """,
        # a save/reload round-trip per setting
        """\
        for max_size in ["150kB", "200kB"]:
            base.save_pretrained(tmp_dir, max_shard_size=max_size)
            m = AutoModelForCausalLM.from_pretrained(tmp_dir)
            m(ids)
        """,
        # a checkpoint written inside the loop
        """\
        for epoch in range(3):
            with tempfile.TemporaryDirectory() as tmp:
                m = AutoModelForCausalLM.from_pretrained(tmp)
                m.generate(ids)
        """,
        # per-item dispatch on the item's type
        """\
        for _ in range(len(models)):
            model = models.pop()
            if isinstance(model, LlamaForCausalLM):
                loaded = LlamaForCausalLM.from_pretrained(input_dir)
                loaded.generate(ids)
        """,
        # loaded per item but never run there: weights copied into a list of modules
        """\
        for _ in range(len(models)):
            target = models.pop()
            loaded = AutoModelForCausalLM.from_pretrained(input_dir)
            target.load_state_dict(loaded.state_dict())
        """,
    ],
)
def test_loops_that_load_something_else_each_time_are_not_reloads(body: str) -> None:
    source = (
        HEADER
        + "import tempfile\nfrom transformers import AutoModelForSeq2SeqLM, LlamaForCausalLM\n"
        + textwrap.dedent(body)
    )
    assert not any(s.has(RELOAD_PER_REQUEST) for s in setups(source))


def test_reload_in_a_helper_called_per_prompt() -> None:
    source = HEADER + textwrap.dedent(
        """\
        def answer(prompt):
            model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")
            return model.generate(**tokenizer(prompt, return_tensors="pt"))

        for p in prompts:
            answer(p)
        """
    )
    setup = one(source)
    assert setup.get(RELOAD_PER_REQUEST) == "loop"
    assert fact_line(setup, RELOAD_PER_REQUEST) == line_of(source, "from_pretrained")
    assert setup.get(SINGLE_REQUEST) == "loop"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the loop's item is the model id, through a helper: a sweep over models
        (
            """\
            def evaluate(model_id):
                model = AutoModelForCausalLM.from_pretrained(model_id)
                return model.generate(ids)

            for model_id in ["Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B"]:
                evaluate(model_id)
            """,
            None,
        ),
        # two calls up, the item reaches the loader: still a sweep
        (
            """\
            def answer(model_id, prompt):
                model = AutoModelForCausalLM.from_pretrained(model_id)
                return model.generate(**tokenizer(prompt, return_tensors="pt"))

            def run(model_id):
                return answer(model_id, "hi")

            for model_id in MODELS:
                run(model_id)
            """,
            None,
        ),
        # two calls up, the item is a prompt and the model is always the same: a reload
        (
            """\
            def load_and_answer(prompt):
                model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")
                return model.generate(**tokenizer(prompt, return_tensors="pt"))

            def handle(prompt):
                return load_and_answer(prompt)

            for p in prompts:
                handle(p)
            """,
            "loop",
        ),
    ],
)
def test_a_loop_calls_up_tells_a_sweep_from_a_reload(body: str, expected: str | None) -> None:
    """Whether the loop's item reaches the loader is worked out only where a loop stands on
    the way up (the def-use closure is the costly part); it must still be worked out there."""
    setup = one(HEADER + textwrap.dedent(body))
    assert (setup.get(RELOAD_PER_REQUEST) if setup.has(RELOAD_PER_REQUEST) else None) == expected


def test_a_load_button_handler_is_not_a_reload_per_request() -> None:
    source = HEADER + textwrap.dedent(
        """\
        import gradio as gr
        state = {}

        def load_model(name):
            return AutoModelForCausalLM.from_pretrained(name)

        def load_or_reload_model(name):
            state["model"] = load_model(name)

        def describe(prompt):
            m = load_model("Qwen/Qwen2.5-1.5B")
            return m.generate(prompt)

        with gr.Blocks() as demo:
            gr.Button("Reload").click(load_or_reload_model, inputs=[])
            gr.Button("Go").click(describe, inputs=[])
        """
    )
    # one setup per call site: the reload button's (the model the user picks) and describe()'s
    found = {s.get(MODEL): s for s in setups(source)}
    assert sorted(found, key=str) == [None, "Qwen/Qwen2.5-1.5B"]
    assert found["Qwen/Qwen2.5-1.5B"].get(RELOAD_PER_REQUEST) == "handler"  # through describe()
    assert found["Qwen/Qwen2.5-1.5B"].get(SINGLE_REQUEST) == "handler"
    assert not found[None].has(RELOAD_PER_REQUEST)  # the reload button loads on request: what it is for


def test_ray_serve_batched_handler_is_not_single_request() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from ray import serve

        @serve.deployment
        class Generator:
            def __init__(self):
                self.model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")

            @serve.batch(max_batch_size=8)
            async def __call__(self, prompts):
                return self.model.generate(**tokenizer(prompts, return_tensors="pt", padding=True))
        """
    )
    setup = one(source)
    assert not setup.has(SINGLE_REQUEST)
    assert not setup.has(RELOAD_PER_REQUEST)


def test_ray_serve_unbatched_call_is_a_handler() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from ray import serve

        @serve.deployment
        class Generator:
            def __init__(self):
                self.model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")

            async def __call__(self, request):
                prompt = (await request.json())["prompt"]
                return self.model.generate(**tokenizer(prompt, return_tensors="pt"))
        """
    )
    assert one(source).get(SINGLE_REQUEST) == "handler"


def test_generate_of_a_method_of_this_class_is_followed_to_the_model() -> None:
    source = HEADER + textwrap.dedent(
        """\
        class Chat:
            def __init__(self):
                self.model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")

            def generate(self, prompt):
                return self.model.generate(**tokenizer(prompt, return_tensors="pt"))

            def run_all(self, prompts):
                return [self.generate(p) for p in prompts]
        """
    )
    setup = one(source)
    assert setup.get(SINGLE_REQUEST) == "loop"
    assert fact_line(setup, SINGLE_REQUEST) == line_of(source, "self.model.generate(")


def test_vllm_bitsandbytes_on_an_8bit_checkpoint_is_int8_without_exposed_threshold() -> None:
    setup = one('from vllm import LLM\nllm = LLM(model="org/Llama-3-8B-bnb-8bit", quantization="bitsandbytes")\n')
    assert setup.get(PRECISION) == "int8"
    assert setup.get(THRESHOLD_EXPOSED) is False
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0


def test_files_whose_triggers_are_only_in_text_build_no_setups(monkeypatch: pytest.MonkeyPatch) -> None:
    # The engine's prefilter never hands such a file over; read directly, the extractor stops
    # after the index pass, before building anything.
    def fail(*args: object) -> None:
        raise AssertionError("the extraction pass should not be reached")

    monkeypatch.setattr(python_extractor, "_Extraction", fail)
    source = '"""Call AutoModel.from_pretrained(...) and pipeline(...) like this."""\n# LLM(model="x")\nprint("quantize_(m)")\n'
    assert setups(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",  # libcst's native parser segfaults on this
        "x = " + "-" * 5000 + "1\n",
        "x = " + "1 if a else " * 2000 + "1\n",
        "x = " + " + ".join(["a"] * 3000) + "\n",  # libcst takes seconds on this
    ],
)
def test_pathological_nesting_is_reported_not_parsed(source: str) -> None:
    with pytest.raises(ExtractError) as caught:
        setups("from transformers import AutoModel\nAutoModel.from_pretrained('x')\n" + source)
    assert "nested" in caught.value.message


def test_null_bytes_are_an_extract_error() -> None:
    with pytest.raises(ExtractError):
        setups("from transformers import AutoModel\nAutoModel.from_pretrained('x')\x00\n")


def test_vllm_dtype_on_a_quantized_model_is_compute_dtype() -> None:
    source = 'from vllm import LLM\nllm = LLM("Qwen/Qwen2.5-1.5B", quantization="awq",\n          dtype="float32")\n'
    setup = one(source)
    assert setup.get(PRECISION) == "awq"
    assert setup.get(COMPUTE_DTYPE) == "fp32"
    assert fact_line(setup, COMPUTE_DTYPE) == 3


# -- positions from ast: character columns, parentheses, libcst kept out -------------------------


def test_columns_count_characters_after_non_ascii_text_on_the_same_line() -> None:
    # ast reports UTF-8 byte offsets: "é" and "✓" are 2 and 3 bytes but one column each.
    source = (
        HEADER + 'greeting = "héllo ✓"; model = AutoModelForCausalLM.from_pretrained("ünï/mödel", load_in_8bit=True)\n'
    )
    setup = one(source)
    line = textwrap.dedent(source).splitlines()[2]
    assert setup.origin.column == line.index("AutoModelForCausalLM") + 1
    assert setup.origin.end_column == len(line) + 1
    assert setup.where(MODEL).column == line.index('"ünï') + 1
    assert setup.where(MODEL).end_column == line.index(", load_in_8bit") + 1
    where = setup.where(PRECISION)
    assert (where.line, where.column, where.end_column) == (3, line.index("load_in_8bit") + 1, line.index("True)") + 5)


def test_parenthesized_arguments_and_dict_entries_span_their_parentheses() -> None:
    source = HEADER + textwrap.dedent(
        """\
        model = AutoModelForCausalLM.from_pretrained(  # a comment with a (
            ( "org/model" ),
            quantization_config={("load_in_8bit"): (True), "llm_int8_threshold": (5.0)},
        )
        """
    )
    setup = one(source)
    lines = textwrap.dedent(source).splitlines()
    model = setup.where(MODEL)
    assert (model.line, model.column, model.end_column) == (4, 5, 20)
    precision = setup.where(PRECISION)
    assert (precision.line, precision.column) == (5, lines[4].index('("load') + 1)
    assert precision.end_column == lines[4].index(', "llm') + 1
    threshold = setup.where(LLM_INT8_THRESHOLD)
    assert threshold.column == lines[4].index('"llm') + 1 and threshold.end_column == lines[4].index("}") + 1


def test_keyword_arguments_are_read_in_source_order_around_star_arguments() -> None:
    source = HEADER + textwrap.dedent(
        """\
        KW = {"torch_dtype": "float16"}
        a = AutoModelForCausalLM.from_pretrained("x", torch_dtype="bfloat16", **KW)
        b = AutoModelForCausalLM.from_pretrained("x", **KW, torch_dtype="bfloat16")
        """
    )
    a, b = setups(source)
    assert (a.get(PRECISION), b.get(PRECISION)) == ("fp16", "bf16")


def test_detection_never_imports_libcst(tmp_path: Path) -> None:
    import subprocess
    import sys

    app = tmp_path / "app.py"
    app.write_text(HEADER + 'model = AutoModelForCausalLM.from_pretrained("x", load_in_8bit=True)\n')
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ecolint.extract import ExtractContext\n"
        "from ecolint.extract.python import extract\n"
        f"path = Path({str(app)!r})\n"
        "found = extract(str(path), path.read_text(), ExtractContext(root=path.parent, read_text=lambda p: None))\n"
        "assert len(found) == 1, found\n"
        "assert 'libcst' not in sys.modules, 'libcst was imported'\n"
    )
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_a_fine_tuning_module_marks_its_setups_as_training() -> None:
    from ecolint.setups import PURPOSE

    code = """
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    bnb = BitsAndBytesConfig(load_in_4bit=True)
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", quantization_config=bnb)
    model = prepare_model_for_kbit_training(model)
    """
    setup = one(code)
    assert setup.get(PURPOSE) == "training"
    assert setup.where(PURPOSE).line == line_of(code, "prepare_model_for_kbit_training(model)")


def test_an_inference_module_has_no_purpose_fact() -> None:
    from ecolint.setups import PURPOSE

    code = """
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B")
    out = model.generate(max_new_tokens=8)
    """
    setup = one(code)
    assert not setup.has(PURPOSE)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).resolve().parent.parent / "fixtures" / "python").glob("*.py"))
)
def test_an_extraction_leaves_no_reference_cycles(name: str) -> None:
    """A file's syntax tree is freed by reference counting as soon as its extraction is done.
    Anything the index ties into a cycle keeps the whole tree alive until the cyclic collector
    walks it once more: that walk was a third of the Python time on a test-heavy tree."""
    import gc

    path = Path(__file__).resolve().parent.parent / "fixtures" / "python" / name
    text = path.read_text(encoding="utf-8")
    gc.collect()
    gc.disable()
    try:
        setups = extract(str(path), text, _context(path.parent))
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert setups or name == "clean.py"


def test_a_mock_patch_decorator_is_not_a_patch_route() -> None:
    source = HEADER + textwrap.dedent(
        """\
        from unittest import mock
        from unittest.mock import patch
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B")

        @patch("pkg.Thing", object)
        def test_once():
            model.generate(ids)

        @mock.patch("pkg.Other", object)
        def test_twice():
            model.generate(ids)
        """
    )
    assert not one(source).has(SINGLE_REQUEST)
    routed = source.replace('@patch("pkg.Thing", object)', '@app.patch("/items")')
    assert one(routed).get(SINGLE_REQUEST) == "handler"


def test_an_imported_module_with_invalid_escapes_prints_no_warning(tmp_path: Path) -> None:
    # Python 3.12 prints a SyntaxWarning for "\d" in a plain string (3.11 a DeprecationWarning):
    # the module consulted is read as quietly as the file itself.
    (tmp_path / "config.py").write_text('PATTERN = "\\d+"\nMODEL_ID = "Qwen/Qwen2.5-3B"\n')
    source = HEADER + "from config import MODEL_ID\nmodel = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
    context = ExtractContext(root=tmp_path, read_text=lambda p: p.read_text() if p.is_file() else None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert extract("app.py", source, context)[0].get(MODEL) == "Qwen/Qwen2.5-3B"
    assert [str(w.message) for w in caught] == []


# The package's modules from the bottom up, as its docstring lists them.
LAYERS = [
    "syntax",
    "source",
    "index",
    "imports",
    "values",
    "frameworks",
    "flows",
    "usage",
    "platforms",
    "invoked",
    "modules",
]


def test_each_extractor_module_imports_only_the_modules_below_it() -> None:
    # None imports the package itself, which assembles them: that would be an import cycle
    # waiting for the first name used at import time.
    package = Path(python_extractor.__file__).parent
    assert sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__") == sorted(LAYERS)
    for position, name in enumerate(LAYERS):
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {
            "." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        ours = {module for module in imported if module.startswith(("ecolint.extract.python", "."))}
        allowed = {f"ecolint.extract.python.{below}" for below in LAYERS[:position]}
        assert ours <= allowed, f"{name}.py imports {sorted(ours - allowed)}"


def test_a_setup_from_a_tuple_unpacking_is_labelled_with_the_models_name(tmp_path: Path) -> None:
    """`tokenizer, model, processor = load(path)`: a file with two setups labels each with the
    name its model gets, not the first name of the target."""
    (tmp_path / "builder.py").write_text(
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "\n"
        "\n"
        "def load_pretrained_model(path):\n"
        "    tokenizer = AutoTokenizer.from_pretrained(path)\n"
        "    model = AutoModelForCausalLM.from_pretrained(path, load_in_8bit=True)\n"
        "    return tokenizer, model, None\n"
    )
    (tmp_path / ".git").mkdir()
    source = """\
        from transformers import AutoModelForCausalLM
        from builder import load_pretrained_model

        draft = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B", load_in_8bit=True)
        tokenizer, model, processor = load_pretrained_model("Qwen/Qwen2.5-7B")
        """
    from ecolint.extract.python.modules import build_module_index
    from ecolint.prefilter import python_may_hold_setup

    context = _context(tmp_path)
    context.modules = build_module_index(tmp_path, sorted(tmp_path.glob("*.py")), python_may_hold_setup)
    (tmp_path / "app.py").write_text(textwrap.dedent(source))
    found = extract(str(tmp_path / "app.py"), textwrap.dedent(source), context)
    assert sorted(setup.label or "" for setup in found) == ["draft", "model"]
