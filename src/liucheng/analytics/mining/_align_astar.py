"""A* over the synchronous product with the marking-equation heuristic (see :mod:`.alignments`).

The net is compiled once (:class:`CompiledNet`): markings of safe nets are bit sets in one int
(enabling and firing are two bit operations), other nets use token-count tuples; the enabled
transitions of a marking are cached. A search state is (marking, trace position).

Heuristic (:mod:`._align_lp`): each state carries the dual bound inherited from the last LP on
its path (admissible and consistent whatever the state) and, when the path only fired columns
of that LP's primal solution, the primal itself (then the bound is the LP value at this state,
pm4py's trick). A popped state without a primal gets its own LP; if that raises its bound, it
goes back to the queue.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import numpy.typing as npt

from ._align_lp import EPS, LpSolution, MarkingLp
from ._align_results import MOVE_COST, TAU_COST
from .errors import MiningError
from .petri import Marking, PetriNet

__all__ = ["Budget", "CompiledNet", "LpAligner", "NotSafe", "astar"]

Move = tuple[int, int]
"""``(log label or -1, transition or -1)``: sync ``(a, t)``, log ``(a, -1)``, model ``(-1, t)``."""


class Budget(Exception):
    """The search hit its state budget."""


class NotSafe(Exception):
    """Firing would put a second token into a place."""


class CompiledNet:
    """A net as integer arrays plus a cache of enabled transitions per marking."""

    def __init__(self, net: PetriNet, tau_cost: int = TAU_COST) -> None:
        self.net = net
        self.labels = sorted(net.labels)
        self.code = {a: i for i, a in enumerate(self.labels)}
        n_p, n_t = len(net.places), len(net.transitions)
        self.t_label = [-1 if t.label is None else self.code[t.label] for t in net.transitions]
        inc = np.zeros((n_p, n_t), dtype=np.int64)
        for t, tr in enumerate(net.transitions):
            for p, w in tr.inputs:
                inc[p, t] -= w
            for p, w in tr.outputs:
                inc[p, t] += w
        self.n_p = n_p
        self.bits = all(
            w == 1 for t in net.transitions for _, w in (*t.inputs, *t.outputs)
        ) and all(n == 1 for n in (*net.initial.values(), *net.final.values()))
        self.pre = [sum(1 << p for p, _ in t.inputs) for t in net.transitions]
        self.post = [sum(1 << p for p, _ in t.outputs) for t in net.transitions]
        self._pre_w = [list(t.inputs) for t in net.transitions]
        self._delta = [[(p, int(inc[p, t])) for p in range(n_p) if inc[p, t]] for t in range(n_t)]
        # candidates per marked place (a transition is only enabled if its first input is)
        self.consumers: list[list[int]] = [[] for _ in range(n_p)]
        self.no_input: list[int] = []
        for t, tr in enumerate(net.transitions):
            if tr.inputs:
                self.consumers[min(p for p, _ in tr.inputs)].append(t)
            else:
                self.no_input.append(t)
        final = np.zeros(n_p, dtype=np.int64)
        for p, k in net.final.items():
            final[p] += k
        self.lp = MarkingLp(inc, self.t_label, len(self.labels), final, tau_cost)
        self.tau_cost = tau_cost
        self._succ: dict[Marking | int, list[tuple[int, Marking | int]]] = {}
        self._nbytes = (n_p + 7) // 8
        self.initial: Marking | int
        self.final: Marking | int
        if self.bits:
            self.initial = sum(1 << p for p in net.initial)
            self.final = sum(1 << p for p in net.final)
        else:
            self.initial = net.marking(net.initial)
            self.final = net.marking(net.final)

    def successors(self, m: Marking | int) -> list[tuple[int, Marking | int]]:
        """``(transition, marking after it)`` for each transition enabled at ``m``."""
        s = self._succ.get(m)
        if s is not None:
            return s
        if isinstance(m, int):
            try:
                s = self._bit_successors(m)
            except NotSafe:
                self._to_counts()
                raise
        else:
            s = []
            marked = [p for p, k in enumerate(m) if k]
            for t in (*self.no_input, *(t for p in marked for t in self.consumers[p])):
                if all(m[p] >= w for p, w in self._pre_w[t]):
                    nxt = list(m)
                    for p, d in self._delta[t]:
                        nxt[p] += d
                    s.append((t, tuple(nxt)))
        self._succ[m] = s
        return s

    def _bit_successors(self, m: int) -> list[tuple[int, Marking | int]]:
        out: list[tuple[int, Marking | int]] = []
        pre, post = self.pre, self.post
        cands = list(self.no_input)
        rest = m
        while rest:
            low = rest & -rest
            cands.extend(self.consumers[low.bit_length() - 1])
            rest ^= low
        for t in cands:
            pr = pre[t]
            if m & pr == pr:
                left = m ^ pr
                if left & post[t]:
                    raise NotSafe
                out.append((t, left | post[t]))
        return out

    def _to_counts(self) -> None:
        """Switch to token-count markings (a place would hold two tokens)."""
        self.bits = False
        self._succ.clear()
        self.initial = self.net.marking(self.net.initial)
        self.final = self.net.marking(self.net.final)

    def vector(self, m: Marking | int) -> npt.NDArray[np.float64]:
        """A marking as a float vector (for the LP)."""
        if isinstance(m, int):
            raw = np.frombuffer(m.to_bytes(self._nbytes, "little"), dtype=np.uint8)
            return np.unpackbits(raw, bitorder="little")[: self.n_p].astype(np.float64)
        return np.asarray(m, dtype=np.float64)


def astar(cn: CompiledNet, trace: list[int], max_visits: int) -> tuple[int, list[Move], int] | None:
    """Optimal alignment of a coded trace (labels of the net only).

    Returns the cost, the moves and the number of expanded states, or ``None`` when the model
    has no run to its final marking; raises :class:`Budget` past ``max_visits`` expansions and
    :class:`NotSafe` when the net turned out not to be safe (the caller retries: ``cn`` now
    counts tokens).
    """
    n = len(trace)
    n_l = len(cn.labels)
    # remaining label counts per position, for the LP
    rem = np.zeros((n + 1, n_l), dtype=np.float64)
    for i in range(n - 1, -1, -1):
        rem[i] = rem[i + 1]
        rem[i, trace[i]] += 1
    lp, succ, t_label = cn.lp, cn.successors, cn.t_label
    sync_col, log_col0, tau = lp.sync_col, lp.log_col0, cn.tau_cost
    width = n + 1
    start_m, final_m = cn.initial, cn.final
    sol = lp.solve(cn.vector(start_m), rem[0])
    if sol is None:
        return None
    h0 = max(0, math.ceil(sol.value - EPS))
    # heap entry (ties: most trace progress, then most cost behind, then newest, i.e. depth
    # first along equally good interleavings): f, -position, -g, -tick, g, h, marking,
    # position, dual bound, dual, primal
    heap: list[tuple[int, int, int, int, int, int, Marking | int, int, float, LpSolution,
                     dict[int, float] | None]] = [
        (h0, 0, 0, 0, 0, h0, start_m, 0, sol.value, sol, sol.primal)
    ]  # fmt: skip
    best: dict[tuple[Marking | int, int], int] = {(start_m, 0): 0}
    parent: dict[tuple[Marking | int, int], tuple[tuple[Marking | int, int], Move]] = {}
    closed: set[tuple[Marking | int, int]] = set()
    tick = 0
    visits = 0
    while heap:
        f, _, _, _, g, h, m, i, yv, y, x = heapq.heappop(heap)
        key = (m, i)
        if key in closed or g > best.get(key, g):
            continue
        if x is None:
            sol = lp.solve(cn.vector(m), rem[i])
            if sol is None:  # the marking equation has no solution: a dead end
                closed.add(key)
                continue
            h2 = max(h, math.ceil(sol.value - EPS))
            y, yv, x = sol, sol.value, sol.primal
            if h2 > h:
                tick += 1
                heapq.heappush(heap, (g + h2, -i, -g, -tick, g, h2, m, i, yv, y, x))
                continue
        if i == n and m == final_m:
            moves: list[Move] = []
            while key in parent:
                key, mv = parent[key]
                moves.append(mv)
            moves.reverse()
            return g, moves, visits
        closed.add(key)
        visits += 1
        if visits > max_visits:
            raise Budget
        d_model, d_label = y.model, y.label
        a = trace[i] if i < n else -2
        children: list[tuple[Marking | int, int, int, float, int, Move]] = []
        for t, m2 in succ(m):
            lab = t_label[t]
            if lab < 0:
                children.append((m2, i, tau, yv - d_model[t], t, (-1, t)))
                continue
            if lab == a:
                children.append(
                    (m2, i + 1, 0, yv - d_model[t] - d_label[lab], sync_col[t], (lab, t))
                )
            children.append((m2, i, MOVE_COST, yv - d_model[t], t, (-1, t)))
        if i < n:
            children.append((m, i + 1, MOVE_COST, yv - d_label[a], log_col0 + a, (a, -1)))
        for m2, i2, cost, yv2, col, mv in children:
            key2 = (m2, i2)
            if key2 in closed:
                continue
            g2 = g + cost
            if g2 >= best.get(key2, 1 << 62):
                continue
            best[key2] = g2
            parent[key2] = (key, mv)
            h2 = max(0, math.ceil(yv2 - EPS))
            x2: dict[int, float] | None = None
            if x is not None:
                v = x.get(col, 0.0)
                if v >= 1.0 - EPS:
                    x2 = dict(x)
                    if v - 1.0 > EPS:
                        x2[col] = v - 1.0
                    else:
                        del x2[col]
            tick += 1
            heapq.heappush(heap, (g2 + h2, -i2, -g2, -tick, g2, h2, m2, i2, yv2, y, x2))
    del width, f
    return None


class LpAligner:
    """A* with the marking-equation heuristic for nets whose reachability graph is too large.

    Exact search first; past ``exact_visits`` states, silent steps are priced at 0 instead: the
    fallback still finds the fewest deviations (so the trace fitness is exact), its raw cost
    counts the silent steps of the path found, which may exceed the minimum.
    """

    def __init__(self, net: PetriNet, max_visits: int, exact_visits: int) -> None:
        self.net = net
        self.cn = CompiledNet(net)
        self._cheap: CompiledNet | None = None
        self.max_visits = max_visits
        self.exact_visits = exact_visits

    @staticmethod
    def _run(cn: CompiledNet, trace: list[int], budget: int) -> tuple[int, list[Move], int] | None:
        while True:
            try:
                return astar(cn, trace, budget)
            except NotSafe:  # cn now counts tokens per place: search again
                continue

    def align(self, trace: list[int]) -> tuple[int, list[tuple[int, int, int]], int, bool] | None:
        """Cost, path ``(log label or -1, transition or -1, 0)``, states, exact; or ``None``."""
        exact = True
        try:
            found = self._run(self.cn, trace, self.exact_visits)
        except Budget:
            exact = False
            if self._cheap is None:
                self._cheap = CompiledNet(self.net, tau_cost=0)
            try:
                found = self._run(self._cheap, trace, self.max_visits)
            except Budget:
                raise MiningError(
                    f"alignment search exceeded {self.max_visits} states",
                    code="mining.alignment.too_large",
                    hint="the model may be unbounded; raise max_visits or simplify the model",
                ) from None
        if found is None:
            return None
        cost, moves, visits = found
        if not exact:
            cost += TAU_COST * sum(1 for _, t in moves if t >= 0 and self.cn.t_label[t] < 0)
        return cost, [(lab, t, 0) for lab, t in moves], visits, exact
