"""The BPMN simulator: queueing theory, determinism, every element family, the event log."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from liucheng.errors import LiuchengError
from liucheng.history import read_log, write_log
from liucheng.simulation import erlang_c, load_scenario, scenario_from_dict, simulate

DATA = Path(__file__).parent / "data"
MM = DATA / "mm1.bpmn"


def _queue_scenario(servers: int, mean_gap: float, mean_service: float, **extra: Any) -> Any:
    return scenario_from_dict(
        {
            "arrivals": {
                "interarrival": {"distribution": "exponential", "mean": mean_gap},
                "max_cases": 3000,
            },
            "activities": {
                "serve": {
                    "duration": {"distribution": "exponential", "mean": mean_service},
                    "resources": ["clerks"],
                }
            },
            "resources": {"clerks": {"count": servers}},
            "replications": 6,
            "seed": 11,
            "warm_up": 20 * mean_gap,
            "confidence": 0.99,
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("servers", "gap", "service", "executor"),
    [(1, 60.0, 42.0, "engine"), (3, 20.0, 48.0, "auto")],
)
def test_mm1_and_mmc_waiting_times_match_queueing_theory(
    servers: int, gap: float, service: float, executor: str
) -> None:
    result = simulate(MM, _queue_scenario(servers, gap, service), executor=executor)
    assert result.runs[0].executor == ("engine" if executor == "engine" else "compiled")
    theory = erlang_c(servers, arrival_rate=1 / gap, aht_seconds=service)
    waiting = result.estimate("activity.serve.waiting_mean")
    assert waiting.contains(theory.asa_seconds), (waiting, theory.asa_seconds)
    utilisation = result.estimate("resource.clerks.utilisation")
    assert utilisation.contains(service / gap / servers), utilisation
    working = result.estimate("activity.serve.working_mean")
    assert working.contains(service)
    # Little's law for the queue: Lq = lambda * Wq
    queue = result.estimate("resource.clerks.queue_length_mean")
    assert queue.contains(theory.asa_seconds / gap), queue


def test_same_seed_same_log_other_seed_other_log() -> None:
    sc = _queue_scenario(2, 30.0, 50.0, replications=1)
    a = simulate(MM, sc).event_log()
    b = simulate(MM, sc).event_log()
    c = simulate(MM, sc, seed=12).event_log()
    assert a.equals(b)
    assert not a.equals(c)


def test_every_element_family_runs() -> None:
    sc = load_scenario(DATA / "families.yaml")
    result = simulate(DATA / "families.bpmn", sc, replications=1)
    log = result.event_log()
    counts = {
        (r["element_id"], r["lifecycle"]): r["len"]
        for r in log.group_by("element_id", "lifecycle").len().iter_rows(named=True)
    }
    run = result.runs[0]
    big = sum(1 for a in run.attributes.values() if a["size"] == "big")
    small = len(run.attributes) - big
    assert big > 0 and small > 0
    # FEEL routing over generated case attributes
    assert counts[("quick", "complete")] == small
    # multi-instance: three reviews per big case
    assert counts[("review", "complete")] == 3 * big
    # the 2-hour boundary timer interrupts long work (1-3 h, paused off office hours) and
    # escalates; every interrupted work item leads to exactly one escalation
    assert counts[("work", "ate_abort")] > 0
    assert counts[("work", "ate_abort")] == counts[("escalate", "complete")]
    assert counts[("work", "ate_abort")] + counts.get(("work", "complete"), 0) == big
    # the message wait inside the subprocess is delivered: every case ends
    assert len(run.ends) == len(run.arrivals)
    # the lane "desk" puts triage on the desk pool
    assert set(log.filter(pl.col("element_id") == "triage")["resource"].drop_nulls()) <= {
        "desk-1",
        "desk-2",
    }
    # experts work on office days only
    experts = log.filter(
        pl.col("resource").str.starts_with("experts") & (pl.col("lifecycle") == "start")
    )
    assert experts.height > 0
    assert set(experts["timestamp"].dt.weekday()) <= {1, 2, 3, 4, 5}
    assert experts["timestamp"].dt.hour().max() < 18


def test_priority_serves_high_priority_first() -> None:
    sc = load_scenario(DATA / "families.yaml")
    result = simulate(DATA / "families.bpmn", sc, replications=1)
    run = result.runs[0]
    waits: dict[str, list[float]] = {"big": [], "small": []}
    for rec in run.activities:
        if rec.element_id == "triage" and rec.started is not None:
            waits[run.attributes[rec.case]["size"]].append(rec.started - rec.enqueued)
    assert sum(waits["big"]) / len(waits["big"]) <= sum(waits["small"]) / len(waits["small"])


def test_kpis_and_log_round_trip(tmp_path: Path) -> None:
    sc = load_scenario(DATA / "families.yaml")
    result = simulate(DATA / "families.bpmn", sc)
    kpis = result.kpis()
    assert kpis["replications"] == 2
    assert 0 <= kpis["sla"]["on_time_rate"]["mean"] <= 1
    assert kpis["cost"]["per_case"]["mean"] > 0
    assert kpis["resources"]["experts"]["utilisation"]["mean"] > 0
    assert kpis["activities"]["triage"]["waiting_mean"]["mean"] >= 0
    log = result.event_log()
    assert log.columns[:6] == [
        "case_id",
        "activity",
        "timestamp",
        "lifecycle",
        "resource",
        "event_index",
    ]
    for suffix in (".csv", ".xes"):
        path = tmp_path / f"sim{suffix}"
        write_log(log, path)
        back = read_log(path)
        assert back.height == log.height
        assert set(back["activity"]) == set(log["activity"])


def test_probabilities_route_by_share() -> None:
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 60, "max_cases": 2000},
            "activities": {"triage": {"duration": 1}, "quick": {"duration": 1}},
            "gateways": {"route": {"probabilities": {"to_big": 0.0, "to_small": 1.0}}},
            "seed": 3,
        }
    )
    result = simulate(DATA / "families.bpmn", sc)
    log = result.event_log()
    assert log.filter(pl.col("element_id") == "quick").height == 2 * 2000
    sc2 = scenario_from_dict(
        {
            **sc.model_dump(exclude_none=True, mode="json"),
            "gateways": {"route": {"probabilities": {"to_big": 0.3, "to_small": 0.7}}},
            "events": {"wait_reply": {"duration": 60}},
        }
    )
    share = (
        simulate(DATA / "families.bpmn", sc2)
        .event_log()
        .filter((pl.col("element_id") == "quick") & (pl.col("lifecycle") == "complete"))
        .height
        / 2000
    )
    assert 0.65 < share < 0.75


def test_unknown_elements_are_clear_errors() -> None:
    sc = scenario_from_dict(
        {"arrivals": {"interarrival": 60, "max_cases": 2}, "activities": {"nope": {"duration": 1}}}
    )
    with pytest.raises(LiuchengError, match="nope"):
        simulate(MM, sc)
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 60, "max_cases": 2},
            "gateways": {"route": {"probabilities": {"bad_flow": 1.0}}},
        }
    )
    with pytest.raises(LiuchengError, match="bad_flow"):
        simulate(DATA / "families.bpmn", sc)


def _desk_scenario() -> Any:
    return scenario_from_dict(
        {
            "arrivals": {
                "interarrival": {"distribution": "exponential", "mean": 400},
                "calendar": "office",
                "max_cases": 600,
            },
            "activities": {
                "register": {
                    "duration": {"distribution": "exponential", "mean": 120},
                    "resources": ["clerk"],
                },
                "triage": {
                    "duration": {"distribution": "lognormal", "mean": 300, "std": 150},
                    "resources": ["agent"],
                },
                "solve1": {
                    "duration": {"distribution": "gamma", "mean": 900, "std": 600},
                    "resources": ["agent"],
                },
                "solve2": {
                    "duration": {"distribution": "uniform", "low": 600, "high": 3600},
                    "resources": ["expert"],
                },
            },
            "gateways": {
                "g_route": {"probabilities": {"to_l1": 0.7, "to_l2": 0.3}},
                "g_ok": {"probabilities": {"ok": 0.85, "rework": 0.15}},
            },
            "resources": {
                "clerk": {"count": 1, "calendar": "office"},
                "agent": {"count": 3, "calendar": "office"},
                "expert": {"count": 2},
            },
            "calendars": {
                "office": {
                    "periods": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "from": "08:00",
                            "to": "18:00",
                        }
                    ]
                }
            },
            "replications": 2,
            "seed": 4,
        }
    )


DESK = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="desk" isExecutable="false">
    <startEvent id="start"/>
    <task id="register"/><task id="triage"/>
    <exclusiveGateway id="g_route"/>
    <task id="solve1"/><task id="solve2"/><task id="note" name="Note (no duration)"/>
    <parallelGateway id="fork"/><parallelGateway id="join"/>
    <exclusiveGateway id="g_ok"/>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="register"/>
    <sequenceFlow id="f2" sourceRef="register" targetRef="triage"/>
    <sequenceFlow id="f3" sourceRef="triage" targetRef="g_route"/>
    <sequenceFlow id="to_l1" sourceRef="g_route" targetRef="solve1"/>
    <sequenceFlow id="to_l2" sourceRef="g_route" targetRef="fork"/>
    <sequenceFlow id="f4" sourceRef="fork" targetRef="solve2"/>
    <sequenceFlow id="f5" sourceRef="fork" targetRef="note"/>
    <sequenceFlow id="f6" sourceRef="solve2" targetRef="join"/>
    <sequenceFlow id="f7" sourceRef="note" targetRef="join"/>
    <sequenceFlow id="f8" sourceRef="join" targetRef="g_ok"/>
    <sequenceFlow id="f9" sourceRef="solve1" targetRef="g_ok"/>
    <sequenceFlow id="ok" sourceRef="g_ok" targetRef="end"/>
    <sequenceFlow id="rework" sourceRef="g_ok" targetRef="triage"/>
  </process>
</definitions>
"""


def test_compiled_runner_gives_the_engines_log() -> None:
    sc = _desk_scenario()
    on_engine = simulate(DESK, sc, executor="engine")
    compiled = simulate(DESK, sc, executor="compiled")
    assert {r.executor for r in on_engine.runs} == {"engine"}
    assert {r.executor for r in compiled.runs} == {"compiled"}
    assert simulate(DESK, sc).runs[0].executor == "compiled"  # auto picks it
    for i in range(2):
        a, b = on_engine.event_log(i), compiled.event_log(i)
        assert a.height > 1000
        assert a.equals(b)
    assert on_engine.measures == compiled.measures


def test_compiled_runner_refuses_models_beyond_its_subset() -> None:
    sc = load_scenario(DATA / "families.yaml")
    with pytest.raises(LiuchengError, match="compiled"):
        simulate(DATA / "families.bpmn", sc, executor="compiled")
    assert simulate(DATA / "families.bpmn", sc, replications=1).runs[0].executor == "engine"


def test_warm_up_and_horizon_bound_what_is_measured() -> None:
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 60},
            "activities": {"serve": {"duration": 30, "resources": ["clerks"]}},
            "resources": {"clerks": {"count": 1, "cost_per_hour": 36}},
            "horizon": 3600,
            "warm_up": 600,
            "sla": 20,
        }
    )
    result = simulate(MM, sc)
    run = result.runs[0]
    # arrivals every 60 s stop at the horizon; cases in flight still finish
    assert len(run.arrivals) == 59
    assert len(run.ends) == 59
    # measured: arrivals at 600, 660, ..., 3540
    assert result.measures["cases.arrived"] == [50.0]
    assert result.measures["cycle_time.mean"] == [30.0]
    assert result.measures["sla.on_time_rate"] == [0.0]
    assert result.measures["activity.serve.waiting_mean"] == [0.0]
    assert result.measures["resource.clerks.utilisation"] == [pytest.approx(0.5)]
    assert result.measures["cost.per_case"] == [pytest.approx(0.3)]


def test_lean_engine_gives_the_full_engines_log() -> None:
    """The lean in-memory engine mode (live instance objects, no state documents) decides
    exactly what the engine with its full per-command bookkeeping decides, on a model with
    every element family (boundary timer, multi-instance, subprocess, message wait, FEEL
    routing, priorities, calendars)."""
    sc = load_scenario(DATA / "families.yaml").model_copy(update={"horizon": 6 * 86400.0})
    lean = simulate(DATA / "families.bpmn", sc, executor="engine")
    full = simulate(DATA / "families.bpmn", sc, executor="engine-full")
    assert {r.executor for r in lean.runs} == {"engine"}
    assert {r.executor for r in full.runs} == {"engine-full"}
    for i in range(2):
        a, b = lean.event_log(i), full.event_log(i)
        assert a.height > 500
        assert a.filter(pl.col("lifecycle") == "ate_abort").height > 0
        assert a.equals(b)
    assert lean.measures == full.measures
    assert [r.commands for r in lean.runs] == [r.commands for r in full.runs]


TIMED = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="timed" isExecutable="false">
    <startEvent id="start"/>
    <task id="register"/><task id="triage"/>
    <exclusiveGateway id="g_route"/>
    <task id="solve1"/><task id="solve2"/>
    <boundaryEvent id="late" attachedToRef="solve2">
      <timerEventDefinition><timeDuration>PT45M</timeDuration></timerEventDefinition>
    </boundaryEvent>
    <boundaryEvent id="remind" attachedToRef="solve1" cancelActivity="false">
      <timerEventDefinition><timeDuration> PT20M </timeDuration></timerEventDefinition>
    </boundaryEvent>
    <task id="escalate"/><task id="reminder"/>
    <exclusiveGateway id="g_esc"/>
    <exclusiveGateway id="g_ok"/>
    <endEvent id="end"/><endEvent id="end_esc"/><endEvent id="end_rem"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="register"/>
    <sequenceFlow id="f2" sourceRef="register" targetRef="triage"/>
    <sequenceFlow id="f3" sourceRef="triage" targetRef="g_route"/>
    <sequenceFlow id="to_l1" sourceRef="g_route" targetRef="solve1"/>
    <sequenceFlow id="to_l2" sourceRef="g_route" targetRef="solve2"/>
    <sequenceFlow id="f4" sourceRef="solve1" targetRef="g_ok"/>
    <sequenceFlow id="f5" sourceRef="solve2" targetRef="g_ok"/>
    <sequenceFlow id="f6" sourceRef="late" targetRef="escalate"/>
    <sequenceFlow id="f7" sourceRef="escalate" targetRef="g_esc"/>
    <sequenceFlow id="e_done" sourceRef="g_esc" targetRef="end_esc"/>
    <sequenceFlow id="e_back" sourceRef="g_esc" targetRef="triage"/>
    <sequenceFlow id="f8" sourceRef="remind" targetRef="reminder"/>
    <sequenceFlow id="f9" sourceRef="reminder" targetRef="end_rem"/>
    <sequenceFlow id="ok" sourceRef="g_ok" targetRef="end"/>
    <sequenceFlow id="rework" sourceRef="g_ok" targetRef="triage"/>
  </process>
</definitions>
"""


def test_compiled_runner_gives_the_engines_log_with_boundary_timers() -> None:
    """Interrupting and non-interrupting timer boundary events (and a probability gateway
    behind one) on the compiled runner: the same log, measures and commands as the engine."""
    data = _desk_scenario().model_dump(mode="json", exclude_none=True)
    data["activities"].update(
        {
            "escalate": {"duration": 300, "resources": ["expert"]},
            "reminder": {"duration": 60, "resources": ["clerk"]},
        }
    )
    data["gateways"]["g_esc"] = {"probabilities": {"e_done": 0.6, "e_back": 0.4}}
    sc = scenario_from_dict(data)
    on_engine = simulate(TIMED, sc, executor="engine")
    compiled = simulate(TIMED, sc, executor="compiled")
    assert simulate(TIMED, sc, replications=1).runs[0].executor == "compiled"  # auto
    for i in range(2):
        a, b = on_engine.event_log(i), compiled.event_log(i)
        counts = Counter(zip(a["element_id"], a["lifecycle"], strict=True))
        assert counts[("solve2", "ate_abort")] > 0
        assert counts[("solve2", "ate_abort")] == counts[("escalate", "complete")]
        assert counts[("reminder", "complete")] > 0
        assert counts[("solve2", "complete")] > 0  # some work beats the timer
        assert a.equals(b)
    assert on_engine.measures == compiled.measures
    assert [r.commands for r in on_engine.runs] == [r.commands for r in compiled.runs]
