"""BPMN XML → model, with a hardened lxml parser."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from lxml import etree

from liucheng.errors import ModelError, XmlSecurityError

from ._base import REGISTRY, BaseElement, FieldSpec
from ._definitions import Definitions, field_specs
from ._xml import BPMN_NS, WELL_KNOWN_NAMESPACES, XmlNode, clark, split_clark

__all__ = ["DEFAULT_MAX_BYTES", "INVALID", "convert_attr", "parse_bpmn", "parse_xml_bytes"]

#: Size limit (bytes): documents of this size or more are refused before parsing.
DEFAULT_MAX_BYTES = 50_000_000

_NS_DECL = re.compile(rb"""xmlns:([A-Za-z_][\w.\-]*)\s*=\s*["']([^"']*)["']""")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype")
_ENCODING_DECL = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")

_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")

_Table = dict[str, tuple[str, FieldSpec, type[BaseElement] | None]]


def _group_classes(bases: str) -> list[type[BaseElement]]:
    wanted = tuple(REGISTRY[name] for name in bases.split("|"))
    return [c for c in REGISTRY.values() if "TAG" in c.__dict__ and issubclass(c, wanted)]


_TABLES: dict[type, tuple[dict[str, tuple[str, str]], _Table, str | None]] = {}


def _tables(cls: type[BaseElement]) -> tuple[dict[str, tuple[str, str]], _Table, str | None]:
    """Attribute table, child-tag table and own-text field of a class."""
    cached = _TABLES.get(cls)
    if cached is not None:
        return cached
    attrs: dict[str, tuple[str, str]] = {}
    kids: _Table = {}
    own_text: str | None = None
    for name, spec in field_specs(cls):
        if spec.kind == "attr":
            attrs[spec.xml] = (name, spec.conv)
        elif spec.kind == "text":
            own_text = name
        elif spec.kind == "ext":
            kids[clark(BPMN_NS, spec.xml)] = (name, spec, None)
        elif spec.kind in ("child", "children") and spec.group:
            for target in _group_classes(spec.cls):
                kids.setdefault(clark(target.NS, target.TAG), (name, spec, target))
        elif spec.kind in ("child", "children"):
            kids[clark(spec.ns, spec.xml)] = (name, spec, REGISTRY[spec.cls])
        else:  # texts, text1, raw
            for tag in spec.xml.split("|"):
                kids[clark(spec.ns, tag)] = (name, spec, None)
    _TABLES[cls] = (attrs, kids, own_text)
    return attrs, kids, own_text


INVALID = object()


def convert_attr(value: str, conv: str) -> Any:
    """Typed attribute value, or ``INVALID`` (the raw text is then kept as an extra attribute,
    so the document still loads and round-trips; validation reports it)."""
    if conv == "str":
        return value
    text = value.strip()
    try:
        if conv == "bool":
            low = text.lower()
            if low in ("true", "1"):
                return True
            if low in ("false", "0"):
                return False
            return INVALID
        # XSD lexical forms only: Python's int()/float() also take "1_000", "inf", "nan" and
        # non-ASCII digits, none of which a BPMN tool means as a number.
        if conv == "int":
            return int(text) if _INT.match(text) else INVALID
        if conv == "float":
            if not _FLOAT.match(text):
                return INVALID
            number = float(text)
            return number if math.isfinite(number) else INVALID
    except ValueError:
        return INVALID
    return value  # pragma: no cover - unknown conv


def _blank(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _node(el: Any) -> XmlNode:
    return XmlNode(
        tag=el.tag,
        attrs=tuple(el.attrib.items()),
        text=_blank(el.text),
        children=tuple(_node(c) for c in el if isinstance(c.tag, str)),
        tail=_blank(el.tail),
        line=el.sourceline,
    )


def _element(el: Any, cls: type[BaseElement]) -> BaseElement:
    attr_table, kid_table, own_text = _tables(cls)
    kwargs: dict[str, Any] = {"line": el.sourceline}
    foreign: list[tuple[str, str]] = []
    extra: list[tuple[str, str]] = []
    for key, value in el.attrib.items():
        if key[0] == "{":
            foreign.append((key, value))
            continue
        hit = attr_table.get(key)
        if hit is None:
            extra.append((key, value))
            continue
        converted = convert_attr(value, hit[1])
        if converted is INVALID:
            extra.append((key, value))
        else:
            kwargs[hit[0]] = converted
            if hit[1] == "bool" and value not in ("true", "false"):
                # Keep the spelling ("True", "1") so the file round-trips as written; the
                # writer only uses it while it still means the typed value.
                extra.append((key, value))
    lists: dict[str, list[Any]] = {}
    extra_children: list[XmlNode] = []
    for sub in el:
        tag = sub.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        hit2 = kid_table.get(tag)
        if hit2 is None:
            extra_children.append(_node(sub))
            continue
        name, spec, target = hit2
        kind = spec.kind
        if kind == "ext":
            if name in kwargs:
                extra_children.append(_node(sub))
            else:
                kwargs[name] = tuple(_node(c) for c in sub if isinstance(c.tag, str))
                if sub.attrib or _blank(sub.text):
                    # Attributes or loose text the field cannot hold: keep the element as
                    # written too; the writer uses it while it matches the field.
                    extra_children.append(_node(sub))
        elif kind == "texts":
            lists.setdefault(name, []).append((sub.text or "").strip())
        elif kind == "raw":
            lists.setdefault(name, []).append(_node(sub))
        elif kind == "text1":
            if name in kwargs:
                extra_children.append(_node(sub))
            elif sub.attrib or len(sub):
                # Rich text (XHTML in an annotation) or attributes: the field gets the whole
                # text, the element is kept as written for the writer (see ``_shadow``).
                node = _node(sub)
                extra_children.append(node)
                text = node.text_content
                kwargs[name] = text if spec.conv == "raw" else text.strip()
            else:
                text = sub.text or ""
                kwargs[name] = text if spec.conv == "raw" else text.strip()
        elif kind == "child":
            if name in kwargs:
                extra_children.append(_node(sub))
            else:
                assert target is not None
                kwargs[name] = _element(sub, target)
        else:
            assert target is not None
            lists.setdefault(name, []).append(_element(sub, target))
    for name, values in lists.items():
        kwargs[name] = tuple(values)
    if own_text is not None:
        kwargs[own_text] = el.text or ""
    if foreign:
        kwargs["foreign_attrs"] = tuple(foreign)
    if extra:
        kwargs["extra_attrs"] = tuple(extra)
    if extra_children:
        kwargs["extra_children"] = tuple(extra_children)
    return cls(**kwargs)


def _prepare(source: bytes | str | Path, filename: str | None, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, Path):
        name = filename or str(source)
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise ModelError(
                f"cannot read {source}: {exc.strerror or exc}",
                code="bpmn.file.unreadable",
                file=name,
                hint="check the path",
            ) from None
        if size >= max_bytes:
            raise _too_large(size, max_bytes, name)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise ModelError(
                f"cannot read {source}: {exc.strerror or exc}",
                code="bpmn.file.unreadable",
                file=name,
            ) from None
        return data, name
    name = filename or "<bpmn>"
    if isinstance(source, str) and "<" not in source[:4096]:
        raise ModelError(
            "text is not XML",
            code="bpmn.xml.malformed",
            file=name,
            hint="a str is read as XML text; to read a file pass pathlib.Path(...)",
        )
    if isinstance(source, str):
        # lxml refuses str with an encoding declaration; the text is already decoded.
        source = _ENCODING_DECL.sub(r"\1", source, count=1).encode("utf-8")
    if len(source) >= max_bytes:
        raise _too_large(len(source), max_bytes, name)
    return source, name


def _too_large(size: int, max_bytes: int, name: str) -> XmlSecurityError:
    return XmlSecurityError(
        f"document is {size / 1e6:.1f} MB; documents of {max_bytes / 1e6:.1f} MB or more "
        "are refused",
        code="xml.too_large",
        file=name,
        hint="split the model or raise the size limit (max_bytes)",
    )


def _check_prolog(data: bytes, name: str) -> None:
    # A DOCTYPE can only come before the root element: look at the prolog, which is tiny in
    # ordinary files, so refusing entity bombs costs nothing.
    start = 0
    while True:
        lt = data.find(b"<", start)
        if lt < 0 or lt + 1 >= len(data):
            return
        nxt = data[lt + 1 : lt + 2]
        if nxt == b"?":
            end = data.find(b"?>", lt)
        elif data.startswith(b"<!--", lt):
            end = data.find(b"-->", lt)
        elif nxt == b"!":
            line = data.count(b"\n", 0, lt) + 1
            raise XmlSecurityError(
                "DOCTYPE / ENTITY declarations are not allowed in BPMN documents",
                code="xml.doctype",
                file=name,
                line=line,
            )
        else:
            return
        if end < 0:
            return
        start = end + 2


_UTF8_BOM = b"\xef\xbb\xbf"


def _move_leading_space(data: bytes) -> bytes:
    """Move blank lines before the XML declaration to just after it.

    Some exporters (and files pasted from elsewhere) start with whitespace, which XML forbids
    before ``<?xml``; moving it keeps every later line number where it was.
    """
    bom = _UTF8_BOM if data.startswith(_UTF8_BOM) else b""
    body = data[len(bom) :]
    stripped = body.lstrip(b" \t\r\n")
    if len(stripped) == len(body) or not stripped.startswith(b"<?xml"):
        return data
    end = stripped.find(b"?>")
    if end < 0:
        return data
    return bom + stripped[: end + 2] + body[: len(body) - len(stripped)] + stripped[end + 2 :]


def _syntax_hint(msg: str) -> str:
    low = msg.lower()
    if "encoding" in low:
        return (
            "the bytes do not match the declared encoding; save the file as UTF-8 or fix "
            "encoding=... in the <?xml ...?> declaration"
        )
    if "not a valid uri" in low:
        return "a namespace declaration (xmlns:...) is not a valid URI; fix or remove it"
    if "depth" in low:
        return "elements are nested more than 256 levels deep, which is refused"
    return "the file is not valid XML; open it in a BPMN modeller or an XML editor to fix it"


def _parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        # Without comments, text split by a comment (``a<!-- -->b``) is one text node, as
        # every other XML reader sees it.
        remove_comments=True,
        collect_ids=False,
    )


_UNDEFINED_PREFIX = re.compile(r"Namespace prefix ([A-Za-z_][\w.\-]*) (?:for \S+ )?on ")
_PREFIX = re.compile(r"[A-Za-z_][\w.\-]*", re.ASCII)
_ROOT_START = re.compile(rb"<(?![?!])[^\s/>]+")


def _repair_namespaces(data: bytes, error_log: Any) -> bytes | None:
    """The document with undeclared prefixes declared, or ``None`` when it has other errors.

    Exporters and hand edits leave prefixes undeclared (``xsi:type``, ``camunda:...``).
    libxml2 reports that as a non-fatal namespace error of an otherwise well-formed document,
    so declaring the missing prefixes on the root (well-known ones with their real namespace,
    others with a ``urn:liucheng:undeclared:`` placeholder) loses nothing.
    """
    errors = list(error_log)
    prefixes: list[str] = []
    for error in errors:
        found = _UNDEFINED_PREFIX.match(error.message or "")
        if (
            found is None
            or error.domain != etree.ErrorDomains.NAMESPACE
            or error.level == etree.ErrorLevels.FATAL
        ):
            return None
        if found.group(1) not in prefixes:
            prefixes.append(found.group(1))
    if not prefixes:
        return None
    return _declare_prefixes(data, prefixes)


def _stray_prefixes(root: Any) -> list[str]:
    """Prefixes of element or attribute names that were left unresolved (``p:name``)."""
    found: list[str] = []
    for el in root.iter(etree.Element):
        for key in (el.tag, *el.attrib.keys()):
            if key[0] != "{" and ":" in key:
                prefix = key.split(":", 1)[0]
                if prefix not in found:
                    found.append(prefix)
    return found


def _declare_prefixes(data: bytes, prefixes: list[str]) -> bytes | None:
    """The document with ``xmlns:prefix`` declarations added to its root element."""
    if any(not _PREFIX.fullmatch(p) for p in prefixes):
        return None
    if b"\x00" in data[:64] or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None  # UTF-16/32: no byte-level edit
    root = None
    pos = 0
    while root is None:
        match = _ROOT_START.search(data, pos)
        if match is None:
            return None
        before = data.rfind(b"<!--", 0, match.start())
        if before >= 0 and data.find(b"-->", before) > match.start():
            pos = data.find(b"-->", before) + 3
            continue
        root = match
    decls = b"".join(
        b' xmlns:%s="%s"'
        % (
            prefix.encode("ascii"),
            WELL_KNOWN_NAMESPACES.get(prefix, f"urn:liucheng:undeclared:{prefix}").encode(
                "ascii", "replace"
            ),
        )
        for prefix in prefixes
    )
    return data[: root.end()] + decls + data[root.end() :]


def parse_xml_bytes(data: bytes, name: str) -> Any:
    """Parse bytes with the hardened parser and return the lxml root element.

    Raises:
        XmlSecurityError: DOCTYPE or ENTITY declarations.
        ModelError: Not well-formed XML.
    """
    _check_prolog(data, name)
    data = _move_leading_space(data)
    try:
        parser = _parser()
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError:
            repaired = _repair_namespaces(data, parser.error_log)
            if repaired is None:
                raise
            parser = _parser()
            root = etree.fromstring(repaired, parser)
        else:
            # libxml2 sometimes only logs an undeclared prefix and keeps "p:name" as a plain
            # name, which cannot be written back: declare the prefix and read again.
            stray = _stray_prefixes(root)
            if stray:
                repaired = _declare_prefixes(data, stray)
                if repaired is not None:
                    parser = _parser()
                    root = etree.fromstring(repaired, parser)
                if repaired is None or _stray_prefixes(root):
                    raise ModelError(
                        f"namespace prefix {stray[0]!r} is used but not declared",
                        code="bpmn.xml.namespace",
                        file=name,
                        hint=f'declare it on the root element: xmlns:{stray[0]}="..."',
                    )
    except etree.XMLSyntaxError as exc:
        msg = str(exc.msg or exc).strip()
        line = exc.lineno if exc.lineno else None
        # Report the error that stops the parse, not a namespace slip before it (the
        # parser's own log: the exception's log may hold other parses' errors).
        fatal = [e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL]
        if fatal:
            msg = f"{fatal[0].message.strip()}, line {fatal[0].line}, column {fatal[0].column}"
            line = fatal[0].line or line
        if "doctype" in msg.lower() or "amplification" in msg.lower():
            raise XmlSecurityError(
                f"refused XML: {msg}", code="xml.entity", file=name, line=line
            ) from None
        raise ModelError(
            f"not well-formed XML: {msg}",
            code="bpmn.xml.malformed",
            file=name,
            line=line,
            hint=_syntax_hint(msg),
        ) from None
    except ValueError as exc:  # e.g. embedded NUL bytes in a str source
        raise ModelError(
            f"not well-formed XML: {exc}", code="bpmn.xml.malformed", file=name
        ) from None
    if root is None:
        raise ModelError("empty document", code="bpmn.xml.malformed", file=name)
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or getattr(docinfo, "internalDTD", None) is not None:
        raise XmlSecurityError(
            "DOCTYPE / ENTITY declarations are not allowed in BPMN documents",
            code="xml.doctype",
            file=name,
        )
    return root


def parse_bpmn(
    source: bytes | str | Path,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Definitions:
    """Parse a BPMN 2.0 XML document into the model.

    Files as other tools write them load: any prefix (or none) for the BPMN namespaces, any
    declared encoding, a BOM, blank lines before ``<?xml``, vendor extensions, unknown
    elements (choreographies, conversations... kept as :class:`XmlNode`), attribute values
    that cannot be typed (kept as written, reported by validation) and prefixes used without
    a declaration (``xsi:type``: declared on the root, unknown ones as
    ``urn:liucheng:undeclared:<prefix>``).

    Args:
        source: The XML as bytes or text, or a path to read.
        filename: Name used in error messages (defaults to the path).
        max_bytes: Size limit; documents of this many bytes or more are refused unread.

    Returns:
        The :class:`Definitions` of the document.

    Raises:
        XmlSecurityError: Oversize input, DOCTYPE or entity declarations.
        ModelError: Not XML, not a BPMN ``definitions`` document, or bad attribute values; the
            error names the file, line and element id.
    """
    data, name = _prepare(source, filename, max_bytes)
    root = parse_xml_bytes(data, name)
    ns, local = split_clark(root.tag) if isinstance(root.tag, str) else (None, "")
    if ns != BPMN_NS or local != "definitions":
        raise ModelError(
            f"root element is {root.tag!r}, not a BPMN 2.0 <definitions>",
            code="bpmn.root",
            file=name,
            line=root.sourceline,
            hint=f'a BPMN 2.0 file starts with <definitions xmlns="{BPMN_NS}">',
        )
    _check_namespace_uris(root, name)
    defs = _element(root, Definitions)
    assert isinstance(defs, Definitions)
    namespaces: dict[str | None, str] = dict(root.nsmap)
    for prefix, uri in _NS_DECL.findall(data):
        key = prefix.decode("utf-8", "replace")
        if key not in namespaces:
            namespaces[key] = uri.decode("utf-8", "replace")
    # Prefixes are only hints for the writer: drop any lxml could not declare.
    usable = tuple((k, v) for k, v in namespaces.items() if _declarable(k, v))
    return replace(defs, namespaces=usable, file=name)


def _declarable(prefix: str | None, uri: str) -> bool:
    try:
        etree.Element("x", nsmap={prefix: uri})  # type: ignore[dict-item]
    except ValueError:
        return False
    return True


def _check_namespace_uris(root: Any, name: str) -> None:
    """Refuse namespace URIs that libxml2 reads but cannot write back (e.g. ``a]]>b``)."""
    seen: set[str] = set()
    for el in root.iter(etree.Element):
        for key in (el.tag, *el.attrib.keys()):
            if key[0] != "{":
                continue
            uri = key[1 : key.index("}")]
            if uri in seen:
                continue
            if not _declarable("p", uri):
                raise ModelError(
                    f"namespace {uri!r} is not a valid URI",
                    code="bpmn.xml.namespace",
                    file=name,
                    line=el.sourceline,
                    hint="fix the xmlns declaration of this element or of one of its parents",
                )
            seen.add(uri)
