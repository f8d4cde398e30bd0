"""The latest-definition cache of the SQLite write connection notices every deployment: one of
the same store, one of a second store (another connection, as another process would be), and a
deployment that rolls back leaves nothing behind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from liucheng.engine import Engine
from liucheng.engine.ports import DefinitionRecord, DeploymentRecord
from liucheng.store import SqlStore

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _deploy(store: SqlStore, version: int) -> None:
    dep = f"d{version}"
    with store.transaction() as tx:
        tx.add_deployment(
            DeploymentRecord(dep, "p.bpmn", T0, {"p.bpmn": b"<x/>"}),
            [DefinitionRecord(f"p:{version}:{dep}", "p", version, "bpmn", "P", dep, "p.bpmn", T0)],
        )


def _latest(store: SqlStore) -> str | None:
    with store.transaction() as tx:
        rec = tx.latest_definition("p")
    return None if rec is None else rec.id


def test_a_second_lookup_is_served_from_the_cache(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'lc.db'}")
    try:
        _deploy(store, 1)
        with store.transaction() as tx:
            first = tx.latest_definition("p")
        with store.transaction() as tx:
            again = tx.latest_definition("p")
            assert tx.latest_definition("p", "dmn") is None
        assert first is not None and again is first
    finally:
        store.dispose()


def test_deployments_of_this_and_of_another_store_are_seen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lc.db'}"
    one, two = SqlStore(url), SqlStore(url)
    try:
        _deploy(one, 1)
        assert _latest(one) == "p:1:d1"
        assert _latest(one) == "p:1:d1"  # cached now
        _deploy(two, 2)  # another connection (another process would look the same)
        assert _latest(one) == "p:2:d2"
        assert _latest(two) == "p:2:d2"
        _deploy(one, 3)  # the cached connection itself
        assert _latest(one) == "p:3:d3"
        assert _latest(two) == "p:3:d3"
    finally:
        one.dispose()
        two.dispose()


def test_a_rolled_back_deployment_is_not_remembered(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'lc.db'}")
    try:
        _deploy(store, 1)
        assert _latest(store) == "p:1:d1"
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.add_deployment(
                DeploymentRecord("d2", "p.bpmn", T0, {"p.bpmn": b"<x/>"}),
                [DefinitionRecord("p:2:d2", "p", 2, "bpmn", "P", "d2", "p.bpmn", T0)],
            )
            rec = tx.latest_definition("p")  # its own uncommitted version
            assert rec is not None and rec.id == "p:2:d2"
            raise RuntimeError("deployment abandoned")
        assert _latest(store) == "p:1:d1"
        assert _latest(store) == "p:1:d1"
    finally:
        store.dispose()


_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="http://example.com">
  <bpmn:process id="flow" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{task}"/>
    <bpmn:userTask id="{task}"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_an_engine_starts_the_version_another_engine_deployed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lc.db'}"
    first, second = Engine(SqlStore(url)), Engine(SqlStore(url))
    try:
        (tmp_path / "v1.bpmn").write_text(_BPMN.format(name="One", task="first"))
        (tmp_path / "v2.bpmn").write_text(_BPMN.format(name="Two", task="second"))
        first.deploy(tmp_path / "v1.bpmn")
        a = first.start_process("flow")
        second.deploy(tmp_path / "v2.bpmn")
        b = first.start_process("flow")
        assert [t.element_id for t in first.tasks(instance_id=a)] == ["first"]
        assert [t.element_id for t in first.tasks(instance_id=b)] == ["second"]
    finally:
        for engine in (first, second):
            engine.store.dispose()  # type: ignore[attr-defined]
