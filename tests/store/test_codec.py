from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from liucheng.errors import StoreError
from liucheng.feel import YearsMonthsDuration
from liucheng.store._codec import dumps, loads


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1.50"),
        Decimal("-12345678901234567890.123456789012345"),
        dt.date(2015, 9, 21),
        dt.datetime(2015, 9, 21, 14, 30, tzinfo=dt.UTC),
        dt.datetime(2015, 9, 21, 14, 30, 5, 123000, tzinfo=ZoneInfo("Europe/Berlin")),
        dt.datetime(2015, 9, 21, 14, 30),
        dt.time(8, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.time(8, 15, tzinfo=ZoneInfo("America/New_York")),
        dt.timedelta(days=-2, hours=3, microseconds=5),
        YearsMonthsDuration(14),
        {"nested": [Decimal("2"), {"when": dt.date(2020, 2, 29)}], "plain": [1, "a", None, True]},
    ],
)
def test_feel_values_survive(value: object) -> None:
    back = loads(dumps(value))
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, dt.datetime | dt.time) and value.tzinfo is not None:
        assert back.tzinfo is not None  # type: ignore[union-attr]
        assert str(back.tzinfo) == str(value.tzinfo)  # type: ignore[union-attr]


def test_plain_json_stays_plain() -> None:
    assert dumps({"a": [1, 2.5, "x"]}) == '{"a":[1,2.5,"x"]}'


def test_unstorable_value_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot store a value of type object"):
        dumps({"x": object()})
