"""Chaos: worker processes on PostgreSQL killed with SIGKILL at random while running instances."""

from __future__ import annotations

import json
import subprocess
import sys

from liucheng.engine import Engine
from liucheng.jobs.chaos import chaos_model, run_chaos
from liucheng.store import SqlStore


def test_killed_workers_lose_nothing_and_apply_nothing_twice(pg_url: str) -> None:
    # The run ends as soon as every instance is done; the timeout only bounds a hung run (the
    # kills fall in its first quarter). A loaded 2-core machine needed over 120 s for this.
    result = run_chaos(
        pg_url, workers=3, instances=40, kills=4, timeout=360, lease_seconds=2.0, seed=7
    )
    assert result.kills == 4
    assert result.lost == 0
    assert result.double_applied == 0
    assert result.double_fired_timers == 0
    assert result.completed == 40, result


def test_chaos_check_detects_a_double_application(pg_url: str) -> None:
    """The checker itself must notice a step applied twice (so the chaos test can fail)."""
    from liucheng.jobs.chaos import _check

    store = SqlStore(pg_url)
    try:
        engine = Engine(store)
        engine.deploy(("c.bpmn", chaos_model("c", timer="PT0S")))
        pid = engine.start_process("c", {"n": 0})
        engine.run_due_jobs()
        (task,) = engine.fetch_and_lock("chaos-external", "w")
        engine.complete_external_task(task.id, "w", {"n": 5})  # as if applied three times
        engine.run_due_jobs()
        assert engine.is_ended(pid)
        outcome = _check(engine, "c", [pid])
        assert outcome["completed"] == 1
        assert outcome["double_applied"] == 1
    finally:
        store.dispose()


def test_bench_chaos_command_prints_one_json_document(pg_url: str) -> None:
    url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "liucheng.cli",
            "bench",
            "chaos",
            "--database",
            url,
            "--workers",
            "1",
            "--instances",
            "3",
            "--kills",
            "0",
            "--timeout",
            "600",  # a bound, not a wait: it ends once the 3 instances are done
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) >= {
        "instances",
        "completed",
        "lost",
        "double_applied",
        "double_fired_timers",
        "seconds",
    }
    assert doc["instances"] == 3 and doc["completed"] == 3
