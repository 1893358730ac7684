"""``ecolint lsp``: a language server (pygls, stdio) for editors.

Diagnostics come from the editor's text (not the file on disk), linted as ``ecolint -
--stdin-filename PATH`` would lint it (ecolint/servers/lint.py): the configuration found from the
document's path, cross-file facts read from the tree as on the command line. Open and save lint
at once; edits are debounced, and then every open document is linted again, since a change to
one file (an imported config, a platform file naming the GPU) can change another's findings.

Code actions are the finding's own fix (fix.fix_text, unsafe ones labelled so), an ignore comment
for the finding and one for the whole file (ecolint/add_ignore.py). Hover on a flagged line shows
the finding's setup and evidence and the ``explain`` answer for the setups on that line.

ecolint's columns are 1-based characters (code points); the protocol counts in the encoding the
client and server agreed on at initialize (UTF-16 unless the client offers another), so every
position goes through the document's position codec.

A handler never lets an exception out: a document that cannot be linted gets no diagnostics and
a line in the client's log, and the server goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from ecolint import __version__, knowledge
from ecolint.discover import classify
from ecolint.engine import display_path
from ecolint.finding import FileError, Finding
from ecolint.servers.lint import in_file, lint_text

DEBOUNCE_SECONDS = 0.3
# Notebook editors (VS Code's) send cells, not the .ipynb text: the Python cells of Jupyter notebooks.
NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithCells(
            cells=[types.NotebookCellLanguage(language="python")], notebook="jupyter-notebook"
        )
    ],
    save=True,
)
SOURCE = "ecolint"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}


@dataclass
class Linted:
    """One document's last lint: the text it was computed from, and what it found there."""

    text: str
    path: Path
    display: str
    kind: str | None
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


@dataclass
class NotebookLinted:
    """A notebook editor's last lint: the .ipynb text its code cells make, which line of that
    text holds which (cell, line), and the findings there."""

    path: Path
    display: str
    text: str
    where: dict[int, tuple[int, int]]
    cells: list[str]  # the code cells' document URIs, in order
    sources: list[str]  # their texts as linted
    findings: list[Finding] = field(default_factory=list)

    def on(self, cell: str, line: int) -> list[Finding]:
        """The findings shown on a 0-based line of a cell."""
        index = self.cells.index(cell)
        return [f for f in self.findings if self.where.get(f.location.line) == (index, line)]

    def json_line(self, cell: str, line: int) -> int | None:
        index = self.cells.index(cell)
        return next((number for number, place in self.where.items() if place == (index, line)), None)

    def cell_texts(self, text: str) -> list[str] | None:
        """The code cells' texts in an edited .ipynb text (None if it is no longer one)."""
        import json

        try:
            cells = json.loads(text)["cells"]
            joined = ["".join(cell["source"]) for cell in cells]
        except (ValueError, KeyError, TypeError):
            return None
        if len(joined) != len(self.sources):
            return None
        # _notebook_json dropped each source's final newline: give it back where there was one
        return [new + ("\n" if old.endswith("\n") else "") for new, old in zip(joined, self.sources, strict=True)]


class EcolintLanguageServer(LanguageServer):
    def __init__(self, gpu: str | None = None) -> None:
        super().__init__("ecolint", __version__, notebook_document_sync=NOTEBOOK_SYNC)
        self.gpu = gpu
        self.kb = knowledge.load()
        self.cwd = Path.cwd().resolve()
        self.linted: dict[str, Linted] = {}
        self.notebooks: dict[str, NotebookLinted] = {}
        self.notebook_of: dict[str, str] = {}  # a code cell's URI → its notebook's
        self._pending: asyncio.TimerHandle | None = None
        self._told: set[str] = set()

    # -- linting ----------------------------------------------------------------------------

    def lint(self, uri: str) -> Linted | None:
        """Lint the document's current text; None for a document with no file path."""
        path = _path_of(uri)
        if path is None:
            return None
        document = self.workspace.get_text_document(uri)
        text = document.source
        display = display_path(path, self.cwd)
        linted = Linted(text, path, display, classify(path, text[:256].encode("utf-8", "replace")))
        with self._guarded(f"cannot lint {display}"):
            result = lint_text(path, text, self.kb, self.cwd, self.gpu, self.buffers())
            linted.findings = in_file(result.findings, display)
            linted.errors = [error for error in result.errors if error.path == display]
        self.linted[uri] = linted
        return linted

    def buffers(self) -> dict[Path, str]:
        """The open documents' texts by file path, saved or not: what the analysis of one file
        reads of another (an imported config, a platform file naming the GPU)."""
        held = {}
        for uri, document in self.workspace.text_documents.items():
            path = _path_of(uri)
            if path is not None:
                held[path] = document.source
        return held

    def current(self, uri: str) -> Linted | None:
        """The lint of the document's text as it is now (linted again if it changed since)."""
        linted = self.linted.get(uri)
        document = self.workspace.text_documents.get(uri)
        if linted is not None and document is not None and linted.text == document.source:
            return linted
        return self.lint(uri)

    def publish(self, uri: str) -> None:
        linted = self.lint(uri)
        if linted is None:
            return
        document = self.workspace.get_text_document(uri)
        diagnostics = [self.diagnostic(document, finding) for finding in linted.findings]
        diagnostics += [_error_diagnostic(document, error) for error in linted.errors]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version)
        )

    def publish_all(self) -> None:
        """Every open document again: an edit in one file can change another's findings."""
        self._pending = None
        for uri in sorted(self.workspace.text_documents):
            self.publish(uri)
        for uri in sorted(self.workspace.notebook_documents):
            self.publish_notebook(uri)

    def publish_notebook(self, uri: str) -> None:
        """A notebook's code cells, joined into the .ipynb JSON ecolint reads, linted as the
        notebook file; each finding goes back to its cell and line (the whole line: inside a
        notebook ecolint locates lines, not columns)."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        path = _path_of(uri)
        if notebook is None or path is None:
            return
        cells = [cell.document for cell in notebook.cells if cell.kind == types.NotebookCellKind.Code]
        sources = [self.workspace.get_text_document(cell).source for cell in cells]
        text, where = _notebook_json(sources)
        found: dict[str, list[types.Diagnostic]] = {cell: [] for cell in cells}
        display = display_path(path, self.cwd)
        linted = NotebookLinted(path, display, text, where, cells, sources)
        with self._guarded(f"cannot lint {uri}"):
            result = lint_text(path, text, self.kb, self.cwd, self.gpu, self.buffers())
            for finding in in_file(result.findings, display):
                if finding.location.line not in where:
                    continue
                linted.findings.append(finding)
                index, line = where[finding.location.line]
                document = self.workspace.get_text_document(cells[index])
                found[cells[index]].append(self._line_diagnostic(document, line, finding))
        self.notebooks[uri] = linted
        self.notebook_of.update((cell, uri) for cell in cells)
        for cell, diagnostics in found.items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell, diagnostics=diagnostics))

    def _line_diagnostic(self, document: TextDocument, line: int, finding: Finding) -> types.Diagnostic:
        diagnostic = self.diagnostic(document, finding)
        length = len(document.lines[line].rstrip("\r\n")) if line < len(document.lines) else 0
        diagnostic.range = _range(document, line + 1, 1, line + 1, length + 1)
        return diagnostic

    def schedule(self) -> None:
        """publish_all once the edits have paused for DEBOUNCE_SECONDS."""
        if self._pending is not None:
            self._pending.cancel()
        self._pending = asyncio.get_running_loop().call_later(DEBOUNCE_SECONDS, self._publish_all_guarded)

    def _publish_all_guarded(self) -> None:
        with self._guarded("cannot refresh the diagnostics"):
            self.publish_all()

    def diagnostic(self, document: TextDocument, finding: Finding) -> types.Diagnostic:
        spec = self.kb.rules.get(finding.code)
        from ecolint.docs import rule_url

        href = rule_url(spec) if spec is not None else None
        return types.Diagnostic(
            range=_range(document, *_span(finding)),
            severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
            code=finding.code,
            code_description=types.CodeDescription(href=href) if href else None,
            source=SOURCE,
            message=f"[{finding.stars}] {finding.message}",
            data={"fingerprint": finding.fingerprint},
        )

    @contextlib.contextmanager
    def _guarded(self, what: str) -> Iterator[None]:
        from ecolint.config import ConfigError
        from ecolint.funnel import SelectionError

        try:
            yield
        except (ConfigError, SelectionError) as exc:
            self._tell(f"ecolint: {exc}")  # the user's to fix, as the command line would say it
        except Exception as exc:  # noqa: BLE001 - one document's failure must not stop the server
            self.window_log_message(
                types.LogMessageParams(type=types.MessageType.Error, message=f"ecolint: {what}: {exc}")
            )

    def _tell(self, message: str) -> None:
        """A message shown to the user once, not again on every keystroke."""
        if message in self._told:
            return
        self._told.add(message)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    # -- code actions -----------------------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        if uri in self.notebook_of:
            return self.cell_actions(params)
        linted = self.current(uri)
        if linted is None:
            return []
        document = self.workspace.get_text_document(uri)
        first, last = params.range.start.line + 1, params.range.end.line + 1
        actions: list[types.CodeAction] = []
        for finding in linted.findings:
            if finding.location.end_line < first or finding.location.line > last:
                continue
            diagnostic = self.diagnostic(document, finding)
            for title, new_text, preferred in self._edits_for(linted, finding):
                if new_text is None or new_text == linted.text:
                    continue
                edit = types.WorkspaceEdit(changes={uri: [_text_edit(document, linted.text, new_text)]})
                actions.append(_quick_fix(title, diagnostic, edit, preferred))
        return actions

    def cell_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        """A notebook cell's code actions: the fix and the ignores are made on the .ipynb text
        the cells make, as for a notebook file, and come back as edits of the cells they change."""
        from ecolint.add_ignore import with_file_ignore, with_ignores

        cell = params.text_document.uri
        linted = self._notebook_now(cell)
        if linted is None:
            return []
        actions: list[types.CodeAction] = []
        for line in range(params.range.start.line, params.range.end.line + 1):
            for finding in linted.on(cell, line):
                document = self.workspace.get_text_document(cell)
                diagnostic = self._line_diagnostic(document, line, finding)
                edits: list[tuple[str, list[str] | None, bool]] = []
                offered = _fix_offered(finding)
                if offered is not None:
                    edits.append((offered[0], self._fixed_notebook(linted, finding), offered[1]))
                ignored = linted.cell_texts(with_ignores(linted.text, "notebook", [finding])[0])
                edits.append((f"Ignore {finding.code} on this line", ignored, False))
                # a file-wide ignore comment belongs in the first code cell (Python, so a comment)
                first = with_file_ignore(linted.sources[0], "python", [finding.code])
                whole = None if first is None else [first, *linted.sources[1:]]
                edits.append((f"Ignore {finding.code} in this file", whole, False))
                for title, texts, preferred in edits:
                    edit = self._cells_edit(linted, texts)
                    if edit is not None:
                        actions.append(_quick_fix(title, diagnostic, edit, preferred))
        return actions

    def _notebook_now(self, cell: str) -> NotebookLinted | None:
        """The notebook's lint, made again if a cell changed since."""
        uri = self.notebook_of.get(cell)
        linted = None if uri is None else self.notebooks.get(uri)
        if linted is None or uri is None:
            return None
        if [self.workspace.get_text_document(c).source for c in linted.cells] != linted.sources:
            self.publish_notebook(uri)
            linted = self.notebooks.get(uri)
        return linted if linted is not None and cell in linted.cells else None

    def _cells_edit(self, linted: NotebookLinted, texts: list[str] | None) -> types.WorkspaceEdit | None:
        if texts is None:
            return None
        changes = {
            cell: [_text_edit(self.workspace.get_text_document(cell), old, new)]
            for cell, old, new in zip(linted.cells, linted.sources, texts, strict=True)
            if old != new
        }
        return types.WorkspaceEdit(changes=changes) if changes else None

    def _fixed_notebook(self, linted: NotebookLinted, finding: Finding) -> list[str] | None:
        """The cells' texts with this finding's edit applied (checked by linting the result)."""
        from ecolint.fix import fix_text

        def audit(text: str) -> list[Finding] | None:
            result = lint_text(linted.path, text, self.kb, self.cwd, self.gpu, self.buffers())
            if any(error.path == linted.display for error in result.errors):
                return None
            return in_file(result.findings, linted.display)

        unsafe = (finding.fix or {}).get("safety") == "unsafe"
        new_text, fixed, _ = fix_text("notebook", linted.text, [finding], audit, unsafe)
        return linted.cell_texts(new_text) if fixed else None

    def _edits_for(self, linted: Linted, finding: Finding) -> Iterator[tuple[str, str | None, bool]]:
        from ecolint.add_ignore import with_file_ignore, with_ignores

        offered = _fix_offered(finding)
        if offered is not None:
            yield offered[0], self._fixed(linted, finding), offered[1]
        yield f"Ignore {finding.code} on this line", with_ignores(linted.text, linted.kind, [finding])[0], False
        yield f"Ignore {finding.code} in this file", with_file_ignore(linted.text, linted.kind, [finding.code]), False

    def _fixed(self, linted: Linted, finding: Finding) -> str | None:
        """The text with this finding's edit applied, checked by linting the result, as --fix does."""
        from ecolint.fix import fix_text, without_dead_code

        if linted.kind is None:
            return None

        def audit(text: str) -> list[Finding] | None:
            result = lint_text(linted.path, text, self.kb, self.cwd, self.gpu, self.buffers())
            if any(error.path == linted.display for error in result.errors):
                return None  # the edit broke the file: not offered
            return in_file(result.findings, linted.display)

        unsafe = (finding.fix or {}).get("safety") == "unsafe"
        new_text, fixed, remaining = fix_text(linted.kind, linted.text, [finding], audit, unsafe)
        if not fixed:
            return None
        return without_dead_code(linted.kind, linted.text, new_text, remaining, audit)[0]

    # -- hover ------------------------------------------------------------------------------

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        if uri in self.notebook_of:
            return self.cell_hover(uri, params.position.line)
        linted = self.current(uri)
        if linted is None:
            return None
        line = params.position.line + 1
        here = [f for f in linted.findings if f.location.line <= line <= f.location.end_line]
        if not here:
            return None
        parts = [_finding_markdown(finding) for finding in here]
        explained = self._explained(linted, line)
        if explained:
            parts.append("```text\n" + explained.rstrip("\n") + "\n```")
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts))
        )

    def cell_hover(self, cell: str, line: int) -> types.Hover | None:
        """Hover on a notebook cell's line: its findings, then `explain` for the notebook at the
        .ipynb line that holds it."""
        linted = self._notebook_now(cell)
        here = [] if linted is None else linted.on(cell, line)
        if linted is None or not here:
            return None
        parts = [_finding_markdown(finding) for finding in here]
        json_line = linted.json_line(cell, line)
        as_file = Linted(linted.text, linted.path, linted.display, "notebook", linted.findings)
        explained = None if json_line is None else self._explained(as_file, json_line)
        if explained:
            parts.append("```text\n" + explained.rstrip("\n") + "\n```")
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts))
        )

    def _explained(self, linted: Linted, line: int) -> str | None:
        """`ecolint explain PATH:LINE` for the editor's text."""
        from ecolint.advisor.explain import answer
        from ecolint.advisor.text import render_explain
        from ecolint.engine import setups_in_text
        from ecolint.servers.lint import buffer_reader, config_for

        config = config_for(linted.path)
        data = linted.text.encode("utf-8", "surrogatepass")
        reader = buffer_reader(self.buffers())
        found, errors = setups_in_text(linted.path, data, self.kb, config, self.gpu, cwd=self.cwd, read_text=reader)
        if errors:
            return None
        document = answer(found, linted.findings, linted.display, line, self.kb, config)
        return render_explain(document) if document["setups"] else None


def _path_of(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _range(document: TextDocument, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    """A 1-based span in characters (end exclusive) as a protocol range in the client's units."""
    lines = document.lines
    codec = document.position_codec
    start = codec.position_to_client_units(lines, _clamped(lines, line - 1, column - 1))
    end = codec.position_to_client_units(lines, _clamped(lines, end_line - 1, end_column - 1))
    return types.Range(start=start, end=end)


def _span(finding: Finding) -> tuple[int, int, int, int]:
    loc = finding.location
    return loc.line, loc.column, loc.end_line, loc.end_column


def _clamped(lines: Any, line: int, character: int) -> types.Position:
    """A position inside the document: past its last line, its end; past a line's end, that end."""
    if not lines:
        return types.Position(line=0, character=0)
    if line >= len(lines):
        return types.Position(line=len(lines) - 1, character=len(lines[-1].rstrip("\r\n")))
    return types.Position(line=max(0, line), character=min(max(0, character), len(lines[line].rstrip("\r\n"))))


def _error_diagnostic(document: TextDocument, error: FileError) -> types.Diagnostic:
    return types.Diagnostic(
        range=_range(document, error.line, 1, error.line + 1, 1),
        severity=types.DiagnosticSeverity.Error,
        code=error.code,
        source=SOURCE,
        message=error.message,
    )


def _notebook_json(sources: list[str]) -> tuple[str, dict[int, tuple[int, int]]]:
    """The .ipynb text of these code cells, each source a list of lines as Jupyter writes it, and
    for each line of that text holding a source line, its (0-based cell, 0-based line)."""
    import json

    out = ['{"cells": [']
    where: dict[int, tuple[int, int]] = {}
    for index, source in enumerate(sources):
        out.append(' {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": [')
        lines = source.removesuffix("\n").splitlines(True)  # Jupyter's last element has no newline
        for number, line in enumerate(lines):
            where[len(out) + 1] = (index, number)
            out.append("  " + json.dumps(line) + ("," if number < len(lines) - 1 else ""))
        out.append(" ]}" + ("," if index < len(sources) - 1 else ""))
    out.append('], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    return "\n".join(out) + "\n", where


def _text_edit(document: TextDocument, old: str, new: str) -> types.TextEdit:
    """One edit replacing only what differs between the two texts."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1
    lines = document.lines
    codec = document.position_codec
    return types.TextEdit(
        range=types.Range(
            start=codec.position_to_client_units(lines, _position(old, start)),
            end=codec.position_to_client_units(lines, _position(old, end_old)),
        ),
        new_text=new[start:end_new],
    )


def _position(text: str, offset: int) -> types.Position:
    """The (0-based line, code point) of an offset into text."""
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=line, character=offset - line_start)


def _finding_markdown(finding: Finding) -> str:
    from ecolint.finding import overhead_text
    from ecolint.report import evidence_line, setup_line

    overhead = overhead_text(finding.overhead)
    head = f"**{finding.code}** {finding.name} {finding.stars} {finding.severity}" + (
        f" ({overhead})" if overhead else ""
    )
    lines = [head, "", finding.message, "", f"setup: {setup_line(finding.setup)}"]
    lines += [f"- {evidence_line(row)}" for row in finding.evidence]
    lines += [f"- {note}" for note in finding.boundaries + finding.notes]
    return "\n".join(lines)


def build(gpu: str | None = None) -> EcolintLanguageServer:
    server = EcolintLanguageServer(gpu)
    _register(server)
    return server


def _register(server: EcolintLanguageServer) -> None:
    def guarded(what: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def run(params: Any) -> Any:
            with server._guarded(what):
                return handler(params)
            return None

        return run

    def opened(params: types.DidOpenTextDocumentParams) -> None:
        server.publish(params.text_document.uri)

    def changed(params: types.DidChangeTextDocumentParams) -> None:
        server.schedule()

    def saved(params: types.DidSaveTextDocumentParams) -> None:
        server.publish_all()

    def closed(params: types.DidCloseTextDocumentParams) -> None:
        server.linted.pop(params.text_document.uri, None)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(guarded("didOpen", opened))
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(guarded("didChange", changed))
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(guarded("didSave", saved))
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(guarded("didClose", closed))
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
    )(guarded("codeAction", server.code_actions))
    server.feature(types.TEXT_DOCUMENT_HOVER)(guarded("hover", server.hover))

    def notebook_opened(params: types.DidOpenNotebookDocumentParams) -> None:
        server.publish_notebook(params.notebook_document.uri)

    def notebook_closed(params: types.DidCloseNotebookDocumentParams) -> None:
        server.notebooks.pop(params.notebook_document.uri, None)
        for cell in params.cell_text_documents:
            server.notebook_of.pop(cell.uri, None)
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))

    server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)(guarded("notebookDocument/didOpen", notebook_opened))
    server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)(guarded("notebookDocument/didChange", changed))
    server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)(guarded("notebookDocument/didSave", saved))
    server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)(guarded("notebookDocument/didClose", notebook_closed))


def serve(gpu: str | None = None) -> None:
    """Serve on standard input and output until the client says exit."""
    build(gpu).start_io()


def _fix_offered(finding: Finding) -> tuple[str, bool] | None:
    """The title of a finding's fix action and whether it is the preferred one (a safe fix), or
    None when the finding has no edit to offer."""
    fix = finding.fix or {}
    if not fix.get("edit") or fix.get("safety") not in ("safe", "unsafe"):
        return None
    unsafe = fix.get("safety") == "unsafe"
    label = " (unsafe: " + (fix.get("reason") or "review the change") + ")" if unsafe else ""
    return f"Fix {finding.code} ({finding.name}){label}", not unsafe


def _quick_fix(
    title: str, diagnostic: types.Diagnostic, edit: types.WorkspaceEdit, preferred: bool
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=edit,
        is_preferred=preferred or None,
    )
