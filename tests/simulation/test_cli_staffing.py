"""``liucheng staffing erlang`` and ``liucheng staffing schedule``."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from typer.testing import CliRunner

from liucheng.cli import app, main

runner = CliRunner()

BASE = ["staffing", "erlang", "--calls", "100", "--interval-minutes", "30", "--aht", "180"]


def run_json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_erlang_json_sizes_for_the_target():
    data = run_json([*BASE, "--target", "0.8", "--answer-seconds", "20", "--json"])
    assert set(data) == {"agents", "service_level", "asa_seconds", "occupancy", "probability_wait"}
    assert data["agents"] == 14
    assert round(data["probability_wait"], 4) == 0.1741
    assert round(data["service_level"], 4) == 0.8884
    assert round(data["asa_seconds"], 2) == 7.84
    assert round(data["occupancy"], 3) == 0.714


def test_erlang_evaluates_given_agents_and_erlang_a():
    data = run_json([*BASE, "--agents", "12", "--json"])
    assert data["agents"] == 12 and data["service_level"] < 0.8
    a = run_json([*BASE, "--agents", "12", "--patience", "120", "--json"])
    assert 0 < a["abandonment"] < 0.1
    assert a["probability_wait"] < data["probability_wait"]


def test_erlang_human_output():
    result = runner.invoke(app, BASE)
    assert result.exit_code == 0
    assert "agents            14" in result.stdout


def test_erlang_per_interval_table(tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("start,calls\nMon 08:00,100\nMon 08:30,0\nMon 09:00,300\n", encoding="utf-8")
    data = run_json(["staffing", "erlang", "--demand", str(demand), "--aht", "180", "--json"])
    assert data["interval_minutes"] == 30
    assert [r["agents"] for r in data["intervals"]][:2] == [14, 0]
    assert data["peak_agents"] == data["intervals"][2]["agents"] > 30
    assert data["agent_hours"] == pytest.approx(sum(r["agents"] for r in data["intervals"]) / 2)


def test_schedule_json(tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("start,agents\nMon 08:00,1\nMon 09:00,1\n", encoding="utf-8")
    shifts = tmp_path / "s.yaml"
    shifts.write_text(
        yaml.safe_dump(
            {
                "shifts": [
                    {
                        "name": "a",
                        "length": 2,
                        "days": ["mon"],
                        "start_times": ["08:00"],
                        "cost_per_hour": 15,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    data = run_json(["staffing", "schedule", str(demand), "--shifts", str(shifts), "--json"])
    assert data["cost"] == 30.0 and data["status"] == "optimal"
    assert data["shifts"][0]["start"] == "08:00"


def test_errors_exit_2_with_a_message(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["liucheng", *BASE, "--target", "1.5", "--json"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "target" in err and "Traceback" not in err


def test_infeasible_schedule_exits_2(tmp_path, monkeypatch, capsys):
    demand = tmp_path / "d.csv"
    demand.write_text("start,agents\nMon 08:00,1\nMon 20:00,1\n", encoding="utf-8")
    shifts = tmp_path / "s.yaml"
    shifts.write_text(
        yaml.safe_dump(
            {
                "interval_minutes": 60,
                "shifts": [
                    {
                        "name": "a",
                        "length": 2,
                        "days": ["mon"],
                        "start_times": ["08:00"],
                        "cost_per_hour": 15,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(
        sys,
        "argv",
        ["liucheng", "staffing", "schedule", str(demand), "--shifts", str(shifts), "--json"],
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "simulation.schedule.infeasible" in err and "Mon 20:00" in err


def test_simulate_a_sized_plan_and_a_schedule(tmp_path):
    demand = tmp_path / "d.csv"
    demand.write_text("start,calls\nMon 08:00,100\nMon 08:30,100\n", encoding="utf-8")
    data = run_json(
        [
            "staffing",
            "erlang",
            "--demand",
            str(demand),
            "--aht",
            "180",
            "--simulate",
            "4",
            "--seed",
            "3",
            "--json",
        ]
    )
    for row in data["intervals"]:
        sim = row["simulated_service_level"]
        assert sim["low"] <= sim["mean"] <= sim["high"]
        assert 0.5 < sim["mean"] <= 1.0
    shifts = tmp_path / "s.yaml"
    shifts.write_text(
        yaml.safe_dump(
            {
                "aht_seconds": 180,
                "shifts": [
                    {
                        "name": "a",
                        "length": 1,
                        "days": ["mon"],
                        "start_times": ["08:00"],
                        "cost_per_hour": 15,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    sched = run_json(
        ["staffing", "schedule", str(demand), "--shifts", str(shifts), "--simulate", "3", "--json"]
    )
    assert sched["shift_count"] == 14
    assert all("simulated_service_level" in i for i in sched["intervals"])
    result = runner.invoke(app, ["staffing", "erlang", *BASE[2:], "--simulate", "3"])
    assert result.exit_code != 0
