"""``liucheng org ...`` and ``liucheng sla ...``: organisation files, calendars and SLA clocks."""

from __future__ import annotations

import typer

from ._app import app

org_app = typer.Typer(help="Import and inspect the organisation model.", no_args_is_help=True)
sla_app = typer.Typer(help="Business calendars and SLA due dates.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(sla_app, name="sla")
