"""Date and time built-ins: ``is``, calendar functions, ``now`` and ``today``."""

from __future__ import annotations

import calendar
import datetime as _dt
from decimal import Decimal
from typing import Any

from liucheng.feel._bigdate import BigDate, BigDateTime
from liucheng.feel._builtins import builtin, unwrap
from liucheng.feel._runtime import State, null
from liucheng.feel._values import feel_eq

_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _need_date(v: Any) -> _dt.date:
    """The date, as a Python date with the same calendar (a 400-year-equivalent for big years)."""
    v = unwrap(v)
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, BigDate | BigDateTime):
        base: _dt.date = v.base
        return base
    raise null("argument must be a date or date and time")


@builtin("is", "value1, value2", required=0)
def fis(a: Any = None, b: Any = None) -> Any:
    if type(a) is not type(b):
        return False
    if isinstance(a, _dt.datetime | _dt.time):
        if a.tzinfo is None or b.tzinfo is None:
            return a.tzinfo is None and b.tzinfo is None and a == b
        if a.replace(tzinfo=None) != b.replace(tzinfo=None):
            return False
        ka = getattr(a.tzinfo, "key", None)
        kb = getattr(b.tzinfo, "key", None)
        if ka is not None or kb is not None:
            return bool(ka == kb)
        if isinstance(a, _dt.datetime):
            return a.utcoffset() == b.utcoffset()
        return a.tzinfo.utcoffset(None) == b.tzinfo.utcoffset(None)
    return feel_eq(a, b) is True


@builtin("day of year", "date")
def day_of_year(d: Any) -> Any:
    return Decimal(_need_date(d).timetuple().tm_yday)


@builtin("day of week", "date")
def day_of_week(d: Any) -> Any:
    return _DAYS[_need_date(d).weekday()]


@builtin("month of year", "date")
def month_of_year(d: Any) -> Any:
    return _MONTHS[_need_date(d).month - 1]


@builtin("week of year", "date")
def week_of_year(d: Any) -> Any:
    return Decimal(_need_date(d).isocalendar()[1])


@builtin("last day of month", "date")
def last_day_of_month(d: Any) -> Any:
    v = _need_date(d)
    return Decimal(calendar.monthrange(v.year, v.month)[1])


@builtin("now", "", state=True)
def now(state: State) -> Any:
    return state.now()


@builtin("today", "", state=True)
def today(state: State) -> Any:
    return state.now().date()
