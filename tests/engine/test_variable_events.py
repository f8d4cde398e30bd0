"""``camunda:variableName`` / ``camunda:variableEvents`` on conditional events (Camunda 7).

A conditional event with ``variableEvents`` is evaluated again only when a variable changes with
one of the listed events (``create``, ``update``, ``delete``); with ``variableName`` too, only
for that variable. When the event is reached (subscribed) its condition is evaluated once
regardless. Each test runs on the memory store and on SQLite, plain and reloading the engine
between steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from liucheng.errors import ModelError

from .helpers import bpmn, engine_with, flows
from .rig import RIG_IDS, RIG_PARAMS, Rig, make_rig


@pytest.fixture(params=RIG_PARAMS, ids=RIG_IDS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(request, tmp_path)


def _cond(attrs: str, condition: str) -> str:
    return (
        f"<conditionalEventDefinition {attrs}><condition>{condition}</condition>"
        "</conditionalEventDefinition>"
    )


def _boundary(attrs: str, condition: str, interrupting: bool = True) -> bytes:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return bpmn(
        '<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
        f'<boundaryEvent id="b" attachedToRef="t"{cancel}>{_cond(attrs, condition)}'
        '</boundaryEvent><userTask id="after"/>' + flows("s->t", "t->e", "b->after")
    )


def test_boundary_fires_only_on_update_of_the_named_variable(rig: Rig) -> None:
    rig.engine.deploy(
        _boundary('camunda:variableName="trigger" camunda:variableEvents="update"', "go = true")
    )
    pid = rig.engine.start_process("p", {"go": False})
    # the condition becomes true, but "go" is not the variable the event listens to
    rig.reload().set_variables(pid, {"go": True})
    assert rig.reload().active_elements(pid) == ["t"]
    # the named variable, but created: not an event it listens to
    rig.reload().set_variables(pid, {"trigger": 1})
    assert rig.reload().active_elements(pid) == ["t"]
    rig.reload().set_variables(pid, {"trigger": 2})
    assert rig.reload().active_elements(pid) == ["after"]


def test_variable_events_without_a_name_listen_to_every_variable(rig: Rig) -> None:
    rig.engine.deploy(_boundary('camunda:variableEvents="create"', "go = true", False))
    pid = rig.engine.start_process("p", {"go": False})
    rig.reload().set_variables(pid, {"go": True})  # an update: not listened to
    assert rig.reload().active_elements(pid) == ["t"]
    rig.reload().set_variables(pid, {"other": 1})  # any created variable
    assert sorted(rig.reload().active_elements(pid)) == ["after", "t"]
    # non-interrupting: it stays subscribed; updates still do not trigger it
    rig.reload().set_variables(pid, {"other": 2})
    assert sorted(rig.reload().active_elements(pid)) == ["after", "t"]
    rig.reload().set_variables(pid, {"another": 1})
    assert sorted(rig.reload().active_elements(pid)) == ["after", "after", "t"]


def test_delete_event_fires_on_removal_and_removal_is_stored(rig: Rig) -> None:
    rig.engine.deploy(
        _boundary('camunda:variableName="lock" camunda:variableEvents="delete"', "lock = null")
    )
    pid = rig.engine.start_process("p", {"lock": "held", "keep": 1})
    rig.reload().set_variables(pid, {"lock": None})  # true, but an update
    assert rig.reload().active_elements(pid) == ["t"]
    rig.reload().set_variables(pid, {"lock": "again"})
    rig.reload().set_variables(pid, {}, remove=["nothing-here", "lock"])
    engine = rig.reload()
    assert engine.active_elements(pid) == ["after"]
    assert engine.variables(pid) == {"keep": 1}
    assert engine.instances_with_variable("lock", "again") == []
    assert engine.instances_with_variable("keep", 1) == [pid]
    events = [
        h.data
        for h in engine.history(kind="variable", instance_id=pid)
        if h.data and h.data["name"] == "lock"
    ]
    assert events[-1] == {"name": "lock", "value": None, "deleted": True}


def test_intermediate_event_evaluates_on_arrival_then_only_on_listed_events(rig: Rig) -> None:
    rig.engine.deploy(
        bpmn(
            '<startEvent id="s"/><userTask id="t"/>'
            '<intermediateCatchEvent id="c">'
            + _cond('camunda:variableName="n" camunda:variableEvents="create, delete"', "n > 2")
            + '</intermediateCatchEvent><userTask id="after"/>'
            + flows("s->t", "t->c", "c->after")
        )
    )
    # on arrival the condition is evaluated whatever the filter says
    done = rig.engine.start_process("p", {"n": 5})
    rig.reload().complete_task(rig.reload().tasks(instance_id=done)[0].id)
    assert rig.reload().active_elements(done) == ["after"]
    pid = rig.reload().start_process("p", {"n": 1})
    rig.reload().complete_task(rig.reload().tasks(instance_id=pid)[0].id)
    assert rig.reload().active_elements(pid) == ["c"]
    rig.reload().set_variables(pid, {"n": 3})  # an update
    assert rig.reload().active_elements(pid) == ["c"]
    rig.reload().set_variables(pid, {}, remove=["n"])  # a delete, but n is null now
    assert rig.reload().active_elements(pid) == ["c"]
    rig.reload().set_variables(pid, {"n": 4})  # created again
    assert rig.reload().active_elements(pid) == ["after"]


def test_event_subprocess_start_listens_to_updates_only(rig: Rig) -> None:
    rig.engine.deploy(
        bpmn(
            '<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
            '<subProcess id="esp" triggeredByEvent="true">'
            '<startEvent id="es" isInterrupting="false">'
            + _cond('camunda:variableEvents="update"', "alarm = true")
            + '</startEvent><userTask id="handle"/>'
            '<sequenceFlow id="ef" sourceRef="es" targetRef="handle"/></subProcess>'
            + flows("s->t", "t->e")
        )
    )
    pid = rig.engine.start_process("p")
    rig.reload().set_variables(pid, {"alarm": True})  # created: not listened to
    assert rig.reload().active_elements(pid) == ["t"]
    rig.reload().set_variables(pid, {"alarm": True})  # updated (same value: still an update)
    assert sorted(rig.reload().active_elements(pid)) == ["handle", "t"]


def test_a_task_completing_with_an_update_triggers_its_boundary(rig: Rig) -> None:
    rig.engine.deploy(
        _boundary('camunda:variableName="x" camunda:variableEvents="update"', "x > 10")
    )
    pid = rig.engine.start_process("p", {"x": 1})
    engine = rig.reload()
    engine.complete_task(engine.tasks(instance_id=pid)[0].id, {"x": 11})
    # Camunda dispatches the variable event before the task ends: the boundary wins
    assert rig.reload().active_elements(pid) == ["after"]


def test_unknown_variable_event_fails_the_deployment() -> None:
    engine, _, store = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy(_boundary('camunda:variableEvents="create, change"', "true"))
    assert info.value.code == "bpmn.conditional.variable_events"
    assert info.value.element_id == "b"
    assert "change" in info.value.message
    assert info.value.hint
    assert store.definitions == {}
