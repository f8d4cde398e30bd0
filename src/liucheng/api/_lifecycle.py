"""Definition lifecycle: draft → review (comments) → approval by the owner → published.

The review and approval run as the built-in BPMN process ``liucheng_model_lifecycle``
(``processes/model_lifecycle.bpmn``) on the engine: reviewers and the owner get ordinary user
tasks. Every step is recorded (who, when, what); a lint gate (``liucheng.model.validate``) blocks
submission and publication of models with errors.
"""

from __future__ import annotations

import datetime as _dt
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update

from liucheng.engine.ports import DefinitionRecord, DeploymentRecord, TaskRecord
from liucheng.errors import (
    EngineError,
    ModelError,
    ModelValidationError,
    NotFoundError,
    ValidationError,
)
from liucheng.org import Action
from liucheng.store import SqlTransaction
from liucheng.store._api_schema import api_model, api_model_event, api_model_version
from liucheng.store._retry import in_connection, in_transaction

from ._core import Caller, Services
from ._diff import diff_bpmn
from ._http import CallerDep, PagingDep, ServicesDep, later_step, page_of

__all__ = ["LIFECYCLE_KEY", "ensure_lifecycle_deployed", "router"]

LIFECYCLE_KEY = "liucheng_model_lifecycle"
router = APIRouter(tags=["model lifecycle"])
Key = Annotated[str, Path(min_length=1, max_length=200)]
_OPEN_FOR_EDIT = {"draft", "changes_requested", "rejected", "published"}


class LifecycleError(EngineError):
    """A lifecycle step that does not fit the model's state (HTTP 409)."""

    default_code = "lifecycle.state"
    http_status = 409


def lifecycle_bpmn() -> bytes:
    """The built-in lifecycle process."""
    return resources.files("liucheng.api").joinpath("processes/model_lifecycle.bpmn").read_bytes()


def ensure_lifecycle_deployed(svc: Services) -> None:
    """Deploy the lifecycle process unless its current text is deployed already."""
    data = lifecycle_bpmn()

    def read(tx: SqlTransaction) -> tuple[DefinitionRecord | None, DeploymentRecord | None]:
        rec = tx.latest_definition(LIFECYCLE_KEY)
        return rec, tx.get_deployment(rec.deployment_id) if rec else None

    rec, dep = in_transaction(svc.store, read)
    if dep is not None and rec is not None and dep.resources.get(rec.resource_name) == data:
        return
    svc.engine.deploy([("model_lifecycle.bpmn", data)], name="liucheng model lifecycle")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _lint(xml: bytes, name: str) -> tuple[str, list[dict[str, Any]]]:
    """The process key and the validation problems of a draft (unparseable: ModelError)."""
    from liucheng.model import parse_bpmn, validate

    defs = parse_bpmn(xml, filename=name)
    keys = [p.id for p in defs.processes if p.id and p.is_executable is not False]
    if len(keys) != 1:
        raise ValidationError(
            f"a model must hold exactly one executable process (found {len(keys)})",
            code="lifecycle.process_count",
            hint='mark one process isExecutable="true"',
        )
    return keys[0], [p.to_dict() for p in validate(defs)]


def _event(
    c: Connection,
    key: str,
    actor: str,
    kind: str,
    *,
    version: int | None,
    comment: str | None = None,
) -> None:
    c.execute(
        insert(api_model_event).values(
            model_id=key, at=_now(), actor=actor, kind=kind, version=version, comment=comment
        )
    )


def _model_row(svc: Services, key: str) -> Any:
    return in_connection(
        svc.db, lambda c: c.execute(select(api_model).where(api_model.c.id == key)).first()
    )


def _open_task(svc: Services, row: Any) -> TaskRecord | None:
    if not row.instance_id:
        return None
    tasks = svc.engine.tasks(instance_id=row.instance_id)
    return tasks[0] if tasks else None


def _may_edit(svc: Services, caller: Caller, key: str) -> bool:
    return svc.allowed(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")


def _visible_model(svc: Services, caller: Caller, key: str) -> Any:
    row = _model_row(svc, key)
    if row is not None:
        if row.owner == caller.id or _may_edit(svc, caller, key):
            return row
        task = _open_task(svc, row)
        if task is not None and svc.allowed(caller, Action.SEE_TASK, svc.task_resource(task)):
            return row
    raise NotFoundError(f"model '{key}' does not exist", code="lifecycle.not_found")


def _version_xml(svc: Services, key: str, version: int) -> tuple[bytes, list[dict[str, Any]]]:
    stmt = select(api_model_version).where(
        api_model_version.c.model_id == key, api_model_version.c.version == version
    )
    row = in_connection(svc.db, lambda c: c.execute(stmt).first())
    if row is None:
        raise NotFoundError(f"model '{key}' has no version {version}", code="lifecycle.version")
    return row.xml.encode("utf-8"), list(row.problems or [])


def _model_dict(svc: Services, row: Any) -> dict[str, Any]:
    task = _open_task(svc, row)
    return {
        "key": row.id,
        "name": row.name,
        "owner": row.owner,
        "status": row.status,
        "latest_version": row.latest_version,
        "review_version": row.review_version,
        "published_version": row.published_version,
        "deployment_id": row.deployment_id,
        "instance_id": row.instance_id,
        "open_task": None
        if task is None
        else {"id": task.id, "element_id": task.element_id, "assignee": task.assignee},
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


class DraftBody(BaseModel):
    """A model version (BPMN XML text)."""

    xml: str = Field(min_length=1, max_length=5_000_000)
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=400)
    comment: str | None = Field(default=None, max_length=10_000)


def _decode(xml: str) -> bytes:
    return xml.encode("utf-8")


def _add_version(
    c: Connection, key: str, version: int, *, xml: bytes, problems: list[Any], actor: str
) -> None:
    c.execute(
        insert(api_model_version).values(
            id=f"{key}:{version}",
            model_id=key,
            version=version,
            xml=xml.decode("utf-8"),
            problems=problems,
            created_by=actor,
            created_at=_now(),
        )
    )


@router.post("/models", status_code=201, summary="Create a model (first draft)")
def create_model(body: DraftBody, caller: CallerDep, svc: ServicesDep) -> Any:
    xml = _decode(body.xml)
    key, problems = _lint(xml, "draft.bpmn")
    svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")
    owner = body.owner
    if owner is None:
        org = svc.org()
        proc = org.processes.get(key) if org is not None else None
        owner = getattr(proc, "owner", None) or caller.id
    now = _now()

    def create(c: Connection) -> None:
        if c.execute(select(api_model.c.id).where(api_model.c.id == key)).first() is not None:
            raise LifecycleError(
                f"model '{key}' exists",
                code="lifecycle.exists",
                hint=f"add a version with PUT /api/v1/models/{key}/draft",
            )
        c.execute(
            insert(api_model).values(
                id=key,
                name=body.name,
                owner=owner,
                status="draft",
                latest_version=1,
                created_by=caller.id,
                created_at=now,
                updated_at=now,
            )
        )
        _add_version(c, key, 1, xml=xml, problems=problems, actor=caller.id)
        _event(c, key, caller.id, "draft", version=1, comment=body.comment)

    in_connection(svc.db, create)
    return {**_model_dict(svc, _model_row(svc, key)), "problems": problems}


@router.put("/models/{key}/draft", summary="Save a new draft version")
def save_draft(key: Key, body: DraftBody, caller: CallerDep, svc: ServicesDep) -> Any:
    row = _visible_model(svc, caller, key)
    svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")
    xml = _decode(body.xml)
    found, problems = _lint(xml, "draft.bpmn")
    if found != key:
        raise ValidationError(
            f"the draft's process id is '{found}', not '{key}'", code="lifecycle.key"
        )
    if row.status not in _OPEN_FOR_EDIT:
        raise LifecycleError(f"model '{key}' is in {row.status}; wait for the decision")
    version = row.latest_version + 1

    def save(c: Connection) -> None:
        changed = c.execute(
            update(api_model)
            .where(api_model.c.id == key, api_model.c.latest_version == row.latest_version)
            .values(
                latest_version=version,
                status="draft",
                updated_at=_now(),
                **({"owner": body.owner} if body.owner else {}),
            )
        ).rowcount
        if changed != 1:
            raise LifecycleError(f"model '{key}' changed meanwhile", code="lifecycle.conflict")
        _add_version(c, key, version, xml=xml, problems=problems, actor=caller.id)
        _event(c, key, caller.id, "draft", version=version, comment=body.comment)

    in_connection(svc.db, save)
    return {**_model_dict(svc, _model_row(svc, key)), "problems": problems}


@router.get("/models", summary="Models I own, edit or review")
def list_models(caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    rows = in_connection(svc.db, lambda c: c.execute(select(api_model)).all())
    items = []
    for row in rows:
        try:
            _visible_model(svc, caller, row.id)
        except NotFoundError:
            continue
        items.append(_model_dict(svc, row))
    return page_of(items, paging, ("key", "updated_at", "status", "owner"), default="key")


@router.get("/models/{key}", summary="A model with its versions")
def get_model(key: Key, caller: CallerDep, svc: ServicesDep) -> Any:
    row = _visible_model(svc, caller, key)
    stmt = (
        select(api_model_version)
        .where(api_model_version.c.model_id == key)
        .order_by(api_model_version.c.version)
    )
    versions = in_connection(svc.db, lambda c: c.execute(stmt).all())
    return {
        **_model_dict(svc, row),
        "versions": [
            {
                "version": v.version,
                "created_by": v.created_by,
                "created_at": v.created_at.isoformat(),
                "errors": sum(1 for p in v.problems or [] if p.get("severity") == "error"),
                "warnings": sum(1 for p in v.problems or [] if p.get("severity") != "error"),
            }
            for v in versions
        ],
    }


@router.get(
    "/models/{key}/versions/{version}/xml",
    summary="The XML of a model version",
    responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}},
)
def version_xml(
    key: Key, version: Annotated[int, Path(ge=1)], caller: CallerDep, svc: ServicesDep
) -> Any:
    from fastapi import Response

    _visible_model(svc, caller, key)
    xml, _ = _version_xml(svc, key, version)
    return Response(xml, media_type="application/xml")


@router.get("/models/{key}/lint", summary="Validation problems of a version (latest default)")
def lint(
    key: Key,
    caller: CallerDep,
    svc: ServicesDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    row = _visible_model(svc, caller, key)
    v = version or row.latest_version
    _, problems = _version_xml(svc, key, v)
    errors = [p for p in problems if p.get("severity") == "error"]
    return {"version": v, "publishable": not errors, "problems": problems}


@router.get("/models/{key}/diff", summary="Elements added, removed, changed between versions")
def diff(
    key: Key,
    caller: CallerDep,
    svc: ServicesDep,
    from_version: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> Any:
    row = _visible_model(svc, caller, key)
    new = to_version or row.latest_version
    old = from_version or row.published_version or max(new - 1, 1)
    a, _ = _version_xml(svc, key, old)
    b, _ = _version_xml(svc, key, new)
    return {"from": old, "to": new, **diff_bpmn(a, b)}


@router.get("/models/{key}/events", summary="Who did what, when")
def events(key: Key, caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    _visible_model(svc, caller, key)
    stmt = (
        select(api_model_event)
        .where(api_model_event.c.model_id == key)
        .order_by(api_model_event.c.id)
    )
    rows = in_connection(svc.db, lambda c: c.execute(stmt).all())
    items = [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "kind": r.kind,
            "version": r.version,
            "comment": r.comment,
        }
        for r in rows
    ]
    return page_of(items, paging, ("at", "kind", "actor"))


class SubmitBody(BaseModel):
    """Who reviews the latest draft."""

    reviewers: list[str] = Field(default_factory=list, max_length=100)
    reviewer_groups: list[str] = Field(default_factory=list, max_length=100)
    comment: str | None = Field(default=None, max_length=10_000)


def _gate(problems: list[dict[str, Any]], key: str) -> None:
    from liucheng.errors import ModelProblem

    errors = [p for p in problems if p.get("severity") == "error"]
    if errors:
        raise ModelValidationError(
            [
                ModelProblem(
                    str(p.get("code")),
                    str(p.get("message")),
                    "error",
                    p.get("element_id"),
                    p.get("file"),
                    p.get("line"),
                    p.get("hint"),
                )
                for p in errors
            ],
            file=f"{key}.bpmn",
        )


@router.post("/models/{key}/submit", summary="Submit the latest draft for review")
def submit(key: Key, body: SubmitBody, caller: CallerDep, svc: ServicesDep) -> Any:
    row = _visible_model(svc, caller, key)
    if row.owner != caller.id:
        svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")
    if row.status != "draft":
        raise LifecycleError(f"model '{key}' is {row.status}, not a draft")
    if not body.reviewers and not body.reviewer_groups:
        raise ValidationError("name reviewers or reviewer groups", code="lifecycle.reviewers")
    _, problems = _version_xml(svc, key, row.latest_version)
    _gate(problems, key)
    ensure_lifecycle_deployed(svc)
    pid = svc.engine.start_process(
        LIFECYCLE_KEY,
        {
            "model": key,
            "version": row.latest_version,
            "owner": row.owner,
            "reviewers": body.reviewers,
            "reviewer_groups": body.reviewer_groups,
            "submitted_by": caller.id,
        },
        f"{key}:v{row.latest_version}",
    )

    def submitted(c: Connection) -> None:
        c.execute(
            update(api_model)
            .where(api_model.c.id == key)
            .values(
                status="review",
                review_version=row.latest_version,
                instance_id=pid,
                updated_at=_now(),
            )
        )
        _event(c, key, caller.id, "submitted", version=row.latest_version, comment=body.comment)

    later_step(lambda: in_connection(svc.db, submitted))  # (the instance is started)
    return _model_dict(svc, _model_row(svc, key))


class CommentBody(BaseModel):
    """A review comment."""

    text: str = Field(min_length=1, max_length=10_000)
    version: int | None = Field(default=None, ge=1)


@router.post("/models/{key}/comments", status_code=201, summary="Comment on a model")
def comment(key: Key, body: CommentBody, caller: CallerDep, svc: ServicesDep) -> Any:
    row = _visible_model(svc, caller, key)
    version = body.version or row.review_version or row.latest_version
    in_connection(
        svc.db, lambda c: _event(c, key, caller.id, "comment", version=version, comment=body.text)
    )
    return {"model": key, "version": version, "author": caller.id, "text": body.text}


class DecisionBody(BaseModel):
    """A reviewer's or owner's decision."""

    approve: bool
    comment: str | None = Field(default=None, max_length=10_000)


def _task_at(svc: Services, caller: Caller, row: Any, element: str) -> TaskRecord:
    task = _open_task(svc, row)
    if task is None or task.element_id != element:
        raise LifecycleError(f"model '{row.id}' is {row.status}: no {element} step is open")
    return task


@router.post("/models/{key}/review", summary="Reviewer: pass the model on or request changes")
def review(key: Key, body: DecisionBody, caller: CallerDep, svc: ServicesDep) -> Any:
    row = _visible_model(svc, caller, key)
    task = _task_at(svc, caller, row, "review")
    res = svc.task_resource(task)
    assigned = False
    if task.assignee != caller.id:
        svc.require(caller, Action.CLAIM_TASK, res)
        svc.engine.assign_task(task.id, caller.id, actor=caller.id)
        assigned = True

    def complete() -> None:
        svc.engine.complete_task(
            task.id, {"review_passed": body.approve, "reviewer": caller.id}, actor=caller.id
        )

    if assigned:
        later_step(complete)
    else:
        complete()
    status = "approval" if body.approve else "changes_requested"

    def reviewed(c: Connection) -> None:
        c.execute(
            update(api_model).where(api_model.c.id == key).values(status=status, updated_at=_now())
        )
        _event(
            c,
            key,
            caller.id,
            "review_passed" if body.approve else "changes_requested",
            version=row.review_version,
            comment=body.comment,
        )

    # (the task is completed: what follows is a later step)
    later_step(lambda: in_connection(svc.db, reviewed))
    if not body.approve:
        later_step(
            lambda: in_connection(
                svc.db,
                lambda c: c.execute(
                    update(api_model).where(api_model.c.id == key).values(status="draft")
                ),
            )
        )
    return _model_dict(svc, _model_row(svc, key))


@router.post("/models/{key}/approval", summary="Owner: approve (publish) or reject")
def approval(key: Key, body: DecisionBody, caller: CallerDep, svc: ServicesDep) -> Any:
    row = _visible_model(svc, caller, key)
    task = _task_at(svc, caller, row, "approve")
    svc.require(caller, Action.WORK_TASK, svc.task_resource(task))
    version = int(row.review_version)
    deployment_id = row.deployment_id
    if body.approve:
        xml, problems = _version_xml(svc, key, version)
        _gate(problems, key)
        try:
            dep = svc.engine.deploy([(f"{key}.bpmn", xml)], name=f"{key} v{version} (approved)")
        except ModelError as exc:
            message = exc.message
            in_connection(
                svc.db,
                lambda c: _event(
                    c, key, caller.id, "publish_failed", version=version, comment=message
                ),
            )
            raise
        deployment_id = dep.id

    def complete() -> None:
        svc.engine.complete_task(task.id, {"approved": body.approve}, actor=caller.id)

    if body.approve:
        later_step(complete)  # (the new version is deployed)
    else:
        complete()

    def decided(c: Connection) -> None:
        values: dict[str, Any] = {"updated_at": _now()}
        if body.approve:
            values |= {
                "status": "published",
                "published_version": version,
                "deployment_id": deployment_id,
            }
        else:
            values |= {"status": "draft"}
        c.execute(update(api_model).where(api_model.c.id == key).values(**values))
        _event(
            c,
            key,
            caller.id,
            "approved" if body.approve else "rejected",
            version=version,
            comment=body.comment,
        )
        if body.approve:
            _event(
                c,
                key,
                caller.id,
                "published",
                version=version,
                comment=f"deployment {deployment_id}",
            )

    later_step(lambda: in_connection(svc.db, decided))  # (the task is completed)
    return _model_dict(svc, _model_row(svc, key))
