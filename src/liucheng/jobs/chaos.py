"""The chaos run: worker processes killed with SIGKILL while they run instances, then a check.

Each instance of the chaos process runs an async step, a timer, an external task and another
async step, each of which increments a counter variable once. Worker processes
(``liucheng worker --app liucheng.jobs.chaos:registry``) are killed at random moments and
restarted. Afterwards every instance must have completed with each step applied exactly once:

- ``lost``: instances neither completed nor waiting in a well-defined state (a job, an external
  task, a timer or an incident) when the run ends;
- ``double_applied``: instances whose counter is not exactly 3 or any step completed twice;
- ``double_fired_timers``: instances whose timer completed more than once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from liucheng.engine import Engine, LockedExternalTask
from liucheng.store import SqlStore

from .worker import Registry

__all__ = ["ChaosResult", "chaos_model", "registry", "run_chaos"]

registry = Registry()


@registry.topic("chaos-external")
def _external(task: LockedExternalTask) -> dict[str, Any]:
    # A real side effect would use task.id as idempotency key; the state change (n + 1) happens
    # in the engine when the task completes.
    n = task.variables.get("n", 0)
    return {"n": (n if isinstance(n, Decimal) else Decimal(str(n))) + 1}


def chaos_model(key: str, timer: str = "PT1S") -> bytes:
    """The chaos process with id ``key``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://liucheng/chaos">
  <process id="{key}" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
    <scriptTask id="first" scriptFormat="feel" camunda:resultVariable="n"
        camunda:asyncBefore="true"><script>n + 1</script></scriptTask>
    <sequenceFlow id="f2" sourceRef="first" targetRef="timer"/>
    <intermediateCatchEvent id="timer">
      <timerEventDefinition><timeDuration>{timer}</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <sequenceFlow id="f3" sourceRef="timer" targetRef="external"/>
    <serviceTask id="external" camunda:type="external" camunda:topic="chaos-external"/>
    <sequenceFlow id="f4" sourceRef="external" targetRef="last"/>
    <scriptTask id="last" scriptFormat="feel" camunda:resultVariable="n"
        camunda:asyncBefore="true"><script>n + 1</script></scriptTask>
    <sequenceFlow id="f5" sourceRef="last" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
""".encode()


@dataclass(slots=True)
class ChaosResult:
    """The outcome of a chaos run (the JSON document of ``liucheng bench chaos``)."""

    instances: int
    completed: int
    lost: int
    double_applied: int
    double_fired_timers: int
    seconds: float
    kills: int
    workers: int
    waiting: int

    def to_json(self) -> str:
        """One JSON document."""
        return json.dumps(asdict(self))


def _spawn(database: str, index: int, lease_seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liucheng.cli",
            "worker",
            "--database",
            database,
            "--app",
            "liucheng.jobs.chaos:registry",
            "--lease-seconds",
            str(lease_seconds),
            "--poll-seconds",
            "0.5",
            "--batch-size",
            "5",
            "--worker-id",
            f"chaos-{index}-{uuid.uuid4().hex[:4]}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def run_chaos(
    database: str,
    *,
    workers: int = 3,
    instances: int = 100,
    kills: int = 5,
    timeout: float = 300.0,
    lease_seconds: float = 3.0,
    seed: int | None = None,
) -> ChaosResult:
    """Run the chaos scenario against ``database`` and check the outcome."""
    rng = random.Random(seed)
    store = SqlStore(database)
    engine = Engine(store)
    key = f"chaos_{uuid.uuid4().hex[:10]}"
    engine.deploy((f"{key}.bpmn", chaos_model(key)))
    started = time.monotonic()
    procs = [_spawn(database, i, lease_seconds) for i in range(workers)]
    pids: list[str] = []
    kill_times = sorted(rng.uniform(0.5, max(1.0, timeout / 4)) for _ in range(kills))
    done_kills = 0
    try:
        for _ in range(instances):
            pids.append(engine.start_process(key, {"n": 0}))
        while time.monotonic() - started < timeout:
            elapsed = time.monotonic() - started
            while done_kills < kills and kill_times[done_kills] <= elapsed:
                victim = rng.randrange(workers)
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                procs[victim] = _spawn(database, victim, lease_seconds)
                done_kills += 1
            if done_kills >= kills and not engine.instances(key=key):
                break
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    seconds = time.monotonic() - started
    result = _check(engine, key, pids)
    store.dispose()
    return ChaosResult(
        instances=instances,
        completed=result["completed"],
        lost=result["lost"],
        double_applied=result["double_applied"],
        double_fired_timers=result["double_fired_timers"],
        seconds=round(seconds, 3),
        kills=done_kills,
        workers=workers,
        waiting=result["waiting"],
    )


def _check(engine: Engine, key: str, pids: list[str]) -> dict[str, int]:
    ended: set[str] = set()
    completions: dict[str, Counter[str]] = {pid: Counter() for pid in pids}
    final_n: dict[str, Any] = {}
    wanted = set(pids)
    for event in engine.history(kind=["process_end", "activity_end", "variable"]):
        pid = event.instance_id
        if pid not in wanted:
            continue
        if event.kind == "process_end":
            ended.add(pid)
        elif event.kind == "activity_end":
            if event.data is None or event.data.get("completed", True):
                completions[pid][event.element_id or ""] += 1
        elif event.data and event.data.get("name") == "n":
            final_n[pid] = event.data.get("value")
    live = {inst.id for inst in engine.instances(key=key)}
    waiting = 0
    lost = 0
    for pid in pids:
        if pid in ended:
            continue
        if pid in live and (
            engine.jobs(instance_id=pid)
            or engine.external_tasks(instance_id=pid)
            or engine.incidents(instance_id=pid)
        ):
            waiting += 1
        else:
            lost += 1
    double_applied = 0
    double_timers = 0
    for pid in pids:
        counts = completions[pid]
        if counts["timer"] > 1:
            double_timers += 1
        twice = any(counts[step] > 1 for step in ("first", "external", "last"))
        value = final_n.get(pid)
        wrong = pid in ended and (value is None or Decimal(str(value)) != 3)
        if twice or wrong:
            double_applied += 1
    return {
        "completed": len(ended),
        "lost": lost,
        "waiting": waiting,
        "double_applied": double_applied,
        "double_fired_timers": double_timers,
    }
