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


def listens(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the listening socket of ``port`` (None: cannot tell)."""
    tables = [Path(t) for t in ("/proc/net/tcp", "/proc/net/tcp6") if Path(t).exists()]
    if not tables:  # not Linux
        return None
    inodes = set()
    for table in tables:
        for line in table.read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # the process is gone
        return False
    except OSError:  # not ours to look into
        return None
    for fd in fds:
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


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


def launch_serve(
    args: list[str], env: dict[str, str], log: Path, cwd: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``liucheng serve`` with ``args`` on a free port; return it and its URL once healthy.

    :func:`free_port` only finds a port that was free a moment ago: another process may take
    it before the server binds it (after its startup, seconds later on a loaded machine). Then
    the server exits with "address already in use" and it is started again on another port.
    """
    for attempt in range(5):
        port = free_port()
        cmd = [sys.executable, "-m", "liucheng.cli", "serve", *args, "--port", str(port)]
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                text = log.read_text()
                if "address already in use" in text.lower() and attempt < 4:
                    break
                pytest.fail(f"server exited: {text[-3000:]}")
            try:
                healthy = httpx.get(url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                healthy = False
            # another server that won the race for the port answers too: wait for our own
            if healthy and listens(proc.pid, port) is not False:
                return proc, url
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
    raise AssertionError("unreachable")  # pragma: no cover


def start_server(database: str, workdir: Path, backend: str) -> Server:
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
    args = [
        "--database",
        database,
        "--policy",
        str(DATA / "policy.yaml"),
        "--insecure-cookies",
        "--log-level",
        "WARNING",
    ]
    proc, url = launch_serve(args, env, log, workdir)
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
