"""Check a staffing plan by simulation, interval by interval.

Erlang C/A size each interval as if it were an endless steady state. Real days are not: a queue
built up at 09:55 is still there at 10:05, and agents leave while calls wait. This module runs the
plan — calls arriving as a Poisson process whose rate is constant within each interval, the
number of agents changing at interval boundaries (agents finish the call in hand) — on the queue
station and reports, per interval, the simulated service level with a confidence interval over
replications, next to the formula's value.

A weekly demand table is simulated for two weeks and the second is measured, so Monday morning
starts with whatever Sunday night left; a dated table is simulated once from empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import SimulationInputError
from .demand import DemandTable
from .distributions import Exponential
from .erlang import evaluate_staffing
from .queue import Estimate, estimate, simulate_queue

__all__ = ["IntervalCheck", "simulate_plan"]


@dataclass(frozen=True, slots=True)
class IntervalCheck:
    """Formula and simulation side by side for one interval.

    Attributes:
        slot: Interval index.
        label: Interval start as written in the demand.
        calls: Offered calls.
        agents: Agents in the plan.
        service_level: Erlang C/A service level of ``agents`` for ``calls``.
        simulated: Simulated service level (fraction of the interval's calls answered in time).
        simulated_abandonment: Simulated abandonment (with patience), else ``None``.
    """

    slot: int
    label: str
    calls: float
    agents: int
    service_level: float
    simulated: Estimate
    simulated_abandonment: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "start": self.label,
            "calls": self.calls,
            "agents": self.agents,
            "service_level": self.service_level,
            "simulated_service_level": self.simulated.to_dict(),
        }
        if self.simulated_abandonment is not None:
            out["simulated_abandonment"] = self.simulated_abandonment.to_dict()
        return out


def _arrivals(table: DemandTable, rounds: int, rng: np.random.Generator) -> list[float]:
    """Piecewise-constant Poisson arrivals: Poisson counts per interval, uniform inside it."""
    step = table.interval_minutes * 60.0
    times: list[float] = []
    for r in range(rounds):
        base = r * table.slots * step
        for slot in range(table.slots):
            row = table.rows.get(slot)
            mean = (row.calls or 0.0) if row is not None else 0.0
            if mean <= 0:
                continue
            count = int(rng.poisson(mean))
            start = base + slot * step
            times.extend(sorted((start + rng.uniform(0.0, step, count)).tolist()))
    return times


def simulate_plan(
    table: DemandTable,
    agents: Sequence[int],
    *,
    aht_seconds: float,
    answer_seconds: float = 20.0,
    patience_seconds: float | None = None,
    replications: int = 10,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> list[IntervalCheck]:
    """Simulate ``agents`` per interval against the calls of ``table``.

    Args:
        table: Demand with calls per interval.
        agents: Agents on duty per slot (``len == table.slots``).
        aht_seconds: Mean handling time (exponential handling times).
        answer_seconds: Service-level threshold.
        patience_seconds: Mean exponential patience; ``None``: callers never hang up.
        replications: Independent runs.
        seed: Master seed.
        confidence: Level of the per-interval intervals.

    Returns:
        One :class:`IntervalCheck` per interval with calls.
    """
    if len(agents) != table.slots:
        raise SimulationInputError(
            f"the plan has {len(agents)} intervals, the demand {table.slots}", path="agents"
        )
    if any(isinstance(a, bool) or a < 0 for a in agents):
        raise SimulationInputError("agents per interval must be >= 0", path="agents")
    if replications < 2:
        raise SimulationInputError("at least 2 replications are needed", path="replications")
    if any(row.calls is None for row in table.rows.values()):
        raise SimulationInputError(
            "the demand gives agents, not calls: nothing to simulate", path="calls"
        )
    step = table.interval_minutes * 60.0
    rounds = 2 if table.weekly else 1
    measured_from = (rounds - 1) * table.slots * step
    horizon = rounds * table.slots * step
    staffing = [
        (r * table.slots * step + slot * step, int(agents[slot]))
        for r in range(rounds)
        for slot in range(table.slots)
    ]
    patience = Exponential(patience_seconds) if patience_seconds is not None else None
    calls_slots = sorted(s for s, row in table.rows.items() if (row.calls or 0) > 0)
    shares: dict[int, list[float]] = {s: [] for s in calls_slots}
    lost: dict[int, list[float]] = {s: [] for s in calls_slots}
    for child in np.random.SeedSequence(seed).spawn(replications):
        arrival_rng, queue_rng = (np.random.default_rng(c) for c in child.spawn(2))
        trace: list[tuple[float, float, bool]] = []
        simulate_queue(
            servers=int(agents[0]),
            arrivals=_arrivals(table, rounds, arrival_rng),
            service=Exponential(aht_seconds),
            staffing=staffing,
            patience=patience,
            horizon=horizon,
            warm_up=measured_from,
            answer_seconds=answer_seconds,
            rng=queue_rng,
            trace=trace,
        )
        offered = dict.fromkeys(calls_slots, 0)
        in_time = dict.fromkeys(calls_slots, 0)
        abandoned = dict.fromkeys(calls_slots, 0)
        for arrival, wait, answered in trace:
            slot = int((arrival - measured_from) // step)
            if slot not in offered:
                continue
            offered[slot] += 1
            if answered and wait <= answer_seconds:
                in_time[slot] += 1
            if not answered:
                abandoned[slot] += 1
        for slot in calls_slots:
            # An interval that drew no calls in this replication has no service level to add.
            if offered[slot]:
                shares[slot].append(in_time[slot] / offered[slot])
                lost[slot].append(abandoned[slot] / offered[slot])
    checks: list[IntervalCheck] = []
    for slot in calls_slots:
        row = table.rows[slot]
        calls = row.calls or 0.0
        n = int(agents[slot])
        formula = (
            evaluate_staffing(
                n,
                calls=calls,
                interval_minutes=table.interval_minutes,
                aht_seconds=aht_seconds,
                answer_seconds=answer_seconds,
                patience_seconds=patience_seconds,
            ).service_level
            if n > 0
            else 0.0
        )
        simulated = (
            estimate(shares[slot], confidence)
            if shares[slot]
            else Estimate(math.nan, math.inf, confidence)
        )
        checks.append(
            IntervalCheck(
                slot=slot,
                label=table.label(slot),
                calls=calls,
                agents=n,
                service_level=formula,
                simulated=simulated,
                simulated_abandonment=(
                    estimate(lost[slot], confidence)
                    if patience_seconds is not None and lost[slot]
                    else None
                ),
            )
        )
    return checks
