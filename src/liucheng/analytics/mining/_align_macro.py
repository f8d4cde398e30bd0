"""Per-variant A* over the synchronous product with silent closures as macro steps.

See :mod:`.alignments` for the cost function and when this search runs. The (complete,
cached) reachability graph of :class:`StateSpace` supplies the heuristic tables; the search
itself expands the product lazily, one (marking, trace position) state at a time.

Silent transitions of inductive-miner nets interleave: ``k`` concurrent silent steps make
``k!`` orders to the same marking, and a search over single steps meets them all. Here a move
is a *macro step*: the fewest silent steps from a marking ``m`` to some marking ``m'`` (a
breadth-first closure over silent arcs) followed by one visible transition out of ``m'``; for
each (label, marking after it) only the cheapest silent prefix is kept. That is exact: in an
optimal alignment the silent steps before a visible move can take any shortest silent route to
the marking the visible move starts from, and log moves commute with silent steps (they leave
the marking alone). The closure of a marking is computed once and cached across variants.

Heuristic (consistent, so the first time the goal pops its cost is optimal), for marking ``m``
at trace position ``i`` of a trace of ``n`` events: ``u`` remaining events whose label the model
can never fire again from ``m`` are log moves; of the other ``n - i - u`` at most that many
synchronous moves cover the ``dvis[m]`` visible steps the model still has to make, the rest are
model moves; plus the fewest silent steps to the final marking. Model moves (≥ one deviation)
are generated only when a state's "model moves" entry pops from the queue: traces that fit
never pay for them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from ._align_results import MOVE_COST, TAU_COST
from ._align_space import StateSpace

__all__ = ["MacroBudget", "MacroSearch"]

_BIG = 1 << 30
_INF = 1 << 60

Step = tuple[int, int, int]
"""``(marking after the visible transition, silent steps before it, transition)``."""


class MacroBudget(Exception):
    """The search expanded more states than its budget allows."""


class _Closure:
    """The macro steps out of one marking."""

    __slots__ = ("by_label", "end", "visible")

    def __init__(self, by_label: dict[int, list[Step]], end: int) -> None:
        self.by_label = by_label
        # every macro step once, for model moves: (label, target, silent steps, transition)
        self.visible = [(c, m2, k, t) for c, steps in by_label.items() for m2, k, t in steps]
        self.end = end  # fewest silent steps to the final marking, -1 when there is no such route


class MacroSearch:
    """A* with macro steps over a complete :class:`StateSpace` (see the module docstring)."""

    def __init__(self, space: StateSpace) -> None:
        if space.dvis is None or space.dtau is None or space.reach is None:
            raise ValueError("MacroSearch needs the complete reachability graph")
        self.space = space
        self.dvis: list[int] = space.dvis
        self.dtau: list[int] = space.dtau
        self.reach: list[int] = space.reach
        self._closures: dict[int, _Closure] = {}
        # work done so far (states expanded, queue entries, closure entries built): the budget
        # that decides when the programme should take over is counted in it
        self.work = 0
        self.entries = 0  # macro steps held by the cached closures
        n = len(space.markings)
        self._silent_preds: list[list[int]] = [[] for _ in range(n)]
        self._sources: dict[int, set[int]] = {}  # label -> markings with an arc of that label
        self._targets: dict[int, set[int]] = {}  # label -> markings such an arc leads to
        for m, succ in enumerate(space.succ):
            for m2, lab, _ in succ or ():
                if lab < 0:
                    self._silent_preds[m2].append(m)
                else:
                    self._sources.setdefault(lab, set()).add(m)
                    self._targets.setdefault(lab, set()).add(m2)
        self._before: dict[int, list[int]] = {}
        self._gap: dict[tuple[int, int], int] = {}
        self.tau_end = self._silent_distance([space.final])

    def _silent_distance(self, goals: Iterable[int]) -> list[int]:
        """Per marking, the fewest silent steps to one of ``goals`` (``_BIG``: no route)."""
        dist = [_BIG] * len(self.space.markings)
        frontier = list(goals)
        for g in frontier:
            dist[g] = 0
        preds = self._silent_preds
        k = 0
        while frontier:
            k += 1
            nxt = []
            for x in frontier:
                for p in preds[x]:
                    if dist[p] == _BIG:
                        dist[p] = k
                        nxt.append(p)
            frontier = nxt
        return dist

    def before(self, a: int) -> list[int]:
        """Per marking, the fewest silent steps to a marking that enables label ``a``."""
        out = self._before.get(a)
        if out is None:
            out = self._before[a] = self._silent_distance(self._sources.get(a, ()))
        return out

    def gap(self, a: int, b: int) -> int:
        """The fewest silent steps between an ``a`` and a following ``b`` (``b < 0``: the end)
        in a run of the model without deviation."""
        key = (a, b)
        out = self._gap.get(key)
        if out is None:
            table = self.tau_end if b < 0 else self.before(b)
            out = min((table[x] for x in self._targets.get(a, ())), default=_BIG)
            self._gap[key] = out
        return out

    def closure(self, m: int) -> _Closure:
        """The macro steps out of marking ``m`` (cached)."""
        c = self._closures.get(m)
        if c is not None:
            return c
        succ = self.space.successors
        dist = {m: 0}
        frontier = [m]
        best: dict[tuple[int, int], tuple[int, int]] = {}
        k = 0
        while frontier:
            nxt: list[int] = []
            for x in frontier:
                for m2, lab, t in succ(x):
                    if lab < 0:
                        if m2 not in dist:
                            dist[m2] = k + 1
                            nxt.append(m2)
                    elif (lab, m2) not in best:  # breadth first: the first route is the shortest
                        best[(lab, m2)] = (k, t)
            frontier = nxt
            k += 1
        by_label: dict[int, list[Step]] = {}
        for (lab, m2), (steps, t) in best.items():
            by_label.setdefault(lab, []).append((m2, steps, t))
        c = _Closure(by_label, dist.get(self.space.final, -1))
        self._closures[m] = c
        self.work += len(dist) + len(c.visible)
        self.entries += len(c.visible)
        return c

    def align(
        self, trace: list[int], budget: int
    ) -> tuple[int, list[tuple[int, int, int]], int] | None:
        """Optimal alignment of a coded trace within ``budget`` units of work.

        Returns the cost, the path as ``(log label or -1, transition, silent steps before it)``
        (transition ``-1``: log move, ``-2``: silent steps to the final marking) and the number
        of expanded states, or ``None`` when the model has no run to its final marking; raises
        :class:`MacroBudget` past ``budget`` units of work (states expanded, queue entries and
        silent-closure entries built, the latter shared by later traces).
        """
        n = len(trace)
        width = n + 1
        dvis, dtau, reach = self.dvis, self.dtau, self.reach
        # per suffix: the set of its labels (bits) and its label counts
        masks = [0] * width
        counts: list[dict[int, int]] = [{} for _ in range(width)]
        for i in range(n - 1, -1, -1):
            masks[i] = masks[i + 1] | (1 << trace[i])
            counts[i] = dict(counts[i + 1])
            counts[i][trace[i]] = counts[i].get(trace[i], 0) + 1

        # without deviation, the silent steps still to come from position i: to enable the
        # next event, then between each two events, then to the end (``ahead[i]`` is the part
        # after the next event; ``nxt[i]`` the table for the next event)
        ahead = [0] * width
        if n:
            ahead[n - 1] = self.gap(trace[n - 1], -1)
            for i in range(n - 2, -1, -1):
                ahead[i] = min(ahead[i + 1] + self.gap(trace[i], trace[i + 1]), _BIG)
        nxt = [self.before(a) for a in trace] + [self.tau_end]
        ahead[n] = 0

        def h(m: int, i: int) -> int:
            d = dvis[m]
            if d >= _BIG:
                return _INF
            miss = masks[i] & ~reach[m]
            u = 0
            if miss:
                u = sum(c for lab, c in counts[i].items() if (miss >> lab) & 1)
            extra = d - (n - i - u)
            lo = dtau[m]
            if u or extra > 0:
                return MOVE_COST * (u + extra if extra > 0 else u) + TAU_COST * lo
            # either no deviation, with at least the silent steps of ``ahead``, or one or more
            return min(TAU_COST * max(nxt[i][m] + ahead[i], lo), MOVE_COST + TAU_COST * lo)

        closure = self.closure
        start = self.space.initial * width
        goal = -1
        best: dict[int, int] = {start: 0}
        parent: dict[int, tuple[int, tuple[int, int, int]]] = {}
        closed: set[int] = set()
        # (f, -position, -tick, key, g, kind): kind 0 a state, 1 the model moves out of a
        # closed state (deferred: they cost a deviation each)
        heap = [(h(self.space.initial, 0), 0, 0, start, 0, 0)]
        tick = 0
        visits = 0
        limit = self.work + budget
        push = heapq.heappush
        pop = heapq.heappop
        while heap:
            _, _, _, key, g, kind = pop(heap)
            if key == goal:
                path: list[tuple[int, int, int]] = []
                k = goal
                while k != start:
                    k, move = parent[k]
                    path.append(move)
                path.reverse()
                self.work += tick
                return g, path, visits
            m, i = divmod(key, width)
            if kind:
                for _, m2, k, t in closure(m).visible:
                    k2 = m2 * width + i
                    g2 = g + MOVE_COST + TAU_COST * k
                    if g2 < best.get(k2, _INF) and k2 not in closed:
                        best[k2] = g2
                        parent[k2] = (key, (-1, t, k))
                        tick += 1
                        push(heap, (g2 + h(m2, i), -i, -tick, k2, g2, 0))
                if self.work + tick > limit:
                    raise MacroBudget
                continue
            if key in closed or g > best[key]:
                continue
            closed.add(key)
            visits += 1
            self.work += 1
            if self.work + tick > limit:
                raise MacroBudget
            cl = closure(m)
            if i < n:
                a = trace[i]
                i2 = i + 1
                for m2, k, t in cl.by_label.get(a, ()):
                    k2 = m2 * width + i2
                    g2 = g + TAU_COST * k
                    if g2 < best.get(k2, _INF) and k2 not in closed:
                        best[k2] = g2
                        parent[k2] = (key, (a, t, k))
                        tick += 1
                        push(heap, (g2 + h(m2, i2), -i2, -tick, k2, g2, 0))
                k2 = key + 1
                g2 = g + MOVE_COST
                if g2 < best.get(k2, _INF) and k2 not in closed:
                    best[k2] = g2
                    parent[k2] = (key, (a, -1, 0))
                    tick += 1
                    push(heap, (g2 + h(m, i2), -i2, -tick, k2, g2, 0))
            elif cl.end >= 0:
                g2 = g + TAU_COST * cl.end
                if g2 < best.get(goal, _INF):
                    best[goal] = g2
                    parent[goal] = (key, (-1, -2, cl.end))
                    tick += 1
                    push(heap, (g2, -width, -tick, goal, g2, 0))
            if cl.visible:
                # every model move costs a deviation, and h drops by at most one deviation
                hm = h(m, i)
                lower = g + MOVE_COST + max(hm - MOVE_COST, 0)
                tick += 1
                push(heap, (lower, -i, -tick, key, g, 1))
        self.work += tick
        return None
