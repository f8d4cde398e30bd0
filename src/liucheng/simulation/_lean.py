"""The engine in a lean in-memory mode for simulation: same behaviours, no durable bookkeeping.

A simulated process runs the engine's own code for every element (:class:`~liucheng.engine.Engine`
and its :class:`~liucheng.engine._exec.Executor` decide what happens). What a durable store needs
and a simulation does not is left out:

* **live instance state.** The engine normally rebuilds an instance from its state document at
  the start of every command and serialises it again at the end (so a failed command leaves the
  store untouched). Here the runtime objects stay in memory between commands: no document is
  written or read. The simulator treats a command that fails after changing an instance as the
  end of the replication (:class:`LeanStateError`), so nothing ever sees a half-applied state.
* **no retry loop, no transaction context.** One thread, one store: a revision conflict cannot
  happen.
* **no variable index rows and no history** (the simulator records its own event log).

Task, job, external-task and subscription rows are written as usual: the simulator reads them
(:class:`~._sim_store.SimStore`) and the engine's commands look them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from liucheng.engine import ChangeSet, Engine
from liucheng.engine._exec import Executor
from liucheng.engine._expr import FEEL_CLOCK
from liucheng.engine.ports import Clock, InstanceRecord
from liucheng.errors import EngineError, LiuchengError, NotFoundError

if TYPE_CHECKING:
    from liucheng.engine._state import InstanceState

    from ._sim_store import SimStore

__all__ = ["LeanEngine", "LeanStateError", "deliver"]

T = TypeVar("T")


class LeanStateError(EngineError):
    """A command failed after it had changed a live instance: the replication cannot go on."""

    default_code = "simulation.engine.failed"


class _LeanRun(Executor):
    """One command over live instance objects (see the module docstring)."""

    live: dict[str, InstanceState]
    sim: SimStore

    def load(self, instance_id: str) -> InstanceState:
        """The live instance (no document to rebuild it from)."""
        st = self.insts.get(instance_id)
        if st is not None:
            return st
        st = self.live.get(instance_id)
        if st is None:
            raise NotFoundError(
                f"process instance '{instance_id}' does not exist or has ended",
                code="engine.instance.not_found",
            )
        st.dirty = False
        self.insts[instance_id] = st
        return st

    def finish(self) -> ChangeSet:
        """Instance inserts and deletes only; changed instances stay live as they are."""
        cs = self.cs
        live = self.live
        for st in self.insts.values():
            if st.ended is not None:
                # expected revision 0 when it started and ended within this command
                cs.instances_delete.append((st.id, st.revision))
                live.pop(st.id, None)
            elif not st.revision:
                cs.instances_insert.append(
                    InstanceRecord(
                        st.id,
                        st.definition_id,
                        st.graph.key,
                        st.business_key,
                        st.parent_id,
                        st.root_id,
                        "active",
                        st.started_at,
                        None,
                        0,
                        {},  # the live object is the state; SimStore builds a document on demand
                        st.has_incident,
                    )
                )
                st.revision = 1
                live[st.id] = st
        return cs


class LeanEngine(Engine):
    """:class:`~liucheng.engine.Engine` over a :class:`~._sim_store.SimStore` with live state.

    Args:
        store: The simulation store (it keeps the live instances, see ``SimStore.live``).
        clock: The virtual clock.
    """

    def __init__(self, store: SimStore, clock: Clock) -> None:
        super().__init__(store, clock=clock, history=False)
        self._sim = store
        self._tx = store.sim_tx
        #: Set when a command failed after changing a live instance. The engine's own callers
        #: may catch that error (a failing job becomes a retry or an incident), so the
        #: simulator checks this after every command and stops the replication.
        self.failure: LeanStateError | None = None

    def _command(self, fn: Callable[[Executor], T]) -> T:
        token = FEEL_CLOCK.set(self.clock.now)
        try:
            return self._command_loop(fn)
        finally:
            FEEL_CLOCK.reset(token)

    def _after_drain(self, run: Executor) -> None:
        # The engine's hook (SLA clocks) reads only the command's history events; a simulated
        # engine writes none, so there is nothing for it to do.
        if run.cs.history:
            super()._after_drain(run)

    def _command_loop(self, fn: Callable[[Executor], T]) -> T:
        run: Any = _LeanRun(self, self._tx, self.clock.now())
        run.live = self._sim.live
        run.sim = self._sim
        try:
            result = fn(run)
            run.drain(run.settle)
            self._after_drain(run)
            changes = run.finish()
        except LiuchengError as exc:
            changed = [st.id for st in run.insts.values() if st.dirty and st.revision]
            if changed:
                self.failure = LeanStateError(
                    f"a simulated command failed after changing instance {changed[0]}: {exc}",
                    hint="the model fails at run time; run it on the engine to see where",
                )
                raise self.failure from exc
            # nothing live was touched (the instances of this command are dropped with it)
            raise
        self._tx.apply_lean(changes)
        return result


def deliver(engine: Engine, subscription_id: str, variables: dict[str, Any]) -> bool:
    """Deliver the trigger one subscription waits for (its message or signal) to that wait only.

    A simulated wait (``scenario.events``) ends after its own sampled delay. Correlating by
    message name would be ambiguous when a case waits for the same message twice (two parallel
    branches: the engine refuses, ``engine.message.ambiguous``), and broadcasting a signal
    would end every other case's wait at this one's time. So the engine's
    :meth:`~liucheng.engine.Engine.deliver_to_subscription` fires exactly this subscription, as
    ``correlate_message`` / ``broadcast_signal`` do for each row they match.

    Args:
        engine: The engine (lean or full).
        subscription_id: The subscription row.
        variables: Payload set on the receiving instance (the routing draws).

    Returns:
        Whether the wait was still there to receive it.
    """
    return engine.deliver_to_subscription(subscription_id, variables)
