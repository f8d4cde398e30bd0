"""Unary tests as used in decision table input entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.feel import FeelWarning, compile_unary_tests


@pytest.mark.parametrize(
    ("tests", "value", "expected"),
    [
        ("-", 5, True),
        ("-", None, True),
        ("< 5", 4, True),
        ("< 5", 5, False),
        ("<= 5", 5, True),
        ("> 5", 6, True),
        (">= 5", 5, True),
        ("= 5", 5, True),
        ("!= 5", 5, False),
        ("5", 5, True),
        ("5", 6, False),
        ("[1..5]", 5, True),
        ("[1..5)", 5, False),
        ("(1..5]", 1, False),
        ("]1..5]", 2, True),
        ('"a", "b"', "b", True),
        ('"a", "b"', "c", False),
        ('not("a", "b")', "c", True),
        ('not("a", "b")', "a", False),
        ("not(< 5)", 7, True),
        ("< 5, > 10", 12, True),
        ("< 5, > 10", 7, False),
        ("? > 3", 4, True),
        ("? > 3", 2, False),
        ("count(?) = 2", [1, 2], True),
        ("[1, 2, 3]", 2, True),
        ("[1, 2, 3]", 4, False),
        ("null", None, True),
        ("null", 1, False),
        ("< 5", None, False),
        ("< 5", "a", False),
        ("true", True, True),
        ("false", True, False),
        ('< date("2020-01-01")', dt.date(2019, 5, 5), True),
        ('[@"2020-01-01"..@"2020-12-31"]', dt.date(2020, 5, 5), True),
        ("> limit", 7, True),
        ("x", 3, True),
    ],
)
def test_unary_tests(tests: str, value: object, expected: bool) -> None:
    ut = compile_unary_tests(tests)
    assert ut.test(value, {"limit": 5, "x": 3}) is expected


def test_unary_test_on_number_input() -> None:
    assert compile_unary_tests("[18..65]").test(D(30))
    assert compile_unary_tests("[18..65]").test(30.5)


def test_unknown_name_in_test_warns() -> None:
    warnings: list[FeelWarning] = []
    assert compile_unary_tests("> nosuch").test(3, warnings=warnings) is False
    assert warnings and warnings[0].code == "feel.unknown_name"


def test_unary_tests_are_cached() -> None:
    assert compile_unary_tests("> 1") is compile_unary_tests("> 1")


def test_names_with_symbols_in_unary_tests() -> None:
    ut = compile_unary_tests("< Pre-bureau risk, = Student's name")
    assert ut.test(2, {"Pre-bureau risk": 3, "Student's name": "x"}) is True
    assert ut.test(4, {"Pre-bureau risk": 3, "Student's name": "x"}) is False
    assert compile_unary_tests("> Pre-bureau risk").test(5, {"Pre-bureau risk": 3}) is True
