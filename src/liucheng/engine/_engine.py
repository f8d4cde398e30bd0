"""The :class:`Engine`: deployments, commands and queries over a :class:`~.ports.Store`."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from liucheng.errors import (
    EngineError,
    ModelError,
    NotFoundError,
)

from ._api import (
    DeployedDefinition,
    Deployment,
)
from ._authz import AuthzMixin
from ._base import EngineBase, Handler, Source
from ._bindings import definition_by_tag
from ._decisions import decision_version_tag
from ._exec import Executor
from ._graph import Graph, Node, compile_process
from ._queries import QueriesMixin
from ._run import new_id
from ._slas import SlaMixin, check_sla_files, is_sla_file
from ._staff import StaffMixin
from ._state import EI, GONE, WAIT, InstanceState
from ._tasks import TasksMixin
from ._timers import plan_timer
from ._work import WorkMixin
from .ports import (
    BufferedMessage,
    DefinitionRecord,
    DeploymentRecord,
    JobRecord,
    SubscriptionRecord,
    Transaction,
)

__all__ = ["Engine", "Handler"]


class Engine(AuthzMixin, SlaMixin, TasksMixin, StaffMixin, WorkMixin, QueriesMixin, EngineBase):
    """The process engine: deploy models, start and drive instances, query their state.

    Every command loads what it needs from the store, runs every token until it waits, and
    writes once; a command that fails writes nothing. Conflicting concurrent writes are retried.

    Args:
        store: Where state lives (default: a new in-memory store).
        clock: Time source (default: the system clock); tests pass a
            :class:`~liucheng.engine.ports.ManualClock`.
        history: Whether to append history events.
        handlers: In-process service handlers by name (see :meth:`register_handler`).
        max_attempts: How often a command is tried on optimistic-locking conflicts.
        organisation: A ``liucheng.org.Organisation``: lanes map to roles, assignment strategies
            decide who gets new tasks, FEEL sees the org functions, escalations go to superiors.
        authorization: A ``liucheng.org.AuthorizationPolicy`` that :meth:`as_user` views enforce.
        calendars: Business calendars by name (besides the organisation's), for timers with
            ``liucheng:calendar`` and SLA clocks.
        org_refresh: Seconds between two looks at the store's newest organisation revision
            (used when no ``organisation`` is given; 0: at every use; see :meth:`org_admin`).

    Example:
        >>> engine = Engine()                                       # doctest: +SKIP
        >>> engine.deploy("order.bpmn")                             # doctest: +SKIP
        >>> pid = engine.start_process("order", {"amount": 10})     # doctest: +SKIP
        >>> engine.tasks(instance_id=pid)                           # doctest: +SKIP
    """

    # ================================================================== deployment

    def deploy(self, *sources: Source | Iterable[Source], name: str | None = None) -> Deployment:
        """Deploy BPMN (``.bpmn``) and DMN (``.dmn``) resources; each process gets a new version.

        Args:
            sources: File paths, raw bytes, or ``(resource name, bytes)`` pairs (or lists of
                them).
            name: Deployment name (default: the first resource name).

        Returns:
            The deployment with the definition versions it created.

        Raises:
            ModelError: A resource cannot be parsed or a process cannot be executed.
        """
        resources: dict[str, bytes] = {}
        for src in _flatten(sources):
            rname, data = _read_source(src, len(resources))
            resources[rname] = data
        if not resources:
            raise ModelError("nothing to deploy", code="engine.deploy.empty")
        now = self.clock.now()
        dep = DeploymentRecord(new_id(), name or next(iter(resources)), now, resources)
        parsed: list[tuple[str, str, str | None, str]] = []  # (kind, key, name, resource)
        graphs: dict[str, Graph] = {}
        sla_files: dict[str, bytes] = {}
        for rname, data in resources.items():
            if is_sla_file(rname):
                sla_files[rname] = data  # SLA definitions (docs/work.md), checked below
                continue
            if _is_form(rname, data):
                # stored with the deployment; a form-js form with an id is also a versioned
                # definition (kind "form"), so tasks can find the latest one by form id
                form_id = _form_id(rname, data)
                if form_id is not None:
                    parsed.append(("form", form_id, None, rname))
                continue
            if _is_dmn(rname, data):
                from liucheng.dmn import parse_dmn

                ddefs = parse_dmn(data, file=rname)
                for d in ddefs.decisions:
                    parsed.append(("dmn", d.id, getattr(d, "name", None), rname))
                continue
            from liucheng.model import parse_bpmn

            defs = parse_bpmn(data, filename=rname)
            roots = {r.id: r for r in defs.root_elements if r.id}
            for p in defs.processes:
                if p.is_executable is False or not p.id:
                    continue
                graphs[p.id] = compile_process(p, roots, file=rname)
                parsed.append(("bpmn", p.id, p.name, rname))
        if sla_files:
            check_sla_files(sla_files, graphs)

        def cmd(run: Executor) -> Deployment:
            tx = run.tx
            recs: list[DefinitionRecord] = []
            for kind, key, dname, rname in parsed:
                latest = tx.latest_definition(key, kind)
                version = (latest.version if latest else 0) + 1
                did = f"{key}:{version}:{dep.id[:8]}"
                recs.append(DefinitionRecord(did, key, version, kind, dname, dep.id, rname, now))
            for r in recs:
                if r.kind == "bpmn":
                    self._start_events(run, r, graphs[r.key])
            # written last: everything that can fail has been computed
            tx.add_deployment(dep, recs)
            for r in recs:
                if r.kind == "bpmn":
                    self._graphs[r.id] = graphs[r.key]
            return Deployment(
                dep.id,
                tuple(
                    DeployedDefinition(r.id, r.key, r.version, r.kind, r.name, self._tag(tx, r))
                    for r in recs
                ),
            )

        return self._command(cmd)

    def _tag(self, tx: Transaction, rec: DefinitionRecord) -> str | None:
        """The version tag of a deployed process or decision (forms have none)."""
        if rec.kind == "bpmn":
            return self.graph(rec.id, tx).version_tag
        return decision_version_tag(self._dmn, tx, rec) if rec.kind == "dmn" else None

    def _start_events(self, run: Executor, rec: DefinitionRecord, graph: Graph) -> None:
        """Replace the start-event subscriptions and timers of older versions of ``rec.key``."""
        tx = run.tx
        old_defs = {d.id for d in tx.list_definitions(rec.key, "bpmn") if d.id != rec.id}
        if old_defs:
            for s in tx.find_rows("subscription", {"instance_id": None}):
                if s.definition_id in old_defs:
                    run.cs.delete("subscription", s.id)
            for j in tx.find_rows("job", {"instance_id": None}):
                if j.definition_id in old_defs:
                    run.cs.delete("job", j.id)
        for n in graph.message_starts + graph.signal_starts:
            assert n.event_name is not None
            name = str(n.event_name.value({}))
            run.cs.upsert(
                "subscription",
                SubscriptionRecord(
                    new_id(), n.ev, name, None, None, None, rec.id, n.id, None, run.now
                ),
            )
        for n in graph.timer_starts:
            if n.timer is None:
                continue
            kind, expr = n.timer
            cal = n.work.get("calendar")
            plan = plan_timer(kind, expr.evaluate({}), run.now, self._business_adder(cal))
            data: dict[str, Any] = {"rep": plan.repeat, "per": plan.period} if plan.period else {}
            if plan.period and cal is not None:
                data["cal"] = cal
            run.cs.upsert(
                "job",
                JobRecord(
                    new_id(),
                    None,
                    None,
                    rec.id,
                    n.id,
                    None,
                    "timer-start",
                    plan.due,
                    retries=n.retry.tries if n.retry is not None else 3,
                    created_at=run.now,
                    data=data,
                ),
            )

    # ================================================================== commands

    def _definition(
        self,
        tx: Transaction,
        key: str | None,
        version: int | None,
        definition_id: str | None,
        version_tag: str | None = None,
    ) -> DefinitionRecord:
        if definition_id is not None:
            rec = tx.get_definition(definition_id)
        elif key is None:
            raise EngineError("give a process key or a definition id", code="engine.start.args")
        elif version_tag is not None:
            if version is not None:
                raise EngineError(
                    "give a version or a version tag, not both", code="engine.start.args"
                )
            return definition_by_tag(
                tx, key, version_tag, lambda d: self.graph(d.id, tx).version_tag
            )
        elif version is not None:
            rec = tx.definition_by_version(key, version)
        else:
            rec = tx.latest_definition(key)
        if rec is None or rec.kind != "bpmn":
            what = definition_id or (f"{key} version {version}" if version else key)
            raise NotFoundError(
                f"process definition '{what}' is not deployed",
                code="engine.definition.not_found",
                hint="deploy the BPMN file first",
            )
        return rec

    def start_process(
        self,
        key: str | None = None,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        *,
        version: int | None = None,
        definition_id: str | None = None,
        version_tag: str | None = None,
    ) -> str:
        """Start a process instance at its none start event.

        Args:
            key: Process id (the latest version runs unless ``version`` is given).
            variables: Initial process variables.
            business_key: The instance's business key.
            version: A specific version of ``key``.
            definition_id: A specific definition version (instead of ``key``).
            version_tag: The one version of ``key`` with this ``camunda:versionTag`` (like
                Camunda's ``processDefinitionVersionTag``).

        Returns:
            The new process instance id (the instance may already have ended).

        Raises:
            NotFoundError: ``engine.definition.version_tag_unknown``: no version has the tag.
            EngineError: ``engine.definition.version_tag_ambiguous``: several versions have it.
        """

        def cmd(run: Executor) -> str:
            rec = self._definition(run.tx, key, version, definition_id, version_tag)
            graph = self.graph(rec.id, run.tx)
            st = run.new_instance(graph, rec.id, business_key)
            run.start_instance(st, dict(variables or {}))
            return st.id

        return self._command(cmd)

    def start_from_event(
        self, run: Executor, sub: SubscriptionRecord, payload: Mapping[str, Any] | None
    ) -> str:
        """Start an instance at a message/signal start event (inside a running command)."""
        graph = self.graph(sub.definition_id, run.tx)
        st = run.new_instance(graph, sub.definition_id, None)
        run.start_instance(st, dict(payload or {}), graph.nodes[sub.element_id])
        return st.id

    def complete_task(
        self,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
    ) -> None:
        """Complete a user task; its variables are set where they are defined (else on the process).

        When the task has a form, the variables must satisfy it (checked on the server).

        Raises:
            NotFoundError: No such open task.
            ValidationError: ``engine.form.rejected``: the form is not filled in correctly
                (``details["errors"]`` lists every field error; nothing changes).
            EngineError: ``engine.task.delegated``: the task is delegated (resolve it first).
        """

        def cmd(run: Executor) -> None:
            row = run.tx.get_row("task", task_id)
            if row is None:
                raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
            if row.delegation == "escalation":
                # an escalation to-do: done when its holder says so; the process does not move
                run.cs.delete("task", task_id)
                inst = run.tx.get_instance(row.instance_id)
                if inst is not None:
                    st0 = run.load(row.instance_id)
                    run.hist("task_complete", st0, None, None, {"task_id": task_id}, actor=actor)
                return
            if row.delegation == "pending":
                raise EngineError(
                    f"task '{task_id}' is delegated to '{row.assignee}'",
                    code="engine.task.delegated",
                    hint="the delegate resolves it; then its owner completes it",
                )
            self._check_form(run, row, variables)
            st = run.load(row.instance_id)
            ei = run.find_ei(st, row.element_instance_id)
            run.set_completion_vars(st, ei, variables)
            run.cs.delete("task", task_id)
            if ei.data is not None:
                ei.data.pop("task", None)
            run.hist("task_complete", st, ei.node, ei, {"task_id": task_id}, actor=actor)
            st.dirty = True
            run.complete(st, ei)

        self._command(cmd)

    def assign_task(self, task_id: str, assignee: str | None, *, actor: str | None = None) -> None:
        """Set (or clear) the assignee of an open task."""

        def cmd(run: Executor) -> None:
            row = run.tx.get_row("task", task_id)
            if row is None:
                raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
            st = run.load(row.instance_id)
            run.cs.upsert(
                "task",
                dataclasses.replace(
                    row,
                    assignee=assignee,
                    claimed_at=run.now if assignee is not None else None,
                    updated_at=run.now,
                ),
            )
            run.hist(
                "task_assign",
                st,
                st.graph.nodes.get(row.element_id),
                None,
                {"task_id": task_id, "assignee": assignee},
                actor=actor,
            )

        self._command(cmd)

    def trigger(
        self,
        instance_id: str,
        element_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        index: int = 1,
    ) -> None:
        """Continue a token waiting at ``element_id`` (a receive task or other wait state).

        Args:
            instance_id: The process instance (or a called instance below it).
            element_id: The waiting element.
            variables: Variables to set before continuing.
            index: Which one (1-based, creation order) when several wait there.
        """

        def cmd(run: Executor) -> None:
            found = [
                (st, ei)
                for st in self._family(run, instance_id)
                for ei in st.eis.values()
                if ei.node is not None
                and ei.node.id == element_id
                and ei.state == WAIT
                and not ei.node.is_scope
                and ei.node.kind != "call"
            ]
            if len(found) < index:
                raise EngineError(
                    f"no token waits at '{element_id}'",
                    code="engine.trigger.none",
                    element_id=element_id,
                )
            st, ei = found[index - 1]
            for k, v in (variables or {}).items():
                run.set_var(st, ei, k, v)
            run.unsubscribe(st, ei)
            run.complete(st, ei)

        self._command(cmd)

    def _family(self, run: Executor, instance_id: str) -> list[InstanceState]:
        out = [run.load(instance_id)]
        for rec in run.tx.find_instances(root_id=out[0].root_id):
            if rec.id != instance_id:
                out.append(run.load(rec.id))
        return out

    def correlate_message(
        self,
        name: str,
        correlation_key: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        instance_id: str | None = None,
        ttl: _dt.timedelta | None = None,
    ) -> str | None:
        """Deliver a message to the one matching subscription (or start an instance).

        Like Camunda 7's ``correlate()``, a message goes to exactly one receiver: waiting
        subscriptions first, a message start event only when none waits. When several match,
        nothing happens and ``engine.message.ambiguous`` is raised;
        :meth:`correlate_message_all` delivers to all of them.

        Args:
            name: Message name.
            correlation_key: Only subscriptions with this key match (when given).
            variables: Payload, set on the receiving instance.
            instance_id: Only this instance (or its called instances) may receive it.
            ttl: Keep the message this long if nothing matches now; a subscription opened
                meanwhile receives it.

        Returns:
            The id of the instance that received the message, or ``None`` when it was buffered.

        Raises:
            EngineError: Nothing matches and no ``ttl`` was given
                (``engine.message.uncorrelated``), or several receivers match
                (``engine.message.ambiguous``).
        """
        got = self._correlate(name, correlation_key, variables, instance_id, ttl, every=False)
        return got[0] if got else None

    def correlate_message_all(
        self,
        name: str,
        correlation_key: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        instance_id: str | None = None,
    ) -> list[str]:
        """Deliver a message to every matching subscription (Camunda's ``correlateAll()``).

        Message start events that match start one instance each (only when ``instance_id`` is
        not given).

        Returns:
            The ids of the instances that received it (an instance receiving twice appears twice).

        Raises:
            EngineError: ``engine.message.uncorrelated``: nothing matches.
        """
        return self._correlate(name, correlation_key, variables, instance_id, None, every=True)

    def _correlate(
        self,
        name: str,
        correlation_key: str | None,
        variables: Mapping[str, Any] | None,
        instance_id: str | None,
        ttl: _dt.timedelta | None,
        *,
        every: bool,
    ) -> list[str]:
        payload = dict(variables or {})

        def cmd(run: Executor) -> list[str]:
            filters: dict[str, Any] = {"kind": "message", "name": name}
            if correlation_key is not None:
                filters["correlation_key"] = correlation_key
            rows = run.tx.find_rows("subscription", filters, order_by=("created_at", "seq"))
            if instance_id is not None:
                rows = [r for r in rows if instance_id in (r.instance_id, r.root_id)]
            live: list[tuple[InstanceState, EI, SubscriptionRecord]] = []
            for r in rows:
                if r.instance_id is None:
                    continue
                st = run.load(r.instance_id)
                owner = st.eis.get(int(r.element_instance_id or 0))
                if owner is not None and owner.state != GONE:
                    live.append((st, owner, r))
            starts = [r for r in rows if r.instance_id is None] if instance_id is None else []
            if not every and live:
                starts = []  # Camunda: waiting executions first, start events only when none
            if not every and len(live) + len(starts) > 1:
                raise EngineError(
                    f"message '{name}' matches {len(live) + len(starts)} receivers",
                    code="engine.message.ambiguous",
                    hint="give a correlation key or an instance id, or correlate to all",
                )
            out: list[str] = []
            for st, owner, r in live:
                # an earlier delivery may have ended this receiver (e.g. it interrupted it)
                if owner.state == GONE or st.eis.get(owner.id) is not owner:
                    continue
                run.fire(st, owner, st.graph.nodes[r.element_id], payload, ("subscription", r.id))
                out.append(st.id)
            for r in starts:
                out.append(self.start_from_event(run, r, payload))
            if out:
                return out
            if ttl is not None and not every:
                run.cs.upsert(
                    "message",
                    BufferedMessage(
                        new_id(), name, correlation_key, payload, run.now, run.now + ttl
                    ),
                )
                return []
            raise EngineError(
                f"no process instance waits for message '{name}'"
                + (f" with correlation key '{correlation_key}'" if correlation_key else ""),
                code="engine.message.uncorrelated",
                hint="check the message name and correlation key, or publish with a ttl",
            )

        result: list[str] = self._command(cmd)
        return result

    def broadcast_signal(self, name: str, variables: Mapping[str, Any] | None = None) -> None:
        """Deliver a signal to every waiting catch event and signal start event."""
        payload = dict(variables or {}) or None

        def cmd(run: Executor) -> None:
            run.deliver_signal(name, payload)

        self._command(cmd)

    def deliver_to_subscription(
        self, subscription_id: str, variables: Mapping[str, Any] | None = None
    ) -> bool:
        """Deliver the message or signal one subscription waits for, to that wait only.

        :meth:`correlate_message` and :meth:`broadcast_signal` pick their receivers by name;
        this fires exactly one subscription row (as they do for each row they match), e.g.
        when a case waits twice for one message, or for a simulated wait with its own delay.

        Args:
            subscription_id: The subscription row (see :meth:`subscriptions`).
            variables: Payload set on the receiving instance (a signal with none gets none).

        Returns:
            Whether the wait was still there to receive it (``False``: the row, its instance
            or its element instance is gone).
        """
        payload = dict(variables or {})

        def cmd(run: Executor) -> bool:
            row = run.tx.get_row("subscription", subscription_id)
            if row is None or row.instance_id is None:
                return False
            st = run.load(row.instance_id)
            owner = st.eis.get(int(row.element_instance_id or 0))
            if st.ended is not None or owner is None or owner.state == GONE:
                return False
            given = payload if row.kind == "message" else payload or None
            run.fire(st, owner, st.graph.nodes[row.element_id], given, ("subscription", row.id))
            return True

        delivered: bool = self._command(cmd)
        return delivered

    def set_variables(
        self,
        instance_id: str,
        variables: Mapping[str, Any],
        *,
        element_instance_id: str | None = None,
        remove: Iterable[str] = (),
    ) -> None:
        """Set process-level variables (or local ones of an element instance).

        Conditional events whose condition becomes true fire (``camunda:variableEvents``: a
        new variable is a ``create``, a set one an ``update``, a removed one a ``delete``).

        Args:
            instance_id: The process instance.
            variables: Values to set.
            element_instance_id: Set (and remove) the element instance's local variables.
            remove: Names of variables to remove first (Camunda's ``deletions``; names that
                do not exist are ignored).
        """
        gone = tuple(remove)  # a command may run again (conflict retry)

        def cmd(run: Executor) -> None:
            st = run.load(instance_id)
            scope = st.root if element_instance_id is None else run.find_ei(st, element_instance_id)
            for name in gone:
                run.remove_local(st, scope, name)
            for k, v in variables.items():
                run.set_local(st, scope, k, v)

        self._command(cmd)

    def cancel_instance(self, instance_id: str) -> None:
        """Terminate a process instance (and the instances it called)."""

        def cmd(run: Executor) -> None:
            run.kill_instance(run.load(instance_id))

        self._command(cmd)

    # ------------------------------------------------------------------ modification

    def modify(
        self,
        instance_id: str,
        *,
        start_before: Iterable[str] = (),
        cancel: Iterable[str] = (),
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Cancel the tokens at some activities and/or start tokens before others.

        ``start_before`` elements must be at process level or inside a scope that is active.
        """

        def cmd(run: Executor) -> None:
            st = run.load(instance_id)
            for k, v in (variables or {}).items():
                run.set_local(st, st.root, k, v)
            starts = list(start_before)
            for eid in cancel:
                hits = [e for e in st.eis.values() if e.node is not None and e.node.id == eid]
                if not hits:
                    raise EngineError(
                        f"no token is at '{eid}'", code="engine.modify.none", element_id=eid
                    )
                for e in hits:
                    scope = e.parent
                    run.terminate(st, e)
                    if scope is not None and not starts:
                        run.scope_check(st, scope)
            for eid in starts:
                node = st.graph.nodes.get(eid)
                if node is None:
                    raise EngineError(
                        f"'{eid}' is not an element of the process",
                        code="engine.modify.unknown",
                        element_id=eid,
                    )
                run.enter(st, self._scope_for(run, st, node), node, None)
            if not starts and not st.root.kids and st.ended is None:
                run.end_instance(st, "completed")

        self._command(cmd)

    @staticmethod
    def _scope_for(run: Executor, st: InstanceState, node: Node) -> EI:
        """The active scope instance ``node`` belongs in, creating missing subprocess scopes."""
        if node.parent is None:
            return st.root
        found = next(
            (e for e in st.eis.values() if e.node is node.parent and e.state == WAIT), None
        )
        if found is not None:
            return found
        outer = Engine._scope_for(run, st, node.parent)
        if node.parent.kind not in ("sub", "tx", "adhoc"):
            raise EngineError(
                f"cannot start '{node.id}' inside '{node.parent.id}'",
                code="engine.modify.scope",
                element_id=node.id,
                hint="start before the enclosing event subprocess or activity instead",
            )
        scope = st.new_ei(node.parent, outer, WAIT)
        run.hist("activity_start", st, node.parent, scope)
        if node.parent.boundaries:
            run.subscribe_boundaries(st, scope)
        run.open_scope(st, scope, node.parent)
        return scope

    def migrate(
        self,
        instance_id: str,
        target_definition_id: str,
        mapping: Mapping[str, str] | None = None,
    ) -> None:
        """Move a running instance to another definition version.

        Every active element must exist in the target (under its own id or the id ``mapping``
        gives); task, job, subscription and external task rows follow.
        """
        mp = dict(mapping or {})

        def cmd(run: Executor) -> None:
            st = run.load(instance_id)
            rec = run.tx.get_definition(target_definition_id)
            if rec is None:
                raise NotFoundError(
                    f"definition '{target_definition_id}' does not exist",
                    code="engine.definition.not_found",
                )
            graph = self.graph(rec.id, run.tx)
            for ei in st.eis.values():
                if ei.node is None:
                    continue
                new_id = mp.get(ei.node.id, ei.node.id)
                node = graph.nodes.get(new_id)
                if node is None:
                    raise EngineError(
                        f"active element '{ei.node.id}' does not exist in '{rec.id}'",
                        code="engine.migrate.unmapped",
                        element_id=ei.node.id,
                        hint="give a mapping to an element of the target version",
                    )
                ei.node = node
                if ei.data and ei.data.get("subs"):
                    for entry in ei.data["subs"]:
                        entry[2] = mp.get(entry[2], entry[2])
            st.graph = graph
            st.definition_id = rec.id
            st.dirty = True
            for kind in ("task", "job", "subscription", "external_task", "incident"):
                for row in run.tx.find_rows(kind, {"instance_id": instance_id}):
                    run.cs.upsert(
                        kind,
                        dataclasses.replace(
                            row,
                            definition_id=rec.id,
                            element_id=mp.get(row.element_id, row.element_id),
                        ),
                    )

        self._command(cmd)


def _is_form(name: str, data: bytes) -> bool:
    lower = name.lower()
    return lower.endswith((".form", ".json")) or data.lstrip()[:1] == b"{"


def _form_id(name: str, data: bytes) -> str | None:
    from ._forms import is_form_js, load_form

    doc = load_form(data, name=name)
    form_id = doc.get("id")
    return form_id if isinstance(form_id, str) and form_id and is_form_js(doc) else None


def _is_dmn(name: str, data: bytes) -> bool:
    lower = name.lower()
    if lower.endswith(".dmn"):
        return True
    if lower.endswith(".bpmn"):
        return False
    head = data[:4000]
    return b"/spec/DMN/" in head and b"/spec/BPMN/20100524/MODEL" not in head


def _flatten(sources: Iterable[Any]) -> list[Source]:
    out: list[Source] = []
    for s in sources:
        if isinstance(s, str | Path | bytes | tuple):
            out.append(s)
        else:
            out.extend(_flatten(s))
    return out


def _read_source(src: Source, n: int) -> tuple[str, bytes]:
    if isinstance(src, tuple):
        return src[0], src[1]
    if isinstance(src, bytes):
        return f"resource-{n + 1}", src
    p = Path(src)
    try:
        return p.name, p.read_bytes()
    except OSError as exc:
        raise ModelError(
            f"cannot read '{src}': {exc.strerror}", code="engine.deploy.unreadable", file=str(src)
        ) from None
