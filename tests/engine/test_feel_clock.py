"""FEEL ``now()``/``today()`` inside the engine read the engine's clock, not the wall clock."""

from __future__ import annotations

import datetime as dt

from liucheng.engine import Engine, ManualClock

from .helpers import bpmn, flows


def test_script_and_timer_expressions_use_the_manual_clock() -> None:
    doc = bpmn(
        '<startEvent id="s"/>'
        '<scriptTask id="sc" scriptFormat="feel" camunda:resultVariable="stamp">'
        "<script>string(now())</script></scriptTask>"
        '<intermediateCatchEvent id="w"><timerEventDefinition>'
        '<timeDate>=now() + duration("PT1H")</timeDate></timerEventDefinition>'
        "</intermediateCatchEvent>"
        '<endEvent id="e"/>' + flows("s->sc", "sc->w", "w->e")
    )
    clock = ManualClock(dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    engine = Engine(clock=clock)
    engine.deploy([("p.bpmn", doc)])
    pid = engine.start_process("p")
    assert engine.variables(pid)["stamp"].startswith("2001-02-03T04:05:06")
    [job] = engine.jobs(instance_id=pid)
    assert job.due_at == dt.datetime(2001, 2, 3, 5, 5, 6, tzinfo=dt.UTC)
    clock.advance(dt.timedelta(hours=1))
    engine.run_due_jobs()
    assert engine.is_ended(pid)
