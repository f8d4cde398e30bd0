"""tasks: the assignee index becomes partial (rows that have an assignee)

Most open tasks wait in group queues with no assignee, and every lookup by assignee
(``assignee = ?`` or ``IN (...)``) implies NOT NULL, so SQLite and PostgreSQL still use the index
for it; a task created or completed without an assignee writes one index fewer. See
``liucheng.store.schema``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_HAS_ASSIGNEE = "assignee IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_lc_task_assignee", table_name="lc_task")
    op.create_index(
        "ix_lc_task_assignee",
        "lc_task",
        ["assignee"],
        unique=False,
        sqlite_where=sa.text(_HAS_ASSIGNEE),
        postgresql_where=sa.text(_HAS_ASSIGNEE),
    )


def downgrade() -> None:
    op.drop_index("ix_lc_task_assignee", table_name="lc_task")
    op.create_index("ix_lc_task_assignee", "lc_task", ["assignee"], unique=False)
