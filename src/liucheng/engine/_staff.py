"""Who gets a user task: lanes → roles, assignment strategies, re-balancing (organisation side).

The organisation (``liucheng.org``) decides; the engine persists what the decisions need: the
round-robin cursors (``assignment_cursor`` rows), open work (counted from the task index) and
every decision (history event ``assignment`` with the decision record).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from typing import Any

from liucheng.errors import EngineError, LiuchengError, NotFoundError

from ._base import EngineBase
from ._exec import Executor
from ._state import EI, InstanceState
from .ports import AssignmentCursorRecord, JobRecord, TaskRecord

__all__ = ["StaffMixin"]

_REBALANCE_JOB = "org-rebalance"


class StaffMixin(EngineBase):
    """Organisation, calendars and assignment (part of :class:`Engine`)."""

    _org_fns: tuple[Any, dict[str, Any]] | None = None

    # ------------------------------------------------------------------ organisation

    def set_organisation(self, organisation: Any, *, rebalance: bool = False) -> list[Any]:
        """Swap the organisation (a new ``liucheng.org.Organisation`` version) for new work.

        Open tasks keep their assignees unless ``rebalance``: then the open work of everyone
        absent now moves (see :meth:`rebalance`; its decisions are returned), and a job is
        planned for the next absence that begins later: kind ``rebalance``, id
        ``org-rebalance``; when it runs it moves the work of everyone absent then and plans the
        job for the absence after that.
        """
        self.organisation = organisation
        if not rebalance or organisation is None:
            return []
        moved = self.rebalance()
        self._command(self._plan_rebalance)
        return moved

    def _next_absence_start(self, after: _dt.datetime) -> _dt.datetime | None:
        """The earliest instant after ``after`` at which someone's absence begins."""
        org = self.organisation
        if org is None:
            return None
        starts = [
            begin
            for pid, person in org.people.items()
            for begin, _ in (a.bounds(org.zone_of(pid)) for a in person.absences)
            if begin > after
        ]
        return min(starts, default=None)

    def _plan_rebalance(self, run: Executor) -> _dt.datetime | None:
        """Plan (or drop) the job for the next absence start; returns when it is due."""
        due = self._next_absence_start(run.now)
        if due is None:
            run.cs.delete("job", _REBALANCE_JOB)
            return None
        run.cs.upsert(
            "job",
            JobRecord(
                _REBALANCE_JOB, None, None, "", "", None, "rebalance", due, created_at=run.now
            ),
        )
        return due

    def _run_rebalance_job(self, run: Executor, job: JobRecord) -> bool:
        if self.organisation is None:
            return False
        self._rebalance_in(run, None, None)
        self._plan_rebalance(run)
        return True

    def set_authorization(self, policy: Any) -> None:
        """Set the ``liucheng.org.AuthorizationPolicy`` that :meth:`as_user` views enforce."""
        self.authorization = policy

    def org_feel_functions(self) -> dict[str, Any]:
        """The FEEL org functions (``superior(p)``, ``members(role)``, ...) of the organisation."""
        org = self.organisation
        if org is None:
            return {}
        cached = self._org_fns
        if cached is not None and cached[0] is org:
            return cached[1]
        from liucheng.org import org_functions

        fns = dict(org_functions(org))
        self._org_fns = (org, fns)
        return fns

    def calendar(self, name: str) -> Any:
        """A business calendar by name: the engine's own, else the organisation's.

        Raises:
            NotFoundError: No such calendar.
        """
        cal = self.calendars.get(name)
        if cal is not None:
            return cal
        if self.organisation is not None and name in self.organisation.calendars:
            return self.organisation.calendars[name]
        raise NotFoundError(
            f"unknown business calendar '{name}'",
            code="engine.calendar.not_found",
            hint="pass calendars={name: calendar} to the Engine or define it in the organisation",
        )

    def business_due(self, calendar: str, start: _dt.datetime, duration: Any) -> _dt.datetime:
        """``start`` plus ``duration`` counted in the working time of ``calendar``.

        Raises:
            EngineError: Unknown calendar or a duration business time cannot count (years,
                months).
        """
        from liucheng.org import BusinessTimer

        cal = self.calendar(calendar)
        value = duration
        if not isinstance(value, _dt.timedelta):
            value = str(getattr(value, "isoformat", lambda: value)())
        try:
            return BusinessTimer(value, cal).due(start)
        except LiuchengError as exc:
            if isinstance(exc, EngineError):
                raise
            raise EngineError(
                f"cannot count {duration!r} on calendar '{calendar}': {exc.message}",
                code="engine.timer.business",
                hint="use a duration in weeks, days, hours, minutes or seconds",
            ) from exc

    def _business_adder(self, calendar: str | None) -> Any:
        """For timers that name a calendar: a function adding a duration to an instant in the
        calendar's working time (``None`` when ``calendar`` is ``None``). An unknown calendar
        is refused now, when the timer is planned."""
        if calendar is None:
            return None
        self.calendar(calendar)

        def add(start: _dt.datetime, duration: Any) -> _dt.datetime:
            return self.business_due(calendar, start, duration)

        return add

    # ------------------------------------------------------------------ assignment

    def role_of(self, process_key: str | None, task_name: str | None, lane: str | None) -> Any:
        """The organisation role responsible for a task (its lane's role, else the task entry)."""
        org = self.organisation
        if org is None or process_key is None:
            return None
        proc = org.processes.get(process_key)
        if proc is None:
            return None
        if lane is not None and lane in proc.lanes:
            return proc.lanes[lane]
        entry = proc.tasks.get(task_name or "")
        if entry is None:
            return None
        return proc.lanes.get(entry, entry if entry in org.roles else None)

    def _to_assign(self, rec: TaskRecord, variables: Mapping[str, Any], node: Any) -> Any:
        from liucheng.org import TaskToAssign

        skills: dict[str, int] = dict(node.work.get("skills") or {}) if node is not None else {}
        return TaskToAssign(
            rec.id,
            role=rec.role,
            candidate_groups=tuple(rec.candidate_groups),
            candidate_users=tuple(rec.candidate_users),
            required_skills=skills,
            effort=rec.effort,
            name=rec.name,
            process_id=rec.process_key,
            variables=dict(variables),
        )

    def _strategy(self, rec: TaskRecord, node: Any) -> Any:
        from liucheng.org import make_strategy, strategy_for

        own = node.work.get("strategy") if node is not None else None
        if own:
            return make_strategy(str(own))
        return strategy_for(
            self.organisation, rec.process_key or "", rec.name or rec.element_id, rec.lane
        )

    @staticmethod
    def _open_tasks(run: Executor, assignees: list[str] | None = None) -> dict[str, TaskRecord]:
        """Open tasks as this command sees them (stored rows plus its own pending writes)."""
        filters = {"assignee": assignees} if assignees is not None else None
        rows = {r.id: r for r in run.tx.find_rows("task", filters)}
        rows.update(run.cs.upserts.get("task", {}))
        for gone in run.cs.deletes.get("task", ()):
            rows.pop(gone, None)
        return rows

    def _workload(self, run: Executor, people: list[str]) -> dict[str, float]:
        """Open work per person as this command sees them: the sum of their open tasks' efforts
        (stored rows are read once per command and pool; the command's own writes are laid over
        them)."""
        cache: dict[Any, Any] = run.__dict__.setdefault("_staff_cache", {})
        key = ("load", frozenset(people))
        stored = cache.get(key)
        if stored is None:
            stored = cache[key] = {
                r.id: (r.assignee, r.effort) for r in run.tx.find_rows("task", {"assignee": people})
            }
        pending = run.cs.upserts.get("task", {})
        gone = run.cs.deletes.get("task", ())
        load: dict[str, float] = dict.fromkeys(people, 0.0)
        for tid, (who, effort) in stored.items():
            if who in load and tid not in pending and tid not in gone:
                load[who] += effort
        for r in pending.values():
            if r.assignee in load:
                load[r.assignee] += r.effort
        return load

    @staticmethod
    def _cursor_rows(run: Executor) -> dict[str, AssignmentCursorRecord]:
        """The stored cursors, read once per command (with their revisions)."""
        cache: dict[Any, Any] = run.__dict__.setdefault("_staff_cache", {})
        rows = cache.get("cursors")
        if rows is None:
            rows = cache["cursors"] = {r.id: r for r in run.tx.find_rows("assignment_cursor")}
        return rows

    def _cursors(self, run: Executor) -> Any:
        from liucheng.org import AssignmentState

        rows = {k: r.person for k, r in self._cursor_rows(run).items()}
        for key, r in run.cs.upserts.get("assignment_cursor", {}).items():
            rows[key] = r.person
        return AssignmentState(rows)

    def _save_cursors(self, run: Executor, before: Any, after: Any) -> None:
        """Write moved cursors at the revision read plus one: the store refuses the write when
        another command moved the cursor meanwhile, and this command retries with the new
        cursor (so two engines never hand out the same "next" person)."""
        stored = self._cursor_rows(run)
        for key, person in after.cursors.items():
            if before.cursors.get(key) != person:
                old = stored.get(key)
                revision = (old.revision if old is not None else 0) + 1
                run.cs.upsert(
                    "assignment_cursor", AssignmentCursorRecord(key, person, run.now, revision)
                )

    def staff_task(self, run: Executor, st: InstanceState, ei: EI, rec: TaskRecord) -> TaskRecord:
        """Fill in a new task's role and, unless the model names an assignee, let the strategy
        configured for it decide (the decision goes to history)."""
        org = self.organisation
        node = ei.node
        role = self.role_of(rec.process_key, rec.name or rec.element_id, rec.lane)
        if role is None and rec.name is not None:
            role = self.role_of(rec.process_key, rec.element_id, rec.lane)
        rec = dataclasses.replace(rec, role=role)
        if rec.assignee is not None or org is None:
            return rec
        if not (rec.role or rec.candidate_groups or rec.candidate_users):
            return rec
        task = self._to_assign(rec, run.context(ei), node)
        strategy = self._strategy(rec, node)
        candidates = _pool(org, task)
        state = self._cursors(run)
        decision = strategy.assign(
            org, task, at=run.now, workload=self._workload(run, candidates), state=state
        )
        self._save_cursors(run, state, decision.state)
        run.hist("assignment", st, node, ei, decision.to_dict())
        if decision.assignee is None:
            return rec
        run.hist(
            "task_assign",
            st,
            node,
            ei,
            {"task_id": rec.id, "assignee": decision.assignee, "reason": decision.reason},
        )
        return dataclasses.replace(rec, assignee=decision.assignee, claimed_at=run.now)

    def rebalance(self, person: str | None = None, *, actor: str | None = None) -> list[Any]:
        """Move open tasks of people absent now (or all of ``person``'s) to others.

        Each move uses the task's assignment strategy, is recorded in history (``assignment``
        with ``previous_assignee``) and returns its ``AssignmentDecision``; a task nobody can
        take goes back to its group queue. Being off shift does not move work.

        Raises:
            EngineError: No organisation is set.
        """
        if self.organisation is None:
            raise EngineError("re-balancing needs an organisation", code="engine.org.missing")

        return self._command(lambda run: self._rebalance_in(run, person, actor))

    def _rebalance_in(self, run: Executor, person: str | None, actor: str | None) -> list[Any]:
        from liucheng.org import rebalance

        org = self.organisation
        out: list[Any] = []
        rows = sorted(
            (r for r in self._open_tasks(run).values() if r.assignee is not None),
            key=lambda r: (r.created_at, r.id),
        )
        state = self._cursors(run)
        start_state = state
        for row in rows:
            assert row.assignee is not None
            if person is not None and row.assignee != person:
                continue
            if person is None and (
                row.assignee not in org.people or org.absence_at(row.assignee, run.now) is None
            ):
                continue
            st = run.load(row.instance_id)
            st.dirty = True  # the task row changes with the instance's revision check
            ei = run.find_ei(st, row.element_instance_id)
            task = self._to_assign(row, run.context(ei), ei.node)
            pool = [*_pool(org, task), row.assignee]
            decisions, state, _ = rebalance(
                org,
                self._strategy(row, ei.node),
                [(task, row.assignee)],
                at=run.now,
                workload=self._workload(run, pool),
                state=state,
                person=row.assignee,
            )
            for d in decisions:
                run.hist("assignment", st, ei.node, ei, d.to_dict(), actor=actor)
                new = dataclasses.replace(
                    row,
                    assignee=d.assignee,
                    claimed_at=run.now if d.assignee else None,
                    updated_at=run.now,
                )
                run.cs.upsert("task", new)
                run.hist(
                    "task_assign",
                    st,
                    ei.node,
                    ei,
                    {"task_id": row.id, "assignee": d.assignee, "reason": d.reason},
                    actor=actor,
                )
                out.append(d)
        self._save_cursors(run, start_state, state)
        return out


def _pool(org: Any, task: Any) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(task.candidate_users)
    if task.role:
        seen.update(dict.fromkeys(org.members(task.role)))
    for group in task.candidate_groups:
        seen.update(dict.fromkeys(org.group_members(group)))
    return list(seen)
