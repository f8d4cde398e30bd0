"""The service-desk demo: a day of requests through the bundled service desk on a real store.

Requests arrive through two channels (online messages and the front desk), are recorded,
classified by the DMN priority matrix, routed to a specialist group, solved (some too slowly, so
the SLA boundary timer escalates them to the team lead), answered, surveyed, and sometimes turned
into a knowledge article. Simulated agents work the tasks; simulated time moves on a manual clock,
so a week of work runs in seconds while every command goes through the engine and the database.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from liucheng.engine import Engine, ManualClock
from liucheng.store import SqlStore

__all__ = ["DemoReport", "run_service_desk"]

START = _dt.datetime(2026, 3, 2, 8, 0, tzinfo=_dt.UTC)  # a Monday
CATEGORIES = ("hardware", "software", "network", "security", "billing")
LEVELS = ("high", "medium", "low")
AGENTS = {
    "first-level": ["tom", "anna", "ben", "carla"],
    "second-level-hardware": ["jonas", "lena"],
    "second-level-software": ["mei", "paul"],
    "second-level-network": ["mei", "jonas"],
    "security-team": ["mei", "paul"],
    "team-lead": ["sofia"],
}
# Mean working minutes per step.
WORK_MINUTES = {
    "record_request": 6,
    "answer_customer": 10,
    "review_overdue": 15,
    "write_article": 45,
}
SOLVE_MINUTES = {"critical": 90, "high": 150, "medium": 300, "low": 420}


@dataclass
class DemoReport:
    """What happened in the demo run."""

    requests: int
    channels: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    open: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    step_minutes: dict[str, float] = field(default_factory=dict)
    priorities: Counter[str] = field(default_factory=Counter)
    sla_breaches: int = 0
    surveys: int = 0
    survey_timeouts: int = 0
    csat: float | None = None
    incidents: int = 0
    cycle_hours_mean: float | None = None
    simulated_days: float = 0.0
    database: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "requests": self.requests,
            "channels": dict(self.channels),
            "completed": self.completed,
            "open": self.open,
            "steps": dict(self.steps),
            "step_minutes": self.step_minutes,
            "priorities": dict(self.priorities),
            "sla_breaches": self.sla_breaches,
            "surveys": self.surveys,
            "survey_timeouts": self.survey_timeouts,
            "csat": self.csat,
            "incidents": self.incidents,
            "cycle_hours_mean": self.cycle_hours_mean,
            "simulated_days": self.simulated_days,
            "database": self.database,
        }


class _Desk:
    def __init__(self, engine: Engine, clock: ManualClock, rng: random.Random) -> None:
        self.engine = engine
        self.clock = clock
        self.rng = rng
        self.events: list[tuple[_dt.datetime, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.busy_until: dict[str, _dt.datetime] = defaultdict(lambda: START)
        self.scheduled: set[str] = set()
        self.pids: list[str] = []
        self.channels: Counter[str] = Counter()

    def at(self, when: _dt.datetime, action: str, *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, action, args))

    def request(self, index: int) -> None:
        rng = self.rng
        variables = {
            "customer": f"customer-{index:03d}",
            "category": rng.choice(CATEGORIES),
            "impact": rng.choices(LEVELS, weights=(2, 5, 3))[0],
            "urgency": rng.choices(LEVELS, weights=(2, 4, 4))[0],
            "write_article": rng.random() < 0.2,
        }
        if rng.random() < 0.55:
            pid = self.engine.correlate_message("service_request", None, variables)
            self.channels["online"] += 1
        else:
            pid = self.engine.start_process("service_desk", variables, f"REQ-{index:04d}")
            self.channels["desk"] += 1
        if pid is not None:
            self.pids.append(pid)

    def plan_tasks(self) -> None:
        """Give every new task to a free agent of its group and plan its completion."""
        for task in self.engine.tasks():
            if task.id in self.scheduled:
                continue
            group = task.candidate_groups[0] if task.candidate_groups else "first-level"
            people = AGENTS.get(group, AGENTS["first-level"])
            person = min(people, key=lambda p: self.busy_until[p])
            begin = max(self.clock.now(), self.busy_until[person])
            if task.element_id == "resolve":
                variables = self.engine.variables(task.instance_id)
                mean = SOLVE_MINUTES.get(str(variables.get("priority")), 480)
            else:
                mean = WORK_MINUTES.get(task.element_id, 10)
            minutes = self.rng.expovariate(1.0 / mean)
            done = begin + _dt.timedelta(minutes=minutes)
            self.busy_until[person] = done
            self.engine.assign_task(task.id, person, actor=person)
            self.scheduled.add(task.id)
            self.at(done, "complete", task.id, person)

    def complete(self, task_id: str, person: str) -> None:
        task = self.engine.tasks(id=task_id)
        if not task:
            return  # the instance moved on (e.g. cancelled)
        self.engine.complete_task(task_id, {}, actor=person)
        if task[0].element_id == "answer_customer" and self.rng.random() < 0.7:
            delay = _dt.timedelta(hours=self.rng.uniform(2, 72))
            self.at(self.clock.now() + delay, "survey", task[0].instance_id)

    def survey(self, instance_id: str) -> None:
        score = self.rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 6, 6))[0]
        self.engine.correlate_message(
            "survey_response", None, {"csat": score}, instance_id=instance_id
        )

    def run(self, requests: int) -> None:
        when = START
        for index in range(requests):
            when += _dt.timedelta(minutes=self.rng.expovariate(1 / 40))
            self.at(when, "request", index)
        horizon = START + _dt.timedelta(days=14)
        while self.events:
            when, _, action, args = heapq.heappop(self.events)
            if when > horizon:
                break
            self._advance(when)
            getattr(self, action)(*args)
            self.plan_tasks()
        self._advance(horizon)
        self.plan_tasks()

    def _advance(self, when: _dt.datetime) -> None:
        """Move the clock, firing every timer that falls due on the way, in order."""
        while True:
            due = [j.due_at for j in self.engine.jobs() if j.retries > 0 and j.due_at <= when]
            if not due:
                break
            step = min(due)
            if step > self.clock.now():
                self.clock.set(step)
            self.engine.run_due_jobs()
            self.plan_tasks()
        if when > self.clock.now():
            self.clock.set(when)


def run_service_desk(
    processes: Path, database: str, *, requests: int = 60, seed: int = 42
) -> DemoReport:
    """Deploy the service desk into ``database`` and run ``requests`` through it."""
    clock = ManualClock(START)
    store = SqlStore(database)
    try:
        engine = Engine(store, clock=clock)
        folder = processes / "service_desk"
        engine.deploy(folder / "service_desk.bpmn", folder / "priority.dmn")
        desk = _Desk(engine, clock, random.Random(seed))
        desk.run(requests)
        return _report(engine, desk, database)
    finally:
        store.dispose()


def _report(engine: Engine, desk: _Desk, database: str) -> DemoReport:
    pids = set(desk.pids)
    report = DemoReport(requests=len(pids), channels=desk.channels, database=database)
    starts: dict[tuple[str, str], _dt.datetime] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    begun: dict[str, _dt.datetime] = {}
    cycle: list[float] = []
    csat: list[int] = []
    for event in engine.history(instance_id=list(pids)):
        pid = event.instance_id or ""
        if event.kind == "process_start":
            begun[pid] = event.at
        elif event.kind == "process_end":
            report.completed += 1
            if pid in begun:
                cycle.append((event.at - begun[pid]).total_seconds() / 3600)
        elif event.kind == "activity_start" and event.element_instance_id:
            starts[(pid, event.element_instance_id)] = event.at
        elif event.kind == "activity_end" and event.element_id:
            completed = event.data is None or event.data.get("completed", True)
            if completed:
                report.steps[event.element_id] += 1
                if event.element_id == "sla_breached":
                    report.sla_breaches += 1
                elif event.element_id == "survey_timeout":
                    report.survey_timeouts += 1
                elif event.element_id == "await_survey":
                    report.surveys += 1
            begin = starts.get((pid, event.element_instance_id or ""))
            if begin is not None and event.element_type in ("userTask", "receiveTask"):
                durations[event.element_id].append((event.at - begin).total_seconds() / 60)
        elif event.kind == "variable" and event.data:
            name = event.data.get("name")
            value = event.data.get("value")
            if name == "priority" and isinstance(value, str):
                report.priorities[value] += 1
            elif name == "csat" and isinstance(value, int | Decimal):
                csat.append(int(value))
        elif event.kind == "incident_open":
            report.incidents += 1
    report.open = len(pids) - report.completed
    report.step_minutes = {k: round(sum(v) / len(v), 1) for k, v in sorted(durations.items())}
    report.csat = round(sum(csat) / len(csat), 2) if csat else None
    report.cycle_hours_mean = round(sum(cycle) / len(cycle), 1) if cycle else None
    report.simulated_days = round((desk.clock.now() - START).total_seconds() / 86400, 1)
    return report
