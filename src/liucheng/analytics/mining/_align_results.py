"""Alignment results: per trace and per log (see :mod:`.alignments`)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ._log import VariantLog

__all__ = ["MOVE_COST", "TAU_COST", "AlignmentResult", "TraceAlignment"]


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
