"""Turn an event-log frame into integer-coded variants (the unit every miner works on).

The frame follows the event-log contract of :func:`liucheng.history.read_log`: columns
``case_id``, ``activity``, ``timestamp``, optional ``lifecycle`` and ``resource``; rows already
ordered within each case. Mining looks at ``complete`` events only (a null lifecycle counts as
complete) unless the caller asks for every event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from .errors import MiningError

__all__ = ["LogInput", "VariantLog", "complete_events", "load_log", "variant_log"]

LogInput = pl.DataFrame | str | Path
"""An event-log frame or the path of a log file (read with ``liucheng.history.read_log``)."""

REQUIRED = ("case_id", "activity")


def load_log(log: LogInput) -> pl.DataFrame:
    """The event-log frame for a frame or a log file path."""
    if isinstance(log, (str, Path)):
        from liucheng.history import read_log

        return read_log(log)
    _check(log)
    return log


def _check(log: pl.DataFrame) -> None:
    if not isinstance(log, pl.DataFrame):
        raise MiningError(
            f"expected a polars DataFrame event log, got {type(log).__name__}",
            code="mining.log.type",
            hint="load the log with liucheng.history.read_log",
        )
    missing = [c for c in REQUIRED if c not in log.columns]
    if missing:
        raise MiningError(
            f"event log lacks column(s) {', '.join(missing)}",
            code="mining.log.columns",
            hint="an event log needs at least case_id and activity columns",
        )


def complete_events(log: pl.DataFrame, lifecycle: str | None = "complete") -> pl.DataFrame:
    """Events whose lifecycle is ``lifecycle`` (null counts as complete); all when ``None``."""
    _check(log)
    if lifecycle is None or "lifecycle" not in log.columns:
        return log
    col = pl.col("lifecycle").str.to_lowercase()
    if lifecycle == "complete":
        return log.filter(col.is_null() | (col == "complete"))
    return log.filter(col == lifecycle.lower())


@dataclass(frozen=True, slots=True)
class VariantLog:
    """A log compressed to its distinct traces.

    Attributes:
        activities: Activity names; an activity's code is its index (sorted by name).
        variants: Distinct traces as tuples of activity codes, most frequent first.
        counts: Number of cases per variant.
        cases: Per variant, the case ids that follow it.
    """

    activities: tuple[str, ...]
    variants: tuple[tuple[int, ...], ...]
    counts: npt.NDArray[np.int64]
    cases: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def n_cases(self) -> int:
        """Number of cases in the log."""
        return int(self.counts.sum())

    def named(self, index: int) -> tuple[str, ...]:
        """Variant ``index`` as activity names."""
        return tuple(self.activities[a] for a in self.variants[index])

    def as_counter(self) -> dict[tuple[str, ...], int]:
        """``{trace of names: count}``."""
        return {self.named(i): int(c) for i, c in enumerate(self.counts)}


def variant_log(
    log: LogInput, *, lifecycle: str | None = "complete", with_cases: bool = True
) -> VariantLog:
    """Compress an event log into integer-coded variants.

    Args:
        log: Event log frame (``case_id``, ``activity``, rows ordered within a case).
        lifecycle: Keep only events with this lifecycle (``None`` keeps all).
        with_cases: Also collect the case ids of each variant.

    Returns:
        The variant log; variants sorted by count (descending), then by first appearance.
    """
    ev = complete_events(load_log(log), lifecycle).select(
        pl.col("case_id").cast(pl.Utf8), pl.col("activity").cast(pl.Utf8)
    )
    if ev.height == 0:
        return VariantLog((), (), np.zeros(0, dtype=np.int64), ())
    if ev["activity"].null_count():
        raise MiningError(
            "event log has events without an activity",
            code="mining.log.null_activity",
            hint="drop or fill events with a null activity before mining",
        )
    activities = tuple(sorted(ev["activity"].unique().to_list()))
    enum = pl.Enum(activities)
    coded = ev.with_columns(pl.col("activity").cast(enum).to_physical().cast(pl.Int32))
    traces = coded.group_by("case_id", maintain_order=True).agg(pl.col("activity"))
    aggs = [pl.len().alias("count")]
    if with_cases:
        aggs.append(pl.col("case_id"))
    grouped = (
        traces.with_row_index("order")
        .group_by("activity", maintain_order=True)
        .agg(*aggs, pl.col("order").min().alias("first"))
        .sort(["count", "first"], descending=[True, False])
    )
    variants = tuple(tuple(v) for v in grouped["activity"].to_list())
    counts = grouped["count"].to_numpy().astype(np.int64)
    cases: tuple[tuple[str, ...], ...] = ()
    if with_cases:
        cases = tuple(tuple(c) for c in grouped["case_id"].to_list())
    return VariantLog(activities, variants, counts, cases)
