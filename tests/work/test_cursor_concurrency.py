"""Round-robin cursors are revision-checked: a stale cursor write is refused by every store, and
two engines assigning concurrently on PostgreSQL never hand out the same "next" person."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liucheng.engine import Engine, ManualClock, MemoryStore
from liucheng.engine.ports import AssignmentCursorRecord, ChangeSet
from liucheng.errors import ConcurrencyError
from liucheng.org import organisation_from_dict

from .conftest import MONDAY, org_data, user_task_process

ROUND_ROBIN = 'camunda:candidateGroups="queue" liucheng:strategy="round-robin"'


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from liucheng.store import SqlStore

    url = (
        request.getfixturevalue("pg_url")
        if request.param == "postgresql"
        else f"sqlite:///{tmp_path / 'c.db'}"
    )
    store = SqlStore(url)
    try:
        yield store
    finally:
        store.dispose()


def _write(store: Any, person: str, revision: int) -> None:
    changes = ChangeSet()
    changes.upsert(
        "assignment_cursor", AssignmentCursorRecord("groups:q", person, MONDAY, revision)
    )
    with store.transaction() as tx:
        tx.apply(changes)


def _stored(store: Any) -> tuple[str, int]:
    with store.transaction() as tx:
        [row] = tx.find_rows("assignment_cursor")
    return row.person, row.revision


def test_stale_cursor_writes_are_refused(any_store: Any) -> None:
    _write(any_store, "a1", 1)
    with pytest.raises(ConcurrencyError):
        _write(any_store, "a2", 1)  # a second "first" cursor: someone else created it
    _write(any_store, "a2", 2)
    with pytest.raises(ConcurrencyError):
        _write(any_store, "a3", 2)  # read at revision 1, but it is at 2 now
    with pytest.raises(ConcurrencyError):
        _write(any_store, "a3", 4)
    assert _stored(any_store) == ("a2", 2)  # refused writes changed nothing


def test_two_engines_on_postgresql_share_the_round_robin(pg_url: str) -> None:
    from liucheng.store import SqlStore

    org = organisation_from_dict(org_data(10))
    clock = ManualClock(MONDAY)
    stores = [SqlStore(pg_url) for _ in range(2)]
    engines = [Engine(s, clock=clock, organisation=org, max_attempts=100) for s in stores]
    try:
        engines[0].deploy([("p.bpmn", user_task_process(ROUND_ROBIN))])
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def work(engine: Engine) -> None:
            try:
                barrier.wait()
                for _ in range(500):
                    engine.start_process("p")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        tasks = engines[1].tasks()
        assert len(tasks) == 1000
        per_person = Counter(t.assignee for t in tasks)
        assert set(per_person) == {f"a{i}" for i in range(1, 11)}
        assert max(per_person.values()) - min(per_person.values()) <= 1
        # every assignment moved the cursor exactly once: no lost or doubled updates
        assert _stored(stores[0])[1] == 1000
    finally:
        for s in stores:
            s.dispose()


def test_cursor_rows_from_before_revisions_move_on(any_store: Any) -> None:
    """A cursor stored before migration 0004 has revision 0; the next move writes revision 1."""
    if isinstance(any_store, MemoryStore):
        any_store.rows["assignment_cursor"]["groups:q"] = AssignmentCursorRecord(
            "groups:q", "a1", MONDAY
        )
    else:
        from sqlalchemy import text

        with any_store.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO lc_assignment_cursor (id, person, updated_at) "
                    "VALUES ('groups:q', 'a1', :at)"
                ),
                {"at": MONDAY.replace(tzinfo=None)},
            )
    assert _stored(any_store) == ("a1", 0)
    _write(any_store, "a2", 1)
    assert _stored(any_store) == ("a2", 1)
    with pytest.raises(ConcurrencyError):
        _write(any_store, "a3", 1)
