"""Downgrading migration 0010 writes batch rows back as the rows they hold; downgrading 0006
splits merged history rows (``activity_run``, ``task_wait``, ``task_done``) back into their halves.

Code older than 0006 knows only ``activity_start`` and ``activity_end`` rows, read in ``id``
order; after the downgrade the raw rows must be exactly the events ``find_history`` returned
before, in the same order, and appending history must still work after upgrading again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from liucheng.engine import Engine
from liucheng.store import SqlStore
from liucheng.store._sql import _MIGRATIONS

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="http://t">
  <process id="runs" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <task id="work"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="wait"/>
    <userTask id="wait"/>
    <sequenceFlow id="f3" sourceRef="wait" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _events(store: SqlStore) -> list[tuple[Any, ...]]:
    with store.transaction() as tx:
        return [
            (e.kind, e.instance_id, e.element_id, e.element_instance_id, e.seq, e.data)
            for e in tx.find_history({})
        ]


def _raw_rows(engine: sa.Engine) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT kind, instance_id, element_id, element_instance_id, seq, data "
        "FROM lc_history ORDER BY id"
    )
    with engine.connect() as c:
        rows = c.execute(sa.text(sql)).all()
    from liucheng.store._codec import loads

    return [(*r[:5], loads(r[5])) for r in rows]


def test_0010_downgrade_writes_batches_back_as_rows(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        engine = Engine(store)
        engine.deploy(("runs.bpmn", MODEL))
        pids = [engine.start_process("runs", {"i": i}) for i in range(3)]
        for task in engine.tasks(instance_id=pids[0]):
            engine.complete_task(task.id, {"done": 1.5})
        before = _events(store)
        raw = _raw_rows(store.engine)
        assert "batch" in {k for (k, *_rest) in raw}
        assert len(raw) < len(before)
    finally:
        store.dispose()
    db = sa.create_engine(sql_url)
    try:
        _downgrade(db, "0009")
        after = _raw_rows(db)
        kinds = {k for (k, *_rest) in after}
        assert "batch" not in kinds
        assert {"activity_run", "task_wait", "task_done"} <= kinds  # 0006's pairs stay merged
        with db.connect() as c:  # ids in append order, as the events were
            ids = [r[0] for r in c.execute(sa.text("SELECT id FROM lc_history ORDER BY id"))]
        assert ids == sorted(set(ids))
    finally:
        db.dispose()
    store = SqlStore(sql_url)  # upgrades again: the rows read back as the same events
    try:
        assert _events(store) == before
        engine = Engine(store)
        pid = engine.start_process("runs")
        events = _events(store)
        assert events[: len(before)] == before
        assert any(e[0] == "activity_start" and e[1] == pid for e in events[len(before) :])
    finally:
        store.dispose()


def test_0006_downgrade_splits_activity_runs_in_order(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        engine = Engine(store)
        engine.deploy(("runs.bpmn", MODEL))
        pids = [engine.start_process("runs", {"i": i}) for i in range(3)]
        for task in engine.tasks(instance_id=pids[1]):
            engine.complete_task(task.id, {"done": True})
        before = _events(store)
        kinds = {k for (k, *_rest) in _raw_rows(store.engine)}
        assert "batch" in kinds  # a command's events of one instance stored as one row
    finally:
        store.dispose()
    db = sa.create_engine(sql_url)
    try:
        _downgrade(db, "0005")  # through 0010 (batches) and 0006 (pairs)
        after = _raw_rows(db)
        assert after == before
        merged = {"activity_run", "task_wait", "task_done", "batch"}
        assert not {k for (k, *_rest) in after} & merged
    finally:
        db.dispose()
    store = SqlStore(sql_url)  # upgrades again
    try:
        engine = Engine(store)
        pid = engine.start_process("runs")
        events = _events(store)
        assert events[: len(before)] == before
        assert [e for e in events[len(before) :] if e[1] != pid] == []
        assert any(e[0] == "process_start" and e[1] == pid for e in events)
    finally:
        store.dispose()
