"""Weekly working calendars on the simulation clock.

Simulation time is seconds since the scenario's ``start``. A :class:`WeeklyCalendar` turns the
weekly periods and holidays of a :class:`~liucheng.simulation.scenario.CalendarSpec` into
questions a simulator asks: is it open now, when does it open next, and when is a piece of work
that needs so many working seconds finished.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator

from ._errors import SimulationInputError
from .demand import WEEKDAYS
from .scenario import CalendarSpec, Period

__all__ = ["WEEK", "WeeklyCalendar", "weekly_spans"]

WEEK = 7 * 86400.0
_MAX_WEEKS = 520  # a calendar closed for ten years is treated as closed for ever


def weekly_spans(periods: Iterable[Period]) -> list[tuple[float, float]]:
    """Open spans within one week (seconds from Monday 00:00), merged, split at midnight."""
    raw: list[tuple[float, float]] = []
    for period in periods:
        lo, hi = period.minutes()
        for day in period.days:
            base = WEEKDAYS.index(day) * 86400.0
            raw.append((base + lo * 60.0, base + hi * 60.0))
    raw.sort()
    merged: list[tuple[float, float]] = []
    for a, b in raw:
        # Merge overlaps only within a day so every span belongs to exactly one date.
        if merged and a <= merged[-1][1] and int(a // 86400) == int(merged[-1][0] // 86400):
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


class WeeklyCalendar:
    """Open/closed times of a weekly calendar with holidays.

    Args:
        spans: Open spans within a week, seconds from Monday 00:00 (each within one day).
        start: The datetime of simulation time 0.
        holidays: Dates on which it is closed all day.
    """

    def __init__(
        self,
        spans: list[tuple[float, float]],
        start: dt.datetime,
        holidays: Iterable[dt.date] = (),
    ) -> None:
        if not spans:
            raise SimulationInputError("a calendar needs at least one open period")
        self.spans = sorted(spans)
        self.start = start
        self.holidays = frozenset(holidays)
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        # Simulation time 0 sits this many seconds after Monday 00:00 of its week.
        self.offset = start.weekday() * 86400.0 + (start - midnight).total_seconds()
        self._monday = (midnight - dt.timedelta(days=start.weekday())).date()

    @classmethod
    def from_spec(cls, spec: CalendarSpec, start: dt.datetime) -> WeeklyCalendar:
        """Build from a scenario calendar."""
        return cls(weekly_spans(spec.periods), start, spec.holidays)

    @classmethod
    def always(cls, start: dt.datetime) -> WeeklyCalendar:
        """A calendar that is always open."""
        return cls([(d * 86400.0, (d + 1) * 86400.0) for d in range(7)], start)

    def _date_of(self, week: int, span_start: float) -> dt.date:
        return self._monday + dt.timedelta(days=week * 7 + int(span_start // 86400))

    def spans_from(self, t: float) -> Iterator[tuple[float, float]]:
        """Open spans (simulation seconds) that end after ``t``, in time order."""
        week = math.floor((t + self.offset) / WEEK)
        empty_weeks = 0
        while empty_weeks < _MAX_WEEKS:
            base = week * WEEK - self.offset
            produced = False
            for a, b in self.spans:
                if base + b <= t:
                    continue
                if self.holidays and self._date_of(week, a) in self.holidays:
                    continue
                produced = True
                yield (max(base + a, t), base + b)
            empty_weeks = 0 if produced else empty_weeks + 1
            week += 1

    def is_open(self, t: float) -> bool:
        """Whether the calendar is open at ``t``."""
        for a, _ in self.spans_from(t):
            return a <= t
        return False

    def next_open(self, t: float) -> float:
        """The first open instant at or after ``t`` (``inf`` if it never opens again)."""
        for a, _ in self.spans_from(t):
            return a
        return math.inf

    def add_working_time(self, t: float, seconds: float) -> float:
        """When work of ``seconds`` open time, started at ``t``, is done."""
        if seconds < 0:
            raise SimulationInputError(f"work must be >= 0 s, got {seconds}", path="seconds")
        remaining = seconds
        for a, b in self.spans_from(t):
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
        return math.inf

    def open_seconds(self, t0: float, t1: float) -> float:
        """Open time between ``t0`` and ``t1``."""
        total = 0.0
        for a, b in self.spans_from(t0):
            if a >= t1:
                break
            total += min(b, t1) - a
        return total
