"""Users, password hashing (argon2), API and session tokens (hashed at rest), login rate limits."""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from liucheng.errors import AuthorizationError, LiuchengError, ValidationError
from liucheng.store._api_schema import api_token, api_user
from liucheng.store._retry import in_connection

__all__ = [
    "AuthenticationError",
    "RateLimitError",
    "RateLimiter",
    "UserRecord",
    "Users",
]

_USER_ID_MAX = 200


class AuthenticationError(LiuchengError):
    """No valid credentials (HTTP 401)."""

    default_code = "auth.unauthenticated"
    default_hint = "log in (POST /api/v1/auth/login) or send 'Authorization: Bearer <token>'"


class RateLimitError(LiuchengError):
    """Too many attempts (HTTP 429)."""

    default_code = "auth.rate_limited"
    default_hint = "wait a minute before trying again"


@dataclass(frozen=True)
class UserRecord:
    """A user account of the server.

    Attributes:
        id: User id (the person id of the organisation, when they are one).
        display_name: Name to show.
        groups: Extra groups (besides those of the organisation).
        is_admin: Administrator of the server.
        disabled: Cannot log in or use tokens.
        created_at: When the account was made.
    """

    id: str
    display_name: str | None
    groups: tuple[str, ...]
    is_admin: bool
    disabled: bool
    created_at: _dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (never with the password hash)."""
        return {
            "id": self.id,
            "display_name": self.display_name,
            "groups": list(self.groups),
            "is_admin": self.is_admin,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
        }


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class Users:
    """User accounts and tokens in the server's tables.

    Args:
        db: The SQLAlchemy engine of the store.
    """

    def __init__(self, db: Engine) -> None:
        from argon2 import PasswordHasher

        self.db = db
        self._hasher = PasswordHasher()
        self._cache: dict[str, tuple[float, UserRecord | None, _dt.datetime | None]] = {}
        self._lock = threading.Lock()
        # A hash to verify against when the user does not exist (same time either way).
        self._dummy = self._hasher.hash(secrets.token_hex(8))

    @staticmethod
    def _row(row: Any) -> UserRecord:
        return UserRecord(
            row.id,
            row.display_name,
            tuple(row.groups or ()),
            bool(row.is_admin),
            bool(row.disabled),
            row.created_at,
        )

    def get(self, user_id: str) -> UserRecord | None:
        """A user by id."""
        stmt = select(api_user).where(api_user.c.id == user_id)
        row = in_connection(self.db, lambda c: c.execute(stmt).first())
        return None if row is None else self._row(row)

    def all(self, offset: int = 0, limit: int | None = None) -> list[UserRecord]:
        """Users ordered by id."""
        stmt = select(api_user).order_by(api_user.c.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return in_connection(self.db, lambda c: [self._row(r) for r in c.execute(stmt)])

    def count(self) -> int:
        """How many users there are."""
        return in_connection(self.db, lambda c: len(c.execute(select(api_user.c.id)).all()))

    def add(
        self,
        user_id: str,
        password: str | None,
        *,
        display_name: str | None = None,
        groups: tuple[str, ...] | list[str] = (),
        is_admin: bool = False,
        replace: bool = False,
    ) -> UserRecord:
        """Create (or with ``replace`` overwrite) a user; the password is stored argon2-hashed.

        Raises:
            ValidationError: Bad id, short password, or the user exists (without ``replace``).
        """
        if not user_id or len(user_id) > _USER_ID_MAX or not user_id.isprintable():
            raise ValidationError("user id must be 1-200 printable characters", code="user.id")
        if password is not None and len(password) < 8:
            raise ValidationError(
                "password must have at least 8 characters", code="user.password.short"
            )
        values = {
            "display_name": display_name,
            "password_hash": self._hasher.hash(password) if password is not None else None,
            "groups": list(groups),
            "is_admin": is_admin,
            "disabled": False,
        }

        def save(c: Connection) -> None:
            exists = c.execute(select(api_user.c.id).where(api_user.c.id == user_id)).first()
            if exists is not None and not replace:
                raise ValidationError(
                    f"user '{user_id}' exists", code="user.exists", hint="choose another id"
                )
            if exists is None:
                c.execute(insert(api_user).values(id=user_id, created_at=_now(), **values))
            else:
                c.execute(update(api_user).where(api_user.c.id == user_id).values(**values))

        in_connection(self.db, save)
        self.forget()
        user = self.get(user_id)
        assert user is not None
        return user

    def update(
        self,
        user_id: str,
        *,
        password: str | None = None,
        groups: list[str] | None = None,
        is_admin: bool | None = None,
        disabled: bool | None = None,
        display_name: str | None = None,
    ) -> UserRecord:
        """Change a user; disabling one also revokes their sessions."""
        values: dict[str, Any] = {}
        if password is not None:
            if len(password) < 8:
                raise ValidationError(
                    "password must have at least 8 characters", code="user.password.short"
                )
            values["password_hash"] = self._hasher.hash(password)
        if groups is not None:
            values["groups"] = list(groups)
        if is_admin is not None:
            values["is_admin"] = is_admin
        if disabled is not None:
            values["disabled"] = disabled
        if display_name is not None:
            values["display_name"] = display_name

        def change(c: Connection) -> None:
            if values:
                c.execute(update(api_user).where(api_user.c.id == user_id).values(**values))
            if disabled:
                c.execute(delete(api_token).where(api_token.c.user_id == user_id))

        in_connection(self.db, change)
        self.forget()
        user = self.get(user_id)
        if user is None:
            from liucheng.errors import NotFoundError

            raise NotFoundError(f"user '{user_id}' does not exist", code="user.not_found")
        return user

    def verify_password(self, user_id: str, password: str) -> UserRecord | None:
        """The user when the password is right (and the account enabled), else ``None``."""
        from argon2.exceptions import InvalidHashError, VerificationError

        stmt = select(api_user).where(api_user.c.id == user_id)
        row = in_connection(self.db, lambda c: c.execute(stmt).first())
        stored = row.password_hash if row is not None and row.password_hash else self._dummy
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.password_hash or row.disabled:
            return None
        return self._row(row)

    def issue_token(
        self,
        user_id: str,
        *,
        kind: str = "api",
        name: str | None = None,
        lifetime: _dt.timedelta | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A new secret token for the user; only its SHA-256 is stored.

        Returns:
            The secret (shown once) and the token's description.
        """
        secret = ("lcs_" if kind == "session" else "lct_") + secrets.token_urlsafe(32)
        now = _now()
        expires = now + lifetime if lifetime is not None else None
        token_id = _hash_token(secret)
        statement = insert(api_token).values(
            id=token_id,
            user_id=user_id,
            name=name,
            kind=kind,
            created_at=now,
            expires_at=expires,
        )
        in_connection(self.db, lambda c: c.execute(statement))
        info = {
            "id": token_id[:16],
            "name": name,
            "kind": kind,
            "user_id": user_id,
            "created_at": now.isoformat(),
            "expires_at": expires.isoformat() if expires else None,
        }
        return secret, info

    def tokens(self, user_id: str) -> list[dict[str, Any]]:
        """The user's API tokens (ids are hash prefixes; secrets are never stored)."""
        stmt = (
            select(api_token)
            .where(api_token.c.user_id == user_id, api_token.c.kind == "api")
            .order_by(api_token.c.created_at)
        )
        rows = in_connection(self.db, lambda c: c.execute(stmt).all())
        return [
            {
                "id": r.id[:16],
                "name": r.name,
                "kind": r.kind,
                "user_id": r.user_id,
                "created_at": r.created_at.isoformat(),
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
            }
            for r in rows
        ]

    def revoke(self, user_id: str, token_prefix: str) -> bool:
        """Revoke a token of the user by its id (hash prefix)."""
        if len(token_prefix) < 8:
            return False

        def drop(c: Connection) -> list[str]:
            rows = c.execute(select(api_token.c.id).where(api_token.c.user_id == user_id)).scalars()
            hits = [r for r in rows if r.startswith(token_prefix)]
            for h in hits:
                c.execute(delete(api_token).where(api_token.c.id == h))
            return hits

        hits = in_connection(self.db, drop)
        self.forget()
        return bool(hits)

    def revoke_secret(self, secret: str) -> None:
        """Revoke the token with this secret (logout)."""
        statement = delete(api_token).where(api_token.c.id == _hash_token(secret))
        in_connection(self.db, lambda c: c.execute(statement))
        self.forget()

    def authenticate(self, secret: str) -> UserRecord:
        """The user a token belongs to (cached for a few seconds).

        Raises:
            AuthenticationError: Unknown, expired or revoked token, or a disabled user.
        """
        key = _hash_token(secret)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is None or hit[0] < now:
            stmt = (
                select(api_user, api_token.c.expires_at.label("token_expires"))
                .join(api_token, api_token.c.user_id == api_user.c.id)
                .where(api_token.c.id == key)
            )
            row = in_connection(self.db, lambda c: c.execute(stmt).first())
            user = None if row is None else self._row(row)
            hit = (now + 5.0, user, None if row is None else row.token_expires)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = hit
        _, user, expires = hit
        if user is None or user.disabled or (expires is not None and expires <= _now()):
            raise AuthenticationError("the token is not valid (unknown, expired or revoked)")
        return user

    def forget(self) -> None:
        """Drop cached token lookups (after a change of users or tokens)."""
        with self._lock:
            self._cache.clear()


class RateLimiter:
    """At most ``limit`` events per key within ``window`` seconds (sliding window).

    Args:
        limit: Events allowed per window.
        window: Window length in seconds.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, *key: str) -> None:
        """Refuse when ``key`` used up its events within the window.

        Raises:
            RateLimitError: The limit is reached.
        """
        now = time.monotonic()
        with self._lock:
            q = self._events.get(key)
            if q is None:
                return
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                retry = int(q[0] + self.window - now) + 1
                raise RateLimitError("too many login attempts", details={"retry_after": retry})

    def hit(self, *key: str) -> None:
        """Count one event (e.g. a failed login) for ``key``."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) > 100_000:
                self._events.clear()
            self._events.setdefault(key, deque()).append(now)


def forbidden(message: str) -> AuthorizationError:
    """An authorisation refusal."""
    return AuthorizationError(message, code="auth.forbidden")
