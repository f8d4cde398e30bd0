"""SLA definitions as data: the mapping form round-trips (calendar inlined), SLA files are
checked with file and line."""

from __future__ import annotations

import datetime as dt

import pytest

from liucheng.org import (
    EscalationLevel,
    EscalationPolicy,
    SlaDefinition,
    SlaError,
    calendar_from_dict,
    load_sla_file,
    sla_from_dict,
    sla_to_dict,
)

UTC = dt.UTC
BERLIN = calendar_from_dict(
    {"timezone": "Europe/Berlin", "week": {"all": ["08:00-17:00"]}, "holidays": ["2015-09-22"]},
    name="berlin",
)


def test_mapping_round_trip_keeps_the_calendar_and_levels() -> None:
    sla = SlaDefinition(
        "resolution", "PT120M", calendar=BERLIN, warn_at=(0.5, 0.8), stop_on=("task.claimed",)
    )
    policy = EscalationPolicy(
        "resolution",
        sla,
        (
            EscalationLevel("PT0S", "reassign"),
            EscalationLevel(dt.timedelta(hours=4), "add_task", 2),
        ),
        skip_unavailable=False,
    )
    data = sla_to_dict(sla, policy, process="p", task="t")
    spec = sla_from_dict(data)  # no resolver needed: the calendar is inline
    assert (spec.process, spec.task, spec.calendar_name) == ("p", "t", "berlin")
    d = spec.definition
    assert (d.warn_at, d.stop_on, d.scope) == ((0.5, 0.8), ("task.claimed",), "task")
    start = dt.datetime(2015, 9, 21, 14, 30, tzinfo=UTC)
    assert d.clock_calendar.add_business_duration(start, d.target) == dt.datetime(
        2015, 9, 23, 7, 30, tzinfo=UTC
    )
    assert spec.escalation is not None and not spec.escalation.skip_unavailable
    assert [(lv.action, lv.levels_up) for lv in spec.escalation.levels] == [
        ("reassign", 1),
        ("add_task", 2),
    ]
    assert spec.definition.clock_calendar.business_timedelta(
        spec.escalation.levels[1].after
    ) == dt.timedelta(hours=4)


def test_calendar_by_name_and_defaults() -> None:
    spec = sla_from_dict(
        {"name": "case", "target": "P1D", "calendar": "berlin"},
        calendars={"berlin": BERLIN}.__getitem__,
    )
    assert spec.definition.scope == "process" and spec.definition.warn_at == (0.8,)
    assert spec.definition.target_time == dt.timedelta(hours=9)  # one business day of 08-17
    assert spec.escalation is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": "x"}, "needs a name and a target"),
        ({"name": "x", "target": "P1M"}, "x"),
        ({"name": "x", "target": "PT1H", "warn_at": [2]}, "between 0 and 1"),
        ({"name": "x", "target": "PT1H", "colour": "red"}, "unknown SLA key"),
        ({"name": "x", "target": "PT1H", "escalation": [{"action": "fire"}]}, "fire"),
        ({"name": "x", "target": "PT1H", "calendar": "nope"}, "nope"),
    ],
)
def test_bad_mappings_are_refused(data: dict[str, object], words: str) -> None:
    with pytest.raises(SlaError) as err:
        sla_from_dict(data)
    assert words in err.value.message


def test_sla_file_errors_name_file_and_line() -> None:
    text = (
        "slas:\n  - {name: a, process: p, target: PT1H}\n  - {name: b, process: p, target: soon}\n"
    )
    with pytest.raises(SlaError) as err:
        load_sla_file(text, file="p.sla.yaml")
    assert (err.value.file, err.value.line) == ("p.sla.yaml", 3)
    with pytest.raises(SlaError) as err:
        load_sla_file("slas:\n  - {name: a, target: PT1H}\n", file="x.sla.yaml")
    assert "names no process" in err.value.message
    parsed = load_sla_file(
        "calendars: {c: {timezone: UTC, week: {all: ['09:00-17:00']}}}\n"
        "slas: [{name: a, process: p, task: t, target: PT1H, calendar: c}]\n"
    )
    [entry] = parsed.slas
    spec = sla_from_dict(entry, calendars=parsed.resolve())
    assert spec.definition.calendar is parsed.calendars["c"]
