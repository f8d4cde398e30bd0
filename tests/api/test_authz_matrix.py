"""Authorisation matrix: each role against each endpoint family.

Allowed calls succeed; forbidden ones get 403, or 404 where the caller may not know that the
thing exists (another process's instances and tasks, definitions they cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import DATA, Server

USERS = ("admin", "anna", "carl", "dev", "worker", "mallory")
_MATRIX_BPMN = (DATA / "timer.bpmn").read_text().replace("order_timer", "matrix_proc")


@dataclass
class Ctx:
    pid: str
    task: str
    definition: str


@pytest.fixture(scope="module")
def ctx(server: Server) -> Ctx:
    with server.client("admin") as admin:
        r = admin.post("/process-instances", json={"key": "order", "variables": {"amount": 1}})
        pid = r.json()["id"]
        task = admin.get("/tasks", params={"instance_id": pid}).json()["items"][0]["id"]
        definition = admin.get("/definitions", params={"key": "order"}).json()["items"][0]["id"]
    return Ctx(pid, task, definition)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expect: dict[str, int]  # user -> status
    body: Any = None
    content_type: str | None = None
    route: str | None = None  # the route template when ``path`` names a literal


def _expect(ok: int, allowed: str, forbidden: str = "", hidden: str = "") -> dict[str, int]:
    out: dict[str, int] = {}
    for u in allowed.split():
        out[u] = ok
    for u in forbidden.split():
        out[u] = 403
    for u in hidden.split():
        out[u] = 404
    assert set(out) == set(USERS), out
    return out


CASES = [
    Case(
        "see definition",
        "GET",
        "/definitions/{definition}",
        _expect(200, "admin anna carl dev", hidden="worker mallory"),
    ),
    Case(
        "definition xml",
        "GET",
        "/definitions/{definition}/xml",
        _expect(200, "admin anna carl dev", hidden="worker mallory"),
    ),
    Case(
        "start process",
        "POST",
        "/process-instances",
        _expect(201, "admin anna", "carl dev", "worker mallory"),
        {"key": "order"},
    ),
    Case(
        "see instance",
        "GET",
        "/process-instances/{pid}",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
    ),
    Case(
        "read variables",
        "GET",
        "/process-instances/{pid}/variables",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
    ),
    Case(
        "set variables",
        "PATCH",
        "/process-instances/{pid}/variables",
        _expect(200, "admin dev", "carl", "anna worker mallory"),
        {"variables": {"amount": 1}},
    ),
    Case(
        "activity instances",
        "GET",
        "/process-instances/{pid}/activity-instances",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
    ),
    Case(
        "see task",
        "GET",
        "/tasks/{task}",
        _expect(200, "admin anna carl", hidden="dev worker mallory"),
    ),
    Case(
        "comment task",
        "POST",
        "/tasks/{task}/comments",
        _expect(201, "admin anna carl", hidden="dev worker mallory"),
        {"text": "hi"},
    ),
    Case(
        "task form",
        "GET",
        "/tasks/{task}/form",
        _expect(200, "admin anna carl", hidden="dev worker mallory"),
    ),
    Case(
        "task attachments",
        "GET",
        "/tasks/{task}/attachments",
        _expect(200, "admin anna carl", hidden="dev worker mallory"),
    ),
    Case(
        "attach file",
        "POST",
        "/tasks/{task}/attachments?name=note.txt",
        _expect(201, "admin anna carl", hidden="dev worker mallory"),
        b"note",
        "text/plain",
    ),
    Case(
        "task slas",
        "GET",
        "/tasks/{task}/slas",
        _expect(200, "admin anna carl", hidden="dev worker mallory"),
    ),
    Case(
        "instance slas",
        "GET",
        "/process-instances/{pid}/slas",
        _expect(200, "admin carl dev", hidden="anna worker mallory"),
    ),
    Case(
        "update task",
        "PATCH",
        "/tasks/{task}",
        _expect(200, "admin", "anna carl", "dev worker mallory"),
        {"priority": 60},
    ),
    Case(
        "rebalance",
        "POST",
        "/org/rebalance",
        _expect(200, "admin", "anna carl dev worker mallory"),
        {"person": "nobody"},
    ),
    Case(
        "fetch external",
        "POST",
        "/external-tasks/fetch-and-lock",
        _expect(200, "admin worker", "anna carl dev mallory"),
        {"worker_id": "m", "topics": [{"name": "matrix-none"}]},
    ),
    Case(
        "import org",
        "PUT",
        "/org",
        _expect(200, "admin", "anna carl dev worker mallory"),
        (DATA / "org.yaml").read_bytes(),
        "application/yaml",
    ),
    Case("audit log", "GET", "/audit", _expect(200, "admin", "anna carl dev worker mallory")),
    Case("list users", "GET", "/users", _expect(200, "admin", "anna carl dev worker mallory")),
    Case(
        "deploy",
        "POST",
        "/deployments?name=matrix.bpmn",
        _expect(201, "admin dev", "anna carl worker mallory"),
        _MATRIX_BPMN.encode(),
        "application/xml",
    ),
    Case(
        "broadcast signal",
        "POST",
        "/signals",
        _expect(200, "admin anna", "carl dev worker mallory"),
        {"name": "matrix"},
    ),
    Case(
        "evaluate decision",
        "POST",
        "/decisions/discount/evaluate",
        _expect(200, "admin anna", "dev", "carl worker mallory"),
        {"variables": {"amount": 1}},
        route="/decisions/{key}/evaluate",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matrix(server: Server, ctx: Ctx, case: Case) -> None:
    path = case.path.format(pid=ctx.pid, task=ctx.task, definition=ctx.definition)
    got: dict[str, int] = {}
    for user in USERS:
        with server.client(user) as c:
            kw: dict[str, Any] = {}
            if case.content_type:
                kw = {"content": case.body, "headers": {"content-type": case.content_type}}
            elif case.body is not None:
                kw = {"json": case.body}
            r = c.request(case.method, path, **kw)
            got[user] = r.status_code
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/problem+json")
    assert got == case.expect


def test_lists_only_show_what_the_caller_may_see(server: Server, ctx: Ctx) -> None:
    seen: dict[str, tuple[bool, bool, bool]] = {}
    for user in USERS:
        with server.client(user) as c:
            tasks = {t["id"] for t in c.get("/tasks", params={"limit": 1000}).json()["items"]}
            insts = {
                i["id"] for i in c.get("/process-instances", params={"limit": 1000}).json()["items"]
            }
            hist = c.get("/history", params={"instance_id": ctx.pid}).json()["total"] > 0
            seen[user] = (ctx.task in tasks, ctx.pid in insts, hist)
    assert seen == {
        "admin": (True, True, True),
        "anna": (True, False, False),
        "carl": (True, True, True),
        "dev": (False, True, False),
        "worker": (False, False, False),
        "mallory": (False, False, False),
    }


def test_claim_rules(server: Server, ctx: Ctx) -> None:
    with server.client("admin") as admin:
        r = admin.post("/process-instances", json={"key": "order"})
        task = admin.get("/tasks", params={"instance_id": r.json()["id"]}).json()["items"][0]["id"]
    statuses = {}
    for user in ("mallory", "dev", "carl", "anna"):
        with server.client(user) as c:
            statuses[user] = c.post(f"/tasks/{task}/complete", json={}).status_code
    # nobody works an unclaimed task: a candidate must claim first
    assert statuses == {"mallory": 404, "dev": 404, "carl": 403, "anna": 403}
    statuses = {}
    for user in ("mallory", "dev", "carl", "anna", "bob"):
        with server.client(user) as c:
            statuses[user] = c.post(f"/tasks/{task}/claim").status_code
    # carl sees every order task (lead grant) but is no candidate; bob came after anna
    assert statuses == {"mallory": 404, "dev": 404, "carl": 403, "anna": 200, "bob": 403}
    statuses = {}
    for user in ("bob", "carl", "anna"):
        with server.client(user) as c:
            statuses[user] = c.post(f"/tasks/{task}/complete", json={}).status_code
    assert statuses == {"bob": 403, "carl": 403, "anna": 200}


def test_task_work_rules(server: Server) -> None:
    """Unclaim, delegate and resolve: only the assignee (or delegate) works; others get 403,
    those who may not see the task 404."""

    def fresh() -> str:
        with server.client("admin") as admin:
            r = admin.post("/process-instances", json={"key": "order"})
            pid = r.json()["id"]
            task: str = admin.get("/tasks", params={"instance_id": pid}).json()["items"][0]["id"]
        with server.client("anna") as anna:
            assert anna.post(f"/tasks/{task}/claim").status_code == 200
        return task

    task = fresh()
    got = {}
    for user in ("mallory", "dev", "carl", "bob"):
        with server.client(user) as c:
            got[user] = (
                c.post(f"/tasks/{task}/unclaim").status_code,
                c.post(f"/tasks/{task}/delegate", json={"user": user}).status_code,
                c.post(f"/tasks/{task}/resolve", json={}).status_code,
            )
    assert got == {
        "mallory": (404, 404, 404),
        "dev": (404, 404, 404),  # a process administrator does not see people's tasks
        "carl": (403, 403, 403),
        "bob": (403, 403, 403),
    }
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{task}/delegate", json={"user": "bob"}).status_code == 200
        # delegated: the owner may not resolve, the delegate may
        assert anna.post(f"/tasks/{task}/resolve", json={}).status_code == 403
    with server.client("bob") as bob:
        assert bob.post(f"/tasks/{task}/resolve", json={}).status_code == 200
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{task}/unclaim").status_code == 200
