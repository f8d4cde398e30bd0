"""Code with transactions of its own survives a dropped connection pool, like engine commands.

Without ``pool_pre_ping`` a connection the server dropped (a PostgreSQL restart) fails on first
use with ``store.disconnected``; engine commands run again by themselves. The job executor,
engine queries, the engine-log reader and the organisation store open their own transactions:
through ``in_transaction`` they run again too, so the first call after a restart succeeds and
nothing is done twice. A break during COMMIT is never run again. The PostgreSQL tests terminate
the pooled server processes; the others check the retry rules on fakes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from liucheng.engine import Engine, HandlerContext, ManualClock
from liucheng.engine.ports import OrgRevisionRecord
from liucheng.errors import ConcurrencyError, StoreError
from liucheng.history import read_engine_log
from liucheng.jobs import JobExecutor
from liucheng.store import SqlStore, SqlTransaction
from liucheng.store._retry import ATTEMPTS, in_connection, in_transaction

from ..engine.helpers import bpmn, flows
from .pg_drop import drop_connections
from .pg_kill import commit_kills_connection, every_connection_dies

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

ASYNC_CALL = bpmn(
    '<startEvent id="s"/><serviceTask id="call" camunda:class="work" camunda:asyncBefore="true"/>'
    '<userTask id="after"/><endEvent id="e"/>' + flows("s->call", "call->after", "after->e")
)
EXTERNAL = bpmn(
    '<startEvent id="s"/><serviceTask id="ext" camunda:type="external" camunda:topic="charge"/>'
    '<endEvent id="e"/>' + flows("s->ext", "ext->e")
)


@pytest.fixture
def store(pg_url: str) -> Iterator[SqlStore]:
    s = SqlStore(pg_url)
    try:
        yield s
    finally:
        s.dispose()


def _drop(store: SqlStore) -> None:
    assert drop_connections(store.engine) >= 1


# ------------------------------------------------------------------ PostgreSQL: the callers


def test_a_job_executor_round_after_the_pool_was_dropped_runs_each_job_once(
    store: SqlStore,
) -> None:
    engine = Engine(store, clock=ManualClock(T0))
    calls: list[str] = []
    engine.register_handler("work", lambda ctx: calls.append(ctx.idempotency_key))
    engine.deploy(ASYNC_CALL)
    pid = engine.start_process("p")
    executor = JobExecutor(engine, database_clock=False, listen=False)
    _drop(store)
    assert executor.run_once() == 1  # acquire (own transaction) on a dead pool
    assert len(calls) == 1 and executor.stats.executed == 1
    _drop(store)
    assert engine.active_elements(pid) == ["after"]  # an engine query (own transaction)
    _drop(store)
    assert executor.run_once() == 0
    assert len(engine.history(instance_id=pid, kind="activity_end", element_id="call")) == 1


def test_a_failed_job_is_backed_off_once_when_the_pool_drops_after_the_failure(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(T0)
    engine = Engine(store, clock=clock)

    def fail(ctx: HandlerContext) -> None:
        raise RuntimeError("remote system down")

    engine.register_handler("work", fail)
    engine.deploy(ASYNC_CALL)
    pid = engine.start_process("p")
    executor = JobExecutor(
        engine, database_clock=False, listen=False, retry_backoff=dt.timedelta(seconds=10)
    )
    execute = engine.execute_job

    def execute_then_drop(job_id: str, worker_id: str | None = None) -> bool:
        ok = execute(job_id, worker_id)
        _drop(store)  # the back-off transaction meets a dead pool
        return ok

    monkeypatch.setattr(engine, "execute_job", execute_then_drop)
    assert executor.run_once() == 1
    assert executor.stats.failed == 1  # counted once, after the commit
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 2 and job.lock_owner is None
    assert job.due_at == T0 + dt.timedelta(seconds=10)


def test_fetch_and_lock_after_the_pool_was_dropped_locks_each_task_once(store: SqlStore) -> None:
    engine = Engine(store, clock=ManualClock(T0))
    engine.deploy(EXTERNAL)
    first = engine.start_process("p")
    second = engine.start_process("p")
    _drop(store)
    locked = engine.fetch_and_lock("charge", "w1", max_tasks=5)
    assert sorted(t.instance_id for t in locked) == sorted([first, second])
    _drop(store)
    rows = engine.external_tasks(topic="charge")
    assert len(rows) == 2 and {r.lock_owner for r in rows} == {"w1"}
    _drop(store)
    assert engine.fetch_and_lock("charge", "w2", max_tasks=5) == []


def test_organisation_store_reads_and_writes_after_the_pool_was_dropped(
    store: SqlStore,
) -> None:
    store.save_org(OrgRevisionRecord(1, {"people": []}, T0, "anna", "import"))
    _drop(store)
    assert store.org_revision() == 1
    _drop(store)
    loaded = store.load_org()
    assert loaded is not None and loaded.author == "anna"
    _drop(store)
    store.save_org(OrgRevisionRecord(2, {"people": [{"id": "p1"}]}, T0, "bob", "add p1"))
    _drop(store)
    assert [r.revision for r in store.org_revisions()] == [1, 2]


def test_the_engine_log_is_read_after_the_pool_was_dropped(store: SqlStore) -> None:
    engine = Engine(store, clock=ManualClock(T0))
    engine.register_handler("work", lambda ctx: None)
    engine.deploy(ASYNC_CALL)
    engine.start_process("p")
    engine.run_due_jobs()
    _drop(store)
    frame = read_engine_log(store)
    assert "call" in set(frame["activity"].to_list())


def test_run_due_jobs_after_the_pool_was_dropped_runs_each_job_once(store: SqlStore) -> None:
    engine = Engine(store, clock=ManualClock(T0))
    calls: list[str] = []
    engine.register_handler("work", lambda ctx: calls.append(ctx.idempotency_key))
    engine.deploy(ASYNC_CALL)
    engine.start_process("p")
    _drop(store)
    assert engine.run_due_jobs() == 1
    assert len(calls) == 1


# ------------------------------------------------------------------ PostgreSQL: COMMIT breaks


def test_a_break_during_commit_is_not_run_again(store: SqlStore) -> None:
    calls = 0

    def work(tx: SqlTransaction) -> None:
        nonlocal calls
        calls += 1
        tx.c.execute(text("SELECT 1"))
        _drop_now(store)  # the statements ran; the COMMIT meets a dead connection

    with pytest.raises(StoreError) as info:
        in_transaction(store, work)
    assert info.value.code == "store.commit_unknown"
    assert calls == 1


def test_a_break_during_commit_of_a_connection_block_is_not_run_again(store: SqlStore) -> None:
    calls = 0

    def work(c: Connection) -> None:
        nonlocal calls
        calls += 1
        c.execute(text("SELECT 1"))
        _drop_now(store)

    with pytest.raises(StoreError) as info:
        in_connection(store.engine, work)
    assert info.value.code == "store.commit_unknown" and "check" in (info.value.hint or "")
    cause = info.value.__cause__
    assert isinstance(cause, DBAPIError) and cause.connection_invalidated
    assert calls == 1
    assert in_connection(store.engine, lambda c: c.execute(text("SELECT 2")).scalar()) == 2


def test_a_connection_block_that_dies_in_commit_is_tried_once_and_left_uncommitted(
    store: SqlStore,
) -> None:
    with store.engine.begin() as c:
        c.execute(text("CREATE TABLE lc_test_note (n int)"))
    calls = 0

    def work(c: Connection) -> None:
        nonlocal calls
        calls += 1
        c.execute(text("INSERT INTO lc_test_note VALUES (1)"))

    with commit_kills_connection(store.engine, "lc_test_note") as tries:
        with pytest.raises(StoreError) as info:
            in_connection(store.engine, work)
        assert info.value.code == "store.commit_unknown"
        assert calls == 1 and tries() == 1
    count = in_connection(
        store.engine, lambda c: c.execute(text("SELECT count(*) FROM lc_test_note"))
    )
    assert count.scalar_one() == 0  # (the server rolled back: the answer could not know that)


# ------------------------------------------------------------------ PostgreSQL: retries run out


def test_a_connection_block_whose_connections_all_die_raises_store_disconnected(
    store: SqlStore,
) -> None:
    with store.engine.begin() as c:
        c.execute(text("CREATE TABLE lc_test_note (n int)"))
    calls = 0

    def work(c: Connection) -> None:
        nonlocal calls
        calls += 1
        c.execute(text("INSERT INTO lc_test_note VALUES (1)"))

    with every_connection_dies(store.engine) as kills, pytest.raises(ConcurrencyError) as info:
        in_connection(store.engine, work)
    assert info.value.code == "store.disconnected"
    assert isinstance(info.value.__cause__, DBAPIError)
    assert calls == ATTEMPTS and kills.count == ATTEMPTS
    count = in_connection(
        store.engine, lambda c: c.execute(text("SELECT count(*) FROM lc_test_note"))
    )
    assert count.scalar_one() == 0


def test_a_store_transaction_whose_connections_all_die_raises_store_disconnected(
    store: SqlStore,
) -> None:
    calls = 0

    def work(tx: SqlTransaction) -> None:
        nonlocal calls
        calls += 1
        tx.c.execute(text("SELECT 1"))

    with every_connection_dies(store.engine) as kills, pytest.raises(ConcurrencyError) as info:
        in_transaction(store, work)
    assert info.value.code == "store.disconnected"
    assert calls == ATTEMPTS and kills.count == ATTEMPTS


def test_the_job_loop_outlives_a_database_that_drops_every_connection(store: SqlStore) -> None:
    engine = Engine(store)
    calls: list[str] = []
    engine.register_handler("work", lambda ctx: calls.append(ctx.idempotency_key))
    engine.deploy(ASYNC_CALL)
    executor = JobExecutor(engine, listen=False, poll_interval=0.05)
    with every_connection_dies(store.engine) as kills:
        executor.start()
        deadline = time.monotonic() + 30
        while kills.count < 3 * ATTEMPTS:  # the loop's rounds and due-time reads all fail
            assert time.monotonic() < deadline
            time.sleep(0.01)
    try:
        pid = engine.start_process("p")
        deadline = time.monotonic() + 30
        while not calls:  # the same loop runs the job once the database keeps connections
            assert time.monotonic() < deadline, "the job loop ended while the database was away"
            time.sleep(0.02)
    finally:
        executor.stop()
    assert engine.active_elements(pid) == ["after"] and len(calls) == 1


def _drop_now(store: SqlStore) -> None:
    # every connection is checked out by the caller or idle: no warming (it would check one out)
    assert drop_connections(store.engine, warm=0) >= 1


# ------------------------------------------------------------------ the rules, on fakes


class _FakeStore:
    """A store whose transactions fail with the given errors first, then succeed."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.begun: list[str] = []

    @contextmanager
    def _begin(self, kind: str) -> Iterator[str]:
        self.begun.append(kind)
        yield kind
        if self.errors:
            raise self.errors.pop(0)

    def transaction(self) -> Any:
        return self._begin("write")

    def read_transaction(self) -> Any:
        return self._begin("read")


def _lost() -> ConcurrencyError:
    return ConcurrencyError("connection lost", code="store.disconnected")


def test_a_lost_connection_runs_the_transaction_again() -> None:
    store = _FakeStore(_lost())
    assert in_transaction(store, lambda tx: f"done in {tx}", read=True) == "done in read"
    assert store.begun == ["read", "read"]


def test_only_a_lost_connection_is_run_again() -> None:
    for error in (
        ConcurrencyError("conflict", code="store.conflict"),
        StoreError("commit unknown", code="store.commit_unknown"),
        RuntimeError("handler failed"),
    ):
        store = _FakeStore(error)
        with pytest.raises(type(error)):
            in_transaction(store, lambda tx: None)
        assert store.begun == ["write"]


def test_the_attempts_are_bounded() -> None:
    store = _FakeStore(_lost(), _lost(), _lost(), _lost())
    with pytest.raises(ConcurrencyError) as info:
        in_transaction(store, lambda tx: None)
    assert info.value.code == "store.disconnected"
    assert len(store.begun) == 3


def test_a_connection_block_runs_again_only_when_the_connection_was_invalidated() -> None:
    engine = create_engine("sqlite://")
    calls = 0

    def work(c: Connection, *, invalidated: bool) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=invalidated)
        return int(c.execute(text("SELECT 7")).scalar_one())

    assert in_connection(engine, lambda c: work(c, invalidated=True)) == 7
    assert calls == 2
    calls = 0
    with pytest.raises(DBAPIError) as raised:
        in_connection(engine, lambda c: work(c, invalidated=False))
    assert type(raised.value) is DBAPIError  # (not an operational error: passed on as it is)
    assert calls == 1
    engine.dispose()


def test_a_connection_block_passes_errors_that_are_not_operational_on() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (n int PRIMARY KEY)"))
        c.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(IntegrityError):  # a constraint: the caller's to handle
        in_connection(engine, lambda c: c.execute(text("INSERT INTO t VALUES (1)")))
    with pytest.raises(StoreError) as info:  # a SQLite file locked by another program
        in_connection(
            engine,
            lambda c: _raise(OperationalError("INSERT", {}, Exception("database is locked"))),
        )
    assert info.value.code == "store.operational"
    engine.dispose()


def _raise(exc: Exception) -> None:
    raise exc
