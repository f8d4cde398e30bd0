"""REST API load: 50 concurrent clients start instances and complete tasks on PostgreSQL.

A `liucheng serve` process runs on loopback against a fresh PostgreSQL database. Each client is
its own user (a member of the group the task is offered to) and loops for a fixed time: start an
instance, find its task, claim it, complete it (four requests). Reported, one JSON line each:
requests/s, completed instances/s, p50/p99 latency per request kind, errors (must be 0) and lost
work (instances started but not completed, or completed twice; must be 0).

Usage: python bench/api/bench_api.py [--clients 50] [--seconds 20] [--server-workers 1]
       [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

ADMIN_DB = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password-1"
MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://liucheng/bench">
  <process id="bench_order" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <userTask id="work" name="Work" camunda:candidateGroups="bench-agents"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""
POLICY = """grants:
  - {action: process.start, resource: "process:bench_*", group: bench-agents}
  - {action: history.read, resource: "history:bench_*", group: bench-agents}
"""


def _fresh_database(admin: str) -> tuple[str, str]:
    name = f"lc_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name, name


def _drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _emit(figure: str, value: float, unit: str, **extra: Any) -> None:
    print(json.dumps({"bench": "api", "figure": figure, "value": value, "unit": unit, **extra}))


def errors_seen(work: Path) -> bool:
    """Whether the server logged errors (its folder is then kept for inspection)."""
    log = work / "server.log"
    return log.exists() and '"level": "error"' in log.read_text(errors="replace")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Client:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.latency: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.started: list[str] = []
        self.completed: list[str] = []

    async def call(self, kind: str, method: str, path: str, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            r = await self.http.request(method, path, headers=self.headers, **kw)
        except httpx.HTTPError as exc:
            self.errors.append(f"{kind}: {exc!r}")
            return None
        self.latency.setdefault(kind, []).append(time.perf_counter() - t0)
        if r.status_code >= 300:
            self.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
            return None
        return r.json()

    async def loop(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            started = await self.call(
                "start", "POST", "/process-instances", json={"key": "bench_order"}
            )
            if started is None:
                continue
            pid = started["id"]
            self.started.append(pid)
            tasks = await self.call("task_list", "GET", "/tasks", params={"instance_id": pid})
            if not tasks or not tasks["items"]:
                self.errors.append(f"no task for {pid}")
                continue
            task_id = tasks["items"][0]["id"]
            if await self.call("claim", "POST", f"/tasks/{task_id}/claim") is None:
                continue
            done = await self.call(
                "complete", "POST", f"/tasks/{task_id}/complete", json={"variables": {"ok": True}}
            )
            if done is not None:
                self.completed.append(pid)


async def _run(url: str, tokens: list[str], seconds: float) -> list[Client]:
    limits = httpx.Limits(max_connections=len(tokens) + 5, max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=60, limits=limits) as http:
        clients = [Client(http, t) for t in tokens]
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(c.loop(deadline) for c in clients))
    return clients


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--server-workers", type=int, default=1, help="liucheng serve --workers")
    ap.add_argument(
        "--database", default=None, help="database URL (default: a fresh PostgreSQL DB)"
    )
    ap.add_argument("--admin-db", default=os.environ.get("LIUCHENG_TEST_PG", ADMIN_DB))
    args = ap.parse_args()

    dropped: str | None = None
    database = args.database
    if database is None:
        database, dropped = _fresh_database(args.admin_db)
    work = Path(tempfile.mkdtemp(prefix="lc-bench-api-"))
    (work / "policy.yaml").write_text(POLICY)
    port = _free_port()
    env = {
        **os.environ,
        "LIUCHENG_ADMIN_USER": "admin",
        "LIUCHENG_ADMIN_PASSWORD": PASSWORD,
    }
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liucheng.cli",
            "serve",
            "--database",
            database,
            "--port",
            str(port),
            "--policy",
            str(work / "policy.yaml"),
            "--insecure-cookies",
            "--log-level",
            "WARNING",
            "--workers",
            str(args.server_workers),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=url + "/api/v1", timeout=60) as c:
            r = c.post(
                "/auth/login", json={"username": "admin", "password": PASSWORD, "mode": "token"}
            )
            admin = {"Authorization": f"Bearer {r.json()['token']}"}
            c.post(
                "/deployments?name=bench.bpmn",
                content=MODEL.encode(),
                headers={**admin, "content-type": "application/xml"},
            ).raise_for_status()
            tokens = []
            for i in range(args.clients):
                uid = f"agent{i:03d}"
                c.post(
                    "/users",
                    json={"id": uid, "password": PASSWORD, "groups": ["bench-agents"]},
                    headers=admin,
                ).raise_for_status()
                r = c.post(
                    "/auth/login", json={"username": uid, "password": PASSWORD, "mode": "token"}
                )
                r.raise_for_status()
                tokens.append(r.json()["token"])
        t0 = time.perf_counter()
        clients = asyncio.run(_run(url, tokens, args.seconds))
        elapsed = time.perf_counter() - t0
        with httpx.Client(base_url=url + "/api/v1", timeout=120, headers=admin) as c:
            live = c.get("/process-instances", params={"key": "bench_order", "limit": 1}).json()[
                "total"
            ]
            ended = c.get("/history", params={"kind": "process_end", "limit": 1}).json()["total"]
            open_tasks = c.get("/tasks", params={"process_key": "bench_order", "limit": 1}).json()[
                "total"
            ]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if not errors_seen(work):
            shutil.rmtree(work, ignore_errors=True)
        if dropped:
            _drop_database(args.admin_db, dropped)

    started = [p for c in clients for p in c.started]
    completed = [p for c in clients for p in c.completed]
    errors = [e for c in clients for e in c.errors]
    requests = sum(len(v) for c in clients for v in c.latency.values())
    # Lost work: an instance the API said it started and completed that is not ended in history,
    # or started instances left behind without their client having failed on them.
    unfinished = len(started) - len(completed)
    lost = abs(ended - len(completed)) + max(0, live - unfinished) + max(0, open_tasks - unfinished)
    common = {
        "clients": args.clients,
        "server_workers": args.server_workers,
        "seconds": round(elapsed, 1),
        "database": "postgresql" if database.startswith("postgres") else "sqlite",
    }
    _emit("api.requests_per_s", round(requests / elapsed, 1), "req/s", **common)
    _emit(
        "api.instances_completed_per_s", round(len(completed) / elapsed, 1), "instances/s", **common
    )
    for kind in ("start", "task_list", "claim", "complete"):
        lat = [x for c in clients for x in c.latency.get(kind, [])]
        _emit(f"api.{kind}.p50", round(_pct(lat, 0.5) * 1000, 1), "ms", **common)
        _emit(f"api.{kind}.p99", round(_pct(lat, 0.99) * 1000, 1), "ms", **common)
    all_lat = [x for c in clients for v in c.latency.values() for x in v]
    _emit("api.all.p50", round(_pct(all_lat, 0.5) * 1000, 1), "ms", **common)
    _emit("api.all.p99", round(_pct(all_lat, 0.99) * 1000, 1), "ms", **common)
    _emit("api.errors", len(errors), "count", sample=errors[:3], **common)
    _emit(
        "api.lost_work",
        lost,
        "count",
        started=len(started),
        completed=len(completed),
        ended_in_history=ended,
        **common,
    )
    if statistics.fmean([len(c.completed) for c in clients] or [0]) == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
