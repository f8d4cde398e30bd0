"""Demand per interval: read from CSV, turned into required agents with Erlang C/A.

A demand file has a header row and one row per interval:

* ``start`` (aliases ``interval``, ``interval_start``, ``timestamp``, ``time``): either a weekday
  and a time of day (``Mon 08:00``, ``monday 08:30``), meaning a repeating week, or an ISO 8601
  date-time (``2026-01-05T08:00``), meaning a dated horizon;
* ``calls`` (offered calls in the interval) or ``agents`` (required agents, used as they are);
* optionally ``aht`` (seconds, overrides the global handling time for that row).

Intervals not listed have no demand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import SimulationInputError
from .erlang import StaffingResult, agents_for_target

__all__ = [
    "WEEKDAYS",
    "DemandInterval",
    "DemandTable",
    "format_slot",
    "parse_time_of_day",
    "parse_weekday",
    "read_demand",
    "required_agents",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
_START_COLUMNS = ("start", "interval_start", "interval", "timestamp", "time", "datetime")
_WEEK_TIME = re.compile(r"^\s*([A-Za-z]+)[\s,T]+(\d{1,2}):(\d{2})(?::00)?\s*$")
MAX_DEMAND_BYTES = 16 * 1024 * 1024


def parse_weekday(value: str, path: str = "day") -> int:
    """``0`` for Monday … ``6`` for Sunday, from ``mon``/``Monday``/…"""
    index = _WEEKDAY_ALIASES.get(str(value).strip().lower())
    if index is None:
        raise SimulationInputError(
            f"{value!r} is not a weekday", path=path, hint="use mon, tue, wed, thu, fri, sat, sun"
        )
    return index


def parse_time_of_day(value: Any, path: str = "time") -> int:
    """Minutes after midnight from ``"HH:MM"`` (``"24:00"`` allowed as the end of a day)."""
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", text)
    if not match:
        raise SimulationInputError(f"{value!r} is not a time of day HH:MM", path=path)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise SimulationInputError(f"{value!r} is not a time of day HH:MM", path=path)
    return hours * 60 + minutes


def format_slot(minute_of_week: int) -> str:
    """``"Mon 08:30"`` for a minute of the week."""
    day, minute = divmod(minute_of_week % (7 * 1440), 1440)
    return f"{WEEKDAYS[day].capitalize()} {minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class DemandInterval:
    """One row of demand.

    Attributes:
        slot: Index of the interval from the start of the horizon.
        label: Its start as written back in reports (``Mon 08:00`` or an ISO date-time).
        calls: Offered calls, when the file gives calls.
        agents: Required agents, when the file gives them directly.
        aht_seconds: Handling time of this row, when the file gives one.
    """

    slot: int
    label: str
    calls: float | None
    agents: int | None
    aht_seconds: float | None


@dataclass(frozen=True, slots=True)
class DemandTable:
    """Demand over a horizon of equal intervals.

    Attributes:
        interval_minutes: Length of each interval.
        weekly: ``True`` for a repeating week (slot 0 is Monday 00:00 and the week wraps around),
            ``False`` for a dated horizon starting at ``origin``.
        origin: First interval start of a dated horizon.
        slots: Number of intervals in the horizon.
        rows: Intervals with demand, by slot.
    """

    interval_minutes: int
    weekly: bool
    origin: dt.datetime | None
    slots: int
    rows: dict[int, DemandInterval]

    def label(self, slot: int) -> str:
        """How slot ``slot``'s start is written."""
        if slot in self.rows:
            return self.rows[slot].label
        if self.weekly:
            return format_slot(slot * self.interval_minutes)
        assert self.origin is not None
        start = self.origin + dt.timedelta(minutes=slot * self.interval_minutes)
        return start.isoformat(timespec="minutes")

    def minute_of_week(self, slot: int) -> int:
        """Minute of the week (Monday 00:00 = 0) at which slot ``slot`` starts."""
        if self.weekly:
            return (slot * self.interval_minutes) % (7 * 1440)
        assert self.origin is not None
        start = self.origin + dt.timedelta(minutes=slot * self.interval_minutes)
        return start.weekday() * 1440 + start.hour * 60 + start.minute


def _parse_start(text: str, row: int, file: str) -> tuple[bool, int | dt.datetime]:
    match = _WEEK_TIME.match(text)
    if match and match.group(1).lower() in _WEEKDAY_ALIASES:
        day = _WEEKDAY_ALIASES[match.group(1).lower()]
        hours, minutes = int(match.group(2)), int(match.group(3))
        if hours < 24 and minutes < 60:
            return True, day * 1440 + hours * 60 + minutes
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise SimulationInputError(
            f"{text!r} is neither 'Weekday HH:MM' nor an ISO 8601 date-time",
            path=f"row {row}.start",
            file=file,
            line=row,
        ) from None
    # Demand is wall-clock time: an offset, when given, is dropped rather than converted.
    return False, stamp.replace(tzinfo=None)


def _number(text: str, what: str, row: int, file: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise SimulationInputError(
            f"{what} must be a non-negative number, got {text!r}",
            path=f"row {row}.{what}",
            file=file,
            line=row,
        )
    return value


def read_demand(
    source: str | Path, *, interval_minutes: int | None = None, text: str | None = None
) -> DemandTable:
    """Read a demand CSV (see the module docstring).

    Args:
        source: The file (or, with ``text``, just its name for messages).
        interval_minutes: Interval length; when omitted, the coarsest grid that holds every
            start and divides a day (so give it when the file lists only some intervals).
        text: The CSV content, when it is not read from ``source``.

    Raises:
        SimulationInputError: with file, line and column for every malformed row.
    """
    file = str(source)
    if text is None:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_DEMAND_BYTES:
                raise SimulationInputError(f"{file} is too large", file=file)
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SimulationInputError(f"cannot read demand file: {exc}", file=file) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    start_col = next((c for c in _START_COLUMNS if c in header), None)
    value_col = next((c for c in ("calls", "agents", "required_agents") if c in header), None)
    if start_col is None or value_col is None:
        raise SimulationInputError(
            "the demand file needs a 'start' column and a 'calls' or 'agents' column",
            file=file,
            line=1,
            hint="header e.g. 'start,calls' with rows like 'Mon 08:00,120'",
        )
    entries: list[tuple[int, bool, int | dt.datetime, float, float | None]] = []
    for row_no, row in enumerate(reader, start=2):
        raw = (row.get(start_col) or "").strip()
        if not raw and not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        weekly, start = _parse_start(raw, row_no, file)
        value = _number((row.get(value_col) or "").strip(), value_col, row_no, file)
        aht_text = (row.get("aht") or row.get("aht_seconds") or "").strip()
        aht = _number(aht_text, "aht", row_no, file) if aht_text else None
        if aht == 0:
            raise SimulationInputError(
                "aht must be > 0", path=f"row {row_no}.aht", file=file, line=row_no
            )
        entries.append((row_no, weekly, start, value, aht))
    if not entries:
        raise SimulationInputError("the demand file has no rows", file=file)
    if len({e[1] for e in entries}) > 1:
        raise SimulationInputError(
            "mixes 'Weekday HH:MM' and dated starts", file=file, line=entries[0][0]
        )
    weekly = entries[0][1]
    minutes: list[int] = []
    origin: dt.datetime | None = None
    labels: list[str] = []
    if weekly:
        minutes = [e[2] for e in entries if isinstance(e[2], int)]
        labels = [format_slot(m) for m in minutes]
    else:
        stamps = [e[2] for e in entries if isinstance(e[2], dt.datetime)]
        first = min(stamps)
        origin = first
        minutes = [round((s - first).total_seconds() / 60) for s in stamps]
        labels = [s.isoformat(timespec="minutes") for s in stamps]
    if interval_minutes is None:
        if len(set(minutes)) < 2:
            raise SimulationInputError(
                "cannot infer the interval length from a single row",
                file=file,
                hint="give interval_minutes",
            )
        # The coarsest grid on which every start lies and that divides a day.
        interval_minutes = math.gcd(1440, *minutes)
    if interval_minutes <= 0 or 1440 % interval_minutes:
        raise SimulationInputError(
            f"interval length {interval_minutes} min does not divide a day",
            file=file,
            path="interval_minutes",
        )
    span = 7 * 1440 if weekly else max(minutes) + interval_minutes
    slots = span // interval_minutes
    rows: dict[int, DemandInterval] = {}
    for (row_no, _, _, value, aht), minute, label in zip(entries, minutes, labels, strict=True):
        if minute % interval_minutes:
            raise SimulationInputError(
                f"start is not on the {interval_minutes}-minute grid",
                path=f"row {row_no}.start",
                file=file,
                line=row_no,
            )
        slot = minute // interval_minutes
        if slot in rows:
            raise SimulationInputError(
                "interval listed twice", path=f"row {row_no}.start", file=file, line=row_no
            )
        is_calls = value_col == "calls"
        if not is_calls and value != int(value):
            raise SimulationInputError(
                f"agents must be a whole number, got {value}",
                path=f"row {row_no}.{value_col}",
                file=file,
                line=row_no,
            )
        rows[slot] = DemandInterval(
            slot=slot,
            label=label,
            calls=value if is_calls else None,
            agents=None if is_calls else int(value),
            aht_seconds=aht,
        )
    return DemandTable(interval_minutes, weekly, origin, slots, rows)


def required_agents(
    table: DemandTable,
    *,
    aht_seconds: float | None,
    target: float,
    answer_seconds: float,
    patience_seconds: float | None = None,
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
) -> tuple[list[int], dict[int, StaffingResult]]:
    """Agents needed in every slot of ``table`` (Erlang C, or Erlang A with patience).

    Rows that give ``agents`` are taken as they are; rows that give ``calls`` are staffed for the
    service-level target, then grossed up for ``shrinkage`` (the fraction of paid time agents
    are not available: breaks are modelled separately, so this covers meetings, absence, ...).

    Returns:
        The required agents per slot, and the Erlang evaluation per slot computed from calls.
    """
    if not 0 <= shrinkage < 1:
        raise SimulationInputError(
            f"shrinkage must be in [0, 1), got {shrinkage}", path="shrinkage"
        )
    need = [0] * table.slots
    evaluations: dict[int, StaffingResult] = {}
    for slot, row in table.rows.items():
        if row.agents is not None:
            need[slot] = row.agents
            continue
        aht = row.aht_seconds or aht_seconds
        if aht is None:
            raise SimulationInputError(
                f"interval {row.label} gives calls but no handling time is known",
                path="aht_seconds",
                hint="set aht_seconds in the shifts file (or --aht), or an 'aht' column",
            )
        result = agents_for_target(
            calls=row.calls or 0.0,
            interval_minutes=table.interval_minutes,
            aht_seconds=aht,
            target=target,
            answer_seconds=answer_seconds,
            patience_seconds=patience_seconds,
            max_occupancy=max_occupancy,
        )
        evaluations[slot] = result
        need[slot] = math.ceil(result.agents / (1.0 - shrinkage) - 1e-9)
    return need, evaluations
