"""Accepting an event log as a frame or a path, and the lifecycle filter every analysis uses."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from liucheng.errors import ValidationError
from liucheng.history import ColumnMapping, read_log

__all__ = ["Lifecycle", "LogLike", "as_log", "case_contiguous", "filter_lifecycle"]

LogLike = pl.DataFrame | str | Path
Lifecycle = Literal["complete", "all"]


def as_log(log: LogLike, mapping: ColumnMapping | None = None) -> pl.DataFrame:
    """The event-log frame for ``log``: a path is read with ``read_log``; a frame needs
    ``case_id``, ``activity`` and ``timestamp`` (missing ``lifecycle``, ``resource`` and
    ``event_index`` are added) and gets each case's events adjacent if they are not."""
    if isinstance(log, pl.DataFrame):
        missing = [c for c in ("case_id", "activity", "timestamp") if c not in log.columns]
        if missing:
            raise ValidationError(
                f"the event-log frame lacks column(s) {', '.join(missing)}",
                code="analytics.log.columns",
                hint="build it with liucheng.history.read_log or from_frame",
            )
        extra = []
        if "lifecycle" not in log.columns:
            extra.append(pl.lit(None, dtype=pl.Utf8).alias("lifecycle"))
        if "resource" not in log.columns:
            extra.append(pl.lit(None, dtype=pl.Utf8).alias("resource"))
        if "event_index" not in log.columns:
            extra.append(pl.int_range(pl.len(), dtype=pl.Int64).alias("event_index"))
        return case_contiguous(log.with_columns(extra) if extra else log)
    return read_log(log, mapping=mapping)


def case_contiguous(log: pl.DataFrame) -> pl.DataFrame:
    """``log`` with each case's events adjacent (read_log already guarantees it; cheap check)."""
    if log.height == 0:
        return log
    case = log.get_column("case_id")
    run_start = (case != case.shift(1)).fill_null(True)
    # Contiguous iff no case id starts two runs (hashing only the run starts is cheap).
    starts = case.filter(run_start)
    if starts.n_unique() == starts.len():
        return log
    order = ["_first", "timestamp"]
    if "event_index" in log.columns:
        order.append("event_index")
    out = log.with_row_index("_row").with_columns(
        pl.col("_row").min().over("case_id").alias("_first")
    )
    return out.sort(order, nulls_last=True, maintain_order=True).drop("_row", "_first")


def filter_lifecycle(log: pl.DataFrame, lifecycle: Lifecycle | str = "complete") -> pl.DataFrame:
    """Events of one lifecycle transition (null counts as ``complete``); ``all`` keeps all."""
    if lifecycle == "all" or "lifecycle" not in log.columns:
        return log
    wanted = lifecycle.lower()
    cond = pl.col("lifecycle") == wanted
    if wanted == "complete":
        cond = cond | pl.col("lifecycle").is_null()
    return log.filter(cond)
