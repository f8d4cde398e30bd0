"""The external-task worker's wake-ups on PostgreSQL: no task waits for the poll interval."""

from __future__ import annotations

from typing import Any

import pytest

from liucheng.engine import Engine
from liucheng.jobs import ExternalTaskWorker, Registry
from liucheng.jobs.executor import wait_for
from liucheng.store import SqlStore

from ._late_listen import first_round_seen, hold_listener
from .models import EXTERNAL


def _registry() -> Registry:
    registry = Registry()

    @registry.topic("charge")
    def charge(task: Any) -> dict[str, Any]:
        return {"charged": True}

    return registry


def test_a_task_created_before_the_listener_listens_is_not_missed(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LISTEN connection comes up in its own thread, maybe only after the worker's first
    (empty) round and after another process created a task: no NOTIFY reaches the worker for
    that task, yet it must not sleep through its poll interval."""
    gate = hold_listener(monkeypatch, "lc-ext-listen")
    store = SqlStore(pg_url)
    other = SqlStore(pg_url)
    try:
        client = Engine(other)
        client.deploy(("ext.bpmn", EXTERNAL.encode()))
        worker = ExternalTaskWorker(Engine(store), _registry(), poll_interval=60.0)
        first_round = first_round_seen(worker)
        worker.start()
        try:
            assert first_round.wait(60)  # nothing to do: the worker goes to sleep
            pid = client.start_process("ext")  # its NOTIFY reaches nobody
            gate.set()  # only now does the listener connect
            # the worker polls once a minute: ending well before that means it was woken
            assert wait_for(lambda: client.is_ended(pid), timeout=40)
            assert worker.completed == 1
        finally:
            gate.set()
            worker.stop()
    finally:
        store.dispose()
        other.dispose()
