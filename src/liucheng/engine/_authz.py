"""Authorisation in the Python API: :meth:`Engine.as_user` returns a :class:`UserView` whose
methods check the engine's ``AuthorizationPolicy`` before they act.

A refused attempt raises :class:`~liucheng.errors.AuthorizationError` and is recorded: a history
event ``authorization_refused`` (actor = the user, data = the decision) written in its own
transaction, so the record stays even though the command did not run.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from liucheng.errors import AuthorizationError, NotFoundError

from ._api import Deployment
from ._base import EngineBase, Source
from ._exec import Executor
from .ports import HistoryEvent, Page, TaskRecord

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["AuthzMixin", "UserView"]


class AuthzMixin(EngineBase):
    """The entry point of authorised use (part of :class:`Engine`)."""

    def as_user(self, user: str, *, groups: Iterable[str] = ()) -> UserView:
        """A view of the engine acting as ``user`` (groups and roles from the organisation,
        plus ``groups``); every method checks the authorisation policy."""
        return UserView(self, user, tuple(groups))  # type: ignore[arg-type]

    def record_refusal(
        self,
        user: str,
        details: Mapping[str, Any],
        *,
        instance_id: str | None = None,
        definition_id: str | None = None,
        element_id: str | None = None,
    ) -> None:
        """Append an ``authorization_refused`` history event in its own transaction."""
        event = HistoryEvent(
            "authorization_refused",
            self.clock.now(),
            instance_id,
            definition_id,
            element_id,
            None,
            None,
            user,
            dict(details),
            1,
        )

        def cmd(run: Executor) -> None:
            run.cs.history.append(event)

        self._command(cmd)


class UserView:
    """The engine as seen by one user (see :meth:`Engine.as_user`).

    Attributes:
        engine: The engine.
        user: The acting user id.
    """

    def __init__(self, engine: Engine, user: str, groups: tuple[str, ...] = ()) -> None:
        from liucheng.org import AuthorizationPolicy, principal_for

        self.engine = engine
        self.user = user
        self.principal = principal_for(engine.organisation, user, groups)
        self.policy = engine.authorization or AuthorizationPolicy()

    # ------------------------------------------------------------------ checks

    def _require(
        self,
        action: str,
        resource: Any,
        *,
        task: TaskRecord | None = None,
        instance_id: str | None = None,
    ) -> None:
        decision = self.policy.authorize(self.principal, action, resource)
        if decision.allowed:
            return
        details = decision.to_dict()
        self.engine.record_refusal(
            self.user,
            details,
            instance_id=task.instance_id if task is not None else instance_id,
            definition_id=task.definition_id if task is not None else None,
            element_id=task.element_id if task is not None else None,
        )
        raise AuthorizationError(
            f"{self.user} may not {decision.action} {decision.resource}: {decision.reason}",
            code="auth.forbidden",
            hint="ask an administrator for a grant",
            details=details,
        )

    def _resource(self, task: TaskRecord) -> Any:
        from liucheng.org import TaskResource

        users = list(task.candidate_users)
        org = self.engine.organisation
        if task.role is not None and org is not None:
            users += [p for p in org.members(task.role) if p not in users]
        return TaskResource(
            task.id, task.process_key, task.assignee, tuple(users), tuple(task.candidate_groups)
        )

    def _task(self, task_id: str, action: str) -> TaskRecord:
        task = self.engine.get_task(task_id)
        if task is None:
            raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
        self._require(action, self._resource(task), task=task)
        return task

    def may(self, action: str, resource: Any) -> bool:
        """Whether the user may do ``action`` on ``resource`` (a name or a task), unrecorded."""
        if isinstance(resource, TaskRecord):
            resource = self._resource(resource)
        return bool(self.policy.authorize(self.principal, action, resource).allowed)

    # ------------------------------------------------------------------ processes

    def start_process(
        self,
        key: str,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        *,
        version: int | None = None,
        version_tag: str | None = None,
    ) -> str:
        """Start ``key`` (needs ``process.start`` on ``process:<key>``); the user is the
        initiator (variable ``initiator`` unless given). ``version`` or ``version_tag``
        choose the definition version as in :meth:`Engine.start_process`."""
        self._require("process.start", f"process:{key}")
        values = {"initiator": self.user, **dict(variables or {})}
        return self.engine.start_process(
            key, values, business_key, version=version, version_tag=version_tag
        )

    def deploy(self, *sources: Source | Iterable[Source], name: str | None = None) -> Deployment:
        """Deploy (needs ``definitions.admin`` on ``definition:<key>`` of every process)."""
        from ._engine import _flatten, _is_dmn, _is_form, _read_source

        keys: list[str] = []
        for i, src in enumerate(_flatten(sources)):
            rname, data = _read_source(src, i)
            if _is_form(rname, data):
                continue
            if _is_dmn(rname, data):
                keys.append("*")
                continue
            from liucheng.model import parse_bpmn

            keys += [p.id for p in parse_bpmn(data, filename=rname).processes if p.id]
        for key in dict.fromkeys(keys or ["*"]):
            self._require("definitions.admin", f"definition:{key}")
        return self.engine.deploy(*sources, name=name)

    def cancel_instance(self, instance_id: str) -> None:
        """Cancel an instance (needs ``definitions.admin`` on its process definition)."""
        rec = self.engine.get_instance(instance_id)
        if rec is None:
            raise NotFoundError(
                f"process instance '{instance_id}' does not exist or has ended",
                code="engine.instance.not_found",
            )
        self._require("definitions.admin", f"definition:{rec.key}", instance_id=instance_id)
        self.engine.cancel_instance(instance_id)

    # ------------------------------------------------------------------ tasks

    def tasks(self, *, page: Page | None = None, **filters: Any) -> list[TaskRecord]:
        """Open tasks the user may see (others are left out, not refused)."""
        rows = [t for t in self.engine.tasks(**filters) if self.may("task.see", t)]
        if page is not None:
            end = None if page.limit is None else page.offset + page.limit
            rows = rows[page.offset : end]
        return rows

    def task_list(self, *, page: Page | None = None, **query: Any) -> list[TaskRecord]:
        """:meth:`Engine.task_list` for this user, restricted to tasks they may see."""
        query.setdefault("user", self.user)
        rows = [t for t in self.engine.task_list(**query) if self.may("task.see", t)]
        if page is not None:
            end = None if page.limit is None else page.offset + page.limit
            rows = rows[page.offset : end]
        return rows

    def get_task(self, task_id: str) -> TaskRecord:
        """An open task (needs ``task.see``: assignee, candidates, or a grant)."""
        return self._task(task_id, "task.see")

    def task_form(self, task_id: str) -> dict[str, Any] | None:
        """The task's form (needs ``task.see``)."""
        self._task(task_id, "task.see")
        return self.engine.task_form(task_id)

    def claim(self, task_id: str) -> None:
        """Claim an unassigned task (needs ``task.claim``: a candidate)."""
        self._task(task_id, "task.claim")
        self.engine.claim(task_id, self.user, actor=self.user)

    def unclaim(self, task_id: str) -> None:
        """Give the task back to the queue (needs ``task.work``)."""
        self._task(task_id, "task.work")
        self.engine.unclaim(task_id, actor=self.user)

    def complete_task(self, task_id: str, variables: Mapping[str, Any] | None = None) -> None:
        """Complete a task (needs ``task.work``: the assignee)."""
        self._task(task_id, "task.work")
        self.engine.complete_task(task_id, variables, actor=self.user)

    def delegate(self, task_id: str, to: str) -> None:
        """Delegate a task (needs ``task.work``)."""
        self._task(task_id, "task.work")
        self.engine.delegate(task_id, to, actor=self.user)

    def resolve_task(self, task_id: str, variables: Mapping[str, Any] | None = None) -> None:
        """Hand a delegated task back (needs ``task.work``: the delegate)."""
        self._task(task_id, "task.work")
        self.engine.resolve_task(task_id, variables, actor=self.user)

    def update_task(self, task_id: str, **changes: Any) -> None:
        """Change priority, dates, name or description (needs ``task.work``)."""
        self._task(task_id, "task.work")
        self.engine.update_task(task_id, actor=self.user, **changes)

    def add_comment(self, task_id: str, message: str) -> str:
        """Comment on a task (needs ``task.work``)."""
        self._task(task_id, "task.work")
        return self.engine.add_comment(task_id, message, author=self.user)

    def comments(self, task_id: str) -> list[Any]:
        """A task's comments (needs ``task.see``)."""
        self._task(task_id, "task.see")
        return self.engine.comments(task_id)

    def add_attachment(self, task_id: str, name: str, **kwargs: Any) -> str:
        """Attach a file or link (needs ``task.work``)."""
        self._task(task_id, "task.work")
        return self.engine.add_attachment(task_id, name, author=self.user, **kwargs)

    def attachments(self, task_id: str) -> list[Any]:
        """A task's attachments (needs ``task.see``)."""
        self._task(task_id, "task.see")
        return self.engine.attachments(task_id)

    # ------------------------------------------------------------------ organisation

    def set_organisation(self, organisation: Any, *, rebalance: bool = False) -> list[Any]:
        """Swap the organisation (needs ``org.admin`` on ``org``)."""
        self._require("org.admin", "org")
        return self.engine.set_organisation(organisation, rebalance=rebalance)

    def rebalance(self, person: str | None = None) -> list[Any]:
        """Re-balance open work (needs ``org.admin`` on ``org``)."""
        self._require("org.admin", "org")
        return self.engine.rebalance(person, actor=self.user)

    def history(self, instance_id: str, *, page: Page | None = None) -> list[HistoryEvent]:
        """The history of an instance (needs ``history.read`` on ``history:<process key>``)."""
        key = next(
            (
                (e.data or {}).get("key")
                for e in self.engine.history(instance_id=instance_id, kind="process_start")
            ),
            None,
        )
        self._require("history.read", f"history:{key or '*'}", instance_id=instance_id)
        return self.engine.history(instance_id=instance_id, page=page)

    def now(self) -> _dt.datetime:
        """The engine's clock."""
        return self.engine.clock.now()
