"""``definitions``: the document root, with the lookups a process engine needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from liucheng.errors import ModelError

from ._activities import Activity, SubProcess
from ._base import BaseElement, FieldSpec, FlowElement, RootElement, attr, children, group, raw
from ._di import BPMNDiagram, BPMNEdge, BPMNShape
from ._events import BoundaryEvent, EventDefinition
from ._flow import FlowNode, SequenceFlow
from ._root import (
    Association,
    Collaboration,
    Error,
    Escalation,
    Lane,
    Message,
    Process,
    Signal,
)
from ._xml import BPMNDI_NS, XmlNode

__all__ = ["Definitions", "field_specs", "iter_children"]

T = TypeVar("T", bound=BaseElement)

Container = Process | SubProcess


_SPECS: dict[type, tuple[tuple[str, FieldSpec], ...]] = {}


def field_specs(cls: type[BaseElement]) -> tuple[tuple[str, FieldSpec], ...]:
    """``(field name, spec)`` of every XML-mapped field of a model class, in schema order."""
    found = _SPECS.get(cls)
    if found is None:
        out: list[tuple[str, FieldSpec]] = []
        for f in fields(cls):
            spec = f.metadata.get("spec")
            if isinstance(spec, FieldSpec):
                out.append((f.name, spec))
        found = _SPECS[cls] = tuple(out)
    return found


def iter_children(element: BaseElement) -> Iterator[BaseElement]:
    """The typed child elements of ``element`` (documentation and expressions included)."""
    for name, spec in field_specs(type(element)):
        if spec.kind == "child":
            value = getattr(element, name)
            if value is not None:
                yield value
        elif spec.kind == "children":
            yield from getattr(element, name)


def local_ref(ref: str | None) -> str | None:
    """A reference without a namespace prefix (``tns:Msg_1`` → ``Msg_1``)."""
    if ref is None:
        return None
    ref = ref.strip()
    return ref.rpartition(":")[2] if ":" in ref else ref


class _Index:
    __slots__ = (
        "boundary",
        "by_id",
        "container",
        "duplicates",
        "edges",
        "incoming",
        "lane",
        "outgoing",
        "parent",
        "process",
        "shapes",
    )

    def __init__(self) -> None:
        self.by_id: dict[str, BaseElement] = {}
        self.duplicates: list[BaseElement] = []
        self.parent: dict[str, BaseElement] = {}
        self.container: dict[str, Container] = {}
        self.process: dict[str, Process] = {}
        self.incoming: dict[str, list[SequenceFlow]] = {}
        self.outgoing: dict[str, list[SequenceFlow]] = {}
        self.boundary: dict[str, list[BoundaryEvent]] = {}
        self.lane: dict[str, Lane] = {}
        self.shapes: dict[str, BPMNShape] = {}
        self.edges: dict[str, BPMNEdge] = {}


def _walk(
    index: _Index,
    element: BaseElement,
    parent: BaseElement | None,
    container: Container | None,
    process: Process | None,
) -> None:
    if element.id is not None:
        if element.id in index.by_id:
            index.duplicates.append(element)
        else:
            index.by_id[element.id] = element
            if parent is not None:
                index.parent[element.id] = parent
            if container is not None and isinstance(element, FlowElement):
                index.container[element.id] = container
            if process is not None:
                index.process[element.id] = process
    if isinstance(element, Process):
        process = element
        container = element
    elif isinstance(element, SubProcess):
        container = element
    if isinstance(element, SequenceFlow):
        src, tgt = local_ref(element.source_ref), local_ref(element.target_ref)
        if src:
            index.outgoing.setdefault(src, []).append(element)
        if tgt:
            index.incoming.setdefault(tgt, []).append(element)
    elif isinstance(element, BoundaryEvent):
        att = local_ref(element.attached_to_ref)
        if att:
            index.boundary.setdefault(att, []).append(element)
    elif isinstance(element, Lane):
        for ref in element.flow_node_refs:
            index.lane.setdefault(local_ref(ref) or ref, element)
    elif isinstance(element, BPMNShape):
        shape_ref = local_ref(element.bpmn_element)
        if shape_ref:
            index.shapes.setdefault(shape_ref, element)
    elif isinstance(element, BPMNEdge):
        edge_ref = local_ref(element.bpmn_element)
        if edge_ref:
            index.edges.setdefault(edge_ref, element)
    for sub in iter_children(element):
        _walk(index, sub, element, container, process)


@dataclass(frozen=True, slots=True, kw_only=True)
class Definitions(BaseElement):
    """The root ``definitions`` of a BPMN document.

    Attributes:
        namespaces: Namespace declarations ``(prefix or None, uri)`` of the document (kept so
            the writer uses the same prefixes).
        root_elements: Processes, collaborations, messages, signals, errors... in document order.
        diagrams: BPMN DI diagrams.
        file: Source file name (for error messages; not compared).
    """

    TAG: ClassVar[str] = "definitions"
    #: Unknown children of definitions are root elements (resource, interface...); the writer
    #: puts them before the diagrams, where the schema wants root elements.
    EXTRA_CHILDREN_BEFORE: ClassVar[str] = "diagrams"

    name: str | None = attr("name")
    target_namespace: str | None = attr("targetNamespace")
    expression_language: str | None = attr("expressionLanguage")
    type_language: str | None = attr("typeLanguage")
    exporter: str | None = attr("exporter")
    exporter_version: str | None = attr("exporterVersion")
    imports: tuple[XmlNode, ...] = raw("import")
    extension_declarations: tuple[XmlNode, ...] = raw("extension")
    root_elements: tuple[BaseElement, ...] = group("RootElement|EventDefinition")
    diagrams: tuple[BPMNDiagram, ...] = children("BPMNDiagram", "BPMNDiagram", BPMNDI_NS)
    relationships: tuple[XmlNode, ...] = raw("relationship")
    namespaces: tuple[tuple[str | None, str], ...] = ()
    file: str | None = field(default=None, compare=False, repr=False)
    _index: Any = field(default=None, init=False, compare=False, repr=False)

    def _idx(self) -> _Index:
        index = self._index
        if index is None:
            index = _Index()
            _walk(index, self, None, None, None)
            object.__setattr__(self, "_index", index)
        assert isinstance(index, _Index)
        return index

    # -- collections ------------------------------------------------------------------------

    def _roots(self, cls: type[T]) -> tuple[T, ...]:
        return tuple(e for e in self.root_elements if isinstance(e, cls))

    @property
    def processes(self) -> tuple[Process, ...]:
        """The processes, in document order."""
        return self._roots(Process)

    @property
    def collaborations(self) -> tuple[Collaboration, ...]:
        """The collaborations."""
        return self._roots(Collaboration)

    @property
    def messages(self) -> tuple[Message, ...]:
        """The message root elements."""
        return self._roots(Message)

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signal root elements."""
        return self._roots(Signal)

    @property
    def errors(self) -> tuple[Error, ...]:
        """The error root elements."""
        return self._roots(Error)

    @property
    def escalations(self) -> tuple[Escalation, ...]:
        """The escalation root elements."""
        return self._roots(Escalation)

    @property
    def executable_processes(self) -> tuple[Process, ...]:
        """The processes with ``isExecutable="true"``."""
        return tuple(p for p in self.processes if p.executable)

    # -- lookups ----------------------------------------------------------------------------

    def resolve(self, ref: str | None) -> str | None:
        """A reference as an id: a ``prefix:`` in front is dropped (``tns:Msg_1`` → ``Msg_1``)."""
        return local_ref(ref)

    def get(self, element_id: str | None) -> BaseElement | None:
        """The element with that id (or reference), or ``None``."""
        key = local_ref(element_id)
        return None if key is None else self._idx().by_id.get(key)

    def element(self, element_id: str, cls: type[T] = BaseElement) -> T:  # type: ignore[assignment]
        """The element with that id, checked to be a ``cls``.

        Raises:
            ModelError: No such element, or it is of another type.
        """
        found = self.get(element_id)
        if found is None:
            raise ModelError(
                f"no element with id {element_id!r}",
                code="bpmn.element.unknown",
                file=self.file,
                element_id=element_id,
                hint="check the id against the BPMN file",
            )
        if not isinstance(found, cls):
            raise ModelError(
                f"element {element_id!r} is a {found.element_type}, not a {cls.__name__}",
                code="bpmn.element.type",
                file=self.file,
                line=found.line,
                element_id=element_id,
            )
        return found

    def process(self, process_id: str | None = None) -> Process:
        """The process with that id; without an id, the only executable (or only) process.

        Raises:
            ModelError: No such process, or no id given and the choice is ambiguous.
        """
        if process_id is not None:
            return self.element(process_id, Process)
        candidates = self.executable_processes or self.processes
        if len(candidates) != 1:
            raise ModelError(
                f"{len(candidates)} candidate processes; name the one you mean",
                code="bpmn.process.ambiguous",
                file=self.file,
                hint="pass the process id",
            )
        return candidates[0]

    def all_elements(self) -> Iterator[BaseElement]:
        """Every element that has an id (the first of duplicates), in document order."""
        return iter(self._idx().by_id.values())

    def duplicate_elements(self) -> list[BaseElement]:
        """Elements whose id was already used by an earlier element."""
        return list(self._idx().duplicates)

    def parent(self, element_id: str) -> BaseElement | None:
        """The element directly around this one (``None`` for root elements' parent)."""
        return self._idx().parent.get(local_ref(element_id) or element_id)

    def container(self, element_id: str) -> Process | SubProcess | None:
        """The process or subprocess a flow element sits directly in."""
        return self._idx().container.get(local_ref(element_id) or element_id)

    def process_of(self, element_id: str) -> Process | None:
        """The process an element belongs to."""
        return self._idx().process.get(local_ref(element_id) or element_id)

    def flow_nodes(self, container: Process | SubProcess | str) -> tuple[FlowNode, ...]:
        """The flow nodes directly inside a process or subprocess (given or by id)."""
        if isinstance(container, str):
            found = self.get(container)
            if not isinstance(found, Process | SubProcess):
                return ()
            container = found
        return container.flow_nodes

    def incoming(self, node_id: str) -> tuple[SequenceFlow, ...]:
        """Sequence flows whose ``targetRef`` is the node."""
        return tuple(self._idx().incoming.get(local_ref(node_id) or node_id, ()))

    def outgoing(self, node_id: str) -> tuple[SequenceFlow, ...]:
        """Sequence flows whose ``sourceRef`` is the node, in document order."""
        return tuple(self._idx().outgoing.get(local_ref(node_id) or node_id, ()))

    def boundary_events(self, activity_id: str) -> tuple[BoundaryEvent, ...]:
        """Boundary events attached to the activity."""
        return tuple(self._idx().boundary.get(local_ref(activity_id) or activity_id, ()))

    def lane_of(self, node_id: str) -> Lane | None:
        """The innermost lane naming the node in its ``flowNodeRef`` list."""
        return self._idx().lane.get(local_ref(node_id) or node_id)

    def shape(self, element_id: str) -> BPMNShape | None:
        """The DI shape of an element."""
        return self._idx().shapes.get(local_ref(element_id) or element_id)

    def edge(self, element_id: str) -> BPMNEdge | None:
        """The DI edge of a flow or association."""
        return self._idx().edges.get(local_ref(element_id) or element_id)

    def event_subprocesses(self, container: Process | SubProcess) -> tuple[SubProcess, ...]:
        """Event subprocesses directly inside a container."""
        return tuple(
            e
            for e in container.flow_elements
            if isinstance(e, SubProcess) and e.is_event_subprocess
        )

    def activities(self, container: Process | SubProcess) -> tuple[Activity, ...]:
        """Activities directly inside a container."""
        return tuple(e for e in container.flow_elements if isinstance(e, Activity))

    def event_definition(self, ref: str) -> EventDefinition | None:
        """A global event definition (root element) by id, for ``eventDefinitionRef``."""
        found = self.get(ref)
        return found if isinstance(found, EventDefinition) else None

    def compensation_handler(self, boundary_event_id: str) -> Activity | None:
        """The activity a compensation boundary event is associated with (its handler)."""
        key = local_ref(boundary_event_id)
        for el in self._idx().by_id.values():
            if (
                isinstance(el, Association)
                and local_ref(el.source_ref) == key
                and isinstance(self.get(el.target_ref), Activity)
            ):
                handler = self.get(el.target_ref)
                assert isinstance(handler, Activity)
                return handler
        return None

    def message_name(self, ref: str | None) -> str | None:
        """The ``name`` of the message a ``messageRef`` points at (what messages correlate by)."""
        found = self.get(ref)
        return found.name if isinstance(found, Message) else None

    def signal_name(self, ref: str | None) -> str | None:
        """The ``name`` of the signal a ``signalRef`` points at."""
        found = self.get(ref)
        return found.name if isinstance(found, Signal) else None

    def error_code(self, ref: str | None) -> str | None:
        """The ``errorCode`` of the error an ``errorRef`` points at."""
        found = self.get(ref)
        return found.error_code if isinstance(found, Error) else None

    def escalation_code(self, ref: str | None) -> str | None:
        """The ``escalationCode`` of the escalation an ``escalationRef`` points at."""
        found = self.get(ref)
        return found.escalation_code if isinstance(found, Escalation) else None

    def namespace_map(self) -> dict[str | None, str]:
        """The namespace declarations as a dict (prefix → URI)."""
        return dict(self.namespaces)

    def root(self, element_id: str) -> RootElement | None:
        """A root element by id."""
        found = self.get(element_id)
        return found if isinstance(found, RootElement) else None
