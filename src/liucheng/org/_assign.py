"""Assignment strategies: who gets a new task, and why.

Every strategy is a pure function of the organisation, the task, the instant, the open work per
person and the persistent round-robin cursors; it returns an :class:`AssignmentDecision` that
records the strategy, the candidates considered, who was excluded and why, who was chosen (or
that the task stays in the group queue, and why) and the new cursor state. The engine stores the
cursor state and appends the decision to history.

Common rules: nobody absent, off shift (per their working calendar) or at capacity gets work; when
nobody is left the task stays in the group queue with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from liucheng.errors import ConfigurationError
from liucheng.feel import compile_expression

from ._calendar import as_utc
from ._feel import org_functions
from ._model import Organisation

__all__ = [
    "AssignmentDecision",
    "AssignmentState",
    "AssignmentStrategy",
    "Exclusion",
    "LeastLoaded",
    "Manual",
    "RoundRobin",
    "RuleStrategy",
    "SkillBased",
    "TaskToAssign",
    "make_strategy",
    "rebalance",
    "strategy_for",
    "with_decision",
]


@dataclass(frozen=True)
class TaskToAssign:
    """What a strategy needs to know about a task.

    Attributes:
        id: Task id.
        role: Role of the task's lane (its members are candidates).
        candidate_groups: Candidate groups (their members are candidates; also the queue).
        candidate_users: Candidate users.
        required_skills: Skill → minimum level (skill-based strategy).
        effort: Expected effort (weights open work; 1 for an ordinary task).
        name, process_id: For records.
        variables: Process variables (for rule strategies).
    """

    id: str
    role: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    required_skills: Mapping[str, int] = field(default_factory=dict)
    effort: float = 1.0
    name: str | None = None
    process_id: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pool_key(self) -> str:
        """Key of the round-robin cursor for this task's candidate pool."""
        if self.role:
            return f"role:{self.role}"
        if self.candidate_groups:
            return "groups:" + ",".join(sorted(self.candidate_groups))
        return "users:" + ",".join(sorted(self.candidate_users))

    @property
    def queue(self) -> tuple[str, ...]:
        """The group queue the task waits in when nobody is assigned."""
        if self.candidate_groups:
            return self.candidate_groups
        return (self.role,) if self.role else ()


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A candidate that was not eligible, and why."""

    person: str
    reason: str


@dataclass(frozen=True)
class AssignmentState:
    """Persistent round-robin cursors: pool key → last person assigned from that pool."""

    cursors: Mapping[str, str] = field(default_factory=dict)

    def advanced(self, key: str, person: str) -> AssignmentState:
        """A copy with the cursor of ``key`` on ``person``."""
        return AssignmentState({**self.cursors, key: person})

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return dict(self.cursors)


@dataclass(frozen=True)
class AssignmentDecision:
    """The record of one assignment decision (appended to history).

    Attributes:
        task_id: The task.
        strategy: Strategy name.
        assignee: Chosen person, or ``None`` (the task stays in the group queue).
        candidate_groups: The queue (groups) the task is offered to when unassigned.
        candidates: Everyone considered, in order.
        eligible: Candidates that passed every filter.
        excluded: Candidates filtered out, with reasons.
        reason: One sentence for people.
        at: When the decision was taken.
        state: Round-robin cursors after the decision.
        previous_assignee: For re-assignments (re-balancing, escalation).
        effort: The task's effort (to update open work).
    """

    task_id: str
    strategy: str
    assignee: str | None
    candidate_groups: tuple[str, ...]
    candidates: tuple[str, ...]
    eligible: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    reason: str
    at: datetime
    state: AssignmentState
    previous_assignee: str | None = None
    effort: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the history record)."""
        return {
            "task_id": self.task_id,
            "strategy": self.strategy,
            "assignee": self.assignee,
            "candidate_groups": list(self.candidate_groups),
            "candidates": list(self.candidates),
            "eligible": list(self.eligible),
            "excluded": [{"person": e.person, "reason": e.reason} for e in self.excluded],
            "reason": self.reason,
            "at": self.at.isoformat(),
            "previous_assignee": self.previous_assignee,
            "effort": self.effort,
        }


class AssignmentStrategy(Protocol):
    """What every strategy provides."""

    @property
    def name(self) -> str:
        """Strategy name (recorded in decisions)."""
        ...

    def assign(
        self,
        org: Organisation,
        task: TaskToAssign,
        *,
        at: datetime,
        workload: Mapping[str, float] | None = None,
        state: AssignmentState | None = None,
        exclude: Iterable[str] = (),
    ) -> AssignmentDecision:
        """Decide who gets ``task`` at ``at``."""
        ...


def _candidates(org: Organisation, task: TaskToAssign) -> list[str]:
    seen: dict[str, None] = {}
    for pid in task.candidate_users:
        seen.setdefault(pid, None)
    if task.role:
        for pid in org.members(task.role):
            seen.setdefault(pid, None)
    for group in task.candidate_groups:
        for pid in org.group_members(group):
            seen.setdefault(pid, None)
    return list(seen)


def _screen(
    org: Organisation,
    task: TaskToAssign,
    at: datetime,
    workload: Mapping[str, float],
    exclude: Iterable[str],
) -> tuple[list[str], list[str], list[Exclusion]]:
    """Candidates, eligible ones, exclusions (unknown, excluded, absent, off shift, full)."""
    candidates = _candidates(org, task)
    excluded_ids = set(exclude)
    eligible: list[str] = []
    excluded: list[Exclusion] = []
    for pid in candidates:
        if pid not in org.people:
            excluded.append(Exclusion(pid, "unknown person"))
            continue
        if pid in excluded_ids:
            excluded.append(Exclusion(pid, "excluded (being relieved of work)"))
            continue
        why = org.availability(pid, at)
        if why is not None:
            excluded.append(Exclusion(pid, why))
            continue
        capacity = org.people[pid].capacity
        load = workload.get(pid, 0.0)
        if capacity is not None and load + task.effort > capacity:
            excluded.append(Exclusion(pid, f"at capacity ({load:g} open of {capacity:g})"))
            continue
        eligible.append(pid)
    return candidates, eligible, excluded


def _rotation(eligible: Sequence[str], cursor: str | None) -> list[str]:
    """Eligible people in id order, starting after the cursor (wrapping round)."""
    ordered = sorted(eligible)
    if cursor is None:
        return ordered
    after = [p for p in ordered if p > cursor]
    return after + [p for p in ordered if p <= cursor]


def _decide(  # noqa: PLR0917 - private record builder
    strategy: str,
    task: TaskToAssign,
    at: datetime,
    state: AssignmentState,
    candidates: Sequence[str],
    eligible: Sequence[str],
    excluded: Sequence[Exclusion],
    chosen: str | None,
    reason: str,
) -> AssignmentDecision:
    new_state = state.advanced(task.pool_key, chosen) if chosen is not None else state
    return AssignmentDecision(
        task_id=task.id,
        strategy=strategy,
        assignee=chosen,
        candidate_groups=task.queue,
        candidates=tuple(candidates),
        eligible=tuple(eligible),
        excluded=tuple(excluded),
        reason=reason,
        at=at,
        state=new_state,
        effort=task.effort,
    )


def _nobody_decision(  # noqa: PLR0917 - private record builder
    strategy: str,
    task: TaskToAssign,
    at: datetime,
    state: AssignmentState,
    candidates: Sequence[str],
    eligible: Sequence[str],
    excluded: Sequence[Exclusion],
) -> AssignmentDecision:
    """Nobody was eligible: the task stays in its group queue, with every exclusion's reason."""
    reason = _nobody(candidates, excluded)
    return _decide(strategy, task, at, state, candidates, eligible, excluded, None, reason)


def _nobody(candidates: Sequence[str], excluded: Sequence[Exclusion]) -> str:
    if not candidates:
        return "no candidates (role, groups and users are empty); left in the group queue"
    reasons = "; ".join(f"{e.person}: {e.reason}" for e in excluded)
    return f"nobody available ({reasons}); left in the group queue"


@dataclass(frozen=True)
class Manual:
    """Group queue: candidates only, nobody assigned; people claim from the queue."""

    name: str = "manual"

    def assign(
        self,
        org: Organisation,
        task: TaskToAssign,
        *,
        at: datetime,
        workload: Mapping[str, float] | None = None,
        state: AssignmentState | None = None,
        exclude: Iterable[str] = (),
    ) -> AssignmentDecision:
        """Leave the task in its group queue."""
        at = as_utc(at)
        candidates, eligible, excluded = _screen(org, task, at, workload or {}, exclude)
        queue = ", ".join(task.queue) or "candidate users"
        return _decide(
            self.name,
            task,
            at,
            state or AssignmentState(),
            candidates,
            eligible,
            excluded,
            None,
            f"manual assignment: offered to {queue} to claim",
        )


@dataclass(frozen=True)
class RoundRobin:
    """Each pool's eligible people in turn (id order), continuing after the stored cursor."""

    name: str = "round-robin"

    def assign(
        self,
        org: Organisation,
        task: TaskToAssign,
        *,
        at: datetime,
        workload: Mapping[str, float] | None = None,
        state: AssignmentState | None = None,
        exclude: Iterable[str] = (),
    ) -> AssignmentDecision:
        """Give the task to the next eligible person after the pool's cursor."""
        at = as_utc(at)
        state = state or AssignmentState()
        candidates, eligible, excluded = _screen(org, task, at, workload or {}, exclude)
        if not eligible:
            return _nobody_decision(self.name, task, at, state, candidates, eligible, excluded)
        cursor = state.cursors.get(task.pool_key)
        chosen = _rotation(eligible, cursor)[0]
        return _decide(
            self.name,
            task,
            at,
            state,
            candidates,
            eligible,
            excluded,
            chosen,
            f"round-robin in {task.pool_key}: next after {cursor or '(start)'}",
        )


def _least_loaded(
    eligible: Sequence[str], workload: Mapping[str, float], cursor: str | None
) -> tuple[str, float]:
    order = _rotation(eligible, cursor)
    lowest = min(workload.get(p, 0.0) for p in order)
    chosen = next(p for p in order if workload.get(p, 0.0) == lowest)
    return chosen, lowest


@dataclass(frozen=True)
class LeastLoaded:
    """The eligible person with the least open work (effort-weighted); ties in round-robin order."""

    name: str = "least-loaded"

    def assign(
        self,
        org: Organisation,
        task: TaskToAssign,
        *,
        at: datetime,
        workload: Mapping[str, float] | None = None,
        state: AssignmentState | None = None,
        exclude: Iterable[str] = (),
    ) -> AssignmentDecision:
        """Give the task to whoever has the least open work."""
        at = as_utc(at)
        state = state or AssignmentState()
        load = workload or {}
        candidates, eligible, excluded = _screen(org, task, at, load, exclude)
        if not eligible:
            return _nobody_decision(self.name, task, at, state, candidates, eligible, excluded)
        chosen, lowest = _least_loaded(eligible, load, state.cursors.get(task.pool_key))
        return _decide(
            self.name,
            task,
            at,
            state,
            candidates,
            eligible,
            excluded,
            chosen,
            f"least loaded: {chosen} has {lowest:g} open work",
        )


@dataclass(frozen=True)
class SkillBased:
    """People with every required skill at the required level; best match, then least loaded.

    ``match="best"`` prefers the highest total level over the required skills (the expert);
    ``match="closest"`` prefers the smallest surplus over the requirement (keeps experts free).
    """

    name: str = "skill-based"
    match: str = "best"

    def assign(
        self,
        org: Organisation,
        task: TaskToAssign,
        *,
        at: datetime,
        workload: Mapping[str, float] | None = None,
        state: AssignmentState | None = None,
        exclude: Iterable[str] = (),
    ) -> AssignmentDecision:
        """Give the task to the best skill match, then the least loaded among equals."""
        at = as_utc(at)
        state = state or AssignmentState()
        load = workload or {}
        candidates, available, excluded = _screen(org, task, at, load, exclude)
        eligible: list[str] = []
        scores: dict[str, int] = {}
        for pid in available:
            skills = org.people[pid].skills
            missing = [
                f"{skill} {skills.get(skill, 0)}<{level}"
                for skill, level in task.required_skills.items()
                if skills.get(skill, 0) < level
            ]
            if missing:
                excluded.append(Exclusion(pid, "lacks skill " + ", ".join(missing)))
                continue
            total = sum(skills.get(skill, 0) for skill in task.required_skills)
            surplus = sum(skills.get(s, 0) - lv for s, lv in task.required_skills.items())
            scores[pid] = total if self.match == "best" else -surplus
            eligible.append(pid)
        if not eligible:
            return _nobody_decision(self.name, task, at, state, candidates, eligible, excluded)
        top = max(scores.values())
        best = [p for p in eligible if scores[p] == top]
        chosen, lowest = _least_loaded(best, load, state.cursors.get(task.pool_key))
        return _decide(
            self.name,
            task,
            at,
            state,
            candidates,
            eligible,
            excluded,
            chosen,
            f"skill match ({self.match}) score {top} shared by {len(best)}; "
            f"{chosen} least loaded with {lowest:g} open work",
        )


RuleHook = Callable[[TaskToAssign, Sequence[str], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class RuleStrategy:
    """A FEEL expression or a Python hook (e.g. a DMN decision) picks the assignee.

    The expression sees ``task`` (context), ``candidates`` (eligible ids), ``workload`` and the org
    functions; it returns a person id, a list of ids (the first eligible wins) or null (queue). A
    result naming someone who is not eligible leaves the task in the queue, with the reason.
    """

    expression: str | None = None
    hook: RuleHook | None = None
    name: str = "rule"

    def _evaluate(
        self,
        org: Organisation,
        context: dict[str, Any],
        task: TaskToAssign,
        eligible: Sequence[str],
    ) -> Any:
        if self.hook is not None:
            return self.hook(task, tuple(eligible), context)
        if self.expression is None:
            raise ConfigurationError(
                "a rule strategy needs an expression or a hook", code="org.assignment.rule"
            )
        return compile_expression(self.expression).evaluate({**org_functions(org), **context})

    def assign(
        self,
        org: Organisation,
        task: TaskToAssign,
        *,
        at: datetime,
        workload: Mapping[str, float] | None = None,
        state: AssignmentState | None = None,
        exclude: Iterable[str] = (),
    ) -> AssignmentDecision:
        """Run the rule and check its answer against the eligible people."""
        at = as_utc(at)
        state = state or AssignmentState()
        load = workload or {}
        candidates, eligible, excluded = _screen(org, task, at, load, exclude)
        context = {
            "task": {
                "id": task.id,
                "name": task.name,
                "role": task.role,
                "candidate groups": list(task.candidate_groups),
                "candidate users": list(task.candidate_users),
                "required skills": dict(task.required_skills),
                "effort": task.effort,
                "process id": task.process_id,
                "variables": dict(task.variables),
            },
            "candidates": list(eligible),
            "workload": {p: load.get(p, 0.0) for p in eligible},
            **dict(task.variables),
        }
        result = self._evaluate(org, context, task, eligible)
        picks = [result] if isinstance(result, str) else list(result or [])
        what = self.expression or "hook"
        for pick in picks:
            if isinstance(pick, str) and pick in eligible:
                return _decide(
                    self.name,
                    task,
                    at,
                    state,
                    candidates,
                    eligible,
                    excluded,
                    pick,
                    f"rule {what!r} chose {pick}",
                )
        if picks:
            why = "; ".join(
                f"{p}: " + next((e.reason for e in excluded if e.person == p), "not a candidate")
                for p in picks
            )
            reason = (
                f"rule {what!r} chose {', '.join(map(str, picks))}, not eligible ({why}); "
                "left in the group queue"
            )
        else:
            reason = f"rule {what!r} chose nobody; left in the group queue"
        return _decide(self.name, task, at, state, candidates, eligible, excluded, None, reason)


def make_strategy(name: str, **options: Any) -> AssignmentStrategy:
    """A strategy by name: ``manual``, ``round-robin``, ``least-loaded``, ``skill-based``, ``rule``.

    Raises:
        ConfigurationError: Unknown name or options.
    """
    key = name.strip().lower().replace("_", "-")
    try:
        if key in ("manual", "queue", "group-queue"):
            return Manual(**options)
        if key in ("round-robin", "roundrobin"):
            return RoundRobin(**options)
        if key in ("least-loaded", "leastloaded"):
            return LeastLoaded(**options)
        if key in ("skill-based", "skills"):
            return SkillBased(**options)
        if key in ("rule", "feel", "dmn"):
            return RuleStrategy(**options)
    except TypeError as exc:
        raise ConfigurationError(
            f"bad options for strategy {name!r}: {exc}", code="org.assignment.options"
        ) from exc
    raise ConfigurationError(
        f"unknown assignment strategy {name!r}",
        code="org.assignment.unknown",
        hint="use manual, round-robin, least-loaded, skill-based or rule",
    )


def with_decision(workload: Mapping[str, float], decision: AssignmentDecision) -> dict[str, float]:
    """Open work after a decision (moves the effort from the previous assignee to the new one)."""
    out = dict(workload)
    if decision.previous_assignee is not None and decision.previous_assignee != decision.assignee:
        out[decision.previous_assignee] = max(
            0.0, out.get(decision.previous_assignee, 0.0) - decision.effort
        )
    if decision.assignee is not None and decision.assignee != decision.previous_assignee:
        out[decision.assignee] = out.get(decision.assignee, 0.0) + decision.effort
    return out


def rebalance(
    org: Organisation,
    strategy: AssignmentStrategy,
    assignments: Iterable[tuple[TaskToAssign, str]],
    *,
    at: datetime,
    workload: Mapping[str, float] | None = None,
    state: AssignmentState | None = None,
    person: str | None = None,
) -> tuple[list[AssignmentDecision], AssignmentState, dict[str, float]]:
    """Re-assign the open tasks of people who are absent at ``at`` (or of ``person``).

    Off-shift people keep their work (they come back tomorrow); absence moves it. Each moved
    task gets a decision with ``previous_assignee``; a task nobody can take goes back to its
    group queue (``assignee=None``).

    Args:
        org: The organisation (with the new absence already set).
        strategy: How to pick the new assignee.
        assignments: ``(task, current assignee)`` for open tasks.
        at: Now.
        workload: Open work per person (including these tasks).
        state: Round-robin cursors.
        person: Only relieve this person (absent or not, e.g. leaving the team).

    Returns:
        The decisions, the new cursor state and the new open work.
    """
    at = as_utc(at)
    load = dict(workload or {})
    current = state or AssignmentState()
    decisions: list[AssignmentDecision] = []
    for task, assignee in assignments:
        if person is not None:
            if assignee != person:
                continue
        elif assignee in org.people and org.absence_at(assignee, at) is None:
            continue
        decision = strategy.assign(
            org, task, at=at, workload=load, state=current, exclude=(assignee,)
        )
        absence = org.absence_at(assignee, at) if assignee in org.people else None
        why = "absent" if absence is not None else "relieved"
        decision = AssignmentDecision(
            **{
                **decision.__dict__,
                "previous_assignee": assignee,
                "reason": f"re-balanced: {assignee} {why}; {decision.reason}",
            }
        )
        decisions.append(decision)
        current = decision.state
        load = with_decision(load, decision)
    return decisions, current, load


def strategy_for(
    org: Organisation, process_id: str, task: str, lane: str | None = None
) -> AssignmentStrategy:
    """The strategy configured for a task: its own entry, else its lane's, else ``"*"``.

    Without any entry (or an unknown process) the task goes to its group queue (``manual``).
    """
    proc = org.processes.get(process_id)
    if proc is not None:
        lane = lane or (proc.tasks.get(task) if proc.tasks.get(task) in proc.lanes else None)
        for key in (task, lane, "*"):
            if key is not None and key in proc.assignment:
                spec = dict(proc.assignment[key])
                return make_strategy(str(spec.pop("strategy")), **spec)
    return Manual()
