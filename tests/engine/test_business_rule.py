"""Business rule tasks: what the scenarios under ``scenarios_extra/business-rule`` cannot show.

Incident codes and hints, a resolved incident running the decision again, deploy-time errors
for bad ``camunda:``/``zeebe:`` attributes, and the result mapping edge cases of Camunda's
``DecisionResultMapper`` implementations.
"""

from __future__ import annotations

import pytest

from liucheng.engine import MemoryStore
from liucheng.engine._decisions import map_result, rule_results
from liucheng.errors import EngineError, ModelError

from .helpers import bpmn, engine_with, flows

_NS = 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'


def _dmn(decision_id: str, hit: str, outputs: list[str], rules: list[list[str]]) -> bytes:
    outs = "".join(
        f'<output id="o{i}" name="{o}" typeRef="string"/>' for i, o in enumerate(outputs)
    )
    body = ""
    for j, rule in enumerate(rules):
        body += f'<rule id="r{j}"><inputEntry id="r{j}i"><text>-</text></inputEntry>'
        body += "".join(
            f'<outputEntry id="r{j}o{k}"><text>"{v}"</text></outputEntry>'
            for k, v in enumerate(rule)
        )
        body += "</rule>"
    return (
        f'<definitions {_NS} id="d_{decision_id}" name="d" namespace="t">'
        f'<decision id="{decision_id}" name="{decision_id}">'
        f'<decisionTable id="t" hitPolicy="{hit}">'
        '<input id="i"><inputExpression id="ie" typeRef="string"><text>x</text></inputExpression>'
        f"</input>{outs}{body}</decisionTable></decision></definitions>"
    ).encode()


TWO_RULES = _dmn("two", "COLLECT", ["out"], [["a"], ["b"]])
ONE_RULE = _dmn("two", "UNIQUE", ["out"], [["only"]])
TWO_OUTPUTS = _dmn("pair", "UNIQUE", ["left", "right"], [["l", "r"]])


def _rule_task(attrs: str) -> bytes:
    return bpmn(
        f'<startEvent id="s"/><businessRuleTask id="r" {attrs}/><userTask id="w"/>'
        + flows("s->r", "r->w")
    )


def _incident_event(store: MemoryStore, pid: str) -> dict[str, object]:
    events = [h for h in store.history if h.kind == "incident_open" and h.instance_id == pid]
    assert len(events) == 1
    data = events[0].data
    assert data is not None
    return dict(data)


@pytest.mark.parametrize(
    ("ref", "mapping", "code", "hint_word"),
    [
        ("two", "singleEntry", "engine.decision.result_not_single", "resultList"),
        ("two", "singleResult", "engine.decision.result_not_single", "collectEntries"),
        ("pair", "singleEntry", "engine.decision.entry_not_single", "singleResult"),
        ("pair", "collectEntries", "engine.decision.collect_outputs", "resultList"),
    ],
)
def test_wrong_cardinality_opens_incident_with_code_and_hint(
    ref: str, mapping: str, code: str, hint_word: str
) -> None:
    engine, _, store = engine_with()
    engine.deploy(
        [
            (
                "p.bpmn",
                _rule_task(
                    f'camunda:decisionRef="{ref}" camunda:resultVariable="res" '
                    f'camunda:mapDecisionResult="{mapping}"'
                ),
            ),
            ("two.dmn", TWO_RULES),
            ("pair.dmn", TWO_OUTPUTS),
        ]
    )
    pid = engine.start_process("p", {"x": "go", "res": "before"})
    (inc,) = engine.incidents(instance_id=pid)
    assert inc.element_id == "r"
    assert mapping in inc.message and ref in inc.message
    event = _incident_event(store, pid)
    assert event["code"] == code
    assert hint_word in str(event["hint"])
    # nothing else happened: the variable is untouched, the task did not complete
    assert engine.variables(pid)["res"] == "before"
    assert engine.active_elements(pid) == ["r"]
    assert not any(h.kind == "activity_end" and h.element_id == "r" for h in store.history)


def test_resolving_the_incident_evaluates_the_latest_decision_again() -> None:
    engine, _, _ = engine_with()
    engine.deploy(
        [
            (
                "p.bpmn",
                _rule_task(
                    'camunda:decisionRef="two" camunda:resultVariable="res" '
                    'camunda:mapDecisionResult="singleEntry"'
                ),
            ),
            ("two.dmn", TWO_RULES),
        ]
    )
    pid = engine.start_process("p", {"x": "go"})
    (inc,) = engine.incidents(instance_id=pid)
    engine.deploy([("two.dmn", ONE_RULE)])  # version 2 has one rule
    engine.resolve_incident(inc.id)
    assert engine.incidents(instance_id=pid) == []
    assert engine.variables(pid)["res"] == "only"
    assert engine.active_elements(pid) == ["w"]


def test_deployment_binding_needs_the_decision_in_the_process_deployment() -> None:
    engine, _, store = engine_with()
    engine.deploy([("two.dmn", ONE_RULE)])
    engine.deploy(
        [
            (
                "p.bpmn",
                _rule_task(
                    'camunda:decisionRef="two" camunda:resultVariable="res" '
                    'camunda:decisionRefBinding="deployment"'
                ),
            )
        ]
    )
    pid = engine.start_process("p", {"x": "go"})
    (inc,) = engine.incidents(instance_id=pid)
    assert "deployment" in inc.message
    assert _incident_event(store, pid)["code"] == "engine.decision.unknown"


def test_version_that_is_not_a_number_opens_incident() -> None:
    engine, _, store = engine_with()
    engine.deploy(
        [
            (
                "p.bpmn",
                _rule_task(
                    'camunda:decisionRef="two" camunda:resultVariable="res" '
                    'camunda:decisionRefBinding="version" '
                    'camunda:decisionRefVersion="=v"'
                ),
            ),
            ("two.dmn", ONE_RULE),
        ]
    )
    pid = engine.start_process("p", {"x": "go", "v": "latest"})
    assert len(engine.incidents(instance_id=pid)) == 1
    assert _incident_event(store, pid)["code"] == "engine.decision.version"
    assert "res" not in engine.variables(pid)


def test_tenant_id_is_ignored() -> None:
    engine, _, _ = engine_with()
    engine.deploy(
        [
            (
                "p.bpmn",
                _rule_task(
                    'camunda:decisionRef="two" camunda:resultVariable="res" '
                    'camunda:decisionRefTenantId="acme" '
                    'camunda:mapDecisionResult="singleEntry"'
                ),
            ),
            ("two.dmn", ONE_RULE),
        ]
    )
    pid = engine.start_process("p", {"x": "go"})
    assert engine.variables(pid)["res"] == "only"


@pytest.mark.parametrize(
    "attrs",
    [
        'camunda:decisionRef="two" camunda:mapDecisionResult="firstEntry"',
        'camunda:decisionRef="two" camunda:decisionRefBinding="versionTag"',
        'camunda:decisionRef="two" camunda:decisionRefBinding="version"',
    ],
)
def test_bad_camunda_attributes_fail_the_deployment(attrs: str) -> None:
    engine, _, store = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy([("p.bpmn", _rule_task(attrs)), ("two.dmn", ONE_RULE)])
    assert info.value.code == "bpmn.decision.invalid"
    assert info.value.element_id == "r"
    assert info.value.hint
    assert store.deployments == {}
    assert store.definitions == {}


def test_zeebe_call_without_result_variable_fails_the_deployment() -> None:
    doc = bpmn(
        '<startEvent id="s"/><businessRuleTask id="r"><extensionElements>'
        '<zeebe:calledDecision decisionId="two"/></extensionElements></businessRuleTask>'
        + flows("s->r")
    )
    engine, _, _ = engine_with()
    with pytest.raises(ModelError) as info:
        engine.deploy([("p.bpmn", doc)])
    assert info.value.code == "bpmn.decision.invalid"
    assert "resultVariable" in str(info.value.hint)


def test_required_decision_wins_over_a_variable_of_the_same_name() -> None:
    dmn = (
        f'<definitions {_NS} id="d" name="d" namespace="t">'
        '<decision id="base" name="base"><literalExpression id="b"><text>"computed"</text>'
        "</literalExpression></decision>"
        '<decision id="top" name="top"><informationRequirement id="ir">'
        '<requiredDecision href="#base"/></informationRequirement>'
        '<literalExpression id="t"><text>base + "/" + other</text></literalExpression>'
        "</decision></definitions>"
    ).encode()
    engine, _, _ = engine_with()
    engine.deploy(
        [
            (
                "p.bpmn",
                _rule_task(
                    'camunda:decisionRef="top" camunda:resultVariable="res" '
                    'camunda:mapDecisionResult="singleEntry"'
                ),
            ),
            ("d.dmn", dmn),
        ]
    )
    # ``other`` is only a process variable (no input data): visible as in Camunda; ``base``
    # is both a variable and a required decision: the decision's value is used
    pid = engine.start_process("p", {"base": "variable", "other": "seen"})
    assert engine.variables(pid)["res"] == "computed/seen"


# ---------------------------------------------------------------------------- pure mapping


def test_map_result_edge_cases() -> None:
    assert map_result("singleEntry", [], "d", "r") is None
    assert map_result("singleResult", [], "d", "r") is None
    assert map_result("collectEntries", [], "d", "r") == []
    assert map_result("resultList", [], "d", "r") == []
    assert map_result("singleEntry", [{"a": None}], "d", "r") is None
    assert map_result("singleResult", [{"a": 1, "b": 2}], "d", "r") == {"a": 1, "b": 2}
    assert map_result("collectEntries", [{"a": 1}, {"a": 1}], "d", "r") == [1, 1]
    with pytest.raises(EngineError) as info:
        map_result("collectEntries", [{"a": 1}, {"b": 2}], "d", "r")
    assert info.value.code == "engine.decision.collect_outputs"
    assert info.value.element_id == "r"


def test_rule_results_follow_hit_policy_and_outputs() -> None:
    from liucheng.dmn import parse_dmn

    def decision(xml: bytes) -> object:
        return parse_dmn(xml, file="x.dmn").decisions[0]

    collect = decision(TWO_RULES)
    assert rule_results(collect, ["a", "b"]) == [{"out": "a"}, {"out": "b"}]
    assert rule_results(collect, []) == []
    unique = decision(TWO_OUTPUTS)
    assert rule_results(unique, {"left": "l", "right": "r"}) == [{"left": "l", "right": "r"}]
    assert rule_results(unique, None) == []
    summed_xml = _dmn("sum", "COLLECT", ["n"], [["1"]])
    summed = decision(summed_xml.replace(b'"COLLECT"', b'"COLLECT" aggregation="SUM"'))
    assert rule_results(summed, 3) == [{"n": 3}]
    assert rule_results(summed, None) == []
