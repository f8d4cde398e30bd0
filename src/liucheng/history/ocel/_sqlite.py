"""OCEL 2.0 SQLite: the relational tables of the standard, read and written."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from .._schema import EventLogError
from ._model import (
    EPOCH,
    EPOCH_DT,
    OcelLog,
    build,
    event_types_of,
    iso,
)

__all__ = ["read_sqlite", "write_sqlite"]


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _map_name(type_name: str) -> str:
    return "".join(ch for ch in type_name if ch.isalnum() or ch == "_") or "type"


def read_sqlite(path: Path) -> OcelLog:
    source = str(path)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise EventLogError(f"cannot open SQLite file: {exc}", file=source) from None
    try:
        con.row_factory = sqlite3.Row

        def rows(sql: str) -> list[sqlite3.Row]:
            return con.execute(sql).fetchall()

        event_map = {
            r["ocel_type"]: r["ocel_type_map"] for r in rows("SELECT * FROM event_map_type")
        }
        object_map = {
            r["ocel_type"]: r["ocel_type_map"] for r in rows("SELECT * FROM object_map_type")
        }
        event_types: dict[str, dict[str, str]] = {}
        events: list[dict[str, Any]] = []
        eattrs: list[tuple[str, str, Any]] = []
        for etype, suffix in event_map.items():
            table = _sql_name(f"event_{suffix}")
            decl = event_types.setdefault(etype, {})
            for col in con.execute(f"PRAGMA table_info({table})").fetchall():
                if not _reserved(col[1]):
                    decl[col[1]] = _sqlite_type(col[2])
            for r in rows(f"SELECT * FROM {table}"):
                events.append({"id": r["ocel_id"], "type": etype, "time": r["ocel_time"]})
                eattrs.extend((r["ocel_id"], k, r[k]) for k in decl if r[k] is not None)
        order = {
            r["ocel_id"]: i for i, r in enumerate(rows("SELECT ocel_id FROM event ORDER BY rowid"))
        }
        events.sort(key=lambda e: order.get(e["id"], len(order)))
        object_types: dict[str, dict[str, str]] = {}
        objects = [(r["ocel_id"], r["ocel_type"]) for r in rows("SELECT * FROM object")]
        oattrs: list[tuple[str, str, str | None, Any]] = []
        for otype, suffix in object_map.items():
            table = _sql_name(f"object_{suffix}")
            decl = object_types.setdefault(otype, {})
            for col in con.execute(f"PRAGMA table_info({table})").fetchall():
                if not _reserved(col[1]):
                    decl[col[1]] = _sqlite_type(col[2])
            for r in rows(f"SELECT * FROM {table}"):
                names = r.keys()  # (Row's own "in" looks at values, not column names)
                changed = r["ocel_changed_field"] if "ocel_changed_field" in names else None
                when = r["ocel_time"] if "ocel_time" in names else None
                for k in decl:
                    if r[k] is not None and (changed is None or changed == k):
                        oattrs.append((r["ocel_id"], k, when, r[k]))
        rels = [
            (r["ocel_event_id"], r["ocel_object_id"], r["ocel_qualifier"])
            for r in rows("SELECT * FROM event_object")
        ]
        o2o = [
            (r["ocel_source_id"], r["ocel_target_id"], r["ocel_qualifier"])
            for r in rows("SELECT * FROM object_object")
        ]
    except (sqlite3.Error, IndexError, KeyError) as exc:
        raise EventLogError(
            f"not an OCEL 2.0 SQLite database: {exc}",
            code="history.ocel.malformed",
            file=source,
        ) from None
    finally:
        con.close()
    return build(
        events=events,
        event_attrs=eattrs,
        objects=objects,
        object_attrs=oattrs,
        relations=rels,
        o2o=o2o,
        event_types=event_types,
        object_types=object_types,
        source=source,
    )


def _reserved(column: str) -> bool:
    """OCEL's own columns (``ocel_id``, ``ocel_time``...; pm4py adds ``ocel:activity``)."""
    return column.startswith(("ocel_", "ocel:"))


def _sqlite_type(decl: str) -> str:
    d = (decl or "").upper()
    if "INT" in d:
        return "integer"
    if "REAL" in d or "FLOA" in d or "DOUB" in d:
        return "float"
    if "BOOL" in d:
        return "boolean"
    if "TIMESTAMP" in d or "DATE" in d:
        return "time"
    return "string"


_SQL_OF = {"integer": "INTEGER", "float": "REAL", "boolean": "BOOLEAN", "time": "TIMESTAMP"}


def _sql_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    return value


def write_sqlite(log: OcelLog, path: Path) -> None:
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        cur = con.cursor()
        cur.execute("CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
        cur.execute("CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
        cur.execute("CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT)")
        cur.execute("CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT)")
        cur.execute(
            "CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, "
            "ocel_qualifier TEXT)"
        )
        cur.execute(
            "CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, "
            "ocel_qualifier TEXT)"
        )
        cur.executemany(
            "INSERT INTO event VALUES (?, ?)", log.events.select("ocel_id", "ocel_type").rows()
        )
        cur.executemany("INSERT INTO object VALUES (?, ?)", log.objects.rows())
        cur.executemany("INSERT INTO event_object VALUES (?, ?, ?)", log.relations.rows())
        cur.executemany("INSERT INTO object_object VALUES (?, ?, ?)", log.o2o.rows())
        used: set[str] = set()
        for etype, attrs in event_types_of(log).items():
            suffix = _unique(_map_name(etype), used)
            cur.execute("INSERT INTO event_map_type VALUES (?, ?)", (etype, suffix))
            names = list(attrs)
            cols = ", ".join(f"{_sql_name(a)} {_SQL_OF.get(attrs[a], 'TEXT')}" for a in names)
            table = _sql_name(f"event_{suffix}")
            cur.execute(
                f"CREATE TABLE {table} (ocel_id TEXT, ocel_time TIMESTAMP"
                + (f", {cols})" if cols else ")")
            )
            sub = log.events.filter(pl.col("ocel_type") == etype)
            marks = ", ".join("?" * (2 + len(names)))
            cur.executemany(
                f"INSERT INTO {table} VALUES ({marks})",
                [
                    (r["ocel_id"], iso(r["ocel_time"]), *[_sql_value(r.get(a)) for a in names])
                    for r in sub.iter_rows(named=True)
                ],
            )
        used.clear()
        otypes = {k: dict(v) for k, v in log.object_types.items()}
        for otype in log.objects.get_column("ocel_type").unique(maintain_order=True).to_list():
            otypes.setdefault(otype, {})
        type_of = dict(log.objects.iter_rows())
        for oid, name, _t, _v in log.object_attributes.iter_rows():
            otypes.setdefault(type_of.get(oid, ""), {}).setdefault(name, "string")
        for otype, attrs in otypes.items():
            suffix = _unique(_map_name(otype), used)
            cur.execute("INSERT INTO object_map_type VALUES (?, ?)", (otype, suffix))
            names = list(attrs)
            cols = ", ".join(f"{_sql_name(a)} {_SQL_OF.get(attrs[a], 'TEXT')}" for a in names)
            table = _sql_name(f"object_{suffix}")
            cur.execute(
                f"CREATE TABLE {table} (ocel_id TEXT, ocel_time TIMESTAMP, "
                "ocel_changed_field TEXT" + (f", {cols})" if cols else ")")
            )
            marks = ", ".join("?" * (3 + len(names)))
            ids = [o for o, t in type_of.items() if t == otype]
            sub = log.object_attributes.filter(pl.col("ocel_id").is_in(ids))
            initial: dict[str, dict[str, Any]] = {o: {} for o in ids}
            rows_: list[tuple[Any, ...]] = []
            changes: list[tuple[Any, ...]] = []
            for oid, name, time, value in sub.iter_rows():
                if time == EPOCH_DT:
                    initial[oid][name] = value
                else:
                    vals = [value if a == name else None for a in names]
                    changes.append((oid, iso(time), name, *vals))
            # Every object has an initial row (ocel_changed_field NULL), then one row per change.
            for oid in ids:
                rows_.append((oid, EPOCH, None, *[initial[oid].get(a) for a in names]))
            rows_.extend(changes)
            cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows_)
        con.commit()
    finally:
        con.close()


def _unique(name: str, used: set[str]) -> str:
    out, i = name, 1
    while out in used:
        i += 1
        out = f"{name}_{i}"
    used.add(out)
    return out
