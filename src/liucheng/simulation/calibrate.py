"""Calibrate a simulation scenario from an event log, and measure how close a simulation comes.

:func:`calibrate` reads a log (the :mod:`liucheng.history` frame or a file) and builds:

* a model: the BPMN file given, or a *directly-follows model* built from the log (every
  activity a task, followed by an exclusive gateway whose branching probabilities are the
  directly-follows frequencies, including the end): it reproduces activity frequencies, loops
  and rework, but not concurrency;
* arrivals: a rate per hour of the week (cases started in that hour / weeks observed);
* durations per activity by best fit: exponential, gamma, log-normal and normal fitted with
  ``scipy.stats`` (maximum likelihood, location 0), the lowest Kolmogorov–Smirnov statistic
  wins (fixed when all values are equal). With ``start`` and ``complete`` events a duration is
  the working time; an activity logged only on completion is a delay since the previous event
  of its case (it then needs no resource: its waiting is inside that delay);
* resource pools: resources grouped by the set of activities they perform, one pool per group
  (size = people in it), each with a calendar of the hours of the week its people were active;
* branching probabilities of a given model's exclusive/inclusive gateways from the
  directly-follows counts of the tasks before and after each gateway.

:func:`log_distance` compares a simulated log with the real one with the measures of the
Simod/Prosimos papers: the earth mover's distance of cycle-time distributions (absolute, in
seconds, and relative to the real mean) and the absolute hourly event distribution distance
(EMD between events binned per hour since the start, in hours).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

import numpy as np

from ._errors import SimulationInputError
from .demand import WEEKDAYS
from .distributions import Distribution, Exponential, Fixed, Gamma, LogNormal, Normal
from .scenario import Scenario, scenario_from_dict

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Calibration", "calibrate", "fit_distribution", "log_distance"]

_MAX_FIT = 2000


@dataclass
class Calibration:
    """A calibrated scenario and the model it belongs to.

    Attributes:
        scenario: The scenario.
        model_xml: The BPMN model (the given one, or the directly-follows model).
        discovered: Whether the model was built from the log.
        fits: Activity -> ``{"distribution", "ks", "n"}`` of the chosen fit.
    """

    scenario: Scenario
    model_xml: bytes
    discovered: bool
    fits: dict[str, dict[str, Any]] = field(default_factory=dict)


def fit_distribution(values: np.ndarray[Any, Any], rng_seed: int = 0) -> tuple[Distribution, float]:
    """The best-fitting distribution of non-negative ``values`` and its KS statistic."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x >= 0)]
    if len(x) == 0:
        return Fixed(0.0), 0.0
    if len(x) < 3 or float(x.max() - x.min()) <= 1e-9 * max(1.0, float(x.max())):
        return Fixed(float(x.mean())), 0.0
    if len(x) > _MAX_FIT:
        x = np.random.default_rng(rng_seed).choice(x, _MAX_FIT, replace=False)
    mean, std = float(x.mean()), float(x.std())
    positive = x[x > 0]
    candidates: list[tuple[Distribution, Any]] = []
    if mean > 0:
        candidates.append((Exponential(mean), stats.expon(scale=mean)))
    if std > 0 and mean > 0:
        candidates.append((Normal(mean, std), stats.truncnorm(-mean / std, np.inf, mean, std)))
    if len(positive) >= 3 and float(positive.std()) > 0:
        with np.errstate(all="ignore"):
            try:
                a, _, scale = stats.gamma.fit(positive, floc=0)
                if math.isfinite(a) and a > 0 and scale > 0:
                    candidates.append((Gamma(float(a), float(scale)), stats.gamma(a, scale=scale)))
            except Exception:
                pass
            try:
                s, _, scale = stats.lognorm.fit(positive, floc=0)
                if math.isfinite(s) and s > 0 and scale > 0:
                    dist = stats.lognorm(s, scale=scale)
                    m, v = float(dist.mean()), float(dist.var())
                    if math.isfinite(m) and math.isfinite(v) and m > 0:
                        candidates.append((LogNormal(m, math.sqrt(v)), dist))
            except Exception:
                pass
    if not candidates:
        return Fixed(mean), 0.0
    best: tuple[Distribution, float] | None = None
    for ours, theirs in candidates:
        ks = float(stats.kstest(x, theirs.cdf).statistic)
        if best is None or ks < best[1]:
            best = (ours, ks)
    assert best is not None
    return best


def _frame(log: pl.DataFrame | str | Path) -> pl.DataFrame:
    import polars as pl

    if isinstance(log, pl.DataFrame):
        return log
    from liucheng.history import read_log

    return read_log(log)


@dataclass
class _Instance:
    case: str
    activity: str
    start: dt.datetime | None
    end: dt.datetime
    resource: str | None


def _instances(frame: pl.DataFrame) -> tuple[list[_Instance], dict[str, list[str]]]:
    """Activity instances (start/complete paired per case and activity) and traces."""
    cols = ["case_id", "activity", "timestamp", "lifecycle", "resource"]
    rows = frame.select(cols).filter(frame["timestamp"].is_not_null()).iter_rows()
    out: list[_Instance] = []
    traces: dict[str, list[str]] = defaultdict(list)
    open_starts: dict[tuple[str, str], list[tuple[dt.datetime, str | None]]] = defaultdict(list)
    for case, act, ts, raw_life, res in rows:
        life = (raw_life or "complete").lower()
        if life == "start":
            open_starts[(case, act)].append((ts, res))
        elif life == "complete":
            pending = open_starts.get((case, act))
            start, sres = pending.pop(0) if pending else (None, None)
            out.append(_Instance(str(case), str(act), start, ts, res or sres))
            traces[str(case)].append(str(act))
    return out, traces


def _model_from_dfg(traces: dict[str, list[str]]) -> tuple[bytes, dict[str, str], dict[str, Any]]:
    """A BPMN model with a task per activity and exclusive gateways weighted by the DFG."""
    acts = sorted({a for t in traces.values() for a in t})
    ids = {a: f"act_{i + 1}" for i, a in enumerate(acts)}
    follows: dict[str, Counter[str]] = defaultdict(Counter)
    for trace in traces.values():
        if not trace:
            continue
        follows["__start__"][trace[0]] += 1
        for x, y in itertools.pairwise(trace):
            follows[x][y] += 1
        follows[trace[-1]]["__end__"] += 1
    nodes = ['<startEvent id="start"/>', '<endEvent id="end"/>']
    flows: list[str] = []
    gateways: dict[str, Any] = {}

    def ref(a: str) -> str:
        return "end" if a == "__end__" else ids[a]

    for src in ["__start__", *acts]:
        src_id = "start" if src == "__start__" else ids[src]
        if src != "__start__":
            nodes.append(f"<task id={quoteattr(src_id)} name={quoteattr(src)}/>")
        succ = follows.get(src) or Counter({"__end__": 1})
        if len(succ) == 1:
            (target,) = succ
            flows.append(
                f'<sequenceFlow id="f_{src_id}" sourceRef="{src_id}" targetRef="{ref(target)}"/>'
            )
            continue
        gw = f"gw_{src_id}"
        nodes.append(f'<exclusiveGateway id="{gw}"/>')
        flows.append(f'<sequenceFlow id="f_{src_id}" sourceRef="{src_id}" targetRef="{gw}"/>')
        total = sum(succ.values())
        probs: dict[str, float] = {}
        for j, (target, n) in enumerate(sorted(succ.items())):
            fid = f"f_{gw}_{j}"
            flows.append(f'<sequenceFlow id="{fid}" sourceRef="{gw}" targetRef="{ref(target)}"/>')
            probs[fid] = n / total
        drift = 1.0 - sum(probs.values())
        last = next(reversed(probs))
        probs[last] += drift
        gateways[gw] = {"probabilities": probs}
    body = "\n    ".join(nodes + flows)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="calibrated" '
        'targetNamespace="https://liucheng.dev/simulation">\n'
        f'  <process id="calibrated" name={quoteattr("discovered from log")} isExecutable="true">\n'
        f"    {body}\n  </process>\n</definitions>\n"
    )
    return xml.encode(), ids, gateways


def _model_gateways(
    data: bytes, traces: dict[str, list[str]]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Task ids by activity name, and gateway probabilities from directly-follows counts."""
    from ._prepare import _parse, _q

    root = _parse(data, "model")
    process = next(root.iter(_q("process")), None)
    if process is None:
        raise SimulationInputError("the model has no process", path="model")
    kinds: dict[str, str] = {}
    names: dict[str, str] = {}
    for el in process.iter():
        if isinstance(el.tag, str) and el.get("id"):
            local = el.tag.split("}", 1)[-1]
            kinds[el.get("id")] = local
            if local.endswith("Task") or local == "task":
                names[el.get("id")] = el.get("name") or el.get("id")
    out_flows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    in_flows: dict[str, list[str]] = defaultdict(list)
    for f in process.iter(_q("sequenceFlow")):
        s, t, fid = f.get("sourceRef"), f.get("targetRef"), f.get("id")
        if s and t and fid:
            out_flows[s].append((fid, t))
            in_flows[t].append(s)
    ids = {name: eid for eid, name in names.items()}

    def forward(node: str, seen: set[str]) -> set[str]:
        if node in names:
            return {names[node]}
        if kinds.get(node) == "endEvent":
            return {"__end__"}
        out: set[str] = set()
        for _, t in out_flows.get(node, []):
            if t not in seen:
                seen.add(t)
                out |= forward(t, seen)
        return out

    def backward(node: str, seen: set[str]) -> set[str]:
        out: set[str] = set()
        for s in in_flows.get(node, []):
            if s in seen:
                continue
            seen.add(s)
            if s in names:
                out.add(names[s])
            elif kinds.get(s) == "startEvent":
                out.add("__start__")
            else:
                out |= backward(s, seen)
        return out

    follows: Counter[tuple[str, str]] = Counter()
    for trace in traces.values():
        seq = ["__start__", *trace, "__end__"]
        follows.update(itertools.pairwise(seq))
    gateways: dict[str, Any] = {}
    for gw, kind in kinds.items():
        if kind not in ("exclusiveGateway", "inclusiveGateway") or len(out_flows[gw]) < 2:
            continue
        before = backward(gw, {gw})
        weights = {
            fid: sum(follows[(b, a)] for b in before for a in forward(t, {t}))
            for fid, t in out_flows[gw]
        }
        total = sum(weights.values())
        if total == 0:
            weights = dict.fromkeys(weights, 1)
            total = len(weights)
        probs = {fid: w / total for fid, w in weights.items()}
        last = next(reversed(probs))
        probs[last] += 1.0 - sum(probs.values())
        gateways[gw] = {"probabilities": probs}
    return ids, gateways


def _hour_periods(cells: dict[tuple[int, int], float]) -> list[dict[str, Any]]:
    return [
        {
            "days": [WEEKDAYS[d]],
            "from": f"{h:02d}:00",
            "to": f"{h + 1:02d}:00" if h < 23 else "24:00",
            **extra,
        }
        for (d, h), extra_v in sorted(cells.items())
        for extra in [({"rate": extra_v} if extra_v >= 0 else {})]
    ]


def calibrate(
    log: pl.DataFrame | str | Path,
    *,
    model: str | Path | bytes | None = None,
    name: str | None = None,
    replications: int = 5,
    seed: int = 1,
    min_share: float = 0.005,
    resource_calendars: bool = True,
    discovery: str = "directly-follows",
    noise: float = 0.2,
) -> Calibration:
    """Build a scenario (and, without ``model``, a directly-follows model) from an event log.

    Args:
        log: An event-log frame or a log file (XES, CSV, Parquet...).
        model: The BPMN model to calibrate for (tasks matched by name, else by id).
        name: Scenario name.
        replications: Replications the scenario asks for.
        seed: Seed the scenario carries.
        min_share: Hours of the week holding less than this share of a pool's events are
            left out of its calendar.
        resource_calendars: Give pools the working hours seen in the log (off: always on
            duty; better for synthetic logs whose timestamps ignore working hours).
        discovery: Without ``model``: ``"directly-follows"`` (default) or ``"inductive"``
            (the inductive miner's process tree exported to BPMN; it keeps concurrency, and
            its gateways are then weighted like a given model's).
        noise: Noise threshold of the inductive miner (IMf).

    Raises:
        SimulationInputError: The log has no complete events with timestamps.
    """
    frame = _frame(log)
    instances, traces = _instances(frame)
    if not instances:
        raise SimulationInputError(
            "the log has no completed activity with a timestamp",
            path="log",
            hint="calibration needs complete events with timestamps",
        )
    if discovery not in ("directly-follows", "inductive"):
        raise SimulationInputError(
            f"unknown discovery {discovery!r}",
            path="discovery",
            hint="directly-follows or inductive",
        )
    if model is None and discovery == "inductive":
        from liucheng.analytics.mining import discover_inductive
        from liucheng.analytics.mining.bpmn_export import tree_to_bpmn
        from liucheng.model import write_bpmn

        tree = discover_inductive(frame, noise=noise)
        xml = write_bpmn(tree_to_bpmn(tree, "calibrated", "discovered from log"))
        ids, gateways = _model_gateways(xml, traces)
        discovered = True
    elif model is None:
        xml, ids, gateways = _model_from_dfg(traces)
        discovered = True
    else:
        try:
            xml = model if isinstance(model, bytes) else Path(model).read_bytes()
        except OSError as exc:
            raise SimulationInputError(
                f"cannot read the model: {exc.strerror or exc}", path="model", file=str(model)
            ) from None
        ids, gateways = _model_gateways(xml, traces)
        discovered = False
    # arrivals: hour-of-week profile
    first: dict[str, dt.datetime] = {}
    last_in_case: dict[str, dt.datetime] = {}
    for inst in instances:
        t = inst.start or inst.end
        if inst.case not in first or t < first[inst.case]:
            first[inst.case] = t
    origin = min(first.values())
    naive_origin = origin.replace(tzinfo=None)
    start = (naive_origin - dt.timedelta(days=naive_origin.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    end_arrival = max(first.values()).replace(tzinfo=None)
    weeks = max((end_arrival - start).total_seconds() / (7 * 86400.0), 1.0 / 7)
    cells: Counter[tuple[int, int]] = Counter()
    for t in first.values():
        cells[(t.weekday(), t.hour)] += 1
    profile = _hour_periods({k: v / weeks for k, v in cells.items()})
    # durations and resources
    by_case: dict[str, list[_Instance]] = defaultdict(list)
    for inst in instances:
        by_case[inst.case].append(inst)
    durations: dict[str, list[float]] = defaultdict(list)
    has_start: Counter[str] = Counter()
    resources_of: dict[str, set[str]] = defaultdict(set)
    resource_cells: dict[str, Counter[tuple[int, int]]] = defaultdict(Counter)
    for case, items in by_case.items():
        items.sort(key=lambda i: i.end)
        previous = first[case]
        for inst in items:
            if inst.start is not None:
                durations[inst.activity].append((inst.end - inst.start).total_seconds())
                has_start[inst.activity] += 1
                if inst.resource:
                    resources_of[inst.resource].add(inst.activity)
                    for t in (inst.start, inst.end):
                        resource_cells[inst.resource][(t.weekday(), t.hour)] += 1
            else:
                durations[inst.activity].append(max((inst.end - previous).total_seconds(), 0.0))
            previous = max(previous, inst.end)
            last_in_case[case] = previous
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for res, acts in sorted(resources_of.items()):
        groups[frozenset(acts)].append(res)
    pools: dict[str, Any] = {}
    calendars: dict[str, Any] = {}
    pools_of: dict[str, list[str]] = defaultdict(list)
    for i, (group, people) in enumerate(sorted(groups.items(), key=lambda g: sorted(g[1]))):
        pid = f"pool_{i + 1}"
        cell_counts: Counter[tuple[int, int]] = Counter()
        for p in people:
            cell_counts.update(resource_cells[p])
        total = sum(cell_counts.values())
        # One contiguous working span per weekday (first to last active hour): gaps inside a
        # day are breaks in the data, not in the calendar.
        spans: dict[int, tuple[int, int]] = {}
        for (d, h), v in cell_counts.items():
            if v >= min_share * total:
                lo, hi = spans.get(d, (h, h))
                spans[d] = (min(lo, h), max(hi, h))
        open_cells = {(d, h): -1.0 for d, (lo, hi) in spans.items() for h in range(lo, hi + 1)}
        pools[pid] = {"count": len(people), "role": ", ".join(sorted(group))[:200]}
        if resource_calendars and open_cells and len(open_cells) < 168:
            calendars[pid] = {"periods": _hour_periods(open_cells)}
            pools[pid]["calendar"] = pid
        for act in group:
            pools_of[act].append(pid)
    activities: dict[str, Any] = {}
    fits: dict[str, dict[str, Any]] = {}
    for act, values in sorted(durations.items()):
        if act not in ids:
            continue
        dist, ks = fit_distribution(np.asarray(values))
        fits[act] = {"distribution": dist.to_dict(), "ks": ks, "n": len(values)}
        spec: dict[str, Any] = {"duration": dist.to_dict()}
        # resources only where the log shows working time (start events) for most instances
        if has_start[act] * 2 >= len(values) and pools_of.get(act):
            spec["resources"] = sorted(pools_of[act])
        activities[ids[act]] = spec
    horizon = max((end_arrival - start).total_seconds(), 1.0) + 1.0
    data: dict[str, Any] = {
        "version": 1,
        "name": name or "calibrated from log",
        "start": start.isoformat(),
        "horizon": horizon,
        "replications": replications,
        "seed": seed,
        "arrivals": {"profile": profile},
        "activities": activities,
        "gateways": gateways,
        "resources": pools,
        "calendars": calendars,
        "notes": [
            "calibrated from an event log" + (f" with a {discovery} model" if discovered else ""),
        ],
    }
    scenario = scenario_from_dict(data)
    return Calibration(scenario, xml, discovered, fits)


def _cycle_times(frame: pl.DataFrame) -> np.ndarray[Any, Any]:
    import polars as pl

    agg = frame.group_by("case_id").agg(
        (pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_microseconds().alias("d")
    )
    return agg["d"].to_numpy().astype(float) / 1e6


def log_distance(real: pl.DataFrame, simulated: pl.DataFrame) -> dict[str, float]:
    """Simod/Prosimos distance measures between a real and a simulated log.

    Returns:
        ``cycle_time_emd_seconds``, ``cycle_time_emd_relative`` (divided by the real mean
        cycle time), ``hourly_emd_hours`` (absolute hourly event distribution distance, each
        log's time measured from its own first event), real and simulated mean cycle times.
    """
    from scipy.stats import wasserstein_distance

    rc, sc = _cycle_times(real), _cycle_times(simulated)
    if len(rc) == 0 or len(sc) == 0:
        raise SimulationInputError("both logs need cases", path="log")
    emd = float(wasserstein_distance(rc, sc))

    def hours(frame: pl.DataFrame) -> np.ndarray[Any, Any]:
        ts = frame["timestamp"].drop_nulls().dt.epoch("us").to_numpy().astype(float) / 1e6
        out: np.ndarray[Any, Any] = np.floor((ts - ts.min()) / 3600.0)
        return out

    hourly = float(wasserstein_distance(hours(real), hours(simulated)))
    mean = float(rc.mean())
    return {
        "cycle_time_emd_seconds": emd,
        "cycle_time_emd_relative": emd / mean if mean > 0 else math.inf,
        "hourly_emd_hours": hourly,
        "real_mean_cycle_seconds": mean,
        "simulated_mean_cycle_seconds": float(sc.mean()),
        "real_cases": float(len(rc)),
        "simulated_cases": float(len(sc)),
    }
