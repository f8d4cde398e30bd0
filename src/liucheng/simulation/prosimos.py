"""Read a Prosimos (2.x) JSON simulation-parameter file into a :class:`Scenario`.

Mapping:

* ``resource_profiles[*].resource_list[*]`` → one pool per resource (``amount`` → ``count``,
  ``calendar``, ``cost_per_hour``);
* ``arrival_time_distribution`` → ``arrivals.interarrival``; ``arrival_time_calendar`` → the
  calendar ``arrivals`` that gates them;
* ``task_resource_distribution`` → ``activities[task].resources`` and ``by_resource``;
* ``gateway_branching_probabilities`` → ``gateways[*].probabilities``;
* ``event_distribution`` → ``events[*].duration``;
* ``resource_calendars`` → ``calendars`` (``from``/``to`` are a weekday range).

Prosimos distribution parameters are positional (``distribution_params[i].value``):
``fix`` [value]; ``expon`` [mean, min, max]; ``uniform`` [min, max]; ``norm`` [mean, std, min,
max]; ``lognorm`` and ``gamma`` [mean, variance, min, max]; ``triang`` [mode, min, max].
The number of cases and the start date are not in the file: pass them to :func:`read_prosimos`.
``case_attributes`` of type ``discrete`` (``values: [{key, value}]``) become ``choices`` and
of type ``continuous`` (a distribution) become generated numbers. Sections this reader does not
translate (batching, prioritisation, ...) are listed in ``Scenario.notes``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from ._errors import ScenarioError
from ._files import load_document
from .demand import WEEKDAYS
from .scenario import Scenario, scenario_from_dict

__all__ = ["prosimos_distribution", "read_prosimos"]

_KNOWN = {
    "resource_profiles",
    "arrival_time_distribution",
    "arrival_time_calendar",
    "gateway_branching_probabilities",
    "task_resource_distribution",
    "resource_calendars",
    "event_distribution",
    "case_attributes",
}


def _params(spec: dict[str, Any], path: str) -> list[float]:
    raw = spec.get("distribution_params", [])
    if not isinstance(raw, list):
        raise ScenarioError("expected a list", path=f"{path}.distribution_params")
    out: list[float] = []
    for i, item in enumerate(raw):
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(
                f"expected a number, got {value!r}", path=f"{path}.distribution_params[{i}]"
            )
        out.append(float(value))
    return out


def _bounds(out: dict[str, Any], lo: float | None, hi: float | None) -> dict[str, Any]:
    # Prosimos writes 0 and 1e9-ish sentinels for "no bound"; keep only real bounds.
    if lo is not None and lo > 0:
        out["min"] = lo
    if hi is not None and math.isfinite(hi) and hi < 1e8:
        out["max"] = hi
    return out


def prosimos_distribution(spec: Any, path: str) -> dict[str, Any]:
    """Our distribution spec for one Prosimos ``{distribution_name, distribution_params}``."""
    if not isinstance(spec, dict):
        raise ScenarioError("expected a distribution object", path=path)
    name = str(spec.get("distribution_name", "")).lower()
    p = _params(spec, path)

    def need(count: int) -> None:
        if len(p) < count:
            raise ScenarioError(
                f"{name} needs {count} parameters, got {len(p)}",
                path=f"{path}.distribution_params",
            )

    def at(i: int) -> float | None:
        return p[i] if len(p) > i else None

    if name in ("fix", "fixed"):
        need(1)
        return {"distribution": "fixed", "value": p[0]}
    if name == "expon":
        need(1)
        return _bounds({"distribution": "exponential", "mean": p[0]}, at(1), at(2))
    if name == "uniform":
        need(2)
        return {"distribution": "uniform", "low": p[0], "high": p[1]}
    if name == "norm":
        need(2)
        return _bounds({"distribution": "normal", "mean": p[0], "std": p[1]}, at(2), at(3))
    if name in ("lognorm", "gamma"):
        need(2)
        if p[1] < 0:
            raise ScenarioError("variance must be >= 0", path=f"{path}.distribution_params[1]")
        kind = "lognormal" if name == "lognorm" else "gamma"
        return _bounds({"distribution": kind, "mean": p[0], "std": math.sqrt(p[1])}, at(2), at(3))
    if name == "triang":
        need(3)
        return {"distribution": "triangular", "low": p[1], "mode": p[0], "high": p[2]}
    raise ScenarioError(
        f"unsupported Prosimos distribution {name!r}",
        path=f"{path}.distribution_name",
        hint="supported: fix, expon, uniform, norm, lognorm, gamma, triang",
    )


def _time(text: Any, path: str) -> str:
    value = str(text)
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError:
        raise ScenarioError(f"{value!r} is not a time of day", path=path) from None
    if parsed >= dt.time(23, 59, 59):
        return "24:00"
    return f"{parsed.hour:02d}:{parsed.minute:02d}"


def _calendar(periods: Any, path: str) -> dict[str, Any]:
    if not isinstance(periods, list) or not periods:
        raise ScenarioError("expected a non-empty list of time periods", path=path)
    out = []
    for i, period in enumerate(periods):
        where = f"{path}[{i}]"
        if not isinstance(period, dict):
            raise ScenarioError("expected an object", path=where)
        days = []
        try:
            first = WEEKDAYS.index(str(period.get("from", ""))[:3].lower())
            last = WEEKDAYS.index(str(period.get("to", ""))[:3].lower())
        except ValueError:
            raise ScenarioError("'from'/'to' must be weekdays", path=where) from None
        day = first
        while True:
            days.append(WEEKDAYS[day])
            if day == last:
                break
            day = (day + 1) % 7
        out.append(
            {
                "days": days,
                "from": _time(period.get("beginTime"), f"{where}.beginTime"),
                "to": _time(period.get("endTime"), f"{where}.endTime"),
            }
        )
    return {"periods": out}


def read_prosimos(
    path: str | Path,
    *,
    cases: int = 1000,
    start: dt.datetime | None = None,
    model: str | None = None,
) -> Scenario:
    """Read Prosimos simulation parameters as a scenario for ``cases`` cases.

    Args:
        path: The Prosimos JSON file.
        cases: Number of cases to simulate (Prosimos takes it on its command line).
        start: Simulation start (Prosimos' ``starting_at``); default: the scenario default.
        model: The BPMN file it belongs to.

    Raises:
        ScenarioError: with the JSON path of anything it cannot translate.
    """
    file = str(path)
    data = load_document(path, error=ScenarioError)
    if not isinstance(data, dict):
        raise ScenarioError("a Prosimos file is a JSON object", file=file)
    try:
        doc = _translate(data, cases=cases, start=start, model=model)
    except ScenarioError as exc:
        raise ScenarioError(exc.reason, path=exc.path, file=file, hint=exc.hint) from None
    return scenario_from_dict(doc, file=file)


def _translate(
    data: dict[str, Any], *, cases: int, start: dt.datetime | None, model: str | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"arrivals": {"max_cases": cases}, "model": model}
    if start is not None:
        doc["start"] = start
    notes = [f"Prosimos section {key!r} is not translated" for key in data if key not in _KNOWN]
    calendars: dict[str, Any] = {}
    for i, cal in enumerate(data.get("resource_calendars", [])):
        cal_id = str(cal.get("id", f"calendar{i}"))
        calendars[cal_id] = _calendar(cal.get("time_periods"), f"resource_calendars[{i}]")
    if "arrival_time_calendar" in data:
        calendars["arrivals"] = _calendar(data["arrival_time_calendar"], "arrival_time_calendar")
        doc["arrivals"]["calendar"] = "arrivals"
    if "arrival_time_distribution" not in data:
        raise ScenarioError("missing", path="arrival_time_distribution")
    doc["arrivals"]["interarrival"] = prosimos_distribution(
        data["arrival_time_distribution"], "arrival_time_distribution"
    )
    resources: dict[str, Any] = {}
    for i, profile in enumerate(data.get("resource_profiles", [])):
        for j, res in enumerate(profile.get("resource_list", [])):
            where = f"resource_profiles[{i}].resource_list[{j}]"
            res_id = str(res.get("id") or "")
            if not res_id:
                raise ScenarioError("resource without id", path=where)
            pool: dict[str, Any] = {
                "count": res.get("amount", 1),
                "cost_per_hour": res.get("cost_per_hour", 0),
            }
            if profile.get("name") or profile.get("id"):
                pool["role"] = str(profile.get("name") or profile.get("id"))
            if res.get("calendar") is not None:
                pool["calendar"] = str(res["calendar"])
            resources[res_id] = pool
    activities: dict[str, Any] = {}
    for i, task in enumerate(data.get("task_resource_distribution", [])):
        where = f"task_resource_distribution[{i}]"
        task_id = str(task.get("task_id") or "")
        if not task_id:
            raise ScenarioError("task without task_id", path=where)
        by_resource: dict[str, Any] = {}
        for j, res in enumerate(task.get("resources", [])):
            by_resource[str(res.get("resource_id"))] = prosimos_distribution(
                res, f"{where}.resources[{j}]"
            )
        specs = list(by_resource.values())
        activity: dict[str, Any] = {"resources": list(by_resource)}
        if specs and all(s == specs[0] for s in specs):
            activity["duration"] = specs[0]
        else:
            activity["by_resource"] = by_resource
        activities[task_id] = activity
    gateways: dict[str, Any] = {}
    for i, gw in enumerate(data.get("gateway_branching_probabilities", [])):
        where = f"gateway_branching_probabilities[{i}]"
        probabilities = {}
        for j, entry in enumerate(gw.get("probabilities", [])):
            value = entry.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScenarioError("expected a number", path=f"{where}.probabilities[{j}].value")
            probabilities[str(entry.get("path_id"))] = float(value)
        total = sum(probabilities.values())
        if probabilities and abs(total - 1.0) <= 0.01 and total != 1.0:
            # Discovered parameter files round each probability; renormalise small drift.
            probabilities = {k: v / total for k, v in probabilities.items()}
        gateways[str(gw.get("gateway_id"))] = {"probabilities": probabilities}
    events: dict[str, Any] = {}
    for i, ev in enumerate(data.get("event_distribution", [])):
        events[str(ev.get("event_id"))] = {
            "duration": prosimos_distribution(ev, f"event_distribution[{i}]")
        }
    attributes: dict[str, Any] = {}
    for i, attr in enumerate(data.get("case_attributes", [])):
        where = f"case_attributes[{i}]"
        if not isinstance(attr, dict) or not attr.get("name"):
            raise ScenarioError("expected an object with a name", path=where)
        kind = str(attr.get("type", "")).lower()
        values = attr.get("values")
        if kind == "discrete" and isinstance(values, list):
            choices: dict[str, float] = {}
            for j, option in enumerate(values):
                weight = option.get("value") if isinstance(option, dict) else None
                if isinstance(weight, bool) or not isinstance(weight, int | float):
                    raise ScenarioError("expected a number", path=f"{where}.values[{j}].value")
                choices[str(option.get("key"))] = float(weight)
            total = sum(choices.values())
            if total > 0 and abs(total - 1.0) <= 0.01:
                choices = {k: v / total for k, v in choices.items()}
            attributes[str(attr["name"])] = {"choices": choices}
        elif kind == "continuous" and isinstance(values, dict):
            attributes[str(attr["name"])] = {
                "distribution": prosimos_distribution(values, f"{where}.values")
            }
        else:
            raise ScenarioError(
                f"unsupported case attribute type {kind!r}",
                path=f"{where}.type",
                hint="supported: discrete (values: [{key, value}]), continuous (a distribution)",
            )
    doc.update(
        case_attributes=attributes,
        calendars=calendars,
        resources=resources,
        activities=activities,
        gateways=gateways,
        events=events,
        notes=notes,
    )
    return doc
