"""Tables of people's work: task comments, attachments, SLA clocks, assignment state.

Defined on :data:`liucheng.store.schema.metadata`; created by migration ``0003``, which also adds
the task-list columns of :class:`liucheng.engine.ports.TaskRecord` to ``lc_task``; migration
``0004`` adds the ``revision`` of round-robin cursors.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, String, Table, Text, text

from . import schema
from .schema import JsonText, UTCDateTime, metadata

__all__ = ["assignment_cursor", "attachment", "comment", "sla_clock"]

# Task-list columns added to lc_task by migration 0003 (TaskRecord fields with defaults).
for _column in (
    Column("owner", String(200)),
    Column("delegation", String(20)),
    Column("follow_up_at", UTCDateTime()),
    Column("process_key", String(200)),
    Column("lane", String(400)),
    Column("role", String(200)),
    Column("description", Text()),
    Column("claimed_at", UTCDateTime()),
    Column("updated_at", UTCDateTime()),
    Column("effort", Float(), nullable=False, server_default=text("1")),
):
    if _column.name not in schema.task.c:
        schema.task.append_column(_column)
if "ix_lc_task_process_key" not in {ix.name for ix in schema.task.indexes}:
    Index("ix_lc_task_process_key", schema.task.c.process_key)

comment = Table(
    "lc_task_comment",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("task_id", String(200), nullable=False),
    Column("instance_id", String(200)),
    Column("author", String(200)),
    Column("message", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Index("ix_lc_task_comment_task", "task_id"),
)

attachment = Table(
    "lc_task_attachment",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("task_id", String(200), nullable=False),
    Column("instance_id", String(200)),
    Column("author", String(200)),
    Column("name", String(400), nullable=False),
    Column("content_type", String(200)),
    Column("url", Text()),
    Column("content", LargeBinary()),
    Column("description", Text()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Index("ix_lc_task_attachment_task", "task_id"),
)

sla_clock = Table(
    "lc_sla_clock",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(400), nullable=False),
    Column("scope", String(20), nullable=False),
    Column("instance_id", String(200), nullable=False),
    Column("root_id", String(200), nullable=False),
    Column("definition_id", String(200), nullable=False),
    Column("element_id", String(200)),
    Column("task_id", String(200)),
    Column("occurrences", JsonText(), nullable=False),
    Column("fired_until", UTCDateTime()),
    Column("status", String(20), nullable=False),
    Column("due_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("data", JsonText(), nullable=False),
    Index("ix_lc_sla_clock_instance", "instance_id"),
    Index("ix_lc_sla_clock_task", "task_id"),
)

assignment_cursor = Table(
    "lc_assignment_cursor",
    metadata,
    Column("id", String(400), primary_key=True),
    Column("person", String(200), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # added by migration 0004: optimistic locking of round-robin cursors
    Column("revision", Integer(), nullable=False, server_default=text("0")),
)

schema.INDEX_TABLES["comment"] = comment
schema.INDEX_TABLES["attachment"] = attachment
schema.INDEX_TABLES["sla_clock"] = sla_clock
schema.INDEX_TABLES["assignment_cursor"] = assignment_cursor
