"""Authorisation matrix, part two: every route the application serves has an entry.

``test_every_route_has_a_matrix_entry`` reads the served OpenAPI document and fails when a
route is in neither matrix (``test_authz_matrix.CASES`` or ``ROUTE_CASES`` here) nor in
``PUBLIC`` (routes that need no login, with the reason). Every other route refuses an
anonymous caller with 401.

Calls that use something up (claim, complete, cancel, fail...) get a fresh subject per user
from their ``prep``, so each role is judged on the same starting state.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_PASSWORD, PASSWORD, Server
from tests.api.test_authz_matrix import CASES, USERS, _expect

Ctx = dict[str, str]
Prep = Callable[[Server], Ctx]

#: Routes open without a login, and why.
PUBLIC = {
    "POST /api/v1/auth/login": "how one gets a session or token (rate limited per user and address)",
    "GET /health": "liveness probe for load balancers (says only ok and the database kind)",
    "GET /api/v1/health": "the same probe under the API prefix",
    "GET /metrics": "Prometheus: loopback only, or the metrics token (tests/api/test_units.py)",
}


def _admin(server: Server) -> httpx.Client:
    return server.client("admin")


def order(server: Server) -> Ctx:
    """A fresh order instance (started by admin) and its open 'approve' task."""
    with _admin(server) as admin:
        r = admin.post("/process-instances", json={"key": "order", "variables": {"amount": 3}})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        task = admin.get("/tasks", params={"instance_id": pid}).json()["items"][0]["id"]
    return {"instance_id": pid, "task_id": task}


def claimed(server: Server) -> Ctx:
    """An order whose task anna has claimed."""
    ctx = order(server)
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{ctx['task_id']}/claim").status_code == 200
    return ctx


def refund(server: Server) -> Ctx:
    """A fresh refund (started by anna; SLA clocks on the instance and its task), the task
    claimed by anna."""
    with server.client("anna") as anna:
        r = anna.post("/process-instances", json={"key": "order_refund"})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
    with _admin(server) as admin:
        task = admin.get("/tasks", params={"instance_id": pid}).json()["items"][0]["id"]
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{task}/claim").status_code == 200
    return {"instance_id": pid, "task_id": task}


def at_paid(server: Server) -> Ctx:
    """An order waiting at its message catch event 'paid'."""
    ctx = order(server)
    with _admin(server) as admin:
        r = admin.post(
            f"/process-instances/{ctx['instance_id']}/modify",
            json={"start_before": ["paid"], "cancel": ["approve"]},
        )
        assert r.status_code == 200, r.text
    return ctx


def locked_external(server: Server) -> Ctx:
    """An order at its external task 'ship', locked by a fresh worker id."""
    ctx = claimed(server)
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{ctx['task_id']}/complete", json={}).status_code == 200
    worker = f"w-{uuid.uuid4().hex[:8]}"
    with _admin(server) as admin:
        ext = admin.get("/external-tasks", params={"instance_id": ctx["instance_id"]}).json()
        ext_id = ext["items"][0]["id"]
    with server.client("worker") as w:
        for _ in range(20):
            got = w.post(
                "/external-tasks/fetch-and-lock",
                json={"worker_id": worker, "topics": [{"name": "ship"}], "max_tasks": 100},
            ).json()["items"]
            if ext_id in {t["id"] for t in got} or not got:
                break
    return {"instance_id": ctx["instance_id"], "task_id": ext_id, "worker": worker}


def incident(server: Server) -> Ctx:
    """An open incident (an external task failed without retries)."""
    ctx = locked_external(server)
    with server.client("worker") as w:
        r = w.post(
            f"/external-tasks/{ctx['task_id']}/failure",
            json={"worker_id": ctx["worker"], "message": "boom", "retries": 0},
        )
        assert r.status_code == 200, r.text
    with _admin(server) as admin:
        items = admin.get("/incidents", params={"instance_id": ctx["instance_id"]}).json()["items"]
    return {**ctx, "incident_id": items[0]["id"]}


def timer_job(server: Server) -> Ctx:
    """A fresh timer instance (key order_timer) and its job."""
    with _admin(server) as admin:
        pid = admin.post("/process-instances", json={"key": "order_timer"}).json()["id"]
        job = admin.get("/jobs", params={"instance_id": pid}).json()["items"][0]["id"]
    return {"instance_id": pid, "job_id": job}


def attachment(server: Server) -> Ctx:
    """An order task with a file anna attached."""
    ctx = claimed(server)
    with server.client("anna") as anna:
        r = anna.post(
            f"/tasks/{ctx['task_id']}/attachments?name=a.txt",
            content=b"x",
            headers={"content-type": "text/plain"},
        )
        assert r.status_code == 201, r.text
    return {**ctx, "attachment_id": r.json()["id"]}


def anna_token(server: Server) -> Ctx:
    with server.client("anna") as anna:
        r = anna.post("/auth/tokens", json={"name": "matrix"})
        assert r.status_code == 201, r.text
    return {"token_id": r.json()["id"]}


_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
             targetNamespace="https://liucheng.dev/tests">
  <process id="{key}" isExecutable="true">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <userTask id="t" name="{name}"/><sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>
"""


def model(state: str) -> Prep:
    """A fresh model by dev with owner carl: 'draft' (two versions), 'review' (reviewer anna)
    or 'approval' (anna passed it on)."""

    def prep(server: Server) -> Ctx:
        key = f"mx{uuid.uuid4().hex[:8]}"
        with server.client("dev") as dev:
            r = dev.post("/models", json={"xml": _MODEL.format(key=key, name="A"), "owner": "carl"})
            assert r.status_code == 201, r.text
            r = dev.put(f"/models/{key}/draft", json={"xml": _MODEL.format(key=key, name="B")})
            assert r.status_code == 200, r.text
            if state in ("review", "approval"):
                r = dev.post(f"/models/{key}/submit", json={"reviewers": ["anna"]})
                assert r.status_code == 200, r.text
        if state == "approval":
            with server.client("anna") as anna:
                r = anna.post(f"/models/{key}/review", json={"approve": True})
                assert r.status_code == 200, r.text
        return {"key": key, "version": "2"}

    return prep


@dataclass(frozen=True)
class RouteCase:
    """``route`` is the OpenAPI path template; ``prep`` fills its parameters (called once per
    user when ``fresh``, else once for the case)."""

    name: str
    method: str
    route: str
    expect: dict[str, int]
    body: Any = None
    prep: Prep | None = None
    fresh: bool = False
    query: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    own_session: bool = False


def _org_item(part: str, **fields: Any) -> Prep:
    """A fresh person/department/role of the stored organisation (added by admin)."""

    def prep(server: Server) -> Ctx:
        item_id = f"{part[0]}{uuid.uuid4().hex[:8]}"
        with _admin(server) as admin:
            r = admin.post(f"/org/{part}", json={"id": item_id, "name": item_id, **fields})
            assert r.status_code == 201, r.text
        return {"person_id": item_id, "department_id": item_id, "role_id": item_id}

    return prep


def _new_id(prefix: str, **fields: Any) -> Callable[[Ctx], Any]:
    return lambda ctx: {"id": f"{prefix}{uuid.uuid4().hex[:8]}", **fields}


ALL = "admin anna carl dev worker mallory"
ORG_ADMIN = ("admin", "anna carl dev worker mallory")
EXT = {"allowed": "admin dev worker", "hidden": "anna carl mallory"}


def _body_worker(extra: dict[str, Any]) -> Callable[[Ctx], Any]:
    return lambda ctx: {"worker_id": ctx["worker"], **extra}


ROUTE_CASES = [
    # ------------------------------------------------------------------ auth and users
    # with a session token of its own: logging out revokes the token it is called with
    RouteCase("log out", "POST", "/auth/logout", _expect(200, ALL), own_session=True),
    RouteCase("who am i", "GET", "/auth/me", _expect(200, ALL)),
    RouteCase("create token", "POST", "/auth/tokens", _expect(201, ALL), {"name": "m"}),
    RouteCase("my tokens", "GET", "/auth/tokens", _expect(200, ALL)),
    RouteCase(
        "revoke anna's token",
        "DELETE",
        "/auth/tokens/{token_id}",
        _expect(204, "anna", hidden="admin carl dev worker mallory"),
        prep=anna_token,
        fresh=True,
    ),
    RouteCase(
        "create user",
        "POST",
        "/users",
        _expect(201, "admin", "anna carl dev worker mallory"),
        lambda ctx: {"id": f"u{uuid.uuid4().hex[:10]}", "password": "long-enough-pw-1"},
    ),
    RouteCase(
        "see anna's account",
        "GET",
        "/users/{user_id}",
        _expect(200, "admin anna", "carl dev worker mallory"),
        prep=lambda s: {"user_id": "anna"},
    ),
    RouteCase(
        "rename anna",
        "PATCH",
        "/users/{user_id}",
        _expect(200, "admin anna", "carl dev worker mallory"),
        {"display_name": "Anna"},
        prep=lambda s: {"user_id": "anna"},
    ),
    RouteCase(
        "make anna admin",
        "PATCH",
        "/users/{user_id}",
        _expect(200, "admin", "anna carl dev worker mallory"),
        {"is_admin": False},
        prep=lambda s: {"user_id": "anna"},
    ),
    # ------------------------------------------------------------------ definitions
    RouteCase("deployments", "GET", "/deployments", _expect(200, ALL)),
    RouteCase("definitions", "GET", "/definitions", _expect(200, ALL)),
    RouteCase(
        "definition diagram",
        "GET",
        "/definitions/{definition_id}/diagram",
        _expect(200, "admin anna carl dev", hidden="worker mallory"),
        prep=lambda s: {"definition_id": _order_definition(s)},
    ),
    # ------------------------------------------------------------------ instances
    RouteCase("instance list", "GET", "/process-instances", _expect(200, ALL)),
    RouteCase(
        "cancel instance",
        "POST",
        "/process-instances/{instance_id}/cancel",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        prep=order,
        fresh=True,
    ),
    RouteCase(
        "modify instance",
        "POST",
        "/process-instances/{instance_id}/modify",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        {"start_before": ["paid"], "cancel": ["approve"]},
        prep=order,
        fresh=True,
    ),
    RouteCase(
        "migrate instance",
        "POST",
        "/process-instances/{instance_id}/migrate",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        lambda ctx: {"target_definition_id": ctx["definition_id"]},
        prep=lambda s: {**order(s), "definition_id": _order_definition(s)},
        fresh=True,
    ),
    RouteCase(
        "trigger",
        "POST",
        "/process-instances/{instance_id}/trigger",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        {"element_id": "paid"},
        prep=at_paid,
        fresh=True,
    ),
    RouteCase(
        "pause instance slas",
        "POST",
        "/process-instances/{instance_id}/slas/{action}",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        {"reason": "matrix"},
        prep=lambda s: {**refund(s), "action": "pause"},
        fresh=True,
    ),
    # ------------------------------------------------------------------ events
    RouteCase(
        "correlate message",
        "POST",
        "/messages",
        _expect(200, "admin anna", "carl dev worker mallory"),
        {"name": "matrix-message", "ttl_seconds": 60},
    ),
    RouteCase("subscriptions", "GET", "/subscriptions", _expect(200, ALL)),
    # ------------------------------------------------------------------ tasks
    RouteCase("task list", "GET", "/tasks", _expect(200, ALL)),
    RouteCase(
        "claim",
        "POST",
        "/tasks/{task_id}/claim",
        _expect(200, "admin anna", "carl", "dev worker mallory"),
        prep=order,
        fresh=True,
    ),
    RouteCase(
        "unclaim",
        "POST",
        "/tasks/{task_id}/unclaim",
        _expect(200, "admin anna", "carl", "dev worker mallory"),
        prep=claimed,
        fresh=True,
    ),
    RouteCase(
        "assign",
        "POST",
        "/tasks/{task_id}/assign",
        # the assignee may pass her own task on; a lead who only sees it may not
        _expect(200, "admin anna", "carl", "dev worker mallory"),
        {"assignee": "bob"},
        prep=claimed,
        fresh=True,
    ),
    RouteCase(
        "delegate",
        "POST",
        "/tasks/{task_id}/delegate",
        _expect(200, "admin anna", "carl", "dev worker mallory"),
        {"user": "bob"},
        prep=claimed,
        fresh=True,
    ),
    RouteCase(
        "resolve (not delegated)",
        "POST",
        "/tasks/{task_id}/resolve",
        _expect(409, "admin anna", "carl", "dev worker mallory"),
        {},
        prep=claimed,
        fresh=True,
    ),
    RouteCase(
        "complete",
        "POST",
        "/tasks/{task_id}/complete",
        _expect(200, "admin anna", "carl", "dev worker mallory"),
        {},
        prep=claimed,
        fresh=True,
    ),
    RouteCase(
        "task comments",
        "GET",
        "/tasks/{task_id}/comments",
        _expect(200, "admin anna carl", hidden="dev worker mallory"),
        prep=order,
    ),
    RouteCase(
        "download attachment",
        "GET",
        "/tasks/{task_id}/attachments/{attachment_id}",
        _expect(200, "admin anna carl", hidden="dev worker mallory"),
        prep=attachment,
    ),
    RouteCase(
        "delete attachment",
        "DELETE",
        "/tasks/{task_id}/attachments/{attachment_id}",
        _expect(200, "admin anna", "carl", "dev worker mallory"),
        prep=attachment,
        fresh=True,
    ),
    RouteCase(
        "pause task slas",
        "POST",
        "/tasks/{task_id}/slas/{action}",
        # carl's lead grant covers order tasks, not refund tasks: hidden from him
        _expect(200, "admin anna", hidden="carl dev worker mallory"),
        {},
        prep=lambda s: {**refund(s), "action": "pause"},
        fresh=True,
    ),
    # ------------------------------------------------------------------ external tasks
    RouteCase("external task list", "GET", "/external-tasks", _expect(200, ALL)),
    RouteCase(
        "complete external",
        "POST",
        "/external-tasks/{task_id}/complete",
        _expect(200, **EXT),
        _body_worker({}),
        prep=locked_external,
        fresh=True,
    ),
    RouteCase(
        "fail external",
        "POST",
        "/external-tasks/{task_id}/failure",
        _expect(200, **EXT),
        _body_worker({"retries": 1}),
        prep=locked_external,
        fresh=True,
    ),
    RouteCase(
        "bpmn error",
        "POST",
        "/external-tasks/{task_id}/bpmn-error",
        _expect(200, **EXT),
        _body_worker({"code": "no-stock"}),
        prep=locked_external,
        fresh=True,
    ),
    RouteCase(
        "extend lock",
        "POST",
        "/external-tasks/{task_id}/extend-lock",
        _expect(200, **EXT),
        _body_worker({"new_duration_ms": 60_000}),
        prep=locked_external,
    ),
    RouteCase(
        "unlock",
        "POST",
        "/external-tasks/{task_id}/unlock",
        _expect(200, **EXT),
        _body_worker({}),
        prep=locked_external,
        fresh=True,
    ),
    # ------------------------------------------------------------------ jobs and incidents
    RouteCase("job list", "GET", "/jobs", _expect(200, ALL)),
    RouteCase(
        "job retries",
        "POST",
        "/jobs/{job_id}/retries",
        _expect(200, "admin dev", hidden="anna carl worker mallory"),
        {"retries": 3},
        prep=timer_job,
    ),
    RouteCase(
        "run job now",
        "POST",
        "/jobs/{job_id}/execute",
        _expect(200, "admin dev", hidden="anna carl worker mallory"),
        {},
        prep=timer_job,
        fresh=True,
    ),
    RouteCase("incident list", "GET", "/incidents", _expect(200, ALL)),
    RouteCase(
        "resolve incident",
        "POST",
        "/incidents/{incident_id}/resolve",
        _expect(200, "admin dev", hidden="anna carl worker mallory"),
        prep=incident,
        fresh=True,
    ),
    RouteCase("history", "GET", "/history", _expect(200, ALL)),
    # ------------------------------------------------------------------ organisation
    RouteCase("org summary", "GET", "/org", _expect(200, ALL)),
    RouteCase(
        "org people", "GET", "/org/{part}", _expect(200, ALL), prep=lambda s: {"part": "people"}
    ),
    RouteCase(
        "org person",
        "GET",
        "/org/{part}/{item_id}",
        _expect(200, ALL),
        prep=lambda s: {"part": "people", "item_id": "anna"},
    ),
    RouteCase("org revisions", "GET", "/org/revisions", _expect(200, *ORG_ADMIN)),
    RouteCase(
        "add person",
        "POST",
        "/org/people",
        _expect(201, *ORG_ADMIN),
        _new_id("p", name="P", department="company"),
    ),
    RouteCase(
        "change person",
        "PATCH",
        "/org/people/{person_id}",
        _expect(200, *ORG_ADMIN),
        {"email": "p@example.org", "name": "Renamed"},
        prep=_org_item("people"),
    ),
    RouteCase(
        "remove person",
        "DELETE",
        "/org/people/{person_id}",
        _expect(200, *ORG_ADMIN),
        prep=_org_item("people"),
        fresh=True,
    ),
    RouteCase(
        "add absence",
        "POST",
        "/org/people/{person_id}/absences",
        _expect(200, *ORG_ADMIN),
        {"from": "2030-01-01", "to": "2030-01-02", "reason": "matrix"},
        prep=_org_item("people"),
    ),
    RouteCase(
        "set absences",
        "PUT",
        "/org/people/{person_id}/absences",
        _expect(200, *ORG_ADMIN),
        [],
        prep=_org_item("people"),
    ),
    RouteCase(
        "add department",
        "POST",
        "/org/departments",
        _expect(201, *ORG_ADMIN),
        _new_id("d", name="D", parent="company"),
    ),
    RouteCase(
        "change department",
        "PATCH",
        "/org/departments/{department_id}",
        _expect(200, *ORG_ADMIN),
        {"name": "Renamed", "parent": "company"},
        prep=_org_item("departments"),
    ),
    RouteCase(
        "remove department",
        "DELETE",
        "/org/departments/{department_id}",
        _expect(200, *ORG_ADMIN),
        prep=_org_item("departments"),
        fresh=True,
    ),
    RouteCase("add role", "POST", "/org/roles", _expect(201, *ORG_ADMIN), _new_id("r")),
    RouteCase(
        "remove role",
        "DELETE",
        "/org/roles/{role_id}",
        _expect(200, *ORG_ADMIN),
        prep=_org_item("roles"),
        fresh=True,
    ),
    RouteCase("calendars", "GET", "/calendars", _expect(200, ALL)),
    RouteCase(
        "calendar", "GET", "/calendars/{name}", _expect(200, ALL), prep=lambda s: {"name": "office"}
    ),
    RouteCase(
        "business due",
        "GET",
        "/calendars/{name}/due",
        _expect(200, ALL),
        prep=lambda s: {"name": "office"},
        query={"duration": "PT1H"},
    ),
    # ------------------------------------------------------------------ definition lifecycle
    RouteCase(
        "create model",
        "POST",
        "/models",
        _expect(201, "admin dev", "anna carl worker mallory"),
        lambda ctx: {"xml": _MODEL.format(key=f"mx{uuid.uuid4().hex[:8]}", name="A")},
    ),
    RouteCase("my models", "GET", "/models", _expect(200, ALL)),
    RouteCase(
        "see model",
        "GET",
        "/models/{key}",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
        prep=model("draft"),
    ),
    RouteCase(
        "model version xml",
        "GET",
        "/models/{key}/versions/{version}/xml",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
        prep=model("draft"),
    ),
    RouteCase(
        "model lint",
        "GET",
        "/models/{key}/lint",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
        prep=model("draft"),
    ),
    RouteCase(
        "model diff",
        "GET",
        "/models/{key}/diff",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
        prep=model("draft"),
    ),
    RouteCase(
        "model events",
        "GET",
        "/models/{key}/events",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
        prep=model("draft"),
    ),
    RouteCase(
        "save draft",
        "PUT",
        "/models/{key}/draft",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        lambda ctx: {"xml": _MODEL.format(key=ctx["key"], name="C")},
        prep=model("draft"),
    ),
    RouteCase(
        "submit model",
        "POST",
        "/models/{key}/submit",
        # the editor, the owner (carl) and administrators submit; others do not see the model
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
        {"reviewers": ["anna"]},
        prep=model("draft"),
        fresh=True,
    ),
    RouteCase(
        "comment model",
        "POST",
        "/models/{key}/comments",
        _expect(201, "admin anna carl dev", hidden="worker mallory"),
        {"text": "looks fine"},
        prep=model("review"),
    ),
    RouteCase(
        "review model",
        "POST",
        "/models/{key}/review",
        _expect(200, "admin anna", "carl dev", "worker mallory"),
        {"approve": True},
        prep=model("review"),
        fresh=True,
    ),
    RouteCase(
        "approve model",
        "POST",
        "/models/{key}/approval",
        _expect(200, "admin carl", "dev", "anna worker mallory"),
        {"approve": True},
        prep=model("approval"),
        fresh=True,
    ),
]


def _order_definition(server: Server) -> str:
    with _admin(server) as admin:
        items = admin.get("/definitions", params={"key": "order"}).json()["items"]
    return str(max(items, key=lambda d: d["version"])["id"])


def _session(server: Server, user: str) -> str:
    password = ADMIN_PASSWORD if user == "admin" else PASSWORD
    r = httpx.post(
        server.url + "/api/v1/auth/login",
        json={"username": user, "password": password, "mode": "token"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _call(server: Server, user: str | None, case: RouteCase, ctx: Ctx) -> httpx.Response:
    path = case.route.format(**ctx)
    body = case.body(ctx) if callable(case.body) else case.body
    kw: dict[str, Any] = {"params": case.query}
    if case.content_type:
        kw.update(content=body, headers={"content-type": case.content_type})
    elif body is not None:
        kw["json"] = body
    elif case.method in ("POST", "PUT", "PATCH"):
        kw["json"] = {}
    if case.own_session and user is not None:
        kw["headers"] = {
            **kw.get("headers", {}),
            "Authorization": f"Bearer {_session(server, user)}",
        }
        with httpx.Client(base_url=server.url + "/api/v1", timeout=60) as anon:
            return anon.request(case.method, path, **kw)
    with server.client(user) as c:
        return c.request(case.method, path, **kw)


@pytest.mark.parametrize("case", ROUTE_CASES, ids=[c.name for c in ROUTE_CASES])
def test_route_matrix(server: Server, case: RouteCase) -> None:
    shared = case.prep(server) if case.prep and not case.fresh else {}
    got: dict[str, int] = {}
    for user in USERS:
        ctx = case.prep(server) if case.prep and case.fresh else shared
        r = _call(server, user, case, ctx)
        got[user] = r.status_code
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
            assert "Traceback" not in r.text
    assert got == case.expect


_OLD_PLACEHOLDERS = {"pid": "instance_id", "task": "task_id", "definition": "definition_id"}


def _route_of(path: str) -> str:
    path = path.split("?", 1)[0]
    return re.sub(r"\{(\w+)\}", lambda m: "{" + _OLD_PLACEHOLDERS[m.group(1)] + "}", path)


def _served(server: Server) -> set[str]:
    doc = httpx.get(server.url + "/api/v1/openapi.json", timeout=60).json()
    out = set()
    for path, ops in doc["paths"].items():
        for method in ops:
            out.add(f"{method.upper()} {path}")
    return out


def test_every_route_has_a_matrix_entry(server: Server) -> None:
    served = _served(server)
    covered = {f"{c.method} /api/v1{c.route or _route_of(c.path)}" for c in CASES}
    covered |= {f"{c.method} /api/v1{c.route}" for c in ROUTE_CASES}
    # task work rules that need a story (claim order, delegation) are also in test_authz_matrix
    missing = sorted(served - covered - set(PUBLIC))
    assert missing == [], f"routes without an authorisation matrix entry: {missing}"
    assert not (covered - served), f"matrix entries for routes not served: {covered - served}"
    assert set(PUBLIC) <= served


def test_every_non_public_route_needs_a_login(server: Server) -> None:
    """Anonymous callers get 401 (problem+json) everywhere but the public routes."""
    for route in sorted(_served(server) - set(PUBLIC)):
        method, path = route.split(" ", 1)
        if path.endswith(("/openapi.json", "/docs", "/docs/oauth2-redirect")):
            continue
        concrete = re.sub(r"\{(\w+)\}", "x1234567", path)
        if "{part}" in path:
            concrete = path.replace("{part}", "people").replace("{item_id}", "anna")
        if "{action}" in path:
            concrete = re.sub(r"\{\w+\}", "x1234567", path.replace("{action}", "pause"))
        r = httpx.request(method, server.url + concrete, json={}, timeout=60)
        assert r.status_code == 401, (route, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_public_routes_answer_without_login(server: Server) -> None:
    assert httpx.get(server.url + "/health", timeout=60).status_code == 200
    assert httpx.get(server.url + "/api/v1/health", timeout=60).status_code == 200
    assert httpx.get(server.url + "/metrics", timeout=60).status_code == 200  # loopback
    r = httpx.post(
        server.url + "/api/v1/auth/login",
        json={"username": "nobody-here", "password": "wrong-password"},
        timeout=60,
    )
    assert r.status_code == 401 and r.json()["code"].startswith("auth."), r.text


def test_lists_leak_nothing(server: Server) -> None:
    """Each list shows a user only what they may see: jobs and incidents to process
    administrators, external tasks also to their worker, subscriptions to those who see the
    instance, definitions to those who may see them."""
    job = timer_job(server)
    inc = incident(server)
    ext = locked_external(server)
    sub = at_paid(server)
    seen: dict[str, dict[str, bool]] = {}
    for user in USERS:
        with server.client(user) as c:

            def ids(path: str, **params: str) -> set[str]:
                r = c.get(path, params={"limit": "1000", **params})
                assert r.status_code == 200, r.text
                return {str(i.get("id")) for i in r.json()["items"]}

            keys = {d["key"] for d in c.get("/definitions", params={"limit": 1000}).json()["items"]}
            seen[user] = {
                "job": job["job_id"] in ids("/jobs"),
                "incident": inc["incident_id"] in ids("/incidents"),
                "external": ext["task_id"] in ids("/external-tasks"),
                "subscription": bool(ids("/subscriptions", instance_id=sub["instance_id"])),
                "definition": "order" in keys,
            }
    flags = ("job", "incident", "external", "subscription", "definition")

    def row(*visible: str) -> dict[str, bool]:
        return {f: f in visible for f in flags}

    assert seen == {
        "admin": row(*flags),
        "anna": row("definition"),
        "carl": row("subscription", "definition"),
        "dev": row(*flags),
        "worker": row("external"),
        "mallory": row(),
    }
