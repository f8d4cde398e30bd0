"""Calibration from a real log, what-if comparison, and the `liucheng simulate` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from liucheng.cli import app
from liucheng.history import read_log
from liucheng.simulation import (
    Exponential,
    Gamma,
    calibrate,
    compare,
    fit_distribution,
    log_distance,
    scenario_from_dict,
    simulate,
)
from tests.conftest import require_shared

DATA = Path(__file__).parent / "data"
MM = DATA / "mm1.bpmn"


def _clerks(count: int, name: str) -> object:
    return scenario_from_dict(
        {
            "name": name,
            "arrivals": {
                "interarrival": {"distribution": "exponential", "mean": 60},
                "max_cases": 800,
            },
            "activities": {
                "serve": {
                    "duration": {"distribution": "exponential", "mean": 50},
                    "resources": ["clerks"],
                }
            },
            "resources": {"clerks": {"count": count, "cost_per_hour": 40}},
            "replications": 5,
            "seed": 5,
        }
    )


def test_fit_picks_the_generating_family() -> None:
    rng = np.random.default_rng(1)
    dist, ks = fit_distribution(rng.exponential(300.0, 3000))
    assert isinstance(dist, Exponential | Gamma)
    assert abs(dist.mean - 300.0) < 20
    assert ks < 0.03
    dist, _ = fit_distribution(rng.gamma(9.0, 10.0, 3000))
    assert isinstance(dist, Gamma)
    assert dist.shape == pytest.approx(9.0, rel=0.15)


def test_calibration_reproduces_the_repair_log() -> None:
    path = require_shared("data", "logs", "repairExample.xes.gz")
    real = read_log(path)
    cal = calibrate(real, resource_calendars=False)
    assert cal.discovered
    assert len(cal.fits) == real["activity"].n_unique()
    result = simulate(cal.model_xml, cal.scenario, replications=1, seed=3)
    distance = log_distance(real, result.event_log())
    # stated bound: cycle-time EMD within 40 % of the real mean cycle time, mean within 15 %
    assert distance["cycle_time_emd_relative"] < 0.4, distance
    assert distance["simulated_mean_cycle_seconds"] == pytest.approx(
        distance["real_mean_cycle_seconds"], rel=0.15
    )
    assert distance["simulated_cases"] == pytest.approx(distance["real_cases"], rel=0.1)


def test_calibration_with_a_given_model_weights_its_gateways() -> None:
    sc = scenario_from_dict(
        {
            "arrivals": {"interarrival": 600, "max_cases": 300},
            "activities": {"triage": {"duration": 60}, "quick": {"duration": 120}},
            "gateways": {"route": {"probabilities": {"to_big": 0.25, "to_small": 0.75}}},
            "events": {"wait_reply": {"duration": 60}},
            "seed": 2,
        }
    )
    sim_log = simulate(DATA / "families.bpmn", sc).event_log()
    cal = calibrate(sim_log, model=DATA / "families.bpmn")
    probs = cal.scenario.gateways["route"].probabilities
    assert probs is not None
    assert probs["to_big"] == pytest.approx(0.25, abs=0.07)
    assert cal.scenario.activities["quick"].duration is not None
    assert cal.scenario.activities["quick"].duration.mean == pytest.approx(120, rel=0.01)


def test_compare_finds_the_significant_difference_with_common_random_numbers() -> None:
    one, two = _clerks(1, "one clerk"), _clerks(2, "two clerks")
    result = compare([MM, MM], [one, two])
    rows = {r["kpi"]: r for r in result.rows}
    wait = rows["activity.serve.waiting_mean"]
    assert wait["difference"] < 0 and wait["significant"]
    assert wait["high"] < 0 and wait["bootstrap_high"] < 0
    assert rows["cycle_time.mean"]["p_value"] < 0.05
    same = compare([MM, MM], [one, _clerks(1, "copy")])
    assert all(r["difference"] == 0 and not r["significant"] for r in same.rows)
    svg = result.svg()
    assert svg.startswith("<svg") and "waiting_mean" in svg


def _write_scenarios(tmp_path: Path) -> tuple[Path, Path]:
    paths = []
    for count in (1, 2):
        data = json.loads(_clerks(count, f"{count} clerks").model_dump_json(exclude_none=True))  # type: ignore[attr-defined]
        data["model"] = str(MM)
        data["replications"] = 3
        p = tmp_path / f"s{count}.yaml"
        p.write_text(yaml.safe_dump(data))
        paths.append(p)
    return paths[0], paths[1]


def test_cli_run_compare_and_calibrate(tmp_path: Path) -> None:
    a, b = _write_scenarios(tmp_path)
    runner = CliRunner()
    out = runner.invoke(
        app, ["simulate", str(MM), str(a), "--json", "--log", str(tmp_path / "s.csv")]
    )
    assert out.exit_code == 0, out.output
    kpis = json.loads(out.stdout)
    assert kpis["replications"] == 3
    assert kpis["cycle_time"]["mean"]["low"] <= kpis["cycle_time"]["mean"]["mean"]
    assert read_log(tmp_path / "s.csv").height > 0
    out = runner.invoke(
        app, ["simulate", "compare", str(a), str(b), "--json", "--svg", str(tmp_path / "c.svg")]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["baseline"] == "1 clerks"
    assert any(r["significant"] for r in doc["differences"])
    assert (tmp_path / "c.svg").read_text().startswith("<svg")
    log = tmp_path / "s.csv"
    out = runner.invoke(
        app, ["simulate", "--calibrate", str(log), "-o", str(tmp_path / "cal.yaml"), "--json"]
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["distance"]["cycle_time_emd_relative"] >= 0
    assert (tmp_path / "cal.bpmn").exists()
    # the calibrated scenario runs as written
    out = runner.invoke(app, ["simulate", str(tmp_path / "cal.yaml"), "--json", "-r", "1"])
    assert out.exit_code == 0, out.output


def test_cli_errors_are_clean(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "liucheng"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "liucheng.cli"]
    proc = subprocess.run(
        [*command, "simulate", str(MM), str(tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "missing.yaml" in proc.stderr
