"""Erlang C and Erlang A against closed forms computed independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liucheng.errors import LiuchengError
from liucheng.simulation import (
    SimulationInputError,
    agents_for_target,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_probability_wait,
    evaluate_staffing,
    offered_load,
)


def factorial_erlang_c(n: int, a: float) -> float:
    """Textbook Erlang C with factorials (only usable for small n)."""
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


def birth_death_erlang_a(n: int, lam: float, mu: float, theta: float, cap: int = 4000):
    """Stationary distribution of M/M/n+M by the birth-death recursion (independent check)."""
    logp = np.zeros(cap)
    for j in range(1, cap):
        death = min(j, n) * mu + max(0, j - n) * theta
        logp[j] = logp[j - 1] + math.log(lam / death)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    wait = p[n:].sum()  # PASTA: an arrival waits iff all n agents are busy
    queue = sum(p[j] * (j - n) for j in range(n, cap))
    abandonment = theta * queue / lam
    busy = sum(p[j] * min(j, n) for j in range(cap))
    return wait, abandonment, busy / n


def test_reference_call_centre_matches_published_values():
    # 100 calls in 30 minutes, AHT 180 s, 14 agents (shared/bench/simulation/README.md).
    r = evaluate_staffing(14, calls=100, interval_minutes=30, aht_seconds=180, answer_seconds=20)
    assert r.offered_load == pytest.approx(10.0)
    assert round(r.probability_wait, 4) == 0.1741
    assert round(r.service_level, 4) == 0.8884
    assert round(r.asa_seconds, 2) == 7.84
    assert round(r.occupancy, 3) == 0.714


def test_agents_for_80_20_is_the_smallest_sufficient_staffing():
    r = agents_for_target(calls=100, interval_minutes=30, aht_seconds=180, target=0.8)
    assert r.agents == 14
    below = evaluate_staffing(13, calls=100, interval_minutes=30, aht_seconds=180)
    assert below.service_level < 0.8 <= r.service_level


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (3, 2.2), (10, 7.5), (25, 20.0), (60, 55.0)])
def test_erlang_c_equals_factorial_formula(n, a):
    assert erlang_c_probability_wait(n, a) == pytest.approx(factorial_erlang_c(n, a), rel=1e-10)


def test_erlang_b_small_cases():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 2.0) == pytest.approx(2.0 / 3.0)
    # B(2, a) = (a^2/2) / (1 + a + a^2/2)
    assert erlang_b(2, 1.5) == pytest.approx(1.125 / (1 + 1.5 + 1.125))


def test_mm1_closed_forms():
    # M/M/1: P(wait) = rho, ASA = rho/(mu - lambda), SL(t) = 1 - rho exp(-(mu-lambda) t).
    lam, aht = 1 / 20, 10.0
    r = erlang_c(1, lam, aht, answer_seconds=15)
    rho = lam * aht
    assert r.probability_wait == pytest.approx(rho)
    assert r.asa_seconds == pytest.approx(rho / (1 / aht - lam))
    assert r.service_level == pytest.approx(1 - rho * math.exp(-(1 / aht - lam) * 15))


def test_thousands_of_agents_are_stable():
    r = agents_for_target(calls=60000, interval_minutes=30, aht_seconds=180, target=0.8)
    assert 6000 < r.agents < 6100
    assert 0.8 <= r.service_level < 1
    assert math.isfinite(r.asa_seconds) and r.asa_seconds > 0
    lower = evaluate_staffing(r.agents - 1, calls=60000, interval_minutes=30, aht_seconds=180)
    assert lower.service_level < 0.8


def test_unstable_erlang_c_reports_no_service():
    r = evaluate_staffing(9, calls=100, interval_minutes=30, aht_seconds=180)
    assert r.probability_wait == 1.0
    assert r.service_level == 0.0
    assert math.isinf(r.asa_seconds)
    assert r.to_dict()["asa_seconds"] is None


@pytest.mark.parametrize(
    ("n", "patience"), [(14, 180.0), (10, 60.0), (8, 300.0), (20, 30.0), (3, 600.0), (1, 5.0)]
)
def test_erlang_a_matches_birth_death_chain(n, patience):
    lam, aht = 1 / 18, 180.0
    r = erlang_a(n, lam, aht, patience)
    wait, abandon, occupancy = birth_death_erlang_a(n, lam, 1 / aht, 1 / patience)
    assert r.probability_wait == pytest.approx(wait, rel=1e-6)
    assert r.abandonment == pytest.approx(abandon, rel=1e-6)
    assert r.occupancy == pytest.approx(occupancy, rel=1e-6)
    # Little's law on the queue: mean wait of all callers = P(abandon) * mean patience.
    assert r.mean_wait_seconds == pytest.approx(abandon * patience, rel=1e-6)


def test_erlang_a_tends_to_erlang_c_for_patient_callers():
    c = erlang_c(14, 1 / 18, 180.0)
    a = erlang_a(14, 1 / 18, 180.0, patience_seconds=1e8)
    assert a.probability_wait == pytest.approx(c.probability_wait, rel=1e-4)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-3)
    assert a.abandonment < 1e-6


def test_erlang_a_is_defined_when_overloaded():
    r = erlang_a(8, 1 / 18, 180.0, patience_seconds=120.0)
    assert 0 < r.abandonment < 1
    assert r.probability_wait > 0.5
    # Served calls keep the agents busy: lambda (1 - P(ab)) AHT / n.
    assert r.occupancy == pytest.approx(10 * (1 - r.abandonment) / 8)
    assert 0 < r.service_level < 1


def test_erlang_a_heavy_overload_at_scale_matches_the_fluid_limit():
    # 6000 Erlangs on 5000 agents: K overflows floats, the log-space formulas must not.
    r = erlang_a(5000, 60000 / 1800, 180.0, 600.0)
    assert r.probability_wait == pytest.approx(1.0)
    assert r.abandonment == pytest.approx(1 - 5000 / 6000, abs=1e-3)
    # Waiting time in the efficiency-driven regime: patience * ln(offered / capacity).
    assert r.asa_seconds == pytest.approx(600 * math.log(6000 / 5000), rel=0.01)
    assert r.occupancy == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(("n", "load"), [(5000, 500.0), (1000, 10.0), (400, 150.0)])
def test_erlang_a_heavily_overstaffed_at_scale_is_finite(n, load):
    # Erlang B underflows below 1e-308 here; the log-space recursion must still give numbers.
    r = erlang_a(n, load / 180.0, 180.0, 300.0)
    assert 0.0 <= r.probability_wait < 1e-6
    assert r.service_level == pytest.approx(1.0)
    assert r.abandonment is not None and 0.0 <= r.abandonment < 1e-6
    assert r.occupancy == pytest.approx(load / n, rel=1e-6)
    assert math.isfinite(r.asa_seconds)


def test_erlang_a_service_level_grows_with_threshold_and_agents():
    sls = [
        erlang_a(12, 1 / 18, 180.0, 200.0, answer_seconds=t).service_level
        for t in (0, 10, 20, 60, 600)
    ]
    assert sls == sorted(sls)
    assert sls[0] == pytest.approx(1 - erlang_a(12, 1 / 18, 180.0, 200.0).probability_wait)
    by_agents = [erlang_a(n, 1 / 18, 180.0, 200.0).service_level for n in range(8, 16)]
    assert by_agents == sorted(by_agents)


def test_erlang_a_needs_fewer_agents_than_erlang_c():
    c = agents_for_target(calls=100, interval_minutes=30, aht_seconds=180, target=0.8)
    a = agents_for_target(
        calls=100, interval_minutes=30, aht_seconds=180, target=0.8, patience_seconds=120
    )
    assert a.agents <= c.agents
    assert a.service_level >= 0.8
    assert a.abandonment is not None


def test_max_occupancy_adds_agents():
    plain = agents_for_target(calls=2000, interval_minutes=30, aht_seconds=180, target=0.8)
    capped = agents_for_target(
        calls=2000, interval_minutes=30, aht_seconds=180, target=0.8, max_occupancy=0.85
    )
    assert plain.occupancy > 0.85
    assert (
        capped.occupancy
        <= 0.85
        < evaluate_staffing(
            capped.agents - 1, calls=2000, interval_minutes=30, aht_seconds=180
        ).occupancy
    )


def test_zero_calls_need_no_agents():
    r = agents_for_target(calls=0, interval_minutes=15, aht_seconds=300, target=0.9)
    assert r.agents == 0 and r.service_level == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": 1.2},
        {"target": 0.0},
        {"aht_seconds": 0.0},
        {"interval_minutes": -5.0},
        {"calls": -1.0},
        {"calls": float("nan")},
        {"patience_seconds": 0.0},
    ],
)
def test_bad_input_is_a_clear_error(kwargs):
    args = {"calls": 100.0, "interval_minutes": 30.0, "aht_seconds": 180.0, "target": 0.8}
    args.update(kwargs)
    with pytest.raises(SimulationInputError) as info:
        agents_for_target(**args)
    assert isinstance(info.value, LiuchengError)
    assert info.value.code == "simulation.input"


def test_agents_must_be_positive_integers():
    with pytest.raises(SimulationInputError):
        erlang_c(0, 0.1, 10.0)
    with pytest.raises(SimulationInputError):
        erlang_c(2.5, 0.1, 10.0)  # type: ignore[arg-type]
    assert offered_load(100, 30, 180) == pytest.approx(10.0)
