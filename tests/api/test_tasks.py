"""User tasks over a real server: forms, lifecycle through the engine, task list, comments,
attachments, SLA clocks, re-balancing."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import Server, problem

GOOD = {"amount": 30, "reason": "late"}


def _refund(server: Server, user: str = "anna") -> tuple[str, str]:
    """Start a refund (as ``user``); its instance and its 'decide' task."""
    with server.client(user) as c:
        r = c.post("/process-instances", json={"key": "order_refund", "business_key": "r"})
        assert r.status_code == 201, r.text
        pid = str(r.json()["id"])
    with server.client("admin") as admin:
        items = admin.get("/tasks", params={"instance_id": pid}).json()["items"]
    assert len(items) == 1, items
    return pid, str(items[0]["id"])


def _kinds(server: Server, pid: str) -> list[tuple[str, str | None]]:
    with server.client("admin") as admin:
        r = admin.get("/history", params={"instance_id": pid, "limit": 1000})
        assert r.status_code == 200, r.text
        return [(e["kind"], e["actor"]) for e in r.json()["items"]]


def test_form_validation_refuses_bad_data_and_changes_nothing(server: Server) -> None:
    pid, task = _refund(server)
    with server.client("anna") as anna:
        form = anna.get(f"/tasks/{task}/form").json()
        assert {c["key"] for c in form["form"]["components"]} == {"amount", "reason"}
        assert anna.post(f"/tasks/{task}/claim").json()["assignee"] == "anna"
        before = anna.get(f"/tasks/{task}").json()
        body = problem(
            anna.post(f"/tasks/{task}/complete", json={"variables": {"amount": 0, "reason": "x"}}),
            422,
            "engine.form.rejected",
        )
        assert {e["field"] for e in body["errors"]} == {"amount", "reason"}
        body = problem(anna.post(f"/tasks/{task}/complete", json={"variables": {}}), 422)
        assert {e["field"] for e in body["errors"]} == {"amount", "reason"}
        assert anna.get(f"/tasks/{task}").json() == before  # nothing changed
        r = anna.post(f"/tasks/{task}/complete", json={"variables": GOOD})
        assert r.status_code == 200, r.text
        problem(anna.get(f"/tasks/{task}"), 404, "engine.task.not_found")
    kinds = _kinds(server, pid)
    assert ("task_claim", "anna") in kinds and ("task_complete", "anna") in kinds


def test_claim_unclaim_delegate_resolve_through_the_engine(server: Server) -> None:
    pid, task = _refund(server)
    with server.client("anna") as anna, server.client("bob") as bob:
        assert anna.post(f"/tasks/{task}/claim").status_code == 200
        problem(bob.post(f"/tasks/{task}/claim"), 403, "auth.forbidden")
        r = anna.post(f"/tasks/{task}/unclaim")
        assert r.status_code == 200 and r.json()["assignee"] is None
        assert bob.post(f"/tasks/{task}/claim").json()["assignee"] == "bob"
        r = bob.post(f"/tasks/{task}/delegate", json={"user": "anna"})
        assert r.status_code == 200, r.text
        t = r.json()
        assert (t["assignee"], t["owner"], t["delegation"]) == ("anna", "bob", "pending")
        problem(anna.post(f"/tasks/{task}/complete", json={"variables": GOOD}), 409)
        r = anna.post(f"/tasks/{task}/resolve", json={"variables": {"note": "checked"}})
        assert r.status_code == 200, r.text
        assert (r.json()["assignee"], r.json()["delegation"]) == ("bob", "resolved")
        # back with bob: anna (a candidate) still sees it but may not work on it
        problem(anna.post(f"/tasks/{task}/resolve", json={}), 403, "auth.forbidden")
        assert bob.post(f"/tasks/{task}/complete", json={"variables": GOOD}).status_code == 200
    kinds = _kinds(server, pid)
    for expected in (
        ("task_claim", "anna"),
        ("task_unclaim", "anna"),
        ("task_claim", "bob"),
        ("task_delegate", "bob"),
        ("task_resolve", "anna"),
        ("task_complete", "bob"),
        ("authorization_refused", "bob"),  # the refused claim is on record
    ):
        assert expected in kinds, (expected, kinds)


def test_task_list_queries_run_in_the_engine(server: Server) -> None:
    _, refund = _refund(server)
    pid2, _ = _refund(server)
    with server.client("bob") as bob:
        r = bob.get("/tasks", params={"min_priority": 70, "sort": "-priority,created_at"})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert items and {t["process_key"] for t in items} == {"order_refund"}
        assert all(t["priority"] >= 70 for t in items)
        assert bob.post(f"/tasks/{refund}/claim").status_code == 200
        queue = {
            t["id"]
            for t in bob.get("/tasks", params={"candidate": True, "limit": 1000}).json()["items"]
        }
        mine = {
            t["id"] for t in bob.get("/tasks", params={"mine": True, "limit": 1000}).json()["items"]
        }
        assert refund in mine and refund not in queue
        r = bob.get("/tasks", params={"process_key": "order_refund", "instance_id": pid2})
        assert [t["instance_id"] for t in r.json()["items"]] == [pid2]
        assert bob.get("/tasks", params={"overdue": True}).json()["total"] == 0  # no due dates
        r = bob.get("/tasks", params={"name_like": "DECIDE", "limit": 1, "sort": "-created_at"})
        page = r.json()
        assert page["limit"] == 1 and len(page["items"]) == 1 and page["total"] >= 2
        problem(bob.get("/tasks", params={"sort": "candidate_users"}), 400, "input.sort")
    with server.client("mallory") as mallory:
        assert mallory.get("/tasks", params={"process_key": "order_refund"}).json()["total"] == 0


def test_comments_are_the_engines(server: Server) -> None:
    pid, task = _refund(server)
    with server.client("bob") as bob:  # a candidate sees (and may comment on) the open task
        r = bob.post(f"/tasks/{task}/comments", json={"text": "urgent customer"})
        assert r.status_code == 201, r.text
        assert r.json()["author"] == "bob" and r.json()["id"]
    with server.client("anna") as anna:
        items = anna.get(f"/tasks/{task}/comments").json()["items"]
        assert [(c["author"], c["text"]) for c in items] == [("bob", "urgent customer")]
        problem(anna.post(f"/tasks/{task}/comments", json={"text": ""}), 422, "input.invalid")
    assert ("task_comment", "bob") in _kinds(server, pid)
    with server.client("mallory") as mallory:
        problem(mallory.post(f"/tasks/{task}/comments", json={"text": "x"}), 404)


def test_attachments_upload_list_download_delete(server: Server) -> None:
    pid, task = _refund(server)
    content = b"receipt " + uuid.uuid4().hex.encode()
    with server.client("anna") as anna, server.client("bob") as bob:
        r = anna.post(
            f"/tasks/{task}/attachments",
            params={"name": "receipt.txt", "description": "scan"},
            content=content,
            headers={"content-type": "text/plain"},
        )
        assert r.status_code == 201, r.text
        att = r.json()
        assert (att["name"], att["content_type"], att["size"]) == (
            "receipt.txt",
            "text/plain",
            len(content),
        )
        r = anna.post(
            f"/tasks/{task}/attachments",
            params={"name": "portal", "url": "https://example.org/case/1"},
        )
        assert r.status_code == 201, r.text
        link = r.json()
        listed = bob.get(f"/tasks/{task}/attachments").json()["items"]
        assert [a["id"] for a in listed] == [att["id"], link["id"]]
        r = bob.get(f"/tasks/{task}/attachments/{att['id']}")
        assert r.status_code == 200 and r.content == content
        assert r.headers["content-type"].startswith("text/plain")
        assert "attachment" in r.headers["content-disposition"]
        r = bob.get(f"/tasks/{task}/attachments/{link['id']}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "https://example.org/case/1"
        big = b"x" * (64 * 1024 + 1)
        problem(
            anna.post(f"/tasks/{task}/attachments", params={"name": "big.bin"}, content=big), 413
        )
        problem(bob.delete(f"/tasks/{task}/attachments/{att['id']}"), 403, "auth.forbidden")
        assert anna.delete(f"/tasks/{task}/attachments/{att['id']}").status_code == 200
        problem(anna.get(f"/tasks/{task}/attachments/{att['id']}"), 404)
        assert [a["id"] for a in anna.get(f"/tasks/{task}/attachments").json()["items"]] == [
            link["id"]
        ]
    with server.client("mallory") as mallory:
        problem(mallory.get(f"/tasks/{task}/attachments/{link['id']}"), 404)
    kinds = _kinds(server, pid)
    assert ("task_attachment", "anna") in kinds and ("task_attachment_delete", "anna") in kinds


def test_sla_clocks_of_tasks_and_instances(server: Server) -> None:
    pid, task = _refund(server)
    with server.client("anna") as anna:
        clocks = anna.get(f"/tasks/{task}/slas").json()["items"]
        assert [(c["name"], c["scope"], c["status"]) for c in clocks] == [
            ("first response", "task", "running")
        ]
        problem(anna.get(f"/process-instances/{pid}/slas"), 404)
    with server.client("carl") as carl:
        r = carl.get(f"/process-instances/{pid}/slas")
        assert r.status_code == 200, r.text
        running = {(c["name"], c["scope"]) for c in r.json()["running"]}
        assert running == {("first response", "task"), ("refund", "process")}
        assert r.json()["finished"] == []
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{task}/claim").status_code == 200
        assert anna.post(f"/tasks/{task}/complete", json={"variables": GOOD}).status_code == 200
    with server.client("carl") as carl:
        r = carl.get(f"/process-instances/{pid}/slas").json()
        assert r["running"] == []  # the process ended: every clock stopped
        assert {f["status"] for f in r["finished"]} == {"met"}
        assert len(r["finished"]) == 2


def test_rebalance_moves_work_through_the_engine(server: Server) -> None:
    _, task = _refund(server)
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{task}/claim").status_code == 200
        problem(anna.post("/org/rebalance", json={"person": "anna"}), 403, "auth.forbidden")
    with server.client("admin") as admin:
        r = admin.post("/org/rebalance", json={"person": "anna"})
        assert r.status_code == 200, r.text
        moved = [d for d in r.json()["items"] if d.get("task_id") == task]
        assert moved, r.json()
        assert admin.get(f"/tasks/{task}").json()["assignee"] != "anna"


def test_metrics_are_open_on_loopback(server: Server) -> None:
    r = httpx.get(server.url + "/metrics", timeout=60)
    assert r.status_code == 200 and "liucheng_tasks_open" in r.text
