"""``liucheng org ...`` and ``liucheng sla ...``: organisation files, calendars and SLA clocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from liucheng.errors import ValidationError

from ._app import app

org_app = typer.Typer(help="Import and inspect the organisation model.", no_args_is_help=True)
sla_app = typer.Typer(help="Business calendars and SLA due dates.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(sla_app, name="sla")


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# -- sla ----------------------------------------------------------------------------------------


def _instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationError(
            f"{option} {text!r} is not an ISO 8601 date-time",
            code="cli.instant",
            hint="write e.g. 2015-09-21T14:30:00Z or 2015-09-21T16:30:00+02:00",
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _output_zone(tz: str | None, calendar_zone: tzinfo, start: datetime) -> tzinfo:
    if tz is None or tz.upper() == "UTC":
        return UTC
    if tz == "calendar":
        return calendar_zone
    if tz == "input":
        zone = start.tzinfo
        return zone if zone is not None else UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"unknown time zone {tz!r}",
            code="cli.timezone",
            hint="an IANA zone name, 'calendar' (the calendar's zone), 'input' or UTC",
        ) from exc


CalendarOpt = Annotated[Path, typer.Option("--calendar", "-c", help="Calendar YAML file.")]
TzOpt = Annotated[
    str | None,
    typer.Option(
        "--tz",
        help="Print instants in this zone: an IANA name, 'calendar', 'input' (the start's offset); "
        "default UTC (+00:00).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@sla_app.command("due")
def sla_due(
    calendar: CalendarOpt,
    start: Annotated[
        str, typer.Option("--start", help="Start instant (ISO 8601; no offset = UTC).")
    ],
    duration: Annotated[
        str, typer.Option("--duration", help="Business duration, ISO 8601 (PT2H, P1DT4H).")
    ],
    pause: Annotated[
        list[str] | None,
        typer.Option(
            "--pause",
            help="A pause FROM/TO or FROM/DURATION (ISO 8601 interval) that does not count; "
            "repeat.",
        ),
    ] = None,
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the instant a business-time budget started at START runs out."""
    from liucheng.org import due_with_pauses, load_calendar

    cal = load_calendar(calendar)
    begin = _instant(start, "--start")
    pauses: list[tuple[datetime, datetime]] = []
    for item in pause or []:
        if "/" not in item:
            raise ValidationError(f"--pause {item!r} is not FROM/TO", code="cli.pause")
        left, right = item.split("/", 1)
        begin_pause = _instant(left, "--pause")
        if right.strip().upper().startswith("P"):
            # ISO 8601 interval "start/duration": the pause lasts that long in wall-clock time
            from liucheng.org import always_calendar

            end_pause = always_calendar().add_business_duration(begin_pause, right.strip())
        else:
            end_pause = _instant(right, "--pause")
        pauses.append((begin_pause, end_pause))
    due = due_with_pauses(cal, begin, duration, pauses).astimezone(_output_zone(tz, cal.tz, begin))
    if as_json:
        _emit(
            {
                "start": begin.isoformat(),
                "duration": duration,
                "business_time": cal.business_timedelta(duration).total_seconds(),
                "pauses": [[a.isoformat(), b.isoformat()] for a, b in pauses],
                "due": due.isoformat(),
                "calendar": str(calendar),
            }
        )
    else:
        typer.echo(due.isoformat())


@sla_app.command("between")
def sla_between(
    calendar: CalendarOpt,
    start: Annotated[str, typer.Option("--start", help="From (ISO 8601; no offset = UTC).")],
    end: Annotated[str, typer.Option("--end", help="To (ISO 8601; no offset = UTC).")],
    as_json: JsonOpt = False,
) -> None:
    """Print the working time between two instants as an ISO 8601 duration."""
    from liucheng.org import format_duration, load_calendar

    cal = load_calendar(calendar)
    value = cal.business_time_between(_instant(start, "--start"), _instant(end, "--end"))
    if as_json:
        _emit({"business_time": format_duration(value), "seconds": value.total_seconds()})
    else:
        typer.echo(format_duration(value))


@sla_app.command("intervals")
def sla_intervals(
    calendar: CalendarOpt,
    start: Annotated[str, typer.Option("--start", help="From (ISO 8601; no offset = UTC).")],
    end: Annotated[str, typer.Option("--end", help="To (ISO 8601; no offset = UTC).")],
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the working intervals between two instants."""
    from liucheng.org import load_calendar

    cal = load_calendar(calendar)
    begin = _instant(start, "--start")
    zone = _output_zone(tz, cal.tz, begin)
    rows = [
        (a.astimezone(zone).isoformat(), b.astimezone(zone).isoformat())
        for a, b in cal.working_intervals(begin, _instant(end, "--end"))
    ]
    if as_json:
        _emit({"intervals": [{"start": a, "end": b} for a, b in rows]})
    else:
        for a, b in rows:
            typer.echo(f"{a}/{b}")


@sla_app.command("state")
def sla_state_cmd(
    calendar: CalendarOpt,
    target: Annotated[str, typer.Option("--target", help="Budget, ISO 8601 duration.")],
    events: Annotated[
        Path, typer.Option("--events", help="JSON or YAML list of {kind, at[, reason]} events.")
    ],
    at: Annotated[str, typer.Option("--at", help="Instant to report (ISO 8601).")],
    warn_at: Annotated[
        list[float] | None, typer.Option("--warn-at", help="Warning fraction; repeat.")
    ] = None,
) -> None:
    """Print an SLA clock's state (JSON) from its event history."""
    from liucheng.org import SlaDefinition, SlaEvent, load_calendar, sla_state
    from liucheng.org._yaml import load_yaml_document, read_text

    cal = load_calendar(calendar)
    data, _lines = load_yaml_document(read_text(events), file=str(events))
    if not isinstance(data, list):
        raise ValidationError("the events file must hold a list", file=str(events))
    definition = SlaDefinition(
        "sla", target, cal, warn_at=tuple(warn_at) if warn_at is not None else (0.8,)
    )
    state = sla_state(definition, [SlaEvent.from_dict(item) for item in data], _instant(at, "--at"))
    _emit(state.to_dict())


# -- org ----------------------------------------------------------------------------------------


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="Store in / read from this database (SQLite file URL or postgresql://...).",
    ),
]


def _org_engine(database: str) -> Any:
    """An engine on ``database`` (the schema migrated), for the stored organisation."""
    from liucheng.engine import Engine
    from liucheng.store import SqlStore

    return Engine(SqlStore(database))


def _author(author: str | None) -> str | None:
    if author:
        return author
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover - no user name in this environment
        return None


@org_app.command("import")
def org_import(
    file: Annotated[Path, typer.Argument(help="Organisation file (.yaml/.yml or people .csv).")],
    as_json: JsonOpt = False,
    database: DbOpt = None,
    author: Annotated[
        str | None, typer.Option("--author", help="Who imports (default: the login name).")
    ] = None,
    comment: Annotated[
        str | None, typer.Option("--comment", help="What changed (default: import FILE).")
    ] = None,
    expected_revision: Annotated[
        int | None,
        typer.Option("--expected-revision", help="Store only if this is the newest revision."),
    ] = None,
    rebalance: Annotated[
        bool,
        typer.Option("--rebalance", help="Move the open work of everyone absent now."),
    ] = False,
) -> None:
    """Validate an organisation file and summarise it; with --database, store it (new revision)."""
    from liucheng.org import OrgValidationError, load_organisation, summarise

    try:
        org = load_organisation(file)
    except OrgValidationError as exc:
        if as_json:
            # The JSON document says what is wrong; main() still prints the error and exits 2.
            _emit(
                {
                    "valid": False,
                    "file": str(file),
                    "error": exc.to_dict(),
                    "problems": exc.details.get("problems", [exc.to_dict()]),
                }
            )
        raise
    summary = summarise(org)
    summary["file"] = str(file)
    stored = None
    if database is not None:
        engine = _org_engine(database)
        try:
            stored = engine.org_admin(_author(author)).import_organisation(
                org,
                comment=comment or f"import {file.name}",
                expected_revision=expected_revision,
                rebalance=rebalance,
            )
        finally:
            engine.store.dispose()
        summary["stored"] = stored.to_dict()
    if as_json:
        _emit(summary)
        return
    typer.echo(
        f"{file}: valid — {summary['counts']['people']} people, "
        f"{summary['counts']['departments']} departments, {summary['counts']['roles']} roles, "
        f"{summary['counts']['groups']} groups, {summary['counts']['processes']} processes"
    )
    typer.echo("people per department:")
    for dept, count in summary["per_department"].items():
        typer.echo(f"  {dept}: {count}")
    typer.echo("people per role:")
    for role, count in summary["per_role"].items():
        typer.echo(f"  {role}: {count}")
    chains = summary["superiors"]
    typer.echo(
        f"superior chains: no cycles; longest {chains['longest_chain']}; "
        f"top: {', '.join(chains['top']) or '-'}"
    )
    if stored is not None:
        typer.echo(f"stored as organisation revision {stored.revision}")


def _stored_organisation(database: str, revision: int | None) -> Any:
    from liucheng.errors import NotFoundError

    engine = _org_engine(database)
    try:
        found = engine.org_admin().get(revision)
    finally:
        engine.store.dispose()
    if found is None:
        raise NotFoundError(
            "no organisation is stored"
            + (f" as revision {revision}" if revision is not None else "")
            + " in this database",
            code="org.not_stored",
            hint="import one: liucheng org import FILE --database URL",
        )
    return found.organisation


@org_app.command("export")
def org_export(
    file: Annotated[
        Path | None,
        typer.Argument(help="Organisation file to read (default: the one in --database)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="yaml or csv (default: from --output, else yaml)."),
    ] = None,
    database: DbOpt = None,
    revision: Annotated[
        int | None,
        typer.Option("--revision", help="A stored revision (default: the newest)."),
    ] = None,
) -> None:
    """Write the organisation (a file, or the one stored in a database) as YAML or people CSV."""
    import os

    from liucheng.org import dump_organisation, load_organisation, save_organisation

    from .db import DEFAULT_DATABASE

    if file is not None and (database is not None or revision is not None):
        raise ValidationError(
            "give an organisation FILE or --database, not both", code="cli.org.source"
        )
    if file is not None:
        org = load_organisation(file)
    else:
        url = database or os.environ.get("LIUCHENG_DATABASE") or DEFAULT_DATABASE
        org = _stored_organisation(url, revision)
    chosen = fmt or ("csv" if output is not None and output.suffix.lower() == ".csv" else "yaml")
    if chosen not in ("yaml", "csv"):
        raise ValidationError(f"unknown format {chosen!r}", hint="use yaml or csv")
    if output is None:
        typer.echo(dump_organisation(org, chosen), nl=False)
        return
    if (output.suffix.lower() == ".csv") != (chosen == "csv"):
        raise ValidationError(
            f"--format {chosen} does not match the file name {output.name}",
            hint="name CSV output *.csv and YAML output *.yaml",
        )
    for path in save_organisation(org, output):
        typer.echo(f"wrote {path}", err=True)


@org_app.command("history")
def org_history(
    database: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the stored revisions of the organisation (revision, when, who, what)."""
    import os

    from .db import DEFAULT_DATABASE

    engine = _org_engine(database or os.environ.get("LIUCHENG_DATABASE") or DEFAULT_DATABASE)
    try:
        rows = engine.org_admin().history()
    finally:
        engine.store.dispose()
    if as_json:
        _emit({"revisions": rows})
        return
    for row in rows:
        who = row["author"] or "-"
        typer.echo(f"{row['revision']}\t{row['created_at']}\t{who}\t{row['comment'] or ''}")


@org_app.command("raci")
def org_raci(
    first: Annotated[
        str,
        typer.Argument(
            metavar="[FILE] PROCESS",
            help="Organisation file and process id; with only PROCESS, the organisation "
            "stored in the database (--database).",
        ),
    ],
    second: Annotated[str | None, typer.Argument(metavar="", show_default=False)] = None,
    bpmn: Annotated[
        Path | None,
        typer.Option(
            "--bpmn", help="BPMN model: one row per user task, responsible from its lane."
        ),
    ] = None,
    database: DbOpt = None,
    revision: Annotated[
        int | None,
        typer.Option("--revision", help="A stored revision (default: the newest)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the RACI view of a process (responsible, accountable, consulted, informed).

    ``raci FILE PROCESS`` reads an organisation file; ``raci PROCESS`` the organisation stored
    in the database (``--database``, else LIUCHENG_DATABASE, else sqlite:///liucheng.db).
    """
    import os

    from liucheng.org import load_organisation, raci_from_bpmn

    from .db import DEFAULT_DATABASE

    if second is not None:
        if database is not None or revision is not None:
            raise ValidationError(
                "give an organisation FILE or --database, not both", code="cli.org.source"
            )
        org = load_organisation(Path(first))
        process = second
    else:
        url = database or os.environ.get("LIUCHENG_DATABASE") or DEFAULT_DATABASE
        org = _stored_organisation(url, revision)
        process = first
    view = org.raci(process) if bpmn is None else raci_from_bpmn(org, process, bpmn)
    if as_json:
        _emit(view.to_dict())
        return
    typer.echo(f"process {view.process_id}: accountable {view.accountable}")
    for row in view.rows:
        typer.echo(
            f"  {row.task}: R={','.join(row.responsible) or '-'} "
            f"(role {row.role or '-'}, lane {row.lane or '-'}) A={row.accountable} "
            f"C={','.join(row.consulted) or '-'} I={','.join(row.informed) or '-'}"
        )
