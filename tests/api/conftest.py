"""A real server process per database (SQLite file, PostgreSQL), shared by the API tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import fresh_pg_database

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
ADMIN_PASSWORD = "admin-password-1"
PEOPLE = ("anna", "bob", "carl", "dev", "olga", "worker", "mallory")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``liucheng serve`` and tokens of the test people."""

    url: str
    backend: str
    proc: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)
    database: str = ""

    def client(self, user: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=60, **kw)


def start_server(database: str, workdir: Path, backend: str) -> Server:
    port = free_port()
    log = workdir / f"server-{backend}.log"
    env = {
        **os.environ,
        "LIUCHENG_ADMIN_USER": "admin",
        "LIUCHENG_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LIUCHENG_LOGIN_RATE": "5",
        "LIUCHENG_MAX_BODY_BYTES": str(2 * 1024 * 1024),
        "LIUCHENG_LONG_POLL_MAX_S": "5",
        "LIUCHENG_MAX_ATTACHMENT_BYTES": str(64 * 1024),
        "LIUCHENG_ORG_CHECK_S": "0.5",
        "LIUCHENG_APP": "tests.api.sla_app:registry",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    env.pop("LIUCHENG_CONFIG", None)
    cmd = [
        sys.executable,
        "-m",
        "liucheng.cli",
        "serve",
        "--database",
        database,
        "--port",
        str(port),
        "--policy",
        str(DATA / "policy.yaml"),
        "--insecure-cookies",
        "--log-level",
        "WARNING",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {log.read_text()[-3000:]}")
        time.sleep(0.3)
    server = Server(url, backend, proc, log, database=database)
    with httpx.Client(base_url=url + "/api/v1", timeout=60) as c:
        r = c.post(
            "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD, "mode": "token"}
        )
        r.raise_for_status()
        server.tokens["admin"] = r.json()["token"]
        h = {"Authorization": f"Bearer {server.tokens['admin']}"}
        r = c.put(
            "/org",
            content=(DATA / "org.yaml").read_bytes(),
            headers={**h, "content-type": "application/yaml"},
        )
        r.raise_for_status()
        for person in PEOPLE:
            r = c.post("/users", json={"id": person, "password": PASSWORD}, headers=h)
            r.raise_for_status()
            r = c.post(
                "/auth/login", json={"username": person, "password": PASSWORD, "mode": "token"}
            )
            r.raise_for_status()
            server.tokens[person] = r.json()["token"]
        for f in ("order.bpmn", "timer.bpmn", "discount.dmn", "refund.bpmn"):
            r = c.post(
                f"/deployments?name={f}",
                content=(DATA / f).read_bytes(),
                headers={**h, "content-type": "application/xml"},
            )
            r.raise_for_status()
    return server


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server with the test organisation, policy, users and models deployed."""
    workdir = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        srv = start_server(f"sqlite:///{workdir / 'lc.db'}", workdir, "sqlite")
        try:
            yield srv
        finally:
            stop_server(srv)
        return
    gen = fresh_pg_database("lc_api")
    url = next(gen)
    try:
        srv = start_server(url, workdir, "postgresql")
        try:
            yield srv
        finally:
            stop_server(srv)
    finally:
        gen.close()


def problem(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert a problem+json response of ``status`` (and ``code``)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert "Traceback" not in r.text
    if code is not None:
        assert body["code"] == code, body
    return body
