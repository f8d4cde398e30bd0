"""``liucheng serve``: the REST API server; ``liucheng users``: accounts and API tokens."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import app

if TYPE_CHECKING:
    from liucheng.api import Users
    from liucheng.store import SqlStore

users_app = typer.Typer(help="Manage server users and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        envvar="LIUCHENG_DATABASE",
        help="SQLite file URL or postgresql://user@host:port/db (default sqlite:///liucheng.db).",
    ),
]


@app.command("serve")
def serve(
    database: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Server settings file (YAML).")
    ] = None,
    org: Annotated[
        str | None,
        typer.Option(
            help="Organisation file (YAML/CSV), imported as the first stored revision when the "
            "database has no stored organisation (ignored once one is stored; edit that with "
            "PUT /api/v1/org or liucheng org import)."
        ),
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Authorisation policy (YAML).")] = None,
    jobs: Annotated[bool, typer.Option(help="Run the job executor in the server.")] = True,
    insecure_cookies: Annotated[
        bool, typer.Option(help="Session cookies without the Secure flag (plain-HTTP dev).")
    ] = False,
    cors: Annotated[
        list[str] | None, typer.Option(help="Allow this origin (CORS); repeatable.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    handlers: Annotated[
        str | None,
        typer.Option("--app", help="module:registry with service handlers and setup hooks (SLAs)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one job executor each).")
    ] = 1,
) -> None:
    """Serve the REST API (OpenAPI at /api/v1/docs) with uvicorn until SIGTERM/SIGINT.

    The first administrator comes from LIUCHENG_ADMIN_USER and LIUCHENG_ADMIN_PASSWORD (created
    at start if missing) or ``liucheng users add NAME --admin``.
    """
    import dataclasses

    import uvicorn

    from liucheng.api import Settings, configure_logging, create_app

    settings = Settings.from_env(file=config)
    changes: dict[str, object] = {"run_jobs": jobs and settings.run_jobs}
    if database:
        changes["database"] = database
    if org:
        changes["org_file"] = org
    if handlers:
        changes["app"] = handlers
    if policy:
        changes["policy_file"] = policy
    if insecure_cookies:
        changes["cookie_secure"] = False
    if cors:
        changes["cors_origins"] = tuple(cors)
    settings = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    configure_logging(log_level.upper())
    common: dict[str, object] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 20,
        # Longer than uvicorn's 5 s, so a pooled client connection idle while others were
        # served is not closed under a request in flight (RemoteProtocolError under load).
        "timeout_keep_alive": 75,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return
    # Several processes: each builds its app from the environment (the settings, passed on).
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name == "policy" or value is None:
            continue
        if isinstance(value, tuple):
            value = ",".join(value)
        os.environ[f"LIUCHENG_{f.name.upper()}"] = str(value)
    os.environ["LIUCHENG_LOG_LEVEL"] = log_level.upper()
    services = create_app(settings).state.services  # migrate and bootstrap once, first
    services.bootstrap()
    services.stop()
    uvicorn.run(
        "liucheng.api:create_app_from_env",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )


def _users(database: str | None) -> tuple[SqlStore, Users]:
    from liucheng.api import Users
    from liucheng.store import SqlStore

    store = SqlStore(database)
    return store, Users(store.engine)


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="User id (the organisation's person id).")],
    database: DatabaseOption = None,
    admin: Annotated[bool, typer.Option(help="Make the user an administrator.")] = False,
    group: Annotated[list[str] | None, typer.Option(help="Extra group; repeatable.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from stdin (else LIUCHENG_PASSWORD).")
    ] = False,
    replace: Annotated[bool, typer.Option(help="Overwrite an existing user.")] = False,
) -> None:
    """Create a user with an argon2-hashed password."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    password = password or os.environ.get("LIUCHENG_PASSWORD")
    if not password:
        raise typer.BadParameter(
            "give the password on stdin (--password-stdin) or LIUCHENG_PASSWORD"
        )
    store, users = _users(database)
    try:
        user = users.add(
            user_id,
            password,
            display_name=name,
            groups=tuple(group or ()),
            is_admin=admin,
            replace=replace,
        )
    finally:
        store.dispose()
    typer.echo(json.dumps(user.to_dict()))


@users_app.command("token")
def users_token(
    user_id: Annotated[str, typer.Argument(help="User id.")],
    database: DatabaseOption = None,
    name: Annotated[str, typer.Option(help="Token name.")] = "cli",
    days: Annotated[int | None, typer.Option(help="Lifetime in days (default: no expiry).")] = None,
) -> None:
    """Issue an API token for a user and print it (shown only once)."""
    import datetime as _dt

    from liucheng.errors import NotFoundError

    store, users = _users(database)
    try:
        if users.get(user_id) is None:
            raise NotFoundError(f"user '{user_id}' does not exist", code="user.not_found")
        secret, info = users.issue_token(
            user_id, name=name, lifetime=_dt.timedelta(days=days) if days else None
        )
    finally:
        store.dispose()
    typer.echo(json.dumps({**info, "token": secret}))


@users_app.command("list")
def users_list(database: DatabaseOption = None) -> None:
    """List users as JSON."""
    store, users = _users(database)
    try:
        typer.echo(json.dumps([u.to_dict() for u in users.all()]))
    finally:
        store.dispose()
