"""CSV and Parquet: column mapping, round trips, errors naming the row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from liucheng.history import ColumnMapping, EventLogError, read_log, write_log
from tests.history._pm4py import log_path


def test_running_example_csv_equals_xes() -> None:
    csv = read_log(log_path("running-example.csv"))
    xes = read_log(log_path("running-example.xes"))
    cols = ["case_id", "activity", "timestamp", "resource"]
    assert csv.select(cols).equals(xes.select(cols))
    assert csv["case:creator"].to_list() == xes["case:creator"].to_list()


def test_mapping_with_format_cost_and_attributes(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text(
        "Ticket;Step;When;Who;Phase;Euro;Prio;Junk\n"
        "T2;close;03.01.2024 10:00;bob;complete;5.5;high;x\n"
        "T1;open;01.01.2024 09:00;ann;start;1;low;x\n"
        "T1;open;01.01.2024 09:30;ann;COMPLETE;2;low;x\n"
        "T2;open;02.01.2024 08:00;ann;complete;3;high;x\n"
    )
    raw = pl.read_csv(p, separator=";")
    mapping = ColumnMapping(
        case="Ticket",
        activity="Step",
        timestamp="When",
        timestamp_format="%d.%m.%Y %H:%M",
        resource="Who",
        lifecycle="Phase",
        cost="Euro",
        attributes={"Prio": "priority"},
    )
    from liucheng.history import from_frame

    df = from_frame(raw, mapping)
    assert df.columns == [
        "case_id",
        "activity",
        "timestamp",
        "lifecycle",
        "resource",
        "event_index",
        "priority",
        "cost:total",
    ]
    # Cases in order of first appearance (T2 first), events in time order inside each case.
    assert df["case_id"].to_list() == ["T2", "T2", "T1", "T1"]
    assert df["activity"].to_list() == ["open", "close", "open", "open"]
    assert df["lifecycle"].to_list() == ["complete", "complete", "start", "complete"]
    assert df["cost:total"].to_list() == [3.0, 5.5, 1.0, 2.0]
    assert df["timestamp"][0].isoformat() == "2024-01-02T08:00:00+00:00"


def test_missing_column_is_named(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("case,act,time\n1,a,2024-01-01\n")
    with pytest.raises(EventLogError) as info:
        read_log(p, mapping=ColumnMapping(activity="activity_name"))
    assert "activity_name" in info.value.message
    assert "case, act, time" in (info.value.hint or "")


def test_bad_timestamp_names_the_row(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("case_id,activity,timestamp\n1,a,2024-01-01\n1,b,yesterday\n")
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert info.value.details["row"] == 2
    assert "row 2" in str(info.value) and "yesterday" in str(info.value)


def test_empty_case_id_names_the_row(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("case_id,activity,timestamp\n1,a,2024-01-01\n,b,2024-01-02\n")
    with pytest.raises(EventLogError, match="row 2"):
        read_log(p)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    df = read_log(log_path("receipt.xes.gz"))
    out = tmp_path / f"log{suffix}"
    write_log(df, out)
    back = read_log(out)
    assert back.columns == df.columns
    if suffix == ".parquet":
        assert back.equals(df)
    else:
        # CSV has no types: core columns and dates come back exactly, text stays text.
        assert back.select(df.columns[:6]).equals(df.select(df.columns[:6]))
        assert back["case:deadline"].to_list() == df["case:deadline"].to_list()
        assert back["org:group"].to_list() == df["org:group"].to_list()


def test_naive_timestamps_are_utc(tmp_path: Path) -> None:
    p = tmp_path / "log.parquet"
    pl.DataFrame(
        {"case": ["1"], "activity": ["a"], "timestamp": [datetime(2024, 1, 1, 12)]}
    ).write_parquet(p)
    df = read_log(p)
    assert df["timestamp"][0].isoformat() == "2024-01-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("case_id,activity,timestamp\n1,a,2024-01-01\n1,b,2024-01-02,extra\n", "4 fields"),
        ('case_id,activity,timestamp\n1,a,2024-01-01\n2,"c,2024-01-03\n', "end of data"),
    ],
)
def test_malformed_csv_names_the_row(tmp_path: Path, text: str, why: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert info.value.code == "history.csv.malformed"
    assert info.value.details["row"] == 2 and info.value.line == 3
    assert why in info.value.message


def test_format_detection_by_content(tmp_path: Path) -> None:
    from liucheng.history import detect_format

    df = read_log(log_path("running-example.xes"))
    cases = {
        "a.xes": "xes",
        "b.parquet": "parquet",
        "c.jsonocel": "ocel-json",
        "d.xmlocel": "ocel-xml",
        "e.sqlite": "ocel-sqlite",
    }
    for name, fmt in cases.items():
        p = tmp_path / name
        write_log(df, p)
        bare = tmp_path / f"nosuffix_{fmt}"
        bare.write_bytes(p.read_bytes())
        assert detect_format(bare) == fmt
        assert read_log(bare)["activity"].len() == 42
    unknown = tmp_path / "mystery"
    unknown.write_text("hello")
    with pytest.raises(EventLogError, match="cannot tell"):
        read_log(unknown)
