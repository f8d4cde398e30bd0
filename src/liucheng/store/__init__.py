"""liucheng.store: the engine's durable state in SQLite (embedded default) or PostgreSQL.

:class:`SqlStore` implements the engine's store protocol (``liucheng.engine.ports``) with
SQLAlchemy Core; the schema is managed by the bundled Alembic migrations (:func:`upgrade_schema`,
``liucheng db upgrade``).
"""

from __future__ import annotations

from ._database import DEFAULT_DATABASE, DatabaseSettings, connect_database, normalise_url
from ._sql import EXTERNAL_TASK_CHANNEL, JOB_CHANNEL, SqlStore, SqlTransaction, upgrade_schema

__all__ = [
    "DEFAULT_DATABASE",
    "EXTERNAL_TASK_CHANNEL",
    "JOB_CHANNEL",
    "DatabaseSettings",
    "SqlStore",
    "SqlTransaction",
    "connect_database",
    "normalise_url",
    "upgrade_schema",
]
