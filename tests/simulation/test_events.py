"""The event calendar: time order, FIFO ties, cancellation, bounded runs."""

from __future__ import annotations

import math

import pytest

from liucheng.simulation import EventLoop, SimulationInputError, spawn_generators


def test_events_run_in_time_order_and_ties_in_scheduling_order():
    loop = EventLoop()
    seen: list[tuple[float, str]] = []

    def note(tag: str) -> None:
        seen.append((loop.now, tag))

    loop.schedule(5.0, note, "c")
    loop.schedule(1.0, note, "a")
    loop.schedule(5.0, note, "d")  # same time as "c": runs after it
    loop.schedule_at(3.0, note, "b")
    assert loop.run() == 4
    assert seen == [(1.0, "a"), (3.0, "b"), (5.0, "c"), (5.0, "d")]
    assert loop.now == 5.0
    assert loop.events_processed == 4


def test_events_scheduled_by_events_at_the_same_time_run_after_waiting_ones():
    loop = EventLoop()
    seen: list[str] = []

    def first() -> None:
        seen.append("first")
        loop.schedule(0.0, seen.append, "spawned")

    loop.schedule(1.0, first)
    loop.schedule(1.0, seen.append, "second")
    loop.run()
    assert seen == ["first", "second", "spawned"]


def test_cancelled_events_do_not_run():
    loop = EventLoop()
    seen: list[int] = []
    keep = loop.schedule(1.0, seen.append, 1)
    drop = loop.schedule(2.0, seen.append, 2)
    drop.cancel()
    assert loop.peek() == 1.0
    loop.run()
    assert seen == [1]
    assert not keep.cancelled
    assert loop.events_processed == 1
    assert loop.peek() == math.inf


def test_run_until_stops_and_advances_the_clock():
    loop = EventLoop(start=100.0)
    seen: list[float] = []
    for t in (1.0, 2.0, 10.0):
        loop.schedule(t, lambda: seen.append(loop.now))
    assert loop.run(until=105.0) == 2
    assert seen == [101.0, 102.0]
    assert loop.now == 105.0
    assert len(loop) == 1
    assert loop.run(max_events=1) == 1
    assert seen[-1] == 110.0
    assert not loop.step()


def test_cannot_schedule_into_the_past():
    loop = EventLoop()
    loop.schedule(5.0, lambda: None)
    loop.run()
    with pytest.raises(SimulationInputError):
        loop.schedule(-1.0, lambda: None)
    with pytest.raises(SimulationInputError):
        loop.schedule_at(4.0, lambda: None)
    with pytest.raises(SimulationInputError):
        loop.schedule(float("nan"), lambda: None)


def test_spawned_generators_are_reproducible_and_independent():
    a1, a2 = spawn_generators(5, 2)
    b1, _ = spawn_generators(5, 2)
    x, y, z = a1.random(4), a2.random(4), b1.random(4)
    assert (x == z).all()
    assert not (x == y).all()
