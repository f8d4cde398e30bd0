"""BPMN behaviour: how tokens move through every element family.

Tokens are element instances (:class:`~._state.EI`). ``enter`` puts a token on a node, ``activate``
honours ``asyncBefore``, ``execute`` runs the node's behaviour, ``complete`` applies output
mappings and ``asyncAfter``, ``leave`` ends the element instance and takes the outgoing flows.
Scopes complete when their last child is gone. Events, errors, escalations, compensation and call
activities are in :mod:`._events`, user tasks in :mod:`._taskrun` (mixins of this class).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liucheng.errors import EngineError, LiuchengError

from ._graph import Flow, Node
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
from ._state import ACT, ASYNC_A, ASYNC_B, EI, FAILED, GONE, JOIN, WAIT, InstanceState
from ._taskrun import UserTaskBehaviour
from .ports import ExternalTaskRecord, IncidentRecord, JobRecord

__all__ = ["Executor"]

_DONE: dict[str, Any] = {"completed": True}  # shared, never mutated
_CANCELLED: dict[str, Any] = {"completed": False}
_PASS_THROUGH = frozenset({"start", "task", "boundary"})
_GATEWAYS = frozenset({"xor", "and", "or", "complex"})
_JOINS = frozenset({"and", "or", "complex"})


class Executor(UserTaskBehaviour):
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
        if node is not None and node.mi is not None and not ei.mib:
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

    # ------------------------------------------------------------------ mappings

    def map_inputs(self, st: InstanceState, ei: EI) -> bool:
        """Apply input mappings as local variables; an error opens an incident."""
        node = ei.node
        assert node is not None
        try:
            for name, expr in node.inputs:
                ctx = self.context(ei)
                value = expr.value(ctx) if expr is not None else None
                self.set_local(st, ei, name, value)
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return False
        return True

    def set_completion_vars(
        self, st: InstanceState, ei: EI, variables: Mapping[str, Any] | None
    ) -> None:
        """Set the variables a task (user, external, job) is completed with.

        They go where they are defined, else on the process; with Zeebe output mappings they
        stay local to the task, and only the mapped variables reach the process (Zeebe).
        """
        local = ei.node is not None and ei.node.local_out
        for k, v in (variables or {}).items():
            if local:
                self.set_local(st, ei, k, v)
            else:
                self.set_var(st, ei, k, v)

    def map_outputs(self, st: InstanceState, ei: EI) -> bool:
        """Apply output mappings into the enclosing scope; an error opens an incident."""
        node = ei.node
        assert node is not None
        assert ei.parent is not None
        try:
            ctx = self.context(ei)
            values = [(n, e.value(ctx) if e is not None else None) for n, e in node.outputs]
        except LiuchengError as exc:
            self.incident(st, ei, "complete", exc)
            return False
        for name, value in values:
            self.set_var(st, ei.parent, name, value)
        return True

    # ------------------------------------------------------------------ scripts, services

    def run_script(self, st: InstanceState, ei: EI) -> None:
        """A FEEL script task: evaluate, store the result, complete."""
        node = ei.node
        assert node is not None
        if node.handler is not None:
            self.call_handler(st, ei, node.handler)
            return
        if node.script is None:
            self.complete(st, ei)
            return
        try:
            result = node.script.value(self.context(ei))
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return
        self.store_result(st, ei, result)
        self.complete(st, ei)

    def store_result(self, st: InstanceState, ei: EI, result: Any) -> None:
        """Store a script/handler/decision result (result variable or merged context)."""
        node = ei.node
        assert node is not None
        if node.result_var:
            self.set_var(st, ei, node.result_var, result)
        elif isinstance(result, dict):
            for k, v in result.items():
                self.set_var(st, ei, str(k), v)

    def run_service(self, st: InstanceState, ei: EI) -> None:
        """A service/send/business rule task: external task, decision, handler or no-op."""
        node = ei.node
        assert node is not None
        if node.topic is not None:
            ei.state = WAIT
            try:
                topic = str(node.topic.value(self.context(ei)))
            except LiuchengError as exc:
                self.incident(st, ei, "execute", exc)
                return
            xid = self.new_id(st)
            self.cs.upsert(
                "external_task",
                ExternalTaskRecord(
                    xid,
                    topic,
                    st.id,
                    st.root_id,
                    st.definition_id,
                    node.id,
                    str(ei.id),
                    self.now,
                    st.seq,
                    retries=node.retries,
                ),
            )
            ei.d()["ext"] = xid
            st.dirty = True
            return
        if node.decision is not None:
            try:
                result = self.engine.decide(
                    self.tx, node.decision, self.context(ei), st.definition_id
                )
            except LiuchengError as exc:
                self.incident(st, ei, "execute", exc)
                return
            if node.result_var:  # without one the result is dropped (Camunda 7)
                self.set_var(st, ei, node.result_var, result)
            self.complete(st, ei)
            return
        if node.handler is not None:
            self.call_handler(st, ei, node.handler)
            return
        self.complete(st, ei)

    def call_handler(self, st: InstanceState, ei: EI, name: str) -> None:
        """Run an in-process handler registered by name."""
        handler = self.engine.handlers.get(name)
        node = ei.node
        assert node is not None
        if handler is None:
            self.incident(
                st,
                ei,
                "execute",
                EngineError(
                    f"no handler registered as '{name}'",
                    code="engine.handler.missing",
                    element_id=node.id,
                    hint="register it with Engine.register_handler",
                ),
            )
            return
        from ._api import HandlerContext

        hctx = HandlerContext(self, st, ei, dict(self.context(ei)), f"{st.id}:{ei.id}:{node.id}")
        try:
            result = handler(hctx)
        except BpmnErrorSignal as sig:
            self.throw_error(st, ei, sig.code, sig.variables)
            return
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return
        except Exception as exc:  # a handler is user code: any failure becomes an incident
            self.incident(
                st,
                ei,
                "execute",
                EngineError(
                    f"handler '{name}' failed: {type(exc).__name__}: {exc}",
                    code="engine.handler.failed",
                    element_id=node.id,
                ),
            )
            return
        if isinstance(result, dict):
            if node.result_var:
                self.set_var(st, ei, node.result_var, result)
            else:
                for k, v in result.items():
                    self.set_var(st, ei, str(k), v)
        elif result is not None and node.result_var:
            self.set_var(st, ei, node.result_var, result)
        self.complete(st, ei)

    # ------------------------------------------------------------------ jobs, incidents

    def new_job(
        self,
        st: InstanceState,
        ei: EI,
        kind: str,
        *,
        node: Node | None = None,
        due: Any = None,
        data: dict[str, Any] | None = None,
    ) -> str:
        """Create a job owned by ``ei``."""
        n = node or ei.node
        assert n is not None
        jid = self.new_id(st)
        self.cs.upsert(
            "job",
            JobRecord(
                jid,
                st.id,
                st.root_id,
                st.definition_id,
                n.id,
                str(ei.id),
                kind,
                due or self.now,
                retries=n.retry.tries if n.retry is not None else 3,
                exclusive=n.exclusive,
                created_at=self.now,
                seq=st.seq,
                data=data or {},
            ),
        )
        if kind == "timer":
            ei.d().setdefault("subs", []).append(["job", jid, n.id])
        else:
            ei.d()["job"] = jid
        st.dirty = True
        return jid

    def incident(self, st: InstanceState, ei: EI, step: str, exc: LiuchengError) -> None:
        """Open an incident on ``ei``: the step waits until the incident is resolved.

        Inside a job the error is raised instead: the job's command rolls back and the job
        fails (its retries decrease; at zero an incident opens on the job).
        """
        node = ei.node
        assert node is not None
        if self.in_job:
            if isinstance(exc, EngineError):
                raise exc
            raise EngineError(
                exc.message, code=exc.code, element_id=node.id, hint=exc.hint
            ) from exc
        iid = self.new_id(st)
        variables = dict(self.context(ei))
        self.cs.upsert(
            "incident",
            IncidentRecord(
                iid,
                st.id,
                st.root_id,
                st.definition_id,
                node.id,
                str(ei.id),
                "failed-step",
                exc.message,
                self.now,
                variables=variables,
            ),
        )
        ei.state = FAILED
        d = ei.d()
        d["inc"] = iid
        d["step"] = step
        st.has_incident = True
        st.dirty = True
        self.hist(
            "incident_open",
            st,
            node,
            ei,
            {"incident_id": iid, "message": exc.message, "code": exc.code, "hint": exc.hint},
        )

    # ------------------------------------------------------------------ multi-instance

    def mi_start(self, st: InstanceState, body: EI) -> None:
        """Start the inner instances of a multi-instance body."""
        node = body.node
        assert node is not None
        assert node.mi is not None
        mi = node.mi
        try:
            ctx = self.context(body)
            items: list[Any] | None = None
            if mi.collection is not None:
                coll = mi.collection.value(ctx)
                if coll is None:
                    coll = []
                if not isinstance(coll, list):
                    raise EngineError(
                        f"multi-instance collection of '{node.id}' is not a list: {coll!r}",
                        code="engine.mi.collection",
                        element_id=node.id,
                    )
                items = coll
                n = len(coll)
            elif mi.cardinality is not None:
                raw = mi.cardinality.value(ctx)
                n = int(raw)
            else:
                raise EngineError(
                    f"multi-instance activity '{node.id}' has neither cardinality nor collection",
                    code="engine.mi.undefined",
                    element_id=node.id,
                )
        except (LiuchengError, TypeError, ValueError) as exc:
            err = exc if isinstance(exc, LiuchengError) else EngineError(str(exc))
            self.incident(st, body, "execute", err)
            return
        body.state = WAIT
        body.vars = {
            "nrOfInstances": n,
            "nrOfCompletedInstances": 0,
            "nrOfActiveInstances": 0 if mi.sequential else n,
        }
        if mi.output_collection:
            body.vars[mi.output_collection] = [None] * n
        d = body.d()
        d["n"] = n
        if items is not None:
            d["items"] = items
        if n <= 0:
            self.push(self.mi_finish, st, body)
            return
        if mi.sequential:
            body.vars["nrOfActiveInstances"] = 1
            self.mi_inner(st, body, 0)
        else:
            for i in range(n):
                self.mi_inner(st, body, i)

    def mi_inner(self, st: InstanceState, body: EI, i: int) -> None:
        """Create inner instance number ``i`` of ``body``."""
        node = body.node
        assert node is not None
        assert node.mi is not None
        assert body.data is not None
        inner = st.new_ei(node, body)
        inner.vars = {"loopCounter": i}
        items = body.data.get("items")
        if items is not None and node.mi.element_var:
            inner.vars[node.mi.element_var] = items[i]
        self.push(self.activate, st, inner)

    def mi_inner_done(self, st: InstanceState, inner: EI) -> None:
        """One inner instance completed: collect output, check completion, go on."""
        body = inner.parent
        node = inner.node
        assert body is not None
        assert node is not None
        assert node.mi is not None
        mi = node.mi
        bvars = body.vars
        assert bvars is not None
        assert body.data is not None
        ctx = self.context(inner)
        if mi.output_collection:
            value = mi.output_element.value(ctx) if mi.output_element is not None else None
            coll = list(bvars.get(mi.output_collection) or [])
            idx = (inner.vars or {}).get("loopCounter", 0)
            if isinstance(idx, int) and 0 <= idx < len(coll):
                coll[idx] = value
            bvars[mi.output_collection] = coll
        bvars["nrOfCompletedInstances"] = bvars.get("nrOfCompletedInstances", 0) + 1
        bvars["nrOfActiveInstances"] = max(bvars.get("nrOfActiveInstances", 1) - 1, 0)
        loop = (inner.vars or {}).get("loopCounter", 0)
        done = False
        if mi.completion is not None:
            done = mi.completion.evaluate(self.context(inner)) is True
        self.end_ei(st, inner, completed=True)
        if done:
            for k in list(body.kids):
                self.terminate(st, k)
            self.mi_finish(st, body)
            return
        n = body.data.get("n", 0)
        if mi.sequential:
            if loop + 1 < n:
                bvars["nrOfActiveInstances"] = 1
                self.mi_inner(st, body, loop + 1)
                return
            self.mi_finish(st, body)
        elif not body.kids:
            self.mi_finish(st, body)

    def mi_finish(self, st: InstanceState, body: EI) -> None:
        """The multi-instance body completes."""
        if body.state == GONE:
            return
        node = body.node
        assert node is not None
        assert node.mi is not None
        if node.mi.output_collection and body.vars is not None and body.parent is not None:
            self.set_var(
                st, body.parent, node.mi.output_collection, body.vars[node.mi.output_collection]
            )
        if node.async_after:
            body.state = ASYNC_A
            self.new_job(st, body, "async-after")
            return
        self.leave(st, body)


class BpmnErrorSignal(Exception):
    """Raised by a handler to throw a BPMN error (see :meth:`HandlerContext.bpmn_error`)."""

    def __init__(self, code: str, variables: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.variables = variables
