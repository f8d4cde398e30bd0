"""HTTP plumbing: problem details (RFC 9457), the caller dependency, paging and sorting."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from liucheng.errors import (
    AuthorizationError,
    ConcurrencyError,
    ConfigurationError,
    DmnError,
    EngineError,
    FeelError,
    LiuchengError,
    ModelError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from liucheng.store._retry import COMMIT_UNKNOWN, DISCONNECTED, store_error

from ._core import Caller, Services
from ._security import AuthenticationError, RateLimitError

__all__ = [
    "PROBLEM_RESPONSES",
    "SESSION_COOKIE",
    "CallerDep",
    "Paging",
    "PagingDep",
    "Problem",
    "install_error_handlers",
    "later_step",
    "liucheng_problem",
    "page_of",
    "problem_response",
    "services",
]

log = logging.getLogger("liucheng.api")

T = TypeVar("T")

SESSION_COOKIE = "lc_session"
PROBLEM_TYPE = "https://liucheng.dev/problems/"


class Problem(BaseModel):
    """An RFC 9457 problem document with Liucheng's stable error ``code``."""

    type: str = Field(description="URI of the problem type")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str = Field(description="Stable dotted Liucheng error code")
    hint: str | None = None
    element_id: str | None = None
    details: Any | None = None
    errors: list[Any] | None = None


_PROBLEM_CONTENT = {"application/problem+json": {"schema": Problem.model_json_schema()}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": _PROBLEM_CONTENT, "model": Problem}
    for code, text in (
        (400, "Bad request"),
        (401, "Not authenticated"),
        (403, "Forbidden"),
        (404, "Not found (or not visible to the caller)"),
        (409, "Conflict with the current state"),
        (412, "Precondition failed (If-Match names a revision that is no longer the newest)"),
        (413, "Request body too large"),
        (422, "Invalid input or model"),
        (429, "Too many requests"),
        (503, "Store unavailable"),
    )
}

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_of(exc: LiuchengError) -> int:
    """The HTTP status for one of our errors (a class may name its own ``http_status``)."""
    own = getattr(exc, "http_status", None)
    if isinstance(own, int):
        return own
    if exc.code == DISCONNECTED:
        return 503  # nothing was committed: the same request may be sent again
    if exc.code == COMMIT_UNKNOWN:
        # not 503 (or 502/504): clients and proxies take those as "safe to send again"
        return 500
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, RateLimitError):
        return 429
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AuthorizationError):
        return 403
    if isinstance(exc, ConcurrencyError):
        return 409
    if isinstance(exc, StoreError):
        return 503
    if isinstance(exc, ModelError | DmnError | FeelError):
        return 422
    if isinstance(exc, EngineError):
        conflict = (".locked", ".state", ".claimed", ".delegated", ".not_delegated")
        return 409 if exc.code.endswith(conflict) else 422
    if exc.code == "engine.form.rejected":
        return 422  # a form submission with field errors: the body is of the wrong shape
    if isinstance(exc, ValidationError | ConfigurationError):
        return 400
    return 400


def problem_response(
    status: int,
    code: str,
    detail: str | None,
    *,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    for k, v in (extra or {}).items():
        if v is not None:
            body[k] = v
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


#: Seconds a client waits before sending a request the store could not serve (503) again.
RETRY_AFTER_S = 1
#: What a REST client does about a lost database connection (the store's own hints speak to
#: engine callers).
_CLIENT_HINTS = {
    DISCONNECTED: "nothing was saved: send the request again after Retry-After seconds",
    COMMIT_UNKNOWN: (
        "the change may or may not have been saved: read the resource to check before "
        "sending the request again"
    ),
}
#: What a client is told of a database failure: the driver's message names servers, users and
#: statements, so it goes to the log only.
_CLIENT_DETAILS = {
    DISCONNECTED: "the database connection was lost; nothing was committed",
    COMMIT_UNKNOWN: "the database connection broke during COMMIT",
    "store.conflict": "the change conflicted with a concurrent one in the database",
    "store.operational": "the database is not available",
    "store.commit": "the database could not commit the change",
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def later_step(step: Callable[[], T]) -> T:
    """Run a step of a call after an earlier step of the same call committed.

    A connection lost in this step (``store.disconnected``) leaves the call half done, so the
    client is told ``store.commit_unknown`` (check, then send again) rather than that nothing
    was saved.
    """
    try:
        return step()
    except ConcurrencyError as exc:
        if exc.code != DISCONNECTED:
            raise
        raise StoreError(
            "the database connection was lost after part of this call was saved",
            code=COMMIT_UNKNOWN,
        ) from exc


def liucheng_problem(request: Request, exc: LiuchengError) -> JSONResponse:
    """The problem response for one of our errors (status by :func:`status_of`)."""
    status = status_of(exc)
    headers = None
    if isinstance(exc, RateLimitError):
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
    if isinstance(exc, AuthenticationError):
        headers = {"WWW-Authenticate": "Bearer"}
    if status == 503 and (isinstance(exc, StoreError) or exc.code == DISCONNECTED):
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    details = exc.details or None
    if isinstance(exc, AuthorizationError):
        details = None  # the decision names resources: logged, not shown
    errors = None
    if exc.code == "engine.form.rejected" and isinstance(details, dict):
        errors = details.get("errors")  # every field error, as for bodies of wrong shape
    detail = exc.message
    if exc.code in _CLIENT_DETAILS:
        detail = _CLIENT_DETAILS[exc.code]
        log.warning(
            "database failure answered %d",
            status,
            extra={"lc": {"path": request.url.path, "error": exc.message[:500]}},
        )
    return problem_response(
        status,
        exc.code,
        detail,
        instance=request.url.path,
        extra={
            "hint": _CLIENT_HINTS.get(exc.code, exc.hint),
            "element_id": exc.element_id,
            "details": details,
            "errors": errors,
        },
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map our errors, request validation errors and anything unexpected to problem details."""

    @app.exception_handler(LiuchengError)
    async def _ours(request: Request, exc: LiuchengError) -> JSONResponse:
        return liucheng_problem(request, exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A database error that passed no store transaction or in_connection (they translate
        # their own): where in the request it happened is unknown, so a lost connection in a
        # changing call may have followed a COMMIT.
        changing = request.method not in _SAFE_METHODS
        error = store_error(exc, committing=changing)
        if error is None:
            return _internal(request, exc)
        log.warning(
            "database error outside the store's transactions",
            exc_info=exc,
            extra={"lc": {"path": request.url.path, "code": error.code}},
        )
        return liucheng_problem(request, error)

    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _pool_timeout(request: Request, exc: SQLAlchemyTimeoutError) -> JSONResponse:
        # every pooled connection stayed in use: nothing of this step ran
        log.warning("no database connection free", extra={"lc": {"path": request.url.path}})
        busy = StoreError(
            "no database connection became free in time",
            code="store.busy",
            hint="the server is overloaded: send the request again after Retry-After seconds",
        )
        return liucheng_problem(request, busy)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem_response(
            422,
            "input.invalid",
            "the request does not have the required shape",
            instance=request.url.path,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "http.method", 413: "http.too_large"}.get(
            exc.status_code, f"http.{exc.status_code}"
        )
        return problem_response(
            exc.status_code,
            code,
            str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: BaseException) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"lc": {"ref": ref, "path": request.url.path}},
    )
    return problem_response(
        500,
        "internal",
        f"internal error (reference {ref})",
        instance=request.url.path,
    )


# ---------------------------------------------------------------------------- dependencies


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def services(request: Request) -> Services:
    """The application's services (async: no I/O, so no thread-pool hop per request)."""
    return _services(request)


_bearer = HTTPBearer(auto_error=False, description="API token or session token")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Session cookie")


def _caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Caller:
    svc = _services(request)
    secret = bearer.credentials if bearer is not None else cookie
    if not secret:
        raise AuthenticationError("authentication required")
    user = svc.authenticate(secret)
    request.state.actor = user.id
    return svc.caller(user)


CallerDep = Annotated[Caller, Depends(_caller)]
ServicesDep = Annotated[Services, Depends(services)]


class Paging:
    """``?offset=&limit=&sort=`` (``sort=field`` ascending, ``sort=-field`` descending)."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="Most rows to return")] = 50,
        sort: Annotated[
            str | None,
            Query(
                max_length=100,
                pattern=r"^-?[a-z_]+(,-?[a-z_]+)*$",
                description="Comma-separated fields; '-' in front sorts descending",
            ),
        ] = None,
    ) -> None:
        self.offset = offset
        self.limit = limit
        self.sort = sort


async def _paging(
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most rows to return")] = 50,
    sort: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^-?[a-z_]+(,-?[a-z_]+)*$",
            description="Comma-separated fields; '-' in front sorts descending",
        ),
    ] = None,
) -> Paging:
    # async: plain parameter handling should not cost a thread-pool hop per request
    return Paging(offset, limit, sort)


PagingDep = Annotated[Paging, Depends(_paging)]


def page_of(
    items: Sequence[dict[str, Any]],
    paging: Paging,
    sortable: Sequence[str],
    *,
    default: str | None = None,
) -> dict[str, Any]:
    """Sort, count and cut a list of items into the envelope every list endpoint returns.

    Raises:
        ValidationError: A sort field that cannot be sorted on.
    """
    rows = list(items)
    spec = paging.sort or default
    if spec:
        fields = spec.split(",")
        for f in reversed(fields):
            name = f.lstrip("-")
            if name not in sortable:
                raise ValidationError(
                    f"cannot sort by '{name}'",
                    code="input.sort",
                    hint="sortable: " + ", ".join(sortable),
                )
            rows.sort(key=_sort_key(name), reverse=f.startswith("-"))
    return {
        "items": rows[paging.offset : paging.offset + paging.limit],
        "total": len(rows),
        "offset": paging.offset,
        "limit": paging.limit,
    }


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    def key(row: dict[str, Any]) -> tuple[int, Any]:
        v = row.get(name)
        if v is None:
            return (1, "")
        if isinstance(v, bool | int | float):
            return (0, (0, v, ""))
        return (0, (1, 0, str(v)))

    return key
