"""The DMN object model: frozen dataclasses for definitions, DRG elements and boxed expressions.

One model serves DMN 1.1 to 1.5: the parser maps every namespace onto these classes. Element
references (``href``) are kept as :class:`Href` (namespace + id), resolved by the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Binding",
    "BusinessKnowledgeModel",
    "Conditional",
    "Context",
    "ContextEntry",
    "Decision",
    "DecisionService",
    "DecisionTable",
    "Definitions",
    "DmnExpression",
    "Filter",
    "FunctionDefinition",
    "FunctionItem",
    "Href",
    "Import",
    "InformationItem",
    "InputClause",
    "InputData",
    "Invocation",
    "ItemDefinition",
    "Iterator",
    "ListExpression",
    "LiteralExpression",
    "OutputClause",
    "Relation",
    "Requirement",
    "Rule",
    "UnsupportedExpression",
]


@dataclass(frozen=True, slots=True)
class Href:
    """A reference to a DRG element: ``namespace`` is ``None`` for the same model."""

    namespace: str | None
    id: str

    @staticmethod
    def parse(text: str) -> Href:
        """Split ``"ns#id"`` / ``"#id"`` into an :class:`Href`."""
        text = text.strip()
        if "#" in text:
            ns, _, ident = text.rpartition("#")
            return Href(ns or None, ident)
        return Href(None, text)


@dataclass(frozen=True, slots=True)
class InformationItem:
    """A named, optionally typed variable (decision variable, parameter, context entry)."""

    name: str
    type_ref: str | None = None
    id: str | None = None


# ----------------------------------------------------------------------------- boxed expressions


@dataclass(frozen=True, slots=True, kw_only=True)
class DmnExpression:
    """Base of every boxed expression."""

    id: str | None = None
    type_ref: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LiteralExpression(DmnExpression):
    """A FEEL text (empty text means null)."""

    text: str = ""
    expression_language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedExpression(DmnExpression):
    """A boxed expression of a kind Liucheng cannot evaluate (kept so the model still loads)."""

    kind: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class InputClause:
    """A decision table input column."""

    expression: LiteralExpression
    input_values: str | None = None
    label: str | None = None
    id: str | None = None
    type_ref: str | None = None


@dataclass(frozen=True, slots=True)
class OutputClause:
    """A decision table output column; ``output_values`` also gives the P/O priority order."""

    name: str | None = None
    type_ref: str | None = None
    output_values: str | None = None
    default_output_entry: LiteralExpression | None = None
    label: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One decision table row: unary tests per input, expressions per output."""

    input_entries: tuple[str, ...]
    output_entries: tuple[LiteralExpression, ...]
    id: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionTable(DmnExpression):
    """A decision table (hit policy one of U A P F R O C; aggregation for C)."""

    inputs: tuple[InputClause, ...] = ()
    outputs: tuple[OutputClause, ...] = ()
    rules: tuple[Rule, ...] = ()
    hit_policy: str = "UNIQUE"
    aggregation: str | None = None
    output_label: str | None = None


@dataclass(frozen=True, slots=True)
class ContextEntry:
    """A context entry; without ``variable`` it is the context's final result."""

    variable: InformationItem | None
    value: DmnExpression | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Context(DmnExpression):
    """A boxed context."""

    entries: tuple[ContextEntry, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Relation(DmnExpression):
    """A boxed relation: a list of contexts with the same keys."""

    columns: tuple[InformationItem, ...] = ()
    rows: tuple[tuple[DmnExpression | None, ...], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ListExpression(DmnExpression):
    """A boxed list."""

    items: tuple[DmnExpression | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Binding:
    """A parameter binding of an invocation."""

    parameter: InformationItem
    expression: DmnExpression | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation(DmnExpression):
    """A boxed invocation: ``callee`` evaluates to the function, bindings name its parameters."""

    callee: DmnExpression | None = None
    bindings: tuple[Binding, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionDefinition(DmnExpression):
    """A boxed function definition (kind FEEL; Java and PMML are refused on evaluation)."""

    parameters: tuple[InformationItem, ...] = ()
    body: DmnExpression | None = None
    kind: str = "FEEL"


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditional(DmnExpression):
    """A boxed ``if/then/else`` (DMN 1.4)."""

    condition: DmnExpression | None = None
    then: DmnExpression | None = None
    otherwise: DmnExpression | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Iterator(DmnExpression):
    """A boxed ``for`` / ``some`` / ``every`` (DMN 1.4)."""

    kind: str = "for"
    variable: str = ""
    source: DmnExpression | None = None
    body: DmnExpression | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Filter(DmnExpression):
    """A boxed filter (DMN 1.4): the ``source`` list's items matching ``match``."""

    source: DmnExpression | None = None
    match: DmnExpression | None = None


# ----------------------------------------------------------------------------- DRG


@dataclass(frozen=True, slots=True)
class FunctionItem:
    """The signature of a function type (DMN 1.3 ``functionItem``)."""

    parameters: tuple[InformationItem, ...] = ()
    output_type_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ItemDefinition:
    """A (possibly structured, possibly collection) type definition."""

    name: str
    type_ref: str | None = None
    allowed_values: str | None = None
    type_constraint: str | None = None
    components: tuple[ItemDefinition, ...] = ()
    is_collection: bool = False
    function_item: FunctionItem | None = None
    type_language: str | None = None
    id: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """An information, knowledge or authority requirement.

    ``kind`` is ``"decision"``, ``"input"`` (information), ``"knowledge"`` or ``"authority"``.
    """

    kind: str
    href: Href


@dataclass(frozen=True, slots=True)
class InputData:
    """An input data element."""

    id: str
    name: str
    variable: InformationItem
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision with its logic and requirements."""

    id: str
    name: str
    variable: InformationItem
    expression: DmnExpression | None = None
    requirements: tuple[Requirement, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class BusinessKnowledgeModel:
    """A business knowledge model: a named, reusable function."""

    id: str
    name: str
    variable: InformationItem
    logic: FunctionDefinition | None = None
    requirements: tuple[Requirement, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class DecisionService:
    """A decision service: output decisions computed from input decisions and input data."""

    id: str
    name: str
    variable: InformationItem
    output_decisions: tuple[Href, ...] = ()
    encapsulated_decisions: tuple[Href, ...] = ()
    input_decisions: tuple[Href, ...] = ()
    input_data: tuple[Href, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Import:
    """An ``import`` of another model (DMN models are matched by namespace)."""

    namespace: str
    name: str
    import_type: str | None = None
    location_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Definitions:
    """A parsed DMN document."""

    id: str | None
    name: str
    namespace: str
    dmn_version: str
    imports: tuple[Import, ...] = ()
    item_definitions: tuple[ItemDefinition, ...] = ()
    input_data: tuple[InputData, ...] = ()
    decisions: tuple[Decision, ...] = ()
    bkms: tuple[BusinessKnowledgeModel, ...] = ()
    decision_services: tuple[DecisionService, ...] = ()
    expression_language: str | None = None
    file: str | None = None

    def element(
        self, ident: str
    ) -> Decision | InputData | BusinessKnowledgeModel | DecisionService:
        """The DRG element with id (or name) ``ident``.

        Raises:
            KeyError: when no element has that id or name.
        """
        for group in (self.decisions, self.input_data, self.bkms, self.decision_services):
            for el in group:
                if el.id == ident:
                    return el
        for group in (self.decisions, self.input_data, self.bkms, self.decision_services):
            for el in group:
                if el.name == ident:
                    return el
        raise KeyError(ident)
