"""Process KPIs on a log small enough to compute by hand (the arithmetic is in the comments)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from liucheng.analytics.kpi import (
    CostModel,
    KpiSettings,
    activity_instances,
    backlog,
    case_measures,
    kpi_by,
    kpi_summary,
    throughput,
)
from liucheng.errors import ValidationError
from liucheng.history import from_frame


def t(h: float, day: int = 1) -> datetime:
    return datetime(2024, 1, day, int(h), round((h % 1) * 60), tzinfo=UTC)


def log() -> pl.DataFrame:
    # Case A: a (ann, 08:00-09:00), b (bob, instant at 10:00), a again (ann, 11:00-11:30).
    # Case B: a (ann, instant 08:00), c (ann, instant 12:00).
    raw = pl.DataFrame(
        {
            "case_id": ["A"] * 5 + ["B"] * 2,
            "activity": ["a", "a", "b", "a", "a", "a", "c"],
            "timestamp": [t(8), t(9), t(10), t(11), t(11.5), t(8), t(12)],
            "lifecycle": ["start", "complete", "complete", "start", "complete", None, "complete"],
            "resource": ["ann", "ann", "bob", "ann", "ann", "ann", "ann"],
            "case:amount": [100] * 5 + [300] * 2,
        }
    )
    return from_frame(raw)


SETTINGS = KpiSettings(
    sla_seconds=3.5 * 3600,
    costs=CostModel(resource_rates={"ann": 60, "bob": 120}, activity_costs={"a": 10}),
)


def test_activity_instances() -> None:
    inst = activity_instances(log(), SETTINGS).filter(pl.col("case_id") == "A")
    assert inst["activity"].to_list() == ["a", "b", "a"]
    assert inst["working_seconds"].to_list() == [3600, 0, 1800]
    # waiting: first instance 0; b starts 10:00, a completed 09:00 → 1 h; a2 starts 11:00 → 1 h.
    assert inst["waiting_seconds"].to_list() == [0, 3600, 3600]
    assert inst["repeat"].to_list() == [False, False, True]
    assert inst["handover"].to_list() == [False, True, True]
    # cost: 1 h × 60 + 10; 0 × 120; 0.5 h × 60 + 10.
    assert inst["cost"].to_list() == [70, 0, 40]


def test_case_measures() -> None:
    cases = case_measures(log(), SETTINGS)
    a, b = cases.row(0, named=True), cases.row(1, named=True)
    assert (a["case_id"], b["case_id"]) == ("A", "B")
    assert a["cycle_time_seconds"] == 3.5 * 3600 and b["cycle_time_seconds"] == 4 * 3600
    assert (a["working_seconds"], a["waiting_seconds"]) == (5400, 7200)
    assert (b["working_seconds"], b["waiting_seconds"]) == (0, 4 * 3600)
    assert (a["rework"], b["rework"]) == (True, False)
    assert (a["handovers"], b["handovers"]) == (2, 0)
    assert (a["cost"], b["cost"]) == (110, 10)
    assert (a["on_time"], b["on_time"]) == (True, False)
    assert cases["case:amount"].to_list() == [100, 300]


def test_summary() -> None:
    s = kpi_summary(log(), SETTINGS)
    assert s["cases"] == 2
    assert s["cycle_time_seconds_mean"] == pytest.approx(3.75 * 3600)
    assert s["on_time_rate"] == 0.5
    assert s["rework_rate"] == 0.5 and s["first_time_right_rate"] == 0.5
    assert s["handovers_per_case"] == 1.0
    assert s["cost_per_case"] == 60
    # flow efficiency = working / (working + waiting) = 5400 / (5400 + 7200 + 14400).
    assert s["flow_efficiency"] == pytest.approx(0.2)


def test_by_activity_resource_role_and_attribute() -> None:
    by_act = {r["activity"]: r for r in kpi_by(log(), "activity", SETTINGS).iter_rows(named=True)}
    assert by_act["a"]["instances"] == 3 and by_act["a"]["cases"] == 2
    assert by_act["a"]["working_seconds_mean"] == pytest.approx(1800)
    assert by_act["a"]["rework_rate"] == pytest.approx(1 / 3)
    by_res = {r["resource"]: r for r in kpi_by(log(), "resource", SETTINGS).iter_rows(named=True)}
    assert by_res["bob"]["instances"] == 1 and by_res["bob"]["cost"] == 0
    roles = KpiSettings(roles={"ann": "clerk", "bob": "boss"})
    by_role = {
        r["role"]: r["instances"] for r in kpi_by(log(), "role", roles).iter_rows(named=True)
    }
    assert by_role == {"clerk": 4, "boss": 1}
    by_amount = kpi_by(log(), "amount", SETTINGS)
    assert by_amount.sort("case:amount")["cost_per_case"].to_list() == [110, 10]
    with pytest.raises(ValidationError, match="cannot group"):
        kpi_by(log(), "colour", SETTINGS)


def test_throughput_and_backlog_per_day() -> None:
    # Case X runs 1 Jan → 3 Jan, case Y 2 Jan → 2 Jan.
    raw = pl.DataFrame(
        {
            "case_id": ["X", "X", "Y", "Y"],
            "activity": ["s", "e", "s", "e"],
            "timestamp": [t(9, 1), t(9, 3), t(9, 2), t(17, 2)],
        }
    )
    frame = from_frame(raw)
    tp = throughput(frame, "day")
    assert tp["started"].to_list() == [1, 1, 0]
    assert tp["completed"].to_list() == [0, 1, 1]
    # Open at the end of each day: 1 Jan: X; 2 Jan: X (Y finished); 3 Jan: none.
    assert backlog(frame, "day")["open"].to_list() == [1, 1, 0]
    with pytest.raises(ValidationError):
        throughput(frame, "fortnight")


def test_cli_kpi_json(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from liucheng.cli import app
    from liucheng.history import write_log

    p = tmp_path / "log.parquet"
    write_log(log(), p)
    kf = tmp_path / "kpis.yaml"
    kf.write_text("sla: 3.5h\nkpis:\n  - {name: big, expression: amount > 200, aggregate: mean}\n")
    res = CliRunner().invoke(app, ["kpi", str(p), "--json", "--kpis", str(kf), "--by", "activity"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["on_time_rate"] == 0.5
    assert doc["summary"]["big"] == 0.5
    assert {g["activity"] for g in doc["groups"]} == {"a", "b", "c"}


def test_start_timestamp_column_gives_working_time() -> None:
    raw = pl.DataFrame(
        {
            "case_id": ["A", "A"],
            "activity": ["a", "b"],
            "timestamp": [t(9), t(12)],
            "start_timestamp": [t(8), t(10)],
        }
    )
    inst = activity_instances(from_frame(raw))
    # a: 08:00-09:00 (1 h work); b: waits 09:00-10:00, works 10:00-12:00.
    assert inst["working_seconds"].to_list() == [3600, 7200]
    assert inst["waiting_seconds"].to_list() == [0, 3600]


def test_minimal_frame_is_enough() -> None:
    raw = pl.DataFrame(
        {"case_id": ["A", "B", "A"], "activity": ["a", "a", "b"], "timestamp": [t(8), t(9), t(10)]}
    )
    # Interleaved cases and no lifecycle/resource/event_index columns.
    s = kpi_summary(raw)
    assert s["cases"] == 2 and s["cycle_time_seconds_max"] == 7200
