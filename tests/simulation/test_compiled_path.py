"""The compiled runner beyond plain tasks: several timer boundaries on a task, FEEL timer
durations, intermediate timer, message and signal waits. Each gives the engine path's log for
the same seed, and mutants of the runner show the comparison would catch a difference."""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl
import pytest

from liucheng.simulation import _fast, scenario_from_dict, simulate
from tests.simulation._differential import exp, same_log

WIDE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <message id="m_reply" name="reply"/>
  <signal id="s_go" name="go"/>
  <process id="wide" isExecutable="true">
    <startEvent id="start"/>
    <task id="register"/>
    <parallelGateway id="fork"/>
    <intermediateCatchEvent id="wait_reply"><messageEventDefinition messageRef="m_reply"/>
    </intermediateCatchEvent>
    <task id="check"/>
    <intermediateCatchEvent id="wait_go"><signalEventDefinition signalRef="s_go"/>
    </intermediateCatchEvent>
    <intermediateCatchEvent id="cool">
      <timerEventDefinition><timeDuration>=if size = "big" then duration("PT10M")
        else duration("PT5M")</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <parallelGateway id="join"/>
    <task id="solve"/>
    <boundaryEvent id="late" attachedToRef="solve">
      <timerEventDefinition><timeDuration>=if size = "big" then duration("PT30M")
        else duration("PT1H")</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <boundaryEvent id="nudge" attachedToRef="solve" cancelActivity="false">
      <timerEventDefinition><timeDuration>PT30M</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <task id="escalate"/><task id="remind"/>
    <exclusiveGateway id="g_ok"/>
    <endEvent id="end"/><endEvent id="end_esc"/><endEvent id="end_rem"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="register"/>
    <sequenceFlow id="f2" sourceRef="register" targetRef="fork"/>
    <sequenceFlow id="f3" sourceRef="fork" targetRef="wait_reply"/>
    <sequenceFlow id="f4" sourceRef="wait_reply" targetRef="check"/>
    <sequenceFlow id="f5" sourceRef="check" targetRef="join"/>
    <sequenceFlow id="f6" sourceRef="fork" targetRef="wait_go"/>
    <sequenceFlow id="f7" sourceRef="wait_go" targetRef="cool"/>
    <sequenceFlow id="f8" sourceRef="cool" targetRef="join"/>
    <sequenceFlow id="f9" sourceRef="join" targetRef="solve"/>
    <sequenceFlow id="f10" sourceRef="solve" targetRef="g_ok"/>
    <sequenceFlow id="ok" sourceRef="g_ok" targetRef="end"/>
    <sequenceFlow id="rework" sourceRef="g_ok" targetRef="register"/>
    <sequenceFlow id="f11" sourceRef="late" targetRef="escalate"/>
    <sequenceFlow id="f12" sourceRef="escalate" targetRef="end_esc"/>
    <sequenceFlow id="f13" sourceRef="nudge" targetRef="remind"/>
    <sequenceFlow id="f14" sourceRef="remind" targetRef="end_rem"/>
  </process>
</definitions>
"""


def _scenario(**extra: Any) -> Any:
    return scenario_from_dict(
        {
            "arrivals": {"interarrival": exp("PT20M"), "max_cases": 400},
            "case_attributes": {"size": {"choices": {"big": 0.4, "small": 0.6}}},
            "activities": {
                "register": {"duration": exp("PT5M"), "resources": ["clerk"]},
                "check": {"duration": exp("PT10M"), "resources": ["clerk"]},
                "solve": {"duration": exp("PT40M"), "resources": ["expert"]},
                "escalate": {"duration": 600, "resources": ["expert"]},
                "remind": {"duration": 60, "resources": ["clerk"]},
            },
            "gateways": {"g_ok": {"probabilities": {"ok": 0.85, "rework": 0.15}}},
            "events": {"wait_reply": {"duration": exp("PT30M")}, "wait_go": {"duration": 900}},
            "resources": {"clerk": {"count": 2}, "expert": {"count": 3}},
            "replications": 2,
            "seed": 5,
            **extra,
        }
    )


def test_compiled_runner_covers_timers_feel_durations_and_waits() -> None:
    sc = _scenario()
    on_engine = simulate(WIDE, sc, executor="engine")
    compiled = simulate(WIDE, sc, executor="compiled")
    assert simulate(WIDE, sc, replications=1).runs[0].executor == "compiled"  # auto
    assert same_log(on_engine, compiled)
    assert on_engine.measures == compiled.measures
    run = compiled.runs[0]
    assert len(run.ends) == len(run.arrivals) == 400  # every wait was delivered
    log = compiled.event_log(0)
    counts = Counter(zip(log["element_id"], log["lifecycle"], strict=True))
    assert counts[("solve", "ate_abort")] > 0
    assert counts[("solve", "ate_abort")] == counts[("escalate", "complete")]
    assert counts[("remind", "complete")] > 0
    assert counts[("solve", "complete")] > 0
    # check starts after the message's sampled delay, solve after the signal + cool-down
    # (10 min for big cases, 5 min for small ones, from the FEEL timer)
    size = run.attributes
    for rec in run.activities:
        if rec.element_id == "solve" and rec.started is not None:
            cool = 600 if size[rec.case]["size"] == "big" else 300
            assert rec.enqueued >= run.arrivals[rec.case] + 900 + cool
    # a big case's FEEL boundary (30 min) ties with the nudge (30 min): the engine fires
    # 'late' first (document order), which cancels the nudge, so no reminder for them
    aborted = {(r.case, r.ended) for r in run.activities if r.element_id == "solve" and r.aborted}
    assert any(size[case]["size"] == "big" for case, _ in aborted)
    for rec in run.activities:
        if rec.element_id == "remind" and size[rec.case]["size"] == "big":
            assert (rec.case, rec.enqueued) not in aborted


def _reversed_boundaries(prepared: Any) -> Any:
    graph = _ORIGINAL(prepared)
    assert graph is not None
    for node in graph.nodes.values():
        node.boundaries.reverse()
    return graph


def _no_vars(self: Any, scope: Any, timer: Any, task_id: Any, host: Any) -> str:
    saved, self._ivars = self._ivars, {scope.iid: {"size": "small"}}
    try:
        return _ORIGINAL_ARM(self, scope, timer, task_id, host)
    finally:
        self._ivars = saved


def _shifted_arm(self: Any, scope: Any, timer: Any, task_id: Any, host: Any) -> str:
    import datetime as dt

    job_id = _ORIGINAL_ARM(self, scope, timer, task_id, host)
    self._jobs[job_id].due_at += dt.timedelta(seconds=1)
    return job_id


_ORIGINAL = _fast.compile_fast
_ORIGINAL_ARM = _fast.FastRunner._arm


@pytest.mark.parametrize(
    ("target", "mutant"),
    [
        ("compile_fast", _reversed_boundaries),  # boundary timers armed in another order
        ("FastRunner._arm", _no_vars),  # the FEEL timer not reading the case's variables
        ("FastRunner._arm", _shifted_arm),  # due dates one second late
    ],
)
def test_the_comparison_catches_a_mutant_runner(
    monkeypatch: pytest.MonkeyPatch, target: str, mutant: Any
) -> None:
    sc = _scenario(replications=1)
    on_engine = simulate(WIDE, sc, executor="engine")
    if target == "compile_fast":
        monkeypatch.setattr("liucheng.simulation._fast.compile_fast", mutant)
    else:
        monkeypatch.setattr(_fast.FastRunner, target.split(".")[1], mutant)
    compiled = simulate(WIDE, sc, executor="compiled")
    assert compiled.runs[0].executor == "compiled"
    assert not same_log(on_engine, compiled)


def test_message_waits_on_the_compiled_path_keep_their_own_delays() -> None:
    """One case waiting twice for the same message (parallel branches) on the compiled
    runner: each wait ends after its own delay, as on the engine path."""
    from tests.simulation.test_engine_path import TWO_WAITS

    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": {"distribution": "exponential", "mean": 900}},
            "activities": {"a": {"duration": 60}, "b": {"duration": 60}},
            "events": {
                "wait_a": {"duration": {"distribution": "exponential", "mean": 600}},
                "wait_b": {"duration": 1200},
            },
            "horizon": "P1D",
            "seed": 2,
        }
    )
    on_engine = simulate(TWO_WAITS, sc, executor="engine")
    compiled = simulate(TWO_WAITS, sc, executor="compiled")
    a, b = on_engine.event_log(), compiled.event_log()
    assert a.height > 300
    assert a.equals(b)
    b_starts = compiled.event_log().filter(
        (pl.col("element_id") == "b") & (pl.col("lifecycle") == "start")
    )
    assert b_starts.height == len(compiled.runs[0].arrivals)


def test_models_beyond_the_subset_stay_on_the_engine() -> None:
    for beyond in (
        # a message name computed per case
        WIDE.replace(b'name="reply"/>', b'name="= &quot;r&quot; + size"/>'),
        # an extension attribute the runner does not know
        WIDE.replace(
            b'<boundaryEvent id="nudge" attachedToRef="solve" cancelActivity="false">',
            b'<boundaryEvent id="nudge" attachedToRef="solve" cancelActivity="false" '
            b'xmlns:x="urn:x" x:note="1">',
        ),
    ):
        sc = _scenario(replications=1)
        assert simulate(beyond, sc, executor="auto").runs[0].executor == "engine"


@pytest.mark.parametrize("cycle", [b"R2/PT20M", b"R/PT25M"])
def test_cycle_timers_on_boundaries_give_the_engine_log(cycle: bytes) -> None:
    """A non-interrupting cycle boundary fires again each period while its task is open (a
    bounded and an unbounded cycle), on both paths alike."""
    model = WIDE.replace(
        b"<timeDuration>PT30M</timeDuration>", b"<timeCycle>" + cycle + b"</timeCycle>"
    )
    sc = _scenario(replications=1)
    on_engine = simulate(model, sc, executor="engine")
    compiled = simulate(model, sc, executor="auto")
    assert compiled.runs[0].executor == "compiled"
    assert same_log(on_engine, compiled)
    run = compiled.runs[0]
    reminders = Counter(r.case for r in run.activities if r.element_id == "remind")
    assert max(reminders.values()) >= 2  # fired again after the first period
    if cycle.startswith(b"R2/"):  # at most two firings per visit of the task
        visits = Counter(r.case for r in run.activities if r.element_id == "solve")
        assert all(n <= 2 * visits[case] for case, n in reminders.items())
        assert any(n == 2 * visits[case] for case, n in reminders.items())


def test_a_receive_task_is_a_simulated_wait_on_both_paths() -> None:
    from tests.simulation.test_engine_path import TWO_WAITS

    model = TWO_WAITS.replace(
        b"""<intermediateCatchEvent id="wait_b"><messageEventDefinition messageRef="m_reply"/>
    </intermediateCatchEvent>""",
        b"""<receiveTask id="wait_b" messageRef="m_reply"/>""",
    )
    assert b"receiveTask" in model
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": {"distribution": "exponential", "mean": 900}},
            "activities": {"a": {"duration": 60}, "b": {"duration": 60}},
            "events": {
                "wait_a": {"duration": {"distribution": "exponential", "mean": 600}},
                "wait_b": {"duration": {"distribution": "exponential", "mean": 1200}},
            },
            "horizon": "P1D",
            "seed": 4,
        }
    )
    on_engine = simulate(model, sc, executor="engine")
    compiled = simulate(model, sc, executor="auto")
    assert compiled.runs[0].executor == "compiled"
    assert on_engine.event_log().height > 300
    assert on_engine.event_log().equals(compiled.event_log())
    assert len(compiled.runs[0].ends) == len(compiled.runs[0].arrivals)


def test_the_wait_comparison_catches_a_correlate_all_runner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A runner that delivers a message to every wait of the case for it (correlate-all
    semantics) instead of the one wait sampled: the log comparison fails."""
    from tests.simulation.test_engine_path import TWO_WAITS

    original = _fast.FastRunner.deliver

    def deliver_all(self: Any, subscription_id: str, variables: dict[str, Any]) -> bool:
        sub = self._subs.get(subscription_id)
        done = original(self, subscription_id, variables)
        if sub is not None:
            for other in [s for s in self._subs.values() if s.instance_id == sub.instance_id]:
                original(self, other.id, variables)
        return done

    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 900, "max_cases": 30},
            "activities": {"a": {"duration": 60}, "b": {"duration": 60}},
            "events": {"wait_a": {"duration": 600}, "wait_b": {"duration": 1200}},
        }
    )
    on_engine = simulate(TWO_WAITS, sc, executor="engine")
    monkeypatch.setattr(_fast.FastRunner, "deliver", deliver_all)
    mutant = simulate(TWO_WAITS, sc, executor="compiled")
    assert not on_engine.event_log().equals(mutant.event_log())
