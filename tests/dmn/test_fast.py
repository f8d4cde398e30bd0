"""The decision-table fast paths must agree with FEEL's unary tests exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from liucheng.dmn._fast import fast_test, literal_key, literal_keys
from liucheng.dmn._tables import split_unary_list
from liucheng.feel import compile_unary_tests

TEXTS = [
    '"a"',
    '"a", "b"',
    "5",
    "-2.5",
    "true",
    "false",
    "< 10",
    "<= 10",
    "> -1",
    ">= 0.5",
    "= 3",
    "[1..10]",
    "[1..10)",
    "(1..10]",
    "(1..10)",
    "]1..10[",
    "1, 2, 3",
    '"x", 5',
]

VALUES = [
    None,
    "a",
    "b",
    "",
    Decimal(0),
    Decimal(1),
    Decimal("1.0"),
    Decimal(5),
    Decimal("-2.5"),
    Decimal("0.5"),
    Decimal(3),
    Decimal(10),
    Decimal("10.000001"),
    True,
    False,
    dt.date(2020, 1, 1),
    ["a"],
]


@pytest.mark.parametrize("text", TEXTS)
def test_fast_tests_agree_with_feel(text: str) -> None:
    check = fast_test(text, split_unary_list(text))
    assert check is not None, text
    feel = compile_unary_tests(text)
    for value in VALUES:
        assert check(value) == feel.test(value, {}), (text, value)


@pytest.mark.parametrize(
    "text", ['"a" + "b"', "x", "not(1)", "? > 1", "[a..b]", '"a\\"b"', 'date("2020-01-01")']
)
def test_other_tests_are_left_to_feel(text: str) -> None:
    assert fast_test(text, split_unary_list(text)) is None


def test_literal_keys_separate_booleans_from_numbers() -> None:
    assert literal_key(True) != literal_key(Decimal(1))
    assert literal_key(Decimal("1.0")) == literal_key(Decimal(1))
    assert literal_keys(split_unary_list('"a", 1, false')) == [
        ("s", "a"),
        ("n", Decimal(1)),
        ("b", False),
    ]
    assert literal_keys(["true"]) is None
    assert literal_keys(split_unary_list('"a", < 1')) is None
    assert literal_key(["a"]) is None and literal_key(None) is None


def test_split_unary_list_respects_quotes_and_brackets() -> None:
    assert split_unary_list('"a,b", [1..2], f(1, 2)') == ['"a,b"', "[1..2]", "f(1, 2)"]
