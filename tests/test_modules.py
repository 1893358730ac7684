"""Loaders across modules: the project pass's module index, and one setup per call site of a
loader helper that another module defines (ecolint/extract/python/modules.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli

from ecolint.extract import loader_spans
from ecolint.extract.python.modules import _helper_names, build_module_index
from ecolint.prefilter import python_may_hold_setup

LOADING = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "\n"
    "\n"
    "def load_model(name, quantize=False):\n"
    "    config = BitsAndBytesConfig(load_in_8bit=quantize)\n"
    "    model = AutoModelForCausalLM.from_pretrained(name, quantization_config=config)\n"
    "    return model\n"
)


def project(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(parents=True)  # the project root: imports start there
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def check(root: Path, *args: str, cwd: Path | None = None) -> dict:
    ran = run_cli(*(args or (".",)), "--isolated", "--format", "json", "--exit-zero", cwd=cwd or root)
    assert ran.exit_code == 0, ran.stderr
    return ran.json()


def found(document: dict) -> list[tuple[str, int, str]]:
    return sorted((f["path"], f["line"], f["code"]) for f in document["findings"])


def test_a_call_site_that_names_the_model_is_its_own_setup(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING,
            "app/cli.py": (
                "from core.loading import load_model\n"
                "\n"
                'model = load_model("meta-llama/Llama-2-7b-hf", quantize=True)\n'
                "for prompt in open('prompts.txt'):\n"
                "    print(model.generate(prompt))\n"
            ),
        },
    )
    document = check(root)
    assert found(document) == [("app/cli.py", 3, "ECO101"), ("app/cli.py", 5, "ECO105")]
    int8 = next(f for f in document["findings"] if f["code"] == "ECO101")
    assert int8["setup"]["model"] == "meta-llama/Llama-2-7b-hf"
    assert any("core/loading.py:5" in note for note in int8["notes"])


@pytest.mark.parametrize(
    ("where", "importing"),
    [
        ("core/serve.py", "from .loading import load_model"),  # relative
        ("app/cli.py", "from core import load_model"),  # re-exported by core/__init__.py
        ("app/cli.py", "from core.loading import load_model as load"),  # an alias
    ],
)
def test_imports_of_the_loader_in_every_spelling(tmp_path: Path, where: str, importing: str) -> None:
    call = "load" if importing.endswith(" load") else "load_model"
    root = project(
        tmp_path,
        {
            "core/__init__.py": "from .loading import load_model\n",
            "core/loading.py": LOADING,
            where: f'{importing}\n\nsmall = {call}("facebook/opt-125m", quantize=True)\n',
        },
    )
    assert found(check(root, ".", "--select", "ECO103")) == [(where, 3, "ECO103")]


def test_callers_that_disagree_are_separate_setups_never_one_unknown(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING,
            "app/a.py": 'from core.loading import load_model\n\nbig = load_model("Qwen/Qwen2-7B", quantize=True)\n',
            "app/b.py": 'from core.loading import load_model\n\nsmall = load_model("Qwen/Qwen2-0.5B", quantize=True)\n',
            "app/c.py": 'from core.loading import load_model\n\nplain = load_model("Qwen/Qwen2-0.5B")\n',
        },
    )
    ran = run_cli("explain", "app/b.py", "--format", "json", cwd=root)
    document = check(root, ".", "--select", "ECO101,ECO103")
    assert found(document) == [("app/a.py", 3, "ECO101"), ("app/b.py", 3, "ECO101"), ("app/b.py", 3, "ECO103")]
    # the helper's own setup, whose model nobody there names, is gone: no finding in core/
    assert not any(f["path"].startswith("core/") for f in document["findings"])
    # the fix of ECO101 would edit core/loading.py, shared by callers with different verdicts
    assert {f["fix"]["applicability"] for f in document["findings"] if f["code"] == "ECO101"} == {"manual"}
    assert ran.exit_code == 0


def test_one_fix_for_callers_of_the_same_file_that_agree_stays_automatic(tmp_path: Path) -> None:
    source = (
        LOADING + 'a = load_model("Qwen/Qwen2-7B", quantize=True)\nb = load_model("Qwen/Qwen2-7B", quantize=True)\n'
    )
    source += 'c = load_model("Qwen/Qwen2-0.5B", quantize=False)\n'  # no INT8 there: the fix would not touch it
    document = check(project(tmp_path, {"serve.py": source}), ".", "--select", "ECO101")
    assert found(document) == [("serve.py", 8, "ECO101"), ("serve.py", 9, "ECO101")]
    assert {f["fix"]["applicability"] for f in document["findings"]} == {"manual"}  # c's verdict differs
    # callers that all pass the same: one setup, at the helper, with its automatic fix
    agreeing = (
        LOADING + 'a = load_model("Qwen/Qwen2-7B", quantize=True)\nb = load_model("Qwen/Qwen2-7B", quantize=True)\n'
    )
    (tmp_path / "serve.py").write_text(agreeing)
    document = check(tmp_path, ".", "--select", "ECO101")
    assert found(document) == [("serve.py", 5, "ECO101")]
    assert {f["fix"]["applicability"] for f in document["findings"]} == {"automatic"}


def test_fix_never_edits_a_helper_of_another_module_from_a_callers_finding(tmp_path: Path) -> None:
    call = 'from core.loading import load_model\n\nm = load_model("Qwen/Qwen2-7B", quantize=True)\n'
    root = project(tmp_path, {"core/__init__.py": "", "core/loading.py": LOADING, "app/a.py": call, "app/b.py": call})
    document = check(root, ".", "--select", "ECO101")
    assert found(document) == [("app/a.py", 3, "ECO101"), ("app/b.py", 3, "ECO101")]
    assert {f["fix"]["applicability"] for f in document["findings"]} == {"manual"}
    ran = run_cli(".", "--isolated", "--select", "ECO101", "--fix", "--unsafe-fixes", "--exit-zero", cwd=root)
    assert ran.exit_code == 0, ran.stderr
    assert (root / "core/loading.py").read_text() == LOADING and (root / "app/a.py").read_text() == call


@pytest.mark.parametrize("line", ["call", "loader"])
def test_an_ignore_comment_on_either_line_silences_that_setup(tmp_path: Path, line: str) -> None:
    ignore = "  # ecolint: ignore[ECO101]"
    loading = LOADING.replace("quantization_config=config)", "quantization_config=config)" + ignore)
    call = 'big = load_model("Qwen/Qwen2-7B", quantize=True)'
    files = {
        "core/__init__.py": "",
        "core/loading.py": loading if line == "loader" else LOADING,
        "app/a.py": f"from core.loading import load_model\n\n{call}{ignore if line == 'call' else ''}\n",
        "app/b.py": f"from core.loading import load_model\n\n{call}\n",
    }
    document = check(project(tmp_path, files), ".", "--select", "ECO101")
    # on the loader line: every call site through it; on a call site: that call site only
    assert found(document) == ([] if line == "loader" else [("app/b.py", 3, "ECO101")])


def test_one_file_or_the_whole_tree_give_that_file_the_same_findings(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING,
            "app/cli.py": 'from core.loading import load_model\n\nm = load_model("Qwen/Qwen2-0.5B", quantize=True)\n',
        },
    )
    whole = [f for f in found(check(root)) if f[0] == "app/cli.py"]
    assert whole == found(check(root, "app/cli.py")) == [("app/cli.py", 3, "ECO101"), ("app/cli.py", 3, "ECO103")]


def test_a_quantization_config_imported_from_another_module(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/config.py": (
                "from transformers import BitsAndBytesConfig, TorchAoConfig\n"
                "BNB = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_use_double_quant=True)\n"
                'AO = TorchAoConfig("float8_dynamic_activation_float8_weight")\n'
            ),
            "svc/model.py": (
                "from transformers import AutoModelForCausalLM\n"
                "from .config import AO, BNB\n"
                'a = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B", quantization_config=BNB)\n'
                'b = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B", quantization_config=AO)\n'
            ),
        },
    )
    assert found(check(root, ".", "--select", "ECO104,ECO106")) == [
        ("svc/config.py", 2, "ECO106"),
        ("svc/config.py", 3, "ECO104"),
    ]


def test_a_helper_that_is_the_same_whoever_calls_it_keeps_its_own_setup(tmp_path: Path) -> None:
    loading = LOADING.replace("def load_model(name, quantize=False)", "def load_model(name=None, quantize=True)")
    loading = loading.replace("from_pretrained(name,", 'from_pretrained("Qwen/Qwen2-0.5B",')
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": loading,
            "app/a.py": "from core.loading import load_model\n\nm = load_model()\n",
        },
    )
    assert found(check(root, ".", "--select", "ECO103")) == [("core/loading.py", 5, "ECO103")]


def test_the_cache_sees_a_change_in_the_helpers_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOLINT_NO_CACHE", raising=False)
    caller = 'from core.loading import load_model\n\nm = load_model("Qwen/Qwen2-0.5B", quantize=True)\n'
    root = project(tmp_path, {"core/__init__.py": "", "app/a.py": caller, "core/loading.py": "X = 1\n"})
    assert found(check(root, ".", "--select", "ECO103")) == []  # no helper yet: app/a.py is no candidate
    (root / "core/loading.py").write_text(LOADING)
    assert found(check(root, ".", "--select", "ECO103")) == [("app/a.py", 3, "ECO103")]
    (root / "core/loading.py").write_text(LOADING.replace("load_in_8bit=quantize", "load_in_8bit=False"))
    assert found(check(root, ".", "--select", "ECO103")) == []


def test_worker_processes_give_what_one_process_gives(tmp_path: Path) -> None:
    files = {f"pad/m{i}.py": f"X = {i}\n" for i in range(80)}  # enough files for the process pool
    files.update(
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING,
            "app/a.py": 'from core.loading import load_model\n\nm = load_model("Qwen/Qwen2-0.5B", quantize=True)\n',
        }
    )
    root = project(tmp_path, files)
    pooled = found(check(root, ".", "--select", "ECO101,ECO103"))
    single = found(check(root, "app/a.py", "core/loading.py", "--select", "ECO101,ECO103"))
    assert pooled == single == [("app/a.py", 3, "ECO101"), ("app/a.py", 3, "ECO103")]


def test_the_project_pass_reads_bytes_and_finds_helpers_with_parameters() -> None:
    text = (
        b"def load(name):\n    return AutoModel.from_pretrained(name)\n\n"
        b"def nothing():\n    return AutoModel.from_pretrained('x')\n\n"
        b"def other(x):\n    return x\n"
    )
    assert _helper_names(text) == {"load"}


def test_classes_are_helpers_through_their_constructor_and_named_helpers_for_what_they_return() -> None:
    text = (
        b"class Engine:\n    def __init__(self, model_id):\n"
        b"        self.model = AutoModelForCausalLM.from_pretrained(model_id)\n\n"
        b"class TesterMixin:\n    def setUp(self):\n        pass\n\n"
        b"    def test_load(self, name):\n        return AutoModelForCausalLM.from_pretrained(name)\n\n"
        b"def get_processor(name):\n    return AutoProcessor.from_pretrained(name)\n\n"
        b"def load_model_and_tokenizer(name):\n    return AutoModelForCausalLM.from_pretrained(name)\n"
    )
    # a class whose methods load (a test mixin) makes no model when called; a helper named for a
    # processor returns one, not a model
    assert _helper_names(text) == {"Engine", "load_model_and_tokenizer"}


def test_wrappers_of_the_llava_builder_are_helpers_without_a_loader_name() -> None:
    """LLaVA's `load_pretrained_model`, kept by its forks, builds the model in another module:
    a class whose constructor calls it, or a function that does, loads through it."""
    text = (
        b"from .model.builder import load_pretrained_model\n\n"
        b"class Chat:\n    def __init__(self, path):\n"
        b"        self.tokenizer, self.model, _, _ = load_pretrained_model(path, None, 'x')\n\n"
        b"class Reloader:\n    def __init__(self, path):\n        self.path = path\n\n"
        b"    def reload(self):\n        return load_pretrained_model(self.path, None, 'x')\n\n"
        b"def model_init(path):\n    return load_pretrained_model(path, None, 'x')\n\n"
        b"def get_processor(path):\n    return load_pretrained_model(path, None, 'x')[2]\n"
    )
    assert _helper_names(text, python_may_hold_setup, loader_spans(text)) == {"Chat", "model_init"}


def test_the_module_index_names_modules_as_python_imports_them(tmp_path: Path) -> None:
    root = project(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/io.py": "", "tools/run.py": LOADING})
    index = build_module_index(root, sorted(root.rglob("*.py")), python_may_hold_setup)
    assert sorted(index.modules) == ["pkg", "pkg.io", "tools.run"]
    assert index.helpers == {"load_model": (os.fspath(root / "tools/run.py"),)}
    assert index.may_call_helper(b"from tools.run import load_model\nload_model('x')\n")
    assert not index.may_call_helper(b"load_models = 1\n")


def test_a_helper_module_counts_as_imported_only_where_an_import_binds_its_name(tmp_path: Path) -> None:
    """`L.load_model(…)` needs the module bound to a name: its name inside a longer one, or in
    the module a `from` imports from, binds nothing that calls it."""
    root = project(tmp_path, {"tools/run.py": LOADING, "tools/__init__.py": ""})
    index = build_module_index(root, sorted(root.rglob("*.py")), python_may_hold_setup)
    calls = b"\nrun.load_model('x')\n"
    assert index.may_call_helper(b"from tools import run" + calls)
    assert index.may_call_helper(b"import tools.run as run" + calls)
    assert index.may_call_helper(b"from tools import (io,\n    run)" + calls)
    assert not index.may_call_helper(b"from tools import runner\nrunner.load_model('x')\n")
    assert not index.may_call_helper(b"from tools.run.io import read\nread.load_model('x')\n")


def test_a_run_over_the_project_root_prefilters_each_python_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project pass scans every Python file of the project for helpers; its prefilter
    verdict on the same bytes is the per-file pass's, while the file is unchanged. A run on
    one file, which the pass does not walk as its own, prefilters it itself."""
    from ecolint import engine

    root = project(
        tmp_path,
        {
            "core/loading.py": LOADING,
            "app/cli.py": "from core.loading import load_model\n\nmodel = load_model('meta-llama/Llama-2-7b-hf', quantize=True)\n",
            "app/serve.py": "from core.loading import load_model\n\nmodel = load_model('meta-llama/Llama-2-13b-hf', True)\n",
            "app/notes.py": "# vllm, from_pretrained and LLM, in comments only\n",
        },
    )
    whole, alone = found(check(root, ".", "--select", "ALL")), found(check(root, "app/serve.py", "--select", "ALL"))
    scanned: list[bytes] = []
    real = engine.python_may_hold_setup

    def counted(data: bytes) -> bool:
        scanned.append(data)
        return real(data)

    monkeypatch.setattr(engine, "python_may_hold_setup", counted)
    assert found(check(root, ".", "--select", "ALL")) == whole and whole
    assert scanned == []
    assert found(check(root, "app/serve.py", "--select", "ALL")) == alone and alone
    assert len(scanned) == 1


def test_the_project_pass_verdict_holds_only_for_the_bytes_it_read(tmp_path: Path) -> None:
    root = project(tmp_path, {"tools/run.py": LOADING, "tools/empty.py": ""})
    verdicts: list = []
    from ecolint.extract.python.modules import helpers_in, module_index

    files = sorted(root.rglob("*.py"))
    index = module_index(root, files, helpers_in(files, python_may_hold_setup, None, verdicts), verdicts)
    status = os.stat(root / "tools/run.py")
    stamp = (status.st_mtime_ns, status.st_size)
    assert index.prefiltered(str(root / "tools/run.py"), stamp) is True
    assert index.prefiltered(str(root / "tools/empty.py"), (0, 0)) is None  # changed since
    assert index.prefiltered(str(root / "tools/run.py"), None) is None


def test_the_json_report_of_a_fixture_carries_the_helper_line_as_a_note() -> None:
    ran = run_cli("fixtures/python/crossmod", "--select", "ECO106", "--isolated", "--format", "json", "--exit-zero")
    (finding,) = json.loads(ran.output)["findings"]
    assert finding["path"] == "fixtures/python/crossmod/app/cli.py"
    assert any("fixtures/python/crossmod/core/config.py:6" in note for note in finding["notes"])


def test_a_helper_of_the_same_file_called_with_two_ids_makes_two_setups(tmp_path: Path) -> None:
    source = LOADING.replace("load_in_8bit=quantize", "load_in_8bit=True") + (
        '\nbig = load_model("Qwen/Qwen2-7B")\nsmall = load_model("Qwen/Qwen2-0.5B")\n'
        "for prompt in open('prompts.txt'):\n    small.generate(prompt)\n"
    )
    document = check(project(tmp_path, {"serve.py": source}), ".", "--select", "ECO101,ECO103,ECO105")
    assert found(document) == [
        ("serve.py", 9, "ECO101"),
        ("serve.py", 10, "ECO101"),
        ("serve.py", 10, "ECO103"),
        ("serve.py", 12, "ECO105"),  # the loop runs the small model: its setup, not the big one's
    ]
    assert {f["setup"]["model"] for f in document["findings"] if f["code"] == "ECO105"} == {"Qwen/Qwen2-0.5B"}


def test_callers_that_differ_only_in_what_never_reaches_the_loader_keep_one_setup(tmp_path: Path) -> None:
    source = (
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
        "def load(seed):\n"
        '    return AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-0.5B", load_in_8bit=True)\n'
        "a = load(1)\n"
        "b = load(2)\n"
    )
    assert found(check(project(tmp_path, {"t.py": source}), ".", "--select", "ECO103")) == [("t.py", 3, "ECO103")]


def test_a_run_on_the_helpers_module_alone_agrees_with_the_whole_tree(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING.replace("load_in_8bit=quantize", "load_in_8bit=True"),
            "app/cli.py": 'from core.loading import load_model\n\nm = load_model("Qwen/Qwen2-0.5B")\n',
        },
    )
    whole = found(check(root, ".", "--select", "ECO101,ECO103"))
    assert whole == [("app/cli.py", 3, "ECO101"), ("app/cli.py", 3, "ECO103")]
    # core/loading.py has no finding of its own either way: its callers name the model
    assert found(check(root, "core/loading.py", "--select", "ECO101,ECO103")) == []
    (root / "app/cli.py").unlink()  # no caller left: the helper's setup is its own again
    assert found(check(root, "core/loading.py", "--select", "ECO101")) == [("core/loading.py", 5, "ECO101")]


def test_keyword_arguments_imported_from_another_module(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/settings.py": (
                "import torch\n"
                "from transformers import BitsAndBytesConfig\n"
                'LOAD_KWARGS = {"load_in_8bit": True, "device_map": "auto"}\n'
                'NF4_KWARGS = dict(quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",'
                " bnb_4bit_use_double_quant=True), torch_dtype=torch.bfloat16)\n"
            ),
            "svc/model.py": (
                "from transformers import AutoModelForCausalLM\n"
                "from .settings import LOAD_KWARGS, NF4_KWARGS\n"
                'small = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-0.5B", **LOAD_KWARGS)\n'
                'big = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-7B", **NF4_KWARGS)\n'
            ),
        },
    )
    document = check(root, ".", "--select", "ECO101,ECO103,ECO106")
    assert found(document) == [
        ("svc/model.py", 3, "ECO101"),  # where the legacy keyword is unpacked
        ("svc/model.py", 3, "ECO103"),
        ("svc/settings.py", 4, "ECO106"),  # where the config writes it
    ]
    nf4 = next(f for f in document["findings"] if f["code"] == "ECO106")
    assert nf4["setup"]["model"] == "Qwen/Qwen2-7B"


def test_a_helper_that_runs_the_model_itself_serves_every_call_site(tmp_path: Path) -> None:
    source = (
        "from transformers import AutoModelForCausalLM\n"
        "def run(name):\n"
        "    model = AutoModelForCausalLM.from_pretrained(name, load_in_8bit=True)\n"
        '    print(model.generate("hello"))\n'
        'run("Qwen/Qwen2-7B")\n'
        'run("Qwen/Qwen2-1.5B")\n'
    )
    document = check(project(tmp_path, {"t.py": source}), ".", "--select", "ECO101")
    # the call sites drop what run() returns, but run() generates: neither setup is load-only
    assert found(document) == [("t.py", 5, "ECO101"), ("t.py", 6, "ECO101")]


@pytest.mark.parametrize(
    "spelling",
    [
        "from core.loading import (\n    OTHER,\n    load_model,\n)\n",
        "from core.loading import OTHER, \\\n    load_model\n",
        "from core.loading import OTHER, \\\r\n    load_model\r\n",
    ],
    ids=["parenthesised-list", "backslash-continuation", "backslash-crlf"],
)
def test_a_helper_imported_over_several_lines_is_followed(tmp_path: Path, spelling: str) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING + "OTHER = 1\n",
            "app/cli.py": spelling + 'model = load_model("meta-llama/Llama-2-7b-hf", quantize=True)\n',
        },
    )
    assert ("app/cli.py", 2 + spelling.count("\n") - 1, "ECO101") in found(check(root))


ENGINE = (
    "import os\n"
    "\n"
    "from fastapi import FastAPI\n"
    "\n"
    "from core.loading import load_model\n"
    "\n"
    "\n"
    "class Engine:\n"
    "    def __init__(self, path):\n"
    "        self.model = load_model(path)\n"
    "\n"
    "    def answer(self, ids):\n"
    "        return self.model.generate(ids)\n"
    "\n"
    "\n"
    "app = FastAPI()\n"
    'engine = Engine(os.environ["MODEL_PATH"])\n'
    "\n"
    "\n"
    '@app.post("/generate")\n'
    "def generate(ids: list[int]):\n"
    "    return engine.answer([ids])\n"
)


def test_a_model_nobody_names_run_per_request_by_the_caller_is_reported_there(tmp_path: Path) -> None:
    """The model id comes from the environment, so the call site says nothing the helper's own
    setup does not; but the caller runs generate() once per request on what load_model returns."""
    root = project(tmp_path, {"core/__init__.py": "", "core/loading.py": LOADING, "app/serve.py": ENGINE})
    document = check(root, ".", "--select", "ECO105")
    assert found(document) == [("app/serve.py", 13, "ECO105")]
    [finding] = document["findings"]
    assert "once per web request" in finding["message"]


def test_a_caller_that_batches_leaves_the_helpers_setup_alone(tmp_path: Path) -> None:
    batched = ENGINE.replace("return engine.answer([ids])", "return engine.answer(ids)").replace(
        '@app.post("/generate")\n', ""
    )
    root = project(tmp_path, {"core/__init__.py": "", "core/loading.py": LOADING, "app/serve.py": batched})
    assert found(check(root, ".", "--select", "ECO105")) == []
    ran = run_cli("explain", "core/loading.py", cwd=root)
    assert "core/loading.py:6: transformers" in ran.output  # still the helper's own setup


@pytest.mark.parametrize(
    ("importing", "call"),
    [
        ("import core.loading as L", "L.load_model"),
        ("from core import loading", "loading.load_model"),
        ("import core.loading", "core.loading.load_model"),
    ],
)
def test_a_loader_called_through_its_module_is_followed_like_a_direct_import(
    tmp_path: Path, importing: str, call: str
) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/loading.py": LOADING,
            "app/cli.py": f'{importing}\n\nsmall = {call}("facebook/opt-125m", quantize=True)\n',
        },
    )
    assert found(check(root, ".", "--select", "ECO101,ECO103")) == [
        ("app/cli.py", 3, "ECO101"),
        ("app/cli.py", 3, "ECO103"),
    ]
    # a run on the loader's module alone finds that caller too: the helper's own setup is not reported
    assert found(check(root, "core/loading.py", "--select", "ECO101,ECO103")) == []


def test_a_relative_module_import_of_the_loader(tmp_path: Path) -> None:
    call = 'from . import loading\n\nsmall = loading.load_model("facebook/opt-125m", quantize=True)\n'
    root = project(tmp_path, {"core/__init__.py": "", "core/loading.py": LOADING, "core/serve.py": call})
    assert found(check(root, ".", "--select", "ECO103")) == [("core/serve.py", 3, "ECO103")]


TUPLE_LOADER = (
    "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
    "\n"
    "\n"
    "def load_pretrained(path, load_8bit=False):\n"
    "    tokenizer = AutoTokenizer.from_pretrained(path)\n"
    "    model = AutoModelForCausalLM.from_pretrained(path, load_in_8bit=load_8bit)\n"
    "    return tokenizer, model, 2048\n"
)
PER_QUESTION = (
    "import sys\n"
    "\n"
    "from core.builder import load_pretrained\n"
    "\n"
    "tokenizer, model, context_len = load_pretrained(sys.argv[1]{flag})\n"
    "for line in open(sys.argv[2]):\n"
    "    ids = tokenizer(line, return_tensors='pt').input_ids\n"
    "    print(tokenizer.decode(model.generate(ids)[0]))\n"
)


@pytest.mark.parametrize("flag", ["", ", True"])
def test_the_model_a_helper_returns_in_a_tuple_is_run_per_prompt_by_the_caller(tmp_path: Path, flag: str) -> None:
    """`tokenizer, model, n = load_pretrained(path)`: generate() on the unpacked model, once per
    line of a file, is reported at the caller, whether or not the call site says anything the
    helper does not (a literal load_8bit=True adds its ECO101 at the same call site)."""
    files = {"core/__init__.py": "", "core/builder.py": TUPLE_LOADER, "app/eval.py": PER_QUESTION.format(flag=flag)}
    root = project(tmp_path, files)
    got = found(check(root, ".", "--select", "ECO101,ECO105"))
    assert ("app/eval.py", 8, "ECO105") in got
    assert (("app/eval.py", 5, "ECO101") in got) == bool(flag)


def test_the_other_elements_of_a_returned_tuple_are_not_the_model(tmp_path: Path) -> None:
    """The tokenizer unpacked beside the model is not it: its calls in a loop are no generation."""
    per_line = PER_QUESTION.format(flag="").replace("model.generate(ids)", "tokenizer.generate(ids)")
    root = project(tmp_path, {"core/__init__.py": "", "core/builder.py": TUPLE_LOADER, "app/eval.py": per_line})
    assert found(check(root, ".", "--select", "ECO105")) == []


GENERATE_HELPER = (
    "def model_gen(model, text, max_new_tokens=32):\n"
    "    ids = model.tokenizer(text, return_tensors='pt').input_ids\n"
    "    return model.generate(ids, max_new_tokens=max_new_tokens)\n"
)
EVAL_LOOP = (
    "import sys\n"
    "\n"
    "from transformers import AutoModelForCausalLM\n"
    "{imports}\n"
    "\n"
    "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2-7B-Instruct')\n"
    "for line in open(sys.argv[1]):\n"
    "    print({call}(model, line))\n"
)


@pytest.mark.parametrize(
    ("imports", "call"),
    [("from utils import model_gen", "model_gen"), ("import utils", "utils.model_gen")],
)
def test_a_generate_helper_of_another_module_called_per_prompt_is_reported(
    tmp_path: Path, imports: str, call: str
) -> None:
    """The loop and the model are here, generate() is in the helper the loop calls."""
    evaluation = EVAL_LOOP.format(imports=imports, call=call)
    root = project(tmp_path, {"utils.py": GENERATE_HELPER, "eval.py": evaluation})
    document = check(root, ".", "--select", "ECO105")
    assert found(document) == [("eval.py", 8, "ECO105")]
    assert "generate() called once per prompt in a loop" in document["findings"][0]["message"]


def test_a_generate_helper_given_no_prompt_from_the_loop_is_not_per_prompt(tmp_path: Path) -> None:
    """A loop over generation lengths sends the same prompt each time: a sweep, not a workload."""
    evaluation = EVAL_LOOP.format(imports="from utils import model_gen", call="model_gen").replace(
        "for line in open(sys.argv[1]):\n    print(model_gen(model, line))",
        "for n in [int(a) for a in sys.argv[2:]]:\n    print(model_gen(model, 'Hello', max_new_tokens=n))",
    )
    root = project(tmp_path, {"utils.py": GENERATE_HELPER, "eval.py": evaluation})
    assert found(check(root, ".", "--select", "ECO105")) == []


BRANCHED_LOADER = (
    "import os\n"
    "\n"
    "from transformers import AutoModelForCausalLM, LlavaForConditionalGeneration\n"
    "\n"
    "\n"
    "def load_pretrained_model(model_path, model_base, load_8bit=False):\n"
    "    kwargs = {'device_map': 'auto'}\n"
    "    if load_8bit:\n"
    "        kwargs['load_in_8bit'] = True\n"
    "    if os.path.isdir(os.path.join(model_path, 'vision_tower')):\n"
    "        model = LlavaForConditionalGeneration.from_pretrained(model_path, **kwargs)\n"
    "    elif model_base is not None:\n"
    "        model = AutoModelForCausalLM.from_pretrained(model_base, **kwargs)\n"
    "    else:\n"
    "        model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)\n"
    "    return model\n"
)


def test_one_call_into_a_helper_with_two_loading_branches_gives_one_finding_per_verdict(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "builder.py": BRANCHED_LOADER,
            "same.py": "from builder import load_pretrained_model\n\nmodel = load_pretrained_model('org/vlm-7b', None, True)\n",
            "apart.py": (
                "from builder import load_pretrained_model\n"
                "\n"
                "model = load_pretrained_model('org/vlm-13b', 'org/vlm-1b', True)\n"
            ),
        },
    )
    findings = [f for f in check(root)["findings"] if f["code"] == "ECO101"]
    # both branches load org/vlm-7b in INT8: one finding, not two with fingerprints `…` and `…:1`
    assert [f["line"] for f in findings if f["path"] == "same.py"] == [3]
    # the branches load different checkpoints: each its own finding
    at_apart = [f for f in findings if f["path"] == "apart.py"]
    assert [f["line"] for f in at_apart] == [3, 3] and at_apart[0]["message"] != at_apart[1]["message"]
