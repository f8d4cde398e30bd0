"""BPMN simulation benchmark: Liucheng's engine-driven simulator next to Prosimos; JSON lines.

    .venv/bin/python bench/simulation/bench_bpmn.py [--cases 10000 100000] [--no-prosimos]

The model is a multi-step service desk with plain tasks, exclusive gateways (branching
probabilities, a rework loop) and weekday resource calendars, written as a Prosimos 2.x model
and parameter file; Liucheng reads the same two files (``read_prosimos``), so both simulators
run the same model and scenario. Prosimos is a bench-only peer (``pip install prosimos`` into
the venv). Liucheng runs twice: ``engine`` drives the real engine for every command,
``compiled`` the compiled token runner (same semantics and, for the same seed, the same log;
used automatically for models this simple). Throughput is per CPU-second: simulated events (start + complete of every activity
instance, as in the logs both write) and activity instances. Statistical equality is shown by
the cycle-time mean (Liucheng: mean and 95 % interval over replications) and quantiles of both.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from liucheng.simulation import read_prosimos, simulate

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://example.org/desk">
  <process id="desk" isExecutable="false">
    <startEvent id="start" name="Ticket"/>
    <task id="register" name="Register ticket"/>
    <task id="triage" name="Triage"/>
    <exclusiveGateway id="g_route"/>
    <task id="solve1" name="Solve at level 1"/>
    <task id="solve2" name="Solve at level 2"/>
    <exclusiveGateway id="g_merge"/>
    <task id="confirm" name="Confirm with customer"/>
    <exclusiveGateway id="g_ok"/>
    <task id="close" name="Close ticket"/>
    <endEvent id="end" name="Closed"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="register"/>
    <sequenceFlow id="f2" sourceRef="register" targetRef="triage"/>
    <sequenceFlow id="f3" sourceRef="triage" targetRef="g_route"/>
    <sequenceFlow id="to_l1" sourceRef="g_route" targetRef="solve1"/>
    <sequenceFlow id="to_l2" sourceRef="g_route" targetRef="solve2"/>
    <sequenceFlow id="f4" sourceRef="solve1" targetRef="g_merge"/>
    <sequenceFlow id="f5" sourceRef="solve2" targetRef="g_merge"/>
    <sequenceFlow id="f6" sourceRef="g_merge" targetRef="confirm"/>
    <sequenceFlow id="f7" sourceRef="confirm" targetRef="g_ok"/>
    <sequenceFlow id="ok" sourceRef="g_ok" targetRef="close"/>
    <sequenceFlow id="rework" sourceRef="g_ok" targetRef="triage"/>
    <sequenceFlow id="f8" sourceRef="close" targetRef="end"/>
  </process>
</definitions>
"""


def _dist(name: str, *values: float) -> dict[str, Any]:
    return {"distribution_name": name, "distribution_params": [{"value": v} for v in values]}


def _params() -> dict[str, Any]:
    weekdays = [
        {"from": "MONDAY", "to": "FRIDAY", "beginTime": "08:00:00.000", "endTime": "18:00:00.000"}
    ]
    pools = {
        "clerk": (3, ["register", "close"], 25),
        "agent": (6, ["triage", "solve1", "confirm"], 35),
        "expert": (4, ["solve2"], 55),
    }
    tasks = {
        "register": _dist("expon", 120.0, 0.0, 1e9),
        "triage": _dist("lognorm", 300.0, 150.0**2, 0.0, 1e9),
        "solve1": _dist("gamma", 900.0, 600.0**2, 0.0, 1e9),
        "solve2": _dist("lognorm", 2400.0, 1200.0**2, 0.0, 1e9),
        "confirm": _dist("uniform", 60.0, 300.0),
        "close": _dist("fix", 60.0),
    }
    return {
        "resource_profiles": [
            {
                "id": pid,
                "name": pid,
                "resource_list": [
                    {
                        "id": pid,
                        "name": pid,
                        "cost_per_hour": cost,
                        "amount": amount,
                        "calendar": "weekdays",
                        "assignedTasks": acts,
                    }
                ],
            }
            for pid, (amount, acts, cost) in pools.items()
        ],
        "arrival_time_distribution": _dist("expon", 240.0, 0.0, 1e9),
        "arrival_time_calendar": weekdays,
        "gateway_branching_probabilities": [
            {
                "gateway_id": "g_route",
                "probabilities": [
                    {"path_id": "to_l1", "value": 0.7},
                    {"path_id": "to_l2", "value": 0.3},
                ],
            },
            {
                "gateway_id": "g_ok",
                "probabilities": [
                    {"path_id": "ok", "value": 0.9},
                    {"path_id": "rework", "value": 0.1},
                ],
            },
            {"gateway_id": "g_merge", "probabilities": [{"path_id": "f6", "value": 1.0}]},
        ],
        "task_resource_distribution": [
            {
                "task_id": t,
                "resources": [
                    {"resource_id": next(p for p, (_, acts, _) in pools.items() if t in acts), **d}
                ],
            }
            for t, d in tasks.items()
        ],
        "resource_calendars": [{"id": "weekdays", "name": "weekdays", "time_periods": weekdays}],
        "event_distribution": {},
    }


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _quantiles(values: np.ndarray[Any, Any]) -> dict[str, float]:
    q = np.quantile(values, [0.1, 0.5, 0.9])
    return {
        "p10_h": q[0] / 3600,
        "p50_h": q[1] / 3600,
        "p90_h": q[2] / 3600,
        "mean_h": float(values.mean()) / 3600,
    }


def run_liucheng(
    model: Path, params: Path, cases: int, replications: int, executor: str
) -> np.ndarray[Any, Any]:
    scenario = read_prosimos(params, cases=cases, start=dt.datetime(2026, 1, 5), model=str(model))
    scenario = scenario.model_copy(update={"seed": 1, "replications": replications})
    t0 = time.process_time()
    result = simulate(model, scenario, executor=executor)
    cpu = time.process_time() - t0
    instances = sum(len(r.activities) for r in result.runs)
    est = result.estimate("cycle_time.mean")
    cycle = result.cycle_times()
    emit(
        figure="simulation.bpmn.service_desk",
        engine=f"liucheng-{result.runs[0].executor}",
        cases=cases,
        replications=replications,
        cpu_seconds=round(cpu, 3),
        activity_instances=instances,
        activity_instances_per_cpu_second=round(instances / cpu),
        events_per_cpu_second=round(2 * instances / cpu),
        engine_commands_per_cpu_second=round(sum(r.commands for r in result.runs) / cpu),
        cycle_time_mean_h={
            k: (v / 3600 if v is not None else None) for k, v in est.to_dict().items()
        },
        **_quantiles(cycle),
    )
    return cycle


def run_prosimos(model: Path, params: Path, cases: int, out: Path) -> np.ndarray[Any, Any] | None:
    try:
        from prosimos.simulation_engine import run_simulation  # type: ignore[import-not-found]
    except ImportError as exc:
        emit(figure="simulation.bpmn.service_desk", engine="prosimos", skipped=str(exc))
        return None
    log = out / "prosimos_log.csv"
    stats = out / "prosimos_stats.csv"
    t0 = time.process_time()
    run_simulation(
        str(model),
        str(params),
        cases,
        str(stats),
        str(log),
        starting_at="2026-01-05T00:00:00.000000+00:00",
    )
    cpu = time.process_time() - t0
    starts: dict[str, dt.datetime] = {}
    ends: dict[str, dt.datetime] = {}
    instances = 0
    with log.open() as handle:
        for row in csv.DictReader(handle):
            instances += 1
            e = dt.datetime.fromisoformat(row["end_time"])
            cid = row["case_id"]
            enq = dt.datetime.fromisoformat(row.get("enable_time") or row["start_time"])
            starts[cid] = min(starts.get(cid, enq), enq)
            ends[cid] = max(ends.get(cid, e), e)
    cycle = np.asarray([(ends[c] - starts[c]).total_seconds() for c in starts], dtype=float)
    emit(
        figure="simulation.bpmn.service_desk",
        engine="prosimos",
        cases=cases,
        cpu_seconds=round(cpu, 3),
        activity_instances=instances,
        activity_instances_per_cpu_second=round(instances / cpu),
        events_per_cpu_second=round(2 * instances / cpu),
        **_quantiles(cycle),
    )
    return cycle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--no-prosimos", action="store_true")
    parser.add_argument(
        "--executors", nargs="+", default=["compiled", "engine"], choices=["compiled", "engine"]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        model = out / "service_desk.bpmn"
        params = out / "service_desk.json"
        model.write_text(MODEL)
        params.write_text(json.dumps(_params(), indent=1))
        for cases in args.cases:
            reps = args.replications if cases <= 10_000 else 2
            ours = {ex: run_liucheng(model, params, cases, reps, ex) for ex in args.executors}
            theirs = None if args.no_prosimos else run_prosimos(model, params, cases, out)
            if theirs is None or not len(theirs):
                continue
            from scipy.stats import ks_2samp, wasserstein_distance

            for ex, cycle in ours.items():
                emit(
                    figure="simulation.bpmn.service_desk.agreement",
                    engine=f"liucheng-{ex}",
                    cases=cases,
                    cycle_time_emd_relative=float(wasserstein_distance(cycle, theirs))
                    / float(theirs.mean()),
                    ks_statistic=float(ks_2samp(cycle, theirs).statistic),
                    mean_ratio=float(cycle.mean() / theirs.mean()),
                )


if __name__ == "__main__":
    main()
