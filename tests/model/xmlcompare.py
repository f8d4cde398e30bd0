"""Semantic comparison of two XML documents, independent of our own parser.

Both documents are read with plain lxml and reduced to a canonical tree: tag (namespace URI +
local name), attributes (booleans and numbers normalised), stripped text and the multiset of child
trees. Comments, processing instructions, whitespace and child order do not count; everything
else (every element, attribute, text, extension element and DI bound) does.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")

Canon = tuple[str, tuple[tuple[str, str], ...], str, tuple[Any, ...]]


def _norm(value: str) -> str:
    # xsd:boolean allows 1/0 for true/false; numbers compare by value (100 == 100.0).
    v = value.strip()
    if v == "true":
        v = "1"
    elif v == "false":
        v = "0"
    if _NUMBER.match(v):
        return repr(float(v))
    return value


def canon(el: Any) -> Canon:
    attrs = tuple(sorted((k, _norm(v)) for k, v in el.attrib.items()))
    text = (el.text or "").strip()
    kids: list[Canon] = []
    for child in el:
        if isinstance(child.tag, str):
            kids.append(canon(child))
        tail = (child.tail or "").strip()
        if tail:
            text += "|" + tail
    return (el.tag, attrs, text, tuple(sorted(kids, key=repr)))


def load(data: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(data, parser)


def by_id(root: Any) -> dict[str, Any]:
    return {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def differences(before: bytes, after: bytes, limit: int = 5) -> list[str]:
    """Human-readable differences (empty when the documents are semantically equal)."""
    a, b = load(before), load(after)
    if canon(a) == canon(b):
        return []
    out: list[str] = []
    ids_a, ids_b = by_id(a), by_id(b)
    for key in ids_a.keys() - ids_b.keys():
        out.append(f"element {key!r} ({ids_a[key].tag}) lost")
    for key in ids_b.keys() - ids_a.keys():
        out.append(f"element {key!r} ({ids_b[key].tag}) appeared")
    for key in ids_a.keys() & ids_b.keys():
        if canon(ids_a[key]) != canon(ids_b[key]):
            out.append(
                f"element {key!r} differs:\n  {canon(ids_a[key])!r:.600}\n  {canon(ids_b[key])!r:.600}"
            )
        if len(out) >= limit:
            break
    return out or ["documents differ outside elements with ids"]
