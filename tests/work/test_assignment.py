"""Assignment strategies through the engine: round-robin fairness, least-loaded, availability,
re-balancing, decisions in history (in-memory and SQLite stores)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from liucheng.org import Absence, organisation_from_dict

from .conftest import MONDAY, World, bpmn, org_data

LANES = '<laneSet id="ls"><lane id="L1" name="Desk"><flowNodeRef>t</flowNodeRef></lane></laneSet>'


def one_task(attrs: str = "", multi: int | None = None) -> bytes:
    mi = (
        '<multiInstanceLoopCharacteristics isSequential="false">'
        f"<loopCardinality>{multi}</loopCardinality></multiInstanceLoopCharacteristics>"
        if multi
        else ""
    )
    return bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        f'<userTask id="t" name="Work" {attrs}>{mi}</userTask>'
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>',
        lanes=LANES,
    )


def org_with(strategy: str, people: int = 10, **opts: Any) -> Any:
    proc = {"id": "p", "lanes": {"Desk": "agent"}, "assignment": {"*": {"strategy": strategy}}}
    return organisation_from_dict(org_data(people, processes=[proc], **opts))


def test_round_robin_is_fair_over_1000_tasks(world: Any) -> None:
    w: World = world(org=org_with("round-robin"))
    w.engine.deploy([("p.bpmn", one_task(multi=500))])
    w.engine.start_process("p")  # 500 tasks in one command
    w.reload()
    w.engine.start_process("p")  # 500 more, cursor read back from the store
    counts = Counter(t.assignee for t in w.engine.tasks())
    assert sum(counts.values()) == 1000
    assert set(counts) == {f"a{i}" for i in range(1, 11)}
    assert max(counts.values()) - min(counts.values()) <= 1
    decisions = w.engine.history(kind="assignment")
    assert len(decisions) == 1000
    assert all(
        d.data and d.data["strategy"] == "round-robin" and d.data["reason"] for d in decisions
    )


def test_round_robin_cursor_persists_between_commands(world: Any) -> None:
    w: World = world(org=org_with("round-robin", people=3))
    w.engine.deploy([("p.bpmn", one_task())])
    seen = []
    for i in range(7):
        if i == 3:
            w.reload()
        pid = w.engine.start_process("p")
        seen.append(w.engine.tasks(instance_id=pid)[0].assignee)
    assert seen == ["a1", "a2", "a3", "a1", "a2", "a3", "a1"]


def test_least_loaded_never_picks_someone_busier(world: Any) -> None:
    w: World = world(org=org_with("least-loaded", people=4))
    w.engine.deploy([("p.bpmn", one_task())])
    # uneven start: give a1 three tasks, a2 one, by hand
    for who in ("a1", "a1", "a1", "a2"):
        pid = w.engine.start_process("p")
        task = w.engine.tasks(instance_id=pid)[0]
        w.engine.assign_task(task.id, who)
    for n in range(30):
        before = Counter(t.assignee for t in w.engine.tasks())
        pid = w.engine.start_process("p")
        got = w.engine.tasks(instance_id=pid)[0].assignee
        eligible = [f"a{i}" for i in range(1, 5)]
        assert got in eligible
        assert before[got] == min(before[p] for p in eligible), (n, before, got)
        if n % 4 == 3:  # finish someone's task now and then
            done = next(t for t in w.engine.tasks() if t.assignee == "a3")
            w.engine.complete_task(done.id)
    load = Counter(t.assignee for t in w.engine.tasks())
    assert max(load.values()) - min(load.values()) <= 1


def test_nobody_absent_or_off_shift_gets_work(world: Any) -> None:
    org = org_with("round-robin", people=4).add_absence(
        "a2", Absence(dt.date(2025, 3, 3), dt.date(2025, 3, 7), "course")
    )
    night = {"timezone": "Europe/Berlin", "week": {"mon-fri": ["18:00-23:00"]}}
    org = org.set_calendar("night", _calendar(night)).update_person("a3", calendar="night")
    w: World = world(org=org)
    w.engine.deploy([("p.bpmn", one_task())])
    for _ in range(12):
        w.engine.start_process("p")
    got = Counter(t.assignee for t in w.engine.tasks())
    assert set(got) == {"a1", "a4"}
    decision = w.engine.history(kind="assignment")[0].data
    assert decision is not None
    reasons = {e["person"]: e["reason"] for e in decision["excluded"]}
    assert reasons["a2"].startswith("absent") and reasons["a3"] == "off shift"
    # Saturday: everyone on the office calendar is off shift: the task waits in the queue
    w.clock.set(dt.datetime(2025, 3, 8, 10, tzinfo=dt.UTC))
    pid = w.engine.start_process("p")
    task = w.engine.tasks(instance_id=pid)[0]
    assert task.assignee is None and task.role == "agent"
    assert w.engine.task_list(user="a1", candidate=True)[0].id == task.id


def _calendar(data: dict[str, Any]) -> Any:
    from liucheng.org import calendar_from_dict

    return calendar_from_dict(data, name="night")


def test_rebalance_moves_work_of_absent_person(world: Any) -> None:
    w: World = world(org=org_with("round-robin", people=3))
    w.engine.deploy([("p.bpmn", one_task())])
    for _ in range(6):
        w.engine.start_process("p")
    assert Counter(t.assignee for t in w.engine.tasks())["a1"] == 2
    w.reload()
    moved = w.engine.set_organisation(
        w.org.add_absence("a1", Absence(dt.date(2025, 3, 3), dt.date(2025, 3, 4), "sick")),
        rebalance=True,
    )
    assert w.engine.rebalance() == []  # nothing left to move
    assert len(moved) == 2 and all(d.previous_assignee == "a1" for d in moved)
    after = Counter(t.assignee for t in w.engine.tasks())
    assert "a1" not in after and sum(after.values()) == 6
    recorded = [h.data for h in w.engine.history(kind="assignment") if h.data]
    assert sum(1 for d in recorded if d["previous_assignee"] == "a1") == 2
    assert all("re-balanced" in d["reason"] for d in recorded if d["previous_assignee"])


def test_explicit_assignee_and_feel_org_functions(world: Any) -> None:
    w: World = world(org=org_with("round-robin", people=3))
    doc = bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<userTask id="t" name="Approve" camunda:assignee="=superior(requester)" '
        'camunda:candidateUsers="=members(&quot;agent&quot;)"/>'
        '<sequenceFlow id="f2" sourceRef="t" targetRef="u"/>'
        '<userTask id="u" name="Check"><extensionElements>'
        '<zeebe:assignmentDefinition candidateGroups="=[&quot;leads&quot;]"/>'
        "</extensionElements></userTask>"
        '<sequenceFlow id="f3" sourceRef="u" targetRef="e"/><endEvent id="e"/>'
    )
    w.engine.deploy([("p.bpmn", doc)])
    pid = w.engine.start_process("p", {"requester": "a2"})
    t = w.engine.tasks(instance_id=pid)[0]
    assert t.assignee == "lead"  # the model's assignee wins over the strategy
    assert t.candidate_users == ["a1", "a2", "a3"]
    w.engine.complete_task(t.id)
    u = w.engine.tasks(instance_id=pid)[0]
    assert u.candidate_groups == ["leads"] and u.assignee == "lead"  # rr over group members


def test_skill_based_strategy_per_task(world: Any) -> None:
    org = org_with("manual", people=3).update_person("a2", skills={"billing": 4})
    org = org.update_person("a3", skills={"billing": 2})
    w: World = world(org=org)
    w.engine.deploy(
        [("p.bpmn", one_task('liucheng:strategy="skill-based" liucheng:skills="billing:2"'))]
    )
    pid = w.engine.start_process("p")
    assert w.engine.tasks(instance_id=pid)[0].assignee == "a2"  # best match


def test_manual_strategy_leaves_the_queue(world: Any) -> None:
    w: World = world(org=org_with("manual", people=3))
    w.engine.deploy([("p.bpmn", one_task())])
    pid = w.engine.start_process("p")
    t = w.engine.tasks(instance_id=pid)[0]
    assert t.assignee is None
    assert [x.id for x in w.engine.task_list(user="a3", candidate=True)] == [t.id]
    assert w.engine.task_list(user="boss", candidate=True) == []


def test_round_robin_on_postgresql(pg_url: str) -> None:
    from liucheng.engine import Engine, ManualClock
    from liucheng.store import SqlStore

    org = org_with("round-robin", people=3)
    store = SqlStore(pg_url)
    try:
        engine = Engine(store, clock=ManualClock(MONDAY), organisation=org)
        engine.deploy([("p.bpmn", one_task(multi=7))])
        engine.start_process("p")
        engine = Engine(store, clock=ManualClock(MONDAY), organisation=org)
        engine.start_process("p")
        counts = Counter(t.assignee for t in engine.tasks())
        assert sorted(counts.values()) == [4, 5, 5]  # 14 tasks over 3 people
        assert len(engine.history(kind="assignment")) == 14
    finally:
        store.engine.dispose()


def test_feel_rule_strategy_sees_variables(world: Any) -> None:
    rule = {"strategy": "rule", "expression": 'if amount > 100 then "a3" else candidates[1]'}
    proc = {"id": "p", "lanes": {"Desk": "agent"}, "assignment": {"Desk": rule}}
    w: World = world(org=organisation_from_dict(org_data(3, processes=[proc])))
    w.engine.deploy([("p.bpmn", one_task())])
    big = w.engine.start_process("p", {"amount": 500})
    small = w.engine.start_process("p", {"amount": 5})
    assert w.engine.tasks(instance_id=big)[0].assignee == "a3"
    assert w.engine.tasks(instance_id=small)[0].assignee == "a1"


def test_strategy_as_camunda_property(world: Any) -> None:
    w: World = world(org=org_with("manual", people=3))
    props = (
        "<extensionElements><camunda:properties>"
        '<camunda:property name="strategy" value="round-robin"/>'
        "</camunda:properties></extensionElements>"
    )
    doc = bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        f'<userTask id="t" name="Work">{props}</userTask>'
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>',
        lanes=LANES,
    )
    w.engine.deploy([("p.bpmn", doc)])
    got = [w.engine.tasks(instance_id=w.engine.start_process("p"))[0].assignee for _ in range(4)]
    assert got == ["a1", "a2", "a3", "a1"]


def test_least_loaded_weighs_effort(world: Any) -> None:
    w: World = world(org=org_with("least-loaded", people=2))
    w.engine.deploy(
        [
            (
                "big.bpmn",
                one_task('liucheng:effort="3" camunda:assignee="a1"').replace(
                    b'id="p"', b'id="big"'
                ),
            ),
            ("p.bpmn", one_task()),
        ]
    )
    first = w.engine.start_process("big")  # a1 gets 3 units of work
    assert w.engine.tasks(instance_id=first)[0].effort == 3.0
    got = [w.engine.tasks(instance_id=w.engine.start_process("p"))[0].assignee for _ in range(3)]
    assert got == ["a2", "a2", "a2"]  # a2 reaches 3 units before a1 gets more
    nxt = w.engine.tasks(instance_id=w.engine.start_process("p"))[0].assignee
    assert nxt == "a1"  # tie at 3: round-robin order


def test_bad_effort_is_a_model_error(world: Any) -> None:
    from liucheng.errors import ModelError

    w: World = world(org=org_with("least-loaded", people=2))
    with pytest.raises(ModelError):
        w.engine.deploy([("p.bpmn", one_task('liucheng:effort="lots"'))])


def test_work_moves_when_a_future_absence_begins(world: Any) -> None:
    w: World = world(org=org_with("round-robin", people=3))
    w.engine.deploy([("p.bpmn", one_task())])
    for _ in range(6):
        w.engine.start_process("p")
    # a2 will be away from 12:00 UTC today (an instant absence) and a3 from Wednesday (days)
    org = w.org.add_absence(
        "a2",
        Absence(
            dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC), dt.datetime(2025, 3, 3, 18, tzinfo=dt.UTC)
        ),
    ).add_absence("a3", Absence(dt.date(2025, 3, 5), dt.date(2025, 3, 5), "course"))
    assert w.engine.set_organisation(org, rebalance=True) == []  # nobody is away yet
    [job] = [j for j in w.engine.jobs() if j.kind == "rebalance"]
    assert job.due_at == dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)
    w.clock.set(dt.datetime(2025, 3, 3, 11, 59, tzinfo=dt.UTC))
    assert w.engine.run_due_jobs() == 0
    w.reload()  # another engine (same store and organisation) runs the job
    w.clock.set(dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC))
    assert w.engine.run_due_jobs() == 1
    after = Counter(t.assignee for t in w.engine.tasks())
    assert after["a2"] == 0 and sum(after.values()) == 6
    moved = [h.data or {} for h in w.engine.history(kind="assignment")]
    assert sum(1 for d in moved if d.get("previous_assignee") == "a2") == 2
    # the next one: Wednesday 00:00 in Berlin (a3's calendar zone) = Tuesday 23:00 UTC
    [job] = [j for j in w.engine.jobs() if j.kind == "rebalance"]
    assert job.due_at == dt.datetime(2025, 3, 4, 23, tzinfo=dt.UTC)
    w.clock.set(job.due_at)
    assert w.engine.run_due_jobs() == 1
    assert Counter(t.assignee for t in w.engine.tasks())["a3"] == 0
    # a2 came back at 18:00: nothing further ahead, so no job is left
    assert [j for j in w.engine.jobs() if j.kind == "rebalance"] == []
