"""DMN 1.1–1.5 XML parsing into :mod:`liucheng.dmn.model`.

The lxml parser is hardened: no entities, no DTD, no network, a size limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from lxml import etree

from liucheng.errors import DmnError, XmlSecurityError

from .model import (
    Binding,
    BusinessKnowledgeModel,
    Conditional,
    Context,
    ContextEntry,
    Decision,
    DecisionService,
    DecisionTable,
    Definitions,
    DmnExpression,
    Filter,
    FunctionDefinition,
    FunctionItem,
    Href,
    Import,
    InformationItem,
    InputClause,
    InputData,
    Invocation,
    ItemDefinition,
    Iterator,
    ListExpression,
    LiteralExpression,
    OutputClause,
    Relation,
    Requirement,
    Rule,
    UnsupportedExpression,
)

__all__ = ["DMN_NAMESPACES", "MAX_DMN_BYTES", "parse_dmn", "parse_dmn_file"]

#: DMN model namespaces by version.
DMN_NAMESPACES: dict[str, str] = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}

#: Documents larger than this are refused.
MAX_DMN_BYTES = 20 * 1024 * 1024

_EXPRESSION_TAGS = frozenset(
    {
        "literalExpression",
        "decisionTable",
        "context",
        "relation",
        "list",
        "invocation",
        "functionDefinition",
        "conditional",
        "for",
        "some",
        "every",
        "filter",
    }
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


class _Base(TypedDict):
    id: str | None
    type_ref: str | None
    line: int | None


def _line(el: etree._Element | None) -> int | None:
    """The source line of ``el`` (``None`` when lxml does not know it)."""
    line = el.sourceline if el is not None else None
    return line if isinstance(line, int) else None


def _local(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]


class _Reader:
    def __init__(self, ns: str, file: str | None) -> None:
        self.ns = ns
        self.file = file

    # -- helpers -------------------------------------------------------------------------------

    def error(self, message: str, el: etree._Element | None, hint: str | None = None) -> DmnError:
        return DmnError(
            message,
            code="dmn.xml.invalid",
            file=self.file,
            line=_line(el) if el is not None else None,
            element_id=el.get("id") if el is not None else None,
            hint=hint,
        )

    def children(self, el: etree._Element, name: str | None = None) -> list[etree._Element]:
        out = []
        for child in el:
            if not isinstance(child.tag, str) or not child.tag.startswith("{" + self.ns + "}"):
                continue
            if name is None or _local(child) == name:
                out.append(child)
        return out

    def child(self, el: etree._Element, name: str) -> etree._Element | None:
        found = self.children(el, name)
        return found[0] if found else None

    def text_of(self, el: etree._Element | None) -> str | None:
        """Text of ``el``'s ``<text>`` child (or of ``el`` itself when it has none)."""
        if el is None:
            return None
        text_el = self.child(el, "text")
        if text_el is not None:
            return text_el.text or ""
        if len(self.children(el)) == 0 and el.text is not None:
            return el.text
        return None

    def type_ref(self, el: etree._Element) -> str | None:
        ref = el.get("typeRef")
        if ref is None:
            child = self.child(el, "typeRef")  # DMN 1.1 itemDefinition: typeRef as element
            if child is not None and child.text:
                ref = child.text
        if ref is None:
            return None
        ref = ref.strip()
        return ref or None

    def variable(self, el: etree._Element, name: str) -> InformationItem:
        var = self.child(el, "variable")
        if var is None:
            return InformationItem(name=name, type_ref=None)
        return InformationItem(
            name=var.get("name") or name, type_ref=self.type_ref(var), id=var.get("id")
        )

    def information_item(self, el: etree._Element) -> InformationItem:
        name = el.get("name")
        if name is None:
            raise self.error(f"<{_local(el)}> has no name", el, "add a name attribute")
        return InformationItem(name=name, type_ref=self.type_ref(el), id=el.get("id"))

    def href(self, el: etree._Element) -> Href:
        ref = el.get("href")
        if not ref:
            raise self.error(f"<{_local(el)}> has no href", el, "reference an element as '#id'")
        return Href.parse(ref)

    def hrefs(self, el: etree._Element, name: str) -> tuple[Href, ...]:
        return tuple(self.href(c) for c in self.children(el, name))

    # -- expressions ---------------------------------------------------------------------------

    def expression_in(self, el: etree._Element) -> DmnExpression | None:
        """The first boxed expression among ``el``'s children."""
        for child in self.children(el):
            if _local(child) in _EXPRESSION_TAGS:
                return self.expression(child)
        return None

    def expression(self, el: etree._Element) -> DmnExpression:
        kind = _local(el)
        base: _Base = {"id": el.get("id"), "type_ref": self.type_ref(el), "line": _line(el)}
        if kind == "literalExpression":
            return LiteralExpression(
                **base,
                text=self.text_of(el) or "",
                expression_language=el.get("expressionLanguage"),
            )
        if kind == "decisionTable":
            return self.decision_table(el)
        if kind == "context":
            entries = []
            for entry in self.children(el, "contextEntry"):
                var = self.child(entry, "variable")
                entries.append(
                    ContextEntry(
                        variable=self.information_item(var) if var is not None else None,
                        value=self.expression_in(entry),
                    )
                )
            return Context(**base, entries=tuple(entries))
        if kind == "relation":
            columns = tuple(self.information_item(c) for c in self.children(el, "column"))
            rows = []
            for row in self.children(el, "row"):
                cells = tuple(
                    self.expression(c) for c in self.children(row) if _local(c) in _EXPRESSION_TAGS
                )
                if len(cells) != len(columns):
                    raise self.error(
                        f"relation row has {len(cells)} cells for {len(columns)} columns",
                        row,
                        "give every row one expression per column",
                    )
                rows.append(cells)
            return Relation(**base, columns=columns, rows=tuple(rows))
        if kind == "list":
            items = tuple(
                self.expression(c) for c in self.children(el) if _local(c) in _EXPRESSION_TAGS
            )
            return ListExpression(**base, items=items)
        if kind == "invocation":
            callee = None
            for c in self.children(el):
                if _local(c) in _EXPRESSION_TAGS:
                    callee = self.expression(c)
                    break
            bindings = []
            for b in self.children(el, "binding"):
                param = self.child(b, "parameter")
                if param is None:
                    raise self.error("binding without <parameter>", b, "name the bound parameter")
                bindings.append(Binding(self.information_item(param), self.expression_in(b)))
            return Invocation(**base, callee=callee, bindings=tuple(bindings))
        if kind == "functionDefinition":
            return self.function_definition(el)
        if kind == "conditional":
            parts = {}
            for part in ("if", "then", "else"):
                part_el = self.child(el, part)
                parts[part] = self.expression_in(part_el) if part_el is not None else None
            return Conditional(
                **base, condition=parts["if"], then=parts["then"], otherwise=parts["else"]
            )
        if kind in {"for", "some", "every"}:
            source = self.child(el, "in")
            body = self.child(el, "return" if kind == "for" else "satisfies")
            return Iterator(
                **base,
                kind=kind,
                variable=el.get("iteratorVariable") or "",
                source=self.expression_in(source) if source is not None else None,
                body=self.expression_in(body) if body is not None else None,
            )
        if kind == "filter":
            source = self.child(el, "in")
            match = self.child(el, "match")
            return Filter(
                **base,
                source=self.expression_in(source) if source is not None else None,
                match=self.expression_in(match) if match is not None else None,
            )
        return UnsupportedExpression(**base, kind=kind, reason=f"unknown expression <{kind}>")

    def function_definition(self, el: etree._Element) -> FunctionDefinition:
        params = tuple(self.information_item(p) for p in self.children(el, "formalParameter"))
        return FunctionDefinition(
            id=el.get("id"),
            type_ref=self.type_ref(el),
            line=_line(el),
            parameters=params,
            body=self.expression_in(el),
            kind=(el.get("kind") or "FEEL").strip(),
        )

    def decision_table(self, el: etree._Element) -> DecisionTable:
        inputs = []
        for inp in self.children(el, "input"):
            expr_el = self.child(inp, "inputExpression")
            if expr_el is None:
                raise self.error("decision table input has no <inputExpression>", inp)
            values_el = self.child(inp, "inputValues")
            inputs.append(
                InputClause(
                    expression=LiteralExpression(
                        id=expr_el.get("id"),
                        type_ref=self.type_ref(expr_el),
                        line=_line(expr_el),
                        text=self.text_of(expr_el) or "",
                    ),
                    input_values=self.text_of(values_el),
                    label=inp.get("label"),
                    id=inp.get("id"),
                    type_ref=self.type_ref(expr_el),
                )
            )
        outputs = []
        for out in self.children(el, "output"):
            default_el = self.child(out, "defaultOutputEntry")
            default = None
            if default_el is not None:
                default = LiteralExpression(
                    id=default_el.get("id"),
                    line=_line(default_el),
                    text=self.text_of(default_el) or "",
                )
            outputs.append(
                OutputClause(
                    name=out.get("name"),
                    type_ref=self.type_ref(out),
                    output_values=self.text_of(self.child(out, "outputValues")),
                    default_output_entry=default,
                    label=out.get("label"),
                    id=out.get("id"),
                )
            )
        if not outputs:
            raise self.error("decision table has no output", el, "add an <output> column")
        rules = []
        for rule in self.children(el, "rule"):
            ins = tuple(self.text_of(i) or "-" for i in self.children(rule, "inputEntry"))
            outs = tuple(
                LiteralExpression(id=o.get("id"), line=_line(o), text=self.text_of(o) or "")
                for o in self.children(rule, "outputEntry")
            )
            if len(ins) != len(inputs) or len(outs) != len(outputs):
                raise self.error(
                    f"rule has {len(ins)} input and {len(outs)} output entries; the table has "
                    f"{len(inputs)} inputs and {len(outputs)} outputs",
                    rule,
                    "give every rule one entry per column",
                )
            rules.append(Rule(ins, outs, id=rule.get("id"), line=_line(rule)))
        hit = (el.get("hitPolicy") or "UNIQUE").strip().upper()
        aliases = {"U": "UNIQUE", "A": "ANY", "P": "PRIORITY", "F": "FIRST", "R": "RULE ORDER"}
        aliases |= {"O": "OUTPUT ORDER", "C": "COLLECT"}
        hit = aliases.get(hit, hit)
        known = {"UNIQUE", "ANY", "PRIORITY", "FIRST", "RULE ORDER", "OUTPUT ORDER", "COLLECT"}
        if hit not in known:
            raise self.error(
                f"unknown hit policy {hit!r}", el, "use UNIQUE, ANY, PRIORITY, FIRST, ..."
            )
        agg = el.get("aggregation")
        if agg is not None:
            agg = agg.strip().upper()
            if agg not in {"SUM", "MIN", "MAX", "COUNT"}:
                raise self.error(f"unknown aggregation {agg!r}", el, "use SUM, MIN, MAX or COUNT")
        return DecisionTable(
            id=el.get("id"),
            type_ref=self.type_ref(el),
            line=_line(el),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            rules=tuple(rules),
            hit_policy=hit,
            aggregation=agg,
            output_label=el.get("outputLabel"),
        )

    # -- DRG -----------------------------------------------------------------------------------

    def requirements(self, el: etree._Element) -> tuple[Requirement, ...]:
        reqs: list[Requirement] = []
        for ir in self.children(el, "informationRequirement"):
            for c in self.children(ir):
                kind = {"requiredDecision": "decision", "requiredInput": "input"}.get(_local(c))
                if kind:
                    reqs.append(Requirement(kind, self.href(c)))
        for kr in self.children(el, "knowledgeRequirement"):
            for c in self.children(kr, "requiredKnowledge"):
                reqs.append(Requirement("knowledge", self.href(c)))
        for ar in self.children(el, "authorityRequirement"):
            for c in self.children(ar):
                if c.get("href"):
                    reqs.append(Requirement("authority", self.href(c)))
        return tuple(reqs)

    def item_definition(self, el: etree._Element) -> ItemDefinition:
        name = el.get("name")
        if not name:
            raise self.error("itemDefinition has no name", el, "add a name attribute")
        fi_el = self.child(el, "functionItem")
        function_item = None
        if fi_el is not None:
            function_item = FunctionItem(
                parameters=tuple(
                    self.information_item(p) for p in self.children(fi_el, "parameters")
                ),
                output_type_ref=fi_el.get("outputTypeRef"),
            )
        return ItemDefinition(
            name=name,
            type_ref=self.type_ref(el),
            allowed_values=self.text_of(self.child(el, "allowedValues")),
            type_constraint=self.text_of(self.child(el, "typeConstraint")),
            components=tuple(self.item_definition(c) for c in self.children(el, "itemComponent")),
            is_collection=(el.get("isCollection") or "false").strip() == "true",
            function_item=function_item,
            type_language=el.get("typeLanguage"),
            id=el.get("id"),
            line=_line(el),
        )

    def named(self, el: etree._Element) -> tuple[str, str]:
        ident = el.get("id")
        name = el.get("name")
        if not name:
            raise self.error(f"<{_local(el)}> has no name", el, "add a name attribute")
        return ident or name, name

    def definitions(self, root: etree._Element, version: str) -> Definitions:
        imports = tuple(
            Import(
                namespace=i.get("namespace") or "",
                name=i.get("name") or "",
                import_type=i.get("importType"),
                location_uri=i.get("locationURI"),
            )
            for i in self.children(root, "import")
        )
        items = tuple(self.item_definition(c) for c in self.children(root, "itemDefinition"))
        input_data = []
        for c in self.children(root, "inputData"):
            ident, name = self.named(c)
            input_data.append(InputData(ident, name, self.variable(c, name), _line(c)))
        decisions = []
        for c in self.children(root, "decision"):
            ident, name = self.named(c)
            decisions.append(
                Decision(
                    ident,
                    name,
                    self.variable(c, name),
                    self.expression_in(c),
                    self.requirements(c),
                    _line(c),
                )
            )
        bkms = []
        for c in self.children(root, "businessKnowledgeModel"):
            ident, name = self.named(c)
            logic_el = self.child(c, "encapsulatedLogic")
            bkms.append(
                BusinessKnowledgeModel(
                    ident,
                    name,
                    self.variable(c, name),
                    self.function_definition(logic_el) if logic_el is not None else None,
                    self.requirements(c),
                    _line(c),
                )
            )
        services = []
        for c in self.children(root, "decisionService"):
            ident, name = self.named(c)
            services.append(
                DecisionService(
                    ident,
                    name,
                    self.variable(c, name),
                    output_decisions=self.hrefs(c, "outputDecision"),
                    encapsulated_decisions=self.hrefs(c, "encapsulatedDecision"),
                    input_decisions=self.hrefs(c, "inputDecision"),
                    input_data=self.hrefs(c, "inputData"),
                    line=_line(c),
                )
            )
        self.check_unique(root, [*input_data, *decisions, *bkms, *services])
        return Definitions(
            id=root.get("id"),
            name=root.get("name") or "",
            namespace=root.get("namespace") or "",
            dmn_version=version,
            imports=imports,
            item_definitions=items,
            input_data=tuple(input_data),
            decisions=tuple(decisions),
            bkms=tuple(bkms),
            decision_services=tuple(services),
            expression_language=root.get("expressionLanguage"),
            file=self.file,
        )

    def check_unique(
        self,
        root: etree._Element,
        elements: list[InputData | Decision | BusinessKnowledgeModel | DecisionService],
    ) -> None:
        seen: dict[str, int | None] = {}
        for el in elements:
            if el.id in seen:
                raise DmnError(
                    f"duplicate element id {el.id!r} (first on line {seen[el.id]})",
                    code="dmn.xml.duplicate_id",
                    file=self.file,
                    line=el.line,
                    element_id=el.id,
                    hint="give every DRG element a unique id",
                )
            seen[el.id] = el.line


def parse_dmn(source: bytes | str, *, file: str | None = None) -> Definitions:
    """Parse a DMN document (any of DMN 1.1–1.5).

    Args:
        source: The XML text or bytes.
        file: File name used in error messages.

    Returns:
        The parsed :class:`~liucheng.dmn.model.Definitions`.

    Raises:
        XmlSecurityError: For documents with a DTD/entities or over :data:`MAX_DMN_BYTES`.
        DmnError: For malformed XML or a document that is not DMN.
    """
    data = source.encode("utf-8") if isinstance(source, str) else source
    if len(data) > MAX_DMN_BYTES:
        raise XmlSecurityError(
            f"DMN document is {len(data)} bytes, over the {MAX_DMN_BYTES} byte limit",
            code="dmn.xml.too_large",
            file=file,
        )
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise XmlSecurityError("DMN document declares a DTD or entities", file=file)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise DmnError(
            f"malformed XML: {exc.msg}",
            code="dmn.xml.malformed",
            file=file,
            line=line,
            hint="fix the XML syntax",
        ) from None
    tag = root.tag if isinstance(root.tag, str) else ""
    ns = tag[1:].partition("}")[0] if tag.startswith("{") else ""
    if _local(root) != "definitions" or ns not in DMN_NAMESPACES:
        raise DmnError(
            f"root element is {tag!r}, not a DMN <definitions>",
            code="dmn.xml.namespace",
            file=file,
            line=_line(root),
            hint="use a DMN 1.1–1.5 document (namespace " + ", ".join(DMN_NAMESPACES) + ")",
        )
    return _Reader(ns, file).definitions(root, DMN_NAMESPACES[ns])


def parse_dmn_file(path: str | Path) -> Definitions:
    """Read and parse a DMN file.

    Raises:
        DmnError: When the file cannot be read or parsed.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DmnError(
            f"cannot read {p}: {exc.strerror}", code="dmn.file.unreadable", file=str(p)
        ) from None
    return parse_dmn(data, file=str(p))
