"""``liucheng bpmn ...``: check and round-trip BPMN files."""

from __future__ import annotations

import typer

from ._app import app

bpmn_app = typer.Typer(help="Check, validate and round-trip BPMN 2.0 files.", no_args_is_help=True)
app.add_typer(bpmn_app, name="bpmn")
