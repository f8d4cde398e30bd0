"""The organisation in the database: engines use the stored revision; edits are stored commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from liucheng.engine import Engine, ManualClock, MemoryStore
from liucheng.errors import AuthorizationError, ConcurrencyError, EngineError
from liucheng.org import (
    Absence,
    OrgValidationError,
    Person,
    organisation_document,
    organisation_from_dict,
    policy_from_dict,
)
from liucheng.store import SqlStore

from .conftest import MONDAY, org_data, user_task_process

# A deployed SLA: 30 minutes, then the task goes to the assignee's superior (one level up).
ESCALATING = (
    '<extensionElements><liucheng:sla name="resolution" target="PT30M" warnAt="">'
    '<liucheng:escalation after="PT0S" action="reassign" levelsUp="1"/>'
    "</liucheng:sla></extensionElements>"
)


def _escalated_to(engine: Engine, clock: ManualClock) -> str | None:
    """Start an instance whose task a1 holds, let its SLA breach, fire it: the new assignee."""
    pid = engine.start_process("p")
    clock.advance(dt.timedelta(minutes=31))
    for job in engine.jobs(instance_id=pid):
        engine.execute_job(job.id)
    [task] = engine.tasks(instance_id=pid)
    return task.assignee


@pytest.fixture
def sql_stores(sql_url: str) -> Iterator[Any]:
    """``new()`` opens another SqlStore on the same database (as another process would)."""
    opened: list[SqlStore] = []

    def new() -> SqlStore:
        store = SqlStore(sql_url)
        opened.append(store)
        return store

    try:
        yield new
    finally:
        for store in opened:
            store.dispose()


def test_two_engines_escalate_to_the_stored_superior(sql_stores: Any) -> None:
    clock = ManualClock(MONDAY)
    admin = Engine(sql_stores(), clock=clock)
    first = admin.org_admin("boss").import_organisation(
        organisation_from_dict(org_data(2)), comment="import org.yaml"
    )
    assert first.revision == 1
    # two engines on the same database, neither handed an organisation
    a = Engine(sql_stores(), clock=clock, org_refresh=0)
    b = Engine(sql_stores(), clock=clock, org_refresh=0)
    a.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"', inner=ESCALATING))])
    assert _escalated_to(a, clock) == "lead"
    assert _escalated_to(b, clock) == "lead"

    # an edit through the API is a new revision, with who and what
    second = a.org_admin("boss").update_person("a1", superior="boss")
    assert second.revision == 2
    assert [(r["revision"], r["author"], r["comment"]) for r in b.org_admin().history()] == [
        (1, "boss", "import org.yaml"),
        (2, "boss", "update_person a1"),
    ]
    # the other engine follows without being told
    assert _escalated_to(b, clock) == "boss"
    assert _escalated_to(a, clock) == "boss"


def test_stale_edit_is_a_conflict_and_changes_nothing(sql_stores: Any) -> None:
    clock = ManualClock(MONDAY)
    a = Engine(sql_stores(), clock=clock, org_refresh=0)
    b = Engine(sql_stores(), clock=clock, org_refresh=0)
    a.org_admin("boss").import_organisation(organisation_from_dict(org_data(2)))
    seen = b.org_admin().current()  # an editor shows revision 1 ...
    assert seen is not None and seen.revision == 1
    a.org_admin("boss").add_person(Person("a3", "Agent 3", department="desk", roles=("agent",)))
    before = b.org_admin().current()
    assert before is not None
    with pytest.raises(ConcurrencyError) as info:  # ... and saves on top of it
        b.org_admin("lead").remove_person("a1", expected_revision=seen.revision)
    assert info.value.code == "org.revision.conflict"
    after = b.org_admin().current()
    assert after is not None and after.revision == 2
    assert organisation_document(after.organisation) == organisation_document(before.organisation)
    assert "a1" in after.organisation.people and "a3" in after.organisation.people
    assert len(b.org_admin().history()) == 2
    # naming the newest revision works
    third = b.org_admin("lead").remove_person("a1", expected_revision=2)
    assert third.revision == 3 and "a1" not in third.organisation.people


def test_edit_without_expected_revision_is_retried_on_the_newer_one() -> None:
    store = MemoryStore()
    engine = Engine(store, clock=ManualClock(MONDAY))
    admin = engine.org_admin("boss")
    admin.import_organisation(organisation_from_dict(org_data(2)))
    other = Engine(store, clock=ManualClock(MONDAY)).org_admin("lead")
    real_save = store.save_org
    raced: list[int] = []

    def racing_save(record: Any) -> None:
        if not raced:  # someone else stores a revision between our read and our write
            raced.append(record.revision)
            other.update_person("a2", skills={"billing": 4})
        real_save(record)

    store.save_org = racing_save  # type: ignore[method-assign]
    result = admin.update_person("a1", skills={"network": 2})
    assert raced == [2]
    assert result.revision == 3
    org = result.organisation
    assert dict(org.people["a1"].skills) == {"network": 2}
    assert dict(org.people["a2"].skills) == {"billing": 4}  # the other edit is kept


def test_explicit_organisation_wins_and_none_returns_to_the_stored(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'org.db'}")
    try:
        stored = Engine(store).org_admin().import_organisation(organisation_from_dict(org_data(2)))
        own = organisation_from_dict(org_data(4))
        engine = Engine(store, organisation=own)
        assert engine.organisation is own
        engine.set_organisation(None)
        assert engine.organisation is not None
        assert organisation_document(engine.organisation) == organisation_document(
            stored.organisation
        )
    finally:
        store.dispose()


def test_engines_look_again_after_the_refresh_interval() -> None:
    store = MemoryStore()
    slow = Engine(store, org_refresh=3600)
    Engine(store).org_admin().import_organisation(organisation_from_dict(org_data(2)))
    assert slow.organisation is not None and "a3" not in slow.organisation.people
    Engine(store).org_admin().add_person(Person("a3", "Agent 3", department="desk"))
    # within the interval the engine keeps the revision in hand (no read per use) ...
    assert "a3" not in slow.organisation.people
    assert slow.stored_org.revision == 1
    # ... and takes the newer one at its next look
    slow.stored_org.refresh()
    assert "a3" in slow.organisation.people and slow.stored_org.revision == 2


def test_an_absence_edit_moves_open_work_and_plans_the_next(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'org.db'}")
    try:
        engine = Engine(store, clock=ManualClock(MONDAY), org_refresh=0)
        admin = engine.org_admin("lead")
        admin.import_organisation(organisation_from_dict(org_data(2)))
        engine.deploy(
            [
                (
                    "p.bpmn",
                    user_task_process(
                        'camunda:candidateGroups="queue" liucheng:strategy="round-robin"'
                    ),
                )
            ]
        )
        pid = engine.start_process("p")
        [task] = engine.tasks(instance_id=pid)
        assert task.assignee == "a1"
        admin.add_absence("a1", Absence(dt.date(2025, 3, 3), dt.date(2025, 3, 7), "sick"))
        [task] = engine.tasks(instance_id=pid)
        assert task.assignee == "a2"
        moves = [
            h.data
            for h in engine.history(instance_id=pid)
            if h.kind == "assignment" and (h.data or {}).get("previous_assignee") == "a1"
        ]
        assert len(moves) == 1 and moves[0]["assignee"] == "a2"
        # an absence that begins later plans the re-balancing job for its start
        admin.add_absence("a2", Absence(dt.date(2025, 3, 10), dt.date(2025, 3, 14)))
        with store.transaction() as tx:
            job = tx.get_row("job", "org-rebalance")
        assert job is not None
        assert job.due_at == dt.datetime(2025, 3, 9, 23, 0, tzinfo=dt.UTC)  # Berlin midnight
    finally:
        store.dispose()


def test_a_bad_edit_or_a_refused_user_stores_nothing() -> None:
    store = MemoryStore()
    policy = policy_from_dict({"admins": {"users": ["boss"]}})
    engine = Engine(store, authorization=policy)
    with pytest.raises(EngineError) as none:
        engine.org_admin("boss").update_person("a1", superior="lead")
    assert none.value.code == "engine.org.none_stored"
    engine.org_admin("boss").import_organisation(organisation_from_dict(org_data(2)))
    with pytest.raises(OrgValidationError):
        engine.org_admin("boss").update_person("a1", superior="ghost")
    with pytest.raises(AuthorizationError):
        engine.org_admin("a1").update_person("a1", superior="boss")
    refused = [h for h in engine.history() if h.kind == "authorization_refused"]
    assert [h.actor for h in refused] == ["a1"]
    assert engine.org_admin().revision == 1
    assert engine.organisation is not None and engine.organisation.superior("a1") == "lead"


def test_a_store_without_the_port_keeps_the_old_behaviour() -> None:
    class PlainStore:  # only the core Store protocol, no organisation port
        def __init__(self) -> None:
            self.inner = MemoryStore()

        def transaction(self) -> Any:
            return self.inner.transaction()

    own = organisation_from_dict(org_data(2))
    engine = Engine(PlainStore(), organisation=own)  # type: ignore[arg-type]
    assert engine.organisation is own
    engine.set_organisation(None)
    assert engine.organisation is None
    with pytest.raises(EngineError) as info:
        engine.org_admin("boss")
    assert info.value.code == "engine.org.no_store"


def test_named_edits_take_name_and_comment_keywords() -> None:
    store = MemoryStore()
    engine = Engine(store, clock=ManualClock(MONDAY))
    admin = engine.org_admin("boss")
    admin.import_organisation(organisation_from_dict(org_data(2)))
    result = admin.update_person("a1", name="Ada Renamed", comment="typo in the name")
    assert result.organisation.people["a1"].name == "Ada Renamed"
    assert admin.history()[-1]["comment"] == "typo in the name"
