"""Resource pools drawn from the organisation model (``liucheng.org``).

A scenario that names an ``organisation`` file may leave a pool's ``count``/``people`` out and
select its members by ``role``, ``group`` and/or ``department`` (all given selectors must hold).
Each member then works on their own calendar from the organisation (their ``calendar``, else the
organisation's ``default_calendar``, else always), is off during their absences, and costs
their ``cost_rate`` per working hour (the pool's ``cost_per_hour`` when they have none). Their
``capacity`` (open work at once) bounds what push strategies hand them: see ``_Member``.

The organisation's ``processes[].lanes`` block (lane name -> role) and ``tasks`` block (task
name -> lane or role) select the pool of a task: a role without a scenario pool gets one of its
own (id = role id, its strategy from the process's ``assignment`` block).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ScenarioError
from .calendars import WeeklyCalendar
from .scenario import ResourcePool, Scenario

if TYPE_CHECKING:
    from liucheng.org import BusinessCalendar, Organisation

__all__ = ["OrgCalendar", "OrgMember", "OrgPools", "resolve_org_pools"]

_YEARS = 10 * 366 * 86400.0  # working time is generated at most this far ahead
_STRATEGIES = {"first-free", "round-robin", "least-loaded", "skill-based"}


class OrgCalendar(WeeklyCalendar):
    """A person's working time on the simulation clock: their business calendar minus absences.

    Spans are generated lazily from :meth:`BusinessCalendar.iter_intervals` (time zones, DST,
    holidays, half days and overrides included) and cached; simulation time only moves forward.
    """

    def __init__(
        self,
        calendar: BusinessCalendar | None,
        absences: list[tuple[float, float]],
        start: dt.datetime,
    ) -> None:
        self.start = start
        self.holidays = frozenset()
        self.spans = []
        self._origin = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        self._absences = sorted(absences)
        self._lo: list[float] = []
        self._hi: list[float] = []
        self._source = self._raw(calendar)
        self._exhausted = False

    def _raw(self, calendar: BusinessCalendar | None) -> Iterator[tuple[float, float]]:
        if calendar is None:
            day = 0.0
            while day < _YEARS:
                yield day, day + 86400.0
                day += 86400.0
            return
        from liucheng.errors import LiuchengError

        origin = self._origin
        try:
            for a, b in calendar.iter_intervals(origin):
                lo, hi = (a - origin).total_seconds(), (b - origin).total_seconds()
                if lo > _YEARS:
                    return
                yield lo, hi
        except LiuchengError:
            return  # no working time for years: closed from here on

    def _pieces(self, a: float, b: float) -> Iterator[tuple[float, float]]:
        """``[a, b)`` minus the absences."""
        absences = self._absences
        i = bisect.bisect_left(absences, (a, -math.inf))
        i = max(i - 1, 0)
        for lo, hi in absences[i:]:
            if lo >= b:
                break
            if hi <= a:
                continue
            if lo > a:
                yield a, lo
            a = max(a, hi)
            if a >= b:
                return
        if a < b:
            yield a, b

    def _extend(self) -> bool:
        if self._exhausted:
            return False
        for a, b in self._source:
            added = False
            for lo, hi in self._pieces(a, b):
                if self._lo and lo <= self._hi[-1]:
                    self._hi[-1] = max(self._hi[-1], hi)
                else:
                    self._lo.append(lo)
                    self._hi.append(hi)
                added = True
            if added:
                return True
        self._exhausted = True
        return False

    def spans_from(self, t: float) -> Iterator[tuple[float, float]]:
        """Working spans (simulation seconds) that end after ``t``, in time order."""
        while not self._hi or self._hi[-1] <= t:
            if not self._extend():
                return
        i = bisect.bisect_right(self._hi, t)
        while True:
            # a span is final once a later one exists: raw spans that touch (midnight in a
            # 24-hour calendar, days without a calendar) merge into it
            while i >= len(self._hi) - 1 and not self._exhausted:
                self._extend()
            if i >= len(self._hi):
                return
            yield max(self._lo[i], t), self._hi[i]
            i += 1


@dataclass
class OrgMember:
    """A person in a pool drawn from the organisation."""

    id: str
    calendar: OrgCalendar | None
    cost_per_hour: float
    skills: dict[str, int] = field(default_factory=dict)
    capacity: float | None = None


@dataclass
class OrgPools:
    """What the organisation contributes to one simulation.

    Attributes:
        members: Pool id -> its people (for pools without ``count``/``people``).
        extra_pools: Pools created for roles of the process's lanes: id -> strategy.
        element_pools: BPMN element id -> pool ids (from ``lanes``/``tasks`` of the process).
        strategies: Pool id -> assignment strategy taken from the organisation.
        skills: Person id -> skill levels (for skill-based pools with named people).
        capacities: Person id -> capacity (open work items at once; named people too).
    """

    members: dict[str, list[OrgMember]] = field(default_factory=dict)
    extra_pools: dict[str, str] = field(default_factory=dict)
    element_pools: dict[str, list[str]] = field(default_factory=dict)
    strategies: dict[str, str] = field(default_factory=dict)
    skills: dict[str, dict[str, int]] = field(default_factory=dict)
    capacities: dict[str, float] = field(default_factory=dict)


def _strategy(entry: Any) -> str | None:
    if isinstance(entry, str):
        name: Any = entry
    elif isinstance(entry, Mapping):
        name = entry.get("strategy")
    else:
        return None
    if name == "manual":
        return "first-free"  # nobody picks in simulation: the first free member takes it
    return name if name in _STRATEGIES else None


def _select(org: Organisation, pool_id: str, spec: ResourcePool) -> list[str]:
    sets: list[set[str]] = []
    known_roles = set(org.roles)
    if spec.role is not None:
        if spec.role not in known_roles:
            raise ScenarioError(
                f"the organisation has no role {spec.role!r}", path=f"resources.{pool_id}.role"
            )
        sets.append(set(org.members(spec.role)))
    if spec.group is not None:
        if spec.group not in set(org.groups):
            raise ScenarioError(
                f"the organisation has no group {spec.group!r}", path=f"resources.{pool_id}.group"
            )
        sets.append(set(org.group_members(spec.group)))
    if spec.department is not None:
        if spec.department not in set(org.departments):
            raise ScenarioError(
                f"the organisation has no department {spec.department!r}",
                path=f"resources.{pool_id}.department",
            )
        sets.append(set(org.department_members(spec.department)))
    chosen = set.intersection(*sets) if sets else set()
    if not chosen:
        raise ScenarioError(
            f"no person of the organisation matches pool {pool_id!r}",
            path=f"resources.{pool_id}",
            hint="check its role/group/department",
        )
    return sorted(chosen)


def _member(org: Organisation, pid: str, start: dt.datetime, cost: float) -> OrgMember:
    person = org.person(pid)
    calendar = org.calendar_of(pid)
    origin = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    zone = org.zone_of(pid)
    absences = []
    for absence in person.absences:
        lo, hi = absence.bounds(zone)
        absences.append(((lo - origin).total_seconds(), (hi - origin).total_seconds()))
    cal = None if calendar is None and not absences else OrgCalendar(calendar, absences, start)
    rate = person.cost_rate if person.cost_rate is not None else cost
    return OrgMember(pid, cal, float(rate), dict(person.skills), person.capacity)


def load_org(scenario: Scenario, base_dir: Path | None) -> Organisation:
    """Load the scenario's organisation file (relative to ``base_dir``)."""
    from liucheng.org import load_organisation

    assert scenario.organisation is not None
    path = Path(scenario.organisation)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise ScenarioError(f"organisation file not found: {path}", path="organisation")
    return load_organisation(path)


def resolve_org_pools(
    scenario: Scenario,
    process_id: str,
    names: dict[str, str],
    lanes: dict[str, list[str]],
    org: Organisation,
) -> OrgPools:
    """Members, lane pools and strategies the organisation gives ``scenario``.

    Args:
        scenario: The scenario (its pools without ``count``/``people`` are drawn from ``org``).
        process_id: The simulated BPMN process (its entry in ``org.processes``).
        names: BPMN element id -> name.
        lanes: BPMN element id -> lane names/ids.
        org: The organisation.
    """
    out = OrgPools()
    for pool_id, spec in scenario.resources.items():
        if spec.count is None and spec.people is None:
            out.members[pool_id] = [
                _member(org, pid, scenario.start, spec.cost_per_hour)
                for pid in _select(org, pool_id, spec)
            ]
        for person in spec.people or []:
            if person.id in org.people:
                known = org.person(person.id)
                out.skills[person.id] = dict(known.skills)
                if known.capacity is not None:
                    out.capacities[person.id] = known.capacity
    proc = org.processes.get(process_id)
    if proc is None:
        return out
    by_role = {spec.role: pid for pid, spec in scenario.resources.items() if spec.role}
    known_roles = set(org.roles)

    def pool_for_role(role: str, label: str) -> str | None:
        if role in scenario.resources:
            return role
        if role in by_role:
            return by_role[role]
        if role not in known_roles or not org.members(role):
            return None
        if role not in out.members:
            out.members[role] = [
                _member(org, pid, scenario.start, 0.0) for pid in org.members(role)
            ]
            assigned = proc.assignment.get(label) or proc.assignment.get(role)
            assigned = assigned or proc.assignment.get("*")
            out.extra_pools[role] = _strategy(assigned) or "first-free"
        return role

    lane_pool: dict[str, str] = {}
    for lane, role in proc.lanes.items():
        found = pool_for_role(role, lane)
        if found is not None:
            lane_pool[lane] = found
    for eid, labels in lanes.items():
        pools = [lane_pool[x] for x in labels if x in lane_pool]
        if pools:
            out.element_pools[eid] = list(dict.fromkeys(pools))
    for eid, name in names.items():
        target = proc.tasks.get(name)
        if target is None:
            continue
        found = lane_pool.get(target) or pool_for_role(target, name)
        if found is not None:
            out.element_pools[eid] = [found]
    for pool_id, pool_spec in scenario.resources.items():
        if pool_spec.strategy is None:
            lane_of = next((ln for ln, r in proc.lanes.items() if r == pool_spec.role), None)
            entry = proc.assignment.get(lane_of or "") or proc.assignment.get(pool_spec.role or "")
            chosen = _strategy(entry) if entry is not None else None
            if chosen is not None:
                out.strategies[pool_id] = chosen
    return out
