"""Command lines of the repository that run its Python scripts (ecolint/invocations.py): the
values they pass reach the script's argparse, click, typer and python-fire parameters, decide
its branches, and the findings name the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

LOAD = "AutoModelForCausalLM.from_pretrained(model_id, quantization_config=BitsAndBytesConfig(load_in_8bit=int8))"
HEAD = "from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"

CLICK = (
    "import click\n" + HEAD + "@click.command()\n"
    '@click.option("--model-id", default="Qwen/Qwen2.5-7B-Instruct")\n'
    '@click.option("--int8/--no-int8", default=False)\n'
    "def main(model_id, int8):\n"
    f"    model = {LOAD}\n"
    "    print(model.generate(max_new_tokens=8))\n"
    "main()\n"
)
TYPER = (
    "import typer\n" + HEAD + "app = typer.Typer()\n"
    "@app.command()\n"
    "def main(model_id: str, int8: bool = False, port: int = 8000):\n"
    f"    model = {LOAD}\n"
    "    print(model.generate(max_new_tokens=8))\n"
    "app()\n"
)
FIRE = (
    "import fire\n" + HEAD + 'def main(model_id="Qwen/Qwen2.5-7B-Instruct", int8=False):\n'
    f"    model = {LOAD}\n"
    "    print(model.generate(max_new_tokens=8))\n"
    "fire.Fire(main)\n"
)
ARGPARSE_OPTIONAL = (
    "import argparse\n" + HEAD + "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--model-id", default="Qwen/Qwen2.5-7B-Instruct")\n'
    'parser.add_argument("--int8", action=argparse.BooleanOptionalAction, default=False)\n'
    "args = parser.parse_args()\n"
    "model_id, int8 = args.model_id, args.int8\n"
    f"model = {LOAD}\n"
)


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _findings(root: Path, *paths: str) -> list[tuple[str, int, str, str | None]]:
    ran = run_cli(*(paths or (".",)), "--select", "ALL", "--format", "json", "--exit-zero", "--no-cache", cwd=root)
    document = ran.json()
    assert document["errors"] == []
    return sorted((f["path"], f["line"], f["code"], f["setup"]["label"]) for f in document["findings"])


@pytest.mark.parametrize(
    "script, on, off",
    [
        (CLICK, "--int8 --model-id Qwen/Qwen2.5-14B-Instruct", "--no-int8"),
        (TYPER, "Qwen/Qwen2.5-14B-Instruct --int8 --port 9000", "Qwen/Qwen2.5-14B-Instruct --no-int8"),
        (FIRE, "--model_id=Qwen/Qwen2.5-14B-Instruct --int8", "Qwen/Qwen2.5-14B-Instruct --noint8"),
        (FIRE, "Qwen/Qwen2.5-14B-Instruct True", "--model-id Qwen/Qwen2.5-14B-Instruct --int8=False"),
        (ARGPARSE_OPTIONAL, "--int8", "--no-int8"),
    ],
    ids=["click", "typer", "fire-flags", "fire-positional", "argparse-optional"],
)
def test_a_cli_parameter_takes_the_value_the_command_passes(tmp_path: Path, script: str, on: str, off: str) -> None:
    _tree(tmp_path, {"serve.py": script, "run.sh": f"#!/bin/sh\npython serve.py {on}\npython serve.py {off}\n"})
    line = script.splitlines().index(next(t for t in script.splitlines() if "from_pretrained" in t)) + 1
    # the command that turns int8 on makes the finding, at the Python line, naming the command;
    # the one that turns it off, and the script's own default, make none
    assert _findings(tmp_path) == [("serve.py", line, "ECO101", "invoked by run.sh:2")]


def test_a_command_line_reaches_no_parameter_where_the_script_has_several_entry_points(tmp_path: Path) -> None:
    group = (
        "import click\n" + HEAD + "@click.group()\ndef cli():\n    pass\n"
        '@cli.command()\n@click.option("--int8", is_flag=True)\n'
        'def serve(int8, model_id="Qwen/Qwen2.5-7B-Instruct"):\n'
        f"    model = {LOAD}\n"
        "    print(model.generate(max_new_tokens=8))\n"
        '@cli.command()\n@click.option("--int8", is_flag=True)\ndef bench(int8):\n    pass\n'
        "cli()\n"
    )
    _tree(tmp_path, {"serve.py": group, "run.sh": "#!/bin/sh\npython serve.py --int8\npython serve.py bench --int8\n"})
    # no subcommand named, or another one: the value reaches no loading call
    assert _findings(tmp_path) == []
    (tmp_path / "run.sh").write_text("#!/bin/sh\npython serve.py serve --int8\n")
    assert _findings(tmp_path) == [("serve.py", 9, "ECO101", "invoked by run.sh:2")]


BRANCHED = (
    "import argparse\n" + HEAD + "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--quantize", choices=["none", "8bit"], default="none")\n'
    "args = parser.parse_args()\n"
    'if args.quantize == "8bit":\n'
    "    quant = BitsAndBytesConfig(load_in_8bit=True)\n"
    "else:\n"
    "    quant = None\n"
    'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", quantization_config=quant)\n'
    "print(model.generate(max_new_tokens=8))\n"
)


def test_the_value_a_command_passes_decides_a_branch_as_a_default_does(tmp_path: Path) -> None:
    _tree(tmp_path, {"serve.py": BRANCHED, "run.sh": "#!/bin/sh\npython serve.py --quantize 8bit\n"})
    # the default ("none") takes the else branch: FP16, nothing to report; the command takes the
    # 8-bit branch, and the finding is at that branch's line, naming the command
    assert _findings(tmp_path) == [("serve.py", 7, "ECO101", "invoked by run.sh:2")]
    (tmp_path / "run.sh").write_text("#!/bin/sh\npython serve.py --quantize none\npython serve.py\n")
    assert _findings(tmp_path) == []


def _fingerprints(root: Path) -> list[tuple[int, str, str, str | None]]:
    ran = run_cli(".", "--select", "ALL", "--format", "json", "--exit-zero", "--no-cache", cwd=root)
    return sorted((f["line"], f["code"], f["fingerprint"], f["setup"]["label"]) for f in ran.json()["findings"])


def test_commands_with_the_same_verdict_at_a_line_make_one_finding_naming_them_all(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "serve.py": BRANCHED,
            "run.sh": "#!/bin/sh\npython serve.py --quantize 8bit\n",
            "bench.sh": "#!/bin/sh\npython serve.py --quantize=8bit\n",
        },
    )
    first = _fingerprints(tmp_path)
    assert [(line, code, label) for line, code, _, label in first] == [(7, "ECO101", "invoked by bench.sh:2, run.sh:2")]
    # the same commands written in the other order: the same finding, the same fingerprint
    (tmp_path / "run.sh").write_text("#!/bin/sh\npython serve.py --quantize=8bit\n")
    (tmp_path / "bench.sh").write_text("#!/bin/sh\npython serve.py --quantize 8bit\n")
    assert _fingerprints(tmp_path) == first


def test_a_command_that_gives_the_defaults_setup_is_named_on_the_defaults_finding(tmp_path: Path) -> None:
    always = BRANCHED.replace('default="none"', 'default="8bit"')
    _tree(tmp_path, {"serve.py": always, "run.sh": "#!/bin/sh\npython serve.py --quantize 8bit\npython serve.py\n"})
    # one finding, the defaults' (it says which default chose the branch), naming both commands
    ran = run_cli(".", "--select", "ALL", "--format", "json", "--exit-zero", "--no-cache", cwd=tmp_path)
    [finding] = ran.json()["findings"]
    assert (finding["line"], finding["code"]) == (7, "ECO101")
    assert finding["setup"]["label"] == "also invoked by run.sh:2, run.sh:3"
    assert "(with --quantize's default)" in finding["message"]


def test_the_defaults_and_a_command_that_differ_but_agree_on_a_rule_make_one_finding(tmp_path: Path) -> None:
    handler = BRANCHED.replace(
        "print(model.generate(max_new_tokens=8))\n",
        "from fastapi import FastAPI\napp = FastAPI()\n"
        '@app.post("/chat")\ndef chat(prompt: str):\n    return model.generate(prompt, max_new_tokens=8)\n',
    )
    _tree(tmp_path, {"serve.py": handler, "run.sh": "#!/bin/sh\npython serve.py --quantize 8bit\npython serve.py\n"})
    # FP16 by default (run.sh:3), INT8 from run.sh:2: ECO101 is that command's alone; the
    # per-request generate (ECO105) is both setups' verdict at one line, so one finding
    assert _findings(tmp_path) == [
        ("serve.py", 7, "ECO101", "invoked by run.sh:2"),
        ("serve.py", 15, "ECO105", "also invoked by run.sh:2, run.sh:3"),
    ]


PER_SAMPLE_EVAL = (
    "import argparse\nimport torch\n" + HEAD + "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--batch-size", type=int, default=1)\n'
    "args = parser.parse_args()\n"
    'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", torch_dtype=torch.float16)\n'
    "loader = torch.utils.data.DataLoader(load_dataset(), batch_size=args.batch_size)\n"
    "for batch in loader:\n"
    "    print(model.generate(**batch, max_new_tokens=8))\n"
)
LAUNCH = "python -m torch.distributed.launch --use_env --nproc_per_node ${NPROC:-8} evaluate.py"


@pytest.mark.parametrize(
    "commands, expected",
    [
        # every command of the repository passes the option the finding rests on: its default
        # (one sample at a time) is nobody's run, and each command's own setup is batched
        ([f"{LAUNCH} --batch-size 20", "torchrun evaluate.py --batch-size=8"], []),
        # a command that passes nothing runs the defaults: the finding stays and names it
        ([f"{LAUNCH} --batch-size 20", "python evaluate.py"], [(10, "ECO105", "also invoked by eval.sh:3")]),
        # a command that passes the default's own value runs the defaults too
        ([f"{LAUNCH} --batch-size 1"], [(10, "ECO105", "also invoked by eval.sh:2")]),
    ],
    ids=["all-override", "one-passes-nothing", "one-passes-the-default"],
)
def test_a_default_every_command_overrides_makes_no_finding(
    tmp_path: Path, commands: list[str], expected: list[tuple[int, str, str]]
) -> None:
    _tree(tmp_path, {"evaluate.py": PER_SAMPLE_EVAL, "eval.sh": "#!/bin/sh\n" + "\n".join(commands) + "\n"})
    found = [(line, code, label) for _, line, code, label in _findings(tmp_path) if code == "ECO105"]
    assert found == expected


UNNAMED_MODEL = (
    "import argparse\n" + HEAD + "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--model_name_or_path", type=str)\n'
    "args = parser.parse_args()\n"
    'model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, device_map="auto", load_in_8bit=True)\n'
)


@pytest.mark.parametrize(
    "commands, expected",
    [
        # the defaults leave the model unknown and every command names it: one finding, the
        # command's (the defaults' own, on an unknown model, said less and differently)
        (["python chat.py --model_name_or_path FlagAlpha/Atom-7B"], [(6, "ECO101", "invoked by run.sh:2")]),
        # a command that names no model runs the defaults: their finding stays beside the other
        (
            ["python chat.py --model_name_or_path FlagAlpha/Atom-7B", "python chat.py"],
            [(6, "ECO101", "also invoked by run.sh:3"), (6, "ECO101", "invoked by run.sh:2")],
        ),
    ],
    ids=["every-command-names-it", "one-names-none"],
)
def test_a_model_every_command_names_leaves_no_finding_of_the_defaults(
    tmp_path: Path, commands: list[str], expected: list[tuple[int, str, str]]
) -> None:
    _tree(tmp_path, {"chat.py": UNNAMED_MODEL, "run.sh": "#!/bin/sh\n" + "\n".join(commands) + "\n"})
    assert [(line, code, label) for _, line, code, label in _findings(tmp_path)] == expected


def test_a_default_of_a_script_no_command_runs_keeps_its_finding(tmp_path: Path) -> None:
    _tree(tmp_path, {"evaluate.py": PER_SAMPLE_EVAL})
    assert [f for f in _findings(tmp_path) if f[2] == "ECO105"] == [("evaluate.py", 10, "ECO105", None)]


def test_a_command_on_a_gpu_its_platform_states_keeps_its_own_finding(tmp_path: Path) -> None:
    always = BRANCHED.replace('default="none"', 'default="8bit"')
    sky = "resources:\n  accelerators: A100:1\nrun: |\n  python serve.py\n"
    _tree(tmp_path, {"serve.py": always, "run.sh": "#!/bin/sh\npython serve.py\n", "sky.yaml": sky})
    ran = run_cli(".", "--select", "ALL", "--format", "json", "--exit-zero", "--no-cache", cwd=tmp_path)
    found = sorted(
        (f["line"], f["setup"]["label"], f["setup"]["gpu"], f["setup"]["gpu_source"]) for f in ran.json()["findings"]
    )
    # the same verdict, but SkyPilot states the GPU: its finding is its own, on the A100
    assert found == [
        (7, "also invoked by run.sh:2", "RTX 4090D", "assumed"),
        (7, "invoked by sky.yaml:4", "A100", "platform"),
    ]


# ---------------------------------------------------------------------------------------------
# Which command lines link to which file
# ---------------------------------------------------------------------------------------------


def _links(root: Path) -> dict[str, list[tuple[str, list[str]]]]:
    from ecolint.invocations import invocations

    found = invocations(root, cwd=root)
    return {
        str(Path(script).relative_to(root.resolve())): [(c.name, [t.text for t in c.args]) for c in calls]
        for script, calls in found.items()
    }


@pytest.mark.parametrize(
    "command, script, args",
    [
        ("uvicorn api.main:app --host 0.0.0.0 --port 8000", "api/main.py", []),
        ("python -m uvicorn api.main:app --reload", "api/main.py", []),
        ("uvicorn --app-dir src pkg.app:app", "src/pkg/app.py", []),
        ("gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:8000 --chdir src pkg.app:app", "src/pkg/app.py", []),
        ("gunicorn 'api.main:create_app()'", "api/main.py", []),
        ("python -m api.serve --int8", "api/serve.py", ["--int8"]),
        ("accelerate launch --num_processes 2 api/serve.py --int8", "api/serve.py", ["--int8"]),
        ("torchrun --nproc_per_node=2 api/serve.py --int8", "api/serve.py", ["--int8"]),
        (
            "python -m torch.distributed.launch --use_env --nproc_per_node 8 api/serve.py --int8",
            "api/serve.py",
            ["--int8"],
        ),
        ("python3 -m torch.distributed.run --nnodes 1 api/serve.py --int8", "api/serve.py", ["--int8"]),
    ],
)
def test_app_servers_and_launch_tools_link_the_module_they_run(
    tmp_path: Path, command: str, script: str, args: list[str]
) -> None:
    files = dict.fromkeys(("api/main.py", "api/serve.py", "src/pkg/app.py"), "x = 1\n")
    _tree(tmp_path, {**files, "run.sh": f"#!/bin/sh\n{command}\n"})
    assert _links(tmp_path) == {script: [("run.sh:2", args)]}


@pytest.mark.parametrize(
    "commands, script",
    [
        ("cd api && uvicorn main:app --port 8000", "api/main.py"),
        ("cd api\nQUANTIZE=8bit python serve.py --int8", "api/serve.py"),
        ("cd ./api/ && python -m pkg.serve --int8", "api/pkg/serve.py"),
        ("cd api && cd pkg && python serve.py --int8", "api/pkg/serve.py"),
    ],
    ids=["and-uvicorn", "next-line", "module", "twice"],
)
def test_a_command_after_cd_runs_the_script_of_that_directory(tmp_path: Path, commands: str, script: str) -> None:
    files = dict.fromkeys(("main.py", "serve.py", "api/main.py", "api/serve.py", "api/pkg/serve.py"), "x = 1\n")
    _tree(tmp_path, {**files, "run.sh": f"#!/bin/sh\n{commands}\n"})
    assert list(_links(tmp_path)) == [script]


@pytest.mark.parametrize("where", ["$APP_DIR", "-", ""])
def test_a_command_after_cd_to_a_place_not_written_out_links_nothing(tmp_path: Path, where: str) -> None:
    # serve.py beside run.sh is not the one the command runs: the directory is unknown
    _tree(tmp_path, {"serve.py": "x = 1\n", "run.sh": f"#!/bin/sh\ncd {where}\npython serve.py --int8\n"})
    assert _links(tmp_path) == {}


@pytest.mark.parametrize(
    "command",
    ["uvicorn $APP_MODULE --port 8000", "gunicorn api.main:app other.module:app", "uvicorn api.missing:app"],
)
def test_an_app_server_whose_app_is_unsure_links_nothing(tmp_path: Path, command: str) -> None:
    _tree(tmp_path, {"api/main.py": "x = 1\n", "run.sh": f"#!/bin/sh\n{command}\n"})
    assert _links(tmp_path) == {}


MAKEFILE = """MODEL ?= Qwen/Qwen2.5-7B-Instruct
PYTHON ?= python3

.PHONY: serve bench

serve: ## 8-bit server
\t@echo "serving $(MODEL)"
\t@python serve.py --quantize 8bit \\
\t\t--model-id $(MODEL)

bench:
\t$(PYTHON) serve.py --quantize 8bit
"""


def test_a_makefile_recipe_runs_a_script_with_the_makefile_s_variables(tmp_path: Path) -> None:
    _tree(tmp_path, {"serve.py": BRANCHED, "Makefile": MAKEFILE})
    # the recipe line continued over two lines takes $(MODEL)'s default; $(PYTHON) is python3,
    # and that command is located at its recipe line, not where PYTHON is assigned
    assert _links(tmp_path) == {
        "serve.py": [
            ("Makefile:8", ["--quantize", "8bit", "--model-id", "Qwen/Qwen2.5-7B-Instruct"]),
            ("Makefile:12", ["--quantize", "8bit"]),
        ]
    }
    assert _findings(tmp_path) == [("serve.py", 7, "ECO101", "invoked by Makefile:8, Makefile:12")]


def test_a_make_variable_never_assigned_stays_unknown(tmp_path: Path) -> None:
    recipe = "serve:\n\tpython serve.py --quantize 8bit --model-id $(MODEL_ID)\n"
    _tree(tmp_path, {"serve.py": BRANCHED, "Makefile": recipe})
    assert _links(tmp_path) == {"serve.py": [("Makefile:2", ["--quantize", "8bit", "--model-id", "$MODEL_ID"])]}


LOOPED = (
    "import argparse\n" + HEAD + "parser = argparse.ArgumentParser()\n"
    'parser.add_argument("--int8", action="store_true")\n'
    "args = parser.parse_args()\n"
    'model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct",'
    " quantization_config=BitsAndBytesConfig(load_in_8bit=args.int8))\n"
    'for prompt in open("prompts.txt"):\n'
    "    print(model.generate(prompt, max_new_tokens=8))\n"
)
ROCM_IMAGE = (
    "FROM rocm/pytorch:rocm6.2_ubuntu22.04_py3.10_pytorch_release_2.3.0\n"
    "WORKDIR /workspace\nCOPY app /workspace/app\n"
    'CMD ["python", "app/serve.py", "--int8"]\n'
)


def test_a_rocm_image_that_runs_the_script_puts_its_setups_past_the_nvidia_boundary(tmp_path: Path) -> None:
    # built from the project root (docker build -f docker/Dockerfile.rocm .): app/ is the root's
    _tree(
        tmp_path,
        {
            "app/serve.py": LOOPED,
            "docker/Dockerfile.rocm": ROCM_IMAGE,
            "run.sh": "#!/bin/sh\npython app/serve.py --int8\n",
        },
    )
    assert _links(tmp_path) == {"app/serve.py": [("docker/Dockerfile.rocm:4", ["--int8"]), ("run.sh:2", ["--int8"])]}
    ran = run_cli(".", "--select", "ALL", "--format", "json", "--exit-zero", "--no-cache", cwd=tmp_path)
    found = sorted(
        (f["line"], f["code"], f["setup"]["label"], "non-nvidia" in f["boundaries"]) for f in ran.json()["findings"]
    )
    # INT8's finding rests on NVIDIA kernels: the run.sh command's alone; the per-prompt loop is
    # everyone's, the ROCm image's on its own, past the NVIDIA boundary
    assert found == [
        (6, "ECO101", "invoked by run.sh:2", False),
        (8, "ECO105", "also invoked by run.sh:2", False),
        (8, "ECO105", "invoked by docker/Dockerfile.rocm:4", True),
    ]


def test_a_typer_default_is_named_by_the_flag_its_option_declares(tmp_path: Path) -> None:
    script = (
        "from typing import Annotated\nimport typer\n" + HEAD + "def main(\n"
        '    nf4: Annotated[bool, typer.Option("--4bit/--full")] = False,\n'
        '    quant: str = typer.Option("8bit", "--quantize", "-q"),\n'
        "):\n"
        '    if nf4 or quant == "4bit":\n'
        "        cfg = BitsAndBytesConfig(load_in_4bit=True)\n"
        "    else:\n"
        "        cfg = BitsAndBytesConfig(load_in_8bit=True)\n"
        '    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", quantization_config=cfg)\n'
        "    print(model.generate(max_new_tokens=8))\n"
        "typer.run(main)\n"
    )
    _tree(tmp_path, {"serve.py": script})
    ran = run_cli(".", "--select", "ECO101", "--format", "json", "--exit-zero", "--no-cache", cwd=tmp_path)
    [finding] = ran.json()["findings"]
    assert (finding["line"], finding["code"]) == (11, "ECO101")
    assert "(with --4bit's default and --quantize's default)" in finding["message"]


ENV_READ = (
    "import os\n" + HEAD + 'MODEL_ID = os.getenv("MODEL_ID", "Qwen/Qwen2.5-7B-Instruct")\n'
    'if os.environ.get("QUANTIZE", "none").lower() == "8bit":\n'
    "    quant = BitsAndBytesConfig(load_in_8bit=True)\n"
    "else:\n"
    "    quant = None\n"
    "model = AutoModelForCausalLM.from_pretrained(MODEL_ID, quantization_config=quant)\n"
    "print(model.generate(max_new_tokens=8))\n"
)


@pytest.mark.parametrize(
    "name, text",
    [
        ("run.sh", "#!/bin/sh\nQUANTIZE=8BIT python serve.py\n"),
        ("run.sh", "#!/bin/sh\nexport QUANTIZE=8bit\nenv MODEL_ID=Qwen/Qwen2.5-14B-Instruct python serve.py\n"),
        (
            "docker-compose.yml",
            "services:\n  api:\n    environment:\n      QUANTIZE: 8bit\n    command: python serve.py\n",
        ),
    ],
    ids=["prefix", "export-and-env", "compose"],
)
def test_the_environment_a_command_sets_reaches_the_variables_the_script_reads(
    tmp_path: Path, name: str, text: str
) -> None:
    _tree(tmp_path, {"serve.py": ENV_READ, name: text})
    [(path, line, code, label)] = _findings(tmp_path)
    assert (path, line, code) == ("serve.py", 5, "ECO101")
    assert label is not None and label.startswith(f"invoked by {name}:")


def test_an_environment_the_script_does_not_read_changes_nothing(tmp_path: Path) -> None:
    _tree(tmp_path, {"serve.py": ENV_READ, "run.sh": "#!/bin/sh\nHF_HOME=/cache QUANTIZE=$Q python serve.py\n"})
    assert _findings(tmp_path) == []


PYTHON_IMAGE = 'FROM python:3.11-slim\nWORKDIR /workspace\nCOPY . .\nENTRYPOINT ["python3"]\n'


@pytest.mark.parametrize(
    "compose, dockerfile, linked, line",
    [
        ("build: .", "Dockerfile", "serve.py", 4),
        (
            "build:\n      context: app\n      dockerfile: docker/Dockerfile.gpu",
            "app/docker/Dockerfile.gpu",
            "app/serve.py",
            6,
        ),
    ],
    ids=["context-here", "context-and-dockerfile"],
)
def test_a_compose_command_runs_a_script_through_the_entrypoint_of_the_image_it_builds(
    tmp_path: Path, compose: str, dockerfile: str, linked: str, line: int
) -> None:
    service = f"services:\n  demo:\n    {compose}\n    command: serve.py --quantize 8bit\n"
    _tree(tmp_path, {linked: BRANCHED, dockerfile: PYTHON_IMAGE, "docker-compose.yml": service})
    # the command names the script, the image's python3 runs it: the link is at the command
    assert _links(tmp_path) == {linked: [(f"docker-compose.yml:{line}", ["--quantize", "8bit"])]}


def test_a_built_image_whose_entrypoint_is_no_interpreter_links_nothing(tmp_path: Path) -> None:
    image = PYTHON_IMAGE.replace('ENTRYPOINT ["python3"]', 'ENTRYPOINT ["/workspace/start.sh"]')
    service = "services:\n  demo:\n    build: .\n    command: serve.py --quantize 8bit\n"
    _tree(tmp_path, {"serve.py": BRANCHED, "Dockerfile": image, "docker-compose.yml": service})
    assert _links(tmp_path) == {}


# ---------------------------------------------------------------------------------------------
# Markdown: the commands a README or an EVALUATION.md says to run
# ---------------------------------------------------------------------------------------------

README = """# Serving

```bash
git clone https://github.com/example/chat-server.git
cd chat-server
pip install -r requirements.txt
```

Start it in 8-bit:

```console
$ python serve.py --quantize 8bit
```

```python
# a Python block is no command line
print("python serve.py --quantize 8bit")
```

~~~
QUANT=none
python serve.py --quantize $QUANT
~~~
"""


def test_a_readme_s_shell_blocks_run_scripts_as_a_reader_follows_them(tmp_path: Path) -> None:
    _tree(tmp_path, {"serve.py": BRANCHED, "README.md": README})
    # the console block (after `cd` into the repository it cloned) and the ~~~ block link;
    # the Python block does not
    assert _links(tmp_path) == {
        "serve.py": [("README.md:12", ["--quantize", "8bit"]), ("README.md:22", ["--quantize", "none"])]
    }
    assert _findings(tmp_path) == [("serve.py", 7, "ECO101", "invoked by README.md:12")]


def test_markdown_commands_keep_lines_and_columns() -> None:
    from ecolint.invocations import markdown_commands

    text = "intro\n```sh\n$ python a.py --x\nexport A=1\n```\nafter `python b.py`\n"
    lines = markdown_commands(text).split("\n")
    assert len(lines) == len(text.split("\n"))
    assert lines[2] == "  python a.py --x" and lines[2].index("python") == text.split("\n")[2].index("python")
    assert [lines[0], lines[1], lines[4], lines[5]] == ["", "", "", ""]


def test_an_evaluation_doc_that_always_passes_the_batch_size_leaves_no_default_finding(tmp_path: Path) -> None:
    doc = (
        "```bash\ncheckpoint=Qwen/Qwen2.5-7B-Instruct\n```\n\n```bash\n"
        "python -m torch.distributed.launch --use_env --nproc_per_node ${NPROC_PER_NODE:-8} \\\n"
        "    evaluate.py --checkpoint $checkpoint --batch-size 20\n```\n"
    )
    _tree(tmp_path, {"eval/evaluate.py": PER_SAMPLE_EVAL, "eval/EVALUATION.md": doc})
    assert [f for f in _findings(tmp_path) if f[2] == "ECO105"] == []
    (tmp_path / "eval/EVALUATION.md").write_text(doc.replace("--batch-size 20", ""))
    assert [f for f in _findings(tmp_path) if f[2] == "ECO105"] == [
        ("eval/evaluate.py", 10, "ECO105", "also invoked by eval/EVALUATION.md:6")
    ]


def test_a_doc_s_download_step_that_stays_in_its_data_folder_still_runs_the_doc_s_scripts(tmp_path: Path) -> None:
    """`mkdir -p data/coco && cd data/coco` with no `cd ../..` after it: the folder is not in
    the repository, so the next block's script is the one beside the document, as its reader
    runs it. A shell script stays where its `cd` left it, and links nothing."""
    download = "```bash\nmkdir -p data/coco && cd data/coco\nwget https://example.org/val2014.zip\n```\n\n"
    run = "```bash\npython evaluate.py --checkpoint Qwen/Qwen2.5-7B-Instruct --batch-size 20\n```\n"
    _tree(tmp_path, {"eval/evaluate.py": PER_SAMPLE_EVAL, "eval/EVALUATION.md": download + run})
    assert [f for f in _findings(tmp_path) if f[2] == "ECO105"] == []
    (tmp_path / "eval/EVALUATION.md").unlink()
    script = download.replace("```bash\n", "").replace("```\n", "") + run.replace("```bash\n", "").replace("```\n", "")
    _tree(tmp_path, {"eval/run.sh": script})
    assert _links(tmp_path) == {}


def test_a_doc_in_a_subfolder_that_cds_through_its_clone_runs_its_own_folder_s_modules(tmp_path: Path) -> None:
    """`git clone …/mono.git && cd mono/app` in app/README.md: the reader stands where the
    document is, and `python -m pkg.serve` is app/pkg/serve.py."""
    doc = (
        "```bash\ngit clone https://github.com/example/mono.git\ncd mono/app\n```\n\n"
        "```Shell\npython -m pkg.serve --quantize 8bit\n```\n"
    )
    _tree(tmp_path, {"app/pkg/serve.py": BRANCHED, "app/README.md": doc})
    assert _links(tmp_path) == {"app/pkg/serve.py": [("app/README.md:7", ["--quantize", "8bit"])]}


# ---------------------------------------------------------------------------------------------
# Notebooks: `!python app.py …` and %%bash cells
# ---------------------------------------------------------------------------------------------


def _notebook(*sources: list[str]) -> str:
    import json

    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Run the demo on a T4\n"]}]
    cells += [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": lines}
        for lines in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def test_a_notebook_s_shell_escapes_and_bash_cells_run_scripts(tmp_path: Path) -> None:
    text = _notebook(
        ["!pip install -r requirements.txt\n", "!python serve.py \\\n", "    --quantize 8bit\n"],
        ["%%bash\n", "python serve.py --quantize none\n"],
        ["model_name = 'python serve.py --quantize 8bit'  # Python, no command\n"],
    )
    _tree(tmp_path, {"serve.py": BRANCHED, "demo.ipynb": text})
    escape = text.splitlines().index('    "!python serve.py \\\\\\n",') + 1
    bash = text.splitlines().index('    "python serve.py --quantize none\\n"') + 1
    assert _links(tmp_path) == {
        "serve.py": [(f"demo.ipynb:{escape}", ["--quantize", "8bit"]), (f"demo.ipynb:{bash}", ["--quantize", "none"])]
    }
    assert _findings(tmp_path) == [("serve.py", 7, "ECO101", f"invoked by demo.ipynb:{escape}")]


def test_a_colab_notebook_runs_the_script_of_the_repository_it_cloned(tmp_path: Path) -> None:
    text = _notebook(
        ["!git clone https://github.com/example/chat-demo\n", "!pip install -r chat-demo/requirements.txt\n"],
        ["!python chat-demo/scripts/serve.py --quantize 8bit\n"],
    )
    _tree(tmp_path, {"scripts/serve.py": BRANCHED, "notebooks/demo.ipynb": text})
    line = text.splitlines().index('    "!python chat-demo/scripts/serve.py --quantize 8bit\\n"') + 1
    # the path inside the clone is this repository's scripts/serve.py
    assert _links(tmp_path) == {"scripts/serve.py": [(f"notebooks/demo.ipynb:{line}", ["--quantize", "8bit"])]}


def test_commands_that_load_through_different_branches_but_agree_make_one_finding(tmp_path: Path) -> None:
    demo = (
        "import argparse\nimport gradio as gr\n" + HEAD + "parser = argparse.ArgumentParser()\n"
        'parser.add_argument("--flash-attn2", action="store_true")\n'
        "args = parser.parse_args()\n"
        "if args.flash_attn2:\n"
        '    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", torch_dtype="auto",'
        ' attn_implementation="flash_attention_2")\n'
        "else:\n"
        '    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct")\n'
        "def chat(message, history):\n"
        "    return model.generate(message, max_new_tokens=64)\n"
        "gr.ChatInterface(chat).launch()\n"
    )
    readme = "```bash\npython demo.py --flash-attn2\n```\n\n```bash\npython demo.py\n```\n"
    _tree(tmp_path, {"demo.py": demo, "README.md": readme})
    ran = run_cli(".", "--format", "json", "--exit-zero", "--no-cache", cwd=tmp_path)
    [finding] = ran.json()["findings"]
    # both commands' setups (one per loading branch) give the same verdict at the generate line:
    # one finding, naming both, and no "(with --flash-attn2's default)" since it rests on neither
    assert (finding["line"], finding["code"]) == (12, "ECO105")
    assert finding["setup"]["label"] == "also invoked by README.md:2, README.md:6"
    assert "default" not in finding["message"]


def test_a_manifest_bundle_links_the_documents_that_run_scripts(tmp_path: Path) -> None:
    from ecolint.invocations import _documents_that_run

    crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n"
    job = (
        "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n"
        '        - name: eval\n          command: ["python", "serve.py", "--quantize", "8bit"]\n'
    )
    bundle = f"{crd}---\n{job}---\n{crd}"
    kept = _documents_that_run(bundle)
    # the CRDs are blanked, every line keeps its number, the Job is kept as written
    assert kept.count("\n") == bundle.count("\n") and "CustomResourceDefinition" not in kept
    assert job in kept
    _tree(tmp_path, {"serve.py": BRANCHED, "deploy/bundle.yaml": bundle})
    assert _links(tmp_path) == {"serve.py": [("deploy/bundle.yaml:13", ["--quantize", "8bit"])]}


@pytest.mark.parametrize(
    "text",
    [
        "python serve.py --int8",
        "cpython3.11 -m pkg.serve",
        "python3.11\n  -m\n  pkg.serve",
        "echo python; echo done",
        "torchrun --nproc-per-node 2 train.py",
        "accelerate launch x.pyc",
        "deepspeed" + " " * 400 + "run.py",
        "pythonic words, then notes.py",
        "uvicorn app.main:app --port 8000",
        "gunicorn -w 2 app:server",
        "uvicorn is documented in notes",
        "",
    ],
)
def test_the_look_for_a_command_that_runs_a_script_is_the_patterns_search(text: str) -> None:
    """The pass looks for each runner's name and tries its pattern there only: what the
    patterns' own search of the whole text says."""
    from ecolint import invocations

    data = text.encode()
    searched = bool(invocations._RUNS_A_SCRIPT.search(data) or invocations._RUNS_AN_APP.search(data))
    assert invocations._runs_something(data) == searched
