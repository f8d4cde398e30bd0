"""The engine workloads (../shared/bench/workloads) persisted, beside SpiffWorkflow 3.x.

Liucheng runs the FEEL variants on its SQL store (SQLite WAL with synchronous=FULL and NORMAL,
and PostgreSQL); SpiffWorkflow runs the Python variants and persists its state after every wait
the way its server does (serialise the workflow, write it to SQLite, commit; load it again before
the next task), under the same SQLite settings. Reports completed instances/s, user tasks/s and
the memory one live waiting instance costs (stored bytes and Python heap per 1,000 instances).
One JSON line per figure.

With ``--clients N`` (N > 1) both engines also run each SQLite workload from N client threads at
once (Liucheng: one engine and store shared by the threads; SpiffWorkflow: one connection per
thread, same PRAGMAs), reported with ``"clients": N`` beside the single-client figures.

Usage: python bench/workloads/bench_workloads.py [--seconds 8] [--skip-postgres] [--skip-spiff]
    [--clients N] [--stores sqlite-normal]
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from liucheng.engine import Engine, MemoryStore
from liucheng.store import DatabaseSettings, SqlStore

SHARED = Path(os.environ.get("LIUCHENG_SHARED", Path(__file__).resolve().parents[3] / "shared"))
FEEL = SHARED / "bench" / "workloads" / "feel"
PYTHON = SHARED / "bench" / "workloads" / "python"
PG_ADMIN = os.environ.get("LIUCHENG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
WORKLOADS = ("W1_straight_through", "W2_service_desk", "W3_parallel_fanout")


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


# ----------------------------------------------------------------------------- Liucheng


def _liucheng_instance(engine: Engine, workload: str, index: int) -> int:
    """Run one instance of ``workload`` to its end; returns the user tasks completed."""
    if workload == "W1_straight_through":
        engine.start_process(workload)
        return 0
    if workload == "W3_parallel_fanout":
        engine.start_process(workload, {"items": list(range(100))})
        return 0
    pid = engine.start_process(workload)
    done = 0
    while True:
        tasks = engine.tasks(instance_id=pid)
        if not tasks:
            return done
        task = tasks[0]
        variables = {"priority": "high" if index % 2 else "normal"}
        engine.complete_task(task.id, variables if task.element_id == "Task_Classify" else None)
        done += 1


def _timed(run_one: Callable[[int], int], seconds: float, limit: int) -> tuple[int, int, float]:
    count, tasks, elapsed, _cpu = _timed_cpu(run_one, seconds, limit)
    return count, tasks, elapsed


def _timed_cpu(
    run_one: Callable[[int], int], seconds: float, limit: int
) -> tuple[int, int, float, float]:
    """Run instances for ``seconds`` (at most ``limit``): instances, tasks, wall s, CPU s."""
    start = time.perf_counter()
    cpu = time.process_time()
    count = tasks = 0
    while count < limit and time.perf_counter() - start < seconds:
        tasks += run_one(count)
        count += 1
    return count, tasks, time.perf_counter() - start, time.process_time() - cpu


class _Tally:
    """Instances, tasks, wall and CPU seconds summed over the rounds of an interleaved run."""

    def __init__(self) -> None:
        self.count = self.tasks = 0
        self.elapsed = self.cpu = 0.0

    def run(self, run_one: Callable[[int], int], seconds: float) -> None:
        offset = self.count
        count, tasks, elapsed, cpu = _timed_cpu(lambda i: run_one(offset + i), seconds, 1_000_000)
        self.count += count
        self.tasks += tasks
        self.elapsed += elapsed
        self.cpu += cpu

    def figures(self) -> dict[str, Any]:
        """Instances/s, tasks/s and CPU ms per instance (steady on a busy machine, unlike
        instances/s; excludes time waiting for fsync)."""
        return {
            "instances": self.count,
            "instances_per_s": round(self.count / self.elapsed, 1),
            "tasks_per_s": round(self.tasks / self.elapsed, 1) if self.tasks else None,
            "cpu_ms_per_instance": round(self.cpu * 1000 / self.count, 3) if self.count else None,
        }


def _timed_clients(
    make_runner: Callable[[int], Callable[[int], int]], clients: int, seconds: float
) -> tuple[int, int, float]:
    """Run instances from ``clients`` threads for ``seconds``; (instances, tasks, elapsed)."""
    counts = [0] * clients
    tasks = [0] * clients
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(k: int) -> None:
        try:
            run_one = make_runner(k)
        except BaseException as exc:
            errors.append(exc)
            ready.abort()
            return
        ready.wait()
        i = 0
        try:
            while time.perf_counter() < deadline[0]:
                tasks[k] += run_one(k * 1_000_003 + i)
                counts[k] += 1
                i += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    deadline[0] = start + seconds
    ready.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return sum(counts), sum(tasks), elapsed


def _liucheng_store(kind: str, tmp: Path) -> tuple[SqlStore, Callable[[], int], Callable[[], None]]:
    if kind.startswith("sqlite"):
        path = tmp / f"lc-{uuid.uuid4().hex[:6]}.db"
        sync = "FULL" if kind.endswith("full") else "NORMAL"
        store = SqlStore(DatabaseSettings(url=f"sqlite:///{path}", synchronous=sync))

        def size() -> int:
            raw = store.engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            return path.stat().st_size

        return store, size, store.dispose
    name = f"lc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    store = SqlStore(url)

    def pg_size() -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0

    def drop() -> None:
        store.dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return store, pg_size, drop


def _stored_per_1000(
    name: str, kind: str, start: Callable[[], object], size: Callable[[], int]
) -> None:
    """Emit the stored bytes 1,000 more live waiting W2 instances take."""
    before = size()
    for _ in range(1000):
        start()
    emit(
        bench="workloads.memory",
        engine=name,
        store=kind,
        stored_bytes_per_1000_live=size() - before,
    )


def bench_liucheng(kind: str, seconds: float, tmp: Path, clients: int = 1) -> None:
    store, size, close = _liucheng_store(kind, tmp)
    try:
        engine = Engine(store)
        for workload in WORKLOADS:
            engine.deploy(FEEL / f"{workload}.bpmn")
        if clients > 1:
            for workload in WORKLOADS:
                count, tasks, elapsed = _timed_clients(
                    lambda _k, w=workload: lambda i: _liucheng_instance(engine, w, i),
                    clients,
                    seconds,
                )
                emit(
                    bench="workloads",
                    engine="liucheng",
                    store=kind,
                    clients=clients,
                    workload=workload,
                    instances=count,
                    instances_per_s=round(count / elapsed, 1),
                    tasks_per_s=round(tasks / elapsed, 1) if tasks else None,
                )
            return
        for workload in WORKLOADS:
            run_one = functools.partial(_liucheng_instance, engine, workload)
            _timed(run_one, 1.0, 20)  # warm-up
            tally = _Tally()
            tally.run(run_one, seconds)
            emit(
                bench="workloads",
                engine="liucheng",
                store=kind,
                workload=workload,
                **tally.figures(),
            )
        _stored_per_1000("liucheng", kind, lambda: engine.start_process("W2_service_desk"), size)
    finally:
        close()


def liucheng_heap_per_1000() -> int:
    engine = Engine(MemoryStore(keep_history=False))
    engine.deploy(FEEL / "W2_service_desk.bpmn")
    engine.start_process("W2_service_desk")
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        engine.start_process("W2_service_desk")
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used


# -------------------------------------------------------------------------- SpiffWorkflow

_ISO = re.compile(r"^(R\d*/)?P(?!$)")


def _spiff() -> dict[str, Any]:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    class TimerLiteralEngine(PythonScriptEngine):  # type: ignore[misc]
        # SpiffWorkflow evaluates timer text as Python; ISO 8601 literals pass through.
        def evaluate(self, task: Any, expression: Any, external_context: Any = None) -> Any:
            if isinstance(expression, str) and _ISO.match(expression.strip()):
                return expression.strip()
            return super().evaluate(task, expression, external_context)

    specs = {}
    for workload in WORKLOADS:
        parser = BpmnParser()
        parser.add_bpmn_file(str(PYTHON / f"{workload}.bpmn"))
        specs[workload] = parser.get_spec(workload)
    return {
        "specs": specs,
        "engine": TimerLiteralEngine(),
        "serializer": BpmnWorkflowSerializer(),
        "Workflow": BpmnWorkflow,
        "READY": TaskState.READY,
    }


class SpiffServer:
    """SpiffWorkflow persisted as its server does: serialise after every wait, load before."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.s = _spiff()
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        # Exactly the PRAGMAs Liucheng's store sets on its connections (store/_database.py).
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.execute("PRAGMA cache_size=-16384")
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute("CREATE TABLE IF NOT EXISTS workflow (id TEXT PRIMARY KEY, state TEXT)")
        self.path = path

    def save(self, wid: str, wf: Any) -> None:
        state = self.s["serializer"].serialize_json(wf)
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT OR REPLACE INTO workflow VALUES (?, ?)", (wid, state))
        self.db.execute("COMMIT")

    def load(self, wid: str) -> Any:
        row = self.db.execute("SELECT state FROM workflow WHERE id = ?", (wid,)).fetchone()
        wf = self.s["serializer"].deserialize_json(row[0])
        wf.script_engine = self.s["engine"]
        return wf

    def start(self, workload: str, data: dict[str, Any] | None = None) -> tuple[str, Any]:
        wf = self.s["Workflow"](self.s["specs"][workload], script_engine=self.s["engine"])
        if data:
            wf.get_tasks(state=self.s["READY"])[0].data.update(data)
        wf.do_engine_steps()
        wid = uuid.uuid4().hex
        self.save(wid, wf)
        return wid, wf

    def instance(self, workload: str, index: int) -> int:
        if workload == "W3_parallel_fanout":
            self.start(workload, {"items": list(range(100))})
            return 0
        wid, wf = self.start(workload)
        done = 0
        while not wf.is_completed():
            wf = self.load(wid)
            ready = wf.get_tasks(state=self.s["READY"], manual=True)
            if not ready:
                break
            task = ready[0]
            if task.task_spec.name == "Task_Classify":
                task.data["priority"] = "high" if index % 2 else "normal"
            task.run()
            wf.do_engine_steps()
            self.save(wid, wf)
            done += 1
        return done

    def size(self) -> int:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size


def bench_spiff_clients(kind: str, seconds: float, tmp: Path, clients: int) -> None:
    """SpiffWorkflow's workloads from ``clients`` threads, one connection each."""
    path = tmp / f"spiff-{uuid.uuid4().hex[:6]}.db"
    sync = "FULL" if kind.endswith("full") else "NORMAL"
    SpiffServer(path, sync)  # creates the table before the threads race to
    for workload in WORKLOADS:

        def runner(_k: int, w: str = workload) -> Callable[[int], int]:
            own = SpiffServer(path, sync)  # one connection per client thread
            return lambda i: own.instance(w, i)

        count, tasks, elapsed = _timed_clients(runner, clients, seconds)
        emit(
            bench="workloads",
            engine="spiffworkflow",
            store=kind,
            clients=clients,
            workload=workload,
            instances=count,
            instances_per_s=round(count / elapsed, 1),
            tasks_per_s=round(tasks / elapsed, 1) if tasks else None,
        )


def commit_floor_ms(tmp: Path, synchronous: str, commits: int = 300) -> float:
    """Wall milliseconds of one bare one-row SQLite commit under ``synchronous`` (WAL, the same
    PRAGMAs), in this run's directory: the floor any persisted engine pays per wait state.
    Under FULL it is an fsync, which bounds the attainable ratio between two engines that both
    commit after every wait: (their time) / (our commits × floor), however fast our code is."""
    path = tmp / f"floor-{uuid.uuid4().hex[:6]}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    start = time.perf_counter()
    for _ in range(commits):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (v) VALUES (?)", ("x" * 200,))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return round(elapsed * 1000 / commits, 4)


def bench_side_by_side(kind: str, seconds: float, tmp: Path, rounds: int = 6) -> None:
    """Both engines on one SQLite setting, interleaved: per workload, ``rounds`` alternating
    slices of ``seconds / rounds`` each (the first engine alternates too). This VM's CPU speed
    drifts by up to a third within minutes; run back to back, each engine would get its own
    speed and the ratio would swing with it. Interleaved, both see the same machine."""
    store, size, close = _liucheng_store(kind, tmp)
    path = tmp / f"spiff-{uuid.uuid4().hex[:6]}.db"
    sync = "FULL" if kind.endswith("full") else "NORMAL"
    server = SpiffServer(path, sync)
    commits = {"W1_straight_through": 1, "W2_service_desk": 6, "W3_parallel_fanout": 1}
    try:
        engine = Engine(store)
        for workload in WORKLOADS:
            engine.deploy(FEEL / f"{workload}.bpmn")
        for workload in WORKLOADS:
            floor = commit_floor_ms(tmp, sync)
            ours = functools.partial(_liucheng_instance, engine, workload)
            theirs = functools.partial(server.instance, workload)
            _timed(ours, 1.0, 20)  # warm-up
            _timed(theirs, 1.0, 5)
            tally = {"liucheng": _Tally(), "spiffworkflow": _Tally()}
            runs = {"liucheng": ours, "spiffworkflow": theirs}
            for r in range(rounds):
                order = (
                    ("liucheng", "spiffworkflow") if r % 2 == 0 else ("spiffworkflow", "liucheng")
                )
                for name in order:
                    tally[name].run(runs[name], seconds / rounds)
            for name, t in tally.items():
                emit(bench="workloads", engine=name, store=kind, workload=workload, **t.figures())
            a, b = tally["liucheng"].figures(), tally["spiffworkflow"].figures()
            emit(
                bench="workloads.ratio",
                store=kind,
                workload=workload,
                throughput_ratio=round(a["instances_per_s"] / b["instances_per_s"], 2),
                cpu_ratio=round(b["cpu_ms_per_instance"] / a["cpu_ms_per_instance"], 2),
                commit_floor_ms=floor,
                # what a zero-cost engine committing as often as we must would reach
                ratio_ceiling=round(1000 / b["instances_per_s"] / (commits[workload] * floor), 1),
            )
        _stored_per_1000("liucheng", kind, lambda: engine.start_process("W2_service_desk"), size)
        _stored_per_1000(
            "spiffworkflow", kind, lambda: server.start("W2_service_desk"), server.size
        )
    finally:
        close()


def spiff_heap_per_1000() -> int:
    s = _spiff()
    keep = []
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        wf = s["Workflow"](s["specs"]["W2_service_desk"], script_engine=s["engine"])
        wf.do_engine_steps()
        keep.append(wf)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="time per workload")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-spiff", action="store_true")
    parser.add_argument(
        "--clients", type=int, default=1, help="also run the SQLite workloads from N threads"
    )
    parser.add_argument(
        "--stores",
        default="sqlite-full,sqlite-normal,postgresql",
        help="comma-separated subset of sqlite-full,sqlite-normal,postgresql",
    )
    args = parser.parse_args()
    kinds = [k for k in args.stores.split(",") if k]
    if args.skip_postgres:
        kinds = [k for k in kinds if k != "postgresql"]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for kind in kinds:
            if not args.skip_spiff and kind.startswith("sqlite"):
                bench_side_by_side(kind, args.seconds, tmp)
            else:
                bench_liucheng(kind, args.seconds, tmp)
            if args.clients > 1 and kind.startswith("sqlite"):
                bench_liucheng(kind, args.seconds, tmp, args.clients)
                if not args.skip_spiff:
                    bench_spiff_clients(kind, args.seconds, tmp, args.clients)
    emit(
        bench="workloads.memory",
        engine="liucheng",
        heap_bytes_per_1000_live=liucheng_heap_per_1000(),
    )
    if not args.skip_spiff:
        emit(
            bench="workloads.memory",
            engine="spiffworkflow",
            heap_bytes_per_1000_live=spiff_heap_per_1000(),
        )


if __name__ == "__main__":
    main()
