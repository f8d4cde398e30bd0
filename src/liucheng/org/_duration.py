"""ISO 8601 durations as used for business time (``PT2H``, ``P1DT4H``, ``P2W``).

Business durations have no years or months: those are calendar notions whose working time is not
defined. Weeks and days are kept apart from the time part because a business calendar decides how
much working time a day is (see :meth:`BusinessCalendar.business_timedelta`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from ._errors import CalendarError

__all__ = ["IsoDuration", "format_duration", "parse_duration"]

_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?!$)"
    r"(?:(?P<years>\d+(?:[.,]\d+)?)Y)?"
    r"(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class IsoDuration:
    """A parsed non-negative ISO 8601 duration without years and months.

    Attributes:
        weeks: Number of weeks (may be fractional).
        days: Number of days (may be fractional).
        time: The ``T`` part (hours, minutes, seconds) as an exact timedelta.
        text: The text it was parsed from.
    """

    weeks: Decimal
    days: Decimal
    time: timedelta
    text: str

    @property
    def has_days(self) -> bool:
        """Whether the duration has a week or day part (whose length a calendar defines)."""
        return bool(self.weeks or self.days)


def _num(text: str | None) -> Decimal:
    if text is None:
        return Decimal(0)
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex only lets numbers through
        raise CalendarError(f"bad number {text!r} in duration") from exc


def _seconds(value: Decimal) -> timedelta:
    micro = (value * 1_000_000).to_integral_value()
    return timedelta(microseconds=int(micro))


def parse_duration(text: str) -> IsoDuration:
    """Parse an ISO 8601 duration for business time.

    Args:
        text: E.g. ``"PT2H"``, ``"PT120M"``, ``"P1DT4H30M"``, ``"P2W"``.

    Returns:
        The parsed duration.

    Raises:
        CalendarError: The text is not an ISO 8601 duration, is negative, or has years/months.
    """
    raw = text.strip()
    match = _DURATION.match(raw.upper())
    if match is None:
        raise CalendarError(
            f"{text!r} is not an ISO 8601 duration",
            code="calendar.duration.syntax",
            hint="write e.g. PT2H, PT90M, P1DT4H or P2W",
        )
    if match.group("sign") == "-":
        raise CalendarError(
            f"negative duration {text!r}",
            code="calendar.duration.negative",
            hint="business durations count forward from the start instant",
        )
    if match.group("years") or match.group("months"):
        raise CalendarError(
            f"duration {text!r} has years or months, which have no defined working time",
            code="calendar.duration.months",
            hint="express the budget in weeks, days, hours or minutes",
        )
    time = (
        _seconds(_num(match.group("hours")) * 3600)
        + _seconds(_num(match.group("minutes")) * 60)
        + _seconds(_num(match.group("seconds")))
    )
    return IsoDuration(_num(match.group("weeks")), _num(match.group("days")), time, raw)


def format_duration(value: timedelta) -> str:
    """Format a timedelta as ``PT…H…M…S`` (hours not folded into days), e.g. ``PT9H30M``."""
    micro = value // timedelta(microseconds=1)
    sign = "-" if micro < 0 else ""
    micro = abs(micro)
    hours, rest = divmod(micro, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, micro = divmod(rest, 1_000_000)
    out = f"{sign}PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if seconds or micro or (not hours and not minutes):
        out += f"{seconds}.{micro:06d}".rstrip("0").rstrip(".") + "S"
    return out
