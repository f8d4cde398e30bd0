"""Bottleneck analysis: where cases wait, which hand-overs are slow, which resources are loaded.

All computations are vectorised polars expressions over the event-log frame. An *activity
instance* is a ``complete`` event, paired with the matching ``start`` event of the same activity
in the same case when the log records lifecycle starts (n-th start with n-th complete). Its
*waiting time* runs from the completion of the previous activity instance in the case to its own
start (to its completion when there is no start event: then waiting includes the work); its
*service time* runs from start to complete.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from ._log import LogInput, load_log
from .errors import MiningError

__all__ = ["activity_instances", "activity_waiting", "handover_durations", "resource_workload"]

_SECONDS = 1_000_000.0  # polars durations in microseconds


def _need_time(log: pl.DataFrame) -> None:
    if "timestamp" not in log.columns:
        raise MiningError(
            "bottleneck analysis needs a timestamp column",
            code="mining.log.no_timestamp",
            hint="load the log with liucheng.history.read_log",
        )


def activity_instances(log: LogInput) -> pl.DataFrame:
    """One row per activity instance with start, complete, waiting and service seconds.

    Columns: ``case_id``, ``activity``, ``resource``, ``start`` (nullable), ``complete``,
    ``waiting_s`` (null for a case's first instance), ``service_s`` (null without start), and
    ``prev_activity``/``prev_resource`` of the previous instance in the case.
    """
    frame = load_log(log)
    _need_time(frame)
    lc = (
        pl.col("lifecycle").str.to_lowercase().fill_null("complete")
        if "lifecycle" in frame.columns
        else pl.lit("complete")
    )
    res = pl.col("resource") if "resource" in frame.columns else pl.lit(None, dtype=pl.Utf8)
    ev = frame.select(
        pl.col("case_id"),
        pl.col("activity"),
        pl.col("timestamp"),
        res.alias("resource"),
        lc.alias("lc"),
        pl.int_range(pl.len()).alias("_row"),
    )
    occ = pl.col("_row").rank("ordinal").over(["case_id", "activity", "lc"]).alias("_occ")
    complete = ev.filter(pl.col("lc") == "complete").with_columns(occ)
    start = (
        ev.filter(pl.col("lc") == "start")
        .with_columns(occ)
        .select("case_id", "activity", "_occ", pl.col("timestamp").alias("start"))
    )
    inst = (
        complete.join(start, on=["case_id", "activity", "_occ"], how="left")
        .rename({"timestamp": "complete"})
        .sort("_row")
    )
    begin = pl.coalesce("start", "complete")
    prev = pl.col("complete").shift(1).over("case_id", order_by="_row")
    return inst.select(
        "case_id",
        "activity",
        "resource",
        "start",
        "complete",
        ((begin - prev).dt.total_microseconds() / _SECONDS).alias("waiting_s"),
        ((pl.col("complete") - pl.col("start")).dt.total_microseconds() / _SECONDS).alias(
            "service_s"
        ),
        pl.col("activity").shift(1).over("case_id", order_by="_row").alias("prev_activity"),
        pl.col("resource").shift(1).over("case_id", order_by="_row").alias("prev_resource"),
    )


def activity_waiting(log: LogInput) -> pl.DataFrame:
    """Waiting and service time per activity, the activity where cases wait longest first.

    Columns: ``activity``, ``count``, ``total_waiting_s``, ``mean_waiting_s``,
    ``median_waiting_s``, ``p90_waiting_s``, ``max_waiting_s``, ``mean_service_s``.
    """
    inst = activity_instances(log)
    w = pl.col("waiting_s")
    return (
        inst.group_by("activity")
        .agg(
            pl.len().alias("count"),
            w.sum().alias("total_waiting_s"),
            w.mean().alias("mean_waiting_s"),
            w.median().alias("median_waiting_s"),
            w.quantile(0.9, "nearest").alias("p90_waiting_s"),
            w.max().alias("max_waiting_s"),
            pl.col("service_s").mean().alias("mean_service_s"),
        )
        .sort(["total_waiting_s", "activity"], descending=[True, False], nulls_last=True)
    )


def handover_durations(
    log: LogInput, by: Literal["resource", "activity"] = "resource", *, include_self: bool = False
) -> pl.DataFrame:
    """Time between one activity instance's completion and the next one's start, per pair.

    Args:
        log: Event log.
        by: Pair resources (who hands over to whom) or activities.
        include_self: Also count pairs where the resource (activity) stays the same.

    Returns:
        ``source``, ``target``, ``count``, ``mean_s``, ``median_s``, ``max_s``, slowest first.
    """
    if by not in ("resource", "activity"):
        raise MiningError(f"unknown grouping {by!r}", code="mining.bottleneck.by")
    inst = activity_instances(log)
    src, tgt = ("prev_resource", "resource") if by == "resource" else ("prev_activity", "activity")
    pairs = inst.filter(pl.col(src).is_not_null() & pl.col(tgt).is_not_null())
    if not include_self:
        pairs = pairs.filter(pl.col(src) != pl.col(tgt))
    w = pl.col("waiting_s")
    return (
        pairs.group_by(pl.col(src).alias("source"), pl.col(tgt).alias("target"))
        .agg(
            pl.len().alias("count"),
            w.mean().alias("mean_s"),
            w.median().alias("median_s"),
            w.max().alias("max_s"),
        )
        .sort(["mean_s", "source", "target"], descending=[True, False, False], nulls_last=True)
    )


def resource_workload(log: LogInput, every: str = "1w") -> pl.DataFrame:
    """Workload and concurrency per resource and time bucket (overloaded resources show here).

    Args:
        log: Event log.
        every: Bucket width as a polars duration string (``1d``, ``1w``, ``1mo``).

    Returns:
        ``resource``, ``bucket``, ``instances`` (completed in the bucket), ``cases``,
        ``busy_s`` (service time completed in the bucket), ``max_concurrent`` (most activity
        instances the resource had open at once, from start/complete pairs; 1 without starts),
        sorted by resource and bucket.
    """
    inst = activity_instances(log).filter(pl.col("resource").is_not_null())
    load = (
        inst.sort("complete")
        .group_by_dynamic("complete", every=every, group_by="resource")
        .agg(
            pl.len().alias("instances"),
            pl.col("case_id").n_unique().alias("cases"),
            pl.col("service_s").sum().alias("busy_s"),
        )
        .rename({"complete": "bucket"})
    )
    # sweep line: +1 at each start, -1 at each complete, per resource
    spans = inst.select(
        "resource",
        pl.coalesce("start", "complete").alias("t0"),
        pl.col("complete").alias("t1"),
    )
    sweep = (
        pl.concat(
            [
                spans.select("resource", pl.col("t0").alias("t"), pl.lit(1).alias("d")),
                spans.select("resource", pl.col("t1").alias("t"), pl.lit(-1).alias("d")),
            ]
        )
        .sort(["resource", "t", "d"], descending=[False, False, True])
        .with_columns(pl.col("d").cum_sum().over("resource").alias("open"))
        .sort("t")
        .group_by_dynamic("t", every=every, group_by="resource")
        .agg(pl.col("open").max().alias("max_concurrent"))
        .rename({"t": "bucket"})
    )
    return (
        load.join(sweep, on=["resource", "bucket"], how="left")
        .with_columns(pl.col("max_concurrent").fill_null(1))
        .sort(["resource", "bucket"])
    )
