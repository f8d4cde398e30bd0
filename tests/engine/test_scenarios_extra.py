"""Our own conformance scenarios (``scenarios_extra``), plain and with a reload after every step.

They were written from Camunda 7 engine tests (and the BPMN 2.0 spec where Camunda 7 has no such
element: complex gateway, standard loop, ad-hoc subprocess), in the shared scenario format. The
focused tests below pin behaviour the scenario format cannot express.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from liucheng.engine.conformance import find_scenarios, run_scenario
from liucheng.errors import EngineError

from .helpers import bpmn, completed, engine_with, flows

HERE = Path(__file__).parent / "scenarios_extra"
SCENARIOS = find_scenarios(HERE)


def test_there_are_scenarios_in_every_family() -> None:
    families = {p.relative_to(HERE).parts[0] for p in SCENARIOS}
    assert len(SCENARIOS) >= 480
    assert {"gateway", "complex", "loop", "adhoc", "message", "error", "compensation"} <= families
    assert {"event-subprocess", "async", "io", "transaction"} <= families


@pytest.mark.parametrize("reload", [False, True], ids=["plain", "reload"])
@pytest.mark.parametrize("folder", SCENARIOS, ids=[str(p.relative_to(HERE)) for p in SCENARIOS])
def test_scenario(folder: Path, reload: bool) -> None:
    res = run_scenario(folder, reload=reload)
    assert res.ok, res.message


# ---------------------------------------------------------------------------- messages

_PAR_CATCH = (
    '<startEvent id="s"/><parallelGateway id="fork"/>'
    '<intermediateCatchEvent id="c1"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>'
    '<intermediateCatchEvent id="c2"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>'
    '<userTask id="w1"/><userTask id="w2"/>'
    + flows("s->fork", "fork->c1", "fork->c2", "c1->w1", "c2->w2")
)


def test_ambiguous_correlation_fails_and_changes_nothing() -> None:
    engine, _, store = engine_with(bpmn(_PAR_CATCH, roots='<message id="m" name="go"/>'))
    pid = engine.start_process("p")
    before = len(store.history)
    with pytest.raises(EngineError) as info:
        engine.correlate_message("go", variables={"x": 1})
    assert info.value.code == "engine.message.ambiguous"
    assert sorted(engine.active_elements(pid)) == ["c1", "c2"]
    assert len(store.history) == before
    assert engine.correlate_message_all("go", variables={"x": 1}) == [pid, pid]
    assert sorted(engine.active_elements(pid)) == ["w1", "w2"]
    assert engine.variables(pid)["x"] == 1


def test_correlation_prefers_waiting_instance_over_start_event() -> None:
    doc = bpmn(
        '<startEvent id="ms"><messageEventDefinition messageRef="m"/></startEvent>'
        '<intermediateCatchEvent id="c"><messageEventDefinition messageRef="m"/>'
        '</intermediateCatchEvent><userTask id="w"/>' + flows("ms->c", "c->w"),
        roots='<message id="m" name="go"/>',
    )
    engine, _, _ = engine_with(doc)
    first = engine.correlate_message("go")
    assert first is not None
    assert engine.active_elements(first) == ["c"]
    # one instance waits: a single correlation goes there, not to the start event
    assert engine.correlate_message("go") == first
    assert engine.active_elements(first) == ["w"]
    assert len(engine.instances(key="p")) == 1
    # correlate-all reaches every waiting instance and the start event
    second = engine.correlate_message("go")
    assert second is not None and second != first
    got = engine.correlate_message_all("go")
    assert got[0] == second and len(got) == 2
    assert len(engine.instances(key="p")) == 3


def test_correlate_all_without_receiver_fails() -> None:
    engine, _, _ = engine_with(bpmn(_PAR_CATCH, roots='<message id="m" name="go"/>'))
    engine.start_process("p")
    with pytest.raises(EngineError) as info:
        engine.correlate_message_all("nothing")
    assert info.value.code == "engine.message.uncorrelated"


# ---------------------------------------------------------------------------- complex gateway


def test_complex_reset_ends_when_late_token_goes_elsewhere() -> None:
    # x activates the join; b could still bring the missing token (flow bj), so the join is
    # reset; y's token arrives on the already used flow and waits for the next activation;
    # when b ends elsewhere the reset is over and y's token activates the join again
    doc = bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="a"/><userTask id="b"/>'
        '<parallelGateway id="split"/><userTask id="x"/><userTask id="y"/>'
        '<exclusiveGateway id="xm"/><exclusiveGateway id="bx" default="bj"/><endEvent id="bend"/>'
        '<complexGateway id="cx"><activationCondition>nrOfTokens &gt;= 1</activationCondition>'
        '</complexGateway><userTask id="after"/><endEvent id="e"/>'
        + flows("s->fork", "fork->a", "fork->b", "a->split", "split->x", "split->y", "x->xm")
        + flows("y->xm", "xm->cx", "b->bx", "bx->bend:skip", "cx->after", "after->e").replace(
            'id="f', 'id="g'
        )
        + '<sequenceFlow id="bj" sourceRef="bx" targetRef="cx"/>'
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p", {"skip": True})

    def finish(element: str) -> None:
        task = next(t for t in engine.tasks(instance_id=pid) if t.element_id == element)
        engine.complete_task(task.id)

    finish("a")
    finish("x")
    assert sorted(engine.active_elements(pid)) == ["after", "b", "y"]
    finish("y")
    assert sorted(engine.active_elements(pid)) == ["after", "b"]
    assert completed(store, pid).count("cx") == 1
    finish("b")
    assert sorted(engine.active_elements(pid)) == ["after", "after"]
    assert completed(store, pid).count("cx") == 2


# ---------------------------------------------------------------------------- ad-hoc, loop


def test_adhoc_unknown_active_element_opens_incident() -> None:
    doc = bpmn(
        '<startEvent id="s"/><adHocSubProcess id="ah"><extensionElements>'
        '<zeebe:adHoc activeElementsCollection="=[&quot;nope&quot;]"/></extensionElements>'
        '<userTask id="A"/></adHocSubProcess><endEvent id="e"/>' + flows("s->ah", "ah->e")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    incidents = engine.incidents(instance_id=pid)
    assert len(incidents) == 1
    assert "nope" in incidents[0].message


def test_loop_counter_counts_runs() -> None:
    doc = bpmn(
        '<startEvent id="s"/><scriptTask id="t" scriptFormat="feel" '
        'camunda:resultVariable="seen"><script>append(seen, loopCounter)</script>'
        '<standardLoopCharacteristics loopMaximum="3"/></scriptTask><userTask id="w"/>'
        + flows("s->t", "t->w")
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p", {"seen": []})
    assert engine.variables(pid)["seen"] == [0, 1, 2]
    assert "loopCounter" not in engine.variables(pid)  # local to the looping activity
    assert completed(store, pid).count("t") == 3


def test_adhoc_bad_completion_condition_fails_the_command() -> None:
    doc = bpmn(
        '<startEvent id="s"/><adHocSubProcess id="ah"><userTask id="A"/><userTask id="B"/>'
        "<completionCondition>done +* 1</completionCondition></adHocSubProcess>"
        '<endEvent id="e"/>' + flows("s->ah", "ah->e")
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p")
    task = engine.tasks(instance_id=pid)[0]
    before = len(store.history)
    with pytest.raises(EngineError) as info:
        engine.complete_task(task.id)
    assert info.value.code == "engine.expression.invalid"
    assert sorted(engine.active_elements(pid)) == ["A", "B"]
    assert len(store.history) == before


# ---------------------------------------------------------------- found with scenarios_extra


def test_async_after_two_flows_runs_one_branch_per_job() -> None:
    doc = bpmn(
        '<startEvent id="s"/><scriptTask id="t" scriptFormat="feel" camunda:asyncAfter="true">'
        '<script>{}</script></scriptTask><userTask id="a"/><userTask id="b"/>'
        '<endEvent id="ea"/><endEvent id="eb"/>' + flows("s->t", "t->a", "t->b", "a->ea", "b->eb")
    )
    engine, _, store = engine_with(doc)
    pid = engine.start_process("p")
    jobs = engine.jobs(root_id=pid)
    assert len(jobs) == 2 and completed(store, pid).count("t") == 1
    assert engine.execute_job(jobs[1].id)
    assert len(engine.active_elements(pid)) == 1  # one branch, the other job still waits
    rest = engine.jobs(root_id=pid)
    assert [j.id for j in rest] == [jobs[0].id]
    assert engine.execute_job(rest[0].id)
    assert sorted(engine.active_elements(pid)) == ["a", "b"]
    assert engine.jobs(root_id=pid) == []
    assert completed(store, pid).count("t") == 1  # the activity ended once, before its jobs


def test_error_from_grandchild_passes_outputs_at_every_level() -> None:
    err = '<error id="err" errorCode="E"/>'
    top = bpmn(
        '<startEvent id="s"/><callActivity id="c" calledElement="mid"><extensionElements>'
        '<camunda:out source="r" target="r"/></extensionElements></callActivity>'
        '<boundaryEvent id="b" attachedToRef="c"><errorEventDefinition errorRef="err"/>'
        '</boundaryEvent><userTask id="caught"/><endEvent id="e"/>'
        + flows("s->c", "c->e", "b->caught"),
        pid="top",
        roots=err,
    )
    mid = bpmn(
        '<startEvent id="s"/><callActivity id="c2" calledElement="leaf"><extensionElements>'
        '<camunda:out source="v" target="r"/></extensionElements></callActivity><endEvent id="e"/>'
        + flows("s->c2", "c2->e"),
        pid="mid",
    )
    leaf = bpmn(
        '<startEvent id="s"/><scriptTask id="t" scriptFormat="feel" camunda:resultVariable="v">'
        '<script>7</script></scriptTask><endEvent id="x"><errorEventDefinition errorRef="err"/>'
        "</endEvent>" + flows("s->t", "t->x"),
        pid="leaf",
        roots=err,
    )
    engine, _, _ = engine_with(top, mid, leaf)
    pid = engine.start_process("top")
    assert engine.active_elements(pid) == ["caught"]
    assert engine.variables(pid)["r"] == 7


def test_zeebe_output_mapping_keeps_external_completion_variables_local() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="t"><extensionElements>'
        '<zeebe:taskDefinition type="pay"/><zeebe:ioMapping>'
        '<zeebe:output source="=receipt" target="ref"/></zeebe:ioMapping></extensionElements>'
        '</serviceTask><userTask id="w"/>' + flows("s->t", "t->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    task = engine.fetch_and_lock("pay", "w1")[0]
    engine.complete_external_task(task.id, "w1", {"receipt": "r1", "extra": 1})
    got = engine.variables(pid)
    assert got["ref"] == "r1"
    assert "receipt" not in got and "extra" not in got


def test_camunda_output_mapping_lets_completion_variables_through() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"><extensionElements><camunda:inputOutput>'
        '<camunda:outputParameter name="y">x + 1</camunda:outputParameter>'
        '</camunda:inputOutput></extensionElements></userTask><userTask id="w"/>'
        + flows("s->t", "t->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    engine.complete_task(engine.tasks(instance_id=pid)[0].id, {"x": 1})
    assert engine.variables(pid) == {"x": 1, "y": 2}


def test_conditional_variable_name_list_filters_what_is_checked() -> None:
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"/><boundaryEvent id="c" attachedToRef="t">'
        '<conditionalEventDefinition camunda:variableName="a, b"><condition>go</condition>'
        '</conditionalEventDefinition></boundaryEvent><userTask id="w"/>' + flows("s->t", "c->w")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p", {"go": False})
    engine.set_variables(pid, {"go": True})  # not a watched variable: nothing is checked
    assert engine.active_elements(pid) == ["t"]
    engine.set_variables(pid, {"b": 1})  # a watched one: the condition (now true) is checked
    assert engine.active_elements(pid) == ["w"]


def test_conditional_esp_fires_before_the_last_activity_ends_the_process() -> None:
    # no end event: the script task is the last thing in the process
    doc = bpmn(
        '<startEvent id="s"/><userTask id="t"/><scriptTask id="x" scriptFormat="feel" '
        'camunda:resultVariable="v"><script>1</script></scriptTask>'
        '<subProcess id="esp" triggeredByEvent="true"><startEvent id="es">'
        "<conditionalEventDefinition><condition>v = 1</condition></conditionalEventDefinition>"
        '</startEvent><userTask id="w"/><sequenceFlow id="ew" sourceRef="es" targetRef="w"/>'
        "</subProcess>" + flows("s->t", "t->x")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert not engine.is_ended(pid)
    assert engine.active_elements(pid) == ["w"]


def test_non_boolean_flow_condition_is_an_error_not_false() -> None:
    doc = bpmn(
        '<startEvent id="s"/><exclusiveGateway id="g" default="f3"/><userTask id="a"/>'
        '<userTask id="b"/>' + flows("s->g", "g->a:amount", "g->b")
    )
    engine, _, store = engine_with(doc)
    with pytest.raises(EngineError) as info:
        engine.start_process("p", {"amount": 5})
    assert info.value.code == "engine.condition.not_boolean"
    assert engine.instances(key="p") == [] and store.history == []
    pid = engine.start_process("p", {"amount": None})  # null stays false: the default flow
    assert engine.active_elements(pid) == ["b"]
