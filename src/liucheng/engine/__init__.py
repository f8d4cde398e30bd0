"""liucheng.engine: BPMN execution semantics over durable process-instance state.

The :class:`Engine` is the entry point for embedding::

    from liucheng.engine import Engine

    engine = Engine()                       # in-memory store, system clock
    engine.deploy("order.bpmn")
    pid = engine.start_process("order", {"amount": 120})
    for task in engine.tasks(instance_id=pid):
        engine.complete_task(task.id, {"approved": True})

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
from ._engine import Engine, Handler
from .memory import MemoryStore
from .ports import (
    ChangeSet,
    Clock,
    DefinitionRecord,
    ExternalTaskRecord,
    HistoryEvent,
    IncidentRecord,
    InstanceRecord,
    JobRecord,
    ManualClock,
    Page,
    Store,
    SubscriptionRecord,
    SystemClock,
    TaskRecord,
    Transaction,
)

__all__ = [
    "ActivityInstance",
    "ChangeSet",
    "Clock",
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
    "Page",
    "Store",
    "SubscriptionRecord",
    "SystemClock",
    "TaskRecord",
    "Transaction",
]
