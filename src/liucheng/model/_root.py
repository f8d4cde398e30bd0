"""Root elements (process, collaboration, message...), lanes and artifacts."""

# ruff: noqa: RUF009  (field() helpers carrying the XML mapping are the dataclass defaults)

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._activities import FlowElementsContainer
from ._base import (
    Artifact,
    BaseElement,
    FlowElement,
    RootElement,
    attr,
    child,
    children,
    group,
    raw,
    text1,
    texts,
)
from ._data import InputOutputSpecification, Property
from ._xml import XmlNode

__all__ = [
    "Association",
    "Category",
    "CategoryValue",
    "Collaboration",
    "Error",
    "Escalation",
    "Group",
    "ItemDefinition",
    "Lane",
    "LaneSet",
    "Message",
    "MessageFlow",
    "Participant",
    "Process",
    "Signal",
    "TextAnnotation",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lane(BaseElement):
    """A ``lane``: the flow nodes of one role, optionally split into child lanes."""

    TAG: ClassVar[str] = "lane"

    name: str | None = attr("name")
    partition_element_ref: str | None = attr("partitionElementRef")
    partition_element: tuple[XmlNode, ...] = raw("partitionElement")
    flow_node_refs: tuple[str, ...] = texts("flowNodeRef")
    child_lane_set: LaneSet | None = child("childLaneSet", "LaneSet")

    def all_flow_node_refs(self) -> tuple[str, ...]:
        """The flow node ids of this lane and of all its child lanes."""
        refs = list(self.flow_node_refs)
        if self.child_lane_set is not None:
            for lane in self.child_lane_set.lanes:
                refs.extend(lane.all_flow_node_refs())
        return tuple(refs)


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneSet(BaseElement):
    """A ``laneSet`` (or a lane's ``childLaneSet``)."""

    TAG: ClassVar[str] = "laneSet"

    name: str | None = attr("name")
    lanes: tuple[Lane, ...] = children("lane", "Lane")

    def all_lanes(self) -> tuple[Lane, ...]:
        """Every lane, child lanes included (depth first)."""
        out: list[Lane] = []
        for lane in self.lanes:
            out.append(lane)
            if lane.child_lane_set is not None:
                out.extend(lane.child_lane_set.all_lanes())
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Process(RootElement, FlowElementsContainer):
    """A ``process``.

    Attributes:
        is_executable: ``isExecutable`` as written (``None`` when missing).
        lane_sets: The lane sets (roles) of the process.
        flow_elements: Flow nodes, sequence flows and data objects, in document order.
        artifacts: Associations, text annotations and groups.
    """

    TAG: ClassVar[str] = "process"

    name: str | None = attr("name")
    process_type: str | None = attr("processType")
    is_closed: bool | None = attr("isClosed", "bool")
    is_executable: bool | None = attr("isExecutable", "bool")
    definitional_collaboration_ref: str | None = attr("definitionalCollaborationRef")
    supported_interface_refs: tuple[str, ...] = texts("supportedInterfaceRef")
    io_specification: InputOutputSpecification | None = child(
        "ioSpecification", "InputOutputSpecification"
    )
    io_bindings: tuple[XmlNode, ...] = raw("ioBinding")
    auditing: tuple[XmlNode, ...] = raw("auditing")
    monitoring: tuple[XmlNode, ...] = raw("monitoring")
    properties: tuple[Property, ...] = children("property", "Property")
    lane_sets: tuple[LaneSet, ...] = children("laneSet", "LaneSet")
    flow_elements: tuple[FlowElement, ...] = group("FlowElement")
    artifacts: tuple[Artifact, ...] = group("Artifact")
    resource_roles: tuple[XmlNode, ...] = raw(
        "resourceRole|performer|humanPerformer|potentialOwner"
    )
    correlation_subscriptions: tuple[XmlNode, ...] = raw("correlationSubscription")
    supports: tuple[str, ...] = texts("supports")

    @property
    def executable(self) -> bool:
        """``isExecutable`` with its default (``False``)."""
        return bool(self.is_executable)

    @property
    def lanes(self) -> tuple[Lane, ...]:
        """Every lane of every lane set (child lanes included)."""
        out: list[Lane] = []
        for lane_set in self.lane_sets:
            out.extend(lane_set.all_lanes())
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant(BaseElement):
    """A ``participant`` (a pool) of a collaboration."""

    TAG: ClassVar[str] = "participant"

    name: str | None = attr("name")
    process_ref: str | None = attr("processRef")
    interface_refs: tuple[str, ...] = texts("interfaceRef")
    end_point_refs: tuple[str, ...] = texts("endPointRef")
    participant_multiplicity: tuple[XmlNode, ...] = raw("participantMultiplicity")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFlow(BaseElement):
    """A ``messageFlow`` between pools (or elements of different pools)."""

    TAG: ClassVar[str] = "messageFlow"

    name: str | None = attr("name")
    source_ref: str | None = attr("sourceRef")
    target_ref: str | None = attr("targetRef")
    message_ref: str | None = attr("messageRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class Collaboration(RootElement):
    """A ``collaboration``: pools (participants) and the message flows between them."""

    TAG: ClassVar[str] = "collaboration"

    name: str | None = attr("name")
    is_closed: bool | None = attr("isClosed", "bool")
    participants: tuple[Participant, ...] = children("participant", "Participant")
    message_flows: tuple[MessageFlow, ...] = children("messageFlow", "MessageFlow")
    artifacts: tuple[Artifact, ...] = group("Artifact")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(RootElement):
    """A ``message`` root element (Camunda correlates messages by ``name``)."""

    TAG: ClassVar[str] = "message"

    name: str | None = attr("name")
    item_ref: str | None = attr("itemRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal(RootElement):
    """A ``signal`` root element."""

    TAG: ClassVar[str] = "signal"

    name: str | None = attr("name")
    structure_ref: str | None = attr("structureRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class Error(RootElement):
    """An ``error`` root element (matched by ``errorCode``)."""

    TAG: ClassVar[str] = "error"

    name: str | None = attr("name")
    error_code: str | None = attr("errorCode")
    structure_ref: str | None = attr("structureRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation(RootElement):
    """An ``escalation`` root element (matched by ``escalationCode``)."""

    TAG: ClassVar[str] = "escalation"

    name: str | None = attr("name")
    escalation_code: str | None = attr("escalationCode")
    structure_ref: str | None = attr("structureRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemDefinition(RootElement):
    """An ``itemDefinition`` (a data type)."""

    TAG: ClassVar[str] = "itemDefinition"

    structure_ref: str | None = attr("structureRef")
    is_collection: bool | None = attr("isCollection", "bool")
    item_kind: str | None = attr("itemKind")


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryValue(BaseElement):
    """A ``categoryValue`` (what a group shows)."""

    TAG: ClassVar[str] = "categoryValue"

    value: str | None = attr("value")


@dataclass(frozen=True, slots=True, kw_only=True)
class Category(RootElement):
    """A ``category`` holding category values."""

    TAG: ClassVar[str] = "category"

    name: str | None = attr("name")
    category_values: tuple[CategoryValue, ...] = children("categoryValue", "CategoryValue")


@dataclass(frozen=True, slots=True, kw_only=True)
class Association(Artifact):
    """An ``association`` (annotation links, compensation handler links)."""

    TAG: ClassVar[str] = "association"

    source_ref: str | None = attr("sourceRef")
    target_ref: str | None = attr("targetRef")
    association_direction: str | None = attr("associationDirection")


@dataclass(frozen=True, slots=True, kw_only=True)
class TextAnnotation(Artifact):
    """A ``textAnnotation``."""

    TAG: ClassVar[str] = "textAnnotation"

    text_format: str | None = attr("textFormat")
    text: str | None = text1("text", keep_space=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Group(Artifact):
    """A ``group`` showing a category value."""

    TAG: ClassVar[str] = "group"

    category_value_ref: str | None = attr("categoryValueRef")
