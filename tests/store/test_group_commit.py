"""Group commit on SQLite: concurrent transactions share one COMMIT, each keeps its own outcome.

Threads run transactions on one store at once. Every transaction that returns normally must be
committed when it returns (another connection sees it); one that fails must leave nothing behind,
while the transactions batched with it stay; and concurrent transactions must share COMMITs.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from liucheng.engine import Engine
from liucheng.engine.ports import ChangeSet, HistoryEvent, InstanceRecord
from liucheng.store import DatabaseSettings, SqlStore

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
THREADS = 6
PER_THREAD = 15


class Boom(Exception):
    """The failure a transaction raises on purpose."""


def _changes(iid: str) -> ChangeSet:
    cs = ChangeSet()
    cs.instances_insert.append(
        InstanceRecord(iid, "p:1:d1", "p", None, None, iid, "active", T0, None, 0, {"v": 1})
    )
    cs.history.append(HistoryEvent("process_start", T0, iid, "p:1:d1", seq=1))
    return cs


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_concurrent_transactions_share_commits_and_fail_alone(
    tmp_path: Path, synchronous: str
) -> None:
    path = tmp_path / "group.db"
    store = SqlStore(DatabaseSettings(url=f"sqlite:///{path}", synchronous=synchronous))  # type: ignore[arg-type]
    commits = 0

    @event.listens_for(store.engine, "commit")
    def _count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    errors: list[BaseException] = []
    unseen: list[str] = []
    start = threading.Barrier(THREADS)

    def client(n: int) -> None:
        # a connection of its own, like another process reading the database
        reader = sqlite3.connect(path, timeout=30)
        try:
            start.wait()
            for i in range(PER_THREAD):
                iid = f"t{n}-{i}"
                fail = i % 5 == 4
                try:
                    with store.transaction() as tx:
                        tx.apply(_changes(iid))
                        time.sleep(0.002)  # long enough for the others to queue up
                        if fail:
                            raise Boom(iid)
                except Boom:
                    continue
                row = reader.execute("SELECT id FROM lc_instance WHERE id = ?", (iid,)).fetchone()
                if row is None:
                    unseen.append(iid)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            reader.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert errors == []
        assert unseen == []  # returned before its COMMIT
        ok = {f"t{n}-{i}" for n in range(THREADS) for i in range(PER_THREAD) if i % 5 != 4}
        db = sqlite3.connect(path)
        try:
            stored = {r[0] for r in db.execute("SELECT id FROM lc_instance")}
            history = {r[0] for r in db.execute("SELECT instance_id FROM lc_history")}
        finally:
            db.close()
        assert stored == ok
        assert history == ok
        # transactions queued behind one another shared COMMITs
        assert commits < THREADS * PER_THREAD / 2
    finally:
        store.dispose()


MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="http://t">
  <process id="two" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="a"/>
    <userTask id="a"/>
    <sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
    <userTask id="b"/>
    <sequenceFlow id="f3" sourceRef="b" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""


def test_engine_commands_from_many_threads(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'engine.db'}")
    engine = Engine(store)
    engine.deploy(("two.bpmn", MODEL))
    errors: list[BaseException] = []
    started: list[str] = []

    def client() -> None:
        try:
            for _ in range(10):
                pid = engine.start_process("two")
                started.append(pid)
                for _step in range(2):
                    (task,) = engine.tasks(instance_id=pid)
                    engine.complete_task(task.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert errors == []
        assert len(started) == 40
        assert engine.instances() == []
        ends = engine.history(kind="process_end")
        assert sorted(e.instance_id or "" for e in ends) == sorted(started)
        done = engine.history(kind="activity_end", element_id="b")
        assert len(done) == 40
    finally:
        store.dispose()


def test_reads_see_committed_data_without_waiting_for_writers(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'read.db'}")
    inside = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with store.transaction() as tx:
                tx.apply(_changes("w1"))
                inside.set()
                release.wait(30)
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)
        began = time.perf_counter()
        with store.read_transaction() as tx:
            # the writer holds the write lock and has not committed: nothing to see, no wait
            assert tx.get_instance("w1") is None
            assert tx.find_history({"instance_id": "w1"}) == []
        # the writer holds its lock for up to 30 s: a read that waited for it would take that long
        assert time.perf_counter() - began < 20
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    with store.read_transaction() as tx:
        rec = tx.get_instance("w1")
        assert rec is not None and rec.revision == 1
        assert [h.kind for h in tx.find_history({"instance_id": "w1"})] == ["process_start"]
    store.dispose()
