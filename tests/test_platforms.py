"""Deployment platforms' own files (ecolint/extract/platforms): what each states about the
command line, the environment and the GPU, with a case that must be read and one that must not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_containers import line_of, only, run

from ecolint import knowledge
from ecolint.extract import manifests
from ecolint.prefilter import may_hold_setup_bytes
from ecolint.resolve import resolve
from ecolint.setups import BATCH_SIZE, DEVICE, ENFORCE_EAGER, GPU, MODEL, PRECISION, Location, Setup

# =============================================================================================
# KubeAI
# =============================================================================================

KUBEAI_MODEL = """
    apiVersion: kubeai.org/v1
    kind: Model
    metadata:
      name: llama-3.1-8b-instruct-fp8-l4
    spec:
      features: [TextGeneration]
      url: hf://neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8
      engine: VLLM
      args:
        - --max-num-seqs=1
        - --enforce-eager
      env:
        VLLM_ATTENTION_BACKEND: FLASHINFER
      resourceProfile: nvidia-gpu-l4:1
"""


def test_kubeai_model_is_vllm_with_its_args_and_the_profile_gpu(tmp_path: Path) -> None:
    setup = only(run(tmp_path, manifests, "models/llama.yaml", KUBEAI_MODEL))
    assert (setup.framework, setup.label) == ("vllm", "Model/llama-3.1-8b-instruct-fp8-l4")
    assert setup.get(MODEL) == "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8"
    assert (setup.get(PRECISION), setup.get(BATCH_SIZE), setup.get(ENFORCE_EAGER)) == ("fp8", 1, True)
    assert (line_of(setup, MODEL), line_of(setup, BATCH_SIZE), line_of(setup, ENFORCE_EAGER)) == (7, 10, 11)
    assert setup.origin.line == 8  # engine: VLLM
    # no resourceProfiles values in the repository: the profile's own name
    assert (setup.get(GPU), line_of(setup, GPU), setup.facts[GPU].how) == (
        "nvidia-gpu-l4",
        14,
        "platform:resourceProfile",
    )


def test_kubeai_profile_resolves_through_the_charts_resource_profiles(tmp_path: Path) -> None:
    values = """
        resourceProfiles:
          nvidia-gpu-l4:
            nodeSelector:
              cloud.google.com/gke-accelerator: "nvidia-l4"
          nvidia-gpu-gh200:
            nodeSelector:
              nvidia.com/gpu.family: "hopper"
    """
    setup = only(run(tmp_path, manifests, "deploy/models/llama.yaml", KUBEAI_MODEL, extra={"kubeai.yaml": values}))
    assert setup.get(GPU) == "nvidia-l4"
    assert line_of(setup, GPU) == 14  # still the Model's key: that is what the user wrote


def test_kubeai_profile_that_values_files_disagree_on_keeps_its_name(tmp_path: Path) -> None:
    extra = {
        "charts/kubeai/values-gke.yaml": "resourceProfiles:\n  nvidia-gpu-l4:\n    nodeSelector:\n"
        "      cloud.google.com/gke-accelerator: nvidia-l4\n",
        "charts/kubeai/values-eks.yaml": "resourceProfiles:\n  nvidia-gpu-l4:\n    nodeSelector:\n"
        "      karpenter.k8s.aws/instance-gpu-name: l4\n",
    }
    setup = only(run(tmp_path, manifests, "models/llama.yaml", KUBEAI_MODEL, extra=extra))
    assert setup.get(GPU) == "nvidia-gpu-l4"


def test_kubeai_ollama_model_on_cpu(tmp_path: Path) -> None:
    text = """
        apiVersion: kubeai.org/v1
        kind: Model
        metadata: {name: qwen2-500m-cpu}
        spec:
          features: [TextGeneration]
          url: ollama://qwen2:0.5b
          engine: OLlama
          env: {OLLAMA_NUM_PARALLEL: "2"}
          resourceProfile: cpu:1
    """
    run_setup, serve = run(tmp_path, manifests, "model.yaml", text)
    assert (run_setup.get(MODEL), run_setup.get(PRECISION)) == ("qwen2:0.5b", "gguf-q4")
    assert serve.get(BATCH_SIZE) == 2
    assert run_setup.get(DEVICE) == "cpu" and not run_setup.has(GPU)


@pytest.mark.parametrize(
    "change",
    [
        ("features: [TextGeneration]", "features: [TextEmbedding]"),
        ("engine: VLLM", "engine: Infinity"),
        ("apiVersion: kubeai.org/v1", "apiVersion: example.com/v1"),
    ],
)
def test_kubeai_models_that_are_no_llm_setup(tmp_path: Path, change: tuple[str, str]) -> None:
    assert run(tmp_path, manifests, "model.yaml", KUBEAI_MODEL.replace(*change)) == []


def test_kubeai_catalog_entries(tmp_path: Path) -> None:
    text = """
        catalog:
          deepseek-r1-distill-llama-8b-l4:
            enabled: true
            features: [TextGeneration]
            url: hf://neuralmagic/DeepSeek-R1-Distill-Llama-8B-FP8-dynamic
            engine: VLLM
            args: [--enforce-eager]
            resourceProfile: nvidia-gpu-l4:1
          faster-whisper-medium-en-cpu:
            features: [SpeechToText]
            url: hf://Systran/faster-whisper-medium.en
            engine: FasterWhisper
    """
    setup = only(run(tmp_path, manifests, "charts/models/values.yaml", text))
    assert (setup.label, setup.get(ENFORCE_EAGER), setup.get(GPU)) == (
        "catalog.deepseek-r1-distill-llama-8b-l4",
        True,
        "nvidia-gpu-l4",
    )


def test_kubeai_files_pass_the_prefilter() -> None:
    assert may_hold_setup_bytes("yaml", b"spec:\n  engine: VLLM\n  url: hf://m/x\n")
    assert may_hold_setup_bytes("yaml", b"spec:\n  engine: OLlama\n  url: ollama://qwen2:0.5b\n")


# =============================================================================================
# SkyPilot
# =============================================================================================

SKY_TASK = """
    envs:
      MODEL_NAME: Qwen/Qwen2.5-7B-Instruct
      HF_TOKEN:
    resources:
      accelerators: ACCELERATORS
      ports: 8000
    setup: |
      pip install vllm
      vllm serve $MODEL_NAME --max-num-seqs 1 &
    run: |
      vllm serve $MODEL_NAME \\
        --max-num-seqs 1
"""


@pytest.mark.parametrize(
    "accelerators, gpu",
    [
        ("L4:1", "L4"),
        ("A100-80GB", "A100-80GB"),
        ("{A100:1, L4:1}", ("A100", "L4")),
        ("{A100: 1, L4: 1}", ("A100", "L4")),
        ("[L4:1, A10G:1]", ("L4", "A10G")),
        ("{L4:1, A100:1, A100:2, A100-80GB:1, A100-80GB:2}", ("L4", "A100", "A100-80GB")),  # counts differ
        ("{A100:1, A100:8}", "A100"),
    ],
)
def test_skypilot_run_is_the_setup_on_its_accelerators(tmp_path: Path, accelerators: str, gpu: object) -> None:
    setup = only(run(tmp_path, manifests, "serve.yaml", SKY_TASK.replace("ACCELERATORS", accelerators)))
    assert (setup.get(MODEL), setup.get(BATCH_SIZE)) == ("Qwen/Qwen2.5-7B-Instruct", 1)  # envs reach run
    assert (line_of(setup, BATCH_SIZE), line_of(setup, MODEL)) == (12, 2)  # run:, not setup:
    assert (setup.get(GPU), line_of(setup, GPU), setup.facts[GPU].how) == (gpu, 5, "platform:accelerators")


def test_skypilot_any_of_candidates_are_a_set(tmp_path: Path) -> None:
    text = """
        resources:
          any_of:
            - infra: aws
              accelerators: A10G
            - infra: gcp
              accelerators: L4
        run: vllm serve m --enforce-eager
    """
    assert only(run(tmp_path, manifests, "task.yaml", text)).get(GPU) == ("A10G", "L4")


@pytest.mark.parametrize(
    "text",
    [
        "run: vllm serve m --enforce-eager\n",  # a lone run: says nothing of SkyPilot
        "type: task\ncommands: [vllm serve m]\nrun: vllm serve m\nresources: {gpu: L4}\n",  # dstack's shape
    ],
)
def test_files_that_are_not_skypilot_tasks(tmp_path: Path, text: str) -> None:
    assert all(not s.has(GPU) or s.facts[GPU].how != "accelerators" for s in run(tmp_path, manifests, "t.yaml", text))


def test_a_gpu_set_resolves_to_its_most_cautious_member() -> None:
    setup = Setup("vllm", Location("t.yaml", 1))
    setup.set(GPU, ("RTX 4090D", "L4"), Location("t.yaml", 2), "accelerators")
    setup.set(MODEL, "Qwen/Qwen2.5-7B-Instruct", Location("t.yaml", 3), "literal")  # ★★★ needs a known size
    resolution = resolve(setup, knowledge.load())
    assert [r.confidence for r in resolution.alternatives] == [3, 2]
    assert (resolution.confidence, resolution.gpu_written) == (2, "any of RTX 4090D, L4")


# =============================================================================================
# dstack
# =============================================================================================

DSTACK_SERVICE = """
    type: service
    name: llama
    image: vllm/vllm-openai:latest
    env:
      - HF_TOKEN
      - MODEL_ID=Qwen/Qwen2.5-7B-Instruct
    commands:
      - vllm serve $MODEL_ID --max-num-seqs 1
    port: 8000
    resources:
      gpu: GPU_SPEC
"""


@pytest.mark.parametrize(
    "spec, gpu",
    [
        ("L4", "L4"),
        ("A100:2", "A100"),
        ("nvidia:L4:1", "L4"),
        ("A100:80GB:2", "A100"),
        ("A10G,A100", ("A10G", "A100")),
        ("{name: [A100, H100], memory: 80GB}", ("A100", "H100")),
        ("amd:2", "AMD"),
        ("24GB..", None),
        ("24GB..80GB:2", None),
        ("2", None),
    ],
)
def test_dstack_commands_on_the_gpu_resources_names(tmp_path: Path, spec: str, gpu: object) -> None:
    setup = only(run(tmp_path, manifests, ".dstack.yml", DSTACK_SERVICE.replace("GPU_SPEC", spec)))
    assert (setup.label, setup.get(MODEL), setup.get(BATCH_SIZE)) == ("llama", "Qwen/Qwen2.5-7B-Instruct", 1)
    assert line_of(setup, MODEL) == 6  # the env entry
    assert setup.get(GPU) == gpu
    if gpu is not None:
        assert (line_of(setup, GPU), setup.facts[GPU].how) == (11, "platform:resources.gpu")


def test_dstack_env_map_and_image_without_commands(tmp_path: Path) -> None:
    text = """
        type: task
        image: ghcr.io/huggingface/text-generation-inference:2.4.0
        env:
          MODEL_ID: Qwen/Qwen2.5-1.5B-Instruct
          QUANTIZE: bitsandbytes
        resources: {gpu: T4}
    """
    setup = only(run(tmp_path, manifests, "task.dstack.yml", text))
    assert (setup.framework, setup.get(PRECISION), setup.get(GPU)) == ("tgi", "int8", "T4")


def test_dstack_replica_groups_run_on_their_own_resources(tmp_path: Path) -> None:
    text = """
        type: service
        env: [MODEL_ID=Qwen/Qwen2.5-7B-Instruct]
        resources: {gpu: L4}
        replicas:
          - count: 1
            commands: [python -m sglang.launch_server --model-path $MODEL_ID --max-running-requests 1]
            resources: {gpu: H200}
          - count: 1..2
            commands: [python -m sglang.launch_server --model-path $MODEL_ID]
    """
    found = run(tmp_path, manifests, "pd.dstack.yml", text)
    assert [(s.framework, s.get(GPU)) for s in found] == [("sglang", "H200"), ("sglang", "L4")]
    assert found[0].get(BATCH_SIZE) == 1


def test_dstack_dev_environment_serves_nothing(tmp_path: Path) -> None:
    text = "type: dev-environment\nide: vscode\ninit: [vllm serve m --enforce-eager &]\nresources: {gpu: L4}\n"
    assert run(tmp_path, manifests, ".dstack.yml", text) == []


# =============================================================================================
# GitHub Actions runners
# =============================================================================================

WORKFLOW = """
    on: [workflow_dispatch]
    jobs:
      smoke:
        strategy:
          matrix:
            runner: [linux-t4, linux-l4]
            model: [Qwen/Qwen2.5-1.5B-Instruct, Qwen/Qwen2.5-7B-Instruct]
            python: ["3.11", "3.12"]
        runs-on: RUNS_ON
        steps:
          - run: vllm serve ${{ matrix.model }} --max-num-seqs 1
"""


def _gpu_of(setup: Setup) -> str | None:
    return resolve(setup, knowledge.load()).gpu_written


def test_runs_on_labels_state_the_gpu(tmp_path: Path) -> None:
    text = WORKFLOW.replace("RUNS_ON", "[self-hosted, linux, gpu-a100]").replace("${{ matrix.model }}", "m-7b")
    setup = only(run(tmp_path, manifests, ".github/workflows/smoke.yml", text))
    assert setup.get("runner_labels") == ("gpu-a100",)  # generic labels dropped
    assert (_gpu_of(setup), line_of(setup, "runner_labels")) == ("gpu-a100", 9)


def test_a_matrix_gives_one_setup_per_value_it_uses(tmp_path: Path) -> None:
    found = run(tmp_path, manifests, ".github/workflows/smoke.yml", WORKFLOW.replace("RUNS_ON", "${{ matrix.runner }}"))
    # runner x model: 4 runs; python is not referred to, so it multiplies nothing
    assert sorted((_gpu_of(s), s.get(MODEL)) for s in found) == [
        ("linux-l4", "Qwen/Qwen2.5-1.5B-Instruct"),
        ("linux-l4", "Qwen/Qwen2.5-7B-Instruct"),
        ("linux-t4", "Qwen/Qwen2.5-1.5B-Instruct"),
        ("linux-t4", "Qwen/Qwen2.5-7B-Instruct"),
    ]
    assert found[0].label == "smoke[runner=linux-t4, model=Qwen/Qwen2.5-1.5B-Instruct]/0"


def test_runner_groups_and_labels_that_name_no_gpu(tmp_path: Path) -> None:
    grouped = WORKFLOW.replace("RUNS_ON", "{group: gpu-runners, labels: [linux-t4]}")
    assert {_gpu_of(s) for s in run(tmp_path, manifests, ".github/workflows/a.yml", grouped)} == {"linux-t4"}
    plain = WORKFLOW.replace("RUNS_ON", "ubuntu-22.04")
    assert {s.has("runner_labels") for s in run(tmp_path, manifests, ".github/workflows/b.yml", plain)} == {False}


@pytest.mark.parametrize(
    ("runs_on", "gpu"),
    [
        ("{group: aws-g6-12xl-plus-priv-cache}", "L4"),  # runner groups named for their instance
        ("{group: aws-g4dn-2xlarge}", "T4"),
        ("[self-hosted, g5.2xlarge]", "A10G"),
        ("[self-hosted, a3-highgpu-8g]", "H100"),
        ("{group: aws-highmemory-32-plus-priv}", None),  # a CPU instance names no GPU
        ("[self-hosted, g5g.xlarge]", None),  # Graviton with a T4G: not in the table
    ],
)
def test_runner_labels_naming_a_cloud_gpu_instance(tmp_path: Path, runs_on: str, gpu: str | None) -> None:
    text = WORKFLOW.replace("RUNS_ON", runs_on).replace("${{ matrix.model }}", "m-7b")
    resolved = [resolve(s, knowledge.load()) for s in run(tmp_path, manifests, ".github/workflows/g.yml", text)]
    expected = (gpu, "platform") if gpu else ("RTX 4090D", "assumed")
    assert {(r.gpu.name, r.gpu_source) for r in resolved} == {expected}


# =============================================================================================
# Ray Serve LLM
# =============================================================================================

RAY_SERVE = """
    applications:
      - name: llm_app
        import_path: ray.serve.llm:build_openai_app
        args:
          llm_configs:
            - model_loading_config:
                model_id: qwen
                model_source: Qwen/Qwen2.5-7B-Instruct
              accelerator_type: A10G
              engine_kwargs:
                max_num_seqs: 1
                enforce_eager: true
                kv_cache_dtype: fp8
                compilation_config: {level: 3}
                not_a_vllm_argument: 3
"""


def test_ray_serve_llm_config_is_a_vllm_engine(tmp_path: Path) -> None:
    setup = only(run(tmp_path, manifests, "serve_config.yaml", RAY_SERVE))
    assert (setup.framework, setup.label, setup.get(MODEL)) == ("vllm", "qwen", "Qwen/Qwen2.5-7B-Instruct")
    assert (setup.get(BATCH_SIZE), setup.get(ENFORCE_EAGER), setup.get("kv_cache_dtype")) == (1, True, "fp8")
    assert (line_of(setup, BATCH_SIZE), line_of(setup, ENFORCE_EAGER)) == (11, 12)
    assert setup.origin.line == 6  # model_loading_config
    assert (setup.get(GPU), line_of(setup, GPU), setup.facts[GPU].how) == ("A10G", 9, "platform:accelerator_type")


def test_ray_serve_switch_off_and_other_engines(tmp_path: Path) -> None:
    off = RAY_SERVE.replace("enforce_eager: true", "enforce_eager: false")
    assert only(run(tmp_path, manifests, "a.yaml", off)).get(ENFORCE_EAGER) is False
    other = RAY_SERVE.replace("accelerator_type: A10G", "accelerator_type: A10G\n              llm_engine: SGLang")
    assert run(tmp_path, manifests, "b.yaml", other) == []


def test_ray_serve_configs_pass_the_prefilter() -> None:
    assert may_hold_setup_bytes("yaml", b"model_loading_config:\n  model_id: m\n")


def test_a_matrix_of_include_entries_runs_each(tmp_path: Path) -> None:
    text = """
        jobs:
          smoke:
            strategy:
              matrix:
                include:
                  - {runner: gpu-l4, model: Qwen/Qwen2.5-1.5B-Instruct}
                  - {runner: gpu-t4, model: Qwen/Qwen2.5-0.5B-Instruct}
            runs-on: ${{ matrix.runner }}
            steps:
              - run: vllm serve ${{ matrix.model }} --max-num-seqs 1
    """
    found = run(tmp_path, manifests, ".github/workflows/smoke.yml", text)
    assert [(_gpu_of(s), s.get(MODEL)) for s in found] == [
        ("gpu-l4", "Qwen/Qwen2.5-1.5B-Instruct"),
        ("gpu-t4", "Qwen/Qwen2.5-0.5B-Instruct"),
    ]


@pytest.mark.parametrize(
    "accelerators, tp", [("A100:8", 8), ("{L4:2, A10G:2}", 2), ("{L4, A10g}", 1), ("{L4:8, A100:4}", None)]
)
def test_skypilot_gpus_per_node_sizes_tensor_parallelism(tmp_path: Path, accelerators: str, tp: object) -> None:
    text = f"resources:\n  accelerators: {accelerators}\nrun: vllm serve m --tensor-parallel-size $SKYPILOT_NUM_GPUS_PER_NODE\n"
    setup = only(run(tmp_path, manifests, "task.yaml", text))
    # a name alone is one GPU; counts that differ between alternatives leave the variable unknown
    assert setup.get("tensor_parallel_size") == tp


# =============================================================================================
# The invocation index (ecolint/invocations.py)
# =============================================================================================

SERVE_PY = """import argparse
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
parser = argparse.ArgumentParser()
parser.add_argument("--model-id", default="Qwen/Qwen2.5-7B-Instruct")
parser.add_argument("--int8", action="store_true")
args = parser.parse_args()
model = AutoModelForCausalLM.from_pretrained(
    args.model_id, quantization_config=BitsAndBytesConfig(load_in_8bit=args.int8)
)
"""


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_invocations_link_a_shell_script_and_a_dockerfile_cmd_through_workdir_and_copy(tmp_path: Path) -> None:
    from ecolint.invocations import invocations

    _tree(
        tmp_path,
        {
            "app/serve.py": SERVE_PY,
            "scripts/run.sh": "#!/bin/sh\npython ../app/serve.py --int8 --model-id TinyLlama/TinyLlama-1.1B-Chat-v1.0\n",
            "app/Dockerfile": 'FROM python:3.11\nWORKDIR /srv\nCOPY . .\nCMD ["python", "/srv/serve.py", "--int8"]\n',
        },
    )
    found = invocations(tmp_path, cwd=tmp_path)
    calls = found[str((tmp_path / "app/serve.py").resolve())]
    assert sorted((c.where.path, c.where.line, [t.text for t in c.args]) for c in calls) == [
        ("app/Dockerfile", 4, ["--int8"]),
        ("scripts/run.sh", 2, ["--int8", "--model-id", "TinyLlama/TinyLlama-1.1B-Chat-v1.0"]),
    ]


def test_an_invocation_that_could_name_two_files_or_an_uncopied_one_links_nothing(tmp_path: Path) -> None:
    from ecolint.invocations import invocations

    _tree(
        tmp_path,
        {
            # serve.py beside the script and at the root: which one runs depends on the cwd
            "serve.py": SERVE_PY,
            "deploy/serve.py": SERVE_PY,
            "deploy/run.sh": "#!/bin/sh\npython serve.py --int8\n",
            # the image never copies serve.py
            "deploy/Dockerfile": 'FROM python:3.11\nCOPY requirements.txt /app/\nCMD ["python", "/app/serve.py"]\n',
        },
    )
    assert invocations(tmp_path, cwd=tmp_path) == {}


def test_an_invoked_script_takes_the_values_passed_and_keeps_its_default_setup(tmp_path: Path) -> None:
    from ecolint.config import Config
    from ecolint.engine import setups_in

    _tree(tmp_path, {"serve.py": SERVE_PY, "run.sh": "#!/bin/sh\npython3 -u serve.py --int8\n"})
    kb = knowledge.load()
    found, errors = setups_in(tmp_path, kb, Config())
    labels = sorted(((s.label or "").replace(f"{tmp_path}/", ""), s.get(PRECISION)) for s, _ in found)
    assert errors == []
    assert labels == [("", None), ("invoked by run.sh:2", "int8")]


# =============================================================================================
# Modal: a command list the function grows (ecolint/extract/python/platforms.py)
# =============================================================================================

MODAL_GROWN = """
    import subprocess
    import modal

    FAST_BOOT = True
    app = modal.App("vllm")

    @app.function(gpu="H100")
    def serve():
        cmd = ["vllm", "serve", "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", "--port", "8000"]
        cmd += ["--enforce-eager" if FAST_BOOT else "--no-enforce-eager"]
        cmd.extend(["--max-num-seqs", "1"])
        subprocess.Popen(" ".join(cmd), shell=True)
"""


def test_a_modal_command_grown_with_plus_equals_and_extend_is_one_command(tmp_path: Path) -> None:
    from ecolint.extract import python

    setup = only(run(tmp_path, python, "serve.py", MODAL_GROWN))
    # the words added after the list are the command's, located where they are added
    assert (setup.get(ENFORCE_EAGER), line_of(setup, ENFORCE_EAGER)) == (True, 10)
    assert (setup.get(BATCH_SIZE), line_of(setup, BATCH_SIZE)) == (1, 11)
    assert setup.get(GPU) == "H100"


@pytest.mark.parametrize(
    "between",
    ["    if os.environ.get('EAGER'):\n        cmd += ['--enforce-eager']\n", "    cmd = ['vllm', 'serve', 'other']\n"],
    ids=["under-an-undecided-if", "reassigned"],
)
def test_words_added_under_an_undecided_if_or_after_a_reassignment_are_not_read(tmp_path: Path, between: str) -> None:
    from ecolint.extract import python

    text = textwrap.dedent(MODAL_GROWN).replace("    cmd += [", between + "    cmd += [", 1)
    setups = run(tmp_path, python, "serve.py", text)
    first = [s for s in setups if s.get(MODEL) == "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8"]
    # the first list stops growing where the code touches it otherwise (under a test the
    # deployment's environment decides): neither word is its own
    assert [(s.get(ENFORCE_EAGER), s.get(BATCH_SIZE)) for s in first] == [(None, None)]


def test_words_added_under_an_if_the_constants_decide_are_read(tmp_path: Path) -> None:
    from ecolint.extract import python

    taken = "    if FAST_BOOT:\n        cmd += ['--enforce-eager']\n    else:\n        cmd.append('--max-num-seqs=8')\n"
    text = textwrap.dedent(MODAL_GROWN).replace("    cmd += [", taken + "    cmd += [", 1)
    text = text.replace('"--enforce-eager" if FAST_BOOT else "--no-enforce-eager"', '"--port", "8000"')
    [setup] = [s for s in run(tmp_path, python, "serve.py", text) if s.get(MODEL)]
    # FAST_BOOT = True: the if's words are the command's, the else's are not; the words after
    # the if are still read
    if_line = text.lstrip("\n").splitlines().index("        cmd += ['--enforce-eager']") + 1
    assert (setup.get(ENFORCE_EAGER), line_of(setup, ENFORCE_EAGER)) == (True, if_line)
    assert setup.get(BATCH_SIZE) == 1
    off = text.replace("FAST_BOOT = True", "FAST_BOOT = False")
    [other] = [s for s in run(tmp_path, python, "serve2.py", off) if s.get(MODEL)]
    # the else branch's words: a batch of 8, then the later --max-num-seqs 1 wins (a command line's last)
    assert (other.get(ENFORCE_EAGER), other.get(BATCH_SIZE)) == (None, 1)
