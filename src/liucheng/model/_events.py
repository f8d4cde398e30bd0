"""Events and event definitions."""

# ruff: noqa: RUF009  (field() helpers carrying the XML mapping are the dataclass defaults)

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._base import BaseElement, Expression, attr, child, children, group, text1, texts
from ._data import (
    DataInput,
    DataInputAssociation,
    DataOutput,
    DataOutputAssociation,
    InputSet,
    OutputSet,
    Property,
)
from ._flow import FlowNode

__all__ = [
    "BoundaryEvent",
    "CancelEventDefinition",
    "CatchEvent",
    "CompensateEventDefinition",
    "ConditionalEventDefinition",
    "EndEvent",
    "ErrorEventDefinition",
    "EscalationEventDefinition",
    "Event",
    "EventDefinition",
    "ImplicitThrowEvent",
    "IntermediateCatchEvent",
    "IntermediateThrowEvent",
    "LinkEventDefinition",
    "MessageEventDefinition",
    "SignalEventDefinition",
    "StartEvent",
    "TerminateEventDefinition",
    "ThrowEvent",
    "TimerEventDefinition",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDefinition(BaseElement):
    """Base of event definitions (also allowed as root elements, referenced by id)."""

    KIND: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        """Short kind name: ``message``, ``timer``, ``signal``, ``error``..."""
        return self.KIND


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEventDefinition(EventDefinition):
    """A ``messageEventDefinition`` referring to a ``message`` root element."""

    TAG: ClassVar[str] = "messageEventDefinition"
    KIND: ClassVar[str] = "message"

    message_ref: str | None = attr("messageRef")
    operation_ref: str | None = text1("operationRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerEventDefinition(EventDefinition):
    """A ``timerEventDefinition`` with one of ``timeDate``, ``timeDuration``, ``timeCycle``."""

    TAG: ClassVar[str] = "timerEventDefinition"
    KIND: ClassVar[str] = "timer"

    time_date: Expression | None = child("timeDate", "Expression")
    time_duration: Expression | None = child("timeDuration", "Expression")
    time_cycle: Expression | None = child("timeCycle", "Expression")

    @property
    def timer(self) -> tuple[str, str] | None:
        """``("date"|"duration"|"cycle", text)`` of the first given timer value, else ``None``."""
        for kind, expr in (
            ("date", self.time_date),
            ("duration", self.time_duration),
            ("cycle", self.time_cycle),
        ):
            if expr is not None:
                return kind, expr.text
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalEventDefinition(EventDefinition):
    """A ``signalEventDefinition`` referring to a ``signal`` root element."""

    TAG: ClassVar[str] = "signalEventDefinition"
    KIND: ClassVar[str] = "signal"

    signal_ref: str | None = attr("signalRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEventDefinition(EventDefinition):
    """An ``errorEventDefinition`` referring to an ``error`` root element (or catching all)."""

    TAG: ClassVar[str] = "errorEventDefinition"
    KIND: ClassVar[str] = "error"

    error_ref: str | None = attr("errorRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationEventDefinition(EventDefinition):
    """An ``escalationEventDefinition`` referring to an ``escalation`` root element."""

    TAG: ClassVar[str] = "escalationEventDefinition"
    KIND: ClassVar[str] = "escalation"

    escalation_ref: str | None = attr("escalationRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensateEventDefinition(EventDefinition):
    """A ``compensateEventDefinition`` (optionally for one activity)."""

    TAG: ClassVar[str] = "compensateEventDefinition"
    KIND: ClassVar[str] = "compensation"

    activity_ref: str | None = attr("activityRef")
    wait_for_completion: bool | None = attr("waitForCompletion", "bool")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionalEventDefinition(EventDefinition):
    """A ``conditionalEventDefinition`` with its ``condition``."""

    TAG: ClassVar[str] = "conditionalEventDefinition"
    KIND: ClassVar[str] = "conditional"

    condition: Expression | None = child("condition", "Expression")


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkEventDefinition(EventDefinition):
    """A ``linkEventDefinition``: throw and catch links pair up by ``name``."""

    TAG: ClassVar[str] = "linkEventDefinition"
    KIND: ClassVar[str] = "link"

    name: str | None = attr("name")
    sources: tuple[str, ...] = texts("source")
    target: str | None = text1("target")


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminateEventDefinition(EventDefinition):
    """A ``terminateEventDefinition`` (end event ending the whole scope)."""

    TAG: ClassVar[str] = "terminateEventDefinition"
    KIND: ClassVar[str] = "terminate"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelEventDefinition(EventDefinition):
    """A ``cancelEventDefinition`` (transaction cancel)."""

    TAG: ClassVar[str] = "cancelEventDefinition"
    KIND: ClassVar[str] = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(FlowNode):
    """Base of all events.

    ``event_definitions`` is empty for a none event, has one entry for a typed event and several
    for a *multiple* event (``parallel_multiple`` on catch events tells the parallel kind).
    """

    properties: tuple[Property, ...] = children("property", "Property")

    @property
    def definitions(self) -> tuple[EventDefinition, ...]:
        """The event definitions (empty on the base class)."""
        return ()

    @property
    def definition(self) -> EventDefinition | None:
        """The single event definition, or ``None`` for a none or multiple event."""
        defs = self.definitions
        return defs[0] if len(defs) == 1 else None

    @property
    def event_kind(self) -> str:
        """``none``, ``multiple``, ``parallelMultiple`` or the definition kind (``timer``...)."""
        defs = self.definitions
        if not defs:
            return "none"
        if len(defs) > 1:
            return "parallelMultiple" if getattr(self, "parallel_multiple", None) else "multiple"
        return defs[0].kind


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchEvent(Event):
    """Base of start, intermediate catch and boundary events."""

    data_outputs: tuple[DataOutput, ...] = children("dataOutput", "DataOutput")
    data_output_associations: tuple[DataOutputAssociation, ...] = children(
        "dataOutputAssociation", "DataOutputAssociation"
    )
    output_set: OutputSet | None = child("outputSet", "OutputSet")
    event_definitions: tuple[EventDefinition, ...] = group("EventDefinition")
    event_definition_refs: tuple[str, ...] = texts("eventDefinitionRef")
    parallel_multiple: bool | None = attr("parallelMultiple", "bool")

    @property
    def definitions(self) -> tuple[EventDefinition, ...]:
        """The event definitions."""
        return self.event_definitions


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrowEvent(Event):
    """Base of intermediate throw and end events."""

    data_inputs: tuple[DataInput, ...] = children("dataInput", "DataInput")
    data_input_associations: tuple[DataInputAssociation, ...] = children(
        "dataInputAssociation", "DataInputAssociation"
    )
    input_set: InputSet | None = child("inputSet", "InputSet")
    event_definitions: tuple[EventDefinition, ...] = group("EventDefinition")
    event_definition_refs: tuple[str, ...] = texts("eventDefinitionRef")

    @property
    def definitions(self) -> tuple[EventDefinition, ...]:
        """The event definitions."""
        return self.event_definitions


@dataclass(frozen=True, slots=True, kw_only=True)
class StartEvent(CatchEvent):
    """A ``startEvent``; ``is_interrupting`` matters in event subprocesses."""

    TAG: ClassVar[str] = "startEvent"

    is_interrupting: bool | None = attr("isInterrupting", "bool")

    @property
    def interrupting(self) -> bool:
        """``isInterrupting`` with its default (``True``)."""
        return self.is_interrupting is not False


@dataclass(frozen=True, slots=True, kw_only=True)
class IntermediateCatchEvent(CatchEvent):
    """An ``intermediateCatchEvent``."""

    TAG: ClassVar[str] = "intermediateCatchEvent"


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundaryEvent(CatchEvent):
    """A ``boundaryEvent`` attached to an activity.

    Attributes:
        attached_to_ref: Id of the activity it is attached to.
        cancel_activity: ``cancelActivity`` as written (``None`` = default ``True``).
    """

    TAG: ClassVar[str] = "boundaryEvent"

    cancel_activity: bool | None = attr("cancelActivity", "bool")
    attached_to_ref: str | None = attr("attachedToRef")

    @property
    def interrupting(self) -> bool:
        """``cancelActivity`` with its default (``True``)."""
        return self.cancel_activity is not False


@dataclass(frozen=True, slots=True, kw_only=True)
class IntermediateThrowEvent(ThrowEvent):
    """An ``intermediateThrowEvent``."""

    TAG: ClassVar[str] = "intermediateThrowEvent"


@dataclass(frozen=True, slots=True, kw_only=True)
class EndEvent(ThrowEvent):
    """An ``endEvent``."""

    TAG: ClassVar[str] = "endEvent"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImplicitThrowEvent(ThrowEvent):
    """An ``implicitThrowEvent``."""

    TAG: ClassVar[str] = "implicitThrowEvent"
