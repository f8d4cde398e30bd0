"""Worked examples of ``liucheng sla due`` (issue 6, "Checked by"): weekends, split days,
holidays, a budget that ends exactly at the end of an interval, daylight saving (spring forward
and fall back, day and night intervals), a zero budget and a start outside working time."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.cli import app

runner = CliRunner()

OFFICE = """\
timezone: Europe/Berlin
week:
  mon: ["08:00-12:00", "14:00-17:00"]   # a split day
  tue-fri: ["08:00-17:00"]
holidays: ["2025-12-25"]
"""
NIGHT = """\
timezone: Europe/Berlin
week: {all: ["01:00-04:00"]}            # over the hour the clocks change
"""


@pytest.fixture
def calendars(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("office", OFFICE), ("night", NIGHT)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        out[name] = path
    return out


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "due"),
    [
        # Tue 16:00 Berlin + 1 h ends exactly at 17:00: due then, not at 08:00 on Wednesday
        ("office", "2025-03-04T15:00:00Z", "PT1H", "2025-03-04T16:00:00+00:00"),
        # the same at the end of the morning interval of a split day: 12:00, not 14:00
        ("office", "2025-03-03T10:00:00Z", "PT1H", "2025-03-03T11:00:00+00:00"),
        # split day: 1 h until 12:00, then 14:00-15:00 Berlin
        ("office", "2025-03-03T10:00:00Z", "PT2H", "2025-03-03T14:00:00+00:00"),
        # weekend: 1 h on Friday, the second from Monday 08:00 Berlin
        ("office", "2025-03-07T15:00:00Z", "PT2H", "2025-03-10T08:00:00+00:00"),
        # a start on Saturday counts from Monday 08:00 Berlin
        ("office", "2025-03-08T10:00:00Z", "PT30M", "2025-03-10T07:30:00+00:00"),
        # a zero budget is due at its start, even outside working time
        ("office", "2025-03-08T10:00:00Z", "PT0S", "2025-03-08T10:00:00+00:00"),
        # holiday: 1 h on Christmas Eve, Christmas Day off, the rest on the 26th
        ("office", "2025-12-24T15:00:00Z", "PT2H", "2025-12-26T08:00:00+00:00"),
        # DST spring forward over the weekend: Monday 08:00 is CEST (06:00 UTC)
        ("office", "2025-03-28T15:00:00Z", "PT2H", "2025-03-31T07:00:00+00:00"),
        # DST fall back over the weekend: Monday 08:00 is CET (07:00 UTC)
        ("office", "2025-10-24T14:00:00Z", "PT2H", "2025-10-27T08:00:00+00:00"),
        # 01:00-04:00 lasts 2 h on 2025-03-30 (02:00-03:00 does not exist): the third hour is
        # the next night, 01:00-02:00 CEST
        ("night", "2025-03-30T00:00:00Z", "PT3H", "2025-03-31T00:00:00+00:00"),
        # ... and 4 h on 2025-10-26 (02:00-03:00 happens twice): 4 h end exactly at 04:00 CET
        ("night", "2025-10-25T23:00:00Z", "PT4H", "2025-10-26T03:00:00+00:00"),
        # one business day of the office week (7 h + 4 x 9 h = 43 h / 5 days = 8 h 36 min)
        ("office", "2025-03-04T07:00:00Z", "P1D", "2025-03-04T15:36:00+00:00"),
    ],
)
def test_sla_due_worked_examples(
    calendars: dict[str, Path], calendar: str, start: str, duration: str, due: str
) -> None:
    result = runner.invoke(
        app,
        [
            "sla",
            "due",
            "--calendar",
            str(calendars[calendar]),
            "--start",
            start,
            "--duration",
            duration,
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == due


def test_sla_due_in_the_calendars_zone_across_dst(calendars: dict[str, Path]) -> None:
    args = ["sla", "due", "--calendar", str(calendars["office"]), "--start"]
    before = runner.invoke(
        app, [*args, "2025-03-28T15:00:00Z", "--duration", "PT2H", "--tz", "calendar"]
    )
    assert before.stdout.strip() == "2025-03-31T09:00:00+02:00"
    after = runner.invoke(
        app, [*args, "2025-10-24T14:00:00Z", "--duration", "PT2H", "--tz", "calendar"]
    )
    assert after.stdout.strip() == "2025-10-27T09:00:00+01:00"
