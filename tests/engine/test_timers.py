"""ISO 8601 timer values."""

from __future__ import annotations

import datetime as dt

import pytest

from liucheng.engine._timers import next_due, parse_duration, plan_timer
from liucheng.errors import EngineError

NOW = dt.datetime(2025, 1, 31, 12, 0, tzinfo=dt.UTC)


def test_durations() -> None:
    assert parse_duration("PT1H30M").delta == dt.timedelta(hours=1, minutes=30)
    assert parse_duration("P2DT0.5S").delta == dt.timedelta(days=2, seconds=0.5)
    assert parse_duration("P1W").delta == dt.timedelta(weeks=1)
    assert parse_duration("P1Y2M").months == 14
    for bad in ("", "P", "PT", "1H", "PTXH"):
        with pytest.raises(EngineError):
            parse_duration(bad)


def test_month_arithmetic_clamps_to_month_end() -> None:
    plan = plan_timer("duration", "P1M", NOW)
    assert plan.due == dt.datetime(2025, 2, 28, 12, 0, tzinfo=dt.UTC)


def test_dates_and_cycles() -> None:
    assert plan_timer("date", "2025-03-01T08:00:00Z", NOW).due == dt.datetime(
        2025, 3, 1, 8, tzinfo=dt.UTC
    )
    plan = plan_timer("cycle", "R3/PT10M", NOW)
    assert (plan.due, plan.repeat, plan.period) == (NOW + dt.timedelta(minutes=10), 2, "PT10M")
    assert plan_timer("cycle", "R/PT1H", NOW).repeat == -1
    start = plan_timer("cycle", "R2/2025-02-01T00:00:00Z/P1D", NOW)
    assert start.due == dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    assert next_due("P1D", start.due) == dt.datetime(2025, 2, 2, tzinfo=dt.UTC)
    assert plan_timer("duration", dt.timedelta(minutes=5), NOW).due == NOW + dt.timedelta(minutes=5)


def test_cron_cycle() -> None:
    plan = plan_timer("cycle", "0 0 9 * * ?", NOW)
    assert plan.due == dt.datetime(2025, 2, 1, 9, 0, tzinfo=dt.UTC)


def test_bad_values_are_engine_errors() -> None:
    with pytest.raises(EngineError):
        plan_timer("date", "tomorrow", NOW)
    with pytest.raises(EngineError):
        plan_timer("duration", 42, NOW)
    with pytest.raises(EngineError):
        plan_timer("cycle", "R3", NOW)
