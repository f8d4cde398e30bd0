"""Validation rules: one failing model per rule, checking code, element id, line and hint."""

from __future__ import annotations

import pytest

from liucheng.errors import ModelProblem, ModelValidationError
from liucheng.model import check_model, parse_bpmn, validate
from tests.model.samples import RICH

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="t">
"""


def model(body: str, roots: str = "", executable: str = ' isExecutable="true"') -> str:
    return f'{HEAD}{roots}<process id="P"{executable}>\n{body}\n</process>\n</definitions>\n'


OK_BODY = """<startEvent id="S" />
<sequenceFlow id="f1" sourceRef="S" targetRef="T" />
<userTask id="T" />
<sequenceFlow id="f2" sourceRef="T" targetRef="E" />
<endEvent id="E" />"""


def problems(doc: str, **kw: object) -> list[ModelProblem]:
    return validate(parse_bpmn(doc, filename="m.bpmn"), **kw)  # type: ignore[arg-type]


def line_of(doc: str, needle: str) -> int:
    return next(i for i, text in enumerate(doc.splitlines(), 1) if needle in text)


def only(found: list[ModelProblem], code: str) -> ModelProblem:
    matching = [p for p in found if p.code == code]
    assert len(matching) == 1, found
    return matching[0]


def test_clean_model_has_no_problems() -> None:
    assert problems(model(OK_BODY)) == []


def test_rich_sample_is_clean() -> None:
    assert [p for p in problems(RICH) if p.severity == "error"] == []


@pytest.mark.parametrize(
    ("body", "code", "element", "needle"),
    [
        (
            OK_BODY.replace('targetRef="E"', 'targetRef="Gone"'),
            "bpmn.flow.dangling",
            "f2",
            'id="f2"',
        ),
        (
            OK_BODY + '\n<sequenceFlow id="f3" sourceRef="E" targetRef="T" />',
            "bpmn.end.outgoing",
            "E",
            'endEvent id="E"',
        ),
        (
            OK_BODY + '\n<sequenceFlow id="f3" sourceRef="T" targetRef="S" />',
            "bpmn.start.incoming",
            "S",
            'startEvent id="S"',
        ),
        (
            OK_BODY + '\n<boundaryEvent id="B" attachedToRef="E" />',
            "bpmn.boundary.not_activity",
            "B",
            'id="B"',
        ),
        (
            OK_BODY + '\n<boundaryEvent id="B" attachedToRef="Nothing" />',
            "bpmn.boundary.dangling",
            "B",
            'id="B"',
        ),
        (
            OK_BODY + '\n<userTask id="Lonely" />',
            "bpmn.unreachable",
            "Lonely",
            'id="Lonely"',
        ),
        (
            OK_BODY.replace('<userTask id="T" />', '<userTask id="T" default="f1" />'),
            "bpmn.default.dangling",
            "T",
            'userTask id="T"',
        ),
        (
            OK_BODY.replace('<endEvent id="E" />', '<endEvent id="E" />\n<task id="E" />'),
            "bpmn.id.duplicate",
            "E",
            '<task id="E"',
        ),
    ],
)
def test_structural_rules(body: str, code: str, element: str, needle: str) -> None:
    doc = model(body)
    found = only(problems(doc), code)
    assert found.element_id == element
    assert found.line == line_of(doc, needle)
    assert found.file == "m.bpmn"
    assert found.hint
    assert found.severity in ("error", "warning")


GATEWAY = """<startEvent id="S" />
<sequenceFlow id="f1" sourceRef="S" targetRef="G" />
<exclusiveGateway id="G" {default}/>
<sequenceFlow id="a" sourceRef="G" targetRef="E1">{cond}</sequenceFlow>
<sequenceFlow id="b" sourceRef="G" targetRef="E2" />
<endEvent id="E1" />
<endEvent id="E2" />"""


def test_exclusive_gateway_without_conditions_or_default() -> None:
    doc = model(GATEWAY.format(default="", cond=""))
    found = only(problems(doc), "bpmn.gateway.no_condition")
    assert found.severity == "error"
    assert found.element_id == "G"
    assert found.line == line_of(doc, 'exclusiveGateway id="G"')
    assert "'a'" in found.message and "'b'" in found.message


def test_exclusive_gateway_with_condition_and_default_is_fine() -> None:
    cond = "<conditionExpression>=x &gt; 1</conditionExpression>"
    doc = model(GATEWAY.format(default='default="b" ', cond=cond))
    assert [p for p in problems(doc) if p.code.startswith("bpmn.gateway")] == []


def test_gateway_rule_is_a_warning_in_descriptive_models() -> None:
    doc = model(GATEWAY.format(default="", cond="")).replace(
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" ', ""
    )
    assert only(problems(doc), "bpmn.gateway.no_condition").severity == "warning"
    assert only(problems(doc, engine=True), "bpmn.gateway.no_condition").severity == "error"


def test_pass_through_gateway_warns() -> None:
    body = OK_BODY.replace('targetRef="T" />', 'targetRef="G" />', 1).replace(
        '<userTask id="T" />',
        '<parallelGateway id="G" />\n<sequenceFlow id="g" sourceRef="G" targetRef="T" />\n'
        '<userTask id="T" />',
    )
    doc = model(body)
    found = only(problems(doc), "bpmn.gateway.pass_through")
    assert found.severity == "warning" and found.element_id == "G"


def test_missing_is_executable_warns() -> None:
    doc = model(OK_BODY, executable="")
    found = only(problems(doc), "bpmn.process.executable_missing")
    assert found.severity == "warning" and found.element_id == "P"
    assert found.line == line_of(doc, '<process id="P"')


@pytest.mark.parametrize(
    ("tag", "value", "ok"),
    [
        ("timeDuration", "PT1H", True),
        ("timeDuration", "P2DT3H4M", True),
        ("timeDuration", "=duration(limit)", True),
        ("timeDuration", "${timerDuration}", True),
        ("timeDuration", "1 hour", False),
        ("timeDuration", "PT", False),
        ("timeDuration", "P1X", False),
        ("timeDate", "2026-01-31T09:00:00Z", True),
        ("timeDate", "2026-01-31T09:00:00+01:00", True),
        ("timeDate", "31.01.2026", False),
        ("timeCycle", "R3/PT10M", True),
        ("timeCycle", "R/PT5M", True),
        ("timeCycle", "R2/2026-01-01T00:00:00Z/P1D", True),
        ("timeCycle", "0 0 9 * * ?", True),
        ("timeCycle", "0 9 * * MON-FRI", True),
        ("timeCycle", "R3/10 minutes", False),
        ("timeCycle", "", False),
    ],
)
def test_timer_values(tag: str, value: str, ok: bool) -> None:
    body = OK_BODY + (
        '\n<boundaryEvent id="B" attachedToRef="T"><timerEventDefinition>'
        f"<{tag}>{value}</{tag}></timerEventDefinition></boundaryEvent>"
    )
    doc = model(body)
    found = [p for p in problems(doc) if p.code == "bpmn.timer.invalid"]
    if ok:
        assert found == []
    else:
        assert len(found) == 1
        assert found[0].element_id == "B" and found[0].severity == "error"
        assert found[0].line == line_of(doc, 'boundaryEvent id="B"')


def test_timer_without_value() -> None:
    doc = model(
        OK_BODY + '\n<boundaryEvent id="B" attachedToRef="T"><timerEventDefinition/>'
        "</boundaryEvent>"
    )
    assert only(problems(doc), "bpmn.timer.missing").element_id == "B"


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        ('<messageEventDefinition messageRef="NoMsg" />', "bpmn.ref.message"),
        ('<signalEventDefinition signalRef="NoSig" />', "bpmn.ref.signal"),
        ('<errorEventDefinition errorRef="NoErr" />', "bpmn.ref.error"),
        ('<escalationEventDefinition escalationRef="NoEsc" />', "bpmn.ref.escalation"),
    ],
)
def test_dangling_root_references(definition: str, code: str) -> None:
    doc = model(OK_BODY + f'\n<boundaryEvent id="B" attachedToRef="T">{definition}</boundaryEvent>')
    found = only(problems(doc), code)
    assert found.element_id == "B" and found.severity == "error"


def test_reference_to_wrong_kind_of_root() -> None:
    roots = '<signal id="Sig" name="s" />\n'
    doc = model(
        OK_BODY + '\n<boundaryEvent id="B" attachedToRef="T">'
        '<messageEventDefinition messageRef="Sig" /></boundaryEvent>',
        roots=roots,
    )
    assert only(problems(doc), "bpmn.ref.message").element_id == "B"


EVENT_SUB = """<subProcess id="ES" triggeredByEvent="true">
  {inner}
</subProcess>"""


def test_event_subprocess_without_start() -> None:
    doc = model(OK_BODY + "\n" + EVENT_SUB.format(inner='<userTask id="X" />'))
    found = only(problems(doc), "bpmn.event_subprocess.start")
    assert found.element_id == "ES"
    assert found.line == line_of(doc, 'subProcess id="ES"')


def test_event_subprocess_with_incoming_flow() -> None:
    inner = (
        '<startEvent id="ES_S"><signalEventDefinition signalRef="Sig" /></startEvent>'
        '<endEvent id="ES_E" /><sequenceFlow id="es1" sourceRef="ES_S" targetRef="ES_E" />'
    )
    body = OK_BODY + "\n" + EVENT_SUB.format(inner=inner)
    body += '\n<sequenceFlow id="bad" sourceRef="T" targetRef="ES" />'
    doc = model(body, roots='<signal id="Sig" name="s" />\n')
    assert only(problems(doc), "bpmn.event_subprocess.flows").element_id == "ES"


def test_event_subprocess_start_needs_trigger() -> None:
    inner = (
        '<startEvent id="ES_S" /><endEvent id="ES_E" />'
        '<sequenceFlow id="es1" sourceRef="ES_S" targetRef="ES_E" />'
    )
    doc = model(OK_BODY + "\n" + EVENT_SUB.format(inner=inner))
    assert only(problems(doc), "bpmn.event_subprocess.none_start").element_id == "ES_S"


def test_lane_with_unknown_node() -> None:
    lanes = '<laneSet id="LS"><lane id="L"><flowNodeRef>Ghost</flowNodeRef></lane></laneSet>'
    doc = model(lanes + "\n" + OK_BODY)
    assert only(problems(doc), "bpmn.lane.dangling").element_id == "L"


def test_flow_across_subprocess_boundary() -> None:
    body = OK_BODY + (
        '\n<subProcess id="Sub"><userTask id="Inner" /></subProcess>'
        '\n<sequenceFlow id="x" sourceRef="T" targetRef="Inner" />'
    )
    doc = model(body)
    assert only(problems(doc), "bpmn.flow.cross_scope").element_id == "x"


def test_link_throw_without_catch() -> None:
    body = OK_BODY + (
        '\n<intermediateThrowEvent id="L"><linkEventDefinition name="go" /></intermediateThrowEvent>'
    )
    assert only(problems(model(body)), "bpmn.link.unmatched").element_id == "L"


def test_boundary_of_unreachable_and_compensation_handler_not_reported() -> None:
    body = OK_BODY + (
        '\n<boundaryEvent id="C" attachedToRef="T"><compensateEventDefinition />'
        '</boundaryEvent>\n<serviceTask id="Undo" isForCompensation="true" />'
        '\n<association id="as" sourceRef="C" targetRef="Undo" />'
    )
    assert [p for p in problems(model(body)) if p.code == "bpmn.unreachable"] == []


def test_check_model_raises_with_all_problems() -> None:
    doc = model(OK_BODY.replace('targetRef="E"', 'targetRef="Gone"'))
    with pytest.raises(ModelValidationError) as info:
        check_model(parse_bpmn(doc, filename="m.bpmn"))
    err = info.value
    assert err.element_id == "f2"
    assert err.file == "m.bpmn"
    assert any(p.code == "bpmn.flow.dangling" for p in err.problems)


def test_condition_out_of_parallel_gateway_warns() -> None:
    body = GATEWAY.format(default="", cond="<conditionExpression>=x</conditionExpression>")
    doc = model(body.replace("exclusiveGateway", "parallelGateway"))
    found = only(problems(doc), "bpmn.flow.condition_ignored")
    assert found.element_id == "a" and found.severity == "warning"


def test_default_flow_with_condition_warns() -> None:
    body = GATEWAY.format(
        default='default="a" ', cond="<conditionExpression>=x</conditionExpression>"
    )
    found = only(problems(model(body)), "bpmn.default.condition")
    assert found.element_id == "a"


def test_conditional_event_without_condition() -> None:
    body = OK_BODY + (
        '\n<boundaryEvent id="B" attachedToRef="T"><conditionalEventDefinition /></boundaryEvent>'
    )
    found = only(problems(model(body)), "bpmn.conditional.missing")
    assert found.element_id == "B" and found.severity == "error"


def test_message_catch_needs_a_message() -> None:
    body = OK_BODY + (
        '\n<boundaryEvent id="B" attachedToRef="T"><messageEventDefinition /></boundaryEvent>'
        '\n<receiveTask id="R" />'
    )
    found = [p for p in problems(model(body)) if p.code == "bpmn.message.missing"]
    # a receive task without a message is a wait state, not an error
    assert sorted(p.element_id or "" for p in found) == ["B"]
    assert all(p.severity == "error" for p in found)


def test_receive_task_with_unknown_message() -> None:
    body = OK_BODY + '\n<receiveTask id="R" messageRef="Nope" />'
    assert only(problems(model(body)), "bpmn.ref.message").element_id == "R"


def test_several_none_start_events_warn() -> None:
    body = (
        OK_BODY + '\n<startEvent id="S2" />\n<sequenceFlow id="f9" sourceRef="S2" targetRef="T" />'
    )
    found = only(problems(model(body)), "bpmn.start.several_none")
    assert found.element_id == "S2" and found.severity == "warning"
