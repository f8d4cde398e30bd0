"""Resource pools drawn from the organisation model: lanes, calendars, absences, costs, strategies."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from liucheng.errors import LiuchengError
from liucheng.org import load_organisation
from liucheng.simulation import scenario_from_dict, simulate

DATA = Path(__file__).parent / "data"
MODEL = DATA / "org_desk.bpmn"
ORG_FILE = Path(__file__).resolve().parents[2] / "processes" / "service_desk" / "org.yaml"


def _scenario(**extra: Any) -> Any:
    data: dict[str, Any] = {
        "organisation": str(ORG_FILE),
        # Anna is on vacation 2025-08-04 .. 2025-08-15; Ben works the late shift.
        "start": "2025-08-04T00:00:00+02:00",
        "horizon": "P7D",
        "seed": 3,
        "arrivals": {"interarrival": {"distribution": "exponential", "mean": "PT20M"}},
        "activities": {
            "classify": {"duration": {"distribution": "exponential", "mean": "PT10M"}},
            "solve": {"duration": {"distribution": "exponential", "mean": "PT20M"}},
        },
    }
    data.update(extra)
    return scenario_from_dict(data)


def _starts(result: Any) -> pl.DataFrame:
    return result.event_log().filter(pl.col("lifecycle") == "start")


def test_lanes_select_role_pools_with_people_calendars_absences_and_rates() -> None:
    org = load_organisation(ORG_FILE)
    result = simulate(MODEL, _scenario())
    starts = _starts(result)
    by_activity = {
        a: set(starts.filter(pl.col("activity") == a)["resource"].to_list())
        for a in ("Classify ticket", "Solve problem")
    }
    # First level -> role agent, Second level -> role specialist (the org's lanes: block)
    assert by_activity["Classify ticket"] <= set(org.members("agent"))
    assert by_activity["Solve problem"] <= set(org.members("specialist"))
    assert {"ben", "tom", "carla"} <= by_activity["Classify ticket"]
    assert "anna" not in by_activity["Classify ticket"]  # on vacation all week
    # every start lies inside the person's own working time (Ben: 12:00-21:00 Berlin)
    for row in starts.iter_rows(named=True):
        at = row["timestamp"]
        assert org.calendar_of(row["resource"]) is not None
        assert org.availability(row["resource"], at) is None, row
    ben = [r["timestamp"] for r in starts.iter_rows(named=True) if r["resource"] == "ben"]
    local = [t.astimezone(dt.timezone(dt.timedelta(hours=2))).hour for t in ben]
    assert ben and min(local) >= 12 and max(local) < 21
    # cost of a resource's work is its person's cost_rate
    rates = {pid: org.person(pid).cost_rate for pid in ("tom", "carla", "mei", "jonas")}
    run = result.runs[0]
    for rec in run.activities:
        if rec.resource in rates and rec.ended is not None and not rec.aborted:
            assert rec.cost == pytest.approx(rec.work / 3600 * rates[rec.resource])
    kpis = result.kpis()
    assert set(kpis["resources"]) >= {"agent", "specialist"}
    assert kpis["resources"]["specialist"]["cost"]["mean"] > 0


def test_strategies_round_robin_least_loaded_and_skill_based() -> None:
    pools = {
        "agents": {"role": "agent", "strategy": "round-robin"},
        "specialists": {"role": "specialist"},
    }
    light = {"interarrival": {"distribution": "exponential", "mean": "PT3H"}}
    acts = {
        "classify": {"duration": "PT5M", "resources": ["agents"]},
        "solve": {"duration": "PT5M", "resources": ["specialists"]},
    }
    rr = _starts(
        simulate(MODEL, _scenario(resources=pools, activities=acts, arrivals=light, horizon="P5D"))
    )
    first = _starts(
        simulate(
            MODEL,
            _scenario(
                resources={**pools, "agents": {"role": "agent", "strategy": "first-free"}},
                activities=acts,
                arrivals=light,
                horizon="P5D",
            ),
        )
    )

    def spread(frame: pl.DataFrame) -> Counter[str]:
        return Counter(frame.filter(pl.col("activity") == "Classify ticket")["resource"].to_list())

    # first-free always gives work to the first free member in id order (ben is off shift in
    # the morning, so carla); round-robin spreads it
    def imbalance(c: Counter[str]) -> int:
        return max(c.values()) - min(c.values())

    assert set(spread(rr)) == set(spread(first)) == {"tom", "carla", "ben"}
    assert imbalance(spread(rr)) < imbalance(spread(first))
    # skill-based: only people with billing >= 4 (carla) may classify
    skilled = _starts(
        simulate(
            MODEL,
            _scenario(
                resources={
                    "agents": {"role": "agent", "strategy": "skill-based"},
                    "specialists": {"role": "specialist", "strategy": "least-loaded"},
                },
                activities={
                    "classify": {
                        "duration": "PT10M",
                        "resources": ["agents"],
                        "skills": {"billing": 4},
                    },
                    "solve": {"duration": "PT30M", "resources": ["specialists"]},
                },
            ),
        )
    )
    assert set(spread(skilled)) == {"carla"}
    solvers = Counter(skilled.filter(pl.col("activity") == "Solve problem")["resource"].to_list())
    assert set(solvers) == {"mei", "jonas"}


def test_org_pool_errors() -> None:
    with pytest.raises(LiuchengError) as info:
        scenario_from_dict(
            {"horizon": "P1D", "arrivals": {"interarrival": 60}, "resources": {"x": {"role": "a"}}}
        )
    assert "organisation" in info.value.message
    with pytest.raises(LiuchengError) as info:
        simulate(MODEL, _scenario(resources={"x": {"role": "nobody"}}))
    assert "no role 'nobody'" in info.value.message
    with pytest.raises(LiuchengError) as info:
        simulate(MODEL, _scenario(resources={"x": {"role": "agent", "department": "quality"}}))
    assert "matches pool 'x'" in info.value.message
    with pytest.raises(LiuchengError) as info:
        simulate(MODEL, _scenario(organisation="missing-org.yaml"))
    assert "not found" in info.value.message


def test_org_calendar_merges_touching_days_and_cuts_absences() -> None:
    from liucheng.simulation._org_pools import OrgCalendar

    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    day = 86400.0
    # always on duty (no calendar) except a day and a half of absence from day 2 noon
    cal = OrgCalendar(None, [(2.5 * day, 4 * day)], start)
    spans = list(zip(range(3), cal.spans_from(0.0), strict=False))
    assert [s for _, s in spans][:2] == [(0.0, 2.5 * day), (4 * day, spans[1][1][1])]
    assert spans[1][1][1] > 30 * day  # one merged span after the absence
    assert cal.is_open(day) and not cal.is_open(3 * day)
    assert cal.next_open(3 * day) == 4 * day
    assert cal.add_working_time(2 * day, day) == 4.5 * day  # work pauses while away
    assert cal.open_seconds(0, 5 * day) == 3.5 * day


_CAPACITY_ORG = """
roles: [{id: agent}, {id: specialist}]
people:
  - {id: ann, name: Ann, roles: [agent], capacity: 3}
  - {id: bob, name: Bob, roles: [agent], capacity: 0}
  - {id: cid, name: Cid, roles: [agent]}
  - {id: sam, name: Sam, roles: [specialist]}
processes:
  - {id: service_desk, lanes: {First level: agent, Second level: specialist}}
"""


def _most_open(records: list[Any]) -> int:
    """The most work items a person held at once (handed over, not yet ended)."""
    changes = sorted(
        [(r.assigned, 1) for r in records] + [(r.ended, -1) for r in records],
        key=lambda c: (c[0], c[1]),  # an item ending at t makes room before one arrives at t
    )
    most = held = 0
    for _, delta in changes:
        held += delta
        most = max(most, held)
    return most


@pytest.mark.parametrize("strategy", ["round-robin", "first-free"])
def test_org_capacity_bounds_open_work_per_person(tmp_path: Path, strategy: str) -> None:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(_CAPACITY_ORG)
    result = simulate(
        MODEL,
        _scenario(
            organisation=str(org_file),
            start="2025-08-04T00:00:00+00:00",
            horizon="P1D",
            arrivals={"interarrival": {"distribution": "exponential", "mean": "PT15M"}},
            activities={
                "classify": {"duration": "PT1H", "resources": ["agents"]},
                "solve": {"duration": "PT1M", "resources": ["specialists"]},
            },
            resources={
                "agents": {"role": "agent", "strategy": strategy},
                "specialists": {"role": "specialist"},
            },
        ),
    )
    done = [r for r in result.runs[0].activities if r.element_id == "classify" and r.ended]
    by_person = {p: [r for r in done if r.resource == p] for p in ("ann", "bob", "cid")}
    assert not by_person["bob"]  # capacity 0: takes no work
    assert by_person["ann"] and by_person["cid"]
    for recs in by_person.values():  # everybody still works one item at a time
        recs.sort(key=lambda r: r.started)
        assert all(b.started >= a.ended for a, b in itertools.pairwise(recs))
    assert _most_open(by_person["cid"]) == 1  # no capacity: takes work only when free
    if strategy == "round-robin":
        # a push strategy hands Ann work while she is busy, up to her capacity of 3
        assert _most_open(by_person["ann"]) == 3
        assert any(r.assigned < r.started for r in by_person["ann"])
    else:
        # pulled work is taken when free: capacity never adds a backlog
        assert _most_open(by_person["ann"]) == 1
        assert all(r.assigned == r.started for r in done)
