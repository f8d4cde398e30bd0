"""The SQL store: the engine's ports on SQLAlchemy Core (SQLite and PostgreSQL).

One engine command is one database transaction. :meth:`SqlTransaction.apply` writes a command's
whole change set with a few statements: revision-checked instance updates (optimistic locking),
``executemany`` upserts and deletes of index rows, and one ``executemany`` of history rows.
These hot statements, and the reads an engine command makes (instance, index rows, latest
definition), run as pre-rendered SQL on the driver cursor (:mod:`._raw`); on a SQLite file one
connection stays checked out between transactions (see :meth:`SqlStore._begin`), and the
transactions of that connection and of the read connections begin and end on the driver too
(:func:`_raw_begin`), with the latest definition of each process cached on the write connection
(:meth:`SqlTransaction.latest_definition`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
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
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from liucheng.engine.memory import instance_filters, matches, page_of
from liucheng.engine.ports import (
    INDEX_KINDS,
    REVISIONED_KINDS,
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
from ._database import RAW_TX, READ_ONLY, DatabaseSettings, connect_database
from ._org import SqlOrgRevisions
from ._raw import RawCursor, TableCodec, codec_for, quote

__all__ = [
    "EXTERNAL_TASK_CHANNEL",
    "JOB_CHANNEL",
    "SqlStore",
    "SqlTransaction",
    "upgrade_schema",
]

_CHUNK = 500
# Keys in a SQLite connection's ``info`` (see SqlTransaction.latest_definition): the cache of
# latest definitions, and the flag of a transaction that deploys.
_LATEST = "liucheng_latest_definitions"
_DEPLOYING = "liucheng_deploying"
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


class SqlStore(SqlOrgRevisions):
    """Deployments, instances, index rows and history in SQLite or PostgreSQL.

    Args:
        database: A SQLAlchemy engine, settings, or a URL (``None``: ``LIUCHENG_DATABASE`` or
            the SQLite default ``liucheng.db``).
        upgrade: Run the schema migrations to the newest version first.
        history_ttl: How long history is kept: each history row is stamped at insert with
            ``removal_time = event time + history_ttl`` (``None``: kept for ever) and
            :meth:`cleanup_history` deletes the rows whose time has come.
    """

    #: Engines on this store keep the instance documents they wrote last and start a command
    #: from them instead of reading the row (the revision-checked write detects a stale one).
    cache_instance_states = True

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
        self._idle_readers: list[Connection] = []
        self._idle_lock = threading.Lock()
        self._group = (
            _GroupCommit()
            if self.dialect == "sqlite" and not isinstance(self.engine.pool, NullPool)
            else None
        )
        if upgrade:
            upgrade_schema(self.engine)

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        """One database transaction: commit on normal exit, roll back on an exception.

        After a commit that created or changed jobs, every callable in :attr:`job_listeners` is
        called (in-process wake-up of job executors; other processes hear PostgreSQL's NOTIFY).
        """
        # (not a generator of its own: each context manager layer costs every command)
        return self._transaction(self._begin)

    def read_transaction(self) -> AbstractContextManager[SqlTransaction]:
        """A transaction for reading only: a consistent snapshot of committed data.

        On a SQLite file it runs on a pooled connection of its own with a deferred BEGIN, so
        reads neither wait for nor join the writers' group commit (and never see a batch's
        uncommitted writes). Elsewhere it is :meth:`transaction`.
        """
        return self._transaction(self._begin_read if self._group else self._begin)

    @contextmanager
    def _begin_read(self) -> Iterator[Connection]:
        # Read connections stay checked out between transactions, like the write connection
        # (a pool checkout costs more than a read); each is used by one reader at a time.
        with self._idle_lock:
            connection = self._idle_readers.pop() if self._idle_readers else None
        if connection is None or connection.closed or connection.invalidated:
            connection = self.engine.connect()
            connection.info[READ_ONLY] = True
        try:
            _raw_begin(connection, "BEGIN")
            try:
                yield connection
            except BaseException:
                _raw_end(connection, commit=False)
                raise
            _raw_end(connection, commit=True)
        except BaseException:
            _close_reader(connection)
            raise
        with self._idle_lock:
            self._idle_readers.append(connection)

    @contextmanager
    def _transaction(
        self, begin: Callable[[], AbstractContextManager[Connection]]
    ) -> Iterator[SqlTransaction]:
        body_done = False
        try:
            with begin() as connection:
                tx = SqlTransaction(connection, self.dialect, self.history_ttl, self.definitions)
                try:
                    yield tx
                except DBAPIError as exc:
                    self._check_disconnect(connection, exc)
                    raise
                finally:
                    # Before the connection passes to another thread (group commit): a driver
                    # cursor finalised later, on this thread, would touch the connection while
                    # the other thread uses it.
                    tx.close()
                body_done = True
        except DBAPIError as exc:
            if exc.connection_invalidated:
                # (no pool_pre_ping: a dead pooled connection shows here, on first use)
                raise _disconnected(exc, committing=body_done) from exc
            if not isinstance(exc, OperationalError):
                raise
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

    def _check_disconnect(self, connection: Connection, exc: DBAPIError) -> None:
        """Invalidate the connection and the whole pool when ``exc`` means the server is gone.

        Statements SQLAlchemy runs do this themselves; the hot ones run on the driver's cursor
        (``._raw``), so their errors are checked here, the way SQLAlchemy checks its own: the
        pool then replaces every connection made before (they all died with the server).
        """
        if exc.connection_invalidated or connection.invalidated:
            return
        with suppress(Exception):
            proxied = connection.connection
            orig: Any = exc.orig
            if self.engine.dialect.is_disconnect(orig, proxied.driver_connection, None):
                self.engine.pool._invalidate(proxied, exc.orig)  # what SQLAlchemy calls
                connection.invalidate(exc.orig)
                exc.connection_invalidated = True

    def _begin(self) -> AbstractContextManager[Connection]:
        # On a SQLite file, checking a connection out of the pool and back costs several times
        # what BEGIN and COMMIT cost, and SQLite has one writer at a time anyway: transactions
        # share one connection through group commit (see _GroupCommit). A transaction opened on
        # a thread that already holds the shared connection (nested) takes a pooled one.
        group = self._group
        if group is None or group.owner == threading.get_ident():
            return self.engine.begin()
        return group.member(self._hot_connection)

    def _hot_connection(self) -> Connection:
        hot = self._hot
        if hot is None or hot.closed or hot.invalidated:
            if hot is not None:
                hot.close()
            hot = self._hot = self.engine.connect()
        return hot

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._group is not None:
            with self._group.exclusive():
                if self._hot is not None:
                    self._hot.close()
                    self._hot = None
        with self._idle_lock:
            readers, self._idle_readers = self._idle_readers, []
        for connection in readers:
            _close_reader(connection)
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


class _GroupCommit:
    """Group commit of concurrent transactions on one SQLite connection.

    SQLite writes one transaction at a time, and with ``synchronous=FULL`` every COMMIT waits for
    an fsync. Transactions of concurrent callers therefore share one connection, one after the
    other, inside one database transaction: each runs in a SAVEPOINT (released when it
    succeeds, rolled back alone when it fails). The caller that finds nobody waiting for the
    connection commits the whole batch, one COMMIT and fsync for all; every caller returns only
    after the COMMIT that holds its writes (and fails if that COMMIT fails). A single caller
    never waits: BEGIN, its statements, COMMIT, as without grouping. Callers in one batch see
    each other's writes before the COMMIT; that is safe because they commit or fail together.
    """

    #: Transactions in one batch at most (bounds the latency of its first member).
    MAX_BATCH = 32

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.owner: int | None = None  # thread using the connection
        self.waiting = 0  # threads waiting for the connection
        self.open: Connection | None = None  # the connection of the open batch (begun raw)
        self.members = 0  # successful members of the open batch
        self.batch = 0  # number of the open batch; lower numbers are settled
        self.failed: dict[int, BaseException] = {}  # batches whose COMMIT failed

    def _take(self) -> None:
        with self.cond:
            self.waiting += 1
            while self.owner is not None:
                self.cond.wait()
            self.waiting -= 1
            self.owner = threading.get_ident()

    def _release(self) -> None:
        with self.cond:
            self.owner = None
            self.cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The connection for the caller alone, with the open batch committed first."""
        self._take()
        try:
            while self.open is not None:
                self._settle()
                self._take()
            yield
        finally:
            self._release()

    @contextmanager
    def member(self, connect: Callable[[], Connection]) -> Iterator[Connection]:
        """Run one transaction as a member of the open batch."""
        self._take()
        try:
            connection = connect()
            raw = connection.connection.driver_connection
            assert raw is not None
            first = self.open is None
            if first:
                _raw_begin(connection, "BEGIN IMMEDIATE")
                self.open = connection
            else:
                raw.execute("SAVEPOINT lc_member")
        except BaseException:
            self._release()
            raise
        failure: BaseException | None = None
        try:
            yield connection
        except BaseException as exc:
            failure = exc
        try:
            if failure is None:
                if not first:
                    raw.execute("RELEASE lc_member")
                self.members += 1
            elif first:  # nothing else in the batch yet
                self.open = None
                _raw_end(connection, commit=False)
            else:
                raw.execute("ROLLBACK TO lc_member")
                raw.execute("RELEASE lc_member")
        except BaseException as exc:
            # the batch is in an unknown state: it fails as a whole
            self._settle(abort=exc)
            raise failure or exc from None
        with self.cond:
            batch = self.batch
            if self.open is None or (self.waiting and self.members < self.MAX_BATCH):
                # hand the connection on: the next caller joins this batch (or opens one)
                self.owner = None
                self.cond.notify_all()
                if failure is not None:
                    raise failure
                while self.batch <= batch:
                    self.cond.wait()
                outcome = self.failed.get(batch)
                if outcome is not None:
                    raise _commit_failed(outcome)
                return
        self._settle()
        if failure is not None:
            raise failure
        outcome = self.failed.get(batch)
        if outcome is not None:
            raise _commit_failed(outcome)

    def _settle(self, abort: BaseException | None = None) -> None:
        # Commit (or roll back) the open batch and release the connection; the caller owns it.
        outcome = abort
        connection = self.open
        assert connection is not None
        try:
            _raw_end(connection, commit=abort is None and self.members > 0)
        except BaseException as exc:
            outcome = outcome or exc
            with suppress(BaseException):
                _raw_end(connection, commit=False)
        with self.cond:
            if outcome is not None and self.members:
                self.failed[self.batch] = outcome
            self.batch += 1
            self.open = None
            self.members = 0
            self.owner = None
            self.cond.notify_all()


def _raw_begin(connection: Connection, sql: str) -> None:
    """Begin a transaction on a SQLite connection's driver connection.

    SQLAlchemy's ``begin()``/``commit()`` cost several times the Python time of SQLite's own
    BEGIN and COMMIT, paid on every command and every read. A statement run through SQLAlchemy
    inside the transaction autobegins a SQLAlchemy transaction that joins this one (the begin
    listener of ``._database`` emits nothing while :data:`RAW_TX` is set); :func:`_raw_end`
    ends that one too.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        driver.execute(sql)
    except driver_error(connection) as exc:
        raise _wrapped(connection, sql, exc) from exc
    connection.info[RAW_TX] = True


def _raw_end(connection: Connection, *, commit: bool) -> None:
    """Commit or roll back the transaction :func:`_raw_begin` opened."""
    try:
        joined = connection.get_transaction()
        if joined is not None:
            # SQLAlchemy autobegan inside ours: it ends the one database transaction
            if commit:
                joined.commit()
            else:
                joined.rollback()
            return
        driver = connection.connection.driver_connection
        assert driver is not None
        try:
            if commit:
                driver.commit()
            else:
                driver.rollback()
        except driver_error(connection) as exc:
            raise _wrapped(connection, "COMMIT" if commit else "ROLLBACK", exc) from exc
    finally:
        info = connection.info
        info.pop(RAW_TX, None)
        if info.pop(_DEPLOYING, None):
            info.pop(_LATEST, None)


def driver_error(connection: Connection) -> type[Exception]:
    """The driver's base exception class."""
    dbapi = connection.dialect.dbapi
    assert dbapi is not None
    error: type[Exception] = dbapi.Error
    return error


def _wrapped(connection: Connection, sql: str, exc: Exception) -> BaseException:
    # the SQLAlchemy exception callers handle (OperationalError -> StoreError)
    return DBAPIError.instance(sql, (), exc, driver_error(connection), dialect=connection.dialect)


def _close_reader(connection: Connection) -> None:
    # The flag lives on the pooled driver connection: a writer that gets it later must BEGIN
    # IMMEDIATE again.
    with suppress(Exception):
        connection.info.pop(READ_ONLY, None)
    connection.close()


def _disconnected(exc: DBAPIError, *, committing: bool) -> ConcurrencyError | StoreError:
    if committing:
        # the COMMIT may have reached the server: running the command again could double it
        return StoreError(
            f"the database connection broke during COMMIT: {exc.orig}",
            code="store.commit_unknown",
            hint="the transaction may or may not have been committed; check before retrying",
        )
    # nothing was committed: the command may run again, on a fresh connection
    return ConcurrencyError(
        f"the database connection was lost (nothing was committed): {exc.orig}",
        code="store.disconnected",
        hint="run the command again (the engine does so by itself)",
    )


def _commit_failed(exc: BaseException) -> StoreError:
    return StoreError(
        f"the commit of this transaction's group failed: {exc}",
        code="store.commit",
        hint="check that the database file is writable and the disk is not full",
    )


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
        # Identity columns of the instances read (see _identity): unchanged, an update writes
        # only the state columns.
        self._identity: dict[str, tuple[Any, ...]] = {}

    def close(self) -> None:
        """Close the driver cursor (the transaction's statements are done)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

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
        # Before the first write: until this transaction ends, this connection's
        # latest-definition cache is dropped and not refilled (see latest_definition).
        self._deploying()
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
        """The highest version of ``key``.

        In a SQLite write transaction begun on the driver (the group commit's connection) the
        answer is cached on the connection, valid while ``PRAGMA data_version`` (which changes
        when another connection, of this process or another, commits) stays the same: holding
        the write lock, the transaction sees the newest commit, and nobody else commits until
        it ends. A deployment on the same connection drops the cache (:meth:`_deploying`).
        """
        cache: tuple[int, dict[tuple[str, str], DefinitionRecord]] | None = None
        info = self.c.info
        if (
            self.dialect == "sqlite"
            and info.get(RAW_TX)
            and not info.get(READ_ONLY)
            and not info.get(_DEPLOYING)
        ):
            version: int = self.raw.execute("PRAGMA data_version").fetchone()[0]
            cache = info.get(_LATEST)
            if cache is None or cache[0] != version:
                fresh: dict[tuple[str, str], DefinitionRecord] = {}
                cache = info[_LATEST] = (version, fresh)
            hit = cache[1].get((key, kind))
            if hit is not None:
                return hit
        codec = codec_for(schema.definition, DefinitionRecord, self.dialect)
        p = codec.mark
        row = self.raw.execute(
            f'{codec.select} WHERE "key" = {p} AND kind = {p} ORDER BY version DESC LIMIT 1',
            (key, kind),
        ).fetchone()
        if row is None:
            return None
        record: DefinitionRecord = codec.record(row)
        if cache is not None:
            cache[1][key, kind] = record
        return record

    def _deploying(self) -> None:
        # Drop this connection's latest-definition cache and keep it off until the transaction
        # (and its group-commit batch) ends: it would otherwise keep a definition that a
        # rollback or a failed commit takes back. _raw_end clears the flag.
        info = self.c.info
        info.pop(_LATEST, None)
        info[_DEPLOYING] = True

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
        if row is None:
            return None
        rec: InstanceRecord = codec.record(row)
        self._identity[instance_id] = _identity(rec)
        return rec

    def known_instance(self, rec: InstanceRecord) -> None:
        """Note an instance the engine took from its cache as if read (identity columns)."""
        self._identity[rec.id] = _identity(rec)

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
        given = instance_filters(
            key=key,
            definition_id=definition_id,
            business_key=business_key,
            parent_id=parent_id,
            root_id=root_id,
        )
        for name, value in given.items():
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
            rows = [r for r in rows if matches(r, post)]
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
        identity = self._identity
        for rec, expected in changes.instances_update:
            if identity.get(rec.id) == _identity(rec):
                # Only the columns a command changes: SQLite rewrites the entries of every index
                # whose columns an UPDATE sets, changed or not (four indexes on lc_instance).
                values = icodec.params(rec)
                values = [values[i] for i in _STATE_AT]
                values[_STATE_REVISION_AT] = expected + 1
                values += (rec.id, expected)
                sql = _UPDATE_STATE_SQL[self.dialect]
            else:
                values = icodec.update_params(rec)
                # update_params ends with the id; the revision is one of the set columns
                values[_REVISION_AT] = expected + 1
                values.append(expected)
                sql = _UPDATE_INSTANCE_SQL[self.dialect]
            if raw.execute(sql, values).rowcount != 1:
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
            if kind in REVISIONED_KINDS:
                self._write_revisioned(kind, list(upserts.values()))
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
        # Many events share one payload object (e.g. the engine's constant "completed" data):
        # encode each object once. Keyed by id(), valid while ``events`` holds the objects.
        texts: dict[int, str] = {}
        dumps = _codec.dumps
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        last_at: Any = None
        converted: tuple[Any, Any] = (None, None)
        n = len(events)
        i = 0
        while i < n:
            h = events[i]
            i += 1
            kind = h.kind
            seq = h.seq
            data = h.data
            if kind in _MERGE_FIRST and i < n:
                after = events[i]
                merged = _MERGE.get((kind, after.kind))
                if (
                    merged is not None
                    and (data is None if merged != _TASK_DONE else after.data == _DONE)
                    and after.seq == seq + 1
                    and after.element_instance_id == h.element_instance_id
                    and after.at == h.at
                    and after.instance_id == h.instance_id
                    and after.element_id == h.element_id
                    and after.element_type == h.element_type
                    and after.actor == h.actor
                    and after.definition_id == h.definition_id
                ):
                    # Two events of one element instance, one after the other: one row (see
                    # _MERGE), half the rows and index entries (e.g. of a script task).
                    kind = merged
                    if merged != _TASK_DONE:
                        data = after.data
                    i += 1  # the end of the pair is written with its start
            h_at = h.at
            if h_at is not last_at:
                last_at = h_at
                hit = times.get(h_at)
                if hit is None:
                    at = h_at.astimezone(_dt.UTC).replace(tzinfo=None) if h_at.tzinfo else h_at
                    removal = None if ttl is None else at + ttl
                    if sqlite_dialect:
                        hit = (
                            _sqlite_time(at),
                            None if removal is None else _sqlite_time(removal),
                        )
                    else:
                        hit = (at, removal)
                    times[h_at] = hit
                converted = hit
            if data is None:
                data_text = None
            else:
                data_text = texts.get(id(data))
                if data_text is None:
                    data_text = texts[id(data)] = dumps(data)
            append(
                (
                    kind,
                    converted[0],
                    h.instance_id,
                    h.definition_id,
                    h.element_id,
                    h.element_type,
                    h.element_instance_id,
                    h.actor,
                    data_text,
                    seq,
                    converted[1],
                )
            )
        self.raw.executemany(_HISTORY_SQL_SQLITE if sqlite_dialect else _HISTORY_SQL_PG, rows)

    def _write_revisioned(self, kind: str, records: list[Any]) -> None:
        # Optimistic locking for small shared rows (round-robin cursors): a record is written
        # only over the revision it was read at (revision - 1); revision 1 of a row that does
        # not exist yet is an insert, which fails if another transaction inserted it first.
        codec = self._codec(kind)
        check = codec.update_id + f" AND revision = {codec.mark}"
        for rec in records:
            params = [*codec.update_params(rec), rec.revision - 1]
            if self.raw.execute(check, params).rowcount == 1:
                continue
            if rec.revision == 1:
                try:
                    self.raw.execute(codec.insert, codec.params(rec))
                    continue
                except IntegrityError as exc:
                    raise ConcurrencyError(
                        f"{kind.replace('_', ' ')} {rec.id} was created meanwhile",
                        code="store.row_changed",
                        details={"kind": kind, "id": rec.id},
                    ) from exc
            raise ConcurrencyError(
                f"{kind.replace('_', ' ')} {rec.id} changed meanwhile",
                code="store.row_changed",
                details={"kind": kind, "id": rec.id},
            )

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
        """History events matching the filters, in append order.

        A stored activity pair (see ``_PAIR``) comes back as the two events it was written from.
        """
        t = schema.history
        stmt = select(t).order_by(t.c.id)
        post: dict[str, Any] = {}
        for name, want in (filters or {}).items():
            if name not in t.c or name in ("data", "seq"):
                post[name] = want
            elif name == "kind":
                kinds = set(want) if isinstance(want, list | tuple | set | frozenset) else {want}
                pairs = {m for m, halves in _HALVES.items() if kinds & halves}
                if pairs:
                    # a merged row holds two events: read it, keep the half asked
                    kinds |= pairs
                    post[name] = want
                stmt = stmt.where(t.c.kind.in_(sorted(k for k in kinds if k is not None)))
            elif isinstance(want, list | tuple | set | frozenset):
                stmt = stmt.where(t.c[name].in_(list(want)))
            elif want is None:
                stmt = stmt.where(t.c[name].is_(None))
            else:
                stmt = stmt.where(t.c[name] == want)
        if not post and page is not None and page.limit is not None:
            # Every row is one or two events, so the first offset + limit rows hold the page.
            stmt = stmt.limit(page.offset + page.limit)
        events = _expand(_record(HistoryEvent, r) for r in self.c.execute(stmt))
        if post:
            events = [e for e in events if matches(e, post)]
        return page_of(events, page)


#: Stored kinds of two events written one right after the other in one command for the same
#: element instance (same time and columns, actor included; seq and seq + 1), as one row with
#: the first one's seq, read back as both events. Never kinds the engine emits.
#: - activity_run: activity_start (no data) + activity_end (its data): an activity that started
#:   and ended within the command (script tasks, gateways, events);
#: - task_wait: activity_start (no data) + task_create (its data): a user task begins;
#: - task_done: task_complete (its data) + activity_end with the data ``{"completed": true}``.
#: One row instead of two halves the rows and index entries a command writes.
_PAIR = "activity_run"
_TASK_WAIT = "task_wait"
_TASK_DONE = "task_done"
_MERGE = {
    ("activity_start", "activity_end"): _PAIR,
    ("activity_start", "task_create"): _TASK_WAIT,
    ("task_complete", "activity_end"): _TASK_DONE,
}
_HALVES = {m: frozenset(pair) for pair, m in _MERGE.items()}
_MERGE_FIRST = frozenset(first for first, _second in _MERGE)
_SPLIT = {m: pair for pair, m in _MERGE.items()}
_DONE = {"completed": True}


def _expand(events: Iterable[HistoryEvent]) -> list[HistoryEvent]:
    out: list[HistoryEvent] = []
    for e in events:
        pair = _SPLIT.get(e.kind)
        if pair is not None:
            first, second = pair
            done = e.kind == _TASK_DONE
            out.append(
                HistoryEvent(
                    first,
                    e.at,
                    e.instance_id,
                    e.definition_id,
                    e.element_id,
                    e.element_type,
                    e.element_instance_id,
                    e.actor,
                    e.data if done else None,
                    e.seq,
                )
            )
            e.kind = second
            e.seq += 1
            if done:
                e.data = {"completed": True}
        out.append(e)
    return out


def _update_instance_sql(dialect: str) -> str:
    codec = codec_for(schema.instance, InstanceRecord, dialect)
    return codec.update_id + f" AND revision = {codec.mark}"


_UPDATE_INSTANCE_SQL = {d: _update_instance_sql(d) for d in ("sqlite", "postgresql")}
# The columns of lc_instance a command changes in place; the others (_identity) are fixed at
# start, except through migration to another definition, which then writes every column.
_STATE_COLUMNS = ("definition_id", "state", "ended_at", "revision", "doc", "has_incident")
_INSTANCE_NAMES = tuple(f.name for f in dataclasses.fields(InstanceRecord))
_STATE_AT = tuple(_INSTANCE_NAMES.index(n) for n in _STATE_COLUMNS)
_STATE_REVISION_AT = _STATE_COLUMNS.index("revision")
_UPDATE_STATE_SQL = {
    d: f"UPDATE lc_instance SET {', '.join(f'{quote(n)} = {m}' for n in _STATE_COLUMNS)} "
    f"WHERE id = {m} AND revision = {m}"
    for d, m in (("sqlite", "?"), ("postgresql", "%s"))
}


def _identity(rec: InstanceRecord) -> tuple[Any, ...]:
    return (rec.key, rec.business_key, rec.parent_id, rec.root_id, rec.started_at)


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


def _conflict(instance_id: str, expected: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"process instance {instance_id} changed meanwhile (expected revision {expected})",
        element_id=None,
        details={"instance_id": instance_id, "expected_revision": expected},
    )
