"""The user-task lifecycle and the task list: claim, unclaim, delegate, resolve, update, comments,
attachments, forms, and a task list query."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from liucheng.errors import EngineError, NotFoundError, ValidationError

from ._base import EngineBase
from ._exec import Executor
from ._forms import load_form, validate_form
from ._state import EI, InstanceState
from .ports import AttachmentRecord, CommentRecord, Page, TaskRecord

__all__ = ["TasksMixin"]

_SORT_KEYS = frozenset(
    {"created_at", "priority", "due_at", "follow_up_at", "name", "assignee", "process_key", "id"}
)


def _aware(when: _dt.datetime | None) -> _dt.datetime | None:
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


class TasksMixin(EngineBase):
    """User-task commands and queries (part of :class:`Engine`)."""

    # ------------------------------------------------------------------ helpers

    def _open_task(self, run: Executor, task_id: str) -> tuple[TaskRecord, InstanceState, EI]:
        row = run.cs.upserts.get("task", {}).get(task_id) or run.tx.get_row("task", task_id)
        if row is None or task_id in run.cs.deletes.get("task", ()):
            raise NotFoundError(f"task '{task_id}' is not open", code="engine.task.not_found")
        st = run.load(row.instance_id)
        return row, st, run.find_ei(st, row.element_instance_id)

    def _task_event(  # noqa: PLR0917 - private helper
        self,
        run: Executor,
        kind: str,
        row: TaskRecord,
        st: InstanceState,
        ei: EI,
        data: dict[str, Any],
        actor: str | None,
    ) -> None:
        run.hist(kind, st, ei.node, ei, {"task_id": row.id, **data}, actor=actor)

    def get_task(self, task_id: str) -> TaskRecord | None:
        """An open task by id (``None`` when it does not exist or has ended)."""
        return self._query(lambda tx: tx.get_row("task", task_id))  # type: ignore[attr-defined,no-any-return]

    # ------------------------------------------------------------------ lifecycle

    def claim(self, task_id: str, user: str, *, actor: str | None = None) -> None:
        """``user`` takes an unassigned task.

        Raises:
            EngineError: ``engine.task.claimed`` when someone else already holds it.
        """

        def cmd(run: Executor) -> None:
            row, st, ei = self._open_task(run, task_id)
            if row.assignee is not None and row.assignee != user:
                raise EngineError(
                    f"task '{task_id}' is already claimed by '{row.assignee}'",
                    code="engine.task.claimed",
                    hint="unclaim it first or ask its assignee to delegate it",
                )
            run.cs.upsert(
                "task",
                dataclasses.replace(row, assignee=user, claimed_at=run.now, updated_at=run.now),
            )
            self._task_event(run, "task_claim", row, st, ei, {"assignee": user}, actor or user)
            self._task_event(run, "task_assign", row, st, ei, {"assignee": user}, actor or user)

        self._command(cmd)

    def unclaim(self, task_id: str, *, actor: str | None = None) -> None:
        """Give a task back to its group queue (clears the assignee)."""

        def cmd(run: Executor) -> None:
            row, st, ei = self._open_task(run, task_id)
            run.cs.upsert(
                "task",
                dataclasses.replace(row, assignee=None, claimed_at=None, updated_at=run.now),
            )
            self._task_event(
                run, "task_unclaim", row, st, ei, {"previous": row.assignee}, actor or row.assignee
            )
            self._task_event(run, "task_assign", row, st, ei, {"assignee": None}, actor)

        self._command(cmd)

    def delegate(self, task_id: str, user: str, *, actor: str | None = None) -> None:
        """Hand a task to ``user`` for help; the current assignee stays its owner and gets it back
        when the delegate calls :meth:`resolve_task`."""

        def cmd(run: Executor) -> None:
            row, st, ei = self._open_task(run, task_id)
            owner = row.owner or row.assignee
            run.cs.upsert(
                "task",
                dataclasses.replace(
                    row,
                    owner=owner,
                    assignee=user,
                    delegation="pending",
                    claimed_at=run.now,
                    updated_at=run.now,
                ),
            )
            self._task_event(
                run, "task_delegate", row, st, ei, {"owner": owner, "assignee": user}, actor
            )
            self._task_event(run, "task_assign", row, st, ei, {"assignee": user}, actor)

        self._command(cmd)

    def resolve_task(
        self,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
    ) -> None:
        """The delegate hands a delegated task back to its owner (with variables set).

        Raises:
            EngineError: ``engine.task.not_delegated`` when the task is not delegated.
        """

        def cmd(run: Executor) -> None:
            row, st, ei = self._open_task(run, task_id)
            if row.delegation != "pending":
                raise EngineError(
                    f"task '{task_id}' is not delegated", code="engine.task.not_delegated"
                )
            if variables:
                for k, v in variables.items():
                    run.set_var(st, ei, k, v)
            run.cs.upsert(
                "task",
                dataclasses.replace(
                    row, assignee=row.owner, delegation="resolved", updated_at=run.now
                ),
            )
            self._task_event(
                run, "task_resolve", row, st, ei, {"owner": row.owner}, actor or row.assignee
            )
            self._task_event(run, "task_assign", row, st, ei, {"assignee": row.owner}, actor)

        self._command(cmd)

    def update_task(
        self,
        task_id: str,
        *,
        priority: int | None = None,
        due_at: _dt.datetime | None = None,
        follow_up_at: _dt.datetime | None = None,
        name: str | None = None,
        description: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Change a task's priority, due date, follow-up date, name or description."""
        changes: dict[str, Any] = {
            k: v
            for k, v in {
                "priority": priority,
                "due_at": _aware(due_at),
                "follow_up_at": _aware(follow_up_at),
                "name": name,
                "description": description,
            }.items()
            if v is not None
        }

        def cmd(run: Executor) -> None:
            row, st, ei = self._open_task(run, task_id)
            run.cs.upsert("task", dataclasses.replace(row, updated_at=run.now, **changes))
            shown = {
                k: v.isoformat() if isinstance(v, _dt.datetime) else v for k, v in changes.items()
            }
            self._task_event(run, "task_update", row, st, ei, shown, actor)

        self._command(cmd)

    # ------------------------------------------------------------------ comments, attachments

    def add_comment(self, task_id: str, message: str, *, author: str | None = None) -> str:
        """Comment on an open task; returns the comment id."""
        if not message.strip():
            raise ValidationError("a comment needs text", code="engine.comment.empty")

        def cmd(run: Executor) -> str:
            row, st, ei = self._open_task(run, task_id)
            cid = run.new_id(st)
            run.cs.upsert(
                "comment", CommentRecord(cid, row.id, st.id, author, message, run.now, st.seq)
            )
            st.dirty = True
            self._task_event(run, "task_comment", row, st, ei, {"comment_id": cid}, author)
            return cid

        return self._command(cmd)

    def comments(self, task_id: str) -> list[CommentRecord]:
        """The comments of a task (also after it ended), oldest first."""
        return self._query(  # type: ignore[attr-defined,no-any-return]
            lambda tx: tx.find_rows("comment", {"task_id": task_id}, order_by=("created_at", "seq"))
        )

    def add_attachment(
        self,
        task_id: str,
        name: str,
        *,
        content: bytes | None = None,
        url: str | None = None,
        content_type: str | None = None,
        description: str | None = None,
        author: str | None = None,
    ) -> str:
        """Attach a file (``content``) or a link (``url``) to an open task; returns its id."""
        if (content is None) == (url is None):
            raise ValidationError(
                "an attachment has either content or a url", code="engine.attachment.invalid"
            )

        def cmd(run: Executor) -> str:
            row, st, ei = self._open_task(run, task_id)
            aid = run.new_id(st)
            run.cs.upsert(
                "attachment",
                AttachmentRecord(
                    aid,
                    row.id,
                    st.id,
                    author,
                    name,
                    content_type,
                    url,
                    content,
                    description,
                    run.now,
                    st.seq,
                ),
            )
            st.dirty = True
            self._task_event(
                run, "task_attachment", row, st, ei, {"attachment_id": aid, "name": name}, author
            )
            return aid

        return self._command(cmd)

    def attachments(self, task_id: str) -> list[AttachmentRecord]:
        """The attachments of a task (also after it ended), oldest first."""
        return self._query(  # type: ignore[attr-defined,no-any-return]
            lambda tx: tx.find_rows(
                "attachment", {"task_id": task_id}, order_by=("created_at", "seq")
            )
        )

    # ------------------------------------------------------------------ forms

    def register_form(self, key: str, schema: Mapping[str, Any] | str) -> None:
        """Register a form schema (form-js or JSON Schema) under a form key, in code."""
        self.forms[key] = load_form(schema, name=key)

    def _resolve_form(self, run: Executor, row: TaskRecord) -> dict[str, Any] | None:
        key = row.form_key
        graph = self.graph(row.definition_id, run.tx)
        node = graph.nodes.get(row.element_id)
        inline = node.work.get("form") if node is not None else None
        if key is None and inline is None:
            return None
        if key is None:
            key = str(inline)
        if key in self.forms:
            return dict(self.forms[key])
        text: str | bytes | None = None
        for prefix in ("camunda-forms:bpmn:", "bpmn:"):
            if key.startswith(prefix):
                text = graph.forms.get(key[len(prefix) :])
        if key.lstrip().startswith("{"):
            text = key
        if text is None:
            rec = run.tx.get_definition(row.definition_id)
            dep = run.tx.get_deployment(rec.deployment_id) if rec is not None else None
            resources = dep.resources if dep is not None else {}
            name = key
            for prefix in (
                "camunda-forms:deployment:",
                "embedded:deployment:",
                "deployment:",
                "camunda-forms:app:",
                "embedded:app:",
                "app:",
            ):
                if name.startswith(prefix):
                    name = name[len(prefix) :]
            if name.startswith("formId:"):
                return self._form_by_id(run, name[len("formId:") :], resources)
            text = resources.get(name)
            if text is None:
                text = next((d for r, d in resources.items() if r.rsplit("/", 1)[-1] == name), None)
        if text is None:
            if key in graph.forms:
                text = graph.forms[key]
            else:
                # An external form (e.g. an app URL): nothing the engine can check.
                return None
        return load_form(text, name=key)

    @staticmethod
    def _form_by_id(
        run: Executor, wanted: str, resources: Mapping[str, bytes]
    ) -> dict[str, Any] | None:
        """The ``.form`` whose ``id`` is ``wanted``: in the task's own deployment, else its latest
        deployed version (Camunda's ``formRef`` binding ``latest``)."""

        def search(found: Mapping[str, bytes]) -> dict[str, Any] | None:
            for rname, data in found.items():
                if rname.endswith(".form"):
                    doc = load_form(data, name=rname)
                    if doc.get("id") == wanted:
                        return doc
            return None

        doc = search(resources)
        if doc is not None:
            return doc
        latest = run.tx.latest_definition(wanted, "form")
        dep = run.tx.get_deployment(latest.deployment_id) if latest is not None else None
        if latest is not None and dep is not None and latest.resource_name in dep.resources:
            return load_form(dep.resources[latest.resource_name], name=latest.resource_name)
        raise ValidationError(
            f"form '{wanted}' is not deployed",
            code="engine.form.not_found",
            hint='deploy the .form file (its "id" is the form id)',
        )

    def task_form(self, task_id: str) -> dict[str, Any] | None:
        """The form schema of an open task (form-js or JSON Schema), or ``None``."""

        def cmd(run: Executor) -> dict[str, Any] | None:
            row, _, _ = self._open_task(run, task_id)
            return self._resolve_form(run, row)

        return self._command(cmd)

    def _check_form(
        self, run: Executor, row: TaskRecord, variables: Mapping[str, Any] | None
    ) -> None:
        """Refuse a completion whose variables do not satisfy the task's form."""
        schema = self._resolve_form(run, row)
        if schema is not None:
            validate_form(schema, dict(variables or {}), task_id=row.id)

    # ------------------------------------------------------------------ task list

    def task_list(
        self,
        *,
        user: str | None = None,
        groups: Iterable[str] | None = None,
        mine: bool = False,
        candidate: bool = False,
        unassigned: bool = False,
        assignee: str | None = None,
        overdue: bool = False,
        follow_up_due: bool = False,
        process: str | None = None,
        instance_id: str | None = None,
        element_id: str | None = None,
        min_priority: int | None = None,
        max_priority: int | None = None,
        due_before: _dt.datetime | None = None,
        name_like: str | None = None,
        sort: Sequence[str] | str = ("created_at",),
        page: Page | None = None,
    ) -> list[TaskRecord]:
        """Open tasks for a task list.

        Args:
            user: The person the list is for (``mine``/``candidate`` refer to them).
            groups: The user's groups (default: their groups and roles in the organisation).
            mine: Only tasks assigned to ``user``.
            candidate: Only tasks ``user`` may claim: unassigned, and ``user`` is a candidate
                user or in a candidate group or the task's role ("my groups' tasks").
            unassigned: Only tasks nobody holds.
            assignee: Only tasks of this assignee.
            overdue: Only tasks whose due date is past (engine clock).
            follow_up_due: Only tasks whose follow-up date is past.
            process: Only tasks of this process key.
            instance_id: Only tasks of this process instance (or called instances below it).
            element_id: Only tasks of this activity.
            min_priority, max_priority: Priority range (inclusive).
            due_before: Only tasks due before this instant.
            name_like: Substring of the task name (case-insensitive).
            sort: Attribute names, ``-`` for descending (``"-priority"``, ``"due_at"``);
                missing values sort last. Default: creation order.
            page: Offset and limit, applied after sorting.
        """
        if (mine or candidate) and user is None:
            raise ValidationError("'mine' and 'candidate' need a user", code="engine.tasklist.user")
        keys = [sort] if isinstance(sort, str) else list(sort)
        for k in keys:
            if k.lstrip("-") not in _SORT_KEYS:
                raise ValidationError(
                    f"cannot sort tasks by '{k}'",
                    code="engine.tasklist.sort",
                    hint="sort by " + ", ".join(sorted(_SORT_KEYS)),
                )
        member_of = set(groups) if groups is not None else self._groups_of(user)
        now = self.clock.now()
        filters: dict[str, Any] = {}
        if process is not None:
            filters["process_key"] = process
        if element_id is not None:
            filters["element_id"] = element_id
        if assignee is not None or mine:
            filters["assignee"] = assignee if assignee is not None else user
        rows: list[TaskRecord] = self._query(  # type: ignore[attr-defined]
            lambda tx: tx.find_rows("task", filters, order_by=("created_at", "seq"))
        )
        due_limit = _aware(due_before)
        out: list[TaskRecord] = []
        for r in rows:
            if instance_id is not None and instance_id not in (r.instance_id, r.root_id):
                continue
            if unassigned and r.assignee is not None:
                continue
            if candidate and (r.assignee is not None or not self._is_candidate(r, user, member_of)):
                continue
            if overdue and (r.due_at is None or r.due_at > now):
                continue
            if follow_up_due and (r.follow_up_at is None or r.follow_up_at > now):
                continue
            if min_priority is not None and r.priority < min_priority:
                continue
            if max_priority is not None and r.priority > max_priority:
                continue
            if due_limit is not None and (r.due_at is None or r.due_at >= due_limit):
                continue
            if name_like is not None and name_like.lower() not in (r.name or "").lower():
                continue
            out.append(r)
        for k in reversed(keys):
            attr = k.lstrip("-")
            desc = k.startswith("-")
            present = [r for r in out if getattr(r, attr) is not None]
            missing = [r for r in out if getattr(r, attr) is None]
            present.sort(key=lambda r: getattr(r, attr), reverse=desc)
            out = present + missing
        if page is not None:
            end = None if page.limit is None else page.offset + page.limit
            out = out[page.offset : end]
        return out

    def _groups_of(self, user: str | None) -> set[str]:
        org = self.organisation
        if user is None or org is None or user not in org.people:
            return set()
        person = org.people[user]
        return {*person.groups, *person.roles}

    @staticmethod
    def _is_candidate(row: TaskRecord, user: str | None, groups: set[str]) -> bool:
        if user is not None and user in row.candidate_users:
            return True
        if groups.intersection(row.candidate_groups):
            return True
        return row.role is not None and row.role in groups
