"""The engine's own history as an event log, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from liucheng.cli._servicedesk import run_service_desk
from liucheng.errors import LiuchengError
from liucheng.history import is_engine_database, read_engine_log, read_log, write_log

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def desk_url(sql_url: str) -> str:
    report = run_service_desk(ROOT / "processes", sql_url, requests=8, seed=5)
    assert report.requests == 8
    return sql_url


def test_engine_history_as_an_event_log(desk_url: str, tmp_path: Path) -> None:
    # One service-desk run per database serves every check (the run is the slow part).
    _every_instance_is_a_case_with_named_activities(desk_url)
    _read_log_takes_the_database(desk_url, tmp_path)
    _interrupted_activities_end_with_abort(desk_url)


def _every_instance_is_a_case_with_named_activities(desk_url: str) -> None:
    log = read_engine_log(desk_url)
    assert log.columns[:6] == [
        "case_id",
        "activity",
        "timestamp",
        "lifecycle",
        "resource",
        "event_index",
    ]
    assert log.get_column("case_id").n_unique() == 8
    assert log.schema["timestamp"] == pl.Datetime("us", "UTC")
    names = set(log.get_column("activity"))
    assert {"Record request", "Classify ticket", "Solve problem", "Answer customer"} <= names
    assert not any(n.startswith(("merge_", "Flow_")) for n in names)  # activities only
    record = log.filter(pl.col("activity") == "Record request")
    # user tasks: schedule (created), start (claimed), complete (with the person)
    assert record.group_by("lifecycle").len().sort("lifecycle").to_dicts() == [
        {"lifecycle": "complete", "len": 8},
        {"lifecycle": "schedule", "len": 8},
        {"lifecycle": "start", "len": 8},
    ]
    people = {"tom", "anna", "ben", "carla"}
    assert set(record.filter(pl.col("lifecycle") == "complete").get_column("resource")) <= people
    # events of a case come in time order, cases in order of first appearance
    for _, case in log.group_by("case_id", maintain_order=True):
        assert case.get_column("timestamp").is_sorted()
    # case attributes: process, and the DMN's priority for every case
    assert set(log.get_column("case:process")) == {"service_desk"}
    assert set(log.get_column("case:priority")) <= {"critical", "high", "medium", "low"}


def _read_log_takes_the_database(desk_url: str, tmp_path: Path) -> None:
    direct = read_engine_log(desk_url)
    via = read_log(desk_url)
    assert via.equals(direct)
    if desk_url.startswith("sqlite:///"):
        path = Path(desk_url.removeprefix("sqlite:///"))
        assert is_engine_database(path)
        assert read_log(path).equals(direct)
    out = tmp_path / "history.xes"
    write_log(direct, out)
    back = read_log(out)
    assert back.height == direct.height
    assert back.get_column("case_id").n_unique() == 8


def _interrupted_activities_end_with_abort(desk_url: str) -> None:
    log = read_engine_log(desk_url, include_events=True)
    survey = log.filter(pl.col("element_id") == "await_survey")
    timeouts = log.filter(
        (pl.col("element_id") == "survey_timeout") & (pl.col("lifecycle") == "complete")
    )
    aborted = survey.filter(pl.col("lifecycle") == "ate_abort")
    assert aborted.height == timeouts.height


def test_a_database_without_history_is_a_clear_error(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert not is_engine_database(other)
    with pytest.raises(LiuchengError, match="engine history"):
        read_engine_log(f"sqlite:///{other}")
