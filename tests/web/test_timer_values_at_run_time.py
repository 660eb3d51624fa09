"""A timer whose value is computed at run time and cannot be a deadline (a duration past year 9999, text that is no
duration) parks its instance as an incident naming the error, on start and on a completion that reaches it — never
a 500 (found outside-in: `'P99999999Y'` and `'P1DT' + 'x'*10` gave 500 on start)."""

from __future__ import annotations

import json

import pytest

from tests.web.test_api_processes import upload

FORM = json.dumps(
    {"type": "object", "additionalProperties": False, "properties": {"note": {"type": "string", "maxLength": 50}}}
).encode()


def _model(first: str) -> bytes:
    """start → (a user task first, or straight on) → a timer waiting `wait` from the data → end."""
    task = (
        '<bpmn:userTask id="look" name="Look"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="look.schema.json" />'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
        '<bpmn:sequenceFlow id="f0" sourceRef="look" targetRef="wait_it" />'
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://example.com">
  <bpmn:process id="timed_{first}" name="timed" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="service_manager">
      <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>look</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>wait_it</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="{"look" if first == "task" else "wait_it"}" />
    {task if first == "task" else ""}
    <bpmn:intermediateCatchEvent id="wait_it">
      <bpmn:timerEventDefinition><bpmn:timeDuration>wait</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_it" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.mark.parametrize("wait", ["P99999999Y", "PT1000000000000000000000H", "P1DTxxxxxxxxxx"])
def test_a_timer_value_that_is_no_deadline_parks_the_started_instance(api, wait):
    deployed = upload(api, {"timed_start.bpmn": _model("start")})
    assert deployed.status_code == 201, deployed.get_json()
    started = api("manager").post("/api/v1/process-definitions/timed_start/instances", json={"data": {"wait": wait}})
    assert started.status_code == 201, started.get_json()
    instance = api("manager").get(f"/api/v1/instances/{started.get_json()['instance']['id']}").get_json()
    assert instance["status"] == "error" and instance["error"]["message"]


def test_a_completion_that_reaches_such_a_timer_is_held_and_the_instance_parked(api):
    deployed = upload(api, {"timed_task.bpmn": _model("task"), "look.schema.json": FORM})
    assert deployed.status_code == 201, deployed.get_json()
    manager = api("manager")
    started = manager.post("/api/v1/process-definitions/timed_task/instances", json={"data": {"wait": "P99999999Y"}})
    assert started.status_code == 201, started.get_json()
    [task] = started.get_json()["next_tasks"]
    answer = manager.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"note": "ok"}})
    assert answer.status_code == 202, answer.get_json()
    assert "OverflowError" in answer.get_json()["held"]["message"]
