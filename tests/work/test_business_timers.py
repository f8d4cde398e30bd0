"""Timers in business time: a timer that names a calendar (``liucheng:calendar`` on the timer
definition or the event, or ``camunda:property name="calendar"``) counts durations and the
periods of ``R/...`` cycles in the calendar's working time: boundary, intermediate and start
timers, with worked examples (overnight, weekend, holiday, daylight saving)."""

from __future__ import annotations

import datetime as dt

import pytest

from liucheng.engine import Engine, ManualClock
from liucheng.errors import EngineError, NotFoundError
from liucheng.org import calendar_from_dict

from .conftest import bpmn

UTC = dt.UTC
OFFICE = calendar_from_dict(
    {
        "timezone": "Europe/Berlin",
        "week": {"mon-fri": ["08:00-17:00"]},
        "holidays": ["2025-03-12"],
    },
    name="office",
)
DAILY = calendar_from_dict(
    {"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}}, name="daily"
)


def _timer(cal: str, kind: str, value: str, where: str = "definition") -> str:
    on_def = f' liucheng:calendar="{cal}"' if where == "definition" else ""
    inner = ""
    if where == "property":
        inner = (
            "<extensionElements><camunda:properties>"
            f'<camunda:property name="calendar" value="{cal}"/>'
            "</camunda:properties></extensionElements>"
        )
    return inner + f"<timerEventDefinition{on_def}><{kind}>{value}</{kind}></timerEventDefinition>"


def boundary(
    cal: str, kind: str, value: str, *, interrupting: bool = True, where: str = "definition"
) -> bytes:
    on_event = f' liucheng:calendar="{cal}"' if where == "event" else ""
    return bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<userTask id="t"/><sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>'
        f'<boundaryEvent id="b" attachedToRef="t" cancelActivity="{str(interrupting).lower()}"'
        f"{on_event}>{_timer(cal, kind, value, where)}</boundaryEvent>"
        '<sequenceFlow id="f3" sourceRef="b" targetRef="late"/><userTask id="late"/>'
        '<sequenceFlow id="f4" sourceRef="late" targetRef="e2"/><endEvent id="e2"/>'
    )


def catch(cal: str, value: str) -> bytes:
    return bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="c"/>'
        f'<intermediateCatchEvent id="c">{_timer(cal, "timeDuration", value)}'
        '</intermediateCatchEvent><sequenceFlow id="f2" sourceRef="c" targetRef="t"/>'
        '<userTask id="t"/><sequenceFlow id="f3" sourceRef="t" targetRef="e"/><endEvent id="e"/>'
    )


def _engine(start: dt.datetime) -> tuple[Engine, ManualClock]:
    clock = ManualClock(start)
    return Engine(clock=clock, calendars={"office": OFFICE, "daily": DAILY}), clock


def _due(engine: Engine, pid: str) -> dt.datetime:
    [job] = engine.jobs(instance_id=pid)
    return job.due_at


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "cal", "duration", "due", "case"),
    [
        # Mon 2025-03-03 16:00 Berlin (15:00 UTC) + 2 working hours: 1 h today, 1 h from 08:00
        (_utc(2025, 3, 3, 15), "office", "PT2H", _utc(2025, 3, 4, 8), "overnight"),
        # Fri 16:30 Berlin + 1 h: 30 min Friday, 30 min from Monday 08:00
        (_utc(2025, 3, 7, 15, 30), "office", "PT1H", _utc(2025, 3, 10, 7, 30), "weekend"),
        # Tue 2025-03-11 16:00 + 2 h, Wednesday a holiday: Thursday 09:00 Berlin
        (_utc(2025, 3, 11, 15), "office", "PT2H", _utc(2025, 3, 13, 8), "holiday"),
        # Sat 2025-03-29 16:00 CET + 2 h: 1 h Saturday; Sunday 08:00 is CEST (06:00 UTC) after
        # the clocks went forward that night, so the last hour ends 07:00 UTC
        (_utc(2025, 3, 29, 15), "daily", "PT2H", _utc(2025, 3, 30, 7), "dst"),
        # a budget ending exactly at the end of an interval is due then (17:00), not at 08:00
        (_utc(2025, 3, 3, 15), "office", "PT1H", _utc(2025, 3, 3, 16), "end of interval"),
        # one business day (P1D) of a Mon-Fri 9 h calendar from Friday 10:00: Monday 10:00
        (_utc(2025, 3, 7, 9), "office", "P1D", _utc(2025, 3, 10, 9), "business day"),
    ],
)
@pytest.mark.parametrize("where", ["definition", "event", "property"])
def test_boundary_duration_in_business_time(
    start: dt.datetime, cal: str, duration: str, due: dt.datetime, case: str, where: str
) -> None:
    engine, clock = _engine(start)
    engine.deploy([("p.bpmn", boundary(cal, "timeDuration", duration, where=where))])
    pid = engine.start_process("p")
    assert _due(engine, pid) == due, case
    clock.set(due - dt.timedelta(seconds=1))
    assert engine.run_due_jobs() == 0
    clock.set(due)
    assert engine.run_due_jobs() == 1
    assert [t.element_id for t in engine.tasks(instance_id=pid)] == ["late"]


def test_intermediate_timer_in_business_time() -> None:
    engine, clock = _engine(_utc(2025, 3, 7, 15, 30))  # Friday 16:30 Berlin
    engine.deploy([("p.bpmn", catch("office", "PT1H"))])
    pid = engine.start_process("p")
    assert _due(engine, pid) == _utc(2025, 3, 10, 7, 30)
    clock.set(_utc(2025, 3, 10, 7, 30))
    engine.run_due_jobs()
    assert [t.element_id for t in engine.tasks(instance_id=pid)] == ["t"]


def test_cycle_counts_each_period_in_business_time() -> None:
    # Monday 08:00 Berlin; every 4 working hours, 3 times: 12:00, 16:00, Tuesday 11:00
    engine, clock = _engine(_utc(2025, 3, 3, 7))
    engine.deploy([("p.bpmn", boundary("office", "timeCycle", "R3/PT4H", interrupting=False))])
    pid = engine.start_process("p")
    fired: list[dt.datetime] = []
    for _ in range(3):
        due = _due(engine, pid)
        fired.append(due)
        clock.set(due)
        assert engine.run_due_jobs() == 1
    assert fired == [_utc(2025, 3, 3, 11), _utc(2025, 3, 3, 15), _utc(2025, 3, 4, 10)]
    assert engine.jobs(instance_id=pid) == []  # R3: no fourth firing
    assert sorted(t.element_id for t in engine.tasks(instance_id=pid)) == ["late"] * 3 + ["t"]


def test_cycle_start_date_is_wall_clock_then_business_periods() -> None:
    engine, clock = _engine(_utc(2025, 3, 7, 8))
    cycle = "R2/2025-03-07T16:00:00+01:00/PT2H"  # Friday 16:00 Berlin, then 2 working hours
    engine.deploy([("p.bpmn", boundary("office", "timeCycle", cycle, interrupting=False))])
    pid = engine.start_process("p")
    assert _due(engine, pid) == _utc(2025, 3, 7, 15)
    clock.set(_utc(2025, 3, 7, 15))
    engine.run_due_jobs()
    assert _due(engine, pid) == _utc(2025, 3, 10, 8)  # 1 h Friday, 1 h Monday from 08:00


def test_timer_start_event_cycle_in_business_time() -> None:
    engine, clock = _engine(_utc(2025, 3, 7, 15))  # Friday 16:00 Berlin
    engine.deploy(
        [
            (
                "p.bpmn",
                bpmn(
                    f'<startEvent id="s">{_timer("office", "timeCycle", "R2/PT3H")}</startEvent>'
                    '<sequenceFlow id="f" sourceRef="s" targetRef="e"/><endEvent id="e"/>'
                ),
            )
        ]
    )
    [job] = engine.jobs()
    assert job.due_at == _utc(2025, 3, 10, 9)  # 1 h Friday + 2 h Monday from 08:00 Berlin
    clock.set(job.due_at)
    engine.run_due_jobs()
    [again] = engine.jobs()
    assert again.due_at == _utc(2025, 3, 10, 12)


def test_dates_and_cron_stay_wall_clock() -> None:
    engine, _ = _engine(_utc(2025, 3, 8, 10))  # a Saturday
    engine.deploy([("p.bpmn", boundary("office", "timeDate", "2025-03-08T12:00:00Z"))])
    pid = engine.start_process("p")
    assert _due(engine, pid) == _utc(2025, 3, 8, 12)


def test_unknown_calendar_or_months_are_refused() -> None:
    engine, _ = _engine(_utc(2025, 3, 3, 9))
    engine.deploy([("p.bpmn", boundary("nope", "timeDuration", "PT1H"))])
    with pytest.raises(NotFoundError) as err:
        engine.start_process("p")
    assert err.value.code == "engine.calendar.not_found"
    engine.deploy([("p.bpmn", boundary("office", "timeCycle", "R2/P1M"))])
    with pytest.raises(EngineError) as bad:
        engine.start_process("p")
    assert bad.value.code == "engine.timer.business"
    assert engine.instances() == []  # nothing started
