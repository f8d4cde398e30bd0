"""The builder's working graph and how it becomes model objects and DI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._activities import CallActivity, SubProcess, Task
from ._base import Expression
from ._di import Bounds, BPMNDiagram, BPMNEdge, BPMNPlane, BPMNShape, Point
from ._events import EventDefinition
from ._flow import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    FlowNode,
    InclusiveGateway,
    ParallelGateway,
    SequenceFlow,
)
from ._layout import LayoutEdge, LayoutGraph, LayoutNode, layout
from ._xml import XSI_NS, XmlNode, clark

__all__ = [
    "ACTIVITY_TYPES",
    "GATEWAY_TYPES",
    "BuildFlow",
    "BuildNode",
    "build_container",
    "build_diagram",
    "lane_id",
    "slug",
]

SLUG = re.compile(r"[^A-Za-z0-9_]+")

ACTIVITY_TYPES = (Task, SubProcess, CallActivity)
GATEWAY_TYPES = (
    ExclusiveGateway,
    InclusiveGateway,
    ParallelGateway,
    EventBasedGateway,
    ComplexGateway,
)


def slug(text: str) -> str:
    """An id-safe version of a name."""
    return SLUG.sub("_", text).strip("_") or "x"


@dataclass
class BuildNode:
    """A flow node being built."""

    id: str
    cls: type[FlowNode]
    container: str | None
    lane: str | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    foreign: dict[str, str] = field(default_factory=dict)
    extensions: list[XmlNode] = field(default_factory=list)
    definitions: list[EventDefinition] = field(default_factory=list)


@dataclass
class BuildFlow:
    """A sequence flow being built."""

    id: str
    source: str
    target: str
    container: str | None
    name: str | None = None
    condition: str | None = None
    default: bool = False


def lane_id(lane: str) -> str:
    """The id of the lane named ``lane``."""
    return f"Lane_{slug(lane)}"


def build_container(
    nodes: dict[str, BuildNode], flows: list[BuildFlow], container: str | None
) -> tuple[Any, ...]:
    """The flow elements (nodes, then flows) of one container, subprocesses recursively."""
    elements: list[Any] = []
    for node in nodes.values():
        if node.container != container:
            continue
        incoming = tuple(f.id for f in flows if f.target == node.id)
        outgoing = tuple(f.id for f in flows if f.source == node.id)
        kwargs = dict(node.kwargs)
        defaults = [f.id for f in flows if f.source == node.id and f.default]
        if defaults:
            kwargs["default"] = defaults[0]
        if node.definitions:
            kwargs["event_definitions"] = tuple(node.definitions)
        if node.extensions:
            kwargs["extension_elements"] = tuple(node.extensions)
        if issubclass(node.cls, SubProcess):
            kwargs["flow_elements"] = build_container(nodes, flows, node.id)
        elements.append(
            node.cls(
                id=node.id,
                incoming=incoming,
                outgoing=outgoing,
                foreign_attrs=tuple(node.foreign.items()),
                **kwargs,
            )
        )
    for flow in flows:
        if flow.container != container:
            continue
        cond = None
        if flow.condition is not None:
            cond = Expression(
                body=flow.condition,
                foreign_attrs=((clark(XSI_NS, "type"), "bpmn:tFormalExpression"),),
            )
        elements.append(
            SequenceFlow(
                id=flow.id,
                name=flow.name,
                source_ref=flow.source,
                target_ref=flow.target,
                condition_expression=cond,
            )
        )
    return tuple(elements)


def build_diagram(
    process_id: str,
    nodes: dict[str, BuildNode],
    flows: list[BuildFlow],
    lanes: list[str],
    plane_element: str,
) -> BPMNDiagram:
    """Lay the process out and describe it as BPMN DI."""
    graph = LayoutGraph(nodes={}, edges=[], lanes=list(lanes))
    for node in nodes.values():
        if issubclass(node.cls, SubProcess):
            shape = "container"
        elif issubclass(node.cls, ACTIVITY_TYPES):
            shape = "activity"
        elif issubclass(node.cls, GATEWAY_TYPES):
            shape = "gateway"
        else:
            shape = "event"
        graph.nodes[node.id] = LayoutNode(
            id=node.id,
            shape=shape,
            container=node.container,
            lane=node.lane,
            attached_to=node.kwargs.get("attached_to_ref"),
            detached=bool(node.kwargs.get("triggered_by_event")),
        )
    graph.edges = [LayoutEdge(f.id, f.source, f.target) for f in flows]
    layout(graph)
    items: list[Any] = []
    if graph.pool_bounds is not None:
        x, y, w, h = graph.pool_bounds
        items.append(
            BPMNShape(
                id=f"Participant_{process_id}_di",
                bpmn_element=f"Participant_{process_id}",
                is_horizontal=True,
                bounds=Bounds(x=x, y=y, width=w, height=h),
            )
        )
        for lane, (lx, ly, lw, lh) in graph.lane_bounds.items():
            items.append(
                BPMNShape(
                    id=f"{lane_id(lane)}_di",
                    bpmn_element=lane_id(lane),
                    is_horizontal=True,
                    bounds=Bounds(x=lx, y=ly, width=lw, height=lh),
                )
            )
    for n in graph.nodes.values():
        items.append(
            BPMNShape(
                id=f"{n.id}_di",
                bpmn_element=n.id,
                is_expanded=True if n.shape == "container" else None,
                is_marker_visible=(True if issubclass(nodes[n.id].cls, ExclusiveGateway) else None),
                bounds=Bounds(x=n.x, y=n.y, width=n.width, height=n.height),
            )
        )
    for e in graph.edges:
        items.append(
            BPMNEdge(
                id=f"{e.id}_di",
                bpmn_element=e.id,
                waypoints=tuple(Point(x=x, y=y) for x, y in e.waypoints),
            )
        )
    plane = BPMNPlane(
        id=f"BPMNPlane_{process_id}", bpmn_element=plane_element, elements=tuple(items)
    )
    return BPMNDiagram(id=f"BPMNDiagram_{process_id}", plane=plane)
