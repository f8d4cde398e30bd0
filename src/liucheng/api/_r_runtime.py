"""Routes: process instances, user tasks, messages and signals."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import insert, select

from liucheng.engine.ports import InstanceRecord, TaskRecord
from liucheng.errors import NotFoundError, ValidationError
from liucheng.org import Action
from liucheng.store._api_schema import api_task_comment

from ._core import Caller, Services
from ._http import CallerDep, PagingDep, ServicesDep, page_of
from ._json import jsonable, record_dict

__all__ = ["instance_visible", "router", "visible_task"]

router = APIRouter()

Id = Annotated[str, Path(min_length=1, max_length=200)]
Vars = dict[str, Any]


# ---------------------------------------------------------------------------- instances


def instance_visible(svc: Services, caller: Caller, key: str) -> bool:
    """Whether the caller may see instances of process ``key``."""
    return svc.allowed(caller, Action.READ_HISTORY, f"history:{key}") or svc.allowed(
        caller, Action.ADMIN_DEFINITIONS, f"definition:{key}"
    )


def _instance_dict(rec: InstanceRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "definition_id": rec.definition_id,
        "key": rec.key,
        "business_key": rec.business_key,
        "parent_id": rec.parent_id,
        "root_id": rec.root_id,
        "state": rec.state,
        "started_at": rec.started_at.isoformat(),
        "ended_at": rec.ended_at.isoformat() if rec.ended_at else None,
        "has_incident": rec.has_incident,
    }


def live_instance(svc: Services, caller: Caller, instance_id: str) -> InstanceRecord:
    """A live instance the caller may see (else 404)."""
    rec = svc.engine.get_instance(instance_id)
    if rec is None or not instance_visible(svc, caller, rec.key):
        raise NotFoundError(
            f"process instance '{instance_id}' does not exist or has ended",
            code="engine.instance.not_found",
        )
    return rec


def operable_instance(svc: Services, caller: Caller, instance_id: str) -> InstanceRecord:
    """A live instance the caller may operate on (cancel, modify, set variables)."""
    rec = live_instance(svc, caller, instance_id)
    svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{rec.key}")
    return rec


class StartBody(BaseModel):
    """Which process to start: ``key`` (latest or ``version``) or ``definition_id``."""

    key: str | None = Field(default=None, min_length=1, max_length=200)
    version: int | None = Field(default=None, ge=1)
    definition_id: str | None = Field(default=None, min_length=1, max_length=400)
    business_key: str | None = Field(default=None, max_length=400)
    variables: Vars = Field(default_factory=dict)


@router.post(
    "/process-instances", tags=["process instances"], status_code=201, summary="Start a process"
)
def start_instance(body: StartBody, caller: CallerDep, svc: ServicesDep) -> Any:
    key = body.key
    if body.definition_id is not None:
        try:
            key = svc.key_of(body.definition_id)
        except NotFoundError:
            key = None
    if key is None:
        if body.definition_id is None:
            raise ValidationError("give 'key' or 'definition_id'", code="input.invalid")
        raise NotFoundError(
            f"definition '{body.definition_id}' does not exist",
            code="engine.definition.not_found",
        )
    if not svc.allowed(caller, Action.START_PROCESS, f"process:{key}"):
        visible = instance_visible(svc, caller, key)
        if not visible:
            raise NotFoundError(
                f"process definition '{key}' is not deployed", code="engine.definition.not_found"
            )
        svc.require(caller, Action.START_PROCESS, f"process:{key}")
    pid = svc.engine.start_process(
        None if body.definition_id else key,
        body.variables,
        body.business_key,
        version=None if body.definition_id else body.version,
        definition_id=body.definition_id,
    )
    rec = svc.engine.get_instance(pid)
    return {"id": pid, "key": key, "ended": rec is None}


@router.get("/process-instances", tags=["process instances"], summary="Live process instances")
def list_instances(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    key: Annotated[str | None, Query(max_length=200)] = None,
    business_key: Annotated[str | None, Query(max_length=400)] = None,
    definition_id: Annotated[str | None, Query(max_length=400)] = None,
    root_id: Annotated[str | None, Query(max_length=200)] = None,
    has_incident: bool | None = None,
) -> Any:
    filters: dict[str, Any] = {}
    for name, value in (
        ("key", key),
        ("business_key", business_key),
        ("definition_id", definition_id),
        ("root_id", root_id),
    ):
        if value is not None:
            filters[name] = value
    rows = [
        _instance_dict(r)
        for r in svc.engine.instances(**filters)
        if instance_visible(svc, caller, r.key)
        and (has_incident is None or r.has_incident == has_incident)
    ]
    return page_of(rows, paging, ("started_at", "key", "business_key", "id"), default="started_at")


@router.get(
    "/process-instances/{instance_id}", tags=["process instances"], summary="A process instance"
)
def get_instance(instance_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    rec = svc.engine.get_instance(instance_id)
    if rec is not None:
        if instance_visible(svc, caller, rec.key):
            return _instance_dict(rec)
    else:
        events = svc.engine.history(instance_id=instance_id, kind=["process_start", "process_end"])
        if events and events[0].definition_id is not None:
            key = svc.key_of(events[0].definition_id)
            if instance_visible(svc, caller, key):
                end = next((e for e in events if e.kind == "process_end"), None)
                return {
                    "id": instance_id,
                    "definition_id": events[0].definition_id,
                    "key": key,
                    "business_key": None,
                    "parent_id": None,
                    "root_id": None,
                    "state": (end.data or {}).get("state", "completed") if end else "unknown",
                    "started_at": events[0].at.isoformat(),
                    "ended_at": end.at.isoformat() if end else None,
                    "has_incident": False,
                }
    raise NotFoundError(
        f"process instance '{instance_id}' does not exist", code="engine.instance.not_found"
    )


@router.get(
    "/process-instances/{instance_id}/variables",
    tags=["process instances"],
    summary="Process variables",
)
def get_variables(instance_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    rec = live_instance(svc, caller, instance_id)
    return jsonable(dict(rec.doc.get("vars") or {}))


class VariablesBody(BaseModel):
    """Variables to set."""

    variables: Vars
    element_instance_id: str | None = Field(default=None, max_length=200)


@router.patch(
    "/process-instances/{instance_id}/variables",
    tags=["process instances"],
    summary="Set process (or element-local) variables",
)
def set_variables(instance_id: Id, body: VariablesBody, caller: CallerDep, svc: ServicesDep) -> Any:
    operable_instance(svc, caller, instance_id)
    svc.engine.set_variables(
        instance_id, body.variables, element_instance_id=body.element_instance_id
    )
    rec = svc.engine.get_instance(instance_id)
    return jsonable(dict(rec.doc.get("vars") or {})) if rec else {}


@router.post(
    "/process-instances/{instance_id}/cancel",
    tags=["process instances"],
    summary="Terminate a process instance",
)
def cancel_instance(instance_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    operable_instance(svc, caller, instance_id)
    svc.engine.cancel_instance(instance_id)
    return {"id": instance_id, "cancelled": True}


class ModifyBody(BaseModel):
    """Tokens to cancel and elements to start before."""

    start_before: list[str] = Field(default_factory=list, max_length=100)
    cancel: list[str] = Field(default_factory=list, max_length=100)
    variables: Vars = Field(default_factory=dict)


@router.post(
    "/process-instances/{instance_id}/modify",
    tags=["process instances"],
    summary="Move tokens of a process instance",
)
def modify_instance(instance_id: Id, body: ModifyBody, caller: CallerDep, svc: ServicesDep) -> Any:
    operable_instance(svc, caller, instance_id)
    svc.engine.modify(
        instance_id, start_before=body.start_before, cancel=body.cancel, variables=body.variables
    )
    return {"id": instance_id, "active": svc.engine.active_elements(instance_id)}


class MigrateBody(BaseModel):
    """Target version and element id mapping."""

    target_definition_id: str = Field(min_length=1, max_length=400)
    mapping: dict[str, str] = Field(default_factory=dict)


@router.post(
    "/process-instances/{instance_id}/migrate",
    tags=["process instances"],
    summary="Migrate a process instance to another definition version",
)
def migrate_instance(
    instance_id: Id, body: MigrateBody, caller: CallerDep, svc: ServicesDep
) -> Any:
    operable_instance(svc, caller, instance_id)
    try:
        target_key = svc.key_of(body.target_definition_id)
    except NotFoundError:
        target_key = None
    if target_key is None or not svc.allowed(
        caller, Action.ADMIN_DEFINITIONS, f"definition:{target_key}"
    ):
        raise NotFoundError(
            f"definition '{body.target_definition_id}' does not exist",
            code="engine.definition.not_found",
        )
    svc.engine.migrate(instance_id, body.target_definition_id, body.mapping)
    rec = svc.engine.get_instance(instance_id)
    return {"id": instance_id, "definition_id": rec.definition_id if rec else None}


@router.get(
    "/process-instances/{instance_id}/activity-instances",
    tags=["process instances"],
    summary="Live element instances",
)
def activity_instances(instance_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    live_instance(svc, caller, instance_id)
    return {
        "items": [record_dict(a) for a in svc.engine.activity_instances(instance_id)],
        "active": svc.engine.active_elements(instance_id),
    }


# ---------------------------------------------------------------------------- tasks


def _task_dict(svc: Services, t: TaskRecord) -> dict[str, Any]:
    out = record_dict(t)
    out["process_key"] = svc.key_of(t.definition_id)
    return out


def visible_task(svc: Services, caller: Caller, task_id: str) -> TaskRecord:
    """An open task the caller may see (else 404: others' tasks do not exist for them)."""
    rows = svc.engine.tasks(id=task_id)
    if not rows or not svc.allowed(caller, Action.SEE_TASK, svc.task_resource(rows[0])):
        raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
    task: TaskRecord = rows[0]
    return task


@router.get("/tasks", tags=["tasks"], summary="The task list")
def list_tasks(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    mine: Annotated[bool, Query(description="assigned to me")] = False,
    my_groups: Annotated[bool, Query(description="candidate group is one of mine")] = False,
    candidate: Annotated[bool, Query(description="I am a candidate (user or group)")] = False,
    unassigned: bool = False,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    candidate_group: Annotated[str | None, Query(max_length=200)] = None,
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
    element_id: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool = False,
) -> Any:
    filters: dict[str, Any] = {}
    if mine:
        filters["assignee"] = caller.id
    elif assignee is not None:
        filters["assignee"] = assignee
    elif unassigned:
        filters["assignee"] = None
    if instance_id is not None:
        filters["instance_id"] = instance_id
    if element_id is not None:
        filters["element_id"] = element_id
    groups = set(caller.principal.groups)
    now = _dt.datetime.now(_dt.UTC)
    out: list[dict[str, Any]] = []
    for t in svc.engine.tasks(**filters):
        if unassigned and t.assignee is not None:
            continue
        if my_groups and not groups.intersection(t.candidate_groups or ()):
            continue
        if candidate and not (
            caller.id in (t.candidate_users or ()) or groups.intersection(t.candidate_groups or ())
        ):
            continue
        if candidate_group is not None and candidate_group not in (t.candidate_groups or ()):
            continue
        if overdue and (t.due_at is None or t.due_at > now):
            continue
        if process_key is not None and svc.key_of(t.definition_id) != process_key:
            continue
        if not svc.allowed(caller, Action.SEE_TASK, svc.task_resource(t)):
            continue
        out.append(_task_dict(svc, t))
    return page_of(
        out,
        paging,
        ("created_at", "priority", "due_at", "name", "assignee", "process_key"),
        default="created_at",
    )


@router.get("/tasks/{task_id}", tags=["tasks"], summary="A task")
def get_task(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    return _task_dict(svc, visible_task(svc, caller, task_id))


@router.get("/tasks/{task_id}/form", tags=["tasks"], summary="The task's form (JSON schema)")
def get_task_form(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    visible_task(svc, caller, task_id)
    task_form = getattr(svc.engine, "task_form", None)
    form = task_form(task_id) if task_form is not None else None
    return {"task_id": task_id, "form": jsonable(form)}


@router.post("/tasks/{task_id}/claim", tags=["tasks"], summary="Claim a task")
def claim_task(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    task = visible_task(svc, caller, task_id)
    if task.assignee == caller.id:
        return _task_dict(svc, task)
    svc.require(caller, Action.CLAIM_TASK, svc.task_resource(task))
    claim = getattr(svc.engine, "claim", None)
    if claim is not None:
        # The engine's claim checks, inside its transaction, that nobody took it meanwhile.
        claim(task_id, caller.id, actor=caller.id)
    else:  # pragma: no cover - engines without claim
        svc.engine.assign_task(task_id, caller.id, actor=caller.id)
    return _task_dict(svc, dataclasses.replace(task, assignee=caller.id))


@router.post("/tasks/{task_id}/unclaim", tags=["tasks"], summary="Give a task back")
def unclaim_task(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    task = visible_task(svc, caller, task_id)
    res = svc.task_resource(task)
    if task.assignee != caller.id:
        svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{res.process_id}")
    unclaim = getattr(svc.engine, "unclaim", None)
    if unclaim is not None:
        unclaim(task_id, actor=caller.id)
    else:  # pragma: no cover - engines without unclaim
        svc.engine.assign_task(task_id, None, actor=caller.id)
    return {"id": task_id, "assignee": None}


class AssignBody(BaseModel):
    """New assignee (``null`` clears it)."""

    assignee: str | None = Field(max_length=200)


@router.post("/tasks/{task_id}/assign", tags=["tasks"], summary="Assign or delegate a task")
def assign_task(task_id: Id, body: AssignBody, caller: CallerDep, svc: ServicesDep) -> Any:
    task = visible_task(svc, caller, task_id)
    res = svc.task_resource(task)
    if task.assignee == caller.id:
        svc.require(caller, Action.WORK_TASK, res)  # the assignee delegates
    else:
        svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{res.process_id}")
    svc.engine.assign_task(task_id, body.assignee, actor=caller.id)
    return {"id": task_id, "assignee": body.assignee}


class CompleteBody(BaseModel):
    """Form data of the completed task."""

    variables: Vars = Field(default_factory=dict)


@router.post("/tasks/{task_id}/complete", tags=["tasks"], summary="Complete a task")
def complete_task(task_id: Id, body: CompleteBody, caller: CallerDep, svc: ServicesDep) -> Any:
    task = visible_task(svc, caller, task_id)
    svc.require(caller, Action.WORK_TASK, svc.task_resource(task))
    svc.engine.complete_task(task_id, body.variables, actor=caller.id)
    return {"id": task_id, "completed": True, "instance_id": task.instance_id}


class CommentBody(BaseModel):
    """A comment."""

    text: str = Field(min_length=1, max_length=10_000)


@router.get("/tasks/{task_id}/comments", tags=["tasks"], summary="Comments on a task")
def list_comments(task_id: Id, caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    visible_task(svc, caller, task_id)
    with svc.db.connect() as c:
        rows = c.execute(
            select(api_task_comment)
            .where(api_task_comment.c.task_id == task_id)
            .order_by(api_task_comment.c.id)
        ).all()
    items = [{"id": r.id, "at": r.at.isoformat(), "author": r.author, "text": r.text} for r in rows]
    return page_of(items, paging, ("at", "author"))


@router.post(
    "/tasks/{task_id}/comments", tags=["tasks"], status_code=201, summary="Comment on a task"
)
def add_comment(task_id: Id, body: CommentBody, caller: CallerDep, svc: ServicesDep) -> Any:
    task = visible_task(svc, caller, task_id)
    now = _dt.datetime.now(_dt.UTC)
    with svc.db.begin() as c:
        c.execute(
            insert(api_task_comment).values(
                task_id=task_id,
                instance_id=task.instance_id,
                at=now,
                author=caller.id,
                text=body.text,
            )
        )
    return {"task_id": task_id, "at": now.isoformat(), "author": caller.id, "text": body.text}


# ---------------------------------------------------------------------------- events


class MessageBody(BaseModel):
    """A message to correlate."""

    name: str = Field(min_length=1, max_length=400)
    correlation_key: str | None = Field(default=None, max_length=400)
    variables: Vars = Field(default_factory=dict)
    instance_id: str | None = Field(default=None, max_length=200)
    ttl_seconds: int | None = Field(default=None, ge=1, le=30 * 86400)


@router.post("/messages", tags=["events"], summary="Correlate a message")
def correlate(body: MessageBody, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.START_PROCESS, f"message:{body.name}")
    if body.instance_id is not None:
        live_instance(svc, caller, body.instance_id)
    iid = svc.engine.correlate_message(
        body.name,
        body.correlation_key,
        body.variables,
        instance_id=body.instance_id,
        ttl=_dt.timedelta(seconds=body.ttl_seconds) if body.ttl_seconds else None,
    )
    return {"instance_id": iid, "buffered": iid is None}


class SignalBody(BaseModel):
    """A signal to broadcast."""

    name: str = Field(min_length=1, max_length=400)
    variables: Vars = Field(default_factory=dict)


@router.post("/signals", tags=["events"], summary="Broadcast a signal")
def broadcast(body: SignalBody, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.START_PROCESS, f"signal:{body.name}")
    svc.engine.broadcast_signal(body.name, body.variables)
    return {"signal": body.name, "broadcast": True}
