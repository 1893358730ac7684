"""Values that travel inside one module: branches chosen by command-line defaults, factory
functions, dicts changed before they are unpacked, click / typer / fire parameters."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import FIXTURES, run_cli

from ecolint.extract import ExtractContext
from ecolint.extract.python import extract
from ecolint.setups import DEFAULTS_CHOSEN, MODEL, PRECISION, Setup

HEADER = """\
import argparse
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
"""


def setups(source: str) -> list[Setup]:
    context = ExtractContext(root=Path("/nonexistent-ecolint-root"), read_text=lambda path: None)
    return extract("app.py", HEADER + textwrap.dedent(source), context)


def precisions(source: str) -> list[str | None]:
    return [s.get(PRECISION) for s in setups(source)]


ARGPARSE_QUANT = """\
parser = argparse.ArgumentParser()
parser.add_argument("--quant", type=int, choices=[4, 8], default={default})
args = parser.parse_args()
"""


def test_loader_in_a_branch_the_default_does_not_take_is_no_setup() -> None:
    source = ARGPARSE_QUANT.format(default=0) + textwrap.dedent(
        """\
        if args.quant == 8:
            model = AutoModelForCausalLM.from_pretrained("m", load_in_8bit=True)
        else:
            model = AutoModelForCausalLM.from_pretrained("m", torch_dtype=torch.float16)
        """
    )
    found = setups(source)
    assert [s.get(PRECISION) for s in found] == ["fp16"]
    assert found[0].get(DEFAULTS_CHOSEN) == ("--quant",)  # the else branch: what a plain run gets


def test_loader_in_the_branch_the_default_takes_names_the_option() -> None:
    source = ARGPARSE_QUANT.format(default=8) + textwrap.dedent(
        """\
        if args.quant == 8:
            model = AutoModelForCausalLM.from_pretrained("m", load_in_8bit=True)
        """
    )
    (setup,) = setups(source)
    assert setup.get(PRECISION) == "int8"
    assert setup.get(DEFAULTS_CHOSEN) == ("--quant",)


def test_a_value_the_code_assigns_to_the_option_keeps_the_branch_open() -> None:
    # args.quant is 0 by default but 4 after the assignment: `== 4` is not decided, `== 8` is.
    source = ARGPARSE_QUANT.format(default=0) + textwrap.dedent(
        """\
        if "int4" in MODEL_PATH:
            args.quant = 4
        if args.quant == 4:
            a = AutoModelForCausalLM.from_pretrained("m", load_in_4bit=True)
        if args.quant == 8:
            b = AutoModelForCausalLM.from_pretrained("m", load_in_8bit=True)
        """
    )
    assert precisions(source) == ["fp4"]


def test_conditional_expression_whose_condition_is_unknown_gives_no_config() -> None:
    source = """\
        quant = BitsAndBytesConfig(load_in_8bit=True) if torch.cuda.is_available() else None
        model = AutoModelForCausalLM.from_pretrained("m", quantization_config=quant)
        """
    assert precisions(source) == [None]


def test_conditional_expression_chosen_by_an_argparse_default() -> None:
    source = """\
        parser = argparse.ArgumentParser()
        parser.add_argument("--eight-bit", action="store_true")
        args = parser.parse_args()
        quant = BitsAndBytesConfig(load_in_8bit=True) if args.eight_bit else None
        dtype = torch.bfloat16 if not args.eight_bit else torch.float16
        model = AutoModelForCausalLM.from_pretrained("m", quantization_config=quant, torch_dtype=dtype)
        """
    (setup,) = setups(source)
    assert setup.get(PRECISION) == "bf16"
    assert setup.get(DEFAULTS_CHOSEN) == ("--eight-bit",)


def test_branches_that_agree_give_their_fact() -> None:
    source = """\
        if torch.cuda.is_available():
            quant = BitsAndBytesConfig(load_in_8bit=True)
            model_id = "facebook/opt-6.7b"
        else:
            quant = BitsAndBytesConfig(load_in_8bit=True)
            model_id = "facebook/opt-6.7b"
        model = AutoModelForCausalLM.from_pretrained(model_id, quantization_config=quant)
        """
    (setup,) = setups(source)
    assert (setup.get(PRECISION), setup.get(MODEL)) == ("int8", "facebook/opt-6.7b")


def test_branches_that_differ_leave_the_model_unknown() -> None:
    source = """\
        if torch.cuda.is_available():
            model_id = "facebook/opt-6.7b"
        else:
            model_id = "facebook/opt-125m"
        model = AutoModelForCausalLM.from_pretrained(model_id)
        """
    assert setups(source)[0].get(MODEL) is None


def test_a_use_inside_the_branch_sees_that_branch_only() -> None:
    source = """\
        def load(use_8bit):
            if use_8bit:
                quant = BitsAndBytesConfig(load_in_8bit=True)
                return AutoModelForCausalLM.from_pretrained("m", quantization_config=quant)
            quant = None
            return AutoModelForCausalLM.from_pretrained("m", quantization_config=quant)
        """
    assert precisions(source) == ["int8", None]


def test_an_except_clause_is_an_alternative_to_the_try_body() -> None:
    source = """\
        try:
            config = load_config()
        except Exception:
            config = None
        if config is None:
            a = AutoModelForCausalLM.from_pretrained("m", load_in_8bit=True)
        else:
            b = AutoModelForCausalLM.from_pretrained("m", torch_dtype=torch.float16)
        """
    assert precisions(source) == ["int8", "fp16"]


def test_match_statement_on_an_argparse_default() -> None:
    source = """\
        parser = argparse.ArgumentParser()
        parser.add_argument("--precision", default="nf4")
        args = parser.parse_args()
        match args.precision:
            case "int8":
                quant = BitsAndBytesConfig(load_in_8bit=True)
            case "nf4" | "fp4":
                quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
            case _:
                quant = None
        model = AutoModelForCausalLM.from_pretrained("m", quantization_config=quant)
        """
    assert precisions(source) == ["nf4"]


def test_a_library_functions_default_does_not_choose_a_branch() -> None:
    # Nothing here calls load(): its callers elsewhere pass what they want.
    source = """\
        def load(model_id, quantize=False):
            if quantize:
                return AutoModelForCausalLM.from_pretrained(model_id, load_in_8bit=True)
            return AutoModelForCausalLM.from_pretrained(model_id, torch_dtype=torch.float16)
        """
    assert precisions(source) == ["int8", "fp16"]


def test_factory_function_returning_a_config() -> None:
    source = """\
        def make_bnb():
            return BitsAndBytesConfig(load_in_8bit=True)

        cfg = make_bnb()
        a = AutoModelForCausalLM.from_pretrained("m", quantization_config=make_bnb())
        b = AutoModelForCausalLM.from_pretrained("m", quantization_config=cfg)
        """
    assert precisions(source) == ["int8", "int8"]


def test_factory_function_whose_branch_a_call_site_selects() -> None:
    source = """\
        def get_quantization_config(quant):
            if quant == "8bit":
                return BitsAndBytesConfig(load_in_8bit=True)
            elif quant == "4bit":
                return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
            return None

        model = AutoModelForCausalLM.from_pretrained("m", quantization_config=get_quantization_config("4bit"))
        """
    assert precisions(source) == ["nf4"]


def test_factory_function_whose_branch_nobody_selects_gives_nothing() -> None:
    source = """\
        def get_quantization_config(quant):
            if quant == "8bit":
                return BitsAndBytesConfig(load_in_8bit=True)
            return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")

        def load(name, quant):
            return AutoModelForCausalLM.from_pretrained(name, quantization_config=get_quantization_config(quant))
        """
    assert precisions(source) == [None]


def test_dict_changed_before_it_is_unpacked() -> None:
    source = """\
        params = {"device_map": "auto"}
        params["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")
        params.update({"torch_dtype": torch.bfloat16})
        params.setdefault("torch_dtype", torch.float16)
        model = AutoModelForCausalLM.from_pretrained("m", **params)
        params["quantization_config"] = None
        """
    (setup,) = setups(source)
    assert setup.get(PRECISION) == "nf4"
    assert setup.get("compute_dtype") == "bf16"


def test_dict_entry_written_under_an_unknown_branch_is_unknown() -> None:
    source = """\
        params = {"torch_dtype": torch.float16}
        if torch.cuda.is_available():
            params["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        model = AutoModelForCausalLM.from_pretrained("m", **params)
        """
    assert precisions(source) == ["fp16"]  # the quantization is unknown; no INT8 rests on it
    assert not setups(source)[0].has("quant_config")


def test_click_option_default() -> None:
    source = """\
        import click

        @click.command()
        @click.option("--model-id", default="facebook/opt-6.7b")
        @click.option("--eight-bit", is_flag=True, default=True)
        def main(model_id, eight_bit):
            return AutoModelForCausalLM.from_pretrained(model_id, load_in_8bit=eight_bit)

        main()
        """
    (setup,) = setups(source)
    assert (setup.get(MODEL), setup.get(PRECISION)) == ("facebook/opt-6.7b", "int8")


def test_click_flag_without_default_is_off() -> None:
    source = """\
        import click

        @click.command()
        @click.option("--eight-bit", is_flag=True)
        def main(eight_bit):
            if eight_bit:
                return AutoModelForCausalLM.from_pretrained("m", load_in_8bit=True)
            return AutoModelForCausalLM.from_pretrained("m", torch_dtype=torch.float16)
        """
    assert precisions(source) == ["fp16"]


def test_typer_option_default() -> None:
    source = """\
        import typer

        def main(model: str = typer.Option("facebook/opt-6.7b", "--model"), quant: str = typer.Option(...)):
            return AutoModelForCausalLM.from_pretrained(model, load_in_8bit=quant == "8bit")

        typer.run(main)
        """
    (setup,) = setups(source)
    assert setup.get(MODEL) == "facebook/opt-6.7b"
    assert not setup.has(PRECISION)  # `...`: the option is required, its value unknown


def test_fire_entry_point_default_chooses_the_branch() -> None:
    source = """\
        import fire

        def main(model_name="facebook/opt-6.7b", quantize=False):
            if quantize:
                model = AutoModelForCausalLM.from_pretrained(model_name, load_in_8bit=True)
            else:
                model = AutoModelForCausalLM.from_pretrained(model_name, torch_dtype=torch.float16)
            return model

        if __name__ == "__main__":
            fire.Fire(main)
        """
    (setup,) = setups(source)
    assert setup.get(PRECISION) == "fp16"
    assert setup.get(DEFAULTS_CHOSEN) == ("--quantize",)


def test_finding_message_names_the_default_that_chose_the_setup() -> None:
    ran = run_cli(str(FIXTURES / "python" / "values" / "cli_quantize_default.py"), "--format", "json", "--exit-zero")
    (finding,) = json.loads(ran.output)["findings"]
    assert finding["code"] == "ECO101"
    assert "(with --quantize's default)" in finding["message"]


def test_dataclass_field_default() -> None:
    source = """\
        from dataclasses import dataclass

        @dataclass
        class InferenceConfig:
            model_id: str = "facebook/opt-6.7b"
            load_in_8bit: bool = True
            quantization: str = "none"

        cfg = InferenceConfig(quantization="8bit")
        model = AutoModelForCausalLM.from_pretrained(cfg.model_id, load_in_8bit=cfg.load_in_8bit)
        if cfg.quantization == "4bit":
            other = AutoModelForCausalLM.from_pretrained(cfg.model_id, load_in_4bit=True)
        """
    (setup,) = setups(source)
    assert (setup.get(MODEL), setup.get(PRECISION)) == ("facebook/opt-6.7b", "int8")


def test_dataclass_filled_positionally_is_not_read() -> None:
    source = """\
        from dataclasses import dataclass

        @dataclass
        class InferenceConfig:
            model_id: str = "facebook/opt-6.7b"
            load_in_8bit: bool = True

        cfg = InferenceConfig("facebook/opt-125m", False)
        model = AutoModelForCausalLM.from_pretrained(cfg.model_id, load_in_8bit=cfg.load_in_8bit)
        """
    (setup,) = setups(source)
    assert (setup.get(MODEL), setup.get(PRECISION)) == (None, None)


def test_namespace_attributes() -> None:
    source = """\
        from types import SimpleNamespace

        args = SimpleNamespace(model="facebook/opt-6.7b", load_in_8bit=True)
        model = AutoModelForCausalLM.from_pretrained(args.model, load_in_8bit=args.load_in_8bit)
        """
    (setup,) = setups(source)
    assert (setup.get(MODEL), setup.get(PRECISION)) == ("facebook/opt-6.7b", "int8")


def test_code_after_an_early_return_runs_when_the_test_fails() -> None:
    source = """\
        import fire

        def main(model_name="facebook/opt-6.7b", quantize=False):
            if quantize:
                return AutoModelForCausalLM.from_pretrained(model_name, load_in_8bit=True)
            return AutoModelForCausalLM.from_pretrained(model_name, torch_dtype=torch.float16)

        fire.Fire(main)
        """
    (setup,) = setups(source)
    assert setup.get(PRECISION) == "fp16"
    assert setup.get(DEFAULTS_CHOSEN) == ("--quantize",)


def test_method_building_the_config_for_the_quantization_a_call_site_names() -> None:
    source = """\
        from dataclasses import dataclass

        @dataclass
        class QuantizationSettings:
            quant_type: str = "nf4"

            def create_bnb_config(self, quantization):
                if quantization not in {"4bit", "8bit"}:
                    raise ValueError("4bit or 8bit")
                if quantization == "4bit":
                    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=self.quant_type)
                else:
                    return BitsAndBytesConfig(load_in_8bit=True)

        settings = QuantizationSettings()
        bnb_config = settings.create_bnb_config("8bit")
        model = AutoModelForCausalLM.from_pretrained("facebook/opt-6.7b", quantization_config=bnb_config)
        """
    assert precisions(source) == ["int8"]


def test_factory_function_returning_a_value() -> None:
    source = """\
        def get_dtype():
            if torch.cuda.is_bf16_supported():
                return torch.bfloat16
            return torch.bfloat16

        def default_model():
            return "facebook/opt-6.7b"

        model = AutoModelForCausalLM.from_pretrained(default_model(), torch_dtype=get_dtype())
        """
    (setup,) = setups(source)
    assert (setup.get(MODEL), setup.get(PRECISION)) == ("facebook/opt-6.7b", "bf16")


def test_factory_function_whose_paths_return_different_values_gives_none() -> None:
    source = """\
        def get_dtype():
            if torch.cuda.is_bf16_supported():
                return torch.bfloat16
            return torch.float16

        model = AutoModelForCausalLM.from_pretrained("m", torch_dtype=get_dtype())
        """
    assert precisions(source) == [None]


def test_a_name_reassigned_under_many_branches_is_read_once_per_assignment() -> None:
    # Each `x = x + "b"` may or may not run: read path by path, 60 of them are 2**60 paths.
    branches = "".join(f'if torch.cuda.device_count() > {i}:\n    x = x + "b"\n' for i in range(60))
    source = 'x = "a"\n' + branches + "model = AutoModelForCausalLM.from_pretrained(x)\n"
    assert setups(source)[0].get(MODEL) is None
