"""Token flow: gateways, tasks, scripts, handlers, subprocesses, mappings, multi-instance."""

from __future__ import annotations

import pytest

from liucheng.engine import HandlerContext
from liucheng.errors import EngineError

from .helpers import bpmn, completed, engine_with, flows

XOR = bpmn(
    '<startEvent id="s"/><exclusiveGateway id="g" default="fd"/>'
    '<userTask id="a"/><userTask id="b"/><endEvent id="e"/>'
    + flows("s->g", "g->a:x &gt; 10", "a->e", "b->e")
    + '<sequenceFlow id="fd" sourceRef="g" targetRef="b"/>'
)


def test_exclusive_gateway_condition_and_default() -> None:
    engine, _, store = engine_with(XOR)
    big = engine.start_process("p", {"x": 11})
    small = engine.start_process("p", {"x": 1})
    assert engine.active_elements(big) == ["a"]
    assert engine.active_elements(small) == ["b"]
    task = engine.tasks(instance_id=small)[0]
    engine.complete_task(task.id, {"done": True})
    assert engine.is_ended(small)
    assert completed(store, small) == ["s", "g", "b", "e"]


def test_no_flow_fails_and_leaves_store_unchanged() -> None:
    doc = bpmn(
        '<startEvent id="s"/><exclusiveGateway id="g"/><userTask id="a"/>'
        + flows("s->g", "g->a:x = 1")
    )
    engine, _, store = engine_with(doc)
    before = (
        dict(store.instances),
        {k: dict(v) for k, v in store.rows.items()},
        store.history_count,
    )
    with pytest.raises(EngineError) as err:
        engine.start_process("p", {"x": 2})
    assert err.value.element_id == "g"
    assert err.value.code == "engine.flow.none"
    after = (
        dict(store.instances),
        {k: dict(v) for k, v in store.rows.items()},
        store.history_count,
    )
    assert after == before


def test_parallel_fork_and_join_fire_once() -> None:
    doc = bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="a"/><userTask id="b"/>'
        '<parallelGateway id="join"/><scriptTask id="after" scriptFormat="feel" '
        'camunda:resultVariable="n"><script>n + 1</script></scriptTask><endEvent id="e"/>'
        + flows("s->fork", "fork->a", "fork->b", "a->join", "b->join", "join->after", "after->e")
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p", {"n": 0})
    assert sorted(engine.active_elements(pid)) == ["a", "b"]
    first, second = engine.tasks(instance_id=pid)
    engine.complete_task(first.id)
    assert not engine.is_ended(pid)
    assert engine.active_elements(pid) == [second.element_id]
    engine.complete_task(second.id)
    assert engine.is_ended(pid)
    assert completed(store, pid).count("join") == 1
    assert completed(store, pid).count("after") == 1


def test_inclusive_split_and_join_wait_for_taken_branches_only() -> None:
    doc = bpmn(
        '<startEvent id="s"/><inclusiveGateway id="split"/><userTask id="a"/><userTask id="b"/>'
        '<userTask id="c"/><inclusiveGateway id="join"/><userTask id="z"/>'
        + flows(
            "s->split",
            "split->a:x &gt; 0",
            "split->b:x &gt; 1",
            "split->c:x &gt; 2",
            "a->join",
            "b->join",
            "c->join",
            "join->z",
        )
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"x": 2})
    assert sorted(engine.active_elements(pid)) == ["a", "b"]
    engine.complete_task(engine.tasks(instance_id=pid, element_id="a")[0].id)
    assert engine.active_elements(pid) == ["b"]
    engine.complete_task(engine.tasks(instance_id=pid, element_id="b")[0].id)
    assert engine.active_elements(pid) == ["z"]


def test_script_result_variable_and_context_merge() -> None:
    doc = bpmn(
        '<startEvent id="s"/>'
        '<scriptTask id="t1" scriptFormat="feel" camunda:resultVariable="total">'
        "<script>sum(items)</script></scriptTask>"
        '<scriptTask id="t2" scriptFormat="feel"><script>{half: total / 2, label: "x"}</script>'
        '</scriptTask><userTask id="w"/>' + flows("s->t1", "t1->t2", "t2->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"items": [1, 2, 3, 4]})
    v = engine.variables(pid)
    assert v["total"] == 10
    assert v["half"] == 5
    assert v["label"] == "x"


def test_user_task_assignment_from_feel_and_literals() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t" name="Check" camunda:assignee="=owner" '
        'camunda:candidateGroups="sales, support" camunda:candidateUsers="=[&quot;ann&quot;]"/>'
        + flows("s->t")
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p", {"owner": "bob"})
    (task,) = engine.tasks(instance_id=pid)
    assert (task.assignee, task.candidate_groups, task.candidate_users) == (
        "bob",
        ["sales", "support"],
        ["ann"],
    )
    assert task.name == "Check"
    engine.assign_task(task.id, "carl", actor="admin")
    assert engine.tasks(instance_id=pid)[0].assignee == "carl"
    kinds = [h.kind for h in store.history if h.instance_id == pid]
    assert "task_create" in kinds
    assert "task_assign" in kinds


def test_service_handler_sets_variables_and_gets_idempotency_key() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="svc" camunda:class="charge"/><userTask id="w"/>'
        + flows("s->svc", "svc->w")
    )
    engine, _, _ = engine_with(doc)
    keys: list[str] = []

    def charge(ctx: HandlerContext) -> dict[str, object]:
        keys.append(ctx.idempotency_key)
        return {"charged": ctx.variables["amount"] * 2}

    engine.register_handler("charge", charge)
    pid = engine.start_process("p", {"amount": 21})
    assert engine.variables(pid)["charged"] == 42
    assert len(keys) == 1
    assert pid in keys[0]


def test_failing_handler_opens_incident_and_resolving_retries() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="svc" camunda:class="flaky"/><userTask id="w"/>'
        + flows("s->svc", "svc->w")
    )
    engine, _, _ = engine_with(doc)
    calls = {"n": 0}

    def flaky(ctx: HandlerContext) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("backend down")

    engine.register_handler("flaky", flaky)
    pid = engine.start_process("p", {"k": 1})
    (inc,) = engine.incidents(instance_id=pid)
    assert inc.element_id == "svc"
    assert "backend down" in inc.message
    assert inc.variables == {"k": 1}
    assert engine.get_instance(pid).has_incident  # type: ignore[union-attr]
    engine.resolve_incident(inc.id)
    assert engine.incidents(instance_id=pid) == []
    assert engine.active_elements(pid) == ["w"]
    assert calls["n"] == 2


def test_external_task_lifecycle() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="x" camunda:type="external" camunda:topic="pay"/>'
        '<userTask id="w"/>' + flows("s->x", "x->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"amount": 5})
    (locked,) = engine.fetch_and_lock("pay", "w1")
    assert locked.variables == {"amount": 5}
    assert engine.fetch_and_lock("pay", "w2") == []  # locked by w1
    with pytest.raises(EngineError):
        engine.complete_external_task(locked.id, "w2")
    engine.fail_external_task(locked.id, "w1", "boom", retries=0)
    (inc,) = engine.incidents(instance_id=pid)
    assert inc.external_task_id == locked.id
    assert engine.fetch_and_lock("pay", "w1") == []  # no retries left
    engine.resolve_incident(inc.id)
    (again,) = engine.fetch_and_lock("pay", "w1")
    engine.complete_external_task(again.id, "w1", {"paid": True})
    assert engine.variables(pid)["paid"] is True
    assert engine.active_elements(pid) == ["w"]
    assert engine.incidents(instance_id=pid) == []


def test_embedded_subprocess_with_io_mappings_and_local_scope() -> None:
    doc = bpmn(
        '<startEvent id="s"/><subProcess id="sub"><extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="local">x * 10</camunda:inputParameter>'
        '<camunda:outputParameter name="out">local + 1</camunda:outputParameter>'
        "</camunda:inputOutput></extensionElements>"
        '<startEvent id="ss"/><userTask id="inner"/><endEvent id="se"/>'
        '<sequenceFlow id="i1" sourceRef="ss" targetRef="inner"/>'
        '<sequenceFlow id="i2" sourceRef="inner" targetRef="se"/></subProcess>'
        '<userTask id="after"/>' + flows("s->sub", "sub->after")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"x": 2})
    assert "local" not in engine.variables(pid)
    inner = next(a for a in engine.activity_instances(pid) if a.element_id == "sub")
    assert inner.variables == {"local": 20}
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    v = engine.variables(pid)
    assert v["out"] == 21
    assert "local" not in v


def test_terminate_end_event_cancels_other_branches() -> None:
    doc = bpmn(
        '<startEvent id="s"/><parallelGateway id="f"/><userTask id="a"/><userTask id="b"/>'
        '<endEvent id="t"><terminateEventDefinition/></endEvent>'
        + flows("s->f", "f->a", "f->b", "a->t")
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p")
    engine.complete_task(engine.tasks(instance_id=pid, element_id="a")[0].id)
    assert engine.is_ended(pid)
    assert engine.tasks() == []
    assert "b" not in completed(store, pid)


def test_call_activity_maps_variables_and_business_key() -> None:
    child = bpmn(
        '<startEvent id="cs"/><userTask id="ct"/><endEvent id="ce"/>' + flows("cs->ct", "ct->ce"),
        pid="child",
    )
    parent = bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"><extensionElements>'
        '<camunda:in source="a" target="ca"/><camunda:in businessKey="=bk"/>'
        '<camunda:out source="cr" target="r"/></extensionElements></callActivity>'
        '<userTask id="w"/>' + flows("s->call", "call->w")
    )
    engine, _, _ = engine_with(child, parent)
    pid = engine.start_process("p", {"a": 1, "bk": "order-7"})
    (sub,) = [i for i in engine.instances(root_id=pid) if i.id != pid]
    assert sub.business_key == "order-7"
    assert sub.parent_id == pid
    assert engine.variables(sub.id) == {"ca": 1}
    assert engine.active_elements(pid) == ["ct"]
    engine.complete_task(engine.tasks(instance_id=sub.id)[0].id, {"cr": "done"})
    assert engine.is_ended(sub.id)
    assert engine.variables(pid)["r"] == "done"
    assert engine.active_elements(pid) == ["w"]


@pytest.mark.parametrize("sequential", [False, True])
def test_multi_instance_collection_output_and_counters(sequential: bool) -> None:
    seq = "true" if sequential else "false"
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t" camunda:assignee="=item">'
        f'<multiInstanceLoopCharacteristics isSequential="{seq}" camunda:collection="people" '
        'camunda:elementVariable="item"/></userTask><userTask id="w"/>' + flows("s->t", "t->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"people": ["ann", "bob", "cy"]})
    expected_open = 1 if sequential else 3
    assert len(engine.tasks(instance_id=pid)) == expected_open
    body = next(a for a in engine.activity_instances(pid) if a.multi_instance_body)
    assert body.variables["nrOfInstances"] == 3
    order = []
    while engine.tasks(instance_id=pid, element_id="t"):
        t = engine.tasks(instance_id=pid, element_id="t")[0]
        order.append(t.assignee)
        engine.complete_task(t.id)
    assert order == ["ann", "bob", "cy"]
    assert engine.active_elements(pid) == ["w"]


def test_multi_instance_output_collection_zeebe_style() -> None:
    doc = bpmn(
        '<startEvent id="s"/><scriptTask id="t" scriptFormat="feel" '
        'camunda:resultVariable="answer"><multiInstanceLoopCharacteristics><extensionElements>'
        '<zeebe:loopCharacteristics inputCollection="=items" inputElement="x" '
        'outputCollection="out" outputElement="=answer"/></extensionElements>'
        "</multiInstanceLoopCharacteristics><script>x * 2</script></scriptTask>"
        '<userTask id="w"/>' + flows("s->t", "t->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"items": [1, 2, 3]})
    assert engine.variables(pid)["out"] == [2, 4, 6]


def test_standard_loop_repeats_while_condition_holds() -> None:
    doc = bpmn(
        '<startEvent id="s"/><scriptTask id="t" scriptFormat="feel" camunda:resultVariable="n">'
        "<standardLoopCharacteristics><loopCondition>n &lt; 5</loopCondition>"
        '</standardLoopCharacteristics><script>n + 1</script></scriptTask><userTask id="w"/>'
        + flows("s->t", "t->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"n": 0})
    assert engine.variables(pid)["n"] == 5


def test_async_before_and_after_make_jobs() -> None:
    doc = bpmn(
        '<startEvent id="s"/><scriptTask id="t" scriptFormat="feel" camunda:asyncBefore="true" '
        'camunda:asyncAfter="true" camunda:resultVariable="r"><script>1</script></scriptTask>'
        '<endEvent id="e"/>' + flows("s->t", "t->e")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    (job,) = engine.jobs(instance_id=pid)
    assert job.kind == "async-before"
    assert engine.execute_job(job.id)
    (job2,) = engine.jobs(instance_id=pid)
    assert job2.kind == "async-after"
    assert engine.variables(pid)["r"] == 1
    assert engine.run_due_jobs() == 1
    assert engine.is_ended(pid)


def test_start_by_version_and_migrate() -> None:
    v1 = bpmn('<startEvent id="s"/><userTask id="a"/>' + flows("s->a"))
    v2 = bpmn('<startEvent id="s"/><userTask id="a2"/><userTask id="b"/>' + flows("s->a2", "a2->b"))
    engine, _, _ = engine_with(v1)
    engine.deploy(("v2.bpmn", v2))
    old = engine.start_process("p", version=1)
    new = engine.start_process("p")
    assert engine.active_elements(old) == ["a"]
    assert engine.active_elements(new) == ["a2"]
    target = engine.definitions("p")[-1]
    assert target.version == 2
    engine.migrate(old, target.id, {"a": "a2"})
    assert engine.active_elements(old) == ["a2"]
    assert engine.tasks(instance_id=old)[0].element_id == "a2"
    engine.complete_task(engine.tasks(instance_id=old)[0].id)
    assert engine.active_elements(old) == ["b"]


def test_modify_and_cancel() -> None:
    doc = bpmn('<startEvent id="s"/><userTask id="a"/><userTask id="b"/>' + flows("s->a", "a->b"))
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    engine.modify(pid, start_before=["b"], cancel=["a"])
    assert engine.active_elements(pid) == ["b"]
    engine.cancel_instance(pid)
    assert engine.is_ended(pid)
    assert engine.tasks() == []


DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <inputData id="amount" name="amount"/>
  <decision id="prio" name="prio">
    <informationRequirement id="ir"><requiredInput href="#amount"/></informationRequirement>
    <decisionTable id="dt" hitPolicy="UNIQUE">
      <input id="i1"><inputExpression id="ie1" typeRef="number"><text>amount</text>
      </inputExpression></input>
      <output id="o1" name="level" typeRef="string"/>
      <rule id="r1"><inputEntry id="e1"><text>&gt; 100</text></inputEntry>
        <outputEntry id="oe1"><text>"high"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="e2"><text>&lt;= 100</text></inputEntry>
        <outputEntry id="oe2"><text>"low"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def test_business_rule_task_evaluates_deployed_decision() -> None:
    doc = bpmn(
        '<startEvent id="s"/><businessRuleTask id="r" camunda:decisionRef="prio" '
        'camunda:resultVariable="level" camunda:mapDecisionResult="singleEntry"/>'
        '<userTask id="w"/>' + flows("s->r", "r->w")
    )
    engine, _, _ = engine_with()
    dep = engine.deploy([("p.bpmn", doc), ("prio.dmn", DMN)])
    assert {d.kind for d in dep.definitions} == {"bpmn", "dmn"}
    high = engine.start_process("p", {"amount": 150})
    low = engine.start_process("p", {"amount": 50})
    assert engine.variables(high)["level"] == "high"
    assert engine.variables(low)["level"] == "low"


def test_unknown_decision_opens_incident() -> None:
    doc = bpmn(
        '<startEvent id="s"/><businessRuleTask id="r" camunda:decisionRef="nope" '
        'camunda:resultVariable="level"/><userTask id="w"/>' + flows("s->r", "r->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    (inc,) = engine.incidents(instance_id=pid)
    assert inc.element_id == "r"
    assert "not deployed" in inc.message


def test_user_task_due_date_priority_and_form() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t" camunda:dueDate="2025-02-01T09:00:00Z" '
        'camunda:priority="=urgency * 10" camunda:formKey="forms/check"/>' + flows("s->t")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"urgency": 7})
    (task,) = engine.tasks(instance_id=pid)
    assert task.due_at is not None
    assert task.due_at.isoformat() == "2025-02-01T09:00:00+00:00"
    assert task.priority == 70
    assert task.form_key == "forms/check"


def test_loop_without_wait_state_is_stopped_cleanly() -> None:
    doc = bpmn(
        '<startEvent id="s"/><exclusiveGateway id="g"/><manualTask id="t"/>'
        + flows("s->g", "g->t", "t->g")
    )
    engine, _, store = engine_with(doc)
    engine.max_steps = 10_000
    with pytest.raises(EngineError) as err:
        engine.start_process("p")
    assert err.value.code == "engine.runaway"
    assert store.instances == {}


def test_modify_starts_inside_a_subprocess_that_is_not_active() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="a"/><subProcess id="sub"><startEvent id="ss"/>'
        '<userTask id="x"/><userTask id="y"/><sequenceFlow id="i1" sourceRef="ss" targetRef="x"/>'
        '<sequenceFlow id="i2" sourceRef="x" targetRef="y"/></subProcess><endEvent id="e"/>'
        + flows("s->a", "a->sub", "sub->e")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    engine.modify(pid, cancel=["a"], start_before=["y"])
    assert engine.active_elements(pid) == ["y"]
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.is_ended(pid)


def test_input_parameter_list_and_map_structures() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"><extensionElements><camunda:inputOutput>'
        '<camunda:inputParameter name="l"><camunda:list><camunda:value>a</camunda:value>'
        "<camunda:value>=x + 1</camunda:value></camunda:list></camunda:inputParameter>"
        '<camunda:inputParameter name="m"><camunda:map><camunda:entry key="k">=x * 2'
        "</camunda:entry></camunda:map></camunda:inputParameter>"
        "</camunda:inputOutput></extensionElements></userTask>" + flows("s->t")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"x": 4})
    task = next(a for a in engine.activity_instances(pid) if a.element_id == "t")
    assert task.variables == {"l": ["a", 5], "m": {"k": 8}}
