"""Job throughput and latency with 1, 2 and 4 worker processes on PostgreSQL.

For each worker count: a backlog of async-continuation jobs is created, the workers
(`liucheng worker` processes) start, and throughput is the number of jobs over the time from the
first to the last job executed (from history). Then, with the workers running, instances are
started at a steady rate and the latency from a job's due time (the instance start) to its
execution is measured (p50/p99). One JSON line per figure.

Usage: python bench/jobs/bench_jobs.py [--jobs 2000] [--workers 1,2,4] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import psycopg

from liucheng.engine import Engine
from liucheng.store import SqlStore

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://liucheng/bench">
  <process id="jobs" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="step"/>
    <scriptTask id="step" scriptFormat="feel" camunda:resultVariable="n"
        camunda:asyncBefore="true"><script>n + 1</script></scriptTask>
    <sequenceFlow id="f2" sourceRef="step" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _fresh_database(admin: str) -> str:
    name = f"lc_bench_jobs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def _drop_database(admin: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _workers(url: str, count: int) -> list[subprocess.Popen[str]]:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "liucheng.cli",
                "worker",
                "--database",
                url,
                "--batch-size",
                "20",
                "--poll-seconds",
                "1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.readline()  # "worker … running"
    return procs


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


def _executions(engine: Engine, pids: set[str]) -> tuple[list[float], list[float]]:
    starts: dict[str, float] = {}
    runs: dict[str, float] = {}
    for event in engine.history(kind=["process_start", "activity_start"]):
        if event.instance_id not in pids:
            continue
        if event.kind == "process_start":
            starts[event.instance_id] = event.at.timestamp()
        elif event.element_id == "step":
            runs[event.instance_id] = event.at.timestamp()
    executed = sorted(runs.values())
    latencies = sorted(runs[p] - starts[p] for p in runs if p in starts)
    return executed, latencies


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def run(jobs: int, worker_counts: list[int], admin: str, rate: float) -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = []
    for count in worker_counts:
        url = _fresh_database(admin)
        store = SqlStore(url)
        try:
            engine = Engine(store)
            engine.deploy(("jobs.bpmn", MODEL.encode()))
            backlog = {engine.start_process("jobs", {"n": 0}) for _ in range(jobs)}
            procs = _workers(url, count)
            deadline = time.monotonic() + 600
            while engine.jobs() and time.monotonic() < deadline:
                time.sleep(0.2)
            executed, _ = _executions(engine, backlog)
            span = executed[-1] - executed[0] if len(executed) > 1 else float("nan")
            throughput = (len(executed) - 1) / span if span and span > 0 else float("nan")
            # steady load: latency from due time to execution
            steady: set[str] = set()
            interval = 1.0 / rate
            t_next = time.monotonic()
            for _ in range(int(rate * 10)):
                steady.add(engine.start_process("jobs", {"n": 0}))
                t_next += interval
                time.sleep(max(0.0, t_next - time.monotonic()))
            while engine.jobs() and time.monotonic() < deadline:
                time.sleep(0.2)
            _, latencies = _executions(engine, steady)
            _stop(procs)
            figures.append(
                {
                    "bench": "jobs.postgresql",
                    "workers": count,
                    "jobs": len(executed),
                    "jobs_per_s": round(throughput, 1),
                    "latency_rate_per_s": rate,
                    "latency_p50_s": round(_pct(latencies, 0.5), 4),
                    "latency_p99_s": round(_pct(latencies, 0.99), 4),
                    "lost": jobs - len(executed),
                }
            )
        finally:
            store.dispose()
            _drop_database(admin, url)
    base = figures[0]["jobs_per_s"] if figures else float("nan")
    for fig in figures:
        fig["scaling_vs_1"] = round(fig["jobs_per_s"] / base, 2) if base else None
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--database", default=ADMIN, help="admin URL of a PostgreSQL server")
    parser.add_argument("--rate", type=float, default=20.0, help="instances/s for latency")
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    for fig in run(args.jobs, counts, args.database, args.rate):
        print(json.dumps(fig), flush=True)


if __name__ == "__main__":
    main()
