"""The job executor on SQLite and PostgreSQL: timers, async continuations, leases, failures."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from liucheng.engine import Engine, HandlerContext, ManualClock
from liucheng.jobs import JobExecutor, acquire_jobs, release_jobs
from liucheng.store import SqlStore

from ._late_listen import first_round_seen, hold_listener
from .models import ASYNC, FLAKY, FLAKY_RETRY, TIMER

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(sql_url: str) -> Iterator[SqlStore]:
    s = SqlStore(sql_url)
    try:
        yield s
    finally:
        s.dispose()


def _engine(store: SqlStore, clock: ManualClock, **kw: Any) -> Engine:
    return Engine(store, clock=clock, **kw)


def _executor(engine: Engine, **kw: Any) -> JobExecutor:
    kw.setdefault("database_clock", False)
    kw.setdefault("listen", False)
    return JobExecutor(engine, **kw)


def test_timer_fires_once_when_due(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    engine.deploy(("timer.bpmn", TIMER.encode()))
    pid = engine.start_process("timer", {"n": 0})
    executor = _executor(engine)
    assert executor.run_until_idle() == 0
    assert engine.active_elements(pid) == ["wait"]
    clock.advance(dt.timedelta(minutes=4, seconds=59))
    assert executor.run_until_idle() == 0
    clock.advance(dt.timedelta(seconds=1))
    assert executor.run_until_idle() == 1
    assert engine.is_ended(pid)
    assert executor.run_until_idle() == 0
    ends = engine.history(instance_id=pid, kind="activity_end", element_id="wait")
    assert len(ends) == 1


def test_async_continuations_are_save_points(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    engine.deploy(("async.bpmn", ASYNC.encode()))
    pid = engine.start_process("async", {"n": 0})
    assert engine.variables(pid)["n"] == 0
    assert [j.element_id for j in engine.jobs(instance_id=pid)] == ["step1"]
    executor = _executor(engine)
    assert executor.run_once() == 1
    assert engine.variables(pid)["n"] == 1
    assert [j.element_id for j in engine.jobs(instance_id=pid)] == ["step2"]
    executor.run_until_idle()
    assert engine.is_ended(pid)
    assert executor.stats.executed == 2


def test_an_expired_lease_is_taken_over(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    engine.deploy(("async.bpmn", ASYNC.encode()))
    pid = engine.start_process("async", {"n": 0})
    crashed = acquire_jobs(store, "crashed-worker", lease=dt.timedelta(seconds=30), now=clock.now())
    assert [j.element_id for j in crashed] == ["step1"]
    survivor = _executor(engine, owner="survivor")
    assert survivor.run_once() == 0  # the lease is live
    clock.advance(dt.timedelta(seconds=31))
    assert survivor.run_until_idle() == 2
    assert engine.is_ended(pid)


def test_release_gives_back_only_own_leases(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    engine.deploy(("async.bpmn", ASYNC.encode()))
    engine.start_process("async", {"n": 0})
    jobs = acquire_jobs(store, "a", now=clock.now())
    assert release_jobs(store, "b", [j.id for j in jobs]) == 0
    assert release_jobs(store, "a", [j.id for j in jobs]) == 1
    assert [j.lock_owner for j in engine.jobs()] == [None]


def test_exclusive_jobs_of_one_instance_go_to_one_owner(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    engine.deploy(("async.bpmn", ASYNC.encode()))
    first = engine.start_process("async", {"n": 0})
    engine.start_process("async", {"n": 0})
    a = acquire_jobs(store, "a", limit=1, now=clock.now())
    b = acquire_jobs(store, "b", limit=5, now=clock.now())
    assert len(a) == 1 and len(b) == 1
    assert a[0].instance_id != b[0].instance_id
    assert {a[0].instance_id, b[0].instance_id} >= {first}


def test_failures_back_off_then_open_an_incident(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    calls: list[str] = []

    def flaky(ctx: HandlerContext) -> None:
        calls.append(ctx.idempotency_key)
        raise RuntimeError("remote system down")

    engine.register_handler("flaky", flaky)
    engine.deploy(("flaky.bpmn", FLAKY.encode()))
    pid = engine.start_process("flaky")
    executor = _executor(engine, retry_backoff=dt.timedelta(seconds=10))
    assert executor.run_until_idle() == 1
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 2
    assert job.error is not None and "remote system down" in job.error
    assert job.due_at == T0 + dt.timedelta(seconds=10)
    assert executor.run_until_idle() == 0  # backing off
    clock.advance(dt.timedelta(seconds=10))
    assert executor.run_until_idle() == 1
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 1 and job.due_at == clock.now() + dt.timedelta(seconds=20)
    clock.advance(dt.timedelta(seconds=20))
    assert executor.run_until_idle() == 1
    assert len(calls) == 3
    (incident,) = engine.incidents(instance_id=pid)
    assert incident.element_id == "call" and "remote system down" in incident.message
    clock.advance(dt.timedelta(days=1))
    assert executor.run_until_idle() == 0  # no retries left: waits for an operator
    assert engine.active_elements(pid) == ["call"]


def test_the_elements_retry_cycle_wins_over_the_executors_back_off(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    calls: list[dt.datetime] = []

    def flaky(ctx: HandlerContext) -> None:
        calls.append(clock.now())
        raise RuntimeError("remote system down")

    engine.register_handler("flaky", flaky)
    engine.deploy(("flaky_retry.bpmn", FLAKY_RETRY.encode()))
    pid = engine.start_process("flaky_retry")
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 2  # R2: two tries in all
    executor = _executor(engine, retry_backoff=dt.timedelta(seconds=10))
    assert executor.run_until_idle() == 1
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 1 and job.error is not None
    assert job.due_at == T0 + dt.timedelta(minutes=1)  # not the executor's 10 s back-off
    assert engine.incidents(instance_id=pid) == []
    clock.advance(dt.timedelta(seconds=59))
    assert executor.run_until_idle() == 0
    clock.advance(dt.timedelta(seconds=1))
    assert executor.run_until_idle() == 1
    assert calls == [T0, T0 + dt.timedelta(minutes=1)]
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 0
    (incident,) = engine.incidents(instance_id=pid)
    assert incident.element_id == "call" and incident.job_id == job.id
    assert "remote system down" in incident.message
    clock.advance(dt.timedelta(days=1))
    assert executor.run_until_idle() == 0
    assert len(calls) == 2
    assert executor.stats.failed == 2


def test_concurrent_executors_apply_each_job_once(store: SqlStore) -> None:
    clock = ManualClock(T0)
    engine = _engine(store, clock)
    engine.deploy(("async.bpmn", ASYNC.encode()))
    pids = [engine.start_process("async", {"n": 0}) for _ in range(20)]
    executors = [
        _executor(Engine(store, clock=clock), owner=f"w{i}", batch_size=3) for i in range(3)
    ]
    errors: list[BaseException] = []

    def work(ex: JobExecutor) -> None:
        try:
            for _ in range(200):
                if ex.run_once() == 0 and not engine.jobs():
                    return
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ex,)) for ex in executors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert all(engine.is_ended(pid) for pid in pids)
    finals = {
        e.data["value"]
        for e in engine.history(kind="variable")
        if e.data and e.data.get("name") == "n"
    }
    assert finals <= {Decimal(0), Decimal(1), Decimal(2), 0, 1, 2}
    assert sum(ex.stats.executed for ex in executors) == 40
    for pid in pids:
        counts = engine.history(instance_id=pid, kind="activity_end", element_id="step2")
        assert len(counts) == 1


def test_notify_wakes_a_sleeping_executor_across_engines(pg_url: str) -> None:
    store = SqlStore(pg_url)
    other = SqlStore(pg_url)
    try:
        worker_engine = Engine(store)
        executor = JobExecutor(worker_engine, poll_interval=60.0, listen=True)
        executor.start()
        try:
            client = Engine(other)
            client.deploy(("async.bpmn", ASYNC.encode()))
            pid = client.start_process("async", {"n": 0})
            from liucheng.jobs.executor import wait_for

            # The executor polls only once a minute: finishing well before that means the
            # NOTIFY from the other store's commit woke it. (40 s, not less: a loaded machine
            # may be slow to run the two jobs; the deployment takes far less than 20 s.)
            assert wait_for(lambda: client.is_ended(pid), timeout=40)
        finally:
            executor.stop()
    finally:
        store.dispose()
        other.dispose()


def test_a_job_committed_before_the_listener_listens_is_not_missed(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LISTEN connection comes up in its own thread, maybe (on a loaded machine) only after
    the executor's first round and after another process committed a job: no NOTIFY reaches it
    for that job, yet the executor must not sleep through its poll interval."""
    from liucheng.jobs.executor import wait_for

    gate = hold_listener(monkeypatch, "lc-listen")
    store = SqlStore(pg_url)
    other = SqlStore(pg_url)
    try:
        executor = JobExecutor(Engine(store), poll_interval=60.0, listen=True)
        first_round = first_round_seen(executor)
        executor.start()
        try:
            assert first_round.wait(60)  # the executor found nothing and goes to sleep
            client = Engine(other)
            client.deploy(("async.bpmn", ASYNC.encode()))
            pid = client.start_process("async", {"n": 0})  # its NOTIFY reaches nobody
            gate.set()  # only now does the listener connect
            assert wait_for(lambda: client.is_ended(pid), timeout=40)
        finally:
            gate.set()
            executor.stop()
    finally:
        store.dispose()
        other.dispose()


def test_registry_installs_handlers_and_runs_setup_hooks(store: SqlStore) -> None:
    from liucheng.worker import Registry

    registry = Registry()
    seen: list[Engine] = []

    @registry.service("flaky")
    def ok(ctx: HandlerContext) -> dict[str, int]:
        return {"done": 1}

    @registry.setup
    def remember(engine: Engine) -> None:
        seen.append(engine)

    clock = ManualClock(T0)
    engine = _engine(store, clock)
    registry.install(engine)
    assert seen == [engine]
    engine.deploy(("flaky.bpmn", FLAKY.encode()))
    pid = engine.start_process("flaky")
    _executor(engine).run_until_idle()
    assert engine.is_ended(pid)
