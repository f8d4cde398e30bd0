"""Routes: operator controls the Python API has besides the common ones — triggering a waiting
token, event subscriptions, running a job now, pausing and resuming SLA clocks, business
calendars and business-time due dates.

Authorisation follows the neighbouring routes: changing an instance needs
``definitions.admin`` on its process (as cancel/modify/migrate); reading what waits in an
instance needs to see its instances (404 otherwise, so existence does not leak); a task's SLA
clocks may be paused by the task's assignee or a process administrator.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from liucheng.errors import AuthorizationError, NotFoundError, ValidationError
from liucheng.org import Action

from ._core import Caller, Services
from ._http import CallerDep, PagingDep, ServicesDep, page_of
from ._json import jsonable, record_dict
from ._r_runtime import instance_visible, operable_instance
from ._r_tasks import visible_task

__all__ = ["router"]

router = APIRouter()

Id = Annotated[str, Path(min_length=1, max_length=200)]
Vars = dict[str, Any]


# ---------------------------------------------------------------------------- trigger


class TriggerBody(BaseModel):
    """Which waiting token to continue, with variables to set first."""

    element_id: str = Field(min_length=1, max_length=200)
    variables: Vars = Field(default_factory=dict)
    index: int = Field(default=1, ge=1, le=10_000, description="Which one when several wait")


@router.post(
    "/process-instances/{instance_id}/trigger",
    tags=["process instances"],
    summary="Continue a token waiting at an element (receive task, catch event)",
)
def trigger(instance_id: Id, body: TriggerBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """``Engine.trigger``: an operator move, so it needs ``definitions.admin`` on the process."""
    operable_instance(svc, caller, instance_id)
    svc.engine.trigger(instance_id, body.element_id, body.variables, index=body.index)
    return {
        "id": instance_id,
        "ended": svc.engine.is_ended(instance_id),
        "active": []
        if svc.engine.is_ended(instance_id)
        else svc.engine.active_elements(instance_id),
    }


# ---------------------------------------------------------------------------- subscriptions


@router.get("/subscriptions", tags=["events"], summary="Open message and signal subscriptions")
def list_subscriptions(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    kind: Annotated[str | None, Query(pattern="^(message|signal)$")] = None,
    name: Annotated[str | None, Query(max_length=400)] = None,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
    correlation_key: Annotated[str | None, Query(max_length=400)] = None,
) -> Any:
    """``Engine.subscriptions``: only those of instances the caller may see."""
    filters: dict[str, Any] = {}
    for field, value in (
        ("kind", kind),
        ("name", name),
        ("instance_id", instance_id),
        ("correlation_key", correlation_key),
    ):
        if value is not None:
            filters[field] = value
    seen: dict[str, bool] = {}

    def visible(definition_id: str) -> bool:
        if definition_id not in seen:
            seen[definition_id] = instance_visible(svc, caller, svc.key_of(definition_id))
        return seen[definition_id]

    rows = [record_dict(s) for s in svc.engine.subscriptions(**filters) if visible(s.definition_id)]
    return page_of(rows, paging, ("created_at", "name", "kind"), default="created_at")


# ---------------------------------------------------------------------------- jobs


class ExecuteBody(BaseModel):
    """Optional worker id: the job must then be leased to it (or not leased)."""

    worker_id: str | None = Field(default=None, min_length=1, max_length=200)


@router.post("/jobs/{job_id}/execute", tags=["jobs"], summary="Run a job now")
def execute_job(job_id: Id, body: ExecuteBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """``Engine.execute_job``: runs a timer or continuation now (a failure costs a retry)."""
    rows = svc.engine.jobs(id=job_id)
    if not rows or not svc.operable(caller, rows[0].definition_id):
        raise NotFoundError(f"job '{job_id}' does not exist", code="engine.job.not_found")
    ran = svc.engine.execute_job(job_id, body.worker_id)
    left = svc.engine.jobs(id=job_id)
    return {
        "id": job_id,
        "executed": ran,
        "job": record_dict(left[0]) if left else None,
    }


# ---------------------------------------------------------------------------- SLA clocks


class SlaBody(BaseModel):
    """Which clocks (``name``; omitted: all of the scope) and why."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


def _clocks(svc: Services, instance_id: str | None, task_id: str | None) -> list[Any]:
    return [
        jsonable(c.to_dict())
        for c in svc.engine.sla_clocks(instance_id=instance_id, task_id=task_id)
    ]


@router.post(
    "/process-instances/{instance_id}/slas/{action}",
    tags=["process instances"],
    summary="Pause or resume the SLA clocks of a process instance",
)
def instance_sla_action(
    instance_id: Id,
    action: Annotated[str, Path(pattern="^(pause|resume)$")],
    body: SlaBody,
    caller: CallerDep,
    svc: ServicesDep,
) -> Any:
    """``Engine.pause_sla`` / ``Engine.resume_sla`` on the instance's clocks (process
    administrators)."""
    operable_instance(svc, caller, instance_id)
    act = svc.engine.pause_sla if action == "pause" else svc.engine.resume_sla
    act(instance_id, name=body.name, reason=body.reason, actor=caller.id)
    return {"items": _clocks(svc, instance_id, None)}


def _may_pause_task(svc: Services, caller: Caller, task: Any) -> bool:
    if task.assignee == caller.id:
        return True
    key = task.process_key or svc.key_of(task.definition_id)
    return svc.allowed(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")


@router.post(
    "/tasks/{task_id}/slas/{action}",
    tags=["tasks"],
    summary="Pause or resume the SLA clocks of a task (e.g. waiting for the customer)",
)
def task_sla_action(
    task_id: Id,
    action: Annotated[str, Path(pattern="^(pause|resume)$")],
    body: SlaBody,
    caller: CallerDep,
    svc: ServicesDep,
) -> Any:
    """The task's assignee or a process administrator; others who see the task get 403."""
    task, _ = visible_task(svc, caller, task_id)
    if not _may_pause_task(svc, caller, task):
        raise AuthorizationError(
            f"only the assignee of task '{task_id}' or a process administrator may {action} "
            "its SLA clocks",
            code="auth.forbidden",
            hint="claim the task first",
        )
    act = svc.engine.pause_sla if action == "pause" else svc.engine.resume_sla
    act(task_id=task_id, name=body.name, reason=body.reason, actor=caller.id)
    return {"items": _clocks(svc, None, task_id)}


# ---------------------------------------------------------------------------- calendars


#: Longest span counted (10,000 working hours: years of office time); counting walks the
#: calendar's working intervals, so an unbounded duration would be unbounded work.
_MAX_HOURS = 10_000
_MIN_START = _dt.datetime(1900, 1, 1, tzinfo=_dt.UTC)
_MAX_START = _dt.datetime(2200, 1, 1, tzinfo=_dt.UTC)
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def _duration_hours(text: str) -> float:
    """Hours in an ISO 8601 duration of weeks, days and time (others: 0, the engine refuses
    them with its own error)."""
    m = _DURATION.match(text.strip())
    if m is None:
        return 0.0
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    return (
        parts.get("w", 0.0) * 168
        + parts.get("d", 0.0) * 24
        + parts.get("h", 0.0)
        + parts.get("m", 0.0) / 60
        + parts.get("s", 0.0) / 3600
    )


CalendarName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")]


@router.get("/calendars/{name}", tags=["organisation"], summary="A business calendar")
def get_calendar(name: CalendarName, caller: CallerDep, svc: ServicesDep) -> Any:
    """``Engine.calendar``: the engine's own calendar of that name, else the organisation's."""
    cal = svc.engine.calendar(name)  # engine.organisation: the stored one, kept fresh
    to_dict = getattr(cal, "to_dict", None)
    return {"name": name, **(jsonable(to_dict()) if callable(to_dict) else {})}


@router.get(
    "/calendars/{name}/due",
    tags=["organisation"],
    summary="Start plus a duration counted in the calendar's working time",
)
def business_due(
    name: CalendarName,
    caller: CallerDep,
    svc: ServicesDep,
    duration: Annotated[
        str, Query(min_length=2, max_length=100, description="ISO 8601 duration, e.g. PT8H")
    ],
    start: Annotated[
        _dt.datetime | None, Query(description="ISO date-time with offset (default: now)")
    ] = None,
) -> Any:
    """``Engine.business_due``."""
    begin = start or svc.engine.clock.now()
    if begin.tzinfo is None:
        raise ValidationError(
            "'start' needs a UTC offset", code="input.invalid", hint="e.g. 2026-01-05T09:00:00Z"
        )
    if not _MIN_START <= begin <= _MAX_START:
        raise ValidationError(
            "'start' must lie between the years 1900 and 2200", code="input.range"
        )
    if _duration_hours(duration) > _MAX_HOURS:
        raise ValidationError(
            f"the duration is over {_MAX_HOURS} hours",
            code="input.range",
            hint="business calendars count working time; ask for a shorter span",
        )
    try:
        due = svc.engine.business_due(name, begin, duration)
    except OverflowError:  # the calendar walked past the last date Python can hold
        raise ValidationError(
            "the due date falls outside the supported dates", code="input.range"
        ) from None
    return {
        "calendar": name,
        "start": begin.isoformat(),
        "duration": duration,
        "due": due.isoformat(),
    }
