"""The RACI view of a process from its BPMN model: each user task lies in a lane, and the
organisation maps lanes to roles (responsible) and names the owner (accountable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liucheng.errors import NotFoundError

from ._model import Organisation, RaciView

__all__ = ["raci_from_bpmn", "task_lanes"]


def task_lanes(process: Any) -> dict[str, str]:
    """User task name (id when unnamed) → name (id when unnamed) of its innermost lane, for a
    ``liucheng.model.Process``; tasks in no lane are left out."""
    from liucheng.model import UserTask

    lane_of: dict[str, str] = {}

    def walk(lanes: Any) -> None:
        for lane in lanes:
            for ref in lane.flow_node_refs:
                lane_of[ref] = lane.name or lane.id
            if lane.child_lane_set is not None:
                walk(lane.child_lane_set.lanes)  # inner lanes overwrite outer ones

    for lane_set in process.lane_sets:
        walk(lane_set.lanes)
    out: dict[str, str] = {}
    stack = list(process.flow_elements)
    while stack:
        el = stack.pop(0)
        stack.extend(getattr(el, "flow_elements", ()))
        if isinstance(el, UserTask) and el.id in lane_of:
            out[el.name or el.id] = lane_of[el.id]
    return out


def raci_from_bpmn(org: Organisation, process_id: str, bpmn: str | Path | bytes) -> RaciView:
    """The RACI view of ``process_id`` with one row per user task of the BPMN model that lies
    in a lane the organisation maps to a role (plus the process's own ``tasks`` entries).

    Raises:
        NotFoundError: The model has no such process, or the organisation does not know it.
        ModelError: The BPMN cannot be parsed.
    """
    from liucheng.model import parse_bpmn

    defs = parse_bpmn(bpmn, filename=str(bpmn) if isinstance(bpmn, str | Path) else None)
    process = next((p for p in defs.processes if p.id == process_id), None)
    if process is None:
        raise NotFoundError(
            f"the model has no process {process_id!r}",
            code="org.process.not_found",
            hint="give the id of a process in the BPMN file",
        )
    proc = org.processes.get(process_id)
    lanes = proc.lanes if proc is not None else {}
    tasks = {task: lane for task, lane in task_lanes(process).items() if lane in lanes}
    return org.raci(process_id, tasks)
