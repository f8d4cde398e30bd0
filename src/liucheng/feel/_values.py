"""FEEL value semantics: type names, equality, ordering, string forms and temporal parsing."""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from liucheng.feel._bigdate import (
    BigDate,
    BigDateTime,
    is_date,
    is_datetime,
    make_date,
    make_datetime,
    nanos_of,
    order_key,
    vtype,
    with_nanos,
)
from liucheng.feel._types import FeelFunction, Range, YearsMonthsDuration

__all__ = [
    "feel_compare",
    "feel_eq",
    "feel_string",
    "format_number",
    "parse_date",
    "parse_datetime",
    "parse_duration",
    "parse_time",
    "type_name",
    "zone_of",
]

_date = _dt.date
_datetime = _dt.datetime
_time = _dt.time
_timedelta = _dt.timedelta


def type_name(v: Any) -> str:
    """The FEEL type name of a value."""
    if v is None:
        return "Null"
    t = vtype(v)
    if t is Decimal:
        return "number"
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is _datetime:
        return "date and time"
    if t is _date:
        return "date"
    if t is _time:
        return "time"
    if t is _timedelta:
        return "days and time duration"
    if t is YearsMonthsDuration:
        return "years and months duration"
    if t is list:
        return "list"
    if t is dict:
        return "context"
    if t is Range:
        return "range"
    if t is BigDate:
        return "date"
    if t is BigDateTime:
        return "date and time"
    if isinstance(v, FeelFunction):
        return "function"
    if isinstance(v, _datetime):
        return "date and time"
    if isinstance(v, _date):
        return "date"
    return "Any"


def _ms(v: Any) -> Any:
    """Times compare at millisecond precision (as the TCK expects of FEEL engines)."""
    us = v.microsecond
    return v.replace(microsecond=us - us % 1000) if us % 1000 else v


def _dt_comparable(a: _datetime, b: _datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)


def feel_eq(a: Any, b: Any) -> bool | None:
    """FEEL ``=``: true/false, or None when the types cannot be compared."""
    if a is None or b is None:
        return a is None and b is None
    ta = vtype(a)
    tb = vtype(b)
    if ta is not tb:
        if isinstance(a, FeelFunction) and isinstance(b, FeelFunction):
            return a is b
        if (is_date(a) and is_date(b)) or (is_datetime(a) and is_datetime(b)):
            c = _big_compare(a, b)
            return None if c is None else c == 0
        return None
    if ta is BigDate or ta is BigDateTime:
        c = _big_compare(a, b)
        return False if c is None else c == 0
    if ta is Decimal or ta is str or ta is bool or ta is _date or ta is _timedelta:
        return bool(a == b)
    if ta is YearsMonthsDuration:
        return bool(a.months == b.months)
    if ta is list:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            r = feel_eq(x, y)
            if r is not True:
                return r if r is None else False
        return True
    if ta is dict:
        if a.keys() != b.keys():
            return False
        for k, x in a.items():
            r = feel_eq(x, b[k])
            if r is not True:
                return r if r is None else False
        return True
    if ta is _datetime:
        if not _dt_comparable(a, b):
            return False
        return bool(_ms(a) == _ms(b))
    if ta is _time:
        return _time_eq(a, b)
    if ta is Range:
        return (
            a.op == b.op
            and a.start_included == b.start_included
            and a.end_included == b.end_included
            and feel_eq(a.start, b.start) is True
            and feel_eq(a.end, b.end) is True
        )
    if isinstance(a, FeelFunction):
        return a is b
    try:
        return a is b or bool(a == b)
    except Exception:  # foreign objects from a caller's context (e.g. arrays)
        return None


def _time_key(t: _time) -> tuple[int, int] | None:
    secs = t.hour * 3600 + t.minute * 60 + t.second
    if t.tzinfo is None:
        return None
    off = t.tzinfo.utcoffset(_datetime(2000, 1, 1, t.hour, t.minute, t.second))
    if off is None:
        return None
    return ((secs - int(off.total_seconds())) % 86400, t.microsecond // 1000)


def _time_eq(a: _time, b: _time) -> bool:
    if (a.tzinfo is None) != (b.tzinfo is None):
        return False
    if a.tzinfo is None:
        return bool(_ms(a) == _ms(b))
    if isinstance(a.tzinfo, ZoneInfo) or isinstance(b.tzinfo, ZoneInfo):
        if isinstance(a.tzinfo, ZoneInfo) and isinstance(b.tzinfo, ZoneInfo):
            same = _ms(a.replace(tzinfo=None)) == _ms(b.replace(tzinfo=None))
            return bool(same and a.tzinfo.key == b.tzinfo.key)
        return False
    return _time_key(a) == _time_key(b)


def _big_compare(a: Any, b: Any) -> int | None:
    """Order dates or date-times of which one at least lies outside years 1..9999."""
    if is_datetime(a) and (a.tzinfo is None) != (b.tzinfo is None):
        return None
    ka, kb = order_key(a), order_key(b)
    return -1 if ka < kb else (1 if ka > kb else 0)


def feel_compare(a: Any, b: Any) -> int | None:
    """Order two FEEL values: -1, 0, 1, or None if they are not comparable."""
    if a is None or b is None:
        return None
    ta = vtype(a)
    if ta is not vtype(b) or ta is BigDate or ta is BigDateTime:
        if (is_date(a) and is_date(b)) or (is_datetime(a) and is_datetime(b)):
            return _big_compare(a, b)
        return None
    try:
        if ta is Decimal or ta is str or ta is _date or ta is _timedelta:
            return -1 if a < b else (1 if a > b else 0)
        if ta is YearsMonthsDuration:
            return -1 if a.months < b.months else (1 if a.months > b.months else 0)
        if ta is _datetime:
            if not _dt_comparable(a, b):
                return None
            a, b = _ms(a), _ms(b)
            return -1 if a < b else (1 if a > b else 0)
        if ta is _time:
            if (a.tzinfo is None) != (b.tzinfo is None):
                return None
            if a.tzinfo is None:
                a, b = _ms(a), _ms(b)
                return -1 if a < b else (1 if a > b else 0)
            ka, kb = _time_key(a), _time_key(b)
            if ka is None or kb is None:
                return None
            return -1 if ka < kb else (1 if ka > kb else 0)
    except (TypeError, ArithmeticError):
        return None
    return None


# --------------------------------------------------------------------------- string forms


def format_number(d: Decimal) -> str:
    """A number as FEEL's ``string()`` shows it: plain notation, no exponent, no trailing zeros."""
    if not d.is_finite():
        return str(d)
    if d == 0:
        return "0"
    n = d.normalize()
    s = format(n, "f")
    return s


def _format_offset(off: _timedelta) -> str:
    total = int(off.total_seconds())
    if total == 0:
        return "Z"
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    out = f"{sign}{h:02d}:{m:02d}"
    if s:
        out += f":{s:02d}"
    return out


def _format_time_part(t: _time | _datetime) -> str:
    out = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    nanos = nanos_of(t)
    if nanos:
        out += "." + f"{t.microsecond:06d}{nanos:03d}".rstrip("0")
    elif t.microsecond:
        out += "." + f"{t.microsecond:06d}".rstrip("0")
    return out


def _format_zone(v: _time | _datetime) -> str:
    tz = v.tzinfo
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    if isinstance(v, _datetime):
        off = v.utcoffset()
    else:
        off = tz.utcoffset(None)
    return _format_offset(off) if off is not None else ""


def _format_date(d: Any) -> str:
    y = d.year
    year = f"-{-y:04d}" if y < 0 else f"{y:04d}"
    return f"{year}-{d.month:02d}-{d.day:02d}"


def format_duration(v: _timedelta) -> str:
    """ISO 8601 form of a days and time duration (``P1DT2H``)."""
    total_us = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    if total_us == 0:
        return "PT0S"
    sign = "-" if total_us < 0 else ""
    total_us = abs(total_us)
    secs, us = divmod(total_us, 1_000_000)
    days, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    out = sign + "P"
    if days:
        out += f"{days}D"
    if h or m or s or us:
        out += "T"
        if h:
            out += f"{h}H"
        if m:
            out += f"{m}M"
        if s or us:
            out += f"{s}" + ("." + f"{us:06d}".rstrip("0") if us else "") + "S"
    return out


def feel_string(v: Any) -> str:
    """The FEEL ``string()`` form of any value."""
    if v is None:
        return "null"
    t = vtype(v)
    if t is str:
        return str(v)
    if t is bool:
        return "true" if v else "false"
    if t is Decimal:
        return format_number(v)
    if t is _date or t is BigDate:
        return _format_date(v)
    if t is _datetime:
        return _format_date(v) + "T" + _format_time_part(v) + _format_zone(v)
    if t is BigDateTime:
        return _format_date(v) + "T" + _format_time_part(v.base) + _format_zone(v.base)
    if t is _time:
        return _format_time_part(v) + _format_zone(v)
    if t is _timedelta:
        return format_duration(v)
    if t is YearsMonthsDuration:
        return str(v)
    if t is list:
        return "[" + ", ".join(_quoted(x) for x in v) + "]"
    if t is dict:
        return "{" + ", ".join(f"{_key(k)}: {_quoted(x)}" for k, x in v.items()) + "}"
    if t is Range:
        if v.op is not None:
            bound = v.end if v.op in ("<", "<=") else v.start
            return f"{v.op} {_quoted(bound)}"
        lo = "[" if v.start_included else "("
        hi = "]" if v.end_included else ")"
        return f"{lo}{_quoted(v.start)}..{_quoted(v.end)}{hi}"
    if isinstance(v, FeelFunction):
        return f"function {v.name or '<anonymous>'}"
    return str(v)


_PLAIN_KEY = re.compile(r"[^\W\d][\w ]*\Z")


def _key(k: str) -> str:
    if _PLAIN_KEY.match(k) and not k.endswith(" "):
        return k
    return _quoted(k)


def _quoted(v: Any) -> str:
    if type(v) is str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return feel_string(v)


# --------------------------------------------------------------------------- parsing

_DATE_RE = re.compile(r"(-?\d{4,9})-(\d{2})-(\d{2})\Z")
_TIME_RE = re.compile(
    r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:(Z|z)|([+-])(\d{2}):(\d{2})(?::(\d{2}))?|@([A-Za-z][A-Za-z0-9_+\-/]*))?\Z"
)
_DTD_RE = re.compile(
    r"(-)?P(?!\Z)(?:(\d+)D)?(?:T(?!\Z)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?\Z"
)
_YMD_RE = re.compile(r"(-)?P(?!\Z)(?:(\d+)Y)?(?:(\d+)M)?\Z")
_FULL_RE = re.compile(
    r"(-)?P(?!\Z)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
    r"(?:T(?!\Z)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?\Z"
)


def parse_date(s: str) -> Any:
    """``YYYY-MM-DD`` to a date (a :class:`BigDate` outside years 1..9999), or None."""
    m = _DATE_RE.match(s)
    if not m:
        return None
    ys = m.group(1)
    if len(ys.lstrip("-")) > 4 and ys.lstrip("-")[0] == "0":
        return None
    return make_date(int(ys), int(m.group(2)), int(m.group(3)))


def zone_of(name: str) -> _dt.tzinfo | None:
    """A zone id (``Europe/Paris``) to a tzinfo, or None if unknown."""
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None
    except Exception:  # zoneinfo raises several types for malformed keys
        return None


def _tz_from(m: re.Match[str], base: int) -> tuple[bool, _dt.tzinfo | None]:
    """(ok, tzinfo) from the zone groups starting at group ``base``."""
    if m.group(base):
        return True, _dt.UTC
    sign = m.group(base + 1)
    if sign:
        h, mi = int(m.group(base + 2)), int(m.group(base + 3))
        sec = int(m.group(base + 4) or 0)
        if h > 14 or mi > 59:
            return False, None
        off = _timedelta(hours=h, minutes=mi, seconds=sec)
        return True, _dt.timezone(-off if sign == "-" else off)
    zone = m.group(base + 5)
    if zone:
        tz = zone_of(zone)
        return (tz is not None), tz
    return True, None


def _micro(frac: str | None) -> int:
    if not frac:
        return 0
    return int((frac + "000000")[:6])


def _nano(frac: str | None) -> int:
    """The 7th..9th fraction digits (digits past nanoseconds are dropped)."""
    if not frac or len(frac) <= 6:
        return 0
    return int((frac + "000")[6:9])


def parse_time(s: str) -> _time | None:
    """``hh:mm:ss[.s][offset|@zone]`` to a time, or None."""
    m = _TIME_RE.match(s)
    if not m:
        return None
    h, mi, sec = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if h == 24 and mi == 0 and sec == 0:
        h = 0
    if h > 23 or mi > 59 or sec > 59:
        return None
    ok, tz = _tz_from(m, 5)
    if not ok:
        return None
    out: _time = with_nanos(_time(h, mi, sec, _micro(m.group(4)), tzinfo=tz), _nano(m.group(4)))
    return out


def parse_datetime(s: str) -> Any:
    """``date 'T' time`` (or a date alone, meaning midnight) to a datetime, or None."""
    if "T" not in s:
        d = parse_date(s)
        return None if d is None else make_datetime(d.year, d.month, d.day, 0, 0, 0, 0, None)
    ds, _, ts = s.partition("T")
    d = parse_date(ds)
    if d is None:
        return None
    m = _TIME_RE.match(ts)
    if not m:
        return None
    h, mi, sec = int(m.group(1)), int(m.group(2)), int(m.group(3))
    extra = 0
    if h == 24 and mi == 0 and sec == 0:
        h, extra = 0, 1
    if h > 23 or mi > 59 or sec > 59:
        return None
    ok, tz = _tz_from(m, 5)
    if not ok:
        return None
    out = make_datetime(d.year, d.month, d.day, h, mi, sec, _micro(m.group(4)), tz)
    if extra and out is not None:
        from liucheng.feel._bigdate import add_days

        out = add_days(out, _timedelta(days=1))
    return with_nanos(out, _nano(m.group(4))) if out is not None else None


_MAX_DURATION_DAYS = 999_999_999


def parse_duration(s: str) -> _timedelta | YearsMonthsDuration | None:
    """An ISO 8601 duration: years-months (``P1Y2M``) or days-time (``P1DT2H``), or None."""
    m = _YMD_RE.match(s)
    if m and (m.group(2) or m.group(3)):
        months = int(m.group(2) or 0) * 12 + int(m.group(3) or 0)
        return YearsMonthsDuration(-months if m.group(1) else months)
    m = _DTD_RE.match(s)
    if m:
        return _dtd(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5))
    m = _FULL_RE.match(s)
    if m:
        # Mixed forms (P1Y2DT3H) are days and time durations with years taken as 365 days is
        # not defined by FEEL: refuse.
        return None
    return None


def _dtd(
    neg: str | None, d: str | None, h: str | None, mi: str | None, sec: str | None
) -> _timedelta | None:
    try:
        sec_d = Decimal(sec or 0)
        whole = int(sec_d)
        micro = int((sec_d - whole) * 1_000_000)
        days = int(d or 0)
        if days > _MAX_DURATION_DAYS:
            return None
        td = _timedelta(
            days=days, hours=int(h or 0), minutes=int(mi or 0), seconds=whole, microseconds=micro
        )
    except (OverflowError, ValueError, ArithmeticError):
        return None
    return -td if neg else td


def parse_ymd(s: str) -> YearsMonthsDuration | None:
    """Years and months duration text only."""
    v = parse_duration(s)
    return v if isinstance(v, YearsMonthsDuration) else None
