"""A compiled token runner for the simplest models: the engine's commands without the engine.

Most simulation models (every Prosimos model, every calibrated directly-follows model) use only
none start and end events, tasks, exclusive gateways routed by branching probabilities and
parallel gateways. For those the engine's work per command (load the instance document, run
the tokens, write a change set) is pure overhead: :class:`FastRunner` offers the two commands
the simulator needs (``start_process``, ``complete_task``) over a precompiled graph and reports
new tasks and ended instances through the same :class:`~._sim_store.SimStore` buffers.

It reproduces the engine's semantics for that subset exactly, including the order in which
tokens run (depth first, outgoing flows in document order), so a simulation gives the *same*
event log on either path (a test checks this). :func:`compile_fast` returns ``None`` for any
model outside the subset; the simulator then drives the real engine.
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
_IGNORED = {"laneSet", "documentation", "extensionElements", "textAnnotation", "association"}


@dataclass
class _Node:
    id: str
    kind: str  # start, end, wait, pass, xor, and
    outgoing: list[str] = field(default_factory=list)  # target node ids, document order
    flow_ids: list[str] = field(default_factory=list)
    incoming: int = 0
    var: str | None = None  # xor routed by this simulation variable
    by_flow: dict[str, str] = field(default_factory=dict)  # flow id -> target
    timer: Any = None  # boundary: the engine's parsed ISO duration
    interrupting: bool = True  # boundary: cancelActivity
    boundary: str | None = None  # wait: its timer boundary event


@dataclass
class FastGraph:
    """The compiled subset model."""

    nodes: dict[str, _Node]
    start: str


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
        if not eid or (local != "boundaryEvent" and not _plain_element(el)):
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
        else:
            return None
        nodes[eid] = _Node(eid, kind, var=routed.get(eid))
    for el in boundaries:
        node = _timer_boundary(el, nodes)
        if node is None:
            return None
        nodes[node.id] = node
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
    return FastGraph(nodes, starts[0])


_ISO_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


def _timer_boundary(el: Any, nodes: dict[str, _Node]) -> _Node | None:
    """A boundary event with one literal ISO ``timeDuration`` on a task, else ``None``."""
    eid = el.get("id") or ""
    host = nodes.get(el.get("attachedToRef") or "")
    if not eid or host is None or host.kind != "wait" or host.boundary is not None:
        return None
    if any(
        a.startswith("{") or a not in ("id", "name", "attachedToRef", "cancelActivity")
        for a in el.attrib
    ):
        return None
    children = [c for c in el if isinstance(c.tag, str)]
    timers = [c for c in children if c.tag == _q("timerEventDefinition")]
    others = [c for c in children if c.tag not in (_q("timerEventDefinition"), _q("outgoing"))]
    if len(timers) != 1 or others or timers[0].attrib:
        return None
    parts = [c for c in timers[0] if isinstance(c.tag, str)]
    if len(parts) != 1 or parts[0].tag != _q("timeDuration") or parts[0].attrib or len(parts[0]):
        return None
    text = (parts[0].text or "").strip()
    if not _ISO_DURATION.fullmatch(text):
        return None  # a FEEL expression or anything else: the engine evaluates it
    from liucheng.engine._timers import parse_duration

    cancel = (el.get("cancelActivity") or "true").strip()
    if cancel not in ("true", "false"):
        return None
    host.boundary = eid
    return _Node(eid, "boundary", timer=parse_duration(text), interrupting=cancel == "true")


def route_sets(graph: FastGraph, gateways: list[str]) -> dict[str, list[str]]:
    """For the start event and each task: the routed gateways a token leaving it can reach
    before the next task (in ``gateways`` order)."""
    order = {gw: i for i, gw in enumerate(gateways)}
    out: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.kind not in ("start", "wait"):
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
            if nxt.kind == "wait":
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

    __slots__ = ("due_at", "id", "instance_id", "node", "task")

    def __init__(self, jid: str, instance_id: str, due_at: dt.datetime, node: _Node, task: str):
        self.id = jid
        self.instance_id = instance_id
        self.due_at = due_at
        self.node = node
        self.task = task


class FastRunner:
    """``start_process``, ``complete_task``, ``set_variables`` and ``execute_job`` (timer
    boundary events) over a :class:`FastGraph`.

    Args:
        graph: The compiled model.
        store: Where new tasks and jobs, removed tasks and ended instances are reported.
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
        self._task_job: dict[str, str] = {}

    def set_variables(self, instance_id: str, variables: dict[str, Any]) -> None:
        """Remember routing variables for the instance's next :meth:`execute_job`."""
        self._vars.setdefault(instance_id, {}).update(variables)

    def execute_job(self, job_id: str) -> bool:
        """Fire a boundary timer: interrupt its task (if interrupting) and leave the event."""
        job = self.store.rows["job"].pop(job_id, None)
        if not isinstance(job, _Job):
            return False
        iid = job.instance_id
        self._task_job.pop(job.task, None)
        if job.node.interrupting:
            if self._tasks.pop(job.task, None) is not None:
                self.store.gone.add(job.task)
        else:
            self._tokens[iid] += 1
        self._leave(iid, job.node, self._vars.pop(iid, {}))
        return True

    def start_process(
        self, key: str, variables: dict[str, Any], business_key: str | None = None
    ) -> str:
        """Start an instance; returns its id."""
        iid = f"i{next(self._ids)}"
        self._tokens[iid] = 1
        self._run(iid, self.graph.start, variables)
        return iid

    def complete_task(
        self, task_id: str, variables: dict[str, Any], *, actor: str | None = None
    ) -> None:
        """Complete an open task and move its token on."""
        row = self._tasks.pop(task_id, None)
        if row is None:
            raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
        if self._task_job:
            job_id = self._task_job.pop(task_id, None)
            if job_id is not None:
                self.store.rows["job"].pop(job_id, None)
        self._leave(row.instance_id, self.graph.nodes[row.element_id], variables)

    def _consume(self, iid: str) -> None:
        left = self._tokens[iid] - 1
        if left:
            self._tokens[iid] = left
        else:
            del self._tokens[iid]
            self.store.ended.append(iid)

    def _run(self, iid: str, node_id: str, variables: dict[str, Any]) -> None:
        node = self.graph.nodes[node_id]
        kind = node.kind
        if kind == "wait":
            rid = f"t{next(self._ids)}"
            row = _Row(rid, node_id, iid)
            self._tasks[rid] = row
            self.store.new["task"].append(row)
            if node.boundary is not None:
                self._arm(iid, rid, self.graph.nodes[node.boundary])
            return
        if kind == "end":
            self._consume(iid)
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

    def _arm(self, iid: str, task_id: str, boundary: _Node) -> None:
        from liucheng.engine._timers import add_duration

        assert self._now is not None, "a model with timers needs the clock"
        job = _Job(
            f"j{next(self._ids)}", iid, add_duration(self._now(), boundary.timer), boundary, task_id
        )
        self._task_job[task_id] = job.id
        self.store.rows["job"][job.id] = job
        self.store.new["job"].append(job)

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
