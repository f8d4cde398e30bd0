"""Security and operations hygiene not covered elsewhere: no stack traces to clients (with the
trace in the JSON log instead), secure cookie flags by default, CORS only for configured
origins, XML protections on every XML upload, graceful shutdown and structured logs of a real
``liucheng serve`` process.

Covered in other files: body size limits and CORS off by default (test_platform), settings by
file and environment (test_units), DOCTYPE refusal on deployments (test_platform).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from liucheng.api import Settings, create_app
from liucheng.api._app import JsonLogFormatter
from tests.api.conftest import ROOT, Server, launch_serve, problem

_EVIL = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><definitions>&b;</definitions>'
)


def _run(app: Any, calls: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(
            app=app, client=("127.0.0.1", 40000), raise_app_exceptions=False
        )
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="https://lc") as c:
            for method, url, kw in calls:
                out.append(await c.request(method, url, **kw))
        return out

    return asyncio.run(go())


def test_unexpected_errors_show_no_stack_trace_but_log_it(tmp_path: Path) -> None:
    app = create_app(Settings(database=f"sqlite:///{tmp_path / 'e.db'}", run_jobs=False))

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/liucheng/db-password")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("liucheng.api")
    logger.addHandler(handler)
    try:
        (r,) = _run(app, [("GET", "/api/v1/boom", {})])
    finally:
        logger.removeHandler(handler)
        app.state.services.stop()
    body = problem(r, 500, "internal")
    assert "secret" not in r.text and "RuntimeError" not in r.text and "File " not in r.text
    ref = body["detail"].split("reference ")[1].rstrip(")")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    logged = [e for e in lines if e.get("ref") == ref]
    assert logged and logged[0]["level"] == "error" and logged[0]["path"] == "/api/v1/boom"
    assert "RuntimeError: secret detail" in logged[0]["exc"]  # the trace is for operators


def test_session_cookie_flags_are_secure_by_default(tmp_path: Path) -> None:
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'c.db'}",
        run_jobs=False,
        admin_user="root",
        admin_password="root-password-1",
    )
    assert settings.cookie_secure is True and settings.cors_origins == ()
    app = create_app(settings)
    app.state.services.bootstrap()
    try:
        (r,) = _run(
            app,
            [
                (
                    "POST",
                    "/api/v1/auth/login",
                    {"json": {"username": "root", "password": "root-password-1"}},
                )
            ],
        )
    finally:
        app.state.services.stop()
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite", "path"} <= flags, cookie
    assert "samesite=strict" in cookie.lower()
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_cors_allows_only_the_configured_origins(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            database=f"sqlite:///{tmp_path / 'o.db'}",
            run_jobs=False,
            cors_origins=("https://ui.example",),
        )
    )
    pre = {"Access-Control-Request-Method": "GET"}
    try:
        good, evil = _run(
            app,
            [
                ("OPTIONS", "/api/v1/tasks", {"headers": {"Origin": "https://ui.example", **pre}}),
                (
                    "OPTIONS",
                    "/api/v1/tasks",
                    {"headers": {"Origin": "https://evil.example", **pre}},
                ),
            ],
        )
    finally:
        app.state.services.stop()
    assert good.headers.get("access-control-allow-origin") == "https://ui.example"
    assert "access-control-allow-origin" not in evil.headers


def test_xml_protections_on_every_xml_upload(server: Server) -> None:
    """Entity expansion (billion laughs) and DTDs are refused on deployments and model drafts."""
    with server.client("dev") as dev:
        problem(
            dev.post("/deployments", content=_EVIL, headers={"content-type": "application/xml"}),
            422,
            "xml.doctype",
        )
        r = dev.post("/deployments", files={"f": ("x.bpmn", _EVIL, "application/xml")})
        problem(r, 422, "xml.doctype")
        r = dev.post("/models", json={"xml": _EVIL.decode()})
        assert r.status_code == 422 and r.json()["code"] == "xml.doctype", r.text
        assert dev.get("/models/d").status_code == 404  # nothing was stored


def _wait_until_read(pid: int, port: int, client_port: int) -> None:
    """Wait until process ``pid`` has accepted the connection from ``client_port`` and read
    everything sent on it (Linux ``/proc``; elsewhere a generous pause instead)."""
    if not Path("/proc/net/tcp").exists():  # pragma: no cover - not Linux
        time.sleep(3.0)
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        unread = {}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            if Path(table).exists():
                for line in Path(table).read_text().splitlines()[1:]:
                    cols = line.split()
                    local, remote = (int(c.rsplit(":", 1)[1], 16) for c in cols[1:3])
                    if (local, remote) == (port, client_port):
                        unread[f"socket:[{cols[9]}]"] = int(cols[4].split(":")[1], 16)
        owned = set()
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except PermissionError:  # pragma: no cover - a /proc we may not look into
            time.sleep(3.0)
            return
        for fd in fds:
            try:
                owned.add(os.readlink(fd))
            except OSError:  # closed meanwhile
                continue
        if any(inode in owned and left == 0 for inode, left in unread.items()):
            return
        time.sleep(0.05)
    raise AssertionError("the server did not read the request within 60 s")


def test_graceful_shutdown_and_json_logs(tmp_path: Path) -> None:
    """SIGTERM: the request in flight (a long poll) is answered, then the process stops;
    every log line is one JSON object (start, access log, stop)."""
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "LIUCHENG_ADMIN_USER": "admin",
        "LIUCHENG_ADMIN_PASSWORD": "admin-password-1",
        "LIUCHENG_LONG_POLL_MAX_S": "10",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    env.pop("LIUCHENG_CONFIG", None)
    args = ["--database", f"sqlite:///{tmp_path / 'g.db'}", "--log-level", "INFO"]
    proc, url = launch_serve(args, env, log, tmp_path)
    try:
        r = httpx.post(
            url + "/api/v1/auth/login",
            json={"username": "admin", "password": "admin-password-1", "mode": "token"},
            timeout=60,
        )
        token = r.json()["token"]
        body = json.dumps(
            {"worker_id": "w", "topics": [{"name": "nothing"}], "async_response_timeout_ms": 4000}
        ).encode()
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(
                b"POST /api/v1/external-tasks/fetch-and-lock HTTP/1.1\r\n"
                + f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n".encode()
                + b"Content-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            # SIGTERM only once the server has read the request: a connection it has not yet
            # accepted (slow on a loaded machine) would be refused, not answered
            _wait_until_read(proc.pid, port, conn.getsockname()[1])
            proc.send_signal(signal.SIGTERM)
            raw = b""
            while chunk := conn.recv(65536):
                raw += chunk
        head, _, payload = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), raw[:3000]
        assert json.loads(payload) == {"items": []}
        # uvicorn re-raises the signal it caught once shutdown is complete (exit by SIGTERM);
        # "server stopped" below shows the lifespan shutdown ran to its end
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    msgs = [e["msg"] for e in entries]
    assert "server started" in msgs and "server stopped" in msgs, text[-3000:]
    assert msgs.index("server stopped") > msgs.index("server started")
    access = [e for e in entries if e["logger"] == "liucheng.api.access"]
    assert {"method", "route", "status", "ms", "user"} <= set(access[-1])
    assert any(e["route"] == "/api/v1/external-tasks/fetch-and-lock" for e in access), access
    assert not any("admin-password-1" in line for line in text.splitlines())


@pytest.mark.parametrize("name", ["x.bpmn"])
def test_upload_names_cannot_escape(server: Server, name: str) -> None:
    """A resource named with a path is stored under its base name only."""
    with server.client("dev") as dev:
        xml = (Path(__file__).parent / "data" / "timer.bpmn").read_text()
        xml = xml.replace("order_timer", "order_pathname")
        r = dev.post(
            "/deployments", files={"f": (f"../../etc/{name}", xml.encode(), "application/xml")}
        )
        assert r.status_code == 201, r.text
        names = json.dumps(r.json())
        assert "../" not in names and "/etc/" not in names
