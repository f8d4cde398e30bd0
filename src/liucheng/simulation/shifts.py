"""Shift scheduling: the cheapest set of shifts that staffs every interval, with OR-Tools CP-SAT.

The decision variables are integer counts: how many agents start shift type ``s`` on day ``d`` at
time ``t``; for every break rule of a shift, how many of them take that break at each allowed
offset (the classic implicit break formulation: break placements are counted, not assigned to
named people). Every interval must have at least the required agents on duty and not on a break,
unless an understaffing penalty is given, in which case shortfalls are allowed at that price.
The objective is the paid cost.

The shifts file (YAML or JSON) is described in ``docs/simulation.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._errors import InfeasibleScheduleError, SimulationInputError
from ._files import checked, load_document, validate_model
from .demand import (
    WEEKDAYS,
    DemandTable,
    parse_time_of_day,
    parse_weekday,
    read_demand,
    required_agents,
)
from .erlang import evaluate_staffing

__all__ = [
    "BreakRule",
    "ScheduleResult",
    "ShiftPattern",
    "ShiftsConfig",
    "load_shifts",
    "schedule_shifts",
    "solve_schedule",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hours_or_hhmm(value: Any, path: str) -> int:
    """Minutes from hours (number) or ``"HH:MM"``."""
    if isinstance(value, bool):
        raise SimulationInputError(f"expected hours or HH:MM, got {value!r}", path=path)
    if isinstance(value, int | float):
        if not (math.isfinite(value) and value >= 0):
            raise SimulationInputError(f"must be >= 0 hours, got {value!r}", path=path)
        return round(float(value) * 60)
    text = str(value).strip()
    parts = text.split(":")
    if len(parts) == 2 and all(p.isdigit() for p in parts) and int(parts[1]) < 60:
        return int(parts[0]) * 60 + int(parts[1])
    raise SimulationInputError(f"expected hours or HH:MM, got {value!r}", path=path)


class BreakRule(_Strict):
    """One break every agent on the shift takes.

    Attributes:
        minutes: Length of the break.
        earliest: Earliest start, after the shift start (hours or ``"HH:MM"``).
        latest: Latest start, after the shift start.
        paid: Whether the break is paid time.
    """

    minutes: int = Field(gt=0)
    earliest: int
    latest: int
    paid: bool = False

    @field_validator("earliest", "latest", mode="before")
    @classmethod
    def _offset(cls, value: Any) -> int:
        return checked(lambda: _hours_or_hhmm(value, ""))

    @model_validator(mode="after")
    def _window(self) -> BreakRule:
        if self.latest < self.earliest:
            raise ValueError("latest must not be before earliest")
        return self


class ShiftPattern(_Strict):
    """A kind of shift that may be used any number of times.

    Attributes:
        name: Name shown in the result.
        length: Duration, hours or ``"HH:MM"``.
        days: Weekdays it may start on (default: every day).
        start_times: Allowed start times (``"HH:MM"``), or use ``earliest_start``/``latest_start``
            with ``start_every_minutes``.
        cost_per_hour: Cost of one paid hour.
        breaks: Breaks within the shift.
        max_count: At most this many of this shift over the horizon.
        min_count: At least this many.
    """

    name: str = Field(min_length=1)
    length: int
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    start_times: list[str] | None = None
    earliest_start: str | None = None
    latest_start: str | None = None
    start_every_minutes: int | None = Field(default=None, gt=0)
    cost_per_hour: float = Field(ge=0)
    breaks: list[BreakRule] = Field(default_factory=list)
    max_count: int | None = Field(default=None, ge=0)
    min_count: int = Field(default=0, ge=0)

    @field_validator("length", mode="before")
    @classmethod
    def _length(cls, value: Any) -> int:
        minutes = checked(lambda: _hours_or_hhmm(value, ""))
        if not 0 < minutes <= 24 * 60:
            raise ValueError("length must be between 0 and 24 hours")
        return minutes

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one day")
        out: list[str] = []
        for i, day in enumerate(value):
            index = checked(lambda day=day, i=i: parse_weekday(day, f"[{i}]"))  # type: ignore[misc]
            out.append(WEEKDAYS[index])
        return out

    @model_validator(mode="after")
    def _starts(self) -> ShiftPattern:
        if self.start_times is None and self.earliest_start is None:
            raise ValueError("give start_times or earliest_start/latest_start")
        for rule in self.breaks:
            if rule.latest + rule.minutes > self.length:
                raise ValueError(f"break {rule.latest}+{rule.minutes} min ends after the shift")
        if sum(rule.minutes for rule in self.breaks) >= self.length:
            raise ValueError("breaks take the whole shift")
        return self

    def start_minutes(self, path: str) -> list[int]:
        """Allowed start times as minutes after midnight."""
        if self.start_times is not None:
            out = [
                parse_time_of_day(t, f"{path}.start_times[{i}]")
                for i, t in enumerate(self.start_times)
            ]
        else:
            lo = parse_time_of_day(self.earliest_start, f"{path}.earliest_start")
            hi = parse_time_of_day(self.latest_start or self.earliest_start, f"{path}.latest_start")
            step = self.start_every_minutes or 30
            if hi < lo:
                raise SimulationInputError(
                    "latest_start is before earliest_start", path=f"{path}.latest_start"
                )
            out = list(range(lo, hi + 1, step))
        for minute in out:
            if minute >= 1440:
                raise SimulationInputError("a shift must start before 24:00", path=path)
        return sorted(set(out))

    @property
    def paid_minutes(self) -> int:
        """Length minus unpaid breaks."""
        return self.length - sum(b.minutes for b in self.breaks if not b.paid)


class ServiceTarget(_Strict):
    """Service-level target used to turn calls into required agents."""

    target: float = Field(default=0.8, gt=0, lt=1)
    answer_seconds: float = Field(default=20.0, ge=0)


class Headcount(_Strict):
    """Aggregate limits of the team (a relaxation: shifts are not assigned to named people).

    Attributes:
        people: Size of the team: at most this many shifts start on any one day.
        max_hours_per_week: Paid hours per person per week; total scheduled paid hours stay within
            ``people * max_hours_per_week`` (per week of horizon).
    """

    people: int = Field(gt=0)
    max_hours_per_week: float | None = Field(default=None, gt=0)


class ShiftsConfig(_Strict):
    """The shifts file."""

    interval_minutes: int | None = Field(default=None, gt=0)
    aht_seconds: float | None = Field(default=None, gt=0)
    patience_seconds: float | None = Field(default=None, gt=0)
    service_level: ServiceTarget = Field(default_factory=ServiceTarget)
    max_occupancy: float | None = Field(default=None, gt=0, le=1)
    shrinkage: float = Field(default=0.0, ge=0, lt=1)
    understaffing_cost_per_hour: float | None = Field(default=None, gt=0)
    headcount: Headcount | None = None
    time_limit_seconds: float = Field(default=30.0, gt=0)
    workers: int = Field(default=1, ge=1, le=64)
    shifts: list[ShiftPattern] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ShiftsConfig:
        names = [s.name for s in self.shifts]
        if len(set(names)) != len(names):
            raise ValueError("shift names must be unique")
        return self


def load_shifts(path: str | Path) -> ShiftsConfig:
    """Read and validate a shifts file (YAML or JSON)."""
    data = load_document(path, error=SimulationInputError)
    return validate_model(ShiftsConfig, data, file=str(path), error=SimulationInputError)


@dataclass(frozen=True, slots=True)
class _Start:
    pattern: int
    day: int  # weekday 0..6
    slot: int  # first slot of the shift in the horizon
    minute: int  # minute of the day it starts


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """The solved schedule.

    Attributes:
        status: ``"optimal"`` or ``"feasible"`` (time limit reached before proof of optimality).
        cost: Paid cost of the chosen shifts.
        penalty: Understaffing penalty included in the objective (0 without one).
        shifts: Chosen shifts: name, day, start, end, count and break placements.
        intervals: Per interval: start, calls, required, scheduled, under, over (and the expected
            service level where calls are known).
        interval_minutes: Interval length.
        agents_per_slot: Agents on the floor in every slot of the horizon.
    """

    status: str
    cost: float
    penalty: float
    shifts: list[dict[str, Any]]
    intervals: list[dict[str, Any]]
    interval_minutes: int
    agents_per_slot: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's output)."""
        under = sum(i["under"] for i in self.intervals)
        over = sum(i["over"] for i in self.intervals)
        hours = self.interval_minutes / 60
        return {
            "status": self.status,
            "cost": round(self.cost, 2),
            "understaffing_penalty": round(self.penalty, 2),
            "interval_minutes": self.interval_minutes,
            "shift_count": sum(s["count"] for s in self.shifts),
            "paid_hours": round(sum(s["paid_hours"] * s["count"] for s in self.shifts), 2),
            "understaffed_intervals": sum(1 for i in self.intervals if i["under"] > 0),
            "understaffed_agent_hours": round(under * hours, 2),
            "overstaffed_agent_hours": round(over * hours, 2),
            "shifts": self.shifts,
            "intervals": self.intervals,
        }


def _hhmm(minute: int) -> str:
    minute %= 1440
    return f"{minute // 60:02d}:{minute % 60:02d}"


def solve_schedule(
    table: DemandTable,
    config: ShiftsConfig,
    need: list[int],
    *,
    calls_known: bool = True,
) -> ScheduleResult:
    """Solve the shift-scheduling problem for the required agents ``need`` per slot."""
    # OR-Tools is heavy to import; load it only when a schedule is solved.
    from ortools.sat.python import cp_model

    step = table.interval_minutes
    n_slots = table.slots
    starts: list[_Start] = []
    for p_index, pattern in enumerate(config.shifts):
        path = f"shifts[{p_index}]"
        if pattern.length % step:
            raise SimulationInputError(
                f"length {pattern.length} min is not a multiple of the {step}-minute interval",
                path=f"{path}.length",
            )
        for b_index, rule in enumerate(pattern.breaks):
            for key, value in (
                ("minutes", rule.minutes),
                ("earliest", rule.earliest),
                ("latest", rule.latest),
            ):
                if value % step:
                    raise SimulationInputError(
                        f"{value} min is not a multiple of the {step}-minute interval",
                        path=f"{path}.breaks[{b_index}].{key}",
                    )
        days = {parse_weekday(d) for d in pattern.days}
        minutes = pattern.start_minutes(path)
        for minute in minutes:
            if minute % step:
                raise SimulationInputError(
                    f"start {_hhmm(minute)} is not on the {step}-minute grid",
                    path=f"{path}.start_times",
                )
        for slot in range(n_slots):
            week_minute = table.minute_of_week(slot)
            day, minute = divmod(week_minute, 1440)
            if day in days and minute in minutes:
                starts.append(_Start(p_index, day, slot, minute))

    def covered(first: int, length_slots: int) -> list[int]:
        out = []
        for k in range(first, first + length_slots):
            if table.weekly:
                out.append(k % n_slots)
            elif k < n_slots:
                out.append(k)
        return out

    # Pre-check: intervals no shift can reach at all give the clearest message.
    reachable = [False] * n_slots
    for st in starts:
        for k in covered(st.slot, config.shifts[st.pattern].length // step):
            reachable[k] = True
    missing = [k for k in range(n_slots) if need[k] > 0 and not reachable[k]]
    if missing and config.understaffing_cost_per_hour is None:
        labels = [table.label(k) for k in missing]
        shown = ", ".join(labels[:8]) + (" …" if len(labels) > 8 else "")
        raise InfeasibleScheduleError(
            f"{len(missing)} interval(s) with demand are not covered by any allowed shift: {shown}",
            details={"intervals": labels},
        )

    model = cp_model.CpModel()
    upper = max(1, sum(need))
    on_duty: list[list[Any]] = [[] for _ in range(n_slots)]
    on_break: list[list[Any]] = [[] for _ in range(n_slots)]
    cost_terms: list[Any] = []
    x_vars: list[Any] = []
    break_vars: list[list[tuple[int, list[tuple[int, Any]]]]] = []
    per_pattern: dict[int, list[Any]] = {}
    per_day: dict[int, list[Any]] = {}
    hours_terms: list[Any] = []
    for i, st in enumerate(starts):
        pattern = config.shifts[st.pattern]
        # In a cheapest schedule every agent is critical somewhere (coverage there equals the
        # requirement), so no start needs more agents than the total requirement.
        cap = upper if pattern.max_count is None else min(upper, pattern.max_count)
        cap = max(cap, pattern.min_count)
        x = model.new_int_var(0, cap, f"x{i}")
        x_vars.append(x)
        per_pattern.setdefault(st.pattern, []).append(x)
        per_day.setdefault(st.slot * step // 1440, []).append(x)
        for k in covered(st.slot, pattern.length // step):
            on_duty[k].append(x)
        # Cost in cents keeps the objective integral.
        cents = round(pattern.cost_per_hour * pattern.paid_minutes / 60 * 100)
        cost_terms.append(cents * x)
        hours_terms.append(pattern.paid_minutes * x)
        placements: list[tuple[int, list[tuple[int, Any]]]] = []
        for b_index, rule in enumerate(pattern.breaks):
            ys: list[tuple[int, Any]] = []
            for offset in range(rule.earliest, rule.latest + 1, step):
                y = model.new_int_var(0, cap, f"y{i}_{b_index}_{offset}")
                ys.append((offset, y))
                for k in covered(st.slot + offset // step, rule.minutes // step):
                    on_break[k].append(y)
            model.add(sum(y for _, y in ys) == x)
            placements.append((b_index, ys))
        break_vars.append(placements)

    penalty_terms: list[Any] = []
    shortfall: list[Any] = [None] * n_slots
    for k in range(n_slots):
        if need[k] == 0:
            continue
        staffed = sum(on_duty[k]) - sum(on_break[k])
        if config.understaffing_cost_per_hour is not None:
            u = model.new_int_var(0, need[k], f"u{k}")
            shortfall[k] = u
            model.add(staffed + u >= need[k])
            cents = round(config.understaffing_cost_per_hour * step / 60 * 100)
            penalty_terms.append(cents * u)
        else:
            model.add(staffed >= need[k])
    for p_index, xs in per_pattern.items():
        pattern = config.shifts[p_index]
        if pattern.max_count is not None:
            model.add(sum(xs) <= pattern.max_count)
        if pattern.min_count:
            model.add(sum(xs) >= pattern.min_count)
    for p_index, pattern in enumerate(config.shifts):
        if pattern.min_count and p_index not in per_pattern:
            raise InfeasibleScheduleError(
                f"shift {pattern.name!r} needs min_count {pattern.min_count} "
                "but has no start time within the horizon"
            )
    if config.headcount is not None:
        for xs in per_day.values():
            model.add(sum(xs) <= config.headcount.people)
        if config.headcount.max_hours_per_week is not None:
            weeks = max(1.0, n_slots * step / (7 * 1440))
            budget = config.headcount.people * config.headcount.max_hours_per_week * weeks * 60
            model.add(sum(hours_terms) <= math.floor(budget))
    model.minimize(sum(cost_terms) + sum(penalty_terms))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = config.time_limit_seconds
    solver.parameters.num_workers = config.workers
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise InfeasibleScheduleError(
            "no combination of the allowed shifts meets the required agents "
            "within the max_count/headcount limits",
            hint="raise max_count or headcount, or allow more shift patterns",
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InfeasibleScheduleError(
            f"the solver found no schedule within {config.time_limit_seconds} s",
            code="simulation.schedule.timeout",
            hint="raise time_limit_seconds or reduce the number of start times",
        )

    staffed_per_slot = [
        sum(solver.value(v) for v in on_duty[k]) - sum(solver.value(v) for v in on_break[k])
        for k in range(n_slots)
    ]
    chosen: list[dict[str, Any]] = []
    cost = 0.0
    for i, st in enumerate(starts):
        count = solver.value(x_vars[i])
        if count == 0:
            continue
        pattern = config.shifts[st.pattern]
        cost += count * pattern.cost_per_hour * pattern.paid_minutes / 60
        breaks = []
        for b_index, ys in break_vars[i]:
            for offset, y in ys:
                value = solver.value(y)
                if value:
                    breaks.append(
                        {
                            "break": b_index,
                            "start": _hhmm(st.minute + offset),
                            "minutes": pattern.breaks[b_index].minutes,
                            "count": value,
                        }
                    )
        chosen.append(
            {
                "shift": pattern.name,
                "day": WEEKDAYS[st.day],
                "start": table.label(st.slot) if not table.weekly else _hhmm(st.minute),
                "end": _hhmm(st.minute + pattern.length),
                "count": count,
                "paid_hours": pattern.paid_minutes / 60,
                "cost": round(count * pattern.cost_per_hour * pattern.paid_minutes / 60, 2),
                "breaks": breaks,
            }
        )
    intervals: list[dict[str, Any]] = []
    penalty = 0.0
    for k in range(n_slots):
        row = table.rows.get(k)
        staffed = staffed_per_slot[k]
        if row is None and staffed == 0:
            continue
        entry: dict[str, Any] = {
            "start": table.label(k),
            "required": need[k],
            "scheduled": staffed,
            "under": max(0, need[k] - staffed),
            "over": max(0, staffed - need[k]),
        }
        if row is not None and row.calls is not None:
            entry["calls"] = row.calls
            aht = row.aht_seconds or config.aht_seconds
            if calls_known and aht and row.calls > 0 and staffed > 0:
                sl = evaluate_staffing(
                    staffed,
                    calls=row.calls,
                    interval_minutes=step,
                    aht_seconds=aht,
                    answer_seconds=config.service_level.answer_seconds,
                    patience_seconds=config.patience_seconds,
                )
                entry["service_level"] = sl.service_level
        intervals.append(entry)
        if shortfall[k] is not None and config.understaffing_cost_per_hour is not None:
            penalty += entry["under"] * config.understaffing_cost_per_hour * step / 60
    return ScheduleResult(
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        cost=cost,
        penalty=penalty,
        shifts=chosen,
        intervals=intervals,
        interval_minutes=step,
        agents_per_slot=tuple(int(v) for v in staffed_per_slot),
    )


def schedule_shifts(
    demand: str | Path | DemandTable,
    shifts: str | Path | ShiftsConfig,
) -> ScheduleResult:
    """Read demand and shift patterns, compute required agents per interval and solve.

    Args:
        demand: A demand CSV path (see :mod:`liucheng.simulation.demand`) or a parsed table.
        shifts: A shifts file path or a parsed :class:`ShiftsConfig`.

    Raises:
        SimulationInputError: malformed input.
        InfeasibleScheduleError: no allowed combination of shifts covers the demand.
    """
    config = shifts if isinstance(shifts, ShiftsConfig) else load_shifts(shifts)
    table = (
        demand
        if isinstance(demand, DemandTable)
        else read_demand(demand, interval_minutes=config.interval_minutes)
    )
    if config.interval_minutes is not None and config.interval_minutes != table.interval_minutes:
        raise SimulationInputError(
            f"the shifts file says {config.interval_minutes}-minute intervals, "
            f"the demand has {table.interval_minutes}",
            path="interval_minutes",
        )
    need, _ = required_agents(
        table,
        aht_seconds=config.aht_seconds,
        target=config.service_level.target,
        answer_seconds=config.service_level.answer_seconds,
        patience_seconds=config.patience_seconds,
        shrinkage=config.shrinkage,
        max_occupancy=config.max_occupancy,
    )
    return solve_schedule(table, config, need)
