"""The compiled runner on multi-instance tasks with a literal cardinality (parallel, sequential,
empty, and sequential inside a subprocess an interrupting timer cancels): the engine path's
event log for the same seed, and mutants of the runner are caught."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from liucheng.simulation import _fast, _fast_run, scenario_from_dict, simulate
from liucheng.simulation._prepare import prepare_model
from tests.simulation._differential import exp, same_log

MULTI = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="multi" isExecutable="true">
    <startEvent id="start"/>
    <task id="triage"/>
    <task id="review">
      <multiInstanceLoopCharacteristics><loopCardinality>3</loopCardinality>
      </multiInstanceLoopCharacteristics>
    </task>
    <task id="skip">
      <multiInstanceLoopCharacteristics><loopCardinality>0</loopCardinality>
      </multiInstanceLoopCharacteristics>
    </task>
    <subProcess id="signing">
      <startEvent id="s_start"/>
      <task id="sign">
        <multiInstanceLoopCharacteristics isSequential="true">
          <loopCardinality>2</loopCardinality>
        </multiInstanceLoopCharacteristics>
      </task>
      <endEvent id="s_end"/>
      <sequenceFlow id="s1" sourceRef="s_start" targetRef="sign"/>
      <sequenceFlow id="s2" sourceRef="sign" targetRef="s_end"/>
    </subProcess>
    <boundaryEvent id="too_long" attachedToRef="signing">
      <timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <task id="chase"/>
    <exclusiveGateway id="g"/>
    <endEvent id="end"/><endEvent id="end_chased"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="triage"/>
    <sequenceFlow id="f2" sourceRef="triage" targetRef="review"/>
    <sequenceFlow id="f3" sourceRef="review" targetRef="skip"/>
    <sequenceFlow id="f4" sourceRef="skip" targetRef="signing"/>
    <sequenceFlow id="f5" sourceRef="signing" targetRef="g"/>
    <sequenceFlow id="done" sourceRef="g" targetRef="end"/>
    <sequenceFlow id="again" sourceRef="g" targetRef="triage"/>
    <sequenceFlow id="f6" sourceRef="too_long" targetRef="chase"/>
    <sequenceFlow id="f7" sourceRef="chase" targetRef="end_chased"/>
  </process>
</definitions>
"""


def _scenario(**extra: Any) -> Any:
    return scenario_from_dict(
        {
            "arrivals": {"interarrival": exp("PT20M"), "max_cases": 200},
            "activities": {
                "triage": {"duration": exp("PT5M"), "resources": ["clerk"]},
                "review": {"duration": exp("PT15M"), "resources": ["expert"]},
                "skip": {"duration": 60, "resources": ["clerk"]},
                "sign": {"duration": exp("PT20M"), "resources": ["clerk"]},
                "chase": {"duration": 300, "resources": ["clerk"]},
            },
            "gateways": {"g": {"probabilities": {"done": 0.8, "again": 0.2}}},
            "resources": {"clerk": {"count": 3}, "expert": {"count": 4}},
            "replications": 2,
            "seed": 17,
            **extra,
        }
    )


def test_multi_instance_tasks_give_the_engine_log() -> None:
    sc = _scenario()
    on_engine = simulate(MULTI, sc, executor="engine")
    compiled = simulate(MULTI, sc, executor="auto")
    assert compiled.runs[0].executor == "compiled"
    assert same_log(on_engine, compiled)
    run = compiled.runs[0]
    assert len(run.ends) == len(run.arrivals) == 200
    log = compiled.event_log(0)
    counts = Counter(zip(log["element_id"], log["lifecycle"], strict=True))
    assert counts[("review", "complete")] == 3 * counts[("triage", "complete")]
    assert counts[("skip", "complete")] == 0  # no instances: the body completes at once
    assert counts[("sign", "ate_abort")] > 0  # the timer cancelled a signing in progress
    assert counts[("chase", "complete")] == counts[("sign", "ate_abort")]
    # sequential: the second signature starts only after the first ended
    signs: dict[str, list[Any]] = {}
    for rec in run.activities:
        if rec.element_id == "sign":
            signs.setdefault(rec.case, []).append(rec)
    for recs in signs.values():
        for first, second in itertools.pairwise(recs):
            assert first.ended is not None
            assert second.enqueued >= first.ended


def _all_at_once(self: Any, scope: Any, node_id: str, variables: dict[str, Any]) -> None:
    node = self.graph.nodes[node_id]
    if node.mi_seq:
        node.mi_seq = False  # a sequential body run in parallel
        try:
            _ORIGINAL_RUN(self, scope, node_id, variables)
        finally:
            node.mi_seq = True
        return
    _ORIGINAL_RUN(self, scope, node_id, variables)


def _one_too_few(prepared: Any) -> Any:
    graph = _ORIGINAL_COMPILE(prepared)
    assert graph is not None
    graph.nodes["review"].mi_n = 2
    return graph


_ORIGINAL_RUN = _fast_run.FastRunner._run
_ORIGINAL_COMPILE = _fast.compile_fast


@pytest.mark.parametrize(("target", "mutant"), [("_run", _all_at_once), ("compile", _one_too_few)])
def test_the_multi_instance_comparison_catches_a_mutant(
    monkeypatch: pytest.MonkeyPatch, target: str, mutant: Any
) -> None:
    sc = _scenario(replications=1, arrivals={"interarrival": 1200, "max_cases": 60})
    on_engine = simulate(MULTI, sc, executor="engine")
    if target == "compile":
        monkeypatch.setattr(_fast, "compile_fast", mutant)
    else:
        monkeypatch.setattr(_fast_run.FastRunner, target, mutant)
    compiled = simulate(MULTI, sc, executor="compiled")
    assert compiled.runs[0].executor == "compiled"
    assert not same_log(on_engine, compiled)


def test_multi_instance_beyond_the_subset_stays_on_the_engine() -> None:
    sc = _scenario(replications=1)
    assert _fast.compile_fast(prepare_model(MULTI, sc)) is not None
    for beyond in (
        # a cardinality read from a variable
        MULTI.replace(
            b"<loopCardinality>3</loopCardinality>", b"<loopCardinality>=n</loopCardinality>"
        ),
        # a completion condition
        MULTI.replace(
            b"<loopCardinality>3</loopCardinality>",
            b"<loopCardinality>3</loopCardinality>"
            b"<completionCondition>=nrOfCompletedInstances = 2</completionCondition>",
        ),
        # a parallel body inside the subprocess its timer cancels
        MULTI.replace(b'isSequential="true"', b'isSequential="false"'),
    ):
        assert _fast.compile_fast(prepare_model(beyond, sc)) is None
