"""The compiled graph's nodes and the checks that keep a model element in the compiled subset.

Each check accepts an element only when nothing about it could make the engine behave
differently from :class:`~._fast_run.FastRunner` (foreign attributes, extension elements,
loops, data); timers and event names are read from the engine's own compiled nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._prepare import PreparedModel, _q

__all__ = ["FastGraph"]


@dataclass
class _Node:
    id: str
    # start, end, wait (user task), pass, xor (exclusive or inclusive gateway), and, boundary
    # (timer), timer (intermediate timer catch), catch (intermediate message/signal catch: a
    # simulated wait), sub (embedded subprocess), ebg (event-based gateway)
    kind: str
    outgoing: list[str] = field(default_factory=list)  # target node ids, document order
    flow_ids: list[str] = field(default_factory=list)
    incoming: int = 0
    var: str | None = None  # xor routed by this simulation variable
    by_flow: dict[str, str] = field(default_factory=dict)  # flow id -> target
    timer: Any = None  # boundary/timer: the parsed ISO duration when the text is literal
    plan: Any = None  # boundary/timer: the engine's (kind, expression) otherwise
    interrupting: bool = True  # boundary: cancelActivity
    boundaries: list[str] = field(default_factory=list)  # wait/sub: its timer boundary events
    #: wait: a multi-instance task's literal cardinality (None: a plain task), and whether its
    #: instances run one after the other
    mi_n: int | None = None
    mi_seq: bool = False
    event: str = ""  # catch: "message" or "signal"
    scope: _Node | None = None  # the embedded subprocess the node lies in (None: the process)
    first: str = ""  # sub: its start event
    #: sub: its instances record what they open, to cancel it (it or an enclosing subprocess
    #: has boundary events)
    track: bool = False


@dataclass
class FastGraph:
    """The compiled subset model.

    Attributes:
        nodes: Node id -> node.
        start: The start event.
        needs_vars: A timer expression reads variables: the runner keeps each instance's.
    """

    nodes: dict[str, _Node]
    start: str
    needs_vars: bool = False


def _plain_element(el: Any) -> bool:
    """No foreign attributes or children that could change behaviour."""
    if any(a.startswith("{") for a in el.attrib):
        return False
    for child in el:
        if not isinstance(child.tag, str):
            continue
        local = child.tag.split("}", 1)[-1]
        if local not in ("incoming", "outgoing", "documentation", "extensionElements"):
            return False
        if local == "extensionElements" and len(child):
            return False
    return True


def _plain_ebg(el: Any) -> bool:
    """An event-based gateway that only chooses the first of its events (no instantiation)."""
    if set(el.attrib) - {"id", "name", "gatewayDirection", "eventGatewayType", "instantiate"}:
        return False
    if (el.get("instantiate") or "false").strip() != "false":
        return False
    if (el.get("eventGatewayType") or "Exclusive").strip() != "Exclusive":
        return False
    return _plain_element(el)


_LITERAL_INT = re.compile(r"=?\s*\d{1,6}\s*")


def _plain_mi(el: Any) -> bool | None:
    """Whether a multi-instance user task runs sequentially, or ``None`` unless it only has a
    literal ``loopCardinality`` (no collection, completion condition, output or extensions)."""
    if any(a.startswith("{") for a in el.attrib):
        return None
    lc = None
    for child in el:
        if not isinstance(child.tag, str):
            continue
        local = child.tag.split("}", 1)[-1]
        if local == "multiInstanceLoopCharacteristics" and lc is None:
            lc = child
        elif local not in ("incoming", "outgoing", "documentation") and not (
            local == "extensionElements" and not len(child)
        ):
            return None
    if lc is None or set(lc.attrib) - {"id", "isSequential"}:
        return None
    parts = [c for c in lc if isinstance(c.tag, str)]
    if len(parts) != 1 or parts[0].tag != _q("loopCardinality") or len(parts[0]):
        return None
    if set(parts[0].attrib) - {"{http://www.w3.org/2001/XMLSchema-instance}type"}:
        return None
    if not _LITERAL_INT.fullmatch(parts[0].text or ""):
        return None
    return (lc.get("isSequential") or "false").strip() == "true"


def _cardinality(engine_node: Any) -> int | None:
    """The engine's own value of a literal multi-instance cardinality, else ``None``."""
    mi = None if engine_node is None else engine_node.mi
    if mi is None or mi.cardinality is None or mi.collection is not None:
        return None
    if mi.completion is not None or mi.output_collection or mi.async_before or mi.async_after:
        return None
    if engine_node.async_before or engine_node.async_after or engine_node.boundaries:
        return None
    try:
        return int(mi.cardinality.value({}))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _plain_sub(el: Any) -> bool:
    """An embedded subprocess with nothing that changes how it runs (no loop, no data, no
    listeners or mappings in extension elements)."""
    if set(el.attrib) - {"id", "name", "triggeredByEvent"}:
        return False
    if any(isinstance(c.tag, str) and c.tag == _q("extensionElements") and len(c) for c in el):
        return False
    return (el.get("triggeredByEvent") or "false").strip() == "false"


_ISO_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


def _engine_nodes(prepared: PreparedModel) -> dict[str, Any] | None:
    """The engine's own compiled nodes of the process (timer expressions, boundary order)."""
    from liucheng.engine._graph import compile_process
    from liucheng.errors import LiuchengError
    from liucheng.model import parse_bpmn

    try:
        defs = parse_bpmn(prepared.xml, filename="model.bpmn")
        roots = {r.id: r for r in defs.root_elements if r.id}
        process = next(p for p in defs.processes if p.id == prepared.process_id)
        return dict(compile_process(process, roots).nodes)
    except (LiuchengError, StopIteration):
        return None  # the engine path reports what is wrong


def _only_children(el: Any, allowed: tuple[str, ...]) -> list[Any] | None:
    """The event definitions of ``el`` when it has nothing but those, flows and docs."""
    if any(a.startswith("{") or a not in allowed for a in el.attrib):
        return None
    defs = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = c.tag.split("}", 1)[-1]
        if local in ("incoming", "outgoing", "documentation"):
            continue
        if local == "extensionElements" and not len(c):
            continue
        defs.append(c)
    return defs


def _timer_of(eid: str, definition: Any, engine_node: Any) -> tuple[Any, Any] | None:
    """``(literal duration, engine plan)`` of a timer definition (one of them set), or ``None``
    when the engine would count business time (a calendar)."""
    if definition.tag != _q("timerEventDefinition") or definition.attrib:
        return None
    parts = [c for c in definition if isinstance(c.tag, str)]
    if len(parts) != 1 or parts[0].attrib or len(parts[0]):
        return None
    if parts[0].tag not in (_q("timeDuration"), _q("timeDate"), _q("timeCycle")):
        return None
    if engine_node is None or engine_node.timer is None or engine_node.work.get("calendar"):
        return None
    kind, expr = engine_node.timer
    if kind not in ("duration", "date", "cycle"):
        return None
    text = (parts[0].text or "").strip()
    if kind == "duration" and _ISO_DURATION.fullmatch(text):
        from liucheng.engine._timers import parse_duration

        return parse_duration(text), None
    # a FEEL expression, a date or a cycle (R/..., cron): the engine's own planning
    return None, (kind, expr)


def _timer_boundary(el: Any, nodes: dict[str, _Node], engine: dict[str, Any]) -> _Node | None:
    """A timer boundary event (literal or FEEL duration, or a date) on a task or an embedded
    subprocess, else ``None``."""
    eid = el.get("id") or ""
    host = nodes.get(el.get("attachedToRef") or "")
    if not eid or host is None or host.kind not in ("wait", "sub"):
        return None
    defs = _only_children(el, ("id", "name", "attachedToRef", "cancelActivity"))
    if defs is None or len(defs) != 1:
        return None
    timer = _timer_of(eid, defs[0], engine.get(eid))
    if timer is None:
        return None
    cancel = (el.get("cancelActivity") or "true").strip()
    if cancel not in ("true", "false"):
        return None
    host.boundaries.append(eid)
    return _Node(eid, "boundary", timer=timer[0], plan=timer[1], interrupting=cancel == "true")


def _catch_event(el: Any, engine: dict[str, Any]) -> _Node | None:
    """An intermediate timer, message or signal catch event (or a plain receive task), else
    ``None``."""
    eid = el.get("id") or ""
    if el.tag == _q("receiveTask"):
        node = engine.get(eid)
        if not eid or _only_children(el, ("id", "name", "messageRef")) != [] or node is None:
            return None
        if node.ev != "message" or node.event_name is None or not node.event_name.is_const:
            return None
        if node.corr_key or node.boundaries:
            return None
        return _Node(eid, "catch", event="message")
    defs = _only_children(el, ("id", "name"))
    if not eid or defs is None or len(defs) != 1:
        return None
    d = defs[0]
    if d.tag == _q("timerEventDefinition"):
        timer = _timer_of(eid, d, engine.get(eid))
        if timer is None:
            return None
        return _Node(eid, "timer", timer=timer[0], plan=timer[1])
    for event, ref in (("message", "messageRef"), ("signal", "signalRef")):
        if d.tag == _q(f"{event}EventDefinition"):
            node = engine.get(eid)
            if set(d.attrib) - {"id", ref} or len(d) or node is None or node.ev != event:
                return None
            if node.event_name is None or not node.event_name.is_const or node.corr_key:
                return None
            return _Node(eid, "catch", event=event)
    return None
