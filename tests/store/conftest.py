from __future__ import annotations

from collections.abc import Iterator

import pytest

from liucheng.store import SqlStore


@pytest.fixture
def store(sql_url: str) -> Iterator[SqlStore]:
    """A migrated, empty SQL store on SQLite (file, WAL) and on PostgreSQL."""
    s = SqlStore(sql_url)
    try:
        yield s
    finally:
        s.dispose()
