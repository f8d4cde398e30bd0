"""The organisation model: departments, roles, groups, people and the process view (RACI).

Everything is an immutable value. :class:`Organisation` edits (``add_person``,
``update_person``, ``set_absences``, ...) return a *new* organisation that has been validated as a
whole; the old one is untouched, so a failed edit never leaves partial state and an engine can swap
versions atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from liucheng.errors import NotFoundError

from ._calendar import BusinessCalendar, as_utc
from ._errors import OrgValidationError

__all__ = [
    "Absence",
    "Department",
    "Group",
    "Organisation",
    "Person",
    "Problem",
    "ProcessOrg",
    "RaciRow",
    "RaciView",
    "Role",
]

Source = tuple[str | None, int | None]


@dataclass(frozen=True, slots=True)
class Absence:
    """A period a person is away.

    ``date`` bounds are whole local days, both included (in the person's calendar zone, else the
    organisation's zone); ``datetime`` bounds are instants, end excluded (naive = UTC).
    """

    start: date | datetime
    end: date | datetime
    reason: str | None = None

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The absence as a half-open UTC instant range."""
        return _bound(self.start, zone, end=False), _bound(self.end, zone, end=True)

    def covers(self, instant: datetime, zone: tzinfo) -> bool:
        """Whether ``instant`` lies in the absence."""
        begin, end = self.bounds(zone)
        return begin <= as_utc(instant) < end


def _bound(value: date | datetime, zone: tzinfo, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Department:
    """A node of the department tree."""

    id: str
    name: str
    parent: str | None = None
    head: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """A role people play (a lane of a process maps to a role)."""

    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A group of people (e.g. a candidate group of user tasks)."""

    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class Person:
    """A person of the organisation.

    Attributes:
        id: Stable id (also the user id for tasks).
        name: Display name.
        email: E-mail address.
        department: Department id.
        roles: Role ids.
        groups: Group ids.
        superior: Explicit superior's id; when ``None``, the head of the person's department
            (or of the nearest ancestor department with another head) is the superior.
        skills: Skill name → level 1 (basic) … 5 (expert).
        calendar: Name of the working calendar (shift); ``None`` means the organisation's
            default calendar, or always on shift when there is none.
        absences: Periods away.
        cost_rate: Cost per working hour (any currency, for simulation and KPIs).
        capacity: Most open work (in effort units, 1 per ordinary task) the person takes at once;
            ``None`` means no limit.
    """

    id: str
    name: str
    email: str | None = None
    department: str | None = None
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    superior: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    calendar: str | None = None
    absences: tuple[Absence, ...] = ()
    cost_rate: float | None = None
    capacity: float | None = None


@dataclass(frozen=True)
class ProcessOrg:
    """Who does what in one process.

    Attributes:
        id: Process id (the BPMN process id).
        name: Display name.
        owner: Person accountable for the process.
        lanes: Lane name → role id (the lane's people are responsible for its tasks).
        tasks: Task name → lane name, or role id (for a task outside lanes).
        consulted: References (``role:x``, ``group:x``, ``person:x``, ``department:x``; a bare
            name is a role) consulted on the process.
        informed: References informed about the process.
        assignment: Task or lane name (``"*"``: every other task) → assignment strategy:
            ``{"strategy": name, **options}`` (see :func:`liucheng.org.strategy_for`).
    """

    id: str
    name: str | None = None
    owner: str | None = None
    lanes: Mapping[str, str] = field(default_factory=dict)
    tasks: Mapping[str, str] = field(default_factory=dict)
    consulted: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()
    assignment: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding."""

    message: str
    file: str | None = None
    line: int | None = None
    code: str = "org.invalid"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"code": self.code, "message": self.message, "file": self.file, "line": self.line}


@dataclass(frozen=True)
class RaciRow:
    """One task of a RACI view; people are ids."""

    task: str
    lane: str | None
    role: str | None
    responsible: tuple[str, ...]
    accountable: str | None
    consulted: tuple[str, ...]
    informed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "task": self.task,
            "lane": self.lane,
            "role": self.role,
            "responsible": list(self.responsible),
            "accountable": self.accountable,
            "consulted": list(self.consulted),
            "informed": list(self.informed),
        }


@dataclass(frozen=True)
class RaciView:
    """The RACI matrix of a process."""

    process_id: str
    accountable: str | None
    rows: tuple[RaciRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "process": self.process_id,
            "accountable": self.accountable,
            "rows": [row.to_dict() for row in self.rows],
        }


REF_KINDS = ("role", "group", "person", "department")


@dataclass(frozen=True)
class Organisation:
    """An immutable, validated organisation; edits return new versions.

    Build one with :func:`load_organisation` or the constructor (which validates).

    Attributes:
        people, departments, roles, groups, processes: By id, in file order.
        calendars: Working calendars by name.
        default_calendar: Calendar of people who name none (``None``: always on shift).
        timezone: Zone for date-only absences of people without a calendar.
    """

    people: Mapping[str, Person] = field(default_factory=dict)
    departments: Mapping[str, Department] = field(default_factory=dict)
    roles: Mapping[str, Role] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)
    processes: Mapping[str, ProcessOrg] = field(default_factory=dict)
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    default_calendar: str | None = None
    timezone: str = "UTC"
    sources: Mapping[tuple[str, str], Source] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise org_error(problems)

    # -- validation ---------------------------------------------------------------------------

    def _where(self, kind: str, key: str) -> Source:
        return self.sources.get((kind, key), (None, None))

    def problems(self) -> list[Problem]:
        """Every rule the organisation breaks (empty when valid)."""
        out: list[Problem] = []
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError):
            return [Problem(f"unknown time zone {self.timezone!r}", code="org.timezone")]

        def add(kind: str, key: str, message: str, code: str) -> None:
            file, line = self._where(kind, key)
            out.append(Problem(message, file, line, code))

        for dept in self.departments.values():
            if dept.parent is not None and dept.parent not in self.departments:
                add(
                    "department",
                    dept.id,
                    f"department {dept.id!r}: unknown parent {dept.parent!r}",
                    "org.department.unknown",
                )
            if dept.head is not None and dept.head not in self.people:
                add(
                    "department",
                    dept.id,
                    f"department {dept.id!r}: unknown head {dept.head!r}",
                    "org.person.unknown",
                )
        for dept_id in self.departments:
            seen: list[str] = []
            probe: str | None = dept_id
            while probe is not None and probe in self.departments:
                if probe in seen:
                    if probe == dept_id:
                        add(
                            "department",
                            dept_id,
                            "department tree has a cycle: " + " → ".join([*seen, probe]),
                            "org.department.cycle",
                        )
                    break
                seen.append(probe)
                probe = self.departments[probe].parent
        for person in self.people.values():
            pid = person.id
            if person.department is not None and person.department not in self.departments:
                add(
                    "person",
                    pid,
                    f"person {pid!r}: unknown department {person.department!r}",
                    "org.department.unknown",
                )
            for role in person.roles:
                if role not in self.roles:
                    add("person", pid, f"person {pid!r}: unknown role {role!r}", "org.role.unknown")
            for group in person.groups:
                if group not in self.groups:
                    add(
                        "person",
                        pid,
                        f"person {pid!r}: unknown group {group!r}",
                        "org.group.unknown",
                    )
            if person.superior is not None and person.superior not in self.people:
                add(
                    "person",
                    pid,
                    f"person {pid!r}: unknown superior {person.superior!r}",
                    "org.superior.unknown",
                )
            if person.superior == pid:
                add("person", pid, f"person {pid!r} is their own superior", "org.superior.cycle")
            if person.calendar is not None and person.calendar not in self.calendars:
                add(
                    "person",
                    pid,
                    f"person {pid!r}: unknown calendar {person.calendar!r}",
                    "org.calendar.unknown",
                )
            for skill, level in person.skills.items():
                if not isinstance(level, int) or not 1 <= level <= 5:
                    add(
                        "person",
                        pid,
                        f"person {pid!r}: skill {skill!r} level {level!r} is not 1–5",
                        "org.skill.level",
                    )
            for absence in person.absences:
                begin, end = absence.bounds(self.zone_of(pid))
                if end <= begin:
                    add(
                        "person",
                        pid,
                        f"person {pid!r}: absence {absence.start}–{absence.end} "
                        "ends before it starts",
                        "org.absence.range",
                    )
            if person.capacity is not None and person.capacity < 0:
                add("person", pid, f"person {pid!r}: negative capacity", "org.capacity")
        if not any(p.code == "org.superior.unknown" for p in out):
            for pid in self.people:
                chain = [pid]
                probe = self._explicit_or_head(pid)
                if probe == pid:
                    continue  # already reported as "their own superior"
                while probe is not None:
                    if probe in chain:
                        if probe == pid:
                            add(
                                "person",
                                pid,
                                "superior chain has a cycle: " + " → ".join([*chain, probe]),
                                "org.superior.cycle",
                            )
                        break
                    chain.append(probe)
                    probe = self._explicit_or_head(probe)
        if self.default_calendar is not None and self.default_calendar not in self.calendars:
            out.append(
                Problem(
                    f"unknown default calendar {self.default_calendar!r}",
                    code="org.calendar.unknown",
                )
            )
        for proc in self.processes.values():
            if proc.owner is not None and proc.owner not in self.people:
                add(
                    "process",
                    proc.id,
                    f"process {proc.id!r}: unknown owner {proc.owner!r}",
                    "org.person.unknown",
                )
            for lane, role in proc.lanes.items():
                if role not in self.roles:
                    add(
                        "process",
                        proc.id,
                        f"process {proc.id!r}: lane {lane!r} maps to unknown role {role!r}",
                        "org.role.unknown",
                    )
            for task, target in proc.tasks.items():
                if target not in proc.lanes and target not in self.roles:
                    add(
                        "process",
                        proc.id,
                        f"process {proc.id!r}: task {task!r} maps to "
                        f"{target!r}, which is neither a lane nor a role",
                        "org.role.unknown",
                    )
            for ref in (*proc.consulted, *proc.informed):
                problem = self._check_ref(ref)
                if problem:
                    add("process", proc.id, f"process {proc.id!r}: {problem}", "org.ref.unknown")
        return out

    def _check_ref(self, ref: str) -> str | None:
        kind, _, key = ref.partition(":") if ":" in ref else ("role", "", ref)
        table: Mapping[str, Any] | None = {
            "role": self.roles,
            "group": self.groups,
            "person": self.people,
            "department": self.departments,
        }.get(kind)
        if table is None:
            return f"reference {ref!r} has unknown kind {kind!r} (use {', '.join(REF_KINDS)})"
        if key not in table:
            return f"reference {ref!r} names an unknown {kind}"
        return None

    # -- queries ------------------------------------------------------------------------------

    def person(self, person_id: str) -> Person:
        """The person with this id.

        Raises:
            NotFoundError: No such person.
        """
        try:
            return self.people[person_id]
        except KeyError:
            raise NotFoundError(
                f"unknown person {person_id!r}", code="org.person.not_found"
            ) from None

    @cached_property
    def _by_role(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for p in self.people.values():
            for role in p.roles:
                index.setdefault(role, []).append(p.id)
        return {k: tuple(v) for k, v in index.items()}

    @cached_property
    def _by_group(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for p in self.people.values():
            for group in p.groups:
                index.setdefault(group, []).append(p.id)
        return {k: tuple(v) for k, v in index.items()}

    def members(self, role: str) -> tuple[str, ...]:
        """Ids of the people who have ``role``, in file order."""
        return self._by_role.get(role, ())

    def group_members(self, group: str) -> tuple[str, ...]:
        """Ids of the people in ``group``, in file order."""
        return self._by_group.get(group, ())

    def subdepartments(self, department: str) -> tuple[str, ...]:
        """``department`` and every department below it."""
        out = [department]
        for probe in out:
            out.extend(d.id for d in self.departments.values() if d.parent == probe)
        return tuple(out)

    def department_members(self, department: str, *, recursive: bool = True) -> tuple[str, ...]:
        """Ids of the people in ``department`` (and its sub-departments when ``recursive``)."""
        depts = set(self.subdepartments(department)) if recursive else {department}
        return tuple(p.id for p in self.people.values() if p.department in depts)

    def _explicit_or_head(self, person_id: str) -> str | None:
        person = self.people.get(person_id)
        if person is None:
            return None
        if person.superior is not None:
            return person.superior
        dept_id = person.department
        hops = 0
        while dept_id is not None and dept_id in self.departments and hops <= len(self.departments):
            dept = self.departments[dept_id]
            if dept.head is not None and dept.head != person_id and dept.head in self.people:
                return dept.head
            dept_id = dept.parent
            hops += 1
        return None

    def superior(self, person_id: str) -> str | None:
        """The person's superior: the explicit one, else their department's head (see Person)."""
        self.person(person_id)
        return self._explicit_or_head(person_id)

    def superior_chain(self, person_id: str) -> tuple[str, ...]:
        """Superior, superior's superior, ... up to the top (the person not included)."""
        out: list[str] = []
        probe = self.superior(person_id)
        while probe is not None and probe not in out and probe != person_id:
            out.append(probe)
            probe = self._explicit_or_head(probe)
        return tuple(out)

    def reports(self, person_id: str) -> tuple[str, ...]:
        """Ids of the people whose superior is ``person_id``."""
        return tuple(p for p in self.people if self._explicit_or_head(p) == person_id)

    def has_role(self, person_id: str, role: str) -> bool:
        """Whether the person has the role."""
        return role in self.person(person_id).roles

    def calendar(self, name: str) -> BusinessCalendar:
        """The working calendar called ``name`` (timers and SLAs name calendars).

        Raises:
            NotFoundError: No such calendar.
        """
        try:
            return self.calendars[name]
        except KeyError:
            raise NotFoundError(
                f"unknown calendar {name!r}",
                code="org.calendar.not_found",
                hint="known: " + ", ".join(sorted(self.calendars)) if self.calendars else None,
            ) from None

    def calendar_of(self, person_id: str) -> BusinessCalendar | None:
        """The person's working calendar (``None``: always on shift)."""
        name = self.person(person_id).calendar or self.default_calendar
        return self.calendars.get(name) if name is not None else None

    def zone_of(self, person_id: str) -> tzinfo:
        """Time zone for the person's date-only absences."""
        calendar = self.calendar_of(person_id)
        return calendar.tz if calendar is not None else ZoneInfo(self.timezone)

    def absence_at(self, person_id: str, instant: datetime) -> Absence | None:
        """The absence covering ``instant``, if any."""
        zone = self.zone_of(person_id)
        for absence in self.person(person_id).absences:
            if absence.covers(instant, zone):
                return absence
        return None

    def availability(self, person_id: str, instant: datetime) -> str | None:
        """Why the person cannot take work at ``instant`` (``None`` when available).

        Returns ``"absent"`` (with the reason when known) or ``"off shift"``.
        """
        absence = self.absence_at(person_id, instant)
        if absence is not None:
            return f"absent ({absence.reason})" if absence.reason else "absent"
        calendar = self.calendar_of(person_id)
        if calendar is not None and not calendar.is_working(instant):
            return "off shift"
        return None

    def is_available(self, person_id: str, instant: datetime) -> bool:
        """Not absent and on shift at ``instant``."""
        return self.availability(person_id, instant) is None

    def resolve_ref(self, ref: str) -> tuple[str, ...]:
        """People behind a reference (``role:x``, ``group:x``, ``person:x``, ``department:x``)."""
        kind, _, key = ref.partition(":") if ":" in ref else ("role", "", ref)
        if kind == "role":
            return self.members(key)
        if kind == "group":
            return self.group_members(key)
        if kind == "department":
            return self.department_members(key)
        if kind == "person":
            return (key,) if key in self.people else ()
        return ()

    def raci(self, process_id: str, tasks: Mapping[str, str] | None = None) -> RaciView:
        """The RACI view of a process.

        Args:
            process_id: The process.
            tasks: Task name → lane name (or role id) as the BPMN model has them; merged over
                the process's own ``tasks``. Without any task, one row per lane.

        Raises:
            NotFoundError: Unknown process.
            OrgValidationError: A task names neither a lane nor a role.
        """
        proc = self.processes.get(process_id)
        if proc is None:
            raise NotFoundError(f"unknown process {process_id!r}", code="org.process.not_found")
        mapping = {**proc.tasks, **(tasks or {})}
        if not mapping:
            mapping = {lane: lane for lane in proc.lanes}
        consulted = _unique(p for ref in proc.consulted for p in self.resolve_ref(ref))
        informed = _unique(p for ref in proc.informed for p in self.resolve_ref(ref))
        rows: list[RaciRow] = []
        for task, target in mapping.items():
            if target in proc.lanes:
                lane: str | None = target
                role: str | None = proc.lanes[target]
            elif target in self.roles:
                lane, role = None, target
            else:
                raise OrgValidationError(
                    f"process {process_id!r}: task {task!r} maps to {target!r}, which is "
                    "neither a lane nor a role",
                    code="org.role.unknown",
                )
            rows.append(
                RaciRow(
                    task=task,
                    lane=lane,
                    role=role,
                    responsible=self.members(role) if role else (),
                    accountable=proc.owner,
                    consulted=consulted,
                    informed=informed,
                )
            )
        return RaciView(process_id, proc.owner, tuple(rows))

    # -- edits (each returns a new, validated organisation) ----------------------------------

    def _new(self, **changes: Any) -> Organisation:
        return replace(self, **changes)

    def add_person(self, person: Person) -> Organisation:
        """A copy with ``person`` added.

        Raises:
            OrgValidationError: The id is taken, or the person refers to unknown ids.
        """
        if person.id in self.people:
            raise OrgValidationError(f"duplicate person id {person.id!r}", code="org.duplicate")
        return self._new(people={**self.people, person.id: person})

    def update_person(self, person_id: str, **changes: Any) -> Organisation:
        """A copy with fields of one person changed (``id`` cannot change)."""
        current = self.person(person_id)
        if "id" in changes and changes["id"] != person_id:
            raise OrgValidationError("a person's id cannot change", code="org.id.immutable")
        return self._new(people={**self.people, person_id: replace(current, **changes)})

    def remove_person(
        self, person_id: str, *, reassign_reports_to: str | None = None
    ) -> Organisation:
        """A copy without the person.

        People whose explicit superior was the removed person get ``reassign_reports_to``, or
        else the removed person's own superior. Department heads and process owners that name the
        person must be changed first.
        """
        self.person(person_id)
        new_superior = reassign_reports_to or self._explicit_or_head(person_id)
        people = {
            pid: (replace(p, superior=new_superior) if p.superior == person_id else p)
            for pid, p in self.people.items()
            if pid != person_id
        }
        return self._new(people=people)

    def set_absences(self, person_id: str, absences: Iterable[Absence]) -> Organisation:
        """A copy with the person's absences replaced."""
        return self.update_person(person_id, absences=tuple(absences))

    def add_absence(self, person_id: str, absence: Absence) -> Organisation:
        """A copy with one absence added to the person."""
        return self.update_person(person_id, absences=(*self.person(person_id).absences, absence))

    def add_department(self, department: Department) -> Organisation:
        """A copy with a department added."""
        if department.id in self.departments:
            raise OrgValidationError(
                f"duplicate department id {department.id!r}", code="org.duplicate"
            )
        return self._new(departments={**self.departments, department.id: department})

    def update_department(self, department_id: str, **changes: Any) -> Organisation:
        """A copy with fields of one department changed."""
        if department_id not in self.departments:
            raise NotFoundError(f"unknown department {department_id!r}")
        new = replace(self.departments[department_id], **changes)
        return self._new(departments={**self.departments, department_id: new})

    def remove_department(self, department_id: str) -> Organisation:
        """A copy without an (empty, childless) department."""
        if department_id not in self.departments:
            raise NotFoundError(f"unknown department {department_id!r}")
        depts = {k: v for k, v in self.departments.items() if k != department_id}
        return self._new(departments=depts)

    def add_role(self, role: Role) -> Organisation:
        """A copy with a role added."""
        if role.id in self.roles:
            raise OrgValidationError(f"duplicate role id {role.id!r}", code="org.duplicate")
        return self._new(roles={**self.roles, role.id: role})

    def remove_role(self, role_id: str) -> Organisation:
        """A copy without a role no one has and no lane uses."""
        return self._new(roles={k: v for k, v in self.roles.items() if k != role_id})

    def add_group(self, group: Group) -> Organisation:
        """A copy with a group added."""
        if group.id in self.groups:
            raise OrgValidationError(f"duplicate group id {group.id!r}", code="org.duplicate")
        return self._new(groups={**self.groups, group.id: group})

    def set_process(self, process: ProcessOrg) -> Organisation:
        """A copy with the process view added or replaced."""
        return self._new(processes={**self.processes, process.id: process})

    def set_calendar(self, name: str, calendar: BusinessCalendar) -> Organisation:
        """A copy with a working calendar added or replaced."""
        return self._new(calendars={**self.calendars, name: calendar})


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def org_error(problems: list[Problem], file: str | None = None) -> OrgValidationError:
    """One error carrying every problem (the first one's place and message up front)."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return OrgValidationError(
        first.message + more,
        code=first.code,
        file=first.file or file,
        line=first.line,
        hint="fix the ids the messages name; every problem is in details['problems']",
        details={"problems": [p.to_dict() for p in problems]},
    )
