"""Literals, arithmetic, comparison, boolean logic and their type rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.feel import Range, YearsMonthsDuration
from tests.feel.conftest import ev, ev_warn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", D(1)),
        ("-1.5", D("-1.5")),
        (".5", D("0.5")),
        ("1.23e4", D("12300")),
        ('"a\\"b"', 'a"b'),
        ('"\\u0041\\n"', "A\n"),
        ('"\\U01F600"', "\U0001f600"),
        ('"\\ud83d\\ude00"', "\U0001f600"),
        ("true", True),
        ("false", False),
        ("null", None),
        ('@"2019-01-01"', dt.date(2019, 1, 1)),
        ('@"10:30:00"', dt.time(10, 30)),
        ('@"2019-01-01T10:30:00Z"', dt.datetime(2019, 1, 1, 10, 30, tzinfo=dt.UTC)),
        ('@"P1DT2H"', dt.timedelta(days=1, hours=2)),
        ('@"P1Y2M"', YearsMonthsDuration(14)),
        ("[1, 2]", [D(1), D(2)]),
        ("{a: 1, b: a + 1}", {"a": D(1), "b": D(2)}),
        ('{"x y": 1}', {"x y": D(1)}),
        ("[1..10)", Range(D(1), D(10), True, False)),
        ("]1..10]", Range(D(1), D(10), False, True)),
        ("(1..10[", Range(D(1), D(10), False, False)),
        ("1 // comment\n + 2", D(3)),
        ("1 /* block */ + 2", D(3)),
    ],
)
def test_literals(text: str, expected: object) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", D(7)),
        ("(1 + 2) * 3", D(9)),
        ("10 / 4", D("2.5")),
        ("1 / 3", D("0.3333333333333333333333333333333333")),
        ("2 ** 10", D(1024)),
        ("-5 ** 2", D(25)),
        ("5 ** -2", D("0.04")),
        ("10 - 2 - 3", D(5)),
        ("0.1 + 0.2", D("0.3")),
        ('"a" + "b"', "ab"),
        ('date("2021-01-31") + duration("P1M")', dt.date(2021, 2, 28)),
        ('date("2021-01-01") + duration("P1D")', dt.date(2021, 1, 2)),
        ('date("2021-01-03") - date("2021-01-01")', dt.timedelta(days=2)),
        ('time("10:00:00") + duration("PT3H")', dt.time(13, 0)),
        ('time("23:00:00") + duration("PT3H")', dt.time(2, 0)),
        ('duration("P1D") * 2', dt.timedelta(days=2)),
        ('duration("P1Y") / 2', YearsMonthsDuration(6)),
        ('duration("P2D") / duration("P1D")', D(2)),
        ('duration("P1Y") + duration("P2M")', YearsMonthsDuration(14)),
        (
            'date and time("2021-01-01T10:00:00") - date and time("2021-01-01T08:30:00")',
            dt.timedelta(hours=1, minutes=30),
        ),
    ],
)
def test_arithmetic(text: str, expected: object) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    "text",
    ['1 + "a"', "1 / 0", 'date("2021-01-01") + 1', "true + 1", "[1] * 2", '"a" - "b"'],
)
def test_arithmetic_type_mismatch_is_null_with_warning(text: str) -> None:
    value, warnings = ev_warn(text)
    assert value is None
    assert warnings and warnings[0].code == "feel.invalid_operation"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 4", False),
        ('"a" < "b"', True),
        ('date("2020-01-01") < date("2021-01-01")', True),
        ('duration("P1D") > duration("PT23H")', True),
        ("1 = 1.0", True),
        ("1 != 2", True),
        ("null = null", True),
        ("null != 1", True),
        ('1 = "1"', None),
        ('1 < "1"', None),
        ("[1, 2] = [1, 2]", True),
        ("{a: 1} = {a: 1.0}", True),
        ("{a: 1} = {a: 2}", False),
        ("true = 1", None),
        ('duration("P1Y") = duration("P12M")', True),
        ('duration("P1Y") = duration("P365D")', None),
        ('time("10:30:00Z") = time("10:30:00+00:00")', True),
        ('@"2002-04-02T12:00:00-01:00" = @"2002-04-02T17:00:00+04:00"', True),
        ("5 between 1 and 10", True),
        ("11 between 1 and 10", False),
        ('"b" between "a" and "c"', True),
    ],
)
def test_comparison(text: str, expected: object) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true and true", True),
        ("true and false", False),
        ("true and null", None),
        ("false and null", False),
        ("null and false", False),
        ("true or null", True),
        ("false or null", None),
        ("null or true", True),
        ("1 and true", None),
        ("not(true)", False),
        ("not(null)", None),
        ('not("x")', None),
    ],
)
def test_three_valued_logic(text: str, expected: object) -> None:
    assert ev(text) is expected


def test_decimal_precision_is_34_digits() -> None:
    assert ev("1 / 7") == D("0.1428571428571428571428571428571429")
    assert ev("100000000000000000000000000000000000 + 1") is not None


def test_if_then_else() -> None:
    assert ev('if 1 > 0 then "y" else "n"') == "y"
    assert ev('if null then "y" else "n"') == "n"
    assert ev('if "x" then "y" else "n"') == "n"
    assert ev("if x > 1 then x else -x", {"x": -3}) == D(3)


def test_numbers_from_python_context_are_decimals() -> None:
    assert ev("x + y", {"x": 1, "y": 0.1}) == D("1.1")
    assert ev("x", {"x": [1, {"a": 2.5}]}) == [D(1), {"a": D("2.5")}]
    assert ev("x", {"x": True}) is True
