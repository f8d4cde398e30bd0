"""Engine queries: definitions, instances, element instances, tasks, jobs, incidents, history."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from liucheng.errors import (
    NotFoundError,
)

from ._api import (
    ActivityInstance,
)
from ._base import EngineBase
from ._retry import in_transaction
from ._state import FAILED, WAIT
from .ports import (
    DefinitionRecord,
    ExternalTaskRecord,
    HistoryEvent,
    IncidentRecord,
    InstanceRecord,
    JobRecord,
    Page,
    SubscriptionRecord,
    TaskRecord,
    Transaction,
)

__all__ = ["QueriesMixin"]

T = TypeVar("T")


class _Statements:
    """A store's ``statement_transaction`` where :func:`in_transaction` asks for a store."""

    __slots__ = ("transaction",)

    def __init__(self, begin: Callable[[], AbstractContextManager[Transaction]]) -> None:
        self.transaction = begin


class QueriesMixin(EngineBase):
    """Read-only queries (part of :class:`Engine`)."""

    # ================================================================== queries

    def _read(self, fn: Callable[[Transaction], T]) -> T:
        # A store may offer a cheaper transaction for reads only (the SQL store: a snapshot
        # beside the writers' group commit); queries never write, so a read that found its
        # pooled connection dead runs again.
        return in_transaction(self.store, fn, read=True)

    def _query(self, fn: Callable[[Transaction], T]) -> T:
        # ``fn`` reads with one statement, a snapshot by itself: a store may run it without a
        # transaction (the SQL store's statement_transaction: no BEGIN and COMMIT).
        statements = self._statements
        if statements is None:
            begin = getattr(self.store, "statement_transaction", None)
            statements = self._statements = _Statements(begin) if begin else self.store
        return in_transaction(statements, fn, read=True)

    def definitions(self, key: str | None = None) -> list[DefinitionRecord]:
        """Deployed definition versions (optionally of one key)."""
        return self._query(lambda tx: tx.list_definitions(key))

    def instances(self, *, page: Page | None = None, **filters: Any) -> list[InstanceRecord]:
        """Live process instances.

        Filters: ``key``, ``definition_id``, ``business_key``, ``parent_id``, ``root_id``.
        """
        return self._query(lambda tx: tx.find_instances(page=page, **filters))

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """A live process instance, or ``None`` when it does not exist or has ended."""
        return self._query(lambda tx: tx.get_instance(instance_id))

    def is_ended(self, instance_id: str) -> bool:
        """Whether the instance has ended (it is no longer live)."""
        return self.get_instance(instance_id) is None

    def activity_instances(self, instance_id: str) -> list[ActivityInstance]:
        """The live element instances of a process instance (in creation order)."""
        rec = self.get_instance(instance_id)
        if rec is None:
            return []
        graph = self.graph(rec.definition_id)
        out: list[ActivityInstance] = []
        for eid, nid, pid, state, mib, v, data in rec.doc["eis"]:
            node = graph.nodes[nid]
            out.append(
                ActivityInstance(
                    str(eid),
                    instance_id,
                    nid,
                    node.type,
                    state,
                    str(pid),
                    bool(mib),
                    bool(mib) or node.is_scope or node.kind == "call",
                    dict(v or {}),
                    bool(data and "inc" in data),
                )
            )
        return out

    def active_elements(self, instance_id: str, *, include_called: bool = True) -> list[str]:
        """Element ids of the waiting leaf activities (tasks, catch events, waiting throws).

        Scopes around them, tokens waiting at joins and asynchronous continuations are left out;
        with ``include_called``, the called instances' active elements are included.
        """
        rec = self.get_instance(instance_id)
        if rec is None:
            return []
        ids = [rec.id]
        if include_called:
            ids += [r.id for r in self.instances(root_id=rec.root_id) if r.id != rec.id]
        out: list[str] = []
        for iid in ids:
            for a in self.activity_instances(iid):
                if a.is_scope or (a.state not in (WAIT, FAILED) and not a.has_incident):
                    continue
                out.append(a.element_id)
        return out

    def variables(self, instance_id: str) -> dict[str, Any]:
        """The process-level variables of a live instance."""
        rec = self.get_instance(instance_id)
        if rec is None:
            raise NotFoundError(
                f"process instance '{instance_id}' does not exist or has ended",
                code="engine.instance.not_found",
            )
        return dict(rec.doc.get("vars") or {})

    def instances_with_variable(
        self, name: str, value: Any, *, page: Page | None = None
    ) -> list[str]:
        """Ids of live instances whose process-level variable ``name`` equals ``value``."""
        rows = self._query(
            lambda tx: tx.find_rows("variable", {"name": name, "value": value}, page=page)
        )
        return [r.instance_id for r in rows]

    def tasks(self, *, page: Page | None = None, **filters: Any) -> list[TaskRecord]:
        """Open user tasks (filters: any :class:`TaskRecord` attribute), oldest first."""
        return self._query(
            lambda tx: tx.find_rows("task", filters, page=page, order_by=("created_at", "seq"))
        )

    def jobs(self, *, page: Page | None = None, **filters: Any) -> list[JobRecord]:
        """Jobs (filters: any :class:`JobRecord` attribute)."""
        return self._query(lambda tx: tx.find_rows("job", filters, page=page))

    def incidents(self, *, page: Page | None = None, **filters: Any) -> list[IncidentRecord]:
        """Open incidents (filters: any :class:`IncidentRecord` attribute)."""
        return self._query(lambda tx: tx.find_rows("incident", filters, page=page))

    def external_tasks(
        self, *, page: Page | None = None, **filters: Any
    ) -> list[ExternalTaskRecord]:
        """Open external tasks (filters: any :class:`ExternalTaskRecord` attribute)."""
        return self._query(
            lambda tx: tx.find_rows(
                "external_task", filters, page=page, order_by=("created_at", "seq")
            )
        )

    def subscriptions(
        self, *, page: Page | None = None, **filters: Any
    ) -> list[SubscriptionRecord]:
        """Open message/signal subscriptions."""
        return self._query(lambda tx: tx.find_rows("subscription", filters, page=page))

    def history(self, *, page: Page | None = None, **filters: Any) -> list[HistoryEvent]:
        """History events (filters: any :class:`HistoryEvent` attribute), in append order."""
        return self._query(lambda tx: tx.find_history(filters or None, page=page))
