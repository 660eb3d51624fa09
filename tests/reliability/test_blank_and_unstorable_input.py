"""Text a user must give is not given by blanks, and text no database can store is refused by every JSON body
(found outside-in on the §3.1 return, §5.5 claim and §5.8 forms and on the API's own bodies: 200 with "   " as a
refusal reason; 500 for an unpaired surrogate in a supplier, claim, return, WO cancel or case body)."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInputError
from engine.platform.forms import TaskForm
from engine.platform.forms import validate_form_data
from tests.web.test_case_lifecycle import register

REFUSAL = TaskForm(
    schema={
        "type": "object",
        "required": ["finding", "decision"],
        "properties": {
            "finding": {"type": "string", "minLength": 1},
            "decision": {"type": "string", "enum": ["exchange", "refuse"]},
            "refusal_reason": {"type": "string"},
            "notes": {"type": "string"},
        },
        "allOf": [
            {
                "if": {"properties": {"decision": {"const": "refuse"}}, "required": ["decision"]},
                "then": {"required": ["refusal_reason"], "properties": {"refusal_reason": {"minLength": 1}}},
            }
        ],
    },
    ui_schema={},
)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"finding": "  \t", "decision": "exchange"}, "finding"),
        ({"finding": "外观完好", "decision": "refuse", "refusal_reason": "   "}, "refusal_reason"),
        ({"finding": "外观完好", "decision": "refuse", "refusal_reason": "\u3000"}, "refusal_reason"),
    ],
)
def test_blank_text_does_not_fill_a_field_that_must_not_be_empty(data, field):
    with pytest.raises(InvalidInputError) as refused:
        validate_form_data(REFUSAL, data)
    assert list(refused.value.fields) == [field]


def test_optional_blank_text_and_padded_answers_are_kept_as_given():
    data = {"finding": "  轴承磨损 ", "decision": "exchange", "notes": "  "}
    assert validate_form_data(REFUSAL, data) == data


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/suppliers", {"code": "S-T6", "name": "\ud800"}, "name"),
        ("post", "/api/v1/cases", {"kind": "quality_complaint", "description": "\udfff"}, "description"),
        ("post", "/api/v1/work-orders/WO-2000-000001/cancel", {"reason": "a\x00b"}, "reason"),
        ("post", "/api/v1/cases/{case}/part-returns", {"part_no": {"\ud800": 1}}, "part_no"),
        ("post", "/api/v1/cases/{case}/supplier-claims", {"reason": "\ud800"}, "reason"),
        ("post", "/api/v1/cases/{case}/part-returns", {"remedy": ["exchange"]}, "remedy"),
    ],
)
def test_a_body_with_text_no_database_can_store_is_refused_naming_the_field(api, method, path, body, field):
    if "{case}" in path:
        path = path.format(case=register(api)["id"])
    response = getattr(api("admin" if "suppliers" in path else "manager"), method)(path, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["fields"]


CLOSED = TaskForm(
    schema={"type": "object", "additionalProperties": False, "properties": {"finding": {"type": "string"}}},
    ui_schema={},
)


def test_an_unknown_field_with_a_name_no_form_has_is_refused_without_echoing_its_name():
    """A 5,000-character field name came back whole as a key of the 422's fields: it is reported as `data`."""
    long_name = "x" * 5000
    with pytest.raises(InvalidInputError) as refused:
        validate_form_data(CLOSED, {"finding": "ok", long_name: 1, "priority": "high"})
    assert set(refused.value.fields) == {"priority", "data"}
    assert long_name not in str(refused.value.fields)


def test_many_unknown_fields_are_named_up_to_a_limit_and_the_rest_under_data():
    with pytest.raises(InvalidInputError) as refused:
        validate_form_data(CLOSED, {f"extra{n}": n for n in range(500)})
    assert len(refused.value.fields) == 21 and "data" in refused.value.fields


def test_a_field_name_no_database_can_store_is_not_echoed():
    with pytest.raises(InvalidInputError) as refused:
        validate_form_data(CLOSED, {"fin\x00ding": "x"})
    assert "data" in refused.value.fields and all("\x00" not in key for key in refused.value.fields)
