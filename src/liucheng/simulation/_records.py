"""What a replication records: activity instances, case arrivals and ends, pool measures.

:class:`ActivityRecord` and :class:`ReplicationRun` are filled by :mod:`.bpmn_sim`;
:func:`stream` names the random streams every replication draws from.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._resources import _Pool

__all__ = ["ActivityRecord", "ReplicationRun", "measure_resources", "stream"]


def stream(seed: int | None, replication: int, purpose: str) -> np.random.Generator:
    """The random stream for one purpose (an activity id, ``"arrivals"``...) of a replication.

    Streams are keyed by name, so two scenarios with the same seed draw the same arrivals and
    the same durations for the same activity (common random numbers).
    """
    return np.random.default_rng(
        [0 if seed is None else seed, replication, zlib.crc32(purpose.encode())]
    )


@dataclass(slots=True)
class ActivityRecord:
    """One simulated activity instance.

    Attributes:
        case: Case id.
        element_id: BPMN id.
        activity: Name (or id).
        enqueued: When it was ready (seconds after the scenario start).
        started: When a resource started it (``None``: never started).
        ended: When it completed or was interrupted.
        resource: The resource (person or pool member) id.
        pool: The pool.
        work: Working seconds spent.
        cost: Fixed cost plus resource cost.
        aborted: Interrupted (boundary event, cancellation) before completing.
        assigned: When it was handed to its resource (``started``, or earlier when a push
            strategy put it in the backlog of a busy member with capacity for it).
    """

    case: str
    element_id: str
    activity: str
    enqueued: float
    started: float | None = None
    ended: float | None = None
    resource: str | None = None
    pool: str | None = None
    work: float = 0.0
    cost: float = 0.0
    aborted: bool = False
    assigned: float | None = None


@dataclass
class ReplicationRun:
    """What one replication produced.

    Attributes:
        activities: Activity instances in the order they were opened.
        arrivals: Case id -> arrival time.
        ends: Case id -> end time (completed cases).
        attributes: Case id -> generated attributes.
        queue_changes: Pool -> ``[(time, queue length)]`` at every change.
        available: Pool -> resource-seconds on duty within the measurement window.
        busy: Pool -> working seconds within the window.
        busy_cost: Pool -> cost of those working seconds (each member at their own rate).
        window: ``(warm_up, end)`` of measurement.
        events: Simulation events processed.
        commands: Engine commands run.
        unfinished: Cases still open when the run stopped.
        executor: ``"engine"`` (the real engine, lean mode), ``"engine-full"`` (the real
            engine with its durable bookkeeping) or ``"compiled"`` (see :mod:`._fast`).
        truncated: Why the run stopped with events still due (``None``: it ran out of events):
            ``"max_events"``, ``"max_virtual_time"`` or ``"drain"`` (10 x the horizon).
    """

    activities: list[ActivityRecord] = field(default_factory=list)
    arrivals: dict[str, float] = field(default_factory=dict)
    ends: dict[str, float] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue_changes: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    available: dict[str, float] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)
    busy_cost: dict[str, float] = field(default_factory=dict)
    window: tuple[float, float] = (0.0, 0.0)
    events: int = 0
    commands: int = 0
    unfinished: int = 0
    executor: str = "engine"
    truncated: str | None = None


def measure_resources(run: ReplicationRun, pools: list[_Pool]) -> None:
    """Fill ``run.available``, ``run.busy`` and ``run.busy_cost`` over ``run.window``."""
    a, b = run.window
    for pool in pools:
        total = 0.0
        for m in pool.members:
            total += m.calendar.open_seconds(a, b) if m.calendar is not None else b - a
        run.available[pool.id] = total
        run.busy[pool.id] = 0.0
        run.busy_cost[pool.id] = 0.0
    # pool -> member id -> member (no key tuple per record); sums in record order, as before
    members: dict[str, dict[str, Any]] = {}
    for p in pools:
        for m in p.members:
            members.setdefault(p.id, {})[m.id] = m
    busy_by = run.busy
    cost_by = run.busy_cost
    for rec in run.activities:
        pid = rec.pool
        started = rec.started
        if pid is None or started is None or rec.resource is None:
            continue
        ended = rec.ended
        s = started if started > a else a
        e = b if ended is None or ended > b else ended
        if e <= s:
            continue
        found = members.get(pid, {}).get(rec.resource)
        if s == started and e == ended and not rec.aborted:
            busy = rec.work  # entirely inside the window: its working time
        else:
            cal = found.calendar if found is not None else None
            busy = cal.open_seconds(s, e) if cal is not None else e - s
        busy_by[pid] += busy
        if found is not None:
            cost_by[pid] += busy / 3600.0 * found.cost_per_hour
