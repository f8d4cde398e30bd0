"""An in-memory store implementing :mod:`liucheng.engine.ports` (tests, simulation, embedding).

Writes happen only in :meth:`MemoryTransaction.apply` (and :meth:`add_deployment`), after every
revision check passed, so a failed command leaves the store exactly as it was. Instance documents
are kept as the engine handed them over; the engine never mutates a document after handing it
over and rebuilds its own objects when loading, so no copies are needed here.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from liucheng.errors import ConcurrencyError

from .ports import (
    INDEX_KINDS,
    REVISIONED_KINDS,
    ChangeSet,
    DefinitionRecord,
    DeploymentRecord,
    HistoryEvent,
    InstanceRecord,
    JobRecord,
    OrgRevisionRecord,
    Page,
)

__all__ = ["MemoryStore", "MemoryTransaction", "instance_filters", "matches", "page_of"]


def page_of(rows: list[Any], page: Page | None) -> list[Any]:
    """The rows of ``page`` (all of them without one)."""
    if page is None:
        return rows
    end = None if page.limit is None else page.offset + page.limit
    return rows[page.offset : end]


def matches(row: Any, filters: Mapping[str, Any]) -> bool:
    """Whether ``row`` passes attribute filters, as every store's ``find_*`` reads them.

    Each attribute must equal its filter value; a list, tuple or set value means "any of
    these". The SQL store applies the same rule to what it compares in Python (JSON columns).
    """
    for name, want in filters.items():
        have = getattr(row, name, None)
        if isinstance(want, list | tuple | set | frozenset):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


def instance_filters(
    *,
    key: str | None = None,
    definition_id: str | None = None,
    business_key: str | None = None,
    parent_id: str | None = None,
    root_id: str | None = None,
) -> dict[str, Any]:
    """The filters of ``find_instances`` that were given, by instance attribute."""
    given = {
        "key": key,
        "definition_id": definition_id,
        "business_key": business_key,
        "parent_id": parent_id,
        "root_id": root_id,
    }
    return {name: value for name, value in given.items() if value is not None}


class MemoryStore:
    """Deployments, instances, index rows and history held in dictionaries.

    Args:
        keep_history: Whether to keep history events (they are counted either way).
    """

    def __init__(self, *, keep_history: bool = True) -> None:
        self.keep_history = keep_history
        self.deployments: dict[str, DeploymentRecord] = {}
        self.definitions: dict[str, DefinitionRecord] = {}
        self.by_key: dict[tuple[str, str], list[DefinitionRecord]] = {}
        self.instances: dict[str, InstanceRecord] = {}
        self.rows: dict[str, dict[str, Any]] = {kind: {} for kind in INDEX_KINDS}
        self.history: list[HistoryEvent] = []
        self.history_count = 0
        self.org_docs: list[OrgRevisionRecord] = []
        self._tx = MemoryTransaction(self)

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        """A unit of work (writes are atomic inside :meth:`MemoryTransaction.apply`)."""
        yield self._tx

    # -- stored organisation (ports.OrgStore)
    def org_revision(self) -> int:
        """The newest stored organisation revision (0: none)."""
        return len(self.org_docs)

    def load_org(self, revision: int | None = None) -> OrgRevisionRecord | None:
        """A stored organisation revision (default: the newest)."""
        n = len(self.org_docs) if revision is None else revision
        return self.org_docs[n - 1] if 1 <= n <= len(self.org_docs) else None

    def save_org(self, record: OrgRevisionRecord) -> None:
        """Store the next organisation revision (``ConcurrencyError`` if it is not the next)."""
        if record.revision != len(self.org_docs) + 1:
            raise ConcurrencyError(
                f"organisation revision {record.revision - 1} is not the newest "
                f"({len(self.org_docs)})",
                code="org.revision.conflict",
                hint="reload the organisation and apply the change again",
            )
        # a deep copy through JSON: later changes to the caller's dict must not leak in
        self.org_docs.append(dataclasses.replace(record, doc=json.loads(json.dumps(record.doc))))

    def org_revisions(self) -> list[OrgRevisionRecord]:
        """Every stored organisation revision, oldest first (without documents)."""
        return [dataclasses.replace(r, doc={}) for r in self.org_docs]


class MemoryTransaction:
    """The transaction object of :class:`MemoryStore` (see :class:`~.ports.Transaction`)."""

    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    # -- definitions
    def add_deployment(
        self, deployment: DeploymentRecord, definitions: Sequence[DefinitionRecord]
    ) -> None:
        """Store a deployment and its definition versions."""
        s = self.s
        s.deployments[deployment.id] = deployment
        for d in definitions:
            s.definitions[d.id] = d
            versions = s.by_key.setdefault((d.kind, d.key), [])
            versions.append(d)
            versions.sort(key=lambda r: r.version)

    def get_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        """A deployment by id."""
        return self.s.deployments.get(deployment_id)

    def get_definition(self, definition_id: str) -> DefinitionRecord | None:
        """A definition by id."""
        return self.s.definitions.get(definition_id)

    def latest_definition(self, key: str, kind: str = "bpmn") -> DefinitionRecord | None:
        """The latest version of ``key``."""
        versions = self.s.by_key.get((kind, key))
        return versions[-1] if versions else None

    def definition_by_version(
        self, key: str, version: int, kind: str = "bpmn"
    ) -> DefinitionRecord | None:
        """One version of ``key``."""
        for d in self.s.by_key.get((kind, key), ()):
            if d.version == version:
                return d
        return None

    def list_definitions(
        self, key: str | None = None, kind: str | None = None
    ) -> list[DefinitionRecord]:
        """Definitions ordered by key and version."""
        out = [
            d
            for d in self.s.definitions.values()
            if (key is None or d.key == key) and (kind is None or d.kind == kind)
        ]
        out.sort(key=lambda d: (d.key, d.version))
        return out

    # -- instances
    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """A live instance by id."""
        return self.s.instances.get(instance_id)

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
        """Live instances matching the filters."""
        filters = instance_filters(
            key=key,
            definition_id=definition_id,
            business_key=business_key,
            parent_id=parent_id,
            root_id=root_id,
        )
        rows = [r for r in self.s.instances.values() if matches(r, filters)]
        return page_of(rows, page)

    # -- index rows
    def get_row(self, kind: str, row_id: str) -> Any | None:
        """One index row by id."""
        return self.s.rows[kind].get(row_id)

    def find_rows(
        self,
        kind: str,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
        order_by: Sequence[str] = (),
    ) -> list[Any]:
        """Index rows matching the filters."""
        table = self.s.rows[kind]
        rows = (
            list(table.values())
            if not filters
            else [r for r in table.values() if matches(r, filters)]
        )
        if order_by:
            rows.sort(key=lambda r: tuple(_sortable(getattr(r, n, None)) for n in order_by))
        return page_of(rows, page)

    def due_jobs(self, now: _dt.datetime, *, limit: int | None = None) -> list[JobRecord]:
        """Due jobs with retries left and no live lock, earliest first."""
        rows = [
            j
            for j in self.s.rows["job"].values()
            if j.due_at <= now
            and j.retries > 0
            and (
                j.lock_owner is None or (j.lock_expires_at is not None and j.lock_expires_at <= now)
            )
        ]
        rows.sort(key=lambda j: (j.due_at, -j.priority, j.seq))
        return rows if limit is None else rows[:limit]

    def apply(self, changes: ChangeSet) -> None:
        """Write a change set after checking every revision."""
        s = self.s
        for rec, expected in changes.instances_update:
            self._check(rec.id, expected)
        for inst_id, expected in changes.instances_delete:
            if expected:
                self._check(inst_id, expected)
        for rec in changes.instances_insert:
            if rec.id in s.instances:
                raise ConcurrencyError(f"process instance {rec.id} exists already")
        for kind in REVISIONED_KINDS:
            for rec in changes.upserts.get(kind, {}).values():
                stored = s.rows[kind].get(rec.id)
                if (0 if stored is None else stored.revision) != rec.revision - 1:
                    raise ConcurrencyError(f"{kind} {rec.id} changed meanwhile")
        for rec in changes.instances_insert:
            rec.revision = 1
            s.instances[rec.id] = rec
        for rec, expected in changes.instances_update:
            rec.revision = expected + 1
            s.instances[rec.id] = rec
        for inst_id, _ in changes.instances_delete:
            s.instances.pop(inst_id, None)
        rows = s.rows
        for kind, ids in changes.deletes.items():
            table = rows[kind]
            for row_id in ids:
                table.pop(row_id, None)
        for kind, upserts in changes.upserts.items():
            rows[kind].update(upserts)
        s.history_count += len(changes.history)
        if s.keep_history:
            s.history.extend(changes.history)

    def _check(self, instance_id: str, expected: int) -> None:
        current = self.s.instances.get(instance_id)
        if current is None or current.revision != expected:
            raise ConcurrencyError(
                f"process instance {instance_id} changed meanwhile "
                f"(expected revision {expected}, found "
                f"{current.revision if current else 'none'})"
            )

    # -- history
    def find_history(
        self,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
    ) -> list[HistoryEvent]:
        """History events matching the filters, in append order."""
        rows = self.s.history if not filters else [h for h in self.s.history if matches(h, filters)]
        return page_of(list(rows), page)


def _sortable(value: Any) -> Any:
    # None sorts first; mixing None with values would break sorting.
    return (value is not None, value if value is not None else 0)
