"""Engine queries without a transaction (``SqlStore.statement_transaction``) and the cached
statements of ``find_rows``.

A query that reads with one statement needs no BEGIN and COMMIT: the statement is a snapshot by
itself. On a SQLite file it runs in autocommit on a read connection kept checked out; on
PostgreSQL the driver connection is in autocommit while checked out and back to transactions
after (the pool hands it to writers next).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest

from liucheng.engine import Engine
from liucheng.engine.ports import TaskRecord
from liucheng.errors import StoreError
from liucheng.store import SqlStore
from liucheng.store._raw import driver_of

from ..engine.helpers import bpmn, flows

TWO_TASKS = bpmn(
    '<startEvent id="s"/><userTask id="a"/><userTask id="b"/><endEvent id="e"/>'
    + flows("s->a", "a->b", "b->e")
)
NOW = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)


def _task(tid: str, instance_id: str, assignee: str | None, seq: int) -> TaskRecord:
    return TaskRecord(
        tid, instance_id, instance_id, "d", "a", "1", "A", assignee, [], ["g"], NOW, seq
    )


def test_a_statement_read_opens_no_transaction(store: SqlStore) -> None:
    seen: list[Any] = []
    with store.statement_transaction() as tx:
        driver = driver_of(tx.c)
        assert tx.raw.execute("SELECT 1").fetchone() == (1,)
        # a transaction open on the driver would have BEGIN'd before the statement ran
        if store.dialect == "sqlite":
            seen.append(driver.in_transaction)
        else:
            seen.append(driver.autocommit)
    assert seen == ([False] if store.dialect == "sqlite" else [True])
    if store.dialect == "postgresql":
        # the pooled connection goes back to transactions: a writer that gets it next commits
        with store.engine.connect() as connection:
            assert driver_of(connection).autocommit is False
    else:
        # the read connection stays checked out for the next read
        assert len(store._idle_readers) == 1


def test_statement_reads_see_each_commit_and_sqlalchemy_reads_end_cleanly(
    store: SqlStore,
) -> None:
    engine = Engine(store)
    engine.deploy(TWO_TASKS)
    pid = engine.start_process("p")
    first = engine.tasks(instance_id=pid)
    assert [t.element_id for t in first] == ["a"]
    engine.complete_task(first[0].id)
    # the next query is a new snapshot: it sees the commit in between
    assert [t.element_id for t in engine.tasks(instance_id=pid)] == ["b"]
    # SQLAlchemy Core queries (definitions, instances, history) autobegin: ended after the read
    assert [d.key for d in engine.definitions()] == ["p"]
    assert [i.id for i in engine.instances()] == [pid]
    assert engine.get_instance(pid) is not None
    assert any(h.kind == "task_complete" for h in engine.history(instance_id=pid))
    with store.statement_transaction() as tx:
        assert tx.c.get_transaction() is None or store.dialect == "postgresql"
    # and a writer after all these reads still commits (no read left a transaction open)
    engine.complete_task(engine.tasks(instance_id=pid)[0].id)
    assert engine.get_instance(pid) is None


def test_find_rows_statements_are_reused_with_each_calls_values(store: SqlStore) -> None:
    with store.transaction() as tx:
        from liucheng.engine.ports import ChangeSet

        cs = ChangeSet()
        for i, (iid, who) in enumerate(
            [("i1", "ann"), ("i1", None), ("i2", "bob"), ("i2", "ann"), ("i3", None)]
        ):
            cs.upsert("task", _task(f"t{i}", iid, who, i))
        tx.apply(cs)

    def ids(**filters: Any) -> list[str]:
        with store.statement_transaction() as tx:
            return [r.id for r in tx.find_rows("task", filters, order_by=("seq",))]

    # one shape, different values: each call binds its own
    assert ids(instance_id="i1") == ["t0", "t1"]
    assert ids(instance_id="i2") == ["t2", "t3"]
    assert ids(assignee=None) == ["t1", "t4"]
    assert ids(assignee=["ann", "bob"]) == ["t0", "t2", "t3"]
    assert ids(assignee=["bob"]) == ["t2"]
    assert ids(assignee=[]) == []
    assert ids(instance_id="i2", assignee="ann") == ["t3"]
    # JSON columns compare in Python, with the value of this call
    assert ids(candidate_groups=[["g"]]) == ["t0", "t1", "t2", "t3", "t4"]
    assert ids(candidate_groups=[["h"]]) == []
    assert ids(candidate_groups=[["h"]], instance_id="i1") == []
    with pytest.raises(StoreError) as info:
        ids(nonsense=1)
    assert info.value.code == "store.filter"
