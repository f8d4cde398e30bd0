"""Simulation parameters from the BPMN file (BPSim, Camunda properties) under the YAML scenario."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from liucheng.cli import main
from liucheng.errors import LiuchengError
from liucheng.simulation import simulate
from liucheng.simulation.bpsim import (
    bpmn_scenario_document,
    merge_scenario_documents,
    scenario_for_model,
)

DATA = Path(__file__).parent / "data"
MODEL = DATA / "bpsim.bpmn"
XML = MODEL.read_bytes()


def test_bpsim_and_camunda_parameters_become_a_scenario() -> None:
    sc = scenario_for_model(MODEL)
    assert sc.name == "claims as-is"
    assert (sc.replications, sc.seed, sc.horizon, sc.warm_up) == (3, 17, 2 * 86400, 120 * 60)
    # baseTimeUnit="min": BPSim numbers are minutes
    check = sc.activities["check"]
    assert check.duration is not None and check.duration.mean == pytest.approx((4 + 6 + 12) * 20)
    assert check.cost == 2
    assert sc.activities["letter"].cost == 1.5  # camunda:property
    assert sc.arrivals.interarrival is not None
    assert sc.arrivals.interarrival.mean == pytest.approx(600)
    assert sc.resources["clerks"].count == 2
    assert sc.resources["clerks"].cost_per_hour == pytest.approx(0.5 * 60)  # per minute -> hour
    assert sc.gateways["ok"].probabilities == {"yes": 0.8, "no": 0.2}

    result = simulate(MODEL, sc)
    pay = result.estimate("activity.pay.count").mean
    letter = result.estimate("activity.letter.count").mean
    assert 0.7 < pay / (pay + letter) < 0.9
    assert result.estimate("activity.pay.working_mean").contains(300)
    # the lane 'clerks' is the pool of its tasks
    assert {r.pool for r in result.runs[0].activities if r.element_id == "check"} == {"clerks"}
    assert {r.pool for r in result.runs[0].activities if r.element_id == "letter"} == {None}


def test_yaml_wins_over_the_model() -> None:
    yaml_doc: dict[str, Any] = {
        "replications": 1,
        "activities": {"check": {"duration": 60}, "pay": {"resources": ["clerks"]}},
        "resources": {"clerks": {"count": 5}},
        "gateways": {"ok": {"probabilities": {"yes": 0.5, "no": 0.5}}},
        "arrivals": {"interarrival": 30, "max_cases": 10},
    }
    sc = scenario_for_model(XML, yaml_doc)
    assert sc.replications == 1 and sc.seed == 17  # seed still from BPSim
    assert sc.activities["check"].duration is not None
    assert sc.activities["check"].duration.mean == 60
    assert sc.activities["check"].cost == 2  # kept from BPSim
    assert sc.activities["pay"].duration is not None
    assert sc.activities["pay"].duration.mean == pytest.approx(300)
    assert sc.resources["clerks"].count == 5
    assert sc.resources["clerks"].cost_per_hour == pytest.approx(30)
    assert sc.gateways["ok"].probabilities == {"yes": 0.5, "no": 0.5}
    assert sc.arrivals.max_cases == 10
    # a distribution is replaced whole, never mixed
    merged = merge_scenario_documents(
        {"a": {"duration": {"distribution": "normal", "mean": 5, "std": 1}}},
        {"a": {"duration": {"distribution": "exponential", "mean": 7}}},
    )
    assert merged == {"a": {"duration": {"distribution": "exponential", "mean": 7}}}


def _with(snippet_old: str, snippet_new: str) -> bytes:
    text = XML.decode()
    assert snippet_old in text
    return text.replace(snippet_old, snippet_new).encode()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '<bpsim:ExponentialDistribution mean="10"/>',
            '<bpsim:PoissonDistribution mean="3"/>',
            "PoissonDistribution is not supported",
        ),
        ('elementRef="yes"', 'elementRef="f1"', "sequence flow out of a gateway"),
        ('elementRef="pay"', 'elementRef="nothing"', "no BPMN element 'nothing'"),
        ('baseTimeUnit="min"', 'baseTimeUnit="fortnight"', "baseTimeUnit"),
        ('mean="10"', 'mean="ten"', "numeric 'mean'"),
        ('name="simulation.cost"', 'name="simulation.colour"', "unknown simulation property"),
        ('value="0.2"', 'value="0.5"', "add up to 1"),
    ],
)
def test_bad_parameters_are_clear_errors(old: str, new: str, message: str) -> None:
    with pytest.raises(LiuchengError) as info:
        scenario_for_model(_with(old, new))
    assert message in str(info.value)


def test_models_without_parameters_and_other_scenarios() -> None:
    assert bpmn_scenario_document((DATA / "mm1.bpmn").read_bytes()) == {}
    with pytest.raises(LiuchengError, match="no simulation parameters"):
        scenario_for_model(DATA / "mm1.bpmn")
    with pytest.raises(LiuchengError, match="no BPSim scenario 'other'"):
        scenario_for_model(MODEL, scenario_id="other")


def test_cli_runs_a_model_with_its_own_parameters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "argv", ["liucheng", "simulate", str(MODEL), "-r", "1", "--json"])
    with pytest.raises(SystemExit) as info:
        main()
    out, _ = capsys.readouterr()
    assert info.value.code == 0
    kpis = json.loads(out)
    assert kpis["scenario"] == "claims as-is" and kpis["replications"] == 1
    # a YAML scenario over the same model overrides it
    (tmp_path / "s.yaml").write_text(
        f"model: {MODEL}\nname: to-be\nresources: {{clerks: {{count: 4}}}}\n"
    )
    monkeypatch.setattr(
        sys, "argv", ["liucheng", "simulate", str(tmp_path / "s.yaml"), "-r", "1", "--json"]
    )
    with pytest.raises(SystemExit) as info:
        main()
    out, _ = capsys.readouterr()
    assert info.value.code == 0
    kpis2 = json.loads(out)
    assert kpis2["scenario"] == "to-be"
    assert (
        kpis2["resources"]["clerks"]["utilisation"]["mean"]
        < kpis["resources"]["clerks"]["utilisation"]["mean"]
    )
