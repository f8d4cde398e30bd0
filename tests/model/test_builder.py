"""The fluent builder: valid models, a diagram for everything, no overlapping shapes."""

from __future__ import annotations

import itertools

import pytest

from liucheng.errors import ModelError
from liucheng.model import (
    BoundaryEvent,
    BPMNShape,
    Definitions,
    ExclusiveGateway,
    FlowNode,
    ProcessBuilder,
    ScriptTask,
    SequenceFlow,
    SubProcess,
    TimerEventDefinition,
    UserTask,
    parse_bpmn,
    validate,
    write_bpmn,
)


def order_process() -> Definitions:
    return (
        ProcessBuilder("order", name="Order")
        .lane("Clerks")
        .start_event("received", name="Order received", message="order")
        .user_task("check", name="Check order", candidate_groups="clerks", due_date="=now()")
        .boundary_event("late", timer_duration="PT1H", interrupting=False)
        .user_task("remind", name="Remind", assignee="boss")
        .end_event("reminded")
        .move_to("check")
        .exclusive_gateway("ok", name="Order OK?")
        .branch(condition="=approved", name="yes")
        .lane("Warehouse")
        .service_task("ship", name="Ship", topic="shipping", async_before=True)
        .branch(default=True, name="no")
        .user_task("reject", name="Reject")
        .join("merge")
        .sub_process("invoice", name="Invoice")
        .start_event("inv_start")
        .script_task("calc", "{total: amount * 1.2}", result_variable="invoice")
        .end_event("inv_end")
        .end_sub_process()
        .parallel_gateway("fork")
        .branch()
        .business_rule_task("rate", "priority", result_variable="prio")
        .branch()
        .send_task("notify", message="shipped")
        .join("sync", "parallel")
        .end_event("done")
        .build()
    )


def loop_process() -> Definitions:
    return (
        ProcessBuilder("loop")
        .start_event("s")
        .user_task("work")
        .exclusive_gateway("again")
        .branch(condition="=not(done)")
        .connect_to("work")
        .branch(default=True)
        .end_event("e")
        .build()
    )


def event_sub_process() -> Definitions:
    return (
        ProcessBuilder("esp")
        .start_event("s")
        .user_task("t")
        .multi_instance(collection="=items", element_variable="item", sequential=True)
        .end_event("e")
        .event_sub_process("cancel")
        .start_event("cancel_start", message="cancel", interrupting=True)
        .end_event("cancel_end", terminate=True)
        .end_sub_process()
        .build()
    )


MODELS = {"order": order_process, "loop": loop_process, "esp": event_sub_process}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_built_models_validate_clean(make: object) -> None:
    defs = make()  # type: ignore[operator]
    assert validate(defs) == []
    assert validate(parse_bpmn(write_bpmn(defs))) == []


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_built_models_roundtrip(make: object) -> None:
    defs = make()  # type: ignore[operator]
    again = parse_bpmn(write_bpmn(defs))
    assert again == defs


def _all_nodes(defs: Definitions) -> list[FlowNode]:
    out: list[FlowNode] = []

    def walk(elements: tuple[object, ...]) -> None:
        for el in elements:
            if isinstance(el, FlowNode):
                out.append(el)
            if isinstance(el, SubProcess):
                walk(el.flow_elements)

    for p in defs.processes:
        walk(p.flow_elements)
    return out


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_every_node_has_a_shape_and_every_flow_an_edge(make: object) -> None:
    defs = parse_bpmn(write_bpmn(make()))  # type: ignore[operator]
    for node in _all_nodes(defs):
        shape = defs.shape(node.id or "")
        assert shape is not None and shape.bounds is not None, node.id
        assert shape.bounds.width > 0 and shape.bounds.height > 0
    flows = [e for e in defs.all_elements() if isinstance(e, SequenceFlow)]
    assert flows
    for flow in flows:
        edge = defs.edge(flow.id or "")
        assert edge is not None, flow.id
        assert len(edge.waypoints) >= 2
        src, tgt = defs.shape(flow.source_ref or ""), defs.shape(flow.target_ref or "")
        assert src is not None and tgt is not None and src.bounds and tgt.bounds
        first, last = edge.waypoints[0], edge.waypoints[-1]
        # edges start on the source shape and end on the target shape
        assert _on_border(first.x, first.y, src.bounds), flow.id
        assert _on_border(last.x, last.y, tgt.bounds), flow.id


def _on_border(x: float, y: float, b: object) -> bool:
    bx, by, bw, bh = b.x, b.y, b.width, b.height  # type: ignore[attr-defined]
    inside = bx - 0.5 <= x <= bx + bw + 0.5 and by - 0.5 <= y <= by + bh + 0.5
    on_edge = (
        abs(x - bx) < 0.5 or abs(x - bx - bw) < 0.5 or abs(y - by) < 0.5 or abs(y - by - bh) < 0.5
    )
    return inside and on_edge


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_no_overlapping_shapes(make: object) -> None:
    defs = make()  # type: ignore[operator]
    shapes = [
        s
        for s in defs.diagrams[0].plane.elements  # type: ignore[union-attr]
        if isinstance(s, BPMNShape) and isinstance(defs.get(s.bpmn_element), FlowNode)
    ]
    assert len(shapes) == len(_all_nodes(defs))
    for a, b in itertools.combinations(shapes, 2):
        ea, eb = defs.get(a.bpmn_element), defs.get(b.bpmn_element)
        # allowed: a boundary event on its host, a node inside its own subprocess
        if isinstance(ea, BoundaryEvent) and ea.attached_to_ref == b.bpmn_element:
            continue
        if isinstance(eb, BoundaryEvent) and eb.attached_to_ref == a.bpmn_element:
            continue
        if defs.container(a.bpmn_element or "") is eb or defs.container(b.bpmn_element or "") is ea:
            continue
        if _nested_in(defs, ea, eb) or _nested_in(defs, eb, ea):
            continue
        assert a.bounds is not None and b.bounds is not None
        assert not a.bounds.overlaps(b.bounds), (a.bpmn_element, b.bpmn_element)


def _nested_in(defs: Definitions, inner: object, outer: object) -> bool:
    el = inner
    while el is not None:
        el = defs.container(getattr(el, "id", "") or "")
        if el is outer:
            return True
        if el is None or not isinstance(el, SubProcess):
            return False
    return False


def test_lanes_and_pool_enclose_their_nodes() -> None:
    defs = order_process()
    process = defs.process()
    assert [lane.name for lane in process.lanes] == ["Clerks", "Warehouse"]
    assert defs.collaborations[0].participants[0].process_ref == "order"
    for lane in process.lanes:
        lane_shape = defs.shape(lane.id or "")
        assert lane_shape is not None and lane_shape.bounds is not None
        lb = lane_shape.bounds
        for ref in lane.flow_node_refs:
            nb = defs.shape(ref).bounds  # type: ignore[union-attr]
            assert nb is not None
            assert lb.x <= nb.x and nb.x + nb.width <= lb.x + lb.width, ref
            assert lb.y <= nb.y and nb.y + nb.height <= lb.y + lb.height, ref


def test_builder_writes_camunda_attributes_and_definitions() -> None:
    defs = order_process()
    check = defs.element("check", UserTask)
    assert check.attr("camunda", "candidateGroups") == "clerks"
    assert check.attr("camunda", "dueDate") == "=now()"
    assert defs.element("ship").attr("camunda", "type") == "external"
    assert defs.element("ship").attr("camunda", "asyncBefore") == "true"
    assert defs.element("rate").attr("camunda", "decisionRef") == "priority"
    late = defs.element("late", BoundaryEvent)
    assert not late.interrupting and late.attached_to_ref == "check"
    assert isinstance(late.definition, TimerEventDefinition)
    gw = defs.element("ok", ExclusiveGateway)
    assert gw.default == "Flow_ok_reject"
    yes = defs.element("Flow_ok_ship", SequenceFlow)
    assert yes.condition == "=approved" and yes.name == "yes"
    calc = defs.element("calc", ScriptTask)
    assert calc.script_format == "feel" and calc.attr("camunda", "resultVariable") == "invoice"
    assert [m.name for m in defs.messages] == ["order", "shipped"]
    assert {f.source_ref for f in defs.incoming("sync")} == {"rate", "notify"}
    assert {f.source_ref for f in defs.incoming("merge")} == {"ship", "reject"}


def test_builder_errors() -> None:
    with pytest.raises(ModelError):
        ProcessBuilder("p").start_event("a").user_task("a")
    with pytest.raises(ModelError):
        ProcessBuilder("p").start_event("a").boundary_event("b", timer_duration="PT1H")
    with pytest.raises(ModelError):
        ProcessBuilder("p").start_event("a").user_task("t", colour="red")
    with pytest.raises(ModelError):
        ProcessBuilder("p").start_event("a").sub_process("s").build()
    with pytest.raises(ModelError):
        ProcessBuilder("p").start_event("a").branch()
