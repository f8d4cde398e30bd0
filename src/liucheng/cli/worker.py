"""``liucheng worker``: run jobs (timers, async steps) and external-task handlers until stopped."""

from __future__ import annotations

import datetime as _dt
import logging
import signal
import threading
from typing import Annotated

import typer

from ._app import app
from .db import DEFAULT_DATABASE


@app.command("worker")
def worker(
    database: Annotated[
        str,
        typer.Option("--database", "-d", envvar="LIUCHENG_DATABASE", help="Database URL."),
    ] = DEFAULT_DATABASE,
    app_spec: Annotated[
        str | None,
        typer.Option("--app", help="module:registry with service and external-task handlers."),
    ] = None,
    jobs: Annotated[bool, typer.Option(help="Run the job executor.")] = True,
    concurrency: Annotated[int, typer.Option(help="External-task handler threads.")] = 4,
    batch_size: Annotated[int, typer.Option(help="Jobs leased per round.")] = 10,
    lease_seconds: Annotated[
        float, typer.Option(help="Job lease and external-task lock length.")
    ] = 300.0,
    poll_seconds: Annotated[float, typer.Option(help="Longest sleep between rounds.")] = 5.0,
    worker_id: Annotated[str | None, typer.Option(help="Lock owner id.")] = None,
    org: Annotated[
        str | None,
        typer.Option(
            "--org",
            help="Organisation file (assignment, calendars, escalation). Optional: without "
            "it the organisation stored in the database is used (liucheng org import "
            "--database); with it, this file wins over the stored one.",
        ),
    ] = None,
) -> None:
    """Run the job executor and the external-task handlers of ``--app`` until SIGTERM/SIGINT.

    Shutdown is graceful: running jobs and handlers finish, unstarted leases are given back.
    """
    from liucheng.engine import Engine
    from liucheng.jobs import ExternalTaskWorker, JobExecutor, Registry, load_registry
    from liucheng.store import SqlStore

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    registry = load_registry(app_spec) if app_spec else Registry()
    store = SqlStore(database)
    engine = Engine(store)
    if org:
        from liucheng.org import load_organisation

        engine.set_organisation(load_organisation(org))
    registry.install(engine)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger("liucheng.worker").info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    executor = (
        JobExecutor(
            engine,
            owner=worker_id,
            batch_size=batch_size,
            lease=_dt.timedelta(seconds=lease_seconds),
            poll_interval=poll_seconds,
        )
        if jobs
        else None
    )
    external = (
        ExternalTaskWorker(
            engine,
            registry,
            worker_id=worker_id,
            concurrency=concurrency,
            lock_duration=_dt.timedelta(seconds=lease_seconds),
            poll_interval=min(poll_seconds, 2.0),
        )
        if registry.topics
        else None
    )
    if executor:
        executor.start()
    if external:
        external.start()
    typer.echo(
        f"worker {executor.owner if executor else worker_id} running "
        f"(jobs: {'on' if executor else 'off'}, topics: {sorted(registry.topics) or '-'})"
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if external:
            external.stop()
        if executor:
            executor.stop()
        store.dispose()
