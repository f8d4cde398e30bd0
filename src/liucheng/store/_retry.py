"""Transactions run again when a pooled connection turned out dead before COMMIT.

Two helpers for code that opens transactions of its own (engine commands retry by themselves):

* :func:`in_transaction` (from ``liucheng.engine._retry``): a store transaction
  (``SqlStore.transaction``/``read_transaction``), retried on ``store.disconnected``;
* :func:`in_connection`: a SQLAlchemy ``engine.begin()`` block on the store's engine (the REST
  server's own tables: users, tokens, models, audit), retried when SQLAlchemy found the
  connection dead before the block's COMMIT.

Neither retries a break during COMMIT (the commit may have happened) nor any other error, and
both run the callable again: it must act through its transaction or connection only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from liucheng.engine._retry import ATTEMPTS, DISCONNECTED, in_transaction, log, lost_connection

__all__ = ["ATTEMPTS", "DISCONNECTED", "in_connection", "in_transaction", "lost_connection"]

T = TypeVar("T")


def in_connection(engine: Engine, fn: Callable[[Connection], T], *, attempts: int = ATTEMPTS) -> T:
    """``fn(connection)`` in ``engine.begin()``, run again when the connection was lost.

    SQLAlchemy marks an error that means the server is gone (``connection_invalidated``) and
    invalidates the pool; when that happens before the block's COMMIT nothing was committed and
    ``fn`` runs again on a fresh connection. An error from the COMMIT itself, or any other
    error, propagates unchanged. ``fn`` must act on the database through the connection only.

    Args:
        engine: The SQLAlchemy engine (``SqlStore.engine``).
        fn: The block's work (reads or writes); its result is returned after the COMMIT.
        attempts: Attempts in all (at least 1).
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
            if body_done or not exc.connection_invalidated or attempt >= attempts:
                raise
            log.info("database connection lost before COMMIT; running the block again")
