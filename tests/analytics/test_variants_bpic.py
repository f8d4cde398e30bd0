"""Variants of the largest shared log (long traces, thousands of variants) equal pm4py's."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from liucheng.analytics.variants import variants_polars
from liucheng.history import read_log
from tests.analytics.test_variants import assert_variants_equal_pm4py
from tests.history._pm4py import BIG, log_path

_SECONDS = ["mean_seconds", "median_seconds", "min_seconds", "max_seconds", "share"]


@pytest.mark.slow
def test_variants_equal_pm4py_bpic2012() -> None:
    log = read_log(log_path(BIG))
    for lifecycle, ours in assert_variants_equal_pm4py(BIG).items():
        assert len(ours) > 1000  # the grouping really is exercised
        # Same order, counts and lists as the plain polars implementation; durations up to
        # float summation order.
        ref_frame = variants_polars(log, lifecycle=lifecycle)
        assert ours.drop(_SECONDS).equals(ref_frame.drop(_SECONDS))
        assert_frame_equal(ours, ref_frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
