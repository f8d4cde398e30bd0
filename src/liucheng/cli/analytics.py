"""``liucheng mine dfg|variants``, ``liucheng kpi`` and ``liucheng report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ._app import app

mine_app = typer.Typer(help="Process mining over event logs.", no_args_is_help=True)
app.add_typer(mine_app, name="mine")

LogArg = Annotated[
    str,
    typer.Argument(
        help="Event log: XES (.xes/.xes.gz), CSV, Parquet or OCEL file, or the engine's "
        "database (sqlite:///liucheng.db, postgresql://…, or a Liucheng .db file)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
LifecycleOpt = Annotated[
    str,
    typer.Option(
        "--lifecycle", help="Lifecycle transition to keep: complete (default; null counts) or all."
    ),
]


def _emit(doc: Any) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, default=str))


@mine_app.command("dfg")
def mine_dfg(
    log: LogArg,
    as_json: JsonOpt = False,
    lifecycle: LifecycleOpt = "complete",
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Also write the graph as SVG here.")
    ] = None,
) -> None:
    """Directly-follows graph with frequencies and mean times between activities."""
    from liucheng.analytics import discover_dfg

    graph = discover_dfg(log, lifecycle=lifecycle, performance=False)
    if svg is not None:
        from liucheng.analytics.charts import dfg_svg

        svg.write_text(dfg_svg(graph), encoding="utf-8")
    if as_json:
        doc = graph.to_json()
        doc["edges"] = [
            {k: e[k] for k in ("source", "target", "count", "mean_seconds")} for e in doc["edges"]
        ]
        _emit(doc)
        return
    for row in graph.edges.iter_rows(named=True):
        typer.echo(
            f"{row['source']} -> {row['target']}: {row['count']} (mean {row['mean_seconds']:.1f} s)"
        )
    typer.echo("start: " + ", ".join(f"{a} ({n})" for a, n in graph.start.iter_rows()))
    typer.echo("end: " + ", ".join(f"{a} ({n})" for a, n in graph.end.iter_rows()))


@mine_app.command("variants")
def mine_variants(
    log: LogArg,
    as_json: JsonOpt = False,
    lifecycle: LifecycleOpt = "complete",
    top: Annotated[int | None, typer.Option("--top", help="Only the N most frequent.")] = None,
) -> None:
    """Variants (distinct activity sequences) with case counts, most frequent first."""
    from liucheng.analytics import variants

    frame = variants(log, lifecycle=lifecycle)
    if top is not None:
        frame = frame.head(top)
    if as_json:
        _emit(
            {
                "variants": [
                    {
                        "activities": r["activities"],
                        "count": r["count"],
                        "mean_seconds": r["mean_seconds"],
                    }
                    for r in frame.iter_rows(named=True)
                ]
            }
        )
        return
    for r in frame.iter_rows(named=True):
        typer.echo(f"{r['count']:>7}  {' > '.join(r['activities'])}")


@app.command("kpi")
def kpi(
    log: LogArg,
    as_json: JsonOpt = False,
    kpis: Annotated[
        Path | None, typer.Option("--kpis", help="KPI file (YAML): SLA, costs, custom KPIs.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Group by activity, resource, role, a case attribute, day, week or month."
        ),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(
            "--control",
            help="Add an I-MR control chart of this case measure per bucket "
            "(cycle_time_seconds, waiting_seconds, cost, on_time ...).",
        ),
    ] = None,
) -> None:
    """Process KPIs: cycle time, waiting vs working time, SLA, cost, rework, hand-overs."""
    from liucheng.analytics import as_log
    from liucheng.analytics.kpi import backlog, kpi_by, throughput
    from liucheng.analytics.kpi_file import KpiFile, kpi_report, load_kpi_file

    spec = load_kpi_file(kpis) if kpis is not None else KpiFile()
    frame = as_log(log)
    doc: dict[str, Any] = {"summary": kpi_report(frame, spec)}
    if by in ("day", "week", "month"):
        tp = throughput(frame, by).join(backlog(frame, by), on="bucket", how="left")
        doc["by"] = by
        doc["groups"] = tp.with_columns(tp["bucket"].dt.to_string("%Y-%m-%dT%H:%M:%SZ")).to_dicts()
    elif by is not None:
        doc["by"] = by
        doc["groups"] = kpi_by(frame, by, spec.settings).to_dicts()
    if control is not None:
        from liucheng.analytics.control import measure_chart

        doc["control"] = measure_chart(
            frame, control, bucket=spec.bucket, settings=spec.settings
        ).to_json()
    if as_json:
        _emit(doc)
        return
    for key, value in doc["summary"].items():
        typer.echo(f"{key:>28}: {value}")
    for group in doc.get("groups", []):
        typer.echo(json.dumps(group, default=str, ensure_ascii=False))


@app.command("report")
def report(
    log: LogArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
    kpis: Annotated[
        Path | None, typer.Option("--kpis", help="KPI file (YAML): SLA, costs, custom KPIs.")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Variants to list.")] = 10,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="BPMN model (with diagram) to draw as a heat map."),
    ] = None,
) -> None:
    """Write an HTML report: KPIs, throughput, control chart, variants, DFG, heat map."""
    from liucheng.analytics.kpi_file import KpiFile, load_kpi_file
    from liucheng.analytics.report import html_report

    spec = load_kpi_file(kpis) if kpis is not None else KpiFile()
    page = html_report(log, kpi_file=spec, title=Path(log).name, top=top, model=model)
    output.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {output}")
