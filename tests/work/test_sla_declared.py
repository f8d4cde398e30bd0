"""SLA definitions that live with the deployment (``liucheng:sla`` in BPMN, SLA files) and
clocks that carry their definition: a second Engine object on the same database starts, fires and
escalates them without registering anything in code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from liucheng.engine import Engine, ManualClock
from liucheng.errors import ModelError
from liucheng.org import EscalationLevel, SlaDefinition, organisation_from_dict
from liucheng.store import SqlStore

from .conftest import bpmn, org_data, user_task_process

UTC = dt.UTC
CREATED = dt.datetime(2015, 9, 21, 14, 30, tzinfo=UTC)
BERLIN = {"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}, "holidays": ["2015-09-22"]}

SLA_XML = (
    "<extensionElements>"
    '<liucheng:sla name="resolution" target="PT120M" calendar="berlin" warnAt="0.8">'
    '<liucheng:escalation after="PT0S" action="reassign" levelsUp="1"/>'
    "</liucheng:sla></extensionElements>"
)

SLA_FILE = b"""
calendars:
  berlin: {timezone: Europe/Berlin, week: {all: ["08:00-17:00"]}, holidays: ["2015-09-22"]}
slas:
  - name: resolution
    process: p
    task: Work
    target: PT120M
    calendar: berlin
    warn_at: [0.8]
    escalation:
      - {after: PT0S, action: reassign, levels_up: 1}
  - name: case
    process: p
    target: PT4H
    calendar: berlin
    warn_at: []
"""


def _org() -> Any:
    data = org_data(2)
    data["calendars"]["berlin"] = BERLIN
    return organisation_from_dict(data)


def _engines(tmp_path: Path, n: int = 2) -> tuple[list[Engine], ManualClock, list[SqlStore]]:
    clock = ManualClock(CREATED)
    org = _org()
    stores = [SqlStore(f"sqlite:///{tmp_path / 'shared.db'}") for _ in range(n)]
    return [Engine(s, clock=clock, organisation=org) for s in stores], clock, stores


def _kinds(engine: Engine, pid: str, kind: str) -> list[dict[str, Any]]:
    return [h.data or {} for h in engine.history(instance_id=pid) if h.kind == kind]


def _worked_example(first: Engine, second: Engine, clock: ManualClock, pid: str) -> None:
    """The issue's example, fired by ``second``: warning at 80 %, breach and escalation."""
    task = second.tasks(instance_id=pid)[0]
    [clock_view] = second.sla_clocks(task_id=task.id)
    assert clock_view.state.due == dt.datetime(2015, 9, 23, 7, 30, tzinfo=UTC)
    clock.set(dt.datetime(2015, 9, 23, 7, 6, tzinfo=UTC))
    assert second.run_due_jobs() == 1
    [warning] = _kinds(second, pid, "sla_warning")
    assert warning["to"] == "a1" and "80%" in warning["reason"]
    clock.set(dt.datetime(2015, 9, 23, 7, 31, tzinfo=UTC))
    assert second.run_due_jobs() == 1
    assert len(_kinds(second, pid, "sla_breach")) == 1
    [esc] = _kinds(second, pid, "escalation")
    assert (esc["from"], esc["to"], esc["action"]) == ("a1", "lead", "reassign")
    assert first.get_task(task.id).assignee == "lead"  # type: ignore[union-attr]
    first.complete_task(task.id)
    stops = {s["scope"]: s for s in first.sla_results(pid)}
    assert stops["task"]["status"] == "breached"


def test_bpmn_sla_started_by_one_engine_is_fired_by_another(tmp_path: Path) -> None:
    (a, b), clock, stores = _engines(tmp_path)
    try:
        a.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"', inner=SLA_XML))])
        pid = a.start_process("p")
        assert not a.slas and not b.slas  # nothing registered in code
        _worked_example(a, b, clock, pid)
    finally:
        for s in stores:
            s.dispose()


def test_sla_file_with_the_deployment_starts_clocks_in_any_engine(tmp_path: Path) -> None:
    (a, b), clock, stores = _engines(tmp_path)
    try:
        a.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"')), ("p.sla.yaml", SLA_FILE)])
        pid = b.start_process("p")  # b never saw the deployment in memory
        views = {v.name: v for v in b.sla_clocks(instance_id=pid)}
        assert set(views) == {"resolution", "case"}
        assert views["case"].scope == "process"
        # 4 business hours from Monday 16:30 Berlin: 30 min Monday, Tuesday a holiday,
        # 3.5 h Wednesday from 08:00 Berlin (06:00 UTC)
        assert views["case"].state.due == dt.datetime(2015, 9, 23, 9, 30, tzinfo=UTC)
        _worked_example(b, a, clock, pid)
    finally:
        for s in stores:
            s.dispose()


def test_add_sla_clock_is_continued_by_an_engine_without_it(tmp_path: Path) -> None:
    (a, b), clock, stores = _engines(tmp_path)
    try:
        a.add_sla(
            SlaDefinition("resolution", "PT120M", calendar=a.calendar("berlin")),
            process="p",
            task="t",
            escalation=[EscalationLevel("PT0S", "reassign", 1)],
        )
        a.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"'))])
        pid = a.start_process("p")
        _worked_example(a, b, clock, pid)
    finally:
        for s in stores:
            s.dispose()


def test_clock_keeps_its_version_and_add_sla_overrides(tmp_path: Path) -> None:
    (a, b), clock, stores = _engines(tmp_path)
    try:
        sla = '<extensionElements><liucheng:sla name="r" target="{}"/></extensionElements>'
        a.deploy([("p.bpmn", user_task_process(inner=sla.format("PT1H")))])
        old = a.start_process("p")
        a.deploy([("p.bpmn", user_task_process(inner=sla.format("PT2H")))])
        new = b.start_process("p")
        [v1] = b.sla_clocks(instance_id=old)
        [v2] = b.sla_clocks(instance_id=new)
        assert v1.state.due == CREATED + dt.timedelta(hours=1)
        assert v2.state.due == CREATED + dt.timedelta(hours=2)
        b.add_sla(SlaDefinition("r", "PT3H"), process="p", task="t")
        third = b.start_process("p")
        [v3] = a.sla_clocks(instance_id=third)
        assert v3.state.due == CREATED + dt.timedelta(hours=3)
        assert clock.now() == CREATED
    finally:
        for s in stores:
            s.dispose()


def test_no_clock_flag_no_sla_work(tmp_path: Path) -> None:
    """Instances of a definition without SLAs never get clocks or SLA jobs."""
    (a,), _, stores = _engines(tmp_path, 1)
    try:
        a.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"'))])
        pid = a.start_process("p")
        assert a.sla_clocks(instance_id=pid) == [] and a.jobs(instance_id=pid) == []
    finally:
        for s in stores:
            s.dispose()


@pytest.mark.parametrize(
    ("resources", "code"),
    [
        (
            [("p.sla.yaml", SLA_FILE.replace(b"process: p\n    task", b"process: x\n    task"))],
            "process",
        ),
        ([("p.sla.yaml", SLA_FILE.replace(b"task: Work", b"task: Nope"))], "task"),
        ([("slas.yaml", SLA_FILE.replace(b"PT120M", b"P1M"))], "invalid"),
        ([("slas.yaml", SLA_FILE.replace(b"levels_up: 1", b"levels_up: 1, when: x"))], "invalid"),
        ([("slas.yaml", b"slas: {a: 1}")], "invalid"),
    ],
)
def test_bad_sla_file_refuses_the_deployment(
    tmp_path: Path, resources: list[tuple[str, bytes]], code: str
) -> None:
    (a,), _, stores = _engines(tmp_path, 1)
    try:
        with pytest.raises(ModelError) as err:
            a.deploy([("p.bpmn", user_task_process()), *resources])
        assert err.value.code == f"engine.sla.{code}"
        assert err.value.file == resources[0][0]
        assert a.definitions() == []  # nothing deployed
    finally:
        for s in stores:
            s.dispose()


@pytest.mark.parametrize(
    "sla",
    [
        '<liucheng:sla name="r" target="soon"/>',
        '<liucheng:sla target="PT1H"/>',
        '<liucheng:sla name="r" target="PT1H" warnAt="1.5"/>',
        '<liucheng:sla name="r" target="PT1H"><liucheng:escalation action="fire"/></liucheng:sla>',
    ],
)
def test_bad_bpmn_sla_refuses_the_deployment(tmp_path: Path, sla: str) -> None:
    (a,), _, stores = _engines(tmp_path, 1)
    try:
        with pytest.raises(ModelError) as err:
            a.deploy(
                [
                    (
                        "p.bpmn",
                        user_task_process(inner=f"<extensionElements>{sla}</extensionElements>"),
                    )
                ]
            )
        assert err.value.code == "engine.sla.invalid" and err.value.element_id == "t"
    finally:
        for s in stores:
            s.dispose()


def test_process_level_bpmn_sla(tmp_path: Path) -> None:
    (a, b), clock, stores = _engines(tmp_path)
    try:
        body = (
            '<extensionElements><liucheng:sla name="case" target="PT1H" warnAt="0.5"/>'
            "</extensionElements>"
            '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
            '<userTask id="t" camunda:assignee="a1"/><sequenceFlow id="f2" sourceRef="t" '
            'targetRef="e"/><endEvent id="e"/>'
        )
        a.deploy([("p.bpmn", bpmn(body))])
        pid = a.start_process("p")
        [view] = b.sla_clocks(instance_id=pid)
        assert (view.scope, view.task_id) == ("process", None)
        clock.advance(dt.timedelta(minutes=31))
        b.run_due_jobs()
        assert len(_kinds(b, pid, "sla_warning")) == 1
    finally:
        for s in stores:
            s.dispose()
