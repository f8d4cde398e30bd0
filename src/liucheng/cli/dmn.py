"""``liucheng dmn ...``: evaluate decisions and run the DMN TCK."""

from __future__ import annotations

import typer

from ._app import app

dmn_app = typer.Typer(help="Evaluate DMN decisions and run the DMN TCK.", no_args_is_help=True)
app.add_typer(dmn_app, name="dmn")
