"""The one reporting funnel: selection, per-file ignores, inline suppressions, baseline, order.

No rule handles suppression itself. Everything a user can say about which findings they want
is applied here, in one place, in this order:
1. selection: --select/--extend-select/--ignore and the config (ruff semantics: the most
   specific selector wins; ECO2xx/ECO3xx are opt-in, run only when a selector names them);
2. per-file-ignores (glob → codes);
3. inline comments: ``# ecolint: ignore[ECO101]`` on the line or alone on the line above,
   a bare ``# ecolint: ignore`` for every code, ``# ecolint: ignore-file[ECO105]`` anywhere
   (a finding of a setup made through a helper of another module also on the helper's lines,
   ``Finding.also_at``);
   then the same usage finding of several setups at one line (a helper's generate() reached
   from several call sites, each its own setup) is kept once, with their lines and notes;
4. the baseline (fingerprints of accepted findings);
5. --min-confidence (findings below it are neither shown nor counted);
then findings are sorted by (path, line, column, code).

Fingerprints are computed for every finding that survives steps 1–3, before the baseline and
the confidence floor, so that dropping one finding never shifts the occurrence index (and so
the fingerprint) of an identical finding later in the same file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field

from ecolint.finding import Finding

_SELECTOR = re.compile(r"^(ALL|ECO\d{0,3})$")
_INLINE = re.compile(r"#\s*ecolint:\s*(ignore-file|ignore)\b(?:\[([A-Za-z0-9_,\s]*)\])?")


class SelectionError(ValueError):
    """A selector that names no rule (a typo must not silently select nothing)."""


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def check_selectors(selectors: Iterable[str], known: Iterable[str], where: str) -> None:
    known = list(known)
    for selector in selectors:
        if not _SELECTOR.match(selector) or not any(_matches(selector, code) for code in known):
            raise SelectionError(f"{where}: '{selector}' selects no rule (known: {', '.join(known)})")


def enabled_codes(
    defaults: dict[str, bool],
    select: list[str] | None,
    extend_select: list[str],
    ignore: list[str],
) -> list[str]:
    """Codes that run. The longest matching selector decides; on a tie, ignore wins."""
    enabled = []
    chosen = select if select is not None else []
    for code, on_by_default in sorted(defaults.items()):
        best_len, best_on = -1, on_by_default and select is None
        if select is not None:
            best_on = False
        for selector in chosen + extend_select:
            if _matches(selector, code) and _specificity(selector) > best_len:
                best_len, best_on = _specificity(selector), True
        for selector in ignore:
            if _matches(selector, code) and _specificity(selector) >= best_len:
                best_len, best_on = _specificity(selector), False
        if best_on and code != "ECO001":
            enabled.append(code)
    return enabled


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


@dataclass
class Directive:
    """One ignore comment: where it is, what it names and which lines it covers."""

    line: int
    codes: frozenset[str] | None  # None: every code
    lines: tuple[int, ...] | None  # None: the whole file (ignore-file)
    used: set[str] = field(default_factory=set)  # codes of the findings it suppressed


@dataclass
class Suppressions:
    """Inline suppressions of one file, parsed once from its comment text."""

    directives: list[Directive] = field(default_factory=list)

    def covers(self, code: str, line: int) -> bool:
        """Whether an ignore comment suppresses this code on this line; the comments that do
        are marked as used (for --report-unused-ignores)."""
        hit = False
        for directive in self.directives:
            if (directive.lines is None or line in directive.lines) and (
                directive.codes is None or code in directive.codes
            ):
                directive.used.add(code)
                hit = True
        return hit


def parse_suppressions(text: str, path: str = "") -> Suppressions:
    """The ignore comments of one file. In Python only real comments count, as ruff reads
    noqa: a docstring or a string that shows the syntax is neither a suppression nor a typo."""
    result = Suppressions()
    if "ecolint:" not in text:
        return result
    lines = text.splitlines()
    comments = _python_comments(text) if path.endswith((".py", ".pyi")) else None
    for number, line in enumerate(lines, start=1):
        match = _INLINE.search(line if comments is None else comments.get(number, ""))
        if not match:
            continue
        codes = {c.strip().upper() for c in (match.group(2) or "").split(",") if c.strip()} or None
        if match.group(1) == "ignore-file":
            result.directives.append(Directive(number, _frozen(codes), None))
            continue
        # a trailing comment covers its own line; one alone on its line, the next logical line
        covered = [number] if not line.lstrip().startswith("#") else _next_logical_line(lines, number)
        result.directives.append(Directive(number, _frozen(codes), tuple(covered)))
    return result


def _python_comments(text: str) -> dict[int, str] | None:
    """Line → the text of its comment token; None when the source does not tokenize (a broken
    file is read line by line, as other kinds are)."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and "ecolint:" in token.string:
                comments[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError):
        return None
    return comments


def _frozen(codes: set[str] | None) -> frozenset[str] | None:
    return None if codes is None else frozenset(codes)


def unknown_codes(codes: Iterable[str], known: Iterable[str]) -> list[str]:
    """Codes (or prefixes) that name no rule: a typo such as ECO1O1."""
    known = list(known)
    return [code for code in codes if not any(_matches(code, rule) for rule in known)]


def review_ignores(
    texts: dict[str, str],
    parsed: dict[str, Suppressions],
    known: Iterable[str],
    enabled: Iterable[str],
) -> tuple[list[str], list[str]]:
    """Ignore comments that name unknown codes (like ruff's invalid-noqa warning), and those
    that suppressed nothing in this run (like RUF100): two lists of 'path:line: …' texts. A
    code that is not enabled in this run is never called unused: it could not be used."""
    known, enabled = list(known), set(enabled)
    invalid: list[str] = []
    unused: list[str] = []
    for path in sorted(texts):
        if "ecolint:" not in texts[path]:
            continue
        suppressions = parsed.get(path) or parse_suppressions(texts[path], path)
        for directive in suppressions.directives:
            where = f"{path}:{directive.line}"
            named = sorted(directive.codes or ())
            bad = unknown_codes(named, known)
            if bad:
                invalid.append(f"{where}: ignore comment names no rule: {', '.join(bad)} (known: {', '.join(known)})")
            if directive.codes is None:
                if not directive.used:
                    unused.append(f"{where}: unused ignore comment (it suppressed nothing)")
                continue
            idle = [code for code in named if code not in bad and code in enabled and code not in directive.used]
            if idle:
                unused.append(f"{where}: unused ignore comment: {', '.join(idle)} (nothing to suppress)")
    return invalid, unused


def _next_logical_line(lines: list[str], comment_line: int) -> list[int]:
    """Line numbers covered by a comment alone on its line: the next line that is not a comment,
    with its backslash continuations (a shell or Dockerfile command can carry no trailing comment)."""
    index = comment_line  # 0-based index of the line after the comment
    while index < len(lines) and lines[index].lstrip().startswith("#"):
        index += 1
    covered = []
    while index < len(lines):
        covered.append(index + 1)
        if not lines[index].rstrip().endswith("\\"):
            break
        index += 1
    return covered


def fingerprint(finding: Finding, source_line: str) -> str:
    """Stable identity of a finding: path, code and the text of its line, not the line number,
    so inserting unrelated lines above it does not change it (bandit-style baselines)."""
    key = "\0".join((finding.location.path, finding.code, " ".join(source_line.split())))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass
class Funnel:
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    baseline: set[str] | frozenset[str] = field(default_factory=set)
    min_confidence: int = 1
    # what the last apply() held back, for the summary: accepted in the baseline, below the floor
    in_baseline: int = 0
    below_confidence: int = 0
    # the files' parsed ignore comments, with the ones the last apply() used marked
    suppressions: dict[str, Suppressions] = field(default_factory=dict)

    def apply(self, findings: Iterable[Finding], texts: dict[str, str]) -> list[Finding]:
        self.in_baseline = self.below_confidence = 0
        kept = []
        fingerprinted: list[Finding] = []
        parsed: dict[str, Suppressions] = {}
        self.suppressions = parsed
        for finding in sorted(findings, key=Finding.sort_key):
            path = finding.location.path
            if self._file_ignored(path, finding.code):
                continue
            text = texts.get(path, "")
            if path not in parsed:
                parsed[path] = parse_suppressions(text, path)
            if parsed[path].covers(finding.code, finding.location.line) or self._covered_elsewhere(
                finding, texts, parsed
            ):
                continue
            if kept_here := _same_verdict_here(finding, fingerprinted):
                kept_here.merge(finding)
                continue
            lines = text.splitlines()
            line_text = lines[finding.location.line - 1] if finding.location.line <= len(lines) else ""
            finding.fingerprint = _occurrence_fingerprint(finding, line_text, fingerprinted)
            fingerprinted.append(finding)
            if finding.fingerprint in self.baseline:
                self.in_baseline += 1
                continue
            if finding.confidence < self.min_confidence:
                self.below_confidence += 1
                continue
            kept.append(finding)
        return sorted(kept, key=Finding.sort_key)

    @staticmethod
    def _covered_elsewhere(finding: Finding, texts: dict[str, str], parsed: dict[str, Suppressions]) -> bool:
        """An ignore comment on one of the finding's other lines (``Finding.also_at``)."""
        hit = False
        for where in finding.also_at:
            if where.path not in parsed:
                parsed[where.path] = parse_suppressions(texts.get(where.path, ""), where.path)
            hit = parsed[where.path].covers(finding.code, where.line) or hit
        return hit

    def _file_ignored(self, path: str, code: str) -> bool:
        for pattern, codes in self.per_file_ignores.items():
            if _path_matches(path, pattern) and any(_matches(c, code) for c in codes):
                return True
        return False


# Findings about the line that generates, whatever setup's model runs there: a helper's
# generate() reached from several call sites (each its own setup) is one finding where it runs,
# when every call site gets the same verdict; its other lines (Finding.also_at) are theirs.
_ONE_PER_LINE = frozenset({"ECO105"})


def _same_verdict_here(finding: Finding, earlier: list[Finding]) -> Finding | None:
    """An earlier finding of another call site's setup with the same code, place, verdict and
    confidence. Only setups made through a helper carry other lines (``also_at``): setups of
    one script run with other arguments (a Dockerfile's command) stay findings of their own."""
    if finding.code not in _ONE_PER_LINE or not finding.also_at:
        return None
    for other in reversed(earlier):
        if other.sort_key() != finding.sort_key():
            return None  # sorted: the same key is adjacent
        if other.also_at and (other.confidence, other.severity) == (finding.confidence, finding.severity):
            return other
    return None


def _occurrence_fingerprint(finding: Finding, line_text: str, earlier: list[Finding]) -> str:
    """Two identical lines in one file get distinct fingerprints by their order."""
    base = fingerprint(finding, line_text)
    same = sum(1 for f in earlier if f.fingerprint.split(":")[0] == base)
    return base if same == 0 else f"{base}:{same}"


def _path_matches(path: str, pattern: str) -> bool:
    path = path.replace("\\", "/")
    if fnmatch.fnmatch(path, pattern):
        return True
    # A pattern without a slash matches a file name anywhere, as in ruff and .gitignore.
    return "/" not in pattern and fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern)
