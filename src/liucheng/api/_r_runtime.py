"""Routes: process instances, user tasks, messages and signals."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from liucheng.engine.ports import InstanceRecord
from liucheng.errors import NotFoundError, ValidationError
from liucheng.org import Action

from ._core import Caller, Services
from ._http import CallerDep, PagingDep, ServicesDep, page_of
from ._json import jsonable, record_dict

__all__ = ["instance_visible", "live_instance", "router"]

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
    #: The one version of ``key`` with this ``camunda:versionTag``.
    version_tag: str | None = Field(default=None, min_length=1, max_length=200)
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
        version_tag=None if body.definition_id else body.version_tag,
    )
    rec = svc.engine.get_instance(pid)
    return {"id": pid, "key": key, "ended": rec is None}


def _query_value(raw: str) -> Any:
    """A variable value from a query string: JSON when it parses, else the text itself."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


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
    variable_name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="with variable_value")
    ] = None,
    variable_value: Annotated[
        str | None,
        Query(max_length=4000, description='JSON value (5, true, "x") or plain text'),
    ] = None,
) -> Any:
    """Filters combine; ``variable_name``/``variable_value`` keep the instances whose
    process-level variable equals the value (``Engine.instances_with_variable``)."""
    with_var: set[str] | None = None
    if (variable_name is None) != (variable_value is None):
        raise ValidationError(
            "give both 'variable_name' and 'variable_value'", code="input.invalid"
        )
    if variable_name is not None and variable_value is not None:
        with_var = set(
            svc.engine.instances_with_variable(variable_name, _query_value(variable_value))
        )
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
        and (with_var is None or r.id in with_var)
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
    """Variables to set (and names to remove first, like Camunda's ``deletions``)."""

    variables: Vars
    element_instance_id: str | None = Field(default=None, max_length=200)
    remove: list[str] = Field(default_factory=list, max_length=1000)


@router.patch(
    "/process-instances/{instance_id}/variables",
    tags=["process instances"],
    summary="Set process (or element-local) variables",
)
def set_variables(instance_id: Id, body: VariablesBody, caller: CallerDep, svc: ServicesDep) -> Any:
    operable_instance(svc, caller, instance_id)
    svc.engine.set_variables(
        instance_id,
        body.variables,
        element_instance_id=body.element_instance_id,
        remove=body.remove,
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


@router.get(
    "/process-instances/{instance_id}/slas",
    tags=["process instances"],
    summary="SLA clocks of a process instance",
)
def instance_slas(instance_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    """Running clocks (process and task clocks of the instance) with their state now, and the
    final states of finished clocks (``finished``: status met or breached)."""
    rec = svc.engine.get_instance(instance_id)
    key = rec.key if rec is not None else None
    if rec is None:
        starts = svc.engine.history(instance_id=instance_id, kind="process_start")
        if starts and starts[0].definition_id is not None:
            key = svc.key_of(starts[0].definition_id)
    if key is None or not instance_visible(svc, caller, key):
        raise NotFoundError(
            f"process instance '{instance_id}' does not exist", code="engine.instance.not_found"
        )
    return {
        "running": [jsonable(c.to_dict()) for c in svc.engine.sla_clocks(instance_id=instance_id)],
        "finished": jsonable(svc.engine.sla_results(instance_id)),
    }


# ---------------------------------------------------------------------------- events


class MessageBody(BaseModel):
    """A message to correlate."""

    name: str = Field(min_length=1, max_length=400)
    correlation_key: str | None = Field(default=None, max_length=400)
    variables: Vars = Field(default_factory=dict)
    instance_id: str | None = Field(default=None, max_length=200)
    ttl_seconds: int | None = Field(default=None, ge=1, le=30 * 86400)
    all: bool = Field(
        default=False,
        description="deliver to every matching subscription (no buffering; none matching: 422)",
    )


@router.post("/messages", tags=["events"], summary="Correlate a message")
def correlate(body: MessageBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """``Engine.correlate_message`` (first match, or buffered for ``ttl_seconds``), or with
    ``all`` ``Engine.correlate_message_all``."""
    svc.require(caller, Action.START_PROCESS, f"message:{body.name}")
    if body.instance_id is not None:
        live_instance(svc, caller, body.instance_id)
    if body.all:
        if body.ttl_seconds:
            raise ValidationError(
                "'ttl_seconds' buffers a message for one receiver: not with 'all'",
                code="input.invalid",
            )
        ids = svc.engine.correlate_message_all(
            body.name, body.correlation_key, body.variables, instance_id=body.instance_id
        )
        return {"instance_ids": ids, "instance_id": ids[0] if ids else None, "buffered": False}
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
