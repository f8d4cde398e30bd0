"""Definition lifecycle: draft → review → owner approval → published, with diff and lint gate."""

from __future__ import annotations

import uuid

from tests.api.conftest import Server, problem

_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
             targetNamespace="https://liucheng.dev/tests">
  <process id="{key}" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <userTask id="t" name="{name}"/>
    <sequenceFlow id="f2" sourceRef="t" targetRef="{target}"/>
    {extra}
    <endEvent id="e"/>
  </process>
</definitions>
"""


def _xml(key: str, name: str = "Check", target: str = "e", extra: str = "") -> str:
    return _MODEL.format(key=key, name=name, target=target, extra=extra)


def test_draft_review_approve_publish(server: Server) -> None:
    key = f"order_m{uuid.uuid4().hex[:6]}"
    with server.client("dev") as dev, server.client("bob") as bob, server.client("olga") as olga:
        r = dev.post("/models", json={"xml": _xml(key), "owner": "olga"})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "draft" and r.json()["owner"] == "olga"
        problem(dev.post("/models", json={"xml": _xml(key)}), 409, "lifecycle.exists")
        extra = '<sequenceFlow id="f3" sourceRef="t2" targetRef="e"/><userTask id="t2" name="Two"/>'
        r = dev.put(f"/models/{key}/draft", json={"xml": _xml(key, "Check twice", "t2", extra)})
        assert r.status_code == 200 and r.json()["latest_version"] == 2
        d = dev.get(f"/models/{key}/diff").json()
        assert d["from"] == 1 and d["to"] == 2
        assert {a["id"] for a in d["added"]} == {"f3", "t2"}
        assert d["removed"] == []
        changed = {c["id"]: c for c in d["changed"]}
        assert changed["t"]["attributes"]["name"] == {"from": "Check", "to": "Check twice"}
        assert changed["f2"]["attributes"]["targetRef"] == {"from": "e", "to": "t2"}
        # mallory and the future reviewer cannot see a model before they are asked
        with server.client("mallory") as m:
            problem(m.get(f"/models/{key}"), 404)
        problem(bob.get(f"/models/{key}"), 404)
        r = dev.post(f"/models/{key}/submit", json={"reviewers": ["bob"]})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "review"
        problem(dev.put(f"/models/{key}/draft", json={"xml": _xml(key)}), 409, "lifecycle.state")
        # the review runs on the engine as a user task for bob
        task = r.json()["open_task"]
        assert task["element_id"] == "review"
        assert task["id"] in {
            t["id"]
            for t in bob.get("/tasks", params={"candidate": True, "limit": 1000}).json()["items"]
        }
        assert (
            bob.post(f"/models/{key}/comments", json={"text": "name the second task"}).status_code
            == 201
        )
        problem(olga.post(f"/models/{key}/approval", json={"approve": True}), 409)
        r = bob.post(f"/models/{key}/review", json={"approve": True, "comment": "ok"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approval"
        assert r.json()["open_task"]["assignee"] == "olga"
        # bob is done: the model is no longer visible to him
        problem(bob.post(f"/models/{key}/approval", json={"approve": True}), 404)
        problem(dev.post(f"/models/{key}/approval", json={"approve": True}), 403)
        r = olga.post(f"/models/{key}/approval", json={"approve": True, "comment": "go"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "published" and body["published_version"] == 2
        defs = dev.get("/definitions", params={"key": key}).json()["items"]
        assert [d["version"] for d in defs] == [1]
        events = dev.get(f"/models/{key}/events").json()["items"]
        assert [(e["kind"], e["actor"]) for e in events] == [
            ("draft", "dev"),
            ("draft", "dev"),
            ("submitted", "dev"),
            ("comment", "bob"),
            ("review_passed", "bob"),
            ("approved", "olga"),
            ("published", "olga"),
        ]
        # the lifecycle instance ran to its "published" end on the engine
        with server.client("admin") as admin:
            hist = admin.get(
                "/history",
                params={"instance_id": body["instance_id"], "kind": "activity_end", "limit": 100},
            ).json()
            assert "published" in {e["element_id"] for e in hist["items"]}


def test_lint_gate_and_changes_requested(server: Server) -> None:
    key = f"order_l{uuid.uuid4().hex[:6]}"
    with server.client("dev") as dev, server.client("bob") as bob:
        r = dev.post("/models", json={"xml": _xml(key, target="nowhere")})
        assert r.status_code == 201
        assert r.json()["problems"]
        lint = dev.get(f"/models/{key}/lint").json()
        assert lint["publishable"] is False
        body = problem(
            dev.post(f"/models/{key}/submit", json={"reviewers": ["bob"]}), 422, "bpmn.validation"
        )
        assert body["details"]["problems"]
        assert dev.put(f"/models/{key}/draft", json={"xml": _xml(key)}).status_code == 200
        assert dev.get(f"/models/{key}/lint").json()["publishable"] is True
        assert (
            dev.post(
                f"/models/{key}/submit", json={"reviewer_groups": ["service-desk"]}
            ).status_code
            == 200
        )
        r = bob.post(f"/models/{key}/review", json={"approve": False, "comment": "rename"})
        assert r.status_code == 200 and r.json()["status"] == "draft"
        assert r.json()["open_task"] is None
        xml = dev.get(f"/models/{key}/versions/2/xml")
        assert xml.headers["content-type"].startswith("application/xml")
        assert key in xml.text
