"""Events: timers, messages (correlation keys, buffering), signals, errors, escalations,
conditions, event-based gateways, event subprocesses, compensation and start events."""

from __future__ import annotations

import datetime as dt

import pytest

from liucheng.engine import HandlerContext
from liucheng.errors import EngineError

from .helpers import bpmn, completed, engine_with, flows

MSG = '<message id="m1" name="paid"><extensionElements><zeebe:subscription correlationKey="=order"/></extensionElements></message>'


def test_boundary_timer_interrupts_after_its_duration() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"/><boundaryEvent id="tm" attachedToRef="t">'
        "<timerEventDefinition><timeDuration>=wait</timeDuration></timerEventDefinition>"
        '</boundaryEvent><userTask id="late"/><endEvent id="e"/>'
        + flows("s->t", "t->e", "tm->late")
    )
    engine, clock, store = engine_with(doc)
    pid = engine.start_process("p", {"wait": "PT2H"})
    (job,) = engine.jobs(instance_id=pid)
    assert job.due_at == clock.now() + dt.timedelta(hours=2)
    clock.advance(dt.timedelta(minutes=119))
    assert engine.run_due_jobs() == 0
    clock.advance(dt.timedelta(minutes=1))
    assert engine.run_due_jobs() == 1
    assert engine.active_elements(pid) == ["late"]
    assert engine.jobs(instance_id=pid) == []
    assert "t" not in completed(store, pid)


def test_non_interrupting_cycle_timer_fires_each_period() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"/><boundaryEvent id="tm" attachedToRef="t" '
        'cancelActivity="false"><timerEventDefinition><timeCycle>R2/PT10M</timeCycle>'
        '</timerEventDefinition></boundaryEvent><userTask id="remind"/>'
        + flows("s->t", "tm->remind")
    )
    engine, clock, _ = engine_with(doc)
    pid = engine.start_process("p")
    for _ in range(3):
        clock.advance(dt.timedelta(minutes=10))
        engine.run_due_jobs()
    assert sorted(engine.active_elements(pid)) == ["remind", "remind", "t"]
    assert engine.jobs(instance_id=pid) == []


def test_message_correlation_key_and_payload() -> None:
    doc = bpmn(
        '<startEvent id="s"/><intermediateCatchEvent id="c"><messageEventDefinition '
        'messageRef="m1"/></intermediateCatchEvent><userTask id="w"/>' + flows("s->c", "c->w"),
        roots=MSG,
    )
    engine, _, _ = engine_with(doc)
    a = engine.start_process("p", {"order": "A"})
    b = engine.start_process("p", {"order": "B"})
    with pytest.raises(EngineError):
        engine.correlate_message("paid", "C")
    assert engine.correlate_message("paid", "B", {"amount": 3}) == b
    assert engine.active_elements(b) == ["w"]
    assert engine.variables(b)["amount"] == 3
    assert engine.active_elements(a) == ["c"]


def test_message_buffered_with_ttl_reaches_later_subscription() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="before"/><intermediateCatchEvent id="c">'
        '<messageEventDefinition messageRef="m1"/></intermediateCatchEvent><userTask id="w"/>'
        + flows("s->before", "before->c", "c->w"),
        roots=MSG,
    )
    engine, clock, _ = engine_with(doc)
    pid = engine.start_process("p", {"order": "A"})
    assert engine.correlate_message("paid", "A", {"x": 1}, ttl=dt.timedelta(hours=1)) is None
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.active_elements(pid) == ["w"]
    assert engine.variables(pid)["x"] == 1
    # an expired message is not delivered
    other = engine.start_process("p", {"order": "B"})
    engine.correlate_message("paid", "B", ttl=dt.timedelta(minutes=1))
    clock.advance(dt.timedelta(minutes=2))
    engine.complete_task(engine.tasks(instance_id=other)[0].id)
    assert engine.active_elements(other) == ["c"]


def test_message_and_signal_start_events() -> None:
    doc = bpmn(
        '<startEvent id="ms"><messageEventDefinition messageRef="m9"/></startEvent>'
        '<startEvent id="ss"><signalEventDefinition signalRef="s9"/></startEvent>'
        '<userTask id="w"/>' + flows("ms->w", "ss->w"),
        roots='<message id="m9" name="order-in"/><signal id="s9" name="go"/>',
    )
    engine, _, store = engine_with(doc)
    pid = engine.correlate_message("order-in", variables={"n": 1})
    assert pid is not None
    assert engine.variables(pid) == {"n": 1}
    engine.broadcast_signal("go")
    assert len(engine.instances(key="p")) == 2
    assert completed(store).count("ss") == 1


def test_signal_reaches_every_waiting_instance() -> None:
    doc = bpmn(
        '<startEvent id="s"/><intermediateCatchEvent id="c"><signalEventDefinition '
        'signalRef="sg"/></intermediateCatchEvent><endEvent id="e"/>' + flows("s->c", "c->e"),
        roots='<signal id="sg" name="alert"/>',
    )
    engine, _, _ = engine_with(doc)
    ids = [engine.start_process("p") for _ in range(3)]
    engine.broadcast_signal("alert", {"why": "test"})
    assert all(engine.is_ended(i) for i in ids)


def test_error_from_handler_caught_by_boundary() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="svc" camunda:class="check"/>'
        '<boundaryEvent id="err" attachedToRef="svc"><errorEventDefinition errorRef="e1"/>'
        '</boundaryEvent><userTask id="fix"/><endEvent id="e"/>'
        + flows("s->svc", "svc->e", "err->fix"),
        roots='<error id="e1" errorCode="INVALID"/>',
    )
    engine, _, store = engine_with(doc)

    def check(ctx: HandlerContext) -> None:
        ctx.bpmn_error("INVALID", {"reason": "bad"})

    engine.register_handler("check", check)
    pid = engine.start_process("p")
    assert engine.active_elements(pid) == ["fix"]
    assert engine.variables(pid)["reason"] == "bad"
    assert "svc" not in completed(store, pid)


def test_error_end_event_caught_by_event_subprocess_of_the_subprocess() -> None:
    doc = bpmn(
        '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
        '<endEvent id="boom"><errorEventDefinition errorRef="e1"/></endEvent>'
        '<sequenceFlow id="i1" sourceRef="ss" targetRef="boom"/>'
        '<subProcess id="esp" triggeredByEvent="true"><startEvent id="es">'
        '<errorEventDefinition errorRef="e1"/></startEvent><userTask id="handle"/>'
        '<sequenceFlow id="i2" sourceRef="es" targetRef="handle"/></subProcess>'
        '</subProcess><boundaryEvent id="outer" attachedToRef="sub"><errorEventDefinition/>'
        '</boundaryEvent><userTask id="after"/><userTask id="viaBoundary"/>'
        + flows("s->sub", "sub->after", "outer->viaBoundary"),
        roots='<error id="e1" errorCode="E1"/>',
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    assert engine.active_elements(pid) == ["handle"]
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.active_elements(pid) == ["after"]


def test_escalation_non_interrupting_boundary() -> None:
    doc = bpmn(
        '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
        '<intermediateThrowEvent id="esc"><escalationEventDefinition escalationRef="x"/>'
        '</intermediateThrowEvent><userTask id="inner"/>'
        '<sequenceFlow id="i1" sourceRef="ss" targetRef="esc"/>'
        '<sequenceFlow id="i2" sourceRef="esc" targetRef="inner"/></subProcess>'
        '<boundaryEvent id="b" attachedToRef="sub" cancelActivity="false">'
        '<escalationEventDefinition escalationRef="x"/></boundaryEvent><userTask id="notify"/>'
        + flows("s->sub", "b->notify"),
        roots='<escalation id="x" escalationCode="LATE"/>',
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    assert sorted(engine.active_elements(pid)) == ["inner", "notify"]


def test_conditional_boundary_fires_on_variable_change() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"/><boundaryEvent id="c" attachedToRef="t">'
        "<conditionalEventDefinition><condition>urgent = true</condition>"
        '</conditionalEventDefinition></boundaryEvent><userTask id="rush"/>'
        + flows("s->t", "c->rush")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"urgent": False})
    assert engine.active_elements(pid) == ["t"]
    engine.set_variables(pid, {"urgent": True})
    assert engine.active_elements(pid) == ["rush"]


def test_event_based_gateway_first_event_wins() -> None:
    doc = bpmn(
        '<startEvent id="s"/><eventBasedGateway id="g"/>'
        '<intermediateCatchEvent id="msg"><messageEventDefinition messageRef="mm"/>'
        '</intermediateCatchEvent><intermediateCatchEvent id="tm"><timerEventDefinition>'
        "<timeDuration>PT1H</timeDuration></timerEventDefinition></intermediateCatchEvent>"
        '<userTask id="a"/><userTask id="b"/>'
        + flows("s->g", "g->msg", "g->tm", "msg->a", "tm->b"),
        roots='<message id="mm" name="answer"/>',
    )
    engine, clock, _ = engine_with(doc)
    pid = engine.start_process("p")
    assert engine.active_elements(pid) == ["g"]
    clock.advance(dt.timedelta(hours=1))
    engine.run_due_jobs()
    assert engine.active_elements(pid) == ["b"]
    assert engine.subscriptions(instance_id=pid) == []


def test_interrupting_message_event_subprocess() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"/>'
        '<subProcess id="esp" triggeredByEvent="true"><startEvent id="es">'
        '<messageEventDefinition messageRef="mc"/></startEvent><userTask id="h"/>'
        '<sequenceFlow id="i1" sourceRef="es" targetRef="h"/></subProcess>' + flows("s->t"),
        roots='<message id="mc" name="cancel"/>',
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    engine.correlate_message("cancel", instance_id=pid)
    assert engine.active_elements(pid) == ["h"]
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.is_ended(pid)


def test_compensation_runs_handlers_of_completed_activities() -> None:
    doc = bpmn(
        '<startEvent id="s"/><scriptTask id="book" scriptFormat="feel" '
        'camunda:resultVariable="booked"><script>true</script></scriptTask>'
        '<boundaryEvent id="cb" attachedToRef="book"><compensateEventDefinition/></boundaryEvent>'
        '<userTask id="undo" isForCompensation="true"/>'
        '<intermediateThrowEvent id="comp"><compensateEventDefinition/></intermediateThrowEvent>'
        '<endEvent id="e"/><association id="as1" sourceRef="cb" targetRef="undo"/>'
        + flows("s->book", "book->comp", "comp->e")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    assert sorted(engine.active_elements(pid)) == ["comp", "undo"]
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.is_ended(pid)


def test_timer_start_event_starts_instances() -> None:
    doc = bpmn(
        '<startEvent id="ts"><timerEventDefinition><timeCycle>R2/PT1H</timeCycle>'
        '</timerEventDefinition></startEvent><userTask id="w"/>' + flows("ts->w")
    )
    engine, clock, _ = engine_with(doc)
    assert engine.instances(key="p") == []
    for _ in range(3):
        clock.advance(dt.timedelta(hours=1))
        engine.run_due_jobs()
    assert len(engine.instances(key="p")) == 2


def test_failing_async_job_uses_retries_then_opens_incident() -> None:
    doc = bpmn(
        '<startEvent id="s"/><exclusiveGateway id="g" camunda:asyncBefore="true"/>'
        '<userTask id="a"/>' + flows("s->g", "g->a:x = 1")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"x": 2})
    for _ in range(3):
        (job,) = engine.jobs(instance_id=pid)
        assert not engine.execute_job(job.id)
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 0
    assert "no outgoing sequence flow" in (job.error or "")
    (inc,) = engine.incidents(instance_id=pid)
    assert inc.job_id == job.id
    engine.set_variables(pid, {"x": 1})
    engine.resolve_incident(inc.id)
    assert engine.run_due_jobs() == 1
    assert engine.active_elements(pid) == ["a"]


def test_history_records_activity_instances_and_variables() -> None:
    doc = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>' + flows("s->t", "t->e"))
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"a": 1})
    engine.complete_task(engine.tasks(instance_id=pid)[0].id, {"a": 2}, actor="ann")
    hist = engine.history(instance_id=pid)
    kinds = [h.kind for h in hist]
    assert kinds[0] == "process_start"
    assert "process_end" in kinds
    starts = [h.element_id for h in hist if h.kind == "activity_start"]
    assert starts == ["s", "t", "e"]
    values = [h.data["value"] for h in hist if h.kind == "variable" and h.data]
    assert values == [1, 2]
    done = [h for h in hist if h.kind == "task_complete"]
    assert done[0].actor == "ann"
    assert all(h.element_type for h in hist if h.kind.startswith("activity"))


def test_job_leases_keep_other_workers_off_until_they_expire() -> None:
    doc = bpmn(
        '<startEvent id="s"/><manualTask id="t" camunda:asyncBefore="true"/><endEvent id="e"/>'
        + flows("s->t", "t->e")
    )
    engine, clock, _ = engine_with(doc)
    pid = engine.start_process("p")
    (job,) = engine.acquire_jobs("w1", lock_duration=dt.timedelta(minutes=1))
    assert job.lock_owner == "w1"
    assert engine.acquire_jobs("w2") == []
    assert not engine.execute_job(job.id, "w2")
    clock.advance(dt.timedelta(minutes=2))  # w1 crashed: its lease expired
    (again,) = engine.acquire_jobs("w2")
    assert again.id == job.id
    assert engine.execute_job(job.id, "w2")
    assert engine.is_ended(pid)


def test_error_from_called_process_caught_on_call_activity() -> None:
    child = bpmn(
        '<startEvent id="cs"/><endEvent id="fail"><errorEventDefinition errorRef="ce"/>'
        "</endEvent>" + flows("cs->fail"),
        pid="child",
        roots='<error id="ce" errorCode="NO_STOCK"/>',
    )
    parent = bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"/>'
        '<boundaryEvent id="b" attachedToRef="call"><errorEventDefinition errorRef="pe" '
        'camunda:errorCodeVariable="code"/></boundaryEvent><userTask id="handle"/>'
        '<endEvent id="e"/>' + flows("s->call", "call->e", "b->handle"),
        roots='<error id="pe" errorCode="NO_STOCK"/>',
    )
    engine, _, store = engine_with(child, parent)
    pid = engine.start_process("p")
    assert engine.active_elements(pid) == ["handle"]
    assert engine.variables(pid)["code"] == "NO_STOCK"
    assert engine.instances(key="child") == []
    assert "call" not in completed(store, pid)


def test_handler_failure_inside_a_job_fails_the_job() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="svc" camunda:class="down" '
        'camunda:asyncBefore="true"/><endEvent id="e"/>' + flows("s->svc", "svc->e")
    )
    engine, _, _ = engine_with(doc)
    calls: list[str] = []

    def down(ctx: HandlerContext) -> None:
        calls.append(ctx.idempotency_key)
        raise RuntimeError("remote system down")

    engine.register_handler("down", down)
    pid = engine.start_process("p")
    (job,) = engine.jobs(instance_id=pid)
    assert not engine.execute_job(job.id)
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 2
    assert "remote system down" in (job.error or "")
    assert engine.incidents(instance_id=pid) == []
    engine.run_due_jobs()
    assert len(calls) == 3
    (inc,) = engine.incidents(instance_id=pid)
    assert (inc.kind, inc.job_id, inc.element_id) == ("failed-job", job.id, "svc")
    assert engine.active_elements(pid) == ["svc"]


def test_thrown_signal_carries_variables_to_the_catching_instance() -> None:
    thrower = bpmn(
        '<startEvent id="s"/><intermediateThrowEvent id="t"><signalEventDefinition '
        'signalRef="sg"><extensionElements><camunda:in source="amount" target="got"/>'
        "</extensionElements></signalEventDefinition></intermediateThrowEvent>"
        '<endEvent id="e"/>' + flows("s->t", "t->e"),
        pid="thrower",
        roots='<signal id="sg" name="go"/>',
    )
    catcher = bpmn(
        '<startEvent id="s"/><intermediateCatchEvent id="c"><signalEventDefinition '
        'signalRef="sg"/></intermediateCatchEvent><userTask id="w"/>' + flows("s->c", "c->w"),
        pid="catcher",
        roots='<signal id="sg" name="go"/>',
    )
    engine, _, _ = engine_with(thrower, catcher)
    waiting = engine.start_process("catcher")
    engine.start_process("thrower", {"amount": 9})
    assert engine.active_elements(waiting) == ["w"]
    assert engine.variables(waiting)["got"] == 9
