"""SLA clocks: a business-time budget that starts, pauses, resumes and stops.

A clock is event-sourced: its state at any instant is a pure function of its definition and the
list of timestamped events (``start``, ``pause``, ``resume``, ``stop``). The engine persists the
events and rebuilds the state whenever it needs it; nothing here keeps hidden state.

Rules:

- Elapsed time is working time of the clock's calendar while the clock runs (paused time and time
  outside working intervals do not count).
- The due instant is the earliest instant at which the elapsed time reaches the target; it is
  recomputed from the current running segment, so it moves later after every pause.
- The clock is *breached* once a running instant lies after the due instant; stopping exactly at
  the due instant meets the target. A breach stays: a breached clock that is stopped is
  ``breached``, otherwise a stopped clock is ``met``.
- Warning thresholds (fractions of the target, e.g. 0.8) are reached at the instant elapsed time
  reaches that fraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ._calendar import DAY, BusinessCalendar, CalendarSpec, as_utc
from ._duration import IsoDuration, format_duration
from ._errors import SlaError

__all__ = [
    "SlaClock",
    "SlaDefinition",
    "SlaEvent",
    "SlaEventKind",
    "SlaState",
    "SlaStatus",
    "always_calendar",
    "clock_events",
    "due_with_pauses",
    "sla_state",
]

_ALWAYS = BusinessCalendar(CalendarSpec(timezone="UTC", week=(((0, DAY),),) * 7, name="24x7"))


def always_calendar() -> BusinessCalendar:
    """A calendar where every instant is working time (wall-clock SLAs); ``P1D`` is 24 hours."""
    return _ALWAYS


class SlaEventKind(StrEnum):
    """What happened to a clock."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


class SlaStatus(StrEnum):
    """The state of a clock at an instant."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """One timestamped clock event (what the engine persists).

    Attributes:
        kind: ``start``, ``pause``, ``resume`` or ``stop``.
        at: When (aware; naive is taken as UTC).
        reason: Free text, e.g. ``"waiting for customer"``.
    """

    kind: SlaEventKind
    at: datetime
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"kind": self.kind.value, "at": as_utc(self.at).isoformat()}
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaEvent:
        """Read the form :meth:`to_dict` writes."""
        try:
            kind = SlaEventKind(str(data["kind"]))
            at = data["at"]
            when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        except (KeyError, ValueError) as exc:
            raise SlaError(
                f"bad SLA event {dict(data)!r}: {exc}",
                hint="an event is {kind: start|pause|resume|stop, at: ISO instant}",
            ) from exc
        reason = data.get("reason")
        return cls(kind, when, str(reason) if reason is not None else None)


@dataclass(frozen=True)
class SlaDefinition:
    """What a clock measures.

    Attributes:
        name: E.g. ``"first response"`` or ``"resolution"``.
        target: Business-time budget (timedelta or ISO 8601 duration).
        calendar: Calendar whose working time counts; ``None`` counts wall-clock time.
        warn_at: Fractions of the target at which to warn, e.g. ``(0.8,)``.
        scope: ``"task"`` or ``"process"`` (what one clock instance belongs to).
        start_on, pause_on, resume_on, stop_on: Lifecycle event names (engine vocabulary, e.g.
            ``"task.created"``, ``"task.claimed"``) that drive the clock, used by
            :func:`clock_events`.
    """

    name: str
    target: timedelta | str | IsoDuration
    calendar: BusinessCalendar | None = None
    warn_at: tuple[float, ...] = (0.8,)
    scope: str = "task"
    start_on: tuple[str, ...] = ()
    pause_on: tuple[str, ...] = ()
    resume_on: tuple[str, ...] = ()
    stop_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for fraction in self.warn_at:
            if not 0 < fraction < 1:
                raise SlaError(
                    f"warning threshold {fraction} of SLA {self.name!r} is not between 0 and 1",
                    hint="write thresholds as fractions of the target, e.g. 0.8",
                )
        if self.scope not in ("task", "process"):
            raise SlaError(f"SLA scope must be 'task' or 'process', not {self.scope!r}")
        if self.target_time < timedelta(0):
            raise SlaError(f"SLA {self.name!r} has a negative target")

    @property
    def clock_calendar(self) -> BusinessCalendar:
        """The calendar used to count (24×7 when none is set)."""
        return self.calendar if self.calendar is not None else _ALWAYS

    @property
    def target_time(self) -> timedelta:
        """The target as working time."""
        return self.clock_calendar.business_timedelta(self.target)


@dataclass(frozen=True)
class SlaState:
    """A clock's state at an instant.

    Attributes:
        name: The definition's name.
        at: The instant this state is for (UTC).
        status: pending, running, paused, met or breached (breached wins over running/paused).
        running: Whether the clock is counting at ``at``.
        target: The budget (working time).
        elapsed: Working time counted so far.
        remaining: ``target - elapsed``, never below zero.
        overdue: ``elapsed - target``, never below zero.
        progress: ``elapsed / target`` (1.0 for a zero target once started).
        due: When the budget runs out (ran out) if the clock keeps running: the instant the
            elapsed time reached the target once it has; ``None`` while paused, stopped or
            pending before that.
        breached_at: When the clock became breached (the first running instant after it is
            the due instant, or the resume after a pause that began exactly at it).
        started_at, stopped_at: First start / the stop, if any.
        warnings: Threshold → instant it was reached, for thresholds reached by ``at``.
        next_warning_at: When the next threshold will be reached if the clock keeps running.
    """

    name: str
    at: datetime
    status: SlaStatus
    running: bool
    target: timedelta
    elapsed: timedelta
    remaining: timedelta
    overdue: timedelta
    progress: float
    due: datetime | None
    breached_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None
    warnings: Mapping[float, datetime] = field(default_factory=dict)
    next_warning_at: datetime | None = None

    @property
    def warning(self) -> bool:
        """Whether any warning threshold has been reached (and the clock is not finished)."""
        return bool(self.warnings) and self.status in (SlaStatus.RUNNING, SlaStatus.PAUSED)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (durations as ISO 8601, instants as ISO 8601 UTC)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "name": self.name,
            "at": self.at.isoformat(),
            "status": self.status.value,
            "running": self.running,
            "target": format_duration(self.target),
            "elapsed": format_duration(self.elapsed),
            "remaining": format_duration(self.remaining),
            "overdue": format_duration(self.overdue),
            "progress": round(self.progress, 6),
            "due": iso(self.due),
            "breached_at": iso(self.breached_at),
            "started_at": iso(self.started_at),
            "stopped_at": iso(self.stopped_at),
            "warnings": {str(k): v.isoformat() for k, v in sorted(self.warnings.items())},
            "next_warning_at": iso(self.next_warning_at),
        }


class _Fold:
    """Accumulates running segments."""

    def __init__(self, definition: SlaDefinition) -> None:
        self.calendar = definition.clock_calendar
        self.target = definition.target_time
        self.thresholds = sorted(definition.warn_at)
        self.elapsed = timedelta(0)
        self.breached_at: datetime | None = None
        self.reached_at: datetime | None = None
        self.warnings: dict[float, datetime] = {}

    def segment(self, start: datetime, end: datetime) -> None:
        cal = self.calendar
        for fraction in self.thresholds:
            limit = self.target * fraction
            if fraction not in self.warnings and self.elapsed < limit:
                reached = cal.add_business_duration(start, limit - self.elapsed)
                if reached <= end:
                    self.warnings[fraction] = reached
        if self.breached_at is None:
            due = cal.add_business_duration(start, max(self.target - self.elapsed, timedelta(0)))
            if self.reached_at is None and due <= end:
                self.reached_at = due
            if end > due:
                self.breached_at = due
        self.elapsed += cal.business_time_between(start, end)


def _ordered(events: Iterable[SlaEvent]) -> list[SlaEvent]:
    normalised = [SlaEvent(SlaEventKind(e.kind), as_utc(e.at), e.reason) for e in events]
    # Stable: events at the same instant keep their recorded order.
    return sorted(normalised, key=lambda e: e.at)


def sla_state(definition: SlaDefinition, events: Iterable[SlaEvent], at: datetime) -> SlaState:
    """The state of a clock at ``at`` from its event history (events after ``at`` are ignored).

    Raises:
        SlaError: The history is not a valid sequence (e.g. ``resume`` while running, anything
            after ``stop``, a second ``start``).
    """
    at = as_utc(at)
    fold = _Fold(definition)
    phase = "pending"
    since: datetime | None = None
    started: datetime | None = None
    stopped: datetime | None = None
    allowed = {
        SlaEventKind.START: ("pending",),
        SlaEventKind.PAUSE: ("running",),
        SlaEventKind.RESUME: ("paused",),
        SlaEventKind.STOP: ("running", "paused"),
    }
    for index, event in enumerate(_ordered(events)):
        if event.at > at:
            break
        if phase not in allowed[event.kind]:
            raise SlaError(
                f"SLA {definition.name!r}: event {index} {event.kind.value!r} at "
                f"{event.at.isoformat()} is not allowed while the clock is {phase}",
                code="sla.event.order",
                hint="a clock goes start → (pause → resume)* → stop",
                details={"index": index, "event": event.to_dict()},
            )
        if event.kind is SlaEventKind.START:
            phase, since, started = "running", event.at, event.at
        elif event.kind is SlaEventKind.PAUSE:
            assert since is not None
            fold.segment(since, event.at)
            phase, since = "paused", None
        elif event.kind is SlaEventKind.RESUME:
            phase, since = "running", event.at
        else:
            if since is not None:
                fold.segment(since, event.at)
            phase, since, stopped = "stopped", None, event.at
    base_elapsed = fold.elapsed
    running = phase == "running"
    if running:
        assert since is not None
        fold.segment(since, at)
    target = fold.target
    elapsed = fold.elapsed
    due: datetime | None = None
    next_warning: datetime | None = None
    cal = fold.calendar
    if fold.reached_at is not None:
        due = fold.reached_at
    elif running:
        assert since is not None
        due = cal.add_business_duration(since, target - base_elapsed)
    if running and since is not None:
        for fraction in fold.thresholds:
            if fraction not in fold.warnings:
                next_warning = cal.add_business_duration(since, target * fraction - base_elapsed)
                break
    if fold.breached_at is not None:
        status = SlaStatus.BREACHED
    else:
        status = {
            "pending": SlaStatus.PENDING,
            "running": SlaStatus.RUNNING,
            "paused": SlaStatus.PAUSED,
            "stopped": SlaStatus.MET,
        }[phase]
    if target > timedelta(0):
        progress = elapsed / target
    else:
        progress = 1.0 if started is not None else 0.0
    return SlaState(
        name=definition.name,
        at=at,
        status=status,
        running=running,
        target=target,
        elapsed=elapsed,
        remaining=max(target - elapsed, timedelta(0)),
        overdue=max(elapsed - target, timedelta(0)),
        progress=progress,
        due=due,
        breached_at=fold.breached_at,
        started_at=started,
        stopped_at=stopped,
        warnings=dict(fold.warnings),
        next_warning_at=next_warning,
    )


@dataclass(frozen=True)
class SlaClock:
    """An immutable clock: a definition plus its events; each method returns a new clock.

    Example:
        >>> clock = SlaClock(definition).start(t0).pause(t1, "waiting for customer").resume(t2)
        >>> clock.state(now).status
    """

    definition: SlaDefinition
    events: tuple[SlaEvent, ...] = ()

    def _with(self, kind: SlaEventKind, at: datetime, reason: str | None) -> SlaClock:
        clock = SlaClock(self.definition, (*self.events, SlaEvent(kind, as_utc(at), reason)))
        clock.state(at)  # validates the new history before it is handed out
        return clock

    def start(self, at: datetime, reason: str | None = None) -> SlaClock:
        """Start counting."""
        return self._with(SlaEventKind.START, at, reason)

    def pause(self, at: datetime, reason: str | None = None) -> SlaClock:
        """Stop counting for a while (e.g. waiting for the customer)."""
        return self._with(SlaEventKind.PAUSE, at, reason)

    def resume(self, at: datetime, reason: str | None = None) -> SlaClock:
        """Count again after a pause."""
        return self._with(SlaEventKind.RESUME, at, reason)

    def stop(self, at: datetime, reason: str | None = None) -> SlaClock:
        """Finish: the target is met or breached for good."""
        return self._with(SlaEventKind.STOP, at, reason)

    def state(self, at: datetime) -> SlaState:
        """The state at ``at``."""
        return sla_state(self.definition, self.events, at)


def clock_events(
    definition: SlaDefinition, occurrences: Iterable[tuple[str, datetime]]
) -> list[SlaEvent]:
    """Translate engine lifecycle events into clock events using the definition's ``*_on`` names.

    Occurrences that do not apply in the clock's current phase are skipped (a second
    ``task.created`` does not restart a running clock), so the result is always a valid history.
    """
    phase = "pending"
    out: list[SlaEvent] = []
    for name, when in sorted(occurrences, key=lambda item: as_utc(item[1])):
        at = as_utc(when)
        if name in definition.stop_on and phase in ("running", "paused"):
            out.append(SlaEvent(SlaEventKind.STOP, at, name))
            phase = "stopped"
        elif name in definition.start_on and phase == "pending":
            out.append(SlaEvent(SlaEventKind.START, at, name))
            phase = "running"
        elif name in definition.pause_on and phase == "running":
            out.append(SlaEvent(SlaEventKind.PAUSE, at, name))
            phase = "paused"
        elif name in definition.resume_on and phase == "paused":
            out.append(SlaEvent(SlaEventKind.RESUME, at, name))
            phase = "running"
    return out


def due_with_pauses(
    calendar: BusinessCalendar | None,
    start: datetime,
    duration: timedelta | str | IsoDuration,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> datetime:
    """The due instant of a budget started at ``start`` that does not count during ``pauses``.

    Args:
        calendar: Working time to count (``None``: wall-clock time).
        start: Clock start.
        duration: The budget.
        pauses: ``(from, to)`` periods; they must not overlap or begin before ``start``.

    Raises:
        SlaError: Overlapping pauses, or a pause before the start or ending before it begins.
    """
    definition = SlaDefinition("due", duration, calendar, warn_at=())
    start = as_utc(start)
    events = [SlaEvent(SlaEventKind.START, start)]
    last = start
    for begin, end in sorted(((as_utc(a), as_utc(b)) for a, b in pauses), key=lambda p: p[0]):
        if begin < last or end < begin:
            raise SlaError(
                f"pause {begin.isoformat()}/{end.isoformat()} overlaps another pause, starts "
                "before the clock or ends before it begins",
                code="sla.pause.invalid",
            )
        events += [SlaEvent(SlaEventKind.PAUSE, begin), SlaEvent(SlaEventKind.RESUME, end)]
        last = end
    state = sla_state(definition, events, last)
    assert state.due is not None
    return state.due
