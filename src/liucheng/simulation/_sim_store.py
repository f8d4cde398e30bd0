"""An in-memory engine store that tells the simulator what each command changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from liucheng.engine import ChangeSet, MemoryStore
from liucheng.engine.memory import MemoryTransaction

__all__ = ["SimStore"]


class _Tx(MemoryTransaction):
    def __init__(self, store: SimStore) -> None:
        super().__init__(store)
        self.sim = store

    def apply(self, changes: ChangeSet) -> None:
        super().apply(changes)
        # The simulator turns these into events: new tasks queue, new jobs are scheduled,
        # deleted tasks (interrupted by a boundary event) leave their queue or resource.
        sim = self.sim
        for kind in ("task", "external_task", "job", "subscription"):
            ups = changes.upserts.get(kind)
            if ups:
                sim.new[kind].extend(ups.values())
            dels = changes.deletes.get(kind)
            if dels:
                sim.gone[kind].update(dels)
        for inst_id, _ in changes.instances_delete:
            sim.ended.append(inst_id)


class SimStore(MemoryStore):
    """A :class:`MemoryStore` without history that records the rows each command wrote."""

    def __init__(self) -> None:
        super().__init__(keep_history=False)
        self.new: dict[str, list[Any]] = {
            k: [] for k in ("task", "external_task", "job", "subscription")
        }
        self.gone: dict[str, set[str]] = {
            k: set() for k in ("task", "external_task", "job", "subscription")
        }
        self.ended: list[str] = []
        self._sim_tx = _Tx(self)

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        """A unit of work whose writes are reported to the simulator."""
        yield self._sim_tx
