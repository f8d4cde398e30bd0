"""Namespaces and the generic XML node kept for extension elements and unknown content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "CAMUNDA_NS",
    "DC_NS",
    "DI_NS",
    "LIUCHENG_NS",
    "WELL_KNOWN_NAMESPACES",
    "XSI_NS",
    "ZEEBE_NS",
    "XmlNode",
    "clark",
    "resolve_name",
    "split_clark",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
BIOC_NS = "http://bpmn.io/schema/bpmn/biocolor/1.0"
COLOR_NS = "http://www.omg.org/spec/BPMN/non-normative/color/1.0"
LIUCHENG_NS = "https://liucheng.dev/schema/bpmn/1.0"

#: Prefixes understood by the accessors (``el.attr("camunda", "assignee")``) whatever prefix the
#: document itself uses for the namespace.
WELL_KNOWN_NAMESPACES: dict[str, str] = {
    "bpmn": BPMN_NS,
    "bpmn2": BPMN_NS,
    "semantic": BPMN_NS,
    "bpmndi": BPMNDI_NS,
    "dc": DC_NS,
    "omgdc": DC_NS,
    "di": DI_NS,
    "omgdi": DI_NS,
    "xsi": XSI_NS,
    "camunda": CAMUNDA_NS,
    "zeebe": ZEEBE_NS,
    "liucheng": LIUCHENG_NS,
    "modeler": MODELER_NS,
    "bioc": BIOC_NS,
    "color": COLOR_NS,
    "activiti": "http://activiti.org/bpmn",
    "flowable": "http://flowable.org/bpmn",
    "signavio": "http://www.signavio.com",
}


def clark(namespace: str | None, local: str) -> str:
    """``{namespace}local`` (or ``local`` without a namespace)."""
    return f"{{{namespace}}}{local}" if namespace else local


def split_clark(name: str) -> tuple[str | None, str]:
    """Split ``{ns}local`` into ``(ns, local)``; ``(None, name)`` when there is no namespace."""
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


def resolve_name(name: str, local: str | None = None) -> tuple[str | None, str]:
    """Resolve a user-supplied name to ``(namespace or None, local)``.

    Accepts ``("camunda", "assignee")``, ``("http://camunda.org/...", "assignee")``,
    ``"camunda:assignee"``, ``"{uri}assignee"`` or a bare ``"assignee"`` (namespace ``None``).
    A prefix is resolved through :data:`WELL_KNOWN_NAMESPACES`; anything else that contains a
    ``:`` or ``/`` is taken as the namespace URI itself.
    """
    if local is not None:
        return WELL_KNOWN_NAMESPACES.get(name, name), local
    if name.startswith("{"):
        return split_clark(name)
    if ":" in name:
        prefix, _, rest = name.rpartition(":")
        return WELL_KNOWN_NAMESPACES.get(prefix, prefix), rest
    return None, name


def _matches(tag: str, ns: str | None, local: str) -> bool:
    tag_ns, tag_local = split_clark(tag)
    if tag_local != local:
        return False
    return ns is None or ns == tag_ns


@dataclass(frozen=True, slots=True, kw_only=True)
class XmlNode:
    """A plain XML element: extension elements and content the model has no class for.

    Attributes:
        tag: Clark name ``{namespace}local``.
        attrs: Attributes as ``(clark name, value)`` pairs in document order.
        text: Text before the first child (``None`` when only whitespace).
        children: Child elements.
        tail: Text after this element inside its parent (``None`` when only whitespace).
        line: Source line (not compared).
    """

    tag: str
    attrs: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    children: tuple[XmlNode, ...] = ()
    tail: str | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def namespace(self) -> str | None:
        """Namespace URI of the element."""
        return split_clark(self.tag)[0]

    @property
    def local(self) -> str:
        """Local name of the element."""
        return split_clark(self.tag)[1]

    def is_a(self, name: str, local: str | None = None) -> bool:
        """Whether this node has the name (``"camunda:inputOutput"``, a bare local name...)."""
        ns, loc = resolve_name(name, local)
        return _matches(self.tag, ns, loc)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Attribute value by name (``"name"``, ``"camunda:foo"`` or ``"{uri}foo"``)."""
        ns, loc = resolve_name(name)
        key = clark(ns, loc)
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    @property
    def attributes(self) -> dict[str, str]:
        """Attributes as a dict keyed by Clark name."""
        return dict(self.attrs)

    def find(self, name: str) -> XmlNode | None:
        """First direct child with that name, or ``None``."""
        for child in self.findall(name):
            return child
        return None

    def findall(self, name: str) -> list[XmlNode]:
        """Every direct child with that name (``"*"`` for all)."""
        if name == "*":
            return list(self.children)
        ns, loc = resolve_name(name)
        return [c for c in self.children if _matches(c.tag, ns, loc)]

    def iter(self) -> Iterator[XmlNode]:
        """This node and every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.iter()

    @property
    def text_content(self) -> str:
        """All text inside, concatenated."""
        parts: list[str] = [self.text or ""]
        for child in self.children:
            parts.append(child.text_content)
            parts.append(child.tail or "")
        return "".join(parts)
