"""XES import against pm4py's importer; round trips; hardening and error lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from liucheng.history import EventLogError, read_log, read_xes, write_log
from liucheng.history._schema import CORE_COLUMNS, UTC_DATETIME
from tests.history._pm4py import BIG, LOGS, log_path, pm4py_frame

MINI = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849.2016" xmlns="http://www.xes-standard.org/">
  <global scope="event"><string key="concept:name" value="x"/></global>
  <trace>
    <string key="concept:name" value="c1"/>
    <int key="priority" value="3"/>
    <event>
      <string key="concept:name" value="B"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00+01:00"/>
      <string key="lifecycle:transition" value="COMPLETE"/>
      <float key="cost:total" value="2.5"/>
      <boolean key="urgent" value="true"/>
      <list key="tags"><string key="t" value="ignored"/></list>
    </event>
    <event>
      <string key="concept:name" value="A"/>
      <date key="time:timestamp" value="2024-01-01T08:30:00Z"/>
      <string key="org:resource" value="ann"/>
      <int key="n" value="7"/>
    </event>
  </trace>
  <trace>
    <event>
      <string key="concept:name" value="C"/>
      <date key="time:timestamp" value="2024-01-02T00:00:00"/>
    </event>
  </trace>
</log>
"""


def _mini(tmp_path: Path) -> Path:
    p = tmp_path / "mini.xes"
    p.write_text(MINI, encoding="utf-8")
    return p


def test_mini_log_columns_types_and_order(tmp_path: Path) -> None:
    df = read_xes(_mini(tmp_path))
    assert df.columns[:6] == list(CORE_COLUMNS)
    assert df.schema["timestamp"] == UTC_DATETIME
    assert df.schema["cost:total"] == pl.Float64
    assert df.schema["urgent"] == pl.Boolean
    assert df.schema["n"] == pl.Int64
    assert df.schema["case:priority"] == pl.Int64
    assert "tags" not in df.columns and "t" not in df.columns
    # Per-case time order: A (08:30 UTC) before B (09:00 UTC) although B comes first in the file.
    assert df["activity"].to_list() == ["A", "B", "C"]
    assert df["event_index"].to_list() == [1, 0, 2]
    assert df["lifecycle"].to_list() == [None, "complete", None]
    assert df["resource"].to_list() == ["ann", None, None]
    # A trace without concept:name gets its position as case id; naive times are UTC.
    assert df["case_id"].to_list() == ["c1", "c1", "1"]
    assert df["timestamp"][1].isoformat() == "2024-01-01T09:00:00+00:00"
    assert df["timestamp"][2].isoformat() == "2024-01-02T00:00:00+00:00"


def test_gzip_and_plain_give_the_same_frame(tmp_path: Path) -> None:
    plain = _mini(tmp_path)
    gz = tmp_path / "mini.xes.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_log(gz).equals(read_log(plain))


@pytest.mark.parametrize("suffix", [".xes", ".xes.gz"])
def test_round_trip_keeps_every_column(tmp_path: Path, suffix: str) -> None:
    df = read_log(log_path("receipt.xes.gz"))
    out = tmp_path / f"copy{suffix}"
    write_log(df, out)
    back = read_log(out)
    assert back.schema == df.schema
    assert back.drop("event_index").equals(df.drop("event_index"))


def test_doctype_and_entities_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "evil.xes"
    p.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY x "boom">]>\n'
        '<log><trace><event><string key="concept:name" value="&x;"/></event></trace></log>\n'
    )
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert info.value.code in {"history.xes.refused", "history.xes.malformed"}
    assert "boom" not in str(info.value)


def test_malformed_xml_names_the_line(tmp_path: Path) -> None:
    text = MINI.replace(
        '<event>\n      <string key="concept:name" value="A"/>',
        '<event>\n      <string key="concept:name" value="A">',
    )
    p = tmp_path / "bad.xes"
    p.write_text(text)
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert info.value.code == "history.xes.malformed"
    assert info.value.file == str(p)
    assert info.value.line is not None and info.value.line >= 17


def test_bad_typed_value_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "badint.xes"
    p.write_text(MINI.replace('<int key="n" value="7"/>', '<int key="n" value="seven"/>'))
    with pytest.raises(EventLogError) as info:
        read_log(p)
    assert "seven" in info.value.message
    # The error names the line where the offending (second) event starts.
    event_lines = [i + 1 for i, line in enumerate(MINI.splitlines()) if line.strip() == "<event>"]
    assert info.value.line == event_lines[1]


def test_not_xes_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "x.xes"
    p.write_text("<definitions/>")
    with pytest.raises(EventLogError, match="not an XES log"):
        read_log(p)


@pytest.mark.parametrize("name", LOGS)
def test_same_cases_events_and_activities_as_pm4py(name: str) -> None:
    _compare_with_pm4py(name)


@pytest.mark.slow
def test_bpic2012_same_as_pm4py() -> None:
    _compare_with_pm4py(BIG)


def _compare_with_pm4py(name: str) -> None:
    ours = read_log(log_path(name))
    ref = pm4py_frame(name)
    assert ours.height == len(ref)
    assert ours["case_id"].n_unique() == ref["case:concept:name"].nunique()
    # pm4py keeps file order: compare event by event in file order.
    by_file = ours.sort("event_index")
    assert by_file["activity"].to_list() == ref["concept:name"].tolist()
    assert by_file["case_id"].to_list() == ref["case:concept:name"].astype(str).tolist()
    ref_ts = [t.isoformat() for t in ref["time:timestamp"].dt.tz_convert("UTC")]
    assert [t.isoformat() for t in by_file["timestamp"]] == ref_ts


def test_attribute_named_like_a_core_column_is_kept_aside(tmp_path: Path) -> None:
    p = tmp_path / "clash.xes"
    p.write_text(
        '<log><trace><string key="concept:name" value="c"/><event>'
        '<string key="concept:name" value="A"/><string key="activity" value="other"/>'
        '<date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace></log>'
    )
    df = read_log(p)
    assert df["activity"].to_list() == ["A"]
    assert df["attr:activity"].to_list() == ["other"]


def test_many_chunks_keep_order_and_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import liucheng.history.xes as xes_mod

    whole = read_xes(log_path("running-example.xes"))
    monkeypatch.setattr(xes_mod, "CHUNK_EVENTS", 3)  # 42 events → 14 chunks
    chunked = read_xes(log_path("running-example.xes"))
    assert chunked.equals(whole)
    assert chunked.schema == whole.schema


def test_pm4py_reads_our_xes(tmp_path: Path) -> None:
    from tests.history._pm4py import pm4py, quiet

    df = read_log(log_path("running-example.xes"))
    out = tmp_path / "ours.xes"
    write_log(df, out)
    with quiet():
        ref = pm4py().read_xes(str(out), show_progress_bar=False)
    assert len(ref) == df.height
    assert ref["concept:name"].tolist() == df["activity"].to_list()
    assert ref["case:concept:name"].tolist() == df["case_id"].to_list()
    assert ref["Costs"].tolist() == df["Costs"].to_list()
