"""Semantic validation of a parsed model: what a modeller wants to know before deploying."""

from __future__ import annotations

from collections.abc import Iterable

from liucheng.errors import ModelProblem, ModelValidationError

from ._activities import Activity, CallActivity, ReceiveTask, ScriptTask, SubProcess
from ._base import BaseElement
from ._definitions import Definitions, field_specs, iter_children, local_ref
from ._di import BPMNEdge, BPMNShape
from ._events import (
    BoundaryEvent,
    CatchEvent,
    CompensateEventDefinition,
    ConditionalEventDefinition,
    EndEvent,
    ErrorEventDefinition,
    EscalationEventDefinition,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkEventDefinition,
    MessageEventDefinition,
    SignalEventDefinition,
    StartEvent,
    ThrowEvent,
    TimerEventDefinition,
)
from ._flow import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    FlowNode,
    Gateway,
    InclusiveGateway,
    ParallelGateway,
    SequenceFlow,
)
from ._parser import INVALID, convert_attr
from ._root import Collaboration, Error, Escalation, Lane, Message, Process, Signal
from ._timers import check_timer
from ._xml import CAMUNDA_NS, LIUCHENG_NS, ZEEBE_NS

__all__ = ["check_model", "targets_engine", "validate"]

Container = Process | SubProcess


_ENGINE_NAMESPACES = frozenset({CAMUNDA_NS, ZEEBE_NS, LIUCHENG_NS})


def targets_engine(defs: Definitions) -> bool:
    """Whether a document is meant for an engine (Camunda/Zeebe dialect, or made by us).

    Tools that only draw processes often write ``isExecutable="true"`` by default; their
    models should not fail on execution-only rules.
    """
    if any(uri in _ENGINE_NAMESPACES for _, uri in defs.namespaces):
        return True
    exporter = (defs.exporter or "").lower()
    return "camunda" in exporter or "liucheng" in exporter or "zeebe" in exporter


class _Checker:
    def __init__(self, defs: Definitions, engine: bool | None) -> None:
        self.defs = defs
        self.problems: list[ModelProblem] = []
        self.executable: bool = True
        self.engine = targets_engine(defs) if engine is None else engine

    def add(
        self,
        code: str,
        element: BaseElement | None,
        message: str,
        hint: str,
        severity: str = "error",
        *,
        element_id: str | None = None,
    ) -> None:
        self.problems.append(
            ModelProblem(
                code=code,
                message=message,
                severity=severity,
                element_id=element_id or (element.id if element is not None else None),
                file=self.defs.file,
                line=element.line if element is not None else None,
                hint=hint,
            )
        )

    def soft(self) -> str:
        """Severity of execution-only rules: errors in executable processes, else warnings."""
        return "error" if self.executable else "warning"

    # -- document level ---------------------------------------------------------------------

    def run(self) -> list[ModelProblem]:
        defs = self.defs
        for dup in defs.duplicate_elements():
            first = defs.get(dup.id)
            self.add(
                "bpmn.id.duplicate",
                dup,
                f"id {dup.id!r} is used more than once"
                + (f" (first at line {first.line})" if first is not None and first.line else ""),
                "give every element a unique id",
            )
        self.check_attribute_values(defs)
        for root in defs.root_elements:
            if isinstance(root, Process):
                self.check_process(root)
            elif isinstance(root, Collaboration):
                self.check_collaboration(root)
        self.check_di()
        return self.problems

    def check_attribute_values(self, element: BaseElement) -> None:
        # The parser keeps values it cannot type (isExecutable="maybe") as plain attributes so
        # the file still loads and round-trips; they are reported here.
        if element.extra_attrs:
            typed = {
                spec.xml: spec.conv for _, spec in field_specs(type(element)) if spec.kind == "attr"
            }
            for key, value in element.extra_attrs:
                if key in typed and convert_attr(value, typed[key]) is INVALID:
                    self.add(
                        "bpmn.attribute.invalid",
                        element,
                        f"attribute {key}={value!r} is not a valid {typed[key]}",
                        "write true or false"
                        if typed[key] == "bool"
                        else f"write a {typed[key]} value",
                    )
        for sub in iter_children(element):
            self.check_attribute_values(sub)

    def check_collaboration(self, collab: Collaboration) -> None:
        for part in collab.participants:
            if part.process_ref and not isinstance(self.defs.get(part.process_ref), Process):
                self.add(
                    "bpmn.participant.process_ref",
                    part,
                    f"participant refers to unknown process {part.process_ref!r}",
                    "point processRef at a process id of this file",
                )
        for flow in collab.message_flows:
            for label, ref in (("sourceRef", flow.source_ref), ("targetRef", flow.target_ref)):
                if not ref or self.defs.get(ref) is None:
                    self.add(
                        "bpmn.message_flow.dangling",
                        flow,
                        f"message flow {label} {ref!r} does not name an element",
                        "connect the message flow to existing pools or elements",
                    )
            if flow.message_ref:
                self.check_ref(flow, flow.message_ref, Message, "message")

    def generic_ids(self) -> set[str]:
        """Ids of elements kept as plain XML (choreographies, conversations, vendor content)."""
        found: set[str] = set()
        for element in (self.defs, *self.defs.all_elements()):
            for node in element.extra_children:
                for sub in node.iter():
                    value = sub.get("id")
                    if value:
                        found.add(value)
        return found

    def check_di(self) -> None:
        generic: set[str] | None = None
        for diagram in self.defs.diagrams:
            if diagram.plane is None:
                continue
            for item in diagram.plane.elements:
                if not isinstance(item, BPMNShape | BPMNEdge) or not item.bpmn_element:
                    continue
                if self.defs.get(item.bpmn_element) is None:
                    if generic is None:
                        generic = self.generic_ids()
                    if (local_ref(item.bpmn_element) or "") in generic:
                        continue
                    self.add(
                        "bpmn.di.dangling",
                        item,
                        f"diagram element refers to unknown element {item.bpmn_element!r}",
                        "remove the stale shape or edge (re-save the diagram in a modeller)",
                        "warning",
                    )

    def check_ref(self, element: BaseElement, ref: str, cls: type[BaseElement], what: str) -> None:
        target = self.defs.get(ref)
        if not isinstance(target, cls):
            self.add(
                f"bpmn.ref.{what}",
                element,
                f"{what}Ref {ref!r} does not name a {what} of this file",
                f"declare <{what} id={local_ref(ref)!r}> under definitions or fix the reference",
            )

    # -- processes ----------------------------------------------------------------------------

    def check_process(self, process: Process) -> None:
        # Execution-only rules are errors only where the model says it is meant to run; a
        # missing isExecutable (common in descriptive models from other tools) gets a warning.
        self.executable = process.is_executable is True and self.engine
        if process.is_executable is None:
            self.add(
                "bpmn.process.executable_missing",
                process,
                "process has no isExecutable attribute",
                'add isExecutable="true" to run it (or "false" for a descriptive model)',
                "warning",
            )
        node_ids = {n.id for n in _all_flow_nodes(process) if n.id}
        for lane in process.lanes:
            self.check_lane(lane, node_ids)
        self.check_container(process)

    def check_lane(self, lane: Lane, node_ids: set[str]) -> None:
        for ref in lane.flow_node_refs:
            if local_ref(ref) in node_ids:
                continue
            other = self.defs.get(ref)
            if other is not None:
                # Some tools list data objects or annotations in lanes: harmless for running.
                self.add(
                    "bpmn.lane.not_flow_node",
                    lane,
                    f"lane lists {ref!r}, a {other.element_type}, which is not a flow node",
                    "remove the flowNodeRef; only flow nodes belong to lanes",
                    "warning",
                )
            else:
                self.add(
                    "bpmn.lane.dangling",
                    lane,
                    f"lane lists unknown flow node {ref!r}",
                    "remove the flowNodeRef or fix the id",
                )

    def check_container(self, container: Container) -> None:
        nodes: dict[str, FlowNode] = {}
        for el in container.flow_elements:
            if isinstance(el, FlowNode) and not el.id:
                self.add(
                    "bpmn.id.missing",
                    el,
                    f"{el.element_type} has no id",
                    "give every flow node an id",
                )
            elif isinstance(el, SequenceFlow) and not el.id:
                self.add(
                    "bpmn.id.missing",
                    el,
                    "sequence flow has no id",
                    "give the flow an id so history and diagrams can refer to it",
                    "warning",
                )
            if isinstance(el, FlowNode) and el.id:
                nodes[el.id] = el
        for el in container.flow_elements:
            if isinstance(el, SequenceFlow):
                self.check_flow(el, nodes)
        for node in nodes.values():
            self.check_node(node)
            if isinstance(node, SubProcess):
                self.check_subprocess(node)
                self.check_container(node)
        self.check_start_events(container, nodes)
        self.check_reachability(container, nodes)

    def check_flow(self, flow: SequenceFlow, nodes: dict[str, FlowNode]) -> None:
        for label, ref in (("sourceRef", flow.source_ref), ("targetRef", flow.target_ref)):
            key = local_ref(ref)
            if not key:
                self.add(
                    "bpmn.flow.dangling",
                    flow,
                    f"sequence flow has no {label}",
                    f"set {label} to the id of a flow node",
                )
            elif key not in nodes:
                elsewhere = isinstance(self.defs.get(key), FlowNode)
                self.add(
                    "bpmn.flow.cross_scope" if elsewhere else "bpmn.flow.dangling",
                    flow,
                    f"sequence flow {label} {ref!r} "
                    + (
                        "is in another process or subprocess"
                        if elsewhere
                        else "does not name a flow node"
                    ),
                    "sequence flows connect flow nodes of the same process or subprocess"
                    if elsewhere
                    else "fix the reference or remove the flow",
                )

    def check_node(self, node: FlowNode) -> None:
        nid = node.id or ""
        incoming = self.defs.incoming(nid)
        outgoing = self.defs.outgoing(nid)
        if isinstance(node, StartEvent) and incoming:
            self.add(
                "bpmn.start.incoming",
                node,
                "start event has incoming sequence flows",
                "start events cannot be targets; use an intermediate event instead",
            )
        if isinstance(node, BoundaryEvent) and incoming:
            self.add(
                "bpmn.boundary.incoming",
                node,
                "boundary event has incoming sequence flows",
                "a boundary event is triggered by its activity, not by a flow",
            )
        if isinstance(node, EndEvent) and outgoing:
            self.add(
                "bpmn.end.outgoing",
                node,
                "end event has outgoing sequence flows",
                "end events cannot be sources; use an intermediate throw event instead",
            )
        if isinstance(node, Gateway) and len(incoming) == 1 and len(outgoing) == 1:
            self.add(
                "bpmn.gateway.pass_through",
                node,
                "gateway has one incoming and one outgoing flow and does nothing",
                "remove the gateway or add the missing branches",
                "warning",
            )
        default = getattr(node, "default", None)
        if default is not None and local_ref(default) not in {f.id for f in outgoing}:
            self.add(
                "bpmn.default.dangling",
                node,
                f"default flow {default!r} is not an outgoing flow of this element",
                "set default to the id of one of its outgoing sequence flows",
            )
        if isinstance(node, ExclusiveGateway | InclusiveGateway | ComplexGateway):
            self.check_gateway_conditions(node, outgoing)
        if isinstance(node, ParallelGateway | EventBasedGateway):
            for flow in outgoing:
                if flow.condition is not None:
                    self.add(
                        "bpmn.flow.condition_ignored",
                        flow,
                        f"condition on a flow out of a {node.element_type} is never evaluated",
                        "remove the condition or use an exclusive/inclusive gateway",
                        "warning",
                    )
        if default is not None:
            for flow in outgoing:
                if flow.id == local_ref(default) and flow.condition is not None:
                    self.add(
                        "bpmn.default.condition",
                        flow,
                        "the default flow has a condition, which is never evaluated",
                        "remove the condition from the default flow",
                        "warning",
                    )
        if isinstance(node, BoundaryEvent):
            self.check_boundary(node)
        if (
            isinstance(node, CallActivity)
            and not (node.called_element or "").strip()
            and not node.extensions("zeebe:calledElement")
        ):
            self.add(
                "bpmn.call.called_element",
                node,
                "call activity names no calledElement",
                "set calledElement to the id of the process to call",
                self.soft(),
            )
        if (
            isinstance(node, ScriptTask)
            and not (node.script or "").strip()
            and node.attr("camunda", "resource") is None
        ):
            self.add(
                "bpmn.script.empty",
                node,
                "script task has no script",
                'write the FEEL expression in <script> (scriptFormat="feel")',
                self.soft(),
            )
        if isinstance(node, CatchEvent | ThrowEvent):
            self.check_event_definitions(node)
        # A receive task without a message is a plain wait state (completed through the API).
        if isinstance(node, ReceiveTask) and node.message_ref:
            self.check_ref(node, node.message_ref, Message, "message")

    def check_gateway_conditions(self, gateway: Gateway, outgoing: Iterable[SequenceFlow]) -> None:
        flows = list(outgoing)
        if len(flows) < 2:
            return
        default = local_ref(getattr(gateway, "default", None))
        missing = [f for f in flows if f.id != default and f.condition is None]
        if missing and default is None:
            ids = ", ".join(repr(f.id) for f in missing)
            self.add(
                "bpmn.gateway.no_condition",
                gateway,
                f"{gateway.element_type} has {len(flows)} outgoing flows but {ids} "
                "have no condition and there is no default flow",
                "give each outgoing flow a conditionExpression or mark one as the default",
                self.soft(),
            )
        elif missing:
            ids = ", ".join(repr(f.id) for f in missing)
            self.add(
                "bpmn.gateway.no_condition",
                gateway,
                f"outgoing flows {ids} of {gateway.element_type} have no condition "
                "and are not the default",
                "give the flows conditions; only the default flow may be unconditional",
                self.soft(),
            )

    def check_boundary(self, event: BoundaryEvent) -> None:
        target = self.defs.get(event.attached_to_ref)
        if not event.attached_to_ref or target is None:
            self.add(
                "bpmn.boundary.dangling",
                event,
                f"boundary event is attached to unknown element {event.attached_to_ref!r}"
                if event.attached_to_ref
                else "boundary event has no attachedToRef",
                "set attachedToRef to the id of an activity",
            )
        elif not isinstance(target, Activity):
            self.add(
                "bpmn.boundary.not_activity",
                event,
                f"boundary event is attached to a {target.element_type}, not an activity",
                "attach boundary events to tasks, subprocesses or call activities",
            )

    def check_event_definitions(self, event: CatchEvent | ThrowEvent) -> None:
        for ed in event.event_definitions:
            if isinstance(ed, MessageEventDefinition) and ed.message_ref:
                self.check_ref(event, ed.message_ref, Message, "message")
            elif isinstance(ed, MessageEventDefinition) and isinstance(event, CatchEvent):
                self.add(
                    "bpmn.message.missing",
                    event,
                    "message event names no message, so nothing can be correlated to it",
                    'add messageRef pointing at a <message name="..."> root element',
                    self.soft(),
                )
            elif isinstance(ed, SignalEventDefinition) and ed.signal_ref:
                self.check_ref(event, ed.signal_ref, Signal, "signal")
            elif isinstance(ed, ErrorEventDefinition) and ed.error_ref:
                self.check_ref(event, ed.error_ref, Error, "error")
            elif isinstance(ed, EscalationEventDefinition) and ed.escalation_ref:
                self.check_ref(event, ed.escalation_ref, Escalation, "escalation")
            elif isinstance(ed, CompensateEventDefinition) and ed.activity_ref:
                if not isinstance(self.defs.get(ed.activity_ref), Activity):
                    self.add(
                        "bpmn.ref.activity",
                        event,
                        f"compensation activityRef {ed.activity_ref!r} is not an activity",
                        "point activityRef at the activity to compensate",
                    )
            elif isinstance(ed, TimerEventDefinition):
                self.check_timer(event, ed)
            elif isinstance(ed, ConditionalEventDefinition) and (
                ed.condition is None or not ed.condition.text
            ):
                self.add(
                    "bpmn.conditional.missing",
                    event,
                    "conditional event has no condition",
                    "add <condition>=a FEEL expression</condition>",
                    self.soft(),
                )
            elif isinstance(ed, LinkEventDefinition) and isinstance(event, IntermediateThrowEvent):
                self.check_link(event, ed)

    def check_timer(self, event: BaseElement, ed: TimerEventDefinition) -> None:
        given = [
            (kind, expr)
            for kind, expr in (
                ("date", ed.time_date),
                ("duration", ed.time_duration),
                ("cycle", ed.time_cycle),
            )
            if expr is not None
        ]
        if not given:
            self.add(
                "bpmn.timer.missing",
                event,
                "timer event has no timeDate, timeDuration or timeCycle",
                "add one, e.g. <timeDuration>PT1H</timeDuration>",
                self.soft(),
            )
            return
        if len(given) > 1:
            self.add(
                "bpmn.timer.ambiguous",
                event,
                "timer event has more than one of timeDate, timeDuration and timeCycle",
                "keep exactly one timer value",
            )
        for kind, expr in given:
            assert expr is not None
            problem = check_timer(kind, expr.body)
            if problem is not None:
                self.add(
                    "bpmn.timer.invalid",
                    event,
                    f"invalid time{kind.capitalize()}: {problem}",
                    "use ISO 8601 (PT1H, 2026-01-31T09:00:00Z, R3/PT10M), cron, or =FEEL",
                    self.soft(),
                )

    def check_link(self, event: IntermediateThrowEvent, ed: LinkEventDefinition) -> None:
        container = self.defs.container(event.id or "")
        if container is None:
            return
        names = {
            d.name
            for n in container.flow_elements
            if isinstance(n, IntermediateCatchEvent)
            for d in n.event_definitions
            if isinstance(d, LinkEventDefinition)
        }
        if ed.name not in names:
            self.add(
                "bpmn.link.unmatched",
                event,
                f"no link catch event named {ed.name!r} in the same scope",
                "add an intermediate catch link event with the same name",
                self.soft(),
            )

    def check_subprocess(self, sub: SubProcess) -> None:
        if not sub.is_event_subprocess:
            return
        nid = sub.id or ""
        if self.defs.incoming(nid) or self.defs.outgoing(nid):
            self.add(
                "bpmn.event_subprocess.flows",
                sub,
                "event subprocess has incoming or outgoing sequence flows",
                "an event subprocess is started by its start event; remove the flows",
            )
        starts = [e for e in sub.flow_elements if isinstance(e, StartEvent)]
        if len(starts) != 1:
            self.add(
                "bpmn.event_subprocess.start",
                sub,
                f"event subprocess has {len(starts)} start events; it needs exactly one",
                "give the event subprocess one start event with a trigger (message, timer...)",
            )
        elif not starts[0].event_definitions:
            self.add(
                "bpmn.event_subprocess.none_start",
                starts[0],
                "the start event of an event subprocess has no trigger",
                "use a message, timer, signal, error, escalation, conditional or compensation "
                "start event",
                self.soft(),
            )

    # -- reachability -----------------------------------------------------------------------

    def check_start_events(self, container: Container, nodes: dict[str, FlowNode]) -> None:
        none_starts = [
            n for n in nodes.values() if isinstance(n, StartEvent) and not n.event_definitions
        ]
        if len(none_starts) > 1:
            for start in none_starts[1:]:
                self.add(
                    "bpmn.start.several_none",
                    start,
                    f"{len(none_starts)} none start events in the same scope; an engine cannot "
                    "tell which one a plain start means",
                    "keep one none start event (others can be message or timer starts)",
                    "warning",
                )
        del container

    def check_reachability(self, container: Container, nodes: dict[str, FlowNode]) -> None:
        has_start = any(isinstance(n, StartEvent) for n in nodes.values())
        seeds: list[str] = []
        link_targets: dict[str | None, list[str]] = {}
        for nid, node in nodes.items():
            if isinstance(node, IntermediateCatchEvent):
                for d in node.event_definitions:
                    if isinstance(d, LinkEventDefinition):
                        link_targets.setdefault(d.name, []).append(nid)
            exempt = (
                isinstance(node, StartEvent | BoundaryEvent)
                or (isinstance(node, SubProcess) and node.is_event_subprocess)
                or (isinstance(node, Activity) and node.for_compensation)
            )
            if exempt and not isinstance(node, BoundaryEvent):
                seeds.append(nid)
            elif not has_start and not self.defs.incoming(nid) and not exempt:
                seeds.append(nid)  # a scope without start events starts at every free node
        seen: set[str] = set()
        stack = list(seeds)
        while stack:
            nid = stack.pop()
            if nid in seen or nid not in nodes:
                continue
            seen.add(nid)
            node = nodes[nid]
            stack.extend(local_ref(f.target_ref) or "" for f in self.defs.outgoing(nid))
            stack.extend(b.id for b in self.defs.boundary_events(nid) if b.id)
            if isinstance(node, IntermediateThrowEvent):
                for d in node.event_definitions:
                    if isinstance(d, LinkEventDefinition):
                        stack.extend(link_targets.get(d.name, ()))
        for nid, node in nodes.items():
            if nid in seen:
                continue
            if isinstance(node, BoundaryEvent) or (
                isinstance(node, Activity) and node.for_compensation
            ):
                continue  # compensation handlers and boundaries of unreachable nodes
            self.add(
                "bpmn.unreachable",
                node,
                f"{node.element_type} cannot be reached from a start event",
                "connect it with a sequence flow or remove it",
                "warning",
            )


def _all_flow_nodes(container: Container) -> Iterable[FlowNode]:
    for el in container.flow_elements:
        if isinstance(el, FlowNode):
            yield el
            if isinstance(el, SubProcess):
                yield from _all_flow_nodes(el)


def validate(defs: Definitions, *, engine: bool | None = None) -> list[ModelProblem]:
    """Check a model and list every problem found (errors and warnings).

    Rules applying only to execution (conditions on gateway flows, timer syntax, scripts...)
    are errors in executable processes of engine models and warnings otherwise.

    Args:
        defs: A parsed or built model.
        engine: Whether the model is meant for an engine; by default a model is when it uses
            the Camunda/Zeebe/Liucheng namespaces or was exported by Camunda or Liucheng.

    Returns:
        The problems, each with code, severity, file, line, element id and hint.
    """
    return _Checker(defs, engine).run()


def check_model(defs: Definitions, *, engine: bool | None = None) -> list[ModelProblem]:
    """Validate and raise when there are errors; return the warnings.

    Raises:
        ModelValidationError: The model has at least one error.
    """
    problems = validate(defs, engine=engine)
    if any(p.severity == "error" for p in problems):
        raise ModelValidationError(problems, file=defs.file)
    return problems
