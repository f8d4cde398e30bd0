from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.dmn import DMN_NAMESPACES, MAX_DMN_BYTES, parse_dmn
from liucheng.dmn.model import (
    Conditional,
    Context,
    DecisionTable,
    Filter,
    FunctionDefinition,
    Href,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
    Relation,
)
from liucheng.errors import DmnError, LiuchengError, XmlSecurityError

from ._util import dmn, table


@pytest.mark.parametrize("ns", list(DMN_NAMESPACES))
def test_every_dmn_namespace_parses(ns: str) -> None:
    defs = parse_dmn(dmn(table("FIRST", ["x"], ["o"], [(["1"], ['"a"'])], requires=("x",)), ns=ns))
    assert defs.dmn_version == DMN_NAMESPACES[ns]
    dt = defs.decisions[0].expression
    assert isinstance(dt, DecisionTable)
    assert dt.hit_policy == "FIRST"
    assert dt.rules[0].input_entries == ("1",)
    assert defs.decisions[0].requirements[0].href == Href(None, "x")


def test_drg_elements_and_item_definitions() -> None:
    body = """
    <import namespace="urn:other" name="other" importType="https://www.omg.org/spec/DMN/20230324/MODEL/"/>
    <itemDefinition name="tPerson">
      <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
      <itemComponent name="age"><typeRef>number</typeRef>
        <allowedValues><text>[0..150]</text></allowedValues></itemComponent>
    </itemDefinition>
    <itemDefinition name="tNames" isCollection="true"><typeRef>string</typeRef></itemDefinition>
    <itemDefinition name="tFn"><functionItem outputTypeRef="number">
      <parameters name="a" typeRef="number"/></functionItem></itemDefinition>
    <inputData id="p" name="Person"><variable name="Person" typeRef="tPerson"/></inputData>
    <businessKnowledgeModel id="bkm" name="greet">
      <variable name="greet"/>
      <encapsulatedLogic kind="FEEL">
        <formalParameter name="n" typeRef="string"/>
        <literalExpression><text>"hi " + n</text></literalExpression>
      </encapsulatedLogic>
    </businessKnowledgeModel>
    <decision id="d" name="Greeting">
      <variable name="Greeting" typeRef="string"/>
      <informationRequirement><requiredInput href="#p"/></informationRequirement>
      <knowledgeRequirement><requiredKnowledge href="#bkm"/></knowledgeRequirement>
      <authorityRequirement><requiredAuthority href="#ks"/></authorityRequirement>
      <literalExpression><text>greet(Person.name)</text></literalExpression>
    </decision>
    <decisionService id="ds" name="svc">
      <variable name="svc"/>
      <outputDecision href="#d"/>
      <inputData href="#p"/>
    </decisionService>
    """
    defs = parse_dmn(dmn(body))
    assert defs.imports[0].name == "other" and defs.imports[0].namespace == "urn:other"
    person = defs.item_definitions[0]
    assert [c.name for c in person.components] == ["name", "age"]
    assert person.components[1].allowed_values == "[0..150]"
    assert defs.item_definitions[1].is_collection
    fi = defs.item_definitions[2].function_item
    assert fi is not None and fi.output_type_ref == "number" and fi.parameters[0].name == "a"
    d = defs.element("Greeting")
    assert [r.kind for r in d.requirements] == ["input", "knowledge", "authority"]
    bkm = defs.bkms[0]
    assert bkm.logic is not None and bkm.logic.parameters[0].type_ref == "string"
    svc = defs.decision_services[0]
    assert svc.output_decisions == (Href(None, "d"),) and svc.input_data == (Href(None, "p"),)


def test_boxed_expressions_parse() -> None:
    body = """
    <decision id="d" name="d"><variable name="d"/>
      <context>
        <contextEntry><variable name="rel"/>
          <relation><column name="a"/><column name="b"/>
            <row><literalExpression><text>1</text></literalExpression>
                 <literalExpression><text>2</text></literalExpression></row></relation>
        </contextEntry>
        <contextEntry><variable name="lst"/>
          <list><literalExpression><text>1</text></literalExpression></list></contextEntry>
        <contextEntry><variable name="f"/>
          <functionDefinition><formalParameter name="x"/>
            <literalExpression><text>x</text></literalExpression></functionDefinition></contextEntry>
        <contextEntry><variable name="call"/>
          <invocation><literalExpression><text>f</text></literalExpression>
            <binding><parameter name="x"/><literalExpression><text>3</text></literalExpression></binding>
          </invocation></contextEntry>
        <contextEntry><variable name="cond"/>
          <conditional><if><literalExpression><text>true</text></literalExpression></if>
            <then><literalExpression><text>1</text></literalExpression></then>
            <else><literalExpression><text>2</text></literalExpression></else></conditional>
        </contextEntry>
        <contextEntry><variable name="loop"/>
          <for iteratorVariable="i"><in><literalExpression><text>[1,2]</text></literalExpression></in>
            <return><literalExpression><text>i</text></literalExpression></return></for></contextEntry>
        <contextEntry><variable name="flt"/>
          <filter><in><literalExpression><text>[1,2]</text></literalExpression></in>
            <match><literalExpression><text>item > 1</text></literalExpression></match></filter>
        </contextEntry>
        <contextEntry><literalExpression><text>call</text></literalExpression></contextEntry>
      </context>
    </decision>"""
    ctx = parse_dmn(dmn(body)).decisions[0].expression
    assert isinstance(ctx, Context)
    kinds = [type(e.value) for e in ctx.entries]
    assert kinds == [
        Relation,
        ListExpression,
        FunctionDefinition,
        Invocation,
        Conditional,
        Iterator,
        Filter,
        LiteralExpression,
    ]
    assert ctx.entries[-1].variable is None
    rel = ctx.entries[0].value
    assert isinstance(rel, Relation) and [c.name for c in rel.columns] == ["a", "b"]
    it = ctx.entries[5].value
    assert isinstance(it, Iterator) and it.kind == "for" and it.variable == "i"


def test_malformed_xml_names_file_and_line() -> None:
    text = dmn('<decision id="d" name="d">\n<variable name="d"/>\n</decisionx>')
    with pytest.raises(DmnError) as info:
        parse_dmn(text, file="bad.dmn")
    err = info.value
    assert err.code == "dmn.xml.malformed"
    assert err.file == "bad.dmn"
    assert err.line == 5


def test_rule_with_wrong_entry_count_names_line_and_id() -> None:
    body = table("UNIQUE", ["x"], ["o"], [(["1"], ['"a"'])], requires=("x",))
    body = body.replace("<inputEntry><text>1</text></inputEntry>", "")
    text = dmn(body.replace("<rule ", "\n<rule "))
    with pytest.raises(DmnError) as info:
        parse_dmn(text, file="t.dmn")
    assert info.value.element_id == "r1"
    assert info.value.line == 4
    assert info.value.hint


def test_unknown_hit_policy_and_aggregation_are_refused() -> None:
    with pytest.raises(DmnError, match="hit policy"):
        parse_dmn(dmn(table("SOMETIMES", ["x"], ["o"], [], requires=("x",))))
    with pytest.raises(DmnError, match="aggregation"):
        parse_dmn(dmn(table("COLLECT", ["x"], ["o"], [], aggregation="AVG", requires=("x",))))


def test_hit_policy_letters_are_accepted() -> None:
    defs = parse_dmn(dmn(table("C", ["x"], ["o"], [], requires=("x",))))
    dt = defs.decisions[0].expression
    assert isinstance(dt, DecisionTable) and dt.hit_policy == "COLLECT"


def test_not_dmn_is_refused() -> None:
    with pytest.raises(DmnError) as info:
        parse_dmn('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')
    assert info.value.code == "dmn.xml.namespace"


def test_duplicate_ids_are_refused() -> None:
    body = '<inputData id="a" name="a"/>\n<inputData id="a" name="b"/>'
    with pytest.raises(DmnError) as info:
        parse_dmn(dmn(body))
    assert info.value.code == "dmn.xml.duplicate_id" and info.value.line == 4


def test_dtd_and_entities_are_refused() -> None:
    text = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]>'
        + dmn("<inputData id='a' name='&x;'/>").split("?>", 1)[1]
    )
    with pytest.raises(XmlSecurityError):
        parse_dmn(text)


def test_oversize_documents_are_refused() -> None:
    with pytest.raises(LiuchengError):
        parse_dmn(b" " * (MAX_DMN_BYTES + 1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_garbage_raises_only_our_errors(data: bytes | str) -> None:
    with contextlib.suppress(LiuchengError):
        parse_dmn(data)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="<>/=\"' abcdeinprtuvx", max_size=80))
def test_mangled_dmn_raises_only_our_errors(junk: str) -> None:
    text = dmn(f'<decision id="d" name="d">{junk}</decision>')
    try:
        defs = parse_dmn(text)
    except LiuchengError:
        return
    assert defs.namespace == "urn:test"
