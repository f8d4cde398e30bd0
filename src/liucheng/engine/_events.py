"""Events: subscriptions and their triggers, errors, escalations, signals and conditions (a mixin
of :class:`~._exec.Executor`; termination, call activities and compensation are in
:mod:`._lifecycle`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from liucheng.errors import EngineError, LiuchengError

from ._graph import Node
from ._lifecycle import LifecycleMixin
from ._state import EI, GONE, WAIT, InstanceState
from ._timers import plan_timer
from .ports import SubscriptionRecord

__all__ = ["EventsMixin"]


class EventsMixin(LifecycleMixin):
    """Event behaviour shared by the executor (see the module docstring)."""

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
            # a timer naming a calendar counts durations and cycle periods in business time
            cal = node.work.get("calendar")
            plan = plan_timer(kind, value, self.now, self.engine._business_adder(cal))
            data: dict[str, Any] = {}
            if plan.period:
                data = {"rep": plan.repeat, "per": plan.period}
                if cal is not None:
                    data["cal"] = cal
            self.new_job(st, owner, "timer", node=node, due=plan.due, data=data)
        elif ev in ("message", "signal"):
            assert node.event_name is not None
            ctx = self.context(owner)
            name = node.event_name.value(ctx)
            key = None
            if node.corr_key is not None:
                kv = node.corr_key.value(ctx)
                if isinstance(kv, bool) or not isinstance(kv, str | int | float | Decimal):
                    # Zeebe: a correlation key must be a string or a number; otherwise the
                    # element gets an incident and nothing is subscribed
                    self.incident(
                        st,
                        owner,
                        "execute",
                        EngineError(
                            f"correlation key of '{node.id}' is {kv!r}, not a string or number",
                            code="engine.message.correlation_key",
                            element_id=node.id,
                            hint="set the variable the zeebe:subscription correlationKey reads",
                        ),
                    )
                    return
                key = str(kv)
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
                # Zeebe: with output mappings the message variables stay local to the catch
                setter = self.set_local if node.local_out else self.set_var
                for k, v in payload.items():
                    setter(st, owner, k, v)
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
                setter = self.set_local if node.local_out else self.set_var
                for k, v in payload.items():
                    setter(st, catch, k, v)
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
            setter = self.set_local if node.local_out else self.set_var
            for k, v in payload.items():
                setter(st, b, k, v)
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
            setter = self.set_local if start.local_out else self.set_var
            for name, value in payload.items():
                setter(st, first, name, value)
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
        # gone, or already evaluated by check_conditions (variables written meanwhile, e.g. by
        # the host's own script): evaluate once, like Camunda's dispatch of the variable event
        if not any(e[2] == node.id and e[1] is None for e in owner.data.get("subs", ())):
            return
        assert node.condition is not None
        if node.condition.evaluate(self.context(owner)) is True:
            self.fire(st, owner, node, None, None)
            if node.interrupting or node.kind == "icatch":
                self.drop_sub(owner, node.id, None)

    def check_conditions_now(self, st: InstanceState) -> bool:
        """Check the conditional events of ``st`` against the variables written so far."""
        self.var_changed.discard(st.id)
        return self.check_conditions(st, self.changed_names.pop(st.id, None))

    def check_conditions(
        self, st: InstanceState, changed: set[tuple[str, str]] | None = None
    ) -> bool:
        """Evaluate every conditional subscription of ``st``; fire the true ones.

        ``changed``: the variable events since the last check, ``(name, event)`` with event
        ``create``, ``update`` or ``delete``. An event with ``camunda:variableName`` is
        evaluated only when one of its variables changed, one with ``camunda:variableEvents``
        only on one of those events (both: that variable with one of those events), as
        Camunda 7 does. ``None``: evaluate every one (no variable event to filter on).
        """
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
                if changed is not None and not _wanted(node, changed):
                    continue
                entry[1] = 1  # evaluated (see _check_one_condition)
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
            message = None
            if node.error_message is not None:
                try:
                    message = node.error_message.value(self.context(ei))
                except LiuchengError as exc:
                    self.incident(st, ei, "execute", exc)
                    return
            self.throw_error(st, ei, node.event_code, None, message)
        elif ev == "escalation":
            if self.throw_escalation(st, ei, node.event_code):
                self.complete(st, ei)
        elif ev == "signal":
            assert node.event_name is not None
            ctx = self.context(ei)
            name = str(node.event_name.value(ctx))
            payload = self.call_inputs(ei, ctx)
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
        elif ev == "message" and node.topic is not None:
            self.run_service(st, ei)  # an external worker sends it
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
                    # over all the scope's event subprocesses at once: one naming the code wins
                    # over a catch-all one listed before it (Camunda's errorCode precedence)
                    starts = [s for esp in self._esps_of(st, cur) for s in esp.starts]
                    found = _match([s for s in starts if s.ev == kind], code)
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
        self._pass_outputs(st, cst)
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
        # Camunda passes the camunda:out variables of every called instance the escalation
        # leaves, up to the catching one, or to the top when nobody catches it
        self._pass_outputs(st, found[0] if found is not None else None)
        if found is None:
            return True
        cst, owner, catch = found
        # camunda:escalationCodeVariable on the catching event definition
        variables = {catch.result_var: code} if catch.result_var else None
        if catch.kind == "boundary":
            self.trigger_boundary(cst, owner, catch, variables)
        else:
            self.trigger_esp(cst, owner, catch, variables)
        return ei.state != GONE

    def _pass_outputs(self, st: InstanceState, upto: InstanceState | None) -> None:
        """Apply the output mappings of the call activities between ``st`` and ``upto``.

        An error or escalation thrown in a called process hands its variables to the caller
        before the caller catches it (Camunda's OutputVariablesPropagator), as a normal end would.
        """
        child = st
        while child is not upto and child.parent_id is not None and child.parent_ei is not None:
            pst = self.load(child.parent_id)
            call = pst.eis.get(child.parent_ei)
            if call is None or call.state == GONE:
                return
            self.call_outputs(pst, call, child)
            child = pst

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


def _match(nodes: list[Node], code: str | None) -> Node | None:
    for n in nodes:
        if n.event_code is not None and n.event_code == code:
            return n
    for n in nodes:
        if n.event_code is None:
            return n
    return None


def _wanted(node: Node, changed: set[tuple[str, str]]) -> bool:
    """Whether a conditional event listens to one of the ``changed`` variable events."""
    names = node.cond_vars
    events = node.cond_events
    if names is None and events is None:
        return True
    return any(
        (names is None or name in names) and (events is None or event in events)
        for name, event in changed
    )
