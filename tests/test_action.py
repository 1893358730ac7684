"""The GitHub Action (action.yml): its structure, and its shell steps run here against a fixture
tree with a simulated GITHUB_* environment. The install step (a venv and pip) and the `uses:`
steps are GitHub's to run; the test puts this checkout's ecolint on PATH instead."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO

from ecolint import __version__

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"  # ECO104, a warning
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in STEPS if s.get("id") == step_id)


def test_the_action_is_composite_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"paths", "args", "gpu", "fail-on", "upload-sarif", "python-version"}
    assert ACTION["inputs"]["paths"]["default"] == "." and ACTION["inputs"]["upload-sarif"]["default"] == "false"
    assert set(ACTION["outputs"]) == {"exit-code", "sarif-file"}


def test_ecolint_is_installed_from_the_actions_own_checkout() -> None:
    install = step("install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip install --quiet --disable-pip-version-check "$ACTION_PATH"' in install["run"]


def test_sarif_is_uploaded_to_code_scanning_only_when_asked() -> None:
    upload = next(s for s in STEPS if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert "inputs.upload-sarif == 'true'" in upload["if"] and upload["if"].startswith("always()")
    assert upload["with"] == {"sarif_file": "${{ steps.run.outputs.sarif-file }}", "category": "ecolint"}


def test_no_input_is_spliced_into_a_script() -> None:
    """Inputs reach the scripts through env: `${{ inputs.x }}` in a run: script would let a
    value become shell code (script injection)."""
    for s in STEPS:
        if "run" in s:
            assert "${{" not in s["run"], s.get("id")
            assert s["shell"] == "bash"


# -- the shell steps, run locally --------------------------------------------------------------


def evaluate(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    """The few expressions the action's env blocks use."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression.startswith("steps."):
            _, step_id, _, name = expression.split(".", 3)
            return outputs.get(step_id, {}).get(name, "")
        if expression == "github.action_path":
            return str(REPO)
        raise AssertionError(f"unexpected expression {expression}")

    return _EXPRESSION.sub(value, text)


def run_action(workspace: Path, tmp_path: Path, **given: str) -> tuple[int, dict[str, str], str]:
    """Run every shell step but install, in order, as the runner would (`shell: bash` is
    `bash --noprofile --norc -eo pipefail`): the verdict step's exit code, the run step's
    outputs, and the job summary."""
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    inputs.update(given)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    outputs: dict[str, dict[str, str]] = {}
    summary_text = ""
    code = -1
    for s in STEPS:
        if "run" not in s or s.get("id") == "install":
            continue
        output_file, summary_file = tmp_path / f"{s['id']}.out", tmp_path / f"{s['id']}.summary"
        output_file.write_text("")
        summary_file.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "NO_COLOR", "FORCE_COLOR"))}
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONPATH": str(REPO),
                "RUNNER_TEMP": str(runner_temp),
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_ACTION_PATH": str(REPO),
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_STEP_SUMMARY": str(summary_file),
                "GITHUB_ACTIONS": "true",
            }
        )
        env.update({key: evaluate(str(value), inputs, outputs) for key, value in (s.get("env") or {}).items()})
        ran = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
        )
        outputs[s["id"]] = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        summary_text += summary_file.read_text()
        code = ran.returncode
        if s["id"] != "verdict":
            assert ran.returncode == 0, (s["id"], ran.stderr)  # the job goes on to the summary
        if s["id"] == "run":
            outputs["run"]["stdout"] = ran.stdout
    return code, outputs["run"], summary_text


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    tree = tmp_path / "repo"
    (tree / "deploy").mkdir(parents=True)
    (tree / "deploy" / "serve.sh").write_text(FP8_EAGER)
    (tree / "app.py").write_text("print('hello')\n")
    return tree


def test_findings_fail_the_job_with_annotations_and_a_summary(workspace: Path, tmp_path: Path) -> None:
    code, outputs, summary = run_action(workspace, tmp_path, gpu="RTX 4090D")
    assert code == 1 and outputs["exit-code"] == "1"
    assert "::warning file=deploy/serve.sh,line=1,col=45" in outputs["stdout"]
    assert "## ecolint" in summary and "**1 finding** (1 warning) in 2 files checked." in summary
    assert "| warning | ★★★ | ECO104 fp8-without-compile | `deploy/serve.sh:1:45` |" in summary
    assert "sarif-file" not in outputs


def test_inputs_reach_ecolint(workspace: Path, tmp_path: Path) -> None:
    code, outputs, summary = run_action(
        workspace, tmp_path, paths="app.py deploy", args="--ignore ECO104", **{"fail-on": "error"}
    )
    assert code == 0 and outputs["exit-code"] == "0"
    assert "No findings in 2 files checked." in summary
    (tmp_path / "again").mkdir()
    code, _, summary = run_action(workspace, tmp_path / "again", **{"fail-on": "error"})
    assert code == 0 and "**1 finding** (1 warning)" in summary  # a warning does not reach --fail-on error


def test_upload_sarif_writes_the_sarif_file(workspace: Path, tmp_path: Path) -> None:
    code, outputs, _ = run_action(workspace, tmp_path, **{"upload-sarif": "true"})
    assert code == 1
    sarif = json.loads(Path(outputs["sarif-file"]).read_text("utf-8"))
    assert sarif["runs"][0]["results"][0]["ruleId"] == "ECO104"


def test_a_usage_error_fails_the_job(workspace: Path, tmp_path: Path) -> None:
    code, outputs, summary = run_action(workspace, tmp_path, args="--select NOPE")
    assert code == 2 and outputs["exit-code"] == "2" and summary == ""


# -- the version the docs show --------------------------------------------------------------


def test_the_docs_show_this_version() -> None:
    """`rev:` for pre-commit and `@v…` for the action are the released tag of this version."""
    tag = f"v{__version__}"
    texts = {name: (REPO / name).read_text(encoding="utf-8") for name in ("docs/integrations.md", "README.md")}
    texts["action.yml"] = (REPO / "action.yml").read_text(encoding="utf-8")
    shown = [
        (name, found)
        for name, text in texts.items()
        for found in re.findall(r"rev: (v[\w.]+)|ecolint/ecolint@(v[\w.]+)", text)
    ]
    assert any(name == "docs/integrations.md" for name, _ in shown)
    for name, (rev, ref) in shown:
        assert (rev or ref) == tag, name


def test_summary_cells_keep_pipes_and_line_breaks_inside_the_table() -> None:
    from ecolint.report.markdown import cell

    assert cell("a|b\nc  d") == "a\\|b c d"
