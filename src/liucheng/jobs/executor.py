"""The job executor: runs timers and asynchronous continuations, in as many processes as wanted.

Each executor leases batches of due jobs (see :mod:`._acquire`), runs each one as an engine
command, and sleeps until the next job is due, a job is created in this process (after commit),
or another process announces one (PostgreSQL ``LISTEN/NOTIFY``), polling as the fallback.

Exactly-once state changes: running a job is one engine transaction that deletes the job row it
read ``FOR UPDATE`` and checks the instance revision, so a job whose lease expired (a crashed or
stalled worker) and was taken by another executor is applied by exactly one of them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from liucheng.engine import Engine
from liucheng.errors import ConcurrencyError, ConfigurationError, LiuchengError
from liucheng.store import JOB_CHANNEL, SqlStore, SqlTransaction
from liucheng.store._retry import in_transaction

from ._acquire import acquire_jobs, next_due_at, release_jobs

__all__ = ["ExecutorStats", "JobExecutor", "default_owner"]

log = logging.getLogger("liucheng.jobs")


def default_owner() -> str:
    """A worker id unique across machines and processes: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class ExecutorStats:
    """What an executor did.

    Attributes:
        executed: Jobs run to completion.
        failed: Jobs whose run failed (retries decremented, maybe an incident).
        conflicts: Jobs given back because the instance changed meanwhile.
        latencies: Seconds from due time to start, per job run (bounded sample).
    """

    executed: int = 0
    failed: int = 0
    conflicts: int = 0
    latencies: list[float] = field(default_factory=list)

    def record_latency(self, seconds: float) -> None:
        """Keep a bounded sample of due-to-start latencies."""
        if len(self.latencies) < 100_000:
            self.latencies.append(seconds)


class JobExecutor:
    """Leases and runs due jobs of one store.

    Args:
        engine: The engine whose jobs to run; its store must be a :class:`SqlStore`.
        owner: Lease owner id (default: host, pid and a random suffix).
        batch_size: Jobs leased per acquisition.
        lease: How long a lease lasts; a crashed worker's jobs run again after it.
        poll_interval: Longest sleep without a wake-up (seconds).
        listen: Listen for PostgreSQL notifications from other processes.
        retry_backoff: Base delay before a failed job runs again (doubles per failure).
        database_clock: Judge due dates and leases by the database clock (PostgreSQL); set
            ``False`` to use the engine's clock (tests and simulations with a manual clock).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        owner: str | None = None,
        batch_size: int = 10,
        lease: _dt.timedelta = _dt.timedelta(minutes=5),
        poll_interval: float = 5.0,
        listen: bool = True,
        retry_backoff: _dt.timedelta = _dt.timedelta(seconds=10),
        database_clock: bool = True,
    ) -> None:
        if not isinstance(engine.store, SqlStore):
            raise ConfigurationError(
                "the job executor needs an engine on a SQL store",
                code="jobs.store",
                hint="create the engine with liucheng.store.SqlStore(url)",
            )
        self.engine = engine
        self.store: SqlStore = engine.store
        self.owner = owner or default_owner()
        self.batch_size = batch_size
        self.lease = lease
        self.poll_interval = poll_interval
        self.retry_backoff = retry_backoff
        self.database_clock = database_clock
        self.stats = ExecutorStats()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._listen = listen and self.store.dialect == "postgresql"
        self.store.job_listeners.append(self._wake.set)

    # ------------------------------------------------------------------ one round
    def run_once(self) -> int:
        """Lease one batch of due jobs and run them; returns how many were leased."""
        jobs = acquire_jobs(
            self.store,
            self.owner,
            limit=self.batch_size,
            lease=self.lease,
            now=None if self.database_clock else self.engine.clock.now(),
        )
        for index, job in enumerate(jobs):
            if self._stop.is_set():
                release_jobs(self.store, self.owner, [j.id for j in jobs[index:]])
                break
            now = self.engine.clock.now()
            self.stats.record_latency(max(0.0, (now - job.due_at).total_seconds()))
            self._run(job.id)
        return len(jobs)

    def _run(self, job_id: str) -> None:
        try:
            ok = self.engine.execute_job(job_id)
        except ConcurrencyError:
            # Someone else changed the instance first; the job stays and runs again later.
            self.stats.conflicts += 1
            release_jobs(self.store, self.owner, [job_id])
            return
        except LiuchengError as exc:  # pragma: no cover - execute_job records its own failures
            log.warning("job %s failed: %s", job_id, exc)
            self.stats.failed += 1
            release_jobs(self.store, self.owner, [job_id])
            return
        if ok:
            self.stats.executed += 1
            return
        self._after_failure(job_id)

    def _after_failure(self, job_id: str) -> None:
        """Delay the next try of a failed job (exponential back-off).

        A job whose element has a retry policy (``camunda:failedJobRetryTimeCycle``) got its next
        due time from that policy when the engine recorded the failure; the back-off here is the
        default for every other job.
        """
        # (counted after the commit: a transaction that lost its connection runs again)
        if in_transaction(self.store, lambda tx: self._back_off(tx, job_id)):
            self.stats.failed += 1

    def _back_off(self, tx: SqlTransaction, job_id: str) -> bool:
        """Push a failed job's due time back; whether the job is still there (a failure)."""
        job = tx.get_row("job", job_id)
        if job is None:
            return False  # not a failure: the job was gone already
        if job.retries <= 0 or self.engine.job_retry_policy(job, tx) is not None:
            return True
        failures = max(0, 2 - job.retries)
        delay = self.retry_backoff * (2**failures)
        from liucheng.engine.ports import ChangeSet

        changes = ChangeSet()
        job.due_at = self.engine.clock.now() + delay
        job.lock_owner = None
        job.lock_expires_at = None
        changes.upsert("job", job)
        tx.apply(changes)
        return True

    def run_until_idle(self, *, max_rounds: int = 10_000) -> int:
        """Run due jobs until none is due now; returns how many were leased in total."""
        total = 0
        for _ in range(max_rounds):
            leased = self.run_once()
            total += leased
            if leased == 0:
                break
        return total

    # ------------------------------------------------------------------ the loop
    def _sleep_time(self) -> float:
        try:
            due = next_due_at(self.store)
        except LiuchengError as exc:  # the database is away: poll again soon, keep the loop
            log.warning("next due time unknown: %s", exc)
            return min(self.poll_interval, 1.0)
        if due is None:
            return self.poll_interval
        wait = (due - self.engine.clock.now()).total_seconds()
        return max(0.0, min(self.poll_interval, wait))

    def run_forever(self) -> None:
        """Run until :meth:`stop` is called (the in-flight job always finishes first)."""
        if self._listen and self._listener is None:
            self._listener = threading.Thread(
                target=self._listen_loop, name=f"lc-listen-{self.owner}", daemon=True
            )
            self._listener.start()
        while not self._stop.is_set():
            try:
                leased = self.run_once()
            except LiuchengError as exc:
                log.warning("job acquisition failed: %s", exc)
                leased = 0
                self._stop.wait(min(self.poll_interval, 1.0))
            if leased >= self.batch_size:
                continue
            if self._stop.is_set():
                break
            self._wake.clear()
            self._wake.wait(self._sleep_time())

    def _listen_loop(self) -> None:
        import psycopg

        url = self.store.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {JOB_CHANNEL}")
                    # Jobs committed before LISTEN took effect sent no notification this
                    # connection receives: one round now finds them.
                    self._wake.set()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._wake.set()
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); polling meanwhile", exc)
                self._stop.wait(1.0)

    def start(self) -> None:
        """Run :meth:`run_forever` in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever, name=f"lc-jobs-{self.owner}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully: finish the running job, give back unstarted leases, then return."""
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._listener):
            if thread is not None:
                thread.join(timeout)
        self._thread = None
        self._listener = None
        with contextlib.suppress(ValueError):
            self.store.job_listeners.remove(self._wake.set)

    def __enter__(self) -> JobExecutor:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_for(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (helper for callers and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
