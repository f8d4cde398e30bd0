"""FEEL arithmetic and range membership, with the spec's type rules (mismatch gives null)."""

from __future__ import annotations

import calendar
import datetime as _dt
import decimal
from decimal import Decimal
from typing import Any

from liucheng.feel import _bigdate as _big
from liucheng.feel._bigdate import BigDate, BigDateTime, vtype
from liucheng.feel._runtime import MAX_SIZE, too_big
from liucheng.feel._types import DECIMAL_CONTEXT, Range, YearsMonthsDuration
from liucheng.feel._values import feel_compare, feel_eq

__all__ = ["add", "add_months", "divide", "in_range", "multiply", "negate", "power", "subtract"]

_date = _dt.date
_datetime = _dt.datetime
_time = _dt.time
_td = _dt.timedelta
_YM = YearsMonthsDuration
_D = Decimal
_CTX = DECIMAL_CONTEXT


def _num(v: Decimal) -> Decimal | None:
    return v if v.is_finite() else None


def add_months(d: _date, months: int) -> _date:
    """Add months, clamping the day to the end of the month (Jan 31 + 1M = Feb 28/29)."""
    total = d.year * 12 + (d.month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    if y < 1 or y > 9999:
        raise OverflowError("date out of range")
    day = min(d.day, calendar.monthrange(y, m)[1])
    return d.replace(year=y, month=m, day=day)


def _dt_naive_pair(a: _datetime, b: _datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)


def _to_dt(d: _date, like: _datetime) -> _datetime | None:
    """A date used with a date and time is midnight UTC; None when zone-ness differs."""
    if like.tzinfo is None:
        return None
    return _datetime(d.year, d.month, d.day, tzinfo=_dt.UTC)


def _time_add(t: _time, d: _td) -> _time:
    base = _datetime(2000, 1, 1, t.hour, t.minute, t.second, t.microsecond)
    r = base + _td(seconds=d.total_seconds() % 86400)
    return r.time().replace(tzinfo=t.tzinfo)


def add(a: Any, b: Any) -> Any:
    """``a + b``."""
    ta, tb = type(a), type(b)
    if ta is not _D or tb is not _D:
        ta, tb = vtype(a), vtype(b)  # (only date and time subclasses differ from type())
    try:
        if ta is _D and tb is _D:
            return _num(_CTX.add(a, b))
        if ta is str and tb is str:
            if len(a) + len(b) > MAX_SIZE:
                raise too_big()
            return a + b
        if ta is _td and tb is _td:
            return a + b
        if ta is _YM and tb is _YM:
            return _YM(a.months + b.months)
        if tb is _td or tb is _YM:
            return _add_duration(a, b)
        if ta is _td or ta is _YM:
            return _add_duration(b, a)
    except (OverflowError, ValueError, decimal.DecimalException):
        return None
    return None


def _add_duration(a: Any, d: Any) -> Any:
    ta = vtype(a)
    if ta is BigDate or ta is BigDateTime:
        return _big.add_days(a, d) if type(d) is _td else _big.add_months(a, d.months)
    try:
        return _add_duration_plain(a, d)
    except OverflowError:
        # Past year 9999 or before year 1: FEEL goes on.
        if ta is _date or ta is _datetime:
            return _big.add_days(a, d) if type(d) is _td else _big.add_months(a, d.months)
        raise


def _add_duration_plain(a: Any, d: Any) -> Any:
    ta = vtype(a)
    if type(d) is _td:
        if ta is _datetime:
            return a + d
        if ta is _date:
            # DMN 1.4+: date +/- days and time duration is a date (time part dropped).
            return (_datetime(a.year, a.month, a.day) + d).date()
        if ta is _time:
            return _time_add(a, d)
        return None
    if ta is _datetime or ta is _date:
        if ta is _datetime:
            nd = add_months(a.date(), d.months)
            return a.replace(year=nd.year, month=nd.month, day=nd.day)
        return add_months(a, d.months)
    return None


def negate(a: Any) -> Any:
    """Unary minus."""
    t = vtype(a)
    if t is _D:
        return _CTX.minus(a)
    if t is _td:
        return -a
    if t is _YM:
        return _YM(-a.months)
    return None


def subtract(a: Any, b: Any) -> Any:
    """``a - b``."""
    ta, tb = vtype(a), vtype(b)
    try:
        if ta is _D and tb is _D:
            return _num(_CTX.subtract(a, b))
        if ta is _td and tb is _td:
            return a - b
        if ta is _YM and tb is _YM:
            return _YM(a.months - b.months)
        if ta is _datetime and tb is _datetime:
            if not _dt_naive_pair(a, b):
                return None
            return a - b
        if ta is _date and tb is _date:
            return _td(days=(a - b).days)
        if ta is _datetime and tb is _date:
            db = _to_dt(b, a)
            return None if db is None else a - db
        if ta is _date and tb is _datetime:
            da = _to_dt(a, b)
            return None if da is None else da - b
        if ta is _time and tb is _time:
            return _time_sub(a, b)
        if ta is BigDate or tb is BigDate or ta is BigDateTime or tb is BigDateTime:
            return _big_subtract(a, b)
        if tb is _td or tb is _YM:
            return _add_duration(a, negate(b)) if ta in (_datetime, _date, _time) else None
    except (OverflowError, ValueError, TypeError, decimal.DecimalException):
        return None
    return None


def _big_subtract(a: Any, b: Any) -> Any:
    tb = vtype(b)
    if tb is _td or tb is _YM:
        return _add_duration(a, negate(b))
    if _big.is_date(a) and _big.is_date(b):
        d = _big.difference(a, b)
        return None if d is None else _td(days=d.days)
    if _big.is_datetime(a) and _big.is_datetime(b):
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return _big.difference(a, b)
    return None


def _time_sub(a: _time, b: _time) -> _td | None:
    if (a.tzinfo is None) != (b.tzinfo is None):
        return None
    da = _datetime(2000, 1, 1, a.hour, a.minute, a.second, a.microsecond)
    db = _datetime(2000, 1, 1, b.hour, b.minute, b.second, b.microsecond)
    if a.tzinfo is not None and b.tzinfo is not None:
        oa = a.tzinfo.utcoffset(da)
        ob = b.tzinfo.utcoffset(db)
        if oa is None or ob is None:
            return None
        da -= oa
        db -= ob
    return da - db


def _td_from_seconds(secs: Decimal) -> _td:
    micros = int(secs.scaleb(6).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    return _td(microseconds=micros)


def _td_seconds(d: _td) -> Decimal:
    return Decimal((d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds).scaleb(-6)


def multiply(a: Any, b: Any) -> Any:
    """``a * b``."""
    ta, tb = vtype(a), vtype(b)
    try:
        if ta is _D and tb is _D:
            return _num(_CTX.multiply(a, b))
        if ta is _D and (tb is _td or tb is _YM):
            a, b, ta, tb = b, a, tb, ta
        if tb is _D:
            if ta is _td:
                return _td_from_seconds(_CTX.multiply(_td_seconds(a), b))
            if ta is _YM:
                return _YM(int(_CTX.multiply(Decimal(a.months), b)))
    except (OverflowError, ValueError, decimal.DecimalException):
        return None
    return None


def divide(a: Any, b: Any) -> Any:
    """``a / b``; division by zero gives null."""
    ta, tb = vtype(a), vtype(b)
    try:
        if ta is _D and tb is _D:
            if b == 0:
                return None
            return _num(_CTX.divide(a, b))
        if ta is _td and tb is _D:
            if b == 0:
                return None
            return _td_from_seconds(_CTX.divide(_td_seconds(a), b))
        if ta is _YM and tb is _D:
            if b == 0:
                return None
            return _YM(int(_CTX.divide(Decimal(a.months), b)))
        if ta is _td and tb is _td:
            if not b:
                return None
            return _CTX.divide(_td_seconds(a), _td_seconds(b))
        if ta is _YM and tb is _YM:
            if b.months == 0:
                return None
            return _CTX.divide(Decimal(a.months), Decimal(b.months))
    except (OverflowError, ValueError, decimal.DecimalException):
        return None
    return None


def power(a: Any, b: Any) -> Any:
    """``a ** b`` for numbers."""
    if type(a) is not _D or type(b) is not _D:
        return None
    try:
        if b == b.to_integral_value() and abs(b) <= 1_000_000:
            return _num(_CTX.power(a, int(b)))
        if a < 0:
            return None
        return _num(_CTX.power(a, b))
    except (OverflowError, ValueError, decimal.DecimalException):
        return None


def in_range(v: Any, r: Range) -> bool | None:
    """Is ``v`` inside range ``r``? None when not comparable."""
    op = r.op
    if op == "=":
        return feel_eq(v, r.start)
    if op == "!=":
        e = feel_eq(v, r.start)
        return None if e is None else not e
    if r.start is not None or op in (">", ">="):
        c = feel_compare(v, r.start)
        if c is None:
            return None
        if c < 0 or (c == 0 and not r.start_included):
            return False
    elif op is None and r.start is None:
        # A literal range with a null start: unbounded below only in unary-test form.
        pass
    if r.end is not None or op in ("<", "<="):
        c = feel_compare(v, r.end)
        if c is None:
            return None
        if c > 0 or (c == 0 and not r.end_included):
            return False
    return True
