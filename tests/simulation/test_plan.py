"""Simulating a staffing plan interval by interval."""

from __future__ import annotations

import statistics

import pytest

from liucheng.simulation import SimulationInputError, read_demand, simulate_plan


def day(calls: list[float]):
    rows = ["start,calls"] + [
        f"2026-03-02T{8 + i // 2:02d}:{30 * (i % 2):02d},{c}" for i, c in enumerate(calls)
    ]
    return read_demand("demand.csv", text="\n".join(rows) + "\n")


def test_steady_plan_agrees_with_erlang_c():
    table = day([100] * 24)
    checks = simulate_plan(table, [14] * 24, aht_seconds=180, replications=16, seed=3)
    assert [c.label for c in checks][:2] == ["2026-03-02T08:00", "2026-03-02T08:30"]
    settled = checks[2:]
    assert all(c.service_level == pytest.approx(0.88835, abs=1e-4) for c in settled)
    # Per-interval ratios average a little above the call-weighted Erlang value (intervals
    # with fewer calls do better), so allow a small margin for the mean of means.
    mean = statistics.mean(c.simulated.mean for c in settled)
    assert mean == pytest.approx(0.8884, abs=0.02)
    covered = sum(c.simulated.contains(c.service_level) for c in settled) / len(settled)
    assert covered >= 0.75


def test_backlog_carries_over_into_the_next_interval():
    # 10 agents for 10 Erlangs: Erlang C calls it hopeless (SL 0) but within half an hour
    # a third of the calls are still answered in time; the backlog then hurts 09:00, which
    # Erlang C rates as if it started empty.
    table = day([100, 100, 100])
    checks = simulate_plan(table, [14, 10, 14], aht_seconds=180, replications=20, seed=1)
    under, after = checks[1], checks[2]
    assert under.service_level == 0.0
    assert under.simulated.low > 0.1
    assert after.simulated.mean < after.service_level
    assert after.simulated_abandonment is None


def test_patience_reports_abandonment():
    table = day([100, 100])
    checks = simulate_plan(
        table, [10, 10], aht_seconds=180, patience_seconds=120, replications=10, seed=2
    )
    assert all(c.simulated_abandonment is not None for c in checks)
    assert checks[1].simulated_abandonment.mean > 0.05
    data = checks[1].to_dict()
    assert set(data) >= {
        "start",
        "calls",
        "agents",
        "service_level",
        "simulated_service_level",
        "simulated_abandonment",
    }


def test_weekly_plans_wrap_and_bad_plans_are_rejected():
    table = read_demand(
        "w.csv", text="start,calls\nSun 23:30,50\nMon 00:00,50\n", interval_minutes=30
    )
    agents = [0] * table.slots
    agents[0] = agents[-1] = 8
    checks = simulate_plan(table, agents, aht_seconds=180, replications=4, seed=1)
    assert [c.label for c in checks] == ["Mon 00:00", "Sun 23:30"]
    with pytest.raises(SimulationInputError, match="intervals"):
        simulate_plan(table, [1, 2], aht_seconds=180)
    with pytest.raises(SimulationInputError, match="replications"):
        simulate_plan(table, agents, aht_seconds=180, replications=1)
    staffed = read_demand("a.csv", text="start,agents\nMon 00:00,3\nMon 00:30,3\n")
    with pytest.raises(SimulationInputError, match="agents, not calls"):
        simulate_plan(staffed, [3] * staffed.slots, aht_seconds=180)
