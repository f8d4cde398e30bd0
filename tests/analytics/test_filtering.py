"""Event-log filters."""

from __future__ import annotations

import polars as pl
import pytest

from liucheng.analytics.mining import (
    MiningError,
    filter_activities,
    filter_case_attribute,
    filter_case_performance,
    filter_end_activities,
    filter_event_attribute,
    filter_start_activities,
    filter_time_range,
    filter_variants_coverage,
    filter_variants_top,
)
from tests.analytics.test_petri_support import make_log

TRACES = [["a", "b"]] * 5 + [["a", "c"]] * 3 + [["b", "c", "d"]] * 2


def _log() -> pl.DataFrame:
    res = [["r1"] * len(t) if i % 2 else ["r2"] * len(t) for i, t in enumerate(TRACES)]
    return make_log(TRACES, res).with_columns(
        pl.col("case_id").str.replace("c", "").cast(pl.Int64).alias("case:n")
    )


def _cases(frame: pl.DataFrame) -> set[str]:
    return set(frame["case_id"].unique().to_list())


def test_variants_top_and_coverage() -> None:
    log = _log()
    assert _cases(filter_variants_top(log, 1)) == {f"c{i}" for i in range(5)}
    assert len(_cases(filter_variants_top(log, 2))) == 8
    assert len(_cases(filter_variants_coverage(log, 0.5))) == 5
    assert len(_cases(filter_variants_coverage(log, 0.6))) == 8
    assert len(_cases(filter_variants_coverage(log, 1.0))) == 10
    with pytest.raises(MiningError):
        filter_variants_coverage(log, 2.0)


def test_start_end_activities() -> None:
    log = _log()
    assert len(_cases(filter_start_activities(log, ["b"]))) == 2
    assert len(_cases(filter_end_activities(log, ["c", "d"]))) == 5


def test_time_range_modes() -> None:
    log = _log()  # case i runs on day i from 00:00 to at most 02:00
    day2 = "2024-01-03T00:30:00+00:00"
    end = "2024-01-04T23:00:00+00:00"
    assert _cases(filter_time_range(log, "2024-01-03", end, "contained")) == {"c2", "c3"}
    assert "c1" not in _cases(filter_time_range(log, day2, end, "intersecting"))
    assert _cases(filter_time_range(log, day2, end, "intersecting")) == {"c2", "c3"}
    assert _cases(filter_time_range(log, day2, end, "started")) == {"c3"}
    ev = filter_time_range(log, day2, end, "events")
    assert ev.height == 3  # c2's second event and both events of c3
    with pytest.raises(MiningError):
        filter_time_range(log, "not a date", end)


def test_attributes_case_and_event() -> None:
    log = _log()
    assert _cases(filter_case_attribute(log, "case:n", [1, 2])) == {"c1", "c2"}
    assert len(_cases(filter_case_attribute(log, "case:n", [1], keep=False))) == 9
    assert filter_event_attribute(log, "resource", ["r1"], level="event")[
        "resource"
    ].unique().to_list() == ["r1"]
    assert len(_cases(filter_event_attribute(log, "activity", ["d"]))) == 2
    assert filter_activities(log, ["a"], keep=False).filter(pl.col("activity") == "a").height == 0
    with pytest.raises(MiningError) as err:
        filter_case_attribute(log, "case:nope", [1])
    assert err.value.code == "mining.filter.column"


def test_case_performance() -> None:
    log = _log()
    assert len(_cases(filter_case_performance(log, 7200, 7200))) == 2  # three events, 2 h
    assert len(_cases(filter_case_performance(log, 0, 3600))) == 8
