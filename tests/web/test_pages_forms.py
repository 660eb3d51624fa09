"""The JSON-Schema form renderer and parser behind the task pages (web/forms.py), on the real workflow forms."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from werkzeug.datastructures import MultiDict

from engine.config import PROJECT_ROOT
from engine.errors import InvalidInputError
from engine.errors import code_of
from engine.platform.forms import TaskForm
from engine.platform.forms import validate_form_data
from web.forms import PROBLEM_TEXTS
from web.forms import build_fields
from web.forms import enum_labels
from web.forms import from_local_input
from web.forms import local_input_value
from web.forms import localize_error
from web.forms import parse_form
from web.forms import problem_text

FORMS = PROJECT_ROOT / "workflows" / "forms"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def load(stem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = json.loads((FORMS / f"{stem}.schema.json").read_text("utf-8"))
    ui_path = FORMS / f"{stem}.ui.json"
    return schema, json.loads(ui_path.read_text("utf-8")) if ui_path.exists() else {}


def by_name(fields: list[Any]) -> dict[str, Any]:
    return {f.name: f for f in fields}


def test_every_workflow_form_renders_in_both_languages() -> None:
    for path in sorted(FORMS.glob("*.schema.json")):
        schema, ui = load(path.name.removesuffix(".schema.json"))
        for lang in ("zh", "en"):
            fields = build_fields(schema, ui, lang)
            assert [f.name for f in fields][: len(ui.get("ui:order", []))] == ui.get("ui:order", [])
            assert all(f.label and f.widget != "json" for f in fields), path.name


def test_review_form_widgets_and_labels() -> None:
    schema, ui = load("review_csi")
    zh = by_name(build_fields(schema, ui, "zh"))
    assert [zh[n].widget for n in ("review_form", "opinion", "service_plan", "signed_original_location")] == [
        "radio",
        "textarea",
        "checkboxes",
        "text",
    ]
    assert zh["opinion"].required and zh["opinion"].max_length == 4000
    assert [o.label for o in zh["service_plan"].options] == ["仅提供配件", "现场服务", "顾客培训", "无需服务"]
    assert zh["review_form"].label == "评审形式" and "第4.4条" in zh["review_form"].description
    assert zh["review_form"].help == "根据服务需求选择评审形式。"
    en = by_name(build_fields(schema, ui, "en"))
    assert en["review_form"].label == "Review form"
    assert [o.label for o in en["review_form"].options] == ["Review meeting", "Countersign", "Supervisor decision"]
    assert en["service_plan"].options[0].label == "Parts only"
    assert en["review_form"].help == ""  # ui:help is Chinese only: not shown in the English UI


def test_a_schema_default_is_the_choice_a_form_first_shows_and_posted_input_wins() -> None:
    schema, ui = load("review_csi")
    first = by_name(build_fields(schema, ui, "en"))
    assert [o.value for o in first["outcome"].options if o.selected] == ["decide"]  # "default": "decide"
    assert "proposed_billing" not in first["billing"].description  # no variable names on the form
    again = by_name(build_fields(schema, ui, "en", posted=MultiDict({"outcome": "send_back"})))
    assert [o.value for o in again["outcome"].options if o.selected] == ["send_back"]


def test_date_and_datetime_widgets() -> None:
    schema, ui = load("handle_overdue_plan")
    fields = by_name(build_fields(schema, ui, "zh"))
    assert fields["new_target_date"].widget == "date" and not fields["new_target_date"].required
    schema, ui = load("answer_customer")
    answered = by_name(build_fields(schema, ui, "zh", zone=SHANGHAI))["answered_at"]
    assert answered.widget == "datetime" and len(answered.value) == 16  # prefilled with "now", local time


def test_posted_input_and_errors_are_kept() -> None:
    schema, ui = load("review_csi")
    posted = MultiDict([("opinion", "同意"), ("service_plan", "none"), ("service_plan", "training")])
    with pytest.raises(InvalidInputError) as caught:  # the engine's own problems, with their codes
        validate_form_data(TaskForm(schema, ui), {"opinion": "同意", "service_plan": ["none", "training", "x"]})
    errors = {k: caught.value.fields[k] for k in ("service_plan", "review_form")}
    assert code_of(errors["review_form"]) == "required"
    fields = by_name(build_fields(schema, ui, "zh", posted=posted, errors=errors))
    assert fields["opinion"].value == "同意"
    assert [o.value for o in fields["service_plan"].options if o.selected] == ["training", "none"]
    assert fields["service_plan"].error == "This combination of options is not allowed; see the note below the options."
    assert fields["review_form"].error == "This field is required."
    assert fields["signed_original_location"].error == ""


def test_parse_review_form_gives_typed_data_the_engine_accepts() -> None:
    schema, ui = load("review_csi")
    form = MultiDict(
        [
            ("csrf_token", "x"),
            ("review_form", "meeting"),
            ("opinion", "第一行\r\n第二行  "),
            ("service_plan", "parts_only"),
            ("service_plan", "field_service"),
            ("billing", "free"),
            ("override_reason", "  "),
            ("signed_original_location", "A-3"),
        ]
    )
    data = parse_form(schema, form, SHANGHAI)
    assert data == {
        "review_form": "meeting",
        "opinion": "第一行\n第二行",
        "service_plan": ["parts_only", "field_service"],
        "billing": "free",
        "signed_original_location": "A-3",
    }
    assert validate_form_data(TaskForm(schema, ui), data) == data


def test_empty_optional_fields_are_left_out() -> None:
    schema, _ui = load("handle_overdue_plan")
    data = parse_form(schema, MultiDict([("exception_reason", "等待顾客书面反馈"), ("new_target_date", " ")]), SHANGHAI)
    assert data == {"exception_reason": "等待顾客书面反馈"}


def test_missing_required_field_is_named_by_the_engine() -> None:
    schema, ui = load("analyse_root_cause")
    data = parse_form(schema, MultiDict([("root_cause", "x"), ("responsibility", "")]), SHANGHAI)
    with pytest.raises(InvalidInputError) as caught:
        validate_form_data(TaskForm(schema, ui), data)
    assert caught.value.fields == {"responsibility": "this field is required"}


def test_datetime_local_becomes_iso_with_the_shanghai_offset() -> None:
    schema, ui = load("answer_customer")
    form = MultiDict([("answer_channel", "phone"), ("answered_at", "2026-11-27T09:30"), ("plan_summary", "更换")])
    data = parse_form(schema, form, SHANGHAI)
    assert data["answered_at"] == "2026-11-27T09:30:00+08:00"
    assert validate_form_data(TaskForm(schema, ui), data) == data
    assert from_local_input("not a date", SHANGHAI) == "not a date"  # left for the engine to reject
    assert local_input_value("2026-11-27T01:30:00+00:00", SHANGHAI) == "2026-11-27T09:30"


def test_numbers_booleans_and_integer_enums() -> None:
    schema = {
        "type": "object",
        "properties": {
            "hours": {"type": "number", "minimum": 0},
            "visits": {"type": "integer"},
            "bad": {"type": "integer"},
            "big": {"type": "number"},
            "urgent": {"type": "boolean"},
            "level": {"type": "integer", "enum": [1, 2, 3], "x-enumNames": ["低", "中", "高"]},
        },
    }
    form = MultiDict([("hours", "2.5"), ("visits", "3"), ("bad", "three"), ("big", "1e999"), ("level", "2")])
    assert parse_form(schema, form, SHANGHAI) == {
        "hours": 2.5,
        "visits": 3,
        "bad": "three",
        "big": "1e999",
        "urgent": False,
        "level": 2,
    }
    fields = by_name(build_fields(schema, {}, "zh"))
    assert fields["hours"].widget == "number" and fields["hours"].step == "any" and fields["hours"].minimum == 0
    assert fields["visits"].step == "1"
    assert fields["urgent"].widget == "checkbox"
    assert fields["level"].widget == "radio" and [o.label for o in fields["level"].options] == ["低", "中", "高"]


def test_unsupported_shapes_fall_back_to_json_text() -> None:
    schema = {"type": "object", "properties": {"extra": {"type": "object"}}}
    assert build_fields(schema, {}, "en")[0].widget == "json"
    assert parse_form(schema, MultiDict([("extra", '{"a": 1}')]), SHANGHAI) == {"extra": {"a": 1}}


def test_enum_labels_for_stored_values() -> None:
    schemas = [load(stem)[0] for stem in ("analyse_root_cause", "review_csi")]
    labels = enum_labels(schemas, "zh")
    assert labels["responsibility"]["supplier"] == "供方"
    assert labels["service_plan"]["field_service"] == "现场服务"
    assert enum_labels(schemas, "en")["review_form"]["countersign"] == "Countersign"


PROBE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["a"],
    "properties": {
        "a": {"type": "string", "minLength": 1},
        "d": {"type": "string", "format": "date"},
        "n": {"type": "integer"},
    },
}


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({}, "a", "This field is required."),
        ({"a": ""}, "a", "Please fill this in."),
        ({"a": "x", "d": "2026-13-01"}, "d", "Enter a valid date between 1900 and 2199."),
        ({"a": "x", "n": "abc"}, "n", "Enter a number."),
        ({"a": "x\x00"}, "a", "The text contains characters that are not allowed."),
        ({"a": "x", "zz": 1}, "zz", "This field is not part of the form."),
    ],
)
def test_engine_problems_are_shown_in_the_users_words(data: dict[str, Any], field: str, expected: str) -> None:
    """The web translates the problem's code, never its English text (changing the text changes nothing)."""
    with pytest.raises(InvalidInputError) as caught:
        validate_form_data(TaskForm(PROBE, {}), data)
    assert localize_error(caught.value.fields[field]) == expected


def test_a_message_without_a_code_is_shown_as_it_is() -> None:
    assert localize_error("something the UI does not know") == "something the UI does not know"


def test_every_problem_code_has_a_chinese_and_an_english_text(app: Any) -> None:
    from flask_babel import force_locale

    with app.test_request_context("/"):
        for code in PROBLEM_TEXTS:
            with force_locale("en"):
                english = problem_text(code, {"types": "pdf"})
            with force_locale("zh_Hans_CN"):
                chinese = problem_text(code, {"types": "pdf"})
            assert english and chinese and english != chinese, code
            assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), (code, chinese)


def test_catalog_is_named_zh_hans_cn_and_complete() -> None:
    po = PROJECT_ROOT / "web" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    assert str(catalog.locale) == "zh_Hans_CN"
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []


def test_a_bad_date_names_the_years_a_form_takes_in_chinese_too(app: Any) -> None:
    """The range (1900–2199) is the rule a date breaks when it parses but lies outside it: the text says so."""
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert problem_text("date", {}) == "请输入 1900 至 2199 年之间的有效日期。"
        assert problem_text("datetime", {}) == "请输入 1900 至 2199 年之间的有效日期和时间。"
