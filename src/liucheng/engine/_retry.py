"""Transactions run again when their database connection turned out dead before COMMIT.

The SQL store does not ping a pooled connection before handing it out (``pool_pre_ping`` costs a
round trip per checkout), so a connection the server dropped meanwhile (a PostgreSQL restart)
fails on first use: the store invalidates the whole pool and raises ``store.disconnected`` (a
:class:`~liucheng.errors.ConcurrencyError`; nothing was committed). Engine commands run again by
themselves (``EngineBase._command_loop``); code that opens a transaction of its own runs it
through :func:`in_transaction` to get the same. A break during COMMIT (``store.commit_unknown``)
is never run again: the commit may have happened.

This module is store-agnostic (no SQLAlchemy): the engine uses it on any store of the ports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from liucheng.errors import ConcurrencyError

__all__ = ["ATTEMPTS", "DISCONNECTED", "in_transaction", "lost_connection"]

log = logging.getLogger("liucheng.store")

#: The error code of a connection lost before COMMIT (nothing was committed).
DISCONNECTED = "store.disconnected"
#: Attempts in all: a lost connection invalidates the whole pool, so the second attempt gets a
#: fresh connection; the third covers a connection another thread checked out before that.
ATTEMPTS = 3

T = TypeVar("T")
TxT = TypeVar("TxT")
TxT_co = TypeVar("TxT_co", covariant=True)


class Transactional(Protocol[TxT_co]):
    """A store that opens transactions (``liucheng.engine.ports.Store``, ``SqlStore``)."""

    def transaction(self) -> AbstractContextManager[TxT_co]:
        """One transaction: commit on normal exit, roll back on an exception."""
        ...


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` is a connection lost before COMMIT (safe to run the transaction again)."""
    return isinstance(exc, ConcurrencyError) and exc.code == DISCONNECTED


def in_transaction(
    store: Transactional[TxT],
    fn: Callable[[TxT], T],
    *,
    read: bool = False,
    attempts: int = ATTEMPTS,
) -> T:
    """``fn(tx)`` in one store transaction, run again on a fresh connection when it was lost.

    Only ``store.disconnected`` is retried (the connection broke before COMMIT, so the database
    holds none of ``fn``'s writes); a break during COMMIT (``store.commit_unknown``), a conflict
    and every other error propagate at once.

    ``fn`` may run more than once: it must act on the database through ``tx`` only and leave
    every other effect (counters, notifications, calls to other systems) to its caller, who
    does them with the result.

    Args:
        store: The store.
        fn: The transaction's work; its result is returned after the COMMIT.
        read: ``fn`` only reads: use the store's ``read_transaction`` when it has one.
        attempts: Attempts in all (at least 1).

    Raises:
        ConcurrencyError: ``store.disconnected`` on every attempt, or another conflict.
    """
    begin: Callable[[], AbstractContextManager[TxT]] = store.transaction
    if read:
        begin = getattr(store, "read_transaction", None) or begin
    attempt = 0
    while True:
        attempt += 1
        try:
            with begin() as tx:
                return fn(tx)
        except ConcurrencyError as exc:
            if exc.code != DISCONNECTED or attempt >= attempts:
                raise
            log.info("database connection lost before COMMIT; running the transaction again")
