"""Multi-instance activities: cardinality/collection, inner instances, completion condition.

A mixin of :class:`~._exec.Executor`, between it and :class:`~._activity_work.ActivityWorkMixin`.
"""

from __future__ import annotations

import sys
from typing import Any

from liucheng.errors import EngineError, LiuchengError

from ._activity_work import ActivityWorkMixin
from ._state import ASYNC_A, EI, GONE, WAIT, InstanceState

__all__ = ["MultiInstanceMixin"]

# sys.getrefcount of a list held by one dict entry and one local variable (plus the call's
# argument); without refcounts (not CPython) every list counts as shared.
_getrefcount = getattr(sys, "getrefcount", lambda obj: 1 << 30)
_SOLE = 3


class MultiInstanceMixin(ActivityWorkMixin):
    """The ``nrOf…``/``loopCounter`` bookkeeping of parallel and sequential bodies."""

    # ------------------------------------------------------------------ multi-instance

    def mi_start(self, st: InstanceState, body: EI) -> None:
        """Start the inner instances of a multi-instance body."""
        node = body.node
        assert node is not None
        assert node.mi is not None
        mi = node.mi
        try:
            ctx = self.context(body)
            items: list[Any] | None = None
            if mi.collection is not None:
                coll = mi.collection.value(ctx)
                # a missing (null) collection is an error, not an empty list (Camunda 7
                # raises, Zeebe opens an incident)
                if not isinstance(coll, list):
                    raise EngineError(
                        f"multi-instance collection of '{node.id}' is not a list: {coll!r}",
                        code="engine.mi.collection",
                        element_id=node.id,
                    )
                items = coll
                n = len(coll)
            elif mi.cardinality is not None:
                raw = mi.cardinality.value(ctx)
                n = int(raw)
            else:
                raise EngineError(
                    f"multi-instance activity '{node.id}' has neither cardinality nor collection",
                    code="engine.mi.undefined",
                    element_id=node.id,
                )
        except (LiuchengError, TypeError, ValueError) as exc:
            err = exc if isinstance(exc, LiuchengError) else EngineError(str(exc))
            self.incident(st, body, "execute", err)
            return
        body.state = WAIT
        body.vars = {
            "nrOfInstances": n,
            "nrOfCompletedInstances": 0,
            "nrOfActiveInstances": 0 if mi.sequential else n,
        }
        if mi.output_collection:
            body.vars[mi.output_collection] = [None] * n
        d = body.d()
        d["n"] = n
        if items is not None:
            d["items"] = items
        if n <= 0:
            self.push(self.mi_finish, st, body)
            return
        if mi.sequential:
            body.vars["nrOfActiveInstances"] = 1
            self.mi_inner(st, body, 0)
        else:
            for i in range(n):
                self.mi_inner(st, body, i)

    def mi_inner(self, st: InstanceState, body: EI, i: int) -> None:
        """Create inner instance number ``i`` of ``body``."""
        node = body.node
        assert node is not None
        assert node.mi is not None
        assert body.data is not None
        inner = st.new_ei(node, body)
        # Zeebe counts the n-th instance from 1 (BPMN 2.0 13.3.7), Camunda 7 from 0
        inner.vars = {"loopCounter": i + 1 if node.mi.zeebe else i}
        items = body.data.get("items")
        if items is not None and node.mi.element_var:
            inner.vars[node.mi.element_var] = items[i]
        self.push(self.activate, st, inner)

    def mi_inner_done(self, st: InstanceState, inner: EI) -> None:
        """One inner instance completed: collect output, check completion, go on."""
        body = inner.parent
        node = inner.node
        assert body is not None
        assert node is not None
        assert node.mi is not None
        mi = node.mi
        bvars = body.vars
        assert bvars is not None
        assert body.data is not None
        if mi.output_collection:
            out = mi.output_element
            # (no context kept in a local: it would hold the collection too, see below)
            value = out.value(self.context(inner)) if out is not None else None
            coll = bvars.get(mi.output_collection)
            if type(coll) is not list or _getrefcount(coll) > _SOLE:
                # a fresh list unless this one is referenced by the body's variables alone
                # (then changing it in place is the same, and n inner instances cost O(n), not
                # O(n^2)); a list shared with a cached document or any value is never changed
                coll = list(coll or [])
            idx = (inner.vars or {}).get("loopCounter", 0) - (1 if mi.zeebe else 0)
            if isinstance(idx, int) and 0 <= idx < len(coll):
                coll[idx] = value
            bvars[mi.output_collection] = coll
        bvars["nrOfCompletedInstances"] = bvars.get("nrOfCompletedInstances", 0) + 1
        bvars["nrOfActiveInstances"] = max(bvars.get("nrOfActiveInstances", 1) - 1, 0)
        loop = (inner.vars or {}).get("loopCounter", 0) - (1 if mi.zeebe else 0)
        done = False
        if mi.completion is not None:
            cctx = self.context(inner)
            if mi.zeebe:  # Zeebe's names of the body's counters
                cctx = dict(cctx)
                cctx["numberOfInstances"] = bvars.get("nrOfInstances", 0)
                cctx["numberOfCompletedInstances"] = bvars.get("nrOfCompletedInstances", 0)
                cctx["numberOfActiveInstances"] = bvars.get("nrOfActiveInstances", 0)
                cctx["numberOfTerminatedInstances"] = 0
            done = mi.completion.evaluate(cctx) is True
        self.end_ei(st, inner, completed=True)
        if done:
            for k in list(body.kids):
                self.terminate(st, k)
            self.mi_finish(st, body)
            return
        n = body.data.get("n", 0)
        if mi.sequential:
            if loop + 1 < n:
                bvars["nrOfActiveInstances"] = 1
                self.mi_inner(st, body, loop + 1)
                return
            self.mi_finish(st, body)
        elif not body.kids:
            self.mi_finish(st, body)

    def mi_finish(self, st: InstanceState, body: EI) -> None:
        """The multi-instance body completes."""
        if body.state == GONE:
            return
        node = body.node
        assert node is not None
        assert node.mi is not None
        if node.mi.output_collection and body.vars is not None and body.parent is not None:
            self.set_var(
                st, body.parent, node.mi.output_collection, body.vars[node.mi.output_collection]
            )
        if node.async_after:
            body.state = ASYNC_A
            self.new_job(st, body, "async-after")
            return
        self.leave(st, body)
