"""Statements per command and CPU per instance of W1/W2 on the SQL store (fixed instance count).

Runs a fixed number of instances of the shared workloads W1 (straight-through) and W2 (service
desk) on a SQLite file (WAL, ``synchronous`` as given) and reports, per workload, the SQL
statements each command sends to SQLite (counted with the driver's trace callback, BEGIN and
COMMIT included) and the process CPU milliseconds per instance (steady on a busy machine,
unlike wall-clock figures). ``--profile`` prints the top cProfile entries instead of timing.

Usage: python bench/engine/profile_store_workloads.py [--instances 2000] [--synchronous NORMAL]
    [--profile W1|W2] [--statements]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import pstats
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from liucheng.engine import Engine
from liucheng.store import DatabaseSettings, SqlStore

SHARED = Path(os.environ.get("LIUCHENG_SHARED", Path(__file__).resolve().parents[3] / "shared"))
FEEL = SHARED / "bench" / "workloads" / "feel"
W1 = "W1_straight_through"
W2 = "W2_service_desk"


def _w1(engine: Engine, _i: int) -> None:
    engine.start_process(W1)


def _w2(engine: Engine, i: int) -> None:
    pid = engine.start_process(W2)
    while True:
        tasks = engine.tasks(instance_id=pid)
        if not tasks:
            return
        task = tasks[0]
        variables = {"priority": "high" if i % 2 else "normal"}
        engine.complete_task(task.id, variables if task.element_id == "Task_Classify" else None)


RUNNERS = {"W1": _w1, "W2": _w2}


def _setup(tmp: Path, synchronous: str) -> tuple[Engine, SqlStore]:
    store = SqlStore(DatabaseSettings(url=f"sqlite:///{tmp / 'p.db'}", synchronous=synchronous))  # type: ignore[arg-type]
    engine = Engine(store)
    engine.deploy(FEEL / f"{W1}.bpmn")
    engine.deploy(FEEL / f"{W2}.bpmn")
    for i in range(30):  # warm-up: graphs, caches, prepared statements
        _w1(engine, i)
        _w2(engine, i)
    return engine, store


def _trace(store: SqlStore, sink: list[str]) -> list[Any]:
    """Install a statement trace on every SQLite connection the store has open."""
    conns: list[Any] = []
    hot = store._hot_connection()
    conns.append(hot.connection.driver_connection)
    for reader in store._idle_readers:
        conns.append(reader.connection.driver_connection)
    for c in conns:
        c.set_trace_callback(sink.append)
    return conns


def statements(tmp: Path, synchronous: str) -> None:
    engine, store = _setup(tmp, synchronous)
    try:
        for name, run in RUNNERS.items():
            sink: list[str] = []
            conns = _trace(store, sink)
            n = 20
            for i in range(n):
                run(engine, i)
            for c in conns:
                c.set_trace_callback(None)
            kinds = Counter(" ".join(s.split()[:3])[:60] for s in sink)
            print(json.dumps({"workload": name, "statements_per_instance": len(sink) / n}))
            for k, v in kinds.most_common():
                print(f"    {v / n:6.2f}  {k}")
    finally:
        store.dispose()


def timing(tmp: Path, synchronous: str, count: int) -> None:
    engine, store = _setup(tmp, synchronous)
    try:
        for name, run in RUNNERS.items():
            n = count if name == "W1" else max(count // 5, 1)
            best = float("inf")
            total = 0.0
            for _ in range(3):
                c0 = time.process_time()
                for i in range(n):
                    run(engine, i)
                spent = time.process_time() - c0
                total += spent
                best = min(best, spent)
            print(
                json.dumps(
                    {
                        "workload": name,
                        "instances": n,
                        "cpu_ms_per_instance_best": round(best * 1000 / n, 3),
                        "cpu_ms_per_instance_mean": round(total * 1000 / (3 * n), 3),
                    }
                )
            )
    finally:
        store.dispose()


def profile(tmp: Path, synchronous: str, count: int, which: str) -> None:
    engine, store = _setup(tmp, synchronous)
    run = RUNNERS[which]
    try:
        prof = cProfile.Profile()
        prof.enable()
        for i in range(count):
            run(engine, i)
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats(os.environ.get("SORT", "tottime")).print_stats(
            int(os.environ.get("TOP", "35"))
        )
    finally:
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--synchronous", default="NORMAL")
    parser.add_argument("--profile", choices=sorted(RUNNERS))
    parser.add_argument("--statements", action="store_true")
    parser.add_argument(
        "--run", choices=sorted(RUNNERS), help="only run this many instances (for callgrind)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if args.statements:
            statements(tmp, args.synchronous)
        elif args.run:
            engine, store = _setup(tmp, args.synchronous)
            run = RUNNERS[args.run]
            # inside functools.reduce: callgrind --toggle-collect=functools_reduce counts
            # exactly these instances
            functools.reduce(lambda _a, i: run(engine, i), range(args.instances), None)
            store.dispose()
        elif args.profile:
            profile(tmp, args.synchronous, args.instances, args.profile)
        else:
            timing(tmp, args.synchronous, args.instances)


if __name__ == "__main__":
    main()
