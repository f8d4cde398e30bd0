"""Server settings: from code, a YAML file, or ``LIUCHENG_*`` environment variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liucheng.errors import ConfigurationError

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """How the server runs.

    Attributes:
        database: Database URL (SQLite file by default; ``postgresql://…`` for production).
        org_file: Organisation file (YAML/CSV) imported at start as the first stored revision
            when the database has no stored organisation yet (ignored otherwise).
        policy_file: Authorisation policy (YAML, see docs/org.md); administrators always include
            the users flagged ``is_admin``.
        policy: The policy as a mapping (instead of ``policy_file``).
        max_body_bytes: Largest request body accepted (413 above).
        cors_origins: Origins allowed by CORS (empty: CORS off).
        cookie_secure: ``Secure`` flag on the session cookie (turn off only for plain-HTTP dev).
        session_hours: Lifetime of a login session.
        login_rate: Login attempts allowed per user and client address per minute.
        run_jobs: Run a job executor (timers, async continuations) inside the server.
        admin_user: Bootstrap administrator created at start if missing (with
            ``admin_password``).
        admin_password: Its password.
        long_poll_max_s: Longest wait a fetch-and-lock may ask for.
        trust_proxy: Take the client address from ``X-Forwarded-For``.
        oidc_issuer: Accept RS256 bearer JWTs of this issuer (OIDC; empty: off).
        oidc_audience: Their required audience.
        oidc_jwks: JWKS URL or file with the issuer's signing keys.
        oidc_user_claim: Claim naming the user (default ``preferred_username``, else ``sub``).
        oidc_groups_claim: Claim listing the user's groups.
        metrics_token: Bearer token ``GET /metrics`` requires (empty: open to loopback clients
            only, refused with 403 to any other address).
        max_attachment_bytes: Largest task attachment accepted (413 above; also capped by
            ``max_body_bytes``).
        app: ``module:registry`` (a ``liucheng.jobs.Registry``) installed on the engine at
            start: service handlers and setup hooks (SLA registrations, forms in code), the same
            as ``liucheng worker --app``.
        org_check_s: How often (seconds) the server's engine looks whether a newer
            organisation revision was stored (``Engine(org_refresh=...)``; 0: on every use).
    """

    database: str = "sqlite:///liucheng.db"
    org_file: str | None = None
    policy_file: str | None = None
    policy: dict[str, Any] | None = None
    max_body_bytes: int = 5 * 1024 * 1024
    cors_origins: tuple[str, ...] = ()
    cookie_secure: bool = True
    session_hours: float = 12.0
    login_rate: int = 5
    run_jobs: bool = True
    admin_user: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    long_poll_max_s: float = 60.0
    trust_proxy: bool = False
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks: str = ""
    oidc_user_claim: str = "preferred_username"
    oidc_groups_claim: str = "groups"
    metrics_token: str = field(default="", repr=False)
    max_attachment_bytes: int = 2 * 1024 * 1024
    org_check_s: float = 2.0
    app: str = ""

    @classmethod
    def from_env(cls, base: Settings | None = None, file: str | Path | None = None) -> Settings:
        """Settings from a YAML file (``LIUCHENG_CONFIG`` or ``file``) then the environment.

        Every field can be set by ``LIUCHENG_<FIELD>`` (``LIUCHENG_DATABASE``,
        ``LIUCHENG_ADMIN_PASSWORD``, ``LIUCHENG_CORS_ORIGINS`` comma-separated...).

        Raises:
            ConfigurationError: Unknown keys or values of the wrong shape.
        """
        values: dict[str, Any] = dataclasses.asdict(base or cls())
        path = file or os.environ.get("LIUCHENG_CONFIG")
        if path:
            import yaml

            try:
                data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigurationError(
                    f"cannot read server configuration {path}: {exc}", code="config.file"
                ) from None
            if not isinstance(data, dict):
                raise ConfigurationError(f"{path}: expected a mapping", code="config.file")
            server = data.get("server", data)
            unknown = set(server) - set(values)
            if unknown:
                raise ConfigurationError(
                    f"{path}: unknown settings {sorted(unknown)}",
                    code="config.unknown",
                    hint="known: " + ", ".join(sorted(values)),
                )
            values.update(server)
        for f in dataclasses.fields(cls):
            raw = os.environ.get(f"LIUCHENG_{f.name.upper()}")
            if raw is None or f.name == "policy":
                continue
            values[f.name] = _convert(f.name, raw, values[f.name])
        if isinstance(values.get("cors_origins"), list):
            values["cors_origins"] = tuple(values["cors_origins"])
        return cls(**values)


def _convert(name: str, raw: str, current: Any) -> Any:
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, tuple):
        return tuple(x.strip() for x in raw.split(",") if x.strip())
    try:
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
    except ValueError:
        raise ConfigurationError(
            f"LIUCHENG_{name.upper()}={raw!r} is not a number", code="config.invalid"
        ) from None
    return raw
