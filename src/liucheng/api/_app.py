"""The application factory: routes under ``/api/v1``, middleware, logging, health, metrics."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liucheng.engine import Engine
from liucheng.store._retry import in_connection

from ._core import Services
from ._http import PROBLEM_RESPONSES, RETRY_AFTER_S, install_error_handlers, problem_response
from ._metrics import Metrics
from ._settings import Settings

__all__ = [
    "API_PREFIX",
    "JsonLogFormatter",
    "configure_logging",
    "create_app",
    "create_app_from_env",
]

API_PREFIX = "/api/v1"
log = logging.getLogger("liucheng.api")
access_log = logging.getLogger("liucheng.api.access")
_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


_AUDIT_WAIT_S = 10.0


def route_template(scope: Scope) -> str | None:
    """The matched route's path template with the API prefix (``/api/v1/tasks/{task_id}``).

    Routers included under a prefix may carry their template without it in ``scope["route"]``
    (FastAPI's included-router routes); the label for logs, metrics and the audit log is the
    full template either way.
    """
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str):
        return None
    path = str(scope.get("path", ""))
    if path.startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX + "/"):
        return API_PREFIX + template
    return template


def _settle(future: asyncio.Future[bool], ok: bool) -> None:
    if not future.done():
        future.set_result(ok)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log line (``extra={"lc": {...}}`` fields are merged in)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "lc", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send Liucheng's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    for name in ("liucheng", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers = [handler]
        lg.setLevel(level)
        lg.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # our access log replaces it


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes (413), also when sent without a length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    resp = problem_response(
                        413,
                        "http.too_large",
                        f"the request body is over {self.limit} bytes",
                        instance=scope.get("path"),
                    )
                    await resp(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise StarletteHTTPException(
                        413, f"the request body is over {self.limit} bytes"
                    )
            return message

        await self.app(scope, limited, send)


class SecurityHeadersMiddleware:
    """Hardening headers on every response."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                extra = [h for h in self.HEADERS if h[0] not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, wrapped)


class ObserveMiddleware:
    """Access log (JSON), request metrics, and the audit entry of every changing call."""

    def __init__(self, app: ASGIApp, services: Services, metrics: Metrics) -> None:
        self.app = app
        self.svc = services
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                written = self._audit(scope, status)
                if written is not None:
                    # The answer leaves only once its audit entry is committed (group commit).
                    try:
                        ok = await asyncio.wait_for(written, _AUDIT_WAIT_S)
                    except TimeoutError:
                        ok = False
                    if not ok:
                        log.error("audit entry not confirmed for %s", scope.get("path"))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self._observe(scope, status, time.perf_counter() - start)

    def _audit(self, scope: Scope, status: int) -> asyncio.Future[bool] | None:
        method = str(scope.get("method", ""))
        route = route_template(scope)
        if method not in _CHANGING or route is None:
            return None
        state = scope.get("state") or {}
        client = scope.get("client")
        loop = asyncio.get_running_loop()
        written: asyncio.Future[bool] = loop.create_future()

        def confirm(ok: bool) -> None:
            loop.call_soon_threadsafe(_settle, written, ok)

        self.svc.audit(
            actor=state.get("actor") if isinstance(state, dict) else None,
            method=method,
            path=str(scope.get("path", "")),
            status=status,
            ip=client[0] if client else None,
            detail={"route": route, "ok": status < 400},
            on_written=confirm,
        )
        return written

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = str(scope.get("method", ""))
        route = route_template(scope) or "<unmatched>"
        self.metrics.observe(method, route, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            state = scope.get("state") or {}
            access_log.info(
                "request",
                extra={
                    "lc": {
                        "method": method,
                        "path": str(scope.get("path", "")),
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "user": state.get("actor") if isinstance(state, dict) else None,
                    }
                },
            )


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The Liucheng REST application.

    Args:
        settings: Server settings (default: :meth:`Settings.from_env`).
        engine: Serve this engine (its store must be a :class:`~liucheng.store.SqlStore`)
            instead of one on ``settings.database``.

    Returns:
        A FastAPI (ASGI) application; run it with uvicorn (``liucheng serve``).
    """
    settings = settings or Settings.from_env()
    svc = Services(settings, engine)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(svc.start)
        log.info("server started", extra={"lc": {"database": svc.store.dialect}})
        try:
            yield
        finally:
            await run_in_threadpool(svc.stop)
            log.info("server stopped")

    app = FastAPI(
        title="Liucheng",
        version="1",
        description="Liucheng (流程) process platform: BPMN/DMN engine, tasks, organisation.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.metrics = metrics
    install_error_handlers(app)

    from . import (
        _lifecycle,
        _r_auth,
        _r_control,
        _r_definitions,
        _r_ops,
        _r_org,
        _r_runtime,
        _r_tasks,
    )

    routers = (
        _r_auth,
        _r_definitions,
        _r_runtime,
        _r_tasks,
        _r_ops,
        _r_org,
        _r_control,
        _lifecycle,
    )
    for module in routers:
        app.include_router(module.router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)

    @app.get("/health", tags=["operations"], summary="Liveness and database check")
    def health(request: Request) -> Any:
        try:
            # (a pooled connection the server dropped is not an outage: one more try)
            in_connection(svc.db, lambda c: c.execute(text("SELECT 1")))
        except Exception as exc:
            log.warning("health check failed", extra={"lc": {"error": str(exc)[:200]}})
            return problem_response(
                503,
                "store.unavailable",
                "the database does not answer",
                instance=request.url.path,
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        return {"status": "ok", "database": svc.store.dialect}

    app.add_api_route(f"{API_PREFIX}/health", health, methods=["GET"], tags=["operations"])

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def prometheus(request: Request) -> Response:
        """Open to loopback clients unless ``metrics_token`` is set; then that bearer token is
        required from everyone."""
        token = settings.metrics_token
        if token:
            given = request.headers.get("authorization", "")
            scheme, _, secret = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                secret.strip().encode(), token.encode()
            ):
                return problem_response(
                    401,
                    "auth.required",
                    "the metrics need the metrics token (Authorization: Bearer ...)",
                    instance=request.url.path,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        else:
            host = request.client.host if request.client else ""
            if host not in _LOOPBACK:
                return problem_response(
                    403,
                    "auth.forbidden",
                    "the metrics are open to loopback clients only (set metrics_token)",
                    instance=request.url.path,
                )
        return Response(metrics.render(svc), media_type="text/plain; version=0.0.4; charset=utf-8")

    app.add_middleware(ObserveMiddleware, services=svc, metrics=metrics)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


def create_app_from_env() -> FastAPI:
    """The application with :meth:`Settings.from_env` and JSON logs (uvicorn worker factory)."""
    import os

    configure_logging(os.environ.get("LIUCHENG_LOG_LEVEL", "INFO"))
    return create_app(Settings.from_env())
