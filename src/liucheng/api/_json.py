"""Turning engine values (FEEL numbers, dates, durations, records) into JSON."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["jsonable", "record_dict"]


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (integral decimals become ``int``, times ISO strings)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value) if value.is_finite() else None
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return record_dict(value)
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        from liucheng.feel import from_feel

        return jsonable(from_feel(value, json_safe=True))
    except Exception:  # an exotic value: show its text rather than fail the response
        return str(value)


def record_dict(record: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass record as a JSON-ready dict (fields in ``drop`` left out)."""
    return {
        f.name: jsonable(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in drop
    }
