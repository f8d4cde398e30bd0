"""Connections the PostgreSQL server dropped, without ``pool_pre_ping``.

The pool no longer pings every connection it hands out. A connection that died meanwhile fails
on first use: the store invalidates the whole pool (every connection made before) and reports
``store.disconnected``, a retryable conflict, so the engine runs the command again on a fresh
connection; nothing was committed, so nothing is doubled. A connection lost during COMMIT is
not retried (``store.commit_unknown``): the commit may have happened.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from liucheng.engine import Engine, ManualClock
from liucheng.errors import ConcurrencyError, StoreError
from liucheng.store import SqlStore

from ..conftest import PG_ADMIN_URL
from ..engine.helpers import bpmn, flows

TWO_TASKS = bpmn(
    '<startEvent id="s"/><userTask id="a"/><userTask id="b"/><endEvent id="e"/>'
    + flows("s->a", "a->b", "b->e")
)


@pytest.fixture
def store(pg_url: str) -> Iterator[SqlStore]:
    s = SqlStore(pg_url)
    try:
        yield s
    finally:
        s.dispose()


def _kill_backends(store: SqlStore) -> int:
    """Terminate every server process connected to the store's database; how many."""
    database = store.engine.url.database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def _warm_pool(store: SqlStore, n: int) -> None:
    """Leave ``n`` idle connections in the pool."""
    connections = [store.engine.connect() for _ in range(n)]
    for c in connections:
        c.execute(text("SELECT 1"))
    for c in connections:
        c.close()


def test_commands_after_the_server_dropped_every_connection_run_once(store: SqlStore) -> None:
    # two attempts at most: one failure, then a fresh connection (not the next dead one)
    engine = Engine(store, clock=ManualClock(), max_attempts=2)
    engine.deploy(TWO_TASKS)
    first = engine.start_process("p")
    _warm_pool(store, 3)
    assert _kill_backends(store) >= 3
    second = engine.start_process("p")
    assert sorted(r.id for r in engine.instances(key="p")) == sorted([first, second])
    assert _kill_backends(store) >= 1
    (task,) = engine.tasks(instance_id=second)
    assert _kill_backends(store) >= 1
    engine.complete_task(task.id)
    assert engine.active_elements(second) == ["b"]
    ends = [
        h
        for h in engine.history(instance_id=second)
        if h.kind in ("activity_end", "task_done") and h.element_id == "a"
    ]
    assert len(ends) == 1
    assert [h.kind for h in engine.history(kind="process_start")].count("process_start") == 2


def test_a_connection_lost_inside_a_transaction_is_a_retryable_conflict(
    store: SqlStore,
) -> None:
    with pytest.raises(ConcurrencyError) as info, store.transaction() as tx:
        tx.get_instance("nothing")  # a statement on the driver's cursor
        assert _kill_backends(store) >= 1
        tx.get_instance("nothing")
    assert info.value.code == "store.disconnected"
    # the pool was invalidated: the next transaction works
    with store.transaction() as tx:
        assert tx.get_instance("nothing") is None


def test_a_connection_lost_at_commit_is_not_retried(store: SqlStore) -> None:
    engine = Engine(store, clock=ManualClock())
    engine.deploy(TWO_TASKS)
    with pytest.raises(StoreError) as info, store.transaction() as tx:
        tx.c.execute(text("SELECT 1"))
        assert _kill_backends(store) >= 1
    assert info.value.code == "store.commit_unknown"
    assert "may or may not" in (info.value.hint or "")
    engine.start_process("p")
    assert len(engine.instances(key="p")) == 1


def test_the_engine_is_created_without_pre_ping(store: SqlStore) -> None:
    assert store.engine.pool._pre_ping is False
