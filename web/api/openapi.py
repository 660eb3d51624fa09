"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API (hand-written: it is the published contract)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from engine.aftersales.cases.attachments import ALLOWED_TYPES
from engine.aftersales.cases.attachments import ATTACHMENT_KINDS
from engine.records.csi import CaseKind
from engine.records.csi import CSIStatus
from engine.records.process import InstanceStatus
from engine.reports.monitoring import SORTS
from web.api import bp
from web.api.paging import MAX_PER_PAGE
from web.api.records import RECORD_TYPES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "seconds to wait"}}
ERRORS = {
    str(code): _json(_ref("Error"), text)
    for code, text in (
        (401, "Not signed in"),
        (403, "Wrong role or claimed by someone else"),
        (404, "Not found"),
        (409, "No longer open / changed concurrently"),
        (422, "Invalid input; `fields` names each bad field"),
    )
}
ERRORS["503"] = {
    **_json(_ref("Error"), "The database is unreachable, full, read-only or busy; nothing was saved; retry later"),
    "headers": RETRY_AFTER,
}
TOO_LARGE = {"413": _json(_ref("Error"), "The upload is larger than allowed")}
MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000
NO_NUL = "NUL characters are refused."
# "Not only white space", with white space as the server's str.strip() sees it (ECMA's \s differs: U+0085, U+FEFF)
NOT_BLANK = "[^" + "".join(f"\\u{c:04x}" for c in range(0x3001) if chr(c).isspace()) + "]"


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, **ERRORS}, **extra}


def _path_param(name: str, kind: str = "string") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if kind == "integer":
        schema.update(minimum=1, maximum=MAX_ID)
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _text(max_length: int, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    """A text field the server trims; a required one must hold more than white space."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, **extra}
    if required:
        schema["pattern"] = NOT_BLANK
    schema["description"] = (schema.get("description", "") + " " + NO_NUL).strip()
    return schema


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SUPPLIER_FIELDS: dict[str, Any] = {
    "name": _text(200, required=True),
    "contact": _text(100),
    "phone": _text(40),
    "email": {"type": ["string", "null"], "maxLength": 200, "description": "An e-mail address."},
    "active": {"type": "boolean", "description": "Only active suppliers can be named on a new claim."},
}
MONEY_TEXT = {"type": ["string", "null"], "description": 'CNY with two decimals, e.g. "1200.00".'}
SCHEMAS: dict[str, Any] = {
    "Supplier": {
        "type": "object",
        "required": ["code", "name", "active"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "contact": {"type": ["string", "null"]},
            "phone": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "active": {"type": "boolean"},
        },
    },
    "SupplierClaim": {
        "type": "object",
        "required": ["sc_no", "status"],
        "properties": {
            "sc_no": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["open", "submitted", "accepted", "partly_accepted", "rejected", "settled", "cancelled"],
                "description": "open → submitted → accepted | partly_accepted | rejected → settled (§5.5)",
            },
            "supplier": {"type": ["string", "null"], "description": "The supplier's name as claimed."},
            "supplier_code": {"type": ["string", "null"], "description": "None on claims before the master."},
            "parts": {"type": "array", "items": {"type": "object"}},
            "reason": {"type": ["string", "null"]},
            "claim_amount": MONEY_TEXT,
            "accepted_amount": MONEY_TEXT,
            "recovered_amount": MONEY_TEXT,
            "created_at": {"type": "string", "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "message", "fields"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string"},
                        "line": {"type": ["integer", "null"]},
                        "message": {"type": "string"},
                        "element_id": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
    "Sla": {
        "type": "object",
        "properties": {
            "applies": {"type": "boolean", "description": "§4.6 counts this case (reviewed kinds, not cancelled)"},
            "running": {"type": "boolean", "description": "the clock runs now: applies, undecided, open, not paused"},
            "paused": {"type": "boolean"},
            "paused_at": {"type": ["string", "null"], "format": "date-time"},
            "pause_reason": {"type": ["string", "null"]},
            "paused_working_days": {"type": "integer", "description": "working days excluded from the clock"},
            "plan_due_at": {"type": "string", "format": "date-time"},
            "provisional": {"type": "boolean"},
            "breached": {"type": "boolean"},
            "breached_at": {"type": ["string", "null"]},
            "decided_at": {"type": ["string", "null"]},
            "exception_reason": {"type": ["string", "null"]},
        },
    },
    "NewCase": {
        "type": "object",
        "required": ["kind", "customer_code", "description"],
        "properties": {
            "kind": {"type": "string", "enum": [k.value for k in CaseKind]},
            "customer_code": _text(32, required=True, description="An existing customer's code."),
            "origin_so_no": _text(32, description="SO#; required for quality complaints (§4.2); must exist."),
            "serial_no": _text(64, description="Must be on that SO#."),
            "description": _text(4000, required=True),
            "received_at": {
                "type": "string",
                "format": "date-time",
                "description": "With a UTC offset; not in the future; default now (the §4.6 clock starts here).",
            },
            "channel": _text(32),
            "overseas": {"type": "boolean"},
        },
        "additionalProperties": False,
        "if": {"properties": {"kind": {"const": "quality_complaint"}}, "required": ["kind"]},
        "then": {"required": ["origin_so_no"], "properties": {"origin_so_no": {"pattern": NOT_BLANK}}},
    },
    "CaseCreated": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "csi_no": {"type": "string"},
            "kind": {"type": "string"},
            "status": {"type": "string"},
            "process_instance_id": {"type": "integer"},
            "sla": _ref("Sla"),
            "possible_duplicates": {
                "type": "array",
                "description": "on registration: open cases of the same customer for the same serial number or SO#",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "csi_no": {"type": "string"},
                        "status": {"type": "string"},
                    },
                },
            },
        },
    },
    "CaseSummary": {
        "allOf": [_ref("CaseCreated"), {"type": "object", "properties": {"csi": {"type": "object"}}}],
    },
    "Case": {
        "allOf": [
            _ref("CaseCreated"),
            {
                "type": "object",
                "properties": {
                    "csi": {"type": "object"},
                    "records": {"type": "object"},
                    "open_tasks": {"type": "array"},
                    "attachments": {"type": "array"},
                    "timeline": {"type": "array"},
                    "cancelled": {
                        "type": ["object", "null"],
                        "description": "at, by, reason and duplicate_of {id, csi_no} once withdrawn",
                    },
                    "duplicates": {"type": "array", "description": "cases withdrawn as duplicates of this one"},
                    "timeline_total": {"type": "integer"},
                    "timeline_page": {"type": "integer"},
                    "timeline_per_page": {"type": "integer"},
                },
            },
        ]
    },
    "Task": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "case_id": {"type": ["integer", "null"]},
            "csi_no": {"type": ["string", "null"]},
            "process_id": {"type": "string"},
            "business_key": {"type": ["string", "null"], "description": "how people name the instance (e.g. CSI no.)"},
            "bpmn_id": {"type": "string"},
            "name": {"type": "string"},
            "lane": {"type": "string"},
            "assignee": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "form": {"type": "object", "properties": {"schema": {"type": "object"}, "ui_schema": {"type": "object"}}},
        },
    },
    "Link": {
        "type": ["object", "null"],
        "properties": {"type": {"type": "string"}, "number": {"type": "string"}, "api": {"type": "string"}},
    },
    "Record": {
        "type": "object",
        "description": "One record of the document chain (§5–§6) with its links both ways; money as text.",
        "required": ["type", "number", "case_id"],
        "properties": {
            "type": {"type": "string", "enum": list(RECORD_TYPES)},
            "number": {"type": "string"},
            "case_id": {"type": "integer"},
            "csi": _ref("Link"),
            "wo": _ref("Link"),
            "psr": {"oneOf": [_ref("Link"), {"type": "array", "items": _ref("Link")}]},
            "fee_so": _ref("Link"),
            "po": {"type": "array", "items": _ref("Link")},
            "quality_feedback": {"type": "array", "items": _ref("Link")},
            "survey": {"type": "array", "items": _ref("Link")},
            "supplier_claim": {"type": "array", "items": _ref("Link")},
            "part_return": _ref("Link"),
            "exchange_so": _ref("Link"),
            "steps": {
                "type": "array",
                "description": "part returns (§3.1): the steps so far, each {step, by, at}",
                "items": {"type": "object"},
            },
            "csi_snapshot": {"type": "object", "description": "supplier claims: the CSI as copied to Sales"},
            "chain": {"type": "object", "description": "csi: the whole document chain"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "PartReturn": {
        "type": "object",
        "description": "A returned spare part (§3.1) with its steps: registered → received → inspected → exchanged "
        "(with the replacement's parts SO, §5.2) | credited | refused; cancelled with its case.",
        "required": ["rt_no", "number", "status", "case_id"],
        "properties": {
            "rt_no": {"type": "string"},
            "number": {"type": "string"},
            "type": {"type": "string", "enum": ["part-return"]},
            "case_id": {"type": "integer"},
            "csi": _ref("Link"),
            "status": {
                "type": "string",
                "enum": ["registered", "received", "inspected", "exchanged", "credited", "refused", "cancelled"],
            },
            "origin_so_no": {"type": ["string", "null"], "description": "the sale's SO# (the CSI's)"},
            "part_no": {"type": "string"},
            "quantity": {"type": "integer"},
            "remedy": {"type": "string", "enum": ["return", "exchange", "compensation"]},
            "reason": {"type": "string"},
            "responsibility": {"type": ["string", "null"]},
            "decision": {"type": ["string", "null"]},
            "exchange_so": _ref("Link"),
            "credit_amount": {"type": ["string", "null"], "description": "money as text"},
            "credit_note_ref": {"type": ["string", "null"]},
            "refusal_reason": {"type": ["string", "null"]},
            "steps": {"type": "array", "items": {"type": "object"}},
            "process_instance_id": {"type": ["integer", "null"]},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Archive": {
        "type": "object",
        "description": "Service archive per factory serial number (§2.2, §3.1), history in time order.",
        "properties": {
            "serial_no": {"type": "string"},
            "unit": {"type": "object"},
            "cases": {"type": "array", "items": {"type": "object"}},
            "work_orders": {"type": "array", "items": {"type": "object"}},
            "visits": {"type": "array", "items": {"type": "object"}},
            "parts_changed": {"type": "array", "items": {"type": "object"}},
            "quality_feedback": {"type": "array", "items": {"type": "object"}},
            "surveys": {"type": "array", "items": {"type": "object"}},
            "supplier_claims": {"type": "array", "items": {"type": "object"}},
            "training_plans": {"type": "array", "items": {"type": "object"}},
            "part_returns": {"type": "array", "items": {"type": "object"}},
            "events": {"type": "array", "items": {"type": "object"}},
        },
    },
    "ProcessVersion": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "process_id": {"type": "string"},
            "version": {"type": "integer"},
            "name": {"type": "string"},
            "sha256": {"type": "string"},
            "deployed_at": {"type": "string"},
            "deployed_by": {"type": "string"},
        },
    },
}

TASK = [_path_param("task_id")]
INSTANCE_STATUSES = [s.value for s in InstanceStatus]
SORT_KEYS = [prefix + key for key in SORTS for prefix in ("", "-")]
# query filters: an empty value means "not set", as the monitoring page's form sends them
ELEMENT_ID = {"type": "string", "pattern": r"^([A-Za-z_][A-Za-z0-9_.\-]{0,63})?$"}
DATE = {"type": "string", "anyOf": [{"format": "date"}, {"maxLength": 0}]}
VERSION_FILTER = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 999_999}, {"type": "string", "maxLength": 0}]}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (e.g. a UUID): a retry with the same key and body gets the first answer again "
    "(header Idempotent-Replayed: true) and changes nothing twice; the same key with another body is a 422. "
    "Kept 24 hours per user.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}
CASE = [_path_param("case_id", "integer")]


def _case_action(
    summary: str, conflict: str, field: str = "reason", limit: int = 1000, *, required: bool = True
) -> dict[str, Any]:
    """A POST on one case that takes one text field and answers the case, or 409 with `conflict`."""
    body: dict[str, Any] = {"type": "object", "properties": {field: _text(limit, required=required)}}
    if required:
        body = {"type": "object", "required": [field], "properties": body["properties"]}
    return _op(
        summary,
        {"200": _json(_ref("Case")), "409": _json(_ref("Error"), conflict)},
        parameters=CASE,
        requestBody=_body(body),
    )


TIMELINE_PAGING = [
    _query("timeline_page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "timeline page, 1 = newest"),
    _query("timeline_per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "timeline page size (200)"),
]

COMPLETION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "task": {"type": "object", "properties": {"id": {}, "status": {"type": "string"}}},
        "case": {"oneOf": [_ref("CaseSummary"), _ref("Case")]},
        "instance": {"type": "object"},
        "next_tasks": {"type": "array", "items": _ref("Task")},
    },
}

PATHS: dict[str, Any] = {
    "/auth/token": {
        "post": _op(
            "Issue a Bearer token (sign-in failures are throttled per user name and per client address)",
            {
                "200": _json({"type": "object", "properties": {"token": {"type": "string"}}}),
                "429": {
                    **_json(_ref("Error"), "Too many failed sign-ins; wait Retry-After seconds"),
                    "headers": RETRY_AFTER,
                },
            },
            security=[],
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                }
            ),
        )
    },
    "/auth/revoke": {
        "post": _op(
            "Revoke the Bearer token of this request (later calls with it are 401)",
            {"200": _json({"type": "object", "properties": {"revoked": {"type": "boolean"}}})},
        )
    },
    "/cases": {
        "get": _op(
            "Search cases, newest first (roles that read cases): one page with the total",
            {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": {"type": "object"}},
                            "total": {"type": "integer"},
                            "page": {"type": "integer"},
                            "per_page": {"type": "integer"},
                        },
                    }
                )
            },
            parameters=[
                _query("kind", {"type": "string", "enum": ["", *[k.value for k in CaseKind]]}, "kind of request"),
                _query("status", {"type": "string", "enum": ["", *[v.value for v in CSIStatus]]}, "CSI status"),
                _query("from", {"type": "string", "format": "date"}, "received on or after (business-local date)"),
                _query("to", {"type": "string", "format": "date"}, "received on or before (business-local date)"),
                _query(
                    "overdue",
                    {"type": "string", "enum": ["", "1", "0", "true", "false", "yes", "no"]},
                    "§4.6 limit exceeded",
                ),
                _query("customer", {"type": "string", "maxLength": 32}, "customer code"),
                _query("serial", {"type": "string", "maxLength": 64}, "serial number"),
                _query("q", {"type": "string", "maxLength": 64}, "CSI no., SO#, serial or customer"),
                _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "page, from 1"),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200}, "page size (default 50)"),
            ],
        ),
        "post": _op(
            "Register a complaint or request (§4.1–§4.2)",
            {"201": _json(_ref("CaseCreated"))},
            parameters=[IDEMPOTENCY_KEY],
            requestBody=_body(_ref("NewCase")),
        ),
    },
    "/cases/{case_id}": {
        "get": _op(
            "A case with SLA clock, open tasks and one page of its timeline (page 1: the newest entries)",
            {"200": _json(_ref("Case"))},
            parameters=[*CASE, *TIMELINE_PAGING],
        ),
        "patch": _op(
            "Correct the registration until the plan is decided (service manager or supervisor): every registration "
            "check runs again; coverage, warranty, the DMN inputs and the §4.6 deadline are recomputed and its timer "
            "re-armed; a corrected kind restarts the case process; before/after on the timeline; 409 once the plan is "
            "decided or the case closed or cancelled",
            {"200": _json(_ref("Case")), "409": _json(_ref("Error"), "The plan is decided or the case has ended")},
            parameters=CASE,
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["reason"],
                    "minProperties": 2,
                    "properties": {
                        "kind": {"type": "string", "enum": [k.value for k in CaseKind if k != "training_request"]},
                        "customer_code": _text(32),
                        "origin_so_no": {**_text(32), "type": ["string", "null"]},
                        "serial_no": {**_text(64), "type": ["string", "null"]},
                        "description": _text(4000),
                        "received_at": {"type": "string", "format": "date-time"},
                        "reason": _text(1000, required=True),
                    },
                    "additionalProperties": False,
                }
            ),
        ),
    },
    "/cases/{case_id}/withdraw": {
        "post": _case_action(
            "Withdraw a case (service manager or supervisor): status cancelled, its instances end, its open tasks "
            'close; a reason naming another CSI ("duplicate of CSI-2026-000012") links both cases; 409 once closed '
            "or cancelled",
            "The case is closed or cancelled",
        )
    },
    "/cases/{case_id}/signed-original": {
        "post": _case_action(
            "§4.5: record that the signed review original arrived and where it is filed (service manager or "
            "supervisor); 409 before the plan is decided, for a cancelled case, or once recorded",
            "No decided review, or already recorded",
            "location",
            200,
        )
    },
    "/cases/{case_id}/part-returns": {
        "post": _op(
            "§3.1: register a returned spare part on an open case (service manager): the part return (RT number, "
            "the CSI's SO#) is created and its process part_return starts (receive → Engineering/QC inspects → "
            "exchange on a §5.2 parts SO, credit, or refusal, through the task API); 409 on a closed or cancelled "
            "case; 422 naming the field (part_no not in the parts master, quantity, remedy, reason), nothing written",
            {
                "201": _json(_ref("PartReturn")),
                "409": _json(_ref("Error"), "The case is closed or cancelled"),
            },
            parameters=CASE,
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["part_no", "quantity", "remedy", "reason"],
                    "properties": {
                        "part_no": _text(64, required=True, description="a spare part of the parts master"),
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 100_000},
                        "remedy": {"type": "string", "enum": ["return", "exchange", "compensation"]},
                        "reason": _text(2000, required=True, description="the customer's reason"),
                    },
                    "additionalProperties": False,
                }
            ),
        )
    },
    "/part-returns/{rt_no}": {
        "get": _op(
            "A part return (§3.1) by its RT number with its steps and links (readers of its case; 404 unknown)",
            {"200": _json(_ref("PartReturn"))},
            parameters=[_path_param("rt_no")],
        )
    },
    "/cases/{case_id}/sla/pause": {
        "post": _case_action(
            "Pause the §4.6 clock while the case waits on the customer (service supervisor; reason required): no "
            "countdown, no breach; 409 when the clock does not run (training request, plan decided, case ended, "
            "already paused or already breached)",
            "Nothing to pause",
            "reason",
            1000,
        )
    },
    "/cases/{case_id}/sla/resume": {
        "post": _case_action(
            "Resume a paused §4.6 clock (service supervisor): the working days paused (business calendar) move the "
            "deadline and its timer is re-armed; 409 when it is not paused",
            "Not paused",
            required=False,
        )
    },
    "/cases/{case_id}/attachments": {
        "get": _op("The case's attachments", {"200": _json({"type": "array"})}, parameters=CASE),
        "post": _op(
            "Attach a file (§4.3 written feedback)",
            {"201": _json({"type": "object"})},
            parameters=CASE,
            requestBody={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {
                                    "type": "string",
                                    "format": "binary",
                                    "description": "A non-empty .pdf, .png, .jpg/.jpeg, .docx, .xlsx or UTF-8 .txt "
                                    "file whose content matches its extension (checked by magic bytes).",
                                },
                                "kind": {"type": "string", "enum": list(ATTACHMENT_KINDS)},
                                "note": {"type": "string", "description": "Kept up to 500 characters."},
                            },
                        },
                        "encoding": {"file": {"contentType": ", ".join(sorted(set(ALLOWED_TYPES.values())))}},
                    }
                },
            },
        ),
    },
    "/tasks": {
        "get": _op(
            "Open tasks",
            {"200": _json({"type": "array", "items": _ref("Task")})},
            parameters=[
                _query(
                    "scope",
                    {"type": "string", "enum": ["mine", "available", "all"]},
                    "mine: claimed by me; available: unclaimed in my lanes; all (default): both",
                ),
                _query("case_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "only this case's tasks"),
                _query(
                    "page",
                    {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                    "with page or per_page: one page (headers X-Total-Count and Link); without both: the whole list",
                ),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "page size (50)"),
            ],
        )
    },
    "/tasks/{task_id}": {"get": _op("One task with its form", {"200": _json(_ref("Task"))}, parameters=TASK)},
    "/tasks/{task_id}/claim": {"post": _op("Claim a task", {"200": _json(_ref("Task"))}, parameters=TASK)},
    "/tasks/{task_id}/release": {"post": _op("Release a task", {"200": _json(_ref("Task"))}, parameters=TASK)},
    "/tasks/{task_id}/complete": {
        "post": _op(
            "Complete a task: the task's status, the case's summary (the whole case with include=case) and the "
            "open tasks",
            {
                "200": _json(COMPLETION),
                "202": _json(  # the form was accepted and kept, the model failed after it: parked for the administrator
                    {
                        **COMPLETION,
                        "properties": {
                            **COMPLETION["properties"],
                            "held": {
                                "type": "object",
                                "properties": {"message": {"type": "string"}, "bpmn_id": {"type": ["string", "null"]}},
                            },
                        },
                    }
                ),
            },
            parameters=[
                *TASK,
                IDEMPOTENCY_KEY,
                _query(
                    "include",
                    {"type": "string", "enum": ["case"]},
                    "case: answer the whole case view (records, attachments, a timeline page) instead of its summary",
                ),
            ],
            requestBody=_body({"type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}),
        )
    },
    "/records/{type}/{number}": {
        "get": _op(
            "A record by number, with its links both ways (403 without access to its case)",
            {"200": _json(_ref("Record"))},
            parameters=[
                {
                    "name": "type",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(RECORD_TYPES)},
                },
                _path_param("number"),
            ],
        )
    },
    "/products/{code}/warranty-policies": {
        "get": _op(
            "Warranty policy versions of a product (§2.4)",
            {"200": _json({"type": "array"})},
            parameters=[_path_param("code")],
        ),
        "post": _op(
            "Set a new warranty policy version (product_design, §2.4)",
            {"201": _json({"type": "object"})},
            parameters=[_path_param("code")],
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["effective_from", "warranty_months", "scope", "archive_required"],
                    "properties": {
                        "effective_from": {"type": "string", "format": "date"},
                        "warranty_months": {"type": "integer", "minimum": 0, "maximum": 240},
                        "scope": _text(4000, required=True),
                        "archive_required": {"type": "boolean"},
                    },
                }
            ),
        ),
    },
    "/products/{code}/syllabus": {
        "post": _op(
            "Set a new training syllabus version (product_design, §6.1)",
            {"201": _json({"type": "object"})},
            parameters=[_path_param("code")],
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["modules"],
                    "properties": {
                        "modules": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 200,
                            "description": "Module codes must differ.",
                            "items": {
                                "type": "object",
                                "required": ["code", "title", "hours"],
                                "additionalProperties": False,
                                "properties": {
                                    "code": _text(32, required=True),
                                    "title": _text(200, required=True),
                                    "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                                },
                            },
                        }
                    },
                }
            ),
        )
    },
    "/service-contracts": {
        "post": _op(
            "Record a service contract (§3.2)",
            {"201": _json({"type": "object"})},
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["contract_no", "customer_code", "valid_from", "valid_to"],
                    "properties": {
                        "contract_no": _text(32, required=True, description="New, not used before."),
                        "customer_code": {"type": "string", "description": "An existing customer's code."},
                        "valid_from": {"type": "string", "format": "date"},
                        "valid_to": {"type": "string", "format": "date", "description": "Not before valid_from."},
                        "terms": _text(4000),
                        "origin_so_no": _text(32, description="Limit to one sale of that customer (SO#)."),
                    },
                }
            ),
        )
    },
    "/suppliers": {
        "get": _op(
            "The supplier master by code (§5.5); `?active=1`: only the active suppliers a new claim may name",
            {"200": _json({"type": "array", "items": _ref("Supplier")})},
            parameters=[_query("active", {"type": "string", "enum": ["0", "1", "true"]}, "1: active suppliers only")],
        ),
        "post": _op(
            "Add a supplier (Sales or admin, §5.5); 422 naming the field for a used or malformed code",
            {"201": _json(_ref("Supplier"))},
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["code", "name"],
                    "properties": {
                        "code": _text(32, required=True, description="1–32 letters, digits, '-', '_' or '.'; new."),
                        **SUPPLIER_FIELDS,
                    },
                }
            ),
        ),
    },
    "/suppliers/{code}": {
        "patch": _op(
            "Change a supplier's name, contact, phone, e-mail or `active` (Sales or admin; the code never changes); an "
            "inactive supplier stays on its claims but new claims cannot name it",
            {"200": _json(_ref("Supplier"))},
            parameters=[_path_param("code")],
            requestBody=_body({"type": "object", "properties": SUPPLIER_FIELDS}),
        )
    },
    "/cases/{case_id}/supplier-claims": {
        "get": _op(
            "The case's supplier claims (§5.5), oldest first, with status, supplier and amounts",
            {"200": _json({"type": "array", "items": _ref("SupplierClaim")})},
            parameters=CASE,
        ),
        "post": _op(
            "§5.5: a part of the case cannot be recovered: the service manager raises a supplier claim (SC) with a "
            "snapshot of the CSI and the claim process (supplier_claim) starts for Sales; 422 naming the field "
            "(unknown part of the parts master, unknown or inactive supplier, quantity below 1, no reason, negative "
            "amount), nothing written; 409 on a closed or cancelled case",
            {"201": _json(_ref("SupplierClaim")), "409": _json(_ref("Error"), "The case is closed or cancelled")},
            parameters=CASE,
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["part_no", "quantity", "reason"],
                    "properties": {
                        "part_no": _text(64, required=True, description="A part number of the parts master."),
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 100000},
                        "reason": _text(2000, required=True, description="Why the part cannot be recovered."),
                        "supplier_code": {
                            "type": ["string", "null"],
                            "description": "An active supplier of the master (Sales may choose it later).",
                        },
                        "claim_amount": {"type": ["number", "null"], "minimum": 0, "description": "CNY."},
                    },
                }
            ),
        ),
    },
    "/archives/{serial_no}": {
        "get": _op(
            "The service archive of a serial number (404 with the §3.1 reason when its product keeps none)",
            {"200": _json(_ref("Archive"))},
            parameters=[_path_param("serial_no")],
        )
    },
    "/work-orders/{wo_no}/cancel": {
        "post": _op(
            "Cancel a WO (service manager or supervisor; reason required): a running round ends, the WO is cancelled "
            "and the case moves on when no WO is left open; a WO still waiting on overseas formalities (§2.5) is "
            "cancelled and its case sent work_order_cancelled; 409 when the WO ended or nothing waits for it",
            {"200": _json({"type": "object"}), "409": _json(_ref("Error"), "Ended, or nothing waits for it")},
            parameters=[_path_param("wo_no")],
            requestBody=_body(
                {"type": "object", "required": ["reason"], "properties": {"reason": _text(1000, required=True)}}
            ),
        )
    },
    "/work-orders/{wo_no}/reschedule": {
        "post": _op(
            "Move an open WO's planned date (service manager or supervisor; reason required; not in the past)",
            {"200": _json({"type": "object"}), "409": _json(_ref("Error"), "The WO ended")},
            parameters=[_path_param("wo_no")],
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["planned_date", "reason"],
                    "properties": {
                        "planned_date": {"type": "string", "format": "date"},
                        "reason": _text(1000, required=True),
                    },
                }
            ),
        )
    },
    "/work-orders/{wo_no}/assign": {
        "post": _op(
            "Assign a WO to an engineer or temporary staff (service_supervisor, §2.6)",
            {"200": _json(_ref("Record"))},
            parameters=[_path_param("wo_no")],
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["username"],
                    "properties": {
                        "username": {"type": "string", "pattern": NOT_BLANK, "description": "an active user"}
                    },
                }
            ),
        )
    },
    "/process-definitions": {
        "get": _op("Deployed versions", {"200": _json({"type": "array", "items": _ref("ProcessVersion")})}),
        "post": _op(
            "Deploy BPMN/DMN/form files (process_designer)",
            {
                "201": _json({"type": "object"}, "New versions"),
                "200": _json({"type": "object"}, "Nothing changed"),
                **TOO_LARGE,
            },
            requestBody={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "description": "Any field names; every file part is one BPMN, DMN or form file (at most "
                            "2 MB each). 422 with {file, line, message} per problem.",
                            "properties": {"note": {"type": "string"}},
                            "additionalProperties": {"type": "string", "format": "binary"},
                        }
                    }
                },
            },
        ),
    },
    "/process-definitions/startable": {
        "get": _op(
            "Processes the caller may start (the role of the lane holding the start event)",
            {
                "200": _json(
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["process_id", "name", "version", "start_form"],
                            "properties": {
                                "process_id": {"type": "string"},
                                "name": {"type": "string"},
                                "version": {"type": "integer"},
                                "start_form": {"type": ["object", "null"]},
                                "roles": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    }
                )
            },
        )
    },
    "/process-definitions/{process_id}/instances": {
        "post": _op(
            "Start the latest version of a process with data checked against its start form",
            {
                "201": _json(
                    {
                        "type": "object",
                        "required": ["instance", "next_tasks"],
                        "properties": {
                            "instance": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "process_id": {"type": "string"},
                                    "version": {"type": "integer"},
                                    "status": {"type": "string"},
                                    "business_key": {"type": ["string", "null"]},
                                },
                            },
                            "next_tasks": {"type": "array", "items": _ref("Task")},
                        },
                    },
                    "Started",
                )
            },
            parameters=[_path_param("process_id")],
            requestBody=_body({"type": "object", "properties": {"data": {"type": "object"}}}),
        )
    },
    "/process-definitions/{process_id}/retire": {
        "post": _op(
            "Retire a process (process_designer): nothing new starts; running instances finish",
            {"200": _json({"type": "object"})},
            parameters=[_path_param("process_id")],
            requestBody=_body(
                {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}}
            ),
        )
    },
    "/instances": {
        "get": _op(
            "Process instances, filtered, sorted and paged (monitoring roles)",
            {
                "200": {
                    "description": "One page of instances; the filtered total is in X-Total-Count",
                    "headers": {
                        "X-Total-Count": {"schema": {"type": "integer"}, "description": "instances matching"},
                        "X-Page": {"schema": {"type": "integer"}},
                        "X-Page-Size": {"schema": {"type": "integer"}},
                        "Link": {"schema": {"type": "string"}, "description": 'rel="next" / rel="prev" pages'},
                    },
                    "content": {"application/json": {"schema": {"type": "array", "items": _ref("InstanceRow")}}},
                }
            },
            parameters=[
                _query(name, schema, description)
                for name, schema, description in (
                    ("status", {"type": "string", "enum": ["", *INSTANCE_STATUSES]}, "instance status"),
                    ("process_id", ELEMENT_ID, "process id (e.g. after_sales_case)"),
                    ("version", VERSION_FILTER, "process version number"),
                    ("overdue", {"type": "string", "enum": ["", "true", "false", "1", "0"]}, "§4.6 plan past due"),
                    ("step", ELEMENT_ID, "an active element id (current step)"),
                    ("lane", ELEMENT_ID, "lane (role) of an open task"),
                    ("customer", _text(64), "customer code, or part of its code or name (case-reading roles)"),
                    ("product", _text(64), "product code"),
                    ("serial", _text(64), "factory serial number (case-reading roles)"),
                    ("created_from", DATE, "started on or after this date (business time)"),
                    ("created_to", DATE, "started on or before this date (business time)"),
                    ("sort", {"type": "string", "enum": ["", *SORT_KEYS]}, "sort key; a leading - sorts descending"),
                    ("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "1-based page"),
                    ("per_page", {"type": "integer", "minimum": 1, "maximum": 200}, "rows per page (default 50)"),
                    ("page_size", {"type": "integer", "minimum": 1, "maximum": 200}, "the same as per_page"),
                )
            ],
        )
    },
    "/instances/{instance_id}": {
        "get": _op(
            "One instance: element states per diagram, SLA badges, open tasks, sub-instances, timeline",
            {"200": _json({"type": "object"})},
            parameters=[_path_param("instance_id", "integer")],
        )
    },
    **{
        f"/instances/{{instance_id}}/{action}": {
            "post": _op(
                summary,
                {"200": _json(_ref("InstanceRow"))},
                parameters=[_path_param("instance_id", "integer")],
                requestBody=_body(_ref("Reason")),
            )
        }
        for action, summary in (
            ("suspend", "Suspend a running instance: no task completes, no timer fires (service roles)"),
            ("resume", "Resume a suspended instance (service roles)"),
            ("terminate", "Terminate an unfinished instance, its open tasks and sub-instances (service roles)"),
            ("retry", "Retry the failed step of an instance in error; 422 with the new error if it fails again"),
        )
    },
    "/tasks/{task_id}/reassign": {
        "post": _op(
            "Reassign an open task to another active user (service roles)",
            {"200": _json(_ref("Task"))},
            parameters=TASK,
            requestBody=_body(
                {
                    "type": "object",
                    "required": ["username", "reason"],
                    "properties": {"username": {"type": "string"}, "reason": _text(1000, required=True)},
                }
            ),
        )
    },
}

SCHEMAS["Reason"] = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": _text(1000, required=True)},
}
SCHEMAS["InstanceRow"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "process_id": {"type": "string"},
        "process_name": {"type": "string"},
        "version": {"type": "integer"},
        "status": {"type": "string", "enum": ["running", "completed", "error", "suspended", "terminated"]},
        "case_id": {"type": ["integer", "null"]},
        "csi_no": {"type": ["string", "null"]},
        "customer_code": {"type": ["string", "null"]},
        "customer_name": {"type": ["string", "null"]},
        "product_code": {"type": ["string", "null"]},
        "serial_no": {"type": ["string", "null"]},
        "parent_instance_id": {"type": ["integer", "null"]},
        "active_elements": {"type": "array", "items": {"type": "string"}},
        "steps": {"type": "array", "items": {"type": "object"}},
        "sla_due_at": {"type": ["string", "null"], "format": "date-time"},
        "sla_provisional": {"type": "boolean"},
        "overdue": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "error": {"type": ["object", "null"]},
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Aftersales BPM API",
        "version": "1.0.0",
        "description": "After-sales service regulation as running processes (CSI, review, §4.6 SLA, §5 chain).",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document."""
    return jsonify(DOCUMENT)
