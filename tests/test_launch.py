"""The one flag parser (ecolint/extract/launchers/): every launcher x every spelling.

Each case is an argv as a container would hand it over; the assertions are on the Setup facts
the rules read (ecolint/setups.py names) and on the locations findings will point at.
"""

from __future__ import annotations

import pytest

from ecolint.extract.launchers.detect import (
    container_argv,
    container_setups,
    image_framework,
    interpret,
    known_flag,
)
from ecolint.extract.launchers.vocab import EnvVal, Tok, gguf_precision
from ecolint.extract.shell import setups_from_script, setups_from_text
from ecolint.setups import (
    BATCH_SIZE,
    COMPILED,
    COMPUTE_DTYPE,
    ENFORCE_EAGER,
    KV_CACHE_DTYPE,
    LLM_INT8_THRESHOLD,
    MODEL,
    PRECISION,
    QUANT_CONFIG,
    TENSOR_PARALLEL,
    THRESHOLD_EXPOSED,
    Location,
    Setup,
)

PATH = "serve.sh"


def toks(command: str, line: int = 1) -> list[Tok]:
    """Split on spaces and give every word its real column on ``line``."""
    out, column = [], 1
    for word in command.split(" "):
        if word:
            out.append(Tok(word, Location(PATH, line, column, line, column + len(word))))
        column += len(word) + 1
    return out


def env(**values: str) -> dict[str, EnvVal]:
    return {key: EnvVal(value, Location(PATH, 9, 1, 9, len(key) + len(value) + 2)) for key, value in values.items()}


def one(command: str, environment: dict[str, EnvVal] | None = None) -> Setup:
    setups = interpret(toks(command), environment, path=PATH, kind="shell")
    assert len(setups) == 1, f"expected one setup from {command!r}, got {setups}"
    return setups[0]


def none(command: str, environment: dict[str, EnvVal] | None = None) -> None:
    assert interpret(toks(command), environment, path=PATH, kind="shell") == []


# ---------------------------------------------------------------------------------------------
# vLLM
# ---------------------------------------------------------------------------------------------

VLLM_LAUNCHERS = [
    "vllm serve Qwen/Qwen2.5-1.5B-Instruct",
    "vllm serve --model Qwen/Qwen2.5-1.5B-Instruct",
    "python -m vllm.entrypoints.openai.api_server --model Qwen/Qwen2.5-1.5B-Instruct",
    "python3 -u -m vllm.entrypoints.openai.api_server --model=Qwen/Qwen2.5-1.5B-Instruct",
    "/opt/venv/bin/vllm serve Qwen/Qwen2.5-1.5B-Instruct",
    "exec nohup vllm serve Qwen/Qwen2.5-1.5B-Instruct",
    "env CUDA_VISIBLE_DEVICES=0 vllm serve Qwen/Qwen2.5-1.5B-Instruct",
    "uv run --with vllm vllm serve Qwen/Qwen2.5-1.5B-Instruct",
    "conda run -n serve --no-capture-output vllm serve Qwen/Qwen2.5-1.5B-Instruct",
    "sudo -E timeout 3600 vllm serve Qwen/Qwen2.5-1.5B-Instruct",
]


@pytest.mark.parametrize("launcher", VLLM_LAUNCHERS)
def test_vllm_launchers_and_model(launcher: str) -> None:
    setup = one(launcher + " --port 8000")
    assert setup.framework == "vllm"
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"


@pytest.mark.parametrize(
    "flags",
    ["--quantization fp8", "--quantization=fp8", "-q fp8", "--quantization FP8"],
)
def test_vllm_quantization_spellings(flags: str) -> None:
    setup = one(f"vllm serve Qwen/Qwen2.5-7B-Instruct {flags}")
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(QUANT_CONFIG).lower() == "fp8"
    assert setup.facts[QUANT_CONFIG].how == "flag"


@pytest.mark.parametrize(
    "flags, expected",
    [
        ("--enforce-eager", True),
        ("--enforce_eager", True),
        ("--enforce-eager=true", True),
        ("--enforce-eager=True", True),
        ("--enforce-eager=1", True),
        ("--enforce-eager=false", False),
        ("--no-enforce-eager", False),
    ],
)
def test_vllm_enforce_eager_spellings(flags: str, expected: bool) -> None:
    setup = one(f"vllm serve m --quantization fp8 {flags}")
    assert setup.get(ENFORCE_EAGER) is expected


def test_vllm_no_enforce_eager_means_no_fact() -> None:
    setup = one("vllm serve m --quantization fp8")
    assert not setup.has(ENFORCE_EAGER)


@pytest.mark.parametrize(
    "flags",
    ["--max-num-seqs 1", "--max-num-seqs=1", "--max_num_seqs 1", "--max_num_seqs=1"],
)
def test_vllm_batch_size_spellings(flags: str) -> None:
    assert one(f"vllm serve m {flags}").get(BATCH_SIZE) == 1


def test_vllm_batch_size_256_is_recorded_as_256() -> None:
    assert one("vllm serve m --max-num-seqs 256").get(BATCH_SIZE) == 256


def test_vllm_unresolved_value_says_nothing() -> None:
    setup = one("vllm serve m --max-num-seqs $MAX_SEQS --quantization ${QUANT}")
    assert not setup.has(BATCH_SIZE)
    assert not setup.has(PRECISION)


@pytest.mark.parametrize(
    "flags",
    ["-tp 2", "--tensor-parallel-size 2", "--tensor-parallel-size=2", "--tensor_parallel_size 2"],
)
def test_vllm_tensor_parallel_spellings(flags: str) -> None:
    assert one(f"vllm serve m {flags}").get(TENSOR_PARALLEL) == 2


def test_vllm_bitsandbytes_is_inflight_4bit() -> None:
    setup = one("vllm serve meta-llama/Llama-3.1-70B-Instruct --quantization bitsandbytes")
    assert setup.get(PRECISION) == "nf4"  # extracted even at 70B: the rule decides
    assert setup.get(QUANT_CONFIG) == "bitsandbytes"


def test_vllm_load_format_bitsandbytes_alone_is_4bit() -> None:
    setup = one("vllm serve Qwen/Qwen2.5-0.5B-Instruct --load-format bitsandbytes")
    assert setup.get(PRECISION) == "nf4"
    assert setup.get(QUANT_CONFIG) == "bitsandbytes"


@pytest.mark.parametrize("model", ["someone/Llama-3-8B-bnb-8bit", "org/opt-1.3b-int8", "x/model-8bit"])
def test_vllm_bitsandbytes_with_8bit_checkpoint_is_int8(model: str) -> None:
    setup = one(f"vllm serve {model} --quantization bitsandbytes")
    assert setup.get(PRECISION) == "int8"
    # LLM.int8 with the checkpoint's threshold: vLLM has no flag for it
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0 and setup.get(THRESHOLD_EXPOSED) is False


def test_vllm_inflight_bitsandbytes_has_no_int8_threshold() -> None:
    setup = one("vllm serve Qwen/Qwen2-7B --quantization bitsandbytes")
    assert setup.get(PRECISION) == "nf4" and not setup.has(LLM_INT8_THRESHOLD)


@pytest.mark.parametrize(
    "model, precision",
    [
        ("Qwen/Qwen2.5-7B-Instruct-AWQ", "awq"),
        ("TheBloke/Llama-2-7B-GPTQ", "gptq"),
        ("neuralmagic/Meta-Llama-3-8B-Instruct-FP8", "fp8"),
        ("unsloth/Llama-3.2-1B-Instruct-bnb-4bit", "nf4"),
        ("./models/tinyllama-1.1b-chat.Q4_K_M.gguf", "gguf-q4"),
    ],
)
def test_vllm_checkpoint_names_carry_their_precision(model: str, precision: str) -> None:
    setup = one(f"vllm serve {model}")
    assert setup.get(PRECISION) == precision
    assert setup.facts[PRECISION].how == "filename"


@pytest.mark.parametrize(
    "method, precision",
    [
        ("awq", "awq"),
        ("awq_marlin", "awq"),
        ("gptq_marlin", "gptq"),
        ("fbgemm_fp8", "fp8"),
        ("compressed-tensors", "compressed-tensors"),
    ],
)
def test_vllm_quantization_methods(method: str, precision: str) -> None:
    assert one(f"vllm serve m --quantization {method}").get(PRECISION) == precision


@pytest.mark.parametrize(
    "dtype, precision", [("half", "fp16"), ("float16", "fp16"), ("bfloat16", "bf16"), ("float32", "fp32")]
)
def test_vllm_dtype_without_quantization(dtype: str, precision: str) -> None:
    assert one(f"vllm serve m --dtype {dtype}").get(PRECISION) == precision


def test_vllm_dtype_with_quantization_is_compute_dtype() -> None:
    setup = one("vllm serve m --quantization fp8 --dtype bfloat16")
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(COMPUTE_DTYPE) == "bf16"


def test_vllm_kv_cache_dtype() -> None:
    assert one("vllm serve m --kv-cache-dtype fp8_e5m2").get(KV_CACHE_DTYPE) == "fp8_e5m2"
    assert not one("vllm serve m --kv-cache-dtype auto").has(KV_CACHE_DTYPE)  # the default: no setting


def test_vllm_boolean_flag_does_not_swallow_the_model() -> None:
    setup = one("vllm serve --trust-remote-code --model Qwen/Qwen2.5-1.5B-Instruct --enforce-eager")
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert setup.get(ENFORCE_EAGER) is True


@pytest.mark.parametrize(
    "command",
    [
        "vllm bench serve --model m",
        "vllm chat",
        "vllm --version",
        "python serve.py --enforce-eager",
        "pip install vllm",
        "command -v vllm",
    ],
)
def test_not_a_vllm_server(command: str) -> None:
    none(command)


# ---------------------------------------------------------------------------------------------
# TGI
# ---------------------------------------------------------------------------------------------


def test_tgi_bitsandbytes_is_llm_int8_with_unexposed_default_threshold() -> None:
    command = "text-generation-launcher --model-id TinyLlama/TinyLlama-1.1B-Chat-v1.0 --quantize bitsandbytes"
    setup = one(command)
    assert setup.framework == "tgi"
    assert setup.get(PRECISION) == "int8"
    assert setup.get(LLM_INT8_THRESHOLD) == 6.0
    assert setup.facts[LLM_INT8_THRESHOLD].how == "implied"
    assert setup.get(THRESHOLD_EXPOSED) is False
    quantize = setup.where(QUANT_CONFIG)
    assert setup.where(LLM_INT8_THRESHOLD) == quantize  # ECO101 points at the --quantize token
    start = command.index("--quantize") + 1
    assert (quantize.column, quantize.end_column) == (start, start + len("--quantize bitsandbytes"))


@pytest.mark.parametrize(
    "value, precision",
    [
        ("bitsandbytes-nf4", "nf4"),
        ("bitsandbytes-fp4", "fp4"),
        ("fp8", "fp8"),
        ("awq", "awq"),
        ("gptq", "gptq"),
        ("marlin", "gptq"),
        ("eetq", "eetq"),
    ],
)
def test_tgi_quantize_values(value: str, precision: str) -> None:
    setup = one(f"text-generation-launcher --model-id m --quantize={value}")
    assert setup.get(PRECISION) == precision
    assert setup.get(QUANT_CONFIG) == value
    assert not setup.has(LLM_INT8_THRESHOLD)


def test_tgi_settings_from_env() -> None:
    setup = one(
        "text-generation-launcher",
        env(
            MODEL_ID="Qwen/Qwen2.5-1.5B-Instruct",
            QUANTIZE="bitsandbytes",
            MAX_BATCH_SIZE="1",
            NUM_SHARD="2",
            CUDA_GRAPHS="0",
            DTYPE="bfloat16",
        ),
    )
    assert setup.get(MODEL) == "Qwen/Qwen2.5-1.5B-Instruct"
    assert setup.get(PRECISION) == "int8"
    assert setup.facts[QUANT_CONFIG].how == "env"
    assert setup.where(QUANT_CONFIG).line == 9
    assert setup.get(BATCH_SIZE) == 1
    assert setup.get(TENSOR_PARALLEL) == 2
    assert setup.get(ENFORCE_EAGER) is True
    assert setup.get(COMPUTE_DTYPE) == "bf16"


def test_tgi_flag_wins_over_env() -> None:
    setup = one(
        "text-generation-launcher --quantize bitsandbytes-nf4 --max-batch-size 8",
        env(QUANTIZE="bitsandbytes", MAX_BATCH_SIZE="1"),
    )
    assert setup.get(PRECISION) == "nf4"
    assert setup.get(BATCH_SIZE) == 8


@pytest.mark.parametrize(
    "flags, eager", [("--cuda-graphs 0", True), ("--cuda-graphs=0", True), ("--cuda-graphs 1,2,4,8", False)]
)
def test_tgi_cuda_graphs(flags: str, eager: bool) -> None:
    assert one(f"text-generation-launcher --model-id m {flags}").get(ENFORCE_EAGER) is eager


def test_tgi_max_batch_total_tokens_is_not_a_batch_size() -> None:
    setup = one("text-generation-launcher --model-id m --max-batch-total-tokens 1")
    assert not setup.has(BATCH_SIZE)
    assert setup.get("max_batch_total_tokens") == 1
    setup = one("text-generation-launcher --model-id m", env(MAX_BATCH_TOTAL_TOKENS="1", MAX_TOTAL_TOKENS="2048"))
    assert not setup.has(BATCH_SIZE)
    assert setup.get("max_total_tokens") == 2048


def test_tgi_num_shard_and_no_underscores() -> None:
    assert one("text-generation-launcher --num-shard 4").get(TENSOR_PARALLEL) == 4
    assert not one("text-generation-launcher --num_shard 4").has(TENSOR_PARALLEL)  # clap has no underscores


# ---------------------------------------------------------------------------------------------
# SGLang
# ---------------------------------------------------------------------------------------------

SGLANG_LAUNCHERS = [
    "python -m sglang.launch_server --model-path Qwen/Qwen2.5-0.5B-Instruct",
    "python3 -m sglang.launch_server --model Qwen/Qwen2.5-0.5B-Instruct",
    "python3 -m sglang.launch_server --model-path=Qwen/Qwen2.5-0.5B-Instruct",
    "sglang serve --model-path Qwen/Qwen2.5-0.5B-Instruct",
    "python -m sglang_router.launch_server --model-path Qwen/Qwen2.5-0.5B-Instruct",
]


@pytest.mark.parametrize("launcher", SGLANG_LAUNCHERS)
def test_sglang_launchers(launcher: str) -> None:
    setup = one(launcher)
    assert setup.framework == "sglang"
    assert setup.get(MODEL) == "Qwen/Qwen2.5-0.5B-Instruct"


@pytest.mark.parametrize("flags", ["--tp 2", "--tp-size 2", "--tensor-parallel-size 2", "--tp-size=2", "--tp_size 2"])
def test_sglang_tensor_parallel(flags: str) -> None:
    assert one(f"python -m sglang.launch_server --model-path m {flags}").get(TENSOR_PARALLEL) == 2


@pytest.mark.parametrize("flags", ["--max-running-requests 1", "--max-running-requests=1", "--max_running_requests 1"])
def test_sglang_batch_size(flags: str) -> None:
    assert one(f"python -m sglang.launch_server --model-path m {flags}").get(BATCH_SIZE) == 1


def test_sglang_fp8_with_cuda_graph_disabled_and_compile() -> None:
    setup = one(
        "python -m sglang.launch_server --model-path m --quantization fp8 --disable-cuda-graph --enable-torch-compile --kv-cache-dtype fp8_e5m2"
    )
    assert setup.get(PRECISION) == "fp8"
    assert setup.get(ENFORCE_EAGER) is True
    assert setup.get(COMPILED) is True
    assert setup.get(KV_CACHE_DTYPE) == "fp8_e5m2"


def test_sglang_bitsandbytes_is_4bit() -> None:
    assert (
        one("python -m sglang.launch_server --model-path Qwen/Qwen2.5-0.5B-Instruct --quantization bitsandbytes").get(
            PRECISION
        )
        == "nf4"
    )


# ---------------------------------------------------------------------------------------------
# llama.cpp
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "llama-server -m models/tinyllama-1.1b-chat.Q4_K_M.gguf -np 1",
        "./build/bin/llama-server --model models/tinyllama-1.1b-chat.Q4_K_M.gguf --parallel 1",
        "llama-server --model=models/tinyllama-1.1b-chat.Q4_K_M.gguf --parallel=1",
    ],
)
def test_llama_server_model_file_and_parallel(command: str) -> None:
    setup = one(command)
    assert setup.framework == "llama.cpp"
    assert setup.get(PRECISION) == "gguf-q4"
    assert setup.get(QUANT_CONFIG) == "gguf"
    assert setup.get(BATCH_SIZE) == 1


@pytest.mark.parametrize(
    "name, precision",
    [
        ("m.Q4_0.gguf", "gguf-q4"),
        ("m-IQ4_XS.gguf", "gguf-q4"),
        ("m.Q5_K_M.gguf", "gguf-q5"),
        ("m.Q6_K.gguf", "gguf-q6"),
        ("m.Q8_0.gguf", "gguf-q8"),
        ("m-f16.gguf", "gguf-f16"),
        ("m-BF16.gguf", "gguf-bf16"),
        ("model.gguf", None),
    ],
)
def test_llama_cli_gguf_names(name: str, precision: str | None) -> None:
    assert one(f"llama-cli -m {name} -p hello").get(PRECISION) == precision


def test_llama_hf_repo_with_and_without_quant() -> None:
    setup = one("llama-server -hf bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0")
    assert setup.get(MODEL) == "bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0"
    assert setup.get(PRECISION) == "gguf-q8"
    setup = one("llama-server -hf bartowski/Llama-3.2-1B-Instruct-GGUF")
    assert setup.get(PRECISION) == "gguf-q4"  # llama.cpp's default quant for -hf is Q4_K_M
    assert setup.facts[PRECISION].how == "implied"
    setup = one("llama-server --hf-repo bartowski/Llama-3.2-1B-Instruct-GGUF --hf-file Llama-3.2-1B-Instruct-Q6_K.gguf")
    assert setup.get(PRECISION) == "gguf-q6"


def test_llama_env_settings() -> None:
    setup = one(
        "llama-server --port 8080",
        env(LLAMA_ARG_MODEL="/models/qwen2-0_5b-instruct-q4_k_m.gguf", LLAMA_ARG_N_PARALLEL="1"),
    )
    assert setup.get(PRECISION) == "gguf-q4"
    assert setup.get(BATCH_SIZE) == 1
    assert setup.facts[BATCH_SIZE].how == "env"


@pytest.mark.parametrize(
    "command",
    [
        "llama-quantize --allow-requantize models/llama-3.2-1b-f16.gguf models/llama-3.2-1b-Q4_K_M.gguf Q4_K_M 8",
        "python3 convert_hf_to_gguf.py models/Llama-3.2-1B --outtype q8_0 --outfile llama-3.2-1b-q8_0.gguf",
        "python llama.cpp/convert-hf-to-gguf.py models/phi-2",
        "ollama pull qwen2:1.5b-instruct-q8_0",
        "huggingface-cli download Qwen/Qwen2.5-0.5B-Instruct-GGUF qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "hf download TinyLlama/TinyLlama-1.1B-Chat-v1.0 --local-dir /models",
        "nohup hf download meta-llama/Llama-3.2-1B",
    ],
)
def test_downloads_and_conversions_are_no_setup(command: str) -> None:
    none(command)


@pytest.mark.parametrize(
    "command", ["llama-server --version", "vllm serve --help", "text-generation-launcher -h", "ollama run --help"]
)
def test_a_help_or_version_query_serves_nothing(command: str) -> None:
    none(command)


def test_a_pulled_tag_is_a_setup_where_it_is_run() -> None:
    found = setups_from_text("ollama pull qwen2:0.5b-instruct-q4_0\nollama run qwen2:0.5b-instruct-q4_0 hi\n", PATH)
    assert [(s.get(MODEL), s.origin.line) for s in found] == [("qwen2:0.5b-instruct-q4_0", 2)]


@pytest.mark.parametrize(
    "command",
    [["hf", "download", "Qwen/Qwen2.5-7B-Instruct"], ["huggingface-cli", "download", "m"], ["ollama", "pull", "x:1b"]],
)
def test_a_container_that_downloads_runs_the_download_not_its_image(command: list[str]) -> None:
    """An init container on the vLLM image fetching weights is not `vllm serve hf download …`."""
    image = Tok("vllm/vllm-openai:v0.8.5")
    assert container_setups(image, None, [Tok(w) for w in command], path=PATH, kind="yaml") == []


# ---------------------------------------------------------------------------------------------
# Ollama
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, model, precision, how",
    [
        ("ollama run qwen2:1.5b-instruct-q4_K_M", "qwen2:1.5b-instruct-q4_K_M", "gguf-q4", "filename"),
        ("ollama run qwen2:1.5b-instruct-q8_0", "qwen2:1.5b-instruct-q8_0", "gguf-q8", "filename"),
        ("ollama run llama3.2:3b-instruct-fp16 hello", "llama3.2:3b-instruct-fp16", "gguf-f16", "filename"),
        (
            "ollama run hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "gguf-q4",
            "filename",
        ),
        (
            "ollama run hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF",
            "gguf-q4",
            "implied",
        ),
        ("ollama run qwen2:1.5b", "qwen2:1.5b", "gguf-q4", "implied"),
        ("ollama run --verbose qwen2:1.5b", "qwen2:1.5b", "gguf-q4", "implied"),
        ("ollama run my-assistant", "my-assistant", None, None),
    ],
)
def test_ollama_tags(command: str, model: str, precision: str | None, how: str | None) -> None:
    setup = one(command)
    assert setup.framework == "ollama"
    assert setup.get(MODEL) == model
    assert setup.get(PRECISION) == precision
    if how:
        assert setup.facts[PRECISION].how == how


def test_ollama_create_quantize() -> None:
    setup = one("ollama create qwen-small -f Modelfile -q q4_K_M")
    assert setup.get(PRECISION) == "gguf-q4"
    assert setup.get(MODEL) == "qwen-small"
    none("ollama create qwen-small -f Modelfile")  # the Modelfile itself says the rest


def test_ollama_serve_num_parallel() -> None:
    setup = one("ollama serve", env(OLLAMA_NUM_PARALLEL="1"))
    assert setup.get(BATCH_SIZE) == 1
    assert setup.facts[BATCH_SIZE].how == "env"
    none("ollama serve")
    none("ollama list")
    # The server reads OLLAMA_NUM_PARALLEL, not the client: `ollama run` does not carry it.
    assert not one("ollama run qwen2:1.5b", env(OLLAMA_NUM_PARALLEL="1")).has(BATCH_SIZE)


# ---------------------------------------------------------------------------------------------
# Locations, containers, images, sh -c
# ---------------------------------------------------------------------------------------------


def test_origin_is_the_launcher_and_facts_point_at_their_flags() -> None:
    setup = one("nohup vllm serve m --quantization fp8 --enforce-eager")
    assert setup.origin.line == 1
    assert (setup.origin.column, setup.origin.end_column) == (7, 17)  # "vllm serve"
    assert (setup.where(QUANT_CONFIG).column, setup.where(QUANT_CONFIG).end_column) == (20, 38)
    assert (setup.where(ENFORCE_EAGER).column, setup.where(ENFORCE_EAGER).end_column) == (39, 54)


def test_flag_and_value_on_different_lines_point_at_the_flag() -> None:
    argv = toks("vllm serve m --max-num-seqs") + toks("1", line=2)
    setup = interpret(argv, path=PATH, kind="shell")[0]
    where = setup.where(BATCH_SIZE)
    assert (where.line, where.end_line) == (1, 1)


@pytest.mark.parametrize(
    "image, framework",
    [
        ("ghcr.io/huggingface/text-generation-inference:2.4.0", "tgi"),
        ("ghcr.io/huggingface/text-generation-inference", "tgi"),
        ("vllm/vllm-openai:v0.6.3", "vllm"),
        ("docker.io/vllm/vllm-openai@sha256:abc", "vllm"),
        ("ollama/ollama:0.3.14", "ollama"),
        ("ghcr.io/ggml-org/llama.cpp:server-cuda", "llama.cpp"),
        ("ghcr.io/ggerganov/llama.cpp:full", None),
        ("lmsysorg/sglang:v0.3.5-cu121", "sglang"),
        ("localhost:5000/team/vllm:1.0", "vllm"),
        ("nginx:1.27", None),
    ],
)
def test_image_framework(image: str, framework: str | None) -> None:
    assert image_framework(image) == framework


def test_container_argv_follows_docker_rules() -> None:
    image = Tok("ollama/ollama")
    assert [t.text for t in container_argv(image, None, None)] == ["ollama", "serve"]
    assert [t.text for t in container_argv(image, [Tok("/bin/sh")], None)] == ["/bin/sh"]  # entrypoint drops CMD
    tgi = Tok("ghcr.io/huggingface/text-generation-inference:2.4.0")
    assert [t.text for t in container_argv(tgi, None, [Tok("--model-id"), Tok("m")])] == [
        "text-generation-launcher",
        "--model-id",
        "m",
    ]


def test_container_setups_image_args_and_env() -> None:
    image = Tok("ghcr.io/huggingface/text-generation-inference:2.4.0", Location(PATH, 3, 12, 3, 60))
    setups = container_setups(
        image,
        None,
        toks("--model-id m --max-batch-size 1", line=4),
        env(QUANTIZE="bitsandbytes"),
        path=PATH,
        kind="yaml",
        label="tgi",
    )
    assert len(setups) == 1
    setup = setups[0]
    assert setup.label == "tgi" and setup.kind == "yaml"
    assert setup.origin.line == 3  # the image names the launcher
    assert setup.get(PRECISION) == "int8"
    assert setup.get(BATCH_SIZE) == 1


def test_sh_dash_c_script_is_parsed_with_locations_inside_the_string() -> None:
    script = "vllm serve m --max-num-seqs 1"
    start = 20  # the script text starts at column 20 of line 5
    argv = [
        Tok("/bin/sh"),
        Tok("-c"),
        Tok(script, Location(PATH, 5, start - 1, 5, start + len(script) + 1), lambda k: (5, start + k)),
    ]
    setups = interpret(argv, path=PATH, kind="yaml", run_script=setups_from_script)
    assert len(setups) == 1
    where = setups[0].where(BATCH_SIZE)
    assert (where.line, where.column, where.end_column) == (5, start + 13, start + 29)


def test_bash_lc_and_unrelated_shell_flags() -> None:
    assert (
        interpret(
            [Tok("bash"), Tok("-lc"), Tok("ollama run qwen2:0.5b")],
            path=PATH,
            kind="shell",
            run_script=setups_from_script,
        )[0].get(MODEL)
        == "qwen2:0.5b"
    )
    # without the shell reader passed in, the script is not followed
    assert interpret([Tok("bash"), Tok("-lc"), Tok("ollama run qwen2:0.5b")], path=PATH, kind="shell") == []
    assert interpret([Tok("bash"), Tok("script.sh")], path=PATH, kind="shell") == []


@pytest.mark.parametrize(
    "text, precision",
    [
        ("Q4_K_M", "gguf-q4"),
        ("q4_0", "gguf-q4"),
        ("IQ4_NL", "gguf-q4"),
        ("Q2_K", "gguf-q2"),
        ("Q3_K_L", "gguf-q3"),
        ("Q5_K_S", "gguf-q5"),
        ("fp16", "gguf-f16"),
        ("F32", "gguf-f32"),
        ("Qwen2.5-1.5B", None),
        ("qwq-32b", None),
        ("llama3", None),
    ],
)
def test_gguf_precision(text: str, precision: str | None) -> None:
    assert gguf_precision(text) == precision


def test_known_flag() -> None:
    assert known_flag("vllm", "--max-num-seqs")
    assert known_flag("vllm", "--enforce-eager")
    assert known_flag("sglang", "--tp")
    assert known_flag("tgi", "--max-batch-size")
    assert not known_flag("tgi", "--max-num-seqs")
    assert not known_flag("unknown", "--x")


# -- vLLM's --config file ---------------------------------------------------------------------

ENGINE_YAML = """\
model: Qwen/Qwen2-7B
quantization: fp8
enforce-eager: true
max-num-seqs: 4
trust-remote-code: false
served-model-name: [chat, chat-fp8]
compilation-config: {level: 3}
"""


def _reader(files: dict[str, str]):
    return lambda written: files.get(written)


def test_vllm_config_file_keys_become_flags_that_the_command_line_overrides() -> None:
    read = _reader({"engine.yaml": ENGINE_YAML})
    setup = interpret(toks("vllm serve --config engine.yaml --port 8000"), path=PATH, kind="shell", read_file=read)[0]
    assert setup.get(MODEL) == "Qwen/Qwen2-7B" and setup.get(PRECISION) == "fp8"
    assert setup.get(ENFORCE_EAGER) is True and setup.get(BATCH_SIZE) == 4
    # the flags are located at the file's name in the command
    assert setup.facts[PRECISION].location == toks("vllm serve --config engine.yaml")[3].loc
    overridden = interpret(
        toks("vllm serve Qwen/Qwen2-0.5B --config engine.yaml --no-enforce-eager --max-num-seqs 64"),
        path=PATH,
        kind="shell",
        read_file=read,
    )[0]
    assert overridden.get(MODEL) == "Qwen/Qwen2-0.5B"  # a positional model wins over the file's
    assert overridden.get(ENFORCE_EAGER) is False and overridden.get(BATCH_SIZE) == 64


@pytest.mark.parametrize(
    "command, files",
    [
        ("vllm serve m --config missing.yaml --quantization fp8", {}),
        ("vllm serve m --config list.yaml --quantization fp8", {"list.yaml": "- a\n- b\n"}),
        ("vllm serve m --config bad.yaml --quantization fp8", {"bad.yaml": "key: [unclosed\n"}),
        (
            "vllm serve m --config a.yaml --config b.yaml --quantization fp8",
            {"a.yaml": "enforce-eager: true\n", "b.yaml": "enforce-eager: true\n"},
        ),
        ("vllm serve m --quantization fp8 --config", {}),
    ],
    ids=["missing", "not-a-mapping", "invalid-yaml", "two-files", "no-file-named"],
)
def test_vllm_config_file_that_cannot_be_used_leaves_the_command_line(command: str, files: dict[str, str]) -> None:
    setup = interpret(toks(command), path=PATH, kind="shell", read_file=_reader(files))[0]
    assert setup.get(MODEL) == "m" and setup.get(PRECISION) == "fp8" and not setup.has(ENFORCE_EAGER)


def test_config_file_is_only_vllms() -> None:
    # SGLang's --config is not vLLM's: its file is not read as vLLM flags
    read = _reader({"engine.yaml": ENGINE_YAML})
    setup = interpret(
        toks("python -m sglang.launch_server --model-path m --config engine.yaml"),
        path=PATH,
        kind="shell",
        read_file=read,
    )[0]
    assert setup.get(MODEL) == "m" and not setup.has(ENFORCE_EAGER)


@pytest.mark.parametrize(
    "command, eager", [("--enforce-eager --no-enforce-eager", False), ("--no-enforce-eager --enforce-eager", True)]
)
def test_a_switch_and_its_negation_the_later_wins(command: str, eager: bool) -> None:
    setup = interpret(toks(f"vllm serve m --quantization fp8 {command}"), path=PATH, kind="shell")[0]
    assert setup.get(ENFORCE_EAGER) is eager


# -- one verdict whatever the file kind --------------------------------------------------------


def test_vllm_8bit_bitsandbytes_checkpoint_is_eco101_without_a_fix_in_python_and_shell(tmp_path, cli) -> None:
    """The same pre-quantized 8-bit checkpoint served with bitsandbytes: LLM.int8 at the default
    threshold, which vLLM does not let the user set, so ECO101 with no automatic fix."""
    model = "TheBloke/Mistral-7B-8bit"
    (tmp_path / "serve.sh").write_text(f"vllm serve {model} --quantization bitsandbytes\n")
    (tmp_path / "infer.py").write_text(
        f'from vllm import LLM\nllm = LLM(model="{model}", quantization="bitsandbytes")\n'
    )
    document = cli(str(tmp_path), "--format", "json", "--isolated", "--select", "ECO101").json()
    eco101 = {f["path"].rsplit("/", 1)[-1]: f for f in document["findings"] if f["code"] == "ECO101"}
    assert sorted(eco101) == ["infer.py", "serve.sh"]
    for finding in eco101.values():
        assert finding["fix"]["applicability"] == "manual" and finding["fix"]["edit"] is None


# -- the declarations themselves --------------------------------------------------------------


def test_every_way_to_start_a_launcher_holds_one_of_its_trigger_tokens() -> None:
    """The prefilter drops a file without a trigger token unread: every command, image,
    entrypoint and YAML key word a launcher declares must contain one of its own triggers."""
    from ecolint.extract.launchers.registry import LAUNCHERS

    for launcher in LAUNCHERS:
        words = [c.program or c.module or "" for c in launcher.commands]
        words += [image.text for image in launcher.images] + list(launcher.entrypoint[:1]) + list(launcher.key_words)
        for word in words:
            assert any(t.decode() in word.replace("\\", "") for t in launcher.triggers), (launcher.framework, word)


def test_flag_edits_are_read_from_the_rows() -> None:
    from ecolint.extract.launchers.registry import flag_edit

    assert flag_edit("vllm", BATCH_SIZE) == "delete-flag"
    assert flag_edit("vllm", BATCH_SIZE, python=True) == "delete-keyword"
    assert flag_edit("llama.cpp", BATCH_SIZE) == "set-flag-value"
    assert flag_edit("tgi", ENFORCE_EAGER) == "delete-flag"  # --cuda-graphs 0
    assert flag_edit("ollama", QUANT_CONFIG) == "delete-flag"
    assert flag_edit("tgi", TENSOR_PARALLEL) is None
