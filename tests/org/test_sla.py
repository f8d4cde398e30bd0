"""SLA clocks: event-sourced state, pauses, warnings, breaches; business timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liucheng.org import (
    BusinessCalendar,
    SlaClock,
    SlaDefinition,
    SlaError,
    SlaEvent,
    SlaEventKind,
    SlaStatus,
    calendar_from_dict,
    clock_events,
    due_with_pauses,
    sla_state,
)

# Europe/Berlin 08:00-17:00 every day; in September that is 06:00-15:00 UTC
CAL: BusinessCalendar = calendar_from_dict(
    {"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}, "holidays": ["2015-09-22"]}
)


def z(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2015, 9, day, hour, minute, second, tzinfo=UTC)


def test_running_clock_reports_due_progress_and_next_warning() -> None:
    clock = SlaClock(SlaDefinition("resolution", "PT4H", CAL)).start(z(21, 6))
    state = clock.state(z(21, 8))
    assert state.status is SlaStatus.RUNNING
    assert state.elapsed == timedelta(hours=2)
    assert state.remaining == timedelta(hours=2)
    assert state.progress == pytest.approx(0.5)
    assert state.due == z(21, 10)
    assert state.next_warning_at == z(21, 9, 12)  # 80 % of 4h = 3h12m
    assert not state.warning
    later = clock.state(z(21, 9, 30))
    assert later.warning and later.warnings == {0.8: z(21, 9, 12)}


def test_pause_moves_the_due_instant() -> None:
    clock = (
        SlaClock(SlaDefinition("resolution", "PT4H", CAL))
        .start(z(21, 6))
        .pause(z(21, 7), "waiting for customer")
    )
    paused = clock.state(z(21, 8))
    assert paused.status is SlaStatus.PAUSED
    assert paused.elapsed == timedelta(hours=1)
    assert paused.due is None
    resumed = clock.resume(z(21, 9))
    assert resumed.state(z(21, 9)).due == z(21, 12)
    assert resumed.state(z(21, 12)).status is SlaStatus.RUNNING  # exactly at due: not yet breached
    breached = resumed.state(z(21, 12, 0, 1))
    assert breached.status is SlaStatus.BREACHED
    assert breached.breached_at == z(21, 12)
    assert breached.overdue == timedelta(seconds=1)
    met = resumed.stop(z(21, 11)).state(z(21, 20))
    assert met.status is SlaStatus.MET
    assert met.elapsed == timedelta(hours=3)
    assert met.stopped_at == z(21, 11)


def test_pause_over_night_and_holiday() -> None:
    # Mon 16:00 local start, 30 min run, paused until Wed 09:00 local (Tue is a holiday)
    clock = (
        SlaClock(SlaDefinition("first response", "PT2H", CAL))
        .start(z(21, 14))
        .pause(z(21, 14, 30))
        .resume(z(23, 7))
    )
    assert clock.state(z(23, 7)).due == z(23, 8, 30)
    assert due_with_pauses(CAL, z(21, 14), "PT2H", [(z(21, 14, 30), z(23, 7))]) == z(23, 8, 30)


def test_breach_after_working_hours_counts_even_without_working_time() -> None:
    clock = SlaClock(SlaDefinition("resolution", "PT9H", CAL)).start(z(21, 6))
    state = clock.state(z(21, 18))  # 20:00 local; the budget ran out at 17:00 local
    assert state.status is SlaStatus.BREACHED
    assert state.elapsed == timedelta(hours=9)
    assert state.overdue == timedelta(0)
    assert state.due == z(21, 15)
    assert clock.stop(z(21, 15)).state(z(21, 18)).status is SlaStatus.MET  # stop exactly at due


def test_paused_exactly_at_due_then_resumed_breaches() -> None:
    clock = SlaClock(SlaDefinition("r", "PT1H", CAL)).start(z(21, 6)).pause(z(21, 7))
    assert clock.state(z(21, 8)).status is SlaStatus.PAUSED
    assert clock.stop(z(21, 8)).state(z(21, 9)).status is SlaStatus.MET
    resumed = clock.resume(z(21, 8))
    assert resumed.state(z(21, 8)).due == z(21, 7)
    assert resumed.state(z(21, 8, 0, 1)).status is SlaStatus.BREACHED
    assert due_with_pauses(CAL, z(21, 6), "PT1H", [(z(21, 7), z(21, 8))]) == z(21, 7)


def test_event_sourced_state_matches_builder_and_survives_reordering() -> None:
    definition = SlaDefinition("r", "PT3H", CAL, warn_at=(0.5, 0.9))
    events = [
        SlaEvent(SlaEventKind.PAUSE, z(21, 7)),
        SlaEvent(SlaEventKind.START, z(21, 6)),
        SlaEvent(SlaEventKind.RESUME, z(21, 8)),
    ]
    rebuilt = sla_state(definition, events, z(21, 9))
    built = SlaClock(definition).start(z(21, 6)).pause(z(21, 7)).resume(z(21, 8)).state(z(21, 9))
    assert rebuilt == built
    assert rebuilt.warnings == {0.5: z(21, 8, 30)}  # 1h before the pause + 30 min after
    assert rebuilt.next_warning_at == z(21, 9, 42)
    assert [SlaEvent.from_dict(e.to_dict()) for e in events] == events
    assert sla_state(definition, events, z(21, 6, 30)).status is SlaStatus.RUNNING
    assert sla_state(definition, events, z(21, 5)).status is SlaStatus.PENDING


@pytest.mark.parametrize(
    "kinds",
    [
        ["start", "start"],
        ["start", "resume"],
        ["pause"],
        ["start", "stop", "pause"],
        ["start", "pause", "pause"],
    ],
)
def test_invalid_histories_are_refused(kinds: list[str]) -> None:
    events = [
        SlaEvent(SlaEventKind(k), z(21, 6) + timedelta(minutes=i)) for i, k in enumerate(kinds)
    ]
    with pytest.raises(SlaError) as info:
        sla_state(SlaDefinition("r", "PT1H", CAL), events, z(21, 12))
    assert info.value.code == "sla.event.order"


def test_definition_checks() -> None:
    with pytest.raises(SlaError):
        SlaDefinition("r", "PT1H", CAL, warn_at=(1.5,))
    with pytest.raises(SlaError):
        SlaDefinition("r", "PT1H", CAL, scope="team")
    with pytest.raises(SlaError):
        SlaEvent.from_dict({"kind": "explode", "at": "2015-09-21T06:00:00Z"})


def test_wall_clock_sla_without_calendar() -> None:
    clock = SlaClock(SlaDefinition("r", "P1D")).start(z(21, 6))
    assert clock.state(z(21, 7)).due == z(22, 6)


def test_clock_events_from_lifecycle() -> None:
    definition = SlaDefinition(
        "resolution",
        "PT8H",
        CAL,
        start_on=("task.created",),
        pause_on=("customer.waiting",),
        resume_on=("customer.replied",),
        stop_on=("task.completed",),
    )
    occurrences = [
        ("task.created", z(21, 6)),
        ("customer.replied", z(21, 6, 30)),  # not paused: ignored
        ("customer.waiting", z(21, 7)),
        ("customer.waiting", z(21, 7, 30)),  # already paused: ignored
        ("customer.replied", z(21, 9)),
        ("task.created", z(21, 10)),  # already running: ignored
        ("task.completed", z(21, 11)),
    ]
    events = clock_events(definition, occurrences)
    assert [e.kind.value for e in events] == ["start", "pause", "resume", "stop"]
    assert sla_state(definition, events, z(21, 12)).elapsed == timedelta(hours=3)
