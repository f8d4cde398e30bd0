"""Database failures reach a REST client as problem documents with the store's codes.

A lost connection answers 503 ``store.disconnected`` with ``Retry-After`` (nothing was
committed), a break during COMMIT 500 ``store.commit_unknown`` with a hint to check first (no
``Retry-After``: 503 would tell clients and proxies that sending again is safe). A database error
that escaped the store's transactions (a route without ``in_connection``) is translated too; the
driver's message never reaches the client. The real failures run on PostgreSQL in
``test_disconnect_api.py``; here routes raise the errors SQLAlchemy raises, on a SQLite file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.requests import Request

from liucheng.api import Settings, create_app
from liucheng.api._http import later_step, status_of
from liucheng.api._r_org import _store
from liucheng.errors import ConcurrencyError, StoreError

SECRET = "password=hunter2 host=db-7.internal"  # what a driver's message may carry


class _Deadlock(Exception):
    sqlstate = "40P01"


ERRORS: dict[str, Exception] = {
    "lost": DBAPIError("SELECT 1", {}, Exception(SECRET), connection_invalidated=True),
    "locked": OperationalError("INSERT", {}, Exception(f"database is locked {SECRET}")),
    "deadlock": OperationalError("UPDATE", {}, _Deadlock(f"deadlock detected {SECRET}")),
    "constraint": IntegrityError("INSERT", {}, Exception(f"duplicate key {SECRET}")),
    "pool": SQLAlchemyTimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    "store-lost": ConcurrencyError("lost: " + SECRET, code="store.disconnected"),
    "store-commit": StoreError("commit broke: " + SECRET, code="store.commit_unknown"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("db") / "lc.db"
    application = create_app(Settings(database=f"sqlite:///{path}", run_jobs=False))

    def failing(name: str) -> Any:
        raise ERRORS[name]

    application.add_api_route("/fail/{name}", failing, methods=["GET", "POST"])
    yield application
    application.state.services.stop()


def _call(app: Any, method: str, name: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(
            app=app, client=("127.0.0.1", 40000), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://lc") as c:
            return await c.request(method, f"/fail/{name}")

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("method", "name", "status", "code", "retry_after"),
    [
        ("GET", "lost", 503, "store.disconnected", True),  # a read commits nothing
        ("POST", "lost", 500, "store.commit_unknown", False),  # where it broke is unknown
        ("GET", "locked", 503, "store.operational", True),
        ("POST", "deadlock", 409, "store.conflict", False),
        ("GET", "pool", 503, "store.busy", True),
        ("POST", "store-lost", 503, "store.disconnected", True),
        ("POST", "store-commit", 500, "store.commit_unknown", False),
        ("GET", "constraint", 500, "internal", False),  # a bug, not the database's state
    ],
)
def test_database_errors_answer_problems_with_the_store_codes(
    app: Any, method: str, name: str, status: int, code: str, retry_after: bool
) -> None:
    response = _call(app, method, name)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["instance"] == f"/fail/{name}"
    assert ("retry-after" in response.headers) is retry_after
    if retry_after:
        assert int(response.headers["retry-after"]) >= 1
    assert "hunter2" not in response.text and "db-7" not in response.text
    if code == "store.commit_unknown":
        assert "check before" in body["hint"]
    if code == "store.disconnected":
        assert "send the request again" in body["hint"]


def test_status_of_the_store_codes() -> None:
    assert status_of(ConcurrencyError("x", code="store.disconnected")) == 503
    assert status_of(StoreError("x", code="store.commit_unknown")) == 500
    assert status_of(ConcurrencyError("x", code="store.conflict")) == 409
    assert status_of(StoreError("x", code="store.operational")) == 503
    assert status_of(ConcurrencyError("x", code="org.revision.conflict")) == 409


def test_a_lost_connection_under_if_match_is_not_a_failed_precondition() -> None:
    request = Request({"type": "http", "method": "PUT", "headers": [(b"if-match", b'"3"')]})

    def run(error: ConcurrencyError) -> Any:
        def fail(expected: int | None) -> Any:
            assert expected == 3
            raise error

        with pytest.raises(ConcurrencyError) as info:
            _store(request, fail)
        return status_of(info.value)

    assert run(ConcurrencyError("stale", code="org.revision.conflict")) == 412
    assert run(ConcurrencyError("lost", code="store.disconnected")) == 503


def test_a_later_step_turns_only_a_lost_connection_into_commit_unknown() -> None:
    def fail(error: Exception) -> Any:
        raise error

    with pytest.raises(StoreError) as info:
        later_step(lambda: fail(ConcurrencyError("lost", code="store.disconnected")))
    assert info.value.code == "store.commit_unknown"
    assert status_of(info.value) == 500
    conflict = ConcurrencyError("stale", code="store.conflict")
    with pytest.raises(ConcurrencyError) as raised:
        later_step(lambda: fail(conflict))
    assert raised.value is conflict
    assert later_step(lambda: 7) == 7
