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
parallel gateways, timer boundary events, intermediate timer/message/signal waits) the
commands the simulator needs run on a compiled token runner with the same semantics instead
(:mod:`._fast`; ``executor="auto"``), which gives the same event log for the same seed at
about four times the speed.

The simulator records activity instances (queued, started, ended, resource) and case arrivals
and ends, from which :mod:`.kpis` computes KPIs and :func:`event_log` the event log.
"""

from __future__ import annotations

import datetime as dt
import gc
import heapq
import math
from pathlib import Path
from typing import Any

from liucheng.errors import LiuchengError

from ._errors import ScenarioError, SimulationEngineError, SimulationLimitError
from ._org_pools import OrgPools
from ._prepare import PreparedModel, prepare_model
from ._records import ActivityRecord, ReplicationRun, measure_resources, stream
from ._resources import _Chooser, _Duty, _Member, _Pool, _qualified, _skill_total, _Work
from ._sim_store import SimStore
from .arrivals import arrival_times, case_attribute_sampler, scenario_calendars
from .calendars import WeeklyCalendar, weekly_spans
from .distributions import Distribution, Sampler
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


class _Replication:
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

        from ._fast import FastRunner, compile_fast, route_sets
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
        graph = compile_fast(prepared) if executor in ("auto", "compiled") else None
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
        simple = graph if graph is not None or not self.choosers else compile_fast(prepared)
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

    # ------------------------------------------------------------------ set-up

    def _build_pools(self) -> None:
        sc = self.sc
        org = self.org or OrgPools()
        for pool_id, strategy in org.extra_pools.items():
            self.pools[pool_id] = self._org_pool(pool_id, strategy, org)
        for pool_id, spec in sc.resources.items():
            strategy = spec.strategy or org.strategies.get(pool_id, "first-free")
            if pool_id in org.members:
                self.pools[pool_id] = self._org_pool(pool_id, strategy, org)
                if spec.role:
                    self.by_role.setdefault(spec.role, self.pools[pool_id])
                continue
            pool = _Pool(pool_id, strategy)
            pool_cal = self.calendars.get(spec.calendar) if spec.calendar else None
            if spec.people is not None:
                for person in spec.people:
                    cal = pool_cal
                    if person.calendar is not None:
                        cal = self.calendars[person.calendar]
                    elif person.shifts:
                        cal = WeeklyCalendar(weekly_spans(person.shifts), sc.start)
                    cost = (
                        person.cost_per_hour
                        if person.cost_per_hour is not None
                        else spec.cost_per_hour
                    )
                    member = _Member(person.id, pool, cal, cost, self._duty(cal))
                    member.skills = org.skills.get(person.id, {})
                    member.capacity = org.capacities.get(person.id)
                    pool.members.append(member)
            else:
                for i in range(spec.count or 0):
                    pool.members.append(
                        _Member(
                            f"{pool_id}-{i + 1}",
                            pool,
                            pool_cal,
                            spec.cost_per_hour,
                            self._duty(pool_cal),
                        )
                    )
            self._seal(pool)
            self.pools[pool_id] = pool
            if spec.role:
                self.by_role.setdefault(spec.role, pool)
            self.run.queue_changes[pool_id] = [(0.0, 0)]

    def _org_pool(self, pool_id: str, strategy: str, org: OrgPools) -> _Pool:
        pool = _Pool(pool_id, strategy)
        for om in org.members[pool_id]:
            member = _Member(om.id, pool, om.calendar, om.cost_per_hour, self._duty(om.calendar))
            member.skills = om.skills
            member.capacity = om.capacity
            pool.members.append(member)
        self._seal(pool)
        self.run.queue_changes[pool_id] = [(0.0, 0)]
        return pool

    @staticmethod
    def _seal(pool: _Pool) -> None:
        """Count the free members; people with a capacity below one take no work at all."""
        for m in pool.members:
            if m.capacity is not None and m.capacity < 1:
                m.busy = True  # never released: they start nothing
            elif m.capacity is not None and m.capacity >= 2:
                pool.backlogs = True
        pool.free = sum(1 for m in pool.members if not m.busy)

    def _duty(self, calendar: WeeklyCalendar | None) -> _Duty | None:
        if calendar is None:
            return None
        duty = self.duties.get(id(calendar))
        if duty is None:
            duty = self.duties[id(calendar)] = _Duty(calendar)
        return duty

    def _sampler(self, act_id: str, key: str, dist: Distribution) -> Sampler:
        s = self.samplers.get((act_id, key))
        if s is None:
            s = Sampler(dist, stream(self.seed, self.rep, f"duration:{act_id}:{key}"), batch=256)
            self.samplers[(act_id, key)] = s
        return s

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
            if new["task"]:
                rows, new["task"] = new["task"], []
                for row in rows:
                    self._open("task", row)
            if st.ended:
                self._ended()
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
        values = next(attrs)  # a fresh dict per case
        self.run.arrivals[case] = self.loop.now
        self.run.attributes[case] = values
        self.cases += 1
        self.open_cases += 1
        variables = {**values, **self._route(self.start_id)}
        if not self.compiled:
            self._at()
        self.run.commands += 1
        self.doing = (case, self.start_id or self.prepared.process_id)
        try:
            iid = self.engine.start_process(self.prepared.process_id, variables, business_key=case)
            self.case_of[iid] = case
            # the instance may have ended inside the command: its end is in store.ended
        except LiuchengError as exc:
            raise self._failed(exc) from exc
        finally:
            self._sync()
        if self.failure():
            raise self._failed(self.engine.failure) from self.engine.failure
        nxt = next(times, None)
        if nxt is not None:
            self.loop.schedule_at(max(nxt, self.loop.now), self._arrive, case_no + 1, times, attrs)

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

    # ------------------------------------------------------------------ work

    def _pools_for(self, element_id: str, spec: ActivitySpec | None, row: Any) -> list[_Pool]:
        groups = getattr(row, "candidate_groups", None)
        key = (element_id, tuple(groups)) if groups else element_id
        found = self.pool_cache.get(key)
        if found is None:
            found = self.pool_cache[key] = self._find_pools(element_id, spec, row)
        return found

    def _find_pools(self, element_id: str, spec: ActivitySpec | None, row: Any) -> list[_Pool]:
        if spec is not None and spec.resources:
            return [self.pools[p] for p in spec.resources]
        names = list(getattr(row, "candidate_groups", None) or [])
        if self.org is not None:
            names += self.org.element_pools.get(element_id, [])
        names += self.prepared.lanes.get(element_id, [])
        out: list[_Pool] = []
        for n in names:
            pool = self.pools.get(n) or self.by_role.get(n)
            if pool is not None and pool not in out:
                out.append(pool)
        return out

    def _element(self, element_id: str) -> tuple[ActivitySpec | None, str, float | None]:
        """``(spec, name, fixed priority or None when it is a FEEL expression)``, cached."""
        info = self.elements.get(element_id)
        if info is None:
            spec = self.sc.activities.get(element_id)
            fixed: float | None = 0.0
            if spec is not None:
                fixed = None if isinstance(spec.priority, str) else float(spec.priority)
            info = (spec, self.prepared.names.get(element_id, element_id), fixed)
            self.elements[element_id] = info
        return info

    def _open(self, kind: str, row: Any) -> None:
        element_id = row.element_id
        spec, name, priority = self.elements.get(element_id) or self._element(element_id)
        case = self.case_of.get(row.root_id) or str(row.root_id)
        record = ActivityRecord(case, element_id, name, self.loop.now)
        self.run.activities.append(record)
        pools = self._pools_for(element_id, spec, row)
        if priority is None:
            value = self.priorities[element_id].evaluate(self.run.attributes.get(case, {}))
            priority = float(value) if isinstance(value, int | float) else 0.0
        w = _Work(kind, row.id, spec, pools, priority, record)
        self.work[row.id] = w
        if not pools:
            self._start(w, None)
            return
        now = self.loop.now
        for pool in pools:
            if pool.free or pool.backlogs:
                if pool.strategy != "first-free":
                    chosen = self._choose(pool, w, now)
                    if chosen is not None:
                        if chosen.busy:
                            self._hold(w, chosen)
                        else:
                            self._start(w, chosen)
                        return
                    continue
                if not pool.free:
                    continue
                for m in pool.members:
                    if not m.busy and m.open_now(now):
                        self._start(w, m)
                        return
        self.seq += 1
        for pool in pools:
            heapq.heappush(pool.queue, (-priority, self.seq, w))
            pool.waiting += 1
            self._queue_changed(pool)
            self._plan_wake(pool)

    def _choose(self, pool: _Pool, w: _Work, now: float) -> _Member | None:
        """A free, on-duty member of ``pool`` for ``w`` by the pool's strategy."""
        members = pool.members
        n = len(members)
        # round-robin order from the member after the pool's cursor
        order = [members[(pool.cursor + 1 + k) % n] for k in range(n)]
        free = [m for m in order if m.has_room() and m.open_now(now)]
        if pool.strategy == "skill-based":
            free = [m for m in free if _qualified(m, w)]
            free.sort(key=lambda m: (-_skill_total(m, w), m.worked))
        elif pool.strategy == "least-loaded":
            free.sort(key=lambda m: m.worked)
        if not free:
            return None
        pool.cursor = members.index(free[0])
        return free[0]

    def _hold(self, w: _Work, member: _Member) -> None:
        """Hand ``w`` to a busy member with room (capacity): it waits in their backlog."""
        w.done = True
        w.holder = member
        w.record.assigned = self.loop.now
        member.held += 1
        self.seq += 1
        heapq.heappush(member.backlog, (-w.priority, self.seq, w))
        self._backlog_changed(member.pool, 1)

    def _backlog_changed(self, pool: _Pool, delta: int) -> None:
        """Work in a member's backlog waits like queued work: it counts in the queue length."""
        pool.backlogged += delta
        self._queue_changed(pool)

    def _queue_changed(self, pool: _Pool) -> None:
        changes = self.run.queue_changes[pool.id]
        if changes[-1][0] == self.loop.now:
            changes[-1] = (self.loop.now, pool.waiting + pool.backlogged)
        else:
            changes.append((self.loop.now, pool.waiting + pool.backlogged))

    def _plan_wake(self, pool: _Pool) -> None:
        """Make sure the pool looks at its queue again when an idle member comes on duty."""
        if not pool.free:
            return  # every member is busy: the next one to finish looks at the queue
        now = self.loop.now
        t = math.inf
        for m in pool.members:
            if not m.busy and m.calendar is not None:
                t = min(t, m.calendar.next_open(now))
        if not math.isfinite(t) or t <= now:
            return
        wake = pool.wake
        if wake is not None and not wake.cancelled and now < wake.time <= t:
            return
        pool.wake = self.loop.schedule_at(t, self._wake, pool)

    def _wake(self, pool: _Pool) -> None:
        pool.wake = None
        now = self.loop.now
        members = pool.members
        if pool.strategy != "first-free" and members:
            # queued work goes out in the pool's order too
            n = len(members)
            members = [members[(pool.cursor + 1 + k) % n] for k in range(n)]
            if pool.strategy == "least-loaded":
                members.sort(key=lambda m: m.worked)
        for m in members:
            if not m.busy and m.open_now(now):
                self._next_for(m)
        if pool.waiting:
            self._plan_wake(pool)

    def _duration(self, w: _Work, member: _Member | None) -> float:
        spec = w.spec
        if spec is None:
            return 0.0
        eid = w.record.element_id
        if member is not None and spec.by_resource:
            dist = spec.by_resource.get(member.id) or spec.by_resource.get(member.pool.id)
            if dist is not None:
                return self._sampler(eid, member.id, dist)()
        if spec.duration is None:
            return 0.0
        sampler = self.default_samplers.get(eid)
        if sampler is None:
            sampler = self.default_samplers[eid] = self._sampler(eid, "", spec.duration)
        return sampler()

    def _start(self, w: _Work, member: _Member | None) -> None:
        now = self.loop.now
        w.done = True
        rec = w.record
        rec.started = now
        seconds = self._duration(w, member)
        end = now + seconds
        if member is not None:
            if w.holder is None:
                member.held += 1
                rec.assigned = now
            w.holder = None
            member.busy = True
            member.worked += seconds
            member.pool.free -= 1
            w.member = member
            rec.resource = member.id
            rec.pool = member.pool.id
            duty = member.duty
            # work that fits in the current open stretch needs no calendar walk
            if duty is not None and not (duty.open and duty.lo <= now and end < duty.hi):
                end = duty.calendar.add_working_time(now, seconds)
            rec.cost = seconds / 3600.0 * member.cost_per_hour
        rec.work = seconds
        if w.spec is not None:
            rec.cost += w.spec.cost
        if math.isfinite(end):
            w.event = self.loop.schedule_at(end, self._finish, w)

    def _unqueue(self, w: _Work) -> None:
        for pool in w.pools:
            pool.waiting -= 1
            self._queue_changed(pool)

    def _finish(self, w: _Work) -> None:
        w.event = None  # the event holds w: no reference cycle left for the collector
        rec = w.record
        rec.ended = self.loop.now
        self.work.pop(w.row_id, None)
        member = w.member
        route = self._route(rec.element_id)
        self.doing = (rec.case, rec.element_id)
        try:
            # The member stays busy during the command so work it opens queues behind
            # the work already waiting (first come, first served within a priority).
            if w.kind == "task":
                self._command(self.engine.complete_task, w.row_id, route, actor=rec.resource)
            else:
                self._command(self.engine.complete_external_task, w.row_id, None, route)
        finally:
            if member is not None:
                member.held -= 1
                member.busy = False
                member.pool.free += 1
                self._next_for(member)

    def _withdraw(self, w: _Work) -> None:
        """The engine removed the task (interrupting boundary event, cancellation)."""
        rec = w.record
        rec.aborted = True
        rec.ended = self.loop.now
        if not w.done:
            w.done = True
            self._unqueue(w)
            return
        holder = w.holder
        if holder is not None:  # still in a member's backlog: it leaves it
            w.holder = None
            holder.held -= 1
            self._backlog_changed(holder.pool, -1)
            return
        if w.event is not None:
            w.event.cancel()
            w.event = None
        member = w.member
        if member is not None and rec.started is not None:
            rec.work = (
                member.calendar.open_seconds(rec.started, rec.ended)
                if member.calendar is not None
                else rec.ended - rec.started
            )
            rec.cost = rec.work / 3600.0 * member.cost_per_hour + (w.spec.cost if w.spec else 0)
            member.held -= 1
            member.busy = False
            member.pool.free += 1
            self._next_for(member)

    def _next_for(self, member: _Member) -> None:
        pool = member.pool
        if not pool.waiting and not member.backlog:
            return
        if not member.open_now(self.loop.now):
            self._plan_wake(pool)
            return
        backlog = member.backlog
        while backlog:  # work handed to them comes first
            _, _, w = heapq.heappop(backlog)
            if w.holder is member:
                self._backlog_changed(pool, -1)
                self._start(w, member)
                return
        queue = pool.queue
        if pool.strategy == "skill-based":
            self._next_skilled(member, pool)
            return
        while queue:
            _, _, w = heapq.heappop(queue)
            if w.done:
                continue
            w.done = True
            self._unqueue(w)
            self._start(w, member)
            if pool.strategy != "first-free":
                pool.cursor = pool.members.index(member)
            return

    def _next_skilled(self, member: _Member, pool: _Pool) -> None:
        """The first queued work ``member`` has the skills for (others stay queued)."""
        queue = pool.queue
        skipped: list[tuple[float, int, _Work]] = []
        while queue:
            item = heapq.heappop(queue)
            w = item[2]
            if w.done:
                continue
            if not _qualified(member, w):
                skipped.append(item)
                continue
            w.done = True
            self._unqueue(w)
            self._start(w, member)
            pool.cursor = pool.members.index(member)
            break
        for item in skipped:
            heapq.heappush(queue, item)

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
        attrs = case_attribute_sampler(
            sc.case_attributes, stream(self.seed, self.rep, "attributes")
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
