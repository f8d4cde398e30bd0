"""SQLite: task, job and variable rows in WITHOUT ROWID tables (clustered on ``id``)

A rowid table keeps its rows in one B-tree and the primary key ``id`` (text) in another: every
insert and delete of a task, job or variable row writes both, one more page in the WAL per
command (the write-ahead log's frames are most of a command's COMMIT). Clustered on ``id``
(``WITHOUT ROWID``) the row lives in the primary-key B-tree itself: a user task's command writes
a sixth fewer pages. The three tables hold small rows (the case WITHOUT ROWID is made for); the
instance table, whose state documents run to kilobytes, stays a rowid table. Nothing reads a
rowid of these tables, and every query orders explicitly.

On SQLite the upgrade rebuilds each table from its own ``CREATE TABLE`` text plus
``WITHOUT ROWID`` (rows copied, indexes recreated from their own text); the downgrade rebuilds it
without. PostgreSQL has no rowid: nothing to do either way.

Note for later migrations: Alembic's batch mode on SQLite recreates a table from reflection,
which does not see ``WITHOUT ROWID``; a batch operation on these tables must recreate them
with ``sqlite_with_rowid=False`` (``schema.task``, ``schema.job``, ``schema.variable`` say so).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("lc_task", "lc_job", "lc_variable")
_WITHOUT = "WITHOUT ROWID"


def _rebuild(connection: sa.Connection, table: str, *, without_rowid: bool) -> None:
    create = connection.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    create = create.rstrip().rstrip(";").rstrip()
    has = create.upper().endswith(_WITHOUT)
    if has == without_rowid:
        return
    indexes = list(
        connection.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                "AND sql IS NOT NULL"
            ),
            {"t": table},
        ).scalars()
    )
    columns = ", ".join(
        f'"{row[1]}"' for row in connection.execute(sa.text(f'PRAGMA table_info("{table}")'))
    )
    body = create[create.index("(") :]
    if has:
        body = body[: body.upper().rindex(_WITHOUT)].rstrip()
    staging = f"{table}_0011"
    connection.execute(
        sa.text(f'CREATE TABLE "{staging}" {body}' + (f" {_WITHOUT}" if without_rowid else ""))
    )
    connection.execute(
        sa.text(f'INSERT INTO "{staging}" ({columns}) SELECT {columns} FROM "{table}"')
    )
    connection.execute(sa.text(f'DROP TABLE "{table}"'))
    connection.execute(sa.text(f'ALTER TABLE "{staging}" RENAME TO "{table}"'))
    for index in indexes:
        connection.execute(sa.text(index))


def _all(*, without_rowid: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(connection, table, without_rowid=without_rowid)


def upgrade() -> None:
    _all(without_rowid=True)


def downgrade() -> None:
    _all(without_rowid=False)
