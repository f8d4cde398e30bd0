"""The engine path of the simulator: message waits, engine failures, queue lengths with backlogs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from liucheng.simulation import SimulationEngineError, scenario_from_dict, simulate

DATA = Path(__file__).parent / "data"

TWO_WAITS = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <message id="m_reply" name="reply"/>
  <process id="p" isExecutable="true">
    <startEvent id="start"/>
    <parallelGateway id="fork"/>
    <intermediateCatchEvent id="wait_a"><messageEventDefinition messageRef="m_reply"/>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="wait_b"><messageEventDefinition messageRef="m_reply"/>
    </intermediateCatchEvent>
    <task id="a"/><task id="b"/>
    <parallelGateway id="join"/>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <sequenceFlow id="f2" sourceRef="fork" targetRef="wait_a"/>
    <sequenceFlow id="f3" sourceRef="fork" targetRef="wait_b"/>
    <sequenceFlow id="f4" sourceRef="wait_a" targetRef="a"/>
    <sequenceFlow id="f5" sourceRef="wait_b" targetRef="b"/>
    <sequenceFlow id="f6" sourceRef="a" targetRef="join"/>
    <sequenceFlow id="f7" sourceRef="b" targetRef="join"/>
    <sequenceFlow id="f8" sourceRef="join" targetRef="end"/>
  </process>
</definitions>
"""


@pytest.mark.parametrize("executor", ["engine", "engine-full"])
def test_a_case_waiting_twice_for_one_message_gets_both(executor: str) -> None:
    """Two parallel branches of one case wait for the same message name: each wait ends
    after its own delay (a correlation by name would be ambiguous and dropped)."""
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 3600, "max_cases": 20},
            "activities": {"a": {"duration": 60}, "b": {"duration": 60}},
            "events": {"wait_a": {"duration": 600}, "wait_b": {"duration": 1200}},
        }
    )
    result = simulate(TWO_WAITS, sc, executor=executor)
    run = result.runs[0]
    assert len(run.ends) == len(run.arrivals) == 20
    for case, arrived in run.arrivals.items():
        started = {r.element_id: r.started for r in run.activities if r.case == case}
        assert started == {"a": arrived + 600, "b": arrived + 1200}
        assert run.ends[case] == arrived + 1260
    assert result.measures["cycle_time.mean"] == [1260.0]


FAILING = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="p" isExecutable="true">
    <startEvent id="start"/>
    <task id="work"/>
    <exclusiveGateway id="check"/>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="%s"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="check"/>
    <sequenceFlow id="f3" sourceRef="check" targetRef="end">
      <conditionExpression>amount &gt; 1000</conditionExpression>
    </sequenceFlow>
  </process>
</definitions>
"""


@pytest.mark.parametrize("executor", ["engine", "engine-full"])
@pytest.mark.parametrize(("first", "time"), [("work", 90.0), ("check", 60.0)])
def test_a_failing_model_stops_with_the_case_and_element(
    executor: str, first: str, time: float
) -> None:
    """No flow of ``check`` can be taken: the replication stops with an error naming the
    case, the element and the virtual time, whether the failing command started the case
    or continued it (a live instance already changed)."""
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 60, "max_cases": 5},
            "activities": {"work": {"duration": 30}},
            "case_attributes": {"amount": {"choices": {"10": 1.0}}},
        }
    )
    with pytest.raises(SimulationEngineError) as info:
        simulate(FAILING % first.encode(), sc, executor=executor)
    err = info.value
    assert err.code == "simulation.engine.failed"
    assert err.element_id == "check"
    assert err.details == {
        "replication": 0,
        "case": "1",
        "element": "check",
        "time": time,
        "cause": "engine.flow.none",
    }
    assert "case 1" in str(err)
    assert "'check'" in str(err)
    assert err.hint


_CAPACITY_ORG = """
roles: [{id: agent}, {id: specialist}]
people:
  - {id: ann, name: Ann, roles: [agent], capacity: 3}
  - {id: cid, name: Cid, roles: [agent]}
  - {id: sam, name: Sam, roles: [specialist]}
processes:
  - {id: service_desk, lanes: {First level: agent, Second level: specialist}}
"""


def _waiting_at(records: list[Any], t: float) -> int:
    """Work ready at ``t`` that nobody has started (queued or in someone's backlog)."""
    return sum(
        1
        for r in records
        if r.enqueued <= t
        and (r.started is None or t < r.started)
        and (r.started is not None or r.ended is None or t < r.ended)
    )


def test_queue_length_counts_personal_backlogs(tmp_path: Path) -> None:
    """Work a push strategy hands to a busy member waits in their backlog: it is part of the
    pool's queue length (mean, max and series), exactly as if it had waited in the pool."""
    org_file = tmp_path / "org.yaml"
    org_file.write_text(_CAPACITY_ORG)
    sc = scenario_from_dict(
        {
            "organisation": str(org_file),
            "start": "2025-08-04T00:00:00+00:00",
            "horizon": "P1D",
            "seed": 3,
            "arrivals": {"interarrival": {"distribution": "exponential", "mean": "PT15M"}},
            "activities": {
                "classify": {"duration": "PT1H", "resources": ["agents"]},
                "solve": {"duration": "PT1M", "resources": ["specialists"]},
            },
            "resources": {
                "agents": {"role": "agent", "strategy": "round-robin"},
                "specialists": {"role": "specialist"},
            },
        }
    )
    result = simulate(DATA / "org_desk.bpmn", sc)
    run = result.runs[0]
    records = [r for r in run.activities if r.element_id == "classify"]
    assert any(r.assigned is not None and r.assigned < r.started for r in records if r.started)
    changes = run.queue_changes["agents"]
    assert len(changes) > 10
    for t, length in changes:
        assert length == _waiting_at(records, t), t
    assert result.measures["resource.agents.queue_length_max"][0] == max(v for _, v in changes)
    assert result.measures["resource.agents.queue_length_mean"][0] > 1.0


def test_the_collector_is_paused_only_while_a_replication_runs() -> None:
    import gc

    sc = scenario_from_dict({"arrivals": {"interarrival": 60, "max_cases": 5}})
    assert gc.isenabled()
    simulate(DATA / "mm1.bpmn", sc)
    assert gc.isenabled()
    failing = scenario_from_dict(
        {
            "arrivals": {"interarrival": 60, "max_cases": 5},
            "activities": {"work": {"duration": 30}},
        }
    )
    with pytest.raises(SimulationEngineError):
        simulate(FAILING % b"check", failing)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(DATA / "mm1.bpmn", sc)
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
