"""Case arrivals and case attributes generated from a scenario.

Three arrival processes, all seeded and reproducible:

* ``interarrival``: successive gaps drawn from a distribution; with a ``calendar`` the gaps run
  on the calendar's open time (no cases arrive while it is closed);
* ``profile``: a non-homogeneous Poisson process whose rate is constant within each period of the
  week (rates of overlapping periods add up), generated exactly by inverting the cumulative rate;
* ``replay``: the first timestamp of every case of a CSV log (or listed timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ScenarioError
from .calendars import WEEK, WeeklyCalendar, weekly_spans
from .distributions import Sampler
from .scenario import Arrivals, CaseAttribute, RatePeriod, ReplaySpec, Scenario

__all__ = [
    "arrival_times",
    "case_attribute_sampler",
    "rate_profile",
    "replay_times",
    "scenario_calendars",
]


def rate_profile(periods: list[RatePeriod]) -> list[tuple[float, float, float]]:
    """Piecewise-constant weekly rate: ``(from, to, cases per second)`` covering the week."""
    cuts = {0.0, WEEK}
    parts: list[tuple[float, float, float]] = []
    for period in periods:
        for a, b in weekly_spans([period]):
            parts.append((a, b, period.rate / 3600.0))
            cuts.update((a, b))
    points = sorted(cuts)
    out: list[tuple[float, float, float]] = []
    for a, b in itertools.pairwise(points):
        rate = sum(r for lo, hi, r in parts if lo <= a and b <= hi)
        out.append((a, b, rate))
    return out


def _profile_times(
    periods: list[RatePeriod], start: dt.datetime, rng: np.random.Generator
) -> Iterator[float]:
    segments = rate_profile(periods)
    if not any(rate > 0 for _, _, rate in segments):
        return
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = start.weekday() * 86400.0 + (start - midnight).total_seconds()
    # Walk the weekly segments from simulation time 0, spending unit-rate exponential "budgets".
    week = 0
    index = next(i for i, (a, b, _) in enumerate(segments) if a <= offset < b)
    t = 0.0
    draws = rng.exponential(1.0, 1024).tolist()
    k = 0
    budget = draws[0]
    while True:
        _, b, rate = segments[index]
        seg_end = week * WEEK + b - offset
        room = (seg_end - t) * rate
        if rate > 0 and room >= budget:
            t += budget / rate
            yield t
            k += 1
            if k == len(draws):
                draws = rng.exponential(1.0, 1024).tolist()
                k = 0
            budget = draws[k]
            continue
        budget -= room
        t = seg_end
        index += 1
        if index == len(segments):
            index = 0
            week += 1


def replay_times(spec: ReplaySpec, start: dt.datetime, base_dir: Path | None = None) -> list[float]:
    """Arrival times (seconds after ``start``) of the recorded cases, sorted."""
    stamps: list[dt.datetime] = []
    if spec.timestamps is not None:
        stamps = list(spec.timestamps)
    else:
        assert spec.file is not None
        path = Path(spec.file)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        first: dict[str, dt.datetime] = {}
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                for line, row in enumerate(reader, start=2):
                    case = row.get(spec.case_column)
                    raw = row.get(spec.timestamp_column)
                    if case is None or raw is None:
                        raise ScenarioError(
                            f"the log needs columns {spec.case_column!r} and "
                            f"{spec.timestamp_column!r}",
                            path="arrivals.replay",
                            file=str(path),
                        )
                    try:
                        stamp = dt.datetime.fromisoformat(raw.strip())
                    except ValueError:
                        raise ScenarioError(
                            f"{raw!r} is not an ISO 8601 timestamp",
                            path="arrivals.replay.timestamp_column",
                            file=str(path),
                            line=line,
                        ) from None
                    if case not in first or stamp < first[case]:
                        first[case] = stamp
        except OSError as exc:
            raise ScenarioError(
                f"cannot read the replay log: {exc.strerror or exc}",
                path="arrivals.replay.file",
                file=str(path),
            ) from None
        stamps = list(first.values())
    origin = start if start.tzinfo is None else start.astimezone(dt.UTC)
    out = []
    for raw_stamp in stamps:
        stamp = raw_stamp
        if (stamp.tzinfo is None) != (origin.tzinfo is None):
            stamp = (
                stamp.replace(tzinfo=None)
                if origin.tzinfo is None
                else stamp.replace(tzinfo=dt.UTC)
            )
        seconds = (stamp - origin).total_seconds()
        if seconds >= 0:
            out.append(seconds)
    return sorted(out)


def arrival_times(
    arrivals: Arrivals,
    *,
    start: dt.datetime,
    rng: np.random.Generator,
    horizon: float | None = None,
    calendars: Mapping[str, WeeklyCalendar] | None = None,
    base_dir: Path | None = None,
) -> Iterator[float]:
    """Case arrival times in seconds after ``start``, in order.

    Stops at ``horizon`` (exclusive) and after ``arrivals.max_cases`` cases.
    """
    end = math.inf if horizon is None else horizon
    limit = arrivals.max_cases if arrivals.max_cases is not None else math.inf
    if arrivals.replay is not None:
        source: Iterator[float] = iter(replay_times(arrivals.replay, start, base_dir))
    elif arrivals.profile is not None:
        source = _profile_times(list(arrivals.profile), start, rng)
    else:
        assert arrivals.interarrival is not None
        calendar = None
        if arrivals.calendar is not None:
            if calendars is None or arrivals.calendar not in calendars:
                raise ScenarioError(
                    f"unknown calendar {arrivals.calendar!r}", path="arrivals.calendar"
                )
            calendar = calendars[arrivals.calendar]
        source = _gap_times(Sampler(arrivals.interarrival, rng), calendar)
    for count, t in enumerate(source):
        if t >= end or count >= limit:
            return
        yield t


def _gap_times(gap: Sampler, calendar: WeeklyCalendar | None) -> Iterator[float]:
    if calendar is None:
        t = 0.0
        while True:
            t += gap()
            if not math.isfinite(t):
                return
            yield t
    t = calendar.next_open(0.0)
    lo = hi = -math.inf  # the open span t lies in, as add_working_time last found it
    while math.isfinite(t):
        seconds = gap()
        if lo <= t and seconds < hi - t:
            # within the open span: add_working_time would return exactly this
            t = t + seconds
        else:
            t = calendar.add_working_time(t, seconds)
            lo, hi = -math.inf, -math.inf
            for a, b in calendar.spans_from(t):
                if a <= t:
                    lo, hi = a, b
                break
        if math.isfinite(t):
            yield t


def case_attribute_sampler(
    attributes: Mapping[str, CaseAttribute], rng: np.random.Generator
) -> Iterator[dict[str, Any]]:
    """An endless stream of generated case-attribute dictionaries."""
    prepared: list[tuple[str, Any]] = []
    for name, spec in attributes.items():
        if spec.choices is not None:
            keys = list(spec.choices)
            probs = np.asarray([spec.choices[k] for k in keys], dtype=float)
            prepared.append((name, (keys, probs / probs.sum())))
        else:
            assert spec.distribution is not None
            prepared.append((name, Sampler(spec.distribution, rng)))
    while True:
        case: dict[str, Any] = {}
        for name, how in prepared:
            if isinstance(how, Sampler):
                case[name] = how()
            else:
                keys, probs = how
                case[name] = keys[int(rng.choice(len(keys), p=probs))]
        yield case


def scenario_calendars(scenario: Scenario) -> dict[str, WeeklyCalendar]:
    """The scenario's calendars on its clock."""
    return {
        name: WeeklyCalendar.from_spec(spec, scenario.start)
        for name, spec in scenario.calendars.items()
    }
