"""``liucheng dmn ...``: evaluate decisions and run the DMN TCK."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from liucheng.errors import ValidationError

from ._app import app

dmn_app = typer.Typer(help="Evaluate DMN decisions and run the DMN TCK.", no_args_is_help=True)
app.add_typer(dmn_app, name="dmn")


def _json_value(value: Any) -> Any:
    from liucheng.feel import from_feel

    return from_feel(value, json_safe=True)


@dmn_app.command("eval")
def eval_command(
    file: Annotated[Path, typer.Argument(help="DMN file")],
    decision: Annotated[str, typer.Argument(help="decision (or decision service) id or name")],
    input_json: Annotated[
        str, typer.Option("--input", "-i", help="input data as a JSON object")
    ] = "{}",
) -> None:
    """Evaluate DECISION of FILE and print its value as JSON (problems go to stderr)."""
    from liucheng.dmn import decide, load_model

    try:
        # floats as Decimal so that 0.1 stays exactly 0.1 (FEEL numbers are decimals)
        inputs = json.loads(input_json, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"--input is not valid JSON: {exc.msg} at column {exc.colno}",
            code="dmn.input.json",
            hint='pass a JSON object, e.g. --input \'{"impact": "high"}\'',
        ) from None
    if not isinstance(inputs, dict):
        raise ValidationError(
            "--input must be a JSON object", code="dmn.input.json", hint="wrap values in {...}"
        )
    model = load_model(file)
    result = decide(model, decision, inputs)
    for problem in result.errors:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(json.dumps(_json_value(result.value), ensure_ascii=False))


@dmn_app.command("check")
def check_command(
    files: Annotated[list[Path], typer.Argument(help="DMN files")],
) -> None:
    """Parse and compile DMN files; exit 0 when they have no problems."""
    from liucheng.dmn import load_model

    for file in files:
        model = load_model(file)
        model.validate()
        count = len(model.definitions.decisions)
        typer.echo(f"{file}: ok ({count} decision{'s' if count != 1 else ''})")


@dmn_app.command("tck")
def tck_command(
    directory: Annotated[Path, typer.Argument(help="folder with TCK test cases (recursive)")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    failures_only: Annotated[
        bool, typer.Option("--failures", help="list only failing cases (text mode)")
    ] = False,
) -> None:
    """Run the DMN TCK test cases under DIRECTORY."""
    from liucheng.dmn import run_tck

    summary = run_tck(directory)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    for r in summary.results:
        if failures_only and r.ok:
            continue
        typer.echo(f"{'ok  ' if r.ok else 'FAIL'} {r.model} {r.test}: {r.message}")
    typer.echo(f"passed {summary.passed}, failed {summary.failed}, errors {summary.errors}")
