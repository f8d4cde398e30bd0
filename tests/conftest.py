"""Shared test fixtures: where ``../shared`` is, and a real PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _shared_dir() -> Path:
    env = os.environ.get("LIUCHENG_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


SHARED = _shared_dir()


def require_shared(*parts: str) -> Path:
    """Path under ``../shared``; skip (fail in CI) when the shared material is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"shared material {path} is missing (set LIUCHENG_SHARED to its folder)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder beside the checkout."""
    return require_shared()


PG_ADMIN_URL = os.environ.get("LIUCHENG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_pg_database(prefix: str = "lc_test") -> Iterator[str]:
    """Create a fresh, empty PostgreSQL database, yield its URL (SQLAlchemy form), drop it after.

    Skips when no server answers, except when ``CI=true``: then it fails, so CI never silently
    loses the PostgreSQL tests.
    """
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a core dependency
        pytest.fail(f"psycopg missing: {exc}")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin2:
            admin2.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL (see :func:`fresh_pg_database`)."""
    yield from fresh_pg_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty database: a SQLite file (WAL) and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lc.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
