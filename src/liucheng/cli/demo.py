"""``liucheng demo``: the main job on the embedded default.

At this stage it checks and summarises the bundled example processes under ``processes/``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from liucheng.errors import ConfigurationError

from ._app import app
from .bpmn import print_summary, summarise


def find_processes_dir(start: Path | None = None) -> Path:
    """The bundled ``processes`` folder.

    Looked for in ``$LIUCHENG_PROCESSES``, then next to the project root above this package
    (a source checkout or editable install), then in the working directory and its parents.

    Raises:
        ConfigurationError: No such folder.
    """
    env = os.environ.get("LIUCHENG_PROCESSES")
    if env:
        path = Path(env)
        if path.is_dir():
            return path
        raise ConfigurationError(
            f"LIUCHENG_PROCESSES={env} is not a folder", hint="point it at the processes folder"
        )
    candidates: list[Path] = []
    for base in (Path(__file__).resolve(), (start or Path.cwd()).resolve()):
        candidates.extend(base.parents if base.is_file() else [base, *base.parents])
    for folder in candidates:
        path = folder / "processes"
        if path.is_dir() and any(path.rglob("*.bpmn")):
            return path
    raise ConfigurationError(
        "cannot find the bundled processes folder",
        code="demo.processes_missing",
        hint="run from the project checkout or set LIUCHENG_PROCESSES",
    )


@app.command()
def demo(
    folder: Annotated[
        Path | None, typer.Option("--processes", help="Folder of example processes.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Run the demo: check and summarise the bundled example processes."""
    root = folder if folder is not None else find_processes_dir()
    files = sorted(root.rglob("*.bpmn"))
    if not files:
        raise ConfigurationError(f"no BPMN files under {root}", code="demo.processes_missing")
    results = [summarise(f) for f in files]
    all_ok = all(r["ok"] for r in results)
    if as_json:
        typer.echo(json.dumps({"ok": all_ok, "folder": str(root), "files": results}))
    else:
        typer.echo(f"Liucheng demo: {len(files)} example model(s) in {root}\n")
        for r in results:
            print_summary(r)
        typer.echo("all models valid" if all_ok else "some models have errors")
    if not all_ok:
        sys.exit(1)  # not typer.Exit: main() runs click with standalone_mode=False
