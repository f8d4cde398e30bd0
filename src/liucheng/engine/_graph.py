"""The executable graph: a process definition compiled once for the engine.

Every flow node becomes a :class:`Node` with its flows, boundary events, event subprocesses,
compiled expressions and dialect settings (Camunda 7 ``camunda:`` and Zeebe ``zeebe:``) resolved,
so the runtime never looks at XML again.
"""

from __future__ import annotations

from typing import Any

import liucheng.model as m
from liucheng.errors import EngineError, ModelError

from ._bindings import call_binding, variable_events, zeebe_binding, zeebe_version_tag
from ._decisions import DecisionCall, compile_decision
from ._expr import Expr, StructureExpr, feel, maybe_feel
from ._timers import RetryPolicy, parse_retry_cycle
from ._usertask import assign_lanes, compile_slas, compile_user, work_attr

__all__ = ["Flow", "Graph", "MiSpec", "Node", "compile_process"]

CAMUNDA = "camunda"
ZEEBE = "zeebe"

#: Node kinds that are scopes (they hold child element instances).
SCOPE_KINDS = frozenset({"sub", "tx", "adhoc", "esp"})
#: Node kinds that are activities (can carry boundary events, loops, async, mappings).
ACTIVITY_KINDS = frozenset(
    {
        "task",
        "user",
        "receive",
        "script",
        "service",
        "send",
        "rule",
        "sub",
        "tx",
        "adhoc",
        "call",
        "esp",
    }
)
_TASK_KINDS = {
    "task": "task",
    "manualTask": "task",
    "userTask": "user",
    "receiveTask": "receive",
    "scriptTask": "script",
    "serviceTask": "service",
    "sendTask": "send",
    "businessRuleTask": "rule",
    "callActivity": "call",
    "subProcess": "sub",
    "transaction": "tx",
    "adHocSubProcess": "adhoc",
    "exclusiveGateway": "xor",
    "parallelGateway": "and",
    "inclusiveGateway": "or",
    "eventBasedGateway": "ebg",
    "complexGateway": "complex",
    "startEvent": "start",
    "endEvent": "end",
    "intermediateCatchEvent": "icatch",
    "intermediateThrowEvent": "ithrow",
    "boundaryEvent": "boundary",
}


class Flow:
    """A sequence flow.

    Attributes:
        id: Flow id.
        source: Source node.
        target: Target node.
        condition: Compiled condition, or ``None``.
    """

    __slots__ = ("condition", "id", "source", "target")

    def __init__(self, fid: str, source: Node, target: Node, condition: Expr | None) -> None:
        self.id = fid
        self.source = source
        self.target = target
        self.condition = condition


class MiSpec:
    """Multi-instance characteristics."""

    __slots__ = (
        "async_after",
        "async_before",
        "cardinality",
        "collection",
        "completion",
        "element_var",
        "output_collection",
        "output_element",
        "sequential",
        "zeebe",
    )

    def __init__(self) -> None:
        self.sequential = False
        #: Zeebe dialect (``zeebe:loopCharacteristics``): 1-based ``loopCounter`` and the
        #: BPMN ``numberOf…Instances`` names in the completion condition.
        self.zeebe = False
        self.cardinality: Expr | None = None
        self.collection: Expr | None = None
        self.element_var: str | None = None
        self.completion: Expr | None = None
        self.output_collection: str | None = None
        self.output_element: Expr | None = None
        self.async_before = False
        self.async_after = False


class Node:
    """One executable flow node (see the module docstring)."""

    __slots__ = (
        "activity_ref",
        "adhoc",
        "assignee",
        "async_after",
        "async_before",
        "attached_to",
        "boundaries",
        "business_key",
        "call_bind",
        "call_dialect",
        "call_in",
        "call_out",
        "called",
        "cand_groups",
        "cand_users",
        "children",
        "comp_handler",
        "comp_scope",
        "cond_events",
        "cond_vars",
        "condition",
        "corr_key",
        "decision",
        "default",
        "error_message",
        "error_msg_var",
        "esp",
        "ev",
        "event_code",
        "event_name",
        "exclusive",
        "fixed_flows",
        "handler",
        "id",
        "incoming",
        "inputs",
        "interrupting",
        "is_for_comp",
        "is_join",
        "kind",
        "lane",
        "link",
        "local_out",
        "loop_condition",
        "loop_max",
        "loop_test_before",
        "mi",
        "name",
        "outgoing",
        "outputs",
        "parent",
        "plain",
        "result_var",
        "retries",
        "retry",
        "script",
        "starts",
        "task_opts",
        "timer",
        "topic",
        "type",
        "wait",
        "work",
    )

    def __init__(self, nid: str, kind: str, btype: str, name: str | None) -> None:
        self.id = nid
        self.kind = kind
        self.type = btype
        self.name = name
        self.parent: Node | None = None
        self.outgoing: list[Flow] = []
        self.incoming: list[Flow] = []
        self.default: Flow | None = None
        self.boundaries: list[Node] = []
        self.attached_to: Node | None = None
        self.interrupting = True
        self.children: list[Node] = []
        self.starts: list[Node] = []
        self.esp: list[Node] = []
        self.ev = "none"
        self.event_name: Expr | None = None
        self.event_code: str | None = None
        self.corr_key: Expr | None = None
        self.timer: tuple[str, Expr] | None = None
        self.condition: Expr | None = None
        #: ``camunda:variableName``: a conditional event is checked only when one of these changes.
        self.cond_vars: frozenset[str] | None = None
        #: ``camunda:variableEvents``: ... and only on these changes (create, update, delete).
        self.cond_events: frozenset[str] | None = None
        self.link: str | None = None
        self.activity_ref: str | None = None
        self.wait = True
        self.async_before = False
        self.async_after = False
        self.exclusive = True
        self.inputs: list[tuple[str, Expr | None]] = []
        self.outputs: list[tuple[str, Expr | None]] = []
        #: Zeebe output mappings: the variables a task completes with stay local to it.
        self.local_out = False
        self.mi: MiSpec | None = None
        self.loop_condition: Expr | None = None
        self.loop_max: int | None = None
        self.loop_test_before = False
        #: Ad-hoc subprocess: (cancelRemainingInstances, sequential ordering, Zeebe
        #: ``activeElementsCollection``); its completion condition is in ``condition``.
        self.adhoc: tuple[bool, bool, Expr | None] | None = None
        self.script: Expr | None = None
        self.result_var: str | None = None
        self.topic: Expr | None = None
        self.handler: str | None = None
        self.decision: DecisionCall | None = None
        self.assignee: Expr | None = None
        self.cand_users: Expr | None = None
        self.cand_groups: Expr | None = None
        self.called: Expr | None = None
        #: ``camunda:calledElementBinding`` and its version or version tag (see ``._lifecycle``).
        self.call_bind: tuple[str, Expr | None] = ("latest", None)
        #: Whose attributes bound it (``camunda`` or ``zeebe``), for the hints of errors.
        self.call_dialect = "camunda"
        self.call_in: list[tuple[str, str, Any]] = []
        self.call_out: list[tuple[str, str, Any]] = []
        self.business_key: Expr | None = None
        self.is_for_comp = False
        self.comp_handler: Node | None = None
        self.comp_scope = False
        self.is_join = False
        #: Set by :func:`compile_process`: whether an element instance of this node runs from
        #: activation to leaving with none of the general hooks (see :func:`_is_plain`), and the
        #: flows it always takes (``None``: chosen per instance by their conditions).
        self.plain = False
        self.fixed_flows: tuple[Flow, ...] | None = None
        self.retries: int | None = None
        #: ``camunda:failedJobRetryTimeCycle``: tries and waits of this element's failing jobs.
        self.retry: RetryPolicy | None = None
        self.error_msg_var: str | None = None
        #: ``camunda:errorMessage`` of the error an error end event throws (may be FEEL).
        self.error_message: Expr | None = None
        self.task_opts: dict[str, Expr] = {}
        #: Name (else id) of the innermost lane naming this node.
        self.lane: str | None = None
        #: People's-work options: ``calendar`` (timers), ``strategy``, ``skills``, ``effort``.
        self.work: dict[str, Any] = {}

    @property
    def is_scope(self) -> bool:
        """Whether element instances of this node hold child element instances."""
        return self.kind in SCOPE_KINDS

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.kind!r})"


class Graph:
    """A compiled process definition.

    Attributes:
        key: Process id.
        name: Process name.
        nodes: Every node by id (nested ones too).
        top: Nodes directly in the process.
        starts: None start events at process level.
        esp: Event subprocesses at process level.
        message_starts: Message start events at process level (name -> node).
        signal_starts: Signal start events at process level.
        timer_starts: Timer start events at process level.
        links: ``(scope id, link name)`` -> link catch event.
        reach: Node id -> ids of nodes reachable from it inside its scope (inclusive joins).
    """

    def __init__(self, key: str, name: str | None) -> None:
        self.key = key
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.top: list[Node] = []
        self.starts: list[Node] = []
        self.esp: list[Node] = []
        self.message_starts: list[Node] = []
        self.signal_starts: list[Node] = []
        self.timer_starts: list[Node] = []
        self.links: dict[tuple[str, str], Node] = {}
        self.reach: dict[str, frozenset[str]] = {}
        #: Embedded forms (``zeebe:userTaskForm``) by id: JSON text.
        self.forms: dict[str, str] = {}
        self.has_conditionals = False
        self.has_or_joins = False
        #: ``camunda:versionTag`` of the process (call activities and starts can bind to it).
        self.version_tag: str | None = None
        #: Process-level SLA mappings (``liucheng:sla`` on the process; see docs/work.md).
        self.slas: list[dict[str, Any]] = []

    def reachable(self, node_id: str) -> frozenset[str]:
        """Ids of the nodes reachable from ``node_id`` by sequence flows (boundaries included)."""
        got = self.reach.get(node_id)
        if got is None:
            seen: set[str] = set()
            stack = [self.nodes[node_id]]
            while stack:
                n = stack.pop()
                for f in n.outgoing:
                    if f.target.id not in seen:
                        seen.add(f.target.id)
                        stack.append(f.target)
                for b in n.boundaries:
                    if b.id not in seen:
                        seen.add(b.id)
                        stack.append(b)
                if n.kind == "ithrow" and n.ev == "link" and n.link is not None:
                    scope = n.parent.id if n.parent else ""
                    tgt = self.links.get((scope, n.link))
                    if tgt is not None and tgt.id not in seen:
                        seen.add(tgt.id)
                        stack.append(tgt)
            got = self.reach[node_id] = frozenset(seen)
        return got


# ------------------------------------------------------------------------------ compilation


class _Ctx:
    def __init__(self, roots: dict[str, Any], file: str | None) -> None:
        self.roots = roots
        self.file = file
        self.associations: list[tuple[str, str]] = []


def _bool(text: str | None) -> bool:
    return text is not None and text.strip().lower() == "true"


def _ext_attr(el: m.BaseElement, name: str) -> str | None:
    return el.attr(CAMUNDA, name)


def compile_process(process: m.Process, roots: dict[str, Any], *, file: str | None = None) -> Graph:
    """Compile one process of a parsed definitions document.

    Args:
        process: The process element.
        roots: Root elements of the document by id (messages, signals, errors, escalations).
        file: Source file name, for errors.

    Raises:
        ModelError: The process cannot be executed (e.g. a flow to an unknown node).
    """
    if not process.id:
        raise ModelError("a process has no id", file=file, hint="give every process an id")
    g = Graph(process.id, process.name)
    g.version_tag = process.attr(CAMUNDA, "versionTag") or zeebe_version_tag(process)
    ctx = _Ctx(roots, file)
    _compile_container(g, ctx, process, None)
    assign_lanes(g, process)
    compile_slas(g, process)
    for ext in process.extensions("zeebe:userTaskForm"):
        if ext.get("id"):
            g.forms[str(ext.get("id"))] = ext.text_content.strip()
    for node in g.nodes.values():
        # scopes and multi-instance bodies may carry compensation records of their children
        node.comp_scope = node.is_scope or node.mi is not None
        node.is_join = node.kind in ("and", "or", "complex") and len(node.incoming) > 1
    for src_id, tgt_id in ctx.associations:
        src = g.nodes.get(src_id)
        tgt = g.nodes.get(tgt_id)
        if src is None or tgt is None:
            continue
        if src.ev == "compensation" and src.attached_to is not None:
            src.attached_to.comp_handler = tgt
        elif tgt.ev == "compensation" and tgt.attached_to is not None:
            tgt.attached_to.comp_handler = src
    for node in g.nodes.values():
        if node.kind == "icatch" and node.ev == "link" and node.link is not None:
            g.links[(node.parent.id if node.parent else "", node.link)] = node
        if node.ev == "conditional":
            g.has_conditionals = True
        if node.kind in ("or", "complex") and len(node.incoming) > 1:
            g.has_or_joins = True
    for node in g.nodes.values():
        node.plain = _is_plain(node)
        node.fixed_flows = _fixed_flows(node)
    return g


def _is_plain(node: Node) -> bool:
    """Whether ``node`` runs straight through: no asyncBefore/After, mappings, boundary events,
    loop, compensation, join; a pass-through element or a FEEL script task (for a multi-instance
    activity: its inner instances).

    The executor runs such a node's activation, behaviour and leaving in one step
    (``Executor.run_plain``) with the same effects as the general chain.
    """
    k = node.kind
    if k == "script":
        ok = node.handler is None
    elif k in ("start", "end", "ithrow"):
        ok = node.ev == "none"
    else:
        ok = k in ("task", "xor", "and", "or")
    mi = node.mi
    if mi is None:
        ok = ok and not node.async_before and not node.async_after and not node.comp_scope
    else:
        # the inner instances of a multi-instance activity (its body takes the general way)
        ok = ok and k in ("script", "task") and not mi.async_before and not mi.async_after
    return (
        ok
        and not node.is_join
        and node.loop_condition is None
        and not node.inputs
        and not node.outputs
        and not node.boundaries
        and node.comp_handler is None
        and not node.is_for_comp
        and node.adhoc is None
    )


def _fixed_flows(node: Node) -> tuple[Flow, ...] | None:
    """The flows ``Executor.select_flows`` always takes from ``node`` (``None``: it decides)."""
    out = node.outgoing
    if not out:
        return ()
    if node.kind == "and":
        return tuple(out)
    if len(out) == 1 and out[0].condition is None and node.kind != "xor":
        return (out[0],)
    return None


def _compile_container(g: Graph, ctx: _Ctx, container: Any, parent: Node | None) -> None:
    nodes: list[Node] = []
    boundary_models: list[Any] = []
    for el in container.flow_elements:
        if isinstance(el, m.FlowNode):
            node = _compile_node(g, ctx, el, parent)
            if node is None:
                continue
            nodes.append(node)
            if node.kind == "boundary":
                boundary_models.append(el)
    for el in container.flow_elements:
        if isinstance(el, m.SequenceFlow):
            src = g.nodes.get(el.source_ref or "")
            tgt = g.nodes.get(el.target_ref or "")
            if src is None or tgt is None:
                raise ModelError(
                    f"sequence flow '{el.id}' connects unknown elements",
                    file=ctx.file,
                    line=el.line,
                    element_id=el.id,
                    hint="check sourceRef and targetRef",
                )
            cond = feel(el.condition, el.id) if el.condition_expression is not None else None
            flow = Flow(el.id or f"{src.id}->{tgt.id}", src, tgt, cond)
            src.outgoing.append(flow)
            tgt.incoming.append(flow)
    by_id = {n.id: n for n in nodes}
    for el in container.flow_elements:
        dref = getattr(el, "default", None)
        if dref and el.id in by_id:
            n = by_id[el.id]
            for f in n.outgoing:
                if f.id == dref:
                    n.default = f
    for el in boundary_models:
        b = by_id[el.id]
        host = g.nodes.get(el.attached_to_ref or "")
        if host is None:
            raise ModelError(
                f"boundary event '{el.id}' is attached to unknown activity '{el.attached_to_ref}'",
                file=ctx.file,
                line=el.line,
                element_id=el.id,
                hint="check attachedToRef",
            )
        b.attached_to = host
        host.boundaries.append(b)
    # compensation handlers are linked to compensation boundary events by associations,
    # which may sit in any container; they are resolved once every node is known
    for art in getattr(container, "artifacts", ()):
        if isinstance(art, m.Association):
            ctx.associations.append((art.source_ref or "", art.target_ref or ""))
    starts: list[Node] = []
    esps: list[Node] = []
    for n in nodes:
        if n.kind == "start" and n.ev == "none":
            starts.append(n)
        elif n.kind == "esp":
            esps.append(n)
    if parent is None:
        g.top = nodes
        g.starts = starts
        g.esp = esps
        for n in nodes:
            if n.kind == "start":
                if n.ev == "message":
                    g.message_starts.append(n)
                elif n.ev == "signal":
                    g.signal_starts.append(n)
                elif n.ev == "timer":
                    g.timer_starts.append(n)
                elif n.ev == "none" and n not in starts:
                    starts.append(n)
    else:
        parent.children = nodes
        parent.starts = starts
        parent.esp = esps


def _compile_node(g: Graph, ctx: _Ctx, el: Any, parent: Node | None) -> Node | None:
    btype = el.element_type
    kind = _TASK_KINDS.get(btype)
    if kind is None:
        return None
    if el.id is None:
        raise ModelError(
            f"a {btype} has no id", file=ctx.file, line=el.line, hint="give every element an id"
        )
    if kind == "sub" and getattr(el, "triggered_by_event", None):
        kind = "esp"
    node = Node(el.id, kind, btype, el.name)
    node.parent = parent
    g.nodes[el.id] = node
    if isinstance(el, m.Event):
        _compile_event(node, ctx, el)
    if isinstance(el, m.Activity):
        _compile_activity(node, ctx, el)
    if kind in ("xor", "and", "or", "ebg", "complex"):
        node.async_before = _bool(_ext_attr(el, "asyncBefore"))
        node.async_after = _bool(_ext_attr(el, "asyncAfter"))
        if kind == "complex" and el.activation_condition is not None:
            # a gateway is never a conditional event: ``condition`` holds its activation
            node.condition = feel(el.activation_condition.text, node.id)
    if kind == "adhoc":
        _compile_adhoc(node, el)
    if kind in SCOPE_KINDS:
        _compile_container(g, ctx, el, node)
        if kind == "esp" and not node.starts:
            # the start event of an event subprocess is typed; keep it as its trigger
            node.starts = [c for c in node.children if c.kind == "start"]
    if kind == "start" or kind == "end" or kind in ("icatch", "ithrow", "boundary"):
        node.async_before = _bool(_ext_attr(el, "asyncBefore"))
        node.async_after = _bool(_ext_attr(el, "asyncAfter"))
    cycle = el.extension("camunda:failedJobRetryTimeCycle")
    if cycle is not None and cycle.text:
        try:
            node.retry = parse_retry_cycle(cycle.text)
        except EngineError as exc:
            raise ModelError(
                exc.message,
                code="model.retry_cycle",
                file=ctx.file,
                line=getattr(cycle, "line", None) or el.line,
                element_id=el.id,
                hint=exc.hint,
            ) from None
    return node


def _root_name(ctx: _Ctx, ref: str | None) -> Any:
    if ref is None:
        return None
    return ctx.roots.get(ref)


def _compile_event(node: Node, ctx: _Ctx, el: Any) -> None:
    defs = el.definitions
    if isinstance(el, m.BoundaryEvent):
        node.interrupting = el.interrupting
    if isinstance(el, m.StartEvent):
        node.interrupting = el.interrupting
    if not defs:
        node.ev = "none"
        return
    d = defs[0]
    node.ev = d.kind
    if isinstance(d, m.MessageEventDefinition):
        msg = _root_name(ctx, d.message_ref)
        name = getattr(msg, "name", None) or d.message_ref or ""
        node.event_name = maybe_feel(name, node.id)
        node.corr_key = _zeebe_corr_key(msg, node.id)
        if node.kind in ("ithrow", "end"):
            # a message throw event may be worked by an external worker like a service task
            td = el.extension("zeebe:taskDefinition")
            if td is not None:
                node.topic = maybe_feel(td.get("type"), node.id)
            elif d.attr(CAMUNDA, "type") == "external":
                node.topic = maybe_feel(d.attr(CAMUNDA, "topic") or node.id, node.id)
    elif isinstance(d, m.SignalEventDefinition):
        sig = _root_name(ctx, d.signal_ref)
        name = getattr(sig, "name", None) or d.signal_ref or ""
        node.event_name = maybe_feel(name, node.id)
        # Camunda: variables passed with a thrown signal (camunda:in on the definition)
        for p in d.extensions("camunda:in"):
            _call_mapping(node, p, node.call_in)
    elif isinstance(d, m.ErrorEventDefinition):
        err = _root_name(ctx, d.error_ref)
        node.event_code = getattr(err, "error_code", None) if err is not None else d.error_ref
        if err is not None and node.event_code is None:
            node.event_code = d.error_ref
        node.result_var = d.attr(CAMUNDA, "errorCodeVariable")
        node.error_msg_var = d.attr(CAMUNDA, "errorMessageVariable")
        if err is not None and hasattr(err, "attr"):
            node.error_message = maybe_feel(err.attr(CAMUNDA, "errorMessage"), node.id)
    elif isinstance(d, m.EscalationEventDefinition):
        esc = _root_name(ctx, d.escalation_ref)
        node.event_code = (
            getattr(esc, "escalation_code", None) if esc is not None else d.escalation_ref
        )
        node.result_var = d.attr(CAMUNDA, "escalationCodeVariable")
    elif isinstance(d, m.TimerEventDefinition):
        t = d.timer
        if t is not None:
            kind, text = t
            expr = feel(text, node.id) if text.startswith("=") else maybe_feel(text, node.id)
            if expr is not None:
                node.timer = (kind, expr)
            cal = d.attr("liucheng", "calendar") or work_attr(el, "calendar")
            if cal:
                node.work["calendar"] = cal
    elif isinstance(d, m.ConditionalEventDefinition):
        if d.condition is not None:
            node.condition = feel(d.condition.text, node.id)
        names = d.attr(CAMUNDA, "variableName")
        if names:
            node.cond_vars = frozenset(n.strip() for n in names.split(",") if n.strip())
        node.cond_events = variable_events(d, el, ctx.file)
    elif isinstance(d, m.LinkEventDefinition):
        node.link = d.name
    elif isinstance(d, m.CompensateEventDefinition):
        node.activity_ref = d.activity_ref
        node.wait = d.wait_for_completion is not False
    if isinstance(el, m.ThrowEvent | m.CatchEvent):
        _compile_io(node, el)


def _compile_adhoc(node: Node, el: Any) -> None:
    if el.completion_condition is not None:
        node.condition = feel(el.completion_condition.text, node.id)
    zeebe = el.extension("zeebe:adHoc")
    active = zeebe.get("activeElementsCollection") if zeebe is not None else None
    node.adhoc = (
        el.cancel_remaining_instances is not False,
        (el.ordering or "Parallel") == "Sequential",
        feel(active, node.id) if active else None,
    )


def _zeebe_corr_key(msg: Any, element_id: str) -> Expr | None:
    if msg is None:
        return None
    ext = msg.extension("zeebe:subscription") if hasattr(msg, "extension") else None
    if ext is None:
        return None
    return feel(ext.get("correlationKey"), element_id)


def _compile_io(node: Node, el: Any) -> None:
    io = el.extension("camunda:inputOutput")
    if io is not None:
        for p in io.findall("camunda:inputParameter"):
            node.inputs.append((p.get("name") or "", _param_value(p, node.id)))
        for p in io.findall("camunda:outputParameter"):
            node.outputs.append((p.get("name") or "", _param_value(p, node.id)))
    zio = el.extension("zeebe:ioMapping")
    if zio is not None:
        for p in zio.findall("zeebe:input"):
            node.inputs.append((p.get("target") or "", feel(p.get("source"), node.id)))
        for p in zio.findall("zeebe:output"):
            node.outputs.append((p.get("target") or "", feel(p.get("source"), node.id)))
            node.local_out = True


def _param_value(p: Any, element_id: str) -> Expr | None:
    if p.children:
        # camunda:list / camunda:map / camunda:script: a FEEL script or literal structure
        c = p.children[0]
        if c.is_a("camunda:script"):
            return feel(c.text_content, element_id)
        return StructureExpr(_structure(c, element_id), element_id)
    text = (p.text or "").strip()
    if not text:
        return None
    return feel(text, element_id)


def _structure(c: Any, element_id: str) -> Any:
    # leaves are literal text, or FEEL when they start with "="
    if c.is_a("camunda:list"):
        return [
            _structure(x, element_id) if x.children else maybe_feel(x.text or "", element_id)
            for x in c.children
        ]
    if c.is_a("camunda:map"):
        return {
            e.get("key") or "": (
                _structure(e.children[0], element_id)
                if e.children
                else maybe_feel(e.text or "", element_id)
            )
            for e in c.findall("camunda:entry")
        }
    return maybe_feel(c.text_content, element_id)


def _compile_activity(node: Node, ctx: _Ctx, el: Any) -> None:
    node.async_before = _bool(_ext_attr(el, "asyncBefore"))
    node.async_after = _bool(_ext_attr(el, "asyncAfter"))
    node.exclusive = _ext_attr(el, "exclusive") != "false"
    node.is_for_comp = el.for_compensation
    _compile_io(node, el)
    # loops
    lc = el.loop_characteristics
    # Zeebe puts zeebe:loopCharacteristics inside the multiInstanceLoopCharacteristics element
    zloop = (lc.extension("zeebe:loopCharacteristics") if lc is not None else None) or (
        el.extension("zeebe:loopCharacteristics")
    )
    if isinstance(lc, m.MultiInstanceLoopCharacteristics):
        mi = MiSpec()
        mi.sequential = lc.sequential
        if lc.loop_cardinality is not None:
            mi.cardinality = feel(lc.loop_cardinality.text, node.id)
        coll = lc.attr(CAMUNDA, "collection")
        if coll:
            mi.collection = feel(coll, node.id)
        elif lc.loop_data_input_ref:
            mi.collection = feel(lc.loop_data_input_ref, node.id)
        mi.element_var = lc.attr(CAMUNDA, "elementVariable")
        if mi.element_var is None and lc.input_data_item is not None:
            mi.element_var = lc.input_data_item.name or lc.input_data_item.id
        if lc.completion_condition is not None:
            mi.completion = feel(lc.completion_condition.text, node.id)
        if lc.loop_data_output_ref:
            mi.output_collection = lc.loop_data_output_ref
            if lc.output_data_item is not None:
                name = lc.output_data_item.name or lc.output_data_item.id
                mi.output_element = feel(name, node.id)
        mi.async_before = _bool(lc.attr(CAMUNDA, "asyncBefore"))
        mi.async_after = _bool(lc.attr(CAMUNDA, "asyncAfter"))
        if zloop is not None:
            mi.zeebe = True
            mi.collection = feel(zloop.get("inputCollection"), node.id) or mi.collection
            mi.element_var = zloop.get("inputElement") or mi.element_var
            mi.output_collection = zloop.get("outputCollection") or mi.output_collection
            oe = zloop.get("outputElement")
            if oe:
                mi.output_element = feel(oe, node.id)
        node.mi = mi
    elif isinstance(lc, m.StandardLoopCharacteristics):
        node.loop_condition = feel(lc.loop_condition.text, node.id) if lc.loop_condition else None
        node.loop_max = lc.loop_maximum
        if node.loop_condition is None and node.loop_max is not None:
            # no condition but a maximum: run exactly loopMaximum times
            node.loop_condition = Expr("true", element_id=node.id)
        node.loop_test_before = bool(lc.test_before)
    # tasks
    k = node.kind
    if k == "script":
        zs = el.extension("zeebe:script")
        if zs is not None:
            node.script = feel(zs.get("expression"), node.id)
            node.result_var = zs.get("resultVariable")
        else:
            fmt = (el.script_format or "feel").lower()
            if fmt not in ("feel", "text/feel", "application/feel"):
                node.handler = f"script:{fmt}"
            node.script = feel(el.script, node.id)
            node.result_var = _ext_attr(el, "resultVariable")
    elif k in ("service", "send", "rule"):
        td = el.extension("zeebe:taskDefinition")
        ctype = _ext_attr(el, "type")
        if td is not None:
            node.topic = maybe_feel(td.get("type"), node.id)
            r = td.get("retries")
            node.retries = int(r) if r and r.isdigit() else None
        elif ctype == "external":
            node.topic = maybe_feel(_ext_attr(el, "topic") or node.id, node.id)
        else:
            node.handler = (
                _ext_attr(el, "class")
                or _ext_attr(el, "delegateExpression")
                or _ext_attr(el, "expression")
                or getattr(el, "implementation", None)
            )
            if node.handler in ("##WebService", "##unspecified"):
                node.handler = None
        if k == "rule":
            compile_decision(node, el, ctx.file)
            if node.decision is not None:
                node.handler = None
                node.topic = None
        elif k == "service" or k == "send":
            node.result_var = _ext_attr(el, "resultVariable")
    elif k == "user":
        compile_user(node, el)
    elif k == "receive":
        msg = _root_name(ctx, el.message_ref)
        if el.message_ref:
            node.ev = "message"
            node.event_name = maybe_feel(getattr(msg, "name", None) or el.message_ref, node.id)
            node.corr_key = _zeebe_corr_key(msg, node.id)
    elif k == "call":
        zc = el.extension("zeebe:calledElement")
        if zc is not None:
            node.called = maybe_feel(zc.get("processId"), node.id)
            node.call_bind = zeebe_binding(
                zc, el, ctx.file, code="bpmn.call.binding", what="call activity"
            )
            node.call_dialect = "zeebe"
            if zc.get("propagateAllChildVariables") != "false":
                node.call_out.append(("all", "", None))
            # Zeebe: output mappings of the call activity read the child's variables
            node.call_out.append(("child", "", None))
            # propagateAllParentVariables="false" (Zeebe 8.4+): only the input mappings
            # (the call activity's locals) reach the child
            scope = "local" if zc.get("propagateAllParentVariables") == "false" else ""
            node.call_in.append(("all", scope, None))
        else:
            node.called = maybe_feel(el.called_element, node.id)
            node.call_bind = call_binding(el, ctx.file)
        for p in el.extensions("camunda:in"):
            _call_mapping(node, p, node.call_in)
        for p in el.extensions("camunda:out"):
            _call_mapping(node, p, node.call_out)


def _call_mapping(node: Node, p: Any, into: list[tuple[str, str, Any]]) -> None:
    if p.get("variables") == "all":
        into.append(("all", "local" if p.get("local") == "true" else "", None))
    elif p.get("businessKey") is not None:
        node.business_key = maybe_feel(p.get("businessKey"), node.id)
    elif p.get("source") is not None:
        # local="true": read (in) or write (out) the call activity's own local variable
        kind = "lvar" if p.get("local") == "true" else "var"
        into.append((kind, p.get("target") or p.get("source") or "", p.get("source")))
    elif p.get("sourceExpression") is not None:
        into.append(("expr", p.get("target") or "", feel(p.get("sourceExpression"), node.id)))
