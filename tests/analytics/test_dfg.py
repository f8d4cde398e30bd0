"""Directly-follows graph: counts equal pm4py's on every shared log; hand-checked times."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from liucheng.analytics import discover_dfg
from liucheng.history import from_frame, read_log
from tests.history._pm4py import BIG, LOGS, as_pm4py, log_path, pm4py, pm4py_complete, quiet


def _small() -> pl.DataFrame:
    t = lambda h: datetime(2024, 1, 1, h, tzinfo=UTC)  # noqa: E731
    raw = pl.DataFrame(
        {
            "case_id": ["1", "1", "1", "2", "2", "2"],
            "activity": ["a", "b", "b", "a", "b", "c"],
            "timestamp": [t(1), t(2), t(5), t(1), t(4), t(4)],
            "lifecycle": ["complete", None, "start", "COMPLETE", "complete", "complete"],
        }
    )
    return from_frame(raw)


def test_small_log_by_hand() -> None:
    g = discover_dfg(_small())
    # complete-only (null counts): case 1 = a,b (the start event dropped); case 2 = a,b,c.
    edges = {(r["source"], r["target"]): r for r in g.edges.iter_rows(named=True)}
    assert set(edges) == {("a", "b"), ("b", "c")}
    assert edges[("a", "b")]["count"] == 2
    # a→b took 1 h in case 1 and 3 h in case 2.
    assert edges[("a", "b")]["mean_seconds"] == pytest.approx(2 * 3600)
    assert edges[("a", "b")]["min_seconds"] == 3600 and edges[("a", "b")]["max_seconds"] == 3 * 3600
    assert edges[("b", "c")]["mean_seconds"] == 0
    assert dict(g.start.iter_rows()) == {"a": 2}
    assert dict(g.end.iter_rows()) == {"b": 1, "c": 1}
    every = discover_dfg(_small(), lifecycle="all")
    assert ("b", "b") in {(r[0], r[1]) for r in every.edges.iter_rows()}


def _check(name: str) -> None:
    # pm4py's importer is checked against ours in tests/history; here its algorithm runs on the
    # same events (pm4py orders by time:timestamp, as we do; there is no start-time column).
    log = read_log(log_path(name))
    ref_all = as_pm4py(log)
    mod = pm4py()
    for lifecycle, ref_frame in (("all", ref_all), ("complete", pm4py_complete(ref_all))):
        with quiet():
            dfg, start, end = mod.discover_dfg(ref_frame)
        g = discover_dfg(log, lifecycle=lifecycle)
        ours = {(r["source"], r["target"]): r["count"] for r in g.edges.iter_rows(named=True)}
        assert ours == dict(dfg), (name, lifecycle)
        assert dict(g.start.iter_rows()) == dict(start)
        assert dict(g.end.iter_rows()) == dict(end)


@pytest.mark.parametrize("name", LOGS)
def test_dfg_counts_equal_pm4py(name: str) -> None:
    _check(name)


@pytest.mark.slow
def test_dfg_counts_equal_pm4py_bpic2012() -> None:
    _check(BIG)


def test_cli_json_shape() -> None:
    from typer.testing import CliRunner

    from liucheng.cli import app

    res = CliRunner().invoke(app, ["mine", "dfg", str(log_path("running-example.xes")), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) == {"edges", "start", "end"}
    assert set(doc["edges"][0]) == {"source", "target", "count", "mean_seconds"}
    assert doc["start"] == {"register request": 6}
    assert sum(e["count"] for e in doc["edges"]) == 42 - 6


def test_cli_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("liucheng")
    out = subprocess.run(
        [str(exe), "mine", "dfg", str(tmp_path / "no.xes"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "history.file.missing" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("name", ["repairExample.xes.gz", "running-example.xes"])
def test_dfg_equals_pm4py_on_pm4py_import(name: str) -> None:
    # End to end: pm4py's importer + its DFG vs ours (repairExample has equal timestamps in a
    # case, so the per-case order must match pm4py's stable time sort).
    from tests.history._pm4py import pm4py_frame

    with quiet():
        dfg, start, end = pm4py().discover_dfg(pm4py_frame(name))
    g = discover_dfg(read_log(log_path(name)), lifecycle="all")
    assert {(r[0], r[1]): r[2] for r in g.edges.iter_rows()} == dict(dfg)
    assert dict(g.start.iter_rows()) == dict(start)
    assert dict(g.end.iter_rows()) == dict(end)
