"""What a user sees in a terminal: encodings, formats, colour, several outputs in one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"  # ECO104, a warning


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`python -m ecolint ARGS` in a process of its own, so the console encoding is real."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONIOENCODING")}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "ecolint", *args], cwd=cwd, env=environment, capture_output=True)


# -- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_a_console_that_cannot_encode_stars_gets_an_ascii_report(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_process(".", "--gpu", "RTX 4090D", cwd=tmp_path, env={"PYTHONIOENCODING": encoding})
    assert ran.returncode == 1, ran.stderr
    out = ran.stdout.decode(encoding)
    assert "internal error" not in ran.stderr.decode(encoding)
    assert "serve.sh:1:" in out and "ECO104 [***]" in out
    assert "+158-701% energy per request" in out
    assert "Found 1 finding" in out


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_a_clean_run_on_an_ascii_console_exits_zero(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    ran = run_process(".", cwd=tmp_path, env={"PYTHONIOENCODING": encoding})
    assert ran.returncode == 0, ran.stderr
    assert "No findings" in ran.stdout.decode(encoding)


def test_machine_formats_stay_utf8_on_an_ascii_console(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_process(".", "--format", "json", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert ran.returncode == 1, ran.stderr
    document = json.loads(ran.stdout.decode("utf-8"))
    assert "+158–701%" in document["findings"][0]["message"]


def test_rule_docs_print_on_an_ascii_console(tmp_path: Path) -> None:
    ran = run_process("rule", "ECO101", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert ran.returncode == 0, ran.stderr
    assert "## What it does" in ran.stdout.decode("ascii")


def test_a_utf8_console_keeps_the_stars(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--gpu", "RTX 4090D", cwd=tmp_path)
    assert "ECO104 [★★★]" in ran.output


# -- the full text format and --format concise -------------------------------------------------


def test_full_text_shows_severity_and_says_run_wide_notes_once(tmp_path: Path) -> None:
    (tmp_path / "a.sh").write_text(FP8_EAGER)
    (tmp_path / "b.sh").write_text(FP8_EAGER)
    ran = run_cli(".", cwd=tmp_path)
    assert ran.exit_code == 1
    assert "a.sh:1:" in ran.output and "ECO104 [★☆☆] warning FP8 in eager mode" in ran.output
    assert ran.output.count("no GPU stated") == 1
    assert "Notes for the whole run:\n  no GPU stated: assumed RTX 4090D (set --gpu" in ran.output
    assert "applies to all 2 findings" in ran.output


def test_per_finding_notes_stay_on_their_finding(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--gpu", "RTX 4090D", cwd=tmp_path)
    assert "  note      RTX 4090D is a measured GPU" in ran.output
    assert "Notes for the whole run" not in ran.output


def test_concise_is_one_line_per_finding(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    (tmp_path / "bad.sh").write_bytes(b"vllm serve \xff\n")
    ran = run_cli(".", "--format", "concise", "--gpu", "RTX 4090D", cwd=tmp_path)
    assert ran.exit_code == 1
    assert ran.output.splitlines() == [
        "serve.sh:1:45: ECO104 [★★★] warning FP8 in eager mode: FP8 with CUDA graphs disabled (eager mode) (+158–701%)",
        "bad.sh:1:1: ECO001 error not valid utf-8-sig text: invalid start byte",
        "Found 1 finding (1 warning) in 1 file; 2 files checked; 1 could not be read (ECO001).",
    ]


def test_concise_says_the_run_notes_once_at_the_end(tmp_path: Path) -> None:
    (tmp_path / "a.sh").write_text(FP8_EAGER)
    (tmp_path / "b.sh").write_text(FP8_EAGER)
    lines = run_cli(".", "--format", "concise", cwd=tmp_path).output.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["a.sh", "b.sh"]
    assert lines[2].startswith("note: no GPU stated: assumed RTX 4090D")
    assert lines[3].startswith("Found 2 findings")


def test_output_format_is_another_name_for_format(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--output-format", "json", cwd=tmp_path)
    assert ran.exit_code == 1 and ran.json()["findings"][0]["code"] == "ECO104"
    assert ran.output == run_cli(".", "--format", "json", cwd=tmp_path).output


def test_the_format_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    monkeypatch.setenv("ECOLINT_OUTPUT_FORMAT", "concise")
    assert len(run_cli(".", cwd=tmp_path).output.splitlines()) == 3  # finding, run note, summary
    ran = run_cli(".", "--format", "json", cwd=tmp_path)  # the command line wins
    assert ran.json()["findings"][0]["code"] == "ECO104"
    monkeypatch.setenv("ECOLINT_OUTPUT_FORMAT", "xml")
    ran = run_cli(".", cwd=tmp_path)
    assert ran.exit_code == 2 and "'xml' is not one of" in ran.stderr


# -- several outputs in one run ---------------------------------------------------------------


def test_every_output_file_in_one_run_alongside_the_terminal_report(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(
        ".",
        "--format",
        "concise",
        "--json-output",
        "out/r.json",
        "--sarif-output",
        "r.sarif",
        "--gitlab-output",
        "gl.json",
        "--junit-output",
        "junit.xml",
        "--rdjson-output",
        "rd.json",
        cwd=tmp_path,
    )
    assert ran.exit_code == 2 and "out/r.json: cannot write the report:" in ran.stderr  # no out/ directory
    assert "Traceback" not in ran.stderr
    (tmp_path / "out").mkdir()
    ran = run_cli(
        ".",
        "--format",
        "concise",
        "--json-output",
        "out/r.json",
        "--sarif-output",
        "r.sarif",
        "--gitlab-output",
        "gl.json",
        "--junit-output",
        "junit.xml",
        "--rdjson-output",
        "rd.json",
        cwd=tmp_path,
    )
    assert ran.exit_code == 1
    assert ran.output.startswith("serve.sh:1:45: ECO104 [★☆☆] warning FP8 in eager mode")
    assert json.loads((tmp_path / "out/r.json").read_text("utf-8"))["findings"][0]["code"] == "ECO104"
    sarif = json.loads((tmp_path / "r.sarif").read_text("utf-8"))
    assert sarif["runs"][0]["results"][0]["ruleId"] == "ECO104"
    assert json.loads((tmp_path / "gl.json").read_text("utf-8"))[0]["check_name"] == "ECO104"
    assert ET.parse(tmp_path / "junit.xml").getroot().get("failures") == "1"
    assert json.loads((tmp_path / "rd.json").read_text("utf-8"))["diagnostics"][0]["code"]["value"] == "ECO104"


def test_output_files_hold_the_same_findings_as_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    ran = run_cli(".", "--format", "json", "--sarif-output", "r.sarif", cwd=tmp_path)
    assert ran.exit_code == 1
    sarif = json.loads((tmp_path / "r.sarif").read_text("utf-8"))
    assert [r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif["runs"][0]["results"]] == [
        f["fingerprint"] for f in ran.json()["findings"]
    ]


def test_an_output_file_that_cannot_be_written_names_the_file_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    (tmp_path / "taken").mkdir()
    ran = run_cli(".", "--junit-output", "taken/", cwd=tmp_path)
    assert ran.exit_code == 2 and "Traceback" not in ran.stderr
    ran = run_cli(".", "--gitlab-output", "serve.sh/x.json", cwd=tmp_path)
    assert ran.exit_code == 2
    assert ran.stderr.strip() == "ecolint: error: serve.sh/x.json: cannot write the report: Not a directory"


# -- colour ----------------------------------------------------------------------------------

ESC = "\x1b["


def test_no_colour_when_piped_and_colour_when_asked(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    assert ESC not in run_cli(".", cwd=tmp_path).output
    coloured = run_cli(".", "--format", "concise", "--color", "always", cwd=tmp_path).output
    assert "\x1b[1mserve.sh:1:45:\x1b[0m" in coloured  # the path, bold
    assert "\x1b[31m\x1b[1mECO104\x1b[0m" in coloured  # the code, bold red
    assert "\x1b[33mwarning\x1b[0m" in coloured  # the severity, in its colour


def test_force_color_and_color_never(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in run_cli(".", cwd=tmp_path).output
    assert ESC not in run_cli(".", "--color", "never", cwd=tmp_path).output


def test_a_report_file_is_never_coloured(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    run_cli(".", "--color", "always", "--output", "report.txt", cwd=tmp_path)
    text = (tmp_path / "report.txt").read_text("utf-8")
    assert "ECO104" in text and ESC not in text


def run_on_a_terminal(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The process's standard output is a pseudo-terminal, as in an interactive shell."""
    import pty

    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update({"PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "ecolint", *args], cwd=tmp_path, env=environment, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_colour_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    assert ESC in run_on_a_terminal(tmp_path, ".", "--format", "concise")
    plain = run_on_a_terminal(tmp_path, ".", "--format", "concise", env={"NO_COLOR": "1"})
    assert "serve.sh:1:45: ECO104" in plain and ESC not in plain


# -- standard input --------------------------------------------------------------------------


def run_stdin(data: str, *args: str, cwd: Path) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from ecolint.cli import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), input=data.encode("utf-8"), catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def test_stdin_is_checked_as_the_file_stdin_filename_names(tmp_path: Path) -> None:
    (tmp_path / "ecolint.toml").write_text('gpu = "A100"\n[per-file-ignores]\n"tests/*" = ["ECO104"]\n')
    code, out, _ = run_stdin(FP8_EAGER, "-", "--stdin-filename", "deploy/serve.sh", "--format", "json", cwd=tmp_path)
    assert code == 1
    finding = json.loads(out)["findings"][0]
    assert (finding["code"], finding["path"], finding["setup"]["gpu"]) == ("ECO104", "deploy/serve.sh", "A100")
    code, out, _ = run_stdin(FP8_EAGER, "-", "--stdin-filename", "tests/serve.sh", "--format", "json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["findings"] == []  # per-file-ignores matched the given path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ecolint.toml"]  # nothing written


def test_stdin_honours_inline_ignores_and_writes_no_cache(tmp_path: Path) -> None:
    text = FP8_EAGER.rstrip("\n") + "  # ecolint: ignore[ECO104]\n"
    code, out, _ = run_stdin(text, "-", "--stdin-filename", "serve.sh", "--cache-dir", "cache", cwd=tmp_path)
    assert code == 0 and "No findings; 1 file checked." in out
    assert not (tmp_path / "cache").exists()


def test_stdin_without_a_filename_is_python(tmp_path: Path) -> None:
    python = 'from vllm import LLM\nllm = LLM(model="Qwen/Qwen2-7B", quantization="fp8", enforce_eager=True)\n'
    code, out, _ = run_stdin(python, "-", "--format", "concise", cwd=tmp_path)
    assert code == 1 and out.startswith("-:2:")


def test_stdin_cannot_be_mixed_with_paths_or_fixes(tmp_path: Path) -> None:
    code, _, err = run_stdin(FP8_EAGER, "-", ".", cwd=tmp_path)
    assert code == 2 and "'-' (standard input) cannot be combined with other paths" in err
    code, _, err = run_stdin(FP8_EAGER, "-", "--fix", "--stdin-filename", "serve.sh", cwd=tmp_path)
    assert code == 2 and "do not read standard input" in err


def test_the_readme_says_what_the_demo_prints_and_why_it_exits_1() -> None:
    ran = run_cli("examples/demo", cwd=REPO)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    summary = ran.output.splitlines()[-2]
    assert ran.exit_code == 1 and summary == "Found 9 findings (9 warnings) in 6 files; 9 files checked."
    assert f"then `{summary}` and the evidence footer" in readme
    assert "so the command exits 1" in readme


def test_the_cache_can_be_set_and_turned_off_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "serve.sh").write_text(FP8_EAGER)
    monkeypatch.delenv("ECOLINT_NO_CACHE")  # set by conftest.py for the repository's sake
    monkeypatch.setenv("ECOLINT_CACHE_DIR", str(tmp_path / "cache"))
    assert run_cli(".", cwd=tmp_path).exit_code == 1
    assert (tmp_path / "cache").is_dir()
    monkeypatch.setenv("ECOLINT_CACHE_DIR", str(tmp_path / "other"))
    monkeypatch.setenv("ECOLINT_NO_CACHE", "1")
    assert run_cli(".", cwd=tmp_path).exit_code == 1
    assert not (tmp_path / "other").exists()


# -- progress on a terminal ------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal:
    def __init__(self, tty: bool = True) -> None:
        self.text = ""
        self.tty = tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


def test_progress_shows_after_two_seconds_and_is_wiped() -> None:
    from ecolint.report.progress import ProgressLine

    clock, terminal = FakeClock(), Terminal()
    line = ProgressLine(terminal, clock)
    line(10, None)
    assert terminal.text == ""  # a short run shows nothing
    clock.now += 2.5
    line(1200, None)
    clock.now += 1
    line(5400, 5400)
    assert terminal.text == "\rchecked 1200 files\rchecked 5400/5400 files"
    line.close()
    assert terminal.text.endswith("\r" + " " * len("checked 5400/5400 files") + "\r")


def test_progress_only_on_a_terminal_and_never_in_ci() -> None:
    from ecolint.report.progress import wanted

    assert wanted(Terminal(), env={})
    assert not wanted(Terminal(), env={"CI": "true"})
    assert not wanted(Terminal(tty=False), env={})


def test_the_engine_reports_files_done(tmp_path: Path) -> None:
    from ecolint import knowledge
    from ecolint.config import Config
    from ecolint.engine import Selection, run

    for number in range(70):  # enough for the worker processes
        (tmp_path / f"s{number}.sh").write_text(FP8_EAGER)
    seen: list[tuple[int, int | None]] = []
    result = run(
        [tmp_path], knowledge.load(), Config(), Selection(codes=["ECO104"]), progress=lambda d, t: seen.append((d, t))
    )
    assert len(result.findings) == 70
    assert seen[-1][0] == 70 and seen[-1][1] in (70, None)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_the_readme_examples_are_what_the_demo_prints() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A finding", 1)[1]
    full_block, concise_block = (part.split("```", 1)[0].strip("\n") for part in section.split("```text\n")[1:3])
    assert full_block + "\n\n" in run_cli("examples/demo", cwd=REPO).output
    assert concise_block + "\n" in run_cli("examples/demo", "--format", "concise", cwd=REPO).output


def test_the_setup_says_when_the_model_is_a_command_line_default(tmp_path: Path) -> None:
    """A model id that is an argparse default is often a placeholder (`facebook/opt-350m`):
    the setup line says so, and the JSON gives how the code gives the id (model_source)."""
    (tmp_path / "eval.py").write_text(
        "import argparse\n"
        "from transformers import AutoModelForCausalLM\n"
        "parser = argparse.ArgumentParser()\n"
        'parser.add_argument("--model-path", default="facebook/opt-350m")\n'
        "args = parser.parse_args()\n"
        "model = AutoModelForCausalLM.from_pretrained(args.model_path, load_in_8bit=True)\n"
        'other = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B", load_in_8bit=True)\n'
    )
    document = run_cli(str(tmp_path), "--isolated", "--format", "json", "--exit-zero", cwd=tmp_path).json()
    sources = {f["setup"]["model"]: f["setup"]["model_source"] for f in document["findings"]}
    assert sources == {"facebook/opt-350m": "argparse-default", "Qwen/Qwen2.5-7B": "literal"}
    text = run_cli(str(tmp_path), "--isolated", "--exit-zero", cwd=tmp_path).output
    assert "facebook/opt-350m (0.35B, from the id, a command-line default)" in text
    assert "Qwen/Qwen2.5-7B (7B, from the id) ·" in text
