"""``liucheng bench``: run the benchmarks under ``bench/``, one JSON line per figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from liucheng.errors import ConfigurationError

from ._app import app

bench_app = typer.Typer(help="Run the benchmarks under bench/ (one JSON line per figure).")
app.add_typer(bench_app, name="bench")


def _bench_root() -> Path:
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "bench"
        if candidate.is_dir() and (base / "pyproject.toml").is_file():
            return candidate
    raise ConfigurationError(
        "cannot find the bench/ folder of a Liucheng checkout",
        code="config.bench_missing",
        hint="run `liucheng bench` from the root of a Liucheng source checkout",
    )


def bench_scripts(root: Path, only: list[str] | None = None) -> list[Path]:
    """Benchmark scripts (``bench/**/bench_*.py``), filtered by substrings of their path."""
    scripts = sorted(root.rglob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if any(o in str(s.relative_to(root)) for o in only)]
    return scripts


@bench_app.callback(invoke_without_command=True)
def run_all(
    ctx: typer.Context,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only scripts whose path contains this.")
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the scripts and stop.")] = False,
) -> None:
    """Run every benchmark script (or those matching ``--only``)."""
    if ctx.invoked_subcommand is not None:
        return
    root = _bench_root()
    scripts = bench_scripts(root, only)
    if list_only:
        for script in scripts:
            typer.echo(str(script.relative_to(root)))
        return
    failed = 0
    for script in scripts:
        result = subprocess.run([sys.executable, str(script)], check=False)
        if result.returncode != 0:
            failed += 1
            typer.echo(
                f"benchmark {script.relative_to(root)} failed ({result.returncode})", err=True
            )
    if failed:
        raise typer.Exit(1)
