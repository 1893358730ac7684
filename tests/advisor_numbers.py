"""Provenance of the numbers the advisor commands print (shared by test_advise, test_compare,
test_explain).

Every number in a JSON document must be one of: a number written somewhere in rules/*.yaml, a
number the user typed, or a documented derived value (a dict with "formula", "inputs", "value",
whose inputs are knowledge-base numbers and whose formula gives the value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from conftest import REPO

NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Keys whose numbers are positions or counts, not figures.
STRUCTURAL = {"version", "confidence", "stars", "line", "column", "end_line", "end_column", "n"}


def knowledge_numbers() -> set[float]:
    numbers: set[float] = set()
    for path in sorted((REPO / "rules").glob("*.yaml")):
        numbers.update(float(token) for token in NUMBER.findall(path.read_text(encoding="utf-8")))
    return numbers


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


def _derived(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if {"formula", "inputs", "value"} <= set(value):
            yield value
        for v in value.values():
            yield from _derived(v)
    elif isinstance(value, list):
        for item in value:
            yield from _derived(item)


def _evaluate(formula: str) -> float:
    expression = formula.replace("×", "*")
    assert re.fullmatch(r"[\d.\s()+\-*/round]+", expression), formula
    return float(eval(expression, {"__builtins__": {}}, {"round": round}))  # noqa: S307 - checked above


def unexplained_numbers(document: dict[str, Any], typed: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    """Numbers in the document that neither the knowledge base, the user nor a formula explains."""
    known = knowledge_numbers()
    allowed = set(known)
    for token in typed:
        allowed.update(float(n) for n in NUMBER.findall(token))
    # the project's own pins (advise reads them as check does): the user's numbers, not ecolint's
    for version in ((document.get("setup") or {}).get("stack") or {}).values():
        allowed.update(float(n) for n in NUMBER.findall(str(version)))
    for derived in _derived(document):
        assert all(abs(float(i)) in known for i in derived["inputs"]), f"derived from unknown inputs: {derived}"
        assert abs(_evaluate(derived["formula"]) - float(derived["value"])) < 1e-9, (
            f"formula does not give the value: {derived}"
        )
        allowed.add(abs(float(derived["value"])))
    bad = []
    for key, value in _walk(document):
        if key in STRUCTURAL or isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            candidates = [abs(float(value))]
        elif isinstance(value, str):
            candidates = [float(n) for n in NUMBER.findall(value)]
        else:
            continue
        bad += [(key, n) for n in candidates if n not in allowed]
    return bad
