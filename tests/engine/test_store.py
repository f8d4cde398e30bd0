"""The in-memory store and the engine's use of the ports: atomic writes, revisions, paging."""

from __future__ import annotations

import dataclasses
import json

import pytest

from liucheng.engine import Engine, ManualClock, MemoryStore, Page
from liucheng.engine.ports import ChangeSet, TaskRecord
from liucheng.errors import ConcurrencyError, ModelError, NotFoundError

from .helpers import bpmn, engine_with, flows

TWO_TASKS = bpmn(
    '<startEvent id="s"/><userTask id="a"/><userTask id="b"/><endEvent id="e"/>'
    + flows("s->a", "a->b", "b->e")
)


def test_revision_conflict_is_detected_and_nothing_is_written() -> None:
    engine, clock, store = engine_with(TWO_TASKS)
    pid = engine.start_process("p")
    rec = store.instances[pid]
    assert rec.revision == 1
    stale = dataclasses.replace(rec)
    cs = ChangeSet()
    cs.instances_update.append((stale, 1))
    cs.upsert(
        "task",
        TaskRecord("x", pid, pid, rec.definition_id, "a", "1", None, None, [], [], clock.now(), 0),
    )
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert store.instances[pid].revision == 2
    with store.transaction() as tx, pytest.raises(ConcurrencyError):
        tx.apply(cs)
    assert "x" not in store.rows["task"]


def test_concurrent_command_is_retried_on_conflict() -> None:
    engine, _, store = engine_with(TWO_TASKS)
    pid = engine.start_process("p")
    task = engine.tasks(instance_id=pid)[0]
    other = Engine(store, clock=engine.clock)
    calls = {"n": 0}
    real_apply = store._tx.apply

    def racing_apply(cs: ChangeSet) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            other.set_variables(pid, {"meanwhile": True})  # bumps the revision first
        real_apply(cs)

    store._tx.apply = racing_apply  # type: ignore[method-assign]
    engine.complete_task(task.id)
    assert calls["n"] >= 3  # conflict, then the retry (the inner command applies once too)
    assert engine.variables(pid)["meanwhile"] is True
    assert engine.active_elements(pid) == ["b"]


def test_instance_document_is_json_and_reload_continues() -> None:
    engine, clock, store = engine_with(TWO_TASKS)
    pid = engine.start_process("p", {"n": 1, "items": [1, 2]})
    doc = store.instances[pid].doc
    store.instances[pid].doc = json.loads(json.dumps(doc))
    fresh = Engine(store, clock=clock)
    fresh.complete_task(fresh.tasks(instance_id=pid)[0].id)
    assert fresh.active_elements(pid) == ["b"]
    assert fresh.variables(pid) == {"n": 1, "items": [1, 2]}


def test_ended_instances_leave_runtime_rows() -> None:
    engine, _, store = engine_with(TWO_TASKS)
    pid = engine.start_process("p", {"v": 1})
    assert store.rows["variable"]
    for _ in range(2):
        engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.is_ended(pid)
    assert all(not rows for rows in store.rows.values())
    assert pid not in store.instances


def test_queries_filter_and_page() -> None:
    engine, _, _ = engine_with(TWO_TASKS)
    ids = [engine.start_process("p", business_key=f"k{i}") for i in range(5)]
    assert [r.business_key for r in engine.instances(business_key="k3")] == ["k3"]
    page = engine.tasks(page=Page(offset=1, limit=2))
    assert [t.instance_id for t in page] == ids[1:3]
    assert len(engine.tasks(instance_id=[ids[0], ids[4]])) == 2
    assert len(engine.history(kind="process_start")) == 5


def test_deploy_versions_and_errors() -> None:
    engine = Engine(MemoryStore(), clock=ManualClock())
    d1 = engine.deploy(("a.bpmn", TWO_TASKS))
    d2 = engine.deploy(("a.bpmn", TWO_TASKS))
    assert (d1.definition("p").version, d2.definition("p").version) == (1, 2)
    with pytest.raises(ModelError):
        engine.deploy(("bad.bpmn", b"<definitions"))
    with pytest.raises(NotFoundError):
        engine.start_process("nope")
    with pytest.raises(NotFoundError):
        engine.complete_task("no-such-task")
    assert [d.version for d in engine.definitions("p")] == [1, 2]


def test_history_off_writes_no_events() -> None:
    engine, _, store = engine_with(TWO_TASKS, history=False)
    engine.start_process("p")
    assert store.history_count == 0


def test_instances_found_by_process_variable() -> None:
    engine, _, _ = engine_with(TWO_TASKS)
    a = engine.start_process("p", {"customer": "acme"})
    engine.start_process("p", {"customer": "other"})
    assert engine.instances_with_variable("customer", "acme") == [a]
    engine.set_variables(a, {"customer": "renamed"})
    assert engine.instances_with_variable("customer", "acme") == []


def test_deploy_detects_dmn_given_as_raw_bytes() -> None:
    from .test_flow import DMN

    engine = Engine(MemoryStore(), clock=ManualClock())
    dep = engine.deploy(TWO_TASKS, DMN)
    assert sorted((d.kind, d.key) for d in dep.definitions) == [("bpmn", "p"), ("dmn", "prio")]
