"""server: drop the unused lc_api_task_comment table

Task comments live in ``lc_task_comment`` (0003), written by the engine (``Engine.add_comment``)
with their ``task_comment`` history; the server's own table from 0002 was never written.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_lc_api_task_comment_task", table_name="lc_api_task_comment")
    op.drop_table("lc_api_task_comment")


def downgrade() -> None:
    op.create_table(
        "lc_api_task_comment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=200), nullable=False),
        sa.Column("instance_id", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lc_api_task_comment_task", "lc_api_task_comment", ["task_id"], unique=False)
