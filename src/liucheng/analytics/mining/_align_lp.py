"""The marking-equation heuristic of the alignment A* (see :mod:`.alignments`).

For a search state (marking ``m``, remaining trace events with label counts ``r``) the linear
programme

    min  Σ c_t x_t + 0 · Σ s_t + MOVE_COST · Σ l_a
    s.t. C (x + s) = m_final - m            (model and synchronous firings, per place)
         Σ_{t labelled a} s_t + l_a = r_a   (each remaining event: synchronous or log move)
         x, s, l ≥ 0

bounds the cost still to come from below (it is pm4py's state-equation heuristic with the trace
order relaxed, which the synchronous product's LP does not use either). Its value only depends on
``(m, r)``, so one HiGHS model per net is re-solved with new bounds (warm-started dual simplex).

Any dual-feasible vector ``y`` gives the bound ``y · (m_final - m, r)`` for *every* state, and a
move changes that bound by at most its cost (dual feasibility), so bounds derived along the
search from a parent's dual stay admissible and consistent; a fired column with a primal value
≥ 1 keeps the parent's solution optimal for the child (pm4py's trick), so no new LP is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csc_matrix

from ._align_results import MOVE_COST

__all__ = ["LpSolution", "MarkingLp"]

# slack below an LP value before rounding up to the next integer cost: the LP is solved in
# floating point, and an over-estimate by a rounding error would break optimality
EPS = 1e-3


@dataclass(slots=True)
class LpSolution:
    """An optimal LP solution: value, sparse primal (column → value) and the dual's deltas.

    ``model[t]``: how much the dual bound drops when transition ``t`` fires (model move);
    ``label[a]``: how much it drops when an event labelled ``a`` is consumed.
    """

    value: float
    primal: dict[int, float]
    model: list[float]
    label: list[float]


class MarkingLp:
    """One warm-started LP per net; :meth:`solve` re-solves it for a state."""

    def __init__(
        self,
        incidence: npt.NDArray[np.int64],
        t_label: list[int],
        n_labels: int,
        final: npt.NDArray[np.int64],
        tau_cost: int,
    ) -> None:
        n_p, n_t = incidence.shape
        self.n_p, self.n_t, self.n_l = n_p, n_t, n_labels
        visible = [t for t in range(n_t) if t_label[t] >= 0]
        self.sync_col = {t: n_t + k for k, t in enumerate(visible)}
        self.log_col0 = n_t + len(visible)
        n_v = len(visible)
        # columns: x (model moves), s (sync), l (log moves), w (fixed to m), v (fixed to r)
        self.w0 = self.log_col0 + n_labels
        self.v0 = self.w0 + n_p
        n_col = self.v0 + n_labels
        n_row = n_p + n_labels
        inc = incidence.astype(np.float64)
        blocks_r: list[npt.NDArray[np.int64]] = []
        blocks_c: list[npt.NDArray[np.int64]] = []
        blocks_v: list[npt.NDArray[np.float64]] = []
        pr, tc = np.nonzero(inc)
        blocks_r += [pr, pr[np.isin(tc, visible)]]
        blocks_c += [
            tc,
            np.asarray([self.sync_col[int(t)] for t in tc if t_label[t] >= 0], np.int64),
        ]
        blocks_v += [inc[pr, tc], inc[pr, tc][np.isin(tc, visible)]]
        lab_rows = np.asarray([n_p + t_label[t] for t in visible], dtype=np.int64)
        blocks_r += [lab_rows, n_p + np.arange(n_labels), np.arange(n_p), n_p + np.arange(n_labels)]
        blocks_c += [
            np.arange(n_t, n_t + n_v),
            self.log_col0 + np.arange(n_labels),
            self.w0 + np.arange(n_p),
            self.v0 + np.arange(n_labels),
        ]
        blocks_v += [np.ones(n_v), np.ones(n_labels), np.ones(n_p), -np.ones(n_labels)]
        a = csc_matrix(
            (np.concatenate(blocks_v), (np.concatenate(blocks_r), np.concatenate(blocks_c))),
            shape=(n_row, n_col),
        )
        a.sort_indices()
        cost = np.zeros(n_col)
        cost[:n_t] = [MOVE_COST if t_label[t] >= 0 else tau_cost for t in range(n_t)]
        cost[self.log_col0 : self.w0] = MOVE_COST
        self.cost = cost
        self.a = a
        self.rhs = np.concatenate([final.astype(np.float64), np.zeros(n_labels)])
        self.fixed = np.arange(self.w0, n_col, dtype=np.int32)
        self.at_p = inc.T.copy()  # for the deltas: C^T y
        self.t_label = t_label
        self.solves = 0
        self._highs: Any = _highs_model(cost, a, self.rhs, n_col)

    def solve(self, m: npt.NDArray[np.float64], r: npt.NDArray[np.float64]) -> LpSolution | None:
        """The LP at marking ``m`` with remaining label counts ``r``; ``None``: infeasible."""
        self.solves += 1
        fixed = np.concatenate([m, r])
        if self._highs is not None:
            out = _run_highs(self._highs, self.fixed, fixed)
        else:
            out = self._run_linprog(fixed)
        if out is None:
            return None
        value, x, y = out
        nz = np.flatnonzero(x > EPS)
        primal = dict(zip(nz.tolist(), x[nz].tolist(), strict=True))
        y_p, y_l = y[: self.n_p], y[self.n_p :]
        return LpSolution(value, primal, (self.at_p @ y_p).tolist(), y_l.tolist())

    def _run_linprog(
        self, fixed: npt.NDArray[np.float64]
    ) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        from scipy.optimize import linprog  # lazily: scipy.optimize takes ~0.5 s to import

        bounds = [(0.0, None)] * self.w0 + [(float(v), float(v)) for v in fixed]
        res = linprog(self.cost, A_eq=self.a, b_eq=self.rhs, bounds=bounds, method="highs")
        if res.status != 0:
            return None
        return float(res.fun), np.asarray(res.x), np.asarray(res.eqlin.marginals)


def _highs_model(
    cost: npt.NDArray[np.float64], a: csc_matrix, rhs: npt.NDArray[np.float64], n_col: int
) -> Any:
    """A persistent HiGHS model (scipy's bundled bindings); ``None`` if they are unavailable.

    scipy's ``linprog`` rebuilds the model on every call, which costs far more than the few
    dual-simplex pivots a warm start needs here.
    """
    try:
        from scipy.optimize._highspy import _core

        h = _core._Highs()
        for opt, val in (
            ("output_flag", False),
            ("presolve", "off"),
            ("solver", "simplex"),
            ("threads", 1),
            ("primal_feasibility_tolerance", 1e-9),
            ("dual_feasibility_tolerance", 1e-9),
        ):
            h.setOptionValue(opt, val)
        lp = _core.HighsLp()
        lp.num_col_ = n_col
        lp.num_row_ = rhs.size
        lp.col_cost_ = cost
        lp.col_lower_ = np.zeros(n_col)
        lp.col_upper_ = np.full(n_col, np.inf)
        lp.row_lower_ = rhs
        lp.row_upper_ = rhs
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(np.float64)
        h.passModel(lp)
        optimal = _core.HighsModelStatus.kOptimal
        return (h, optimal)
    except Exception:  # private bindings changed: fall back to linprog
        return None


def _run_highs(
    model: Any, cols: npt.NDArray[np.int32], vals: npt.NDArray[np.float64]
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    h, optimal = model
    h.changeColsBounds(cols.size, cols, vals, vals)
    h.run()
    if h.getModelStatus() != optimal:
        return None
    sol = h.getSolution()
    return (
        float(h.getInfo().objective_function_value),
        np.asarray(sol.col_value),
        np.asarray(sol.row_dual),
    )
