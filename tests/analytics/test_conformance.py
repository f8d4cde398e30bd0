"""Precision (ETConformance), the conformance report and the ``mine discover/conformance`` CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.analytics.mining import (
    conformance,
    discover_inductive,
    precision_etc,
    read_bpmn_net,
    to_petri_net,
)
from liucheng.cli import app, main
from tests.analytics.test_petri_support import make_log, quiet, real_log, to_pandas, to_pm4py
from tests.conftest import require_shared

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "noise"),
    [("running-example.xes", 0.0), ("repairExample.xes.gz", 0.0), ("helpdesk.xes.gz", 0.2)],
)
def test_precision_equals_pm4py(name: str, noise: float) -> None:
    import pm4py

    log = real_log(name, 500)
    net = to_petri_net(discover_inductive(log, noise))
    with quiet():
        theirs = pm4py.precision_token_based_replay(to_pandas(log), *to_pm4py(net))
    assert precision_etc(log, net) == pytest.approx(theirs, abs=1e-12)


def test_precision_of_flower_is_low_and_of_exact_model_is_one() -> None:
    from liucheng.analytics.mining import Operator, ProcessTree
    from liucheng.analytics.mining.process_tree import tau

    log = make_log([["a", "b", "c"]] * 3)
    exact = to_petri_net(discover_inductive(log))
    assert precision_etc(log, exact) == 1.0
    flower_tree = ProcessTree(
        Operator.LOOP,
        None,
        (tau(), ProcessTree(Operator.XOR, None, tuple(ProcessTree(label=a) for a in "abc"))),
    )
    assert precision_etc(log, to_petri_net(flower_tree)) < 0.7


def test_report_json_bounds_cases_and_lists_activities() -> None:
    log = make_log([["a", "b", "c"]] * 4 + [["a", "c"], ["a", "x", "b", "c"]])
    net = to_petri_net(discover_inductive(make_log([["a", "b", "c"]])))
    rep = conformance(log, net)
    doc = rep.to_json(max_cases=2)
    assert doc["cases_total"] == 6
    assert len(doc["cases"]) == 2
    assert doc["cases"][0]["fitness"] < 1.0  # least fitting first
    acts = {a["activity"]: a for a in doc["activities"]}
    assert acts["x"]["log_moves"] == 1
    assert acts["b"]["model_moves"] == 1
    tokens = conformance(log, net, method="tokens").to_json()
    assert tokens["method"] == "tokens"
    assert 0.0 < tokens["fitness"] < 1.0


def test_cli_discover_then_conformance(tmp_path: Path) -> None:
    log = require_shared("data", "logs", "repairExample.xes.gz")
    model = tmp_path / "model.bpmn"
    res = runner.invoke(app, ["mine", "discover", str(log), "-o", str(model), "--noise", "0.2"])
    assert res.exit_code == 0, res.output
    assert read_bpmn_net(model).labels
    res = runner.invoke(app, ["mine", "conformance", str(log), str(model), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert 0.9 < doc["fitness"] <= 1.0
    assert 0.0 < doc["precision"] <= 1.0
    assert doc["cases_total"] == 1104
    assert len(doc["cases"]) <= 100
    tok = runner.invoke(
        app, ["mine", "conformance", str(log), str(model), "--json", "--method", "tokens"]
    )
    assert json.loads(tok.stdout)["method"] == "tokens"


def test_cli_heuristics_discovery(tmp_path: Path) -> None:
    log = require_shared("data", "logs", "running-example.xes")
    model = tmp_path / "h.bpmn"
    res = runner.invoke(
        app,
        ["mine", "discover", str(log), "-o", str(model), "--algorithm", "heuristics", "--json"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["algorithm"] == "heuristics"
    assert model.exists()


def test_cli_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = require_shared("data", "logs", "running-example.xes")

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["liucheng", *args])
        with pytest.raises(SystemExit) as done:
            main()
        return int(done.value.code or 0)

    assert run("mine", "discover", str(log), "-o", str(tmp_path / "m.bpmn"), "--noise", "2") == 2
    assert "mining.discovery.noise" in capsys.readouterr().err
    missing = tmp_path / "none.bpmn"
    assert run("mine", "conformance", str(log), str(missing), "--json") == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert "error" in out.err
