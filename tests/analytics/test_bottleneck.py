"""Bottleneck analysis on hand-computed logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from liucheng.analytics.mining import activity_waiting, handover_durations, resource_workload
from liucheng.analytics.mining.bottleneck import activity_instances

T0 = datetime(2024, 3, 4, 8, tzinfo=UTC)


def _log() -> pl.DataFrame:
    # case 1: A by ann (start 0h, complete 1h), B by bob (start 3h, complete 4h)
    # case 2: A by ann (start 0.5h, complete 2h), B by bob (start 2h, complete 6h)
    rows = [
        ("1", "A", 0.0, "start", "ann"),
        ("1", "A", 1.0, "complete", "ann"),
        ("2", "A", 0.5, "start", "ann"),
        ("1", "B", 3.0, "start", "bob"),
        ("2", "A", 2.0, "complete", "ann"),
        ("2", "B", 2.0, "start", "bob"),
        ("1", "B", 4.0, "complete", "bob"),
        ("2", "B", 6.0, "complete", "bob"),
    ]
    frame = pl.DataFrame(
        {
            "case_id": [r[0] for r in rows],
            "activity": [r[1] for r in rows],
            "timestamp": [T0 + timedelta(hours=r[2]) for r in rows],
            "lifecycle": [r[3] for r in rows],
            "resource": [r[4] for r in rows],
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )
    return frame.sort(["case_id", "timestamp"], maintain_order=True)


def test_instances_pair_start_and_complete() -> None:
    inst = activity_instances(_log()).sort(["case_id", "activity"])
    assert inst.height == 4
    assert inst["service_s"].to_list() == [3600.0, 3600.0, 5400.0, 14400.0]
    assert inst["waiting_s"].to_list() == [None, 7200.0, None, 0.0]


def test_waiting_per_activity() -> None:
    w = activity_waiting(_log())
    top = w.row(0, named=True)
    assert top["activity"] == "B"
    assert top["total_waiting_s"] == pytest.approx(7200.0)
    assert top["mean_waiting_s"] == pytest.approx(3600.0)
    assert top["mean_service_s"] == pytest.approx(9000.0)


def test_handovers_by_resource_and_activity() -> None:
    h = handover_durations(_log())
    row = h.row(0, named=True)
    assert (row["source"], row["target"], row["count"]) == ("ann", "bob", 2)
    assert row["mean_s"] == pytest.approx(3600.0)
    assert handover_durations(_log(), "activity").row(0)[:3] == ("A", "B", 2)


def test_workload_and_concurrency() -> None:
    w = resource_workload(_log(), every="1d")
    bob = w.filter(pl.col("resource") == "bob").row(0, named=True)
    assert bob["instances"] == 2
    assert bob["cases"] == 2
    assert bob["busy_s"] == pytest.approx(18000.0)
    assert bob["max_concurrent"] == 2  # case 2's B starts at 2h, case 1's B runs 3h-4h
    ann = w.filter(pl.col("resource") == "ann").row(0, named=True)
    assert ann["max_concurrent"] == 2  # 0.5h-1h overlap


def test_complete_only_log_counts_work_as_waiting() -> None:
    log = _log().filter(pl.col("lifecycle") == "complete").drop("lifecycle")
    w = activity_waiting(log).filter(pl.col("activity") == "B").row(0, named=True)
    assert w["total_waiting_s"] == pytest.approx(3 * 3600 + 4 * 3600)
    assert w["mean_service_s"] is None
