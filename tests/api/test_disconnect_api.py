"""REST calls after PostgreSQL dropped every pooled connection (a restart) succeed the first time.

The server opens transactions of its own besides engine commands: token lookups, users, models,
audit entries, definition reads, lock extensions. A pooled connection the server dropped fails on
first use (no ``pool_pre_ping``); those transactions run again on a fresh connection, so no call
fails after a database restart and nothing is written twice (one audit entry, one instance, one
model per call). When every connection dies (the retries run out) a call answers 503
``store.disconnected`` with ``Retry-After`` and has written nothing; when the connection breaks
during COMMIT it answers 500 ``store.commit_unknown`` (check before sending again) and the COMMIT
is not tried twice. The application runs in-process on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from liucheng.api import Settings, create_app
from liucheng.store import schema
from liucheng.store._api_schema import api_model, api_model_event, api_model_version
from liucheng.store._retry import ATTEMPTS

from ..engine.helpers import bpmn, flows
from ..store.pg_drop import drop_connections
from ..store.pg_kill import commit_kills_connection, every_connection_dies

PROCESS = bpmn(
    '<startEvent id="s"/><serviceTask id="ext" camunda:type="external" camunda:topic="charge"/>'
    '<userTask id="check"/><endEvent id="e"/>' + flows("s->ext", "ext->check", "check->e")
)
XML = {"content-type": "application/xml"}
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


# ------------------------------------------------------------------ the connection stays lost


def _counts(app: Any) -> dict[str, int]:
    """Rows of the tables the tested calls write (read on a connection that lives)."""
    svc = app.state.services
    with svc.db.connect() as c:
        return {
            t.name: int(c.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (api_model, api_model_version, api_model_event, schema.instance)
        }


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    # the store's error, not the driver's (whose message is logged only)
    assert "psycopg" not in response.text and "administrator command" not in response.text
    return body


def test_calls_whose_connections_all_die_answer_503_store_disconnected_and_write_nothing(
    app: Any, client: Client
) -> None:
    _ok(client.post("/deployments?name=p.bpmn", content=PROCESS, headers=XML), 201)
    _ok(client.get("/models"))  # (the token lookup is cached: the routes' own SQL meets it)
    before = _counts(app)
    engine = app.state.services.db
    draft = {"xml": DRAFT.decode(), "name": "M"}
    with every_connection_dies(engine) as kills:
        # the route's own transaction (in_connection): users, models, audit tables
        created = _problem(client.post("/models", json=draft), 503, "store.disconnected")
        assert kills.count >= ATTEMPTS  # the block ran on a fresh connection each time
        listed = _problem(client.get("/models"), 503, "store.disconnected")
        # an engine command (the store's transaction, retried by the engine)
        started = _problem(
            client.post("/process-instances", json={"key": "p"}), 503, "store.disconnected"
        )
        # the operations endpoints: metrics answer without the database's figures
        metrics = client.get("http://lc/metrics")
        _problem(client.get("http://lc/health"), 503, "store.unavailable")
        health = client.get("http://lc/health")
    for body in (created, listed, started):
        assert "send the request again" in body["hint"]
    assert int(health.headers["retry-after"]) >= 1
    assert metrics.status_code == 200
    assert "\nliucheng_database_up 0\n" in metrics.text
    assert "liucheng_process_instances_active" not in metrics.text
    assert 'route="/api/v1/models",status="503"' in metrics.text  # the process's own figures
    assert _counts(app) == before  # nothing half-written
    # the same calls succeed once the database keeps its connections
    _ok(client.post("/models", json=draft), 201)
    _ok(client.post("/process-instances", json={"key": "p"}), 201)
    after = _counts(app)
    assert after[api_model.name] == 1 and after[schema.instance.name] == 1
    metrics = client.get("http://lc/metrics")
    assert "\nliucheng_database_up 1\n" in metrics.text
    assert "\nliucheng_process_instances_active 1\n" in metrics.text


def test_each_store_disconnected_answer_carries_retry_after(app: Any, client: Client) -> None:
    _ok(client.get("/models"))
    with every_connection_dies(app.state.services.db):
        response = client.get("/models/m/events")
    _problem(response, 503, "store.disconnected")
    assert response.headers["retry-after"] == "1"


# ------------------------------------------------------------------ the connection breaks in COMMIT


def test_a_route_whose_commit_breaks_answers_500_store_commit_unknown_once(
    app: Any, client: Client
) -> None:
    _ok(client.get("/models"))
    engine = app.state.services.db
    with commit_kills_connection(engine, api_model.name) as tries:
        response = client.post("/models", json={"xml": DRAFT.decode(), "name": "M"})
        body = _problem(response, 500, "store.commit_unknown")
        assert tries() == 1  # the COMMIT was not tried again: it may have happened
    assert "retry-after" not in response.headers
    assert "check" in body["hint"] and "before" in body["hint"]
    # (the server rolled back here; the answer cannot know that, so it says "unknown")
    counts = _counts(app)
    assert counts[api_model.name] == counts[api_model_version.name] == 0
    assert counts[api_model_event.name] == 0
    assert _ok(client.get("/models"))["items"] == []


def test_an_engine_command_whose_commit_breaks_answers_500_store_commit_unknown_once(
    app: Any, client: Client
) -> None:
    _ok(client.post("/deployments?name=p.bpmn", content=PROCESS, headers=XML), 201)
    engine = app.state.services.db
    with commit_kills_connection(engine, schema.instance.name) as tries:
        response = client.post("/process-instances", json={"key": "p"})
        body = _problem(response, 500, "store.commit_unknown")
        assert tries() == 1  # the engine does not run a command again after this
    assert "check" in body["hint"]
    assert _counts(app)[schema.instance.name] == 0
    assert _ok(client.get("/process-instances"))["items"] == []


def test_a_call_that_loses_the_connection_after_a_committed_step_answers_commit_unknown(
    app: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok(client.post("/models", json={"xml": DRAFT.decode(), "name": "M"}), 201)
    svc = app.state.services
    start = svc.engine.start_process
    dying = ExitStack()

    def start_then_lose_every_connection(*args: Any, **kwargs: Any) -> str:
        pid: str = start(*args, **kwargs)  # committed: the review process runs
        dying.enter_context(every_connection_dies(svc.db))
        return pid

    monkeypatch.setattr(svc.engine, "start_process", start_then_lose_every_connection)
    with dying:
        response = client.post("/models/m/submit", json={"reviewers": ["root"]})
    # the model's own update met dead connections only: "nothing was saved" would be false
    body = _problem(response, 500, "store.commit_unknown")
    assert "check" in body["hint"]
    monkeypatch.undo()
    assert _ok(client.get("/models/m"))["status"] == "draft"
    started = _ok(client.get("/process-instances"))["items"]
    assert [i["key"] for i in started] == ["liucheng_model_lifecycle"]
