"""``liucheng staffing ...``: Erlang C/A staffing and shift scheduling."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from types import ModuleType

    from liucheng.simulation import IntervalCheck, ShiftsConfig, StaffingResult

from ._app import app

staffing_app = typer.Typer(
    help="Hotline staffing (Erlang C/A) and shift scheduling.", no_args_is_help=True
)
app.add_typer(staffing_app, name="staffing")


def _sim() -> ModuleType:
    # Imported when a command runs, so `liucheng --help` and other commands stay fast.
    import liucheng.simulation

    return liucheng.simulation


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "inf"
    return f"{value:.{digits}f}"


def _solve_one(
    *,
    calls: float,
    interval_minutes: float,
    aht: float,
    target: float,
    answer_seconds: float,
    agents: int | None,
    patience: float | None,
    max_occupancy: float | None,
) -> StaffingResult:
    if agents is not None:
        evaluated: StaffingResult = _sim().evaluate_staffing(
            agents,
            calls=calls,
            interval_minutes=interval_minutes,
            aht_seconds=aht,
            answer_seconds=answer_seconds,
            patience_seconds=patience,
        )
        return evaluated
    sized: StaffingResult = _sim().agents_for_target(
        calls=calls,
        interval_minutes=interval_minutes,
        aht_seconds=aht,
        target=target,
        answer_seconds=answer_seconds,
        patience_seconds=patience,
        max_occupancy=max_occupancy,
    )
    return sized


@staffing_app.command("erlang")
def erlang(
    calls: Annotated[
        float | None, typer.Option("--calls", help="Calls arriving per interval.")
    ] = None,
    interval_minutes: Annotated[
        float, typer.Option("--interval-minutes", help="Interval length in minutes.")
    ] = 30.0,
    aht: Annotated[
        float | None, typer.Option("--aht", help="Average handling time in seconds.")
    ] = None,
    target: Annotated[
        float, typer.Option("--target", help="Service-level target, e.g. 0.8.")
    ] = 0.8,
    answer_seconds: Annotated[
        float, typer.Option("--answer-seconds", help="Answer within this many seconds.")
    ] = 20.0,
    agents: Annotated[
        int | None, typer.Option("--agents", help="Evaluate this staffing instead of sizing.")
    ] = None,
    patience: Annotated[
        float | None,
        typer.Option("--patience", help="Mean caller patience in seconds: use Erlang A."),
    ] = None,
    max_occupancy: Annotated[
        float | None, typer.Option("--max-occupancy", help="Also keep occupancy at or below.")
    ] = None,
    demand: Annotated[
        Path | None,
        typer.Option("--demand", help="CSV with start,calls[,aht] per interval: size each one."),
    ] = None,
    simulate: Annotated[
        int | None,
        typer.Option(
            "--simulate", help="With --demand: check the plan by N simulation replications."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --simulate.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Agents needed for a service-level target (Erlang C, or Erlang A with --patience)."""
    if demand is not None:
        _erlang_table(
            demand,
            aht=aht,
            target=target,
            answer_seconds=answer_seconds,
            agents=agents,
            patience=patience,
            max_occupancy=max_occupancy,
            simulate=simulate,
            seed=seed,
            as_json=as_json,
        )
        return
    if simulate is not None:
        raise _sim().SimulationInputError("--simulate needs --demand FILE", path="--simulate")
    if calls is None or aht is None:
        raise _sim().SimulationInputError(
            "--calls and --aht are required (or --demand FILE)",
            hint="e.g. liucheng staffing erlang --calls 100 --interval-minutes 30 --aht 180",
        )
    result = _solve_one(
        calls=calls,
        interval_minutes=interval_minutes,
        aht=aht,
        target=target,
        answer_seconds=answer_seconds,
        agents=agents,
        patience=patience,
        max_occupancy=max_occupancy,
    )
    if as_json:
        _emit(result.to_dict())
        return
    model = "Erlang A" if patience is not None else "Erlang C"
    typer.echo(f"{model}: offered load {result.offered_load:.3f} Erlangs")
    typer.echo(f"  agents            {result.agents}")
    typer.echo(f"  service level     {_fmt(result.service_level)} (within {answer_seconds:g} s)")
    typer.echo(f"  ASA               {_fmt(result.asa_seconds, 2)} s")
    typer.echo(f"  occupancy         {_fmt(result.occupancy)}")
    typer.echo(f"  probability wait  {_fmt(result.probability_wait)}")
    if result.abandonment is not None:
        typer.echo(f"  abandonment       {_fmt(result.abandonment)}")


def _erlang_table(
    demand: Path,
    *,
    aht: float | None,
    target: float,
    answer_seconds: float,
    agents: int | None,
    patience: float | None,
    max_occupancy: float | None,
    simulate: int | None,
    seed: int,
    as_json: bool,
) -> None:
    table = _sim().read_demand(demand)
    rows: list[dict[str, Any]] = []
    for slot in sorted(table.rows):
        row = table.rows[slot]
        if row.calls is None:
            raise _sim().SimulationInputError(
                "the demand file gives agents, not calls; nothing to size",
                file=str(demand),
                hint="use a 'calls' column, or 'liucheng staffing schedule' for agents",
            )
        row_aht = row.aht_seconds or aht
        if row_aht is None:
            raise _sim().SimulationInputError(
                f"no handling time for interval {row.label}",
                file=str(demand),
                hint="pass --aht SECONDS or add an 'aht' column",
            )
        result = _solve_one(
            calls=row.calls,
            interval_minutes=table.interval_minutes,
            aht=row_aht,
            target=target,
            answer_seconds=answer_seconds,
            agents=agents,
            patience=patience,
            max_occupancy=max_occupancy,
        )
        rows.append({"start": row.label, "calls": row.calls, **result.to_dict()})
    if simulate is not None:
        if aht is None or len({table.rows[s].aht_seconds for s in table.rows} - {None}) > 0:
            raise _sim().SimulationInputError(
                "--simulate needs one handling time for all intervals (--aht, no 'aht' column)",
                path="--simulate",
            )
        plan = [0] * table.slots
        for slot, entry in zip(sorted(table.rows), rows, strict=True):
            plan[slot] = int(entry["agents"])
        _merge_simulation(
            rows,
            _sim().simulate_plan(
                table,
                plan,
                aht_seconds=aht,
                answer_seconds=answer_seconds,
                patience_seconds=patience,
                replications=simulate,
                seed=seed,
            ),
        )
    hours = table.interval_minutes / 60
    summary = {
        "interval_minutes": table.interval_minutes,
        "peak_agents": max(r["agents"] for r in rows),
        "agent_hours": round(sum(r["agents"] for r in rows) * hours, 4),
        "intervals": rows,
    }
    if as_json:
        _emit(summary)
        return
    typer.echo(f"{'start':<20} {'calls':>8} {'agents':>6} {'SL':>7} {'ASA s':>8} {'occ':>6}")
    for r in rows:
        typer.echo(
            f"{r['start']:<20} {r['calls']:>8g} {r['agents']:>6} {_fmt(r['service_level'], 3):>7} "
            f"{_fmt(r['asa_seconds'], 1):>8} {_fmt(r['occupancy'], 3):>6}"
        )
    typer.echo(f"peak {summary['peak_agents']} agents, {summary['agent_hours']} agent-hours")


def _merge_simulation(rows: list[dict[str, Any]], checks: list[IntervalCheck]) -> None:
    by_start = {c.label: c for c in checks}
    for row in rows:
        check = by_start.get(row["start"])
        if check is None:
            continue
        row["simulated_service_level"] = check.simulated.to_dict()
        if check.simulated_abandonment is not None:
            row["simulated_abandonment"] = check.simulated_abandonment.to_dict()


@staffing_app.command("schedule")
def schedule(
    demand: Annotated[Path, typer.Argument(help="Demand CSV: start, calls or agents per row.")],
    shifts: Annotated[Path, typer.Option("--shifts", help="Shift patterns (YAML or JSON).")],
    aht: Annotated[
        float | None, typer.Option("--aht", help="Override the handling time (seconds).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Solver time limit in seconds.")
    ] = None,
    simulate: Annotated[
        int | None,
        typer.Option("--simulate", help="Check the schedule by N simulation replications."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --simulate.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The cheapest set of shifts that staffs every interval (OR-Tools CP-SAT)."""
    config: ShiftsConfig = _sim().load_shifts(shifts)
    for name, value in (("--aht", aht), ("--time-limit", time_limit)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise _sim().SimulationInputError(f"{name} must be a positive number, got {value}")
    updates: dict[str, Any] = {}
    if aht is not None:
        updates["aht_seconds"] = aht
    if time_limit is not None:
        updates["time_limit_seconds"] = time_limit
    if updates:
        config = config.model_copy(update=updates)
    solved = _sim().schedule_shifts(demand, config)
    result = solved.to_dict()
    if simulate is not None:
        table = _sim().read_demand(demand, interval_minutes=solved.interval_minutes)
        if config.aht_seconds is None or any(
            row.calls is None or row.aht_seconds is not None for row in table.rows.values()
        ):
            raise _sim().SimulationInputError(
                "--simulate needs calls per interval and one aht_seconds for all of them",
                path="--simulate",
            )
        checks = _sim().simulate_plan(
            table,
            list(solved.agents_per_slot),
            aht_seconds=config.aht_seconds,
            answer_seconds=config.service_level.answer_seconds,
            patience_seconds=config.patience_seconds,
            replications=simulate,
            seed=seed,
        )
        _merge_simulation(result["intervals"], checks)
    if as_json:
        _emit(result)
        return
    typer.echo(
        f"{result['status']}: cost {result['cost']:.2f}, {result['shift_count']} shifts, "
        f"{result['paid_hours']} paid hours, {result['understaffed_intervals']} understaffed "
        f"intervals, {result['overstaffed_agent_hours']} over-staffed agent-hours"
    )
    for s in result["shifts"]:
        breaks = ", ".join(f"{b['count']}x{b['start']}" for b in s["breaks"])
        typer.echo(
            f"  {s['count']:>3} x {s['shift']:<12} {s['day']} {s['start']}-{s['end']}"
            + (f"  breaks {breaks}" if breaks else "")
        )
