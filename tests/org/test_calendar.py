"""Business calendars: worked examples (expected values computed by hand) and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liucheng.errors import LiuchengError
from liucheng.org import (
    BusinessCalendar,
    CalendarError,
    calendar_from_dict,
    load_calendar,
    parse_duration,
)


def cal(data: dict[str, Any]) -> BusinessCalendar:
    return calendar_from_dict(data)


def z(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


BERLIN_DAILY = {"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}}
OFFICE = {"timezone": "Europe/Berlin", "week": {"mon-fri": ["09:00-17:00"]}}
SPLIT = {
    "timezone": "Europe/Berlin",
    "week": {"mon": ["08:00-12:00", "14:00-17:00"], "tue": ["08:00-17:00"]},
}


def test_issue_worked_example() -> None:
    c = cal({**BERLIN_DAILY, "holidays": ["2015-09-22"]})
    assert c.add_business_duration(z(2015, 9, 21, 14, 30), "PT120M") == z(2015, 9, 23, 7, 30)
    assert c.business_time_between(z(2015, 9, 21, 14, 30), z(2015, 9, 23, 7, 30)) == timedelta(
        hours=2
    )


def test_weekend_is_skipped() -> None:
    c = cal(OFFICE)
    # Fri 2024-03-15 16:00 CET: 1h on Friday, 1h on Monday from 09:00 CET
    assert c.add_business_duration(z(2024, 3, 15, 15), "PT2H") == z(2024, 3, 18, 9)
    # started on a Saturday: the clock starts Monday 09:00
    assert c.add_business_duration(z(2024, 3, 16, 12), "PT1H") == z(2024, 3, 18, 9)
    assert c.next_working_instant(z(2024, 3, 16, 12)) == z(2024, 3, 18, 8)


def test_split_day_and_exact_interval_end() -> None:
    c = cal(SPLIT)
    # Mon 2024-01-08 11:00 CET: 1h to noon, then 14:00-15:00
    assert c.add_business_duration(z(2024, 1, 8, 10), "PT2H") == z(2024, 1, 8, 14)
    # exactly the rest of the morning: due at 12:00, not at 14:00
    assert c.add_business_duration(z(2024, 1, 8, 10), "PT1H") == z(2024, 1, 8, 11)
    assert c.add_business_duration(z(2024, 1, 8, 7), "PT4H") == z(2024, 1, 8, 11)
    # the whole of Monday (7h) ends Monday 17:00; one more minute is Tuesday 08:01
    assert c.add_business_duration(z(2024, 1, 8, 7), "PT7H") == z(2024, 1, 8, 16)
    assert c.add_business_duration(z(2024, 1, 8, 7), "PT7H1M") == z(2024, 1, 9, 7, 1)
    assert not c.is_working(z(2024, 1, 8, 11))  # 12:00 local: end is excluded
    assert c.is_working(z(2024, 1, 8, 10, 59))
    assert not c.is_working(z(2024, 1, 8, 12))  # 13:00 local, lunch


def test_zero_duration_is_due_at_start() -> None:
    c = cal(OFFICE)
    assert c.add_business_duration(z(2024, 3, 16, 12), "PT0S") == z(2024, 3, 16, 12)
    assert c.add_business_duration(z(2024, 3, 16, 12), timedelta(0)) == z(2024, 3, 16, 12)


def test_naive_input_is_utc_and_output_is_aware_utc() -> None:
    c = cal(OFFICE)
    due = c.add_business_duration(datetime(2024, 3, 15, 15), "PT2H")
    assert due == z(2024, 3, 18, 9)
    assert due.utcoffset() == timedelta(0)


def test_berlin_spring_forward() -> None:
    # 2024-03-31: 02:00 CET jumps to 03:00 CEST
    c = cal({"timezone": "Europe/Berlin", "week": {"all": ["01:00-04:00"]}})
    day = c.working_intervals(z(2024, 3, 30, 12), z(2024, 4, 1, 12))
    assert day[0] == (z(2024, 3, 31, 0), z(2024, 3, 31, 2))  # 01:00 CET .. 04:00 CEST = 2h
    assert c.add_business_duration(z(2024, 3, 31, 0), "PT2H30M") == z(2024, 3, 31, 23, 30)
    # an interval that starts in the skipped hour begins at the transition (03:00 CEST)
    gap = cal({"timezone": "Europe/Berlin", "week": {"all": ["02:30-05:00"]}})
    assert gap.working_intervals(z(2024, 3, 31, 0), z(2024, 3, 31, 12)) == [
        (z(2024, 3, 31, 1), z(2024, 3, 31, 3))
    ]
    assert gap.business_time_between(z(2024, 3, 30), z(2024, 3, 31)) == timedelta(hours=2.5)


def test_berlin_fall_back() -> None:
    # 2024-10-27: 03:00 CEST falls back to 02:00 CET; 01:00-04:00 lasts 4 hours
    c = cal({"timezone": "Europe/Berlin", "week": {"all": ["01:00-04:00"]}})
    assert c.business_time_between(z(2024, 10, 26, 12), z(2024, 10, 27, 12)) == timedelta(hours=4)
    assert c.add_business_duration(z(2024, 10, 26, 23), "PT4H") == z(2024, 10, 27, 3)
    # an interval ending in the repeated hour ends at its second occurrence
    amb = cal({"timezone": "Europe/Berlin", "week": {"all": ["00:00-02:30"]}})
    assert amb.working_intervals(z(2024, 10, 26, 12), z(2024, 10, 27, 12)) == [
        (z(2024, 10, 26, 22), z(2024, 10, 27, 1, 30))
    ]


def test_new_york_dst() -> None:
    full = cal({"timezone": "America/New_York", "week": {"all": ["00:00-24:00"]}})
    # 2024-03-10 has 23 hours, 2024-11-03 has 25
    assert full.business_time_between(z(2024, 3, 10, 5), z(2024, 3, 11, 4)) == timedelta(hours=23)
    assert full.business_time_between(z(2024, 11, 3, 4), z(2024, 11, 4, 5)) == timedelta(hours=25)
    office = cal({"timezone": "America/New_York", "week": {"mon-fri": ["09:00-17:00"]}})
    # Fri 16:00 EST (21:00Z) + 2h: 1h Friday, Monday 09:00 EDT (13:00Z) + 1h
    assert office.add_business_duration(z(2024, 3, 8, 21), "PT2H") == z(2024, 3, 11, 14)
    # Fri 2024-11-01 16:00 EDT (20:00Z) + 2h: Monday 09:00 EST is 14:00Z
    assert office.add_business_duration(z(2024, 11, 1, 20), "PT2H") == z(2024, 11, 4, 15)


def test_long_duration_over_months() -> None:
    c = cal(OFFICE)
    # 800h = 100 working days of 8h = 20 full weeks from Mon 2024-01-01 09:00 CET
    assert c.add_business_duration(z(2024, 1, 1, 8), "PT800H") == z(2024, 5, 17, 15)
    assert c.business_time_between(z(2024, 1, 1, 8), z(2024, 5, 17, 15)) == timedelta(hours=800)
    # ten years of working time still returns (day-by-day, not minute-by-minute)
    far = c.add_business_duration(z(2024, 1, 1, 8), timedelta(hours=8 * 261 * 10))
    assert far.year in (2033, 2034)


def test_days_and_weeks() -> None:
    daily = cal(BERLIN_DAILY)
    assert daily.business_day == timedelta(hours=9)
    # P1D = one average working day: Monday 10:00 → Tuesday 10:00 (CEST = UTC+2)
    assert daily.add_business_duration(z(2024, 6, 3, 8), "P1D") == z(2024, 6, 4, 8)
    office = cal(OFFICE)
    assert office.business_timedelta("P1W") == timedelta(hours=40)
    assert office.business_timedelta("P1DT2H") == timedelta(hours=10)
    assert office.business_timedelta("P0.5D") == timedelta(hours=4)
    # Monday 2024-06-03 09:00 CEST + P1W = Friday 17:00 CEST
    assert office.add_business_duration(z(2024, 6, 3, 7), "P1W") == z(2024, 6, 7, 15)
    fixed = cal({**BERLIN_DAILY, "business_day": "PT8H"})
    assert fixed.business_timedelta("P2D") == timedelta(hours=16)
    split = cal(SPLIT)  # Monday 7h + Tuesday 9h → average 8h
    assert split.business_day == timedelta(hours=8)


def test_holiday_ranges_overrides_half_days() -> None:
    c = cal(
        {
            **OFFICE,
            "holidays": ["2024-12-25/2024-12-26", {"from": "2024-12-30", "to": "2024-12-31"}],
            "overrides": {"2024-12-27": ["10:00-12:00"], "2024-12-23": []},
            "half_days": ["2024-12-24", {"date": "2025-01-02", "keep": "afternoon"}],
        }
    )
    assert c.local_intervals(date(2024, 12, 25)) == ()
    assert c.local_intervals(date(2024, 12, 26)) == ()
    assert c.local_intervals(date(2024, 12, 31)) == ()
    assert c.local_intervals(date(2024, 12, 23)) == ()
    assert c.local_intervals(date(2024, 12, 24)) == ((9 * 3600, 13 * 3600),)
    assert c.local_intervals(date(2025, 1, 2)) == ((13 * 3600, 17 * 3600),)
    week = c.business_time_between(z(2024, 12, 23), z(2025, 1, 4))
    # 24th 4h, 27th 2h, 1 Jan 8h (not a holiday here), 2nd 4h afternoon, 3rd 8h
    assert week == timedelta(hours=26)


def test_half_day_cuts_split_intervals() -> None:
    c = cal({**SPLIT, "half_days": ["2024-01-08"]})  # Monday 7h → keep 3.5h of the morning
    assert c.local_intervals(date(2024, 1, 8)) == ((8 * 3600, 11 * 3600 + 1800),)
    c2 = cal({**SPLIT, "half_days": [{"date": "2024-01-08", "keep": "afternoon"}]})
    assert c2.local_intervals(date(2024, 1, 8)) == (
        (11 * 3600 + 1800, 12 * 3600),
        (14 * 3600, 17 * 3600),
    )


def test_night_shift_runs_past_midnight() -> None:
    c = cal({"timezone": "UTC", "week": {"mon-fri": ["22:00-06:00"]}})
    assert c.is_working(z(2024, 1, 1, 23))
    assert c.is_working(z(2024, 1, 2, 2))  # Monday's shift, Tuesday morning
    assert not c.is_working(z(2024, 1, 2, 6))
    assert c.add_business_duration(z(2024, 1, 1, 21), "PT2H") == z(2024, 1, 2, 0)
    # Friday's shift ends Saturday 06:00; the next starts Monday 22:00
    assert c.add_business_duration(z(2024, 1, 6, 5), "PT2H") == z(2024, 1, 8, 23)
    # consecutive nights touch at nothing; adjacent intervals across midnight merge
    joined = cal({"timezone": "UTC", "week": {"all": ["18:00-24:00", "00:00-06:00"]}})
    assert joined.working_intervals(z(2024, 1, 1, 12), z(2024, 1, 2, 12)) == [
        (z(2024, 1, 1, 18), z(2024, 1, 2, 6))
    ]


def test_extends_file_and_cycle(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(
        "timezone: Europe/Berlin\nweek: {mon-fri: ['09:00-17:00']}\nholidays: ['2024-12-25']\n"
    )
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nweek: {fri: []}\nholidays: ['2024-12-24']\n")
    c = load_calendar(child)
    assert c.spec.timezone == "Europe/Berlin"
    assert c.working_weekdays == 4
    assert {date(2024, 12, 24), date(2024, 12, 25)} <= c.spec.holidays
    assert c.name == "child"
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\ntimezone: UTC\n")
    b.write_text("extends: a.yaml\ntimezone: UTC\n")
    with pytest.raises(CalendarError) as info:
        load_calendar(a)
    assert info.value.code == "calendar.extends.cycle"


def test_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("timezone: Europe/Berlin\nweek:\n  mon: ['08:00-12:00']\n  tue: ['8-17']\n")
    with pytest.raises(CalendarError) as info:
        load_calendar(bad)
    assert info.value.line == 4
    assert info.value.file == str(bad)
    assert "8-17" in info.value.message
    day = tmp_path / "day.yaml"
    day.write_text("timezone: Europe/Berlin\nweek:\n  funday: ['08:00-12:00']\n")
    with pytest.raises(CalendarError) as info:
        load_calendar(day)
    assert info.value.line == 3
    tz = tmp_path / "tz.yaml"
    tz.write_text("timezone: Mars/Olympus\nweek: {mon: ['08:00-12:00']}\n")
    with pytest.raises(CalendarError) as info:
        load_calendar(tz)
    assert info.value.code == "calendar.timezone"
    assert info.value.line == 1
    with pytest.raises(CalendarError):
        cal({**OFFICE, "week": {"mon": ["08:00-12:00", "11:00-13:00"]}})
    with pytest.raises(CalendarError):
        cal({**OFFICE, "colour": "blue"})
    with pytest.raises(CalendarError):
        load_calendar(tmp_path / "missing.yaml")


def test_durations_parse_and_refuse() -> None:
    assert parse_duration("PT120M").time == timedelta(hours=2)
    assert parse_duration("PT1.5H").time == timedelta(minutes=90)
    assert parse_duration("P2DT3H").days == 2
    for text in ("P1M", "P1Y", "-PT1H", "PT", "P", "2h", "PT1H2X"):
        with pytest.raises(LiuchengError):
            parse_duration(text)


def test_calendar_without_working_time_fails_cleanly() -> None:
    c = cal({"timezone": "UTC", "week": {}})
    with pytest.raises(CalendarError) as info:
        c.add_business_duration(z(2024, 1, 1), "PT1H")
    assert info.value.code == "calendar.no_working_time"


def test_to_dict_round_trips() -> None:
    c = cal(
        {
            **SPLIT,
            "week": {**SPLIT["week"], "sat": ["22:00-02:00"]},
            "holidays": ["2024-12-25"],
            "overrides": {"2024-12-27": ["10:00-12:00"]},
            "half_days": [{"date": "2024-12-24", "keep": "afternoon"}],
            "business_day": "PT7H30M",
        }
    )
    again = calendar_from_dict(c.to_dict())
    assert again.spec == c.spec


# -- properties against a brute-force minute counter ------------------------------------------

PROPERTY_CAL = cal(
    {
        "timezone": "Europe/Berlin",
        "week": {"mon": ["08:00-12:00", "14:00-17:00"], "tue-fri": ["01:30-04:00", "09:00-17:00"]},
        "holidays": ["2024-03-29"],
    }
)


def brute_due(c: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """Minute stepping; only valid for whole-minute starts and budgets."""
    t = start
    left = minutes
    if left == 0:
        return t
    while True:
        if c.is_working(t):
            left -= 1
            if left == 0:
                return t + timedelta(minutes=1)
        t += timedelta(minutes=1)


@settings(max_examples=40, deadline=None)
@given(
    start_min=st.integers(min_value=0, max_value=60 * 24 * 14),
    minutes=st.integers(min_value=0, max_value=60 * 20),
)
def test_matches_minute_counting_across_dst(start_min: int, minutes: int) -> None:
    start = z(2024, 3, 25) + timedelta(minutes=start_min)  # spans the 2024-03-31 switch
    due = PROPERTY_CAL.add_business_duration(start, timedelta(minutes=minutes))
    assert due == brute_due(PROPERTY_CAL, start, minutes)
    assert PROPERTY_CAL.business_time_between(start, due) == timedelta(minutes=minutes)


@settings(max_examples=60, deadline=None)
@given(
    a=st.integers(min_value=0, max_value=10**7),
    b=st.integers(min_value=0, max_value=10**7),
)
def test_between_is_additive(a: int, b: int) -> None:
    t0 = z(2024, 10, 20)
    t1 = t0 + timedelta(seconds=min(a, b))
    t2 = t0 + timedelta(seconds=max(a, b))
    c = PROPERTY_CAL
    assert c.business_time_between(t0, t2) == c.business_time_between(
        t0, t1
    ) + c.business_time_between(t1, t2)
    assert c.business_time_between(t2, t0) == -c.business_time_between(t0, t2)


def test_inherit_alias_and_registry(tmp_path: Path) -> None:
    base = cal(OFFICE)
    child = tmp_path / "child.yaml"
    child.write_text("inherit: office\nhalf_days: ['2024-06-07']\n")
    c = load_calendar(child, registry={"office": base})
    assert c.spec.week == base.spec.week
    # Friday 2024-06-07 keeps 09:00-13:00 CEST: 4h + Monday 09:00 CEST + 1h
    assert c.add_business_duration(z(2024, 6, 7, 7), "PT5H") == z(2024, 6, 10, 8)
    missing = tmp_path / "missing-parent.yaml"
    missing.write_text("extends: nowhere\n")
    with pytest.raises(CalendarError) as info:
        load_calendar(missing)
    assert info.value.code == "calendar.extends.unknown"
    assert info.value.line == 1


def test_new_york_fall_back_office_hours_and_overnight() -> None:
    office = cal({"timezone": "America/New_York", "week": {"all": ["00:00-03:00"]}})
    # 2024-11-03: 01:00-02:00 happens twice, so 00:00-03:00 lasts 4 hours (04:00Z..08:00Z)
    assert office.working_intervals(z(2024, 11, 3), z(2024, 11, 3, 12)) == [
        (z(2024, 11, 3, 4), z(2024, 11, 3, 8))
    ]
    assert office.add_business_duration(z(2024, 11, 3, 4), "PT3H30M") == z(2024, 11, 3, 7, 30)
    # 2024-03-10: 02:00-03:00 does not exist, so 00:00-03:00 lasts 2 hours (05:00Z..07:00Z)
    assert office.business_time_between(z(2024, 3, 10), z(2024, 3, 11)) == timedelta(hours=2)


def test_due_instant_past_year_9999_is_a_calendar_error() -> None:
    c = cal(OFFICE)
    with pytest.raises(CalendarError) as info:
        c.add_business_duration(z(9999, 12, 1), "PT10000H")
    assert info.value.code == "calendar.range"
    assert info.value.hint
