"""Repeatable rows for array fields of task forms (SO lines, parts used, engineers, training modules).

Works without JavaScript: the page shows numbered rows (5 for objects, 3 for plain values, more when the user's
input needs them) whose inputs are named `lines-0-part_no` (an array of objects) or `engineers-0` (an array of
plain values). Fully blank rows are dropped on parse, so spare rows cost nothing; web/static/js/app.js only adds an
"add row" button and hides the spare rows. Each cell is typed from its column schema (integer, number, enum,
boolean, text). The engine names only the top-level field (`lines`) when something is wrong, so after a failed
submit each posted row is checked against the item schema here to mark the bad cells inline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.errors import code_of
from engine.platform.forms import form_validator
from engine.platform.forms import problem_for
from web.forms import Option
from web.forms import enum_names
from web.forms import localize_error
from web.forms import localized
from web.forms import typed_value

OBJECT_ROWS = 5
VALUE_ROWS = 3
HARD_LIMIT = 200  # never render or parse more rows than this, whatever maxItems says
SCALARS = ("string", "integer", "number", "boolean")


@dataclass
class Column:
    """One column of a row editor; `name` is '' for an array of plain values."""

    name: str
    widget: str  # text | number | date | select | checkbox
    label: str
    description: str = ""
    required: bool = False
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: str = "any"


@dataclass
class Cell:
    """One input of one row."""

    column: Column
    name: str
    value: str = ""
    checked: bool = False
    options: list[Option] = field(default_factory=list)
    error: str = ""


@dataclass
class Row:
    """One numbered row (1-based) with its cells and a message for the row as a whole."""

    number: int
    cells: list[Cell]
    error: str = ""

    @property
    def has_error(self) -> bool:
        """True when the row or one of its cells has a message."""
        return bool(self.error) or any(c.error for c in self.cells)


def is_row_array(node: Mapping[str, Any]) -> bool:
    """Arrays of plain values (not enums: those are checkboxes) or of flat objects get the row editor."""
    if node.get("type") != "array" or not isinstance(node.get("items"), Mapping):
        return False
    items = node["items"]
    if items.get("type") == "object":
        columns = items.get("properties", {})
        return bool(columns) and all(isinstance(c, Mapping) and c.get("type") in SCALARS for c in columns.values())
    return items.get("type") in SCALARS and "enum" not in items


def columns_of(node: Mapping[str, Any], ui: Mapping[str, Any], lang: str) -> list[Column]:
    """The editor's columns in `items.ui:order` order, labelled in the current language."""
    items = node["items"]
    if items.get("type") != "object":
        return [_column("", items, required=True, lang=lang)]
    required = set(items.get("required", []))
    order = ui.get("items", {}).get("ui:order", []) if isinstance(ui.get("items"), Mapping) else []
    names = [n for n in order if n in items["properties"]]
    names += [n for n in items["properties"] if n not in names]
    return [_column(n, items["properties"][n], required=n in required, lang=lang) for n in names]


def _column(name: str, node: Mapping[str, Any], *, required: bool, lang: str) -> Column:
    column = Column(
        name=name,
        widget=_cell_widget(node),
        label=localized(node, "title", lang) or name or _("Value"),
        description=localized(node, "description", lang),
        required=required,
    )
    if isinstance(node.get("maxLength"), int) and column.widget == "text":
        column.max_length = node["maxLength"]
    if column.widget == "number":
        column.minimum = node.get("minimum")
        column.maximum = node.get("maximum")
        column.step = "1" if node.get("type") == "integer" else "any"
    return column


def _cell_widget(node: Mapping[str, Any]) -> str:
    if "enum" in node:
        return "select"
    kind = node.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    return "date" if node.get("format") == "date" else "text"


def input_name(field_name: str, index: int, column: str) -> str:
    """`lines-0-part_no` for a column of an object row, `engineers-0` for a plain value."""
    return f"{field_name}-{index}-{column}" if column else f"{field_name}-{index}"


def build_rows(
    name: str,
    node: Mapping[str, Any],
    ui: Mapping[str, Any],
    lang: str,
    *,
    posted: MultiDict[str, str] | None,
    initial: Any,
    check: bool,
) -> tuple[list[Column], list[Row], int]:
    """Columns, rows (the user's rows first, then blank ones) and the most rows the field allows.

    `check` (after a failed submit) validates each posted row against the item schema to mark bad cells.
    """
    columns = columns_of(node, ui, lang)
    limit = max_rows(node)
    if posted is not None:
        values = posted_rows(name, columns, posted)
    else:
        values = _initial_rows(columns, initial)
    shown = min(limit, max(len(values) + 1, _default_rows(node, ui)))
    rows = []
    for index in range(max(shown, len(values))):
        raw = values[index] if index < len(values) else {}
        cells = [_cell(name, index, c, node, raw.get(c.name, ""), lang) for c in columns]
        rows.append(Row(number=index + 1, cells=cells))
    if check and values:
        _mark_errors(rows, node, values)
    return columns, rows, limit


def max_rows(node: Mapping[str, Any]) -> int:
    """maxItems, capped by HARD_LIMIT."""
    wanted = node.get("maxItems")
    return min(wanted, HARD_LIMIT) if isinstance(wanted, int) and wanted > 0 else HARD_LIMIT


def _default_rows(node: Mapping[str, Any], ui: Mapping[str, Any]) -> int:
    wanted = ui.get("ui:rows")
    if isinstance(wanted, int) and wanted > 0:
        return wanted
    return OBJECT_ROWS if node["items"].get("type") == "object" else VALUE_ROWS


def _cell(name: str, index: int, column: Column, node: Mapping[str, Any], raw: str, lang: str) -> Cell:
    cell = Cell(column=column, name=input_name(name, index, column.name))
    if column.widget == "checkbox":
        cell.checked = raw in ("on", "true", "1", "yes", "True")
    elif column.widget == "select":
        column_node = _column_node(node, column.name)
        values = [str(v) for v in column_node.get("enum", [])]
        labels = enum_names(column_node, lang)
        cell.options = [Option(value=v, label=t, selected=v == raw) for v, t in zip(values, labels, strict=True)]
    else:
        cell.value = raw
    return cell


def _column_node(node: Mapping[str, Any], column: str) -> Mapping[str, Any]:
    items: Mapping[str, Any] = node["items"]
    if not column:
        return items
    found: Mapping[str, Any] = items["properties"][column]
    return found


def _initial_rows(columns: list[Column], initial: Any) -> list[dict[str, str]]:
    """Stored values (a list of objects or of plain values) as form text per column."""
    if not isinstance(initial, list):
        return []
    rows = []
    for item in initial:
        if isinstance(item, Mapping):
            rows.append({c.name: _text(item.get(c.name)) for c in columns if c.name})
        else:
            rows.append({"": _text(item)})
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def posted_rows(name: str, columns: list[Column], form: MultiDict[str, str]) -> list[dict[str, str]]:
    """The posted rows in row order, each as column → stripped text, fully blank rows dropped."""
    pattern = re.compile(rf"^{re.escape(name)}-(\d{{1,4}})(?:-(\w+))?$")
    indices = sorted({int(m.group(1)) for key in form.keys() if (m := pattern.match(key))})[:HARD_LIMIT]
    rows = []
    for index in indices:
        raw = {c.name: form.get(input_name(name, index, c.name), "").replace("\r\n", "\n").strip() for c in columns}
        if any(raw.values()):
            rows.append(raw)
    return rows


def parse_rows(name: str, node: Mapping[str, Any], form: MultiDict[str, str]) -> list[Any]:
    """Typed items from the posted rows (plain repeated `name` values are accepted too, for plain arrays).

    A blank cell of a kept row is left out, so the engine reports the missing value instead of guessing one.
    """
    columns = columns_of(node, {}, "en")
    items: list[Any] = []
    for raw in posted_rows(name, columns, form):
        items.append(typed_row(node, raw))
    if node["items"].get("type") != "object":
        items += [typed_value(node["items"], v.strip()) for v in form.getlist(name) if v.strip()]
    return items


def typed_row(node: Mapping[str, Any], raw: Mapping[str, str]) -> Any:
    """One row's text as the item the schema expects (an object, or a plain value)."""
    items = node["items"]
    if items.get("type") != "object":
        return typed_value(items, raw.get("", ""))
    out: dict[str, Any] = {}
    for column, column_node in items["properties"].items():
        text = raw.get(column, "")
        if column_node.get("type") == "boolean":
            out[column] = text in ("on", "true", "1", "yes")
        elif text != "":
            out[column] = typed_value(column_node, text)
    return out


def _mark_errors(rows: list[Row], node: Mapping[str, Any], values: list[dict[str, str]]) -> None:
    """Check each posted row against the item schema and put each message on its cell (or on the row)."""
    validator = form_validator(node["items"])
    for row, raw in zip(rows, values, strict=False):
        cells = {c.column.name: c for c in row.cells}
        for error in validator.iter_errors(typed_row(node, raw)):
            path = [str(p) for p in error.absolute_path]
            if error.validator == "required" and isinstance(error.validator_value, list):
                targets = [n for n in error.validator_value if n not in error.instance]
            else:
                targets = [path[0] if path else ""]
            message = localize_error(problem_for(error))
            for target in targets:
                cell = cells.get(target)
                if cell is None:
                    row.error = row.error or message
                elif not cell.error:
                    cell.error = message


def rows_message(rows: list[Row], engine_message: str) -> str:
    """The field's own message: point at the marked rows, or say a row is needed, else the engine's words."""
    if any(r.has_error for r in rows):
        return str(_("Check the marked rows."))
    code = code_of(engine_message)
    if code in ("too_short", "required"):
        return str(_("Add at least one row."))
    if code == "unique":
        return str(_("Each row must be different."))
    if code == "too_long":
        return str(_("Too many rows."))
    return localize_error(engine_message)
