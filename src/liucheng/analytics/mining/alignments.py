"""Optimal alignments of traces with a Petri net (A* over the synchronous product).

Standard cost function, as pm4py: a move on log or a move on model of a visible transition costs
10000, a move of a silent transition costs 1, a synchronous move costs 0. The trace fitness is
``1 - (cost // 10000) / ((10000 * |trace| + bwc) // 10000)`` where ``bwc`` is the cost of the
cheapest run of the model alone; the log fitness is ``1 - Σ cost / Σ (10000 * |trace| + bwc)``.

The model's reachability graph is expanded once and cached (markings are integer ids) and each
distinct variant is aligned once. When the graph is small (≤ 20,000 markings) the alignment is
an exact, vectorised dynamic programme over graph × trace position. Otherwise A* runs over the
synchronous product with a consistent heuristic from the graph (visible steps the model still
has to make beyond the remaining trace, remaining events the model can never fire again, and the
fewest silent steps to the end); when a trace exceeds its exact-search budget, the search prices
silent steps at 0: deviations (hence trace fitness) stay optimal, the raw cost may then count a
few more silent steps than the minimum, and the alignment is flagged ``exact=False``.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ._log import LogInput, VariantLog, variant_log
from .errors import MiningError
from .petri import Marking, PetriNet

__all__ = ["AlignmentResult", "TraceAlignment", "align", "align_variants"]

MOVE_COST = 10000
TAU_COST = 1


@dataclass(frozen=True, slots=True)
class TraceAlignment:
    """Optimal alignment of one trace (variant).

    Attributes:
        cost: Raw cost (10000 per deviation, 1 per silent step).
        bwc: Cost of aligning the trace against nothing but the cheapest model run
            (``10000 * len(trace) + cost of the cheapest model run``).
        fitness: Trace fitness.
        moves: ``(log, model)`` pairs: ``(a, a)`` synchronous, ``(a, None)`` move on log,
            ``(None, a)`` move on model, ``(None, None)`` silent step (``">>"`` never used).
        states: Search states visited.
        exact: False when the search fell back to pricing silent steps at 0 (the deviations,
            hence the trace fitness, are still optimal; ``cost`` may count extra silent steps).
    """

    cost: int
    bwc: int
    fitness: float
    moves: tuple[tuple[str | None, str | None], ...]
    states: int
    exact: bool = True

    @property
    def deviations(self) -> int:
        """Number of log and model moves."""
        return self.cost // MOVE_COST


@dataclass(frozen=True, slots=True)
class AlignmentResult:
    """Alignments of a log.

    Attributes:
        log_fitness: ``1 - Σ cost / Σ bwc`` over cases (pm4py's ``log_fitness``).
        average_trace_fitness: Mean trace fitness over cases.
        percentage_fit_traces: Share of cases with fitness 1, in percent.
        variants: Alignment per variant (``None`` when the model has no run for it).
        variant_log: The aligned variants with counts and case ids.
    """

    log_fitness: float
    average_trace_fitness: float
    percentage_fit_traces: float
    variants: tuple[TraceAlignment | None, ...]
    variant_log: VariantLog

    def cases(self) -> pl.DataFrame:
        """One row per case: ``case_id``, ``fitness``, ``cost`` (deviations), moves on log/model."""
        ids: list[str] = []
        fit: list[float | None] = []
        dev: list[int | None] = []
        log_moves: list[int | None] = []
        model_moves: list[int | None] = []
        for ali, cases in zip(self.variants, self.variant_log.cases, strict=False):
            lm = (
                None if ali is None else sum(1 for a, b in ali.moves if a is not None and b is None)
            )
            mm = (
                None if ali is None else sum(1 for a, b in ali.moves if a is None and b is not None)
            )
            for c in cases:
                ids.append(c)
                fit.append(None if ali is None else ali.fitness)
                dev.append(None if ali is None else ali.deviations)
                log_moves.append(lm)
                model_moves.append(mm)
        return pl.DataFrame(
            {
                "case_id": ids,
                "fitness": fit,
                "deviations": dev,
                "log_moves": log_moves,
                "model_moves": model_moves,
            },
            schema={
                "case_id": pl.Utf8,
                "fitness": pl.Float64,
                "deviations": pl.Int64,
                "log_moves": pl.Int64,
                "model_moves": pl.Int64,
            },
        )

    def deviations(self) -> pl.DataFrame:
        """Per activity: synchronous moves, moves on log and moves on model (weighted by cases)."""
        acc: dict[str, list[int]] = {}
        for ali, n in zip(self.variants, self.variant_log.counts.tolist(), strict=True):
            if ali is None:
                continue
            for a, b in ali.moves:
                if a is not None and b is not None:
                    acc.setdefault(a, [0, 0, 0])[0] += n
                elif a is not None:
                    acc.setdefault(a, [0, 0, 0])[1] += n
                elif b is not None:
                    acc.setdefault(b, [0, 0, 0])[2] += n
        names = sorted(acc)
        return pl.DataFrame(
            {
                "activity": names,
                "sync_moves": [acc[a][0] for a in names],
                "log_moves": [acc[a][1] for a in names],
                "model_moves": [acc[a][2] for a in names],
            },
            schema={
                "activity": pl.Utf8,
                "sync_moves": pl.Int64,
                "log_moves": pl.Int64,
                "model_moves": pl.Int64,
            },
        )


class StateSpace:
    """Lazily expanded, cached reachability graph of a net with integer marking ids."""

    def __init__(self, net: PetriNet, max_states: int = 100_000) -> None:
        self.net = net
        self.labels = sorted(net.labels)
        self.code = {a: i for i, a in enumerate(self.labels)}
        self.t_code = [-1 if t.label is None else self.code[t.label] for t in net.transitions]
        self.consumers: list[list[int]] = [[] for _ in net.places]
        self.no_input: list[int] = []
        for t, tr in enumerate(net.transitions):
            if tr.inputs:
                self.consumers[tr.inputs[0][0]].append(t)
            else:
                self.no_input.append(t)
        self.ids: dict[Marking, int] = {}
        self.markings: list[Marking] = []
        self.succ: list[list[tuple[int, int, int]] | None] = []
        self.initial = self.intern(net.marking(net.initial))
        self.final = self.intern(net.marking(net.final))
        self.max_states = max_states
        self.dvis: list[int] | None = None
        self.dtau: list[int] | None = None
        self.reach: list[int] | None = None
        self._complete()

    def intern(self, m: Marking) -> int:
        i = self.ids.get(m)
        if i is None:
            i = len(self.markings)
            self.ids[m] = i
            self.markings.append(m)
            self.succ.append(None)
        return i

    def successors(self, mid: int) -> list[tuple[int, int, int]]:
        """``(target id, label code or -1, transition index)`` for each enabled transition."""
        s = self.succ[mid]
        if s is None:
            m = self.markings[mid]
            net = self.net
            s = []
            # a transition can only be enabled if its first input place is marked
            cands = [t for p, n in enumerate(m) if n for t in self.consumers[p]]
            cands.extend(self.no_input)
            cands.sort()
            trans = net.transitions
            for t in cands:
                if all(m[p] >= w for p, w in trans[t].inputs):
                    s.append((self.intern(net.fire(m, t)), self.t_code[t], t))
            self.succ[mid] = s
        return s

    def _complete(self) -> None:
        """Expand the whole graph if it is small enough and derive the heuristic tables."""
        queue = deque([self.initial])
        seen = {self.initial}
        while queue:
            i = queue.popleft()
            for j, _, _ in self.successors(i):
                if j not in seen:
                    if len(self.markings) > self.max_states:
                        return
                    seen.add(j)
                    queue.append(j)
        n = len(self.markings)
        pred: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for i in range(n):
            for j, c, _ in self.successors(i):
                pred[j].append((i, c))
        # fewest visible steps to the final marking (0-1 BFS backwards)
        big = 1 << 30
        dist = [big] * n
        dist[self.final] = 0
        dq: deque[int] = deque([self.final])
        while dq:
            j = dq.popleft()
            for i, c in pred[j]:
                nd = dist[j] + (1 if c >= 0 else 0)
                if nd < dist[i]:
                    dist[i] = nd
                    if c >= 0:
                        dq.append(i)
                    else:
                        dq.appendleft(i)
        # fewest silent steps to the final marking on any path (0-1 BFS backwards)
        dtau = [big] * n
        dtau[self.final] = 0
        dq = deque([self.final])
        while dq:
            j = dq.popleft()
            for i, c in pred[j]:
                nd = dtau[j] + (1 if c < 0 else 0)
                if nd < dtau[i]:
                    dtau[i] = nd
                    if c < 0:
                        dq.append(i)
                    else:
                        dq.appendleft(i)
        self.dtau = dtau
        # labels that can still fire from each marking (bit sets), by fixpoint
        reach = [0] * n
        changed = True
        while changed:
            changed = False
            for i in range(n - 1, -1, -1):
                r = reach[i]
                for j, c, _ in self.succ[i] or ():
                    r |= reach[j] | ((1 << c) if c >= 0 else 0)
                if r != reach[i]:
                    reach[i] = r
                    changed = True
        self.dvis = dist
        self.reach = reach


class _Budget(Exception):
    """The exact search hit its state budget."""


def _search(
    space: StateSpace, trace: list[int], max_visits: int, tau_cost: int = TAU_COST
) -> tuple[int, list[tuple[int, int, int]], int] | None:
    """A* from (initial, 0) to (final, len(trace)).

    Returns the cost (silent steps priced at ``tau_cost``), the path as ``(log label or -1,
    transition or -1, 0)`` and the number of expanded states; raises :class:`_Budget` past
    ``max_visits`` expansions.
    """
    n = len(trace)
    width = n + 1
    dvis, reach, dtau = space.dvis, space.reach, space.dtau
    suffix: list[list[tuple[int, int]]] = [[] for _ in range(width)]
    counts: dict[int, int] = {}
    for i in range(n - 1, -1, -1):
        counts[trace[i]] = counts.get(trace[i], 0) + 1
        suffix[i] = list(counts.items())

    def h(m: int, i: int) -> int:
        if dvis is None or reach is None or dtau is None:
            return 0
        d = dvis[m]
        if d >= 1 << 30:
            return 1 << 40
        r = reach[m]
        u = 0
        for lab, c in suffix[i]:
            if not (r >> lab) & 1:
                u += c
        # deviations and silent steps are both unavoidable; 10000 > any silent count keeps
        # the sum admissible and consistent
        return MOVE_COST * max(d - (n - i), u, 0) + tau_cost * dtau[m]

    start = space.initial * width
    goal = space.final * width + n
    g: dict[int, int] = {start: 0}
    parent: dict[int, tuple[int, int, int]] = {}
    tick = 0
    heap: list[tuple[int, int, int, int, int]] = [(h(space.initial, 0), 0, 0, 0, start)]
    closed: set[int] = set()
    visits = 0
    while heap:
        _, _, neg_cost, _, key = heapq.heappop(heap)
        cost = -neg_cost
        if key in closed:
            continue
        if key == goal:
            path: list[tuple[int, int, int]] = []
            while key != start:
                prev, log_lab, t = parent[key]
                path.append((log_lab, t, 0))
                key = prev
            path.reverse()
            return cost, path, visits
        closed.add(key)
        visits += 1
        if visits > max_visits:
            raise _Budget
        m, i = divmod(key, width)
        base = m * width
        for m2, c, t in space.successors(m):
            if c < 0:
                step, k2, i2, lab = tau_cost, m2 * width + i, i, -1
            elif i < n and trace[i] == c:
                step, k2, i2, lab = 0, m2 * width + i + 1, i + 1, c
                if k2 not in closed:
                    c2 = cost
                    if c2 < g.get(k2, 1 << 62):
                        g[k2] = c2
                        parent[k2] = (key, lab, t)
                        tick -= 1
                        heapq.heappush(heap, (c2 + h(m2, i2), -i2, -c2, tick, k2))
                step, k2, i2, lab = MOVE_COST, m2 * width + i, i, -1
            else:
                step, k2, i2, lab = MOVE_COST, m2 * width + i, i, -1
            if k2 in closed:
                continue
            c2 = cost + step
            if c2 < g.get(k2, 1 << 62):
                g[k2] = c2
                parent[k2] = (key, lab, t)
                tick -= 1
                heapq.heappush(heap, (c2 + h(m2, i2), -i2, -c2, tick, k2))
        if i < n:
            k2 = base + i + 1
            if k2 not in closed:
                c2 = cost + MOVE_COST
                if c2 < g.get(k2, 1 << 62):
                    g[k2] = c2
                    parent[k2] = (key, trace[i], -1)
                    tick -= 1
                    heapq.heappush(heap, (c2 + h(m, i + 1), -(i + 1), -c2, tick, k2))
    return None


class _Dp:
    """Exact alignments by dynamic programming over (reachability graph × trace position).

    Used when the whole reachability graph is known and small: per position, a vectorised
    min-plus relaxation over all model moves (silent 1, visible 10000) runs to a fixpoint, then
    log moves (+10000) and synchronous moves (0) lead to the next position.
    """

    def __init__(self, space: StateSpace) -> None:
        self.space = space
        src: list[int] = []
        dst: list[int] = []
        lab: list[int] = []
        tr: list[int] = []
        for i in range(len(space.markings)):
            for j, c, t in space.successors(i):
                src.append(i)
                dst.append(j)
                lab.append(c)
                tr.append(t)
        self.src = np.asarray(src, dtype=np.int64)
        self.dst = np.asarray(dst, dtype=np.int64)
        self.lab = np.asarray(lab, dtype=np.int64)
        self.tr = tr
        self.w = np.where(self.lab < 0, TAU_COST, MOVE_COST).astype(np.int64)
        self.by_label = {c: np.flatnonzero(self.lab == c) for c in range(len(space.labels))}
        # graph of model moves as CSR (one arc per marking pair, cheapest weight) plus an
        # empty row for the virtual source used by the closure
        self.n = n = len(space.markings)
        pair = self.src * n + self.dst
        order = np.lexsort((self.w, pair))
        first = np.ones(order.size, dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        keep = order[first]
        rows, cols, wts = self.src[keep], self.dst[keep], self.w[keep]
        by_row = np.argsort(rows, kind="stable")
        self.g_indices = cols[by_row]
        self.g_data = wts[by_row].astype(np.float64)
        counts = np.bincount(rows, minlength=n)
        self.g_indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.incoming: list[list[int]] = [[] for _ in space.markings]
        for e, j in enumerate(dst):
            self.incoming[j].append(e)

    def _closure(self, d: npt.NDArray[np.int64], changed: npt.NDArray[np.bool_]) -> None:
        """Cheapest model moves from every improved marking (Dijkstra from a virtual source)."""
        seeds = np.flatnonzero(changed)
        if seeds.size == 0:
            return
        n = self.n
        # virtual source n -> seed m with weight d[m] + 1 (csgraph ignores zero weights)
        data = np.concatenate((self.g_data, (d[seeds] + 1).astype(np.float64)))
        indices = np.concatenate((self.g_indices, seeds))
        indptr = np.concatenate((self.g_indptr, [self.g_indptr[-1] + seeds.size]))
        graph = csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
        best = dijkstra(graph, directed=True, indices=n)[:n]
        reach = np.isfinite(best)
        cand = np.where(reach, best, 0).astype(np.int64) - 1
        np.minimum(d, np.where(reach, cand, d), out=d)

    def align(self, trace: list[int]) -> tuple[int, list[tuple[int, int, int]]] | None:
        space = self.space
        n_m = len(space.markings)
        big = np.int64(1 << 50)
        dist = np.full((len(trace) + 1, n_m), big, dtype=np.int64)
        dist[0, space.initial] = 0
        self._closure(dist[0], dist[0] < big)
        for i, a in enumerate(trace):
            d, nxt = dist[i], dist[i + 1]
            np.minimum(nxt, d + MOVE_COST, out=nxt)
            sel = self.by_label.get(a)
            if sel is not None and sel.size:
                np.minimum.at(nxt, self.dst[sel], d[self.src[sel]])
            # only markings whose cost differs from "previous cost + log move" can improve
            # their successors beyond what the previous position's fixpoint already gave
            self._closure(nxt, nxt < d + MOVE_COST)
        cost = int(dist[len(trace), space.final])
        if cost >= big:
            return None
        # walk back along tight edges
        path: list[tuple[int, int, int]] = []
        i, m, c = len(trace), space.final, cost
        while i > 0 or m != space.initial:
            row = dist[i]
            step = None
            if i > 0:
                prev = dist[i - 1]
                for e in self.incoming[m]:
                    if self.lab[e] == trace[i - 1] and prev[self.src[e]] == c:
                        step = (i - 1, int(self.src[e]), c, (trace[i - 1], self.tr[e], 0))
                        break
            if step is None:
                for e in self.incoming[m]:
                    s0 = int(self.src[e])
                    if row[s0] + self.w[e] == c:
                        step = (i, s0, c - int(self.w[e]), (-1, self.tr[e], 0))
                        break
            if step is None and i > 0 and dist[i - 1, m] + MOVE_COST == c:
                step = (i - 1, m, c - MOVE_COST, (trace[i - 1], -1, 0))
            if step is None:  # pragma: no cover - the distances are consistent
                raise MiningError("alignment back-tracking failed", code="mining.alignment.dp")
            i, m, c, move = step
            path.append(move)
        path.reverse()
        return cost, path


def _align_one(
    space: StateSpace, trace: list[int], max_visits: int, exact_visits: int
) -> tuple[int, list[tuple[int, int, int]], int, bool] | None:
    """Exact search first; past ``exact_visits`` states, price silent steps at 0 instead.

    The fallback still finds the fewest deviations (so the trace fitness is exact); its raw
    cost counts the silent steps of the path found, which may exceed the minimum.
    """
    try:
        found = _search(space, trace, exact_visits)
    except _Budget:
        found = None
        exact = False
    else:
        if found is None:
            return None
        return (*found, True)
    try:
        found = _search(space, trace, max_visits, tau_cost=0)
    except _Budget:
        raise MiningError(
            f"alignment search exceeded {max_visits} states",
            code="mining.alignment.too_large",
            hint="the model may be unbounded; raise max_visits or simplify the model",
        ) from None
    if found is None:
        return None
    cost, path, visits = found
    taus = sum(1 for _, t, _ in path if t >= 0 and space.t_code[t] < 0)
    return cost + TAU_COST * taus, path, visits, exact


def align_variants(
    vlog: VariantLog,
    net: PetriNet,
    *,
    max_visits: int = 2_000_000,
    exact_visits: int = 3_000,
    dp_states: int = 20_000,
    space: StateSpace | None = None,
) -> AlignmentResult:
    """Optimal alignments of an already compressed log (see :func:`align`)."""
    space = space or StateSpace(net)
    dp = _Dp(space) if space.dvis is not None and len(space.markings) <= dp_states else None
    empty = _align_one(space, [], max_visits, max_visits)
    if empty is None:
        raise MiningError(
            "the model has no run from its initial to its final marking",
            code="mining.alignment.no_run",
            hint="check the model's soundness (check_soundness)",
        )
    model_cost = empty[0]
    results: list[TraceAlignment | None] = []
    for v in vlog.variants:
        names = [vlog.activities[a] for a in v]
        coded = [space.code[a] for a in names if a in space.code]
        if dp is not None and len(space.markings) * (len(coded) + 1) <= 20_000_000:
            exact_dp = dp.align(coded)
            found = None if exact_dp is None else (*exact_dp, 0, True)
        else:
            found = _align_one(space, coded, max_visits, exact_visits)
        if found is None:
            results.append(None)
            continue
        cost, path, visits, exact = found
        outside = len(names) - len(coded)
        cost += MOVE_COST * outside
        moves: list[tuple[str | None, str | None]] = []
        for log_lab, t, taus in path:
            moves.extend([(None, None)] * taus)
            if t == -2:
                continue  # silent steps to the final marking
            model = None if t < 0 else space.net.transitions[t].label
            log = space.labels[log_lab] if log_lab >= 0 else None
            if t < 0:
                moves.append((log, None))
            elif log is not None:
                moves.append((log, model))
            else:
                moves.append((None, model))
        moves.extend((a, None) for a in names if a not in space.code)
        bwc = MOVE_COST * len(names) + model_cost
        den = bwc // MOVE_COST
        fitness = 1.0 - (cost // MOVE_COST) / den if den > 0 else 0.0
        results.append(TraceAlignment(cost, bwc, fitness, tuple(moves), visits, exact))
    counts = vlog.counts.tolist()
    total = sum(counts)
    done = [(r, c) for r, c in zip(results, counts, strict=True) if r is not None]
    cases = sum(c for _, c in done)
    sum_cost = sum(r.cost * c for r, c in done)
    sum_bwc = sum(r.bwc * c for r, c in done)
    log_fitness = 1.0 - sum_cost / sum_bwc if sum_bwc > 0 else 0.0
    avg = sum(r.fitness * c for r, c in done) / cases if cases else 0.0
    perc = 100.0 * sum(c for r, c in done if r.fitness == 1.0) / cases if cases else 0.0
    del total
    return AlignmentResult(log_fitness, avg, perc, tuple(results), vlog)


def align(
    log: LogInput | VariantLog,
    net: PetriNet,
    *,
    lifecycle: str | None = "complete",
    max_visits: int = 2_000_000,
) -> AlignmentResult:
    """Compute optimal alignments of every case of a log with a Petri net.

    Args:
        log: Event log frame (or a :class:`VariantLog`).
        net: Workflow net with initial and final marking.
        lifecycle: Lifecycle transition of the events to align (``None``: all).
        max_visits: Search budget per trace; exceeding it raises :class:`MiningError`.

    Returns:
        Fitness per variant/case and for the log, and deviations (moves) per case and activity.
    """
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    return align_variants(vlog, net, max_visits=max_visits)
