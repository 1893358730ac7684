"""[tool.ecolint] / ecolint.toml: found by walking up, validated, overridden by the CLI."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_is_a_clear_error_naming_key_and_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ecolint]\ngpus = 'A100'\n")
    write(tmp_path / "app.py", "x = 1\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2
    assert "gpus" in ran.stderr and "pyproject.toml" in ran.stderr
    assert "Traceback" not in ran.output + ran.stderr


def test_bad_value_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ecolint]\nselect = 'ECO101'\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "'select' must be a list of strings" in ran.stderr


def test_bad_selector_in_config_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "ecolint.toml", "select = ['ECO999']\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "ecolint.toml" in ran.stderr and "ECO999" in ran.stderr


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ecolint\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "invalid TOML" in ran.stderr


def test_config_found_by_walking_up(tmp_path: Path) -> None:
    from ecolint.config import find_config_file, load_config

    write(tmp_path / "pyproject.toml", "[tool.ecolint]\ngpu = 'A100'\n[tool.ecolint.models]\n'acme/private' = 2.5\n")
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    found = find_config_file(nested)
    assert found == tmp_path / "pyproject.toml"
    config = load_config(found)
    assert config.gpu == "A100" and config.models == {"acme/private": 2.5}


def test_models_value_must_be_positive_number(tmp_path: Path) -> None:
    write(tmp_path / "ecolint.toml", "[models]\n'acme/x' = 'big'\n")
    ran = run_cli(str(tmp_path))
    assert ran.exit_code == 2 and "acme/x" in ran.stderr


# -- end to end: each key changes what a run reports --------------------------------------------

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"  # ECO104


def paths_found(tmp_path: Path, *args: str) -> list[str]:
    ran = run_cli("--format", "json", *args, cwd=tmp_path)
    assert ran.exit_code in (0, 1), ran.stderr
    return sorted({f["path"] for f in ran.json()["findings"]})


def tree(tmp_path: Path, *names: str) -> None:
    for name in names:
        write(tmp_path / name, FP8_EAGER)


def test_per_file_ignores_glob_to_codes(tmp_path: Path) -> None:
    tree(tmp_path, "scripts/serve.sh", "bench/run.sh", "bench/deep/run.sh")
    write(tmp_path / "pyproject.toml", "[tool.ecolint.per-file-ignores]\n'bench/*' = ['ECO104']\n'run.sh' = ['ECO1']\n")
    assert paths_found(tmp_path, ".") == ["scripts/serve.sh"]
    # The command line replaces the table; an unrelated code ignores nothing.
    assert paths_found(tmp_path, "--per-file-ignores", "bench/*:ECO101", ".") == [
        "bench/deep/run.sh",
        "bench/run.sh",
        "scripts/serve.sh",
    ]
    assert run_cli("--per-file-ignores", "bench/*", ".", cwd=tmp_path).exit_code == 2


def test_per_file_ignores_are_relative_to_the_config_file(tmp_path: Path) -> None:
    tree(tmp_path, "project/bench/run.sh", "project/serve.sh")
    write(tmp_path / "project" / "ecolint.toml", "[per-file-ignores]\n'bench/*.sh' = ['ECO104']\n")
    assert paths_found(tmp_path, "project") == ["project/serve.sh"]


def test_overrides_set_the_gpu_per_path_and_change_confidence_and_architecture(tmp_path: Path) -> None:
    tree(tmp_path, "cluster/serve.sh", "laptop/serve.sh", "other/serve.sh")
    write(
        tmp_path / "ecolint.toml",
        "gpu = 'A100'\n"
        "[[overrides]]\npaths = ['cluster/**', 'cluster']\ngpu = 'RTX 4090D'\n"
        "[[overrides]]\npaths = ['laptop']\ngpu = 'RTX 5090'\n",
    )
    ran = run_cli("--format", "json", ".", cwd=tmp_path)
    by_path = {f["path"]: f for f in ran.json()["findings"]}
    assert by_path["cluster/serve.sh"]["setup"]["gpu"] == "RTX 4090D"
    assert (
        by_path["cluster/serve.sh"]["setup"]["architecture"] == "ada" and by_path["cluster/serve.sh"]["confidence"] == 3
    )
    assert by_path["laptop/serve.sh"]["setup"]["architecture"] == "blackwell"
    assert by_path["other/serve.sh"]["setup"]["gpu"] == "A100" and by_path["other/serve.sh"]["confidence"] == 2
    # --gpu on the command line wins over the file's gpu and its overrides.
    forced = run_cli("--format", "json", "--gpu", "L4", ".", cwd=tmp_path).json()["findings"]
    assert {f["setup"]["gpu"] for f in forced} == {"L4"}


def test_exclude_and_extend_exclude(tmp_path: Path) -> None:
    tree(tmp_path, "serve.sh", "vendor/serve.sh", "gen/a/serve.sh", "build/serve.sh", "node_modules/x.sh")
    assert paths_found(tmp_path, ".") == ["build/serve.sh", "gen/a/serve.sh", "serve.sh", "vendor/serve.sh"]
    write(tmp_path / "ecolint.toml", "extend-exclude = ['vendor', 'gen/*']\n")
    assert paths_found(tmp_path, ".") == ["build/serve.sh", "serve.sh"]
    # --extend-exclude adds to the file; --exclude replaces the file's exclude, not the defaults.
    assert paths_found(tmp_path, "--extend-exclude", "build", ".") == ["serve.sh"]
    write(tmp_path / "ecolint.toml", "exclude = ['vendor']\n")
    assert paths_found(tmp_path, ".") == ["build/serve.sh", "gen/a/serve.sh", "serve.sh"]
    assert paths_found(tmp_path, "--exclude", "build", ".") == ["gen/a/serve.sh", "serve.sh", "vendor/serve.sh"]


def test_explicit_paths_are_read_unless_force_exclude(tmp_path: Path) -> None:
    tree(tmp_path, "serve.sh", "vendor/lib/serve.sh")
    write(tmp_path / "ecolint.toml", "extend-exclude = ['vendor']\n")
    assert paths_found(tmp_path, "vendor/lib/serve.sh", "serve.sh") == ["serve.sh", "vendor/lib/serve.sh"]
    assert paths_found(tmp_path, "--force-exclude", "vendor/lib/serve.sh", "serve.sh") == ["serve.sh"]
    assert paths_found(tmp_path, "--force-exclude", "vendor") == []
    write(tmp_path / "ecolint.toml", "extend-exclude = ['vendor']\nforce-exclude = true\n")
    assert paths_found(tmp_path, "vendor/lib/serve.sh") == []
    assert paths_found(tmp_path, "--no-force-exclude", "vendor/lib/serve.sh") == ["vendor/lib/serve.sh"]


def test_a_vendored_copy_of_a_library_is_not_the_project_s_code(tmp_path: Path) -> None:
    # a copy of transformers with its own packaging, inside a research repository (LMOps' dpkd/):
    # its examples are the library's, not the project's setups, as a virtualenv's are not
    tree(tmp_path, "serve.sh", "dpkd/transformers/examples/serve.sh", "dpkd/run/transformers/serve.sh")
    write(tmp_path / "dpkd/transformers/setup.py", "from setuptools import setup\nsetup(name='transformers')\n")
    assert paths_found(tmp_path, ".") == ["dpkd/run/transformers/serve.sh", "serve.sh"]
    # named on the command line, or checked from its own top, it is read
    assert paths_found(tmp_path, "dpkd/transformers") == ["dpkd/transformers/examples/serve.sh"]
    assert paths_found(tmp_path / "dpkd/transformers", ".") == ["examples/serve.sh"]


def test_gitignore_root_and_nested_with_negation(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "serve.sh",
        "out/serve.sh",
        "logs/a.sh",
        "logs/keep.sh",
        "sub/local.sh",
        "sub/deep/tmp.sh",
        "sub/deep/ok.sh",
        "anchored.sh",
        "sub/anchored.sh",
    )
    write(tmp_path / ".gitignore", "out/\nlogs/*.sh\n!logs/keep.sh\n/anchored.sh\n")
    write(tmp_path / "sub" / ".gitignore", "local.sh\ndeep/tmp.sh\n")
    expected = ["logs/keep.sh", "serve.sh", "sub/anchored.sh", "sub/deep/ok.sh"]
    assert paths_found(tmp_path, ".") == expected  # not a git work tree: .gitignore still counts
    (tmp_path / ".git").mkdir()  # inside a work tree, scanning a sub-directory still reads the top's file
    write(tmp_path / "sub" / "deep" / ".gitignore", "!tmp.sh\n")
    assert paths_found(tmp_path, "sub") == ["sub/anchored.sh", "sub/deep/ok.sh", "sub/deep/tmp.sh"]
    assert len(paths_found(tmp_path, "--no-respect-gitignore", ".")) == 9
    write(tmp_path / "ecolint.toml", "respect-gitignore = false\n")
    assert len(paths_found(tmp_path, ".")) == 9


def test_gitignore_patterns_that_match_at_any_level(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "gen/out.sh",
        "a/b/gen/out.sh",
        "a/gen/other.sh",
        "x/y/z.tmp.sh",
        "x/y/z.sh",
        "deep/cache/s.sh",
        "deep/cachex/s.sh",
        "deep/k/cache",
    )
    write(tmp_path / ".gitignore", "**/gen/out.sh\n*.tmp.sh\ncache/\n")
    # `cache/` names directories only: the file deep/k/cache stays (it has no source kind: not listed)
    assert paths_found(tmp_path, ".") == ["a/gen/other.sh", "deep/cachex/s.sh", "x/y/z.sh"]
    write(tmp_path / "x" / ".gitignore", "!y/z.tmp.sh\n")
    assert paths_found(tmp_path, "x") == ["x/y/z.sh", "x/y/z.tmp.sh"]


def test_git_info_exclude_is_read_below_gitignore_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    tree(repo, "serve.sh", "scratch.sh", "keep.sh", "gen/serve.sh", "sub/scratch.sh")
    write(repo / ".git" / "info" / "exclude", "# local excludes\nscratch.sh\ngen/\nkeep.sh\n")
    write(repo / ".gitignore", "!keep.sh\n")  # a .gitignore wins over info/exclude, as in git
    assert paths_found(repo, ".") == ["keep.sh", "serve.sh"]
    assert paths_found(repo, "sub") == []  # scanning below the top still reads it
    assert paths_found(repo, "--no-respect-gitignore", ".") == [
        "gen/serve.sh",
        "keep.sh",
        "scratch.sh",
        "serve.sh",
        "sub/scratch.sh",
    ]
    # a linked worktree: .git is a file naming its git directory, whose commondir holds info/
    worktree = tmp_path / "worktree"
    tree(worktree, "serve.sh", "scratch.sh")
    write(repo / ".git" / "worktrees" / "wt" / "commondir", "../..\n")
    write(worktree / ".git", f"gitdir: {repo / '.git' / 'worktrees' / 'wt'}\n")
    assert paths_found(worktree, ".") == ["serve.sh"]


def test_ignored_files_passed_explicitly(tmp_path: Path) -> None:
    tree(tmp_path, "out/serve.sh", "serve.sh")
    write(tmp_path / ".gitignore", "out/\n")
    assert paths_found(tmp_path, "out/serve.sh") == ["out/serve.sh"]
    assert paths_found(tmp_path, "out") == ["out/serve.sh"]  # a directory named explicitly is read
    assert paths_found(tmp_path, "--force-exclude", "out/serve.sh", "serve.sh") == ["serve.sh"]


def test_new_keys_are_validated(tmp_path: Path) -> None:
    for text, words in (
        ("fail-on = 'fatal'\n", "'fail-on' must be one of note, warning, error"),
        ("min-confidence = 5\n", "'min-confidence' must be 1, 2 or 3"),
        ("force-exclude = 'yes'\n", "'force-exclude' must be true or false"),
        ("respect-gitignore = 1\n", "'respect-gitignore' must be true or false"),
    ):
        write(tmp_path / "ecolint.toml", text)
        ran = run_cli(".", cwd=tmp_path)
        assert ran.exit_code == 2 and words in ran.stderr and "ecolint.toml" in ran.stderr, ran.stderr


def test_models_table_sizes_a_private_model_end_to_end(tmp_path: Path) -> None:
    write(tmp_path / "serve.sh", "vllm serve acme/house-llm --quantization bitsandbytes\n")  # in-flight 4-bit

    def eco102() -> list[tuple[float | None, str | None]]:
        found = run_cli("--format", "json", ".", cwd=tmp_path).json()["findings"]
        return [(f["setup"]["params_b"], f["setup"]["params_source"]) for f in found if f["code"] == "ECO102"]

    assert eco102() == []  # size unknown: no finding rests on a size nobody stated
    write(tmp_path / "ecolint.toml", "[models]\n'acme/house-llm' = 2.5\n")
    assert eco102() == [(2.5, "config")]  # below the NF4 crossover
    write(tmp_path / "ecolint.toml", "[models]\n'acme/house-llm' = 20\n")
    assert eco102() == []  # above it: 4-bit pays for itself
