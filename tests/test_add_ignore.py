"""--add-ignore (ruff's --add-noqa): an ignore comment for every current finding, in the place
each file kind allows, so that the next run is clean."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, run_cli

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"


def test_the_demo_tree_is_clean_after_add_ignore_and_a_second_pass_adds_nothing(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples" / "demo", tmp_path / "demo")
    before = run_cli("demo", "--format", "json", cwd=tmp_path).json()["findings"]
    ran = run_cli("demo", "--add-ignore", cwd=tmp_path)
    assert ran.exit_code == 0 and ran.stderr == "Added 7 ignore comments to 6 files.\n"
    assert len(before) == 9  # two lines carry two codes each
    after = run_cli("demo", cwd=tmp_path)
    assert after.exit_code == 0 and "No findings; 9 files checked." in after.output
    again = run_cli("demo", "--add-ignore", cwd=tmp_path)
    assert again.stderr == "Added 0 ignore comments to 0 files.\n"


def test_python_gets_a_trailing_comment_and_other_kinds_a_line_above(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from vllm import LLM\nllm = LLM(model='Qwen/Qwen2-7B', quantization='fp8', enforce_eager=True)\n"
    )
    (tmp_path / "serve.sh").write_text(
        "set -e\n  vllm serve Qwen/Qwen2-7B \\\n    --quantization fp8 \\\n    --enforce-eager\necho done\n"
    )
    run_cli(".", "--add-ignore", cwd=tmp_path)
    assert (tmp_path / "app.py").read_text().splitlines()[1].endswith("enforce_eager=True)  # ecolint: ignore[ECO104]")
    assert (tmp_path / "serve.sh").read_text().splitlines() == [
        "set -e",
        "  # ecolint: ignore[ECO104]",  # above the first line of the continued command, at its indent
        "  vllm serve Qwen/Qwen2-7B \\",
        "    --quantization fp8 \\",
        "    --enforce-eager",
        "echo done",
    ]
    assert run_cli(".", cwd=tmp_path).exit_code == 0


def test_codes_are_added_to_an_ignore_comment_already_there(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text("# ecolint: ignore[ECO105]\n" + FP8_EAGER)
    run_cli(".", "--add-ignore", cwd=tmp_path)
    assert (tmp_path / "serve.sh").read_text() == "# ecolint: ignore[ECO104, ECO105]\n" + FP8_EAGER


def test_line_endings_and_byte_order_mark_are_kept(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_bytes(b"\xef\xbb\xbfset -e\r\n" + FP8_EAGER.replace("\n", "\r\n").encode())
    run_cli(".", "--add-ignore", cwd=tmp_path)
    assert (tmp_path / "serve.sh").read_bytes() == (
        b"\xef\xbb\xbfset -e\r\n# ecolint: ignore[ECO104]\r\n" + FP8_EAGER.replace("\n", "\r\n").encode()
    )


def test_add_ignore_does_not_combine_with_fixes_or_stdin(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--add-ignore", "--fix", cwd=tmp_path)
    assert ran.exit_code == 2 and "--add-ignore edits the files checked" in ran.stderr
    assert (tmp_path / "serve.sh").read_text() == FP8_EAGER


def test_a_notebook_gets_the_comment_inside_its_cell_source(tmp_path: Path) -> None:
    import json

    source = [
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n",
        "q = BitsAndBytesConfig(load_in_8bit=True)\n",
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", quantization_config=q)',
    ]
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    document = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "try.ipynb").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    assert run_cli(".", cwd=tmp_path).exit_code == 1
    ran = run_cli(".", "--add-ignore", cwd=tmp_path)
    assert ran.stderr.startswith("Added 1 ignore comment to 1 file.")
    written = json.loads((tmp_path / "try.ipynb").read_text(encoding="utf-8"))
    assert (
        written["cells"][0]["source"][1]
        == "q = BitsAndBytesConfig(load_in_8bit=True)  # ecolint: ignore[ECO101, ECO103]\n"
    )
    assert run_cli(".", cwd=tmp_path).exit_code == 0


def test_concise_keeps_a_notebook_findings_cell(tmp_path: Path) -> None:
    import json

    source = ["from vllm import LLM\n", "llm = LLM(model='Qwen/Qwen2-7B', quantization='fp8', enforce_eager=True)"]
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    document = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "try.ipynb").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    line = run_cli(".", "--format", "concise", cwd=tmp_path).output.splitlines()[0]
    assert "FP8 with CUDA graphs disabled (eager mode) (cell 1" in line and line.endswith(") (+158–701%)")
    assert "energy per request" not in line


def _findings(path: Path, text: str) -> list:
    from ecolint import knowledge
    from ecolint.config import Config
    from ecolint.engine import Selection, run_text

    kb = knowledge.load()
    return run_text(path, text.encode(), kb, Config(), Selection(codes=["ECO104"]), cwd=path.parent).findings


def test_an_ignore_comment_added_to_a_text_silences_that_finding(tmp_path: Path) -> None:
    """What an editor's code action does to its buffer, without a file on disk."""
    from ecolint.add_ignore import with_ignores

    path = tmp_path / "serve.sh"
    found = _findings(path, FP8_EAGER)
    text, written, skipped = with_ignores(FP8_EAGER, "shell", found)
    assert (written, skipped) == (1, 0) and text == "# ecolint: ignore[ECO104]\n" + FP8_EAGER
    assert _findings(path, text) == [] and not path.exists()


def test_a_file_ignore_goes_after_what_must_stay_first_and_silences_the_file(tmp_path: Path) -> None:
    from ecolint.add_ignore import with_file_ignore

    shell = "#!/bin/sh\n" + FP8_EAGER + FP8_EAGER
    ignored = with_file_ignore(shell, "shell", ["ECO104"])
    assert ignored == "#!/bin/sh\n# ecolint: ignore-file[ECO104]\n" + FP8_EAGER + FP8_EAGER
    assert len(_findings(tmp_path / "serve.sh", shell)) == 2 and _findings(tmp_path / "serve.sh", ignored) == []
    docker = "# syntax=docker/dockerfile:1\nFROM vllm/vllm-openai\n"
    assert with_file_ignore(docker, "dockerfile", ["ECO104"]) == (
        "# syntax=docker/dockerfile:1\n# ecolint: ignore-file[ECO104]\nFROM vllm/vllm-openai\n"
    )
    python = "# -*- coding: utf-8 -*-\n# ecolint: ignore-file[ECO105]\nimport vllm\n"
    assert with_file_ignore(python, "python", ["ECO104"]) == (
        "# -*- coding: utf-8 -*-\n# ecolint: ignore-file[ECO104, ECO105]\nimport vllm\n"
    )
    assert with_file_ignore('{"cells": []}', "notebook", ["ECO104"]) is None
