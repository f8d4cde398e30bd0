"""The simulator's hot loop keeps its results: a fixed seed gives the very same event log.

The digests below were measured on the simulator before its hot-loop optimisation (issue #9);
a performance change must not move a single timestamp, resource or cost. A deliberate change of
behaviour (a new draw order, a fix) updates them, saying why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from liucheng.simulation import read_prosimos, simulate
from liucheng.simulation.results import SimulationResult
from tests.conftest import ROOT, require_shared

BENCH = ROOT / "bench" / "simulation" / "bench_bpmn.py"


def _desk(tmp_path: Path) -> tuple[Path, Path]:
    """The service desk of the BPMN bench (its model and Prosimos parameters)."""
    spec = importlib.util.spec_from_file_location("_bench_bpmn", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    model, params = tmp_path / "desk.bpmn", tmp_path / "desk.json"
    model.write_text(bench.MODEL)
    params.write_text(json.dumps(bench._params()))
    return model, params


def _digest(result: SimulationResult, *, measures: bool = True) -> tuple[int, str]:
    """Event count and a hash of every record, arrival, end and queue change (exact floats)."""
    h = hashlib.sha256()
    count = 0
    for run in result.runs:
        for r in run.activities:
            count += (r.started is not None) + (r.ended is not None)
            h.update(
                repr(
                    (
                        r.case,
                        r.element_id,
                        r.activity,
                        r.resource,
                        r.pool,
                        r.enqueued,
                        r.started,
                        r.ended,
                        r.assigned,
                        r.work,
                        r.cost,
                        r.aborted,
                    )
                ).encode()
            )
        h.update(repr(sorted(run.arrivals.items())).encode())
        h.update(repr(sorted(run.ends.items())).encode())
        h.update(repr(sorted(run.queue_changes.items())).encode())
        h.update(repr((run.events, run.commands, run.unfinished, run.window)).encode())
    # the KPIs too (to nine digits: a mean may move in its last bit with the summation order)
    if measures:
        kpis = [(k, [f"{v:.9g}" for v in vs]) for k, vs in result.measures.items()]
        h.update(repr(kpis).encode())
    log = result.event_log(0)
    h.update(repr(log.select("case_id", "activity", "timestamp", "resource").rows()).encode())
    return count, h.hexdigest()[:16]


def _run(model: Path, params: Path, executor: str) -> SimulationResult:
    scenario = read_prosimos(params, cases=1500, start=dt.datetime(2026, 1, 5), model=str(model))
    scenario = scenario.model_copy(update={"seed": 7, "replications": 2})
    return simulate(model, scenario, executor=executor)


EXPECTED = {
    # both executors give the same log (the compiled runner's contract)
    ("callcentre", "compiled"): (6000, "497f24c7e29ca775"),
    ("callcentre", "engine"): (6000, "497f24c7e29ca775"),
    ("desk", "compiled"): (31920, "883a4b1712bb3604"),
    ("desk", "engine"): (31920, "883a4b1712bb3604"),
}


@pytest.mark.parametrize("executor", ["compiled", "engine"])
@pytest.mark.parametrize("name", ["callcentre", "desk"])
def test_fixed_seed_event_log_is_pinned(name: str, executor: str, tmp_path: Path) -> None:
    if name == "desk":
        model, params = _desk(tmp_path)
    else:
        model = require_shared("bench", "simulation", "callcentre.bpmn")
        params = require_shared("bench", "simulation", "callcentre.json")
    assert _digest(_run(model, params, executor)) == EXPECTED[(name, executor)]
