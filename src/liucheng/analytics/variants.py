"""Variants: distinct activity sequences with their case counts and durations."""

from __future__ import annotations

from typing import Any

import polars as pl

from ._fast import encoded, variants_table
from ._log import Lifecycle, LogLike, as_log, filter_lifecycle

__all__ = ["case_table", "variants", "variants_json"]


def case_table(log: pl.DataFrame) -> pl.DataFrame:
    """One row per case: ``case_id``, ``activities`` (list), ``start``, ``end``,
    ``duration_seconds`` and ``events``, in order of first appearance."""
    return log.group_by("case_id", maintain_order=True).agg(
        pl.col("activity").alias("activities"),
        pl.col("timestamp").min().alias("start"),
        pl.col("timestamp").max().alias("end"),
        (
            (pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_microseconds() / 1e6
        ).alias("duration_seconds"),
        pl.len().cast(pl.Int64).alias("events"),
    )


def variants(log: LogLike, *, lifecycle: Lifecycle | str = "complete") -> pl.DataFrame:
    """The variants of a log, most frequent first (ties: first seen first).

    Returns:
        ``variant`` (1-based rank), ``activities`` (list of str), ``count`` (cases), ``share``
        (of all cases) and case duration in seconds: ``mean_seconds``, ``median_seconds``,
        ``min_seconds``, ``max_seconds``.
    """
    enc = encoded(log, lifecycle)
    if enc is not None:
        return variants_table(enc)
    return variants_polars(log, lifecycle=lifecycle)


def variants_polars(log: LogLike, *, lifecycle: Lifecycle | str = "complete") -> pl.DataFrame:
    """:func:`variants` in polars only: for logs the encoded path does not take (null case ids,
    activities or timestamps; other time units) and as its reference in tests."""
    frame = filter_lifecycle(as_log(log), lifecycle)
    ts = pl.col("timestamp")
    case = pl.col("case_id")
    # Cases are contiguous: number the runs instead of hashing every case id.
    cases = (
        frame.lazy()
        .select((case != case.shift(1)).fill_null(True).cum_sum().alias("_run"), "activity", ts)
        .group_by("_run", maintain_order=True)
        .agg(
            pl.col("activity").alias("activities"),
            ((ts.max() - ts.min()).dt.total_microseconds() / 1e6).alias("duration_seconds"),
        )
        .drop("_run")
    )
    out = (
        cases.with_row_index("_first")
        .group_by("activities")
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("_first").min(),
            pl.col("duration_seconds").mean().alias("mean_seconds"),
            pl.col("duration_seconds").median().alias("median_seconds"),
            pl.col("duration_seconds").min().alias("min_seconds"),
            pl.col("duration_seconds").max().alias("max_seconds"),
        )
        .sort(["count", "_first"], descending=[True, False])
        .drop("_first")
        .with_columns((pl.col("count") / pl.col("count").sum()).alias("share"))
        .with_row_index("variant", offset=1)
        .with_columns(pl.col("variant").cast(pl.Int64))
        .collect()
    )
    return out


def variants_json(frame: pl.DataFrame) -> dict[str, Any]:
    """``{"variants": [{"activities": [...], "count", "mean_seconds", ...}]}``."""
    return {"variants": frame.drop("variant").to_dicts()}
