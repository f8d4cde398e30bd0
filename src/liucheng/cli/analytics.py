"""``liucheng mine dfg|variants``, ``liucheng kpi`` and ``liucheng report``."""

from __future__ import annotations

import typer

from ._app import app

mine_app = typer.Typer(help="Process mining over event logs.", no_args_is_help=True)
app.add_typer(mine_app, name="mine")
