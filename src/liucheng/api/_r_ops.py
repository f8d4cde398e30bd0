"""Routes: external tasks, jobs, incidents, history, audit log (organisation: ``_r_org``)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as _dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from liucheng.engine.ports import ChangeSet, ExternalTaskRecord, Page
from liucheng.errors import EngineError, NotFoundError
from liucheng.org import Action
from liucheng.store import SqlTransaction
from liucheng.store._retry import in_transaction

from ._core import Caller, Services
from ._http import CallerDep, PagingDep, ServicesDep, page_of
from ._json import jsonable, record_dict

__all__ = ["router"]

router = APIRouter()

Id = Annotated[str, Path(min_length=1, max_length=200)]
Vars = dict[str, Any]


# ---------------------------------------------------------------------------- external tasks


class TopicBody(BaseModel):
    """A topic to fetch from."""

    name: str = Field(min_length=1, max_length=400)
    lock_duration_ms: int = Field(default=300_000, ge=1000, le=7 * 86_400_000)
    variables: list[str] | None = Field(
        default=None, max_length=500, description="Only these variables (default: all)."
    )


class FetchBody(BaseModel):
    """Fetch-and-lock request; waits up to ``async_response_timeout_ms`` for work."""

    worker_id: str = Field(min_length=1, max_length=200)
    topics: list[TopicBody] = Field(min_length=1, max_length=50)
    max_tasks: int = Field(default=1, ge=1, le=100)
    async_response_timeout_ms: int = Field(default=0, ge=0, le=600_000)


def _locked_dict(t: Any) -> dict[str, Any]:
    return {
        "id": t.id,
        "topic": t.topic,
        "instance_id": t.instance_id,
        "element_id": t.element_id,
        "business_key": t.business_key,
        "variables": jsonable(t.variables),
        "lock_expires_at": t.lock_expires_at.isoformat(),
        "retries": t.retries,
    }


def _fetch(svc: Services, body: FetchBody) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for topic in body.topics:
        left = body.max_tasks - len(out)
        if left <= 0:
            break
        got = svc.engine.fetch_and_lock(
            topic.name,
            body.worker_id,
            max_tasks=left,
            lock_duration=_dt.timedelta(milliseconds=topic.lock_duration_ms),
            variables=topic.variables,
        )
        out += [_locked_dict(t) for t in got]
    return out


@router.post(
    "/external-tasks/fetch-and-lock",
    tags=["external tasks"],
    summary="Lock external tasks of topics (long polling)",
)
async def fetch_and_lock(
    body: FetchBody, request: Request, caller: CallerDep, svc: ServicesDep
) -> Any:
    for topic in body.topics:
        svc.require(caller, Action.WORK_TASK, f"external:{topic.name}")
    wait = min(body.async_response_timeout_ms / 1000.0, svc.settings.long_poll_max_s)
    deadline = time.monotonic() + wait
    while True:
        items = await run_in_threadpool(_fetch, svc, body)
        left = deadline - time.monotonic()
        if items or left <= 0 or await request.is_disconnected():
            return {"items": items}
        await asyncio.sleep(min(0.2, left))


def _external(svc: Services, caller: Caller, task_id: str) -> ExternalTaskRecord:
    rows = svc.engine.external_tasks(id=task_id)
    if not rows:
        raise NotFoundError(
            f"external task '{task_id}' does not exist", code="engine.external_task.not_found"
        )
    row: ExternalTaskRecord = rows[0]
    if not svc.allowed(caller, Action.WORK_TASK, f"external:{row.topic}"):
        key = svc.key_of(row.definition_id)
        if not svc.allowed(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}"):
            raise NotFoundError(
                f"external task '{task_id}' does not exist",
                code="engine.external_task.not_found",
            )
    return row


@router.get("/external-tasks", tags=["external tasks"], summary="Open external tasks")
def list_external(
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    topic: Annotated[str | None, Query(max_length=400)] = None,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    filters: dict[str, Any] = {}
    if topic is not None:
        filters["topic"] = topic
    if instance_id is not None:
        filters["instance_id"] = instance_id
    rows = [
        record_dict(r, drop=("variables",))
        for r in svc.engine.external_tasks(**filters)
        if svc.allowed(caller, Action.WORK_TASK, f"external:{r.topic}")
        or svc.allowed(
            caller, Action.ADMIN_DEFINITIONS, f"definition:{svc.key_of(r.definition_id)}"
        )
    ]
    return page_of(rows, paging, ("created_at", "priority", "topic"), default="created_at")


class WorkerBody(BaseModel):
    """Which worker acts."""

    worker_id: str = Field(min_length=1, max_length=200)


class CompleteExternalBody(WorkerBody):
    """Results of an external task."""

    variables: Vars = Field(default_factory=dict)
    local_variables: Vars = Field(default_factory=dict)


@router.post("/external-tasks/{task_id}/complete", tags=["external tasks"], summary="Complete")
def complete_external(
    task_id: Id, body: CompleteExternalBody, caller: CallerDep, svc: ServicesDep
) -> Any:
    _external(svc, caller, task_id)
    svc.engine.complete_external_task(
        task_id, body.worker_id, body.variables, local_variables=body.local_variables
    )
    return {"id": task_id, "completed": True}


class FailureBody(WorkerBody):
    """A worker failure; ``retries`` 0 opens an incident."""

    message: str = Field(default="failed", max_length=4000)
    details: str | None = Field(default=None, max_length=100_000)
    retries: int = Field(default=0, ge=0, le=1000)
    retry_timeout_ms: int = Field(default=0, ge=0, le=7 * 86_400_000)


@router.post("/external-tasks/{task_id}/failure", tags=["external tasks"], summary="Fail")
def fail_external(task_id: Id, body: FailureBody, caller: CallerDep, svc: ServicesDep) -> Any:
    _external(svc, caller, task_id)
    svc.engine.fail_external_task(
        task_id,
        body.worker_id,
        body.message,
        retries=body.retries,
        retry_timeout=_dt.timedelta(milliseconds=body.retry_timeout_ms)
        if body.retry_timeout_ms
        else None,
        details=body.details,
    )
    return {"id": task_id, "retries": body.retries}


class BpmnErrorBody(WorkerBody):
    """A BPMN error thrown by the worker."""

    code: str = Field(min_length=1, max_length=400)
    message: str | None = Field(default=None, max_length=4000)
    variables: Vars = Field(default_factory=dict)


@router.post(
    "/external-tasks/{task_id}/bpmn-error", tags=["external tasks"], summary="Throw BPMN error"
)
def bpmn_error(task_id: Id, body: BpmnErrorBody, caller: CallerDep, svc: ServicesDep) -> Any:
    _external(svc, caller, task_id)
    svc.engine.external_task_bpmn_error(
        task_id, body.code, body.worker_id, message=body.message, variables=body.variables
    )
    return {"id": task_id, "error_code": body.code}


class ExtendBody(WorkerBody):
    """New lock duration from now."""

    new_duration_ms: int = Field(ge=1000, le=7 * 86_400_000)


def _relock(
    svc: Services, task_id: str, worker_id: str, expires: _dt.datetime | None
) -> ExternalTaskRecord:
    # The engine has no extend/unlock command; the lock lives only in the index row, which the
    # store's transaction API updates atomically (a completed task's row is gone: not found).
    return in_transaction(svc.store, lambda tx: _relock_in(tx, svc, task_id, worker_id, expires))


def _relock_in(
    tx: SqlTransaction,
    svc: Services,
    task_id: str,
    worker_id: str,
    expires: _dt.datetime | None,
) -> ExternalTaskRecord:
    row = tx.get_row("external_task", task_id)
    if row is None:
        raise NotFoundError(
            f"external task '{task_id}' does not exist",
            code="engine.external_task.not_found",
        )
    now = svc.engine.clock.now()
    if row.lock_owner != worker_id or (
        row.lock_expires_at is not None and row.lock_expires_at <= now
    ):
        raise EngineError(
            f"external task '{task_id}' is not locked by '{worker_id}'",
            code="engine.external_task.locked",
            hint="fetch and lock it first",
        )
    new = dataclasses.replace(
        row,
        lock_owner=worker_id if expires is not None else None,
        lock_expires_at=expires,
    )
    cs = ChangeSet()
    cs.upsert("external_task", new)
    tx.apply(cs)
    result: ExternalTaskRecord = new
    return result


@router.post(
    "/external-tasks/{task_id}/extend-lock", tags=["external tasks"], summary="Extend the lock"
)
def extend_lock(task_id: Id, body: ExtendBody, caller: CallerDep, svc: ServicesDep) -> Any:
    _external(svc, caller, task_id)
    expires = svc.engine.clock.now() + _dt.timedelta(milliseconds=body.new_duration_ms)
    row = _relock(svc, task_id, body.worker_id, expires)
    return {"id": task_id, "lock_expires_at": jsonable(row.lock_expires_at)}


@router.post("/external-tasks/{task_id}/unlock", tags=["external tasks"], summary="Unlock")
def unlock(task_id: Id, body: WorkerBody, caller: CallerDep, svc: ServicesDep) -> Any:
    _external(svc, caller, task_id)
    _relock(svc, task_id, body.worker_id, None)
    return {"id": task_id, "unlocked": True}


# ---------------------------------------------------------------------------- jobs, incidents


def _operable(svc: Services, caller: Caller, definition_id: str | None) -> bool:
    return svc.operable(caller, definition_id)


@router.get("/jobs", tags=["jobs"], summary="Jobs (timers, async continuations)")
def list_jobs(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    failed: Annotated[bool, Query(description="only jobs with an error")] = False,
) -> Any:
    filters: dict[str, Any] = {}
    if instance_id is not None:
        filters["instance_id"] = instance_id
    if kind is not None:
        filters["kind"] = kind
    rows = [
        record_dict(j)
        for j in svc.engine.jobs(**filters)
        if _operable(svc, caller, j.definition_id) and (not failed or j.error is not None)
    ]
    return page_of(rows, paging, ("due_at", "created_at", "retries", "priority"), default="due_at")


class RetriesBody(BaseModel):
    """New retries."""

    retries: int = Field(ge=0, le=1000)


@router.post("/jobs/{job_id}/retries", tags=["jobs"], summary="Set a job's retries")
def set_retries(job_id: Id, body: RetriesBody, caller: CallerDep, svc: ServicesDep) -> Any:
    rows = svc.engine.jobs(id=job_id)
    if not rows or not _operable(svc, caller, rows[0].definition_id):
        raise NotFoundError(f"job '{job_id}' does not exist", code="engine.job.not_found")
    svc.engine.set_job_retries(job_id, body.retries)
    return {"id": job_id, "retries": body.retries}


@router.get("/incidents", tags=["incidents"], summary="Open incidents")
def list_incidents(
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    filters: dict[str, Any] = {}
    if instance_id is not None:
        filters["instance_id"] = instance_id
    rows = [
        record_dict(i)
        for i in svc.engine.incidents(**filters)
        if _operable(svc, caller, i.definition_id)
    ]
    return page_of(rows, paging, ("created_at", "kind"), default="created_at")


@router.post("/incidents/{incident_id}/resolve", tags=["incidents"], summary="Resolve (retry)")
def resolve(incident_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    rows = svc.engine.incidents(id=incident_id)
    if not rows or not _operable(svc, caller, rows[0].definition_id):
        raise NotFoundError(
            f"incident '{incident_id}' is not open", code="engine.incident.not_found"
        )
    svc.engine.resolve_incident(incident_id)
    return {"id": incident_id, "resolved": True}


# ---------------------------------------------------------------------------- history, audit


@router.get("/history", tags=["history"], summary="History events (append-only)")
def history(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
    definition_id: Annotated[str | None, Query(max_length=400)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    element_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    filters: dict[str, Any] = {}
    for name, value in (
        ("instance_id", instance_id),
        ("definition_id", definition_id),
        ("kind", kind),
        ("element_id", element_id),
        ("actor", actor),
    ):
        if value is not None:
            filters[name] = value
    allowed: dict[str, bool] = {}

    def visible(def_id: str | None) -> bool:
        if def_id is None:
            return caller.is_admin
        if def_id not in allowed:
            try:
                key = svc.key_of(def_id)
            except NotFoundError:
                allowed[def_id] = caller.is_admin
            else:
                allowed[def_id] = svc.allowed(caller, Action.READ_HISTORY, f"history:{key}")
        return allowed[def_id]

    events = svc.engine.history(page=Page(0, 50_000), **filters)
    rows = [record_dict(e) for e in events if visible(e.definition_id)]
    if paging.sort is None:
        return page_of(rows, paging, ())
    return page_of(rows, paging, ("at", "kind", "actor", "element_id"))


@router.get("/audit", tags=["audit"], summary="Audit log of changing API calls")
def audit(
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "audit")
    total, rows = svc.audit_entries(offset=paging.offset, limit=paging.limit, actor=actor)
    return {"items": rows, "total": total, "offset": paging.offset, "limit": paging.limit}
