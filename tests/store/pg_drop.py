"""Dropping every pooled PostgreSQL connection of a store, as a server restart does."""

from __future__ import annotations

import time

import psycopg
from sqlalchemy import Engine, text

from ..conftest import PG_ADMIN_URL


def warm_pool(engine: Engine, n: int = 4) -> None:
    """Leave ``n`` idle, used connections in the engine's pool."""
    connections = [engine.connect() for _ in range(n)]
    for c in connections:
        c.execute(text("SELECT 1"))
    for c in connections:
        c.close()


def drop_connections(engine: Engine, *, warm: int = 4) -> int:
    """Fill the pool with ``warm`` connections, then have the server terminate every connection
    to the engine's database (the pool is not told); how many were terminated."""
    if warm:
        warm_pool(engine, warm)
    others = "WHERE datname = %s AND pid <> pg_backend_pid()"
    database = (engine.url.database,)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity {others}", database
        ).fetchall()
        # the server processes end a moment later: wait, so the next use surely finds them gone
        deadline = time.monotonic() + 30
        while admin.execute(
            f"SELECT count(*) FROM pg_stat_activity {others}", database
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "terminated server processes did not end"
            time.sleep(0.02)
    return len(rows)
