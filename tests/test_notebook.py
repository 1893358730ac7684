"""Jupyter notebooks: code cells read as one Python module, findings located in the JSON file and
named by cell and line, bad notebooks reported by name."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

from ecolint.extract import ExtractError
from ecolint.extract.notebook import cell_and_line


def _notebook(cells: list[object]) -> str:
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1) + "\n"


def _code(source: object) -> dict[str, object]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


LOAD = [
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n",
    "q = BitsAndBytesConfig(load_in_8bit=True)\n",
    'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-1.5B", quantization_config=q)\n',
    'model.generate(**tok(["a", "b"], return_tensors="pt", padding=True))',
]


def _check(tmp_path: Path, text: str, *args: str) -> dict:
    (tmp_path / "try.ipynb").write_text(text, encoding="utf-8")
    ran = run_cli(str(tmp_path), "--format", "json", "--exit-zero", *args, cwd=tmp_path)
    assert ran.exit_code == 0, ran.output + ran.stderr
    return ran.json()


def test_a_finding_points_at_the_line_of_its_source_element_and_names_cell_and_line(tmp_path: Path) -> None:
    text = _notebook(
        [{"cell_type": "markdown", "metadata": {}, "source": ["# Title"]}, _code(["import os\n"]), _code(LOAD)]
    )
    (finding,) = _check(tmp_path, text, "--select", "ECO101")["findings"]
    line = text.splitlines()[finding["line"] - 1]
    assert "BitsAndBytesConfig(load_in_8bit=True)" in line  # the JSON line holding that source element
    assert finding["message"].endswith("(cell 2, line 2)")  # the second code cell, its second line


def test_a_cell_written_as_one_string_is_located_at_its_source_key(tmp_path: Path) -> None:
    text = _notebook([_code("".join(LOAD))])
    (finding,) = _check(tmp_path, text, "--select", "ECO101")["findings"]
    assert '"source"' in text.splitlines()[finding["line"] - 1]
    assert finding["message"].endswith("(cell 1)")


def test_magics_and_shell_escapes_do_not_stop_the_cells_from_parsing(tmp_path: Path) -> None:
    cells = [_code(["!pip install bitsandbytes\n", "%matplotlib inline\n", "if True:\n", "    %time x = 1\n"])]
    cells += [_code(["%%bash\n", "echo not python (\n"]), _code(LOAD)]
    document = _check(tmp_path, _notebook(cells), "--select", "ECO101")
    assert document["errors"] == []
    assert [f["code"] for f in document["findings"]] == ["ECO101"]


def test_a_shell_escape_continued_with_backslashes_is_shell_to_its_last_line(tmp_path: Path) -> None:
    cells = [
        _code(
            ["!torchrun --nproc_per_node=1 train.py \\\n", "   trainer.max_steps=100 \\\n", "   data.path=../x.jsonl\n"]
        )
    ]
    document = _check(tmp_path, _notebook([*cells, _code(LOAD)]), "--select", "ECO101")
    assert document["errors"] == []
    assert [f["code"] for f in document["findings"]] == ["ECO101"]


def test_a_cell_that_is_no_python_fails_alone_as_in_jupyter(tmp_path: Path) -> None:
    # prose pasted into a code cell: Jupyter raises on that cell and runs the others
    prose = _code(["Human: What is 5 plus 3?\n", "Model response: Here's the function call:\n"])
    document = _check(tmp_path, _notebook([_code(LOAD[:2]), prose, _code(LOAD[2:])]), "--select", "ECO101")
    assert document["errors"] == []
    (finding,) = document["findings"]
    assert finding["message"].endswith("(cell 1, line 2)")


def test_an_ignore_comment_in_a_cell_suppresses_the_finding(tmp_path: Path) -> None:
    load = list(LOAD)
    load[1] = "q = BitsAndBytesConfig(load_in_8bit=True)  # ecolint: ignore[ECO101]\n"
    assert _check(tmp_path, _notebook([_code(load)]), "--select", "ECO101")["findings"] == []


def test_a_broken_notebook_is_an_eco001_naming_the_file_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "other.py").write_text("".join(LOAD), encoding="utf-8")
    document = _check(tmp_path, '{"cells": [ {"cell_type": "code", "source": "from_pretrained(" ', "--select", "ECO101")
    (error,) = document["errors"]
    assert error["path"].endswith("try.ipynb") and "invalid notebook JSON" in error["message"]
    assert [f["path"] for f in document["findings"]] == ["other.py"]


def test_json_that_is_not_a_notebook_says_so() -> None:
    try:
        cell_and_line('{"from_pretrained": 1}', 1)
    except ExtractError:  # pragma: no cover - cell_and_line answers None, never raises
        raise AssertionError("cell_and_line raised") from None
    from ecolint.extract import notebook

    try:
        notebook.extract("x.ipynb", '{"from_pretrained": 1}', None)  # type: ignore[arg-type]
    except ExtractError as exc:
        assert "not a Jupyter notebook" in exc.message
    else:
        raise AssertionError("no ExtractError")


def test_sarif_of_a_notebook_finding_is_valid_and_points_into_the_file(tmp_path: Path) -> None:
    from ecohelp import validate_sarif

    (tmp_path / "try.ipynb").write_text(_notebook([_code(LOAD)]), encoding="utf-8")
    ran = run_cli(str(tmp_path), "--format", "sarif", "--select", "ECO101", "--exit-zero", cwd=tmp_path)
    document = json.loads(ran.output)
    validate_sarif(document)
    (result,) = document["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "try.ipynb" and location["region"]["startLine"] > 1


def test_every_line_of_a_cell_is_named_the_last_one_too() -> None:
    """The last element of a list source (no newline of its own) shares its JSON line with the
    blank line that ends the cell in the joined module; it is still that cell's last line."""
    text = _notebook([_code(["import os\n"]), _code(LOAD)])
    lines = text.splitlines()
    for number, element in enumerate(LOAD, 1):
        line = next(i for i, json_line in enumerate(lines, 1) if json.dumps(element) in json_line)
        assert cell_and_line(text, line) == (2, number)
    first = next(i for i, json_line in enumerate(lines, 1) if json.dumps("import os\n") in json_line)
    assert cell_and_line(text, first) == (1, 1)


def test_a_one_line_cell_written_as_one_string_is_named_by_cell_and_line() -> None:
    text = _notebook([_code('model.generate(**tok(["a"], return_tensors="pt"))')])
    line = next(i for i, json_line in enumerate(text.splitlines(), 1) if '"source"' in json_line)
    assert cell_and_line(text, line) == (1, 1)
