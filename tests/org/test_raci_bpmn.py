"""The RACI view of a process from its BPMN lanes (``liucheng org raci FILE PROCESS --bpmn``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from liucheng.cli import app
from liucheng.errors import NotFoundError
from liucheng.org import organisation_from_dict, raci_from_bpmn

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">
  <process id="claims" isExecutable="true">
    <laneSet id="ls">
      <lane id="l1" name="Front office">
        <flowNodeRef>s</flowNodeRef><flowNodeRef>register</flowNodeRef>
      </lane>
      <lane id="l2" name="Back office">
        <flowNodeRef>assess</flowNodeRef><flowNodeRef>sub</flowNodeRef>
        <childLaneSet id="cls">
          <lane id="l3" name="Experts"><flowNodeRef>expert</flowNodeRef></lane>
        </childLaneSet>
      </lane>
    </laneSet>
    <startEvent id="s"/>
    <userTask id="register" name="Register claim"/>
    <userTask id="assess"/>
    <userTask id="expert" name="Expert opinion"/>
    <subProcess id="sub"><userTask id="inner" name="Inner check"/></subProcess>
    <userTask id="loose" name="Outside any lane"/>
  </process>
</definitions>
"""

ORG = {
    "timezone": "UTC",
    "departments": [{"id": "co", "name": "Co", "head": "boss"}],
    "roles": ["clerk", "assessor", "expert", "auditor"],
    "people": [
        {"id": "boss", "name": "Boss", "department": "co"},
        {"id": "cleo", "name": "Cleo", "department": "co", "roles": ["clerk"]},
        {"id": "ali", "name": "Ali", "department": "co", "roles": ["assessor"]},
        {"id": "eva", "name": "Eva", "department": "co", "roles": ["expert"]},
        {"id": "olaf", "name": "Olaf", "department": "co", "roles": ["auditor"]},
    ],
    "processes": [
        {
            "id": "claims",
            "owner": "boss",
            "lanes": {"Front office": "clerk", "Back office": "assessor", "Experts": "expert"},
            "informed": ["role:auditor"],
        }
    ],
}


def _rows(view: dict[str, object]) -> dict[str, tuple[object, ...]]:
    return {
        r["task"]: (
            r["lane"],
            r["role"],
            tuple(r["responsible"]),
            r["accountable"],
            tuple(r["informed"]),
        )
        for r in view["rows"]  # type: ignore[attr-defined]
    }


def test_raci_rows_come_from_the_model_lanes(tmp_path: Path) -> None:
    view = raci_from_bpmn(organisation_from_dict(ORG), "claims", MODEL).to_dict()
    assert view["accountable"] == "boss"
    assert _rows(view) == {
        "Register claim": ("Front office", "clerk", ("cleo",), "boss", ("olaf",)),
        "assess": ("Back office", "assessor", ("ali",), "boss", ("olaf",)),  # unnamed: its id
        "Expert opinion": ("Experts", "expert", ("eva",), "boss", ("olaf",)),  # innermost lane
    }  # the task in no lane is left out; a sub-process's inner task has no lane ref


def test_cli_raci_with_bpmn(tmp_path: Path) -> None:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(yaml.safe_dump(ORG))
    model = tmp_path / "claims.bpmn"
    model.write_bytes(MODEL)
    result = CliRunner().invoke(
        app, ["org", "raci", str(org_file), "claims", "--bpmn", str(model), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert set(_rows(json.loads(result.stdout))) == {"Register claim", "assess", "Expert opinion"}
    text = CliRunner().invoke(app, ["org", "raci", str(org_file), "claims", "--bpmn", str(model)])
    assert "Expert opinion: R=eva (role expert, lane Experts) A=boss" in text.stdout


def test_unknown_process_in_the_model() -> None:
    with pytest.raises(NotFoundError):
        raci_from_bpmn(organisation_from_dict(ORG), "nope", MODEL)
