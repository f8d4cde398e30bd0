"""The encoded (numpy) DFG and variants paths equal the polars implementation they replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from liucheng.analytics import discover_dfg, variants
from liucheng.analytics._fast import encoded
from liucheng.analytics.dfg import discover_dfg_polars
from liucheng.analytics.variants import variants_polars
from liucheng.history import from_frame, read_log
from liucheng.history._encoded import cached_encoding, encode_log, forget_encoding
from tests.history._pm4py import BIG, LOGS, log_path

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    # Counts and names exactly; seconds up to float summation order (ints sum exactly here).
    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)


def _assert_equal_paths(
    frame: pl.DataFrame, lifecycles: tuple[str, ...] = ("all", "complete")
) -> None:
    assert encoded(frame, "all") is not None, "the fast path must be taken"
    for lifecycle in lifecycles:
        for perf in (False, True):
            fast = discover_dfg(frame, lifecycle=lifecycle, performance=perf)
            ref = discover_dfg_polars(frame, lifecycle=lifecycle, performance=perf)
            _same(fast.edges, ref.edges)
            _same(fast.start, ref.start)
            _same(fast.end, ref.end)
            _same(fast.activities, ref.activities)
        _same(variants(frame, lifecycle=lifecycle), variants_polars(frame, lifecycle=lifecycle))


def _frame(
    rows: list[tuple[str, str, int]], lifecycle: list[str | None] | None = None
) -> pl.DataFrame:
    raw: dict[str, list[object]] = {
        "case_id": [r[0] for r in rows],
        "activity": [r[1] for r in rows],
        "timestamp": [T0 + timedelta(seconds=r[2]) for r in rows],
    }
    if lifecycle is not None:
        raw["lifecycle"] = list(lifecycle)
    return from_frame(pl.DataFrame(raw, schema_overrides={"lifecycle": pl.String}))


@pytest.mark.parametrize("name", [*LOGS, "running-example.csv", "example_log.jsonocel"])
def test_equal_on_shared_logs(name: str) -> None:
    _assert_equal_paths(read_log(log_path(name)))


@pytest.mark.slow
def test_equal_on_bpic2012() -> None:
    _assert_equal_paths(read_log(log_path(BIG)))


def test_empty_log() -> None:
    empty = _frame([])
    _assert_equal_paths(empty)
    assert variants(empty).height == 0 and discover_dfg(empty).edges.height == 0


def test_no_complete_events_left() -> None:
    frame = _frame([("1", "a", 0), ("1", "b", 5)], lifecycle=["start", "start"])
    _assert_equal_paths(frame)
    assert variants(frame).height == 0


def test_single_event_cases_ties_and_unicode() -> None:
    rows = [
        ("c1", "Ännahme", 0),
        ("c2", "Ännahme", 0),
        ("c3", "审批", 10),
        ("c3", "審批", 10),  # a tie in time: file order stands
        ("c3", "Ännahme", 10),
        ("c4", "审批", 0),
        ("c4", "審批", 0),
        ("c4", "Ännahme", 7),
        ("c5", "z", 3),
        ("c5", "a", 3),
        ("c6", "a", 3),
        ("c6", "z", 3),
    ]
    frame = _frame(rows)
    _assert_equal_paths(frame)
    v = variants(frame)
    # c5 and c6 are distinct variants with equal count: the first seen ranks first.
    ranked = [tuple(a) for a in v["activities"].to_list()]
    assert ranked.index(("z", "a")) < ranked.index(("a", "z"))
    assert ranked[0] == ("Ännahme",) and v["count"][0] == 2


def test_lifecycle_subset_drops_emptied_cases() -> None:
    frame = _frame(
        [("1", "a", 0), ("1", "b", 1), ("2", "a", 0), ("2", "c", 9), ("3", "b", 4)],
        lifecycle=["complete", None, "start", "COMPLETE", "start"],
    )
    _assert_equal_paths(frame, ("all", "complete", "start"))


def test_more_activities_than_uint16() -> None:
    n = 70_000
    rows = [(f"c{i // 3}", f"act {i % (n // 2)} {i}", i) for i in range(n)]
    frame = _frame(rows)
    enc = encoded(frame, "all")
    assert enc is not None and enc.codes.dtype == np.uint32
    _assert_equal_paths(frame, ("all",))


@pytest.mark.parametrize("extra", [0, 300])
def test_variants_are_whole_sequences(extra: int) -> None:
    # Sequences whose concatenations agree ("ab" + "" vs "a" + "b") or whose codes share bytes
    # (with > 256 activities a code takes two bytes) must stay apart; equal ones group.
    acts = ["a", "b", *[f"x{i:03d}" for i in range(extra)]]
    rows: list[tuple[str, str, int]] = [("c0", "a", 0), ("c0", "b", 1)]
    rows += [("c1", "a", 0), ("c2", "b", 0), ("c3", "a", 0), ("c3", "b", 1)]
    rows += [(f"d{i}", act, i) for i, act in enumerate(acts[2:])]  # every activity occurs
    if extra:
        lo, hi = acts[2], acts[-1]  # codes 2 and 301: bytes (2, 0) and (45, 1)
        rows += [("e0", lo, 0), ("e0", hi, 1), ("e1", hi, 0), ("e1", lo, 1), ("e2", lo, 0)]
        rows += [("e2", hi, 1)]
    frame = _frame(rows)
    enc = encoded(frame, "all")
    assert enc is not None and enc.codes.dtype == np.uint16
    _assert_equal_paths(frame, ("all",))
    v = variants(frame, lifecycle="all")
    assert v["activities"][0].to_list() == ["a", "b"] and v["count"][0] == 2
    assert v["count"].sum() == frame["case_id"].n_unique()


def test_cases_not_sorted_by_time() -> None:
    # A frame whose cases are adjacent but not time-ordered: durations are max - min.
    raw = pl.DataFrame(
        {
            "case_id": ["1", "1", "1", "2", "2"],
            "activity": ["a", "b", "c", "a", "b"],
            "timestamp": [T0 + timedelta(hours=h) for h in (5, 1, 3, 0, 2)],
        }
    )
    _assert_equal_paths(raw, ("all",))
    assert variants(raw, lifecycle="all")["max_seconds"][0] == 4 * 3600


def test_cases_not_adjacent() -> None:
    raw = pl.DataFrame(
        {
            "case_id": ["1", "2", "1", "2"],
            "activity": ["a", "a", "b", "c"],
            "timestamp": [T0 + timedelta(hours=h) for h in (0, 1, 2, 3)],
        }
    )
    _assert_equal_paths(raw, ("all",))
    assert {(r[0], r[1]) for r in discover_dfg(raw, lifecycle="all").edges.iter_rows()} == {
        ("a", "b"),
        ("a", "c"),
    }


def test_null_timestamps_take_the_polars_path() -> None:
    raw = pl.DataFrame(
        {
            "case_id": ["1", "1", "2"],
            "activity": ["a", "b", "a"],
            "timestamp": [T0, None, T0],
        }
    )
    frame = from_frame(raw)
    assert encode_log(frame) is None
    _same(variants(frame, lifecycle="all"), variants_polars(frame, lifecycle="all"))
    _same(
        discover_dfg(frame, lifecycle="all").edges,
        discover_dfg_polars(frame, lifecycle="all").edges,
    )


def test_encoding_is_cached_on_the_frame_only() -> None:
    frame = read_log(log_path("running-example.xes"))
    assert cached_encoding(frame) == (False, None)
    discover_dfg(frame)
    hit, enc = cached_encoding(frame)
    assert hit and enc is not None
    assert encoded(frame, "all") is enc
    # A derived frame (other rows) never sees the cache of its parent.
    head = frame.head(10)
    assert cached_encoding(head) == (False, None)
    _same(variants(head), variants_polars(head))
    complete = encoded(frame, "complete")
    assert complete is not None and encoded(frame, "complete") is complete
    # Changed in place (same shape): forget_encoding makes the next analysis see the change.
    frame[0, "activity"] = "zzz changed"
    forget_encoding(frame)
    assert cached_encoding(frame) == (False, None)
    _same(variants(frame), variants_polars(frame))
    assert "zzz changed" in discover_dfg(frame).start["activity"].to_list()
