"""Routes: deployments, definitions (XML, diagram), decisions."""

from __future__ import annotations

import email.parser
import email.policy
import re
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from liucheng.engine.ports import DefinitionRecord
from liucheng.errors import ModelValidationError, NotFoundError, ValidationError
from liucheng.org import Action
from liucheng.store._retry import in_transaction

from ._core import Caller, Services
from ._http import CallerDep, PagingDep, ServicesDep, page_of
from ._json import jsonable

__all__ = ["definition_visible", "inspect_resource", "router"]

router = APIRouter()

DefId = Annotated[str, Path(min_length=1, max_length=400)]
_NAME = re.compile(r"[^\w.\-]+")
_XML_TYPES = ("application/xml", "text/xml", "application/octet-stream")
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


def _is_dmn(name: str, data: bytes) -> bool:
    return name.lower().endswith(".dmn") or (b"DMN" in data[:2000] and b"decision" in data)


def inspect_resource(name: str, data: bytes) -> tuple[str, list[str]]:
    """Parse (hardened) and lint one resource; returns its kind and the keys it deploys.

    Raises:
        XmlSecurityError: DTDs, entities, oversize documents.
        ModelError: Unreadable BPMN or validation errors (every problem in ``details``).
        DmnError: Unreadable DMN.
    """
    if _is_dmn(name, data):
        from liucheng.dmn import parse_dmn

        ddefs = parse_dmn(data, file=name)
        return "dmn", [d.id for d in ddefs.decisions]
    from liucheng.model import parse_bpmn, validate

    defs = parse_bpmn(data, filename=name)
    problems = validate(defs)
    if any(p.severity == "error" for p in problems):
        raise ModelValidationError(problems, file=name)
    return "bpmn", [p.id for p in defs.processes if p.id and p.is_executable is not False]


def _safe_name(raw: str | None, data: bytes, n: int) -> str:
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _NAME.sub("_", base)[:200].strip("._")
    if not base:
        base = f"resource-{n}"
    if not base.lower().endswith((".bpmn", ".dmn", ".xml")):
        base += ".dmn" if _is_dmn(base, data) else ".bpmn"
    return base


def read_upload(content_type: str, body: bytes, name: str | None) -> list[tuple[str, bytes]]:
    """The resources of an upload: a raw XML body or ``multipart/form-data`` files."""
    ctype = content_type.split(";", maxsplit=1)[0].strip().lower()
    if ctype == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        out: list[tuple[str, bytes]] = []
        if msg.is_multipart():
            for part in msg.iter_parts():
                payload = part.get_payload(decode=True)
                if not isinstance(payload, bytes) or not payload.strip():
                    continue
                out.append((_safe_name(part.get_filename(), payload, len(out) + 1), payload))
        if not out:
            raise ValidationError(
                "the multipart upload has no files", code="deploy.empty", hint="attach .bpmn/.dmn"
            )
        return out
    if ctype not in _XML_TYPES:
        raise ValidationError(
            f"cannot deploy a {ctype or 'body without content type'}",
            code="deploy.content_type",
            hint="send application/xml (with ?name=) or multipart/form-data",
        )
    if not body.strip():
        raise ValidationError("the upload is empty", code="deploy.empty")
    return [(_safe_name(name, body, 1), body)]


def definition_visible(svc: Services, caller: Caller, rec: DefinitionRecord) -> bool:
    """Whether the caller may know that a definition exists."""
    if svc.allowed(caller, Action.ADMIN_DEFINITIONS, f"definition:{rec.key}"):
        return True
    if rec.kind == "dmn":
        return svc.allowed(caller, Action.START_PROCESS, f"decision:{rec.key}")
    return svc.allowed(caller, Action.START_PROCESS, f"process:{rec.key}") or svc.allowed(
        caller, Action.READ_HISTORY, f"history:{rec.key}"
    )


def _def_dict(rec: DefinitionRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "key": rec.key,
        "version": rec.version,
        "kind": rec.kind,
        "name": rec.name,
        "deployment_id": rec.deployment_id,
        "resource_name": rec.resource_name,
        "deployed_at": rec.deployed_at.isoformat(),
    }


def deploy_resources(
    svc: Services, caller: Caller, resources: list[tuple[str, bytes]], name: str | None
) -> dict[str, Any]:
    """Lint, authorise and deploy resources (all or nothing)."""
    keys: list[str] = []
    for rname, data in resources:
        _, found = inspect_resource(rname, data)
        keys += found
    if not keys:
        raise ValidationError(
            "nothing executable to deploy", code="deploy.empty", hint="mark a process executable"
        )
    for key in keys:
        svc.require(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")
    dep = svc.engine.deploy(resources, name=name)
    return {
        "id": dep.id,
        "definitions": [
            {
                "id": d.id,
                "key": d.key,
                "version": d.version,
                "kind": d.kind,
                "name": d.name,
                "version_tag": d.version_tag,
            }
            for d in dep.definitions
        ],
    }


@router.post(
    "/deployments",
    tags=["definitions"],
    status_code=201,
    summary="Deploy BPMN/DMN (raw XML with ?name=, or multipart files)",
    openapi_extra=_UPLOAD_BODY,
)
async def deploy(
    request: Request,
    caller: CallerDep,
    svc: ServicesDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    from starlette.concurrency import run_in_threadpool

    body = await request.body()
    resources = read_upload(request.headers.get("content-type", ""), body, name)
    return await run_in_threadpool(deploy_resources, svc, caller, resources, name)


def _visible_defs(svc: Services, caller: Caller) -> list[DefinitionRecord]:
    return [d for d in svc.engine.definitions() if definition_visible(svc, caller, d)]


@router.get("/deployments", tags=["definitions"], summary="Deployments with visible definitions")
def list_deployments(caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    deps: dict[str, dict[str, Any]] = {}
    for d in _visible_defs(svc, caller):
        entry = deps.setdefault(
            d.deployment_id,
            {"id": d.deployment_id, "deployed_at": d.deployed_at.isoformat(), "definitions": []},
        )
        entry["definitions"].append(d.id)
    return page_of(list(deps.values()), paging, ("deployed_at", "id"), default="deployed_at")


@router.get("/definitions", tags=["definitions"], summary="Definition versions")
def list_definitions(
    *,
    caller: CallerDep,
    svc: ServicesDep,
    paging: PagingDep,
    key: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(pattern="^(bpmn|dmn)$")] = None,
    latest: bool = False,
) -> Any:
    rows = [
        d
        for d in _visible_defs(svc, caller)
        if (key is None or d.key == key) and (kind is None or d.kind == kind)
    ]
    if latest:
        best: dict[tuple[str, str], DefinitionRecord] = {}
        for d in rows:
            cur = best.get((d.kind, d.key))
            if cur is None or d.version > cur.version:
                best[(d.kind, d.key)] = d
        rows = list(best.values())
    return page_of(
        [_def_dict(d) for d in rows],
        paging,
        ("key", "version", "deployed_at", "name", "kind"),
        default="key,version",
    )


def get_visible_definition(svc: Services, caller: Caller, definition_id: str) -> DefinitionRecord:
    """A definition version the caller may see (else 404)."""
    rec = in_transaction(svc.store, lambda tx: tx.get_definition(definition_id))
    if rec is None or not definition_visible(svc, caller, rec):
        raise NotFoundError(
            f"definition '{definition_id}' does not exist", code="engine.definition.not_found"
        )
    return rec


def resource_of(svc: Services, rec: DefinitionRecord) -> bytes:
    """The XML a definition came from."""
    dep = in_transaction(svc.store, lambda tx: tx.get_deployment(rec.deployment_id))
    if dep is None or rec.resource_name not in dep.resources:
        raise NotFoundError(
            f"the resource of '{rec.id}' is missing", code="engine.definition.resource_missing"
        )
    return dep.resources[rec.resource_name]


@router.get("/definitions/{definition_id}", tags=["definitions"], summary="A definition version")
def get_definition(definition_id: DefId, caller: CallerDep, svc: ServicesDep) -> Any:
    return _def_dict(get_visible_definition(svc, caller, definition_id))


@router.get(
    "/definitions/{definition_id}/xml",
    tags=["definitions"],
    summary="The BPMN/DMN XML of a definition",
    responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}},
)
def get_definition_xml(definition_id: DefId, caller: CallerDep, svc: ServicesDep) -> Response:
    rec = get_visible_definition(svc, caller, definition_id)
    return Response(resource_of(svc, rec), media_type="application/xml")


@router.get(
    "/definitions/{definition_id}/diagram",
    tags=["definitions"],
    summary="Diagram shapes and edges (BPMN DI) of a process definition",
)
def get_diagram(definition_id: DefId, caller: CallerDep, svc: ServicesDep) -> Any:
    rec = get_visible_definition(svc, caller, definition_id)
    if rec.kind != "bpmn":
        raise NotFoundError(f"'{definition_id}' is not a process", code="api.diagram.none")
    from liucheng.model import BPMNEdge, BPMNShape, parse_bpmn

    defs = parse_bpmn(resource_of(svc, rec), filename=rec.resource_name)
    shapes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for diagram in defs.diagrams:
        if diagram.plane is None:
            continue
        for el in diagram.plane.elements:
            if isinstance(el, BPMNShape) and el.bounds is not None:
                b = el.bounds
                shapes.append(
                    {
                        "element_id": el.bpmn_element,
                        "x": b.x,
                        "y": b.y,
                        "width": b.width,
                        "height": b.height,
                    }
                )
            elif isinstance(el, BPMNEdge):
                edges.append(
                    {
                        "element_id": el.bpmn_element,
                        "waypoints": [{"x": p.x, "y": p.y} for p in el.waypoints],
                    }
                )
    return {"definition_id": rec.id, "shapes": shapes, "edges": edges}


class EvaluateBody(BaseModel):
    """Inputs of a decision, by input name."""

    variables: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1)


_DMN_CACHE: dict[str, Any] = {}
_DMN_LOCK = threading.Lock()


@router.post(
    "/decisions/{key}/evaluate", tags=["decisions"], summary="Evaluate a deployed DMN decision"
)
def evaluate_decision(
    key: Annotated[str, Path(min_length=1, max_length=200)],
    body: EvaluateBody,
    caller: CallerDep,
    svc: ServicesDep,
) -> Any:
    rec = in_transaction(
        svc.store,
        lambda tx: (
            tx.definition_by_version(key, body.version, "dmn")
            if body.version
            else tx.latest_definition(key, "dmn")
        ),
    )
    if rec is None or not definition_visible(svc, caller, rec):
        raise NotFoundError(f"decision '{key}' is not deployed", code="dmn.decision.not_found")
    svc.require(caller, Action.START_PROCESS, f"decision:{key}")
    from liucheng.dmn import DmnModel, parse_dmn

    with _DMN_LOCK:
        model = _DMN_CACHE.get(rec.id)
    if model is None:
        model = DmnModel(parse_dmn(resource_of(svc, rec), file=rec.resource_name))
        with _DMN_LOCK:
            _DMN_CACHE[rec.id] = model
    result = model.decide(key, body.variables)
    return {
        "decision_id": result.decision_id,
        "definition_id": rec.id,
        "value": jsonable(result.value),
        "errors": list(result.errors),
        "warnings": [str(w) for w in result.warnings],
    }
