from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from liucheng.store import SqlStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated, empty SQL store on SQLite (file, WAL) and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lc.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = SqlStore(url)
    try:
        yield s
    finally:
        s.dispose()
