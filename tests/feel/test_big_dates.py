"""Dates outside Python's years 1..9999."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.feel import BigDate, BigDateTime
from tests.feel.conftest import ev


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('string(date("-2017-12-31"))', "-2017-12-31"),
        ("string(date(999999999, 12, 31))", "999999999-12-31"),
        ('string(date("9999-12-31") + duration("P1D"))', "10000-01-01"),
        ('string(date("0001-01-01") - duration("P1D"))', "0000-12-31"),
        ('string(@"-2021-01-01T10:10:10+11:00" + duration("P1M"))', "-2021-02-01T10:10:10+11:00"),
        (
            'string(@"-2021-01-01T10:10:10@Australia/Melbourne" - duration("P1Y"))',
            "-2022-01-01T10:10:10@Australia/Melbourne",
        ),
        ('date("-2017-12-31").year', D(-2017)),
        ('date("-2017-12-31") < date("2017-12-31")', True),
        ('date("-2017-12-31") = date(-2017, 12, 31)', True),
        ('date("10000-01-01") - date("9999-12-31")', dt.timedelta(days=1)),
        ('date("-2017-12-31") instance of date', True),
        ('day of week(date("2000-01-01")) = day of week(date("-0400-01-01"))', True),
        ('years and months duration(date("-2016-01-30"), date("-2017-02-28"))', None),
        ("date(-1000999999, 12, 1)", None),
        ('date("01211-12-31")', None),
    ],
)
def test_big_dates(text: str, expected: object) -> None:
    result = ev(text)
    if text.startswith("years and months"):
        assert str(result) == "-P11M"
    else:
        assert result == expected


def test_big_values_are_their_own_types() -> None:
    assert isinstance(ev('date("-0005-01-01")'), BigDate)
    assert isinstance(ev('@"12345-01-01T00:00:00"'), BigDateTime)
    assert type(ev('date("2020-01-01")')) is dt.date
