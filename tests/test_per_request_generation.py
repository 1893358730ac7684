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
