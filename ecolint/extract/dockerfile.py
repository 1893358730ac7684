"""Dockerfiles / Containerfiles -> argv + env with locations -> ecolint/extract/launchers.

Follows Docker's own rules: backslash continuations (comment lines inside them are dropped, as
BuildKit does), exec-form JSON vs shell form, ENTRYPOINT + CMD combined (a shell-form ENTRYPOINT
ignores CMD; setting ENTRYPOINT drops an inherited CMD), ARG defaults substituted into FROM / ENV,
ENV reaching the launcher at run time, stages inherited through ``FROM <stage>``. A known base
image (TGI, vLLM, Ollama, llama.cpp server) with only CMD arguments implies its launcher.
RUN lines are shell (``RUN ollama pull …``); ``RUN <<EOF`` bodies too; ``COPY <<EOF …/Modelfile``
is a Modelfile.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ecolint.extract import ExtractContext, ExtractError, modelfile
from ecolint.extract.launchers.detect import container_setups, interpret
from ecolint.extract.launchers.vocab import EnvVal, Locator, Tok, basename, text_locator
from ecolint.extract.shell import setups_from_script, setups_from_text, split_words
from ecolint.setups import INVOCATION, INVOKED_SCRIPT, Location, Setup

_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class _Instr:
    keyword: str
    args: str  # continuation-joined text after the keyword
    pos: list[int]  # file offset of every character of args
    line: int
    heredocs: list[tuple[str, int]] = field(default_factory=list)  # (body, body offset)


@dataclass
class _Stage:
    image: Tok | None  # the external base image (inherited through stage names)
    entrypoint: list[Tok] | None = None
    cmd: list[Tok] | None = None
    env: dict[str, EnvVal] = field(default_factory=dict)
    files: ImageFiles = field(default_factory=lambda: ImageFiles())


@dataclass
class ImageFiles:
    """Which repository file a path inside the image is: ``WORKDIR`` and ``COPY``/``ADD`` from
    the build context (taken to be the Dockerfile's directory, Docker's default for ``docker
    build .`` beside it). Only plain copies count: ``--from`` another stage, URLs and globs are
    left out, and a path two copies could have written maps to nothing (ambiguous)."""

    workdir: str = "/"
    copies: list[tuple[str, str]] = field(default_factory=list)  # (image path, context path)

    def absolute(self, written: str) -> str:
        return posixpath.normpath(posixpath.join(self.workdir, written))

    def copy(self, sources: list[str], dest: str) -> None:
        target = self.absolute(dest)
        into_dir = dest.endswith("/") or len(sources) > 1 or dest in (".", "./")
        for source in sources:
            if any(ch in source for ch in "*?[") or "://" in source or "$" in source:
                continue
            clean = posixpath.normpath(source).lstrip("/")
            name = posixpath.basename(clean) if clean not in ("", ".") else ""
            self.copies.append((posixpath.join(target, name) if into_dir and name else target, clean))

    def source(self, image_path: str) -> str | None:
        """The context-relative path of an image path, or None (not copied, or ambiguous)."""
        wanted = self.absolute(image_path)
        found = set()
        for dest, source in self.copies:
            if wanted == dest:
                found.add(source)
            elif wanted.startswith(dest.rstrip("/") + "/"):
                found.add(posixpath.normpath(posixpath.join(source, wanted[len(dest.rstrip("/")) + 1 :])))
        return found.pop() if len(found) == 1 else None


def _escape_char(lines: list[str]) -> str:
    for line in lines:
        match = re.match(r"^\s*#\s*escape\s*=\s*(\S)", line, re.I)
        if match:
            return match.group(1)
        if not re.match(r"^\s*#\s*\w+\s*=", line):
            break
    return "\\"


def _instructions(text: str) -> list[_Instr]:
    lines = text.split("\n")
    offsets = []
    offset = 0
    for line in lines:
        offsets.append(offset)
        offset += len(line) + 1
    escape = _escape_char(lines)
    out: list[_Instr] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        indent = len(line) - len(stripped)
        keyword, _, _ = stripped.partition(" ")
        keyword = keyword.split("\t")[0]
        start = offsets[i] + indent + len(keyword)
        chars: list[str] = []
        pos: list[int] = []
        first_line = i
        segment, seg_start = line[indent + len(keyword) :], start
        while True:
            body = segment.rstrip()
            continued = body.endswith(escape)
            if continued:
                body = body[:-1]
            chars.extend(body)
            pos.extend(range(seg_start, seg_start + len(body)))
            i += 1
            if not continued:
                break
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1  # comment / empty lines inside a continuation are removed
            if i >= len(lines):
                break
            chars.append(" ")
            pos.append(offsets[i])
            segment, seg_start = lines[i].rstrip("\r"), offsets[i]
        instr = _Instr(keyword.upper(), "".join(chars), pos, first_line + 1)
        i = _read_heredocs(instr, lines, offsets, i)
        out.append(instr)
    return out


def _read_heredocs(instr: _Instr, lines: list[str], offsets: list[int], i: int) -> int:
    if instr.keyword not in ("RUN", "COPY", "ADD"):
        return i
    for match in _HEREDOC.finditer(instr.args):
        strip_tabs, delim = match.group(1) == "-", match.group(3)
        body_start = offsets[i] if i < len(lines) else (offsets[-1] + len(lines[-1]))
        body: list[str] = []
        while i < len(lines):
            line = lines[i].rstrip("\r")
            i += 1
            if (line.lstrip("\t") if strip_tabs else line) == delim:
                break
            body.append(line)
        instr.heredocs.append(("\n".join(body), body_start))
    return i


def _args_locator(instr: _Instr, file_locate: Callable[[int], tuple[int, int]]) -> Locator:
    def locate(k: int) -> tuple[int, int]:
        if not instr.pos:
            return (instr.line, 1)
        if k < len(instr.pos):
            return file_locate(instr.pos[k])
        line, col = file_locate(instr.pos[-1])
        return line, col + (k - len(instr.pos) + 1)

    return locate


def _loc(path: str, locate: Locator, start: int, end: int) -> Location:
    a = locate(start) or (1, 1)
    b = locate(end) or a
    return Location(path, a[0], a[1], b[0], b[1])


def _shifted(locate: Locator, start: int) -> Locator:
    """The locator of a word that starts at ``start`` of the text ``locate`` reads."""
    return lambda k: locate(start + k)


def _exec_form(instr: _Instr, path: str, locate: Locator) -> list[Tok] | None:
    """A JSON array with a Tok per string, or None when the args are shell form."""
    text = instr.args
    i = len(text) - len(text.lstrip())
    if not text.strip().startswith("[") or not text.rstrip().endswith("]"):
        return None
    i += 1
    toks: list[Tok] = []
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "]" and not toks:
            return toks
        if i >= len(text) or text[i] != '"':
            return None
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        if j >= len(text):
            return None
        literal = text[i : j + 1]
        try:
            value = json.loads(literal)
        except ValueError:
            return None
        start = i + 1
        verbatim = "\\" not in literal
        toks.append(Tok(value, _loc(path, locate, i, j + 1), _shifted(locate, start) if verbatim else None))
        i = j + 1
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if i < len(text) and text[i] == "]":
            return toks if not text[i + 1 :].strip() else None
        return None


def _shell_form(instr: _Instr, path: str, locate: Locator) -> list[Tok]:
    """Docker runs a shell-form command as ``/bin/sh -c "<args>"``."""
    text = instr.args
    lead = len(text) - len(text.lstrip())
    script = text.strip()
    loc = _loc(path, locate, lead, lead + len(script))
    return [Tok("/bin/sh", loc), Tok("-c", loc), Tok(script, loc, lambda k: locate(lead + k))]


def _command(instr: _Instr, path: str, locate: Locator) -> list[Tok]:
    exec_form = _exec_form(instr, path, locate)
    return exec_form if exec_form is not None else _shell_form(instr, path, locate)


class _Builder:
    def __init__(self, path: str, text: str, context: ExtractContext | None) -> None:
        self.path = path
        self.file_locate = text_locator(text)
        self.context = context
        self.global_args: dict[str, EnvVal] = {}
        self.stages: dict[str, _Stage] = {}
        self.stage: _Stage | None = None
        self.args: dict[str, EnvVal] = {}
        self.setups: list[Setup] = []

    def words(self, instr: _Instr, variables: dict[str, EnvVal]) -> list[Tok]:
        return split_words(instr.args, self.path, _args_locator(instr, self.file_locate), variables)

    def on_from(self, instr: _Instr) -> None:
        words = [w for w in self.words(instr, self.global_args) if not w.text.startswith("--")]
        if not words:
            return
        # The image is named on this FROM line even when an ARG default supplies it.
        ref = Tok(words[0].text, instr_loc(self.path, instr, self.file_locate))
        name = words[2].text.lower() if len(words) >= 3 and words[1].text.lower() == "as" else None
        parent = self.stages.get(ref.text.lower())
        if parent is not None:
            files = ImageFiles(parent.files.workdir, list(parent.files.copies))
            stage = _Stage(parent.image, parent.entrypoint, parent.cmd, dict(parent.env), files)
        else:
            stage = _Stage(ref)
        self.stage = stage
        self.args = {}
        if name:
            self.stages[name] = stage

    def on_arg(self, instr: _Instr) -> None:
        target = self.global_args if self.stage is None else self.args
        for word in self.words(instr, {**self.global_args, **self.args, **self._env()}):
            key, eq, value = word.text.partition("=")
            if eq:
                target[key] = EnvVal(value, word.loc)
            elif key in self.global_args and self.stage is not None:
                target[key] = self.global_args[key]  # ARG NAME re-declared in a stage

    def _env(self) -> dict[str, EnvVal]:
        return self.stage.env if self.stage is not None else {}

    def on_env(self, instr: _Instr) -> None:
        if self.stage is None:
            return
        words = self.words(instr, {**self.args, **self.stage.env})
        if words and "=" not in words[0].text:  # legacy ``ENV KEY value with spaces``
            value = " ".join(w.text for w in words[1:])
            self.stage.env[words[0].text] = EnvVal(value, instr_loc(self.path, instr, self.file_locate))
            return
        for word in words:
            key, eq, value = word.text.partition("=")
            if eq:
                self.stage.env[key] = EnvVal(value, word.loc)

    def on_run(self, instr: _Instr) -> None:
        env = {**self.args, **self._env()}
        locate = _args_locator(instr, self.file_locate)
        if instr.heredocs:
            if not _runs_heredoc_as_shell(instr.args):
                return  # `RUN python3 <<EOF` and the like: the body is not shell
            for body, offset in instr.heredocs:
                body_locate = text_locator(body, *(lambda p: (p[0] - 1, p[1] - 1))(self.file_locate(offset)))
                self.setups.extend(
                    setups_from_text(
                        body, self.path, locate=body_locate, env=env, kind="dockerfile", context=self.context
                    )
                )
            return
        exec_form = _exec_form(instr, self.path, locate)
        if exec_form is not None:
            self.setups.extend(
                interpret(exec_form, env, path=self.path, kind="dockerfile", run_script=setups_from_script)
            )
            return
        self.setups.extend(
            setups_from_text(instr.args, self.path, locate=locate, env=env, kind="dockerfile", context=self.context)
        )

    def on_workdir(self, instr: _Instr) -> None:
        if self.stage is None:
            return
        words = self.words(instr, {**self.args, **self.stage.env})
        if words and "$" not in words[0].text:
            self.stage.files.workdir = self.stage.files.absolute(words[0].text)

    def on_copy(self, instr: _Instr) -> None:
        """``COPY src dest``: where a repository file lands in the image; ``COPY <<EOF
        /models/Modelfile``: an inline Modelfile."""
        if not instr.heredocs:
            words = [w.text for w in self.words(instr, {**self.args, **self._env()})]
            if self.stage is None or any(w.startswith("--from") for w in words):
                return
            paths = [w for w in words if not w.startswith("--")]
            if len(paths) >= 2:
                self.stage.files.copy(paths[:-1], paths[-1])
            return
        targets = [w.text for w in self.words(instr, {}) if not w.text.startswith(("<<", "--"))]
        if not targets or not _is_modelfile(basename(targets[-1])):
            return
        body, offset = instr.heredocs[0]
        line, col = self.file_locate(offset)
        try:
            setup = modelfile.parse(body, self.path, text_locator(body, line - 1, col - 1), kind="dockerfile")
        except ExtractError:
            return
        if setup is not None:
            self.setups.append(setup)

    def on_command(self, instr: _Instr) -> None:
        if self.stage is None:
            return
        toks = _command(instr, self.path, _args_locator(instr, self.file_locate))
        if instr.keyword == "ENTRYPOINT":
            self.stage.entrypoint = toks
            self.stage.cmd = None  # Docker: setting ENTRYPOINT resets an inherited CMD
        else:
            self.stage.cmd = toks

    def final(self) -> list[Setup]:
        stage = self.stage
        if stage is None:
            return []
        entry = stage.entrypoint
        cmd = stage.cmd
        if entry is not None and len(entry) >= 2 and entry[0].text == "/bin/sh" and entry[1].text == "-c":
            cmd = []  # a shell-form ENTRYPOINT ignores CMD
        if entry is None and cmd is None and stage.image is None:
            return []
        found = container_setups(
            stage.image,
            entry,
            cmd,
            stage.env,
            path=self.path,
            kind="dockerfile",
            run_script=setups_from_script,
            read_file=self._image_file_reader(stage.files),
        )
        return [setup for setup in found if setup.framework != INVOCATION or _in_repository(setup, stage.files)]

    def _image_file_reader(self, files: ImageFiles) -> Callable[[str], str | None] | None:
        """Files the container's command names (vLLM's ``--config``), read from the repository
        file the Dockerfile copied there."""
        context = self.context
        if context is None:
            return None
        here = context.source_path(self.path).parent

        def read(written: str) -> str | None:
            source = files.source(written)
            return None if source is None else context.read(here / source)

        return read


def _in_repository(invocation: Setup, files: ImageFiles) -> bool:
    """A script the image runs, as the build-context file the Dockerfile copied there (the
    project pass resolves it from the Dockerfile's directory); False when no copy, or more
    than one, could have put it there."""
    written = invocation.facts[INVOKED_SCRIPT]
    script = str(written.value)
    if script.startswith("-m "):
        script = script[3:].replace(".", "/") + ".py"
    source = files.source(script)
    if source is None:
        return False
    invocation.facts[INVOKED_SCRIPT] = replace(written, value=source, how="image")
    return True


def _runs_heredoc_as_shell(args: str) -> bool:
    """``RUN <<EOF`` or ``RUN bash <<EOF`` run the body as a script; ``RUN python3 <<EOF`` does not."""
    words = [w for w in _HEREDOC.sub(" ", args).split() if not w.startswith("--")]
    if not words:
        return True
    return basename(words[0]) in ("sh", "bash", "dash", "zsh", "ash") and all(w.startswith("-") for w in words[1:])


def instr_loc(path: str, instr: _Instr, locate: Callable[[int], tuple[int, int]]) -> Location:
    return _loc(path, _args_locator(instr, locate), 0, len(instr.args))


def _is_modelfile(name: str) -> bool:
    """A Modelfile name, spelt with one of the engine's exact trigger tokens."""
    from ecolint.discover import classify

    return classify(Path(name), b"") == "modelfile" and ("Modelfile" in name or "modelfile" in name)


def extract(path: str, text: str, context: ExtractContext | None) -> list[Setup]:
    """Setups a Dockerfile builds or runs; unknown instructions are ignored, never an error."""
    builder = _built(path, text, context)
    return builder.setups + builder.final()


def invocations_of_built_image(
    path: str, text: str, context: ExtractContext | None, command: Sequence[Tok], label: str | None
) -> list[Setup]:
    """The scripts a compose service's ``command:`` runs through the ENTRYPOINT of the image it
    builds from this Dockerfile (``ENTRYPOINT ["python3"]`` + ``command: generate.py --x``), each
    mapped to its build-context file (the invocation pass only; ecolint/invocations.py)."""
    stage = _built(path, text, context).stage
    if stage is None or not stage.entrypoint:
        return []
    found = container_setups(
        stage.image,
        stage.entrypoint,
        command,
        stage.env,
        path=path,
        kind="dockerfile",
        label=label,
        run_script=setups_from_script,
    )
    return [setup for setup in found if setup.framework == INVOCATION and _in_repository(setup, stage.files)]


def _built(path: str, text: str, context: ExtractContext | None) -> _Builder:
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # a BOM would hide the first instruction; a space keeps columns
    builder = _Builder(path, text, context)
    handlers = {
        "FROM": builder.on_from,
        "ARG": builder.on_arg,
        "ENV": builder.on_env,
        "RUN": builder.on_run,
        "COPY": builder.on_copy,
        "ADD": builder.on_copy,
        "WORKDIR": builder.on_workdir,
        "CMD": builder.on_command,
        "ENTRYPOINT": builder.on_command,
    }
    for instr in _instructions(text):
        handler = handlers.get(instr.keyword)
        if handler is not None:
            handler(instr)
    return builder
