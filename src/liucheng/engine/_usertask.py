"""Compiling the people's-work side of a process: user tasks (assignment, dates, forms,
strategies), lanes, and the ``liucheng:`` options (also readable as ``camunda:property``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liucheng.errors import LiuchengError, ModelError

from ._expr import feel, maybe_feel

if TYPE_CHECKING:
    import liucheng.model as m

    from ._graph import Graph, Node

__all__ = ["assign_lanes", "compile_slas", "compile_user", "sla_elements", "work_attr"]

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


_SLA_ATTRS = {
    "name": "name",
    "target": "target",
    "calendar": "calendar",
    "warnAt": "warn_at",
    "scope": "scope",
    "startOn": "start_on",
    "pauseOn": "pause_on",
    "resumeOn": "resume_on",
    "stopOn": "stop_on",
}


def sla_elements(el: Any, element_id: str, *, task: str | None) -> list[dict[str, Any]]:
    """The ``liucheng:sla`` extension elements of a process or user task as SLA mappings
    (``liucheng.org.sla_from_dict``), checked now so a bad one fails the deployment."""
    from liucheng.org import always_calendar, sla_from_dict

    out: list[dict[str, Any]] = []
    for x in el.extensions("liucheng:sla"):
        spec: dict[str, Any] = {
            key: x.get(attr) for attr, key in _SLA_ATTRS.items() if x.get(attr) is not None
        }
        if x.get("skipUnavailable") is not None:
            spec["skip_unavailable"] = str(x.get("skipUnavailable")).lower() != "false"
        levels = [
            {
                "after": lv.get("after") or "PT0S",
                "action": lv.get("action") or "notify",
                "levels_up": lv.get("levelsUp") or 1,
            }
            for lv in x.children
            if lv.local == "escalation"
        ]
        if levels:
            spec["escalation"] = levels
        if task is not None:
            spec["task"] = task
        try:
            sla_from_dict(spec, calendars=lambda _name: always_calendar(), where=element_id)
        except LiuchengError as exc:
            raise ModelError(
                f"bad liucheng:sla on '{element_id}': {getattr(exc, 'message', exc)}",
                element_id=element_id,
                code="engine.sla.invalid",
                hint='write e.g. <liucheng:sla name="resolution" target="PT8H" calendar="office"/>',
            ) from None
        out.append(spec)
    return out


def compile_slas(g: Graph, process: m.Process) -> None:
    """Process-level SLAs (``liucheng:sla`` in the process's extension elements)."""
    g.slas = sla_elements(process, g.key, task=None)


def compile_user(node: Node, el: Any) -> None:
    slas = sla_elements(el, node.id, task=node.id)
    if slas:
        node.work["slas"] = slas
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
            if _looks_feel(text):
                node.cand_groups = feel(text, node.id)
                continue
            # Camunda: "user(kermit), group(management), sales" (no prefix means a group)
            users: list[str] = []
            groups: list[str] = []
            for part in (p.strip() for p in text.split(",")):
                if part.startswith("user(") and part.endswith(")"):
                    users.append(part[5:-1].strip())
                elif part.startswith("group(") and part.endswith(")"):
                    groups.append(part[6:-1].strip())
                elif part:
                    groups.append(part)
            if users:
                node.cand_users = maybe_feel(", ".join(users), node.id)
            if groups:
                node.cand_groups = maybe_feel(", ".join(groups), node.id)


def _looks_feel(text: str) -> bool:
    return text.startswith(("=", '"'))
