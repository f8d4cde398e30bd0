"""``liucheng conformance``: run the engine conformance scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from liucheng.errors import ConfigurationError

from ._app import app


@app.command("conformance")
def conformance(
    directory: Annotated[
        Path, typer.Argument(help="Folder searched recursively for scenario.yaml folders.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    reload: Annotated[
        bool,
        typer.Option(
            "--reload", help="After every step, reload all instances from the store through JSON."
        ),
    ] = False,
) -> None:
    """Run engine conformance scenarios (format: shared/conformance/scenarios/FORMAT.md)."""
    from liucheng.engine.conformance import run_scenarios

    if not directory.is_dir():
        raise ConfigurationError(
            f"'{directory}' is not a folder",
            code="cli.conformance.dir",
            hint="give the folder that holds the scenario folders",
        )
    report = run_scenarios(directory, reload=reload)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    for r in report.results:
        status = "ok  " if r.ok else "FAIL"
        typer.echo(f"{status} {r.name}" + (f": {r.message}" if r.message else ""))
    typer.echo(f"passed {report.passed}, failed {report.failed}")
    if report.failed:
        raise typer.Exit(1)
