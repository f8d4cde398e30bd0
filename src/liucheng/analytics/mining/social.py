"""Social networks from event logs: hand-overs of work and working together."""

from __future__ import annotations

import polars as pl

from ._log import LogInput, complete_events, load_log

__all__ = ["handover_network", "working_together"]


def _events(log: LogInput, lifecycle: str | None) -> pl.DataFrame:
    frame = complete_events(load_log(log), lifecycle)
    if "resource" not in frame.columns:
        return frame.select("case_id", pl.lit(None, dtype=pl.Utf8).alias("resource"))
    return frame.select("case_id", "resource")


def handover_network(
    log: LogInput, *, include_self: bool = False, lifecycle: str | None = "complete"
) -> pl.DataFrame:
    """Who passes work to whom: resource pairs of directly succeeding events in a case.

    Returns:
        ``source``, ``target``, ``count`` (hand-overs), ``cases`` (cases with at least one),
        ``share`` (count / all hand-overs), most frequent first.
    """
    ev = _events(log, lifecycle).with_columns(
        pl.col("resource").shift(1).over("case_id").alias("source")
    )
    pairs = ev.filter(pl.col("source").is_not_null() & pl.col("resource").is_not_null())
    if not include_self:
        pairs = pairs.filter(pl.col("source") != pl.col("resource"))
    out = (
        pairs.group_by("source", pl.col("resource").alias("target"))
        .agg(pl.len().alias("count"), pl.col("case_id").n_unique().alias("cases"))
        .sort(["count", "source", "target"], descending=[True, False, False])
    )
    total = out["count"].sum() if out.height else 0
    return out.with_columns((pl.col("count") / max(total, 1)).alias("share"))


def working_together(log: LogInput, *, lifecycle: str | None = "complete") -> pl.DataFrame:
    """Pairs of resources that work in the same cases (undirected, ``a < b``).

    Returns:
        ``resource_a``, ``resource_b``, ``cases`` (shared cases), most shared first.
    """
    rc = _events(log, lifecycle).drop_nulls("resource").unique(["case_id", "resource"])
    pairs = rc.join(rc, on="case_id", suffix="_b").filter(pl.col("resource") < pl.col("resource_b"))
    return (
        pairs.group_by(pl.col("resource").alias("resource_a"), "resource_b")
        .agg(pl.col("case_id").n_unique().alias("cases"))
        .sort(["cases", "resource_a", "resource_b"], descending=[True, False, False])
    )
