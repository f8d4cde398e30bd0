"""The compiled runner on embedded subprocesses (nested, with timer boundaries that interrupt
or not) and inclusive gateways routed by branching probabilities: each gives the engine path's
event log for the same seed, and mutants of the runner show the comparison would catch a
difference."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from liucheng.simulation import _fast, _fast_run, scenario_from_dict, simulate
from liucheng.simulation._prepare import prepare_model
from tests.simulation._differential import exp, same_log

SUBS = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="subs" isExecutable="true">
    <startEvent id="start"/>
    <task id="intake"/>
    <intermediateThrowEvent id="logged"/>
    <subProcess id="review" name="Review">
      <startEvent id="r_start"/>
      <parallelGateway id="fork"/>
      <task id="check"/>
      <subProcess id="deep">
        <startEvent id="d_start"/>
        <task id="analyse"/>
        <inclusiveGateway id="or_split"/>
        <task id="opt_a"/><task id="opt_b"/>
        <inclusiveGateway id="or_join"/>
        <exclusiveGateway id="g_in"/>
        <task id="extra"/>
        <intermediateCatchEvent id="settle">
          <timerEventDefinition><timeDuration>PT10M</timeDuration></timerEventDefinition>
        </intermediateCatchEvent>
        <endEvent id="d_end"/><endEvent id="d_end2"/>
        <sequenceFlow id="d1" sourceRef="d_start" targetRef="analyse"/>
        <sequenceFlow id="d2" sourceRef="analyse" targetRef="or_split"/>
        <sequenceFlow id="o_a" sourceRef="or_split" targetRef="opt_a"/>
        <sequenceFlow id="o_b" sourceRef="or_split" targetRef="opt_b"/>
        <sequenceFlow id="d3" sourceRef="opt_a" targetRef="or_join"/>
        <sequenceFlow id="d4" sourceRef="opt_b" targetRef="or_join"/>
        <sequenceFlow id="d5" sourceRef="or_join" targetRef="g_in"/>
        <sequenceFlow id="ok" sourceRef="g_in" targetRef="d_end"/>
        <sequenceFlow id="more" sourceRef="g_in" targetRef="extra"/>
        <sequenceFlow id="d6" sourceRef="extra" targetRef="settle"/>
        <sequenceFlow id="d7" sourceRef="settle" targetRef="d_end2"/>
      </subProcess>
      <boundaryEvent id="deep_late" attachedToRef="deep">
        <timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>
      </boundaryEvent>
      <task id="fallback"/>
      <exclusiveGateway id="merge"/>
      <parallelGateway id="join"/>
      <endEvent id="r_end"/>
      <sequenceFlow id="r1" sourceRef="r_start" targetRef="fork"/>
      <sequenceFlow id="r2" sourceRef="fork" targetRef="check"/>
      <sequenceFlow id="r3" sourceRef="fork" targetRef="deep"/>
      <sequenceFlow id="r4" sourceRef="check" targetRef="join"/>
      <sequenceFlow id="r5" sourceRef="deep" targetRef="merge"/>
      <sequenceFlow id="r6" sourceRef="deep_late" targetRef="fallback"/>
      <sequenceFlow id="r7" sourceRef="fallback" targetRef="merge"/>
      <sequenceFlow id="r8" sourceRef="merge" targetRef="join"/>
      <sequenceFlow id="r9" sourceRef="join" targetRef="r_end"/>
    </subProcess>
    <boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">
      <timerEventDefinition><timeDuration>PT2H</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <task id="notify"/>
    <endEvent id="end_n"/>
    <exclusiveGateway id="g_after"/>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="intake"/>
    <sequenceFlow id="f2" sourceRef="intake" targetRef="logged"/>
    <sequenceFlow id="f3" sourceRef="logged" targetRef="review"/>
    <sequenceFlow id="f4" sourceRef="review" targetRef="g_after"/>
    <sequenceFlow id="done" sourceRef="g_after" targetRef="end"/>
    <sequenceFlow id="again" sourceRef="g_after" targetRef="intake"/>
    <sequenceFlow id="f5" sourceRef="remind" targetRef="notify"/>
    <sequenceFlow id="f6" sourceRef="notify" targetRef="end_n"/>
  </process>
</definitions>
"""


def _scenario(**extra: Any) -> Any:
    return scenario_from_dict(
        {
            "arrivals": {"interarrival": exp("PT15M"), "max_cases": 300},
            "activities": {
                "intake": {"duration": exp("PT5M"), "resources": ["clerk"]},
                "check": {"duration": exp("PT20M"), "resources": ["clerk"]},
                "analyse": {"duration": exp("PT25M"), "resources": ["expert"]},
                "opt_a": {"duration": exp("PT10M"), "resources": ["expert"]},
                "opt_b": {"duration": exp("PT15M"), "resources": ["clerk"]},
                "extra": {"duration": exp("PT15M"), "resources": ["expert"]},
                "fallback": {"duration": 300, "resources": ["clerk"]},
                "notify": {"duration": 60, "resources": ["clerk"]},
            },
            "gateways": {
                "g_after": {"probabilities": {"done": 0.85, "again": 0.15}},
                "g_in": {"probabilities": {"ok": 0.6, "more": 0.4}},
                "or_split": {"probabilities": {"o_a": 0.5, "o_b": 0.5}},
            },
            "resources": {"clerk": {"count": 3}, "expert": {"count": 3}},
            "replications": 2,
            "seed": 11,
            **extra,
        }
    )


def test_subprocesses_and_inclusive_gateways_give_the_engine_log() -> None:
    sc = _scenario()
    on_engine = simulate(SUBS, sc, executor="engine")
    compiled = simulate(SUBS, sc, executor="auto")
    assert compiled.runs[0].executor == "compiled"
    assert same_log(on_engine, compiled)
    assert on_engine.measures == compiled.measures
    run = compiled.runs[0]
    assert len(run.ends) == len(run.arrivals) == 300
    log = compiled.event_log(0)
    counts = Counter(zip(log["element_id"], log["lifecycle"], strict=True))
    # the interrupting boundary cancelled work inside the nested subprocess ...
    aborted = sum(counts[(t, "ate_abort")] for t in ("analyse", "opt_a", "opt_b", "extra"))
    assert aborted > 0
    assert counts[("fallback", "complete")] > 0
    # ... the non-interrupting one on the outer subprocess spawned a reminder, and both
    # inclusive branches and both exits of the inner gateway were taken
    assert counts[("notify", "complete")] > 0
    for task in ("opt_a", "opt_b", "extra", "check"):
        assert counts[(task, "complete")] > 0
    assert counts[("intake", "complete")] > 300  # the rework loop re-enters the subprocess


def test_the_graph_is_compiled_once_per_prepared_model(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = _fast.compile_fast

    def counting(prepared: Any) -> Any:
        calls.append(prepared)
        return original(prepared)

    monkeypatch.setattr(_fast, "compile_fast", counting)
    sc = _scenario(replications=3, arrivals={"interarrival": 900, "max_cases": 5})
    prepared = prepare_model(SUBS, sc)
    result = simulate(prepared, sc)
    assert [r.executor for r in result.runs] == ["compiled"] * 3
    simulate(prepared, sc, executor="engine")  # the route sets come from the same graph
    assert calls == [prepared]


def _no_cancel(self: Any, scope: Any) -> None:
    for job_id in scope.jobs:
        self._jobs.pop(job_id, None)  # boundaries go, but the work inside stays open


def _keeps_boundaries(self: Any, scope: Any, variables: dict[str, Any]) -> None:
    armed = scope.jobs
    if scope.parent is not None and scope.tokens == 1:
        scope.jobs = []  # a completed subprocess leaves its boundary timers armed
    _ORIGINAL_CONSUME(self, scope, variables)
    scope.jobs = armed


def _or_waits(prepared: Any) -> Any:
    graph = _ORIGINAL_COMPILE(prepared)
    assert graph is not None
    graph.nodes["or_join"].kind = "and"  # an inclusive join that waits for both branches
    return graph


_ORIGINAL_CONSUME = _fast_run.FastRunner._consume
_ORIGINAL_COMPILE = _fast.compile_fast


@pytest.mark.parametrize(
    ("target", "mutant"),
    [
        ("_cancel_scope", _no_cancel),
        ("_consume", _keeps_boundaries),
        ("compile_fast", _or_waits),
    ],
)
def test_the_scope_comparison_catches_a_mutant_runner(
    monkeypatch: pytest.MonkeyPatch, target: str, mutant: Any
) -> None:
    sc = _scenario(replications=1, arrivals={"interarrival": 600, "max_cases": 120})
    on_engine = simulate(SUBS, sc, executor="engine")
    if target == "compile_fast":
        monkeypatch.setattr(_fast, "compile_fast", mutant)
    else:
        monkeypatch.setattr(_fast_run.FastRunner, target, mutant)
    compiled = simulate(SUBS, sc, executor="compiled")
    assert compiled.runs[0].executor == "compiled"
    assert not same_log(on_engine, compiled)


def test_scopes_beyond_the_subset_stay_on_the_engine() -> None:
    forked_deep = SUBS.replace(  # a parallel split inside a subprocess that can be cancelled
        b'<inclusiveGateway id="or_split"/>', b'<parallelGateway id="or_split"/>'
    ).replace(b'<inclusiveGateway id="or_join"/>', b'<parallelGateway id="or_join"/>')
    looped = SUBS.replace(  # a multi-instance subprocess
        b'<subProcess id="deep">',
        b'<subProcess id="deep"><multiInstanceLoopCharacteristics isSequential="true">'
        b"<loopCardinality>2</loopCardinality></multiInstanceLoopCharacteristics>",
    )
    odd_attribute = SUBS.replace(b'<subProcess id="deep">', b'<subProcess id="deep" x="1">')
    event_sub = SUBS.replace(
        b'<subProcess id="deep">', b'<subProcess id="deep" triggeredByEvent="true">'
    )
    mapped = SUBS.replace(
        b'<subProcess id="deep">',
        b'<subProcess id="deep"><extensionElements><io xmlns="urn:x"/></extensionElements>',
    )
    sc = _scenario(replications=1, arrivals={"interarrival": 900, "max_cases": 5})
    assert _fast.compile_fast(prepare_model(SUBS, sc)) is not None
    for beyond in (looped, odd_attribute, event_sub, mapped):
        assert _fast.compile_fast(prepare_model(beyond, sc)) is None
    gateways = {
        "g_after": {"probabilities": {"done": 0.85, "again": 0.15}},
        "g_in": {"probabilities": {"ok": 0.6, "more": 0.4}},
    }
    sc = _scenario(gateways=gateways)
    assert _fast.compile_fast(prepare_model(forked_deep, sc)) is None
