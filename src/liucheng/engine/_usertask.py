"""Compiling the people's-work side of a process: user tasks (assignment, dates, forms,
strategies), lanes, and the ``liucheng:`` options (also readable as ``camunda:property``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liucheng.errors import ModelError

from ._expr import feel, maybe_feel

if TYPE_CHECKING:
    import liucheng.model as m

    from ._graph import Graph, Node

__all__ = ["assign_lanes", "compile_user", "work_attr"]

CAMUNDA = "camunda"


def _ext_attr(el: m.BaseElement, name: str) -> str | None:
    return el.attr(CAMUNDA, name)


def assign_lanes(g: Graph, process: m.Process) -> None:
    """Put each node in its innermost lane (outer lanes first, inner ones overwrite)."""

    def walk(lanes: Any) -> None:
        for lane in lanes:
            for ref in lane.flow_node_refs:
                node = g.nodes.get(ref)
                if node is not None:
                    node.lane = lane.name or lane.id
            if lane.child_lane_set is not None:
                walk(lane.child_lane_set.lanes)

    for lane_set in process.lane_sets:
        walk(lane_set.lanes)


def work_attr(el: m.BaseElement, name: str) -> str | None:
    """A people's-work option: ``liucheng:NAME``, else a ``camunda:property`` named NAME."""
    v = el.attr("liucheng", name)
    if v is not None:
        return v
    for props in el.extensions("camunda:properties"):
        for p in props.children:
            if p.local == "property" and p.get("name") in (name, f"liucheng:{name}"):
                return p.get("value")
    return None


def compile_user(node: Node, el: Any) -> None:
    for opt in ("strategy", "skills", "effort", "form", "calendar"):
        v = work_attr(el, opt)
        if v is not None:
            node.work[opt] = v
    try:
        if "effort" in node.work:
            node.work["effort"] = float(node.work["effort"])
        if "skills" in node.work:
            skills: dict[str, int] = {}
            for part in str(node.work["skills"]).replace(";", ",").split(","):
                if part.strip():
                    name, _, level = part.partition(":")
                    skills[name.strip()] = int(level or 1)
            node.work["skills"] = skills
    except ValueError:
        raise ModelError(
            f"user task '{node.id}' has a bad liucheng:effort or liucheng:skills",
            element_id=node.id,
            hint='write e.g. liucheng:effort="2" liucheng:skills="billing:3,network:2"',
        ) from None
    node.work["doc"] = el.doc_text or None
    for opt in ("dueDate", "followUpDate", "priority", "formKey"):
        v = _ext_attr(el, opt)
        if v is not None:
            expr = maybe_feel(v, node.id)
            if expr is not None:
                node.task_opts[opt] = expr
    fr = _ext_attr(el, "formRef")
    if fr is not None and "formKey" not in node.task_opts:
        node.task_opts["formKey"] = maybe_feel(  # type: ignore[assignment]
            fr if fr.startswith("=") else "formId:" + fr, node.id
        )
    zf = el.extension("zeebe:formDefinition")
    if zf is not None and zf.get("formKey"):
        node.task_opts["formKey"] = maybe_feel(zf.get("formKey"), node.id)  # type: ignore[assignment]
    zs = el.extension("zeebe:taskSchedule")
    if zs is not None and zs.get("dueDate"):
        node.task_opts["dueDate"] = maybe_feel(zs.get("dueDate"), node.id)  # type: ignore[assignment]
    if zs is not None and zs.get("followUpDate"):
        node.task_opts["followUpDate"] = maybe_feel(zs.get("followUpDate"), node.id)  # type: ignore[assignment]
    if zf is not None and zf.get("formId") and "formKey" not in node.task_opts:
        node.task_opts["formKey"] = maybe_feel("formId:" + str(zf.get("formId")), node.id)  # type: ignore[assignment]
    zp = el.extension("zeebe:priorityDefinition")
    if zp is not None and zp.get("priority"):
        node.task_opts["priority"] = maybe_feel(zp.get("priority"), node.id)  # type: ignore[assignment]
    za = el.extension("zeebe:assignmentDefinition")
    if za is not None:
        node.assignee = maybe_feel(za.get("assignee"), node.id)
        node.cand_groups = maybe_feel(za.get("candidateGroups"), node.id)
        node.cand_users = maybe_feel(za.get("candidateUsers"), node.id)
    a = _ext_attr(el, "assignee")
    if a is not None:
        node.assignee = maybe_feel(a, node.id)
    cg = _ext_attr(el, "candidateGroups")
    if cg is not None:
        node.cand_groups = maybe_feel(cg, node.id)
    cu = _ext_attr(el, "candidateUsers")
    if cu is not None:
        node.cand_users = maybe_feel(cu, node.id)
    for role in el.resource_roles:
        text = ""
        for n in role.iter():
            if n.local == "formalExpression":
                text = n.text_content.strip()
        if not text:
            continue
        if role.local == "humanPerformer":
            node.assignee = feel(text, node.id) if _looks_feel(text) else maybe_feel(text, node.id)
        elif role.local == "potentialOwner":
            node.cand_groups = (
                feel(text, node.id) if _looks_feel(text) else maybe_feel(text, node.id)
            )


def _looks_feel(text: str) -> bool:
    return text.startswith(("=", '"'))
