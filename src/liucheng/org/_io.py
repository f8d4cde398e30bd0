"""Reading and writing organisation files: YAML (everything) and people CSV (people + departments).

The file formats are documented in docs/org.md. Every problem found is reported at once, each
with file and line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from liucheng.errors import LiuchengError

from ._calendar import BusinessCalendar, calendar_from_dict, load_calendar
from ._errors import CalendarError, OrgValidationError
from ._model import (
    Absence,
    Department,
    Group,
    Organisation,
    Person,
    Problem,
    ProcessOrg,
    Role,
    org_error,
)
from ._yaml import line_of, load_yaml_document, read_text

__all__ = [
    "CSV_COLUMNS",
    "dump_organisation",
    "load_organisation",
    "organisation_from_dict",
    "organisation_to_dict",
    "parse_organisation_csv",
    "save_organisation",
    "summarise",
]

CSV_COLUMNS = (
    "id",
    "name",
    "email",
    "department",
    "roles",
    "groups",
    "superior",
    "skills",
    "calendar",
    "absences",
    "cost_rate",
    "capacity",
    "head_of",
)
Lines = Mapping[tuple[str | int, ...], int]


def _when(value: Any) -> Any:
    """``YYYY-MM-DD`` → date; anything with a time → datetime."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if "T" in text or " " in text:
                return datetime.fromisoformat(text)
            return date.fromisoformat(text)
        except ValueError:
            return value
    return value


When = Annotated[datetime | date, BeforeValidator(_when)]


def _listish(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.replace("|", ";").split(";") if part.strip()]
    return value


StrList = Annotated[list[str], BeforeValidator(_listish)]


class _AbsenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: When = Field(alias="from")
    end: When = Field(alias="to")
    reason: str | None = None


def _absence_item(value: Any) -> Any:
    if isinstance(value, (str, date)):
        text = value.isoformat() if isinstance(value, date) else value
        left, sep, right = text.partition("/") if "/" in text else text.partition("..")
        return {"from": left.strip(), "to": (right if sep else left).strip()}
    return value


class _PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    name: str | None = None
    email: str | None = None
    department: str | None = None
    roles: StrList = []
    groups: StrList = []
    superior: str | None = None
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]] = {}
    calendar: str | None = None
    absences: list[Annotated[_AbsenceIn, BeforeValidator(_absence_item)]] = []
    cost_rate: float | None = Field(default=None, ge=0)
    capacity: float | None = Field(default=None, ge=0)


class _DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    name: str | None = None
    parent: str | None = None
    head: str | None = None
    children: list[_DepartmentIn] = []


class _NamedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    name: str | None = None
    description: str | None = None


class _ProcessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    name: str | None = None
    owner: str | None = None
    lanes: dict[str, str] = {}
    tasks: dict[str, str] = {}
    consulted: StrList = []
    informed: StrList = []
    assignment: dict[str, str | dict[str, Any]] = {}


_TOP_KEYS = {
    "timezone",
    "default_calendar",
    "calendars",
    "departments",
    "roles",
    "groups",
    "people",
    "processes",
    "name",
    "description",
}


class _Loader:
    """Collects problems while turning parsed data into model objects."""

    def __init__(self, file: str | None, lines: Lines, base: Path | None) -> None:
        self.file = file
        self.lines = lines
        self.base = base
        self.problems: list[Problem] = []
        self.sources: dict[tuple[str, str], tuple[str | None, int | None]] = {}

    def problem(
        self,
        message: str,
        path: tuple[str | int, ...],
        code: str = "org.invalid",
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.problems.append(
            Problem(message, file or self.file, line or line_of(self.lines, path), code)
        )

    def model(
        self,
        cls: type[BaseModel],
        data: Any,
        path: tuple[str | int, ...],
        what: str,
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> Any:
        if isinstance(data, str) and cls is not _PersonIn:
            data = {"id": data}
        try:
            return cls.model_validate(data)
        except PydanticError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                where = ".".join(str(part) for part in loc) or what
                self.problem(
                    f"{what}: {where}: {err['msg']}",
                    (*path, *loc),
                    "org.shape",
                    file=file,
                    line=line,
                )
            return None

    def build(self, **parts: Any) -> Organisation:
        """The organisation; loader problems and model problems are reported together."""
        found = list(self.problems)
        try:
            org = Organisation(**parts, sources=self.sources)
        except OrgValidationError as exc:
            found += [
                Problem(p["message"], p.get("file") or self.file, p.get("line"), p["code"])
                for p in exc.details.get("problems", [])
            ]
        else:
            if not found:
                return org
        found.sort(key=lambda p: (p.file or "", p.line or 0))
        raise org_error(found, self.file)

    def where(
        self,
        kind: str,
        key: str,
        path: tuple[str | int, ...],
        file: str | None = None,
        line: int | None = None,
    ) -> bool:
        """Record the source of an id; report a duplicate (returns False)."""
        place = (file or self.file, line or line_of(self.lines, path))
        if (kind, key) in self.sources:
            first = self.sources[(kind, key)]
            self.problem(
                f"duplicate {kind} id {key!r} (first at line {first[1]})",
                path,
                "org.duplicate",
                file=file,
                line=line,
            )
            return False
        self.sources[(kind, key)] = place
        return True


def _listing(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping):  # id → fields shorthand
        return [
            {"id": k, **(v or {})} if isinstance(v, Mapping) or v is None else {"id": k, "name": v}
            for k, v in value.items()
        ]
    if isinstance(value, list):
        return value
    return [value]


def organisation_from_dict(
    data: Any,
    *,
    file: str | None = None,
    lines: Lines | None = None,
    base_dir: Path | None = None,
) -> Organisation:
    """Build an organisation from the YAML mapping (see docs/org.md).

    Raises:
        OrgValidationError: With every problem (file and line each) in ``details["problems"]``.
    """
    ld = _Loader(file, lines or {}, base_dir)
    if not isinstance(data, Mapping):
        raise OrgValidationError("an organisation file must be a mapping", file=file)
    for key in data:
        if str(key) not in _TOP_KEYS:
            ld.problem(f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})", (str(key),))
    calendars = _calendars(ld, data.get("calendars"))
    departments: dict[str, Department] = {}

    def add_dept(raw: Any, path: tuple[str | int, ...], parent: str | None) -> None:
        item = ld.model(_DepartmentIn, raw, path, "department")
        if item is None or not ld.where("department", item.id, path):
            return
        departments[item.id] = Department(
            item.id, item.name or item.id, item.parent or parent, item.head
        )
        for i, child in enumerate(raw.get("children", []) if isinstance(raw, Mapping) else []):
            add_dept(child, (*path, "children", i), item.id)

    for i, raw in enumerate(_listing(data.get("departments"))):
        add_dept(raw, ("departments", i), None)
    roles: dict[str, Role] = {}
    for i, raw in enumerate(_listing(data.get("roles"))):
        item = ld.model(_NamedIn, raw, ("roles", i), "role")
        if item is not None and ld.where("role", item.id, ("roles", i)):
            roles[item.id] = Role(item.id, item.name or item.id, item.description)
    groups: dict[str, Group] = {}
    for i, raw in enumerate(_listing(data.get("groups"))):
        item = ld.model(_NamedIn, raw, ("groups", i), "group")
        if item is not None and ld.where("group", item.id, ("groups", i)):
            groups[item.id] = Group(item.id, item.name or item.id, item.description)
    people: dict[str, Person] = {}
    raw_people = data.get("people")
    if isinstance(raw_people, str):
        people_file = (base_dir or Path(".")) / raw_people
        rows = _csv_rows(ld, read_text(people_file, OrgValidationError), str(people_file))
        for row, line in rows:
            _add_person(ld, people, row, ("people",), str(people_file), line, departments)
    else:
        for i, raw in enumerate(_listing(raw_people)):
            _add_person(ld, people, raw, ("people", i), None, None, departments)
    processes: dict[str, ProcessOrg] = {}
    for i, raw in enumerate(_listing(data.get("processes"))):
        item = ld.model(_ProcessIn, raw, ("processes", i), "process")
        if item is not None and ld.where("process", item.id, ("processes", i)):
            processes[item.id] = ProcessOrg(
                item.id,
                item.name,
                item.owner,
                item.lanes,
                item.tasks,
                tuple(item.consulted),
                tuple(item.informed),
                _assignment(ld, item.assignment, ("processes", i, "assignment")),
            )
    timezone = str(data.get("timezone") or "UTC")
    default_calendar = data.get("default_calendar")
    return ld.build(
        people=people,
        departments=departments,
        roles=roles,
        groups=groups,
        processes=processes,
        calendars=calendars,
        default_calendar=str(default_calendar) if default_calendar is not None else None,
        timezone=timezone,
    )


def _assignment(
    ld: _Loader, raw: Mapping[str, Any], path: tuple[str | int, ...]
) -> dict[str, dict[str, Any]]:
    from ._assign import make_strategy  # _assign imports the model; import late

    out: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        spec = {"strategy": value} if isinstance(value, str) else dict(value)
        options = {k: v for k, v in spec.items() if k != "strategy"}
        try:
            make_strategy(str(spec.get("strategy", "")), **options)
        except LiuchengError as exc:
            ld.problem(f"assignment of {key!r}: {exc.message}", (*path, key), exc.code)
            continue
        out[key] = spec
    return out


def _add_person(  # noqa: PLR0917 - private helper, called from two places
    ld: _Loader,
    people: dict[str, Person],
    raw: Any,
    path: tuple[str | int, ...],
    file: str | None,
    line: int | None,
    departments: dict[str, Department],
) -> None:
    head_of = None
    if isinstance(raw, Mapping) and "head_of" in raw:
        raw = dict(raw)
        head_of = raw.pop("head_of") or None
    item = ld.model(_PersonIn, raw, path, "person", file=file, line=line)
    if item is None or not ld.where("person", item.id, path, file, line):
        return
    people[item.id] = Person(
        id=item.id,
        name=item.name or item.id,
        email=item.email,
        department=item.department,
        roles=tuple(item.roles),
        groups=tuple(item.groups),
        superior=item.superior,
        skills=dict(item.skills),
        calendar=item.calendar,
        absences=tuple(Absence(a.start, a.end, a.reason) for a in item.absences),
        cost_rate=item.cost_rate,
        capacity=item.capacity,
    )
    if head_of is not None:
        dept = departments.get(str(head_of))
        if dept is None:
            ld.problem(
                f"person {item.id!r}: head_of names unknown department {head_of!r}",
                path,
                "org.department.unknown",
                file=file,
                line=line,
            )
        else:
            departments[dept.id] = Department(dept.id, dept.name, dept.parent, item.id)


def _calendars(ld: _Loader, raw: Any) -> dict[str, BusinessCalendar]:
    out: dict[str, BusinessCalendar] = {}
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        ld.problem("'calendars' must map names to calendar files or mappings", ("calendars",))
        return out
    pending = dict(raw)
    # Inline calendars may extend each other or files; resolve by name, in dependency order.

    def resolve(ref: str, chain: tuple[str, ...] = ()) -> BusinessCalendar:
        if ref in out:
            return out[ref]
        if ref in pending and ref not in chain:
            return build(ref, (*chain, ref))
        if ref in chain:
            raise CalendarError(
                f"calendars extend each other in a cycle: {' → '.join(chain)}",
                code="calendar.extends.cycle",
            )
        path = (ld.base or Path(".")) / ref
        return load_calendar(path, registry=out)

    def build(name: str, chain: tuple[str, ...]) -> BusinessCalendar:
        value = pending[name]
        if isinstance(value, str):
            cal = load_calendar((ld.base or Path(".")) / value, registry=out)
            cal = BusinessCalendar(type(cal.spec)(**{**cal.spec.__dict__, "name": name}))
        else:
            sub = {k[2:]: v for k, v in ld.lines.items() if k[:2] == ("calendars", name)}
            cal = calendar_from_dict(
                value, file=ld.file, lines=sub, resolve=lambda ref: resolve(ref, chain), name=name
            )
        out[name] = cal
        return cal

    for name in raw:
        if str(name) in out:
            continue
        try:
            build(str(name), (str(name),))
        except CalendarError as exc:
            ld.problem(
                f"calendar {name!r}: {exc.message}",
                ("calendars", str(name)),
                exc.code,
                file=exc.file,
                line=exc.line,
            )
    return out


def _csv_rows(ld: _Loader, text: str, file: str) -> list[tuple[dict[str, Any], int]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "id" not in header:
        ld.problem("a people CSV needs an 'id' column", (), "org.csv.header", file=file, line=1)
        return []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        ld.problem(
            f"unknown CSV column(s) {', '.join(unknown)} (known: {', '.join(CSV_COLUMNS)})",
            (),
            "org.csv.header",
            file=file,
            line=1,
        )
        return []
    rows: list[tuple[dict[str, Any], int]] = []
    for raw in reader:
        line = reader.line_num
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None or value is None:
                ld.problem(
                    "row has more fields than the header", (), "org.csv.row", file=file, line=line
                )
                continue
            text = value.strip()
            if text == "":
                continue
            row[key.strip()] = text
        if "skills" in row:
            skills: dict[str, str] = {}
            for part in row["skills"].replace("|", ";").split(";"):
                if not part.strip():
                    continue
                name, sep, level = part.partition(":")
                if not sep:
                    ld.problem(
                        f"skill {part!r} is not name:level", (), "org.csv.row", file=file, line=line
                    )
                    continue
                skills[name.strip()] = level.strip()
            row["skills"] = skills
        if "absences" in row:
            row["absences"] = [a for a in row["absences"].split(";") if a.strip()]
        rows.append((row, line))
    return rows


def parse_organisation_csv(
    text: str, *, file: str | None = None, base_dir: Path | None = None
) -> Organisation:
    """An organisation from a people CSV alone (departments from the ``department`` column).

    ``department`` holds a path of department ids from the top (``company/it/desk``); the tree
    is built from the paths. Roles and groups are the ones people name. A ``calendar`` value
    names a calendar file ``<name>.yaml`` in ``base_dir`` (the CSV's folder).
    """
    ld = _Loader(file, {}, base_dir)
    departments: dict[str, Department] = {}
    people: dict[str, Person] = {}
    rows = _csv_rows(ld, text, file or "<csv>")
    for row, line in rows:
        path = row.get("department")
        if isinstance(path, str):
            parts = [p.strip() for p in path.split("/") if p.strip()]
            parent: str | None = None
            for part in parts:
                known = departments.get(part)
                if known is None:
                    departments[part] = Department(part, part, parent)
                elif known.parent != parent:
                    ld.problem(
                        f"department {part!r} appears under {known.parent!r} and {parent!r}",
                        (),
                        "org.department.conflict",
                        file=file,
                        line=line,
                    )
                parent = part
            row["department"] = parts[-1] if parts else None
    for row, line in rows:
        _add_person(ld, people, row, (), file, line, departments)
    roles = {r: Role(r, r) for p in people.values() for r in p.roles}
    groups = {g: Group(g, g) for p in people.values() for g in p.groups}
    calendars: dict[str, BusinessCalendar] = {}
    for person in people.values():
        name = person.calendar
        if name is None or name in calendars:
            continue
        candidate = (base_dir or Path(".")) / f"{name}.yaml"
        if not candidate.exists():
            continue  # reported by validation as an unknown calendar
        try:
            calendars[name] = load_calendar(candidate)
        except CalendarError as exc:
            ld.problem(
                f"calendar {name!r}: {exc.message}", (), exc.code, file=exc.file, line=exc.line
            )
    return ld.build(
        people=people, departments=departments, roles=roles, groups=groups, calendars=calendars
    )


def load_organisation(path: str | Path) -> Organisation:
    """Load an organisation from ``.yaml``/``.yml``/``.json`` or a people ``.csv``.

    Raises:
        OrgValidationError: Any problem, with file and line, all problems in ``details``.
    """
    file = Path(path)
    text = read_text(file, OrgValidationError)
    if file.suffix.lower() == ".csv":
        return parse_organisation_csv(text, file=str(path), base_dir=file.parent)
    data, lines = load_yaml_document(text, file=str(path), error=OrgValidationError)
    if data is None:
        raise OrgValidationError("the organisation file is empty", file=str(path))
    return organisation_from_dict(data, file=str(path), lines=lines, base_dir=file.parent)


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _person_dict(person: Person, heads: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": person.id, "name": person.name}
    for key in ("email", "department", "superior", "calendar", "cost_rate", "capacity"):
        value = getattr(person, key)
        if value is not None:
            out[key] = value
    if person.roles:
        out["roles"] = list(person.roles)
    if person.groups:
        out["groups"] = list(person.groups)
    if person.skills:
        out["skills"] = dict(person.skills)
    if person.absences:
        out["absences"] = [
            {"from": _iso(a.start), "to": _iso(a.end), **({"reason": a.reason} if a.reason else {})}
            for a in person.absences
        ]
    return out


def organisation_to_dict(org: Organisation) -> dict[str, Any]:
    """The organisation as the YAML mapping :func:`organisation_from_dict` reads."""
    out: dict[str, Any] = {"timezone": org.timezone}
    if org.default_calendar:
        out["default_calendar"] = org.default_calendar
    if org.calendars:
        out["calendars"] = {name: cal.to_dict() for name, cal in org.calendars.items()}
        for value in out["calendars"].values():
            value.pop("name", None)
    out["departments"] = [
        {
            k: v
            for k, v in {"id": d.id, "name": d.name, "parent": d.parent, "head": d.head}.items()
            if v is not None
        }
        for d in org.departments.values()
    ]
    out["roles"] = [
        {
            k: v
            for k, v in {"id": r.id, "name": r.name, "description": r.description}.items()
            if v is not None
        }
        for r in org.roles.values()
    ]
    out["groups"] = [
        {
            k: v
            for k, v in {"id": g.id, "name": g.name, "description": g.description}.items()
            if v is not None
        }
        for g in org.groups.values()
    ]
    out["people"] = [_person_dict(p, {}) for p in org.people.values()]
    if org.processes:
        out["processes"] = [
            {
                k: v
                for k, v in {
                    "id": p.id,
                    "name": p.name,
                    "owner": p.owner,
                    "lanes": dict(p.lanes) or None,
                    "tasks": dict(p.tasks) or None,
                    "consulted": list(p.consulted) or None,
                    "informed": list(p.informed) or None,
                    "assignment": {k: dict(v) for k, v in p.assignment.items()} or None,
                }.items()
                if v is not None
            }
            for p in org.processes.values()
        ]
    return out


def _dept_path(org: Organisation, dept: str | None) -> str:
    parts: list[str] = []
    while dept is not None and dept in org.departments and dept not in parts:
        parts.append(dept)
        dept = org.departments[dept].parent
    return "/".join(reversed(parts))


def dump_organisation(org: Organisation, fmt: str = "yaml") -> str:
    """Serialise as ``"yaml"`` (everything) or ``"csv"`` (people, departments as paths, heads).

    The CSV form carries people and the department tree only (no calendars, processes, role
    names); :func:`parse_organisation_csv` reads it back.
    """
    if fmt == "yaml":
        return yaml.safe_dump(organisation_to_dict(org), sort_keys=False, allow_unicode=True)
    if fmt != "csv":
        raise OrgValidationError(f"unknown format {fmt!r}", hint="use yaml or csv")
    heads: dict[str, list[str]] = {}
    for dept in org.departments.values():
        if dept.head is not None:
            heads.setdefault(dept.head, []).append(dept.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in org.people.values():
        absences = ";".join(
            _iso(a.start) if a.start == a.end else f"{_iso(a.start)}/{_iso(a.end)}"
            for a in p.absences
        )
        head_of = heads.get(p.id, [])
        writer.writerow(
            [
                p.id,
                p.name,
                p.email or "",
                _dept_path(org, p.department),
                ";".join(p.roles),
                ";".join(p.groups),
                p.superior or "",
                ";".join(f"{k}:{v}" for k, v in p.skills.items()),
                p.calendar or "",
                absences,
                "" if p.cost_rate is None else f"{p.cost_rate:g}",
                "" if p.capacity is None else f"{p.capacity:g}",
                head_of[0] if head_of else "",
            ]
        )
    return buffer.getvalue()


def save_organisation(org: Organisation, path: str | Path) -> list[Path]:
    """Write to ``path``: CSV when it ends in ``.csv``, else YAML.

    A CSV cannot hold calendars, so the calendars people use are written beside it as
    ``<name>.yaml`` (where :func:`load_organisation` finds them again).

    Returns:
        The files written.
    """
    file = Path(path)
    fmt = "csv" if file.suffix.lower() == ".csv" else "yaml"
    file.write_text(dump_organisation(org, fmt), encoding="utf-8")
    written = [file]
    if fmt == "csv":
        used = {p.calendar for p in org.people.values() if p.calendar is not None}
        for name in sorted(used):
            target = file.parent / f"{name}.yaml"
            data = org.calendars[name].to_dict()
            data.pop("name", None)
            target.write_text(
                yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
            written.append(target)
    return written


def summarise(org: Organisation) -> dict[str, Any]:
    """Counts per department and role, and the superior chains (for ``org import``)."""
    per_department = {d: len(org.department_members(d, recursive=False)) for d in org.departments}
    unplaced = sum(1 for p in org.people.values() if p.department is None)
    if unplaced:
        per_department["(none)"] = unplaced
    longest: tuple[str, ...] = ()
    longest_person: str | None = None
    for pid in org.people:
        chain = org.superior_chain(pid)
        if len(chain) > len(longest):
            longest, longest_person = chain, pid
    return {
        "valid": True,
        "counts": {
            "people": len(org.people),
            "departments": len(org.departments),
            "roles": len(org.roles),
            "groups": len(org.groups),
            "processes": len(org.processes),
            "calendars": len(org.calendars),
        },
        "per_department": per_department,
        "per_role": {r: len(org.members(r)) for r in org.roles},
        "per_group": {g: len(org.group_members(g)) for g in org.groups},
        "superiors": {
            "cycles": 0,
            "top": [pid for pid in org.people if org.superior(pid) is None],
            "longest_chain": len(longest),
            "longest_chain_from": longest_person,
            "chain": list(longest),
        },
    }
