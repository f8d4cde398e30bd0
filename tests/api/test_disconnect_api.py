"""REST calls after PostgreSQL dropped every pooled connection (a restart) succeed the first time.

The server opens transactions of its own besides engine commands: token lookups, users, models,
audit entries, definition reads, lock extensions. A pooled connection the server dropped fails on
first use (no ``pool_pre_ping``); those transactions run again on a fresh connection, so no call
fails after a database restart and nothing is written twice (one audit entry, one instance, one
model per call). The application runs in-process on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from liucheng.api import Settings, create_app

from ..engine.helpers import bpmn, flows
from ..store.pg_drop import drop_connections

PROCESS = bpmn(
    '<startEvent id="s"/><serviceTask id="ext" camunda:type="external" camunda:topic="charge"/>'
    '<userTask id="check"/><endEvent id="e"/>' + flows("s->ext", "ext->check", "check->e")
)
DRAFT = bpmn(
    '<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>' + flows("s->t", "t->e"), "m"
)


class Client:
    """Requests to the in-process application, one at a time, as the administrator."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(
                app=self.app, client=("127.0.0.1", 40000), raise_app_exceptions=False
            )
            async with httpx.AsyncClient(
                transport=transport, base_url="http://lc/api/v1", headers=self.headers
            ) as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)


@pytest.fixture
def app(pg_url: str) -> Iterator[Any]:
    application = create_app(Settings(database=pg_url, run_jobs=False, org_check_s=0))
    svc = application.state.services
    svc.start()  # as the server's start: bootstrap, audit writer
    try:
        yield application
    finally:
        svc.stop()


@pytest.fixture
def client(app: Any) -> Client:
    svc = app.state.services
    svc.users.add("root", "root-password-1", is_admin=True)
    token, _ = svc.users.issue_token("root")
    return Client(app, token)


def _drop(app: Any, *, token_cache: bool = False) -> None:
    """Drop the pool; without ``token_cache`` the next call looks its token up (after a restart
    the cached lookups have usually expired)."""
    svc = app.state.services
    assert drop_connections(svc.store.engine) >= 1
    if not token_cache:
        svc.users.forget()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_rest_reads_and_writes_after_the_pool_was_dropped_succeed_once(
    app: Any, client: Client
) -> None:
    deployed = _ok(
        client.post(
            "/deployments?name=p.bpmn",
            content=PROCESS,
            headers={"content-type": "application/xml"},
        ),
        201,
    )
    first = _ok(client.post("/process-instances", json={"key": "p"}), 201)["id"]

    _drop(app)  # a GET: token lookup, then an engine query
    listed = _ok(client.get("/process-instances"))
    assert [i["id"] for i in listed["items"]] == [first]

    _drop(app, token_cache=True)  # a GET whose first statement is the route's own read
    (definition_id,) = [d["id"] for d in deployed["definitions"]]
    assert _ok(client.get(f"/definitions/{definition_id}"))["key"] == "p"

    _drop(app)  # a POST that starts an instance (an engine command), then its audit entry
    second = _ok(client.post("/process-instances", json={"key": "p"}), 201)["id"]
    listed = _ok(client.get("/process-instances"))
    assert sorted(i["id"] for i in listed["items"]) == sorted([first, second])

    _drop(app)  # fetch-and-lock, then a lock extension (the route's own transaction)
    body = {"worker_id": "w1", "topics": [{"name": "charge"}], "max_tasks": 5}
    locked = _ok(client.post("/external-tasks/fetch-and-lock", json=body))["items"]
    assert sorted(t["instance_id"] for t in locked) == sorted([first, second])
    _drop(app, token_cache=True)
    task_id = locked[0]["id"]
    extend = {"worker_id": "w1", "new_duration_ms": 60_000}
    _ok(client.post(f"/external-tasks/{task_id}/extend-lock", json=extend))
    _drop(app)
    again = _ok(client.post("/external-tasks/fetch-and-lock", json=body))["items"]
    assert again == []

    _drop(app)  # a POST that writes the server's own tables (model, version, event)
    _ok(client.post("/models", json={"xml": DRAFT.decode(), "name": "M"}), 201)
    _drop(app)
    models = _ok(client.get("/models"))["items"]
    assert [m["key"] for m in models] == ["m"]
    _drop(app)
    events = _ok(client.get("/models/m/events"))["items"]
    assert [e["kind"] for e in events] == ["draft"]

    _drop(app)
    assert client.get("http://lc/health").status_code == 200

    # every changing call was audited once
    audit = _ok(client.get("/audit", params={"limit": 100}))["items"]
    starts = [
        a for a in audit if a["method"] == "POST" and a["path"].endswith("/process-instances")
    ]
    assert len(starts) == 2
    assert len([a for a in audit if a["path"].endswith("/models")]) == 1
