"""Paths (``a.b``), properties of temporal values, durations and ranges, and ``instance of``."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from liucheng.feel._bigdate import BigDate, BigDateTime, vtype
from liucheng.feel._runtime import MISSING, Scope, State
from liucheng.feel._types import FeelFunction, FeelType, Range, YearsMonthsDuration
from liucheng.feel._values import type_name

__all__ = ["get_path", "instance_of"]

# ---------------------------------------------------------------------- paths

_DATE_PROPS = frozenset({"year", "month", "day", "weekday"})
_TIME_PROPS = frozenset({"hour", "minute", "second", "time offset", "timezone"})


def _offset(v: _dt.time | _dt.datetime) -> Any:
    if v.tzinfo is None:
        return None
    if isinstance(v, _dt.datetime):
        return v.utcoffset()
    return v.tzinfo.utcoffset(_dt.datetime(2000, 1, 1, v.hour, v.minute, v.second))


def _zone(v: _dt.time | _dt.datetime) -> Any:
    tz = v.tzinfo
    if tz is None:
        return None
    key = getattr(tz, "key", None)
    if key is not None:
        return str(key)
    return None


def get_path(base: Any, name: str, state: State, pos: int) -> Any:
    """``base.name`` over contexts, lists, temporal values, durations and ranges."""
    t = vtype(base)
    if t is dict:
        v = base.get(name, MISSING)
        if v is MISSING:
            state.warn("feel.unknown_name", f"context has no entry {name!r}", pos)
            return None
        return v
    if t is list:
        return [get_path(x, name, state, pos) for x in base]
    if base is None:
        return None
    r = _property(base, name)
    if r is MISSING:
        state.warn("feel.unknown_name", f"{type_name(base)} has no property {name!r}", pos)
        return None
    return r


def _property(v: Any, name: str) -> Any:
    t = vtype(v)
    if t is BigDate or t is BigDateTime:
        if name == "year":
            return Decimal(v.year)
        if name in ("time offset", "timezone") and t is BigDateTime:
            return _property(v.base, name)
        if name in _DATE_PROPS or name in _TIME_PROPS:
            return _property(v.base, name)
        return MISSING
    if t is _dt.date or t is _dt.datetime:
        if name == "year":
            return Decimal(v.year)
        if name == "month":
            return Decimal(v.month)
        if name == "day":
            return Decimal(v.day)
        if name == "weekday":
            return Decimal(v.isoweekday())
    if t is _dt.time or t is _dt.datetime:
        if name == "hour":
            return Decimal(v.hour)
        if name == "minute":
            return Decimal(v.minute)
        if name == "second":
            return (
                Decimal(v.second) + Decimal(v.microsecond).scaleb(-6)
                if v.microsecond
                else (Decimal(v.second))
            )
        if name == "time offset":
            return _offset(v)
        if name == "timezone":
            return _zone(v)
    if t is _dt.timedelta:
        total = v.days * 86400 + v.seconds
        sign = -1 if total < 0 else 1
        a = abs(total)
        if name == "days":
            return Decimal(sign * (a // 86400))
        if name == "hours":
            return Decimal(sign * ((a % 86400) // 3600))
        if name == "minutes":
            return Decimal(sign * ((a % 3600) // 60))
        if name == "seconds":
            return Decimal(sign * (a % 60))
    if t is YearsMonthsDuration:
        if name == "years":
            return Decimal(v.years_part)
        if name == "months":
            return Decimal(v.months_part)
    if t is Range:
        if name == "start":
            return v.start
        if name == "end":
            return v.end
        if name == "start included":
            return v.start_included
        if name == "end included":
            return v.end_included
    return MISSING


# ---------------------------------------------------------------------- types

_SIMPLE_TYPES = {
    "number": (Decimal,),
    "string": (str,),
    "boolean": (bool,),
    "date": (_dt.date, BigDate),
    "time": (_dt.time,),
    "date and time": (_dt.datetime, BigDateTime),
    "days and time duration": (_dt.timedelta,),
    "years and months duration": (YearsMonthsDuration,),
    "list": (list,),
    "context": (dict,),
    "range": (Range,),
}


def instance_of(v: Any, typ: Any, env: Scope | None = None, nested: bool = False) -> bool:
    """FEEL ``instance of`` for the type AST produced by the parser.

    Inside lists, contexts and ranges a null conforms to every type. Type names FEEL does not
    know are looked up in the scope, where a :class:`FeelType` may define them.
    """
    kind = typ[0]
    if kind == "t":
        name = typ[1]
        if name == "Any":
            return v is not None or nested
        if name == "Null":
            return v is None
        if v is None:
            return nested
        if name == "function":
            return isinstance(v, FeelFunction)
        py = _SIMPLE_TYPES.get(name)
        if py is None:
            found = env.lookup(name) if env is not None else MISSING
            if isinstance(found, FeelType):
                return bool(found.check(v))
            return False
        return vtype(v) in py
    if v is None:
        return nested
    if kind == "tlist":
        return type(v) is list and all(instance_of(x, typ[1], env, True) for x in v)
    if kind == "trange":
        return type(v) is Range and all(
            x is None or instance_of(x, typ[1], env, True) for x in (v.start, v.end)
        )
    if kind == "tcontext":
        return type(v) is dict and all(
            k in v and instance_of(v[k], t, env, True) for k, t in typ[1]
        )
    if kind == "tfunction":
        return isinstance(v, FeelFunction)
    return False
