"""Optimal alignments of traces with a Petri net (A* over the synchronous product).

Standard cost function, as pm4py: a move on log or a move on model of a visible transition costs
10000, a move of a silent transition costs 1, a synchronous move costs 0. The trace fitness is
``1 - (cost // 10000) / ((10000 * |trace| + bwc) // 10000)`` where ``bwc`` is the cost of the
cheapest run of the model alone; the log fitness is ``1 - Σ cost / Σ (10000 * |trace| + bwc)``.

The model's reachability graph is expanded once and cached (markings are integer ids) and each
distinct variant (coded trace) is aligned once. When the graph is complete (≤ 100,000 markings)
two exact searches share it (:data:`AlignStrategy`):

- a per-variant A* over the synchronous product, built lazily, whose moves are *macro steps*
  (the fewest silent steps to some marking, then one visible transition: silent interleavings
  are never states of the search) under a consistent heuristic from the graph
  (:mod:`._align_macro`); its silent closures are cached across variants. Few variants over a
  small graph (most discovered models of real logs) take a few states per event;
- an exact, vectorised dynamic programme over graph × trace position, run under a cost bound
  (no deviation first, then 1, 3, 7, … deviations; below one deviation, the fewest silent steps
  to the next event bound the rest too, and the first bound is only a few silent steps above an
  estimate of the trace's silent steps, widened 4x until the optimum fits) so that states that
  cannot finish within it are never relaxed. It pays off on large graphs with wide concurrency.

``"auto"`` (the default) tries the A* under a work budget estimated from the trace length and
the graph size and hands a variant that exceeds it to the programme (see :data:`AlignStrategy`).
For a graph too large for the programme, A* runs over single steps of the synchronous product
with the graph's heuristic; without the whole graph, A* with pm4py's marking-equation (LP)
heuristic (:mod:`._align_astar`). When a trace exceeds the exact budget of these last two, the
search prices silent steps at 0: deviations (hence trace fitness) stay optimal, the raw cost may
then count a few more silent steps than the minimum, and the alignment is flagged
``exact=False``.
"""

from __future__ import annotations

from typing import Any, Literal

from ._align_macro import MacroBudget, MacroSearch
from ._align_results import MOVE_COST, TAU_COST, AlignmentResult, TraceAlignment
from ._align_space import StateSpace
from ._log import LogInput, VariantLog, variant_log
from .errors import MiningError
from .petri import PetriNet

# MOVE_COST and StateSpace are re-exported for callers that tune or inspect the search
__all__ = [
    "MOVE_COST",
    "TAU_COST",
    "AlignStrategy",
    "AlignmentResult",
    "StateSpace",
    "TraceAlignment",
    "align",
    "align_variants",
]


_Found = tuple[int, list[tuple[int, int, int]], int, bool]
"""Cost, path ``(log label or -1, transition or -1/-2, silent steps before)``, states, exact."""


def _align_one(
    space: StateSpace, trace: list[int], max_visits: int, exact_visits: int
) -> tuple[int, list[tuple[int, int, int]], int, bool] | None:
    """Exact search first; past ``exact_visits`` states, price silent steps at 0 instead.

    The fallback still finds the fewest deviations (so the trace fitness is exact); its raw
    cost counts the silent steps of the path found, which may exceed the minimum.
    """
    from ._align_search import _Budget, _search

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


AlignStrategy = Literal["auto", "search", "dp"]
"""How exact alignments are searched: ``"search"`` per-variant A* with silent closures as
macro steps (:mod:`._align_macro`), ``"dp"`` the graph × trace programme, ``"auto"``: on graphs
of at most 20,000 markings the search first, under a budget of work from the trace length and
the graph size, and the programme for a variant that exceeds it (for all remaining variants
after a few such misses, or once the search's cached closures hold 300,000 macro steps);
on larger graphs the programme. Every strategy gives the same optimal costs."""


# auto: above this many markings the programme aligns every variant (on such graphs, which
# come from wide concurrency with silent steps, the silent closures the search needs are huge:
# 12 million entries on the 49,000-marking net of the 1M-event synthetic log)
_MACRO_MARKINGS = 20_000
# auto: the search is given up once its cached closures hold this many macro steps (~150
# bytes each: the memory stays well below what pm4py holds for the same log)
_MACRO_ENTRIES = 300_000


def _macro_budget(n: int, markings: int) -> int:
    """Work (:meth:`MacroSearch.align`, ~2 µs a unit) the A* may spend on a trace of ``n``
    events before the programme takes over: about what the programme would cost (measured
    ~140 µs per trace position on graphs of tens of markings, ~0.8 ms at 1,000 markings and
    more; its bounded passes do not grow with the graph as fast as the search does)."""
    return (n + 1) * (70 + min(markings, 2_000) // 2)


class _Aligner:
    """Picks the search for each coded trace (see :data:`AlignStrategy`) and caches the results:
    variants that differ only in activities the model lacks share one coded trace."""

    def __init__(
        self,
        space: StateSpace,
        strategy: AlignStrategy,
        max_visits: int,
        exact_visits: int,
        dp_states: int,
    ) -> None:
        self.space = space
        self.max_visits = max_visits
        self.exact_visits = exact_visits
        complete = space.dvis is not None
        wanted = strategy == "search" or (
            strategy == "auto" and len(space.markings) <= _MACRO_MARKINGS
        )
        self.macro = MacroSearch(space) if complete and wanted else None
        self.dp_ok = complete and strategy != "search" and len(space.markings) <= dp_states
        # built on first use (the LP search imports scipy.optimize, ~0.5 s)
        self._dp: Any = None
        self._lp: Any = None
        self._cache: dict[tuple[int, ...], _Found | None] = {}
        self._hits = self._misses = 0

    def run(self, coded: list[int]) -> _Found | None:
        """Cost, path, states expanded and exactness of an optimal alignment, or ``None``."""
        key = tuple(coded)
        if key in self._cache:
            return self._cache[key]
        found = self._run(coded)
        self._cache[key] = found
        return found

    def _run(self, coded: list[int]) -> _Found | None:
        space = self.space
        if space.dvis is None:
            # without the whole graph there are no graph heuristics: the marking-equation A*
            if self._lp is None:
                from ._align_astar import LpAligner

                self._lp = LpAligner(space.net, self.max_visits, self.exact_visits * 100)
            found: _Found | None = self._lp.align(coded)
            return found
        if self.macro is not None:
            n = len(coded)
            limit = self.max_visits if not self.dp_ok else _macro_budget(n, len(space.markings))
            macro = self.macro
            hit: tuple[int, list[tuple[int, int, int]], int] | None = None
            try:
                hit = macro.align(coded, limit)
            except MacroBudget:
                if not self.dp_ok:
                    raise MiningError(
                        f"alignment search exceeded {self.max_visits} units of work",
                        code="mining.alignment.too_large",
                        hint="raise max_visits or align with strategy='auto'",
                    ) from None
                self._misses += 1
                missed = True
            else:
                self._hits += 1
                missed = False
            # the net does not suit the search (large silent closures, weak bounds): after a
            # few misses, or once the closures take too much memory, the programme aligns the
            # remaining variants
            if self.dp_ok and (
                (self._misses >= 3 and self._misses * 4 > self._hits)
                or macro.entries > _MACRO_ENTRIES
            ):
                self.macro = None
            if not missed:
                return None if hit is None else (*hit, True)
        if self.dp_ok and len(space.markings) * (len(coded) + 1) <= 20_000_000:
            if self._dp is None:
                from ._align_search import _Dp

                self._dp = _Dp(space)
            exact_dp = self._dp.align(coded)
            return None if exact_dp is None else (*exact_dp, 0, True)
        return _align_one(space, coded, self.max_visits, self.exact_visits)


def _moves(
    space: StateSpace, names: list[str], path: list[tuple[int, int, int]]
) -> tuple[tuple[str | None, str | None], ...]:
    """The ``(log, model)`` moves of a search path; events of activities the model lacks are
    log moves at their place in the trace."""
    moves: list[tuple[str | None, str | None]] = []
    pos = 0  # next event of the trace

    def skip_outside() -> None:
        nonlocal pos
        while pos < len(names) and names[pos] not in space.code:
            moves.append((names[pos], None))
            pos += 1

    for log_lab, t, taus in path:
        moves.extend([(None, None)] * taus)
        if t == -2:
            continue  # silent steps to the final marking
        model = None if t < 0 else space.net.transitions[t].label
        if log_lab >= 0:
            skip_outside()
            pos += 1
            moves.append((space.labels[log_lab], model))
        else:
            moves.append((None, model))
    skip_outside()
    return tuple(moves)


def align_variants(
    vlog: VariantLog,
    net: PetriNet,
    *,
    max_visits: int = 2_000_000,
    exact_visits: int = 3_000,
    dp_states: int = 100_000,
    space: StateSpace | None = None,
    strategy: AlignStrategy = "auto",
) -> AlignmentResult:
    """Optimal alignments of an already compressed log (see :func:`align`)."""
    space = space or StateSpace(net)
    aligner = _Aligner(space, strategy, max_visits, exact_visits, dp_states)
    empty = aligner.run([])
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
        found = aligner.run(coded)
        if found is None:
            results.append(None)
            continue
        cost, path, visits, exact = found
        outside = len(names) - len(coded)
        cost += MOVE_COST * outside
        moves = _moves(space, names, path)
        bwc = MOVE_COST * len(names) + model_cost
        den = bwc // MOVE_COST
        fitness = 1.0 - (cost // MOVE_COST) / den if den > 0 else 0.0
        results.append(TraceAlignment(cost, bwc, fitness, moves, visits, exact))
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
    strategy: AlignStrategy = "auto",
) -> AlignmentResult:
    """Compute optimal alignments of every case of a log with a Petri net.

    Args:
        log: Event log frame (or a :class:`VariantLog`).
        net: Workflow net with initial and final marking.
        lifecycle: Lifecycle transition of the events to align (``None``: all).
        max_visits: Search budget per trace; exceeding it raises :class:`MiningError`.
        strategy: ``"auto"`` (default), ``"search"`` (per-variant A*) or ``"dp"`` (the graph
            programme); all give the same optimal costs (see :data:`AlignStrategy`).

    Returns:
        Fitness per variant/case and for the log, and deviations (moves) per case and activity.
    """
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    return align_variants(vlog, net, max_visits=max_visits, strategy=strategy)
