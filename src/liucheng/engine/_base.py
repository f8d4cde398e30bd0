"""The engine's plumbing: configuration, the command loop, compiled graphs, decisions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from liucheng.errors import (
    ConcurrencyError,
    EngineError,
    LiuchengError,
    NotFoundError,
)

from ._api import (
    HandlerContext,
)
from ._decisions import DecisionCall, evaluate_decision
from ._exec import Executor
from ._expr import FEEL_CLOCK
from ._graph import Graph, compile_process
from ._orgstore import OrgAdmin, StoredOrganisation
from ._retry import in_transaction
from ._state import StateCache
from .memory import MemoryStore
from .ports import (
    Clock,
    Store,
    SystemClock,
    Transaction,
)

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["EngineBase", "Handler", "Source"]

T = TypeVar("T")
Handler = Callable[[HandlerContext], Any]
Source = str | Path | bytes | tuple[str, bytes]


class EngineBase:
    """Configuration and the command loop shared by the engine's parts (see :class:`Engine`)."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        clock: Clock | None = None,
        history: bool = True,
        handlers: Mapping[str, Handler] | None = None,
        max_attempts: int = 3,
        organisation: Any = None,
        authorization: Any = None,
        calendars: Mapping[str, Any] | None = None,
        org_refresh: float = 1.0,
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        #: Documents of the instances written last, for stores that ask for it (the SQL store:
        #: it skips reading and decoding the row; see ``_state.StateCache``).
        self.state_cache: StateCache | None = (
            StateCache() if getattr(self.store, "cache_instance_states", False) else None
        )
        #: The store's newest organisation revision (used when none is set on the engine).
        self.stored_org = StoredOrganisation(self.store, org_refresh)
        self.clock: Clock = clock or SystemClock()
        self.history_enabled = history
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.max_attempts = max_attempts
        #: Most steps one command may take before it is stopped as a runaway loop.
        self.max_steps = 1_000_000
        self._graphs: dict[str, Graph] = {}
        self._dmn: dict[str, Any] = {}
        self._organisation: Any = organisation
        #: The authorisation policy (``liucheng.org.AuthorizationPolicy``) user views enforce.
        self.authorization: Any = authorization
        #: Business calendars by name (timers with ``liucheng:calendar``, SLA clocks).
        self.calendars: dict[str, Any] = dict(calendars or {})
        #: SLA registrations (see ``Engine.add_sla``).
        self.slas: list[Any] = []
        #: Form schemas registered in code: form key -> schema (form-js or JSON Schema).
        self.forms: dict[str, Any] = {}
        #: What one-statement queries open transactions on (see ``QueriesMixin._query``).
        self._statements: Any = None

    @property
    def organisation(self) -> Any:
        """The organisation (``liucheng.org.Organisation``) tasks are assigned in, if any.

        The one set on this engine (``Engine(organisation=...)``, :meth:`set_organisation`,
        assignment) wins; otherwise the store's newest stored revision (docs/org.md), looked
        up at most every ``org_refresh`` seconds. Setting ``None`` goes back to the stored one.
        """
        explicit = self._organisation
        if explicit is not None:
            return explicit
        return self.stored_org.current()

    @organisation.setter
    def organisation(self, value: Any) -> None:
        self._organisation = value

    def org_admin(self, user: str | None = None, *, groups: Iterable[str] = ()) -> OrgAdmin:
        """Imports and edits of the organisation stored in this engine's store, as commands.

        Args:
            user: The acting person (the revisions' author; checked for ``org.admin`` on
                ``org`` when an authorisation policy is set).
            groups: The user's groups besides those of the organisation.
        """
        return OrgAdmin(cast("Engine", self), user, groups)

    # ================================================================== plumbing

    def register_handler(self, name: str, handler: Handler) -> None:
        """Register an in-process handler for service tasks that name it.

        A service task names its handler with ``camunda:class``, ``camunda:delegateExpression``,
        ``camunda:expression`` or ``implementation``; a script task with a non-FEEL
        ``scriptFormat`` uses the handler ``"script:<format>"``.
        """
        self.handlers[name] = handler

    def _command(self, fn: Callable[[Executor], T]) -> T:
        token = FEEL_CLOCK.set(self.clock.now)
        try:
            return self._command_loop(fn)
        finally:
            FEEL_CLOCK.reset(token)

    def _after_drain(self, run: Executor) -> None:
        """Hook run after every command's tokens settled (SLA clocks follow the lifecycle)."""

    def _command_loop(self, fn: Callable[[Executor], T]) -> T:
        attempt = 0
        fresh = False
        while True:
            attempt += 1
            run: Executor | None = None
            try:
                with self.store.transaction() as tx:
                    run = Executor(cast("Engine", self), tx, self.clock.now())
                    if fresh:
                        run.take = False
                    result = fn(run)
                    run.drain(run.settle)
                    self._after_drain(run)
                    changes = run.finish()
                    if not changes.is_empty():
                        tx.apply(changes)
                run.remember()
                return result
            except ConcurrencyError:
                if attempt >= self.max_attempts:
                    raise
            except RecursionError:
                raise EngineError(
                    "the command nests too deeply",
                    code="engine.recursion",
                    hint="check the model for unbounded nesting",
                ) from None
            except LiuchengError:
                # A command that started from cached documents may have been refused because
                # another engine changed one of them: then it runs once more from the stored
                # rows. (Only then: a handler's failure must not make it run twice.)
                if run is None or not run.from_cache or fresh or not self._stale(run):
                    raise
                fresh = True
                attempt -= 1

    def _stale(self, run: Executor) -> bool:
        """Whether a cached document ``run`` started from is no longer the stored one."""

        def stale(tx: Transaction) -> bool:
            for iid, cached in run.from_cache.items():
                rec = tx.get_instance(iid)
                if rec is None or rec.revision != cached.revision:
                    return True
            return False

        return in_transaction(self.store, stale, read=True)

    def graph(self, definition_id: str, tx: Transaction | None = None) -> Graph:
        """The compiled process of a definition version (compiled once, cached)."""
        g = self._graphs.get(definition_id)
        if g is not None:
            return g
        if tx is None:
            return in_transaction(self.store, lambda tx2: self.graph(definition_id, tx2))
        rec = tx.get_definition(definition_id)
        if rec is None:
            raise NotFoundError(
                f"process definition '{definition_id}' does not exist",
                code="engine.definition.not_found",
            )
        dep = tx.get_deployment(rec.deployment_id)
        if dep is None or rec.resource_name not in dep.resources:
            raise NotFoundError(
                f"the resource of process definition '{definition_id}' is missing",
                code="engine.definition.resource_missing",
            )
        from liucheng.model import parse_bpmn

        defs = parse_bpmn(dep.resources[rec.resource_name], filename=rec.resource_name)
        roots = {r.id: r for r in defs.root_elements if r.id}
        for p in defs.processes:
            if p.id == rec.key:
                g = compile_process(p, roots, file=rec.resource_name)
                self._graphs[definition_id] = g
                return g
        raise NotFoundError(
            f"process '{rec.key}' is not in '{rec.resource_name}'",
            code="engine.definition.not_found",
        )

    def decide(
        self,
        tx: Transaction,
        decision: DecisionCall,
        context: Mapping[str, Any],
        process: str | None = None,
    ) -> Any:
        """Evaluate the deployed DMN decision a business rule task calls (see ``._decisions``).

        Args:
            tx: The command's transaction.
            decision: The task's compiled decision call (binding, result mapping).
            context: The variables the task sees.
            process: The calling process definition id (for ``decisionRefBinding=deployment``).

        Returns:
            The result as the task's dialect maps it (``camunda:mapDecisionResult`` or Zeebe).
        """
        return evaluate_decision(self._dmn, tx, decision, context, process)
