"""The flagship service desk model under processes/: valid, executable, wired as designed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from liucheng.model import (
    BoundaryEvent,
    BusinessRuleTask,
    Definitions,
    ExclusiveGateway,
    MessageEventDefinition,
    ReceiveTask,
    StartEvent,
    TimerEventDefinition,
    UserTask,
    parse_bpmn,
    validate,
    write_bpmn,
)
from tests.conftest import ROOT

FOLDER = ROOT / "processes" / "service_desk"
MODEL = FOLDER / "service_desk.bpmn"


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return parse_bpmn(MODEL)


def test_valid_and_executable(defs: Definitions) -> None:
    assert validate(defs, engine=True) == []
    process = defs.process("service_desk")
    assert process.executable
    assert [lane.name for lane in process.lanes] == ["First level", "Second level", "Supervisor"]


def test_channels_start_the_process(defs: Definitions) -> None:
    starts = [n for n in defs.process().flow_nodes if isinstance(n, StartEvent)]
    assert len(starts) == 2
    message_start = next(s for s in starts if s.definitions)
    assert isinstance(message_start.definition, MessageEventDefinition)
    assert defs.get(message_start.definition.message_ref).name == "service_request"  # type: ignore[union-attr]
    scripts = [defs.outgoing(s.id or "")[0].target_ref for s in starts]
    for script_id in scripts:
        script = defs.element(script_id or "")
        assert "channel" in (script.script or "")  # type: ignore[attr-defined]


def test_classification_uses_dmn(defs: Definitions) -> None:
    classify = defs.element("classify", BusinessRuleTask)
    assert classify.attr("camunda", "decisionRef") == "priority"
    assert classify.attr("camunda", "resultVariable") == "priority"
    assert defs.lane_of("classify").name == "First level"  # type: ignore[union-attr]
    gateway = defs.element("priority_gateway", ExclusiveGateway)
    assert gateway.default is not None
    conditions = [f.condition for f in defs.outgoing("priority_gateway") if f.condition]
    assert len(conditions) == 2 and all(c.startswith("=") for c in conditions)


def test_resolve_escalates_on_sla(defs: Definitions) -> None:
    resolve = defs.element("resolve", UserTask)
    assert resolve.attr("camunda", "candidateGroups") == "=candidate_group"
    assert defs.lane_of("resolve").name == "Second level"  # type: ignore[union-attr]
    (timer,) = defs.boundary_events("resolve")
    assert not timer.interrupting
    assert isinstance(timer.definition, TimerEventDefinition)
    assert timer.definition.timer == ("duration", "=duration(sla)")
    supervisor_task = defs.outgoing(timer.id or "")[0].target_ref
    assert defs.lane_of(supervisor_task or "").name == "Supervisor"  # type: ignore[union-attr]


def test_survey_with_timeout_and_optional_article(defs: Definitions) -> None:
    survey = defs.element("await_survey", ReceiveTask)
    assert defs.get(survey.message_ref).name == "survey_response"  # type: ignore[union-attr]
    (timeout,) = defs.boundary_events("await_survey")
    assert isinstance(timeout, BoundaryEvent) and timeout.interrupting
    flows = defs.outgoing("article_gateway")
    assert {f.target_ref for f in flows} == {"write_article", "merge_article"}


def test_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("sd_generate", FOLDER / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert write_bpmn(module.build()) == MODEL.read_bytes()


def test_has_diagram_for_every_node(defs: Definitions) -> None:
    for node in defs.process().flow_nodes:
        assert defs.shape(node.id or "") is not None, node.id
    assert isinstance(MODEL, Path)
