"""A fluent builder: processes in Python code, written as BPMN with diagram (DI).

>>> defs = (
...     ProcessBuilder("order", name="Order")
...     .start_event("received", name="Order received")
...     .user_task("check", name="Check order", candidate_groups="clerks")
...     .exclusive_gateway("ok", name="Order OK?")
...     .branch(condition="=approved", name="yes")
...     .service_task("ship", name="Ship", topic="shipping")
...     .end_event("shipped")
...     .branch(default=True, name="no")
...     .end_event("rejected")
...     .build()
... )
>>> [n.id for n in defs.process().flow_nodes]
['received', 'check', 'ok', 'ship', 'shipped', 'rejected']

The cursor is the last node added; each new node is connected from it. ``branch`` goes back to
the last split gateway, ``move_to`` / ``connect_to`` jump to any node, ``boundary_event`` hangs an
event on the current activity and continues from it, ``sub_process`` ... ``end_sub_process``
builds a nested scope. Camunda 7 attributes (``assignee``, ``candidate_groups``, ``topic``,
``async_before``...) are written in the ``camunda:`` namespace the engine reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from liucheng.errors import ModelError

from ._activities import (
    BusinessRuleTask,
    CallActivity,
    ManualTask,
    ReceiveTask,
    ScriptTask,
    SendTask,
    ServiceTask,
    SubProcess,
    Task,
    UserTask,
)
from ._base import BaseElement, Documentation, Expression
from ._builder_emit import (
    ACTIVITY_TYPES,
    BuildFlow,
    BuildNode,
    build_container,
    build_diagram,
    lane_id,
    slug,
)
from ._definitions import Definitions
from ._events import (
    BoundaryEvent,
    CompensateEventDefinition,
    ConditionalEventDefinition,
    EndEvent,
    ErrorEventDefinition,
    EscalationEventDefinition,
    EventDefinition,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    MessageEventDefinition,
    SignalEventDefinition,
    StartEvent,
    TerminateEventDefinition,
    TimerEventDefinition,
)
from ._flow import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    FlowNode,
    InclusiveGateway,
    MultiInstanceLoopCharacteristics,
    ParallelGateway,
)
from ._root import (
    Collaboration,
    Error,
    Escalation,
    Lane,
    LaneSet,
    Message,
    Participant,
    Process,
    Signal,
)
from ._xml import (
    BPMN_NS,
    BPMNDI_NS,
    CAMUNDA_NS,
    DC_NS,
    DI_NS,
    WELL_KNOWN_NAMESPACES,
    XSI_NS,
    XmlNode,
    clark,
)

__all__ = ["ProcessBuilder"]


_CAMUNDA_KWARGS = {
    "assignee": "assignee",
    "candidate_groups": "candidateGroups",
    "candidate_users": "candidateUsers",
    "due_date": "dueDate",
    "follow_up_date": "followUpDate",
    "priority": "priority",
    "form_key": "formKey",
    "topic": "topic",
    "result_variable": "resultVariable",
    "decision_ref": "decisionRef",
    "initiator": "initiator",
}


def _formal(body: str) -> Expression:
    """A ``tFormalExpression`` (what Camunda Modeler writes for conditions and timers)."""
    return Expression(body=body, foreign_attrs=((clark(XSI_NS, "type"), "bpmn:tFormalExpression"),))


class ProcessBuilder:
    """Build one executable process (with optional lanes) and its diagram.

    Args:
        process_id: Id of the process (also the key to start it by).
        name: Display name.
        executable: ``isExecutable``.
        history_ttl: Camunda ``historyTimeToLive`` (kept for Camunda compatibility).
    """

    def __init__(
        self,
        process_id: str,
        *,
        name: str | None = None,
        executable: bool = True,
        history_ttl: str | None = None,
    ) -> None:
        self.process_id = process_id
        self.name = name
        self.executable = executable
        self._foreign: dict[str, str] = {}
        if history_ttl is not None:
            self._foreign[clark(CAMUNDA_NS, "historyTimeToLive")] = history_ttl
        self._nodes: dict[str, BuildNode] = {}
        self._flows: list[BuildFlow] = []
        self._lanes: list[str] = []
        self._lane: str | None = None
        self._containers: list[str | None] = [None]
        self._cursor: str | None = None
        # open split gateways, each with the ends of the branches built so far
        self._splits: list[tuple[str, list[str]]] = []
        self._pending: dict[str, Any] = {}
        self._branch_open = False
        self._roots: dict[str, BaseElement] = {}
        self._doc: str | None = None

    # -- navigation ---------------------------------------------------------------------------

    @property
    def current(self) -> str | None:
        """Id of the node the next element will be connected from."""
        return self._cursor

    def lane(self, name: str) -> ProcessBuilder:
        """Put the following nodes in the lane ``name`` (created on first use)."""
        if name not in self._lanes:
            self._lanes.append(name)
        self._lane = name
        return self

    def documentation(self, text: str) -> ProcessBuilder:
        """Documentation of the process."""
        self._doc = text
        return self

    def move_to(self, node_id: str) -> ProcessBuilder:
        """Continue from an existing node (no flow is added)."""
        self._require(node_id)
        self._cursor = node_id
        self._pending = {}
        self._branch_open = False
        return self

    def connect_to(
        self,
        node_id: str,
        *,
        condition: str | None = None,
        name: str | None = None,
        default: bool = False,
    ) -> ProcessBuilder:
        """Add a flow from the current node to an existing node (a join or a loop back)."""
        self._require(node_id)
        self._set_pending(condition, name, default)
        self._connect(node_id)
        self._cursor = node_id
        return self

    def branch(
        self,
        condition: str | None = None,
        *,
        name: str | None = None,
        default: bool = False,
        from_: str | None = None,
    ) -> ProcessBuilder:
        """Start another outgoing branch of the last split gateway (or of ``from_``).

        Args:
            condition: Condition of the branch's flow (FEEL; a leading ``=`` is kept).
            name: Label of the flow.
            default: Make the flow the gateway's default flow.
            from_: Node to branch from instead of the last split gateway.
        """
        if from_ is None and self._splits:
            split, ends = self._splits[-1]
            self._close_branch(split, ends)
            source: str | None = split
        else:
            source = from_
        if source is None:
            raise ModelError("branch() without a gateway to branch from", code="bpmn.builder")
        self._require(source)
        self._cursor = source
        self._pending = {}
        self._branch_open = True
        self._set_pending(condition, name, default)
        return self

    def _close_branch(self, split: str, ends: list[str]) -> None:
        # The branch that was being built ends at the cursor; a join will collect it.
        cur = self._cursor
        if cur is None or cur == split or cur in ends:
            return
        if issubclass(self._nodes[cur].cls, EndEvent):
            return
        if any(f.source == cur for f in self._flows):
            return  # already continued elsewhere (connect_to)
        ends.append(cur)

    def condition(self, expression: str, *, name: str | None = None) -> ProcessBuilder:
        """Condition of the next flow from the current node."""
        self._set_pending(expression, name, False)
        return self

    def default_flow(self, *, name: str | None = None) -> ProcessBuilder:
        """Make the next flow from the current node its default flow."""
        self._set_pending(None, name, True)
        return self

    # -- events --------------------------------------------------------------------------------

    def start_event(self, node_id: str, *, name: str | None = None, **kw: Any) -> ProcessBuilder:
        """A start event; ``message=``, ``timer_*=``, ``signal=``, ``interrupting=`` etc."""
        kwargs: dict[str, Any] = {}
        if "interrupting" in kw:
            kwargs["is_interrupting"] = bool(kw.pop("interrupting"))
        self._add(node_id, StartEvent, name, kw, connect=False, **kwargs)
        return self

    def end_event(self, node_id: str, *, name: str | None = None, **kw: Any) -> ProcessBuilder:
        """An end event; ``terminate=True``, ``error=``, ``escalation=``, ``message=``..."""
        self._add(node_id, EndEvent, name, kw)
        return self

    def intermediate_catch_event(
        self, node_id: str, *, name: str | None = None, **kw: Any
    ) -> ProcessBuilder:
        """An intermediate catch event (``timer_duration=``, ``message=``, ``signal=``...)."""
        self._add(node_id, IntermediateCatchEvent, name, kw)
        return self

    def intermediate_throw_event(
        self, node_id: str, *, name: str | None = None, **kw: Any
    ) -> ProcessBuilder:
        """An intermediate throw event (none, ``signal=``, ``escalation=``, ``message=``...)."""
        self._add(node_id, IntermediateThrowEvent, name, kw)
        return self

    def timer_catch(
        self, node_id: str, duration: str, *, name: str | None = None
    ) -> ProcessBuilder:
        """Wait for a duration (ISO 8601 or ``=FEEL``)."""
        return self.intermediate_catch_event(node_id, name=name, timer_duration=duration)

    def message_catch(
        self, node_id: str, message: str, *, name: str | None = None
    ) -> ProcessBuilder:
        """Wait for a message (by message name)."""
        return self.intermediate_catch_event(node_id, name=name, message=message)

    def boundary_event(
        self,
        node_id: str,
        *,
        name: str | None = None,
        attached_to: str | None = None,
        interrupting: bool = True,
        **kw: Any,
    ) -> ProcessBuilder:
        """A boundary event on the current activity (or ``attached_to``); continue from it."""
        host = attached_to or self._cursor
        if host is None or not issubclass(self._require(host).cls, ACTIVITY_TYPES):
            raise ModelError(
                f"boundary event {node_id!r} needs an activity to attach to",
                code="bpmn.builder",
                element_id=node_id,
            )
        self._pending = {}
        self._add(
            node_id,
            BoundaryEvent,
            name,
            kw,
            connect=False,
            attached_to_ref=host,
            cancel_activity=None if interrupting else False,
            lane=self._nodes[host].lane,
        )
        return self

    # -- activities ----------------------------------------------------------------------------

    def task(self, node_id: str, *, name: str | None = None, **kw: Any) -> ProcessBuilder:
        """A plain task."""
        self._add(node_id, Task, name, kw)
        return self

    def user_task(self, node_id: str, *, name: str | None = None, **kw: Any) -> ProcessBuilder:
        """A user task (``assignee=``, ``candidate_groups=``, ``candidate_users=``...)."""
        self._add(node_id, UserTask, name, kw)
        return self

    def manual_task(self, node_id: str, *, name: str | None = None, **kw: Any) -> ProcessBuilder:
        """A manual task."""
        self._add(node_id, ManualTask, name, kw)
        return self

    def service_task(
        self, node_id: str, *, name: str | None = None, topic: str | None = None, **kw: Any
    ) -> ProcessBuilder:
        """A service task; with ``topic=`` an external task (``camunda:type="external"``)."""
        if topic is not None:
            kw["topic"] = topic
            kw.setdefault("attrs", {})["camunda:type"] = "external"
        self._add(node_id, ServiceTask, name, kw)
        return self

    def send_task(
        self, node_id: str, *, name: str | None = None, message: str | None = None, **kw: Any
    ) -> ProcessBuilder:
        """A send task (optionally naming a message)."""
        extra: dict[str, Any] = {"message_ref": self._root(Message, message)} if message else {}
        self._add(node_id, SendTask, name, kw, **extra)
        return self

    def receive_task(
        self, node_id: str, message: str, *, name: str | None = None, **kw: Any
    ) -> ProcessBuilder:
        """A receive task waiting for the message ``message``."""
        self._add(node_id, ReceiveTask, name, kw, message_ref=self._root(Message, message))
        return self

    def script_task(
        self,
        node_id: str,
        script: str,
        *,
        name: str | None = None,
        result_variable: str | None = None,
        **kw: Any,
    ) -> ProcessBuilder:
        """A FEEL script task (``scriptFormat="feel"``)."""
        if result_variable is not None:
            kw["result_variable"] = result_variable
        self._add(node_id, ScriptTask, name, kw, script=script, script_format="feel")
        return self

    def business_rule_task(
        self,
        node_id: str,
        decision_ref: str,
        *,
        name: str | None = None,
        result_variable: str | None = None,
        map_decision_result: str | None = None,
        **kw: Any,
    ) -> ProcessBuilder:
        """A business rule task evaluating a DMN decision (``camunda:decisionRef``)."""
        kw["decision_ref"] = decision_ref
        if result_variable is not None:
            kw["result_variable"] = result_variable
        if map_decision_result is not None:
            kw.setdefault("attrs", {})["camunda:mapDecisionResult"] = map_decision_result
        self._add(node_id, BusinessRuleTask, name, kw)
        return self

    def call_activity(
        self, node_id: str, called_element: str, *, name: str | None = None, **kw: Any
    ) -> ProcessBuilder:
        """A call activity starting the process ``called_element``."""
        self._add(node_id, CallActivity, name, kw, called_element=called_element)
        return self

    def sub_process(self, node_id: str, *, name: str | None = None, **kw: Any) -> ProcessBuilder:
        """Open an embedded subprocess; add its content, then call :meth:`end_sub_process`."""
        self._add(node_id, SubProcess, name, kw)
        self._containers.append(node_id)
        self._cursor = None
        return self

    def event_sub_process(self, node_id: str, *, name: str | None = None) -> ProcessBuilder:
        """Open an event subprocess (not connected by flows); start it with a typed start event."""
        self._add(node_id, SubProcess, name, {}, connect=False, triggered_by_event=True)
        self._containers.append(node_id)
        self._cursor = None
        return self

    def end_sub_process(self) -> ProcessBuilder:
        """Close the innermost subprocess and continue from it."""
        if len(self._containers) < 2:
            raise ModelError("end_sub_process() without an open subprocess", code="bpmn.builder")
        node_id = self._containers.pop()
        assert node_id is not None
        self._cursor = node_id
        return self

    def multi_instance(
        self,
        *,
        collection: str | None = None,
        element_variable: str | None = None,
        sequential: bool = False,
        cardinality: str | None = None,
        completion_condition: str | None = None,
    ) -> ProcessBuilder:
        """Make the current activity multi-instance."""
        node = self._require(self._cursor or "")
        foreign: list[tuple[str, str]] = []
        if collection is not None:
            foreign.append((clark(CAMUNDA_NS, "collection"), collection))
        if element_variable is not None:
            foreign.append((clark(CAMUNDA_NS, "elementVariable"), element_variable))
        node.kwargs["loop_characteristics"] = MultiInstanceLoopCharacteristics(
            is_sequential=True if sequential else None,
            loop_cardinality=_formal(cardinality) if cardinality else None,
            completion_condition=(_formal(completion_condition) if completion_condition else None),
            foreign_attrs=tuple(foreign),
        )
        return self

    def extension(self, node: XmlNode) -> ProcessBuilder:
        """Add an extension element to the current node."""
        self._require(self._cursor or "").extensions.append(node)
        return self

    # -- internals -----------------------------------------------------------------------------

    def _require(self, node_id: str) -> BuildNode:
        node = self._nodes.get(node_id)
        if node is None:
            raise ModelError(
                f"no node {node_id!r} in the builder", code="bpmn.builder", element_id=node_id
            )
        return node

    def _set_pending(self, condition: str | None, name: str | None, default: bool) -> None:
        if condition is not None:
            self._pending["condition"] = condition
        if name is not None:
            self._pending["name"] = name
        if default:
            self._pending["default"] = True

    def _connect(self, target: str) -> None:
        if self._cursor is None:
            return
        src = self._nodes[self._cursor]
        flow = BuildFlow(
            id=f"Flow_{self._cursor}_{target}",
            source=self._cursor,
            target=target,
            container=src.container,
            **self._pending,
        )
        n = 2
        while any(f.id == flow.id for f in self._flows):
            flow.id = f"Flow_{self._cursor}_{target}_{n}"
            n += 1
        self._flows.append(flow)
        self._pending = {}
        self._branch_open = False

    def _root(self, cls: type[Message | Signal | Error | Escalation], name: str) -> str:
        rid = f"{cls.__name__}_{slug(name)}"
        if rid not in self._roots:
            if cls is Error:
                self._roots[rid] = Error(id=rid, name=name, error_code=name)
            elif cls is Escalation:
                self._roots[rid] = Escalation(id=rid, name=name, escalation_code=name)
            else:
                self._roots[rid] = cls(id=rid, name=name)
        return rid

    def _event_definitions(self, kw: dict[str, Any]) -> list[EventDefinition]:
        defs: list[EventDefinition] = []
        if "message" in kw:
            defs.append(MessageEventDefinition(message_ref=self._root(Message, kw.pop("message"))))
        if "signal" in kw:
            defs.append(SignalEventDefinition(signal_ref=self._root(Signal, kw.pop("signal"))))
        if "error" in kw:
            code = kw.pop("error")
            defs.append(ErrorEventDefinition(error_ref=self._root(Error, code) if code else None))
        if "escalation" in kw:
            code = kw.pop("escalation")
            ref = self._root(Escalation, code) if code else None
            defs.append(EscalationEventDefinition(escalation_ref=ref))
        for key, attr in (
            ("timer_duration", "time_duration"),
            ("timer_date", "time_date"),
            ("timer_cycle", "time_cycle"),
        ):
            if key in kw:
                timer_kw: dict[str, Any] = {attr: _formal(kw.pop(key))}
                defs.append(TimerEventDefinition(**timer_kw))
        if "condition" in kw:
            cond = _formal(kw.pop("condition"))
            defs.append(ConditionalEventDefinition(condition=cond))
        if kw.pop("terminate", False):
            defs.append(TerminateEventDefinition())
        if kw.pop("compensate", False):
            defs.append(CompensateEventDefinition())
        return defs

    def _add(
        self,
        node_id: str,
        cls: type[FlowNode],
        name: str | None,
        kw: dict[str, Any],
        *,
        connect: bool = True,
        lane: str | None = None,
        **fields: Any,
    ) -> None:
        if node_id in self._nodes:
            raise ModelError(
                f"duplicate node id {node_id!r}", code="bpmn.builder", element_id=node_id
            )
        kw = dict(kw)
        node = BuildNode(
            id=node_id,
            cls=cls,
            container=self._containers[-1],
            lane=lane or (self._lane if self._containers[-1] is None else None),
        )
        node.definitions = [
            replace(d, id=f"{node_id}_{d.kind}{'' if k == 0 else k + 1}")
            for k, d in enumerate(self._event_definitions(kw))
        ]
        for key, attr in _CAMUNDA_KWARGS.items():
            if key in kw:
                node.foreign[clark(CAMUNDA_NS, attr)] = str(kw.pop(key))
        if kw.pop("async_before", False):
            node.foreign[clark(CAMUNDA_NS, "asyncBefore")] = "true"
        if kw.pop("async_after", False):
            node.foreign[clark(CAMUNDA_NS, "asyncAfter")] = "true"
        if "doc" in kw:
            node.kwargs["documentation"] = (Documentation(text=kw.pop("doc")),)
        for qname, value in kw.pop("attrs", {}).items():
            prefix, _, local = qname.rpartition(":")
            node.foreign[clark(WELL_KNOWN_NAMESPACES.get(prefix, prefix), local)] = value
        if kw:
            raise ModelError(
                f"unknown options for {node_id!r}: {', '.join(sorted(kw))}",
                code="bpmn.builder",
                element_id=node_id,
            )
        node.kwargs.update(fields)
        if name is not None:
            node.kwargs["name"] = name
        self._nodes[node_id] = node
        if connect:
            self._connect(node_id)
        self._cursor = node_id

    def exclusive_gateway(self, node_id: str, *, name: str | None = None) -> ProcessBuilder:
        """An exclusive (XOR) gateway; follow with :meth:`branch` calls or a join."""
        self._add(node_id, ExclusiveGateway, name, {})
        self._splits.append((node_id, []))
        return self

    def inclusive_gateway(self, node_id: str, *, name: str | None = None) -> ProcessBuilder:
        """An inclusive (OR) gateway."""
        self._add(node_id, InclusiveGateway, name, {})
        self._splits.append((node_id, []))
        return self

    def parallel_gateway(self, node_id: str, *, name: str | None = None) -> ProcessBuilder:
        """A parallel (AND) gateway."""
        self._add(node_id, ParallelGateway, name, {})
        self._splits.append((node_id, []))
        return self

    def event_based_gateway(self, node_id: str, *, name: str | None = None) -> ProcessBuilder:
        """An event-based gateway; branch to intermediate catch events or receive tasks."""
        self._add(node_id, EventBasedGateway, name, {})
        self._splits.append((node_id, []))
        return self

    def complex_gateway(
        self, node_id: str, *, name: str | None = None, activation: str | None = None
    ) -> ProcessBuilder:
        """A complex gateway with an optional activation condition."""
        extra: dict[str, Any] = {"activation_condition": _formal(activation)} if activation else {}
        self._add(node_id, ComplexGateway, name, {}, **extra)
        self._splits.append((node_id, []))
        return self

    def join(
        self,
        node_id: str,
        kind: str = "exclusive",
        *,
        name: str | None = None,
        from_: list[str] | None = None,
    ) -> ProcessBuilder:
        """Close the last split: a joining gateway that every open branch flows into.

        Args:
            node_id: Id of the joining gateway.
            kind: ``exclusive``, ``parallel`` or ``inclusive``.
            name: Display name.
            from_: Nodes to join instead of the open branches of the last split.
        """
        cls: type[FlowNode] = {
            "exclusive": ExclusiveGateway,
            "parallel": ParallelGateway,
            "inclusive": InclusiveGateway,
        }[kind]
        if from_ is None:
            if not self._splits:
                raise ModelError("join() without an open split gateway", code="bpmn.builder")
            split, ends = self._splits.pop()
            self._close_branch(split, ends)
            sources = ends
            if self._cursor == split and self._branch_open:
                sources = [*ends, split]  # an empty branch: straight from split to join
        else:
            sources = list(from_)
        empty_branch = self._pending if from_ is None and self._branch_open else None
        self._pending = {}
        self._add(node_id, cls, name, {}, connect=False)
        for i, src in enumerate(sources):
            self._require(src)
            self._cursor = src
            if empty_branch is not None and i == len(sources) - 1:
                self._pending = empty_branch
            self._connect(node_id)
        self._branch_open = False
        self._cursor = node_id
        return self

    # -- building ------------------------------------------------------------------------------

    def build(self) -> Definitions:
        """The finished model: definitions with the process, its roots, lanes and diagram."""
        if len(self._containers) > 1:
            raise ModelError(
                f"subprocess {self._containers[-1]!r} is still open; call end_sub_process()",
                code="bpmn.builder",
            )
        lane_sets: tuple[LaneSet, ...] = ()
        if self._lanes:
            for n in self._nodes.values():
                if n.container is None and n.lane is None:
                    n.lane = self._lanes[0]
            lanes = tuple(
                Lane(
                    id=lane_id(name),
                    name=name,
                    flow_node_refs=tuple(
                        n.id for n in self._nodes.values() if n.container is None and n.lane == name
                    ),
                )
                for name in self._lanes
            )
            lane_sets = (LaneSet(id=f"LaneSet_{self.process_id}", lanes=lanes),)
        process = Process(
            id=self.process_id,
            name=self.name,
            is_executable=self.executable,
            documentation=(Documentation(text=self._doc),) if self._doc else (),
            lane_sets=lane_sets,
            flow_elements=build_container(self._nodes, self._flows, None),
            foreign_attrs=tuple(self._foreign.items()),
        )
        roots: list[BaseElement] = list(self._roots.values())
        plane_element = self.process_id
        if self._lanes:
            collab = Collaboration(
                id=f"Collaboration_{self.process_id}",
                participants=(
                    Participant(
                        id=f"Participant_{self.process_id}",
                        name=self.name or self.process_id,
                        process_ref=self.process_id,
                    ),
                ),
            )
            roots.append(collab)
            plane_element = collab.id or ""
        roots.append(process)
        return Definitions(
            id=f"Definitions_{self.process_id}",
            target_namespace="http://liucheng.dev/bpmn",
            exporter="liucheng",
            exporter_version="0.1",
            namespaces=(
                ("bpmn", BPMN_NS),
                ("bpmndi", BPMNDI_NS),
                ("dc", DC_NS),
                ("di", DI_NS),
                ("xsi", XSI_NS),
                ("camunda", CAMUNDA_NS),
            ),
            root_elements=tuple(roots),
            diagrams=(
                build_diagram(
                    self.process_id, self._nodes, self._flows, self._lanes, plane_element
                ),
            ),
        )
