from __future__ import annotations

from liucheng.errors import (
    LiuchengError,
    ModelError,
    ModelProblem,
    ModelValidationError,
    XmlSecurityError,
)


def test_error_carries_code_hint_and_place() -> None:
    err = ModelError(
        "flow has no target", file="a.bpmn", line=12, element_id="Flow_1", hint="fix it"
    )
    assert err.code == "bpmn.invalid"
    assert (
        str(err) == "[bpmn.invalid] a.bpmn:12 element 'Flow_1': flow has no target (hint: fix it)"
    )
    assert err.to_dict()["element_id"] == "Flow_1"
    assert isinstance(err, LiuchengError)


def test_subclass_default_code_and_hint() -> None:
    err = XmlSecurityError("entity declarations are not allowed", file="x.bpmn", line=2)
    assert err.code == "xml.refused"
    assert err.hint and "DOCTYPE" in err.hint
    assert isinstance(err, ModelError)


def test_validation_error_lists_every_problem() -> None:
    problems = [
        ModelProblem(
            "bpmn.flow.dangling", "target missing", element_id="F1", file="m.bpmn", line=3
        ),
        ModelProblem("bpmn.gateway.useless", "one in one out", severity="warning", element_id="G1"),
        ModelProblem("bpmn.id.duplicate", "duplicate id", element_id="T1", line=9),
    ]
    err = ModelValidationError(problems)
    assert err.message.startswith("2 validation errors")
    assert err.line == 3 and err.element_id == "F1"
    assert [p["element_id"] for p in err.details["problems"]] == ["F1", "G1", "T1"]
