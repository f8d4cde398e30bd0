"""Runtime objects of one process instance: the element-instance tree and its variables.

The tree is rebuilt from the instance's JSON document when loaded and written back when the
command commits (see :meth:`InstanceState.to_doc`), so a failed command never touches what the
store holds.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections import OrderedDict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._graph import Graph, Node

if TYPE_CHECKING:
    from .ports import InstanceRecord

__all__ = ["EI", "InstanceState", "StateCache"]

# element instance states
ACT = "act"  # running now (transient inside a command)
WAIT = "wait"  # waiting for an event, a person, a worker or its children
ASYNC_B = "async-b"  # waiting for its asyncBefore job
ASYNC_A = "async-a"  # waiting for its asyncAfter job
JOIN = "join"  # a token waiting at a joining gateway
FAILED = "failed"  # a failed step with an open incident
GONE = "gone"  # removed (ended or cancelled)


class EI:
    """One element instance (token or scope) of a process instance.

    Attributes:
        id: Number, unique within the instance.
        node: The model node.
        parent: The enclosing (flow scope) element instance; ``None`` for the process itself.
        kids: Child element instances (scopes only).
        vars: Local variables, or ``None``.
        data: Behaviour data (subscriptions, task/job ids, counters), or ``None``.
        state: One of the state constants of this module.
        mib: Whether this is the body of a multi-instance activity.
    """

    __slots__ = ("data", "id", "kids", "mib", "node", "parent", "state", "vars")

    def __init__(self, eid: int, node: Node | None, parent: EI | None, state: str = ACT) -> None:
        self.id = eid
        self.node = node
        self.parent = parent
        self.kids: list[EI] = []
        self.vars: dict[str, Any] | None = None
        self.data: dict[str, Any] | None = None
        self.state = state
        self.mib = False

    @property
    def element_id(self) -> str | None:
        """The model element id (``None`` for the process instance scope)."""
        return self.node.id if self.node is not None else None

    def d(self) -> dict[str, Any]:
        """The behaviour data, created on first use."""
        if self.data is None:
            self.data = {}
        return self.data

    @property
    def is_inner(self) -> bool:
        """Whether this is one inner instance of a multi-instance activity."""
        p = self.parent
        return p is not None and p.mib and p.node is self.node and not self.mib

    def __repr__(self) -> str:
        return f"EI({self.id}, {self.element_id}, {self.state})"


class InstanceState:
    """The live state of one process instance inside a command.

    Attributes:
        id: Process instance id.
        graph: Compiled process.
        definition_id: Definition version.
        business_key: Business key.
        parent_id: Calling instance, if any.
        parent_ei: Element instance id of the calling call activity, if any.
        root_id: Root instance id.
        started_at: Start time.
        revision: Revision loaded (0 for a new instance).
        root: The process-level element instance (holds process variables).
        eis: Every live element instance by id.
        seq: Last id handed out.
        ended: ``None`` while running, else ``"completed"`` or ``"terminated"``.
        has_incident: Whether an incident is open.
    """

    __slots__ = (
        "business_key",
        "definition_id",
        "dirty",
        "eis",
        "ended",
        "graph",
        "has_incident",
        "id",
        "parent_ei",
        "parent_id",
        "revision",
        "root",
        "root_id",
        "seq",
        "started_at",
    )

    def __init__(
        self,
        iid: str,
        graph: Graph,
        definition_id: str,
        *,
        business_key: str | None,
        parent_id: str | None,
        parent_ei: int | None,
        root_id: str,
        started_at: _dt.datetime,
        revision: int = 0,
    ) -> None:
        self.id = iid
        self.graph = graph
        self.definition_id = definition_id
        self.business_key = business_key
        self.parent_id = parent_id
        self.parent_ei = parent_ei
        self.root_id = root_id
        self.started_at = started_at
        self.revision = revision
        self.seq = 0
        self.root = EI(0, None, None, WAIT)
        self.root.vars = {}
        self.eis: dict[int, EI] = {0: self.root}
        self.ended: str | None = None
        self.has_incident = False
        self.dirty = True

    def new_ei(self, node: Node, parent: EI, state: str = ACT) -> EI:
        """Create a child element instance of ``parent``."""
        self.seq += 1
        self.dirty = True
        ei = EI(self.seq, node, parent, state)
        parent.kids.append(ei)
        self.eis[ei.id] = ei
        return ei

    def remove(self, ei: EI) -> None:
        """Drop an element instance from the tree."""
        ei.state = GONE
        self.dirty = True
        self.eis.pop(ei.id, None)
        p = ei.parent
        if p is not None:
            kids = p.kids
            if kids and kids[-1] is ei:
                kids.pop()
            elif ei in kids:
                kids.remove(ei)

    # -- serialisation
    def to_doc(self) -> dict[str, Any]:
        """The JSON-ready state document."""
        # Tuples, and no empty "vars": a store may keep this document for as long as the instance
        # waits (the memory store does), so every object here is heap per live instance.
        rows: list[tuple[Any, ...]] = []
        for ei in self.eis.values():
            if ei.parent is None:
                continue
            rows.append(
                (
                    ei.id,
                    ei.node.id if ei.node is not None else None,
                    ei.parent.id,
                    ei.state,
                    1 if ei.mib else 0,
                    ei.vars,
                    ei.data,
                )
            )
        doc: dict[str, Any] = {"v": 1, "seq": self.seq, "eis": tuple(rows)}
        if self.root.vars:
            doc["vars"] = self.root.vars
        if self.root.data:
            doc["data"] = self.root.data
        if self.parent_ei is not None:
            doc["pei"] = self.parent_ei
        return doc

    @classmethod
    def from_doc(
        cls,
        doc: dict[str, Any],
        graph: Graph,
        *,
        iid: str,
        definition_id: str,
        business_key: str | None,
        parent_id: str | None,
        root_id: str,
        started_at: _dt.datetime,
        revision: int,
    ) -> InstanceState:
        """Rebuild the runtime objects from a document (copying what a command may change)."""
        st = cls(
            iid,
            graph,
            definition_id,
            business_key=business_key,
            parent_id=parent_id,
            parent_ei=doc.get("pei"),
            root_id=root_id,
            started_at=started_at,
            revision=revision,
        )
        st.seq = doc["seq"]
        st.root.vars = dict(doc.get("vars") or {})
        rdata = doc.get("data")
        st.root.data = _copy_data(rdata) if rdata else None
        eis = st.eis
        nodes = graph.nodes
        for eid, nid, pid, state, mib, v, data in doc["eis"]:
            ei = EI(eid, nodes[nid], None, state)
            ei.mib = bool(mib)
            ei.vars = dict(v) if v is not None else None
            ei.data = _copy_data(data) if data is not None else None
            eis[eid] = ei
            ei.parent = eis[pid]  # parents come before their children in the document
            ei.parent.kids.append(ei)
        return st


# Element instance ids as text (row and history columns): one shared string per small id instead
# of a new one per row, both for speed and for heap held by waiting rows.
_EI_TEXT = tuple(str(i) for i in range(1024))


def ei_text(eid: int) -> str:
    """``str(eid)``, shared for small ids."""
    return _EI_TEXT[eid] if 0 <= eid < 1024 else str(eid)


def _copy_data(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, list):
            out[k] = [list(x) if isinstance(x, list) else x for x in v]
        elif isinstance(v, dict):
            out[k] = _copy_data(v)
        else:
            out[k] = v
    return out


#: Variable value types that come back from a store's JSON unchanged; an instance whose command
#: wrote any other value (lists, tuples, dicts, dates...) is not kept in a :class:`StateCache`,
#: so a cached document never differs from the stored one after a round trip.
STABLE_TYPES = frozenset({str, int, float, bool, type(None), Decimal})


class StateCache:
    """Documents of instances this engine wrote last, keyed by instance id (optimistic).

    A command may start from the document it wrote last instead of reading and decoding the
    stored row. Nothing checks that the entry is current when it is taken: the revision-checked
    write of the instance (``UPDATE ... WHERE revision = n``) does, and a stale entry ends in a
    :class:`~liucheng.errors.ConcurrencyError` whose retry reads the row. An entry is taken out
    while a command uses it and put back only after that command committed, so a failed command
    leaves nothing behind. :meth:`InstanceState.from_doc` copies what a command changes, so a
    command never changes a cached document in place.

    Args:
        size: Most instances kept (the least recently written go first).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[str, InstanceRecord] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str) -> InstanceRecord | None:
        """Remove and return the record written last for ``instance_id`` (revision current)."""
        return self._entries.pop(instance_id, None)

    def put(self, rec: InstanceRecord) -> None:
        """Keep ``rec`` (its ``revision`` the stored one) unless a newer one is kept already."""
        with self._lock:
            entries = self._entries
            old = entries.get(rec.id)
            if old is not None and old.revision >= rec.revision:
                return
            entries[rec.id] = rec
            entries.move_to_end(rec.id)
            while len(entries) > self.size:
                entries.popitem(last=False)

    def discard(self, instance_id: str) -> None:
        """Forget ``instance_id``."""
        self._entries.pop(instance_id, None)

    def __contains__(self, instance_id: object) -> bool:
        return instance_id in self._entries

    def revision(self, instance_id: str) -> int | None:
        """The revision kept for ``instance_id`` (``None``: not kept)."""
        rec = self._entries.get(instance_id)
        return rec.revision if rec is not None else None

    def __len__(self) -> int:
        return len(self._entries)
