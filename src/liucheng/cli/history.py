"""``liucheng history export``: the engine's history as an event log file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from .db import DEFAULT_DATABASE

history_app = typer.Typer(help="The engine's history as event logs.", no_args_is_help=True)
app.add_typer(history_app, name="history")


@history_app.command("export")
def export(
    output: Annotated[
        Path, typer.Argument(help="Output file: .xes/.xes.gz, .csv, .parquet, .jsonocel, ...")
    ],
    database: Annotated[
        str, typer.Option("--database", "-d", envvar="LIUCHENG_DATABASE", help="Database URL.")
    ] = DEFAULT_DATABASE,
    process: Annotated[str | None, typer.Option(help="Only instances of this process.")] = None,
    include_events: Annotated[
        bool, typer.Option(help="Also export events and gateways, not only activities.")
    ] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the output format.")] = None,
) -> None:
    """Export the engine's history (one case per process instance) to an event-log file."""
    from liucheng.history import read_engine_log, write_log

    frame = read_engine_log(database, process=process, include_events=include_events)
    write_log(frame, output, format=fmt)
    cases = frame.get_column("case_id").n_unique() if frame.height else 0
    typer.echo(f"wrote {frame.height} events of {cases} cases to {output}")
