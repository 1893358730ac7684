"""`ecolint lsp`: a real client (pytest-lsp) drives the real server over stdio, as an editor does:
initialize, didOpen, didChange, didSave, codeAction, hover, shutdown."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio

EMOJI = "\U0001f600"  # outside the BMP: one character, two UTF-16 code units
PYTHON = f'from vllm import LLM\n\nllm = LLM(model="Qwen/Qwen2-7B", revision="{EMOJI}", quantization="fp8", enforce_eager=True)\n'
SHELL = "#!/bin/sh\nvllm serve Qwen/Qwen2-7B \\\n  --quantization fp8 \\\n  --enforce-eager\n"
COMPOSE = """services:
  vllm:
    image: vllm/vllm-openai
    command: ["--model", "Qwen/Qwen2-7B", "--quantization", "fp8", "--enforce-eager"]
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ecolint", "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(),
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def _published(client: LanguageClient, uri: str, send: Callable[[], None]) -> list[types.Diagnostic]:
    """Send, then wait for the next diagnostics the server publishes for this document."""
    client.diagnostics.pop(uri, None)
    send()
    while uri not in client.diagnostics:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


async def _open(client: LanguageClient, path: Path, text: str, language: str) -> list[types.Diagnostic]:
    item = types.TextDocumentItem(uri=path.as_uri(), language_id=language, version=1, text=text)
    return await _published(
        client,
        path.as_uri(),
        lambda: client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item)),
    )


async def _change(client: LanguageClient, path: Path, text: str, version: int) -> list[types.Diagnostic]:
    params = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    )
    return await _published(client, path.as_uri(), lambda: client.text_document_did_change(params))


async def _actions(client: LanguageClient, path: Path, diagnostic: types.Diagnostic) -> dict[str, types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return {action.title: action for action in found or [] if isinstance(action, types.CodeAction)}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _applied(text: str, action: types.CodeAction, uri: str) -> str:
    """What the editor's buffer holds after applying the action's edits (positions in UTF-16)."""
    assert action.edit is not None and action.edit.changes is not None
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        start = sum(len(line) for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return start + index
            units += _utf16(char)
        return start + len(line)

    for edit in sorted(
        action.edit.changes[uri], key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def test_python_diagnostic_in_utf16_with_fix_ignore_and_hover(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    [diagnostic] = await _open(client, path, PYTHON, "python")
    line = PYTHON.splitlines()[2]
    flagged = line.index("enforce_eager")
    assert diagnostic.code == "ECO104" and diagnostic.source == "ecolint"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.message.startswith("[★")
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href.endswith("docs/rules.md#fp8-without-compile-eco104")
    # the emoji before the token counts two UTF-16 units: one more than its code point column
    assert diagnostic.range.start == types.Position(line=2, character=_utf16(line[:flagged]))
    assert diagnostic.range.start.character == flagged + 1
    assert diagnostic.range.end.character == _utf16(line[: flagged + len("enforce_eager=True")])

    actions = await _actions(client, path, diagnostic)
    fix = next(action for title, action in actions.items() if title.startswith("Fix ECO104"))
    assert "(unsafe:" in fix.title and not fix.is_preferred
    fixed = _applied(PYTHON, fix, path.as_uri())
    assert "enforce_eager" not in fixed and f'revision="{EMOJI}"' in fixed
    assert await _change(client, path, fixed, 2) == []

    ignored = _applied(PYTHON, actions["Ignore ECO104 on this line"], path.as_uri())
    assert ignored.splitlines()[2].endswith("enforce_eager=True)  # ecolint: ignore[ECO104]")
    assert await _change(client, path, ignored, 3) == []
    whole = _applied(PYTHON, actions["Ignore ECO104 in this file"], path.as_uri())
    assert whole.startswith("# ecolint: ignore-file[ECO104]\n")
    assert await _change(client, path, whole, 4) == []

    [again] = await _change(client, path, PYTHON, 5)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=again.range.start)
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "**ECO104** fp8-without-compile" in hover.contents.value
    assert "the code says:" in hover.contents.value  # the explain answer for this setup
    nothing = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=types.Position(0, 0))
    )
    assert nothing is None
    assert not path.exists()  # everything came from the editor's text


async def test_shell_script_fix_removes_the_flag_of_a_continued_command(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "serve.sh"
    [diagnostic] = await _open(client, path, SHELL, "shellscript")
    assert diagnostic.code == "ECO104" and diagnostic.range.start.line == 3
    actions = await _actions(client, path, diagnostic)
    fix = next(action for title, action in actions.items() if title.startswith("Fix ECO104"))
    fixed = _applied(SHELL, fix, path.as_uri())
    assert "--enforce-eager" not in fixed and "--quantization fp8" in fixed
    assert await _change(client, path, fixed, 2) == []
    ignored = _applied(SHELL, actions["Ignore ECO104 on this line"], path.as_uri())
    assert ignored.splitlines()[1] == "# ecolint: ignore[ECO104]"  # above the continued command
    assert await _change(client, path, ignored, 3) == []
    whole = _applied(SHELL, actions["Ignore ECO104 in this file"], path.as_uri())
    assert whole.startswith("#!/bin/sh\n# ecolint: ignore-file[ECO104]\n")


async def test_compose_file_diagnostic_and_ignore(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    [diagnostic] = await _open(client, path, COMPOSE, "yaml")
    assert diagnostic.code == "ECO104" and diagnostic.range.start.line == 3
    actions = await _actions(client, path, diagnostic)
    ignored = _applied(COMPOSE, actions["Ignore ECO104 on this line"], path.as_uri())
    assert ignored.splitlines()[3] == "    # ecolint: ignore[ECO104]"
    assert await _change(client, path, ignored, 2) == []
    fix = next(action for title, action in actions.items() if title.startswith("Fix ECO104"))
    assert '"--enforce-eager"' not in _applied(COMPOSE, fix, path.as_uri())


async def test_saving_a_file_refreshes_the_open_files_that_import_it(client: LanguageClient, tmp_path: Path) -> None:
    settings, app = tmp_path / "settings.py", tmp_path / "app.py"
    settings.write_text('QUANT = "fp16"\n', encoding="utf-8")
    uses = 'from vllm import LLM\nfrom settings import QUANT\n\nllm = LLM(model="Qwen/Qwen2-7B", quantization=QUANT, enforce_eager=True)\n'
    app.write_text(uses, encoding="utf-8")
    assert await _open(client, app, uses, "python") == []
    await _open(client, settings, 'QUANT = "fp16"\n', "python")
    await _change(client, settings, 'QUANT = "fp8"\n', 2)  # an editor's buffer holds what it saves
    settings.write_text('QUANT = "fp8"\n', encoding="utf-8")
    saved = types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=settings.as_uri()))
    [diagnostic] = await _published(client, app.as_uri(), lambda: client.text_document_did_save(saved))
    assert diagnostic.code == "ECO104"


async def test_an_unsaved_edit_of_an_imported_module_refreshes_the_file_that_imports_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    """The other file is read as the editor holds it: its unsaved buffer, not the disk."""
    settings, app = tmp_path / "settings.py", tmp_path / "app.py"
    settings.write_text('QUANT = "fp16"\n', encoding="utf-8")
    uses = 'from vllm import LLM\nfrom settings import QUANT\n\nllm = LLM(model="Qwen/Qwen2-7B", quantization=QUANT, enforce_eager=True)\n'
    app.write_text(uses, encoding="utf-8")
    assert await _open(client, app, uses, "python") == []
    await _open(client, settings, 'QUANT = "fp16"\n', "python")
    edited = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=settings.as_uri(), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text='QUANT = "fp8"\n')],
    )
    [diagnostic] = await _published(client, app.as_uri(), lambda: client.text_document_did_change(edited))
    assert diagnostic.code == "ECO104"
    assert settings.read_text(encoding="utf-8") == 'QUANT = "fp16"\n'  # never saved


async def test_bad_buffers_give_a_diagnostic_or_nothing_and_the_server_goes_on(
    client: LanguageClient, tmp_path: Path
) -> None:
    broken = await _open(
        client, tmp_path / "broken.py", PYTHON.replace("enforce_eager=True)", "enforce_eager=(\n"), "python"
    )
    assert [d.code for d in broken] == ["ECO001"]
    binary = await _open(client, tmp_path / "run.sh", "vllm serve \x00\x01\x02\x03" * 100, "shellscript")
    assert [d.code for d in binary] == ["ECO001"] and "binary" in binary[0].message
    huge = "# padding\n" * 1_100_000 + SHELL  # over the default max-file-size of 10 MiB
    too_large = await _open(client, tmp_path / "huge.sh", huge, "shellscript")
    assert [d.code for d in too_large] == ["ECO001"]
    surrogate = await _open(client, tmp_path / "odd.sh", "echo '\udc80'\n" + SHELL, "shellscript")
    assert [d.code for d in surrogate] == ["ECO001"]
    [still] = await _open(client, tmp_path / "serve.sh", SHELL, "shellscript")
    assert still.code == "ECO104"


async def test_a_broken_configuration_is_said_once_and_nothing_is_flagged(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "ecolint.toml").write_text('select = ["ECO999"]\n', encoding="utf-8")
    path = tmp_path / "serve.sh"
    assert await _open(client, path, SHELL, "shellscript") == []
    assert await _change(client, path, SHELL + "echo done\n", 2) == []
    said = [message.message for message in client.messages]
    assert len(said) == 1 and "ecolint.toml" in said[0] and "ECO999" in said[0]


async def test_a_notebook_editor_gets_each_finding_on_its_cell(client: LanguageClient, tmp_path: Path) -> None:
    """VS Code's notebook editor sends the cells, not the .ipynb text."""
    notebook = (tmp_path / "serve.ipynb").as_uri()
    cells = [f"{notebook}#cell{index}" for index in range(3)]
    texts = [
        "from vllm import LLM\n",
        "# notes\n",
        'llm = LLM(model="Qwen/Qwen2-7B", quantization="fp8",\n          enforce_eager=True)\n',
    ]
    opened = types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=notebook,
            notebook_type="jupyter-notebook",
            version=1,
            cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=cell) for cell in cells],
        ),
        cell_text_documents=[
            types.TextDocumentItem(uri=cell, language_id="python", version=1, text=text)
            for cell, text in zip(cells, texts, strict=True)
        ],
    )
    [diagnostic] = await _published(client, cells[2], lambda: client.notebook_document_did_open(opened))
    assert diagnostic.code == "ECO104" and diagnostic.range.start.line == 1
    assert diagnostic.range.end.character == len(texts[2].splitlines()[1])
    assert list(client.diagnostics[cells[0]]) == []  # published too: nothing there


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "ecolint", "lsp", "--gpu", "RTX 4090D"])
)
async def client_on_4090d(lsp_client: LanguageClient, tmp_path: Path):
    params = types.InitializeParams(capabilities=client_capabilities("neovim"), root_uri=tmp_path.as_uri())
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def test_the_gpu_option_is_the_command_lines(client_on_4090d: LanguageClient, tmp_path: Path) -> None:
    """A measured GPU stated with --gpu: three stars, as `ecolint check --gpu 'RTX 4090D'` gives."""
    [diagnostic] = await _open(client_on_4090d, tmp_path / "serve.sh", SHELL, "shellscript")
    assert diagnostic.message.startswith("[★★★]")


async def test_a_notebook_cell_gets_code_actions_and_hover(client: LanguageClient, tmp_path: Path) -> None:
    """The ignores are edits of the cell that holds the finding; the file-wide ignore goes into
    the first code cell; hover explains the cell's line."""
    notebook = (tmp_path / "serve.ipynb").as_uri()
    cells = [f"{notebook}#cell{index}" for index in range(2)]
    texts = [
        "from vllm import LLM\n",
        'llm = LLM(model="Qwen/Qwen2-7B", quantization="fp8",\n          enforce_eager=True)\n',
    ]
    opened = types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=notebook,
            notebook_type="jupyter-notebook",
            version=1,
            cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=cell) for cell in cells],
        ),
        cell_text_documents=[
            types.TextDocumentItem(uri=cell, language_id="python", version=1, text=text)
            for cell, text in zip(cells, texts, strict=True)
        ],
    )
    [diagnostic] = await _published(client, cells[1], lambda: client.notebook_document_did_open(opened))
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=cells[1]),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    actions = {action.title: action for action in found or [] if isinstance(action, types.CodeAction)}
    ignored = _applied(texts[1], actions["Ignore ECO104 on this line"], cells[1])
    assert ignored.splitlines()[1].endswith("enforce_eager=True)  # ecolint: ignore[ECO104]")
    whole = actions["Ignore ECO104 in this file"]
    assert whole.edit is not None and whole.edit.changes is not None and list(whole.edit.changes) == [cells[0]]
    assert _applied(texts[0], whole, cells[0]).startswith("# ecolint: ignore-file[ECO104]\n")
    # as `ecolint check --fix` has none for a notebook, no fix is offered (edit: null)
    assert sorted(actions) == ["Ignore ECO104 in this file", "Ignore ECO104 on this line"]
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=cells[1]), position=diagnostic.range.start)
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "**ECO104**" in hover.contents.value
