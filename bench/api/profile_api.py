"""Database round-trips per API request: the bench's four requests (start, task list, claim,
complete) in process, through the ASGI app, on a fresh PostgreSQL database, one at a time.

Prints JSON lines: per request kind the mean wall time (noisy) and the number of statements the
driver sent (``execute`` calls, including connection pings and the audit insert; stable under
load). With ``--show`` the statements of one round go to stderr.

Usage: python bench/api/profile_api.py [--rounds 100] [--show] [--admin-db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import MODEL, POLICY

ADMIN_DB = "postgresql://postgres@127.0.0.1:5432/test"


class _StatementCounter:
    """Counts statements sent by psycopg (raw cursors and SQLAlchemy alike)."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []
        self._orig: Any = None

    def __enter__(self) -> _StatementCounter:
        counter = self
        orig = psycopg.Cursor.execute
        self._orig = orig

        def execute(cur: Any, *a: Any, **kw: Any) -> Any:
            counter.count += 1
            counter.statements.append(" ".join(str(a[0] if a else "").split())[:100])
            return orig(cur, *a, **kw)

        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        orig_many = psycopg.Cursor.executemany

        def executemany(cur: Any, *a: Any, **kw: Any) -> Any:
            counter.count += 1
            return orig_many(cur, *a, **kw)

        psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]
        self._orig_many = orig_many
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.Cursor.execute = self._orig  # type: ignore[method-assign]
        psycopg.Cursor.executemany = self._orig_many  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--show", action="store_true", help="print one round's statements")
    ap.add_argument("--admin-db", default=os.environ.get("LIUCHENG_TEST_PG", ADMIN_DB))
    args = ap.parse_args()

    from liucheng.api import Settings, create_app

    name = f"lc_prof_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_db, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = args.admin_db.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    work = Path(tempfile.mkdtemp(prefix="lc-prof-api-"))
    (work / "policy.yaml").write_text(POLICY)
    settings = Settings(
        database=url,
        run_jobs=False,
        policy_file=str(work / "policy.yaml"),
        admin_user="admin",
        admin_password="admin-password-1",
        cookie_secure=False,
    )
    app = create_app(settings)
    svc = app.state.services
    try:
        asyncio.run(_profile(app, svc, args))
    finally:
        svc.stop()
        with psycopg.connect(args.admin_db, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _profile(app: Any, svc: Any, args: argparse.Namespace) -> None:
    svc.start()
    svc.users.add("agent", "agent-password-1", groups=["bench-agents"])
    admin_token, _ = svc.users.issue_token("admin")
    token, _ = svc.users.issue_token("agent")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://lc/api/v1") as c:
        r = await c.post(
            "/deployments?name=bench.bpmn",
            content=MODEL.encode(),
            headers={"Authorization": f"Bearer {admin_token}", "content-type": "application/xml"},
        )
        r.raise_for_status()
        h = {"Authorization": f"Bearer {token}"}
        wall: dict[str, float] = {}
        stmts: dict[str, int] = {}

        shown: list[str] = []

        async def call(kind: str, method: str, path: str, **kw: Any) -> Any:
            with _StatementCounter() as counter:
                t0 = time.perf_counter()
                resp = await c.request(method, path, headers=h, **kw)
                wall[kind] = wall.get(kind, 0.0) + time.perf_counter() - t0
            stmts[kind] = stmts.get(kind, 0) + counter.count
            if args.show and len(shown) < 4:
                shown.append(kind)
                print(f"-- {kind}", *counter.statements, sep="\n  ", file=sys.stderr)
            assert resp.status_code < 300, resp.text
            return resp.json()

        async def one_round() -> None:
            pid = (await call("start", "POST", "/process-instances", json={"key": "bench_order"}))[
                "id"
            ]
            tasks = await call("task_list", "GET", "/tasks", params={"instance_id": pid})
            tid = tasks["items"][0]["id"]
            await call("claim", "POST", f"/tasks/{tid}/claim")
            await call("complete", "POST", f"/tasks/{tid}/complete", json={"variables": {"ok": 1}})

        for _ in range(10):  # warm up caches and connections
            await one_round()
        wall.clear()
        stmts.clear()
        for _ in range(args.rounds):
            await one_round()
    for kind, seconds in wall.items():
        print(
            json.dumps(
                {
                    "bench": "api_profile",
                    "kind": kind,
                    "ms_mean": round(seconds / args.rounds * 1000, 2),
                    "statements_per_request": round(stmts[kind] / args.rounds, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
