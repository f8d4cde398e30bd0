"""OCEL 2.0 object-centric event logs: JSON, XML and SQLite in and out (OCEL 1.0 JSON in).

An :class:`OcelLog` keeps the log as polars frames. :func:`flatten` turns it into the ordinary
event-log frame for one object type (each event once per related object of that type, the object
being the case), the way pm4py's ``ocel_flattening`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from .._schema import (
    ACTIVITY,
    CASE_ID,
    EVENT_INDEX,
    LIFECYCLE,
    RESOURCE,
    TIMESTAMP,
    UTC_DATETIME,
    EventLogError,
    finalize,
)
from ._json import read_json, write_json
from ._model import TYPE_OF, OcelLog, as_text, iso
from ._sqlite import read_sqlite, write_sqlite
from ._xml import read_xml, write_xml

__all__ = ["OcelLog", "flatten", "from_event_log", "read_ocel", "write_ocel"]


def read_ocel(path: str | Path, *, format: str | None = None) -> OcelLog:
    """Read an OCEL log: ``ocel-json`` (2.0, or 1.0 ``jsonocel``), ``ocel-xml`` or ``ocel-sqlite``.

    Raises:
        EventLogError: The file is not valid OCEL (with its line for JSON/XML).
    """
    p = Path(path)
    if not p.is_file():
        raise EventLogError(f"no such OCEL file: {p}", code="history.file.missing", file=str(p))
    fmt = format
    if fmt is None:
        from .._io import detect_format

        fmt = detect_format(p)
    if fmt == "ocel-json":
        return read_json(p)
    if fmt == "ocel-xml":
        return read_xml(p)
    if fmt == "ocel-sqlite":
        return read_sqlite(p)
    raise EventLogError(f"{fmt!r} is not an OCEL format", code="history.format.unknown")


def write_ocel(log: OcelLog, path: str | Path, *, format: str | None = None) -> None:
    """Write an OCEL 2.0 log as JSON, XML or SQLite (by ``format`` or the file extension)."""
    p = Path(path)
    fmt = format
    if fmt is None:
        from .._io import _format_from_name

        fmt = _format_from_name(p)
    if fmt == "ocel-json":
        write_json(log, p)
    elif fmt == "ocel-xml":
        write_xml(log, p)
    elif fmt == "ocel-sqlite":
        write_sqlite(log, p)
    else:
        raise EventLogError(f"{fmt!r} is not an OCEL format", code="history.format.unknown")


def flatten(log: OcelLog, object_type: str | None = None) -> pl.DataFrame:
    """The event-log frame seen from one object type (each object is a case).

    Args:
        log: The OCEL log.
        object_type: Type to flatten on; default: the type related to the most events (ties:
            alphabetical).

    Raises:
        EventLogError: The type is not in the log.
    """
    typed = log.relations.join(
        log.objects.rename({"ocel_id": "ocel_object_id", "ocel_type": "_otype"}),
        on="ocel_object_id",
        how="inner",
    )
    if object_type is None:
        counts = (
            typed.group_by("_otype")
            .agg(pl.col("ocel_event_id").n_unique().alias("n"))
            .sort(["n", "_otype"], descending=[True, False])
        )
        if counts.height == 0:
            raise EventLogError(
                "the OCEL log relates no event to an object", code="history.ocel.empty"
            )
        object_type = str(counts.item(0, "_otype"))
    elif object_type not in set(log.objects.get_column("ocel_type").to_list()):
        raise EventLogError(
            f"object type {object_type!r} is not in the log",
            code="history.ocel.type",
            hint="types are: " + ", ".join(sorted(set(log.objects["ocel_type"].to_list()))),
        )
    events = log.events.with_row_index(EVENT_INDEX).with_columns(pl.col(EVENT_INDEX).cast(pl.Int64))
    pairs = (
        typed.filter(pl.col("_otype") == object_type)
        .select(pl.col("ocel_event_id").alias("ocel_id"), pl.col("ocel_object_id").alias(CASE_ID))
        .unique(maintain_order=True)
    )
    frame = pairs.join(events, on="ocel_id", how="inner").rename(
        {"ocel_type": ACTIVITY, "ocel_time": TIMESTAMP}
    )
    renames = {"org:resource": RESOURCE, "lifecycle:transition": LIFECYCLE}
    frame = frame.rename({k: v for k, v in renames.items() if k in frame.columns})
    order = frame.select(pl.col(EVENT_INDEX).min().over(CASE_ID)).to_series()
    frame = frame.with_columns(pl.col("ocel_id").alias("ocel:eid"))
    attrs = log.object_attributes.filter(
        pl.col("ocel_id").is_in(frame.get_column(CASE_ID).unique().implode())
    ).sort("ocel_time", maintain_order=True)
    if attrs.height:
        wide = attrs.pivot(
            on="ocel_name", index="ocel_id", values="ocel_value", aggregate_function="first"
        )
        wide = wide.rename({c: f"case:{c}" for c in wide.columns if c != "ocel_id"})
        frame = frame.join(
            wide.rename({"ocel_id": CASE_ID}), on=CASE_ID, how="left", maintain_order="left"
        )
    return finalize(frame, case_order=order, drop=("ocel_id",))


def from_event_log(frame: pl.DataFrame) -> OcelLog:
    """An OCEL log from an event-log frame: events, plus one ``case`` object per case.

    Lifecycle and resource become the event attributes ``lifecycle:transition`` and
    ``org:resource``; ``case:<key>`` columns become attributes of the case object.
    """
    case_cols = [c for c in frame.columns if c.startswith("case:")]
    skip = {CASE_ID, ACTIVITY, TIMESTAMP, EVENT_INDEX, "ocel:eid", *case_cols}
    ids = (
        frame.get_column("ocel:eid")
        if "ocel:eid" in frame.columns
        else frame.get_column(EVENT_INDEX).cast(pl.Utf8).alias("ocel_id")
    )
    events = frame.select(
        ids.alias("ocel_id"),
        pl.col(ACTIVITY).alias("ocel_type"),
        pl.col(TIMESTAMP).alias("ocel_time"),
        *[
            pl.col(c).alias({LIFECYCLE: "lifecycle:transition", RESOURCE: "org:resource"}.get(c, c))
            for c in frame.columns
            if c not in skip
        ],
    )
    events = events.unique(subset="ocel_id", keep="first", maintain_order=True)
    all_null = [c for c in events.columns[3:] if events.get_column(c).null_count() == events.height]
    events = events.drop(all_null)
    cases = frame.group_by(CASE_ID, maintain_order=True).agg([pl.col(c).first() for c in case_cols])
    objects = cases.select(pl.col(CASE_ID).alias("ocel_id"), pl.lit("case").alias("ocel_type"))
    oattr_rows: list[tuple[str, str, str | None, Any]] = []
    for row in cases.iter_rows(named=True):
        for c in case_cols:
            if row[c] is not None:
                v = row[c]
                oattr_rows.append(
                    (row[CASE_ID], c[5:], None, iso(v) if isinstance(v, datetime) else as_text(v))
                )
    oattr = pl.DataFrame(
        {
            "ocel_id": [r[0] for r in oattr_rows],
            "ocel_name": [r[1] for r in oattr_rows],
            "ocel_time": [datetime(1970, 1, 1, tzinfo=UTC)] * len(oattr_rows),
            "ocel_value": [r[3] for r in oattr_rows],
        },
        schema={
            "ocel_id": pl.Utf8,
            "ocel_name": pl.Utf8,
            "ocel_time": UTC_DATETIME,
            "ocel_value": pl.Utf8,
        },
    )
    relations = frame.select(
        ids.alias("ocel_event_id"),
        pl.col(CASE_ID).alias("ocel_object_id"),
        pl.lit("case").alias("ocel_qualifier"),
    )
    o2o = pl.DataFrame(
        schema={"ocel_source_id": pl.Utf8, "ocel_target_id": pl.Utf8, "ocel_qualifier": pl.Utf8}
    )
    object_types = {"case": {c[5:]: TYPE_OF.get(frame.schema[c], "string") for c in case_cols}}
    return OcelLog(events, objects, oattr, relations, o2o, {}, object_types)
