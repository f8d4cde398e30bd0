"""Camunda's transient ``decisionResult`` in business rule tasks.

The output mappings of a business rule task read the unmapped decision result (one map per
matched rule) as ``decisionResult``, with or without ``camunda:resultVariable``; it is never a
process variable: no variable row, no history entry, nothing in the stored instance document.
Each flow runs on the memory store and on SQLite, plain and reloading the engine between steps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from liucheng.engine import Engine

from .helpers import bpmn, flows
from .rig import RIG_IDS, RIG_PARAMS, Rig, make_rig
from .test_business_rule import ONE_RULE, TWO_RULES


@pytest.fixture(params=RIG_PARAMS, ids=RIG_IDS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    yield from make_rig(request, tmp_path)


def _process(attrs: str, outputs: dict[str, str]) -> bytes:
    params = "".join(
        f'<camunda:outputParameter name="{k}">{v}</camunda:outputParameter>'
        for k, v in outputs.items()
    )
    return bpmn(
        f'<startEvent id="s"/><businessRuleTask id="r" camunda:decisionRef="two" {attrs}>'
        f"<extensionElements><camunda:inputOutput>{params}</camunda:inputOutput>"
        '</extensionElements></businessRuleTask><userTask id="w"/>' + flows("s->r", "r->w")
    )


def _assert_not_stored(engine: Engine, pid: str) -> None:
    rec = engine.get_instance(pid)
    assert rec is not None
    assert "decisionResult" not in json.dumps(rec.doc)
    assert "decisionResult" not in engine.variables(pid)
    names = {h.data["name"] for h in engine.history(kind="variable", instance_id=pid) if h.data}
    assert "decisionResult" not in names
    assert engine.instances_with_variable("decisionResult", []) == []


def test_output_mapping_reads_decision_result_without_result_variable(rig: Rig) -> None:
    rig.engine.deploy(
        [
            (
                "p.bpmn",
                _process("", {"first": "decisionResult[1].out", "n": "count(decisionResult)"}),
            ),
            ("two.dmn", TWO_RULES),
        ]
    )
    pid = rig.engine.start_process("p", {"x": "go"})
    engine = rig.reload()
    assert engine.variables(pid) == {"x": "go", "first": "a", "n": 2}
    assert engine.active_elements(pid) == ["w"]
    _assert_not_stored(engine, pid)


def test_output_mapping_sees_both_the_mapped_and_the_unmapped_result(rig: Rig) -> None:
    rig.engine.deploy(
        [
            (
                "p.bpmn",
                _process(
                    'camunda:resultVariable="res" camunda:mapDecisionResult="singleEntry"',
                    {"copy": "decisionResult", "upper": "upper case(res)"},
                ),
            ),
            ("two.dmn", ONE_RULE),
        ]
    )
    pid = rig.engine.start_process("p", {"x": "go"})
    engine = rig.reload()
    v = engine.variables(pid)
    assert v["res"] == "only"
    assert v["upper"] == "ONLY"
    # a mapping may copy it into a real variable: then that one is stored (by its name)
    assert v["copy"] == [{"out": "only"}]
    names = {h.data["name"] for h in engine.history(kind="variable", instance_id=pid) if h.data}
    assert {"copy", "res", "upper"} <= names
    assert "decisionResult" not in names


def test_decision_result_is_gone_before_an_async_after_job(rig: Rig) -> None:
    rig.engine.deploy(
        [
            (
                "p.bpmn",
                _process('camunda:asyncAfter="true"', {"n": "count(decisionResult)"}),
            ),
            ("two.dmn", TWO_RULES),
        ]
    )
    pid = rig.engine.start_process("p", {"x": "go"})
    engine = rig.reload()
    assert engine.variables(pid)["n"] == 2
    _assert_not_stored(engine, pid)
    (job,) = engine.jobs(instance_id=pid)
    engine.execute_job(job.id)
    engine = rig.reload()
    assert engine.active_elements(pid) == ["w"]
    _assert_not_stored(engine, pid)


def test_without_output_mappings_nothing_is_kept(rig: Rig) -> None:
    rig.engine.deploy([("p.bpmn", _process("", {})), ("two.dmn", TWO_RULES)])
    pid = rig.engine.start_process("p", {"x": "go"})
    engine = rig.reload()
    assert engine.variables(pid) == {"x": "go"}
    _assert_not_stored(engine, pid)
