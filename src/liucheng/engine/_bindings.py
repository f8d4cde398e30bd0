"""Camunda attributes that bind an element to something chosen at run time: the definition
version a call activity, business rule task or start uses (``calledElementBinding``,
``decisionRefBinding``, version tags), and the variable events a conditional event listens to
(``variableEvents``). See docs/engine-bindings-and-events.md."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from liucheng.errors import EngineError, ModelError, NotFoundError

from ._expr import Expr, maybe_feel

if TYPE_CHECKING:
    from ._graph import Graph, Node
    from .ports import DefinitionRecord, Transaction

__all__ = [
    "VARIABLE_EVENTS",
    "ZEEBE_BINDINGS",
    "call_binding",
    "called_definition",
    "definition_by_tag",
    "variable_events",
    "zeebe_binding",
    "zeebe_version_tag",
]

CAMUNDA = "camunda"

#: ``camunda:variableEvents`` values (Camunda's ``VariableListener`` event names).
VARIABLE_EVENTS = frozenset({"create", "update", "delete"})
#: ``camunda:calledElementBinding`` values and the attribute each one needs.
_CALL_BINDINGS = {
    "latest": None,
    "deployment": None,
    "version": "calledElementVersion",
    "versionTag": "calledElementVersionTag",
}
#: Zeebe ``bindingType`` values (``zeebe:calledElement``, ``zeebe:calledDecision``; Camunda 8.6+).
ZEEBE_BINDINGS = ("latest", "deployment", "versionTag")


def _invalid(el: Any, file: str | None, code: str, message: str, hint: str) -> ModelError:
    return ModelError(message, code=code, file=file, line=el.line, element_id=el.id, hint=hint)


def variable_events(d: Any, el: Any, file: str | None) -> frozenset[str] | None:
    """``camunda:variableEvents`` of a conditional event definition (``None``: any change).

    Raises:
        ModelError: An event name other than create, update and delete.
    """
    text = d.attr(CAMUNDA, "variableEvents")
    if not text or not text.strip():
        return None
    events = frozenset(e.strip() for e in text.split(",") if e.strip())
    unknown = sorted(events - VARIABLE_EVENTS)
    if unknown:
        raise _invalid(
            el,
            file,
            "bpmn.conditional.variable_events",
            f"conditional event '{el.id}' has unknown variableEvents {', '.join(unknown)}",
            "use a comma-separated list of create, update and delete",
        )
    return events


def call_binding(el: Any, file: str | None) -> tuple[str, Expr | None]:
    """A call activity's ``camunda:calledElementBinding`` and its version or version tag.

    Raises:
        ModelError: An unknown binding, or ``version``/``versionTag`` without its attribute.
    """
    binding = (el.attr(CAMUNDA, "calledElementBinding") or "latest").strip()
    if binding not in _CALL_BINDINGS:
        raise _invalid(
            el,
            file,
            "bpmn.call.binding",
            f"call activity '{el.id}' has unsupported calledElementBinding '{binding}'",
            "use latest, deployment, version or versionTag",
        )
    attr = _CALL_BINDINGS[binding]
    if attr is None:
        return binding, None
    value = maybe_feel(el.attr(CAMUNDA, attr), el.id)
    if value is None:
        raise _invalid(
            el,
            file,
            "bpmn.call.binding",
            f"call activity '{el.id}' binds by {binding} but has no camunda:{attr}",
            f"add camunda:{attr} or use calledElementBinding latest",
        )
    return binding, value


def zeebe_binding(
    ext: Any, el: Any, file: str | None, *, code: str, what: str
) -> tuple[str, Expr | None]:
    """The ``bindingType`` (and ``versionTag``) of a ``zeebe:calledElement`` or
    ``zeebe:calledDecision``, as the Camunda 7 binding of the same name.

    Args:
        ext: The Zeebe extension element.
        el: The calling element (for errors).
        file: The BPMN file (for errors).
        code: The error code of an invalid binding.
        what: The element kind, for the message (``call activity``...).

    Raises:
        ModelError: An unknown binding type, or ``versionTag`` without a ``versionTag``.
    """
    binding = (ext.get("bindingType") or "latest").strip()
    if binding not in ZEEBE_BINDINGS:
        raise _invalid(
            el,
            file,
            code,
            f"{what} '{el.id}' has unsupported bindingType '{binding}'",
            "use bindingType latest, deployment or versionTag",
        )
    if binding != "versionTag":
        return binding, None
    value = maybe_feel(ext.get("versionTag"), el.id)
    if value is None:
        raise _invalid(
            el,
            file,
            code,
            f"{what} '{el.id}' binds by versionTag but has no versionTag",
            'add versionTag="..." next to bindingType or use bindingType latest',
        )
    return binding, value


def zeebe_version_tag(el: Any) -> str | None:
    """The ``<zeebe:versionTag value="..."/>`` of a process (Camunda 8.6+), if any."""
    ext = el.extension("zeebe:versionTag")
    value = ext.get("value") if ext is not None else None
    return (value.strip() or None) if isinstance(value, str) else None


def _tag_markup(dialect: str, tag: str) -> str:
    # where a deployed version carries its tag: an attribute (Camunda 7) or an extension element
    if dialect == "zeebe":
        return f'<zeebe:versionTag value="{tag}"/>'
    return f'camunda:versionTag="{tag}"'


def definition_by_tag(
    tx: Transaction,
    key: str,
    tag: str,
    tag_of: Callable[[DefinitionRecord], str | None],
    *,
    element_id: str | None = None,
    attribute: str = "camunda:versionTag",
    kind: str = "bpmn",
    dialect: str = "camunda",
) -> DefinitionRecord:
    """The one version of ``key`` whose ``camunda:versionTag`` is ``tag`` (Camunda 7 binding).

    Args:
        tx: The command's transaction.
        key: Process (or decision) id.
        tag: The version tag wanted.
        tag_of: The version tag of a definition version (from its compiled model).
        element_id: The calling element (call activity, business rule task), for the error.
        attribute: The attribute that named the tag, for the hint.
        kind: ``bpmn`` or ``dmn``.
        dialect: ``camunda`` or ``zeebe``: the models the hints name the tag attribute of.

    Raises:
        EngineError: No version of ``key`` has that tag, or several have (Camunda refuses to
            guess too); the message names the tags that are deployed.
        NotFoundError: No version has the tag, without ``element_id`` (a start).
    """
    versions = tx.list_definitions(key, kind)
    found = [d for d in versions if tag_of(d) == tag]
    if len(found) == 1:
        return found[0]
    what = "decision" if kind == "dmn" else "process"
    prefix = "engine.decision" if kind == "dmn" else ("engine.call" if element_id else "")
    prefix = prefix or "engine.definition"
    where = f"'{element_id}' wants " if element_id else "wanted: "
    if not found:
        tags = sorted({t for t in (tag_of(d) for d in versions) if t is not None})
        known = f"deployed tags: {', '.join(tags)}" if tags else "no version has a tag"
        if not versions:
            known = "it is not deployed at all"
        # a start names what is not there (404 over REST); a model element gets an incident
        error = NotFoundError if element_id is None else EngineError
        raise error(
            f"{where}{what} '{key}' with version tag '{tag}', which no deployed version has "
            f"({known})",
            code=f"{prefix}.version_tag_unknown",
            element_id=element_id,
            hint=f"deploy a version of '{key}' with {_tag_markup(dialect, tag)} or change "
            f"{attribute}",
        )
    numbers = ", ".join(str(d.version) for d in found)
    raise EngineError(
        f"{where}{what} '{key}' with version tag '{tag}', which versions {numbers} all have",
        code=f"{prefix}.version_tag_ambiguous",
        element_id=element_id,
        hint=f"give each deployed version its own {dialect}:versionTag (Camunda refuses the "
        "ambiguity too), or bind by version",
    )


def called_definition(
    tx: Transaction,
    graph_of: Callable[[DefinitionRecord], Graph],
    caller: str,
    node: Node,
    ctx: Mapping[str, Any],
) -> DefinitionRecord:
    """The process version a call activity starts (``camunda:calledElementBinding``).

    Args:
        tx: The command's transaction.
        graph_of: The compiled process of a definition version (the engine's cache).
        caller: The calling instance's definition id (``deployment`` binding).
        node: The call activity.
        ctx: The variables it sees (the called element, version and tag may be FEEL).

    Raises:
        EngineError: No such process, version or version tag, or a tag on several versions.
    """
    assert node.called is not None
    key = str(node.called.value(ctx))
    binding, arg = node.call_bind
    rec: DefinitionRecord | None
    what = ""
    if binding == "deployment":
        own = tx.get_definition(caller)
        dep = own.deployment_id if own is not None else None
        found = [d for d in tx.list_definitions(key, "bpmn") if d.deployment_id == dep]
        rec = found[-1] if found else None
        what = " in the deployment of the calling process"
    elif binding == "version":
        assert arg is not None
        raw = arg.value(ctx)
        try:
            version = int(str(raw))
        except ValueError:
            raise EngineError(
                f"call activity '{node.id}': calledElementVersion '{raw}' is not a number",
                code="engine.call.version",
                element_id=node.id,
                hint="give a whole number (or an expression giving one)",
            ) from None
        rec = tx.definition_by_version(key, version)
        what = f" version {version}"
    elif binding == "versionTag":
        assert arg is not None
        tag = str(arg.value(ctx))
        return definition_by_tag(
            tx,
            key,
            tag,
            lambda d: graph_of(d).version_tag,
            element_id=node.id,
            attribute="zeebe:calledElement versionTag"
            if node.call_dialect == "zeebe"
            else "camunda:calledElementVersionTag",
            dialect=node.call_dialect,
        )
    else:
        rec = tx.latest_definition(key)
    if rec is None:
        raise EngineError(
            f"call activity '{node.id}' calls process '{key}'{what}, which is not deployed",
            code="engine.call.unknown",
            element_id=node.id,
            hint="deploy the called process (then resolve the incident)",
        )
    return rec
