"""Model → BPMN XML."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from lxml import etree

from ._base import BaseElement, FieldSpec
from ._definitions import Definitions, field_specs
from ._parser import INVALID, convert_attr
from ._xml import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, XmlNode, clark

__all__ = ["write_bpmn", "write_bpmn_file"]

_DEFAULT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("bpmn", BPMN_NS),
    ("bpmndi", BPMNDI_NS),
    ("dc", DC_NS),
    ("di", DI_NS),
)


def _fmt(value: Any, conv: str) -> str:
    if conv == "bool":
        return "true" if value else "false"
    if conv == "float":
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            # int() drops the sign of -0.0
            return ("-" if math.copysign(1.0, number) < 0 and number == 0 else "") + str(
                int(number)
            )
        return repr(number)
    return str(value)


def _nsmap(defs: Definitions) -> dict[str | None, str]:
    nsmap: dict[str | None, str] = {}
    used_uris: set[str] = set()
    for prefix, uri in defs.namespaces:
        if prefix not in nsmap and uri:
            nsmap[prefix] = uri
            used_uris.add(uri)
    for prefix, uri in _DEFAULT_PREFIXES:
        if prefix != "bpmn" and not defs.diagrams:
            continue
        if uri not in used_uris:
            name = prefix
            n = 2
            while name in nsmap:
                name = f"{prefix}{n}"
                n += 1
            nsmap[name] = uri
            used_uris.add(uri)
    return nsmap


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(cls: type[BaseElement]) -> dict[str, Any]:
    """Default value of each field of a class (what the parser leaves for a bad value)."""
    found = _DEFAULTS.get(cls)
    if found is None:
        found = {f.name: f.default for f in dataclasses.fields(cls)}
        _DEFAULTS[cls] = found
    return found


def _write_node(parent: Any, node: XmlNode) -> None:
    el = etree.SubElement(parent, node.tag, dict(node.attrs))
    if node.text is not None:
        el.text = node.text
    if node.tail is not None:
        el.tail = node.tail
    for sub in node.children:
        _write_node(el, sub)


def _build(element: BaseElement, el: Any) -> None:
    specs = field_specs(type(element))
    typed: dict[str, tuple[Any, str, Any]] = {}
    for name, spec in specs:
        if spec.kind == "attr":
            value = getattr(element, name)
            typed[spec.xml] = (value, spec.conv, _defaults(type(element)).get(name))
            if value is not None:
                el.set(spec.xml, _fmt(value, spec.conv))
    for key, raw_value in element.extra_attrs:
        hit = typed.get(key)
        if hit is not None:
            # The spelling the file used ("True") or a value that could not be typed; the
            # typed field wins once someone has changed it.
            converted = convert_attr(raw_value, hit[1])
            if converted is INVALID and hit[0] != hit[2]:
                continue
            if converted is not INVALID and converted != hit[0]:
                continue
        el.set(key, raw_value)
    for key, value in element.foreign_attrs:
        el.set(key, value)
    extra_before = getattr(type(element), "EXTRA_CHILDREN_BEFORE", None)
    for name, spec in specs:
        kind = spec.kind
        if kind == "attr":
            continue
        if name == extra_before:
            for node in element.extra_children:
                _write_node(el, node)
        value = getattr(element, name)
        if kind in ("ext", "text1") and value is not None and _shadow(element, spec, value):
            continue  # the element as the file wrote it is among the extra children
        if kind == "text":
            if value:
                el.text = value
        elif kind == "ext":
            if value is not None:
                ext = etree.SubElement(el, clark(BPMN_NS, "extensionElements"))
                for node in value:
                    _write_node(ext, node)
        elif kind == "texts":
            tag = clark(spec.ns, spec.xml)
            for text in value:
                etree.SubElement(el, tag).text = text
        elif kind == "text1":
            if value is not None:
                etree.SubElement(el, clark(spec.ns, spec.xml)).text = value
        elif kind == "raw":
            for node in value:
                _write_node(el, node)
        elif kind == "child":
            if value is not None:
                _build(value, etree.SubElement(el, _tag(value, spec.group, spec.ns, spec.xml)))
        elif kind == "children":
            for item in value:
                _build(item, etree.SubElement(el, _tag(item, spec.group, spec.ns, spec.xml)))
    if extra_before is None:
        for node in element.extra_children:
            _write_node(el, node)


def _shadow(element: BaseElement, spec: FieldSpec, value: Any) -> bool:
    """Whether an extra child is this field's element as the file wrote it.

    The parser keeps ``extensionElements`` with attributes or text, and ``script``/``text``
    with rich content or attributes, both in the field and as written; the written form is
    used while it still holds the field's value.
    """
    if not element.extra_children:
        return False
    if spec.kind == "ext":
        tag = clark(BPMN_NS, spec.xml)
        return any(n.tag == tag and n.children == value for n in element.extra_children)
    tag = clark(spec.ns, spec.xml)
    for node in element.extra_children:
        if node.tag == tag and (node.attrs or node.children):
            text = node.text_content
            if (text if spec.conv == "raw" else text.strip()) == value:
                return True
    return False


def _tag(item: BaseElement, is_group: bool, ns: str, xml: str) -> str:
    if is_group:
        return clark(item.NS, item.TAG)
    return clark(ns, xml)


def write_bpmn(defs: Definitions, *, pretty: bool = True) -> bytes:
    """Serialise a model to BPMN 2.0 XML (UTF-8, with an XML declaration).

    Every element, attribute, extension element, foreign attribute, namespace prefix and DI
    element the model carries is written; unknown content kept by the parser is written back.

    Args:
        defs: The model.
        pretty: Indent the output.

    Returns:
        The XML document as bytes.
    """
    nsmap = _nsmap(defs)
    root = etree.Element(clark(BPMN_NS, "definitions"), nsmap=nsmap)  # type: ignore[arg-type]
    _build(defs, root)
    if None in nsmap and any(not str(e.tag).startswith("{") for e in root.iter(etree.Element)):
        # lxml writes a namespace-less element under a default namespace without xmlns="",
        # which would move it into that namespace: give the default namespace a prefix.
        uri = nsmap.pop(None)
        if uri not in nsmap.values():
            prefix, n = "ns", 0
            while f"{prefix}{n}" in nsmap:
                n += 1
            nsmap[f"{prefix}{n}"] = uri
        root = etree.Element(clark(BPMN_NS, "definitions"), nsmap=nsmap)  # type: ignore[arg-type]
        _build(defs, root)
    if pretty:
        etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def write_bpmn_file(defs: Definitions, path: str | Path, *, pretty: bool = True) -> Path:
    """Write a model to a file (see :func:`write_bpmn`) and return the path."""
    target = Path(path)
    target.write_bytes(write_bpmn(defs, pretty=pretty))
    return target
