"""Autofix (`check --fix / --unsafe-fixes / --diff`).

tests/fix_cases/ holds one pair per file kind: ``NAME.before.EXT`` is copied to a temporary
directory as ``NAME.EXT``, fixed with every rule selected and unsafe fixes on, and must then equal
``NAME.after.EXT`` byte for byte. Around the pairs: fixing twice changes nothing, a re-run reports
none of the fixed findings, --diff writes nothing, a file that does not parse is never
rewritten, safe and unsafe fixes are gated apart, encodings and line endings survive.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO, run_cli

from ecolint import fix, knowledge
from ecolint.finding import Finding
from ecolint.setups import Location

CASES = REPO / "tests" / "fix_cases"
BEFORE = sorted(CASES.glob("*.before.*"))
EVERYTHING = ("--isolated", "--select", "ALL")


def target_name(before: Path) -> str:
    return before.name.replace(".before", "")


def copy_case(before: Path, directory: Path) -> Path:
    target = directory / target_name(before)
    shutil.copyfile(before, target)
    return target


def findings(target: Path, *extra: str) -> list[dict]:
    ran = run_cli("check", *EVERYTHING, "--format", "json", "--exit-zero", *extra, target.name, cwd=target.parent)
    return ran.json()["findings"]


def test_every_kind_has_a_case() -> None:
    kinds = {p.suffix if p.suffix in (".py", ".sh", ".yml", ".yaml") else p.name.rsplit(".", 1)[-1] for p in BEFORE}
    assert {".py", ".sh", ".yml", ".yaml", "Dockerfile"} <= kinds
    for before in BEFORE:
        assert before.with_name(before.name.replace(".before", ".after")).is_file(), before


@pytest.mark.parametrize("before", BEFORE, ids=target_name)
def test_unsafe_fixes_turn_before_into_after(before: Path, tmp_path: Path) -> None:
    target = copy_case(before, tmp_path)
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", target.name, cwd=tmp_path)
    after = before.with_name(before.name.replace(".before", ".after"))
    assert target.read_text(encoding="utf-8") == after.read_text(encoding="utf-8")
    summary = re.search(r"Fixed (\d+) findings?, (\d+) remaining\.", ran.stderr)
    assert summary is not None, ran.stderr
    assert int(summary.group(1)) > 0
    left = findings(target)
    assert int(summary.group(2)) == len(left)
    assert ran.exit_code == (1 if left else 0)
    assert f"fixed  {target.name}: {summary.group(1)} (" in ran.stderr


@pytest.mark.parametrize("before", BEFORE, ids=target_name)
def test_fixing_twice_changes_nothing_and_the_rerun_reports_no_fixed_finding(before: Path, tmp_path: Path) -> None:
    target = copy_case(before, tmp_path)
    initial = findings(target)
    run_cli("check", *EVERYTHING, "--unsafe-fixes", target.name, cwd=tmp_path)
    once = target.read_bytes()
    again = run_cli("check", *EVERYTHING, "--unsafe-fixes", target.name, cwd=tmp_path)
    assert target.read_bytes() == once
    assert "Fixed 0 findings" in again.stderr
    diff = run_cli("check", *EVERYTHING, "--unsafe-fixes", "--diff", target.name, cwd=tmp_path)
    assert (diff.output, diff.exit_code) == ("", 0)
    left = findings(target)
    # What remains is what has no automatic fix (env vars, opportunities, loops), or is suppressed.
    assert all(f["fix"] is None or f["fix"]["applicability"] == "manual" for f in left), left
    assert len(left) < len(initial)


def test_fixes_in_the_annotated_fixtures_and_the_demo_leave_files_that_parse(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    shutil.copytree(REPO / "examples" / "demo", tmp_path / "demo")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", ".", cwd=tmp_path)
    assert int(re.search(r"Fixed (\d+) findings", ran.stderr).group(1)) >= 25
    changed = [p for p, data in before.items() if p.read_bytes() != data]
    assert len(changed) >= 15
    for path in changed:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            ast.parse(text)
        elif path.suffix in (".yml", ".yaml") and "templates" not in path.parts:
            list(yaml.safe_load_all(text))
    snapshot = {p: p.read_bytes() for p in before}
    again = run_cli("check", *EVERYTHING, "--unsafe-fixes", ".", cwd=tmp_path)
    assert "Fixed 0 findings" in again.stderr
    assert {p: p.read_bytes() for p in before} == snapshot


@pytest.mark.parametrize("before", BEFORE, ids=target_name)
def test_diff_prints_the_patch_and_changes_nothing(before: Path, tmp_path: Path) -> None:
    target = copy_case(before, tmp_path)
    stamp = target.stat().st_mtime_ns
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", "--diff", target.name, cwd=tmp_path)
    assert ran.exit_code == 1
    assert target.read_bytes() == before.read_bytes() and target.stat().st_mtime_ns == stamp
    assert ran.output.startswith(f"--- a/{target.name}\n+++ b/{target.name}\n@@ -")
    assert re.search(r"Would fix \d+ findings\.", ran.stderr)
    if shutil.which("patch"):  # the patch turns the file into the after file
        subprocess.run(["patch", "-p1", "-s"], input=ran.output, text=True, cwd=tmp_path, check=True)
        assert target.read_bytes() == before.with_name(before.name.replace(".before", ".after")).read_bytes()


def test_diff_exits_zero_with_exit_zero(tmp_path: Path) -> None:
    target = copy_case(CASES / "serve.before.sh", tmp_path)
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", "--diff", "--exit-zero", target.name, cwd=tmp_path)
    assert ran.exit_code == 0 and ran.output.startswith(f"--- a/{target.name}")


def test_the_diff_of_a_shell_script_shows_the_lines_removed(tmp_path: Path) -> None:
    target = copy_case(CASES / "serve.before.sh", tmp_path)
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", "--diff", target.name, cwd=tmp_path)
    assert '\n-  --enforce-eager \\\n-  --max-num-seqs "$SEQS" \\\n   --port 8000 &\n' in ran.output


def test_safe_fixes_alone_with_fix_and_unsafe_ones_with_unsafe_fixes(tmp_path: Path) -> None:
    before = CASES / "dtype_batch.before.py"
    target = copy_case(before, tmp_path)
    ran = run_cli("check", *EVERYTHING, "--fix", target.name, cwd=tmp_path)
    text = target.read_text(encoding="utf-8")
    assert "bnb_4bit_compute_dtype=torch.bfloat16" in text  # ECO201: safe
    assert 'attn_implementation="eager"' in text and "max_num_seqs=1" in text and "batch_size=1)" in text
    assert "Fixed 1 finding, " in ran.stderr
    assert "3 fixes available with --unsafe-fixes." in ran.stderr
    run_cli("check", *EVERYTHING, "--unsafe-fixes", target.name, cwd=tmp_path)
    assert target.read_text(encoding="utf-8") == (CASES / "dtype_batch.after.py").read_text(encoding="utf-8")


def test_fix_without_unsafe_fixes_leaves_unsafe_edits_and_says_so(tmp_path: Path) -> None:
    target = copy_case(CASES / "serve.before.sh", tmp_path)
    ran = run_cli("check", "--isolated", "--fix", target.name, cwd=tmp_path)
    assert target.read_bytes() == (CASES / "serve.before.sh").read_bytes()
    assert "Fixed 0 findings" in ran.stderr and "available with --unsafe-fixes" in ran.stderr
    diff = run_cli("check", "--isolated", "--diff", target.name, cwd=tmp_path)
    assert diff.output == "" and "Would fix 0 findings (" in diff.stderr and diff.exit_code == 0


def test_a_file_that_does_not_parse_is_never_rewritten(tmp_path: Path) -> None:
    broken = (
        "from vllm import LLM\n"
        'llm = LLM(model="meta-llama/Meta-Llama-3-8B-Instruct", quantization="fp8", enforce_eager=True)\n'
        "def oops(:\n"
    )
    (tmp_path / "broken.py").write_text(broken, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(
        "command: [vllm, serve, m, --quantization, fp8, --enforce-eager\n", encoding="utf-8"
    )
    good = tmp_path / "good.sh"
    good.write_text(
        "vllm serve meta-llama/Meta-Llama-3-8B-Instruct --quantization fp8 --enforce-eager\n", encoding="utf-8"
    )
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", ".", cwd=tmp_path)
    assert (tmp_path / "broken.py").read_text(encoding="utf-8") == broken
    assert (tmp_path / "broken.yaml").read_text(encoding="utf-8").endswith("--enforce-eager\n")
    assert good.read_text(encoding="utf-8") == "vllm serve meta-llama/Meta-Llama-3-8B-Instruct --quantization fp8\n"
    assert "ECO001" in ran.output and ran.exit_code == 1


def test_the_python_applier_refuses_text_that_does_not_parse() -> None:
    text = "bnb = BitsAndBytesConfig(load_in_8bit=True)\nif (:\n"
    step = _step(
        "set-keyword", _span(text, "BitsAndBytesConfig(load_in_8bit=True)"), keyword="llm_int8_threshold", value="0.0"
    )
    assert fix.apply_steps("python", text, [step]) == (text, [])
    good = text.split("if")[0]
    step = _step(
        "set-keyword", _span(good, "BitsAndBytesConfig(load_in_8bit=True)"), keyword="llm_int8_threshold", value="0.0"
    )
    assert (
        fix.apply_steps("python", good, [step])[0]
        == "bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n"
    )


def test_encoding_bom_and_line_endings_survive(tmp_path: Path) -> None:
    script = tmp_path / "serve.sh"
    script.write_bytes(b"\xef\xbb\xbfvllm serve m --quantization fp8 --enforce-eager \\\r\n  --port 8000\r\n")
    latin = tmp_path / "app.py"
    latin.write_bytes(
        b"# -*- coding: latin-1 -*-\n# caf\xe9\nfrom vllm import LLM\n"
        b'llm = LLM(model="meta-llama/Meta-Llama-3-8B-Instruct", quantization="fp8", enforce_eager=True)\n'
    )
    run_cli("check", *EVERYTHING, "--unsafe-fixes", ".", cwd=tmp_path)
    assert script.read_bytes() == b"\xef\xbb\xbfvllm serve m --quantization fp8 \\\r\n  --port 8000\r\n"
    assert latin.read_bytes() == (
        b"# -*- coding: latin-1 -*-\n# caf\xe9\nfrom vllm import LLM\n"
        b'llm = LLM(model="meta-llama/Meta-Llama-3-8B-Instruct", quantization="fp8")\n'
    )


def test_json_findings_carry_the_edit_and_its_applicability(tmp_path: Path) -> None:
    target = copy_case(CASES / "eager.before.py", tmp_path)
    by_line = {f["line"]: f["fix"] for f in findings(target)}
    assert by_line[12]["edit"] == {"action": "delete-keyword", "keyword": "enforce_eager"}
    assert by_line[12]["applicability"] == "automatic" and by_line[12]["safety"] == "unsafe"
    compile_fix = by_line[20]["edit"]
    assert compile_fix == {"action": "insert-after-statement", "text": "{arg0} = torch.compile({arg0})"}


def test_every_rule_says_whether_its_fix_is_automatic_and_only_automatic_rules_emit_edits(tmp_path: Path) -> None:
    kb = knowledge.load()
    for spec in kb.rules.values():
        assert spec.fix.get("applicability") in ("automatic", "manual"), spec.code
        assert bool(spec.fix.get("edit")) == (spec.fix["applicability"] == "automatic"), spec.code
    # the fix cases too: every ECO101 of the fixtures is below the INT8 crossover, where ECO103's
    # edit is the one applied
    ran = run_cli(
        "check", *EVERYTHING, "--format", "json", "--exit-zero", str(FIXTURES), str(REPO / "examples"), str(CASES)
    )
    emitted = {f["code"] for f in ran.json()["findings"] if f["fix"] and f["fix"]["edit"]}
    assert emitted <= {code for code, spec in kb.rules.items() if spec.fix["applicability"] == "automatic"}
    assert {"ECO101", "ECO102", "ECO104", "ECO105", "ECO201"} <= emitted


def test_fix_does_not_combine_with_write_baseline(tmp_path: Path) -> None:
    ran = run_cli("check", "--fix", "--write-baseline", "b.json", ".", cwd=tmp_path)
    assert ran.exit_code == 2 and not (tmp_path / "b.json").exists()


# -- the appliers, edge by edge ------------------------------------------------------------------


def _step(action: str, at: Location, **arguments: object) -> fix.Step:
    finding = Finding("ECO999", "test", at, "warning", 1, "", None, {})
    return fix.Step(finding, {"action": action, **arguments}, at)


def _span(text: str, needle: str, path: str = "x") -> Location:
    """The Location of the first occurrence of ``needle`` (one line)."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(path, line, column, line, column + len(needle))


PY_CASES = [
    # first argument of several, single line
    ('f = LLM(enforce_eager=True, model="m")\n', "enforce_eager=True", 'f = LLM(model="m")\n'),
    # the only argument, one per line
    ("f = LLM(\n    enforce_eager=True,\n)\n", "enforce_eager=True", "f = LLM()\n"),
    # the last, no trailing comma, one per line: the previous keeps a trailing comma
    ('f = LLM(\n    model="m",\n    enforce_eager=True\n)\n', "enforce_eager=True", 'f = LLM(\n    model="m",\n)\n'),
    # in the middle: the comment above the next argument stays; the one on its own line goes
    (
        'f = LLM(\n    model="m",  # the model\n    enforce_eager=True,  # debug\n    # the dtype\n    dtype="bfloat16",\n)\n',
        "enforce_eager=True",
        'f = LLM(\n    model="m",  # the model\n    # the dtype\n    dtype="bfloat16",\n)\n',
    ),
]


@pytest.mark.parametrize("text,needle,expected", PY_CASES)
def test_delete_keyword_keeps_the_layout_and_the_comments(text: str, needle: str, expected: str) -> None:
    step = _step("delete-keyword", _span(text, needle), keyword="enforce_eager")
    assert fix.apply_steps("python", text, [step])[0] == expected


def test_set_keyword_fits_only_a_call_it_may_change() -> None:
    spread = "bnb = BitsAndBytesConfig(load_in_8bit=True, **extra)\n"
    step = _step(
        "set-keyword", _span(spread, spread.split(" = ")[1].strip()), keyword="llm_int8_threshold", value="0.0"
    )
    assert fix.apply_steps("python", spread, [step]) == (spread, [])  # **extra may hold the keyword
    other = "x = float(6)\n"
    step = _step(
        "set-keyword", _span(other, "float(6)"), keyword="llm_int8_threshold", value="0.0", calls=["BitsAndBytesConfig"]
    )
    assert fix.apply_steps("python", other, [step]) == (other, [])
    legacy = 'm = M.from_pretrained("x", load_in_8bit=True)\n'
    step = _step("set-keyword", _span(legacy, "load_in_8bit=True"), keyword="llm_int8_threshold", value="0.0")
    assert fix.apply_steps("python", legacy, [step]) == (legacy, [])


def test_new_code_only_names_what_the_module_imports() -> None:
    call = 'AutoModelForCausalLM.from_pretrained("x", quantization_config=q)'
    arguments = {
        "keyword": "quantization_config",
        "new_keyword": "torch_dtype",
        "value": ["torch.float16", '"float16"'],
    }
    bare = f"m = {call}\n"
    assert fix.apply_steps("python", bare, [_step("replace-keyword", _span(bare, call), **arguments)])[0] == (
        'm = AutoModelForCausalLM.from_pretrained("x", torch_dtype="float16")\n'
    )
    imported = f"import torch\nm = {call}\n"
    assert fix.apply_steps("python", imported, [_step("replace-keyword", _span(imported, call), **arguments)])[
        0
    ].endswith('("x", torch_dtype=torch.float16)\n')
    insert = {"text": "{arg0} = torch.compile({arg0})"}
    bare = "quantize_(model, cfg)\n"
    assert fix.apply_steps("python", bare, [_step("insert-after-statement", _span(bare, bare.strip()), **insert)]) == (
        bare,
        [],
    )
    imported = "import torch\n" + bare
    assert fix.apply_steps(
        "python", imported, [_step("insert-after-statement", _span(imported, bare.strip()), **insert)]
    )[0] == ("import torch\nquantize_(model, cfg)\nmodel = torch.compile(model)\n")


TEXT_CASES = [
    # a YAML list item, and a flag whose value is the next item
    ("args:\n  - --enforce-eager  # off\n  - --port\n", "--enforce-eager", {}, "args:\n  - --port\n"),
    ('args:\n  - --max-num-seqs\n  - "1"\n  - --port\n', "--max-num-seqs", {"valued": True}, "args:\n  - --port\n"),
    # a value that is not the next item: not this edit's business
    ("args:\n  - --max-num-seqs\n  - --port\n", "--max-num-seqs", {"valued": True}, None),
    # a flow list: its comma goes with it
    ('cmd: ["--enforce-eager", "--port", "8"]\n', '"--enforce-eager"', {}, 'cmd: ["--port", "8"]\n'),
    ('cmd: ["--port", "8", "--enforce-eager"]\n', '"--enforce-eager"', {}, 'cmd: ["--port", "8"]\n'),
    ('cmd: ["--enforce-eager"]\n', '"--enforce-eager"', {}, "cmd: []\n"),
    # a flag whose value sits on the next line of a continuation: refused
    ("vllm serve m --max-num-seqs \\\n  1\n", "--max-num-seqs", {"valued": True}, None),
    # a flag and a $VARIABLE value on the same line
    ('vllm serve m --max-num-seqs "$N" --port 8\n', "--max-num-seqs", {"valued": True}, "vllm serve m --port 8\n"),
    ("vllm serve m --max-num-seqs $(N) --port 8\n", "--max-num-seqs", {"valued": True}, None),
    # not a flag at all (an environment variable)
    ("ENV QUANTIZE=bitsandbytes\n", "QUANTIZE=bitsandbytes", {}, None),
]


@pytest.mark.parametrize("text,needle,arguments,expected", TEXT_CASES)
def test_delete_flag_is_token_exact(text: str, needle: str, arguments: dict, expected: str | None) -> None:
    new_text, done = fix.apply_steps("shell", text, [_step("delete-flag", _span(text, needle), **arguments)])
    assert new_text == (text if expected is None else expected)
    assert bool(done) == (expected is not None)


@pytest.mark.parametrize(
    "text,needle,expected",
    [
        ("llama-server -m x.gguf -np 1 --port 8\n", "-np 1", "llama-server -m x.gguf -np 4 --port 8\n"),
        ("llama-server -m x.gguf --parallel=1\n", "--parallel=1", "llama-server -m x.gguf --parallel=4\n"),
        ('cmd: ["-np", "1"]\n', '"-np", "1"', 'cmd: ["-np", "4"]\n'),
        ("llama-server -np $N\n", "-np $N", None),
        ("llama-server -np \\\n  1\n", "-np", None),
    ],
)
def test_set_flag_value_replaces_only_the_value(text: str, needle: str, expected: str | None) -> None:
    new_text, _ = fix.apply_steps("shell", text, [_step("set-flag-value", _span(text, needle), value="4")])
    assert new_text == (text if expected is None else expected)


def test_overlapping_edits_wait_for_the_next_pass() -> None:
    text = 'cmd: ["--port", "8", "--enforce-eager", "--max-num-seqs=1"]\n'
    steps = [
        _step("delete-flag", _span(text, '"--enforce-eager"')),
        _step("delete-flag", _span(text, '"--max-num-seqs=1"')),
    ]
    first, done = fix.apply_steps("yaml", text, steps)
    assert len(done) == 1
    steps = [_step("delete-flag", _span(first, '"--max-num-seqs=1"'))]
    assert fix.apply_steps("yaml", first, steps)[0] == 'cmd: ["--port", "8"]\n'


def test_check_without_fix_options_is_unchanged(tmp_path: Path) -> None:
    target = copy_case(CASES / "serve.before.sh", tmp_path)
    ran = run_cli("check", "--isolated", target.name, cwd=tmp_path)
    assert target.read_bytes() == (CASES / "serve.before.sh").read_bytes()
    assert "Fixed" not in ran.stderr and ran.exit_code == 1


def test_json_output_stays_json_with_fix(tmp_path: Path) -> None:
    target = copy_case(CASES / "compose.before.yml", tmp_path)
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", "--format", "json", target.name, cwd=tmp_path)
    document = json.loads(ran.output)
    assert [f["code"] for f in document["findings"]] == ["ECO102"]  # the env var: manual
    assert "Fixed 4 findings, 1 remaining." in ran.stderr
    assert os.path.exists(target)


def test_a_pass_whose_fix_does_not_take_is_dropped() -> None:
    text = "vllm serve m --quantization fp8 --enforce-eager\n"
    finding = Finding("ECO104", "fp8-without-compile", _span(text, "--enforce-eager"), "warning", 1, "", None, {})
    finding.fix = {"safety": "unsafe", "edit": {"action": "delete-flag"}}
    finding.fingerprint = "same-line"
    # An audit that still reports the finding on the same line text: the edit did not take.
    stubborn = fix.fix_text("shell", text, [finding], lambda new_text: [finding], unsafe=True)
    assert stubborn == (text, [], [finding])
    # Not allowed without --unsafe-fixes, and an audit that cannot read the new text drops the pass.
    assert fix.fix_text("shell", text, [finding], lambda new_text: [], unsafe=False)[0] == text
    assert fix.fix_text("shell", text, [finding], lambda new_text: None, unsafe=True)[0] == text
    fixed = fix.fix_text("shell", text, [finding], lambda new_text: [], unsafe=True)
    assert fixed[0] == "vllm serve m --quantization fp8\n" and len(fixed[1]) == 1


def test_a_flag_written_as_the_only_yaml_key_of_its_mapping_is_left_alone(tmp_path: Path) -> None:
    # Deleting `max_num_seqs: 1` would leave `engine_kwargs:` empty, which YAML reads as null
    # (Ray then rejects the config): the line stays; a switch is turned off in place instead.
    config = tmp_path / "llm_config.yaml"
    text = (
        "model_loading_config:\n  model_id: Qwen/Qwen2.5-7B-Instruct\naccelerator_type: L4\n"
        "engine_kwargs:\n  max_num_seqs: 1\n"
    )
    config.write_text(text, encoding="utf-8")
    ran = run_cli("check", *EVERYTHING, "--unsafe-fixes", config.name, cwd=tmp_path)
    assert config.read_text(encoding="utf-8") == text
    assert "Fixed 0 findings" in ran.stderr
