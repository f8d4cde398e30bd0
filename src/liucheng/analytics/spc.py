"""Statistical process control: I-MR and X̄-R control charts with the Western Electric rules.

Limits (Montgomery, *Introduction to Statistical Quality Control*):

- Individuals: centre x̄, limits x̄ ± 3·MR̄/d2 (d2 = 1.128 for moving ranges of two), moving
  range chart centre MR̄, limits D3·MR̄ = 0 and D4·MR̄ = 3.267·MR̄.
- X̄-R with subgroups of n: centre X̿, limits X̿ ± A2·R̄; range chart D3·R̄ … D4·R̄.

Western Electric rules, with σ = (UCL − centre)/3, flag the point that completes the pattern:

1. one point beyond 3σ;
2. two of three consecutive points beyond 2σ on the same side;
3. four of five consecutive points beyond 1σ on the same side;
4. eight consecutive points on the same side of the centre line.

For rules 2–4 the flagged point must itself be on that side (beyond the zone for 2 and 3).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from liucheng.errors import ValidationError

__all__ = [
    "CONSTANTS",
    "ControlChart",
    "Violation",
    "imr_chart",
    "western_electric",
    "xbar_r_chart",
]

# n: (A2, D3, D4, d2)
CONSTANTS: dict[int, tuple[float, float, float, float]] = {
    2: (1.880, 0.0, 3.267, 1.128),
    3: (1.023, 0.0, 2.574, 1.693),
    4: (0.729, 0.0, 2.282, 2.059),
    5: (0.577, 0.0, 2.114, 2.326),
    6: (0.483, 0.0, 2.004, 2.534),
    7: (0.419, 0.076, 1.924, 2.704),
    8: (0.373, 0.136, 1.864, 2.847),
    9: (0.337, 0.184, 1.816, 2.970),
    10: (0.308, 0.223, 1.777, 3.078),
}


@dataclass(frozen=True)
class Violation:
    """A Western Electric rule broken at a point (0-based index into the chart's values)."""

    rule: int
    index: int


@dataclass(frozen=True)
class ControlChart:
    """One control chart: values, centre line, limits and the rule violations."""

    kind: str
    values: tuple[float, ...]
    center: float
    ucl: float
    lcl: float
    labels: tuple[str, ...] = ()
    violations: tuple[Violation, ...] = ()
    companion: ControlChart | None = field(default=None)

    @property
    def sigma(self) -> float:
        """One standard deviation as implied by the limits."""
        return (self.ucl - self.center) / 3.0

    @property
    def out_of_control(self) -> list[int]:
        """Indices of flagged points (any rule), ascending."""
        return sorted({v.index for v in self.violations})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (companion chart included)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "center": self.center,
            "ucl": self.ucl,
            "lcl": self.lcl,
            "values": list(self.values),
            "labels": list(self.labels),
            "violations": [{"rule": v.rule, "index": v.index} for v in self.violations],
        }
        if self.companion is not None:
            out["companion"] = self.companion.to_json()
        return out


def western_electric(
    values: Sequence[float], center: float, sigma: float, rules: Sequence[int] = (1, 2, 3, 4)
) -> tuple[Violation, ...]:
    """Points breaking Western Electric rules 1–4 (see the module docstring)."""
    out: list[Violation] = []
    if sigma <= 0:
        return ()
    z = [(v - center) / sigma for v in values]
    for i, zi in enumerate(z):
        if 1 in rules and abs(zi) > 3:
            out.append(Violation(1, i))
        for side in (1, -1):
            s = [side * v for v in z[max(0, i - 7) : i + 1]]
            if 2 in rules and s[-1] > 2 and len(s) >= 3 and sum(v > 2 for v in s[-3:]) >= 2:
                out.append(Violation(2, i))
            if 3 in rules and s[-1] > 1 and len(s) >= 5 and sum(v > 1 for v in s[-5:]) >= 4:
                out.append(Violation(3, i))
            if 4 in rules and len(s) >= 8 and all(v > 0 for v in s[-8:]):
                out.append(Violation(4, i))
    return tuple(out)


def _need(values: Sequence[float], n: int, what: str) -> list[float]:
    clean = [float(v) for v in values if v is not None]
    if len(clean) < n:
        raise ValidationError(
            f"{what} needs at least {n} values, got {len(clean)}",
            code="analytics.spc.too_few",
        )
    return clean


def imr_chart(values: Sequence[float], labels: Sequence[str] = ()) -> ControlChart:
    """Individuals chart with its moving-range companion.

    Raises:
        ValidationError: Fewer than two values.
    """
    x = _need(values, 2, "an I-MR chart")
    mr = [abs(b - a) for a, b in itertools.pairwise(x)]
    mr_bar = sum(mr) / len(mr)
    center = sum(x) / len(x)
    _a2, d3, d4, d2 = CONSTANTS[2]
    half = 3.0 * mr_bar / d2
    mr_chart = ControlChart(
        kind="MR",
        values=tuple(mr),
        center=mr_bar,
        ucl=d4 * mr_bar,
        lcl=d3 * mr_bar,
        labels=tuple(labels[1:]) if labels else (),
        violations=tuple(v for v in western_electric(mr, mr_bar, (d4 - 1) * mr_bar / 3, (1,))),
    )
    return ControlChart(
        kind="I",
        values=tuple(x),
        center=center,
        ucl=center + half,
        lcl=center - half,
        labels=tuple(labels),
        violations=western_electric(x, center, half / 3.0),
        companion=mr_chart,
    )


def xbar_r_chart(subgroups: Sequence[Sequence[float]], labels: Sequence[str] = ()) -> ControlChart:
    """X̄ chart (with its R companion) for equal-size subgroups of 2 to 10 values.

    Raises:
        ValidationError: Fewer than two subgroups, unequal sizes or a size outside 2–10.
    """
    groups = [[float(v) for v in g] for g in subgroups]
    if len(groups) < 2:
        raise ValidationError(
            "an X̄-R chart needs at least two subgroups", code="analytics.spc.too_few"
        )
    n = len(groups[0])
    if any(len(g) != n for g in groups) or n not in CONSTANTS:
        raise ValidationError(
            "X̄-R subgroups must all have the same size, between 2 and 10",
            code="analytics.spc.subgroup",
        )
    a2, d3, d4, _d2 = CONSTANTS[n]
    means = [sum(g) / n for g in groups]
    ranges = [max(g) - min(g) for g in groups]
    xbb = sum(means) / len(means)
    r_bar = sum(ranges) / len(ranges)
    r_chart = ControlChart(
        kind="R",
        values=tuple(ranges),
        center=r_bar,
        ucl=d4 * r_bar,
        lcl=d3 * r_bar,
        labels=tuple(labels),
        violations=western_electric(ranges, r_bar, (d4 - 1) * r_bar / 3, (1,)),
    )
    return ControlChart(
        kind="Xbar",
        values=tuple(means),
        center=xbb,
        ucl=xbb + a2 * r_bar,
        lcl=xbb - a2 * r_bar,
        labels=tuple(labels),
        violations=western_electric(means, xbb, a2 * r_bar / 3.0),
        companion=r_chart,
    )
