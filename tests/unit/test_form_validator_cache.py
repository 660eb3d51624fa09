"""Issue 12 item 4: one validator per form schema, not one per submission."""

from __future__ import annotations

from engine.platform.forms import form_validator


def test_the_same_schema_gets_the_same_validator():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    first = form_validator(schema)
    assert form_validator(schema) is first
    assert list(first.iter_errors({})) and not list(first.iter_errors({"n": 1}))
    other = {"type": "object", "properties": {"n": {"type": "string"}}}
    assert form_validator(other) is not first
