"""Routes: the organisation stored in the database (read, import, edit, revisions), calendars.

Reads use ``Engine.organisation`` (the newest stored revision, docs/org.md). Imports and edits
are the engine's stored-organisation commands (``Engine.org_admin(caller)``): every one stores
a new revision with its author. The revision is the organisation's ETag; a change sent with
``If-Match`` applies only if that revision is still the newest (412 otherwise, nothing stored).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from liucheng.errors import ConcurrencyError, NotFoundError, ValidationError
from liucheng.org import (
    Action,
    Organisation,
    OrgRevision,
    organisation_document,
    organisation_from_dict,
)
from liucheng.store._retry import lost_connection

from ._core import Caller, Services
from ._http import CallerDep, PagingDep, ServicesDep, page_of
from ._json import jsonable

__all__ = ["router"]

router = APIRouter()

Id = Annotated[str, Path(min_length=1, max_length=200)]
Part = Annotated[str, Path(pattern="^(people|departments|roles|groups|processes)$")]

_IF_MATCH_DOC = (
    "Send the ETag (the revision) the change was made on in `If-Match`: when another revision "
    "was stored meanwhile the change is refused with 412 and nothing is stored. Without it "
    "(or with `*`) the change applies to the newest revision."
)


# ---------------------------------------------------------------------------- helpers


def etag(revision: int) -> str:
    """The ETag of an organisation revision (a strong validator: the revision number)."""
    return f'"{revision}"'


def if_match(request: Request) -> int | None:
    """The revision an ``If-Match`` header names (``None``: no header, or ``*``).

    A weak or unparsable tag can never match a revision (RFC 9110 compares strongly), so it
    becomes ``-1``, which the engine refuses as stale: 412, nothing stored.
    """
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip()
    if "," in value:
        raise ValidationError(
            "If-Match must name one organisation revision",
            code="org.if_match",
            hint='send the ETag of GET /org, e.g. If-Match: "3"',
        )
    text = value.strip('"')
    return int(text) if text.isdigit() and not value.startswith("W/") else -1


def _revision_body(rev: OrgRevision) -> dict[str, Any]:
    return {
        "revision": rev.revision,
        "created_at": rev.created_at.isoformat(),
        "author": rev.author,
        "comment": rev.comment,
    }


def _changed(rev: OrgRevision, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse(
        jsonable({**_revision_body(rev), **extra}),
        status_code=status,
        headers={"ETag": etag(rev.revision)},
    )


def _store(request: Request, run: Callable[[int | None], OrgRevision]) -> OrgRevision:
    """Run an import/edit with the ``If-Match`` revision; a stale one answers 412."""
    expected = if_match(request)
    try:
        return run(expected)
    except ConcurrencyError as exc:
        if expected is not None and not lost_connection(exc):
            # the request's precondition failed (RFC 9110 13.1.1); without If-Match a
            # conflict on every attempt stays 409
            setattr(exc, "http_status", 412)  # noqa: B010 - the error class has no such field
        raise


def _org(svc: Services) -> Organisation:
    org = svc.org()
    if org is None:
        raise NotFoundError(
            "no organisation is stored",
            code="org.none",
            hint="import one with PUT /api/v1/org or liucheng org import FILE --database URL",
        )
    return org


def _tag(response: Response, svc: Services) -> Organisation:
    org, revision = svc.org_state()
    if org is None:
        return _org(svc)
    if revision is not None:
        response.headers["ETag"] = etag(revision)
    return org


def _base(svc: Services, caller: Caller) -> Organisation:
    """The newest stored organisation (read now, not the cached one) to build an edit on."""
    current = svc.org_admin(caller).current()
    if current is None:
        return _org(svc)
    org: Organisation = current.organisation
    return org


def _with(org: Organisation, part: str, item: dict[str, Any]) -> Organisation:
    """``org`` with one entry of ``part`` added or replaced, parsed and checked as the file
    format is (so a body means exactly what the same entry in an organisation file means)."""
    doc = dict(organisation_document(org))
    entries = [
        e for e in doc.get(part) or [] if not (isinstance(e, dict) and e.get("id") == item["id"])
    ]
    doc[part] = [*entries, item]
    parsed: Organisation = organisation_from_dict(doc, file="request")
    return parsed


def _entry(org: Organisation, part: str, item_id: str) -> dict[str, Any]:
    for entry in organisation_document(org).get(part) or []:
        if isinstance(entry, dict) and entry.get("id") == item_id:
            return dict(entry)
    raise NotFoundError(f"{part} '{item_id}' does not exist", code="org.not_found")


def _fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, by_alias=True)


# ---------------------------------------------------------------------------- reading


@router.get("/org", tags=["organisation"], summary="Organisation summary (ETag: revision)")
def org_summary(caller: CallerDep, svc: ServicesDep, response: Response) -> Any:
    org = _tag(response, svc)
    _, revision = svc.org_state()
    return {
        "revision": revision,
        "people": len(org.people),
        "departments": len(org.departments),
        "roles": len(org.roles),
        "groups": len(org.groups),
        "calendars": sorted(org.calendars),
        "processes": sorted(org.processes),
        "timezone": org.timezone,
    }


# before /org/{part}: a fixed path must win over the template
@router.get("/org/revisions", tags=["organisation"], summary="Stored organisation revisions")
def org_revisions(caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    """``OrgAdmin.history()``: every stored revision (revision, created_at, author, comment),
    oldest first unless sorted (``-revision``: newest first)."""
    svc.require(caller, Action.ADMIN_ORG, "org")
    items = svc.org_admin(caller).history()
    return page_of(items, paging, ("revision", "created_at", "author"), default="revision")


@router.get("/org/{part}", tags=["organisation"], summary="People, departments, roles...")
def org_list(
    part: Part, caller: CallerDep, svc: ServicesDep, paging: PagingDep, response: Response
) -> Any:
    items = [jsonable(x) for x in getattr(_tag(response, svc), part).values()]
    return page_of(items, paging, ("id", "name"), default="id")


@router.get("/org/{part}/{item_id}", tags=["organisation"], summary="One person, role...")
def org_item(
    part: Part, item_id: Id, caller: CallerDep, svc: ServicesDep, response: Response
) -> Any:
    item = getattr(_tag(response, svc), part).get(item_id)
    if item is None:
        raise NotFoundError(f"{part} '{item_id}' does not exist", code="org.not_found")
    return jsonable(item)


@router.get("/calendars", tags=["organisation"], summary="Business calendars")
def calendars(caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    org = _org(svc)
    items = [{"name": n, **jsonable(c.to_dict())} for n, c in org.calendars.items()]
    return page_of(items, paging, ("name",), default="name")


# ---------------------------------------------------------------------------- import


@router.put(
    "/org",
    tags=["organisation"],
    summary="Import an organisation (YAML or JSON, self-contained) as the next revision",
    description=_IF_MATCH_DOC,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def import_org(
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
    rebalance: Annotated[
        bool, Query(description="move the open work of everyone absent in the new revision")
    ] = False,
    comment: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    """``Engine.org_admin(caller).import_organisation``: stores the next revision of the
    organisation in the database; every engine on it (servers, workers) uses it within its
    ``org_refresh`` interval."""
    svc.require(caller, Action.ADMIN_ORG, "org")
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("the organisation must be UTF-8 text", code="org.encoding") from None

    def run(expected: int | None) -> OrgRevision:
        return svc.import_org(
            text, caller, rebalance=rebalance, expected_revision=expected, comment=comment
        )

    rev = await run_in_threadpool(lambda: _store(request, run))
    org = rev.organisation
    return _changed(
        rev,
        imported=True,
        people=len(org.people),
        departments=len(org.departments),
        rebalanced=rebalance,
    )


# ---------------------------------------------------------------------------- edits


class PersonBody(BaseModel):
    """A person as in an organisation file (``absences`` as ``{"from", "to", "reason"}``)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=400)
    email: str | None = Field(default=None, max_length=400)
    department: str | None = Field(default=None, max_length=200)
    roles: list[str] | None = Field(default=None, max_length=200)
    groups: list[str] | None = Field(default=None, max_length=200)
    superior: str | None = Field(default=None, max_length=200)
    skills: dict[str, int] | None = None
    calendar: str | None = Field(default=None, max_length=200)
    absences: list[dict[str, Any]] | None = Field(default=None, max_length=1000)
    cost_rate: float | None = None
    capacity: float | None = None


class PersonChange(BaseModel):
    """Fields of a person to change (others stay)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=400)
    email: str | None = Field(default=None, max_length=400)
    department: str | None = Field(default=None, max_length=200)
    roles: list[str] | None = Field(default=None, max_length=200)
    groups: list[str] | None = Field(default=None, max_length=200)
    superior: str | None = Field(default=None, max_length=200)
    skills: dict[str, int] | None = None
    calendar: str | None = Field(default=None, max_length=200)
    cost_rate: float | None = None
    capacity: float | None = None


class AbsenceBody(BaseModel):
    """An absence: dates (whole local days, both included) or instants (end excluded)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str = Field(alias="from", min_length=1, max_length=100)
    end: str = Field(alias="to", min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)


class DepartmentBody(BaseModel):
    """A department as in an organisation file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=400)
    parent: str | None = Field(default=None, max_length=200)
    head: str | None = Field(default=None, max_length=200)


class DepartmentChange(BaseModel):
    """Fields of a department to change (``parent``: move it; ``null`` moves it to the top)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=400)
    parent: str | None = Field(default=None, max_length=200)
    head: str | None = Field(default=None, max_length=200)


class RoleBody(BaseModel):
    """A role."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=400)
    description: str | None = Field(default=None, max_length=4000)


_TAGS: list[str | Enum] = ["organisation"]


def _edit(
    request: Request, svc: Services, caller: Caller, op: str, /, *args: Any, **kwargs: Any
) -> OrgRevision:
    """One named edit of ``OrgAdmin`` (``org_admin(caller).<op>(..., expected_revision=)``)."""
    svc.require(caller, Action.ADMIN_ORG, "org")
    admin = svc.org_admin(caller)
    method: Callable[..., OrgRevision] = getattr(admin, op)
    return _store(request, lambda expected: method(*args, expected_revision=expected, **kwargs))


@router.post(
    "/org/people", summary="Add a person", status_code=201, tags=_TAGS, description=_IF_MATCH_DOC
)
def add_person(body: PersonBody, request: Request, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    base = _base(svc, caller)
    if body.id in base.people:
        raise ValidationError(f"person '{body.id}' already exists", code="org.duplicate")
    person = _with(base, "people", _fields(body)).people[body.id]
    rev = _edit(request, svc, caller, "add_person", person)
    return _changed(rev, 201, person=rev.organisation.people[body.id])


@router.patch(
    "/org/people/{person_id}", summary="Change a person", tags=_TAGS, description=_IF_MATCH_DOC
)
def update_person(
    person_id: Id, body: PersonChange, request: Request, caller: CallerDep, svc: ServicesDep
) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    base = _base(svc, caller)
    changes = _fields(body)
    merged = {**_entry(base, "people", person_id), **changes}
    person = _with(base, "people", merged).people[person_id]
    rev = _edit(
        request,
        svc,
        caller,
        "update_person",
        person_id,
        **{k: getattr(person, k) for k in changes},
    )
    return _changed(rev, person=rev.organisation.people[person_id])


@router.delete(
    "/org/people/{person_id}", summary="Remove a person", tags=_TAGS, description=_IF_MATCH_DOC
)
def remove_person(person_id: Id, request: Request, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    _entry(_base(svc, caller), "people", person_id)
    return _changed(_edit(request, svc, caller, "remove_person", person_id))


def _absences(svc: Services, caller: Caller, person_id: str, items: list[dict[str, Any]]) -> Any:
    base = _base(svc, caller)
    merged = {**_entry(base, "people", person_id), "absences": items}
    return _with(base, "people", merged).people[person_id].absences


@router.post(
    "/org/people/{person_id}/absences",
    summary="Add an absence",
    tags=_TAGS,
    description=_IF_MATCH_DOC,
)
def add_absence(
    person_id: Id, body: AbsenceBody, request: Request, caller: CallerDep, svc: ServicesDep
) -> Any:
    """``add_absence``; an absence that has begun moves the person's open work at once."""
    svc.require(caller, Action.ADMIN_ORG, "org")
    (absence,) = _absences(svc, caller, person_id, [_fields(body)])
    rev = _edit(request, svc, caller, "add_absence", person_id, absence)
    return _changed(rev, person=rev.organisation.people[person_id])


@router.put(
    "/org/people/{person_id}/absences",
    summary="Replace a person's absences",
    tags=_TAGS,
    description=_IF_MATCH_DOC,
)
def set_absences(
    person_id: Id,
    body: list[AbsenceBody],
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    absences = _absences(svc, caller, person_id, [_fields(a) for a in body])
    rev = _edit(request, svc, caller, "set_absences", person_id, absences)
    return _changed(rev, person=rev.organisation.people[person_id])


@router.post(
    "/org/departments",
    summary="Add a department",
    status_code=201,
    tags=_TAGS,
    description=_IF_MATCH_DOC,
)
def add_department(
    body: DepartmentBody, request: Request, caller: CallerDep, svc: ServicesDep
) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    base = _base(svc, caller)
    if body.id in base.departments:
        raise ValidationError(f"department '{body.id}' already exists", code="org.duplicate")
    dept = _with(base, "departments", _fields(body)).departments[body.id]
    rev = _edit(request, svc, caller, "add_department", dept)
    return _changed(rev, 201, department=rev.organisation.departments[body.id])


@router.patch(
    "/org/departments/{department_id}",
    summary="Change or move a department",
    tags=_TAGS,
    description=_IF_MATCH_DOC,
)
def update_department(
    department_id: Id,
    body: DepartmentChange,
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    base = _base(svc, caller)
    changes = _fields(body)
    merged = {**_entry(base, "departments", department_id), **changes}
    dept = _with(base, "departments", merged).departments[department_id]
    rev = _edit(
        request,
        svc,
        caller,
        "update_department",
        department_id,
        **{k: getattr(dept, k) for k in changes},
    )
    return _changed(rev, department=rev.organisation.departments[department_id])


@router.delete(
    "/org/departments/{department_id}",
    summary="Remove a department",
    tags=_TAGS,
    description=_IF_MATCH_DOC,
)
def remove_department(
    department_id: Id, request: Request, caller: CallerDep, svc: ServicesDep
) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    _entry(_base(svc, caller), "departments", department_id)
    return _changed(_edit(request, svc, caller, "remove_department", department_id))


@router.post(
    "/org/roles", summary="Add a role", status_code=201, tags=_TAGS, description=_IF_MATCH_DOC
)
def add_role(body: RoleBody, request: Request, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    base = _base(svc, caller)
    if body.id in base.roles:
        raise ValidationError(f"role '{body.id}' already exists", code="org.duplicate")
    role = _with(base, "roles", _fields(body)).roles[body.id]
    rev = _edit(request, svc, caller, "add_role", role)
    return _changed(rev, 201, role=rev.organisation.roles[body.id])


@router.delete(
    "/org/roles/{role_id}", summary="Remove a role", tags=_TAGS, description=_IF_MATCH_DOC
)
def remove_role(role_id: Id, request: Request, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    _entry(_base(svc, caller), "roles", role_id)
    return _changed(_edit(request, svc, caller, "remove_role", role_id))


# ---------------------------------------------------------------------------- re-balancing


class RebalanceBody(BaseModel):
    """Whose open work to move (omitted: everyone absent now)."""

    person: str | None = Field(default=None, min_length=1, max_length=200)


def _decision(d: Any) -> Any:
    to_dict = getattr(d, "to_dict", None)
    return to_dict() if callable(to_dict) else d


@router.post("/org/rebalance", tags=["organisation"], summary="Re-balance open work")
def rebalance_work(body: RebalanceBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """Moves the open tasks of everyone absent now (or all of ``person``'s) with each task's
    assignment strategy (``Engine.rebalance``; an ``assignment`` history record each)."""
    svc.require(caller, Action.ADMIN_ORG, "org")
    decisions = svc.view(caller).rebalance(body.person)
    return {"items": [jsonable(_decision(d)) for d in decisions], "total": len(decisions)}
