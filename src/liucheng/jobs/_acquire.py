"""Acquiring jobs: leases taken in the database.

PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` inside an ``UPDATE … RETURNING``, so any number of
executors take disjoint batches without waiting on each other. SQLite: the store begins every write
transaction with ``BEGIN IMMEDIATE``, so acquisition is serialised by SQLite's single writer lock.

Lease times come from the database clock on PostgreSQL (``now()``), so clock skew between worker
machines cannot make one worker steal another's live lease. Jobs that have waited past their due
time gain priority (one point per ``aging_seconds``), so low-priority jobs never starve.
"""

from __future__ import annotations

import datetime as _dt

from sqlalchemy import Connection, func, select, text, update

from liucheng.engine.ports import JobRecord
from liucheng.store import SqlStore, SqlTransaction
from liucheng.store._retry import in_transaction
from liucheng.store.schema import job as job_table

__all__ = ["acquire_jobs", "database_now", "next_due_at", "release_jobs"]

_PG_ACQUIRE = text(
    """
    WITH now_utc AS (SELECT COALESCE(CAST(:now AS timestamp), now() AT TIME ZONE 'UTC') AS t),
    cand AS (
        SELECT j.id
        FROM lc_job j, now_utc
        WHERE j.due_at <= now_utc.t
          AND j.retries > 0
          AND (j.lock_owner IS NULL OR j.lock_expires_at <= now_utc.t)
          AND NOT (
              j.exclusive AND j.root_id IS NOT NULL AND EXISTS (
                  SELECT 1 FROM lc_job o
                  WHERE o.root_id = j.root_id AND o.exclusive AND o.id <> j.id
                    AND o.lock_owner IS NOT NULL AND o.lock_expires_at > now_utc.t
              )
          )
        ORDER BY j.priority
                 + LEAST(EXTRACT(EPOCH FROM (now_utc.t - j.due_at)) / :aging, 1000) DESC,
                 j.due_at, j.seq
        LIMIT :limit
        FOR UPDATE OF j SKIP LOCKED
    )
    UPDATE lc_job SET lock_owner = :owner,
                      lock_expires_at = (SELECT t FROM now_utc) + make_interval(secs => :lease)
    FROM cand WHERE lc_job.id = cand.id
    RETURNING lc_job.id
    """
)

_SQLITE_CANDIDATES = text(
    """
    SELECT j.id, j.root_id, j.exclusive FROM lc_job j
    WHERE j.due_at <= :now AND j.retries > 0
      AND (j.lock_owner IS NULL OR j.lock_expires_at <= :now)
      AND NOT (
          j.exclusive AND j.root_id IS NOT NULL AND EXISTS (
              SELECT 1 FROM lc_job o
              WHERE o.root_id = j.root_id AND o.exclusive AND o.id <> j.id
                AND o.lock_owner IS NOT NULL AND o.lock_expires_at > :now
          )
      )
    ORDER BY j.priority + MIN((julianday(:now) - julianday(j.due_at)) * 86400.0 / :aging, 1000)
             DESC, j.due_at, j.seq
    LIMIT :limit
    """
)


def database_now(connection: Connection) -> _dt.datetime:
    """The database's current UTC time (PostgreSQL) or this machine's (SQLite)."""
    if connection.dialect.name == "postgresql":
        value = connection.execute(text("SELECT now() AT TIME ZONE 'UTC'")).scalar_one()
        assert isinstance(value, _dt.datetime)
        return value.replace(tzinfo=_dt.UTC)
    return _dt.datetime.now(_dt.UTC)


def _sqlite_text(value: _dt.datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime type stores, so comparisons in SQL are exact.
    return value.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def acquire_jobs(
    store: SqlStore,
    owner: str,
    *,
    limit: int = 10,
    lease: _dt.timedelta = _dt.timedelta(minutes=5),
    aging_seconds: float = 60.0,
    now: _dt.datetime | None = None,
) -> list[JobRecord]:
    """Lease up to ``limit`` due jobs to ``owner`` and return them (highest priority first).

    ``now`` is the time to judge due dates and leases by; ``None`` uses the database clock on
    PostgreSQL (immune to clock skew between worker machines) and this machine's on SQLite.

    A job is due when its due time has passed, it has retries left and nobody holds a live lease
    on it. Exclusive jobs of a process instance (the default) are not taken while another job of
    the same instance tree is leased.
    """
    # (run again on a fresh connection when a pooled one was dead: nothing was committed)
    return in_transaction(
        store,
        lambda tx: _acquire(
            tx, store.dialect, owner=owner, limit=limit, lease=lease, aging=aging_seconds, now=now
        ),
    )


def _acquire(
    tx: SqlTransaction,
    dialect: str,
    *,
    owner: str,
    limit: int,
    lease: _dt.timedelta,
    aging: float,
    now: _dt.datetime | None,
) -> list[JobRecord]:
    conn = tx.c
    if dialect == "postgresql":
        params = {
            "owner": owner,
            "limit": limit,
            "lease": lease.total_seconds(),
            "aging": aging,
            "now": None if now is None else now.astimezone(_dt.UTC).replace(tzinfo=None),
        }
        picked = [r.id for r in conn.execute(_PG_ACQUIRE, params)]
    else:
        now = now or _dt.datetime.now(_dt.UTC)
        params = {"now": _sqlite_text(now), "limit": limit, "aging": aging}
        picked = [r.id for r in conn.execute(_SQLITE_CANDIDATES, params)]
        if picked:
            conn.execute(
                update(job_table)
                .where(job_table.c.id.in_(picked))
                .values(lock_owner=owner, lock_expires_at=now + lease)
            )
    if not picked:
        return []
    order = {job_id: i for i, job_id in enumerate(picked)}
    rows: list[JobRecord] = tx.find_rows("job", {"id": picked})
    return sorted(rows, key=lambda j: order[j.id])


def release_jobs(store: SqlStore, owner: str, job_ids: list[str]) -> int:
    """Give back leases ``owner`` holds on ``job_ids`` (jobs not run, e.g. on shutdown)."""
    if not job_ids:
        return 0
    statement = (
        update(job_table)
        .where(job_table.c.lock_owner == owner, job_table.c.id.in_(job_ids))
        .values(lock_owner=None, lock_expires_at=None)
    )
    return in_transaction(store, lambda tx: int(tx.c.execute(statement).rowcount))


def next_due_at(store: SqlStore) -> _dt.datetime | None:
    """When the next job with retries left becomes due (``None``: no jobs)."""
    statement = select(func.min(job_table.c.due_at)).where(job_table.c.retries > 0)
    value = in_transaction(store, lambda tx: tx.c.execute(statement).scalar())
    if value is None:
        return None
    assert isinstance(value, _dt.datetime)
    return value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value
