"""Simulation parameters carried in the BPMN file: BPSim and Camunda-style properties.

:func:`bpmn_scenario_document` reads them into a scenario *document* (the plain-dict form of
the scenario file); :func:`merge_scenario_documents` lays a YAML scenario over it (the YAML
wins); :func:`scenario_for_model` does both and validates. Supported (``docs/simulation.md``):

* **BPSim** (``http://www.bpsim.org/schemas/1.0`` or ``2.0``) in ``bpsim:BPSimData`` anywhere in
  the document: the first ``Scenario`` (or the one named), its ``ScenarioParameters``
  (``replication``, ``seed``, ``baseTimeUnit``; ``Start``, ``Duration``, ``Warmup``) and its
  ``ElementParameters``: ``TimeParameters/ProcessingTime`` of tasks, ``InterTriggerTimer``
  and ``ControlParameters/TriggerCount`` of the start event, ``ControlParameters/Probability``
  of sequence flows out of gateways, ``ResourceParameters/Quantity`` of resources, lanes and
  tasks, ``CostParameters/FixedCost`` of tasks and ``UnitCost`` of resources.
* **Camunda properties** (``camunda:properties/camunda:property name="simulation.*"``), for
  modelers without a BPSim panel; they override BPSim values.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from ._errors import ScenarioError
from ._prepare import BPMN_NS, _local, _parse
from .scenario import Scenario, scenario_from_dict

__all__ = ["bpmn_scenario_document", "merge_scenario_documents", "scenario_for_model"]

_BPSIM_NS = ("http://www.bpsim.org/schemas/1.0", "http://www.bpsim.org/schemas/2.0")
_CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "min": 60.0,
    "hour": 3600.0,
    "h": 3600.0,
    "day": 86400.0,
    "year": 365 * 86400.0,
}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "complexGateway"}
_REPLACED = {"arrivals"}  # sections the YAML replaces whole rather than merging into


def _bp(el: Any, name: str) -> Any:
    for ns in _BPSIM_NS:
        found = el.find(f"{{{ns}}}{name}")
        if found is not None:
            return found
    return None


def _bp_all(el: Any, name: str) -> list[Any]:
    return [x for ns in _BPSIM_NS for x in el.iter(f"{{{ns}}}{name}")]


def _num(el: Any, attr: str, where: str, scale: float = 1.0) -> float:
    raw = el.get(attr)
    try:
        return float(raw) * scale
    except (TypeError, ValueError):
        raise ScenarioError(
            f"BPSim {_local(el)} needs a numeric '{attr}', got {raw!r}", path=where
        ) from None


def _parameter(holder: Any, where: str, unit: float, *, time: bool) -> Any:
    """The value of the first BPSim parameter in ``holder``: a scenario distribution or value."""
    for el in holder:
        if not isinstance(el.tag, str):
            continue
        kind = _local(el)
        u = unit if time else 1.0
        if kind in ("NumericParameter", "FloatingParameter"):
            return _num(el, "value", where, u)
        if kind == "DurationParameter":
            return el.get("value")
        if kind == "DateTimeParameter":
            return el.get("value")
        if kind == "ExponentialDistribution":
            return {"distribution": "exponential", "mean": _num(el, "mean", where, u)}
        if kind in ("NormalDistribution", "LogNormalDistribution", "TruncatedNormalDistribution"):
            spec: dict[str, Any] = {
                "distribution": "lognormal" if kind.startswith("LogNormal") else "normal",
                "mean": _num(el, "mean", where, u),
                "std": _num(el, "standardDeviation", where, u),
            }
            for attr in ("min", "max"):
                if el.get(attr) is not None:
                    spec[attr] = _num(el, attr, where, u)
            return spec
        if kind == "GammaDistribution":
            return {
                "distribution": "gamma",
                "shape": _num(el, "shape", where),
                "scale": _num(el, "scale", where, u),
            }
        if kind == "ErlangDistribution":
            k = _num(el, "k", where)
            return {"distribution": "gamma", "shape": k, "scale": _num(el, "mean", where, u) / k}
        if kind == "TriangularDistribution":
            return {
                "distribution": "triangular",
                "low": _num(el, "min", where, u),
                "mode": _num(el, "mode", where, u),
                "high": _num(el, "max", where, u),
            }
        if kind == "UniformDistribution":
            return {
                "distribution": "uniform",
                "low": _num(el, "min", where, u),
                "high": _num(el, "max", where, u),
            }
        if kind == "UserDistribution":
            values: list[float] = []
            weights: list[float] = []
            for point in el:
                if isinstance(point.tag, str) and _local(point) == "UserDistributionDataPoint":
                    weights.append(_num(point, "probability", where))
                    value = _parameter(point, where, unit, time=time)
                    if not isinstance(value, float):
                        raise ScenarioError("BPSim data points need numeric values", path=where)
                    values.append(value)
            return {"distribution": "empirical", "values": values, "weights": weights}
        raise ScenarioError(
            f"BPSim {kind} is not supported in simulation",
            path=where,
            hint="use Exponential, Normal, LogNormal, TruncatedNormal, Gamma, Erlang, "
            "Triangular, Uniform, User distributions or a Numeric/Floating/Duration parameter",
        )
    raise ScenarioError("BPSim parameter without a value", path=where)


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _elements(root: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """BPMN elements by id, and sequence flow id -> source id."""
    by_id: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        eid = el.get("id")
        if eid:
            by_id[eid] = el
        if _local(el) == "sequenceFlow" and eid:
            sources[eid] = el.get("sourceRef") or ""
    return by_id, sources


def _apply(  # noqa: PLR0917 - one place maps a parameter to the scenario
    doc: dict[str, Any],
    by_id: dict[str, Any],
    sources: dict[str, str],
    ref: str,
    what: str,
    value: Any,
    where: str,
) -> None:
    el = by_id.get(ref)
    if el is None:
        raise ScenarioError(f"no BPMN element {ref!r}", path=where)
    kind = _local(el)
    if what == "duration":
        if kind in ("intermediateCatchEvent", "receiveTask", "boundaryEvent"):
            _set(doc, ("events", ref, "duration"), value)
        else:
            _set(doc, ("activities", ref, "duration"), value)
    elif what == "interarrival":
        _set(doc, ("arrivals", "interarrival"), value)
    elif what == "max_cases":
        _set(doc, ("arrivals", "max_cases"), int(value))
    elif what == "probability":
        gw = sources.get(ref, "")
        if kind != "sequenceFlow" or _local(by_id.get(gw)) not in _GATEWAYS:
            raise ScenarioError(
                f"a probability belongs on a sequence flow out of a gateway, not on {ref!r}",
                path=where,
            )
        _set(doc, ("gateways", gw, "probabilities", ref), float(value))
    elif what == "quantity":
        if kind in _TASKS:
            _set(doc, ("resources", ref, "count"), int(value))
            _set(doc, ("activities", ref, "resources"), [ref])
        else:
            _set(doc, ("resources", ref, "count"), int(value))
    elif what == "cost":
        _set(doc, ("activities", ref, "cost"), float(value))
    elif what == "unit_cost":
        _set(doc, ("resources", ref, "cost_per_hour"), float(value))
    elif what == "resources":
        names = [s.strip() for s in str(value).split(",") if s.strip()]
        _set(doc, ("activities", ref, "resources"), names)
    elif what == "priority":
        _set(doc, ("activities", ref, "priority"), value)


_TASKS = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "businessRuleTask",
    "receiveTask",
    "callActivity",
    "subProcess",
}


def _bpsim(root: Any, doc: dict[str, Any], scenario_id: str | None, by_id: Any, src: Any) -> None:
    scenarios = _bp_all(root, "Scenario")
    if not scenarios:
        return
    chosen = scenarios[0]
    if scenario_id is not None:
        named = [s for s in scenarios if s.get("id") == scenario_id]
        if not named:
            raise ScenarioError(f"the model has no BPSim scenario {scenario_id!r}", path="bpsim")
        chosen = named[0]
    sid = chosen.get("id") or "scenario"
    if chosen.get("name"):
        doc["name"] = chosen.get("name")
    params = _bp(chosen, "ScenarioParameters")
    unit = 1.0
    if params is not None:
        unit_name = params.get("baseTimeUnit") or "s"
        if unit_name not in _UNITS:
            raise ScenarioError(
                f"unknown BPSim baseTimeUnit {unit_name!r}",
                path=f"bpsim.{sid}.baseTimeUnit",
                hint=", ".join(_UNITS),
            )
        unit = _UNITS[unit_name]
        for attr, key in (("replication", "replications"), ("seed", "seed")):
            if params.get(attr) is not None:
                doc[key] = int(_num(params, attr, f"bpsim.{sid}.{attr}"))
        for tag, key, time in (
            ("Start", "start", False),
            ("Duration", "horizon", True),
            ("Warmup", "warm_up", True),
        ):
            holder = _bp(params, tag)
            if holder is not None:
                doc[key] = _parameter(holder, f"bpsim.{sid}.{tag}", unit, time=time)
    for ep in _bp_all(chosen, "ElementParameters"):
        ref = ep.get("elementRef") or ""
        where = f"bpsim.{sid}.{ref}"
        table = (
            ("TimeParameters", "ProcessingTime", "duration", True),
            ("TimeParameters", "InterTriggerTimer", "interarrival", True),
            ("ControlParameters", "TriggerCount", "max_cases", False),
            ("ControlParameters", "Probability", "probability", False),
            ("ResourceParameters", "Quantity", "quantity", False),
            ("CostParameters", "FixedCost", "cost", False),
            ("CostParameters", "UnitCost", "unit_cost", False),
        )
        for group_tag, tag, what, time in table:
            group = _bp(ep, group_tag)
            holder = _bp(group, tag) if group is not None else None
            if holder is None:
                continue
            value = _parameter(holder, f"{where}.{tag}", unit, time=time)
            if what == "unit_cost":
                value = float(value) * 3600.0 / unit  # per base time unit -> per hour
            _apply(doc, by_id, src, ref, what, value, f"{where}.{tag}")


_PROCESS_KEYS = {
    "simulation.horizon": "horizon",
    "simulation.warm_up": "warm_up",
    "simulation.replications": "replications",
    "simulation.seed": "seed",
    "simulation.start": "start",
    "simulation.sla": "sla",
}
_ELEMENT_KEYS = {
    "simulation.duration": "duration",
    "simulation.wait": "duration",
    "simulation.interarrival": "interarrival",
    "simulation.max_cases": "max_cases",
    "simulation.probability": "probability",
    "simulation.resources": "resources",
    "simulation.cost": "cost",
    "simulation.priority": "priority",
}


def _camunda(root: Any, doc: dict[str, Any], by_id: Any, src: Any) -> None:
    for prop in root.iter(f"{{{_CAMUNDA_NS}}}property"):
        name = prop.get("name") or ""
        if not name.startswith("simulation."):
            continue
        owner = prop.getparent()
        while owner is not None and not (
            isinstance(owner.tag, str)
            and owner.tag.startswith(f"{{{BPMN_NS}}}")
            and owner.get("id")
        ):
            owner = owner.getparent()
        if owner is None:
            continue
        ref = owner.get("id")
        where = f"camunda:properties.{ref}.{name}"
        try:
            value = yaml.safe_load(prop.get("value") or "")
        except yaml.YAMLError:
            raise ScenarioError("the property value is not valid YAML", path=where) from None
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        if _local(owner) == "process" and name in _PROCESS_KEYS:
            doc[_PROCESS_KEYS[name]] = value
        elif name in _ELEMENT_KEYS:
            _apply(doc, by_id, src, ref, _ELEMENT_KEYS[name], value, where)
        else:
            raise ScenarioError(
                f"unknown simulation property {name!r}",
                path=where,
                hint=", ".join(sorted({*_PROCESS_KEYS, *_ELEMENT_KEYS})),
            )


def bpmn_scenario_document(
    data: bytes, *, scenario_id: str | None = None, name: str = "model.bpmn"
) -> dict[str, Any]:
    """The simulation parameters of a BPMN document as a (partial) scenario document.

    Empty when the model carries none. Camunda ``simulation.*`` properties override BPSim.

    Raises:
        ScenarioError: A parameter that cannot be used (path ``bpsim.<scenario>.<element>``).
        ModelError: Not XML.
    """
    root = _parse(data, name)
    by_id, sources = _elements(root)
    doc: dict[str, Any] = {}
    try:
        _bpsim(root, doc, scenario_id, by_id, sources)
        _camunda(root, doc, by_id, sources)
    except ScenarioError as exc:
        exc.file = exc.file or name
        raise
    for spec in doc.get("activities", {}).values():
        spec.setdefault("duration", 0)
    return doc


def merge_scenario_documents(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: mappings merge key by key, everything else is replaced.

    A distribution (a mapping with ``distribution``), a gateway's routing and ``arrivals`` are
    replaced whole, so a YAML value never mixes with the BPMN's.
    """
    out = copy.deepcopy(base)
    for key, value in override.items():
        old = out.get(key)
        if (
            isinstance(value, dict)
            and isinstance(old, dict)
            and key not in _REPLACED
            and "distribution" not in value
        ):
            if key == "gateways":
                out[key] = {**old, **copy.deepcopy(value)}
            else:
                out[key] = merge_scenario_documents(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def scenario_for_model(
    model: bytes | str | Path,
    document: dict[str, Any] | None = None,
    *,
    file: str | None = None,
    scenario_id: str | None = None,
) -> Scenario:
    """The scenario for ``model``: its BPSim/Camunda parameters under ``document`` (YAML wins).

    Raises:
        ScenarioError: Invalid merged scenario (or no parameters at all).
    """
    if isinstance(model, bytes):
        data, name = model, "model.bpmn"
    else:
        path = Path(model)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ScenarioError(f"cannot read '{path}': {exc.strerror}", file=str(path)) from None
        name = str(path)
    base = bpmn_scenario_document(data, scenario_id=scenario_id, name=name)
    if document is None and not base:
        raise ScenarioError(
            "the model carries no simulation parameters (BPSim or camunda simulation.*)",
            file=name,
            hint="give a scenario file",
        )
    merged = merge_scenario_documents(base, document or {})
    return scenario_from_dict(merged, file=file or name)
