"""Binding to definition versions: ``camunda:calledElementBinding`` (latest, deployment, version,
versionTag), ``camunda:decisionRefBinding="versionTag"`` and ``start_process(version_tag=)``.

A version tag that no deployed version carries (or that several carry, which Camunda refuses
too) opens an incident on the calling element, naming the tag, the element and the tags that
exist; deploying the right version and resolving the incident continues. Each flow runs on the
memory store and on SQLite, plain and reloading the engine between steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liucheng.engine import Engine
from liucheng.errors import EngineError, ModelError, NotFoundError

from .helpers import HEAD, bpmn, engine_with, flows
from .rig import RIG_IDS, RIG_PARAMS, Rig, make_rig


@pytest.fixture(params=RIG_PARAMS, ids=RIG_IDS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(request, tmp_path)


def _child(tag: str | None, task: str, *, zeebe: bool = False) -> bytes:
    attr = ext = ""
    if tag is not None and zeebe:
        ext = f'<extensionElements><zeebe:versionTag value="{tag}"/></extensionElements>'
    elif tag is not None:
        attr = f' camunda:versionTag="{tag}"'
    return (
        HEAD + f'<process id="child" isExecutable="true"{attr}>{ext}'
        f'<startEvent id="cs"/><userTask id="{task}"/><endEvent id="ce"/>'
        + flows(f"cs->{task}", f"{task}->ce")
        + "</process></definitions>"
    ).encode()


def _parent(attrs: str) -> bytes:
    return bpmn(
        f'<startEvent id="s"/><callActivity id="call" calledElement="child" {attrs}>'
        '<extensionElements><camunda:in variables="all"/></extensionElements></callActivity>'
        '<userTask id="after"/>' + flows("s->call", "call->after")
    )


def _child_task(engine: Engine, pid: str) -> str:
    (child,) = engine.instances(parent_id=pid)
    return engine.active_elements(child.id)[0]


def _incident(engine: Engine, pid: str) -> dict[str, Any]:
    events = [h.data for h in engine.history(kind="incident_open", instance_id=pid) if h.data]
    assert len(events) == 1
    return events[0]


def test_call_activity_binds_the_version_with_the_tag(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1"))
    e.deploy(_child("2.0", "v2"))
    e.deploy(_child(None, "v3"))
    e.deploy(
        _parent('camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="1.0"')
    )
    pid = e.start_process("p")
    assert _child_task(rig.reload(), pid) == "v1"
    engine = rig.reload()
    (task,) = engine.tasks(element_id="v1")
    engine.complete_task(task.id)
    assert rig.reload().active_elements(pid) == ["after"]


def test_the_tag_may_be_an_expression(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1"))
    e.deploy(_child("2.0", "v2"))
    e.deploy(
        _parent('camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="=tag"')
    )
    pid = e.start_process("p", {"tag": "2.0"})
    assert _child_task(rig.reload(), pid) == "v2"


def test_missing_tag_opens_an_incident_that_a_deployment_and_a_resolve_clear(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1"))
    e.deploy(
        _parent('camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="3.0"')
    )
    pid = e.start_process("p")
    engine = rig.reload()
    assert engine.instances(parent_id=pid) == []
    (inc,) = engine.incidents(instance_id=pid)
    assert inc.element_id == "call"
    data = _incident(engine, pid)
    assert data["code"] == "engine.call.version_tag_unknown"
    assert "'3.0'" in data["message"] and "'call'" in data["message"]
    assert "deployed tags: 1.0" in data["message"]
    assert 'camunda:versionTag="3.0"' in data["hint"]
    assert "camunda:calledElementVersionTag" in data["hint"] and "zeebe" not in data["hint"]
    rig.reload().deploy(_child("3.0", "v3"))
    rig.reload().resolve_incident(inc.id)
    engine = rig.reload()
    assert engine.incidents(instance_id=pid) == []
    assert _child_task(engine, pid) == "v3"


def test_a_tag_on_two_versions_is_ambiguous(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1"))
    e.deploy(_child("1.0", "v1b"))
    e.deploy(
        _parent('camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="1.0"')
    )
    pid = e.start_process("p")
    engine = rig.reload()
    data = _incident(engine, pid)
    assert data["code"] == "engine.call.version_tag_ambiguous"
    assert "versions 1, 2" in data["message"]


def test_version_and_deployment_bindings(rig: Rig) -> None:
    e = rig.engine
    # parent and child v1 deployed together, then child v2 and v3 alone
    e.deploy(
        [
            ("child.bpmn", _child(None, "v1")),
            ("p.bpmn", _parent('camunda:calledElementBinding="deployment"')),
        ]
    )
    e.deploy(_child(None, "v2"))
    e.deploy(_child(None, "v3"))
    e.deploy(
        [
            (
                "q.bpmn",
                _parent(
                    'camunda:calledElementBinding="version" camunda:calledElementVersion="2"'
                ).replace(b'id="p"', b'id="q"'),
            ),
            ("r.bpmn", _parent("").replace(b'id="p"', b'id="r"')),
        ]
    )
    by_deployment = e.start_process("p")
    by_version = rig.reload().start_process("q")
    latest = rig.reload().start_process("r")
    engine = rig.reload()
    assert _child_task(engine, by_deployment) == "v1"
    assert _child_task(engine, by_version) == "v2"
    assert _child_task(engine, latest) == "v3"


def test_missing_version_opens_an_incident(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child(None, "v1"))
    e.deploy(_parent('camunda:calledElementBinding="version" camunda:calledElementVersion="7"'))
    pid = e.start_process("p")
    data = _incident(rig.reload(), pid)
    assert data["code"] == "engine.call.unknown"
    assert "version 7" in data["message"]


@pytest.mark.parametrize(
    "attrs",
    [
        'camunda:calledElementBinding="versionTag"',
        'camunda:calledElementBinding="version"',
        'camunda:calledElementBinding="newest"',
    ],
)
def test_bad_call_binding_fails_the_deployment(attrs: str) -> None:
    engine, _, store = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy(_parent(attrs))
    assert info.value.code == "bpmn.call.binding"
    assert info.value.element_id == "call"
    assert info.value.hint
    assert store.definitions == {}


def test_start_by_version_tag(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1"))
    e.deploy(_child("2.0", "v2"))
    e.deploy(_child("2.0", "v2b"))
    pid = e.start_process("child", version_tag="1.0")
    engine = rig.reload()
    assert engine.active_elements(pid) == ["v1"]
    with pytest.raises(NotFoundError) as missing:
        engine.start_process("child", version_tag="9")
    assert missing.value.code == "engine.definition.version_tag_unknown"
    assert "1.0, 2.0" in missing.value.message
    with pytest.raises(EngineError) as info:
        engine.start_process("child", version_tag="2.0")
    assert info.value.code == "engine.definition.version_tag_ambiguous"
    with pytest.raises(EngineError) as info:
        engine.start_process("child", version=1, version_tag="1.0")
    assert info.value.code == "engine.start.args"
    assert len(engine.instances(key="child")) == 1


_DMN_NS = 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'
_ZEEBE_NS = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
_CAMUNDA_NS = 'xmlns:camunda="http://camunda.org/schema/1.0/dmn"'


def _decision(tag: str | None, answer: str, *, zeebe: bool = False) -> bytes:
    attr = ext = ""
    if tag is not None and zeebe:
        ext = f'<extensionElements><zeebe:versionTag value="{tag}"/></extensionElements>'
    elif tag is not None:
        attr = f' camunda:versionTag="{tag}"'
    return (
        f'<definitions {_DMN_NS} {_ZEEBE_NS} {_CAMUNDA_NS} id="defs" name="d" namespace="t">'
        f'<decision id="d" name="d"{attr}>{ext}<literalExpression id="le">'
        f'<text>"{answer}"</text></literalExpression>'
        '<variable id="v" name="answer" typeRef="string"/></decision></definitions>'
    ).encode()


def _rule_process(tag: str) -> bytes:
    return bpmn(
        '<startEvent id="s"/><businessRuleTask id="r" camunda:decisionRef="d" '
        f'camunda:decisionRefBinding="versionTag" camunda:decisionRefVersionTag="{tag}" '
        'camunda:resultVariable="res" camunda:mapDecisionResult="singleEntry"/>'
        '<userTask id="w"/>' + flows("s->r", "r->w")
    )


def test_business_rule_task_binds_the_decision_with_the_tag(rig: Rig) -> None:
    e = rig.engine
    e.deploy(("d.dmn", _decision("a", "from a")))
    e.deploy(("d.dmn", _decision("b", "from b")))
    e.deploy(("d.dmn", _decision(None, "untagged")))
    e.deploy(_rule_process("a"))
    pid = e.start_process("p")
    assert rig.reload().variables(pid)["res"] == "from a"


def test_business_rule_task_with_a_missing_tag_waits_in_an_incident(rig: Rig) -> None:
    e = rig.engine
    e.deploy(("d.dmn", _decision("a", "from a")))
    e.deploy(_rule_process("c"))
    pid = e.start_process("p")
    engine = rig.reload()
    data = _incident(engine, pid)
    assert data["code"] == "engine.decision.version_tag_unknown"
    assert "'r'" in data["message"] and "'c'" in data["message"]
    assert "camunda:decisionRefVersionTag" in data["hint"]
    engine.deploy(("d.dmn", _decision("c", "from c")))
    (inc,) = rig.reload().incidents(instance_id=pid)
    rig.reload().resolve_incident(inc.id)
    engine = rig.reload()
    assert engine.variables(pid)["res"] == "from c"
    assert engine.active_elements(pid) == ["w"]


def test_decision_binding_without_a_tag_fails_the_deployment() -> None:
    engine, _, _ = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy(
            bpmn(
                '<startEvent id="s"/><businessRuleTask id="r" camunda:decisionRef="d" '
                'camunda:decisionRefBinding="versionTag"/>'
            )
        )
    assert info.value.code == "bpmn.decision.invalid"
    assert "decisionRefVersionTag" in (info.value.hint or "")
