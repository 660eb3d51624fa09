"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API (hand-written: it is the published contract)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from engine.records.csi import CaseKind
from web.api import bp
from web.api.records import RECORD_TYPES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, **ERRORS}, **extra}


def _path_param(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SCHEMAS: dict[str, Any] = {
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
            "customer_code": {"type": "string"},
            "origin_so_no": {"type": "string", "description": "SO#; required for quality complaints (§4.2)"},
            "serial_no": {"type": "string"},
            "description": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "channel": {"type": "string"},
            "overseas": {"type": "boolean"},
        },
        "additionalProperties": False,
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
        },
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
            "bpmn_id": {"type": "string"},
            "name": {"type": "string"},
            "lane": {"type": "string"},
            "assignee": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "form": {"type": "object", "properties": {"schema": {"type": "object"}, "ui_schema": {"type": "object"}}},
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
CASE = [_path_param("case_id", "integer")]

PATHS: dict[str, Any] = {
    "/auth/token": {
        "post": _op(
            "Issue a Bearer token",
            {"200": _json({"type": "object", "properties": {"token": {"type": "string"}}})},
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
    "/cases": {
        "post": _op(
            "Register a complaint or request (§4.1–§4.2)",
            {"201": _json(_ref("CaseCreated"))},
            requestBody=_body(_ref("NewCase")),
        )
    },
    "/cases/{case_id}": {
        "get": _op("A case with SLA clock, open tasks and timeline", {"200": _json(_ref("Case"))}, parameters=CASE)
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
                                "file": {"type": "string", "format": "binary"},
                                "kind": {"type": "string"},
                                "note": {"type": "string"},
                            },
                        }
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
                {"name": "scope", "in": "query", "schema": {"type": "string", "enum": ["mine", "available"]}},
                {"name": "case_id", "in": "query", "schema": {"type": "integer"}},
            ],
        )
    },
    "/tasks/{task_id}": {"get": _op("One task with its form", {"200": _json(_ref("Task"))}, parameters=TASK)},
    "/tasks/{task_id}/claim": {"post": _op("Claim a task", {"200": _json(_ref("Task"))}, parameters=TASK)},
    "/tasks/{task_id}/release": {"post": _op("Release a task", {"200": _json(_ref("Task"))}, parameters=TASK)},
    "/tasks/{task_id}/complete": {
        "post": _op(
            "Complete a task",
            {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"case": _ref("Case"), "next_tasks": {"type": "array", "items": _ref("Task")}},
                    }
                )
            },
            parameters=TASK,
            requestBody=_body({"type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}),
        )
    },
    "/records/{type}/{number}": {
        "get": _op(
            "A record by number",
            {"200": _json({"type": "object"})},
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
        "get": _op("Warranty policy versions of a product (§2.4)", {"200": _json({"type": "array"})},
                   parameters=[_path_param("code")]),
        "post": _op("Set a new warranty policy version (product_design, §2.4)", {"201": _json({"type": "object"})},
                    parameters=[_path_param("code")], requestBody=_body({"type": "object", "properties": {
                        "effective_from": {"type": "string", "format": "date"}, "warranty_months": {"type": "integer"},
                        "scope": {"type": "string"}, "archive_required": {"type": "boolean"}}})),
    },
    "/products/{code}/syllabus": {"post": _op("Set a new training syllabus version (product_design, §6.1)",
                                              {"201": _json({"type": "object"})}, parameters=[_path_param("code")],
                                              requestBody=_body({"type": "object", "properties": {
                                                  "modules": {"type": "array"}}}))},
    "/service-contracts": {"post": _op("Record a service contract (§3.2)", {"201": _json({"type": "object"})},
                                       requestBody=_body({"type": "object"}))},
    "/process-definitions": {
        "get": _op("Deployed versions", {"200": _json({"type": "array", "items": _ref("ProcessVersion")})}),
        "post": _op(
            "Deploy BPMN/DMN/form files (process_designer)",
            {"201": _json({"type": "object"}, "New versions"), "200": _json({"type": "object"}, "Nothing changed")},
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": {"type": "object"}}}},
        ),
    },
    "/instances": {
        "get": _op(
            "Process instances",
            {"200": _json({"type": "array"})},
            parameters=[
                {"name": n, "in": "query", "schema": {"type": "string"}} for n in ("status", "process_id", "overdue")
            ],
        )
    },
    "/instances/{instance_id}": {
        "get": _op(
            "One instance with element states",
            {"200": _json({"type": "object"})},
            parameters=[_path_param("instance_id", "integer")],
        )
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Aftersales BPM API",
        "version": "1.0.0",
        "description": "After-sales service regulation as running processes (CSI, review, §4.6 SLA).",
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
