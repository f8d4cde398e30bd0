"""Small hand-written BPMN documents used by the model tests."""

from __future__ import annotations

RICH = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:cam="http://camunda.org/schema/1.0/bpmn"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
    id="Defs" targetNamespace="http://example.org" exporter="Camunda Modeler" exporterVersion="5.0">
  <bpmn:message id="Msg_Request" name="request" />
  <bpmn:signal id="Sig_Stop" name="stop" />
  <bpmn:error id="Err_Fail" name="fail" errorCode="E42" />
  <bpmn:escalation id="Esc_Late" name="late" escalationCode="LATE" />
  <bpmn:collaboration id="Collab">
    <bpmn:participant id="Pool" name="Desk" processRef="P" />
  </bpmn:collaboration>
  <bpmn:process id="P" name="Rich process" isExecutable="true">
    <bpmn:documentation>What it does.</bpmn:documentation>
    <bpmn:laneSet id="LS">
      <bpmn:lane id="Lane_A" name="Agents">
        <bpmn:flowNodeRef>Start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_A</bpmn:flowNodeRef>
        <bpmn:childLaneSet id="LS_child">
          <bpmn:lane id="Lane_A1" name="Juniors">
            <bpmn:flowNodeRef>Gw</bpmn:flowNodeRef>
          </bpmn:lane>
        </bpmn:childLaneSet>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start" name="Request in">
      <bpmn:outgoing>F1</bpmn:outgoing>
      <bpmn:messageEventDefinition id="MED" messageRef="Msg_Request" />
    </bpmn:startEvent>
    <bpmn:userTask id="Task_A" name="Handle" cam:assignee="=owner" cam:candidateGroups="agents"
        cam:asyncBefore="true">
      <bpmn:extensionElements>
        <cam:inputOutput>
          <cam:inputParameter name="x">=1 + 1</cam:inputParameter>
        </cam:inputOutput>
        <zeebe:taskDefinition type="handle" retries="3" />
      </bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="true" cam:collection="=items"
          cam:elementVariable="item">
        <bpmn:loopCardinality>=3</bpmn:loopCardinality>
        <bpmn:completionCondition xsi:type="bpmn:tFormalExpression">=done</bpmn:completionCondition>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Timer" attachedToRef="Task_A" cancelActivity="false">
      <bpmn:outgoing>F5</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TED">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="Gw" name="OK?" default="F4">
      <bpmn:incoming>F2</bpmn:incoming>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="Gw" />
    <bpmn:sequenceFlow id="F3" name="yes" sourceRef="Gw" targetRef="End">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="feel">=ok</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F4" sourceRef="Gw" targetRef="Sub" />
    <bpmn:sequenceFlow id="F5" sourceRef="Timer" targetRef="Escalate" />
    <bpmn:sendTask id="Escalate" name="Escalate" messageRef="Msg_Request" />
    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="SubStart" />
      <bpmn:scriptTask id="Script" scriptFormat="feel" cam:resultVariable="r">
        <bpmn:script>{ a: 1 }</bpmn:script>
      </bpmn:scriptTask>
      <bpmn:endEvent id="SubEnd">
        <bpmn:errorEventDefinition errorRef="Err_Fail" />
      </bpmn:endEvent>
      <bpmn:sequenceFlow id="S1" sourceRef="SubStart" targetRef="Script" />
      <bpmn:sequenceFlow id="S2" sourceRef="Script" targetRef="SubEnd" />
      <bpmn:subProcess id="EvSub" triggeredByEvent="true">
        <bpmn:startEvent id="EvStart" isInterrupting="false">
          <bpmn:signalEventDefinition signalRef="Sig_Stop" />
        </bpmn:startEvent>
        <bpmn:endEvent id="EvEnd">
          <bpmn:escalationEventDefinition escalationRef="Esc_Late" />
        </bpmn:endEvent>
        <bpmn:sequenceFlow id="E1" sourceRef="EvStart" targetRef="EvEnd" />
      </bpmn:subProcess>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="Caught" attachedToRef="Sub">
      <bpmn:errorEventDefinition errorRef="Err_Fail" />
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="F6" sourceRef="Sub" targetRef="End" />
    <bpmn:sequenceFlow id="F7" sourceRef="Caught" targetRef="End" />
    <bpmn:endEvent id="End">
      <bpmn:terminateEventDefinition />
    </bpmn:endEvent>
    <bpmn:endEvent id="EscEnd" />
    <bpmn:sequenceFlow id="F8" sourceRef="Escalate" targetRef="EscEnd" />
    <bpmn:textAnnotation id="Note"><bpmn:text>Check SLA</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="Assoc" sourceRef="Task_A" targetRef="Note" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram">
    <bpmndi:BPMNPlane id="Plane" bpmnElement="Collab">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start">
        <dc:Bounds x="100" y="100" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="90" y="140" width="57" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_A_di" bpmnElement="Task_A">
        <dc:Bounds x="200" y="78" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Sub_di" bpmnElement="Sub" isExpanded="true">
        <dc:Bounds x="400" y="50" width="350" height="200.5" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="F1_di" bpmnElement="F1">
        <di:waypoint x="136" y="118" />
        <di:waypoint x="200" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
