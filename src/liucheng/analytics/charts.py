"""Hand-written SVG: trend lines, control charts and directly-follows graphs.

A tiny element builder (:class:`Svg`) escapes every text and attribute; charts are plain
functions from analysis results to an SVG string, so reports can inline them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from .dfg import DirectlyFollowsGraph
from .spc import ControlChart

__all__ = ["Svg", "control_chart_svg", "dfg_svg", "format_seconds", "trend_svg"]

_FONT = "font-family:Helvetica,Arial,sans-serif"


class Svg:
    """A minimal SVG document builder."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self._parts: list[str] = []

    def add(self, tag: str, text: str | None = None, **attrs: object) -> None:
        """Append an element; ``attr_name`` becomes ``attr-name``."""
        attr = "".join(
            f" {k.rstrip('_').replace('_', '-')}={quoteattr(_fmt(v))}"
            for k, v in attrs.items()
            if v is not None
        )
        if text is None:
            self._parts.append(f"<{tag}{attr}/>")
        else:
            self._parts.append(f"<{tag}{attr}>{escape(text)}</{tag}>")

    def raw(self, markup: str) -> None:
        """Append trusted markup (only used for our own <defs>)."""
        self._parts.append(markup)

    def render(self) -> str:
        """The SVG document as text."""
        w, h = _fmt(self.width), _fmt(self.height)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" style="{_FONT}">' + "".join(self._parts) + "</svg>"
        )


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def format_seconds(seconds: float | None) -> str:
    """``90`` → ``1.5 min``; ``None`` → ``–``."""
    if seconds is None or math.isnan(seconds):
        return "–"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def _scale(lo: float, hi: float, a: float, b: float) -> tuple[float, float]:
    if hi == lo:
        hi, lo = hi + 1.0, lo - 1.0
    k = (b - a) / (hi - lo)
    return k, a - k * lo


def _axes(svg: Svg, box: tuple[float, float, float, float], lo: float, hi: float) -> None:
    x0, y0, x1, y1 = box
    svg.add("line", x1=x0, y1=y1, x2=x1, y2=y1, stroke="#444")
    svg.add("line", x1=x0, y1=y0, x2=x0, y2=y1, stroke="#444")
    k, c = _scale(lo, hi, y1, y0)
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = k * v + c
        svg.add("line", x1=x0 - 4, y1=y, x2=x1, y2=y, stroke="#eee")
        svg.add("text", f"{v:.4g}", x=x0 - 6, y=y + 4, font_size=10, text_anchor="end")


def trend_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str = "",
    width: int = 640,
    height: int = 240,
) -> str:
    """A line chart of a series (nulls leave gaps)."""
    svg = Svg(width, height)
    x0, y0, x1, y1 = 60.0, 30.0, width - 20.0, height - 40.0
    svg.add("text", title, x=x0, y=18, font_size=13, font_weight="bold")
    nums = [v for v in values if v is not None]
    if not nums:
        svg.add("text", "no data", x=width / 2, y=height / 2, text_anchor="middle")
        return svg.render()
    lo, hi = min(0.0, *nums), max(nums)
    _axes(svg, (x0, y0, x1, y1), lo, hi)
    ky, cy = _scale(lo, hi, y1, y0)
    n = len(values)
    kx, cx = _scale(0, max(n - 1, 1), x0 + 5, x1 - 5)
    path: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            path.append("")
            continue
        x, y = kx * i + cx, ky * v + cy
        path.append(f"{'L' if path and path[-1] else 'M'}{x:.1f},{y:.1f}")
        svg.add("circle", cx=x, cy=y, r=2.5, fill="#1f6fb2")
    svg.add("path", d=" ".join(p for p in path if p), fill="none", stroke="#1f6fb2", stroke_width=2)
    _xlabels(svg, labels, kx, cx, y1)
    return svg.render()


def _xlabels(svg: Svg, labels: Sequence[str], kx: float, cx: float, y1: float) -> None:
    if not labels:
        return
    step = max(1, math.ceil(len(labels) / 8))
    for i in range(0, len(labels), step):
        svg.add("text", labels[i], x=kx * i + cx, y=y1 + 16, font_size=10, text_anchor="middle")


def control_chart_svg(
    chart: ControlChart, *, title: str = "", width: int = 640, height: int = 260
) -> str:
    """A control chart: values, centre line, control limits and flagged points in red."""
    svg = Svg(width, height)
    x0, y0, x1, y1 = 60.0, 30.0, width - 90.0, height - 40.0
    svg.add("text", title or f"{chart.kind} chart", x=x0, y=18, font_size=13, font_weight="bold")
    vals = list(chart.values)
    lo = min([*vals, chart.lcl])
    hi = max([*vals, chart.ucl])
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    _axes(svg, (x0, y0, x1, y1), lo, hi)
    ky, cy = _scale(lo, hi, y1, y0)
    for name, v, colour, dash in (
        ("UCL", chart.ucl, "#c0392b", "6,4"),
        ("CL", chart.center, "#2c7a3f", None),
        ("LCL", chart.lcl, "#c0392b", "6,4"),
    ):
        y = ky * v + cy
        svg.add("line", x1=x0, y1=y, x2=x1, y2=y, stroke=colour, stroke_dasharray=dash)
        svg.add("text", f"{name} {v:.4g}", x=x1 + 4, y=y + 4, font_size=10, fill=colour)
    kx, cx = _scale(0, max(len(vals) - 1, 1), x0 + 5, x1 - 5)
    pts = " ".join(f"{kx * i + cx:.1f},{ky * v + cy:.1f}" for i, v in enumerate(vals))
    svg.add("polyline", points=pts, fill="none", stroke="#1f6fb2", stroke_width=1.5)
    rules: dict[int, list[int]] = defaultdict(list)
    for viol in chart.violations:
        rules[viol.index].append(viol.rule)
    for i, v in enumerate(vals):
        x, y = kx * i + cx, ky * v + cy
        if i in rules:
            svg.add("circle", cx=x, cy=y, r=4.5, fill="#c0392b")
            tag = "R" + ",".join(str(r) for r in sorted(set(rules[i])))
            svg.add("text", tag, x=x, y=y - 8, font_size=9, fill="#c0392b", text_anchor="middle")
        else:
            svg.add("circle", cx=x, cy=y, r=2.5, fill="#1f6fb2")
    _xlabels(svg, list(chart.labels), kx, cx, y1)
    return svg.render()


def _ranks(graph: DirectlyFollowsGraph) -> dict[str, int]:
    """Layer of each activity: breadth-first distance from the start activities."""
    acts = graph.activities.get_column("activity").to_list()
    succ: dict[str, list[str]] = defaultdict(list)
    for s, t in graph.edges.select("source", "target").iter_rows():
        if s != t:
            succ[s].append(t)
    rank: dict[str, int] = {}
    frontier = list(graph.start.get_column("activity").to_list())
    for a in frontier:
        rank[a] = 0
    while frontier:
        nxt: list[str] = []
        for a in frontier:
            for b in succ[a]:
                if b not in rank:
                    rank[b] = rank[a] + 1
                    nxt.append(b)
        frontier = nxt
    top = max(rank.values(), default=-1)
    for a in acts:
        if a not in rank:
            top += 1
            rank[a] = top
    return rank


def dfg_svg(graph: DirectlyFollowsGraph, *, metric: str = "frequency", max_edges: int = 60) -> str:
    """The directly-follows graph as SVG, left to right, edges labelled with count or mean time.

    Args:
        graph: The graph.
        metric: ``frequency`` (edge count) or ``performance`` (mean seconds).
        max_edges: Keep only the most frequent edges so the picture stays readable.
    """
    rank = _ranks(graph)
    counts = dict(graph.activities.iter_rows())
    layers: dict[int, list[str]] = defaultdict(list)
    for a, r in sorted(rank.items(), key=lambda kv: (kv[1], -counts.get(kv[0], 0), kv[0])):
        layers[r].append(a)
    node_w, node_h, gap_x, gap_y = 150.0, 44.0, 90.0, 26.0
    tallest = max((len(v) for v in layers.values()), default=1)
    width = 40 + len(layers) * (node_w + gap_x)
    height = 60 + tallest * (node_h + gap_y)
    svg = Svg(width, height)
    svg.raw(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
    )
    pos: dict[str, tuple[float, float]] = {}
    for r, acts in layers.items():
        for j, a in enumerate(acts):
            pos[a] = (20 + r * (node_w + gap_x), 40 + j * (node_h + gap_y))
    edges = graph.edges.head(max_edges)
    top = max(edges.get_column("count").to_list(), default=1)
    for row in edges.iter_rows(named=True):
        s, t = row["source"], row["target"]
        (sx, sy), (tx, ty) = pos[s], pos[t]
        label = str(row["count"]) if metric == "frequency" else format_seconds(row["mean_seconds"])
        stroke = 1 + 4 * row["count"] / top
        if s == t:
            x, y = sx + node_w / 2, sy
            d = (
                f"M{x - 15:.1f},{y:.1f} C{x - 30:.1f},{y - 30:.1f} "
                f"{x + 30:.1f},{y - 30:.1f} {x + 15:.1f},{y:.1f}"
            )
            lx, ly = x, y - 26
        else:
            x1, y1 = sx + node_w, sy + node_h / 2
            x2, y2 = tx, ty + node_h / 2
            if tx <= sx:  # backwards edge: route below the boxes
                x1, y1 = sx + node_w / 2, sy + node_h
                x2, y2 = tx + node_w / 2, ty + node_h
                bend = max(y1, y2) + 40
                d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{bend:.1f} {x2:.1f},{bend:.1f} {x2:.1f},{y2:.1f}"
                lx, ly = (x1 + x2) / 2, bend - 8
            else:
                mx = (x1 + x2) / 2
                d = f"M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
                lx, ly = mx, (y1 + y2) / 2 - 4
        svg.add(
            "path",
            d=d,
            fill="none",
            stroke="#555",
            stroke_width=round(stroke, 1),
            stroke_opacity=0.7,
            marker_end="url(#arrow)",
        )
        svg.add("text", label, x=lx, y=ly, font_size=10, text_anchor="middle", fill="#222")
    for a, (x, y) in pos.items():
        svg.add(
            "rect", x=x, y=y, width=node_w, height=node_h, rx=8, fill="#dbe9f6", stroke="#1f6fb2"
        )
        svg.add("text", a[:24], x=x + node_w / 2, y=y + 19, font_size=11, text_anchor="middle")
        svg.add(
            "text",
            str(counts.get(a, 0)),
            x=x + node_w / 2,
            y=y + 35,
            font_size=10,
            text_anchor="middle",
            fill="#555",
        )
    return svg.render()
