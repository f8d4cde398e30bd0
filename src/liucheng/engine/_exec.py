"""BPMN behaviour: how tokens move through every element family.

Tokens are element instances (:class:`~._state.EI`). ``enter`` puts a token on a node, ``activate``
honours ``asyncBefore``, ``execute`` runs the node's behaviour, ``complete`` applies output
mappings and ``asyncAfter``, ``leave`` ends the element instance and takes the outgoing flows.
Scopes complete when their last child is gone. Events, errors, escalations, compensation and call
activities are in :mod:`._events`, user tasks in :mod:`._taskrun`, mappings/scripts/services/jobs/
incidents in :mod:`._activity_work`, multi-instance in :mod:`._multi` (mixins of this class).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from liucheng.errors import EngineError, LiuchengError

from ._graph import Flow, Node
from ._multi import MultiInstanceMixin
from ._special import (
    adhoc_child_done,
    adhoc_next,
    adhoc_starts,
    async_after_next,
    async_after_per_flow,
    complex_arrive,
    complex_settle,
    loop_again,
    loop_first,
)
from ._state import ACT, ASYNC_A, ASYNC_B, EI, GONE, JOIN, WAIT, InstanceState, ei_text
from .ports import HistoryEvent

__all__ = ["Executor"]

_DONE: dict[str, Any] = {"completed": True}  # shared, never mutated
_CANCELLED: dict[str, Any] = {"completed": False}
_PASS_THROUGH = frozenset({"start", "task", "boundary"})
_GATEWAYS = frozenset({"xor", "and", "or", "complex"})
_JOINS = frozenset({"and", "or", "complex"})


class Executor(MultiInstanceMixin):
    """The behaviours of every BPMN element family over one command's :class:`~._run.Run`."""

    # ------------------------------------------------------------------ instance start

    def start_instance(
        self,
        st: InstanceState,
        variables: dict[str, Any] | None,
        start_node: Node | None = None,
    ) -> None:
        """Start ``st``: set its variables, open the process scope, put a token on the start."""
        self.hist(
            "process_start",
            st,
            None,
            None,
            {
                "business_key": st.business_key,
                "key": st.graph.key,
                "parent_id": st.parent_id,
                "root_id": st.root_id,
            },
        )
        if variables:
            root = st.root
            for name, value in variables.items():
                self.set_local(st, root, name, value)
        graph = st.graph
        starts = [start_node] if start_node is not None else graph.starts[:1]
        if not starts:
            # Camunda 7 (BpmnParse.selectInitial): a timer start event is initial like a none
            # start event, and a process with a single start event starts there by hand too
            evs = graph.message_starts + graph.signal_starts
            starts = graph.timer_starts[:1] or (evs if len(evs) == 1 else [])
        if not starts:
            raise EngineError(
                f"process '{graph.key}' has no none start event",
                code="engine.start.none",
                hint="start it by message or signal, or add a plain start event",
            )
        for s in starts:
            ei = st.new_ei(s, st.root)
            self.push(self.activate, st, ei)
        self.open_scope(st, st.root, None)

    # ------------------------------------------------------------------ token movement

    def enter(self, st: InstanceState, scope: EI, node: Node, flow_id: str | None) -> None:
        """A token arrives at ``node`` inside ``scope`` (by ``flow_id``)."""
        if node.is_join:
            ei = st.new_ei(node, scope, JOIN)
            ei.data = {"f": flow_id}
            if node.async_before:
                ei.state = ASYNC_B
                self.new_job(st, ei, "async-before")
            else:
                self.push(self.try_join, st, ei)
            return
        ei = st.new_ei(node, scope)
        if node.mi is not None:
            ei.mib = True
        self.push(self.activate, st, ei)

    def activate(self, st: InstanceState, ei: EI) -> None:
        """Start ``ei`` (or leave a job first when it is asynchronous before)."""
        if ei.state == GONE:
            return
        node = ei.node
        assert node is not None
        if node.plain and ei.data is None and not ei.mib:
            self.run_plain(st, ei, node)
            return
        mi = node.mi
        before = node.async_before if mi is None or ei.mib else mi.async_before
        if before:
            ei.state = ASYNC_B
            self.new_job(st, ei, "async-before")
            return
        self.execute(st, ei)

    def execute(self, st: InstanceState, ei: EI) -> None:
        """Run the behaviour of ``ei``'s node."""
        node = ei.node
        assert node is not None
        ei.state = ACT
        if ei.mib:
            self.hist("activity_start", st, node, ei, element_id=node.id + "#multiInstanceBody")
            if node.boundaries:
                self.subscribe_boundaries(st, ei)
            self.mi_start(st, ei)
            return
        if node.loop_condition is not None:
            d = ei.data
            if (d is None or "loop" not in d) and loop_first(self, st, ei):
                return
        if self.history:
            self.hist_activity("activity_start", st, node, ei, None)
        if node.inputs and not self.map_inputs(st, ei):
            return
        if (
            node.boundaries
            and (node.mi is None or ei.mib)
            and (node.loop_condition is None or not ei.data or not ei.data.get("loop"))
        ):
            self.subscribe_boundaries(st, ei)
        k = node.kind
        if k in _PASS_THROUGH or k in _GATEWAYS:
            self.complete(st, ei)
        elif k == "user":
            self.create_task(st, ei)
        elif k == "script":
            self.run_script(st, ei)
        elif k in ("service", "send", "rule"):
            self.run_service(st, ei)
        elif k == "receive":
            ei.state = WAIT
            if node.event_name is not None:
                self.subscribe(st, ei, node)
        elif k in ("sub", "tx", "adhoc"):
            ei.state = WAIT
            self.start_scope(st, ei)
        elif k == "call":
            ei.state = WAIT
            self.call(st, ei)
        elif k == "ebg":
            ei.state = WAIT
            for f in node.outgoing:
                self.subscribe(st, ei, f.target)
        elif k == "icatch":
            self.catch_event(st, ei)
        elif k in ("ithrow", "end"):
            self.throw_event(st, ei)
        elif k == "esp":
            ei.state = WAIT
        else:  # pragma: no cover - every compiled kind is handled above
            self.complete(st, ei)

    def run_plain(self, st: InstanceState, ei: EI, node: Node) -> None:
        """Run ``ei`` of a plain node (``Node.plain``) from activation to leaving in one step.

        The same effects, in the same order, as :meth:`execute`, :meth:`complete`,
        :meth:`after`, :meth:`leave` and :meth:`end_ei` for such a node: a plain node has no
        ``asyncBefore``/``asyncAfter``, mappings, boundary events, loop or compensation, so
        only their common steps remain (tests/engine/test_plain_path.py compares the two
        paths). An inner instance of a plain multi-instance activity ends by
        :meth:`mi_inner_done` as after :meth:`after`.
        """
        ei.state = ACT
        history = self.history
        if history:
            eid = ei_text(ei.id)
            self.hseq += 1
            self.cs.history.append(
                HistoryEvent(
                    "activity_start",
                    self.now,
                    st.id,
                    st.definition_id,
                    node.id,
                    node.type,
                    eid,
                    None,
                    None,
                    self.hseq,
                )
            )
        script = node.script
        if script is not None and node.kind == "script":
            try:
                result = script.value(self.context(ei))
            except LiuchengError as exc:
                self.incident(st, ei, "execute", exc)
                return
            self.store_result(st, ei, result)
            if ei.data is not None or ei.state != ACT:  # pragma: no cover - never set by these
                self.complete(st, ei)
                return
        if node.mi is not None:
            # an inner instance: complete() and after() have nothing to do but this
            if ei.is_inner:
                self.mi_inner_done(st, ei)
            else:  # pragma: no cover - activate() sends only inner instances here
                self.leave(st, ei)
            return
        scope = ei.parent
        assert scope is not None
        flows: Sequence[Flow] | None = node.fixed_flows
        if flows is None:
            flows = self.select_flows(st, ei, node)
        if history:
            self.hseq += 1
            self.cs.history.append(
                HistoryEvent(
                    "activity_end",
                    self.now,
                    st.id,
                    st.definition_id,
                    node.id,
                    node.type,
                    eid,
                    None,
                    _DONE,
                    self.hseq,
                )
            )
        st.remove(ei)
        sn = scope.node
        if sn is not None and sn.adhoc is not None and adhoc_child_done(self, st, scope):
            return
        fired = (
            st.graph.has_conditionals
            and st.id in self.var_changed
            and self.check_conditions_now(st)
        )
        if flows:
            queue = self.queue
            activate = self.activate
            for f in flows:
                target = f.target
                if target.is_join:
                    self.enter(st, scope, target, f.id)
                    continue
                nxt = st.new_ei(target, scope)
                if target.mi is not None:
                    nxt.mib = True
                queue.append((activate, (st, nxt)))
        elif fired:
            self.push(self.scope_check, st, scope)
        else:
            self.scope_check(st, scope)

    def complete(self, st: InstanceState, ei: EI) -> None:
        """``ei``'s behaviour is done: output mappings, ``asyncAfter``, then leave."""
        if ei.state == GONE:
            return
        node = ei.node
        assert node is not None
        if (
            st.graph.has_conditionals
            and st.id in self.var_changed
            and not ei.mib
            and any(b.ev == "conditional" for b in node.boundaries)
            and self.check_conditions_now(st)
        ):
            # Camunda 7 dispatches the variable events before the activity ends: its own
            # conditional boundary may fire first (an interrupting one cancels it)
            self.push(self.complete, st, ei)
            return
        if node.outputs and not ei.mib and not self.map_outputs(st, ei):
            return
        if node.loop_condition is not None and not ei.mib and loop_again(self, st, ei):
            return
        mi = node.mi
        after = node.async_after if mi is None or ei.mib else mi.async_after
        if after:
            if not ei.mib:
                # Camunda 7: the activity ends (history, boundary events) before the job
                self.unsubscribe(st, ei)
                if self.history:
                    self.hist_activity("activity_end", st, node, ei, _DONE)
                ei.d()["ae"] = 1
            ei.state = ASYNC_A
            if mi is None and len(node.outgoing) > 1 and async_after_per_flow(self, st, ei):
                return
            self.new_job(st, ei, "async-after")
            return
        self.after(st, ei)

    def after(self, st: InstanceState, ei: EI) -> None:
        """Continue after the element (and its ``asyncAfter`` job)."""
        node = ei.node
        data = ei.data
        if data is not None and "af" in data and async_after_next(self, st, ei):
            return
        # is_inner, not just "has multi-instance": the scope a compensation event subprocess
        # runs in carries the multi-instance node but belongs to no body
        if node is not None and node.mi is not None and ei.is_inner:
            self.mi_inner_done(st, ei)
        else:
            self.leave(st, ei)

    def leave(self, st: InstanceState, ei: EI, flows: list[Flow] | None = None) -> None:
        """End ``ei`` normally and take its outgoing flows (or complete its scope)."""
        node = ei.node
        assert node is not None
        scope = ei.parent
        assert scope is not None
        data = ei.data
        if data is not None and ("ct" in data or "cs" in data):
            # a compensation handler (or compensating scope) reports back to its throw event
            self.end_ei(st, ei, completed=True, record=False)
            self.compensation_done(st, data.get("ct"))
            self.scope_check(st, scope)
            return
        if flows is None:
            flows = self.select_flows(st, ei, node)
        self.end_ei(st, ei, completed=True)
        sn = scope.node
        if sn is not None and sn.adhoc is not None and adhoc_child_done(self, st, scope):
            return
        # Camunda 7 dispatches variable events before the token moves on: a conditional
        # event the activity's variables made true fires first (an interrupting one stops it)
        fired = (
            st.graph.has_conditionals
            and st.id in self.var_changed
            and self.check_conditions_now(st)
        )
        if flows:
            for f in flows:
                self.enter(st, scope, f.target, f.id)
        elif fired:
            self.push(self.scope_check, st, scope)
        else:
            self.scope_check(st, scope)

    def end_ei(self, st: InstanceState, ei: EI, *, completed: bool, record: bool = True) -> None:
        """Remove ``ei`` from the tree: drop its subscriptions, write history."""
        data = ei.data
        if data:
            self.unsubscribe(st, ei)
        node = ei.node
        assert node is not None
        if (
            completed
            and record
            and (node.comp_handler is not None or node.comp_scope or (data and "comp" in data))
        ):
            self.record_compensation(st, ei)
        if self.history and not (data and "ae" in data):
            if ei.mib:
                self.hist(
                    "activity_end",
                    st,
                    node,
                    ei,
                    _DONE if completed else _CANCELLED,
                    element_id=node.id + "#multiInstanceBody",
                )
            else:
                self.hist_activity("activity_end", st, node, ei, _DONE if completed else _CANCELLED)
        st.remove(ei)

    def scope_check(self, st: InstanceState, scope: EI) -> None:
        """Complete ``scope`` when its last child is gone.

        When only event subprocess instances are left, the scope's event subprocess triggers
        close: nothing new starts once the scope's own flow is done.
        """
        if scope.state == GONE:
            return
        if scope.kids:
            if all(k.node is not None and k.node.kind == "esp" for k in scope.kids):
                self.close_esp_triggers(st, scope)
            return
        if scope.parent is None:
            if st.ended is None:
                self.end_instance(st, "completed")
            return
        if scope.mib:
            return
        node = scope.node
        if node is not None and node.adhoc is not None and adhoc_next(self, st, scope):
            return
        self.complete(st, scope)

    def select_flows(self, st: InstanceState, ei: EI, node: Node) -> list[Flow]:
        """The outgoing flows to take (raises when none can be taken)."""
        out = node.outgoing
        if not out:
            return []
        k = node.kind
        if k == "and":
            return list(out)
        if len(out) == 1 and out[0].condition is None and k != "xor":
            return [out[0]]
        default = node.default
        ctx: dict[str, Any] | None = None
        chosen: list[Flow] = []
        for f in out:
            if f is default:
                continue
            cond = f.condition
            if cond is None:
                ok = True
            else:
                if ctx is None:
                    ctx = self.context(ei)
                got = cond.evaluate(ctx)
                ok = got is True
                if not ok and got is not None and got is not False:
                    # Camunda 7 fails ("condition expression returns non-Boolean"), Zeebe
                    # raises an incident: a number or string is not a silent false
                    raise EngineError(
                        f"the condition of sequence flow '{f.id}' gave {got!r}, not a boolean",
                        code="engine.condition.not_boolean",
                        element_id=node.id,
                        hint="make the condition a comparison or a boolean expression",
                    )
            if ok:
                chosen.append(f)
                if k == "xor":
                    return chosen
        if not chosen and default is not None:
            chosen.append(default)
        if not chosen:
            raise EngineError(
                f"no outgoing sequence flow of '{node.id}' can be taken",
                code="engine.flow.none",
                element_id=node.id,
                hint="make sure one condition is true or add a default flow",
            )
        return chosen

    # ------------------------------------------------------------------ joins

    def try_join(self, st: InstanceState, ei: EI) -> None:
        """A token waits at a joining gateway; fire it when it may."""
        if ei.state != JOIN:
            return
        node = ei.node
        assert node is not None
        if node.kind == "complex" and node.condition is not None:
            complex_arrive(self, st, ei)
            return
        if node.kind != "and" and not self.or_join_ready(st, ei):
            return
        self.fire_join(st, ei)

    def fire_join(self, st: InstanceState, ei: EI) -> bool:
        """Merge the tokens waiting at ``ei``'s gateway (one per incoming flow)."""
        node = ei.node
        scope = ei.parent
        assert node is not None
        assert scope is not None
        by_flow: dict[Any, EI] = {}
        for k in scope.kids:
            if k.node is node and k.state == JOIN and k.data is not None:
                by_flow.setdefault(k.data.get("f"), k)
        if node.kind == "and" and len(by_flow) < len(node.incoming):
            return False
        tokens = list(by_flow.values())
        keep = tokens[0]
        for t in tokens[1:]:
            st.remove(t)
        keep.data = None
        keep.state = ACT
        self.execute(st, keep)
        return True

    def or_join_ready(self, st: InstanceState, ei: EI) -> bool:
        """Whether no other token in the scope can still reach ``ei``'s inclusive join."""
        node = ei.node
        scope = ei.parent
        assert node is not None
        assert scope is not None
        graph = st.graph
        for k in scope.kids:
            kn = k.node
            if kn is node and k.state == JOIN:
                continue
            if kn is None:
                continue
            if k.state == JOIN and kn.kind == "and":
                # a token waiting at a parallel join moves only when the join's missing flows
                # get tokens; those come from other live tokens (counted themselves) or from
                # this gateway (a loop back: waiting for it would deadlock)
                continue
            if kn is node or node.id in graph.reachable(kn.id):
                return False
        return True

    def settle(self) -> bool:
        """At quiescence: fire inclusive joins and conditional events that became ready."""
        progressed = False
        for st in list(self.insts.values()):
            if st.ended is not None:
                continue
            graph = st.graph
            if graph.has_or_joins:
                for ei in list(st.eis.values()):
                    if (
                        ei.state == JOIN
                        and ei.node is not None
                        and ei.node.kind != "and"
                        and (ei.node.kind != "complex" or ei.node.condition is None)
                        and self.or_join_ready(st, ei)
                        and self.fire_join(st, ei)
                    ):
                        progressed = True
                complex_settle(st, self)
            if (
                graph.has_conditionals
                and st.id in self.var_changed
                and self.check_conditions_now(st)
            ):
                progressed = True
        return progressed or bool(self.queue)

    # ------------------------------------------------------------------ scopes

    def start_scope(self, st: InstanceState, ei: EI) -> None:
        """Open an embedded subprocess: event subprocess triggers, then its start tokens."""
        node = ei.node
        assert node is not None
        starts = node.starts
        if node.kind == "adhoc" or not starts:
            starts = [
                c
                for c in node.children
                if not c.incoming
                and c.kind not in ("boundary", "esp", "start")
                and not c.is_for_comp
                and not (c.kind == "icatch" and c.ev == "link")
            ]
        if node.adhoc is not None:
            try:
                starts = adhoc_starts(self, ei, starts)
            except LiuchengError as exc:
                self.incident(st, ei, "execute", exc)
                return
        for s in starts:
            child = st.new_ei(s, ei)
            if s.mi is not None:
                child.mib = True
            self.push(self.activate, st, child)
        self.open_scope(st, ei, node)
        if not starts:
            self.push(self.scope_check, st, ei)
