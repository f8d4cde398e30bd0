"""What the engine needs from a store: records, a change set per command, and the store protocol.

The engine keeps the state of one process instance as one compact JSON-ready document (the tree of
element instances with their local variables) plus a revision number. Everything other parts must
find without loading instances - user tasks, jobs, event subscriptions, external tasks, incidents,
process-level variables - lives in *index rows* that the engine creates, updates and deletes as it
runs. A command collects every write into one :class:`ChangeSet` and hands it to
:meth:`Transaction.apply` once, so a SQL store can write it with a handful of ``executemany``
statements, and a failed command writes nothing.

Only additions are made to this module from now on (no renames), so store implementations stay
valid.

Filters the engine uses on index rows (worth an index in a SQL store): ``task`` by
``instance_id``, ``root_id``, ``element_id``; ``job`` by ``instance_id``, ``root_id``,
``instance_id=None`` (start timers), and :meth:`Transaction.due_jobs` by ``due_at``;
``subscription`` by ``kind`` + ``name`` (+ ``correlation_key``), ``instance_id`` (also ``None``
for start events); ``external_task`` by ``topic``, ``instance_id``; ``incident`` by
``instance_id``, ``root_id``, ``job_id``, ``external_task_id``; ``message`` by ``name`` (+
``correlation_key``); ``variable`` by ``name`` + ``value`` (JSON equality). A filter value
``None`` means ``IS NULL``; a list or tuple means ``IN``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ._records import (
    INDEX_KINDS,
    REVISIONED_KINDS,
    AssignmentCursorRecord,
    AttachmentRecord,
    BufferedMessage,
    CommentRecord,
    DefinitionRecord,
    DeploymentRecord,
    ExternalTaskRecord,
    HistoryEvent,
    IncidentRecord,
    InstanceRecord,
    JobRecord,
    OrgRevisionRecord,
    SlaClockRecord,
    SubscriptionRecord,
    TaskRecord,
    VariableRecord,
)

__all__ = [
    "INDEX_KINDS",
    "REVISIONED_KINDS",
    "AssignmentCursorRecord",
    "AttachmentRecord",
    "BufferedMessage",
    "ChangeSet",
    "Clock",
    "CommentRecord",
    "DefinitionRecord",
    "DeploymentRecord",
    "ExternalTaskRecord",
    "HistoryEvent",
    "IncidentRecord",
    "InstanceRecord",
    "JobRecord",
    "ManualClock",
    "OrgRevisionRecord",
    "OrgStore",
    "Page",
    "SlaClockRecord",
    "Store",
    "SubscriptionRecord",
    "SystemClock",
    "TaskRecord",
    "Transaction",
    "VariableRecord",
]


# --------------------------------------------------------------------------------------- clock


@runtime_checkable
class Clock(Protocol):
    """Where the engine gets the time from (always timezone-aware UTC)."""

    def now(self) -> _dt.datetime:
        """The current time."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> _dt.datetime:
        """The current UTC time."""
        return _dt.datetime.now(_dt.UTC)


class ManualClock:
    """A clock that only moves when told to (tests, simulation).

    Args:
        start: The initial time; naive values are taken as UTC.
    """

    def __init__(self, start: _dt.datetime | None = None) -> None:
        start = start or _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)
        if start.tzinfo is None:
            start = start.replace(tzinfo=_dt.UTC)
        self._now = start

    def now(self) -> _dt.datetime:
        """The current (manual) time."""
        return self._now

    def advance(self, delta: _dt.timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now = self._now + delta

    def set(self, when: _dt.datetime) -> None:
        """Move the clock to ``when``."""
        self._now = when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


IndexKind = Literal[
    "task",
    "job",
    "subscription",
    "external_task",
    "incident",
    "variable",
    "message",
    "comment",
    "attachment",
    "sla_clock",
    "assignment_cursor",
]


@dataclass(slots=True)
class ChangeSet:
    """Every write of one command, applied atomically by :meth:`Transaction.apply`.

    Attributes:
        instances_insert: New instances (revision 1).
        instances_update: Changed instances with the revision they were loaded at
            (``expected_revision``); the store writes ``revision = expected + 1`` and raises
            :class:`~liucheng.errors.ConcurrencyError` if the stored revision differs.
        instances_delete: Ended instances to remove from the runtime table, with expected
            revision (0 when inserted and ended within the same command: nothing to delete).
        upserts: Index rows created or changed, per kind (see :data:`INDEX_KINDS`), by id.
        deletes: Ids of index rows removed, per kind.
        history: History events to append, in order.
    """

    instances_insert: list[InstanceRecord] = field(default_factory=list)
    instances_update: list[tuple[InstanceRecord, int]] = field(default_factory=list)
    instances_delete: list[tuple[str, int]] = field(default_factory=list)
    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    deletes: dict[str, set[str]] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)

    def upsert(self, kind: str, record: Any) -> None:
        """Record a created or changed index row."""
        rows = self.upserts.get(kind)
        if rows is None:
            rows = self.upserts[kind] = {}
        rows[record.id] = record
        gone = self.deletes.get(kind)
        if gone is not None:
            gone.discard(record.id)

    def delete(self, kind: str, row_id: str) -> None:
        """Record a removed index row (dropping a pending upsert of the same row).

        Upserts and deletes of one change set never share an id, so a store may apply them in
        any order; deleting a row that does not exist is not an error.
        """
        rows = self.upserts.get(kind)
        if rows is not None:
            rows.pop(row_id, None)
        gone = self.deletes.get(kind)
        if gone is None:
            gone = self.deletes[kind] = set()
        gone.add(row_id)

    def is_empty(self) -> bool:
        """Whether there is nothing to write."""
        return not (
            self.instances_insert
            or self.instances_update
            or self.instances_delete
            or any(self.upserts.values())
            or any(self.deletes.values())
            or self.history
        )


@dataclass(slots=True)
class Page:
    """Paging for queries.

    Attributes:
        offset: Rows to skip.
        limit: Maximum rows to return (None: all).
    """

    offset: int = 0
    limit: int | None = None


# ------------------------------------------------------------------------------------ protocol


class Transaction(Protocol):
    """One unit of work against the store; reads see the committed state plus nothing else.

    Writes happen only through :meth:`add_deployment` and :meth:`apply`. When the ``with``
    block of :meth:`Store.transaction` raises, nothing is written.
    """

    # -- definitions
    def add_deployment(
        self, deployment: DeploymentRecord, definitions: Sequence[DefinitionRecord]
    ) -> None:
        """Store a deployment and the definition versions it brings."""
        ...

    def get_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        """A deployment (with its resources) by id."""
        ...

    def get_definition(self, definition_id: str) -> DefinitionRecord | None:
        """A definition version by id."""
        ...

    def latest_definition(self, key: str, kind: str = "bpmn") -> DefinitionRecord | None:
        """The highest version of ``key``."""
        ...

    def definition_by_version(
        self, key: str, version: int, kind: str = "bpmn"
    ) -> DefinitionRecord | None:
        """Version ``version`` of ``key``."""
        ...

    def list_definitions(
        self, key: str | None = None, kind: str | None = None
    ) -> list[DefinitionRecord]:
        """Definitions, optionally of one key and kind, ordered by key then version."""
        ...

    # -- instances
    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """A live instance by id (with its revision and state document)."""
        ...

    def find_instances(
        self,
        *,
        key: str | None = None,
        definition_id: str | None = None,
        business_key: str | None = None,
        parent_id: str | None = None,
        root_id: str | None = None,
        page: Page | None = None,
    ) -> list[InstanceRecord]:
        """Live instances matching every filter given, oldest first."""
        ...

    # -- index rows
    def get_row(self, kind: str, row_id: str) -> Any | None:
        """One index row of ``kind`` (see :data:`INDEX_KINDS`) by id."""
        ...

    def find_rows(
        self,
        kind: str,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
        order_by: Sequence[str] = (),
    ) -> list[Any]:
        """Index rows of ``kind`` whose attributes equal every filter value.

        A filter value that is a ``list`` or ``tuple`` matches any of its members. Rows come in
        ``order_by`` order (attribute names; default: creation order).
        """
        ...

    def due_jobs(self, now: _dt.datetime, *, limit: int | None = None) -> list[JobRecord]:
        """Jobs due at ``now`` with retries left and no live lock, earliest first."""
        ...

    def apply(self, changes: ChangeSet) -> None:
        """Write a change set atomically, checking instance revisions.

        Raises:
            ConcurrencyError: An instance's stored revision is not the expected one.
        """
        ...

    # -- history
    def find_history(
        self,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
    ) -> list[HistoryEvent]:
        """History events whose attributes equal every filter value, in append order."""
        ...


class Store(Protocol):
    """A place where deployments, instances, index rows and history live.

    Optional: a store whose class sets ``cache_instance_states = True`` lets the engine start a
    command from the instance document it wrote last instead of ``get_instance`` (the store
    must refuse a stale revision in :meth:`Transaction.apply`); its transactions may offer
    ``known_instance(rec)``, told of each instance so taken as if it had been read.
    """

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Begin a unit of work; commit on normal exit, roll back on an exception."""
        ...


@runtime_checkable
class OrgStore(Protocol):
    """A store that keeps the organisation, one JSON document per revision (optional port).

    ``MemoryStore`` and ``liucheng.store.SqlStore`` implement it; an engine on such a store uses
    the newest revision when no organisation is set on the engine itself.
    """

    def org_revision(self) -> int:
        """The newest stored revision number (0: none stored); one cheap indexed read."""
        ...

    def load_org(self, revision: int | None = None) -> OrgRevisionRecord | None:
        """A stored revision (default: the newest), or ``None`` when there is none."""
        ...

    def save_org(self, record: OrgRevisionRecord) -> None:
        """Store ``record`` as the next revision.

        Raises:
            ConcurrencyError: ``record.revision`` is not the newest stored revision plus one
                (someone stored another revision meanwhile); nothing is written.
        """
        ...

    def org_revisions(self) -> list[OrgRevisionRecord]:
        """Every stored revision, oldest first (``doc`` left empty: use :meth:`load_org`)."""
        ...


def iter_rows(changes: ChangeSet, kind: str) -> Iterator[Any]:
    """The upserted rows of one kind in a change set (helper for stores)."""
    yield from changes.upserts.get(kind, {}).values()
