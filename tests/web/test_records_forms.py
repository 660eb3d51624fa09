"""The repeatable-row editor of array fields (web/form_rows.py): rendering, typed parsing and inline row errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from engine.errors import InvalidInputError
from engine.platform.forms import TaskForm
from engine.platform.forms import validate_form_data
from tests.web.test_pages_forms import SHANGHAI
from tests.web.test_pages_forms import by_name
from tests.web.test_pages_forms import load
from web import i18n
from web.forms import build_fields
from web.forms import enum_labels
from web.forms import parse_form


@pytest.fixture(autouse=True)
def request_context():
    """gettext needs an app and a request (English here: the msgids)."""
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def posted(**values: str) -> MultiDict[str, str]:
    return MultiDict(list(values.items()))


def test_array_fields_render_as_numbered_rows():
    schema, ui = load("issue_parts_so")
    lines = by_name(build_fields(schema, ui, "zh"))["lines"]
    assert lines.widget == "rows" and lines.required and lines.max_rows == 200
    assert [c.name for c in lines.columns] == ["part_no", "description", "qty", "unit_price"]
    assert [c.widget for c in lines.columns] == ["text", "text", "number", "number"]
    assert lines.columns[2].step == "1" and lines.columns[2].minimum == 1 and lines.columns[0].label == "零件号"
    assert len(lines.rows) == 5 and lines.rows[4].cells[0].name == "lines-4-part_no"
    schema, ui = load("field_visit")
    parts = by_name(build_fields(schema, ui, "en"))["parts_used"]
    source = parts.columns[2]
    assert source.widget == "select" and [o.label for o in parts.rows[0].cells[2].options] == ["Stock", "Bought"]
    schema, ui = load("issue_work_order")
    engineers = by_name(build_fields(schema, ui, "zh"))["engineers"]
    assert engineers.widget == "rows" and [c.name for c in engineers.columns] == [""] and len(engineers.rows) == 3
    assert engineers.rows[0].cells[0].name == "engineers-0"


def test_blank_rows_are_dropped_and_cells_are_typed():
    schema, ui = load("issue_parts_so")
    form = posted(**{
        "lines-0-part_no": " A-1 ", "lines-0-description": "轴承", "lines-0-qty": "2", "lines-0-unit_price": "3.5",
        "lines-1-part_no": "", "lines-1-description": "  ", "lines-1-qty": "", "lines-1-unit_price": "",
        "lines-7-part_no": "B-2", "lines-7-description": "油封", "lines-7-qty": "1", "lines-7-unit_price": "0",
        "remarks": "",
    })  # fmt: skip
    data = parse_form(schema, form, SHANGHAI)
    assert data == {
        "lines": [
            {"part_no": "A-1", "description": "轴承", "qty": 2, "unit_price": 3.5},
            {"part_no": "B-2", "description": "油封", "qty": 1, "unit_price": 0},
        ]
    }
    assert validate_form_data(TaskForm(schema, ui), data) == data


def test_required_array_may_be_empty_but_min_items_is_left_to_the_engine():
    schema, ui = load("field_visit")
    data = parse_form(schema, posted(**{"parts_used-0-part_no": "", "parts_used-0-source": ""}), SHANGHAI)
    assert data["parts_used"] == []  # "no parts used" is an answer
    schema, ui = load("issue_parts_so")
    data = parse_form(schema, posted(remarks="x"), SHANGHAI)
    assert data["lines"] == []
    with pytest.raises(InvalidInputError) as refused:
        validate_form_data(TaskForm(schema, ui), data)
    lines = by_name(build_fields(schema, ui, "en", posted=posted(remarks="x"), errors=refused.value.fields))["lines"]
    assert lines.error == "Add at least one row."


def test_plain_value_arrays_take_rows_or_repeated_names():
    schema, _ui = load("issue_work_order")
    form = MultiDict([("engineers-0", "engineer"), ("engineers-1", " "), ("engineers-2", "qc"), ("engineers", "hr")])
    assert parse_form(schema, form, SHANGHAI)["engineers"] == ["engineer", "qc", "hr"]


def test_bad_cells_are_marked_inline_after_the_engine_refuses_the_field():
    schema, ui = load("field_visit")
    form = posted(**{
        "parts_used-0-part_no": "BRG-6205", "parts_used-0-qty": "2", "parts_used-0-source": "stock",
        "parts_used-3-part_no": "SPN-500", "parts_used-3-qty": "0", "parts_used-3-source": "",
    })  # fmt: skip
    data = parse_form(schema, form, SHANGHAI)
    with pytest.raises(InvalidInputError) as refused:
        validate_form_data(TaskForm(schema, ui), {**data, "visit_date": "2026-12-01"})
    assert "parts_used" in refused.value.fields  # the engine names only the top-level field
    field = by_name(build_fields(schema, ui, "en", posted=form, errors=refused.value.fields))["parts_used"]
    assert field.error == "Check the marked rows."
    first, second = field.rows[:2]
    assert not first.has_error and [c.value for c in first.cells[:2]] == ["BRG-6205", "2"]
    assert second.cells[0].value == "SPN-500" and second.cells[1].error == "The number is out of range."
    assert second.cells[2].error == "This field is required."
    assert len(field.rows) == 5  # the user's rows (compacted), then blank ones


def test_initial_values_fill_rows_and_more_rows_appear_when_needed():
    schema, ui = load("issue_parts_so")
    initial: dict[str, Any] = {
        "lines": [{"part_no": f"P-{i}", "description": "d", "qty": 1, "unit_price": 2.0} for i in range(6)]
    }
    lines = by_name(build_fields(schema, ui, "zh", initial=initial))["lines"]
    assert len(lines.rows) == 7 and lines.rows[5].cells[0].value == "P-5" and lines.rows[0].cells[3].value == "2"


def test_row_columns_get_enum_labels_for_stored_values():
    schema, _ui = load("field_visit")
    assert enum_labels([schema], "zh")["source"] == {"stock": "库存", "bought": "外购"}
