"""Engine commands for workers: jobs (timers, async continuations), external tasks, incidents."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from liucheng.errors import (
    ConcurrencyError,
    EngineError,
    LiuchengError,
    NotFoundError,
)

from ._api import (
    LockedExternalTask,
)
from ._base import EngineBase
from ._exec import Executor
from ._retry import in_transaction
from ._run import new_id
from ._state import ACT, ASYNC_B, EI, FAILED, GONE, JOIN, InstanceState
from ._timers import RetryPolicy, add_duration, next_due
from .ports import (
    ExternalTaskRecord,
    IncidentRecord,
    JobRecord,
    Transaction,
)

__all__ = ["WorkMixin"]


class WorkMixin(EngineBase):
    """Jobs, external tasks and incidents (part of :class:`Engine`)."""

    def _run_sla_job(self, run: Executor, job: JobRecord) -> bool:
        """SLA steps (implemented by the SLA part of the engine)."""
        return False

    def _run_rebalance_job(self, run: Executor, job: JobRecord) -> bool:
        """Re-balancing when an absence begins (implemented by the staffing part)."""
        return False

    # ------------------------------------------------------------------ jobs

    def run_due_jobs(self, *, limit: int | None = None, max_rounds: int = 1000) -> int:
        """Execute every due job, repeatedly, until none is due; returns how many ran."""
        done = 0
        for _ in range(max_rounds):
            due = in_transaction(self.store, lambda tx: tx.due_jobs(self.clock.now(), limit=limit))
            if not due:
                break
            for job in due:
                self.execute_job(job.id)
                done += 1
                if limit is not None and done >= limit:
                    return done
        return done

    def acquire_jobs(
        self,
        worker_id: str,
        *,
        limit: int = 10,
        lock_duration: _dt.timedelta = _dt.timedelta(minutes=5),
    ) -> list[JobRecord]:
        """Lease up to ``limit`` due jobs to ``worker_id`` (then run each with
        :meth:`execute_job`); a crashed worker's lease expires and the job is due again."""

        def cmd(run: Executor) -> list[JobRecord]:
            out: list[JobRecord] = []
            for job in run.tx.due_jobs(run.now, limit=limit):
                locked = dataclasses.replace(
                    job, lock_owner=worker_id, lock_expires_at=run.now + lock_duration
                )
                run.cs.upsert("job", locked)
                out.append(locked)
            return out

        return self._command(cmd)

    def execute_job(self, job_id: str, worker_id: str | None = None) -> bool:
        """Execute one job now; a failure decrements its retries (at 0: an incident).

        Args:
            job_id: The job (also the idempotency key handlers see).
            worker_id: When given, the job must be leased to this worker (or not leased).

        Returns:
            Whether the job ran (``False``: it is gone, leased to another worker, or failed).
        """
        try:
            return self._command(lambda run: self._execute_job(run, job_id, worker_id))
        except ConcurrencyError:
            raise
        except LiuchengError as exc:
            err = exc
            self._command(lambda run: self._job_failed(run, job_id, err))
            return False

    def _execute_job(self, run: Executor, job_id: str, worker_id: str | None = None) -> bool:
        job = run.tx.get_row("job", job_id)
        if job is None:
            return False
        run.in_job = True
        if (
            worker_id is not None
            and job.lock_owner not in (None, worker_id)
            and job.lock_expires_at is not None
            and job.lock_expires_at > run.now
        ):
            return False
        run.cs.delete("job", job.id)
        if job.kind == "sla":
            return self._run_sla_job(run, job)
        if job.kind == "rebalance":
            return self._run_rebalance_job(run, job)
        if job.instance_id is None:
            graph = self.graph(job.definition_id, run.tx)
            node = graph.nodes[job.element_id]
            self._rearm(run, job)
            st = run.new_instance(graph, job.definition_id, None)
            run.start_instance(st, None, node)
            return True
        st = run.load(job.instance_id)
        st.dirty = True
        ei = st.eis.get(int(job.element_instance_id or 0))
        if ei is None or ei.state == GONE:
            return False
        if job.kind == "async-before":
            if ei.data is not None:
                ei.data.pop("job", None)
            if ei.data is not None and "f" in ei.data and ei.state == ASYNC_B:
                ei.state = JOIN
                run.try_join(st, ei)
            else:
                run.execute(st, ei)
        elif job.kind == "async-after":
            if ei.data is not None:
                ei.data.pop("job", None)
            ei.state = ACT
            run.after(st, ei)
        else:
            node = st.graph.nodes[job.element_id]
            repeat = job.data.get("rep", 0)
            keeps = node.kind in ("boundary", "start") and not node.interrupting
            if keeps and repeat != 0 and job.data.get("per"):
                cal = job.data.get("cal")
                due = next_due(job.data["per"], job.due_at, run.engine._business_adder(cal))
                again = {"rep": repeat - 1 if repeat > 0 else -1, "per": job.data["per"]}
                if cal is not None:
                    again["cal"] = cal
                run.new_job(st, ei, "timer", node=node, due=due, data=again)
            run.fire(st, ei, node, None, ("job", job.id))
        return True

    def _rearm(self, run: Executor, job: JobRecord) -> None:
        repeat = job.data.get("rep", 0)
        if repeat != 0 and job.data.get("per"):
            cal = job.data.get("cal")
            again = {"rep": repeat - 1 if repeat > 0 else -1, "per": job.data["per"]}
            if cal is not None:
                again["cal"] = cal
            run.cs.upsert(
                "job",
                dataclasses.replace(
                    job,
                    id=new_id(),
                    due_at=next_due(job.data["per"], job.due_at, run.engine._business_adder(cal)),
                    data=again,
                ),
            )

    def _job_failed(self, run: Executor, job_id: str, exc: LiuchengError) -> None:
        job = run.tx.get_row("job", job_id)
        if job is None:
            return
        retries = job.retries - 1
        due_at = job.due_at
        policy = self.job_retry_policy(job, run.tx)
        if policy is not None and retries > 0:
            # The element's camunda:failedJobRetryTimeCycle decides when the next try is due.
            due_at = add_duration(run.now, policy.delay(policy.tries - retries))
        run.cs.upsert(
            "job",
            dataclasses.replace(
                job,
                retries=retries,
                error=exc.message,
                lock_owner=None,
                lock_expires_at=None,
                due_at=due_at,
            ),
        )
        if retries <= 0 and job.instance_id is not None:
            st = run.load(job.instance_id)
            ei = st.eis.get(int(job.element_instance_id or 0))
            if ei is None:
                return
            iid = run.new_id(st)
            run.cs.upsert(
                "incident",
                IncidentRecord(
                    iid,
                    st.id,
                    st.root_id,
                    st.definition_id,
                    job.element_id,
                    str(ei.id),
                    "failed-job",
                    exc.message,
                    run.now,
                    job_id=job.id,
                    variables=dict(run.context(ei)),
                ),
            )
            ei.d()["inc"] = iid
            st.has_incident = True
            st.dirty = True
            run.hist("incident_open", st, ei.node, ei, {"incident_id": iid, "message": exc.message})

    def job_retry_policy(self, job: JobRecord, tx: Transaction | None = None) -> RetryPolicy | None:
        """The retry policy (``camunda:failedJobRetryTimeCycle``) of the job's element, if any.

        When there is one, a failed job's next try is due when the policy says (set in the same
        transaction that records the failure); job executors apply their own back-off only to
        jobs without one.
        """
        if job.kind == "sla":
            return None
        try:
            graph = self.graph(job.definition_id, tx)
        except NotFoundError:
            return None
        node = graph.nodes.get(job.element_id)
        return None if node is None else node.retry

    def set_job_retries(self, job_id: str, retries: int) -> None:
        """Give a failed job new retries (resolving its incident)."""

        def cmd(run: Executor) -> None:
            job = run.tx.get_row("job", job_id)
            if job is None:
                raise NotFoundError(f"job '{job_id}' does not exist", code="engine.job.not_found")
            run.cs.upsert("job", dataclasses.replace(job, retries=retries))
            if job.instance_id is not None:
                self._close_incidents(run, job.instance_id, job_id=job_id)

        self._command(cmd)

    # ------------------------------------------------------------------ external tasks

    def fetch_and_lock(
        self,
        topic: str,
        worker_id: str,
        *,
        max_tasks: int = 1,
        lock_duration: _dt.timedelta = _dt.timedelta(minutes=5),
        instance_id: str | None = None,
        variables: Sequence[str] | None = None,
    ) -> list[LockedExternalTask]:
        """Lock up to ``max_tasks`` open external tasks of ``topic`` for ``worker_id``.

        ``variables`` limits the variables handed out to those names (all when ``None``).
        """
        wanted = frozenset(variables or ())

        def cmd(run: Executor) -> list[LockedExternalTask]:
            now = run.now
            rows = run.tx.find_rows(
                "external_task", {"topic": topic}, order_by=("created_at", "seq")
            )
            out: list[LockedExternalTask] = []
            for r in sorted(rows, key=lambda x: -x.priority):
                if instance_id is not None and instance_id not in (r.instance_id, r.root_id):
                    continue
                if r.lock_owner is not None and r.lock_expires_at and r.lock_expires_at > now:
                    continue
                if r.retries is not None and r.retries <= 0:
                    continue
                if (
                    r.lock_owner is None
                    and r.lock_expires_at is not None
                    and r.lock_expires_at > now
                ):
                    continue  # retry back-off
                expires = now + lock_duration
                run.cs.upsert(
                    "external_task",
                    dataclasses.replace(r, lock_owner=worker_id, lock_expires_at=expires),
                )
                st = run.load(r.instance_id)
                ei = st.eis.get(int(r.element_instance_id))
                visible = dict(run.context(ei)) if ei is not None else {}
                if variables is not None:  # the worker asked for these names only
                    visible = {k: v for k, v in visible.items() if k in wanted}
                out.append(
                    LockedExternalTask(
                        r.id,
                        r.topic,
                        r.instance_id,
                        r.element_id,
                        st.business_key,
                        visible,
                        expires,
                        r.retries,
                    )
                )
                if len(out) >= max_tasks:
                    break
            return out

        return self._command(cmd)

    def _ext(
        self, run: Executor, task_id: str, worker_id: str | None
    ) -> tuple[ExternalTaskRecord, InstanceState, EI]:
        row = run.tx.get_row("external_task", task_id)
        if row is None:
            raise NotFoundError(
                f"external task '{task_id}' does not exist", code="engine.external_task.not_found"
            )
        if worker_id is not None and row.lock_owner not in (None, worker_id):
            raise EngineError(
                f"external task '{task_id}' is locked by '{row.lock_owner}'",
                code="engine.external_task.locked",
                hint="fetch and lock it first",
            )
        st = run.load(row.instance_id)
        ei = run.find_ei(st, row.element_instance_id)
        return row, st, ei

    def complete_external_task(
        self,
        task_id: str,
        worker_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        local_variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Complete an external task; ``variables`` are set where defined (else on the process)."""

        def cmd(run: Executor) -> None:
            row, st, ei = self._ext(run, task_id, worker_id)
            for k, v in (local_variables or {}).items():
                run.set_local(st, ei, k, v)
            run.set_completion_vars(st, ei, variables)
            run.cs.delete("external_task", row.id)
            self._close_incidents(run, st.id, external_task_id=row.id)
            if ei.data is not None:
                ei.data.pop("ext", None)
                ei.data.pop("inc", None)
            ei.state = ACT
            st.dirty = True
            run.complete(st, ei)

        self._command(cmd)

    def fail_external_task(
        self,
        task_id: str,
        worker_id: str | None = None,
        message: str = "failed",
        *,
        retries: int = 0,
        retry_timeout: _dt.timedelta | None = None,
        details: str | None = None,
    ) -> None:
        """Report a worker failure; with ``retries`` 0 an incident opens on the task."""

        def cmd(run: Executor) -> None:
            row, st, ei = self._ext(run, task_id, worker_id)
            run.cs.upsert(
                "external_task",
                dataclasses.replace(
                    row,
                    retries=retries,
                    error_message=message,
                    lock_owner=None,
                    lock_expires_at=run.now + retry_timeout if retry_timeout else None,
                ),
            )
            if retries <= 0:
                iid = run.new_id(st)
                run.cs.upsert(
                    "incident",
                    IncidentRecord(
                        iid,
                        st.id,
                        st.root_id,
                        st.definition_id,
                        row.element_id,
                        str(ei.id),
                        "failed-external-task",
                        message,
                        run.now,
                        external_task_id=row.id,
                        variables=dict(run.context(ei)),
                    ),
                )
                ei.d()["inc"] = iid
                st.has_incident = True
                st.dirty = True
                run.hist("incident_open", st, ei.node, ei, {"incident_id": iid, "message": message})

        self._command(cmd)

    def external_task_bpmn_error(
        self,
        task_id: str,
        code: str,
        worker_id: str | None = None,
        *,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Throw a BPMN error from an external task (caught by boundaries or event subprocesses)."""

        def cmd(run: Executor) -> None:
            row, st, ei = self._ext(run, task_id, worker_id)
            run.cs.delete("external_task", row.id)
            if ei.data is not None:
                ei.data.pop("ext", None)
            st.dirty = True
            run.throw_error(st, ei, code, dict(variables or {}) or None, message)

        self._command(cmd)

    # ------------------------------------------------------------------ incidents

    def _close_incidents(
        self,
        run: Executor,
        instance_id: str,
        *,
        job_id: str | None = None,
        external_task_id: str | None = None,
    ) -> None:
        filters: dict[str, Any] = {"instance_id": instance_id}
        if job_id is not None:
            filters["job_id"] = job_id
        if external_task_id is not None:
            filters["external_task_id"] = external_task_id
        for inc in run.tx.find_rows("incident", filters):
            run.cs.delete("incident", inc.id)
            st = run.load(instance_id)
            ei = st.eis.get(int(inc.element_instance_id))
            if ei is not None and ei.data is not None:
                ei.data.pop("inc", None)
            st.has_incident = any(e.data and "inc" in e.data for e in st.eis.values())
            st.dirty = True
            run.hist("incident_resolve", st, ei.node if ei else None, ei, {"incident_id": inc.id})

    def resolve_incident(self, incident_id: str) -> None:
        """Resolve an incident: the failed step runs again (a failed job gets one retry)."""

        def cmd(run: Executor) -> None:
            inc = run.tx.get_row("incident", incident_id)
            if inc is None:
                raise NotFoundError(
                    f"incident '{incident_id}' is not open", code="engine.incident.not_found"
                )
            st = run.load(inc.instance_id)
            run.cs.delete("incident", inc.id)
            ei = st.eis.get(int(inc.element_instance_id))
            st.dirty = True
            if inc.job_id is not None:
                job = run.tx.get_row("job", inc.job_id)
                if job is not None:
                    run.cs.upsert("job", dataclasses.replace(job, retries=1))
            if inc.external_task_id is not None:
                ext = run.tx.get_row("external_task", inc.external_task_id)
                if ext is not None:
                    run.cs.upsert("external_task", dataclasses.replace(ext, retries=1))
            if ei is not None and ei.data is not None:
                ei.data.pop("inc", None)
                step = ei.data.pop("step", None)
                st.has_incident = any(e.data and "inc" in e.data for e in st.eis.values())
                run.hist("incident_resolve", st, ei.node, ei, {"incident_id": inc.id})
                if ei.state == FAILED:
                    ei.state = ACT
                    if step == "complete":
                        run.complete(st, ei)
                    elif ei.mib:
                        run.mi_start(st, ei)
                    else:
                        run.execute(st, ei)

        self._command(cmd)
