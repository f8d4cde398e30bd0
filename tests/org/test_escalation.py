"""Escalation: schedules in business time, targets up the superior chain, records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from liucheng.errors import NotFoundError
from liucheng.org import (
    Absence,
    BusinessTimer,
    EscalationLevel,
    EscalationPolicy,
    Organisation,
    SlaDefinition,
    SlaError,
    SlaEvent,
    SlaEventKind,
    calendar_from_dict,
    escalate,
    escalation_schedule,
    escalation_target,
    load_organisation,
    steps_due,
)
from tests.conftest import ROOT

CAL = calendar_from_dict({"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}})
POLICY = EscalationPolicy(
    "resolution",
    SlaDefinition("resolution", "PT4H", CAL, warn_at=(0.8,)),
    levels=(
        EscalationLevel("PT0S", "reassign"),
        EscalationLevel("PT2H", "add_task", levels_up=2),
    ),
)


def z(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2015, 9, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> Organisation:
    return load_organisation(ROOT / "processes" / "service_desk" / "org.yaml")


def test_schedule_in_business_time() -> None:
    events = [SlaEvent(SlaEventKind.START, z(21, 6))]  # 08:00 Berlin
    steps = escalation_schedule(POLICY, events, z(21, 6))
    assert [(s.kind, s.level, s.at, s.action) for s in steps] == [
        ("warning", 0, z(21, 9, 12), "notify"),
        ("escalation", 1, z(21, 10), "reassign"),
        ("escalation", 2, z(21, 12), "add_task"),
    ]
    assert not any(s.reached for s in steps)
    # level 2 two business hours after a due at 16:00 local lands on the next morning
    late = [SlaEvent(SlaEventKind.START, z(21, 10))]
    level2 = escalation_schedule(POLICY, late, z(21, 10))[-1]
    assert level2.at == z(22, 7)  # 1h until 17:00, then 08:00-09:00 local next day


def test_pause_moves_future_steps_only() -> None:
    events = [
        SlaEvent(SlaEventKind.START, z(21, 6)),
        SlaEvent(SlaEventKind.PAUSE, z(21, 9, 30)),  # after the warning
        SlaEvent(SlaEventKind.RESUME, z(21, 11, 30)),
    ]
    steps = escalation_schedule(POLICY, events, z(21, 11, 30))
    warning = steps[0]
    assert warning.at == z(21, 9, 12) and warning.reached
    assert steps[1].at == z(21, 12) and steps[2].at == z(21, 14)
    paused = escalation_schedule(POLICY, events[:2], z(21, 10))
    assert [s.kind for s in paused] == ["warning"]  # no due instant while paused
    fired = steps_due(steps, after=z(21, 9), until=z(21, 12))
    assert [s.level for s in fired] == [0, 1]
    assert steps_due(steps, after=z(21, 12), until=z(21, 13)) == []


def test_targets_up_the_chain(org: Organisation) -> None:
    first = escalation_target(org, "anna", 1)
    assert first.person == "tom"
    assert escalation_target(org, "anna", 2).person == "sofia"
    top = escalation_target(org, "sofia", 2)
    assert top.person is None and "only 1" in top.reason
    away = org.add_absence("tom", Absence(date(2015, 9, 21), date(2015, 9, 25), "training"))
    skipped = escalation_target(away, "anna", 1, at=z(21, 10))
    assert skipped.person == "sofia"
    assert skipped.skipped == (("tom", "absent (training)"),)
    assert escalation_target(away, "anna", 1, at=z(21, 10), skip_unavailable=False).person == "tom"


def test_escalate_records(org: Organisation) -> None:
    events = [SlaEvent(SlaEventKind.START, z(21, 6))]
    warning, level1, level2 = escalation_schedule(POLICY, events, z(21, 6))
    w = escalate(org, POLICY, warning, task_id="t1", assignee="anna", at=warning.at)
    assert (w.action, w.to_person) == ("notify", "anna")
    assert "80%" in w.reason
    r1 = escalate(org, POLICY, level1, task_id="t1", assignee="anna", at=level1.at)
    assert (r1.level, r1.action, r1.from_person, r1.to_person) == (1, "reassign", "anna", "tom")
    r2 = escalate(org, POLICY, level2, task_id="t1", assignee="anna", at=level2.at)
    assert (r2.action, r2.to_person) == ("add_task", "sofia")
    assert r2.to_dict()["to"] == "sofia"
    queued = escalate(org, POLICY, level1, task_id="t1", assignee=None, at=level1.at)
    assert queued.to_person is None


def test_timer_names_an_org_calendar(org: Organisation) -> None:
    # the office calendar: Mon-Fri 08-12, 13-18 Berlin; Fri 2025-09-26 17:00 CEST + 2h
    timer = BusinessTimer.on(org, "office", "PT2H")
    assert timer.due(datetime(2025, 9, 26, 15, tzinfo=UTC)) == datetime(
        2025, 9, 27, 8, tzinfo=UTC
    )  # 1h Friday, then Saturday 09:00-10:00 CEST
    with pytest.raises(NotFoundError):
        BusinessTimer.on(org, "moon", "PT1H")


def test_business_timer_and_level_checks() -> None:
    assert BusinessTimer("PT2H", CAL).due(z(21, 14)) == z(22, 7)
    assert BusinessTimer(timedelta(hours=2)).due(z(21, 14)) == z(21, 16)
    assert BusinessTimer("PT2H").due(z(21, 14)) == z(21, 16)
    with pytest.raises(SlaError):
        EscalationLevel(action="fire")
    with pytest.raises(SlaError):
        EscalationLevel(levels_up=0)
