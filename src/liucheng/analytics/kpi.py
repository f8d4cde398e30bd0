"""Process KPIs over an event log: per case, per step/person/role/attribute and per time bucket.

Definitions (all times in seconds):

- *activity instance*: a ``start`` event paired first-in-first-out with the next ``complete`` of
  the same activity in the same case; a ``complete`` without a start starts at its
  ``start_timestamp`` column when the log has one (interval logs), else is an instant instance.
- *working time*: complete − start of an instance.
- *waiting time*: instance start − the latest completion before it in the same case (0 for the
  first instance of a case; never negative).
- *cycle time*: last − first event of a case. A case is *on time* when its cycle time is at most
  the SLA target.
- *rework*: an activity completed more than once in a case; *first-time-right* is its negation.
- *hand-over*: two consecutive instances of a case done by different (non-null) resources.
- *cost*: Σ working hours × the resource's hourly rate + the activity's fixed cost.
- *throughput*: cases completed (last event) per bucket; *backlog*: cases started but not yet
  completed at the end of each bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from liucheng.errors import ValidationError

from ._log import LogLike, as_log

__all__ = [
    "Bucket",
    "CostModel",
    "KpiSettings",
    "activity_instances",
    "backlog",
    "case_measures",
    "kpi_by",
    "kpi_summary",
    "throughput",
]

Bucket = Literal["day", "week", "month"]
_EVERY = {"day": "1d", "week": "1w", "month": "1mo"}
_PCTS = (0.5, 0.9, 0.95)


@dataclass(frozen=True)
class CostModel:
    """Hourly cost rates per resource (``default`` for the rest) and fixed costs per activity."""

    resource_rates: Mapping[str, float] = field(default_factory=dict)
    activity_costs: Mapping[str, float] = field(default_factory=dict)
    default_rate: float = 0.0


@dataclass(frozen=True)
class KpiSettings:
    """Everything a KPI computation needs besides the log.

    Attributes:
        sla_seconds: Target cycle time for the on-time rate (``None``: no SLA KPI).
        costs: The cost model (``None``: no cost KPI).
        roles: Resource → role; when empty, the ``org:group`` column (if any) is the role.
    """

    sla_seconds: float | None = None
    costs: CostModel | None = None
    roles: Mapping[str, str] = field(default_factory=dict)


def _seconds(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / 1e6


def activity_instances(log: LogLike, settings: KpiSettings | None = None) -> pl.DataFrame:
    """Activity instances of a log (see the module docstring).

    Returns:
        ``case_id``, ``activity``, ``resource``, ``role``, ``start``, ``end``,
        ``working_seconds``, ``waiting_seconds``, ``repeat`` (the activity was done before in the
        case), ``handover`` (resource differs from the previous instance's) and ``cost``.
    """
    s = settings or KpiSettings()
    frame = as_log(log)
    life = pl.col("lifecycle").fill_null("complete")
    keep = ["case_id", "activity", "timestamp", "resource", "event_index"]
    # pm4py's convention: a start_timestamp column on complete events (interval logs).
    has_start_col = isinstance(frame.schema.get("start_timestamp"), pl.Datetime)
    if has_start_col:
        keep.append("start_timestamp")
    role_src = "org:group" if "org:group" in frame.columns and not s.roles else None
    if role_src:
        keep.append(role_src)
    base = frame.with_columns(life.alias("_life")).select([*keep, "_life"])
    starts = (
        base.filter(pl.col("_life") == "start")
        .with_columns(pl.int_range(pl.len()).over("case_id", "activity").alias("_k"))
        .select("case_id", "activity", "_k", pl.col("timestamp").alias("start"))
    )
    completes = base.filter(pl.col("_life") == "complete").with_columns(
        pl.int_range(pl.len()).over("case_id", "activity").alias("_k")
    )
    inst = completes.join(starts, on=["case_id", "activity", "_k"], how="left")
    if has_start_col:
        inst = inst.with_columns(
            pl.col("start").fill_null(pl.col("start_timestamp").dt.convert_time_zone("UTC"))
        )
    inst = inst.with_columns(
        pl.col("start").fill_null(pl.col("timestamp")),
        pl.col("timestamp").alias("end"),
    )
    inst = inst.sort(["case_id", "start", "event_index"], maintain_order=True)
    prev_end = pl.col("end").cum_max().shift(1).over("case_id")
    if s.roles:
        role = pl.col("resource").replace_strict(dict(s.roles), default=None, return_dtype=pl.Utf8)
    elif role_src:
        role = pl.col(role_src).cast(pl.Utf8)
    else:
        role = pl.lit(None, dtype=pl.Utf8)
    prev_res = pl.col("resource").shift(1).over("case_id")
    inst = inst.with_columns(
        _seconds(pl.col("end") - pl.col("start")).alias("working_seconds"),
        _seconds(pl.col("start") - prev_end)
        .clip(lower_bound=0)
        .fill_null(0.0)
        .alias("waiting_seconds"),
        (pl.int_range(pl.len()).over("case_id", "activity") > 0).alias("repeat"),
        (
            prev_res.is_not_null()
            & pl.col("resource").is_not_null()
            & (prev_res != pl.col("resource"))
        ).alias("handover"),
        role.alias("role"),
    )
    cost = pl.lit(0.0)
    if s.costs is not None:
        rates = {k: float(v) for k, v in s.costs.resource_rates.items()}
        fixed = {k: float(v) for k, v in s.costs.activity_costs.items()}
        rate = pl.col("resource").replace_strict(
            rates, default=s.costs.default_rate, return_dtype=pl.Float64
        )
        fix = pl.col("activity").replace_strict(fixed, default=0.0, return_dtype=pl.Float64)
        cost = pl.col("working_seconds") / 3600.0 * rate + fix
    inst = inst.with_columns(cost.alias("cost"))
    return inst.select(
        "case_id",
        "activity",
        "resource",
        "role",
        "start",
        "end",
        "working_seconds",
        "waiting_seconds",
        "repeat",
        "handover",
        "cost",
    )


def case_measures(log: LogLike, settings: KpiSettings | None = None) -> pl.DataFrame:
    """One row per case with its computed measures and its ``case:`` attributes.

    Returns:
        ``case_id``, ``start``, ``end``, ``cycle_time_seconds``, ``events``,
        ``working_seconds``, ``waiting_seconds``, ``rework`` (bool), ``first_time_right``,
        ``handovers``, ``cost``, ``on_time`` (null without SLA), then the case attributes.
    """
    s = settings or KpiSettings()
    frame = as_log(log)
    inst = activity_instances(frame, s)
    per_inst = inst.group_by("case_id").agg(
        pl.col("working_seconds").sum(),
        pl.col("waiting_seconds").sum(),
        pl.col("repeat").any().alias("rework"),
        pl.col("handover").sum().cast(pl.Int64).alias("handovers"),
        pl.col("cost").sum(),
    )
    case_cols = [c for c in frame.columns if c.startswith("case:")]
    cases = frame.group_by("case_id", maintain_order=True).agg(
        pl.col("timestamp").min().alias("start"),
        pl.col("timestamp").max().alias("end"),
        pl.len().cast(pl.Int64).alias("events"),
        *[pl.col(c).first() for c in case_cols],
    )
    cases = cases.join(per_inst, on="case_id", how="left", maintain_order="left").with_columns(
        _seconds(pl.col("end") - pl.col("start")).alias("cycle_time_seconds"),
        pl.col("working_seconds").fill_null(0.0),
        pl.col("waiting_seconds").fill_null(0.0),
        pl.col("rework").fill_null(False),
        pl.col("handovers").fill_null(0),
        pl.col("cost").fill_null(0.0),
    )
    on_time = (
        (pl.col("cycle_time_seconds") <= s.sla_seconds)
        if s.sla_seconds is not None
        else pl.lit(None, dtype=pl.Boolean)
    )
    cases = cases.with_columns(
        on_time.alias("on_time"), (~pl.col("rework")).alias("first_time_right")
    )
    first = [
        "case_id",
        "start",
        "end",
        "cycle_time_seconds",
        "events",
        "working_seconds",
        "waiting_seconds",
        "rework",
        "first_time_right",
        "handovers",
        "cost",
        "on_time",
    ]
    return cases.select([*first, *case_cols])


def _stats(col: str, prefix: str) -> list[pl.Expr]:
    c = pl.col(col)
    out = [
        c.mean().alias(f"{prefix}_mean"),
        c.min().alias(f"{prefix}_min"),
        c.max().alias(f"{prefix}_max"),
        c.std().alias(f"{prefix}_std"),
    ]
    out += [c.quantile(q, "linear").alias(f"{prefix}_p{round(q * 100)}") for q in _PCTS]
    return out


def _case_aggs(has_sla: bool) -> list[pl.Expr]:
    aggs = [
        pl.len().cast(pl.Int64).alias("cases"),
        *_stats("cycle_time_seconds", "cycle_time_seconds"),
        pl.col("working_seconds").mean().alias("working_seconds_mean"),
        pl.col("waiting_seconds").mean().alias("waiting_seconds_mean"),
        (
            pl.col("working_seconds").sum()
            / (pl.col("working_seconds").sum() + pl.col("waiting_seconds").sum())
        ).alias("flow_efficiency"),
        pl.col("rework").mean().alias("rework_rate"),
        pl.col("first_time_right").mean().alias("first_time_right_rate"),
        pl.col("handovers").mean().alias("handovers_per_case"),
        pl.col("cost").mean().alias("cost_per_case"),
        pl.col("events").mean().alias("events_per_case"),
    ]
    if has_sla:
        aggs.append(pl.col("on_time").mean().alias("on_time_rate"))
    return aggs


def kpi_summary(log: LogLike, settings: KpiSettings | None = None) -> dict[str, Any]:
    """The process-level KPIs of a log as one flat mapping (JSON-ready)."""
    s = settings or KpiSettings()
    cases = case_measures(log, s)
    row = cases.select(_case_aggs(s.sla_seconds is not None)).row(0, named=True)
    return {k: _clean(v) for k, v in row.items()}


def kpi_by(log: LogLike, by: str, settings: KpiSettings | None = None) -> pl.DataFrame:
    """KPIs grouped by ``activity``, ``resource``, ``role`` or a case attribute (``case:X``).

    Step-level groupings (activity/resource/role) aggregate activity instances: ``instances``,
    ``cases``, working and waiting time statistics, ``rework_rate`` (share of instances that
    repeat an activity in their case), ``handover_rate`` and ``cost``. Case attributes group the
    case measures like :func:`kpi_summary`.

    Raises:
        ValidationError: ``by`` is neither a step dimension nor a column of the log.
    """
    s = settings or KpiSettings()
    frame = as_log(log)
    if by in ("activity", "resource", "role"):
        inst = activity_instances(frame, s)
        return (
            inst.group_by(by)
            .agg(
                pl.len().cast(pl.Int64).alias("instances"),
                pl.col("case_id").n_unique().cast(pl.Int64).alias("cases"),
                *_stats("working_seconds", "working_seconds"),
                *_stats("waiting_seconds", "waiting_seconds"),
                pl.col("repeat").mean().alias("rework_rate"),
                pl.col("handover").mean().alias("handover_rate"),
                pl.col("cost").sum().alias("cost"),
            )
            .sort(["instances", by], descending=[True, False], nulls_last=True)
        )
    key = by if by in frame.columns else f"case:{by}"
    if key not in frame.columns:
        raise ValidationError(
            f"cannot group KPIs by {by!r}: no such dimension or column",
            code="analytics.kpi.by",
            hint="use activity, resource, role or a case attribute such as case:channel",
        )
    cases = case_measures(frame, s)
    if key not in cases.columns:
        attr = frame.group_by("case_id", maintain_order=True).agg(pl.col(key).first())
        cases = cases.join(attr, on="case_id", how="left", maintain_order="left")
    return (
        cases.group_by(key)
        .agg(_case_aggs(s.sla_seconds is not None))
        .sort(["cases", key], descending=[True, False], nulls_last=True)
    )


def throughput(log: LogLike, bucket: Bucket | str = "week") -> pl.DataFrame:
    """Cases started and completed per time bucket, with cycle-time mean of completed cases.

    Returns:
        ``bucket`` (bucket start, UTC), ``started``, ``completed``, ``cycle_time_seconds_mean``.
    """
    cases = case_measures(log)
    every = _every(bucket)
    done = (
        cases.with_columns(pl.col("end").dt.truncate(every).alias("bucket"))
        .group_by("bucket")
        .agg(
            pl.len().cast(pl.Int64).alias("completed"),
            pl.col("cycle_time_seconds").mean().alias("cycle_time_seconds_mean"),
        )
    )
    begun = (
        cases.with_columns(pl.col("start").dt.truncate(every).alias("bucket"))
        .group_by("bucket")
        .agg(pl.len().cast(pl.Int64).alias("started"))
    )
    out = (
        _axis(cases, every).join(begun, on="bucket", how="left").join(done, on="bucket", how="left")
    )
    return out.with_columns(
        pl.col("started").fill_null(0), pl.col("completed").fill_null(0)
    ).select("bucket", "started", "completed", "cycle_time_seconds_mean")


def backlog(log: LogLike, bucket: Bucket | str = "week") -> pl.DataFrame:
    """Open cases at the end of each bucket (started at or before, completed after it).

    Returns:
        ``bucket`` (bucket start), ``open`` (cases open at the bucket's end).
    """
    cases = case_measures(log).select("start", "end")
    every = _every(bucket)
    axis = _axis(cases, every).with_columns(pl.col("bucket").dt.offset_by(every).alias("_end"))
    starts = cases.select(pl.col("start").sort()).get_column("start")
    ends = cases.select(pl.col("end").sort()).get_column("end")
    bucket_end = axis.get_column("_end")
    # open(t) = #(start < t) − #(end < t): two sorted searches instead of a cross join.
    started = starts.search_sorted(bucket_end, side="left")
    finished = ends.search_sorted(bucket_end, side="left")
    return axis.select("bucket").with_columns(
        (started.cast(pl.Int64) - finished.cast(pl.Int64)).alias("open")
    )


def _every(bucket: str) -> str:
    try:
        return _EVERY[bucket]
    except KeyError:
        raise ValidationError(
            f"unknown time bucket {bucket!r}",
            code="analytics.kpi.bucket",
            hint="day, week or month",
        ) from None


def _axis(cases: pl.DataFrame, every: str) -> pl.DataFrame:
    lo = cases.get_column("start").min()
    hi = cases.get_column("end").max()
    if lo is None or hi is None:
        return pl.DataFrame({"bucket": []}, schema={"bucket": pl.Datetime("us", "UTC")})
    rng = pl.datetime_range(
        pl.lit(lo).dt.truncate(every), pl.lit(hi).dt.truncate(every), every, eager=True
    )
    return pl.DataFrame({"bucket": rng})


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # noqa: PLR0124 - NaN check
        return None
    return value
