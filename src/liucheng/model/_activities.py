"""Activities: tasks, subprocesses, call activities."""

# ruff: noqa: RUF009  (field() helpers carrying the XML mapping are the dataclass defaults)

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ._base import Artifact, Expression, FlowElement, attr, child, children, group, raw, text1
from ._data import DataInputAssociation, DataOutputAssociation, InputOutputSpecification, Property
from ._flow import FlowNode, LoopCharacteristics, SequenceFlow
from ._xml import XmlNode

if TYPE_CHECKING:
    from ._root import LaneSet

__all__ = [
    "Activity",
    "AdHocSubProcess",
    "BusinessRuleTask",
    "CallActivity",
    "FlowElementsContainer",
    "ManualTask",
    "ReceiveTask",
    "ScriptTask",
    "SendTask",
    "ServiceTask",
    "SubProcess",
    "Task",
    "Transaction",
    "UserTask",
]


class FlowElementsContainer:
    """Helpers shared by processes and subprocesses (a mix-in without state)."""

    __slots__ = ()

    flow_elements: tuple[FlowElement, ...]
    artifacts: tuple[Artifact, ...]

    @property
    def flow_nodes(self) -> tuple[FlowNode, ...]:
        """The flow nodes directly inside (not inside nested subprocesses)."""
        return tuple(e for e in self.flow_elements if isinstance(e, FlowNode))

    @property
    def sequence_flows(self) -> tuple[SequenceFlow, ...]:
        """The sequence flows directly inside."""
        return tuple(e for e in self.flow_elements if isinstance(e, SequenceFlow))

    @property
    def start_events(self) -> tuple[FlowNode, ...]:
        """The start events directly inside."""
        return tuple(
            e for e in self.flow_elements if isinstance(e, FlowNode) and e.TAG == "startEvent"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity(FlowNode):
    """Base of tasks, subprocesses and call activities.

    Attributes:
        default: Id of the default outgoing flow.
        is_for_compensation: Whether this is a compensation handler.
        loop_characteristics: Standard loop or multi-instance characteristics.
    """

    io_specification: InputOutputSpecification | None = child(
        "ioSpecification", "InputOutputSpecification"
    )
    properties: tuple[Property, ...] = children("property", "Property")
    data_input_associations: tuple[DataInputAssociation, ...] = children(
        "dataInputAssociation", "DataInputAssociation"
    )
    data_output_associations: tuple[DataOutputAssociation, ...] = children(
        "dataOutputAssociation", "DataOutputAssociation"
    )
    resource_roles: tuple[XmlNode, ...] = raw(
        "resourceRole|performer|humanPerformer|potentialOwner"
    )
    loop_characteristics: LoopCharacteristics | None = group("LoopCharacteristics", many=False)
    is_for_compensation: bool | None = attr("isForCompensation", "bool")
    start_quantity: int | None = attr("startQuantity", "int")
    completion_quantity: int | None = attr("completionQuantity", "int")
    default: str | None = attr("default")

    @property
    def for_compensation(self) -> bool:
        """``isForCompensation`` with its default (``False``)."""
        return bool(self.is_for_compensation)


@dataclass(frozen=True, slots=True, kw_only=True)
class Task(Activity):
    """A plain ``task`` (also the base of the typed tasks)."""

    TAG: ClassVar[str] = "task"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTask(Task):
    """A ``userTask``: Camunda's assignee/candidates stay foreign attributes."""

    TAG: ClassVar[str] = "userTask"

    renderings: tuple[XmlNode, ...] = raw("rendering")
    implementation: str | None = attr("implementation")


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualTask(Task):
    """A ``manualTask``."""

    TAG: ClassVar[str] = "manualTask"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceTask(Task):
    """A ``serviceTask``."""

    TAG: ClassVar[str] = "serviceTask"

    implementation: str | None = attr("implementation")
    operation_ref: str | None = attr("operationRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class SendTask(Task):
    """A ``sendTask``."""

    TAG: ClassVar[str] = "sendTask"

    implementation: str | None = attr("implementation")
    message_ref: str | None = attr("messageRef")
    operation_ref: str | None = attr("operationRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveTask(Task):
    """A ``receiveTask`` waiting for a message."""

    TAG: ClassVar[str] = "receiveTask"

    implementation: str | None = attr("implementation")
    instantiate: bool | None = attr("instantiate", "bool")
    message_ref: str | None = attr("messageRef")
    operation_ref: str | None = attr("operationRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptTask(Task):
    """A ``scriptTask``; with ``scriptFormat="feel"`` the script is a FEEL expression."""

    TAG: ClassVar[str] = "scriptTask"

    script: str | None = text1("script", keep_space=True)
    script_format: str | None = attr("scriptFormat")


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessRuleTask(Task):
    """A ``businessRuleTask`` (Camunda: ``camunda:decisionRef``, ``camunda:resultVariable``)."""

    TAG: ClassVar[str] = "businessRuleTask"

    implementation: str | None = attr("implementation")


@dataclass(frozen=True, slots=True, kw_only=True)
class SubProcess(Activity, FlowElementsContainer):
    """An embedded ``subProcess``; with ``triggered_by_event`` an event subprocess."""

    TAG: ClassVar[str] = "subProcess"

    lane_sets: tuple[LaneSet, ...] = children("laneSet", "LaneSet")
    flow_elements: tuple[FlowElement, ...] = group("FlowElement")
    artifacts: tuple[Artifact, ...] = group("Artifact")
    triggered_by_event: bool | None = attr("triggeredByEvent", "bool")

    @property
    def is_event_subprocess(self) -> bool:
        """Whether this is an event subprocess (``triggeredByEvent="true"``)."""
        return bool(self.triggered_by_event)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction(SubProcess):
    """A ``transaction`` subprocess."""

    TAG: ClassVar[str] = "transaction"

    method: str | None = attr("method")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdHocSubProcess(SubProcess):
    """An ``adHocSubProcess`` (``ordering`` is ``Parallel`` or ``Sequential``)."""

    TAG: ClassVar[str] = "adHocSubProcess"

    completion_condition: Expression | None = child("completionCondition", "Expression")
    cancel_remaining_instances: bool | None = attr("cancelRemainingInstances", "bool")
    ordering: str | None = attr("ordering")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallActivity(Activity):
    """A ``callActivity`` calling a process (or global task) by ``calledElement``."""

    TAG: ClassVar[str] = "callActivity"

    called_element: str | None = attr("calledElement")
