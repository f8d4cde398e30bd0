"""OCEL: the shared OCEL 1.0 jsonocel, OCEL 2.0 JSON/XML/SQLite round trips, flattening."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liucheng.history import EventLogError, read_log, write_log
from liucheng.history.ocel import flatten, from_event_log, read_ocel, write_ocel
from tests.history._pm4py import log_path, pm4py, quiet

FORMATS = {"ocel-json": "log.jsonocel", "ocel-xml": "log.xmlocel", "ocel-sqlite": "log.sqlite"}


def test_shared_jsonocel_is_ocel_1_0_and_matches_pm4py() -> None:
    path = log_path("example_log.jsonocel")
    doc = json.loads(path.read_text())
    assert doc["ocel:global-log"]["ocel:version"] == "1.0"
    ours = read_ocel(path)
    with quiet():
        ref = pm4py().read_ocel(str(path))
    assert ours.events.height == len(ref.events)
    assert ours.objects.height == len(ref.objects)
    assert ours.relations.height == len(ref.relations)
    assert sorted(ours.events["ocel_type"].to_list()) == sorted(
        ref.events["ocel:activity"].tolist()
    )
    assert ours.events["prova2"].to_list()[0] == 456


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_ocel_round_trip(tmp_path: Path, fmt: str) -> None:
    log = read_ocel(log_path("example_log.jsonocel"))
    out = tmp_path / FORMATS[fmt]
    write_ocel(log, out)
    back = read_ocel(out)
    assert back.events.equals(log.events)
    assert back.objects.equals(log.objects)
    assert back.relations.sort(["ocel_event_id", "ocel_object_id"]).equals(
        log.relations.sort(["ocel_event_id", "ocel_object_id"])
    )
    assert back.object_attributes.sort(["ocel_id", "ocel_name"]).equals(
        log.object_attributes.sort(["ocel_id", "ocel_name"])
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_pm4py_reads_our_ocel_2(tmp_path: Path, fmt: str) -> None:
    log = read_ocel(log_path("example_log.jsonocel"))
    out = tmp_path / FORMATS[fmt]
    write_ocel(log, out)
    reader = {
        "ocel-json": "read_ocel2_json",
        "ocel-xml": "read_ocel2_xml",
        "ocel-sqlite": "read_ocel2_sqlite",
    }[fmt]
    with quiet():
        ref = getattr(pm4py(), reader)(str(out))
    assert len(ref.events) == log.events.height
    assert len(ref.relations) == log.relations.height
    assert set(ref.objects["ocel:type"]) == set(log.objects["ocel_type"].to_list())


def test_flatten_on_order_like_pm4py() -> None:
    path = log_path("example_log.jsonocel")
    flat = flatten(read_ocel(path), "order")
    with quiet():
        mod = pm4py()
        ref = mod.ocel_flattening(mod.read_ocel(str(path)), "order")
    assert flat.height == len(ref)
    assert sorted(zip(flat["case_id"], flat["activity"], strict=True)) == sorted(
        zip(ref["case:concept:name"], ref["concept:name"], strict=True)
    )


def test_unknown_object_type_is_an_error() -> None:
    with pytest.raises(EventLogError, match="not in the log"):
        flatten(read_ocel(log_path("example_log.jsonocel")), "invoice")


@pytest.mark.parametrize("suffix", [".jsonocel", ".xmlocel", ".sqlite"])
def test_event_log_to_ocel_and_back(tmp_path: Path, suffix: str) -> None:
    df = read_log(log_path("running-example.xes"))
    out = tmp_path / f"log{suffix}"
    write_log(df, out)
    back = read_log(out)
    cols = ["case_id", "activity", "timestamp", "resource", "Costs", "case:creator"]
    assert back.select(cols).equals(df.select(cols))
    assert from_event_log(df).objects.height == df["case_id"].n_unique()


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonocel"
    p.write_text('{\n "events": [\n  {"id": "e1",,}\n ]\n}\n')
    with pytest.raises(EventLogError) as info:
        read_ocel(p)
    assert info.value.line == 3


def test_xml_with_doctype_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bad.xmlocel"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY e "x">]>\n<log><events/></log>\n')
    with pytest.raises(EventLogError, match="DOCTYPE"):
        read_ocel(p)


def test_dangling_object_reference_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonocel"
    p.write_text(
        json.dumps(
            {
                "objectTypes": [],
                "eventTypes": [],
                "objects": [],
                "events": [
                    {
                        "id": "e1",
                        "type": "a",
                        "time": "2024-01-01T00:00:00Z",
                        "relationships": [{"objectId": "o9", "qualifier": ""}],
                    }
                ],
            }
        )
    )
    with pytest.raises(EventLogError, match="o9"):
        read_ocel(p)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_we_read_pm4py_written_ocel_2(tmp_path: Path, fmt: str) -> None:
    src = log_path("example_log.jsonocel")
    out = tmp_path / FORMATS[fmt]
    writer = {
        "ocel-json": "write_ocel2_json",
        "ocel-xml": "write_ocel2_xml",
        "ocel-sqlite": "write_ocel2_sqlite",
    }[fmt]
    with quiet():
        mod = pm4py()
        ref = mod.read_ocel(str(src))
        getattr(mod, writer)(ref, str(out))
    ours = read_ocel(out)
    assert ours.events.height == len(ref.events)
    assert ours.objects.height == len(ref.objects)
    assert ours.relations.height == len(ref.relations)
    assert sorted(ours.events["ocel_id"].to_list()) == sorted(ref.events["ocel:eid"].tolist())
