"""Business rule tasks: which deployed decision a task evaluates and what its result becomes.

Two dialects, each with its own documented semantics:

- Camunda 7 (``camunda:decisionRef``): the decision is chosen by ``camunda:decisionRefBinding``
  (``latest`` by default, ``deployment``: the version deployed with the process, ``version``:
  ``camunda:decisionRefVersion``, ``versionTag``: the one version whose decision carries
  ``camunda:versionTag`` = ``camunda:decisionRefVersionTag``; none or several is an incident).
  The result is Camunda's ``DmnDecisionResult``: one map of
  output name -> value per matched rule (a literal expression gives one map holding the
  decision's variable). ``camunda:mapDecisionResult`` turns it into the value of
  ``camunda:resultVariable``: ``resultList`` (default, the list of maps), ``singleResult`` (the
  one map, null when nothing matched), ``singleEntry`` (the one value, null when nothing
  matched) or ``collectEntries`` (the values of the one output, ``[]`` when nothing matched).
  A result that does not fit the mapping opens an incident. Without a result variable the
  result is not stored. Either way the task's output mappings (``camunda:outputParameter``)
  see the unmapped result as the transient variable ``decisionResult`` (the list of maps; in
  FEEL ``decisionResult[1].name``), which is never stored, as in Camunda.
  ``camunda:decisionRefTenantId`` is ignored: Liucheng has no tenants.
- Zeebe (``zeebe:calledDecision decisionId resultVariable``): the result variable gets the
  decision's FEEL value as it is (one output: the value; several: a context; a multi-hit
  table: a list). ``bindingType`` ``latest`` (default), ``deployment`` or ``versionTag``
  (with ``versionTag``; the decision's ``zeebe:versionTag``, or ``camunda:versionTag``).

Required decisions (a DRG in the same DMN file) are evaluated first by the DMN engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from liucheng.errors import EngineError, ModelError

from ._bindings import definition_by_tag, zeebe_binding
from ._expr import Expr, maybe_feel, to_plain

if TYPE_CHECKING:
    import liucheng.model as m

    from ._graph import Node
    from .ports import DefinitionRecord, Transaction

__all__ = [
    "MAPPINGS",
    "DecisionCall",
    "compile_decision",
    "decision_version_tag",
    "evaluate_decision",
    "map_result",
    "run_decision",
]

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
CAMUNDA_DMN = "http://camunda.org/schema/1.0/dmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
#: ``camunda:mapDecisionResult`` values, the first is the default.
MAPPINGS = ("resultList", "singleResult", "singleEntry", "collectEntries")
_CAMUNDA_BINDINGS = ("latest", "deployment", "version", "versionTag")
_MULTI_HIT = frozenset({"COLLECT", "RULE ORDER", "OUTPUT ORDER"})


@dataclass(frozen=True, slots=True)
class DecisionCall:
    """How a business rule task calls a decision (compiled once with the process).

    Attributes:
        ref: The decision id (a constant or FEEL).
        dialect: ``"camunda"`` (mapped result) or ``"zeebe"`` (FEEL result).
        element_id: The task's id (for errors).
        binding: ``latest``, ``deployment``, ``version`` or ``versionTag``.
        version: The version (``version`` binding) or version tag (``versionTag``) to call.
        mapping: The ``camunda:mapDecisionResult`` (Camunda only).
        result_var: The variable the result goes to (none: the result is dropped).
    """

    ref: Expr
    dialect: str
    element_id: str
    binding: str = "latest"
    version: Expr | None = None
    mapping: str = "resultList"
    result_var: str | None = None

    def value(self, context: Mapping[str, Any]) -> Any:
        """The decision id (keeps ``Engine.decide`` callable with a call like an expression)."""
        return self.ref.value(context)


def _invalid(el: m.BaseElement, file: str | None, message: str, hint: str) -> ModelError:
    return ModelError(
        message,
        code="bpmn.decision.invalid",
        file=file,
        line=getattr(el, "line", None),
        element_id=el.id,
        hint=hint,
    )


def compile_decision(node: Node, el: m.BaseElement, file: str | None = None) -> None:
    """Read a business rule task's decision call into ``node.decision``/``node.result_var``.

    Raises:
        ModelError: An unknown binding or mapping, a version binding without a version, or a
            Zeebe call without a result variable.
    """
    zd = el.extension("zeebe:calledDecision")
    if zd is not None:
        ref = maybe_feel(zd.get("decisionId"), node.id)
        result_var = zd.get("resultVariable") or None
        if ref is None:
            return
        binding, tag = zeebe_binding(
            zd, el, file, code="bpmn.decision.invalid", what="business rule task"
        )
        if result_var is None:
            raise _invalid(
                el,
                file,
                f"business rule task '{el.id}' calls a decision without a resultVariable",
                "Zeebe needs zeebe:calledDecision resultVariable",
            )
        node.decision = DecisionCall(ref, "zeebe", node.id, binding, tag, result_var=result_var)
        node.result_var = result_var
        return
    ref = maybe_feel(el.attr(CAMUNDA, "decisionRef"), node.id)
    if ref is None:
        return
    result_var = el.attr(CAMUNDA, "resultVariable") or None
    binding = el.attr(CAMUNDA, "decisionRefBinding") or "latest"
    if binding not in _CAMUNDA_BINDINGS:
        raise _invalid(
            el,
            file,
            f"business rule task '{el.id}' has unsupported decisionRefBinding '{binding}'",
            "use latest, deployment, version or versionTag",
        )
    version = None
    if binding in ("version", "versionTag"):
        attr = "decisionRefVersion" if binding == "version" else "decisionRefVersionTag"
        version = maybe_feel(el.attr(CAMUNDA, attr), node.id)
        if version is None:
            raise _invalid(
                el,
                file,
                f"business rule task '{el.id}' binds by {binding} but has no {attr}",
                f"add camunda:{attr}",
            )
    mapping = el.attr(CAMUNDA, "mapDecisionResult") or MAPPINGS[0]
    if mapping not in MAPPINGS:
        raise _invalid(
            el,
            file,
            f"business rule task '{el.id}' has unknown mapDecisionResult '{mapping}'",
            "use one of " + ", ".join(MAPPINGS),
        )
    node.decision = DecisionCall(
        ref, "camunda", node.id, binding, version, mapping, result_var=result_var
    )
    node.result_var = result_var


def decision_version_tag(
    cache: dict[str, Any], tx: Transaction, rec: DefinitionRecord
) -> str | None:
    """The ``camunda:versionTag`` (or ``zeebe:versionTag``) of a deployed decision version (cached).

    The DMN model keeps no vendor attributes, so the tag is read from the stored resource.
    """
    slot = rec.id + "#versionTag"  # definition ids never hold a "#" (XML ids do not)
    if slot in cache:
        tag: str | None = cache[slot]
        return tag
    from lxml import etree

    dep = tx.get_deployment(rec.deployment_id)
    tag = None
    data = dep.resources.get(rec.resource_name) if dep is not None else None
    if data is not None:
        # parsed with parse_dmn at deployment already; no entities, DTDs or network here either
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(data, parser)
        for el in root:
            if isinstance(el.tag, str) and el.tag.endswith("}decision") and el.get("id") == rec.key:
                # Camunda's DMN namespace (the Modeler's), or its BPMN one
                tag = el.get(f"{{{CAMUNDA_DMN}}}versionTag") or el.get(f"{{{CAMUNDA}}}versionTag")
                # Camunda 8.6+: <extensionElements><zeebe:versionTag value="..."/>
                zt = el.find(f"{{*}}extensionElements/{{{ZEEBE}}}versionTag")
                if tag is None and zt is not None:
                    tag = (zt.get("value") or "").strip() or None
                break
    cache[slot] = tag
    return tag


def _find(
    tx: Transaction,
    call: DecisionCall,
    key: str,
    context: Mapping[str, Any],
    process: str | None,
    *,
    cache: dict[str, Any],
) -> DefinitionRecord:
    rec: DefinitionRecord | None
    if call.binding == "deployment" and process is not None:
        pdef = tx.get_definition(process)
        dep = pdef.deployment_id if pdef is not None else None
        found = [d for d in tx.list_definitions(key, "dmn") if d.deployment_id == dep]
        if not found:
            raise EngineError(
                f"decision '{key}' is not in the deployment of the process",
                code="engine.decision.unknown",
                element_id=call.element_id,
                hint="deploy the DMN file together with the process (binding 'deployment')",
            )
        return found[-1]
    if call.binding == "versionTag" and call.version is not None:
        tag = str(call.version.value(context))
        return definition_by_tag(
            tx,
            key,
            tag,
            lambda d: decision_version_tag(cache, tx, d),
            element_id=call.element_id,
            attribute="camunda:decisionRefVersionTag"
            if call.dialect == "camunda"
            else "zeebe:calledDecision versionTag",
            kind="dmn",
            dialect=call.dialect,
        )
    if call.binding == "version" and call.version is not None:
        raw = call.version.value(context)
        try:
            version = int(str(raw))
        except ValueError:
            raise EngineError(
                f"decisionRefVersion '{raw}' is not a version number",
                code="engine.decision.version",
                element_id=call.element_id,
                hint="give a whole number (or an expression giving one)",
            ) from None
        rec = tx.definition_by_version(key, version, "dmn")
        if rec is None:
            raise EngineError(
                f"decision '{key}' has no version {version}",
                code="engine.decision.unknown",
                element_id=call.element_id,
                hint="deploy that version or change camunda:decisionRefVersion",
            )
        return rec
    rec = tx.latest_definition(key, "dmn")
    if rec is None:
        raise EngineError(
            f"decision '{key}' is not deployed",
            code="engine.decision.unknown",
            element_id=call.element_id,
            hint="deploy the DMN file together with the process",
        )
    return rec


def evaluate_decision(
    cache: dict[str, Any],
    tx: Transaction,
    call: DecisionCall,
    context: Mapping[str, Any],
    process: str | None = None,
) -> Any:
    """Evaluate the decision a task calls and return its result as the dialect maps it.

    Args:
        cache: Compiled DMN models by definition id (the engine's cache).
        tx: The command's transaction.
        call: The task's decision call.
        context: The variables the task sees (the decision's inputs).
        process: The calling process definition id (for the ``deployment`` binding).

    Raises:
        EngineError: Unknown decision or version, a failed evaluation, or a result that does
            not fit ``camunda:mapDecisionResult``.
    """
    return run_decision(cache, tx, call, context, process)[0]


def run_decision(
    cache: dict[str, Any],
    tx: Transaction,
    call: DecisionCall,
    context: Mapping[str, Any],
    process: str | None = None,
) -> tuple[Any, list[dict[str, Any]] | None]:
    """Like :func:`evaluate_decision`, with Camunda's unmapped result too.

    Returns:
        The mapped result and, for the Camunda dialect, the ``DmnDecisionResult`` rows (one
        map per matched rule: the transient ``decisionResult``); ``None`` for Zeebe.
    """
    from liucheng.dmn import DmnModel, parse_dmn

    key = str(call.ref.value(context))
    rec = _find(tx, call, key, context, process, cache=cache)
    model = cache.get(rec.id)
    if model is None:
        dep = tx.get_deployment(rec.deployment_id)
        assert dep is not None
        model = DmnModel(parse_dmn(dep.resources[rec.resource_name], file=rec.resource_name))
        cache[rec.id] = model
    variables = dict(context)
    # Camunda and Zeebe let a decision read every variable, declared as input data or not
    result = model.decide(key, variables, visible=variables)
    if result.errors:
        raise EngineError(
            f"decision '{key}' failed: {'; '.join(result.errors)}",
            code="engine.decision.failed",
            element_id=call.element_id,
            hint="check the decision's inputs and rules",
        )
    if call.dialect == "zeebe":
        return to_plain(result.value), None
    decision = next(d for d in model.definitions.decisions if key in (d.id, d.name))
    rows: list[dict[str, Any]] = to_plain(rule_results(decision, result.value))
    if call.result_var is None:
        return None, rows  # Camunda maps the result only into a result variable
    return to_plain(map_result(call.mapping, rows, key, call.element_id)), rows


def rule_results(decision: Any, value: Any) -> list[dict[str, Any]]:
    """Camunda's ``DmnDecisionResult`` of a decision's FEEL value: one map per matched rule."""
    from liucheng.dmn import DecisionTable

    table = decision.expression
    if not isinstance(table, DecisionTable):
        return [{decision.variable.name: value}]
    multi = table.hit_policy in _MULTI_HIT and table.aggregation is None
    hits: list[Any] = list(value or []) if multi else ([] if value is None else [value])
    if len(table.outputs) == 1:
        name = table.outputs[0].name or decision.variable.name
        return [{name: v} for v in hits]
    return [dict(v) for v in hits]


def _not_single(key: str, element_id: str, n: int, mapping: str) -> EngineError:
    return EngineError(
        f"decision '{key}' gave {n} results, but mapDecisionResult '{mapping}' takes at most one",
        code="engine.decision.result_not_single",
        element_id=element_id,
        hint="use mapDecisionResult resultList or collectEntries, or a single-hit policy",
    )


def map_result(mapping: str, rows: list[dict[str, Any]], key: str, element_id: str) -> Any:
    """Apply a ``camunda:mapDecisionResult`` to a decision result (see the module docstring).

    Raises:
        EngineError: ``singleResult``/``singleEntry`` with several results, ``singleEntry``
            with several outputs, ``collectEntries`` with several output names.
    """
    if mapping == "resultList":
        return rows
    if mapping == "collectEntries":
        names = sorted({k for r in rows for k in r})
        if len(names) > 1:
            raise EngineError(
                f"decision '{key}' has outputs {', '.join(names)}, but mapDecisionResult "
                "'collectEntries' takes one output",
                code="engine.decision.collect_outputs",
                element_id=element_id,
                hint="use mapDecisionResult resultList for several outputs",
            )
        return [r[names[0]] for r in rows if names[0] in r] if names else []
    if len(rows) > 1:
        raise _not_single(key, element_id, len(rows), mapping)
    if not rows:
        return None
    row = rows[0]
    if mapping == "singleResult":
        return row
    if len(row) > 1:
        raise EngineError(
            f"decision '{key}' has outputs {', '.join(sorted(row))}, but mapDecisionResult "
            "'singleEntry' takes one output",
            code="engine.decision.entry_not_single",
            element_id=element_id,
            hint="use mapDecisionResult singleResult for several outputs",
        )
    return next(iter(row.values()), None)
