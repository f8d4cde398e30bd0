"""BPMN heat map: activities matched to model nodes by name, coloured by waiting time."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from liucheng.analytics import bpmn_heatmap, bpmn_heatmap_svg, html_report
from liucheng.errors import ValidationError
from liucheng.history import read_log
from tests.history._pm4py import log_path

SVG = "{http://www.w3.org/2000/svg}"

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="http://x">
  <process id="p" isExecutable="true">
    <startEvent id="s"/>
    <task id="t1" name="register request"/>
    <task id="t2" name="Decide"/>
    <task id="t3" name="not in the log"/>
    <exclusiveGateway id="g"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
    <sequenceFlow id="f2" sourceRef="t1" targetRef="t2"/>
  </process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="t1_di" bpmnElement="t1"><dc:Bounds x="180" y="78" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="t2_di" bpmnElement="t2"><dc:Bounds x="330" y="78" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="t3_di" bpmnElement="t3"><dc:Bounds x="480" y="78" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="g_di" bpmnElement="g"><dc:Bounds x="630" y="93" width="50" height="50"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="180" y="118"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="280" y="118"/><di:waypoint x="330" y="118"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    p = tmp_path / "m.bpmn"
    p.write_text(MODEL)
    return p


def test_nodes_matched_by_name(model: Path) -> None:
    log = read_log(log_path("running-example.xes"))
    table = {r["element_id"]: r for r in bpmn_heatmap(model, log).iter_rows(named=True)}
    assert table["t1"]["activity"] == "register request" and table["t1"]["instances"] == 6
    # "Decide" matches "decide" case-insensitively; it occurs 9 times in the running example.
    assert table["t2"]["activity"] == "decide" and table["t2"]["instances"] == 9
    assert table["t3"]["activity"] is None and table["t3"]["instances"] == 0


def test_svg_colours_the_slowest_node_darkest(model: Path) -> None:
    log = read_log(log_path("running-example.xes"))
    root = etree.fromstring(bpmn_heatmap_svg(model, log).encode())
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 3
    fills = [r.get("fill") for r in rects]
    # register request never waits (white); decide waits longest (full heat); t3 unmatched.
    assert fills == ["#ffffff", "#d7301f", "#ffffff"]
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}polygon"))) == 1


def test_errors(model: Path, tmp_path: Path) -> None:
    log = read_log(log_path("running-example.xes"))
    with pytest.raises(ValidationError, match="metric"):
        bpmn_heatmap_svg(model, log, metric="colour")
    bare = tmp_path / "bare.bpmn"
    bare.write_text(MODEL.split("<bpmndi:BPMNDiagram", maxsplit=1)[0] + "</definitions>\n")
    with pytest.raises(ValidationError, match="no diagram"):
        bpmn_heatmap_svg(bare, log)


def test_report_includes_the_heat_map(model: Path) -> None:
    page = html_report(read_log(log_path("running-example.xes")), model=model)
    assert "mean waiting time per step" in page and "n=9, wait" in page
