"""The resource side of a BPMN simulation replication: pools, queues, work and calendars.

:class:`_WorkSim` is the base of :class:`~.bpmn_sim._Replication`: it builds the resource pools
of the scenario (and of an organisation), queues the work the engine opens (by priority, then
first come), hands it to free, on-duty members by the pool's strategy (first free, round robin,
least loaded, skill based, a member's backlog when their capacity leaves room), samples working
times and completes the work through the engine command of the replication (``_command``).
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from liucheng.errors import LiuchengError

from ._org_pools import OrgPools
from ._prepare import PreparedModel
from ._records import ActivityRecord, ReplicationRun, stream
from ._resources import _Duty, _Member, _Pool, _qualified, _skill_total, _Work
from .calendars import WeeklyCalendar, weekly_spans
from .distributions import Distribution, Sampler
from .events import EventLoop
from .scenario import ActivitySpec, Scenario

__all__: list[str] = []


class _WorkSim:
    """Pools, queues and work of one replication (the engine side is the subclass's)."""

    sc: Scenario
    prepared: PreparedModel
    org: OrgPools | None
    seed: int | None
    rep: int
    run: ReplicationRun
    loop: EventLoop
    engine: Any
    calendars: dict[str, WeeklyCalendar]
    pools: dict[str, _Pool]
    duties: dict[int, _Duty]
    elements: dict[str, tuple[ActivitySpec | None, str, float | None]]
    default_samplers: dict[str, Sampler]
    samplers: dict[tuple[str, str], Sampler]
    pool_cache: dict[str | tuple[str, tuple[str, ...]], list[_Pool]]
    by_role: dict[str, _Pool]
    priorities: dict[str, Any]
    work: dict[str, _Work]
    case_of: dict[str, str]
    doing: tuple[str, str]
    seq: int
    compiled: bool
    choosers: dict[str, Any]

    def _route(self, element_id: str | None = None) -> dict[str, Any]:
        """The routing draws for a command continuing from ``element_id`` (subclass)."""
        raise NotImplementedError

    def _command(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        """Run one engine command (subclass)."""
        raise NotImplementedError

    def _sync(self) -> None:
        """Turn what the last command wrote into queued work and events (subclass)."""
        raise NotImplementedError

    def _failed(self, exc: LiuchengError) -> Exception:
        """The error that stops the replication (subclass)."""
        raise NotImplementedError

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
        # Runs once per activity instance: locals instead of attribute chains, the pool
        # cache read inline (the same lookups as _pools_for).
        element_id = row.element_id
        info = self.elements.get(element_id)
        if info is None:
            info = self._element(element_id)
        spec, name, priority = info
        root_id = row.root_id
        case = self.case_of.get(root_id) or str(root_id)
        now = self.loop.now
        record = ActivityRecord(case, element_id, name, now)
        self.run.activities.append(record)
        groups = getattr(row, "candidate_groups", None)
        pools = self.pool_cache.get((element_id, tuple(groups)) if groups else element_id)
        if pools is None:
            pools = self._pools_for(element_id, spec, row)
        if priority is None:
            value = self.priorities[element_id].evaluate(self.run.attributes.get(case, {}))
            priority = float(value) if isinstance(value, int | float) else 0.0
        row_id = row.id
        w = _Work(kind, row_id, spec, pools, priority, record)
        self.work[row_id] = w
        if not pools:
            self._start(w, None)
            return
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
                    if not m.busy:
                        duty = m.duty  # m.open_now(now), inline
                        if duty is None or (
                            duty.open if duty.lo <= now < duty.hi else duty.is_open(now)
                        ):
                            self._start(w, m)
                            return
        self.seq += 1
        for pool in pools:
            heapq.heappush(pool.queue, (-priority, self.seq, w))
            pool.waiting += 1
            self._queue_changed(pool)
            if pool.free:  # else every member is busy: _plan_wake would do nothing
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
        changes = pool.changes
        if changes is None:  # the pool's list in run.queue_changes, looked up once
            changes = pool.changes = self.run.queue_changes[pool.id]
        now = self.loop.now
        if changes[-1][0] == now:
            changes[-1] = (now, pool.waiting + pool.backlogged)
        else:
            changes.append((now, pool.waiting + pool.backlogged))

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
        loop = self.loop
        now = loop.now
        w.done = True
        rec = w.record
        rec.started = now
        spec = w.spec
        if spec is not None and spec.duration is not None and not spec.by_resource:
            # the common case of _duration, inline: the activity's own sampler
            sampler = self.default_samplers.get(rec.element_id)
            seconds = sampler() if sampler is not None else self._duration(w, member)
        else:
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
        if spec is not None:
            rec.cost += spec.cost
        if math.isfinite(end):
            w.event = loop.schedule_at(end, self._finish, w)

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
        route = self._route(rec.element_id) if self.choosers else {}
        self.doing = (rec.case, rec.element_id)
        try:
            # The member stays busy during the command so work it opens queues behind
            # the work already waiting (first come, first served within a priority).
            if w.kind == "task":
                if self.compiled:
                    # _command inline: the compiled runner has no clock to set and no lean
                    # failure to check
                    self.run.commands += 1
                    try:
                        self.engine.complete_task(w.row_id, route, actor=rec.resource)
                    except LiuchengError as exc:
                        raise self._failed(exc) from exc
                    finally:
                        self._sync()
                else:
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
        duty = member.duty  # member.open_now(now), inline
        now = self.loop.now
        if not (duty is None or (duty.open if duty.lo <= now < duty.hi else duty.is_open(now))):
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
