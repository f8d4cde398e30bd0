"""The SQL store: the engine's ports on SQLAlchemy Core (SQLite and PostgreSQL).

One engine command is one database transaction. :meth:`SqlTransaction.apply` writes a command's
whole change set with a few statements: revision-checked instance updates (optimistic locking),
``executemany`` upserts and deletes of index rows, and one ``executemany`` of history rows.
These hot statements, and the reads an engine command makes (instance, index rows, latest
definition), run as pre-rendered SQL on the driver cursor (:mod:`._raw`); on a SQLite file one
connection stays checked out between transactions (see :meth:`SqlStore.transaction`), and the
transactions of that connection and of the read connections begin and end on the driver too
(:func:`_raw_begin`), with the latest definition of each process cached on the write connection
(:meth:`SqlTransaction.latest_definition`). The engine's queries, one statement each, run
without BEGIN and COMMIT (:meth:`SqlStore.statement_transaction`).

The code is split by level: this module holds :class:`SqlStore` (connections and
transactions; their context managers are ``._sql_scope``) and assembles :class:`SqlTransaction`
from mixins: ``._sql_connection``
(group commit, raw BEGIN/COMMIT, disconnect errors), ``._sql_base`` (state and helpers
shared by the mixins), ``._sql_reads`` (queries), ``._sql_writes`` (:meth:`~SqlTransaction.apply`)
and ``._sql_history`` (history rows: append, merged pairs, query).
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from liucheng.engine.ports import DefinitionRecord

from . import _sql_scope, schema
from ._database import DatabaseSettings, connect_database
from ._org import SqlOrgRevisions
from ._sql_connection import _close_reader, _GroupCommit
from ._sql_history import _MERGE  # noqa: F401  (migration 0006 names it here)
from ._sql_reads import SqlReads
from ._sql_scope import (
    GROUP,
    PG_STATEMENT,
    PLAIN,
    READ,
    STATEMENT,
    _Scope,
)
from ._sql_writes import EXTERNAL_TASK_CHANNEL, JOB_CHANNEL, SqlWrites

# (store._retry reads it here)
_RETRYABLE_SQLSTATES = _sql_scope._RETRYABLE_SQLSTATES

__all__ = [
    "EXTERNAL_TASK_CHANNEL",
    "JOB_CHANNEL",
    "SqlStore",
    "SqlTransaction",
    "upgrade_schema",
]

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
    #: The class of the transaction objects (set below, once it is defined).
    transaction_class: type[SqlTransaction]

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
        # On a SQLite file, checking a connection out of the pool and back costs several times
        # what BEGIN and COMMIT cost, and SQLite has one writer at a time anyway: transactions
        # share one connection through group commit (see _GroupCommit). A transaction opened on
        # a thread that already holds the shared connection (nested) takes a pooled one.
        group = self._group
        if group is None or group.owner == threading.get_ident():
            return _Scope(self, PLAIN)
        return _Scope(self, GROUP)

    def read_transaction(self) -> AbstractContextManager[SqlTransaction]:
        """A transaction for reading only: a consistent snapshot of committed data.

        On a SQLite file it runs on a pooled connection of its own with a deferred BEGIN, so
        reads neither wait for nor join the writers' group commit (and never see a batch's
        uncommitted writes). Read connections stay checked out between transactions, like the
        write connection (a pool checkout costs more than a read); each is used by one reader at
        a time. Elsewhere it is :meth:`transaction`.
        """
        return _Scope(self, READ) if self._group is not None else self.transaction()

    def statement_transaction(self) -> AbstractContextManager[SqlTransaction]:
        """Reads without a transaction: every statement is a snapshot of its own.

        For reads that run one statement (the engine's queries): no BEGIN and no COMMIT on
        a SQLite file (a read connection in autocommit, as :meth:`read_transaction`'s) and on
        PostgreSQL (the driver connection in autocommit while it is checked out: one round trip
        instead of three). Two statements may see different commits: a read that needs one
        snapshot for several statements takes :meth:`read_transaction`.
        """
        if self._group is not None:
            return _Scope(self, STATEMENT)
        if self.dialect == "postgresql":
            return _Scope(self, PG_STATEMENT)
        return self.transaction()

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


class SqlTransaction(SqlWrites, SqlReads):
    """The transaction object of :class:`SqlStore` (see ``liucheng.engine.ports.Transaction``)."""


SqlStore.transaction_class = SqlTransaction
