"""Control charts of a case measure over time: "is this process running stably?"."""

from __future__ import annotations

from typing import Literal

import polars as pl

from liucheng.errors import ValidationError

from ._log import LogLike, as_log
from .kpi import Bucket, KpiSettings, case_measures
from .spc import ControlChart, imr_chart, xbar_r_chart

__all__ = ["measure_chart"]

_NUMERIC = (
    "cycle_time_seconds",
    "working_seconds",
    "waiting_seconds",
    "events",
    "handovers",
    "cost",
    "rework",
    "first_time_right",
    "on_time",
)
_EVERY = {"day": "1d", "week": "1w", "month": "1mo"}


def measure_chart(
    log: LogLike,
    measure: str = "cycle_time_seconds",
    *,
    chart: Literal["imr", "xbar_r"] = "imr",
    bucket: Bucket | str = "week",
    subgroup_size: int = 5,
    settings: KpiSettings | None = None,
) -> ControlChart:
    """A control chart of a case measure, cases ordered by completion.

    ``imr``: one point per time bucket, the bucket's mean of the measure over the cases that
    completed in it. ``xbar_r``: consecutive subgroups of ``subgroup_size`` completed cases
    (an incomplete last subgroup is dropped). Boolean measures (``on_time``, ``rework``) count
    as 0/1, so their means are rates.

    Raises:
        ValidationError: Unknown measure or bucket, or too few points for the chart.
    """
    if measure not in _NUMERIC:
        raise ValidationError(
            f"cannot chart {measure!r}",
            code="analytics.spc.measure",
            hint="one of " + ", ".join(_NUMERIC),
        )
    cases = case_measures(as_log(log), settings).sort("end", maintain_order=True)
    values = cases.select(pl.col("end"), pl.col(measure).cast(pl.Float64).alias("v")).drop_nulls()
    if chart == "imr":
        if bucket not in _EVERY:
            raise ValidationError(
                f"unknown time bucket {bucket!r}",
                code="analytics.kpi.bucket",
                hint="day, week or month",
            )
        per = (
            values.group_by(pl.col("end").dt.truncate(_EVERY[bucket]).alias("bucket"))
            .agg(pl.col("v").mean())
            .sort("bucket")
        )
        fmt = "%Y-%m" if bucket == "month" else "%Y-%m-%d"
        labels = [b.strftime(fmt) for b in per.get_column("bucket").to_list()]
        return imr_chart(per.get_column("v").to_list(), labels)
    if chart == "xbar_r":
        v = values.get_column("v").to_list()
        n = subgroup_size
        groups = [v[i : i + n] for i in range(0, len(v) - n + 1, n)]
        ends = values.get_column("end").to_list()
        labels = [ends[i + n - 1].strftime("%Y-%m-%d") for i in range(0, len(groups) * n, n)]
        return xbar_r_chart(groups, labels)
    raise ValidationError(
        f"unknown chart {chart!r}", code="analytics.spc.chart", hint="imr or xbar_r"
    )
