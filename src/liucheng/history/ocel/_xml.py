"""OCEL 2.0 XML reading (hardened lxml parser) and writing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from .._schema import EventLogError
from ._model import (
    OcelLog,
    as_text,
    build,
    event_types_of,
    iso,
    types_json,
)

__all__ = ["read_xml", "write_xml"]


def _hardened_parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        raise EventLogError(
            f"not well-formed XML: {exc.msg}",
            code="history.ocel.malformed",
            file=str(path),
            line=exc.lineno or None,
        ) from None
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise EventLogError(
            "the OCEL XML file declares a DOCTYPE; DTDs and entities are refused",
            code="history.ocel.refused",
            file=str(path),
            line=1,
        )
    return tree.getroot()


def _line(el: etree._Element) -> int | None:
    line: Any = el.sourceline
    return line if isinstance(line, int) else None


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2] if isinstance(tag, str) else ""


def read_xml(path: Path) -> OcelLog:
    source = str(path)
    root = _hardened_parse(path)
    if _local(root.tag) != "log":
        raise EventLogError(
            f"the root element is <{_local(root.tag)}>, not an OCEL <log>",
            code="history.ocel.malformed",
            file=source,
            line=_line(root),
        )

    def kids(el: etree._Element, name: str) -> list[etree._Element]:
        return [c for c in el if _local(c.tag) == name]

    def need(el: etree._Element, attr: str) -> str:
        value = el.get(attr)
        if value is None:
            raise EventLogError(
                f"<{_local(el.tag)}> has no '{attr}' attribute",
                code="history.ocel.malformed",
                file=source,
                line=_line(el),
            )
        return value

    def types(section: str, item: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for sec in kids(root, section):
            for t in kids(sec, item):
                attrs = out.setdefault(need(t, "name"), {})
                for group in kids(t, "attributes"):
                    for a in kids(group, "attribute"):
                        attrs[need(a, "name")] = a.get("type", "string")
        return out

    object_types = types("object-types", "object-type")
    event_types = types("event-types", "event-type")
    objects: list[tuple[str, str]] = []
    oattrs: list[tuple[str, str, str | None, Any]] = []
    o2o: list[tuple[str, str, str | None]] = []
    for sec in kids(root, "objects"):
        for o in kids(sec, "object"):
            oid = need(o, "id")
            objects.append((oid, need(o, "type")))
            for group in kids(o, "attributes"):
                oattrs.extend(
                    (oid, need(a, "name"), a.get("time"), a.text or "")
                    for a in kids(group, "attribute")
                )
            for group in kids(o, "objects"):
                o2o.extend(
                    (oid, need(r, "object-id"), r.get("qualifier"))
                    for r in kids(group, "relationship")
                )
    events: list[dict[str, Any]] = []
    eattrs: list[tuple[str, str, Any]] = []
    rels: list[tuple[str, str, str | None]] = []
    for sec in kids(root, "events"):
        for e in kids(sec, "event"):
            eid = need(e, "id")
            events.append({"id": eid, "type": need(e, "type"), "time": need(e, "time")})
            for group in kids(e, "attributes"):
                eattrs.extend((eid, need(a, "name"), a.text) for a in kids(group, "attribute"))
            for group in kids(e, "objects"):
                rels.extend(
                    (eid, need(r, "object-id"), r.get("qualifier"))
                    for r in kids(group, "relationship")
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


def write_xml(log: OcelLog, path: Path) -> None:
    E = etree.Element
    S = etree.SubElement
    root = E("log")
    for section, item, types, frame in (
        ("object-types", "object-type", log.object_types, log.objects),
        ("event-types", "event-type", event_types_of(log), log.events),
    ):
        sec = S(root, section)
        for t in types_json(types, frame):
            te = S(sec, item, name=t["name"])
            ae = S(te, "attributes")
            for a in t["attributes"]:
                S(ae, "attribute", name=a["name"], type=a["type"])
    objs = S(root, "objects")
    attrs_by_obj: dict[str, list[tuple[str, datetime, str | None]]] = {}
    for oid, name, time, value in log.object_attributes.iter_rows():
        attrs_by_obj.setdefault(oid, []).append((name, time, value))
    o2o_by_obj: dict[str, list[tuple[str, str | None]]] = {}
    for src, dst, q in log.o2o.iter_rows():
        o2o_by_obj.setdefault(src, []).append((dst, q))
    for oid, otype in log.objects.iter_rows():
        oe = S(objs, "object", id=oid, type=otype)
        ae = S(oe, "attributes")
        for name, time, value in attrs_by_obj.get(oid, []):
            S(ae, "attribute", name=name, time=iso(time)).text = value or ""
        re_ = S(oe, "objects")
        for dst, q in o2o_by_obj.get(oid, []):
            S(re_, "relationship", {"object-id": dst, "qualifier": q or ""})
    evs = S(root, "events")
    attr_cols = [c for c in log.events.columns if c not in ("ocel_id", "ocel_type", "ocel_time")]
    rel_by_event: dict[str, list[tuple[str, str | None]]] = {}
    for eid, oid, q in log.relations.iter_rows():
        rel_by_event.setdefault(eid, []).append((oid, q))
    for row in log.events.iter_rows(named=True):
        ee = S(evs, "event", id=row["ocel_id"], type=row["ocel_type"], time=iso(row["ocel_time"]))
        ae = S(ee, "attributes")
        for c in attr_cols:
            if row[c] is not None:
                v = row[c]
                S(ae, "attribute", name=c).text = iso(v) if isinstance(v, datetime) else as_text(v)
        re_ = S(ee, "objects")
        for oid, q in rel_by_event.get(row["ocel_id"], []):
            S(re_, "relationship", {"object-id": oid, "qualifier": q or ""})
    path.write_bytes(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
