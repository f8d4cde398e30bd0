"""A multi-server queue station (G/G/c, FIFO, optional abandonment) on the event loop.

It is the smallest complete use of the discrete-event core and the yardstick for it: with
exponential inter-arrival and service times it is the M/M/c queue of Erlang C, and with
exponential patience the M/M/c+M queue of Erlang A, so simulation and formulas check each other.
:func:`replicate_queue` runs independent replications and reports each measure with a Student-t
confidence interval.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ._errors import SimulationInputError
from .distributions import Distribution, Sampler
from .events import EventLoop

__all__ = ["Estimate", "QueueRun", "QueueSummary", "replicate_queue", "simulate_queue"]

METRICS = (
    "probability_wait",
    "service_level",
    "asa_seconds",
    "mean_wait_seconds",
    "abandonment",
    "occupancy",
    "mean_queue_length",
)


@dataclass(frozen=True, slots=True)
class QueueRun:
    """Measures of one replication (calls counted if they arrive in the measurement window).

    Attributes:
        arrivals: Calls that arrived after the warm-up and before the horizon.
        served: Of those, calls answered.
        abandoned: Of those, calls that hung up while waiting.
        probability_wait: Fraction of calls that found every server busy.
        service_level: Fraction answered within ``answer_seconds`` of arrival.
        asa_seconds: Mean wait of answered calls.
        mean_wait_seconds: Mean wait of all calls (abandoned ones until they hung up).
        abandonment: Fraction of calls that abandoned.
        occupancy: Time-average fraction of busy servers over the window.
        mean_queue_length: Time-average number of waiting calls over the window.
        events: Events the loop ran (arrivals, service ends, abandonments, bookkeeping).
    """

    arrivals: int
    served: int
    abandoned: int
    probability_wait: float
    service_level: float
    asa_seconds: float
    mean_wait_seconds: float
    abandonment: float
    occupancy: float
    mean_queue_length: float
    events: int

    def metric(self, name: str) -> float:
        """One of :data:`METRICS` by name."""
        value: float = getattr(self, name)
        return value


def simulate_queue(
    *,
    servers: int,
    service: Distribution,
    horizon: float,
    interarrival: Distribution | None = None,
    arrivals: Iterable[float] | None = None,
    staffing: Sequence[tuple[float, int]] = (),
    rng: np.random.Generator | int | None = None,
    patience: Distribution | None = None,
    warm_up: float = 0.0,
    answer_seconds: float = 20.0,
    trace: list[tuple[float, float, bool]] | None = None,
) -> QueueRun:
    """Simulate one run of a FIFO queue with ``servers`` identical servers.

    Calls arrive from time 0 until ``horizon``; those arriving in ``[warm_up, horizon)`` are
    measured and followed until they are answered or hang up. Time averages (occupancy, queue
    length) cover ``[warm_up, horizon)``.

    Args:
        servers: Number of servers (agents) at time 0.
        service: Handling time.
        horizon: End of arrivals (seconds).
        interarrival: Time between consecutive arrivals (a renewal process) — or:
        arrivals: Arrival times, non-decreasing (e.g. from
            :func:`~liucheng.simulation.arrivals.arrival_times` for a time-varying profile).
        staffing: ``(time, servers)`` changes of the number of servers. When it drops, agents
            finish the call in hand before leaving (no pre-emption); when it rises, waiting
            calls are taken at once. Occupancy is then busy time over staffed time.
        rng: Generator or seed; three independent streams are derived from it (arrivals,
            services, patience), so changing one distribution keeps the others' draws.
        patience: Time a waiting call stays before hanging up; ``None``: infinitely patient.
        warm_up: Initial period excluded from every measure.
        answer_seconds: Service-level threshold.
        trace: When given, ``(arrival time, wait, answered)`` of every measured call is
            appended to it (in the order calls leave the queue).
    """
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise SimulationInputError(
            f"servers must be an integer >= 0, got {servers!r}", path="servers"
        )
    if servers == 0 and not staffing:
        raise SimulationInputError("servers must be >= 1 without a staffing plan", path="servers")
    if (interarrival is None) == (arrivals is None):
        raise SimulationInputError(
            "give exactly one of interarrival and arrivals", path="interarrival"
        )
    changes: list[tuple[float, int]] = []
    for i, (at, count) in enumerate(staffing):
        if not (math.isfinite(at) and at >= 0) or isinstance(count, bool) or count < 0:
            raise SimulationInputError(
                f"expected (time >= 0, servers >= 0), got {(at, count)!r}", path=f"staffing[{i}]"
            )
        changes.append((float(at), int(count)))
    if not (math.isfinite(horizon) and horizon > 0):
        raise SimulationInputError(f"horizon must be > 0, got {horizon!r}", path="horizon")
    if not (math.isfinite(warm_up) and 0 <= warm_up < horizon):
        raise SimulationInputError(
            f"warm_up must be in [0, horizon), got {warm_up!r}", path="warm_up"
        )
    if not (math.isfinite(answer_seconds) and answer_seconds >= 0):
        raise SimulationInputError("answer_seconds must be >= 0", path="answer_seconds")
    if isinstance(rng, np.random.Generator):
        streams = rng.spawn(3)
    else:
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(rng).spawn(3)]
    next_service = Sampler(service, streams[1])
    next_patience = Sampler(patience, streams[2]) if patience is not None else None
    if interarrival is not None:
        gap = Sampler(interarrival, streams[0])
        clock = [0.0]

        def next_arrival() -> float:
            clock[0] += gap()
            return clock[0]
    else:
        assert arrivals is not None
        times = iter(arrivals)

        def next_arrival() -> float:
            return float(next(times, math.inf))

    station = _Station(
        servers, next_arrival, next_service, next_patience, horizon, warm_up, answer_seconds
    )
    station.trace = trace
    return station.run(sorted(changes))


class _Station:
    """State of one run; handlers are bound methods scheduled on the loop."""

    def __init__(  # noqa: PLR0917
        self,
        servers: int,
        next_arrival: Callable[[], float],
        next_service: Sampler,
        next_patience: Sampler | None,
        horizon: float,
        warm_up: float,
        answer_seconds: float,
    ) -> None:
        self.loop = EventLoop()
        self.capacity = servers
        self.next_arrival = next_arrival
        self.next_service = next_service
        self.next_patience = next_patience
        self.horizon = horizon
        self.warm_up = warm_up
        self.answer = answer_seconds
        self.busy = 0
        # A waiting call is [arrival time, measured?, abandonment event or None, still waiting?].
        self.queue: deque[list[Any]] = deque()
        self.waiting = 0
        self.last_change = 0.0
        self.busy_area = 0.0
        self.staffed_area = 0.0
        self.queue_area = 0.0
        self.measuring = warm_up == 0.0
        self.arrivals = self.served = self.abandoned = self.waited = self.in_time = 0
        self.wait_served = self.wait_abandoned = 0.0
        self.trace: list[tuple[float, float, bool]] | None = None

    def _account(self) -> None:
        now = self.loop.now
        if self.measuring:
            span = now - self.last_change
            self.busy_area += self.busy * span
            self.staffed_area += self.capacity * span
            self.queue_area += self.waiting * span
        self.last_change = now

    def run(self, changes: list[tuple[float, int]]) -> QueueRun:
        loop = self.loop
        for at, count in changes:
            loop.schedule_at(at, self._set_capacity, count)
        if self.warm_up > 0:
            loop.schedule_at(self.warm_up, self._start_measuring)
        loop.schedule_at(self.horizon, self._stop_measuring)
        first = self.next_arrival()
        if first < self.horizon:
            loop.schedule_at(first, self._arrive)
        loop.run()
        n = self.arrivals
        window = self.horizon - self.warm_up
        return QueueRun(
            arrivals=n,
            served=self.served,
            abandoned=self.abandoned,
            probability_wait=self.waited / n if n else 0.0,
            service_level=self.in_time / n if n else 1.0,
            asa_seconds=self.wait_served / self.served if self.served else 0.0,
            mean_wait_seconds=(self.wait_served + self.wait_abandoned) / n if n else 0.0,
            abandonment=self.abandoned / n if n else 0.0,
            occupancy=self.busy_area / self.staffed_area if self.staffed_area else 0.0,
            mean_queue_length=self.queue_area / window,
            events=loop.events_processed,
        )

    def _start_measuring(self) -> None:
        self.last_change = self.loop.now
        self.measuring = True

    def _stop_measuring(self) -> None:
        self._account()
        self.measuring = False

    def _set_capacity(self, count: int) -> None:
        self._account()
        self.capacity = count
        while self.busy < self.capacity and self._start_next():
            self.busy += 1

    def _arrive(self) -> None:
        loop = self.loop
        now = loop.now
        following = self.next_arrival()
        if following < self.horizon:
            loop.schedule_at(following, self._arrive)
        measured = self.warm_up <= now < self.horizon
        if measured:
            self.arrivals += 1
        self._account()
        if self.busy < self.capacity:
            self.busy += 1
            if measured:
                self.served += 1
                self.in_time += 1
                if self.trace is not None:
                    self.trace.append((now, 0.0, True))
            loop.schedule(self.next_service(), self._depart)
            return
        if measured:
            self.waited += 1
        call: list[Any] = [now, measured, None, True]
        if self.next_patience is not None:
            call[2] = loop.schedule(self.next_patience(), self._abandon, call)
        self.queue.append(call)
        self.waiting += 1

    def _depart(self) -> None:
        self._account()
        if self.busy > self.capacity or not self._start_next():
            self.busy -= 1  # the agent leaves (staffing dropped) or goes idle

    def _start_next(self) -> bool:
        """Put the next live waiting call into service; ``False`` if nobody waits."""
        loop = self.loop
        queue = self.queue
        while queue:
            call = queue.popleft()
            if not call[3]:
                continue  # hung up earlier; dropped lazily
            call[3] = False
            self.waiting -= 1
            if call[2] is not None:
                call[2].cancel()
            if call[1]:
                wait = loop.now - call[0]
                self.served += 1
                self.wait_served += wait
                if wait <= self.answer:
                    self.in_time += 1
                if self.trace is not None:
                    self.trace.append((call[0], wait, True))
            loop.schedule(self.next_service(), self._depart)
            return True
        return False

    def _abandon(self, call: list[Any]) -> None:
        if not call[3]:
            return
        self._account()
        call[3] = False
        self.waiting -= 1
        if call[1]:
            self.abandoned += 1
            self.wait_abandoned += self.loop.now - call[0]
            if self.trace is not None:
                self.trace.append((call[0], self.loop.now - call[0], False))


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its confidence interval ``[low, high]``."""

    mean: float
    half_width: float
    confidence: float

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float | None]:
        """``{"mean", "low", "high"}``; values that are not finite become ``None`` (JSON null)."""
        return {
            key: value if math.isfinite(value) else None
            for key, value in (("mean", self.mean), ("low", self.low), ("high", self.high))
        }


def estimate(values: list[float], confidence: float) -> Estimate:
    """Student-t interval for the mean of independent replication results."""
    if not 0 < confidence < 1:
        raise SimulationInputError(
            f"confidence must be in (0, 1), got {confidence!r}", path="confidence"
        )
    n = len(values)
    mean = float(np.mean(values)) if n else math.nan
    if n < 2:
        return Estimate(mean, math.inf, confidence)
    sd = float(np.std(values, ddof=1))
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    return Estimate(mean, t * sd / math.sqrt(n), confidence)


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """Results of :func:`replicate_queue`: the runs and an :class:`Estimate` per measure."""

    runs: tuple[QueueRun, ...]
    confidence: float
    estimates: dict[str, Estimate] = field(default_factory=dict)

    @property
    def events(self) -> int:
        """Events run over all replications."""
        return sum(r.events for r in self.runs)

    def __getitem__(self, metric: str) -> Estimate:
        return self.estimates[metric]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "replications": len(self.runs),
            "confidence": self.confidence,
            "events": self.events,
            **{name: est.to_dict() for name, est in self.estimates.items()},
        }


def replicate_queue(
    *,
    replications: int,
    seed: int | None,
    confidence: float = 0.99,
    **kwargs: Any,
) -> QueueSummary:
    """Run :func:`simulate_queue` ``replications`` times with independent seeded streams.

    Args:
        replications: Number of independent runs (>= 2 for an interval).
        seed: Master seed; the same seed gives the same results.
        confidence: Confidence level of the intervals.
        **kwargs: Passed to :func:`simulate_queue` (``servers``, ``interarrival``, ...).
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise SimulationInputError(
            f"replications must be an integer >= 1, got {replications!r}", path="replications"
        )
    children = np.random.SeedSequence(seed).spawn(replications)
    runs = tuple(simulate_queue(rng=np.random.default_rng(c), **kwargs) for c in children)
    estimates = {m: estimate([r.metric(m) for r in runs], confidence) for m in METRICS}
    return QueueSummary(runs=runs, confidence=confidence, estimates=estimates)
