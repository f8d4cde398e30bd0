"""Scope lifecycle: termination, call activities, compensation and cancellation (a mixin of
:class:`~._exec.Executor`, below :class:`~._events.EventsMixin`)."""

from __future__ import annotations

from typing import Any

from liucheng.errors import LiuchengError

from ._bindings import called_definition
from ._decisions import run_decision
from ._graph import Flow, Node
from ._run import Run
from ._state import ASYNC_B, EI, FAILED, GONE, JOIN, WAIT, InstanceState

__all__ = ["DECISION_RESULT", "LifecycleMixin"]

#: Camunda's transient variable holding a business rule task's unmapped decision result.
DECISION_RESULT = "decisionResult"


class LifecycleMixin(Run):
    """Termination, call activities, compensation and cancellation (see the module docstring)."""

    # -- provided by the executor
    def complete(self, st: InstanceState, ei: EI) -> None:
        raise NotImplementedError

    def leave(self, st: InstanceState, ei: EI, flows: list[Flow] | None = None) -> None:
        raise NotImplementedError

    def end_ei(self, st: InstanceState, ei: EI, *, completed: bool, record: bool = True) -> None:
        raise NotImplementedError

    def enter(self, st: InstanceState, scope: EI, node: Node, flow_id: str | None) -> None:
        raise NotImplementedError

    def execute(self, st: InstanceState, ei: EI) -> None:
        raise NotImplementedError

    def scope_check(self, st: InstanceState, scope: EI) -> None:
        raise NotImplementedError

    def run_service(self, st: InstanceState, ei: EI) -> None:
        raise NotImplementedError

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
        raise NotImplementedError

    def start_instance(
        self, st: InstanceState, variables: dict[str, Any] | None, start_node: Node | None = None
    ) -> None:
        raise NotImplementedError

    def incident(self, st: InstanceState, ei: EI, step: str, exc: LiuchengError) -> None:
        raise NotImplementedError

    # -- provided by the event mixin
    def unsubscribe(self, st: InstanceState, ei: EI) -> None:
        raise NotImplementedError

    def trigger_boundary(
        self, st: InstanceState, host: EI, node: Node, payload: dict[str, Any] | None
    ) -> None:
        raise NotImplementedError

    def trigger_esp(
        self, st: InstanceState, scope: EI, start: Node, payload: dict[str, Any] | None
    ) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ termination

    def terminate(self, st: InstanceState, ei: EI) -> None:
        """Cancel ``ei`` and everything inside it (no outgoing flows, not completed)."""
        if ei.state == GONE:
            return
        for k in list(reversed(ei.kids)):
            self.terminate(st, k)
        data = ei.data
        if data is not None:
            child = data.get("child")
            if child is not None:
                cst = self.load(child)
                self.kill_instance(cst)
            if "task" in data:
                self.hist("task_cancel", st, ei.node, ei, {"task_id": data["task"]})
        self.unsubscribe(st, ei)
        node = ei.node
        assert node is not None
        # JOIN/ASYNC_B never started, an asyncAfter token already ended: nothing to record
        if ei.state not in (JOIN, ASYNC_B) and not (data and "ae" in data):
            self.hist(
                "activity_end",
                st,
                node,
                ei,
                {"completed": False},
                element_id=node.id + "#multiInstanceBody" if ei.mib else None,
            )
        st.remove(ei)

    def kill_instance(self, st: InstanceState) -> None:
        """Terminate a whole instance (cancellation, or its caller was interrupted)."""
        if st.ended is not None:
            return
        root = st.root
        for k in list(reversed(root.kids)):
            self.terminate(st, k)
        self.unsubscribe(st, root)
        st.ended = "terminated"
        st.dirty = True
        self.hist("process_end", st, None, None, {"state": "terminated"})

    def end_instance(self, st: InstanceState, state: str) -> None:
        """``st`` has completed: close it and continue its caller."""
        self.unsubscribe(st, st.root)
        st.ended = state
        st.dirty = True
        self.hist("process_end", st, None, None, {"state": state})
        if st.parent_id is not None and st.parent_ei is not None:
            pst = self.load(st.parent_id)
            call = pst.eis.get(st.parent_ei)
            if call is None or call.state == GONE:
                return
            if call.data is not None:
                call.data.pop("child", None)
            self.call_outputs(pst, call, st)
            self.push(self.complete, pst, call)

    # ------------------------------------------------------------------ call activities

    def call(self, st: InstanceState, ei: EI) -> None:
        """A call activity: start the called process."""
        node = ei.node
        assert node is not None
        assert node.called is not None
        ctx = self.context(ei)
        try:
            rec = called_definition(
                self.tx, lambda d: self.engine.graph(d.id, self.tx), st.definition_id, node, ctx
            )
        except LiuchengError as exc:
            # like an unknown decision: the call waits in an incident until the right version
            # is deployed and the incident resolved
            self.incident(st, ei, "execute", exc)
            return
        graph = self.engine.graph(rec.id, self.tx)
        variables = self.call_inputs(ei, ctx) or {}
        bk = None
        if node.business_key is not None:
            v = node.business_key.value(ctx)
            bk = None if v is None else str(v)
        child = self.new_instance(graph, rec.id, bk, parent=st, parent_ei=ei)
        ei.d()["child"] = child.id
        st.dirty = True
        self.start_instance(child, variables)

    @staticmethod
    def call_inputs(ei: EI, ctx: dict[str, Any]) -> dict[str, Any] | None:
        """The ``camunda:in`` variables of a call activity or signal throw (None without any).

        ``local="true"`` reads only the element's own local variables (its input mappings),
        not those of the scopes around it (Camunda 7).
        """
        node = ei.node
        assert node is not None
        out: dict[str, Any] | None = None
        own = ei.vars or {}
        for kind, target, source in node.call_in:
            out = {} if out is None else out
            if kind == "all":
                out.update(own if target == "local" else ctx)
            elif kind == "var":
                out[target] = ctx.get(source)
            elif kind == "lvar":
                out[target] = own.get(source)
            else:
                out[target] = source.value(ctx) if source is not None else None
        return out

    def call_decision(self, st: InstanceState, ei: EI) -> None:
        """A business rule task: evaluate its decision, store the result, complete.

        Its output mappings see Camunda's transient ``decisionResult`` (see ``._decisions``):
        a local of the task that no variable event, index row or history entry records, gone
        once the task has completed.
        """
        node = ei.node
        assert node is not None
        assert node.decision is not None
        try:
            result, rows = run_decision(
                self.engine._dmn, self.tx, node.decision, self.context(ei), st.definition_id
            )
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return
        if node.result_var:  # without one the result is dropped (Camunda 7)
            # Zeebe: with output mappings the result stays local, for the mappings only
            setter = self.set_local if node.local_out else self.set_var
            setter(st, ei, node.result_var, result)
        if rows is not None and node.outputs:
            if ei.vars is None:
                ei.vars = {}
            ei.vars[DECISION_RESULT] = rows
            self.complete(st, ei)
            # after everything complete scheduled (the mappings may wait for a conditional
            # boundary event first); an incident in the mappings keeps it for the retry
            self.push(self._drop_decision_result, ei)
            return
        self.complete(st, ei)

    @staticmethod
    def _drop_decision_result(ei: EI) -> None:
        if ei.vars and ei.state != FAILED:
            ei.vars.pop(DECISION_RESULT, None)

    def call_outputs(self, st: InstanceState, call: EI, child: InstanceState) -> None:
        """Copy a called instance's variables back (``camunda:out``)."""
        node = call.node
        assert node is not None
        cvars = child.root.vars or {}
        for kind, target, source in node.call_out:
            if kind == "all":
                for k, v in cvars.items():
                    if target == "local":
                        self.set_local(st, call, k, v)
                    else:
                        self.set_var(st, call, k, v)
            elif kind == "var":
                self.set_var(st, call, target, cvars.get(source))
            elif kind == "lvar":
                self.set_local(st, call, target, cvars.get(source))
            elif kind == "child":
                if node.outputs:  # visible to the output mappings only (locals of the call)
                    for k, v in cvars.items():
                        self.set_local(st, call, k, v)
            else:
                self.set_var(st, call, target, source.value(cvars) if source else None)

    # ------------------------------------------------------------------ compensation

    def record_compensation(self, st: InstanceState, ei: EI) -> None:
        """Remember a completed activity that can be compensated later."""
        node = ei.node
        scope = ei.parent
        assert node is not None
        assert scope is not None
        data = ei.data
        nested = data.get("comp") if data else None
        if ei.mib:
            # a multi-instance body hands its inner instances' records to its scope
            if nested:
                scope.d().setdefault("comp", []).extend(nested)
            return
        comp_esp = None
        if node.is_scope:
            for e in node.esp:
                for s in e.starts:
                    if s.ev == "compensation":
                        comp_esp = s.id
        if node.comp_handler is None and not nested and comp_esp is None:
            return
        rec: dict[str, Any] = {"a": node.id}
        if node.comp_handler is not None:
            rec["h"] = node.comp_handler.id
        if nested:
            rec["n"] = nested
        if comp_esp is not None:
            rec["e"] = comp_esp
        if ei.vars:
            rec["v"] = dict(ei.vars)
        scope.d().setdefault("comp", []).append(rec)
        st.dirty = True

    def _comp_scope(self, ei: EI) -> EI:
        scope = ei.parent
        assert scope is not None
        # inside a compensation event subprocess, compensate the subprocess it belongs to
        while scope.node is not None and scope.node.kind == "esp" and scope.parent is not None:
            scope = scope.parent
        return scope

    def throw_compensation(self, st: InstanceState, ei: EI) -> None:
        """A compensation throw: run the handlers of completed activities, maybe wait."""
        node = ei.node
        assert node is not None
        scope = self._comp_scope(ei)
        records = list((scope.data or {}).get("comp") or [])
        ref = node.activity_ref
        chosen: list[dict[str, Any]] = []
        if ref is not None:
            chosen = [r for r in records if r["a"] == ref]
            if not chosen:
                chosen = _nested_by_activity(records, ref)
        else:
            chosen = records
        if scope.data is not None and "comp" in scope.data:
            left = [r for r in records if not any(r is c for c in chosen)]
            scope.data["comp"] = left
        started = 0
        for rec in reversed(chosen):
            started += self.compensate(st, scope, rec, ei)
        if started == 0 or not node.wait:
            self.complete(st, ei)
        else:
            ei.state = WAIT
            ei.d()["cw"] = started

    def compensate(
        self,
        st: InstanceState,
        scope: EI,
        rec: dict[str, Any],
        thrower: EI,
        outer: dict[str, Any] | None = None,
    ) -> int:
        """Start the compensation of one record; returns how many completions to wait for.

        ``outer`` holds the local variables of the completed scopes around the record (their
        snapshots): the handlers of activities inside a completed subprocess see them, as in
        Camunda's event scope execution (e.g. the input mappings of a multi-instance subprocess
        instance).
        """
        graph = st.graph
        count = 0
        snap = {**(outer or {}), **(rec.get("v") or {})}
        if "e" in rec:
            start = graph.nodes[rec["e"]]
            sub_node = graph.nodes[rec["a"]]
            cscope = st.new_ei(sub_node, scope, WAIT)
            cscope.d()["cs"] = thrower.id
            cscope.d()["ct"] = thrower.id
            cscope.vars = snap or None
            if rec.get("n"):
                cscope.d()["comp"] = list(rec["n"])
            self.trigger_esp(st, cscope, start, None)
            return 1
        if "h" in rec:
            handler = graph.nodes[rec["h"]]
            h = st.new_ei(handler, scope)
            if handler.mi is not None:
                h.mib = True
            h.d()["ct"] = thrower.id
            if snap:
                h.vars = dict(snap)
            self.push(self.activate, st, h)
            count += 1
        elif rec.get("n"):
            for sub in reversed(rec["n"]):
                count += self.compensate(st, scope, sub, thrower, snap)
        return count

    def activate(self, st: InstanceState, ei: EI) -> None:
        raise NotImplementedError

    def compensation_done(self, st: InstanceState, thrower_id: Any) -> None:
        """A compensation handler finished; the waiting throw event may go on."""
        if thrower_id is None:
            return
        thrower = st.eis.get(int(thrower_id))
        if thrower is None or thrower.state == GONE or thrower.data is None:
            return
        left = thrower.data.get("cw", 0) - 1
        if left > 0:
            thrower.data["cw"] = left
            return
        thrower.data.pop("cw", None)
        if thrower.node is not None and thrower.node.ev == "cancel":
            self.push(self.cancel_done, st, thrower)
        else:
            self.push(self.complete, st, thrower)

    def throw_cancel(self, st: InstanceState, ei: EI) -> None:
        """A cancel end event: compensate the transaction, then leave by its cancel boundary."""
        tx = ei.parent
        assert tx is not None
        assert tx.node is not None
        records = list((tx.data or {}).get("comp") or [])
        if tx.data is not None:
            tx.data["comp"] = []
        started = 0
        comp_esp = None
        for e in tx.node.esp:
            for s in e.starts:
                if s.ev == "compensation":
                    comp_esp = s
        if comp_esp is not None:
            e_ei = st.new_ei(comp_esp.parent, tx, WAIT)  # type: ignore[arg-type]
            e_ei.d()["ct"] = ei.id
            e_ei.d()["cs"] = ei.id
            e_ei.d()["comp"] = records
            self.hist("activity_start", st, comp_esp.parent, e_ei)
            first = st.new_ei(comp_esp, e_ei)
            self.hist("activity_start", st, comp_esp, first)
            self.complete(st, first)
            started = 1
        else:
            for rec in reversed(records):
                started += self.compensate(st, tx, rec, ei)
        if started == 0:
            self.cancel_done(st, ei)
        else:
            ei.state = WAIT
            ei.d()["cw"] = started

    def cancel_done(self, st: InstanceState, ei: EI) -> None:
        """Compensation after a cancel end event is over: fire the cancel boundary."""
        tx = ei.parent
        if tx is None or tx.node is None or tx.state == GONE:
            return
        # the boundary sits on a multi-instance body: it cancels every instance (BPMN 10.5.4)
        host = tx.parent if tx.is_inner and tx.parent is not None else tx
        for b in tx.node.boundaries:
            if b.ev == "cancel":
                self.hist("activity_end", st, ei.node, ei, {"completed": True})
                self.trigger_boundary(st, host, b, None)
                return
        self.complete(st, ei)


def _nested_by_activity(records: list[dict[str, Any]], ref: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in records:
        if r["a"] == ref:
            out.append(r)
        elif r.get("n"):
            out.extend(_nested_by_activity(r["n"], ref))
    return out
