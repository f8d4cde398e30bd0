"""``liucheng staffing ...``: Erlang C/A staffing and shift scheduling."""

from __future__ import annotations

import typer

from ._app import app

staffing_app = typer.Typer(
    help="Hotline staffing (Erlang C/A) and shift scheduling.", no_args_is_help=True
)
app.add_typer(staffing_app, name="staffing")
