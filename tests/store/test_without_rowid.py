"""Migration 0011: task, job and variable rows in WITHOUT ROWID tables on SQLite, and back.

The upgrade must keep every row and index (the partial assignee index included) and every
query on an index; the downgrade must give rowid tables with the same rows; on PostgreSQL both
directions change nothing. The engine keeps working after a downgrade and upgrade.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from liucheng.engine import Engine
from liucheng.store import SqlStore
from liucheng.store._sql import _MIGRATIONS, upgrade_schema

from ..engine.helpers import bpmn, flows

TABLES = ("lc_task", "lc_job", "lc_variable")
MODEL = bpmn(
    '<startEvent id="s"/><userTask id="a"/>'
    '<boundaryEvent id="t" attachedToRef="a"><timerEventDefinition>'
    "<timeDuration>PT4H</timeDuration></timerEventDefinition></boundaryEvent>"
    '<endEvent id="e"/><endEvent id="late"/>' + flows("s->a", "a->e", "t->late")
)


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _rows(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as c:
        return {
            t: sorted(tuple(r) for r in c.execute(sa.text(f"SELECT * FROM {t}"))) for t in TABLES
        }


def _shape(engine: sa.Engine) -> dict[str, tuple[bool, list[str]]]:
    """Per table: WITHOUT ROWID or not, and the text of its indexes (SQLite)."""
    with engine.connect() as c:
        out = {}
        for t in TABLES:
            create = c.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                {"t": t},
            ).scalar_one()
            indexes = sorted(
                c.execute(
                    sa.text(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                        "AND sql IS NOT NULL"
                    ),
                    {"t": t},
                ).scalars()
            )
            out[t] = (create.rstrip().upper().endswith("WITHOUT ROWID"), indexes)
        return out


def test_0011_clusters_index_rows_and_back(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        engine = Engine(store)
        engine.deploy(MODEL)
        pids = [engine.start_process("p", {"n": i}) for i in range(3)]
        engine.complete_task(engine.tasks(instance_id=pids[0])[0].id)
    finally:
        store.dispose()
    db = sa.create_engine(sql_url)
    try:
        before = _rows(db)
        assert [len(before[t]) for t in TABLES] == [2, 2, 2]  # tasks, timers, variables
        sqlite = db.dialect.name == "sqlite"
        if sqlite:
            upgraded = _shape(db)
            assert all(without for without, _ in upgraded.values())
            assert any("assignee IS NOT NULL" in i for i in upgraded["lc_task"][1])
        _downgrade(db, "0010")
        assert _rows(db) == before
        if sqlite:
            downgraded = _shape(db)
            assert not any(without for without, _ in downgraded.values())
            # the same indexes, partial one included
            assert {t: i for t, (_, i) in downgraded.items()} == {
                t: i for t, (_, i) in upgraded.items()
            }
        upgrade_schema(db)
        assert _rows(db) == before
        if sqlite:
            assert _shape(db) == upgraded
            with db.connect() as c:
                for sql in (
                    "SELECT * FROM lc_task WHERE instance_id = 'x'",
                    "SELECT * FROM lc_task WHERE id = 'x'",
                    "SELECT * FROM lc_job WHERE instance_id = 'x'",
                    "SELECT * FROM lc_variable WHERE instance_id = 'x'",
                    "SELECT * FROM lc_variable WHERE name = 'x'",
                    "SELECT * FROM lc_task WHERE root_id = 'x'",
                    "SELECT * FROM lc_task WHERE assignee = 'x'",
                    "SELECT * FROM lc_task WHERE process_key = 'x'",
                    "SELECT * FROM lc_job WHERE due_at <= 'x'",
                ):
                    plan = " ".join(
                        str(r[-1]) for r in c.execute(sa.text("EXPLAIN QUERY PLAN " + sql))
                    )
                    assert "SEARCH" in plan, (sql, plan)
                    assert "INDEX" in plan or "PRIMARY KEY" in plan, (sql, plan)
    finally:
        db.dispose()
    store = SqlStore(sql_url)
    try:
        engine = Engine(store)
        # the engine works on the rebuilt tables: completes, deletes the timer and variables
        for pid in pids[1:]:
            engine.complete_task(engine.tasks(instance_id=pid)[0].id)
            assert engine.get_instance(pid) is None
        assert engine.jobs() == [] and engine.tasks() == []
    finally:
        store.dispose()
    db = sa.create_engine(sql_url)
    try:
        assert _rows(db) == {t: [] for t in TABLES}
    finally:
        db.dispose()
