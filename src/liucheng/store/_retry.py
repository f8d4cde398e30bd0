"""Transactions run again when a pooled connection turned out dead before COMMIT.

Two helpers for code that opens transactions of its own (engine commands retry by themselves):

* :func:`in_transaction` (from ``liucheng.engine._retry``): a store transaction
  (``SqlStore.transaction``/``read_transaction``), retried on ``store.disconnected``;
* :func:`in_connection`: a SQLAlchemy ``engine.begin()`` block on the store's engine (the REST
  server's own tables: users, tokens, models, audit), retried when SQLAlchemy found the
  connection dead before the block's COMMIT.

Neither retries a break during COMMIT (the commit may have happened) nor any other error, and
both run the callable again: it must act through its transaction or connection only. Both end
in the store's own errors, never in a driver's: ``store.disconnected`` (a
:class:`~liucheng.errors.ConcurrencyError`) when the connection was lost on every attempt,
``store.commit_unknown`` (a :class:`~liucheng.errors.StoreError`) when it broke during COMMIT;
:func:`store_error` makes them from a SQLAlchemy error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from liucheng.engine._retry import ATTEMPTS, DISCONNECTED, in_transaction, log, lost_connection
from liucheng.errors import LiuchengError

__all__ = [
    "ATTEMPTS",
    "COMMIT_UNKNOWN",
    "DISCONNECTED",
    "in_connection",
    "in_transaction",
    "lost_connection",
    "store_error",
]

#: The error code of a connection that broke during COMMIT (the commit may have happened).
COMMIT_UNKNOWN = "store.commit_unknown"

T = TypeVar("T")


def store_error(exc: DBAPIError, *, committing: bool) -> LiuchengError | None:
    """The store's error for a SQLAlchemy error from a database block, or ``None``.

    The same translation ``SqlStore`` transactions make: a connection SQLAlchemy found dead
    gives ``store.disconnected`` (before COMMIT: nothing was committed) or
    ``store.commit_unknown`` (during COMMIT); a PostgreSQL serialisation failure, deadlock or
    lock timeout gives ``store.conflict``; any other operational error (server unreachable,
    SQLite file locked) ``store.operational``. Anything else (a constraint, a bad statement) is
    a bug or a case its caller handles: ``None``, the caller re-raises it.

    Args:
        exc: The error.
        committing: The block's work was done and the error came from its COMMIT.
    """
    # (imported here: the store's modules import this one, through the organisation store)
    from ._sql_scope import translate

    error = translate(exc, committing=committing)
    return error if isinstance(error, LiuchengError) else None


def in_connection(engine: Engine, fn: Callable[[Connection], T], *, attempts: int = ATTEMPTS) -> T:
    """``fn(connection)`` in ``engine.begin()``, run again when the connection was lost.

    SQLAlchemy marks an error that means the server is gone (``connection_invalidated``) and
    invalidates the pool; when that happens before the block's COMMIT nothing was committed and
    ``fn`` runs again on a fresh connection. ``fn`` must act on the database through the
    connection only.

    Args:
        engine: The SQLAlchemy engine (``SqlStore.engine``).
        fn: The block's work (reads or writes); its result is returned after the COMMIT.
        attempts: Attempts in all (at least 1).

    Raises:
        ConcurrencyError: ``store.disconnected``: the connection was lost on every attempt
            (nothing was committed); ``store.conflict``: a serialisation failure or deadlock.
        StoreError: ``store.commit_unknown``: the connection broke during COMMIT (the block
            may or may not have been committed); ``store.operational``: another operational
            error (the database does not answer, a SQLite file is locked).
    """
    attempt = 0
    while True:
        attempt += 1
        body_done = False
        try:
            with engine.begin() as connection:
                result = fn(connection)
                body_done = True
            return result
        except DBAPIError as exc:
            if exc.connection_invalidated and not body_done and attempt < attempts:
                log.info("database connection lost before COMMIT; running the block again")
                continue
            error = store_error(exc, committing=body_done)
            if error is None:
                raise
            raise error from exc
