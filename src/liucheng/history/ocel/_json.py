"""OCEL 2.0 JSON (and OCEL 1.0 ``jsonocel``) reading and OCEL 2.0 JSON writing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from .._schema import EventLogError
from ._model import (
    OcelLog,
    build,
    event_types_of,
    iso,
    types_json,
)

__all__ = ["read_json", "write_json"]


def read_json(path: Path) -> OcelLog:
    source = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EventLogError(
            f"not valid JSON: {exc.msg}",
            code="history.ocel.malformed",
            file=source,
            line=exc.lineno,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EventLogError(f"cannot read {source}: {exc}", file=source) from None
    if not isinstance(doc, dict):
        raise EventLogError("an OCEL JSON document is an object", file=source, line=1)
    try:
        if "ocel:events" in doc:
            return _read_json_v1(doc, source)
        return _read_json_v2(doc, source)
    except (KeyError, TypeError, AttributeError) as exc:
        raise EventLogError(
            f"not an OCEL 2.0 (or 1.0) JSON log: missing or malformed {exc}",
            code="history.ocel.malformed",
            file=source,
            hint="see https://www.ocel-standard.org for the format",
        ) from None


def _read_json_v2(doc: dict[str, Any], source: str) -> OcelLog:
    event_types = {
        t["name"]: {a["name"]: a.get("type", "string") for a in t.get("attributes", [])}
        for t in doc.get("eventTypes", [])
    }
    object_types = {
        t["name"]: {a["name"]: a.get("type", "string") for a in t.get("attributes", [])}
        for t in doc.get("objectTypes", [])
    }
    events: list[dict[str, Any]] = []
    eattrs: list[tuple[str, str, Any]] = []
    rels: list[tuple[str, str, str | None]] = []
    for e in doc["events"]:
        eid = str(e["id"])
        events.append({"id": eid, "type": e["type"], "time": e["time"]})
        eattrs.extend((eid, a["name"], a.get("value")) for a in e.get("attributes") or [])
        rels.extend(
            (eid, str(r["objectId"]), r.get("qualifier")) for r in e.get("relationships") or []
        )
    objects: list[tuple[str, str]] = []
    oattrs: list[tuple[str, str, str | None, Any]] = []
    o2o: list[tuple[str, str, str | None]] = []
    for o in doc["objects"]:
        oid = str(o["id"])
        objects.append((oid, str(o["type"])))
        oattrs.extend(
            (oid, a["name"], a.get("time"), a.get("value")) for a in o.get("attributes") or []
        )
        o2o.extend(
            (oid, str(r["objectId"]), r.get("qualifier")) for r in o.get("relationships") or []
        )
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


def _read_json_v1(doc: dict[str, Any], source: str) -> OcelLog:
    events: list[dict[str, Any]] = []
    eattrs: list[tuple[str, str, Any]] = []
    rels: list[tuple[str, str, str | None]] = []
    event_types: dict[str, dict[str, str]] = {}
    for eid, e in doc["ocel:events"].items():
        activity = e["ocel:activity"]
        events.append({"id": eid, "type": activity, "time": e["ocel:timestamp"]})
        types = event_types.setdefault(activity, {})
        for name, value in (e.get("ocel:vmap") or {}).items():
            eattrs.append((eid, name, value))
            types[name] = _json_type(value, types.get(name))
        rels.extend((eid, str(oid), None) for oid in e.get("ocel:omap") or [])
    objects: list[tuple[str, str]] = []
    oattrs: list[tuple[str, str, str | None, Any]] = []
    object_types: dict[str, dict[str, str]] = {}
    for oid, o in doc["ocel:objects"].items():
        otype = o["ocel:type"]
        objects.append((oid, otype))
        types = object_types.setdefault(otype, {})
        for name, value in (o.get("ocel:ovmap") or {}).items():
            oattrs.append((oid, name, None, value))
            types[name] = _json_type(value, types.get(name))
    return build(
        events=events,
        event_attrs=eattrs,
        objects=objects,
        object_attrs=oattrs,
        relations=rels,
        o2o=[],
        event_types=event_types,
        object_types=object_types,
        source=source,
    )


def _json_type(value: Any, known: str | None) -> str:
    if isinstance(value, bool):
        t = "boolean"
    elif isinstance(value, int):
        t = "integer"
    elif isinstance(value, float):
        t = "float"
    else:
        t = "string"
    if known is None or known == t:
        return t
    return "float" if {known, t} == {"integer", "float"} else "string"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return value


def write_json(log: OcelLog, path: Path) -> None:
    attr_cols = [c for c in log.events.columns if c not in ("ocel_id", "ocel_type", "ocel_time")]
    rel_by_event: dict[str, list[dict[str, Any]]] = {}
    for eid, oid, q in log.relations.iter_rows():
        rel_by_event.setdefault(eid, []).append({"objectId": oid, "qualifier": q or ""})
    events = []
    for row in log.events.iter_rows(named=True):
        events.append(
            {
                "id": row["ocel_id"],
                "type": row["ocel_type"],
                "time": iso(row["ocel_time"]),
                "attributes": [
                    {"name": c, "value": _json_value(row[c])}
                    for c in attr_cols
                    if row[c] is not None
                ],
                "relationships": rel_by_event.get(row["ocel_id"], []),
            }
        )
    attrs_by_obj: dict[str, list[dict[str, Any]]] = {}
    for oid, name, time, value in log.object_attributes.iter_rows():
        attrs_by_obj.setdefault(oid, []).append({"name": name, "time": iso(time), "value": value})
    o2o_by_obj: dict[str, list[dict[str, Any]]] = {}
    for src, dst, q in log.o2o.iter_rows():
        o2o_by_obj.setdefault(src, []).append({"objectId": dst, "qualifier": q or ""})
    objects = [
        {
            "id": oid,
            "type": otype,
            "attributes": attrs_by_obj.get(oid, []),
            "relationships": o2o_by_obj.get(oid, []),
        }
        for oid, otype in log.objects.iter_rows()
    ]
    doc = {
        "objectTypes": types_json(log.object_types, log.objects),
        "eventTypes": types_json(event_types_of(log), log.events),
        "objects": objects,
        "events": events,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
