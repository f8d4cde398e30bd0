"""Event-log filters (all vectorised polars; each returns a frame with the same columns).

Case-level filters keep or drop whole cases; event-level filters keep or drop single events.
Variants are computed over ``complete`` events (null lifecycle counts as complete).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import polars as pl

from ._log import LogInput, complete_events, load_log
from .errors import MiningError

__all__ = [
    "filter_activities",
    "filter_case_attribute",
    "filter_case_performance",
    "filter_end_activities",
    "filter_event_attribute",
    "filter_start_activities",
    "filter_time_range",
    "filter_variants_coverage",
    "filter_variants_top",
]

TimeMode = Literal["contained", "intersecting", "started", "completed", "events"]


def _keep_cases(frame: pl.DataFrame, cases: pl.Series, keep: bool = True) -> pl.DataFrame:
    mask = pl.col("case_id").is_in(cases.implode())
    return frame.filter(mask if keep else ~mask)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise MiningError(
                f"not an ISO date/time: {value!r}",
                code="mining.filter.time",
                hint="use e.g. 2024-01-31 or 2024-01-31T12:00:00+00:00",
            ) from exc
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def filter_time_range(
    log: LogInput, start: datetime | str, end: datetime | str, mode: TimeMode = "contained"
) -> pl.DataFrame:
    """Keep what lies in ``[start, end]``.

    Modes: ``contained`` (cases entirely inside), ``intersecting`` (cases overlapping),
    ``started`` (cases starting inside), ``completed`` (cases ending inside), ``events``
    (only the events inside).
    """
    frame = load_log(log)
    t0, t1 = _utc(start), _utc(end)
    ts = pl.col("timestamp")
    if mode == "events":
        return frame.filter(ts.is_between(t0, t1))
    spans = frame.group_by("case_id").agg(ts.min().alias("first"), ts.max().alias("last"))
    first, last = pl.col("first"), pl.col("last")
    cond = {
        "contained": (first >= t0) & (last <= t1),
        "intersecting": (first <= t1) & (last >= t0),
        "started": first.is_between(t0, t1),
        "completed": last.is_between(t0, t1),
    }.get(mode)
    if cond is None:
        raise MiningError(f"unknown time filter mode {mode!r}", code="mining.filter.mode")
    return _keep_cases(frame, spans.filter(cond)["case_id"])


def _case_variants(frame: pl.DataFrame, lifecycle: str | None) -> pl.DataFrame:
    return (
        complete_events(frame, lifecycle)
        .group_by("case_id", maintain_order=True)
        .agg(pl.col("activity").alias("variant"))
    )


def _variant_counts(cv: pl.DataFrame) -> pl.DataFrame:
    return (
        cv.with_row_index("_order")
        .group_by("variant", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col("_order").min().alias("_first"))
        .sort(["count", "_first"], descending=[True, False])
    )


def filter_variants_top(
    log: LogInput, k: int, *, lifecycle: str | None = "complete"
) -> pl.DataFrame:
    """Keep the cases of the ``k`` most frequent variants (ties by first appearance)."""
    if k < 0:
        raise MiningError("k must not be negative", code="mining.filter.k")
    frame = load_log(log)
    cv = _case_variants(frame, lifecycle)
    top = _variant_counts(cv).head(k).select("variant")
    cases = cv.join(top, on="variant", how="semi")["case_id"]
    return _keep_cases(frame, cases)


def filter_variants_coverage(
    log: LogInput, coverage: float, *, lifecycle: str | None = "complete"
) -> pl.DataFrame:
    """Keep the most frequent variants until they cover at least ``coverage`` of the cases."""
    if not 0.0 <= coverage <= 1.0:
        raise MiningError("coverage must be between 0 and 1", code="mining.filter.coverage")
    frame = load_log(log)
    cv = _case_variants(frame, lifecycle)
    vc = _variant_counts(cv)
    total = max(cv.height, 1)
    before = (pl.col("count").cum_sum() - pl.col("count")) / total
    keep = vc.filter(before < coverage).select("variant")
    cases = cv.join(keep, on="variant", how="semi")["case_id"]
    return _keep_cases(frame, cases)


def _values(values: Iterable[Any]) -> list[Any]:
    return list(values) if not isinstance(values, str) else [values]


def _is_in(frame: pl.DataFrame, column: str, values: Iterable[Any]) -> pl.Expr:
    """``column`` in ``values``, with the values cast to the column's type."""
    dtype = frame.schema[column]
    try:
        wanted = pl.Series(_values(values)).cast(dtype, strict=False)
    except (pl.exceptions.PolarsError, TypeError) as exc:
        raise MiningError(
            f"values do not fit column {column!r} of type {dtype}",
            code="mining.filter.values",
        ) from exc
    return pl.col(column).is_in(wanted.drop_nulls().implode())


def _column(frame: pl.DataFrame, column: str) -> None:
    if column not in frame.columns:
        raise MiningError(
            f"the log has no column {column!r}",
            code="mining.filter.column",
            hint="case attributes are named case:<key>",
        )


def filter_case_attribute(
    log: LogInput, column: str, values: Iterable[Any], *, keep: bool = True
) -> pl.DataFrame:
    """Keep (or drop) cases whose case attribute ``column`` (e.g. ``case:channel``) is in values."""
    frame = load_log(log)
    _column(frame, column)
    hit = frame.filter(_is_in(frame, column, values))["case_id"].unique()
    return _keep_cases(frame, hit, keep)


def filter_event_attribute(
    log: LogInput,
    column: str,
    values: Iterable[Any],
    *,
    keep: bool = True,
    level: Literal["case", "event"] = "case",
) -> pl.DataFrame:
    """Filter on an event attribute.

    With ``level="case"`` keep (or drop) the cases with at least one matching event; with
    ``level="event"`` keep (or drop) the matching events only.
    """
    frame = load_log(log)
    _column(frame, column)
    match = _is_in(frame, column, values)
    if level == "event":
        return frame.filter(match if keep else ~match)
    return _keep_cases(frame, frame.filter(match)["case_id"].unique(), keep)


def filter_activities(
    log: LogInput, activities: Iterable[str], *, keep: bool = True
) -> pl.DataFrame:
    """Keep (or drop) the events of the given activities."""
    return filter_event_attribute(log, "activity", activities, keep=keep, level="event")


def _boundary(
    log: LogInput, activities: Iterable[str], first: bool, lifecycle: str | None
) -> pl.DataFrame:
    frame = load_log(log)
    ev = complete_events(frame, lifecycle)
    pick = pl.col("activity").first() if first else pl.col("activity").last()
    bounds = ev.group_by("case_id", maintain_order=True).agg(pick.alias("a"))
    cases = bounds.filter(pl.col("a").is_in(_values(activities)))["case_id"]
    return _keep_cases(frame, cases)


def filter_start_activities(
    log: LogInput, activities: Iterable[str], *, lifecycle: str | None = "complete"
) -> pl.DataFrame:
    """Keep the cases that start with one of ``activities``."""
    return _boundary(log, activities, True, lifecycle)


def filter_end_activities(
    log: LogInput, activities: Iterable[str], *, lifecycle: str | None = "complete"
) -> pl.DataFrame:
    """Keep the cases that end with one of ``activities``."""
    return _boundary(log, activities, False, lifecycle)


def filter_case_performance(
    log: LogInput, min_seconds: float = 0.0, max_seconds: float = float("inf")
) -> pl.DataFrame:
    """Keep the cases whose duration (first to last event) lies in ``[min, max]`` seconds."""
    frame = load_log(log)
    ts = pl.col("timestamp")
    dur = frame.group_by("case_id").agg(
        ((ts.max() - ts.min()).dt.total_microseconds() / 1e6).alias("d")
    )
    cases = dur.filter((pl.col("d") >= min_seconds) & (pl.col("d") <= max_seconds))["case_id"]
    return _keep_cases(frame, cases)
