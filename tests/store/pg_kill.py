"""PostgreSQL connections that die: on every checkout (a server in a restart loop), or in COMMIT.

* :func:`every_connection_dies` terminates the server process of each connection the engine's
  pool hands out, before its first statement: every attempt of a retried transaction meets a
  dead connection, so the retries run out.
* :func:`commit_kills_connection` installs a deferred constraint trigger on a table: at COMMIT of
  a transaction that inserted into it, the server process terminates itself (the client sees the
  connection break during COMMIT; the server rolled the transaction back). Each firing takes a
  number from a sequence, which no rollback returns: how often a COMMIT was tried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Engine, event, text

from ..conftest import PG_ADMIN_URL


@dataclass
class Kills:
    """How many connections :func:`every_connection_dies` terminated."""

    count: int = 0


@contextmanager
def every_connection_dies(engine: Engine) -> Iterator[Kills]:
    """While open, each connection the engine's pool hands out is terminated before first use."""
    kills = Kills()
    lock = threading.Lock()  # checkouts come from request threads and the audit writer
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        pid = dbapi_connection.info.backend_pid
        with lock:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + 30
            while admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone() != (0,):
                assert time.monotonic() < deadline, "a terminated server process did not end"
                time.sleep(0.01)
            kills.count += 1

    event.listen(engine, "checkout", checkout)
    try:
        yield kills
    finally:
        event.remove(engine, "checkout", checkout)
        admin.close()


@contextmanager
def commit_kills_connection(engine: Engine, table: str) -> Iterator[Any]:
    """While open, a COMMIT after an insert into ``table`` ends its server process.

    Yields a callable returning how many such COMMITs were tried.
    """
    with engine.begin() as c:
        c.execute(text("CREATE SEQUENCE lc_test_commit_tries"))
        c.execute(
            text(
                "CREATE FUNCTION lc_test_die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "PERFORM nextval('lc_test_commit_tries'); "
                "PERFORM pg_terminate_backend(pg_backend_pid()); "
                "PERFORM pg_sleep(10); RETURN NULL; END $$"
            )
        )
        c.execute(
            text(
                f"CREATE CONSTRAINT TRIGGER lc_test_die AFTER INSERT ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lc_test_die()"
            )
        )

    def tries() -> int:
        with engine.begin() as c:
            value = c.execute(
                text(
                    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM lc_test_commit_tries"
                )
            ).scalar_one()
        return int(value)

    try:
        yield tries
    finally:
        with engine.begin() as c:
            c.execute(text(f"DROP TRIGGER lc_test_die ON {table}"))
            c.execute(text("DROP FUNCTION lc_test_die()"))
            c.execute(text("DROP SEQUENCE lc_test_commit_tries"))
