"""Routes: login, logout, tokens, users."""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from liucheng.errors import NotFoundError
from liucheng.org import Action

from ._http import SESSION_COOKIE, CallerDep, PagingDep, ServicesDep, page_of
from ._security import AuthenticationError

__all__ = ["router"]

router = APIRouter(tags=["auth"])

UserId = Annotated[str, Path(min_length=1, max_length=200)]


class LoginBody(BaseModel):
    """Credentials; ``mode`` chooses a session cookie or a bearer token in the body."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)
    mode: Literal["cookie", "token"] = "cookie"


class TokenBody(BaseModel):
    """A new API token."""

    name: str = Field(min_length=1, max_length=200)
    days: int | None = Field(default=None, ge=1, le=3650)


class UserBody(BaseModel):
    """A new user."""

    id: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=1000)
    display_name: str | None = Field(default=None, max_length=400)
    groups: list[str] = Field(default_factory=list, max_length=200)
    is_admin: bool = False


class UserPatch(BaseModel):
    """Changes to a user."""

    password: str | None = Field(default=None, min_length=8, max_length=1000)
    display_name: str | None = Field(default=None, max_length=400)
    groups: list[str] | None = Field(default=None, max_length=200)
    is_admin: bool | None = None
    disabled: bool | None = None


def client_ip(request: Request, trust_proxy: bool) -> str:
    """The client's address (first ``X-Forwarded-For`` hop when behind a trusted proxy)."""
    if trust_proxy:
        fwd = request.headers.get("x-forwarded-for")
        if fwd:
            return fwd.split(",")[0].strip()[:100]
    return request.client.host if request.client else "-"


@router.post("/auth/login", summary="Log in (session cookie or bearer token)")
def login(body: LoginBody, request: Request, response: Response, svc: ServicesDep) -> Any:
    ip = client_ip(request, svc.settings.trust_proxy)
    request.state.actor = body.username
    # Failed attempts count per user and address; at the limit even the right password waits.
    svc.login_limiter.check(body.username, ip)
    user = svc.users.verify_password(body.username, body.password)
    if user is None:
        svc.login_limiter.hit(body.username, ip)
        raise AuthenticationError("wrong user name or password", code="auth.login_failed")
    lifetime = _dt.timedelta(hours=svc.settings.session_hours)
    secret, info = svc.users.issue_token(user.id, kind="session", lifetime=lifetime)
    out: dict[str, Any] = {"user": user.to_dict(), "expires_at": info["expires_at"]}
    if body.mode == "token":
        out["token"] = secret
    else:
        response.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=int(lifetime.total_seconds()),
            httponly=True,
            secure=svc.settings.cookie_secure,
            samesite="strict",
            path="/",
        )
    return out


@router.post("/auth/logout", summary="End the current session")
def logout(request: Request, response: Response, caller: CallerDep, svc: ServicesDep) -> Any:
    auth = request.headers.get("authorization", "")
    secret = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    secret = secret or request.cookies.get(SESSION_COOKIE)
    if secret and secret.startswith("lcs_"):
        svc.users.revoke_secret(secret)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"logged_out": caller.id}


@router.get("/auth/me", summary="Who am I")
def me(caller: CallerDep) -> Any:
    return {
        **caller.user.to_dict(),
        "groups": list(caller.principal.groups),
        "roles": list(caller.principal.roles),
        "is_admin": caller.is_admin,
    }


@router.post("/auth/tokens", status_code=201, summary="Create an API token (shown once)")
def create_token(body: TokenBody, caller: CallerDep, svc: ServicesDep) -> Any:
    lifetime = _dt.timedelta(days=body.days) if body.days else None
    secret, info = svc.users.issue_token(caller.id, name=body.name, lifetime=lifetime)
    return {**info, "token": secret}


@router.get("/auth/tokens", summary="My API tokens")
def list_tokens(caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    return page_of(svc.users.tokens(caller.id), paging, ("created_at", "name"))


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(
    token_id: Annotated[str, Path(min_length=8, max_length=64)],
    caller: CallerDep,
    svc: ServicesDep,
) -> Response:
    if not svc.users.revoke(caller.id, token_id):
        raise NotFoundError(f"token '{token_id}' does not exist", code="auth.token.not_found")
    return Response(status_code=204)


@router.get("/users", tags=["users"], summary="List users (organisation administrators)")
def list_users(caller: CallerDep, svc: ServicesDep, paging: PagingDep) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    return page_of([u.to_dict() for u in svc.users.all()], paging, ("id", "created_at"))


@router.post("/users", tags=["users"], status_code=201, summary="Create a user")
def add_user(body: UserBody, caller: CallerDep, svc: ServicesDep) -> Any:
    svc.require(caller, Action.ADMIN_ORG, "org")
    user = svc.users.add(
        body.id,
        body.password,
        display_name=body.display_name,
        groups=body.groups,
        is_admin=body.is_admin,
    )
    return user.to_dict()


@router.get("/users/{user_id}", tags=["users"], summary="A user")
def get_user(user_id: UserId, caller: CallerDep, svc: ServicesDep) -> Any:
    if user_id != caller.id:
        svc.require(caller, Action.ADMIN_ORG, "org")
    user = svc.users.get(user_id)
    if user is None:
        raise NotFoundError(f"user '{user_id}' does not exist", code="user.not_found")
    return user.to_dict()


@router.patch("/users/{user_id}", tags=["users"], summary="Change a user")
def patch_user(user_id: UserId, body: UserPatch, caller: CallerDep, svc: ServicesDep) -> Any:
    own_password_only = (
        user_id == caller.id
        and body.is_admin is None
        and body.groups is None
        and body.disabled is None
    )
    if not own_password_only:
        svc.require(caller, Action.ADMIN_ORG, "org")
    if svc.users.get(user_id) is None:
        raise NotFoundError(f"user '{user_id}' does not exist", code="user.not_found")
    return svc.users.update(
        user_id,
        password=body.password,
        groups=body.groups,
        is_admin=body.is_admin,
        disabled=body.disabled,
        display_name=body.display_name,
    ).to_dict()
