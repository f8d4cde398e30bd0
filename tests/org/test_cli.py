"""``liucheng sla ...`` and ``liucheng org ...``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.cli import app, main
from tests.conftest import ROOT

EXAMPLE = ROOT / "processes" / "service_desk" / "org.yaml"
runner = CliRunner()


@pytest.fixture
def berlin(tmp_path: Path) -> Path:
    path = tmp_path / "berlin.yaml"
    path.write_text(
        "timezone: Europe/Berlin\n"
        "week:\n"
        "  mon: ['08:00-17:00']\n  tue: ['08:00-17:00']\n  wed: ['08:00-17:00']\n"
        "  thu: ['08:00-17:00']\n  fri: ['08:00-17:00']\n  sat: ['08:00-17:00']\n"
        "  sun: ['08:00-17:00']\n"
        "holidays: ['2015-09-22']\n"
    )
    return path


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_sla_due_worked_example(berlin: Path) -> None:
    out = run(
        "sla",
        "due",
        "--calendar",
        str(berlin),
        "--start",
        "2015-09-21T14:30:00Z",
        "--duration",
        "PT120M",
    )
    assert out.strip() == "2015-09-23T07:30:00+00:00"
    # an input offset is honoured; naive input is UTC
    assert (
        run(
            "sla",
            "due",
            "--calendar",
            str(berlin),
            "--start",
            "2015-09-21T16:30:00+02:00",
            "--duration",
            "PT2H",
        ).strip()
        == "2015-09-23T07:30:00+00:00"
    )
    assert (
        run(
            "sla",
            "due",
            "--calendar",
            str(berlin),
            "--start",
            "2015-09-21T14:30:00",
            "--duration",
            "PT2H",
            "--tz",
            "calendar",
        ).strip()
        == "2015-09-23T09:30:00+02:00"
    )


def test_sla_due_with_pause_and_json(berlin: Path) -> None:
    out = run(
        "sla",
        "due",
        "--calendar",
        str(berlin),
        "--start",
        "2015-09-21T14:30:00Z",
        "--duration",
        "PT2H",
        "--pause",
        "2015-09-21T14:45:00Z/2015-09-23T08:00:00Z",
        "--json",
    )
    data = json.loads(out)
    # 15 min before the pause, 1h45 after 10:00 local on the 23rd
    assert data["due"] == "2015-09-23T09:45:00+00:00"
    assert data["business_time"] == 7200
    # the same pause as an ISO 8601 start/duration interval
    out = run(
        "sla",
        "due",
        "--calendar",
        str(berlin),
        "--start",
        "2015-09-21T14:30:00Z",
        "--duration",
        "PT2H",
        "--pause",
        "2015-09-21T14:45:00Z/PT41H15M",
    )
    assert out.strip() == "2015-09-23T09:45:00+00:00"


def test_sla_between_intervals_state(berlin: Path, tmp_path: Path) -> None:
    assert (
        run(
            "sla",
            "between",
            "--calendar",
            str(berlin),
            "--start",
            "2015-09-21T14:30:00Z",
            "--end",
            "2015-09-23T07:30:00Z",
        ).strip()
        == "PT2H"
    )
    lines = run(
        "sla",
        "intervals",
        "--calendar",
        str(berlin),
        "--start",
        "2015-09-21T00:00:00Z",
        "--end",
        "2015-09-24T00:00:00Z",
    ).split()
    assert lines == [
        "2015-09-21T06:00:00+00:00/2015-09-21T15:00:00+00:00",
        "2015-09-23T06:00:00+00:00/2015-09-23T15:00:00+00:00",
    ]
    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {"kind": "start", "at": "2015-09-21T14:30:00Z"},
                {"kind": "pause", "at": "2015-09-21T14:45:00Z", "reason": "waiting"},
            ]
        )
    )
    state = json.loads(
        run(
            "sla",
            "state",
            "--calendar",
            str(berlin),
            "--target",
            "PT1H",
            "--events",
            str(events),
            "--at",
            "2015-09-23T10:00:00Z",
        )
    )
    assert state["status"] == "paused"
    assert state["elapsed"] == "PT15M"
    assert state["remaining"] == "PT45M"


def main_exit(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``liucheng.cli.main`` in-process (as the console script does) and return its status."""
    monkeypatch.setattr(sys, "argv", ["liucheng", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0)


def test_errors_exit_2_with_message(
    berlin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main_exit(
        monkeypatch,
        "sla",
        "due",
        "--calendar",
        str(berlin),
        "--start",
        "2015-09-21T14:30:00Z",
        "--duration",
        "P1M",
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "calendar.duration.months" in err
    assert "Traceback" not in err
    bad = berlin.parent / "bad-org.yaml"
    bad.write_text("roles: [agent]\npeople:\n  - {id: a, superior: ghost}\n")
    assert main_exit(monkeypatch, "org", "import", str(bad)) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3" in err
    assert "ghost" in err
    assert main_exit(monkeypatch, "org", "import", str(bad), "--json") == 2
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["problems"][0]["line"] == 3
    assert (
        main_exit(
            monkeypatch,
            "sla",
            "due",
            "--calendar",
            str(berlin),
            "--start",
            "soon",
            "--duration",
            "PT1H",
        )
        == 2
    )
    assert "ISO 8601" in capsys.readouterr().err


def test_org_import_raci_export(tmp_path: Path) -> None:
    summary = json.loads(run("org", "import", str(EXAMPLE), "--json"))
    assert summary["counts"]["people"] == 9
    assert summary["per_role"]["specialist"] == 2
    assert summary["superiors"]["top"] == ["hanna"]
    text = run("org", "import", str(EXAMPLE))
    assert "valid" in text and "first-level: 4" in text
    raci = json.loads(run("org", "raci", str(EXAMPLE), "service_desk", "--json"))
    assert raci["accountable"] == "sofia"
    assert {r["task"] for r in raci["rows"]} >= {"Classify ticket", "Solve problem"}
    out = tmp_path / "people.csv"
    run("org", "export", str(EXAMPLE), "--output", str(out))
    assert out.read_text().startswith("id,name,email,department")
    again = json.loads(run("org", "import", str(out), "--json"))
    assert again["counts"]["people"] == 9
    assert again["superiors"]["longest_chain"] == 3
    yaml_text = run("org", "export", str(EXAMPLE))
    assert "processes:" in yaml_text
