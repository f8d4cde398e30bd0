"""Authentication, deployments and definitions, organisation, audit, metrics, hygiene."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import DATA, PASSWORD, Server, problem

_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{key}"
             targetNamespace="https://liucheng.dev/tests">
  <process id="{key}" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <userTask id="t" name="{name}"/>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>
"""


def test_health_metrics_and_openapi(server: Server) -> None:
    assert httpx.get(server.url + "/health", timeout=60).json()["status"] == "ok"
    doc = httpx.get(server.url + "/api/v1/openapi.json", timeout=60).json()
    for path in ("/api/v1/tasks", "/api/v1/process-instances", "/api/v1/models/{key}/diff"):
        assert path in doc["paths"]
    with server.client("anna") as anna:
        anna.post("/process-instances", json={"key": "order"})
    text = httpx.get(server.url + "/metrics", timeout=60).text
    for name in (
        "liucheng_process_instances_started_total",
        "liucheng_tasks_open",
        "liucheng_incidents_open",
        "liucheng_http_request_seconds_bucket",
        "liucheng_job_latency_seconds",
    ):
        assert name in text
    started = next(
        line
        for line in text.splitlines()
        if line.startswith("liucheng_process_instances_started_total ")
    )
    assert int(started.split()[-1]) >= 1


def test_login_session_tokens_and_rate_limit(server: Server) -> None:
    with httpx.Client(base_url=server.url + "/api/v1", timeout=60) as c:
        problem(c.get("/tasks"), 401, "auth.unauthenticated")
        problem(c.get("/tasks", headers={"Authorization": "Bearer lct_forged"}), 401)
        r = c.post("/auth/login", json={"username": "bob", "password": PASSWORD})
        assert r.status_code == 200 and "token" not in r.json()
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "lc_session=" in cookie
        assert c.get("/auth/me").json()["groups"] == ["service-desk"]
        r = c.post("/auth/tokens", json={"name": "ci"})
        assert r.status_code == 201
        token = r.json()["token"]
        token_id = r.json()["id"]
        assert c.post("/auth/logout").status_code == 200
        problem(c.get("/auth/me"), 401)
    with httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as t:
        assert t.get("/auth/me").json()["id"] == "bob"
        assert token_id in {x["id"] for x in t.get("/auth/tokens").json()["items"]}
        assert t.delete(f"/auth/tokens/{token_id}").status_code == 204
        problem(t.get("/auth/me"), 401)
    # five wrong guesses for one user and address, then refused even with the right password
    who = f"r{uuid.uuid4().hex[:8]}"
    with server.client("admin") as admin:
        assert admin.post("/users", json={"id": who, "password": PASSWORD}).status_code == 201
    with httpx.Client(base_url=server.url + "/api/v1", timeout=60) as c:
        assert (
            c.post("/auth/login", json={"username": who, "password": PASSWORD}).status_code == 200
        )
        for _ in range(5):
            problem(
                c.post("/auth/login", json={"username": who, "password": "wrong-wrong"}),
                401,
                "auth.login_failed",
            )
        r = c.post("/auth/login", json={"username": who, "password": PASSWORD})
        body = problem(r, 429, "auth.rate_limited")
        assert int(r.headers["retry-after"]) >= 1
        assert "details" in body


def test_users_admin(server: Server) -> None:
    uid = f"u{uuid.uuid4().hex[:8]}"
    with server.client("admin") as admin, server.client("anna") as anna:
        problem(anna.post("/users", json={"id": uid, "password": PASSWORD}), 403)
        r = admin.post("/users", json={"id": uid, "password": PASSWORD, "groups": ["x"]})
        assert r.status_code == 201 and "password" not in r.text
        problem(admin.post("/users", json={"id": uid, "password": PASSWORD}), 400, "user.exists")
        problem(admin.post("/users", json={"id": uid + "2", "password": "short"}), 422)
        assert admin.patch(f"/users/{uid}", json={"disabled": True}).json()["disabled"] is True
        problem(anna.get(f"/users/{uid}"), 403)
        assert anna.get("/users/anna").json()["id"] == "anna"
    with httpx.Client(base_url=server.url + "/api/v1", timeout=60) as c:
        problem(c.post("/auth/login", json={"username": uid, "password": PASSWORD}), 401)


def test_deployments_and_definitions(server: Server) -> None:
    key = f"p{uuid.uuid4().hex[:8]}"
    xml = _BPMN.format(key=key, name="Do it").encode()
    with server.client("dev") as dev, server.client("anna") as anna:
        problem(
            anna.post("/deployments", content=xml, headers={"content-type": "application/xml"}), 403
        )
        files = {"file": (f"{key}.bpmn", xml, "application/xml")}
        r = dev.post("/deployments", files=files)
        assert r.status_code == 201, r.text
        assert [d["key"] for d in r.json()["definitions"]] == [key]
        r = dev.post(
            f"/deployments?name=../../{key}.bpmn",
            content=_BPMN.format(key=key, name="Do it now").encode(),
            headers={"content-type": "application/xml"},
        )
        assert r.status_code == 201
        defs = dev.get("/definitions", params={"key": key, "sort": "-version"}).json()["items"]
        assert [d["version"] for d in defs] == [2, 1]
        assert defs[0]["resource_name"] == f"{key}.bpmn"
        latest = dev.get("/definitions", params={"key": key, "latest": True}).json()["items"]
        assert [d["version"] for d in latest] == [2]
        r = dev.get(f"/definitions/{defs[0]['id']}/xml")
        assert r.headers["content-type"].startswith("application/xml")
        assert b"Do it now" in r.content
        r = dev.get(f"/definitions/{defs[0]['id']}/diagram")
        assert r.status_code == 200 and r.json()["shapes"] == []
        # agents may start only order*: other definitions do not exist for them
        problem(anna.get(f"/definitions/{defs[0]['id']}"), 404)
        assert key not in {d["key"] for d in anna.get("/definitions").json()["items"]}
        assert "order" in {d["key"] for d in anna.get("/definitions").json()["items"]}
        # hardened XML: entities and DTDs are refused, bad models list every problem
        evil = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><definitions>&x;</definitions>'
        problem(
            dev.post("/deployments", content=evil, headers={"content-type": "application/xml"}),
            422,
            "xml.doctype",
        )
        bad = (
            _BPMN.format(key=key, name="x").replace('targetRef="e"', 'targetRef="missing"').encode()
        )
        body = problem(
            dev.post("/deployments", content=bad, headers={"content-type": "application/xml"}), 422
        )
        assert body["code"].startswith("bpmn.")
        problem(
            dev.post("/deployments", content=b"{}", headers={"content-type": "application/json"}),
            400,
            "deploy.content_type",
        )
        dmn = dev.post(
            "/deployments",
            files={"f": ("d.dmn", (DATA / "discount.dmn").read_bytes(), "application/xml")},
        )
        assert dmn.status_code == 201 and dmn.json()["definitions"][0]["kind"] == "dmn"
        assert dev.get("/deployments").json()["total"] >= 3


def test_request_limits_and_errors_are_clean(server: Server) -> None:
    with server.client("dev") as dev:
        big = b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"
        problem(
            dev.post("/deployments", content=big, headers={"content-type": "application/xml"}), 413
        )

        def chunks():
            for _ in range(40):
                yield b" " * 100_000

        r = dev.post("/deployments", content=chunks(), headers={"content-type": "application/xml"})
        problem(r, 413)
        problem(dev.get("/no/such/route"), 404)
        problem(
            dev.post(
                "/process-instances",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            422,
        )
        r = dev.get("/tasks")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "access-control-allow-origin" not in r.headers
        r = dev.options(
            "/tasks",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in r.headers


def test_organisation_read_and_import(server: Server) -> None:
    with server.client("anna") as anna, server.client("admin") as admin:
        # the suite's organisation first: other tests on this (shared) server add people,
        # and which of them ran here before depends on how xdist spread the tests
        r = admin.put(
            "/org",
            content=(DATA / "org.yaml").read_bytes(),
            headers={"content-type": "application/yaml"},
        )
        assert r.status_code == 200, r.text
        summary = anna.get("/org").json()
        assert summary["people"] == 7 and summary["calendars"] == ["office"]
        people = anna.get("/org/people", params={"sort": "-id", "limit": 2}).json()
        assert [p["id"] for p in people["items"]] == ["worker", "olga"]
        assert anna.get("/org/people/carl").json()["roles"] == ["lead"]
        problem(anna.get("/org/people/nobody"), 404)
        assert anna.get("/calendars").json()["items"][0]["name"] == "office"
        assert anna.get("/org/processes/order").json()["owner"] == "olga"
        problem(
            anna.put("/org", content=b"people: []", headers={"content-type": "application/yaml"}),
            403,
        )
        body = problem(
            admin.put(
                "/org",
                content=b"people:\n  - {id: x, superior: nobody}\n",
                headers={"content-type": "application/yaml"},
            ),
            400,
        )
        assert body["code"].startswith("org")
        problem(
            admin.put(
                "/org",
                content=b"calendars: {a: /etc/passwd}\n",
                headers={"content-type": "application/yaml"},
            ),
            400,
        )
        r = admin.put(
            "/org",
            content=(DATA / "org.yaml").read_bytes(),
            headers={"content-type": "application/yaml"},
        )
        assert r.status_code == 200 and r.json()["people"] == 7


def test_audit_log_records_changes(server: Server) -> None:
    from sqlalchemy import create_engine, text

    from liucheng.store import normalise_url

    db = create_engine(normalise_url(server.database))
    count = text(
        "SELECT count(*) FROM lc_api_audit WHERE actor = 'anna' AND path = '/api/v1/signals'"
    )
    try:
        with db.connect() as conn:
            before = conn.execute(count).scalar_one()
        with server.client("anna") as anna:
            r = anna.post("/signals", json={"name": f"audit-{uuid.uuid4().hex[:6]}"})
            assert r.status_code == 200
        # The answer came only after its audit entry was committed: it is in the database
        # now, read directly (not through /audit, which would flush a queue first).
        with db.connect() as conn:
            after = conn.execute(count).scalar_one()
    finally:
        db.dispose()
    assert after == before + 1
    with server.client("anna") as anna:
        anna.post("/signals", json={"name": f"audit-{uuid.uuid4().hex[:6]}"})
    with server.client("mallory") as m:
        m.post("/signals", json={"name": "refused"})
        problem(m.get("/audit"), 403)
    with server.client("admin") as admin:
        items = admin.get("/audit", params={"limit": 200}).json()["items"]
        mine = [e for e in items if e["path"] == "/api/v1/signals"]
        assert {("anna", 200), ("mallory", 403)} <= {(e["actor"], e["status"]) for e in mine}
        assert all(e["method"] in ("POST", "PUT", "PATCH", "DELETE") for e in items)
        only = admin.get("/audit", params={"actor": "mallory"}).json()["items"]
        assert only and {e["actor"] for e in only} == {"mallory"}
