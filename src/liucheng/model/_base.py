"""The base element and the field descriptions that drive the parser and the writer.

Every model class is a frozen, slotted dataclass. Each field that maps to XML carries metadata
saying how (an attribute, a child element, the text of child elements, a raw XML child...). The
parser and the writer read the same metadata, so the two directions cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._xml import BPMN_NS, XmlNode, clark, resolve_name

__all__ = [
    "Artifact",
    "BaseElement",
    "Documentation",
    "Expression",
    "FieldSpec",
    "FlowElement",
    "RootElement",
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one dataclass field maps to XML.

    Attributes:
        kind: ``attr`` (XML attribute), ``text`` (the element's own text), ``texts`` / ``text1``
            (text of child elements, many or one), ``child`` / ``children`` (typed child
            elements), ``raw`` (child elements kept as :class:`XmlNode`).
        xml: Attribute or element local name (for ``child``/``children`` with a fixed tag).
        conv: Value type of attributes: ``str``, ``bool``, ``int`` or ``float``.
        ns: Namespace of the child elements.
        cls: Class name of typed children with a fixed tag, or the base-class name for a
            polymorphic group (any registered subclass, by its own tag).
        many: Whether the field is a tuple.
    """

    kind: str
    xml: str = ""
    conv: str = "str"
    ns: str = BPMN_NS
    cls: str = ""
    group: bool = False
    many: bool = False


def attr(xml: str, conv: str = "str", default: Any = None) -> Any:
    """An XML attribute field (``None`` when absent)."""
    return field(default=default, metadata={"spec": FieldSpec("attr", xml, conv)})


def own_text() -> Any:
    """The element's own text content."""
    return field(default="", metadata={"spec": FieldSpec("text")})


def texts(xml: str, ns: str = BPMN_NS) -> Any:
    """The texts of repeated child elements (``incoming``, ``flowNodeRef``...)."""
    return field(default=(), metadata={"spec": FieldSpec("texts", xml, ns=ns, many=True)})


def text1(xml: str, ns: str = BPMN_NS, *, keep_space: bool = False) -> Any:
    """The text of one optional child element (``script``, ``loopDataInputRef``...).

    References are stripped of surrounding whitespace; with ``keep_space`` the text is kept as
    written (scripts, annotation texts).
    """
    spec = FieldSpec("text1", xml, conv="raw" if keep_space else "str", ns=ns)
    return field(default=None, metadata={"spec": spec})


def child(xml: str, cls: str, ns: str = BPMN_NS) -> Any:
    """One optional typed child element with a fixed tag."""
    return field(default=None, metadata={"spec": FieldSpec("child", xml, ns=ns, cls=cls)})


def children(xml: str, cls: str, ns: str = BPMN_NS) -> Any:
    """Repeated typed child elements with a fixed tag."""
    spec = FieldSpec("children", xml, ns=ns, cls=cls, many=True)
    return field(default=(), metadata={"spec": spec})


def group(base: str, many: bool = True) -> Any:
    """Typed children of any registered subclass of ``base`` (each written with its own tag)."""
    spec = FieldSpec("children" if many else "child", cls=base, group=True, many=many)
    return field(default=() if many else None, metadata={"spec": spec})


def raw(xml: str, ns: str = BPMN_NS) -> Any:
    """Repeated child elements kept as :class:`XmlNode` at their schema position."""
    return field(default=(), metadata={"spec": FieldSpec("raw", xml, ns=ns, many=True)})


#: Every model class by name, for polymorphic groups and the parser's tag table.
REGISTRY: dict[str, type[BaseElement]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseElement:
    """Root of every BPMN element class.

    Attributes:
        id: The element's ``id`` attribute.
        documentation: ``documentation`` children.
        extension_elements: Children of ``extensionElements`` (``None`` when the element had
            none, ``()`` for an empty one).
        foreign_attrs: Namespaced attributes (``camunda:asyncBefore``, ``xsi:type``...) as
            ``(clark name, value)`` pairs.
        extra_attrs: Unqualified attributes the model has no field for.
        extra_children: Child elements the model has no field for (kept for round-trip).
        line: Source line (not compared).
    """

    TAG: ClassVar[str] = ""
    NS: ClassVar[str] = BPMN_NS

    id: str | None = attr("id")
    documentation: tuple[Documentation, ...] = children("documentation", "Documentation")
    extension_elements: tuple[XmlNode, ...] | None = field(
        default=None, metadata={"spec": FieldSpec("ext", "extensionElements")}
    )
    foreign_attrs: tuple[tuple[str, str], ...] = ()
    extra_attrs: tuple[tuple[str, str], ...] = ()
    extra_children: tuple[XmlNode, ...] = ()
    line: int | None = field(default=None, compare=False, repr=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # No zero-argument super() here: slotted dataclasses are re-created by the decorator.
        # The re-created class registers last, so REGISTRY holds the final class.
        REGISTRY[cls.__name__] = cls

    @property
    def element_type(self) -> str:
        """The BPMN tag (``userTask``, ``BPMNShape``...) of this element."""
        return self.TAG or type(self).__name__

    def attr(self, name: str, local: str | None = None, default: str | None = None) -> str | None:
        """A foreign or extra attribute by name.

        ``el.attr("camunda", "assignee")``, ``el.attr("camunda:assignee")`` and
        ``el.attr("{http://camunda.org/schema/1.0/bpmn}assignee")`` are the same; the prefix is
        resolved by namespace URI, whatever prefix the file used. A bare name looks among the
        unqualified attributes the model has no field for.
        """
        ns, loc = resolve_name(name, local)
        if ns is None:
            for k, v in self.extra_attrs:
                if k == loc:
                    return v
            return default
        key = clark(ns, loc)
        for k, v in self.foreign_attrs:
            if k == key:
                return v
        return default

    def extensions(self, name: str = "*") -> list[XmlNode]:
        """Extension elements with that name (``"camunda:inputOutput"``, ``"*"`` for all)."""
        if not self.extension_elements:
            return []
        if name == "*":
            return list(self.extension_elements)
        return [n for n in self.extension_elements if n.is_a(name)]

    def extension(self, name: str) -> XmlNode | None:
        """The first extension element with that name, or ``None``."""
        found = self.extensions(name)
        return found[0] if found else None

    @property
    def doc_text(self) -> str:
        """The documentation texts joined by blank lines."""
        return "\n\n".join(d.text for d in self.documentation if d.text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Documentation(BaseElement):
    """A ``documentation`` element."""

    TAG: ClassVar[str] = "documentation"

    text_format: str | None = attr("textFormat")
    text: str = own_text()


@dataclass(frozen=True, slots=True, kw_only=True)
class Expression(BaseElement):
    """An expression (``tExpression`` / ``tFormalExpression``): condition, timer value, etc.

    Attributes:
        body: The expression text (for FEEL, possibly with a leading ``=``).
        language: The ``language`` attribute (``None`` means the definitions' default).
    """

    TAG: ClassVar[str] = "expression"

    language: str | None = attr("language")
    evaluates_to_type_ref: str | None = attr("evaluatesToTypeRef")
    body: str = own_text()

    @property
    def text(self) -> str:
        """The body with surrounding whitespace removed."""
        return self.body.strip()

    @property
    def feel(self) -> str:
        """The body as FEEL text: stripped, with a leading ``=`` removed."""
        text = self.body.strip()
        return text[1:].lstrip() if text.startswith("=") else text


@dataclass(frozen=True, slots=True, kw_only=True)
class RootElement(BaseElement):
    """Base of the elements directly under ``definitions`` (process, message, signal...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowElement(BaseElement):
    """Base of everything inside a process or subprocess: flow nodes, flows, data objects."""

    name: str | None = attr("name")
    auditing: tuple[XmlNode, ...] = raw("auditing")
    monitoring: tuple[XmlNode, ...] = raw("monitoring")
    category_value_refs: tuple[str, ...] = texts("categoryValueRef")


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact(BaseElement):
    """Base of artifacts: associations, text annotations, groups."""


REGISTRY["BaseElement"] = BaseElement
