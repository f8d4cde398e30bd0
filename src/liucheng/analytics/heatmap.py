"""A BPMN diagram (its DI) drawn as SVG with per-element frequency and waiting time as heat.

Log activities are matched to BPMN flow nodes by name (case-insensitive, trimmed), else by id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from liucheng.errors import ValidationError
from liucheng.model import (
    BPMNEdge,
    BPMNShape,
    Definitions,
    Event,
    Gateway,
    Lane,
    Participant,
    SubProcess,
    parse_bpmn,
)

from ._log import LogLike, as_log
from .charts import Svg, format_seconds
from .kpi import kpi_by

__all__ = ["bpmn_heatmap", "bpmn_heatmap_svg"]

_LOW = (255, 247, 236)
_HIGH = (215, 48, 31)


def _heat(share: float) -> str:
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def bpmn_heatmap(model: Definitions | str | Path, log: LogLike) -> pl.DataFrame:
    """Per BPMN flow node: the matched activity's ``instances`` and waiting-time statistics.

    Returns:
        ``element_id``, ``name``, ``activity`` (null when unmatched), ``instances``,
        ``waiting_seconds_mean``, ``working_seconds_mean``.
    """
    defs = model if isinstance(model, Definitions) else parse_bpmn(Path(model))
    stats = kpi_by(as_log(log), "activity")
    by_name = {_norm(r["activity"]): r for r in stats.iter_rows(named=True)}
    by_id = {r["activity"]: r for r in stats.iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    for diagram in defs.diagrams:
        if diagram.plane is None:
            continue
        for shape in diagram.plane.elements:
            if not isinstance(shape, BPMNShape) or shape.bpmn_element is None:
                continue
            el = defs.get(shape.bpmn_element)
            if el is None:
                continue
            name = getattr(el, "name", None)
            hit = by_name.get(_norm(name)) if name else None
            hit = hit or by_id.get(shape.bpmn_element)
            rows.append(
                {
                    "element_id": shape.bpmn_element,
                    "name": name,
                    "activity": hit["activity"] if hit else None,
                    "instances": hit["instances"] if hit else 0,
                    "waiting_seconds_mean": hit["waiting_seconds_mean"] if hit else None,
                    "working_seconds_mean": hit["working_seconds_mean"] if hit else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "element_id": pl.Utf8,
            "name": pl.Utf8,
            "activity": pl.Utf8,
            "instances": pl.Int64,
            "waiting_seconds_mean": pl.Float64,
            "working_seconds_mean": pl.Float64,
        },
    )


def bpmn_heatmap_svg(
    model: Definitions | str | Path, log: LogLike, *, metric: str = "waiting"
) -> str:
    """The model's first diagram as SVG, each matched node coloured by ``metric``.

    Args:
        model: Parsed definitions or a BPMN file path (with DI).
        log: The event-log frame or a log path.
        metric: ``waiting`` (mean waiting time) or ``frequency`` (instances).

    Raises:
        ValidationError: The model has no diagram with shapes, or the metric is unknown.
    """
    if metric not in ("waiting", "frequency"):
        raise ValidationError(
            f"unknown heat-map metric {metric!r}",
            code="analytics.heatmap.metric",
            hint="waiting or frequency",
        )
    defs = model if isinstance(model, Definitions) else parse_bpmn(Path(model))
    table = {r["element_id"]: r for r in bpmn_heatmap(defs, log).iter_rows(named=True)}
    plane = next((d.plane for d in defs.diagrams if d.plane is not None), None)
    shapes = [s for s in (plane.elements if plane else ()) if isinstance(s, BPMNShape) and s.bounds]
    if not shapes:
        raise ValidationError(
            "the model has no diagram (BPMN DI) to draw",
            code="analytics.heatmap.no_di",
            hint="lay the model out in a modeller first",
        )
    key = "waiting_seconds_mean" if metric == "waiting" else "instances"
    values = [r[key] for r in table.values() if r[key]]
    top = max(values, default=0) or 1
    xs = [s.bounds.x for s in shapes if s.bounds] + [
        s.bounds.x + s.bounds.width for s in shapes if s.bounds
    ]
    ys = [s.bounds.y for s in shapes if s.bounds] + [
        s.bounds.y + s.bounds.height for s in shapes if s.bounds
    ]
    ox, oy = min(xs) - 30, min(ys) - 40
    svg = Svg(max(xs) - ox + 30, max(ys) - oy + 40)
    svg.raw(
        '<defs><marker id="harrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
    )
    for edge in plane.elements if plane else ():
        if isinstance(edge, BPMNEdge) and len(edge.waypoints) >= 2:
            pts = " ".join(f"{p.x - ox:.1f},{p.y - oy:.1f}" for p in edge.waypoints)
            svg.add("polyline", points=pts, fill="none", stroke="#555", marker_end="url(#harrow)")
    for shape in shapes:
        b = shape.bounds
        if b is None:
            continue
        x, y, w, h = b.x - ox, b.y - oy, b.width, b.height
        el = defs.get(shape.bpmn_element)
        row = table.get(shape.bpmn_element or "")
        value = row[key] if row else None
        fill = _heat(float(value) / top) if value else "#ffffff"
        if isinstance(el, Event):
            svg.add("circle", cx=x + w / 2, cy=y + h / 2, r=min(w, h) / 2, fill=fill, stroke="#333")
        elif isinstance(el, Gateway):
            pts = f"{x + w / 2},{y} {x + w},{y + h / 2} {x + w / 2},{y + h} {x},{y + h / 2}"
            svg.add("polygon", points=pts, fill=fill, stroke="#333")
        elif isinstance(el, Participant | Lane) or (
            isinstance(el, SubProcess) and shape.is_expanded
        ):
            # Containers: outline only, so the nodes inside stay visible.
            svg.add("rect", x=x, y=y, width=w, height=h, fill="none", stroke="#999")
            continue
        else:
            svg.add("rect", x=x, y=y, width=w, height=h, rx=8, fill=fill, stroke="#333")
        name = getattr(el, "name", None) or ""
        if name:
            svg.add(
                "text", name[:28], x=x + w / 2, y=y + h / 2 - 2, font_size=11, text_anchor="middle"
            )
        if row and row["activity"] is not None:
            note = f"n={row['instances']}, wait {format_seconds(row['waiting_seconds_mean'])}"
            svg.add(
                "text",
                note,
                x=x + w / 2,
                y=y + h + 12,
                font_size=9,
                text_anchor="middle",
                fill="#333",
            )
    return svg.render()
