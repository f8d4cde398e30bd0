"""``liucheng simulate``: BPMN simulation, calibration and what-if comparison.

One command with three forms (the first word decides):

* ``liucheng simulate [run] MODEL.bpmn SCENARIO.yaml [--json] [--log OUT]`` (or just
  ``SCENARIO.yaml`` when the scenario names its ``model``);
* ``liucheng simulate --calibrate LOG [--model MODEL.bpmn] [-o SCENARIO.yaml]`` (or
  ``liucheng simulate calibrate LOG ...``);
* ``liucheng simulate compare A.yaml B.yaml [...] [--model MODEL.bpmn] [--svg OUT.svg]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from liucheng.errors import ValidationError

from ._app import app


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def _usage(message: str) -> ValidationError:
    return ValidationError(
        message,
        code="cli.simulate.usage",
        hint="liucheng simulate MODEL.bpmn SCENARIO.yaml --json | "
        "liucheng simulate --calibrate LOG -o SCENARIO.yaml | "
        "liucheng simulate compare A.yaml B.yaml",
    )


def _write(path: Path, data: str | bytes, what: str) -> None:
    """Write an output file, turning an OS error into a clean message (exit 2)."""
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, "utf-8")
    except OSError as exc:
        raise ValidationError(
            f"cannot write the {what} to '{path}': {exc.strerror or exc}",
            code="cli.simulate.output",
            hint="check that the directory exists and is writable",
        ) from None


def _check_numbers(replications: int | None, seed: int | None) -> None:
    if replications is not None and replications < 1:
        raise ValidationError(
            f"--replications must be >= 1, got {replications}", code="cli.simulate.usage"
        )
    if seed is not None and seed < 0:
        raise ValidationError(f"--seed must be >= 0, got {seed}", code="cli.simulate.usage")


def _model_for(scenario_path: Path, named: Any, model: Path | None) -> Path:
    if model is not None:
        return model
    if isinstance(named, str) and named:
        p = Path(named)
        return p if p.is_absolute() else scenario_path.parent / p
    raise _usage(f"no BPMN model for {scenario_path}: give MODEL.bpmn or set 'model' in it")


def _load(scenario_path: Path | None, model: Path | None) -> tuple[Any, Path]:
    """The scenario (YAML over the model's BPSim/Camunda parameters) and the model path."""
    from liucheng.simulation._errors import ScenarioError
    from liucheng.simulation._files import load_document
    from liucheng.simulation.bpsim import scenario_for_model

    if scenario_path is None:
        assert model is not None
        return scenario_for_model(model), model
    document = load_document(scenario_path, error=ScenarioError)
    if not isinstance(document, dict):
        raise ScenarioError(
            "a scenario must be a mapping at the top level", file=str(scenario_path)
        )
    model_path = _model_for(scenario_path, document.get("model"), model)
    return scenario_for_model(model_path, document, file=str(scenario_path)), model_path


def _fmt_seconds(est: dict[str, Any] | None) -> str:
    if not est or est.get("mean") is None:
        return "-"
    lo, hi = est.get("low"), est.get("high")
    ci = f" [{lo / 60:.1f}, {hi / 60:.1f}]" if lo is not None and hi is not None else ""
    return f"{est['mean'] / 60:.1f} min{ci}"


@app.command("simulate")
def simulate_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="MODEL.bpmn SCENARIO.yaml | SCENARIO.yaml | compare A.yaml B.yaml... | "
            "calibrate LOG"
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    log: Annotated[
        Path | None, typer.Option("--log", help="Write the simulated log (.xes/.csv/.parquet).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option("--replications", "-r", help="Override the replications.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the seed.")] = None,
    calibrate: Annotated[
        Path | None, typer.Option("--calibrate", help="Build a scenario from this event log.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="BPMN model (calibrate, compare).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Calibrate: write the scenario here.")
    ] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="Compare: write a chart.")] = None,
    no_calendars: Annotated[
        bool, typer.Option("--no-calendars", help="Calibrate: pools always on duty.")
    ] = False,
    discovery: Annotated[
        str,
        typer.Option(
            "--discovery",
            help="Calibrate without --model: directly-follows (default) or inductive.",
        ),
    ] = "directly-follows",
    check: Annotated[
        bool,
        typer.Option("--check/--no-check", help="Calibrate: simulate and report the distance."),
    ] = True,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="auto (compiled runner when the model is simple enough), engine or compiled.",
        ),
    ] = "auto",
) -> None:
    """Simulate a BPMN model under a scenario, calibrate a scenario from a log, or compare."""
    words = list(args or [])
    _check_numbers(replications, seed)
    for path, what in ((log, "log"), (svg, "chart"), (output, "scenario")):
        # refuse before simulating, not after
        if path is not None and not path.parent.is_dir():
            raise ValidationError(
                f"cannot write the {what} to '{path}': no directory '{path.parent}'",
                code="cli.simulate.output",
            )
    if executor not in ("auto", "engine", "compiled"):
        raise ValidationError(
            f"unknown --executor {executor!r}",
            code="cli.simulate.usage",
            hint="auto, engine or compiled",
        )
    if calibrate is not None or (words and words[0] == "calibrate"):
        source = calibrate
        if source is None:
            if len(words) != 2:
                raise _usage("calibrate takes one event log")
            source = Path(words[1])
        elif words:
            raise _usage("--calibrate takes no other arguments")
        _calibrate(
            source, model, output, json_out, replications, seed, no_calendars, check, discovery
        )
        return
    if words and words[0] == "compare":
        if len(words) < 3:
            raise _usage("compare needs at least two scenario files")
        _compare([Path(w) for w in words[1:]], model, json_out, replications, seed, svg)
        return
    if words and words[0] == "run":
        words = words[1:]
    if len(words) == 1:
        if words[0].lower().endswith((".bpmn", ".xml")):
            # a model carrying its own BPSim/Camunda simulation parameters
            _run(Path(words[0]), None, json_out, log, replications, seed, executor)
            return
        model_path, scenario_path = None, Path(words[0])
    elif len(words) == 2:
        model_path, scenario_path = Path(words[0]), Path(words[1])
    else:
        raise _usage("give MODEL.bpmn SCENARIO.yaml")
    _run(model_path or model, scenario_path, json_out, log, replications, seed, executor)


def _run(
    model: Path | None,
    scenario_path: Path | None,
    json_out: bool,
    log: Path | None,
    replications: int | None,
    seed: int | None,
    executor: str = "auto",
) -> None:
    from liucheng.simulation.results import simulate

    scenario, model_path = _load(scenario_path, model)
    result = simulate(
        model_path,
        scenario,
        replications=replications,
        seed=seed,
        base_dir=(scenario_path or model_path).parent,
        executor=executor,
    )
    if log is not None:
        from liucheng.history import write_log

        if not log.parent.is_dir():
            raise ValidationError(
                f"cannot write the log to '{log}': no directory '{log.parent}'",
                code="cli.simulate.output",
            )
        try:
            write_log(result.event_log(), log)
        except OSError as exc:
            raise ValidationError(
                f"cannot write the log to '{log}': {exc.strerror or exc}",
                code="cli.simulate.output",
            ) from None
    kpis = result.kpis()
    limits = kpis["limits"]
    if limits["truncated_replications"]:
        typer.echo(
            f"warning: {len(limits['truncated_replications'])} replication(s) stopped at "
            f"{', '.join(limits['reasons'])} with events still due (cases left open)",
            err=True,
        )
    if json_out:
        _emit(kpis)
        return
    label = kpis["scenario"] or (scenario_path or model_path).name
    typer.echo(f"{label}: {kpis['replications']} replication(s)")
    cases = kpis["cases"]
    typer.echo(
        f"  cases completed: {cases.get('completed', {}).get('mean', 0):.1f} "
        f"of {cases.get('arrived', {}).get('mean', 0):.1f} per replication"
    )
    typer.echo(f"  cycle time mean: {_fmt_seconds(kpis['cycle_time'].get('mean'))}")
    typer.echo(f"  cycle time p90:  {_fmt_seconds(kpis['cycle_time'].get('p90'))}")
    if kpis["sla"] and kpis["sla"]["on_time_rate"]:
        typer.echo(f"  on time: {kpis['sla']['on_time_rate']['mean']:.1%}")
    for pool, r in kpis["resources"].items():
        typer.echo(
            f"  {pool}: utilisation {r['utilisation']['mean']:.1%}, "
            f"mean queue {r['queue_length_mean']['mean']:.2f}"
        )
    if log is not None:
        typer.echo(f"  log written to {log}")


def _calibrate(
    source: Path,
    model: Path | None,
    output: Path | None,
    json_out: bool,
    replications: int | None,
    seed: int | None,
    no_calendars: bool,
    check: bool,
    discovery: str = "directly-follows",
) -> None:
    import yaml

    from liucheng.history import read_log
    from liucheng.simulation.calibrate import calibrate, log_distance
    from liucheng.simulation.results import simulate

    real = read_log(source)
    cal = calibrate(
        real,
        model=model,
        resource_calendars=not no_calendars,
        seed=seed or 1,
        discovery=discovery,
    )
    scenario = cal.scenario
    model_path: Path | None = model
    if output is not None and cal.discovered:
        model_path = output.with_suffix(".bpmn")
        _write(model_path, cal.model_xml, "model")
    if output is not None:
        data = json.loads(scenario.model_dump_json(exclude_none=True))
        if model_path is not None:
            data["model"] = (
                model_path.name if model_path.parent == output.parent else str(model_path)
            )
        _write(output, yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "scenario")
    report: dict[str, Any] = {
        "scenario": str(output) if output else None,
        "model": str(model_path) if model_path else None,
        "discovered_model": cal.discovered,
        "fits": cal.fits,
    }
    if check:
        result = simulate(cal.model_xml, scenario, replications=replications or 1, seed=seed)
        report["distance"] = log_distance(real, result.event_log())
    if output is None:
        report["scenario_document"] = json.loads(scenario.model_dump_json(exclude_none=True))
        if cal.discovered:
            report["model_document"] = cal.model_xml.decode("utf-8")
    if json_out:
        _emit(report)
        return
    typer.echo(f"calibrated {len(cal.fits)} activities from {source}")
    if output is not None:
        typer.echo(f"  scenario: {output}" + (f", model: {model_path}" if model_path else ""))
    if "distance" in report:
        d = report["distance"]
        typer.echo(
            f"  cycle-time EMD {d['cycle_time_emd_seconds'] / 3600:.2f} h "
            f"({d['cycle_time_emd_relative']:.1%} of the mean), "
            f"hourly EMD {d['hourly_emd_hours']:.1f} h"
        )
    if output is None:
        typer.echo(yaml.safe_dump(report["scenario_document"], sort_keys=False))


def _compare(
    paths: list[Path],
    model: Path | None,
    json_out: bool,
    replications: int | None,
    seed: int | None,
    svg: Path | None,
) -> None:
    from liucheng.simulation.compare import compare

    loaded = [_load(p, model) for p in paths]
    scenarios = [s for s, _ in loaded]
    models = [m for _, m in loaded]
    names = [s.name or p.stem for p, s in zip(paths, scenarios, strict=True)]
    names = [
        n if names.count(n) == 1 else f"{n} ({p.name})" for n, p in zip(names, paths, strict=True)
    ]
    comparison = compare(
        models,
        scenarios,
        names=names,
        replications=replications,
        seed=seed,
        base_dir=paths[0].parent,
    )
    if svg is not None:
        _write(svg, comparison.svg(), "chart")
    if json_out:
        _emit(comparison.to_dict())
        return
    typer.echo(f"baseline: {names[0]}")
    for row in comparison.rows:
        mark = "*" if row["significant"] else " "
        rel = f"{row['relative']:+.1%}" if row["relative"] is not None else "n/a"
        p = row["p_value"]
        p_text = f"{p:.3g}" if p is not None else "n/a"
        typer.echo(
            f" {mark} {row['scenario']}: {row['kpi']}: {row['baseline']:.4g} -> "
            f"{row['value']:.4g} ({rel}, p={p_text})"
        )
    if svg is not None:
        typer.echo(f"chart written to {svg}")
