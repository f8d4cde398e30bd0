"""Syntax errors name the place and what was expected; limits turn into clear errors."""

from __future__ import annotations

import pytest

from liucheng.errors import FeelError, LiuchengError
from liucheng.feel import (
    FeelEvaluationError,
    FeelSyntaxError,
    compile_expression,
    compile_unary_tests,
    evaluate,
)


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("1 +", 3, "an expression"),
        ("(1 + 2", 6, "')'"),
        ("[1, 2", 5, "']'"),
        ("if x then 1", 11, "'else'"),
        ("for x [1] return x", 6, "'in'"),
        ('"abc', 0, "'\"'"),
        ("{a 1}", 4, "':' after the context key"),
        ("a-b +", 5, "an expression"),
        ("1 $ 2", 2, "a name, literal or operator"),
        ("f(a: 1, 2)", 8, "a name"),
        ("[1..5", 5, "']', ')' or '[' to end the range"),
        ("x instance of", 13, "a type"),
    ],
)
def test_syntax_error_position_and_expectation(text: str, position: int, expected: str) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression(text)
    err = info.value
    assert err.position == position
    assert err.expected == expected
    assert err.column == position + 1
    assert isinstance(err, FeelError)
    assert "expected" in str(err)


def test_syntax_error_line_and_column() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression("1 +\n  2 +\n  )")
    assert (info.value.line, info.value.column) == (3, 3)


def test_syntax_error_names_source() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression("1 +", source="table.dmn")
    assert "table.dmn" in str(info.value)


def test_unary_tests_syntax_error() -> None:
    with pytest.raises(FeelSyntaxError):
        compile_unary_tests("< ")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 3000 + "1" + ")" * 3000,
        "-" * 3000 + "1",
        "not(" * 2000,
        "1" + "+1" * 5000,
        "x." * 2000 + "y",
        "[" * 2000,
    ],
)
def test_deep_nesting_is_a_syntax_error(text: str) -> None:
    with pytest.raises(FeelSyntaxError):
        evaluate(text)


def test_runaway_iteration_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    from liucheng.feel import _runtime

    # The real limit (a million steps) takes seconds to reach; the mechanism is the same.
    monkeypatch.setattr(_runtime, "MAX_STEPS", 20_000)
    with pytest.raises(FeelEvaluationError) as info:
        evaluate("count(for i in 1..1000000000 return i)")
    assert info.value.code == "feel.limit.steps"
    with pytest.raises(FeelEvaluationError):
        evaluate("count(for i in 1..200, j in 1..200 return i * j)")
    assert evaluate("count(for i in 1..100 return i)") == 100


def test_unbounded_recursion_is_stopped() -> None:
    with pytest.raises(FeelEvaluationError) as info:
        evaluate("{f: function(n) f(n + 1), r: f(1)}.r")
    assert info.value.code == "feel.limit.depth"


def test_runaway_string_growth_is_stopped() -> None:
    with pytest.raises(FeelEvaluationError) as info:
        evaluate('{f: function(s, n) if n = 0 then s else f(s + s, n - 1), r: f("ab", 40)}.r')
    assert info.value.code == "feel.limit.size"


def test_python_function_failure_is_wrapped() -> None:
    from liucheng.feel import FeelFunction

    def boom(x: object) -> object:
        raise RuntimeError("nope")

    with pytest.raises(FeelEvaluationError) as info:
        evaluate("f(1)", {"f": FeelFunction(["x"], boom)})
    assert "nope" in str(info.value)
    assert isinstance(info.value, LiuchengError)


def test_no_python_evaluation() -> None:
    # Python syntax is not FEEL: nothing of it runs.
    for text in ['__import__("os")', "().__class__", "lambda: 1"]:
        with pytest.raises(LiuchengError):
            value = evaluate(text)
            assert value is None
            raise FeelSyntaxError("evaluated to null", text=text)
