"""A compiled token runner for common models: the engine's commands without the engine.

Most simulation models (every Prosimos model, every calibrated directly-follows model) use only
none start and end events, tasks, exclusive gateways routed by branching probabilities and
parallel gateways; many add timer boundary events and intermediate message, signal or timer
waits. For those the engine's work per command (load the instance, run the tokens, write a
change set) is pure overhead: :class:`FastRunner` offers the commands the simulator needs
(``start_process``, ``complete_task``, ``set_variables``, ``execute_job``, :meth:`deliver`)
over a precompiled graph and reports new tasks, jobs and subscriptions, removed tasks and
ended instances through the same :class:`~._sim_store.SimStore` buffers.

It reproduces the engine's semantics for that subset exactly, including the order in which
tokens run (depth first, outgoing flows in document order) and the order in which a task's
boundary timers are armed, and it plans timers with the engine's own code (the engine's
compiled timer expression, :func:`~liucheng.engine._timers.plan_timer`), so a simulation gives
the *same* event log on either path (tests check this). :func:`compile_fast` returns ``None``
for any model outside the subset; the simulator then drives the real engine.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from liucheng.errors import NotFoundError

from ._prepare import BPMN_NS, PreparedModel, _parse, _q
from ._sim_store import SimStore

__all__ = ["FastGraph", "FastRunner", "compile_fast", "route_sets"]

_PLAIN = {"task", "manualTask", "scriptTask", "businessRuleTask"}
_CATCH = "intermediateCatchEvent"
#: Nodes a token stops at until the simulator sends a command.
_WAITS = frozenset({"wait", "timer", "catch"})
_ORIGINS = frozenset({"start", "wait"})
_IGNORED = {"laneSet", "documentation", "extensionElements", "textAnnotation", "association"}


@dataclass
class _Node:
    id: str
    # start, end, wait (user task), pass, xor, and, boundary (timer), timer (intermediate
    # timer catch), catch (intermediate message/signal catch: a simulated wait)
    kind: str
    outgoing: list[str] = field(default_factory=list)  # target node ids, document order
    flow_ids: list[str] = field(default_factory=list)
    incoming: int = 0
    var: str | None = None  # xor routed by this simulation variable
    by_flow: dict[str, str] = field(default_factory=dict)  # flow id -> target
    timer: Any = None  # boundary/timer: the parsed ISO duration when the text is literal
    plan: Any = None  # boundary/timer: the engine's (kind, expression) otherwise
    interrupting: bool = True  # boundary: cancelActivity
    boundaries: list[str] = field(default_factory=list)  # wait: its timer boundary events
    event: str = ""  # catch: "message" or "signal"


@dataclass
class FastGraph:
    """The compiled subset model.

    Attributes:
        nodes: Node id -> node.
        start: The start event.
        needs_vars: A timer expression reads variables: the runner keeps each instance's.
    """

    nodes: dict[str, _Node]
    start: str
    needs_vars: bool = False


def _plain_element(el: Any) -> bool:
    """No foreign attributes or children that could change behaviour."""
    if any(a.startswith("{") for a in el.attrib):
        return False
    for child in el:
        if not isinstance(child.tag, str):
            continue
        local = child.tag.split("}", 1)[-1]
        if local not in ("incoming", "outgoing", "documentation", "extensionElements"):
            return False
        if local == "extensionElements" and len(child):
            return False
    return True


def compile_fast(prepared: PreparedModel) -> FastGraph | None:
    """The compiled graph, or ``None`` when the model uses anything beyond the subset."""
    root = _parse(prepared.xml, "model")
    process = next(
        (p for p in root.iter(_q("process")) if p.get("id") == prepared.process_id), None
    )
    if process is None:
        return None
    routed = {gw: var for gw, (var, _, _) in prepared.gateway_vars.items()}
    nodes: dict[str, _Node] = {}
    flows: list[Any] = []
    starts: list[str] = []
    boundaries: list[Any] = []
    for el in process:
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
            if isinstance(el.tag, str):
                return None
            continue
        local = el.tag.split("}", 1)[1]
        eid = el.get("id") or ""
        if local in _IGNORED:
            continue
        if local == "sequenceFlow":
            flows.append(el)
            continue
        if not eid or (local not in ("boundaryEvent", _CATCH) and not _plain_element(el)):
            return None
        if local == "startEvent":
            kind = "start"
            starts.append(eid)
        elif local == "endEvent":
            kind = "end"
        elif local == "userTask":
            kind = "wait"
        elif local in _PLAIN:
            if local == "scriptTask":
                return None  # a script may set variables a condition reads
            kind = "pass"
        elif local == "exclusiveGateway":
            if el.get("default"):
                return None
            kind = "xor"
        elif local == "parallelGateway":
            kind = "and"
        elif local == "boundaryEvent":
            boundaries.append(el)
            continue
        elif local in (_CATCH, "receiveTask"):
            continue  # checked below against the engine's own compiled node
        else:
            return None
        nodes[eid] = _Node(eid, kind, var=routed.get(eid))
    catches = [
        el
        for el in process
        if isinstance(el.tag, str) and el.tag in (_q(_CATCH), _q("receiveTask"))
    ]
    if boundaries or catches:
        engine_nodes = _engine_nodes(prepared)
        if engine_nodes is None:
            return None
        for el in catches:
            node = _catch_event(el, engine_nodes)
            if node is None:
                return None
            nodes[node.id] = node
        for el in boundaries:
            node = _timer_boundary(el, nodes, engine_nodes)
            if node is None:
                return None
            nodes[node.id] = node
        for n in nodes.values():
            if n.kind == "wait" and n.boundaries:
                # armed in the engine's order (its host's boundary list)
                order = [b.id for b in engine_nodes[n.id].boundaries]
                if sorted(order) != sorted(n.boundaries):
                    return None
                n.boundaries = order
    if len(starts) != 1:
        return None
    for f in flows:
        src, tgt, fid = f.get("sourceRef"), f.get("targetRef"), f.get("id")
        if src not in nodes or tgt not in nodes or not fid:
            return None
        has_condition = f.find(_q("conditionExpression")) is not None
        if has_condition and nodes[src].var is None:
            return None
        nodes[src].outgoing.append(tgt)
        nodes[src].flow_ids.append(fid)
        nodes[src].by_flow[fid] = tgt
        nodes[tgt].incoming += 1
    for n in nodes.values():
        if n.kind == "xor" and n.var is None and len(n.outgoing) > 1:
            return None  # routed by the model's own conditions: leave that to the engine
        if n.kind == "and" and n.incoming > 1 and len(n.outgoing) == 0:
            return None
    needs_vars = any(n.plan is not None and not n.plan[1].is_const for n in nodes.values())
    return FastGraph(nodes, starts[0], needs_vars)


_ISO_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


def _engine_nodes(prepared: PreparedModel) -> dict[str, Any] | None:
    """The engine's own compiled nodes of the process (timer expressions, boundary order)."""
    from liucheng.engine._graph import compile_process
    from liucheng.errors import LiuchengError
    from liucheng.model import parse_bpmn

    try:
        defs = parse_bpmn(prepared.xml, filename="model.bpmn")
        roots = {r.id: r for r in defs.root_elements if r.id}
        process = next(p for p in defs.processes if p.id == prepared.process_id)
        return dict(compile_process(process, roots).nodes)
    except (LiuchengError, StopIteration):
        return None  # the engine path reports what is wrong


def _only_children(el: Any, allowed: tuple[str, ...]) -> list[Any] | None:
    """The event definitions of ``el`` when it has nothing but those, flows and docs."""
    if any(a.startswith("{") or a not in allowed for a in el.attrib):
        return None
    defs = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = c.tag.split("}", 1)[-1]
        if local in ("incoming", "outgoing", "documentation"):
            continue
        if local == "extensionElements" and not len(c):
            continue
        defs.append(c)
    return defs


def _timer_of(eid: str, definition: Any, engine_node: Any) -> tuple[Any, Any] | None:
    """``(literal duration, engine plan)`` of a timer definition (one of them set), or ``None``
    when the engine would do more than plan one due date (cycles, business calendars)."""
    if definition.tag != _q("timerEventDefinition") or definition.attrib:
        return None
    parts = [c for c in definition if isinstance(c.tag, str)]
    if len(parts) != 1 or parts[0].attrib or len(parts[0]):
        return None
    if parts[0].tag not in (_q("timeDuration"), _q("timeDate")):
        return None
    if engine_node is None or engine_node.timer is None or engine_node.work.get("calendar"):
        return None
    kind, expr = engine_node.timer
    if kind not in ("duration", "date"):
        return None
    text = (parts[0].text or "").strip()
    if kind == "duration" and _ISO_DURATION.fullmatch(text):
        from liucheng.engine._timers import parse_duration

        return parse_duration(text), None
    return None, (kind, expr)  # a FEEL expression or a date: the engine's own planning


def _timer_boundary(el: Any, nodes: dict[str, _Node], engine: dict[str, Any]) -> _Node | None:
    """A timer boundary event (literal or FEEL duration, or a date) on a task, else ``None``."""
    eid = el.get("id") or ""
    host = nodes.get(el.get("attachedToRef") or "")
    if not eid or host is None or host.kind != "wait":
        return None
    defs = _only_children(el, ("id", "name", "attachedToRef", "cancelActivity"))
    if defs is None or len(defs) != 1:
        return None
    timer = _timer_of(eid, defs[0], engine.get(eid))
    if timer is None:
        return None
    cancel = (el.get("cancelActivity") or "true").strip()
    if cancel not in ("true", "false"):
        return None
    host.boundaries.append(eid)
    return _Node(eid, "boundary", timer=timer[0], plan=timer[1], interrupting=cancel == "true")


def _catch_event(el: Any, engine: dict[str, Any]) -> _Node | None:
    """An intermediate timer, message or signal catch event (or a plain receive task), else
    ``None``."""
    eid = el.get("id") or ""
    if el.tag == _q("receiveTask"):
        node = engine.get(eid)
        if not eid or _only_children(el, ("id", "name", "messageRef")) != [] or node is None:
            return None
        if node.ev != "message" or node.event_name is None or not node.event_name.is_const:
            return None
        if node.corr_key or node.boundaries:
            return None
        return _Node(eid, "catch", event="message")
    defs = _only_children(el, ("id", "name"))
    if not eid or defs is None or len(defs) != 1:
        return None
    d = defs[0]
    if d.tag == _q("timerEventDefinition"):
        timer = _timer_of(eid, d, engine.get(eid))
        if timer is None:
            return None
        return _Node(eid, "timer", timer=timer[0], plan=timer[1])
    for event, ref in (("message", "messageRef"), ("signal", "signalRef")):
        if d.tag == _q(f"{event}EventDefinition"):
            node = engine.get(eid)
            if set(d.attrib) - {"id", ref} or len(d) or node is None or node.ev != event:
                return None
            if node.event_name is None or not node.event_name.is_const or node.corr_key:
                return None
            return _Node(eid, "catch", event=event)
    return None


def route_sets(graph: FastGraph, gateways: list[str]) -> dict[str, list[str]]:
    """For the start event and each task: the routed gateways a token leaving it can reach
    before the next task (in ``gateways`` order)."""
    order = {gw: i for i, gw in enumerate(gateways)}
    out: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.kind not in _ORIGINS:
            continue
        seen: set[str] = set()
        found: set[str] = set()
        stack = list(node.outgoing)
        while stack:
            nid = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            nxt = graph.nodes[nid]
            if nxt.kind in _WAITS:
                continue
            if nid in order:
                found.add(nid)
            stack.extend(nxt.outgoing)
        out[node.id] = sorted(found, key=order.__getitem__)
    return out


class _Row:
    """What the simulator reads of an engine task row."""

    __slots__ = ("candidate_groups", "element_id", "id", "instance_id", "root_id")

    def __init__(self, rid: str, element_id: str, instance_id: str) -> None:
        self.id = rid
        self.element_id = element_id
        self.instance_id = instance_id
        self.root_id = instance_id
        self.candidate_groups: list[str] = []


class _Job:
    """What the simulator reads of an engine timer job row."""

    __slots__ = ("due_at", "element_id", "id", "instance_id", "node", "task")

    def __init__(
        self, jid: str, instance_id: str, due_at: dt.datetime, node: _Node, task: str | None
    ) -> None:
        self.id = jid
        self.instance_id = instance_id
        self.due_at = due_at
        self.node = node
        self.element_id = node.id
        self.task = task  # the host task of a boundary timer (None: an intermediate timer)


class _Sub:
    """What the simulator reads of an engine subscription row."""

    __slots__ = ("element_id", "id", "instance_id", "kind", "node")

    def __init__(self, sid: str, instance_id: str, node: _Node) -> None:
        self.id = sid
        self.instance_id = instance_id
        self.node = node
        self.element_id = node.id
        self.kind = node.event


class FastRunner:
    """``start_process``, ``complete_task``, ``set_variables``, ``execute_job`` (timers) and
    :meth:`deliver` (message and signal waits) over a :class:`FastGraph`.

    Args:
        graph: The compiled model.
        store: Where new tasks, jobs and subscriptions, removed tasks and ended instances are
            reported.
        now: The current time (the engine's clock; timer due dates are computed from it).
    """

    def __init__(
        self, graph: FastGraph, store: SimStore, now: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.graph = graph
        self.store = store
        self._now = now
        self._ids = itertools.count(1)
        self._tasks: dict[str, _Row] = {}
        self._tokens: dict[str, int] = {}
        self._joins: dict[tuple[str, str], int] = {}
        self._vars: dict[str, dict[str, Any]] = {}
        self._task_jobs: dict[str, list[str]] = {}
        #: Instance -> its process variables, kept only when a timer expression reads them.
        self._ivars: dict[str, dict[str, Any]] | None = {} if graph.needs_vars else None
        self._jobs = store.rows["job"]
        self._subs = store.rows["subscription"]

    def set_variables(self, instance_id: str, variables: dict[str, Any]) -> None:
        """Remember routing variables for the instance's next :meth:`execute_job`."""
        self._vars.setdefault(instance_id, {}).update(variables)
        if self._ivars is not None:
            self._ivars[instance_id].update(variables)

    def execute_job(self, job_id: str) -> bool:
        """Fire a timer: a boundary interrupts its task (if interrupting); the token moves on."""
        job = self._jobs.pop(job_id, None)
        if not isinstance(job, _Job):
            return False
        iid = job.instance_id
        task = job.task
        if task is not None:
            if job.node.interrupting:
                for other in self._task_jobs.pop(task, ()):
                    self._jobs.pop(other, None)
                if self._tasks.pop(task, None) is not None:
                    self.store.gone.add(task)
            else:
                self._task_jobs[task].remove(job_id)
                self._tokens[iid] += 1
        self._leave(iid, job.node, self._vars.pop(iid, {}))
        return True

    def deliver(self, subscription_id: str, variables: dict[str, Any]) -> bool:
        """The message or signal one wait catches arrives (see :func:`._lean.deliver`)."""
        sub = self._subs.pop(subscription_id, None)
        if not isinstance(sub, _Sub):
            return False
        if self._ivars is not None:
            self._ivars[sub.instance_id].update(variables)
        self._leave(sub.instance_id, sub.node, variables)
        return True

    def start_process(
        self, key: str, variables: dict[str, Any], business_key: str | None = None
    ) -> str:
        """Start an instance; returns its id."""
        iid = f"i{next(self._ids)}"
        self._tokens[iid] = 1
        if self._ivars is not None:
            self._ivars[iid] = dict(variables)
        self._run(iid, self.graph.start, variables)
        return iid

    def complete_task(
        self, task_id: str, variables: dict[str, Any], *, actor: str | None = None
    ) -> None:
        """Complete an open task and move its token on."""
        row = self._tasks.pop(task_id, None)
        if row is None:
            raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
        if self._task_jobs:
            for job_id in self._task_jobs.pop(task_id, ()):
                self._jobs.pop(job_id, None)
        if self._ivars is not None:
            self._ivars[row.instance_id].update(variables)
        self._leave(row.instance_id, self.graph.nodes[row.element_id], variables)

    def _consume(self, iid: str) -> None:
        left = self._tokens[iid] - 1
        if left:
            self._tokens[iid] = left
        else:
            del self._tokens[iid]
            if self._ivars is not None:
                del self._ivars[iid]
            self.store.ended.append(iid)

    def _run(self, iid: str, node_id: str, variables: dict[str, Any]) -> None:
        node = self.graph.nodes[node_id]
        kind = node.kind
        if kind == "wait":
            rid = f"t{next(self._ids)}"
            row = _Row(rid, node_id, iid)
            self._tasks[rid] = row
            self.store.new["task"].append(row)
            if node.boundaries:
                nodes = self.graph.nodes
                self._task_jobs[rid] = [self._arm(iid, nodes[b], rid) for b in node.boundaries]
            return
        if kind == "end":
            self._consume(iid)
            return
        if kind == "timer":
            self._arm(iid, node, None)
            return
        if kind == "catch":
            sub = _Sub(f"s{next(self._ids)}", iid, node)
            self._subs[sub.id] = sub
            self.store.new["subscription"].append(sub)
            return
        if kind == "and" and node.incoming > 1:
            key = (iid, node_id)
            arrived = self._joins.get(key, 0) + 1
            if arrived < node.incoming:
                self._joins[key] = arrived  # this token waits inside the join
                return
            del self._joins[key]
            self._tokens[iid] -= node.incoming - 1  # the waiting tokens merge into this one
        self._leave(iid, node, variables)

    def _arm(self, iid: str, timer: _Node, task_id: str | None) -> str:
        """Write the timer job (due date planned by the engine's code); returns its id."""
        from liucheng.engine._timers import add_duration, plan_timer

        assert self._now is not None, "a model with timers needs the clock"
        now = self._now()
        if timer.plan is None:
            due = add_duration(now, timer.timer)
        else:
            from liucheng.engine._expr import FEEL_CLOCK

            kind, expr = timer.plan
            token = FEEL_CLOCK.set(self._now)
            try:
                value = expr.evaluate(self._ivars[iid] if self._ivars is not None else {})
            finally:
                FEEL_CLOCK.reset(token)
            due = plan_timer(kind, value, now).due
        job = _Job(f"j{next(self._ids)}", iid, due, timer, task_id)
        self._jobs[job.id] = job
        self.store.new["job"].append(job)
        return job.id

    def _leave(self, iid: str, node: _Node, variables: dict[str, Any]) -> None:
        targets = node.outgoing
        if node.var is not None:
            chosen = node.by_flow.get(variables.get(node.var, ""))
            if chosen is None:
                self._consume(iid)
                return
            self._run(iid, chosen, variables)
            return
        if not targets:
            self._consume(iid)
            return
        if len(targets) > 1:
            self._tokens[iid] += len(targets) - 1
        for t in targets:
            self._run(iid, t, variables)
