"""Workers: Python code that does the work of service tasks, in-process or as external tasks.

A :class:`Registry` collects handlers:

- ``@registry.service("name")`` — an in-process handler for service tasks that name it
  (``camunda:class``/``delegateExpression``/``implementation``); it runs inside the engine command.
- ``@registry.topic("topic")`` — an external-task handler: the :class:`ExternalTaskWorker`
  fetches and locks tasks of the topic, runs the handler outside any transaction (with the task id
  as idempotency key), and completes the task with the returned variables. Raise
  :class:`BpmnError` to throw a BPMN error; any other exception fails the task with a retry.

``liucheng worker --app module:registry`` runs both, plus the job executor, until SIGTERM.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from liucheng.engine import Engine, Handler, LockedExternalTask
from liucheng.errors import ConfigurationError, LiuchengError
from liucheng.store import EXTERNAL_TASK_CHANNEL, SqlStore

from .executor import default_owner

__all__ = ["BpmnError", "ExternalTaskHandler", "ExternalTaskWorker", "Registry", "load_registry"]

log = logging.getLogger("liucheng.worker")

ExternalTaskHandler = Callable[[LockedExternalTask], Mapping[str, Any] | None]


class BpmnError(Exception):
    """Raise from an external-task handler to throw a BPMN error with ``code``."""

    def __init__(
        self, code: str, message: str | None = None, variables: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})


@dataclass
class Registry:
    """Named in-process service handlers and external-task handlers by topic."""

    services: dict[str, Handler] = field(default_factory=dict)
    topics: dict[str, ExternalTaskHandler] = field(default_factory=dict)
    setups: list[Callable[[Engine], None]] = field(default_factory=list)

    def setup(self, fn: Callable[[Engine], None]) -> Callable[[Engine], None]:
        """Decorator: call ``fn(engine)`` when a worker starts (register SLAs, forms...).

        Whatever an engine keeps only in memory (SLA registrations, forms registered in code)
        must be set up the same way in every process that runs jobs, or those jobs fail.
        """
        self.setups.append(fn)
        return fn

    def service(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator: register an in-process service-task handler under ``name``."""

        def register(fn: Handler) -> Handler:
            self.services[name] = fn
            return fn

        return register

    def topic(self, name: str) -> Callable[[ExternalTaskHandler], ExternalTaskHandler]:
        """Decorator: register an external-task handler for topic ``name``."""

        def register(fn: ExternalTaskHandler) -> ExternalTaskHandler:
            self.topics[name] = fn
            return fn

        return register

    def install(self, engine: Engine) -> None:
        """Register the in-process service handlers on ``engine`` and run the setup hooks."""
        for name, fn in self.services.items():
            engine.register_handler(name, fn)
        for hook in self.setups:
            hook(engine)


def load_registry(spec: str) -> Registry:
    """Import ``module:attribute`` and return the :class:`Registry` it names.

    Raises:
        ConfigurationError: The module or attribute is missing or not a registry.
    """
    import importlib

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigurationError(
            f"handler spec {spec!r} is not module:attribute",
            code="worker.app",
            hint="e.g. --app myproject.handlers:registry",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import {module_name!r}: {exc}",
            code="worker.app",
            hint="check the module is on PYTHONPATH",
        ) from exc
    registry = getattr(module, attr, None)
    if not isinstance(registry, Registry):
        raise ConfigurationError(
            f"{spec!r} is not a liucheng.worker.Registry",
            code="worker.app",
            hint="create one with registry = liucheng.worker.Registry()",
        )
    return registry


class ExternalTaskWorker:
    """Fetches, locks and runs external tasks of the registered topics.

    Args:
        engine: The engine to talk to.
        registry: Topic handlers.
        worker_id: Lock owner id (default: host, pid, random suffix).
        max_tasks: Tasks fetched per topic and round.
        concurrency: Handler threads.
        lock_duration: How long a fetched task stays locked.
        poll_interval: Sleep between empty rounds (seconds); PostgreSQL notifications cut it.
        retries: Retries a failing task gets on its first failure.
        retry_timeout: Delay before a failed task may be fetched again.
    """

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        *,
        worker_id: str | None = None,
        max_tasks: int = 10,
        concurrency: int = 4,
        lock_duration: _dt.timedelta = _dt.timedelta(minutes=5),
        poll_interval: float = 2.0,
        retries: int = 3,
        retry_timeout: _dt.timedelta = _dt.timedelta(seconds=10),
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.worker_id = worker_id or default_owner()
        self.max_tasks = max_tasks
        self.concurrency = max(1, concurrency)
        self.lock_duration = lock_duration
        self.poll_interval = poll_interval
        self.retries = retries
        self.retry_timeout = retry_timeout
        self.completed = 0
        self.failed = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None

    def run_once(self) -> int:
        """Fetch and run one round of tasks for every topic; returns how many ran."""
        locked: list[LockedExternalTask] = []
        for topic in self.registry.topics:
            if self._stop.is_set():
                break
            locked.extend(
                self.engine.fetch_and_lock(
                    topic,
                    self.worker_id,
                    max_tasks=self.max_tasks,
                    lock_duration=self.lock_duration,
                )
            )
        if not locked:
            return 0
        if self.concurrency == 1 or len(locked) == 1:
            for task in locked:
                self._handle(task)
        else:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="lc-ext") as pool:
                list(pool.map(self._handle, locked))
        return len(locked)

    def _handle(self, task: LockedExternalTask) -> None:
        handler = self.registry.topics[task.topic]
        try:
            result = handler(task)
        except BpmnError as err:
            self._report(
                partial(
                    self.engine.external_task_bpmn_error,
                    task.id,
                    err.code,
                    self.worker_id,
                    message=err.message,
                    variables=err.variables,
                )
            )
            return
        except Exception as exc:  # handler code is the user's: every failure is reported
            retries = (task.retries if task.retries is not None else self.retries + 1) - 1
            self.failed += 1
            self._report(
                partial(
                    self.engine.fail_external_task,
                    task.id,
                    self.worker_id,
                    f"{type(exc).__name__}: {exc}",
                    retries=max(0, retries),
                    retry_timeout=self.retry_timeout,
                )
            )
            return
        if self._report(
            lambda: self.engine.complete_external_task(task.id, self.worker_id, dict(result or {}))
        ):
            self.completed += 1

    def _report(self, call: Callable[[], None]) -> bool:
        try:
            call()
        except LiuchengError as exc:
            # The lock expired and another worker took the task, or the instance moved on
            # (cancelled, interrupted by a boundary event): the result is not wanted any more.
            log.info("external task result refused: %s", exc)
            return False
        return True

    def run_forever(self) -> None:
        """Run rounds until :meth:`stop`; sleeps when idle, woken by PostgreSQL notifications."""
        store = self.engine.store
        if isinstance(store, SqlStore) and store.dialect == "postgresql" and not self._listener:
            self._listener = threading.Thread(
                target=self._listen_loop, args=(store,), name="lc-ext-listen", daemon=True
            )
            self._listener.start()
        while not self._stop.is_set():
            # cleared before the round, not after: a notification arriving during the round
            # must cause another round instead of waiting for the next poll
            self._wake.clear()
            try:
                ran = self.run_once()
            except LiuchengError as exc:
                log.warning("fetch-and-lock failed: %s", exc)
                ran = 0
            if ran == 0 and not self._stop.is_set():
                self._wake.wait(self.poll_interval)

    def _listen_loop(self, store: SqlStore) -> None:
        import psycopg

        url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {EXTERNAL_TASK_CHANNEL}")
                    # tasks created before LISTEN took effect sent no notification we receive
                    self._wake.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0, stop_after=1):
                            if note.payload in self.registry.topics:
                                self._wake.set()
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); polling meanwhile", exc)
                self._stop.wait(1.0)

    def start(self) -> None:
        """Run :meth:`run_forever` in a background thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name="lc-ext", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the running handlers finish."""
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._listener):
            if thread is not None:
                thread.join(timeout)
        self._thread = None
        self._listener = None
