"""``liucheng mine discover`` and ``liucheng mine conformance``: model discovery and conformance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from liucheng.errors import ValidationError

from .analytics import mine_app

LogArg = Annotated[
    str,
    typer.Argument(
        help="Event log: XES (.xes/.xes.gz), CSV, Parquet or OCEL file, or the engine's "
        "database (sqlite:///liucheng.db, postgresql://…, or a Liucheng .db file)."
    ),
]


def _lifecycle(value: str) -> str | None:
    if value == "all":
        return None
    return value


@mine_app.command("discover")
def mine_discover(
    log: LogArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="BPMN file to write.")],
    noise: Annotated[
        float, typer.Option("--noise", help="IMf noise threshold (0 = plain inductive miner).")
    ] = 0.0,
    algorithm: Annotated[
        str, typer.Option("--algorithm", help="inductive (default) or heuristics.")
    ] = "inductive",
    dependency: Annotated[
        float, typer.Option("--dependency", help="Heuristics miner dependency threshold.")
    ] = 0.5,
    lifecycle: Annotated[
        str, typer.Option("--lifecycle", help="complete (default; null counts) or all.")
    ] = "complete",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Discover a process model from an event log and write it as BPMN with a diagram."""
    from liucheng.analytics.mining import (
        check_soundness,
        discover_heuristics,
        discover_inductive,
        heuristics_to_petri_net,
        to_petri_net,
        variant_log,
        write_model_bpmn,
    )

    if algorithm not in ("inductive", "heuristics"):
        raise ValidationError(
            f"unknown algorithm {algorithm!r}",
            code="cli.mine.algorithm",
            hint="use --algorithm inductive or --algorithm heuristics",
        )
    vlog = variant_log(log, lifecycle=_lifecycle(lifecycle))
    summary: dict[str, object] = {"algorithm": algorithm, "output": str(output)}
    if algorithm == "inductive":
        tree = discover_inductive(vlog, noise)
        net = to_petri_net(tree)
        write_model_bpmn(tree, output)
        summary["noise"] = noise
        summary["tree"] = str(tree)
    else:
        hnet = discover_heuristics(vlog, dependency_threshold=dependency)
        net = heuristics_to_petri_net(hnet)
        write_model_bpmn(net, output)
        summary["dependency_threshold"] = dependency
    sound = check_soundness(net, max_states=50_000)
    summary.update(
        {
            "activities": len(net.labels),
            "places": len(net.places),
            "transitions": len(net.transitions),
            "sound": sound.sound,
        }
    )
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        typer.echo(f"wrote {output} ({len(net.labels)} activities, sound: {sound.sound})")


@mine_app.command("conformance")
def mine_conformance(
    log: LogArg,
    model: Annotated[Path, typer.Argument(help="BPMN model to check the log against.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    method: Annotated[
        str, typer.Option("--method", help="alignments (default) or tokens (token replay).")
    ] = "alignments",
    max_cases: Annotated[
        int, typer.Option("--max-cases", help="How many (least fitting) cases to list.")
    ] = 100,
    lifecycle: Annotated[
        str, typer.Option("--lifecycle", help="complete (default; null counts) or all.")
    ] = "complete",
) -> None:
    """Fitness, precision and deviations of an event log against a BPMN model."""
    from liucheng.analytics.mining import conformance, read_bpmn_net

    if method not in ("alignments", "tokens"):
        raise ValidationError(
            f"unknown method {method!r}",
            code="cli.mine.method",
            hint="use --method alignments or --method tokens",
        )
    net = read_bpmn_net(model)
    report = conformance(
        log,
        net,
        method="alignments" if method == "alignments" else "tokens",
        lifecycle=_lifecycle(lifecycle),
    )
    doc = report.to_json(max_cases=max_cases)
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, default=str))
        return
    typer.echo(f"fitness ({method}): {report.fitness:.4f}")
    typer.echo(f"precision: {report.precision:.4f}")
    typer.echo(f"fitting cases: {report.percentage_fit_traces:.1f}%")
