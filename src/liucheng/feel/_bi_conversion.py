"""Conversion built-ins: date, time, date and time, duration, number, string, range."""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Any

from liucheng.feel._bigdate import (
    BigDate,
    BigDateTime,
    is_date,
    is_datetime,
    make_date,
    make_datetime,
    nanos_of,
    vtype,
    with_nanos,
)
from liucheng.feel._builtins import builtin, need_int, need_number, need_str
from liucheng.feel._runtime import null
from liucheng.feel._types import Range, YearsMonthsDuration
from liucheng.feel._values import (
    feel_compare,
    feel_string,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_time,
)

_NOARG: Any = object()
_date = _dt.date
_datetime = _dt.datetime
_time = _dt.time


@builtin("date", "from, month, day; year, month, day", required=1)
def fdate(a: Any, month: Any = None, day: Any = None) -> Any:
    if month is not None or day is not None:
        d = make_date(need_int(a, "year"), need_int(month, "month"), need_int(day, "day"))
        if d is None:
            raise null("not a valid date")
        return d
    t = vtype(a)
    if t is str:
        d = parse_date(a)
        if d is None:
            raise null(f"not a date: {a!r}")
        return d
    if t is _datetime or t is BigDateTime:
        return a.date()
    if t is _date or t is BigDate:
        return a
    raise null("date() needs a string, a date and time, or year, month, day")


def _seconds_parts(sec: Decimal) -> tuple[int, int]:
    whole = int(sec)
    micro = int((sec - whole) * 1_000_000)
    return whole, micro


def _offset_tz(offset: Any) -> _dt.tzinfo | None:
    if offset is None:
        return None
    if type(offset) is not _dt.timedelta:
        raise null("offset must be a days and time duration")
    if abs(offset) >= _dt.timedelta(hours=24):
        raise null("offset out of range")
    return _dt.timezone(offset)


@builtin("time", "from, minute, second, offset; hour, minute, second, offset", required=1)
def ftime(a: Any, minute: Any = None, second: Any = None, offset: Any = None) -> Any:
    if minute is not None or second is not None:
        h = need_int(a, "hour")
        m = need_int(minute, "minute")
        s = need_number(second, "second")
        whole, micro = _seconds_parts(s)
        try:
            return _time(h, m, whole, micro, tzinfo=_offset_tz(offset))
        except ValueError:
            raise null("not a valid time") from None
    t = vtype(a)
    if t is str:
        v = parse_time(a)
        if v is None:
            raise null(f"not a time: {a!r}")
        return v
    if t is _datetime or t is BigDateTime:
        return with_nanos(a.timetz(), nanos_of(a))
    if t is _time:
        return a
    if t is _date:
        return _time(0, 0, 0, tzinfo=_dt.UTC)
    raise null("time() needs a string, a date, a date and time, or hour, minute, second")


@builtin("date and time", "from, time; date, time", required=1)
def fdate_and_time(a: Any, tm: Any = _NOARG) -> Any:
    if tm is None:
        raise null("time is null")
    if tm is not _NOARG:
        if not is_date(a) and not is_datetime(a):
            raise null("date must be a date or date and time")
        if vtype(tm) is not _time:
            raise null("time must be a time")
        return with_nanos(
            make_datetime(
                a.year, a.month, a.day, tm.hour, tm.minute, tm.second, tm.microsecond, tm.tzinfo
            ),
            nanos_of(tm),
        )
    t = vtype(a)
    if t is str:
        v = parse_datetime(a)
        if v is None:
            raise null(f"not a date and time: {a!r}")
        return v
    if t is _datetime or t is BigDateTime:
        return a
    if t is _date or t is BigDate:
        return make_datetime(a.year, a.month, a.day, 0, 0, 0, 0, None)
    raise null("date and time() needs a string, a date, or a date and a time")


_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


@builtin("number", "from, grouping separator, decimal separator", required=1)
def number(s: Any, grouping: Any = None, dec: Any = None) -> Any:
    s = need_str(s, "from")
    if grouping is not None and grouping not in (" ", ",", "."):
        raise null("grouping separator must be ' ', ',' or '.'")
    if dec is not None and dec not in (".", ","):
        raise null("decimal separator must be '.' or ','")
    if grouping is not None and grouping == dec:
        raise null("grouping and decimal separators must differ")
    if grouping is not None:
        s = s.replace(grouping, "")
    if dec is not None and dec != ".":
        if "." in s:
            raise null(f"not a number: {s!r}")
        s = s.replace(dec, ".")
    if not _NUMBER_RE.match(s):
        raise null(f"not a number: {s!r}")
    return Decimal(s)


@builtin("string", "from")
def fstring(v: Any) -> Any:
    if v is None:
        return None
    return feel_string(v)


@builtin("duration", "from")
def duration(s: Any) -> Any:
    v = parse_duration(need_str(s, "from"))
    if v is None:
        raise null(f"not a duration: {s!r}")
    return v


def _month_diff(a: Any, b: Any, at: tuple[Any, ...], bt: tuple[Any, ...]) -> int:
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and (b.day, bt) < (a.day, at):
        months -= 1
    elif months < 0 and (b.day, bt) > (a.day, at):
        months += 1
    return int(months)


@builtin("years and months duration", "from, to")
def years_and_months_duration(a: Any, b: Any) -> Any:
    def split(v: Any) -> tuple[Any, tuple[Any, ...]]:
        # Only the calendar dates count (the TCK's reading of the spec).
        if is_date(v) or is_datetime(v):
            return v, ()
        raise null("from and to must be dates or dates and times")

    da, ta = split(a)
    db, tb = split(b)
    return YearsMonthsDuration(_month_diff(da, db, ta, tb))


@builtin("range", "from")
def frange(s: Any) -> Any:
    text = need_str(s, "from").strip()
    from liucheng.feel._api import compile_expression
    from liucheng.feel._types import FeelSyntaxError

    if not text or text[0] not in "[](":
        raise null(f"not a range: {s!r}")
    try:
        expr = compile_expression(text)
    except FeelSyntaxError:
        raise null(f"not a range: {s!r}") from None
    if not _literal_range_text(text):
        raise null(f"range endpoints must be literals: {s!r}")
    v = expr.evaluate({})
    if type(v) is not Range:
        raise null(f"not a range: {s!r}")
    if v.start is not None and v.end is not None:
        c = feel_compare(v.start, v.end)
        if c is None or c > 0:
            raise null(f"range start is after its end: {s!r}")
    return v


_ENDPOINT_RE = re.compile(
    r'\s*(-?\d+(\.\d+)?|"[^"]*"|@"[^"]*"|null|'
    r'(date|time|date and time|duration)\("[^"]*"\))?\s*\Z'
)


def _literal_range_text(text: str) -> bool:
    body = text
    if body[0] in "<>=!":
        body = body.lstrip("<>=!")
        return bool(_ENDPOINT_RE.match(body))
    inner = body[1:-1]
    if ".." not in inner:
        return False
    lo, _, hi = inner.partition("..")
    return bool(_ENDPOINT_RE.match(lo)) and bool(_ENDPOINT_RE.match(hi))


_ = Range
