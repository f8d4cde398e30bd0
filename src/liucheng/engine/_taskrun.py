"""User-task behaviour: create the task row (candidates, dates, priority, form key; assignment by
the organisation) and wait."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from liucheng.errors import EngineError, LiuchengError

from ._events import EventsMixin
from ._state import EI, WAIT, InstanceState, ei_text
from ._timers import plan_timer
from .ports import TaskRecord

if TYPE_CHECKING:
    from ._exec import Executor

__all__ = ["UserTaskBehaviour"]


def _is_duration(value: Any) -> bool:
    import datetime as _dt

    if isinstance(value, _dt.timedelta):
        return True
    return isinstance(value, str) and value.strip().upper().startswith("P")


# Shared by every task without candidates: task rows are replaced, never changed in place (see
# ``dataclasses.replace`` in ._tasks/._staff), and a waiting task row is heap per live instance
# in the memory store. Never mutate a row's candidate lists.
_NO_NAMES: list[str] = []


def _names(value: Any) -> list[str]:
    if value is None:
        return _NO_NAMES
    if isinstance(value, list):
        return [str(v) for v in value]
    return [p.strip() for p in str(value).split(",") if p.strip()]


class UserTaskBehaviour(EventsMixin):
    """User tasks (a part of the executor)."""

    def create_task(self, st: InstanceState, ei: EI) -> None:
        """A user task: create the task row (assigned by the organisation's rules) and wait."""
        node = ei.node
        assert node is not None
        ei.state = WAIT
        ctx: dict[str, Any] | None = None
        assignee = None
        users = groups = _NO_NAMES
        org = self.engine.organisation
        try:
            if org is not None and (node.assignee or node.cand_users or node.cand_groups):
                # org functions (superior, members, ...) under the variables (never mutate the
                # visible scope dict itself: it may be the instance's own variables)
                ctx = {**self.engine.org_feel_functions(), **self.context(ei)}
            if node.assignee is not None:
                ctx = ctx or self.context(ei)
                a = node.assignee.value(ctx)
                assignee = None if a is None else str(a)
            if node.cand_users is not None:
                ctx = ctx or self.context(ei)
                users = _names(node.cand_users.value(ctx))
            if node.cand_groups is not None:
                ctx = ctx or self.context(ei)
                groups = _names(node.cand_groups.value(ctx))
            extras = self.task_extras(ei) if node.task_opts else {}
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return
        tid = self.new_id(st)
        rec = TaskRecord(
            tid,
            st.id,
            st.root_id,
            st.definition_id,
            node.id,
            ei_text(ei.id),
            node.name,
            assignee,
            users,
            groups,
            self.now,
            st.seq,
            process_key=st.graph.key,
            lane=node.lane,
            description=node.work.get("doc"),
            claimed_at=self.now if assignee is not None else None,
            effort=float(node.work.get("effort", 1.0)),
            **extras,
        )
        ei.d()["task"] = tid
        st.dirty = True
        self.hist("task_create", st, node, ei, {"task_id": tid, "assignee": assignee})
        if org is not None:
            try:
                rec = self.engine.staff_task(cast("Executor", self), st, ei, rec)
            except LiuchengError as exc:
                self.incident(st, ei, "execute", exc)
                return
        self.cs.upsert("task", rec)

    def task_extras(self, ei: EI) -> dict[str, Any]:
        """Due date, follow-up date, priority and form key of a user task (``camunda:``/``zeebe:``
        options)."""
        node = ei.node
        assert node is not None
        ctx = self.context(ei)
        if self.engine.organisation is not None:
            ctx = {**self.engine.org_feel_functions(), **ctx}
        out: dict[str, Any] = {}
        for opt, key in (("dueDate", "due_at"), ("followUpDate", "follow_up_at")):
            expr = node.task_opts.get(opt)
            if expr is not None:
                value = expr.evaluate(ctx)
                if value is not None:
                    cal = node.work.get("calendar")
                    if cal is not None and _is_duration(value):
                        out[key] = self.engine.business_due(cal, self.now, value)
                    else:
                        out[key] = plan_timer("duration", value, self.now).due
        prio = node.task_opts.get("priority")
        if prio is not None:
            p = prio.value(ctx)
            try:
                out["priority"] = int(p)
            except (TypeError, ValueError):
                raise EngineError(
                    f"task priority {p!r} is not a number",
                    code="engine.task.priority",
                    element_id=node.id,
                ) from None
        form = node.task_opts.get("formKey")
        if form is not None:
            f = form.value(ctx)
            out["form_key"] = None if f is None else str(f)
        return out
