"""The queue station simulation against queueing theory (and the formulas against it).

Each check runs independent seeded replications and asserts that the analytic value lies in the
simulation's 99 % confidence interval. Seeds are fixed, so the outcome is reproducible.
"""

from __future__ import annotations

import pytest

from liucheng.simulation import (
    Exponential,
    Fixed,
    SimulationInputError,
    erlang_a,
    erlang_c,
    replicate_queue,
    simulate_queue,
)

HOUR = 3600.0


def test_erlang_c_lies_in_the_simulation_confidence_intervals():
    lam, aht, n = 1 / 18, 180.0, 14
    summary = replicate_queue(
        replications=12,
        seed=20261121,
        confidence=0.99,
        servers=n,
        interarrival=Exponential(1 / lam),
        service=Exponential(aht),
        horizon=80 * HOUR,
        warm_up=2 * HOUR,
        answer_seconds=20.0,
    )
    theory = erlang_c(n, lam, aht, answer_seconds=20.0)
    for metric, value in (
        ("probability_wait", theory.probability_wait),
        ("service_level", theory.service_level),
        ("asa_seconds", theory.asa_seconds),
        ("occupancy", theory.occupancy),
    ):
        est = summary[metric]
        assert est.contains(value), f"{metric}: {value} not in [{est.low}, {est.high}]"
        # The interval is informative, not a blanket.
        assert est.half_width < 0.25 * max(value, 0.05)
    assert summary["abandonment"].mean == 0.0


def test_erlang_a_lies_in_the_simulation_confidence_intervals():
    lam, aht, n, patience = 1 / 18, 180.0, 9, 120.0  # overloaded: only abandonment saves it
    summary = replicate_queue(
        replications=12,
        seed=7,
        confidence=0.99,
        servers=n,
        interarrival=Exponential(1 / lam),
        service=Exponential(aht),
        patience=Exponential(patience),
        horizon=60 * HOUR,
        warm_up=2 * HOUR,
        answer_seconds=20.0,
    )
    theory = erlang_a(n, lam, aht, patience, answer_seconds=20.0)
    for metric, value in (
        ("probability_wait", theory.probability_wait),
        ("service_level", theory.service_level),
        ("asa_seconds", theory.asa_seconds),
        ("mean_wait_seconds", theory.mean_wait_seconds),
        ("abandonment", theory.abandonment),
        ("occupancy", theory.occupancy),
    ):
        est = summary[metric]
        assert value is not None
        assert est.contains(value), f"{metric}: {value} not in [{est.low}, {est.high}]"


def test_mm1_mean_wait_converges_to_queueing_theory():
    lam, mu = 0.8, 1.0  # rho = 0.8: Wq = rho / (mu - lambda) = 4
    summary = replicate_queue(
        replications=10,
        seed=11,
        confidence=0.99,
        servers=1,
        interarrival=Exponential(1 / lam),
        service=Exponential(1 / mu),
        horizon=25_000.0,
        warm_up=1_000.0,
    )
    wq = (lam / mu) / (mu - lam)
    assert summary["asa_seconds"].contains(wq)
    # Little's law for the queue: Lq = lambda * Wq.
    assert summary["mean_queue_length"].contains(lam * wq)


def test_mmc_mean_wait_converges_to_queueing_theory():
    lam, aht, c = 1.0, 4.0, 5  # a = 4 Erlangs on 5 servers
    summary = replicate_queue(
        replications=10,
        seed=3,
        confidence=0.99,
        servers=c,
        interarrival=Exponential(1 / lam),
        service=Exponential(aht),
        horizon=18_000.0,
        warm_up=1_000.0,
    )
    theory = erlang_c(c, lam, aht)
    assert summary["mean_wait_seconds"].contains(theory.asa_seconds)
    assert summary["mean_queue_length"].contains(lam * theory.asa_seconds)


def test_deterministic_queue_never_waits():
    run = simulate_queue(
        servers=1, interarrival=Fixed(10.0), service=Fixed(9.0), horizon=1000.0, rng=1
    )
    assert run.probability_wait == 0.0
    assert run.arrivals == 99  # arrivals at 10, 20, ... 990
    assert run.occupancy == pytest.approx(0.891, abs=0.01)


def test_same_seed_same_run_other_seed_other_run():
    kwargs = {
        "servers": 3,
        "interarrival": Exponential(1.0),
        "service": Exponential(2.5),
        "patience": Exponential(5.0),
        "horizon": 2000.0,
    }
    a = simulate_queue(rng=42, **kwargs)
    b = simulate_queue(rng=42, **kwargs)
    c = simulate_queue(rng=43, **kwargs)
    assert a == b
    assert a != c
    assert a.arrivals == a.served + a.abandoned


def test_bad_station_parameters():
    with pytest.raises(SimulationInputError, match="servers"):
        simulate_queue(servers=0, interarrival=Fixed(1.0), service=Fixed(1.0), horizon=10.0)
    with pytest.raises(SimulationInputError, match="warm_up"):
        simulate_queue(
            servers=1, interarrival=Fixed(1.0), service=Fixed(1.0), horizon=10.0, warm_up=10.0
        )
    with pytest.raises(SimulationInputError, match="replications"):
        replicate_queue(
            replications=0,
            seed=1,
            servers=1,
            interarrival=Fixed(1.0),
            service=Fixed(1.0),
            horizon=10.0,
        )


def test_staffing_changes_hold_calls_until_agents_return():
    # Calls every 50 s taking 10 s; the only agent leaves at 120 and is back at 180, so the call
    # of 150 waits 30 s and no other call waits.
    run = simulate_queue(
        servers=1,
        arrivals=[0.0, 50.0, 100.0, 150.0, 200.0, 250.0],
        service=Fixed(10.0),
        staffing=[(120.0, 0), (180.0, 1)],
        horizon=300.0,
        answer_seconds=20.0,
    )
    assert run.arrivals == 6 and run.served == 6
    assert run.probability_wait == pytest.approx(1 / 6)
    assert run.mean_wait_seconds == pytest.approx(30 / 6)
    assert run.service_level == pytest.approx(5 / 6)
    # Busy 60 s out of 240 staffed seconds.
    assert run.occupancy == pytest.approx(60 / 240)


def test_agents_finish_the_call_in_hand_before_leaving():
    run = simulate_queue(
        servers=2,
        arrivals=[0.0, 0.0, 1.0],
        service=Fixed(100.0),
        staffing=[(50.0, 1)],
        horizon=10.0,
    )
    # Both calls of time 0 are finished; the third waits for the one agent left (free at 100).
    assert run.served == 3
    assert run.asa_seconds == pytest.approx((0 + 0 + 99) / 3)


def test_constant_staffing_plan_changes_nothing():
    kwargs = {
        "interarrival": Exponential(20.0),
        "service": Exponential(60.0),
        "horizon": 5000.0,
        "rng": 5,
    }
    plain = simulate_queue(servers=4, **kwargs)
    planned = simulate_queue(servers=4, staffing=[(1000.0, 4), (2000.0, 4)], **kwargs)
    # Same calls, same waits; only the two staffing events are extra.
    assert planned.events == plain.events + 2
    for metric in (
        "arrivals",
        "served",
        "probability_wait",
        "service_level",
        "asa_seconds",
        "occupancy",
        "mean_queue_length",
    ):
        assert getattr(planned, metric) == pytest.approx(getattr(plain, metric)), metric


def test_arrival_list_matches_the_renewal_process():
    import numpy as np

    gaps = np.random.default_rng(1).exponential(20.0, 400).cumsum().tolist()
    listed = simulate_queue(servers=3, arrivals=gaps, service=Fixed(45.0), horizon=gaps[-1] + 1)
    assert listed.arrivals == 400
    with pytest.raises(SimulationInputError, match="exactly one"):
        simulate_queue(servers=1, service=Fixed(1.0), horizon=10.0)
    with pytest.raises(SimulationInputError, match="staffing"):
        simulate_queue(
            servers=1,
            interarrival=Fixed(1.0),
            service=Fixed(1.0),
            horizon=10.0,
            staffing=[(5.0, -1)],
        )
