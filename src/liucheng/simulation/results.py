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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._prepare import PreparedModel
from .bpmn_sim import ReplicationRun, prepare, run_replication
from .queue import Estimate, estimate
from .scenario import Scenario

if TYPE_CHECKING:
    import polars as pl

__all__ = ["SimulationResult", "event_log", "replication_measures", "simulate"]


def _time_average(changes: list[tuple[float, int]], a: float, b: float) -> tuple[float, int]:
    """Time-average and maximum of a step function over ``[a, b]``."""
    if b <= a:
        return 0.0, 0
    area = 0.0
    peak = 0
    for i, (t, v) in enumerate(changes):
        t_next = changes[i + 1][0] if i + 1 < len(changes) else math.inf
        lo, hi = max(t, a), min(t_next, b)
        if hi > lo:
            area += v * (hi - lo)
            peak = max(peak, v)
    return area / (b - a), peak


def replication_measures(run: ReplicationRun, scenario: Scenario) -> dict[str, float]:
    """Scalar measures of one replication (keys like ``cycle_time.mean``)."""
    a, b = run.window
    measured = {c for c, t in run.arrivals.items() if a <= t < b or (a == b == t)}
    out: dict[str, float] = {}
    cycle = np.asarray(
        [run.ends[c] - run.arrivals[c] for c in measured if c in run.ends], dtype=float
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
        if rec.started is not None:
            waiting[key].append(rec.started - rec.enqueued)
            working[key].append(rec.work)
        cost_act[key] += rec.cost
        total_cost += rec.cost
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
        rate = scenario.resources[pool].cost_per_hour if pool in scenario.resources else 0.0
        out[f"resource.{pool}.cost"] = busy / 3600.0 * rate
    return out


def _hourly_queue(run: ReplicationRun, pool: str, hours: int = 24 * 7 * 8) -> list[float]:
    """Queue length at each whole hour of the window (first replication; for charts)."""
    a, b = run.window
    changes = run.queue_changes.get(pool, [(0.0, 0)])
    out: list[float] = []
    i = 0
    t = a
    while t <= b and len(out) < hours:
        while i + 1 < len(changes) and changes[i + 1][0] <= t:
            i += 1
        out.append(float(changes[i][1]) if changes[i][0] <= t else 0.0)
        t += 3600.0
    return out


@dataclass
class SimulationResult:
    """Replications of a scenario and their KPIs.

    Attributes:
        scenario: The scenario simulated.
        runs: One :class:`ReplicationRun` per replication.
        measures: Measure name -> value per replication.
        cpu_seconds: Processor time the replications took.
    """

    scenario: Scenario
    runs: list[ReplicationRun]
    measures: dict[str, list[float]] = field(default_factory=dict)
    cpu_seconds: float = 0.0

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
        if self.runs:
            for pool, entry in resources.items():
                entry["queue_length_hourly"] = _hourly_queue(self.runs[0], pool)
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
    rows: list[tuple[float, str, int, str, float, str, str | None, str, float | None]] = []
    seq = 0
    for rec in run.activities:
        arrival = run.arrivals.get(rec.case, 0.0)
        if rec.started is not None:
            rows.append(
                (
                    arrival,
                    rec.case,
                    seq,
                    rec.activity,
                    rec.started,
                    "start",
                    rec.resource,
                    rec.element_id,
                    None,
                )
            )
            seq += 1
        if rec.ended is not None:
            rows.append(
                (
                    arrival,
                    rec.case,
                    seq,
                    rec.activity,
                    rec.ended,
                    "ate_abort" if rec.aborted else "complete",
                    rec.resource,
                    rec.element_id,
                    rec.cost,
                )
            )
            seq += 1
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[2]))
    micro = [round(r[4] * 1e6) for r in rows]
    base = int(origin.timestamp() * 1e6)
    frame = pl.DataFrame(
        {
            "case_id": [r[1] for r in rows],
            "activity": [r[3] for r in rows],
            "timestamp": pl.Series([base + m for m in micro], dtype=pl.Int64)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC"),
            "lifecycle": [r[5] for r in rows],
            "resource": pl.Series([r[6] for r in rows], dtype=pl.Utf8),
            "event_index": pl.Series(range(len(rows)), dtype=pl.Int64),
            "element_id": [r[7] for r in rows],
            "cost:total": pl.Series([r[8] for r in rows], dtype=pl.Float64),
        }
    )
    return frame


def simulate(
    model: bytes | str | Path | PreparedModel,
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    base_dir: Path | None = None,
    executor: str = "auto",
) -> SimulationResult:
    """Simulate ``scenario`` on a BPMN model.

    Args:
        model: BPMN file path or bytes (or a model already prepared for this scenario).
        scenario: The scenario.
        replications: Overrides ``scenario.replications``.
        seed: Overrides ``scenario.seed``; the same seed gives the same result, and two
            scenarios with the same seed share random numbers (common random numbers).
        base_dir: Directory for relative paths in the scenario (replayed arrival logs).
        executor: ``"engine"`` runs every command on the real engine; ``"compiled"`` on the
            compiled token runner (models of none events, tasks, probability-routed exclusive
            and parallel gateways only; same semantics, same log); ``"auto"`` (default) picks
            the compiled runner when the model fits.

    Raises:
        ModelError: The model cannot be read.
        ScenarioError: The scenario does not fit the model.
    """
    prepared = model if isinstance(model, PreparedModel) else prepare(model, scenario)
    n = replications if replications is not None else scenario.replications
    use_seed = seed if seed is not None else scenario.seed
    t0 = time.process_time()
    runs = [
        run_replication(prepared, scenario, i, seed=use_seed, base_dir=base_dir, executor=executor)
        for i in range(n)
    ]
    cpu = time.process_time() - t0
    result = SimulationResult(scenario, runs, cpu_seconds=cpu)
    per_rep = [replication_measures(r, scenario) for r in runs]
    names = sorted({k for m in per_rep for k in m})
    result.measures = {k: [m[k] for m in per_rep if k in m] for k in names}
    return result
