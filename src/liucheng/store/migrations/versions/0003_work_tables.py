"""people's work: task-list columns, task comments and attachments, SLA clocks, cursors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TASK_COLUMNS = (
    ("owner", sa.String(length=200)),
    ("delegation", sa.String(length=20)),
    ("follow_up_at", sa.DateTime()),
    ("process_key", sa.String(length=200)),
    ("lane", sa.String(length=400)),
    ("role", sa.String(length=200)),
    ("description", sa.Text()),
    ("claimed_at", sa.DateTime()),
    ("updated_at", sa.DateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("lc_task", schema=None) as batch_op:
        for name, type_ in _TASK_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(
            sa.Column("effort", sa.Float(), nullable=False, server_default=sa.text("1"))
        )
        batch_op.create_index("ix_lc_task_process_key", ["process_key"], unique=False)
    op.create_table(
        "lc_task_comment",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=200), nullable=False),
        sa.Column("instance_id", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lc_task_comment_task", "lc_task_comment", ["task_id"], unique=False)
    op.create_table(
        "lc_task_attachment",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=200), nullable=False),
        sa.Column("instance_id", sa.String(length=200), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lc_task_attachment_task", "lc_task_attachment", ["task_id"], unique=False)
    op.create_table(
        "lc_sla_clock",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.String(length=200), nullable=False),
        sa.Column("root_id", sa.String(length=200), nullable=False),
        sa.Column("definition_id", sa.String(length=200), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=True),
        sa.Column("task_id", sa.String(length=200), nullable=True),
        sa.Column("occurrences", sa.Text(), nullable=False),
        sa.Column("fired_until", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lc_sla_clock_instance", "lc_sla_clock", ["instance_id"], unique=False)
    op.create_index("ix_lc_sla_clock_task", "lc_sla_clock", ["task_id"], unique=False)
    op.create_table(
        "lc_assignment_cursor",
        sa.Column("id", sa.String(length=400), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("lc_assignment_cursor")
    op.drop_index("ix_lc_sla_clock_task", table_name="lc_sla_clock")
    op.drop_index("ix_lc_sla_clock_instance", table_name="lc_sla_clock")
    op.drop_table("lc_sla_clock")
    op.drop_index("ix_lc_task_attachment_task", table_name="lc_task_attachment")
    op.drop_table("lc_task_attachment")
    op.drop_index("ix_lc_task_comment_task", table_name="lc_task_comment")
    op.drop_table("lc_task_comment")
    with op.batch_alter_table("lc_task", schema=None) as batch_op:
        batch_op.drop_index("ix_lc_task_process_key")
        batch_op.drop_column("effort")
        for name, _ in reversed(_TASK_COLUMNS):
            batch_op.drop_column(name)
