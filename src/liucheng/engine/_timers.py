"""ISO 8601 timer values: durations, date-times, repeating intervals (and cron cycles)."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liucheng.errors import EngineError

__all__ = [
    "BusinessAdder",
    "RetryPolicy",
    "TimerPlan",
    "add_duration",
    "parse_duration",
    "parse_retry_cycle",
    "plan_timer",
]

#: Adds a duration (ISO text or timedelta) to an instant in business time (a calendar's
#: working time); timers that name a calendar count with one.
BusinessAdder = Callable[[_dt.datetime, Any], _dt.datetime]

_DURATION = re.compile(
    r"^(?P<neg>-)?P(?:(?P<y>\d+(?:[.,]\d+)?)Y)?(?:(?P<mo>\d+(?:[.,]\d+)?)M)?(?:(?P<w>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<d>\d+(?:[.,]\d+)?)D)?(?:T(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<mi>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar duration: months plus an exact part."""

    months: int
    delta: _dt.timedelta


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration such as ``PT1H30M`` or ``P1Y2M``.

    Raises:
        EngineError: The text is not a duration.
    """
    m = _DURATION.match(text.strip().upper())
    if not m or text.strip().upper() in {"P", "PT"}:
        raise EngineError(
            f"'{text}' is not an ISO 8601 duration",
            code="engine.timer.invalid",
            hint="write e.g. PT5M, P1D or R3/PT10M",
        )

    def num(name: str) -> float:
        v = m.group(name)
        return float(v.replace(",", ".")) if v else 0.0

    months = int(num("y") * 12 + num("mo"))
    delta = _dt.timedelta(
        weeks=num("w"), days=num("d"), hours=num("h"), minutes=num("mi"), seconds=num("s")
    )
    if m.group("neg"):
        return Duration(-months, -delta)
    return Duration(months, delta)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing job of an element is tried, and how long to wait between tries.

    Attributes:
        tries: Executions in all (the first one included); after the last failure an incident
            opens.
        delays: Waits before the 2nd, 3rd, ... try; the last one repeats if there are fewer
            delays than retries.
        text: The cycle as written (``R5/PT5M`` or ``PT1M,PT5M,PT10M``).
    """

    tries: int
    delays: tuple[Duration, ...]
    text: str

    def delay(self, failures: int) -> Duration:
        """The wait after the ``failures``-th failure (1 = after the first try)."""
        return self.delays[min(max(failures, 1), len(self.delays)) - 1]


def parse_retry_cycle(text: str) -> RetryPolicy:
    """Parse a ``camunda:failedJobRetryTimeCycle``.

    ``R5/PT5M`` means 5 tries in all, 5 minutes apart. A comma list of durations
    (``PT1M,PT5M,PT10M``) gives the wait before each retry in turn: one try, then one retry per
    duration (4 tries there).

    Raises:
        EngineError: ``engine.retry.invalid``: not such a cycle.
    """
    raw = text.strip()
    hint = "write R5/PT5M (5 tries, 5 minutes apart) or PT1M,PT5M,PT10M"
    try:
        if raw.upper().startswith("R"):
            head, _, period = raw.partition("/")
            count = head[1:]
            if not period or not count.isdigit() or int(count) < 1:
                raise EngineError(f"'{text}' is not a retry cycle", code="engine.retry.invalid")
            return RetryPolicy(int(count), (parse_duration(period),), raw)
        parts = [p.strip() for p in raw.split(",")]
        if not raw or not all(parts):
            raise EngineError(f"'{text}' is not a retry cycle", code="engine.retry.invalid")
        return RetryPolicy(len(parts) + 1, tuple(parse_duration(p) for p in parts), raw)
    except EngineError as exc:
        raise EngineError(
            f"'{text}' is not a retry cycle: {exc.message}", code="engine.retry.invalid", hint=hint
        ) from None


def add_duration(when: _dt.datetime, d: Duration) -> _dt.datetime:
    """``when`` plus a calendar duration (months clamp to the month's last day)."""
    if d.months:
        total = when.year * 12 + (when.month - 1) + d.months
        year, month = divmod(total, 12)
        month += 1
        day = when.day
        while True:
            try:
                when = when.replace(year=year, month=month, day=day)
                break
            except ValueError:
                day -= 1
    return when + d.delta


def _zone(name: str, text: str) -> _dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EngineError(
            f"unknown time zone '{name}' in timer '{text}'",
            code="engine.timer.invalid",
            hint="use an IANA zone id such as Europe/Berlin",
        ) from None


def _parse_datetime(text: str) -> _dt.datetime:
    """An ISO 8601 date-time; a zone id may follow as ``[Europe/Berlin]`` or FEEL's ``@Zone``.

    A local time with a zone id is placed in that zone (daylight saving included); without
    offset or zone the time is UTC.
    """
    t = text.strip()
    zone: _dt.tzinfo | None = None
    if t.endswith("]") and "[" in t:
        t, name = t[:-1].split("[", 1)
        zone = _zone(name, text)
    elif "@" in t:
        t, name = t.split("@", 1)
        zone = _zone(name, text)
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        value = _dt.datetime.fromisoformat(t)
    except ValueError:
        raise EngineError(
            f"'{text}' is not an ISO 8601 date-time",
            code="engine.timer.invalid",
            hint="write e.g. 2025-01-31T12:00:00Z or 2025-01-31T09:00:00[Europe/Berlin]",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or _dt.UTC)
    elif zone is not None:
        value = value.astimezone(zone)
    return value


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """When a timer fires first and how it repeats.

    Attributes:
        due: First due time.
        repeat: Further firings after the first (-1: unbounded; 0: none).
        period: Cycle text to compute the next due time from (``None`` for one-shot timers).
    """

    due: _dt.datetime
    repeat: int
    period: str | None


def plan_timer(
    kind: str, value: Any, now: _dt.datetime, business: BusinessAdder | None = None
) -> TimerPlan:
    """Plan a timer of ``kind`` (``duration``, ``date`` or ``cycle``) from an evaluated value.

    ``value`` may be ISO 8601 text, a :class:`datetime.timedelta`, a FEEL years-months duration
    or a :class:`datetime.datetime`. With ``business`` (the timer names a calendar), durations
    and the periods of ``R/...`` cycles count working time; dates, a cycle's start date and cron
    cycles stay wall-clock.

    Raises:
        EngineError: The value does not fit the timer kind.
    """
    if isinstance(value, _dt.datetime):
        due = value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
        return TimerPlan(due, 0, None)
    if isinstance(value, _dt.timedelta):
        return TimerPlan(business(now, value) if business else now + value, 0, None)
    months = getattr(value, "months", None)
    if isinstance(months, int) and not isinstance(value, str):
        if business is not None:
            return TimerPlan(business(now, value), 0, None)  # refused: no working time
        return TimerPlan(add_duration(now, Duration(months, _dt.timedelta())), 0, None)
    if not isinstance(value, str) or not value.strip():
        raise EngineError(
            f"timer value {value!r} is not a date, duration or cycle",
            code="engine.timer.invalid",
            hint="a timer expression must yield ISO 8601 text, a duration or a date-time",
        )
    text = value.strip()
    if kind == "date":
        return TimerPlan(_parse_datetime(text), 0, None)
    if kind == "duration" or not text.upper().startswith("R"):
        if kind == "cycle" and len(text.split()) >= 5:
            return _cron(text, now)
        if text.upper().startswith("P") or text.startswith("-P"):
            if business is not None:
                return TimerPlan(business(now, text), 0, None)
            return TimerPlan(add_duration(now, parse_duration(text)), 0, None)
        return TimerPlan(_parse_datetime(text), 0, None)
    parts = text.split("/")
    head = parts[0][1:]
    total = int(head) if head else -1
    start: _dt.datetime | None = None
    period: str | None = None
    for p in parts[1:]:
        if p.upper().startswith("P"):
            period = p
        else:
            start = _parse_datetime(p)
    if period is None:
        raise EngineError(
            f"timer cycle '{text}' has no period",
            code="engine.timer.invalid",
            hint="write e.g. R3/PT10M",
        )
    if start is not None:
        due = start
    elif business is not None:
        due = business(now, period)
    else:
        due = add_duration(now, parse_duration(period))
    repeat = -1 if total < 0 else max(total - 1, 0)
    if total == 0:
        repeat = 0
    return TimerPlan(due, repeat, period)


def next_due(
    period: str, last_due: _dt.datetime, business: BusinessAdder | None = None
) -> _dt.datetime:
    """The next due time of a cycle (ISO period or cron text) after ``last_due``; with
    ``business`` an ISO period counts working time (cron stays wall-clock)."""
    if len(period.split()) >= 5 or period.upper().startswith(("CRON_TZ=", "TZ=")):
        return _cron(period, last_due).due
    if business is not None:
        return business(last_due, period)
    return add_duration(last_due, parse_duration(period))


def _cron(text: str, now: _dt.datetime) -> TimerPlan:
    """The next firing of a cron expression (5 fields, or Quartz's 6 with seconds first).

    A leading ``CRON_TZ=<zone>`` (or ``TZ=<zone>``) evaluates the fields in that time zone, so
    ``CRON_TZ=Europe/Berlin 0 9 * * MON-FRI`` fires at 09:00 Berlin time all year round.
    """
    from croniter import croniter

    body = text.strip()
    zone: _dt.tzinfo | None = None
    head, _, rest = body.partition(" ")
    if head.upper().startswith(("CRON_TZ=", "TZ=")):
        zone = _zone(head.split("=", 1)[1], text)
        body = rest.strip()
    fields = body.split()
    if len(fields) == 6:
        fields = [*fields[1:], fields[0]]  # quartz seconds first -> croniter seconds last
    expr = " ".join(f.replace("?", "*") for f in fields)
    try:
        it = croniter(expr, now.astimezone(zone) if zone is not None else now)
        nxt: _dt.datetime = it.get_next(_dt.datetime)
        if zone is not None:
            nxt = nxt.astimezone(_dt.UTC)
    except (ValueError, KeyError) as exc:
        raise EngineError(
            f"'{text}' is not a cron expression: {exc}", code="engine.timer.invalid"
        ) from None
    return TimerPlan(nxt, -1, text)
