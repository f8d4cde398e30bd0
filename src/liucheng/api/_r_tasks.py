"""Routes: user tasks — the task list, lifecycle, forms, comments, attachments, SLA clocks.

Every change goes through the engine's own methods (``claim``, ``unclaim``, ``delegate``,
``resolve_task``, ``complete_task``, ``add_comment``, ``add_attachment``...), mostly through
:meth:`Engine.as_user`, so the engine's authorisation (with its ``authorization_refused``
history), lifecycle history and form validation apply exactly as in the Python API.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from liucheng.engine import AttachmentRecord, ChangeSet, HistoryEvent, TaskRecord, UserView
from liucheng.errors import LiuchengError, NotFoundError, ValidationError
from liucheng.org import Action
from liucheng.store._retry import in_transaction

from ._core import Caller, Services
from ._http import CallerDep, Paging, PagingDep, ServicesDep
from ._json import jsonable, record_dict

__all__ = ["TASK_SORT", "router", "task_dict", "visible_task"]

router = APIRouter()

Id = Annotated[str, Path(min_length=1, max_length=200)]
Vars = dict[str, Any]

#: Sortable fields of ``GET /tasks`` (the engine's task-list sort keys).
TASK_SORT = (
    "created_at",
    "priority",
    "due_at",
    "follow_up_at",
    "name",
    "assignee",
    "process_key",
    "id",
)


class AttachmentTooLarge(LiuchengError):
    """An attachment over ``max_attachment_bytes``."""

    http_status = 413


def task_dict(svc: Services, t: TaskRecord) -> dict[str, Any]:
    """A task row as the API shows it."""
    out = record_dict(t)
    out["process_key"] = t.process_key or svc.key_of(t.definition_id)
    return out


def visible_task(svc: Services, caller: Caller, task_id: str) -> tuple[TaskRecord, UserView]:
    """An open task the caller may see, and the caller's engine view (404 when invisible:
    other people's tasks do not exist for them)."""
    task = svc.engine.get_task(task_id)
    view = svc.view(caller)
    if task is None or not view.may(Action.SEE_TASK, task):
        raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
    return task, view


def _process_admin(svc: Services, caller: Caller, task: TaskRecord) -> bool:
    key = task.process_key or svc.key_of(task.definition_id)
    return svc.allowed(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")


def _fresh(svc: Services, task_id: str) -> dict[str, Any]:
    task = svc.engine.get_task(task_id)
    if task is None:  # completed meanwhile
        return {"id": task_id, "open": False}
    return task_dict(svc, task)


# ---------------------------------------------------------------------------- task list


@router.get("/tasks", tags=["tasks"], summary="The task list")
def list_tasks(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    mine: Annotated[bool, Query(description="assigned to me")] = False,
    my_groups: Annotated[
        bool,
        Query(description="tasks I may claim: unassigned, I am a candidate (same as candidate)"),
    ] = False,
    candidate: Annotated[
        bool, Query(description="unassigned, and I am a candidate user, group or lane role")
    ] = False,
    unassigned: bool = False,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    candidate_group: Annotated[str | None, Query(max_length=200)] = None,
    process_key: Annotated[str | None, Query(max_length=200)] = None,
    instance_id: Annotated[str | None, Query(max_length=200)] = None,
    element_id: Annotated[str | None, Query(max_length=200)] = None,
    overdue: Annotated[bool, Query(description="due date passed")] = False,
    follow_up_due: bool = False,
    min_priority: Annotated[int | None, Query(ge=-1_000_000, le=1_000_000)] = None,
    max_priority: Annotated[int | None, Query(ge=-1_000_000, le=1_000_000)] = None,
    due_before: _dt.datetime | None = None,
    name_like: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """The engine's task list (filters and sort in the engine), restricted to visible tasks.

    Sort by ``created_at`` (default), ``priority``, ``due_at``, ``follow_up_at``, ``name``,
    ``assignee``, ``process_key``, ``id``; missing values last.
    """
    sort = _task_sort(paging)
    view = svc.view(caller)
    rows = svc.engine.task_list(
        user=caller.id,
        groups=(*view.principal.groups, *view.principal.roles),
        mine=mine,
        candidate=candidate or my_groups,
        unassigned=unassigned,
        assignee=None if mine else assignee,
        overdue=overdue,
        follow_up_due=follow_up_due,
        process=process_key,
        instance_id=instance_id,
        element_id=element_id,
        min_priority=min_priority,
        max_priority=max_priority,
        due_before=due_before,
        name_like=name_like,
        sort=sort,
    )
    visible = [
        t
        for t in rows
        if (candidate_group is None or candidate_group in t.candidate_groups)
        and view.may(Action.SEE_TASK, t)
    ]
    return {
        "items": [task_dict(svc, t) for t in visible[paging.offset : paging.offset + paging.limit]],
        "total": len(visible),
        "offset": paging.offset,
        "limit": paging.limit,
    }


def _task_sort(paging: Paging) -> list[str]:
    fields = (paging.sort or "created_at").split(",")
    for f in fields:
        if f.lstrip("-") not in TASK_SORT:
            raise ValidationError(
                f"cannot sort by '{f.lstrip('-')}'",
                code="input.sort",
                hint="sortable: " + ", ".join(TASK_SORT),
            )
    return fields


@router.get("/tasks/{task_id}", tags=["tasks"], summary="A task")
def get_task(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    task, _ = visible_task(svc, caller, task_id)
    return task_dict(svc, task)


class TaskUpdateBody(BaseModel):
    """Changes to a task (omitted fields stay)."""

    priority: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    due_at: _dt.datetime | None = None
    follow_up_at: _dt.datetime | None = None
    name: str | None = Field(default=None, min_length=1, max_length=400)
    description: str | None = Field(default=None, max_length=10_000)


@router.patch("/tasks/{task_id}", tags=["tasks"], summary="Change priority, dates, name")
def update_task(task_id: Id, body: TaskUpdateBody, caller: CallerDep, svc: ServicesDep) -> Any:
    task, view = visible_task(svc, caller, task_id)
    changes = body.model_dump(exclude_none=True)
    if _process_admin(svc, caller, task) and not view.may(Action.WORK_TASK, task):
        svc.engine.update_task(task_id, actor=caller.id, **changes)
    else:
        view.update_task(task_id, **changes)
    return _fresh(svc, task_id)


@router.get("/tasks/{task_id}/form", tags=["tasks"], summary="The task's form")
def get_task_form(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    """The form schema (form-js or JSON Schema) completion is validated against, or null."""
    task, view = visible_task(svc, caller, task_id)
    return {
        "task_id": task_id,
        "form_key": task.form_key,
        "form": jsonable(view.task_form(task_id)),
    }


# ---------------------------------------------------------------------------- lifecycle


@router.post("/tasks/{task_id}/claim", tags=["tasks"], summary="Claim a task")
def claim_task(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    task, view = visible_task(svc, caller, task_id)
    if task.assignee == caller.id:
        return task_dict(svc, task)
    # The engine checks, inside its transaction, that nobody took it meanwhile (409).
    if view.may(Action.CLAIM_TASK, task):
        svc.engine.claim(task_id, caller.id, actor=caller.id)
    else:
        view.claim(task_id)  # refuses, with the refusal in history
    return task_dict(svc, dataclasses.replace(task, assignee=caller.id))


@router.post("/tasks/{task_id}/unclaim", tags=["tasks"], summary="Give a task back")
def unclaim_task(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    """The assignee gives the task back to its queue; a process administrator may take it
    from anyone."""
    task, view = visible_task(svc, caller, task_id)
    if task.assignee != caller.id and _process_admin(svc, caller, task):
        svc.engine.unclaim(task_id, actor=caller.id)
    else:
        view.unclaim(task_id)
    return {"id": task_id, "assignee": None}


class AssignBody(BaseModel):
    """New assignee (``null`` clears it)."""

    assignee: str | None = Field(max_length=200)


@router.post("/tasks/{task_id}/assign", tags=["tasks"], summary="Assign a task")
def assign_task(task_id: Id, body: AssignBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """The assignee hands the task over; a process administrator assigns anyone's task."""
    task, view = visible_task(svc, caller, task_id)
    if task.assignee != caller.id or not view.may(Action.WORK_TASK, task):
        svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{task.process_key}")
    svc.engine.assign_task(task_id, body.assignee, actor=caller.id)
    return {"id": task_id, "assignee": body.assignee}


class DelegateBody(BaseModel):
    """The person who helps (becomes assignee; the caller stays owner)."""

    user: str = Field(min_length=1, max_length=200)


@router.post("/tasks/{task_id}/delegate", tags=["tasks"], summary="Delegate a task")
def delegate_task(task_id: Id, body: DelegateBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """The assignee delegates: ``user`` works on it and resolves it back to the owner."""
    _, view = visible_task(svc, caller, task_id)
    view.delegate(task_id, body.user)
    return _fresh(svc, task_id)


class CompleteBody(BaseModel):
    """Form data of the completed (or resolved) task."""

    variables: Vars = Field(default_factory=dict)


@router.post("/tasks/{task_id}/resolve", tags=["tasks"], summary="Hand a delegated task back")
def resolve_task(task_id: Id, body: CompleteBody, caller: CallerDep, svc: ServicesDep) -> Any:
    _, view = visible_task(svc, caller, task_id)
    view.resolve_task(task_id, body.variables)
    return _fresh(svc, task_id)


@router.post("/tasks/{task_id}/complete", tags=["tasks"], summary="Complete a task")
def complete_task(task_id: Id, body: CompleteBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """Completes with the form data; a submission that does not satisfy the task's form is
    refused with 422 ``engine.form.rejected`` listing every field error in ``errors``."""
    task, view = visible_task(svc, caller, task_id)
    if view.may(Action.WORK_TASK, task):  # what the view checks, without reading it again
        svc.engine.complete_task(task_id, body.variables, actor=caller.id)
    else:
        view.complete_task(task_id, body.variables)  # refuses, with the refusal in history
    return {"id": task_id, "completed": True, "instance_id": task.instance_id}


# ---------------------------------------------------------------------------- comments


class CommentBody(BaseModel):
    """A comment."""

    text: str = Field(min_length=1, max_length=10_000)


def _comment_dict(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "task_id": c.task_id,
        "at": c.created_at.isoformat(),
        "author": c.author,
        "text": c.message,
    }


@router.get("/tasks/{task_id}/comments", tags=["tasks"], summary="Comments on a task")
def list_comments(task_id: Id, caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    visible_task(svc, caller, task_id)
    items = [_comment_dict(c) for c in svc.engine.comments(task_id)]
    from ._http import page_of

    return page_of(items, paging, ("at", "author"))


@router.post(
    "/tasks/{task_id}/comments", tags=["tasks"], status_code=201, summary="Comment on a task"
)
def add_comment(task_id: Id, body: CommentBody, caller: CallerDep, svc: ServicesDep) -> Any:
    """Everyone who sees the task may comment (leads and candidates too, not only the
    assignee); stored by the engine (``task_comment`` history)."""
    visible_task(svc, caller, task_id)
    cid = svc.engine.add_comment(task_id, body.text, author=caller.id)
    found = next((c for c in svc.engine.comments(task_id) if c.id == cid), None)
    if found is None:  # pragma: no cover - the engine just wrote it
        raise NotFoundError(f"comment '{cid}' vanished", code="engine.comment.not_found")
    return _comment_dict(found)


# ---------------------------------------------------------------------------- attachments


def _attachment_dict(a: AttachmentRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "task_id": a.task_id,
        "name": a.name,
        "content_type": a.content_type,
        "size": len(a.content) if a.content is not None else None,
        "url": a.url,
        "description": a.description,
        "author": a.author,
        "at": a.created_at.isoformat(),
    }


def _attachment(svc: Services, task_id: str, attachment_id: str) -> AttachmentRecord:
    found = next((a for a in svc.engine.attachments(task_id) if a.id == attachment_id), None)
    if found is None:
        raise NotFoundError(
            f"attachment '{attachment_id}' does not exist", code="engine.attachment.not_found"
        )
    return found


@router.get("/tasks/{task_id}/attachments", tags=["tasks"], summary="Attachments of a task")
def list_attachments(task_id: Id, caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    visible_task(svc, caller, task_id)
    from ._http import page_of

    items = [_attachment_dict(a) for a in svc.engine.attachments(task_id)]
    return page_of(items, paging, ("at", "name", "author"))


@router.post(
    "/tasks/{task_id}/attachments",
    tags=["tasks"],
    status_code=201,
    summary="Attach a file (raw body) or a link (?url=)",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def add_attachment(
    *,
    request: Request,
    task_id: Id,
    caller: CallerDep,
    svc: ServicesDep,
    name: Annotated[str, Query(min_length=1, max_length=400)],
    url: Annotated[str | None, Query(max_length=2000, pattern=r"^https?://")] = None,
    description: Annotated[str | None, Query(max_length=4000)] = None,
) -> Any:
    """The body is the file (its ``Content-Type`` is recorded), limited to
    ``max_attachment_bytes`` (413); with ``url`` the attachment is a link and the body must be
    empty."""
    limit = svc.settings.max_attachment_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise AttachmentTooLarge(
                f"the attachment is over {limit} bytes", code="engine.attachment.too_large"
            )
        chunks.append(chunk)
    content = b"".join(chunks)
    if url is not None and content:
        raise ValidationError(
            "give a file body or a url, not both", code="engine.attachment.invalid"
        )
    ctype = request.headers.get("content-type")
    ctype = ctype.split(";")[0].strip()[:200] if ctype and url is None else None

    def work() -> dict[str, Any]:
        visible_task(svc, caller, task_id)
        aid = svc.engine.add_attachment(
            task_id,
            name,
            content=None if url is not None else content,
            url=url,
            content_type=ctype or ("application/octet-stream" if url is None else None),
            description=description,
            author=caller.id,
        )
        return _attachment_dict(_attachment(svc, task_id, aid))

    return await run_in_threadpool(work)


@router.get(
    "/tasks/{task_id}/attachments/{attachment_id}",
    tags=["tasks"],
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
)
def download_attachment(
    task_id: Id, attachment_id: Id, caller: CallerDep, svc: ServicesDep
) -> Response:
    """The file with its recorded content type (as a download); a link answers 303 to it."""
    visible_task(svc, caller, task_id)
    a = _attachment(svc, task_id, attachment_id)
    if a.content is None:
        return Response(status_code=303, headers={"Location": a.url or ""})
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in a.name)[:200]
    return Response(
        a.content,
        media_type=a.content_type or "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.delete(
    "/tasks/{task_id}/attachments/{attachment_id}",
    tags=["tasks"],
    summary="Delete an attachment",
)
def delete_attachment(task_id: Id, attachment_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    """Its author or a process administrator deletes it; history records
    ``task_attachment_delete``."""
    task, _ = visible_task(svc, caller, task_id)
    a = _attachment(svc, task_id, attachment_id)
    if a.author != caller.id:
        svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{task.process_key}")
    # The engine has no delete command yet: one atomic change set through the store port.
    changes = ChangeSet()
    changes.delete("attachment", a.id)
    changes.history.append(
        HistoryEvent(
            "task_attachment_delete",
            svc.engine.clock.now(),
            task.instance_id,
            task.definition_id,
            element_id=task.element_id,
            element_type="userTask",
            element_instance_id=task.element_instance_id,
            actor=caller.id,
            data={"task_id": task.id, "attachment_id": a.id, "name": a.name},
            seq=1,
        )
    )
    in_transaction(svc.store, lambda tx: tx.apply(changes))
    return {"id": a.id, "deleted": True}


# ---------------------------------------------------------------------------- SLA clocks


@router.get("/tasks/{task_id}/slas", tags=["tasks"], summary="SLA clocks of a task")
def task_slas(task_id: Id, caller: CallerDep, svc: ServicesDep) -> Any:
    """Running clocks of the task with their state now (status, elapsed, remaining, due...)."""
    visible_task(svc, caller, task_id)
    return {"items": [jsonable(c.to_dict()) for c in svc.engine.sla_clocks(task_id=task_id)]}
