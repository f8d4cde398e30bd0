"""The engine conformance runner (scenario format: ``shared/conformance/scenarios/FORMAT.md``).

Each scenario runs on a fresh in-memory store with a manual clock. With ``reload=True`` the run
also proves durability: after every step the stored instance documents go through JSON and back
and a fresh :class:`~liucheng.engine.Engine` (empty caches) continues from the store.

Every ``*.bpmn`` and ``*.dmn`` file of a scenario folder is deployed before the first step.
Beyond format v1, a ``deploy: {files: [name, ...]}`` step deploys the named files of the folder
later, as a deployment of their own (new versions); those files are not in the first one.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from liucheng.errors import LiuchengError

from ._engine import Engine
from ._timers import add_duration, parse_duration
from .memory import MemoryStore
from .ports import ManualClock

__all__ = ["ConformanceReport", "ScenarioResult", "find_scenarios", "run_scenario", "run_scenarios"]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """The outcome of one scenario.

    Attributes:
        name: Scenario folder path relative to the root given.
        ok: Whether every step behaved as expected.
        message: What failed first (empty when ok).
    """

    name: str
    ok: bool
    message: str = ""


@dataclass(slots=True)
class ConformanceReport:
    """All results of a run.

    Attributes:
        results: One result per scenario, in folder order.
    """

    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many scenarios passed."""
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> int:
        """How many scenarios failed."""
        return sum(1 for r in self.results if not r.ok)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``liucheng conformance --json``."""
        return {
            "passed": self.passed,
            "failed": self.failed,
            "results": [{"name": r.name, "ok": r.ok, "message": r.message} for r in self.results],
        }


def find_scenarios(directory: Path) -> list[Path]:
    """Folders under ``directory`` (recursively) that hold a ``scenario.yaml``, sorted."""
    return sorted(p.parent for p in Path(directory).rglob("scenario.yaml"))


def run_scenarios(directory: str | Path, *, reload: bool = False) -> ConformanceReport:
    """Run every scenario found under ``directory``."""
    root = Path(directory)
    report = ConformanceReport()
    for folder in find_scenarios(root):
        name = str(folder.relative_to(root)) if folder != root else folder.name
        res = run_scenario(folder, reload=reload)
        report.results.append(ScenarioResult(name, res.ok, res.message))
    return report


class _Fail(Exception):
    pass


def run_scenario(folder: str | Path, *, reload: bool = False) -> ScenarioResult:
    """Run one scenario folder."""
    folder = Path(folder)
    try:
        spec = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        _Runner(folder, spec, reload).run()
    except _Fail as exc:
        return ScenarioResult(folder.name, False, str(exc))
    except LiuchengError as exc:
        return ScenarioResult(folder.name, False, f"unexpected error: {exc}")
    except Exception as exc:  # a runner must report every scenario, whatever breaks
        return ScenarioResult(folder.name, False, f"crash: {type(exc).__name__}: {exc}")
    return ScenarioResult(folder.name, True, "")


class _Runner:
    def __init__(self, folder: Path, spec: dict[str, Any], reload: bool) -> None:
        self.folder = folder
        self.spec = spec
        self.reload = reload
        self.store = MemoryStore()
        self.clock = ManualClock()
        self.engine = Engine(self.store, clock=self.clock)
        self.pid: str | None = None
        self.root: str | None = None

    # -- plumbing
    def run(self) -> None:
        # DMN files beside the models are deployed with them (business rule tasks call them);
        # files named by a later ``deploy`` step (beyond format v1) wait for that step
        later = {
            str(f)
            for step in self.spec.get("steps") or []
            if isinstance(step, dict) and isinstance(step.get("deploy"), dict)
            for f in step["deploy"].get("files") or []
        }
        files = sorted(
            f
            for f in [*self.folder.glob("*.bpmn"), *self.folder.glob("*.dmn")]
            if f.name not in later
        )
        dep = self.engine.deploy(files)
        process = self.spec.get("process")
        if process is None:
            keys = [d.key for d in dep.definitions if d.kind == "bpmn"]
            process = keys[0] if keys else None
        self.process = process
        for i, step in enumerate(self.spec.get("steps") or [], 1):
            self.step(i, step)
            if self.reload:
                self._reload()

    def _reload(self) -> None:
        for rec in self.store.instances.values():
            rec.doc = json.loads(json.dumps(rec.doc))
        self.engine = Engine(self.store, clock=self.clock)

    def _snapshot(self) -> Any:
        s = self.store
        return (
            {k: (r.revision, json.dumps(r.doc, sort_keys=True)) for k, r in s.instances.items()},
            {kind: {k: repr(v) for k, v in rows.items()} for kind, rows in s.rows.items()},
            s.history_count,
        )

    def step(self, i: int, step: dict[str, Any]) -> None:
        error = bool(step.get("error"))
        kinds = [k for k in step if k != "error"]
        if len(kinds) != 1:
            raise _Fail(f"step {i}: expected one action, got {kinds}")
        kind = kinds[0]
        arg = step[kind] if step[kind] is not None else {}
        if kind == "expect":
            self.expect(i, arg)
            return
        before = self._snapshot() if error else None
        try:
            self.act(kind, arg)
        except LiuchengError as exc:
            if not error:
                raise _Fail(f"step {i} ({kind}): {exc}") from None
            if self._snapshot() != before:
                raise _Fail(f"step {i} ({kind}) failed but changed the stored state") from None
            return
        if error:
            raise _Fail(f"step {i} ({kind}) should have failed")

    # -- actions
    def act(self, kind: str, arg: Any) -> None:
        e = self.engine
        if kind == "deploy":  # beyond format v1: a later deployment (new versions)
            e.deploy([self.folder / str(f) for f in arg.get("files") or []])
            return
        if kind == "start":
            variables = arg.get("variables") or {}
            if arg.get("message"):
                pid = e.correlate_message(arg["message"], variables=variables)
            else:
                pid = e.start_process(self.process, variables, arg.get("business_key"))
            self.pid = pid
            self.root = pid
            return
        pid = self._pid()
        if kind == "complete":
            element = arg["task"]
            index = int(arg.get("index", 1))
            tasks = [t for t in e.tasks(root_id=pid) if t.element_id == element]
            if tasks:
                if len(tasks) < index:
                    raise _Fail(f"only {len(tasks)} open tasks '{element}'")
                e.complete_task(tasks[index - 1].id, arg.get("variables"))
            else:
                e.trigger(pid, element, arg.get("variables"), index=index)
        elif kind == "message":
            payload = arg.get("variables")
            # beyond format v1: a Zeebe correlation key, and a ttl that buffers a message
            # nothing waits for yet (Zeebe's message time to live)
            key = arg.get("correlation_key")
            key = None if key is None else str(key)
            if arg.get("all"):  # beyond format v1: Camunda's correlateAll()
                e.correlate_message_all(arg["name"], key, payload, instance_id=pid)
            else:
                ttl = None
                if arg.get("ttl") is not None:
                    now = self.clock.now()
                    ttl = add_duration(now, parse_duration(str(arg["ttl"]))) - now
                e.correlate_message(arg["name"], key, payload, instance_id=pid, ttl=ttl)
        elif kind == "signal":
            e.broadcast_signal(arg["name"], arg.get("variables"))
        elif kind == "external":
            locked = e.fetch_and_lock(arg["topic"], "conformance", instance_id=pid)
            if not locked:
                raise _Fail(f"no external task of topic '{arg['topic']}' to fetch")
            task = locked[0]
            if "bpmn_error" in arg:
                be = arg["bpmn_error"] or {}
                e.external_task_bpmn_error(
                    task.id, str(be.get("code")), "conformance", variables=be.get("variables")
                )
            elif "fail" in arg:
                f = arg["fail"] or {}
                e.fail_external_task(
                    task.id,
                    "conformance",
                    str(f.get("message", "failed")),
                    retries=int(f.get("retries", 0)),
                )
            else:
                c = arg.get("complete") or {}
                e.complete_external_task(task.id, "conformance", c.get("variables"))
        elif kind == "set_variables":
            e.set_variables(pid, arg.get("variables") or {})
        elif kind == "run_jobs":
            e.run_due_jobs()
        elif kind == "advance":
            self.clock.set(add_duration(self.clock.now(), parse_duration(str(arg))))
            e.run_due_jobs()
        else:
            raise _Fail(f"unknown step '{kind}'")

    def _pid(self) -> str:
        if self.pid is None:
            raise _Fail("no process instance started yet")
        return self.pid

    # -- expectations
    def _family(self) -> set[str]:
        pid = self._pid()
        fam = {pid}
        for h in self.store.history:
            if h.kind == "process_start" and h.data and h.data.get("root_id") == pid:
                assert h.instance_id is not None
                fam.add(h.instance_id)
        return fam

    def expect(self, i: int, exp: dict[str, Any]) -> None:
        e = self.engine
        pid = self._pid()
        fam = self._family()
        ended = e.is_ended(pid)
        completed: Counter[str] = Counter()
        for h in self.store.history:
            if (
                h.kind == "activity_end"
                and h.instance_id in fam
                and h.data
                and h.data.get("completed")
                and h.element_id
            ):
                completed[h.element_id] += 1
        problems: list[str] = []
        for key, want in exp.items():
            if key == "ended":
                if ended != bool(want):
                    problems.append(f"ended is {ended}, expected {want}")
            elif key == "active":
                got = sorted(e.active_elements(pid)) if not ended else []
                if sorted(want or []) != got:
                    problems.append(f"active is {got}, expected {sorted(want or [])}")
            elif key == "passed":
                missing = [x for x in want if completed[x] == 0]
                if missing:
                    problems.append(f"not passed: {missing}")
            elif key == "not_passed":
                bad = [x for x in want if completed[x] > 0]
                if bad:
                    problems.append(f"passed but should not: {bad}")
            elif key == "counts":
                for el, n in want.items():
                    if completed[el] != n:
                        problems.append(f"count of {el} is {completed[el]}, expected {n}")
            elif key == "variables":
                got_vars = self._variables(pid, ended)
                for name, value in want.items():
                    if name not in got_vars or not _equal(got_vars[name], value):
                        problems.append(
                            f"variable {name} is {got_vars.get(name, '<unset>')!r}, "
                            f"expected {value!r}"
                        )
            elif key == "jobs":
                n = len(e.jobs(root_id=pid))
                if n != want:
                    problems.append(f"{n} jobs, expected {want}")
            elif key == "incidents":
                n = len(e.incidents(root_id=pid))
                if n != want:
                    problems.append(f"{n} incidents, expected {want}")
            elif key == "tasks":
                problems.extend(self._check_tasks(pid, want or []))
            else:
                problems.append(f"unknown expectation '{key}'")
        if problems:
            raise _Fail(f"step {i} (expect): " + "; ".join(problems))

    def _variables(self, pid: str, ended: bool) -> dict[str, Any]:
        if not ended:
            return self.engine.variables(pid)
        out: dict[str, Any] = {}
        for h in self.store.history:
            if h.kind == "variable" and h.instance_id == pid and h.data:
                out[h.data["name"]] = h.data["value"]
        return out

    def _check_tasks(self, pid: str, want: list[dict[str, Any]]) -> list[str]:
        tasks = self.engine.tasks(root_id=pid)
        if len(tasks) != len(want):
            return [f"{len(tasks)} tasks {[t.element_id for t in tasks]}, expected {len(want)}"]
        left = list(tasks)
        for w in want:
            for t in left:
                if _task_matches(t, w):
                    left.remove(t)
                    break
            else:
                return [f"no task matches {w}; open: {[_show_task(t) for t in tasks]}"]
        return []


def _task_matches(t: Any, w: dict[str, Any]) -> bool:
    for k, v in w.items():
        if k == "id":
            if t.element_id != v:
                return False
        elif k == "assignee":
            if t.assignee != v:
                return False
        elif k == "candidate_groups":
            if sorted(t.candidate_groups) != sorted(v or []):
                return False
        elif k == "candidate_users" and sorted(t.candidate_users) != sorted(v or []):
            return False
    return True


def _show_task(t: Any) -> dict[str, Any]:
    return {
        "id": t.element_id,
        "assignee": t.assignee,
        "candidate_groups": t.candidate_groups,
        "candidate_users": t.candidate_users,
    }


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)
