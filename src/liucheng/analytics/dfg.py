"""Directly-follows graph (frequency and performance) and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from ._fast import dfg_tables, encoded
from ._log import Lifecycle, LogLike, as_log, filter_lifecycle

__all__ = ["DirectlyFollowsGraph", "directly_follows", "discover_dfg"]


@dataclass(frozen=True)
class DirectlyFollowsGraph:
    """A directly-follows graph.

    Attributes:
        edges: ``source``, ``target``, ``count`` and the time from source to target event in
            seconds: ``mean_seconds`` and, when discovered with ``performance=True``,
            ``median_seconds``, ``min_seconds``, ``max_seconds``; sorted by count
            (descending), then source and target.
        start: ``activity``, ``count``: how many cases start with the activity.
        end: ``activity``, ``count``: how many cases end with the activity.
        activities: ``activity``, ``count``: events per activity.
    """

    edges: pl.DataFrame
    start: pl.DataFrame
    end: pl.DataFrame
    activities: pl.DataFrame

    def to_json(self) -> dict[str, Any]:
        """``{"edges": [{"source", "target", "count", "mean_seconds", ...}], "start", "end"}``."""
        return {
            "edges": self.edges.to_dicts(),
            "start": dict(self.start.iter_rows()),
            "end": dict(self.end.iter_rows()),
        }


def directly_follows(log: pl.DataFrame) -> pl.DataFrame:
    """Every directly-follows pair of a (case-contiguous, ordered) log.

    Returns:
        ``case_id``, ``source``, ``target``, ``seconds`` (target time minus source time) and
        ``source_resource``/``target_resource`` when the log has resources; one row per pair.
    """
    cols = [pl.col("case_id"), pl.col("activity").alias("source"), pl.col("timestamp")]
    has_res = "resource" in log.columns
    if has_res:
        cols.append(pl.col("resource").alias("source_resource"))
    base = log.select(cols)
    nxt = [
        pl.col("case_id").shift(-1).alias("_next_case"),
        pl.col("source").shift(-1).alias("target"),
        pl.col("timestamp").shift(-1).alias("_next_ts"),
    ]
    if has_res:
        nxt.append(pl.col("source_resource").shift(-1).alias("target_resource"))
    pairs = base.with_columns(nxt).filter(pl.col("case_id") == pl.col("_next_case"))
    out = [
        pl.col("case_id"),
        pl.col("source"),
        pl.col("target"),
        ((pl.col("_next_ts") - pl.col("timestamp")).dt.total_microseconds() / 1e6).alias("seconds"),
    ]
    if has_res:
        out += [pl.col("source_resource"), pl.col("target_resource")]
    return pairs.select(out)


def discover_dfg(
    log: LogLike, *, lifecycle: Lifecycle | str = "complete", performance: bool = True
) -> DirectlyFollowsGraph:
    """Discover the directly-follows graph of a log.

    Args:
        log: The event-log frame or a log file path.
        lifecycle: Keep events of this transition (``complete``: null counts as complete) or
            ``all``.
        performance: Also compute median, min and max seconds per edge (count and mean are
            always there).
    """
    enc = encoded(log, lifecycle)
    if enc is not None:
        edges, start, end, acts = dfg_tables(enc, performance)
        return DirectlyFollowsGraph(edges=edges, start=start, end=end, activities=acts)
    return discover_dfg_polars(log, lifecycle=lifecycle, performance=performance)


def discover_dfg_polars(
    log: LogLike, *, lifecycle: Lifecycle | str = "complete", performance: bool = True
) -> DirectlyFollowsGraph:
    """:func:`discover_dfg` in polars only: for logs the encoded path does not take (null case
    ids, activities or timestamps; other time units) and as its reference in tests."""
    frame = filter_lifecycle(as_log(log), lifecycle)
    case = pl.col("case_id")
    ts = pl.col("timestamp")
    base = frame.lazy().select(
        pl.col("activity").alias("source"),
        pl.col("activity").shift(-1).alias("target"),
        ((ts.shift(-1) - ts).dt.total_microseconds() / 1e6).alias("seconds"),
        (case == case.shift(-1)).fill_null(False).alias("_same"),
        (case != case.shift(1)).fill_null(True).alias("_first"),
    )
    stats = [pl.len().cast(pl.Int64).alias("count"), pl.col("seconds").mean().alias("mean_seconds")]
    if performance:
        stats += [
            pl.col("seconds").median().alias("median_seconds"),
            pl.col("seconds").min().alias("min_seconds"),
            pl.col("seconds").max().alias("max_seconds"),
        ]
    edges_q = (
        base.filter(pl.col("_same"))
        .group_by("source", "target")
        .agg(stats)
        .sort(["count", "source", "target"], descending=[True, False, False])
    )

    def counts(q: pl.LazyFrame) -> pl.LazyFrame:
        return (
            q.group_by(pl.col("source").alias("activity"))
            .agg(pl.len().cast(pl.Int64).alias("count"))
            .sort(["count", "activity"], descending=[True, False])
        )

    edges, start, end = pl.collect_all(
        [
            edges_q,
            counts(base.filter(pl.col("_first"))),
            counts(base.filter(~pl.col("_same"))),  # the last event of each case
        ]
    )
    # Every event is either followed (an edge out of it) or ends its case.
    acts = (
        pl.concat(
            [
                edges.select(pl.col("source").alias("activity"), "count"),
                end,
            ]
        )
        .group_by("activity")
        .agg(pl.col("count").sum())
        .sort(["count", "activity"], descending=[True, False])
    )
    return DirectlyFollowsGraph(edges=edges, start=start, end=end, activities=acts)
