"""Automatic left-to-right layered layout for models built in code.

Each container (process or expanded subprocess) is laid out on its own grid: columns are the
longest-path layers of the sequence-flow graph (back edges of loops ignored), rows keep a branch on
the row of its first predecessor where free. Lanes become horizontal bands of rows. Expanded
subprocesses are sized from their own layout first, so nothing overlaps.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["LayoutEdge", "LayoutGraph", "LayoutNode", "layout"]

SIZES: dict[str, tuple[float, float]] = {
    "event": (36.0, 36.0),
    "gateway": (50.0, 50.0),
    "activity": (100.0, 80.0),
}
COL_GAP = 60.0
ROW_GAP = 50.0
SUB_PAD = 40.0
POOL_LABEL = 30.0
MARGIN = 50.0


@dataclass
class LayoutNode:
    """A node to place: ``shape`` is ``event``, ``gateway``, ``activity`` or ``container``."""

    id: str
    shape: str
    container: str | None = None
    lane: str | None = None
    attached_to: str | None = None
    detached: bool = False  # event subprocess: no flows, drawn on a row of its own
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class LayoutEdge:
    """A sequence flow to route."""

    id: str
    source: str
    target: str
    waypoints: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class LayoutGraph:
    """Input and output of :func:`layout`."""

    nodes: dict[str, LayoutNode]
    edges: list[LayoutEdge]
    lanes: list[str] = field(default_factory=list)
    lane_bounds: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    pool_bounds: tuple[float, float, float, float] | None = None


def _layers(ids: list[str], edges: list[LayoutEdge]) -> dict[str, int]:
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if e.source in succ and e.target in succ:
            succ[e.source].append(e.target)
    # Drop back edges (found by DFS from the nodes in insertion order) so loops do not
    # push layers to infinity.
    state: dict[str, int] = {}
    forward: dict[str, list[str]] = {i: [] for i in ids}
    for root in ids:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, idx = stack[-1]
            if idx < len(succ[node]):
                stack[-1] = (node, idx + 1)
                nxt = succ[node][idx]
                if state.get(nxt) == 1:
                    continue  # back edge
                forward[node].append(nxt)
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                stack.pop()
    indeg = dict.fromkeys(ids, 0)
    for src in ids:
        for t in forward[src]:
            indeg[t] += 1
    layer = dict.fromkeys(ids, 0)
    queue = deque(i for i in ids if indeg[i] == 0)
    while queue:
        node = queue.popleft()
        for t in forward[node]:
            layer[t] = max(layer[t], layer[node] + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                queue.append(t)
    return layer


def _place_container(graph: LayoutGraph, container: str | None, lanes: list[str]) -> None:
    nodes = [n for n in graph.nodes.values() if n.container == container]
    for n in nodes:
        if n.shape == "container":
            _place_container(graph, n.id, [])
    flow_nodes = [n for n in nodes if n.attached_to is None and not n.detached]
    detached = [n for n in nodes if n.detached]
    ids = [n.id for n in flow_nodes]
    host_of = {n.id: n.attached_to for n in nodes if n.attached_to}
    # Boundary events stand in for their host when layering what follows them.
    edges = [
        LayoutEdge(e.id, host_of.get(e.source, e.source), e.target)
        for e in graph.edges
        if host_of.get(e.source, e.source) in ids and e.target in ids
    ]
    # Targets of boundary events (exception paths) go below the normal path of their host.
    exceptional = {e.target for e in graph.edges if e.source in host_of and e.target in ids} - {
        e.target for e in graph.edges if e.source not in host_of
    }
    layer = _layers(ids, edges)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        preds[e.target].append(e.source)
    band_of = {
        n.id: (lanes.index(n.lane) if n.lane in lanes else 0) for n in [*flow_nodes, *detached]
    }
    taken: set[tuple[int, int, int]] = set()  # (band, layer, row)
    row: dict[str, int] = {}
    position = {nid: k for k, nid in enumerate(ids)}
    order = sorted(ids, key=lambda i: (layer[i], i in exceptional, position[i]))
    for nid in order:
        band = band_of[nid]
        wanted = 0
        for p in preds[nid]:
            if p in row and band_of[p] == band:
                wanted = row[p] + (1 if nid in exceptional else 0)
                break
        r = wanted
        while (band, layer[nid], r) in taken:
            r += 1
        taken.add((band, layer[nid], r))
        row[nid] = r
    n_layers = max(layer.values(), default=-1) + 1
    col_w = [0.0] * n_layers
    for n in flow_nodes:
        col_w[layer[n.id]] = max(col_w[layer[n.id]], n.width)
    n_bands = max(1, len(lanes))
    rows_in_band = [0] * n_bands
    for nid, r in row.items():
        rows_in_band[band_of[nid]] = max(rows_in_band[band_of[nid]], r + 1)
    # Event subprocesses go side by side on an extra row at the bottom of their band.
    detached_x: dict[str, float] = {}
    detached_w = 0.0
    for b in range(n_bands):
        x = 0.0
        for n in detached:
            if band_of[n.id] == b:
                row[n.id] = rows_in_band[b]
                detached_x[n.id] = x
                x += n.width + COL_GAP
        detached_w = max(detached_w, x - COL_GAP)
        if any(band_of[n.id] == b for n in detached):
            rows_in_band[b] += 1
    row_h: dict[tuple[int, int], float] = {}
    for n in [*flow_nodes, *detached]:
        key = (band_of[n.id], row[n.id])
        row_h[key] = max(row_h.get(key, 0.0), n.height)
    col_x: list[float] = []
    x = 0.0
    for w in col_w:
        col_x.append(x)
        x += w + COL_GAP
    total_w = max(x - COL_GAP, detached_w, 0.0)
    row_y: dict[tuple[int, int], float] = {}
    band_y: list[tuple[float, float]] = []
    y = 0.0
    for b in range(n_bands):
        start = y
        y += ROW_GAP / 2
        for r in range(max(rows_in_band[b], 1)):
            h = row_h.get((b, r), SIZES["activity"][1])
            row_y[(b, r)] = y + h / 2  # centre line of the row
            y += h + ROW_GAP
        y -= ROW_GAP / 2
        band_y.append((start, y - start))
    total_h = y
    for n in flow_nodes:
        cx = col_x[layer[n.id]] + col_w[layer[n.id]] / 2
        cy = row_y[(band_of[n.id], row[n.id])]
        _move(graph, n, cx - n.width / 2, cy - n.height / 2)
    for n in detached:
        cy = row_y[(band_of[n.id], row[n.id])]
        _move(graph, n, detached_x[n.id], cy - n.height / 2)
    for n in nodes:
        if n.attached_to:
            host = graph.nodes[n.attached_to]
            siblings = [m for m in nodes if m.attached_to == n.attached_to]
            k = siblings.index(n)
            n.x = host.x + host.width - 20 - n.width - k * (n.width + 8)
            n.y = host.y + host.height - n.height / 2
    if container is not None:
        box = graph.nodes[container]
        box.width = total_w + 2 * SUB_PAD
        box.height = total_h + 2 * SUB_PAD - ROW_GAP
        # inner coordinates are relative until the container itself is placed
        for n in nodes:
            _move(graph, n, n.x + SUB_PAD, n.y + SUB_PAD - ROW_GAP / 2)
    else:
        graph.lane_bounds = {}
        left = MARGIN + (POOL_LABEL + COL_GAP / 2 if lanes else 0.0)
        top = MARGIN
        for n in nodes:
            _move(graph, n, n.x + left, n.y + top)
        if lanes:
            width = total_w + COL_GAP
            for b, lane in enumerate(lanes):
                by, bh = band_y[b]
                graph.lane_bounds[lane] = (MARGIN + POOL_LABEL, top + by, width, bh)
            graph.pool_bounds = (MARGIN, top, width + POOL_LABEL, total_h)


def _move(graph: LayoutGraph, node: LayoutNode, x: float, y: float) -> None:
    dx, dy = x - node.x, y - node.y
    node.x, node.y = x, y
    if node.shape == "container":
        for inner in graph.nodes.values():
            if inner.container == node.id:
                _move(graph, inner, inner.x + dx, inner.y + dy)


def _route(graph: LayoutGraph, edge: LayoutEdge) -> None:
    s, t = graph.nodes[edge.source], graph.nodes[edge.target]
    tx, ty = t.x, t.y + t.height / 2
    if s.attached_to:
        sx, sy = s.x + s.width / 2, s.y + s.height
        below = sy + 20
        if abs(sy - ty) < 1 or ty > sy:
            edge.waypoints = [(sx, sy), (sx, ty), (tx, ty)]
        else:
            edge.waypoints = [(sx, sy), (sx, below), (tx - 20, below), (tx - 20, ty), (tx, ty)]
        return
    sx, sy = s.x + s.width, s.y + s.height / 2
    if tx >= sx:
        if abs(sy - ty) < 1:
            blocking = [
                n
                for n in graph.nodes.values()
                if n.id not in (s.id, t.id)
                and n.shape != "container"
                and n.x < tx
                and n.x + n.width > sx
                and n.y < sy < n.y + n.height
            ]
            if blocking:
                # A flow skipping over nodes on its row runs through the gap below the row.
                gap = max(m.y + m.height for m in [s, t, *blocking]) + ROW_GAP * 0.35
                sxb, txb = s.x + s.width / 2, t.x + t.width / 2
                edge.waypoints = [
                    (sxb, s.y + s.height),
                    (sxb, gap),
                    (txb, gap),
                    (txb, t.y + t.height),
                ]
            else:
                edge.waypoints = [(sx, sy), (tx, ty)]
        else:
            mid = (sx + tx) / 2
            edge.waypoints = [(sx, sy), (mid, sy), (mid, ty), (tx, ty)]
        return
    # A loop back: leave at the bottom, run under both shapes, come back in from the bottom.
    bottom = max(s.y + s.height, t.y + t.height) + ROW_GAP / 2
    sxb, txb = s.x + s.width / 2, t.x + t.width / 2
    edge.waypoints = [
        (sxb, s.y + s.height),
        (sxb, bottom),
        (txb, bottom),
        (txb, t.y + t.height),
    ]


def layout(graph: LayoutGraph) -> LayoutGraph:
    """Place every node and route every edge of ``graph`` (in place; also returned)."""
    for n in graph.nodes.values():
        if n.shape != "container":
            n.width, n.height = SIZES[n.shape]
    _place_container(graph, None, graph.lanes)
    for e in graph.edges:
        _route(graph, e)
    return graph
