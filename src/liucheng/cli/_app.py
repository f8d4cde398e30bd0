"""The root Typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="liucheng",
    help="Liucheng (流程): define, run, measure, analyse and simulate business processes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
