"""Retry policies per element (camunda:failedJobRetryTimeCycle) on failing jobs."""

from __future__ import annotations

import datetime as dt

import pytest

from liucheng.engine import HandlerContext, parse_retry_cycle
from liucheng.errors import EngineError, ModelError

from .helpers import bpmn, engine_with, flows


def test_cycles_parse_into_tries_and_waits() -> None:
    policy = parse_retry_cycle("R5/PT5M")
    assert policy.tries == 5
    assert [policy.delay(n).delta for n in (1, 4)] == [dt.timedelta(minutes=5)] * 2
    listed = parse_retry_cycle(" PT1M, PT5M,PT10M ")
    assert listed.tries == 4
    assert [listed.delay(n).delta.total_seconds() for n in (1, 2, 3, 9)] == [60, 300, 600, 600]
    for bad in ("", "R0/PT1M", "R/PT1M", "R3", "PT1M,,PT2M", "R2/soon", "often"):
        with pytest.raises(EngineError) as info:
            parse_retry_cycle(bad)
        assert info.value.code == "engine.retry.invalid"


def _failing(cycle: str) -> bytes:
    return bpmn(
        '<startEvent id="s"/>'
        '<serviceTask id="call" camunda:class="boom" camunda:asyncBefore="true">'
        "<extensionElements><camunda:failedJobRetryTimeCycle>"
        f"{cycle}</camunda:failedJobRetryTimeCycle></extensionElements></serviceTask>"
        '<endEvent id="e"/>' + flows("s->call", "call->e")
    )


def test_a_list_of_waits_spaces_the_tries_then_an_incident_opens() -> None:
    engine, clock, _ = engine_with(_failing("PT1M,PT5M"))
    tries: list[dt.datetime] = []

    def boom(ctx: HandlerContext) -> None:
        tries.append(clock.now())
        raise RuntimeError("down")

    engine.register_handler("boom", boom)
    pid = engine.start_process("p")
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 3
    t0 = clock.now()
    assert engine.execute_job(job.id) is False
    (job,) = engine.jobs(instance_id=pid)
    assert (job.retries, job.due_at) == (2, t0 + dt.timedelta(minutes=1))
    clock.advance(dt.timedelta(minutes=1))
    assert engine.execute_job(job.id) is False
    (job,) = engine.jobs(instance_id=pid)
    assert (job.retries, job.due_at) == (1, clock.now() + dt.timedelta(minutes=5))
    assert engine.incidents(instance_id=pid) == []
    clock.advance(dt.timedelta(minutes=5))
    assert engine.execute_job(job.id) is False
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 0
    (incident,) = engine.incidents(instance_id=pid)
    assert incident.job_id == job.id and incident.element_id == "call"
    assert len(tries) == 3
    assert engine.job_retry_policy(job) is not None


def test_without_a_cycle_jobs_keep_three_tries_and_no_policy() -> None:
    doc = bpmn(
        '<startEvent id="s"/><serviceTask id="call" camunda:class="boom" '
        'camunda:asyncBefore="true"/><endEvent id="e"/>' + flows("s->call", "call->e")
    )
    engine, _, _ = engine_with(doc)
    pid = engine.start_process("p")
    (job,) = engine.jobs(instance_id=pid)
    assert job.retries == 3
    assert engine.job_retry_policy(job) is None


def test_a_bad_cycle_is_a_model_error_naming_the_element() -> None:
    engine, _, _ = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy(("bad.bpmn", _failing("every now and then")))
    assert info.value.element_id == "call"
    assert info.value.code == "model.retry_cycle"


def test_timer_start_jobs_take_their_tries_from_the_cycle() -> None:
    doc = bpmn(
        '<startEvent id="s"><extensionElements><camunda:failedJobRetryTimeCycle>R7/PT2M'
        "</camunda:failedJobRetryTimeCycle></extensionElements>"
        "<timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>"
        '</startEvent><endEvent id="e"/>' + flows("s->e")
    )
    engine, _, _ = engine_with(doc)
    (job,) = engine.jobs(kind="timer-start")
    assert job.retries == 7
    policy = engine.job_retry_policy(job)
    assert policy is not None and policy.text == "R7/PT2M"
