"""Designer form patterns cannot slow a submission down (issue 8, form-pattern finding)."""

from __future__ import annotations

import time

import pytest

from engine.bpmn.lint import lint_bundle
from engine.errors import InvalidInputError
from engine.platform.forms import MAX_PATTERN_INPUT
from engine.platform.forms import TaskForm
from engine.platform.forms import validate_form_data
from engine.records.user import ROLE_KEYS

CATASTROPHIC = "^(a+)+$"  # exponential on Python's backtracking `re`: 1.5 s at 24 characters, 4x per two more


def form(schema_properties: dict, **extra: object) -> TaskForm:
    return TaskForm(schema={"type": "object", "properties": schema_properties, **extra}, ui_schema={})


def timed_validate(task_form: TaskForm, data: dict) -> tuple[dict[str, str], float]:
    started = time.perf_counter()
    try:
        validate_form_data(task_form, data)
        fields: dict[str, str] = {}
    except InvalidInputError as exc:
        fields = exc.fields
    return fields, time.perf_counter() - started


def test_a_catastrophic_pattern_validates_5000_characters_in_milliseconds():
    task_form = form({"code": {"type": "string", "pattern": CATASTROPHIC}})
    worst = 0.0
    for text in ("a" * 24 + "!", "a" * 4999 + "!", "a" * 5000):
        fields, seconds = timed_validate(task_form, {"code": text})
        worst = max(worst, seconds)
        assert ("code" in fields) == text.endswith("!")
    print(f"SECURITY F1 pattern={CATASTROPHIC!r} input_chars=5000 max_validate_ms={worst * 1000:.1f}")
    assert worst < 0.05


def test_pattern_properties_and_additional_properties_run_on_re2_too():
    task_form = form({}, patternProperties={"^(x+)+$": {"type": "integer"}}, additionalProperties=False)
    fields, seconds = timed_validate(task_form, {"x" * 5000: 1, "x" * 30 + "!": 2})
    assert list(fields) == ["x" * 30 + "!"] and seconds < 0.05
    fields, _ = timed_validate(task_form, {"xx": "not a number"})
    assert list(fields) == ["xx"]


def test_text_longer_than_the_cap_fails_the_pattern_without_matching():
    task_form = form({"code": {"type": "string", "pattern": "^a*$"}})
    assert timed_validate(task_form, {"code": "a" * MAX_PATTERN_INPUT})[0] == {}
    fields, _ = timed_validate(task_form, {"code": "a" * (MAX_PATTERN_INPUT + 1)})
    assert "too long" in fields["code"]


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"properties": {"a": {"type": "string", "pattern": "(a)\\1"}}}, "backreferences"),
        ({"properties": {"a": {"type": "string", "pattern": "(?=a)b"}}}, "lookaround"),
        ({"patternProperties": {"^x": {}}, "unevaluatedProperties": False}, "unevaluatedProperties"),
    ],
)
def test_deploy_refuses_patterns_re2_cannot_run(schema, fragment):
    import json

    bpmn = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="service_manager"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:userTask id="t"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="t.schema.json" />
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""
    files = {"p.bpmn": bpmn.encode(), "forms/t.schema.json": json.dumps({"type": "object", **schema}).encode()}
    problems = lint_bundle(files, roles=ROLE_KEYS, operators=())
    assert [p.file for p in problems] == ["forms/t.schema.json"]
    assert fragment in problems[0].message
