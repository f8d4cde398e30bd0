"""Fuzzing: any input text either works or raises one of our errors.

No time limit per example (a loaded machine stalls); the guards that keep evaluation bounded
are tested in test_precision_and_guards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.errors import LiuchengError
from liucheng.feel import compile_expression, compile_unary_tests

TOKENS = [
    "1",
    "2",
    "10",
    "0.5",
    "-",
    "+",
    "*",
    "/",
    "**",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "..",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!=",
    '"a"',
    '"b c"',
    "true",
    "false",
    "null",
    "and",
    "or",
    "not",
    "in",
    "if",
    "then",
    "else",
    "for",
    "return",
    "some",
    "every",
    "satisfies",
    "between",
    "instance",
    "of",
    "function",
    "x",
    "y",
    "item",
    "?",
    "partial",
    "number",
    "string",
    "list",
    "context",
    "<",
    ">",
    "->",
    "count",
    "sum",
    "date",
    "time",
    "date and time",
    "duration",
    "substring",
    "string length",
    "sort",
    "min",
    "max",
    '@"2020-01-01"',
    '@"P1D"',
    '@"10:00:00"',
    "a b",
    "Full Name",
    "Pre-bureau",
    "'",
    "upper case",
    "matches",
    "replace",
    '"[a-z]+"',
    "get value",
    "context put",
    "range",
    "before",
    "includes",
    "is",
    "abs",
    "floor",
    "decimal",
    "modulo",
    "sqrt",
    "string join",
    "list contains",
    "flatten",
    "append",
    "index of",
    "mode",
    "median",
    "day of week",
    "years and months duration",
    "now",
    "today",
    "//",
    "/*",
    "*/",
    "\\",
    "\n",
    '@"-2020-01-01"',
    '@"99999-12-31T23:00:00Z"',
    "date(999999999, 12, 31)",
    '@"P1Y"',
    "duration",
    "week of year",
    "instance of",
    "list<number>",
]

CONTEXT: dict[str, Any] = {
    "x": 3,
    "y": [1, 2, {"a": "q"}],
    "Full Name": "Kim",
    "Pre-bureau": 2,
    "a b": {"c": dt.date(2020, 1, 2)},
}

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _run(text: str) -> None:
    # Anything but a LiuchengError escaping here fails the test.
    with contextlib.suppress(LiuchengError):
        compile_expression(text).evaluate(CONTEXT, warnings=[])
    with contextlib.suppress(LiuchengError):
        compile_unary_tests(text).test(3, CONTEXT, warnings=[])


@FUZZ
@given(
    st.text(alphabet=st.sampled_from(list("()[]{}.,:;<>=!+-*/\"@?\\ \nabxy019eE_'")), max_size=60)
)
def test_random_text(text: str) -> None:
    _run(text)


@FUZZ
@given(st.text(max_size=40))
def test_random_unicode(text: str) -> None:
    _run(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_random_token_sequences(tokens: list[str]) -> None:
    _run(" ".join(tokens))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_random_token_sequences_without_spaces(tokens: list[str]) -> None:
    _run("".join(tokens))
