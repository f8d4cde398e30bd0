"""Alignment searches: A* over the synchronous product and the bounded graph × trace DP.

See :mod:`.alignments` for the cost function and the strategy.
"""

from __future__ import annotations

import heapq
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from ._align_results import MOVE_COST, TAU_COST
from ._align_space import StateSpace
from .errors import MiningError


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
    relaxation of model moves (silent 1, visible 10000) from the markings that improved runs to
    a fixpoint, then log moves (+10000) and synchronous moves (0) lead to the next position.
    States whose cost plus a lower bound on the rest exceeds the pass's bound are dropped.
    """

    def __init__(self, space: StateSpace) -> None:
        self.space = space
        self.src, self.dst, self.lab, tr = space.arcs()
        self.tr = tr.tolist()
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
        self.g_w = wts[by_row].astype(np.int64)
        counts = np.bincount(rows, minlength=n)
        self.g_indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._mark = np.zeros(n, dtype=bool)
        # arcs into each marking (CSR by target), for walking back
        self.in_order = np.argsort(self.dst, kind="stable")
        self.in_ptr = np.concatenate(([0], np.cumsum(np.bincount(self.dst, minlength=n))))
        # per-marking lower bounds, converted once (not per trace)
        self.dvis = np.asarray(space.dvis, dtype=np.int64)
        self.tau_lb = TAU_COST * np.minimum(np.asarray(space.dtau, dtype=np.int64), 1 << 40)
        self._before: dict[int, npt.NDArray[np.int64]] = {}
        self._gap: dict[tuple[int, int], int] = {}
        self._targets: dict[int, npt.NDArray[np.int64]] = {}
        silent = self.lab < 0
        pair = np.unique(self.dst[silent] * n + self.src[silent])
        # reversed silent arcs as CSR (numpy only: importing scipy.sparse costs ~0.3 s, more
        # than a whole log's alignments on a small model)
        rev_src, rev_dst = pair // n, pair % n
        self._rev_ptr = np.concatenate(([0], np.cumsum(np.bincount(rev_src, minlength=n))))
        self._rev_idx = rev_dst[np.argsort(rev_src, kind="stable")]

    def before(self, a: int) -> npt.NDArray[np.int64]:
        """Per marking, the fewest silent steps to a marking that enables label ``a``.

        Within a cost bound below one deviation, every step is synchronous or silent, so this
        many silent steps come before the next event (labelled ``a``) can be consumed.
        """
        out = self._before.get(a)
        if out is None:
            sources = np.unique(self.src[self.by_label.get(a, self.src[:0])])
            out = np.full(self.n, 1 << 40, dtype=np.int64)
            if sources.size:
                d = self._silent_bfs(sources)
                ok = d >= 0
                out[ok] = TAU_COST * d[ok]
            out = np.maximum(out, self.tau_lb)
            self._before[a] = out
        return out

    def _silent_bfs(self, sources: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Per marking, the fewest silent steps to one of ``sources`` (-1: none), by a
        level-synchronous breadth-first search over the reversed silent arcs."""
        dist = np.full(self.n, -1, dtype=np.int64)
        dist[sources] = 0
        front = sources
        ptr, idx = self._rev_ptr, self._rev_idx
        k = 0
        while front.size:
            k += 1
            starts = ptr[front]
            cnt = ptr[front + 1] - starts
            total = int(cnt.sum())
            if total == 0:
                break
            arcs = np.repeat(starts - np.cumsum(cnt) + cnt, cnt) + np.arange(total)
            nb = idx[arcs]
            nb = nb[dist[nb] < 0]
            if nb.size == 0:
                break
            front = np.unique(nb)
            dist[front] = k
        return dist

    def _fitting_bound(self, trace: list[int]) -> int:
        """An estimate of the silent steps of an alignment without deviation: the fewest
        silent steps to the first event, between each two events (from wherever the first of
        them may lead) and after the last one to the end.

        It only picks the first cost bound (:meth:`align`): a pass is exact as soon as its
        bound reaches the optimum, so an estimate above it (``before`` also counts the silent
        steps to the end, which the sum may count twice) only makes the first pass looser.
        """
        total = int(self.before(trace[0])[self.space.initial])
        for a, b in pairwise(trace):
            total += self._between(a, b)
        return total + self._between(trace[-1], -1)

    def _between(self, a: int, b: int) -> int:
        key = (a, b)
        out = self._gap.get(key)
        if out is None:
            targets = self._targets.get(a)
            if targets is None:
                targets = np.unique(self.dst[self.by_label.get(a, self.dst[:0])])
                self._targets[a] = targets
            table = self.tau_lb if b < 0 else self.before(b)
            out = int(table[targets].min()) if targets.size else 1 << 40
            self._gap[key] = out
        return out

    def incoming(self, m: int) -> list[int]:
        """Indices of the arcs into marking ``m``."""
        return [int(e) for e in self.in_order[self.in_ptr[m] : self.in_ptr[m + 1]]]

    def _closure(
        self, d: npt.NDArray[np.int64], seeds: npt.NDArray[np.int64], cap: npt.NDArray[np.int64]
    ) -> None:
        """Relax model moves from ``seeds`` to a fixpoint, in place (frontier Bellman-Ford).

        Only values within ``cap`` (the cost bound minus each marking's lower bound on the cost
        still to come) are kept: a state above it cannot lie on an alignment within the bound.
        """
        indptr, dst, w = self.g_indptr, self.g_indices, self.g_w
        front = seeds
        while front.size:
            starts = indptr[front]
            cnt = indptr[front + 1] - starts
            total = int(cnt.sum())
            if total == 0:
                return
            arcs = np.repeat(starts - np.cumsum(cnt) + cnt, cnt) + np.arange(total)
            cand = np.repeat(d[front], cnt) + w[arcs]
            tgt = dst[arcs]
            ok = (cand < d[tgt]) & (cand <= cap[tgt])
            if not ok.any():
                return
            tgt, cand = tgt[ok], cand[ok]
            np.minimum.at(d, tgt, cand)
            # distinct targets via a scratch mask (cheaper than np.unique's sort or hash)
            mark = self._mark
            mark[tgt] = True
            front = np.flatnonzero(mark)
            mark[front] = False

    def align(self, trace: list[int]) -> tuple[int, list[tuple[int, int, int]]] | None:
        """Optimal alignment, or ``None`` when the model has no run to its final marking.

        The programme first assumes a cost bound of no deviation, then of 1, 3, 7, …
        deviations, and finally none: states that cannot finish within the bound are dropped,
        which keeps the passes small for traces that fit (nearly) and leaves the optimum exact.
        """
        space = self.space
        n = len(trace)
        dvis = self.dvis
        big = np.int64(1 << 50)
        init = space.initial
        lb = MOVE_COST * max(int(dvis[init]) - n, 0) + int(self.tau_lb[init])
        devs = max(lb // MOVE_COST, 0)
        if devs == 0 and n:
            lb = max(lb, self._fitting_bound(trace))
        # below one deviation, first a few silent steps above the lower bound, then 4x as
        # many, …: a tight bound prunes nearly every silent detour (most traces fit, and on
        # inductive-miner nets a loose bound lets the closure flood the silent steps)
        slack = 16 * TAU_COST
        while True:
            bound = MOVE_COST * (devs + 1) - 1 if devs <= n + int(dvis[space.initial]) else big
            if devs == 0 and lb + slack < bound:
                bound = lb + slack
            dist = self._pass(trace, int(bound))
            cost = int(dist[n, space.final])
            if cost <= bound or bound >= big:
                break
            if devs == 0 and bound < MOVE_COST - 1:
                slack *= 4
                continue
            devs = 2 * devs + 1
        return self._walk_back(trace, dist, cost)

    def _cap(self, bound: int, trace: list[int], pos: int) -> npt.NDArray[np.int64]:
        """Per marking, the highest cost at trace position ``pos`` still within ``bound``:
        ``bound`` minus a lower bound on the cost to come (visible steps the model still has to
        make beyond the remaining events, the fewest silent steps to the end and, below one
        deviation, to the next event)."""
        left = len(trace) - pos
        lower = MOVE_COST * np.maximum(self.dvis - left, 0) + self.tau_lb
        if bound < MOVE_COST and pos < len(trace):
            np.maximum(lower, self.before(trace[pos]), out=lower)
        cap: npt.NDArray[np.int64] = bound - lower
        return cap

    def _pass(self, trace: list[int], bound: int) -> npt.NDArray[np.int64]:
        space = self.space
        n_m = len(space.markings)
        n = len(trace)
        big = np.int64(1 << 50)
        dist = np.full((n + 1, n_m), big, dtype=np.int64)
        dist[0, space.initial] = 0
        self._closure(dist[0], np.asarray([space.initial]), self._cap(bound, trace, 0))
        mark = self._mark
        for i, a in enumerate(trace):
            d, nxt = dist[i], dist[i + 1]
            cap = self._cap(bound, trace, i + 1)
            live = np.flatnonzero(d < big)
            log = d[live] + MOVE_COST
            keep = log <= cap[live]
            nxt[live[keep]] = log[keep]
            sel = self.by_label.get(a)
            seeds = live[:0]
            if sel is not None and sel.size:
                src, dst = self.src[sel], self.dst[sel]
                val = d[src]
                ok = (val < nxt[dst]) & (val <= cap[dst])
                if ok.any():
                    hit = dst[ok]
                    np.minimum.at(nxt, hit, val[ok])
                    mark[hit] = True
                    seeds = np.flatnonzero(mark)
                    mark[seeds] = False
            # the log-move values are already closed under model moves (d was); only markings
            # improved by a synchronous move can improve their successors further
            self._closure(nxt, seeds, cap)
        return dist

    def _walk_back(
        self, trace: list[int], dist: npt.NDArray[np.int64], cost: int
    ) -> tuple[int, list[tuple[int, int, int]]] | None:
        space = self.space
        big = np.int64(1 << 50)
        cost = int(dist[len(trace), space.final])
        if cost >= big:
            return None
        # walk back along tight edges
        path: list[tuple[int, int, int]] = []
        i, m, c = len(trace), space.final, cost
        src, lab, w = self.src, self.lab, self.w
        while i > 0 or m != space.initial:
            row = dist[i]
            step = None
            # the arcs into m, vectorised (markings of silent-heavy nets have many)
            arcs = self.in_order[self.in_ptr[m] : self.in_ptr[m + 1]]
            if i > 0:
                sel = arcs[lab[arcs] == trace[i - 1]]
                hit = sel[dist[i - 1][src[sel]] == c]
                if hit.size:
                    e = int(hit[0])
                    step = (i - 1, int(src[e]), c, (trace[i - 1], self.tr[e], 0))
            if step is None:
                hit = arcs[row[src[arcs]] + w[arcs] == c]
                if hit.size:
                    e = int(hit[0])
                    step = (i, int(src[e]), c - int(w[e]), (-1, self.tr[e], 0))
            if step is None and i > 0 and dist[i - 1, m] + MOVE_COST == c:
                step = (i - 1, m, c - MOVE_COST, (trace[i - 1], -1, 0))
            if step is None:  # pragma: no cover - the distances are consistent
                raise MiningError("alignment back-tracking failed", code="mining.alignment.dp")
            i, m, c, move = step
            path.append(move)
        path.reverse()
        return cost, path
