"""Timers in a named time zone: dates with a zone id and cron evaluated in a zone."""

from __future__ import annotations

import datetime as dt

import pytest

from liucheng.engine import Engine, ManualClock
from liucheng.engine._timers import next_due, plan_timer
from liucheng.errors import EngineError
from liucheng.model import parse_bpmn, validate

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("2026-03-02T10:00:00[Europe/Berlin]", dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        ("2026-07-02T10:00:00[Europe/Berlin]", dt.datetime(2026, 7, 2, 8, 0, tzinfo=UTC)),
        ("2026-03-02T10:00:00@America/New_York", dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)),
        ("2026-03-02T10:00:00Z", dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
    ],
)
def test_dates_with_a_zone_id(text: str, due: dt.datetime) -> None:
    plan = plan_timer("date", text, dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert plan.due == due


def test_cron_in_a_zone_follows_daylight_saving() -> None:
    cron = "CRON_TZ=Europe/Berlin 0 9 * * MON-FRI"
    winter = plan_timer("cycle", cron, dt.datetime(2026, 3, 2, 7, 30, tzinfo=UTC))
    assert winter.due == dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 CET
    # After the switch to summer time (29 March 2026) 09:00 Berlin is 07:00 UTC.
    summer = next_due(cron, dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC))
    assert summer == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # Without a zone the fields are UTC.
    assert plan_timer(
        "cycle", "0 9 * * MON-FRI", dt.datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    ).due == (dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    "text", ["2026-03-02T10:00:00[Mars/Olympus]", "CRON_TZ=Nowhere/Land 0 9 * * *"]
)
def test_unknown_zone_is_a_clear_error(text: str) -> None:
    kind = "cycle" if text.startswith("CRON") else "date"
    with pytest.raises(EngineError, match="unknown time zone"):
        plan_timer(kind, text, dt.datetime(2026, 1, 1, tzinfo=UTC))


MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="http://t">
  <process id="z" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
    <intermediateCatchEvent id="wait">
      <timerEventDefinition><timeDate>2026-03-02T10:00:00[Europe/Berlin]</timeDate></timerEventDefinition>
    </intermediateCatchEvent>
    <sequenceFlow id="f2" sourceRef="wait" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>
"""


def test_engine_fires_a_zoned_date_at_the_right_instant() -> None:
    assert not [p for p in validate(parse_bpmn(MODEL.encode())) if p.severity == "error"]
    clock = ManualClock(dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    engine = Engine(clock=clock)
    engine.deploy(("z.bpmn", MODEL.encode()))
    pid = engine.start_process("z")
    (job,) = engine.jobs(instance_id=pid)
    assert job.due_at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock.set(dt.datetime(2026, 3, 2, 8, 59, tzinfo=UTC))
    engine.run_due_jobs()
    assert not engine.is_ended(pid)
    clock.set(dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    engine.run_due_jobs()
    assert engine.is_ended(pid)


def test_model_validation_accepts_a_zoned_cron() -> None:
    zoned = MODEL.replace(
        "<timeDate>2026-03-02T10:00:00[Europe/Berlin]</timeDate>",
        "<timeCycle>CRON_TZ=Europe/Berlin 0 9 * * MON-FRI</timeCycle>",
    )
    assert [p.code for p in validate(parse_bpmn(zoned.encode()))] == []
