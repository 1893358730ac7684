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


def test_python_strings_that_show_the_syntax_are_not_suppressions() -> None:
    # A docstring documenting the comment, or a test's fixture string, is not an ignore comment:
    # it suppresses nothing and is never reported as a typo (ruff reads noqa from comment tokens).
    text = "\n".join(
        [
            "def helper():",
            '    """Write ``# ecolint: ignore[CODES]`` above the line."""',
            "    model.generate(x)",
            'FIXTURE = "y = 1  # ecolint: ignore[ECO1O1]"',
            "z = 2  # ecolint: ignore[ECO105]",
        ]
    )
    s = parse_suppressions(text, "pkg/helper.py")
    assert [d.line for d in s.directives] == [5]
    assert not s.covers("ECO105", 3) and s.covers("ECO105", 5)
    # other kinds, and Python that does not tokenize, are read line by line as before
    assert [d.line for d in parse_suppressions(text, "serve.sh").directives] == [2, 4, 5]
    broken = "x = (\n# ecolint: ignore[ECO101]\nmodel.generate(x)\n"
    assert parse_suppressions(broken, "broken.py").covers("ECO101", 3)


def test_review_ignores_skips_python_strings() -> None:
    from ecolint.funnel import review_ignores

    texts = {"doc.py": 'S = "# ecolint: ignore[ECO1O1]"\n', "run.sh": "# ecolint: ignore[ECO1O1]\nvllm serve m\n"}
    invalid, _ = review_ignores(texts, {}, ["ECO101"], ["ECO101"])
    assert [line.split(":")[0] for line in invalid] == ["run.sh"]
