"""Hostile input, run the way a user runs ecolint (the CLI). Whatever a tree holds, ecolint
prints no traceback, exits 0, 1 or 2, reports what it could not read as ECO001 and still
analyses every other file; it never runs, imports or writes what it reads.

A few tests start a real ``python -m ecolint`` process: they prove the exit code and the
absence of a traceback (or a crash of a native parser) where an in-process run could hide them.
"""

from __future__ import annotations

import ctypes
import faulthandler
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from ecolint import discover, engine

INT8_PY = (
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "model = AutoModelForCausalLM.from_pretrained(\n"
    "    'Qwen/Qwen2-1.5B', quantization_config=BitsAndBytesConfig(load_in_8bit=True)\n"
    ")\n"
)
FP8_SH = "#!/bin/sh\nvllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"
FP8_COMPOSE = (
    "services:\n"
    "  llm:\n"
    "    image: vllm/vllm-openai:latest\n"
    "    command: [--model, Qwen/Qwen2-7B, --quantization, fp8, --enforce-eager]\n"
)
FP8_DOCKERFILE = (
    'FROM vllm/vllm-openai:latest\nCMD ["--model", "Qwen/Qwen2-7B", "--quantization", "fp8", "--enforce-eager"]\n'
)
GGUF_MODELFILE = "FROM qwen2:1.5b-instruct-q4_K_M\nPARAMETER num_ctx 4096\n"


def check(tree: Path, *args: str) -> dict:
    ran = run_cli(str(tree), "--isolated", "--format", "json", *args, cwd=tree)
    assert ran.exit_code in (0, 1), (ran.exit_code, ran.output, ran.stderr)
    return ran.json()


def codes_by_file(document: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in document["findings"]:
        found.setdefault(Path(finding["path"]).name, []).append(finding["code"])
    return {name: sorted(set(codes)) for name, codes in found.items()}


def errors_by_file(document: dict) -> dict[str, str]:
    return {Path(error["path"]).name: error["message"] for error in document["errors"]}


def ecolint_process(*args: str, cwd: Path = REPO, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """A real `python -m ecolint` process, as a shell or CI starts it."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ecolint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def assert_clean_exit(proc: subprocess.CompletedProcess, expected: tuple[int, ...] = (0, 1)) -> None:
    assert proc.returncode in expected, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


# ------------------------------------------------------------------------------------------
# Encodings and line endings
# ------------------------------------------------------------------------------------------


def test_invalid_utf8_is_one_eco001_and_the_other_files_are_analysed(tmp_path: Path) -> None:
    (tmp_path / "a_broken.py").write_bytes(b"x = 1\ny = '\xff\xfe'\n" + INT8_PY.encode())
    (tmp_path / "b_broken.sh").write_bytes(b"echo '\xc3\x28'\n" + FP8_SH.encode())
    (tmp_path / "c_ok.py").write_text(INT8_PY)
    document = check(tmp_path)
    errors = errors_by_file(document)
    assert set(errors) == {"a_broken.py", "b_broken.sh"}
    assert "not valid utf-8" in errors["a_broken.py"]
    assert [e["line"] for e in document["errors"] if e["path"].endswith("a_broken.py")] == [2]
    assert codes_by_file(document) == {"c_ok.py": ["ECO101", "ECO103"]}


def test_latin1_python_with_a_coding_cookie_is_read(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n# café, naïve\n" + INT8_PY
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    document = check(tmp_path)
    assert document["errors"] == []
    assert codes_by_file(document) == {"latin.py": ["ECO101", "ECO103"]}
    assert {f["line"] for f in document["findings"]} == {5}


def test_an_unknown_coding_cookie_is_an_eco001(tmp_path: Path) -> None:
    (tmp_path / "odd.py").write_bytes(b"# -*- coding: no-such-codec -*-\n" + INT8_PY.encode())
    document = check(tmp_path)
    assert "odd.py" in errors_by_file(document)
    assert document["findings"] == []


def test_utf16_text_is_skipped_and_said(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_bytes(FP8_SH.encode("utf-16"))
    document = check(tmp_path)
    assert document["findings"] == []
    assert errors_by_file(document) == {"serve.sh": "skipped: UTF-16 text (a byte-order mark); ecolint reads UTF-8"}
    assert document["summary"] == {
        "files_checked": 1,
        "findings": 0,
        "errors": 1,
        "in_baseline": 0,
        "below_confidence": 0,
    }


@pytest.mark.parametrize(
    "name, text, codes",
    [
        ("app.py", INT8_PY, ["ECO101", "ECO103"]),
        ("serve.sh", FP8_SH, ["ECO104"]),
        ("docker-compose.yml", FP8_COMPOSE, ["ECO104"]),
        ("Dockerfile", FP8_DOCKERFILE, ["ECO104"]),
        ("Modelfile", GGUF_MODELFILE, ["ECO204"]),  # opt-in, selected below
    ],
)
@pytest.mark.parametrize("bom", [False, True], ids=["plain", "bom"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_bom_and_crlf_give_the_same_findings_at_the_same_places(
    tmp_path: Path, name: str, text: str, codes: list[str], bom: bool, newline: str
) -> None:
    data = text.replace("\n", newline).encode("utf-8")
    (tmp_path / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    document = check(tmp_path, "--extend-select", "ECO204")
    assert document["errors"] == []
    assert codes_by_file(document) == {name: codes}
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / name).write_text(text)
    reference = check(plain, "--extend-select", "ECO204")
    where = lambda doc: [(f["code"], f["line"], f["column"]) for f in doc["findings"]]  # noqa: E731
    assert where(document) == where(reference)


# ------------------------------------------------------------------------------------------
# Binary, NUL bytes, empty and huge files
# ------------------------------------------------------------------------------------------


def test_binary_files_with_source_like_names_are_skipped_and_said(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_bytes(b"\x7fELF\x02\x01\x01\0\0\0vllm serve Qwen/Qwen2-7B --quantization fp8")
    (tmp_path / "model.py").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR from_pretrained(" + os.urandom(4096))
    (tmp_path / "Dockerfile").write_bytes(os.urandom(2048) + b"\0vllm")
    (tmp_path / "values.yaml").write_bytes(b"\0\0\0vllm: [")
    (tmp_path / "Modelfile").write_bytes(b"\0FROM qwen2:1.5b-q4_0")
    (tmp_path / "requirements.txt").write_bytes(b"\0\xff\xfe" + os.urandom(512))
    document = check(tmp_path)
    assert document["findings"] == []
    names = ["Dockerfile", "Modelfile", "model.py", "requirements.txt", "serve.sh", "values.yaml"]
    assert errors_by_file(document) == dict.fromkeys(names, engine.BINARY_MESSAGE)


def test_nul_bytes_past_the_binary_sniff_are_an_eco001_in_python(tmp_path: Path) -> None:
    (tmp_path / "late_nul.py").write_bytes(b"x = 1\n" * 3000 + INT8_PY.encode() + b"y = '\0'\n")
    (tmp_path / "late_nul.sh").write_bytes(b"echo hi\n" * 2000 + FP8_SH.encode() + b"echo '\0'\n")
    document = check(tmp_path)
    assert "late_nul.py" in errors_by_file(document)
    assert "null" in errors_by_file(document)["late_nul.py"]
    assert "late_nul.sh" in codes_by_file(document)  # the shell reader tolerates a stray NUL


EMPTY_NAMES = [
    "empty.py",
    "empty.sh",
    "empty.bash",
    "empty.yaml",
    "empty.yml",
    "Dockerfile",
    "api.Dockerfile",
    "Containerfile",
    "requirements.txt",
    "pyproject.toml",
    "run-server",
]


@pytest.mark.parametrize(
    "content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\r\n"], ids=["empty", "blank", "bom-only", "crlf-only"]
)
def test_empty_files_of_every_kind(tmp_path: Path, content: bytes) -> None:
    for name in EMPTY_NAMES:
        (tmp_path / name).write_bytes(content)
    (tmp_path / "Modelfile").write_bytes(content)
    document = check(tmp_path)
    assert document["findings"] == []
    # An empty Modelfile is not one (ollama refuses it: no FROM); everything else is just empty.
    assert errors_by_file(document) == {"Modelfile": "empty Modelfile"}


def test_a_file_over_max_file_size_is_skipped_with_a_clear_note(tmp_path: Path) -> None:
    big = tmp_path / "huge.py"
    with open(big, "wb") as handle:
        handle.write(INT8_PY.encode())
        chunk = b"x = 1  # padding\n" * 65536
        while handle.tell() < 20 * 1024 * 1024:
            handle.write(chunk)
    size = big.stat().st_size
    (tmp_path / "ok.sh").write_text(FP8_SH)
    document = check(tmp_path)
    assert errors_by_file(document) == {"huge.py": f"skipped: {size} bytes is over max-file-size (10485760)"}
    assert codes_by_file(document) == {"ok.sh": ["ECO104"]}


def test_max_file_size_is_configurable(tmp_path: Path) -> None:
    from ecolint.config import KNOWN_KEYS

    assert "max-file-size" in KNOWN_KEYS
    (tmp_path / "ecolint.toml").write_text("max-file-size = 100\n")
    (tmp_path / "serve.sh").write_text(FP8_SH)
    (tmp_path / "app.py").write_text(INT8_PY)
    ran = run_cli(str(tmp_path), "--format", "json", cwd=tmp_path)
    assert ran.exit_code == 1
    document = ran.json()
    assert errors_by_file(document) == {"app.py": f"skipped: {len(INT8_PY)} bytes is over max-file-size (100)"}
    assert codes_by_file(document) == {"serve.sh": ["ECO104"]}
    (tmp_path / "ecolint.toml").write_text("max-file-size = -1\n")
    bad = run_cli(str(tmp_path), cwd=tmp_path)
    assert bad.exit_code == 2 and "max-file-size" in bad.stderr


# ------------------------------------------------------------------------------------------
# Python the parsers cannot take
# ------------------------------------------------------------------------------------------

HEADER = "from transformers import AutoModel\nm = AutoModel.from_pretrained('gpt2')\n"
NESTED = {
    "parens.py": "x = " + "(" * 100_000 + ")" * 100_000,
    "brackets.py": "x = " + "[" * 5_000 + "]" * 5_000,
    "unary.py": "x = " + "-" * 100_000 + "1",
    "not.py": "x = " + "not " * 20_000 + "y",
    "attributes.py": "x = a" + ".b" * 100_000,
    "calls.py": "x = f" + "()" * 50_000,
    "and_chain.py": "x = " + " and ".join(["a"] * 50_000),
    "or_chain.py": "x = " + " or ".join(["a"] * 10_000),
    "ternary.py": "x = " + "a if b else " * 5_000 + "c",
    "lambdas.py": "x = " + "lambda: " * 5_000 + "1",
    "indent.py": "".join(" " * i + "if x:\n" for i in range(120)) + " " * 120 + "pass",
    "plus_chain.py": "x = " + "+".join(["a"] * 100_000),
}


def test_python_too_deeply_nested_for_the_parsers_is_an_eco001_not_a_crash(tmp_path: Path) -> None:
    """libcst's native parser segfaults on a few thousand `and` operands; stdlib ast raises on
    deep brackets. A real process proves none of these ends the run (exit 139) or prints a
    traceback, and the file beside them is still analysed."""
    for name, body in NESTED.items():
        (tmp_path / name).write_text(HEADER + body + "\n")
    (tmp_path / "zz_ok.sh").write_text(FP8_SH)
    proc = ecolint_process(str(tmp_path), "--isolated", "--format", "json", timeout=300)
    assert_clean_exit(proc, (1,))
    import json

    document = json.loads(proc.stdout)
    errors = errors_by_file(document)
    for name in (
        "parens.py",
        "unary.py",
        "not.py",
        "attributes.py",
        "calls.py",
        "and_chain.py",
        "or_chain.py",
        "indent.py",
    ):
        assert name in errors, name
        assert "nested" in errors[name] or "indentation" in errors[name] or "syntax" in errors[name], errors[name]
    assert codes_by_file(document) == {"zz_ok.sh": ["ECO104"]}


def test_fix_never_hands_a_chain_that_crashes_libcst_to_it(tmp_path: Path) -> None:
    """A 50,000-operand `and` chain in dead code: the index never visits it, so the file keeps
    its findings, and --unsafe-fixes must leave it alone rather than let libcst's parser take
    the process down (exit 139 without the guard)."""
    app = tmp_path / "app.py"
    original = INT8_PY + "if False:\n    x = " + " and ".join(["a"] * 50_000) + "\n"
    app.write_text(original)
    proc = ecolint_process(str(tmp_path), "--isolated", "--fix", "--unsafe-fixes", timeout=300)
    assert_clean_exit(proc, (1,))
    assert "ECO101" in proc.stdout
    assert app.read_text() == original


def test_a_worker_that_dies_is_an_eco001_for_its_file_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A native crash inside a parallel worker must neither hang the pool nor lose the other
    files: the lost chunk is re-run one process per file and the culprit named."""
    for i in range(12):
        (tmp_path / f"app_{i:02}.py").write_text(INT8_PY)
    (tmp_path / "app_05.py").write_text(INT8_PY + "# CRASH-ME\n")
    real_decode = engine.decode

    def crashing_decode(path: Path, data: bytes, kind: str) -> str:
        if b"CRASH-ME" in data:
            # pytest's faulthandler, inherited by the forked worker, would print a native stack
            # trace to the terminal: the crash is the test's intent, not news
            faulthandler.disable()
            os.kill(os.getpid(), signal.SIGSEGV)
        return real_decode(path, data, kind)

    monkeypatch.setattr(engine, "decode", crashing_decode)
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(engine, "_can_fork", lambda: True)
    document = check(tmp_path)
    errors = errors_by_file(document)
    assert list(errors) == ["app_05.py"]
    assert "the parser process died: signal 11" in errors["app_05.py"]
    assert "please report" in errors["app_05.py"]
    assert sorted(codes_by_file(document)) == [f"app_{i:02}.py" for i in range(12) if i != 5]


def test_an_unexpected_exception_in_an_extractor_is_an_internal_error_eco001(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ecolint.extract import shell

    def broken(path: str, text: str, context: object) -> list:
        raise KeyError("surprise")

    monkeypatch.setattr(shell, "extract", broken)
    (tmp_path / "serve.sh").write_text(FP8_SH)
    (tmp_path / "app.py").write_text(INT8_PY)
    document = check(tmp_path)
    message = errors_by_file(document)["serve.sh"]
    assert message.startswith("internal error (KeyError: 'surprise' at ecolint/")
    assert "please report" in message
    assert codes_by_file(document) == {"app.py": ["ECO101", "ECO103"]}


def test_an_unexpected_exception_while_auditing_a_setup_is_an_internal_error_eco001(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = engine.Engine.audit

    def audit(self, setup, path):
        if path.name == "serve.sh":
            raise ZeroDivisionError("boom")
        return real(self, setup, path)

    monkeypatch.setattr(engine.Engine, "audit", audit)
    (tmp_path / "serve.sh").write_text(FP8_SH)
    (tmp_path / "app.py").write_text(INT8_PY)
    document = check(tmp_path)
    assert errors_by_file(document)["serve.sh"].startswith("internal error (ZeroDivisionError: boom")
    assert codes_by_file(document) == {"app.py": ["ECO101", "ECO103"]}


# ------------------------------------------------------------------------------------------
# YAML
# ------------------------------------------------------------------------------------------


def test_invalid_yaml_is_an_eco001_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  llm:\n    command: [vllm, serve\n    image: [\n")
    (tmp_path / "k8s.yaml").write_text("kind: Pod\nspec: {containers: [{args: ['vllm', 'serve']}\n\t- tab\n")
    (tmp_path / "serve.sh").write_text(FP8_SH)
    document = check(tmp_path)
    errors = errors_by_file(document)
    assert errors["compose.yaml"].startswith("invalid YAML") and errors["k8s.yaml"].startswith("invalid YAML")
    assert all(e["line"] > 1 for e in document["errors"])
    assert codes_by_file(document) == {"serve.sh": ["ECO104"]}


def test_yaml_nested_deeper_than_the_c_composer_can_take_is_an_eco001(tmp_path: Path) -> None:
    """PyYAML's C composer segfaults past ~20,000 nested levels: the depth is bounded first."""
    (tmp_path / "flow.yaml").write_text("vllm: " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "mapping.yaml").write_text("vllm: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n")
    (tmp_path / "block.yaml").write_text("vllm:\n" + "".join(" " * i + "-\n" for i in range(2_000)))
    (tmp_path / "compact.yaml").write_text("# vllm\n" + "- " * 50_000 + "x\n")
    (tmp_path / "docker-compose.yml").write_text(FP8_COMPOSE)
    proc = ecolint_process(str(tmp_path), "--isolated", "--format", "json", timeout=120)
    assert_clean_exit(proc, (1,))
    import json

    document = json.loads(proc.stdout)
    errors = errors_by_file(document)
    for name in ("flow.yaml", "mapping.yaml", "block.yaml", "compact.yaml"):
        # ecolint's own depth bound, or PyYAML's (6.0.4 and later check nesting themselves).
        assert errors[name] in (
            "invalid YAML: nested more than 1000 levels deep",
            "invalid YAML: exceeded maximum nesting depth",
        ), errors
    assert codes_by_file(document) == {"docker-compose.yml": ["ECO104"]}


def test_a_long_yaml_file_is_read_whole(tmp_path: Path) -> None:
    """Past a thousand lines a YAML file may nest deeper than the C composer can take: it is
    composed on a thread with a deep stack and its depth read from the nodes. What it says
    still counts, in the first document and in the last."""
    services = "".join(f"  svc{i}:\n    image: busybox:{i}\n    command: [sleep, '{i}']\n" for i in range(1_500))
    (tmp_path / "docker-compose.yml").write_text("services:\n" + FP8_COMPOSE.split("services:\n", 1)[1] + services)
    (tmp_path / "stack.yaml").write_text(
        "---\n".join(["kind: ConfigMap\ndata:\n" + "".join(f"  k{i}: v\n" for i in range(800))] * 2)
        + "---\n"
        + FP8_COMPOSE
    )
    document = check(tmp_path)
    assert document["errors"] == []
    assert codes_by_file(document) == {"docker-compose.yml": ["ECO104"], "stack.yaml": ["ECO104"]}


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 1500 + "]" * 1500,
        "x: 1\nb: &x " + "{k: " * 1200 + "1" + "}" * 1200 + "\nc: *x\n",
        "".join(" " * i + "-\n" for i in range(1500)),
        "- " * 1200 + "x\n",
        "ok: [1]\n---\n" + "- " * 1001 + "y\n",
        "- " * 999 + "y\n",
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 1200)) + "  " * 1200 + "v\n",
        "? " + "[" * 1001 + "]" * 1001 + "\n: v\n",
    ],
    ids=[
        "flow",
        "anchored-mapping",
        "block",
        "compact",
        "second-document",
        "just-under",
        "indented-keys",
        "complex-key",
    ],
)
def test_the_depth_read_from_nodes_is_the_depth_read_from_events(text: str) -> None:
    import yaml

    from ecolint.extract import ExtractError, manifests

    def verdict(check) -> object:
        try:
            check()
        except ExtractError as exc:
            return (exc.message, exc.line)
        except yaml.YAMLError as exc:  # PyYAML 6.0.4 and later refuse 1,000 levels in their scanner
            return str(exc)
        return "ok"

    events = verdict(lambda: manifests._check_nesting(text))
    nodes = verdict(lambda: manifests._check_node_nesting(manifests._on_deep_stack(text)))
    assert events == nodes


BILLION_LAUGHS = """\
a: &a ["vllm", "serve", "--quantization", "fp8", "--enforce-eager", "x", "y", "z", "w"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
services:
  llm:
    image: vllm/vllm-openai
    command: *i
    environment: &env {A: *i, B: *i}
  other:
    <<: *i
    environment: *env
jobs:
  serve:
    steps: [{run: *i}, {run: *h}]
spec:
  containers: [{name: x, args: *i, command: *i, env: *i}]
"""


def test_a_yaml_alias_bomb_stays_bounded_in_memory(tmp_path: Path) -> None:
    """9^9 (387 million) strings if expanded: composing keeps aliases as shared nodes, and the
    walks are budgeted, so a real process finishes small (the work itself is counted in
    test_containers; the timeout only catches a hang)."""
    (tmp_path / "docker-compose.yml").write_text(BILLION_LAUGHS)
    (tmp_path / "serve.sh").write_text(FP8_SH)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out_path = tmp_path.parent / f"{tmp_path.name}.out"
    # Linux carries a forked process's peak RSS across exec, so a child forked straight from this
    # (large, long-lived) pytest process would report pytest's size. A small Python launcher
    # forks ecolint instead and reports that child's own peak.
    launcher = (
        "import os, subprocess, sys\n"
        "with open(sys.argv[1], 'w') as out:\n"
        "    child = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL)\n"
        "    _, status, usage = os.wait4(child.pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
    )
    args = [sys.executable, "-m", "ecolint", str(tmp_path), "--isolated", "--format", "json"]
    measured = subprocess.run(
        [sys.executable, "-c", launcher, str(out_path), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, maxrss_kib = measured.stdout.split()
    stdout = out_path.read_text()
    assert int(code) in (0, 1)
    assert int(maxrss_kib) / 1024 < 150, int(maxrss_kib) / 1024
    import json

    document = json.loads(stdout)
    assert "serve.sh" in codes_by_file(document)


def test_yaml_tags_never_construct_objects_and_anchors_merge_keys_work(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "compose.yaml").write_text(
        f"--- !!python/object/apply:os.system ['touch {marker}']\n"
        "---\n"
        "x-base: &base\n"
        "  image: vllm/vllm-openai:latest\n"
        "  command: !custom [--model, Qwen/Qwen2-7B, --quantization, fp8, --enforce-eager]\n"
        "services:\n"
        "  llm:\n"
        "    <<: *base\n"
        "  other: !!map {<<: *base, image: !!str vllm/vllm-openai:v0.6}\n"
        f"  evil: !!python/object/new:subprocess.Popen [[touch, {marker}]]\n"
    )
    document = check(tmp_path)
    assert not marker.exists()
    assert document["errors"] == []
    assert [(f["code"], f["setup"]["label"]) for f in document["findings"]] == [("ECO104", "llm"), ("ECO104", "other")]


# ------------------------------------------------------------------------------------------
# The file system: permissions, links, vanishing files, odd names
# ------------------------------------------------------------------------------------------


def _drop_file_access() -> None:
    """Run as root without the capabilities that bypass file permissions (bounding set, so
    they are gone after exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(97)


def test_unreadable_files_and_directories_really_denied(tmp_path: Path) -> None:
    """A real permission check: as a normal user chmod is enough; as root (CI here) the run
    drops CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH so that the kernel refuses the reads."""
    (tmp_path / "secret.sh").write_text(FP8_SH)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "serve.sh").write_text(FP8_SH)
    (tmp_path / "open.py").write_text(INT8_PY)
    os.chmod(tmp_path / "secret.sh", 0)
    os.chmod(tmp_path / "locked", 0)
    try:
        preexec = _drop_file_access if os.geteuid() == 0 else None
        proc = ecolint_process(str(tmp_path), "--isolated", "--format", "json", cwd=tmp_path, preexec_fn=preexec)
        if proc.returncode == 97:
            pytest.skip("cannot drop the root capabilities that bypass file permissions here")
    finally:
        os.chmod(tmp_path / "locked", 0o755)
        os.chmod(tmp_path / "secret.sh", 0o644)
    assert_clean_exit(proc, (1,))
    import json

    document = json.loads(proc.stdout)
    errors = errors_by_file(document)
    assert errors == {
        "secret.sh": "cannot read: Permission denied",
        "locked": "cannot read directory: permission denied",
    }
    assert codes_by_file(document) == {"open.py": ["ECO101", "ECO103"]}


def test_unreadable_files_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "secret.sh").write_text(FP8_SH)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "serve.sh").write_text(FP8_SH)
    (tmp_path / "open.sh").write_text(FP8_SH)
    real_open, real_scandir = os.open, os.scandir

    def open_file(path, flags, *args):
        if Path(path).name == "secret.sh":
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    def scandir(path):
        if Path(path).name == "sub":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(engine.os, "open", open_file)
    monkeypatch.setattr(discover.os, "scandir", scandir)
    document = check(tmp_path)
    assert errors_by_file(document) == {
        "secret.sh": "cannot read: Permission denied",
        "sub": "cannot read directory: permission denied",
    }
    assert codes_by_file(document) == {"open.sh": ["ECO104"]}


def test_symlink_loops_end(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "serve.sh").write_text(FP8_SH)
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    (tmp_path / "a" / "self").symlink_to(tmp_path / "a")
    (tmp_path / "b").symlink_to(tmp_path / "c")
    (tmp_path / "c").symlink_to(tmp_path / "b")  # a two-link cycle: resolving it fails
    (tmp_path / "dangling.sh").symlink_to(tmp_path / "missing.sh")
    proc = ecolint_process(str(tmp_path), "--isolated", "--format", "json", cwd=tmp_path, timeout=60)
    assert_clean_exit(proc, (1,))
    import json

    document = json.loads(proc.stdout)
    assert [(f["path"], f["code"]) for f in document["findings"]] == [("a/serve.sh", "ECO104")]


def test_symlinks_out_of_the_scanned_root_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "serve.sh").write_text(FP8_SH)
    root = tmp_path / "project"
    root.mkdir()
    (root / "linked_dir").symlink_to(outside)
    (root / "linked.sh").symlink_to(outside / "serve.sh")
    (root / "inner").mkdir()
    (root / "inner" / "app.py").write_text(INT8_PY)
    (root / "alias").symlink_to(root / "inner")  # inside the root: followed, reported once
    document = check(root)
    assert document["errors"] == []
    assert codes_by_file(document) == {"app.py": ["ECO101", "ECO103"]}
    assert {f["path"] for f in document["findings"]} == {"inner/app.py"}


def test_files_and_directories_that_vanish_during_the_scan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("a.sh", "b.sh", "c.sh"):
        (tmp_path / name).write_text(FP8_SH)
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "x.sh").write_text(FP8_SH)
    real_walk = discover.walk

    def walk(*args, **kwargs):
        for path, explicit, problem in real_walk(*args, **kwargs):
            if path.name == "a.sh" and (tmp_path / "gone").exists():  # the first walk (the project pass's)
                (tmp_path / "b.sh").unlink()  # listed, then gone before it is read
                for child in (tmp_path / "gone").iterdir():
                    child.unlink()
                (tmp_path / "gone").rmdir()  # listed, gone before it is entered
            yield path, explicit, problem

    monkeypatch.setattr(discover, "walk", walk)
    document = check(tmp_path)
    assert document["errors"] == []
    assert sorted(codes_by_file(document)) == ["a.sh", "c.sh"]


def test_a_path_given_on_the_command_line_that_vanishes_or_is_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "dangling.sh").symlink_to(tmp_path / "nowhere.sh")
    proc = ecolint_process(str(tmp_path / "dangling.sh"), str(tmp_path / "missing.sh"), "--isolated", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.sh" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = ecolint_process(str(tmp_path / "dangling.sh"), "--isolated", cwd=tmp_path)
    assert_clean_exit(proc, (0,))


@pytest.mark.parametrize("fmt", ["json", "text", "sarif", "github"])
def test_paths_with_spaces_newlines_and_non_ascii(tmp_path: Path, fmt: str) -> None:
    odd = tmp_path / "dir with spaces" / "naïve ünïcode 模型"
    odd.mkdir(parents=True)
    (odd / "serve me.sh").write_text(FP8_SH)
    (odd / "line\nbreak.sh").write_text(FP8_SH)
    (odd / "tab\there.py").write_text(INT8_PY)
    ran = run_cli(".", "--isolated", "--format", fmt, cwd=tmp_path)
    assert ran.exit_code == 1, ran.stderr
    if fmt == "json":
        paths = sorted({f["path"] for f in ran.json()["findings"]})
        assert paths == sorted(
            f"dir with spaces/naïve ünïcode 模型/{name}" for name in ("line\nbreak.sh", "serve me.sh", "tab\there.py")
        )
    elif fmt == "sarif":
        import json

        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(ran.output)["runs"][0]["results"]
        }
        assert len(uris) == 3 and all(" " not in uri and "\n" not in uri for uri in uris)
    elif fmt == "github":
        assert all(line.startswith("::") for line in ran.output.splitlines())
    else:
        assert "serve me.sh" in ran.output and "模型" in ran.output


def test_a_non_utf8_file_name(tmp_path: Path) -> None:
    name = os.fsdecode(b"serve-\xff\xfe.sh")  # surrogate-escaped, as Linux hands it over
    (tmp_path / name).write_text(FP8_SH)
    proc = ecolint_process(".", "--isolated", "--format", "json", cwd=tmp_path)
    assert_clean_exit(proc, (1,))
    proc = ecolint_process(".", "--isolated", cwd=tmp_path)
    assert_clean_exit(proc, (1,))
    assert "ECO104" in proc.stdout


# ------------------------------------------------------------------------------------------
# Never execute, never write
# ------------------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    state = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            state[str(path)] = ("link:" + os.readlink(path), 0)
        elif path.is_file():
            state[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        else:
            state[str(path)] = ("dir", 0)
    return state


def test_nothing_is_executed_imported_or_written(tmp_path: Path) -> None:
    marker = tmp_path.parent / f"{tmp_path.name}-executed"
    tree = tmp_path / "tree"
    tree.mkdir()
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    (tree / "app.py").write_text(payload + "import evil_module\n" + INT8_PY)
    (tree / "evil_module.py").write_text(payload + "from_pretrained = 1\n")
    (tree / "conftest.py").write_text(payload)
    (tree / "setup.py").write_text(payload + "from_pretrained(LLM())\n")
    (tree / "serve.sh").write_text(f"touch {marker}\n$(touch {marker})\n`touch {marker}`\n" + FP8_SH)
    (tree / "Dockerfile").write_text(
        f'FROM vllm/vllm-openai\nRUN touch {marker}\nCMD ["--model", "Qwen/Qwen2-7B", "--quantization", "fp8", "--enforce-eager"]\n'
    )
    (tree / "compose.yaml").write_text(f"x: !!python/object/apply:os.system ['touch {marker}']\n" + FP8_COMPOSE)
    (tree / ".env").write_text(f"MODEL=$(touch {marker})\n")
    before = _snapshot(tree)
    proc = ecolint_process(str(tree), "--isolated", "--format", "json", cwd=tree)
    assert_clean_exit(proc)
    assert not marker.exists()
    assert _snapshot(tree) == before  # no cache, no __pycache__, no report left behind
    out = tmp_path / "report.json"
    proc = ecolint_process(str(tree), "--isolated", "--format", "json", "--output", str(out), cwd=tree)
    assert_clean_exit(proc)
    assert out.is_file() and _snapshot(tree) == before and not marker.exists()


def test_exit_codes_of_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "clean.sh").write_text("echo hello\n")
    assert_clean_exit(ecolint_process(str(tmp_path), "--isolated"), (0,))
    (tmp_path / "serve.sh").write_text(FP8_SH)
    assert_clean_exit(ecolint_process(str(tmp_path), "--isolated"), (1,))
    assert_clean_exit(ecolint_process(str(tmp_path), "--isolated", "--exit-zero"), (0,))
    usage = ecolint_process(str(tmp_path), "--isolated", "--format", "nope")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    (tmp_path / "ecolint.toml").write_text("this is = = not toml\n")
    config = ecolint_process(str(tmp_path))
    assert config.returncode == 2 and "invalid TOML" in config.stderr and "Traceback" not in config.stderr


# ------------------------------------------------------------------------------------------
# The prefilter never drops a file the extractor would find a setup in (found by the fuzz run)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, codes",
    [
        (
            'from vllm import LLM as Engine\nllm = Engine("Qwen/Qwen2-7B", quantization="fp8", enforce_eager=True)\n',
            ["ECO104"],
        ),
        (
            'from transformers import pipeline as make\np = make("text-generation", model="Qwen/Qwen2-1.5B", model_kwargs={"load_in_8bit": True})\n',
            ["ECO101", "ECO103"],
        ),
        (
            'from vllm import AsyncEngineArgs\nargs = AsyncEngineArgs(model="Qwen/Qwen2-7B", quantization="fp8", enforce_eager=True)\n',
            ["ECO104"],
        ),
        ('"""Docs: model.from_pretrained(x)"""\n# LLM(model=...)\nx = 1\n', []),
    ],
    ids=["aliased-LLM", "aliased-pipeline", "engine-args", "only-in-docs"],
)
def test_the_prefilter_keeps_every_file_with_a_setup(tmp_path: Path, source: str, codes: list[str]) -> None:
    (tmp_path / "app.py").write_text(source)
    document = check(tmp_path)
    assert sorted({f["code"] for f in document["findings"]}) == codes
    assert document["errors"] == []


def test_fifos_and_devices_with_source_names_are_never_opened(tmp_path: Path) -> None:
    """Reading a named pipe blocks forever: walked or named on the command line, it is skipped."""
    os.mkfifo(tmp_path / "serve.sh")
    os.mkfifo(tmp_path / "Dockerfile")
    (tmp_path / "zero.py").symlink_to("/dev/zero")  # outside the root as well
    (tmp_path / "real.sh").write_text(FP8_SH)
    proc = ecolint_process(
        str(tmp_path), str(tmp_path / "serve.sh"), "--isolated", "--format", "json", cwd=tmp_path, timeout=60
    )
    assert_clean_exit(proc, (1,))
    import json

    document = json.loads(proc.stdout)
    assert codes_by_file(document) == {"real.sh": ["ECO104"]} and document["errors"] == []


def test_a_function_that_calls_itself_with_a_value_made_from_its_parameter_is_read(tmp_path: Path) -> None:
    """transformers' GenerationMixin.generate passes a value computed from its own parameter to
    itself: resolving the parameter through its call sites went round that loop until Python's
    recursion limit (ECO001 "too deeply nested"). The loop is cut and the file is read."""
    (tmp_path / "gen.py").write_text(
        "from transformers import AutoModelForCausalLM\n"
        "\n"
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B", torch_dtype="auto")\n'
        "\n"
        "\n"
        "def pick(custom):\n"
        '    if custom == "legacy":\n'
        '        return "org/legacy-decoding"\n'
        "    return None\n"
        "\n"
        "\n"
        "def run(prompts, custom=None):\n"
        "    repo = pick(custom)\n"
        "    if repo is None:\n"
        "        return [model.generate(p) for p in prompts]\n"
        "    return run(prompts, custom=repo)\n"
        "\n"
        "\n"
        'for line in open("prompts.txt"):\n'
        "    run([line])\n"
    )
    document = run_cli(str(tmp_path), "--isolated", "--format", "json", "--exit-zero", cwd=tmp_path).json()
    assert document["errors"] == []
    assert [f["code"] for f in document["findings"]] == ["ECO105"]


def test_a_dict_rewritten_from_itself_cell_after_cell_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook-style script that rebuilds `inputs` and casts one of its entries in place
    (`inputs["pixel_values"] = inputs["pixel_values"].to(dtype)`) before each generate(): the
    dict is looked into once per use, not once per earlier binding and write (three such cells
    took 168,000 lookups, five took minutes). Counted in lookups, not timed."""
    from ecolint.extract.python import frameworks

    cell = (
        'inputs = proc(text="q{i}", return_tensors="pt")\n'
        'inputs["pixel_values"] = inputs["pixel_values"].to(torch.bfloat16)\n'
        "out = model.generate(**inputs, max_new_tokens=16)\n"
    )
    source = (
        "import torch\n"
        "from transformers import AutoModelForCausalLM, AutoProcessor\n"
        'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2-VL-7B-Instruct")\n'
        'proc = AutoProcessor.from_pretrained("Qwen/Qwen2-VL-7B-Instruct")\n'
    ) + "".join(cell.format(i=i) for i in range(3))
    (tmp_path / "cells.py").write_text(source)
    lookups = 0
    real = frameworks._Recognition._registry_entry

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal lookups
        lookups += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(frameworks._Recognition, "_registry_entry", counted)
    ran = run_cli("check", "cells.py", "--isolated", "--no-cache", "--exit-zero", cwd=tmp_path)
    assert ran.exit_code == 0 and "ECO001" not in ran.output
    assert lookups < 100, lookups
