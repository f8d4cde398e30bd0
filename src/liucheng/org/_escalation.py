"""Escalation: warnings before a breach and escalation up the superior chain, in business time.

Pure functions: :func:`escalation_schedule` says *when* each step is due (from an SLA clock, so
pauses move every later step), :func:`escalation_target` says *who* a level escalates to, and
:func:`escalate` builds the record the engine appends to history before it reassigns the task,
adds a task for the superior, or notifies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ._calendar import BusinessCalendar, as_utc
from ._duration import IsoDuration
from ._errors import SlaError
from ._model import Organisation
from ._sla import SlaDefinition, SlaEvent, SlaStatus, sla_state

__all__ = [
    "ACTIONS",
    "BusinessTimer",
    "EscalationLevel",
    "EscalationPolicy",
    "EscalationRecord",
    "EscalationStep",
    "EscalationTarget",
    "escalate",
    "escalation_schedule",
    "escalation_target",
    "steps_due",
]

ACTIONS = ("notify", "reassign", "add_task")


@dataclass(frozen=True)
class BusinessTimer:
    """A timer that counts business time on a named calendar (``calendar=None``: wall time)."""

    duration: timedelta | str | IsoDuration
    calendar: BusinessCalendar | None = None

    @classmethod
    def on(
        cls, org: Organisation, calendar: str | None, duration: timedelta | str | IsoDuration
    ) -> BusinessTimer:
        """A timer on the organisation's calendar called ``calendar`` (``None``: wall time).

        Raises:
            NotFoundError: No such calendar.
        """
        return cls(duration, org.calendar(calendar) if calendar is not None else None)

    def due(self, start: datetime) -> datetime:
        """When the timer fires if started at ``start``."""
        if self.calendar is None:
            if isinstance(self.duration, timedelta):
                return as_utc(start) + self.duration
            from ._sla import always_calendar

            return always_calendar().add_business_duration(start, self.duration)
        return self.calendar.add_business_duration(start, self.duration)


@dataclass(frozen=True)
class EscalationLevel:
    """One level: ``after`` the due instant (business time), do ``action``.

    Attributes:
        after: Business time after the due instant (``PT0S``: at the breach).
        action: ``reassign`` (the superior becomes the assignee), ``add_task`` (a new task for
            the superior), or ``notify``.
        levels_up: How far up the superior chain (1 = superior, 2 = superior's superior).
    """

    after: timedelta | str | IsoDuration = timedelta(0)
    action: str = "notify"
    levels_up: int = 1

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise SlaError(
                f"unknown escalation action {self.action!r}", hint="use " + ", ".join(ACTIONS)
            )
        if self.levels_up < 1:
            raise SlaError("an escalation level goes at least one level up")


@dataclass(frozen=True)
class EscalationPolicy:
    """Warnings and escalation levels for one SLA.

    Attributes:
        name: Policy name.
        sla: The clock definition (target, calendar, warning fractions).
        levels: In order; level 1 is the first escalation.
        skip_unavailable: Skip superiors who are absent at the time (go one further up).
    """

    name: str
    sla: SlaDefinition
    levels: tuple[EscalationLevel, ...] = (EscalationLevel(),)
    skip_unavailable: bool = True


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One scheduled step.

    Attributes:
        kind: ``"warning"`` or ``"escalation"``.
        level: 0 for warnings, 1… for escalation levels.
        at: When it is due (UTC); for future steps, assuming the clock keeps running.
        action: ``notify`` for warnings, else the level's action.
        fraction: For warnings, the fraction of the target.
        reached: Whether ``at`` is at or before the schedule's reference instant.
    """

    kind: str
    level: int
    at: datetime
    action: str
    fraction: float | None = None
    reached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "level": self.level,
            "at": self.at.isoformat(),
            "action": self.action,
            "fraction": self.fraction,
            "reached": self.reached,
        }


def escalation_schedule(
    policy: EscalationPolicy, events: Iterable[SlaEvent], at: datetime
) -> list[EscalationStep]:
    """Every step of the policy with its due instant, as known at ``at``.

    Past warnings keep the instant they were reached; future steps assume the clock keeps
    running from ``at``. While the clock is paused or pending, only reached steps are listed (the
    rest have no due instant until it runs again); a stopped clock lists only reached steps.
    """
    state = sla_state(policy.sla, list(events), at)
    cal = policy.sla.clock_calendar
    steps: list[EscalationStep] = []
    running = state.running
    for fraction in sorted(policy.sla.warn_at):
        when = state.warnings.get(fraction)
        if when is None and running:
            when = cal.add_business_duration(state.at, state.target * fraction - state.elapsed)
        if when is not None:
            steps.append(EscalationStep("warning", 0, when, "notify", fraction, when <= state.at))
    due = state.due
    if due is None:
        return steps
    if not running and state.status is not SlaStatus.BREACHED:
        return steps
    for index, level in enumerate(policy.levels, start=1):
        when = cal.add_business_duration(due, level.after)
        if not running and when > state.at:
            continue
        steps.append(
            EscalationStep("escalation", index, when, level.action, None, when <= state.at)
        )
    return sorted(steps, key=lambda s: (s.at, s.level))


def steps_due(
    steps: Sequence[EscalationStep], after: datetime | None, until: datetime
) -> list[EscalationStep]:
    """Steps due in ``(after, until]`` (what a job that last ran at ``after`` must fire now)."""
    low = as_utc(after) if after is not None else None
    high = as_utc(until)
    return [s for s in steps if s.at <= high and (low is None or s.at > low)]


@dataclass(frozen=True)
class EscalationTarget:
    """Who an escalation goes to, and who was passed over."""

    person: str | None
    chain: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    reason: str


def escalation_target(
    org: Organisation,
    person: str,
    levels_up: int = 1,
    *,
    at: datetime | None = None,
    skip_unavailable: bool = True,
) -> EscalationTarget:
    """The superior ``levels_up`` steps above ``person`` (skipping absent ones when asked).

    An absent superior is passed over (the next one up takes the escalation) when
    ``skip_unavailable`` and ``at`` are given; off-shift superiors are not skipped (an escalation
    waits in their list). With no one left, ``person`` is ``None`` and the reason says so.
    """
    chain = org.superior_chain(person)
    skipped: list[tuple[str, str]] = []
    if len(chain) < levels_up:
        return EscalationTarget(
            None,
            chain,
            (),
            f"{person} has only {len(chain)} superior(s) above; cannot go {levels_up} up",
        )
    index = levels_up - 1
    while index < len(chain):
        candidate = chain[index]
        absence = org.absence_at(candidate, at) if (skip_unavailable and at is not None) else None
        if absence is None:
            via = f" (skipped {', '.join(p for p, _ in skipped)})" if skipped else ""
            return EscalationTarget(
                candidate,
                chain,
                tuple(skipped),
                f"{candidate} is {levels_up} level(s) above {person}{via}",
            )
        skipped.append((candidate, f"absent ({absence.reason})" if absence.reason else "absent"))
        index += 1
    return EscalationTarget(None, chain, tuple(skipped), f"every superior above {person} is absent")


@dataclass(frozen=True)
class EscalationRecord:
    """What the engine does for one escalation step and appends to history."""

    task_id: str
    policy: str
    level: int
    action: str
    at: datetime
    from_person: str | None
    to_person: str | None
    reason: str
    skipped: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task_id": self.task_id,
            "policy": self.policy,
            "level": self.level,
            "action": self.action,
            "at": self.at.isoformat(),
            "from": self.from_person,
            "to": self.to_person,
            "reason": self.reason,
            "skipped": [{"person": p, "reason": r} for p, r in self.skipped],
        }


def escalate(
    org: Organisation,
    policy: EscalationPolicy,
    step: EscalationStep,
    *,
    task_id: str,
    assignee: str | None,
    at: datetime,
) -> EscalationRecord:
    """The record for firing ``step`` on a task held by ``assignee``.

    Warnings notify the assignee. Escalation level *n* goes ``levels_up`` above the assignee;
    with no assignee (task in a queue) or nobody above, the record has ``to_person=None`` and the
    engine notifies the process owner instead.
    """
    at = as_utc(at)
    if step.kind == "warning":
        share = f"{step.fraction:.0%}" if step.fraction is not None else "part"
        return EscalationRecord(
            task_id,
            policy.name,
            0,
            "notify",
            at,
            assignee,
            assignee,
            f"warning: {share} of {policy.sla.name!r} used",
        )
    level = policy.levels[step.level - 1]
    if assignee is None:
        return EscalationRecord(
            task_id,
            policy.name,
            step.level,
            level.action,
            at,
            None,
            None,
            "task has no assignee; nobody to escalate above",
        )
    target = escalation_target(
        org, assignee, level.levels_up, at=at, skip_unavailable=policy.skip_unavailable
    )
    return EscalationRecord(
        task_id,
        policy.name,
        step.level,
        level.action,
        at,
        assignee,
        target.person,
        f"{policy.sla.name!r} breached; level {step.level}: {target.reason}",
        target.skipped,
    )
