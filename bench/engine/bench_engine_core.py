"""Engine core micro-benchmark: the shared workloads W1..W3 on the in-memory store.

Prints one JSON line per figure; ``cpu_*`` figures use process CPU time, which stays meaningful
on a busy machine (wall-clock figures do not). Run: ``.venv/bin/python bench/engine/bench_engine_core.py``.
The in-memory store costs almost nothing, so the figures are the engine's own cost per instance
(history on); the SQL store benchmarks add the database on top.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

from liucheng.engine import Engine, ManualClock, MemoryStore

SHARED = Path(os.environ.get("LIUCHENG_SHARED", Path(__file__).resolve().parents[3] / "shared"))
WORKLOADS = SHARED / "bench" / "workloads" / "feel"


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def bench_w1(n: int, history: bool) -> None:
    engine = Engine(MemoryStore(keep_history=False), clock=ManualClock(), history=history)
    engine.deploy(WORKLOADS / "W1_straight_through.bpmn")
    for _ in range(50):  # warm-up (FEEL caches, graph)
        engine.start_process("W1_straight_through")
    t0 = time.perf_counter()
    c0 = time.process_time()
    best = float("inf")
    block = 100
    for _ in range(max(n // block, 1)):
        b0 = time.process_time()
        for _ in range(block):
            engine.start_process("W1_straight_through")
        best = min(best, time.process_time() - b0)
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    runs = max(n // block, 1) * block
    _emit(
        bench="engine_core",
        workload="W1_straight_through",
        store="memory",
        history=history,
        instances=runs,
        instances_per_s=round(runs / dt, 1),
        cpu_us_per_instance=round(cpu / runs * 1e6, 1),
        best_cpu_us_per_instance=round(best / block * 1e6, 1),
        cpu_instances_per_s=round(runs / cpu, 1),
    )


def bench_w2(n: int) -> None:
    clock = ManualClock()
    store = MemoryStore(keep_history=False)
    engine = Engine(store, clock=clock)
    engine.deploy(WORKLOADS / "W2_service_desk.bpmn")
    t0 = time.perf_counter()
    tasks_done = 0
    for i in range(n):
        pid = engine.start_process("W2_service_desk")
        while True:
            tasks = engine.tasks(instance_id=pid)
            if not tasks:
                break
            t = tasks[0]
            variables = (
                {"priority": "high" if i % 2 else "normal"}
                if t.element_id == "Task_Classify"
                else None
            )
            engine.complete_task(t.id, variables)
            tasks_done += 1
    dt = time.perf_counter() - t0
    live = len(store.instances)
    _emit(
        bench="engine_core",
        workload="W2_service_desk",
        store="memory",
        history=True,
        instances=n,
        instances_per_s=round(n / dt, 1),
        tasks_per_s=round(tasks_done / dt, 1),
        live_after=live,
    )


def bench_w2_memory(n: int) -> None:
    store = MemoryStore(keep_history=False)
    engine = Engine(store, clock=ManualClock())
    engine.deploy(WORKLOADS / "W2_service_desk.bpmn")
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(n):
        engine.start_process("W2_service_desk")
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    _emit(
        bench="engine_core",
        workload="W2_service_desk",
        store="memory",
        figure="bytes_per_1000_waiting_instances",
        value=round(used / n * 1000),
    )


def bench_w3(n: int) -> None:
    engine = Engine(MemoryStore(keep_history=False), clock=ManualClock())
    engine.deploy(WORKLOADS / "W3_parallel_fanout.bpmn")
    items = list(range(100))
    engine.start_process("W3_parallel_fanout", {"items": items})
    t0 = time.perf_counter()
    for _ in range(n):
        engine.start_process("W3_parallel_fanout", {"items": items})
    dt = time.perf_counter() - t0
    _emit(
        bench="engine_core",
        workload="W3_parallel_fanout",
        store="memory",
        history=True,
        instances=n,
        instances_per_s=round(n / dt, 1),
        inner_instances_per_s=round(100 * n / dt, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="W1 instances")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args(argv)
    if not WORKLOADS.is_dir():
        print(f"workloads not found at {WORKLOADS} (set LIUCHENG_SHARED)", file=sys.stderr)
        return 2
    n = 200 if args.quick else args.n
    bench_w1(n, history=True)
    bench_w1(n, history=False)
    bench_w2(max(n // 10, 20))
    bench_w2_memory(max(n // 2, 100))
    bench_w3(max(n // 100, 5))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
