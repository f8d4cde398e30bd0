"""Activity work: input/output mappings, script and service tasks, jobs and incidents.

A mixin of :class:`~._exec.Executor` (below it, above :class:`~._taskrun.UserTaskBehaviour`):
the work an activity does once a token is on it, and what happens when that work fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liucheng.errors import EngineError, LiuchengError

from ._graph import Node
from ._state import EI, FAILED, WAIT, InstanceState
from ._taskrun import UserTaskBehaviour
from .ports import ExternalTaskRecord, IncidentRecord, JobRecord

__all__ = ["ActivityWorkMixin", "BpmnErrorSignal"]


class BpmnErrorSignal(Exception):
    """Raised by a handler to throw a BPMN error (see :meth:`HandlerContext.bpmn_error`)."""

    def __init__(self, code: str, variables: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.variables = variables


class ActivityWorkMixin(UserTaskBehaviour):
    """Mappings, scripts, service handlers, external tasks, jobs and incidents."""

    # ------------------------------------------------------------------ mappings

    def map_inputs(self, st: InstanceState, ei: EI) -> bool:
        """Apply input mappings as local variables; an error opens an incident."""
        node = ei.node
        assert node is not None
        try:
            for name, expr in node.inputs:
                ctx = self.context(ei)
                value = expr.value(ctx) if expr is not None else None
                self.set_local(st, ei, name, value)
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return False
        return True

    def set_completion_vars(
        self, st: InstanceState, ei: EI, variables: Mapping[str, Any] | None
    ) -> None:
        """Set the variables a task (user, external, job) is completed with.

        They go where they are defined, else on the process; with Zeebe output mappings they
        stay local to the task, and only the mapped variables reach the process (Zeebe).
        """
        local = ei.node is not None and ei.node.local_out
        for k, v in (variables or {}).items():
            if local:
                self.set_local(st, ei, k, v)
            else:
                self.set_var(st, ei, k, v)

    def map_outputs(self, st: InstanceState, ei: EI) -> bool:
        """Apply output mappings into the enclosing scope; an error opens an incident."""
        node = ei.node
        assert node is not None
        assert ei.parent is not None
        try:
            ctx = self.context(ei)
            values = [(n, e.value(ctx) if e is not None else None) for n, e in node.outputs]
        except LiuchengError as exc:
            self.incident(st, ei, "complete", exc)
            return False
        for name, value in values:
            self.set_var(st, ei.parent, name, value)
        return True

    # ------------------------------------------------------------------ scripts, services

    def run_script(self, st: InstanceState, ei: EI) -> None:
        """A FEEL script task: evaluate, store the result, complete."""
        node = ei.node
        assert node is not None
        if node.handler is not None:
            self.call_handler(st, ei, node.handler)
            return
        if node.script is None:
            self.complete(st, ei)
            return
        try:
            result = node.script.value(self.context(ei))
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return
        self.store_result(st, ei, result)
        self.complete(st, ei)

    def store_result(self, st: InstanceState, ei: EI, result: Any) -> None:
        """Store a script/handler/decision result (result variable or merged context)."""
        node = ei.node
        assert node is not None
        if node.result_var:
            # Zeebe: with output mappings the result stays local, for the mappings only
            setter = self.set_local if node.local_out else self.set_var
            setter(st, ei, node.result_var, result)
        elif isinstance(result, dict):
            for k, v in result.items():
                self.set_var(st, ei, str(k), v)

    def run_service(self, st: InstanceState, ei: EI) -> None:
        """A service/send/business rule task: external task, decision, handler or no-op."""
        node = ei.node
        assert node is not None
        if node.topic is not None:
            ei.state = WAIT
            try:
                topic = str(node.topic.value(self.context(ei)))
            except LiuchengError as exc:
                self.incident(st, ei, "execute", exc)
                return
            xid = self.new_id(st)
            self.cs.upsert(
                "external_task",
                ExternalTaskRecord(
                    xid,
                    topic,
                    st.id,
                    st.root_id,
                    st.definition_id,
                    node.id,
                    str(ei.id),
                    self.now,
                    st.seq,
                    retries=node.retries,
                ),
            )
            ei.d()["ext"] = xid
            st.dirty = True
            return
        if node.decision is not None:
            self.call_decision(st, ei)
            return
        if node.handler is not None:
            self.call_handler(st, ei, node.handler)
            return
        self.complete(st, ei)

    def call_handler(self, st: InstanceState, ei: EI, name: str) -> None:
        """Run an in-process handler registered by name."""
        handler = self.engine.handlers.get(name)
        node = ei.node
        assert node is not None
        if handler is None:
            self.incident(
                st,
                ei,
                "execute",
                EngineError(
                    f"no handler registered as '{name}'",
                    code="engine.handler.missing",
                    element_id=node.id,
                    hint="register it with Engine.register_handler",
                ),
            )
            return
        from ._api import HandlerContext

        hctx = HandlerContext(self, st, ei, dict(self.context(ei)), f"{st.id}:{ei.id}:{node.id}")
        try:
            result = handler(hctx)
        except BpmnErrorSignal as sig:
            self.throw_error(st, ei, sig.code, sig.variables)
            return
        except LiuchengError as exc:
            self.incident(st, ei, "execute", exc)
            return
        except Exception as exc:  # a handler is user code: any failure becomes an incident
            self.incident(
                st,
                ei,
                "execute",
                EngineError(
                    f"handler '{name}' failed: {type(exc).__name__}: {exc}",
                    code="engine.handler.failed",
                    element_id=node.id,
                ),
            )
            return
        if isinstance(result, dict):
            if node.result_var:
                self.set_var(st, ei, node.result_var, result)
            else:
                for k, v in result.items():
                    self.set_var(st, ei, str(k), v)
        elif result is not None and node.result_var:
            self.set_var(st, ei, node.result_var, result)
        self.complete(st, ei)

    # ------------------------------------------------------------------ jobs, incidents

    def new_job(
        self,
        st: InstanceState,
        ei: EI,
        kind: str,
        *,
        node: Node | None = None,
        due: Any = None,
        data: dict[str, Any] | None = None,
    ) -> str:
        """Create a job owned by ``ei``."""
        n = node or ei.node
        assert n is not None
        jid = self.new_id(st)
        self.cs.upsert(
            "job",
            JobRecord(
                jid,
                st.id,
                st.root_id,
                st.definition_id,
                n.id,
                str(ei.id),
                kind,
                due or self.now,
                retries=n.retry.tries if n.retry is not None else 3,
                exclusive=n.exclusive,
                created_at=self.now,
                seq=st.seq,
                data=data or {},
            ),
        )
        if kind == "timer":
            ei.d().setdefault("subs", []).append(["job", jid, n.id])
        else:
            ei.d()["job"] = jid
        st.dirty = True
        return jid

    def incident(self, st: InstanceState, ei: EI, step: str, exc: LiuchengError) -> None:
        """Open an incident on ``ei``: the step waits until the incident is resolved.

        Inside a job the error is raised instead: the job's command rolls back and the job
        fails (its retries decrease; at zero an incident opens on the job).
        """
        node = ei.node
        assert node is not None
        if self.in_job:
            if isinstance(exc, EngineError):
                raise exc
            raise EngineError(
                exc.message, code=exc.code, element_id=node.id, hint=exc.hint
            ) from exc
        iid = self.new_id(st)
        variables = dict(self.context(ei))
        self.cs.upsert(
            "incident",
            IncidentRecord(
                iid,
                st.id,
                st.root_id,
                st.definition_id,
                node.id,
                str(ei.id),
                "failed-step",
                exc.message,
                self.now,
                variables=variables,
            ),
        )
        ei.state = FAILED
        d = ei.d()
        d["inc"] = iid
        d["step"] = step
        st.has_incident = True
        st.dirty = True
        self.hist(
            "incident_open",
            st,
            node,
            ei,
            {"incident_id": iid, "message": exc.message, "code": exc.code, "hint": exc.hint},
        )
