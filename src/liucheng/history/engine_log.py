"""The engine's own history as an event log (the same frame as :func:`liucheng.history.read_log`).

Each process instance is a case. Each activity instance gives its events:

- user tasks: ``schedule`` when the task is created, ``start`` when it is first claimed or assigned
  (so waiting time is the queue time and working time runs from claim to completion), and
  ``complete`` with the person who completed it as resource;
- other activities: ``start`` and ``complete``;
- an activity that was interrupted (boundary event, cancellation, terminate) ends with
  ``ate_abort`` instead of ``complete``.

Activity names come from the deployed models. Case attributes: ``case:process`` (process key),
``case:definition_id``, ``case:business_key`` and the last value of every process-level variable
with a plain value (``case:<name>``), so KPI files can compute over them (CSAT, priority, ...).
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from liucheng.store import SqlStore, SqlTransaction
from liucheng.store._retry import in_transaction

from ._schema import EventLogError

__all__ = ["ACTIVITY_TYPES", "is_engine_database", "read_engine_log"]

#: BPMN element types that count as activities in the log.
ACTIVITY_TYPES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "subProcess",
        "adHocSubProcess",
        "transaction",
        "callActivity",
    }
)

_KINDS = (
    "process_start",
    "activity_start",
    "activity_end",
    "task_create",
    "task_assign",
    "task_complete",
    "variable",
)


def is_engine_database(path: str | Path) -> bool:
    """Whether ``path`` is a Liucheng SQLite database (it has the ``lc_history`` table)."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        with p.open("rb") as fh:
            if not fh.read(16).startswith(b"SQLite format 3"):
                return False
        conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lc_history'"
            ).fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False
    return row is not None


def _names(store: SqlStore, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Model names of the (definition id, element id) pairs in ``wanted``."""
    from liucheng.model import parse_bpmn

    by_definition: dict[str, set[str]] = {}
    for def_id, element_id in wanted:
        by_definition.setdefault(def_id, set()).add(element_id)

    def read(tx: SqlTransaction) -> dict[tuple[str, str], str]:
        names: dict[tuple[str, str], str] = {}
        for def_id, element_ids in by_definition.items():
            record = tx.get_definition(def_id)
            if record is None or record.kind != "bpmn":
                continue
            deployment = tx.get_deployment(record.deployment_id)
            if deployment is None or record.resource_name not in deployment.resources:
                continue
            defs = parse_bpmn(deployment.resources[record.resource_name])
            for element_id in element_ids:
                name = getattr(defs.get(element_id), "name", None)
                if isinstance(name, str) and name.strip():
                    names[(def_id, element_id)] = " ".join(name.split())
        return names

    return in_transaction(store, read)


def _plain(value: Any) -> Any:
    if isinstance(value, bool | str | int | float) or value is None:
        return value
    if isinstance(value, Decimal):
        return float(value)
    return None


def read_engine_log(
    database: str | SqlStore,
    *,
    process: str | None = None,
    include_events: bool = False,
    use_names: bool = True,
) -> pl.DataFrame:
    """Read the engine's history from ``database`` into an event-log frame.

    Args:
        database: A database URL (``sqlite:///liucheng.db``, ``postgresql://…``), a SQLite file
            path, or an open :class:`~liucheng.store.SqlStore`.
        process: Only instances of this process key.
        include_events: Also include events and gateways (by default only activities).
        use_names: Name activities by their model names (else by element id).

    Raises:
        EventLogError: The database has no Liucheng history.
    """
    own = not isinstance(database, SqlStore)
    try:
        store = database if isinstance(database, SqlStore) else SqlStore(database, upgrade=False)
    except Exception as exc:  # any connection failure is the same user error
        raise EventLogError(
            f"cannot open the engine database {database}: {exc}",
            code="history.engine.unreadable",
            hint="pass a sqlite:/// or postgresql:// URL of a Liucheng database",
        ) from None
    try:
        events = in_transaction(store, lambda tx: tx.find_history({"kind": list(_KINDS)}))
        return _frame(store, events, process, include_events, use_names)
    except EventLogError:
        raise
    except Exception as exc:  # e.g. no lc_history table
        raise EventLogError(
            f"cannot read the engine history from {database}: {exc}",
            code="history.engine.unreadable",
            hint="is this a Liucheng database? run `liucheng db upgrade` on it first",
        ) from None
    finally:
        if own:
            store.dispose()


def _frame(
    store: SqlStore,
    events: list[Any],
    process: str | None,
    include_events: bool,
    use_names: bool,
) -> pl.DataFrame:
    case_attrs: dict[str, dict[str, Any]] = {}
    wanted: set[str] = set()
    for ev in events:
        if ev.kind == "process_start" and ev.instance_id:
            data = ev.data or {}
            if process is None or data.get("key") == process:
                wanted.add(ev.instance_id)
                case_attrs[ev.instance_id] = {
                    "case:process": data.get("key"),
                    "case:definition_id": ev.definition_id,
                    "case:business_key": data.get("business_key"),
                }
    claimed: dict[tuple[str, str], tuple[_dt.datetime, str | None]] = {}
    assignee: dict[tuple[str, str], str | None] = {}
    completer: dict[tuple[str, str], str | None] = {}
    # Task events may not carry the element instance; their task id leads to it.
    task_ei: dict[str, str] = {}
    for ev in events:
        pid = ev.instance_id
        if pid not in wanted:
            continue
        task_id = (ev.data or {}).get("task_id")
        if ev.kind == "task_create" and task_id and ev.element_instance_id:
            task_ei[task_id] = ev.element_instance_id
        key = (pid, ev.element_instance_id or task_ei.get(task_id or "", ""))
        if ev.kind == "task_assign":
            who = (ev.data or {}).get("assignee")
            assignee[key] = who
            if who and key not in claimed:
                claimed[key] = (ev.at, who)
        elif ev.kind == "task_complete":
            completer[key] = ev.actor
        elif ev.kind == "variable" and ev.data and ev.data.get("scope") in (None, "process"):
            name = ev.data.get("name")
            if isinstance(name, str):
                case_attrs[pid][f"case:{name}"] = _plain(ev.data.get("value"))
    pairs = {
        (ev.definition_id or "", ev.element_id or "")
        for ev in events
        if ev.instance_id in wanted and ev.kind == "activity_start"
    }
    names = _names(store, pairs) if use_names else {}
    rows: list[dict[str, Any]] = []
    index = 0
    for ev in events:
        pid = ev.instance_id
        if pid not in wanted or ev.kind not in ("activity_start", "activity_end"):
            continue
        etype = ev.element_type or ""
        if not include_events and etype not in ACTIVITY_TYPES:
            continue
        element = ev.element_id or ""
        activity = names.get((ev.definition_id or "", element), element)
        key = (pid, ev.element_instance_id or "")
        base = {"case_id": pid, "activity": activity, "element_id": element, "element_type": etype}
        if ev.kind == "activity_start":
            if etype == "userTask":
                rows.append(
                    {
                        **base,
                        "timestamp": ev.at,
                        "lifecycle": "schedule",
                        "resource": None,
                        "event_index": index,
                    }
                )
                index += 1
                if key in claimed:
                    at, who = claimed[key]
                    rows.append(
                        {
                            **base,
                            "timestamp": at,
                            "lifecycle": "start",
                            "resource": who,
                            "event_index": index,
                        }
                    )
                    index += 1
                continue
            rows.append(
                {
                    **base,
                    "timestamp": ev.at,
                    "lifecycle": "start",
                    "resource": None,
                    "event_index": index,
                }
            )
        else:
            if etype == "userTask" and key not in claimed:
                rows.append(
                    {
                        **base,
                        "timestamp": ev.at,
                        "lifecycle": "start",
                        "resource": completer.get(key),
                        "event_index": index,
                    }
                )
                index += 1
            completed = ev.data is None or ev.data.get("completed", True)
            rows.append(
                {
                    **base,
                    "timestamp": ev.at,
                    "lifecycle": "complete" if completed else "ate_abort",
                    "resource": completer.get(key) or assignee.get(key),
                    "event_index": index,
                }
            )
        index += 1
    return _to_frame(rows, case_attrs)


def _to_frame(rows: list[dict[str, Any]], case_attrs: dict[str, dict[str, Any]]) -> pl.DataFrame:
    schema: dict[str, Any] = {
        "case_id": pl.Utf8,
        "activity": pl.Utf8,
        "timestamp": pl.Datetime("us", "UTC"),
        "lifecycle": pl.Utf8,
        "resource": pl.Utf8,
        "event_index": pl.Int64,
        "element_id": pl.Utf8,
        "element_type": pl.Utf8,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    if case_attrs:
        columns = sorted({k for attrs in case_attrs.values() for k in attrs})
        cases = pl.DataFrame(
            [
                {"case_id": cid, **{c: attrs.get(c) for c in columns}}
                for cid, attrs in case_attrs.items()
            ],
            infer_schema_length=None,
        )
        frame = frame.join(cases, on="case_id", how="left")
    first = frame.group_by("case_id", maintain_order=True).agg(
        pl.col("event_index").min().alias("_first")
    )
    return (
        frame.join(first, on="case_id", how="left")
        .sort(["_first", "timestamp", "event_index"])
        .drop("_first")
    )
