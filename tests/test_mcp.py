"""`ecolint mcp`: the MCP SDK's own client drives the real server over stdio, as an assistant does:
list the tools, call each, and the refusals (paths outside the roots, a symlink out, a huge
request, a stale fix)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from mcp import Client, StdioServerParameters
from mcp.types import ListRootsResult, Root

pytestmark = pytest.mark.asyncio

FP8_EAGER = "vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager\n"
PYTHON = 'from vllm import LLM\n\nllm = LLM(model="Qwen/Qwen2-7B", quantization="fp8", enforce_eager=True)\n'
READ_ONLY_TOOLS = ["advise", "check", "compare", "explain", "rule"]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    (project / "deploy" / "serve.sh").write_text(FP8_EAGER, encoding="utf-8")
    (project / "app.py").write_text(PYTHON, encoding="utf-8")
    return project


def _client(cwd: Path, *args: str, roots: list[Path] | None = None) -> Client:
    params = StdioServerParameters(command=sys.executable, args=["-m", "ecolint", "mcp", *args], cwd=str(cwd))
    if roots is None:
        return Client(params)

    async def list_roots(context: Any) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=root.as_uri(), name=root.name) for root in roots])

    return Client(params, list_roots_callback=list_roots)


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def _refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_read_only_by_default_and_every_tool_has_schemas(tmp_path: Path) -> None:
    async with _client(_project(tmp_path)) as client:
        listed = (await client.list_tools()).tools
    assert sorted(tool.name for tool in listed) == READ_ONLY_TOOLS
    for tool in listed:
        assert tool.input_schema["type"] == "object" and tool.output_schema is not None
        assert "roots" not in tool.input_schema.get("properties", {})
        assert tool.annotations is not None and tool.annotations.read_only_hint
    async with _client(_project(tmp_path / "again"), "--allow-fix") as client:
        names = sorted(tool.name for tool in (await client.list_tools()).tools)
    assert names == sorted([*READ_ONLY_TOOLS, "fix"])


async def test_each_tool_declares_the_shape_of_its_document(tmp_path: Path) -> None:
    """Output schemas name each document's keys (a client can rely on them), not a bare object."""
    async with _client(_project(tmp_path), "--allow-fix") as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
    keys = {
        "check": {"version", "findings", "errors", "summary"},
        "explain": {"path", "line", "setups", "findings"},
        "advise": {"inputs", "recommended", "options", "evidence"},
        "compare": {"axis", "columns", "winners"},
        "rule": {"code", "name", "severity", "documentation"},
        "fix": {"diff", "diff_hash", "files", "applied"},
    }
    for tool, expected in keys.items():
        assert expected <= set(schemas[tool]["properties"]), tool
    definitions = schemas["check"]["$defs"]
    finding = definitions[schemas["check"]["properties"]["findings"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert {"code", "path", "line", "column", "severity", "confidence", "fingerprint"} <= set(finding["required"])
    assert finding["properties"]["severity"]["enum"] == ["error", "warning", "note"]


async def test_each_tool_answers_what_the_command_line_answers(tmp_path: Path) -> None:
    project = _project(tmp_path)
    cli_check = run_cli("check", ".", "--format", "json", cwd=project).json()
    cli_advise = run_cli(
        "advise", "--gpu", "A100", "--model", "7B", "--precision", "nf4", "--format", "json", cwd=project
    ).json()
    async with _client(project) as client:
        checked = await _call(client, "check", {"paths": ["."]})
        selected = await _call(client, "check", {"paths": ["deploy"], "select": ["ECO105"]})
        explained = await _call(client, "explain", {"path": "deploy/serve.sh", "line": 1})
        advised = await _call(client, "advise", {"gpu": "A100", "model": "7B", "precision": "nf4"})
        compared = await _call(client, "compare", {"candidates": ["fp16", "nf4"], "model": "7B"})
        documented = await _call(client, "rule", {"code": "eco104"})
        unknown = await _refused(client, "rule", {"code": "ECO999"})
        bad_select = await _refused(client, "check", {"select": ["ECO999"]})
    assert checked["findings"] == cli_check["findings"] and checked["summary"] == cli_check["summary"]
    assert [(f["code"], f["path"]) for f in checked["findings"]] == [
        ("ECO104", "app.py"),
        ("ECO104", "deploy/serve.sh"),
    ]
    assert selected["findings"] == [] and selected["summary"]["files_checked"] == 1
    assert [entry["framework"] for entry in explained["setups"]] == ["vllm"]
    assert advised == cli_advise
    assert [column["name"] for column in compared["columns"]] == ["FP16", "NF4"]
    assert documented["code"] == "ECO104" and "# fp8-without-compile (ECO104)" in documented["documentation"]
    assert "unknown rule 'ECO999'" in unknown
    assert "ECO999" in bad_select


async def test_paths_outside_the_roots_symlinks_out_and_huge_requests_are_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "serve.sh").write_text(FP8_EAGER, encoding="utf-8")
    (project / "out").symlink_to(secret)
    async with _client(project) as client:
        outside = await _refused(client, "check", {"paths": [str(secret)]})
        dotdot = await _refused(client, "explain", {"path": "../elsewhere/serve.sh"})
        linked = await _refused(client, "check", {"paths": ["out"]})
        many = await _refused(client, "check", {"paths": ["."] * 65})
        long = await _refused(client, "check", {"paths": ["a" * 5000]})
        missing = await _refused(client, "check", {"paths": ["nowhere"]})
        walked = await _call(client, "check", {"paths": ["."]})
    assert "outside the allowed roots" in outside and str(project) in outside
    assert "outside the allowed roots" in dotdot
    assert "symlink that leads out" in linked
    assert "64" in many  # the schema's maxItems, said by the argument check
    assert "4096" in long
    assert "no such file or directory" in missing
    # a directory walk never follows the link out either
    assert all(not f["path"].startswith("out/") for f in walked["findings"])


async def test_the_client_roots_bound_the_paths(tmp_path: Path) -> None:
    project = _project(tmp_path)
    async with _client(project, roots=[project / "deploy"]) as client:
        inside = await _call(client, "check", {"paths": ["deploy/serve.sh"]})
        refused = await _refused(client, "check", {"paths": ["app.py"]})
    assert [f["code"] for f in inside["findings"]] == ["ECO104"]
    assert "outside the allowed roots" in refused and str(project / "deploy") in refused


async def test_fix_returns_a_diff_then_applies_exactly_it_or_refuses(tmp_path: Path) -> None:
    project = _project(tmp_path)
    script = project / "deploy" / "serve.sh"
    async with _client(project, "--allow-fix") as client:
        shown = await _call(client, "fix", {"paths": ["deploy"], "unsafe": True})
        assert script.read_text(encoding="utf-8") == FP8_EAGER  # apply=false writes nothing
        assert "-vllm serve Qwen/Qwen2-7B --quantization fp8 --enforce-eager" in shown["diff"]
        no_hash = await _refused(client, "fix", {"paths": ["deploy"], "unsafe": True, "apply": True})
        script.write_text(FP8_EAGER.replace("Qwen2-7B", "Qwen2-1.5B"), encoding="utf-8")
        stale = await _refused(
            client, "fix", {"paths": ["deploy"], "unsafe": True, "apply": True, "diff_hash": shown["diff_hash"]}
        )
        assert "Qwen2-1.5B" in script.read_text(encoding="utf-8")  # refused: nothing written
        again = await _call(client, "fix", {"paths": ["deploy"], "unsafe": True})
        applied = await _call(
            client, "fix", {"paths": ["deploy"], "unsafe": True, "apply": True, "diff_hash": again["diff_hash"]}
        )
    assert "diff_hash" in no_hash and "changed since" in stale
    assert applied["applied"] and applied["diff"] == again["diff"]
    assert script.read_text(encoding="utf-8") == "vllm serve Qwen/Qwen2-1.5B --quantization fp8\n"
