"""The database schema (SQLAlchemy Core), one table per record kind of the engine's ports.

Runtime tables hold only what is live; ``lc_history`` is append-only (a trigger refuses updates;
rows leave only through retention, by ``removal_time``). Times are stored as UTC without zone and
come back as aware UTC datetimes. JSON columns use :mod:`liucheng.store._codec`, so FEEL values
survive the round trip.

The Alembic migrations under ``migrations/versions`` must produce exactly this schema; a test
compares them.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from . import _codec

__all__ = ["INDEX_TABLES", "JsonText", "UTCDateTime", "metadata"]


class UTCDateTime(TypeDecorator[_dt.datetime]):
    """An aware datetime stored as naive UTC; read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: _dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> _dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite adapters normally parse
            value = _dt.datetime.fromisoformat(value)
        assert isinstance(value, _dt.datetime)
        return value.replace(tzinfo=_dt.UTC)


class JsonText(TypeDecorator[Any]):
    """A JSON value (with FEEL value tags) stored as text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else _codec.dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else _codec.loads(value)


def _id() -> Column[str]:
    return Column("id", String(200), primary_key=True)


metadata = MetaData()

deployment = Table(
    "lc_deployment",
    metadata,
    _id(),
    Column("name", String(400), nullable=False),
    Column("deployed_at", UTCDateTime(), nullable=False),
)

resource = Table(
    "lc_resource",
    metadata,
    Column(
        "deployment_id",
        String(200),
        ForeignKey("lc_deployment.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(400), primary_key=True),
    Column("content", LargeBinary(), nullable=False),
)

definition = Table(
    "lc_definition",
    metadata,
    _id(),
    Column("key", String(200), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name", String(400)),
    Column(
        "deployment_id",
        String(200),
        ForeignKey("lc_deployment.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("resource_name", String(400), nullable=False),
    Column("deployed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("kind", "key", "version", name="uq_lc_definition_version"),
)

instance = Table(
    "lc_instance",
    metadata,
    _id(),
    Column("definition_id", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("business_key", String(400)),
    Column("parent_id", String(200)),
    Column("root_id", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Column("revision", Integer(), nullable=False),
    Column("doc", JsonText(), nullable=False),
    Column("has_incident", Boolean(), nullable=False, default=False),
    Index("ix_lc_instance_key", "key"),
    # Partial (migration 0006): most instances have neither a business key nor a parent, and
    # a lookup by either value implies NOT NULL.
    Index(
        "ix_lc_instance_business_key",
        "business_key",
        sqlite_where=text("business_key IS NOT NULL"),
        postgresql_where=text("business_key IS NOT NULL"),
    ),
    Index("ix_lc_instance_root", "root_id"),
    Index(
        "ix_lc_instance_parent",
        "parent_id",
        sqlite_where=text("parent_id IS NOT NULL"),
        postgresql_where=text("parent_id IS NOT NULL"),
    ),
)

task = Table(
    "lc_task",
    metadata,
    _id(),
    Column("instance_id", String(200), nullable=False),
    Column("root_id", String(200), nullable=False),
    Column("definition_id", String(200), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("element_instance_id", String(200), nullable=False),
    Column("name", String(400)),
    Column("assignee", String(200)),
    Column("candidate_users", JsonText(), nullable=False),
    Column("candidate_groups", JsonText(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("due_at", UTCDateTime()),
    Column("priority", Integer(), nullable=False),
    Column("form_key", String(400)),
    Index("ix_lc_task_instance", "instance_id"),
    Index("ix_lc_task_root", "root_id"),
    # Partial (migration 0009): most open tasks have no assignee (group queues), and a lookup
    # by assignee implies NOT NULL.
    Index(
        "ix_lc_task_assignee",
        "assignee",
        sqlite_where=text("assignee IS NOT NULL"),
        postgresql_where=text("assignee IS NOT NULL"),
    ),
    # clustered on id (migration 0011): one B-tree less per row written or deleted
    sqlite_with_rowid=False,
)

job = Table(
    "lc_job",
    metadata,
    _id(),
    Column("instance_id", String(200)),
    Column("root_id", String(200)),
    Column("definition_id", String(200), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("element_instance_id", String(200)),
    Column("kind", String(40), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("retries", Integer(), nullable=False),
    Column("lock_owner", String(200)),
    Column("lock_expires_at", UTCDateTime()),
    Column("exclusive", Boolean(), nullable=False),
    Column("priority", Integer(), nullable=False),
    Column("created_at", UTCDateTime()),
    Column("seq", Integer(), nullable=False),
    Column("error", Text()),
    Column("data", JsonText(), nullable=False),
    Index("ix_lc_job_due", "due_at"),
    Index("ix_lc_job_instance", "instance_id"),
    Index("ix_lc_job_root", "root_id"),
    # clustered on id (migration 0011): one B-tree less per row written or deleted
    sqlite_with_rowid=False,
)

subscription = Table(
    "lc_subscription",
    metadata,
    _id(),
    Column("kind", String(20), nullable=False),
    Column("name", String(400), nullable=False),
    Column("correlation_key", String(400)),
    Column("instance_id", String(200)),
    Column("root_id", String(200)),
    Column("definition_id", String(200), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("element_instance_id", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Index("ix_lc_subscription_name", "kind", "name"),
    Index("ix_lc_subscription_instance", "instance_id"),
)

external_task = Table(
    "lc_external_task",
    metadata,
    _id(),
    Column("topic", String(400), nullable=False),
    Column("instance_id", String(200), nullable=False),
    Column("root_id", String(200), nullable=False),
    Column("definition_id", String(200), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("element_instance_id", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("retries", Integer()),
    Column("lock_owner", String(200)),
    Column("lock_expires_at", UTCDateTime()),
    Column("error_message", Text()),
    Column("priority", Integer(), nullable=False),
    Column("variables", JsonText(), nullable=False),
    Index("ix_lc_external_task_topic", "topic"),
    Index("ix_lc_external_task_instance", "instance_id"),
)

incident = Table(
    "lc_incident",
    metadata,
    _id(),
    Column("instance_id", String(200), nullable=False),
    Column("root_id", String(200), nullable=False),
    Column("definition_id", String(200), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("element_instance_id", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("message", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("job_id", String(200)),
    Column("external_task_id", String(200)),
    Column("variables", JsonText(), nullable=False),
    Index("ix_lc_incident_instance", "instance_id"),
)

variable = Table(
    "lc_variable",
    metadata,
    _id(),
    Column("instance_id", String(200), nullable=False),
    Column("name", String(400), nullable=False),
    Column("value", JsonText()),
    Index("ix_lc_variable_instance", "instance_id"),
    Index("ix_lc_variable_name", "name"),
    # clustered on id (migration 0011): one B-tree less per row written or deleted
    sqlite_with_rowid=False,
)

message = Table(
    "lc_message",
    metadata,
    _id(),
    Column("name", String(400), nullable=False),
    Column("correlation_key", String(400)),
    Column("variables", JsonText(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_lc_message_name", "name"),
    Index("ix_lc_message_expires", "expires_at"),
)

history = Table(
    "lc_history",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("kind", String(40), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("instance_id", String(200)),
    Column("definition_id", String(200)),
    Column("element_id", String(200)),
    Column("element_type", String(60)),
    Column("element_instance_id", String(200)),
    Column("actor", String(200)),
    Column("data", JsonText()),
    Column("seq", Integer(), nullable=False),
    Column("removal_time", UTCDateTime()),
    Index("ix_lc_history_instance", "instance_id"),
)

# Every index entry is another page written by the command that appends the row, so history keeps
# only indexes a query needs, partial where most rows never match (migration 0006):
# - instance: every per-instance history read (audit trail, status pages, SLA reports);
# - process: counts and lists of started/ended instances by time (metrics, dashboards), ordered
#   by time so every entry goes to the right edge (migration 0010); a full
#   (kind, at) index cost one leaf page per event kind and command, for queries by other kinds
#   that read most of the table anyway (engine log export, mining);
# - removal: retention's ``removal_time <= now`` (implies NOT NULL); history without a time to
#   live (the default) writes no entry at all.
#: The WHERE of ``ix_lc_history_process`` (an OR, not IN: SQLite proves ``kind = 'x'`` implies it).
HISTORY_PROCESS_KINDS = "kind = 'process_start' OR kind = 'process_end'"
Index(
    "ix_lc_history_process",
    history.c.at,
    history.c.kind,
    sqlite_where=text(HISTORY_PROCESS_KINDS),
    postgresql_where=text(HISTORY_PROCESS_KINDS),
)
Index(
    "ix_lc_history_removal",
    history.c.removal_time,
    sqlite_where=text("removal_time IS NOT NULL"),
    postgresql_where=text("removal_time IS NOT NULL"),
)

#: Index-row kind (see ``liucheng.engine.ports.INDEX_KINDS``) -> table.
INDEX_TABLES: dict[str, Table] = {
    "task": task,
    "job": job,
    "subscription": subscription,
    "external_task": external_task,
    "incident": incident,
    "variable": variable,
    "message": message,
}

# Tables of the server (users, tokens, audit log, definition lifecycle), of people's work
# (comments, attachments, SLA clocks, assignment state) and of the organisation's revisions live
# in their own modules on the same metadata; importing them here keeps ``metadata`` complete for
# migrations and tests.
from . import _api_schema, _org, _work_schema  # noqa: E402, F401
