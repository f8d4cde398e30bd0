"""liucheng.engine: BPMN execution semantics over durable process-instance state.

The :class:`Engine` is the entry point for embedding::

    from liucheng.engine import Engine

    engine = Engine()                       # in-memory store, system clock
    engine.deploy("order.bpmn")
    pid = engine.start_process("order", {"amount": 120})
    for task in engine.tasks(instance_id=pid):
        engine.complete_task(task.id, {"approved": True})

People's work (docs/work.md): with an ``organisation`` the engine assigns user tasks by lane
role and strategy, keeps SLA clocks (:meth:`Engine.add_sla`) and escalates; :meth:`Engine.as_user`
gives a :class:`UserView` that enforces the authorisation policy.

Stores implement the protocols in :mod:`liucheng.engine.ports`; :class:`MemoryStore` is the
in-memory one. The conformance runner is in :mod:`liucheng.engine.conformance`.
"""

from __future__ import annotations

from ._api import (
    ActivityInstance,
    DeployedDefinition,
    Deployment,
    HandlerContext,
    LockedExternalTask,
)
from ._authz import UserView
from ._engine import Engine, Handler
from ._forms import form_errors, validate_form
from ._orgstore import OrgAdmin, StoredOrganisation
from ._slas import SlaClockView, SlaRegistration
from ._timers import RetryPolicy, parse_retry_cycle
from .memory import MemoryStore
from .ports import (
    AssignmentCursorRecord,
    AttachmentRecord,
    ChangeSet,
    Clock,
    CommentRecord,
    DefinitionRecord,
    ExternalTaskRecord,
    HistoryEvent,
    IncidentRecord,
    InstanceRecord,
    JobRecord,
    ManualClock,
    OrgRevisionRecord,
    OrgStore,
    Page,
    SlaClockRecord,
    Store,
    SubscriptionRecord,
    SystemClock,
    TaskRecord,
    Transaction,
)

__all__ = [
    "ActivityInstance",
    "AssignmentCursorRecord",
    "AttachmentRecord",
    "ChangeSet",
    "Clock",
    "CommentRecord",
    "DefinitionRecord",
    "DeployedDefinition",
    "Deployment",
    "Engine",
    "ExternalTaskRecord",
    "Handler",
    "HandlerContext",
    "HistoryEvent",
    "IncidentRecord",
    "InstanceRecord",
    "JobRecord",
    "LockedExternalTask",
    "ManualClock",
    "MemoryStore",
    "OrgAdmin",
    "OrgRevisionRecord",
    "OrgStore",
    "Page",
    "RetryPolicy",
    "SlaClockRecord",
    "SlaClockView",
    "SlaRegistration",
    "Store",
    "StoredOrganisation",
    "SubscriptionRecord",
    "SystemClock",
    "TaskRecord",
    "Transaction",
    "UserView",
    "form_errors",
    "parse_retry_cycle",
    "validate_form",
]
