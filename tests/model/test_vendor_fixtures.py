"""BPMN as other modelling tools write it: every quirk loads, validates and round-trips.

The files under ``fixtures/`` are small hand-written documents, each reproducing the habits of
one tool (named in the file name): namespace prefixes, vendor extensions, DI variants, CDATA,
root-level event definitions, choreographies kept as generic XML...
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from liucheng.errors import LiuchengError, ModelError
from liucheng.model import (
    BoundaryEvent,
    BPMNShape,
    DataObjectReference,
    Definitions,
    Process,
    ScriptTask,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    UserTask,
    parse_bpmn,
    validate,
    write_bpmn,
)
from tests.model.xmlcompare import differences, load

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(FIXTURES.glob("*.bpmn"))

# Problems these files contain on purpose (a reference to an undeclared message, compensation
# of a start event); everything else must validate without errors.
EXPECTED_ERRORS = {
    "oryx_trisotech_foreign_attrs.bpmn": {"bpmn.ref.message", "bpmn.ref.activity"},
    "bpmnjs_dangling_and_misplaced.bpmn": {
        "bpmn.id.duplicate",
        "bpmn.message_flow.dangling",
        "bpmn.flow.dangling",
        "bpmn.boundary.dangling",
        "bpmn.boundary.not_activity",
    },
}


def _load(name: str) -> Definitions:
    return parse_bpmn(FIXTURES / name)


def _without_prefixes(defs: Definitions) -> Definitions:
    # The writer may add prefixes (bpmndi, dc...) or rename a default namespace; the elements
    # must be the same.
    return replace(defs, namespaces=())


def test_there_are_vendor_fixtures() -> None:
    assert len(FILES) >= 12


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture_roundtrips_semantically(path: Path) -> None:
    before = path.read_bytes()
    defs = parse_bpmn(before, filename=path.name)
    after = write_bpmn(defs)
    assert differences(before, after) == []
    again = parse_bpmn(after)
    assert _without_prefixes(again) == _without_prefixes(defs)
    # and the written file is stable
    assert differences(after, write_bpmn(again)) == []


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture_validates_without_unexpected_errors(path: Path) -> None:
    problems = validate(parse_bpmn(path))
    codes = {p.code for p in problems if p.severity == "error"}
    assert codes == EXPECTED_ERRORS.get(path.name, set())
    for problem in problems:
        assert problem.file == str(path)


def test_bizagi_nested_namespace_declarations_and_default_di_namespace() -> None:
    defs = _load("bizagi_default_ns_nested_xmlns.bpmn")
    start = defs.element("S", StartEvent)
    props = start.extension("{http://vendor.example/bizagi-like}Props")
    assert props is not None
    assert [p.get("name") for p in props.findall("{http://vendor.example/bizagi-like}Prop")] == [
        "bgColor",
        "flag",
    ]
    shape = defs.shape("Pa")
    assert shape is not None and shape.is_horizontal is True
    assert shape.label is not None and shape.label.label_style == "Style1"
    assert defs.diagrams[0].label_styles[0].font is not None
    assert defs.diagrams[0].label_styles[0].font.is_bold is True
    # DI elements written under a default namespace are still DI elements
    assert defs.edge("F1") is not None and len(defs.edge("F1").waypoints) == 2  # type: ignore[union-attr]


def test_di_prefix_bound_to_the_bpmndi_namespace() -> None:
    defs = _load("prefix_collision_di_bound_to_bpmndi.bpmn")
    edge = defs.edge("F")
    assert edge is not None and [(p.x, p.y) for p in edge.waypoints] == [(388, 260), (420, 260)]
    shape = defs.shape("Sub")
    assert isinstance(shape, BPMNShape) and shape.is_expanded is True


def test_bpmn_namespace_under_any_prefix() -> None:
    defs = _load("local_namespace_redefinition.bpmn")
    assert isinstance(defs.get("UT"), UserTask)
    assert isinstance(defs.get("DOR"), DataObjectReference)
    # a plane without an id still loads and is written back without one
    assert defs.diagrams[0].plane is not None and defs.diagrams[0].plane.id is None


def test_unqualified_extension_elements_stay_unqualified() -> None:
    defs = _load("extension_default_namespace_and_unqualified.bpmn")
    out = load(write_bpmn(defs))
    tags = {el.tag for el in out.iter() if isinstance(el.tag, str)}
    assert "Entry" in tags  # from xmlns="" in P2
    assert "{http://default.example}Entry" in tags  # from the root's default namespace


def test_camunda7_extensions_and_colors() -> None:
    defs = _load("camunda7_extensions_colors.bpmn")
    task = defs.element("Call", ServiceTask)
    assert task.attr("camunda", "asyncBefore") == "true"
    connector = task.extension("camunda:connector")
    assert connector is not None
    script = connector.find("camunda:inputOutput").find("camunda:outputParameter")  # type: ignore[union-attr]
    assert script is not None
    assert script.find("camunda:script").text == 'response.length > 0 && "ok"'  # type: ignore[union-attr]
    assert defs.attr("modeler", "executionPlatform") == "Camunda Platform"
    shape = defs.shape("Start")
    assert shape is not None and shape.attr("bioc", "fill") == "#c8e6c9"
    assert shape.attr("color", "background-color") == "#c8e6c9"
    boundary = defs.element("Timer", BoundaryEvent)
    assert boundary.cancel_activity is False


def test_zeebe_collapsed_subprocess_has_its_own_plane() -> None:
    defs = _load("zeebe8_collapsed_subprocess_planes.bpmn")
    planes = [d.plane.bpmn_element for d in defs.diagrams if d.plane is not None]
    assert planes == ["Zp", "Collapsed"]
    assert defs.shape("Inner_s") is not None
    job = defs.element("Job", ServiceTask)
    definition = job.extension("zeebe:taskDefinition")
    assert definition is not None and definition.get("type") == '= "worker-" + kind'
    flow = defs.element("Zf4", SequenceFlow)
    assert flow.condition_expression is not None and flow.condition_expression.feel == "x > 3"


def test_signavio_metadata_and_empty_condition() -> None:
    defs = _load("signavio_metadata.bpmn")
    task = defs.get("sid-t")
    assert task is not None and getattr(task, "name", None) == "Check\norder"
    meta = task.extensions("signavio:signavioMetaData")
    assert [m.get("metaKey") for m in meta] == ["bgcolor", "risikenundkontrollen"]
    empty = defs.element("sid-f4", SequenceFlow).condition_expression
    assert empty is not None and empty.text == ""


def test_jbpm_assignments_scripts_and_relationship() -> None:
    defs = _load("jbpm_drools_itemdefs_assignments.bpmn")
    task = defs.element("_task", UserTask)
    assignment = task.data_input_associations[1].assignments[0]
    assert assignment.from_ is not None and assignment.from_.text == "Task"
    script = defs.element("_script", ScriptTask)
    assert script.script is not None and 'log.info("a & b");' in script.script
    process = defs.process("demo.hello")
    assert process.attr("{http://www.jboss.org/drools}packageName") == "com.example"
    assert [n.local for n in defs.relationships] == ["relationship"]


def test_activiti_multi_instance_and_cdata_conditions() -> None:
    defs = _load("activiti_flowable_listeners.bpmn")
    flow = defs.element("f3", SequenceFlow)
    assert flow.condition_expression is not None and flow.condition_expression.text == (
        "${approved}"
    )
    mail = defs.element("mail", ServiceTask)
    assert mail.loop_characteristics is not None
    assert mail.attr("activiti", "type") == "mail"


def test_yaoqiang_root_event_definition_and_cdata_docs() -> None:
    defs = _load("yaoqiang_root_event_definitions_cdata_docs.bpmn")
    event = defs.element("ID_BE", BoundaryEvent)
    assert event.event_definition_refs == ("ID_Timeout",)
    timer = defs.event_definition("ID_Timeout")
    assert timer is not None
    doc = defs.element("ID_S", StartEvent).documentation[0]
    assert doc.text_format == "text/html" and doc.text.strip() == "<p>Manual start</p>"


def test_data_states_and_spiff_extensions() -> None:
    defs = _load("spiffworkflow_extensions.bpmn")
    ref = defs.element("dor", DataObjectReference)
    assert ref.data_state is not None and ref.data_state.name == "approved"
    script = defs.element("st", ScriptTask)
    assert script.script is not None and "i < 2" in script.script
    assert script.extension("{http://spiffworkflow.org/bpmn/schema/1.0/core}preScript") is not None


def test_choreographies_and_conversations_are_kept_as_generic_xml() -> None:
    defs = _load("choreography_conversation_generic.bpmn")
    kept = {node.local for node in defs.extra_children}
    assert {"choreography", "interface", "correlationProperty", "globalUserTask"} <= kept
    collab = defs.collaborations[0]
    assert {n.local for n in collab.extra_children} >= {"conversation", "conversationLink"}
    assert defs.process("Proc_A").id == "Proc_A"
    # shapes of choreography tasks and conversations point at elements kept as XML
    assert [p for p in validate(defs) if p.code == "bpmn.di.dangling"] == []
    stale = validate(_load("bpmnjs_dangling_and_misplaced.bpmn"))
    assert [p.element_id for p in stale if p.code == "bpmn.di.dangling"] == ["Ghost_di"]
    # a text annotation listed in a lane is only a warning
    assert [(p.element_id, p.severity) for p in stale if p.code.startswith("bpmn.lane")] == [
        ("Lane", "warning")
    ]


def test_enterprise_architect_quirks() -> None:
    defs = _load("enterprise_architect_visual_paradigm_misc.bpmn")
    process = defs.process("EAID_P")
    # "True" is read as true and written back as spelled
    assert process.executable is True
    out = load(write_bpmn(defs))
    written = next(e for e in out.iter("{*}process"))
    assert written.get("isExecutable") == "True"
    assert [lane.id for lane in process.lanes] == ["EAID_L1", "EAID_L2", "EAID_L3"]
    assert process.documentation[0].text_format == "text/rtf"
    shape = defs.shape("EAID_CG")
    assert shape is not None and shape.bounds is not None and shape.bounds.x == 250


def test_spelling_is_dropped_once_the_value_changes() -> None:
    defs = _load("enterprise_architect_visual_paradigm_misc.bpmn")
    process = defs.process("EAID_P")
    changed = replace(process, is_executable=False)
    roots = tuple(changed if r.id == "EAID_P" else r for r in defs.root_elements)
    out = load(write_bpmn(replace(defs, root_elements=roots)))
    assert next(e for e in out.iter("{*}process")).get("isExecutable") == "false"


# --- encodings, prologs and files that must be refused clearly ---------------------------------

_DOC = """<?xml version="1.0" encoding="{enc}"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <process id="P" name="{name}" isExecutable="true"><startEvent id="S" name="Größe"/></process>
</definitions>"""


@pytest.mark.parametrize(
    ("label", "data", "name"),
    [
        ("utf8", _DOC.format(enc="UTF-8", name="流程 ☃").encode(), "流程 ☃"),
        ("utf8-bom", b"\xef\xbb\xbf" + _DOC.format(enc="UTF-8", name="流程").encode(), "流程"),
        ("utf16", _DOC.format(enc="UTF-16", name="流程").encode("utf-16"), "流程"),
        ("utf16le", _DOC.format(enc="UTF-16LE", name="流程").encode("utf-16-le"), "流程"),
        ("latin1", _DOC.format(enc="ISO-8859-1", name="Prüfung").encode("latin-1"), "Prüfung"),
        ("cp1252", _DOC.format(enc="windows-1252", name="€uro").encode("cp1252"), "€uro"),
        ("blank-before-decl", b"\r\n\n  " + _DOC.format(enc="UTF-8", name="n").encode(), "n"),
    ],
)
def test_encodings_load(label: str, data: bytes, name: str) -> None:
    defs = parse_bpmn(data, filename=label)
    assert defs.process("P").name == name
    assert defs.element("S", StartEvent).name == "Größe"
    assert parse_bpmn(write_bpmn(defs)).process("P").name == name


def test_text_with_encoding_declaration_and_bom() -> None:
    text = "\ufeff" + _DOC.format(enc="UTF-16", name="流程")
    assert parse_bpmn(text).process("P").name == "流程"


def test_blank_lines_before_declaration_keep_line_numbers() -> None:
    data = b"\n\n" + _DOC.format(enc="UTF-8", name="n").encode()
    assert parse_bpmn(data).element("S", StartEvent).line == 5


@pytest.mark.parametrize(
    ("label", "data", "code"),
    [
        ("bad-bytes", _DOC.format(enc="UTF-8", name="Prüfung").encode("latin-1"), "malformed"),
        ("unknown-encoding", _DOC.format(enc="x-unknown", name="n").encode(), "malformed"),
        ("no-namespace", b'<definitions id="D"><process id="P"/></definitions>', "root"),
        (
            "bpmn-beta-namespace",
            b'<definitions xmlns="http://schema.omg.org/spec/BPMN/2.0" id="D"/>',
            "root",
        ),
        ("xpdl", b'<Package xmlns="http://www.wfmc.org/2009/XPDL2.2"/>', "root"),
        ("bom-only", b"\xef\xbb\xbf", "malformed"),
        (
            "too-deep",
            b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            + b"<process>" * 300
            + b"</process>" * 300
            + b"</definitions>",
            "malformed",
        ),
        ("duplicate-attribute", b'<definitions xmlns="urn:x" id="a" id="b"/>', "malformed"),
    ],
)
def test_refused_with_a_clear_error(label: str, data: bytes, code: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_bpmn(data, filename=f"{label}.bpmn")
    err = info.value
    assert err.code.endswith(code)
    assert err.file == f"{label}.bpmn"
    assert err.line is not None
    assert err.hint


def test_deep_but_legal_nesting_loads() -> None:
    depth = 120
    body = "".join(f'<subProcess id="s{i}">' for i in range(depth)) + "</subProcess>" * depth
    data = (
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
        f'<process id="P">{body}</process></definitions>'
    ).encode()
    defs = parse_bpmn(data)
    assert defs.container(f"s{depth - 1}") is not None
    validate(defs)
    assert differences(data, write_bpmn(defs)) == []


def test_comments_and_processing_instructions_inside_text() -> None:
    data = (
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
        b'<process id="P"><sequenceFlow id="F" sourceRef="a" targetRef="b">'
        b"<conditionExpression>x <!-- why --> &gt; 1<?pi ignored?> and y</conditionExpression>"
        b"</sequenceFlow></process></definitions>"
    )
    flow = parse_bpmn(data).element("F", SequenceFlow)
    assert flow.condition_expression is not None
    assert flow.condition_expression.text == "x  > 1 and y"


def test_garbage_text_between_elements_is_tolerated() -> None:
    data = (
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">junk'
        b'<process id="P">more<startEvent id="S">x<outgoing>F</outgoing>y</startEvent>z'
        b"</process>tail</definitions>"
    )
    try:
        defs = parse_bpmn(data)
    except LiuchengError:  # pragma: no cover - refusing is allowed, crashing is not
        return
    assert isinstance(defs.get("P"), Process)
    validate(defs)
    parse_bpmn(write_bpmn(defs))


def test_undeclared_prefixes_are_declared() -> None:
    # Hand edits and some exporters use xsi:type or camunda:... without declaring the prefix.
    data = (
        b'<?xml version="1.0"?>\n<!-- <not the root> -->\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">\n'
        b'<bpmn:process id="P" camunda:versionTag="3" acme:flag="y">\n'
        b'<bpmn:sequenceFlow id="F" sourceRef="a" targetRef="b">\n'
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">x</bpmn:conditionExpression>'
        b"\n</bpmn:sequenceFlow></bpmn:process></bpmn:definitions>"
    )
    defs = parse_bpmn(data)
    process = defs.process("P")
    assert process.attr("camunda", "versionTag") == "3"
    assert process.attr("{urn:liucheng:undeclared:acme}flag") == "y"
    flow = defs.element("F", SequenceFlow)
    assert flow.line == 5
    assert flow.condition_expression is not None
    assert flow.condition_expression.attr("xsi", "type") == "bpmn:tFormalExpression"
    again = parse_bpmn(write_bpmn(defs))
    assert _without_prefixes(again) == _without_prefixes(defs)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # an undeclared prefix before a real syntax error: the syntax error is reported
        (b'<d xmlns="urn:x"><p y:a="1"><a></p></d>', "Opening and ending tag mismatch"),
        # declaring the prefix must not hide a duplicate attribute
        (b'<d xmlns="urn:x"><p y:a="1" y:a="2"/></d>', "redefined"),
        (b'<d xmlns="urn:x" xmlns:x="not a uri"><p x:a="1"/></d>', "not a valid URI"),
    ],
)
def test_namespace_repair_does_not_hide_real_errors(data: bytes, expected: str) -> None:
    with pytest.raises(ModelError, match=expected) as info:
        parse_bpmn(data)
    assert info.value.code == "bpmn.xml.malformed"


def test_rich_text_and_attributes_on_text_elements_roundtrip() -> None:
    data = (
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xmlns:h="http://www.w3.org/1999/xhtml" id="D"><process id="P">'
        b'<textAnnotation id="TA"><text>Call <h:b>before</h:b> noon</text></textAnnotation>'
        b'<scriptTask id="S"><script xsi:type="tFormalExpression">x + 1</script></scriptTask>'
        b'<task id="T"><extensionElements id="ext1">loose<x xmlns="urn:x"/></extensionElements>'
        b"</task></process></definitions>"
    )
    defs = parse_bpmn(data)
    note = defs.get("TA")
    assert note is not None and getattr(note, "text", None) == "Call before noon"
    assert defs.element("S", ScriptTask).script == "x + 1"
    task = defs.get("T")
    assert task is not None and task.extension("{urn:x}x") is not None
    out = write_bpmn(defs)
    assert differences(data, out) == []
    assert _without_prefixes(parse_bpmn(out)) == _without_prefixes(defs)
    # a script changed in code is written with the new text
    script = replace(defs.element("S", ScriptTask), script="y", extra_children=())
    process = defs.process("P")
    elements = tuple(script if e.id == "S" else e for e in process.flow_elements)
    changed = replace(defs, root_elements=(replace(process, flow_elements=elements),))
    assert parse_bpmn(write_bpmn(changed)).element("S", ScriptTask).script == "y"


def test_undeclared_prefix_that_libxml2_only_logs_is_declared() -> None:
    # A later warning (relative namespace URI) makes lxml keep "p:x" as a plain attribute name
    # instead of failing; such a name could not be written back.
    data = (
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">'
        b'<process id="P"><sequenceFlow id="F" p:x="1"/></process><x xmlns="rel/ns"/>'
        b"</definitions>"
    )
    defs = parse_bpmn(data)
    flow = defs.element("F", SequenceFlow)
    assert flow.foreign_attrs == (("{urn:liucheng:undeclared:p}x", "1"),)
    assert parse_bpmn(write_bpmn(defs)).element("F", SequenceFlow) == flow


def test_namespace_uri_that_cannot_be_written_is_refused() -> None:
    data = (
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">\n'
        b'<process id="P"><extensionElements><a xmlns="urn:a]]>b"/></extensionElements>'
        b'</process><x xmlns="rel/ns"/></definitions>'
    )
    with pytest.raises(ModelError) as info:
        parse_bpmn(data, filename="odd.bpmn")
    assert info.value.code == "bpmn.xml.namespace"
    assert (info.value.file, info.value.line) == ("odd.bpmn", 2)
