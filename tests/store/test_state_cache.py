"""The engine's optimistic cache of instance documents on the SQL store (``_state.StateCache``).

An engine on a :class:`SqlStore` starts a command from the document it wrote last instead of
reading the row. These tests change the instance behind the cache's back through a second store
object on the same database (another process, in effect) and check that every command still
ends as if it had read the row, and that a failed command leaves nothing behind in the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liucheng.engine import Engine
from liucheng.errors import LiuchengError
from liucheng.store import SqlStore, SqlTransaction

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="http://t">
  <process id="cache" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="a"/>
    <userTask id="a"/>
    <sequenceFlow id="f2" sourceRef="a" targetRef="fork"/>
    <parallelGateway id="fork"/>
    <sequenceFlow id="f3" sourceRef="fork" targetRef="left"/>
    <sequenceFlow id="f4" sourceRef="fork" targetRef="right"/>
    <userTask id="left"/>
    <userTask id="right"/>
    <sequenceFlow id="f5" sourceRef="left" targetRef="merge"/>
    <sequenceFlow id="f6" sourceRef="right" targetRef="merge"/>
    <parallelGateway id="merge"/>
    <sequenceFlow id="f7" sourceRef="merge" targetRef="after"/>
    <userTask id="after"/>
    <sequenceFlow id="f8" sourceRef="after" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""


@pytest.fixture
def other(store: SqlStore) -> Iterator[SqlStore]:
    """A second store object on the same database (as another process would have)."""
    s = SqlStore(store.engine.url.render_as_string(hide_password=False), upgrade=False)
    try:
        yield s
    finally:
        s.dispose()


def _task(engine: Engine, pid: str, element: str) -> str:
    (task,) = [t for t in engine.tasks(instance_id=pid) if t.element_id == element]
    return task.id


def _elements(engine: Engine, pid: str) -> list[str]:
    return sorted(t.element_id for t in engine.tasks(instance_id=pid))


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = SqlTransaction.get_instance

    def counting(self: SqlTransaction, instance_id: str) -> Any:
        reads.append(instance_id)
        return original(self, instance_id)

    monkeypatch.setattr(SqlTransaction, "get_instance", counting)
    return reads


def test_a_command_starts_from_the_document_written_last(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(store)
    engine.deploy(("cache.bpmn", MODEL))
    pid = engine.start_process("cache")
    assert engine.state_cache is not None and engine.state_cache.revision(pid) == 1
    reads = _count_reads(monkeypatch)
    engine.complete_task(_task(engine, pid, "a"), {"n": 1})
    assert reads == []  # no row read, no JSON decoded
    assert engine.state_cache.revision(pid) == 2
    assert _elements(engine, pid) == ["left", "right"]
    assert engine.variables(pid) == {"n": 1}


def test_a_stale_document_is_detected_and_the_command_retried(
    store: SqlStore, other: SqlStore
) -> None:
    engine = Engine(store)
    engine.deploy(("cache.bpmn", MODEL))
    pid = engine.start_process("cache")
    engine.complete_task(_task(engine, pid, "a"))
    assert engine.state_cache is not None and engine.state_cache.revision(pid) == 2
    # another engine completes one branch: the cached document still has both waiting
    elsewhere = Engine(other)
    elsewhere.complete_task(_task(elsewhere, pid, "left"))
    engine.complete_task(_task(engine, pid, "right"))
    # the join saw both branches: the write of the stale document conflicted, the retry read
    assert _elements(engine, pid) == ["after"]
    assert engine.state_cache.revision(pid) == 4
    ends = [
        e
        for e in engine.history(instance_id=pid)
        if e.kind == "activity_end" and e.element_id == "merge"
    ]
    assert len(ends) == 1


def test_an_error_from_a_stale_document_reruns_the_command_from_the_row(
    store: SqlStore, other: SqlStore
) -> None:
    engine = Engine(store)
    engine.deploy(("cache.bpmn", MODEL))
    pid = engine.start_process("cache")
    elsewhere = Engine(other)
    elsewhere.complete_task(_task(elsewhere, pid, "a"))
    # the cached document has no element instance for "left" yet: only the stored one has
    engine.complete_task(_task(engine, pid, "left"))
    assert _elements(engine, pid) == ["right"]
    assert engine.state_cache is not None and engine.state_cache.revision(pid) == 3


def test_a_command_that_only_reads_a_stale_document_checks_its_revision(
    store: SqlStore, other: SqlStore
) -> None:
    engine = Engine(store)
    engine.deploy(("cache.bpmn", MODEL))
    pid = engine.start_process("cache")
    elsewhere = Engine(other)
    elsewhere.complete_task(_task(elsewhere, pid, "a"))
    assert engine.state_cache is not None and engine.state_cache.revision(pid) == 1
    engine.assign_task(_task(engine, pid, "left"), "ann")  # writes the task row, not the instance
    assert engine.state_cache.revision(pid) == 2  # the retry read the row, now cached
    engine.complete_task(_task(engine, pid, "left"))
    assert _elements(engine, pid) == ["right"]


def test_a_failed_command_leaves_the_cache_unpoisoned(store: SqlStore) -> None:
    engine = Engine(store)
    engine.deploy(("cache.bpmn", MODEL))
    pid = engine.start_process("cache")
    task = _task(engine, pid, "a")
    with pytest.raises(LiuchengError):
        # the command runs (a completes, both branches start) and then cannot be written
        engine.complete_task(task, {"bad": object()})
    assert engine.state_cache is not None and pid not in engine.state_cache
    assert _elements(engine, pid) == ["a"]
    assert engine.variables(pid) == {}
    engine.complete_task(task, {"good": "yes"})
    assert _elements(engine, pid) == ["left", "right"]
    assert engine.variables(pid) == {"good": "yes"}
    completions = [
        e
        for e in engine.history(instance_id=pid)
        if e.kind == "activity_end" and e.element_id == "a"
    ]
    assert len(completions) == 1


def test_values_a_json_round_trip_changes_are_not_cached(store: SqlStore) -> None:
    engine = Engine(store)
    engine.deploy(("cache.bpmn", MODEL))
    pid = engine.start_process("cache")
    engine.complete_task(_task(engine, pid, "a"), {"pair": (1, 2)})
    assert engine.state_cache is not None and pid not in engine.state_cache
    assert engine.variables(pid) == {"pair": [1, 2]}  # as stored, not the tuple
