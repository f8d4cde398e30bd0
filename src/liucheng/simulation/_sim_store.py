"""An in-memory engine store that tells the simulator what each command changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from liucheng.engine import ChangeSet, InstanceRecord, MemoryStore
from liucheng.engine.memory import MemoryTransaction

if TYPE_CHECKING:
    from liucheng.engine._state import InstanceState

__all__ = ["SimStore"]

_KINDS = ("task", "external_task", "job", "subscription")
_WORK = frozenset({"task", "external_task"})


class _Tx(MemoryTransaction):
    def __init__(self, store: SimStore) -> None:
        super().__init__(store)
        self.sim = store

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance; a live one (lean engine) with its state document made on demand."""
        rec = self.sim.instances.get(instance_id)
        st = self.sim.live.get(instance_id)
        if rec is not None and st is not None:
            rec.doc = st.to_doc()
            rec.has_incident = st.has_incident
        return rec

    def apply_lean(self, changes: ChangeSet) -> None:
        """:meth:`apply` for :class:`~._lean.LeanEngine`: no revisions to check (one writer,
        live instances), the rows written and reported in one pass."""
        sim = self.sim
        instances = sim.instances
        for rec in changes.instances_insert:
            rec.revision = 1
            instances[rec.id] = rec
        rows = sim.rows
        new = sim.new
        gone = sim.gone
        for kind, ids in changes.deletes.items():
            if ids:
                table = rows[kind]
                for row_id in ids:
                    table.pop(row_id, None)
                if kind in _WORK:
                    gone.update(ids)
        for kind, ups in changes.upserts.items():
            if ups:
                rows[kind].update(ups)
                pending = new.get(kind)
                if pending is not None:
                    pending.extend(ups.values())
        for inst_id, _ in changes.instances_delete:
            instances.pop(inst_id, None)
            sim.ended.append(inst_id)

    def apply(self, changes: ChangeSet) -> None:
        super().apply(changes)
        # The simulator turns these into events: new tasks queue, new jobs are scheduled,
        # deleted tasks (interrupted by a boundary event) leave their queue or resource.
        sim = self.sim
        upserts = changes.upserts
        deletes = changes.deletes
        if upserts:
            for kind, ups in upserts.items():
                if ups and kind in sim.new:
                    sim.new[kind].extend(ups.values())
        if deletes:
            for kind, dels in deletes.items():
                if dels and kind in _WORK:
                    sim.gone.update(dels)
        for inst_id, _ in changes.instances_delete:
            sim.ended.append(inst_id)


class SimStore(MemoryStore):
    """A :class:`MemoryStore` without history that records the rows each command wrote.

    Attributes:
        new: Kind -> rows of that kind written since the simulator last looked.
        gone: Ids of task and external-task rows removed since then.
        ended: Instances ended since then.
        live: Instance id -> the engine's runtime state, kept between commands by
            :class:`~._lean.LeanEngine` (empty when the ordinary engine runs).
    """

    def __init__(self) -> None:
        super().__init__(keep_history=False)
        self.new: dict[str, list[Any]] = {k: [] for k in _KINDS}
        self.gone: set[str] = set()
        self.ended: list[str] = []
        self.live: dict[str, InstanceState] = {}
        self.sim_tx = _Tx(self)

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        """A unit of work whose writes are reported to the simulator."""
        yield self.sim_tx
