"""liucheng.api: the REST server (FastAPI) — see docs/api.md.

``create_app(settings)`` builds the ASGI application: the engine on a SQL store, routes under
``/api/v1`` with an OpenAPI document, authentication (argon2 passwords, hashed API and session
tokens), authorisation by :mod:`liucheng.org`'s policy, an audit log, Prometheus metrics and the
definition lifecycle (draft → review → approval → published) run as a BPMN process.
"""

from __future__ import annotations

from ._app import API_PREFIX, configure_logging, create_app, create_app_from_env
from ._core import ADMIN_GROUP, Caller, Services
from ._security import AuthenticationError, RateLimitError, Users
from ._settings import Settings

__all__ = [
    "ADMIN_GROUP",
    "API_PREFIX",
    "AuthenticationError",
    "Caller",
    "RateLimitError",
    "Services",
    "Settings",
    "Users",
    "configure_logging",
    "create_app",
    "create_app_from_env",
]
