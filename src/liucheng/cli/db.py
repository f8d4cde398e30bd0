"""``liucheng db ...``: database schema management."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import app

# The SQLite default, spelled out here so that importing the CLI does not import the store.
DEFAULT_DATABASE = "sqlite:///liucheng.db"

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database",
        "-d",
        envvar="LIUCHENG_DATABASE",
        help="SQLite file URL or postgresql://user@host:port/db.",
    ),
]


@db_app.command("upgrade")
def upgrade(
    database: DatabaseOption = DEFAULT_DATABASE,
    revision: Annotated[str, typer.Option(help="Target schema revision.")] = "head",
) -> None:
    """Create or migrate the schema to the newest (or given) revision."""
    from liucheng.store import connect_database, upgrade_schema

    engine = connect_database(database)
    try:
        upgrade_schema(engine, revision)
    finally:
        engine.dispose()
    typer.echo(f"schema of {engine.url.render_as_string(hide_password=True)} is at {revision}")


@db_app.command("cleanup")
def cleanup(
    database: DatabaseOption = DEFAULT_DATABASE,
    batch_size: Annotated[int, typer.Option(help="Rows deleted per transaction.")] = 5000,
    max_batches: Annotated[int | None, typer.Option(help="Stop after this many batches.")] = None,
) -> None:
    """Delete history rows whose removal time has passed (run it in a maintenance window)."""
    from liucheng.store import SqlStore

    store = SqlStore(database)
    try:
        deleted = store.cleanup_history(batch_size=batch_size, max_batches=max_batches)
    finally:
        store.dispose()
    typer.echo(f"deleted {deleted} history rows")
