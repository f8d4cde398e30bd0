"""Connecting to the database: SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a configurable ``synchronous`` level. Writers take the database lock at
the start of their transaction (``BEGIN IMMEDIATE``), so two writers never deadlock by upgrading a
read lock; that is SQLite's correct single-writer scheme. PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from liucheng.errors import ConfigurationError

__all__ = [
    "DEFAULT_DATABASE",
    "RAW_TX",
    "READ_ONLY",
    "DatabaseSettings",
    "connect_database",
    "normalise_url",
]

#: Key in a SQLite connection's ``info``: its next transaction only reads (a deferred BEGIN).
READ_ONLY = "liucheng_read_only"
#: Key in a SQLite connection's ``info``: a transaction is open on the driver connection already
#: (begun without SQLAlchemy, see ``store._sql``); a SQLAlchemy autobegin joins it, no BEGIN.
RAW_TX = "liucheng_raw_tx"

DEFAULT_DATABASE = "sqlite:///liucheng.db"

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """How to connect.

    Attributes:
        url: SQLAlchemy URL or plain ``postgresql://`` / ``sqlite:///path`` URL.
        synchronous: SQLite ``PRAGMA synchronous`` (``FULL`` is the durable default).
        pool_size: PostgreSQL connection pool size.
        echo: Log SQL statements.
    """

    url: str = DEFAULT_DATABASE
    synchronous: Synchronous = "FULL"
    pool_size: int = 10
    echo: bool = False


def normalise_url(url: str) -> str:
    """Turn user-facing database URLs into SQLAlchemy URLs with our drivers.

    ``postgresql://`` and ``postgres://`` get the psycopg 3 driver; a bare file path becomes a
    SQLite URL.

    Raises:
        ConfigurationError: The URL is not a SQLite or PostgreSQL URL.
    """
    text = url.strip()
    if "://" not in text:
        return f"sqlite:///{text}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"cannot read database URL {url!r}: {exc}",
            code="config.database_url",
            hint="use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname",
        ) from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r} in {url!r}",
            code="config.database_url",
            hint="Liucheng stores its state in SQLite or PostgreSQL",
        )
    return text


def connect_database(settings: DatabaseSettings | str | None = None) -> Engine:
    """Create a SQLAlchemy engine for ``settings`` with our connection setup.

    Args:
        settings: Settings or a URL; ``None`` reads ``LIUCHENG_DATABASE`` or uses the SQLite
            default.

    Returns:
        The engine. SQLite connections get WAL, ``synchronous``, foreign keys and a busy timeout,
        and begin write transactions with ``BEGIN IMMEDIATE``.
    """
    if settings is None:
        settings = DatabaseSettings(url=os.environ.get("LIUCHENG_DATABASE", DEFAULT_DATABASE))
    elif isinstance(settings, str):
        settings = DatabaseSettings(url=settings)
    url = normalise_url(settings.url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, settings)
    # No pool_pre_ping (a round trip per checkout): a connection the server dropped fails on
    # first use, the store invalidates the pool and the command runs again (SqlStore).
    return create_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
    )


def _sqlite_engine(url: str, settings: DatabaseSettings) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=settings.echo,
        poolclass=NullPool if database in (None, "", ":memory:") else None,
        connect_args={"check_same_thread": False, "timeout": 30},
    )
    synchronous = settings.synchronous

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN IMMEDIATE below is
        # the only BEGIN issued.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Performance only (durability is synchronous's job): a larger page cache (16 MiB) and
        # temporary b-trees in memory.
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver connection directly: the full statement machinery of SQLAlchemy costs
        # more than the BEGIN itself, once per command.
        if connection.info.get(RAW_TX):
            return
        read_only = connection.info.get(READ_ONLY)
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
