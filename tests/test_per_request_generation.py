"""Generation once per prompt or per request, as a user reads it in a finding: the call that
generates named as written (`chat()`, `stream_chat()`, a pipeline's name), what runs it once per
request named (a web request, a Celery task, a Gradio event, a prompt LangChain hands over), and
reached the way real projects reach it (issue 12, "call chains")."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli


def project(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)  # the project root: imports start there
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def eco105(root: Path, *paths: str) -> list[tuple[str, int, str]]:
    """(path, line, message) of every ECO105 finding, as the JSON report gives them."""
    ran = run_cli(*(paths or (".",)), "--isolated", "--select", "ECO105", "--format", "json", "--exit-zero", cwd=root)
    assert ran.exit_code == 0, ran.stderr
    return sorted((f["path"], f["line"], f["message"]) for f in ran.json()["findings"])


def lines(root: Path, *paths: str) -> list[tuple[str, int]]:
    return [(path, line) for path, line, _ in eco105(root, *paths)]


REMOTE_CODE_CHAT = (
    "from transformers import AutoModel, AutoTokenizer\n"
    "\n"
    'tokenizer = AutoTokenizer.from_pretrained("THUDM/chatglm3-6b", trust_remote_code=True)\n'
    'model = AutoModel.from_pretrained("THUDM/chatglm3-6b", trust_remote_code=True).half().cuda()\n'
)


def test_the_finding_names_the_chat_call_not_generate(tmp_path: Path) -> None:
    source = REMOTE_CODE_CHAT + (
        "for question in open('questions.txt'):\n    response, _ = model.chat(tokenizer, question, history=[])\n"
    )
    found = eco105(project(tmp_path, {"eval.py": source}))
    assert [(line, message.split(":")[1].strip()) for _, line, message in found] == [
        (6, "chat() called once per prompt in a loop")
    ]


def test_the_finding_names_stream_chat_and_the_gradio_event(tmp_path: Path) -> None:
    source = REMOTE_CODE_CHAT + (
        "import gradio as gr\n"
        "\n"
        "\n"
        "def predict(query, history):\n"
        "    for response, history in model.stream_chat(tokenizer, query, history=history):\n"
        "        yield response\n"
        "\n"
        "\n"
        "gr.ChatInterface(predict).launch()\n"
    )
    [(_, line, message)] = eco105(project(tmp_path, {"web_demo.py": source}))
    assert line == 9
    assert "stream_chat() called once per Gradio event, with no batching in between" in message
    assert "generate()" not in message and "web request" not in message


def test_the_finding_names_the_celery_task(tmp_path: Path) -> None:
    source = (
        "from celery import shared_task\n"
        "from transformers import AutoModelForCausalLM\n"
        "\n"
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct")\n'
        "\n"
        "\n"
        "@shared_task\n"
        "def complete(ids):\n"
        "    return model.generate(ids, max_new_tokens=64)\n"
    )
    [(_, line, message)] = eco105(project(tmp_path, {"tasks.py": source}))
    assert (line, "generate() called once per Celery task, with no batching in between" in message) == (9, True)


def test_the_finding_names_the_pipeline_by_its_name(tmp_path: Path) -> None:
    source = (
        "from transformers import pipeline\n"
        "\n"
        'writer = pipeline("text-generation", model="Qwen/Qwen2.5-1.5B-Instruct")\n'
        "for topic in open('topics.txt'):\n"
        "    print(writer(topic))\n"
    )
    [(_, line, message)] = eco105(project(tmp_path, {"stories.py": source}))
    assert line == 5
    assert "the pipeline writer() called once per prompt in a loop" in message


# -- model wrappers a framework calls once per prompt (LangChain, LlamaIndex) --------------------

LANGCHAIN_LLM = (
    "from typing import Any, List, Optional\n"
    "\n"
    "from langchain.llms.base import LLM\n"
    "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
    "\n"
    "\n"
    "class LocalLLM(LLM):\n"
    "    tokenizer: Any = None\n"
    "    model: Any = None\n"
    "\n"
    '    def __init__(self, path: str = "Qwen/Qwen2.5-7B-Instruct"):\n'
    "        super().__init__()\n"
    "{backend}"
    "        self.tokenizer = AutoTokenizer.from_pretrained(path)\n"
    "        self.model = AutoModelForCausalLM.from_pretrained(path).eval()\n"
    "\n"
    "    @property\n"
    "    def _llm_type(self) -> str:\n"
    '        return "local"\n'
    "\n"
    "    def _call(self, prompt: str, stop: Optional[List[str]] = None, **kwargs: Any) -> str:\n"
    '        ids = self.tokenizer(prompt, return_tensors="pt").input_ids\n'
    "        return self.tokenizer.decode(self.model.generate(ids)[0])\n"
)
BATCH_OF_QUESTIONS = (
    'from llm import LocalLLM\n\nllm = LocalLLM()\nprint(llm.batch(["What is NF4?", "Why batch requests?"]))\n'
)


def test_a_langchain_llm_generates_once_per_prompt_even_when_the_app_batches(tmp_path: Path) -> None:
    root = project(tmp_path, {"llm.py": LANGCHAIN_LLM.format(backend=""), "app.py": BATCH_OF_QUESTIONS})
    [(path, line, message)] = eco105(root)
    assert (path, line) == ("llm.py", 22)  # the generate() inside _call, not the batch() call
    assert "generate() called once per prompt LangChain passes to _call(), with no batching in between" in message
    assert eco105(root, "app.py") == []  # the app's own file holds no generation


def test_a_vllm_import_inside_a_method_does_not_hide_the_langchain_base(tmp_path: Path) -> None:
    """MiniCPM's demo style: `from vllm import LLM` in a branch of __init__ shadows the name the
    class statement read from LangChain."""
    backend = (
        "        if path.endswith('-vllm'):\n            from vllm import LLM\n\n            return LLM(model=path)\n"
    )
    root = project(tmp_path, {"llm.py": LANGCHAIN_LLM.format(backend=backend)})
    assert lines(root) == [("llm.py", 26)]


def test_a_class_deriving_from_vllms_llm_is_no_langchain_wrapper(tmp_path: Path) -> None:
    source = LANGCHAIN_LLM.format(backend="").replace("from langchain.llms.base import LLM", "from vllm import LLM")
    assert eco105(project(tmp_path, {"llm.py": source})) == []


def test_a_local_base_class_between_the_wrapper_and_langchain(tmp_path: Path) -> None:
    source = LANGCHAIN_LLM.format(backend="").replace(
        "class LocalLLM(LLM):", "class Base(LLM):\n    pass\n\n\nclass LocalLLM(Base):"
    )
    assert lines(project(tmp_path, {"llm.py": source})) == [("llm.py", 26)]


# -- a model bound in branches under `if __name__ == "__main__":`, used through `global` ------------

BRANCHED_SERVER = (
    "import argparse\n"
    "\n"
    "from fastapi import FastAPI\n"
    "from transformers import AutoModelForCausalLM\n"
    "\n"
    'MODEL_PATH = "Qwen/Qwen2.5-1.5B-Instruct"\n'
    "app = FastAPI()\n"
    "\n"
    "\n"
    "def generate_stream(model, ids):\n"
    "    yield model.generate(ids, max_new_tokens=64)\n"
    "\n"
    "\n"
    '@app.post("/v1/completions")\n'
    "def complete(ids: list[int]):\n"
    "    global model\n"
    "    return list(generate_stream(model, [ids]))\n"
    "\n"
    "\n"
    'if __name__ == "__main__":\n'
    "    parser = argparse.ArgumentParser()\n"
    '    parser.add_argument("--quant", type=int, choices=[4, 8], default={default})\n'
    "    args = parser.parse_args()\n"
    "    if args.quant == 4:\n"
    "        model = AutoModelForCausalLM.from_pretrained(MODEL_PATH, load_in_4bit=True).eval()\n"
    "    elif args.quant == 8:\n"
    "        model = AutoModelForCausalLM.from_pretrained(MODEL_PATH, load_in_8bit=True).eval()\n"
    "    else:\n"
    '        model = AutoModelForCausalLM.from_pretrained(MODEL_PATH, torch_dtype="auto").to("cuda").eval()\n'
)


def findings(root: Path, select: str) -> list[tuple[int, str, str]]:
    ran = run_cli(".", "--isolated", "--select", select, "--format", "json", "--exit-zero", cwd=root)
    return sorted((f["line"], f["code"], f["message"]) for f in ran.json()["findings"])


def test_generation_per_request_on_a_global_model_bound_in_branches(tmp_path: Path) -> None:
    """CogVLM's server: the route declares `global model`, which only the `__main__` block binds,
    below the route; the branch the --quant default takes gives the setup."""
    root = project(tmp_path, {"server.py": BRANCHED_SERVER.format(default=0)})
    [(line, code, message)] = findings(root, "ECO101,ECO102,ECO103,ECO105")
    assert (line, code) == (11, "ECO105")
    assert "once per web request" in message and "(with --quant's default)" in message


def test_the_default_branch_decides_the_precision_findings_not_the_usage(tmp_path: Path) -> None:
    root = project(tmp_path, {"server.py": BRANCHED_SERVER.format(default=4)})
    assert [(line, code) for line, code, _ in findings(root, "ECO101,ECO102,ECO103,ECO105")] == [
        (11, "ECO105"),
        (25, "ECO102"),
    ]


# -- one finding where a helper generates, for every call site that reaches it -----------------

SERVE_HELPER = (
    "from transformers import AutoModelForCausalLM\n"
    "\n"
    "\n"
    "def load_and_answer(name, questions):\n"
    "    model = AutoModelForCausalLM.from_pretrained(name)\n"
    "    for question in questions:\n"
    "        print(model.generate(question))\n"
)


def report(root: Path) -> list[dict]:
    ran = run_cli(".", "--isolated", "--select", "ECO105", "--format", "json", "--exit-zero", cwd=root)
    return ran.json()["findings"]


def test_a_helper_generating_for_several_call_sites_is_one_finding_where_it_generates(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/answers.py": SERVE_HELPER,
            "app/a.py": 'from core.answers import load_and_answer\n\nload_and_answer("Qwen/Qwen2-7B", open("a"))\n',
            "app/b.py": 'from core.answers import load_and_answer\n\nload_and_answer("Qwen/Qwen2-1.5B", open("b"))\n',
        },
    )
    [finding] = report(root)
    assert (finding["path"], finding["line"]) == ("core/answers.py", 7)
    assert "the model is loaded at app/a.py:3" in finding["notes"]
    assert "the model is loaded at app/b.py:3" in finding["notes"]


def test_an_ignore_on_one_call_site_leaves_the_others_finding(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/answers.py": SERVE_HELPER,
            "app/a.py": (
                "from core.answers import load_and_answer\n\n"
                'load_and_answer("Qwen/Qwen2-7B", open("a"))  # ecolint: ignore[ECO105]\n'
            ),
            "app/b.py": 'from core.answers import load_and_answer\n\nload_and_answer("Qwen/Qwen2-1.5B", open("b"))\n',
        },
    )
    [finding] = report(root)
    assert (finding["path"], finding["line"]) == ("core/answers.py", 7)
    assert finding["notes"][-1] == "the model is loaded at app/b.py:3"


def test_call_sites_of_a_helper_in_the_same_module_share_one_finding(tmp_path: Path) -> None:
    source = (
        SERVE_HELPER
        + '\n\nload_and_answer("Qwen/Qwen2-7B", open("a"))\nload_and_answer("Qwen/Qwen2-1.5B", open("b"))\n'
    )
    [finding] = report(project(tmp_path, {"answers.py": source}))
    assert finding["line"] == 7
    assert [n for n in finding["notes"] if n.startswith("the model is loaded at")] == [
        "the model is loaded at answers.py:10",
        "the model is loaded at answers.py:11",
    ]


def test_a_handler_calling_a_classmethod_that_runs_the_class_held_model(tmp_path: Path) -> None:
    """`Engine.answer(...)` on a class whose classmethods keep the model in `cls.model`."""
    source = (
        "from flask import Flask, request\n"
        "from transformers import AutoModelForCausalLM\n"
        "\n"
        "app = Flask(__name__)\n"
        "\n"
        "\n"
        "class Engine:\n"
        "    model = None\n"
        "\n"
        "    @classmethod\n"
        "    def load(cls, path):\n"
        "        cls.model = AutoModelForCausalLM.from_pretrained(path)\n"
        "\n"
        "    @classmethod\n"
        "    def answer(cls, ids):\n"
        "        return cls.model.generate(ids)\n"
        "\n"
        "\n"
        '@app.route("/generate", methods=["POST"])\n'
        "def generate():\n"
        '    return Engine.answer(request.json["ids"])\n'
        "\n"
        "\n"
        'if __name__ == "__main__":\n'
        '    Engine.load("Qwen/Qwen2.5-7B-Instruct")\n'
        "    app.run()\n"
    )
    [(_, line, message)] = eco105(project(tmp_path, {"server.py": source}))
    assert line == 16 and "once per web request" in message


# -- the command-line defaults a finding names ------------------------------------------------

DEMO_OPTIONS = (
    "import argparse\n"
    "\n"
    "import torch\n"
    "from fastapi import FastAPI\n"
    "from transformers import AutoModelForCausalLM\n"
    "\n"
    "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--cpu-only", action="store_true")\n'
    'parser.add_argument("--flash-attn2", action="store_true")\n'
    'parser.add_argument("--fp32", action="store_true")\n'
    "args = parser.parse_args()\n"
    'device_map = "cpu" if args.cpu_only else "auto"\n'
    "dtype = torch.float32 if args.fp32 else torch.float16\n"
    "if args.flash_attn2:\n"
    '    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", torch_dtype={dtype},\n'
    '                                                 attn_implementation="flash_attention_2", device_map=device_map)\n'
    "else:\n"
    '    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", torch_dtype={dtype},\n'
    "                                                 device_map=device_map)\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    '@app.post("/chat")\n'
    "def chat(ids: list[int]):\n"
    "    return model.generate(torch.tensor([ids]), max_new_tokens=64)\n"
)


def test_a_finding_names_only_the_defaults_that_decided_what_it_rests_on(tmp_path: Path) -> None:
    """--cpu-only chooses where the model runs and --flash-attn2 its attention kernel: neither
    changes the model, its precision or its batching, so the batching finding names neither;
    --fp32 chooses the precision, which the finding's setup states."""
    root = project(tmp_path, {"fixed.py": DEMO_OPTIONS.format(dtype="torch.bfloat16")})
    [(_, line, message)] = eco105(root)
    assert line == 25 and "'s default" not in message
    project(tmp_path, {"fixed.py": DEMO_OPTIONS.format(dtype="dtype")})
    [(_, line, message)] = eco105(root)
    assert line == 25 and "(with --fp32's default)" in message


OPT_IN_BACKEND = (
    "import argparse\n"
    "\n"
    "from fastapi import FastAPI\n"
    "from transformers import AutoModel\n"
    "\n"
    "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--fast-backend", action="store_true")\n'
    'parser.add_argument("--beams", type=int, default=1)\n'
    "args = parser.parse_args()\n"
    'model = AutoModel.from_pretrained("THUDM/chatglm3-6b", trust_remote_code=True).half().cuda()\n'
    "app = FastAPI()\n"
    "\n"
    "\n"
    '@app.post("/complete")\n'
    "def complete(prompt: str):\n"
    "    if args.fast_backend:\n"
    "        return model.chat(None, prompt)\n"
    "    if args.beams > 1:\n"
    "        return model.generate(prompt, num_beams=args.beams)\n"
    "    return model.generate(prompt)\n"
)


def test_the_finding_is_at_the_generation_the_defaults_take_and_names_what_chose_it(tmp_path: Path) -> None:
    """--fast-backend is off by default: a plain run generates with generate(), the finding is
    there and says so; --beams only picks another generate() that runs per request just the same."""
    root = project(tmp_path, {"server.py": OPT_IN_BACKEND})
    [(_, line, message)] = eco105(root)
    assert line == 20
    assert "generate() called once per web request" in message and "(with --fast-backend's default)" in message


OPT_IN_LOOP = (
    "import argparse\n"
    "\n"
    "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
    "\n"
    "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--model_path", default="FreedomIntelligence/HuatuoGPT2-7B")\n'
    'parser.add_argument("--no_batching", action="store_true")\n'
    "args = parser.parse_args()\n"
    "tokenizer = AutoTokenizer.from_pretrained(args.model_path, padding_side='left')\n"
    'model = AutoModelForCausalLM.from_pretrained(args.model_path, torch_dtype="auto")\n'
    "questions = open('questions.txt').read().splitlines()\n"
    "if args.no_batching:\n"
    "    for question in questions:\n"
    "        model.generate(**tokenizer(question, return_tensors='pt'))\n"
    'elif "chatglm" in args.model_path:\n'
    "    for question in questions:\n"
    "        model.chat(tokenizer, question, history=None)\n"
    "else:\n"
    "    model.generate(**tokenizer(questions, return_tensors='pt', padding=True))\n"
)


def test_a_loop_in_a_branch_the_defaults_never_take_is_no_finding(tmp_path: Path) -> None:
    """An opt-in `--no_batching` loop and a model family's path the default model skips: a
    plain run makes the one batched call of the else branch."""
    assert lines(project(tmp_path, {"eval.py": OPT_IN_LOOP})) == []


def test_a_command_that_takes_the_opt_in_branch_gives_its_finding(tmp_path: Path) -> None:
    root = project(tmp_path, {"eval.py": OPT_IN_LOOP, "run_unbatched.sh": "python eval.py --no_batching\n"})
    ran = run_cli(".", "--isolated", "--select", "ECO105", "--format", "json", cwd=root)
    [finding] = ran.json()["findings"]
    assert (finding["path"], finding["line"]) == ("eval.py", 14)
    assert finding["setup"]["label"] == "invoked by run_unbatched.sh:1"


BACKEND_SCRIPT = (
    "import argparse\n"
    "\n"
    "import transformers\n"
    "import vllm\n"
    "\n"
    "\n"
    "def generate_one(obj, model, tokenizer):\n"
    "    return model.generate(**tokenizer(obj, return_tensors='pt'), max_new_tokens=512)\n"
    "\n"
    "\n"
    "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--model", default="Qwen/Qwen2.5-Coder-7B-Instruct")\n'
    'parser.add_argument("--use_vllm", action="store_true")\n'
    "args = parser.parse_args()\n"
    "tokenizer = transformers.AutoTokenizer.from_pretrained(args.model)\n"
    "data = open('problems.txt').read().splitlines()\n"
    "if args.use_vllm:\n"
    "    model = vllm.LLM(model=args.model)\n"
    "else:\n"
    '    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, torch_dtype="auto")\n'
    "if args.use_vllm:\n"
    "    outputs = model.generate(data, vllm.SamplingParams())\n"
    "else:\n"
    "    for obj in data:\n"
    "        generate_one(obj, model, tokenizer)\n"
)


def test_a_helper_called_only_in_the_branch_a_command_skips_runs_nothing(tmp_path: Path) -> None:
    """The plain run's per-item loop of the transformers backend is reported; the repository's
    only command passes --use_vllm, which takes the single batched vLLM call instead: neither
    that command's setup nor the overridden default gives a finding."""
    assert lines(project(tmp_path / "plain", {"evaluate.py": BACKEND_SCRIPT})) == [("evaluate.py", 8)]
    launched = {"evaluate.py": BACKEND_SCRIPT, "run.sh": "python evaluate.py --use_vllm\n"}
    assert lines(project(tmp_path / "launched", launched)) == []


def test_a_slice_of_a_few_written_prompts_is_still_a_sample(tmp_path: Path) -> None:
    source = REMOTE_CODE_CHAT + (
        'PROMPTS = ["Hi", "2+2?", "Name a colour.", "Translate cat.", "Spell NF4."]\n'
        "\n"
        "\n"
        "def bench(prompts):\n"
        "    for prompt in prompts:\n"
        "        model.chat(tokenizer, prompt, history=[])\n"
        "\n"
        "\n"
        "bench(PROMPTS[:2])\n"
    )
    assert lines(project(tmp_path, {"bench.py": source})) == []
