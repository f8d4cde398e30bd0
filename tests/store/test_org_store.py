"""The organisation port of the stores (``OrgStore``): revisions, optimistic locking, listing."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liucheng.engine import MemoryStore
from liucheng.engine.ports import OrgRevisionRecord, OrgStore
from liucheng.errors import ConcurrencyError
from liucheng.store import SqlStore

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def _doc(n: int) -> dict[str, Any]:
    return {"timezone": "UTC", "people": [{"id": f"p{i}", "name": f"P {i}"} for i in range(n)]}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def org_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'org.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    sql = SqlStore(url)
    try:
        yield sql
    finally:
        sql.dispose()


def test_stores_implement_the_port(org_store: Any) -> None:
    assert isinstance(org_store, OrgStore)
    assert org_store.org_revision() == 0
    assert org_store.load_org() is None
    assert org_store.org_revisions() == []


def test_revisions_append_and_load(org_store: Any) -> None:
    org_store.save_org(OrgRevisionRecord(1, _doc(1), T0, "hanna", "import org.yaml"))
    org_store.save_org(OrgRevisionRecord(2, _doc(2), T0 + dt.timedelta(hours=1), None, "edit"))
    assert org_store.org_revision() == 2
    newest = org_store.load_org()
    assert newest is not None
    assert (newest.revision, newest.doc, newest.created_at) == (
        2,
        _doc(2),
        T0 + dt.timedelta(hours=1),
    )
    first = org_store.load_org(1)
    assert first is not None
    assert (first.doc, first.author, first.comment) == (_doc(1), "hanna", "import org.yaml")
    assert org_store.load_org(3) is None
    listing = org_store.org_revisions()
    assert [(r.revision, r.author, r.comment) for r in listing] == [
        (1, "hanna", "import org.yaml"),
        (2, None, "edit"),
    ]


@pytest.mark.parametrize("revision", [2, 4])
def test_a_revision_that_is_not_the_next_is_refused(org_store: Any, revision: int) -> None:
    org_store.save_org(OrgRevisionRecord(1, _doc(1), T0))
    org_store.save_org(OrgRevisionRecord(2, _doc(2), T0))
    with pytest.raises(ConcurrencyError) as info:
        org_store.save_org(OrgRevisionRecord(revision, _doc(5), T0, "late"))
    assert info.value.code == "org.revision.conflict"
    assert org_store.org_revision() == 2
    stored = org_store.load_org()
    assert stored is not None and stored.doc == _doc(2)
    assert [r.revision for r in org_store.org_revisions()] == [1, 2]


def test_two_writers_of_the_same_revision_one_wins(store: SqlStore, sql_url: str) -> None:
    """Two stores (as two processes) write revision 2 at once: exactly one is stored."""
    store.save_org(OrgRevisionRecord(1, _doc(1), T0))
    other = SqlStore(sql_url, upgrade=False)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def write(target: SqlStore, who: str) -> None:
        barrier.wait()
        try:
            target.save_org(OrgRevisionRecord(2, _doc(3), T0, who))
            outcomes.append("stored")
        except ConcurrencyError:
            outcomes.append("conflict")

    try:
        threads = [
            threading.Thread(target=write, args=(s, w)) for s, w in ((store, "a"), (other, "b"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.dispose()
    assert sorted(outcomes) == ["conflict", "stored"]
    assert [r.revision for r in store.org_revisions()] == [1, 2]


def test_the_document_is_copied_not_shared() -> None:
    mem = MemoryStore()
    doc = _doc(1)
    mem.save_org(OrgRevisionRecord(1, doc, T0))
    doc["people"].append({"id": "intruder"})
    stored = mem.load_org()
    assert stored is not None and stored.doc == _doc(1)
