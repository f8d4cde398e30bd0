"""The OCEL log as polars frames, and building it from the records a reader collected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from .._schema import UTC_DATETIME, EventLogError, parse_timestamps

__all__ = [
    "EPOCH",
    "EPOCH_DT",
    "TYPE_OF",
    "OcelLog",
    "as_text",
    "build",
    "event_types_of",
    "iso",
    "types_json",
]

EPOCH = "1970-01-01T00:00:00Z"
EPOCH_DT = datetime(1970, 1, 1, tzinfo=UTC)
TYPE_OF = {pl.Int64: "integer", pl.Float64: "float", pl.Boolean: "boolean", UTC_DATETIME: "time"}


@dataclass(frozen=True)
class OcelLog:
    """An object-centric event log.

    Attributes:
        events: ``ocel_id``, ``ocel_type`` (activity), ``ocel_time`` (UTC) and one column per
            event attribute.
        objects: ``ocel_id``, ``ocel_type``.
        object_attributes: ``ocel_id``, ``ocel_name``, ``ocel_time`` (UTC; the epoch for initial
            values), ``ocel_value`` (text): every object attribute value over time.
        relations: Event-to-object: ``ocel_event_id``, ``ocel_object_id``, ``ocel_qualifier``.
        o2o: Object-to-object: ``ocel_source_id``, ``ocel_target_id``, ``ocel_qualifier``.
        event_types: Event type → {attribute name → OCEL type (string/integer/float/...)}.
        object_types: Object type → {attribute name → OCEL type}.
    """

    events: pl.DataFrame
    objects: pl.DataFrame
    object_attributes: pl.DataFrame
    relations: pl.DataFrame
    o2o: pl.DataFrame
    event_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    object_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Building from plain records (shared by the three readers)


def build(
    *,
    events: list[dict[str, Any]],
    event_attrs: list[tuple[str, str, Any]],
    objects: list[tuple[str, str]],
    object_attrs: list[tuple[str, str, str | None, Any]],
    relations: list[tuple[str, str, str | None]],
    o2o: list[tuple[str, str, str | None]],
    event_types: dict[str, dict[str, str]],
    object_types: dict[str, dict[str, str]],
    source: str,
) -> OcelLog:
    ev = pl.DataFrame(
        {
            "ocel_id": [str(e["id"]) for e in events],
            "ocel_type": [str(e["type"]) for e in events],
            "ocel_time": [None if e["time"] is None else str(e["time"]) for e in events],
        },
        schema={"ocel_id": pl.Utf8, "ocel_type": pl.Utf8, "ocel_time": pl.Utf8},
    )
    try:
        ev = ev.with_columns(parse_timestamps(ev.get_column("ocel_time"), what="event time"))
    except EventLogError as exc:
        exc.file = source
        exc.message = f"event {ev['ocel_id'][int(exc.details.get('row', 0))]!r}: {exc.message}"
        raise
    declared: dict[str, str] = {}
    for attrs in event_types.values():
        for name, typ in attrs.items():
            declared[name] = typ if declared.get(name, typ) == typ else "string"
    if event_attrs:
        long = pl.DataFrame(
            {
                "ocel_id": [a[0] for a in event_attrs],
                "name": [a[1] for a in event_attrs],
                "value": [None if a[2] is None else as_text(a[2]) for a in event_attrs],
            },
            schema={"ocel_id": pl.Utf8, "name": pl.Utf8, "value": pl.Utf8},
        )
        wide = long.pivot(on="name", index="ocel_id", values="value", aggregate_function="last")
        wide = wide.with_columns(
            _typed(wide.get_column(c), declared.get(c, "string"), source)
            for c in wide.columns
            if c != "ocel_id"
        )
        ev = ev.join(wide, on="ocel_id", how="left", maintain_order="left")
    obj = pl.DataFrame(
        {"ocel_id": [o[0] for o in objects], "ocel_type": [o[1] for o in objects]},
        schema={"ocel_id": pl.Utf8, "ocel_type": pl.Utf8},
    )
    oattr = pl.DataFrame(
        {
            "ocel_id": [a[0] for a in object_attrs],
            "ocel_name": [a[1] for a in object_attrs],
            "ocel_time": [a[2] or EPOCH for a in object_attrs],
            "ocel_value": [None if a[3] is None else as_text(a[3]) for a in object_attrs],
        },
        schema={
            "ocel_id": pl.Utf8,
            "ocel_name": pl.Utf8,
            "ocel_time": pl.Utf8,
            "ocel_value": pl.Utf8,
        },
    )
    oattr = oattr.with_columns(parse_timestamps(oattr.get_column("ocel_time"), what="object time"))
    rel = pl.DataFrame(
        {
            "ocel_event_id": [r[0] for r in relations],
            "ocel_object_id": [r[1] for r in relations],
            "ocel_qualifier": [r[2] or None for r in relations],
        },
        schema={"ocel_event_id": pl.Utf8, "ocel_object_id": pl.Utf8, "ocel_qualifier": pl.Utf8},
    )
    oo = pl.DataFrame(
        {
            "ocel_source_id": [r[0] for r in o2o],
            "ocel_target_id": [r[1] for r in o2o],
            "ocel_qualifier": [r[2] or None for r in o2o],
        },
        schema={"ocel_source_id": pl.Utf8, "ocel_target_id": pl.Utf8, "ocel_qualifier": pl.Utf8},
    )
    known = set(obj.get_column("ocel_id").to_list())
    missing = [o for o in rel.get_column("ocel_object_id").unique().to_list() if o not in known]
    if missing:
        raise EventLogError(
            f"an event refers to object {missing[0]!r}, which the log does not define",
            code="history.ocel.dangling",
            file=source,
        )
    return OcelLog(ev, obj, oattr, rel, oo, event_types, object_types)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _typed(s: pl.Series, ocel_type: str, source: str) -> pl.Series:
    t = ocel_type.lower()
    if t in ("integer", "int"):
        out = s.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    elif t in ("float", "double"):
        out = s.cast(pl.Float64, strict=False)
    elif t == "boolean":
        low = s.str.to_lowercase()
        out = pl.select(
            pl.when(low == "true").then(True).when(low == "false").then(False).otherwise(None)
        ).to_series()
    elif t in ("time", "date", "datetime"):
        return parse_timestamps(s, what=f"attribute {s.name!r}").alias(s.name)
    else:
        return s
    bad = out.is_null() & s.is_not_null()
    if bad.any():
        raise EventLogError(
            f"attribute {s.name!r} value {s[int(bad.arg_max() or 0)]!r} is not a {t}",
            code="history.ocel.value",
            file=source,
        )
    return out.alias(s.name)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_types_of(log: OcelLog) -> dict[str, dict[str, str]]:
    """Declared event types, completed from the frame for types or attributes not declared."""
    out = {k: dict(v) for k, v in log.event_types.items()}
    attr_cols = [c for c in log.events.columns if c not in ("ocel_id", "ocel_type", "ocel_time")]
    for etype in log.events.get_column("ocel_type").unique(maintain_order=True).to_list():
        decl = out.setdefault(etype, {})
        sub = log.events.filter(pl.col("ocel_type") == etype)
        for c in attr_cols:
            if c not in decl and sub.get_column(c).null_count() < sub.height:
                decl[c] = TYPE_OF.get(log.events.schema[c], "string")
    return out


def types_json(types: Mapping[str, Mapping[str, str]], frame: pl.DataFrame) -> list[Any]:
    names = list(types)
    for t in frame.get_column("ocel_type").unique(maintain_order=True).to_list():
        if t not in types:
            names.append(t)
    return [
        {
            "name": n,
            "attributes": [{"name": a, "type": t} for a, t in types.get(n, {}).items()],
        }
        for n in names
    ]
