"""Events: subscriptions and their triggers, errors, escalations, signals, conditions,
compensation, call activities and termination (a mixin of :class:`~._exec.Executor`)."""

from __future__ import annotations

from typing import Any

from liucheng.errors import EngineError, LiuchengError

from ._graph import Flow, Node
from ._run import Run
from ._state import ASYNC_B, EI, GONE, JOIN, WAIT, InstanceState
from ._timers import TimerPlan, plan_timer
from .ports import SubscriptionRecord

__all__ = ["EventsMixin"]


class EventsMixin(Run):
    """Event behaviour shared by the executor (see the module docstring)."""

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

    # ------------------------------------------------------------------ subscriptions

    def open_scope(self, st: InstanceState, ei: EI, node: Node | None) -> None:
        """Subscribe the start events of a scope's event subprocesses."""
        esps = st.graph.esp if node is None else node.esp
        for esp in esps:
            for s in esp.starts:
                if s.ev in ("timer", "message", "signal", "conditional"):
                    self.subscribe(st, ei, s)

    def subscribe_boundaries(self, st: InstanceState, host: EI) -> None:
        """Subscribe the boundary events of ``host``'s activity."""
        node = host.node
        assert node is not None
        for b in node.boundaries:
            if b.ev in ("timer", "message", "signal", "conditional"):
                self.subscribe(st, host, b)

    def subscribe(self, st: InstanceState, owner: EI, node: Node) -> None:
        """Wait for ``node``'s event on behalf of ``owner``."""
        ev = node.ev
        if ev == "timer":
            if node.timer is None:
                return
            kind, expr = node.timer
            value = expr.evaluate(self.context(owner))
            cal = node.work.get("calendar")
            if cal is not None and kind == "duration":
                plan = TimerPlan(self.engine.business_due(cal, self.now, value), 0, None)
            else:
                plan = plan_timer(kind, value, self.now)
            self.new_job(
                st,
                owner,
                "timer",
                node=node,
                due=plan.due,
                data={"rep": plan.repeat, "per": plan.period} if plan.period else {},
            )
        elif ev in ("message", "signal"):
            assert node.event_name is not None
            ctx = self.context(owner)
            name = node.event_name.value(ctx)
            key = None
            if node.corr_key is not None:
                kv = node.corr_key.value(ctx)
                key = None if kv is None else str(kv)
            sid = self.new_id(st)
            self.cs.upsert(
                "subscription",
                SubscriptionRecord(
                    sid,
                    ev,
                    str(name),
                    key,
                    st.id,
                    st.root_id,
                    st.definition_id,
                    node.id,
                    str(owner.id),
                    self.now,
                    st.seq,
                ),
            )
            owner.d().setdefault("subs", []).append(["sub", sid, node.id])
            st.dirty = True
            if ev == "message":
                self._take_buffered(st, owner, node, str(name), key=key, sid=sid)
        elif ev == "conditional":
            owner.d().setdefault("subs", []).append(["cond", None, node.id])
            st.dirty = True
            self.push(self._check_one_condition, st, owner, node)

    def _take_buffered(
        self, st: InstanceState, owner: EI, node: Node, name: str, *, key: str | None, sid: str
    ) -> None:
        """A new message subscription receives a buffered message that is still alive."""
        filters: dict[str, Any] = {"name": name}
        if key is not None:
            filters["correlation_key"] = key
        gone = self.cs.deletes.get("message", set())
        for msg in self.tx.find_rows("message", filters, order_by=("created_at",)):
            if msg.id in gone or msg.expires_at <= self.now:
                continue
            self.cs.delete("message", msg.id)
            self.push(self.fire, st, owner, node, dict(msg.variables), ("subscription", sid))
            return

    def unsubscribe(self, st: InstanceState, ei: EI) -> None:
        """Drop every subscription, job, task, external task and incident ``ei`` owns."""
        data = ei.data
        if not data:
            return
        cs = self.cs
        subs = data.get("subs")
        if subs:
            for kind, rid, _ in subs:
                if kind == "sub":
                    cs.delete("subscription", rid)
                elif kind == "job":
                    cs.delete("job", rid)
            data["subs"] = []
        for key, table in (
            ("task", "task"),
            ("ext", "external_task"),
            ("job", "job"),
            ("inc", "incident"),
        ):
            rid = data.pop(key, None)
            if rid is not None:
                cs.delete(table, rid)
        st.dirty = True

    def drop_sub(self, owner: EI, element_id: str, row_id: str | None) -> None:
        """Forget one subscription entry of ``owner`` (its row is deleted by the caller)."""
        data = owner.data
        if not data or "subs" not in data:
            return
        subs = data["subs"]
        for i, (_, rid, eid) in enumerate(subs):
            if eid == element_id and (row_id is None or rid == row_id):
                del subs[i]
                return

    # ------------------------------------------------------------------ catching

    def catch_event(self, st: InstanceState, ei: EI) -> None:
        """An intermediate catch event: wait for its trigger (or pass a link/none)."""
        node = ei.node
        assert node is not None
        ev = node.ev
        if ev in ("timer", "message", "signal"):
            ei.state = WAIT
            self.subscribe(st, ei, node)
        elif ev == "conditional":
            assert node.condition is not None
            if node.condition.evaluate(self.context(ei)) is True:
                self.complete(st, ei)
            else:
                ei.state = WAIT
                ei.d().setdefault("subs", []).append(["cond", None, node.id])
                st.dirty = True
        else:
            self.complete(st, ei)

    def fire(
        self,
        st: InstanceState,
        owner: EI,
        node: Node,
        payload: dict[str, Any] | None,
        row: tuple[str, str] | None = None,
    ) -> None:
        """Deliver a trigger (message, signal, timer, condition) for ``node`` to ``owner``.

        Args:
            st: The instance.
            owner: The element instance that holds the subscription.
            node: The catching node (boundary, event subprocess start, catch event, receive task).
            payload: Variables that come with the trigger.
            row: ``(table, id)`` of the consumed subscription row, if any.
        """
        if owner.state == GONE:
            return
        keep = (node.kind == "boundary" and not node.interrupting) or (
            node.kind == "start" and not node.interrupting
        )
        if not keep and row is not None:
            self.drop_sub(owner, node.id, row[1])
            self.cs.delete(row[0], row[1])
        elif row is not None and row[0] == "job":
            self.drop_sub(owner, node.id, row[1])
            self.cs.delete("job", row[1])
        st.dirty = True
        if node.kind == "boundary":
            self.trigger_boundary(st, owner, node, payload)
        elif node.kind == "start":
            self.trigger_esp(st, owner, node, payload)
        elif owner.node is node:
            if payload:
                for k, v in payload.items():
                    self.set_var(st, owner, k, v)
            if node.kind == "icatch":
                self.drop_sub(owner, node.id, None)
            self.complete(st, owner)
        elif owner.node is not None and owner.node.kind == "ebg":
            scope = owner.parent
            assert scope is not None
            self.end_ei(st, owner, completed=True)
            catch = st.new_ei(node, scope)
            self.hist("activity_start", st, node, catch)
            if payload:
                for k, v in payload.items():
                    self.set_var(st, catch, k, v)
            self.complete(st, catch)

    def trigger_boundary(
        self, st: InstanceState, host: EI, node: Node, payload: dict[str, Any] | None
    ) -> None:
        """A boundary event fires on ``host``."""
        scope = host.parent
        assert scope is not None
        if node.interrupting:
            self.terminate(st, host)
        b = st.new_ei(node, scope)
        self.hist("activity_start", st, node, b)
        if payload:
            for k, v in payload.items():
                self.set_var(st, b, k, v)
        self.complete(st, b)

    def trigger_esp(
        self, st: InstanceState, scope: EI, start: Node, payload: dict[str, Any] | None
    ) -> None:
        """An event subprocess start event fires in ``scope``."""
        esp = start.parent
        assert esp is not None
        if start.interrupting:
            for k in list(scope.kids):
                self.terminate(st, k)
            self.close_esp_triggers(st, scope)
        e = st.new_ei(esp, scope, WAIT)
        self.hist("activity_start", st, esp, e)
        self.open_scope(st, e, esp)
        first = st.new_ei(start, e)
        self.hist("activity_start", st, start, first)
        if payload:
            for name, value in payload.items():
                self.set_var(st, first, name, value)
        self.complete(st, first)

    def close_esp_triggers(self, st: InstanceState, scope: EI) -> None:
        """Drop the subscriptions of ``scope``'s event subprocess start events."""
        data = scope.data
        if not data or not data.get("subs"):
            return
        esp_starts = {s.id for e in self._esps_of(st, scope) for s in e.starts}
        for entry in list(data["subs"]):
            if entry[2] in esp_starts:
                if entry[0] == "sub":
                    self.cs.delete("subscription", entry[1])
                elif entry[0] == "job":
                    self.cs.delete("job", entry[1])
                data["subs"].remove(entry)
        st.dirty = True

    def _esps_of(self, st: InstanceState, scope: EI) -> list[Node]:
        if scope.parent is None:
            return st.graph.esp
        node = scope.node
        return node.esp if node is not None and not scope.mib else []

    # ------------------------------------------------------------------ conditions

    def _check_one_condition(self, st: InstanceState, owner: EI, node: Node) -> None:
        if owner.state == GONE or owner.data is None:
            return
        if not any(e[2] == node.id for e in owner.data.get("subs", ())):
            return
        assert node.condition is not None
        if node.condition.evaluate(self.context(owner)) is True:
            self.fire(st, owner, node, None, None)
            if node.interrupting or node.kind == "icatch":
                self.drop_sub(owner, node.id, None)

    def check_conditions(self, st: InstanceState) -> bool:
        """Evaluate every conditional subscription of ``st``; fire the true ones."""
        fired = False
        for ei in list(st.eis.values()):
            data = ei.data
            if ei.state == GONE or not data or not data.get("subs"):
                continue
            for entry in list(data["subs"]):
                if entry[0] != "cond" or ei.state == GONE:
                    continue
                node = st.graph.nodes[entry[2]]
                assert node.condition is not None
                if node.condition.evaluate(self.context(ei)) is True:
                    if node.interrupting or node.kind == "icatch":
                        self.drop_sub(ei, node.id, None)
                    self.push(self.fire, st, ei, node, None, None)
                    fired = True
        return fired

    # ------------------------------------------------------------------ throwing

    def throw_event(self, st: InstanceState, ei: EI) -> None:
        """An intermediate throw or end event."""
        node = ei.node
        assert node is not None
        ev = node.ev
        if ev == "terminate":
            scope = ei.parent
            assert scope is not None
            for k in list(scope.kids):
                if k is not ei:
                    self.terminate(st, k)
            self.complete(st, ei)
        elif ev == "error":
            self.throw_error(st, ei, node.event_code, None)
        elif ev == "escalation":
            if self.throw_escalation(st, ei, node.event_code):
                self.complete(st, ei)
        elif ev == "signal":
            assert node.event_name is not None
            ctx = self.context(ei)
            name = str(node.event_name.value(ctx))
            payload: dict[str, Any] | None = None
            for kind, target, source in node.call_in:
                payload = payload or {}
                if kind == "all":
                    payload.update(ctx)
                elif kind == "var":
                    payload[target] = ctx.get(source)
                else:
                    payload[target] = source.value(ctx) if source is not None else None
            self.push(self.deliver_signal, name, payload)
            self.push(self.complete, st, ei)
        elif ev == "link" and node.kind == "ithrow":
            scope = ei.parent
            assert scope is not None
            key = (node.parent.id if node.parent else "", node.link or "")
            link_target = st.graph.links.get(key)
            if link_target is None:
                raise EngineError(
                    f"no link catch event named '{node.link}' for '{node.id}'",
                    code="engine.link.missing",
                    element_id=node.id,
                    hint="add an intermediate catch link event with the same name",
                )
            self.end_ei(st, ei, completed=True)
            self.enter(st, scope, link_target, None)
        elif ev == "compensation":
            self.throw_compensation(st, ei)
        elif ev == "cancel":
            self.throw_cancel(st, ei)
        else:
            self.complete(st, ei)

    def find_catch(
        self, st: InstanceState, thrower: EI, kind: str, code: str | None
    ) -> tuple[InstanceState, EI, Node] | None:
        """The nearest boundary or event subprocess that catches ``kind``/``code``."""
        cur: EI | None = thrower
        own = True
        while cur is not None:
            if not own or (cur.node is not None and cur.node.kind not in ("end", "ithrow")):
                # event subprocesses of the scope, then the scope's boundary events
                if not own:
                    for esp in self._esps_of(st, cur):
                        found = _match([s for s in esp.starts if s.ev == kind], code)
                        if found is not None:
                            return st, cur, found
                if cur.node is not None and not cur.is_inner:
                    found = _match([b for b in cur.node.boundaries if b.ev == kind], code)
                    if found is not None:
                        return st, cur, found
            own = False
            if cur.parent is None:
                if st.parent_id is None or st.parent_ei is None:
                    return None
                pst = self.load(st.parent_id)
                call = pst.eis.get(st.parent_ei)
                if call is None:
                    return None
                st = pst
                cur = call
                own = True
                continue
            cur = cur.parent
        return None

    def throw_error(
        self,
        st: InstanceState,
        ei: EI,
        code: str | None,
        payload: dict[str, Any] | None,
        message: str | None = None,
    ) -> None:
        """Throw a BPMN error from ``ei``."""
        found = self.find_catch(st, ei, "error", code)
        if found is None:
            node = ei.node
            assert node is not None
            if node.kind == "end":
                self.complete(st, ei)
                return
            scope = ei.parent
            assert scope is not None
            self.end_ei(st, ei, completed=False)
            self.scope_check(st, scope)
            return
        cst, owner, catch = found
        if payload:
            for k, v in payload.items():
                self.set_var(st, ei, k, v)
        # camunda:errorCodeVariable / errorMessageVariable on the catching event definition
        variables: dict[str, Any] | None = None
        if catch.result_var:
            variables = {catch.result_var: code}
        if catch.error_msg_var:
            variables = dict(variables or {})
            variables[catch.error_msg_var] = message
        if catch.kind == "boundary":
            self.trigger_boundary(cst, owner, catch, variables)
        else:
            self.trigger_esp(cst, owner, catch, variables)

    def throw_escalation(self, st: InstanceState, ei: EI, code: str | None) -> bool:
        """Throw an escalation; returns whether the thrower is still active afterwards."""
        found = self.find_catch(st, ei, "escalation", code)
        if found is None:
            return True
        cst, owner, catch = found
        if catch.kind == "boundary":
            self.trigger_boundary(cst, owner, catch, None)
        else:
            self.trigger_esp(cst, owner, catch, None)
        return ei.state != GONE

    def deliver_signal(self, name: str, payload: dict[str, Any] | None) -> None:
        """Deliver a signal to every subscription (in this command's view of the store)."""
        rows = list(self.tx.find_rows("subscription", {"kind": "signal", "name": name}))
        gone = self.cs.deletes.get("subscription", set())
        rows = [r for r in rows if r.id not in gone]
        pending = self.cs.upserts.get("subscription", {})
        seen = {r.id for r in rows}
        rows.extend(
            r
            for r in pending.values()
            if r.kind == "signal" and r.name == name and r.id not in seen
        )
        rows.sort(key=lambda r: (r.created_at, r.seq))
        for r in rows:
            if r.instance_id is None:
                self.engine.start_from_event(self, r, payload)  # type: ignore[arg-type]
                continue
            st = self.load(r.instance_id)
            if st.ended is not None:
                continue
            owner = st.eis.get(int(r.element_instance_id or 0))
            if owner is None or owner.state == GONE:
                continue
            node = st.graph.nodes[r.element_id]
            self.fire(st, owner, node, payload, ("subscription", r.id))

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
        if ei.state not in (JOIN, ASYNC_B):  # those never started: nothing to end in history
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
        key = str(node.called.value(ctx))
        rec = self.tx.latest_definition(key)
        if rec is None:
            raise EngineError(
                f"call activity '{node.id}' calls process '{key}', which is not deployed",
                code="engine.call.unknown",
                element_id=node.id,
                hint="deploy the called process first",
            )
        graph = self.engine.graph(rec.id, self.tx)
        variables: dict[str, Any] = {}
        for kind, target, source in node.call_in:
            if kind == "all":
                variables.update(ctx)
            elif kind == "var":
                variables[target] = ctx.get(source)
            else:
                variables[target] = source.value(ctx) if source is not None else None
        bk = None
        if node.business_key is not None:
            v = node.business_key.value(ctx)
            bk = None if v is None else str(v)
        child = self.new_instance(graph, rec.id, bk, parent=st, parent_ei=ei)
        ei.d()["child"] = child.id
        st.dirty = True
        self.start_instance(child, variables)

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

    def compensate(self, st: InstanceState, scope: EI, rec: dict[str, Any], thrower: EI) -> int:
        """Start the compensation of one record; returns how many completions to wait for."""
        graph = st.graph
        count = 0
        if "e" in rec:
            start = graph.nodes[rec["e"]]
            sub_node = graph.nodes[rec["a"]]
            cscope = st.new_ei(sub_node, scope, WAIT)
            cscope.d()["cs"] = thrower.id
            cscope.d()["ct"] = thrower.id
            cscope.vars = dict(rec.get("v") or {}) or None
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
            if rec.get("v"):
                h.vars = dict(rec["v"])
            self.push(self.activate, st, h)
            count += 1
        elif rec.get("n"):
            for sub in reversed(rec["n"]):
                count += self.compensate(st, scope, sub, thrower)
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
        for b in tx.node.boundaries:
            if b.ev == "cancel":
                self.hist("activity_end", st, ei.node, ei, {"completed": True})
                self.trigger_boundary(st, tx, b, None)
                return
        self.complete(st, ei)


def _match(nodes: list[Node], code: str | None) -> Node | None:
    for n in nodes:
        if n.event_code is not None and n.event_code == code:
            return n
    for n in nodes:
        if n.event_code is None:
            return n
    return None


def _nested_by_activity(records: list[dict[str, Any]], ref: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in records:
        if r["a"] == ref:
            out.append(r)
        elif r.get("n"):
            out.extend(_nested_by_activity(r["n"], ref))
    return out
