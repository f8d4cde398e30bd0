"""Sub-microsecond digits, the regex time guard, ``is defined`` and ``random number``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from tests.feel.conftest import ev, ev_warn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('string(time("08:09:10.123456789"))', "08:09:10.123456789"),
        ('string(time("08:09:10.1234567"))', "08:09:10.1234567"),
        ('string(time("08:09:10.1234560001"))', "08:09:10.123456"),
        ('string(@"2020-03-04T05:06:07.000000009Z")', "2020-03-04T05:06:07.000000009Z"),
        (
            'string(date and time("2020-03-04T05:06:07.987654321@Asia/Tokyo"))',
            "2020-03-04T05:06:07.987654321@Asia/Tokyo",
        ),
        (
            'string(date and time("-123456-03-04T05:06:07.100000001"))',
            "-123456-03-04T05:06:07.100000001",
        ),
        (
            'string(date and time(date("2020-03-04"), time("05:06:07.000000555+02:00")))',
            "2020-03-04T05:06:07.000000555+02:00",
        ),
        ('string(time(date and time("2020-03-04T05:06:07.555555555")))', "05:06:07.555555555"),
    ],
)
def test_nanosecond_digits_survive_to_string(text: str, expected: str) -> None:
    assert ev(text) == expected


def test_nanosecond_values_behave_as_their_type() -> None:
    assert ev('time("01:02:03.123456789") instance of time') is True
    assert ev('@"2020-01-01T01:02:03.123456789" instance of date and time') is True
    assert ev('time("01:02:03.123456789") < time("01:02:04")') is True
    # Arithmetic keeps microseconds (the digits after them are dropped).
    assert ev('@"2020-01-01T01:02:03.123456789" + @"P1D"') == dt.datetime(
        2020, 1, 2, 1, 2, 3, 123456
    )
    assert ev('@"2020-01-01T01:02:03.123456789" - @"2020-01-01T01:02:03"') == dt.timedelta(
        microseconds=123456
    )


def test_catastrophic_regex_is_stopped_with_null_and_warning() -> None:
    value, warnings = ev_warn('matches("' + "a" * 40 + 'b", "^(a|aa)+$")')
    assert value is None
    assert any("backtracking" in w.message for w in warnings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('matches("aaaa", "^(a|aa)+$")', True),
        ('replace("abab-ab", "(ab)+", "X")', "X-X"),
        ('split("a1b22c", "(\\d)+")', ["a", "b", "c"]),
        ('matches("Ann Lee", "^(\\w+\\s?)+$")', True),
    ],
)
def test_repeated_group_patterns_still_work(text: str, expected: object) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "ctx", "expected"),
    [
        ("is defined(x)", {}, False),
        ("is defined(x)", {"x": None}, True),
        ("is defined(x)", {"x": 1}, True),
        ("is defined(x.a)", {"x": {"b": 1}}, False),
        ("is defined(x.b)", {"x": {"b": 1}}, True),
        ("{y: 1, r: is defined(y)}.r", {}, True),
        ("is defined(1 + 2)", {}, True),
    ],
)
def test_is_defined(text: str, ctx: dict[str, object], expected: bool) -> None:
    assert ev(text, ctx) is expected


def test_is_defined_does_not_leak_warnings_but_shadowing_is_respected() -> None:
    value, warnings = ev_warn("is defined(nothing here)")
    assert value is False
    assert warnings == []
    assert ev("{is defined: function(v) v * 2, r: is defined(4)}.r") == D(8)


def test_random_number_is_in_unit_interval_and_varies() -> None:
    draws = [ev("random number()") for _ in range(20)]
    assert all(isinstance(d, D) and D(0) <= d < D(1) for d in draws)
    assert len(set(draws)) > 1
