"""Version tags seen from outside and in the Zeebe dialect: ``DeployedDefinition.version_tag``,
``UserView.start_process(version_tag=)``, and ``zeebe:calledElement`` /
``zeebe:calledDecision`` with ``bindingType`` ``versionTag``, ``deployment`` and ``latest``
(Camunda 8.6+), which bind like the Camunda 7 attributes. The Zeebe flows run on the memory
store and on SQLite, plain and reloading the engine between steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liucheng.errors import AuthorizationError, ModelError, NotFoundError
from liucheng.org import policy_from_dict

from .helpers import bpmn, engine_with, flows
from .rig import RIG_IDS, RIG_PARAMS, Rig, make_rig
from .test_version_tag import _child, _decision
from .test_version_tag import _child_task as child_task
from .test_version_tag import _incident as incident


@pytest.fixture(params=RIG_PARAMS, ids=RIG_IDS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(request, tmp_path)


def _zeebe_parent(attrs: str) -> bytes:
    return bpmn(
        '<startEvent id="s"/><callActivity id="call"><extensionElements>'
        f'<zeebe:calledElement processId="child" {attrs}/></extensionElements></callActivity>'
        '<userTask id="after"/>' + flows("s->call", "call->after")
    )


def _zeebe_rule(attrs: str) -> bytes:
    return bpmn(
        '<startEvent id="s"/><businessRuleTask id="r"><extensionElements>'
        f'<zeebe:calledDecision decisionId="d" resultVariable="res" {attrs}/>'
        "</extensionElements></businessRuleTask>"
        '<userTask id="w"/>' + flows("s->r", "r->w")
    )


def _child_task(rig: Rig, pid: str) -> str:
    return child_task(rig.reload(), pid)


def _incident(rig: Rig, pid: str) -> dict[str, Any]:
    return incident(rig.reload(), pid)


# ------------------------------------------------------------------ DeployedDefinition


def test_deployed_definitions_name_their_version_tag() -> None:
    engine, _, _ = engine_with()
    assert engine.deploy(_child("1.0", "a")).definition("child").version_tag == "1.0"
    v2 = engine.deploy(_child("2.0", "a", zeebe=True)).definition("child")
    assert v2.version_tag == "2.0"
    assert engine.deploy(_child(None, "a", zeebe=True)).definition("child").version_tag is None
    dep = engine.deploy(("d.dmn", _decision("x", "from x")))
    assert dep.definition("d").version_tag == "x"
    assert (
        engine.deploy(("d.dmn", _decision("y", "from y", zeebe=True))).definition("d").version_tag
        == "y"
    )
    assert (
        engine.deploy(("d.dmn", _decision(None, "none", zeebe=True))).definition("d").version_tag
        is None
    )
    # the tag a deployment reports is the one start_process(version_tag=) finds
    pid = engine.start_process("child", version_tag="2.0")
    assert engine.get_instance(pid).definition_id == v2.id  # type: ignore[union-attr]


# ------------------------------------------------------------------ UserView


_POLICY = policy_from_dict(
    {"grants": [{"action": "process.start", "resource": "process:child", "user": "u1"}]}
)


def test_user_view_starts_the_version_with_the_tag() -> None:
    engine, _, _ = engine_with()
    v1 = engine.deploy(_child("1.0", "v1")).definition("child")
    engine.deploy(_child("2.0", "v2"))
    engine.set_authorization(_POLICY)
    pid = engine.as_user("u1").start_process("child", {"x": 1}, version_tag="1.0")
    assert engine.active_elements(pid) == ["v1"]
    assert engine.get_instance(pid).definition_id == v1.id  # type: ignore[union-attr]
    assert engine.variables(pid) == {"x": 1, "initiator": "u1"}
    with pytest.raises(NotFoundError) as info:
        engine.as_user("u1").start_process("child", version_tag="9.9")
    assert info.value.code == "engine.definition.version_tag_unknown"
    with pytest.raises(AuthorizationError):
        engine.as_user("u2").start_process("child", version_tag="1.0")
    assert len(engine.instances(key="child")) == 1


# ------------------------------------------------------------------ Zeebe call activity


def test_zeebe_call_activity_binds_the_version_with_the_tag(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1", zeebe=True))
    e.deploy(_child("2.0", "v2", zeebe=True))
    e.deploy(_child(None, "v3", zeebe=True))
    e.deploy(_zeebe_parent('bindingType="versionTag" versionTag="1.0"'))
    pid = e.start_process("p")
    assert _child_task(rig, pid) == "v1"
    engine = rig.reload()
    (task,) = engine.tasks(element_id="v1")
    engine.complete_task(task.id)
    assert rig.reload().active_elements(pid) == ["after"]


def test_zeebe_call_activity_binds_latest_and_deployment(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1", zeebe=True))
    e.deploy(
        [
            ("c.bpmn", _child("2.0", "v2", zeebe=True)),
            ("p.bpmn", _zeebe_parent('bindingType="deployment"')),
        ]
    )
    e.deploy(("q.bpmn", _zeebe_parent('bindingType="latest"').replace(b'id="p"', b'id="q"')))
    e.deploy(_child("3.0", "v3", zeebe=True))
    assert _child_task(rig, rig.reload().start_process("p")) == "v2"
    assert _child_task(rig, rig.reload().start_process("q")) == "v3"


def test_zeebe_call_activity_with_a_missing_tag_waits_in_an_incident(rig: Rig) -> None:
    e = rig.engine
    e.deploy(_child("1.0", "v1", zeebe=True))
    e.deploy(_zeebe_parent('bindingType="versionTag" versionTag="2.0"'))
    pid = e.start_process("p")
    data = _incident(rig, pid)
    assert data["code"] == "engine.call.version_tag_unknown"
    assert "'call'" in data["message"] and "'2.0'" in data["message"]
    assert "1.0" in data["message"]
    assert "zeebe:calledElement versionTag" in data["hint"]
    # the hint names the Zeebe markup only: the model is not a Camunda 7 one
    assert '<zeebe:versionTag value="2.0"/>' in data["hint"]
    assert "camunda:" not in data["hint"]
    rig.reload().deploy(_child("2.0", "v2", zeebe=True))
    engine = rig.reload()
    (inc,) = engine.incidents(instance_id=pid)
    engine.resolve_incident(inc.id)
    assert _child_task(rig, pid) == "v2"


# ------------------------------------------------------------------ Zeebe business rule task


def test_zeebe_business_rule_task_binds_the_decision_with_the_tag(rig: Rig) -> None:
    e = rig.engine
    e.deploy(("d.dmn", _decision("a", "from a", zeebe=True)))
    e.deploy(("d.dmn", _decision("b", "from b")))
    e.deploy(("d.dmn", _decision(None, "untagged", zeebe=True)))
    e.deploy(_zeebe_rule('bindingType="versionTag" versionTag="a"'))
    pid = e.start_process("p")
    assert rig.reload().variables(pid)["res"] == "from a"
    e = rig.reload()
    e.deploy(
        (
            "q.bpmn",
            _zeebe_rule('bindingType="versionTag" versionTag="b"').replace(b'id="p"', b'id="q"'),
        )
    )
    qid = rig.reload().start_process("q")
    engine = rig.reload()
    assert engine.variables(qid)["res"] == "from b"
    assert engine.active_elements(qid) == ["w"]


def test_zeebe_business_rule_task_with_a_missing_tag_waits_in_an_incident(rig: Rig) -> None:
    e = rig.engine
    e.deploy(("d.dmn", _decision("a", "from a", zeebe=True)))
    e.deploy(_zeebe_rule('bindingType="versionTag" versionTag="c"'))
    pid = e.start_process("p")
    data = _incident(rig, pid)
    assert data["code"] == "engine.decision.version_tag_unknown"
    assert "'r'" in data["message"] and "'c'" in data["message"]
    assert "zeebe:calledDecision versionTag" in data["hint"]
    assert '<zeebe:versionTag value="c"/>' in data["hint"]
    assert "camunda:" not in data["hint"]
    rig.reload().deploy(("d.dmn", _decision("c", "from c", zeebe=True)))
    engine = rig.reload()
    (inc,) = engine.incidents(instance_id=pid)
    engine.resolve_incident(inc.id)
    engine = rig.reload()
    assert engine.variables(pid)["res"] == "from c"
    assert engine.active_elements(pid) == ["w"]


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        (_zeebe_parent('bindingType="versionTag"'), "bpmn.call.binding"),
        (_zeebe_parent('bindingType="version"'), "bpmn.call.binding"),
        (_zeebe_rule('bindingType="versionTag"'), "bpmn.decision.invalid"),
        (_zeebe_rule('bindingType="newest"'), "bpmn.decision.invalid"),
    ],
    ids=["call-no-tag", "call-unknown", "rule-no-tag", "rule-unknown"],
)
def test_bad_zeebe_binding_fails_the_deployment(doc: bytes, code: str) -> None:
    engine, _, _ = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy(doc)
    assert info.value.code == code
    assert "'call'" in str(info.value) or "'r'" in str(info.value)
    with pytest.raises(NotFoundError):
        engine.start_process("p")  # nothing of the document was deployed
