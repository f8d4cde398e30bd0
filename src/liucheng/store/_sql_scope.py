"""The transactions of ``._sql.SqlStore`` as context-manager classes.

Every engine command and query opens one: written as generator-based context managers, the
layers (store transaction, group-commit membership, reader checkout) cost each command and each
query several extra frames and a generator apiece, more than SQLite's own BEGIN. A
:class:`_Scope` does the same work in one ``__enter__`` and one ``__exit__``:

* ``GROUP``: a member of the group commit on the shared SQLite connection (``._sql_connection``);
* ``PLAIN``: a pooled connection with a SQLAlchemy transaction (PostgreSQL, an in-memory
  SQLite database, a transaction nested in another on the same thread);
* ``READ``: a pooled SQLite read connection kept checked out, with a deferred BEGIN;
* ``STATEMENT``: reads that each run as one statement (engine queries) on a SQLite read
  connection: no BEGIN and no COMMIT, the statement is its own snapshot (autocommit);
* ``PG_STATEMENT``: the same on PostgreSQL (``autocommit`` on the driver connection while it
  is checked out): one round trip instead of three (BEGIN, the statement, COMMIT).
"""

from __future__ import annotations

import threading
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from liucheng.errors import ConcurrencyError, StoreError

from ._database import READ_ONLY
from ._raw import driver_of
from ._sql_connection import _close_reader, _disconnected, _raw_begin, _raw_end

if TYPE_CHECKING:
    from ._sql import SqlStore, SqlTransaction

GROUP = 0
PLAIN = 1
READ = 2
STATEMENT = 3
PG_STATEMENT = 4

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def translate(exc: DBAPIError, *, committing: bool) -> BaseException:
    """The store's error for a SQLAlchemy error out of a transaction (``exc`` itself if none)."""
    if exc.connection_invalidated:
        # (no pool_pre_ping: a dead pooled connection shows here, on first use)
        return _disconnected(exc, committing=committing)
    if not isinstance(exc, OperationalError):
        return exc
    if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return ConcurrencyError(f"transaction conflict: {exc.orig}", code="store.conflict")
    return StoreError(
        f"database error: {exc.orig}",
        code="store.operational",
        hint="check that the database is reachable and not locked by another program",
    )


class _Scope:
    """One transaction of :class:`~._sql.SqlStore` (see the module docstring)."""

    __slots__ = ("connection", "first", "mode", "store", "tx")

    def __init__(self, store: SqlStore, mode: int) -> None:
        self.store = store
        self.mode = mode
        self.first = False

    def __enter__(self) -> SqlTransaction:
        store = self.store
        try:
            connection = self._open()
        except DBAPIError as exc:
            raise translate(exc, committing=False) from exc
        self.connection = connection
        tx = self.tx = store.transaction_class(
            connection, store.dialect, store.history_ttl, store.definitions
        )
        return tx

    def _open(self) -> Connection:
        mode = self.mode
        store = self.store
        if mode == GROUP:
            group = store._group
            assert group is not None
            connection, self.first = group.join(store._hot_connection)
            return connection
        if mode == PLAIN:
            connection = store.engine.connect()
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
            return connection
        if mode == PG_STATEMENT:
            connection = store.engine.connect()
            try:
                try:
                    driver_of(connection).autocommit = True
                except Exception:
                    # The driver refuses on a connection it knows is broken: a transaction as
                    # usual, whose first statement reports it the way SQLAlchemy reports it.
                    self.mode = PLAIN
                    connection.begin()
            except BaseException:
                connection.close()
                raise
            return connection
        # READ / STATEMENT on a SQLite file: a read connection kept checked out
        with store._idle_lock:
            idle = store._idle_readers
            connection = idle.pop() if idle else None  # type: ignore[assignment]
        if connection is None or connection.closed or connection.invalidated:
            connection = store.engine.connect()
            connection.info[READ_ONLY] = True
        if mode == READ:
            try:
                _raw_begin(connection, "BEGIN")
            except BaseException:
                _close_reader(connection)
                raise
        return connection

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        failure: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        tx = self.tx
        if isinstance(failure, DBAPIError):
            self.store._check_disconnect(connection, failure)
        try:
            # Before the connection passes to another thread (group commit): a driver cursor
            # finalised later, on this thread, would touch it while the other thread uses it.
            tx.close()
            self._close(connection, failure)
        except DBAPIError as exc:
            raise translate(exc, committing=failure is None) from exc
        if failure is not None:
            if isinstance(failure, DBAPIError):
                raise translate(failure, committing=False) from failure
            return  # re-raised by the with statement
        if tx.jobs_changed:
            for listener in self.store.job_listeners:
                listener()

    def _close(self, connection: Connection, failure: BaseException | None) -> None:
        mode = self.mode
        store = self.store
        if mode == GROUP:
            group = store._group
            assert group is not None
            group.leave(connection, self.first, failure)
            return
        if mode == PLAIN:
            try:
                joined = connection.get_transaction()
                if joined is not None:
                    if failure is None:
                        joined.commit()
                    else:
                        joined.rollback()
            finally:
                connection.close()
            return
        if mode == PG_STATEMENT:
            try:
                joined = connection.get_transaction()
                if joined is not None:  # (a SQLAlchemy statement autobegan: a no-op commit)
                    joined.commit()
            finally:
                try:
                    driver_of(connection).autocommit = False
                except Exception:
                    # never hand a connection in autocommit to a writer: the pool drops it
                    with suppress(Exception):
                        connection.invalidate()
                connection.close()
            return
        try:
            if mode == READ:
                _raw_end(connection, commit=failure is None)
            else:
                joined = connection.get_transaction()
                if joined is not None:  # a SQLAlchemy statement autobegan a transaction
                    joined.commit()
        except BaseException:
            _close_reader(connection)
            raise
        if isinstance(failure, DBAPIError):
            # the connection may be broken: a fresh one next time
            _close_reader(connection)
            return
        with store._idle_lock:
            store._idle_readers.append(connection)


def nested(store: SqlStore) -> bool:
    """Whether this thread holds the shared connection already (a nested transaction)."""
    group = store._group
    return group is not None and group.owner == threading.get_ident()
