"""Property-based checks of the event loop and the staffing formulas."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from liucheng.simulation import EventLoop, erlang_a, erlang_c, evaluate_staffing

times = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=60)


@given(times, st.data())
@settings(max_examples=60, deadline=None)
def test_event_loop_is_a_stable_sort_by_time(delays, data):
    loop = EventLoop()
    seen: list[int] = []
    events = [loop.schedule(d, seen.append, i) for i, d in enumerate(delays)]
    cancel = data.draw(st.sets(st.integers(0, len(delays) - 1)))
    for i in cancel:
        events[i].cancel()
    loop.run()
    expected = sorted((d, i) for i, d in enumerate(delays) if i not in cancel)
    assert seen == [i for _, i in expected]
    assert loop.events_processed == len(expected)


@given(
    agents=st.integers(1, 300),
    load_ratio=st.floats(0.05, 0.98),
    aht=st.floats(10, 1000),
    answer=st.floats(0, 120),
)
@settings(max_examples=80, deadline=None)
def test_erlang_c_bounds_and_monotonicity(agents, load_ratio, aht, answer):
    lam = agents * load_ratio / aht
    r = erlang_c(agents, lam, aht, answer)
    more = erlang_c(agents + 1, lam, aht, answer)
    assert 0 <= r.probability_wait <= 1 and 0 <= r.service_level <= 1
    assert more.probability_wait <= r.probability_wait + 1e-12
    assert more.service_level >= r.service_level - 1e-12
    assert more.asa_seconds <= r.asa_seconds + 1e-9
    assert math.isclose(r.occupancy, load_ratio)


@given(
    agents=st.integers(1, 120),
    load_ratio=st.floats(0.05, 3.0),
    patience=st.floats(5, 5000),
)
@settings(max_examples=60, deadline=None)
def test_erlang_a_bounds_and_conservation(agents, load_ratio, patience):
    aht = 180.0
    lam = agents * load_ratio / aht
    r = erlang_a(agents, lam, aht, patience)
    assert r.abandonment is not None
    assert 0 <= r.abandonment <= r.probability_wait <= 1
    assert 0 <= r.service_level <= 1 - r.abandonment + 1e-9
    # Agents are busy exactly with the calls that are not lost.
    assert math.isclose(r.occupancy, min(1.0, load_ratio * (1 - r.abandonment)), rel_tol=1e-9)
    # Never worse than Erlang C's answer for the same staffing when that is stable.
    if load_ratio < 0.95:
        c = evaluate_staffing(agents, calls=lam * 1800, interval_minutes=30, aht_seconds=aht)
        assert r.probability_wait <= c.probability_wait + 1e-9
