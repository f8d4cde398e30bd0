"""Business calendars: working intervals in a time zone, and durations counted in working time.

A calendar is a week of local working intervals per weekday, whole-day holidays (single days or
ranges), date-specific overrides (special hours on one date), half days, and an optional parent it
extends. Every computation runs on aware UTC instants; local wall times are turned into instants
with :mod:`zoneinfo`, so a working interval on a daylight-saving day is as long as the wall clock
says (shorter in spring, longer in autumn). The exact rules are in docs/org.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._duration import IsoDuration, format_duration, parse_duration
from ._errors import CalendarError
from ._yaml import line_of, load_yaml_document, read_text

__all__ = [
    "BusinessCalendar",
    "CalendarSpec",
    "Interval",
    "as_utc",
    "calendar_from_dict",
    "load_calendar",
]

DAY = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{name: i for i, name in enumerate(WEEKDAYS)},
    **{
        full: i
        for i, full in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_INTERVAL = re.compile(
    r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$"
)
# A calendar with no working time for this many consecutive days is treated as never working.
MAX_IDLE_DAYS = 3_660

LocalIntervals = tuple[tuple[int, int], ...]
Interval = tuple[datetime, datetime]


def as_utc(instant: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class CalendarSpec:
    """The resolved definition of a business calendar (after ``extends`` is applied).

    Attributes:
        timezone: IANA zone name, e.g. ``"Europe/Berlin"``.
        week: Seven tuples (Monday first) of local intervals as seconds after local midnight;
            an end past 86 400 runs into the next day (a night shift).
        holidays: Whole local days off.
        overrides: Special working hours on a date (an empty tuple: the date is off).
        half_days: Date → ``"morning"`` or ``"afternoon"``: the half of that day's working time
            that is kept.
        business_day: Working time a ``D`` in a duration stands for; ``None`` means the
            average working day of ``week``.
        name: Optional name (for messages and the organisation file).
    """

    timezone: str
    week: tuple[LocalIntervals, ...]
    holidays: frozenset[date] = frozenset()
    overrides: Mapping[date, LocalIntervals] = field(default_factory=dict)
    half_days: Mapping[date, str] = field(default_factory=dict)
    business_day: timedelta | None = None
    name: str | None = None


class BusinessCalendar:
    """Working time in a time zone; all operations take and return aware datetimes.

    Naive datetimes passed in are taken to be UTC. Results are aware datetimes in UTC.
    Intervals are half-open: an instant equal to an interval's end is not working time.
    """

    __slots__ = ("_cache", "spec", "tz")

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        try:
            self.tz = ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(
                f"unknown time zone {spec.timezone!r}",
                code="calendar.timezone",
                hint="use an IANA name such as Europe/Berlin or America/New_York",
            ) from exc
        self._cache: dict[date, tuple[Interval, ...]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar(name={self.spec.name!r}, timezone={self.spec.timezone!r})"

    @property
    def name(self) -> str | None:
        """The calendar's name, if it has one."""
        return self.spec.name

    # -- local day → instants -------------------------------------------------------------

    def local_intervals(self, day: date) -> LocalIntervals:
        """The working intervals of a local date, in seconds after local midnight."""
        spec = self.spec
        if day in spec.holidays:
            return ()
        base = spec.overrides.get(day)
        if base is None:
            base = spec.week[day.weekday()]
        half = spec.half_days.get(day)
        if half is not None:
            base = _half(base, half)
        return base

    def day_intervals(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of a local date as UTC instants (cached)."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, time(0))
        out: list[Interval] = []
        for start, end in self.local_intervals(day):
            begin = self._to_utc(midnight + timedelta(seconds=start), latest=False)
            finish = self._to_utc(midnight + timedelta(seconds=end), latest=True)
            if finish > begin:
                out.append((begin, finish))
        result = tuple(out)
        if len(self._cache) > 20_000:
            self._cache.clear()
        self._cache[day] = result
        return result

    def _to_utc(self, wall: datetime, *, latest: bool) -> datetime:
        """Instant of a local wall time.

        Ambiguous wall times (autumn, the repeated hour) give the first occurrence for an interval
        start and the last for an interval end, so the interval covers both. A wall time that does
        not exist (spring, the skipped hour) gives the instant of the transition, so only wall
        times that exist count.
        """
        first = wall.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        second = wall.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        if first == second:
            return first
        exists = first.astimezone(self.tz).replace(tzinfo=None) == wall
        if exists:
            return max(first, second) if latest else min(first, second)
        # Nonexistent: the transition lies between the two readings; find it to the second.
        lo = int(min(first, second).timestamp())
        hi = int(max(first, second).timestamp())
        after = max(first, second).astimezone(self.tz).utcoffset()
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, self.tz).utcoffset() == after:
                hi = mid
            else:
                lo = mid
        return datetime.fromtimestamp(hi, UTC)

    # -- iteration ----------------------------------------------------------------------------

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def iter_intervals(self, start: datetime) -> Iterator[Interval]:
        """Working intervals from ``start`` on (the first one clipped to ``start``), in order.

        Overlapping intervals are merged; intervals that merely touch (e.g. at midnight in a
        24-hour calendar) may come as separate pieces, so the sequence is never infinite-lazy.

        Raises:
            CalendarError: No working time for ten years after ``start``.
        """
        start = as_utc(start)
        day = self._local_date(start) - timedelta(days=1)
        pending: Interval | None = None
        idle = 0
        while True:
            intervals = self.day_intervals(day)
            day += timedelta(days=1)
            if not intervals:
                idle += 1
                if idle > MAX_IDLE_DAYS and pending is None:
                    raise CalendarError(
                        f"calendar {self.spec.name or ''} has no working time in the ten years "
                        f"after {start.isoformat()}",
                        code="calendar.no_working_time",
                        hint="add working intervals to the calendar's week",
                    )
                if pending is not None:
                    yield pending
                    pending = None
                continue
            idle = 0
            for begin, finish in intervals:
                if finish <= start:
                    continue
                clipped = max(begin, start)
                if pending is None:
                    pending = (clipped, finish)
                elif clipped < pending[1]:
                    pending = (pending[0], max(pending[1], finish))
                else:
                    yield pending
                    pending = (clipped, finish)
            # Later days' intervals start on or after their local midnight, so a pending
            # interval that ends by then can no longer overlap anything and is released.
            if pending is not None:
                next_midnight = self._to_utc(datetime.combine(day, time(0)), latest=False)
                if pending[1] <= next_midnight or pending[1] - pending[0] > timedelta(days=7):
                    yield pending
                    pending = None

    def working_intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """The working intervals within ``[start, end)``, clipped, merged, in UTC."""
        start, end = as_utc(start), as_utc(end)
        out: list[Interval] = []
        if end <= start:
            return out
        for begin, finish in self.iter_intervals(start):
            if begin >= end:
                break
            piece = (begin, min(finish, end))
            if out and out[-1][1] >= begin:
                out[-1] = (out[-1][0], piece[1])
            else:
                out.append(piece)
            if finish >= end:
                break
        return out

    # -- queries ------------------------------------------------------------------------------

    def is_working(self, instant: datetime) -> bool:
        """Whether ``instant`` lies inside a working interval (ends excluded)."""
        instant = as_utc(instant)
        day = self._local_date(instant)
        for probe in (day - timedelta(days=1), day):
            for begin, finish in self.day_intervals(probe):
                if begin <= instant < finish:
                    return True
        return False

    def next_working_instant(self, instant: datetime) -> datetime:
        """``instant`` itself if it is working time, else the start of the next interval."""
        for begin, _finish in self.iter_intervals(instant):
            return begin
        raise AssertionError("unreachable: iter_intervals never ends")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (negative when ``end`` is before ``start``)."""
        start, end = as_utc(start), as_utc(end)
        if end < start:
            return -self.business_time_between(end, start)
        total = timedelta(0)
        if end == start:
            return total
        for begin, finish in self.iter_intervals(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
            if finish >= end:
                break
        return total

    def add_business_duration(
        self, start: datetime, duration: timedelta | str | IsoDuration
    ) -> datetime:
        """The earliest instant at which ``duration`` of working time has passed since ``start``.

        A budget that runs out exactly at the end of an interval is due at that end. A zero
        budget is due at ``start``.

        Args:
            start: When the clock starts (naive = UTC).
            duration: Working time: a timedelta or an ISO 8601 duration (days and weeks as
                defined by :meth:`business_timedelta`).

        Returns:
            The due instant, aware, in UTC.
        """
        try:
            budget = self.business_timedelta(duration)
            start = as_utc(start)
            if budget < timedelta(0):
                raise CalendarError("negative business duration", code="calendar.duration.negative")
            if budget == timedelta(0):
                return start
            for begin, finish in self.iter_intervals(start):
                available = finish - begin
                if budget <= available:
                    return begin + budget
                budget -= available
        except OverflowError as exc:
            # Python's datetime stops at year 9999: a budget that large has no due instant.
            raise CalendarError(
                f"the due instant of {duration} from {start} lies outside the years 1..9999",
                code="calendar.range",
                hint="use a shorter duration or an earlier start",
            ) from exc
        raise AssertionError("unreachable: iter_intervals never ends")  # pragma: no cover

    # -- durations ------------------------------------------------------------------------

    @property
    def working_weekdays(self) -> int:
        """Number of weekdays that have working time in the regular week."""
        return sum(1 for intervals in self.spec.week if _total(intervals))

    @property
    def weekly_working_time(self) -> timedelta:
        """Nominal working time of a regular week (wall-clock lengths, no holidays)."""
        return timedelta(seconds=sum(_total(intervals) for intervals in self.spec.week))

    @property
    def business_day(self) -> timedelta:
        """Working time that one ``D`` of a business duration stands for.

        The calendar's ``business_day`` if it sets one, else the average working day of its
        regular week (weekly working time ÷ working weekdays).
        """
        if self.spec.business_day is not None:
            return self.spec.business_day
        days = self.working_weekdays
        if days == 0:
            raise CalendarError(
                "the calendar's week has no working time, so a business day is undefined",
                code="calendar.no_working_time",
            )
        return self.weekly_working_time / days

    def business_timedelta(self, duration: timedelta | str | IsoDuration) -> timedelta:
        """Working time of a duration: ``D`` = :attr:`business_day`, ``W`` = weekdays × ``D``.

        Hours, minutes and seconds are working time as they are.
        """
        if isinstance(duration, timedelta):
            return duration
        parsed = parse_duration(duration) if isinstance(duration, str) else duration
        total = parsed.time
        if parsed.has_days:
            day = self.business_day
            days = parsed.days + parsed.weeks * self.working_weekdays
            micro = Decimal(day // timedelta(microseconds=1)) * days
            total += timedelta(microseconds=int(micro.to_integral_value()))
        return total

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The calendar as the YAML mapping :func:`calendar_from_dict` reads (flattened)."""
        spec = self.spec
        out: dict[str, Any] = {}
        if spec.name:
            out["name"] = spec.name
        out["timezone"] = spec.timezone
        out["week"] = {
            WEEKDAYS[i]: [_format_interval(iv) for iv in spec.week[i]]
            for i in range(7)
            if spec.week[i]
        }
        if spec.holidays:
            out["holidays"] = [d.isoformat() for d in sorted(spec.holidays)]
        if spec.overrides:
            out["overrides"] = {
                d.isoformat(): [_format_interval(iv) for iv in spec.overrides[d]]
                for d in sorted(spec.overrides)
            }
        if spec.half_days:
            out["half_days"] = [
                d.isoformat()
                if spec.half_days[d] == "morning"
                else {"date": d.isoformat(), "keep": spec.half_days[d]}
                for d in sorted(spec.half_days)
            ]
        if spec.business_day is not None:
            out["business_day"] = format_duration(spec.business_day)
        return out


def _total(intervals: LocalIntervals) -> int:
    return sum(end - start for start, end in intervals)


def _half(intervals: LocalIntervals, keep: str) -> LocalIntervals:
    """Cut a day's intervals at the middle of its working time, keeping one half."""
    half = _total(intervals) / 2
    out: list[tuple[int, int]] = []
    used = 0.0
    for start, end in intervals:
        length = end - start
        if keep == "morning":
            if used >= half:
                break
            take = min(length, half - used)
            out.append((start, start + round(take)))
        else:
            if used + length <= half:
                used += length
                continue
            skip = max(0.0, half - used)
            out.append((start + round(skip), end))
        used += length
    return tuple((s, e) for s, e in out if e > s)


def _format_clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}"
    return text + (f":{secs:02d}" if secs else "")


def _format_interval(interval: tuple[int, int]) -> str:
    start, end = interval
    return f"{_format_clock(start)}-{_format_clock(end - DAY if end > DAY else end)}"


# -- parsing ------------------------------------------------------------------------------------


class _Ctx:
    """Where we are in a calendar file, for error messages."""

    def __init__(self, file: str | None, lines: Mapping[tuple[str | int, ...], int]) -> None:
        self.file = file
        self.lines = lines

    def error(
        self, message: str, path: tuple[str | int, ...], hint: str | None = None
    ) -> CalendarError:
        return CalendarError(message, file=self.file, line=line_of(self.lines, path), hint=hint)


def _parse_interval(text: Any, ctx: _Ctx, path: tuple[str | int, ...]) -> tuple[int, int]:
    match = _INTERVAL.match(str(text)) if isinstance(text, str) else None
    if match is None:
        raise ctx.error(
            f"bad working interval {text!r}",
            path,
            hint='write "HH:MM-HH:MM" in local time, e.g. "08:00-12:00"; "22:00-06:00" '
            "runs past midnight",
        )
    h1, m1, s1, h2, m2, s2 = (int(g) if g else 0 for g in match.groups())
    if h1 > 23 or m1 > 59 or s1 > 59 or h2 > 24 or m2 > 59 or s2 > 59 or (h2 == 24 and (m2 or s2)):
        raise ctx.error(f"bad clock time in interval {text!r}", path)
    start = h1 * 3600 + m1 * 60 + s1
    end = h2 * 3600 + m2 * 60 + s2
    if end == start:
        raise ctx.error(f"empty working interval {text!r}", path)
    if end < start:
        end += DAY  # runs past midnight into the next local day
    return start, end


def _parse_intervals(value: Any, ctx: _Ctx, path: tuple[str | int, ...]) -> LocalIntervals:
    if value is None:
        return ()
    items: list[Any]
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise ctx.error(f"working intervals must be a list of strings, not {value!r}", path)
    parsed = sorted(_parse_interval(item, ctx, (*path, i)) for i, item in enumerate(items))
    for (_s1, e1), (s2, _e2) in pairwise(parsed):
        if s2 < e1:
            raise ctx.error(f"overlapping working intervals {value!r}", path)
    return tuple(parsed)


def _as_date(value: Any, ctx: _Ctx, path: tuple[str | int, ...]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ctx.error(f"bad date {value!r}", path, hint="write dates as YYYY-MM-DD") from None


def _date_range(value: Any, ctx: _Ctx, path: tuple[str | int, ...]) -> list[date]:
    """A holiday entry: a date, ``"A/B"`` or ``"A..B"`` (inclusive), or ``{from, to}``."""
    first: date
    last: date
    if isinstance(value, dict):
        if "date" in value:
            first = last = _as_date(value["date"], ctx, (*path, "date"))
        elif "from" in value and "to" in value:
            first = _as_date(value["from"], ctx, (*path, "from"))
            last = _as_date(value["to"], ctx, (*path, "to"))
        else:
            raise ctx.error("a holiday mapping needs 'date' or 'from' and 'to'", path)
    elif isinstance(value, str) and ("/" in value or ".." in value):
        left, right = re.split(r"/|\.\.", value, maxsplit=1)
        first, last = _as_date(left, ctx, path), _as_date(right, ctx, path)
    else:
        first = last = _as_date(value, ctx, path)
    if last < first:
        raise ctx.error(f"holiday range {value!r} ends before it starts", path)
    if (last - first).days > 3_660:
        raise ctx.error(f"holiday range {value!r} is longer than ten years", path)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _weekday_keys(key: str, ctx: _Ctx, path: tuple[str | int, ...]) -> list[int]:
    name = key.strip().lower()
    if name in ("all", "daily", "every day", "everyday"):
        return list(range(7))
    if "-" in name:
        left, right = (part.strip() for part in name.split("-", 1))
        if left in _DAY_ALIASES and right in _DAY_ALIASES:
            a, b = _DAY_ALIASES[left], _DAY_ALIASES[right]
            return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(b + 1)]
    if name in _DAY_ALIASES:
        return [_DAY_ALIASES[name]]
    raise ctx.error(
        f"unknown weekday {key!r}",
        path,
        hint="use mon, tue, wed, thu, fri, sat, sun, a range like mon-fri, or all",
    )


_KEYS = {
    "name",
    "timezone",
    "extends",
    "inherit",
    "week",
    "holidays",
    "overrides",
    "special_days",
    "half_days",
    "business_day",
    "description",
}


def calendar_from_dict(
    data: Mapping[str, Any],
    *,
    file: str | None = None,
    lines: Mapping[tuple[str | int, ...], int] | None = None,
    resolve: Callable[[str], BusinessCalendar] | None = None,
    name: str | None = None,
) -> BusinessCalendar:
    """Build a calendar from its YAML mapping (see docs/org.md for every key).

    Args:
        data: The mapping.
        file: Source file, for error messages.
        lines: Key paths → line numbers (from the YAML loader), for error messages.
        resolve: Turns an ``extends`` reference into the parent calendar.
        name: Name to give the calendar when the mapping has none.

    Raises:
        CalendarError: Unknown keys, bad intervals, dates or zones (with file and line).
    """
    ctx = _Ctx(file, lines or {})
    if not isinstance(data, Mapping):
        raise ctx.error("a calendar must be a mapping with at least 'timezone' and 'week'", ())
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise ctx.error(
            f"unknown calendar key {unknown[0]!r}",
            (unknown[0],),
            hint="known keys: " + ", ".join(sorted(_KEYS)),
        )
    parent: BusinessCalendar | None = None
    parent_ref = data.get("extends", data.get("inherit"))
    if parent_ref is not None:
        if resolve is None:
            raise ctx.error(f"cannot resolve 'extends: {parent_ref}' here", ("extends",))
        parent = resolve(str(parent_ref))
    timezone = data.get("timezone", parent.spec.timezone if parent else None)
    if not isinstance(timezone, str) or not timezone:
        raise ctx.error("the calendar needs a 'timezone' (an IANA zone name)", ("timezone",))
    week: list[LocalIntervals] = list(parent.spec.week) if parent else [()] * 7
    raw_week = data.get("week", {}) or {}
    if not isinstance(raw_week, Mapping):
        raise ctx.error("'week' must map weekdays to lists of intervals", ("week",))
    for key, value in raw_week.items():
        intervals = _parse_intervals(value, ctx, ("week", str(key)))
        for index in _weekday_keys(str(key), ctx, ("week", str(key))):
            week[index] = intervals
    holidays: set[date] = set(parent.spec.holidays) if parent else set()
    for i, entry in enumerate(data.get("holidays", []) or []):
        holidays.update(_date_range(entry, ctx, ("holidays", i)))
    overrides: dict[date, LocalIntervals] = dict(parent.spec.overrides) if parent else {}
    for section in ("overrides", "special_days"):
        raw = data.get(section) or {}
        items = raw.items() if isinstance(raw, Mapping) else _listed_overrides(raw, ctx, section)
        for key, value in items:
            overrides[_as_date(key, ctx, (section, str(key)))] = _parse_intervals(
                value, ctx, (section, str(key))
            )
    half_days: dict[date, str] = dict(parent.spec.half_days) if parent else {}
    for i, entry in enumerate(data.get("half_days", []) or []):
        keep = "morning"
        if isinstance(entry, Mapping):
            keep = str(entry.get("keep", "morning"))
            if keep not in ("morning", "afternoon"):
                raise ctx.error(
                    f"half day keeps 'morning' or 'afternoon', not {keep!r}", ("half_days", i)
                )
        for day in _date_range(entry, ctx, ("half_days", i)):
            half_days[day] = keep
    business_day = parent.spec.business_day if parent else None
    if data.get("business_day") is not None:
        parsed = parse_duration(str(data["business_day"]))
        if parsed.has_days or parsed.time <= timedelta(0):
            raise ctx.error("'business_day' must be a positive PT… duration", ("business_day",))
        business_day = parsed.time
    spec = CalendarSpec(
        timezone=timezone,
        week=tuple(week),
        holidays=frozenset(holidays),
        overrides=overrides,
        half_days=half_days,
        business_day=business_day,
        name=str(data["name"]) if data.get("name") is not None else name,
    )
    try:
        return BusinessCalendar(spec)
    except CalendarError as exc:
        exc.file, exc.line = file, line_of(ctx.lines, ("timezone",))
        raise


def _listed_overrides(raw: Any, ctx: _Ctx, section: str) -> list[tuple[Any, Any]]:
    if not isinstance(raw, list):
        raise ctx.error(f"'{section}' must map dates to intervals", (section,))
    out: list[tuple[Any, Any]] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or "date" not in entry:
            raise ctx.error(f"each '{section}' entry needs 'date' and 'hours'", (section, i))
        out.append((entry["date"], entry.get("hours", [])))
    return out


def load_calendar(
    path: str | Path,
    *,
    registry: Mapping[str, BusinessCalendar] | None = None,
    _seen: Sequence[Path] = (),
) -> BusinessCalendar:
    """Load a calendar YAML file; ``extends`` names a file (relative to this one) or a registry key.

    Raises:
        CalendarError: The file is missing, not YAML, not a valid calendar, or extends in a cycle.
    """
    file = Path(path)
    resolved = file.resolve()
    if resolved in _seen:
        raise CalendarError(
            "calendars extend each other in a cycle: "
            + " → ".join(p.name for p in (*_seen, resolved)),
            file=str(path),
            code="calendar.extends.cycle",
        )
    text = read_text(file, CalendarError)
    data, lines = load_yaml_document(text, file=str(path), error=CalendarError)

    def resolve(ref: str) -> BusinessCalendar:
        if registry is not None and ref in registry:
            return registry[ref]
        candidate = file.parent / ref
        if not candidate.exists():
            raise CalendarError(
                f"calendar {ref!r} to extend is neither a known calendar nor a file",
                file=str(path),
                line=line_of(lines, ("extends",)) or line_of(lines, ("inherit",)),
                code="calendar.extends.unknown",
            )
        return load_calendar(candidate, registry=registry, _seen=(*_seen, resolved))

    if data is None:
        raise CalendarError("the calendar file is empty", file=str(path))
    return calendar_from_dict(data, file=str(path), lines=lines, resolve=resolve, name=file.stem)
