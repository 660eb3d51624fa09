"""Turn Camunda `formData` and Flowable/Activiti `formProperty` fields into this product's JSON Schema forms.

A generated form is a Draft 2020-12 object schema (types, `required`, limits, enums with `x-enumNames`,
defaults, read-only fields) plus a UI schema (`ui:order`, widgets), the same shape as `workflows/forms/`.
What a field declares that has no equivalent here (custom types, validators, expressions) comes back as a
message for the import report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from lxml import etree

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
RADIO_LIMIT = 6  # the task page shows at most this many options as radio buttons
_TYPES = {
    "string": "string",
    "long": "integer",
    "integer": "integer",
    "int": "integer",
    "short": "integer",
    "double": "number",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "enum": "enum",
}
_DATE_PATTERNS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M")
_LIMITS = {"minlength": "minLength", "maxlength": "maxLength", "min": "minimum", "max": "maximum"}


@dataclass
class FieldSpec:
    """One form field, independent of the dialect it came from."""

    key: str
    label: str
    kind: str  # string, integer, number, boolean, date or enum
    required: bool = False
    read_only: bool = False
    default: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    limits: dict[str, int | float] = field(default_factory=dict)


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el.iterchildren(etree.Element) if _local(c) == name]


def _kind(key: str, declared: str, messages: list[str]) -> str:
    kind = _TYPES.get(declared.strip().lower() or "string")
    if kind is None:
        messages.append(f"field {key!r}: type {declared!r} is not supported here; it became a text field")
        return "string"
    return kind


def camunda_fields(form_data: Any) -> tuple[list[FieldSpec], list[str]]:
    """Fields of a `camunda:formData` element, with messages on what did not convert."""
    fields: list[FieldSpec] = []
    messages: list[str] = []
    for item in _children(form_data, "formField"):
        key = item.get("id", "").strip()
        if not key:
            messages.append("a form field without id was left out")
            continue
        spec = FieldSpec(key, item.get("label") or key, _kind(key, item.get("type", "string"), messages))
        _options(spec, item, messages)
        for validation in _children(item, "validation"):
            for constraint in _children(validation, "constraint"):
                _constrain(spec, constraint.get("name", ""), constraint.get("config"), messages)
        if _children(item, "properties"):
            messages.append(f"field {key!r}: its camunda:properties were dropped")
        spec.default = _default(spec, item.get("defaultValue"), messages)
        fields.append(spec)
    return fields, messages


def _options(spec: FieldSpec, item: Any, messages: list[str]) -> None:
    """An enum's (id, label) pairs; an enum without values becomes a text field."""
    spec.options = [(v.get("id", ""), v.get("name") or v.get("id", "")) for v in _children(item, "value")]
    if spec.kind == "enum" and not spec.options:
        messages.append(f"field {spec.key!r}: an enum without values became a text field")
        spec.kind = "string"


def _constrain(spec: FieldSpec, name: str, config: str | None, messages: list[str]) -> None:
    name = name.strip().lower()
    if name == "required":
        spec.required = True
    elif name == "readonly":
        spec.read_only = True
    elif name in _LIMITS and config is not None and _number(config) is not None:
        numeric = spec.kind in ("integer", "number")
        if name in ("min", "max") and not numeric:
            messages.append(f"field {spec.key!r}: {name} applies to numbers only and was dropped")
        else:
            spec.limits[_LIMITS[name]] = _number(config) or 0
    else:
        messages.append(f"field {spec.key!r}: validation {name!r} ({config or 'no config'}) was dropped")


def _number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def flowable_fields(properties: Iterable[Any]) -> tuple[list[FieldSpec], list[str]]:
    """Fields of Flowable/Activiti `formProperty` elements, with messages on what did not convert."""
    fields: list[FieldSpec] = []
    messages: list[str] = []
    for item in properties:
        key = (item.get("variable") or item.get("id") or "").strip()
        if not key:
            messages.append("a form property without id was left out")
            continue
        if item.get("readable", "true").lower() == "false":
            messages.append(f"field {key!r} is not readable (a hidden value) and was left out of the form")
            continue
        spec = FieldSpec(key, item.get("name") or key, _kind(key, item.get("type", "string"), messages))
        _options(spec, item, messages)
        spec.required = item.get("required", "false").lower() == "true"
        spec.read_only = item.get("writable", "true").lower() == "false"
        expression = item.get("expression") or item.get("value") or ""
        if "{" in expression and expression.replace(" ", "") not in (f"${{{key}}}", f"#{{{key}}}"):
            messages.append(f"field {key!r}: its value expression {expression!r} was dropped")
        spec.default = _default(spec, item.get("default") or (expression if "{" not in expression else None), messages)
        fields.append(spec)
    return fields, messages


def _default(spec: FieldSpec, text: str | None, messages: list[str]) -> Any:
    """The default as JSON of the field's type; expressions and unreadable values are dropped with a message."""
    if text is None or text == "":
        return None
    value: Any = None
    if "${" in text or "#{" in text:
        messages.append(f"field {spec.key!r}: default expression {text!r} was dropped")
        return None
    if spec.kind in ("string", "enum"):
        value = text
    elif spec.kind == "boolean" and text.strip().lower() in ("true", "false"):
        value = text.strip().lower() == "true"
    elif spec.kind in ("integer", "number"):
        value = _number(text)
    elif spec.kind == "date":
        value = _iso_date(text)
    if value is None or (spec.kind == "enum" and value not in [k for k, _ in spec.options]):
        messages.append(f"field {spec.key!r}: default {text!r} does not fit the field and was dropped")
        return None
    return value


def _iso_date(text: str) -> str | None:
    for pattern in _DATE_PATTERNS:
        try:
            return datetime.strptime(text.strip(), pattern).date().isoformat()
        except ValueError:
            continue
    return None


def form_files(title: str, fields: list[FieldSpec]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(JSON Schema, UI schema) of a task form."""
    properties = {spec.key: _property(spec) for spec in fields}
    schema: dict[str, Any] = {"$schema": SCHEMA_URI, "title": title, "type": "object", "additionalProperties": False}
    required = [s.key for s in fields if s.required and not s.read_only]
    if required:
        schema["required"] = required
    schema["properties"] = properties
    ui: dict[str, Any] = {"ui:order": [s.key for s in fields]}
    for spec in fields:
        hints = _ui_hints(spec)
        if hints:
            ui[spec.key] = hints
    return schema, ui


def _property(spec: FieldSpec) -> dict[str, Any]:
    node: dict[str, Any] = {"title": spec.label}
    if spec.kind == "enum":
        node |= {"type": "string", "enum": [k for k, _ in spec.options], "x-enumNames": [n for _, n in spec.options]}
    elif spec.kind == "date":
        node |= {"type": "string", "format": "date"}
    else:
        node["type"] = spec.kind
    if spec.kind == "string" and spec.required and not spec.read_only:
        node["minLength"] = 1
    node |= spec.limits
    if spec.default is not None:
        node["default"] = spec.default
    if spec.read_only:
        node["readOnly"] = True
    return node


def _ui_hints(spec: FieldSpec) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    if spec.kind == "enum":
        hints["ui:widget"] = "radio" if len(spec.options) <= RADIO_LIMIT else "select"
    elif spec.kind == "boolean":
        hints["ui:widget"] = "checkbox"
    elif spec.kind == "date":
        hints["ui:widget"] = "date"
    elif spec.kind == "string" and int(spec.limits.get("maxLength", 0)) > 255:
        hints["ui:widget"] = "textarea"
    if spec.read_only:
        hints["ui:readonly"] = True
    return hints


def comment_form(title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stand-in form of a task whose form lived outside the model: one optional comment."""
    comment = {
        "type": "string",
        "maxLength": 4000,
        "title": "备注",
        "x-i18n": {"en": {"title": "Comment"}},
    }
    schema = {
        "$schema": SCHEMA_URI,
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "properties": {"comment": comment},
    }
    return schema, {"ui:order": ["comment"], "comment": {"ui:widget": "textarea"}}


def safe_stem(text: str) -> str:
    """A file stem of letters, digits, '_' and '-' only (what the form editor accepts)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")
    return stem or "form"
