"""liucheng.jobs: the job executor (timers, async continuations, retries) on the SQL store.

Any number of executors, in any number of processes, can run against one PostgreSQL database:
jobs are leased with ``SELECT … FOR UPDATE SKIP LOCKED``, woken by ``LISTEN/NOTIFY``, and applied
exactly once. On SQLite one process at a time writes (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from ._acquire import acquire_jobs, database_now, next_due_at, release_jobs
from .executor import ExecutorStats, JobExecutor, default_owner
from .worker import BpmnError, ExternalTaskWorker, Registry, load_registry

__all__ = [
    "BpmnError",
    "ExecutorStats",
    "ExternalTaskWorker",
    "JobExecutor",
    "Registry",
    "acquire_jobs",
    "database_now",
    "default_owner",
    "load_registry",
    "next_due_at",
    "release_jobs",
]
