"""Fetch-and-lock hands out only the variables the worker asks for."""

from __future__ import annotations

from liucheng.engine import Engine

MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://t">
  <process id="ext" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
    <serviceTask id="work" camunda:type="external" camunda:topic="charge"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>
"""


def test_variables_filter_limits_what_the_worker_sees() -> None:
    engine = Engine()
    engine.deploy(("ext.bpmn", MODEL))
    engine.start_process("ext", {"amount": 12, "card": "4111", "note": "x"})
    engine.start_process("ext", {"amount": 7, "card": "5500"})
    (one,) = engine.fetch_and_lock("charge", "w1", variables=["amount", "missing"])
    assert one.variables == {"amount": 12}
    (two,) = engine.fetch_and_lock("charge", "w1")
    assert set(two.variables) == {"amount", "card"}
    assert engine.fetch_and_lock("charge", "w2") == []  # both locked
