"""``POST /process-instances`` with ``version_tag``: the one version carrying that
``camunda:versionTag`` starts (Camunda's start by key and version tag); ``PATCH …/variables``
with ``remove`` (Camunda's ``deletions``)."""

from __future__ import annotations

import uuid

from tests.api.conftest import Server, problem


def _model(key: str, tag: str, task: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="t">'
        f'<process id="{key}" isExecutable="true" camunda:versionTag="{tag}">'
        f'<startEvent id="s"/><userTask id="{task}"/>'
        f'<sequenceFlow id="f" sourceRef="s" targetRef="{task}"/></process></definitions>'
    ).encode()


def test_start_by_version_tag(server: Server) -> None:
    key = f"tagged_{uuid.uuid4().hex[:8]}"
    with server.client("admin") as admin:
        for tag, task in (("1.0", "first"), ("2.0", "second")):
            r = admin.post(
                "/deployments", files={"f": (f"{key}.bpmn", _model(key, tag, task), "text/xml")}
            )
            assert r.status_code == 201, r.text
            assert r.json()["definitions"][0]["version_tag"] == tag
        r = admin.post(
            "/process-instances",
            json={"key": key, "version_tag": "1.0", "variables": {"a": 1, "b": 2}},
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = admin.get("/tasks", params={"instance_id": pid})
        assert [t["element_id"] for t in r.json()["items"]] == ["first"]
        r = admin.patch(
            f"/process-instances/{pid}/variables", json={"variables": {"c": 3}, "remove": ["a"]}
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"b": 2, "c": 3}
        r = admin.post("/process-instances", json={"key": key, "version_tag": "3.0"})
        problem(r, 404, "engine.definition.version_tag_unknown")
