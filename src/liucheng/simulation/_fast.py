"""A compiled token runner for common models: the engine's commands without the engine.

Most simulation models (every Prosimos model, every calibrated directly-follows model) use only
none start and end events, tasks, exclusive or inclusive gateways routed by branching
probabilities and parallel gateways, often inside embedded subprocesses; many add timer
boundary events (on tasks or subprocesses, durations, dates or cycles), intermediate message,
signal or timer waits, event-based gateways choosing between such waits and multi-instance
tasks with a literal cardinality.
For those the engine's work per command (load the instance, run the tokens, write a change
set) is pure overhead: :class:`~._fast_run.FastRunner` offers the commands the simulator needs
(``start_process``, ``complete_task``, ``set_variables``, ``execute_job``, ``deliver``) over a
precompiled graph and reports new tasks, jobs and subscriptions, removed tasks and ended
instances through the same :class:`~._sim_store.SimStore` buffers.

It reproduces the engine's semantics for that subset exactly, including the order in which
tokens run (depth first, outgoing flows in document order) and the order in which an
activity's boundary timers are armed, and it plans timers with the engine's own code (the
engine's compiled timer expression, :func:`~liucheng.engine._timers.plan_timer`), so a
simulation gives the *same* event log on either path (tests check this). :func:`compile_fast`
returns ``None`` for any model outside the subset; the simulator then drives the real engine.
This module compiles (element checks in :mod:`._fast_nodes`); :mod:`._fast_run` runs.
"""

from __future__ import annotations

import weakref
from typing import Any

from ._fast_nodes import (
    FastGraph,
    _cardinality,
    _catch_event,
    _engine_nodes,
    _Node,
    _plain_ebg,
    _plain_element,
    _plain_mi,
    _plain_sub,
    _timer_boundary,
)
from ._fast_run import FastRunner
from ._prepare import BPMN_NS, PreparedModel, _parse, _q

__all__ = ["FastGraph", "FastRunner", "compile_fast", "fast_graph", "route_sets"]

_PLAIN = {"task", "manualTask", "scriptTask", "businessRuleTask"}
_CATCH = "intermediateCatchEvent"
#: Nodes a token stops at until the simulator sends a command.
_WAITS = frozenset({"wait", "timer", "catch", "ebg"})
_ORIGINS = frozenset({"start", "wait"})
_IGNORED = {"laneSet", "documentation", "extensionElements", "textAnnotation", "association"}
#: Children of a subProcess element that are not flow elements of its body.
_SUB_OWN = {"incoming", "outgoing", "documentation"}


_CACHE: dict[int, tuple[Any, FastGraph | None]] = {}


def fast_graph(prepared: PreparedModel) -> FastGraph | None:
    """:func:`compile_fast`, once per prepared model (replications and compare runs share it).

    The graph is read-only for the runner, so one compiled graph serves every replication.
    """
    key = id(prepared)
    got = _CACHE.get(key)
    if got is not None and got[0] is prepared.xml:
        return got[1]
    graph = compile_fast(prepared)
    if got is None:
        weakref.finalize(prepared, _CACHE.pop, key, None)
    _CACHE[key] = (prepared.xml, graph)
    return graph


class _Compiler:
    """One process body and the bodies of its embedded subprocesses."""

    def __init__(self, prepared: PreparedModel) -> None:
        self.routed = {gw: var for gw, (var, _, _) in prepared.gateway_vars.items()}
        self.nodes: dict[str, _Node] = {}
        self.boundaries: list[Any] = []
        self.catches: list[Any] = []
        self.subs: list[tuple[_Node, list[str]]] = []  # subprocess, its none start events
        self.flows: list[tuple[Any, _Node | None]] = []
        self.multi: list[_Node] = []  # multi-instance tasks, checked against the engine

    def body(self, container: Any, scope: _Node | None) -> list[str] | None:
        """Compile the flow elements of ``container``; its none start events, or ``None``."""
        starts: list[str] = []
        nodes = self.nodes
        for el in container:
            if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
                if isinstance(el.tag, str):
                    return None
                continue
            local = el.tag.split("}", 1)[1]
            eid = el.get("id") or ""
            if local in _IGNORED or (scope is not None and local in _SUB_OWN):
                continue
            if local == "sequenceFlow":
                self.flows.append((el, scope))
                continue
            if local == "subProcess":
                if not eid or not _plain_sub(el):
                    return None
                node = nodes[eid] = _Node(eid, "sub", scope=scope)
                inner = self.body(el, node)
                if inner is None:
                    return None
                self.subs.append((node, inner))
                continue
            mi = None
            if local == "userTask" and el.find(_q("multiInstanceLoopCharacteristics")) is not None:
                mi = _plain_mi(el)
                if not eid or mi is None:
                    return None
            elif local == "eventBasedGateway":
                if not eid or not _plain_ebg(el):
                    return None
            elif not eid or (local not in ("boundaryEvent", _CATCH) and not _plain_element(el)):
                return None
            if local == "startEvent":
                kind = "start"
                starts.append(eid)
            elif local == "endEvent":
                kind = "end"
            elif local == "userTask":
                kind = "wait"
            elif local in _PLAIN or local == "intermediateThrowEvent":
                if local == "scriptTask":
                    return None  # a script may set variables a condition reads
                kind = "pass"
            elif local in ("exclusiveGateway", "inclusiveGateway"):
                if el.get("default"):
                    return None
                kind = "xor" if local == "exclusiveGateway" else "or"
            elif local == "parallelGateway":
                kind = "and"
            elif local == "eventBasedGateway":
                kind = "ebg"
            elif local == "boundaryEvent":
                self.boundaries.append((el, scope))
                continue
            elif local in (_CATCH, "receiveTask"):
                self.catches.append((el, scope))
                continue  # checked below against the engine's own compiled node
            else:
                return None
            node = nodes[eid] = _Node(eid, kind, var=self.routed.get(eid), scope=scope)
            if mi is not None:
                node.mi_seq = mi
                self.multi.append(node)
        return starts


def compile_fast(prepared: PreparedModel) -> FastGraph | None:
    """The compiled graph, or ``None`` when the model uses anything beyond the subset."""
    root = _parse(prepared.xml, "model")
    process = next(
        (p for p in root.iter(_q("process")) if p.get("id") == prepared.process_id), None
    )
    if process is None:
        return None
    c = _Compiler(prepared)
    starts = c.body(process, None)
    if starts is None or len(starts) != 1:
        return None
    nodes = c.nodes
    if c.boundaries or c.catches or c.subs or c.multi:
        engine_nodes = _engine_nodes(prepared)
        if engine_nodes is None:
            return None
        for sub, inner in c.subs:
            # the engine starts a body at its one none start event
            own = engine_nodes.get(sub.id)
            if len(inner) != 1 or own is None or own.kind != "sub" or own.mi is not None:
                return None
            if [s.id for s in own.starts] != inner:
                return None
            sub.first = inner[0]
        for task in c.multi:
            task.mi_n = _cardinality(engine_nodes.get(task.id))
            if task.mi_n is None:
                return None
        for el, scope in c.catches:
            node = _catch_event(el, engine_nodes)
            if node is None:
                return None
            node.scope = scope
            nodes[node.id] = node
        for el, scope in c.boundaries:
            node = _timer_boundary(el, nodes, engine_nodes)
            if node is None:
                return None
            node.scope = scope
            nodes[node.id] = node
        for n in nodes.values():
            if n.kind in ("wait", "sub") and n.boundaries:
                # armed in the engine's order (its host's boundary list)
                order = [b.id for b in engine_nodes[n.id].boundaries]
                if sorted(order) != sorted(n.boundaries):
                    return None
                n.boundaries = order
    for f, scope in c.flows:
        src, tgt, fid = f.get("sourceRef"), f.get("targetRef"), f.get("id")
        if src not in nodes or tgt not in nodes or not fid:
            return None
        if nodes[src].scope is not scope or nodes[tgt].scope is not scope:
            return None  # a flow across a subprocess border: the engine reports it
        has_condition = f.find(_q("conditionExpression")) is not None
        if has_condition and nodes[src].var is None:
            return None
        nodes[src].outgoing.append(tgt)
        nodes[src].flow_ids.append(fid)
        nodes[src].by_flow[fid] = tgt
        nodes[tgt].incoming += 1
    for n in nodes.values():
        if n.kind in ("xor", "or") and n.var is None and len(n.outgoing) > 1:
            return None  # routed by the model's own conditions: leave that to the engine
        if n.mi_n is not None and n.boundaries:
            return None  # boundary events on a multi-instance body: left to the engine
        if n.kind == "ebg":
            # the first of its events wins; each event is reached from this gateway only
            targets = [nodes[t] for t in n.outgoing]
            if n.var is not None or len(targets) < 2:
                return None
            if any(t.kind not in ("timer", "catch") or t.incoming != 1 for t in targets):
                return None
        if n.kind == "and" and n.incoming > 1 and len(n.outgoing) == 0:
            return None
    if not _scopes_fit(nodes):
        return None
    for n in nodes.values():
        if n.kind == "or":
            n.kind = "xor"  # one drawn flow out; a join that never waits (see _scopes_fit)
    needs_vars = any(n.plan is not None and not n.plan[1].is_const for n in nodes.values())
    return FastGraph(nodes, starts[0], needs_vars)


def _scopes_fit(nodes: dict[str, _Node]) -> bool:
    """Whether the runner's simple bookkeeping gives the engine's behaviour in every scope.

    Two things need a scope that never holds two tokens at once (no parallel gateway, no
    implicit split, no non-interrupting boundary event in it): an inclusive join (the engine
    fires it when no other token of its scope can still reach it, which is then at once), and
    cancelling a subprocess by an interrupting boundary event (the engine removes the tasks
    inside in an order of its own row ids, which is then moot: there is at most one).
    """
    forking: set[str | None] = set()  # scopes (subprocess ids; None: the process) that fork
    for n in nodes.values():
        split = n.kind == "and" or (len(n.outgoing) > 1 and n.var is None)
        split = split or (n.mi_n is not None and n.mi_n > 1 and not n.mi_seq)
        if split or (n.kind == "boundary" and not n.interrupting):
            forking.add(n.scope.id if n.scope is not None else None)
    for n in nodes.values():
        if n.kind == "or" and n.incoming > 1 and (n.scope.id if n.scope else None) in forking:
            return False
    by_scope: dict[str, list[_Node]] = {}
    for n in nodes.values():
        if n.scope is not None:
            by_scope.setdefault(n.scope.id, []).append(n)

    def cancellable(sub: _Node) -> bool:
        if sub.id in forking:
            return False
        return all(k.kind != "sub" or cancellable(k) for k in by_scope.get(sub.id, ()))

    def mark(sub: _Node) -> None:
        sub.track = True
        for k in by_scope.get(sub.id, ()):
            if k.kind == "sub":
                mark(k)

    for n in nodes.values():
        if n.kind == "sub" and any(nodes[b].interrupting for b in n.boundaries):
            if not cancellable(n):
                return False
            mark(n)
    return True


def _after(node: _Node) -> list[str]:
    """Where a token goes on from ``node`` within one command (into and out of subprocesses)."""
    if node.kind == "sub":
        return [node.first]
    while not node.outgoing and node.scope is not None:
        # the subprocess may complete with this token and its own flows then run
        node = node.scope
    return node.outgoing


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
        stack = list(_after(node))
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
            stack.extend(_after(nxt))
        out[node.id] = sorted(found, key=order.__getitem__)
    return out
