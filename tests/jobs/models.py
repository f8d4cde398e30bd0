"""Small BPMN models for the job executor tests."""

from __future__ import annotations

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'targetNamespace="http://liucheng.test">\n'
)

TIMER = (
    _HEAD
    + """
  <process id="timer" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <intermediateCatchEvent id="wait">
      <timerEventDefinition><timeDuration>PT5M</timeDuration></timerEventDefinition>
    </intermediateCatchEvent>
    <sequenceFlow id="f2" sourceRef="wait" targetRef="count"/>
    <scriptTask id="count" scriptFormat="feel" camunda:resultVariable="n">
      <script>n + 1</script>
    </scriptTask>
    <sequenceFlow id="f3" sourceRef="count" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""
)

ASYNC = (
    _HEAD
    + """
  <process id="async" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="step1"/>
    <scriptTask id="step1" scriptFormat="feel" camunda:resultVariable="n" camunda:asyncBefore="true">
      <script>n + 1</script>
    </scriptTask>
    <sequenceFlow id="f2" sourceRef="step1" targetRef="step2"/>
    <scriptTask id="step2" scriptFormat="feel" camunda:resultVariable="n" camunda:asyncBefore="true">
      <script>n + 1</script>
    </scriptTask>
    <sequenceFlow id="f3" sourceRef="step2" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""
)

FLAKY = (
    _HEAD
    + """
  <process id="flaky" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <serviceTask id="call" camunda:class="flaky" camunda:asyncBefore="true"/>
    <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""
)

# A failing service task with its own retry policy: 2 tries, one minute apart.
FLAKY_RETRY = (
    _HEAD
    + """
  <process id="flaky_retry" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <serviceTask id="call" camunda:class="flaky" camunda:asyncBefore="true">
      <extensionElements>
        <camunda:failedJobRetryTimeCycle>R2/PT1M</camunda:failedJobRetryTimeCycle>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""
)

# An external task on topic "charge".
EXTERNAL = (
    _HEAD
    + """
  <process id="ext" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <serviceTask id="work" camunda:type="external" camunda:topic="charge"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>
"""
)
