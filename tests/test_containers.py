"""Every container (shell, Dockerfile, compose / Kubernetes / workflow / Helm YAML, Modelfile):
each feature with a case that must be found and one that must stay clean, and odd input that
must end in ExtractError or nothing, never a traceback."""

from __future__ import annotations

import contextlib
import random
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from ecolint.extract import ExtractContext, ExtractError, dockerfile, manifests, modelfile, shell
from ecolint.setups import (
    BATCH_SIZE,
    ENFORCE_EAGER,
    GPU,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    TENSOR_PARALLEL,
    Setup,
)


def _context(root: Path) -> ExtractContext:
    def read_text(path: Path) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    return ExtractContext(root=root, read_text=read_text)


def run(tmp_path: Path, module, name: str, text: str, extra: dict[str, str] | None = None) -> list[Setup]:
    """Write ``text`` (and sibling files) under tmp_path and extract it like the engine does."""
    text = textwrap.dedent(text).lstrip("\n")
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    for rel, content in (extra or {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return module.extract(str(target), text, _context(tmp_path))


def only(setups: list[Setup]) -> Setup:
    assert len(setups) == 1, setups
    return setups[0]


def line_of(setup: Setup, fact: str) -> int:
    return setup.where(fact).line


# =============================================================================================
# Shell
# =============================================================================================


def test_shell_continuations_keep_each_flag_on_its_line(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        vllm serve Qwen/Qwen2.5-1.5B-Instruct \\
          --quantization fp8 \\
          --enforce-eager \\
          --max-num-seqs 1
    """,
        )
    )
    assert setup.origin.line == 1
    assert (line_of(setup, QUANT_CONFIG), line_of(setup, ENFORCE_EAGER), line_of(setup, BATCH_SIZE)) == (2, 3, 4)
    assert setup.where(ENFORCE_EAGER).column == 3


def test_shell_comment_line_inside_a_continuation_ends_the_command(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        vllm serve m --quantization fp8 \\
        # debugging only
          --enforce-eager
    """,
        )
    )
    assert setup.get(PRECISION) == "fp8"
    assert not setup.has(ENFORCE_EAGER)


def test_shell_variables_defaults_and_exports(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        MODEL=${MODEL:-Qwen/Qwen2.5-0.5B-Instruct}
        SEQS=1
        TP="${TP:-2}"
        vllm serve $MODEL --max-num-seqs ${SEQS} --tensor-parallel-size "$TP" --port ${PORT:-8000}
    """,
        )
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert line_of(setup, MODEL) == 1  # the word is only the variable: its value was written there
    assert setup.get(BATCH_SIZE) == 1
    assert line_of(setup, BATCH_SIZE) == 4  # the flag is on the command line
    assert setup.get(TENSOR_PARALLEL) == 2


def test_shell_default_is_overridden_by_an_earlier_assignment(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        SEQS=256
        vllm serve m --max-num-seqs ${SEQS:-1}
    """,
        )
    )
    assert setup.get(BATCH_SIZE) == 256


def test_shell_only_exported_variables_reach_the_launcher(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "tgi.sh",
        """
        QUANTIZE=bitsandbytes
        text-generation-launcher --model-id m
        export QUANTIZE
        text-generation-launcher --model-id m
        set -a
        MAX_BATCH_SIZE=1
        set +a
        NUM_SHARD=2
        text-generation-launcher --model-id m
    """,
    )
    assert [s.get(PRECISION) for s in found] == [None, "int8", "int8"]
    assert found[2].get(BATCH_SIZE) == 1
    assert not found[2].has(TENSOR_PARALLEL)
    assert found[1].get(LLM_INT8_THRESHOLD) == 6.0
    assert line_of(found[1], QUANT_CONFIG) == 1  # the assignment that set it


def test_shell_env_prefix_and_export_with_value(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "run.sh",
        """
        export QUANTIZE=bitsandbytes-nf4
        CUDA_VISIBLE_DEVICES=0 MAX_BATCH_SIZE=1 text-generation-launcher --model-id m
        text-generation-launcher --model-id m
    """,
    )
    assert [s.get(BATCH_SIZE) for s in found] == [1, None]
    assert [s.get(PRECISION) for s in found] == ["nf4", "nf4"]


def test_shell_arrays_expand_with_element_locations(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        ARGS=(
          --model Qwen/Qwen2.5-1.5B-Instruct
          # a comment inside an array is fine in bash
          --quantization=fp8
        )
        ARGS+=(--enforce-eager)
        exec python -m vllm.entrypoints.openai.api_server "${ARGS[@]}" --max-num-seqs 256
    """,
        )
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert line_of(setup, QUANT_CONFIG) == 4
    assert line_of(setup, ENFORCE_EAGER) == 6
    assert setup.get(BATCH_SIZE) == 256
    assert setup.origin.line == 7


def test_shell_unquoted_variable_word_splits(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        EXTRA="--enforce-eager --max-num-seqs 1"
        vllm serve m --quantization fp8 $EXTRA
        vllm serve m --quantization fp8 "$EXTRA"
    """,
        )[:1]
    )
    assert setup.get(ENFORCE_EAGER) is True
    assert setup.get(BATCH_SIZE) == 1


def test_shell_nohup_background_and_redirects(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "serve.sh",
        """
        nohup vllm serve a --max-num-seqs 1 > vllm.log 2>&1 &
        vllm serve b --max-num-seqs 2 &>> vllm.log && echo started; vllm serve c --max-num-seqs 3 | tee log
    """,
    )
    assert [s.get(MODEL) for s in found] == ["a", "b", "c"]
    assert [s.get(BATCH_SIZE) for s in found] == [1, 2, 3]


def test_shell_commented_out_and_echoed_commands_are_not_setups(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            shell,
            "serve.sh",
            """
        # vllm serve m --max-num-seqs 1
        echo "vllm serve m --max-num-seqs 1"
        printf '%s\\n' "ollama run qwen2:1.5b-instruct-q4_K_M"
        cat <<EOF
        vllm serve m --max-num-seqs 1
        EOF
        logger vllm serve m --enforce-eager
    """,
        )
        == []
    )


def test_shell_keywords_functions_and_conditions(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "serve.sh",
        """
        serve() {
          vllm serve "$1" --max-num-seqs 1
        }
        if [ -n "${GPU:-}" ]; then vllm serve gpu-model --max-num-seqs 4; else ollama run qwen2:0.5b; fi
        if ! command -v vllm >/dev/null; then pip install vllm; fi
    """,
    )
    assert [s.framework for s in found] == ["vllm", "vllm", "ollama"]
    assert found[0].get(MODEL) == "$1"  # unknown at lint time, kept as written
    assert found[1].get(BATCH_SIZE) == 4


def test_shell_tokenising_error_skips_only_that_command(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "serve.sh",
        """
        vllm serve a --max-num-seqs 1 'unclosed
        vllm serve b --max-num-seqs 2
        X=$(( 1 +
        vllm serve c --max-num-seqs=3
    """,
    )
    assert "b" in [s.get(MODEL) for s in found]


def test_shell_docker_run_env_and_image_args(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "docker.sh",
        """
        model=TinyLlama/TinyLlama-1.1B-Chat-v1.0
        export HF_TOKEN=x
        docker run -d --rm --gpus all --shm-size 1g -p 8080:80 -v $PWD/data:/data \\
          -e QUANTIZE=bitsandbytes --env MAX_BATCH_SIZE=1 --env=NUM_SHARD=2 -e HF_TOKEN \\
          ghcr.io/huggingface/text-generation-inference:2.4.0 --model-id $model
        docker run --env-file tgi.env ghcr.io/huggingface/text-generation-inference:2.4.0
        docker run --entrypoint /bin/sh vllm/vllm-openai:latest -c "vllm serve m --enforce-eager --quantization fp8"
        docker run -it --rm nginx:latest
    """,
        extra={"tgi.env": "MODEL_ID=Qwen/Qwen2.5-1.5B-Instruct\nQUANTIZE=bitsandbytes-nf4\n"},
    )
    assert [s.framework for s in found] == ["tgi", "tgi", "vllm"]
    first = found[0]
    assert first.get(MODEL) == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert first.get(PRECISION) == "int8"
    assert line_of(first, QUANT_CONFIG) == 4
    assert (first.get(BATCH_SIZE), first.get(TENSOR_PARALLEL)) == (1, 2)
    assert found[1].get(PRECISION) == "nf4"
    assert found[1].get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert found[2].get(ENFORCE_EAGER) is True


def test_shell_host_env_does_not_leak_into_a_container(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "docker.sh",
            """
        export QUANTIZE=bitsandbytes
        docker run ghcr.io/huggingface/text-generation-inference:2.4.0 --model-id m
    """,
        )
    )
    assert not setup.has(PRECISION)


def test_shell_heredoc_modelfile(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        shell,
        "setup.sh",
        """
        BASE=qwen2:1.5b-instruct-q4_K_M
        cat > Modelfile <<EOF
        FROM $BASE
        PARAMETER num_ctx 4096
        EOF
        cat <<'EOF' > ./models/big.Modelfile
        FROM llama3.1:70b-instruct-q8_0
        EOF
        cat > config.yaml <<EOF
        FROM: nothing
        EOF
        ollama create small -f Modelfile
    """,
    )
    assert [s.get(MODEL) for s in found] == ["qwen2:1.5b-instruct-q4_K_M", "llama3.1:70b-instruct-q8_0"]
    assert found[0].origin.line == 3
    assert found[0].get(PRECISION) == "gguf-q4"
    assert found[1].get(PRECISION) == "gguf-q8"


def test_shell_source_env_file(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "scripts/run.sh",
            """
        set -a
        source ./settings.env
        set +a
        text-generation-launcher --port 8080
    """,
            extra={"scripts/settings.env": "MODEL_ID=Qwen/Qwen2.5-0.5B-Instruct\nQUANTIZE=bitsandbytes\n"},
        )
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert setup.get(PRECISION) == "int8"


def test_shell_source_file_is_found_beside_the_script_whatever_the_process_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The display path is relative to the run's cwd (the context's), not to the process's: an
    # editor or the LSP runs ecolint from elsewhere.
    project = tmp_path / "proj"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts/settings.env").write_text("MODEL_ID=Qwen/Qwen2.5-0.5B-Instruct\nQUANTIZE=bitsandbytes\n")
    text = "set -a\nsource ./settings.env\nset +a\ntext-generation-launcher --port 8080\n"
    (project / "scripts/run.sh").write_text(text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    context = ExtractContext(root=project, read_text=_context(project).read_text, cwd=tmp_path)
    setup = only(shell.extract("proj/scripts/run.sh", text, context))
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert setup.get(PRECISION) == "int8"


def test_shell_bash_c_string(tmp_path: Path) -> None:
    command = 'bash -c "vllm serve m --quantization fp8 --enforce-eager"'
    setup = only(run(tmp_path, shell, "serve.sh", command + "\n"))
    where = setup.where(ENFORCE_EAGER)
    assert (where.line, where.column) == (1, command.index("--enforce-eager") + 1)


def test_shell_clean_fp8_without_eager_and_big_batch(tmp_path: Path) -> None:
    setup = only(
        run(tmp_path, shell, "serve.sh", "vllm serve Qwen/Qwen2.5-7B-Instruct --quantization fp8 --max-num-seqs 256\n")
    )
    assert setup.get(PRECISION) == "fp8"
    assert not setup.has(ENFORCE_EAGER)
    assert setup.get(BATCH_SIZE) == 256


def test_shell_nf4_on_70b_still_extracts(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            shell,
            "serve.sh",
            "vllm serve meta-llama/Llama-3.1-70B-Instruct --quantization bitsandbytes -tp 4\n",
        )
    )
    assert (setup.get(PRECISION), setup.get(TENSOR_PARALLEL)) == ("nf4", 4)


# =============================================================================================
# Dockerfile
# =============================================================================================


def test_dockerfile_exec_form_cmd_across_lines_with_comments(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM vllm/vllm-openai:v0.6.3
        CMD ["--model", "Qwen/Qwen2.5-1.5B-Instruct", \\
             "--quantization", "fp8", \\
             # comment lines inside a continuation are dropped by Docker
             "--enforce-eager", \\
             "--max-num-seqs=1"]
    """,
        )
    )
    assert setup.framework == "vllm"
    assert setup.origin.line == 1  # the base image names the launcher
    assert (line_of(setup, QUANT_CONFIG), line_of(setup, ENFORCE_EAGER), line_of(setup, BATCH_SIZE)) == (3, 5, 6)
    assert setup.where(ENFORCE_EAGER).column == 6


def test_dockerfile_clean_fp8_without_eager(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM vllm/vllm-openai:v0.6.3
        CMD ["--model", "Qwen/Qwen2.5-7B-Instruct", "--quantization", "fp8", "--max-num-seqs", "256"]
    """,
        )
    )
    assert not setup.has(ENFORCE_EAGER)
    assert setup.get(BATCH_SIZE) == 256


def test_dockerfile_entrypoint_and_cmd_combine(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM python:3.11
        ENTRYPOINT ["vllm", "serve"]
        CMD ["Qwen/Qwen2.5-1.5B-Instruct", "--max-num-seqs", "1"]
    """,
        )
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert setup.origin.line == 2
    assert setup.get(BATCH_SIZE) == 1


def test_dockerfile_shell_form_entrypoint_ignores_cmd(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM python:3.11
        ENV MODEL=Qwen/Qwen2.5-0.5B-Instruct
        ENTRYPOINT vllm serve $MODEL --max-num-seqs 4
        CMD ["--max-num-seqs", "1"]
    """,
        )
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert setup.get(BATCH_SIZE) == 4
    assert line_of(setup, BATCH_SIZE) == 3


def test_dockerfile_base_image_implies_launcher_and_env(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "tgi.Dockerfile",
            """
        ARG QUANT=bitsandbytes
        FROM ghcr.io/huggingface/text-generation-inference:2.4.0
        ARG QUANT
        ENV MODEL_ID=TinyLlama/TinyLlama-1.1B-Chat-v1.0 \\
            QUANTIZE=${QUANT}
        ENV CUDA_GRAPHS 0
    """,
        )
    )
    assert setup.framework == "tgi"
    assert setup.get(PRECISION) == "int8"
    assert line_of(setup, QUANT_CONFIG) == 5
    assert setup.get(ENFORCE_EAGER) is True


def test_dockerfile_stages_entrypoint_resets_inherited_cmd(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        dockerfile,
        "Dockerfile",
        """
        FROM vllm/vllm-openai:v0.6.3 AS base
        CMD ["--model", "m", "--max-num-seqs", "1"]

        FROM base AS runtime
        ENTRYPOINT ["python3", "-m", "vllm.entrypoints.openai.api_server"]
    """,
    )
    setup = only(found)
    assert not setup.has(BATCH_SIZE)  # CMD of the base stage no longer applies


def test_dockerfile_only_final_stage_runs_but_every_run_line_counts(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        dockerfile,
        "Dockerfile",
        """
        FROM ollama/ollama:0.3.14 AS models
        RUN ollama serve & sleep 5 && ollama pull qwen2:1.5b-instruct-q4_K_M
        RUN ["ollama", "pull", "qwen2:0.5b-instruct-q8_0"]
        RUN <<EOF
        set -e
        llama-quantize /m/in-f16.gguf /m/out.Q4_K_M.gguf Q4_K_M
        EOF
        CMD ["ollama", "run", "never-runs:1b"]
        FROM python:3.11-slim
        CMD ["python", "app.py"]
    """,
    )
    # pulls and llama-quantize only prepare files (launchers/prepare.py); the CMD of the first
    # stage never runs: nothing here is a setup
    assert found == []


def test_dockerfile_copy_heredoc_modelfile(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM python:3.11
        COPY <<EOF /root/Modelfile
        FROM qwen2.5:0.5b-instruct-q4_K_M
        EOF
    """,
        )
    )
    assert (setup.framework, setup.origin.line, setup.get(PRECISION)) == ("ollama", 3, "gguf-q4")


def test_dockerfile_invalid_json_is_shell_form_and_escape_directive(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        # escape=`
        FROM python:3.11
        CMD vllm serve m `
            --max-num-seqs 1
    """,
        )
    )
    assert setup.get(BATCH_SIZE) == 1
    assert line_of(setup, BATCH_SIZE) == 4
    # Not JSON: Docker runs it with /bin/sh -c, where "[vllm," is no launcher.
    assert run(tmp_path, dockerfile, "Dockerfile", 'FROM python:3.11\nCMD ["vllm", "serve", m --enforce-eager]\n') == []


def test_dockerfile_without_launcher_is_clean(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM python:3.11
        RUN pip install vllm
        CMD ["python", "-m", "http.server"]
    """,
        )
        == []
    )


# =============================================================================================
# docker-compose
# =============================================================================================


COMPOSE = """
    x-tgi: &tgi
      image: ghcr.io/huggingface/text-generation-inference:${TGI_VERSION:-2.4.0}
      environment: &tgi-env
        MAX_TOTAL_TOKENS: "2048"
    services:
      int8:
        <<: *tgi
        environment:
          - MODEL_ID=${MODEL_ID}
          - QUANTIZE=${QUANTIZE:-bitsandbytes}
      nf4:
        <<: *tgi
        env_file: [nf4.env]
        command: --max-batch-size 1 --num-shard=${SHARDS:-1}
      vllm:
        image: vllm/vllm-openai:v0.6.3
        command: ["--model", "${CHAT_MODEL}", "--quantization", "fp8", "--max-num-seqs", "256"]
      raw:
        image: vllm/vllm-openai:v0.6.3
        command: --model ${UNSET_MODEL} --price $$5
      ollama:
        image: ollama/ollama
        environment:
          OLLAMA_NUM_PARALLEL: 1
        entrypoint: ["/bin/sh", "-c", "ollama serve & sleep 5 && ollama pull qwen2:0.5b-instruct-q4_0 && wait"]
      web:
        image: nginx
"""


def test_compose_services_env_interpolation_anchors(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        manifests,
        "docker-compose.yml",
        COMPOSE,
        extra={
            ".env": "MODEL_ID=TinyLlama/TinyLlama-1.1B-Chat-v1.0\nSHARDS=2\nCHAT_MODEL=Qwen/Qwen2.5-7B-Instruct\n",
            "nf4.env": "MODEL_ID=Qwen/Qwen2.5-1.5B-Instruct\nQUANTIZE=bitsandbytes-nf4\n",
        },
    )
    by_label: dict[str, list[Setup]] = {}
    for setup in found:
        by_label.setdefault(setup.label or "", []).append(setup)
    assert sorted(by_label) == ["int8", "nf4", "ollama", "raw", "vllm"]
    int8 = by_label["int8"][0]
    assert (int8.get(MODEL), int8.get(PRECISION)) == ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "int8")
    assert line_of(int8, QUANT_CONFIG) == 10
    assert int8.get("max_total_tokens") is None  # the service's own environment replaces the anchor's
    nf4 = by_label["nf4"][0]
    assert (nf4.get(PRECISION), nf4.get(BATCH_SIZE), nf4.get(TENSOR_PARALLEL)) == ("nf4", 1, 2)
    assert line_of(nf4, BATCH_SIZE) == 14
    vllm = by_label["vllm"][0]
    assert (vllm.get(MODEL), vllm.get(BATCH_SIZE), vllm.has(ENFORCE_EAGER)) == ("Qwen/Qwen2.5-7B-Instruct", 256, False)
    assert by_label["raw"][0].get(MODEL) == "${UNSET_MODEL}"  # unknown here: kept, not emptied
    (batch,) = by_label["ollama"]  # `ollama pull` in the same script only downloads: no setup
    assert batch.get(BATCH_SIZE) == 1 and line_of(batch, BATCH_SIZE) == 24


def test_compose_without_launcher_is_clean(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            manifests,
            "compose.yaml",
            """
        services:
          db: {image: postgres:16, environment: [POSTGRES_PASSWORD=x]}
          app: {build: ., command: python app.py}
    """,
        )
        == []
    )


# =============================================================================================
# Kubernetes
# =============================================================================================

DEPLOYMENT = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: tgi-settings}
    data:
      MODEL_ID: Qwen/Qwen2.5-1.5B-Instruct
      QUANTIZE: bitsandbytes
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: chat
    spec:
      template:
        spec:
          nodeSelector:
            nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB
          initContainers:
            - name: fetch
              image: ollama/ollama
              command: [ollama, pull, "qwen2:0.5b-instruct-q4_K_M"]
          containers:
            - name: tgi
              image: ghcr.io/huggingface/text-generation-inference:2.4.0
              envFrom:
                - configMapRef: {name: tgi-settings}
                - configMapRef: {name: sibling-settings}
              args: ["--max-batch-size", "$(BATCH)", "--num-shard", "$$(NOT_EXPANDED)"]
              env:
                - name: BATCH
                  valueFrom:
                    configMapKeyRef: {name: sibling-settings, key: MAX_BATCH}
            - name: vllm
              image: vllm/vllm-openai:v0.6.3
              env:
                - {name: MODEL, value: meta-llama/Llama-3.1-8B-Instruct}
                - {name: ARGS, value: "--enforce-eager"}
              args: ["--model", "$(MODEL)", "--quantization", "fp8", "$(ARGS)", "$(UNDEFINED)"]
            - name: sidecar
              image: busybox
              command: [sh, -c, "sleep infinity"]
"""


def test_k8s_deployment_configmaps_expansion_gpu(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        manifests,
        "k8s/deployment.yaml",
        DEPLOYMENT,
        extra={
            "k8s/settings.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: sibling-settings
            data:
              MAX_BATCH: "1"
        """,
        },
    )
    labels = [s.label for s in found]
    # the init container only pulls a model: no setup (launchers/prepare.py)
    assert labels == ["Deployment/chat/tgi", "Deployment/chat/vllm"]
    tgi, vllm = found
    assert (tgi.get(MODEL), tgi.get(PRECISION)) == ("Qwen/Qwen2.5-1.5B-Instruct", "int8")
    assert line_of(tgi, QUANT_CONFIG) == 6  # the ConfigMap key, same file
    assert tgi.get(BATCH_SIZE) == 1  # $(BATCH) from a ConfigMap in a sibling file
    assert not tgi.has(TENSOR_PARALLEL)  # $$(…) is an escape, not a reference
    assert tgi.get(GPU) == "NVIDIA-A100-SXM4-80GB"
    assert tgi.facts[GPU].how == "platform:nodeSelector"
    assert line_of(tgi, GPU) == 16
    assert (vllm.get(MODEL), vllm.get(ENFORCE_EAGER)) == ("meta-llama/Llama-3.1-8B-Instruct", True)


def test_k8s_sibling_configmap_location_stays_in_this_file(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            manifests,
            "deploy/pod.yaml",
            """
        apiVersion: v1
        kind: Pod
        metadata: {name: tgi}
        spec:
          containers:
            - name: tgi
              image: ghcr.io/huggingface/text-generation-inference:2.4.0
              envFrom:
                - configMapRef:
                    name: settings
    """,
            extra={
                "deploy/cm.yml": "kind: ConfigMap\nmetadata: {name: settings}\ndata: {QUANTIZE: bitsandbytes-nf4}\n"
            },
        )
    )
    assert setup.get(PRECISION) == "nf4"
    where = setup.where(QUANT_CONFIG)
    assert where.path.endswith("pod.yaml") and where.line == 9


@pytest.mark.parametrize(
    "selector, gpu",
    [
        ("nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}", "nvidia-l4"),
        ("nodeSelector: {karpenter.k8s.aws/instance-gpu-name: a10g}", "a10g"),
        (
            "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: nvidia.com/gpu.product, operator: In, values: [NVIDIA-L40S]}]}]}}}",
            "NVIDIA-L40S",
        ),
        ("nodeSelector: {kubernetes.io/os: linux}", None),
    ],
)
def test_k8s_gpu_labels(tmp_path: Path, selector: str, gpu: str | None) -> None:
    setup = only(
        run(
            tmp_path,
            manifests,
            "pod.yaml",
            f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: p}}
        spec:
          {selector}
          containers:
            - {{name: c, image: vllm/vllm-openai, args: [--model, m]}}
    """,
        )
    )
    assert setup.get(GPU) == gpu


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "CronJob", "InferenceService"])
def test_k8s_any_kind_with_a_containers_list(tmp_path: Path, kind: str) -> None:
    setup = only(
        run(
            tmp_path,
            manifests,
            "w.yaml",
            f"""
        apiVersion: x/v1
        kind: {kind}
        metadata: {{name: w}}
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: sglang
                      image: lmsysorg/sglang:latest
                      command: [python3, -m, sglang.launch_server, --model-path, Qwen/Qwen2.5-0.5B-Instruct, --max-running-requests, "1"]
    """,
        )
    )
    assert setup.label == f"{kind}/w/sglang"
    assert setup.get(BATCH_SIZE) == 1


def test_k8s_block_scalar_sh_c_locations(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            manifests,
            "pod.yaml",
            """
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: c
              image: vllm/vllm-openai
              command: ["/bin/sh", "-c"]
              args:
                - |
                  pip list
                  vllm serve m --quantization fp8 \\
                    --enforce-eager
    """,
        )
    )
    where = setup.where(ENFORCE_EAGER)
    assert (where.line, where.column) == (12, 13)
    assert (setup.origin.line, setup.origin.column) == (11, 11)


# =============================================================================================
# GitHub Actions workflows
# =============================================================================================


def test_workflow_run_steps_env_levels_and_services(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        manifests,
        ".github/workflows/ci.yml",
        """
        on: [push]
        env:
          MODEL: Qwen/Qwen2.5-0.5B-Instruct
          SEQS: "8"
        jobs:
          smoke:
            runs-on: ubuntu-latest
            env:
              SEQS: "4"
            strategy:
              matrix:
                quant: [fp8]
            services:
              tgi:
                image: ghcr.io/huggingface/text-generation-inference:2.4.0
                env:
                  MODEL_ID: TinyLlama/TinyLlama-1.1B-Chat-v1.0
                  QUANTIZE: bitsandbytes
            steps:
              - uses: actions/checkout@v4
              - name: serve
                env:
                  SEQS: "1"
                run: |
                  vllm serve "$MODEL" --max-num-seqs $SEQS --quantization ${{ matrix.quant }} &
                  vllm serve ${{ env.MODEL }} --max-num-seqs ${{ inputs.seqs }}
              - name: job level
                run: vllm serve "$MODEL" --max-num-seqs "$SEQS"
              - name: not shell
                shell: python
                run: print("vllm serve m --max-num-seqs 1")
    """,
    )
    assert [s.label for s in found] == ["smoke/tgi", "smoke/serve", "smoke/serve", "smoke/job level"]
    tgi, first, second, job = found
    assert tgi.get(PRECISION) == "int8"
    assert (first.get(MODEL), first.get(BATCH_SIZE), first.get(PRECISION)) == ("Qwen/Qwen2.5-0.5B-Instruct", 1, "fp8")
    assert line_of(first, BATCH_SIZE) == 25
    assert second.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct" and not second.has(BATCH_SIZE)
    assert job.get(BATCH_SIZE) == 4


# =============================================================================================
# Helm
# =============================================================================================


def test_helm_values_args_and_flag_keys(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        manifests,
        "chart/values.yaml",
        """
        image:
          repository: vllm/vllm-openai
          tag: v0.6.3
        model: Qwen/Qwen2.5-1.5B-Instruct
        extraArgs:
          - --quantization=fp8
          - --enforce-eager
        maxNumSeqs: 1
        tensorParallelSize: 2
        resources: {limits: {nvidia.com/gpu: 1}}
    """,
    )
    setup = only(found)
    assert (setup.framework, setup.get(MODEL), setup.get(PRECISION)) == ("vllm", "Qwen/Qwen2.5-1.5B-Instruct", "fp8")
    assert (line_of(setup, ENFORCE_EAGER), line_of(setup, BATCH_SIZE), setup.get(TENSOR_PARALLEL)) == (7, 8, 2)
    assert setup.origin.line == 4


def test_helm_framework_from_key_path_and_ollama_models(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        manifests,
        "values.yaml",
        """
        sglang:
          modelName: Qwen/Qwen2.5-0.5B-Instruct
          args: ["--max-running-requests", "1"]
        ollama:
          models:
            pull: [qwen2:1.5b-instruct-q4_K_M]
    """,
    )
    assert [s.framework for s in found] == ["sglang", "ollama"]
    assert found[0].get(BATCH_SIZE) == 1
    assert found[1].get(PRECISION) == "gguf-q4"


def test_helm_values_without_a_launcher_are_clean(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            manifests,
            "values.yaml",
            """
        image: {repository: my/app}
        args: ["--verbose"]
        model: something
    """,
        )
        == []
    )


def test_helm_templates_are_skipped_quietly(tmp_path: Path) -> None:
    template = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ include "x.fullname" . }}
        spec:
          {{- with .Values.nodeSelector }}
          nodeSelector: {{ toYaml . | nindent 8 }}
          {{- end }}
          containers:
            - args: [vllm, serve, {{ .Values.model | quote }}, --max-num-seqs, "1"]
    """
    assert run(tmp_path, manifests, "chart/templates/deployment.yaml", template) == []
    assert run(tmp_path, manifests, "elsewhere/broken.yaml", "a: {{ .Values.x }\n  b: [\n") == []


# =============================================================================================
# YAML errors and hostile input
# =============================================================================================


def test_invalid_yaml_is_an_extract_error_with_a_line(tmp_path: Path) -> None:
    with pytest.raises(ExtractError) as info:
        run(tmp_path, manifests, "bad.yaml", "services:\n  a:\n    image: [unclosed\n  b: c\n")
    assert info.value.line >= 3
    assert "invalid YAML" in info.value.message


def test_alias_bomb_stays_small_in_work_and_memory(tmp_path: Path) -> None:
    """Aliases stay shared nodes: the extractor's work is a few thousand Python calls and its
    memory a few MB, where an expansion would take billions (counted, not timed: a bound that
    does not depend on the machine)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijklmnopqrstuvwxyz":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines += [
        "services:",
        "  x: {image: vllm/vllm-openai, command: *z, environment: *z, entrypoint: *z}",
        "spec:",
        "  containers: [{name: c, image: vllm/vllm-openai, args: *z, env: *z, command: *z}]",
        "<<: [*z, *y, *x]",
    ]
    text = "\n".join(lines) + "\n"
    context = _context(tmp_path)
    manifests.extract("warm.yaml", "a: 1\n", context)  # first-use imports are not the bomb's work
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event == "call"

    tracemalloc.start()
    sys.setprofile(count)
    try:
        with contextlib.suppress(ExtractError):
            manifests.extract("bomb.yaml", text, context)
    finally:
        sys.setprofile(None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert calls < 100_000, calls
    assert peak < 50 * 1024 * 1024


def test_deep_nesting_is_an_extract_error_not_a_crash(tmp_path: Path) -> None:
    text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    with contextlib.suppress(ExtractError):
        manifests.extract("deep.yaml", text, _context(tmp_path))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a string\n",
        "- 1\n- 2\n",
        "--- null\n",
        "? [a]\n: b\n",
        "services: 3\n",
        "jobs: []\n",
        "kind: Pod\nspec: {containers: oops}\n",
    ],
)
def test_odd_but_valid_yaml_gives_nothing(tmp_path: Path, text: str) -> None:
    assert manifests.extract("odd.yaml", text, _context(tmp_path)) == []


# =============================================================================================
# Modelfile
# =============================================================================================


def test_modelfile_from_tag_and_parameters(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            modelfile,
            "Modelfile",
            '''
        # comment
        FROM qwen2:1.5b-instruct-q4_K_M
        PARAMETER num_ctx 4096
        PARAMETER num_batch 1
        PARAMETER temperature 0.2
        PARAMETER stop "<|im_end|>"
        TEMPLATE """{{ .System }}
        FROM this-is-template-text
        """
        SYSTEM You are terse.
    ''',
        )
    )
    assert (setup.framework, setup.get(MODEL), setup.get(PRECISION)) == (
        "ollama",
        "qwen2:1.5b-instruct-q4_K_M",
        "gguf-q4",
    )
    assert setup.origin.line == 2 and line_of(setup, QUANT_CONFIG) == 2
    assert setup.get("param.num_ctx") == 4096
    assert setup.get("param.temperature") == 0.2
    assert setup.get("param.stop") == "<|im_end|>"
    assert not setup.has(BATCH_SIZE)  # num_batch is the prompt-processing batch


def test_modelfile_case_insensitive_gguf_path(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            modelfile,
            "big.Modelfile",
            "from ./weights/Meta-Llama-3.1-70B-Instruct-Q4_K_M.gguf\nparameter num_ctx 8192\n",
        )
    )
    assert setup.get(PRECISION) == "gguf-q4"
    assert setup.get("param.num_ctx") == 8192


def test_modelfile_full_precision_is_clean(tmp_path: Path) -> None:
    setup = only(run(tmp_path, modelfile, "Modelfile", "FROM llama3.2:3b-instruct-fp16\n"))
    assert setup.get(PRECISION) == "gguf-f16"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty Modelfile"),
        ("  \n\n", "empty Modelfile"),
        ("# only a comment\n", "empty Modelfile"),
        ("PARAMETER num_ctx 1\n", "no FROM"),
    ],
)
def test_modelfile_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ExtractError) as info:
        modelfile.extract("Modelfile", text, _context(tmp_path))
    assert message in info.value.message


# =============================================================================================
# Never a traceback
# =============================================================================================

_PIECES = [
    "vllm serve",
    "m",
    "--max-num-seqs",
    "1",
    '"',
    "'",
    "\\\n",
    "$(",
    "${",
    "}",
    ")",
    "`",
    "<<EOF",
    "EOF",
    "\n",
    "#",
    "&&",
    "|",
    ";",
    "ARR=(",
    "docker run",
    "-e",
    "ghcr.io/huggingface/text-generation-inference",
    "[",
    "]",
    "{",
    ":",
    "- ",
    "  ",
    "CMD",
    "FROM",
    "ENV",
    "=",
    "\t",
    "\x00",
    "é",
    "sh -c",
    "*a",
    "&a",
]


@pytest.mark.parametrize("seed", range(40))
def test_garbage_never_raises_anything_but_extract_error(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 60)))
    for module, name in ((shell, "x.sh"), (dockerfile, "Dockerfile"), (manifests, "x.yaml"), (modelfile, "Modelfile")):
        with contextlib.suppress(ExtractError):
            module.extract(str(tmp_path / name), text, _context(tmp_path))


def test_compose_command_that_repeats_the_launcher(tmp_path: Path) -> None:
    setup = only(
        run(
            tmp_path,
            manifests,
            "compose.yaml",
            """
        services:
          vllm:
            image: vllm/vllm-openai:v0.6.3
            command: vllm serve Qwen/Qwen2.5-0.5B-Instruct --max-num-seqs 1
    """,
        )
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert setup.get(BATCH_SIZE) == 1


def test_dockerfile_run_heredoc_for_another_interpreter_is_not_shell(tmp_path: Path) -> None:
    assert (
        run(
            tmp_path,
            dockerfile,
            "Dockerfile",
            """
        FROM python:3.11
        RUN python3 <<EOF
        print("vllm serve m --max-num-seqs 1")
        EOF
    """,
        )
        == []
    )


def test_every_fixture_setup_starts_at_a_trigger_token() -> None:
    """Every fixture that yields a setup passes the byte prefilter (its kind's trigger tokens or
    patterns, kept in ecolint/extract/__init__.py), so a file that does not can be skipped unread."""
    from ecolint.discover import classify
    from ecolint.prefilter import may_hold_setup_bytes

    root = Path(__file__).resolve().parent.parent / "fixtures" / "launch"
    modules = {"shell": shell, "dockerfile": dockerfile, "yaml": manifests, "modelfile": modelfile}
    checked = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        kind = classify(path, data[:256])
        if kind not in modules:
            continue
        setups = modules[kind].extract(str(path), data.decode("utf-8"), _context(root))
        if not setups or kind == "modelfile":
            continue
        checked += 1
        assert may_hold_setup_bytes(kind, data), path
    assert checked >= 10


def test_deeply_nested_shell_expansion_skips_only_that_command(tmp_path: Path) -> None:
    nested = "${A:-" * 3000 + "x" + "}" * 3000
    found = run(tmp_path, shell, "serve.sh", f"vllm serve {nested} --max-num-seqs 1\nvllm serve b --max-num-seqs 2\n")
    assert [s.get(MODEL) for s in found][-1] == "b"


def test_large_legitimate_yaml_is_not_mistaken_for_a_bomb(tmp_path: Path) -> None:
    parts = ["image:\n  repository: vllm/vllm-openai\n"]
    parts += [f"k{i}: {{x: 1}}\n" for i in range(2000)]
    parts.append("models:\n")
    parts += [f"  - name: m{i}\n    model: Qwen/Qwen2.5-{i}B\n    maxNumSeqs: 1\n" for i in range(500)]
    found = manifests.extract("values.yaml", "".join(parts), _context(tmp_path))
    assert len(found) == 500
    assert all(s.get(BATCH_SIZE) == 1 for s in found)


def test_crlf_and_bom_files(tmp_path: Path) -> None:
    script = "\ufeff#!/bin/bash\r\nvllm serve m \\\r\n  --max-num-seqs 1\r\n"
    setup = only(shell.extract("serve.sh", script, _context(tmp_path)))
    assert (setup.get(BATCH_SIZE), line_of(setup, BATCH_SIZE)) == (1, 3)
    docker = '\ufeffFROM vllm/vllm-openai\r\nCMD ["--model", "m", \\\r\n     "--enforce-eager"]\r\n'
    assert only(dockerfile.extract("Dockerfile", docker, _context(tmp_path))).get(ENFORCE_EAGER) is True
    assert (
        only(modelfile.extract("Modelfile", "\ufeffFROM qwen2:0.5b-instruct-q4_0\r\n", _context(tmp_path))).get(
            PRECISION
        )
        == "gguf-q4"
    )


# A CustomResourceDefinition is an API schema: its "containers" describe properties, never a
# workload. Generated CRDs (kserve's LLMInferenceService) mention vllm and run to megabytes.
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: llminferenceservices.serving.kserve.io
spec:
  versions:
    - name: v1alpha1
      schema:
        openAPIV3Schema:
          description: Serves a model with vllm/vllm-openai.
          properties:
            containers:
              - name: main
                image: vllm/vllm-openai:latest
                args: [--model, Qwen/Qwen2-7B, --quantization, fp8, --enforce-eager]
"""
DEPLOYMENT_FP8 = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          args: [--model, Qwen/Qwen2-7B, --quantization, fp8, --enforce-eager]
"""


def test_a_crd_is_a_schema_not_a_workload(tmp_path: Path) -> None:
    assert run(tmp_path, manifests, "crd.yaml", CRD) == []
    # recognised without composing: even a broken one is not read
    assert run(tmp_path, manifests, "broken-crd.yaml", CRD + "  bad: [unclosed\n") == []


def test_a_crd_beside_a_workload_leaves_the_workload(tmp_path: Path) -> None:
    setups = run(tmp_path, manifests, "bundle.yaml", CRD + "---\n" + DEPLOYMENT_FP8)
    assert [s.framework for s in setups] == ["vllm"]
    assert only(setups).origin.line > CRD.count("\n")
    # a Deployment alone is still read, whatever its documents say about CRDs
    assert [s.framework for s in run(tmp_path, manifests, "deploy.yaml", DEPLOYMENT_FP8)] == ["vllm"]


def test_crds_in_a_bundle_are_skipped_and_the_lines_still_point_at_the_workload(tmp_path: Path) -> None:
    bundle = (
        CRD
        + "---\n"
        + DEPLOYMENT_FP8
        + "---\n"
        + CRD
        + "...\n---\n"
        + DEPLOYMENT_FP8.replace("name: llm", "name: llm2")
    )
    setups = run(tmp_path, manifests, "bundle.yaml", bundle)
    lines = bundle.split("\n")
    flags = [s.where("enforce_eager").line for s in setups]
    assert len(setups) == 2 and all("--enforce-eager" in lines[line - 1] for line in flags)
    assert flags[0] < flags[1] and flags[1] > 2 * CRD.count("\n")
    # CRLF and a bare CR keep their documents too
    crlf = run(tmp_path, manifests, "crlf.yaml", bundle.replace("\n", "\r\n"))
    assert [s.where("enforce_eager").line for s in crlf] == flags


# =============================================================================================
# KServe InferenceService (predictor.model, HuggingFace runtime)
# =============================================================================================

ISVC = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: chat
spec:
  predictor:
    model:
      modelFormat:
        name: {fmt}
      args: {args}
      storageUri: {uri}
"""


@pytest.mark.parametrize(
    "fmt, args, uri, model, eager",
    [
        ("huggingface", "[--enforce-eager]", "hf://Qwen/Qwen2-7B", "Qwen/Qwen2-7B", True),
        (
            "'huggingface'",
            "[--model_id, Qwen/Qwen2-1.5B, --backend, vllm]",
            "pvc://models/qwen",
            "Qwen/Qwen2-1.5B",
            None,
        ),
        (
            "huggingface",
            "['--model-id=Qwen/Qwen2-0.5B', --backend=auto, --enforce-eager]",
            "hf://Qwen/Qwen2-7B",
            "Qwen/Qwen2-0.5B",
            True,
        ),
        ("huggingface", "[--enforce-eager]", "s3://bucket/llm", None, True),
    ],
    ids=["storage-uri", "model-id-and-vllm-backend", "model-id-wins-over-uri", "model-unknown"],
)
def test_kserve_huggingface_runtime_is_read_as_vllm(
    tmp_path: Path, fmt: str, args: str, uri: str, model: str | None, eager: bool | None
) -> None:
    setup = only(run(tmp_path, manifests, "isvc.yaml", ISVC.format(fmt=fmt, args=args, uri=uri)))
    assert setup.framework == "vllm" and setup.label == "InferenceService/chat/predictor"
    assert setup.get(MODEL) == model and setup.get(ENFORCE_EAGER) == eager


@pytest.mark.parametrize(
    "text",
    [
        ISVC.format(fmt="huggingface", args="[--backend=huggingface, --enforce-eager]", uri="hf://Qwen/Qwen2-7B"),
        ISVC.format(fmt="sklearn", args="[--enforce-eager]", uri="gs://models/iris"),
        # the spelling the prefilter looks for (kserve_hf_format): other cases are not read
        ISVC.format(fmt="HuggingFace", args="[--enforce-eager]", uri="hf://Qwen/Qwen2-7B"),
        ISVC.format(fmt="huggingface", args="[--enforce-eager]", uri="hf://Qwen/Qwen2-7B").replace(
            "kind: InferenceService", "kind: ServingRuntime"
        ),
        ISVC.format(fmt="huggingface", args="[--enforce-eager]", uri="hf://Qwen/Qwen2-7B")
        + "    containers:\n      - name: kserve-container\n        image: my-server:1\n",
    ],
    ids=[
        "transformers-backend",
        "other-model-format",
        "format-spelled-otherwise",
        "not-an-inference-service",
        "own-container",
    ],
)
def test_kserve_model_that_is_not_vllm_gives_no_setup(tmp_path: Path, text: str) -> None:
    assert run(tmp_path, manifests, "isvc.yaml", text) == []


def test_the_prefilter_keeps_a_huggingface_inference_service_and_not_a_crd() -> None:
    from ecolint.prefilter import may_hold_setup_bytes

    isvc = ISVC.format(fmt="huggingface", args="[--enforce-eager]", uri="hf://Qwen/Qwen2-7B").encode()
    crd = (
        b"kind: CustomResourceDefinition\nspec:\n  properties:\n    modelFormat:\n      description: e.g. huggingface\n"
    )
    assert may_hold_setup_bytes("yaml", isvc)
    assert may_hold_setup_bytes("yaml", isvc.replace(b"name: huggingface", b'"name": "huggingface"'))
    assert not may_hold_setup_bytes("yaml", crd)
