"""Alembic environment: runs migrations on the connection Liucheng hands over."""

from __future__ import annotations

from alembic import context

from liucheng.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we always run migrations programmatically
    raise RuntimeError("run migrations through liucheng.store.upgrade() / `liucheng db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    version_table="lc_schema_version",
)
with context.begin_transaction():
    context.run_migrations()
