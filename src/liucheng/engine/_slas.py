"""SLA clocks and escalation in the engine: clocks per task or process instance, driven by the
lifecycle (task created/claimed/completed, waits for a message, explicit pause/resume), with
warnings, breaches and escalation steps fired by jobs (kind ``"sla"``)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass
from typing import Any

from liucheng.errors import EngineError, NotFoundError, ValidationError

from ._base import EngineBase
from ._exec import Executor
from ._sla_defs import (
    MANUAL_PAUSE,
    MANUAL_RESUME,
    SlaRegistration,
    check_sla_files,
    is_sla_file,
)
from ._state import InstanceState
from .ports import JobRecord, SlaClockRecord, TaskRecord

__all__ = ["SlaClockView", "SlaMixin", "SlaRegistration", "check_sla_files", "is_sla_file"]

_WAIT_KINDS = frozenset({"receive"})
#: Flag in an instance's root data: SLA clocks were started in it (other engines follow them).
_FLAG = "sla"
_MANUAL_PAUSE = MANUAL_PAUSE
_MANUAL_RESUME = MANUAL_RESUME
_TASK_EVENTS = {
    "task_create": "task.created",
    "task_claim": "task.claimed",
    "task_complete": "task.completed",
    "task_cancel": "task.cancelled",
    "task_delegate": "task.delegated",
    "task_resolve": "task.resolved",
}


@dataclass(frozen=True)
class SlaClockView:
    """A clock's identity and its state now.

    Attributes:
        id: Clock id.
        name: SLA name.
        scope: ``task`` or ``process``.
        instance_id: Process instance.
        task_id: The task (task clocks).
        state: The ``liucheng.org.SlaState`` (status, elapsed, remaining, due, warnings...).
    """

    id: str
    name: str
    scope: str
    instance_id: str
    task_id: str | None
    state: Any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "instance_id": self.instance_id,
            "task_id": self.task_id,
            **self.state.to_dict(),
        }


def _occ(name: str, at: _dt.datetime) -> list[str]:
    return [name, at.isoformat()]


class SlaMixin(EngineBase):
    """SLA clocks and escalation (part of :class:`Engine`)."""

    def add_sla(
        self,
        definition: Any,
        *,
        process: str,
        task: str | None = None,
        escalation: Any = None,
    ) -> SlaRegistration:
        """Keep a clock of ``definition`` for every instance of ``process`` (or every task
        ``task`` of it, by element id or name) started from now on.

        Args:
            definition: A ``liucheng.org.SlaDefinition``; its ``scope`` must fit ``task``.
            process: Process key.
            task: User task element id or name, for task clocks.
            escalation: A ``liucheng.org.EscalationPolicy`` (its ``sla`` is replaced by
                ``definition``), or a sequence of ``EscalationLevel``.
        """
        from liucheng.org import EscalationPolicy

        if (task is None) != (definition.scope == "process"):
            raise ValidationError(
                f"SLA '{definition.name}' has scope '{definition.scope}' but "
                + ("no task" if task is None else f"task '{task}'"),
                code="engine.sla.scope",
                hint="task clocks name a task (scope='task'); process clocks do not",
            )
        if escalation is not None and not isinstance(escalation, EscalationPolicy):
            escalation = EscalationPolicy(definition.name, definition, tuple(escalation))
        reg = SlaRegistration(definition, process, task, escalation)
        self.slas.append(reg)
        return reg

    # ------------------------------------------------------------------ declared SLAs

    _sla_declared: dict[str, list[tuple[dict[str, Any], Any]]] | None = None
    _sla_parsed: dict[str, SlaRegistration] | None = None

    def _declared(self, run: Executor, st: InstanceState) -> list[tuple[dict[str, Any], Any]]:
        """The SLA mappings deployed with an instance's definition version: ``liucheng:sla`` of
        the process and its user tasks, and the deployment's SLA files (with the file, whose
        calendars come first). Read once per definition version (it never changes)."""
        cache = self._sla_declared
        if cache is None:
            cache = self._sla_declared = {}
        got = cache.get(st.definition_id)
        if got is not None:
            return got
        graph = st.graph
        out: list[tuple[dict[str, Any], Any]] = [(spec, None) for spec in graph.slas]
        for node in graph.nodes.values():
            for spec in node.work.get("slas", ()) if node.work else ():
                out.append((spec, None))
        rec = run.tx.get_definition(st.definition_id)
        dep = run.tx.get_deployment(rec.deployment_id) if rec is not None else None
        if dep is not None and any(is_sla_file(n) for n in dep.resources):
            from liucheng.org import load_sla_file

            for rname, data in dep.resources.items():
                if not is_sla_file(rname):
                    continue
                parsed = load_sla_file(data, file=rname)
                out.extend(
                    (dict(e), parsed) for e in parsed.slas if str(e.get("process")) == graph.key
                )
        cache[st.definition_id] = out
        return out

    def _registrations(self, run: Executor, st: InstanceState) -> list[SlaRegistration]:
        """The SLAs that start clocks in ``st``: the ones deployed with its definition version,
        overridden (same name and task) by ``add_sla`` registrations of this engine."""
        from liucheng.org import sla_from_dict

        key = st.graph.key
        own = [r for r in self.slas if r.process == key]
        out: dict[tuple[str, str | None], SlaRegistration] = {}
        for spec, sla_file in self._declared(run, st):
            engine_calendar = self.calendar  # type: ignore[attr-defined]
            resolve = sla_file.resolve(engine_calendar) if sla_file is not None else engine_calendar
            parsed = sla_from_dict(spec, calendars=resolve, where=key)
            reg = SlaRegistration.from_spec(
                parsed, key, sla_file.file if sla_file is not None else "bpmn"
            )
            out[reg.definition.name, reg.task] = reg
        for reg in own:
            out[reg.definition.name, reg.task] = reg
        return list(out.values())

    def _may_have_slas(self, run: Executor, st: InstanceState) -> bool:
        if self.slas or self._declared(run, st):
            return True
        for one in (st, run.insts.get(st.root_id)):
            if one is not None and one.root.data and _FLAG in one.root.data:
                return True
        return False

    # ------------------------------------------------------------------ lifecycle hook

    def _after_drain(self, run: Executor) -> None:
        super()._after_drain(run)
        if not any(self._may_have_slas(run, st) for st in list(run.insts.values())):
            return
        touched: dict[str, SlaClockRecord] = {}
        regs: dict[str, list[SlaRegistration]] = {}
        for ev in list(run.cs.history):
            if ev.instance_id is None:
                continue
            st = run.insts.get(ev.instance_id)
            if st is None:
                continue
            kind = ev.kind
            mine: list[SlaRegistration] = []
            if kind in ("process_start", "task_create"):
                got = regs.get(st.id)
                if got is None:
                    got = regs[st.id] = (
                        self._registrations(run, st) if self._may_have_slas(run, st) else []
                    )
                if not got:
                    continue
                mine = got
            if kind == "process_start":
                for reg in mine:
                    if reg.task is None:
                        self._new_clock(run, st, reg, None, touched, "process.started")
                continue
            if kind == "task_create":
                tid = (ev.data or {}).get("task_id")
                row = run.cs.upserts.get("task", {}).get(tid or "")
                for reg in mine:
                    if (
                        row is not None
                        and row.delegation != "escalation"
                        and reg.task is not None
                        and reg.task in (row.element_id, row.name)
                    ):
                        self._new_clock(run, st, reg, row, touched, "task.created")
                continue
            name = _TASK_EVENTS.get(kind)
            if kind == "task_assign" and (ev.data or {}).get("assignee"):
                name = "task.assigned"
            if name is not None:
                tid = (ev.data or {}).get("task_id")
                for c in self._clocks_of(run, st.root_id, touched):
                    if c.task_id == tid:
                        c.occurrences.append(_occ(name, run.now))
                continue
            if kind in ("activity_start", "activity_end") and ev.element_id is not None:
                node = st.graph.nodes.get(ev.element_id)
                waits = node is not None and (
                    node.kind in _WAIT_KINDS or (node.kind == "icatch" and node.ev == "message")
                )
                if not waits:
                    continue
                for c in self._clocks_of(run, st.root_id, touched):
                    n = int(c.data.get("waits", 0)) + (1 if kind == "activity_start" else -1)
                    c.data["waits"] = max(n, 0)
                    if kind == "activity_start" and n == 1:
                        c.occurrences.append(_occ("wait.started", run.now))
                    elif kind == "activity_end" and n <= 0:
                        c.occurrences.append(_occ("wait.ended", run.now))
                continue
            if kind == "process_end":
                for c in self._clocks_of(run, st.root_id, touched):
                    if c.instance_id == st.id:
                        c.occurrences.append(_occ("process.ended", run.now))
                # escalation to-dos end with their process
                for t in run.tx.find_rows("task", {"instance_id": st.id}):
                    if t.delegation == "escalation":
                        run.cs.delete("task", t.id)
        for c in touched.values():
            self._settle_clock(run, c)

    def _registration(self, clock: SlaClockRecord) -> SlaRegistration | None:
        """The definition a clock runs on: the one it was started with (kept in the clock row,
        so any engine on the store can continue it), else (clocks stored before definitions
        were kept) an ``add_sla`` registration of this engine."""
        snap = clock.data.get("sla")
        if isinstance(snap, dict):
            import json

            from liucheng.org import sla_from_dict

            cache = self._sla_parsed
            if cache is None or len(cache) > 256:
                cache = self._sla_parsed = {}
            text = json.dumps(snap, sort_keys=True, default=str)
            reg = cache.get(text)
            if reg is None:
                spec = sla_from_dict(snap, where=f"SLA clock {clock.id}")
                reg = cache[text] = SlaRegistration.from_spec(
                    spec, str(snap.get("process") or clock.data.get("process")), "clock"
                )
            return reg
        key = clock.data.get("process")
        for one in self.slas:
            if (
                one.definition.name == clock.name
                and one.process == key
                and (one.task is None) == (clock.scope == "process")
            ):
                found: SlaRegistration = one
                return found
        return None

    def _clocks_of(
        self, run: Executor, root_id: str, touched: dict[str, SlaClockRecord]
    ) -> list[SlaClockRecord]:
        rows = {r.id: r for r in run.tx.find_rows("sla_clock", {"root_id": root_id})}
        rows.update(
            {k: v for k, v in run.cs.upserts.get("sla_clock", {}).items() if v.root_id == root_id}
        )
        for gone in run.cs.deletes.get("sla_clock", ()):
            rows.pop(gone, None)
        out = []
        for cid, r in rows.items():
            if cid not in touched:
                touched[cid] = dataclasses.replace(
                    r, occurrences=list(r.occurrences), data=dict(r.data)
                )
            out.append(touched[cid])
        return out

    def _new_clock(  # noqa: PLR0917 - private helper
        self,
        run: Executor,
        st: InstanceState,
        reg: SlaRegistration,
        task: TaskRecord | None,
        touched: dict[str, SlaClockRecord],
        first: str,
    ) -> None:
        cid = run.new_id(st)
        st.dirty = True
        touched[cid] = SlaClockRecord(
            cid,
            reg.definition.name,
            "task" if task is not None else "process",
            st.id,
            st.root_id,
            st.definition_id,
            task.element_id if task is not None else None,
            task.id if task is not None else None,
            [_occ(first, run.now)],
            None,
            "pending",
            None,
            run.now,
            st.seq,
            {
                "process": reg.process,
                "ei": task.element_instance_id if task else None,
                "sla": reg.to_dict(),
            },
        )
        st.root.d()[_FLAG] = 1
        if task is not None and task.assignee is not None:
            touched[cid].occurrences.append(_occ("task.assigned", run.now))

    def _events(self, reg: SlaRegistration, clock: SlaClockRecord) -> list[Any]:
        from liucheng.org import clock_events

        occ = [(n, _dt.datetime.fromisoformat(at)) for n, at in clock.occurrences]
        return clock_events(reg.effective(), occ)

    def _settle_clock(self, run: Executor, clock: SlaClockRecord) -> None:
        """Store a clock's new state, record its end, and plan the job for its next step."""
        from liucheng.org import escalation_schedule, sla_state

        reg = self._registration(clock)
        if reg is None:
            return
        events = self._events(reg, clock)
        state = sla_state(reg.effective(), events, run.now)
        job_id = f"{clock.id}-sla"
        st = run.load(clock.instance_id) if clock.instance_id in run.insts else None
        if state.stopped_at is not None:
            run.cs.delete("sla_clock", clock.id)
            run.cs.delete("job", job_id)
            if st is not None:
                run.hist("sla_stop", st, None, None, self._record(clock, state))
            return
        clock.status = state.status.value
        clock.due_at = state.due
        run.cs.upsert("sla_clock", clock)
        wake: list[_dt.datetime] = [
            s.at
            for s in escalation_schedule(reg.policy(), events, run.now)
            if clock.fired_until is None or s.at > clock.fired_until
        ]
        if state.due is not None and state.running and not clock.data.get("breached"):
            wake.append(state.due + _dt.timedelta(microseconds=1))
        if not wake:
            run.cs.delete("job", job_id)
            return
        run.cs.upsert(
            "job",
            JobRecord(
                job_id,
                clock.instance_id,
                clock.root_id,
                clock.definition_id,
                clock.element_id or "",
                clock.data.get("ei"),
                "sla",
                min(wake),
                created_at=run.now,
                data={"clock": clock.id},
            ),
        )

    @staticmethod
    def _record(clock: SlaClockRecord, state: Any) -> dict[str, Any]:
        return {
            "clock_id": clock.id,
            "scope": clock.scope,
            "task_id": clock.task_id,
            **state.to_dict(),
        }

    # ------------------------------------------------------------------ the job

    def _run_sla_job(self, run: Executor, job: JobRecord) -> bool:
        """Fire the warnings, breach record and escalation steps of a clock that are due."""
        from liucheng.org import escalate, escalation_schedule, sla_state, steps_due

        row = run.tx.get_row("sla_clock", str(job.data.get("clock")))
        if row is None:
            return False
        clock = dataclasses.replace(row, occurrences=list(row.occurrences), data=dict(row.data))
        reg = self._registration(clock)
        if reg is None:
            # fail the job (retries, then an incident) rather than lose the clock's next step
            raise EngineError(
                f"SLA '{clock.name}' of process '{clock.data.get('process')}' is not registered "
                "in this engine",
                code="engine.sla.unregistered",
                hint="this clock was stored without its definition: call engine.add_sla(...) "
                "in every engine (and worker) that runs jobs, or deploy the SLA with the model",
            )
        st = run.load(clock.instance_id)
        st.dirty = True
        events = self._events(reg, clock)
        policy = reg.policy()
        state = sla_state(reg.effective(), events, run.now)
        task = run.tx.get_row("task", clock.task_id) if clock.task_id else None
        node = st.graph.nodes.get(clock.element_id) if clock.element_id else None
        if state.breached_at is not None and not clock.data.get("breached"):
            clock.data["breached"] = True
            run.hist("sla_breach", st, node, None, self._record(clock, state))
        steps = escalation_schedule(policy, events, run.now)
        for step in steps_due(steps, clock.fired_until, run.now):
            holder = task.assignee if task is not None else self._owner(st.graph.key)
            record = (
                escalate(
                    self.organisation,
                    policy,
                    step,
                    task_id=clock.task_id or st.id,
                    assignee=holder,
                    at=run.now,
                )
                if self.organisation is not None or step.kind == "warning"
                else None
            )
            data = (
                record.to_dict()
                if record is not None
                else {
                    "task_id": clock.task_id,
                    "level": step.level,
                    "action": step.action,
                    "reason": "no organisation to escalate in",
                }
            )
            data.update({"clock_id": clock.id, "sla": clock.name, "kind": step.kind})
            run.hist(
                "sla_warning" if step.kind == "warning" else "escalation", st, node, None, data
            )
            if record is None or step.kind == "warning" or record.to_person is None:
                continue
            if record.action == "reassign" and task is not None:
                task = dataclasses.replace(
                    task, assignee=record.to_person, claimed_at=run.now, updated_at=run.now
                )
                run.cs.upsert("task", task)
                run.hist(
                    "task_assign",
                    st,
                    node,
                    None,
                    {"task_id": task.id, "assignee": record.to_person, "reason": record.reason},
                )
            elif record.action == "add_task":
                self._escalation_task(run, st, clock, task, record)
        clock.fired_until = run.now
        self._settle_clock(run, clock)
        return True

    def _owner(self, process_key: str) -> str | None:
        org = self.organisation
        if org is None or process_key not in org.processes:
            return None
        owner: str | None = org.processes[process_key].owner
        return owner

    def _escalation_task(
        self,
        run: Executor,
        st: InstanceState,
        clock: SlaClockRecord,
        task: TaskRecord | None,
        record: Any,
    ) -> None:
        """A to-do for the superior; completing it does not move the process."""
        tid = run.new_id(st)
        about = task.name or task.element_id if task is not None else st.graph.key
        run.cs.upsert(
            "task",
            TaskRecord(
                tid,
                st.id,
                st.root_id,
                st.definition_id,
                clock.element_id or (task.element_id if task else ""),
                clock.data.get("ei") or str(st.root.id),
                f"Escalation: {about}",
                record.to_person,
                [],
                [],
                run.now,
                st.seq,
                priority=max(task.priority if task else 50, 50) + 25,
                delegation="escalation",
                process_key=st.graph.key,
                description=record.reason,
                claimed_at=run.now,
            ),
        )
        run.hist(
            "task_create",
            st,
            None,
            None,
            {"task_id": tid, "assignee": record.to_person, "escalation_of": clock.task_id},
        )

    # ------------------------------------------------------------------ commands and queries

    def _matching_clocks(
        self, run: Executor, instance_id: str | None, task_id: str | None, name: str | None
    ) -> list[SlaClockRecord]:
        filters: dict[str, Any] = {}
        if task_id is not None:
            filters["task_id"] = task_id
        elif instance_id is not None:
            filters["instance_id"] = instance_id
        rows = [r for r in run.tx.find_rows("sla_clock", filters) if name is None or r.name == name]
        if not rows:
            raise NotFoundError(
                "no running SLA clock matches",
                code="engine.sla.not_found",
                hint="check the instance id, task id and SLA name",
            )
        return rows

    def _manual(  # noqa: PLR0917 - private helper
        self,
        occurrence: str,
        instance_id: str | None,
        task_id: str | None,
        name: str | None,
        reason: str | None,
        actor: str | None,
    ) -> None:
        def cmd(run: Executor) -> None:
            for row in self._matching_clocks(run, instance_id, task_id, name):
                clock = dataclasses.replace(
                    row,
                    occurrences=[*row.occurrences, _occ(occurrence, run.now)],
                    data=dict(row.data),
                )
                st = run.load(clock.instance_id)
                st.dirty = True  # the clock row changes with the instance's revision check
                run.hist(
                    "sla_" + occurrence.split(".")[1],
                    st,
                    None,
                    None,
                    {"clock_id": clock.id, "sla": clock.name, "reason": reason},
                    actor=actor,
                )
                self._settle_clock(run, clock)

        self._command(cmd)

    def pause_sla(
        self,
        instance_id: str | None = None,
        *,
        task_id: str | None = None,
        name: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Pause the SLA clocks of an instance or task (e.g. waiting for the customer)."""
        self._manual(_MANUAL_PAUSE, instance_id, task_id, name, reason, actor)

    def resume_sla(
        self,
        instance_id: str | None = None,
        *,
        task_id: str | None = None,
        name: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Resume paused SLA clocks of an instance or task."""
        self._manual(_MANUAL_RESUME, instance_id, task_id, name, reason, actor)

    def sla_results(self, instance_id: str) -> list[dict[str, Any]]:
        """Final states of the finished SLA clocks of an instance (from history ``sla_stop``):
        ``status`` met or breached, ``elapsed``, ``overdue``... plus ``clock_id``, ``scope``,
        ``task_id``."""
        events = self.history(instance_id=instance_id, kind="sla_stop")  # type: ignore[attr-defined]
        return [dict(e.data or {}) for e in events]

    def sla_clocks(
        self,
        *,
        instance_id: str | None = None,
        task_id: str | None = None,
        at: _dt.datetime | None = None,
    ) -> list[SlaClockView]:
        """Running SLA clocks (of an instance or task) with their state now (or at ``at``).

        Finished clocks are in history (``sla_stop`` events carry their final state).
        """
        from liucheng.org import sla_state

        filters: dict[str, Any] = {}
        if instance_id is not None:
            filters["root_id"] = instance_id
        if task_id is not None:
            filters["task_id"] = task_id
        rows: list[SlaClockRecord] = self._read(  # type: ignore[attr-defined]
            lambda tx: tx.find_rows("sla_clock", filters, order_by=("created_at", "seq"))
        )
        when = at or self.clock.now()
        out = []
        for r in rows:
            reg = self._registration(r)
            if reg is None:
                continue
            state = sla_state(reg.effective(), self._events(reg, r), when)
            out.append(SlaClockView(r.id, r.name, r.scope, r.instance_id, r.task_id, state))
        return out
