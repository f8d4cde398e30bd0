"""BPMN DI: diagrams, planes, shapes, edges, bounds, waypoints, labels and label styles."""

# ruff: noqa: RUF009  (field() helpers carrying the XML mapping are the dataclass defaults)

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._base import BaseElement, attr, child, children, group
from ._xml import BPMNDI_NS, DC_NS, DI_NS

__all__ = [
    "BPMNDiagram",
    "BPMNEdge",
    "BPMNLabel",
    "BPMNLabelStyle",
    "BPMNPlane",
    "BPMNShape",
    "Bounds",
    "DiagramElement",
    "Font",
    "Point",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bounds(BaseElement):
    """``dc:Bounds``: a rectangle."""

    TAG: ClassVar[str] = "Bounds"
    NS: ClassVar[str] = DC_NS

    x: float = attr("x", "float", 0.0)
    y: float = attr("y", "float", 0.0)
    width: float = attr("width", "float", 0.0)
    height: float = attr("height", "float", 0.0)

    def overlaps(self, other: Bounds) -> bool:
        """Whether the two rectangles share interior area."""
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )

    @property
    def center(self) -> tuple[float, float]:
        """The centre point."""
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Point(BaseElement):
    """``di:waypoint``: one point of an edge."""

    TAG: ClassVar[str] = "waypoint"
    NS: ClassVar[str] = DI_NS

    x: float = attr("x", "float", 0.0)
    y: float = attr("y", "float", 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Font(BaseElement):
    """``dc:Font`` of a label style."""

    TAG: ClassVar[str] = "Font"
    NS: ClassVar[str] = DC_NS

    name: str | None = attr("name")
    size: float | None = attr("size", "float")
    is_bold: bool | None = attr("isBold", "bool")
    is_italic: bool | None = attr("isItalic", "bool")
    is_underline: bool | None = attr("isUnderline", "bool")
    is_strike_through: bool | None = attr("isStrikeThrough", "bool")


@dataclass(frozen=True, slots=True, kw_only=True)
class BPMNLabelStyle(BaseElement):
    """``bpmndi:BPMNLabelStyle``."""

    TAG: ClassVar[str] = "BPMNLabelStyle"
    NS: ClassVar[str] = BPMNDI_NS

    font: Font | None = child("Font", "Font", DC_NS)


@dataclass(frozen=True, slots=True, kw_only=True)
class BPMNLabel(BaseElement):
    """``bpmndi:BPMNLabel`` with optional bounds and style."""

    TAG: ClassVar[str] = "BPMNLabel"
    NS: ClassVar[str] = BPMNDI_NS

    label_style: str | None = attr("labelStyle")
    bounds: Bounds | None = child("Bounds", "Bounds", DC_NS)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagramElement(BaseElement):
    """Base of shapes and edges."""

    bpmn_element: str | None = attr("bpmnElement")


@dataclass(frozen=True, slots=True, kw_only=True)
class BPMNShape(DiagramElement):
    """``bpmndi:BPMNShape`` of a flow node, pool, lane, data object or artifact."""

    TAG: ClassVar[str] = "BPMNShape"
    NS: ClassVar[str] = BPMNDI_NS

    is_horizontal: bool | None = attr("isHorizontal", "bool")
    is_expanded: bool | None = attr("isExpanded", "bool")
    is_marker_visible: bool | None = attr("isMarkerVisible", "bool")
    is_message_visible: bool | None = attr("isMessageVisible", "bool")
    participant_band_kind: str | None = attr("participantBandKind")
    choreography_activity_shape: str | None = attr("choreographyActivityShape")
    bounds: Bounds | None = child("Bounds", "Bounds", DC_NS)
    label: BPMNLabel | None = child("BPMNLabel", "BPMNLabel", BPMNDI_NS)


@dataclass(frozen=True, slots=True, kw_only=True)
class BPMNEdge(DiagramElement):
    """``bpmndi:BPMNEdge`` of a sequence flow, message flow, association or data association."""

    TAG: ClassVar[str] = "BPMNEdge"
    NS: ClassVar[str] = BPMNDI_NS

    source_element: str | None = attr("sourceElement")
    target_element: str | None = attr("targetElement")
    message_visible_kind: str | None = attr("messageVisibleKind")
    waypoints: tuple[Point, ...] = children("waypoint", "Point", DI_NS)
    label: BPMNLabel | None = child("BPMNLabel", "BPMNLabel", BPMNDI_NS)


@dataclass(frozen=True, slots=True, kw_only=True)
class BPMNPlane(BaseElement):
    """``bpmndi:BPMNPlane``: the shapes and edges of one diagram."""

    TAG: ClassVar[str] = "BPMNPlane"
    NS: ClassVar[str] = BPMNDI_NS

    bpmn_element: str | None = attr("bpmnElement")
    elements: tuple[DiagramElement, ...] = group("DiagramElement")

    @property
    def shapes(self) -> tuple[BPMNShape, ...]:
        """The shapes of the plane."""
        return tuple(e for e in self.elements if isinstance(e, BPMNShape))

    @property
    def edges(self) -> tuple[BPMNEdge, ...]:
        """The edges of the plane."""
        return tuple(e for e in self.elements if isinstance(e, BPMNEdge))


@dataclass(frozen=True, slots=True, kw_only=True)
class BPMNDiagram(BaseElement):
    """``bpmndi:BPMNDiagram``."""

    TAG: ClassVar[str] = "BPMNDiagram"
    NS: ClassVar[str] = BPMNDI_NS

    name: str | None = attr("name")
    documentation_text: str | None = attr("documentation")
    resolution: float | None = attr("resolution", "float")
    plane: BPMNPlane | None = child("BPMNPlane", "BPMNPlane", BPMNDI_NS)
    label_styles: tuple[BPMNLabelStyle, ...] = children(
        "BPMNLabelStyle", "BPMNLabelStyle", BPMNDI_NS
    )
