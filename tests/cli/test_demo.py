"""``liucheng demo`` runs the bundled service desk on a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from liucheng.cli import app

runner = CliRunner()


def test_demo_runs_requests_through_the_service_desk(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(
        app, ["demo", "--database", database, "--requests", "25", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    desk = json.loads(result.output)["service_desk"]
    assert desk["requests"] == 25
    assert sum(desk["channels"].values()) == 25
    assert desk["completed"] + desk["open"] == 25
    assert desk["completed"] >= 20
    steps = desk["steps"]
    assert steps["record_request"] == 25
    assert steps["classify"] == 25 and steps["route"] == 25
    # Every request got exactly one priority from the DMN matrix.
    assert sum(desk["priorities"].values()) == 25
    assert set(desk["priorities"]) <= {"critical", "high", "medium", "low"}
    # Each SLA breach escalated to the team lead once.
    assert steps.get("sla_breached", 0) == desk["sla_breaches"]
    assert steps.get("review_overdue", 0) == desk["sla_breaches"]
    assert desk["incidents"] == 0
    assert desk["surveys"] + desk["survey_timeouts"] == steps["survey_done"]
    assert 1 <= desk["csat"] <= 5


def test_demo_is_reproducible_with_a_seed(tmp_path: Path) -> None:
    outs = []
    for name in ("a", "b"):
        database = f"sqlite:///{tmp_path / (name + '.db')}"
        result = runner.invoke(
            app, ["demo", "--database", database, "--requests", "10", "--seed", "9", "--json"]
        )
        assert result.exit_code == 0, result.output
        desk = json.loads(result.output)["service_desk"]
        desk.pop("database")
        outs.append(desk)
    assert outs[0] == outs[1]
