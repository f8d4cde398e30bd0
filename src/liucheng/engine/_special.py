"""Less common flow behaviours: standard loops, complex gateways and ad-hoc subprocesses.

They are plain functions over the running command (:class:`~._exec.Executor`) so that the hot
token path in :mod:`._exec` only pays one attribute test for each of them.

Standard loop (BPMN 2.0 ``standardLoopCharacteristics``): the activity runs again while its
``loopCondition`` holds, at most ``loopMaximum`` times in all. With ``testBefore="true"`` the
condition is also tested before the first run (a *while* loop: the activity may not run at all);
otherwise it is tested after each run (*do-while*). Each run is its own activity instance in
history; the local variable ``loopCounter`` counts the runs done before the current one
(0 in the first run).

Complex gateway: a joining complex gateway without ``activationCondition`` waits like an inclusive
gateway. With one, it fires as soon as the condition holds; the condition sees the variables plus
``nrOfTokens`` (incoming flows that hold a waiting token) and ``nrOfIncoming`` (incoming flows).
After firing it is *reset*: it waits for tokens on the incoming flows that had none at the
activation, as long as a token in the scope can still reach them, and consumes them without
firing again; tokens on the other flows meanwhile wait for the next activation. When the last
missing token arrived or none can arrive any more, the reset ends and the waiting tokens may
activate it again (e.g. in a loop). If the condition never holds, the tokens keep waiting (BPMN
defines no fallback).

asyncAfter with several outgoing flows (Camunda 7): the flows are selected when the activity
ends, and each selected flow gets its own asyncAfter job (AsyncAfterTest.*Concurrent, *Inclusive*);
each job takes one flow, the last one ends the activity instance.

Ad-hoc subprocess: the inner activities without incoming flows are started when it starts (all of
them for ``ordering="Parallel"``, one after the other in document order for ``Sequential``; the
Zeebe ``zeebe:adHoc activeElementsCollection`` picks which ones by id). After each inner activity
completes the ``completionCondition`` is evaluated; when it holds, ``cancelRemainingInstances``
(default true) cancels what still runs and the subprocess completes, otherwise nothing new starts
and the subprocess completes when the running ones are done. Without a condition it completes
when nothing runs and nothing is left to start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liucheng.errors import EngineError, LiuchengError

from ._graph import Node
from ._state import ASYNC_A, EI, GONE, JOIN, InstanceState

if TYPE_CHECKING:
    from ._exec import Executor

__all__ = [
    "adhoc_child_done",
    "adhoc_next",
    "adhoc_starts",
    "async_after_next",
    "async_after_per_flow",
    "complex_arrive",
    "complex_settle",
    "loop_again",
    "loop_first",
]

# ------------------------------------------------------------------ standard loop


def loop_first(run: Executor, st: InstanceState, ei: EI) -> bool:
    """Before the first run: ``testBefore``, then ``loopCounter`` 0.

    Returns:
        True when the activity does not run at all (the token then passes on at once).
    """
    node = ei.node
    assert node is not None
    assert node.loop_condition is not None
    ok = True
    if node.loop_max is not None and node.loop_max <= 0:
        ok = False
    elif node.loop_test_before:
        try:
            ok = node.loop_condition.evaluate(run.context(ei)) is True
        except LiuchengError as exc:
            run.incident(st, ei, "execute", exc)
            return True
    if ok:
        ei.d()["loop"] = 0
        run.set_local(st, ei, "loopCounter", 0)
        return False
    # the activity never ran: no activity instance, the token goes on
    scope = ei.parent
    assert scope is not None
    flows = run.select_flows(st, ei, node)
    st.remove(ei)
    if flows:
        for f in flows:
            run.enter(st, scope, f.target, f.id)
    else:
        run.scope_check(st, scope)
    return True


def loop_again(run: Executor, st: InstanceState, ei: EI) -> bool:
    """After a run: start the next one when the loop goes on (else the activity completes)."""
    node = ei.node
    assert node is not None
    assert node.loop_condition is not None
    d = ei.d()
    count = d.get("loop", 0) + 1
    if node.loop_max is not None and count >= node.loop_max:
        return False
    try:
        go = node.loop_condition.evaluate(run.context(ei)) is True
    except LiuchengError as exc:
        run.incident(st, ei, "complete", exc)
        return True
    if not go:
        return False
    d["loop"] = count
    # each run is its own activity instance in history; boundary events stay subscribed
    if run.history:
        run.hist_activity("activity_end", st, node, ei, {"completed": True})
    run.set_local(st, ei, "loopCounter", count)
    run.push(run.execute, st, ei)
    return True


# ------------------------------------------------------------------ complex gateway


def _reset_key(node: Node) -> str:
    return "cx:" + node.id


def _can_reach(st: InstanceState, scope: EI, node: Node, missing: list[str]) -> bool:
    """Whether a token in ``scope`` can still put a token on one of the ``missing`` flows."""
    graph = st.graph
    sources = {f.source.id for f in node.incoming if f.id in missing}
    for k in scope.kids:
        kn = k.node
        if kn is None or kn is node:
            continue
        if kn.id in sources or not sources.isdisjoint(graph.reachable(kn.id)):
            return True
    return False


def _waiting(scope: EI, node: Node) -> list[EI]:
    return [k for k in scope.kids if k.node is node and k.state == JOIN and k.data is not None]


def _activate(run: Executor, st: InstanceState, scope: EI, node: Node) -> None:
    """Fire the complex join when its activation condition holds; then enter the reset phase."""
    assert node.condition is not None
    tokens = _waiting(scope, node)
    if not tokens:
        return
    arrived = {t.data.get("f") for t in tokens if t.data is not None}
    ctx: dict[str, Any] = dict(run.context(scope))
    ctx["nrOfTokens"] = len(arrived)
    ctx["nrOfIncoming"] = len(node.incoming)
    # an evaluation error fails the command (nothing changes): a waiting token has no step
    # an incident could retry
    ok = node.condition.evaluate(ctx) is True
    if not ok or not run.fire_join(st, tokens[0]):
        return
    missing = [f.id for f in node.incoming if f.id not in arrived]
    if missing and _can_reach(st, scope, node, missing):
        scope.d()[_reset_key(node)] = missing
        st.dirty = True


def complex_arrive(run: Executor, st: InstanceState, ei: EI) -> None:
    """A token waits at a joining complex gateway with an activation condition.

    In the reset phase a token on a flow that had no token at the activation is consumed;
    a token on another flow waits for the next activation.
    """
    node = ei.node
    scope = ei.parent
    assert node is not None
    assert scope is not None
    key = _reset_key(node)
    sd = scope.data
    missing = sd.get(key) if sd is not None else None
    if missing is None:
        _activate(run, st, scope, node)
        return
    assert sd is not None
    flow = ei.data.get("f") if ei.data is not None else None
    if flow not in missing:
        return  # waits for the next activation
    st.remove(ei)
    missing.remove(flow)
    st.dirty = True
    if not missing or not _can_reach(st, scope, node, missing):
        sd.pop(key, None)
        _activate(run, st, scope, node)
    run.scope_check(st, scope)


def complex_settle(st: InstanceState, run: Executor) -> None:
    """End reset phases whose late tokens took another way; activate again if due."""
    for ei in list(st.eis.values()):
        d = ei.data
        if not d or ei.state == GONE:
            continue
        for key in [k for k in d if isinstance(k, str) and k.startswith("cx:")]:
            node = st.graph.nodes.get(key[3:])
            if node is None or not _can_reach(st, ei, node, d[key]):
                d.pop(key, None)
                st.dirty = True
                if node is not None and node.condition is not None:
                    _activate(run, st, ei, node)


# ------------------------------------------------------------------ ad-hoc subprocess


def adhoc_starts(run: Executor, ei: EI, enabled: list[Node]) -> list[Node]:
    """The inner activities to start now; the rest wait their turn (sequential ordering)."""
    node = ei.node
    assert node is not None
    assert node.adhoc is not None
    _cancel, sequential, active = node.adhoc
    if active is not None:
        ids = active.value(run.context(ei))
        if ids is None:
            ids = []
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise EngineError(
                f"activeElementsCollection of '{node.id}' is not a list of element ids: {ids!r}",
                code="engine.adhoc.active",
                element_id=node.id,
                hint="evaluate it to a list of ids of inner activities",
            )
        by_id = {n.id: n for n in enabled}
        unknown = [x for x in ids if x not in by_id]
        if unknown:
            raise EngineError(
                f"ad-hoc subprocess '{node.id}' has no startable activity {unknown[0]!r}",
                code="engine.adhoc.active",
                element_id=node.id,
                hint="name inner activities without incoming sequence flows",
            )
        enabled = [by_id[x] for x in ids]
    if sequential and len(enabled) > 1:
        ei.d()["ahq"] = [n.id for n in enabled[1:]]
        return enabled[:1]
    return enabled


def adhoc_next(run: Executor, st: InstanceState, scope: EI) -> bool:
    """The ad-hoc scope ran empty: start the next queued activity (sequential ordering)."""
    d = scope.data
    queue = d.get("ahq") if d is not None else None
    if not queue:
        return False
    assert d is not None
    nid = queue.pop(0)
    if not queue:
        d.pop("ahq", None)
    child = st.new_ei(st.graph.nodes[nid], scope)
    if child.node is not None and child.node.mi is not None:
        child.mib = True
    st.dirty = True
    run.push(run.activate, st, child)
    return True


def adhoc_child_done(run: Executor, st: InstanceState, scope: EI) -> bool:
    """An inner activity completed: evaluate the completion condition.

    Returns:
        True when the ad-hoc subprocess completed (the finished child's flows are not taken).
    """
    node = scope.node
    assert node is not None
    assert node.adhoc is not None
    if node.condition is None or scope.state == GONE:
        return False
    # an evaluation error fails the command (the inner activity stays uncompleted)
    done = node.condition.evaluate(run.context(scope)) is True
    if not done:
        return False
    if scope.data is not None:
        scope.data.pop("ahq", None)  # nothing new starts
    if not node.adhoc[0]:
        return False
    for k in list(scope.kids):
        run.terminate(st, k)
    run.complete(st, scope)
    return True


# ------------------------------------------------------------------ asyncAfter per flow


def async_after_per_flow(run: Executor, st: InstanceState, ei: EI) -> bool:
    """Select ``ei``'s flows now and make one asyncAfter job per flow (False: not applicable)."""
    data = ei.data
    if data is not None and ("ct" in data or "cs" in data):
        return False  # a compensation handler reports back to its throw event instead
    node = ei.node
    assert node is not None
    flows = run.select_flows(st, ei, node)
    ids = [run.new_job(st, ei, "async-after") for _ in flows]
    d = ei.d()
    d["af"] = [f.id for f in flows]
    d["aj"] = ids
    _track_jobs(d, ids, node.id)
    return True


def async_after_next(run: Executor, st: InstanceState, ei: EI) -> bool:
    """One per-flow asyncAfter job runs: take its flow; the last one leaves the activity."""
    data = ei.data
    node = ei.node
    assert data is not None
    assert node is not None
    if not data["af"]:
        return False
    # any of the jobs may run first: the one running now was deleted by this command
    gone = run.cs.deletes.get("job", set())
    left = [j for j in data.get("aj", []) if j not in gone]
    fid = data["af"].pop(0)
    flow = next(f for f in node.outgoing if f.id == fid)
    if not data["af"]:
        for key in ("af", "aj", "job"):
            data.pop(key, None)
        run.leave(st, ei, [flow])
        return True
    ei.state = ASYNC_A
    data["aj"] = left
    _track_jobs(data, left, node.id)
    scope = ei.parent
    assert scope is not None
    st.dirty = True
    run.enter(st, scope, flow.target, flow.id)
    return True


def _track_jobs(data: dict[str, Any], ids: list[str], element_id: str) -> None:
    """Let termination find every pending per-flow asyncAfter job of an element instance."""
    if ids:
        data["job"] = ids[0]
    data["subs"] = [["job", j, element_id] for j in ids[1:]]
