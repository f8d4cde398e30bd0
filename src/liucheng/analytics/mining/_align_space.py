"""The cached, lazily expanded reachability graph that alignments search.

See :mod:`.alignments`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from .petri import Marking, PetriNet

if TYPE_CHECKING:
    import numpy.typing as npt

# below this many markings the heuristic tables are plain breadth-first searches: cheaper
# than scipy's csgraph (and than importing scipy.sparse, ~0.3 s) on the small graphs of most
# discovered models
_PY_TABLES = 3_000

__all__ = ["StateSpace"]


class _NotSafe(Exception):
    """Firing would put a second token into a place."""


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
        # safe nets (unit arcs, one token per place: inductive-miner nets are) encode a marking
        # as a bit set in one int, so that enabling and firing are two bit operations
        self.bits = all(
            w == 1 for t in net.transitions for _, w in (*t.inputs, *t.outputs)
        ) and all(n == 1 for n in (*net.initial.values(), *net.final.values()))
        self.pre = [sum(1 << p for p, _ in t.inputs) for t in net.transitions]
        self.post = [sum(1 << p for p, _ in t.outputs) for t in net.transitions]
        self._reset()
        self.max_states = max_states
        self.dvis: list[int] | None = None
        self.dtau: list[int] | None = None
        self.reach: list[int] | None = None
        self._arcs: (
            tuple[
                npt.NDArray[np.int64],
                npt.NDArray[np.int64],
                npt.NDArray[np.int64],
                npt.NDArray[np.int64],
            ]
            | None
        ) = None
        try:
            self._complete()
        except _NotSafe:  # a place would hold two tokens: count tokens per place instead
            self.bits = False
            self._reset()
            self._complete()

    def _reset(self) -> None:
        self.ids: dict[Marking | int, int] = {}
        self.markings: list[Marking | int] = []
        self.succ: list[list[tuple[int, int, int]] | None] = []
        net = self.net
        if self.bits:
            self.initial = self.intern(sum(1 << p for p in net.initial))
            self.final = self.intern(sum(1 << p for p in net.final))
        else:
            self.initial = self.intern(net.marking(net.initial))
            self.final = self.intern(net.marking(net.final))

    def intern(self, m: Marking | int) -> int:
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
            if isinstance(m, int):
                s = self._bit_successors(m)
                self.succ[mid] = s
                return s
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

    def _bit_successors(self, m: int) -> list[tuple[int, int, int]]:
        cands: list[int] = []
        bits = m
        while bits:
            low = bits & -bits
            cands.extend(self.consumers[low.bit_length() - 1])
            bits ^= low
        cands.extend(self.no_input)
        cands.sort()
        out: list[tuple[int, int, int]] = []
        pre, post, t_code, intern = self.pre, self.post, self.t_code, self.intern
        for t in cands:
            pr = pre[t]
            if m & pr == pr:
                rest = m ^ pr
                if rest & post[t]:
                    raise _NotSafe
                out.append((intern(rest | post[t]), t_code[t], t))
        return out

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
        self._tables()

    def arcs(
        self,
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
    ]:
        """All arcs of the (complete) graph: source, target, label code (-1 silent), transition."""
        if self._arcs is None:
            succ = [s or [] for s in self.succ]
            counts = np.fromiter(map(len, succ), dtype=np.int64, count=len(succ))
            flat = np.asarray([x for s in succ for x in s], dtype=np.int64).reshape(-1, 3)
            src = np.repeat(np.arange(len(succ), dtype=np.int64), counts)
            self._arcs = (src, flat[:, 0].copy(), flat[:, 1].copy(), flat[:, 2].copy())
        return self._arcs

    def _tables(self) -> None:
        """Heuristic tables: per marking, the fewest visible steps (``dvis``) and the fewest
        silent steps (``dtau``) to the final marking along any run, and the labels that can
        still fire (``reach``, bit sets)."""
        if len(self.markings) <= _PY_TABLES:
            self._py_tables()
        else:
            self._sparse_tables()

    def _py_tables(self) -> None:
        """The tables by 0-1 breadth-first searches over the reversed graph (pure Python)."""
        n = len(self.markings)
        big = 1 << 30
        preds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        reach = [0] * n
        for m, s in enumerate(self.succ):
            for m2, lab, _ in s or ():
                preds[m2].append((m, lab))
                if lab >= 0:
                    reach[m] |= 1 << lab

        def fewest(visible: bool) -> list[int]:
            dist = [big] * n
            dist[self.final] = 0
            queue = deque([self.final])
            while queue:
                x = queue.popleft()
                dx = dist[x]
                for p, lab in preds[x]:
                    w = 1 if (lab >= 0) == visible else 0
                    if dx + w < dist[p]:
                        dist[p] = dx + w
                        if w:
                            queue.append(p)
                        else:
                            queue.appendleft(p)
            return dist

        self.dvis = fewest(True)
        self.dtau = fewest(False)
        # a marking can fire every label its successors can: propagate backwards to a fixpoint
        work = deque(range(n))
        while work:
            x = work.popleft()
            rx = reach[x]
            for p, _ in preds[x]:
                if rx & ~reach[p]:
                    reach[p] |= rx
                    work.append(p)
        self.reach = reach

    def _sparse_tables(self) -> None:
        """The tables by shortest paths over the reversed graph (scipy, vectorised)."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        n = len(self.markings)
        src, dst, lab, _ = self.arcs()
        # reversed arcs, one per marking pair; the counted arcs weigh 1, the others a tiny
        # epsilon (csgraph reads 0 as "no arc") whose sum over a simple path stays below 1
        pair = dst * n + src
        order = np.argsort(pair, kind="stable")
        first = np.ones(order.size, dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        group = np.cumsum(first) - 1
        rows, cols, lab_o = dst[order][first], src[order][first], lab[order]
        eps = 1.0 / (n + 1)
        big = 1 << 30

        def fewest(counted: npt.NDArray[np.bool_]) -> list[int]:
            w = np.full(rows.size, 2.0)
            np.minimum.at(w, group, np.where(counted, 1.0, eps))
            graph = csr_matrix((w, (rows, cols)), shape=(n, n))
            d = dijkstra(graph, directed=True, indices=self.final)
            ok = np.isfinite(d)
            out = np.full(n, big, dtype=np.int64)
            out[ok] = np.floor(d[ok] + 1e-9).astype(np.int64)
            return [int(x) for x in out.tolist()]

        self.dvis = fewest(lab_o >= 0)
        self.dtau = fewest(lab_o < 0)
        # labels that can still fire from each marking (bit sets): the markings that reach a
        # source of an arc with that label, one multi-source search per label
        reach = [0] * n
        if rows.size:
            graph = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
            for c in range(len(self.labels)):
                sources = np.unique(src[lab == c])
                if sources.size == 0:
                    continue
                d = dijkstra(graph, directed=True, indices=sources, min_only=True)
                bit = 1 << c
                for i in np.flatnonzero(np.isfinite(d)).tolist():
                    reach[i] |= bit
        self.reach = reach
