"""Migrations 0005 and 0008 (server): the unused ``lc_api_task_comment`` table and the API's own
organisation table ``lc_api_org`` go, and come back on downgrade; on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from liucheng.store._sql import _MIGRATIONS, upgrade_schema


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0005_drops_the_unused_comment_table_and_back(sql_url: str) -> None:
    engine = sa.create_engine(sql_url)
    try:
        upgrade_schema(engine, "0004")
        assert "lc_api_task_comment" in _tables(engine)
        with engine.begin() as c:  # a row written by an old server version
            c.execute(
                sa.text(
                    "INSERT INTO lc_api_task_comment (task_id, at, text) "
                    "VALUES ('t1', CURRENT_TIMESTAMP, 'old')"
                )
            )
        upgrade_schema(engine)
        tables = _tables(engine)
        assert "lc_api_task_comment" not in tables
        assert {"lc_task_comment", "lc_api_user", "lc_api_audit"} <= tables
        _downgrade(engine, "0004")
        assert "lc_api_task_comment" in _tables(engine)
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("lc_api_task_comment")}
        assert "ix_lc_api_task_comment_task" in indexes
        upgrade_schema(engine)
        assert "lc_api_task_comment" not in _tables(engine)
        with engine.connect() as c:
            head = c.execute(sa.text("SELECT version_num FROM lc_schema_version")).scalar_one()
        assert head >= "0005"
    finally:
        engine.dispose()


_OLD_ORG = """timezone: Europe/Berlin
departments: [{id: co, name: Co, head: boss}]
people:
  - {id: boss, name: Boss, department: co}
  - {id: ann, name: Ann, department: co, superior: boss}
"""


def test_0008_moves_the_api_org_into_the_stored_organisation_and_back(sql_url: str) -> None:
    """0008 drops ``lc_api_org``; its newest version becomes stored revision 1 (the engine's
    organisation), an older invalid one is not needed; downgrade recreates the table."""
    from liucheng.engine import Engine
    from liucheng.store import SqlStore

    engine = sa.create_engine(sql_url)
    try:
        upgrade_schema(engine, "0007")
        assert "lc_api_org" in _tables(engine)
        with engine.begin() as c:  # two versions imported by an old server
            for text, who in (("people: [", "old"), (_OLD_ORG, "admin")):
                c.execute(
                    sa.text(
                        "INSERT INTO lc_api_org (content, imported_at, imported_by) "
                        "VALUES (:t, :at, :who)"
                    ),
                    {"t": text, "at": "2026-01-02 03:04:05", "who": who},
                )
        upgrade_schema(engine)
        assert "lc_api_org" not in _tables(engine)
        store = SqlStore(sql_url)
        try:
            lc = Engine(store, org_refresh=0)
            org = lc.organisation
            assert org is not None and org.superior("ann") == "boss"
            (rev,) = lc.org_admin().history()
            assert rev["revision"] == 1 and rev["author"] == "admin"
            assert rev["created_at"].startswith("2026-01-02T03:04:05")
        finally:
            store.dispose()
        _downgrade(engine, "0007")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("lc_api_org")}
        assert columns == {"id", "content", "imported_at", "imported_by"}
        upgrade_schema(engine)  # with revisions stored nothing is carried over again
        assert "lc_api_org" not in _tables(engine)
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM lc_org_revision")).scalar_one() == 1
            head = c.execute(sa.text("SELECT version_num FROM lc_schema_version")).scalar_one()
        assert head >= "0008"
    finally:
        engine.dispose()
