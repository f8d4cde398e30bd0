"""The compiled runner on event-based gateways (a message, a signal and a timer race; the first
wins): the engine path's event log for the same seed, and a mutant that lets the losers fire
too is caught."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from liucheng.simulation import _fast_run, scenario_from_dict, simulate
from tests.simulation._differential import exp, same_log

RACE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <message id="m_answer" name="answer"/>
  <signal id="s_stop" name="stop"/>
  <process id="race" isExecutable="true">
    <startEvent id="start"/>
    <task id="ask"/>
    <eventBasedGateway id="ebg"/>
    <intermediateCatchEvent id="answer"><messageEventDefinition messageRef="m_answer"/>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="timeout">
      <timerEventDefinition><timeDuration>PT30M</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="stop"><signalEventDefinition signalRef="s_stop"/>
    </intermediateCatchEvent>
    <task id="process"/><task id="chase"/>
    <exclusiveGateway id="g_retry"/>
    <endEvent id="end"/><endEvent id="end_given_up"/><endEvent id="end_stopped"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <sequenceFlow id="f2" sourceRef="ask" targetRef="ebg"/>
    <sequenceFlow id="f3" sourceRef="ebg" targetRef="answer"/>
    <sequenceFlow id="f4" sourceRef="ebg" targetRef="timeout"/>
    <sequenceFlow id="f5" sourceRef="ebg" targetRef="stop"/>
    <sequenceFlow id="f6" sourceRef="answer" targetRef="process"/>
    <sequenceFlow id="f7" sourceRef="process" targetRef="end"/>
    <sequenceFlow id="f8" sourceRef="timeout" targetRef="chase"/>
    <sequenceFlow id="f9" sourceRef="chase" targetRef="g_retry"/>
    <sequenceFlow id="again" sourceRef="g_retry" targetRef="ask"/>
    <sequenceFlow id="give_up" sourceRef="g_retry" targetRef="end_given_up"/>
    <sequenceFlow id="f10" sourceRef="stop" targetRef="end_stopped"/>
  </process>
</definitions>
"""


def _scenario(**extra: Any) -> Any:
    return scenario_from_dict(
        {
            "arrivals": {"interarrival": exp("PT10M"), "max_cases": 300},
            "activities": {
                "ask": {"duration": exp("PT5M"), "resources": ["clerk"]},
                "process": {"duration": exp("PT10M"), "resources": ["clerk"]},
                "chase": {"duration": 120, "resources": ["clerk"]},
            },
            "gateways": {"g_retry": {"probabilities": {"again": 0.6, "give_up": 0.4}}},
            "events": {"answer": {"duration": exp("PT30M")}, "stop": {"duration": exp("PT2H")}},
            "resources": {"clerk": {"count": 3}},
            "replications": 2,
            "seed": 3,
            **extra,
        }
    )


def test_an_event_based_gateway_gives_the_engine_log() -> None:
    sc = _scenario()
    on_engine = simulate(RACE, sc, executor="engine")
    compiled = simulate(RACE, sc, executor="auto")
    assert compiled.runs[0].executor == "compiled"
    assert same_log(on_engine, compiled, per_run="ends")
    assert [r.commands for r in on_engine.runs] == [r.commands for r in compiled.runs]
    run = compiled.runs[0]
    assert len(run.ends) == len(run.arrivals) == 300
    log = compiled.event_log(0)
    counts = Counter(zip(log["element_id"], log["lifecycle"], strict=True))
    # each of the three events won some races
    assert counts[("process", "complete")] > 0
    assert counts[("chase", "complete")] > 0
    answered = counts[("process", "complete")] + counts[("chase", "complete")]
    assert answered < counts[("ask", "complete")]  # the rest were stopped by the signal


def test_the_race_comparison_catches_losers_that_fire(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = _scenario(replications=1, arrivals={"interarrival": 600, "max_cases": 80})
    on_engine = simulate(RACE, sc, executor="engine")
    monkeypatch.setattr(_fast_run.FastRunner, "_drop_group", lambda self, group: None)
    compiled = simulate(RACE, sc, executor="compiled")
    assert compiled.runs[0].executor == "compiled"
    assert not same_log(on_engine, compiled, per_run="ends")
