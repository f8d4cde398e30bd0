"""The SQL store: the engine's ports on SQLAlchemy Core (SQLite and PostgreSQL).

One engine command is one database transaction. :meth:`SqlTransaction.apply` writes a command's
whole change set with a few statements: revision-checked instance updates (optimistic locking),
``executemany`` upserts and deletes of index rows, and one ``executemany`` of history rows.
These hot statements, and the reads an engine command makes (instance, index rows, latest
definition), run as pre-rendered SQL on the driver cursor (:mod:`._raw`); on a SQLite file one
connection stays checked out between transactions (see :meth:`SqlStore._begin`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import threading
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
)
from sqlalchemy import Table as _Table
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

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
from ._raw import RawCursor, TableCodec, codec_for, quote

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
_KIND_CODECS: dict[tuple[str, str], TableCodec] = {}

# Hot statements run on the driver cursor (see ._raw); the rest are SQLAlchemy Core, built once
# where they are fixed.
_GET_DEFINITION = select(schema.definition).where(schema.definition.c.id == bindparam("id"))


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
        self._hot: Connection | None = None
        self._hot_lock = (
            threading.Lock()
            if self.dialect == "sqlite" and not isinstance(self.engine.pool, NullPool)
            else None
        )
        if upgrade:
            upgrade_schema(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """One database transaction: commit on normal exit, roll back on an exception.

        After a commit that created or changed jobs, every callable in :attr:`job_listeners` is
        called (in-process wake-up of job executors; other processes hear PostgreSQL's NOTIFY).
        """
        try:
            with self._begin() as connection:
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

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        # On a SQLite file, checking a connection out of the pool and back costs several times
        # what BEGIN and COMMIT cost. One connection stays checked out for whichever thread finds
        # it free (commands on one thread, the common case, always do); a thread that finds it
        # busy takes a pooled connection as before. Each transaction still commits or rolls back
        # on its own.
        if self._hot_lock is None or not self._hot_lock.acquire(blocking=False):
            with self.engine.begin() as connection:
                yield connection
            return
        try:
            hot = self._hot
            if hot is None or hot.closed or hot.invalidated:
                if hot is not None:
                    hot.close()
                hot = self._hot = self.engine.connect()
            with hot.begin():
                yield hot
        finally:
            self._hot_lock.release()

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._hot_lock is not None:
            with self._hot_lock:
                if self._hot is not None:
                    self._hot.close()
                    self._hot = None
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
        self._cursor: RawCursor | None = None

    @property
    def raw(self) -> RawCursor:
        """The driver cursor the hot statements run on (see :mod:`liucheng.store._raw`)."""
        if self._cursor is None:
            self._cursor = RawCursor(self.c)
        return self._cursor

    def _codec(self, kind: str) -> TableCodec:
        codec = _KIND_CODECS.get((kind, self.dialect))
        if codec is None:
            if kind == "instance":
                codec = codec_for(schema.instance, InstanceRecord, self.dialect)
            else:
                codec = codec_for(self._table(kind), INDEX_KINDS[kind], self.dialect)
            _KIND_CODECS[kind, self.dialect] = codec
        return codec

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
        codec = codec_for(schema.definition, DefinitionRecord, self.dialect)
        p = codec.mark
        row = self.raw.execute(
            f'{codec.select} WHERE "key" = {p} AND kind = {p} ORDER BY version DESC LIMIT 1',
            (key, kind),
        ).fetchone()
        return None if row is None else codec.record(row)

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
        codec = self._codec("instance")
        row = self.raw.execute(codec.select_id, (instance_id,)).fetchone()
        return None if row is None else codec.record(row)

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
        codec = self._codec(kind)
        locked = kind in _LOCKED_KINDS
        sql = codec.select_id_locked if locked else codec.select_id
        row = self.raw.execute(sql, (row_id,)).fetchone()
        if row is None:
            return None
        if locked:
            self._read[kind].add(row_id)
        return codec.record(row)

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
        codec = self._codec(kind)
        p = codec.mark
        where: list[str] = []
        params: list[Any] = []
        post: dict[str, Any] = {}
        for name, want in (filters or {}).items():
            column = table.c.get(name)
            if column is None:
                raise StoreError(f"{kind} rows have no attribute {name!r}", code="store.filter")
            if isinstance(column.type, schema.JsonText):
                post[name] = want  # JSON values compare in Python, exactly like the memory store
            elif isinstance(want, list | tuple | set | frozenset):
                values = list(want)
                if not values:
                    return []
                where.append(f"{quote(name)} IN ({', '.join([p] * len(values))})")
                params.extend(codec.bind_value(name, v) for v in values)
            elif want is None:
                where.append(f"{quote(name)} IS NULL")
            else:
                where.append(f"{quote(name)} = {p}")
                params.append(codec.bind_value(name, want))
        for name in order_by:
            if name not in table.c:
                raise StoreError(f"{kind} rows have no attribute {name!r}", code="store.filter")
        columns = list(order_by) or [n for n in ("created_at", "seq", "id") if n in table.c]
        sql = codec.select
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY " + ", ".join(quote(n) for n in columns)
        if page is not None and not post:
            if page.limit is not None:
                sql += f" LIMIT {int(page.limit)}"
            elif page.offset and not codec.postgres:
                sql += " LIMIT -1"
            if page.offset:
                sql += f" OFFSET {int(page.offset)}"
        if kind == "external_task" and "topic" in (filters or {}) and self.dialect == "postgresql":
            # Fetch-and-lock reads tasks by topic to lock some of them: concurrent fetchers
            # skip each other's rows instead of locking the same task twice.
            sql += " FOR UPDATE SKIP LOCKED"
        record = codec.record
        rows = [record(r) for r in self.raw.execute(sql, params).fetchall()]
        if post:
            rows = [r for r in rows if all(_equal(getattr(r, n), w) for n, w in post.items())]
            if page is not None:
                end = None if page.limit is None else page.offset + page.limit
                rows = rows[page.offset : end]
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
        raw = self.raw
        if changes.instances_insert or changes.instances_update:
            icodec = self._codec("instance")
        if changes.instances_insert:
            rows = []
            for rec in changes.instances_insert:
                values = icodec.params(rec)
                values[icodec.names.index("revision")] = 1
                rows.append(values)
            try:
                raw.executemany(icodec.insert, rows)
            except IntegrityError as exc:
                raise ConcurrencyError(
                    f"process instance exists already: {exc.orig}", code="store.instance_exists"
                ) from exc
        for rec, expected in changes.instances_update:
            values = icodec.update_params(rec)
            # update_params ends with the id; the revision is one of the set columns
            values[_REVISION_AT] = expected + 1
            values.append(expected)
            if raw.execute(_UPDATE_INSTANCE_SQL[self.dialect], values).rowcount != 1:
                raise _conflict(rec.id, expected)
        for instance_id, expected in changes.instances_delete:
            if not expected:
                continue
            mark = "%s" if self.dialect == "postgresql" else "?"
            result = raw.execute(
                f"DELETE FROM lc_instance WHERE id = {mark} AND revision = {mark}",
                (instance_id, expected),
            )
            if result.rowcount != 1:
                raise _conflict(instance_id, expected)
        for kind, ids in changes.deletes.items():
            if not ids:
                continue
            codec = self._codec(kind)
            id_list = list(ids)
            for start in range(0, len(id_list), _CHUNK):
                chunk = id_list[start : start + _CHUNK]
                raw.execute(
                    f"DELETE FROM {codec.table.name} WHERE id IN "
                    f"({', '.join([codec.mark] * len(chunk))})",
                    chunk,
                )
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
                codec = self._codec(kind)
                raw.executemany(codec.upsert, [codec.params(r) for r in fresh])
        if changes.history:
            self._append_history(changes.history)
        c = self.c
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
        self.raw.executemany(_HISTORY_SQL_SQLITE if sqlite_dialect else _HISTORY_SQL_PG, rows)

    def _update_read(self, kind: str, records: list[Any]) -> None:
        codec = self._codec(kind)
        for rec in records:
            if self.raw.execute(codec.update_id, codec.update_params(rec)).rowcount != 1:
                raise ConcurrencyError(
                    f"{kind.replace('_', ' ')} {rec.id} was removed meanwhile",
                    code="store.row_gone",
                    details={"kind": kind, "id": rec.id},
                )

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


def _update_instance_sql(dialect: str) -> str:
    codec = codec_for(schema.instance, InstanceRecord, dialect)
    return codec.update_id + f" AND revision = {codec.mark}"


_UPDATE_INSTANCE_SQL = {d: _update_instance_sql(d) for d in ("sqlite", "postgresql")}
# Position of the revision among update_params' values (every column but id, in order).
_REVISION_AT = [n for n in dataclasses.fields(InstanceRecord) if n.name != "id"].index(
    next(f for f in dataclasses.fields(InstanceRecord) if f.name == "revision")
)

_HISTORY_COLUMNS = (
    "kind, at, instance_id, definition_id, element_id, element_type, element_instance_id, "
    "actor, data, seq, removal_time"
)
_HISTORY_SQL_SQLITE = f"INSERT INTO lc_history ({_HISTORY_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_HISTORY_SQL_PG = f"INSERT INTO lc_history ({_HISTORY_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})"


def _sqlite_time(value: _dt.datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type writes and parses ("%Y-%m-%d %H:%M:%S.%f").
    return value.isoformat(" ", "microseconds")


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
