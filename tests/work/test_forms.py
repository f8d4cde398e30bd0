"""Task forms validated on the server: form-js (deployed, embedded, registered) and JSON Schema;
a bad submission lists every field error and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from liucheng.errors import ValidationError

from .conftest import World, bpmn, user_task_process

FORM_JS = {
    "id": "refund-form",
    "type": "default",
    "components": [
        {"type": "text", "text": "# Refund"},
        {
            "type": "textfield",
            "key": "reason",
            "label": "Reason",
            "validate": {"required": True, "minLength": 5},
        },
        {
            "type": "number",
            "key": "amount",
            "label": "Amount",
            "validate": {"required": True, "min": 1, "max": 500},
        },
        {"type": "checkbox", "key": "approved", "label": "Approved"},
        {
            "type": "select",
            "key": "channel",
            "label": "Channel",
            "values": [{"label": "Mail", "value": "mail"}, {"label": "Phone", "value": "phone"}],
        },
        {
            "type": "radio",
            "key": "speed",
            "label": "Speed",
            "validate": {"required": True},
            "values": [{"label": "Normal", "value": "normal"}, {"label": "Fast", "value": "fast"}],
        },
        {"type": "datetime", "key": "when", "label": "When", "subtype": "date"},
        {
            "type": "textarea",
            "key": "iban",
            "label": "IBAN",
            "validate": {"pattern": "[A-Z]{2}[0-9]{2}[A-Z0-9]+"},
        },
        {
            "type": "group",
            "components": [
                {
                    "type": "textfield",
                    "key": "email",
                    "label": "E-mail",
                    "validate": {"validationType": "email"},
                }
            ],
        },
    ],
}

BAD = {
    "reason": "no",
    "amount": 900,
    "approved": "yes",
    "channel": "fax",
    "when": "tomorrow",
    "iban": "x",
    "email": "nobody",
}
GOOD = {
    "reason": "broken on arrival",
    "amount": 120,
    "approved": True,
    "channel": "mail",
    "speed": "fast",
    "when": "2025-03-04",
    "iban": "DE44500105175407324931",
    "email": "kim@example.org",
}


def _assert_rejected_unchanged(w: World, tid: str, pid: str, data: dict[str, Any]) -> list[Any]:
    before_vars = w.engine.variables(pid)
    before_hist = len(w.engine.history(instance_id=pid))
    with pytest.raises(ValidationError) as exc:
        w.engine.complete_task(tid, data)
    assert exc.value.code == "engine.form.rejected"
    assert w.engine.get_task(tid) is not None
    assert w.engine.variables(pid) == before_vars
    assert len(w.engine.history(instance_id=pid)) == before_hist
    errors: list[Any] = exc.value.details["errors"]
    return errors


def test_form_js_deployed_lists_every_error(world: Any, reload_midway: bool) -> None:
    w: World = world()
    doc = user_task_process('camunda:formKey="camunda-forms:deployment:refund.form"')
    w.engine.deploy([("p.bpmn", doc), ("refund.form", json.dumps(FORM_JS).encode())])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    if reload_midway:
        w.reload()
    assert w.engine.task_form(tid) == FORM_JS
    errors = _assert_rejected_unchanged(w, tid, pid, BAD)
    fields = sorted(e["field"] for e in errors)
    assert fields == sorted(
        ["reason", "amount", "approved", "channel", "speed", "when", "iban", "email"]
    )
    assert all(e["message"] for e in errors)
    w.engine.complete_task(tid, GOOD)
    assert w.engine.is_ended(pid)


def test_zeebe_embedded_form_and_form_id(world: Any) -> None:
    w: World = world()
    small = {
        "components": [
            {"type": "number", "key": "n", "label": "N", "validate": {"required": True, "max": 3}}
        ]
    }
    embedded = (
        '<extensionElements><zeebe:userTaskForm id="UserTaskForm_1">'
        + json.dumps(small).replace("&", "&amp;").replace("<", "&lt;")
        + "</zeebe:userTaskForm></extensionElements>"
    )
    doc = bpmn(
        embedded + '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<userTask id="t"><extensionElements>'
        '<zeebe:formDefinition formKey="camunda-forms:bpmn:UserTaskForm_1"/>'
        "</extensionElements></userTask>"
        '<sequenceFlow id="f2" sourceRef="t" targetRef="u"/>'
        '<userTask id="u"><extensionElements><zeebe:formDefinition formId="refund-form"/>'
        "</extensionElements></userTask>"
        '<sequenceFlow id="f3" sourceRef="u" targetRef="e"/><endEvent id="e"/>'
    )
    w.engine.deploy([("p.bpmn", doc), ("forms/refund.form", json.dumps(FORM_JS).encode())])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    errors = _assert_rejected_unchanged(w, tid, pid, {"n": 7})
    assert errors == [{"field": "n", "message": "N must be at most 3"}]
    w.engine.complete_task(tid, {"n": 2})
    uid = w.engine.tasks(instance_id=pid)[0].id
    assert w.engine.task_form(uid) == FORM_JS
    _assert_rejected_unchanged(w, uid, pid, {})


def test_json_schema_form(world: Any, reload_midway: bool) -> None:
    w: World = world()
    schema = {
        "type": "object",
        "required": ["decision", "note"],
        "properties": {
            "decision": {"enum": ["approve", "reject"]},
            "amount": {"type": "number", "minimum": 0},
            "note": {"type": "string", "minLength": 3},
        },
    }
    doc = user_task_process('camunda:formKey="deployment:approval.schema.json"')
    w.engine.deploy([("p.bpmn", doc), ("approval.schema.json", json.dumps(schema).encode())])
    pid = w.engine.start_process("p")
    if reload_midway:
        w.reload()
    tid = w.engine.tasks(instance_id=pid)[0].id
    errors = _assert_rejected_unchanged(w, tid, pid, {"decision": "maybe", "amount": -1})
    assert sorted(e["field"] for e in errors) == ["amount", "decision", "note"]
    w.engine.complete_task(tid, {"decision": "approve", "note": "ok!"})
    assert w.engine.is_ended(pid)


def test_registered_form_and_external_form(world: Any) -> None:
    w: World = world()
    w.engine.register_form(
        "app:check",
        {
            "components": [
                {"type": "checkbox", "key": "ok", "label": "OK", "validate": {"required": True}}
            ]
        },
    )
    w.engine.deploy(
        [
            ("p.bpmn", user_task_process('camunda:formKey="app:check"')),
            ("q.bpmn", user_task_process('camunda:formKey="https://forms.example.org/x"', "q")),
        ]
    )
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    assert _assert_rejected_unchanged(w, tid, pid, {}) == [
        {"field": "ok", "message": "OK is required"}
    ]
    w.engine.complete_task(tid, {"ok": False})
    qid = w.engine.start_process("q")
    qtid = w.engine.tasks(instance_id=qid)[0].id
    assert w.engine.task_form(qtid) is None  # an external form: nothing to check
    w.engine.complete_task(qtid, {"anything": 1})


def test_camunda_form_ref_finds_the_latest_deployed_form(world: Any) -> None:
    w: World = world()
    w.engine.deploy([("p.bpmn", user_task_process('camunda:formRef="refund-form"'))])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    with pytest.raises(ValidationError) as exc:
        w.engine.complete_task(tid, GOOD)
    assert exc.value.code == "engine.form.not_found"
    w.engine.deploy([("refund.form", json.dumps(FORM_JS).encode())])  # deployed on its own
    assert w.engine.task_form(tid) == FORM_JS
    _assert_rejected_unchanged(w, tid, pid, BAD)
    w.engine.complete_task(tid, GOOD)
    assert w.engine.is_ended(pid)
