"""A self-contained HTML report: KPIs, trends, control chart, variants and the DFG."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from liucheng.errors import ValidationError

from ._log import LogLike, as_log
from .charts import control_chart_svg, dfg_svg, format_seconds, trend_svg
from .dfg import discover_dfg
from .kpi import backlog, kpi_by, throughput
from .kpi_file import KpiFile, kpi_report
from .spc import imr_chart
from .variants import variants

__all__ = ["html_report"]

_CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:3px 8px}
th{background:#f0f4f8;text-align:left} td.n{text-align:right}
.svg{overflow-x:auto;border:1px solid #eee;padding:4px;margin:8px 0}
"""


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "<td>–</td>"
    if isinstance(value, float):
        if "seconds" in key:
            return f'<td class="n">{html.escape(format_seconds(value))}</td>'
        if key.endswith(("rate", "share", "efficiency")):
            return f'<td class="n">{value * 100:.1f} %</td>'
        return f'<td class="n">{value:,.2f}</td>'
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if isinstance(value, list):
        return f"<td>{html.escape(' → '.join(map(str, value)))}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _table(frame: pl.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(_cell(c, v) for c, v in row.items()) + "</tr>"
        for row in frame.iter_rows(named=True)
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _kv_table(values: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th>{_cell(k, v)}</tr>" for k, v in values.items())
    return f"<table>{rows}</table>"


def _heatmaps(model: str | Path | None, frame: pl.DataFrame) -> list[str]:
    if model is None:
        return []
    from .heatmap import bpmn_heatmap_svg

    return [
        "<h2>Process model: mean waiting time per step</h2>",
        '<div class="svg">' + bpmn_heatmap_svg(model, frame, metric="waiting") + "</div>",
        "<h2>Process model: frequency per step</h2>",
        '<div class="svg">' + bpmn_heatmap_svg(model, frame, metric="frequency") + "</div>",
    ]


def _label(ts: Any, bucket: str) -> str:
    if not isinstance(ts, datetime):
        return str(ts)
    return ts.strftime("%Y-%m" if bucket == "month" else "%Y-%m-%d")


def html_report(
    log: LogLike,
    *,
    kpi_file: KpiFile | None = None,
    title: str | None = None,
    top: int = 10,
    model: str | Path | None = None,
) -> str:
    """Render the HTML report of a log.

    Args:
        log: The event-log frame or a log file path.
        kpi_file: SLA, costs, roles, bucket and custom KPIs.
        title: Page title (default: the file name).
        top: How many variants to list.
        model: A BPMN file (with DI) to show as a heat map of waiting times and frequencies.
    """
    frame = as_log(log)
    if frame.height == 0:
        raise ValidationError("the event log is empty", code="analytics.report.empty")
    f = kpi_file or KpiFile()
    name = title or (str(log) if not isinstance(log, pl.DataFrame) else "event log")
    summary = kpi_report(frame, f)
    tp = throughput(frame, f.bucket)
    bl = backlog(frame, f.bucket)
    labels = [_label(b, f.bucket) for b in tp.get_column("bucket").to_list()]
    parts: list[str] = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Process report: {html.escape(name)}</h1>",
        f"<p>{frame.height:,} events, {frame['case_id'].n_unique():,} cases, "
        f"{frame['activity'].n_unique():,} activities, "
        f"{html.escape(str(frame['timestamp'].min()))} – "
        f"{html.escape(str(frame['timestamp'].max()))}. "
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>Key figures</h2>",
        _kv_table(summary),
        f"<h2>Throughput and backlog per {f.bucket}</h2>",
        '<div class="svg">'
        + trend_svg(labels, tp.get_column("completed").to_list(), title="cases completed")
        + "</div>",
        '<div class="svg">'
        + trend_svg(
            [_label(b, f.bucket) for b in bl.get_column("bucket").to_list()],
            bl.get_column("open").to_list(),
            title="open cases (backlog)",
        )
        + "</div>",
    ]
    series = tp.filter(pl.col("cycle_time_seconds_mean").is_not_null())
    if series.height >= 2:
        hours = [v / 3600.0 for v in series.get_column("cycle_time_seconds_mean").to_list()]
        chart = imr_chart(hours, [_label(b, f.bucket) for b in series["bucket"].to_list()])
        rules: dict[int, list[int]] = {}
        for v in chart.violations:
            rules.setdefault(v.index, []).append(v.rule)
        shown = [
            f"{chart.labels[i]} (rule {', '.join(map(str, sorted(set(r))))})"
            for i, r in sorted(rules.items())
        ]
        flagged = f"{len(shown)} of {len(chart.values)}: " + "; ".join(shown[:25]) if shown else ""
        if len(shown) > 25:
            flagged += f"; … and {len(shown) - 25} more"
        parts += [
            f"<h2>Is the process stable? Mean cycle time (h) per {f.bucket}, I-MR chart</h2>",
            '<div class="svg">'
            + control_chart_svg(chart, title="Individuals: mean cycle time (hours)")
            + "</div>",
            '<div class="svg">'
            + control_chart_svg(chart.companion, title="Moving range")  # type: ignore[arg-type]
            + "</div>",
            f"<p>Out-of-control points: {html.escape(flagged) if flagged else 'none'}.</p>",
        ]
    var = variants(frame, lifecycle="all").head(top)
    graph = discover_dfg(frame, lifecycle="complete")
    parts += [
        f"<h2>Top {top} variants</h2>",
        _table(var.select("variant", "count", "share", "mean_seconds", "activities")),
        "<h2>Directly-follows graph (frequency, complete events)</h2>",
        '<div class="svg">' + dfg_svg(graph) + "</div>",
        "<h2>Directly-follows graph (mean time between activities)</h2>",
        '<div class="svg">' + dfg_svg(graph, metric="performance") + "</div>",
        *_heatmaps(model, frame),
        "<h2>Steps</h2>",
        _table(
            kpi_by(frame, "activity", f.settings).select(
                "activity",
                "instances",
                "cases",
                "working_seconds_mean",
                "waiting_seconds_mean",
                "waiting_seconds_p90",
                "rework_rate",
                "handover_rate",
                "cost",
            )
        ),
        "<h2>People</h2>",
        _table(
            kpi_by(frame, "resource", f.settings)
            .select(
                "resource",
                "instances",
                "cases",
                "working_seconds_mean",
                "waiting_seconds_mean",
                "cost",
            )
            .head(30)
        ),
        "</body></html>",
    ]
    return "\n".join(parts)
