"""Differences between two BPMN versions: elements added, removed and changed (by id)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from liucheng.model import BPMN_NS

__all__ = ["diff_bpmn"]

_PARSER_ARGS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_blank_text": True,
}


def _elements(xml: bytes) -> dict[str, tuple[str, dict[str, str], str]]:
    # The document already passed liucheng.model's hardened parser (no DTD, no entities,
    # size-limited); this parser is hardened as well.
    root = etree.fromstring(xml, etree.XMLParser(**_PARSER_ARGS))
    out: dict[str, tuple[str, dict[str, str], str]] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        qn = etree.QName(el)
        if qn.namespace != BPMN_NS:
            continue
        ident = el.get("id")
        if not ident or el is root:
            continue
        attrs = {str(k): str(v) for k, v in el.attrib.items() if k != "id"}
        content: list[str] = [(el.text or "").strip()]
        for child in el:
            if isinstance(child.tag, str) and child.get("id") is None:
                content.append(etree.tostring(child, method="c14n").decode("utf-8", "replace"))
        out[ident] = (qn.localname, attrs, "\n".join(content))
    return out


def diff_bpmn(old: bytes, new: bytes) -> dict[str, Any]:
    """Compare two BPMN documents element by element (matched by id; diagram DI ignored).

    Returns:
        ``{"added": [...], "removed": [...], "changed": [...]}``; changed entries list each
        attribute that differs (``{"from", "to"}``) and whether nested content (conditions,
        extension elements, references) changed.
    """
    a = _elements(old)
    b = _elements(new)

    def brief(ident: str, entry: tuple[str, dict[str, str], str]) -> dict[str, Any]:
        return {"id": ident, "type": entry[0], "name": entry[1].get("name")}

    added = [brief(i, b[i]) for i in b if i not in a]
    removed = [brief(i, a[i]) for i in a if i not in b]
    changed: list[dict[str, Any]] = []
    for ident in a.keys() & b.keys():
        ta, aa, ca = a[ident]
        tb, ab, cb = b[ident]
        attrs = {
            k: {"from": aa.get(k), "to": ab.get(k)}
            for k in sorted(aa.keys() | ab.keys())
            if aa.get(k) != ab.get(k)
        }
        if ta != tb or attrs or ca != cb:
            changed.append(
                {
                    "id": ident,
                    "type": tb,
                    "type_from": ta if ta != tb else None,
                    "name": ab.get("name"),
                    "attributes": attrs,
                    "content_changed": ca != cb,
                }
            )
    changed.sort(key=lambda c: c["id"])
    return {"added": added, "removed": removed, "changed": changed}
