"""Task forms in the browser: render a task's JSON Schema (+ UI hints) as HTML fields and parse the posted form back.

No maintained library converts JSON Schema into server-rendered HTML forms (the WTForms/JSON-Schema packages on
PyPI go the other way or are unmaintained, see shared/reference/ecosystem.md §3), so this is a small renderer for
the subset our forms use: flat objects whose properties are strings (text, textarea, date, date-time, email),
enums (radio / select), arrays of enums (checkboxes), booleans (checkbox) and numbers, plus arrays of flat objects
or plain values as repeatable rows (web/form_rows.py). Anything else falls back to a JSON text area. Validation
is the engine's (`complete_task` checks the data against the schema and names each bad field); the parser only
turns form text into typed JSON and leaves empty optional fields out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.errors import Problem
from engine.errors import code_of
from engine.platform.forms import FIRST_YEAR
from engine.platform.forms import LAST_YEAR

if TYPE_CHECKING:
    from web.form_rows import Column
    from web.form_rows import Row

RADIO_LIMIT = 6  # an enum with more options than this renders as a select unless ui:widget says radio


@dataclass(frozen=True)
class Option:
    """One choice of an enum field."""

    value: str
    label: str
    selected: bool
    disabled: bool = False


@dataclass
class Field:
    """One form field ready for the template: widget, labels in the current language, value and error."""

    name: str
    widget: (
        str  # text | textarea | email | date | datetime | number | radio | select | checkboxes | checkbox | rows | json
    )
    label: str
    description: str = ""
    help: str = ""
    required: bool = False
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: str = "any"
    value: str = ""
    options: list[Option] = field(default_factory=list)
    checked: bool = False
    error: str = ""
    columns: list[Column] = field(default_factory=list)  # rows widget only
    rows: list[Row] = field(default_factory=list)
    max_rows: int = 0


def localized(node: Mapping[str, Any], key: str, lang: str) -> str:
    """A schema text in the current language: `x-i18n.en.<key>` for English, else the (Chinese) `<key>`."""
    if lang == "en":
        text = node.get("x-i18n", {}).get("en", {}).get(key)
        if isinstance(text, str) and text:
            return text
    value = node.get(key, "")
    return value if isinstance(value, str) else ""


def property_order(schema: Mapping[str, Any], ui_schema: Mapping[str, Any]) -> list[str]:
    """Property names in `ui:order` order, then the rest in schema order."""
    properties = list(schema.get("properties", {}))
    ordered = [name for name in ui_schema.get("ui:order", []) if name in properties]
    return ordered + [name for name in properties if name not in ordered]


def build_fields(
    schema: Mapping[str, Any],
    ui_schema: Mapping[str, Any],
    lang: str,
    *,
    posted: MultiDict[str, str] | None = None,
    initial: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    zone: ZoneInfo | None = None,
) -> list[Field]:
    """The fields of a form: with the user's posted input kept (after an error) or the initial values."""
    required = set(schema.get("required", []))
    errors = errors or {}
    fields = []
    for name in property_order(schema, ui_schema):
        node = schema["properties"][name]
        ui = ui_schema.get(name, {}) if isinstance(ui_schema.get(name), dict) else {}
        item = Field(
            name=name,
            widget=_widget(node, ui),
            label=localized(node, "title", lang) or name,
            description=localized(node, "description", lang),
            required=name in required,
            error="",
        )
        if lang != "en" or "en" in ui.get("x-i18n", {}):
            item.help = localized(ui, "ui:help", lang)
        if name in errors:
            item.error = localize_error(errors[name], item.widget)
        _limits(item, node)
        if item.widget == "rows":
            _fill_rows(item, node, ui, lang, posted, initial, errors.get(name))
        else:
            _fill(item, node, _raw_values(item, node, posted, initial, zone), lang)
        fields.append(item)
    return fields


def _fill_rows(
    item: Field,
    node: Mapping[str, Any],
    ui: Mapping[str, Any],
    lang: str,
    posted: MultiDict[str, str] | None,
    initial: Mapping[str, Any] | None,
    error: str | None,
) -> None:
    from web import form_rows

    item.columns, item.rows, item.max_rows = form_rows.build_rows(
        item.name, node, ui, lang, posted=posted, initial=(initial or {}).get(item.name), check=error is not None
    )
    if error is not None:
        item.error = form_rows.rows_message(item.rows, error)


def limit_choices(fields: list[Field], name: str, allowed: list[str]) -> None:
    """Disable the options of field `name` that are not in `allowed` (e.g. plans the DMN does not allow, §3.1)."""
    for item in fields:
        if item.name == name:
            item.options = [replace(o, disabled=o.value not in allowed and not o.selected) for o in item.options]


def form_errors(errors: Mapping[str, str], fields: list[Field]) -> list[str]:
    """Messages the engine gave for no particular field (or for a field the form does not show)."""
    names = {f.name for f in fields}
    return [
        _("%(field)s: %(message)s", field=name, message=localize_error(msg)) if name != "data" else localize_error(msg)
        for name, msg in errors.items()
        if name not in names
    ]


def parse_form(schema: Mapping[str, Any], form: MultiDict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """Typed JSON data from a posted form: only schema properties, empty optional values left out.

    Text that does not convert (a word in a number field) is passed on unchanged, so the engine's schema
    check names the field instead of the value silently disappearing.
    """
    from web import form_rows

    data: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, node in schema.get("properties", {}).items():
        kind = node.get("type")
        if kind == "boolean":
            data[name] = form.get(name) in ("on", "true", "1", "yes")
            continue
        if form_rows.is_row_array(node):
            items = form_rows.parse_rows(name, node, form)
            if items or name in required:
                data[name] = items  # a required list may be empty ("parts used: none"); minItems says otherwise
            continue
        if kind == "array":
            values = [_enum_value(node.get("items", {}), v) for v in form.getlist(name) if v != ""]
            if values:
                data[name] = values
            continue
        text = form.get(name, "")
        text = text.replace("\r\n", "\n").strip()
        if text == "":
            continue
        data[name] = typed_value(node, text, zone)
    return data


def local_input_value(value: Any, zone: ZoneInfo) -> str:
    """An ISO date-time with offset as the `YYYY-MM-DDTHH:MM` value a datetime-local input shows."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone)
    return parsed.strftime("%Y-%m-%dT%H:%M")


def from_local_input(text: str, zone: ZoneInfo) -> str:
    """A datetime-local value (`2026-11-27T09:30`) as ISO 8601 with the business timezone's offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.isoformat(timespec="seconds")


def now_local_input(zone: ZoneInfo) -> str:
    """The current business-local time as a datetime-local value."""
    return datetime.now(zone).strftime("%Y-%m-%dT%H:%M")


def localize_error(message: str, widget: str = "") -> str:
    """The user's-language text of an engine problem, found by its code (the original text when it has none)."""
    code = code_of(message)
    if code is None:
        return message
    if widget == "checkboxes" and code in ("too_short", "too_long"):
        code = "choose_one" if code == "too_short" else "too_many"
    params = message.params if isinstance(message, Problem) else {}
    text = problem_text(code, params)
    return text if text is not None else message


def problem_text(code: str, params: Mapping[str, Any]) -> str | None:
    """The text of a problem code in the current language, or None for a code the web does not know."""
    maker = PROBLEM_TEXTS.get(code)
    return str(maker(params)) if maker is not None else None


# One entry per problem code the engine raises (engine.errors.Problem); tests check each has a Chinese text.
PROBLEM_TEXTS: dict[str, Any] = {
    "required": lambda p: _("This field is required."),
    "too_short": lambda p: _("Please fill this in."),
    "too_long": lambda p: _("The text is too long."),
    "choose_one": lambda p: _("Choose at least one option."),
    "too_many": lambda p: _("This combination of options is not allowed; see the note below the options."),
    "choice": lambda p: _("Please choose one of the options."),
    "date": lambda p: _("Enter a valid date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
    "datetime": lambda p: _(
        "Enter a valid date and time between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR
    ),
    "number": lambda p: _("Enter a number."),
    "type": lambda p: _("This value has the wrong form."),
    "unique": lambda p: _("Each option may be chosen only once."),
    "range": lambda p: _("The number is out of range."),
    "pattern": lambda p: _("This value does not have the required form."),
    "control": lambda p: _("The text contains characters that are not allowed."),
    "unknown": lambda p: _("This field is not part of the form."),
    "reserved": lambda p: _("This field is set by the system and cannot be submitted."),
    "too_large": lambda p: _("The form is too large."),
    "too_deep": lambda p: _("The value is nested too deeply."),
    "invalid": lambda p: _("This value is not valid."),
    "email": lambda p: _("Enter an e-mail address such as name@example.com."),
    "future": lambda p: _("The time cannot be in the future."),
    "before_sale": lambda p: _(
        "This is before the sale of %(so_no)s on %(sold)s.", so_no=p.get("so_no", ""), sold=p.get("sold", "")
    ),
    "so_required": lambda p: _("§4.2: a quality complaint must carry the original SO#."),
    "no_customer": lambda p: _("There is no customer with this code."),
    "no_so": lambda p: _("There is no sales order with this number (§4.2: the SO# must exist)."),
    "so_other_customer": lambda p: _("This sales order was sold to another customer."),
    "serial_not_on_so": lambda p: _("This serial number is not on that sales order."),
    "serial_needs_so": lambda p: _("A serial number needs the SO# it was sold on."),
    "not_engineer": lambda p: _("Not an active service engineer: %(names)s.", names=p.get("names", "")),
    "past_date": lambda p: _("The date is in the past: give a reason, or choose a later date."),
    "wo_not_cancellable": lambda p: _(
        "%(wo)s has no running visit and its case is not waiting for a cancellation: withdraw the case or terminate "
        "it from monitoring.",
        wo=p.get("wo", ""),
    ),
    "positive": lambda p: _("Enter a number above 0."),
    "open_items": lambda p: _(
        "Still open: %(items)s. Wait for them, or record why the case closes now.", items=p.get("items", "")
    ),
    "nothing": lambda p: _("Nothing was changed: edit at least one field."),
    "kind_training": lambda p: _("§6: a training request runs another path; withdraw the case and register it again."),
    "no_case": lambda p: _("%(csi_no)s is not another existing case.", csi_no=p.get("csi_no", "")),
    "file_empty": lambda p: _("The file is empty."),
    "file_type": lambda p: _("This file type is not allowed. Allowed: %(types)s.", types=p.get("types", "")),
    "file_text": lambda p: _("A .txt file must be plain UTF-8 text."),
    "file_mismatch": lambda p: _("The file's content does not match its extension."),
    "file_too_large": lambda p: _(
        "%(name)s is larger than %(limit)s.", name=p.get("name", ""), limit=p.get("limit", "")
    ),
    "too_many_files": lambda p: _("At most %(limit)s files.", limit=p.get("limit", "")),
    "text": lambda p: _("Please enter text."),
    "request_missing": lambda p: _("Customer request %(id)s does not exist.", id=p.get("id", "")),
    "request_handled": lambda p: _("This customer request was already handled."),
    "unknown_part": lambda p: _("Not in the parts master: %(parts)s.", parts=p.get("parts", "")),
    "too_many_views": lambda p: _("At most %(limit)s saved views.", limit=p.get("limit", "")),
    "view_missing": lambda p: _("This saved view does not exist."),
    "case_final": lambda p: _(
        "Case %(case)s is closed or cancelled; a part return needs an open case.", case=p.get("case", "")
    ),
    "return_state": lambda p: _(
        "Part return %(record)s is already %(status)s; this step no longer applies.",
        record=p.get("record", ""),
        status=p.get("status", ""),
    ),
    # business errors raised as NotFound / PermissionDenied / Conflict / InvalidInput with a Problem message
    "case_missing": lambda p: _("Case %(case)s does not exist.", case=p.get("case", "")),
    "case_forbidden": lambda p: _("You may not view case %(case)s.", case=p.get("case", "")),
    "task_missing": lambda p: _("This task does not exist."),
    "task_claimed": lambda p: _("This task is claimed by %(user)s.", user=p.get("user", "")),
    "task_closed": lambda p: _("This task is already closed."),
    "lane_role": lambda p: _(
        "This task belongs to the role “%(role)s”, which you do not hold.", role=_role(p.get("lane"))
    ),
    "roles_needed": lambda p: _("This needs one of the roles: %(roles)s.", roles=_roles(p.get("roles"))),
    "instance_missing": lambda p: _("Process instance %(instance)s does not exist.", instance=p.get("instance", "")),
    "instance_state": lambda p: _(
        "Process instance %(instance)s is %(status)s, so this cannot be done now.",
        instance=p.get("instance", ""),
        status=p.get("status", ""),
    ),
    "instance_finished": lambda p: _(
        "Process instance %(instance)s has already finished; only unfinished instances can be terminated.",
        instance=p.get("instance", ""),
    ),
    "process_missing": lambda p: _("Process %(process)s is not deployed.", process=p.get("process", "")),
    "process_retired": lambda p: _(
        "Process %(process)s is retired: running instances finish, nothing new starts.", process=p.get("process", "")
    ),
    "version_missing": lambda p: _("This process version does not exist."),
    "file_missing": lambda p: _("The file %(file)s does not exist.", file=p.get("file", "")),
    "start_elsewhere": lambda p: _("Process %(process)s is not started from here.", process=p.get("process", "")),
    "start_roles": lambda p: _(
        "Starting %(process)s needs the role %(roles)s.", process=p.get("process", ""), roles=_roles(p.get("roles"))
    ),
    "archive_roles": lambda p: _("Service archives are for the service organisation, QC, sales and design."),
    "serial_required": lambda p: _("Enter a factory serial number."),
    "serial_unknown": lambda p: _("No unit with serial number %(serial)s was sold.", serial=p.get("serial", "")),
    "already_assigned": lambda p: _("The task is already assigned to %(user)s.", user=p.get("user", "")),
    "user_missing": lambda p: _("There is no active user %(user)s.", user=p.get("user", "")),
    "last_admin": lambda p: _("%(user)s is the last active administrator.", user=p.get("user", "")),
    "attachment_missing": lambda p: _("This attachment does not exist on this case."),
    "feedback_missing": lambda p: _("There is no quality feedback for this visit."),
    "record_missing": lambda p: _("Record %(record)s does not exist.", record=p.get("record", "")),
    "message_state": lambda p: _("This message is not undeliverable, so it cannot be sent again."),
    "operator_missing": lambda p: _("There is no operator named %(operator)s.", operator=p.get("operator", "")),
    "no_trainee_present": lambda p: _("List the trainees and mark at least one as present."),
    "own_proposal": lambda p: _("You proposed ending this service; another service director must approve it (§5.8)."),
    "not_in_syllabus": lambda p: _(
        "Not in the product's training syllabus (§6.1): %(modules)s.", modules=", ".join(p.get("modules", []))
    ),
    "so_needs_csi": lambda p: _("A service SO must rest on a CSI (§5.2); no CSI was given or it does not exist."),
    "file_too_big": lambda p: _(
        "The file is %(size)s bytes; the limit is %(limit)s.", size=p.get("size", ""), limit=p.get("limit", "")
    ),
    "not_utf8": lambda p: _("The file is not UTF-8 text."),
    "json_syntax": lambda p: _(
        "This is not valid JSON (line %(line)s, column %(column)s).", line=p.get("line", ""), column=p.get("column", "")
    ),
    "json_object": lambda p: _("This must be a JSON object."),
    "schema_properties": lambda p: _("“properties” must map field names to objects."),
    "schema_required": lambda p: _("“required” must be a list of field names."),
    "schema_unrenderable": lambda p: _(
        "The schema is valid JSON, but no form can be shown from it: check the field types."
    ),
    "period_order": lambda p: _("The start date must not be after the end date."),
    "period_long": lambda p: _("A period is at most three years."),
    # supplier claims and the supplier master (§5.5)
    "unknown_supplier": lambda p: _(
        "Not a supplier of the supplier master: %(supplier)s.", supplier=p.get("supplier", "")
    ),
    "supplier_inactive": lambda p: _(
        "Supplier %(supplier)s is inactive; choose an active supplier.", supplier=p.get("supplier", "")
    ),
    "supplier_exists": lambda p: _("Supplier code %(supplier)s is already used.", supplier=p.get("supplier", "")),
    "supplier_missing": lambda p: _("Supplier %(supplier)s does not exist.", supplier=p.get("supplier", "")),
    "case_ended": lambda p: _("%(case)s is closed or cancelled: no claim can be raised on it.", case=p.get("case", "")),
    "not_partial": lambda p: _(
        "A partly accepted amount is more than 0 and less than the claimed amount (%(claimed)s).",
        claimed=p.get("claimed", ""),
    ),
    "cents": lambda p: _("Enter an amount with at most two decimals."),
    "above_claimed": lambda p: _(
        "The accepted amount cannot be more than the claimed amount (%(claimed)s).", claimed=p.get("claimed", "")
    ),
    "above_accepted": lambda p: _(
        "The recovered amount cannot be more than the accepted amount (%(accepted)s).", accepted=p.get("accepted", "")
    ),
    "claim_state": lambda p: _(
        "Supplier claim %(record)s is %(status)s; this step does not apply now.",
        record=p.get("record", ""),
        status=p.get("status", ""),
    ),
}


def _role(key: Any) -> str:
    from web.views import ROLE_LABELS  # web.views imports this module

    return str(ROLE_LABELS.get(str(key), key or ""))


def _roles(keys: Any) -> str:
    separator = ", " if str(get_locale()) == "en" else "、"
    return separator.join(_role(k) for k in keys or [])


def _widget(node: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    wanted = ui.get("ui:widget", "")
    kind = node.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind == "array":
        from web import form_rows

        if "enum" in node.get("items", {}):
            return "checkboxes"
        return "rows" if form_rows.is_row_array(node) else "json"
    if "enum" in node:
        if wanted in ("radio", "select"):
            return str(wanted)
        return "radio" if len(node["enum"]) <= RADIO_LIMIT else "select"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        formats = {"date": "date", "date-time": "datetime", "email": "email"}
        if node.get("format") in formats:
            return formats[node["format"]]
        return "textarea" if wanted == "textarea" else "text"
    return "json"


def _limits(item: Field, node: Mapping[str, Any]) -> None:
    if isinstance(node.get("maxLength"), int) and item.widget in ("text", "textarea", "email"):
        item.max_length = node["maxLength"]
    if item.widget == "number":
        item.minimum = node.get("minimum")
        item.maximum = node.get("maximum")
        item.step = "1" if node.get("type") == "integer" else "any"


def _raw_values(
    item: Field,
    node: Mapping[str, Any],
    posted: MultiDict[str, str] | None,
    initial: Mapping[str, Any] | None,
    zone: ZoneInfo | None,
) -> list[str]:
    """The field's values as form text: the user's own input when re-rendering, else the initial data."""
    if posted is not None:
        return posted.getlist(item.name)
    zone = zone or ZoneInfo("Asia/Shanghai")
    value = (initial or {}).get(item.name)
    if value is None:
        value = node.get("default")  # the schema's default fills the first showing (a radio group shows its choice)
    if value is None:
        if item.widget == "datetime" and item.required:
            return [now_local_input(zone)]
        return []
    if isinstance(value, list) and item.widget == "checkboxes":
        return [str(v) for v in value]
    if item.widget == "checkbox":
        return ["on"] if value is True else []
    if item.widget == "datetime":
        return [local_input_value(value, zone)]
    if item.widget == "json":
        return [json.dumps(value, ensure_ascii=False, indent=2)]
    return [str(value)]


def _fill(item: Field, node: Mapping[str, Any], raw: list[str], lang: str) -> None:
    if item.widget == "checkbox":
        item.checked = bool(raw) and raw[0] in ("on", "true", "1", "yes")
        return
    if item.widget in ("radio", "select", "checkboxes"):
        enum_node = node.get("items", {}) if item.widget == "checkboxes" else node
        item.options = [
            Option(value=str(v), label=text, selected=str(v) in raw)
            for v, text in zip(enum_node["enum"], enum_names(enum_node, lang), strict=True)
        ]
        return
    item.value = raw[0] if raw else ""


def enum_names(node: Mapping[str, Any], lang: str) -> list[str]:
    """The labels of an enum's values in the current language (`x-enumNames`, English in `x-i18n.en`)."""
    values = [str(v) for v in node.get("enum", [])]
    names = node.get("x-i18n", {}).get("en", {}).get("enumNames") if lang == "en" else node.get("x-enumNames")
    if isinstance(names, list) and len(names) == len(values):
        return [str(n) for n in names]
    return values


def _enum_value(node: Mapping[str, Any], text: str) -> Any:
    """The enum member whose text form was posted (so integer enums come back as integers)."""
    return next((v for v in node.get("enum", []) if str(v) == text), text)


def typed_value(node: Mapping[str, Any], text: str, zone: ZoneInfo | None = None) -> Any:
    """Form text as the JSON value its schema node expects; text that does not convert is returned unchanged."""
    if "enum" in node:
        return _enum_value(node, text)
    kind = node.get("type")
    if kind in ("integer", "number"):
        try:
            number = float(text)
        except ValueError:
            return text
        if not math.isfinite(number):
            return text
        return int(number) if kind == "integer" and number.is_integer() else number
    if kind == "string":
        if node.get("format") == "date-time":
            return from_local_input(text, zone or ZoneInfo("Asia/Shanghai"))
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def enum_labels(schemas: list[Mapping[str, Any]], lang: str) -> dict[str, dict[str, str]]:
    """property name → {enum value → label} across several form schemas (to label stored CSI facts)."""
    labels: dict[str, dict[str, str]] = {}
    for schema in schemas:
        for name, node in schema.get("properties", {}).items():
            enum_node = node.get("items", {}) if node.get("type") == "array" else node
            if isinstance(enum_node, dict) and "enum" in enum_node:
                values = [str(v) for v in enum_node["enum"]]
                labels.setdefault(name, {}).update(zip(values, enum_names(enum_node, lang), strict=True))
            elif isinstance(enum_node, dict) and enum_node.get("type") == "object":
                labels_of_columns(enum_node, lang, labels)
    return labels


def labels_of_columns(node: Mapping[str, Any], lang: str, labels: dict[str, dict[str, str]]) -> None:
    """Add the enum labels of an object's properties (row columns such as `parts_used.source`) to `labels`."""
    for column, column_node in node.get("properties", {}).items():
        if isinstance(column_node, dict) and "enum" in column_node:
            values = [str(v) for v in column_node["enum"]]
            labels.setdefault(column, {}).update(zip(values, enum_names(column_node, lang), strict=True))
