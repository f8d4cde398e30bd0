"""``liucheng demo``: the main job on the embedded default.

It checks and summarises the bundled example processes under ``processes/``, then deploys the
service desk into the SQLite default and runs a batch of requests through it with simulated agents
(see :mod:`._servicedesk`), printing what happened.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from liucheng.errors import ConfigurationError

from ._app import app
from .bpmn import print_summary, summarise

if TYPE_CHECKING:
    from ._servicedesk import DemoReport


def find_processes_dir(start: Path | None = None) -> Path:
    """The bundled ``processes`` folder.

    Looked for in ``$LIUCHENG_PROCESSES``, then next to the project root above this package
    (a source checkout or editable install), then in the working directory and its parents.

    Raises:
        ConfigurationError: No such folder.
    """
    env = os.environ.get("LIUCHENG_PROCESSES")
    if env:
        path = Path(env)
        if path.is_dir():
            return path
        raise ConfigurationError(
            f"LIUCHENG_PROCESSES={env} is not a folder", hint="point it at the processes folder"
        )
    candidates: list[Path] = []
    for base in (Path(__file__).resolve(), (start or Path.cwd()).resolve()):
        candidates.extend(base.parents if base.is_file() else [base, *base.parents])
    for folder in candidates:
        path = folder / "processes"
        if path.is_dir() and any(path.rglob("*.bpmn")):
            return path
    raise ConfigurationError(
        "cannot find the bundled processes folder",
        code="demo.processes_missing",
        hint="run from the project checkout or set LIUCHENG_PROCESSES",
    )


@app.command()
def demo(
    folder: Annotated[
        Path | None, typer.Option("--processes", help="Folder of example processes.")
    ] = None,
    database: Annotated[
        str, typer.Option("--database", "-d", envvar="LIUCHENG_DATABASE", help="Database URL.")
    ] = "sqlite:///liucheng.db",
    requests: Annotated[int, typer.Option(help="Service requests to run through the desk.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the simulated customers.")] = 42,
    check_only: Annotated[
        bool, typer.Option("--check-only", help="Only check and summarise the models.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Run the demo: check the bundled models, then run the service desk on the SQLite default."""
    root = folder if folder is not None else find_processes_dir()
    files = sorted(root.rglob("*.bpmn"))
    if not files:
        raise ConfigurationError(f"no BPMN files under {root}", code="demo.processes_missing")
    results = [summarise(f) for f in files]
    all_ok = all(r["ok"] for r in results)
    report = None
    if all_ok and not check_only:
        from ._servicedesk import run_service_desk

        report = run_service_desk(root, database, requests=requests, seed=seed)
    if as_json:
        doc: dict[str, object] = {"ok": all_ok, "folder": str(root), "files": results}
        if report is not None:
            doc["service_desk"] = report.to_dict()
        typer.echo(json.dumps(doc))
    else:
        typer.echo(f"Liucheng demo: {len(files)} example model(s) in {root}\n")
        for r in results:
            print_summary(r)
        typer.echo("all models valid" if all_ok else "some models have errors")
        if report is not None:
            _print_report(report)
    if not all_ok:
        sys.exit(1)  # not typer.Exit: main() runs click with standalone_mode=False


def _print_report(report: DemoReport) -> None:
    typer.echo(
        f"\nService desk on {report.database}: {report.requests} requests "
        f"({', '.join(f'{n} {c}' for c, n in sorted(report.channels.items()))}) "
        f"over {report.simulated_days} simulated days"
    )
    typer.echo(
        f"  closed {report.completed}, still open {report.open}, "
        f"mean cycle time {report.cycle_hours_mean} h, incidents {report.incidents}"
    )
    typer.echo(
        "  priority (DMN): " + ", ".join(f"{p} {n}" for p, n in sorted(report.priorities.items()))
    )
    typer.echo(
        f"  SLA breaches escalated to the team lead: {report.sla_breaches}; "
        f"surveys answered {report.surveys} (CSAT {report.csat}), "
        f"timed out {report.survey_timeouts}"
    )
    typer.echo("  step                     completed   mean minutes")
    for step, count in report.steps.items():
        minutes = report.step_minutes.get(step)
        shown = f"{minutes:>12.1f}" if minutes is not None else ""
        typer.echo(f"  {step:<24} {count:>9}   {shown}")
