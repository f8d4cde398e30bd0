"""The discrete-event core: a seeded, reproducible event calendar.

Events sit in a binary heap ordered by ``(time, sequence)``; the sequence number is a counter, so
two events at the same time run in the order they were scheduled and a run never depends on how
Python compares callbacks. Cancelling marks the event dead; it is dropped when it reaches the
front (lazy deletion keeps cancel O(1)).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from heapq import heappush
from typing import Any

import numpy as np

from ._errors import SimulationInputError

__all__ = ["Event", "EventLoop", "spawn_generators"]


class Event(list[Any]):
    """A scheduled call of ``action(*args)`` at ``time``; :meth:`cancel` to drop it.

    The event is its own heap entry, ``[time, sequence, action, args, cancelled]``: a list
    made in C, compared by time then sequence (unique, so the rest is never compared), with
    no per-event ``__init__`` nor wrapping tuple (the loop schedules two events per simulated
    activity).
    """

    __slots__ = ()

    @property
    def time(self) -> float:
        """When it runs (seconds)."""
        return float(self[0])

    @property
    def action(self) -> Callable[..., Any]:
        """What it calls."""
        return self[2]  # type: ignore[no-any-return]

    @property
    def args(self) -> tuple[Any, ...]:
        """The call's arguments."""
        return self[3]  # type: ignore[no-any-return]

    @property
    def cancelled(self) -> bool:
        """Cancelled before it ran."""
        return bool(self[4])

    def cancel(self) -> None:
        """Do not run this event (no effect once it has run)."""
        self[4] = True

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        return f"<Event t={self.time:.6g} {getattr(self.action, '__name__', self.action)}{state}>"


class EventLoop:
    """A virtual clock with an event calendar.

    Args:
        start: The clock's initial time (seconds).

    Example:
        >>> loop = EventLoop()
        >>> seen: list[float] = []
        >>> _ = loop.schedule(5.0, lambda: seen.append(loop.now))
        >>> loop.run()
        1
        >>> seen
        [5.0]
    """

    __slots__ = ("_heap", "_seq", "events_processed", "now")

    def __init__(self, start: float = 0.0) -> None:
        if not math.isfinite(start):
            raise SimulationInputError(f"start time must be finite, got {start!r}", path="start")
        self.now = float(start)
        self._heap: list[Event] = []
        self._seq = 0
        self.events_processed = 0

    def __len__(self) -> int:
        """Events in the calendar, including cancelled ones not yet dropped."""
        return len(self._heap)

    def schedule(self, delay: float, action: Callable[..., Any], *args: Any) -> Event:
        """Run ``action(*args)`` ``delay`` seconds from now (``delay >= 0``)."""
        if not delay >= 0.0:  # also rejects NaN
            raise SimulationInputError(f"cannot schedule {delay!r} s in the past", path="delay")
        # _push inlined (here and in schedule_at): these run twice per simulated activity
        self._seq += 1
        event = Event((self.now + delay, self._seq, action, args, False))
        heappush(self._heap, event)
        return event

    def schedule_at(self, time: float, action: Callable[..., Any], *args: Any) -> Event:
        """Run ``action(*args)`` at absolute ``time`` (not before now)."""
        if not time >= self.now:
            raise SimulationInputError(
                f"cannot schedule at {time!r}, before the current time {self.now}", path="time"
            )
        self._seq += 1
        event = Event((float(time), self._seq, action, args, False))
        heappush(self._heap, event)
        return event

    def _push(self, time: float, action: Callable[..., Any], args: tuple[Any, ...]) -> Event:
        self._seq += 1
        event = Event((time, self._seq, action, args, False))
        heappush(self._heap, event)
        return event

    def peek(self) -> float:
        """Time of the next live event, ``inf`` when there is none."""
        heap = self._heap
        while heap and heap[0][4]:  # cancelled
            heapq.heappop(heap)
        return heap[0][0] if heap else math.inf

    def step(self) -> bool:
        """Run the next live event; ``False`` when the calendar is empty."""
        heap = self._heap
        while heap:
            time, _, action, args, cancelled = heapq.heappop(heap)
            if cancelled:
                continue
            self.now = time
            self.events_processed += 1
            action(*args)
            return True
        return False

    def run(self, until: float | None = None, max_events: int | None = None) -> int:
        """Run events in time order.

        Args:
            until: Stop before the first event later than this; the clock is then set to
                ``until``. ``None`` runs until the calendar is empty.
            max_events: Stop after this many events.

        Returns:
            The number of events run by this call.
        """
        heap = self._heap
        pop = heapq.heappop
        limit = math.inf if until is None else until
        budget = -1 if max_events is None else max_events
        done = 0
        while heap and done != budget:
            if heap[0][0] > limit:
                break
            time, _, action, args, cancelled = pop(heap)
            if cancelled:
                continue
            self.now = time
            done += 1
            action(*args)
        self.events_processed += done
        if until is not None and done != budget and self.now < until:
            self.now = float(until)
        return done


def spawn_generators(seed: int | None, count: int) -> list[np.random.Generator]:
    """``count`` independent random streams derived from one seed (reproducible)."""
    if count < 0:
        raise SimulationInputError(f"count must be >= 0, got {count}", path="count")
    children = np.random.SeedSequence(seed).spawn(count)
    return [np.random.default_rng(child) for child in children]
