"""Typed edits: what ``--fix`` applies, one class per kind of change (ecolint/fix.py applies them).

An edit applies at its finding's location, or at ``at`` when it names another place in the same
file. Python edits change a call and its keyword arguments; their ``value`` is code, given as
alternatives, best first: the first whose names the module imports is used
(``("torch.float16", '"float16"')``). Flag edits change the tokens of a launcher command in a
shell script, a Dockerfile or a YAML manifest.

The JSON report shows an edit as ``{"action": "delete-flag", "valued": true}`` (``to_json``);
``from_json`` reads that shape back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from ecolint.setups import Location

Code = tuple[str, ...]  # Python code, alternatives best first


@dataclass(frozen=True, kw_only=True)
class Edit:
    action: ClassVar[str]  # its name in the JSON report
    at: Location | None = None  # None: at the finding's location


# -- Python (libcst) ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SetKeyword(Edit):
    """At a call: add ``keyword=value`` (or replace its value); at that keyword argument: replace
    its value. ``calls``: the names of the calls it fits (any, when empty)."""

    action = "set-keyword"
    keyword: str
    value: Code
    calls: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReplaceKeyword(Edit):
    """At a call: the argument ``keyword=…`` becomes ``new_keyword=value``. It is only deleted when
    one of ``unless_present`` is already passed, and that one gets ``value`` instead if its code is
    one of ``replace_values``."""

    action = "replace-keyword"
    calls: tuple[str, ...] = ()
    keyword: str
    new_keyword: str
    value: Code
    unless_present: tuple[str, ...] = ()
    replace_values: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeleteKeyword(Edit):
    """At a keyword argument (or at a call, naming its keyword): delete it."""

    action = "delete-keyword"
    keyword: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetKeywordValue(Edit):
    """At a keyword argument, whatever its name: replace its value."""

    action = "set-value"
    value: Code


@dataclass(frozen=True, kw_only=True)
class InsertAfterStatement(Edit):
    """At a call that is a statement of its own: insert ``text`` after it; ``{arg0}`` stands for
    the call's first argument."""

    action = "insert-after-statement"
    text: str


# -- launcher flags (token-exact text) --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DeleteFlag(Edit):
    """Delete the flag the location spans, and its value when it takes one (``valued``)."""

    action = "delete-flag"
    valued: bool = False


@dataclass(frozen=True, kw_only=True)
class SetFlagValue(Edit):
    """Replace the value of ``--flag value`` / ``--flag=value``."""

    action = "set-flag-value"
    value: str


PYTHON_EDITS = (SetKeyword, ReplaceKeyword, DeleteKeyword, SetKeywordValue, InsertAfterStatement)
FLAG_EDITS = (DeleteFlag, SetFlagValue)
_BY_ACTION: dict[str, type[Edit]] = {cls.action: cls for cls in (*PYTHON_EDITS, *FLAG_EDITS)}


# -- the JSON shape ---------------------------------------------------------------------------------


def to_json(edit: Edit) -> dict[str, Any]:
    """``{"action": …, "at": span?, …fields}``: fields left at None or empty are left out, a single
    code alternative is written as a string."""
    out: dict[str, Any] = {"action": edit.action}
    for item in fields(edit):
        value = getattr(edit, item.name)
        if value is None or value == ():
            continue
        if isinstance(value, Location):
            value = value.span()
        elif isinstance(value, tuple):
            value = value[0] if item.name == "value" and len(value) == 1 else list(value)
        out[item.name] = value
    return out


def from_json(data: dict[str, Any], path: str) -> Edit | None:
    """The edit a JSON report shows (``path``: the file its ``at`` span is in); None if it is not one."""
    cls = _BY_ACTION.get(str(data.get("action", "")))
    if cls is None:
        return None
    names = {item.name for item in fields(cls)}
    arguments: dict[str, Any] = {}
    for name, value in data.items():
        if name not in names:
            continue
        if name == "at" and isinstance(value, dict):
            value = Location(path, value["line"], value["column"], value["end_line"], value["end_column"])
        elif isinstance(value, list):
            value = tuple(map(str, value))
        elif name == "value" and cls in PYTHON_EDITS:
            value = (str(value),)
        arguments[name] = value
    try:
        return cls(**arguments)
    except TypeError:
        return None


def fix_json(fix: dict[str, Any] | None) -> dict[str, Any] | None:
    """A finding's fix as the reports write it: its edit in the JSON shape."""
    if not fix or not isinstance(fix.get("edit"), Edit):
        return fix
    return {**fix, "edit": to_json(fix["edit"])}
