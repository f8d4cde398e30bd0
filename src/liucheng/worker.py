"""``liucheng.worker``: write handlers for service tasks and external tasks.

Example::

    from liucheng.worker import BpmnError, Registry

    registry = Registry()

    @registry.topic("charge-card")
    def charge(task):
        if task.variables["amount"] > 1000:
            raise BpmnError("LIMIT")
        return {"charged": True}

Run it with ``liucheng worker --app mymodule:registry --database postgresql://…``.
"""

from __future__ import annotations

from liucheng.jobs.worker import (
    BpmnError,
    ExternalTaskHandler,
    ExternalTaskWorker,
    Registry,
    load_registry,
)

__all__ = ["BpmnError", "ExternalTaskHandler", "ExternalTaskWorker", "Registry", "load_registry"]
