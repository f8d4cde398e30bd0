"""The store's fast parameter binding on SQLite changes no stored value (see store._raw)."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from pathlib import Path

import liucheng.store  # noqa: F401  (registers the sqlite3 adapters)
from liucheng.engine import Engine
from liucheng.store import DatabaseSettings, SqlStore

_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="p" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <userTask id="t"/>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>
"""


def test_none_bool_and_bytes_bind_as_sqlite_would_bind_them() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (a, b, c, d)")
    db.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (None, True, False, b"x\x00y"))
    row = db.execute("SELECT a, typeof(a), b, typeof(b), c, d, typeof(d) FROM t").fetchone()
    assert row == (None, "null", 1, "integer", 0, b"x\x00y", "blob")
    assert db.execute("SELECT count(*) FROM t WHERE a IS ?", (None,)).fetchone() == (1,)


def test_nulls_and_flags_round_trip_through_a_command(tmp_path: Path) -> None:
    store = SqlStore(DatabaseSettings(url=f"sqlite:///{tmp_path / 'b.db'}", synchronous="NORMAL"))
    try:
        engine = Engine(store)
        engine.deploy(("p.bpmn", _BPMN))
        pid = engine.start_process("p", {"flag": True, "off": False, "nothing": None})
        assert engine.variables(pid) == {"flag": True, "off": False, "nothing": None}
        (task,) = engine.tasks(instance_id=pid)
        assert task.assignee is None
        engine.complete_task(task.id, {"done": True})
        assert engine.tasks(instance_id=pid) == []
        kinds = [h.kind for h in engine.history(instance_id=pid)]
        assert kinds[0] == "process_start"
        assert {"process_end", "task_complete", "activity_end"} <= set(kinds)
        raw = sqlite3.connect(tmp_path / "b.db")
        nulls = raw.execute(
            "SELECT count(*) FROM lc_history WHERE instance_id = ? AND actor IS NULL", (pid,)
        ).fetchone()[0]
        assert nulls > 0
        assert raw.execute("SELECT typeof(actor) FROM lc_history LIMIT 1").fetchone() == ("null",)
        raw.close()
    finally:
        store.dispose()


def test_nested_transaction_on_the_same_thread_takes_its_own_connection(tmp_path: Path) -> None:
    store = SqlStore(DatabaseSettings(url=f"sqlite:///{tmp_path / 'n.db'}"))
    try:
        with store.transaction() as outer:
            outer_connection = outer.c
            with store.read_transaction() as inner:
                assert inner.c is not outer_connection
                assert inner.raw.execute("SELECT 1").fetchone() == (1,)
    finally:
        store.dispose()


def test_time_texts_are_the_utc_text_of_each_instant() -> None:
    from liucheng.store._raw import _sqlite_time_bind

    utc = _dt.datetime(2026, 11, 22, 1, 2, 3, 456789, tzinfo=_dt.UTC)
    plus2 = utc.astimezone(_dt.timezone(_dt.timedelta(hours=2)))
    naive = _dt.datetime(2026, 11, 22, 3, 2, 3, 456789)
    # twice each: the second answer comes from the cache of recent texts
    for _ in range(2):
        assert _sqlite_time_bind(utc) == "2026-11-22 01:02:03.456789"
        assert _sqlite_time_bind(plus2) == "2026-11-22 01:02:03.456789"
        assert _sqlite_time_bind(naive) == "2026-11-22 03:02:03.456789"
        assert _sqlite_time_bind(None) is None
    for i in range(200):  # many distinct times: the cache stays bounded and answers right
        t = utc + _dt.timedelta(seconds=i)
        assert _sqlite_time_bind(t) == t.replace(tzinfo=None).isoformat(" ", "microseconds")
