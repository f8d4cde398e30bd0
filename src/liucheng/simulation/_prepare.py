"""Prepare a BPMN model for simulation: make timed activities wait, route gateways by scenario.

The simulator runs the engine's own semantics, so the model is adapted only where simulation
needs a wait state or a routing decision the model does not express:

* a plain ``task`` (or manual, script, service, send, business-rule task) with parameters in
  ``scenario.activities`` becomes a ``userTask`` (same id, name, flows, boundaries), so it
  waits for a simulated resource;
* service and send tasks without parameters become plain tasks (there is no handler or worker
  in a simulation);
* a gateway in ``scenario.gateways`` gets a FEEL condition on each outgoing flow: with
  ``probabilities`` the condition reads a variable the simulator draws before every command
  (``sim_gw_<n> = "<flow id>"``), with ``conditions`` the scenario's FEEL text over case
  attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from liucheng.errors import ModelError

from ._errors import ScenarioError
from .scenario import Scenario

__all__ = ["PreparedModel", "prepare_model"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_TIMED = {"task", "manualTask", "scriptTask", "serviceTask", "sendTask", "businessRuleTask"}
_NEEDS_WORKER = {"serviceTask", "sendTask"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "complexGateway"}


@dataclass
class PreparedModel:
    """A model adapted for simulation.

    Attributes:
        xml: The adapted BPMN document.
        process_id: The process to start.
        gateway_vars: ``gateway id -> (variable name, flow ids, probabilities)``.
        names: Element id -> name (activity names for the event log).
        lanes: Element id -> lane names/ids it lies in.
        warnings: Things the simulator could not honour exactly.
    """

    xml: bytes
    process_id: str
    gateway_vars: dict[str, tuple[str, list[str], list[float]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    lanes: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(el: Any) -> str:
    tag = el.tag
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def _parse(data: bytes, name: str) -> Any:
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise ModelError("refused XML: DOCTYPE/ENTITY declarations", code="xml.entity", file=name)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ModelError(
            f"not well-formed XML: {exc.msg}", code="xml.syntax", file=name, line=exc.lineno
        ) from None


def _feel_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def prepare_model(data: bytes, scenario: Scenario, *, name: str = "model.bpmn") -> PreparedModel:
    """Adapt the BPMN document ``data`` to ``scenario`` (see the module docstring).

    Raises:
        ModelError: The document is not BPMN XML or has no (matching) process.
        ScenarioError: The scenario names elements or flows the model does not have.
    """
    root = _parse(data, name)
    processes = list(root.iter(_q("process")))
    if not processes:
        raise ModelError("the model has no process", code="simulation.model.no_process", file=name)
    if scenario.process is not None:
        chosen = [p for p in processes if p.get("id") == scenario.process]
        if not chosen:
            raise ScenarioError(
                f"the model has no process {scenario.process!r}", path="process", file=name
            )
        process = chosen[0]
    else:
        executable = [p for p in processes if p.get("isExecutable", "true").lower() != "false"]
        process = (executable or processes)[0]
    process.set("isExecutable", "true")
    pid = process.get("id") or ""
    out = PreparedModel(b"", pid)
    by_id: dict[str, Any] = {}
    for el in process.iter():
        if not isinstance(el.tag, str):
            continue
        eid = el.get("id")
        if eid:
            by_id[eid] = el
            if el.get("name"):
                out.names[eid] = el.get("name") or eid
    for lane in process.iter(_q("lane")):
        labels = [x for x in (lane.get("name"), lane.get("id")) if x]
        for ref in lane.iter(_q("flowNodeRef")):
            out.lanes.setdefault((ref.text or "").strip(), []).extend(labels)
    for act_id in scenario.activities:
        el = by_id.get(act_id)
        if el is None:
            raise ScenarioError(
                f"the model has no element {act_id!r}", path=f"activities.{act_id}", file=name
            )
        if _local(el) in _TIMED:
            _retag(el, "userTask")
    for el in list(by_id.values()):
        if _local(el) in _NEEDS_WORKER and el.get("id") not in scenario.activities:
            _retag(el, "task")
    for index, (gw_id, spec) in enumerate(sorted(scenario.gateways.items())):
        gw = by_id.get(gw_id)
        if gw is None or _local(gw) not in _GATEWAYS | {"eventBasedGateway"}:
            raise ScenarioError(
                f"the model has no exclusive/inclusive gateway {gw_id!r}",
                path=f"gateways.{gw_id}",
                file=name,
            )
        outgoing = {
            f.get("id"): f
            for f in process.iter(_q("sequenceFlow"))
            if f.get("sourceRef") == gw_id and f.get("id")
        }
        named = spec.probabilities or spec.conditions or {}
        for flow_id in list(named) + ([spec.default] if spec.default else []):
            if flow_id not in outgoing:
                raise ScenarioError(
                    f"{flow_id!r} is not an outgoing sequence flow of {gw_id!r}",
                    path=f"gateways.{gw_id}",
                    file=name,
                    hint="outgoing flows: " + ", ".join(sorted(k for k in outgoing if k)),
                )
        if spec.probabilities is not None:
            var = f"sim_gw_{index}"
            flows = [f for f in spec.probabilities if spec.probabilities[f] > 0]
            probs = [spec.probabilities[f] for f in flows]
            out.gateway_vars[gw_id] = (var, flows, probs)
            conditions = {f: f"{var} = {_feel_string(f)}" for f in outgoing}
            gw.attrib.pop("default", None)
        else:
            conditions = dict(spec.conditions or {})
            if spec.default is not None:
                gw.set("default", spec.default)
        for flow_id, flow in outgoing.items():
            for old in flow.findall(_q("conditionExpression")):
                flow.remove(old)
            text = conditions.get(flow_id)
            if text is None:
                continue
            cond = etree.SubElement(flow, _q("conditionExpression"))
            cond.set(f"{{{XSI_NS}}}type", "tFormalExpression")
            cond.text = text
            # BPMN wants conditionExpression before nothing in particular; keep it first.
            flow.remove(cond)
            flow.insert(0, cond)
    out.xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _retag(el: Any, tag: str) -> None:
    el.tag = _q(tag)
    for attr in list(el.attrib):
        # Worker/handler attributes of the old type mean nothing for a simulated task.
        if attr.startswith("{") and re.search(
            r"(type|class|delegateExpression|expression|topic|implementation)$", attr
        ):
            del el.attrib[attr]
