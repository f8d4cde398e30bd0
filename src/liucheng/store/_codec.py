"""JSON encoding of engine values (FEEL values included) for the database.

Variables hold FEEL values: ``Decimal`` numbers, dates, times, date-times, durations. JSON has none
of these, so they are written as one-key objects with a ``$`` tag (``{"$n": "1.50"}``) and turned
back on reading. Plain JSON values pass through unchanged, so the stored text stays readable and
queryable. A user's own one-key object whose key is one of our tags would be misread; the tags are
chosen to make that practically impossible.
"""

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from typing import Any

from liucheng.errors import StoreError
from liucheng.feel import YearsMonthsDuration

__all__ = ["dumps", "loads"]

_TAGS = frozenset({"$n", "$date", "$dt", "$time", "$dur", "$ym", "$bytes", "$set"})


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, _dt.datetime):
        return {"$dt": _datetime_text(value)}
    if isinstance(value, _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, _dt.time):
        return {"$time": _time_text(value)}
    if isinstance(value, _dt.timedelta):
        return {"$dur": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, set | frozenset):
        return {"$set": sorted(value, key=repr)}
    if isinstance(value, YearsMonthsDuration):
        return {"$ym": value.months}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    raise StoreError(
        f"cannot store a value of type {type(value).__name__}",
        code="store.value_type",
        hint="variables hold JSON values, FEEL numbers, dates, times and durations",
    )


def _zone_key(tz: _dt.tzinfo | None) -> str | None:
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else None


def _datetime_text(value: _dt.datetime) -> str:
    zone = _zone_key(value.tzinfo)
    text = value.isoformat()
    return f"{text}[{zone}]" if zone else text


def _time_text(value: _dt.time) -> str:
    zone = _zone_key(value.tzinfo)
    if zone:
        return f"{value.replace(tzinfo=None).isoformat()}[{zone}]"
    return value.isoformat()


def _split_zone(text: str) -> tuple[str, _dt.tzinfo | None]:
    if text.endswith("]") and "[" in text:
        from zoneinfo import ZoneInfo

        base, zone = text[:-1].split("[", 1)
        return base, ZoneInfo(zone)
    return text, None


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    ((key, raw),) = obj.items()
    if key not in _TAGS:
        return obj
    if key == "$n":
        return Decimal(raw)
    if key == "$dt":
        base, zone = _split_zone(raw)
        parsed = _dt.datetime.fromisoformat(base)
        return parsed.replace(tzinfo=zone) if zone is not None else parsed
    if key == "$date":
        return _dt.date.fromisoformat(raw)
    if key == "$time":
        base, zone = _split_zone(raw)
        parsed_time = _dt.time.fromisoformat(base)
        return parsed_time.replace(tzinfo=zone) if zone is not None else parsed_time
    if key == "$dur":
        days, seconds, micros = raw
        return _dt.timedelta(days=days, seconds=seconds, microseconds=micros)
    if key == "$ym":
        return YearsMonthsDuration(raw)
    if key == "$set":
        return set(raw)
    return bytes.fromhex(raw)


# Built once: json.dumps/json.loads with options build a new encoder/decoder on every call (and
# JSONEncoder.encode still builds its C encoder per call), which costs more than encoding the small
# documents and history payloads the engine writes.
_ENCODE = json.JSONEncoder(default=_default, separators=(",", ":"), ensure_ascii=False).encode
_DECODE = json.JSONDecoder(object_hook=_hook).decode
try:
    from _json import encode_basestring as _c_text
    from _json import make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover - CPython always has the accelerator
    _C_ENCODE = None
else:
    # No circular-reference markers (engine values are trees); otherwise exactly the options of
    # _ENCODE: default=_default, separators (",", ":"), ensure_ascii=False, allow_nan.
    _C_ENCODE = _c_make_encoder(None, _default, _c_text, None, ":", ",", False, False, True)


def dumps(value: Any) -> str:
    """Encode ``value`` as JSON text with tags for non-JSON engine values."""
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODE(value)
    return "".join(_C_ENCODE(value, 0))


def loads(text: str | bytes | None) -> Any:
    """Decode text written by :func:`dumps`."""
    if text is None:
        return None
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    return _DECODE(text)
