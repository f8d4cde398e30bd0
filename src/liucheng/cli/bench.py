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


@bench_app.command("chaos")
def chaos(
    database: Annotated[
        str, typer.Option("--database", "-d", envvar="LIUCHENG_DATABASE", help="Database URL.")
    ],
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 3,
    instances: Annotated[int, typer.Option(help="Process instances to run.")] = 200,
    kills: Annotated[int, typer.Option(help="SIGKILLs of random workers.")] = 5,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 300.0,
    lease_seconds: Annotated[float, typer.Option(help="Job lease / task lock length.")] = 3.0,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Kill workers at random while they run instances; check nothing is lost or doubled."""
    from liucheng.jobs.chaos import run_chaos

    result = run_chaos(
        database,
        workers=workers,
        instances=instances,
        kills=kills,
        timeout=timeout,
        lease_seconds=lease_seconds,
        seed=seed,
    )
    if as_json:
        typer.echo(result.to_json())
    else:
        typer.echo(
            f"{result.completed}/{result.instances} completed in {result.seconds:.1f}s with "
            f"{result.kills} kills; lost {result.lost}, double applied {result.double_applied}, "
            f"double-fired timers {result.double_fired_timers}"
        )
    if result.lost or result.double_applied or result.double_fired_timers:
        raise typer.Exit(1)
