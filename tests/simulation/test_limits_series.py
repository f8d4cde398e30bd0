"""Run guards (max_events / max_virtual_time) and the hourly queue series over replications."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from liucheng.errors import LiuchengError
from liucheng.simulation import scenario_from_dict, simulate

DATA = Path(__file__).parent / "data"
FOREVER = DATA / "forever.bpmn"  # a message wait and a timer in an endless loop


def _forever(**extra: Any) -> Any:
    return scenario_from_dict(
        {
            "arrivals": {"interarrival": 60, "max_cases": 1},
            "events": {"ping": {"duration": "PT1M"}},
            **extra,
        }
    )


def test_endless_loop_is_truncated_and_reported() -> None:
    by_events = simulate(FOREVER, _forever(max_events=300))
    run = by_events.runs[0]
    assert run.truncated == "max_events"
    assert run.events == 300
    limits = by_events.kpis()["limits"]
    assert limits["truncated_replications"] == [0]
    assert limits["reasons"] == ["max_events"]
    assert by_events.kpis()["cases"]["unfinished"]["mean"] == 1

    by_time = simulate(FOREVER, _forever(max_virtual_time="PT10H"), replications=2)
    assert [r.truncated for r in by_time.runs] == ["max_virtual_time"] * 2
    # each loop turn is 1 min message + 5 min timer: 10 h is 100 turns, 2 events each
    assert 190 <= by_time.runs[0].events <= 202
    assert by_time.kpis()["limits"]["truncated_replications"] == [0, 1]


def test_limit_can_be_an_error() -> None:
    with pytest.raises(LiuchengError) as info:
        simulate(FOREVER, _forever(max_events=50, on_limit="error"))
    assert info.value.code == "simulation.limit"
    assert "max_events" in info.value.message
    assert info.value.hint


def test_finite_runs_are_not_truncated() -> None:
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 60, "max_cases": 20},
            "activities": {"serve": {"duration": 30}},
        }
    )
    result = simulate(DATA / "mm1.bpmn", sc)
    assert result.runs[0].truncated is None
    assert result.kpis()["limits"]["truncated_replications"] == []
    with pytest.raises(LiuchengError):
        scenario_from_dict({"arrivals": {"interarrival": 60, "max_cases": 1}, "max_events": 0})


def _value_at(changes: list[tuple[float, int]], t: float) -> float:
    value = 0.0
    for when, v in changes:
        if when <= t:
            value = float(v)
    return value


def test_hourly_queue_series_covers_every_replication_with_a_bounded_length() -> None:
    sc = scenario_from_dict(
        {
            "horizon": "PT30H",
            "warm_up": "PT2H",
            "replications": 4,
            "seed": 5,
            "arrivals": {"interarrival": {"distribution": "exponential", "mean": 60}},
            "activities": {
                "serve": {
                    "duration": {"distribution": "exponential", "mean": 55},
                    "resources": ["clerks"],
                }
            },
            "resources": {"clerks": {"count": 1}},
        }
    )
    result = simulate(DATA / "mm1.bpmn", sc)
    series = result.kpis()["resources"]["clerks"]["queue_length_hourly"]
    assert series["replications"] == 4
    assert series["start_seconds"] == 7200
    assert len(series["mean"]) == len(series["low"]) == len(series["high"]) == 29
    for k in (1, 7, 20):
        t = 7200 + 3600 * k
        values = [_value_at(run.queue_changes["clerks"], t) for run in result.runs]
        assert series["mean"][k] == pytest.approx(np.mean(values), abs=1e-6)
        if np.std(values) > 0:
            assert series["low"][k] < series["mean"][k] < series["high"][k]
    assert any(v > 0 for v in series["mean"])

    long = scenario_from_dict(
        {
            "horizon": "P70D",
            "arrivals": {"interarrival": {"distribution": "exponential", "mean": "PT6H"}},
            "activities": {"serve": {"duration": "PT1M", "resources": ["clerks"]}},
            "resources": {"clerks": {"count": 1}},
            "replications": 2,
        }
    )
    hourly = simulate(DATA / "mm1.bpmn", long).kpis()["resources"]["clerks"]["queue_length_hourly"]
    assert len(hourly["mean"]) == 24 * 7 * 8  # at most eight weeks of hours
    assert all(v is None or math.isfinite(v) for v in hourly["high"])
