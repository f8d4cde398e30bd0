"""Control charts against hand-computed limits; Western Electric rules on crafted series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from liucheng.analytics import measure_chart
from liucheng.analytics.spc import CONSTANTS, imr_chart, western_electric, xbar_r_chart
from liucheng.errors import ValidationError
from liucheng.history import from_frame


def test_imr_limits_by_hand() -> None:
    c = imr_chart([10, 12, 11, 15, 12])
    # x̄ = 60 / 5 = 12; moving ranges 2, 1, 4, 3 → MR̄ = 10 / 4 = 2.5.
    assert c.center == pytest.approx(12.0)
    # UCL/LCL = 12 ± 3 × 2.5 / 1.128 = 12 ± 6.64894
    assert c.ucl == pytest.approx(18.64894, abs=1e-5)
    assert c.lcl == pytest.approx(5.35106, abs=1e-5)
    mr = c.companion
    assert mr is not None
    assert mr.values == (2, 1, 4, 3)
    assert mr.center == pytest.approx(2.5)
    # D4 = 3.267 for n = 2: 3.267 × 2.5 = 8.1675; D3 = 0.
    assert mr.ucl == pytest.approx(8.1675)
    assert mr.lcl == 0
    assert c.violations == ()


def test_xbar_r_limits_by_hand() -> None:
    c = xbar_r_chart([[1, 2, 3], [2, 3, 4], [3, 4, 6]])
    # means 2, 3, 4.333…; X̿ = 9.333… / 3 = 3.1111; ranges 2, 2, 3 → R̄ = 7 / 3 = 2.3333.
    assert c.center == pytest.approx(28 / 9)
    # A2 (n = 3) = 1.023: UCL = 3.1111 + 1.023 × 2.3333 = 5.49811; LCL = 0.72411.
    assert c.ucl == pytest.approx(28 / 9 + 1.023 * 7 / 3)
    assert c.lcl == pytest.approx(28 / 9 - 1.023 * 7 / 3)
    r = c.companion
    assert r is not None
    # D4 (n = 3) = 2.574 → 6.006; D3 = 0.
    assert r.ucl == pytest.approx(2.574 * 7 / 3)
    assert r.lcl == 0


def test_constants_table() -> None:
    assert CONSTANTS[5] == (0.577, 0.0, 2.114, 2.326)
    assert CONSTANTS[7][1] == 0.076


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 3.5, 0], [(1, 1)]),  # rule 1: beyond 3σ
        ([-0.5, -3.2], [(1, 1)]),
        ([2.5, 0, 2.5], [(2, 2)]),  # rule 2: 2 of 3 beyond 2σ, same side
        ([2.5, 0, -2.5], []),  # …but not on opposite sides
        ([-2.5, -2.6], []),  # fewer than three points: no window yet
        ([0, -2.5, -2.6], [(2, 2)]),
        ([1.5, 1.5, 0, 1.5, 1.5], [(3, 4)]),  # rule 3: 4 of 5 beyond 1σ
        ([0.5] * 8, [(4, 7)]),  # rule 4: 8 in a row on one side
        ([0.5] * 9, [(4, 7), (4, 8)]),
        ([-0.5] * 7 + [0.5], []),
    ],
)
def test_western_electric(values: list[float], expected: list[tuple[int, int]]) -> None:
    got = [(v.rule, v.index) for v in western_electric(values, 0.0, 1.0)]
    assert got == expected


def test_shift_is_flagged_on_an_imr_chart() -> None:
    values = [10.0, 10.5, 9.5, 10.0, 10.2, 9.8, 10.1, 9.9] + [10.6] * 8
    c = imr_chart(values)
    assert 4 in {v.rule for v in c.violations}
    assert c.out_of_control[-1] == 15


def test_errors() -> None:
    with pytest.raises(ValidationError):
        imr_chart([1.0])
    with pytest.raises(ValidationError):
        xbar_r_chart([[1, 2], [1, 2, 3]])
    with pytest.raises(ValidationError):
        xbar_r_chart([[1] * 11, [2] * 11])


def _cases_log() -> pl.DataFrame:
    # (case, completion day, cycle hours): day 1 → 1 h and 3 h (mean 2 h), day 2 → 4 h, day 3 → 6 h.
    spec = [("a", 1, 1), ("b", 1, 3), ("c", 2, 4), ("d", 3, 6)]
    rows = []
    for case, day, hours in spec:
        end = datetime(2024, 1, day, 20, tzinfo=UTC)
        rows += [(case, "start", end - timedelta(hours=hours)), (case, "end", end)]
    return from_frame(pl.DataFrame(rows, schema=["case_id", "activity", "timestamp"], orient="row"))


def test_measure_chart_per_day_by_hand() -> None:
    c = measure_chart(_cases_log(), "cycle_time_seconds", bucket="day")
    assert c.values == (7200, 14400, 21600)
    assert c.labels == ("2024-01-01", "2024-01-02", "2024-01-03")
    # x̄ = 14400; MR = 7200, 7200 → MR̄ = 7200; UCL = 14400 + 3 × 7200 / 1.128.
    assert c.ucl == pytest.approx(14400 + 3 * 7200 / 1.128)


def test_measure_chart_xbar_r_subgroups() -> None:
    c = measure_chart(_cases_log(), "cycle_time_seconds", chart="xbar_r", subgroup_size=2)
    # Cases by completion: a (1 h), b (3 h) | c (4 h), d (6 h): means 2 h and 5 h, ranges 2 h, 2 h.
    assert c.values == (7200, 18000)
    assert c.companion is not None and c.companion.values == (7200, 7200)
    with pytest.raises(ValidationError):
        measure_chart(_cases_log(), "colour")
