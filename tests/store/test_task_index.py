"""Migration 0009 (the partial task assignee index) and the task queries' use of indexes; the
raw BEGIN/COMMIT of the SQLite store joined by statements run through SQLAlchemy."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from liucheng.engine.ports import ChangeSet, DeploymentRecord, TaskRecord
from liucheng.errors import ConcurrencyError
from liucheng.store import SqlStore
from liucheng.store._sql import _MIGRATIONS, upgrade_schema

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _index_sql(engine: sa.Engine, name: str) -> str:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE name = :n"
        else:
            sql = "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
        return str(c.execute(sa.text(sql), {"n": name}).scalar_one()).lower()


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0009_makes_the_assignee_index_partial_and_back(sql_url: str) -> None:
    engine = sa.create_engine(sql_url)
    try:
        upgrade_schema(engine, "0008")
        assert "where" not in _index_sql(engine, "ix_lc_task_assignee")
        upgrade_schema(engine, "0009")
        partial = _index_sql(engine, "ix_lc_task_assignee")
        assert "where" in partial and "assignee is not null" in partial
        _downgrade(engine, "0008")
        assert "where" not in _index_sql(engine, "ix_lc_task_assignee")
        upgrade_schema(engine)
        assert "where" in _index_sql(engine, "ix_lc_task_assignee")
    finally:
        engine.dispose()


def _task(task_id: str, instance_id: str, assignee: str | None) -> TaskRecord:
    return TaskRecord(
        id=task_id,
        instance_id=instance_id,
        root_id=instance_id,
        definition_id="p:1:d1",
        element_id="review",
        element_instance_id=f"ei-{task_id}",
        name="Review",
        assignee=assignee,
        candidate_users=[],
        candidate_groups=["clerks"],
        created_at=T0,
        seq=int(task_id[1:]),
    )


def test_task_queries_by_assignee_find_assigned_and_unassigned(store: SqlStore) -> None:
    changes = ChangeSet()
    changes.upsert("task", _task("t1", "i1", "ann"))
    changes.upsert("task", _task("t2", "i1", None))
    changes.upsert("task", _task("t3", "i2", "bob"))
    with store.transaction() as tx:
        tx.apply(changes)
    with store.read_transaction() as tx:
        assert [r.id for r in tx.find_rows("task", {"assignee": "ann"})] == ["t1"]
        assert [r.id for r in tx.find_rows("task", {"assignee": ["ann", "bob"]})] == ["t1", "t3"]
        assert [r.id for r in tx.find_rows("task", {"assignee": None})] == ["t2"]
        assert [r.id for r in tx.find_rows("task", {"instance_id": "i1"})] == ["t1", "t2"]


@pytest.mark.parametrize(
    ("where", "params", "index"),
    [
        ("assignee = ?", ("ann",), "ix_lc_task_assignee"),
        ("assignee IN (?, ?)", ("ann", "bob"), "ix_lc_task_assignee"),
        ("instance_id = ?", ("i1",), "ix_lc_task_instance"),
        ("root_id = ?", ("i1",), "ix_lc_task_root"),
    ],
)
def test_sqlite_task_lookups_use_an_index(
    tmp_path: object, where: str, params: tuple[str, ...], index: str
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/lc.db")
    try:
        raw = store.engine.raw_connection()
        try:
            plan = raw.cursor().execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM lc_task WHERE {where} ORDER BY created_at, seq",
                params,
            )
            details = " ".join(str(row[-1]) for row in plan.fetchall())
        finally:
            raw.close()
        assert f"USING INDEX {index}" in details
    finally:
        store.dispose()


def test_sqlalchemy_statements_join_the_raw_transaction(store: SqlStore) -> None:
    # add_deployment runs through SQLAlchemy, apply on the driver cursor: one transaction,
    # committed together and rolled back together.
    with store.transaction() as tx:
        tx.add_deployment(DeploymentRecord("d1", "p.bpmn", T0, {"p.bpmn": b"<x/>"}), [])
        changes = ChangeSet()
        changes.upsert("task", _task("t1", "i1", None))
        tx.apply(changes)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.add_deployment(DeploymentRecord("d2", "p.bpmn", T0, {"p.bpmn": b"<y/>"}), [])
        changes = ChangeSet()
        changes.upsert("task", _task("t2", "i1", None))
        tx.apply(changes)
        raise RuntimeError("command failed")
    with pytest.raises(ConcurrencyError), store.transaction() as tx:
        tx.add_deployment(DeploymentRecord("d1", "again", T0, {}), [])  # duplicate id
    with store.read_transaction() as tx:
        assert tx.get_deployment("d1") is not None
        assert tx.get_deployment("d2") is None
        assert [r.id for r in tx.find_rows("task")] == ["t1"]
        assert tx.list_definitions() == []
    # the connections are usable afterwards (no transaction left open on either)
    with store.transaction() as tx:
        tx.add_deployment(DeploymentRecord("d3", "p.bpmn", T0, {}), [])
    with store.read_transaction() as tx:
        assert tx.get_deployment("d3") is not None
