"""The SQL store: the engine's ports on SQLAlchemy Core (SQLite and PostgreSQL).

One engine command is one database transaction. :meth:`SqlTransaction.apply` writes a command's
whole change set with a few statements: revision-checked instance updates (optimistic locking),
``executemany`` upserts and deletes of index rows, and one ``executemany`` of history rows.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import Table as _Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from liucheng.engine.ports import (
    INDEX_KINDS,
    ChangeSet,
    DefinitionRecord,
    DeploymentRecord,
    HistoryEvent,
    InstanceRecord,
    JobRecord,
    Page,
)
from liucheng.errors import ConcurrencyError, NotFoundError, StoreError

from . import _codec, schema
from ._database import DatabaseSettings, connect_database

__all__ = [
    "EXTERNAL_TASK_CHANNEL",
    "JOB_CHANNEL",
    "SqlStore",
    "SqlTransaction",
    "upgrade_schema",
]

_CHUNK = 500
_LOCKED_KINDS = frozenset({"job", "external_task"})
# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
#: PostgreSQL NOTIFY channel announcing new or changed jobs (payload empty).
JOB_CHANNEL = "liucheng_jobs"
#: PostgreSQL NOTIFY channel announcing external tasks (payload: the topic).
EXTERNAL_TASK_CHANNEL = "liucheng_external_tasks"
_MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` with the bundled Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


_FIELDS: dict[type[Any], tuple[str, ...]] = {}

# Statements are built once: building and cache-keying SQLAlchemy constructs per call costs more
# than executing them on SQLite.
_GET_INSTANCE = select(schema.instance).where(schema.instance.c.id == bindparam("id"))
_INSERT_INSTANCE = insert(schema.instance)
_UPDATE_INSTANCE = update(schema.instance).where(
    schema.instance.c.id == bindparam("b_id"), schema.instance.c.revision == bindparam("b_rev")
)
_DELETE_INSTANCE = delete(schema.instance).where(
    schema.instance.c.id == bindparam("b_id"), schema.instance.c.revision == bindparam("b_rev")
)
_INSERT_HISTORY = insert(schema.history)
_GET_DEFINITION = select(schema.definition).where(schema.definition.c.id == bindparam("id"))
_LATEST_DEFINITION = (
    select(schema.definition)
    .where(
        schema.definition.c.key == bindparam("key"),
        schema.definition.c.kind == bindparam("kind"),
    )
    .order_by(schema.definition.c.version.desc())
    .limit(1)
)
_GET_ROW = {
    kind: select(table).where(table.c.id == bindparam("id"))
    for kind, table in schema.INDEX_TABLES.items()
}
_GET_ROW_LOCKED = {kind: stmt.with_for_update() for kind, stmt in _GET_ROW.items()}
_DELETE_ROWS = {
    kind: delete(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
    for kind, table in schema.INDEX_TABLES.items()
}
_UPDATE_ROW = {
    kind: update(table).where(table.c.id == bindparam("b_id"))
    for kind, table in schema.INDEX_TABLES.items()
}


def _make_upsert(dialect: str, table: _Table) -> Any:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={col.name: stmt.excluded[col.name] for col in table.columns if col.name != "id"},
    )


_UPSERT = {
    dialect: {kind: _make_upsert(dialect, table) for kind, table in schema.INDEX_TABLES.items()}
    for dialect in ("sqlite", "postgresql")
}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _as_dict(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _field_names(type(record))}


def _record(cls: type[Any], row: Any) -> Any:
    mapping = row._mapping
    return cls(**{name: mapping[name] for name in _field_names(cls)})


def _paged(stmt: Select[Any], page: Page | None) -> Select[Any]:
    if page is None:
        return stmt
    if page.offset:
        stmt = stmt.offset(page.offset)
    if page.limit is not None:
        stmt = stmt.limit(page.limit)
    return stmt


class SqlStore:
    """Deployments, instances, index rows and history in SQLite or PostgreSQL.

    Args:
        database: A SQLAlchemy engine, settings, or a URL (``None``: ``LIUCHENG_DATABASE`` or
            the SQLite default ``liucheng.db``).
        upgrade: Run the schema migrations to the newest version first.
        history_ttl: How long history is kept: each history row is stamped at insert with
            ``removal_time = event time + history_ttl`` (``None``: kept for ever) and
            :meth:`cleanup_history` deletes the rows whose time has come.
    """

    def __init__(
        self,
        database: Engine | DatabaseSettings | str | None = None,
        *,
        upgrade: bool = True,
        history_ttl: _dt.timedelta | None = None,
    ) -> None:
        self.engine = database if isinstance(database, Engine) else connect_database(database)
        self.dialect = self.engine.dialect.name
        self.history_ttl = history_ttl
        self.definitions: dict[str, DefinitionRecord] = {}
        self.job_listeners: list[Callable[[], None]] = []
        if upgrade:
            upgrade_schema(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """One database transaction: commit on normal exit, roll back on an exception.

        After a commit that created or changed jobs, every callable in :attr:`job_listeners` is
        called (in-process wake-up of job executors; other processes hear PostgreSQL's NOTIFY).
        """
        try:
            with self.engine.begin() as connection:
                tx = SqlTransaction(connection, self.dialect, self.history_ttl, self.definitions)
                yield tx
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
                raise ConcurrencyError(
                    f"transaction conflict: {exc.orig}", code="store.conflict"
                ) from exc
            raise StoreError(
                f"database error: {exc.orig}",
                code="store.operational",
                hint="check that the database is reachable and not locked by another program",
            ) from exc
        if tx.jobs_changed:
            for listener in self.job_listeners:
                listener()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def cleanup_history(
        self,
        now: _dt.datetime | None = None,
        *,
        batch_size: int = 5_000,
        max_batches: int | None = None,
    ) -> int:
        """Delete history rows whose removal time has passed, in batches of ``batch_size``.

        Each batch is its own short transaction, so cleanup never holds long locks; call it from
        a maintenance window (``liucheng db cleanup``) or a periodic job. Returns the rows deleted.
        """
        moment = now or _dt.datetime.now(_dt.UTC)
        t = schema.history
        total = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            with self.transaction() as tx:
                ids = select(t.c.id).where(t.c.removal_time <= moment).limit(batch_size)
                if self.dialect == "postgresql":
                    ids = ids.with_for_update(skip_locked=True)
                deleted = tx.c.execute(delete(t).where(t.c.id.in_(ids.scalar_subquery()))).rowcount
            batches += 1
            total += deleted
            if deleted < batch_size:
                break
        return total


class SqlTransaction:
    """The transaction object of :class:`SqlStore` (see ``liucheng.engine.ports.Transaction``)."""

    def __init__(
        self,
        connection: Connection,
        dialect: str,
        history_ttl: _dt.timedelta | None = None,
        definitions: dict[str, DefinitionRecord] | None = None,
    ) -> None:
        self.c = connection
        self.dialect = dialect
        self.history_ttl = history_ttl
        self.definitions = definitions if definitions is not None else {}
        self.jobs_changed = False
        # Ids of job / external-task rows this transaction read: writing one of them back is an
        # update that must find the row, never an insert that resurrects a row another
        # transaction deleted meanwhile.
        self._read: dict[str, set[str]] = {kind: set() for kind in _LOCKED_KINDS}

    # ------------------------------------------------------------------------ definitions
    def add_deployment(
        self, deployment: DeploymentRecord, definitions: Sequence[DefinitionRecord]
    ) -> None:
        """Store a deployment, its resources and its definition versions."""
        try:
            self.c.execute(
                insert(schema.deployment),
                [
                    {
                        "id": deployment.id,
                        "name": deployment.name,
                        "deployed_at": deployment.deployed_at,
                    }
                ],
            )
            if deployment.resources:
                self.c.execute(
                    insert(schema.resource),
                    [
                        {"deployment_id": deployment.id, "name": name, "content": content}
                        for name, content in deployment.resources.items()
                    ],
                )
            if definitions:
                self.c.execute(insert(schema.definition), [_as_dict(d) for d in definitions])
        except IntegrityError as exc:
            raise ConcurrencyError(
                f"deployment {deployment.id} conflicts with a concurrent deployment: {exc.orig}",
                code="store.deployment_conflict",
            ) from exc

    def get_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        """A deployment with its resources."""
        row = self.c.execute(
            select(schema.deployment).where(schema.deployment.c.id == deployment_id)
        ).first()
        if row is None:
            return None
        resources = {
            r.name: bytes(r.content)
            for r in self.c.execute(
                select(schema.resource).where(schema.resource.c.deployment_id == deployment_id)
            )
        }
        return DeploymentRecord(
            id=row.id, name=row.name, deployed_at=row.deployed_at, resources=resources
        )

    def get_definition(self, definition_id: str) -> DefinitionRecord | None:
        """A definition version by id."""
        cached = self.definitions.get(definition_id)
        if cached is not None:
            return cached
        row = self.c.execute(_GET_DEFINITION, {"id": definition_id}).first()
        if row is None:
            return None
        record: DefinitionRecord = _record(DefinitionRecord, row)
        self.definitions[definition_id] = record  # a definition version never changes
        return record

    def latest_definition(self, key: str, kind: str = "bpmn") -> DefinitionRecord | None:
        """The highest version of ``key``."""
        row = self.c.execute(_LATEST_DEFINITION, {"key": key, "kind": kind}).first()
        return None if row is None else _record(DefinitionRecord, row)

    def definition_by_version(
        self, key: str, version: int, kind: str = "bpmn"
    ) -> DefinitionRecord | None:
        """Version ``version`` of ``key``."""
        t = schema.definition
        row = self.c.execute(
            select(t).where(t.c.key == key, t.c.kind == kind, t.c.version == version)
        ).first()
        return None if row is None else _record(DefinitionRecord, row)

    def list_definitions(
        self, key: str | None = None, kind: str | None = None
    ) -> list[DefinitionRecord]:
        """Definitions ordered by key and version."""
        t = schema.definition
        stmt = select(t).order_by(t.c.key, t.c.version)
        if key is not None:
            stmt = stmt.where(t.c.key == key)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        return [_record(DefinitionRecord, r) for r in self.c.execute(stmt)]

    # -------------------------------------------------------------------------- instances
    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """A live instance by id."""
        row = self.c.execute(_GET_INSTANCE, {"id": instance_id}).first()
        return None if row is None else _record(InstanceRecord, row)

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
        """Live instances matching every filter, oldest first."""
        t = schema.instance
        stmt = select(t).order_by(t.c.started_at, t.c.id)
        for name, value in (
            ("key", key),
            ("definition_id", definition_id),
            ("business_key", business_key),
            ("parent_id", parent_id),
            ("root_id", root_id),
        ):
            if value is not None:
                stmt = stmt.where(t.c[name] == value)
        return [_record(InstanceRecord, r) for r in self.c.execute(_paged(stmt, page))]

    # -------------------------------------------------------------------------- index rows
    def _table(self, kind: str) -> _Table:
        table = schema.INDEX_TABLES.get(kind)
        if table is None:
            raise NotFoundError(f"unknown index row kind {kind!r}", code="store.kind")
        return table

    def get_row(self, kind: str, row_id: str) -> Any | None:
        """One index row by id.

        On PostgreSQL, job and external-task rows are read ``FOR UPDATE``: a command acting on one
        holds it until commit, so two processes can never both apply the same job (the second
        waits, then finds the row gone or changed).
        """
        self._table(kind)
        locked = self.dialect == "postgresql" and kind in _LOCKED_KINDS
        row = self.c.execute(
            (_GET_ROW_LOCKED if locked else _GET_ROW)[kind], {"id": row_id}
        ).first()
        if row is None:
            return None
        if kind in _LOCKED_KINDS:
            self._read[kind].add(row_id)
        return _record(INDEX_KINDS[kind], row)

    def find_rows(
        self,
        kind: str,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
        order_by: Sequence[str] = (),
    ) -> list[Any]:
        """Index rows whose attributes equal every filter value (lists: any member)."""
        table = self._table(kind)
        cls = INDEX_KINDS[kind]
        stmt = select(table)
        post: dict[str, Any] = {}
        for name, want in (filters or {}).items():
            column = table.c.get(name)
            if column is None:
                raise StoreError(f"{kind} rows have no attribute {name!r}", code="store.filter")
            if isinstance(column.type, schema.JsonText):
                post[name] = want  # JSON values compare in Python, exactly like the memory store
            elif isinstance(want, list | tuple | set | frozenset):
                stmt = stmt.where(column.in_(list(want)))
            elif want is None:
                stmt = stmt.where(column.is_(None))
            else:
                stmt = stmt.where(column == want)
        columns = [table.c[n] for n in order_by] or [
            table.c[n] for n in ("created_at", "seq", "id") if n in table.c
        ]
        stmt = stmt.order_by(*columns)
        if kind == "external_task" and "topic" in (filters or {}) and self.dialect == "postgresql":
            # Fetch-and-lock reads tasks by topic to lock some of them: concurrent fetchers
            # skip each other's rows instead of locking the same task twice.
            stmt = stmt.with_for_update(skip_locked=True)
        if post:
            rows = [_record(cls, r) for r in self.c.execute(stmt)]
            rows = [r for r in rows if all(_equal(getattr(r, n), w) for n, w in post.items())]
            if page is not None:
                end = None if page.limit is None else page.offset + page.limit
                rows = rows[page.offset : end]
        else:
            rows = [_record(cls, r) for r in self.c.execute(_paged(stmt, page))]
        if kind in _LOCKED_KINDS:
            self._read[kind].update(r.id for r in rows)
        return rows

    def due_jobs(self, now: _dt.datetime, *, limit: int | None = None) -> list[JobRecord]:
        """Due jobs with retries left and no live lock, earliest first."""
        t = schema.job
        stmt = (
            select(t)
            .where(
                t.c.due_at <= now,
                t.c.retries > 0,
                (t.c.lock_owner.is_(None)) | (t.c.lock_expires_at <= now),
            )
            .order_by(t.c.due_at, t.c.priority.desc(), t.c.seq)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_record(JobRecord, r) for r in self.c.execute(stmt)]

    def apply(self, changes: ChangeSet) -> None:
        """Write a change set, checking every instance revision.

        Raises:
            ConcurrencyError: An instance's stored revision is not the expected one.
        """
        c = self.c
        if changes.instances_insert:
            rows = []
            for rec in changes.instances_insert:
                row = _as_dict(rec)
                row["revision"] = 1
                rows.append(row)
            try:
                c.execute(_INSERT_INSTANCE, rows)
            except IntegrityError as exc:
                raise ConcurrencyError(
                    f"process instance exists already: {exc.orig}", code="store.instance_exists"
                ) from exc
        for rec, expected in changes.instances_update:
            values = _as_dict(rec)
            values["revision"] = expected + 1
            del values["id"]
            values["b_id"] = rec.id
            values["b_rev"] = expected
            if c.execute(_UPDATE_INSTANCE, values).rowcount != 1:
                raise _conflict(rec.id, expected)
        for instance_id, expected in changes.instances_delete:
            if not expected:
                continue
            result = c.execute(_DELETE_INSTANCE, {"b_id": instance_id, "b_rev": expected})
            if result.rowcount != 1:
                raise _conflict(instance_id, expected)
        for kind, ids in changes.deletes.items():
            if not ids:
                continue
            self._table(kind)
            id_list = list(ids)
            for start in range(0, len(id_list), _CHUNK):
                c.execute(_DELETE_ROWS[kind], {"ids": id_list[start : start + _CHUNK]})
        for kind, upserts in changes.upserts.items():
            if not upserts:
                continue
            read = self._read.get(kind)
            if read:
                fresh = [r for r in upserts.values() if r.id not in read]
                self._update_read(kind, [r for r in upserts.values() if r.id in read])
            else:
                fresh = list(upserts.values())
            if fresh:
                c.execute(self._upsert(kind), [_as_dict(r) for r in fresh])
        if changes.history:
            self._append_history(changes.history)
        if changes.upserts.get("job"):
            self.jobs_changed = True
            if self.dialect == "postgresql":
                c.execute(text("SELECT pg_notify(:channel, '')"), {"channel": JOB_CHANNEL})
        if changes.upserts.get("external_task") and self.dialect == "postgresql":
            topics = sorted({r.topic for r in changes.upserts["external_task"].values()})
            for topic in topics:
                c.execute(
                    text("SELECT pg_notify(:channel, :topic)"),
                    {"channel": EXTERNAL_TASK_CHANNEL, "topic": topic[:7000]},
                )
        # Only after every write succeeded: the records now carry the stored revision.
        for rec in changes.instances_insert:
            rec.revision = 1
        for rec, expected in changes.instances_update:
            rec.revision = expected + 1

    def _append_history(self, events: list[HistoryEvent]) -> None:
        # The busiest write of all (dozens of rows per command): rows go to the driver's
        # executemany directly, converted here the way the column types would convert them.
        ttl = self.history_ttl
        sqlite_dialect = self.dialect != "postgresql"
        times: dict[_dt.datetime, tuple[Any, Any]] = {}  # most events share the command's time
        rows = []
        for h in events:
            converted = times.get(h.at)
            if converted is None:
                at = h.at.astimezone(_dt.UTC).replace(tzinfo=None) if h.at.tzinfo else h.at
                removal = None if ttl is None else at + ttl
                if sqlite_dialect:
                    converted = (
                        _sqlite_time(at),
                        None if removal is None else _sqlite_time(removal),
                    )
                else:
                    converted = (at, removal)
                times[h.at] = converted
            rows.append(
                (
                    h.kind,
                    converted[0],
                    h.instance_id,
                    h.definition_id,
                    h.element_id,
                    h.element_type,
                    h.element_instance_id,
                    h.actor,
                    None if h.data is None else _codec.dumps(h.data),
                    h.seq,
                    converted[1],
                )
            )
        self.c.exec_driver_sql(_HISTORY_SQL_SQLITE if sqlite_dialect else _HISTORY_SQL_PG, rows)

    def _update_read(self, kind: str, records: list[Any]) -> None:
        self._table(kind)
        for rec in records:
            values = _as_dict(rec)
            values["b_id"] = values.pop("id")
            result = self.c.execute(_UPDATE_ROW[kind], values)
            if result.rowcount != 1:
                raise ConcurrencyError(
                    f"{kind.replace('_', ' ')} {rec.id} was removed meanwhile",
                    code="store.row_gone",
                    details={"kind": kind, "id": rec.id},
                )

    def _upsert(self, kind: str) -> Any:
        self._table(kind)
        return _UPSERT["postgresql" if self.dialect == "postgresql" else "sqlite"][kind]

    # ---------------------------------------------------------------------------- history
    def find_history(
        self,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
    ) -> list[HistoryEvent]:
        """History events matching the filters, in append order."""
        t = schema.history
        stmt = select(t).order_by(t.c.id)
        post: dict[str, Any] = {}
        for name, want in (filters or {}).items():
            if name not in t.c or name == "data":
                post[name] = want
            elif isinstance(want, list | tuple | set | frozenset):
                stmt = stmt.where(t.c[name].in_(list(want)))
            elif want is None:
                stmt = stmt.where(t.c[name].is_(None))
            else:
                stmt = stmt.where(t.c[name] == want)
        if post:
            rows = [_record(HistoryEvent, r) for r in self.c.execute(stmt)]
            rows = [r for r in rows if all(_equal(getattr(r, n, None), w) for n, w in post.items())]
            if page is None:
                return rows
            end = None if page.limit is None else page.offset + page.limit
            return rows[page.offset : end]
        return [_record(HistoryEvent, r) for r in self.c.execute(_paged(stmt, page))]


_HISTORY_COLUMNS = (
    "kind, at, instance_id, definition_id, element_id, element_type, element_instance_id, "
    "actor, data, seq, removal_time"
)
_HISTORY_SQL_SQLITE = f"INSERT INTO lc_history ({_HISTORY_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_HISTORY_SQL_PG = f"INSERT INTO lc_history ({_HISTORY_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})"


def _sqlite_time(value: _dt.datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type writes and parses.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _equal(have: Any, want: Any) -> bool:
    if isinstance(want, list | tuple | set | frozenset):
        return have in want
    return bool(have == want)


def _conflict(instance_id: str, expected: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"process instance {instance_id} changed meanwhile (expected revision {expected})",
        element_id=None,
        details={"instance_id": instance_id, "expected_revision": expected},
    )
