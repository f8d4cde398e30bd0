"""BPMN-driven discrete-event simulation on the engine's own semantics.

One replication drives a real :class:`~liucheng.engine.Engine` (in-memory store without history,
a :class:`~liucheng.engine.ManualClock` set to the virtual time before every command), in its
lean in-memory mode (:mod:`._lean`: live instance objects between commands, no state documents,
no retry loop; the engine's own behaviours decide everything):

* an arrival starts a process instance with generated case attributes;
* every user task (and every timed activity of the scenario, see :mod:`._prepare`) and external
  task the engine opens queues for a resource of its pools (by priority, then first come),
  starts when a member is free and on duty, and is completed after a sampled working time
  (work pauses while the member's calendar is closed); a push strategy may hand it to a busy
  member whose organisation ``capacity`` leaves room (their own backlog);
* every timer job the engine writes is an event at its due time (the engine runs it then:
  boundary timers interrupt the task, which leaves its queue or frees its resource);
* message/signal waits named in ``scenario.events`` are delivered after a sampled delay, each
  to its own wait (:func:`._lean.deliver`);
* gateways with branching probabilities read a variable drawn before each command.

A command that fails stops the replication with ``simulation.engine.failed`` naming the case
and the element. For common models (none events, tasks, probability-routed exclusive and
inclusive gateways, parallel and event-based gateways, embedded subprocesses, timer boundary
events on tasks and subprocesses, intermediate timer/message/signal waits, multi-instance tasks
of a literal cardinality) the commands the simulator needs run on a compiled token runner
with the same semantics instead (:mod:`._fast`, compiled once per prepared model;
``executor="auto"``), which gives the same event log for the same seed at about four times
the speed.

The resource side (pools, queues, work, calendars) is :mod:`._sim_work`. The simulator records
activity instances (queued, started, ended, resource) and case arrivals and ends, from which
:mod:`.kpis` computes KPIs and :func:`event_log` the event log.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
from pathlib import Path
from typing import Any

from liucheng.errors import LiuchengError

from ._errors import ScenarioError, SimulationEngineError, SimulationLimitError
from ._org_pools import OrgPools
from ._prepare import PreparedModel, prepare_model
from ._records import ActivityRecord, ReplicationRun, measure_resources, stream
from ._resources import _Chooser, _Duty, _Pool, _Work
from ._sim_store import SimStore
from ._sim_work import _WorkSim
from .arrivals import arrival_times, case_attribute_sampler, scenario_calendars
from .distributions import Sampler
from .events import EventLoop
from .scenario import ActivitySpec, Scenario

__all__ = ["ActivityRecord", "ReplicationRun", "run_replication", "stream"]

#: ``auto``: compiled when the model fits, else ``engine``; ``engine``: the real engine in its
#: lean in-memory mode (:mod:`._lean`); ``engine-full``: the real engine with its full
#: per-command bookkeeping (state documents), to check the lean mode; ``compiled``: :mod:`._fast`.
EXECUTORS = ("auto", "engine", "engine-full", "compiled")
#: A replication stops after this multiple of the horizon even if cases are still open.
DRAIN_FACTOR = 10.0
#: Without a horizon (nor ``max_virtual_time``) a replication stops after ten simulated years.
DEFAULT_MAX_VIRTUAL_TIME = 10 * 365 * 86400.0


class _Replication(_WorkSim):
    def __init__(
        self,
        prepared: PreparedModel,
        scenario: Scenario,
        replication: int,
        *,
        seed: int | None,
        base_dir: Path | None,
        executor: str = "auto",
        org: OrgPools | None = None,
    ) -> None:
        from liucheng.engine import Engine, ManualClock

        from ._fast import FastRunner, fast_graph, route_sets
        from ._lean import LeanEngine, deliver

        self.sc = scenario
        self.prepared = prepared
        self.org = org
        self.seed = seed
        self.rep = replication
        self.base_dir = base_dir
        start = scenario.start if scenario.start.tzinfo else scenario.start.replace(tzinfo=dt.UTC)
        self.t0 = start
        self.clock = ManualClock(start)
        self.clock_at = 0.0  # the simulation time the clock shows
        self.run = ReplicationRun()
        self.store = SimStore()
        graph = fast_graph(prepared) if executor in ("auto", "compiled") else None
        if executor == "compiled" and graph is None:
            raise ScenarioError(
                "the model uses elements the compiled runner does not cover",
                path="executor",
                hint="use executor='engine' (or 'auto')",
            )
        self.engine: Any
        self._deliver: Any = lambda sub_id, route: deliver(self.engine, sub_id, route)
        self.compiled = graph is not None
        if graph is not None:
            self.engine = FastRunner(
                graph, self.store, lambda: self.t0 + dt.timedelta(seconds=self.loop.now)
            )
            self._deliver = self.engine.deliver
            self.run.executor = "compiled"
        elif executor == "engine-full":
            self.engine = Engine(self.store, clock=self.clock, history=False)
            self.engine.deploy(("model.bpmn", prepared.xml))
            self.run.executor = "engine-full"
        else:
            self.engine = LeanEngine(self.store, self.clock)
            self.engine.deploy(("model.bpmn", prepared.xml))
        #: the engine keeps a failure to check after each command (the lean mode)
        self.lean = isinstance(self.engine, LeanEngine)
        self.loop = EventLoop()
        self.calendars = scenario_calendars(scenario)
        self.pools: dict[str, _Pool] = {}
        self.duties: dict[int, _Duty] = {}
        self.elements: dict[str, tuple[ActivitySpec | None, str, float | None]] = {}
        self.default_samplers: dict[str, Sampler] = {}
        self.pool_cache: dict[str | tuple[str, tuple[str, ...]], list[_Pool]] = {}
        self.by_role: dict[str, _Pool] = {}
        self._build_pools()
        self.samplers: dict[tuple[str, str], Sampler] = {}
        self.choosers = {
            gw: (var, _Chooser(flows, probs, stream(seed, replication, f"gateway:{gw}")))
            for gw, (var, flows, probs) in prepared.gateway_vars.items()
        }
        # In a simple model, a command can only reach the gateways downstream of the element
        # it continues from (up to the next task): draw only those (the same on both paths).
        self.route_after: dict[str, list[tuple[str, _Chooser]]] | None = None
        simple = graph if graph is not None or not self.choosers else fast_graph(prepared)
        if self.choosers and simple is not None:
            self.route_after = {
                node: [self.choosers[gw] for gw in gws]
                for node, gws in route_sets(simple, list(self.choosers)).items()
            }
        self.start_id = simple.start if simple is not None else None
        self.priorities: dict[str, Any] = {}
        for act_id, spec in scenario.activities.items():
            if isinstance(spec.priority, str):
                from liucheng.feel import compile_expression

                self.priorities[act_id] = compile_expression(spec.priority)
        self.work: dict[str, _Work] = {}
        self.case_of: dict[str, str] = {}  # root instance id -> case id
        #: (case, element) of the command running (for the error that stops a replication)
        self.doing: tuple[str, str] = ("?", "?")
        self.seq = 0
        self.cases = 0
        self.open_cases = 0

    # ------------------------------------------------------------------ engine plumbing

    def _at(self) -> None:
        now = self.loop.now
        if now != self.clock_at:  # several commands often run at one instant
            self.clock_at = now
            self.clock.set(self.t0 + dt.timedelta(seconds=now))

    def _route(self, element_id: str | None = None) -> dict[str, Any]:
        if not self.choosers:
            return {}
        if self.route_after is not None and element_id is not None:
            choosers = self.route_after.get(element_id)
            if not choosers:
                return {}
            return {var: choose() for var, choose in choosers}
        return {var: choose() for var, choose in self.choosers.values()}

    def _command(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        """Run one engine command for the case and element in ``self.doing``."""
        if not self.compiled:
            self._at()
        self.run.commands += 1
        try:
            fn(*args, **kwargs)
        except LiuchengError as exc:
            raise self._failed(exc) from exc
        finally:
            self._sync()
        if self.failure():
            raise self._failed(self.engine.failure) from self.engine.failure

    def _failed(self, exc: LiuchengError) -> SimulationEngineError:
        """The error that stops the replication: which case, which element, when, and why."""
        case, element = self.doing
        cause = exc.__cause__ if isinstance(exc.__cause__, LiuchengError) else exc
        element = cause.element_id or element
        return SimulationEngineError(
            f"replication {self.rep}, case {case}, virtual time {self.loop.now:.0f} s: "
            f"the engine failed: [{cause.code}] {cause.message}",
            element_id=element,
            hint=cause.hint or "the model fails at run time; run it on the engine to see where",
            details={
                "replication": self.rep,
                "case": case,
                "element": element,
                "time": self.loop.now,
                "cause": cause.code,
            },
        )

    def _case(self, instance_id: str | None) -> str:
        """The case an engine instance (or one of its called instances) belongs to."""
        if instance_id is None:
            return "?"
        case = self.case_of.get(instance_id)
        if case is None:
            rec = self.store.instances.get(instance_id)
            case = self.case_of.get(rec.root_id) if rec is not None else None
        return case or instance_id

    def failure(self) -> bool:
        """Whether the lean engine's live state is broken by a failed command."""
        return self.lean and self.engine.failure is not None

    def _sync(self) -> None:
        st = self.store
        new = st.new
        if self.compiled and not st.gone and not new["job"] and not new["subscription"]:
            # most commands of the compiled runner only open tasks and end instances
            rows = new["task"]
            if rows:
                new["task"] = []
                for row in rows:
                    self._open("task", row)
            ended = st.ended
            if ended:  # _ended, inline
                st.ended = []
                case_of = self.case_of
                ends = self.run.ends
                for iid in ended:
                    case = case_of.pop(iid, None)
                    if case is not None:
                        ends[case] = self.loop.now
                        self.open_cases -= 1
            return
        gone = st.gone
        if gone:
            # sorted: several tasks removed by one command free their members in a fixed
            # order (a set's order changes from process to process)
            ids = sorted(gone)
            gone.clear()
            work = self.work
            for rid in ids:
                w = work.pop(rid, None)
                if w is not None:
                    self._withdraw(w)
        if new["task"]:
            rows, new["task"] = new["task"], []
            for row in rows:
                if row.id not in self.work:
                    self._open("task", row)
        if new["external_task"]:
            rows, new["external_task"] = new["external_task"], []
            for row in rows:
                if row.id not in self.work:
                    self._open("ext", row)
        if new["job"]:
            rows, new["job"] = new["job"], []
            for job in rows:
                if job.instance_id is None:
                    continue  # timer start events: arrivals come from the scenario
                due = (job.due_at - self.t0).total_seconds()
                self.loop.schedule_at(max(due, self.loop.now), self._fire_job, job.id, job.due_at)
        if new["subscription"]:
            rows, new["subscription"] = new["subscription"], []
            events = self.sc.events
            for sub in rows:
                spec = events.get(sub.element_id)
                if spec is None or sub.instance_id is None:
                    continue
                delay = self._sampler(sub.element_id, "", spec.duration)()
                self.loop.schedule(delay, self._fire_subscription, sub)
        if st.ended:
            self._ended()

    def _ended(self) -> None:
        st = self.store
        if st.ended:
            ended, st.ended = st.ended, []
            for iid in ended:
                case = self.case_of.pop(iid, None)
                if case is not None:
                    self.run.ends[case] = self.loop.now
                    self.open_cases -= 1

    # ------------------------------------------------------------------ events

    def _arrive(self, case_no: int, times: Any, attrs: Any) -> None:
        case = str(case_no)
        values = next(attrs) if attrs is not None else {}  # a fresh dict per case
        run = self.run
        now = self.loop.now
        run.arrivals[case] = now
        run.attributes[case] = values
        self.cases += 1
        self.open_cases += 1
        variables = {**values, **self._route(self.start_id)} if self.choosers else {**values}
        if not self.compiled:
            self._at()
        run.commands += 1
        process_id = self.prepared.process_id
        self.doing = (case, self.start_id or process_id)
        try:
            iid = self.engine.start_process(process_id, variables, business_key=case)
            self.case_of[iid] = case
            # the instance may have ended inside the command: its end is in store.ended
        except LiuchengError as exc:
            raise self._failed(exc) from exc
        finally:
            self._sync()
        if self.lean and self.engine.failure is not None:  # self.failure(), inline
            raise self._failed(self.engine.failure) from self.engine.failure
        nxt = next(times, None)
        if nxt is not None:
            self.loop.schedule_at(
                nxt if nxt > now else now, self._arrive, case_no + 1, times, attrs
            )

    def _fire_job(self, job_id: str, due: dt.datetime) -> None:
        job = self.store.rows["job"].get(job_id)
        if job is None or job.due_at != due:
            return
        self.doing = (self._case(job.instance_id), getattr(job, "element_id", None) or "timer")
        if self.choosers and job.instance_id is not None:
            self._command(self.engine.set_variables, job.instance_id, self._route())
        self._command(self.engine.execute_job, job_id)

    def _fire_subscription(self, sub: Any) -> None:
        if sub.id not in self.store.rows["subscription"]:
            return  # nothing waits any more: the wait was interrupted meanwhile
        # this wait only (see _lean.deliver): a case may wait for one message twice
        self.doing = (self._case(sub.instance_id), sub.element_id)
        self._command(self._deliver, sub.id, self._route())

    # ------------------------------------------------------------------ run

    def execute(self) -> ReplicationRun:
        sc = self.sc
        times = arrival_times(
            sc.arrivals,
            start=sc.start,
            rng=stream(self.seed, self.rep, "arrivals"),
            horizon=sc.horizon,
            calendars=self.calendars,
            base_dir=self.base_dir,
        )
        # without case attributes the sampler draws nothing: no generator to resume per case
        attrs = (
            case_attribute_sampler(sc.case_attributes, stream(self.seed, self.rep, "attributes"))
            if sc.case_attributes
            else None
        )
        first = next(times, None)
        if first is not None:
            self.loop.schedule_at(first, self._arrive, 1, times, attrs)
        run = self.run
        limit, reason = self._limit()
        done = self.loop.run(until=limit, max_events=sc.max_events)
        if self.loop.peek() < math.inf:
            run.truncated = "max_events" if done >= sc.max_events else reason
            if sc.on_limit == "error":
                raise SimulationLimitError(
                    f"replication {self.rep} stopped at {run.truncated} "
                    f"(virtual time {self.loop.now:.0f} s, {done} events) with events still due",
                    hint="a cycle timer or a message loop may never end: raise 'max_events' / "
                    "'max_virtual_time', set a 'horizon', or use on_limit: truncate",
                    details={"limit": run.truncated, "events": done, "time": self.loop.now},
                )
        run.events = self.loop.events_processed
        run.unfinished = self.open_cases
        end = sc.horizon if sc.horizon is not None else self.loop.now
        if sc.horizon is None and run.ends:
            end = max(run.ends.values())
        run.window = (sc.warm_up, max(end, sc.warm_up))
        measure_resources(self.run, list(self.pools.values()))
        return run

    def _limit(self) -> tuple[float, str]:
        """The virtual time a replication may not pass, and the name of that limit."""
        sc = self.sc
        cap = sc.max_virtual_time
        if sc.horizon is not None and (cap is None or sc.horizon * DRAIN_FACTOR < cap):
            return sc.horizon * DRAIN_FACTOR, "drain"
        return (cap if cap is not None else DEFAULT_MAX_VIRTUAL_TIME), "max_virtual_time"


def run_replication(
    prepared: PreparedModel,
    scenario: Scenario,
    replication: int = 0,
    *,
    seed: int | None = None,
    base_dir: Path | None = None,
    executor: str = "auto",
    org: OrgPools | None = None,
) -> ReplicationRun:
    """Simulate one replication of ``scenario`` on the prepared model.

    ``executor``: ``"engine"`` drives the real engine; ``"compiled"`` the compiled runner of
    :mod:`._fast` (simple models only); ``"auto"`` the compiled runner when the model fits.
    """
    if executor not in EXECUTORS:
        raise ScenarioError(
            f"unknown executor {executor!r}", path="executor", hint=", ".join(EXECUTORS)
        )
    rep = _Replication(
        prepared, scenario, replication, seed=seed, base_dir=base_dir, executor=executor, org=org
    )
    # A replication leaves no reference cycles behind per case (what it makes per case is
    # freed by reference counting or kept in the run's records), so the cyclic collector would
    # only re-scan the growing record lists: it is paused for the replication (a fifth of the
    # time at 100,000 cases). Whatever cycles there are go with the next collection.
    pause = gc.isenabled()
    if pause:
        gc.disable()
    try:
        return rep.execute()
    finally:
        if pause:
            gc.enable()


def prepare(model: bytes | str | Path, scenario: Scenario) -> PreparedModel:
    """Read (if a path) and adapt a BPMN model for ``scenario``."""
    if isinstance(model, bytes):
        return prepare_model(model, scenario)
    path = Path(model)
    try:
        data = path.read_bytes()
    except OSError as exc:
        from liucheng.errors import ModelError

        raise ModelError(
            f"cannot read '{path}': {exc.strerror}", code="simulation.model.unreadable"
        ) from None
    return prepare_model(data, scenario, name=path.name)
