"""Optimal alignments of traces with a Petri net (A* over the synchronous product).

Standard cost function, as pm4py: a move on log or a move on model of a visible transition costs
10000, a move of a silent transition costs 1, a synchronous move costs 0. The trace fitness is
``1 - (cost // 10000) / ((10000 * |trace| + bwc) // 10000)`` where ``bwc`` is the cost of the
cheapest run of the model alone; the log fitness is ``1 - Σ cost / Σ (10000 * |trace| + bwc)``.

The model's reachability graph is expanded once and cached (markings are integer ids) and each
distinct variant is aligned once. When the graph is complete (≤ 100,000 markings) the alignment
is an exact, vectorised dynamic programme over graph × trace position, run under a cost bound
(no deviation first, then 1, 3, 7, … deviations; below one deviation, the fewest silent steps to
the next event bound the rest too, and the first bound is only a few silent steps above an
estimate of the trace's silent steps, widened 4x until the optimum fits) so that states that
cannot finish within it are never relaxed. For a graph too large for the programme, A* runs over
the synchronous product with a consistent heuristic from the graph (visible steps the model
still has to make beyond the remaining trace, remaining events the model can never fire again,
and the fewest silent steps to the end); without the whole graph, A* with pm4py's
marking-equation (LP) heuristic (:mod:`._align_astar`). When a trace exceeds its exact-search
budget, the search prices silent steps at 0: deviations (hence trace fitness) stay optimal, the
raw cost may then count a few more silent steps than the minimum, and the alignment is flagged
``exact=False``.
"""

from __future__ import annotations

from ._align_astar import LpAligner
from ._align_results import MOVE_COST, TAU_COST, AlignmentResult, TraceAlignment
from ._align_search import _Budget, _Dp, _search
from ._align_space import StateSpace
from ._log import LogInput, VariantLog, variant_log
from .errors import MiningError
from .petri import PetriNet

# MOVE_COST and StateSpace are re-exported for callers that tune or inspect the search
__all__ = [
    "MOVE_COST",
    "TAU_COST",
    "AlignmentResult",
    "StateSpace",
    "TraceAlignment",
    "align",
    "align_variants",
]


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
    dp_states: int = 100_000,
    space: StateSpace | None = None,
) -> AlignmentResult:
    """Optimal alignments of an already compressed log (see :func:`align`)."""
    space = space or StateSpace(net)
    dp = _Dp(space) if space.dvis is not None and len(space.markings) <= dp_states else None
    # without the whole graph there are no graph heuristics: the marking-equation A* instead
    lp = LpAligner(net, max_visits, exact_visits * 100) if space.dvis is None else None

    def one(
        trace: list[int], budget: int
    ) -> tuple[int, list[tuple[int, int, int]], int, bool] | None:
        if lp is not None:
            return lp.align(trace)
        return _align_one(space, trace, max_visits, budget)

    empty = one([], max_visits)
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
            found = one(coded, exact_visits)
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
