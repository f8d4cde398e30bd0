"""The model API the engine and the modeller use: types, accessors and lookups."""

from __future__ import annotations

import dataclasses

import pytest

from liucheng.errors import ModelError
from liucheng.model import (
    CAMUNDA_NS,
    BoundaryEvent,
    Definitions,
    EndEvent,
    ErrorEventDefinition,
    ExclusiveGateway,
    MessageEventDefinition,
    MultiInstanceLoopCharacteristics,
    Process,
    ScriptTask,
    SendTask,
    SequenceFlow,
    SignalEventDefinition,
    StartEvent,
    SubProcess,
    TerminateEventDefinition,
    TimerEventDefinition,
    UserTask,
    parse_bpmn,
    write_bpmn,
)
from tests.model.samples import RICH


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return parse_bpmn(RICH, filename="rich.bpmn")


def test_definitions_header(defs: Definitions) -> None:
    assert defs.id == "Defs"
    assert defs.target_namespace == "http://example.org"
    assert defs.exporter == "Camunda Modeler"
    assert defs.namespace_map()["cam"] == CAMUNDA_NS
    assert defs.file == "rich.bpmn"
    assert [m.name for m in defs.messages] == ["request"]
    assert defs.errors[0].error_code == "E42"
    assert defs.escalations[0].escalation_code == "LATE"
    assert defs.collaborations[0].participants[0].process_ref == "P"


def test_elements_are_frozen(defs: Definitions) -> None:
    task = defs.element("Task_A", UserTask)
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.name = "x"  # type: ignore[misc]


def test_types_and_lines(defs: Definitions) -> None:
    process = defs.process()
    assert isinstance(process, Process)
    assert process.executable and process.name == "Rich process"
    assert process.doc_text == "What it does."
    start = defs.element("Start", StartEvent)
    expected_line = next(
        i for i, text in enumerate(RICH.splitlines(), 1) if '<bpmn:startEvent id="Start"' in text
    )
    assert start.line == expected_line
    assert start.event_kind == "message"
    assert isinstance(start.definition, MessageEventDefinition)
    assert start.definition.message_ref == "Msg_Request"
    assert isinstance(defs.get("Escalate"), SendTask)
    end = defs.element("End", EndEvent)
    assert isinstance(end.definition, TerminateEventDefinition)


def test_foreign_attributes_resolve_by_namespace(defs: Definitions) -> None:
    task = defs.element("Task_A", UserTask)
    # the file uses the prefix "cam", the accessor the well-known "camunda"
    assert task.attr("camunda", "assignee") == "=owner"
    assert task.attr("camunda:candidateGroups") == "agents"
    assert task.attr(CAMUNDA_NS, "asyncBefore") == "true"
    assert task.attr("camunda", "nothing") is None


def test_extension_elements_are_queryable(defs: Definitions) -> None:
    task = defs.element("Task_A", UserTask)
    io = task.extension("camunda:inputOutput")
    assert io is not None
    param = io.find("camunda:inputParameter")
    assert param is not None and param.get("name") == "x" and param.text == "=1 + 1"
    zeebe = task.extension("zeebe:taskDefinition")
    assert zeebe is not None and zeebe.get("retries") == "3"
    assert len(task.extensions()) == 2


def test_multi_instance(defs: Definitions) -> None:
    mi = defs.element("Task_A", UserTask).loop_characteristics
    assert isinstance(mi, MultiInstanceLoopCharacteristics)
    assert mi.sequential
    assert mi.loop_cardinality is not None and mi.loop_cardinality.feel == "3"
    assert mi.completion_condition is not None and mi.completion_condition.feel == "done"
    assert mi.attr("camunda", "collection") == "=items"


def test_boundary_and_timer(defs: Definitions) -> None:
    timer = defs.element("Timer", BoundaryEvent)
    assert not timer.interrupting
    assert timer.attached_to_ref == "Task_A"
    ted = timer.definition
    assert isinstance(ted, TimerEventDefinition)
    assert ted.timer == ("duration", "PT4H")
    assert [b.id for b in defs.boundary_events("Task_A")] == ["Timer"]
    caught = defs.element("Caught", BoundaryEvent)
    assert caught.interrupting
    assert isinstance(caught.definition, ErrorEventDefinition)


def test_flows_and_gateway(defs: Definitions) -> None:
    gw = defs.element("Gw", ExclusiveGateway)
    assert gw.default == "F4"
    assert [f.id for f in defs.outgoing("Gw")] == ["F3", "F4"]
    assert [f.id for f in defs.incoming("End")] == ["F3", "F6", "F7"]
    f3 = defs.element("F3", SequenceFlow)
    assert f3.condition == "=ok"
    assert f3.condition_expression is not None
    assert f3.condition_expression.language == "feel"
    assert f3.condition_expression.feel == "ok"
    assert defs.element("F4", SequenceFlow).condition is None


def test_containers_and_parents(defs: Definitions) -> None:
    process = defs.process("P")
    sub = defs.element("Sub", SubProcess)
    assert defs.container("Script") is sub
    assert defs.container("Task_A") is process
    assert defs.process_of("EvStart") is process
    assert defs.parent("Script") is sub
    assert {n.id for n in defs.flow_nodes(sub)} == {"SubStart", "Script", "SubEnd", "EvSub"}
    assert {n.id for n in defs.flow_nodes("Sub")} == {"SubStart", "Script", "SubEnd", "EvSub"}
    ev = defs.event_subprocesses(sub)
    assert [e.id for e in ev] == ["EvSub"]
    ev_start = defs.element("EvStart", StartEvent)
    assert not ev_start.interrupting
    assert isinstance(ev_start.definition, SignalEventDefinition)
    assert [s.id for s in process.start_events] == ["Start"]
    script = defs.element("Script", ScriptTask)
    assert script.script is not None and script.script.strip() == "{ a: 1 }"
    assert script.script_format == "feel"


def test_lanes(defs: Definitions) -> None:
    process = defs.process()
    assert [lane.id for lane in process.lanes] == ["Lane_A", "Lane_A1"]
    lane_a = process.lanes[0]
    assert lane_a.all_flow_node_refs() == ("Start", "Task_A", "Gw")
    assert defs.lane_of("Gw") is process.lanes[1]
    assert defs.lane_of("Start") is lane_a


def test_di_lookup(defs: Definitions) -> None:
    shape = defs.shape("Sub")
    assert shape is not None and shape.is_expanded is True
    assert shape.bounds is not None and shape.bounds.height == 200.5
    start_shape = defs.shape("Start")
    assert start_shape is not None and start_shape.label is not None
    assert start_shape.label.bounds is not None and start_shape.label.bounds.width == 57
    edge = defs.edge("F1")
    assert edge is not None and [(p.x, p.y) for p in edge.waypoints] == [(136, 118), (200, 118)]


def test_element_lookup_errors(defs: Definitions) -> None:
    with pytest.raises(ModelError) as info:
        defs.element("Nope")
    assert info.value.code == "bpmn.element.unknown"
    with pytest.raises(ModelError) as info2:
        defs.element("Gw", UserTask)
    assert info2.value.code == "bpmn.element.type"
    assert defs.get("tns:Gw") is defs.get("Gw")


def test_text_annotation_and_association(defs: Definitions) -> None:
    process = defs.process()
    texts = [a for a in process.artifacts if a.element_type == "textAnnotation"]
    assert texts and texts[0].text == "Check SLA"  # type: ignore[attr-defined]


def test_unknown_elements_survive_roundtrip() -> None:
    doc = RICH.replace(
        '<bpmn:endEvent id="EscEnd" />',
        '<bpmn:endEvent id="EscEnd"><bpmn:futureThing id="ft" level="9">x</bpmn:futureThing>'
        "</bpmn:endEvent>",
    )
    defs = parse_bpmn(doc)
    end = defs.element("EscEnd", EndEvent)
    assert [n.local for n in end.extra_children] == ["futureThing"]
    again = parse_bpmn(write_bpmn(defs))
    assert again.element("EscEnd", EndEvent).extra_children == end.extra_children


def test_model_edit_with_replace_roundtrips(defs: Definitions) -> None:
    task = defs.element("Task_A", UserTask)
    renamed = dataclasses.replace(task, name="Handle request")
    process = defs.process()
    elements = tuple(renamed if e is task else e for e in process.flow_elements)
    new_process = dataclasses.replace(process, flow_elements=elements)
    roots = tuple(new_process if r is process else r for r in defs.root_elements)
    new_defs = dataclasses.replace(defs, root_elements=roots)
    again = parse_bpmn(write_bpmn(new_defs))
    assert again.element("Task_A", UserTask).name == "Handle request"
    assert defs.element("Task_A", UserTask).name == "Handle"


def test_root_reference_helpers(defs: Definitions) -> None:
    assert defs.message_name("Msg_Request") == "request"
    assert defs.signal_name("Sig_Stop") == "stop"
    assert defs.error_code("Err_Fail") == "E42"
    assert defs.escalation_code("Esc_Late") == "LATE"
    assert defs.message_name("Sig_Stop") is None
    assert defs.compensation_handler("Timer") is None


def test_compensation_handler_lookup() -> None:
    doc = RICH.replace(
        '<bpmn:endEvent id="EscEnd" />',
        '<bpmn:endEvent id="EscEnd" />'
        '<bpmn:boundaryEvent id="Comp" attachedToRef="Escalate">'
        "<bpmn:compensateEventDefinition /></bpmn:boundaryEvent>"
        '<bpmn:serviceTask id="Undo" isForCompensation="true" />'
        '<bpmn:association id="CompAssoc" sourceRef="Comp" targetRef="Undo" />',
    )
    defs = parse_bpmn(doc)
    handler = defs.compensation_handler("Comp")
    assert handler is not None and handler.id == "Undo" and handler.for_compensation
