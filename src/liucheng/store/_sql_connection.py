"""Connection-level machinery of the SQL store: group commit on one SQLite connection,
transactions begun and ended on the driver (:func:`_raw_begin`, :func:`_raw_end`), and the
errors of lost connections and failed group commits. Used by ``._sql.SqlStore``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from liucheng.errors import ConcurrencyError, StoreError

from ._database import RAW_TX, READ_ONLY
from ._raw import driver_of

# Keys in a SQLite connection's ``info`` (see SqlTransaction.latest_definition): the cache of
# latest definitions, and the flag of a transaction that deploys.
_LATEST = "liucheng_latest_definitions"
_DEPLOYING = "liucheng_deploying"


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

    def join(self, connect: Callable[[], Connection]) -> tuple[Connection, bool]:
        """Take the connection for one transaction of the open batch (opening one if none).

        Returns the connection and whether this transaction opened the batch; every ``join``
        is followed by one :meth:`leave` (see ``._sql_scope``).
        """
        self._take()
        try:
            connection = connect()
            first = self.open is None
            if first:
                _raw_begin(connection, "BEGIN IMMEDIATE")
                self.open = connection
            else:
                driver_of(connection).execute("SAVEPOINT lc_member")
        except BaseException:
            self._release()
            raise
        return connection, first

    def leave(self, connection: Connection, first: bool, failure: BaseException | None) -> None:
        """End the transaction :meth:`join` began: keep its writes in the batch (``failure`` is
        ``None``) or take them back; commit the batch when nobody waits to join it.

        Raises ``failure`` again after taking its writes back, or the error of the batch's
        COMMIT (which then holds none of the writes).
        """
        try:
            if failure is None:
                if not first:
                    driver_of(connection).execute("RELEASE lc_member")
                self.members += 1
            elif first:  # nothing else in the batch yet
                self.open = None
                _raw_end(connection, commit=False)
            else:
                raw = driver_of(connection)
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
    driver = driver_of(connection)
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
        driver = driver_of(connection)
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
