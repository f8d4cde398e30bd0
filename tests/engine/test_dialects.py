"""The Zeebe (Camunda 8) dialect: task definitions, I/O mappings, subscriptions, call activities,
assignments and FEEL scripts."""

from __future__ import annotations

from .helpers import bpmn, engine_with, flows


def test_zeebe_model_runs_as_modelled() -> None:
    child = bpmn(
        '<startEvent id="cs"/><scriptTask id="calc"><extensionElements>'
        '<zeebe:script expression="=amount * 2" resultVariable="doubled"/></extensionElements>'
        '</scriptTask><endEvent id="ce"/>' + flows("cs->calc", "calc->ce"),
        pid="child",
    )
    parent = bpmn(
        '<startEvent id="s"/>'
        '<serviceTask id="svc"><extensionElements><zeebe:taskDefinition type="=&quot;pay-&quot; + region" '
        'retries="5"/><zeebe:ioMapping><zeebe:input source="=amount + 1" target="toPay"/>'
        '<zeebe:output source="=receipt" target="receiptId"/></zeebe:ioMapping>'
        "</extensionElements></serviceTask>"
        '<userTask id="review"><extensionElements><zeebe:assignmentDefinition '
        'assignee="=reviewer" candidateGroups="finance"/></extensionElements></userTask>'
        '<intermediateCatchEvent id="wait"><messageEventDefinition messageRef="m"/>'
        "</intermediateCatchEvent>"
        '<callActivity id="call"><extensionElements><zeebe:calledElement processId="child" '
        'propagateAllChildVariables="true"/></extensionElements></callActivity>'
        '<endEvent id="e"/>'
        + flows("s->svc", "svc->review", "review->wait", "wait->call", "call->e"),
        roots='<message id="m" name="confirmed"><extensionElements>'
        '<zeebe:subscription correlationKey="=orderId"/></extensionElements></message>',
    )
    engine, _, _ = engine_with(child, parent)
    pid = engine.start_process(
        "p", {"amount": 10, "region": "eu", "reviewer": "ann", "orderId": "o1"}
    )
    (locked,) = engine.fetch_and_lock("pay-eu", "w")
    assert locked.variables["toPay"] == 11
    assert engine.external_tasks(instance_id=pid)[0].retries == 5
    engine.complete_external_task(locked.id, "w", {"receipt": "R-1"})
    v = engine.variables(pid)
    assert v["receiptId"] == "R-1"
    assert "toPay" not in v
    (task,) = engine.tasks(instance_id=pid)
    assert (task.assignee, task.candidate_groups) == ("ann", ["finance"])
    engine.complete_task(task.id)
    assert engine.subscriptions(instance_id=pid)[0].correlation_key == "o1"
    engine.correlate_message("confirmed", "o1")
    assert engine.is_ended(pid)
    doubled = [
        h.data["value"]
        for h in engine.history(kind="variable", instance_id=pid)
        if h.data and h.data["name"] == "doubled"
    ]
    assert doubled == [20]
