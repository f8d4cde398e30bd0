"""KPI definitions as data: a YAML file with settings, built-in measures and custom FEEL KPIs.

Example::

    sla: 30d                    # target cycle time: seconds or <n>s/m/h/d/w
    bucket: week                # day | week | month
    measures: [cases, cycle_time_seconds_p90, on_time_rate, cost_per_case]   # default: all
    roles: {Pete: clerk, Sara: manager}
    costs:
      default_rate: 40          # per hour
      resources: {Sara: 90}
      activities: {decide: 15}  # fixed cost per instance
    kpis:
      - name: large_loans
        expression: AMOUNT_REQ > 10000 and cycle_time_seconds > 86400
        aggregate: mean         # mean|sum|min|max|median|count (count: cases where true)
      - name: median_cycle_days
        expression: cycle_time_seconds / 86400
        aggregate: median

A custom KPI's FEEL expression is evaluated once per case over a context holding the case
measures of :func:`~liucheng.analytics.kpi.case_measures` (``cycle_time_seconds``, ``cost``,
``rework`` ...) and the case attributes without their ``case:`` prefix (``:`` becomes ``_``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from liucheng.errors import LiuchengError, ValidationError

from ._log import LogLike, as_log
from .kpi import Bucket, CostModel, KpiSettings, case_measures, kpi_summary

__all__ = [
    "BUILTIN_MEASURES",
    "CustomKpi",
    "KpiFile",
    "evaluate_custom",
    "kpi_report",
    "load_kpi_file",
    "parse_duration",
]

_AGGREGATES = ("mean", "sum", "min", "max", "median", "count")
#: The built-in KPIs of :func:`~liucheng.analytics.kpi.kpi_summary` a KPI file may select.
BUILTIN_MEASURES = (
    "cases",
    "cycle_time_seconds_mean",
    "cycle_time_seconds_min",
    "cycle_time_seconds_max",
    "cycle_time_seconds_std",
    "cycle_time_seconds_p50",
    "cycle_time_seconds_p90",
    "cycle_time_seconds_p95",
    "working_seconds_mean",
    "waiting_seconds_mean",
    "flow_efficiency",
    "rework_rate",
    "first_time_right_rate",
    "handovers_per_case",
    "cost_per_case",
    "events_per_case",
    "on_time_rate",
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class CustomKpi:
    """A KPI defined as an aggregate of a FEEL expression evaluated per case."""

    name: str
    expression: str
    aggregate: str = "mean"


@dataclass(frozen=True)
class KpiFile:
    """A parsed KPI file: the settings for built-in KPIs and the custom ones."""

    settings: KpiSettings = field(default_factory=KpiSettings)
    bucket: Bucket = "week"
    kpis: tuple[CustomKpi, ...] = ()
    measures: tuple[str, ...] = ()


def parse_duration(value: Any, *, where: str = "duration") -> float:
    """Seconds from a number or text like ``90``, ``15m``, ``4h``, ``30d``, ``2w``."""
    if isinstance(value, bool):
        raise ValidationError(f"{where}: {value!r} is not a duration", code="analytics.kpi.file")
    if isinstance(value, int | float):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValidationError(
            f"{where}: {value!r} is not a duration",
            code="analytics.kpi.file",
            hint="seconds, or a number with s, m, h, d or w (e.g. 30d)",
        )
    return float(m.group(1)) * _UNIT[m.group(2)]


def load_kpi_file(path: str | Path) -> KpiFile:
    """Read a KPI YAML file.

    Raises:
        ValidationError: The file is not valid YAML or does not have the documented shape.
    """
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ValidationError(f"cannot read KPI file: {exc}", file=str(p)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValidationError(
            f"KPI file is not valid YAML: {getattr(exc, 'problem', exc)}",
            code="analytics.kpi.file",
            file=str(p),
            line=(mark.line + 1) if mark is not None else None,
        ) from None
    try:
        return _parse(doc)
    except ValidationError as exc:
        exc.file = str(p)
        raise


def _parse(doc: Any) -> KpiFile:
    def bad(msg: str) -> ValidationError:
        return ValidationError(msg, code="analytics.kpi.file")

    if not isinstance(doc, Mapping):
        raise bad("a KPI file is a mapping (sla, bucket, roles, costs, kpis)")
    unknown = set(doc) - {"sla", "bucket", "roles", "costs", "kpis", "measures"}
    if unknown:
        raise bad(f"unknown key(s) in KPI file: {', '.join(sorted(map(str, unknown)))}")
    sla = parse_duration(doc["sla"], where="sla") if doc.get("sla") is not None else None
    bucket = doc.get("bucket", "week")
    if bucket not in ("day", "week", "month"):
        raise bad(f"bucket must be day, week or month, not {bucket!r}")
    roles = doc.get("roles") or {}
    if not isinstance(roles, Mapping):
        raise bad("roles is a mapping of resource to role")
    costs = None
    if doc.get("costs") is not None:
        c = doc["costs"]
        if not isinstance(c, Mapping):
            raise bad("costs is a mapping (default_rate, resources, activities)")
        try:
            costs = CostModel(
                resource_rates={str(k): float(v) for k, v in (c.get("resources") or {}).items()},
                activity_costs={str(k): float(v) for k, v in (c.get("activities") or {}).items()},
                default_rate=float(c.get("default_rate", 0.0)),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise bad(f"costs must be numbers: {exc}") from None
    kpis: list[CustomKpi] = []
    for i, item in enumerate(doc.get("kpis") or []):
        if not isinstance(item, Mapping) or "name" not in item or "expression" not in item:
            raise bad(f"kpis[{i}] needs a name and an expression")
        agg = str(item.get("aggregate", "mean"))
        if agg not in _AGGREGATES:
            raise bad(f"kpis[{i}] aggregate must be one of {', '.join(_AGGREGATES)}")
        kpis.append(CustomKpi(str(item["name"]), str(item["expression"]), agg))
    measures = doc.get("measures") or []
    if not isinstance(measures, list):
        raise bad("measures is a list of built-in KPI names")
    wrong = [str(m) for m in measures if m not in BUILTIN_MEASURES]
    if wrong:
        raise bad(f"unknown measure(s) {', '.join(wrong)}; built-in: {', '.join(BUILTIN_MEASURES)}")
    settings = KpiSettings(
        sla_seconds=sla, costs=costs, roles={str(k): str(v) for k, v in roles.items()}
    )
    return KpiFile(
        settings=settings,
        bucket=bucket,
        kpis=tuple(kpis),
        measures=tuple(str(m) for m in measures),
    )


def _feel_name(column: str) -> str:
    name = column[5:] if column.startswith("case:") else column
    return name.replace(":", "_")


def _plain(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | Decimal):
        f = float(value)
        return None if math.isnan(f) else f
    return None


def evaluate_custom(
    log: LogLike, kpis: tuple[CustomKpi, ...] | list[CustomKpi], settings: KpiSettings | None = None
) -> dict[str, float | None]:
    """Evaluate custom KPIs: each FEEL expression per case, then its aggregate over cases.

    Cases where the expression gives null (or a non-number) are left out of the aggregate.

    Raises:
        ValidationError: An expression does not compile (names the KPI).
    """
    if not kpis:
        return {}
    from liucheng.feel import compile_expression

    cases = case_measures(as_log(log), settings)
    names = {c: _feel_name(c) for c in cases.columns}
    rows = [{names[k]: v for k, v in row.items()} for row in cases.iter_rows(named=True)]
    out: dict[str, float | None] = {}
    for kpi in kpis:
        try:
            expr = compile_expression(kpi.expression, source=f"kpi {kpi.name}")
        except LiuchengError as exc:
            raise ValidationError(
                f"KPI {kpi.name!r}: {exc.message}", code="analytics.kpi.expression"
            ) from None
        values: list[float] = []
        for ctx in rows:
            try:
                v = _plain(expr.evaluate(ctx))
            except LiuchengError:
                v = None
            if v is not None:
                values.append(v)
        out[kpi.name] = _aggregate(values, kpi.aggregate)
    return out


def _aggregate(values: list[float], how: str) -> float | None:
    if how == "count":
        return float(sum(1 for v in values if v))
    if not values:
        return None
    s = pl.Series(values, dtype=pl.Float64)
    result: Any = {
        "mean": s.mean,
        "sum": s.sum,
        "min": s.min,
        "max": s.max,
        "median": s.median,
    }[how]()
    return None if result is None else float(result)


def kpi_report(log: LogLike, kpi_file: KpiFile | None = None) -> dict[str, Any]:
    """Built-in summary KPIs plus the custom ones of ``kpi_file`` as one JSON-ready mapping."""
    f = kpi_file or KpiFile()
    frame = as_log(log)
    out = kpi_summary(frame, f.settings)
    if f.measures:
        out = {k: v for k, v in out.items() if k in f.measures}
    out.update(evaluate_custom(frame, f.kpis, f.settings))
    return out
