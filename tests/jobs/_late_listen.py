"""Hold back a LISTEN thread's connection, and see a worker's first round: for wake-up tests."""

from __future__ import annotations

import threading
from typing import Any

import pytest


def hold_listener(monkeypatch: pytest.MonkeyPatch, thread_prefix: str) -> threading.Event:
    """Make threads named ``thread_prefix...`` wait for the returned gate before connecting."""
    import psycopg

    real_connect = psycopg.connect
    gate = threading.Event()

    def late_listener(*args: Any, **kw: Any) -> Any:
        if threading.current_thread().name.startswith(thread_prefix):
            gate.wait(60)
        return real_connect(*args, **kw)

    monkeypatch.setattr(psycopg, "connect", late_listener)
    return gate


def first_round_seen(runner: Any) -> threading.Event:
    """An event set once ``runner.run_once`` (an executor or a worker) has finished a round."""
    seen = threading.Event()
    real_round = runner.run_once

    def counted_round() -> int:
        ran: int = real_round()
        seen.set()
        return ran

    runner.run_once = counted_round
    return seen
