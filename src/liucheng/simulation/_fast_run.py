"""The compiled token runner: the engine's commands over a :class:`~._fast.FastGraph`.

Tokens are counted per scope (the process instance, and each instance of an embedded
subprocess): a scope whose last token ends completes, which ends the process instance or
moves the subprocess's own token on, as the engine's ``scope_check`` does. Steps run by plain
recursion, which is the engine's depth-first order (each step's scheduled steps run before its
caller's later ones; see ``Run.drain``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from liucheng.errors import NotFoundError

if TYPE_CHECKING:
    from ._fast_nodes import FastGraph, _Node
    from ._sim_store import SimStore

__all__ = ["FastRunner"]

#: Node kinds a token only passes through (``and`` joins wait, so they are not here).
_THROUGH = frozenset({"start", "pass", "xor", "or", "boundary"})


class _Scope:
    """A process instance or one instance of an embedded subprocess."""

    __slots__ = ("iid", "items", "jobs", "joins", "node", "parent", "tokens")

    def __init__(self, iid: str, parent: _Scope | None, node: _Node | None) -> None:
        self.iid = iid
        self.parent = parent
        self.node = node  # the subprocess (None: the process)
        self.tokens = 1
        self.joins: dict[str, int] | None = None  # parallel join -> tokens waiting in it
        self.jobs: list[str] = []  # the subprocess's boundary timer jobs
        #: What it opened (tasks, jobs, subscriptions, inner scopes) when it can be cancelled
        self.items: list[tuple[str, Any]] | None = [] if node is not None and node.track else None


class _Body:
    """A multi-instance task's body: how many instances it runs, how many completed."""

    __slots__ = ("done", "n")

    def __init__(self, n: int) -> None:
        self.n = n
        self.done = 0


class _Row:
    """What the simulator reads of an engine task row."""

    __slots__ = ("body", "candidate_groups", "element_id", "id", "instance_id", "root_id", "scope")

    def __init__(self, rid: str, element_id: str, scope: _Scope) -> None:
        self.id = rid
        self.element_id = element_id
        self.instance_id = scope.iid
        self.root_id = scope.iid
        self.candidate_groups: tuple[str, ...] = ()  # none on this path (and no list per row)
        self.scope = scope
        self.body: _Body | None = None  # a multi-instance task's body


class _Job:
    """What the simulator reads of an engine timer job row."""

    __slots__ = (
        "due_at",
        "element_id",
        "group",
        "host",
        "id",
        "instance_id",
        "node",
        "per",
        "rep",
        "scope",
        "task",
    )

    def __init__(
        self,
        jid: str,
        scope: _Scope,
        due_at: dt.datetime,
        node: _Node,
        *,
        task: str | None,
        host: _Scope | None,
    ) -> None:
        self.id = jid
        self.instance_id = scope.iid
        self.scope = scope  # where the token goes on
        self.due_at = due_at
        self.node = node
        self.element_id = node.id
        self.task = task  # the host task of a boundary timer
        self.host = host  # the host subprocess instance of a boundary timer
        self.group: list[tuple[str, str]] | None = None  # see _Sub.group
        self.rep = 0  # a cycle: further firings (-1: unbounded)
        self.per: str | None = None  # a cycle: its period (ISO or cron text)


class _Sub:
    """What the simulator reads of an engine subscription row."""

    __slots__ = ("element_id", "group", "id", "instance_id", "kind", "node", "scope")

    def __init__(self, sid: str, scope: _Scope, node: _Node) -> None:
        self.id = sid
        self.instance_id = scope.iid
        self.scope = scope
        self.node = node
        self.element_id = node.id
        self.kind = node.event
        #: The waits of one event-based gateway (kind, row id): the first to fire ends the rest
        self.group: list[tuple[str, str]] | None = None


class FastRunner:
    """``start_process``, ``complete_task``, ``set_variables``, ``execute_job`` (timers) and
    :meth:`deliver` (message and signal waits) over a :class:`~._fast.FastGraph`.

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
        """Fire a timer: an interrupting boundary cancels its task or subprocess; the token
        moves on."""
        job = self._jobs.pop(job_id, None)
        if not isinstance(job, _Job):
            return False
        scope = job.scope
        task = job.task
        host = job.host
        if job.group is not None:
            self._drop_group(job.group)
        if task is not None:
            if job.node.interrupting:
                self._cancel_task(task)
            else:
                jobs = self._task_jobs[task]
                jobs.remove(job_id)
                if job.rep and job.per:
                    jobs.append(self._again(job))
                scope.tokens += 1
        elif host is not None:
            if job.node.interrupting:
                self._cancel_scope(host)  # its token in ``scope`` goes on from the boundary
            else:
                host.jobs.remove(job_id)
                if job.rep and job.per:
                    host.jobs.append(self._again(job))
                scope.tokens += 1
        self._leave(scope, job.node, self._vars.pop(scope.iid, {}))
        return True

    def deliver(self, subscription_id: str, variables: dict[str, Any]) -> bool:
        """The message or signal one wait catches arrives (see :func:`._lean.deliver`)."""
        sub = self._subs.pop(subscription_id, None)
        if not isinstance(sub, _Sub):
            return False
        if sub.group is not None:
            self._drop_group(sub.group)
        if self._ivars is not None:
            self._ivars[sub.instance_id].update(variables)
        self._leave(sub.scope, sub.node, variables)
        return True

    def start_process(
        self, key: str, variables: dict[str, Any], business_key: str | None = None
    ) -> str:
        """Start an instance; returns its id."""
        iid = f"i{next(self._ids)}"
        if self._ivars is not None:
            self._ivars[iid] = dict(variables)
        self._run(_Scope(iid, None, None), self.graph.start, variables)
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
        node = self.graph.nodes[row.element_id]
        body = row.body
        if body is not None:
            # the engine's mi_inner_done: the body completes with its last instance
            body.done += 1
            if body.done < body.n:
                if node.mi_seq:
                    self._open_task(row.scope, node, body)
                return
        self._leave(row.scope, node, variables)

    # ------------------------------------------------------------------ cancelling

    def _drop_group(self, group: list[tuple[str, str]]) -> None:
        """An event-based gateway's event fired: its other waits go (the fired one is gone)."""
        for kind, row_id in group:
            (self._jobs if kind == "job" else self._subs).pop(row_id, None)

    def _cancel_task(self, task: str) -> None:
        for other in self._task_jobs.pop(task, ()):
            self._jobs.pop(other, None)
        if self._tasks.pop(task, None) is not None:
            self.store.gone.add(task)

    def _cancel_scope(self, scope: _Scope) -> None:
        """Cancel a subprocess instance and everything it opened (the engine's terminate)."""
        for job_id in scope.jobs:
            self._jobs.pop(job_id, None)
        scope.jobs = []
        for kind, item in scope.items or ():
            if kind == "task":
                self._cancel_task(item)
            elif kind == "job":
                self._jobs.pop(item, None)
            elif kind == "sub":
                self._subs.pop(item, None)
            else:
                self._cancel_scope(item)
        scope.items = []
        scope.tokens = 0

    # ------------------------------------------------------------------ tokens

    def _consume(self, scope: _Scope, variables: dict[str, Any]) -> None:
        left = scope.tokens - 1
        if left:
            scope.tokens = left
            return
        scope.tokens = 0
        parent = scope.parent
        if parent is None:
            iid = scope.iid
            if self._ivars is not None:
                del self._ivars[iid]
            self.store.ended.append(iid)
            return
        # the subprocess completes: its boundary timers go, its own token moves on
        for job_id in scope.jobs:
            self._jobs.pop(job_id, None)
        node = scope.node
        assert node is not None
        self._leave(parent, node, variables)

    def _run(self, scope: _Scope, node_id: str, variables: dict[str, Any]) -> None:
        node = self.graph.nodes[node_id]
        kind = node.kind
        if kind == "wait":
            if node.mi_n is not None:
                if node.mi_n <= 0:
                    self._leave(scope, node, variables)  # an empty body completes at once
                    return
                body = _Body(node.mi_n)
                for _ in range(1 if node.mi_seq else node.mi_n):
                    self._open_task(scope, node, body)
                return
            rid = f"t{next(self._ids)}"
            row = _Row(rid, node_id, scope)
            self._tasks[rid] = row
            self.store.new["task"].append(row)
            if scope.items is not None:
                scope.items.append(("task", rid))
            if node.boundaries:
                nodes = self.graph.nodes
                self._task_jobs[rid] = [
                    self._arm(scope, nodes[b], rid, None) for b in node.boundaries
                ]
            return
        if kind == "end":
            self._consume(scope, variables)
            return
        if kind in _THROUGH:  # the token moves straight on (the checks below all fail)
            self._leave(scope, node, variables)
            return
        if kind == "timer":
            self._arm(scope, node, None, None)
            return
        if kind == "catch":
            self._subscribe(scope, node)
            return
        if kind == "ebg":
            # the engine subscribes every event in flow order; the first to fire wins
            group: list[tuple[str, str]] = []
            for target_id in node.outgoing:
                target = self.graph.nodes[target_id]
                wait: _Job | _Sub
                if target.kind == "timer":
                    wait = self._jobs[self._arm(scope, target, None, None)]
                else:
                    wait = self._subscribe(scope, target)
                wait.group = group
                group.append(("job" if target.kind == "timer" else "sub", wait.id))
            return
        if kind == "sub":
            inner = _Scope(scope.iid, scope, node)
            if scope.items is not None:
                scope.items.append(("scope", inner))
            if node.boundaries:
                # the engine subscribes the boundaries before the body starts
                nodes = self.graph.nodes
                inner.jobs = [self._arm(scope, nodes[b], None, inner) for b in node.boundaries]
            self._run(inner, node.first, variables)
            return
        if kind == "and" and node.incoming > 1:
            joins = scope.joins
            if joins is None:
                joins = scope.joins = {}
            arrived = joins.get(node_id, 0) + 1
            if arrived < node.incoming:
                joins[node_id] = arrived  # this token waits inside the join
                return
            del joins[node_id]
            scope.tokens -= node.incoming - 1  # the waiting tokens merge into this one
        self._leave(scope, node, variables)

    def _open_task(self, scope: _Scope, node: _Node, body: _Body) -> None:
        """One instance of a multi-instance task (no boundary events: see compile_fast)."""
        row = _Row(f"t{next(self._ids)}", node.id, scope)
        row.body = body
        self._tasks[row.id] = row
        self.store.new["task"].append(row)
        if scope.items is not None:
            scope.items.append(("task", row.id))

    def _subscribe(self, scope: _Scope, node: _Node) -> _Sub:
        sub = _Sub(f"s{next(self._ids)}", scope, node)
        self._subs[sub.id] = sub
        self.store.new["subscription"].append(sub)
        if scope.items is not None:
            scope.items.append(("sub", sub.id))
        return sub

    def _arm(self, scope: _Scope, timer: _Node, task_id: str | None, host: _Scope | None) -> str:
        """Write the timer job (due date planned by the engine's code); returns its id."""
        from liucheng.engine._timers import add_duration, plan_timer

        assert self._now is not None, "a model with timers needs the clock"
        now = self._now()
        iid = scope.iid
        plan = None
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
            plan = plan_timer(kind, value, now)
            due = plan.due
        job = _Job(f"j{next(self._ids)}", scope, due, timer, task=task_id, host=host)
        if plan is not None and plan.period:
            job.rep = plan.repeat
            job.per = plan.period
        self._jobs[job.id] = job
        self.store.new["job"].append(job)
        if task_id is None and host is None and scope.items is not None:
            scope.items.append(("job", job.id))
        return job.id

    def _again(self, job: _Job) -> str:
        """The next firing of a non-interrupting cycle boundary (before its token moves on,
        as the engine writes it); returns its id."""
        from liucheng.engine._timers import next_due

        assert job.per is not None
        nxt = _Job(
            f"j{next(self._ids)}",
            job.scope,
            next_due(job.per, job.due_at),
            job.node,
            task=job.task,
            host=job.host,
        )
        nxt.rep = job.rep - 1 if job.rep > 0 else -1
        nxt.per = job.per
        self._jobs[nxt.id] = nxt
        self.store.new["job"].append(nxt)
        return nxt.id

    def _leave(self, scope: _Scope, node: _Node, variables: dict[str, Any]) -> None:
        targets = node.outgoing
        if node.var is not None:
            chosen = node.by_flow.get(variables.get(node.var, ""))
            if chosen is None:
                self._consume(scope, variables)
                return
            self._run(scope, chosen, variables)
            return
        if not targets:
            self._consume(scope, variables)
            return
        if len(targets) > 1:
            scope.tokens += len(targets) - 1
        for t in targets:
            self._run(scope, t, variables)
