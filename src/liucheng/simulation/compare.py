"""What-if comparison: scenarios on common random numbers, KPI differences with significance.

Every scenario runs with the same seed and the same number of replications; random streams are
keyed by purpose (arrivals, an activity's durations, a gateway's choices), so replication *i* of
each scenario sees the same arrivals and the same draws wherever the scenarios agree (common
random numbers): the differences have far less noise than independent runs.

For each KPI and each scenario after the first (the baseline) :func:`compare` reports the mean
difference, its confidence interval from the paired replication differences (Student t), a
Welch t-test p-value (unpaired, conservative) and a percentile bootstrap interval of the
difference of means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from ._errors import SimulationInputError
from .results import SimulationResult, simulate
from .scenario import Scenario

__all__ = ["Comparison", "compare", "compare_results", "comparison_svg"]

#: KPIs compared by default (per-activity and per-pool measures are added when present).
HEADLINE = (
    "cycle_time.mean",
    "cycle_time.p90",
    "sla.on_time_rate",
    "cost.per_case",
    "cases.completed",
)


@dataclass
class Comparison:
    """Results of :func:`compare`.

    Attributes:
        names: Scenario names (the first is the baseline).
        results: One :class:`SimulationResult` per scenario.
        rows: One row per (scenario, KPI): see :func:`compare_results`.
    """

    names: list[str]
    results: list[SimulationResult]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"baseline", "scenarios", "differences": [...]}``."""
        return {
            "baseline": self.names[0],
            "scenarios": [
                {"name": n, "kpis": _headline(r)}
                for n, r in zip(self.names, self.results, strict=True)
            ],
            "differences": self.rows,
        }

    def svg(self) -> str:
        """A chart of the differences (see :func:`comparison_svg`)."""
        return comparison_svg(self)


def _headline(result: SimulationResult) -> dict[str, Any]:
    return {
        k: result.estimate(k).to_dict()
        for k in result.measures
        if k in HEADLINE or k.endswith((".utilisation", ".waiting_mean"))
    }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def compare_results(
    names: Sequence[str],
    results: Sequence[SimulationResult],
    *,
    confidence: float = 0.95,
    bootstrap: int = 2000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Rows ``{"scenario", "kpi", "baseline", "value", "difference", "relative", "low",
    "high", "p_value", "bootstrap_low", "bootstrap_high", "significant"}``."""
    from scipy import stats

    base = results[0]
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(seed)
    alpha = 1 - confidence
    for name, res in zip(names[1:], results[1:], strict=True):
        keys = [
            k
            for k in base.measures
            if k in res.measures
            and (k in HEADLINE or k.endswith((".utilisation", ".waiting_mean")))
        ]
        for key in keys:
            a = np.asarray(base.measures[key], dtype=float)
            b = np.asarray(res.measures[key], dtype=float)
            diff = float(b.mean() - a.mean())
            n = min(len(a), len(b))
            low = high = math.nan
            if n >= 2:
                d = b[:n] - a[:n]  # paired by replication: common random numbers
                sd = float(d.std(ddof=1))
                t = float(stats.t.ppf(1 - alpha / 2, n - 1))
                low, high = (
                    float(d.mean()) - t * sd / math.sqrt(n),
                    float(d.mean()) + t * sd / math.sqrt(n),
                )
            p = math.nan
            if len(a) >= 2 and len(b) >= 2:
                if float(a.std()) == 0 and float(b.std()) == 0:
                    p = 1.0 if diff == 0 else 0.0
                else:
                    p = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
            boots = rng.choice(b, (bootstrap, len(b))).mean(axis=1) - rng.choice(
                a, (bootstrap, len(a))
            ).mean(axis=1)
            b_low, b_high = np.quantile(boots, [alpha / 2, 1 - alpha / 2]).tolist()
            base_mean = float(a.mean())
            significant = (not math.isnan(low) and (low > 0 or high < 0)) or (
                not math.isnan(p) and p < alpha
            )
            rows.append(
                {
                    "scenario": name,
                    "kpi": key,
                    "baseline": base_mean,
                    "value": float(b.mean()),
                    "difference": diff,
                    "relative": diff / base_mean if base_mean else None,
                    "low": _finite(low),
                    "high": _finite(high),
                    "p_value": _finite(p),
                    "bootstrap_low": float(b_low),
                    "bootstrap_high": float(b_high),
                    "significant": bool(significant),
                }
            )
    return rows


def compare(
    models: Sequence[bytes | str | Path],
    scenarios: Sequence[Scenario],
    *,
    names: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    base_dir: Path | None = None,
) -> Comparison:
    """Simulate scenarios (each with its model) on common random numbers and compare them.

    Args:
        models: One BPMN model per scenario (the same path may repeat).
        scenarios: Baseline first.
        names: Display names (default: the scenario names, else ``scenario 1``...).
        replications: Replications for every scenario (default: the baseline's).
        seed: Seed for every scenario (default: the baseline's, else 1).
    """
    if len(scenarios) < 2 or len(models) != len(scenarios):
        raise SimulationInputError(
            "compare needs at least two scenarios, each with a model", path="scenarios"
        )
    reps = replications if replications is not None else max(scenarios[0].replications, 2)
    use_seed = (
        seed if seed is not None else (scenarios[0].seed if scenarios[0].seed is not None else 1)
    )
    labels = (
        list(names) if names else [s.name or f"scenario {i + 1}" for i, s in enumerate(scenarios)]
    )
    results = [
        simulate(m, s, replications=reps, seed=use_seed, base_dir=base_dir)
        for m, s in zip(models, scenarios, strict=True)
    ]
    rows = compare_results(labels, results, confidence=scenarios[0].confidence)
    return Comparison(labels, results, rows)


def comparison_svg(comparison: Comparison, *, width: int = 720) -> str:
    """Horizontal bars of the relative KPI differences with their confidence intervals.

    Each row is one scenario/KPI; the bar is the relative difference to the baseline, the
    whisker its paired confidence interval; significant differences are drawn solid.
    """
    rows = [r for r in comparison.rows if r["relative"] is not None]
    row_h, left, right = 22, 300, 40
    height = 40 + row_h * max(len(rows), 1)
    span = max([abs(r["relative"]) for r in rows] + [1e-9])
    for r in rows:
        if r["low"] is not None and r["baseline"]:
            span = max(span, abs(r["low"] / r["baseline"]), abs(r["high"] / r["baseline"]))
    plot = width - left - right
    zero = left + plot / 2

    def x(v: float) -> float:
        return float(zero + v / span * (plot / 2))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13">Relative difference to '
        f"{escape(comparison.names[0])} (bar: mean, line: {int(100 * 0.95)} % interval)</text>",
        f'<line x1="{zero:.1f}" y1="24" x2="{zero:.1f}" y2="{height - 8}" stroke="#444"/>',
    ]
    for i, r in enumerate(rows):
        y = 30 + i * row_h
        v = r["relative"]
        p_text = f" (p={r['p_value']:.3g})" if r["p_value"] is not None else ""
        colour = "#2b6cb0" if r["significant"] else "#a0aec0"
        x0, x1 = sorted((zero, x(v)))
        out.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(r['scenario'])}: {escape(r['kpi'])}</text>"
        )
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 0.5):.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{escape(r["kpi"])}: {v:+.1%}'
            f"{p_text}</title></rect>"
        )
        if r["low"] is not None and r["baseline"]:
            lo, hi = r["low"] / r["baseline"], r["high"] / r["baseline"]
            out.append(
                f'<line x1="{x(lo):.1f}" y1="{y + row_h / 2:.1f}" x2="{x(hi):.1f}" '
                f'y2="{y + row_h / 2:.1f}" stroke="#1a202c" stroke-width="1.5"/>'
            )
        out.append(f'<text x="{width - right + 4}" y="{y + 13}">{v:+.0%}</text>')
    out.append("</svg>")
    return "\n".join(out)
