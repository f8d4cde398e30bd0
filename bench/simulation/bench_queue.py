"""Queue-station and staffing benchmarks; one JSON line per figure.

    .venv/bin/python bench/simulation/bench_queue.py [--calls 100000]

Figures:
* ``simulation.queue.mm14``: the M/M/14 call centre of ``shared/bench/simulation`` (inter-arrival
  18 s, handling 180 s), run on Liucheng's event loop and, when installed, on SimPy 4 side by side
  (``pip install simpy`` into the venv; it is a bench-only peer). Throughput is per CPU-second.
  Events are what each engine counts as an event, so compare ``calls_per_cpu_second`` across
  engines; both report P(wait) next to the Erlang C value to show equal statistical results.
* ``staffing.erlang``: time to size one interval with Erlang C and Erlang A.
* ``staffing.schedule.week``: CP-SAT shift scheduling for a week of 30-minute intervals.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from liucheng.simulation import (
    Exponential,
    agents_for_target,
    erlang_c,
    schedule_shifts,
    simulate_queue,
)

MEAN_GAP, AHT, AGENTS = 18.0, 180.0, 14


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def bench_liucheng(calls: int, seed: int) -> dict[str, Any]:
    start = time.process_time()
    run = simulate_queue(
        servers=AGENTS,
        interarrival=Exponential(MEAN_GAP),
        service=Exponential(AHT),
        horizon=calls * MEAN_GAP,
        rng=seed,
    )
    cpu = time.process_time() - start
    return {"calls": run.arrivals, "events": run.events, "cpu": cpu, "p_wait": run.probability_wait}


def bench_simpy(calls: int, seed: int) -> dict[str, Any] | None:
    try:
        import simpy
    except ImportError:
        return None
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(MEAN_GAP, calls).tolist()
    services = rng.exponential(AHT, calls).tolist()
    stats = {"waited": 0, "served": 0}

    start = time.process_time()
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)

    def call(i: int):
        if agents.count >= AGENTS:
            stats["waited"] += 1
        with agents.request() as req:
            yield req
            yield env.timeout(services[i])
        stats["served"] += 1

    def source():
        for i in range(calls):
            yield env.timeout(gaps[i])
            env.process(call(i))

    env.process(source())
    env.run()
    cpu = time.process_time() - start
    events = next(env._eid)  # SimPy numbers every scheduled event from this counter
    return {"calls": calls, "events": events, "cpu": cpu, "p_wait": stats["waited"] / calls}


def bench_staffing() -> None:
    start = time.perf_counter()
    for calls in range(50, 5050, 50):
        agents_for_target(calls=calls, interval_minutes=30, aht_seconds=AHT, target=0.8)
    c_time = (time.perf_counter() - start) / 100
    start = time.perf_counter()
    for calls in range(50, 5050, 50):
        agents_for_target(
            calls=calls, interval_minutes=30, aht_seconds=AHT, target=0.8, patience_seconds=120
        )
    a_time = (time.perf_counter() - start) / 100
    emit(bench="staffing.erlang", model="erlang_c", ms_per_interval=round(c_time * 1e3, 3))
    emit(bench="staffing.erlang", model="erlang_a", ms_per_interval=round(a_time * 1e3, 3))


def bench_schedule() -> None:
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    rows = ["start,calls"]
    for d, day in enumerate(days):
        for slot in range(48):
            hour = slot / 2
            # Two daily peaks, quieter weekends.
            base = 60 * math.exp(-((hour - 10.5) ** 2) / 6) + 45 * math.exp(-((hour - 15) ** 2) / 8)
            scale = 0.5 if d >= 5 else 1.0
            calls = round(base * scale) if 7 <= hour < 21 else 0
            rows.append(f"{day} {slot // 2:02d}:{30 * (slot % 2):02d},{calls}")
    shifts = {
        "aht_seconds": AHT,
        "service_level": {"target": 0.8, "answer_seconds": 20},
        "time_limit_seconds": 60,
        "workers": 2,
        "shifts": [
            {
                "name": "full",
                "length": 8.5,
                "earliest_start": "07:00",
                "latest_start": "12:30",
                "start_every_minutes": 30,
                "cost_per_hour": 24,
                "breaks": [{"minutes": 30, "earliest": 3, "latest": 5}],
            },
            {
                "name": "part",
                "length": 4,
                "earliest_start": "07:00",
                "latest_start": "17:00",
                "start_every_minutes": 30,
                "cost_per_hour": 27,
            },
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        demand = Path(tmp) / "demand.csv"
        demand.write_text("\n".join(rows) + "\n", encoding="utf-8")
        config = Path(tmp) / "shifts.json"
        config.write_text(json.dumps(shifts), encoding="utf-8")
        start = time.perf_counter()
        result = schedule_shifts(demand, config).to_dict()
        wall = time.perf_counter() - start
    emit(
        bench="staffing.schedule.week",
        intervals=7 * 48,
        status=result["status"],
        shifts=result["shift_count"],
        cost=result["cost"],
        overstaffed_agent_hours=result["overstaffed_agent_hours"],
        wall_seconds=round(wall, 3),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-schedule", action="store_true")
    args = parser.parse_args()
    theory = erlang_c(AGENTS, 1 / MEAN_GAP, AHT).probability_wait
    for name, result in (
        ("liucheng", bench_liucheng(args.calls, args.seed)),
        ("simpy", bench_simpy(args.calls, args.seed)),
    ):
        if result is None:
            emit(bench="simulation.queue.mm14", engine=name, skipped="not installed")
            continue
        emit(
            bench="simulation.queue.mm14",
            engine=name,
            calls=result["calls"],
            events=result["events"],
            cpu_seconds=round(result["cpu"], 3),
            events_per_cpu_second=round(result["events"] / result["cpu"]),
            calls_per_cpu_second=round(result["calls"] / result["cpu"]),
            probability_wait=round(result["p_wait"], 4),
            erlang_c_probability_wait=round(theory, 4),
        )
    bench_staffing()
    if not args.skip_schedule:
        bench_schedule()


if __name__ == "__main__":
    main()
