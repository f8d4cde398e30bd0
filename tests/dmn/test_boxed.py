from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from liucheng.dmn import DmnModel, decide, parse_dmn
from liucheng.errors import DmnError

from ._util import dmn, esc


def lit(text: str, type_ref: str | None = None) -> str:
    t = f' typeRef="{type_ref}"' if type_ref else ""
    return f"<literalExpression{t}><text>{esc(text)}</text></literalExpression>"


def decision(name: str, logic: str, type_ref: str | None = None, reqs: str = "") -> str:
    t = f' typeRef="{type_ref}"' if type_ref else ""
    return (
        f'<decision id="{name}" name="{name}"><variable name="{name}"{t}/>{reqs}{logic}</decision>'
    )


def model(body: str) -> DmnModel:
    return DmnModel(parse_dmn(dmn(body)))


def value(body: str, name: str = "d", **inputs: Any) -> Any:
    return model(body).decide(name, inputs).value


def test_literal_expression_and_empty_text() -> None:
    assert value(decision("d", lit("1 + 2"))) == 3
    assert value(decision("d", lit(""))) is None


def test_context_entries_see_earlier_entries_and_final_result() -> None:
    ctx = (
        "<context>"
        f'<contextEntry><variable name="a"/>{lit("2")}</contextEntry>'
        f'<contextEntry><variable name="b"/>{lit("a * 3")}</contextEntry>'
        "</context>"
    )
    assert value(decision("d", ctx)) == {"a": 2, "b": 6}
    final = ctx.replace("</context>", f"<contextEntry>{lit('a + b')}</contextEntry></context>")
    assert value(decision("d", final)) == 8


def test_relation_and_list() -> None:
    a, b = lit('"a"'), lit('"b"')
    rel = (
        '<relation><column name="n"/><column name="s"/>'
        f"<row>{lit('1')}{a}</row><row>{lit('2')}{b}</row></relation>"
    )
    assert value(decision("d", rel)) == [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}]
    x = lit('"x"')
    lst = f"<list>{lit('1')}{x}{lit('null')}</list>"
    assert value(decision("d", lst)) == [1, "x", None]


def test_function_definition_invocation_and_recursion_in_context() -> None:
    fac = (
        "<context>"
        '<contextEntry><variable name="fac"/><functionDefinition><formalParameter name="n"/>'
        f"{lit('if n <= 1 then 1 else n * fac(n - 1)')}</functionDefinition></contextEntry>"
        '<contextEntry><variable name="r"/><invocation>'
        f'{lit("fac")}<binding><parameter name="n"/>{lit("5")}</binding></invocation></contextEntry>'
        f"<contextEntry>{lit('r')}</contextEntry></context>"
    )
    assert value(decision("d", fac)) == 120


def test_java_functions_are_refused_clearly() -> None:
    cls = lit('"java.lang.Math"')
    fn = (
        '<functionDefinition kind="Java"><formalParameter name="a"/><context>'
        f'<contextEntry><variable name="class"/>{cls}</contextEntry>'
        "</context></functionDefinition>"
    )
    m = model(decision("d", fn))
    assert any("Java" in p.message for p in m.problems)
    res = m.decide("d")
    assert res.value is None and res.errors


def test_conditional_iterators_and_filter() -> None:
    big, small = lit('"big"'), lit('"small"')
    cond = (
        f"<conditional><if>{lit('x > 1')}</if><then>{big}</then><else>{small}</else></conditional>"
    )
    body = '<inputData id="x" name="x"><variable name="x"/></inputData>' + decision(
        "d",
        cond,
        reqs='<informationRequirement><requiredInput href="#x"/></informationRequirement>',
    )
    assert value(body, x=5) == "big"
    assert value(body, x=0) == "small"
    assert value(body, x=None) == "small"
    loop = (
        f'<for iteratorVariable="i"><in>{lit("[1,2,3]")}</in><return>{lit("i * i")}</return></for>'
    )
    assert value(decision("d", loop)) == [1, 4, 9]
    some = f'<some iteratorVariable="i"><in>{lit("[1,2,3]")}</in><satisfies>{lit("i > 2")}</satisfies></some>'
    assert value(decision("d", some)) is True
    every = some.replace("<some", "<every").replace("</some>", "</every>")
    assert value(decision("d", every)) is False
    flt = (
        f"<filter><in>{lit('[{a: 1}, {a: 5}, {a: 7}]')}</in>"
        f"<match>{lit('a > 2 and item.a < 7')}</match></filter>"
    )
    assert value(decision("d", flt)) == [{"a": 5}]


def test_requirement_graph_evaluates_each_decision_once() -> None:
    body = (
        '<inputData id="x" name="x"><variable name="x" typeRef="number"/></inputData>'
        + decision(
            "base",
            lit("x * 2"),
            reqs='<informationRequirement><requiredInput href="#x"/></informationRequirement>',
        )
        + decision(
            "left",
            lit("base + 1"),
            reqs='<informationRequirement><requiredDecision href="#base"/></informationRequirement>',
        )
        + decision(
            "right",
            lit("base + 2"),
            reqs='<informationRequirement><requiredDecision href="#base"/></informationRequirement>',
        )
        + decision(
            "d",
            lit("left + right"),
            reqs='<informationRequirement><requiredDecision href="#left"/></informationRequirement>'
            '<informationRequirement><requiredDecision href="#right"/></informationRequirement>',
        )
    )
    assert value(body, x=10) == 43


def test_requirement_cycles_are_reported() -> None:
    body = decision(
        "a",
        lit("b"),
        reqs='<informationRequirement><requiredDecision href="#b"/></informationRequirement>',
    ) + decision(
        "b",
        lit("a"),
        reqs='<informationRequirement><requiredDecision href="#a"/></informationRequirement>',
    )
    with pytest.raises(DmnError) as info:
        value(body, "a")
    assert info.value.code == "dmn.drg.cycle"


BKM = """
<businessKnowledgeModel id="b" name="discount">
  <variable name="discount"/>
  <encapsulatedLogic>
    <formalParameter name="amount" typeRef="number"/>
    <literalExpression><text>amount * 0.1</text></literalExpression>
  </encapsulatedLogic>
</businessKnowledgeModel>
"""


def test_bkm_is_a_function_for_decisions() -> None:
    body = BKM + decision(
        "d",
        lit("discount(200) + discount(amount: 10)"),
        reqs='<knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>',
    )
    assert value(body) == Decimal(21)


def test_bkm_argument_of_wrong_type_gives_null() -> None:
    body = BKM + decision(
        "d",
        lit('discount("much")'),
        reqs='<knowledgeRequirement><requiredKnowledge href="#b"/></knowledgeRequirement>',
    )
    res = model(body).decide("d")
    assert res.value is None and res.errors


SERVICE = """
<inputData id="x" name="x"><variable name="x" typeRef="number"/></inputData>
<decision id="inner" name="inner"><variable name="inner" typeRef="number"/>
  <informationRequirement><requiredInput href="#x"/></informationRequirement>
  <literalExpression><text>x + 1</text></literalExpression></decision>
<decision id="outer" name="outer"><variable name="outer" typeRef="number"/>
  <informationRequirement><requiredDecision href="#inner"/></informationRequirement>
  <literalExpression><text>inner * 10</text></literalExpression></decision>
<decisionService id="svc" name="svc"><variable name="svc"/>
  <outputDecision href="#outer"/><encapsulatedDecision href="#inner"/><inputData href="#x"/>
</decisionService>
<decision id="d" name="d"><variable name="d"/>
  <knowledgeRequirement><requiredKnowledge href="#svc"/></knowledgeRequirement>
  <literalExpression><text>svc(4)</text></literalExpression></decision>
"""


def test_decision_service_direct_and_as_function() -> None:
    m = model(SERVICE)
    res = m.invoke_service("svc", {"x": 1})
    assert res.value == 20 and res.outputs == {"outer": 20}
    assert m.decide("d").value == 50


def test_item_definitions_check_and_coerce() -> None:
    body = """
    <itemDefinition name="tAge"><typeRef>number</typeRef>
      <allowedValues><text>[0..150]</text></allowedValues></itemDefinition>
    <itemDefinition name="tPerson">
      <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
      <itemComponent name="age"><typeRef>tAge</typeRef></itemComponent></itemDefinition>
    <itemDefinition name="tNames" isCollection="true"><typeRef>string</typeRef></itemDefinition>
    <inputData id="p" name="p"><variable name="p" typeRef="tPerson"/></inputData>
    <inputData id="n" name="n"><variable name="n" typeRef="tNames"/></inputData>
    """ + decision(
        "d",
        lit("[p, n]"),
        reqs='<informationRequirement><requiredInput href="#p"/></informationRequirement>'
        '<informationRequirement><requiredInput href="#n"/></informationRequirement>',
    )
    m = model(body)
    ok = m.decide("d", {"p": {"name": "Ann", "age": 30}, "n": "solo"})
    assert ok.value == [{"name": "Ann", "age": 30}, ["solo"]] and ok.ok
    too_old = m.decide("d", {"p": {"name": "Ann", "age": 200}, "n": ["a"]})
    assert too_old.value == [None, ["a"]] and too_old.errors
    wrong = m.decide("d", {"p": {"name": 5, "age": 3}, "n": [1]})
    assert wrong.value == [None, None]


def test_decision_result_type_mismatch_is_null() -> None:
    res = model(decision("d", lit('"text"'), type_ref="number")).decide("d")
    assert res.value is None and res.errors
    single = model(decision("d", lit("[7]"), type_ref="number")).decide("d")
    assert single.value == 7


def test_unknown_decision_is_a_clear_error() -> None:
    with pytest.raises(DmnError) as info:
        decide(model(decision("d", lit("1"))), "nope", {})
    assert info.value.code == "dmn.decision.unknown" and "'d'" in (info.value.hint or "")


def test_feel_syntax_errors_are_model_problems_not_crashes() -> None:
    m = model(decision("d", lit("1 +* 2")))
    assert m.problems and m.problems[0].code == "dmn.feel.syntax"
    res = m.decide("d")
    assert res.value is None and res.errors


def test_decision_service_input_decisions_override_their_logic() -> None:
    body = SERVICE.replace(
        '<inputData href="#x"/>\n</decisionService>',
        '<inputDecision href="#inner"/>\n</decisionService>',
    ).replace('<encapsulatedDecision href="#inner"/>', "")
    m = model(body)
    assert m.invoke_service("svc", {"inner": 7}).value == 70
    assert m.decide("d").value == 40  # svc(4): inner given as 4
    wrong = m.invoke_service("svc", {"inner": "seven"})
    assert wrong.value is None and wrong.errors


def test_decision_service_called_with_too_few_arguments_is_null() -> None:
    body = SERVICE.replace("svc(4)", "svc()")
    res = model(body).decide("d")
    assert res.value is None and res.errors


def test_bkm_can_be_invoked_directly() -> None:
    m = model(BKM)
    assert m.invoke_bkm("discount", {"amount": 50}).value == 5
    with pytest.raises(DmnError):
        m.invoke_bkm("nope")


def test_decide_accepts_a_path_and_reloads_changed_files(tmp_path: Path) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(dmn(decision("d", lit("1"))))
    assert decide(path, "d").value == 1
    path.write_text(dmn(decision("d", lit("22"))))
    assert decide(str(path), "d").value == 22


def test_dangling_references_are_problems_and_validate_raises() -> None:
    body = decision(
        "d",
        lit("1"),
        reqs='<informationRequirement><requiredDecision href="#ghost"/></informationRequirement>',
    )
    m = model(body)
    assert [p.code for p in m.problems] == ["dmn.reference.unknown"]
    assert m.problems[0].element_id == "d" and m.problems[0].line == 3
    with pytest.raises(DmnError) as info:
        m.validate()
    assert info.value.details["problems"][0]["element_id"] == "d"
    model(decision("d", lit("1"))).validate()


def test_function_types_coerce_bkm_and_service_results() -> None:
    import datetime as dt

    body = """
    <itemDefinition name="fNumbers"><functionItem outputTypeRef="tNumbers"/></itemDefinition>
    <itemDefinition name="fStamp"><functionItem outputTypeRef="date and time"/></itemDefinition>
    <itemDefinition name="tNumbers" isCollection="true"><typeRef>number</typeRef></itemDefinition>
    <businessKnowledgeModel id="b" name="one"><variable name="one" typeRef="fNumbers"/>
      <encapsulatedLogic><literalExpression><text>1</text></literalExpression></encapsulatedLogic>
    </businessKnowledgeModel>
    <decisionService id="s" name="stamp"><variable name="stamp" typeRef="fStamp"/>
      <outputDecision href="#day"/></decisionService>
    """ + decision("day", lit("date(2000, 1, 2)"), type_ref="date")
    m = model(body)
    assert m.invoke_bkm("one").value == [1]
    stamp = m.invoke_service("stamp").value
    assert stamp == dt.datetime(2000, 1, 2, tzinfo=dt.UTC)


def test_type_constraint_tests_the_collection_and_allowed_values_its_items() -> None:
    body = """
    <itemDefinition name="tPair" isCollection="true"><typeRef>number</typeRef>
      <typeConstraint><text>count(?) = 2</text></typeConstraint></itemDefinition>
    <itemDefinition name="tSmall" isCollection="true"><typeRef>number</typeRef>
      <allowedValues><text>&lt; 10</text></allowedValues></itemDefinition>
    <inputData id="p" name="p"><variable name="p" typeRef="tPair"/></inputData>
    <inputData id="s" name="s"><variable name="s" typeRef="tSmall"/></inputData>
    """ + decision(
        "d",
        lit("[p, s]"),
        reqs='<informationRequirement><requiredInput href="#p"/></informationRequirement>'
        '<informationRequirement><requiredInput href="#s"/></informationRequirement>',
    )
    m = model(body)
    assert m.decide("d", {"p": [1, 2], "s": [1, 9]}).value == [[1, 2], [1, 9]]
    assert m.decide("d", {"p": [1, 2, 3], "s": [1, 10]}).value == [None, None]


def test_type_references_resolve_in_every_spelling() -> None:
    body = """
    <itemDefinition name="tAge"><typeRef>feel:number</typeRef></itemDefinition>
    <inputData id="a" name="a"><variable name="a" typeRef="xsd:string"/></inputData>
    <inputData id="b" name="b"><variable name="b" typeRef="list&lt;number&gt;"/></inputData>
    <inputData id="c" name="c"><variable name="c" typeRef="my:tAge"/></inputData>
    <inputData id="e" name="e"><variable name="e" typeRef="dateTime"/></inputData>
    """ + decision(
        "d",
        lit("[a, b, c, e]"),
        reqs="".join(
            f'<informationRequirement><requiredInput href="#{x}"/></informationRequirement>'
            for x in "abce"
        ),
    )
    m = model(body)
    assert m.problems == []
    import datetime as dt

    day = dt.date(2024, 5, 1)
    res = m.decide("d", {"a": "x", "b": 3, "c": 4, "e": day})
    assert res.value == [
        "x",
        [3],
        4,
        dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    ]
    assert m.decide("d", {"a": 1, "b": ["x"], "c": "old", "e": "noon"}).value == [None] * 4


def test_unknown_types_are_problems() -> None:
    m = model(decision("d", lit("1"), type_ref="tNowhere"))
    assert [p.code for p in m.problems] == ["dmn.type.unknown"]
    assert m.decide("d").value == 1  # not checked


def test_other_expression_languages_are_refused_clearly() -> None:
    text = dmn(decision("d", lit("1 + 1"))).replace(
        'name="test"', 'name="test" expressionLanguage="http://www.python.org"'
    )
    m = DmnModel(parse_dmn(text))
    assert [p.code for p in m.problems] == ["dmn.unsupported"]
    assert "python" in m.problems[0].message
    res = m.decide("d")
    assert res.value is None and res.errors
