"""The engine's plumbing: configuration, the command loop, compiled graphs, decisions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from liucheng.errors import (
    ConcurrencyError,
    EngineError,
    NotFoundError,
)

from ._api import (
    HandlerContext,
)
from ._exec import Executor
from ._expr import FEEL_CLOCK
from ._graph import Graph, compile_process
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
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock or SystemClock()
        self.history_enabled = history
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.max_attempts = max_attempts
        #: Most steps one command may take before it is stopped as a runaway loop.
        self.max_steps = 1_000_000
        self._graphs: dict[str, Graph] = {}
        self._dmn: dict[str, Any] = {}
        #: The organisation (``liucheng.org.Organisation``) tasks are assigned in, if any.
        self.organisation: Any = organisation
        #: The authorisation policy (``liucheng.org.AuthorizationPolicy``) user views enforce.
        self.authorization: Any = authorization
        #: Business calendars by name (timers with ``liucheng:calendar``, SLA clocks).
        self.calendars: dict[str, Any] = dict(calendars or {})
        #: SLA registrations (see ``Engine.add_sla``).
        self.slas: list[Any] = []
        #: Form schemas registered in code: form key -> schema (form-js or JSON Schema).
        self.forms: dict[str, Any] = {}

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
        while True:
            attempt += 1
            try:
                with self.store.transaction() as tx:
                    run = Executor(cast("Engine", self), tx, self.clock.now())
                    result = fn(run)
                    run.drain(run.settle)
                    self._after_drain(run)
                    changes = run.finish()
                    if not changes.is_empty():
                        tx.apply(changes)
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

    def graph(self, definition_id: str, tx: Transaction | None = None) -> Graph:
        """The compiled process of a definition version (compiled once, cached)."""
        g = self._graphs.get(definition_id)
        if g is not None:
            return g
        if tx is None:
            with self.store.transaction() as tx2:
                return self.graph(definition_id, tx2)
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

    def decide(self, tx: Transaction, decision: Any, context: Mapping[str, Any]) -> Any:
        """Evaluate a deployed DMN decision (latest version) for a business rule task."""
        from liucheng.dmn import DmnModel, parse_dmn

        from ._expr import to_plain

        key = str(decision.value(context))
        rec = tx.latest_definition(key, "dmn")
        if rec is None:
            raise EngineError(
                f"decision '{key}' is not deployed",
                code="engine.decision.unknown",
                hint="deploy the DMN file together with the process",
            )
        model = self._dmn.get(rec.id)
        if model is None:
            dep = tx.get_deployment(rec.deployment_id)
            assert dep is not None
            model = DmnModel(parse_dmn(dep.resources[rec.resource_name], file=rec.resource_name))
            self._dmn[rec.id] = model
        result = model.decide(key, dict(context))
        if result.errors:
            raise EngineError(
                f"decision '{key}' failed: {'; '.join(result.errors)}",
                code="engine.decision.failed",
            )
        return to_plain(result.value)
