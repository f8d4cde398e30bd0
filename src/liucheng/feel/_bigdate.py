"""Dates and date-times outside Python's years 1..9999 (FEEL allows -999,999,999..999,999,999).

The Gregorian calendar repeats every 400 years (146,097 days, a whole number of weeks), so such
a value is held as an equivalent Python date or datetime in the years 2000..2399 (``base``) plus a
count of 400-year ``era``\\ s. Leap years, month lengths and weekdays of the base are those of the
true date. Values inside 1..9999 are always plain ``datetime.date``/``datetime.datetime``.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from typing import Any

__all__ = [
    "MAX_YEAR",
    "BigDate",
    "BigDateTime",
    "add_days",
    "add_months",
    "difference",
    "from_era",
    "is_date",
    "is_datetime",
    "make_date",
    "make_datetime",
    "order_key",
    "to_era",
]

MAX_YEAR = 999_999_999
_ERA_DAYS = 146_097
_BASE = 2000


class _Big:
    __slots__ = ("base", "era")

    def __init__(self, era: int, base: Any) -> None:
        self.era = era
        self.base = base

    @property
    def year(self) -> int:
        return int(self.base.year + 400 * self.era)

    @property
    def month(self) -> int:
        return int(self.base.month)

    @property
    def day(self) -> int:
        return int(self.base.day)

    def isoweekday(self) -> int:
        return int(self.base.isoweekday())

    def weekday(self) -> int:
        return int(self.base.weekday())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        assert isinstance(other, _Big)
        return (self.era, self.base) == (other.era, other.base)

    def __hash__(self) -> int:
        return hash((self.era, self.base))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(year={self.year}, base={self.base!r})"


class BigDate(_Big):
    """A FEEL date whose year is outside 1..9999."""

    __slots__ = ()


class BigDateTime(_Big):
    """A FEEL date and time whose year is outside 1..9999."""

    __slots__ = ()

    @property
    def hour(self) -> int:
        return int(self.base.hour)

    @property
    def minute(self) -> int:
        return int(self.base.minute)

    @property
    def second(self) -> int:
        return int(self.base.second)

    @property
    def microsecond(self) -> int:
        return int(self.base.microsecond)

    @property
    def tzinfo(self) -> _dt.tzinfo | None:
        tz: _dt.tzinfo | None = self.base.tzinfo
        return tz

    def utcoffset(self) -> _dt.timedelta | None:
        off: _dt.timedelta | None = self.base.utcoffset()
        return off

    def timetz(self) -> _dt.time:
        t: _dt.time = self.base.timetz()
        return t

    def date(self) -> BigDate:
        return BigDate(self.era, self.base.date())


def is_date(v: Any) -> bool:
    """A FEEL date (plain or big)."""
    t = type(v)
    return t is _dt.date or t is BigDate


def is_datetime(v: Any) -> bool:
    """A FEEL date and time (plain or big)."""
    t = vtype(v)
    return t is _dt.datetime or t is BigDateTime


def to_era(v: Any) -> tuple[int, Any]:
    """(era, base) of any date or date and time."""
    if isinstance(v, _Big):
        return v.era, v.base
    era, offset = divmod(v.year - _BASE, 400)
    return era, v.replace(year=_BASE + offset)


def from_era(era: int, base: Any) -> Any:
    """The value for (era, base), plain when its year fits Python; None if beyond FEEL's range."""
    nanos = nanos_of(base)
    shift, offset = divmod(base.year - _BASE, 400)
    era += shift
    base = with_nanos(base.replace(year=_BASE + offset), nanos)
    year = base.year + 400 * era
    if abs(year) > MAX_YEAR:
        return None
    if 1 <= year <= 9999:
        return with_nanos(base.replace(year=year), nanos)
    cls = BigDateTime if isinstance(base, _dt.datetime) else BigDate
    return cls(era, base)


def make_date(year: int, month: int, day: int) -> Any:
    """A date from its parts (None if invalid)."""
    if abs(year) > MAX_YEAR:
        return None
    era, offset = divmod(year - _BASE, 400)
    try:
        base = _dt.date(_BASE + offset, month, day)
    except ValueError:
        return None
    return from_era(era, base)


def make_datetime(  # noqa: PLR0917 - mirrors datetime's own signature
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    micro: int,
    tz: _dt.tzinfo | None,
) -> Any:
    """A date and time from its parts (None if invalid)."""
    if abs(year) > MAX_YEAR:
        return None
    era, offset = divmod(year - _BASE, 400)
    try:
        base = _dt.datetime(_BASE + offset, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None
    return from_era(era, base)


def add_days(v: Any, delta: _dt.timedelta) -> Any:
    """Date (and time) plus a days and time duration, across any years."""
    era, base = to_era(v)
    shift, days = divmod(delta.days, _ERA_DAYS)
    base = base + _dt.timedelta(days=days, seconds=delta.seconds, microseconds=delta.microseconds)
    return from_era(era + shift, base)


def add_months(v: Any, months: int) -> Any:
    """Date (and time) plus months; the day is clamped to the month's length."""
    era, base = to_era(v)
    total = base.year * 12 + (base.month - 1) + months
    year, month0 = divmod(total, 12)
    shift, offset = divmod(year - _BASE, 400)
    year = _BASE + offset
    day = min(base.day, calendar.monthrange(year, month0 + 1)[1])
    return from_era(era + shift, base.replace(year=year, month=month0 + 1, day=day))


def order_key(v: Any) -> tuple[int, Any]:
    """A sort key (era, naive base) of a date or date and time; aware values compare in UTC."""
    era, base = to_era(v)
    if isinstance(base, _dt.datetime) and base.tzinfo is not None:
        off = base.utcoffset()
        base = base.replace(tzinfo=None) - (off or _dt.timedelta(0))
        shift, offset = divmod(base.year - _BASE, 400)
        era, base = era + shift, base.replace(year=_BASE + offset)
    return era, base


def difference(a: Any, b: Any) -> _dt.timedelta | None:
    """``a - b`` for two dates or two date-times (None if beyond timedelta's range)."""
    ea, ba = to_era(a)
    eb, bb = to_era(b)
    try:
        delta: _dt.timedelta = (ba - bb) + _dt.timedelta(days=(ea - eb) * _ERA_DAYS)
    except OverflowError:
        return None
    return delta


# --------------------------------------------------------------------------- sub-microseconds
# FEEL times carry nanoseconds (XML Schema / java.time); Python stops at microseconds. A value
# whose text had non-zero 7th..9th fraction digits becomes one of these subclasses, which keep
# them in ``nanos`` (0..999) so ``string()`` gives the digits back. Arithmetic returns plain
# values (sub-microsecond digits are dropped there), and type dispatch goes through
# :func:`vtype`, which maps the subclasses to their base types.


class NanoTime(_dt.time):
    """A time of day with sub-microsecond digits."""

    __slots__ = ("nanos",)
    nanos: int


class NanoDateTime(_dt.datetime):
    """A date and time with sub-microsecond digits."""

    __slots__ = ("nanos",)
    nanos: int


_BASE_TYPES: dict[type, type] = {NanoTime: _dt.time, NanoDateTime: _dt.datetime}


def vtype(v: Any) -> type:
    """``type(v)``, with the sub-microsecond subclasses seen as their base types."""
    t = type(v)
    return _BASE_TYPES.get(t, t)


def nanos_of(v: Any) -> int:
    """The sub-microsecond digits (0..999) a time or date and time carries."""
    if isinstance(v, _Big):
        v = v.base
    n: int = getattr(v, "nanos", 0)
    return n


def with_nanos(v: Any, nanos: int) -> Any:
    """``v`` (a time, date and time or big date and time) carrying ``nanos`` extra digits."""
    if not nanos:
        return v
    if isinstance(v, _Big):
        return type(v)(v.era, with_nanos(v.base, nanos))
    t = type(v)
    out: NanoTime | NanoDateTime
    if t is _dt.datetime or t is NanoDateTime:
        out = NanoDateTime(
            v.year,
            v.month,
            v.day,
            v.hour,
            v.minute,
            v.second,
            v.microsecond,
            v.tzinfo,
            fold=v.fold,
        )
    elif t is _dt.time or t is NanoTime:
        out = NanoTime(v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold)
    else:
        return v
    out.nanos = nanos
    return out
