"""What a rule wants changed, said in facts: ``Unset(ENFORCE_EAGER)``, ``Set(LLM_INT8_THRESHOLD, 0.0)``.

A rule states intent in the vocabulary of ecolint/setups.py and never chooses a file's syntax.
ecolint/fix.py turns an intent and the place its fact is written (a call keyword, a launcher
flag and its value, …) into a typed edit (ecolint/edits.py), or into none where the fact cannot
be edited where it is written (an environment variable, a constant, a checkpoint's name): the
finding then keeps its snippet only, a manual fix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Set:
    """Give a fact this value, in the fact's own vocabulary: ``Set(PRECISION, "fp16")`` serves a
    quantized model unquantized in FP16, ``Set(COMPILED, True)`` compiles the model."""

    fact: str
    value: bool | int | float | str


@dataclass(frozen=True)
class Unset:
    """Take out what sets a fact, so the framework's own default applies; where that setting is
    rewritten rather than taken out (the launcher's flag table, or fix.py's keyword table, says
    which), write ``otherwise`` instead, if given."""

    fact: str
    otherwise: bool | int | float | str | None = None


Intent = Set | Unset
