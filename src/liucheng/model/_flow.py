"""Flow nodes, sequence flows, gateways and loop characteristics."""

# ruff: noqa: RUF009  (field() helpers carrying the XML mapping are the dataclass defaults)

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ._base import BaseElement, Expression, FlowElement, attr, child, children, text1, texts
from ._data import DataInput, DataOutput

__all__ = [
    "ComplexBehaviorDefinition",
    "ComplexGateway",
    "EventBasedGateway",
    "ExclusiveGateway",
    "FlowNode",
    "Gateway",
    "InclusiveGateway",
    "LoopCharacteristics",
    "MultiInstanceLoopCharacteristics",
    "ParallelGateway",
    "SequenceFlow",
    "StandardLoopCharacteristics",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowNode(FlowElement):
    """Base of activities, events and gateways.

    Attributes:
        incoming: Ids from the ``incoming`` child elements as written in the file (the model's
            lookups use the sequence flows' ``sourceRef``/``targetRef`` instead).
        outgoing: Ids from the ``outgoing`` child elements.
    """

    incoming: tuple[str, ...] = texts("incoming")
    outgoing: tuple[str, ...] = texts("outgoing")


@dataclass(frozen=True, slots=True, kw_only=True)
class SequenceFlow(FlowElement):
    """A ``sequenceFlow`` between two flow nodes, optionally with a condition."""

    TAG: ClassVar[str] = "sequenceFlow"

    source_ref: str | None = attr("sourceRef")
    target_ref: str | None = attr("targetRef")
    is_immediate: bool | None = attr("isImmediate", "bool")
    condition_expression: Expression | None = child("conditionExpression", "Expression")

    @property
    def condition(self) -> str | None:
        """The condition body (stripped), or ``None`` for an unconditional flow."""
        if self.condition_expression is None:
            return None
        return self.condition_expression.text or None


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway(FlowNode):
    """Base of gateways."""

    gateway_direction: str | None = attr("gatewayDirection")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExclusiveGateway(Gateway):
    """An ``exclusiveGateway`` (XOR)."""

    TAG: ClassVar[str] = "exclusiveGateway"

    default: str | None = attr("default")


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusiveGateway(Gateway):
    """An ``inclusiveGateway`` (OR)."""

    TAG: ClassVar[str] = "inclusiveGateway"

    default: str | None = attr("default")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelGateway(Gateway):
    """A ``parallelGateway`` (AND)."""

    TAG: ClassVar[str] = "parallelGateway"


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplexGateway(Gateway):
    """A ``complexGateway`` with an optional activation condition."""

    TAG: ClassVar[str] = "complexGateway"

    default: str | None = attr("default")
    activation_condition: Expression | None = child("activationCondition", "Expression")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBasedGateway(Gateway):
    """An ``eventBasedGateway``.

    Attributes:
        instantiate: Whether the gateway starts the process.
        event_gateway_type: ``Exclusive`` (default) or ``Parallel``.
    """

    TAG: ClassVar[str] = "eventBasedGateway"

    instantiate: bool | None = attr("instantiate", "bool")
    event_gateway_type: str | None = attr("eventGatewayType")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopCharacteristics(BaseElement):
    """Base of loop and multi-instance characteristics."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardLoopCharacteristics(LoopCharacteristics):
    """``standardLoopCharacteristics``: repeat while ``loop_condition`` holds."""

    TAG: ClassVar[str] = "standardLoopCharacteristics"

    test_before: bool | None = attr("testBefore", "bool")
    loop_maximum: int | None = attr("loopMaximum", "int")
    loop_condition: Expression | None = child("loopCondition", "Expression")


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplexBehaviorDefinition(BaseElement):
    """A ``complexBehaviorDefinition`` of a multi-instance activity."""

    TAG: ClassVar[str] = "complexBehaviorDefinition"

    condition: Expression | None = child("condition", "Expression")


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiInstanceLoopCharacteristics(LoopCharacteristics):
    """``multiInstanceLoopCharacteristics``: parallel or sequential instances of an activity.

    Camunda's ``camunda:collection`` and ``camunda:elementVariable`` stay foreign attributes
    (``mi.attr("camunda", "collection")``).
    """

    TAG: ClassVar[str] = "multiInstanceLoopCharacteristics"

    is_sequential: bool | None = attr("isSequential", "bool")
    behavior: str | None = attr("behavior")
    one_behavior_event_ref: str | None = attr("oneBehaviorEventRef")
    none_behavior_event_ref: str | None = attr("noneBehaviorEventRef")
    loop_cardinality: Expression | None = child("loopCardinality", "Expression")
    loop_data_input_ref: str | None = text1("loopDataInputRef")
    loop_data_output_ref: str | None = text1("loopDataOutputRef")
    input_data_item: DataInput | None = child("inputDataItem", "DataInput")
    output_data_item: DataOutput | None = child("outputDataItem", "DataOutput")
    complex_behavior_definitions: tuple[ComplexBehaviorDefinition, ...] = children(
        "complexBehaviorDefinition", "ComplexBehaviorDefinition"
    )
    completion_condition: Expression | None = child("completionCondition", "Expression")

    @property
    def sequential(self) -> bool:
        """``isSequential`` with its default (``False``)."""
        return bool(self.is_sequential)
