"""Small public types of the engine API: handler context, deployment info, query results."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._run import Run
    from ._state import EI, InstanceState

__all__ = [
    "ActivityInstance",
    "DeployedDefinition",
    "Deployment",
    "HandlerContext",
    "LockedExternalTask",
]


class HandlerContext:
    """What an in-process service handler sees.

    A handler is ``def handler(ctx: HandlerContext) -> dict | None``; a returned dict sets
    variables (or the result variable). Raise :meth:`bpmn_error` to throw a BPMN error.

    Attributes:
        variables: The variables visible at the task (a copy).
        idempotency_key: Stable for this execution of this element instance.
        instance_id: Process instance id.
        business_key: Business key of the instance.
        element_id: The task's id.
    """

    def __init__(
        self, run: Run, st: InstanceState, ei: EI, variables: dict[str, Any], key: str
    ) -> None:
        self._run = run
        self._st = st
        self._ei = ei
        self.variables = variables
        self.idempotency_key = key
        self.instance_id = st.id
        self.business_key = st.business_key
        self.element_id = ei.node.id if ei.node is not None else ""

    def set_variable(self, name: str, value: Any) -> None:
        """Set a variable (where it is defined, else on the process)."""
        self._run.set_var(self._st, self._ei, name, value)

    def bpmn_error(self, code: str, variables: dict[str, Any] | None = None) -> None:
        """Throw a BPMN error with ``code`` from this task (never returns)."""
        from ._activity_work import BpmnErrorSignal

        raise BpmnErrorSignal(code, variables)


@dataclass(frozen=True, slots=True)
class DeployedDefinition:
    """One definition version created by a deployment.

    Attributes:
        id: Definition id.
        key: Process/decision id.
        version: Version number.
        kind: ``"bpmn"`` or ``"dmn"``.
        name: Name, if any.
        version_tag: The process's (or decision's) ``camunda:versionTag`` or
            ``zeebe:versionTag``, if any (what ``start_process(version_tag=)`` and the
            ``versionTag`` bindings look for).
    """

    id: str
    key: str
    version: int
    kind: str
    name: str | None
    version_tag: str | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    """The result of :meth:`Engine.deploy`.

    Attributes:
        id: Deployment id.
        definitions: The definition versions created.
    """

    id: str
    definitions: tuple[DeployedDefinition, ...] = ()

    def definition(self, key: str) -> DeployedDefinition:
        """The deployed definition with that key."""
        for d in self.definitions:
            if d.key == key:
                return d
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class ActivityInstance:
    """A live element instance of a process instance.

    Attributes:
        id: Element instance id (unique within the instance).
        instance_id: Process instance id.
        element_id: Model element id.
        element_type: BPMN type (``userTask``...).
        state: ``wait``, ``async-b``, ``async-a``, ``join``, ``failed`` or ``act``.
        parent_id: Enclosing element instance id (``0`` is the process itself).
        multi_instance_body: Whether it is the body of a multi-instance activity.
        is_scope: Whether it holds child element instances (subprocess, call activity...).
        variables: Its local variables.
        has_incident: Whether an incident is open on it.
    """

    id: str
    instance_id: str
    element_id: str
    element_type: str
    state: str
    parent_id: str
    multi_instance_body: bool
    is_scope: bool
    variables: dict[str, Any] = field(default_factory=dict)
    has_incident: bool = False


@dataclass(frozen=True, slots=True)
class LockedExternalTask:
    """An external task locked for a worker by :meth:`Engine.fetch_and_lock`.

    Attributes:
        id: External task id.
        topic: Topic.
        instance_id: Process instance.
        element_id: Service task id.
        business_key: Business key of the instance.
        variables: The variables visible at the task.
        lock_expires_at: When the lock expires.
        retries: Retries left (``None``: never failed).
    """

    id: str
    topic: str
    instance_id: str
    element_id: str
    business_key: str | None
    variables: dict[str, Any]
    lock_expires_at: _dt.datetime
    retries: int | None
