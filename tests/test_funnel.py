"""Selection semantics (ruff's) and inline suppressions."""

from __future__ import annotations

import pytest

from ecolint.funnel import SelectionError, check_selectors, enabled_codes, parse_suppressions

DEFAULTS = {"ECO101": True, "ECO102": True, "ECO105": True, "ECO201": False, "ECO202": False, "ECO301": False}


def test_defaults_leave_opt_in_rules_off() -> None:
    assert enabled_codes(DEFAULTS, None, [], []) == ["ECO101", "ECO102", "ECO105"]


def test_select_replaces_and_prefix_selects_opt_in() -> None:
    assert enabled_codes(DEFAULTS, ["ECO2"], [], []) == ["ECO201", "ECO202"]
    assert enabled_codes(DEFAULTS, ["ALL"], [], ["ECO3"]) == ["ECO101", "ECO102", "ECO105", "ECO201", "ECO202"]


def test_extend_select_adds_and_more_specific_wins() -> None:
    assert enabled_codes(DEFAULTS, None, ["ECO202"], ["ECO1"]) == ["ECO202"]
    assert enabled_codes(DEFAULTS, ["ECO105"], [], ["ECO1"]) == ["ECO105"]


def test_unknown_selector_is_an_error() -> None:
    with pytest.raises(SelectionError, match="ECO999"):
        check_selectors(["ECO999"], DEFAULTS, "command line")
    with pytest.raises(SelectionError):
        check_selectors(["E501"], DEFAULTS, "command line")


def test_inline_suppressions() -> None:
    text = "\n".join(
        [
            "a = 1  # ecolint: ignore[ECO101]",
            "# ecolint: ignore[ECO105, ECO102] batching is done upstream",
            "b = 2",
            "c = 3  # ecolint: ignore",
            "d = 4",
        ]
    )
    s = parse_suppressions(text)
    assert s.covers("ECO101", 1) and not s.covers("ECO102", 1)
    assert s.covers("ECO105", 3) and s.covers("ECO102", 3) and not s.covers("ECO101", 3)
    assert s.covers("ECO104", 4)
    assert not s.covers("ECO101", 5)


def test_file_level_suppression() -> None:
    s = parse_suppressions("# ecolint: ignore-file[ECO105]\nx = 1\n")
    assert s.covers("ECO105", 2) and not s.covers("ECO101", 2)


def test_comment_above_covers_a_continued_shell_command() -> None:
    text = "# ecolint: ignore[ECO104]\nvllm serve m \\\n  --quantization fp8 \\\n  --enforce-eager\necho done\n"
    s = parse_suppressions(text)
    assert all(s.covers("ECO104", n) for n in (2, 3, 4))
    assert not s.covers("ECO104", 5)
