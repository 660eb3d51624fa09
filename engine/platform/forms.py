"""Task forms: JSON Schemas deployed beside the BPMN, validated server-side with per-field messages.

A designer's `pattern` / `patternProperties` runs on RE2 (linear time: `^(a+)+$` cannot backtrack) instead of
Python's `re`, and only on text up to MAX_PATTERN_INPUT characters; the deploy lint refuses patterns RE2 cannot
compile (backreferences, lookaround): engine/bpmn/patterns.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema import FormatChecker
from jsonschema import validators
from jsonschema._utils import extras_msg
from jsonschema.exceptions import ValidationError

from engine.bpmn.patterns import compiled_pattern
from engine.bpmn.patterns import pattern_problem
from engine.bpmn.specs import ParsedBundle
from engine.errors import InvalidInputError
from engine.errors import Problem

MAX_DEPTH = 8
MAX_BYTES = 200_000
RESERVED_KEYS = frozenset({"typename", "csi_id", "csi_no", "kind", "overseas", "plan_due_at", "initiator"})
MAX_PATTERN_INPUT = 10_000  # characters a `pattern` is matched against; longer text fails the pattern
MAX_MAGNITUDE = 10**15  # past 2**53 a JSON number loses integer precision, and no record column holds it
MAX_NAMED_UNKNOWN = 20  # unknown fields an answer names one by one (more, or a name past FIELD_NAME_LIMIT: `data`)
FIELD_NAME_LIMIT = 64  # the longest field name an answer echoes back (no form field is longer: BPMN ids are 64)
FIRST_YEAR, LAST_YEAR = 1900, 2199  # any date a form takes; a model's own checks narrow it (e.g. not in the future)


def _search(pattern: str, text: str) -> bool:
    return len(text) <= MAX_PATTERN_INPUT and compiled_pattern(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """JSON Schema `pattern` on RE2 with an input length cap."""
    if not validator.is_type(instance, "string"):
        return
    if len(instance) > MAX_PATTERN_INPUT:
        yield ValidationError(f"is longer than {MAX_PATTERN_INPUT} characters, too long to check its format")
    elif pattern_problem(pattern) is not None or not _search(pattern, instance):
        yield ValidationError(f"{instance[:80]!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """JSON Schema `patternProperties` on RE2 (property names are checked with the same cap)."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if pattern_problem(pattern) is None and _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """JSON Schema `additionalProperties`, telling extras from `patternProperties` matches with RE2."""
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = [p for p in schema.get("patternProperties", {}) if pattern_problem(p) is None]
    extras = sorted(k for k in instance if k not in known and not any(_search(p, k) for p in patterns))
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras and "patternProperties" in schema:
        joined = ", ".join(repr(each) for each in extras)
        verb = "does" if len(extras) == 1 else "do"
        regexes = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
        yield ValidationError(f"{joined} {verb} not match any of the regexes: {regexes}")
    elif not allowed and extras:  # jsonschema's own wording
        names, verb = extras_msg(extras)
        yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")


_SafeValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
)


def date_problem(value: str, *, with_time: bool) -> str | None:
    """Why an RFC 3339 date (or date-time with its offset) cannot be recorded, or None: it must parse, and it and its
    UTC instant must fall in FIRST_YEAR..LAST_YEAR (`9999-12-31T23:59:59-12:00` is valid RFC 3339 but past year 9999
    in UTC, which no database column holds)."""
    if with_time and ("t" in value or "z" in value):  # RFC 3339 allows them; the operators' ISO 8601 parsing does not
        return "must be written like 2026-11-27T09:30:00+08:00 (capital T and Z)"
    try:
        if with_time:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                return "must include a UTC offset, e.g. 2026-11-27T09:30:00+08:00"
            years: tuple[int, ...] = (parsed.year, parsed.astimezone(UTC).year)
        else:
            years = (date.fromisoformat(value).year,)
    except ValueError:
        return f"must be a valid date between {FIRST_YEAR} and {LAST_YEAR}"
    except OverflowError:  # its UTC instant is past year 9999 or before year 1
        return f"must be a date between {FIRST_YEAR} and {LAST_YEAR}"
    if not all(FIRST_YEAR <= year <= LAST_YEAR for year in years):
        return f"must be a date between {FIRST_YEAR} and {LAST_YEAR}"
    return None


def _format_checker() -> FormatChecker:
    """JSON Schema's format checks, with `date` and `date-time` also held to the years a record can take."""
    checker = FormatChecker()
    for name, with_time in (("date", False), ("date-time", True)):
        base, raises = checker.checkers[name]

        def check(instance: object, base: Any = base, with_time: bool = with_time) -> bool:
            return not isinstance(instance, str) or bool(
                base(instance) and date_problem(instance, with_time=with_time) is None
            )

        checker.checks(name, raises=raises)(check)
    return checker


_FORMATS = _format_checker()
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any]] = {}  # id(schema) -> (schema kept alive, its validator)
_VALIDATORS_LIMIT = 1024


def form_validator(schema: Mapping[str, Any]) -> Any:
    """A Draft 2020-12 validator for a form schema whose regular expressions run on RE2, built once per schema
    object (deployed schemas live in the cached parsed bundles, so each form's validator is built once)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    validator = _SafeValidator(schema, format_checker=_FORMATS)
    if len(_VALIDATORS) >= _VALIDATORS_LIMIT:
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


@dataclass(frozen=True)
class TaskForm:
    """A user task's form: its JSON Schema and optional UI hints."""

    schema: dict[str, Any]
    ui_schema: dict[str, Any]


def task_form(bundle: ParsedBundle, form_file: str | None, ui_file: str | None) -> TaskForm:
    """Load a task's form from its deployed bundle (the lint guarantees the schema exists)."""
    schema = bundle.form(form_file) if form_file else None
    ui_schema = bundle.form(ui_file) if ui_file else None
    return TaskForm(schema=schema or {"type": "object", "properties": {}}, ui_schema=ui_schema or {})


def validate_form_data(form: TaskForm, data: Any) -> dict[str, Any]:
    """Check submitted data against the form schema and input hygiene rules; return it unchanged when valid.

    :raises InvalidInputError: with one message per failing field; the caller changes nothing.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError("form data must be a JSON object", {"data": "expected an object"})
    problems = _hygiene_problems(data)
    validator = form_validator(form.schema)
    for error in sorted(validator.iter_errors(dict(data)), key=lambda e: [str(p) for p in e.absolute_path]):
        for field in _field_names(error):
            problems.setdefault(field, _message(error))
    trimmed = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
    if trimmed != data:  # text that must not be empty must not be blank either ("   " is no reason)
        for error in validator.iter_errors(trimmed):
            if error.validator == "minLength":
                for field in _field_names(error):
                    problems.setdefault(field, _message(error))
    if problems:
        raise InvalidInputError("the form has errors", problems)
    return dict(data)


def _hygiene_problems(data: Mapping[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    try:
        size = len(json.dumps(data, allow_nan=False))
    except (ValueError, TypeError) as exc:
        return {"data": Problem("invalid", f"not valid JSON data: {exc}")}
    if size > MAX_BYTES:
        problems["data"] = Problem("too_large", f"form data is {size} bytes; the limit is {MAX_BYTES}", limit=MAX_BYTES)
    for key, value in data.items():
        bad_name = _bad_value(key, 1)
        name = "data" if bad_name or len(str(key)) > FIELD_NAME_LIMIT else str(key)  # no form has it: not echoed
        if key in RESERVED_KEYS:
            problems[name] = Problem("reserved", "this field is set by the system and cannot be submitted")
        bad = bad_name or _bad_value(value, 1, numbers=True)
        if bad:
            problems.setdefault(name, bad)
    return problems


def unstorable_text(body: Any) -> dict[str, str]:
    """Fields of a JSON body holding text no database can store (NUL, unpaired surrogates) or nested too deep, by
    top-level field (`body` when the body is not an object), so a request is refused before anything is written."""
    if not isinstance(body, dict):
        bad = _bad_value(body, 0)
        return {"body": bad} if bad else {}
    problems: dict[str, str] = {}
    for key, value in body.items():
        bad = _bad_value(key, 1) or _bad_value(value, 1)
        if bad:
            problems[str(key)] = bad
    return problems


def _bad_value(value: Any, depth: int, *, numbers: bool = False) -> Problem | None:
    """The first unstorable part of a value; `numbers`: also a number beyond ±MAX_MAGNITUDE (form data, whose
    numbers reach records; an API body's own fields have their own checks and unknown ones are ignored)."""
    if depth > MAX_DEPTH:
        return Problem("too_deep", f"nested deeper than {MAX_DEPTH} levels", limit=MAX_DEPTH)
    if isinstance(value, str):
        if "\x00" in value:
            return Problem("control", "contains a NUL character")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            return Problem("control", "contains an unpaired surrogate character")
    elif numbers and isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_MAGNITUDE:
        return Problem("range", f"must be between -{MAX_MAGNITUDE:,} and {MAX_MAGNITUDE:,}", limit=MAX_MAGNITUDE)
    elif isinstance(value, list):
        return next((m for m in (_bad_value(v, depth + 1, numbers=numbers) for v in value) if m), None)
    elif isinstance(value, dict):
        return next((m for m in (_bad_value(v, depth + 1, numbers=numbers) for v in value.values()) if m), None)
    return None


def _field_names(error: ValidationError) -> list[str]:
    """The top-level fields an error is about (every missing one for `required`, every extra one)."""
    path = [str(part) for part in error.absolute_path]
    if path:
        return [path[0]]
    if error.validator == "required" and isinstance(error.instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        return [str(name) for name in required if name not in error.instance] or ["data"]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        patterns = [p for p in schema.get("patternProperties", {}) if pattern_problem(p) is None]
        extra = [str(n) for n in error.instance if n not in allowed and not any(_search(p, n) for p in patterns)]
        named = [n for n in extra if len(n) <= FIELD_NAME_LIMIT and _bad_value(n, 1) is None][:MAX_NAMED_UNKNOWN]
        return named + ["data"] if len(named) < len(extra) or not extra else named
    return ["data"]


def problem_for(error: ValidationError) -> Problem:
    """The coded problem of one JSON Schema error, by its keyword (the web says it in the user's language)."""
    keyword, limit = str(error.validator), error.validator_value
    if keyword == "required":
        return Problem("required", "this field is required")
    if keyword == "additionalProperties":
        return Problem("unknown", "unknown field")
    if keyword == "enum":
        choices = limit if isinstance(limit, list) else []
        return Problem("choice", "must be one of: " + ", ".join(str(v) for v in choices), choices=choices)
    if keyword == "format" and limit in ("date", "date-time"):
        why = date_problem(error.instance, with_time=limit == "date-time") if isinstance(error.instance, str) else None
        return Problem("date" if limit == "date" else "datetime", why or str(error.message))
    if keyword == "type":
        wanted = limit if isinstance(limit, str) else ""
        text = f"must be of type {wanted}" if wanted else "has the wrong type"  # never the value echoed back
        return Problem("number" if wanted in ("integer", "number") else "type", text, type=wanted)
    if keyword in _SIZE_TEXTS:
        return Problem(_KEYWORD_CODES[keyword], _SIZE_TEXTS[keyword].format(limit), limit=limit)
    return Problem(_KEYWORD_CODES.get(keyword, "invalid"), clipped(str(error.message)), limit=limit)


_SIZE_TEXTS = {  # jsonschema's own texts repeat the whole value ("'xxx…' is too long"): 5,000 characters back
    "maxLength": "must be at most {} characters",
    "minLength": "must be at least {} characters",
    "maxItems": "must have at most {} items",
    "minItems": "must have at least {} items",
}


def clipped(text: str, limit: int = 300) -> str:
    """Text echoed back to a caller, cut to `limit` characters (a value or id from the request can be huge)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_KEYWORD_CODES = {
    "minLength": "too_short",
    "minItems": "too_short",
    "maxLength": "too_long",
    "maxItems": "too_long",
    "uniqueItems": "unique",
    "minimum": "range",
    "maximum": "range",
    "exclusiveMinimum": "range",
    "exclusiveMaximum": "range",
    "multipleOf": "range",
    "pattern": "pattern",
    "const": "choice",
}


def _message(error: ValidationError) -> Problem:
    return problem_for(error)
