"""SLA clocks and escalation through the engine on a manual clock: the worked example of issue
6, pauses (a wait for the customer, explicit pause/resume), warnings, breach, escalation to the
superior, and business-time timers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from liucheng.errors import NotFoundError, ValidationError
from liucheng.org import EscalationLevel, SlaDefinition, calendar_from_dict

from .conftest import World, bpmn, user_task_process

UTC = dt.UTC
BERLIN = calendar_from_dict(
    {"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}, "holidays": ["2015-09-22"]},
    name="berlin",
)
CREATED = dt.datetime(2015, 9, 21, 14, 30, tzinfo=UTC)


def _kinds(w: World, kind: str) -> list[dict[str, Any]]:
    return [h.data or {} for h in w.engine.history(kind=kind)]


def test_worked_example_warning_breach_and_escalation(world: Any, reload_midway: bool) -> None:
    w: World = world(start=CREATED, calendars={"berlin": BERLIN})
    w.engine.add_sla(
        SlaDefinition("resolution", "PT120M", calendar=BERLIN),
        process="p",
        task="t",
        escalation=[EscalationLevel("PT0S", "reassign", 1)],
    )
    w.engine.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"'))])
    pid = w.engine.start_process("p")
    task = w.engine.tasks(instance_id=pid)[0]
    [clock] = w.engine.sla_clocks(task_id=task.id)
    assert clock.state.status == "running"
    assert clock.state.due == dt.datetime(2015, 9, 23, 7, 30, tzinfo=UTC)  # the example
    if reload_midway:
        w.reload()
    # 80 % of 120 min = 96 min: 30 min on the 21st, 66 min on the 23rd from 06:00 UTC
    w.clock.set(dt.datetime(2015, 9, 23, 7, 5, tzinfo=UTC))
    assert w.engine.run_due_jobs() == 0 or _kinds(w, "sla_warning") == []
    w.clock.set(dt.datetime(2015, 9, 23, 7, 6, tzinfo=UTC))
    w.engine.run_due_jobs()
    [warning] = _kinds(w, "sla_warning")
    assert warning["to"] == "a1" and "80%" in warning["reason"]
    [mid] = w.engine.sla_clocks(task_id=task.id)
    assert mid.state.remaining == dt.timedelta(minutes=24)
    assert _kinds(w, "escalation") == []
    if reload_midway:
        w.reload()
    w.clock.set(dt.datetime(2015, 9, 23, 7, 31, tzinfo=UTC))
    w.engine.run_due_jobs()
    assert len(_kinds(w, "sla_breach")) == 1
    [esc] = _kinds(w, "escalation")
    assert (esc["from"], esc["to"], esc["action"], esc["level"]) == ("a1", "lead", "reassign", 1)
    assert w.engine.get_task(task.id).assignee == "lead"  # type: ignore[union-attr]
    [late] = w.engine.sla_clocks(task_id=task.id)
    assert late.state.status == "breached"
    w.clock.advance(dt.timedelta(hours=1))
    assert w.engine.run_due_jobs() == 0  # nothing fires twice
    w.engine.complete_task(task.id)
    [stop] = _kinds(w, "sla_stop")
    assert stop["status"] == "breached" and stop["task_id"] == task.id
    assert w.engine.sla_clocks(instance_id=pid) == []
    assert w.engine.jobs() == []


def wait_process() -> bytes:
    return bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>'
        '<userTask id="t1" name="Answer"/><sequenceFlow id="f2" sourceRef="t1" targetRef="r"/>'
        '<receiveTask id="r" messageRef="m"/><sequenceFlow id="f3" sourceRef="r" targetRef="t2"/>'
        '<userTask id="t2" name="Close"/><sequenceFlow id="f4" sourceRef="t2" targetRef="e"/>'
        '<endEvent id="e"/>',
        roots='<message id="m" name="reply"/>',
    )


def test_process_clock_pauses_while_waiting_for_the_customer(
    world: Any, reload_midway: bool
) -> None:
    start = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    w: World = world(start=start)
    w.engine.add_sla(SlaDefinition("resolution", "PT8H", scope="process"), process="p")
    w.engine.deploy([("p.bpmn", wait_process())])
    pid = w.engine.start_process("p")
    hour = dt.timedelta(hours=1)
    w.clock.advance(hour)
    w.engine.complete_task(w.engine.tasks(instance_id=pid)[0].id)  # now waiting for "reply"
    w.clock.advance(3 * hour)
    [c] = w.engine.sla_clocks(instance_id=pid)
    assert c.state.status == "paused" and c.state.elapsed == hour and c.state.due is None
    if reload_midway:
        w.reload()
    w.engine.correlate_message("reply", instance_id=pid)
    w.clock.advance(2 * hour)
    [c] = w.engine.sla_clocks(instance_id=pid)
    assert c.state.status == "running" and c.state.elapsed == 3 * hour
    assert c.state.due == start + 11 * hour  # 3 hours of waiting do not count
    w.engine.pause_sla(pid, reason="customer on holiday")
    w.clock.advance(hour)
    [c] = w.engine.sla_clocks(instance_id=pid)
    assert c.state.status == "paused" and c.state.elapsed == 3 * hour
    w.engine.resume_sla(pid)
    [c] = w.engine.sla_clocks(instance_id=pid)
    assert c.state.due == start + 12 * hour and c.state.remaining == 5 * hour
    w.engine.complete_task(w.engine.tasks(instance_id=pid)[0].id)
    [stop] = _kinds(w, "sla_stop")
    assert stop["status"] == "met" and stop["elapsed"] == "PT3H"
    assert w.engine.sla_results(pid) == [stop]
    assert [h.data["reason"] for h in w.engine.history(kind="sla_paused") if h.data] == [
        "customer on holiday"
    ]
    with pytest.raises(NotFoundError):
        w.engine.pause_sla(pid)


def test_first_response_clock_stops_on_claim(world: Any) -> None:
    w: World = world()
    first = SlaDefinition("first response", "PT1H", stop_on=("task.claimed",))
    w.engine.add_sla(first, process="p", task="Work")
    w.engine.deploy([("p.bpmn", user_task_process('camunda:candidateGroups="queue"'))])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    w.clock.advance(dt.timedelta(minutes=20))
    w.engine.claim(tid, "a1")
    [stop] = _kinds(w, "sla_stop")
    assert (
        stop["status"] == "met" and stop["elapsed"] == "PT20M" and stop["name"] == "first response"
    )
    assert w.engine.sla_clocks(task_id=tid) == []


def test_add_task_escalation_goes_two_levels_up(world: Any) -> None:
    w: World = world()
    w.engine.add_sla(
        SlaDefinition("resolution", "PT1H", warn_at=()),
        process="p",
        task="t",
        escalation=[EscalationLevel("PT0S", "notify"), EscalationLevel("PT1H", "add_task", 2)],
    )
    w.engine.deploy([("p.bpmn", user_task_process('camunda:assignee="a2"'))])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    w.clock.advance(dt.timedelta(hours=1, minutes=1))
    w.engine.run_due_jobs()
    assert [e["action"] for e in _kinds(w, "escalation")] == ["notify"]
    w.clock.advance(dt.timedelta(hours=1))
    w.engine.run_due_jobs()
    esc = _kinds(w, "escalation")[-1]
    assert (esc["action"], esc["to"]) == ("add_task", "boss")  # a2 -> lead -> boss
    todo = [t for t in w.engine.tasks(instance_id=pid) if t.id != tid]
    assert [(t.assignee, t.delegation) for t in todo] == [("boss", "escalation")]
    w.engine.complete_task(todo[0].id)  # done: the process does not move
    assert [t.id for t in w.engine.tasks(instance_id=pid)] == [tid]
    assert w.engine.get_task(tid).assignee == "a2"  # type: ignore[union-attr]


def test_sla_scope_must_fit() -> None:
    from liucheng.engine import Engine

    with pytest.raises(ValidationError):
        Engine().add_sla(SlaDefinition("x", "PT1H", scope="process"), process="p", task="t")


def test_timer_in_business_time(world: Any, reload_midway: bool) -> None:
    friday = dt.datetime(2025, 3, 7, 15, 0, tzinfo=UTC)  # 16:00 Berlin
    w: World = world(start=friday)
    doc = bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="c"/>'
        '<intermediateCatchEvent id="c"><timerEventDefinition liucheng:calendar="office">'
        "<timeDuration>PT2H</timeDuration></timerEventDefinition></intermediateCatchEvent>"
        '<sequenceFlow id="f2" sourceRef="c" targetRef="e"/><endEvent id="e"/>'
    )
    w.engine.deploy([("p.bpmn", doc)])
    pid = w.engine.start_process("p")
    [job] = w.engine.jobs(instance_id=pid)
    # one working hour on Friday, the other on Monday 08:00-09:00 Berlin
    assert job.due_at == dt.datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    if reload_midway:
        w.reload()
    w.clock.set(dt.datetime(2025, 3, 10, 7, 59, tzinfo=UTC))
    assert w.engine.run_due_jobs() == 0
    w.clock.set(dt.datetime(2025, 3, 10, 8, 0, tzinfo=UTC))
    w.engine.run_due_jobs()
    assert w.engine.is_ended(pid)


def test_job_executor_runs_escalations(tmp_path: Any) -> None:
    from liucheng.engine import Engine, ManualClock
    from liucheng.jobs import JobExecutor
    from liucheng.org import organisation_from_dict
    from liucheng.store import SqlStore

    from .conftest import org_data

    store = SqlStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    try:
        clock = ManualClock(dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
        org = organisation_from_dict(org_data(2))
        engine = Engine(store, clock=clock, organisation=org)
        sla = SlaDefinition("resolution", "PT30M", warn_at=(0.5,))
        engine.add_sla(sla, process="p", task="t", escalation=[EscalationLevel("PT0S", "reassign")])
        engine.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"'))])
        pid = engine.start_process("p")
        clock.advance(dt.timedelta(minutes=31))
        executor = JobExecutor(engine, listen=False, database_clock=False)
        ran = 0
        for _ in range(3):
            ran += executor.run_once()
        assert ran >= 1
        assert engine.tasks(instance_id=pid)[0].assignee == "lead"
        kinds = [h.kind for h in engine.history(instance_id=pid)]
        assert "sla_warning" in kinds and "sla_breach" in kinds and "escalation" in kinds
        # an engine without the registration still runs the clock: the clock row keeps the
        # definition it was started with
        bare = Engine(store, clock=clock, organisation=org)
        clock.advance(dt.timedelta(hours=1))
        bare.deploy([("q.bpmn", user_task_process(pid="q"))])
        engine.add_sla(SlaDefinition("q-sla", "PT1M"), process="q", task="t")
        qid = engine.start_process("q")
        clock.advance(dt.timedelta(minutes=2))
        [job] = bare.jobs(instance_id=qid)
        assert bare.execute_job(job.id) is True
        [breach] = [h for h in bare.history(instance_id=qid) if h.kind == "sla_breach"]
        assert (breach.data or {})["status"] == "breached"
    finally:
        store.dispose()


def test_escalation_todo_ends_with_its_process(world: Any) -> None:
    w: World = world()
    w.engine.add_sla(
        SlaDefinition("resolution", "PT1H", warn_at=()),
        process="p",
        task="t",
        escalation=[EscalationLevel("PT0S", "add_task")],
    )
    w.engine.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"'))])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    w.clock.advance(dt.timedelta(hours=2))
    w.engine.run_due_jobs()
    assert sorted(t.assignee or "" for t in w.engine.tasks(instance_id=pid)) == ["a1", "lead"]
    w.engine.complete_task(tid)
    assert w.engine.is_ended(pid)
    assert w.engine.tasks(instance_id=pid) == []
