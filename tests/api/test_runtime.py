"""Process instances, tasks, external tasks, messages, history over a real server."""

from __future__ import annotations

import uuid

from tests.api.conftest import Server, problem


def _start(server: Server, user: str = "anna", **variables: object) -> str:
    with server.client(user) as c:
        r = c.post(
            "/process-instances",
            json={"key": "order", "business_key": uuid.uuid4().hex, "variables": variables},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def _task_of(server: Server, instance_id: str, user: str = "admin") -> dict:
    with server.client(user) as c:
        r = c.get("/tasks", params={"instance_id": instance_id})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) == 1, items
        return items[0]


def test_order_runs_end_to_end(server: Server) -> None:
    pid = _start(server, order_id="A-1", amount=120)
    task = _task_of(server, pid)
    assert task["element_id"] == "approve"
    assert task["candidate_groups"] == ["service-desk"]
    assert task["process_key"] == "order"
    with server.client("anna") as anna, server.client("bob") as bob:
        # the candidates see it in their group queue; mallory does not even learn it exists
        mine = anna.get(
            "/tasks", params={"my_groups": True, "unassigned": True, "limit": 1000}
        ).json()
        assert task["id"] in {t["id"] for t in mine["items"]}
        with server.client("mallory") as mallory:
            assert task["id"] not in {t["id"] for t in mallory.get("/tasks").json()["items"]}
            problem(mallory.get(f"/tasks/{task['id']}"), 404, "engine.task.not_found")
            problem(mallory.post(f"/tasks/{task['id']}/complete", json={}), 404)
        # a candidate must claim before completing
        problem(anna.post(f"/tasks/{task['id']}/complete", json={}), 403, "auth.forbidden")
        r = anna.post(f"/tasks/{task['id']}/claim")
        assert r.status_code == 200 and r.json()["assignee"] == "anna"
        # a full page: other tests on this shared server leave anna many claimed tasks
        mine = anna.get("/tasks", params={"mine": True, "limit": 1000}).json()
        assert task["id"] in {t["id"] for t in mine["items"]}
        problem(bob.post(f"/tasks/{task['id']}/claim"), 403)
        # bob, still a candidate, sees the task but may not work on anna's task
        assert bob.get(f"/tasks/{task['id']}").json()["assignee"] == "anna"
        problem(bob.post(f"/tasks/{task['id']}/complete", json={}), 403, "auth.forbidden")
        r = anna.post(f"/tasks/{task['id']}/comments", json={"text": "looks fine"})
        assert r.status_code == 201
        comments = anna.get(f"/tasks/{task['id']}/comments").json()["items"]
        assert [c["text"] for c in comments] == ["looks fine"]
        r = anna.post(f"/tasks/{task['id']}/complete", json={"variables": {"approved": True}})
        assert r.status_code == 200, r.text
    with server.client("worker") as w:
        # oldest first, and other tests on this shared server leave open 'ship' tasks (more
        # once their locks run out): fetch until ours comes, each round locks what it got
        for _ in range(20):
            r = w.post(
                "/external-tasks/fetch-and-lock",
                json={
                    "worker_id": "w1",
                    "topics": [{"name": "ship", "lock_duration_ms": 60000}],
                    "max_tasks": 50,
                    "async_response_timeout_ms": 2000,
                },
            )
            assert r.status_code == 200, r.text
            mine = [t for t in r.json()["items"] if t["instance_id"] == pid]
            if mine or not r.json()["items"]:
                break
        assert len(mine) == 1
        ext = mine[0]
        assert ext["variables"]["order_id"] == "A-1"
        problem(w.post(f"/external-tasks/{ext['id']}/complete", json={"worker_id": "other"}), 409)
        r = w.post(
            f"/external-tasks/{ext['id']}/extend-lock",
            json={"worker_id": "w1", "new_duration_ms": 120000},
        )
        assert r.status_code == 200, r.text
        r = w.post(
            f"/external-tasks/{ext['id']}/complete",
            json={"worker_id": "w1", "variables": {"tracking": "T-9"}},
        )
        assert r.status_code == 200, r.text
    with server.client("admin") as admin:
        assert admin.get(f"/process-instances/{pid}").json()["state"] == "active"
        r = admin.post(
            "/messages", json={"name": "payment", "instance_id": pid, "variables": {"paid": 1}}
        )
        assert r.status_code == 200, r.text
        assert r.json()["instance_id"] == pid
        inst = admin.get(f"/process-instances/{pid}").json()
        assert inst["state"] == "completed"
    with server.client("carl") as carl:  # a lead reads the history of orders
        r = carl.get("/history", params={"instance_id": pid, "limit": 1000})
        assert r.status_code == 200
        kinds = [e["kind"] for e in r.json()["items"]]
        assert kinds[0] == "process_start" and "process_end" in kinds
        actors = {e["actor"] for e in r.json()["items"] if e["kind"] == "task_complete"}
        assert actors == {"anna"}
    with server.client("anna") as anna:  # an agent does not
        assert anna.get("/history", params={"instance_id": pid}).json()["total"] == 0
        problem(anna.get(f"/process-instances/{pid}"), 404)


def test_task_list_paging_and_sorting(server: Server) -> None:
    ids = [_start(server, n=i) for i in range(3)]
    with server.client("bob") as bob:
        r = bob.get("/tasks", params={"process_key": "order", "sort": "-created_at", "limit": 2})
        assert r.status_code == 200
        page = r.json()
        assert page["limit"] == 2 and len(page["items"]) == 2 and page["total"] >= 3
        created = [t["created_at"] for t in page["items"]]
        assert created == sorted(created, reverse=True)
        r2 = bob.get(
            "/tasks",
            params={"process_key": "order", "sort": "-created_at", "offset": 1, "limit": 1},
        )
        assert r2.json()["items"][0]["id"] == page["items"][1]["id"]
        problem(bob.get("/tasks", params={"sort": "password"}), 400, "input.sort")
        problem(bob.get("/tasks", params={"limit": 0}), 422, "input.invalid")
    with server.client("admin") as admin:
        for pid in ids:
            assert admin.post(f"/process-instances/{pid}/cancel").status_code == 200


def test_instance_operations(server: Server) -> None:
    pid = _start(server, amount=5)
    with server.client("anna") as anna:  # agents start but do not operate
        problem(anna.post(f"/process-instances/{pid}/cancel"), 404)
    with server.client("dev") as dev:
        r = dev.patch(f"/process-instances/{pid}/variables", json={"variables": {"amount": 7}})
        assert r.status_code == 200 and r.json()["amount"] == 7
        assert dev.get(f"/process-instances/{pid}/variables").json()["amount"] == 7
        acts = dev.get(f"/process-instances/{pid}/activity-instances").json()
        assert acts["active"] == ["approve"]
        r = dev.post(
            f"/process-instances/{pid}/modify",
            json={"cancel": ["approve"], "start_before": ["ship"]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["active"] == ["ship"]
        defs = dev.get("/definitions", params={"key": "order"}).json()["items"]
        r = dev.post(
            f"/process-instances/{pid}/migrate",
            json={"target_definition_id": defs[-1]["id"]},
        )
        assert r.status_code == 200, r.text
        problem(
            dev.post(
                f"/process-instances/{pid}/migrate", json={"target_definition_id": "nope:1:x"}
            ),
            404,
        )
        # newest first: other tests on the shared server start many order instances
        listed = dev.get(
            "/process-instances", params={"key": "order", "sort": "-started_at", "limit": 1000}
        ).json()
        assert pid in {i["id"] for i in listed["items"]}
        assert dev.post(f"/process-instances/{pid}/cancel").status_code == 200
        problem(dev.get(f"/process-instances/{pid}/variables"), 404)


def test_external_task_failure_incident_and_retry(server: Server) -> None:
    pid = _start(server, amount=12, card="4111")
    with server.client("admin") as admin:
        t = _task_of(server, pid)
        assert admin.post(f"/tasks/{t['id']}/complete", json={}).status_code == 200
        ext = admin.get("/external-tasks", params={"instance_id": pid}).json()["items"]
        assert len(ext) == 1
    with server.client("worker") as w:
        r = w.post(
            "/external-tasks/fetch-and-lock",
            json={"worker_id": "w2", "topics": [{"name": "ship"}], "max_tasks": 100},
        )
        locked = [x for x in r.json()["items"] if x["instance_id"] == pid]
        assert len(locked) == 1
        assert {"amount", "card"} <= set(locked[0]["variables"])
        r = w.post(f"/external-tasks/{locked[0]['id']}/unlock", json={"worker_id": "w2"})
        assert r.status_code == 200
        r = w.post(
            "/external-tasks/fetch-and-lock",
            json={
                "worker_id": "w3",
                "topics": [{"name": "ship", "variables": ["amount"]}],
                "max_tasks": 100,
            },
        )
        again = [x for x in r.json()["items"] if x["instance_id"] == pid]
        assert len(again) == 1
        assert again[0]["variables"] == {"amount": 12}
        r = w.post(
            f"/external-tasks/{again[0]['id']}/failure",
            json={"worker_id": "w3", "message": "carrier down", "retries": 0},
        )
        assert r.status_code == 200, r.text
    with server.client("dev") as dev:
        incs = dev.get("/incidents", params={"instance_id": pid}).json()["items"]
        assert len(incs) == 1 and incs[0]["message"] == "carrier down"
        inst = dev.get(f"/process-instances/{pid}").json()
        assert inst["has_incident"] is True
        assert dev.post(f"/incidents/{incs[0]['id']}/resolve").status_code == 200
        assert dev.get("/incidents", params={"instance_id": pid}).json()["total"] == 0
    with server.client("anna") as anna:
        assert anna.get("/incidents").json()["total"] == 0  # not an operator
    with server.client("worker") as w:
        r = w.post(
            "/external-tasks/fetch-and-lock",
            json={"worker_id": "w4", "topics": [{"name": "ship"}], "max_tasks": 100},
        )
        again = [x for x in r.json()["items"] if x["instance_id"] == pid]
        assert len(again) == 1
        r = w.post(
            f"/external-tasks/{again[0]['id']}/bpmn-error",
            json={"worker_id": "w4", "code": "NO_STOCK"},
        )
        # no boundary catches it: the engine refuses or ends the instance, never a 5xx
        assert r.status_code < 500, r.text


def test_long_poll_returns_empty_when_nothing_comes(server: Server) -> None:
    with server.client("worker") as w:
        r = w.post(
            "/external-tasks/fetch-and-lock",
            json={
                "worker_id": "w5",
                "topics": [{"name": "no-such-topic"}],
                "async_response_timeout_ms": 600,
            },
        )
        assert r.status_code == 200 and r.json() == {"items": []}
    with server.client("anna") as anna:  # not a worker
        problem(
            anna.post(
                "/external-tasks/fetch-and-lock",
                json={"worker_id": "x", "topics": [{"name": "ship"}]},
            ),
            403,
        )


def test_jobs_and_retries(server: Server) -> None:
    with server.client("dev") as dev:
        # a modeler administers definitions but may not start instances
        problem(dev.post("/process-instances", json={"key": "order_timer"}), 403)
        r = dev.post(
            "/process-instances",
            json={"key": "order_timer"},
            headers={"Authorization": f"Bearer {server.tokens['anna']}"},
        )
        assert r.status_code == 201
        pid = r.json()["id"]
        jobs = dev.get("/jobs", params={"instance_id": pid}).json()["items"]
        assert len(jobs) == 1 and jobs[0]["kind"] == "timer"
        r = dev.post(f"/jobs/{jobs[0]['id']}/retries", json={"retries": 7})
        assert r.status_code == 200
        assert dev.get("/jobs", params={"instance_id": pid}).json()["items"][0]["retries"] == 7
    with server.client("mallory") as m:
        problem(m.post(f"/jobs/{jobs[0]['id']}/retries", json={"retries": 1}), 404)


def test_messages_signals_and_decisions(server: Server) -> None:
    with server.client("anna") as anna:
        problem(
            anna.post("/messages", json={"name": "nobody-waits"}),
            422,
            "engine.message.uncorrelated",
        )
        r = anna.post("/messages", json={"name": "later", "ttl_seconds": 60})
        assert r.status_code == 200 and r.json()["buffered"] is True
        assert anna.post("/signals", json={"name": "alarm"}).status_code == 200
        r = anna.post("/decisions/discount/evaluate", json={"variables": {"amount": 150}})
        assert r.status_code == 200, r.text
        assert r.json()["value"] == 0.1
        r = anna.post("/decisions/discount/evaluate", json={"variables": {"amount": 10}})
        assert r.json()["value"] == 0
        problem(anna.post("/decisions/nope/evaluate", json={}), 404)
    with server.client("mallory") as m:
        problem(m.post("/signals", json={"name": "alarm"}), 403)
        problem(m.post("/decisions/discount/evaluate", json={}), 404)


def test_unclaim_assign_form_and_versions(server: Server) -> None:
    with server.client("anna") as anna:
        r = anna.post("/process-instances", json={"key": "order", "version": 1})
        assert r.status_code == 201
        pid = r.json()["id"]
        problem(anna.post("/process-instances", json={"key": "order", "version": 99}), 404)
        problem(anna.post("/process-instances", json={}), 400)
    task = _task_of(server, pid)
    assert task["definition_id"].startswith("order:1:")
    with server.client("anna") as anna, server.client("dev") as dev, server.client("bob") as bob:
        r = anna.get(f"/tasks/{task['id']}/form")
        assert r.status_code == 200 and r.json()["form"] is None
        assert anna.post(f"/tasks/{task['id']}/claim").status_code == 200
        problem(bob.post(f"/tasks/{task['id']}/unclaim"), 403)
        assert anna.post(f"/tasks/{task['id']}/unclaim").json()["assignee"] is None
        assert bob.get(f"/tasks/{task['id']}").json()["assignee"] is None
        problem(bob.post(f"/tasks/{task['id']}/assign", json={"assignee": "bob"}), 403)
        problem(dev.post(f"/tasks/{task['id']}/assign", json={"assignee": "bob"}), 404)
    with server.client("admin") as admin, server.client("bob") as bob:
        assert (
            admin.post(f"/tasks/{task['id']}/assign", json={"assignee": "bob"}).status_code == 200
        )
        assert task["id"] in {
            t["id"] for t in bob.get("/tasks", params={"mine": True, "limit": 1000}).json()["items"]
        }
        assert (
            bob.post(f"/tasks/{task['id']}/complete", json={"variables": {"x": 1}}).status_code
            == 200
        )
        problem(bob.get(f"/tasks/{task['id']}"), 404)
        assert admin.post(f"/process-instances/{pid}/cancel").status_code == 200
