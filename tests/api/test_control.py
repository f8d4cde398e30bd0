"""Operator controls over a real server: trigger, subscriptions, run a job now, SLA pause and
resume, business calendars, the variable filter of the instance list."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.api.conftest import Server, problem


def _order(server: Server, **variables: object) -> str:
    with server.client("admin") as admin:
        r = admin.post("/process-instances", json={"key": "order", "variables": variables})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def test_subscriptions_and_trigger(server: Server) -> None:
    pid = _order(server)
    with server.client("admin") as admin:
        # move the token to the message catch event 'paid'
        r = admin.post(
            f"/process-instances/{pid}/modify",
            json={"start_before": ["paid"], "cancel": ["approve"]},
        )
        assert r.status_code == 200 and r.json()["active"] == ["paid"], r.text
        subs = admin.get("/subscriptions", params={"instance_id": pid}).json()["items"]
        assert [(s["kind"], s["name"], s["element_id"]) for s in subs] == [
            ("message", "payment", "paid")
        ]
        named = admin.get(
            "/subscriptions", params={"kind": "message", "name": "payment", "limit": 1000}
        ).json()["items"]
        assert pid in {s["instance_id"] for s in named}
        assert admin.get("/subscriptions", params={"name": "nothing"}).json()["items"] == []
    with server.client("anna") as anna:
        # anna may not see order instances: their subscriptions do not show, trigger is 404
        assert anna.get("/subscriptions", params={"instance_id": pid}).json()["items"] == []
        problem(anna.post(f"/process-instances/{pid}/trigger", json={"element_id": "paid"}), 404)
    with server.client("carl") as carl:
        # carl sees the instance (history grant) but does not operate it
        assert len(carl.get("/subscriptions", params={"instance_id": pid}).json()["items"]) == 1
        problem(carl.post(f"/process-instances/{pid}/trigger", json={"element_id": "paid"}), 403)
    with server.client("admin") as admin:
        # nothing waits at 'ship': refused, state unchanged
        r = admin.post(f"/process-instances/{pid}/trigger", json={"element_id": "ship"})
        assert 400 <= r.status_code < 500 and r.status_code != 404, r.text
        assert admin.get(f"/process-instances/{pid}/activity-instances").json()["active"] == [
            "paid"
        ]
        r = admin.post(
            f"/process-instances/{pid}/trigger",
            json={"element_id": "paid", "variables": {"paid_by": "card"}},
        )
        assert r.status_code == 200, r.text
        assert r.json()["ended"] is True
        assert admin.get("/subscriptions", params={"instance_id": pid}).json()["items"] == []
        assert admin.get(f"/process-instances/{pid}").json()["state"] == "completed"
        kinds = [
            e["kind"]
            for e in admin.get("/history", params={"instance_id": pid, "limit": 1000}).json()[
                "items"
            ]
        ]
        assert "process_end" in kinds and "variable" in kinds  # paid_by was set


def test_execute_job_now(server: Server) -> None:
    with server.client("admin") as admin:
        pid = admin.post("/process-instances", json={"key": "order_timer"}).json()["id"]
        jobs = admin.get("/jobs", params={"instance_id": pid}).json()["items"]
        assert [j["kind"] for j in jobs] == ["timer"]
        job = jobs[0]["id"]
    with server.client("anna") as anna:
        problem(anna.post(f"/jobs/{job}/execute", json={}), 404, "engine.job.not_found")
    with server.client("admin") as admin:
        # the timer is due in an hour: running it now ends the instance
        r = admin.post(f"/jobs/{job}/execute", json={})
        assert r.status_code == 200, r.text
        assert r.json()["executed"] is True and r.json()["job"] is None
        assert admin.get(f"/process-instances/{pid}").json()["state"] == "completed"
        assert admin.get("/jobs", params={"instance_id": pid}).json()["items"] == []
        problem(admin.post(f"/jobs/{job}/execute", json={}), 404)


def test_sla_pause_and_resume(server: Server) -> None:
    with server.client("anna") as anna:
        pid = anna.post("/process-instances", json={"key": "order_refund"}).json()["id"]
    with server.client("admin") as admin:
        task = admin.get("/tasks", params={"instance_id": pid}).json()["items"][0]["id"]
    with server.client("bob") as bob:
        # bob is a candidate (sees the task) but not its assignee
        problem(bob.post(f"/tasks/{task}/slas/pause", json={}), 403, "auth.forbidden")
    with server.client("mallory") as mallory:
        problem(mallory.post(f"/tasks/{task}/slas/pause", json={}), 404)
    with server.client("anna") as anna:
        assert anna.post(f"/tasks/{task}/claim").status_code == 200
        r = anna.post(f"/tasks/{task}/slas/pause", json={"reason": "waiting for the customer"})
        assert r.status_code == 200, r.text
        assert [(c["name"], c["status"]) for c in r.json()["items"]] == [
            ("first response", "paused")
        ]
        r = anna.post(f"/tasks/{task}/slas/resume", json={})
        assert [c["status"] for c in r.json()["items"]] == ["running"]
        problem(anna.post(f"/process-instances/{pid}/slas/pause", json={}), 404)
    with server.client("carl") as carl:
        problem(carl.post(f"/process-instances/{pid}/slas/pause", json={}), 403)
    with server.client("dev") as dev:
        r = dev.post(f"/process-instances/{pid}/slas/pause", json={"name": "refund"})
        assert r.status_code == 200, r.text
        states = {c["name"]: c["status"] for c in r.json()["items"]}
        assert states == {"refund": "paused", "first response": "running"}
        r = dev.post(f"/process-instances/{pid}/slas/resume", json={"name": "refund"})
        assert {c["name"]: c["status"] for c in r.json()["items"]}["refund"] == "running"
    with server.client("admin") as admin:
        kinds = [
            (e["kind"], e["actor"])
            for e in admin.get("/history", params={"instance_id": pid, "limit": 1000}).json()[
                "items"
            ]
        ]
        assert ("sla_paused", "anna") in kinds and ("sla_paused", "dev") in kinds


def test_calendars_and_business_due(server: Server) -> None:
    with server.client("mallory") as c:
        r = c.get("/calendars/office")
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "office"
        # Monday 16:00 in Berlin + 2 working hours (08-17): Tuesday 09:00
        r = c.get(
            "/calendars/office/due",
            params={"start": "2026-01-05T16:00:00+01:00", "duration": "PT2H"},
        )
        assert r.status_code == 200, r.text
        due = dt.datetime.fromisoformat(r.json()["due"])
        assert due == dt.datetime(2026, 1, 6, 8, 0, tzinfo=dt.UTC), r.json()
        problem(c.get("/calendars/nowhere"), 404)
        problem(c.get("/calendars/nowhere/due", params={"duration": "PT1H"}), 404)
        r = c.get(
            "/calendars/office/due", params={"start": "2026-01-05T16:00:00", "duration": "PT1H"}
        )
        problem(r, 400, "input.invalid")
        assert c.get("/calendars/office/due", params={"duration": "P1Y"}).status_code == 422
        # bounded work: no unbounded calendar walks, no dates past what Python holds
        big = c.get("/calendars/office/due", params={"duration": "PT99999999999H"})
        problem(big, 400, "input.range")
        far = c.get(
            "/calendars/office/due",
            params={"duration": "PT1H", "start": "9999-12-31T23:00:00+00:00"},
        )
        problem(far, 400, "input.range")
    with server.client() as anonymous:
        problem(anonymous.get("/calendars/office"), 401)


def test_instances_by_variable(server: Server) -> None:
    # a prefix keeps the tag text: bare hex like "1234e56789" would be read as a JSON number
    tag = "t-" + uuid.uuid4().hex[:10]
    mine = _order(server, tag=tag, amount=5)
    _order(server, tag="other", amount=5)
    with server.client("admin") as admin:
        r = admin.get("/process-instances", params={"variable_name": "tag", "variable_value": tag})
        assert [i["id"] for i in r.json()["items"]] == [mine], r.text
        # JSON values: the number 5 matches, the text "5" does not
        r = admin.get(
            "/process-instances",
            params={"variable_name": "amount", "variable_value": "5", "limit": 1000},
        )
        assert mine in {i["id"] for i in r.json()["items"]}
        r = admin.get(
            "/process-instances",
            params={"variable_name": "amount", "variable_value": '"5"', "limit": 1000},
        )
        assert mine not in {i["id"] for i in r.json()["items"]}
        problem(admin.get("/process-instances", params={"variable_name": "tag"}), 400)
    with server.client("anna") as anna:
        r = anna.get("/process-instances", params={"variable_name": "tag", "variable_value": tag})
        assert r.json()["items"] == []  # not hers to see


def test_correlate_message_to_all(server: Server) -> None:
    key = uuid.uuid4().hex[:8]
    pids = [_order(server) for _ in range(2)]
    with server.client("admin") as admin:
        for pid in pids:
            r = admin.post(
                f"/process-instances/{pid}/modify",
                json={"start_before": ["paid"], "cancel": ["approve"], "variables": {"k": key}},
            )
            assert r.status_code == 200, r.text
    with server.client("anna") as anna:
        problem(
            anna.post("/messages", json={"name": "payment", "all": True, "ttl_seconds": 5}), 400
        )
        r = anna.post("/messages", json={"name": "payment", "all": True})
        assert r.status_code == 200, r.text
        assert set(pids) <= set(r.json()["instance_ids"])
        problem(anna.post("/messages", json={"name": "payment-nobody", "all": True}), 422)
    with server.client("admin") as admin:
        for pid in pids:
            assert admin.get(f"/process-instances/{pid}").json()["state"] == "completed"
    with server.client("mallory") as mallory:
        problem(mallory.post("/messages", json={"name": "payment", "all": True}), 403)
