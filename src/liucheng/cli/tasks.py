"""``liucheng tasks``: the task list and task actions on a database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liucheng.errors import ValidationError

from ._app import app
from .db import DEFAULT_DATABASE, DatabaseOption

if TYPE_CHECKING:
    from liucheng.engine import Engine, TaskRecord

tasks_app = typer.Typer(
    help="Task lists and task actions (claim, complete...).", no_args_is_help=True
)
app.add_typer(tasks_app, name="tasks")

OrgOption = Annotated[
    Path | None,
    typer.Option(
        "--org",
        help="Organisation file (groups, roles, lanes). Optional: without it the organisation "
        "stored in the database is used (liucheng org import --database).",
    ),
]
AuthOption = Annotated[
    Path | None,
    typer.Option(
        "--auth", help="Authorisation policy (YAML); with --user, every action is checked."
    ),
]
UserOption = Annotated[str | None, typer.Option("--user", "-u", help="Acting person.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _engine(database: str, org: Path | None, auth: Path | None) -> Engine:
    from liucheng.engine import Engine
    from liucheng.store import SqlStore

    organisation = None
    policy = None
    if org is not None:
        from liucheng.org import load_organisation

        organisation = load_organisation(org)
    if auth is not None:
        import yaml

        from liucheng.org import policy_from_dict

        try:
            data = yaml.safe_load(auth.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationError(
                f"cannot read the policy '{auth}': {exc}", code="cli.tasks.auth", file=str(auth)
            ) from None
        policy = policy_from_dict(data)
    return Engine(SqlStore(database), organisation=organisation, authorization=policy)


def _actor(engine: Engine, user: str | None, auth: Path | None) -> Any:
    """The engine, or the user's authorised view when a policy was given."""
    if auth is not None:
        if user is None:
            raise ValidationError("--auth needs --user", code="cli.tasks.user")
        return engine.as_user(user)
    return engine


def _task_dict(t: TaskRecord) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "process": t.process_key,
        "instance_id": t.instance_id,
        "element_id": t.element_id,
        "assignee": t.assignee,
        "owner": t.owner,
        "delegation": t.delegation,
        "candidate_users": list(t.candidate_users),
        "candidate_groups": list(t.candidate_groups),
        "role": t.role,
        "lane": t.lane,
        "priority": t.priority,
        "created_at": t.created_at.isoformat(),
        "due_at": t.due_at.isoformat() if t.due_at else None,
        "follow_up_at": t.follow_up_at.isoformat() if t.follow_up_at else None,
        "form_key": t.form_key,
    }


@tasks_app.command("list")
def list_tasks(
    database: DatabaseOption = DEFAULT_DATABASE,
    user: UserOption = None,
    mine: Annotated[bool, typer.Option(help="Only tasks assigned to --user.")] = False,
    candidate: Annotated[bool, typer.Option(help="Only tasks --user may claim.")] = False,
    unassigned: Annotated[bool, typer.Option(help="Only unassigned tasks.")] = False,
    overdue: Annotated[bool, typer.Option(help="Only overdue tasks.")] = False,
    process: Annotated[str | None, typer.Option(help="Only tasks of this process.")] = None,
    sort: Annotated[
        list[str] | None, typer.Option(help="Sort key (repeatable), '-' for descending.")
    ] = None,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    org: OrgOption = None,
    auth: AuthOption = None,
    as_json: JsonOption = False,
) -> None:
    """List open tasks (a task list: mine, my groups', unassigned, overdue...)."""
    from liucheng.engine import Page

    engine = _engine(database, org, auth)
    try:
        actor = _actor(engine, user, auth)
        rows = actor.task_list(
            user=user,
            mine=mine,
            candidate=candidate,
            unassigned=unassigned,
            overdue=overdue,
            process=process,
            sort=tuple(sort or ("created_at",)),
            page=Page(offset, limit),
        )
    finally:
        engine.store.dispose()  # type: ignore[attr-defined]
    if as_json:
        typer.echo(json.dumps({"tasks": [_task_dict(t) for t in rows]}))
        return
    for t in rows:
        due = t.due_at.isoformat() if t.due_at else "-"
        typer.echo(f"{t.id}  {t.priority:>3}  {t.assignee or '-':<12} {due:<26} {t.name or ''}")


def _vars(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ValidationError(
                f"'{pair}' is not NAME=VALUE", code="cli.tasks.var", hint="e.g. --var amount=120"
            )
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def _act(
    database: str, org: Path | None, auth: Path | None, user: str | None, action: str, *args: Any
) -> None:
    engine = _engine(database, org, auth)
    try:
        actor = _actor(engine, user, auth)
        if action == "claim":
            if user is None:
                raise ValidationError("claiming needs --user", code="cli.tasks.user")
            if auth is not None:
                actor.claim(args[0])
            else:
                engine.claim(args[0], user)
        elif action == "comment":
            if auth is not None:
                actor.add_comment(*args)
            else:
                engine.add_comment(*args, author=user)
        elif auth is not None:
            getattr(actor, action)(*args)
        else:
            getattr(engine, action)(*args, actor=user)
    finally:
        engine.store.dispose()  # type: ignore[attr-defined]


@tasks_app.command("claim")
def claim(
    task_id: str,
    user: UserOption = None,
    database: DatabaseOption = DEFAULT_DATABASE,
    org: OrgOption = None,
    auth: AuthOption = None,
) -> None:
    """Claim a task for --user."""
    _act(database, org, auth, user, "claim", task_id)
    typer.echo(f"claimed {task_id}")


@tasks_app.command("unclaim")
def unclaim(
    task_id: str,
    user: UserOption = None,
    database: DatabaseOption = DEFAULT_DATABASE,
    org: OrgOption = None,
    auth: AuthOption = None,
) -> None:
    """Give a task back to its queue."""
    _act(database, org, auth, user, "unclaim", task_id)
    typer.echo(f"unclaimed {task_id}")


@tasks_app.command("complete")
def complete(
    task_id: str,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="NAME=VALUE (JSON value), repeatable.")
    ] = None,
    user: UserOption = None,
    database: DatabaseOption = DEFAULT_DATABASE,
    org: OrgOption = None,
    auth: AuthOption = None,
) -> None:
    """Complete a task (its form is validated; every field error is listed)."""
    _act(database, org, auth, user, "complete_task", task_id, _vars(var))
    typer.echo(f"completed {task_id}")


@tasks_app.command("comment")
def comment(
    task_id: str,
    message: str,
    user: UserOption = None,
    database: DatabaseOption = DEFAULT_DATABASE,
    org: OrgOption = None,
    auth: AuthOption = None,
) -> None:
    """Comment on a task."""
    _act(database, org, auth, user, "comment", task_id, message)
    typer.echo(f"commented on {task_id}")
