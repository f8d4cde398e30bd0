"""Run a scenario on a BPMN model over replications; KPIs with confidence intervals; event log.

:func:`simulate` is the entry point. Every replication yields scalar measures (cycle time mean
and quantiles, SLA on-time rate, cost, waiting and working time per activity, utilisation and
queue length per pool); :class:`SimulationResult` turns them into a mean and a Student-t
confidence interval over the replications. Only cases arriving after the warm-up and before the
horizon are measured; resources are measured over the same window.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import ScenarioError
from ._prepare import PreparedModel
from .bpmn_sim import ReplicationRun, prepare, run_replication
from .queue import Estimate, estimate
from .scenario import Scenario

if TYPE_CHECKING:
    import polars as pl

    from liucheng.org import Organisation

__all__ = ["HourlySeries", "SimulationResult", "event_log", "replication_measures", "simulate"]


def _time_average(changes: list[tuple[float, int]], a: float, b: float) -> tuple[float, int]:
    """Time-average and maximum of a step function over ``[a, b]``."""
    if b <= a:
        return 0.0, 0
    area = 0.0
    peak = 0
    # each step with the time of the next (the same sums, in the same order, without
    # indexing and max/min calls: this runs over every queue change of a replication)
    following = iter(changes)
    next(following, None)
    for (t, v), (t_next, _) in zip(changes, chain(following, ((math.inf, 0),)), strict=True):
        lo = t if t >= a else a
        hi = t_next if t_next <= b else b
        if hi > lo:
            area += v * (hi - lo)
            peak = max(peak, v)
    return area / (b - a), peak


def replication_measures(run: ReplicationRun, scenario: Scenario) -> dict[str, float]:
    """Scalar measures of one replication (keys like ``cycle_time.mean``)."""
    a, b = run.window
    measured = {c for c, t in run.arrivals.items() if a <= t < b or (a == b == t)}
    out: dict[str, float] = {}
    ends = run.ends
    # in arrival order (not the set's, which changes from process to process with the hash seed)
    cycle = np.asarray(
        [ends[c] - t for c, t in run.arrivals.items() if c in ends and c in measured],
        dtype=float,
    )
    out["cases.arrived"] = float(len(measured))
    out["cases.completed"] = float(len(cycle))
    out["cases.unfinished"] = float(len(measured) - len(cycle))
    if len(cycle):
        out["cycle_time.mean"] = float(cycle.mean())
        out["cycle_time.p50"] = float(np.quantile(cycle, 0.5))
        out["cycle_time.p90"] = float(np.quantile(cycle, 0.9))
        if scenario.sla is not None:
            out["sla.on_time_rate"] = float((cycle <= scenario.sla).mean())
    waiting: dict[str, list[float]] = defaultdict(list)
    working: dict[str, list[float]] = defaultdict(list)
    cost_act: dict[str, float] = defaultdict(float)
    total_cost = 0.0
    for rec in run.activities:
        if rec.case not in measured:
            continue
        key = rec.element_id
        started = rec.started
        if started is not None:
            waiting[key].append(started - rec.enqueued)
            working[key].append(rec.work)
        cost = rec.cost
        cost_act[key] += cost
        total_cost += cost
    for key in sorted(set(waiting) | set(cost_act)):
        out[f"activity.{key}.count"] = float(len(waiting[key]))
        if waiting[key]:
            out[f"activity.{key}.waiting_mean"] = float(np.mean(waiting[key]))
            out[f"activity.{key}.working_mean"] = float(np.mean(working[key]))
        out[f"activity.{key}.cost"] = cost_act[key]
    out["cost.total"] = total_cost
    if measured:
        out["cost.per_case"] = total_cost / len(measured)
    for pool, available in run.available.items():
        busy = run.busy.get(pool, 0.0)
        out[f"resource.{pool}.utilisation"] = busy / available if available > 0 else 0.0
        mean_q, max_q = _time_average(run.queue_changes.get(pool, [(0.0, 0)]), a, b)
        out[f"resource.{pool}.queue_length_mean"] = mean_q
        out[f"resource.{pool}.queue_length_max"] = float(max_q)
        out[f"resource.{pool}.cost"] = run.busy_cost.get(pool, 0.0)
    return out


#: The hourly queue-length series covers at most this many hours (eight weeks) of the window.
HOURLY_POINTS = 24 * 7 * 8


def _hourly_queue(run: ReplicationRun, pool: str, hours: int = HOURLY_POINTS) -> list[float]:
    """Queue length at each whole hour of the window (at most ``hours`` points)."""
    a, b = run.window
    if b < a:
        return []
    changes = run.queue_changes.get(pool, [(0.0, 0)])
    pairs = np.array(changes, dtype=float).reshape(-1, 2)  # (time, length) rows
    times = pairs[:, 0]
    values = pairs[:, 1]
    n = min(int((b - a) // 3600.0) + 1, hours)
    grid = a + 3600.0 * np.arange(n)
    # the last change at or before each hour (0 before the first change)
    index = np.searchsorted(times, grid, side="right") - 1
    out = np.where(index >= 0, values[np.maximum(index, 0)], 0.0)
    return [float(x) for x in out]


class HourlySeries:
    """Per-hour mean and confidence interval of a queue length over replications.

    Replications are added one at a time and only running sums are kept (``3 x`` at most
    :data:`HOURLY_POINTS` numbers per pool), so memory does not grow with replications. Hour
    ``k`` is ``window start + k`` hours; a replication whose window is shorter (no horizon)
    contributes to the hours it covers.
    """

    def __init__(self) -> None:
        self.n = np.zeros(0)
        self.total = np.zeros(0)
        self.squares = np.zeros(0)

    def add(self, values: list[float]) -> None:
        """Add one replication's hourly values."""
        x = np.asarray(values, dtype=float)
        if len(x) > len(self.n):
            grow = len(x) - len(self.n)
            self.n = np.concatenate([self.n, np.zeros(grow)])
            self.total = np.concatenate([self.total, np.zeros(grow)])
            self.squares = np.concatenate([self.squares, np.zeros(grow)])
        k = len(x)
        self.n[:k] += 1
        self.total[:k] += x
        self.squares[:k] += x * x

    def to_dict(self, confidence: float, start: float) -> dict[str, Any]:
        """``{"start_seconds", "step_seconds", "replications", "mean", "low", "high"}``."""
        from scipy import stats

        n = self.n
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, self.total / np.maximum(n, 1), np.nan)
            var = np.where(n > 1, (self.squares - n * mean * mean) / np.maximum(n - 1, 1), np.nan)
            t = np.where(n > 1, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
            half = t * np.sqrt(np.maximum(var, 0.0) / np.maximum(n, 1))

        def listed(a: np.ndarray[Any, Any]) -> list[float | None]:
            return [None if not math.isfinite(v) else round(float(v), 6) for v in a]

        return {
            "start_seconds": start,
            "step_seconds": 3600.0,
            "replications": int(n.max()) if len(n) else 0,
            "mean": listed(mean),
            "low": listed(mean - half),
            "high": listed(mean + half),
        }


@dataclass
class SimulationResult:
    """Replications of a scenario and their KPIs.

    Attributes:
        scenario: The scenario simulated.
        runs: One :class:`ReplicationRun` per replication.
        measures: Measure name -> value per replication.
        cpu_seconds: Processor time the replications took.
        hourly: Pool -> hourly queue length over all replications.
    """

    scenario: Scenario
    runs: list[ReplicationRun]
    measures: dict[str, list[float]] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    hourly: dict[str, HourlySeries] = field(default_factory=dict)

    def estimate(self, name: str) -> Estimate:
        """Mean and confidence interval of a measure over the replications."""
        return estimate(self.measures.get(name, []), self.scenario.confidence)

    def cycle_times(self, replication: int | None = None) -> np.ndarray[Any, Any]:
        """Cycle times (seconds) of the measured, completed cases (all replications pooled)."""
        runs = self.runs if replication is None else [self.runs[replication]]
        values: list[float] = []
        for run in runs:
            a, b = run.window
            values.extend(
                run.ends[c] - t for c, t in run.arrivals.items() if a <= t < b and c in run.ends
            )
        return np.asarray(values, dtype=float)

    def kpis(self) -> dict[str, Any]:
        """All KPIs as a JSON-ready document (each estimate as ``{"mean", "low", "high"}``)."""
        sc = self.scenario
        est = {k: self.estimate(k).to_dict() for k in sorted(self.measures)}
        activities: dict[str, dict[str, Any]] = {}
        resources: dict[str, dict[str, Any]] = {}
        names = self.runs[0].activities if self.runs else []
        label = {r.element_id: r.activity for r in names}
        for key, value in est.items():
            parts = key.split(".")
            if parts[0] == "activity":
                eid, what = ".".join(parts[1:-1]), parts[-1]
                activities.setdefault(eid, {"name": label.get(eid, eid)})[what] = value
            elif parts[0] == "resource":
                pool, what = ".".join(parts[1:-1]), parts[-1]
                resources.setdefault(pool, {})[what] = value
        start = self.runs[0].window[0] if self.runs else 0.0
        for pool, entry in resources.items():
            series = self.hourly.get(pool)
            if series is not None:
                entry["queue_length_hourly"] = series.to_dict(sc.confidence, start)
        truncated = [i for i, r in enumerate(self.runs) if r.truncated]
        cycle = self.cycle_times()
        histogram: dict[str, Any] = {}
        if len(cycle):
            counts, edges = np.histogram(cycle, bins=20)
            histogram = {"edges": edges.tolist(), "counts": counts.tolist()}
        events = sum(r.events for r in self.runs)
        instances = sum(len(r.activities) for r in self.runs)
        return {
            "scenario": sc.name,
            "replications": len(self.runs),
            "confidence": sc.confidence,
            "seed": sc.seed,
            "window_seconds": list(self.runs[0].window) if self.runs else None,
            "cases": {
                k: est[f"cases.{k}"]
                for k in ("arrived", "completed", "unfinished")
                if f"cases.{k}" in est
            },
            "cycle_time": {
                **{
                    k: est[f"cycle_time.{k}"]
                    for k in ("mean", "p50", "p90")
                    if f"cycle_time.{k}" in est
                },
                "histogram": histogram,
            },
            "sla": None
            if sc.sla is None
            else {"target_seconds": sc.sla, "on_time_rate": est.get("sla.on_time_rate")},
            "cost": {"total": est.get("cost.total"), "per_case": est.get("cost.per_case")},
            "activities": activities,
            "resources": resources,
            "limits": {
                "max_events": sc.max_events,
                "max_virtual_time": sc.max_virtual_time,
                "truncated_replications": truncated,
                "reasons": sorted({r.truncated for r in self.runs if r.truncated}),
            },
            "performance": {
                "events": events,
                "executor": self.runs[0].executor if self.runs else None,
                "engine_commands": sum(r.commands for r in self.runs),
                "activity_instances": instances,
                "cpu_seconds": self.cpu_seconds,
                "activity_instances_per_cpu_second": instances / self.cpu_seconds
                if self.cpu_seconds > 0
                else None,
            },
        }

    def event_log(self, replication: int = 0) -> pl.DataFrame:
        """The simulated event log of one replication (the :mod:`liucheng.history` frame)."""
        return event_log(self.runs[replication], self.scenario.start)


def event_log(run: ReplicationRun, start: dt.datetime) -> pl.DataFrame:
    """An event-log frame (``case_id, activity, timestamp, lifecycle, resource, event_index``
    plus ``element_id`` and ``cost:total``) of a replication: a start and a complete (or
    ``ate_abort``) event per activity instance."""
    import polars as pl

    origin = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    # columns built in one pass (a start row, then an end row, per activity instance), sorted
    # once by (case arrival, case, time, creation order)
    arrivals = run.arrivals
    arrival: list[float] = []
    case: list[str] = []
    activity: list[str] = []
    when: list[float] = []
    lifecycle: list[str] = []
    resource: list[str | None] = []
    element: list[str] = []
    cost: list[float | None] = []
    for rec in run.activities:
        at = arrivals.get(rec.case, 0.0)
        if rec.started is not None:
            arrival.append(at)
            case.append(rec.case)
            activity.append(rec.activity)
            when.append(rec.started)
            lifecycle.append("start")
            resource.append(rec.resource)
            element.append(rec.element_id)
            cost.append(None)
        if rec.ended is not None:
            arrival.append(at)
            case.append(rec.case)
            activity.append(rec.activity)
            when.append(rec.ended)
            lifecycle.append("ate_abort" if rec.aborted else "complete")
            resource.append(rec.resource)
            element.append(rec.element_id)
            cost.append(rec.cost)
    n = len(case)
    seconds = np.asarray(when, dtype=float)
    # np.lexsort: the last key is the primary one
    order = np.lexsort(
        (np.arange(n), seconds, np.asarray(case, dtype=object), np.asarray(arrival, dtype=float))
    )
    base = int(origin.timestamp() * 1e6)
    micro = base + np.round(seconds[order] * 1e6).astype(np.int64)

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in order.tolist()]

    return pl.DataFrame(
        {
            "case_id": pl.Series(pick(case), dtype=pl.Utf8),
            "activity": pl.Series(pick(activity), dtype=pl.Utf8),
            "timestamp": pl.Series(micro, dtype=pl.Int64)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC"),
            "lifecycle": pl.Series(pick(lifecycle), dtype=pl.Utf8),
            "resource": pl.Series(pick(resource), dtype=pl.Utf8),
            "event_index": pl.Series(range(n), dtype=pl.Int64),
            "element_id": pl.Series(pick(element), dtype=pl.Utf8),
            "cost:total": pl.Series(pick(cost), dtype=pl.Float64),
        }
    )


def simulate(
    model: bytes | str | Path | PreparedModel,
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    base_dir: Path | None = None,
    executor: str = "auto",
    organisation: Organisation | None = None,
) -> SimulationResult:
    """Simulate ``scenario`` on a BPMN model.

    Args:
        model: BPMN file path or bytes (or a model already prepared for this scenario).
        scenario: The scenario.
        replications: Overrides ``scenario.replications``.
        seed: Overrides ``scenario.seed``; the same seed gives the same result, and two
            scenarios with the same seed share random numbers (common random numbers).
        base_dir: Directory for relative paths in the scenario (replayed arrival logs).
        executor: ``"engine"`` runs every command on the real engine (in its lean in-memory
            mode, :mod:`._lean`); ``"engine-full"`` on the engine with its full per-command
            bookkeeping (state documents; to check the lean mode); ``"compiled"`` on the
            compiled token runner (models of none events, tasks, probability-routed exclusive
            and inclusive gateways, parallel and event-based gateways, embedded subprocesses,
            timer boundary events, intermediate timer, message and signal waits and
            multi-instance tasks of a literal cardinality only; same semantics, same log);
            ``"auto"`` (default) picks
            the compiled runner when the model fits.
        organisation: The organisation for ``scenario.organisation`` (default: load that
            file, relative to ``base_dir``).

    Raises:
        ModelError: The model cannot be read.
        ScenarioError: The scenario does not fit the model.
    """
    prepared = model if isinstance(model, PreparedModel) else prepare(model, scenario)
    n = replications if replications is not None else scenario.replications
    use_seed = seed if seed is not None else scenario.seed
    if n < 1:
        raise ScenarioError(f"replications must be >= 1, got {n}", path="replications")
    if use_seed is not None and use_seed < 0:
        raise ScenarioError(f"the seed must be >= 0, got {use_seed}", path="seed")
    org = None
    if scenario.organisation is not None:
        from ._org_pools import load_org, resolve_org_pools

        org = resolve_org_pools(
            scenario,
            prepared.process_id,
            prepared.names,
            prepared.lanes,
            organisation if organisation is not None else load_org(scenario, base_dir),
        )
    t0 = time.process_time()
    runs: list[ReplicationRun] = []
    hourly: dict[str, HourlySeries] = {}
    for i in range(n):
        run = run_replication(
            prepared, scenario, i, seed=use_seed, base_dir=base_dir, executor=executor, org=org
        )
        for pool in run.queue_changes:
            hourly.setdefault(pool, HourlySeries()).add(_hourly_queue(run, pool))
        runs.append(run)
    cpu = time.process_time() - t0
    result = SimulationResult(scenario, runs, cpu_seconds=cpu, hourly=hourly)
    per_rep = [replication_measures(r, scenario) for r in runs]
    names = sorted({k for m in per_rep for k in m})
    result.measures = {k: [m[k] for m in per_rep if k in m] for k in names}
    return result
