"""One command's execution context: loaded instances, the work queue, the change set.

A :class:`Run` loads what a command touches, runs every token until it waits (the behaviours
live in :mod:`._behaviour`), and turns the result into one :class:`~.ports.ChangeSet`.

On a store that asks for it (``cache_instance_states``: the SQL store) a command starts from the
document of the instance the engine wrote last (:class:`~._state.StateCache`) instead of reading
and decoding the row: the revision-checked write, or for an instance only read a revision check
at :meth:`Run.finish`, refuses a stale one, and the command loop retries from the rows.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from liucheng.errors import ConcurrencyError, EngineError, NotFoundError

from ._graph import Graph, Node
from ._state import EI, GONE, STABLE_TYPES, InstanceState, StateCache, ei_text
from .ports import ChangeSet, HistoryEvent, InstanceRecord, Transaction, VariableRecord

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Run", "new_id"]

# Ids: a random per-process prefix plus a counter - unique across processes, ordered within
# one, and much cheaper than uuid4 on the hot path.
_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)


def new_id() -> str:
    """A new globally unique id (process prefix + counter)."""
    return f"{_PREFIX}{next(_COUNTER):010x}"


class Run:
    """Execution context of one command (see the module docstring)."""

    def __init__(self, engine: Engine, tx: Transaction, now: _dt.datetime) -> None:
        self.engine = engine
        self.tx = tx
        self.now = now
        self.cs = ChangeSet()
        self.insts: dict[str, InstanceState] = {}
        self.queue: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self.history = engine.history_enabled
        self.hseq = 0
        self.var_changed: set[str] = set()
        #: (name, event) of the variable changes per instance since its conditions were last
        #: checked
        self.changed_names: dict[str, set[tuple[str, str]]] = {}
        self.root_vars: dict[str, set[str]] = {}
        self.signals: list[tuple[str, dict[str, Any] | None]] = []
        #: Inside a job, a failing step fails the job (retries, then an incident on the job)
        #: instead of opening an incident on the step.
        self.in_job = False
        #: The engine's cache of instance documents (``None``: read every instance from the
        #: store); the records this command took from it; instances whose command wrote a variable
        #: value a JSON round trip may change (never cached); the records written.
        self.cache: StateCache | None = engine.state_cache
        self.from_cache: dict[str, InstanceRecord] = {}
        self.take = True  # False: read every instance from the store, cache what it writes
        self.read: dict[str, InstanceRecord] = {}
        self.unstable: set[str] = set()
        self.written: list[tuple[InstanceRecord, int]] = []

    # ------------------------------------------------------------------ instances

    def load(self, instance_id: str) -> InstanceState:
        """The instance (loaded once per command).

        Raises:
            NotFoundError: No live instance has that id.
        """
        st = self.insts.get(instance_id)
        if st is not None:
            return st
        cache = self.cache
        rec = cache.take(instance_id) if cache is not None and self.take else None
        if rec is not None:
            self.from_cache[instance_id] = rec
            # the store writes only the state columns when the identity ones are as read
            known = getattr(self.tx, "known_instance", None)
            if known is not None:
                known(rec)
        else:
            rec = self.tx.get_instance(instance_id)
            if rec is not None and cache is not None:
                self.read[instance_id] = rec
        if rec is None:
            raise NotFoundError(
                f"process instance '{instance_id}' does not exist or has ended",
                code="engine.instance.not_found",
            )
        graph = self.engine.graph(rec.definition_id, self.tx)
        st = InstanceState.from_doc(
            rec.doc,
            graph,
            iid=rec.id,
            definition_id=rec.definition_id,
            business_key=rec.business_key,
            parent_id=rec.parent_id,
            root_id=rec.root_id,
            started_at=rec.started_at,
            revision=rec.revision,
        )
        st.has_incident = rec.has_incident
        st.dirty = False
        self.insts[instance_id] = st
        return st

    def new_instance(
        self,
        graph: Graph,
        definition_id: str,
        business_key: str | None,
        *,
        parent: InstanceState | None = None,
        parent_ei: EI | None = None,
    ) -> InstanceState:
        """A new (not yet started) instance."""
        iid = new_id()
        st = InstanceState(
            iid,
            graph,
            definition_id,
            business_key=business_key,
            parent_id=parent.id if parent else None,
            parent_ei=parent_ei.id if parent_ei else None,
            root_id=parent.root_id if parent else iid,
            started_at=self.now,
        )
        self.insts[iid] = st
        return st

    # ------------------------------------------------------------------ ids, history

    def new_id(self, st: InstanceState) -> str:
        """A fresh row id, unique and ordered within the instance."""
        st.seq += 1
        return f"{st.id}-{st.seq}"

    def hist(
        self,
        kind: str,
        st: InstanceState,
        node: Node | None = None,
        ei: EI | None = None,
        data: dict[str, Any] | None = None,
        *,
        element_id: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Append a history event."""
        if not self.history:
            return
        self.hseq += 1
        self.cs.history.append(
            HistoryEvent(
                kind,
                self.now,
                st.id,
                st.definition_id,
                element_id or (node.id if node is not None else None),
                node.type if node is not None else None,
                ei_text(ei.id) if ei is not None else None,
                actor,
                data,
                self.hseq,
            )
        )

    def hist_activity(
        self, kind: str, st: InstanceState, node: Node, ei: EI, data: dict[str, Any] | None
    ) -> None:
        """Append an activity event (the hot path of :meth:`hist`)."""
        self.hseq += 1
        self.cs.history.append(
            HistoryEvent(
                kind,
                self.now,
                st.id,
                st.definition_id,
                node.id,
                node.type,
                ei_text(ei.id),
                None,
                data,
                self.hseq,
            )
        )

    # ------------------------------------------------------------------ variables

    def context(self, ei: EI) -> dict[str, Any]:
        """Every variable visible at ``ei`` (inner scopes shadow outer ones)."""
        parent = ei.parent
        if not ei.vars and parent is not None and parent.parent is None and parent.vars:
            return parent.vars  # a token directly in the process: the process variables
        chain: list[dict[str, Any]] = []
        cur: EI | None = ei
        while cur is not None:
            if cur.vars:
                chain.append(cur.vars)
            cur = cur.parent
        if len(chain) == 1:
            return chain[0]
        out: dict[str, Any] = {}
        for v in reversed(chain):
            out.update(v)
        return out

    def set_var(self, st: InstanceState, ei: EI, name: str, value: Any) -> None:
        """Set a variable where it is defined (nearest scope), else on the process."""
        cur: EI | None = ei
        while cur is not None:
            if cur.vars is not None and name in cur.vars:
                cur.vars[name] = value
                self._var_event(st, cur, name, value, "update")
                return
            if cur.parent is None:
                break
            cur = cur.parent
        root = st.root
        assert root.vars is not None
        root.vars[name] = value
        self._var_event(st, root, name, value, "create")

    def set_local(self, st: InstanceState, ei: EI, name: str, value: Any) -> None:
        """Set a variable on ``ei`` itself."""
        if ei.vars is None:
            ei.vars = {}
        event = "update" if name in ei.vars else "create"
        ei.vars[name] = value
        self._var_event(st, ei, name, value, event)

    def remove_local(self, st: InstanceState, ei: EI, name: str) -> bool:
        """Remove a variable of ``ei`` itself; whether it existed."""
        if not ei.vars or name not in ei.vars:
            return False
        del ei.vars[name]
        self._var_event(st, ei, name, None, "delete")
        return True

    def _var_event(self, st: InstanceState, scope: EI, name: str, value: Any, event: str) -> None:
        st.dirty = True
        if type(value) not in STABLE_TYPES:
            self.unstable.add(st.id)
        self.var_changed.add(st.id)
        if st.graph.has_conditionals:
            # (name, create/update/delete): what camunda:variableName/variableEvents filter on
            changed = self.changed_names.get(st.id)
            if changed is None:
                changed = self.changed_names[st.id] = set()
            changed.add((name, event))
        if scope.parent is None:
            # index rows and history are written once per command with the final value
            names = self.root_vars.get(st.id)
            if names is None:
                names = self.root_vars[st.id] = set()
            names.add(name)

    # ------------------------------------------------------------------ queue

    def push(self, fn: Callable[..., None], *args: Any) -> None:
        """Schedule a step."""
        self.queue.append((fn, args))

    def drain(self, settle: Callable[[], bool]) -> None:
        """Run queued steps until nothing is left and ``settle`` finds nothing more to do.

        Steps run depth first, as if each step called the ones it schedules: everything a
        step schedules runs before the steps scheduled earlier by its caller. This is the
        order in which BPMN engines traditionally execute (one parallel branch, one
        multi-instance instance after the other, each until it waits).
        """
        stack: list[deque[tuple[Callable[..., None], tuple[Any, ...]]]] = [self.queue]
        frame: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        steps = 0
        limit = self.engine.max_steps
        while True:
            while stack:
                top = stack[-1]
                if not top:
                    stack.pop()
                    continue
                steps += 1
                if steps > limit:
                    raise EngineError(
                        f"the command did not come to rest after {limit} steps",
                        code="engine.runaway",
                        hint="the model loops without a wait state; add a condition that ends "
                        "the loop or a wait state inside it",
                    )
                fn, args = top.popleft()
                self.queue = frame
                fn(*args)
                if frame:
                    if top:
                        stack.append(frame)
                        frame = deque()
                    else:
                        # the step was its frame's last: its steps take that frame's place, and
                        # the emptied deque collects the next step's (no allocation per step)
                        stack[-1] = frame
                        frame = top
            self.queue = frame
            if not settle():
                break
            stack.append(frame)
            frame = deque()

    # ------------------------------------------------------------------ commit

    def finish(self) -> ChangeSet:
        """Write every changed instance into the change set and return it."""
        cs = self.cs
        cache = self.cache
        if cache is not None:
            self._check_cached()
        for st in self.insts.values():
            names = self.root_vars.get(st.id)
            if names:
                rvars = st.root.vars or {}
                for name in sorted(names):
                    if name not in rvars:  # removed (set_variables(remove=...))
                        if self.history:
                            data = {"name": name, "value": None, "deleted": True}
                            self.hist("variable", st, None, None, data)
                        cs.delete("variable", f"{st.id}/{name}")
                        continue
                    value = rvars[name]
                    if self.history:
                        self.hist("variable", st, None, None, {"name": name, "value": value})
                    if st.ended is None:
                        cs.upsert("variable", VariableRecord(f"{st.id}/{name}", st.id, name, value))
            if not st.dirty and st.ended is None:
                read = self.read.get(st.id) if cache is not None else None
                if read is not None:
                    # as stored (from_doc copied what the command may change)
                    self.written.append((read, read.revision))
                continue
            if st.ended is not None:
                if st.revision:
                    cs.instances_delete.append((st.id, st.revision))
                    for name in st.root.vars or ():
                        cs.delete("variable", f"{st.id}/{name}")
                continue
            rec = InstanceRecord(
                st.id,
                st.definition_id,
                st.graph.key,
                st.business_key,
                st.parent_id,
                st.root_id,
                "active",
                st.started_at,
                None,
                st.revision,
                st.to_doc(),
                st.has_incident,
            )
            if st.revision:
                cs.instances_update.append((rec, st.revision))
            else:
                cs.instances_insert.append(rec)
            if cache is not None and st.id not in self.unstable:
                self.written.append((rec, st.revision + 1))
        return cs

    def _check_cached(self) -> None:
        """Check the revision of each cached instance this command read but does not write.

        A write checks the revision itself; an instance only read would otherwise let a stale
        cached document decide the command.

        Raises:
            ConcurrencyError: The stored revision differs (the retry reads the row).
        """
        for iid, cached in self.from_cache.items():
            st = self.insts[iid]
            if st.dirty or st.ended is not None:
                continue
            rec = self.tx.get_instance(iid)
            if rec is None or rec.revision != cached.revision:
                raise ConcurrencyError(
                    f"process instance {iid} changed since this engine cached it",
                    code="store.conflict",
                )
            # current: back into the cache after the commit (from_doc copied what changed)
            self.written.append((cached, cached.revision))

    def remember(self) -> None:
        """Keep the instances this command wrote in the engine's cache (after the commit)."""
        cache = self.cache
        if cache is None:
            return
        for rec, revision in self.written:
            # the store wrote revision + 1 (1 for a new instance)
            rec.revision = revision
            cache.put(rec)

    # ------------------------------------------------------------------ helpers

    def find_ei(self, st: InstanceState, eid: str | int) -> EI:
        """An element instance by id.

        Raises:
            EngineError: It does not exist (any more).
        """
        try:
            ei = st.eis.get(int(eid))
        except ValueError:
            ei = None
        if ei is None or ei.state == GONE:
            raise EngineError(
                f"element instance {eid} of process instance {st.id} is not active",
                code="engine.element_instance.gone",
                hint="the token has moved on; reload the instance",
            )
        return ei
