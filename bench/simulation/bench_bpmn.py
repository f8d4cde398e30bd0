"""BPMN simulation benchmark: Liucheng's simulator next to Prosimos, side by side; JSON lines.

    .venv/bin/python bench/simulation/bench_bpmn.py [--cases 10000 100000] [--models desk callcentre]
        [--executors compiled engine engine-full] [--no-prosimos]
        [--prosimos-venv /tmp/prosimos-venv [--install-prosimos]]

Models: ``desk``, a multi-step service desk with plain tasks, exclusive gateways (branching
probabilities, a rework loop) and weekday resource calendars, written here as a Prosimos 2.x
model and parameter file; ``callcentre``, the shared M/M/14 call centre
(``$LIUCHENG_SHARED/bench/simulation``). Liucheng reads the same two files (``read_prosimos``),
so both simulators run the same model and scenario.

Prosimos is a bench-only peer. It pins old polars/pyarrow, so it does not go into the project's
venv: ``--prosimos-venv DIR`` runs it with ``DIR/bin/python`` in a subprocess (its CPU time is
measured inside that process, around ``run_simulation`` only); ``--install-prosimos`` creates
that venv and installs ``prosimos==2.1.0`` into it when missing. Without ``--prosimos-venv`` it
is imported in-process if installed, else skipped.

Liucheng executors: ``engine`` (the real engine in its lean in-memory mode, every command),
``engine-full`` (the real engine with its durable per-command bookkeeping: the engine path
before the lean mode), ``compiled`` (the compiled token runner, same log for the same seed).
Throughput is per CPU-second: simulated events (start + complete of every activity instance,
as in the logs both write) and activity instances. Statistical equality: cycle-time mean
(Liucheng: mean and 95 % interval over replications), quantiles, and the KS statistic and
relative EMD between the two cycle-time samples.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from liucheng.simulation import read_prosimos, simulate

SHARED = Path(os.environ.get("LIUCHENG_SHARED", Path(__file__).resolve().parents[3] / "shared"))
CALLCENTRE = SHARED / "bench" / "simulation"
PROSIMOS = "prosimos==2.1.0"
# Runs in the Prosimos venv: CPU time of run_simulation only, as one JSON line.
_PROSIMOS_RUNNER = """
import json, sys, time
from prosimos.simulation_engine import run_simulation
model, params, cases, stats, log = sys.argv[1:6]
t0 = time.process_time()
run_simulation(model, params, int(cases), stats, log,
               starting_at="2026-01-05T00:00:00.000000+00:00")
print(json.dumps({"cpu": time.process_time() - t0}))
"""

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
    name: str, model: Path, params: Path, cases: int, replications: int, executor: str
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
        figure=f"simulation.bpmn.{name}",
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


def _prosimos_python(venv: Path, install: bool) -> str | None:
    """The Prosimos venv's interpreter (created and filled when ``install``), or ``None``."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import prosimos.simulation_engine"]
    if python.exists() and subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return str(python)
    if not install:
        return None
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", PROSIMOS], check=True)
    return str(python)


def _prosimos_cpu(
    model: Path, params: Path, cases: int, stats: Path, log: Path, python: str | None
) -> float:
    if python is not None:
        done = subprocess.run(
            [
                python,
                "-c",
                _PROSIMOS_RUNNER,
                str(model),
                str(params),
                str(cases),
                str(stats),
                str(log),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(json.loads(done.stdout.strip().splitlines()[-1])["cpu"])
    from prosimos.simulation_engine import run_simulation  # type: ignore[import-not-found]

    t0 = time.process_time()
    run_simulation(
        str(model),
        str(params),
        cases,
        str(stats),
        str(log),
        starting_at="2026-01-05T00:00:00.000000+00:00",
    )
    return time.process_time() - t0


def run_prosimos(
    name: str, model: Path, params: Path, cases: int, out: Path, python: str | None
) -> np.ndarray[Any, Any] | None:
    figure = f"simulation.bpmn.{name}"
    if python is None:
        try:
            import prosimos.simulation_engine  # type: ignore[import-not-found]  # noqa: F401
        except ImportError as exc:
            emit(figure=figure, engine="prosimos", skipped=f"{exc} (see --prosimos-venv)")
            return None
    log = out / f"prosimos_{name}_log.csv"
    stats = out / f"prosimos_{name}_stats.csv"
    cpu = _prosimos_cpu(model, params, cases, stats, log, python)
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
        figure=figure,
        engine="prosimos",
        cases=cases,
        cpu_seconds=round(cpu, 3),
        activity_instances=instances,
        activity_instances_per_cpu_second=round(instances / cpu),
        events_per_cpu_second=round(2 * instances / cpu),
        **_quantiles(cycle),
    )
    return cycle


def _models(out: Path, names: list[str]) -> dict[str, tuple[Path, Path]]:
    found: dict[str, tuple[Path, Path]] = {}
    for name in names:
        if name == "desk":
            model, params = out / "service_desk.bpmn", out / "service_desk.json"
            model.write_text(MODEL)
            params.write_text(json.dumps(_params(), indent=1))
            found["service_desk"] = (model, params)
        elif (CALLCENTRE / "callcentre.bpmn").exists():
            found["callcentre"] = (CALLCENTRE / "callcentre.bpmn", CALLCENTRE / "callcentre.json")
        else:
            emit(figure="simulation.bpmn.callcentre", skipped=f"{CALLCENTRE} is missing")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--no-prosimos", action="store_true")
    parser.add_argument("--prosimos-venv", type=Path, default=None)
    parser.add_argument("--install-prosimos", action="store_true")
    parser.add_argument(
        "--models", nargs="+", default=["desk", "callcentre"], choices=["desk", "callcentre"]
    )
    parser.add_argument(
        "--executors",
        nargs="+",
        default=["compiled", "engine"],
        choices=["compiled", "engine", "engine-full"],
    )
    args = parser.parse_args()
    python = None
    if args.prosimos_venv is not None and not args.no_prosimos:
        python = _prosimos_python(args.prosimos_venv, args.install_prosimos)
        if python is None:
            emit(
                figure="simulation.bpmn",
                engine="prosimos",
                skipped=f"no Prosimos in {args.prosimos_venv} (add --install-prosimos)",
            )
            args.no_prosimos = True
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name, (model, params) in _models(out, args.models).items():
            for ex in args.executors:  # warm-up: imports and first-use caches are not measured
                scenario = read_prosimos(params, cases=10, start=dt.datetime(2026, 1, 5))
                simulate(model, scenario.model_copy(update={"replications": 1}), executor=ex)
            for cases in args.cases:
                reps = args.replications if cases <= 10_000 else 2
                ours = {
                    ex: run_liucheng(name, model, params, cases, reps, ex) for ex in args.executors
                }
                theirs = (
                    None
                    if args.no_prosimos
                    else run_prosimos(name, model, params, cases, out, python)
                )
                if theirs is None or not len(theirs):
                    continue
                from scipy.stats import ks_2samp, wasserstein_distance

                for ex, cycle in ours.items():
                    emit(
                        figure=f"simulation.bpmn.{name}.agreement",
                        engine=f"liucheng-{ex}",
                        cases=cases,
                        cycle_time_emd_relative=float(wasserstein_distance(cycle, theirs))
                        / float(theirs.mean()),
                        ks_statistic=float(ks_2samp(cycle, theirs).statistic),
                        mean_ratio=float(cycle.mean() / theirs.mean()),
                    )


if __name__ == "__main__":
    main()
