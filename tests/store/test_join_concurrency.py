"""Two processes complete the two branches of a parallel join at the same moment, many times.

On PostgreSQL, each OS process runs its own engine on its own connection pool. Per instance, both
wait at a barrier and then complete their branch's task. The join must fire exactly once each
time and nothing may be lost: optimistic locking makes one of the two commands retry.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Any

from liucheng.engine import Engine
from liucheng.store import SqlStore

ROUNDS = int(os.environ.get("LIUCHENG_JOIN_ROUNDS", "1000"))

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="http://t">
  <process id="join" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <parallelGateway id="fork"/>
    <sequenceFlow id="f2" sourceRef="fork" targetRef="left"/>
    <sequenceFlow id="f3" sourceRef="fork" targetRef="right"/>
    <userTask id="left"/>
    <userTask id="right"/>
    <sequenceFlow id="f4" sourceRef="left" targetRef="merge"/>
    <sequenceFlow id="f5" sourceRef="right" targetRef="merge"/>
    <parallelGateway id="merge"/>
    <sequenceFlow id="f6" sourceRef="merge" targetRef="after"/>
    <userTask id="after"/>
    <sequenceFlow id="f7" sourceRef="after" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""


def _worker(url: str, branch: str, pids: list[str], barrier: Any, out: Any) -> None:
    from liucheng.errors import ConcurrencyError
    from liucheng.store import SqlTransaction

    conflicts = 0
    original = SqlTransaction.apply

    def counting_apply(self: SqlTransaction, changes: Any) -> None:
        nonlocal conflicts
        try:
            original(self, changes)
        except ConcurrencyError:
            conflicts += 1  # the engine retries the command
            raise

    SqlTransaction.apply = counting_apply  # type: ignore[method-assign]
    store = SqlStore(url, upgrade=False)
    engine = Engine(store, max_attempts=10)
    failures = 0
    tasks = {t.instance_id: t.id for t in engine.tasks(element_id=branch)}
    for pid in pids:
        barrier.wait(timeout=60)
        try:
            engine.complete_task(tasks[pid])
        except Exception:  # counted and reported: the test fails on any
            failures += 1
    store.dispose()
    out.put((branch, failures, conflicts))


def test_parallel_join_fires_exactly_once_under_concurrent_completion(pg_url: str) -> None:
    store = SqlStore(pg_url)
    try:
        engine = Engine(store)
        engine.deploy(("join.bpmn", MODEL))
        pids = [engine.start_process("join") for _ in range(ROUNDS)]
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(2)
        out = ctx.Queue()
        procs = [
            ctx.Process(target=_worker, args=(pg_url, branch, pids, barrier, out))
            for branch in ("left", "right")
        ]
        for p in procs:
            p.start()
        results = [out.get(timeout=900) for _ in procs]
        for p in procs:
            p.join(60)
        assert sorted(r[:2] for r in results) == [("left", 0), ("right", 0)]
        # The two completions really collided (and were resolved by retrying).
        assert sum(r[2] for r in results) > 0
        after = engine.tasks(element_id="after")
        assert sorted(t.instance_id for t in after) == sorted(pids)  # once each, none lost
        assert not engine.tasks(element_id=["left", "right"])
        joins = engine.history(kind="activity_end", element_id="merge")
        fired: dict[str, int] = {}
        for event in joins:
            if event.data is None or event.data.get("completed", True):
                fired[event.instance_id or ""] = fired.get(event.instance_id or "", 0) + 1
        assert fired == dict.fromkeys(pids, 1)
    finally:
        store.dispose()
