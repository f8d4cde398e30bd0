"""The scenario file format and the Prosimos reader."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from liucheng.simulation import (
    Exponential,
    LogNormal,
    ScenarioError,
    load_scenario,
    read_prosimos,
    scenario_from_dict,
)
from tests.conftest import require_shared

EXAMPLE = Path(__file__).parent / "data" / "service_desk.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def test_example_scenario_loads():
    s = load_scenario(EXAMPLE)
    assert s.horizon == 28 * 86400 and s.warm_up == 7 * 86400
    assert s.arrivals.profile is not None and s.arrivals.profile[0].rate == 30
    assert s.activities["triage"].duration == LogNormal(360.0, 180.0)
    assert s.activities["solve_level2"].by_resource["alice"].mean == pytest.approx(
        (900 + 1800 + 7200) / 3
    )
    assert s.events["customer_reply"].duration == Exponential(4 * 3600.0)
    assert s.resources["level2"].size == 2
    assert s.case_attributes["amount"].distribution is not None
    assert s.gateways["solved"].probabilities == {"flow_done": 0.85, "flow_reopen": 0.15}


def test_scenario_round_trips_through_json():
    s = load_scenario(EXAMPLE)
    again = scenario_from_dict(json.loads(s.model_dump_json()))
    assert again == s


def mutate(path: list, value) -> dict:
    data = copy.deepcopy(example())
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (["activities", "triage", "duration", "std"], -1, "activities.triage.duration.std"),
        (
            ["activities", "triage", "duration", "distribution"],
            "weibull",
            "activities.triage.duration.distribution",
        ),
        (["activities", "triage", "resources"], ["level9"], "activities.triage.resources[0]"),
        (["activities", "triage", "colour"], "red", "activities.triage.colour"),
        (
            ["gateways", "solved", "probabilities", "flow_done"],
            0.5,
            "gateways.solved.probabilities",
        ),
        (["resources", "level1", "calendar"], "nights", "resources.level1.calendar"),
        (
            ["resources", "level2", "people", 1, "shifts", 0, "from"],
            "25:00",
            "resources.level2.people[1].shifts[0].from",
        ),
        (
            ["calendars", "office", "periods", 0, "days", 0],
            "someday",
            "calendars.office.periods[0].days[0]",
        ),
        (["arrivals", "interarrival"], {"distribution": "exponential", "mean": 60}, "arrivals"),
        (["warm_up"], "P30D", "warm_up"),
        (["horizon"], "soon", "horizon"),
        (["replications"], 0, "replications"),
        (
            ["gateways", "route", "conditions", "to_level2"],
            "amount >> (",
            "gateways.route.conditions.to_level2",
        ),
        (["activities", "triage", "priority"], "if then", "activities.triage.priority"),
        (
            ["case_attributes", "priority", "choices", "high"],
            1.5,
            "case_attributes.priority.choices",
        ),
    ],
)
def test_errors_name_the_bad_key(tmp_path, path, value, where):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutate(path, value), sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert info.value.path == where, str(info.value)
    assert info.value.file == str(bad)
    assert info.value.code == "simulation.scenario.invalid"


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("arrivals: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(broken)
    assert info.value.line is not None
    with pytest.raises(ScenarioError, match="mapping"):
        scenario_from_dict([1, 2])


def test_needs_an_end():
    data = example()
    del data["horizon"]
    with pytest.raises(ScenarioError, match="horizon"):
        scenario_from_dict(data)
    data["arrivals"]["max_cases"] = 500
    assert scenario_from_dict(data).arrivals.max_cases == 500


def test_prosimos_call_centre():
    path = require_shared("bench", "simulation", "callcentre.json")
    s = read_prosimos(path, cases=10_000)
    assert s.arrivals.interarrival == Exponential(18.0)
    assert s.arrivals.max_cases == 10_000
    assert s.resources["agent"].count == 14
    assert s.resources["agent"].cost_per_hour == 30
    assert s.activities["handle"].resources == ["agent"]
    assert s.activities["handle"].duration == Exponential(180.0)
    assert s.calendars["247"].periods[0].days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert s.calendars["247"].periods[0].minutes() == (0, 1440)


def test_prosimos_other_sections(tmp_path):
    doc = {
        "resource_profiles": [
            {
                "id": "p",
                "name": "Clerks",
                "resource_list": [
                    {
                        "id": "r1",
                        "amount": 2,
                        "cost_per_hour": 20,
                        "calendar": "c",
                        "assignedTasks": [],
                    },
                    {
                        "id": "r2",
                        "amount": 1,
                        "cost_per_hour": 25,
                        "calendar": "c",
                        "assignedTasks": [],
                    },
                ],
            }
        ],
        "arrival_time_distribution": {
            "distribution_name": "fix",
            "distribution_params": [{"value": 60}],
        },
        "arrival_time_calendar": [
            {"from": "MONDAY", "to": "FRIDAY", "beginTime": "09:00:00", "endTime": "17:00:00"}
        ],
        "gateway_branching_probabilities": [
            {
                "gateway_id": "g",
                "probabilities": [
                    {"path_id": "a", "value": 0.3333},
                    {"path_id": "b", "value": 0.6666},
                ],
            }
        ],
        "task_resource_distribution": [
            {
                "task_id": "t",
                "resources": [
                    {
                        "resource_id": "r1",
                        "distribution_name": "norm",
                        "distribution_params": [
                            {"value": 100},
                            {"value": 20},
                            {"value": 0},
                            {"value": 1e9},
                        ],
                    },
                    {
                        "resource_id": "r2",
                        "distribution_name": "lognorm",
                        "distribution_params": [
                            {"value": 100},
                            {"value": 400},
                            {"value": 0},
                            {"value": 1e9},
                        ],
                    },
                ],
            }
        ],
        "resource_calendars": [
            {
                "id": "c",
                "time_periods": [
                    {
                        "from": "SATURDAY",
                        "to": "MONDAY",
                        "beginTime": "08:00:00",
                        "endTime": "12:00:00",
                    }
                ],
            }
        ],
        "batch_processing": [],
        "case_attributes": [
            {
                "name": "segment",
                "type": "discrete",
                "values": [{"key": "gold", "value": 0.25}, {"key": "basic", "value": 0.75}],
            },
            {
                "name": "amount",
                "type": "continuous",
                "values": {
                    "distribution_name": "expon",
                    "distribution_params": [{"value": 500}, {"value": 0}, {"value": 1e9}],
                },
            },
        ],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    s = read_prosimos(path, cases=5)
    assert s.calendars["c"].periods[0].days == ["sat", "sun", "mon"]
    assert s.calendars["arrivals"].periods[0].days == ["mon", "tue", "wed", "thu", "fri"]
    assert s.activities["t"].by_resource["r2"] == LogNormal(100.0, 20.0)
    assert s.activities["t"].by_resource["r1"].mean == 100.0
    assert sum(s.gateways["g"].probabilities.values()) == pytest.approx(1.0)
    assert s.resources["r1"].role == "Clerks"
    assert any("batch_processing" in note for note in s.notes)
    assert s.case_attributes["segment"].choices == {"gold": 0.25, "basic": 0.75}
    assert s.case_attributes["amount"].distribution == Exponential(500.0)
    doc["task_resource_distribution"][0]["resources"][0]["distribution_name"] = "weird"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_prosimos(path)
    assert info.value.path == "task_resource_distribution[0].resources[0].distribution_name"


def test_json_schema_accepts_the_example():
    import jsonschema

    from liucheng.simulation import scenario_json_schema

    schema = scenario_json_schema()
    data = json.loads(json.dumps(example(), default=str))
    jsonschema.validate(data, schema)
    bad = copy.deepcopy(data)
    bad["activities"]["triage"]["duration"] = {"distribution": "weibull", "mean": 5}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
