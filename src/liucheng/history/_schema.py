"""The event-log frame shared by every reader and writer: column names, mapping, ordering.

Every importer builds columns and hands them to :func:`finalize`, which types the core columns,
adds ``event_index`` and sorts the rows the one way the rest of Liucheng relies on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from liucheng.errors import ValidationError

__all__ = [
    "ACTIVITY",
    "CASE_ID",
    "CORE_COLUMNS",
    "EVENT_INDEX",
    "LIFECYCLE",
    "RESOURCE",
    "TIMESTAMP",
    "UTC_DATETIME",
    "ColumnMapping",
    "EventLogError",
    "finalize",
    "parse_timestamps",
]

CASE_ID = "case_id"
ACTIVITY = "activity"
TIMESTAMP = "timestamp"
LIFECYCLE = "lifecycle"
RESOURCE = "resource"
EVENT_INDEX = "event_index"
CORE_COLUMNS = (CASE_ID, ACTIVITY, TIMESTAMP, LIFECYCLE, RESOURCE, EVENT_INDEX)
UTC_DATETIME = pl.Datetime("us", "UTC")

# Tried in order; each one fills only rows the previous ones left null.  ``%#z`` accepts
# ``+01:00``, ``+0100`` and ``Z``.
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


class EventLogError(ValidationError):
    """An event-log file that cannot be read or written (bad XML, missing column, bad value)."""

    default_code = "history.log.invalid"


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which source columns (CSV, Parquet) hold the event-log fields.

    ``None`` means "detect": the usual names (``case_id``, ``case:concept:name``, ``Case ID``,
    ``concept:name``, ``Activity``, ``time:timestamp``, ``Timestamp`` ...) are tried in turn.

    Attributes:
        case: Column with the case identifier.
        activity: Column with the activity name.
        timestamp: Column with the event time (completion time for lifecycle-less logs).
        timestamp_format: strftime-style format of ``timestamp`` (polars/chrono syntax);
            ``None`` tries ISO 8601 variants. Naive times are taken as UTC.
        lifecycle: Column with the lifecycle transition (``start``/``complete`` ...).
        resource: Column with the performer.
        cost: Column with a per-event cost; renamed to ``cost:total`` (XES cost extension).
        attributes: Extra columns to keep, as ``{source: target}``; ``None`` keeps every other
            column under its own name.
    """

    case: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    timestamp_format: str | None = None
    lifecycle: str | None = None
    resource: str | None = None
    cost: str | None = None
    attributes: Mapping[str, str] | None = field(default=None)


def parse_timestamps(
    series: pl.Series, fmt: str | None = None, *, what: str = "timestamp"
) -> pl.Series:
    """Parse text timestamps to ``Datetime("us", "UTC")``; naive values are taken as UTC.

    Args:
        series: The text values (nulls stay null).
        fmt: A polars/chrono format; ``None`` tries ISO 8601 variants.
        what: Name used in the error message.

    Raises:
        EventLogError: A non-null value matched no format (``details["row"]`` is its position).
    """
    if series.dtype == UTC_DATETIME:
        return series
    if isinstance(series.dtype, pl.Datetime):
        if series.dtype.time_zone is None:
            return series.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if series.dtype == pl.Date:
        return series.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    text = series.cast(pl.Utf8).str.strip_chars()
    if fmt is not None:
        aware = "%z" in fmt or "%#z" in fmt or "%:z" in fmt or "%Z" in fmt
        if aware:
            parsed = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        else:
            parsed = text.str.to_datetime(fmt, strict=False, time_unit="us").dt.replace_time_zone(
                "UTC"
            )
    else:
        parsed = pl.Series(series.name, [None] * len(text), dtype=UTC_DATETIME)
        for aware_fmt in _AWARE_FORMATS:
            if parsed.null_count() == text.null_count():
                break
            parsed = parsed.fill_null(
                text.str.to_datetime(aware_fmt, strict=False, time_unit="us", time_zone="UTC")
            )
        for naive_fmt in _NAIVE_FORMATS:
            if parsed.null_count() == text.null_count():
                break
            parsed = parsed.fill_null(
                text.str.to_datetime(naive_fmt, strict=False, time_unit="us").dt.replace_time_zone(
                    "UTC"
                )
            )
    bad = parsed.is_null() & text.is_not_null() & (text != "")
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise EventLogError(
            f"{what} value {text[row]!r} is not a date-time",
            hint="use ISO 8601 (2024-01-31T12:00:00+01:00) or pass a timestamp format",
            details={"row": row, "value": text[row]},
        )
    return parsed.alias(series.name)


def finalize(
    frame: pl.DataFrame,
    *,
    case_order: pl.Series | None = None,
    drop: Iterable[str] = (),
) -> pl.DataFrame:
    """Give a raw frame the event-log shape: core columns typed and first, rows in log order.

    Args:
        frame: Columns ``case_id``, ``activity``, ``timestamp`` (already UTC datetimes) and
            optionally ``lifecycle``, ``resource``, ``event_index`` and attribute columns.
        case_order: Per-row rank of the row's case in the source; default: order of the case's
            first appearance.
        drop: Helper columns to remove.
    """
    n = frame.height
    cols = frame.columns
    exprs: list[pl.Expr] = [
        pl.col(CASE_ID).cast(pl.Utf8),
        pl.col(ACTIVITY).cast(pl.Utf8),
        pl.col(TIMESTAMP).cast(UTC_DATETIME)
        if TIMESTAMP in cols
        else pl.lit(None, dtype=UTC_DATETIME).alias(TIMESTAMP),
        pl.col(LIFECYCLE).cast(pl.Utf8).str.to_lowercase()
        if LIFECYCLE in cols
        else pl.lit(None, dtype=pl.Utf8).alias(LIFECYCLE),
        pl.col(RESOURCE).cast(pl.Utf8)
        if RESOURCE in cols
        else pl.lit(None, dtype=pl.Utf8).alias(RESOURCE),
        pl.col(EVENT_INDEX).cast(pl.Int64)
        if EVENT_INDEX in cols
        else pl.int_range(0, n, dtype=pl.Int64).alias(EVENT_INDEX),
    ]
    skip = set(CORE_COLUMNS) | set(drop) | {"_case_order"}
    rest = [c for c in cols if c not in skip]
    out = frame.select([*exprs, *[pl.col(c) for c in rest]])
    if case_order is None:
        first = out.select(pl.col(EVENT_INDEX).min().over(CASE_ID).alias("_case_order")).get_column(
            "_case_order"
        )
    else:
        first = case_order
    out = out.with_columns(first.alias("_case_order"))
    out = out.sort(["_case_order", TIMESTAMP, EVENT_INDEX], nulls_last=True, maintain_order=True)
    return out.drop("_case_order")
