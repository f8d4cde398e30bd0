"""The shared benchmark workloads end in the state their README describes."""

from __future__ import annotations

import datetime as dt

from liucheng.engine import Engine, ManualClock, MemoryStore
from tests.conftest import require_shared


def _final_vars(store: MemoryStore, pid: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for h in store.history:
        if h.kind == "variable" and h.instance_id == pid and h.data:
            out[h.data["name"]] = h.data["value"]
    return out


def test_w1_straight_through() -> None:
    wl = require_shared("bench", "workloads", "feel")
    store = MemoryStore()
    engine = Engine(store, clock=ManualClock())
    engine.deploy(wl / "W1_straight_through.bpmn")
    pid = engine.start_process("W1_straight_through")
    assert engine.is_ended(pid)
    assert _final_vars(store, pid)["counter"] == 10
    ends = [h.element_id for h in store.history if h.kind == "activity_end"]
    assert "End_Done" in ends


def test_w2_service_desk_with_and_without_timer() -> None:
    wl = require_shared("bench", "workloads", "feel")
    store = MemoryStore()
    clock = ManualClock()
    engine = Engine(store, clock=clock)
    engine.deploy(wl / "W2_service_desk.bpmn")
    for priority, escalate in (("high", False), ("normal", True)):
        pid = engine.start_process("W2_service_desk")
        seen = []
        for _ in range(20):
            tasks = engine.tasks(instance_id=pid)
            if not tasks:
                break
            t = tasks[0]
            seen.append(t.element_id)
            if t.element_id == "Task_Resolve" and escalate:
                clock.advance(dt.timedelta(hours=4))
                assert engine.run_due_jobs() == 1
                continue
            variables = {"priority": priority} if t.element_id == "Task_Classify" else None
            engine.complete_task(t.id, variables)
        assert engine.is_ended(pid)
        final = _final_vars(store, pid)
        assert final["sla_hours"] == (4 if priority == "high" else 24)
        assert final["notifications"] == 1
        assert ("Task_Escalate" in seen) is escalate


def test_w3_parallel_fanout() -> None:
    wl = require_shared("bench", "workloads", "feel")
    store = MemoryStore()
    engine = Engine(store, clock=ManualClock())
    engine.deploy(wl / "W3_parallel_fanout.bpmn")
    items = list(range(100))
    pid = engine.start_process("W3_parallel_fanout", {"items": items})
    assert engine.is_ended(pid)
    assert _final_vars(store, pid)["results"] == [2 * x for x in items]
