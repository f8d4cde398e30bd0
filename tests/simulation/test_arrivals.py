"""Calendars on the simulation clock, arrival processes and case attributes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from liucheng.simulation import (
    CalendarSpec,
    ScenarioError,
    WeeklyCalendar,
    arrival_times,
    case_attribute_sampler,
    scenario_from_dict,
)
from liucheng.simulation.arrivals import rate_profile
from liucheng.simulation.scenario import Arrivals

H = 3600.0
D = 86400.0
MONDAY = dt.datetime(2026, 1, 5)  # a Monday; Tuesday 2026-01-06 is a holiday below


def office(start=MONDAY, holidays=()) -> WeeklyCalendar:
    spec = CalendarSpec.model_validate(
        {
            "periods": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}
            ],
            "holidays": list(holidays),
        }
    )
    return WeeklyCalendar.from_spec(spec, start)


def test_open_and_next_open():
    cal = office()
    assert cal.is_open(9 * H)
    assert not cal.is_open(7 * H)
    assert not cal.is_open(18 * H)
    assert cal.next_open(7 * H) == 8 * H
    saturday_noon = 5 * D + 12 * H
    assert cal.next_open(saturday_noon) == 7 * D + 8 * H  # next Monday 08:00


def test_working_time_skips_nights_weekends_and_holidays():
    cal = office(holidays=[dt.date(2026, 1, 6)])
    friday_5pm = 4 * D + 17 * H
    assert cal.add_working_time(friday_5pm, 2 * H) == 7 * D + 9 * H
    monday_5pm = 17 * H
    # Tuesday is a holiday: one hour on Monday, one on Wednesday.
    assert cal.add_working_time(monday_5pm, 2 * H) == 2 * D + 9 * H
    assert not cal.is_open(1 * D + 10 * H)
    assert cal.open_seconds(0, 7 * D) == 4 * 10 * H


def test_calendar_relative_to_a_mid_week_start():
    # Time 0 is Wednesday 12:00: open until 18:00, then Thursday 08:00.
    cal = office(start=dt.datetime(2026, 1, 7, 12, 0))
    assert cal.is_open(0.0)
    assert cal.add_working_time(0.0, 7 * H) == 20 * H + H  # Thursday 09:00 = 21 h later


def test_profile_rates_add_up_and_cover_the_week():
    periods = Arrivals.model_validate(
        {
            "profile": [
                {"days": ["mon"], "from": "08:00", "to": "12:00", "rate": 10},
                {"days": ["mon"], "from": "10:00", "to": "11:00", "rate": 5},
            ]
        }
    ).profile
    assert periods is not None
    segments = rate_profile(list(periods))
    assert segments[0][0] == 0.0 and segments[-1][1] == 7 * D
    rate_at = {a: r * 3600 for a, _, r in segments}
    assert rate_at[8 * H] == 10 and rate_at[10 * H] == 15 and rate_at[11 * H] == 10
    assert rate_at[12 * H] == 0


def test_profile_arrivals_follow_the_rates():
    arrivals = Arrivals.model_validate(
        {
            "profile": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "from": "08:00",
                    "to": "12:00",
                    "rate": 30,
                },
                {"days": ["sat"], "from": "09:00", "to": "10:00", "rate": 6},
            ]
        }
    )
    weeks = 30
    times = np.array(
        list(
            arrival_times(
                arrivals, start=MONDAY, rng=np.random.default_rng(4), horizon=weeks * 7 * D
            )
        )
    )
    week_pos = times % (7 * D)
    day, second = week_pos // D, week_pos % D
    weekday_morning = (day < 5) & (second >= 8 * H) & (second < 12 * H)
    saturday = (day == 5) & (second >= 9 * H) & (second < 10 * H)
    assert (weekday_morning | saturday).all()
    expected_weekday = 30 * 4 * 5 * weeks
    assert abs(weekday_morning.sum() - expected_weekday) < 4 * math.sqrt(expected_weekday)
    expected_sat = 6 * weeks
    assert abs(saturday.sum() - expected_sat) < 4 * math.sqrt(expected_sat)
    assert (np.diff(times) > 0).all()


def test_interarrival_on_a_calendar_and_max_cases():
    scenario = scenario_from_dict(
        {
            "horizon": "P14D",
            "arrivals": {
                "interarrival": {"distribution": "exponential", "mean": "PT6M"},
                "calendar": "office",
                "max_cases": 100000,
            },
            "calendars": {
                "office": {
                    "periods": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "from": "08:00",
                            "to": "18:00",
                        }
                    ]
                }
            },
        }
    )
    cal = office()
    times = list(
        arrival_times(
            scenario.arrivals,
            start=scenario.start,
            rng=np.random.default_rng(1),
            horizon=scenario.horizon,
            calendars={"office": cal},
        )
    )
    assert all(cal.is_open(t) for t in times)
    expected = 10 * 10 * 10  # 10 open days x 10 hours x 10 per hour
    assert abs(len(times) - expected) < 4 * math.sqrt(expected)
    capped = Arrivals.model_validate({"interarrival": 60, "max_cases": 7})
    assert list(arrival_times(capped, start=MONDAY, rng=np.random.default_rng(1))) == [
        60.0 * k for k in range(1, 8)
    ]


def test_same_seed_same_arrivals():
    arrivals = Arrivals.model_validate(
        {"interarrival": {"distribution": "exponential", "mean": 30}}
    )
    a = list(arrival_times(arrivals, start=MONDAY, rng=np.random.default_rng(9), horizon=3600))
    b = list(arrival_times(arrivals, start=MONDAY, rng=np.random.default_rng(9), horizon=3600))
    assert a == b and len(a) > 50


def test_replay_from_a_log(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "case,activity,timestamp\n"
        "c1,a,2026-01-05T09:00:00\nc1,b,2026-01-05T09:30:00\n"
        "c2,a,2026-01-05T08:15:00\nc3,a,2026-01-04T23:00:00\n",
        encoding="utf-8",
    )
    arrivals = Arrivals.model_validate({"replay": {"file": "log.csv"}})
    times = list(
        arrival_times(arrivals, start=MONDAY, rng=np.random.default_rng(0), base_dir=tmp_path)
    )
    assert times == [8.25 * H, 9 * H]  # c3 started before the simulation
    bad = Arrivals.model_validate({"replay": {"file": "log.csv", "case_column": "id"}})
    with pytest.raises(ScenarioError, match="columns"):
        list(arrival_times(bad, start=MONDAY, rng=np.random.default_rng(0), base_dir=tmp_path))


def test_case_attributes():
    scenario = scenario_from_dict(
        {
            "horizon": 100,
            "arrivals": {"interarrival": 10},
            "case_attributes": {
                "priority": {"choices": {"high": 0.25, "low": 0.75}},
                "amount": {"distribution": "uniform", "low": 10, "high": 20},
            },
        }
    )
    stream = case_attribute_sampler(scenario.case_attributes, np.random.default_rng(2))
    cases = [next(stream) for _ in range(4000)]
    share = sum(c["priority"] == "high" for c in cases) / len(cases)
    assert share == pytest.approx(0.25, abs=0.03)
    assert all(10 <= c["amount"] <= 20 for c in cases)
