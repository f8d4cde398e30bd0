"""The SQL store against the engine's store protocol, on SQLite and PostgreSQL.

Most checks run the same operations on the in-memory store too and compare, so the SQL store
behaves exactly like the reference implementation the engine is tested with.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from liucheng.engine.memory import MemoryStore
from liucheng.engine.ports import (
    INDEX_KINDS,
    BufferedMessage,
    ChangeSet,
    DefinitionRecord,
    DeploymentRecord,
    HistoryEvent,
    InstanceRecord,
    JobRecord,
    Page,
    SubscriptionRecord,
    TaskRecord,
)
from liucheng.errors import ConcurrencyError
from liucheng.store import SqlStore, schema

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _instance(iid: str = "i1", **kw: Any) -> InstanceRecord:
    base: dict[str, Any] = {
        "id": iid,
        "definition_id": "p:1:d1",
        "key": "p",
        "business_key": "bk-" + iid,
        "parent_id": None,
        "root_id": iid,
        "state": "active",
        "started_at": T0,
        "ended_at": None,
        "revision": 0,
        "doc": {"v": 1, "vars": {"amount": Decimal("12.50"), "when": dt.date(2025, 1, 2)}},
    }
    base.update(kw)
    return InstanceRecord(**base)


def _task(tid: str, seq: int, **kw: Any) -> TaskRecord:
    base: dict[str, Any] = {
        "id": tid,
        "instance_id": "i1",
        "root_id": "i1",
        "definition_id": "p:1:d1",
        "element_id": "review",
        "element_instance_id": str(seq),
        "name": "Review",
        "assignee": None,
        "candidate_users": [],
        "candidate_groups": ["sales"],
        "created_at": T0 + dt.timedelta(seconds=seq),
        "seq": seq,
    }
    base.update(kw)
    return TaskRecord(**base)


def _job(jid: str, due: dt.datetime, **kw: Any) -> JobRecord:
    base: dict[str, Any] = {
        "id": jid,
        "instance_id": "i1",
        "root_id": "i1",
        "definition_id": "p:1:d1",
        "element_id": "timer",
        "element_instance_id": "3",
        "kind": "timer",
        "due_at": due,
        "data": {"left": 2},
    }
    base.update(kw)
    return JobRecord(**base)


def _deploy(tx: Any) -> None:
    tx.add_deployment(
        DeploymentRecord("d1", "p.bpmn", T0, {"p.bpmn": b"<xml/>", "r.dmn": b"<dmn/>"}),
        [
            DefinitionRecord("p:1:d1", "p", 1, "bpmn", "P", "d1", "p.bpmn", T0),
            DefinitionRecord("r:1:d1", "r", 1, "dmn", "R", "d1", "r.dmn", T0),
        ],
    )
    tx.add_deployment(
        DeploymentRecord("d2", "p.bpmn", T0, {"p.bpmn": b"<xml v2/>"}),
        [DefinitionRecord("p:2:d2", "p", 2, "bpmn", "P", "d2", "p.bpmn", T0)],
    )


def _both(store: SqlStore) -> list[Any]:
    return [store, MemoryStore()]


def test_migrations_produce_exactly_the_schema(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "lc_schema_version"})
        diff = compare_metadata(context, schema.metadata)
    assert [
        d for d in diff if not (d[0] == "remove_table" and d[1].name == "lc_schema_version")
    ] == []


@pytest.mark.parametrize("kind", sorted(INDEX_KINDS))
def test_tables_match_the_port_records(kind: str) -> None:
    table = schema.INDEX_TABLES[kind]
    fields = {f.name for f in dataclasses.fields(INDEX_KINDS[kind])}
    assert {c.name for c in table.columns} == fields


def test_history_and_instance_tables_match_records() -> None:
    assert {c.name for c in schema.instance.columns} == {
        f.name for f in dataclasses.fields(InstanceRecord)
    }
    assert {c.name for c in schema.history.columns} - {"id", "removal_time"} == {
        f.name for f in dataclasses.fields(HistoryEvent)
    }


def test_deployments_and_versions(store: SqlStore) -> None:
    results = []
    for s in _both(store):
        with s.transaction() as tx:
            _deploy(tx)
        with s.transaction() as tx:
            dep = tx.get_deployment("d1")
            results.append(
                (
                    tx.latest_definition("p").id,
                    tx.definition_by_version("p", 1).id,
                    tx.definition_by_version("p", 3),
                    tx.latest_definition("r", "dmn").id,
                    tx.latest_definition("r"),
                    [d.id for d in tx.list_definitions(key="p")],
                    dep.resources,
                    tx.get_definition("p:2:d2").deployed_at,
                )
            )
    assert results[0] == results[1]
    assert results[0][0] == "p:2:d2"


def test_instance_round_trip_keeps_feel_values(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.apply(ChangeSet(instances_insert=[_instance()]))
    with store.transaction() as tx:
        got = tx.get_instance("i1")
    assert got is not None
    assert got.revision == 1
    assert got.doc["vars"]["amount"] == Decimal("12.50")
    assert isinstance(got.doc["vars"]["amount"], Decimal)
    assert got.doc["vars"]["when"] == dt.date(2025, 1, 2)
    assert got.started_at == T0 and got.started_at.tzinfo is not None


def test_revision_conflict_writes_nothing(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.apply(ChangeSet(instances_insert=[_instance()]))
    first = ChangeSet(instances_update=[(_instance(state="active", business_key="A"), 1)])
    with store.transaction() as tx:
        tx.apply(first)
    stale = ChangeSet(instances_update=[(_instance(business_key="B"), 1)])
    stale.upsert("task", _task("t1", 1))
    stale.history.append(HistoryEvent("task_create", T0, "i1", "p:1:d1", "review"))
    with pytest.raises(ConcurrencyError), store.transaction() as tx:
        tx.apply(stale)
    with store.transaction() as tx:
        inst = tx.get_instance("i1")
        assert inst is not None and inst.business_key == "A" and inst.revision == 2
        assert tx.find_rows("task") == []
        assert tx.find_history() == []


def test_concurrent_updates_one_wins(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.apply(ChangeSet(instances_insert=[_instance()]))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(name: str) -> None:
        try:
            with store.transaction() as tx:
                tx.get_instance("i1")
                barrier.wait(timeout=120)
                tx.apply(ChangeSet(instances_update=[(_instance(business_key=name), 1)]))
            outcomes.append("ok")
        except ConcurrencyError:
            outcomes.append("conflict")
        except threading.BrokenBarrierError:
            outcomes.append("serialised")

    if store.dialect == "sqlite":
        # SQLite's writers are serialised by BEGIN IMMEDIATE: the second waits for the first and
        # then sees revision 2. Run them one after the other through the same code path.
        barrier = threading.Barrier(1)
        worker("X")
        worker("Y")
    else:
        threads = [threading.Thread(target=worker, args=(n,)) for n in "XY"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with store.transaction() as tx:
        inst = tx.get_instance("i1")
    assert inst is not None and inst.revision == 2


def test_index_rows_behave_like_the_memory_store(store: SqlStore) -> None:
    results = []
    for s in _both(store):
        cs = ChangeSet()
        cs.upsert("task", _task("t1", 1))
        cs.upsert("task", _task("t2", 2, assignee="kermit", candidate_groups=["ops"]))
        cs.upsert("task", _task("t3", 3, instance_id="i2", root_id="i2"))
        cs.upsert(
            "subscription",
            SubscriptionRecord(
                "s1", "message", "paid", "order-7", "i1", "i1", "p:1:d1", "m", "4", T0
            ),
        )
        cs.upsert(
            "message",
            BufferedMessage("m1", "paid", "k", {"x": Decimal(1)}, T0, T0 + dt.timedelta(hours=1)),
        )
        with s.transaction() as tx:
            tx.apply(cs)
        cs2 = ChangeSet()
        cs2.upsert("task", _task("t1", 1, assignee="gonzo"))
        cs2.delete("task", "t3")
        cs2.delete("task", "never-existed")
        with s.transaction() as tx:
            tx.apply(cs2)
        with s.transaction() as tx:
            results.append(
                (
                    [(t.id, t.assignee, t.candidate_groups) for t in tx.find_rows("task")],
                    [t.id for t in tx.find_rows("task", {"assignee": None})],
                    [t.id for t in tx.find_rows("task", {"assignee": ["gonzo", "kermit"]})],
                    [t.id for t in tx.find_rows("task", {"candidate_groups": [["ops"]]})],
                    [t.id for t in tx.find_rows("task", order_by=["seq"], page=Page(1, 1))],
                    [
                        s.id
                        for s in tx.find_rows(
                            "subscription", {"name": "paid", "correlation_key": "order-7"}
                        )
                    ],
                    tx.get_row("message", "m1").variables,
                    tx.get_row("task", "t3"),
                )
            )
    assert results[0] == results[1]
    assert results[0][0] == [("t1", "gonzo", ["sales"]), ("t2", "kermit", ["ops"])]


def test_due_jobs_like_the_memory_store(store: SqlStore) -> None:
    results = []
    now = T0 + dt.timedelta(hours=1)
    for s in _both(store):
        cs = ChangeSet()
        cs.upsert("job", _job("late", T0, seq=1))
        cs.upsert("job", _job("urgent", T0 + dt.timedelta(minutes=5), priority=5, seq=2))
        cs.upsert("job", _job("calm", T0 + dt.timedelta(minutes=5), priority=0, seq=3))
        cs.upsert("job", _job("future", now + dt.timedelta(seconds=1), seq=4))
        cs.upsert("job", _job("no-retries", T0, retries=0, seq=5))
        cs.upsert(
            "job",
            _job(
                "locked", T0, lock_owner="w1", lock_expires_at=now + dt.timedelta(minutes=1), seq=6
            ),
        )
        cs.upsert("job", _job("lease-over", T0, lock_owner="w1", lock_expires_at=now, seq=7))
        with s.transaction() as tx:
            tx.apply(cs)
        with s.transaction() as tx:
            results.append(
                ([j.id for j in tx.due_jobs(now)], [j.id for j in tx.due_jobs(now, limit=2)])
            )
    assert results[0] == results[1]
    assert results[0][0] == ["late", "lease-over", "urgent", "calm"]


def test_history_is_append_only(store: SqlStore) -> None:
    cs = ChangeSet()
    cs.history.append(HistoryEvent("process_start", T0, "i1", "p:1:d1", data={"n": Decimal("1.5")}))
    cs.history.append(
        HistoryEvent(
            "activity_start", T0, "i1", "p:1:d1", "review", "userTask", "2", "kermit", seq=1
        )
    )
    with store.transaction() as tx:
        tx.apply(cs)
    with store.transaction() as tx:
        rows = tx.find_history({"instance_id": "i1"})
        assert [h.kind for h in rows] == ["process_start", "activity_start"]
        assert rows[0].data == {"n": Decimal("1.5")}
        assert [h.kind for h in tx.find_history({"actor": "kermit"})] == ["activity_start"]
        assert len(tx.find_history(page=Page(1, 5))) == 1
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("UPDATE lc_history SET kind = 'forged'"))
    with store.transaction() as tx:
        assert [h.kind for h in tx.find_history()] == ["process_start", "activity_start"]


def test_history_retention_stamps_and_deletes_in_batches(sql_url: str) -> None:
    store = SqlStore(sql_url, history_ttl=dt.timedelta(days=30))
    try:
        cs = ChangeSet()
        for day in range(10):
            cs.history.append(
                HistoryEvent("activity_end", T0 + dt.timedelta(days=day), "i1", "p:1:d1", seq=day)
            )
        with store.transaction() as tx:
            tx.apply(cs)
        # Removal times are stamped at insert: event time + 30 days.
        cutoff = T0 + dt.timedelta(days=30 + 4)
        assert store.cleanup_history(cutoff, batch_size=2, max_batches=1) == 2
        assert store.cleanup_history(cutoff, batch_size=2) == 3
        with store.transaction() as tx:
            left = tx.find_history()
        assert [h.seq for h in left] == [5, 6, 7, 8, 9]
        assert store.cleanup_history(T0 + dt.timedelta(days=365)) == 5
    finally:
        store.dispose()


def test_history_without_ttl_is_kept(store: SqlStore) -> None:
    cs = ChangeSet()
    cs.history.append(HistoryEvent("process_start", T0, "i1", "p:1:d1"))
    with store.transaction() as tx:
        tx.apply(cs)
    assert store.cleanup_history(T0 + dt.timedelta(days=10_000)) == 0


def test_cli_default_database_matches_the_store() -> None:
    from liucheng.cli.db import DEFAULT_DATABASE as CLI_DEFAULT
    from liucheng.store import DEFAULT_DATABASE as STORE_DEFAULT

    assert CLI_DEFAULT == STORE_DEFAULT


def _activity_events() -> list[HistoryEvent]:
    """A command's history: pairs that the SQL store stores as one row, and near misses."""
    t1 = T0 + dt.timedelta(seconds=1)
    done = {"completed": True}

    def ev(kind: str, seq: int, eid: str, el: str, **kw: Any) -> HistoryEvent:
        base: dict[str, Any] = {"at": T0, "element_type": "scriptTask", "actor": None}
        base.update(kw)
        return HistoryEvent(
            kind, base.pop("at"), "i1", "p:1:d1", el, element_instance_id=eid, seq=seq, **base
        )

    return [
        HistoryEvent("process_start", T0, "i1", "p:1:d1", data={"key": "p"}, seq=1),
        ev("activity_start", 2, "1", "start", element_type="startEvent"),
        ev("activity_end", 3, "1", "start", element_type="startEvent", data=done),
        ev("activity_start", 4, "2", "sub", element_type="subProcess"),
        ev("activity_start", 5, "3", "inner"),
        ev("activity_end", 6, "3", "inner", data=done),
        ev("activity_end", 7, "2", "sub", element_type="subProcess", data=done),
        # not pairs: another time, an actor on one half, a gap in seq, start with data
        ev("activity_start", 8, "4", "late"),
        ev("activity_end", 9, "4", "late", at=t1, data=done),
        ev("activity_start", 10, "5", "who"),
        ev("activity_end", 11, "5", "who", actor="kermit", data=done),
        ev("activity_start", 12, "6", "gap"),
        ev("activity_end", 14, "6", "gap", data=done),
        ev("activity_start", 15, "7", "loaded", data={"loop": 1}),
        ev("activity_end", 16, "7", "loaded", data={"completed": False}),
        HistoryEvent("variable", T0, "i1", "p:1:d1", data={"name": "x", "value": 1}, seq=17),
        ev("activity_start", 18, "8", "last"),
        ev("activity_end", 19, "8", "last", data=done),
    ]


def _stored_history(store: SqlStore) -> tuple[list[tuple[str, int]], int]:
    """(kind, seq) of the logical rows stored (pairs merged, batch rows opened), physical rows."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, seq, data FROM lc_history ORDER BY id")).all()
    out: list[tuple[str, int]] = []
    for kind, seq, data in rows:
        if kind == "batch":
            out.extend((entry[0], entry[6]) for entry in json.loads(data))
        else:
            out.append((kind, seq))
    return out, len(rows)


def test_history_activity_pairs_read_back_as_written(store: SqlStore) -> None:
    memory = MemoryStore()
    for s in (store, memory):
        cs = ChangeSet()
        cs.history.extend(_activity_events())
        with s.transaction() as tx:
            tx.apply(cs)
    stored, physical = _stored_history(store)
    assert physical < len(stored)  # the command's events of i1 share batch rows
    # start/inner/last started and ended back to back: one row each
    assert [tuple(r) for r in stored if r[0] == "activity_run"] == [
        ("activity_run", 2),
        ("activity_run", 5),
        ("activity_run", 18),
    ]
    assert len(stored) == len(_activity_events()) - 3
    queries: list[tuple[dict[str, Any], Page | None]] = [
        ({}, None),
        ({"kind": "activity_end"}, None),
        ({"kind": ["activity_start", "process_start"]}, None),
        ({"kind": "variable"}, None),
        ({"element_id": "inner"}, None),
        ({"seq": [3, 6, 9]}, None),
        ({"actor": None, "kind": "activity_end"}, None),
        ({"data": {"completed": True}}, None),
        ({}, Page(1, 4)),
        ({}, Page(3, 3)),
        ({"instance_id": "i1"}, Page(5, 100)),
        ({"kind": "activity_start"}, Page(2, 2)),
    ]
    for filters, page in queries:
        with store.transaction() as tx:
            got = tx.find_history(dict(filters), page=page)
        with memory.transaction() as mtx:
            want = mtx.find_history(dict(filters), page=page)
        assert got == want, (filters, page)
    with store.transaction() as tx:
        assert [(e.kind, e.seq) for e in tx.find_history({"element_id": "last"})] == [
            ("activity_start", 18),
            ("activity_end", 19),
        ]


def _task_events() -> list[HistoryEvent]:
    """A user task begins and ends: pairs stored as one row (task_wait, task_done), near misses."""
    done = {"completed": True}

    def ev(kind: str, seq: int, eid: str, **kw: Any) -> HistoryEvent:
        base: dict[str, Any] = {"actor": None}
        base.update(kw)
        return HistoryEvent(kind, T0, "i1", "p:1:d1", f"t{eid}", "userTask", eid, seq=seq, **base)

    return [
        ev("activity_start", 1, "1"),
        ev("task_create", 2, "1", data={"task_id": "i1-1", "assignee": None}),
        ev("task_complete", 3, "1", data={"task_id": "i1-1"}),
        ev("activity_end", 4, "1", data=done),
        # not pairs: an end that was not a completion, an actor on one half, start with data
        ev("task_complete", 5, "2", data={"task_id": "i1-2"}),
        ev("activity_end", 6, "2", data={"completed": False}),
        ev("task_complete", 7, "3", actor="ann", data={"task_id": "i1-3"}),
        ev("activity_end", 8, "3", data=done),
        ev("activity_start", 9, "4", data={"loop": 1}),
        ev("task_create", 10, "4", data={"task_id": "i1-4", "assignee": "bob"}),
        # a pair with an actor on both halves, and one whose completion has no data
        ev("task_complete", 11, "5", actor="cy", data={"task_id": "i1-5"}),
        ev("activity_end", 12, "5", actor="cy", data=done),
        ev("task_complete", 13, "6"),
        ev("activity_end", 14, "6", data=done),
    ]


def test_history_task_pairs_read_back_as_written(store: SqlStore) -> None:
    memory = MemoryStore()
    for s in (store, memory):
        cs = ChangeSet()
        cs.history.extend(_task_events())
        with s.transaction() as tx:
            tx.apply(cs)
    stored, physical = _stored_history(store)
    assert physical < len(stored)
    assert [tuple(r) for r in stored if r[0] in ("task_wait", "task_done")] == [
        ("task_wait", 1),
        ("task_done", 3),
        ("task_done", 11),
        ("task_done", 13),
    ]
    assert len(stored) == len(_task_events()) - 4
    queries: list[tuple[dict[str, Any], Page | None]] = [
        ({}, None),
        ({"kind": "task_create"}, None),
        ({"kind": "task_complete"}, None),
        ({"kind": ["activity_end", "task_create"]}, None),
        ({"kind": "activity_start"}, None),
        ({"actor": "cy"}, None),
        ({"actor": None, "kind": "activity_end"}, None),
        ({"data": {"completed": True}}, None),
        ({"data": {"task_id": "i1-1"}}, None),
        ({"seq": [2, 4, 12, 14]}, None),
        ({}, Page(1, 4)),
        ({"kind": "task_complete"}, Page(1, 2)),
    ]
    for filters, page in queries:
        with store.transaction() as tx:
            got = tx.find_history(dict(filters), page=page)
        with memory.transaction() as mtx:
            want = mtx.find_history(dict(filters), page=page)
        assert got == want, (filters, page)
