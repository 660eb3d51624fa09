"""Every user-task form schema is complete: a client can fill it from the schema alone (types, required, enums)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

FORMS = Path(__file__).resolve().parents[2] / "workflows" / "forms"
SCHEMAS = sorted(FORMS.glob("*.schema.json"))


def walk(node: dict[str, Any], where: str) -> list[str]:
    """Problems of one schema node (and its children)."""
    problems = [] if "type" in node else [f"{where}: no type"]
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        if node.get("additionalProperties") is not False:
            problems.append(f"{where}: additionalProperties must be false")
        if not set(node.get("required", [])) <= set(properties):
            problems.append(f"{where}: required names an unknown field")
        for name, child in properties.items():
            problems += walk(child, f"{where}.{name}")
            if "title" not in child or "title" not in child.get("x-i18n", {}).get("en", {}):
                problems.append(f"{where}.{name}: needs a Chinese title and an English x-i18n title")
    elif kind == "array":
        problems += walk(node.get("items", {}), f"{where}[]")
    elif kind == "string" and "enum" not in node and "format" not in node and "maxLength" not in node:
        problems.append(f"{where}: free text needs maxLength")
    if "enum" in node and len(node.get("x-enumNames", [])) != len(node["enum"]):
        problems.append(f"{where}: every enum value needs a Chinese label (x-enumNames)")
    return problems


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_form_schema_is_complete_for_a_client(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert walk(schema, path.name.removesuffix(".schema.json")) == []


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_form_has_its_ui_hints_for_every_field(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    ui = json.loads(path.with_name(path.name.replace(".schema.json", ".ui.json")).read_text(encoding="utf-8"))
    assert sorted(ui["ui:order"]) == sorted(schema["properties"])


def test_every_user_task_has_a_form_and_every_form_a_task():
    import re

    bpmn = " ".join(p.read_text(encoding="utf-8") for p in FORMS.parent.glob("*.bpmn"))
    referenced = set(re.findall(r'value="([a-z_]+)\.schema\.json"', bpmn))
    assert referenced == {p.name.removesuffix(".schema.json") for p in SCHEMAS}
